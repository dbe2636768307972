"""CLI: `meterly portal link CUSTOMER` and `meterly portal revoke CUSTOMER`."""

from __future__ import annotations

import typer

from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.portal import service
from meterly.storage.ledger import utcnow

portal_app = typer.Typer(
    help="Customer portal links: a white-label billing page that needs no API key.",
    no_args_is_help=True,
)
_ACCOUNT = typer.Option(None, "--account", help="act as this account (default: the provider)")


@portal_app.command("link")
@handle_errors
def link_command(
    customer: str = typer.Argument(..., help="external_id of the customer"),
    ttl_minutes: int = typer.Option(
        service.DEFAULT_TTL_MINUTES, "--ttl-minutes", help="how long the link works (max 7 days)"
    ),
    account: str | None = _ACCOUNT,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Print a link to the customer's portal, to hand to the customer."""
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        link = service.create_session(s, operator(rt, account), customer, ttl_minutes, utcnow())
        base = rt.settings.public_url or f"http://{rt.settings.host}:{rt.settings.port}"
    url = service.link_url(base, link.path)
    if as_json:
        print_json({"id": link.id, "customer": link.customer, "url": url,
                    "expires_at": link.expires_at.isoformat()})  # fmt: skip
        return
    console.print(
        f"portal link for {link.customer} (expires {link.expires_at:%Y-%m-%d %H:%M} UTC):"
    )
    typer.echo(url)


@portal_app.command("revoke")
@handle_errors
def revoke_command(
    customer: str = typer.Argument(..., help="external_id of the customer"),
    account: str | None = _ACCOUNT,
) -> None:
    """End every open portal link of the customer."""
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        count = service.revoke_sessions(s, operator(rt, account), customer, utcnow())
    console.print(f"revoked {count} portal link(s) of {customer}")
