"""CLI: events (import lands here)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from meterly.cli_support import console, err_console, handle_errors, operator, print_json, runtime
from meterly.ingest.importer import CHUNK_EVENTS, ImportSummary, import_file, plan_import

events_app = typer.Typer(help="Events: import files, list.", no_args_is_help=True)


@events_app.command("import")
@handle_errors
def events_import(
    path: Path = typer.Argument(..., help="A JSONL, CSV or Parquet file of events"),
    fmt: str | None = typer.Option(
        None, "--format", help="jsonl, csv or parquet; default from the file extension"
    ),
    maps: list[str] = typer.Option(
        [],
        "--map",
        help="CSV/Parquet: COLUMN=FIELD, FIELD one of id, source, type, subject, time "
        "or data.NAME (repeatable)",
    ),
    account: str | None = typer.Option(
        None, "--account", help="import as this account (external id); default the provider"
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="rejected records, one JSON line each; default PATH.rejects.jsonl"
    ),
    chunk_size: int = typer.Option(
        CHUNK_EVENTS, "--chunk-size", min=1, help="events validated and stored per batch"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Import events from a file: validated and deduplicated like the HTTP API; safe to re-run."""
    plan = plan_import(path, fmt, maps, rejects, chunk_size)
    unit = "rows" if plan.format == "parquet" else "bytes"
    with (
        runtime() as rt,
        Progress(
            TextColumn(f"importing {path.name}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn(f"{{task.completed:,}}/{{task.total:,}} {unit}"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        ) as progress,
    ):
        principal = operator(rt, account)
        task = progress.add_task("import", total=plan.total)
        try:
            summary = import_file(
                rt, principal, plan, lambda done: progress.update(task, completed=done)
            )
        except KeyboardInterrupt:
            err_console.print(
                "interrupted: the events stored so far are kept; run the same command again "
                "to import the rest (stored events come back as duplicates)",
                highlight=False,
            )
            raise typer.Exit(130) from None
    if as_json:
        print_json(summary.as_dict())
    else:
        _print_summary(summary)


def _print_summary(s: ImportSummary) -> None:
    console.print(
        f"imported {s.path} ({s.format}): {s.records:,} records in {s.elapsed_s:.1f} s "
        f"({s.events_per_s:,} events/s)",
        highlight=False,
        soft_wrap=True,
    )
    for label, value in (
        ("accepted", s.accepted),
        ("duplicates", s.duplicates),
        ("unattributed", s.unattributed),
        ("rejected", s.rejected),
    ):
        console.print(f"  {label:<13}{value:>12,}", highlight=False)
    if s.rejects_file:
        console.print(f"  rejected records: {s.rejects_file}", highlight=False, soft_wrap=True)
