"""PDF documents with reportlab platypus.

Layout: a running header on every page (logo, seller name, document title and number, a rule in
the seller's colour), a running footer (the seller's footer text, support contact, "Page n of m");
the first page then shows who bills whom and the key dates, the line table (its header row is
repeated on every page it spans), and the totals with the amount due kept together at the end.
The built-in Helvetica fonts keep files small and their text extractable.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from meterly.documents.logo import load_logo
from meterly.documents.model import Document

MARGIN = 18 * mm
HEADER_H = 24 * mm  # the running header's band, above the frame
FOOTER_H = 16 * mm
FOOT_Y = MARGIN - 2 * mm  # the footer's last line: the document and "Page n of m"
GREY = colors.HexColor("#6b7280")
LIGHT = colors.HexColor("#f3f4f6")
RULE = colors.HexColor("#e5e7eb")
INK = colors.HexColor("#111827")
# North American readers expect Letter, everyone else A4
LETTER_CURRENCIES = frozenset({"USD", "CAD", "MXN"})


def _esc(text: str) -> str:
    """Paragraph text is a small XML dialect: escape what a customer name may contain."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _styles(doc: Document) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="Helvetica", fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=9.5, textColor=GREY),
        "label": ParagraphStyle(
            "label", base, fontName="Helvetica-Bold", fontSize=7, leading=9, textColor=GREY
        ),
        "strong": ParagraphStyle("strong", base, fontName="Helvetica-Bold"),
        "party": ParagraphStyle("party", base, fontName="Helvetica-Bold", fontSize=10.5),
        "head": ParagraphStyle(
            "head", base, fontName="Helvetica-Bold", fontSize=8, textColor=colors.white
        ),
        "head_r": ParagraphStyle(
            "head_r",
            base,
            fontName="Helvetica-Bold",
            fontSize=8,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
        "num": ParagraphStyle("num", base, alignment=TA_RIGHT),
        "num_strong": ParagraphStyle(
            "num_strong", base, fontName="Helvetica-Bold", alignment=TA_RIGHT
        ),
    }


class _NumberedCanvas(Canvas):
    """Holds pages back until the end so each can say "Page n of m" (m unknown until then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._width = float(kwargs.get("pagesize", A4)[0])
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(GREY)
            text = f"Page {self.getPageNumber()} of {total}"
            self.drawRightString(self._width - MARGIN, FOOT_Y, text)
            super().showPage()
        super().save()


def _header_footer(doc: Document) -> Any:
    logo = load_logo(doc.seller.logo_url)
    reader = ImageReader(io.BytesIO(logo.data)) if logo else None
    primary = colors.HexColor(doc.seller.primary_color)

    def draw(canvas: Canvas, template: BaseDocTemplate) -> None:
        width, height = template.pagesize
        top = height - MARGIN
        canvas.saveState()
        x = MARGIN
        if reader is not None:
            iw, ih = reader.getSize()
            h = 14 * mm
            w = min(iw * h / ih, 50 * mm)
            canvas.drawImage(reader, x, top - h, width=w, height=w * ih / iw, mask="auto")
            x += w + 4 * mm
        canvas.setFillColor(primary)
        # a long trading name shrinks rather than running into the document title
        room = width - MARGIN - x - 60 * mm
        size = 13.0
        while size > 8 and stringWidth(doc.seller.name, "Helvetica-Bold", size) > room:
            size -= 0.5
        canvas.setFont("Helvetica-Bold", size)
        canvas.drawString(x, top - 6 * mm, doc.seller.name)
        if doc.seller.support:
            canvas.setFont("Helvetica", 7.5)
            canvas.setFillColor(GREY)
            canvas.drawString(x, top - 11 * mm, doc.seller.support)
        canvas.setFillColor(primary)
        canvas.setFont("Helvetica-Bold", 16)
        canvas.drawRightString(width - MARGIN, top - 6 * mm, doc.title.upper())
        canvas.setFont("Helvetica", 9)
        canvas.setFillColor(INK)
        canvas.drawRightString(width - MARGIN, top - 11 * mm, doc.number)
        canvas.setStrokeColor(primary)
        canvas.setLineWidth(1.5)
        canvas.line(MARGIN, top - HEADER_H + 4 * mm, width - MARGIN, top - HEADER_H + 4 * mm)
        # footer: the seller's own words, never Meterly's or an upstream seller's
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN + 9 * mm, width - MARGIN, MARGIN + 9 * mm)
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(GREY)
        footer = doc.seller.footer or doc.seller.name
        for i, text in enumerate(simpleSplit(footer, "Helvetica", 7.5, width - 2 * MARGIN)[:2]):
            canvas.drawString(MARGIN, MARGIN + (5.5 - 3 * i) * mm, text)
        where = f"{doc.title} {doc.number} · {doc.customer.name}"
        canvas.drawString(MARGIN, FOOT_Y, where)
        canvas.restoreState()

    return draw


def _parties(doc: Document, st: dict[str, ParagraphStyle], width: float) -> Flowable:
    seller = [Paragraph("FROM", st["label"]), Paragraph(_esc(doc.seller.name), st["party"])]
    seller += [Paragraph(_esc(x), st["base"]) for x in doc.seller.address_lines]
    if doc.seller.tax_id:
        seller.append(Paragraph(f"Tax ID {_esc(doc.seller.tax_id)}", st["small"]))
    to = "CREDITED TO" if doc.kind == "credit_note" else "BILL TO"
    customer = [Spacer(1, 4 * mm), Paragraph(to, st["label"])]
    customer.append(Paragraph(_esc(doc.customer.name), st["party"]))
    customer += [Paragraph(_esc(x), st["base"]) for x in doc.customer.address_lines]
    if doc.customer.tax_id:
        customer.append(Paragraph(f"Tax ID {_esc(doc.customer.tax_id)}", st["small"]))
    customer.append(Paragraph(f"Account {_esc(doc.customer.account)}", st["small"]))
    facts = [
        [Paragraph(_esc(k), st["small"]), Paragraph(f"<b>{_esc(v)}</b>", st["num"])]
        for k, v in [*doc.facts, ("Currency", doc.currency)]
    ]
    if doc.status_label:
        facts.append(
            [
                Paragraph("Status", st["small"]),
                Paragraph(f"<b>{_esc(doc.status_label.upper())}</b>", st["num"]),
            ]
        )
    facts_table = Table(facts, colWidths=[32 * mm, 48 * mm], hAlign="RIGHT")
    facts_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    outer = Table([[[*seller, *customer], facts_table]], colWidths=[width - 84 * mm, 84 * mm])
    outer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return outer


def _lines(doc: Document, st: dict[str, ParagraphStyle], width: float) -> Flowable:
    primary = colors.HexColor(doc.seller.primary_color)
    rows: list[list[Any]] = [
        [
            Paragraph("DESCRIPTION", st["head"]),
            Paragraph("QTY", st["head_r"]),
            Paragraph("UNIT PRICE", st["head_r"]),
            Paragraph("AMOUNT", st["head_r"]),
        ]
    ]
    for line in doc.lines:
        cell = [Paragraph(_esc(line.description), st["base"])]
        if line.detail:
            cell.append(Paragraph(_esc(line.detail), st["small"]))
        for t in line.tiers:
            unit = f" × {_esc(t.unit_price)}" if t.unit_price else ""
            text = f"&nbsp;&nbsp;{_esc(t.description)}: {_esc(t.quantity)}{unit} = {_esc(t.amount)}"
            cell.append(Paragraph(text, st["small"]))
        rows.append(
            [
                cell,
                Paragraph(_esc(line.quantity or ""), st["num"]),
                Paragraph(_esc(line.unit_price or ""), st["num"]),
                Paragraph(_esc(line.amount), st["num"]),
            ]
        )
    if not doc.lines:
        rows.append([Paragraph("No charges this period.", st["small"]), "", "", ""])
    fixed = 22 * mm + 26 * mm + 28 * mm
    table = Table(rows, colWidths=[width - fixed, 22 * mm, 26 * mm, 28 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), primary),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f9fafb")]),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _totals(doc: Document, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    accent = colors.HexColor(doc.seller.accent_color)
    rows = []
    style: list[Any] = [
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for i, row in enumerate(doc.totals):
        label, num = (st["strong"], st["num_strong"]) if row.strong else (st["base"], st["num"])
        rows.append([Paragraph(_esc(row.label), label), Paragraph(_esc(row.amount), num)])
        if row.strong:
            style.append(("LINEABOVE", (0, i), (-1, i), 0.75, INK))
    totals = Table(rows, colWidths=[62 * mm, 30 * mm], hAlign="RIGHT")
    totals.setStyle(TableStyle(style))
    white = ParagraphStyle("due", st["strong"], fontSize=12, leading=15, textColor=colors.white)
    white_r = ParagraphStyle("due_r", white, alignment=TA_RIGHT)
    due = Table(
        [[Paragraph(_esc(doc.due_label), white), Paragraph(_esc(doc.due_amount), white_r)]],
        colWidths=[52 * mm, 40 * mm],
        hAlign="RIGHT",
    )
    due.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), accent),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    notes: list[Flowable] = [Spacer(1, 6 * mm)]
    notes += [Paragraph(_esc(n), st["base"]) for n in doc.notes]
    return [KeepTogether([Spacer(1, 4 * mm), totals, Spacer(1, 3 * mm), due]), *notes]


def render_pdf(doc: Document) -> bytes:
    pagesize = LETTER if doc.currency.upper() in LETTER_CURRENCIES else A4
    out = io.BytesIO()
    template = BaseDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_H,
        bottomMargin=MARGIN + FOOTER_H,
        title=f"{doc.title} {doc.number}",
        author=doc.seller.name,
        subject=doc.customer.name,
        creator=doc.seller.name,
        producer=doc.seller.name,
    )
    frame = Frame(
        template.leftMargin, template.bottomMargin, template.width, template.height, id="body"
    )
    template.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header_footer(doc))])
    st = _styles(doc)
    story: list[Flowable] = [
        _parties(doc, st, template.width),
        Spacer(1, 8 * mm),
        _lines(doc, st, template.width),
        *_totals(doc, st),
    ]
    template.build(story, canvasmaker=_NumberedCanvas)
    return out.getvalue()
