"""CLI: subscriptions, changes, purchases, the upcoming invoice and entitlement checks."""

from __future__ import annotations

import typer
from pydantic import TypeAdapter, ValidationError

from meterly.catalog.cli import invalid, load_json
from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.metering.usage import parse_bound
from meterly.subscriptions import entitlements, purchases, service
from meterly.subscriptions.changes import apply_change
from meterly.subscriptions.schemas import ChangeIn, PurchaseIn, SubscriptionCreate, SubscriptionOut
from meterly.subscriptions.upcoming import upcoming

subscriptions_app = typer.Typer(help="Subscriptions and their changes.", no_args_is_help=True)
entitlements_app = typer.Typer(help="Entitlement checks.", no_args_is_help=True)
purchases_app = typer.Typer(help="One-off purchases (hardware, set-up fees).", no_args_is_help=True)
_CHANGE: TypeAdapter[ChangeIn] = TypeAdapter(ChangeIn)


def _show(out: SubscriptionOut, as_json: bool) -> None:
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(
            f"subscription {out.id}: '{out.customer}' on '{out.plan}' v{out.version}, "
            f"quantity {out.quantity}, {out.status}"
        )


@subscriptions_app.command("create")
@handle_errors
def subscriptions_create(
    customer: str = typer.Option(..., "--customer"),
    plan: str = typer.Option(..., "--plan"),
    quantity: str = typer.Option("1", "--quantity", help="seats"),
    start: str | None = typer.Option(None, "--start", help="RFC 3339 (default now)"),
    trial_days: int = typer.Option(0, "--trial-days"),
    billing_anchor: int | None = typer.Option(None, "--billing-anchor", help="day of month"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Subscribe a customer to a plan (add-ons: use the API or `subscriptions change`)."""
    try:
        body = SubscriptionCreate(
            customer=customer, plan=plan, quantity=quantity, start=parse_bound(start, "start"),
            trial_days=trial_days, billing_anchor=billing_anchor,
        )  # fmt: skip
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_subscription(s, operator(rt), body)
    _show(out, as_json)


@subscriptions_app.command("list")
@handle_errors
def subscriptions_list(
    customer: str | None = typer.Option(None, "--customer"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List subscriptions."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_subscriptions(s, operator(rt), customer)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        _show(r, False)


@subscriptions_app.command("change")
@handle_errors
def subscriptions_change(
    sub_id: int = typer.Argument(...),
    change: str = typer.Option(
        ..., "--change", help='JSON, e.g. {"type": "quantity", "quantity": "12"}'
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a change: quantity, plan, add_on_added, add_on_removed or cancel."""
    try:
        body = _CHANGE.validate_python(load_json(change, None, "change"))
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = apply_change(s, operator(rt), sub_id, body)
    _show(out, as_json)


@subscriptions_app.command("upcoming")
@handle_errors
def subscriptions_upcoming(
    customer: str = typer.Argument(...),
    at: str | None = typer.Option(None, "--at", help="as of (RFC 3339; default now)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The invoice the customer would get at the end of the current period."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = upcoming(s, rt.events, operator(rt), customer, None, parse_bound(at, "at"))
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    for line in out.lines:
        console.print(f"{line.amount:>12}  {line.description}", highlight=False)
    console.print(f"{out.subtotal:>12}  subtotal {out.currency}", highlight=False)


@purchases_app.command("create")
@handle_errors
def purchases_create(
    purchase: str = typer.Option(..., "--purchase", help="the purchase JSON"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a one-off purchase, billed on the next invoice."""
    try:
        body = PurchaseIn.model_validate(load_json(purchase, None, "purchase"))
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = purchases.create_purchase(s, operator(rt), body)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"purchase {out.id}: {out.description} {out.amount} {out.currency}")


@entitlements_app.command("check")
@handle_errors
def entitlements_check(
    customer: str = typer.Argument(...),
    feature: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Whether the customer may use the feature now (exit code 3 when refused)."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = entitlements.check(s, rt.events, operator(rt), customer, feature)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        limit = f" (used {out.used} of {out.limit})" if out.limit is not None else ""
        console.print(f"{customer} {'may' if out.has_access else 'may not'} use {feature}{limit}")
    if not out.has_access:
        raise typer.Exit(3)
