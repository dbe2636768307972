"""A small hosted-telephony catalog shared by the plans and subscriptions tests."""

from __future__ import annotations

from typing import Any

from support import Env

FAX_TIERS = {
    "model": "graduated",
    "tiers": [
        {"up_to": "100", "unit_amount": "0"},
        {"up_to": None, "unit_amount": "0.05"},
    ],
}


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def build_catalog(env: Env) -> None:
    ok(
        env.post(
            "/v1/meters",
            {
                "key": "fax-pages",
                "name": "Fax pages",
                "event_type": "fax.sent",
                "aggregation": "count",
            },
        )
    )
    for key, kind in [
        ("uc-seat", "seat"),
        ("fax-page", "usage"),
        ("setup-fee", "one_off"),
        ("phone-hardware", "one_off"),
        ("call-recording", "add_on"),
        ("support", "service"),
    ]:
        ok(
            env.post(
                "/v1/products", {"key": key, "name": key.replace("-", " ").title(), "kind": kind}
            )
        )
    for key in ("fax", "recording"):
        ok(env.post("/v1/features", {"key": key, "name": key.title()}))


def seat(amount: str, timing: str = "in_arrears") -> dict[str, Any]:
    return {
        "product": "uc-seat",
        "price": {"model": "per_unit", "unit_amount": amount, "timing": timing},
    }


def fax_charge() -> dict[str, Any]:
    return {"product": "fax-page", "meter": "fax-pages", "price": FAX_TIERS}


def create_plans(env: Env) -> None:
    ok(env.post("/v1/plans", {
        "key": "basic", "name": "Basic", "ladder": "uc", "level": 1,
        "charges": [seat("20.00"), fax_charge(),
                    {"product": "setup-fee", "price": {"model": "flat", "amount": "50"}}],
        "entitlements": [
            {"feature": "fax", "limit": "100", "meter": "fax-pages", "hard": False},
        ],
    }))  # fmt: skip
    ok(env.post("/v1/plans", {
        "key": "pro", "name": "Pro", "ladder": "uc", "level": 2,
        "charges": [seat("30.00"), fax_charge()],
        "entitlements": [
            {"feature": "fax", "limit": "1000", "meter": "fax-pages", "hard": True},
            {"feature": "recording"},
        ],
    }))  # fmt: skip
    ok(env.post("/v1/plans", {
        "key": "advance", "name": "Paid ahead",
        "charges": [seat("30.00", "in_advance")],
    }))  # fmt: skip


def fax_events(env: Env, subject: str, times: list[str], prefix: str = "f") -> None:
    events = [
        {"id": f"{prefix}{i}", "type": "fax.sent", "subject": subject, "time": t, "data": {}}
        for i, t in enumerate(times)
    ]
    for i in range(0, len(events), 1000):
        r = env.post("/v1/events", events[i : i + 1000])
        assert r.status_code == 202, r.text


def subscribe(env: Env, customer: str, plan: str, **kw: Any) -> dict[str, Any]:
    return ok(env.post("/v1/subscriptions", {"customer": customer, "plan": plan, **kw}))
