"""Form strings → typed raw answers."""

from __future__ import annotations

import pytest

from questionnaires import (
    NOT_APPLICABLE,
    Definition,
    answers_from_form,
    parse_definition,
    validate_answers,
)

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def defn() -> Definition:
    return parse_definition(minimal(), source="demo/v1.json")


def test_strings_become_typed_answers(defn: Definition) -> None:
    form = {
        "q_yes": "true",
        "q_lik": "na",
        "q_lik2": " 4 ",
        "q_pts": "0",
        "q_many": ["1", "3", ""],
        "q_num": "7",
        "q_pct": "55,5",
        "q_txt": "  ok ",
        "csrf_token": "x",
    }
    answers = answers_from_form(defn, form)
    assert answers == {
        "q_yes": True,
        "q_lik": NOT_APPLICABLE,
        "q_lik2": 4,
        "q_pts": 0,
        "q_many": [1, 3],
        "q_num": 7,
        "q_pct": 55.5,
        "q_txt": "ok",
    }
    assert validate_answers(defn, answers) == []


def test_bad_strings_are_left_for_validation(defn: Definition) -> None:
    answers = answers_from_form(defn, {"q_yes": "có", "q_lik2": "rất tốt", "q_num": "7.5"})
    assert answers == {"q_yes": True, "q_lik2": "rất tốt", "q_num": 7.5}
    codes = {(e.item_id, e.code) for e in validate_answers(defn, answers)}
    assert codes == {("q_lik", "required"), ("q_lik2", "wrong_type"), ("q_num", "not_integer")}


def test_empty_fields_are_missing(defn: Definition) -> None:
    assert answers_from_form(defn, {"q_yes": "", "q_txt": "   ", "q_many": []}) == {
        "q_yes": None,
        "q_txt": None,
        "q_many": [],
    }
    assert answers_from_form(defn, {"q_yes": "không"}) == {"q_yes": False}
