"""The root CLI; each domain adds its commands from its own cli.py."""

from __future__ import annotations

import typer

from meterly.accounts.cli import accounts_app, keys_app
from meterly.catalog.cli import features_app, price_app, products_app
from meterly.cli_support import console, handle_errors, runtime
from meterly.config import Settings
from meterly.demo.cli import demo_command
from meterly.ingest.cli import events_app
from meterly.metering.cli import meters_app, usage_command
from meterly.plans.cli import plans_app
from meterly.subscriptions.cli import entitlements_app, purchases_app, subscriptions_app

app = typer.Typer(
    help="Meterly: count, bill, monitor and drive micro-transactions through reseller chains.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Apply migrations (and create the provider account on first run)."""
    with runtime(upgrade=True):
        pass
    console.print("ledger is up to date")


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, "--host", help="default METERLY_HOST or 127.0.0.1"),
    port: int | None = typer.Option(None, "--port", help="default METERLY_PORT or 8000"),
) -> None:
    """Serve the API (migrations are applied at start)."""
    import uvicorn

    from meterly.app import create_app

    settings = Settings()
    application = create_app(settings)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        access_log=False,
    )


app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")
app.add_typer(meters_app, name="meters")
app.add_typer(events_app, name="events")
app.command("usage")(usage_command)
app.command("demo")(demo_command)
app.add_typer(products_app, name="products")
app.add_typer(features_app, name="features")
app.add_typer(price_app, name="price")
app.add_typer(plans_app, name="plans")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(purchases_app, name="purchases")
app.add_typer(entitlements_app, name="entitlements")


def main() -> None:
    app()
