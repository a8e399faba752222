"""Invitations: one-time tokens for the drawn sample, as slips or a CSV with BOM; a token
answers once and its response carries the campaign and the selection probability."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.campaigns.services import campaigns, draw, frames
from survey.common.access import Scope
from survey.models import Campaign, DossierToken, FrameRow, Response, User
from tests.survey.campaigns.conftest import BASE

DESK_OK = {"muc_do_hai_long": "1", "tong_thoi_gian": "2", "mot_cua": "1", "gop_y": "Tốt lắm"}


@pytest.fixture
def drawn(db: Any, province: dict[str, Any], make_unit: Any) -> Campaign:
    communes = [make_unit(f"Phường {i}", parent=province["province"], kind="commune",
                          code=f"99.P{i}") for i in (1, 2)]
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    today = dt.date.today()
    campaign = campaigns.create_campaign(admin, campaigns.CampaignInput(
        name="SIPAS tỉnh 2026", owner_unit_id=province["snv"].id, questionnaire="desk_rating:1",
        unit_kind="commune", coverage="list", unit_ids=[c.id for c in communes],
        period_start=today, period_end=today + dt.timedelta(days=30), channels=["token"],
        strata_by="unit", stages="unit_person", cluster_kind=None, size_mode="total",
        target_margin_percent=None, total_sample=10, allocation="equal"))
    lines = ["so_ho_so,ma_xa,ho_ten"] + [f"HS-{c.code}-{i},{c.code},Trần Thị {i}"
                                        for c in communes for i in range(25)]
    frames.import_frame(campaign, io.BytesIO("\n".join(lines).encode()), "hoso.csv",
                        frames.Mapping("so_ho_so", "ma_xa"))
    draw.draw_sample(campaign, method="srs", seed=99, reserve=1)
    return campaign


def answer_every_page(client: Any, url: str) -> None:
    """Post the desk answers page after page (the form may span screens) to the end."""
    for _page in range(10):
        html = client.get(url).get_data(as_text=True)
        sid = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', html) or \
            re.search(r'id="submission_id" name="submission_id" type="hidden" value="([^"]+)"',
                      html)
        assert sid is not None, html[-1500:]
        posted = client.post(url, data={**DESK_OK, "submission_id": sid.group(1)})
        assert posted.status_code == 302
        url = posted.headers["Location"]
        if "/p/" not in url:
            return
    raise AssertionError("the form never ended")


def issue(client: Any, campaign: Campaign, output: str) -> Any:
    return client.post(f"{BASE}/{campaign.id}/invitations", data={"output": output})


def test_csv_with_bom_for_the_sms_sender(client: Any, db: Any, login: Any,
                                         drawn: Campaign) -> None:
    login("admin")
    page = client.get(f"{BASE}/{drawn.id}/frame").get_data(as_text=True)
    assert "Người được chọn chưa có thư mời: 10" in page
    title = page[page.index("<title>"):page.index("</title>")]
    assert "thư mời" not in title  # the invitations section is in the page, once, not its title
    assert page.count("Người được chọn chưa có thư mời") == 1
    response = issue(client, drawn, "csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 10 and {r["ma_don_vi"] for r in rows} == {"99.P1", "99.P2"}
    assert all(re.search(r"/t/[A-Za-z0-9_-]{16,}$", r["duong_dan"]) for r in rows)
    selected = db.session.scalars(select(FrameRow).where(FrameRow.status == "selected")).all()
    assert {str(r.row_number) for r in selected} == {r["dong_trong_khung"] for r in rows}
    tokens = {t.id: t for t in db.session.scalars(select(DossierToken))}
    assert len(tokens) == 10
    for row in selected:
        token = tokens[row.token_id]
        assert token.selection_probability == pytest.approx(row.selection_probability)
        assert token.unit_id == row.unit_id and token.questionnaire_key == "desk_rating"
    # the sample is fixed once invitations are out
    redraw = client.post(f"{BASE}/{drawn.id}/draw", data={"method": "srs", "reserve": "0"})
    assert redraw.status_code == 422 and "không thể chọn lại" in redraw.get_data(as_text=True)
    # nothing left to issue: refused, nothing written
    again = issue(client, drawn, "csv")
    assert again.status_code == 422 and "đã có thư mời" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 10


def test_slips_and_a_replacement_gets_its_own(client: Any, db: Any, login: Any,
                                              drawn: Campaign) -> None:
    login("admin")
    pdf = issue(client, drawn, "a4_grid")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.get_data())) == 2  # 10 slips, 8 a page
    refused = db.session.scalar(select(FrameRow).where(FrameRow.status == "selected").limit(1))
    assert draw.replace_refusal(drawn, refused.id) is not None
    receipt = issue(client, drawn, "receipt_80mm")
    assert len(re.findall(rb"/Type\s*/Page\b", receipt.get_data())) == 1
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 11


def test_a_token_answers_once_with_the_campaign(client: Any, db: Any, login: Any,
                                                drawn: Campaign) -> None:
    login("admin")
    rows = list(csv.DictReader(io.StringIO(
        issue(client, drawn, "csv").get_data().decode("utf-8-sig"))))
    client.post("/logout")
    secret = rows[0]["duong_dan"].rsplit("/", 1)[1]
    start = client.get(f"/t/{secret}")
    assert start.status_code == 302
    answer_every_page(client, start.headers["Location"])
    response = db.session.scalar(select(Response))
    row = db.session.scalar(select(FrameRow).where(FrameRow.token_id == response.token_id))
    assert response.campaign_id == drawn.id and response.channel == "token"
    assert response.selection_probability == pytest.approx(row.selection_probability)
    again = client.get(f"/t/{secret}")
    assert "đã được trả lời" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_closed_or_undrawn_campaigns_issue_nothing(client: Any, db: Any, login: Any,
                                                   drawn: Campaign) -> None:
    login("admin")
    drawn.status = "closed"
    db.session.commit()
    refused = issue(client, drawn, "csv")
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 0


def test_sample_page_records_a_refusal(client: Any, db: Any, login: Any,
                                       drawn: Campaign) -> None:
    login("admin")
    issue(client, drawn, "csv")
    page = client.get(f"{BASE}/{drawn.id}/sample")
    assert page.status_code == 200 and page.get_data(as_text=True).count("Dự phòng") >= 2
    person = db.session.scalar(select(FrameRow).where(FrameRow.status == "selected").limit(1))
    reserve = db.session.scalar(select(FrameRow).where(
        FrameRow.unit_id == person.unit_id, FrameRow.reserve_rank == 1))
    done = client.post(f"{BASE}/{drawn.id}/sample/{person.id}/refused")
    assert done.status_code == 302
    db.session.expire_all()
    assert person.status == "refused" and reserve.status == "selected"
    token = db.session.get(DossierToken, person.token_id)
    assert token.expires_at is not None and client.get(
        "/t/not-a-secret").status_code == 404
    # the stratum has no reserve left: the next refusal is recorded without a replacement
    other = db.session.scalar(select(FrameRow).where(
        FrameRow.unit_id == person.unit_id, FrameRow.status == "selected",
        FrameRow.id != reserve.id).limit(1))
    client.post(f"{BASE}/{drawn.id}/sample/{other.id}/refused")
    db.session.expire_all()
    assert other.status == "refused"
    assert db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.unit_id == person.unit_id, FrameRow.status == "selected")) == 4
    # a reserve cannot be marked as a refusal
    client.post(f"{BASE}/{drawn.id}/sample/{other.id}/refused")
    db.session.expire_all()
    assert other.status == "refused"
