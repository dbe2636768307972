"""HTTP endpoints: bill runs, invoices (list, read, finalize, void) and plan commitments."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep
from meterly.billing import service
from meterly.billing.schemas import BillRunIn, BillRunOut, CommitmentIn, CommitmentOut, InvoiceOut
from meterly.catalog.schemas import ListOf
from meterly.storage.ledger import utcnow

router = APIRouter(prefix="/v1", tags=["billing"])


@router.post("/bill-runs", status_code=202, response_model=BillRunOut)
def start_bill_run(
    body: BillRunIn, principal: PrincipalDep, session: SessionDep, response: Response
) -> BillRunOut:
    """Invoice every subscription period of your customers that ended at or before `as_of`
    (default now), in the worker. Posting the same `as_of` while that run is unfinished
    returns it (resume); the run is idempotent: invoices that exist are skipped."""
    run, _ = service.start_bill_run(session, principal, body.as_of)
    response.headers["Location"] = f"/v1/bill-runs/{run.id}"
    return service.bill_run_out(session, run, principal.external_id)


@router.get("/bill-runs", response_model=ListOf)
def list_bill_runs(principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=service.list_bill_runs(session, principal))


@router.get("/bill-runs/{run_id}", response_model=BillRunOut)
def get_bill_run(run_id: int, principal: PrincipalDep, session: SessionDep) -> BillRunOut:
    """Status, invoices created, totals per currency, and the customers that failed."""
    return service.get_bill_run(session, principal, run_id)


@router.get("/invoices", response_model=ListOf)
def list_invoices(
    principal: PrincipalDep,
    session: SessionDep,
    customer: str | None = None,
    status: str | None = Query(None, description="draft | finalized | paid | void | overdue"),
    period: str | None = Query(
        None, description="YYYY-MM: the month of period_start in the customer's time zone"
    ),
    limit: int = Query(100, ge=1, le=1000),
    after: int | None = Query(None, description="id of the last invoice of the previous page"),
    expand: Literal["lines"] | None = Query(
        None, description="lines: whole invoices (lines, totals, details) as GET /v1/invoices/{id}"
    ),
) -> ListOf:
    """Invoices of your subtree, newest first: summaries, or whole invoices with `expand=lines`
    (one request per page instead of one per invoice)."""
    return ListOf(
        data=service.list_invoices(
            session, principal, customer, status, period, limit, after, expand == "lines"
        )
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(invoice_id: int, principal: PrincipalDep, session: SessionDep) -> InvoiceOut:
    return service.get_invoice(session, principal, invoice_id)


@router.post("/invoices/{invoice_id}/finalize", response_model=InvoiceOut)
def finalize_invoice(
    invoice_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> InvoiceOut:
    """Rebuild the draft from current usage, number it and freeze it (before its grace ends)."""
    return service.finalize_invoice(session, runtime.events, principal, invoice_id, utcnow())


@router.post("/invoices/{invoice_id}/void", response_model=InvoiceOut)
def void_invoice(invoice_id: int, principal: PrincipalDep, session: SessionDep) -> InvoiceOut:
    """Void a finalized, unpaid invoice (its number stays used: no gap)."""
    return service.void_invoice(session, principal, invoice_id, utcnow())


@router.put("/plans/{plan_key}/commitment", response_model=CommitmentOut)
def set_commitment(
    plan_key: str, body: CommitmentIn, principal: PrincipalDep, session: SessionDep
) -> CommitmentOut:
    """A plan's minimum per period (true-up line) and spending cap on usage per period."""
    return service.set_commitment(session, principal, plan_key, body)


@router.get("/plans/{plan_key}/commitment", response_model=CommitmentOut)
def get_commitment(plan_key: str, principal: PrincipalDep, session: SessionDep) -> CommitmentOut:
    return service.get_commitment(session, principal, plan_key)
