"""Unit search without regard to case or diacritics, and lists in Vietnamese order with
departments before communes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from typing import Any

import pytest

from survey.org.vietnamese import fold, sort_key


@pytest.fixture
def province(db: Any, make_unit: Any, make_user: Any, login: Any) -> Any:
    province = make_unit("Tỉnh Tây Ninh", code="80")
    for name, kind in [
        ("Phường Tân Ninh", "commune"), ("Xã Đức Hòa", "commune"), ("Xã Dương Minh Châu",
                                                                      "commune"),
        ("Phường Bình Minh", "commune"), ("Xã Ân Thạnh", "commune"), ("Xã An Tịnh", "commune"),
        ("Sở Y tế", "department"), ("Sở Xây dựng", "department"), ("Sở Công Thương",
                                                                  "department"),
        ("Trung tâm Phục vụ hành chính công", "service_centre"),
    ]:
        make_unit(name, parent=province, kind=kind)
    make_user("quantri", "administrator", province)
    login("quantri")
    return province


def names(html: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/staff/units/\d+">([^<]+)</a>', html)


@pytest.mark.parametrize(("q", "expected"), [
    ("tan ninh", ["Phường Tân Ninh"]),
    ("TÂN NINH", ["Phường Tân Ninh"]),
    ("Tân  Ninh", ["Phường Tân Ninh"]),
    ("đức", ["Xã Đức Hòa"]),
    ("duc hoa", ["Xã Đức Hòa"]),
    ("ĐỨC HÒA", ["Xã Đức Hòa"]),
    ("an", None),  # many: checked below
    ("100%", []),
    ("80", ["Tỉnh Tây Ninh"]),
])
def test_search_ignores_case_and_diacritics(client: Any, province: Any, q: str,
                                            expected: list[str] | None) -> None:
    found = names(client.get("/staff/units", query_string={"q": q}).get_data(as_text=True))
    if expected is not None:
        assert found == expected
    else:
        assert {"Xã Ân Thạnh", "Xã An Tịnh", "Phường Tân Ninh"} <= set(found)


def test_lists_are_in_vietnamese_order_departments_before_communes(client: Any,
                                                                    province: Any) -> None:
    found = names(client.get("/staff/units").get_data(as_text=True))
    assert found == [
        "Tỉnh Tây Ninh",
        "Sở Công Thương", "Sở Xây dựng", "Sở Y tế",
        "Trung tâm Phục vụ hành chính công",
        "Phường Bình Minh", "Phường Tân Ninh",
        "Xã An Tịnh", "Xã Ân Thạnh", "Xã Dương Minh Châu", "Xã Đức Hòa",
    ]
    detail = client.get(f"/staff/units/{province.id}").get_data(as_text=True)
    positions = [detail.index(n) for n in ("Sở Công Thương", "Sở Y tế", "Phường Bình Minh",
                                           "Xã Dương Minh Châu", "Xã Đức Hòa")]
    assert positions == sorted(positions)


def test_a_renamed_unit_is_found_under_its_new_name(client: Any, db: Any,
                                                    province: Any) -> None:
    from survey.org.services import units

    unit = units.create_unit(province, {"name": "Xã Mới", "kind": "commune",
                                        "sector": "administrative"})
    units.update_unit(unit, {"name": "Xã Hưng Điền", "kind": "commune",
                             "sector": "administrative"})
    assert names(client.get("/staff/units?q=hung dien").get_data(as_text=True)) == [
        "Xã Hưng Điền"]


def test_fold_and_sort_key() -> None:
    assert fold("  Phường  TÂN Ninh ") == "phuong tan ninh"
    assert fold("Đồng Xoài") == "dong xoai"
    words = ["Bạ", "Ba", "Bá", "Bà", "Bã", "Bả", "Ăn", "An", "Âm", "Đa", "Dương", "Tân An",
             "Tân", "Tânh"]
    assert sorted(words, key=sort_key) == [
        "An", "Ăn", "Âm", "Ba", "Bà", "Bả", "Bã", "Bá", "Bạ", "Dương", "Đa", "Tân", "Tân An",
        "Tânh"]
    assert sort_key("TÂN") == sort_key("tân") and sort_key("x").isdigit()
