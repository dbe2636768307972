"""The selling side of the demo, through the public API: Skyline's catalog and plan ladder, the
MSPs onboarded with their markups, subscriptions with mid-month changes, hardware purchases, and
a bill run at every month end."""

from __future__ import annotations

import time
from datetime import date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from meterly.demo import cast
from meterly.demo.catalog import (
    FEATURES,
    MARKUPS,
    METRO_WHOLESALE,
    NUMBER_PRICE,
    PLANS,
    PRODUCTS,
    PROVIDER_WHOLESALE,
)
from meterly.demo.events import HARDWARE_PRICES

if TYPE_CHECKING:
    import httpx

    from meterly.demo.runner import Demo

ROOT = cast.PROVIDER[0]


def _ok(r: httpx.Response) -> dict[str, Any]:
    from meterly.demo.runner import _check

    return _check(r)


def local_midnight(day: date, tz: str) -> str:
    return datetime.combine(day, dtime(0), ZoneInfo(tz)).isoformat()


def setup_catalog(api: httpx.Client) -> None:
    for p in PRODUCTS:
        _ok(api.post("/v1/products", json=p))
    for f in FEATURES:
        _ok(api.post("/v1/features", json=f))
    for plan in PLANS:
        _ok(api.post("/v1/plans", json=plan))


def onboard_resellers(demo: Demo, url: str) -> None:
    """Each MSP in one step: account, admin key, profile, retail prices and plans marked up."""
    import httpx as _httpx

    for r in cast.RESELLERS:
        parent_key = demo.keys[r.parent]
        with _httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {parent_key}"}, timeout=120
        ) as api:
            out = _ok(
                api.post(
                    "/v1/resellers",
                    json={
                        "external_id": r.external_id,
                        "name": r.name,
                        "parent": r.parent,
                        "markup": MARKUPS[r.external_id],
                        "timezone": r.timezone,
                    },
                )
            )
        demo.keys[r.external_id] = out["api_key"]["secret"]


def wholesale(demo: Demo, url: str, first: date) -> None:
    """Each reseller buys from its own seller on a wholesale plan covering its subtree. The
    plans are made after onboarding, so they are not copied into the resellers' retail books."""
    import httpx as _httpx

    plans = {"skyline": PROVIDER_WHOLESALE, "metro-msp": METRO_WHOLESALE}
    for seller, plan in plans.items():
        with _httpx.Client(
            base_url=url, timeout=120, headers={"Authorization": f"Bearer {demo.keys[seller]}"}
        ) as api:
            _ok(api.post("/v1/plans", json=plan))
            for r in cast.RESELLERS:
                if r.parent == seller:
                    _ok(
                        api.post(
                            "/v1/subscriptions",
                            json={
                                "customer": r.external_id,
                                "plan": plan["key"],
                                "quantity": "1",
                                "start": local_midnight(first, r.timezone),
                            },
                        )
                    )


def onboard_customer(api: httpx.Client, c: cast.Customer, first: date) -> int:
    """The MSP opens the customer's account, subscribes it and bills its desk phones."""
    _ok(
        api.post(
            "/v1/accounts",
            json={
                "external_id": c.external_id,
                "name": c.name,
                "timezone": c.timezone,
                "subject_aliases": list(c.aliases),
            },
        )
    )
    sub = subscribe(api, c, first)
    purchases(api, c, sub, first)
    return sub


def subscribe(api: httpx.Client, c: cast.Customer, first: date) -> int:
    body: dict[str, Any] = {
        "customer": c.external_id,
        "plan": c.level,
        "quantity": str(c.seats),
        "start": local_midnight(first, c.timezone),
        "add_ons": [
            {
                "key": "numbers",
                "product": "phone-number",
                "price": NUMBER_PRICE,
                "quantity": str(c.numbers),
            }
        ],
    }
    return int(_ok(api.post("/v1/subscriptions", json=body))["id"])


# The month's story: who changes what, and when (day of the month, local time).
CHANGES: dict[int, list[tuple[str, int, dict[str, Any]]]] = {
    1: [
        ("hudson-holdings", 14, {"type": "quantity", "quantity": "262"}),  # 12 new hires
        ("keystone-realty", 15, {"type": "plan", "plan": "pro"}),
    ],  # the upgrade
    2: [
        ("bluenote-music", 1, {"type": "plan", "plan": "basic"}),  # the downgrade
        ("afro-euro-parts", 20, {"type": "cancel"}),  # the cancellation
        ("whitman-law", 10, {"type": "quantity", "quantity": "15"}),
    ],  # a new associate
}


def month_changes(
    demo: Demo, url: str, roster: list[cast.Customer], subs: dict[str, int], index: int, first: date
) -> None:
    import httpx as _httpx

    by_id = {c.external_id: c for c in roster}
    for customer, day, change in CHANGES.get(index, []):
        c = by_id.get(customer)
        if c is None or customer not in subs:
            continue
        at = datetime.combine(first.replace(day=day), dtime(9), ZoneInfo(c.timezone))
        with _httpx.Client(
            base_url=url, timeout=120, headers={"Authorization": f"Bearer {demo.keys[c.reseller]}"}
        ) as api:
            _ok(
                api.post(
                    f"/v1/subscriptions/{subs[customer]}/changes",
                    json={**change, "effective_at": at.isoformat()},
                )
            )


def purchases(api: httpx.Client, c: cast.Customer, sub: int, first: date) -> None:
    for sku, qty in c.hardware:
        _ok(
            api.post(
                "/v1/purchases",
                json={
                    "customer": c.external_id,
                    "subscription": sub,
                    "product": "phone-hardware",
                    "description": f"{sku} desk phone",
                    "quantity": str(qty),
                    "price": {"model": "per_unit", "unit_amount": HARDWARE_PRICES[sku]},
                    "purchased_at": local_midnight(first.replace(day=2), c.timezone),
                },
            )
        )


def bill_month(api: httpx.Client, as_of: datetime, limit_s: float = 1800) -> dict[str, Any]:
    """Start a bill run for every tier (the provider's key covers its whole subtree) and wait
    for the worker to finish it, polling ever less often (a run's status lists its invoices:
    10,000 ids at the large demo's size)."""
    run = _ok(api.post("/v1/bill-runs", json={"as_of": as_of.isoformat()}))
    deadline, pause = time.monotonic() + limit_s, 0.1
    while time.monotonic() < deadline:  # bounded: 30 minutes at most
        run = _ok(api.get(f"/v1/bill-runs/{run['id']}"))
        if run["status"] in ("done", "incomplete"):
            return run
        time.sleep(pause)
        pause = min(pause * 1.5, 1.0)
    raise RuntimeError(f"bill run {run['id']} did not finish in {limit_s:.0f} s")
