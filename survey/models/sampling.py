"""Systematic 1-in-k selection of a unit's completed dossiers for one-time tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import Unit
from survey.models.util import utcnow


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
