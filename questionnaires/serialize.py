"""JSON serialisation: dataclasses → dict, canonical JSON and content hashes.

``to_dict`` writes every field that carries information and omits the rest (``None``,
``false`` flags other than ``required``, empty lists), so that for a shipped file
``to_dict(from_dict(data)) == data``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._base import Text
from .index_tree import IndexNode, IndexTree
from .loader import FORMAT, parse_definition
from .model import Definition, Item, Scale, Section

__all__ = ["definition_hash", "dumps_canonical", "dumps_pretty", "from_dict", "to_dict"]

JSON = dict[str, Any]


def _text(t: Text) -> JSON:
    return {"vi": t.vi, "en": t.en}


def _put(out: JSON, key: str, value: object) -> None:
    """Set ``key`` unless ``value`` carries no information."""
    if value is None or value is False or value == ():
        return
    if isinstance(value, Text):
        out[key] = _text(value)
    elif isinstance(value, tuple):
        out[key] = list(value)
    else:
        out[key] = value


def _scale(s: Scale) -> JSON:
    return {"options": [{"value": o.value, "label": _text(o.label)} for o in s.options]}


def _item(item: Item) -> JSON:
    out: JSON = {
        "id": item.id,
        "type": item.type,
        "text": _text(item.text),
        "required": item.required,
        "provenance": item.provenance,
    }
    for key in (
        "code",
        "scale",
        "not_applicable",
        "min",
        "max",
        "integer",
        "max_length",
        "max_choices",
        "profile_field",
        "source",
        "note",
    ):
        _put(out, key, getattr(item, key))
    if item.show_if is not None:
        out["show_if"] = {"item": item.show_if.item, "in": list(item.show_if.values)}
    return out


def _section(s: Section) -> JSON:
    out: JSON = {"id": s.id, "title": _text(s.title), "page": s.page}
    _put(out, "profile", s.profile)
    _put(out, "intro", s.intro)
    out["items"] = [_item(i) for i in s.items]
    return out


def _node(n: IndexNode) -> JSON:
    out: JSON = {
        "id": n.id,
        "title": _text(n.title),
        "rule": n.rule,
        "children": list(n.children),
        "provenance": n.provenance,
    }
    for key in ("threshold", "values", "weights", "pooling", "note"):
        _put(out, key, getattr(n, key))
    return out


def _index(tree: IndexTree) -> JSON:
    return {"overall": tree.overall, "nodes": [_node(n) for n in tree.nodes]}


def to_dict(defn: Definition) -> JSON:
    """Return the JSON-ready dictionary of ``defn`` (the inverse of :func:`from_dict`)."""
    out: JSON = {
        "format": FORMAT,
        "key": defn.key,
        "version": defn.version,
        "title": _text(defn.title),
        "sector": defn.sector,
        "status": defn.status,
        "decisions": list(defn.decisions),
        "provenance": defn.provenance,
        "text_status": defn.text_status,
    }
    for key in ("na_label", "source_keys", "gaps", "notes", "superseded_by"):
        _put(out, key, getattr(defn, key))
    out["scales"] = {s.id: _scale(s) for s in defn.scales}
    out["sections"] = [_section(s) for s in defn.sections]
    out["index"] = _index(defn.index)
    return out


def from_dict(data: object, *, source: str = "<dict>") -> Definition:
    """Build a definition from a dictionary (same validation as the file loader)."""
    return parse_definition(data, source=source)


def dumps_canonical(defn: Definition) -> str:
    """Return the canonical JSON text: sorted keys, no whitespace, UTF-8 characters kept.

    The text is stable across Python versions and runs, so it can be hashed.
    """
    return json.dumps(
        to_dict(defn),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )


def dumps_pretty(defn: Definition) -> str:
    """Return the human-readable form of the shipped files (fields in schema order, indented)."""
    text = json.dumps(to_dict(defn), ensure_ascii=False, indent=2, allow_nan=False)
    return text + "\n"


def definition_hash(defn: Definition) -> str:
    """Return the SHA-256 (hex) of :func:`dumps_canonical`; store it with each response."""
    return hashlib.sha256(dumps_canonical(defn).encode("utf-8")).hexdigest()
