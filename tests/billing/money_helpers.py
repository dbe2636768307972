"""Helpers of the money tests: a small invoice written straight into the ledger (charge lines
as the bill run would build them), finalized the way billing.finalize does it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.billing import adjustments
from meterly.billing.models import Invoice, InvoiceLine
from meterly.billing.money import payments
from meterly.billing.numbering import format_number, next_number
from meterly.pricing.currency import round_money
from meterly.webhooks.models import WebhookMessage
from support import Env

JAN = datetime(2026, 1, 1, tzinfo=UTC)
START = JAN.isoformat()  # discounts redeemed from the first test period, whatever the clock
D = Decimal


def ok(r: Any, status: int = 201) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def month(start: datetime, n: int) -> tuple[datetime, datetime]:
    y, m = divmod(start.month - 1 + n, 12)
    a = start.replace(year=start.year + y, month=m + 1)
    y2, m2 = divmod(a.month, 12)
    return a, a.replace(year=a.year + y2, month=m2 + 1)


def make_invoice(
    env: Env,
    customer: str,
    charges: list[tuple[str, str | None, str, str | None]],
    *,
    period: int = 0,
    currency: str = "USD",
    now: datetime | None = None,
) -> int:
    """charges: (kind, product, precise amount, quantity); amounts are rounded once here."""
    start, end = month(JAN, period)
    with env.runtime.ledger.unit_of_work() as s:
        c = s.scalar(select(Account).where(Account.external_id == customer))
        assert c is not None and c.parent_id is not None
        inv = Invoice(
            seller_id=c.parent_id,
            customer_id=c.id,
            currency=currency,
            period_start=start,
            period_end=end,
            status="draft",
        )
        s.add(inv)
        s.flush()
        for i, (kind, product, amount, qty) in enumerate(charges):
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    position=i,
                    kind=kind,
                    description=product or kind,
                    product=product,
                    quantity=D(qty) if qty else None,
                    precise_amount=D(amount),
                    amount=round_money(D(amount), currency),
                    breakdown=[],
                    meta={},
                )
            )
        s.flush()
        adjustments.apply(s, inv, now or end, final=False)
        return inv.id


def finalize(env: Env, invoice_id: int, now: datetime | None = None) -> None:
    with env.runtime.ledger.unit_of_work() as s:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        when = now or inv.period_end
        adjustments.apply(s, inv, when, final=True)
        inv.number = format_number("SKY", 2026, next_number(s, inv.seller_id, "invoice", 2026))
        inv.status, inv.issued_at, inv.due_at = "finalized", when, when + timedelta(days=30)
        s.flush()
        payments.settle(s, inv, when)


def invoice(env: Env, invoice_id: int) -> dict[str, Any]:
    with env.runtime.ledger.sessions() as s:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        lines = s.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        cents = inv.currency

        def m(v: Decimal) -> str:
            return str(round_money(v, cents))

        out: dict[str, Any] = {
            k: m(getattr(inv, k))
            for k in (
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "credits_applied",
                "amount_paid",
                "amount_due",
            )
        }
        out["status"] = inv.status
        out["lines"] = [(x.kind, x.description, m(x.amount)) for x in lines]
        out["line_ids"] = {
            x.description: x.id
            for x in s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id))
        }
        return out


def adjustments_of(env: Env, invoice_id: int) -> list[tuple[str, str, str]]:
    return [x for x in invoice(env, invoice_id)["lines"] if x[0] in adjustments.ADJUSTMENT_KINDS]


def hook(env: Env, types: list[str]) -> None:
    ok(env.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": types}))


def messages(env: Env, type_: str) -> list[dict[str, Any]]:
    with env.runtime.ledger.sessions() as s:
        rows = s.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.type == type_)
            .order_by(WebhookMessage.created_at)
        )
        return [dict(m.payload["data"]) for m in rows]
