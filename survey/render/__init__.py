"""QR codes, printable posters and one-time-token slips for SIPAS.

Pure package: it turns URLs and names into PNG/SVG/PDF bytes and knows nothing
about the database or Flask, so views call it and tests exercise it alone.

* :func:`qr_png` / :func:`qr_svg`: a QR code (error correction M) for a link.
* :func:`posters_pdf`: one A4 or A5 poster page per service point, in
  Vietnamese, with a large QR (error correction Q, survives wear and glare).
* :func:`slips_pdf`: one-time-token slips, 8 per A4 page with cut lines or one
  80 mm thermal-receipt strip each.

The PDFs embed a TrueType font that covers Vietnamese (Be Vietnam Pro from the
``fontpkg-be-vietnam-pro`` pip package, falling back to DejaVu Sans); why, and
the search order, are in :mod:`survey.render._pdf`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.svg
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm

from survey.render._pdf import (
    ACCENT,
    BOLD,
    MUTED,
    REGULAR,
    Block,
    draw,
    draw_qr,
    fit,
    font_paths,
    new_canvas,
    stack_height,
)

__all__ = ["Poster", "Slip", "font_paths", "posters_pdf", "qr_png", "qr_svg", "slips_pdf"]

HEADING = "Đánh giá mức độ hài lòng của người dân"
HEADING_LINES = ("ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", "CỦA NGƯỜI DÂN")  # poster heading, upper case
INSTRUCTION = "Quét mã QR bằng camera điện thoại"
ANONYMITY = "Phiếu khảo sát ẩn danh: không thu thập họ tên, số điện thoại hay địa chỉ IP."
SLIP_INVITE = "Mời ông/bà đánh giá sự phục vụ — mã dùng một lần"
_MAX_URL = 1500  # bytes; a version-40 QR holds 1663 at level Q (keep links short to print)


@dataclass(frozen=True)
class Poster:
    """One poster page: who is evaluated, where, and the survey link."""

    unit_name: str
    point_name: str
    url: str
    short_url: str
    subtitle: str = ""  # e.g. "về sự phục vụ của Bệnh viện" / sector wording


@dataclass(frozen=True)
class Slip:
    """One receipt slip carrying a one-time survey link."""

    unit_name: str
    url: str
    expires_text: str


def _validate_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL, else raise ValueError."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"QR URL must be a non-empty string, got {url!r}")
    if url != url.strip() or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError(f"QR URL must not contain whitespace or control characters: {url!r}")
    if len(url.encode("utf-8")) > _MAX_URL:
        raise ValueError(f"QR URL is too long (over {_MAX_URL} UTF-8 bytes)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"QR URL is malformed: {url!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"QR URL must start with http:// or https://, got {url!r}")
    if not host:
        raise ValueError(f"QR URL has no host name: {url!r}")
    return url


def _qr(url: str, ec: int, *, box_size: int = 10, border: int = 4) -> qrcode.QRCode:
    q = qrcode.QRCode(error_correction=ec, box_size=box_size, border=border)
    q.add_data(_validate_url(url).encode("utf-8"))
    q.make(fit=True)
    return q


def _matrix(url: str, ec: int) -> list[list[bool]]:
    return list(_qr(url, ec).get_matrix())


def qr_png(url: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """PNG bytes of a QR code (error correction M) for an http(s) ``url``."""
    if box_size < 1 or border < 0:
        raise ValueError("box_size must be >= 1 and border >= 0")
    img = _qr(url, qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border).make_image()
    buf = io.BytesIO()
    img.save(buf)  # PilImage defaults to PNG
    return buf.getvalue()


def qr_svg(url: str) -> bytes:
    """Standalone SVG document (UTF-8 bytes) of a QR code (error correction M)."""
    q = _qr(url, qrcode.constants.ERROR_CORRECT_M)
    svg = q.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return bytes(svg.to_string(encoding="UTF-8"))


# ------------------------------------------------------------------- posters
def posters_pdf(posters: Sequence[Poster], *, size: Literal["A4", "A5"] = "A4") -> bytes:
    """One portrait A4 or A5 page per poster: heading band, unit and point names,
    a large QR (error correction Q), instruction, short URL and anonymity note."""
    if size not in ("A4", "A5"):
        raise ValueError(f"size must be 'A4' or 'A5', got {size!r}")
    if not posters:
        raise ValueError("posters_pdf needs at least one Poster")
    for p in posters:
        _validate_url(p.url)
    page_w, page_h = A4 if size == "A4" else A5
    s = page_w / A4[0]  # laid out for A4, scaled for A5
    margin = 36 * s
    inner = page_w - 2 * margin
    buf = io.BytesIO()
    c = new_canvas(buf, (page_w, page_h), "SIPAS – mã QR khảo sát")
    for p in posters:
        hs = min(fit(t, BOLD, 26 * s, inner, 1, 12 * s).size for t in HEADING_LINES)
        head = [Block(list(HEADING_LINES), BOLD, hs, white, 1.45)]  # stacked marks on caps
        if p.subtitle.strip():
            head.append(fit(p.subtitle, REGULAR, 16 * s, inner, 2, 11 * s, white))
        band_h = 22 * s + stack_height(head, 2 * s)
        c.setFillColor(ACCENT)
        c.rect(0, page_h - band_h, page_w, band_h, stroke=0, fill=1)
        draw(c, head, margin, page_h - 10 * s, inner, 2 * s)
        names = [fit(p.unit_name, BOLD, 22 * s, inner, 3, 12 * s, ACCENT)]
        if p.point_name.strip():
            names.append(fit(p.point_name, REGULAR, 17 * s, inner, 3, 11 * s))
        names_bottom = draw(c, names, margin, page_h - band_h - 16 * s, inner, 4 * s)
        foot = [fit(INSTRUCTION, BOLD, 20 * s, inner, 2, 12 * s)]
        if p.short_url.strip():
            foot.append(fit("hoặc truy cập:", REGULAR, 13 * s, inner, 1, 8 * s, MUTED))
            foot.append(fit(p.short_url, BOLD, 20 * s, inner, 2, 9 * s, ACCENT))
        foot.append(fit(ANONYMITY, REGULAR, 13 * s, inner, 3, 9 * s, MUTED))
        foot_top = margin + stack_height(foot, 6 * s)
        draw(c, foot, margin, foot_top, inner, 6 * s)
        # The QR takes the space left in the middle (its quiet zone is inside the square).
        room = names_bottom - foot_top - 20 * s
        side = max(min(room, 0.68 * page_w), 0)
        qr_y = foot_top + 10 * s + (room - side) / 2
        draw_qr(
            c, _matrix(p.url, qrcode.constants.ERROR_CORRECT_Q), (page_w - side) / 2, qr_y, side
        )
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------- slips
def _slip_blocks(slip: Slip, width: float, scale: float = 1.0) -> list[Block]:
    """Unit name, invitation, expiry, then instruction and anonymity in small print."""
    blocks = [fit(slip.unit_name, BOLD, 10.5 * scale, width, 3, 7 * scale)]
    blocks.append(fit(SLIP_INVITE, REGULAR, 9 * scale, width, 3, 6.5 * scale))
    if slip.expires_text.strip():
        blocks.append(fit(slip.expires_text, BOLD, 9 * scale, width, 2, 6.5 * scale, ACCENT))
    blocks.append(fit(f"{INSTRUCTION}. {ANONYMITY}", REGULAR, 6.5 * scale, width, 5, 5, MUTED))
    return blocks


def slips_pdf(
    slips: Sequence[Slip], *, layout: Literal["a4_grid", "receipt_80mm"] = "a4_grid"
) -> bytes:
    """Slips for one-time tokens: ``a4_grid`` puts 2 x 4 slips on each A4 page
    with dashed cut lines; ``receipt_80mm`` makes one 80 mm wide page per slip,
    as tall as its content, for thermal receipt printers."""
    if layout not in ("a4_grid", "receipt_80mm"):
        raise ValueError(f"layout must be 'a4_grid' or 'receipt_80mm', got {layout!r}")
    if not slips:
        raise ValueError("slips_pdf needs at least one Slip")
    for sl in slips:
        _validate_url(sl.url)
    ec, pad, gap = qrcode.constants.ERROR_CORRECT_M, 5 * mm, 3.0
    buf = io.BytesIO()
    if layout == "receipt_80mm":
        width, side = 80 * mm, 52 * mm
        c = new_canvas(buf, (width, 150 * mm), "SIPAS – phiếu đánh giá")
        for sl in slips:
            blocks = _slip_blocks(sl, width - 2 * pad, 1.2)
            height = 2 * pad + side + 3 * mm + stack_height(blocks, gap)
            c.setPageSize((width, height))
            draw_qr(c, _matrix(sl.url, ec), (width - side) / 2, height - pad - side, side)
            draw(c, blocks, pad, height - pad - side - 3 * mm, width - 2 * pad, gap)
            c.showPage()
    else:
        cols, rows = 2, 4
        cw, ch = A4[0] / cols, A4[1] / rows
        side = min(ch - 2 * pad, 44 * mm)
        tw = cw - 2 * pad - side - 3 * mm
        c = new_canvas(buf, A4, "SIPAS – phiếu đánh giá")
        for start in range(0, len(slips), cols * rows):
            c.setStrokeColor(HexColor("#888888"))
            c.setLineWidth(0.5)
            c.setDash(4, 3)
            for i in range(1, cols):
                c.line(i * cw, 0, i * cw, A4[1])
            for j in range(1, rows):
                c.line(0, j * ch, A4[0], j * ch)
            c.setDash()
            for k, sl in enumerate(slips[start : start + cols * rows]):
                x0, y0 = (k % cols) * cw, A4[1] - (k // cols + 1) * ch
                draw_qr(c, _matrix(sl.url, ec), x0 + pad, y0 + (ch - side) / 2, side)
                blocks = _slip_blocks(sl, tw)
                top = y0 + (ch + stack_height(blocks, gap)) / 2
                draw(c, blocks, x0 + cw - pad - tw, top, tw, gap, centre=False)
            c.showPage()
    c.save()
    return buf.getvalue()
