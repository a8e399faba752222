"""Typed access to untrusted JSON with error paths (``sections[2].items[4].scale``)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NoReturn

from .errors import DefinitionError

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Reader:
    """A JSON object being read: tracks used keys so unknown keys can be rejected."""

    def __init__(self, data: object, path: str, source: str) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            self.fail("expected object")
        self.data: dict[str, object] = data
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        """Return the path of ``key`` inside this object."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        """Raise a :class:`DefinitionError` at this object (or at ``key``)."""
        raise DefinitionError(self.source, self.at(key) if key else self.path, message)

    def has(self, key: str) -> bool:
        """Return whether ``key`` is present (and not null)."""
        return self.data.get(key) is not None

    def raw(self, key: str, *, required: bool = True) -> object:
        """Return the raw value of ``key``; ``None`` if optional and absent."""
        self.used.add(key)
        value = self.data.get(key)
        if value is None and required:
            self.fail("missing", key)
        return value

    def string(self, key: str, *, required: bool = True) -> str | None:
        """Return a non-empty NFC string."""
        value = self.raw(key, required=required)
        return None if value is None else as_string(value, self.at(key), self.source)

    def identifier(self, key: str) -> str:
        """Return a snake_case identifier."""
        value = self.string(key)
        assert value is not None
        if not ID_PATTERN.match(value):
            self.fail(f"{value!r} is not a snake_case id", key)
        return value

    def choice(self, key: str, allowed: Sequence[str], *, default: str | None = None) -> str:
        """Return a string that must be one of ``allowed``."""
        value = self.string(key, required=default is None)
        if value is None:
            assert default is not None
            return default
        if value not in allowed:
            self.fail(f"{value!r} is not one of {', '.join(allowed)}", key)
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int | None = None) -> int | None:
        """Return an integer (booleans are rejected)."""
        value = self.raw(key, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("expected integer", key)
        if minimum is not None and value < minimum:
            self.fail(f"must be at least {minimum}", key)
        return value

    def number(self, key: str, *, required: bool = True) -> float | None:
        """Return a finite number."""
        value = self.raw(key, required=required)
        return None if value is None else as_number(value, self.at(key), self.source)

    def boolean(self, key: str, *, required: bool = False) -> bool:
        """Return a boolean (``False`` if optional and absent)."""
        value = self.raw(key, required=required)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail("expected true or false", key)
        return value

    def array(self, key: str, *, required: bool = True, non_empty: bool = True) -> list[object]:
        """Return a list (``[]`` if optional and absent)."""
        value = self.raw(key, required=required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail("expected array", key)
        if non_empty and not value:
            self.fail("must not be empty", key)
        return value

    def objects(self, key: str, *, required: bool = True) -> Iterator[Reader]:
        """Yield a reader for each element of the array ``key``."""
        for i, element in enumerate(self.array(key, required=required)):
            yield Reader(element, f"{self.at(key)}[{i}]", self.source)

    def strings(self, key: str) -> tuple[str, ...]:
        """Return an optional array of strings."""
        values = self.array(key, required=False, non_empty=False)
        path = self.at(key)
        return tuple(as_string(v, f"{path}[{i}]", self.source) for i, v in enumerate(values))

    def done(self) -> None:
        """Reject keys that were never read (typos, unsupported fields)."""
        for key in self.data:
            if key not in self.used:
                self.fail("unknown field", key)


def as_string(value: object, path: str, source: str) -> str:
    """Check that ``value`` is a non-empty, NFC-normalised string."""
    if not isinstance(value, str):
        raise DefinitionError(source, path, "expected string")
    if not value.strip():
        raise DefinitionError(source, path, "must not be empty")
    if not unicodedata.is_normalized("NFC", value):
        raise DefinitionError(source, path, "text is not NFC-normalised (decomposed diacritics)")
    return value


def as_number(value: object, path: str, source: str) -> float:
    """Check that ``value`` is a finite JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DefinitionError(source, path, "expected number")
    if not math.isfinite(value):
        raise DefinitionError(source, path, "must be finite")
    return value
