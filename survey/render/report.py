"""A printable A4 report from plain values: a title page, headings, paragraphs, tables and
horizontal bar charts with confidence-interval bars and a target line, drawn with
ReportLab (platypus and graphics) in the embedded Vietnamese font of
:mod:`survey.render._pdf`. Knows nothing of the app: the results domain builds the
blocks (:mod:`survey.results.services.reports`), this module lays them out.

Charts are vector drawings (crisp in print); each is split into pieces of at most
:data:`CHART_ROWS` bars so that a long list of agencies flows over pages.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from survey.render._pdf import ACCENT, BOLD, MUTED, REGULAR, register_fonts

__all__ = ["Bar", "Chart", "Facts", "Heading", "Note", "PageEnd", "Text", "TableBlock",
           "TitlePage", "report_pdf"]

CHART_ROWS = 30
COLOURS = {"below": colors.HexColor("#b00020"), "above": colors.HexColor("#1b7f3b"),
           "level": colors.HexColor("#4a5a80"), "none": colors.HexColor("#4a5a80")}


@dataclass(frozen=True)
class TitlePage:
    title: str
    subject: str
    lines: Sequence[str] = ()


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 or 2


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Note:
    """Small grey print (a source, a caveat)."""

    text: str


@dataclass(frozen=True)
class Facts:
    """Label: value lines (a definition list)."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class TableBlock:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] = ()  # fractions of the text width; empty: equal


@dataclass(frozen=True)
class Bar:
    """One bar: an estimate with its interval, on a scale 0..``Chart.top``; ``None``
    estimate: nothing drawn but ``note`` (e.g. "không công bố")."""

    label: str
    estimate: float | None
    low: float | None = None
    high: float | None = None
    target: float | None = None
    status: str = "none"  # below | above | level | none: the colour
    note: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    bars: Sequence[Bar]
    top: float = 100.0
    unit: str = "%"
    ticks: Sequence[float] = field(default=(0, 25, 50, 75, 100))


@dataclass(frozen=True)
class PageEnd:
    """Start a new page."""


Block = TitlePage | Heading | Text | Note | Facts | TableBlock | Chart | PageEnd


# Characters the embedded font lacks (ReportLab would draw an empty box), and what to
# draw instead; anything else missing becomes "?" (see _nfc).
SUBSTITUTES = {"→": "–", "←": "–", "↔": "–", "⇒": "–", "✓": "•", "✔": "•", "✗": "x"}


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(REGULAR).face.charToGlyph)


def _nfc(text: str) -> str:
    """NFC text with every character the font can draw (see :data:`SUBSTITUTES`)."""
    text = unicodedata.normalize("NFC", text)
    have = _glyphs()
    if all(ord(c) in have or c in "\n\t" for c in text):
        return text
    return "".join(c if ord(c) in have or c in "\n\t" else SUBSTITUTES.get(c, "?")
                   for c in text)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5,
                                textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=8, leading=10),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=14, leading=19,
                             textColor=ACCENT, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11, leading=15,
                             spaceBefore=6, spaceAfter=3),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=20, leading=28,
                                alignment=TA_CENTER, textColor=ACCENT),
        "subject": ParagraphStyle("subject", parent=base, fontName=BOLD, fontSize=15,
                                  leading=21, alignment=TA_CENTER),
        "centre": ParagraphStyle("centre", parent=base, fontSize=10.5, leading=15,
                                 alignment=TA_CENTER),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_nfc(text)).replace("\n", "<br/>"), style)


def _chart(chart: Chart, width: float) -> list[Any]:
    out: list[Any] = []
    bars = list(chart.bars)
    for start in range(0, max(len(bars), 1), CHART_ROWS):
        piece = bars[start:start + CHART_ROWS]
        out.append(_drawing(chart, piece, width))
    return out


def _drawing(chart: Chart, bars: Sequence[Bar], width: float) -> Drawing:
    row_h, left, right = 16.0, width * 0.38, 34.0
    plot = width - left - right
    height = len(bars) * row_h + 22
    d = Drawing(width, height)

    def x(value: float) -> float:
        return left + max(0.0, min(value, chart.top)) / chart.top * plot

    for tick in chart.ticks:
        d.add(Line(x(tick), 14, x(tick), height, strokeColor=colors.HexColor("#dddddd"),
                   strokeWidth=0.5))
        d.add(String(x(tick), 3, f"{tick:g}{chart.unit}", fontName=REGULAR, fontSize=7,
                     fillColor=MUTED, textAnchor="middle"))
    for i, bar in enumerate(bars):
        y = height - (i + 1) * row_h
        label = _nfc(bar.label)
        while label and pdfmetrics.stringWidth(label, REGULAR, 7.5) > left - 8:
            label = label[:-2] + "…" if len(label) > 2 else ""
        d.add(String(left - 5, y + 5, label, fontName=REGULAR, fontSize=7.5,
                     textAnchor="end"))
        colour = COLOURS.get(bar.status, COLOURS["none"])
        if bar.estimate is not None:
            d.add(Rect(left, y + 3, x(bar.estimate) - left, row_h - 7, strokeColor=None,
                       fillColor=colour, fillOpacity=0.3))
            if bar.low is not None and bar.high is not None:
                cy = y + row_h / 2 - 0.5
                d.add(Line(x(bar.low), cy, x(bar.high), cy, strokeColor=colour, strokeWidth=1.4))
                for end in (bar.low, bar.high):
                    d.add(Line(x(end), cy - 3.5, x(end), cy + 3.5, strokeColor=colour,
                               strokeWidth=1.4))
            d.add(Circle(x(bar.estimate), y + row_h / 2 - 0.5, 2.2, fillColor=colour,
                         strokeColor=None))
            d.add(String(left + plot + 3, y + 5, f"{bar.estimate:.1f}".replace(".", ","),
                         fontName=REGULAR, fontSize=7.5))
        else:
            d.add(String(left + 3, y + 5, _nfc(bar.note), fontName=REGULAR, fontSize=7,
                         fillColor=MUTED))
        if bar.target is not None:
            d.add(Line(x(bar.target), y, x(bar.target), y + row_h, strokeColor=COLOURS["below"],
                       strokeWidth=0.8, strokeDashArray=[2, 1.5]))
    return d


def _table(block: TableBlock, width: float, styles: dict[str, ParagraphStyle]) -> Table:
    n = len(block.header) or len(block.rows[0])
    fractions = list(block.widths) or [1.0 / n] * n
    total = sum(fractions)
    data = [[_p(h, styles["head"]) for h in block.header]] if block.header else []
    data += [[_p(str(v), styles["cell"]) for v in row] for row in block.rows]
    table = Table(data, colWidths=[width * f / total for f in fractions],
                  repeatRows=1 if block.header else 0)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0 if block.header else -1),
         colors.HexColor("#dce6f2") if block.header else colors.white),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def report_pdf(title: str, blocks: Sequence[Block]) -> bytes:
    """The report as PDF bytes (A4 portrait, page numbers and ``title`` in the footer)."""
    register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm, title=_nfc(title),
                            author="SIPAS", creator="SIPAS survey.render", invariant=True)
    width = doc.width
    story: list[Any] = []
    for block in blocks:
        if isinstance(block, TitlePage):
            story += [Spacer(1, 60 * mm), _p(block.title, styles["title"]), Spacer(1, 8 * mm),
                      _p(block.subject, styles["subject"]), Spacer(1, 10 * mm)]
            story += [_p(line, styles["centre"]) for line in block.lines]
            story.append(PageBreak())
        elif isinstance(block, Heading):
            story += [CondPageBreak(40 * mm),
                      _p(block.text, styles["h1" if block.level == 1 else "h2"])]
        elif isinstance(block, Text):
            story.append(_p(block.text, styles["body"]))
            story.append(Spacer(1, 2 * mm))
        elif isinstance(block, Note):
            story.append(_p(block.text, styles["small"]))
        elif isinstance(block, Facts):
            story.append(_table(TableBlock((), list(block.items), (0.35, 0.65)), width,
                                styles))
        elif isinstance(block, TableBlock):
            story += [_table(block, width, styles), Spacer(1, 3 * mm)]
        elif isinstance(block, Chart):
            story.append(KeepTogether([_p(block.title, styles["h2"]), *_chart(block, width)[:1]]))
            story += _chart(block, width)[1:]
            story.append(Spacer(1, 3 * mm))
        elif isinstance(block, PageEnd):
            story.append(PageBreak())

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 9 * mm, _nfc(title)[:110])
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"Trang {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
