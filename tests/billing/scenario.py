"""A month of hosted telephony for three customers, billed to the cent (reusable fixture).

November 2026 (30 days, UTC): Skyline sells directly to
- law-firm: Basic, 10 seats from Nov 1, 14 seats from Nov 11 (a mid-month seat change);
  150 fax pages, 1,234.5 call minutes;
- preschool: Basic, 5 seats, upgraded to Pro on Nov 16 (call minutes change price there);
  100 call minutes before the upgrade, 200 after, 20 fax pages;
- sole-prop: Paid-ahead plan (seat in advance), two desk phones bought on Nov 5, 10 minutes.

`EXPECTED` lists every charge line of each November invoice (kind, description start, amount)
and the subtotal; the money tests add a coupon, prepaid credits and taxes on top.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from support import Env

NOV = "2026-11-01T00:00:00Z"
DEC = "2026-12-01T00:00:00Z"
AS_OF = DEC

FAX = {
    "model": "graduated",
    "tiers": [{"up_to": "100", "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.05"}],
}


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def seat(amount: str, timing: str = "in_arrears") -> dict[str, Any]:
    price = {"model": "per_unit", "unit_amount": amount, "timing": timing}
    return {"product": "uc-seat", "price": price, "description": "Seat"}


def calls(rate: str) -> dict[str, Any]:
    return {
        "product": "call-minutes", "meter": "call-minutes", "description": "Call minutes",
        "price": {"model": "per_unit", "unit_amount": rate},
    }  # fmt: skip


def fax() -> dict[str, Any]:
    return {"product": "fax-page", "meter": "fax-pages", "price": FAX, "description": "Fax pages"}


def build_catalog(env: Env) -> None:
    ok(env.post("/v1/meters", {"key": "fax-pages", "name": "Fax pages", "event_type": "fax.sent",
                               "aggregation": "count"}))  # fmt: skip
    ok(env.post("/v1/meters", {"key": "call-minutes", "name": "Call minutes",
                               "event_type": "call.completed", "aggregation": "sum",
                               "value": "$.minutes"}))  # fmt: skip
    for key, kind in [
        ("uc-seat", "seat"), ("fax-page", "usage"), ("call-minutes", "usage"),
        ("phone-hardware", "one_off"),
    ]:  # fmt: skip
        ok(env.post("/v1/products", {"key": key, "name": key.replace("-", " ").title(),
                                     "kind": kind}))  # fmt: skip
    ok(env.post("/v1/plans", {"key": "basic", "name": "Basic", "ladder": "uc", "level": 1,
                              "charges": [seat("20.00"), fax(), calls("0.02")]}))  # fmt: skip
    ok(env.post("/v1/plans", {"key": "pro", "name": "Pro", "ladder": "uc", "level": 2,
                              "charges": [seat("30.00"), fax(), calls("0.015")]}))  # fmt: skip
    ahead = [seat("25.00", "in_advance"), calls("0.02")]
    ok(env.post("/v1/plans", {"key": "ahead", "name": "Paid ahead", "charges": ahead}))


def send(env: Env, events: list[dict[str, Any]], key: str | None = None) -> None:
    for i in range(0, len(events), 1000):
        r = env.post("/v1/events", events[i : i + 1000], key=key)
        assert r.status_code == 202, r.text


def call_events(subject: str, minutes: list[str], day: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}-{i}", "type": "call.completed", "subject": subject,
         "time": f"2026-11-{day:02d}T{10 + i // 60 % 10:02d}:{i % 60:02d}:00Z",
         "data": {"minutes": m}}
        for i, m in enumerate(minutes)
    ]  # fmt: skip


def fax_events(subject: str, n: int, day: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}-{i}", "type": "fax.sent", "subject": subject,
         "time": f"2026-11-{day:02d}T{9 + i // 60 % 10:02d}:{i % 60:02d}:00Z", "data": {}}
        for i in range(n)
    ]  # fmt: skip


def build(env: Env) -> dict[str, int]:
    """Accounts, subscriptions, changes, usage and a purchase; returns subscription ids."""
    build_catalog(env)
    for name in ("law-firm", "preschool", "sole-prop"):
        env.account(name, name=name.replace("-", " ").title())
    subs = {
        name: ok(env.post("/v1/subscriptions", {"customer": name, "plan": plan, "start": NOV,
                                                "quantity": q}))["id"]
        for name, plan, q in [("law-firm", "basic", "10"), ("preschool", "basic", "5"),
                              ("sole-prop", "ahead", "1")]
    }  # fmt: skip
    change = {"type": "quantity", "quantity": "14", "effective_at": "2026-11-11T00:00:00Z"}
    ok(env.post(f"/v1/subscriptions/{subs['law-firm']}/changes", change))
    upgrade = {"type": "plan", "plan": "pro", "effective_at": "2026-11-16T00:00:00Z"}
    ok(env.post(f"/v1/subscriptions/{subs['preschool']}/changes", upgrade))
    ok(env.post("/v1/purchases", {
        "customer": "sole-prop", "product": "phone-hardware", "quantity": "2",
        "price": {"model": "flat", "amount": "89.99"}, "description": "Desk phone",
        "purchased_at": "2026-11-05T15:00:00Z",
    }))  # fmt: skip
    # law-firm: 1,234.5 minutes (12 × 100 + 34.5) and 150 fax pages
    send(env, call_events("law-firm", ["100"] * 12 + ["34.5"], 3, "lf-call"))
    send(env, fax_events("law-firm", 150, 4, "lf-fax"))
    # preschool: 100 minutes on Basic (Nov 10), 200 on Pro (Nov 20), 20 fax pages
    send(env, call_events("preschool", ["60", "40"], 10, "ps-call-a"))
    send(env, call_events("preschool", ["150", "50"], 20, "ps-call-b"))
    send(env, fax_events("preschool", 20, 12, "ps-fax"))
    send(env, call_events("sole-prop", ["7", "3"], 8, "sp-call"))
    return subs


# (kind, description prefix, quantity, amount) per line, in invoice order; then the subtotal
EXPECTED: dict[str, tuple[list[tuple[str, str, str, str]], str]] = {
    "law-firm": (
        [
            ("fee", "Seat × 10 (1/3 of the period)", "10", "66.67"),  # 10 × 20.00 × 10/30
            ("fee", "Seat × 14 (2/3 of the period)", "14", "186.67"),  # 14 × 20.00 × 20/30
            ("usage", "Call minutes", "1234.5", "24.69"),  # × 0.02
            ("usage", "Fax pages", "150", "2.50"),  # 100 free, 50 × 0.05
        ],
        "280.53",
    ),
    "preschool": (
        [
            ("fee", "Seat × 5 (1/2 of the period)", "5", "50.00"),  # Basic 5 × 20 × 15/30
            ("fee", "Seat × 5 (1/2 of the period)", "5", "75.00"),  # Pro 5 × 30 × 15/30
            ("usage", "Call minutes", "100", "2.00"),  # Basic, × 0.02
            ("usage", "Fax pages", "20", "0.00"),  # same price on both plans: one line
            ("usage", "Call minutes", "200", "3.00"),  # Pro, × 0.015
        ],
        "130.00",
    ),
    "sole-prop": (
        [
            ("fee", "Seat × 1 (in advance)", "1", "25.00"),  # November: the first period
            ("usage", "Call minutes", "10", "0.20"),
            ("fee", "Seat × 1 (in advance)", "1", "25.00"),  # December
            ("one_off", "Desk phone", "2", "179.98"),
        ],
        "230.18",
    ),
}


def charge_lines(invoice: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    kinds = {"fee", "usage", "proration", "one_off", "minimum", "adjustment"}
    return [
        (ln["kind"], ln["description"], ln["quantity"], ln["amount"])
        for ln in invoice["lines"]
        if ln["kind"] in kinds
    ]


def check(invoice: dict[str, Any], customer: str) -> None:
    lines, subtotal = EXPECTED[customer]
    got = charge_lines(invoice)
    assert len(got) == len(lines), got
    for (kind, desc, qty, amount), (gk, gd, gq, ga) in zip(lines, got, strict=True):
        assert (gk, gq, ga) == (kind, qty, amount), (customer, gd, got)
        assert gd.startswith(desc), (gd, desc)
    assert invoice["subtotal"] == subtotal
    assert Decimal(invoice["subtotal"]) == sum(Decimal(a) for *_, a in got)


def failing_rating(monkeypatch: Any, customer: str) -> None:
    """Rating `customer`'s invoices raises, wherever invoices are rated (billing.rating)."""
    import meterly.billing.rating as rating_mod
    from meterly.billing import draft

    real = draft.compute

    def flaky(ctx: Any, *a: Any, **kw: Any) -> Any:
        if ctx.customer.external_id == customer:
            raise RuntimeError("rating backend unavailable")
        return real(ctx, *a, **kw)

    monkeypatch.setattr(rating_mod, "compute", flaky)


def basic_plan(env: Env, one_off: bool = False) -> None:
    """A call-minutes meter, seat and calls products (and a one-off `hardware` product), and
    plan `basic`: seats at 20.00 and call minutes at 0.02."""
    ok(env.post("/v1/meters", {"key": "call-minutes", "name": "Calls", "event_type": "call",
                               "aggregation": "sum", "value": "$.minutes"}))  # fmt: skip
    products = [("uc-seat", "seat"), ("calls", "usage")] + ([("hardware", "one_off")] * one_off)
    for key, kind in products:
        ok(env.post("/v1/products", {"key": key, "name": key, "kind": kind}))
    ok(env.post("/v1/plans", {"key": "basic", "name": "Basic", "charges": [
        {"product": "uc-seat", "price": {"model": "per_unit", "unit_amount": "20"}},
        {"product": "calls", "meter": "call-minutes",
         "price": {"model": "per_unit", "unit_amount": "0.02"}},
    ]}))  # fmt: skip
