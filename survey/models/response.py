"""Anonymous responses and their answers, keyed by the questionnaire's stable item ids."""

from __future__ import annotations

import datetime as dt
import enum

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
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import _in
from survey.models.util import utcnow


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
        CheckConstraint(_in("channel", Channel), name="channel"),
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
    # The campaign table arrives with the field-survey issue, which adds the foreign key.
    campaign_id: Mapped[int | None] = mapped_column(index=True)
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


class Answer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "item_id", name="uq_answer_response_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    not_applicable: Mapped[bool] = mapped_column(default=False)

    response: Mapped[Response] = relationship(back_populates="answers")
