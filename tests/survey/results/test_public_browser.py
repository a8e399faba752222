"""The public results page in Debian's chromium: no serious axe-core violation (WCAG 2.1
AA and best practices) in Vietnamese and English, the sector filter works by plain links,
and the page needs no script (JavaScript off)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.survey.authoring.test_browser import axe_source, serious_violations  # noqa: F401
from tests.survey.results.test_public import _big_snapshot

pytestmark = pytest.mark.browser


def test_public_page_is_accessible(live_server: str, browser: Any, db: Any,
                                   axe_source: str) -> None:  # noqa: F811
    _big_snapshot(db, 30)
    # axe-core is injected as a script, which the strict CSP refuses: bypass it here.
    page = browser.new_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page.goto(f"{live_server}/ket-qua/")
    assert page.locator("h1").inner_text().startswith("Sự hài lòng của người dân")
    assert serious_violations(page, axe_source) == []
    page.get_by_role("link", name="English").click()
    assert page.locator("h2", has_text="How to read these figures").count() == 1
    assert serious_violations(page, axe_source) == []
    page.close()


def test_public_page_works_without_javascript(live_server: str, browser: Any,
                                              db: Any) -> None:
    _big_snapshot(db, 30)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/ket-qua/")
    assert page.locator("tbody tr").count() == 2 * 27  # 3 of 30 suppressed per basis
    assert page.get_by_role("link", name="Y tế").count() == 0  # no health agency: no link
    page.get_by_role("link", name="Hành chính").click()
    assert page.url.endswith("/ket-qua/?sector=administrative")
    assert page.locator("tbody tr").count() == 2 * 27
    context.close()
