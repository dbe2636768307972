"""Prepaid credits in the ledger: grants, top-ups, the movement log, consumption at
finalization, expiry, and the `credits.low` alert."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal
from meterly.billing.money import access
from meterly.billing.money.credits import Grant
from meterly.billing.money.models import CreditGrant, CreditMovement, CreditSettings
from meterly.billing.money.rounding import money
from meterly.billing.money.schemas import (
    CreditGrantIn,
    CreditGrantOut,
    CreditMovementOut,
    CreditsOut,
)
from meterly.errors import InvalidInput, NotFound
from meterly.pricing.currency import UnknownCurrencyError, normalize_currency, round_money
from meterly.pricing.precision import ZERO
from meterly.webhooks.service import emit


def _unexpired(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        CreditGrant.expired_at.is_(None),
        or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now),
    )


def usable_grants(
    session: Session,
    customer_id: int,
    seller_id: int,
    currency: str,
    now: datetime,
    *,
    lock: bool = False,
) -> list[CreditGrant]:
    """Grants that may pay an invoice now: same seller and currency, unexpired, not empty.
    Locked when consuming, so two invoices finalizing at once never spend the same credit."""
    stmt = select(CreditGrant).where(
        CreditGrant.customer_id == customer_id,
        CreditGrant.seller_id == seller_id,
        CreditGrant.currency == currency,
        *_unexpired(now),
    )
    if lock:
        stmt = stmt.with_for_update()
    return [g for g in session.scalars(stmt.order_by(CreditGrant.id)) if g.remaining > 0]


class Grants:
    """`usable_grants` (unlocked) for many customers in one query: a bill run's group of drafts,
    which project credits without consuming them."""

    def __init__(self, session: Session, customer_ids: Iterable[int], now: datetime) -> None:
        self._by: dict[tuple[int, int, str], list[CreditGrant]] = defaultdict(list)
        ids = sorted(set(customer_ids))
        if not ids:
            return
        stmt = select(CreditGrant).where(CreditGrant.customer_id.in_(ids), *_unexpired(now))
        for g in session.scalars(stmt.order_by(CreditGrant.id)):
            if g.remaining > 0:
                self._by[(g.customer_id, g.seller_id, g.currency)].append(g)

    def usable(self, customer_id: int, seller_id: int, currency: str) -> list[CreditGrant]:
        return list(self._by.get((customer_id, seller_id, currency), ()))


def as_pure(g: CreditGrant) -> Grant:
    return Grant(g.id, g.remaining, g.priority, g.expires_at, g.created_at, frozenset(g.products))


def balance(session: Session, customer_id: int, currency: str, now: datetime) -> Decimal:
    stmt = select(CreditGrant).where(
        CreditGrant.customer_id == customer_id,
        CreditGrant.currency == currency,
        CreditGrant.expired_at.is_(None),
        or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now),
    )
    return sum((g.remaining for g in session.scalars(stmt)), ZERO)


def _grant_out(g: CreditGrant, now: datetime) -> CreditGrantOut:
    expired = g.expired_at is not None or (g.expires_at is not None and g.expires_at <= now)
    return CreditGrantOut(
        id=g.id,
        currency=g.currency,
        amount=money(g.amount, g.currency),
        remaining=money(g.remaining, g.currency),
        priority=g.priority,
        expires_at=g.expires_at,
        products=list(g.products),
        reason=g.reason,
        source=g.source,
        expired=expired,
        created_at=g.created_at,
    )


def add_grant(
    session: Session,
    customer: Account,
    seller_id: int,
    currency: str,
    amount: Decimal,
    now: datetime,
    *,
    kind: str = "grant",
    priority: int = 50,
    expires_at: datetime | None = None,
    products: list[str] | None = None,
    reason: str | None = None,
    key_id: int | None = None,
    credit_note_id: int | None = None,
    low_threshold: Decimal | None = None,
) -> CreditGrant:
    g = CreditGrant(
        seller_id=seller_id,
        customer_id=customer.id,
        currency=currency,
        amount=amount,
        remaining=amount,
        priority=priority,
        expires_at=expires_at,
        products=products or [],
        reason=reason,
        source="credit_note" if kind == "credit_note" else "grant",
        low_threshold=low_threshold,
        key_id=key_id,
        created_at=now,
    )
    session.add(g)
    session.flush()
    session.add(
        CreditMovement(
            grant_id=g.id,
            customer_id=customer.id,
            kind=kind,
            amount=amount,
            credit_note_id=credit_note_id,
            note=reason,
            at=now,
        )
    )
    return g


def grant(
    session: Session, principal: Principal, external_id: str, body: CreditGrantIn, now: datetime
) -> CreditGrantOut:
    customer, seller = access.customer_for_write(session, principal, external_id)
    try:
        currency = normalize_currency(body.currency or customer.currency)
        amount = round_money(body.amount, currency)
    except UnknownCurrencyError as exc:
        raise InvalidInput(str(exc)) from None
    if amount != body.amount:
        raise InvalidInput(f"amount {body.amount} is finer than {currency}'s minor unit")
    if body.expires_at is not None and (body.expires_at.tzinfo is None or body.expires_at <= now):
        raise InvalidInput("expires_at must be a future time with a UTC offset")
    if body.customer_low_threshold is not None:
        settings = session.get(CreditSettings, (customer.id, currency))
        if settings is None:
            session.add(
                CreditSettings(
                    customer_id=customer.id,
                    currency=currency,
                    low_threshold=body.customer_low_threshold,
                )
            )
        else:
            settings.low_threshold = body.customer_low_threshold
    if body.top_up is not None:
        g = session.scalar(
            select(CreditGrant)
            .where(CreditGrant.id == body.top_up, CreditGrant.customer_id == customer.id)
            .with_for_update()
        )
        if g is None:
            raise NotFound(f"credit grant {body.top_up} not found for '{external_id}'")
        if g.currency != currency or g.expired_at is not None:
            raise InvalidInput("a top-up must match the grant's currency and the grant be live")
        g.amount += amount
        g.remaining += amount
        if body.expires_at is not None:
            g.expires_at = body.expires_at
        session.add(
            CreditMovement(
                grant_id=g.id,
                customer_id=customer.id,
                kind="top_up",
                amount=amount,
                note=body.reason,
                at=now,
            )
        )
    else:
        g = add_grant(
            session,
            customer,
            seller.id,
            currency,
            amount,
            now,
            priority=body.priority,
            expires_at=body.expires_at,
            products=body.products,
            reason=body.reason,
            key_id=principal.key_id,
            low_threshold=body.low_threshold,
        )
    audit.record(
        session,
        principal,
        "credits.granted",
        "credit_grant",
        str(g.id),
        customer.id,
        amount=str(amount),
        currency=currency,
        top_up=body.top_up,
    )
    return _grant_out(g, now)


def show(session: Session, principal: Principal, external_id: str, now: datetime) -> CreditsOut:
    customer = access.customer_for_read(session, principal, external_id)
    grants = list(
        session.scalars(
            select(CreditGrant)
            .where(CreditGrant.customer_id == customer.id)
            .order_by(CreditGrant.id)
        )
    )
    balances: dict[str, Decimal] = {}
    for g in grants:
        live = _grant_out(g, now)
        balances.setdefault(g.currency, ZERO)
        if not live.expired:
            balances[g.currency] += g.remaining
    movements = session.scalars(
        select(CreditMovement)
        .where(CreditMovement.customer_id == customer.id)
        .order_by(CreditMovement.at, CreditMovement.id)
    )
    thresholds = session.scalars(
        select(CreditSettings).where(CreditSettings.customer_id == customer.id)
    )
    currency_of = {g.id: g.currency for g in grants}
    return CreditsOut(
        customer=customer.external_id,
        balances={c: money(v, c) for c, v in balances.items()},
        low_thresholds={t.currency: money(t.low_threshold, t.currency) for t in thresholds},
        grants=[_grant_out(g, now) for g in grants],
        movements=[
            CreditMovementOut(
                id=m.id,
                grant_id=m.grant_id,
                kind=m.kind,
                amount=money(m.amount, currency_of[m.grant_id]),
                invoice_id=m.invoice_id,
                credit_note_id=m.credit_note_id,
                note=m.note,
                at=m.at,
            )
            for m in movements
        ],
    )


def spend(
    session: Session,
    seller_id: int,
    customer_id: int,
    currency: str,
    kind: str,
    debits: list[tuple[CreditGrant, Decimal, int | None]],
    now: datetime,
) -> None:
    """Record debits (grant, amount, invoice id) of `kind` (applied | expired) and alert on any
    threshold crossed. The alert fires on the crossing only, so it is sent once per fall."""
    if not debits:
        return
    for g, amount, invoice_id in debits:
        grant_before = g.remaining
        g.remaining -= amount
        session.add(
            CreditMovement(
                grant_id=g.id,
                customer_id=customer_id,
                kind=kind,
                amount=-amount,
                invoice_id=invoice_id,
                at=now,
            )
        )
        t = g.low_threshold
        if t is not None and grant_before >= t > g.remaining:
            _low(session, seller_id, customer_id, currency, g.remaining, t, g.id)
    session.flush()
    after = balance(session, customer_id, currency, now)
    # every debited grant counted in the balance just before (an expiring one until `now`)
    before = after + sum((a for _, a, _ in debits), ZERO)
    settings = session.get(CreditSettings, (customer_id, currency))
    if settings is not None and before >= settings.low_threshold > after:
        _low(session, seller_id, customer_id, currency, after, settings.low_threshold, None)


def _low(
    session: Session,
    seller_id: int,
    customer_id: int,
    currency: str,
    balance_now: Decimal,
    threshold: Decimal,
    grant_id: int | None,
) -> None:
    emit(
        session,
        seller_id,
        "credits.low",
        {
            "customer": access.external_id(session, customer_id),
            "currency": currency,
            "balance": str(money(balance_now, currency)),
            "threshold": str(money(threshold, currency)),
            "grant_id": grant_id,
        },
    )


def expire_due(session: Session, now: datetime, limit: int = 500) -> int:
    """Expire grants whose time has passed: an `expired` movement for what was left."""
    due = list(
        session.scalars(
            select(CreditGrant)
            .where(CreditGrant.expired_at.is_(None), CreditGrant.expires_at <= now)
            .order_by(CreditGrant.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for g in due:
        g.expired_at = now
        if g.remaining > 0:
            spend(
                session,
                g.seller_id,
                g.customer_id,
                g.currency,
                "expired",
                [(g, g.remaining, None)],
                now,
            )
    return len(due)


def restore_for_void(session: Session, invoice_id: int, now: datetime) -> Decimal:
    """Give back the credits a voided invoice consumed (a `reversal` per application), so a
    void never costs the customer prepaid money. For the core's void path to call."""
    applied = session.execute(
        select(CreditMovement.grant_id, CreditMovement.customer_id, CreditMovement.amount).where(
            CreditMovement.invoice_id == invoice_id, CreditMovement.kind == "applied"
        )
    ).all()
    total = ZERO
    for grant_id, customer_id, amount in applied:
        g = session.get(CreditGrant, grant_id, with_for_update=True)
        assert g is not None
        g.remaining -= amount  # the applied movement was negative
        total -= amount
        session.add(
            CreditMovement(
                grant_id=grant_id,
                customer_id=customer_id,
                kind="reversal",
                amount=-amount,
                invoice_id=invoice_id,
                note="invoice voided",
                at=now,
            )
        )
    return total
