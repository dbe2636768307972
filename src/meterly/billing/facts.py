"""The facts `adjustments.plan` needs, read once for a bill run's group of new drafts.

`adjustments.apply` reads them per invoice (about eight queries); a group of a hundred drafts
reads the same rows in six, inside the group's own transaction so they are as current as the
per-invoice reads were. Drafts only project discounts and credits (nothing is consumed before
finalization), so writing one draft never changes what the next one of the group sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.billing.adjustments import Facts, mode_of
from meterly.billing.models import SellerProfile
from meterly.billing.money import credits_service, discounts_service, tax_service
from meterly.billing.money.rounding import RoundingMode


class GroupFacts:
    def __init__(self, session: Session, parties: Iterable[tuple[int, int]], now: datetime) -> None:
        """`parties`: the (customer id, seller id) of each invoice of the group."""
        pairs = set(parties)
        customers = {c for c, _ in pairs}
        sellers = sorted({s for _, s in pairs})
        self._modes: dict[int, RoundingMode] = {}
        if sellers:
            self._modes = {
                account_id: mode_of(rounding)
                for account_id, rounding in session.execute(
                    select(SellerProfile.account_id, SellerProfile.rounding_mode).where(
                        SellerProfile.account_id.in_(sellers)
                    )
                )
            }
        self._discounts = discounts_service.Discounts(session, customers)
        self._rates = tax_service.Rates(session, customers)
        self._grants = credits_service.Grants(session, customers, now)

    def for_invoice(
        self, customer_id: int, seller_id: int, currency: str, period: tuple[datetime, datetime]
    ) -> Facts:
        grants = self._grants.usable(customer_id, seller_id, currency)
        return Facts(
            self._modes.get(seller_id, mode_of(None)),
            self._discounts.for_invoice(customer_id, seller_id, currency, period),
            self._rates.for_invoice(customer_id, seller_id, currency),
            [credits_service.as_pure(g) for g in grants],
            {g.id: g.reason for g in grants},
        )
