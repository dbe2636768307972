"""CLI: prepaid credits, coupons and discounts, tax rates, payments, credit notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from meterly.billing.money import (
    credit_notes,
    credits_service,
    discounts_service,
    payments,
    tax_service,
)
from meterly.billing.money.schemas import (
    CouponIn,
    CreditGrantIn,
    CreditNoteIn,
    CustomerDiscountIn,
    CustomerTaxIn,
    PaymentIn,
    TaxRateIn,
)
from meterly.catalog.cli import invalid, load_json
from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.metering.usage import parse_bound
from meterly.storage.ledger import utcnow

credits_app = typer.Typer(help="Prepaid credits: grants, top-ups, balance.", no_args_is_help=True)
coupons_app = typer.Typer(help="Coupons and customer discounts.", no_args_is_help=True)
tax_app = typer.Typer(help="Tax rates, surcharges and customer tax.", no_args_is_help=True)
payments_app = typer.Typer(help="Payments against invoices.", no_args_is_help=True)
credit_notes_app = typer.Typer(help="Credit notes against invoices.", no_args_is_help=True)
M = TypeVar("M", bound=BaseModel)


def _body(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise invalid(exc) from None


def _show(out: BaseModel | list[BaseModel], as_json: bool, line: Callable[[Any], str]) -> None:
    items = out if isinstance(out, list) else [out]
    if as_json:
        print_json(
            [i.model_dump(mode="json") for i in items]
            if isinstance(out, list)
            else out.model_dump(mode="json")
        )
        return
    for item in items:
        console.print(line(item), highlight=False)


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@credits_app.command("grant")
@handle_errors
def credits_grant(
    customer: str = typer.Argument(...),
    amount: str = typer.Option(..., "--amount"),
    currency: str | None = typer.Option(None, "--currency", help="default: the customer's"),
    priority: int = typer.Option(50, "--priority", help="lower is applied first"),
    expires_at: str | None = typer.Option(None, "--expires-at", help="RFC 3339"),
    products: str | None = typer.Option(None, "--products", help="comma-separated keys"),
    reason: str | None = typer.Option(None, "--reason"),
    top_up: int | None = typer.Option(None, "--top-up", help="add to this grant id"),
    low_threshold: str | None = typer.Option(
        None, "--low-threshold", help="credits.low when the customer's balance falls below"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Grant prepaid credit to a customer, or top up a grant."""
    body = _body(
        CreditGrantIn,
        {
            "amount": amount,
            "currency": currency,
            "priority": priority,
            "expires_at": parse_bound(expires_at, "expires_at"),
            "products": _csv(products),
            "reason": reason,
            "top_up": top_up,
            "customer_low_threshold": low_threshold,
        },
    )
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = credits_service.grant(s, operator(rt), customer, body, utcnow())
    _show(out, as_json, lambda g: f"grant {g.id}: {g.remaining} {g.currency} remaining")


@credits_app.command("show")
@handle_errors
def credits_show(
    customer: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """A customer's credit balance and ledger of movements."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = credits_service.show(s, operator(rt), customer, utcnow())
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    for currency, amount in out.balances.items():
        console.print(f"balance {amount} {currency}", highlight=False)
    for m in out.movements:
        ref = f" invoice {m.invoice_id}" if m.invoice_id else ""
        console.print(
            f"{m.at:%Y-%m-%d}  {m.kind:<12} {m.amount:>12}  grant {m.grant_id}{ref}",
            highlight=False,
        )


@coupons_app.command("create")
@handle_errors
def coupons_create(
    code: str = typer.Argument(...),
    percent_off: str | None = typer.Option(None, "--percent-off"),
    amount_off: str | None = typer.Option(None, "--amount-off"),
    currency: str | None = typer.Option(None, "--currency"),
    duration: str = typer.Option("once", "--duration", help="once | repeating | forever"),
    periods: int | None = typer.Option(None, "--periods", help="for --duration repeating"),
    applies_to: str | None = typer.Option(None, "--applies-to", help="comma-separated products"),
    name: str | None = typer.Option(None, "--name"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a coupon code."""
    body = _body(
        CouponIn,
        {
            "code": code,
            "percent_off": percent_off,
            "amount_off": amount_off,
            "currency": currency,
            "duration": duration,
            "duration_periods": periods,
            "applies_to": _csv(applies_to),
            "name": name,
        },
    )
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = discounts_service.create_coupon(s, operator(rt), body)
    _show(out, as_json, lambda c: f"coupon {c.code} ({c.duration})")


@coupons_app.command("list")
@handle_errors
def coupons_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List coupons."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = discounts_service.list_coupons(s, operator(rt))
    _show(list(rows), as_json, lambda c: f"{c.code}  {c.duration}  {c.redemptions} redeemed")


@coupons_app.command("redeem")
@handle_errors
def coupons_redeem(
    customer: str = typer.Argument(...),
    code: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Redeem a coupon onto a customer."""
    body = _body(CustomerDiscountIn, {"coupon": code})
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = discounts_service.add_discount(s, operator(rt), customer, body, utcnow())
    _show(out, as_json, lambda d: f"discount {d.id}: {d.name} for '{d.customer}'")


@tax_app.command("create")
@handle_errors
def tax_create(
    rate: str = typer.Option(..., "--rate", help="the tax rate JSON (see POST /v1/tax-rates)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a tax rate or regulatory surcharge."""
    body = _body(TaxRateIn, load_json(rate, None, "rate"))
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = tax_service.create_rate(s, operator(rt), body)
    _show(out, as_json, lambda r: f"tax rate {r.key} ({r.kind})")


@tax_app.command("list")
@handle_errors
def tax_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List tax rates and surcharges."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = tax_service.list_rates(s, operator(rt))
    _show(list(rows), as_json, lambda r: f"{r.key}  {r.kind}  {r.rate or r.amount_per_seat}")


@tax_app.command("assign")
@handle_errors
def tax_assign(
    customer: str = typer.Argument(...),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction"),
    rates: str | None = typer.Option(None, "--rates", help="comma-separated rate keys"),
    exempt: bool = typer.Option(False, "--exempt"),
    exempt_surcharges: bool = typer.Option(False, "--exempt-surcharges"),
    reason: str | None = typer.Option(None, "--reason", help="exemption reason"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set a customer's jurisdiction, rates and exemption."""
    body = _body(
        CustomerTaxIn,
        {
            "jurisdiction": jurisdiction,
            "rates": _csv(rates),
            "exempt": exempt,
            "exempt_surcharges": exempt_surcharges,
            "exempt_reason": reason,
        },
    )
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = tax_service.set_customer_tax(s, operator(rt), customer, body)
    _show(out, as_json, lambda t: f"'{t.customer}': {', '.join(r.key for r in t.applicable)}")


@payments_app.command("record")
@handle_errors
def payments_record(
    invoice: int = typer.Argument(...),
    amount: str = typer.Option(..., "--amount"),
    method: str = typer.Option("other", "--method", help="card|ach|wire|check|cash|other"),
    reference: str | None = typer.Option(None, "--reference"),
    paid_at: str | None = typer.Option(None, "--paid-at", help="RFC 3339 (default now)"),
    idempotency_key: str | None = typer.Option(None, "--idempotency-key"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a payment against an invoice."""
    body = _body(
        PaymentIn,
        {
            "amount": amount,
            "method": method,
            "reference": reference,
            "paid_at": parse_bound(paid_at, "paid_at"),
            "idempotency_key": idempotency_key,
        },
    )
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out, _ = payments.record(s, operator(rt), invoice, body, utcnow())
    _show(
        out,
        as_json,
        lambda p: (
            f"payment {p.id}: {p.amount} {p.currency}; invoice "
            f"{p.invoice_status}, {p.invoice_amount_due} due"
        ),
    )


@payments_app.command("list")
@handle_errors
def payments_list(
    invoice: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """List an invoice's payments."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = payments.list_payments(s, operator(rt), invoice)
    _show(list(rows), as_json, lambda p: f"{p.paid_at:%Y-%m-%d}  {p.amount}  {p.method}")


@credit_notes_app.command("create")
@handle_errors
def credit_notes_create(
    invoice: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    lines: str | None = typer.Option(
        None, "--lines", help='JSON, e.g. [{"line_id": 3, "amount": "5.00"}]; omit: whole'
    ),
    refund: bool = typer.Option(False, "--refund", help="refunded, not credited to balance"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Issue a credit note against a finalized invoice."""
    data: dict[str, Any] = {"reason": reason, "refund": refund}
    if lines is not None:
        data["lines"] = load_json(lines, None, "lines")
    body = _body(CreditNoteIn, data)
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = credit_notes.create(s, operator(rt), invoice, body, utcnow())
    _show(out, as_json, lambda c: f"credit note {c.number}: {c.total} {c.currency} ({c.outcome})")


@credit_notes_app.command("show")
@handle_errors
def credit_notes_show(
    credit_note: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Show a credit note."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = credit_notes.get(s, operator(rt), credit_note)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(f"{out.number}  invoice {out.invoice_number or out.invoice_id}", highlight=False)
    for x in out.lines:
        console.print(f"{x.amount:>12}  {x.description}", highlight=False)
    console.print(f"{out.total:>12}  total {out.currency} ({out.outcome})", highlight=False)
