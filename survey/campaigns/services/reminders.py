"""Reminders: for a campaign in fieldwork, the selected persons whose invitation is still
unanswered, unexpired and not refused, as the same CSV (UTF-8 with BOM) or slips the
invitations give. The platform keeps only a token's hash, so the link first sent cannot
be printed again: a reminder gives the person's same token (no new token, same expiry and
selection probability) a fresh secret, and the earlier link stops working. Each frame row
counts its reminders and keeps the time of the last one."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services.invitations import (
    FORMATS,
    Invitation,
    Issued,
    as_csv,
    as_slips,
)
from survey.collection.models import DossierToken
from survey.collection.services import links
from survey.common.clock import utcnow
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit


def _due_clause(campaign: Campaign) -> list:  # type: ignore[type-arg]
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    return [FrameRow.frame_id.in_(frame_id), FrameRow.status == "selected",
            DossierToken.used_at.is_(None), DossierToken.expires_at > utcnow()]


def _due(campaign: Campaign) -> Select[tuple[FrameRow, DossierToken, str | None, str]]:
    return (select(FrameRow, DossierToken, Unit.code, Unit.name)
            .join(DossierToken, DossierToken.id == FrameRow.token_id)
            .join(Unit, Unit.id == FrameRow.unit_id)
            .where(*_due_clause(campaign)).order_by(Unit.name, FrameRow.row_number))


def due(campaign: Campaign) -> int:
    """Invited persons a reminder would go to now (0 outside fieldwork)."""
    if campaign.status != "fieldwork":
        return 0
    return int(db.session.scalar(
        select(func.count()).select_from(FrameRow)
        .join(DossierToken, DossierToken.id == FrameRow.token_id)
        .where(*_due_clause(campaign))) or 0)


@use_case
def produce_reminders(campaign: Campaign, output: str) -> Issued:
    """Reminders for every invited person still due, as slips or a CSV; one transaction,
    committed once the download is built."""
    if output not in FORMATS:
        raise ServiceError(_("Choose slips or a CSV file."), "output")
    if campaign.status != "fieldwork":
        raise ServiceError(_("Reminders go out only while the campaign is in fieldwork."))
    rows = db.session.execute(_due(campaign)).all()
    if not rows:
        raise ServiceError(_("No invited person is waiting for a reminder."))
    now = utcnow()
    out = []
    for row, token, code, name in rows:
        secret = links.new_secret()
        token.token_hash = links.hash_secret(secret)
        row.reminder_count = (row.reminder_count or 0) + 1
        row.reminded_at = now
        assert token.expires_at is not None  # the due clause asks for it
        out.append(Invitation(row.row_number, code or "", name, links.token_url(secret),
                              token.expires_at))
    if output == "csv":
        issued = Issued(len(out), as_csv(out), "text/csv; charset=utf-8", "csv")
    else:
        issued = Issued(len(out), as_slips(out, output), "application/pdf", "pdf")
    commit_or_refuse()
    return issued
