"""The view model every renderer (HTML, PDF, CSV) reads: plain, fully formatted, no ORM.

Display strings are ready to print; the `*_raw` fields keep exact values for the CSV. Renderers
never compute money or reach the ledger — they only lay out what is here, so the three formats
cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
DEFAULT_PRIMARY = "#1f2937"  # slate: reads as neutral when a seller sets no brand colour
DEFAULT_ACCENT = "#2563eb"


def safe_color(value: str | None, default: str) -> str:
    """A #rgb / #rrggbb colour or the default. Colours land in CSS and in the PDF: free text
    there would be an injection point (`red;background:url(...)`)."""
    if value and _COLOR.fullmatch(value.strip()):
        text = value.strip()
        return "#" + "".join(c * 2 for c in text[1:]) if len(text) == 4 else text
    return default


@dataclass(frozen=True, slots=True)
class Brand:
    """The seller as the customer sees it: always the invoice's own seller, never upstream."""

    name: str
    address_lines: list[str]
    tax_id: str | None
    logo_url: str | None
    primary_color: str
    accent_color: str
    footer: str | None
    support_email: str | None
    support_phone: str | None

    @property
    def support(self) -> str | None:
        parts = [p for p in (self.support_email, self.support_phone) if p]
        return " · ".join(parts) if parts else None


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    account: str
    address_lines: list[str]
    tax_id: str | None


@dataclass(frozen=True, slots=True)
class Tier:
    description: str
    quantity: str
    unit_price: str | None
    amount: str


@dataclass(frozen=True, slots=True)
class Line:
    position: int
    kind: str
    description: str
    product: str | None
    meter: str | None
    period: str | None  # the line's own period when it differs from the document's
    quantity: str | None
    unit_price: str | None
    amount: str
    tiers: list[Tier]
    # exact values for machines
    period_start_raw: str | None
    period_end_raw: str | None
    quantity_raw: str | None
    unit_price_raw: str | None
    precise_amount_raw: str
    amount_raw: str

    @property
    def detail(self) -> str:
        """The small print under a description: product · meter · period (the meter only when
        it says something the product does not)."""
        meter = self.meter if self.meter != self.product else None
        return " · ".join(p for p in (self.product, meter, self.period) if p)


@dataclass(frozen=True, slots=True)
class TotalRow:
    """kind: subtotal | discount | tax | surcharge | total | credit | payment | amount_due."""

    kind: str
    label: str
    amount: str
    amount_raw: str

    @property
    def strong(self) -> bool:
        return self.kind in ("total", "amount_due")


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # invoice | credit_note
    title: str  # "Invoice", "Credit note"
    number: str  # "DRAFT" until the invoice is finalized
    status: str
    status_label: str | None  # a badge: Draft, Paid, Void, Overdue; None for plain finalized
    currency: str
    seller: Brand
    customer: Party
    facts: list[tuple[str, str]]  # ("Issue date", "Dec 1, 2026"), ("Due date", …), …
    period: str
    period_start_raw: str
    period_end_raw: str
    lines: list[Line]
    totals: list[TotalRow]
    due_label: str  # "Amount due", "Total credited"
    due_amount: str
    due_amount_raw: str
    notes: list[str] = field(default_factory=list)  # terms, reason, where a credit went
    filename: str = "document"

    @property
    def heading(self) -> str:
        return f"{self.title} {self.number}"
