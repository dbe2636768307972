"""CLI: seller profiles (`meterly sellers`) and reseller onboarding (`meterly resellers`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.errors import InvalidInput
from meterly.resellers import profiles, service
from meterly.resellers.schemas import ProfileOut, ProfilePatch, ResellerCreate, as_details

sellers_app = typer.Typer(
    help="Seller profiles: invoice numbering, terms, brand.", no_args_is_help=True
)
resellers_app = typer.Typer(help="Onboard resellers in one step.", no_args_is_help=True)


def _invalid(exc: ValidationError) -> InvalidInput:
    details = as_details(exc)
    first = details[0] if details else {"field": "", "message": "invalid"}
    return InvalidInput(f"invalid {first['field']}: {first['message']}", details)


def _show(out: ProfileOut) -> None:
    table = Table("field", "value", title=f"seller '{out.seller}'")
    for name, value in out.model_dump().items():
        if name == "logo_url" and value and str(value).startswith("data:"):
            value = f"data URL ({len(value)} characters)"
        table.add_row(name, "" if value is None else str(value))
    console.print(table)


@sellers_app.command("show")
@handle_errors
def sellers_show(
    external_id: str = typer.Argument(..., help="a provider or reseller account"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Show a seller's billing profile and brand (defaults when none was set)."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = profiles.get_profile(s, operator(rt), external_id)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        _show(out)


@sellers_app.command("set")
@handle_errors
def sellers_set(
    external_id: str = typer.Argument(..., help="a provider or reseller account"),
    prefix: str | None = typer.Option(None, "--prefix", help="invoice number prefix, e.g. SKY"),
    display_name: str | None = typer.Option(None, "--display-name"),
    grace_hours: int | None = typer.Option(None, "--grace-hours", help="0-720"),
    net_terms: int | None = typer.Option(None, "--net-terms", help="days, 0-365"),
    rounding: str | None = typer.Option(None, "--rounding", help="half_up or half_even"),
    logo: Path | None = typer.Option(None, "--logo", help="a PNG, JPEG or GIF file"),
    color: str | None = typer.Option(None, "--color", help="primary colour, #RRGGBB"),
    accent: str | None = typer.Option(None, "--accent-color", help="accent colour, #RRGGBB"),
    address: str | None = typer.Option(None, "--address", help="lines separated by \\n"),
    tax_id: str | None = typer.Option(None, "--tax-id"),
    footer: str | None = typer.Option(None, "--footer", help="invoice footer text"),
    support_email: str | None = typer.Option(None, "--support-email"),
    support_phone: str | None = typer.Option(None, "--support-phone"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Change a seller's profile; options left out are kept."""
    given: dict[str, Any] = {
        "number_prefix": prefix, "display_name": display_name, "grace_hours": grace_hours,
        "net_terms_days": net_terms, "rounding_mode": rounding,
        # stored absolute: documents are rendered later, from whatever directory
        "logo_url": str(logo.expanduser().resolve()) if logo is not None else None,
        "primary_color": color, "accent_color": accent,
        "address": address.replace("\\n", "\n") if address is not None else None,
        "tax_id": tax_id, "invoice_footer": footer, "support_email": support_email,
        "support_phone": support_phone,
    }  # fmt: skip
    try:
        patch = ProfilePatch(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise _invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = profiles.update_profile(s, operator(rt), external_id, patch)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        _show(out)


@resellers_app.command("create")
@handle_errors
def resellers_create(
    external_id: str = typer.Argument(..., help="your id for the reseller (its event subject)"),
    name: str = typer.Option(..., "--name"),
    parent: str | None = typer.Option(None, "--parent", help="a seller below you (sub-reseller)"),
    markup: str = typer.Option("0", "--markup", help="percent added to every amount, e.g. 35"),
    template: str | None = typer.Option(
        None, "--template", help="the parent's price book to copy (default wholesale/default)"
    ),
    prefix: str | None = typer.Option(None, "--prefix", help="invoice number prefix"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA zone"),
    currency: str = typer.Option("USD", "--currency"),
    no_plans: bool = typer.Option(False, "--no-plans", help="do not copy the parent's plans"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Onboard a reseller: account, admin key, profile and a marked-up retail price book, in
    one transaction. The key's secret is printed alone on the last line, once."""
    try:
        body = ResellerCreate(
            external_id=external_id, name=name, parent=parent, markup=Decimal(markup),
            template=template, number_prefix=prefix, timezone=timezone, currency=currency,
            copy_plans=not no_plans,
        )  # fmt: skip
    except InvalidOperation:
        raise InvalidInput(
            "markup: not a number", [{"field": "markup", "message": "not a number"}]
        ) from None
    except ValidationError as exc:
        raise _invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.onboard(s, operator(rt), body)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    book = out.price_book
    console.print(
        f"created reseller '{out.account.external_id}' under '{out.account.parent}': "
        f"{len(book.prices)} price(s) and {len(book.plans)} plan(s) copied from "
        f"'{book.template_seller}/{book.template}' at +{book.markup}% into '{book.key}'"
        if book.template
        else f"created reseller '{out.account.external_id}' with an empty '{book.key}' book "
        f"(its parent has no template price book)"
    )
    console.print(f"invoice prefix {out.profile.number_prefix}; admin key {out.api_key.prefix}…")
    console.print("store the secret now; it is not shown again:")
    print(out.api_key.secret)
