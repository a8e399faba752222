"""One-time tokens from a CSV file of completed dossiers, with printable slips.

Columns: ``dossier_hash`` (SHA-256 hex) or ``dossier_code`` (hashed here, never stored),
``procedure_field``, ``channel`` (direct, online, postal), ``completed_at``; optional
``service_point_id`` and ``questionnaire_key``. UTF-8 with or without BOM, comma or
semicolon separated. Any bad line and nothing is written; the slips PDF is rendered
before the commit, so issued tokens always come with their slips.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Literal

from flask_babel import gettext as _

from survey.collection.services import tokens
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.models import Unit
from survey.render import Slip, slips_pdf

REQUIRED = ("procedure_field", "channel", "completed_at")
OPTIONAL = ("service_point_id", "questionnaire_key")
MAX_ROWS = 2000
MAX_PROBLEMS = 20
Layout = Literal["a4_grid", "receipt_80mm"]


class CsvError(ServiceError):
    """The file was refused; ``problems`` lists every line that is wrong (up to 20)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0], "file")
        self.problems = problems


@dataclass(frozen=True)
class Upload:
    issued: int  # new tokens (selected dossiers)
    not_selected: int
    already_issued: int
    pdf: bytes | None  # slips of the new tokens, if any


def hash_code(code: str) -> str:
    """SHA-256 hex of a dossier code as the one-stop system sends it (spaces trimmed)."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def _line(line: int, column: str | None, message: object) -> str:
    if column:
        return _("Line %(line)d, column %(column)s: %(message)s", line=line, column=column,
                 message=message)
    return _("Line %(line)d: %(message)s", line=line, message=message)


def _reader(data: bytes) -> csv.DictReader[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError([_("The file is not UTF-8 text. Save it as \"CSV UTF-8\".")]) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if not any(header):
        raise CsvError([_("The file is empty.")])
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if "dossier_hash" not in header and "dossier_code" not in header:
        missing.insert(0, "dossier_hash / dossier_code")
    if missing:
        raise CsvError([_("Line 1: missing column(s) %(names)s.", names=", ".join(missing))])
    return reader


def _row_input(row: dict[str, str | None], line: int) -> tokens.DossierInput:
    raw: dict[str, object] = {c: (row.get(c) or "").strip() for c in REQUIRED}
    code, given = (row.get("dossier_code") or "").strip(), (row.get("dossier_hash") or "").strip()
    if code and given:
        raise tokens.ItemProblem("dossier_code", _("Fill dossier_hash or dossier_code, not both."))
    raw["dossier_hash"] = hash_code(code) if code else given
    for column in OPTIONAL:
        value = (row.get(column) or "").strip()
        if column == "service_point_id" and value:
            if not value.isdigit():
                raise tokens.ItemProblem(column, _("Must be a whole number."))
            raw[column] = int(value)
        elif value:
            raw[column] = value
    return tokens.parse_item(raw, allow_local=True)


def read(data: bytes) -> tuple[list[tokens.DossierInput], list[int]]:
    """The dossiers of the file and their line numbers; :class:`CsvError` if any is bad."""
    reader = _reader(data)
    items: list[tokens.DossierInput] = []
    lines: list[int] = []
    problems: list[str] = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        if len(items) + len(problems) >= MAX_ROWS:
            raise CsvError([_("At most %(n)d dossiers per file.", n=MAX_ROWS)])
        try:
            items.append(_row_input(row, reader.line_num))
            lines.append(reader.line_num)
        except tokens.ItemProblem as problem:
            problems.append(_line(reader.line_num, problem.field, problem.message))
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise CsvError(problems)
    if not items:
        raise CsvError([_("The file has no dossier lines.")])
    return items, lines


def upload(scope: Scope, unit: Unit, data: bytes, layout: Layout = "a4_grid") -> Upload:
    """Validate the whole file, issue tokens, render the slips, then commit (one
    transaction). The secrets live only in the returned PDF."""
    items, lines = read(data)
    try:
        issued = tokens.prepare_tokens(scope, unit, items)
        new = [i for i in issued if i.secret]
        pdf = slips_pdf([Slip(unit.name, i.url or "", tokens.expiry_text(i.token.expires_at))
                         for i in new], layout=layout) if new else None
    except tokens.ItemProblem as problem:
        db.session.rollback()
        line = lines[problem.index] if problem.index is not None else 1
        raise CsvError([_line(line, problem.field, problem.message)]) from None
    try:
        tokens.commit_tokens()
    except tokens.ItemProblem as problem:
        raise CsvError([str(problem.message)]) from None
    already = sum(i.already_issued for i in issued)
    return Upload(len(new), len(issued) - len(new) - already, already, pdf)
