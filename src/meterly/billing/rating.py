"""Rating many subscriptions at once: the read side shared by bill runs and finalization.

Reads the event store a batch at a time (billing.usage: two queries per meter and range for the
whole batch, whatever the resellers) instead of a few queries per invoice, which is what made
finalizing 10,000 drafts one by one slower than the bill run that created them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from meterly.billing.builder import DraftLine
from meterly.billing.context import Span, SubContext
from meterly.billing.draft import compute
from meterly.billing.late import Billed
from meterly.billing.usage import BatchUsage
from meterly.chain.wholesale import Wholesale, is_wholesale
from meterly.storage.events.base import EventStore

Rated = tuple[str, list[DraftLine], list[DraftLine]]  # (currency, charges, lines after purchases)


class BatchRater:
    """Charge lines of any subscription of `ctxs`, for any of its periods."""

    def __init__(self, session: Session, store: EventStore, ctxs: Sequence[SubContext]) -> None:
        self._usage = _usage_batches(session, store, ctxs)
        self._wholesale = Wholesale(session, store, ctxs)  # resellers' subtrees (meterly.chain)

    def rate(self, ctx: SubContext, span: Span, late: Sequence[Billed]) -> Rated:
        if is_wholesale(ctx):  # chain billing: a reseller pays for its subtree
            currency, charges, after = self._wholesale.compute(ctx, span, late)
        else:
            source = self._usage[(ctx.seller.id, ctx.customer.parent_id)].source(ctx.customer)
            currency, charges, after = compute(ctx, span, source, late)
        return currency, list(charges), list(after)


def _usage_batches(
    session: Session, store: EventStore, ctxs: Sequence[SubContext]
) -> dict[tuple[int, int | None], BatchUsage]:
    """One usage reader per set of meter definitions: sellers whose meters resolve alike (every
    reseller of a chain on the provider's meters) share it, so a batch spread over many
    resellers still costs two event-store queries per (meter, range) (billing.usage)."""
    groups: dict[str, dict[int, SubContext]] = defaultdict(dict)
    for c in ctxs:
        groups[repr(sorted(c.specs.items()))][c.customer.id] = c
    out: dict[tuple[int, int | None], BatchUsage] = {}
    for g in groups.values():
        first = next(iter(g.values()))
        usage = BatchUsage(session, store, first.seller, [c.customer for c in g.values()],
                             first.specs, eager=False)  # fmt: skip
        for c in g.values():
            out[(c.seller.id, c.customer.parent_id)] = usage
    return out
