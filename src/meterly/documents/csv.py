"""CSV documents: one row per line, then the totals rows, for a seller's or a reseller's own
reconciliation. Values are exact and plain (no symbols, no grouping) so a spreadsheet or a
script reads them as numbers; `row` tells line rows from totals rows, and the line rows' amounts
add up to the subtotal."""

from __future__ import annotations

import csv
import io

from meterly.documents.model import Document

COLUMNS = (
    "row",
    "number",
    "seller",
    "customer",
    "currency",
    "period_start",
    "period_end",
    "line_period_start",
    "line_period_end",
    "description",
    "product",
    "meter",
    "quantity",
    "unit_price",
    "precise_amount",
    "amount",
    "kind",
)


def _cell(value: str | None) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote: a
    customer-chosen description must not become code in the seller's spreadsheet."""
    text = value or ""
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _numeric(text)):
        return "'" + text
    return text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_csv(doc: Document) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    head = [
        doc.number,
        _cell(doc.seller.name),
        _cell(doc.customer.name),
        doc.currency,
        doc.period_start_raw,
        doc.period_end_raw,
    ]
    for ln in doc.lines:
        writer.writerow(
            [
                "line",
                *head,
                ln.period_start_raw or "",
                ln.period_end_raw or "",
                _cell(ln.description),
                _cell(ln.product),
                _cell(ln.meter),
                ln.quantity_raw or "",
                ln.unit_price_raw or "",
                ln.precise_amount_raw,
                ln.amount_raw,
                ln.kind,
            ]
        )
    for row in doc.totals:
        writer.writerow(
            [
                "total",
                *head,
                "",
                "",
                _cell(row.label),
                "",
                "",
                "",
                "",
                row.amount_raw,
                row.amount_raw,
                row.kind,
            ]
        )
    if doc.kind == "invoice":  # a credit note's last totals row already is what it credits
        writer.writerow(
            [
                "total",
                *head,
                "",
                "",
                doc.due_label,
                "",
                "",
                "",
                "",
                doc.due_amount_raw,
                doc.due_amount_raw,
                "amount_due",
            ]
        )
    return out.getvalue()
