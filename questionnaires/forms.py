"""Turn submitted HTML form values (strings) into typed raw answers.

The citizen page works without JavaScript, so answers arrive as strings. This module
converts them per item type (:meth:`questionnaires.ItemType.convert`); anything that
cannot be converted is passed through unchanged, so that
:func:`questionnaires.validate_answers` reports it with a proper bilingual message
instead of raising here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .item_types import item_type
from .model import NOT_APPLICABLE, Definition, Item

__all__ = ["answers_from_form"]


def _one(item: Item, raw: str) -> object:
    value = raw.strip()
    if not value:
        return None
    kind = item_type(item.type)
    if kind.allows_na and value == NOT_APPLICABLE:
        return NOT_APPLICABLE
    return kind.convert(value)


def answers_from_form(defn: Definition, form: Mapping[str, object]) -> dict[str, object]:
    """Convert form fields named by item id into raw answers for validation and scoring.

    Parameters
    ----------
    defn : Definition
        The questionnaire answered.
    form : Mapping[str, object]
        Field values: a string, or a sequence of strings for multiple-choice items
        (e.g. ``{k: request.form.getlist(k) for k in request.form}``). Fields that are
        not items are dropped.

    Returns
    -------
    dict
        Raw answers: ``int`` option values, ``list[int]``, ``bool``, numbers, stripped
        text, :data:`NOT_APPLICABLE`, or ``None`` for an empty field.
    """
    answers: dict[str, object] = {}
    for item in defn.items:
        if item.id not in form:
            continue
        raw = form[item.id]
        values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, Sequence) else []
        strings = [v for v in values if isinstance(v, str)]
        if item_type(item.type).multiple:
            picked = [_one(item, v) for v in strings]
            answers[item.id] = [v for v in picked if v is not None]
        else:
            answers[item.id] = _one(item, strings[-1]) if strings else None
    return answers
