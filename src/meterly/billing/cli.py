"""CLI: `meterly bill run` (in-process, with a progress bar) and `meterly invoices ...`."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meterly.billing import service
from meterly.billing.run import execute, open_run
from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.errors import Forbidden
from meterly.metering.usage import parse_bound
from meterly.storage.ledger import utcnow

bill_app = typer.Typer(help="Bill runs.", no_args_is_help=True)
invoices_app = typer.Typer(help="Invoices: list, show, finalize, void.", no_args_is_help=True)


@bill_app.command("run")
@handle_errors
def bill_run(
    as_of: str | None = typer.Option(None, "--as-of", help="RFC 3339 (default now)"),
    account: str | None = typer.Option(None, "--account", help="bill as this seller"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Invoice every subscription period that ended at or before --as-of; safe to rerun."""
    at = parse_bound(as_of, "as_of") or utcnow()
    with runtime() as rt:
        principal = operator(rt, account)
        if principal.kind == "customer":
            raise Forbidden("a customer account sells nothing: bill runs are for sellers")
        with rt.ledger.unit_of_work() as s:
            run, _ = open_run(s, principal, at)
            run_id = run.id
        columns = (
            TextColumn("billing"), BarColumn(), MofNCompleteColumn(), TextColumn("subscriptions"),
            TimeElapsedColumn(),
        )  # fmt: skip
        with Progress(*columns, console=console, disable=as_json, transient=True) as bar:
            task = bar.add_task("bill", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = execute(rt.ledger, rt.events, run_id, progress=step)
        with rt.ledger.sessions() as s:
            out = service.get_bill_run(s, principal, run_id)
    if as_json:
        print_json({**out.model_dump(mode="json"), "created": result.created,
                    "existing": result.existing})  # fmt: skip
        return
    console.print(
        f"bill run {out.id} as of {out.as_of.isoformat()}: {out.status}; "
        f"{result.created} invoice(s) created, {result.existing} already there"
    )
    for currency, total in out.totals.items():
        console.print(f"  total {currency} {total}")
    for err in out.errors:
        console.print(
            f"  [red]error[/red] {err['customer']} (subscription {err['subscription']}, "
            f"period {err['period_start']}): {err['error']}",
            highlight=False,
        )
    if out.errors:
        raise typer.Exit(1)


@invoices_app.command("list")
@handle_errors
def invoices_list(
    customer: str | None = typer.Option(None, "--customer"),
    status: str | None = typer.Option(None, "--status"),
    period: str | None = typer.Option(None, "--period", help="YYYY-MM (customer's time zone)"),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List invoices, newest first."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_invoices(s, operator(rt), customer, status, period, limit)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "number", "status", "customer", "period", "currency", "total", "due")
    for r in rows:
        period = r.period_start.date().isoformat()
        table.add_row(
            str(r.id), r.number or "—", r.status, r.customer, period, r.currency, r.total,
            r.amount_due,
        )  # fmt: skip
    console.print(table)


@invoices_app.command("show")
@handle_errors
def invoices_show(
    invoice_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Show an invoice with its lines."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = service.get_invoice(s, operator(rt), invoice_id)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(
        f"invoice {out.number or '(no number yet)'} ({out.status}) {out.seller} → {out.customer}, "
        f"{out.period_start.date()} – {out.period_end.date()}",
        highlight=False,
    )
    table = Table("kind", "description", "quantity", "amount")
    for ln in out.lines:
        table.add_row(ln.kind, ln.description, ln.quantity or "", ln.amount)
    console.print(table)
    console.print(f"subtotal {out.subtotal}  tax {out.tax_total}  total {out.currency} {out.total}"
                  f"  due {out.amount_due}", highlight=False)  # fmt: skip


@invoices_app.command("finalize")
@handle_errors
def invoices_finalize(
    invoice_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Finalize a draft now: rebuilt from current usage, numbered, frozen."""
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.finalize_invoice(s, rt.events, operator(rt), invoice_id, utcnow())
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"invoice {out.id} finalized as {out.number}: {out.currency} {out.total}")


@invoices_app.command("void")
@handle_errors
def invoices_void(
    invoice_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Void a finalized, unpaid invoice."""
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.void_invoice(s, operator(rt), invoice_id, utcnow())
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"invoice {out.number} voided")
