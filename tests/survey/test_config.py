from __future__ import annotations

from pathlib import Path

import pytest

from survey.config import ConfigError, build_config, normalise_database_url


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
    ("x" * 40, "", "SIPAS_PUBLIC_BASE_URL"),
    ("x" * 40, "http://khaosat.tayninh.gov.vn", "SIPAS_PUBLIC_BASE_URL"),
])
def test_production_refuses_weak_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          secret: str, base: str, needle: str) -> None:
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("SIPAS_SECRET_KEY", secret)
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", base)
    with pytest.raises(ConfigError, match=needle):
        build_config(tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_real_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("SIPAS_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "https://khaosat.tayninh.gov.vn/")
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
