"""Survey campaigns (đợt khảo sát) a department runs over its units: the design, the units
covered, the sampling frame (hashed identifiers only), the seeded draw and the selected
persons with their selection probabilities and invitation tokens."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.common.clock import utcnow
from survey.extensions import db, in_values
from survey.org.models import Unit


class CampaignStatus(enum.StrEnum):
    draft = "draft"
    fieldwork = "fieldwork"
    closed = "closed"


class Campaign(db.Model):  # type: ignore[name-defined,misc]
    """One survey campaign. ``owner_unit`` is the department that runs it (Sở Y tế,
    Sở GD&ĐT, Sở Nội vụ); its place in the tree decides who sees the campaign, and
    ``sector`` (the owner's) which units it may cover.

    Design: ``strata_by`` is ``unit`` (each unit its own stratum) or a unit attribute
    whose value each covered unit carries in :attr:`CampaignUnit.stratum`; ``stages`` is
    ``unit_person`` or ``unit_cluster_person`` (ward-days, classes); the size is a
    ``target_margin`` per unit or a ``total_sample`` allocated with ``allocation``."""

    __tablename__ = "campaign"
    __audited__ = True
    __table_args__ = (
        CheckConstraint(in_values("status", CampaignStatus), name="status"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("size_mode IN ('margin', 'total')", name="size_mode"),
        CheckConstraint("allocation IN ('proportional', 'neyman', 'equal', 'power')",
                        name="allocation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    sector: Mapped[str] = mapped_column(String(20))
    questionnaire_key: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int]
    unit_kind: Mapped[str] = mapped_column(String(20))
    coverage: Mapped[str] = mapped_column(String(10), default="all")
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    channels: Mapped[str] = mapped_column(String(64), default="token")
    strata_by: Mapped[str] = mapped_column(String(20), default="unit")
    stages: Mapped[str] = mapped_column(String(24), default="unit_person")
    cluster_kind: Mapped[str | None] = mapped_column(String(20))
    size_mode: Mapped[str] = mapped_column(String(10), default="margin")
    target_margin: Mapped[float | None] = mapped_column(Float)
    total_sample: Mapped[int | None]
    allocation: Mapped[str] = mapped_column(String(16), default="proportional")
    # Planning assumptions of the design page.
    assumed_p: Mapped[float] = mapped_column(Float, default=0.5)
    deff: Mapped[float] = mapped_column(Float, default=1.0)
    response_rate: Mapped[float] = mapped_column(Float, default=0.8)
    # Two-stage designs (unit → cluster → person): the planned take per cluster, the assumed
    # intra-cluster correlation and, before a frame gives them, the mean cluster size.
    planned_take: Mapped[int | None] = mapped_column(Integer)
    planned_icc: Mapped[float] = mapped_column(Float, default=0.05, server_default="0.05")
    planned_cluster_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.draft.value)
    # Paper and interviewer entry: two clerks key each slip blind; only a match (or a
    # supervisor's reconciliation) becomes a response.
    double_entry: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set when the campaign is closed: the weighting report (weight distribution, design
    # effect from weighting, cells collapsed, trimming, respondents per stratum) and the
    # frozen snapshot of its results.
    weighting_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("result_snapshot.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner_unit: Mapped[Unit] = relationship()
    units: Mapped[list[CampaignUnit]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignUnit.id")

    @property
    def channel_list(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]


class CampaignUnit(db.Model):  # type: ignore[name-defined,misc]
    """A unit covered by a campaign, with its stratum value (e.g. hospital level) and the
    population the design page assumes before a frame is imported."""

    __tablename__ = "campaign_unit"
    __audited__ = True
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", name="uq_campaign_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    stratum: Mapped[str | None] = mapped_column(String(64))
    expected_population: Mapped[int | None]

    campaign: Mapped[Campaign] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class SamplingFrame(db.Model):  # type: ignore[name-defined,misc]
    """The imported list of the campaign (one per campaign, replaced until the draw).
    ``file_hash`` is the SHA-256 of the file as uploaded; the column names say how it
    was read."""

    __tablename__ = "sampling_frame"
    __audited__ = True
    __table_args__ = (UniqueConstraint("campaign_id", name="uq_sampling_frame_campaign"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    file_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int]
    id_column: Mapped[str] = mapped_column(String(255))
    unit_column: Mapped[str] = mapped_column(String(255))
    stratum_column: Mapped[str | None] = mapped_column(String(255))
    cluster_column: Mapped[str | None] = mapped_column(String(255))
    size_column: Mapped[str | None] = mapped_column(String(255))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FrameRow(db.Model):  # type: ignore[name-defined,misc]
    """One person (or cluster) of the frame. The identifier is kept only as an HMAC with
    the application secret; no name or phone number is ever stored. ``status`` is
    ``frame``, ``selected`` or ``reserve`` (replacements for refusals, used in
    ``reserve_rank`` order within the stratum)."""

    __tablename__ = "frame_row"
    __table_args__ = (
        UniqueConstraint("frame_id", "ident_hash", name="uq_frame_row_ident"),
        CheckConstraint("status IN ('frame', 'selected', 'reserve', 'refused')", name="status"),
        Index("ix_frame_row_frame_unit", "frame_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("sampling_frame.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    ident_hash: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str | None] = mapped_column(String(128))
    cluster: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="frame")
    reserve_rank: Mapped[int | None]
    selection_probability: Mapped[float | None] = mapped_column(Float)
    # A two-stage draw (unit → cluster → person): the inclusion probability of the row's
    # cluster in its stratum and of the row in its cluster (their product is
    # ``selection_probability``), and the population of each stage (clusters in the
    # stratum, rows in the cluster).
    stage1_probability: Mapped[float | None] = mapped_column(Float)
    stage2_probability: Mapped[float | None] = mapped_column(Float)
    stage1_population: Mapped[int | None]
    stage2_population: Mapped[int | None]
    token_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_token.id"))
    # Reminders produced for this person (the last one's time), see services/reminders.py.
    reminder_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignDraw(db.Model):  # type: ignore[name-defined,misc]
    """The draw of a campaign's sample: method, seed and the frame's hash, so that the
    same seed on the same frame gives the same sample."""

    __tablename__ = "campaign_draw"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("campaign_id", name="uq_campaign_draw_campaign"),
        CheckConstraint("method IN ('srs', 'systematic', 'pps')", name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    frame_id: Mapped[int] = mapped_column(ForeignKey("sampling_frame.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(12))
    seed: Mapped[int] = mapped_column(BigInteger)
    frame_hash: Mapped[str] = mapped_column(String(64))
    reserve_per_stratum: Mapped[int] = mapped_column(default=0)
    selected: Mapped[int] = mapped_column(default=0)
    reserves: Mapped[int] = mapped_column(default=0)
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignEntry(db.Model):  # type: ignore[name-defined,misc]
    """One keying of a paper form or an interview by a clerk: who entered what and when.
    ``answers`` holds the raw answers as JSON until they become a response (whose
    ``client_submission_id`` is ``response_submission_id``). ``status``: ``submitted``
    (single entry, a response), ``pending`` (first of a double entry), ``matched`` (the
    second agreed: a response), ``discrepancy`` (the two differ: a supervisor decides),
    ``reconciled`` (decided: a response)."""

    __tablename__ = "campaign_entry"
    __audited__ = True
    # The answers are a respondent's: the audit says who entered which slip, not what.
    __audit_exclude__ = ("answers",)
    __table_args__ = (
        UniqueConstraint("client_submission_id", name="uq_campaign_entry_client_submission_id"),
        CheckConstraint("channel IN ('field', 'paper')", name="channel"),
        CheckConstraint(
            "status IN ('submitted', 'pending', 'matched', 'discrepancy', 'reconciled')",
            name="status"),
        Index("ix_campaign_entry_campaign_user", "campaign_id", "entered_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    frame_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("frame_row.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    channel: Mapped[str] = mapped_column(String(8))
    client_submission_id: Mapped[str] = mapped_column(String(64))
    answers: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    response_submission_id: Mapped[str | None] = mapped_column(String(64))
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reconciled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    reconciled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignWeight(db.Model):  # type: ignore[name-defined,misc]
    """The weight of one response of a closed campaign and the design it brings to the
    results engine: ``base`` = 1/selection probability, ``adjusted`` = after the
    nonresponse adjustment within ``cell`` (the stratum, or strata collapsed together),
    ``final`` = after raking and trimming; ``stratum``, ``psu`` and ``fpc`` (frame count of
    the stratum, none for cluster samples) are the design columns."""

    __tablename__ = "campaign_weight"
    __table_args__ = (UniqueConstraint("response_id", name="uq_campaign_weight_response"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    frame_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("frame_row.id", ondelete="SET NULL"))
    stratum: Mapped[str] = mapped_column(String(160))
    cell: Mapped[str] = mapped_column(String(160))
    psu: Mapped[str] = mapped_column(String(160))
    fpc: Mapped[int | None] = mapped_column(Integer)
    # Two-stage samples: psu = the cluster, psu2 = the person, fpc = clusters in the
    # stratum, fpc2 = persons in the cluster (none for one-stage samples).
    psu2: Mapped[str | None] = mapped_column(String(160))
    fpc2: Mapped[int | None] = mapped_column(Integer)
    base: Mapped[float] = mapped_column(Float)
    adjusted: Mapped[float] = mapped_column(Float)
    final: Mapped[float] = mapped_column(Float)


class CampaignWeighting(db.Model):  # type: ignore[name-defined,misc]
    """One run of a closed campaign's weighting: run 1 is the close, each re-weighting by a
    manager (other raking margins, another trimming bound) adds the next. Kept per run: who
    and when, the options (``{"margins": {item: {value: total}}, "trim": float | None}``),
    the weighting report and the snapshot frozen from those weights (older snapshots stay
    readable; the campaign points at the newest run's)."""

    __tablename__ = "campaign_weighting"
    __audited__ = True
    __table_args__ = (UniqueConstraint("campaign_id", "run", name="uq_campaign_weighting_run"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("result_snapshot.id", ondelete="SET NULL"))
    weighted_by: Mapped[str] = mapped_column(String(64), default="")
    weighted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
