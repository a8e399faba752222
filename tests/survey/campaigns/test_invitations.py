"""Invitations: one-time tokens for the drawn sample, issued once as a ZIP holding the A4
and 80 mm slips, the CSV with BOM and a note, all with the same links (the QR codes of the
slips are read back from the rendered pages); issuing again is refused; a token answers
once and its response carries the campaign and the selection probability."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from survey.campaigns.services import campaigns, draw, frames
from survey.campaigns.services.invitations import A4_FILE, CSV_FILE, NOTE_FILE, RECEIPT_FILE
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


def issue(client: Any, campaign: Campaign) -> Any:
    return client.post(f"{BASE}/{campaign.id}/invitations", data={})


def bundle(response: Any) -> dict[str, bytes]:
    """The files of the invitations' ZIP."""
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(files: dict[str, bytes]) -> list[dict[str, str]]:
    body = files[CSV_FILE]
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets read UTF-8 right
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def qr_links(pdf: bytes, tmp_path: Path) -> list[str]:
    """The links of the QR codes on the rendered pages (poppler, then zxing-cpp)."""
    folder = tmp_path / f"pdf{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(folder / "doc.pdf"),
                    str(folder / "page")], check=True, capture_output=True)
    return [b.text for png in sorted(folder.glob("page-*.png"))
            for b in zxingcpp.read_barcodes(Image.open(png).convert("L"))
            if b.format == zxingcpp.BarcodeFormat.QRCode]


def test_one_zip_with_every_format_and_the_same_links(client: Any, db: Any, login: Any,
                                                      drawn: Campaign, tmp_path: Path) -> None:
    login("admin")
    page = client.get(f"{BASE}/{drawn.id}/frame").get_data(as_text=True)
    assert "Người được chọn chưa có thư mời: 10" in page
    title = page[page.index("<title>"):page.index("</title>")]
    assert "thư mời" not in title  # the invitations section is in the page, once, not its title
    assert page.count("Người được chọn chưa có thư mời") == 1
    assert "Lần tải về này là bản duy nhất của các đường dẫn" in page
    assert "Phát hành thư mời và tải tệp ZIP" in page and 'name="output"' not in page
    response = issue(client, drawn)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'filename="thu-moi-' in response.headers["Content-Disposition"]
    files = bundle(response)
    assert sorted(files) == sorted([A4_FILE, RECEIPT_FILE, CSV_FILE, NOTE_FILE])
    rows = csv_rows(files)
    assert len(rows) == 10 and {r["ma_don_vi"] for r in rows} == {"99.P1", "99.P2"}
    links = sorted(r["duong_dan"] for r in rows)
    assert len(set(links)) == 10
    assert all(re.search(r"/t/[A-Za-z0-9_-]{16,}$", link) for link in links)
    # the slips carry the very same links, in their QR codes
    assert pages(files[A4_FILE]) == 2 and pages(files[RECEIPT_FILE]) == 10  # 8 a sheet; 1 each
    assert sorted(qr_links(files[A4_FILE], tmp_path)) == links
    assert sorted(qr_links(files[RECEIPT_FILE], tmp_path)) == links
    note = files[NOTE_FILE].decode("utf-8-sig")
    for name in (A4_FILE, RECEIPT_FILE, CSV_FILE):
        assert name in note
    assert "KHÔNG THỂ TẢI LẠI" in note and "10 người được chọn" in note
    assert "SIPAS tỉnh 2026" in note and "\r\n" in note
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
    # issuing again is refused (the links cannot be given twice), nothing written
    again = issue(client, drawn)
    assert again.status_code == 422 and "đã có thư mời" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 10
    assert db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.status == "selected", FrameRow.token_id.is_(None))) == 0


def test_a_replacement_gets_its_own(client: Any, db: Any, login: Any,
                                    drawn: Campaign) -> None:
    login("admin")
    bundle(issue(client, drawn))
    refused = db.session.scalar(select(FrameRow).where(FrameRow.status == "selected").limit(1))
    assert draw.replace_refusal(drawn, refused.id) is not None
    files = bundle(issue(client, drawn))  # the replacement alone
    assert pages(files[A4_FILE]) == 1 and pages(files[RECEIPT_FILE]) == 1
    assert len(csv_rows(files)) == 1
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 11


def test_a_token_answers_once_with_the_campaign(client: Any, db: Any, login: Any,
                                                drawn: Campaign) -> None:
    login("admin")
    rows = csv_rows(bundle(issue(client, drawn)))
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
    refused = issue(client, drawn)
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 0


def test_sample_page_records_a_refusal(client: Any, db: Any, login: Any,
                                       drawn: Campaign) -> None:
    login("admin")
    bundle(issue(client, drawn))
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
