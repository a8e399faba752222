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
