"""A whole response to and from stored answers (``(num, text, not_applicable)`` per item).

Each item's type does the work (:meth:`questionnaires.ItemType.encode` / ``decode``);
this module adds what holds for every type: hidden and blank answers are not stored,
stored answers of items the definition does not have are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from .item_types import StoredAnswer, is_blank, item_type
from .model import Definition
from .scoring import visible_items

__all__ = ["answers_from_stored", "stored_answers"]


def stored_answers(defn: Definition, answers: Mapping[str, object]) -> dict[str, StoredAnswer]:
    """Return what to store for a (validated) response: visible, answered items only.

    Raises
    ------
    TypeError
        If an answer is not a value of its item's type (validate first).
    """
    shown = visible_items(defn, answers)
    out: dict[str, StoredAnswer] = {}
    for item in defn.items:
        value = answers.get(item.id)
        if item.id in shown and not is_blank(value):
            out[item.id] = item_type(item.type).encode(value)
    return out


def answers_from_stored(
    defn: Definition, stored: Mapping[str, StoredAnswer | tuple[float | None, str | None, bool]]
) -> dict[str, object]:
    """Return the raw answers of stored ones (the inverse of :func:`stored_answers`).

    Items the definition does not have, and stored answers that hold no value, are left
    out (both mean "not answered" to validation and scoring).
    """
    out: dict[str, object] = {}
    for item in defn.items:
        if item.id not in stored:
            continue
        num, text, not_applicable = stored[item.id]
        value = item_type(item.type).decode(num, text, bool(not_applicable))
        if value is not None:
            out[item.id] = value
    return out
