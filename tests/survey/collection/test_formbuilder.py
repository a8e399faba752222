"""Every item type through the citizen page: rendered by its field builder, posted as
a phone would post it, stored, and read back as the same raw answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

import questionnaires as q
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import flow, links
from survey.collection.services.submission import raw_answers
from survey.collection.widgets import FIELD_BUILDERS
from survey.models import QuestionnaireVersion, Response
from survey.org.services import units
from tests.questionnaires.factory import minimal


@pytest.fixture
def demo_link(db: Any) -> str:
    data = {**minimal(), "status": "published"}
    defn = q.parse_definition(data, source="demo/v1.json")
    db.session.add(QuestionnaireVersion(key="demo", version=1, definition=q.to_dict(defn),
                                        hash=q.definition_hash(defn), status="published"))
    unit = units.create_unit(None, {"name": "Tỉnh", "kind": "province",
                                    "sector": "administrative"})
    point = units.create_point(unit, "Quầy")
    point.questionnaire_key = "demo"
    db.session.commit()
    return links.create_link(point).token


def test_every_item_type_has_a_builder() -> None:
    assert set(FIELD_BUILDERS) == set(q.ITEM_TYPES)


def test_every_item_type_renders_posts_and_round_trips(client: Any, db: Any,
                                                       demo_link: str) -> None:
    defn = questionnaire_versions.definition_of(
        db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.key == "demo")))
    page1 = client.get(f"/q/{demo_link}/p/1").get_data(as_text=True)
    all_pages = "".join(client.get(f"/q/{demo_link}/p/{n}").get_data(as_text=True)
                        for n in flow.screen_numbers(defn))
    # radio groups, a checkbox group, numeric keyboards, a text area, the N/A option
    assert 'type="radio" name="q_yes" value="true"' in all_pages
    assert 'type="checkbox" name="q_many" value="3"' in all_pages
    assert 'inputmode="numeric"' in all_pages
    assert "<textarea" in all_pages and 'value="na"' in all_pages
    sid = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page1).group(1)
    posted = {"gioi_tinh": "2", "q_yes": "true", "q_lik": "2", "q_lik2": "5", "q_pts": "0",
              "q_one": "na", "q_many": ["1", "3"], "q_num": "7", "q_pct": "55,5",
              "q_txt": "ok", "q_why": "chậm"}
    for shown in flow.screens(defn):
        ids = [i.id for i in shown.items]
        data = {k: v for k, v in posted.items() if k in ids}
        response = client.post(f"/q/{demo_link}/p/{shown.number}",
                               data={**data, "submission_id": sid})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith("/thanks")
    stored = db.session.scalar(select(Response))
    assert raw_answers(defn, stored.answers) == {
        "gioi_tinh": 2, "q_yes": True, "q_lik": 2, "q_lik2": 5, "q_pts": 0, "q_one": "na",
        "q_many": [1, 3], "q_num": 7, "q_pct": 55.5, "q_txt": "ok", "q_why": "chậm"}
    assert q.score_response(defn, raw_answers(defn, stored.answers))["q_one"] is None


def test_too_many_choices_is_refused(client: Any, db: Any, demo_link: str) -> None:
    defn_pages = {i.id: s.number for s in flow.screens(
        q.parse_definition(minimal(), source="d/v1.json")) for i in s.items}
    page = defn_pages["q_many"]
    for earlier in range(1, page):
        client.post(f"/q/{demo_link}/p/{earlier}", data={"q_yes": "false"})
    html = client.post(f"/q/{demo_link}/p/{page}", data={"q_many": ["1", "2", "3"]}
                       ).get_data(as_text=True)
    assert "Chọn tối đa 2 phương án." in html
    assert db.session.scalar(select(Response)) is None


def test_a_new_item_type_needs_one_registry_entry_and_one_widget(client: Any, db: Any) -> None:
    """Adding a type touches two places: its entry in the questionnaires registry and its
    widget here. Storage, validation and scoring follow from the entry."""
    from wtforms import IntegerField

    from survey.collection import widgets
    from tests.questionnaires.test_q_item_types import StarsType, _with_stars

    stars = StarsType("stars")
    with q.extra_item_types(stars):
        widgets.register("stars")(lambda item, defn, lang: IntegerField(item.id))
        try:
            data = {**_with_stars(), "key": "sao", "status": "published"}
            defn = q.parse_definition(data, source="sao/v1.json")
            db.session.add(QuestionnaireVersion(
                key="sao", version=1, definition=q.to_dict(defn),
                hash=q.definition_hash(defn), status="published"))
            unit = units.create_unit(None, {"name": "Tỉnh", "kind": "province",
                                            "sector": "administrative"})
            point = units.create_point(unit, "Quầy")
            point.questionnaire_key = "sao"
            db.session.commit()
            token = links.create_link(point).token
            page = next(s.number for s in flow.screens(defn) for i in s.items if i.id == "q_sao")
            assert 'name="q_sao"' in client.get(f"/q/{token}/p/{page}").get_data(as_text=True)
            for p in flow.screen_numbers(defn):
                ids = {i.id for i in flow.page_items(defn, p)}
                answers = {"q_yes": "false", "q_sao": "★★★★"}
                client.post(f"/q/{token}/p/{p}",
                            data={k: v for k, v in answers.items() if k in ids})
            stored = db.session.scalar(select(Response))
            assert stored is not None
            assert raw_answers(defn, stored.answers)["q_sao"] == 4
        finally:
            del widgets.FIELD_BUILDERS["stars"]
            widgets.form_class.cache_clear()
