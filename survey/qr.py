"""QR codes, printable posters and one-time-token slips for SIPAS.

Pure module: it turns URLs and names into PNG/SVG/PDF bytes and knows nothing
about the database or Flask, so views call it and tests exercise it alone.

Font choice.  Vietnamese needs ~134 precomposed letters (ắ ầ ẫ ệ ở ữ ự đ Đ ...)
and ReportLab does no mark shaping, so the font must carry them as real glyphs.
The font is embedded (subset, ``FontFile2``) in every PDF and read from an
installed package at run time, never downloaded.  In order of preference:

1. ``fontpkg-be-vietnam-pro==1.2`` (PyPI, OFL-1.1, ~1 MB wheel, pulls the tiny
   pure-Python ``fontpkg==0.2.2``): *Be Vietnam Pro* is a sans-serif designed
   for Vietnamese, ships static Regular/Bold TrueType files (ReportLab cannot
   embed CFF ``.otf`` or variable fonts reliably), and covers every Vietnamese
   letter in both cases.  Being a pip package, ``pip install -r
   requirements.txt`` is enough on a fresh machine.  Alternatives checked:
   ``font-roboto`` 0.0.1 (2019 sdist) and ``font-source-sans-pro`` 0.0.1 also
   cover Vietnamese but are unmaintained repackagings; ``fontpkg-noto-sans``
   ships only a variable font; matplotlib's DejaVuSans is a 30 MB dependency.
2. Debian's ``fonts-dejavu-core`` (/usr/share/fonts/truetype/dejavu).
3. DejaVu Sans bundled with matplotlib, if matplotlib happens to be installed.

All text is NFC-normalised first, so names typed with combining marks (NFD)
still map onto the precomposed glyphs.
"""

from __future__ import annotations

import importlib.util
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.svg
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["Poster", "Slip", "font_paths", "posters_pdf", "qr_png", "qr_svg", "slips_pdf"]

HEADING = "Đánh giá mức độ hài lòng của người dân"
HEADING_LINES = ("ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", "CỦA NGƯỜI DÂN")  # poster heading, upper case
INSTRUCTION = "Quét mã QR bằng camera điện thoại"
ANONYMITY = "Phiếu khảo sát ẩn danh: không thu thập họ tên, số điện thoại hay địa chỉ IP."
SLIP_INVITE = "Mời ông/bà đánh giá sự phục vụ — mã dùng một lần"
REGULAR, BOLD = "SipasSans", "SipasSans-Bold"
ACCENT = HexColor("#0b4f8a")
MUTED = HexColor("#444444")
_MAX_URL = 1500
LEADING = 1.3  # line height / font size; room for stacked marks such as Ấ Ộ


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
    if len(url) > _MAX_URL:
        raise ValueError(f"QR URL is too long ({len(url)} > {_MAX_URL} characters)")
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


# --------------------------------------------------------------------- fonts
def _package_dir(name: str) -> Path | None:
    """Directory of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def font_paths() -> tuple[Path, Path]:
    """(regular, bold) TrueType files with Vietnamese coverage; see module doc."""
    candidates: list[tuple[Path, Path]] = []
    bvp = _package_dir("fontpkg_be_vietnam_pro")
    if bvp:
        candidates.append((bvp / "files/BeVietnamPro-Regular.ttf", bvp / "files/BeVietnamPro-Bold.ttf"))
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    candidates.append((dejavu / "DejaVuSans.ttf", dejavu / "DejaVuSans-Bold.ttf"))
    mpl = _package_dir("matplotlib")
    if mpl:
        ttf = mpl / "mpl-data/fonts/ttf"
        candidates.append((ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"))
    for reg_path, bold_path in candidates:
        if reg_path.is_file() and bold_path.is_file():
            return reg_path, bold_path
    raise RuntimeError(
        "No TrueType font with Vietnamese glyphs found: "
        "pip install fontpkg-be-vietnam-pro==1.2 (or apt-get install fonts-dejavu-core)"
    )


@lru_cache(maxsize=1)
def _register_fonts() -> str:
    reg, bold = font_paths()
    pdfmetrics.registerFont(TTFont(REGULAR, str(reg)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    return reg.name


# -------------------------------------------------------------------- layout
def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than ``width`` is broken between characters."""
    def fits(t: str) -> bool:
        return bool(pdfmetrics.stringWidth(t, font, size) <= width)

    lines: list[str] = []
    cur = ""
    for word in text.split():
        if not fits(word):
            if cur:
                lines.append(cur)
            while len(word) > 1 and not fits(word):
                i = len(word) - 1
                while i > 1 and not fits(word[:i]):
                    i -= 1
                lines.append(word[:i])
                word = word[i:]
            cur = word
        elif not cur or fits(f"{cur} {word}"):
            cur = f"{cur} {word}" if cur else word
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines or [""]


def _fit(text: str, font: str, size: float, width: float, max_lines: int,
         min_size: float) -> tuple[float, list[str]]:
    """Largest size <= ``size`` at which ``text`` wraps into ``max_lines``; else ellipsis."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    while True:
        lines = _wrap(text, font, size, width)
        if len(lines) <= max_lines:
            return size, lines
        if size * 0.92 < min_size:
            break
        size *= 0.92
    lines = lines[:max_lines]
    last = lines[-1]
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return size, lines


def _text_block(c: Canvas, lines: list[str], font: str, size: float, cx: float,
                top: float, color: Color = black, leading: float = LEADING) -> float:
    """Draw centred lines below ``top``; return the y of the block's bottom."""
    c.setFont(font, size)
    c.setFillColor(color)
    y = top
    for line in lines:
        y -= size * leading
        c.drawCentredString(cx, y + size * 0.3, line)
    return y


def _draw_qr(c: Canvas, url: str, ec: int, x: float, y: float, side: float) -> None:
    """Draw the QR (quiet zone included) as vector squares in a ``side`` box."""
    matrix = _qr(url, ec).get_matrix()
    n = len(matrix)
    m = side / n
    c.setFillColor(white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(black)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + start * m, y + side - (r + 1) * m, (col - start) * m, m)
            col += 1
    c.drawPath(path, stroke=0, fill=1)


def _canvas(buf: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    _register_fonts()
    c = Canvas(buf, pagesize=size, invariant=True, pageCompression=1,
               initialFontName=REGULAR, initialFontSize=10)  # no stray Helvetica
    c.setTitle(title)
    c.setAuthor("SIPAS")
    c.setCreator("SIPAS survey.qr")
    return c


# ------------------------------------------------------------------- posters
def posters_pdf(posters: Sequence[Poster], *, size: Literal["A4", "A5"] = "A4") -> bytes:
    """One portrait page per poster, A4 or A5, with an embedded Vietnamese font."""
    if size not in ("A4", "A5"):
        raise ValueError(f"size must be 'A4' or 'A5', got {size!r}")
    if not posters:
        raise ValueError("posters_pdf needs at least one Poster")
    for p in posters:
        _validate_url(p.url)
    page_w, page_h = A4 if size == "A4" else A5
    s = page_w / A4[0]  # everything is laid out for A4 and scaled
    margin, inner = 36 * s, page_w - 72 * s
    buf = io.BytesIO()
    c = _canvas(buf, (page_w, page_h), "SIPAS – mã QR khảo sát")
    cx = page_w / 2
    for p in posters:
        # Heading band.
        hs = min(_fit(t, BOLD, 26 * s, inner, 1, 12 * s)[0] for t in HEADING_LINES)
        hl = list(HEADING_LINES)
        sub = _fit(p.subtitle, REGULAR, 16 * s, inner, 2, 11 * s) if p.subtitle else None
        band_h = 22 * s + len(hl) * hs * 1.45 + (len(sub[1]) * sub[0] * LEADING if sub else 0)
        c.setFillColor(ACCENT)
        c.rect(0, page_h - band_h, page_w, band_h, stroke=0, fill=1)
        y = _text_block(c, hl, BOLD, hs, cx, page_h - 11 * s, white, 1.45)
        if sub:
            _text_block(c, sub[1], REGULAR, sub[0], cx, y, white)
        # Unit and point names.
        us, ul = _fit(p.unit_name, BOLD, 22 * s, inner, 3, 12 * s)
        y = _text_block(c, ul, BOLD, us, cx, page_h - band_h - 18 * s, ACCENT)
        ps, pl = _fit(p.point_name, REGULAR, 17 * s, inner, 3, 11 * s)
        names_bottom = _text_block(c, pl, REGULAR, ps, cx, y - 4 * s)
        # Footer, bottom-up: anonymity, short URL, instruction.
        fs, fl = _fit(ANONYMITY, REGULAR, 13 * s, inner, 3, 9 * s)
        foot_top = margin + len(fl) * fs * LEADING
        _text_block(c, fl, REGULAR, fs, cx, foot_top, MUTED)
        link = unicodedata.normalize("NFC", p.short_url.strip())
        ls, ll = _fit(link, BOLD, 20 * s, inner, 2, 9 * s)
        link_top = foot_top + 10 * s + len(ll) * ls * LEADING
        _text_block(c, ll, BOLD, ls, cx, link_top, ACCENT)
        ts, tl = _fit("hoặc truy cập:", REGULAR, 13 * s, inner, 1, 8 * s)
        or_top = link_top + ts * LEADING
        _text_block(c, tl, REGULAR, ts, cx, or_top, MUTED)
        is_, il = _fit(INSTRUCTION, BOLD, 20 * s, inner, 2, 12 * s)
        ins_top = or_top + 6 * s + len(il) * is_ * LEADING
        _text_block(c, il, BOLD, is_, cx, ins_top)
        # QR fills what is left in the middle (quiet zone is part of the square).
        room = names_bottom - ins_top - 12 * s
        side = max(min(room, 0.68 * page_w), 0)
        qr_y = ins_top + 6 * s + (room - side) / 2
        _draw_qr(c, p.url, qrcode.constants.ERROR_CORRECT_Q, cx - side / 2, qr_y, side)
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------- slips
def _slip_text(c: Canvas, slip: Slip, x: float, top: float, width: float,
               scale: float = 1.0, centre: bool = False) -> float:
    """Unit name, invitation, expiry and anonymity; return the bottom y."""
    blocks = (
        (slip.unit_name, BOLD, 10.5 * scale, 3, black),
        (SLIP_INVITE, REGULAR, 9 * scale, 3, black),
        (slip.expires_text, BOLD, 9 * scale, 2, ACCENT),
        (INSTRUCTION + ". " + ANONYMITY, REGULAR, 6.5 * scale, 5, MUTED),
    )
    y = top
    for text, font, size, max_lines, color in blocks:
        if not text.strip():
            continue
        fsize, lines = _fit(text, font, size, width, max_lines, size * 0.7)
        c.setFont(font, fsize)
        c.setFillColor(color)
        for line in lines:
            y -= fsize * LEADING
            if centre:
                c.drawCentredString(x + width / 2, y + fsize * 0.3, line)
            else:
                c.drawString(x, y + fsize * 0.3, line)
        y -= 3 * scale
    return y


def slips_pdf(slips: Sequence[Slip], *,
              layout: Literal["a4_grid", "receipt_80mm"] = "a4_grid") -> bytes:
    """Slips for one-time tokens: 2x4 per A4 page with cut lines, or one 80 mm strip each."""
    if layout not in ("a4_grid", "receipt_80mm"):
        raise ValueError(f"layout must be 'a4_grid' or 'receipt_80mm', got {layout!r}")
    if not slips:
        raise ValueError("slips_pdf needs at least one Slip")
    for sl in slips:
        _validate_url(sl.url)
    ec = qrcode.constants.ERROR_CORRECT_M
    buf = io.BytesIO()
    if layout == "receipt_80mm":
        width, pad = 80 * mm, 5 * mm
        c = _canvas(buf, (width, 150 * mm), "SIPAS – phiếu đánh giá")
        for sl in slips:
            # Lay out once off-page to measure the height, then draw for real.
            probe = Canvas(io.BytesIO())
            text_h = 1000 - _slip_text(probe, sl, pad, 1000, width - 2 * pad, 1.2, True)
            side = 52 * mm
            height = pad + side + 3 * mm + text_h + pad
            c.setPageSize((width, height))
            _draw_qr(c, sl.url, ec, (width - side) / 2, height - pad - side, side)
            _slip_text(c, sl, pad, height - pad - side - 3 * mm, width - 2 * pad, 1.2, True)
            c.showPage()
    else:
        page_w, page_h = A4
        cols, rows = 2, 4
        cw, ch = page_w / cols, page_h / rows
        c = _canvas(buf, A4, "SIPAS – phiếu đánh giá")
        per_page = cols * rows
        for start in range(0, len(slips), per_page):
            c.setStrokeColor(HexColor("#888888"))
            c.setLineWidth(0.5)
            c.setDash(4, 3)
            for i in range(1, cols):
                c.line(i * cw, 0, i * cw, page_h)
            for j in range(1, rows):
                c.line(0, j * ch, page_w, j * ch)
            c.setDash()
            for k, sl in enumerate(slips[start:start + per_page]):
                x0, y0 = (k % cols) * cw, page_h - (k // cols + 1) * ch
                pad = 5 * mm
                side = min(ch - 2 * pad, 44 * mm)
                _draw_qr(c, sl.url, ec, x0 + pad, y0 + (ch - side) / 2, side)
                tx = x0 + pad + side + 3 * mm
                tw = x0 + cw - pad - tx
                text_h = 1000 - _slip_text(Canvas(io.BytesIO()), sl, tx, 1000, tw)
                _slip_text(c, sl, tx, y0 + max(ch + text_h, side) / 2 + 1.5 * mm, tw)
            c.showPage()
    c.save()
    return buf.getvalue()
