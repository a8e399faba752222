"""Accessibility of the citizen pages and of the staff preview, checked by axe-core in
Debian's chromium (Playwright). axe-core comes from the pinned PyPI package
``axe-playwright-python`` (it ships ``axe.min.js``); nothing is fetched at test time.
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import pytest

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.org.services import units

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def axe_source() -> str:
    pytest.importorskip("axe_playwright_python",
                        reason="NOTICE: axe tests skipped: pip install axe-playwright-python")
    return importlib.resources.files("axe_playwright_python").joinpath(
        "axe.min.js").read_text("utf-8")


def serious_violations(page: Any, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                         'best-practice']}})""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in SERIOUS]


@pytest.fixture
def citizen_links(db: Any) -> dict[str, str]:
    questionnaire_versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                        "sector": "administrative", "code": "99"})
    out = {}
    for key in ("desk_rating", "sipas_2023"):
        point = units.create_point(province, f"Quầy {key}")
        point.questionnaire_key = key
        db.session.commit()
        out[key] = links.create_link(point).token
    return out


@pytest.mark.parametrize(("key", "pages"), [("desk_rating", (1,)), ("sipas_2023", (1, 3))])
def test_citizen_pages_have_no_serious_accessibility_violation(
    live_server: str, browser: Any, axe_source: str, citizen_links: dict[str, str],
    key: str, pages: tuple[int, ...],
) -> None:
    # axe-core is injected as a script, which the strict CSP refuses: bypass it here.
    page = browser.new_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
    try:
        for number in pages:
            page.goto(f"{live_server}/q/{citizen_links[key]}")
            if number != 1:
                page.goto(f"{live_server}/q/{citizen_links[key]}/p/{number}")
            assert page.locator("fieldset").count() > 0, page.content()[:500]
            assert serious_violations(page, axe_source) == [], f"{key} page {number}"
    finally:
        page.close()


def test_staff_preview_has_no_serious_accessibility_violation(
    live_server: str, browser: Any, axe_source: str, db: Any, make_unit: Any,
    make_user: Any,
) -> None:
    questionnaire_versions.sync()
    make_user("quantri", "administrator", make_unit("Tỉnh Thử", code="99"))
    row = questionnaire_versions.latest_published("sipas_2023")
    assert row is not None
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Tên đăng nhập").fill("quantri")
        page.get_by_label("Mật khẩu").fill("mat-khau-123")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{live_server}/staff/")
        for path in ("", f"{row.id}/preview?page=3"):
            page.goto(f"{live_server}/staff/questionnaires/{path}")
            assert serious_violations(page, axe_source) == [], path
        page.get_by_role("link", name="English").click()
        assert "Nothing you enter here is sent or saved" in page.locator("main").inner_text()
        assert page.locator("form[action]").count() == 0
    finally:
        page.close()
