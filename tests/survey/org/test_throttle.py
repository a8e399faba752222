"""Sign-in throttling: only failures count, per account at an address and per address,
with a delay that doubles (capped), never a lock-out; the page says how long to wait.
The clock is the test's (survey.common.clock.utcnow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.common import clock
from survey.org.models import SignInFailure
from survey.org.services import throttle
from tests.conftest import make_app, twin_context

OFFICE, ELSEWHERE = "203.0.113.7", "198.51.100.9"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "utcnow", fake)
    return fake


@pytest.fixture
def canbo(db: Any, make_unit: Any, make_user: Any) -> Any:
    return make_user("canbo", "analyst", make_unit("Tỉnh Thử", code="99"))


def attempt(client: Any, password: str, address: str = OFFICE,
            username: str = "canbo") -> Any:
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_the_delay_doubles_and_is_capped() -> None:
    free = throttle.FREE["account"]
    assert [throttle.delay_after(free + n, free).total_seconds() for n in range(0, 5)] == [
        0, 2, 4, 8, 16]
    assert throttle.delay_after(free + 40, free) == throttle.MAX_DELAY


def test_failures_slow_the_account_at_that_address_and_say_how_long(
        client: Any, db: Any, canbo: Any, now: Clock) -> None:
    for _ in range(throttle.FREE["account"]):
        response = attempt(client, "sai-mat-khau-1")
        assert response.status_code == 200
        assert "Hãy chờ" not in response.get_data(as_text=True)
    fourth = attempt(client, "sai-mat-khau-1").get_data(as_text=True)
    assert "Sai tên đăng nhập hoặc mật khẩu." in fourth
    assert "Hãy chờ 2 giây trước lần thử tiếp theo." in fourth
    # during the wait even the right password is not checked, and the try does not count
    early = attempt(client, "mat-khau-123")
    assert early.status_code == 429
    assert "Đăng nhập sai quá nhiều lần. Hãy chờ 2 giây rồi thử lại." in early.get_data(
        as_text=True)
    now.advance(1)
    assert "Hãy chờ 1 giây" in attempt(client, "mat-khau-123").get_data(as_text=True)
    now.advance(1)
    assert attempt(client, "mat-khau-123").status_code == 302


def test_a_success_resets_the_accounts_failures(client: Any, db: Any, canbo: Any,
                                                now: Clock) -> None:
    for _ in range(throttle.FREE["account"] + 2):
        attempt(client, "sai-mat-khau-1")
        now.advance(60)
    assert attempt(client, "mat-khau-123").status_code == 302
    client.post("/logout")
    for _ in range(throttle.FREE["account"]):
        assert "Hãy chờ" not in attempt(client, "sai-mat-khau-1").get_data(as_text=True)


def test_an_attacker_elsewhere_never_locks_the_owner_out(client: Any, db: Any, canbo: Any,
                                                         now: Clock) -> None:
    for _ in range(12):
        attempt(client, "doan-mo-123", address=ELSEWHERE)
    assert attempt(client, "sai", address=ELSEWHERE).status_code == 429
    assert attempt(client, "mat-khau-123", address=OFFICE).status_code == 302


def test_successful_sign_ins_never_count(client: Any, db: Any, canbo: Any, now: Clock) -> None:
    for _ in range(40):
        assert attempt(client, "mat-khau-123").status_code == 302
        client.post("/logout")
    assert db.session.scalar(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.failures > 0)) == 0


def test_an_address_guessing_many_accounts_is_slowed(client: Any, db: Any, canbo: Any,
                                                     now: Clock) -> None:
    for n in range(throttle.FREE["address"] + 1):
        attempt(client, "x", username=f"nguoi{n}")
    page = attempt(client, "x", username="nguoi-moi")
    assert page.status_code == 429 and "Hãy chờ 2 giây" in page.get_data(as_text=True)
    assert attempt(client, "mat-khau-123", address=ELSEWHERE).status_code == 302


def test_an_offices_failures_never_keep_its_regular_staff_out(client: Any, db: Any,
                                                              canbo: Any, now: Clock) -> None:
    assert attempt(client, "mat-khau-123").status_code == 302  # canbo works here
    client.post("/logout")
    now.advance(3600)
    for n in range(throttle.FREE["address"] + 10):
        attempt(client, "x", username=f"nguoi{n}")
    assert attempt(client, "x", username="nguoi-moi").status_code == 429
    assert attempt(client, "mat-khau-123").status_code == 302
    client.post("/logout")
    # the office's own account still gets its own few free failures, then its own wait
    for _ in range(throttle.FREE["account"]):
        assert attempt(client, "sai-mat-khau-1").status_code == 200
    assert "Hãy chờ 2 giây" in attempt(client, "sai-mat-khau-1").get_data(as_text=True)
    assert attempt(client, "mat-khau-123").status_code == 429


def test_a_known_account_is_known_for_a_while_only(client: Any, db: Any, canbo: Any,
                                                   now: Clock) -> None:
    assert attempt(client, "mat-khau-123").status_code == 302
    client.post("/logout")
    now.advance(throttle.KNOWN_FOR.total_seconds() + 1)
    for n in range(throttle.FREE["address"] + 1):
        attempt(client, "x", username=f"nguoi{n}")
    assert attempt(client, "mat-khau-123").status_code == 429


def test_long_waits_are_said_in_minutes_and_old_failures_are_forgotten(
        client: Any, db: Any, canbo: Any, now: Clock) -> None:
    for n in range(throttle.FREE["account"] + 9):
        now.advance(1000 if n else 0)  # past each wait: every failure is checked
        assert attempt(client, "sai-mat-khau-1").status_code == 200
    page = attempt(client, "sai").get_data(as_text=True)
    assert "Hãy chờ 9 phút rồi thử lại." in page
    now.advance(throttle.FORGET.total_seconds() + 1)
    assert attempt(client, "mat-khau-123").status_code == 302


def test_no_address_or_username_is_stored(client: Any, db: Any, canbo: Any, now: Clock) -> None:
    attempt(client, "sai-mat-khau-1")
    keys = db.session.scalars(select(SignInFailure.key)).all()
    assert len(keys) == 2
    assert not any(OFFICE in k or "canbo" in k for k in keys)


def test_the_address_limit_counts_failures_only(database_url: str, tmp_path: Path,
                                                _schema: None) -> None:
    """With the limiter on (10 per minute per address), an office signing in forty times
    in a minute is never refused."""
    from survey.org.services import users

    app = make_app(database_url, tmp_path / "i", RATELIMIT_ENABLED=True)
    with twin_context(app):
        users.create_user(None, username="canbo", full_name="Cán bộ", password="mat-khau-123")
        client = app.test_client()
        codes = []
        for _ in range(15):
            codes.append(attempt(client, "mat-khau-123").status_code)
            client.post("/logout")
    assert codes == [302] * 15


def test_old_rows_are_pruned(client: Any, db: Any, canbo: Any, now: Clock) -> None:
    attempt(client, "mat-khau-123")
    client.post("/logout")
    attempt(client, "sai", username="khac")
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 3
    now.advance(throttle.KNOWN_FOR.total_seconds() + 1)
    attempt(client, "sai", address=ELSEWHERE, username="khac")
    assert db.session.scalar(select(func.count()).select_from(SignInFailure)) == 2
