"""Tax rates, customer assignments and exemptions in the ledger; the rates an invoice gets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, in_subtree
from meterly.billing.money import access
from meterly.billing.money.models import CustomerTax, CustomerTaxRate, TaxRate
from meterly.billing.money.rounding import money, plain
from meterly.billing.money.schemas import CustomerTaxIn, CustomerTaxOut, TaxRateIn, TaxRateOut
from meterly.billing.money.tax import Rate
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.pricing.currency import UnknownCurrencyError, normalize_currency


def _out(r: TaxRate, seller: str) -> TaxRateOut:
    return TaxRateOut(
        id=r.id,
        key=r.key,
        name=r.name,
        jurisdiction=r.jurisdiction,
        kind=r.kind,
        rate=plain(r.rate) if r.rate is not None else None,
        amount_per_seat=(
            money(r.amount_per_seat, r.currency)
            if r.amount_per_seat is not None and r.currency
            else r.amount_per_seat
        ),
        currency=r.currency,
        seat_product=r.seat_product,
        applies_to=list(r.products),
        active=r.active,
        seller=seller,
    )


def create_rate(session: Session, principal: Principal, body: TaxRateIn) -> TaxRateOut:
    seller = access.seller_for_write(session, principal, body.seller)
    if body.currency is not None:
        try:
            normalize_currency(body.currency)
        except UnknownCurrencyError as exc:
            raise InvalidInput(str(exc)) from None
    if session.scalar(
        select(TaxRate.id).where(TaxRate.seller_id == seller.id, TaxRate.key == body.key)
    ):
        raise Conflict(f"tax rate '{body.key}' already exists")
    r = TaxRate(
        seller_id=seller.id,
        key=body.key,
        name=body.name,
        jurisdiction=body.jurisdiction,
        kind=body.kind,
        rate=body.rate,
        amount_per_seat=body.amount_per_seat,
        currency=body.currency,
        seat_product=body.seat_product,
        products=body.applies_to,
        active=True,
    )
    session.add(r)
    session.flush()
    audit.record(session, principal, "tax_rate.created", "tax_rate", r.key, seller.id)
    return _out(r, seller.external_id)


def list_rates(session: Session, principal: Principal) -> list[TaxRateOut]:
    rows = session.execute(
        select(TaxRate, Account.external_id)
        .join(Account, Account.id == TaxRate.seller_id)
        .where(in_subtree(principal))
        .order_by(TaxRate.id)
    )
    return [_out(r, ext) for r, ext in rows]


def applicable(session: Session, customer_id: int, seller_id: int) -> list[TaxRate]:
    """The seller's active rates for the customer: those of its jurisdiction plus those
    assigned to it, less what it is exempt from. Ordered taxes first, then surcharges."""
    settings = session.get(CustomerTax, customer_id)
    assigned = select(CustomerTaxRate.tax_rate_id).where(CustomerTaxRate.customer_id == customer_id)
    match: ColumnElement[bool] = TaxRate.id.in_(assigned)
    if settings is not None and settings.jurisdiction:
        match = or_(match, TaxRate.jurisdiction == settings.jurisdiction)
    rates = session.scalars(
        select(TaxRate)
        .where(TaxRate.seller_id == seller_id, TaxRate.active.is_(True), match)
        .order_by(TaxRate.id)
    )
    return _not_exempt(rates, settings)


def _not_exempt(rates: Iterable[TaxRate], settings: CustomerTax | None) -> list[TaxRate]:
    out = []
    for r in rates:
        if settings is not None and settings.exempt and r.kind == "tax":
            continue
        if settings is not None and settings.exempt_surcharges and r.kind != "tax":
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.kind != "tax", r.id))


def _as_rates(rates: Iterable[TaxRate], currency: str) -> list[Rate]:
    return [
        Rate(r.id, r.name, r.kind, r.rate, r.amount_per_seat, r.seat_product, frozenset(r.products))
        for r in rates
        # a per-seat amount is money in one currency; it cannot be charged on another's invoice
        if r.kind != "surcharge_per_seat" or r.currency == currency
    ]


def for_invoice(session: Session, customer_id: int, seller_id: int, currency: str) -> list[Rate]:
    return _as_rates(applicable(session, customer_id, seller_id), currency)


class Rates:
    """`for_invoice` for many customers, read in three queries (a bill run's group of drafts)."""

    def __init__(self, session: Session, customer_ids: Iterable[int]) -> None:
        ids = sorted(set(customer_ids))
        self._settings: dict[int, CustomerTax] = {}
        self._assigned: dict[int, set[int]] = defaultdict(set)
        self._rates: list[TaxRate] = []
        if not ids:
            return
        self._settings = {
            t.customer_id: t
            for t in session.scalars(select(CustomerTax).where(CustomerTax.customer_id.in_(ids)))
        }
        for customer_id, rate_id in session.execute(
            select(CustomerTaxRate.customer_id, CustomerTaxRate.tax_rate_id).where(
                CustomerTaxRate.customer_id.in_(ids)
            )
        ):
            self._assigned[customer_id].add(rate_id)
        places = {t.jurisdiction for t in self._settings.values() if t.jurisdiction}
        wanted = {r for rs in self._assigned.values() for r in rs}
        if places or wanted:
            self._rates = list(
                session.scalars(
                    select(TaxRate)
                    .where(TaxRate.active.is_(True))
                    .where(or_(TaxRate.id.in_(wanted), TaxRate.jurisdiction.in_(places)))
                    .order_by(TaxRate.id)
                )
            )

    def for_invoice(self, customer_id: int, seller_id: int, currency: str) -> list[Rate]:
        settings = self._settings.get(customer_id)
        place = settings.jurisdiction if settings is not None else None
        assigned = self._assigned.get(customer_id, set())
        mine = [
            r
            for r in self._rates
            if r.seller_id == seller_id
            and (r.id in assigned or bool(place and r.jurisdiction == place))
        ]
        return _as_rates(_not_exempt(mine, settings), currency)


def _customer_out(session: Session, customer: Account, seller_id: int) -> CustomerTaxOut:
    settings = session.get(CustomerTax, customer.id)
    keys = session.scalars(
        select(TaxRate.key)
        .join(CustomerTaxRate, CustomerTaxRate.tax_rate_id == TaxRate.id)
        .where(CustomerTaxRate.customer_id == customer.id)
        .order_by(TaxRate.key)
    )
    seller = access.external_id(session, seller_id)
    return CustomerTaxOut(
        customer=customer.external_id,
        jurisdiction=settings.jurisdiction if settings else None,
        rates=list(keys),
        applicable=[_out(r, seller) for r in applicable(session, customer.id, seller_id)],
        exempt=settings.exempt if settings else False,
        exempt_surcharges=settings.exempt_surcharges if settings else False,
        exempt_reason=settings.exempt_reason if settings else None,
    )


def set_customer_tax(
    session: Session, principal: Principal, external_id: str, body: CustomerTaxIn
) -> CustomerTaxOut:
    """Replaces the customer's tax settings (jurisdiction, assigned rates, exemption)."""
    customer, seller = access.customer_for_write(session, principal, external_id)
    rates = []
    for key in body.rates:
        r = session.scalar(
            select(TaxRate).where(TaxRate.seller_id == seller.id, TaxRate.key == key)
        )
        if r is None:
            raise NotFound(f"tax rate '{key}' not found for seller '{seller.external_id}'")
        rates.append(r)
    settings = session.get(CustomerTax, customer.id)
    if settings is None:
        settings = CustomerTax(customer_id=customer.id)
        session.add(settings)
    settings.jurisdiction = body.jurisdiction
    settings.exempt = body.exempt
    settings.exempt_surcharges = body.exempt_surcharges
    settings.exempt_reason = body.exempt_reason
    session.execute(delete(CustomerTaxRate).where(CustomerTaxRate.customer_id == customer.id))
    for r in rates:
        session.add(CustomerTaxRate(customer_id=customer.id, tax_rate_id=r.id))
    session.flush()
    audit.record(
        session,
        principal,
        "customer.tax_set",
        "account",
        customer.external_id,
        customer.id,
        **body.model_dump(mode="json"),
    )
    return _customer_out(session, customer, seller.id)


def get_customer_tax(session: Session, principal: Principal, external_id: str) -> CustomerTaxOut:
    customer = access.customer_for_read(session, principal, external_id)
    if customer.parent_id is None:
        raise NotFound(f"'{external_id}' has no seller and pays no tax here")
    return _customer_out(session, customer, customer.parent_id)
