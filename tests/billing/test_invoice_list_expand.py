"""`GET /v1/invoices?expand=lines`: whole invoices a page at a time, each exactly what
`GET /v1/invoices/{id}` gives, scoped and paged like the summaries."""

from __future__ import annotations

from typing import Any

from test_bill_run_batching import CUSTOMERS, bill, customers, new_run

from support import Env


def pages(env: Env, limit: int, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    for _ in range(100):  # bounded
        query = {"limit": limit, **params, **({"after": after} if after else {})}
        r = env.get("/v1/invoices", key=key, params=query)
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        if not page:
            return out
        out += page
        after = page[-1]["id"]
    raise AssertionError("pagination did not end")


def test_expanded_list_equals_each_invoice(env: Env) -> None:
    customers(env, september=4)
    assert not bill(env, new_run(env)).errors
    whole = pages(env, 4, expand="lines")  # several pages
    assert len(whole) == CUSTOMERS + 2
    for inv in whole:
        assert inv == env.get(f"/v1/invoices/{inv['id']}").json()
        assert inv["lines"]  # seat and calls at least
    summaries = pages(env, 4)
    assert [s["id"] for s in summaries] == [i["id"] for i in whole]
    assert all("lines" not in s for s in summaries)
    # scoped like the summaries: a customer's key sees its own invoices only
    mine = pages(env, 100, key=env.key_for("c4"), expand="lines")
    assert {i["customer"] for i in mine} == {"c4"} and len(mine) == 3


def test_expand_takes_only_lines(env: Env) -> None:
    r = env.get("/v1/invoices", params={"expand": "payments"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input"
