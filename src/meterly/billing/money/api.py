"""HTTP endpoints: credits, coupons and discounts, tax rates, payments, credit notes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.billing.money import (
    credit_notes,
    credits_service,
    discounts_service,
    payments,
    tax_service,
)
from meterly.billing.money.schemas import (
    CouponIn,
    CouponOut,
    CreditGrantIn,
    CreditGrantOut,
    CreditNoteIn,
    CreditNoteOut,
    CreditsOut,
    CustomerDiscountIn,
    CustomerDiscountOut,
    CustomerTaxIn,
    CustomerTaxOut,
    PaymentIn,
    PaymentOut,
    TaxRateIn,
    TaxRateOut,
)
from meterly.catalog.schemas import ListOf
from meterly.storage.ledger import utcnow

router = APIRouter(prefix="/v1", tags=["billing: money"])


@router.post("/customers/{external_id}/credits", status_code=201, response_model=CreditGrantOut)
def grant_credits(
    external_id: str, body: CreditGrantIn, principal: PrincipalDep, session: SessionDep
) -> CreditGrantOut:
    """Grant prepaid credit (or top up a grant with `top_up`). Applied at invoicing by
    priority (lower first), then earliest expiry, then oldest; `products` restricts a grant."""
    return credits_service.grant(session, principal, external_id, body, utcnow())


@router.get("/customers/{external_id}/credits", response_model=CreditsOut)
def show_credits(external_id: str, principal: PrincipalDep, session: SessionDep) -> CreditsOut:
    """Balance per currency, the grants, and the ledger of movements."""
    return credits_service.show(session, principal, external_id, utcnow())


@router.post("/coupons", status_code=201, response_model=CouponOut)
def create_coupon(body: CouponIn, principal: PrincipalDep, session: SessionDep) -> CouponOut:
    """A coupon code: percent_off or amount_off+currency; once, repeating (N periods) or
    forever; on the whole invoice or on `applies_to` products."""
    return discounts_service.create_coupon(session, principal, body)


@router.get("/coupons", response_model=ListOf)
def list_coupons(principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=discounts_service.list_coupons(session, principal))


@router.post(
    "/customers/{external_id}/discounts", status_code=201, response_model=CustomerDiscountOut
)
def add_discount(
    external_id: str, body: CustomerDiscountIn, principal: PrincipalDep, session: SessionDep
) -> CustomerDiscountOut:
    """Redeem `{"coupon": CODE}` onto the customer, or give an inline `discount`."""
    return discounts_service.add_discount(session, principal, external_id, body, utcnow())


@router.get("/customers/{external_id}/discounts", response_model=ListOf)
def list_discounts(external_id: str, principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=discounts_service.list_discounts(session, principal, external_id))


@router.delete(
    "/customers/{external_id}/discounts/{discount_id}", response_model=CustomerDiscountOut
)
def end_discount(
    external_id: str, discount_id: int, principal: PrincipalDep, session: SessionDep
) -> CustomerDiscountOut:
    """End a discount now: periods that start later no longer get it."""
    return discounts_service.end_discount(session, principal, external_id, discount_id, utcnow())


@router.post("/tax-rates", status_code=201, response_model=TaxRateOut)
def create_tax_rate(body: TaxRateIn, principal: PrincipalDep, session: SessionDep) -> TaxRateOut:
    """A tax (percent), a percentage surcharge (e.g. USF on telecom products via `applies_to`)
    or a per-seat surcharge (e.g. E911: amount_per_seat × the seat product's quantity)."""
    return tax_service.create_rate(session, principal, body)


@router.get("/tax-rates", response_model=ListOf)
def list_tax_rates(principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=tax_service.list_rates(session, principal))


@router.post("/customers/{external_id}/tax", response_model=CustomerTaxOut)
def set_customer_tax(
    external_id: str, body: CustomerTaxIn, principal: PrincipalDep, session: SessionDep
) -> CustomerTaxOut:
    """Replace the customer's jurisdiction, assigned rates and exemption."""
    return tax_service.set_customer_tax(session, principal, external_id, body)


@router.get("/customers/{external_id}/tax", response_model=CustomerTaxOut)
def get_customer_tax(
    external_id: str, principal: PrincipalDep, session: SessionDep
) -> CustomerTaxOut:
    return tax_service.get_customer_tax(session, principal, external_id)


@router.post("/invoices/{invoice_id}/payments", status_code=201, response_model=PaymentOut)
def record_payment(
    invoice_id: int,
    body: PaymentIn,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> PaymentOut:
    """Record a (partial) payment. 422 beyond the amount due; 409 on a draft or void invoice.
    The invoice becomes paid when nothing is left due. A repeated `idempotency_key` answers
    200 with the first payment."""
    out, created = payments.record(session, principal, invoice_id, body, utcnow())
    if not created:
        response.status_code = 200
    return out


@router.get("/invoices/{invoice_id}/payments", response_model=ListOf)
def list_payments(invoice_id: int, principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=payments.list_payments(session, principal, invoice_id))


@router.post("/invoices/{invoice_id}/credit-notes", status_code=201, response_model=CreditNoteOut)
def create_credit_note(
    invoice_id: int, body: CreditNoteIn, principal: PrincipalDep, session: SessionDep
) -> CreditNoteOut:
    """Credit a finalized invoice, whole (no `lines`) or by line (amount or quantity). The
    credit goes to the customer's balance, or is marked refunded with `refund: true`."""
    return credit_notes.create(session, principal, invoice_id, body, utcnow())


@router.get("/credit-notes/{credit_note_id}", response_model=CreditNoteOut)
def get_credit_note(
    credit_note_id: int, principal: PrincipalDep, session: SessionDep
) -> CreditNoteOut:
    return credit_notes.get(session, principal, credit_note_id)


@router.get("/credit-notes", response_model=ListOf)
def list_credit_notes(
    principal: PrincipalDep,
    session: SessionDep,
    invoice: int | None = None,
    customer: str | None = None,
) -> ListOf:
    return ListOf(data=credit_notes.list_notes(session, principal, invoice, customer))
