"""CLI: `meterly demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from meterly.cli_support import console


def demo_command(
    seed: int = typer.Option(7, "--seed", help="the same seed gives the same scenario"),
    customers: int = typer.Option(40, "--customers", help="end customers (the named cast first)"),
    months: int = typer.Option(3, "--months", help="months of usage from Aug 2026"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="keep serving after the summary"),
    data_dir: Path = typer.Option(
        Path("meterly-data/demo"), "--data-dir", help="wiped and rebuilt on every run"
    ),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Build the Skyline Voice scenario through the API, print a summary, then serve it."""
    from meterly.demo.runner import DemoOptions, run  # the whole app: only when demo runs

    run(
        DemoOptions(
            data_dir=data_dir, seed=seed, customers=customers, months=months, serve=serve, port=port
        ),
        console,
    )
