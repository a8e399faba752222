"""Questionnaire staff pages: list, structure, preview, lifecycle, import/export, rights."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import select

import questionnaires as q
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import flow
from survey.models import QuestionnaireVersion, Response
from tests.survey.authoring.helpers import BASE, row_of, snapshot

SHIPPED = sorted(d.key for d in q.load_all())


@pytest.fixture
def staff(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    province = make_unit("Tỉnh Thử", code="99")
    make_user("quantri", "administrator", province)
    make_user("phantich", "analyst", province)
    make_user("soyte", "sector_manager", province, sector="health")
    login("quantri")
    return {"province": province}


def test_list_shows_every_version_with_response_counts(client: Any, db: Any,
                                                       staff: dict[str, Any]) -> None:
    db.session.add(Response(questionnaire_key="desk_rating", questionnaire_version=1,
                            channel="desk_qr", unit_id=staff["province"].id,
                            client_submission_id="s-1"))
    db.session.commit()
    html = client.get(f"{BASE}/").get_data(as_text=True)
    assert "<h1>Bộ câu hỏi</h1>" in html
    for key in SHIPPED:
        assert f"<td>{key}</td>" in html
    assert '<td class="num">1</td>' in html
    assert "Phiếu đánh giá" in html and "đã ban hành" in html and "đã thôi dùng" in html
    filtered = client.get(f"{BASE}/?status=retired").get_data(as_text=True)
    assert "<td>sipas_2017</td>" in filtered and "<td>sipas_2023</td>" not in filtered
    health = client.get(f"{BASE}/?sector=health").get_data(as_text=True)
    assert "<td>health_inpatient</td>" in health and "<td>desk_rating</td>" not in health
    assert "<td>sipas_2023</td>" in client.get(f"{BASE}/?key=sipas_2023").get_data(as_text=True)


@pytest.mark.parametrize("key", SHIPPED)
def test_structure_and_preview_of_every_shipped_questionnaire(client: Any, db: Any,
                                                               staff: dict[str, Any],
                                                               key: str) -> None:
    row = row_of(db, key, 1)
    defn = q.load(key)
    html = client.get(f"{BASE}/{row.id}").get_data(as_text=True)
    for item in defn.items:
        assert f'id="i-{item.id}"' in html
    for node in defn.index.nodes:
        assert f'id="n-{node.id}"' in html
    assert "prov-" in html and defn.decisions[0] in html
    flat = defn.index.flatten(defn.index.overall)
    if flat.ok:
        item_id, weight = flat.weights[0]
        assert f"<code>{item_id}</code>: {weight:.4f}" in html
    screens = flow.screens(defn)  # the preview shows what citizens see, screen by screen
    assert [s.number for s in screens] == list(range(1, len(screens) + 1))
    assert [i.id for s in screens for i in s.items] == [i.id for i in defn.items]
    for shown in screens:
        assert len(shown.items) <= flow.MAX_ITEMS_PER_SCREEN
        vi = client.get(f"{BASE}/{row.id}/preview?page={shown.number}").get_data(as_text=True)
        assert "Xem trước" in vi and "<form" not in vi.split("</header>")[1]
        assert 'type="submit"' not in vi
        for section, _items in shown.sections:
            assert section.title.vi in vi
    client.get("/lang/en")
    en = client.get(f"{BASE}/{row.id}/preview?page={screens[-1].number}").get_data(as_text=True)
    assert '<html lang="en">' in en and "Preview" in en
    assert screens[-1].sections[0][0].title.en in en
    assert client.get(f"{BASE}/{row.id}/preview?page=99").status_code == 404


def test_preview_shows_conditional_questions(client: Any, db: Any, staff: dict[str, Any]) -> None:
    defn = q.load("health_inpatient")
    conditional = [i for i in defn.items if i.show_if is not None]
    row = row_of(db, "health_inpatient", 1)
    pages = "".join(client.get(f"{BASE}/{row.id}/preview?page={p}").get_data(as_text=True)
                    for p in flow.screen_numbers(defn))
    for item in conditional:
        assert f'id="q-{item.id}"' in pages


def test_export_is_the_shipped_file(client: Any, db: Any, staff: dict[str, Any]) -> None:
    row = row_of(db, "sipas_2023", 1)
    response = client.get(f"{BASE}/{row.id}/export")
    assert response.headers["Content-Disposition"] == 'attachment; filename="sipas_2023_v1.json"'
    assert "charset=utf-8" in response.headers["Content-Type"]
    assert response.get_data() == (q.DEFAULT_ROOT / "sipas_2023/v1.json").read_bytes()


def test_clone_publish_and_retire(client: Any, db: Any, staff: dict[str, Any]) -> None:
    source = row_of(db, "desk_rating", 1)
    response = client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    draft = row_of(db, "desk_rating", 2)
    assert draft.status == "draft"
    assert questionnaire_versions.latest_published("desk_rating").version == 1
    assert client.post(f"{BASE}/{draft.id}/publish").status_code == 302
    assert questionnaire_versions.latest_published("desk_rating").version == 2
    published = row_of(db, "desk_rating", 2)
    assert published.status == "published" and published.published_at is not None
    assert questionnaire_versions.definition_of(published).status == "published"
    assert client.post(f"{BASE}/{published.id}/retire").status_code == 302
    assert row_of(db, "desk_rating", 2).status == "retired"
    assert questionnaire_versions.latest_published("desk_rating").version == 1
    # retired content stays loadable for its responses
    assert questionnaire_versions.definition_of(row_of(db, "desk_rating", 2)).version == 2
    other = client.post(f"{BASE}/{source.id}/clone", data={"new_key": "desk_rating_xa"})
    assert other.status_code == 302 and row_of(db, "desk_rating_xa", 1).status == "draft"


def test_delete_draft_but_never_a_version_with_responses(client: Any, db: Any,
                                                         staff: dict[str, Any]) -> None:
    source = row_of(db, "desk_rating", 1)
    client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
    draft = row_of(db, "desk_rating", 2)
    db.session.add(Response(questionnaire_key="desk_rating", questionnaire_version=2,
                            channel="paper", unit_id=staff["province"].id,
                            client_submission_id="s-2"))
    db.session.commit()
    before = snapshot(db)
    page = client.post(f"{BASE}/{draft.id}/delete", follow_redirects=True)
    assert "có câu trả lời" in page.get_data(as_text=True)
    assert snapshot(db) == before
    db.session.delete(db.session.scalars(select(Response)).one())
    db.session.commit()
    draft_id = draft.id
    db.session.expunge(draft)
    assert client.post(f"{BASE}/{draft_id}/delete").status_code == 302
    assert row_of(db, "desk_rating", 2) is None
    before = snapshot(db)
    html = client.post(f"{BASE}/{source.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Chỉ xoá được bản nháp" in html and snapshot(db) == before


def test_published_versions_cannot_be_edited(client: Any, db: Any, staff: dict[str, Any]) -> None:
    row = row_of(db, "sipas_2023", 1)
    before = snapshot(db)
    for url in ("edit", "meta", "sections/0", "sections/0/items/0", "nodes/sipas", "nodes/new"):
        assert client.get(f"{BASE}/{row.id}/{url}").status_code == 409
    for url in ("meta", "sections/0", "sections/0/items/0", "sections/0/items/0/delete",
                "sections/0/items/0/up", "sections/0/down", "sections/new",
                "sections/0/items/new", "nodes/sipas", "nodes/new", "nodes/sipas/delete"):
        response = client.post(f"{BASE}/{row.id}/{url}", data={"title_vi": "Sửa"})
        assert response.status_code == 409, url
        assert "không bao giờ thay đổi" in response.get_data(as_text=True)
    html = client.post(f"{BASE}/{row.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "không bao giờ thay đổi" in html
    assert snapshot(db) == before


def test_import_creates_a_draft_whatever_its_status(client: Any, db: Any,
                                                    staff: dict[str, Any]) -> None:
    data = json.loads((q.DEFAULT_ROOT / "health_outpatient/v1.json").read_text("utf-8"))
    data["version"] = 7
    upload = (io.BytesIO(json.dumps(data, ensure_ascii=False).encode("utf-8")), "h.json")
    response = client.post(f"{BASE}/import", data={"file": upload},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    row = row_of(db, "health_outpatient", 7)
    assert row.status == "draft"
    exported = json.loads(client.get(f"{BASE}/{row.id}/export").get_data(as_text=True))
    assert exported == {**data, "status": "draft"}


def test_round_trip_of_an_unchanged_clone(client: Any, db: Any, staff: dict[str, Any]) -> None:
    for key in SHIPPED:
        source = row_of(db, key, 1)
        client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
        clone = row_of(db, key, 2)
        original = json.loads(client.get(f"{BASE}/{source.id}/export").get_data(as_text=True))
        copied = json.loads(client.get(f"{BASE}/{clone.id}/export").get_data(as_text=True))
        original.pop("superseded_by", None)
        assert {**copied, "version": 1, "status": original["status"]} == original


WRITES = [("post", "{id}/clone"), ("post", "{id}/publish"), ("post", "{id}/retire"),
          ("post", "{id}/delete"), ("get", "{draft}/edit"), ("post", "{draft}/meta"),
          ("post", "{draft}/sections/0"), ("post", "{draft}/sections/0/up"),
          ("post", "{draft}/sections/new"), ("post", "{draft}/sections/0/items/0"),
          ("post", "{draft}/sections/0/items/0/delete"), ("post", "{draft}/sections/0/items/new"),
          ("post", "{draft}/nodes/hai_long"), ("post", "{draft}/nodes/new"),
          ("post", "{draft}/nodes/hai_long/delete"), ("get", "import"), ("post", "import"),
          ("post", "{draft}/publish"), ("post", "{draft}/delete")]


@pytest.mark.parametrize("username", ["phantich", "soyte"])
def test_only_administrators_write(client: Any, db: Any, staff: dict[str, Any],
                                   login: Any, username: str) -> None:
    source = row_of(db, "desk_rating", 1)
    client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
    draft = row_of(db, "desk_rating", 2)
    client.post("/logout")
    login(username)
    for url in ("", f"{source.id}", f"{source.id}/preview", f"{source.id}/export",
                f"{draft.id}", f"{draft.id}/preview"):
        assert client.get(f"{BASE}/{url}").status_code == 200, url
    html = client.get(f"{BASE}/{source.id}").get_data(as_text=True)
    assert "Nhân bản" not in html and "Thôi dùng" not in html
    before = snapshot(db)
    for method, url in WRITES:
        response = getattr(client, method)(f"{BASE}/" + url.format(id=source.id, draft=draft.id),
                                           data={"new_key": "x", "title_vi": "x"})
        assert response.status_code == 403, url
    assert snapshot(db) == before
    assert db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "x")) is None
