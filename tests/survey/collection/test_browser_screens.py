"""On a phone in Debian's chromium: the citizen stylesheet applies (the honeypot field is
off screen, options are large tap targets) and no screen of the longest questionnaire is a
wall of questions (SIPAS 2023's page of 24 questions was 10,846 px tall)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import flow, links
from tests.survey.collection.points import point_with

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
MAX_SCREEN_PX = 7000  # 12 questions of five options each on a 360 px wide phone


@pytest.fixture
def sipas(app: Flask, db: Any) -> str:
    point = point_with(db, "sipas_2023", name="Sở Tư pháp", kind="department", code="STP")
    return links.create_link(point).token


def test_every_screen_is_styled_and_of_phone_length(live_server: str, browser: Any,
                                                     sipas: str) -> None:
    defn = questionnaire_versions.definition_of(
        questionnaire_versions.latest_published("sipas_2023"))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    heights = {}
    # answer the filter question "yes" so that the service block's screens are shown too
    where = next(s.number for s in flow.screens(defn) for i in s.items
                 if i.id == "c8_thu_tuc_hanh_chinh")
    page.goto(f"{live_server}/q/{sipas}/p/{where}")
    page.locator('input[name="c8_thu_tuc_hanh_chinh"][value="true"]').check()
    page.get_by_role("button", name="Sau").click()
    page.wait_for_load_state()
    for number in flow.screen_numbers(defn):
        page.goto(f"{live_server}/q/{sipas}/p/{number}")
        assert page.url.endswith(f"/p/{number}")
        assert page.locator("h1").is_visible()
        assert not page.locator("#website").is_visible() or \
            page.locator("#website").bounding_box()["x"] < -1000  # the honeypot is off screen
        option = page.locator(".opt").first
        if option.count():
            assert option.bounding_box()["height"] >= 44  # a tap target
        heights[number] = page.evaluate("document.documentElement.scrollHeight")
    context.close()
    print("SIPAS 2023 screen heights on a 360 px phone:", heights)
    assert max(heights.values()) <= MAX_SCREEN_PX, heights
