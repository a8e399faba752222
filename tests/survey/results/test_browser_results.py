"""In Debian's chromium, on the demo province with its computed snapshots, each role's
results: an analyst opens the overview, drills into an agency, downloads its XLSX (read
back) and its PDF report; a hospital's manager sees only the hospital; a sector manager
sees health and not education; the rankings' filters work."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.demo import seed as demo
from survey.extensions import db
from survey.org.models import Unit

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "accept_downloads": True}


@pytest.fixture
def province(live_server: str) -> str:
    demo.seed()
    return live_server


def sign_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/staff/")
    return page


def download(page: Any, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=name, exact=True).first.click()
    path = info.value.path()
    return Path(path).read_bytes()


def test_each_role_sees_its_results(province: str, browser: Any, tmp_path: Path) -> None:
    base = province
    hospital = db.session.scalar(select(Unit).where(Unit.code == "80.BV01"))
    school = db.session.scalar(select(Unit).where(Unit.sector == "education",
                                                  Unit.kind == "school"))
    assert hospital is not None and school is not None

    # An analyst of the province: the overview, an agency, its XLSX and PDF.
    page = sign_in(browser, base, "phantich")
    page.goto(f"{base}/staff/results/")
    main = page.locator("main").inner_text()
    assert "Tổng quan kết quả" in main and "Khoảng tin cậy 95%" in main
    assert page.locator("svg").count() >= 1  # the charts, drawn on the server
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    page.goto(f"{base}/staff/results/units/{hospital.id}")
    assert hospital.name in page.locator("h1").inner_text()
    workbook = load_workbook(io.BytesIO(download(page, "Các bảng (XLSX)")), read_only=True)
    assert len(workbook.sheetnames) >= 2 and "Thông tin" in workbook.sheetnames
    meta = [str(c) for row in workbook["Thông tin"].iter_rows(values_only=True)
            for c in row if c is not None]
    assert any(hospital.name in c for c in meta) or any("2026-" in c for c in meta)
    pdf = download(page, "Báo cáo PDF")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    page.context.close()

    # The hospital's manager: the hospital, nothing else.
    page = sign_in(browser, base, "benhvien")
    page.goto(f"{base}/staff/results/")
    main = page.locator("main").inner_text()
    assert school.name not in main
    response = page.goto(f"{base}/staff/results/units/{school.id}")
    assert response is not None and response.status in (403, 404)
    page.goto(f"{base}/staff/results/units/{hospital.id}")
    assert hospital.name in page.locator("h1").inner_text()
    page.context.close()

    # The health department: the health sector page, not the education one; rankings
    # filtered by sector.
    page = sign_in(browser, base, "soyte")
    assert page.goto(f"{base}/staff/results/sectors/health").status == 200
    assert page.goto(f"{base}/staff/results/sectors/education").status in (403, 404)
    page.goto(f"{base}/staff/results/rankings")
    ranking = page.locator("main").inner_text()
    assert school.name not in ranking
    page.context.close()
