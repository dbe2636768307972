"""Bill-run and invoice use cases behind the API and the CLI, scoped to the caller's subtree.

Who sees what: an invoice is visible to every key whose subtree holds its customer (the customer
itself, its resellers, the provider); it is written (finalized, voided) only by keys whose
subtree holds its seller — a customer reads its invoices but cannot finalize them (403).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.billing import finalize as fin
from meterly.billing.commitments import PlanCommitment
from meterly.billing.models import BillRun, Invoice, InvoiceLine
from meterly.billing.run import open_run
from meterly.billing.schemas import (
    BillRunOut,
    CommitmentIn,
    CommitmentOut,
    InvoiceOut,
    InvoiceSummary,
    LineOut,
)
from meterly.catalog.preview import precise
from meterly.errors import Forbidden, InvalidInput, NotFound
from meterly.jobs import queue
from meterly.plans.models import PlanVersion
from meterly.plans.service import find_plan
from meterly.pricing.currency import quantum
from meterly.pricing.precision import CONTEXT
from meterly.storage.events.base import EventStore
from meterly.storage.ledger import utcnow

Seller = aliased(Account)
Customer = aliased(Account)
STATUSES = ("draft", "finalized", "paid", "void", "overdue")


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def _s(value: Decimal) -> str:
    return format(value, "f")


def money(value: Decimal, currency: str) -> str:
    """A rounded amount with the currency's minor digits ('2.50'; SQLite returns '2.5')."""
    return format(value.quantize(quantum(currency), context=CONTEXT), "f")


# --- bill runs ---------------------------------------------------------------------------------


def start_bill_run(
    session: Session, principal: Principal, as_of: datetime | None
) -> tuple[BillRun, bool]:
    """Open (or resume) the caller's run for as_of and queue it for the worker."""
    if principal.kind == "customer":
        raise Forbidden("a customer account sells nothing: bill runs are for sellers")
    if as_of is not None and as_of.tzinfo is None:
        raise _bad("as_of", "give a time zone offset, e.g. 2026-12-01T00:00:00Z")
    run, created = open_run(session, principal, as_of or utcnow())
    job = queue.enqueue(session, "bill_run", {"run_id": run.id}, dedup_key=f"bill_run:{run.id}")
    run.job_id = job.id
    return run, created


def bill_run_out(session: Session, run: BillRun, seller: str) -> BillRunOut:
    stmt = select(Invoice.id).where(Invoice.bill_run_id == run.id).order_by(Invoice.id)
    ids = list(session.scalars(stmt))
    return BillRunOut(
        id=run.id, seller=seller, as_of=run.as_of, status=run.status, invoices=run.invoices,
        totals=dict(run.totals), errors=list(run.errors), invoice_ids=ids,
        created_at=run.created_at, finished_at=run.finished_at,
    )  # fmt: skip


def get_bill_run(session: Session, principal: Principal, run_id: int) -> BillRunOut:
    row = session.execute(
        select(BillRun, Account.external_id)
        .join(Account, Account.id == BillRun.seller_id)
        .where(BillRun.id == run_id, in_subtree(principal))
    ).first()
    if row is None:
        raise NotFound(f"bill run {run_id} not found")
    return bill_run_out(session, row[0], row[1])


def list_bill_runs(session: Session, principal: Principal, limit: int = 50) -> list[BillRunOut]:
    rows = session.execute(
        select(BillRun, Account.external_id)
        .join(Account, Account.id == BillRun.seller_id)
        .where(in_subtree(principal))
        .order_by(BillRun.id.desc())
        .limit(limit)
    )
    return [bill_run_out(session, r, ext) for r, ext in rows]


# --- invoices ----------------------------------------------------------------------------------


def _month(period: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise _bad("period", "expected YYYY-MM, e.g. 2026-11")
    return int(m.group(1)), int(m.group(2))


def list_invoices(
    session: Session,
    principal: Principal,
    customer: str | None = None,
    status: str | None = None,
    period: str | None = None,
    limit: int = 100,
    after: int | None = None,
    with_lines: bool = False,
) -> list[InvoiceSummary] | list[InvoiceOut]:
    """Newest first. `period` (YYYY-MM) matches the month of period_start in the customer's
    time zone (the calendar the customer was billed in). `with_lines`: whole invoices, as
    get_invoice gives them, their lines read in one query for the page."""
    stmt = (
        select(Invoice, Seller.external_id, Customer)
        .join(Seller, Seller.id == Invoice.seller_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Customer.path.startswith(principal.path, autoescape=True))
    )
    if customer:
        stmt = stmt.where(Invoice.customer_id == account_in_scope(session, principal, customer).id)
    if status:
        if status not in STATUSES:
            raise _bad("status", f"one of {', '.join(STATUSES)}")
        stmt = stmt.where(Invoice.status == status)
    month: tuple[int, int] | None = None
    if period:
        month = _month(period)
        first = datetime(month[0], month[1], 1, tzinfo=UTC)
        # every zone is within ±14 h of UTC: a coarse range in SQL, the exact month below
        stmt = stmt.where(
            Invoice.period_start >= first - timedelta(hours=14),
            Invoice.period_start < first + timedelta(days=31, hours=14),
        )
    if after is not None:
        stmt = stmt.where(Invoice.id < after)
    stmt = stmt.order_by(Invoice.id.desc())
    # the limit goes to SQL, unless the exact month is checked here (then rows stream in pages):
    # either way a page never loads the whole subtree's invoices
    stmt = stmt.limit(limit) if month is None else stmt.execution_options(yield_per=limit)
    page: list[tuple[Invoice, str, str]] = []
    with session.execute(stmt) as rows:  # closed here: the rest of a streamed result is dropped
        for inv, seller, cust in rows:
            if month is not None:
                local = inv.period_start.astimezone(ZoneInfo(cust.timezone))
                if (local.year, local.month) != month:
                    continue
            page.append((inv, seller, cust.external_id))
            if len(page) >= limit:
                break
    if not with_lines:
        return [summary(inv, seller, cust) for inv, seller, cust in page]
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    ids = [inv.id for inv, _, _ in page]
    for i in range(0, len(ids), 500):  # bounded IN lists
        found = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(ids[i : i + 500]))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        for ln in found:
            lines[ln.invoice_id].append(ln)
    return [invoice_out(session, inv, seller, cust, lines[inv.id]) for inv, seller, cust in page]


def summary(inv: Invoice, seller: str, customer: str) -> InvoiceSummary:
    return InvoiceSummary(
        id=inv.id, number=inv.number, status=inv.status, seller=seller, customer=customer,
        subscription=inv.subscription_id, currency=inv.currency, period_start=inv.period_start,
        period_end=inv.period_end, total=money(inv.total, inv.currency),
        amount_due=money(inv.amount_due, inv.currency),
        issued_at=inv.issued_at, due_at=inv.due_at,
    )  # fmt: skip


def _find(session: Session, principal: Principal, invoice_id: int) -> tuple[Invoice, str, Account]:
    row = session.execute(
        select(Invoice, Seller.external_id, Customer)
        .join(Seller, Seller.id == Invoice.seller_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.id == invoice_id, Customer.path.startswith(principal.path, autoescape=True))
    ).first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return row[0], row[1], row[2]


def invoice_out(
    session: Session,
    inv: Invoice,
    seller: str,
    customer: str,
    lines: Iterable[InvoiceLine] | None = None,
) -> InvoiceOut:
    """`lines`: the invoice's lines in position order, when the caller read them already."""
    if lines is None:
        lines = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == inv.id)
            .order_by(InvoiceLine.position)
        )
    c = inv.currency
    return InvoiceOut(
        **summary(inv, seller, customer).model_dump(), bill_run=inv.bill_run_id,
        seller_details=dict(inv.seller_details), customer_details=dict(inv.customer_details),
        lines=[line_out(ln, c) for ln in lines], subtotal=money(inv.subtotal, c),
        discount_total=money(inv.discount_total, c), tax_total=money(inv.tax_total, c),
        credits_applied=money(inv.credits_applied, c), amount_paid=money(inv.amount_paid, c),
        finalize_after=inv.finalize_after, paid_at=inv.paid_at, voided_at=inv.voided_at,
        created_at=inv.created_at,
    )  # fmt: skip


def line_out(ln: InvoiceLine, currency: str) -> LineOut:
    return LineOut(
        position=ln.position, kind=ln.kind, description=ln.description, product=ln.product,
        meter=ln.meter, period_start=ln.period_start, period_end=ln.period_end,
        quantity=None if ln.quantity is None else _s(ln.quantity.normalize()),
        unit_amount=None if ln.unit_amount is None else _s(ln.unit_amount),
        tiers=list(ln.breakdown), precise_amount=precise(ln.precise_amount),
        amount=money(ln.amount, currency),
        meta=dict(ln.meta),
    )  # fmt: skip


def get_invoice(session: Session, principal: Principal, invoice_id: int) -> InvoiceOut:
    inv, seller, cust = _find(session, principal, invoice_id)
    return invoice_out(session, inv, seller, cust.external_id)


def _writable(session: Session, principal: Principal, invoice_id: int) -> tuple[str, Account]:
    inv, seller, cust = _find(session, principal, invoice_id)
    owner = session.get(Account, inv.seller_id)
    assert owner is not None
    if not principal.covers(owner.path):
        raise Forbidden(f"invoice {invoice_id} is issued by '{seller}'; only its seller changes it")
    return seller, cust


def finalize_invoice(
    session: Session, store: EventStore, principal: Principal, invoice_id: int, now: datetime
) -> InvoiceOut:
    seller, cust = _writable(session, principal, invoice_id)
    inv = fin.finalize(session, store, invoice_id, now)
    return invoice_out(session, inv, seller, cust.external_id)


def void_invoice(
    session: Session, principal: Principal, invoice_id: int, now: datetime
) -> InvoiceOut:
    seller, cust = _writable(session, principal, invoice_id)
    inv = fin.void(session, invoice_id, now)
    return invoice_out(session, inv, seller, cust.external_id)


# --- commitments -------------------------------------------------------------------------------


def _amount(value: str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        out = Decimal(value)
    except InvalidOperation:
        raise _bad(field, "not a decimal number") from None
    if not out.is_finite() or out < 0:
        raise _bad(field, "must be a non-negative amount")
    return out


def set_commitment(
    session: Session, principal: Principal, plan_key: str, body: CommitmentIn
) -> CommitmentOut:
    plan = find_plan(session, principal, plan_key)
    if plan.seller_id != principal.account_id and not principal.is_root:
        raise Forbidden(f"plan '{plan_key}' belongs to another seller")
    row = session.get(PlanCommitment, plan.id) or PlanCommitment(plan_id=plan.id)
    row.minimum = _amount(body.minimum, "minimum")
    row.cap = _amount(body.cap, "cap")
    session.add(row)
    session.flush()
    return get_commitment(session, principal, plan_key)


def get_commitment(session: Session, principal: Principal, plan_key: str) -> CommitmentOut:
    plan = find_plan(session, principal, plan_key)
    row = session.get(PlanCommitment, plan.id)
    currency = session.scalar(
        select(PlanVersion.currency).where(
            PlanVersion.plan_id == plan.id, PlanVersion.version == plan.latest_version
        )
    )
    c = currency or "USD"
    return CommitmentOut(
        plan=plan.key,
        minimum=None if row is None or row.minimum is None else money(row.minimum, c),
        cap=None if row is None or row.cap is None else money(row.cap, c),
    )
