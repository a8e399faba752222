"""Questionnaire versions as stored data; every response keeps its version forever."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.common.clock import utcnow
from survey.extensions import db, in_values


class QuestionnaireStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class QuestionnaireVersion(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "questionnaire_version"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_questionnaire_version_key_version"),
        CheckConstraint(in_values("status", QuestionnaireStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    # Deferred: the parsed definition is cached by hash, so rows load without it.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=QuestionnaireStatus.draft.value)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
