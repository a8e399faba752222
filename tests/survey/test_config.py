from __future__ import annotations

from pathlib import Path

import pytest

from survey.config import ConfigError, build_config, normalise_database_url

STRONG = "Yq3v_Jw8tZbP0kR7mXc2LhN5sDf9GaE1uVo6iTy4WeQ"  # a generated secret, as in production


def test_defaults_to_sqlite_in_instance_and_generates_secret(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    for name in ("SIPAS_DATABASE_URL", "DATABASE_URL", "SIPAS_SECRET_KEY", "SIPAS_ENV"):
        monkeypatch.delenv(name, raising=False)
    cfg = build_config(tmp_path)
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'sipas.sqlite3'}"
    secret = (tmp_path / "secret_key").read_text()
    assert cfg["SECRET_KEY"] == secret and len(secret) >= 48
    assert build_config(tmp_path)["SECRET_KEY"] == secret  # stable across restarts
    assert cfg["BABEL_DEFAULT_LOCALE"] == "vi"


def test_postgres_url_uses_psycopg3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("SIPAS_DATABASE_URL", "postgresql://u@h:5432/db")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h:5432/db"


@pytest.mark.parametrize(("secret", "base", "needle"), [
    ("", "https://khaosat.tayninh.gov.vn", "SIPAS_SECRET_KEY"),
    ("changeme", "https://khaosat.tayninh.gov.vn", "SIPAS_SECRET_KEY"),
    (STRONG, "", "SIPAS_PUBLIC_BASE_URL"),
    (STRONG, "http://khaosat.tayninh.gov.vn", "SIPAS_PUBLIC_BASE_URL"),
])
def test_production_refuses_weak_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          secret: str, base: str, needle: str) -> None:
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("SIPAS_SECRET_KEY", secret)
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", base)
    monkeypatch.setenv("SIPAS_DATABASE_URL", "postgresql://sipas@127.0.0.1/sipas")
    with pytest.raises(ConfigError, match=needle):
        build_config(tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_real_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("SIPAS_SECRET_KEY", STRONG)
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "https://khaosat.tayninh.gov.vn/")
    monkeypatch.setenv("SIPAS_DATABASE_URL", "postgresql://sipas@127.0.0.1/sipas")
    cfg = build_config(tmp_path)
    assert cfg["PUBLIC_BASE_URL"] == "https://khaosat.tayninh.gov.vn"
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_trusted_proxy_gives_the_citizens_address(tmp_path: Path) -> None:
    from flask import request

    from survey import create_app

    seen: list[str | None] = []
    for hops in (0, 1):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": str(tmp_path),
                          "TRUSTED_PROXIES": hops, "SECRET_KEY": "k" * 40})
        app.add_url_rule("/ip", "ip", lambda: request.remote_addr or "")
        seen.append(app.test_client().get(
            "/ip", headers={"X-Forwarded-For": "198.51.100.7"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True))
    assert seen == ["127.0.0.1", "198.51.100.7"]


# --- configuration that refuses to be wrong ------------------------------------------


def _production(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    values = {"SIPAS_ENV": "production", "SIPAS_SECRET_KEY": STRONG,
              "SIPAS_PUBLIC_BASE_URL": "https://khaosat.tayninh.gov.vn",
              "SIPAS_DATABASE_URL": "postgresql://sipas@127.0.0.1/sipas", **env}
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", "production ", "dev",
                                   "staging", ""])
def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        value: str) -> None:
    _production(monkeypatch, SIPAS_ENV=value)
    with pytest.raises(ConfigError, match="SIPAS_ENV") as err:
        build_config(tmp_path)
    assert "development, production or testing" in str(err.value)
    assert not (tmp_path / "secret_key").exists()  # not quietly run as development


@pytest.mark.parametrize("value", ["development", "production", "testing"])
def test_the_three_environments_are_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             value: str) -> None:
    _production(monkeypatch, SIPAS_ENV=value)
    cfg = build_config(tmp_path)
    assert cfg["SIPAS_ENV"] == value
    assert cfg["SESSION_COOKIE_SECURE"] is (value == "production")


def test_production_without_a_database_url_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    _production(monkeypatch)
    monkeypatch.delenv("SIPAS_DATABASE_URL")
    with pytest.raises(ConfigError, match="SIPAS_DATABASE_URL"):
        build_config(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://sipas@db/sipas")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://sipas@db/sipas"


@pytest.mark.parametrize("secret", [
    "a" * 32, "a" * 64, "ab" * 16, "abcd" * 12, "changeme" * 4, "0123456789abcdef" * 2,
    "Password123" * 3, "x" * 40, "k" * 48,
])
def test_production_refuses_a_weak_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          secret: str) -> None:
    _production(monkeypatch, SIPAS_SECRET_KEY=secret)
    with pytest.raises(ConfigError, match="SIPAS_SECRET_KEY"):
        build_config(tmp_path)


def test_production_accepts_generated_secrets(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    import secrets

    for _ in range(200):
        for secret in (secrets.token_urlsafe(48), secrets.token_urlsafe(24),
                       secrets.token_hex(16), secrets.token_hex(32)):
            _production(monkeypatch, SIPAS_SECRET_KEY=secret)
            assert build_config(tmp_path)["SECRET_KEY"] == secret


@pytest.mark.parametrize("name", ["SIPAS_LOGIN_RATE_LIMIT", "SIPAS_SUBMIT_RATE_LIMIT",
                                  "SIPAS_SUBMIT_IP_CEILING", "SIPAS_API_RATE_LIMIT",
                                  "SIPAS_KIOSK_PIN_RATE_LIMIT"])
@pytest.mark.parametrize("value", ["tons", "10 per fortnight", "", "10 per minute;",
                                   "0 per minute"])
def test_an_invalid_rate_limit_is_refused_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str) -> None:
    for each in ("SIPAS_ENV", "SIPAS_SECRET_KEY", "SIPAS_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        build_config(tmp_path)


def test_an_invalid_rate_limit_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SIPAS_SUBMIT_RATE_LIMIT"):
        build_config(tmp_path, {"SUBMIT_RATE_LIMIT": "3 a minute"})


def test_valid_rate_limits_are_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIPAS_LOGIN_RATE_LIMIT", "5/minute;20 per hour")
    monkeypatch.setenv("SIPAS_SUBMIT_IP_CEILING", "1000 per hour")
    cfg = build_config(tmp_path)
    assert cfg["LOGIN_RATE_LIMIT"] == "5/minute;20 per hour"
    assert cfg["SUBMIT_IP_CEILING"] == "1000 per hour"


def test_demo_seed_refuses_in_production(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from survey import create_app
    from survey.extensions import db
    from survey.models import Unit, User

    app = create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
                      "SECRET_KEY": STRONG, "PUBLIC_BASE_URL": "https://khaosat.tayninh.gov.vn",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        try:
            result = app.test_cli_runner().invoke(args=["demo", "seed", "--no-responses"])
            assert result.exit_code != 0
            assert "production" in result.output and "admin" in result.output
            assert db.session.scalar(select(func.count()).select_from(User)) == 0
            assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_redis_client_is_a_pinned_requirement() -> None:
    """The README's production steps use a Redis rate-limit store: the client must be
    installed by requirements.txt (without it ``flask db upgrade`` failed at start)."""
    from limits.storage import storage_from_string

    from survey import ROOT

    pins = [line.split("==")[0].strip().lower()
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if "==" in line and not line.lstrip().startswith("#")]
    assert "redis" in pins
    # Builds the client without connecting (port 9 is never a Redis server).
    assert storage_from_string("redis://127.0.0.1:9/0") is not None


@pytest.mark.parametrize(("env", "shown"), [("production", False), ("development", True)])
def test_logged_database_errors_hide_sql_parameters_in_production(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        env: str, shown: bool) -> None:
    """A failed query with a link token as parameter: the logged error names the token in
    development (for debugging) and never in production."""
    import logging

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from survey import create_app
    from survey.extensions import db

    token = "Lk7-secret-link-token-2f9c"
    import os

    url = os.environ.get("SIPAS_TEST_DATABASE_URL") or "sqlite://"  # PostgreSQL when set
    _production(monkeypatch, SIPAS_ENV=env, SIPAS_DATABASE_URL=url)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), caplog.at_level(logging.ERROR):
        assert db.engine.hide_parameters is not shown
        with pytest.raises(DBAPIError) as failed:
            db.session.execute(text("SELECT id FROM no_such_table WHERE token = :t"),
                               {"t": token})
        app.logger.exception("citizen page failed: %s", failed.value)
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()  # this app's own pool: no connection left open
    assert "no_such_table" in caplog.text  # the error itself is logged
    assert (token in caplog.text) is shown
    assert (token in str(failed.value)) is shown
