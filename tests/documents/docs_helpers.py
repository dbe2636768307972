"""Document test helpers: a provider, a branded reseller and its customer, another reseller, and
invoices written straight into the ledger (charge lines as the bill run builds them), finalized
by billing.finalize so numbers and brand snapshots are the real ones."""

from __future__ import annotations

import base64
import struct
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing import finalize as fin
from meterly.billing.models import Invoice, InvoiceLine, SellerProfile
from meterly.pricing.currency import round_money
from support import Env

# the bill-run scenario lives with the billing tests; the real-invoice test reuses it
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "billing"))

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
ISSUED = datetime(2026, 12, 4, tzinfo=UTC)
PROVIDER_NAME = "Skyline Voice Wholesale"
RESELLER_NAME = "Metro IT Services"
CUSTOMER_NAME = "Hartley & Stone LLP"


def png(width: int = 8, height: int = 4, rgb: tuple[int, int, int] = (15, 118, 110)) -> bytes:
    """A solid-colour PNG, built by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def logo_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png(120, 40)).decode()


@dataclass
class Docs:
    env: Env
    msp_key: str
    customer_key: str
    other_key: str

    def set_profile(self, external_id: str, **fields: Any) -> None:
        with self.env.runtime.ledger.unit_of_work() as s:
            account = s.scalar(select(Account).where(Account.external_id == external_id))
            assert account is not None
            profile = s.get(SellerProfile, account.id) or SellerProfile(account_id=account.id)
            for k, v in fields.items():
                setattr(profile, k, v)
            s.add(profile)

    def invoice(self, customer: str, lines: list[dict[str, Any]], *, final: bool = True) -> int:
        """lines: dicts of InvoiceLine fields; amount is rounded once from precise_amount."""
        with self.env.runtime.ledger.unit_of_work() as s:
            c = s.scalar(select(Account).where(Account.external_id == customer))
            assert c is not None and c.parent_id is not None
            inv = Invoice(
                seller_id=c.parent_id, customer_id=c.id, currency="USD", period_start=NOV,
                period_end=DEC, status="draft",
            )  # fmt: skip
            s.add(inv)
            s.flush()
            for i, fields in enumerate(lines):
                precise = Decimal(fields.pop("precise_amount"))
                s.add(InvoiceLine(
                    invoice_id=inv.id, position=i, precise_amount=precise,
                    amount=round_money(precise, "USD"), breakdown=fields.pop("breakdown", []),
                    meta={}, **fields,
                ))  # fmt: skip
            s.flush()
            adjustments.apply(s, inv, DEC, final=False)
            invoice_id = inv.id
        if final:
            with self.env.runtime.ledger.unit_of_work() as s:
                fin.finalize(s, self.env.runtime.events, invoice_id, ISSUED)
        return invoice_id


def many_lines(n: int) -> list[dict[str, Any]]:
    """n charge lines: seats, tiered fax usage, minutes with a sub-cent rate, hardware."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        if i % 3 == 0:
            out.append({"kind": "fee", "description": f"Seat × 14 — line {i}", "product": "uc-seat",
                        "quantity": Decimal(14), "unit_amount": Decimal("20"),
                        "precise_amount": "280"})  # fmt: skip
        elif i % 3 == 1:
            out.append({
                "kind": "usage", "description": f"Fax pages — line {i}", "product": "fax-page",
                "meter": "fax-pages", "quantity": Decimal(150), "precise_amount": "2.5",
                "breakdown": [
                    {"description": "0 – 100", "quantity": "100", "unit_amount": "0",
                     "amount": "0"},
                    {"description": "101 and above", "quantity": "50", "unit_amount": "0.05",
                     "amount": "2.5"},
                ],
            })  # fmt: skip
        else:
            out.append({"kind": "usage", "description": f"Call minutes — line {i}",
                        "product": "call-minutes", "meter": "call-minutes",
                        "quantity": Decimal("1234.5"), "unit_amount": Decimal("0.015"),
                        "precise_amount": "18.5175", "period_start": datetime(2026, 11, 11,
                        tzinfo=UTC), "period_end": DEC})  # fmt: skip
    return out


def make_docs(env: Any) -> Docs:
    env.account("metro-msp", kind="reseller", name="metro")
    msp = env.key_for("metro-msp")
    env.account("law-firm", key=msp, name=CUSTOMER_NAME)
    env.account("harbor-msp", kind="reseller")
    other = env.key_for("harbor-msp")
    env.account("bakery", key=other)
    d = Docs(env, msp, env.key_for("law-firm"), other)
    d.set_profile(
        "skyline", display_name=PROVIDER_NAME, number_prefix="SKY", tax_id="SKY-TAX-999",
        address="1 Provider Plaza\nDallas, TX 75201", support_email="billing@skyline.example",
    )  # fmt: skip
    # the reseller brands itself through the seller-profile API, as it would in production
    r = env.client.patch(
        "/v1/sellers/metro-msp/profile",
        json={
            "display_name": RESELLER_NAME, "number_prefix": "MIT",
            "address": "12 Harbor St\nNewark, NJ 07102", "tax_id": "US-12-3456789",
            "logo_url": logo_url(), "primary_color": "#0f766e", "accent_color": "#b45309",
            "support_email": "help@metro-it.example", "support_phone": "+1 973 555 0100",
            "invoice_footer": "Thank you for your business. Pay by ACH to Metro IT Services.",
        },
        headers={"Authorization": f"Bearer {msp}"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return d
