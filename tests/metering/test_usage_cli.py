"""`meterly usage` through the real CLI: the table and the --json output scripts read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterly.cli import app


def test_usage_command_json_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERLY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("accounts", "create", "ny", "--name", "NY", "--timezone", "America/New_York")
    run("meters", "create", "secs", "--name", "Seconds", "--event-type", "call",
        "--aggregation", "sum", "--value", "$.s")  # fmt: skip
    events = tmp_path / "e.jsonl"
    line = '{{"id": "{}", "type": "call", "subject": "ny", "time": "{}", "data": {{"s": {}}}}}\n'
    events.write_text(
        line.format(1, "2026-11-01T04:30:00Z", "0.1")
        + line.format(2, "2026-11-02T05:30:00Z", '"0.2"')
    )
    run("events", "import", str(events))
    out = run("usage", "secs", "--subject", "ny", "--from", "2026-11-01T04:00:00Z",
              "--to", "2026-11-03T05:00:00Z", "--window", "day", "--json")  # fmt: skip
    rows = json.loads(out)["rows"]
    # New York's 25-hour fall-back day, then the next local day
    assert [(r["from"], r["value"]) for r in rows] == [
        ("2026-11-01T04:00:00+00:00", "0.1"),
        ("2026-11-02T05:00:00+00:00", "0.2"),
    ]
    table = run("usage", "secs", "--subject", "ny", "--from", "2026-11-01T04:00:00Z",
                "--to", "2026-11-03T05:00:00Z")  # fmt: skip
    assert "0.3" in table
    bad = runner.invoke(app, ["usage", "secs", "--window", "week"])
    assert bad.exit_code == 2 and "window" in bad.output
