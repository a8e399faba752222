"""The :class:`ItemType` base: everything the package knows about one kind of question.

The loader, the form conversion, validation, scoring and storage never switch on a type
name; they ask the registered :class:`ItemType` (see :mod:`questionnaires.item_types`).
What is the same for every type stays outside: blank answers (``None``, ``""``, ``[]``),
"not applicable" (:data:`NOT_APPLICABLE`, for types with ``allows_na``), ``show_if``,
hidden items and the index rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._reader import Reader
from .errors import AnswerError
from .model import NOT_APPLICABLE, Definition, Item, Scale

__all__ = ["ItemType", "Problem", "StoredAnswer", "is_blank"]

#: ``(field, message)``: a definition-level problem of one item, reported at ``field``.
Problem = tuple[str, str]


class StoredAnswer(NamedTuple):
    """One stored answer: the ``value_num``, ``value_text`` and ``not_applicable`` columns.

    Exactly one of ``num`` / ``text`` is set, or neither when ``not_applicable``.
    """

    num: float | None
    text: str | None
    not_applicable: bool = False


def is_blank(answer: object) -> bool:
    """Return whether ``answer`` means "not answered" (``None``, ``""`` or ``[]``)."""
    return answer is None or answer == "" or answer == []


@dataclass(frozen=True)
class ItemType:
    """One item type: how it is defined, answered, checked, scored and stored.

    Subclass it (a frozen dataclass) and override the methods that differ; register
    the instance in :data:`questionnaires.item_types.ITEM_TYPE_REGISTRY`.

    Attributes
    ----------
    name : str
        The ``type`` of an item in the JSON definition.
    fields : frozenset of str
        The type-specific JSON fields (attributes of :class:`Item`) that :meth:`parse`
        reads; items of other types may not carry them.
    rules : frozenset of str
        The index rules (``share_at_least``, ``share_in``, ``comprehensive``,
        ``mean_score``) that may take items of this type.
    scored : bool
        Whether :func:`questionnaires.score_response` reports the items.
    multiple : bool
        Whether an answer is a list of values (the form posts several strings).
    allows_na : bool
        Whether "not applicable" can be offered; if not, ``"na"`` is an ordinary answer.
    free_input : bool
        Whether the citizen types the answer (the wording is checked for identifiers).
    not_in_profile : str or None
        Why items of this type may not be asked in a profile section (``None``: they may).
    """

    name: str
    fields: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    scored: bool = False
    multiple: bool = False
    allows_na: bool = True
    free_input: bool = False
    not_in_profile: str | None = None

    # -- the definition ------------------------------------------------------------------

    def parse(self, r: Reader) -> dict[str, Any]:
        """Read the fields of :attr:`fields` from the item object ``r``.

        Returns :class:`Item` attributes by name; fails through ``r.fail`` (naming the
        file and path) on a field that is missing, of the wrong kind, or inconsistent
        with the item's other fields.
        """
        return {}

    def check(self, item: Item, scales: Mapping[str, Scale]) -> Problem | None:
        """Return a problem of ``item`` against the rest of the definition, or ``None``."""
        return None

    def values(self, item: Item, scales: Mapping[str, Scale]) -> tuple[int | bool, ...] | None:
        """Return the closed set of answer values of ``item``, or ``None`` if it is open.

        Items with values can be the target of ``show_if``; index rules with thresholds
        and value lists are checked against them.
        """
        return None

    def value_error(self, value: object, item: Item, scales: Mapping[str, Scale]) -> str | None:
        """Return why ``value`` (in a ``show_if``) is not an answer value of ``item``."""
        values = self.values(item, scales)
        if values is None or isinstance(value, bool) or value not in values:
            return f"{value!r} is not a value of item {item.id!r}"
        return None

    # -- answers -------------------------------------------------------------------------

    def convert(self, raw: str) -> object:
        """Turn one stripped, non-empty form string into a raw answer.

        ``"na"`` never reaches types with ``allows_na``. What cannot be converted is
        returned unchanged, for :meth:`validate` to report.
        """
        return raw

    def validate(self, defn: Definition, item: Item, answer: object) -> AnswerError | None:
        """Return the problem with a non-blank, non-N/A ``answer`` to ``item``, or ``None``."""
        raise NotImplementedError(f"item type {self.name!r} does not validate answers")

    def score(self, defn: Definition, item: Item, answer: object) -> float | None:
        """Return the numeric score of ``answer``; ``None`` if blank, N/A, invalid or unscored.

        By default a valid numeric answer scores its value (a yes/no ``True`` scores 1.0).
        """
        if not self.scored or not isinstance(answer, int | float):
            return None
        return float(answer) if self.validate(defn, item, answer) is None else None

    def encode(self, answer: object) -> StoredAnswer:
        """Return how a (valid) non-blank ``answer`` is stored.

        Raises
        ------
        ValueError
            If ``answer`` is blank (blank answers are not stored).
        TypeError
            If ``answer`` is not a value of this type.
        """
        if is_blank(answer):
            raise ValueError("a blank answer is not stored")
        if self.allows_na and answer == NOT_APPLICABLE:
            return StoredAnswer(None, None, True)
        num, text = self.encode_value(answer)
        return StoredAnswer(num, text)

    def decode(self, num: float | None, text: str | None, not_applicable: bool = False) -> object:
        """Return the raw answer stored as ``(num, text, not_applicable)``.

        ``None`` where nothing usable is stored (treated as "not answered").
        """
        if not_applicable:
            return NOT_APPLICABLE
        return self.decode_value(num, text)

    def encode_value(self, answer: object) -> tuple[float | None, str | None]:
        """Return ``(num, text)`` for a non-blank, non-N/A answer (see :meth:`encode`)."""
        raise NotImplementedError(f"item type {self.name!r} does not encode answers")

    def decode_value(self, num: float | None, text: str | None) -> object:
        """Return the answer stored as ``(num, text)`` (see :meth:`decode`)."""
        raise NotImplementedError(f"item type {self.name!r} does not decode answers")

    def wrong(self, answer: object, expected: str) -> TypeError:
        """Return the error :meth:`encode_value` raises for an answer of the wrong kind."""
        return TypeError(f"a {self.name} answer is {expected}, not {answer!r}")
