"""End to end in Debian's chromium: a unit manager downloads a point's QR code, a
citizen's phone opens what it encodes, answers and submits; and a kiosk tablet resets."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.models import Response
from survey.org.services import units

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


@pytest.fixture
def desk(app: Flask, db: Any, make_user: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    unit = units.create_unit(None, {"name": "Xã Hưng Điền", "kind": "commune",
                                    "sector": "administrative", "code": "27727"})
    point = units.create_point(unit, "Bộ phận Một cửa")
    point.questionnaire_key = "desk_rating"
    db.session.commit()
    make_user("quanly", "unit_manager", unit)
    return {"unit": unit, "point": point}


def decode_qr(png: bytes) -> str:
    import zxingcpp

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1
    return str(found[0].text)


def test_scan_answer_submit_on_a_phone(app: Flask, db: Any, client: Any, login: Any,
                                       desk: dict[str, Any], live_server: str,
                                       browser: Any) -> None:
    app.config["PUBLIC_BASE_URL"] = live_server  # what the QR code encodes
    login("quanly")
    qr = client.get(f"/staff/collect/points/{desk['point'].id}/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    url = decode_qr(qr.get_data())
    assert url.startswith(f"{live_server}/q/") and "desk" not in url

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url)
    assert page.locator("h1").inner_text().startswith("Phiếu đánh giá")
    page.get_by_role("button", name="Gửi phiếu").click()  # nothing answered yet
    assert page.locator(".summary").is_visible()
    assert "Vui lòng trả lời câu hỏi này." in page.locator("#q-muc_do_hai_long").inner_text()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    group = page.locator("#q-muc_do_hai_long")
    group.locator("label.opt").first.click()
    page.locator("#q-tong_thoi_gian label.opt").first.click()
    page.locator("textarea#gop_y").fill("Cán bộ hướng dẫn tận tình.")
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_url("**/thanks")
    assert "Cảm ơn" in page.locator("h1").inner_text()
    page.reload()  # reloading the thanks page stores nothing more
    rows = db.session.scalars(select(Response)).all()
    assert len(rows) == 1
    assert rows[0].service_point_id == desk["point"].id and rows[0].channel == "desk_qr"
    context.close()


def test_kiosk_returns_to_a_blank_form(app: Flask, db: Any, desk: dict[str, Any],
                                       live_server: str, browser: Any) -> None:
    app.config.update(PUBLIC_BASE_URL=live_server, KIOSK_RESET_SECONDS=1)
    kiosk = links.create_link(desk["point"], "kiosk")
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.goto(f"{live_server}/k/{kiosk.token}")
    page.locator("#q-muc_do_hai_long label.opt").first.click()
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_url("**/thanks")
    page.wait_for_url("**/p/1", timeout=10_000)  # back to the start by itself
    assert page.locator("#q-muc_do_hai_long input:checked").count() == 0
    assert db.session.scalar(select(Response)).channel == "kiosk"
    page.close()


def test_kiosk_idle_reset_waits_while_someone_is_answering(
        app: Flask, db: Any, desk: dict[str, Any], live_server: str, browser: Any) -> None:
    app.config.update(KIOSK_IDLE_SECONDS=2)
    kiosk = links.create_link(desk["point"], "kiosk")
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.goto(f"{live_server}/k/{kiosk.token}")
    first = page.url
    for _ in range(4):  # keeps answering for about 3 s: no reset
        page.locator("#q-tong_thoi_gian label.opt").first.click()
        page.wait_for_timeout(700)
    assert page.url == first
    assert page.locator("#q-tong_thoi_gian input:checked").count() == 1
    page.wait_for_url("**/p/1", timeout=10_000)  # then idle: back to a blank form
    page.wait_for_load_state()
    # The strict CSP forbids eval, so no wait_for_function: a locator assertion polls.
    expect(page.locator("input:checked")).to_have_count(0, timeout=10_000)
    page.close()
