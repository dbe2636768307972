"""A month billed at every tier of a chain, to the cent (tests/chain/chain_scenario.py)."""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from chain_scenario import bill, build, charges, invoice_of, ok

from support import Env

D = Decimal

RETAIL = {"a1": "168.00", "a2": "123.00", "b1": "252.00", "c1": "69.30"}


def test_every_tier_is_billed_to_the_cent(env: Env) -> None:
    build(env)
    bill(env)
    for customer, subtotal in RETAIL.items():
        assert invoice_of(env, customer)["subtotal"] == subtotal, customer
    a = invoice_of(env, "msp-a")
    assert charges(a) == [
        ("Seat × 8 (1/2 of the period)", "8", "60.00"),  # pooled seats: 5 + 3, then 5 + 6
        ("Seat × 11 (1/2 of the period)", "11", "82.50"),
        ("Call minutes", "2500", "22.00"),  # pooled tiers: 1000 × 0.010 + 1500 × 0.008
        ("Fax pages — a1", "30", "1.00"),  # per customer: (30 − 10 free) × 0.05
        ("Fax pages — a2", "5", "0.00"),  # within a2's own 10 free pages
    ]
    assert a["subtotal"] == "165.50"
    b = invoice_of(env, "msp-b")
    assert ("Seat × 12", "12", "180.00") in charges(b)  # b1 10 + c1 2 (one level deeper)
    assert ("Call minutes", "400", "4.00") in charges(b)
    assert ("Fax pages — c1", "15", "0.25") in charges(b)
    assert not any(d.endswith("— b1") for d, _, _ in charges(b))  # no fax, no line
    assert b["subtotal"] == "184.25"
    c = invoice_of(env, "var-c")  # msp-b's wholesale invoice to its sub-reseller
    assert charges(c) == [("Seat × 2", "2", "36.00"), ("Call minutes", "300", "4.50"),
                          ("Fax pages", "15", "1.05")]  # fmt: skip
    assert c["subtotal"] == "41.55"


def test_breakdown_csv_sums_to_the_wholesale_invoice(env: Env) -> None:
    keys = build(env)
    bill(env)
    for reseller in ("msp-a", "msp-b", "var-c"):
        inv = invoice_of(env, reseller)
        r = env.get(f"/v1/invoices/{inv['id']}/breakdown.csv", key=keys[reseller])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert sum(D(x["amount"]) for x in rows) == D(inv["subtotal"])
        assert all(D(x["amount"]) >= 0 for x in rows)
    rows = list(csv.DictReader(io.StringIO(
        env.get(f"/v1/invoices/{invoice_of(env, 'msp-b')['id']}/breakdown.csv").text)))  # fmt: skip
    per: dict[tuple[str, str], D] = defaultdict(D)
    for x in rows:
        per[(x["product"], x["customer"])] += D(x["amount"])
    # seats 180.00 split by seats (10 : 2), minutes 4.00 by minutes (100 : 300)
    assert per[("uc-seat", "b1")] == D("150.00") and per[("uc-seat", "c1")] == D("30.00")
    assert per[("call-minutes", "b1")] == D("1.00") and per[("call-minutes", "c1")] == D("3.00")
    # scoped like the invoice: another reseller's key gets 404
    other = invoice_of(env, "msp-a")["id"]
    assert env.get(f"/v1/invoices/{other}/breakdown.csv", key=keys["msp-b"]).status_code == 404


def test_margin_adds_up_to_the_invoices(env: Env) -> None:
    keys = build(env)
    bill(env)
    out = ok(env.get("/v1/reports/margin?period=2026-11"), 200)
    rows = {r["reseller"]: r for r in out["rows"]}
    assert {k: (v["retail_revenue"], v["wholesale_cost"], v["margin"], v["margin_pct"])
            for k, v in rows.items()} == {
        "msp-a": ("291.00", "165.50", "125.50", "43.13"),
        "msp-b": ("293.55", "184.25", "109.30", "37.23"),  # b1 retail + var-c wholesale
        "var-c": ("69.30", "41.55", "27.75", "40.04"),
    }  # fmt: skip
    buyers = {"msp-a": ["a1", "a2"], "msp-b": ["b1", "var-c"], "var-c": ["c1"]}
    for r in rows.values():  # the report equals the invoices, to the cent
        sold = sum(D(invoice_of(env, c)["subtotal"]) for c in buyers[r["reseller"]])
        bought = D(invoice_of(env, r["reseller"])["subtotal"])
        assert (D(r["retail_revenue"]), D(r["wholesale_cost"])) == (sold, bought)
        assert D(r["margin"]) == sold - bought
    by = ok(env.get("/v1/reports/margin?period=2026-11&reseller=msp-b&group_by=customer"), 200)
    got = {r["customer"]: (r["retail_revenue"], r["wholesale_cost"]) for r in by["rows"]}
    assert got == {"b1": ("252.00", "151.00"), "c1": ("41.55", "33.25")}
    for group in ("customer", "product"):
        parts = ok(env.get(f"/v1/reports/margin?period=2026-11&group_by={group}"), 200)["rows"]
        for name, r in rows.items():
            mine = [p for p in parts if p["reseller"] == name]
            assert sum(D(p["margin"]) for p in mine) == D(r["margin"]), (group, name)
    # a reseller key sees only its own margin
    own = ok(env.get("/v1/reports/margin?period=2026-11", key=keys["msp-a"]), 200)["rows"]
    assert [r["reseller"] for r in own] == ["msp-a"]
    assert env.get("/v1/reports/margin?period=2026-11&reseller=msp-b",
                   key=keys["msp-a"]).status_code == 404  # fmt: skip
    assert env.get("/v1/reports/margin?period=2026-13").status_code == 422


def test_events_sent_by_a_reseller_count_for_its_customer_only(env: Env) -> None:
    keys = build(env)
    extra = [{"id": "by-msp-a", "type": "call.completed", "subject": "a1",
              "time": "2026-11-20T10:00:00Z", "data": {"minutes": "10"}}]  # fmt: skip
    assert env.post("/v1/events", extra, key=keys["msp-a"]).status_code == 202
    bill(env)
    assert invoice_of(env, "a1")["subtotal"] == "168.20"  # + 10 × 0.02
    assert ("Call minutes", "2510", "22.08") in charges(invoice_of(env, "msp-a"))
    assert ("Call minutes", "400", "4.00") in charges(invoice_of(env, "msp-b"))


def test_plans_echo_each_charges_wholesale_mode(env: Env) -> None:
    build(env)
    charges = {c["product"]: c["wholesale"] for c in env.get("/v1/plans/ws").json()["charges"]}
    assert charges == {"uc-seat": "pooled", "call-minutes": "pooled", "fax-page": "per_customer"}
