"""Results models: the transaction counts units report (what open-channel responses are
weighted to), and frozen result snapshots with their rows (never edited once stored)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from survey.common.clock import utcnow
from survey.extensions import db


class TransactionCount(db.Model):  # type: ignore[name-defined,misc]
    """How many transactions (completed dossiers, patients, pupils) a service point
    served in one calendar month, as its unit reports it (CSV upload or API). Open desk QR
    and kiosk responses are weighted to these counts."""

    __tablename__ = "transaction_count"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("service_point_id", "month", name="uq_transaction_count_point_month"),
        CheckConstraint("count >= 0", name="count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="csv")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResultSnapshot(db.Model):  # type: ignore[name-defined,misc]
    """One computation of every index for a period and a scope, frozen: its parameters,
    the design of each channel, the questionnaire versions, the code version and a hash
    of the input rows. Dashboards, exports and the API read snapshots only."""

    __tablename__ = "result_snapshot"
    __audited__ = True
    __audit_exclude__ = ("designs", "progress")
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)  # inclusive
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    designs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    questionnaire_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    code_version: Mapped[str] = mapped_column(String(80), default="")
    input_hash: Mapped[str] = mapped_column(String(64), default="")
    n_responses: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Written every few seconds by the process computing the snapshot: a "running"
    # snapshot whose heartbeat stopped was interrupted (a restart) and is taken up again.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ResultRow(db.Model):  # type: ignore[name-defined,misc]
    """One estimate of a snapshot: a node of a questionnaire's index tree for a domain
    (a unit's subtree, or a sector) from one channel basis."""

    __tablename__ = "result_row"
    __table_args__ = (
        Index("ix_result_row_snapshot_unit", "snapshot_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("result_snapshot.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(16))  # 'unit' (its subtree) or 'sector'
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(String(255))
    sector: Mapped[str | None] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(32))  # 'tokens' | 'open' | 'campaign:<id>'
    probability: Mapped[bool] = mapped_column(default=False)
    questionnaire: Mapped[str] = mapped_column(String(80))  # key v<version>
    node: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(32))
    estimate: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer, default=0)
    n_eff: Mapped[float | None] = mapped_column(Float)
    deff: Mapped[float | None] = mapped_column(Float)
    df: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))
    publication: Mapped[str] = mapped_column(String(16), default="present")
    flags: Mapped[str] = mapped_column(String(255), default="")
