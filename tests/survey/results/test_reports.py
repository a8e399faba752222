"""PDF reports per unit and per sector: rendered to PNG with pdftoppm (pages not blank,
page count), text extracted with pdftotext (Vietnamese diacritics survive, the figures
and the methodology note are there), scope-checked, and the CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from survey.models import ServicePoint
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import reports
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils (pdftoppm, pdftotext) not installed")


@pytest.fixture
def setup(db: Any, make_user: Any, two_months: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    make_user("phantich", "analyst", two_months["root"])
    october = db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.period == "2026-10"))
    commune = db.session.get(ServicePoint, two_months["points"][1]).unit_id
    return {**two_months, "october": october, "commune": commune}


def _pages(pdf: bytes, tmp_path: Path) -> tuple[list[Image.Image], str]:
    """Every page as a 40 dpi PNG, and the text of the whole PDF."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(tmp_path / "page")],
                   check=True, timeout=120)
    images = [Image.open(p).convert("L") for p in sorted(tmp_path.glob("page-*.png"))]
    text = subprocess.run(["pdftotext", str(source), "-"], check=True,
                          capture_output=True, timeout=120).stdout.decode("utf-8")
    return images, " ".join(text.split())  # lines joined: a phrase may wrap


def _ink(image: Image.Image) -> float:
    """Share of pixels that are not white."""
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / sum(histogram)


@needs_poppler
def test_unit_report_renders_with_vietnamese_text(client: Any, login: Any, db: Any,
                                                  tmp_path: Path,
                                                  setup: dict[str, Any]) -> None:
    login("phantich")
    root = setup["root"]
    response = client.get(f"/staff/results/units/{root.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and b"BeVietnamPro" in response.data
    images, text = _pages(response.data, tmp_path)
    # Title page, the two channels' sections, the methodology note on its own page.
    assert 4 <= len(images) <= 12
    assert all(_ink(page) > 0.003 for page in images), [_ink(p) for p in images]
    assert _ink(images[-1]) > 0.02  # the methodology note is a full page of text
    for words in ("BÁO CÁO KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG", "Tỉnh Thử", "Kỳ 2026-10",
                  "Ghi chú về phương pháp", "Mẫu xác suất", "mẫu không xác suất",
                  "Korn–Graubard", "NCHS", "hiệu chỉnh tổng thể hữu hạn",
                  "Chỉ số chung và các thành phần", "Xu hướng của chỉ số chung",
                  "Các đơn vị trực thuộc", "Xã 1", "mục tiêu"):
        assert words.lower() in text.lower(), words
    # The headline figure of the tokens channel, as printed (decimal comma).
    overall = db.session.scalar(select(ResultRow).where(
        ResultRow.snapshot_id == setup["october"].id, ResultRow.unit_id == root.id,
        ResultRow.basis == "open", ResultRow.node == "hai_long"))
    assert f"{overall.estimate * 100:.1f}".replace(".", ",") in text
    assert "So với kỳ 2026-09" in text  # the change since September, with its significance
    assert "ý nghĩa thống kê" in text


@needs_poppler
def test_sector_report_lists_its_agencies(client: Any, login: Any, tmp_path: Path,
                                          setup: dict[str, Any]) -> None:
    login("tinh")
    response = client.get("/staff/results/sectors/administrative/report.pdf")
    assert response.status_code == 200
    images, text = _pages(response.data, tmp_path)
    assert len(images) >= 3 and all(_ink(page) > 0.003 for page in images)
    for words in ("Lĩnh vực Hành chính", "Các cơ quan, đơn vị", "Xã 1", "Xã 2",
                  "trên 90% hài lòng", "Ghi chú về phương pháp", "không công bố",
                  "Xu hướng của chỉ số chung qua các kỳ", "So với kỳ 2026-09"):
        assert words in text, words
    assert client.get("/staff/results/sectors/health/report.pdf").status_code == 404
    assert client.get("/staff/results/sectors/nope/report.pdf").status_code == 404


def test_reports_are_scoped(client: Any, login: Any, make_user: Any,
                            setup: dict[str, Any]) -> None:
    make_user("yte", "analyst", setup["root"], sector="health")
    login("yte")  # a health analyst over the province: no administrative unit or sector
    assert client.get(f"/staff/results/units/{setup['root'].id}/report.pdf").status_code == 404
    assert client.get("/staff/results/sectors/administrative/report.pdf").status_code == 404
    assert client.get("/staff/results/sectors/health/report.pdf").status_code == 404  # no rows
    client.post("/logout")
    login("xa1")  # the manager of Xã 1
    assert client.get(f"/staff/results/units/{setup['commune']}/report.pdf").status_code == 200
    assert client.get(f"/staff/results/units/{setup['root'].id}/report.pdf").status_code == 404
    # A sector's figures cover the whole province: not for a commune's manager.
    assert client.get("/staff/results/sectors/administrative/report.pdf").status_code == 404


def test_the_same_snapshot_gives_the_same_report(app: Any, setup: dict[str, Any]) -> None:
    from survey.common.access import Scope
    from survey.extensions import db
    from survey.models import User

    scope = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    first = reports.unit_report(scope, setup["root"].id, setup["october"].id)
    assert first == reports.unit_report(scope, setup["root"].id, setup["october"].id)


def test_cli_writes_a_report_and_refuses_bad_input(runner: Any, tmp_path: Path,
                                                   setup: dict[str, Any]) -> None:
    out = tmp_path / "xa1.pdf"
    result = runner.invoke(args=["results", "report", "--snapshot", "latest", "--unit", "99.X1",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "written" in result.output
    sector = tmp_path / "sector.pdf"
    result = runner.invoke(args=["results", "report", "--snapshot",
                                 str(setup["october"].id), "--sector", "administrative",
                                 "-o", str(sector)])
    assert result.exit_code == 0 and sector.stat().st_size > 5000
    bad = tmp_path / "bad.pdf"
    for args, message in ((["--unit", "nope"], "nope"), (["--sector", "health"], "health"),
                          (["--snapshot", "999999", "--unit", "99.X1"], "999999")):
        result = runner.invoke(args=["results", "report", *args, "-o", str(bad)])
        assert result.exit_code != 0 and message in result.output, result.output
        assert not bad.exists()  # nothing written
    result = runner.invoke(args=["results", "report", "-o", str(bad)])
    assert result.exit_code != 0 and not bad.exists()


@needs_poppler
def test_long_charts_flow_over_pages_and_missing_glyphs_are_replaced(tmp_path: Path) -> None:
    from survey.render.report import Bar, Chart, Heading, Text, report_pdf

    bars = [Bar(f"Trường Tiểu học số {i}", 50 + i / 2, 40 + i / 2, 60 + i / 2, 85.0,
                "level") for i in range(70)]
    pdf = report_pdf("Thử → biểu đồ", [Heading("Tỷ lệ hài lòng chung (A→E)"),
                                        Text("Đường đi ✓"), Chart("Biểu đồ dài", bars)])
    images, text = _pages(pdf, tmp_path)
    assert len(images) >= 2  # 70 bars do not fit on one A4 page: pieces of 30
    assert "Trường Tiểu học số 69" in text and "Trường Tiểu học số 0" in text
    # The font has no arrow: an en dash is drawn instead of an empty box.
    assert "(A–E)" in text and "→" not in text and "Đường đi •" in text
