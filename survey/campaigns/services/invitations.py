"""Invitations: a one-time token (the collection domain's DossierToken, answered once on
``/t/<secret>``) for every selected person without one yet. Only the token's hash is
stored, so the links exist only in the download of the call that issued them: that one
download is a ZIP holding every format with the same links — the A4 slips (8 a sheet with
cut lines), the 80 mm receipt slips, the CSV (UTF-8 with BOM, for the unit's own SMS or
Zalo sender) and a short note in Vietnamese (DOC-TOI.txt) saying what each file is and
that the links cannot be downloaded again. A person is named by the row number of the
unit's own frame file (the platform keeps no identifier in clear). Reminders
(``reminders``) give a chosen format of fresh links."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
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
# The files of the invitations' ZIP (ASCII names: every unzip tool shows them right).
A4_FILE, RECEIPT_FILE, CSV_FILE, NOTE_FILE = (
    "thu-moi-A4.pdf", "thu-moi-80mm.pdf", "thu-moi-sms-zalo.csv", "DOC-TOI.txt")


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


def _note(campaign: Campaign, invitations: list[Invitation], issued_at: dt.datetime) -> bytes:
    """DOC-TOI.txt: what each file of the ZIP is, and that it is the only copy (always
    Vietnamese, like the slips; UTF-8 with BOM and CRLF, for Notepad)."""
    zone = tokens.local_zone()
    units = len({inv.unit_code for inv in invitations})
    lines = [
        f"THƯ MỜI TRẢ LỜI KHẢO SÁT – {campaign.name}",
        f"Phát hành lúc {issued_at.astimezone(zone).strftime('%H:%M ngày %d/%m/%Y')} cho "
        f"{len(invitations)} người được chọn ({units} đơn vị). "
        f"{tokens.expiry_text(invitations[0].expires_at)}.",
        "",
        "Ba tệp dưới đây chứa CÙNG MỘT BỘ đường dẫn (mỗi người được chọn một đường dẫn, "
        "chỉ trả lời được một lần). Mỗi người chỉ cần nhận thư mời theo một cách:",
        f"- {A4_FILE}: phiếu mời in trên giấy A4, 8 phiếu mỗi trang, có đường cắt.",
        f"- {RECEIPT_FILE}: phiếu mời cho máy in hóa đơn khổ 80 mm, mỗi phiếu một trang.",
        f"- {CSV_FILE}: danh sách đường dẫn (UTF-8) để nạp vào hệ thống gửi SMS hoặc Zalo "
        "của đơn vị; cột dong_trong_khung là số dòng của người đó trong tệp khung mẫu của "
        "đơn vị, duong_dan là đường dẫn, han_dung là hạn dùng.",
        "",
        "QUAN TRỌNG: hệ thống không lưu các đường dẫn (chỉ lưu mã băm), nên KHÔNG THỂ TẢI "
        "LẠI các tệp này. Hãy lưu tệp ZIP ở nơi an toàn và chỉ chia sẻ với người phụ trách "
        "gửi thư mời. Nếu làm mất, chỉ có thể tạo thư nhắc trong thời gian khảo sát: thư "
        "nhắc mang đường dẫn mới và đường dẫn cũ hết hiệu lực.",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def as_zip(campaign: Campaign, invitations: list[Invitation], issued_at: dt.datetime) -> bytes:
    """The invitations' ZIP: both slips, the CSV and the note, with the same links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in ((NOTE_FILE, _note(campaign, invitations, issued_at)),
                           (A4_FILE, as_slips(invitations, "a4_grid")),
                           (RECEIPT_FILE, as_slips(invitations, "receipt_80mm")),
                           (CSV_FILE, as_csv(invitations))):
            archive.writestr(zipfile.ZipInfo(name, _zip_time(issued_at)), data,
                             zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = moment.astimezone(tokens.local_zone())
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


@use_case
def issue_invitations(campaign: Campaign) -> Issued:
    """Tokens for every selected person without one, as the ZIP of every format (the
    module's text); one transaction, committed once the download is built."""
    invitations = _issue(campaign)
    issued = Issued(len(invitations), as_zip(campaign, invitations, utcnow()),
                    "application/zip", "zip")
    commit_or_refuse()
    return issued
