"""Browser test: a staff member signs in with Debian's chromium and sees the demo province.

Playwright drives /usr/bin/chromium (Playwright's own browser download does not work
here). Without chromium the test is skipped with a visible reason, unless
SIPAS_REQUIRE_BROWSER=1 (set by .ci/run), where it fails instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from survey.demo import seed as demo

pytestmark = pytest.mark.browser


def test_staff_sign_in_and_browse(live_server: str, browser: Any, tmp_path: Path) -> None:
    demo.seed(responses=False)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/staff/")
    assert page.locator("h1").inner_text() == "Đăng nhập dành cho cán bộ"
    page.get_by_label("Tên đăng nhập").fill("soyte")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau-9")
    page.get_by_role("button", name="Đăng nhập").click()
    assert "Sai tên đăng nhập hoặc mật khẩu." in page.content()
    page.get_by_label("Mật khẩu").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/staff/")
    assert page.locator("h1").inner_text() == "Tổng quan"
    page.get_by_role("link", name="Đơn vị", exact=True).click()
    text = page.locator("main").inner_text()
    assert "Bệnh viện Đa khoa tỉnh Tây Ninh" in text
    assert "Sở Tư pháp" not in text and "Trường Tiểu học Lê Lợi" not in text
    page.screenshot(path=str(tmp_path / "units.png"), full_page=True)
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Units"
    page.close()
