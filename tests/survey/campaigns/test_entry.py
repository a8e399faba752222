"""Paper and interviewer entry: through the citizen pages' submission service with channel
paper or field and the campaign, linked to the sampled person (a slip answers once), who
entered what recorded and audited; bad input refused in Vietnamese with nothing written;
double entry with the supervisor's discrepancy screen; the clerk's scope."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from sqlalchemy import func, select

from survey.campaigns.services import entry, invitations
from survey.models import (
    Answer,
    AuditLog,
    Campaign,
    CampaignEntry,
    DossierToken,
    FrameRow,
    Response,
)
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import (
    GOOD,
    fieldwork,  # noqa: F401 (fixture)
    form_url,
    post_form,
    scope_of,
    selected_rows,
    user_id,
)


def count(db: Any, model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def written(db: Any) -> tuple[int, int, int, int]:
    return (count(db, Response), count(db, Answer), count(db, CampaignEntry),
            int(db.session.scalar(select(func.count()).select_from(DossierToken).where(
                DossierToken.used_at.is_not(None)))))


def test_clerk_home_is_data_entry(client: Any, db: Any, login: Any,
                                  fieldwork: Campaign) -> None:  # noqa: F811
    signed_in = login("nhaplieu")  # a clerk lands on data entry
    assert signed_in.headers["Location"].endswith(f"{BASE}/entry/")
    client.post("/logout")
    assert login("soyte").headers["Location"].endswith("/staff/")  # a manager does not
    client.post("/logout")
    login("nhaplieu")
    page = client.get(f"{BASE}/entry/").get_data(as_text=True)
    assert "Người bệnh nội trú 2026" in page and ">24<" in page  # 24 selected to answer
    form = client.get(form_url(fieldwork)).get_data(as_text=True)
    # the first field has the focus; every item one field with its code and keys
    assert form.index('autofocus') < form.index('name="a1"')
    assert ">A1<" in form and "<kbd>5</kbd>" in form and 'inputmode="numeric"' in form


def test_paper_form_by_row_number(client: Any, db: Any, login: Any,
                                  fieldwork: Campaign) -> None:  # noqa: F811
    login("nhaplieu")
    row = selected_rows(db, fieldwork)[0]
    done = post_form(client, fieldwork, row.row_number, GOOD)
    assert done.status_code == 302
    response = db.session.scalar(select(Response))
    db.session.refresh(row)
    assert response.channel == "paper" and response.campaign_id == fieldwork.id
    assert response.unit_id == row.unit_id and response.token_id == row.token_id
    assert response.selection_probability == row.selection_probability
    assert {a.item_id: a.value_num for a in response.answers}["a1"] == 4
    token = db.session.get(DossierToken, row.token_id)
    assert token.used_at is not None and token.token_hash is None  # no link was issued
    saved = db.session.scalar(select(CampaignEntry))
    assert saved.entered_by_id == user_id(db, "nhaplieu") and saved.status == "submitted"
    assert saved.response_submission_id == response.client_submission_id
    assert saved.frame_row_id == row.id and json.loads(saved.answers)["a1"] == 4
    audit = db.session.scalar(select(AuditLog).where(AuditLog.entity == "campaign_entry"))
    assert audit is not None and audit.action == "create"
    # the same slip again: refused in Vietnamese, nothing more written
    before = written(db)
    again = post_form(client, fieldwork, row.row_number, GOOD)
    assert again.status_code == 422
    assert "Phiếu này đã được trả lời" in again.get_data(as_text=True)
    assert written(db) == before


def test_the_same_form_sent_twice_is_one_entry(client: Any, db: Any, login: Any,
                                                 fieldwork: Campaign) -> None:  # noqa: F811
    login("nhaplieu")
    row = selected_rows(db, fieldwork)[1]
    data = {"slip": str(row.row_number), "channel": "field", "unit_id": "0",
            "submission_id": "giong-nhau-123456", **GOOD}
    assert client.post(form_url(fieldwork), data=data).status_code == 302
    assert client.post(form_url(fieldwork), data=data).status_code == 302
    assert written(db) == (1, 8, 1, 1)
    assert db.session.scalar(select(Response.channel)) == "field"


def test_bad_input_is_refused_and_writes_nothing(client: Any, db: Any, login: Any,
                                                 fieldwork: Campaign) -> None:  # noqa: F811
    login("nhaplieu")
    rows = selected_rows(db, fieldwork)
    reserve = db.session.scalar(select(FrameRow).where(FrameRow.status == "reserve").limit(1))
    cases = [
        (rows[0].row_number, {**GOOD, "a1": "7"}, "a1-error"),  # not an option
        (rows[0].row_number, {**GOOD, "so_ngay_nam_vien": "400"}, "so_ngay_nam_vien-error"),
        (rows[0].row_number, {}, "Vui lòng trả lời ít nhất một câu hỏi"),
        (999999, GOOD, "Không có người nào trong mẫu"),
        ("khong-phai-ma-phieu", GOOD, "Không có người nào trong mẫu"),
        (reserve.row_number, GOOD, "không được chọn"),
        ("", GOOD, "Chọn đơn vị của phiếu"),  # no slip: the unit must be chosen
    ]
    for slip, answers, message in cases:
        refused = post_form(client, fieldwork, slip, answers)
        assert refused.status_code == 422, (slip, answers)
        assert message in refused.get_data(as_text=True), (slip, message)
    out_of_range = post_form(client, fieldwork, rows[0].row_number,
                             {**GOOD, "so_ngay_nam_vien": "400"}).get_data(as_text=True)
    assert "365" in out_of_range and 'value="400"' in out_of_range  # kept to correct it
    wrong_channel = post_form(client, fieldwork, rows[0].row_number, GOOD, channel="token")
    assert wrong_channel.status_code == 422
    assert written(db) == (0, 0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(DossierToken)) == 0


def test_an_invitation_slip_by_its_code(client: Any, db: Any, login: Any,
                                        fieldwork: Campaign) -> None:  # noqa: F811
    issued = invitations.issue_invitations(fieldwork)
    with zipfile.ZipFile(io.BytesIO(issued.data)) as archive:
        body = archive.read(invitations.CSV_FILE)
    first = next(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    login("nhaplieu")
    # a scanner types the whole link of the QR code
    assert post_form(client, fieldwork, first["duong_dan"], GOOD).status_code == 302
    response = db.session.scalar(select(Response))
    row = db.session.scalar(select(FrameRow).where(FrameRow.token_id == response.token_id))
    assert str(row.row_number) == first["dong_trong_khung"]
    client.post("/logout")
    citizen = client.get("/t/" + first["duong_dan"].rsplit("/", 1)[1])
    assert "đã được trả lời" in citizen.get_data(as_text=True)


def test_interview_without_slip_names_the_unit(client: Any, db: Any, login: Any,
                                               fieldwork: Campaign,  # noqa: F811
                                               province: dict[str, Any]) -> None:
    login("nhaplieu")
    hospital = province["hospitals"][1]
    assert post_form(client, fieldwork, "", GOOD, channel="field",
                     unit_id=hospital.id).status_code == 302
    response = db.session.scalar(select(Response))
    assert response.token_id is None and response.campaign_id == fieldwork.id
    assert response.unit_id == hospital.id and response.channel == "field"


def test_double_entry_and_the_discrepancy_screen(client: Any, db: Any, login: Any,
                                                 fieldwork: Campaign) -> None:  # noqa: F811
    login("soyte")
    on = client.post(f"{BASE}/{fieldwork.id}/double-entry", data={"enabled": "1"})
    assert on.status_code == 302 and db.session.get(Campaign, fieldwork.id).double_entry
    client.post("/logout")
    same, differ = selected_rows(db, fieldwork)[:2]
    login("nhaplieu")
    assert post_form(client, fieldwork, same.row_number, GOOD).status_code == 302
    assert count(db, Response) == 0  # one entry does not count
    twice = post_form(client, fieldwork, same.row_number, GOOD)
    assert twice.status_code == 422 and "một người nhập khác" in twice.get_data(as_text=True)
    assert post_form(client, fieldwork, differ.row_number, GOOD).status_code == 302
    no_slip = post_form(client, fieldwork, "", GOOD, unit_id=same.unit_id)
    assert no_slip.status_code == 422 and "số phiếu" in no_slip.get_data(as_text=True)
    client.post("/logout")
    login("nhaplieu2")
    assert post_form(client, fieldwork, same.row_number, GOOD).status_code == 302
    assert count(db, Response) == 1  # the second entry matched
    assert post_form(client, fieldwork, differ.row_number,
                     {**GOOD, "a1": "2", "b1": ""}).status_code == 302
    assert count(db, Response) == 1  # differs: awaits the supervisor
    third = post_form(client, fieldwork, differ.row_number, GOOD)
    assert third.status_code == 422 and count(db, CampaignEntry) == 4
    client.post("/logout")
    login("soyte")
    listing = client.get(f"{BASE}/{fieldwork.id}/discrepancies").get_data(as_text=True)
    assert f">{differ.row_number}<" in listing
    url = f"{BASE}/{fieldwork.id}/discrepancies/{differ.id}"
    screen = client.get(url).get_data(as_text=True)
    assert 'name="pick-a1"' in screen and 'name="pick-b1"' in screen
    assert 'name="pick-a2"' not in screen  # only the items that differ
    assert "Cán bộ nhaplieu" in screen and "Cán bộ nhaplieu2" in screen
    missing = client.post(url, data={"pick-a1": "2"})
    assert missing.status_code == 422 and count(db, Response) == 1
    done = client.post(url, data={"pick-a1": "2", "pick-b1": "1"})
    assert done.status_code == 302 and count(db, Response) == 2
    reconciled = db.session.scalar(select(Response).order_by(Response.id.desc()).limit(1))
    values = {a.item_id: a.value_num for a in reconciled.answers}
    assert values["a1"] == 2 and values["b1"] == 5
    assert reconciled.token_id == db.session.get(FrameRow, differ.id).token_id
    statuses = set(db.session.scalars(select(CampaignEntry.status).where(
        CampaignEntry.frame_row_id == differ.id)))
    assert statuses == {"reconciled"}
    # settings cannot change once forms are entered
    off = client.post(f"{BASE}/{fieldwork.id}/double-entry", data={"enabled": "0"})
    assert off.status_code == 302 and db.session.get(Campaign, fieldwork.id).double_entry


def test_scope_an_education_user_sees_no_health_campaign(client: Any, db: Any, login: Any,
                                                         fieldwork: Campaign  # noqa: F811
                                                         ) -> None:
    assert entry.list_for_clerk(scope_of(db, "nhaplieu_gd")) == []
    login("nhaplieu_gd")
    assert "Người bệnh nội trú" not in client.get(f"{BASE}/entry/").get_data(as_text=True)
    assert client.get(form_url(fieldwork)).status_code == 404
    row = selected_rows(db, fieldwork)[0]
    posted = client.post(form_url(fieldwork), data={
        "slip": str(row.row_number), "channel": "paper", "submission_id": "thu-nhap-12345678",
        **GOOD})
    assert posted.status_code == 404 and written(db) == (0, 0, 0, 0)
    client.post("/logout")
    login("sogddt")  # the education department's manager
    assert client.get(form_url(fieldwork)).status_code == 403
    assert client.get(f"{BASE}/{fieldwork.id}/discrepancies").status_code == 404
    assert client.get(f"{BASE}/{fieldwork.id}/progress").status_code == 404
