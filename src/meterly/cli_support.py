"""Shared CLI plumbing: settings, the runtime, the operator principal, errors, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, principal_for
from meterly.config import Settings
from meterly.errors import MeterlyError, NotFound
from meterly.runtime import Runtime

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Domain errors become a one-line message on stderr and exit code 1 (2 for bad input)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MeterlyError as exc:
            err_console.print(f"[red]error[/red] ({exc.code}): {exc.message}", highlight=False)
            for d in exc.details:
                err_console.print(
                    f"  {d.get('field', '')}: {d.get('message', '')}", highlight=False
                )
            raise typer.Exit(2 if exc.status in (400, 413, 422) else 1) from None

    return wrapper


@contextmanager
def runtime(upgrade: bool = True) -> Iterator[Runtime]:
    try:
        rt = Runtime.open(Settings(), upgrade=upgrade)
    except Exception as exc:
        if "lock" in str(exc).lower():
            err_console.print(
                "[red]error[/red]: the data folder is in use by a running `meterly serve`; "
                "stop it, or use the HTTP API against it",
                highlight=False,
            )
            raise typer.Exit(1) from None
        raise
    try:
        yield rt
    finally:
        rt.close()


def operator(rt: Runtime, account: str | None = None) -> Principal:
    """The local operator acts as the provider, or as the named account when given."""
    with rt.ledger.sessions() as s:
        stmt = (
            select(Account).where(Account.external_id == account)
            if account
            else select(Account).where(Account.parent_id.is_(None))
        )
        found = s.scalar(stmt)
        if found is None:
            raise NotFound(f"account '{account}' not found")
        return principal_for(found)


def print_json(data: Any) -> None:
    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_SUBCLASS, default=str
        ).decode()
        + "\n"
    )
