"""Subscription changes (quantity, plan up/downgrade, add-ons, cancel) and plan migrations.

Each is a row in subscription_changes with its effective time; nothing is overwritten except
the subscription's cached `end`, so the state at any instant can be replayed by billing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal
from meterly.catalog.sellers import writable_seller
from meterly.errors import Conflict, NotFound
from meterly.plans.models import Plan, PlanVersion
from meterly.plans.schemas import MigrateOut
from meterly.plans.service import find_plan, version_of
from meterly.subscriptions.models import Subscription
from meterly.subscriptions.schemas import (
    AddOnAdded,
    AddOnRemoved,
    Cancel,
    ChangeIn,
    PlanChange,
    QuantityChange,
    SubscriptionOut,
)
from meterly.subscriptions.service import (
    add_on_data,
    aware,
    bad,
    decimal_in,
    find_subscription,
    load_changes,
    period_at,
    record_change,
    subscription_out,
    timeline,
)
from meterly.subscriptions.timeline import State, state_at


def _state(session: Session, sub: Subscription, at: datetime) -> State:
    state = state_at(timeline(load_changes(session, [sub.id])[sub.id]), at)
    if state is None:
        raise Conflict(f"subscription {sub.id} has ended by {at.isoformat()}")
    return state


def _direction(old: Plan, new: Plan) -> str:
    """Up or down a feature ladder; between ladders (or none) it is a lateral move."""
    if old.ladder is None or old.ladder != new.ladder or old.level is None or new.level is None:
        return "lateral" if old.id != new.id else "version"
    return (
        "upgrade" if new.level > old.level else "downgrade" if new.level < old.level else "lateral"
    )


def apply_change(
    session: Session, principal: Principal, sub_id: int, body: ChangeIn
) -> SubscriptionOut:
    sub = find_subscription(session, principal, sub_id)
    at = aware(body.effective_at, "effective_at")
    if at < sub.start:
        raise bad("effective_at", "must not be before the subscription's start")
    if sub.end is not None and at >= sub.end:
        raise Conflict(
            f"subscription {sub.id} ends at {sub.end.isoformat()}; it cannot change after"
        )
    state = _state(session, sub, at)
    current = session.get(PlanVersion, state.plan_version_id)
    assert current is not None
    data: dict[str, Any]
    if isinstance(body, QuantityChange):
        quantity = decimal_in(body.quantity, "quantity")
        data = {"quantity": str(quantity), "previous": str(state.quantity)}
    elif isinstance(body, PlanChange):
        plan = find_plan(session, principal, body.plan)
        pv = version_of(session, plan, body.version)
        if plan.seller_id != sub.seller_id:
            raise bad("plan", "the new plan must come from the same seller")
        if (pv.currency, pv.interval) != (current.currency, current.interval):
            raise bad(
                "plan", f"the new plan must bill in {current.currency} per {current.interval}"
            )
        old_plan = session.get(Plan, current.plan_id)
        assert old_plan is not None
        data = {
            "plan_version_id": pv.id, "plan": plan.key, "version": pv.version,
            "previous_plan_version_id": current.id, "direction": _direction(old_plan, plan),
        }  # fmt: skip
    elif isinstance(body, AddOnAdded):
        sellers = [sub.seller_id, *reversed(principal.ancestor_ids)]
        data = {"add_on": add_on_data(session, principal, sellers, body.add_on, current, "add_on")}
    elif isinstance(body, AddOnRemoved):
        if body.key not in {a.key for a in state.add_ons}:
            raise bad("key", f"no add-on '{body.key}' on subscription {sub.id} at that time")
        data = {"key": body.key}
    else:
        assert isinstance(body, Cancel)
        if body.at_period_end:
            customer = session.get(Account, sub.customer_id)
            assert customer is not None
            at = period_at(sub, current, customer.timezone, at)[1]
        data = {"at_period_end": body.at_period_end}
        sub.end = at
    record_change(session, principal, sub, body.type, at, data)
    return subscription_out(session, sub)


def migrate_plan(
    session: Session,
    principal: Principal,
    plan_key: str,
    to_version: int | None = None,
    at: datetime | None = None,
) -> MigrateOut:
    """Move every subscription on another version of the plan to `to_version` (default the
    latest) from `at` (default now), each recorded as a `migrate` change."""
    plan = find_plan(session, principal, plan_key)
    if plan.seller_id != writable_seller(session, principal).id:
        raise NotFound(f"plan '{plan_key}' not found")  # an ancestor's plan is read-only here
    target = version_of(session, plan, to_version)
    when = aware(at, "at")
    versions = set(session.scalars(select(PlanVersion.id).where(PlanVersion.plan_id == plan.id)))
    subs = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.seller_id == plan.seller_id, Subscription.start <= when)
            .where((Subscription.end.is_(None)) | (Subscription.end > when))
            .order_by(Subscription.id)
        )
    )
    changes = load_changes(session, [s.id for s in subs])
    moved: list[int] = []
    for sub in subs:
        state = state_at(timeline(changes[sub.id]), when)
        if (
            state is None
            or state.plan_version_id not in versions
            or state.plan_version_id == target.id
        ):
            continue
        data = {"plan_version_id": target.id, "plan": plan.key, "version": target.version,
                "previous_plan_version_id": state.plan_version_id}  # fmt: skip
        record_change(session, principal, sub, "migrate", when, data)
        moved.append(sub.id)
    return MigrateOut(plan=plan.key, to_version=target.version, effective_at=when, migrated=moved)
