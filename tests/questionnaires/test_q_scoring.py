"""Scoring and validation of one response, for every item type."""

from __future__ import annotations

from typing import Any

import pytest

from questionnaires import (
    NOT_APPLICABLE,
    Definition,
    comprehensive_indicator,
    item_indicators,
    parse_definition,
    score_response,
    validate_answers,
    visible_items,
)

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def defn() -> Definition:
    return parse_definition(minimal(), source="demo/v1.json")


VALID: dict[str, Any] = {
    "gioi_tinh": 2,
    "q_yes": True,
    "q_lik": 2,
    "q_lik2": 5,
    "q_pts": 0,
    "q_one": 3,
    "q_many": [1, 3],
    "q_num": 7,
    "q_pct": 55.5,
    "q_txt": "ok",
    "q_why": "chậm",
}


def codes(defn: Definition, answers: dict[str, Any], **kw: Any) -> list[tuple[str, str]]:
    return [(e.item_id, e.code) for e in validate_answers(defn, answers, **kw)]


def test_valid_answers_pass_and_score(defn: Definition) -> None:
    assert validate_answers(defn, VALID) == []
    assert score_response(defn, VALID) == {
        "gioi_tinh": 2.0,
        "q_yes": 1.0,
        "q_lik": 2.0,
        "q_lik2": 5.0,
        "q_pts": 0.0,
        "q_one": 3.0,
        "q_num": 7.0,
        "q_pct": 55.5,
    }


def test_required_items(defn: Definition) -> None:
    assert codes(defn, {"q_yes": True}) == [("q_lik", "required")]
    assert codes(defn, {}) == [("q_yes", "required")]  # q_lik is hidden, so not required
    error = validate_answers(defn, {})[0]
    assert error.message_vi == "Vui lòng trả lời câu hỏi này."
    assert error.message_en == "Please answer this question."


def test_blank_answers_count_as_missing(defn: Definition) -> None:
    answers: dict[str, Any] = {"q_yes": True, "q_lik": None, "q_many": [], "q_txt": ""}
    assert codes(defn, answers) == [("q_lik", "required")]


def test_not_applicable(defn: Definition) -> None:
    answers: dict[str, Any] = {"q_yes": True, "q_lik": NOT_APPLICABLE, "q_one": NOT_APPLICABLE}
    assert validate_answers(defn, answers) == []
    scores = score_response(defn, answers)
    assert scores["q_lik"] is None and scores["q_one"] is None
    assert codes(defn, {**answers, "q_lik2": NOT_APPLICABLE}) == [("q_lik2", "na_not_allowed")]
    assert codes(defn, {**answers, "q_pts": "na"}) == [("q_pts", "na_not_allowed")]


@pytest.mark.parametrize(
    ("item_id", "answer", "code"),
    [
        ("q_yes", 1, "wrong_type"),
        ("q_lik2", 6, "invalid_choice"),
        ("q_lik2", True, "wrong_type"),
        ("q_lik2", "5", "wrong_type"),
        ("q_pts", 3, "invalid_choice"),
        ("q_one", 0, "invalid_choice"),
        ("q_many", [1, 1], "duplicate_choice"),
        ("q_many", [1, 2, 3], "too_many_choices"),
        ("q_many", [9], "invalid_choice"),
        ("q_many", "1", "wrong_type"),
        ("q_num", 3.5, "not_integer"),
        ("q_num", 11, "out_of_range"),
        ("q_num", -1, "out_of_range"),
        ("q_num", float("nan"), "out_of_range"),
        ("q_pct", 100.5, "out_of_range"),
        ("q_pct", "50", "wrong_type"),
        ("q_txt", "abcdef", "too_long"),
        ("q_txt", 5, "wrong_type"),
    ],
)
def test_invalid_values(defn: Definition, item_id: str, answer: Any, code: str) -> None:
    answers = {**VALID, item_id: answer}
    assert codes(defn, answers) == [(item_id, code)]
    if item_id in score_response(defn, VALID):
        assert score_response(defn, answers)[item_id] is None


def test_bounds_are_inclusive(defn: Definition) -> None:
    answers = {**VALID, "q_num": 10, "q_pct": 0, "q_txt": "abcde", "q_pts": 2}
    assert validate_answers(defn, answers) == []


def test_messages_are_bilingual_and_formatted(defn: Definition) -> None:
    (error,) = validate_answers(defn, {**VALID, "q_num": 11})
    assert error.message_vi == "Giá trị phải từ 0 đến 10."
    assert error.message_en == "The value must be between 0 and 10."
    (error,) = validate_answers(defn, {**VALID, "q_many": [1, 2, 3]})
    assert error.message_vi == "Chọn tối đa 2 phương án."


def test_unknown_items_are_reported(defn: Definition) -> None:
    assert codes(defn, {**VALID, "ho_ten": "x"}) == [("ho_ten", "unknown_item")]


def test_show_if_hides_and_ignores(defn: Definition) -> None:
    answers = {**VALID, "q_yes": False}
    # q_lik is hidden, so its answer is ignored, and q_why (which depends on q_lik) too.
    assert "q_lik" not in visible_items(defn, answers)
    assert "q_why" not in visible_items(defn, answers)
    assert validate_answers(defn, answers) == []
    assert codes(defn, answers, strict=True) == [("q_lik", "hidden"), ("q_why", "hidden")]
    assert score_response(defn, answers)["q_lik"] is None


def test_show_if_on_multiple_choice(defn: Definition) -> None:
    assert "q_txt" in visible_items(defn, {"q_many": [2, 3]})
    assert "q_txt" not in visible_items(defn, {"q_many": [1, 2]})
    assert "q_txt" not in visible_items(defn, {"q_many": [3, 3]})  # invalid answer hides
    assert validate_answers(defn, {**VALID, "q_many": [1], "q_txt": "far too long"}) == []


def test_show_if_value_types_do_not_mix(defn: Definition) -> None:
    # ``True == 1`` in Python; a yes_no condition must not accept the integer 1.
    assert "q_lik" not in visible_items(defn, {"q_yes": 1})
    assert "q_why" in visible_items(defn, {"q_yes": True, "q_lik": 1})
    assert "q_why" not in visible_items(defn, {"q_yes": True, "q_lik": NOT_APPLICABLE})


def test_item_indicators(defn: Definition) -> None:
    scores = score_response(defn, VALID)
    assert item_indicators(defn, "nhom_a", scores) == {"q_lik": 0.0, "q_lik2": 1.0}
    assert item_indicators(defn, "tong", scores) == {"q_lik": 0.0, "q_lik2": 1.0, "q_pts": 0.0}
    assert item_indicators(defn, "nhom_c", scores) == {"q_one": 1.0}
    assert item_indicators(defn, "nhom_a", {"q_lik": None}) == {"q_lik": None, "q_lik2": None}
    with pytest.raises(ValueError, match="not a share rule"):
        item_indicators(defn, "diem", scores)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"q_lik": 5.0, "q_lik2": 4.0}, 1.0),
        ({"q_lik": 5.0, "q_lik2": 3.0}, 0.0),
        ({"q_lik": None, "q_lik2": 4.0}, 1.0),
        ({"q_lik": None, "q_lik2": None}, None),
        ({}, None),
    ],
)
def test_comprehensive_indicator(
    defn: Definition, scores: dict[str, float | None], expected: float | None
) -> None:
    assert comprehensive_indicator(defn, "toan_dien", scores) == expected


def test_comprehensive_indicator_needs_a_comprehensive_node(defn: Definition) -> None:
    with pytest.raises(ValueError, match="not 'comprehensive'"):
        comprehensive_indicator(defn, "nhom_a", {})
