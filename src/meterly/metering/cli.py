"""CLI: meters and usage."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from pydantic import ValidationError
from rich.table import Table

from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.errors import InvalidInput
from meterly.metering import service, usage
from meterly.metering.schemas import MeterCreate
from meterly.metering.service import fmt_decimal

meters_app = typer.Typer(help="Meters: what to count from events.", no_args_is_help=True)


def invalid(exc: ValidationError) -> InvalidInput:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return InvalidInput("invalid definition", details)


@meters_app.command("create")
@handle_errors
def meters_create(
    key: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    event_type: str = typer.Option(..., "--event-type"),
    aggregation: str = typer.Option(
        "count",
        "--aggregation",
        help="count, sum, min, max, avg, unique_count, latest, time_weighted_avg",
    ),
    value: str | None = typer.Option(None, "--value", help="JSONPath, e.g. $.duration_seconds"),
    group_by: list[str] = typer.Option([], "--group-by", help="name=$.path (repeatable)"),
    filter_: list[str] = typer.Option(
        [], "--filter", help='JSON condition, e.g. {"path":"$.dir","op":"eq","value":"out"}'
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a meter (it covers events already stored)."""
    try:
        dims = dict(g.split("=", 1) for g in group_by)
        conds: list[Any] = [orjson.loads(f) for f in filter_]
        body = MeterCreate(
            key=key,
            name=name,
            event_type=event_type,
            aggregation=aggregation,
            value=value,
            group_by=dims,
            filter=conds,
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    except ValueError as exc:
        raise InvalidInput(f"bad --group-by or --filter: {exc}") from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_meter(s, operator(rt), body)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"created meter '{out.key}' ({out.aggregation} of {out.event_type})")


@meters_app.command("list")
@handle_errors
def meters_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List meters."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_meters(s, operator(rt))
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("key", "name", "event_type", "aggregation", "value", "group_by")
    for r in rows:
        table.add_row(
            r.key, r.name, r.event_type, r.aggregation, r.value or "", ", ".join(r.group_by)
        )
    console.print(table)


@handle_errors
def usage_command(
    meter: str = typer.Argument(..., help="meter key"),
    subject: str | None = typer.Option(None, "--subject", help="account external_id"),
    from_: str | None = typer.Option(None, "--from", help="inclusive, RFC 3339"),
    to: str | None = typer.Option(None, "--to", help="exclusive, RFC 3339"),
    window: str | None = typer.Option(None, "--window", help="minute, hour, day or month"),
    tz: str | None = typer.Option(None, "--tz", help="IANA zone (default: the account's)"),
    group_by: list[str] = typer.Option([], "--group-by", help="dimension (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Show a meter's usage, as a table or JSON."""
    with runtime() as rt, rt.ledger.sessions() as s:
        result = usage.query_usage(
            s,
            rt.events,
            operator(rt),
            meter,
            subject=subject,
            start=usage.parse_bound(from_, "from"),
            end=usage.parse_bound(to, "to"),
            window=window,
            tz=tz,
            group_by=group_by,
        )
    if as_json:
        print_json(result.as_dict())
        return
    table = Table("from", "to", "subject", *group_by, "value", title=f"{meter} ({result.tz})")
    for r in result.rows:
        table.add_row(
            r.start.isoformat(),
            r.end.isoformat(),
            r.subject or "",
            *[str(r.dimensions.get(d) or "") for d in group_by],
            fmt_decimal(r.value),
        )
    console.print(table)
