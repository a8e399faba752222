"""Profile items may ask only for the closed list of minimal fields, never identifiers."""

from __future__ import annotations

import pytest

from questionnaires import (
    ALLOWED_PROFILE_FIELDS,
    FORBIDDEN_PROFILE_FIELDS,
    DefinitionError,
    load_all,
    parse_definition,
)

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")

PROFILE_ITEM = "sections[0].items[0]"


def _profile(**changes: object) -> dict[str, object]:
    data = minimal()
    data["sections"][0]["items"][0].update(changes)
    return data


@pytest.mark.parametrize("field", sorted(FORBIDDEN_PROFILE_FIELDS))
def test_profile_cannot_ask_personal_identifiers(field: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(_profile(profile_field=field), source="demo/v1.json")
    assert str(info.value) == (
        f"demo/v1.json: {PROFILE_ITEM}.profile_field: {field!r} is a personal identifier; "
        "not allowed"
    )


@pytest.mark.parametrize("item_id", ["phone", "email", "ho_ten", "dia_chi", "so_cccd", "full_name"])
def test_items_named_like_identifiers_are_rejected_anywhere(item_id: str) -> None:
    with pytest.raises(DefinitionError, match="looks like a personal identifier"):
        parse_definition(_profile(id=item_id), source="demo/v1.json")
    data = minimal()
    data["sections"][1]["items"][8]["id"] = item_id
    with pytest.raises(DefinitionError, match=r"sections\[1\]\.items\[8\]\.id: .*identifier"):
        parse_definition(data, source="demo/v1.json")


def test_profile_items_need_an_allowed_field() -> None:
    data = _profile()
    del data["sections"][0]["items"][0]["profile_field"]  # type: ignore[index]
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, source="demo/v1.json")
    assert info.value.path == f"{PROFILE_ITEM}.profile_field"


def test_free_text_is_not_allowed_in_a_profile() -> None:
    data = _profile(type="text", max_length=50)
    del data["sections"][0]["items"][0]["scale"]  # type: ignore[index]
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, source="demo/v1.json")
    assert str(info.value) == (
        f"demo/v1.json: {PROFILE_ITEM}.type: free-text items are not allowed in a profile section"
    )


def test_profile_field_outside_a_profile_section() -> None:
    data = minimal()
    data["sections"][1]["items"][4]["profile_field"] = "sex"
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, source="demo/v1.json")
    assert info.value.path == "sections[1].items[4].profile_field"
    assert info.value.message == "only allowed in a profile section"


def test_allowed_and_forbidden_lists_do_not_overlap() -> None:
    assert not ALLOWED_PROFILE_FIELDS & FORBIDDEN_PROFILE_FIELDS


def test_shipped_profiles_use_allowed_fields_only() -> None:
    for defn in load_all():
        for section in defn.sections:
            for item in section.items:
                if section.profile:
                    assert item.profile_field in ALLOWED_PROFILE_FIELDS, item.id
                    assert item.type != "text"
                else:
                    assert item.profile_field is None


@pytest.mark.parametrize(
    ("vi", "en", "asked"),
    [
        ("Họ và tên của Ông/Bà", "Your name", "họ và tên"),
        ("Số điện thoại liên hệ", "Contact", "số điện thoại"),
        ("Ghi chú", "Your e-mail", "e-mail"),
        ("Số căn cước công dân", "Citizen ID", "căn cước"),
        ("Địa chỉ nơi ở", "Where you live", "địa chỉ"),
    ],
)
def test_free_text_items_cannot_ask_identifiers(vi: str, en: str, asked: str) -> None:
    data = minimal()
    data["sections"][1]["items"][8]["text"] = {"vi": vi, "en": en}
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, source="demo/v1.json")
    assert str(info.value) == (
        f"demo/v1.json: sections[1].items[8].text: asks for a personal identifier ({asked!r}); "
        "not allowed"
    )
