"""A chain billed for November 2026 (30 days, UTC), shared by the chain tests.

skyline (provider) sells wholesale plan `ws` to msp-a and msp-b:
  seat 15.00 pooled; call minutes graduated pooled (1,000 at 0.010, then 0.008);
  fax pages per_customer (10 free, then 0.05).
msp-b sells its wholesale plan `ws-b` to its sub-reseller var-c: seat 18.00, minutes 0.015,
  fax 0.07 (all pooled).
Retail plans `retail`: msp-a and msp-b seat 25.00, minutes 0.02, fax 0.10; var-c seat 30.00,
  minutes 0.025, fax 0.12.
End customers: a1 (msp-a) 5 seats, 2,000 min, 30 fax; a2 (msp-a) 3 seats then 6 from Nov 16,
  500 min, 5 fax; b1 (msp-b) 10 seats, 100 min; c1 (var-c, under msp-b) 2 seats, 300 min, 15 fax.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from meterly.jobs.worker import Worker
from support import Env

NOV = "2026-11-01T00:00:00Z"
AS_OF = "2026-12-01T00:00:00Z"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def grad(*tiers: tuple[str | None, str]) -> dict[str, Any]:
    return {"model": "graduated",
            "tiers": [{"up_to": u, "unit_amount": a} for u, a in tiers]}  # fmt: skip


def unit(amount: str) -> dict[str, Any]:
    return {"model": "per_unit", "unit_amount": amount}


def plan(env: Env, key: str, seat: str, calls: dict[str, Any], fax: dict[str, Any],
         owner: str | None = None, fax_mode: str = "pooled") -> None:  # fmt: skip
    charges = [
        {"product": "uc-seat", "price": unit(seat), "description": "Seat"},
        {"product": "call-minutes", "meter": "call-minutes", "price": calls,
         "description": "Call minutes"},
        {"product": "fax-page", "meter": "fax-pages", "price": fax, "description": "Fax pages",
         "wholesale": fax_mode},
    ]  # fmt: skip
    ok(env.post("/v1/plans", {"key": key, "name": key, "charges": charges}, key=owner))


def subscribe(env: Env, customer: str, plan_key: str, qty: str, key: str | None) -> int:
    body = {"customer": customer, "plan": plan_key, "start": NOV, "quantity": qty}
    return int(ok(env.post("/v1/subscriptions", body, key=key))["id"])


def events(subject: str, kind: str, values: list[str], prefix: str) -> list[dict[str, Any]]:
    out = []
    for i, v in enumerate(values):
        data = {"minutes": v} if kind == "call.completed" else {}
        out.append(
            {
                "id": f"{prefix}-{i}",
                "type": kind,
                "subject": subject,
                "time": f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
                "data": data,
            }
        )
    return out  # fmt: skip


def send(env: Env, batch: list[dict[str, Any]]) -> None:
    for i in range(0, len(batch), 1000):
        r = env.post("/v1/events", batch[i : i + 1000])
        assert r.status_code == 202, r.text


def build(env: Env) -> dict[str, str]:
    """Accounts, plans, subscriptions and usage; returns the reseller keys."""
    ok(env.post("/v1/meters", {"key": "fax-pages", "name": "Fax", "event_type": "fax.sent",
                               "aggregation": "count"}))  # fmt: skip
    ok(env.post("/v1/meters", {"key": "call-minutes", "name": "Minutes", "aggregation": "sum",
                               "event_type": "call.completed", "value": "$.minutes"}))  # fmt: skip
    for key, kind in [("uc-seat", "seat"), ("call-minutes", "usage"), ("fax-page", "usage")]:
        ok(env.post("/v1/products", {"key": key, "name": key, "kind": kind}))
    plan(env, "ws", "15.00", grad(("1000", "0.010"), (None, "0.008")),
         grad(("10", "0"), (None, "0.05")), fax_mode="per_customer")  # fmt: skip
    keys = {}
    for msp in ("msp-a", "msp-b"):
        env.account(msp, kind="reseller")
        keys[msp] = env.key_for(msp)
        plan(env, "retail", "25.00", unit("0.02"), unit("0.10"), owner=keys[msp])
        subscribe(env, msp, "ws", "1", None)
    env.account("var-c", kind="reseller", parent="msp-b")
    keys["var-c"] = env.key_for("var-c")
    plan(env, "ws-b", "18.00", unit("0.015"), unit("0.07"), owner=keys["msp-b"])
    subscribe(env, "var-c", "ws-b", "1", keys["msp-b"])
    plan(env, "retail", "30.00", unit("0.025"), unit("0.12"), owner=keys["var-c"])
    for cust, seller, seats in [("a1", "msp-a", "5"), ("a2", "msp-a", "3"), ("b1", "msp-b", "10"),
                                ("c1", "var-c", "2")]:  # fmt: skip
        env.account(cust, parent=seller)
        sub = subscribe(env, cust, "retail", seats, keys[seller])
        if cust == "a2":
            change = {"type": "quantity", "quantity": "6", "effective_at": "2026-11-16T00:00:00Z"}
            ok(env.post(f"/v1/subscriptions/{sub}/changes", change, key=keys[seller]))
    usage = {"a1": ("2000", 30), "a2": ("500", 5), "b1": ("100", 0), "c1": ("300", 15)}
    for cust, (minutes, pages) in usage.items():
        send(env, events(cust, "call.completed", [minutes], f"{cust}-call"))
        send(env, events(cust, "fax.sent", ["1"] * pages, f"{cust}-fax"))
    return keys


def bill(env: Env) -> None:
    ok(env.post("/v1/bill-runs", {"as_of": AS_OF}), 202)
    Worker(env.runtime, clock=lambda: NOW).run_until_idle()


def invoice_of(env: Env, customer: str) -> dict[str, Any]:
    found = ok(env.get(f"/v1/invoices?customer={customer}"), 200)["data"]
    assert len(found) == 1, found
    return ok(env.get(f"/v1/invoices/{found[0]['id']}"), 200)


def charges(invoice: dict[str, Any]) -> list[tuple[str, str, str]]:
    kinds = {"fee", "usage", "proration", "one_off", "minimum", "adjustment"}
    return [(x["description"], x["quantity"], x["amount"]) for x in invoice["lines"]
            if x["kind"] in kinds]  # fmt: skip
