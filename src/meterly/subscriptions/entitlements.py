"""Entitlement check: may this customer use this feature now, and how much is left this period.

Hot path (benchmark target p99 < 20 ms at 1 M events a month): a few indexed ledger lookups and
at most one event-store aggregate for one subject and one period.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.catalog.preview import trimmed
from meterly.plans.models import PlanEntitlement, PlanVersion
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import utcnow
from meterly.subscriptions import cycle
from meterly.subscriptions.models import Subscription, SubscriptionChange
from meterly.subscriptions.schemas import EntitlementCheck
from meterly.subscriptions.timeline import Change, state_at
from meterly.subscriptions.usage_source import StoreUsage, seller_principal

_PLAN_KINDS = ("created", "plan", "migrate", "cancel")  # the changes that decide the version


def check(
    session: Session,
    store: EventStore,
    principal: Principal,
    customer_id: str,
    feature: str,
    now: datetime | None = None,
) -> EntitlementCheck:
    now = now or utcnow()
    rows = list(
        session.execute(
            select(Subscription, Account)
            .join(Account, Account.id == Subscription.customer_id)
            .where(Account.external_id == customer_id, in_subtree(principal))
            .where(Subscription.start <= now)
            .where((Subscription.end.is_(None)) | (Subscription.end > now))
        )
    )
    if not rows:
        account_in_scope(session, principal, customer_id)  # 404 for an unknown customer
        return EntitlementCheck(
            customer=customer_id, feature=feature, has_access=False, limit=None, used=None,
            remaining=None, hard=False,
        )  # fmt: skip
    customer = rows[0][1]
    changes: dict[int, list[Change]] = {}
    for c in session.scalars(
        select(SubscriptionChange)
        .where(SubscriptionChange.subscription_id.in_([s.id for s, _ in rows]))
        .where(SubscriptionChange.kind.in_(_PLAN_KINDS))
    ):
        changes.setdefault(c.subscription_id, []).append(
            Change(c.kind, c.effective_at, c.data, c.id)
        )
    version_of_sub: dict[int, Subscription] = {}
    for sub, _ in rows:
        state = state_at(changes.get(sub.id, []), now)
        if state is not None:
            version_of_sub[state.plan_version_id] = sub
    found = list(
        session.execute(
            select(PlanEntitlement, PlanVersion.interval)
            .join(PlanVersion, PlanVersion.id == PlanEntitlement.plan_version_id)
            .where(PlanEntitlement.plan_version_id.in_(version_of_sub))
            .where(PlanEntitlement.feature == feature, PlanEntitlement.enabled.is_(True))
        )
    )
    if not found:
        return EntitlementCheck(
            customer=customer_id, feature=feature, has_access=False, limit=None, used=None,
            remaining=None, hard=False,
        )  # fmt: skip
    unlimited = [e for e, _ in found if e.limit is None]
    if unlimited:  # plain on/off: access, nothing to count
        return EntitlementCheck(
            customer=customer_id, feature=feature, has_access=True, limit=None, used=None,
            remaining=None, hard=False,
        )  # fmt: skip
    # several subscriptions grant it: the most generous limit applies
    ent, interval = max(found, key=lambda f: f[0].limit or Decimal(0))
    assert ent.limit is not None and ent.meter is not None
    sub = version_of_sub[ent.plan_version_id]
    start, end = cycle.current_period(
        sub.start, customer.timezone, sub.billing_anchor, interval, now
    )
    seller = seller_principal(customer, sub.seller_id)  # no query: it is on the customer's path
    used = StoreUsage(session, store, customer, seller).quantity(ent.meter, start, end)
    remaining = max(ent.limit - used, Decimal(0))
    return EntitlementCheck(
        customer=customer_id, feature=feature, has_access=not ent.hard or used < ent.limit,
        limit=trimmed(ent.limit), used=trimmed(used), remaining=trimmed(remaining), hard=ent.hard,
    )  # fmt: skip
