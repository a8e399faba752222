"""Small shared types (kept apart so ``model`` and ``index_tree`` do not import each other)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["PROVENANCES", "Provenance", "Text"]

Provenance = Literal["verified", "secondary", "inferred"]
PROVENANCES: Final = ("verified", "secondary", "inferred")


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese (``vi``, shown by default) and English (``en``)."""

    vi: str
    en: str
