"""PDF building blocks for :mod:`survey.render`: the embedded font, word wrapping
that never overflows, and QR codes drawn as vector squares.

Font choice.  Vietnamese needs 134 precomposed letters (ắ ầ ẫ ệ ở ữ ự đ Đ ...)
and ReportLab does no mark shaping, so the font must carry them as real glyphs.
It is embedded (subset, ``FontFile2``) in every PDF and read from an installed
package at run time, never downloaded.  In order of preference:

1. ``fontpkg-be-vietnam-pro==1.2`` (PyPI, OFL-1.1, ~1 MB wheel, pulls the tiny
   pure-Python ``fontpkg==0.2.2``): *Be Vietnam Pro* is a sans-serif designed
   for Vietnamese, ships static Regular/Bold TrueType files (ReportLab embeds
   neither CFF ``.otf`` nor variable fonts properly) and covers every
   Vietnamese letter in both cases.  As a pip package it arrives with
   ``pip install -r requirements.txt`` on a fresh machine.  Also checked:
   ``font-roboto`` 0.0.1 and ``font-source-sans-pro`` 0.0.1 cover Vietnamese
   too but are unmaintained 2018-19 repackagings; ``fontpkg-noto-sans`` ships
   only a variable font; matplotlib's DejaVu Sans drags in all of matplotlib.
2. Debian's ``fonts-dejavu-core`` (/usr/share/fonts/truetype/dejavu).
3. DejaVu Sans bundled with matplotlib, if matplotlib happens to be installed.

All text is NFC-normalised before drawing, so names typed with combining marks
(NFD) still map onto the precomposed glyphs.
"""

from __future__ import annotations

import importlib.util
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

REGULAR, BOLD = "SipasSans", "SipasSans-Bold"
ACCENT = HexColor("#0b4f8a")
MUTED = HexColor("#444444")
LEADING = 1.3  # line height / font size; room for stacked marks such as Ấ Ộ


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
        candidates.append(
            (bvp / "files/BeVietnamPro-Regular.ttf", bvp / "files/BeVietnamPro-Bold.ttf")
        )
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
def register_fonts() -> str:
    """Register the regular and bold faces with ReportLab once; return the file name."""
    reg, bold = font_paths()
    pdfmetrics.registerFont(TTFont(REGULAR, str(reg)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    return reg.name


# -------------------------------------------------------------------- layout
def wrap(text: str, font: str, size: float, width: float) -> list[str]:
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


@dataclass(frozen=True)
class Block:
    """Wrapped lines of one text style, ready to draw."""

    lines: list[str]
    font: str
    size: float
    color: Color = black
    leading: float = LEADING

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * self.leading


def fit(
    text: str,
    font: str,
    size: float,
    width: float,
    max_lines: int,
    min_size: float,
    color: Color = black,
) -> Block:
    """Shrink from ``size`` (not below ``min_size``) until ``text`` wraps into
    ``max_lines``; if it still does not, cut the last line with an ellipsis."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    while True:
        lines = wrap(text, font, size, width)
        if len(lines) <= max_lines or size * 0.92 < min_size:
            break
        size *= 0.92
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return Block(lines, font, size, color)


def draw(
    c: Canvas,
    blocks: Sequence[Block],
    x: float,
    top: float,
    width: float,
    gap: float,
    centre: bool = True,
) -> float:
    """Draw blocks downwards from ``top``; return the bottom y."""
    y = top
    for b in blocks:
        c.setFont(b.font, b.size)
        c.setFillColor(b.color)
        for line in b.lines:
            y -= b.size * b.leading
            if centre:
                c.drawCentredString(x + width / 2, y + b.size * 0.3, line)
            else:
                c.drawString(x, y + b.size * 0.3, line)
        y -= gap
    return y + gap


def stack_height(blocks: Sequence[Block], gap: float) -> float:
    """Total height of blocks drawn with ``gap`` between them."""
    return sum(b.height for b in blocks) + gap * max(len(blocks) - 1, 0)


def draw_qr(c: Canvas, matrix: list[list[bool]], x: float, y: float, side: float) -> None:
    """Draw a QR module matrix (quiet zone included) as vector squares in a ``side`` box."""
    n = len(matrix)
    m = side / n
    c.setFillColor(white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(black)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < n:  # one rectangle per horizontal run of dark modules
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + start * m, y + side - (r + 1) * m, (col - start) * m, m)
            col += 1
    c.drawPath(path, stroke=0, fill=1)


def new_canvas(buf: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    register_fonts()
    c = Canvas(
        buf,
        pagesize=size,
        invariant=True,
        pageCompression=1,
        initialFontName=REGULAR,
        initialFontSize=10,
    )  # no stray Helvetica
    c.setTitle(title)
    c.setAuthor("SIPAS")
    c.setCreator("SIPAS survey.render")
    return c
