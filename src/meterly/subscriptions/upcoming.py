"""The upcoming invoice: what the customer would be billed at the end of the current period,
from usage so far (the portal's "so far this month"). Lines come from the pure lines module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope
from meterly.catalog.preview import plain, precise, trimmed
from meterly.catalog.schemas import PreviewLine
from meterly.errors import InvalidInput
from meterly.plans.models import PlanVersion
from meterly.plans.service import version_spec
from meterly.pricing.currency import round_money
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import utcnow
from meterly.subscriptions.lines import Line, VersionSpec, subscription_lines, subtotal
from meterly.subscriptions.models import OneOffPurchase, Subscription
from meterly.subscriptions.schemas import UpcomingLine, UpcomingOut
from meterly.subscriptions.service import load_changes, period_at, timeline, trial_end
from meterly.subscriptions.timeline import state_at
from meterly.subscriptions.usage_source import StoreUsage


def line_out(line: Line, subscription: int | None) -> UpcomingLine:
    return UpcomingLine(
        kind=line.kind, description=line.description, subscription=subscription,
        product=line.product, meter=line.meter, period_start=line.period_start,
        period_end=line.period_end, quantity=trimmed(line.quantity),
        unit_amount=plain(line.unit_amount) if line.unit_amount is not None else None,
        fraction=line.fraction,
        tiers=[
            PreviewLine(
                description=t.description, quantity=trimmed(t.quantity),
                unit_amount=plain(t.unit_amount) if t.unit_amount is not None else None,
                precise_amount=precise(t.precise_amount), amount=plain(t.amount),
            )
            for t in line.breakdown
        ],
        precise_amount=precise(line.precise_amount), amount=plain(line.amount),
    )  # fmt: skip


def _versions(session: Session, ids: set[int]) -> dict[int, VersionSpec]:
    rows = session.scalars(select(PlanVersion).where(PlanVersion.id.in_(ids)))
    return {pv.id: version_spec(pv) for pv in rows}


def upcoming(
    session: Session,
    store: EventStore,
    principal: Principal,
    external_id: str,
    subscription: int | None = None,
    now: datetime | None = None,
) -> UpcomingOut:
    now = now or utcnow()
    customer = account_in_scope(session, principal, external_id)
    stmt = select(Subscription).where(
        Subscription.customer_id == customer.id,
        Subscription.start <= now,
        (Subscription.end.is_(None)) | (Subscription.end > now),
    )
    if subscription is not None:
        stmt = stmt.where(Subscription.id == subscription)
    subs = list(session.scalars(stmt.order_by(Subscription.id)))
    all_changes = load_changes(session, [s.id for s in subs])
    out: list[UpcomingLine] = []
    lines: list[Line] = []
    currencies: set[str] = set()
    period: tuple[datetime, datetime] | None = None
    for sub in subs:
        changes = timeline(all_changes[sub.id])
        ids = {int(c.data["plan_version_id"]) for c in changes if "plan_version_id" in c.data}
        versions = _versions(session, ids)
        state = state_at(changes, now)
        assert state is not None
        pv = session.get(PlanVersion, state.plan_version_id)
        seller = session.get(Account, sub.seller_id)
        assert pv is not None and seller is not None
        sub_period = period_at(sub, pv, customer.timezone, now)
        ends_now = sub.end is not None and sub.end <= sub_period[1]
        following = None if ends_now else period_at(sub, pv, customer.timezone, sub_period[1])
        got = subscription_lines(
            versions, changes, currency=pv.currency, period=sub_period, next_period=following,
            usage=StoreUsage(session, store, customer, seller), usage_until=now,
            trial_end=trial_end(sub), sub_end=sub.end,
        )  # fmt: skip
        period = period or sub_period
        currencies.add(pv.currency)
        lines.extend(got)
        out.extend(line_out(line, sub.id) for line in got)
    purchases = session.scalars(
        select(OneOffPurchase)
        .where(
            OneOffPurchase.customer_id == customer.id, OneOffPurchase.billed_invoice_id.is_(None)
        )
        .order_by(OneOffPurchase.id)
    )
    for p in purchases:
        if subscription is not None and p.subscription_id not in (None, subscription):
            continue
        currencies.add(p.currency)
        line = Line(
            "one_off", p.description, p.product, None, p.purchased_at, p.purchased_at,
            p.quantity, None, p.precise_amount, round_money(p.amount, p.currency),
        )  # fmt: skip
        lines.append(line)
        out.append(line_out(line, p.subscription_id))
    if len(currencies) > 1:
        raise InvalidInput(
            "this customer's subscriptions bill in several currencies; pass ?subscription=ID",
            [{"field": "subscription", "message": "required when currencies differ"}],
        )
    currency = currencies.pop() if currencies else customer.currency
    total = subtotal(lines) if lines else Decimal(0)
    return UpcomingOut(
        customer=customer.external_id, currency=currency,
        period_start=period[0] if period else None, period_end=period[1] if period else None,
        subscriptions=[s.id for s in subs], lines=out, subtotal=plain(total),
    )  # fmt: skip
