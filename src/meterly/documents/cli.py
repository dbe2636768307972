"""CLI: `meterly invoices pdf ID` and `meterly documents invoice|credit-note ID --format`."""

from __future__ import annotations

from pathlib import Path

import typer

from meterly.cli_support import console, handle_errors, operator, runtime
from meterly.documents.render import Format, Kind, document
from meterly.errors import InvalidInput

documents_app = typer.Typer(
    help="Invoice and credit-note documents (PDF, HTML, CSV) in the seller's brand.",
    no_args_is_help=True,
)

_OUT = typer.Option(None, "--out", "-o", help="file to write (default: the number + extension)")
_FORMAT = typer.Option("pdf", "--format", "-f", help="pdf | html | csv")
_ACCOUNT = typer.Option(None, "--account", help="act as this account (default: the provider)")


def _write(kind: Kind, object_id: int, fmt: str, out: Path | None, account: str | None) -> None:
    if fmt not in ("pdf", "html", "csv"):
        raise InvalidInput(f"--format: expected pdf, html or csv, not '{fmt}'")
    chosen: Format = "pdf" if fmt == "pdf" else "html" if fmt == "html" else "csv"
    with runtime() as rt, rt.ledger.sessions() as s:
        rendered = document(s, operator(rt, account), kind, object_id, chosen)
    path = out or Path(rendered.filename)
    if str(path) == "-":
        typer.echo(rendered.body, nl=False)  # for pipes: `meterly invoices pdf 7 -o - | lpr`
        return
    path.write_bytes(rendered.body)
    console.print(f"wrote {path} ({len(rendered.body):,} bytes)", highlight=False)


@handle_errors
def invoice_pdf(
    invoice_id: int = typer.Argument(..., help="invoice id"),
    out: Path | None = _OUT,
    account: str | None = _ACCOUNT,
) -> None:
    """Write an invoice as PDF (named after its number unless --out is given; '-' for stdout)."""
    _write("invoice", invoice_id, "pdf", out, account)


@documents_app.command("invoice")
@handle_errors
def invoice_document(
    invoice_id: int = typer.Argument(..., help="invoice id"),
    fmt: str = _FORMAT,
    out: Path | None = _OUT,
    account: str | None = _ACCOUNT,
) -> None:
    """Write an invoice as PDF, HTML or CSV."""
    _write("invoice", invoice_id, fmt, out, account)


@documents_app.command("credit-note")
@handle_errors
def credit_note_document(
    credit_note_id: int = typer.Argument(..., help="credit note id"),
    fmt: str = _FORMAT,
    out: Path | None = _OUT,
    account: str | None = _ACCOUNT,
) -> None:
    """Write a credit note as PDF, HTML or CSV."""
    _write("credit_note", credit_note_id, fmt, out, account)
