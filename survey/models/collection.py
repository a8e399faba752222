"""Collection channels: per-point QR links, one-time dossier tokens, API keys, and the
daily salt that replaces raw IP addresses by unlinkable hashes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import ServicePoint, Unit
from survey.models.util import utcnow


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


class DailySalt(db.Model):  # type: ignore[name-defined,misc]
    """A random salt per day: hashes of IPs and devices can be compared within a day (to
    spot bursts) but not linked across days, and old salts are deleted."""

    __tablename__ = "daily_salt"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
