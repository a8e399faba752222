"""The form-based draft editor: a whole edit → publish cycle, round trips through the
forms, and bad edits and imports that are refused with a clear message and write nothing."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

import questionnaires as q
from survey.authoring.services import drafts
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.models import AuditLog
from survey.org.services import units
from tests.survey.authoring.helpers import BASE, item_post, node_post, row_of, snapshot


@pytest.fixture
def signed_in(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    make_user("quantri", "administrator", province)
    login("quantri")
    return {"province": province}


@pytest.fixture
def admin(signed_in: dict[str, Any]) -> dict[str, Any]:
    questionnaire_versions.sync()
    return signed_in


def draft_of(client: Any, db: Any, key: str) -> Any:
    source = row_of(db, key, 1)
    assert client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""}).status_code == 302
    return row_of(db, key, 2)


def stored(db: Any, key: str, version: int = 2) -> dict[str, Any]:
    return copy.deepcopy(row_of(db, key, version).definition)


NEW_ITEM = {"type": "yes_no", "provenance": "inferred", "show_if_values": "", "code": ""}


def test_edit_cycle_then_publish_serves_the_new_version(client: Any, db: Any,
                                                         admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}"
    assert "Sửa bản nháp" in client.get(f"{url}/edit").get_data(as_text=True)
    first = stored(db, "desk_rating")["sections"][1]["items"][0]
    changed = {**item_post(first), "text_vi": "Ông/bà hài lòng đến đâu?"}
    assert client.post(f"{url}/sections/1/items/0", data=changed).status_code == 302
    for item_id, text in (("them_mot", "Câu thêm một"), ("them_hai", "Câu thêm hai")):
        response = client.post(f"{url}/sections/1/items/new", data={
            **NEW_ITEM, "id": item_id, "text_vi": text, "text_en": f"Extra {item_id}"})
        assert response.status_code == 302, response.get_data(as_text=True)
    assert client.post(f"{url}/sections/1/items/3/up").status_code == 302
    assert client.post(f"{url}/sections/1/items/3/delete").status_code == 302  # them_mot
    assert client.post(f"{url}/sections/1/items/2/up").status_code == 302
    assert client.post(f"{url}/sections/1/up").status_code == 302
    client.post(f"{url}/meta", data={"title_vi": "Phiếu đánh giá (sửa)", "title_en": "Desk (ed.)",
                                     "sector": "administrative", "provenance": "secondary",
                                     "text_status": "verbatim", "decisions": "QĐ 1\nQĐ 2"})
    data = stored(db, "desk_rating")
    assert [s["id"] for s in data["sections"]] == ["danh_gia_chung", "chi_so"]
    assert [i["id"] for i in data["sections"][0]["items"]] == ["muc_do_hai_long", "them_hai",
                                                               "gop_y"]
    assert data["sections"][0]["items"][0]["text"]["vi"] == "Ông/bà hài lòng đến đâu?"
    assert data["title"]["vi"] == "Phiếu đánh giá (sửa)" and data["decisions"] == ["QĐ 1", "QĐ 2"]
    assert client.post(f"{url}/publish").status_code == 302
    latest = questionnaire_versions.latest_published("desk_rating")
    assert latest.version == 2 and latest.status == "published"
    province = admin["province"]
    point = units.create_point(province, "Quầy 1")
    point.questionnaire_key = "desk_rating"
    db.session.commit()
    page = client.get(f"/q/{links.create_link(point).token}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Câu thêm hai" in html and "Ông/bà hài lòng đến đâu?" in html
    assert "Câu thêm một" not in html
    assert client.get(f"{url}/edit").status_code == 409


def test_a_change_on_a_stale_page_is_refused(client: Any, db: Any,
                                              admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}"
    page = client.get(f"{url}/edit").get_data(as_text=True)
    assert f'name="base_hash" value="{draft.hash}"' in page
    for form_page in ("meta", "sections/0", "sections/0/items/0", "nodes/hai_long"):
        assert 'name="base_hash"' in client.get(f"{url}/{form_page}").get_data(as_text=True)
    old_hash = draft.hash
    assert client.post(f"{url}/sections/1/items/1/up", data={"base_hash": old_hash}
                       ).status_code == 302
    before = snapshot(db)
    html = client.post(f"{url}/sections/1/items/0/delete", data={"base_hash": old_hash},
                       follow_redirects=True).get_data(as_text=True)
    assert "Bản nháp đã được thay đổi trong lúc đó" in html
    assert snapshot(db) == before


def test_add_and_delete_an_index_node(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}"
    assert 'name="id"' in client.get(f"{url}/nodes/new").get_data(as_text=True)
    response = client.post(f"{url}/nodes/new", data={
        "id": "tiep_nhan", "provenance": "inferred", "title_vi": "Tiếp nhận",
        "title_en": "Reception", "rule": "share_at_least", "children": "mot_cua\nthai_do",
        "threshold": "2", "pooling": "", "values": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    defn = questionnaire_versions.definition_of(row_of(db, "desk_rating", 2))
    assert defn.index.leaf_weights("tiep_nhan") == {"mot_cua": 0.5, "thai_do": 0.5}
    assert client.post(f"{url}/nodes/tiep_nhan/delete").status_code == 302
    assert not questionnaire_versions.definition_of(
        row_of(db, "desk_rating", 2)).index.is_node("tiep_nhan")
    before = snapshot(db)
    html = client.post(f"{url}/nodes/hai_long/delete", follow_redirects=True).get_data(
        as_text=True).replace("&#39;", "'")
    assert "Chưa lưu: bộ câu hỏi sẽ không hợp lệ tại index.overall" in html
    assert snapshot(db) == before


def test_add_and_delete_a_section(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}"
    response = client.post(f"{url}/sections/new", data={
        "id": "bo_sung", "title_vi": "Phần bổ sung", "title_en": "Extra", "page": "2",
        "item_id": "co_quay_lai", "item_text_vi": "Ông/bà có quay lại không?",
        "item_text_en": "Would you come back?"})
    assert response.status_code == 302
    defn = questionnaire_versions.definition_of(row_of(db, "desk_rating", 2))
    assert defn.pages == (1, 2) and defn.item("co_quay_lai").type == "yes_no"
    preview = client.get(f"{url}/preview?page=2").get_data(as_text=True)
    assert "Phần bổ sung" in preview and "Ông/bà có quay lại không?" in preview
    assert client.post(f"{url}/sections/2/delete").status_code == 302
    assert [s.id for s in questionnaire_versions.definition_of(
        row_of(db, "desk_rating", 2)).sections] == ["chi_so", "danh_gia_chung"]
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "questionnaire_version", AuditLog.entity_id == str(draft.id))
        .order_by(AuditLog.id)).all()
    assert [a.action for a in audit] == ["create", "update", "update"]
    assert all(a.actor_label == "quantri" for a in audit)


def test_sipas_overall_weights_and_nodes(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "sipas_2023")
    url = f"{BASE}/{draft.id}/nodes/sipas"
    html = client.get(url).get_data(as_text=True)
    assert 'name="w_chinh_sach"' in html and 'name="w_dich_vu"' in html
    node = stored(db, "sipas_2023")["index"]["nodes"][11]
    assert node["id"] == "sipas"
    response = client.post(url, data={**node_post(node), "w_chinh_sach": "0.4",
                                      "w_dich_vu": "0.6"})
    assert response.status_code == 302
    defn = questionnaire_versions.definition_of(row_of(db, "sipas_2023", 2))
    assert defn.index.node("sipas").weights == (0.4, 0.6)
    assert abs(sum(defn.index.leaf_weights("sipas").values()) - 1) < 1e-9
    share = stored(db, "sipas_2023")["index"]["nodes"][0]
    response = client.post(f"{BASE}/{draft.id}/nodes/{share['id']}",
                           data={**node_post(share), "threshold": "5"})
    assert response.status_code == 302
    assert questionnaire_versions.definition_of(
        row_of(db, "sipas_2023", 2)).index.node(share["id"]).threshold == 5


@pytest.mark.parametrize(("key", "items"), [("desk_rating", True), ("health_inpatient", True),
                                           ("sipas_2023", False)])
def test_json_editor_json_round_trip(client: Any, db: Any, signed_in: dict[str, Any],
                                     key: str, items: bool) -> None:
    """Import a file, save every question (sipas_2023: the nodes only, to keep the test
    fast) and node through the forms unchanged, export: the same JSON (but the status)."""
    source = json.loads((q.DEFAULT_ROOT / f"{key}/v1.json").read_text("utf-8"))
    source["version"] = 9
    upload = io.BytesIO(json.dumps(source, ensure_ascii=False).encode("utf-8"))
    assert client.post(f"{BASE}/import", data={"file": (upload, "x.json")},
                       content_type="multipart/form-data").status_code == 302
    row = row_of(db, key, 9)
    url = f"{BASE}/{row.id}"
    for s_index, section in enumerate(source["sections"]):
        for i_index, item in enumerate(section["items"] if items else []):
            response = client.post(f"{url}/sections/{s_index}/items/{i_index}",
                                   data=item_post(item))
            assert response.status_code == 302, (item["id"], response.get_data(as_text=True))
        client.post(f"{url}/sections/{s_index}", data={
            "title_vi": section["title"]["vi"], "title_en": section["title"]["en"],
            "page": section["page"]})
    for node in source["index"]["nodes"]:
        response = client.post(f"{url}/nodes/{node['id']}", data=node_post(node))
        assert response.status_code == 302, (node["id"], response.get_data(as_text=True))
    exported = json.loads(client.get(f"{url}/export").get_data(as_text=True))
    assert exported == {**source, "status": "draft"}


def _item(db: Any, key: str, section: int, index: int) -> dict[str, Any]:
    found: dict[str, Any] = stored(db, key)["sections"][section]["items"][index]
    return found


# (url under the draft, form values from the stored draft → posted data, expected text)
BAD_EDITS: list[tuple[str, Any, str]] = [
    ("sections/2/items/0", lambda db: {**item_post(_item(db, "sipas_2023", 2, 0)), "scale": ""},
     "tại sections[2].items[0].scale: còn thiếu"),
    ("sections/0/items/new", lambda db: {
        **NEW_ITEM, "id": "so_tien", "type": "number", "text_vi": "Bao nhiêu?", "text_en": "How?",
        "min": "10", "max": "5"},
     "tại sections[0].items[7].max: phải lớn hơn giá trị nhỏ nhất (10)"),
    ("sections/0/items/new", lambda db: {
        **NEW_ITEM, "id": "lien_he", "type": "text", "max_length": "100",
        "text_vi": "Số điện thoại của ông/bà", "text_en": "Your phone"},
     "hỏi thông tin định danh cá nhân ('số điện thoại')"),
    ("sections/3/items/1", lambda db: {**item_post(_item(db, "sipas_2023", 3, 1)),
                                       "show_if_item": "gioi_tinh",
                                       "show_if_values": "7"},
     "7 không phải giá trị trả lời của câu hỏi 'gioi_tinh'"),
    ("sections/4/items/0/delete", lambda db: {},
     "index.nodes[0].children[0]: tham chiếu câu hỏi 'c9_01', câu này không tồn tại"),
    ("nodes/sipas", lambda db: {**node_post(stored(db, "sipas_2023")["index"]["nodes"][11]),
                                "w_chinh_sach": "0.5", "w_dich_vu": "0.6"},
     "tổng trọng số là 1.1, không phải 1"),
    ("nodes/cs_giai_trinh", lambda db: {
        **node_post(stored(db, "sipas_2023")["index"]["nodes"][0]), "threshold": "7"},
     "7 không phải giá trị trả lời của câu hỏi 'c9_01'"),
    ("sections/1/items/new", lambda db: {**NEW_ITEM, "id": "gioi_tinh", "text_vi": "Trùng",
                                         "text_en": "Dup"}, "mã 'gioi_tinh' đã được dùng"),
    ("sections/4", lambda db: {"title_vi": "Phần", "title_en": "Part", "page": "1"},
     "trang 1 đứng sau trang 2; các phần phải theo thứ tự trang"),
    ("sections/0/items/0", lambda db: {**item_post(_item(db, "sipas_2023", 0, 0)),
                                       "text_vi": ""}, "Mục này bắt buộc."),
    ("sections/0/items/new", lambda db: {**NEW_ITEM, "id": "Câu Mới", "text_vi": "x",
                                         "text_en": "x"}, "snake_case"),
    ("nodes/chinh_sach", lambda db: {
        **node_post(stored(db, "sipas_2023")["index"]["nodes"][4]),
        "children": "cs_giai_trinh\nc9_01"},
     "quy tắc 'mean' nhận các nút chỉ số; 'c9_01' không phải nút"),
]


@pytest.mark.parametrize(("url", "make", "message"), BAD_EDITS)
def test_bad_edits_are_refused_and_write_nothing(client: Any, db: Any, admin: dict[str, Any],
                                                  url: str, make: Any, message: str) -> None:
    draft = draft_of(client, db, "sipas_2023")
    data = make(db)
    before = snapshot(db)
    response = client.post(f"{BASE}/{draft.id}/{url}", data=data, follow_redirects=True)
    html = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    assert response.status_code == 200
    assert message in html
    if "Mục này" not in message and "snake_case" not in message:
        assert "Chưa lưu: bộ câu hỏi sẽ không hợp lệ tại" in html
    assert snapshot(db) == before


def _shipped(key: str = "desk_rating", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((q.DEFAULT_ROOT / f"{key}/v1.json").read_text("utf-8"))
    data.update(changes)
    return data


def _bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _no_scale() -> bytes:
    data = _shipped(version=5)
    del data["sections"][0]["items"][2]["scale"]
    return _bytes(data)


BAD_IMPORTS: list[tuple[Any, str]] = [
    (lambda: _bytes(_shipped()), "desk_rating v1 đã có; phiên bản đã có không bao giờ bị ghi đè"),
    (lambda: _bytes(_shipped(status="draft")), "desk_rating v1 đã có"),
    (_no_scale, "sections[0].items[2].scale: còn thiếu"),
    (lambda: b'{"key": "desk_rating", "title": "caf\xe9"}',
     "Tệp không phải văn bản UTF-8."),
    (lambda: b"{\"key\": ", "Tệp không phải JSON hợp lệ"),
    (lambda: b"[1, 2]", "Tệp phải chứa đúng một đối tượng JSON."),
    (lambda: _bytes(_shipped(version=3, sector="military")),
     "sector: military không thuộc: administrative"),
    (lambda: _bytes(_shipped(version=3, extra=1)), "extra: trường không được hỗ trợ"),
    (lambda: b" " * (300 * 1024), "Tệp lớn hơn 256 KB."),
    (lambda: _bytes(_shipped(version=3, format=2)), "format: định dạng 2 không được hỗ trợ"),
]


@pytest.mark.parametrize(("make", "message"), BAD_IMPORTS)
def test_bad_imports_are_refused_and_write_nothing(client: Any, db: Any,
                                                    signed_in: dict[str, Any],
                                                    make: Any, message: str) -> None:
    drafts.import_json(_bytes(_shipped()))
    before = snapshot(db)
    response = client.post(f"{BASE}/import", data={"file": (io.BytesIO(make()), "q.json")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert message in html
    assert 'class="field has-error"' in html
    assert snapshot(db) == before
