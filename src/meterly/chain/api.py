"""HTTP: an invoice's per-customer breakdown (CSV) and the margin report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.billing.models import Invoice
from meterly.billing.service import get_invoice
from meterly.chain.margin import breakdown_csv, invoice_parts, margin_report

router = APIRouter(prefix="/v1", tags=["resellers"])


@router.get("/invoices/{invoice_id}/breakdown.csv", response_class=Response)
def invoice_breakdown(invoice_id: int, principal: PrincipalDep, session: SessionDep) -> Response:
    """Per product and end customer: quantity and amount. Pooled wholesale lines are allocated
    pro rata to quantity (largest remainder: the rows sum exactly to each line)."""
    get_invoice(session, principal, invoice_id)  # scoped like the invoice: 404 out of scope
    invoice = session.get(Invoice, invoice_id)
    assert invoice is not None
    body = breakdown_csv(invoice_parts(session, invoice), invoice.currency)
    name = f"invoice-{invoice_id}-breakdown.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="text/csv", headers=headers)


@router.get("/reports/margin")
def margin(
    principal: PrincipalDep,
    session: SessionDep,
    period: str = Query(..., description="YYYY-MM: invoices whose period starts in that month"),
    reseller: str | None = Query(None, description="One reseller (default: all you can see)"),
    group_by: str | None = Query(None, description="customer | product"),
) -> dict[str, Any]:
    """Retail revenue (the reseller's invoices, subtotal before tax), wholesale cost (its
    invoice from its seller, allocated per customer/product), margin and margin %."""
    return margin_report(session, principal, period, reseller, group_by)
