"""Sessions end on sign-out (that browser's only), on a password change, on "sign out
everywhere", from the account page (one of them) and when an administrator ends them: a
copied session or remember-me cookie is refused afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from survey.models import AuditLog, User, UserSession


@pytest.fixture
def canbo(db: Any, make_unit: Any, make_user: Any) -> Any:
    province = make_unit("Tỉnh Thử", code="99")
    make_user("quantri", "administrator", province)
    return make_user("canbo", "analyst", province)


def sign_in(app: Any, username: str = "canbo", password: str = "mat-khau-123",
            remember: bool = False) -> Any:
    client = app.test_client()
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    assert client.get("/staff/").status_code == 200
    return client


def cookie(client: Any, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, name
    return str(found.value)


def replay(app: Any, name: str, value: str) -> int:
    """A fresh browser holding only a copied cookie: the status of the staff home page."""
    other = app.test_client()
    other.set_cookie(name, value)
    return int(other.get("/staff/").status_code)


def test_a_session_cookie_copied_before_sign_out_is_refused(app: Any, canbo: Any) -> None:
    client = sign_in(app)
    copied = cookie(client, "session")
    assert replay(app, "session", copied) == 200
    assert client.post("/logout").status_code == 302
    assert replay(app, "session", copied) == 302


def test_a_remember_me_cookie_copied_before_sign_out_is_refused(app: Any, canbo: Any) -> None:
    client = sign_in(app, remember=True)
    remembered = cookie(client, "remember_token")
    assert replay(app, "remember_token", remembered) == 200
    client.post("/logout")
    assert replay(app, "remember_token", remembered) == 302


def test_a_new_password_ends_the_accounts_sessions(app: Any, db: Any, canbo: Any) -> None:
    victim = sign_in(app, remember=True)
    copied, remembered = cookie(victim, "session"), cookie(victim, "remember_token")
    admin = sign_in(app, "quantri")
    assert admin.post(f"/staff/users/{canbo.id}/password", data={
        "pw-password": "mat-khau-moi-456", "pw-confirm": "mat-khau-moi-456"}).status_code == 302
    assert victim.get("/staff/").status_code == 302
    assert replay(app, "session", copied) == 302
    assert replay(app, "remember_token", remembered) == 302
    sign_in(app, password="mat-khau-moi-456")


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
        app: Any, db: Any, canbo: Any) -> None:
    here, elsewhere = sign_in(app), sign_in(app, remember=True)
    remembered = cookie(elsewhere, "remember_token")
    wrong = here.post("/staff/account", data={
        "own-current": "sai-mat-khau-1", "own-password": "mat-khau-moi-456",
        "own-confirm": "mat-khau-moi-456"})
    assert "Mật khẩu hiện tại không đúng." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, canbo.id).check_password("mat-khau-123")
    assert elsewhere.get("/staff/").status_code == 200  # a refusal ends nothing
    weak = here.post("/staff/account", data={
        "own-current": "mat-khau-123", "own-password": "ngan", "own-confirm": "ngan"})
    assert "Mật khẩu phải có ít nhất 10 ký tự." in weak.get_data(as_text=True)
    assert elsewhere.get("/staff/").status_code == 200
    done = here.post("/staff/account", data={
        "own-current": "mat-khau-123", "own-password": "mat-khau-moi-456",
        "own-confirm": "mat-khau-moi-456"}, follow_redirects=True)
    assert "Đã đổi mật khẩu." in done.get_data(as_text=True)
    assert here.get("/staff/").status_code == 200
    assert elsewhere.get("/staff/").status_code == 302
    assert replay(app, "remember_token", remembered) == 302


def test_sign_out_everywhere(app: Any, canbo: Any) -> None:
    phone, desk = sign_in(app), sign_in(app, remember=True)
    remembered = cookie(desk, "remember_token")
    page = phone.get("/staff/account").get_data(as_text=True)
    assert "Đăng xuất trên mọi thiết bị" in page
    done = phone.post("/staff/account/sessions", follow_redirects=True)
    assert "Bạn đã được đăng xuất trên mọi máy tính." in done.get_data(as_text=True)
    assert phone.get("/staff/").status_code == 302
    assert desk.get("/staff/").status_code == 302
    assert replay(app, "remember_token", remembered) == 302
    sign_in(app)  # signing in again works


def test_an_administrator_ends_another_accounts_sessions_audited(
        app: Any, db: Any, canbo: Any) -> None:
    victim = sign_in(app)
    analyst_self = sign_in(app)
    assert analyst_self.post(f"/staff/users/{canbo.id}/sessions").status_code == 403
    assert victim.get("/staff/").status_code == 200
    admin = sign_in(app, "quantri")
    done = admin.post(f"/staff/users/{canbo.id}/sessions", follow_redirects=True)
    assert "Mọi phiên đăng nhập của canbo đã kết thúc." in done.get_data(as_text=True)
    assert victim.get("/staff/").status_code == 302
    assert admin.get("/staff/").status_code == 200
    entries = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "user_account", AuditLog.entity_id == str(canbo.id),
        AuditLog.action == "update")).all()
    assert any(e.actor_label == "quantri" and e.before.get("session_version") == 1
               and e.after.get("session_version") == 2 for e in entries)


def test_signing_out_ends_this_browsers_session_only(app: Any, canbo: Any) -> None:
    phone, desk = sign_in(app), sign_in(app, remember=True)
    remembered = cookie(desk, "remember_token")
    copied = cookie(phone, "session")
    assert phone.post("/logout").status_code == 302
    assert phone.get("/staff/").status_code == 302
    assert replay(app, "session", copied) == 302
    assert desk.get("/staff/").status_code == 200  # the other computer stays signed in
    assert replay(app, "remember_token", remembered) == 200


def test_the_account_page_lists_the_sessions_and_ends_one(
        app: Any, db: Any, canbo: Any) -> None:
    here = app.test_client()
    assert here.post("/login", data={"username": "canbo", "password": "mat-khau-123"},
                     headers={"User-Agent": "Firefox trên máy bàn"}).status_code == 302
    phone = app.test_client()
    phone.post("/login", data={"username": "canbo", "password": "mat-khau-123",
                               "remember": "y"}, headers={"User-Agent": "Safari trên iPhone"})
    remembered = cookie(phone, "remember_token")
    page = here.get("/staff/account").get_data(as_text=True)
    assert "Firefox trên máy bàn" in page and "Safari trên iPhone" in page
    assert "Phiên này" in page
    rows = {r.agent: r for r in db.session.scalars(select(UserSession))}
    assert set(rows) == {"Firefox trên máy bàn", "Safari trên iPhone"}
    assert all(len(r.key_hash) == 64 for r in rows.values())  # a digest, never the key
    assert remembered.split(":")[-1].split("|")[0] not in {r.key_hash for r in rows.values()}

    # Ending the session one is using is refused here (the sign-out button does it).
    mine = rows["Firefox trên máy bàn"].id
    own = here.post(f"/staff/account/sessions/{mine}/end", follow_redirects=True)
    assert "Đây là phiên bạn đang dùng" in own.get_data(as_text=True)
    assert here.get("/staff/").status_code == 200

    done = here.post(f"/staff/account/sessions/{rows['Safari trên iPhone'].id}/end",
                     follow_redirects=True)
    assert "Phiên đó đã kết thúc" in done.get_data(as_text=True)
    assert phone.get("/staff/").status_code == 302
    assert replay(app, "remember_token", remembered) == 302
    assert here.get("/staff/").status_code == 200
    page = here.get("/staff/account").get_data(as_text=True)
    assert "Safari trên iPhone" not in page


def test_another_accounts_session_cannot_be_ended_from_the_account_page(
        app: Any, db: Any, canbo: Any) -> None:
    admin = sign_in(app, "quantri")
    victim = sign_in(app)
    theirs = db.session.scalar(select(UserSession.id).where(UserSession.user_id == canbo.id))
    refused = admin.post(f"/staff/account/sessions/{theirs}/end")
    assert refused.status_code == 404
    assert "Phiên này không phải là một phiên đang mở của bạn." in refused.get_data(
        as_text=True)
    assert admin.post("/staff/account/sessions/999999/end").status_code == 404
    assert victim.get("/staff/").status_code == 200  # nothing ended
    db.session.expire_all()
    assert db.session.get(UserSession, theirs).ended_at is None


def test_last_seen_is_written_at_most_every_five_minutes(
        app: Any, db: Any, canbo: Any) -> None:
    import datetime as dt

    client = sign_in(app)
    row = db.session.scalar(select(UserSession))
    first = row.last_seen_at
    client.get("/staff/")
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at == first
    db.session.get(UserSession, row.id).last_seen_at = first - dt.timedelta(minutes=6)
    db.session.commit()
    client.get("/staff/")
    db.session.expire_all()
    seen = db.session.get(UserSession, row.id).last_seen_at
    assert seen.replace(tzinfo=None) > (first - dt.timedelta(minutes=1)).replace(tzinfo=None)


def test_a_cookie_of_a_forged_or_old_form_is_refused(app: Any, db: Any, canbo: Any) -> None:
    # A session from before per-session keys ("<id>" or "<id>:<version>") is refused.
    from survey.extensions import login_manager
    from survey.org.services import sessions

    key = sessions.start(canbo, "test")
    assert login_manager._user_callback(str(canbo.id)) is None
    assert login_manager._user_callback(f"{canbo.id}:1") is None
    assert login_manager._user_callback(f"{canbo.id}:1:{key}") is not None
    assert login_manager._user_callback(f"{canbo.id}:0:{key}") is None
    assert login_manager._user_callback(f"{canbo.id}:1:{key}x") is None
    assert login_manager._user_callback(f"{canbo.id + 1}:1:{key}") is None
    assert login_manager._user_callback(f"x:1:{key}") is None
    assert login_manager._user_callback(f"{canbo.id}:x:{key}") is None


def test_a_session_unused_for_the_idle_limit_ends(app: Any, db: Any, canbo: Any) -> None:
    import datetime as dt

    stale = sign_in(app, remember=True)
    remembered = cookie(stale, "remember_token")
    fresh = sign_in(app)
    rows = list(db.session.scalars(select(UserSession).order_by(UserSession.id)))
    assert len(rows) == 2
    days = app.config["SESSION_IDLE_DAYS"]
    assert days == 30
    rows[0].last_seen_at = rows[0].last_seen_at - dt.timedelta(days=days, minutes=1)
    db.session.commit()
    page = fresh.get("/staff/account").get_data(as_text=True)
    assert page.count("<tr><td>") == 1  # the idle one is not listed as open
    assert stale.get("/staff/").status_code == 302  # signs in again
    assert replay(app, "remember_token", remembered) == 302
    db.session.expire_all()
    assert db.session.get(UserSession, rows[0].id).ended_at is not None
    assert fresh.get("/staff/").status_code == 200


def test_a_sign_in_clears_the_accounts_long_ended_sessions(
        app: Any, db: Any, canbo: Any) -> None:
    import datetime as dt

    from survey.common.clock import utcnow

    old, recent = sign_in(app), sign_in(app)
    old.post("/logout")
    recent.post("/logout")
    rows = list(db.session.scalars(select(UserSession).order_by(UserSession.id)))
    first, second = rows[0].id, rows[1].id
    rows[0].ended_at = utcnow() - dt.timedelta(days=91)
    db.session.commit()
    sign_in(app)
    db.session.expire_all()
    left = list(db.session.scalars(select(UserSession.id).order_by(UserSession.id)))
    assert first not in left and second in left and len(left) == 2
