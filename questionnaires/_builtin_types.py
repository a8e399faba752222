"""The shipped item types (registered, in this order, by :mod:`questionnaires.item_types`).

=================  ==============================  ==================================
type               raw answer                      stored as ``(num, text)``
=================  ==============================  ==================================
likert5, points,   ``int`` option of the scale     ``(float(value), None)``
single_choice
multiple_choice    ``list`` of distinct options    ``(None, "1,3")`` (sorted, commas)
yes_no             ``True`` / ``False``            ``(1.0, None)`` / ``(0.0, None)``
number             ``int`` / ``float`` in bounds   ``(float(value), None)``
percentage         ``int`` / ``float`` in 0-100    ``(float(value), None)``
text               ``str`` up to ``max_length``    ``(None, value)``
=================  ==============================  ==================================

Decoding gives back ``int`` for whole stored numbers of scale items and percentages,
and a ``float`` for ``number`` items (``7`` comes back as ``7.0``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._item_type import ItemType, Problem
from ._reader import Reader
from .errors import AnswerError, answer_error
from .model import Definition, Item, Scale

__all__ = ["BUILTIN_TYPES", "MAX_TEXT_LENGTH"]

MAX_TEXT_LENGTH = 5000
_INT = re.compile(r"^[+-]?\d+$")
# Vietnamese writes a decimal comma ("3,5"); accept both separators.
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_TRUE = frozenset({"true", "1", "yes", "co", "có"})
_FALSE = frozenset({"false", "0", "no", "khong", "không"})
_RATING_RULES = frozenset({"share_at_least", "share_in", "comprehensive", "mean_score"})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(x: float | None) -> str:
    return "" if x is None else (f"{x:g}")


def _scale_values(defn: Definition, item: Item) -> tuple[int, ...]:
    assert item.scale is not None
    return defn.scale(item.scale).values


def _int_or_float(num: float | None) -> int | float | None:
    return None if num is None else int(num) if num.is_integer() else num


@dataclass(frozen=True)
class ScaleType(ItemType):
    """One option of the item's scale; ``required_values`` fixes the scale's values."""

    fields: frozenset[str] = frozenset({"scale"})
    scored: bool = True
    required_values: frozenset[int] | None = None

    def parse(self, r: Reader) -> dict[str, Any]:
        return {"scale": r.string("scale")}

    def check(self, item: Item, scales: Mapping[str, Scale]) -> Problem | None:
        scale = scales.get(item.scale or "")
        if scale is None:
            return "scale", f"unknown scale {item.scale!r}"
        need = self.required_values
        if need is not None and set(scale.values) != need:
            span = f"{min(need)}-{max(need)}"
            return "scale", f"scale {item.scale!r} must have the values {span} for {self.name}"
        return None

    def values(self, item: Item, scales: Mapping[str, Scale]) -> tuple[int | bool, ...] | None:
        assert item.scale is not None
        return scales[item.scale].values

    def convert(self, raw: str) -> object:
        return int(raw) if _INT.match(raw) else raw

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        if not _is_int(answer):
            return answer_error(item.id, "wrong_type")
        if answer not in _scale_values(defn, item):
            return answer_error(item.id, "invalid_choice")
        return None

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        if not _is_int(answer):
            raise self.wrong(answer, "an int option value")
        assert isinstance(answer, int)
        return float(answer), None

    def decode_value(self, num: float | None, text: str | None) -> object:
        return _int_or_float(num)


@dataclass(frozen=True)
class MultipleChoiceType(ScaleType):
    """Distinct options of the item's scale, at most ``max_choices``."""

    fields: frozenset[str] = frozenset({"scale", "max_choices"})
    scored: bool = False
    multiple: bool = True

    def parse(self, r: Reader) -> dict[str, Any]:
        scale = r.string("scale")
        return {"scale": scale, "max_choices": r.integer("max_choices", required=False, minimum=1)}

    def check(self, item: Item, scales: Mapping[str, Scale]) -> Problem | None:
        problem = super().check(item, scales)
        if problem is not None:
            return problem
        n = len(self.values(item, scales) or ())
        if item.max_choices is not None and item.max_choices > n:
            return "max_choices", f"exceeds the {n} options"
        return None

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        if not isinstance(answer, list | tuple) or not all(_is_int(v) for v in answer):
            return answer_error(item.id, "wrong_type")
        if any(v not in _scale_values(defn, item) for v in answer):
            return answer_error(item.id, "invalid_choice")
        if len(set(answer)) != len(answer):
            return answer_error(item.id, "duplicate_choice")
        if item.max_choices is not None and len(answer) > item.max_choices:
            return answer_error(item.id, "too_many_choices", n=item.max_choices)
        return None

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        if not isinstance(answer, list | tuple) or not all(_is_int(v) for v in answer):
            raise self.wrong(answer, "a list of int option values")
        return None, ",".join(str(v) for v in sorted(answer))

    def decode_value(self, num: float | None, text: str | None) -> object:
        return [int(v) for v in (text or "").split(",") if v]


@dataclass(frozen=True)
class YesNoType(ItemType):
    """``True`` or ``False`` (labels :data:`questionnaires.YES_NO_LABELS`)."""

    scored: bool = True

    def values(self, item: Item, scales: Mapping[str, Scale]) -> tuple[int | bool, ...] | None:
        return (True, False)

    def value_error(self, value: object, item: Item, scales: Mapping[str, Scale]) -> str | None:
        if not isinstance(value, bool):
            return f"expected true or false (item {item.id!r} is yes_no)"
        return None

    def convert(self, raw: str) -> object:
        low = raw.casefold()
        return True if low in _TRUE else False if low in _FALSE else raw

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        return None if isinstance(answer, bool) else answer_error(item.id, "wrong_type")

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        if not isinstance(answer, bool):
            raise self.wrong(answer, "True or False")
        return (1.0 if answer else 0.0), None

    def decode_value(self, num: float | None, text: str | None) -> object:
        return num == 1.0


@dataclass(frozen=True)
class NumericType(ItemType):
    """A finite number within :meth:`bounds` (whole if the item says ``integer``)."""

    scored: bool = True
    rules: frozenset[str] = frozenset({"mean_score"})

    def bounds(self, item: Item) -> tuple[float, float]:
        """Return the smallest and largest valid answer of ``item``."""
        raise NotImplementedError

    def convert(self, raw: str) -> object:
        if _INT.match(raw):
            return int(raw)
        if _NUMBER.match(raw):
            return float(raw.replace(",", "."))
        return raw

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        if not _is_number(answer):
            return answer_error(item.id, "wrong_type")
        assert isinstance(answer, int | float)
        lo, hi = self.bounds(item)
        if not math.isfinite(answer) or not lo <= answer <= hi:
            return answer_error(item.id, "out_of_range", lo=_fmt(lo), hi=_fmt(hi))
        if item.integer and answer != int(answer):
            return answer_error(item.id, "not_integer")
        return None

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        if not _is_number(answer):
            raise self.wrong(answer, "an int or a float")
        assert isinstance(answer, int | float)
        return float(answer), None


@dataclass(frozen=True)
class NumberType(NumericType):
    """A number between the item's ``min`` and ``max``; decoded as a ``float``."""

    fields: frozenset[str] = frozenset({"min", "max", "integer"})
    free_input: bool = True

    def parse(self, r: Reader) -> dict[str, Any]:
        lo, hi = r.number("min"), r.number("max")
        assert lo is not None and hi is not None
        if hi <= lo:
            r.fail(f"must be greater than min ({lo})", "max")
        return {"min": lo, "max": hi, "integer": r.boolean("integer")}

    def bounds(self, item: Item) -> tuple[float, float]:
        assert item.min is not None and item.max is not None
        return item.min, item.max

    def decode_value(self, num: float | None, text: str | None) -> object:
        return num


@dataclass(frozen=True)
class PercentageType(NumericType):
    """A number between 0 and 100; whole values decode as ``int``."""

    def bounds(self, item: Item) -> tuple[float, float]:
        return 0, 100

    def decode_value(self, num: float | None, text: str | None) -> object:
        return _int_or_float(num)


@dataclass(frozen=True)
class TextType(ItemType):
    """Free text of at most ``max_length`` characters; ``"na"`` is just text."""

    fields: frozenset[str] = frozenset({"max_length"})
    allows_na: bool = False
    free_input: bool = True
    not_in_profile: str | None = "free-text items are not allowed in a profile section"

    def parse(self, r: Reader) -> dict[str, Any]:
        n = r.integer("max_length", minimum=1)
        assert n is not None
        if n > MAX_TEXT_LENGTH:
            r.fail(f"must be at most {MAX_TEXT_LENGTH}", "max_length")
        return {"max_length": n}

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        if not isinstance(answer, str):
            return answer_error(item.id, "wrong_type")
        assert item.max_length is not None
        if len(answer) > item.max_length:
            return answer_error(item.id, "too_long", n=item.max_length)
        return None

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        if not isinstance(answer, str):
            raise self.wrong(answer, "a str")
        return None, answer

    def decode_value(self, num: float | None, text: str | None) -> object:
        return text


#: The shipped types; the order is the one of :data:`questionnaires.ITEM_TYPES`.
BUILTIN_TYPES: tuple[ItemType, ...] = (
    ScaleType("likert5", rules=_RATING_RULES, required_values=frozenset(range(1, 6))),
    ScaleType("single_choice", rules=frozenset({"share_at_least", "share_in"})),
    MultipleChoiceType("multiple_choice"),
    YesNoType("yes_no"),
    NumberType("number"),
    TextType("text"),
    ScaleType("points", rules=_RATING_RULES, required_values=frozenset({0, 1, 2})),
    PercentageType("percentage"),
)
