"""What a respondent and a clerk read: question numbers only where the form has numbers,
and instructions whose placeholders survive HTML escaping (found as a new user)."""

from __future__ import annotations

from typing import Any

import questionnaires as q
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from tests.survey.collection.points import point_with


def test_only_question_numbers_are_shown_as_numbers() -> None:
    def item(code: str | None) -> q.Item:
        return q.Item(id="x", type="text", text=q.Text(vi="x", en="x"), required=False,
                      provenance="verified", code=code)

    assert [item(c).number for c in ("A1", "9.23", "10.10", "B10", "1", "Header", None, "")] \
        == ["A1", "9.23", "10.10", "B10", "1", None, None, None]


def test_hospital_form_shows_no_header_code(client: Any, db: Any) -> None:
    point = point_with(db, "health_inpatient", name="Bệnh viện Thử", kind="hospital",
                       sector="health", code="BV9")
    start = client.get(f"/q/{links.create_link(point).token}")
    assert start.status_code == 302
    html = client.get(start.headers["Location"]).get_data(as_text=True)
    assert "Người trả lời phiếu" in html
    assert "Header" not in html
    assert '<span class="code">A1.</span>' in html


def test_tokens_page_names_the_header_in_full(client: Any, make_unit: Any, make_user: Any,
                                              login: Any) -> None:
    commune = make_unit("Xã Hòa Bình", kind="commune")
    make_user("xa", "unit_manager", commune)
    login("xa")
    html = client.get(f"/staff/collect/units/{commune.id}/tokens").get_data(as_text=True)
    assert "<code>Authorization: Bearer KEY</code>" in html
    assert "khóa API của đơn vị" in html


def test_error_summary_names_the_question(client: Any, db: Any) -> None:
    point = point_with(db)
    start = client.get(f"/q/{links.create_link(point).token}")
    url = start.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    submission = html.split('name="submission_id" type="hidden" value="')[1].split('"')[0]
    page = client.post(url, data={"submission_id": submission, "tong_thoi_gian": "2"})
    summary = page.get_data(as_text=True).split('role="alert"')[1].split("</div>")[0]
    defn = questionnaire_versions.definition_of(
        questionnaire_versions.latest_published("desk_rating"))
    question = defn.item("muc_do_hai_long").text.vi
    assert "<a href=\"#q-muc_do_hai_long\">" in summary
    assert question in summary and "Vui lòng trả lời câu hỏi này." in summary


def test_the_next_kiosk_respondent_starts_in_vietnamese(client: Any, db: Any) -> None:
    point = point_with(db)
    kiosk, desk = links.create_link(point, "kiosk").token, links.create_link(point).token
    page = client.get(f"/k/{kiosk}").headers["Location"]
    assert 'lang="vi"' in client.get(page).get_data(as_text=True)
    client.get("/lang/en")  # a respondent chooses English, answers, and leaves
    assert 'lang="en"' in client.get(page).get_data(as_text=True)
    again = client.get(client.get(f"/k/{kiosk}?reset=1").headers["Location"])
    assert 'lang="vi"' in again.get_data(as_text=True)
    client.get("/lang/en")  # on a person's own phone the choice stays
    own = client.get(client.get(f"/q/{desk}").headers["Location"])
    assert 'lang="en"' in own.get_data(as_text=True)
