"""Document endpoints through the real app: formats and headers, scoping, white label, credit
notes, a real billed invoice, and the CLI."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docs_helpers import (
    CUSTOMER_NAME,
    PROVIDER_NAME,
    RESELLER_NAME,
    Docs,
    make_docs,
    many_lines,
)
from pypdf import PdfReader
from typer.testing import CliRunner

from meterly.cli import app as cli_app
from meterly.config import Settings
from meterly.jobs.worker import Worker
from meterly.runtime import Runtime

FORMATS = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    meta = reader.metadata or {}
    return "\n".join([*(p.extract_text() for p in reader.pages), *map(str, meta.values())])


def texts(docs: Docs, path: str, key: str | None = None) -> dict[str, str]:
    """Every format of a document as the text a reader sees."""
    out = {}
    for fmt in FORMATS:
        r = docs.env.get(f"{path}.{fmt}", key=key)
        assert r.status_code == 200, r.text
        out[fmt] = pdf_text(r.content) if fmt == "pdf" else r.content.decode("utf-8-sig")
    return out


@pytest.fixture
def docs(env: Any) -> Docs:
    return make_docs(env)


def test_formats_headers_and_route_order(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(4))
    for fmt, media in FORMATS.items():
        r = docs.env.get(f"/v1/invoices/{inv}.{fmt}", key=docs.customer_key)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == media
        disposition = "attachment" if fmt == "csv" else "inline"
        expected = f'{disposition}; filename="MIT-2026-000001.{fmt}"'
        assert r.headers["content-disposition"] == expected
        assert r.headers["cache-control"] == "private, no-store"
    assert docs.env.get(f"/v1/invoices/{inv}.pdf").content.startswith(b"%PDF-")
    # the JSON endpoint still answers: the documents router does not shadow /invoices/{id}
    assert docs.env.get(f"/v1/invoices/{inv}").json()["number"] == "MIT-2026-000001"
    assert docs.env.get(f"/v1/invoices/{inv}.xml").status_code in (404, 422)
    assert docs.env.client.get(f"/v1/invoices/{inv}.pdf").status_code == 401


def test_documents_are_scoped_like_the_invoice(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(2))
    bakery = docs.env.key_for("bakery")
    for fmt in FORMATS:
        path = f"/v1/invoices/{inv}.{fmt}"
        assert docs.env.get(path, key=docs.other_key).status_code == 404  # sibling reseller
        assert docs.env.get(path, key=bakery).status_code == 404  # another reseller's customer
        assert docs.env.get(path, key=docs.msp_key).status_code == 200  # its seller
        assert docs.env.get(path).status_code == 200  # the provider
        assert docs.env.get(f"/v1/invoices/{inv + 99}.{fmt}").status_code == 404
    body = docs.env.get(f"/v1/invoices/{inv}.pdf", key=docs.other_key).json()
    assert body["error"] == "not_found"


def test_a_resellers_customer_never_sees_the_provider(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(30))
    for fmt, text in texts(docs, f"/v1/invoices/{inv}", docs.customer_key).items():
        assert RESELLER_NAME in text, fmt
        assert "MIT-2026-000001" in text, fmt
        for upstream in (PROVIDER_NAME, "Skyline", "skyline", "SKY-", "SKY-TAX", "Dallas"):
            assert upstream not in text, (fmt, upstream)
    html = texts(docs, f"/v1/invoices/{inv}")["html"]
    assert "12 Harbor St" in html and "US-12-3456789" in html and "help@metro-it.example" in html
    assert "#0f766e" in html.lower() and "Pay by ACH to Metro IT Services" in html


def test_the_provider_bills_the_reseller_in_its_own_brand(docs: Docs) -> None:
    inv = docs.invoice("metro-msp", many_lines(3))
    pdf = texts(docs, f"/v1/invoices/{inv}", docs.msp_key)["pdf"]
    assert PROVIDER_NAME in pdf and "SKY-2026-000001" in pdf
    assert RESELLER_NAME in pdf  # as the customer billed: its own display name


def test_credit_note_documents(docs: Docs) -> None:
    inv = docs.invoice("law-firm", many_lines(3))
    seat = docs.env.get(f"/v1/invoices/{inv}").json()["lines"][0]
    assert seat["kind"] == "fee"
    body = {"reason": "Two seats were idle", "lines": [{"line_id": _line_id(docs, inv, 0),
                                                         "amount": "40.00"}]}  # fmt: skip
    r = docs.env.post(f"/v1/invoices/{inv}/credit-notes", body, key=docs.msp_key)
    assert r.status_code == 201, r.text
    cn = r.json()
    for fmt, text in texts(docs, f"/v1/credit-notes/{cn['id']}", docs.customer_key).items():
        assert cn["number"] in text and RESELLER_NAME in text, fmt
        assert PROVIDER_NAME not in text and "SKY-" not in text, fmt
        if fmt != "csv":
            assert "Two seats were idle" in text and "MIT-2026-000001" in text, fmt
    r = docs.env.get(f"/v1/credit-notes/{cn['id']}.pdf", key=docs.customer_key)
    assert r.headers["content-disposition"] == f'inline; filename="{cn["number"]}.pdf"'
    assert docs.env.get(f"/v1/credit-notes/{cn['id']}.pdf", key=docs.other_key).status_code == 404
    rows = list(csv.DictReader(io.StringIO(texts(docs, f"/v1/credit-notes/{cn['id']}")["csv"])))
    total = next(r for r in rows if r["kind"] == "total")
    assert Decimal(total["amount"]) == Decimal(cn["total"])
    assert docs.env.get(f"/v1/credit-notes/{cn['id']}").json()["number"] == cn["number"]


def _line_id(docs: Docs, invoice_id: int, position: int) -> int:
    from sqlalchemy import select

    from meterly.billing.models import InvoiceLine

    with docs.env.runtime.ledger.sessions() as s:
        return int(
            s.scalar(
                select(InvoiceLine.id).where(
                    InvoiceLine.invoice_id == invoice_id, InvoiceLine.position == position
                )
            )
            or 0
        )


def test_a_billed_invoice_renders_to_the_cent(env: Any) -> None:
    from datetime import UTC, datetime

    from scenario import AS_OF, EXPECTED, build

    build(env)
    r = env.post("/v1/bill-runs", {"as_of": AS_OF})
    assert r.status_code == 202, r.text
    Worker(env.runtime, clock=lambda: datetime(2026, 12, 1, 1, tzinfo=UTC)).run_until_idle()
    [summary] = env.get("/v1/invoices", params={"customer": "law-firm"}).json()["data"]
    assert env.post(f"/v1/invoices/{summary['id']}/finalize").status_code == 200
    inv = env.get(f"/v1/invoices/{summary['id']}").json()
    rows = list(csv.DictReader(io.StringIO(
        env.get(f"/v1/invoices/{inv['id']}.csv").content.decode("utf-8-sig")
    )))  # fmt: skip
    lines = [r for r in rows if r["row"] == "line"]
    expected, subtotal = EXPECTED["law-firm"]
    assert [(r["kind"], r["amount"]) for r in lines] == [(k, a) for k, _, _, a in expected]
    assert sum(Decimal(r["amount"]) for r in lines) == Decimal(subtotal)
    pdf = pdf_text(env.get(f"/v1/invoices/{inv['id']}.pdf").content)
    assert inv["number"] in pdf and "$280.53" in pdf and "Law Firm" in pdf
    assert "0 – 100" in pdf or "Fax pages" in pdf
    html = env.get(f"/v1/invoices/{inv['id']}.html").text
    for line in inv["lines"]:
        assert line["description"].split(" (")[0] in html


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_cli_writes_documents(
    env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    docs = make_docs(env)
    inv = docs.invoice("law-firm", many_lines(5))
    env.runtime.close()  # the CLI opens the same data folder
    monkeypatch.setenv("METERLY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("METERLY_LEDGER_URL", settings.ledger_url or "")
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    runner = CliRunner()
    out = tmp_path / "inv.pdf"
    result = runner.invoke(cli_app, ["invoices", "pdf", str(inv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert CUSTOMER_NAME in pdf_text(out.read_bytes())
    target = tmp_path / "inv.csv"
    args = ["documents", "invoice", str(inv), "--format", "csv", "--out", str(target)]
    assert runner.invoke(cli_app, args).exit_code == 0
    assert target.read_text(encoding="utf-8-sig").startswith("row,number,")
    scoped = ["invoices", "pdf", str(inv), "--account", "harbor-msp", "--out", str(out)]
    assert runner.invoke(cli_app, scoped).exit_code == 1  # not found from a sibling's view
    assert runner.invoke(cli_app, ["documents", "invoice", str(inv), "-f", "xml"]).exit_code == 2
    Runtime.open(Settings()).close()  # the data folder is left usable
