"""The registry of item types: one :class:`ItemType` entry per ``type`` of a question.

The loader (type-specific fields and checks), :func:`questionnaires.answers_from_form`
(form strings), :func:`questionnaires.validate_answers`, :func:`questionnaires.score_response`,
the index-tree checks and the storage of answers look a type up here, so a new type is
one entry in :data:`BUILTIN_TYPES` (plus one widget in the web layer).

Storage (:meth:`ItemType.encode` / :meth:`ItemType.decode`) maps a raw answer to the
triple ``(num, text, not_applicable)`` of an answer row and back; "not applicable" is
``(None, None, True)`` for every type that allows it.

Examples
--------
>>> import questionnaires as q
>>> q.item_type("multiple_choice").encode([3, 1])
StoredAnswer(num=None, text='1,3', not_applicable=False)
>>> q.item_type("likert5").decode(4.0, None)
4
>>> q.item_type("yes_no").encode(q.NOT_APPLICABLE)
StoredAnswer(num=None, text=None, not_applicable=True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Final

from ._builtin_types import BUILTIN_TYPES
from ._item_type import ItemType, Problem, StoredAnswer, is_blank

__all__ = [
    "BUILTIN_TYPES",
    "ITEM_TYPES",
    "ITEM_TYPE_REGISTRY",
    "ItemType",
    "Problem",
    "StoredAnswer",
    "extra_item_types",
    "is_blank",
    "item_type",
    "item_type_fields",
    "item_type_names",
]

_REGISTRY: dict[str, ItemType] = {t.name: t for t in BUILTIN_TYPES}

#: Item types by name, in registration order (a read-only, live view of the registry).
ITEM_TYPE_REGISTRY: Final[Mapping[str, ItemType]] = MappingProxyType(_REGISTRY)

#: Names of the shipped item types, in order.
ITEM_TYPES: Final[tuple[str, ...]] = tuple(_REGISTRY)


def item_type(name: str) -> ItemType:
    """Return the registered type ``name``.

    Raises
    ------
    KeyError
        If no such type is registered.
    """
    return _REGISTRY[name]


def item_type_names() -> tuple[str, ...]:
    """Return the names of all registered types (shipped first, then extra ones)."""
    return tuple(_REGISTRY)


def item_type_fields() -> frozenset[str]:
    """Return the type-specific fields of all registered types."""
    return frozenset().union(*(t.fields for t in _REGISTRY.values()))


@contextmanager
def extra_item_types(*types: ItemType) -> Iterator[None]:
    """Register ``types`` for the duration of a ``with`` block (tests, experiments).

    Definitions parsed inside the block may use the extra types; objects built from
    them keep working afterwards only as far as they do not look the type up.

    Raises
    ------
    ValueError
        If a name is already registered or given twice.
    """
    names = [t.name for t in types]
    taken = sorted({n for n in names if n in _REGISTRY or names.count(n) > 1})
    if taken:
        raise ValueError(f"item type(s) already registered: {', '.join(taken)}")
    _REGISTRY.update((t.name, t) for t in types)
    try:
        yield
    finally:
        for name in names:
            del _REGISTRY[name]
