"""Broken definitions: each gives its exact error (file and path) and returns nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from questionnaires import (
    ALLOWED_PROFILE_FIELDS,
    ITEM_TYPES,
    DefinitionError,
    load_all,
    load_definition,
    parse_definition,
)

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")

Doc = dict[str, Any]


def items(d: Doc) -> list[Doc]:
    result: list[Doc] = d["sections"][1]["items"]
    return result


def nodes(d: Doc) -> list[Doc]:
    result: list[Doc] = d["index"]["nodes"]
    return result


def _set(target: Callable[[Doc], Any], key: str, value: Any) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        target(d)[key] = value

    return mutate


def _del(target: Callable[[Doc], Any], key: str) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        del target(d)[key]

    return mutate


def root(d: Doc) -> Doc:
    return d


def item(i: int) -> Callable[[Doc], Doc]:
    return lambda d: items(d)[i]


def node(i: int) -> Callable[[Doc], Doc]:
    return lambda d: nodes(d)[i]


def _cycle(d: Doc) -> None:
    nodes(d)[2]["children"] = ["tb_a", "nhom_b"]
    nodes(d)[7]["children"] = ["tong"]


def _duplicate_item(d: Doc) -> None:
    items(d)[2]["id"] = "q_lik"


def _pages(d: Doc) -> None:
    d["sections"][0]["page"] = 3


ALLOWED = ", ".join(sorted(ALLOWED_PROFILE_FIELDS))

CASES: list[tuple[str, Callable[[Doc], None], str]] = [
    ("missing key", _del(root, "key"), "key: missing"),
    ("bad key", _set(root, "key", "Demo Form"), "key: 'Demo Form' is not a snake_case id"),
    ("version 0", _set(root, "version", 0), "version: must be at least 1"),
    ("version string", _set(root, "version", "1"), "version: expected integer"),
    ("format", _set(root, "format", 2), "format: unsupported format 2, expected 1"),
    (
        "sector",
        _set(root, "sector", "transport"),
        "sector: 'transport' is not one of administrative, health, education",
    ),
    ("title en", _del(lambda d: d["title"], "en"), "title.en: missing"),
    (
        "not NFC",
        _set(lambda d: d["title"], "vi", "Phie\u0302\u0301u"),
        "title.vi: text is not NFC-normalised (decomposed diacritics)",
    ),
    (
        "no decision",
        _set(root, "decisions", []),
        "decisions: missing (cite at least one source decision)",
    ),
    ("unknown field", _set(root, "colour", "red"), "colour: unknown field"),
    ("scale missing", _del(item(2), "scale"), "sections[1].items[2].scale: missing"),
    (
        "scale unknown",
        _set(item(2), "scale", "nope"),
        "sections[1].items[2].scale: unknown scale 'nope'",
    ),
    (
        "likert scale",
        _set(item(2), "scale", "kenh"),
        "sections[1].items[2].scale: scale 'kenh' must have the values 1-5 for likert5",
    ),
    (
        "points scale",
        _set(item(3), "scale", "hl5"),
        "sections[1].items[3].scale: scale 'hl5' must have the values 0-2 for points",
    ),
    (
        "item type",
        _set(item(0), "type", "slider"),
        f"sections[1].items[0].type: 'slider' is not one of {', '.join(ITEM_TYPES)}",
    ),
    (
        "field for other type",
        _set(item(2), "max_length", 10),
        "sections[1].items[2].max_length: not allowed for type 'likert5'",
    ),
    ("required missing", _del(item(3), "required"), "sections[1].items[3].required: missing"),
    (
        "provenance",
        _set(item(3), "provenance", "V"),
        "sections[1].items[3].provenance: 'V' is not one of verified, secondary, inferred",
    ),
    ("duplicate id", _duplicate_item, "sections[1].items[2].id: duplicate id 'q_lik'"),
    (
        "show_if later",
        _set(item(1), "show_if", {"item": "q_pts", "in": [1]}),
        "sections[1].items[1].show_if.item: refers to a later or the same item 'q_pts'; "
        "show_if must refer to an earlier item",
    ),
    (
        "show_if unknown",
        _set(item(1), "show_if", {"item": "q_zzz", "in": [1]}),
        "sections[1].items[1].show_if.item: refers to an unknown item 'q_zzz'; "
        "show_if must refer to an earlier item",
    ),
    (
        "show_if yes_no value",
        _set(item(1), "show_if", {"item": "q_yes", "in": [1]}),
        "sections[1].items[1].show_if.in[0]: expected true or false (item 'q_yes' is yes_no)",
    ),
    (
        "show_if choice value",
        _set(item(8), "show_if", {"item": "q_many", "in": [1, 7]}),
        "sections[1].items[8].show_if.in[1]: 7 is not a value of item 'q_many'",
    ),
    (
        "show_if on number",
        _set(item(8), "show_if", {"item": "q_num", "in": [1]}),
        "sections[1].items[8].show_if.item: item 'q_num' has type 'number'; "
        "show_if needs a choice item",
    ),
    (
        "number bounds",
        _set(item(6), "max", 0),
        "sections[1].items[6].max: must be greater than min (0)",
    ),
    ("text length", _del(item(8), "max_length"), "sections[1].items[8].max_length: missing"),
    (
        "na on text",
        _set(item(8), "not_applicable", True),
        "sections[1].items[8].not_applicable: not allowed for type 'text'",
    ),
    (
        "na without label",
        _del(root, "na_label"),
        "sections[1].items[1].not_applicable: requires na_label in the definition",
    ),
    ("pages", _pages, "sections[1].page: page 2 comes after page 3"),
    (
        "max_choices",
        _set(item(5), "max_choices", 4),
        "sections[1].items[5].max_choices: exceeds the 3 options",
    ),
    (
        "profile field",
        _set(lambda d: d["sections"][0]["items"][0], "profile_field", "favourite_colour"),
        f"sections[0].items[0].profile_field: 'favourite_colour' is not an allowed profile "
        f"field ({ALLOWED})",
    ),
    (
        "node unknown child",
        _set(node(0), "children", ["q_lik", "q_zzz"]),
        "index.nodes[0].children[1]: refers to unknown item 'q_zzz'",
    ),
    (
        "weights sum",
        _set(node(2), "weights", [0.6, 0.3]),
        "index.nodes[2].weights: weights sum to 0.8999999999999999, expected 1",
    ),
    (
        "weights count",
        _set(node(2), "weights", [1.0]),
        "index.nodes[2].weights: 1 weights for 2 children",
    ),
    (
        "weights on mean",
        _set(node(7), "weights", [1.0]),
        "index.nodes[7].weights: not allowed for rule 'mean'",
    ),
    ("cycle", _cycle, "index.nodes[2].children: cycle: tong -> tb_a -> tong"),
    (
        "mean over item",
        _set(node(7), "children", ["q_lik"]),
        "index.nodes[7].children[0]: rule 'mean' takes nodes, 'q_lik' is an item",
    ),
    (
        "share over node",
        _set(node(0), "children", ["nhom_b"]),
        "index.nodes[0].children[0]: rule 'share_at_least' takes items, 'nhom_b' is a node",
    ),
    (
        "rule vs type",
        _set(node(0), "children", ["q_lik", "q_num"]),
        "index.nodes[0].children[1]: rule 'share_at_least' does not fit item 'q_num' "
        "of type 'number'",
    ),
    (
        "threshold not on scale",
        _set(node(1), "threshold", 3),
        "index.nodes[1].threshold: 3 is not a value of item 'q_pts' (scale 'pts')",
    ),
    (
        "share_in value",
        _set(node(5), "values", [4]),
        "index.nodes[5].values[0]: 4 is not a value of item 'q_one'",
    ),
    (
        "mixed measures",
        _set(node(7), "children", ["nhom_a", "diem"]),
        "index.nodes[7].children: mixes share and score children",
    ),
    (
        "overall",
        _set(lambda d: d["index"], "overall", "zzz"),
        "index.overall: refers to unknown node 'zzz'",
    ),
    (
        "node id clash",
        _set(node(3), "id", "q_lik"),
        "index.nodes[3].id: duplicate id 'q_lik'",
    ),
    (
        "superseded",
        _set(root, "superseded_by", "sipas_2023"),
        "superseded_by: only a retired questionnaire can be superseded",
    ),
    (
        "identifier item",
        _set(item(8), "id", "so_dien_thoai"),
        "sections[1].items[8].id: 'so_dien_thoai' looks like a personal identifier; "
        "such items are not allowed",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_definition_names_file_and_path(
    mutate: Callable[[Doc], None], expected: str
) -> None:
    data = minimal()
    mutate(data)
    result = None
    with pytest.raises(DefinitionError) as info:
        result = parse_definition(data, source="demo/v1.json")
    assert result is None
    assert str(info.value) == f"demo/v1.json: {expected}"
    assert info.value.source == "demo/v1.json"
    assert f"{info.value.path}: {info.value.message}" == expected


def test_many_cases() -> None:
    assert len(CASES) >= 20


def test_root_must_be_an_object() -> None:
    with pytest.raises(DefinitionError, match=r"^upload\.json: <root>: expected object$"):
        parse_definition([], source="upload.json")


def _write(root: Path, name: str, data: Doc | str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "demo/v1.json", "{not json")
    with pytest.raises(DefinitionError, match=r"^demo/v1\.json: <root>: invalid JSON: "):
        load_definition(path)
    path = _write(tmp_path, "other/v1.json", minimal())
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert str(info.value) == "other/v1.json: key: 'demo' does not match the directory name"
    path = _write(tmp_path, "demo/v2.json", minimal())
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert str(info.value) == "demo/v2.json: version: 1 does not match the file name"


def test_load_all_stops_at_a_broken_file(tmp_path: Path) -> None:
    data = minimal()
    del data["sections"][1]["items"][4]["scale"]
    _write(tmp_path, "demo/v1.json", data)
    with pytest.raises(DefinitionError, match=r"^demo/v1\.json: sections\[1\]\.items\[4\]\.scale"):
        load_all(tmp_path)
