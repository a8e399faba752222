"""Questionnaire versions from the staff side: list with response counts, clone into a
draft, save a draft, publish, retire, delete, import and export JSON.

Every save goes through ``questionnaires.parse_definition``: an invalid definition is
refused with :class:`DraftInvalid` (the loader's message, naming the path) and nothing
is written. Published and retired versions never change (responses refer to them
forever); only their status moves published → retired. One commit per use case; the
audit hook records every change of a ``QuestionnaireVersion``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, true

import questionnaires as q
from survey.authoring.models import QuestionnaireStatus, QuestionnaireVersion
from survey.authoring.services.messages import explain
from survey.authoring.services.versions import definition_of
from survey.collection.models import Response
from survey.common.clock import utcnow
from survey.common.errors import NotFound, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit

DRAFT = QuestionnaireStatus.draft.value
PUBLISHED = QuestionnaireStatus.published.value
RETIRED = QuestionnaireStatus.retired.value
MAX_IMPORT_BYTES = 256 * 1024  # four times the largest shipped file


class DraftInvalid(ServiceError):
    """``parse_definition`` refused the edited definition; ``path`` says where."""

    def __init__(self, error: q.DefinitionError, field: str | None = None) -> None:
        super().__init__(_("Not saved: the questionnaire would be invalid at %(path)s: "
                           "%(message)s", path=error.path, message=explain(error.message)),
                         field)
        self.path = error.path
        self.detail = error.message


class NotEditable(ServiceError):
    """The version is published or retired: it never changes."""


@dataclass(frozen=True)
class VersionRow:
    row: QuestionnaireVersion
    title: q.Text
    sector: str
    responses: int


def _source(row: QuestionnaireVersion) -> str:
    return f"{row.key} v{row.version}"


def response_counts(unit_clause: ColumnElement[bool] | None = None) -> dict[tuple[str, int], int]:
    """Responses per (key, version), optionally only those of units matching the clause."""
    query = (select(Response.questionnaire_key, Response.questionnaire_version, func.count())
             .select_from(Response).join(Unit, Response.unit_id == Unit.id)
             .where(unit_clause if unit_clause is not None else true())
             .group_by(Response.questionnaire_key, Response.questionnaire_version))
    return {(k, v): n for k, v, n in db.session.execute(query)}


def list_versions(unit_clause: ColumnElement[bool] | None = None, *, key: str = "",
                  status: str = "", sector: str = "") -> list[VersionRow]:
    """Every stored version (filtered), newest version of each key first."""
    query = select(QuestionnaireVersion).order_by(QuestionnaireVersion.key,
                                                  QuestionnaireVersion.version.desc())
    if key:
        query = query.where(QuestionnaireVersion.key == key)
    if status:
        query = query.where(QuestionnaireVersion.status == status)
    counts = response_counts(unit_clause)
    out = []
    for row in db.session.scalars(query):
        defn = definition_of(row)
        if sector and defn.sector != sector:
            continue
        out.append(VersionRow(row, defn.title, defn.sector, counts.get((row.key, row.version), 0)))
    return out


def keys() -> list[str]:
    return list(db.session.scalars(select(QuestionnaireVersion.key).distinct()
                                   .order_by(QuestionnaireVersion.key)))


def next_version(key: str) -> int:
    top = db.session.scalar(select(func.max(QuestionnaireVersion.version))
                            .where(QuestionnaireVersion.key == key))
    return (top or 0) + 1


def _exists(key: str, version: int) -> bool:
    return db.session.scalar(select(QuestionnaireVersion.id).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == version)) is not None


def _insert_draft(data: dict[str, Any]) -> QuestionnaireVersion:
    try:
        defn = q.parse_definition(data, source=f"{data.get('key')} v{data.get('version')}")
    except q.DefinitionError as err:
        raise DraftInvalid(err) from err
    row = QuestionnaireVersion(key=defn.key, version=defn.version, definition=q.to_dict(defn),
                               hash=q.definition_hash(defn), status=DRAFT)
    db.session.add(row)
    db.session.commit()
    return row


@use_case
def clone(source: QuestionnaireVersion, new_key: str | None = None) -> QuestionnaireVersion:
    """A new draft with the content of ``source``: the next version of its key, or
    version 1 of ``new_key``."""
    data = draft_data(source)
    key = new_key or source.key
    if new_key and _exists(new_key, 1):
        raise ServiceError(_("The key %(key)s is already used; clone into it without a new "
                             "key from one of its versions.", key=new_key), "new_key")
    data.update(key=key, version=next_version(key) if not new_key else 1, status=DRAFT)
    data.pop("superseded_by", None)  # only a retired version can be superseded
    return _insert_draft(data)


def get_version(version_id: int) -> QuestionnaireVersion:
    """The stored version; :class:`NotFound` when there is none."""
    row = db.session.get(QuestionnaireVersion, version_id)
    if row is None:
        raise NotFound("questionnaire version", version_id)
    return row


def draft_data(row: QuestionnaireVersion) -> dict[str, Any]:
    """A deep copy of the stored definition, to edit."""
    return copy.deepcopy(q.to_dict(definition_of(row)))


def require_draft(row: QuestionnaireVersion) -> None:
    if row.status != DRAFT:
        raise NotEditable(_("%(ref)s is %(status)s: a published or retired version never "
                            "changes. Clone it into a new draft instead.", ref=_source(row),
                            status=row.status))


def require_unchanged(row: QuestionnaireVersion, base_hash: str) -> None:
    """Refuse a change made on a page showing older content (another tab or colleague):
    positions in the page's URLs may now name other questions."""
    if base_hash and base_hash != row.hash:
        raise ServiceError(_("The draft was changed in the meantime (in another tab or by a "
                             "colleague). Nothing was saved: reload the page and redo your "
                             "change."))


@use_case
def save_draft(row: QuestionnaireVersion, data: dict[str, Any],
               fields: dict[str, str] | None = None) -> q.Definition:
    """Validate ``data`` and store it as the draft's new content (one commit).

    ``fields`` maps the last part of an error path (``scale``, ``vi``...) to the form
    field that shows it.
    """
    require_draft(row)
    if data.get("key") != row.key or data.get("version") != row.version:
        raise ServiceError(_("The key and version of a draft cannot change."))
    data = {**data, "status": DRAFT}
    try:
        defn = q.parse_definition(data, source=_source(row))
    except q.DefinitionError as err:
        raise DraftInvalid(err, _field_for(err.path, fields or {})) from err
    row.definition = q.to_dict(defn)
    row.hash = q.definition_hash(defn)
    db.session.commit()
    return defn


def _field_for(path: str, fields: dict[str, str]) -> str | None:
    parts = path.replace("[", ".").replace("]", "").split(".")
    for depth in range(len(parts), 0, -1):
        found = fields.get(".".join(parts[-depth:]))
        if found:
            return found
    return None


@use_case
def publish(row: QuestionnaireVersion) -> q.Definition:
    """Draft → published (refused if invalid or if the key+version is already published)."""
    require_draft(row)
    taken = db.session.scalar(select(QuestionnaireVersion.id).where(
        QuestionnaireVersion.key == row.key, QuestionnaireVersion.version == row.version,
        QuestionnaireVersion.status != DRAFT, QuestionnaireVersion.id != row.id))
    if taken is not None:
        raise ServiceError(_("%(ref)s is already published.", ref=_source(row)))
    data = {**row.definition, "status": PUBLISHED}
    try:
        defn = q.parse_definition(data, source=_source(row))
    except q.DefinitionError as err:
        raise DraftInvalid(err) from err
    row.definition, row.hash = q.to_dict(defn), q.definition_hash(defn)
    row.status, row.published_at = PUBLISHED, utcnow()
    db.session.commit()
    return defn


@use_case
def retire(row: QuestionnaireVersion) -> None:
    """Published → retired; its content stays, so its responses stay readable."""
    if row.status != PUBLISHED:
        raise ServiceError(_("Only a published version can be retired."))
    row.status = RETIRED
    db.session.commit()


@use_case
def delete_draft(row: QuestionnaireVersion) -> None:
    if row.status != DRAFT:
        raise NotEditable(_("Only a draft can be deleted; a published version can be retired."))
    if response_counts().get((row.key, row.version)):
        raise ServiceError(_("%(ref)s has responses: it can never be deleted.", ref=_source(row)))
    # The audit hook snapshots the row after the flush: load the deferred column first.
    assert row.definition is not None
    db.session.delete(row)
    db.session.commit()


@use_case
def import_json(raw: bytes) -> QuestionnaireVersion:
    """A JSON file as a new draft, whatever its status field says; never overwrites."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ServiceError(_("The file is larger than %(n)d KB.", n=MAX_IMPORT_BYTES // 1024),
                           "file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ServiceError(_("The file is not UTF-8 text."), "file") from err
    except ValueError as err:
        raise ServiceError(_("The file is not valid JSON: %(error)s", error=str(err)),
                           "file") from err
    if not isinstance(data, dict):
        raise ServiceError(_("The file must contain one JSON object."), "file")
    data["status"] = DRAFT
    data.pop("superseded_by", None)
    key, version = data.get("key"), data.get("version")
    if isinstance(key, str) and isinstance(version, int) and _exists(key, version):
        raise ServiceError(_("%(key)s v%(version)d already exists; it is never overwritten. "
                             "Change the version number in the file.", key=key,
                             version=version), "file")
    try:
        return _insert_draft(data)
    except DraftInvalid as err:
        err.field = "file"
        raise


def export_json(row: QuestionnaireVersion) -> tuple[str, bytes]:
    """The file name and the UTF-8 content of a version as a shipped-style JSON file."""
    return f"{row.key}_v{row.version}.json", q.dumps_pretty(definition_of(row)).encode("utf-8")


def answers_showing_all(defn: q.Definition) -> dict[str, Any]:
    """Answers under which every conditional question is shown (for the staff preview)."""
    answers: dict[str, Any] = {}
    for item in defn.items:
        if item.show_if is not None and item.show_if.values:
            target = defn.item(item.show_if.item)
            value = item.show_if.values[0]
            answers[target.id] = [value] if target.type == "multiple_choice" else value
    return answers
