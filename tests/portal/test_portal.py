"""The customer portal through the real app: a link in the seller's brand, the customer's own
documents only, usage so far, expiry and revocation, who may hand out links, and the CLI.

The chain is tests/chain's (skyline → msp-b → var-c → c1): c1's portal must carry var-c's
brand and name nobody above it. The clock is the only fake (`meterly.portal.api.utcnow`)."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chain"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "documents"))
from chain_scenario import bill, build, ok
from docs_helpers import logo_url

from meterly.cli import app as cli_app
from meterly.portal import api as portal_api
from support import Env

NOW = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # after November was billed and finalized
UPSTREAM = ("skyline", "Skyline", "SKY-", "msp-b", "Metro Wholesale", "MET-", "ws-b")


@pytest.fixture
def chain(env: Env, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(portal_api, "utcnow", lambda: NOW)
    keys = build(env)
    env.patch(
        "/v1/sellers/skyline/profile", {"display_name": "Skyline Voice", "number_prefix": "SKY"}
    )
    ok(env.patch("/v1/sellers/msp-b/profile", {"display_name": "Metro Wholesale",
                 "number_prefix": "MET"}, key=keys["msp-b"]), 200)  # fmt: skip
    ok(env.patch("/v1/sellers/var-c/profile", {
        "display_name": "Corner Office VAR", "number_prefix": "COV", "logo_url": logo_url(),
        "primary_color": "#123456", "support_email": "help@corner.example",
        "invoice_footer": "Thanks from the corner.",
    }, key=keys["var-c"]), 200)  # fmt: skip
    bill(env)
    for inv in ok(env.get("/v1/invoices?status=draft"), 200)["data"]:
        ok(env.post(f"/v1/invoices/{inv['id']}/finalize", {}), 200)
    return keys


def invoice_id(env: Env, customer: str) -> int:
    found = ok(env.get(f"/v1/invoices?customer={customer}"), 200)["data"]
    return int(found[0]["id"])


def link(env: Env, customer: str, key: str | None = None, **body: Any) -> str:
    r = env.post("/v1/portal-sessions", {"customer": customer, **body}, key=key)
    return str(ok(r)["url"]).removeprefix("http://testserver")


def test_link_opens_the_portal_in_the_sellers_brand(env: Env, chain: dict[str, str]) -> None:
    r = env.post("/v1/portal-sessions", {"customer": "c1"}, key=chain["msp-b"])
    out = ok(r)
    assert re.fullmatch(r"http://testserver/portal/mpt_[\w-]{43}", out["url"]), out
    assert out["expires_at"].startswith("2026-12-10T16:00:00")  # one hour by default
    page = env.client.get(out["url"])  # no API key: the link is the credential
    assert page.status_code == 200, page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "private, no-store"
    text = page.text
    invoice = ok(env.get(f"/v1/invoices/{invoice_id(env, 'c1')}"), 200)
    assert invoice["number"].startswith("COV-") and invoice["number"] in text
    assert invoice["total"] == "69.30"  # 2 seats × 30.00, 300 min × 0.025, 15 pages × 0.12
    for shown in ("Corner Office VAR", "#123456", "help@corner.example", "Thanks from the corner.",
                  "data:image/png;base64,", "c1", "$69.30"):  # fmt: skip
        assert shown in text, shown
    for upstream in UPSTREAM:
        assert upstream not in text, upstream


def test_only_the_customers_own_finished_documents(env: Env, chain: dict[str, str]) -> None:
    base = link(env, "c1", key=chain["var-c"])
    own = invoice_id(env, "c1")
    for fmt in ("html", "pdf"):
        r = env.client.get(f"{base}/invoices/{own}.{fmt}")
        assert r.status_code == 200, r.text
        assert r.headers["referrer-policy"] == "no-referrer"
    assert env.client.get(f"{base}/invoices/{own}.pdf").content.startswith(b"%PDF-")
    html = env.client.get(f"{base}/invoices/{own}.html").text
    assert "Corner Office VAR" in html and not any(u in html for u in UPSTREAM)
    nowhere = env.client.get(f"{base}/invoices/999999.html")
    assert nowhere.status_code == 404
    # another reseller's customer, var-c's own wholesale invoice (c1's seller, in no way c1's)
    for other in (invoice_id(env, "a1"), invoice_id(env, "var-c")):
        for fmt in ("html", "pdf"):
            r = env.client.get(f"{base}/invoices/{other}.{fmt}")
            assert (r.status_code, r.text) == (404, nowhere.text)
    assert env.client.get(f"{base}/credit-notes/{own}.pdf").status_code == 404


def test_drafts_stay_hidden_until_finalized(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal_api, "utcnow", lambda: NOW)
    keys = build(env)
    bill(env)  # drafts: the grace period has not passed
    draft = invoice_id(env, "a1")
    base = link(env, "a1", key=keys["msp-a"])
    page = env.client.get(base).text
    assert "No invoices yet." in page
    assert env.client.get(f"{base}/invoices/{draft}.html").status_code == 404
    ok(env.post(f"/v1/invoices/{draft}/finalize", {}, key=keys["msp-a"]), 200)
    assert env.client.get(f"{base}/invoices/{draft}.html").status_code == 200


def test_usage_and_charges_so_far(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-November: a1's 2,000 minutes and 30 fax pages so far, at msp-a's retail prices."""
    monkeypatch.setattr(portal_api, "utcnow", lambda: datetime(2026, 11, 29, tzinfo=UTC))
    keys = build(env)
    page = env.client.get(link(env, "a1", key=keys["msp-a"])).text
    assert "Usage and charges so far" in page
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td>"
                      r"<td class=\"num\">([^<]+)</td></tr>", page)  # fmt: skip
    got = {desc: (qty, amount) for desc, qty, amount in rows}
    assert got["Call minutes"] == ("2,000", "$40.00"), got
    assert got["Fax pages"] == ("30", "$3.00"), got
    assert "Seat" in " ".join(got) and "$125.00" in page  # 5 seats × 25.00 in advance


def test_links_expire_and_can_be_revoked(
    env: Env, chain: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    short = link(env, "c1", key=chain["var-c"], ttl_minutes=5)
    other = link(env, "c1", key=chain["var-c"])
    assert env.client.get(short).status_code == 200
    later = NOW + timedelta(minutes=5)
    monkeypatch.setattr(portal_api, "utcnow", lambda: later)
    gone = env.client.get(short)
    assert gone.status_code == 404 and "not valid" in gone.text
    assert env.client.get(other).status_code == 200
    r = ok(env.post("/v1/portal-sessions/revoke", {"customer": "c1"}, key=chain["var-c"]), 200)
    assert r == {"customer": "c1", "revoked": 1}  # the expired one was not open any more
    assert env.client.get(other).status_code == 404
    assert env.client.get("/portal/mpt_guess").status_code == 404
    assert env.client.get("/portal/not-even-a-token").status_code == 404
    audit = ok(env.get("/v1/audit"), 200)["data"]
    actions = [a["action"] for a in audit]
    assert "portal_session.create" in actions and "portal_session.revoke" in actions


def test_who_may_hand_out_links(env: Env, chain: dict[str, str]) -> None:
    c1 = env.key_for("c1")
    a1 = env.key_for("a1")
    ok(env.post("/v1/portal-sessions", {"customer": "c1"}))  # the provider: everything
    ok(env.post("/v1/portal-sessions", {"customer": "c1"}, key=chain["msp-b"]))  # above var-c
    ok(env.post("/v1/portal-sessions", {"customer": "c1"}, key=c1))  # the customer itself
    for key in (chain["msp-a"], a1):  # beside it: exactly the answer for a customer that is not
        real = env.post("/v1/portal-sessions", {"customer": "c1"}, key=key)
        bogus = env.post("/v1/portal-sessions", {"customer": "nobody"}, key=key)
        assert real.status_code == bogus.status_code == 404
        assert real.json()["error"] == bogus.json()["error"]
        revoke = env.post("/v1/portal-sessions/revoke", {"customer": "c1"}, key=key)
        assert revoke.status_code == 404
    bad = env.post("/v1/portal-sessions", {"customer": "c1", "ttl_minutes": 0})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"].endswith("ttl_minutes")
    root = env.post("/v1/portal-sessions", {"customer": "skyline"})
    assert root.status_code == 422, root.text
    assert env.client.post("/v1/portal-sessions", json={"customer": "c1"}).status_code == 401


def test_public_url_setting_and_cli(
    env: Env, chain: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = env.runtime.settings
    monkeypatch.setenv("METERLY_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("METERLY_LEDGER_URL", str(s.ledger_url))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    monkeypatch.setenv("METERLY_PUBLIC_URL", "https://billing.corner.example/")
    cli = CliRunner()
    out = cli.invoke(cli_app, ["portal", "link", "c1", "--account", "var-c", "--json",
                               "--ttl-minutes", "1440"])  # fmt: skip
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["customer"] == "c1"
    assert got["url"].startswith("https://billing.corner.example/portal/mpt_")
    path = got["url"].removeprefix("https://billing.corner.example")
    monkeypatch.setattr(portal_api, "utcnow", lambda: datetime.now(UTC))
    assert env.client.get(path).status_code == 200
    plain = cli.invoke(cli_app, ["portal", "link", "c1"])
    assert plain.exit_code == 0 and "/portal/mpt_" in plain.output
    denied = cli.invoke(cli_app, ["portal", "link", "c1", "--account", "msp-a"])
    assert denied.exit_code != 0 and "not found" in denied.output
    revoked = cli.invoke(cli_app, ["portal", "revoke", "c1", "--account", "var-c"])
    assert revoked.exit_code == 0 and "revoked 2" in revoked.output
    assert env.client.get(path).status_code == 404
