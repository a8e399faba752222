"""Invitations: a one-time token (the collection domain's DossierToken, answered once on
``/t/<secret>``) for every selected person without one yet, printed as slips with QR codes
(A4 grid or 80 mm receipts) or listed in a CSV (UTF-8 with BOM, for the unit's own SMS or
Zalo sender). Only the token's hash is stored, so the links exist only in the download of
the call that issued them. A person is named by the row number of the unit's own frame
file (the platform keeps no identifier in clear)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services.campaigns import has_draw
from survey.collection.models import DossierToken
from survey.collection.services import links, tokens
from survey.common.clock import utcnow
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit
from survey.render import Slip, slips_pdf

FORMATS = ("a4_grid", "receipt_80mm", "csv")
CSV_HEADER = ["dong_trong_khung", "ma_don_vi", "don_vi", "duong_dan", "han_dung"]


@dataclass(frozen=True)
class Invitation:
    row_number: int
    unit_code: str
    unit_name: str
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Issued:
    count: int
    data: bytes
    mimetype: str
    extension: str


def expiry(campaign: Campaign) -> dt.datetime:
    """The end of the campaign's last day, in the platform's time zone."""
    end = dt.datetime.combine(campaign.period_end, dt.time(23, 59, 59), tokens.local_zone())
    return end.astimezone(dt.UTC)


def pending(campaign: Campaign) -> int:
    """Selected persons without an invitation yet."""
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    return int(db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.frame_id.in_(frame_id), FrameRow.status == "selected",
        FrameRow.token_id.is_(None))) or 0)


def _issue(campaign: Campaign) -> list[Invitation]:
    if campaign.status == "closed" or not has_draw(campaign):
        raise ServiceError(_("Invitations go to a drawn sample of a campaign not closed."))
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    rows = db.session.execute(select(FrameRow, Unit.code, Unit.name).join(
        Unit, Unit.id == FrameRow.unit_id).where(
        FrameRow.frame_id.in_(frame_id), FrameRow.status == "selected",
        FrameRow.token_id.is_(None)).order_by(Unit.name, FrameRow.row_number)).all()
    if not rows:
        raise ServiceError(_("Every selected person already has an invitation."))
    now, expires = utcnow(), expiry(campaign)
    if expires <= now:
        raise ServiceError(_("The campaign's period is over: invitations would expire at once."))
    out = []
    for row, code, name in rows:
        secret = links.new_secret()
        token = DossierToken(
            unit_id=row.unit_id, questionnaire_key=campaign.questionnaire_key,
            token_hash=links.hash_secret(secret), dossier_hash=row.ident_hash,
            procedure_field=campaign.name[:255], channel="campaign", issued_at=now,
            expires_at=expires, selected=True,
            selection_probability=row.selection_probability or 1.0)
        db.session.add(token)
        db.session.flush()
        row.token_id = token.id
        out.append(Invitation(row.row_number, code or "", name, links.token_url(secret), expires))
    return out


def as_csv(invitations: list[Invitation]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for inv in invitations:
        writer.writerow([inv.row_number, inv.unit_code, inv.unit_name, inv.url,
                         tokens.expiry_text(inv.expires_at).removeprefix("Hạn dùng đến ")])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM: spreadsheets read UTF-8 right


def as_slips(invitations: list[Invitation], layout: str) -> bytes:
    return slips_pdf([Slip(inv.unit_name, inv.url,
                           f"Dòng {inv.row_number} · {tokens.expiry_text(inv.expires_at)}")
                      for inv in invitations], layout=layout)  # type: ignore[arg-type]


@use_case
def issue_invitations(campaign: Campaign, output: str) -> Issued:
    """Tokens for every selected person without one, as slips or a CSV; one transaction,
    committed once the download is built."""
    if output not in FORMATS:
        raise ServiceError(_("Choose slips or a CSV file."), "output")
    invitations = _issue(campaign)
    if output == "csv":
        issued = Issued(len(invitations), as_csv(invitations), "text/csv; charset=utf-8", "csv")
    else:
        issued = Issued(len(invitations), as_slips(invitations, output), "application/pdf",
                        "pdf")
    commit_or_refuse()
    return issued
