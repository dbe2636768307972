"""White label for messages: the webhook payloads a reseller's customer (and the reseller, about
its customers) receive name the reseller as the seller and nobody above it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chain"))
from chain_scenario import bill, build, ok

from meterly.accounts.models import Account
from meterly.webhooks.models import WebhookMessage
from support import Env


def test_customer_and_reseller_payloads_never_name_upstream(env: Env) -> None:
    keys = build(env)
    c1 = env.key_for("c1")
    hook = {"url": "http://127.0.0.1:9/hook"}
    ok(env.post("/v1/webhooks", hook, key=c1))
    ok(env.post("/v1/webhooks", hook, key=keys["var-c"]))
    env.patch("/v1/sellers/skyline/profile", {"display_name": "Skyline Voice"})
    bill(env)
    drafts = ok(env.get("/v1/invoices?status=draft"), 200)["data"]
    for inv in drafts:
        ok(env.post(f"/v1/invoices/{inv['id']}/finalize", {}), 200)
    c1_invoice = next(i for i in drafts if i["customer"] == "c1")
    ok(env.post(f"/v1/invoices/{c1_invoice['id']}/payments",
                {"amount": c1_invoice["total"], "method": "check"}, key=keys["var-c"]))  # fmt: skip
    with env.runtime.ledger.sessions() as s:
        ids = {x: i for x, i in s.execute(select(Account.external_id, Account.id))}
        messages = s.scalars(
            select(WebhookMessage).where(WebhookMessage.account_id.in_([ids["c1"], ids["var-c"]]))
        ).all()
        seen = {(m.account_id, m.type) for m in messages}
        about_c1 = [m.payload for m in messages if m.payload["data"].get("customer") == "c1"]
    assert (ids["c1"], "invoice.drafted") in seen and (ids["c1"], "invoice.finalized") in seen
    assert (ids["var-c"], "invoice.paid") in seen
    assert len(about_c1) >= 4
    for payload in about_c1:
        text = json.dumps(payload)
        assert payload["data"].get("seller", "var-c") == "var-c", text
        for upstream in ("skyline", "Skyline", "msp-b", "SKY-", "MSP-"):
            assert upstream not in text, (upstream, text)
