"""The editor's answer scales, section introductions, the "not applicable" label, gaps,
notes and a question's source and note: edit → export → publish, bad input refused with
the loader's message beside the field and nothing written, rights and published versions."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.models import AuditLog
from tests.survey.authoring.helpers import BASE, item_post, row_of, snapshot


@pytest.fixture
def admin(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    make_user("quantri", "administrator", province)
    make_user("phantich", "analyst", province)
    login("quantri")
    questionnaire_versions.sync()
    return {"province": province}


def draft_of(client: Any, db: Any, key: str) -> Any:
    source = row_of(db, key, 1)
    assert client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""}).status_code == 302
    return row_of(db, key, 2)


def stored(db: Any, key: str) -> dict[str, Any]:
    return copy.deepcopy(row_of(db, key, 2).definition)


def exported(client: Any, row: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(client.get(f"{BASE}/{row.id}/export").get_data(
        as_text=True))
    return found


def rows_post(options: list[tuple[object, str, str]], blank: int = 1) -> dict[str, str]:
    """The scale form as a browser posts it: one row per option, then empty rows."""
    data: dict[str, str] = {}
    for n, (value, vi, en) in enumerate([*options, *[("", "", "")] * blank]):
        data.update({f"value_{n}": str(value), f"vi_{n}": vi, f"en_{n}": en})
    return data


HAI_LONG3 = [(1, "Không hài lòng", "Dissatisfied"), (2, "Hài lòng", "Satisfied"),
             (3, "Rất hài lòng", "Very satisfied")]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True)).replace("&#39;", "'").replace("&#34;", '"')


def publish(client: Any, db: Any, row: Any, key: str) -> None:
    assert client.post(f"{BASE}/{row.id}/publish").status_code == 302
    assert questionnaire_versions.latest_published(key).version == 2


def test_edit_a_scale_add_move_remove_options_then_publish(client: Any, db: Any,
                                                           admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}/scales/hai_long3"
    editor = text(client.get(f"{BASE}/{draft.id}/edit"))
    assert url in editor and "Thang trả lời" in editor
    page = text(client.get(url))
    assert 'name="value_3"' in page and 'value="Rất hài lòng"' in page
    assert "muc_do_hai_long" in page and f'name="base_hash" value="{draft.hash}"' in page
    # Labels edited and a fourth option added through the empty row.
    options = [(1, "Chưa hài lòng", "Not satisfied"), *HAI_LONG3[1:], (4, "Khác", "Other")]
    response = client.post(url, data={**rows_post(options[:3], 0), "value_3": " 4 ",
                                      "vi_3": "Khác", "en_3": "Other"})
    assert response.status_code == 302 and response.location.endswith(url)
    assert exported(client, row_of(db, "desk_rating", 2))["scales"]["hai_long3"] == {
        "options": [{"value": v, "label": {"vi": vi, "en": en}} for v, vi, en in options]}
    # "Move option 4 up" saves the form with the move; "remove option 3" then removes it.
    assert client.post(url, data={**rows_post(options), "action": "up-3"}).status_code == 302
    assert [o["value"] for o in stored(db, "desk_rating")["scales"]["hai_long3"]["options"]
            ] == [1, 2, 4, 3]
    moved = [options[0], options[1], options[3], options[2]]
    assert client.post(url, data={**rows_post(moved), "action": "delete-2"}).status_code == 302
    assert client.post(url, data={**rows_post(moved[:2] + moved[3:]), "action": "down-0"}
                       ).status_code == 302
    scale = exported(client, row_of(db, "desk_rating", 2))["scales"]["hai_long3"]
    assert [(o["value"], o["label"]["vi"]) for o in scale["options"]] == [
        (2, "Hài lòng"), (1, "Chưa hài lòng"), (3, "Rất hài lòng")]
    # An entirely emptied row removes its option too.
    client.post(url, data=rows_post([HAI_LONG3[1], ("", "", ""), HAI_LONG3[2]]))
    assert [o["value"] for o in stored(db, "desk_rating")["scales"]["hai_long3"]["options"]
            ] == [2, 3]
    publish(client, db, draft, "desk_rating")
    audit = db.session.scalars(select(AuditLog.action).where(
        AuditLog.entity == "questionnaire_version", AuditLog.entity_id == str(draft.id))).all()
    assert audit.count("update") == 6


def test_add_a_scale_use_it_then_delete_an_unused_scale(client: Any, db: Any,
                                                       admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}"
    assert 'name="id"' in text(client.get(f"{url}/scales/new"))
    options = [(1, "Ít", "Little"), (2, "Vừa", "Some"), (3, "Nhiều", "Much")]
    response = client.post(f"{url}/scales/new", data={"id": "muc_do3",
                                                      **rows_post(options, 2)})
    assert response.status_code == 302
    assert response.location.endswith(f"{url}/scales/muc_do3")
    assert exported(client, row_of(db, "desk_rating", 2))["scales"]["muc_do3"]["options"][2] == {
        "value": 3, "label": {"vi": "Nhiều", "en": "Much"}}
    assert "muc_do3" in text(client.get(f"{url}/sections/1/items/0"))
    first = stored(db, "desk_rating")["sections"][1]["items"][0]
    assert client.post(f"{url}/sections/1/items/0",
                       data={**item_post(first), "scale": "muc_do3"}).status_code == 302
    assert "muc_do_hai_long" in text(client.get(f"{url}/scales/muc_do3"))
    response = client.post(f"{url}/scales/hai_long3/delete", data={"base_hash": row_of(
        db, "desk_rating", 2).hash})
    assert response.status_code == 302
    assert "hai_long3" not in exported(client, row_of(db, "desk_rating", 2))["scales"]
    publish(client, db, draft, "desk_rating")
    defn = questionnaire_versions.definition_of(row_of(db, "desk_rating", 2))
    assert defn.item("muc_do_hai_long").scale == "muc_do3"


def test_deleting_a_used_scale_is_refused_naming_its_questions(client: Any, db: Any,
                                                              admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "sipas_2023")
    before = snapshot(db)
    html = text(client.post(f"{BASE}/{draft.id}/scales/gioi_tinh/delete",
                            follow_redirects=True))
    assert "Thang trả lời gioi_tinh vẫn đang được dùng cho các câu hỏi gioi_tinh" in html
    html = text(client.post(f"{BASE}/{draft.id}/scales/hai_long5/delete",
                            follow_redirects=True))
    assert "c9_01, c9_02" in html and "hãy chọn thang khác" in html
    assert snapshot(db) == before
    assert client.post(f"{BASE}/{draft.id}/scales/khong_co/delete").status_code == 302
    assert snapshot(db) == before
    assert client.get(f"{BASE}/{draft.id}/scales/khong_co").status_code == 404


# (scale url under the draft, posted data, expected message, field shown in error)
BAD_SCALES: list[tuple[str, dict[str, str], str, str]] = [
    ("scales/hai_long3", rows_post([*HAI_LONG3[:2], (2, "Rất hài lòng", "Very")]),
     "scales.hai_long3.options[2].value: giá trị 2 đã được dùng cho một phương án khác",
     "value_2"),
    ("scales/hai_long3", rows_post([HAI_LONG3[0], (2, "", "Satisfied"), HAI_LONG3[2]]),
     "scales.hai_long3.options[1].label.vi: không được để trống", "vi_1"),
    ("scales/hai_long3", rows_post([HAI_LONG3[0], (2, "Hài lòng", "  "), HAI_LONG3[2]]),
     "scales.hai_long3.options[1].label.en: không được để trống", "en_1"),
    ("scales/hai_long3", rows_post([HAI_LONG3[0], ("hai", "Hài lòng", "Satisfied")]),
     "scales.hai_long3.options[1].value: phải là số nguyên", "value_1"),
    ("scales/hai_long3", rows_post([HAI_LONG3[0], ("2.5", "Hài lòng", "Satisfied")]),
     "scales.hai_long3.options[1].value: phải là số nguyên", "value_1"),
    ("scales/hai_long3", rows_post([HAI_LONG3[0]]),
     "scales.hai_long3.options: một thang trả lời cần ít nhất 2 phương án", "value_0"),
    ("scales/diem_thai_do", rows_post([(3, "Ba", "Three"), (1, "Một", "One"),
                                       (0, "Không", "Zero")]),
     "thang 'diem_thai_do' phải có các giá trị", ""),
    ("scales/new", {"id": "hai_long3", **rows_post(HAI_LONG3)},
     "Thang trả lời hai_long3 đã có.", "id"),
    ("scales/new", {"id": "Thang Mới", **rows_post(HAI_LONG3)}, "snake_case", "id"),
    ("scales/new", {"id": "moi", **rows_post([(1, "Một", "One"), (1, "Một nữa", "One")])},
     "scales.moi.options[1].value: giá trị 1 đã được dùng", "value_1"),
]


@pytest.mark.parametrize(("url", "data", "message", "field"), BAD_SCALES)
def test_bad_scales_are_refused_beside_the_field(client: Any, db: Any, admin: dict[str, Any],
                                                 url: str, data: dict[str, str], message: str,
                                                 field: str) -> None:
    draft = draft_of(client, db, "desk_rating")
    before = snapshot(db)
    hash_before = row_of(db, "desk_rating", 2).hash
    response = client.post(f"{BASE}/{draft.id}/{url}", data=data)
    html = text(response)
    assert response.status_code == 200
    assert message in html
    if field:
        assert f'id="{field}-error"' in html
    assert snapshot(db) == before and row_of(db, "desk_rating", 2).hash == hash_before


def test_na_label_gaps_and_notes(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}/notes"
    assert url in text(client.get(f"{BASE}/{draft.id}/edit"))
    page = text(client.get(url))
    assert 'name="na_label_vi"' in page and "Official point rule" not in page
    response = client.post(url, data={
        "na_label_vi": "Không áp dụng", "na_label_en": "Not applicable",
        "gaps": "Thiếu câu 10\n\n  Thiếu phần B  \n", "notes": "Ghi chú một"})
    assert response.status_code == 302
    data = exported(client, row_of(db, "desk_rating", 2))
    assert data["na_label"] == {"vi": "Không áp dụng", "en": "Not applicable"}
    assert data["gaps"] == ["Thiếu câu 10", "Thiếu phần B"] and data["notes"] == ["Ghi chú một"]
    assert "Thiếu phần B" in text(client.get(url))
    assert client.post(url, data={"na_label_vi": "", "na_label_en": "", "gaps": "",
                                  "notes": ""}).status_code == 302
    data = exported(client, row_of(db, "desk_rating", 2))
    assert not {"na_label", "gaps", "notes"} & set(data)
    publish(client, db, draft, "desk_rating")


@pytest.mark.parametrize(("data", "message", "field"), [
    ({"na_label_vi": "", "na_label_en": ""},
     "sections[1].items[6].not_applicable: cần nhãn “không áp dụng” trong bộ câu hỏi",
     "na_label_vi"),
    ({"na_label_vi": "Không áp dụng", "na_label_en": ""},
     "tại na_label.en: không được để trống", "na_label_en"),
])
def test_bad_na_labels_are_refused(client: Any, db: Any, admin: dict[str, Any],
                                   data: dict[str, str], message: str, field: str) -> None:
    draft = draft_of(client, db, "edu_parents_preschool")
    before = snapshot(db)
    response = client.post(f"{BASE}/{draft.id}/notes", data={**data, "gaps": "", "notes": ""})
    html = text(response)
    assert response.status_code == 200 and message in html
    assert f'id="{field}-error"' in html
    assert snapshot(db) == before


def test_section_intro(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}/sections"
    assert "Chọn một mức cho mỗi chỉ số" in text(client.get(f"{url}/0"))
    post = {"title_vi": "Đánh giá chung", "title_en": "Overall", "page": "1"}
    assert client.post(f"{url}/1", data={**post, "intro_vi": "Xin cho biết ý kiến.",
                                         "intro_en": "Your opinion."}).status_code == 302
    sections = exported(client, row_of(db, "desk_rating", 2))["sections"]
    assert sections[1]["intro"] == {"vi": "Xin cho biết ý kiến.", "en": "Your opinion."}
    assert "Xin cho biết ý kiến." in text(client.get(f"{BASE}/{draft.id}/preview"))
    assert client.post(f"{url}/0", data={**post, "title_vi": "Chỉ số", "intro_vi": "",
                                         "intro_en": ""}).status_code == 302
    assert "intro" not in exported(client, row_of(db, "desk_rating", 2))["sections"][0]
    # A client that does not send the introduction leaves it as it is.
    assert client.post(f"{url}/1", data={**post, "title_en": "General"}).status_code == 302
    assert stored(db, "desk_rating")["sections"][1]["intro"]["en"] == "Your opinion."
    response = client.post(f"{url}/new", data={
        **post, "id": "bo_sung", "page": "2", "item_id": "quay_lai", "item_text_vi": "Quay lại?",
        "item_text_en": "Come back?", "intro_vi": "Phần thêm.", "intro_en": "Extra part."})
    assert response.status_code == 302
    assert stored(db, "desk_rating")["sections"][2]["intro"]["vi"] == "Phần thêm."
    before = snapshot(db)
    html = text(client.post(f"{url}/1", data={**post, "intro_vi": "Chỉ tiếng Việt",
                                              "intro_en": ""}))
    assert "tại sections[1].intro.en: không được để trống" in html
    assert 'id="intro_en-error"' in html and snapshot(db) == before
    publish(client, db, draft, "desk_rating")


def test_item_source_and_note(client: Any, db: Any, admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    url = f"{BASE}/{draft.id}/sections/0/items/4"
    item = stored(db, "desk_rating")["sections"][0]["items"][4]
    page = text(client.get(url))
    assert 'name="source"' in page and "Official point rule is agency-level" in page
    response = client.post(url, data={**item_post(item), "source": " QĐ 2 ",
                                      "note": "Ghi chú mới"})
    assert response.status_code == 302
    saved = exported(client, row_of(db, "desk_rating", 2))["sections"][0]["items"][4]
    assert saved["source"] == "QĐ 2" and saved["note"] == "Ghi chú mới"
    # Not sent: unchanged (older pages, scripts); sent empty: removed.
    assert client.post(url, data={**item_post(item), "code": "5"}).status_code == 302
    assert stored(db, "desk_rating")["sections"][0]["items"][4]["source"] == "QĐ 2"
    assert client.post(url, data={**item_post(item), "source": "", "note": ""}
                       ).status_code == 302
    saved = exported(client, row_of(db, "desk_rating", 2))["sections"][0]["items"][4]
    assert "source" not in saved and "note" not in saved
    response = client.post(f"{BASE}/{draft.id}/sections/1/items/new", data={
        "id": "them", "type": "yes_no", "provenance": "inferred", "text_vi": "Thêm?",
        "text_en": "More?", "source": "Phiếu mẫu", "note": ""})
    assert response.status_code == 302
    assert stored(db, "desk_rating")["sections"][1]["items"][2]["source"] == "Phiếu mẫu"
    publish(client, db, draft, "desk_rating")


def test_a_scale_change_on_a_stale_page_is_refused(client: Any, db: Any,
                                                    admin: dict[str, Any]) -> None:
    draft = draft_of(client, db, "desk_rating")
    old = draft.hash
    url = f"{BASE}/{draft.id}"
    assert 'name="base_hash"' in text(client.get(f"{url}/notes"))
    assert 'name="base_hash"' in text(client.get(f"{url}/scales/new"))
    assert client.post(f"{url}/notes", data={"na_label_vi": "Không áp dụng",
                                             "na_label_en": "N/A", "base_hash": old}
                       ).status_code == 302
    before = snapshot(db)
    for path, data in (("scales/hai_long3", rows_post(HAI_LONG3)),
                       ("scales/hai_long3/delete", {}), ("notes", {"gaps": "x"})):
        html = text(client.post(f"{url}/{path}", data={**data, "base_hash": old},
                                follow_redirects=True))
        assert "Bản nháp đã được thay đổi trong lúc đó" in html, path
    assert snapshot(db) == before


NEW_URLS = ("scales/hai_long3", "scales/new", "scales/hai_long3/delete", "notes")


def test_only_administrators_and_only_drafts(client: Any, db: Any, admin: dict[str, Any],
                                             login: Any) -> None:
    draft = draft_of(client, db, "desk_rating")
    published = row_of(db, "desk_rating", 1)
    before = snapshot(db)
    for path in NEW_URLS:
        response = client.post(f"{BASE}/{published.id}/{path}",
                               data={"id": "x", **rows_post(HAI_LONG3), "gaps": "x"})
        assert response.status_code == 409, path
        assert "không bao giờ thay đổi" in text(response)
        if not path.endswith("delete"):
            assert client.get(f"{BASE}/{published.id}/{path}").status_code == 409, path
    assert snapshot(db) == before
    client.post("/logout")
    login("phantich")
    before = snapshot(db)  # signing out is audited (the account's session version)
    for path in NEW_URLS:
        assert client.post(f"{BASE}/{draft.id}/{path}",
                           data={"id": "x", **rows_post(HAI_LONG3), "gaps": "x"}
                           ).status_code == 403, path
        if not path.endswith("delete"):
            assert client.get(f"{BASE}/{draft.id}/{path}").status_code == 403, path
    assert snapshot(db) == before


@pytest.mark.parametrize("key", ["health_inpatient", "sipas_2023"])
def test_saving_unchanged_forms_keeps_the_json(client: Any, db: Any, admin: dict[str, Any],
                                               key: str) -> None:
    """Every scale (option order kept, e.g. 3, 2, 1), every section with its introduction,
    the notes page and (health_inpatient) every question with its source and note saved
    unchanged through the forms: the same JSON."""
    draft = draft_of(client, db, key)
    url = f"{BASE}/{draft.id}"
    source = exported(client, draft)
    for scale_id, scale in source["scales"].items():
        options = [(o["value"], o["label"]["vi"], o["label"]["en"]) for o in scale["options"]]
        response = client.post(f"{url}/scales/{scale_id}", data=rows_post(options))
        assert response.status_code == 302, (scale_id, text(response))
    for n, section in enumerate(source["sections"]):
        intro = section.get("intro", {})
        response = client.post(f"{url}/sections/{n}", data={
            "title_vi": section["title"]["vi"], "title_en": section["title"]["en"],
            "page": section["page"], "intro_vi": intro.get("vi", ""),
            "intro_en": intro.get("en", "")})
        assert response.status_code == 302, (section["id"], text(response))
        for i, item in enumerate(section["items"] if key == "health_inpatient" else []):
            response = client.post(f"{url}/sections/{n}/items/{i}", data={
                **item_post(item), "source": item.get("source", ""),
                "note": item.get("note", "")})
            assert response.status_code == 302, (item["id"], text(response))
    label = source.get("na_label", {})
    assert client.post(f"{url}/notes", data={
        "na_label_vi": label.get("vi", ""), "na_label_en": label.get("en", ""),
        "gaps": "\n".join(source.get("gaps", [])),
        "notes": "\n".join(source.get("notes", []))}).status_code == 302
    assert exported(client, row_of(db, key, 2)) == source
