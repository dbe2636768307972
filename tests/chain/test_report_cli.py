"""`meterly report margin` on the billed chain (the same ledger the API wrote)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from chain_scenario import bill, build

from meterly.cli import app
from support import Env


def test_report_margin_prints_a_table_and_json(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    build(env)
    bill(env)
    s = env.runtime.settings
    monkeypatch.setenv("METERLY_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("METERLY_LEDGER_URL", str(s.ledger_url))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    cli = CliRunner()
    out = cli.invoke(app, ["report", "margin", "--period", "2026-11", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["reseller"]: r["margin"] for r in json.loads(out.output)["rows"]}
    assert rows == {"msp-a": "125.50", "msp-b": "109.30", "var-c": "27.75"}
    table = cli.invoke(app, ["report", "margin", "--period", "2026-11", "--reseller", "msp-a",
                             "--group-by", "customer"])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "msp-a" in table.output and "a1" in table.output and "msp-b" not in table.output
    bad = cli.invoke(app, ["report", "margin", "--period", "2026-13"])
    assert bad.exit_code != 0
