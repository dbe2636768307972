"""`meterly demo` end to end (small): the scenario builds through the API, bills every month at
every tier, and its summary agrees with the invoices in the ledger."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.billing.models import Invoice
from meterly.config import Settings
from meterly.demo import cast
from meterly.demo.runner import DemoOptions, run
from meterly.runtime import Runtime

pytestmark = pytest.mark.slow


def test_small_demo_bills_every_month_and_agrees_with_the_ledger(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    data = tmp_path / "demo"
    demo = run(DemoOptions(data_dir=data, customers=16, months=2, serve=False, seed=3), console)
    text = out.getvalue()
    t = demo.tally
    assert t.accepted > 10_000 and t.duplicates > 0 and t.rejected > 0 and t.late > 0
    assert "Largest invoice" in text and "Top products" in text

    rt = Runtime.open(Settings(data_dir=data, provider_id="skyline"))
    try:
        assert rt.events.count() == t.accepted
        with rt.ledger.sessions() as s:
            names = {a.id: a.external_id for a in s.scalars(select(Account))}
            invoices = list(s.scalars(select(Invoice).where(Invoice.status != "void")))
        resellers = {r.external_id: r.name for r in cast.RESELLERS}
        # every end customer billed each month (one cancels in the second: still billed), and
        # every reseller billed wholesale by its own seller
        customers = {names[i.customer_id] for i in invoices}
        assert len(customers - set(resellers)) == 16
        assert set(resellers) <= customers
        assert all(i.status == "finalized" and i.number for i in invoices)
        # gapless numbers per seller
        by_seller: dict[int, list[int]] = defaultdict(list)
        for i in invoices:
            assert i.number is not None
            by_seller[i.seller_id].append(int(i.number.rsplit("-", 1)[1]))
        for numbers in by_seller.values():
            assert sorted(numbers) == list(range(1, len(numbers) + 1))
        # the summary's revenue per reseller is the ledger's, to the cent
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        for i in invoices:
            revenue[names[i.seller_id]] += i.subtotal
        for rid, amount in revenue.items():
            if rid in resellers:
                row = re.search(re.escape(resellers[rid]) + r"\s*│\s*([\d,]+\.\d\d)", text)
                assert row, (rid, text)
                assert Decimal(row.group(1).replace(",", "")) == amount
    finally:
        rt.close()
