"""Collection models: per-point QR links, one-time dossier tokens and their systematic
1-in-k selection, API keys, the daily salt that replaces raw IP addresses by unlinkable
hashes, and the anonymous responses with their answers (keyed by the questionnaire's
stable item ids)."""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.common.clock import utcnow
from survey.extensions import db, in_values
from survey.org.models import ServicePoint, Unit


class PointLink(db.Model):  # type: ignore[name-defined,misc]
    """A stable, unguessable, revocable public link of a service point (what its QR
    encodes). ``questionnaire_key`` overrides the point's questionnaire; ``kind`` says
    whether it is printed on posters or opened on a kiosk tablet."""

    __tablename__ = "point_link"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("token", name="uq_point_link_token"),
        CheckConstraint("kind IN ('poster', 'kiosk')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    token: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10), default="poster")
    questionnaire_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    service_point: Mapped[ServicePoint] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A unit's key for the token API. Only a hash is stored; ``prefix`` finds it."""

    __tablename__ = "api_key"
    __audited__ = True
    __audit_exclude__ = ("key_hash", "last_used_at")
    __table_args__ = (UniqueConstraint("prefix", name="uq_api_key_prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    label: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # May read results through the read-only API (any key reads published snapshots).
    read_results: Mapped[bool] = mapped_column(default=False, server_default=false())

    unit: Mapped[Unit] = relationship()


class DossierToken(db.Model):  # type: ignore[name-defined,misc]
    """A one-time invitation for a completed dossier (hồ sơ). The dossier code arrives
    already hashed; the token itself is stored as a hash too, so a copy of the database
    gives no usable link. When tokens go to a systematic sample of dossiers,
    ``selection_probability`` records 1/k for design weights."""

    __tablename__ = "dossier_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_dossier_token_token_hash"),
        UniqueConstraint("unit_id", "dossier_hash", name="uq_dossier_token_unit_dossier"),
        Index("ix_dossier_token_unit_issued", "unit_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"))
    questionnaire_key: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64))
    dossier_hash: Mapped[str] = mapped_column(String(64))
    procedure_field: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    selected: Mapped[bool] = mapped_column(default=True)
    selection_probability: Mapped[float] = mapped_column(Float, default=1.0)

    unit: Mapped[Unit] = relationship()


class TokenSampler(db.Model):  # type: ignore[name-defined,misc]
    """Dossier number ``n`` (0, 1, 2, ... in arrival order, counted in ``counter``) of the
    unit is selected when ``n % k == start``; ``start`` is drawn once, uniformly in
    ``0..k-1``, when k is configured. Every dossier then has inclusion probability 1/k.
    Without a row, every dossier is selected (k = 1)."""

    __tablename__ = "token_sampler"
    __audited__ = True
    # The counter moves with every dossier; only the staff's settings are audited.
    __audit_exclude__ = ("counter", "updated_at")
    __table_args__ = (
        UniqueConstraint("unit_id", name="uq_token_sampler_unit_id"),
        CheckConstraint("k >= 1", name="k_positive"),
        CheckConstraint("start >= 0 AND start < k", name="start_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    k: Mapped[int] = mapped_column(default=1)
    start: Mapped[int] = mapped_column(default=0)
    counter: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    unit: Mapped[Unit] = relationship()


class Channel(enum.StrEnum):
    desk_qr = "desk_qr"
    kiosk = "kiosk"
    token = "token"
    field = "field"
    paper = "paper"


COUNTED_STATUSES = ("ok", "accepted")


class Response(db.Model):  # type: ignore[name-defined,misc]
    """One submitted questionnaire. No name, phone or IP is ever stored here."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("client_submission_id", name="uq_response_client_submission_id"),
        CheckConstraint(in_values("channel", Channel), name="channel"),
        Index("ix_response_unit_submitted", "unit_id", "submitted_at"),
        Index("ix_response_questionnaire", "questionnaire_key", "questionnaire_version"),
        Index("ix_response_link_submitted", "link_id", "submitted_at"),
        CheckConstraint(
            "review_status IN ('ok', 'flagged', 'accepted', 'rejected')", name="review_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_key: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_submission_id: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("point_link.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_token.id"))
    # 1 for open links; 1/k for a token drawn 1-in-k (the design weight's inverse).
    selection_probability: Mapped[float | None] = mapped_column(Float)
    # Salted with the day's random salt; never the raw IP or device cookie.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    answers_hash: Mapped[str | None] = mapped_column(String(64))
    flags: Mapped[str] = mapped_column(String(255), default="")
    review_status: Mapped[str] = mapped_column(String(16), default="ok")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    @hybrid_property
    def counts_in_indices(self) -> bool:
        """Flagged (possible gaming) and rejected responses are kept but not counted."""
        return self.review_status in COUNTED_STATUSES

    @counts_in_indices.inplace.expression
    @classmethod
    def _counts_in_indices(cls) -> ColumnElement[bool]:
        return cls.review_status.in_(COUNTED_STATUSES)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id"
    )


def fold_text(text: str | None) -> str:
    """Lower case without diacritics (``Tân Ninh`` -> ``tan ninh``, ``Đức`` -> ``duc``),
    spaces collapsed: what a search compares, the same on SQLite and PostgreSQL (neither
    folds Vietnamese accents by itself without extensions)."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _search_text_default(context: Any) -> str | None:
    # Only answers with words (free text) get a folded copy; "1,3" of a multiple choice
    # or an empty text stays NULL, so the column costs nothing for the other answers.
    text = context.get_current_parameters().get("value_text")
    return fold_text(text) if text and any(c.isalpha() for c in text) else None


class Answer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("response_id", "item_id", name="uq_answer_response_item"),
        # The comments page walks free-text answers newest first (response order) and
        # stops after one page, instead of sorting every comment of the province.
        Index("ix_answer_comments", "response_id", "id",
              postgresql_where=sql_text("search_text IS NOT NULL"),
              sqlite_where=sql_text("search_text IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    not_applicable: Mapped[bool] = mapped_column(default=False)
    # fold_text(value_text), filled on insert (ORM and Core inserts alike): the comments
    # search is a LIKE on this column, accent- and case-insensitive on both databases.
    search_text: Mapped[str | None] = mapped_column(Text, default=_search_text_default)

    response: Mapped[Response] = relationship(back_populates="answers")


HIDE_REASONS = ("personal_data", "offensive", "spam", "off_topic", "other")


class CommentModeration(db.Model):  # type: ignore[name-defined,misc]
    """The moderation state of one free-text answer (a comment, góp ý): hidden with a
    reason, or shown again. No row means never moderated (visible). Audited by the
    session hook: every hide and unhide leaves who, when and the reason in the log."""

    __tablename__ = "comment_moderation"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("answer_id", name="uq_comment_moderation_answer_id"),
        CheckConstraint(f"reason IN ({', '.join(repr(r) for r in HIDE_REASONS)})",
                        name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"))
    hidden: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    moderated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
