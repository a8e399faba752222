"""Questionnaire versions in the database: sync from the shipped files, look-ups with a
cache of parsed definitions (a published version never changes, so its hash is a safe
cache key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

import questionnaires as q
from survey.authoring.models import QuestionnaireStatus, QuestionnaireVersion
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.extensions import db


@dataclass(frozen=True)
class SyncReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    kept: list[str] = field(default_factory=list)  # the database's later status kept


# Statuses only move forward (draft → published → retired). Sync applies a file's later
# status, never an earlier one: a version staff retired stays retired at the next start.
_ORDER = {QuestionnaireStatus.draft.value: 0, QuestionnaireStatus.published.value: 1,
          QuestionnaireStatus.retired.value: 2}


def sync(root: Any = None) -> SyncReport:
    """Load every shipped definition file into ``questionnaire_version`` (one transaction).

    New versions are inserted; a later status in the file (published → retired) is
    applied, an earlier one never (a version retired by staff stays retired); a
    published version whose content differs from the database is refused, because
    responses refer to it forever.
    """
    report = SyncReport([], [], [])
    problems = q.check_lock(root) if root is None else []
    if problems:
        raise ServiceError("; ".join(problems))
    for defn in q.load_all(root):
        ref = f"{defn.key} v{defn.version}"
        digest = q.definition_hash(defn)
        row = db.session.scalar(select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == defn.key, QuestionnaireVersion.version == defn.version))
        if row is None:
            db.session.add(QuestionnaireVersion(
                key=defn.key, version=defn.version, definition=q.to_dict(defn), hash=digest,
                status=defn.status, published_at=utcnow() if defn.status != "draft" else None))
            report.created.append(ref)
        elif row.hash != digest:
            db.session.rollback()
            raise ServiceError(_("%(ref)s differs from the version in the database; a published "
                                 "version never changes: give the new content a new version.",
                                 ref=ref))
        elif _ORDER[defn.status] > _ORDER[row.status]:
            row.status = defn.status  # a shipped retirement
            report.updated.append(ref)
        elif _ORDER[defn.status] < _ORDER[row.status]:
            report.kept.append(ref)  # retired by staff: the file never brings it back
        else:
            report.unchanged.append(ref)
    db.session.commit()
    return report


_PARSED: dict[str, q.Definition] = {}


def definition_of(row: QuestionnaireVersion) -> q.Definition:
    """The parsed definition of a stored version, cached by content hash (a draft that
    changes gets a new hash, so drafts are cached too)."""
    cached = _PARSED.get(row.hash)
    if cached is None:
        cached = q.parse_definition(row.definition, source=f"{row.key} v{row.version}")
        if q.definition_hash(cached) != row.hash:
            if row.status != QuestionnaireStatus.draft.value:
                raise ServiceError(f"{row.key} v{row.version}: stored content does not match "
                                   "its hash")
            return cached  # a draft whose hash was not kept up to date: not cached
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[row.hash] = cached
    return cached


def latest_published(key: str) -> QuestionnaireVersion | None:
    return db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.key == key,
               QuestionnaireVersion.status == QuestionnaireStatus.published.value)
        .order_by(QuestionnaireVersion.version.desc())
    )


def published_keys() -> list[str]:
    return list(db.session.scalars(
        select(QuestionnaireVersion.key)
        .where(QuestionnaireVersion.status == QuestionnaireStatus.published.value)
        .distinct().order_by(QuestionnaireVersion.key)))
