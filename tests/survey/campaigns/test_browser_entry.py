"""In Debian's chromium: a clerk signs in, lands on data entry and keys a paper form with
the keyboard only (the slip number has the focus, Tab moves through the items in the
form's order, Enter saves); the response is stored as the paper form said."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from survey.models import Campaign, Response
from tests.survey.campaigns.entry_fixtures import fieldwork, selected_rows  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_paper_form_with_the_keyboard_only(db: Any, live_server: str, browser: Any,
                                             fieldwork: Campaign) -> None:  # noqa: F811
    row = selected_rows(db, fieldwork)[0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Tên đăng nhập").fill("nhaplieu")
        page.get_by_label("Mật khẩu").fill("mat-khau-123")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/staff/campaigns/entry/")
        page.get_by_role("link", name="Nhập phiếu").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/staff/campaigns/{fieldwork.id}/entry")
        assert page.evaluate("document.activeElement.id") == "slip"
        page.keyboard.type(str(row.row_number))
        page.keyboard.press("Tab")  # unit: from the slip
        page.keyboard.press("Tab")  # channel: interviewer by default; P for paper
        page.keyboard.type("P")
        assert page.locator("#channel").input_value() == "paper"
        # nguoi_tra_loi, gioi_tinh, nhom_tuoi, so_ngay_nam_vien, bhyt, noi_song, muc_song,
        # lan_thu, a1, a2, a3
        for value in ("1", "2", "3", "12", "1", "", "", "2", "5", "4", "na"):
            page.keyboard.press("Tab")
            page.keyboard.type(value)
        assert page.evaluate("document.activeElement.id") == "a3"
        page.keyboard.press("Enter")
        page.wait_for_selector(".flash-success")
        assert "Đã lưu phiếu." in page.locator(".flash-success").inner_text()
        assert page.evaluate("document.activeElement.id") == "slip"  # ready for the next
    finally:
        page.close()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    response = db.session.scalar(select(Response))
    values = {a.item_id: (a.value_num, a.not_applicable) for a in response.answers}
    assert response.channel == "paper" and response.campaign_id == fieldwork.id
    assert values["so_ngay_nam_vien"] == (12, False) and values["bhyt"][0] == 1
    assert values["a1"][0] == 5 and values["a2"][0] == 4 and values["a3"][1] is True
    assert "noi_song" not in values
