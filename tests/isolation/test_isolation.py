"""The isolation suite: for every endpoint in the OpenAPI spec, two resellers' and two customers'
keys try to read and write across tenants — guessed ids, list filters, exports, usage queries,
ingestion for another tenant's subject, webhook registration — and nothing leaks.

The rule checked everywhere: an attacker's request about tenant A's object gets exactly the answer
it gets about an object that does not exist (so it learns nothing, not even existence), never a
2xx, and no response to an attacker contains anything of tenant A's. A route added to the API
without a place here fails the suite.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.billing.models import Invoice, InvoiceLine
from support import Env

MARK = "ALPHAZZ"  # every name of tenant A carries it; no attacker response may

# Path parameter -> (tenant A's value, a value that exists nowhere)
PARAMS: dict[str, tuple[str, str]] = {}

# Bodies for writes, so validation passes and the scope check is really exercised.
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/v1/events/{source}/{event_id}/void"): {"reason": "x"},
    ("post", "/v1/events/{source}/{event_id}/amend"): {"data": {"s": 1}},
    ("patch", "/v1/meters/{key}"): {"name": "x"},
    ("patch", "/v1/products/{key}"): {"name": "x"},
    ("patch", "/v1/prices/{key}"): {"active": False},
    ("patch", "/v1/plans/{key}"): {"name": "x"},
    ("post", "/v1/plans/{key}/migrate"): {},
    ("put", "/v1/plans/{plan_key}/commitment"): {"minimum": "10"},
    ("post", "/v1/subscriptions/{sub_id}/changes"): {"type": "quantity", "quantity": "3"},
    ("patch", "/v1/webhooks/{endpoint_id}"): {"enabled": False},
    ("delete", "/v1/webhooks/{endpoint_id}"): None,
    ("post", "/v1/webhooks/deliveries/{delivery_id}/redeliver"): {},
    ("post", "/v1/invoices/{invoice_id}/finalize"): {},
    ("post", "/v1/invoices/{invoice_id}/void"): {},
    ("post", "/v1/invoices/{invoice_id}/payments"): {"amount": "1.00", "method": "check"},
    ("post", "/v1/invoices/{invoice_id}/credit-notes"): {"reason": "x", "refund": False},
    ("post", "/v1/customers/{external_id}/credits"): {"amount": "5.00"},
    ("post", "/v1/customers/{external_id}/discounts"): {"coupon": "BRAVOCODE"},
    ("delete", "/v1/customers/{external_id}/discounts/{discount_id}"): None,
    ("post", "/v1/customers/{external_id}/tax"): {"exempt": True, "exempt_reason": "x"},
    ("put", "/v1/sellers/{external_id}/profile"): {"display_name": "x"},
    ("patch", "/v1/sellers/{external_id}/profile"): {"display_name": "x"},
}

# Creations that name another tenant's object in the body: (path, body with A's refs, bogus refs)
CROSS_CREATES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "/v1/accounts",
        {"external_id": "x1", "name": "x", "parent": "msp-a"},
        {"external_id": "x1", "name": "x", "parent": "nobody-here"},
    ),
    (
        "/v1/webhooks",
        {"url": "http://127.0.0.1:9/x", "account": "a1"},
        {"url": "http://127.0.0.1:9/x", "account": "nobody-here"},
    ),
    (
        "/v1/subscriptions",
        {"customer": "a1", "plan": "b-plan"},
        {"customer": "nobody-here", "plan": "b-plan"},
    ),
    (
        "/v1/subscriptions",
        {"customer": "b1", "plan": "a-plan"},
        {"customer": "b1", "plan": "no-such-plan"},
    ),
    (
        "/v1/purchases",
        {
            "customer": "a1",
            "product": "b-hw",
            "quantity": "1",
            "price": {"model": "flat", "amount": "10"},
        },
        {
            "customer": "nobody-here",
            "product": "b-hw",
            "quantity": "1",
            "price": {"model": "flat", "amount": "10"},
        },
    ),
    (
        "/v1/resellers",
        {"external_id": "x2", "name": "x", "parent": "msp-a"},
        {"external_id": "x2", "name": "x", "parent": "nobody-here"},
    ),
    (
        "/v1/prices",
        {"key": "x-price", "product": "a-prod", "model": "flat", "amount": "1"},
        {"key": "x-price", "product": "no-such-product", "model": "flat", "amount": "1"},
    ),
    (
        "/v1/meters",
        {"key": "a-meter-2", "name": "x", "event_type": "t", "aggregation": "count"},
        {"key": "z-meter-2", "name": "x", "event_type": "t", "aggregation": "count"},
    ),
    ("/v1/portal-sessions", {"customer": "a1"}, {"customer": "nobody-here"}),
    ("/v1/portal-sessions/revoke", {"customer": "a1"}, {"customer": "nobody-here"}),
]

# List/query endpoints with filters naming tenant A's objects: (path, params with A, bogus)
CROSS_QUERIES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("/v1/events", {"subject": "a1"}, {"subject": "nobody-here"}),
    ("/v1/accounts", {"parent": "msp-a"}, {"parent": "nobody-here"}),
    ("/v1/invoices", {"customer": "a1"}, {"customer": "nobody-here"}),
    ("/v1/subscriptions", {"customer": "a1"}, {"customer": "nobody-here"}),
    ("/v1/meters/calls/usage", {"subject": "a1"}, {"subject": "nobody-here"}),
    ("/v1/prices", {"seller": "msp-a"}, {"seller": "nobody-here"}),
    ("/v1/products", {"seller": "msp-a"}, {"seller": "nobody-here"}),
    ("/v1/plans", {"seller": "msp-a"}, {"seller": "nobody-here"}),
]


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json()) if r.content else {}


def build_tenant(env: Env, p: str, key: str) -> dict[str, Any]:
    """A reseller's world, made with its own key: catalog, plan, customer data, money."""
    name = "ALPHAZZ" if p == "a" else "BRAVO"
    ok(
        env.post(
            "/v1/meters",
            {
                "key": f"{p}-meter",
                "name": f"{name} meter",
                "event_type": f"{p}.used",
                "aggregation": "count",
            },
            key=key,
        )
    )
    ok(
        env.post(
            "/v1/products", {"key": f"{p}-prod", "name": f"{name} seat", "kind": "seat"}, key=key
        )
    )
    ok(
        env.post(
            "/v1/products", {"key": f"{p}-hw", "name": f"{name} phone", "kind": "one_off"}, key=key
        )
    )
    ok(env.post("/v1/features", {"key": f"{p}-feat", "name": f"{name} feature"}, key=key))
    ok(env.post("/v1/price-books", {"key": f"{p}-book", "name": f"{name} book"}, key=key))
    ok(
        env.post(
            "/v1/prices",
            {
                "key": f"{p}-price",
                "product": f"{p}-prod",
                "model": "per_unit",
                "unit_amount": "25.00",
            },
            key=key,
        )
    )
    ok(
        env.post(
            "/v1/plans",
            {
                "key": f"{p}-plan",
                "name": f"{name} plan",
                "charges": [
                    {"product": f"{p}-prod", "price": {"model": "per_unit", "unit_amount": "25.00"}}
                ],
                "entitlements": [{"feature": f"{p}-feat"}],
            },
            key=key,
        )
    )
    sub = ok(
        env.post(
            "/v1/subscriptions",
            {
                "customer": f"{p}1",
                "plan": f"{p}-plan",
                "start": "2026-10-01T00:00:00Z",
                "quantity": "3",
            },
            key=key,
        )
    )
    ok(
        env.post(
            "/v1/purchases",
            {
                "customer": f"{p}1",
                "product": f"{p}-hw",
                "quantity": "1",
                "price": {"model": "flat", "amount": "99"},
            },
            key=key,
        )
    )
    hook = ok(
        env.post(
            "/v1/webhooks", {"url": "http://127.0.0.1:9/x", "description": f"{name} hook"}, key=key
        )
    )
    ok(env.post("/v1/coupons", {"code": f"{name}CODE", "percent_off": "10"}, key=key))
    disc = ok(env.post(f"/v1/customers/{p}1/discounts", {"coupon": f"{name}CODE"}, key=key))
    ok(env.post("/v1/tax-rates", {"key": f"{p}-tax", "name": f"{name} tax", "rate": "5"}, key=key))
    ok(env.post(f"/v1/customers/{p}1/tax", {"rates": [f"{p}-tax"]}, key=key), 200)
    ok(env.post(f"/v1/customers/{p}1/credits", {"amount": "20.00", "reason": name}, key=key))
    ok(
        env.post(
            "/v1/events",
            [
                {
                    "id": f"{p}-ev-1",
                    "type": f"{p}.used",
                    "subject": f"{p}1",
                    "time": "2026-10-05T10:00:00Z",
                    "data": {"who": name},
                }
            ],
            key=key,
        ),
        202,
    )
    invoice_id = make_invoice(env, f"{p}1")
    ok(env.post(f"/v1/invoices/{invoice_id}/finalize", {}, key=key), 200)
    note = ok(
        env.post(
            f"/v1/invoices/{invoice_id}/credit-notes",
            {"reason": f"{name} goodwill", "refund": False},
            key=key,
        )
    )
    return {
        "sub": sub["id"],
        "hook": hook["id"],
        "discount": disc["id"],
        "invoice": invoice_id,
        "credit_note": note["id"],
    }


def make_invoice(env: Env, customer: str) -> int:
    with env.runtime.ledger.unit_of_work() as s:
        c = s.scalar(select(Account).where(Account.external_id == customer))
        assert c is not None and c.parent_id is not None
        inv = Invoice(
            seller_id=c.parent_id,
            customer_id=c.id,
            currency="USD",
            status="draft",
            period_start=datetime(2026, 10, 1, tzinfo=UTC),
            period_end=datetime(2026, 11, 1, tzinfo=UTC),
        )
        s.add(inv)
        s.flush()
        s.add(
            InvoiceLine(
                invoice_id=inv.id,
                position=0,
                kind="fee",
                description="seats",
                product=f"{customer[0]}-prod",
                quantity=Decimal(3),
                precise_amount=Decimal("75"),
                amount=Decimal("75.00"),
                breakdown=[],
                meta={},
            )
        )
        return inv.id


@pytest.fixture
def world(env: Env) -> dict[str, Any]:
    env.post(
        "/v1/meters",
        {"key": "calls", "name": "Calls", "event_type": "call", "aggregation": "count"},
    )
    env.account("msp-a", name="ALPHAZZ Reseller", kind="reseller")
    env.account("msp-b", name="BRAVO Reseller", kind="reseller")
    keys = {"msp-a": env.key_for("msp-a"), "msp-b": env.key_for("msp-b")}
    env.account("a1", name="ALPHAZZ Customer One", key=keys["msp-a"])
    env.account("a2", name="ALPHAZZ Customer Two", key=keys["msp-a"])
    env.account("b1", name="BRAVO Customer One", key=keys["msp-b"])
    for c in ("a1", "a2", "b1"):
        keys[c] = env.key_for(c)
    a = build_tenant(env, "a", keys["msp-a"])
    build_tenant(env, "b", keys["msp-b"])
    delivery = 0  # no delivery exists for A's hook (port 9 refuses); a guessed id is enough
    PARAMS.update(
        {
            "external_id": ("a1", "nobody-here"),
            "customer": ("a1", "nobody-here"),
            "feature": ("a-feat", "no-such-feature"),
            "key": ("a-meter", "no-such-key"),
            "plan_key": ("a-plan", "no-such-plan"),
            "source": ("api", "api"),
            "event_id": ("a-ev-1", "no-such-event"),
            "sub_id": (str(a["sub"]), "999999"),
            "endpoint_id": (str(a["hook"]), "999999"),
            "delivery_id": (str(delivery + 1), "999999"),
            "invoice_id": (str(a["invoice"]), "999999"),
            "id": (str(a["invoice"]), "999999"),
            "credit_note_id": (str(a["credit_note"]), "999999"),
            "discount_id": (str(a["discount"]), "999999"),
            "run_id": ("1", "999999"),
        }
    )
    return {"keys": keys, "a": a}


# Paths whose {key} names something other than a meter.
KEY_OVERRIDES = {
    "/v1/products/{key}": "a-prod",
    "/v1/prices/{key}": "a-price",
    "/v1/plans/{key}": "a-plan",
    "/v1/plans/{key}/versions": "a-plan",
    "/v1/plans/{key}/migrate": "a-plan",
}
SELLER_PATHS = ("/v1/sellers/{external_id}/profile",)


def fill(path: str, which: int) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in PARAMS, f"isolation suite: give path parameter '{name}' a value"
        if name == "key" and path in KEY_OVERRIDES:
            return KEY_OVERRIDES[path] if which == 0 else "no-such-key"
        if name == "external_id" and path in SELLER_PATHS:
            return "msp-a" if which == 0 else "nobody-here"
        if name == "id" and "/credit-notes/" in path:
            return PARAMS["credit_note_id"][which]
        return PARAMS[name][which]

    return re.sub(r"\{(\w+)\}", value, path)


def call(
    env: Env,
    method: str,
    url: str,
    key: str,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> Any:
    headers = env.h(key)
    if method in ("get", "delete"):
        return env.client.request(method.upper(), url, headers=headers, params=params)
    return env.client.request(method.upper(), url, headers=headers, json=body)


def attackers(world: dict[str, Any], path: str) -> list[str]:
    """Another reseller and another reseller's customer always; the sibling customer too where
    the object is a customer's own."""
    keys = world["keys"]
    out = [keys["msp-b"], keys["b1"]]
    if "{external_id}" in path or "{customer}" in path or "invoice" in path or "credit" in path:
        out.append(keys["a2"])
    return out


def test_every_endpoint_denies_other_tenants(env: Env, world: dict[str, Any]) -> None:
    spec = env.client.get("/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method in ops:
            templated = "{" in path
            if not templated:
                continue
            if method != "get":
                assert (method, path) in BODIES, f"isolation suite: add a body for {method} {path}"
            body = BODIES.get((method, path))
            for key in attackers(world, path):
                real = call(env, method, fill(path, 0), key, body)
                bogus = call(env, method, fill(path, 1), key, body)
                assert real.status_code >= 400, (method, path, real.status_code, real.text)
                assert real.status_code == bogus.status_code, (method, path, real.text, bogus.text)
                assert MARK not in real.text, (method, path, real.text)
                checked += 1
    assert checked > 60
    # the bodies are valid: the owner's same request passes validation (so the attackers' 404s
    # came from the scope check, not from a 422 before it); run last, as it changes things
    owner = world["keys"]["msp-a"]
    for (method, path), body in BODIES.items():
        r = call(env, method, fill(path, 0), owner, body)
        assert r.status_code != 422, (method, path, r.text)


def test_lists_and_filters_never_show_another_tenant(env: Env, world: dict[str, Any]) -> None:
    spec = env.client.get("/openapi.json").json()
    keys = world["keys"]
    for path, ops in spec["paths"].items():
        if path.startswith("/v1/") and "{" not in path and "get" in ops:
            for key in (keys["msp-b"], keys["b1"], keys["a2"]):
                r = call(env, "get", path, key)
                if key == keys["a2"] and r.status_code == 200:
                    assert "ALPHAZZ Customer One" not in r.text, path
                    continue
                assert MARK not in r.text, (path, r.text)
    for path, params, bogus in CROSS_QUERIES:
        for key in (keys["msp-b"], keys["b1"]):
            real = call(env, "get", path, key, params=params)
            none = call(env, "get", path, key, params=bogus)
            assert real.status_code == none.status_code, (path, real.text, none.text)
            assert MARK not in real.text, (path, real.text)


def test_creations_cannot_reach_into_another_tenant(env: Env, world: dict[str, Any]) -> None:
    keys = world["keys"]
    for path, body, bogus in CROSS_CREATES:
        for key in (keys["msp-b"], keys["b1"]):
            real = call(env, "post", path, key, body)
            none = call(env, "post", path, key, bogus)
            if real.status_code < 300:
                # allowed only where the body names nothing of A's (a meter key is per seller)
                assert path == "/v1/meters", (path, real.text)
                continue
            assert real.status_code == none.status_code, (path, real.text, none.text)
            assert MARK not in real.text


def test_ingest_for_another_tenants_subject_never_counts(env: Env, world: dict[str, Any]) -> None:
    keys = world["keys"]
    before = env.get(
        "/v1/meters/a-meter/usage",
        key=keys["msp-a"],
        params={"subject": "a1", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
    ).json()["rows"]
    for key in (keys["msp-b"], keys["b1"]):
        r = env.post(
            "/v1/events",
            [
                {
                    "id": f"evil-{key[-4:]}",
                    "type": "a.used",
                    "subject": "a1",
                    "time": "2026-10-06T10:00:00Z",
                }
            ],
            key=key,
        )
        assert r.status_code == 202 and r.json()["unattributed"] == 1
    after = env.get(
        "/v1/meters/a-meter/usage",
        key=keys["msp-a"],
        params={"subject": "a1", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
    ).json()["rows"]
    assert before == after


def test_portal_links_open_only_their_own_customer(env: Env, world: dict[str, Any]) -> None:
    """The portal's pages are outside /v1 (the link is the credential, no key): every one of
    them, opened with another customer's link, answers as for a document that does not exist."""
    keys = world["keys"]

    def link(customer: str, key: str) -> str:
        r = env.post("/v1/portal-sessions", {"customer": customer}, key=key)
        return str(ok(r)["url"]).removeprefix("http://testserver")

    own = link("a1", keys["msp-a"])
    others = [link("a2", keys["msp-a"]), link("b1", keys["msp-b"]), link("b1", keys["b1"])]
    spec = env.client.get("/openapi.json").json()
    checked = 0
    for path in spec["paths"]:
        if path.startswith("/v1/") or path == "/healthz":
            continue
        assert path.startswith("/portal/{token}"), f"isolation suite: cover {path}"
        if path == "/portal/{token}":
            continue  # a link opens its own customer's page only: the token names no object
        tail = path.removeprefix("/portal/{token}")
        real, bogus = fill(tail, 0), fill(tail, 1)
        assert env.client.get(own + real).status_code == 200, path  # a1's own: it exists
        for base in others:
            got, none = env.client.get(base + real), env.client.get(base + bogus)
            assert (got.status_code, got.text) == (404, none.text), (path, got.text)
            checked += 1
        page = env.client.get(others[1]).text
        assert MARK not in page
    assert checked >= 12
