"""Coupons and customer discounts in the ledger; which of them an invoice gets; their use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, in_subtree
from meterly.billing.models import Invoice
from meterly.billing.money import access
from meterly.billing.money.discounts import Terms, still_applies
from meterly.billing.money.models import Coupon, CustomerDiscount, DiscountApplication
from meterly.billing.money.rounding import money, plain
from meterly.billing.money.schemas import (
    CouponIn,
    CouponOut,
    CustomerDiscountIn,
    CustomerDiscountOut,
)
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.pricing.currency import UnknownCurrencyError, normalize_currency


def _check_currency(code: str | None) -> None:
    if code is not None:
        try:
            normalize_currency(code)
        except UnknownCurrencyError as exc:
            raise InvalidInput(str(exc)) from None


def _p(v: Decimal | None) -> Decimal | None:
    return plain(v) if v is not None else None


def _m(v: Decimal | None, currency: str | None) -> Decimal | None:
    return money(v, currency) if v is not None and currency else v


def _coupon_out(c: Coupon, seller: str) -> CouponOut:
    return CouponOut(
        code=c.code,
        name=c.name,
        percent_off=_p(c.percent_off),
        amount_off=_m(c.amount_off, c.currency),
        currency=c.currency,
        duration=c.duration,
        duration_periods=c.duration_periods,
        applies_to=list(c.products),
        max_redemptions=c.max_redemptions,
        redemptions=c.redemptions,
        active=c.active,
        seller=seller,
        created_at=c.created_at,
    )


def create_coupon(session: Session, principal: Principal, body: CouponIn) -> CouponOut:
    seller = access.seller_for_write(session, principal, body.seller)
    _check_currency(body.currency)
    if session.scalar(
        select(Coupon.id).where(Coupon.seller_id == seller.id, Coupon.code == body.code)
    ):
        raise Conflict(f"coupon '{body.code}' already exists")
    c = Coupon(
        seller_id=seller.id,
        code=body.code,
        name=body.name,
        percent_off=body.percent_off,
        amount_off=body.amount_off,
        currency=body.currency,
        duration=body.duration,
        duration_periods=body.duration_periods,
        products=body.applies_to,
        max_redemptions=body.max_redemptions,
        redemptions=0,
        active=True,
    )
    session.add(c)
    session.flush()
    audit.record(session, principal, "coupon.created", "coupon", c.code, seller.id)
    return _coupon_out(c, seller.external_id)


def list_coupons(session: Session, principal: Principal) -> list[CouponOut]:
    rows = session.execute(
        select(Coupon, Account.external_id)
        .join(Account, Account.id == Coupon.seller_id)
        .where(in_subtree(principal))
        .order_by(Coupon.id)
    )
    return [_coupon_out(c, ext) for c, ext in rows]


def _periods_used(session: Session, discount_id: int, except_invoice: int | None) -> set[datetime]:
    stmt = select(DiscountApplication.period_start).where(
        DiscountApplication.discount_id == discount_id
    )
    if except_invoice is not None:
        stmt = stmt.where(DiscountApplication.invoice_id != except_invoice)
    return set(session.scalars(stmt))


def _discount_out(session: Session, d: CustomerDiscount, customer: str) -> CustomerDiscountOut:
    coupon = session.get(Coupon, d.coupon_id) if d.coupon_id else None
    used = _periods_used(session, d.id, None)
    exhausted = d.duration != "forever" and len(used) >= (
        1 if d.duration == "once" else d.duration_periods or 0
    )
    return CustomerDiscountOut(
        id=d.id,
        customer=customer,
        coupon=coupon.code if coupon else None,
        name=d.name,
        percent_off=_p(d.percent_off),
        amount_off=_m(d.amount_off, d.currency),
        currency=d.currency,
        duration=d.duration,
        duration_periods=d.duration_periods,
        applies_to=list(d.products),
        periods_used=len(used),
        active=d.ended_at is None and not exhausted,
        starts_at=d.starts_at,
        ended_at=d.ended_at,
    )


def add_discount(
    session: Session,
    principal: Principal,
    external_id: str,
    body: CustomerDiscountIn,
    now: datetime,
) -> CustomerDiscountOut:
    customer, seller = access.customer_for_write(session, principal, external_id)
    starts_at = body.starts_at or now
    if starts_at.tzinfo is None:
        raise InvalidInput("starts_at needs a UTC offset")
    if body.coupon is not None:
        coupon = session.scalar(
            select(Coupon)
            .where(Coupon.seller_id == seller.id, Coupon.code == body.coupon)
            .with_for_update()
        )
        if coupon is None or not coupon.active:
            raise NotFound(f"coupon '{body.coupon}' not found")
        if coupon.max_redemptions is not None and coupon.redemptions >= coupon.max_redemptions:
            raise Conflict(f"coupon '{coupon.code}' has been fully redeemed")
        coupon.redemptions += 1
        d = CustomerDiscount(
            coupon_id=coupon.id,
            name=coupon.name or f"Coupon {coupon.code}",
            percent_off=coupon.percent_off,
            amount_off=coupon.amount_off,
            currency=coupon.currency,
            duration=coupon.duration,
            duration_periods=coupon.duration_periods,
            products=list(coupon.products),
        )
    else:
        inline = body.discount
        assert inline is not None  # the schema requires one of the two
        _check_currency(inline.currency)
        d = CustomerDiscount(
            name=inline.name,
            percent_off=inline.percent_off,
            amount_off=inline.amount_off,
            currency=inline.currency,
            duration=inline.duration,
            duration_periods=inline.duration_periods,
            products=inline.applies_to,
        )
    d.seller_id, d.customer_id, d.starts_at, d.key_id = (
        seller.id,
        customer.id,
        starts_at,
        (principal.key_id),
    )
    session.add(d)
    session.flush()
    audit.record(
        session,
        principal,
        "discount.added",
        "customer_discount",
        str(d.id),
        customer.id,
        coupon=body.coupon,
    )
    return _discount_out(session, d, customer.external_id)


def list_discounts(
    session: Session, principal: Principal, external_id: str
) -> list[CustomerDiscountOut]:
    customer = access.customer_for_read(session, principal, external_id)
    rows = session.scalars(
        select(CustomerDiscount)
        .where(CustomerDiscount.customer_id == customer.id)
        .order_by(CustomerDiscount.id)
    )
    return [_discount_out(session, d, customer.external_id) for d in rows]


def end_discount(
    session: Session, principal: Principal, external_id: str, discount_id: int, now: datetime
) -> CustomerDiscountOut:
    customer, _ = access.customer_for_write(session, principal, external_id)
    d = session.get(CustomerDiscount, discount_id)
    if d is None or d.customer_id != customer.id:
        raise NotFound(f"discount {discount_id} not found for '{external_id}'")
    d.ended_at = d.ended_at or now
    audit.record(session, principal, "discount.ended", "customer_discount", str(d.id), customer.id)
    return _discount_out(session, d, customer.external_id)


def for_invoice(session: Session, invoice: Invoice) -> list[Terms]:
    """The customer's discounts that cover this invoice, oldest first: in force during its
    period, in its currency (a fixed amount), and with periods left."""
    rows = session.scalars(
        select(CustomerDiscount)
        .where(
            CustomerDiscount.customer_id == invoice.customer_id,
            CustomerDiscount.seller_id == invoice.seller_id,
            CustomerDiscount.starts_at < invoice.period_end,
        )
        .order_by(CustomerDiscount.starts_at, CustomerDiscount.id)
    )
    return _covering(
        rows,
        invoice.currency,
        invoice.period_start,
        lambda d: _periods_used(session, d.id, invoice.id),
    )


def _covering(
    rows: Iterable[CustomerDiscount],
    currency: str,
    period_start: datetime,
    used: Callable[[CustomerDiscount], set[datetime]],
) -> list[Terms]:
    out: list[Terms] = []
    for d in rows:
        if d.ended_at is not None and d.ended_at <= period_start:
            continue
        if d.amount_off is not None and d.currency != currency:
            continue
        if not still_applies(d.duration, d.duration_periods, used(d), period_start):
            continue
        out.append(Terms(d.id, d.name, d.percent_off, d.amount_off, frozenset(d.products)))
    return out


class Discounts:
    """The discounts of many customers, read in two queries (a bill run's group of new drafts:
    none of them has spent a discount period yet, so no invoice is left out of the counts)."""

    def __init__(self, session: Session, customer_ids: Iterable[int]) -> None:
        ids = sorted(set(customer_ids))
        self._rows: dict[tuple[int, int], list[CustomerDiscount]] = defaultdict(list)
        self._used: dict[int, set[datetime]] = defaultdict(set)
        if not ids:
            return
        rows = session.scalars(
            select(CustomerDiscount)
            .where(CustomerDiscount.customer_id.in_(ids))
            .order_by(CustomerDiscount.starts_at, CustomerDiscount.id)
        )
        for d in rows:
            self._rows[(d.customer_id, d.seller_id)].append(d)
        found = [d.id for ds in self._rows.values() for d in ds]
        if found:
            for discount_id, start in session.execute(
                select(DiscountApplication.discount_id, DiscountApplication.period_start).where(
                    DiscountApplication.discount_id.in_(found)
                )
            ):
                self._used[discount_id].add(start)

    def for_invoice(
        self, customer_id: int, seller_id: int, currency: str, period: tuple[datetime, datetime]
    ) -> list[Terms]:
        """`for_invoice` of an invoice not stored yet (so no period of its own is counted)."""
        rows = [d for d in self._rows.get((customer_id, seller_id), []) if d.starts_at < period[1]]
        return _covering(rows, currency, period[0], lambda d: set(self._used.get(d.id, ())))


def record_use(session: Session, invoice: Invoice, used: list[tuple[int, Decimal]]) -> None:
    """At finalization: each discount that took something spends this invoice's period."""
    for discount_id, amount in used:
        session.add(
            DiscountApplication(
                discount_id=discount_id,
                invoice_id=invoice.id,
                period_start=invoice.period_start,
                amount=amount,
            )
        )
