"""CLI: plans (create from JSON, list, show, edit into a new version, migrate subscriptions)."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from meterly.catalog.cli import invalid, load_json
from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.metering.usage import parse_bound
from meterly.plans import service
from meterly.plans.schemas import PlanCreate, PlanOut, PlanPatch
from meterly.subscriptions.changes import migrate_plan

plans_app = typer.Typer(help="Plans: versioned charges and entitlements.", no_args_is_help=True)


def _show(out: PlanOut, as_json: bool) -> None:
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(
        f"plan '{out.key}' v{out.version} ({out.name}, {out.currency} per {out.interval})"
    )
    for c in out.charges:
        console.print(f"  charge {c.product} [{c.kind}] {c.price['model']}")
    for e in out.entitlements:
        console.print(
            f"  entitles {e.feature}"
            + (f" up to {e.limit} ({'hard' if e.hard else 'soft'})" if e.limit else "")
        )


@plans_app.command("create")
@handle_errors
def plans_create(
    plan: str | None = typer.Option(None, "--plan", help="the plan JSON"),
    plan_file: Path | None = typer.Option(None, "--plan-file", help="a file with the plan JSON"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a plan from JSON: key, name, currency, interval, ladder, level, charges,
    entitlements (see docs/catalog.md)."""
    try:
        body = PlanCreate.model_validate(load_json(plan, plan_file, "plan"))
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_plan(s, operator(rt), body)
    _show(out, as_json)


@plans_app.command("update")
@handle_errors
def plans_update(
    key: str = typer.Argument(...),
    plan: str | None = typer.Option(None, "--plan", help="the fields to change, as JSON"),
    plan_file: Path | None = typer.Option(None, "--plan-file"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Edit a plan: a new version (subscriptions stay on theirs until `plans migrate`)."""
    try:
        body = PlanPatch.model_validate(load_json(plan, plan_file, "plan"))
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.update_plan(s, operator(rt), key, body)
    _show(out, as_json)


@plans_app.command("show")
@handle_errors
def plans_show(
    key: str = typer.Argument(...),
    version: int | None = typer.Option(None, "--version"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a plan (its latest version unless --version)."""
    with runtime() as rt, rt.ledger.sessions() as s:
        out = service.get_plan(s, operator(rt), key, version)
    _show(out, as_json)


@plans_app.command("list")
@handle_errors
def plans_list(
    ladder: str | None = typer.Option(None, "--ladder", help="one feature ladder, by level"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List plans (latest versions)."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_plans(s, operator(rt), ladder)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("key", "name", "version", "ladder", "level", "currency", "interval")
    for r in rows:
        table.add_row(
            r.key,
            r.name,
            str(r.version),
            r.ladder or "",
            str(r.level or ""),
            r.currency,
            r.interval,
        )
    console.print(table)


@plans_app.command("migrate")
@handle_errors
def plans_migrate(
    plan: str = typer.Argument(..., help="plan key"),
    to_version: int | None = typer.Option(None, "--to-version", help="default: the latest"),
    at: str | None = typer.Option(None, "--at", help="effective time, RFC 3339 (default now)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Move the plan's subscriptions to a version, recorded as a change on each."""
    when = parse_bound(at, "at")
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = migrate_plan(s, operator(rt), plan, to_version, when)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(
            f"moved {len(out.migrated)} subscription(s) to '{out.plan}' v{out.to_version}"
        )
