"""Review of flagged responses: list with filters, accept/reject with audit, scope."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.models import Answer, AuditLog, Response


def count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def setup(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    hospital = make_unit("Bệnh viện Thử", parent=province, kind="hospital", sector="health")
    commune = make_unit("Xã Thử", parent=province, kind="commune")

    def response(unit: Any, flags: str, status: str = "flagged", text: str = "") -> int:
        r = Response(questionnaire_key="desk_rating", questionnaire_version=1, channel="desk_qr",
                     unit_id=unit.id, client_submission_id=uuid.uuid4().hex, flags=flags,
                     review_status=status)
        r.answers = [Answer(item_id="q1", value_num=5), Answer(item_id="q2", value_num=1),
                     Answer(item_id="y_kien", value_text=text or None),
                     Answer(item_id="q3", not_applicable=True)]
        db.session.add(r)
        db.session.commit()
        return r.id

    ids = {"real": response(hospital, "burst_device,off_hours"),
           "burst": response(hospital, "burst", text="Bác sĩ tận tình " * 10),
           "both": response(hospital, "burst,same_answers"),
           "commune": response(commune, "same_answers"),
           "ok": response(hospital, "", status="ok")}
    make_user("bv", "unit_manager", hospital)
    make_user("xa", "unit_manager", commune)
    make_user("phantich", "analyst", province, sector="health")
    make_user("nhaplieu", "clerk", province)
    login("bv")
    return {"ids": ids, "hospital": hospital.id, "commune": commune.id}


def test_list_and_filters(client: Any, setup: dict[str, Any]) -> None:
    ids = setup["ids"]
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert f"#{ids['burst']}" in html and f"#{ids['both']}" in html
    assert f"#{ids['commune']}" not in html and f"#{ids['ok']}" not in html
    assert "Bác sĩ tận tình" in html and "…" in html  # text shortened
    # the service's flags are explained in words; unknown ones are shown as they are
    assert "Nhiều phiếu từ một thiết bị trong thời gian ngắn" in html
    assert "Gửi ngoài giờ làm việc" in html and "burst_device" not in html.split("<tbody>")[-1]
    html = client.get("/staff/collect/reviews?flag=same_answers").get_data(as_text=True)
    assert f"#{ids['both']}" in html and f"#{ids['burst']}" not in html
    html = client.get(f"/staff/collect/reviews?unit={setup['hospital']}&flag=burst"
                      ).get_data(as_text=True)
    assert f"#{ids['both']}" in html and f"#{ids['burst']}" in html
    assert client.get(f"/staff/collect/reviews?unit={setup['commune']}").status_code == 404


def test_accept_and_reject_are_audited(client: Any, db: Any, setup: dict[str, Any]) -> None:
    ids = setup["ids"]
    response = client.post(f"/staff/collect/reviews/{ids['burst']}",
                           data={"decision": "accepted", "flag": "burst"})
    assert response.status_code == 302 and "flag=burst" in response.headers["Location"]
    accepted = db.session.get(Response, ids["burst"])
    assert accepted.review_status == "accepted" and accepted.reviewed_at is not None
    assert accepted.reviewed_by_id is not None
    client.post(f"/staff/collect/reviews/{ids['both']}", data={"decision": "rejected"})
    assert db.session.get(Response, ids["both"]).review_status == "rejected"
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "response")
                               .order_by(AuditLog.id)).all()
    assert [(a.entity_id, a.after["review_status"], a.actor_label) for a in audit] == [
        (str(ids["burst"]), "accepted", "bv"), (str(ids["both"]), "rejected", "bv")]
    again = client.post(f"/staff/collect/reviews/{ids['burst']}", data={"decision": "rejected"},
                        follow_redirects=True)
    assert "Phiếu trả lời này đã được xem xét." in again.get_data(as_text=True)
    assert db.session.get(Response, ids["burst"]).review_status == "accepted"
    assert count(db, AuditLog, AuditLog.entity == "response") == 2


def test_bad_decision_changes_nothing(client: Any, db: Any, setup: dict[str, Any]) -> None:
    for data in ({"decision": "maybe"}, {}, {"decision": "ok"}):
        response = client.post(f"/staff/collect/reviews/{setup['ids']['burst']}", data=data,
                               follow_redirects=True)
        assert "Hãy chọn chấp nhận hoặc loại bỏ." in response.get_data(as_text=True)
    assert db.session.get(Response, setup["ids"]["burst"]).review_status == "flagged"
    assert count(db, AuditLog, AuditLog.entity == "response") == 0


def test_scope_of_reviews(client: Any, db: Any, login: Any, setup: dict[str, Any]) -> None:
    ids = setup["ids"]
    client.post("/logout")
    login("xa")
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert f"#{ids['commune']}" in html and f"#{ids['burst']}" not in html
    response = client.post(f"/staff/collect/reviews/{ids['burst']}", data={"decision": "rejected"})
    assert response.status_code == 404
    client.post("/logout")
    login("phantich")  # health analyst: the hospital's, not the commune's
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert f"#{ids['burst']}" in html and f"#{ids['commune']}" not in html
    assert client.post(f"/staff/collect/reviews/{ids['commune']}",
                       data={"decision": "accepted"}).status_code == 404
    client.post("/logout")
    login("nhaplieu")  # no "results" permission
    assert client.get("/staff/collect/reviews").status_code == 403
    assert client.post(f"/staff/collect/reviews/{ids['burst']}",
                       data={"decision": "accepted"}).status_code == 403
    assert client.get("/staff/collect/").status_code == 403
    assert {r.review_status for r in db.session.scalars(select(Response))} == {"flagged", "ok"}


def decision_forms(html: str) -> set[int]:
    """The responses the page offers to accept or reject."""
    return {int(n) for n in re.findall(r'action="/staff/collect/reviews/(\d+)"', html)}


def test_analysts_see_the_list_but_cannot_decide(client: Any, db: Any, login: Any,
                                                 setup: dict[str, Any]) -> None:
    """Accepting or rejecting changes the indices: a manager's decision, not an analyst's."""
    ids = setup["ids"]
    client.post("/logout")
    login("phantich")
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert f"#{ids['burst']}" in html and f"#{ids['both']}" in html
    assert decision_forms(html) == set()
    assert "Chỉ cán bộ quản lý" in html  # says who decides
    for decision in ("accepted", "rejected"):
        response = client.post(f"/staff/collect/reviews/{ids['burst']}",
                               data={"decision": decision})
        assert response.status_code == 403
    assert db.session.get(Response, ids["burst"]).review_status == "flagged"
    assert db.session.get(Response, ids["burst"]).reviewed_by_id is None
    assert count(db, AuditLog, AuditLog.entity == "response") == 0


def test_managers_decide_only_where_they_manage(client: Any, db: Any, login: Any,
                                                make_user: Any, setup: dict[str, Any]) -> None:
    """An analyst of the whole province who manages one commune decides for that commune."""
    from survey.models import RoleAssignment, Unit

    ids = setup["ids"]
    user = make_user("kiemnhiem", "analyst", db.session.get(Unit, setup["commune"]).parent)
    user.roles.append(RoleAssignment(role="unit_manager", unit_id=setup["commune"]))
    db.session.commit()
    client.post("/logout")
    login("kiemnhiem")
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert f"#{ids['burst']}" in html and f"#{ids['commune']}" in html
    assert decision_forms(html) == {ids["commune"]}
    assert client.post(f"/staff/collect/reviews/{ids['burst']}",
                       data={"decision": "rejected"}).status_code == 403
    assert client.post(f"/staff/collect/reviews/{ids['commune']}",
                       data={"decision": "rejected"}).status_code == 302
    assert db.session.get(Response, ids["burst"]).review_status == "flagged"
    assert db.session.get(Response, ids["commune"]).review_status == "rejected"


def test_managers_see_the_decision_buttons(client: Any, setup: dict[str, Any]) -> None:
    ids = setup["ids"]
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    assert decision_forms(html) == {ids["real"], ids["burst"], ids["both"]}


@pytest.fixture
def burst(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    """Five responses flagged as a burst from one device, one from another device, all
    to the real desk questionnaire (so that texts and labels can be shown)."""
    import datetime as dt

    from survey.authoring.services import versions as questionnaire_versions

    questionnaire_versions.sync()
    commune = make_unit("Xã Bình An", kind="commune")
    start = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)

    def response(device: str, minutes: int) -> int:
        r = Response(questionnaire_key="desk_rating", questionnaire_version=1,
                     channel="desk_qr", unit_id=commune.id, device_hash=device,
                     client_submission_id=uuid.uuid4().hex, flags="burst_device",
                     review_status="flagged",
                     submitted_at=start + dt.timedelta(minutes=minutes))
        r.answers = [Answer(item_id="muc_do_hai_long", value_num=1),
                     Answer(item_id="gop_y", value_text="Rất tốt")]
        db.session.add(r)
        db.session.commit()
        return r.id

    ids = [response("thiet-bi-a", m) for m in range(5)]
    other = response("thiet-bi-b", 1)
    late = response("thiet-bi-a", 60 * 24)  # the same device the next day: not this burst
    make_user("xaba", "unit_manager", commune)
    login("xaba")
    return {"ids": ids, "other": other, "late": late}


def test_review_screen_shows_questions_and_labels(client: Any, burst: dict[str, Any]) -> None:
    html = client.get("/staff/collect/reviews").get_data(as_text=True)
    body = html.split("<tbody>")[-1]
    assert "hài lòng ở mức nào" in body  # the question's text, not its id
    assert "muc_do_hai_long" not in body and "desk_rating" not in body
    assert "desk_qr" not in body and "mã QR tại quầy" in body
    assert "Rất tốt" in body
    assert "Xem cả đợt gửi dồn" in body


def test_a_whole_burst_is_decided_at_once(client: Any, db: Any,
                                          burst: dict[str, Any]) -> None:
    ids = burst["ids"]
    page = client.get(f"/staff/collect/reviews?burst={ids[0]}").get_data(as_text=True)
    listed = {int(n) for n in re.findall(r'name="ids" value="(\d+)"', page)}
    assert listed == set(ids)  # not the other device, not the next day
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"ids": [str(i) for i in ids], "decision": "rejected"}
    if token:
        data["csrf_token"] = token.group(1)
    done = client.post("/staff/collect/reviews/decide", data=data, follow_redirects=True)
    assert "Đã loại bỏ 5 phiếu." in done.get_data(as_text=True)
    statuses = {r.id: r.review_status for r in db.session.scalars(select(Response))}
    assert all(statuses[i] == "rejected" for i in ids)
    assert statuses[burst["other"]] == statuses[burst["late"]] == "flagged"
    assert count(db, AuditLog, AuditLog.entity == "response") == 5


def test_a_bulk_decision_is_all_or_nothing(client: Any, db: Any, login: Any, make_unit: Any,
                                           burst: dict[str, Any]) -> None:
    ids = burst["ids"]
    client.post(f"/staff/collect/reviews/{ids[0]}", data={"decision": "accepted"})
    again = client.post("/staff/collect/reviews/decide",
                        data={"ids": [str(i) for i in ids], "decision": "rejected"},
                        follow_redirects=True)
    assert f"Đã được xem xét: #{ids[0]}." in again.get_data(as_text=True)
    for data in ({"ids": [], "decision": "accepted"},
                 {"ids": [str(ids[1])], "decision": "maybe"}):
        refused = client.post("/staff/collect/reviews/decide", data=data,
                              follow_redirects=True).get_data(as_text=True)
        assert "Hãy đánh dấu ít nhất một phiếu." in refused or \
            "Hãy chọn chấp nhận hoặc loại bỏ." in refused
    foreign = make_unit("Xã Khác", kind="commune")
    r = Response(questionnaire_key="desk_rating", questionnaire_version=1, channel="desk_qr",
                 unit_id=foreign.id, client_submission_id=uuid.uuid4().hex,
                 flags="burst_device", review_status="flagged")
    db.session.add(r)
    db.session.commit()
    outside = client.post("/staff/collect/reviews/decide",
                          data={"ids": [str(ids[1]), str(r.id)], "decision": "rejected"})
    assert outside.status_code == 403
    statuses = {x.id: x.review_status for x in db.session.scalars(select(Response))}
    assert statuses[ids[0]] == "accepted"
    assert [statuses[i] for i in ids[1:]] == ["flagged"] * 4 and statuses[r.id] == "flagged"
    assert count(db, AuditLog, AuditLog.entity == "response") == 1
