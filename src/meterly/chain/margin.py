"""Per-customer breakdown of an invoice and the margin report (retail revenue − wholesale cost).

Every charge line of an invoice is split into parts per end customer:
- a wholesale line rated per customer belongs to its customer (`meta.customer`);
- a pooled wholesale line is allocated pro rata to each customer's quantity (`meta.customers`),
  largest remainder, so the parts sum exactly to the line (chain.allocation);
- a line with no customer quantities (a flat fee to the reseller) is "unallocated" (customer "");
- a line of an invoice to an end customer belongs to that customer.
So the parts of an invoice always sum to its subtotal, and the margin report adds up to the cent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope, in_subtree
from meterly.billing.adjustments import CHARGE_KINDS
from meterly.billing.models import Invoice, InvoiceLine
from meterly.chain.allocation import allocate
from meterly.errors import InvalidInput, NotFound
from meterly.pricing.currency import quantum

UNALLOCATED = ""


@dataclass(frozen=True, slots=True)
class Part:
    product: str
    description: str
    customer: str
    quantity: Decimal | None
    amount: Decimal


def line_parts(line: InvoiceLine, currency: str, customer: Account) -> list[Part]:
    product = line.product or line.kind
    meta = line.meta or {}
    if customer.kind == "customer":
        return [Part(product, line.description, customer.external_id, line.quantity, line.amount)]
    if meta.get("wholesale") == "per_customer" and meta.get("customer"):
        return [Part(product, line.description, str(meta["customer"]), line.quantity,
                     line.amount)]  # fmt: skip
    shares = meta.get("customers")
    if not shares:
        return [Part(product, line.description, UNALLOCATED, line.quantity, line.amount)]
    weights = {str(k): Decimal(str(v)) for k, v in shares.items()}
    parts = allocate(line.amount, weights, quantum(currency))
    return [
        Part(product, line.description, k, weights[k], parts[k])
        for k in sorted(weights)
        if weights[k] or parts[k]
    ]


def invoice_parts(session: Session, invoice: Invoice) -> list[Part]:
    customer = session.get(Account, invoice.customer_id)
    assert customer is not None
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id, InvoiceLine.kind.in_(CHARGE_KINDS))
        .order_by(InvoiceLine.position)
    )
    return [p for ln in lines for p in line_parts(ln, invoice.currency, customer)]


def breakdown_csv(parts: Iterable[Part], currency: str) -> str:
    rows = ["product,description,customer,quantity,amount"]
    q = quantum(currency)
    for p in parts:
        qty = "" if p.quantity is None else format(p.quantity, "f")
        desc = p.description.replace('"', '""')
        rows.append(f'{p.product},"{desc}",{p.customer},{qty},{format(p.amount.quantize(q), "f")}')
    return "\n".join(rows) + "\n"


# --- margin ------------------------------------------------------------------------------------


def month_of(period: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput("invalid period: expected YYYY-MM, e.g. 2026-11",
                           [{"field": "period", "message": "expected YYYY-MM"}])  # fmt: skip
    return int(m.group(1)), int(m.group(2))


def _invoices(
    session: Session, month: tuple[int, int], seller_id: int | None, customer_id: int | None
) -> list[Invoice]:
    """Non-void invoices whose period starts in `month` in the customer's time zone."""
    first = datetime(month[0], month[1], 1, tzinfo=UTC)
    stmt = (
        select(Invoice, Account.timezone)
        .join(Account, Account.id == Invoice.customer_id)
        .where(Invoice.status != "void",
               Invoice.period_start >= first - timedelta(hours=14),
               Invoice.period_start < first + timedelta(days=31, hours=14))
    )  # fmt: skip
    if seller_id is not None:
        stmt = stmt.where(Invoice.seller_id == seller_id)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    out = []
    for inv, tz in session.execute(stmt.order_by(Invoice.id)):
        local = inv.period_start.astimezone(ZoneInfo(tz))
        if (local.year, local.month) == month:
            out.append(inv)
    return out


def _resellers(session: Session, principal: Principal, reseller: str | None) -> list[Account]:
    """A reseller key sees only its own margin; the provider (or operator) sees all."""
    if reseller is not None:
        found = account_in_scope(session, principal, reseller)
        if found.kind != "reseller" or (principal.kind == "reseller"
                                         and found.id != principal.account_id):  # fmt: skip
            raise NotFound(f"reseller '{reseller}' not found")
        return [found]
    if principal.kind == "reseller":
        own = session.get(Account, principal.account_id)
        return [own] if own is not None else []
    if principal.kind != "provider":
        return []
    return list(session.scalars(
        select(Account).where(in_subtree(principal), Account.kind == "reseller")
        .order_by(Account.external_id)
    ))  # fmt: skip


def _pct(margin: Decimal, revenue: Decimal) -> str | None:
    if revenue == 0:
        return None
    return format((margin * 100 / revenue).quantize(Decimal("0.01")), "f")


def _row(key: dict[str, str], revenue: Decimal, cost: Decimal) -> dict[str, Any]:
    q = quantum(key["currency"])
    revenue, cost = revenue.quantize(q), cost.quantize(q)
    margin = revenue - cost
    return {**key, "retail_revenue": format(revenue, "f"), "wholesale_cost": format(cost, "f"),
            "margin": format(margin, "f"), "margin_pct": _pct(margin, revenue)}  # fmt: skip


def margin_report(
    session: Session,
    principal: Principal,
    period: str,
    reseller: str | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    if group_by not in (None, "customer", "product"):
        raise InvalidInput("invalid group_by: customer or product",
                           [{"field": "group_by", "message": "customer | product"}])  # fmt: skip
    month = month_of(period)
    rows: list[dict[str, Any]] = []
    for r in _resellers(session, principal, reseller):
        revenue: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for book, invs in ((revenue, _invoices(session, month, r.id, None)),
                           (cost, _invoices(session, month, None, r.id))):  # fmt: skip
            for inv in invs:
                for p in invoice_parts(session, inv):
                    group = "" if group_by is None else (
                        p.customer if group_by == "customer" else p.product)  # fmt: skip
                    book[(inv.currency, group)] += p.amount
        for currency, group in sorted(revenue.keys() | cost.keys()):
            key = {"reseller": r.external_id, "currency": currency}
            if group_by is not None:
                key[group_by] = group
            rows.append(_row(key, revenue[(currency, group)], cost[(currency, group)]))
    return {"period": period, "group_by": group_by, "rows": rows}
