"""One entry point for the API and the CLI: a document, scoped to the caller, in a format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from meterly.accounts.scope import Principal
from meterly.documents.context import credit_note_document, invoice_document
from meterly.documents.csv import render_csv
from meterly.documents.html import render_html
from meterly.documents.model import Document

Format = Literal["pdf", "html", "csv"]
Kind = Literal["invoice", "credit_note"]
FORMATS: tuple[Format, ...] = ("pdf", "html", "csv")
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_BUILDERS: dict[str, Callable[[Session, Principal, int], Document]] = {
    "invoice": invoice_document,
    "credit_note": credit_note_document,
}


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str
    filename: str


def render(doc: Document, fmt: Format) -> Rendered:
    if fmt == "pdf":
        from meterly.documents.pdf import render_pdf  # reportlab: only when a PDF is asked for

        body = render_pdf(doc)
    elif fmt == "html":
        body = render_html(doc).encode()
    else:
        # a BOM so spreadsheet programs read accented names as UTF-8, not as their local code page
        body = b"\xef\xbb\xbf" + render_csv(doc).encode()
    return Rendered(body, MEDIA_TYPES[fmt], f"{doc.filename}.{fmt}")


def document(
    session: Session, principal: Principal, kind: Kind, object_id: int, fmt: Format
) -> Rendered:
    """404 (NotFound) outside the caller's subtree, exactly like the JSON endpoints."""
    return render(_BUILDERS[kind](session, principal, object_id), fmt)
