"""The root CLI; each domain adds its commands from its own cli.py."""

from __future__ import annotations

import typer

from meterly.accounts.cli import accounts_app, keys_app
from meterly.billing.cli import bill_app, invoices_app
from meterly.billing.money.cli import (
    coupons_app,
    credit_notes_app,
    credits_app,
    payments_app,
    tax_app,
)
from meterly.catalog.cli import features_app, price_app, products_app
from meterly.chain.cli import report_app
from meterly.cli_support import console, handle_errors, runtime
from meterly.config import Settings
from meterly.demo.cli import demo_command
from meterly.documents.cli import documents_app, invoice_pdf
from meterly.ingest.cli import events_app
from meterly.metering.cli import meters_app, usage_command
from meterly.plans.cli import plans_app
from meterly.portal.cli import portal_app
from meterly.resellers.cli import resellers_app, sellers_app
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
    from meterly.jobs.worker import WorkerThread

    settings = Settings()
    application = create_app(settings)
    worker = WorkerThread(application.state.runtime) if settings.worker else None
    if worker is not None:
        worker.start()  # the embedded default: API and worker in one process
    try:
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.stop()


@app.command("worker")
@handle_errors
def worker_command(
    once: bool = typer.Option(False, "--once", help="run due work once, then exit"),
    interval: float = typer.Option(1.0, "--interval", help="seconds between idle polls"),
) -> None:
    """Run a worker on its own: bill runs, finalization, webhook delivery (Ctrl-C stops it)."""
    import threading

    from meterly.jobs.worker import Worker

    with runtime() as rt:
        worker = Worker(rt)
        if once:
            console.print(f"did {worker.run_until_idle()} unit(s) of work")
            return
        stop = threading.Event()
        try:
            worker.run_forever(stop, interval)
        except KeyboardInterrupt:
            stop.set()


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
app.add_typer(bill_app, name="bill")
app.add_typer(invoices_app, name="invoices")
app.add_typer(report_app, name="report")
invoices_app.command("pdf")(invoice_pdf)
app.add_typer(documents_app, name="documents")

app.add_typer(credits_app, name="credits")
app.add_typer(coupons_app, name="coupons")
app.add_typer(tax_app, name="tax-rates")
app.add_typer(payments_app, name="payments")
app.add_typer(credit_notes_app, name="credit-notes")
app.add_typer(sellers_app, name="sellers")
app.add_typer(resellers_app, name="resellers")
app.add_typer(portal_app, name="portal")


def main() -> None:
    app()
