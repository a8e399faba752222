"""Comments (góp ý): scope, ratings in words, accent-folding search, filters, moderation
(audited, hidden from readers), bad input refused with nothing written, never exported."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.authoring.services import versions
from survey.collection.models import Answer, CommentModeration, fold_text
from survey.collection.services import comments, submission
from survey.common.access import Scope
from survey.demo.responses import random_answers
from survey.models import AuditLog
from survey.results.services import microdata
from survey.results.services.periods import parse_period

OCT = dt.datetime(2026, 10, 14, 3, 0, tzinfo=dt.UTC)


def count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def world(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    versions.sync()
    rng = random.Random(3)
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Phường Tân Ninh", parent=province, kind="commune")
    hospital = make_unit("Bệnh viện Thử", parent=province, kind="hospital", sector="health")
    from survey.org.services import units

    desk = units.create_point(commune, "Bộ phận Một cửa")
    desk2 = units.create_point(commune, "Quầy 2")
    ward = units.create_point(hospital, "Khoa Khám bệnh")

    def submit(key: str, unit: Any, point: Any, text: str, when: dt.datetime,
               **fixed: object) -> int:
        row = versions.latest_published(key)
        defn = versions.definition_of(row)
        answers = {k: v for k, v in random_answers(defn, rng, 0.7).items()
                   if defn.item(k).type != "text"}
        answers.update(fixed)
        answers["gop_y" if key == "desk_rating" else "h2"] = text
        return submission.submit(submission.Submission(
            version=row, definition=defn, unit_id=unit.id, channel="desk_qr", answers=answers,
            client_submission_id=f"c-{rng.getrandbits(64):x}", service_point_id=point.id,
            submitted_at=when)).response_id

    ids = {
        "tan_ninh": submit("desk_rating", commune, desk, "Cán bộ phường TÂN NINH rất nhiệt tình",
                           OCT, muc_do_hai_long=3),
        "duc": submit("desk_rating", commune, desk2, "Anh Đức ở quầy 2 hướng dẫn chậm",
                      OCT + dt.timedelta(days=20), muc_do_hai_long=1),
        "hospital": submit("health_outpatient", hospital, ward, "Bác sĩ Nguyễn Văn A, 0912345678",
                           OCT + dt.timedelta(days=1)),
    }
    make_user("xa", "unit_manager", commune)
    make_user("bv", "unit_manager", hospital)
    make_user("phantich", "analyst", province)
    make_user("nhaplieu", "clerk", province)
    login("xa")
    answer = {name: db.session.scalar(select(Answer.id).where(
        Answer.response_id == rid, Answer.item_id.in_(["gop_y", "h2"])))
        for name, rid in ids.items()}
    return {"responses": ids, "answers": answer, "points": (desk.id, desk2.id, ward.id),
            "commune": commune.id, "hospital": hospital.id}


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="comment-(\d+)"', html)]


def test_fold_text() -> None:
    assert fold_text("  Phường TÂN  Ninh ") == "phuong tan ninh"
    assert fold_text("Đức, Nguyễn Thị Ánh") == "duc, nguyen thi anh"
    assert fold_text(None) == ""


def test_search_column_is_filled_for_text_only(db: Any, world: dict[str, Any]) -> None:
    rid = world["responses"]["tan_ninh"]
    rows = dict(db.session.execute(select(Answer.item_id, Answer.search_text)
                                   .where(Answer.response_id == rid)).all())
    assert rows["gop_y"] == "can bo phuong tan ninh rat nhiet tinh"
    assert rows["muc_do_hai_long"] is None


def test_a_unit_manager_sees_the_comments_of_their_subtree_newest_first(
        client: Any, world: dict[str, Any]) -> None:
    html = client.get("/staff/collect/comments").get_data(as_text=True)
    a = world["answers"]
    assert listed(html) == [a["duc"], a["tan_ninh"]]  # newest first, no hospital comment
    assert "Bác sĩ Nguyễn Văn A" not in html
    # the ratings given in the same response, in words, and the service point
    assert "Rất hài lòng" in html and "Không hài lòng" in html and "Quầy 2" in html
    assert "Hài lòng với" in html
    assert client.get(f"/staff/collect/comments?unit={world['hospital']}").status_code == 404
    assert client.get(f"/staff/collect/comments?point={world['points'][2]}").status_code == 404


@pytest.mark.parametrize(("query", "found"), [
    ("tan ninh", ["tan_ninh"]), ("TÂN NINH", ["tan_ninh"]), ("Tân   ninh", ["tan_ninh"]),
    ("duc", ["duc"]), ("đức", ["duc"]), ("nhiet tinh tan", ["tan_ninh"]),
    ("quầy", ["duc"]), ("không có", []), ("100%", []),
])
def test_search_folds_accents_and_case(client: Any, world: dict[str, Any], query: str,
                                       found: list[str]) -> None:
    html = client.get("/staff/collect/comments", query_string={"q": query}).get_data(as_text=True)
    assert listed(html) == [world["answers"][name] for name in found]


def test_search_in_the_service_on_this_database(db: Any, world: dict[str, Any]) -> None:
    """The same folded search straight through the service (runs on SQLite and, with
    SIPAS_TEST_DATABASE_URL, on PostgreSQL)."""
    from survey.models import User

    scope = Scope.for_user(db.session.scalar(select(User).where(User.username == "phantich")))
    filters = comments.parse_filters(scope, {"q": "BÁC SĨ nguyen van"})
    _, rows = comments.comments_page(scope, filters, 1)
    assert [r.answer_id for r in rows] == [world["answers"]["hospital"]]


def test_filters(client: Any, world: dict[str, Any]) -> None:
    a, desk2 = world["answers"], world["points"][1]
    html = client.get(f"/staff/collect/comments?point={desk2}").get_data(as_text=True)
    assert listed(html) == [a["duc"]]
    html = client.get("/staff/collect/comments?period=2026-10-01..2026-10-20").get_data(
        as_text=True)
    assert listed(html) == [a["tan_ninh"]]
    html = client.get("/staff/collect/comments?period=2026-11").get_data(as_text=True)
    assert listed(html) == [a["duc"]]
    html = client.get("/staff/collect/comments?period=tháng 10").get_data(as_text=True)
    assert "kỳ" in html.lower() and listed(html) == [a["duc"], a["tan_ninh"]]  # refused, unfiltered
    html = client.get("/staff/collect/comments?visibility=maybe").get_data(as_text=True)
    assert "Hãy chọn tất cả, góp ý đang hiển thị hoặc góp ý đã ẩn." in html


def test_pages_count_a_bounded_number_ahead(client: Any, world: dict[str, Any],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comments, "PER_PAGE", 1)
    monkeypatch.setattr(comments, "COUNT_AHEAD", 1)
    a = world["answers"]
    html = client.get("/staff/collect/comments?q=a").get_data(as_text=True)
    assert listed(html) == [a["duc"]] and "Hơn 1 góp ý" in html and "page=2" in html
    html = client.get("/staff/collect/comments?q=a&page=2").get_data(as_text=True)
    assert listed(html) == [a["tan_ninh"]] and "Hơn" not in html and "page=3" not in html


def hide(client: Any, answer_id: int, **data: str) -> Any:
    return client.post(f"/staff/collect/comments/{answer_id}/hide", data=data,
                       follow_redirects=True)


def test_hiding_is_audited_and_hides_from_readers(client: Any, db: Any, login: Any,
                                                  world: dict[str, Any]) -> None:
    a = world["answers"]
    client.post("/logout")
    login("bv")
    page = hide(client, a["hospital"], reason="personal_data", note="  số điện thoại  ",
                q="bac si")
    html = page.get_data(as_text=True)
    assert "Đã ẩn góp ý" in html and listed(html) == [a["hospital"]]  # back to the search
    mod = db.session.scalar(select(CommentModeration))
    assert (mod.answer_id, mod.hidden, mod.reason, mod.note) == (
        a["hospital"], True, "personal_data", "số điện thoại")
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "comment_moderation")).all()
    assert [(x.action, x.actor_label, x.after["reason"]) for x in audit] == [
        ("create", "bv", "personal_data")]
    # the manager still sees it, marked hidden; filters for hidden and visible
    html = client.get("/staff/collect/comments?visibility=hidden").get_data(as_text=True)
    assert listed(html) == [a["hospital"]] and "Thông tin cá nhân" in html
    assert listed(client.get("/staff/collect/comments?visibility=visible").get_data(
        as_text=True)) == []
    # a reader never sees it, whatever they ask for
    client.post("/logout")
    login("phantich")
    for query in ("", "?visibility=hidden", "?q=bac si"):
        html = client.get(f"/staff/collect/comments{query}").get_data(as_text=True)
        assert a["hospital"] not in listed(html) and "0912345678" not in html
    assert listed(client.get("/staff/collect/comments").get_data(as_text=True)) == [
        a["duc"], a["tan_ninh"]]
    # shown again: audited, readers see it again
    client.post("/logout")
    login("bv")
    html = client.post(f"/staff/collect/comments/{a['hospital']}/unhide",
                       follow_redirects=True).get_data(as_text=True)
    assert "Góp ý đã được hiển thị lại." in html
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "comment_moderation").order_by(AuditLog.id)).all()
    assert [(x.action, x.actor_label) for x in audit] == [("create", "bv"), ("update", "bv")]
    assert audit[1].before["reason"] == "personal_data" and audit[1].after["hidden"] is False
    client.post("/logout")
    login("phantich")
    assert a["hospital"] in listed(client.get("/staff/collect/comments").get_data(as_text=True))


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Hãy chọn lý do ẩn góp ý này."),
    ({"reason": ""}, "Hãy chọn lý do ẩn góp ý này."),
    ({"reason": "boring"}, "Hãy chọn lý do ẩn góp ý này."),
    ({"reason": "other", "note": "   "}, "Hãy ghi rõ trong ghi chú vì sao ẩn góp ý này."),
    ({"reason": "spam", "note": "x" * 501}, "Ghi chú quá dài (tối đa 500 ký tự)."),
])
def test_bad_input_is_refused_and_writes_nothing(client: Any, db: Any, world: dict[str, Any],
                                                 data: dict[str, str], message: str) -> None:
    html = hide(client, world["answers"]["duc"], **data).get_data(as_text=True)
    assert message in html
    assert count(db, CommentModeration) == 0
    assert count(db, AuditLog, AuditLog.entity == "comment_moderation") == 0


def test_unknown_foreign_or_not_a_comment_is_refused(client: Any, db: Any, login: Any,
                                                     world: dict[str, Any]) -> None:
    a = world["answers"]
    numeric = db.session.scalar(select(Answer.id).where(
        Answer.response_id == world["responses"]["tan_ninh"], Answer.item_id == "muc_do_hai_long"))
    for answer_id in (999999, a["hospital"], numeric):  # unknown, foreign unit, not free text
        assert hide(client, answer_id, reason="spam").status_code == 404
        assert client.post(f"/staff/collect/comments/{answer_id}/unhide").status_code == 404
    html = client.post(f"/staff/collect/comments/{a['duc']}/unhide",
                       follow_redirects=True).get_data(as_text=True)
    assert "Góp ý này không bị ẩn." in html
    client.post("/logout")
    login("phantich")  # analysts read, never moderate
    assert hide(client, a["duc"], reason="spam").status_code == 403
    html = client.get("/staff/collect/comments").get_data(as_text=True)
    assert "/hide" not in html
    client.post("/logout")
    login("nhaplieu")  # clerks do not read comments
    assert client.get("/staff/collect/comments").status_code == 403
    assert count(db, CommentModeration) == 0
    assert count(db, AuditLog, AuditLog.entity == "comment_moderation") == 0


def test_hiding_twice_is_refused(client: Any, db: Any, world: dict[str, Any]) -> None:
    hide(client, world["answers"]["duc"], reason="offensive")
    html = hide(client, world["answers"]["duc"], reason="spam").get_data(as_text=True)
    assert "Góp ý này đã bị ẩn." in html
    assert db.session.scalar(select(CommentModeration.reason)) == "offensive"
    assert count(db, AuditLog, AuditLog.entity == "comment_moderation") == 1


def test_free_text_never_enters_microdata(db: Any, world: dict[str, Any]) -> None:
    for period in ("2026-10", "2026-11"):
        micro = microdata.load(microdata.Selection(parse_period(period)))
        assert not {"answer.gop_y", "answer.h2", "gop_y", "h2"} & set(micro.columns())
        rows = list(micro.rows())
        assert rows
        values = " ".join(str(v) for row in rows for v in row.values())
        for text in ("TÂN NINH", "Đức", "0912345678"):
            assert text not in values


def test_links_from_the_dashboard_and_collection(client: Any, login: Any,
                                                 world: dict[str, Any]) -> None:
    for page in ("/staff/", "/staff/collect/"):
        html = client.get(page).get_data(as_text=True)
        assert "/staff/collect/comments" in html and "/staff/collect/monitoring" in html
    client.post("/logout")
    login("nhaplieu")
    html = client.get("/staff/").get_data(as_text=True)
    assert "/staff/collect/comments" not in html
