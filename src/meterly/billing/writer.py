"""Writing a bill run's drafts a group at a time: one transaction per group (billing.run).

A group commits ~100 drafts with one fsync instead of one each. It is first written whole under
one savepoint, in a handful of multi-row statements; should anything in it fail, that savepoint
is rolled back and each draft is written again under a savepoint of its own, so a duplicate (a
concurrent run wrote it first: IntegrityError) or a failing customer rolls back that draft alone
— with its purchase claims and webhook messages — and the others commit. A crash loses at most
the group being written, and a rerun writes it again: the unique (subscription, period_start)
constraint, not this code, keeps it to one invoice per period. Drafts carry no number (numbers
are taken at finalization, billing.numbering), so a rolled-back draft leaves no gap.

The writes are Core statements on the group's connection (the ORM unit of work cost more than
the SQL): the invoices, their charge lines (RETURNING what the ledger stored, which is what
`adjustments.apply` would read back), the adjustment lines `adjustments.plan` derives from them
with the group's facts (billing.facts), and the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meterly.billing.adjustments import CHARGE_KINDS, Charged, Plan, plan
from meterly.billing.builder import DraftLine, Purchase, purchase_lines
from meterly.billing.context import Span, SubContext
from meterly.billing.draft import claim, line_rows, notify
from meterly.billing.facts import GroupFacts
from meterly.billing.models import Invoice, InvoiceLine

GROUP = 100  # drafts per transaction: fsyncs amortised, the write lock held ~0.1 s

_invoices: Table = Invoice.metadata.tables["invoices"]
_lines: Table = InvoiceLine.metadata.tables["invoice_lines"]
_INSERT_INVOICES = insert(_invoices).returning(
    _invoices.c.id, _invoices.c.subscription_id, _invoices.c.period_start
)
_INSERT_LINES = insert(_lines)
TOTALS = ("subtotal", "discount_total", "tax_total", "total", "credits_applied", "amount_due")
_UPDATE_TOTALS = (
    update(_invoices)
    .where(_invoices.c.id == bindparam("invoice_id"))
    .values({name: bindparam(f"new_{name}") for name in TOTALS})
)
_INSERT_CHARGES = insert(_lines).returning(
    _lines.c.id, _lines.c.invoice_id, _lines.c.position, _lines.c.kind, _lines.c.product,
    _lines.c.amount, _lines.c.quantity, _lines.c.period_end,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Pending:
    """A draft computed (rated) with no transaction open, waiting for its group's write."""

    ctx: SubContext
    span: Span
    currency: str
    charges: Sequence[DraftLine]
    after: Sequence[DraftLine]
    purchases: Sequence[Purchase]


@dataclass(frozen=True, slots=True)
class Outcome:
    pending: Pending
    status: str  # created | existing | failed
    error: Exception | None = None


def write_group(
    session: Session,
    group: Sequence[Pending],
    grace: Mapping[int, int],
    run_id: int | None,
    now: datetime,
    listening: Collection[int] | None = None,
) -> list[Outcome]:
    """Write the group's drafts; the caller commits. First all at once under one savepoint
    (a handful of multi-row statements); if anything in it fails, that savepoint is rolled back
    and each draft is written under its own, so only the failing ones are left out. After a
    failed draft the subscription's later periods in the group wait (not written)."""
    facts = GroupFacts(session, [(p.ctx.sub.customer_id, p.ctx.sub.seller_id) for p in group], now)
    try:
        with session.begin_nested():
            write_drafts(session, group, facts, grace, run_id, now, listening)
        return [Outcome(p, "created") for p in group]
    except Exception:
        pass  # which draft failed, and why, is found out one by one below
    out: list[Outcome] = []
    failed: set[int] = set()
    for p in group:
        if p.ctx.sub.id in failed:
            continue
        try:
            with session.begin_nested():
                write_drafts(session, [p], facts, grace, run_id, now, listening)
            out.append(Outcome(p, "created"))
        except IntegrityError:
            out.append(Outcome(p, "existing"))  # a concurrent run (or a rerun's twin) was first
        except Exception as exc:  # one customer never stops the group for the others
            failed.add(p.ctx.sub.id)
            out.append(Outcome(p, "failed", exc))
    return out


def write_drafts(
    session: Session,
    drafts: Sequence[Pending],
    facts: GroupFacts,
    grace: Mapping[int, int],
    run_id: int | None,
    now: datetime,
    listening: Collection[int] | None = None,
) -> None:
    """The drafts `create_draft` writes, in five statements however many there are (plus one
    per one-off purchase); a duplicate raises IntegrityError."""
    if not drafts:
        return  # (an empty parameter list would run the INSERT once, with defaults only)
    conn = session.connection()
    inserted = conn.execute(_INSERT_INVOICES, [{
        "seller_id": p.ctx.sub.seller_id, "customer_id": p.ctx.sub.customer_id,
        "subscription_id": p.ctx.sub.id, "bill_run_id": run_id, "status": "draft",
        "currency": p.currency, "period_start": p.span[0], "period_end": p.span[1],
        "finalize_after": p.span[1] + timedelta(hours=grace[p.ctx.seller.id]),
    } for p in drafts]).all()  # fmt: skip
    by_key = {(r.subscription_id, r.period_start): r.id for r in inserted}
    ids = [by_key[(p.ctx.sub.id, p.span[0])] for p in drafts]  # aware datetimes: same instant
    rows: list[dict[str, Any]] = []
    for p, invoice_id in zip(drafts, ids, strict=True):
        kept = claim(session, invoice_id, p.purchases) if p.purchases else []
        rows += line_rows(invoice_id, [*p.charges, *purchase_lines(kept), *p.after])
    stored: dict[int, list[Charged]] = defaultdict(list)
    for r in conn.execute(_INSERT_CHARGES, rows).all() if rows else []:
        if r.kind in CHARGE_KINDS:
            stored[r.invoice_id].append(
                Charged(r.id, r.position, r.kind, r.product, r.amount, r.quantity, r.period_end)
            )
    adjust: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    planned: list[Plan] = []
    for p, invoice_id in zip(drafts, ids, strict=True):
        charged = sorted(stored[invoice_id], key=lambda c: c.position)
        mine = facts.for_invoice(p.ctx.sub.customer_id, p.ctx.sub.seller_id, p.currency, p.span)
        money = plan(charged, p.currency, Decimal(0), mine)
        planned.append(money)
        adjust += [{"invoice_id": invoice_id, **row} for row in money.rows]
        totals.append({"invoice_id": invoice_id, **{f"new_{n}": getattr(money, n) for n in TOTALS}})
    if adjust:
        conn.execute(_INSERT_LINES, adjust)
    conn.execute(_UPDATE_TOTALS, totals)
    for p, invoice_id, money in zip(drafts, ids, planned, strict=True):
        seller, customer = p.ctx.seller, p.ctx.customer
        if listening is None or seller.id in listening or customer.id in listening:
            sub = p.ctx.sub
            # a transient copy for the event, never added to the session
            invoice = Invoice(
                id=invoice_id, seller_id=sub.seller_id, customer_id=sub.customer_id,
                subscription_id=sub.id, bill_run_id=run_id, status="draft", currency=p.currency,
                period_start=p.span[0], period_end=p.span[1], total=money.total,
                amount_due=money.amount_due,
            )  # fmt: skip
            notify(session, "invoice.drafted", invoice, seller, customer, listening)
