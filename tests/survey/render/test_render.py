"""Tests for survey.render: QR images, posters and slips (no Flask app, no database).

PDFs are checked the way a person would: rendered with poppler's pdftoppm and
the QR decoded from the page image with zxing-cpp; text read back with
pdftotext; font embedding read with pdffonts (or from the PDF bytes).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

try:
    from survey import render as qr
except ModuleNotFoundError:  # plain `pytest` run without the repo root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from survey import render as qr

pytestmark = pytest.mark.filterwarnings("error")

LONG_UNIT = (
    "Ủy ban nhân dân phường Thượng Đình, quận Thanh Xuân, thành phố Hà Nội — "
    "Bộ phận tiếp nhận và trả kết quả thủ tục hành chính liên thông cấp phường"
)
LONG_POINT = "Quầy số 3 – Lĩnh vực đất đai, xây dựng, hộ tịch và chứng thực bản sao từ bản chính"
# Every tone on every vowel family, plus đ/Đ, in one (odd but legal) name.
DIACRITICS = "Trường Tiểu học Nguyễn Thị Định — ắ ầ ẫ ệ ở ữ ự ỳ ỷ ỹ ỵ đ Đ Ấ Ộ Ữ"
URL = "https://sipas.hanoi.gov.vn/s/p/8f3kQ2xZ"


def _poster(i: int = 0, unit: str = LONG_UNIT, point: str = LONG_POINT) -> qr.Poster:
    return qr.Poster(
        unit_name=unit,
        point_name=point,
        url=f"{URL}{i}",
        short_url=f"sipas.hanoi.gov.vn/s/8f3kQ2x{i}",
        subtitle="về sự phục vụ của cơ quan hành chính nhà nước" if i % 2 else "",
    )


def _slip(i: int = 0) -> qr.Slip:
    return qr.Slip(
        unit_name="Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
        url=f"https://sipas.bacninh.gov.vn/t/Xk2pQ9rT7mN4vB8cD1eF6a{i:02d}",
        expires_text="Hết hạn: 23:59 ngày 30/11/2026",
    )


def _decode(img: Image.Image) -> list[str]:
    return [
        b.text for b in zxingcpp.read_barcodes(img) if b.format == zxingcpp.BarcodeFormat.QRCode
    ]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} not installed (Debian package poppler-utils); PDF rendering check skipped"
        )
    return path


def _render(pdf: bytes, tmp_path: Path, dpi: int) -> list[Image.Image]:
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [_tool("pdftoppm"), "-r", str(dpi), "-png", str(src), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(re.findall(r"\d+", p.stem)[-1]))
    return [Image.open(p).convert("L") for p in pages]


def _text(pdf: bytes, tmp_path: Path) -> str:
    src = tmp_path / "text.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        [_tool("pdftotext"), "-enc", "UTF-8", str(src), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    return " ".join(unicodedata.normalize("NFC", out).split())


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


# ------------------------------------------------------------------ codes
@pytest.mark.parametrize(
    "url", [URL, "http://localhost:5000/s/abc?x=1&y=2", "https://a.vn/" + "x" * 300]
)
def test_png_decodes_to_exact_url(url: str) -> None:
    data = qr.qr_png(url)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert _decode(Image.open(io.BytesIO(data))) == [url]


def test_png_box_size_and_border() -> None:
    small = Image.open(io.BytesIO(qr.qr_png(URL, box_size=2, border=4)))
    big = Image.open(io.BytesIO(qr.qr_png(URL, box_size=8, border=4)))
    assert big.size[0] == 4 * small.size[0]
    assert _decode(small) == [URL]


def test_svg_is_xml_with_qr() -> None:
    data = qr.qr_svg(URL)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert paths and len(paths[0].get("d", "")) > 500  # the modules of the code


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ftp://example.vn/x",
        "javascript:alert(1)",
        "example.vn/s/abc",
        "https://",
        "https:///path",
        " https://a.vn/x",
        "https://a.vn/x y",
        "https://a.vn/\n",
        "https://[::1/x",
        "https://a.vn/" + "x" * 3000,
    ],
)
def test_bad_urls_raise_value_error(bad: str) -> None:
    for call in (
        qr.qr_png,
        qr.qr_svg,
        lambda u: qr.posters_pdf([qr.Poster("A", "B", u, "a.vn")]),
        lambda u: qr.slips_pdf([qr.Slip("A", u, "x")]),
    ):
        with pytest.raises(ValueError, match="URL"):
            call(bad)


def test_bad_options_raise_value_error() -> None:
    with pytest.raises(ValueError):
        qr.qr_png(URL, box_size=0)
    with pytest.raises(ValueError):
        qr.posters_pdf([_poster()], size="A3")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        qr.slips_pdf([_slip()], layout="a6")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        qr.posters_pdf([])


# ----------------------------------------------------------------- posters
def test_font_covers_vietnamese() -> None:
    from reportlab.pdfbase.ttfonts import TTFontFile

    letters = "aăâeêioôơuưy"
    vietnamese = {
        unicodedata.normalize("NFC", v + t)
        for v in letters + letters.upper()
        for t in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    } | set("đĐ")
    for path in qr.font_paths():
        cmap = TTFontFile(str(path)).charToGlyph
        assert not [c for c in sorted(vietnamese) if ord(c) not in cmap], path


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_poster_renders_scans_and_reads(size: str, tmp_path: Path) -> None:
    posters = [_poster(0), _poster(1, unit=DIACRITICS, point="Phòng Đào tạo"), _poster(2)]
    pdf = qr.posters_pdf(posters, size=size)  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF")
    assert _page_count(pdf) == 3
    pages = _render(pdf, tmp_path, 50)
    assert len(pages) == 3
    expected_px = {"A4": (413, 585), "A5": (292, 413)}[size]  # 50 dpi, portrait
    for page, poster in zip(pages, posters, strict=True):
        assert abs(page.size[0] - expected_px[0]) <= 1 and abs(page.size[1] - expected_px[1]) <= 1
        assert _decode(page) == [poster.url]
    text = _text(pdf, tmp_path)
    for needle in (
        LONG_UNIT,
        LONG_POINT,
        "Phòng Đào tạo",
        "ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG CỦA NGƯỜI DÂN",
        qr.INSTRUCTION,
        qr.ANONYMITY,
        posters[0].short_url,
        "về sự phục vụ của cơ quan",
    ):
        assert needle in text, needle
    # pdftotext drops the (narrow) spaces between one-letter words; compare without spaces.
    assert DIACRITICS.replace(" ", "") in text.replace(" ", "")


def test_poster_names_wrap_inside_page(tmp_path: Path) -> None:
    """Absurdly long names and an unbreakable word still stay inside the margins."""
    huge = qr.Poster(LONG_UNIT * 4, "Quầy" + "Đ" * 80, URL, "sipas.hanoi.gov.vn/" + "x" * 60)
    pdf = qr.posters_pdf([huge], size="A5")
    src = tmp_path / "huge.pdf"
    src.write_bytes(pdf)
    html = subprocess.run(
        [_tool("pdftotext"), "-bbox", str(src), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    assert page is not None
    width, height = float(page.group(1)), float(page.group(2))
    words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', html)
    assert len(words) > 50
    for box in words:
        x0, y0, x1, y1 = map(float, box)
        assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height, box
    assert _decode(_render(pdf, tmp_path, 50)[0]) == [URL]


def test_nfd_names_are_normalised(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Trạm Y tế xã Đông Hưng")
    text = _text(qr.posters_pdf([qr.Poster(nfd, "Quầy tiếp đón", URL, "a.vn/x")]), tmp_path)
    assert "Trạm Y tế xã Đông Hưng" in text


def test_font_is_embedded(tmp_path: Path) -> None:
    pdf = qr.posters_pdf([_poster()])
    assert b"/FontFile2" in pdf
    assert b"/BaseFont /Helvetica" not in pdf
    pdffonts = shutil.which("pdffonts")
    if pdffonts is None:
        pytest.skip("pdffonts not installed; checked FontFile2 in the PDF bytes only")
    (tmp_path / "f.pdf").write_bytes(pdf)
    rows = subprocess.run(
        [pdffonts, str(tmp_path / "f.pdf")], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        cols = row.split()
        assert cols[-5] == "yes", row  # emb column


def test_posters_pdf_is_deterministic() -> None:
    assert qr.posters_pdf([_poster()]) == qr.posters_pdf([_poster()])


# ------------------------------------------------------------------- slips
def test_slips_a4_grid(tmp_path: Path) -> None:
    slips = [_slip(i) for i in range(10)]  # 8 per page: 2 pages, the second with 2 slips
    pdf = qr.slips_pdf(slips)
    assert _page_count(pdf) == 2
    pages = _render(pdf, tmp_path, 150)
    assert sorted(_decode(pages[0]) + _decode(pages[1])) == sorted(s.url for s in slips)
    text = _text(pdf, tmp_path)
    assert text.count("Hết hạn: 23:59 ngày 30/11/2026") == 10
    assert text.count("Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh") == 10
    assert text.replace(" ", "").count(qr.SLIP_INVITE.replace(" ", "")) == 10


def test_slips_receipt_80mm(tmp_path: Path) -> None:
    slips = [_slip(i) for i in range(3)]
    pdf = qr.slips_pdf(slips, layout="receipt_80mm")
    pages = _render(pdf, tmp_path, 100)
    assert len(pages) == 3
    for page, slip in zip(pages, slips, strict=True):
        assert abs(page.size[0] - round(80 / 25.4 * 100)) <= 1  # 80 mm wide strip
        assert page.size[1] < page.size[0] * 2.5
        assert _decode(page) == [slip.url]
    text = _text(pdf, tmp_path)
    assert "mã dùng một lần" in text and "Hết hạn: 23:59 ngày 30/11/2026" in text


def test_font_fallback_without_pip_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the pip font package: Debian's DejaVu (or matplotlib's), else a clear error."""
    from survey.render import _pdf

    monkeypatch.setattr(_pdf, "_package_dir", lambda name: None)
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.is_file():
        assert qr.font_paths()[0] == dejavu
    else:
        with pytest.raises(RuntimeError, match="fontpkg-be-vietnam-pro"):
            qr.font_paths()
