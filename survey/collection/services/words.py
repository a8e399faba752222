"""Answers and questions in words, as staff read them (review, comments): a question by
its number on the form and its text, an answer by its option label rather than a stored
code."""

from __future__ import annotations

from flask_babel import gettext as _

import questionnaires as q


def text(value: q.Text, lang: str) -> str:
    return value.en if lang == "en" else value.vi


def question_label(item: q.Item, lang: str) -> str:
    """A question by its number on the form (when it has one) and its text."""
    label = text(item.text, lang)
    return f"{item.number}. {label}" if item.number else label


def answer_in_words(defn: q.Definition, item: q.Item, value: object, lang: str) -> str:
    """A decoded answer (:func:`questionnaires.answers_from_stored`) in words: the option
    label of a scale, yes/no, "not applicable", several options joined; else as given."""
    if value == q.NOT_APPLICABLE:
        return text(defn.na_label, lang) if defn.na_label else _("Not applicable")
    if isinstance(value, bool):
        return next(text(label, lang) for v, label in q.YES_NO_LABELS if v is value)
    if item.scale and isinstance(value, int):
        try:
            return text(defn.scale(item.scale).label(value), lang)
        except KeyError:
            return str(value)
    if item.scale and isinstance(value, list | tuple | set | frozenset):
        return "; ".join(answer_in_words(defn, item, v, lang) for v in sorted(value))
    if item.type == "percentage" and isinstance(value, int | float):
        return f"{value:g} %"
    return str(value)
