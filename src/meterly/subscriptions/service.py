"""Subscriptions use cases: create, read, list; shared loaders for changes, add-ons and periods."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.catalog.models import Product
from meterly.catalog.sellers import external_ids
from meterly.catalog.service import find_price, nearest
from meterly.catalog.validation import validate_price
from meterly.errors import InvalidInput, NotFound
from meterly.plans.models import Plan, PlanVersion
from meterly.plans.service import find_plan, version_of
from meterly.pricing.models import TRANSACTION_MODELS, dump_price, parse_price
from meterly.pricing.rating import compile_price
from meterly.storage.ledger import utcnow
from meterly.subscriptions import cycle
from meterly.subscriptions.models import OneOffPurchase, Subscription, SubscriptionChange
from meterly.subscriptions.schemas import (
    AddOnIn,
    AddOnOut,
    ChangeOut,
    SubscriptionCreate,
    SubscriptionOut,
)
from meterly.subscriptions.timeline import Change, add_on_json, state_at

Status = Literal["scheduled", "trialing", "active", "canceled"]


def bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def decimal_in(value: str, field: str, positive: bool = False) -> Decimal:
    try:
        out = Decimal(value)
    except InvalidOperation:
        raise bad(field, "not a decimal number") from None
    if not out.is_finite() or out < 0 or (positive and out == 0):
        raise bad(field, "must be a positive number" if positive else "must not be negative")
    return out


def aware(value: datetime | None, field: str) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        raise bad(field, "give a time zone offset, e.g. 2026-11-01T00:00:00Z")
    return value.astimezone(UTC)


def add_on_data(
    session: Session, principal: Principal, sellers: list[int], a: AddOnIn, pv: PlanVersion, at: str
) -> dict[str, Any]:
    try:
        product = nearest(session, Product, sellers, a.product, "product")
    except NotFound as exc:
        raise bad(f"{at}.product", exc.message) from None
    if product.kind == "usage" or product.kind == "one_off":
        raise bad(f"{at}.product", f"a {product.kind} product is not a recurring add-on")
    if (a.price is None) == (a.price_key is None):
        raise bad(f"{at}.price", "give either price (a definition) or price_key")
    if a.price_key is not None:
        try:
            data = dict(find_price(session, principal, a.price_key).definition)
        except NotFound as exc:
            raise bad(f"{at}.price_key", exc.message) from None
    else:
        data = {"product": product.key, **(a.price or {})}
    price = validate_price(data, prefix=f"{at}.price")
    if price.currency != pv.currency or price.interval != pv.interval:
        raise bad(f"{at}.price", f"must be in {pv.currency} per {pv.interval}, like the plan")
    if price.model in TRANSACTION_MODELS:
        raise bad(f"{at}.price.model", "an add-on cannot use a per-transaction price")
    quantity = decimal_in(a.quantity, f"{at}.quantity", positive=True)
    return {
        "key": a.key or product.key,
        "product": product.key,
        "price": dump_price(price),
        "quantity": str(quantity),
    }


def record_change(
    session: Session,
    principal: Principal,
    sub: Subscription,
    kind: str,
    at: datetime,
    data: dict[str, Any],
) -> SubscriptionChange:
    change = SubscriptionChange(
        subscription_id=sub.id, kind=kind, effective_at=at, data=data, key_id=principal.key_id
    )
    session.add(change)
    session.flush()
    audit.record(
        session,
        principal,
        f"subscription.{kind}",
        "subscription",
        str(sub.id),
        sub.customer_id,
        effective_at=at.isoformat(),
    )
    return change


def create_subscription(
    session: Session, principal: Principal, body: SubscriptionCreate
) -> SubscriptionOut:
    customer = account_in_scope(session, principal, body.customer)
    plan = find_plan(session, principal, body.plan)
    if plan.seller_id not in customer.ancestor_ids or plan.seller_id == customer.id:
        raise bad(
            "plan", f"plan '{plan.key}' is not sold to '{customer.external_id}' by its sellers"
        )
    pv = version_of(session, plan, body.version)
    start = aware(body.start, "start")
    end = aware(body.end, "end") if body.end is not None else None
    if end is not None and end <= start:
        raise bad("end", "must be after start")
    quantity = decimal_in(body.quantity, "quantity")
    anchor = body.billing_anchor or start.astimezone(ZoneInfo(customer.timezone)).day
    sellers = [plan.seller_id, *reversed(customer.ancestor_ids)]
    add_ons = [
        add_on_data(session, principal, sellers, a, pv, f"add_ons.{i}")
        for i, a in enumerate(body.add_ons)
    ]
    if len({a["key"] for a in add_ons}) != len(add_ons):
        raise bad("add_ons", "two add-ons share a key; give each its own key")
    sub = Subscription(
        seller_id=plan.seller_id, customer_id=customer.id, plan_id=plan.id, plan_version_id=pv.id,
        start=start, end=end, trial_days=body.trial_days, quantity=quantity, billing_anchor=anchor,
    )  # fmt: skip
    session.add(sub)
    session.flush()
    initial = {
        "plan_version_id": pv.id,
        "plan": plan.key,
        "version": pv.version,
        "quantity": str(quantity),
        "add_ons": add_ons,
    }
    record_change(session, principal, sub, "created", start, initial)
    if end is not None:
        record_change(session, principal, sub, "cancel", end, {"reason": "end"})
    for charge in pv.charges:  # a plan's one-off charges (set-up fees) bill on the first invoice
        if charge["kind"] == "one_off":
            rating = compile_price(parse_price(charge["price"])).rate(
                quantity=None if charge["price"]["model"] == "flat" else quantity
            )
            session.add(OneOffPurchase(
                seller_id=plan.seller_id, customer_id=customer.id, subscription_id=sub.id,
                product=charge["product"], description=charge["description"], quantity=Decimal(1),
                currency=pv.currency, price=charge["price"], precise_amount=rating.precise_amount,
                amount=rating.amount, purchased_at=start,
            ))  # fmt: skip
    session.flush()
    return subscription_out(session, sub)


def load_changes(session: Session, sub_ids: list[int]) -> dict[int, list[SubscriptionChange]]:
    out: dict[int, list[SubscriptionChange]] = defaultdict(list)
    if sub_ids:
        rows = session.scalars(
            select(SubscriptionChange)
            .where(SubscriptionChange.subscription_id.in_(sub_ids))
            .order_by(SubscriptionChange.id)
        )
        for row in rows:
            out[row.subscription_id].append(row)
    return out


def timeline(rows: list[SubscriptionChange]) -> list[Change]:
    return [Change(r.kind, r.effective_at, r.data, r.id) for r in rows]


def trial_end(sub: Subscription) -> datetime | None:
    return sub.start + timedelta(days=sub.trial_days) if sub.trial_days else None


def period_at(
    sub: Subscription, pv: PlanVersion, tz: str, at: datetime
) -> tuple[datetime, datetime]:
    return cycle.current_period(sub.start, tz, sub.billing_anchor, pv.interval, at)


def find_subscription(session: Session, principal: Principal, sub_id: int) -> Subscription:
    sub = session.scalar(
        select(Subscription)
        .join(Account, Account.id == Subscription.customer_id)
        .where(Subscription.id == sub_id, in_subtree(principal))
    )
    if sub is None:
        raise NotFound(f"subscription {sub_id} not found")
    return sub


def _status(sub: Subscription, now: datetime) -> Status:
    t_end = trial_end(sub)
    if now < sub.start:
        return "scheduled"
    if sub.end is not None and now >= sub.end:
        return "canceled"
    return "trialing" if t_end is not None and now < t_end else "active"


def subscription_out(
    session: Session, sub: Subscription, now: datetime | None = None
) -> SubscriptionOut:
    now = now or utcnow()
    rows = load_changes(session, [sub.id])[sub.id]
    changes = timeline(rows)
    status = _status(sub, now)
    # the state in force now; once ended, the last one it had (just before the end)
    at = sub.start if status == "scheduled" else now
    if status == "canceled" and sub.end is not None:
        at = max(sub.end - timedelta(microseconds=1), sub.start)
    state = state_at(changes, at)
    assert state is not None
    pv = session.get(PlanVersion, state.plan_version_id)
    customer = session.get(Account, sub.customer_id)
    assert pv is not None and customer is not None
    plan = session.get(Plan, pv.plan_id)
    assert plan is not None
    period = (
        None if status == "canceled" else period_at(sub, pv, customer.timezone, max(now, sub.start))
    )
    names = external_ids(session, {sub.seller_id})
    change_outs = [
        ChangeOut(
            id=r.id, type=r.kind, effective_at=r.effective_at, data=r.data, created_at=r.created_at
        )
        for r in rows
    ]
    return SubscriptionOut(
        id=sub.id, customer=customer.external_id, seller=names[sub.seller_id], plan=plan.key,
        version=pv.version, status=status, start=sub.start, end=sub.end, trial_end=trial_end(sub),
        quantity=format(state.quantity.normalize(), "f"), billing_anchor=sub.billing_anchor,
        current_period_start=period[0] if period else None,
        current_period_end=period[1] if period else None,
        add_ons=[AddOnOut(**add_on_json(a)) for a in state.add_ons], changes=change_outs,
    )  # fmt: skip


def get_subscription(session: Session, principal: Principal, sub_id: int) -> SubscriptionOut:
    return subscription_out(session, find_subscription(session, principal, sub_id))


def list_subscriptions(
    session: Session, principal: Principal, customer: str | None = None, plan: str | None = None
) -> list[SubscriptionOut]:
    stmt = (
        select(Subscription)
        .join(Account, Account.id == Subscription.customer_id)
        .where(in_subtree(principal))
    )
    if customer:
        stmt = stmt.where(
            Subscription.customer_id == account_in_scope(session, principal, customer).id
        )
    if plan:
        stmt = stmt.where(Subscription.plan_id == find_plan(session, principal, plan).id)
    return [subscription_out(session, s) for s in session.scalars(stmt.order_by(Subscription.id))]
