"""Turn one response into item values, validate submitted answers, and indicators.

Raw answers (``Mapping[item id, answer]``) of the shipped item types (each type's
entry in :mod:`questionnaires.item_types` says what it accepts):

=================  ==============================================================
item type          raw answer
=================  ==============================================================
likert5, points,   ``int`` option value of the item's scale
single_choice
multiple_choice    ``list`` of distinct option values
yes_no             ``True`` / ``False``
number             ``int`` or ``float`` within ``[min, max]`` (whole if ``integer``)
percentage         ``int`` or ``float`` within ``[0, 100]``
text               ``str`` of at most ``max_length`` characters
any but text       :data:`NOT_APPLICABLE` (``"na"``) where the item allows it
=================  ==============================================================

``None``, a missing key, ``""`` and ``[]`` all mean "not answered". Answers to items
hidden by ``show_if`` are ignored (the citizen page works without JavaScript, so a
citizen may fill in an item that turns out to be hidden).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import AnswerError, answer_error
from .item_types import ITEM_TYPES, is_blank, item_type
from .model import NOT_APPLICABLE, Definition, Item

__all__ = [
    "SCORED_TYPES",
    "comprehensive_indicator",
    "item_indicators",
    "score_response",
    "validate_answers",
    "visible_items",
]

#: Shipped item types that :func:`score_response` turns into numbers.
SCORED_TYPES = frozenset(name for name in ITEM_TYPES if item_type(name).scored)


def _check(defn: Definition, item: Item, answer: object) -> AnswerError | None:
    """Return the problem with a non-blank, non-N/A answer, or ``None``."""
    return item_type(item.type).validate(defn, item, answer)


def _matches(defn: Definition, item: Item, answer: object, values: tuple[int | bool, ...]) -> bool:
    if is_blank(answer) or answer == NOT_APPLICABLE or _check(defn, item, answer) is not None:
        return False
    if isinstance(answer, list | tuple):
        return any(v in values for v in answer)
    # ``True == 1`` in Python: compare types too, so a yes_no answer never matches 1.
    return any(type(v) is type(answer) and v == answer for v in values)


def visible_items(defn: Definition, answers: Mapping[str, object]) -> frozenset[str]:
    """Return the ids of the items shown given ``answers`` (``show_if`` chains included).

    An item is hidden when the item it depends on is hidden, unanswered, answered
    "not applicable", invalid, or answered with a value outside ``show_if.in``.
    """
    shown: set[str] = set()
    for item in defn.items:
        cond = item.show_if
        if cond is None or (
            cond.item in shown
            and _matches(defn, defn.item(cond.item), answers.get(cond.item), cond.values)
        ):
            shown.add(item.id)
    return frozenset(shown)


def validate_answers(
    defn: Definition, answers: Mapping[str, object], *, strict: bool = False
) -> list[AnswerError]:
    """Check a submitted answer set against the definition.

    Parameters
    ----------
    defn : Definition
        The questionnaire version answered.
    answers : Mapping[str, object]
        Raw answers by item id (see the module docstring).
    strict : bool, default False
        Also report answers given to hidden items (``code="hidden"``); by default they
        are silently ignored.

    Returns
    -------
    list of AnswerError
        Problems in item order, unknown ids first; empty if the answers are valid.
    """
    known = {item.id for item in defn.items}
    errors = [answer_error(k, "unknown_item") for k in answers if k not in known]
    shown = visible_items(defn, answers)
    for item in defn.items:
        answer = answers.get(item.id)
        if item.id not in shown:
            if strict and not is_blank(answer):
                errors.append(answer_error(item.id, "hidden"))
            continue
        if is_blank(answer):
            if item.required:
                errors.append(answer_error(item.id, "required"))
        elif answer == NOT_APPLICABLE and item_type(item.type).allows_na:
            if not item.not_applicable:
                errors.append(answer_error(item.id, "na_not_allowed"))
        else:
            problem = _check(defn, item, answer)
            if problem is not None:
                errors.append(problem)
    return errors


def score_response(defn: Definition, answers: Mapping[str, object]) -> dict[str, float | None]:
    """Return the numeric value of every scored item of one response.

    Parameters
    ----------
    defn : Definition
        The questionnaire version answered.
    answers : Mapping[str, object]
        Raw answers by item id.

    Returns
    -------
    dict of str to float or None
        One entry per item of a scored type (:data:`SCORED_TYPES`; ``text`` and
        ``multiple_choice`` items are not scored): the level / points / code / number,
        ``1.0``/``0.0`` for yes/no, and ``None`` for an item that is hidden, not
        answered, answered "not applicable" or invalid (validate first).
    """
    shown = visible_items(defn, answers)
    out: dict[str, float | None] = {}
    for item in defn.items:
        kind = item_type(item.type)
        if not kind.scored:
            continue
        visible = item.id in shown
        out[item.id] = kind.score(defn, item, answers.get(item.id)) if visible else None
    return out


def item_indicators(
    defn: Definition, node_id: str, scores: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Return the 0/1 "satisfied" indicator of each item below a share node.

    Works for ``share_at_least`` and ``share_in`` nodes and for (weighted) means of
    them; ``None`` where the item has no valid value.

    Raises
    ------
    ValueError
        If the subtree contains a ``mean_score`` or ``comprehensive`` node.
    """
    out: dict[str, float | None] = {}
    for child in defn.index.node(node_id).children:
        if defn.index.is_node(child):
            out.update(item_indicators(defn, child, scores))
            continue
        node = defn.index.node(node_id)
        value = scores.get(child)
        if node.rule == "share_at_least":
            assert node.threshold is not None
            out[child] = None if value is None else float(value >= node.threshold)
        elif node.rule == "share_in":
            out[child] = None if value is None else float(value in (node.values or ()))
        else:
            raise ValueError(f"node {node_id!r} has rule {node.rule!r}, not a share rule")
    return out


def comprehensive_indicator(
    defn: Definition, node_id: str, scores: Mapping[str, float | None]
) -> float | None:
    """Return 1.0 if the respondent rated every listed item at or above the threshold.

    Items without a valid value (hidden, skipped, not applicable) are left out; the
    result is ``None`` if none of the node's items has a value, so that the
    respondent drops out of the denominator (Bộ Y tế wording; denominator [I]).

    Raises
    ------
    ValueError
        If ``node_id`` is not a ``comprehensive`` node.
    """
    node = defn.index.node(node_id)
    if node.rule != "comprehensive" or node.threshold is None:
        raise ValueError(f"node {node_id!r} has rule {node.rule!r}, not 'comprehensive'")
    values = [v for c in node.children if (v := scores.get(c)) is not None]
    if not values:
        return None
    return float(all(v >= node.threshold for v in values))
