"""CLI: API keys and accounts."""

from __future__ import annotations

import typer
from rich.table import Table

from meterly.accounts import keys, service
from meterly.accounts.schemas import AccountCreate
from meterly.accounts.scope import account_in_scope
from meterly.cli_support import console, handle_errors, operator, print_json, runtime

keys_app = typer.Typer(
    help="API keys (stored hashed; a secret is shown once).", no_args_is_help=True
)
accounts_app = typer.Typer(help="Accounts: provider, resellers, customers.", no_args_is_help=True)


@keys_app.command("create")
@handle_errors
def keys_create(
    name: str = typer.Option(..., "--name", help="A label for the key"),
    account: str | None = typer.Option(
        None, "--account", help="external_id of the account the key acts for (default: provider)"
    ),
) -> None:
    """Create an API key; its secret is printed alone on the last line, once."""
    with runtime() as rt:
        op = operator(rt)
        with rt.ledger.unit_of_work() as s:
            target = account_in_scope(s, op, account or op.external_id)
            key, secret = keys.create_key(s, target, name)
            console.print(f"key {key.prefix}… for account '{target.external_id}' ({name})")
            console.print("store the secret now; it is not shown again:")
    print(secret)


@accounts_app.command("create")
@handle_errors
def accounts_create(
    external_id: str = typer.Argument(..., help="Your id for the account (its event subject)"),
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option("customer", "--kind", help="reseller or customer"),
    parent: str | None = typer.Option(None, "--parent", help="parent external_id"),
    currency: str = typer.Option("USD", "--currency"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA zone, e.g. America/New_York"),
    alias: list[str] = typer.Option([], "--alias", help="extra event subject (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Create an account below the provider (or below --parent)."""
    try:
        body = AccountCreate(
            external_id=external_id,
            name=name,
            kind=kind,
            parent=parent,
            currency=currency,
            timezone=timezone,
            subject_aliases=alias,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with runtime() as rt:
        op = operator(rt)
        with rt.ledger.unit_of_work() as s:
            out = service.create_account(s, op, body)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"created {out.kind} '{out.external_id}' under '{out.parent}'")


@accounts_app.command("list")
@handle_errors
def accounts_list(
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    limit: int = typer.Option(1000, "--limit"),
) -> None:
    """List accounts."""
    with runtime() as rt:
        op = operator(rt)
        with rt.ledger.sessions() as s:
            rows, _ = service.list_accounts(s, op, limit=limit)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("external_id", "name", "kind", "parent", "currency", "timezone")
    for r in rows:
        table.add_row(r.external_id, r.name, r.kind, r.parent or "", r.currency, r.timezone)
    console.print(table)
