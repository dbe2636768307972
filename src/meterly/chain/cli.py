"""CLI: `meterly report margin`."""

from __future__ import annotations

import typer
from rich.table import Table

from meterly.chain.margin import margin_report
from meterly.cli_support import console, handle_errors, operator, print_json, runtime

report_app = typer.Typer(help="Reports: margin per reseller.", no_args_is_help=True)


@report_app.command("margin")
@handle_errors
def margin_command(
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    reseller: str | None = typer.Option(None, "--reseller", help="one reseller"),
    group_by: str | None = typer.Option(None, "--group-by", help="customer | product"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Retail revenue, wholesale cost, margin and margin % per reseller for a month."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = margin_report(s, operator(rt), period, reseller, group_by)
    if as_json:
        print_json(out)
        return
    cols = ["reseller", *([group_by] if group_by else []), "currency", "retail_revenue",
            "wholesale_cost", "margin", "margin_pct"]  # fmt: skip
    table = Table(*cols, title=f"margin {period}")
    for row in out["rows"]:
        table.add_row(*[str(row.get(c) if row.get(c) is not None else "") for c in cols])
    console.print(table)
