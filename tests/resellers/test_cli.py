"""`meterly resellers create` and `meterly sellers show|set` against a real data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterly.cli import app

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("METERLY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_onboard_and_brand_from_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "products", "create", "uc-seat", "--name", "Seat", "--kind", "seat")
    price = {"product": "uc-seat", "model": "per_unit", "unit_amount": "0.021"}
    run(cli, "price", "create", "--price", json.dumps(price), "--key", "seat")
    out = run(cli, "resellers", "create", "msp-a", "--name", "MSP A", "--markup", "35",
              "--prefix", "MSPA", "--timezone", "Europe/London")  # fmt: skip
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("mk_") and "MSPA" in out
    data = json.loads(run(cli, "resellers", "create", "msp-b", "--name", "B", "--json"))
    assert data["api_key"]["secret"].startswith("mk_")
    assert data["price_book"]["template"] == "default" and data["price_book"]["prices"] == ["seat"]

    shown = json.loads(run(cli, "sellers", "show", "msp-a", "--json"))
    assert shown["number_prefix"] == "MSPA" and shown["display_name"] == "MSP A"
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    set_out = run(cli, "sellers", "set", "msp-a", "--display-name", "Acme IT",
                  "--grace-hours", "24", "--net-terms", "14", "--logo", str(logo),
                  "--color", "#0A3D62", "--footer", "Thanks", "--support-email", "a@b.example",
                  "--json")  # fmt: skip
    assert json.loads(set_out)["logo_url"] == str(logo.resolve())
    table = run(cli, "sellers", "show", "msp-a")
    assert "Acme IT" in table and "#0A3D62" in table
    err = run(cli, "sellers", "set", "msp-a", "--color", "navy", code=2)
    assert "primary_color" in err
    run(cli, "sellers", "show", "nobody", code=1)
    err = run(cli, "resellers", "create", "x", "--name", "X", "--markup", "lots", code=2)
    assert "markup" in err
