"""Load questionnaire definitions from JSON files or from imported dictionaries."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import cast

from ._base import PROVENANCES, Provenance, Text
from ._parse_index import parse_index
from ._parse_items import ItemParser, parse_scales, parse_text
from ._reader import Reader
from .errors import DefinitionError
from .model import SECTORS, STATUSES, TEXT_STATUSES, Definition, Sector, Status, TextStatus

__all__ = [
    "DEFAULT_ROOT",
    "FORMAT",
    "definition_path",
    "load",
    "load_all",
    "load_definition",
    "parse_definition",
]

#: Directory holding ``<key>/v<N>.json`` (the package directory itself).
DEFAULT_ROOT = Path(__file__).resolve().parent
#: Version of the JSON format (the ``format`` field of every file).
FORMAT = 1
FILE_PATTERN = re.compile(r"^v([1-9][0-9]*)\.json$")


def parse_definition(data: object, *, source: str) -> Definition:
    """Validate a decoded JSON document and build a :class:`Definition`.

    Parameters
    ----------
    data : object
        The decoded JSON (normally a ``dict``), e.g. imported from the web editor.
    source : str
        Label used in error messages, e.g. ``"health_outpatient/v1.json"``.

    Returns
    -------
    Definition
        The frozen definition.

    Raises
    ------
    DefinitionError
        At the first problem, naming ``source`` and the path inside the document.
    """
    r = Reader(data, "", source)
    fmt = r.integer("format")
    if fmt != FORMAT:
        r.fail(f"unsupported format {fmt}, expected {FORMAT}", "format")
    key = r.identifier("key")
    version = r.integer("version", minimum=1)
    title = parse_text(r, "title")
    sector = cast(Sector, r.choice("sector", SECTORS))
    status = cast(Status, r.choice("status", STATUSES))
    decisions = r.strings("decisions")
    if not decisions:
        r.fail("missing (cite at least one source decision)", "decisions")
    provenance = cast(Provenance, r.choice("provenance", PROVENANCES))
    text_status = cast(TextStatus, r.choice("text_status", TEXT_STATUSES))
    na_label = parse_text(r, "na_label", required=False)
    scales = parse_scales(r)
    parser = ItemParser(scales, na_label is not None)
    sections = parser.sections(r)
    index = parse_index(r, parser.items, {s.id: s for s in scales}, parser.ids)
    superseded_by = r.identifier("superseded_by") if r.has("superseded_by") else None
    r.used.add("superseded_by")
    if superseded_by is not None and status != "retired":
        r.fail("only a retired questionnaire can be superseded", "superseded_by")
    defn = Definition(
        key=key,
        version=cast(int, version),
        title=cast(Text, title),
        sector=sector,
        status=status,
        decisions=decisions,
        provenance=provenance,
        text_status=text_status,
        scales=scales,
        sections=sections,
        index=index,
        na_label=na_label,
        source_keys=r.strings("source_keys"),
        gaps=r.strings("gaps"),
        notes=r.strings("notes"),
        superseded_by=superseded_by,
    )
    r.done()
    return defn


def definition_path(key: str, version: int, root: Path | None = None) -> Path:
    """Return the path of ``<root>/<key>/v<version>.json``."""
    return (root or DEFAULT_ROOT) / key / f"v{version}.json"


def load_definition(path: Path | str) -> Definition:
    """Load and validate one JSON file.

    The file name must be ``<key>/v<version>.json`` and match the ``key`` and
    ``version`` fields. Errors name the file as ``<key>/v<N>.json``.

    Raises
    ------
    DefinitionError
        If the file is not valid JSON or not a valid definition.
    """
    path = Path(path)
    stat = path.stat()
    return _load_definition(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _load_definition(path: Path, mtime_ns: int, size: int) -> Definition:
    # Definitions are frozen: a file unchanged since its last load (same modification
    # time and size) gives the same object, so a sync on every start parses once.
    source = f"{path.parent.name}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DefinitionError(source, "", f"invalid JSON: {exc.msg} (line {exc.lineno})") from exc
    defn = parse_definition(data, source=source)
    match = FILE_PATTERN.match(path.name)
    if match is None or int(match.group(1)) != defn.version:
        raise DefinitionError(source, "version", f"{defn.version} does not match the file name")
    if defn.key != path.parent.name:
        raise DefinitionError(source, "key", f"{defn.key!r} does not match the directory name")
    return defn


def _files(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.glob("*/v*.json") if FILE_PATTERN.match(p.name)),
        key=lambda p: (p.parent.name, int(p.stem[1:])),
    )


def load_all(root: Path | str | None = None) -> tuple[Definition, ...]:
    """Load every ``<key>/v<N>.json`` under ``root`` (default: the shipped definitions).

    Returns
    -------
    tuple of Definition
        Sorted by key, then version.
    """
    base = Path(root) if root is not None else DEFAULT_ROOT
    return tuple(load_definition(p) for p in _files(base))


def load(key: str, version: int | None = None, root: Path | str | None = None) -> Definition:
    """Load one definition; without ``version``, the latest version of ``key``.

    Raises
    ------
    FileNotFoundError
        If there is no such key or version.
    """
    base = Path(root) if root is not None else DEFAULT_ROOT
    if version is None:
        versions = [int(p.stem[1:]) for p in _files(base) if p.parent.name == key]
        if not versions:
            raise FileNotFoundError(f"no questionnaire {key!r} under {base}")
        version = max(versions)
    path = definition_path(key, version, base)
    if not path.is_file():
        raise FileNotFoundError(f"no questionnaire {key}/v{version} under {base}")
    return load_definition(path)
