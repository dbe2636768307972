"""Seller profiles: defaults, validation (422 naming the field), scope, audit, profile_for."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.resellers.profiles import default_prefix, profile_for
from support import Env

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def put(env: Env, seller: str, body: dict[str, Any], key: str | None = None) -> Any:
    return env.client.put(f"/v1/sellers/{seller}/profile", json=body, headers=env.h(key))


def test_defaults_when_nothing_is_stored(env: Env) -> None:
    r = env.get("/v1/sellers/skyline/profile")
    assert r.status_code == 200
    body = r.json()
    assert body["configured"] is False and body["number_prefix"] == "SKY"
    assert (body["grace_hours"], body["net_terms_days"], body["rounding_mode"]) == (
        72, 30, "half_up",
    )  # fmt: skip
    assert body["display_name"]  # the provider account's name
    assert default_prefix("msp-a") == "MSP" and default_prefix("x") == "INV"


def test_update_partial_reset_and_audit(env: Env) -> None:
    r = put(env, "skyline", {
        "number_prefix": "SKY-V", "display_name": "Skyline Voice", "grace_hours": 0,
        "net_terms_days": 15, "primary_color": "#0a3d62", "logo_url": PNG_URL,
        "support_email": "help@skyline.example", "invoice_footer": "Thank you",
    })  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["configured"] and body["primary_color"] == "#0A3D62" and body["grace_hours"] == 0
    r = env.patch("/v1/sellers/skyline/profile", {"tax_id": "US-1", "number_prefix": None})
    body = r.json()
    assert body["tax_id"] == "US-1" and body["number_prefix"] == "SKY"  # null: the default
    assert body["display_name"] == "Skyline Voice" and body["net_terms_days"] == 15
    audit = [a for a in env.get("/v1/audit").json()["data"] if a["object_type"] == "seller_profile"]
    assert len(audit) == 2
    assert "logo_url" in str(audit) and PNG_URL not in str(audit)  # never the bytes


def test_validation_names_the_field(env: Env) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({"number_prefix": "sky"}, "number_prefix"),
        ({"number_prefix": "A"}, "number_prefix"),
        ({"number_prefix": "ABCDEFGHIJKLM"}, "number_prefix"),
        ({"grace_hours": 721}, "grace_hours"),
        ({"grace_hours": -1}, "grace_hours"),
        ({"net_terms_days": 366}, "net_terms_days"),
        ({"primary_color": "blue"}, "primary_color"),
        ({"accent_color": "#12345"}, "accent_color"),
        ({"support_email": "nobody"}, "support_email"),
        ({"logo_url": "https://cdn.example/logo.png"}, "logo_url"),
        ({"logo_url": "relative/logo.png"}, "logo_url"),
        ({"logo_url": "data:image/png;base64,bm90IGFuIGltYWdl"}, "logo_url"),
        ({"logo_url": "/nonexistent/logo.png"}, "logo_url"),
        ({"rounding_mode": "up"}, "rounding_mode"),
        ({"colour": "#000000"}, "colour"),
    ]
    for body, field in bad:
        r = put(env, "skyline", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["details"][0]["field"] == field, (body, r.text)


def test_scope_customer_and_file_logos(env: Env, tmp_path: Path) -> None:
    env.account("msp-a", kind="reseller")
    env.account("law-firm", parent="msp-a")
    key_a = env.key_for("msp-a")
    assert env.get("/v1/sellers/law-firm/profile").status_code == 404  # not a seller
    assert put(env, "law-firm", {"tax_id": "X"}).status_code == 404
    cust = env.key_for("law-firm")
    assert env.get("/v1/sellers/msp-a/profile", key=cust).status_code == 404
    assert put(env, "msp-a", {"tax_id": "X"}, key=cust).status_code == 403  # as the catalog
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    # a reseller sends its image; only the operator side names a file on the server
    r = put(env, "msp-a", {"logo_url": str(logo)}, key=key_a)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "logo_url"
    assert put(env, "msp-a", {"logo_url": PNG_URL}, key=key_a).status_code == 200
    r = put(env, "msp-a", {"logo_url": str(logo)})
    assert r.status_code == 200 and r.json()["logo_url"] == str(logo)
    # the provider writes a reseller's profile; profile_for reads it without scope
    with env.runtime.ledger.sessions() as s:
        msp = s.scalar(select(Account).where(Account.external_id == "msp-a"))
        assert msp is not None
        view = profile_for(s, msp.id)
    assert view.configured and view.logo_url == str(logo) and view.number_prefix == "MSP"
