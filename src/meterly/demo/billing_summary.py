"""The billing half of the demo summary: invoices per tier, revenue and margin per reseller,
top products and the largest invoice — all read back through the public API."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.table import Table

from meterly.demo import cast

if TYPE_CHECKING:
    from meterly.demo.runner import Demo


def all_invoices(demo: Demo, url: str) -> list[dict[str, Any]]:
    from meterly.demo.runner import _check

    out: list[dict[str, Any]] = []
    after: int | None = None
    with demo.client(url, cast.PROVIDER[0]) as api:
        for _ in range(10_000):  # bounded pagination
            params: dict[str, Any] = {"limit": 1000, "expand": "lines"}
            if after is not None:
                params["after"] = after
            page = _check(api.get("/v1/invoices", params=params))["data"]
            if not page:
                break
            out += page
            after = page[-1]["id"]
    return out


def print_billing(demo: Demo, url: str) -> dict[str, Any]:
    con = demo.console
    invoices = [i for i in all_invoices(demo, url) if i["status"] != "void"]
    resellers = {r.external_id: r.name for r in cast.RESELLERS}
    retail: dict[str, Decimal] = defaultdict(Decimal)  # reseller -> its customers' invoices
    wholesale: dict[str, Decimal] = defaultdict(Decimal)  # reseller -> what it was invoiced
    per_tier: dict[str, int] = defaultdict(int)
    products: dict[str, Decimal] = defaultdict(Decimal)
    for inv in invoices:
        subtotal = Decimal(inv["subtotal"])
        if inv["customer"] in resellers:
            wholesale[inv["customer"]] += subtotal
            if inv["seller"] in resellers:  # a reseller's sales to its sub-reseller
                retail[inv["seller"]] += subtotal
            per_tier[f"{inv['seller']} → resellers"] += 1
        else:
            retail[inv["seller"]] += subtotal
            per_tier[f"{inv['seller']} → customers"] += 1
            for line in inv["lines"]:
                if line.get("product"):
                    products[line["product"]] += Decimal(line["amount"])
    statuses: dict[str, int] = defaultdict(int)
    for inv in invoices:
        statuses[inv["status"]] += 1
    con.print(
        f"\n[bold]Invoices[/bold]: {len(invoices)} "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}); "
        + ", ".join(f"{k}: {v}" for k, v in sorted(per_tier.items()))
    )
    t = Table(title="Revenue and margin per reseller (subtotals, USD)")
    for col in ("reseller", "retail revenue", "wholesale cost", "margin", "margin %"):
        t.add_column(col, justify="left" if col == "reseller" else "right")
    for rid, name in resellers.items():
        rev, cost = retail.get(rid, Decimal(0)), wholesale.get(rid, Decimal(0))
        pct = f"{(rev - cost) / rev * 100:.1f}" if rev and cost else "-"
        t.add_row(
            name,
            f"{rev:,.2f}",
            f"{cost:,.2f}" if cost else "-",
            f"{rev - cost:,.2f}" if cost else "-",
            pct,
        )
    con.print(t)
    tp = Table(title="Top products (retail)")
    tp.add_column("product")
    tp.add_column("amount", justify="right")
    for key, amount in sorted(products.items(), key=lambda kv: kv[1], reverse=True)[:6]:
        tp.add_row(key, f"{amount:,.2f}")
    con.print(tp)
    if invoices:
        big = max(invoices, key=lambda i: Decimal(i["total"]))
        con.print(
            f"[bold]Largest invoice[/bold]: {big['number'] or big['id']} from {big['seller']} "
            f"to {big['customer']}, {big['period_start'][:7]}: {big['currency']} {big['total']}"
        )
    return {"invoices": len(invoices), "retail": dict(retail), "wholesale": dict(wholesale)}
