"""The money CLI commands against a real data folder, with --json output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing.models import Invoice, InvoiceLine
from meterly.cli import app as cli_app
from meterly.config import Settings
from meterly.runtime import Runtime


def _invoice() -> int:
    """A finalized invoice of 100.00 for law-firm, written straight into the ledger."""
    rt = Runtime.open(Settings())
    try:
        with rt.ledger.unit_of_work() as s:
            c = s.scalar(select(Account).where(Account.external_id == "law-firm"))
            assert c is not None and c.parent_id is not None
            # a period around now: the coupon redeemed a moment ago is in force during it
            now = datetime.now(UTC)
            start, end = now - timedelta(days=1), now + timedelta(days=30)
            inv = Invoice(
                seller_id=c.parent_id,
                customer_id=c.id,
                currency="USD",
                period_start=start,
                period_end=end,
                status="draft",
            )
            s.add(inv)
            s.flush()
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    position=0,
                    kind="fee",
                    description="Seats",
                    product="uc-seat",
                    quantity=Decimal(4),
                    breakdown=[],
                    meta={},
                    precise_amount=Decimal(100),
                    amount=Decimal(100),
                )
            )
            s.flush()
            adjustments.apply(s, inv, end, final=True)
            inv.status, inv.number, inv.due_at = "finalized", "SKY-2026-000001", end
            return inv.id
    finally:
        rt.close()


def test_money_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERLY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if "--json" in args and code == 0 else result.output

    run("accounts", "create", "law-firm", "--name", "Law firm")
    g = run("credits", "grant", "law-firm", "--amount", "25.00", "--reason", "welcome", "--json")
    assert g["remaining"] == "25.00"
    run("credits", "grant", "law-firm", "--amount", "0", code=2)
    rate = {"key": "nj", "name": "NJ sales tax", "rate": "6.625"}
    assert run("tax-rates", "create", "--rate", json.dumps(rate), "--json")["key"] == "nj"
    assigned = run("tax-rates", "assign", "law-firm", "--rates", "nj", "--json")
    assert [r["key"] for r in assigned["applicable"]] == ["nj"]
    assert len(run("tax-rates", "list", "--json")) == 1
    c = run(
        "coupons",
        "create",
        "TEN",
        "--percent-off",
        "10",
        "--duration",
        "repeating",
        "--periods",
        "2",
        "--json",
    )
    assert (c["code"], c["duration_periods"]) == ("TEN", 2)
    run("coupons", "create", "BAD", "--percent-off", "10", "--duration", "repeating", code=2)
    assert run("coupons", "redeem", "law-firm", "TEN", "--json")["coupon"] == "TEN"
    assert run("coupons", "list", "--json")[0]["redemptions"] == 1
    inv = _invoice()  # 100.00 − 10% = 90.00; tax 5.96; credits 25.00; due 70.96
    paid = run("payments", "record", str(inv), "--amount", "70.96", "--method", "check", "--json")
    assert (paid["invoice_status"], paid["invoice_amount_due"]) == ("paid", "0.00")
    assert len(run("payments", "list", str(inv), "--json")) == 1
    cn = run(
        "credit-notes",
        "create",
        str(inv),
        "--reason",
        "outage",
        "--lines",
        '[{"position": 0, "amount": "10.00"}]',
        "--json",
    )
    assert (cn["number"], cn["total"]) == (f"SKY-CN-{datetime.now(UTC).year}-000001", "10.66")
    assert run("credit-notes", "show", str(cn["id"]), "--json")["total"] == "10.66"
    shown = run("credits", "show", "law-firm", "--json")
    assert shown["balances"] == {"USD": "10.66"}  # 25 spent on the invoice, 10.66 credited back
    assert "balance 10.66 USD" in run("credits", "show", "law-firm")
