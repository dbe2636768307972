"""Rendering: formatting rules, a long invoice's PDF pagination, HTML and CSV contents, logos."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docs_helpers import CUSTOMER_NAME, RESELLER_NAME, Docs, make_docs, many_lines, png
from pypdf import PdfReader

from meterly.cli_support import operator
from meterly.documents import format as fmt
from meterly.documents.context import invoice_document
from meterly.documents.csv import render_csv
from meterly.documents.html import render_html
from meterly.documents.logo import load_logo
from meterly.documents.model import Document, safe_color
from meterly.documents.pdf import render_pdf
from meterly.documents.render import document

D = Decimal


@pytest.fixture
def docs(env: Any) -> Docs:
    return make_docs(env)


def test_money_quantities_and_unit_prices_read_cleanly() -> None:
    assert fmt.money(D("1234.5"), "USD") == "$1,234.50"
    assert fmt.money(D("-12"), "USD") == "-$12.00"
    assert fmt.money(D("-0.001"), "USD") == "$0.00"  # no "-$0.00"
    assert fmt.money(D("1200"), "JPY") == "¥1,200"
    assert fmt.money(D("1.5"), "BHD") == "BHD 1.500"
    assert fmt.money(D("99"), "CAD") == "CAD 99.00"
    assert fmt.money_plain(D("2.5"), "USD") == "2.50"
    assert fmt.quantity(D("1234.500000000000")) == "1,234.5"
    assert fmt.quantity(D("1E+1")) == "10"
    assert fmt.quantity(D("0.100000000000")) == "0.1"
    assert fmt.unit_price(D("0.015000000000"), "USD") == "$0.015"
    assert fmt.unit_price(D("20.000000000000"), "USD") == "$20.00"
    assert fmt.unit_price(D("0.5"), "USD") == "$0.50"
    assert fmt.plain(D("280.000000000000")) == "280"


def test_periods_are_inclusive_local_dates() -> None:
    nov, dec = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    assert fmt.period_label(nov, dec, "UTC") == "Nov 1 – Nov 30, 2026"
    # New York: the UTC month starts on Oct 31 local time
    assert fmt.period_label(nov, dec, "America/New_York") == "Oct 31 – Nov 30, 2026"
    jan = datetime(2027, 1, 20, tzinfo=UTC)
    assert fmt.period_label(datetime(2026, 12, 20, tzinfo=UTC), jan, "UTC") == (
        "Dec 20, 2026 – Jan 19, 2027"
    )
    assert fmt.period_label(nov, nov, "UTC") == "Nov 1, 2026"  # a purchase: one instant


def test_colours_are_validated() -> None:
    assert safe_color("#0F766E", "#000000") == "#0F766E"
    assert safe_color("#abc", "#000000") == "#aabbcc"
    assert safe_color("red;background:url(x)", "#000000") == "#000000"
    assert safe_color(None, "#111111") == "#111111"


def test_logos_come_from_data_urls_or_local_images_only(tmp_path: Path) -> None:
    image = png()
    data_url = "data:image/png;base64," + base64.b64encode(image).decode()
    assert (logo := load_logo(data_url)) is not None and logo.data == image
    path = tmp_path / "logo.png"
    path.write_bytes(image)
    assert load_logo(str(path)) is not None
    assert load_logo(f"file://{path}") is not None
    secret = tmp_path / "secrets.txt"
    secret.write_text("password=hunter2")
    assert load_logo(str(secret)) is None  # not an image: never copied into a document
    assert load_logo("https://example.com/logo.png") is None  # never fetched
    assert load_logo("data:text/plain;base64,aGVsbG8=") is None
    assert load_logo(str(tmp_path / "missing.png")) is None


def _doc(docs: Docs, invoice_id: int) -> Document:
    rt = docs.env.runtime
    with rt.ledger.sessions() as s:
        return invoice_document(s, operator(rt), invoice_id)


def test_long_invoice_pdf_paginates_with_the_header_on_every_page(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(150))
    doc = _doc(docs, inv)
    reader = PdfReader(io.BytesIO(render_pdf(doc)))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) > 1
    for n, text in enumerate(pages, start=1):
        assert RESELLER_NAME in text and "MIT-2026-000001" in text, n
        assert f"Page {n} of {len(pages)}" in text
        assert "DESCRIPTION" in text and "AMOUNT" in text  # the table header row, repeated
    everything = "\n".join(pages)
    for i in range(150):
        assert f"line {i}\n" in everything or f"line {i} " in everything, i
    assert "Amount due" in pages[-1] and "$15,051.00" in pages[-1]  # totals close the document
    assert reader.metadata is not None and reader.metadata.title == "Invoice MIT-2026-000001"


def test_html_has_every_line_the_totals_and_escapes(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(150))
    html = render_html(_doc(docs, inv))
    for i in range(150):
        assert f"line {i}</div>" in html
    assert "Hartley &amp; Stone LLP" in html and CUSTOMER_NAME not in html
    for text in ("Subtotal", "$15,051.00", "Amount due", "$2.50", "$0.015", "1,234.5"):
        assert text in html
    assert "data:image/png;base64," in html  # the logo is embedded, nothing is fetched
    assert "http://" not in html and "https://" not in html


def test_csv_parses_and_its_lines_sum_to_the_subtotal(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(150))
    rows = list(csv.DictReader(io.StringIO(render_csv(_doc(docs, inv)))))
    lines = [r for r in rows if r["row"] == "line"]
    totals = {r["kind"]: D(r["amount"]) for r in rows if r["row"] == "total"}
    assert len(lines) == 150
    assert sum(D(r["amount"]) for r in lines) == totals["subtotal"] == D("15051.00")
    assert {r["number"] for r in rows} == {"MIT-2026-000001"}
    call = next(r for r in lines if r["product"] == "call-minutes")
    assert (call["quantity"], call["unit_price"], call["precise_amount"], call["amount"]) == (
        "1234.5", "0.015", "18.5175", "18.52",
    )  # fmt: skip
    assert call["line_period_start"].startswith("2026-11-11") and call["kind"] == "usage"
    assert totals["total"] == totals["subtotal"] + totals.get("tax", D(0))
    assert totals["amount_due"] == totals["total"]


def test_csv_neutralises_formulas(docs: Docs) -> None:
    line = {"kind": "one_off", "description": '=HYPERLINK("x")', "product": "phone-hardware"}
    inv = docs.invoice("law-firm", [{**line, "precise_amount": "-5"}])
    rows = list(csv.DictReader(io.StringIO(render_csv(_doc(docs, inv)))))
    assert rows[0]["description"] == '\'=HYPERLINK("x")' and rows[0]["amount"] == "-5.00"


def test_a_draft_says_so_and_shows_the_live_brand(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(3), final=False)
    rt = docs.env.runtime
    with rt.ledger.sessions() as s:
        rendered = document(s, operator(rt), "invoice", inv, "pdf")
    assert rendered.filename == f"invoice-{inv}-draft.pdf"
    text = PdfReader(io.BytesIO(rendered.body)).pages[0].extract_text()
    assert "DRAFT" in text and RESELLER_NAME in text and "This is a draft" in text


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_page_size_follows_the_readers_convention(docs: Docs, currency: str) -> None:
    doc = replace(_doc(docs, docs.invoice("law-firm", many_lines(2))), currency=currency)
    box = PdfReader(io.BytesIO(render_pdf(doc))).pages[0].mediabox
    assert round(float(box.width)) == (612 if currency == "USD" else 595)  # Letter | A4
