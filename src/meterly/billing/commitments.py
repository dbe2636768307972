"""Plan commitments: a minimum per period (a true-up line for the shortfall) and a spending cap
on usage per period. A table of its own, keyed by plan, so the plans domain stays untouched;
the amounts are in the plan's currency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from meterly.billing.builder import Commitment
from meterly.billing.context import SubContext
from meterly.storage.ledger import Base, Money, UTCDateTime, utcnow


class PlanCommitment(Base):
    __tablename__ = "plan_commitments"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    minimum: Mapped[Decimal | None] = mapped_column(Money())
    cap: Mapped[Decimal | None] = mapped_column(Money())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def attach(session: Session, ctxs: Sequence[SubContext]) -> None:
    """Give each subscription its plan's commitment (the plan it was created on: a change of
    plan within a ladder keeps the customer's commitment)."""
    plan_ids = {c.sub.plan_id for c in ctxs}
    if not plan_ids:
        return
    rows = {
        r.plan_id: Commitment(r.minimum, r.cap)
        for r in session.scalars(select(PlanCommitment).where(PlanCommitment.plan_id.in_(plan_ids)))
    }
    for c in ctxs:
        c.commitment = rows.get(c.sub.plan_id)
