"""Reminders: the invited persons still due (unanswered, unexpired, not refused) get the
same token under a fresh link, as the invitation CSV (BOM) or slips; each reminder is
counted on the frame row; outside fieldwork or with a bad choice nothing is written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from sqlalchemy import func, select

from survey.campaigns.services import draw
from survey.campaigns.services.invitations import CSV_FILE
from survey.common.clock import utcnow
from survey.models import Campaign, DossierToken, FrameRow
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.test_invitations import answer_every_page, bundle, drawn, issue

__all__ = ["drawn"]  # the fixture, shared with the invitation tests


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _invite_and_start(client: Any, db: Any, campaign: Campaign) -> list[dict[str, str]]:
    rows = _rows(bundle(issue(client, campaign))[CSV_FILE])
    campaign.status = "fieldwork"
    db.session.commit()
    return rows


def test_reminders_reach_only_the_unanswered(client: Any, db: Any, login: Any,
                                             drawn: Campaign) -> None:
    login("admin")
    invited = _invite_and_start(client, db, drawn)
    # one answers, one refuses, one's link has expired
    client.post("/logout")
    secret = invited[0]["duong_dan"].rsplit("/", 1)[1]
    answer_every_page(client, client.get(f"/t/{secret}").headers["Location"])
    login("admin")
    answered = db.session.scalar(select(DossierToken).where(DossierToken.used_at.isnot(None)))
    others = db.session.scalars(select(FrameRow).where(
        FrameRow.status == "selected", FrameRow.token_id != answered.id)
        .order_by(FrameRow.id)).all()
    draw.replace_refusal(drawn, others[0].id)  # its replacement has no invitation yet
    db.session.get(DossierToken, others[1].token_id).expires_at = utcnow() - dt.timedelta(days=1)
    db.session.commit()
    page = client.get(f"{BASE}/{drawn.id}").get_data(as_text=True)
    assert "Nhắc trả lời (7 người)" in page
    assert "cần nhắc: 7" in client.get(f"{BASE}/{drawn.id}/reminders").get_data(as_text=True)
    hashes = {t.id: t.token_hash for t in db.session.scalars(select(DossierToken))}

    response = client.post(f"{BASE}/{drawn.id}/reminders", data={"output": "csv"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    reminded = _rows(response.get_data())
    assert list(reminded[0]) == list(invited[0])  # the invitation CSV's columns
    assert len(reminded) == 7
    due = db.session.scalars(select(FrameRow).where(FrameRow.reminder_count == 1)).all()
    assert {str(r.row_number) for r in due} == {r["dong_trong_khung"] for r in reminded}
    assert all(r.reminded_at is not None for r in due)
    assert others[0].id not in {r.id for r in due} and others[1].id not in {r.id for r in due}
    # no new token: the same ones, a fresh secret each; the earlier links stop working
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == len(hashes)
    assert all(db.session.get(DossierToken, r.token_id).token_hash != hashes[r.token_id]
               for r in due)
    old = {r["dong_trong_khung"]: r["duong_dan"] for r in invited}
    first = reminded[0]
    assert client.get("/t/" + old[first["dong_trong_khung"]].rsplit("/", 1)[1]).status_code != 302
    assert client.get("/t/" + first["duong_dan"].rsplit("/", 1)[1]).status_code == 302
    # a second round: the same seven, counted twice, as slips (8 a page: one page)
    slips = client.post(f"{BASE}/{drawn.id}/reminders", data={"output": "a4_grid"})
    assert slips.status_code == 200 and slips.mimetype == "application/pdf"
    assert len(re.findall(rb"/Type\s*/Page\b", slips.get_data())) == 1
    assert db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.reminder_count == 2)) == 7


def test_refused_outside_fieldwork_or_with_a_bad_choice(client: Any, db: Any, login: Any,
                                                        drawn: Campaign) -> None:
    login("admin")
    bundle(issue(client, drawn))  # the campaign is still a draft
    hashes = sorted(db.session.scalars(select(DossierToken.token_hash)))
    draft = client.post(f"{BASE}/{drawn.id}/reminders", data={"output": "csv"})
    assert draft.status_code == 422 and "đang thu thập" in draft.get_data(as_text=True)
    drawn.status = "fieldwork"
    db.session.commit()
    bad = client.post(f"{BASE}/{drawn.id}/reminders", data={"output": "sms"})
    assert bad.status_code == 422
    db.session.expire_all()
    assert sorted(db.session.scalars(select(DossierToken.token_hash))) == hashes
    assert db.session.scalar(select(func.max(FrameRow.reminder_count))) == 0
    assert db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.reminded_at.isnot(None))) == 0
    # everyone has answered or expired: nothing due
    for token in db.session.scalars(select(DossierToken)):
        token.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    none = client.post(f"{BASE}/{drawn.id}/reminders", data={"output": "csv"})
    assert none.status_code == 422 and "Không còn người" in none.get_data(as_text=True)
    assert db.session.scalar(select(func.max(FrameRow.reminder_count))) == 0
