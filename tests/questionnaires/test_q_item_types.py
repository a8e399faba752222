"""The item-type registry: storage round trips, and a new type added in one place."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import questionnaires as q
from questionnaires import (
    ITEM_TYPE_REGISTRY,
    ITEM_TYPES,
    NOT_APPLICABLE,
    AnswerError,
    Definition,
    DefinitionError,
    Item,
    ItemType,
    Scale,
    StoredAnswer,
    answers_from_form,
    answers_from_stored,
    extra_item_types,
    item_indicators,
    item_type,
    parse_definition,
    score_response,
    stored_answers,
    validate_answers,
    visible_items,
)

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")

PACKAGE = Path(q.__file__).parent


# -- the registry ------------------------------------------------------------------------


def test_registry_holds_the_shipped_types_in_order() -> None:
    assert ITEM_TYPES == (
        "likert5",
        "single_choice",
        "multiple_choice",
        "yes_no",
        "number",
        "text",
        "points",
        "percentage",
    )
    assert tuple(ITEM_TYPE_REGISTRY) == ITEM_TYPES
    assert all(item_type(n).name == n and isinstance(item_type(n), ItemType) for n in ITEM_TYPES)
    with pytest.raises(KeyError):
        item_type("slider")
    with pytest.raises(TypeError):
        ITEM_TYPE_REGISTRY["slider"] = item_type("text")  # type: ignore[index]


def _type_names_compared(tree: ast.AST) -> list[tuple[int, str]]:
    """Type names in comparisons (``t == "text"``, ``t in ("a", "b")``) or name collections."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            parts = list(node.elts)
        else:
            continue
        for part in parts:
            elements = part.elts if isinstance(part, ast.Tuple | ast.List | ast.Set) else [part]
            for e in elements:
                if isinstance(e, ast.Constant) and e.value in ITEM_TYPES:
                    found.append((e.lineno, e.value))
    return found


def test_no_module_switches_on_a_type_name() -> None:
    """Only the registry's own modules know what a type name means."""
    registry_modules = {"_builtin_types.py", "item_types.py", "_item_type.py"}
    for path in PACKAGE.glob("*.py"):
        if path.name not in registry_modules:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert _type_names_compared(tree) == [], path.name
    assert _type_names_compared(ast.parse('if t in ("likert5", "points"): pass')) != []


# -- storage: exactly what the web layer's answer_rows / raw_answers did -------------------


def reference_row(kind: str, value: object) -> tuple[float | None, str | None, bool]:
    """``answer_rows`` of survey/collection/services/submission.py, for one answer."""
    num: float | None = None
    text: str | None = None
    na = False
    if value == NOT_APPLICABLE and kind != "text":
        na = True
    elif isinstance(value, bool):
        num = 1.0 if value else 0.0
    elif isinstance(value, int | float):
        num = float(value)
    elif isinstance(value, list):
        text = ",".join(str(v) for v in sorted(value))
    else:
        text = str(value)
    return num, text, na


def reference_raw(kind: str, num: float | None, text: str | None, na: bool) -> object:
    """``raw_answers`` of survey/collection/services/submission.py (``None``: key left out)."""
    if na:
        return NOT_APPLICABLE
    if kind == "yes_no":
        return num == 1.0
    if kind == "multiple_choice":
        return [int(v) for v in (text or "").split(",") if v]
    if kind == "text":
        return text
    if num is not None:
        whole = num.is_integer() and kind != "number"
        return int(num) if whole else num
    return None


NA_TYPES = [n for n in ITEM_TYPES if item_type(n).allows_na]

# (type, answer, stored, decoded)
STORAGE_CASES: list[tuple[str, object, StoredAnswer, object]] = [
    ("likert5", 4, StoredAnswer(4.0, None), 4),
    ("likert5", 1, StoredAnswer(1.0, None), 1),
    ("points", 0, StoredAnswer(0.0, None), 0),
    ("points", 2, StoredAnswer(2.0, None), 2),
    ("single_choice", 3, StoredAnswer(3.0, None), 3),
    ("multiple_choice", [3, 1], StoredAnswer(None, "1,3"), [1, 3]),
    ("multiple_choice", [2], StoredAnswer(None, "2"), [2]),
    ("yes_no", True, StoredAnswer(1.0, None), True),
    ("yes_no", False, StoredAnswer(0.0, None), False),
    ("number", 7, StoredAnswer(7.0, None), 7.0),
    ("number", 2.5, StoredAnswer(2.5, None), 2.5),
    ("number", -3, StoredAnswer(-3.0, None), -3.0),
    ("percentage", 55.5, StoredAnswer(55.5, None), 55.5),
    ("percentage", 100, StoredAnswer(100.0, None), 100),
    ("percentage", 0.0, StoredAnswer(0.0, None), 0),
    ("text", "xin chào, bạn", StoredAnswer(None, "xin chào, bạn"), "xin chào, bạn"),
    ("text", "na", StoredAnswer(None, "na"), "na"),
    ("text", "1,2", StoredAnswer(None, "1,2"), "1,2"),
] + [(n, NOT_APPLICABLE, StoredAnswer(None, None, True), NOT_APPLICABLE) for n in NA_TYPES]


def test_every_shipped_type_has_storage_cases() -> None:
    assert {c[0] for c in STORAGE_CASES} == set(ITEM_TYPES)
    kinds = {type(c[1]) for c in STORAGE_CASES}
    assert kinds == {bool, int, float, list, str}


@pytest.mark.parametrize(("kind", "answer", "stored", "decoded"), STORAGE_CASES)
def test_encode_decode_round_trip(
    kind: str, answer: object, stored: StoredAnswer, decoded: object
) -> None:
    t = item_type(kind)
    assert t.encode(answer) == stored
    assert tuple(stored) == reference_row(kind, answer)
    back = t.decode(*stored)
    assert back == decoded and type(back) is type(decoded)
    assert back == reference_raw(kind, *stored)
    # Stable: storing the decoded answer again gives the same row.
    assert t.encode(back) == stored


@pytest.mark.parametrize("kind", ITEM_TYPES)
def test_decode_matches_the_web_layer_on_odd_rows(kind: str) -> None:
    for num, text in [(None, None), (3.5, None), (1.0, None), (0.0, None), (None, "2,3")]:
        got = item_type(kind).decode(num, text)
        assert got == reference_raw(kind, num, text, False), (num, text)
    assert item_type(kind).decode(None, None, True) == NOT_APPLICABLE


@pytest.mark.parametrize("kind", ITEM_TYPES)
def test_blank_answers_are_not_stored(kind: str) -> None:
    blanks: list[object] = [None, "", []]
    for blank in blanks:
        with pytest.raises(ValueError, match="blank"):
            item_type(kind).encode(blank)


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("likert5", True),
        ("likert5", "4"),
        ("likert5", 4.0),
        ("multiple_choice", 1),
        ("multiple_choice", [1, True]),
        ("yes_no", 1),
        ("number", True),
        ("number", "7"),
        ("percentage", [1]),
        ("text", 5),
    ],
)
def test_answers_of_the_wrong_kind_are_refused(kind: str, answer: object) -> None:
    with pytest.raises(TypeError, match=f"a {kind} answer is"):
        item_type(kind).encode(answer)


def test_a_tuple_of_choices_is_stored_like_a_list() -> None:
    assert item_type("multiple_choice").encode((3, 1)) == StoredAnswer(None, "1,3")


@pytest.fixture(scope="module")
def defn() -> Definition:
    return parse_definition(minimal(), source="demo/v1.json")


def test_a_response_round_trips_through_storage(defn: Definition) -> None:
    answers: dict[str, object] = {
        "gioi_tinh": 2,
        "q_yes": True,
        "q_lik": NOT_APPLICABLE,
        "q_lik2": 5,
        "q_pts": 0,
        "q_one": 3,
        "q_many": [3, 1],
        "q_num": 7,
        "q_pct": 55.5,
        "q_txt": "ok",
        "q_why": "hidden: q_lik is not 1 or 2",
    }
    assert validate_answers(defn, answers) == []
    stored = stored_answers(defn, answers)
    assert "q_why" not in stored and stored["q_lik"] == StoredAnswer(None, None, True)
    expected = {k: reference_row(defn.item(k).type, v) for k, v in answers.items() if k in stored}
    assert {k: tuple(v) for k, v in stored.items()} == expected
    back = answers_from_stored(defn, {**stored, "gone": StoredAnswer(1.0, None)})
    assert back == {**{k: v for k, v in answers.items() if k != "q_why"}, "q_many": [1, 3]}
    assert score_response(defn, back) == score_response(defn, answers)
    assert validate_answers(defn, back) == []


# -- a new type: one registry entry, no other module edited -------------------------------

STARS = re.compile(r"^★+$")


@dataclass(frozen=True)
class StarsType(ItemType):
    """1 to ``max`` stars; the form posts "★★★" or a digit."""

    fields: frozenset[str] = frozenset({"max"})
    rules: frozenset[str] = frozenset({"share_at_least", "mean_score"})
    scored: bool = True

    def parse(self, r: Any) -> dict[str, Any]:
        return {"max": r.integer("max", minimum=2)}

    def check(self, item: Item, scales: Mapping[str, Scale]) -> tuple[str, str] | None:
        if item.max is not None and item.max > 10:
            return "max", "at most 10 stars"
        return None

    def values(self, item: Item, scales: Mapping[str, Scale]) -> tuple[int | bool, ...] | None:
        assert item.max is not None
        return tuple(range(1, int(item.max) + 1))

    def convert(self, raw: str) -> object:
        return len(raw) if STARS.match(raw) else int(raw) if raw.isdigit() else raw

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        if isinstance(answer, bool) or not isinstance(answer, int):
            return AnswerError(item.id, "wrong_type", "Sai định dạng.", "Wrong format.")
        if answer not in (self.values(item, {}) or ()):
            return AnswerError(item.id, "invalid_choice", "Không hợp lệ.", "Not valid.")
        return None

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        assert isinstance(answer, int)
        return float(answer), None

    def decode_value(self, num: float | None, text: str | None) -> object:
        return None if num is None else int(num)


def _with_stars(**stars: Any) -> dict[str, Any]:
    d = minimal()
    items = d["sections"][1]["items"]
    base = {"id": "q_sao", "type": "stars", "text": {"vi": "Sao", "en": "Stars"}}
    items.append({**base, "required": True, "provenance": "inferred", "max": 5, **stars})
    items.append(
        {
            "id": "q_vi_sao",
            "type": "text",
            "max_length": 20,
            "text": {"vi": "Vì sao?", "en": "Why?"},
            "required": False,
            "provenance": "inferred",
            "show_if": {"item": "q_sao", "in": [1, 2]},
        }
    )
    d["index"]["nodes"] += [
        {
            "id": "sao_tb",
            "title": {"vi": "Sao", "en": "Stars"},
            "rule": "mean_score",
            "children": ["q_sao"],
            "provenance": "inferred",
        },
        {
            "id": "sao_hl",
            "title": {"vi": "Hài lòng", "en": "Satisfied"},
            "rule": "share_at_least",
            "threshold": 4,
            "children": ["q_sao"],
            "provenance": "inferred",
        },
    ]
    return d


def test_a_new_type_works_end_to_end() -> None:
    stars = StarsType("stars")
    with extra_item_types(stars):
        assert item_type("stars") is stars and "stars" in ITEM_TYPE_REGISTRY
        defn = parse_definition(_with_stars(not_applicable=True), source="demo/v1.json")
        assert defn.item("q_sao").max == 5
        assert q.from_dict(q.to_dict(defn)) == defn

        base = {"q_yes": "true", "q_lik": "4"}
        answers = answers_from_form(defn, {**base, "q_sao": " ★★★★ ", "q_vi_sao": "x"})
        assert answers["q_sao"] == 4
        assert answers_from_form(defn, {"q_sao": "na"}) == {"q_sao": NOT_APPLICABLE}
        assert validate_answers(defn, answers) == []
        assert "q_vi_sao" not in visible_items(defn, answers)
        assert "q_vi_sao" in visible_items(defn, {**answers, "q_sao": 2})
        bad = answers_from_form(defn, {**base, "q_sao": "nhiều"})
        assert [(e.item_id, e.code) for e in validate_answers(defn, bad)] == [
            ("q_sao", "wrong_type")
        ]
        codes = [e.code for e in validate_answers(defn, {**answers, "q_sao": 6})]
        assert codes == ["invalid_choice"]

        scores = score_response(defn, answers)
        assert scores["q_sao"] == 4.0
        assert score_response(defn, {**answers, "q_sao": 6})["q_sao"] is None
        assert item_indicators(defn, "sao_hl", scores) == {"q_sao": 1.0}

        stored = stored_answers(defn, answers)
        assert stored["q_sao"] == StoredAnswer(4.0, None)
        assert answers_from_stored(defn, stored)["q_sao"] == 4
        assert stars.encode(NOT_APPLICABLE) == StoredAnswer(None, None, True)
    with pytest.raises(KeyError):
        item_type("stars")
    assert tuple(ITEM_TYPE_REGISTRY) == ITEM_TYPES


@pytest.mark.parametrize(
    ("stars", "error"),
    [
        ({"max": 11}, "sections[1].items[10].max: at most 10 stars"),
        ({"max": 1}, "sections[1].items[10].max: must be at least 2"),
        ({"max": None}, "sections[1].items[10].max: missing"),
        ({"max_length": 3}, "sections[1].items[10].max_length: not allowed for type 'stars'"),
    ],
)
def test_a_new_type_reports_definition_errors_with_paths(stars: dict[str, Any], error: str) -> None:
    with extra_item_types(StarsType("stars")), pytest.raises(DefinitionError) as info:
        parse_definition(_with_stars(**stars), source="demo/v1.json")
    assert str(info.value) == f"demo/v1.json: {error}"


def test_a_type_is_unknown_outside_its_block() -> None:
    with pytest.raises(DefinitionError, match=r"items\[10\]\.type: 'stars' is not one of"):
        parse_definition(_with_stars(), source="demo/v1.json")


def test_a_registered_name_cannot_be_taken() -> None:
    with pytest.raises(ValueError, match="already registered: text"):
        with extra_item_types(StarsType("text")):
            pass
    with pytest.raises(ValueError, match="already registered: stars"):
        with extra_item_types(StarsType("stars"), StarsType("stars")):
            pass
    assert tuple(ITEM_TYPE_REGISTRY) == ITEM_TYPES
