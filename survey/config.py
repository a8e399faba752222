"""Configuration.

Every setting can come from the environment (see the table in README.md). SQLite in the
instance folder is the embedded default; ``SIPAS_DATABASE_URL`` (or ``DATABASE_URL``)
selects PostgreSQL through psycopg 3. Production mode refuses to start without a real
secret key and a public base URL, because QR codes encode that URL for years.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

WEAK_SECRETS = {"", "dev", "changeme", "secret", "change-me"}


class ConfigError(RuntimeError):
    """The configuration is unusable; the message says which variable to set."""


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(instance_path: Path) -> str:
    """A per-installation random secret kept in the instance folder (never committed)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the configuration mapping from defaults, environment and ``overrides``."""
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", None) or os.environ.get("SIPAS_ENV", "development")
    database_url = (
        overrides.pop("SQLALCHEMY_DATABASE_URI", None)
        or os.environ.get("SIPAS_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'sipas.sqlite3'}"
    )
    cfg: dict[str, Any] = {
        "SIPAS_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": os.environ.get("SIPAS_SECRET_KEY", ""),
        "PUBLIC_BASE_URL": os.environ.get("SIPAS_PUBLIC_BASE_URL", "").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SIPAS_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "LANGUAGES": ("vi", "en"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("SIPAS_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "RATELIMIT_STORAGE_URI": os.environ.get("SIPAS_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("SIPAS_RATELIMIT_ENABLED", True),
        "LOGIN_RATE_LIMIT": os.environ.get("SIPAS_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "WTF_CSRF_TIME_LIMIT": None,
        # Citizen pages
        "DEFAULT_QUESTIONNAIRE": os.environ.get("SIPAS_DEFAULT_QUESTIONNAIRE", "desk_rating"),
        "PUBLIC_MAX_CONTENT_LENGTH": int(os.environ.get("SIPAS_PUBLIC_MAX_CONTENT_LENGTH",
                                                        64 * 1024)),
        "SUBMIT_RATE_LIMIT": os.environ.get("SIPAS_SUBMIT_RATE_LIMIT", "20 per minute"),
        "SUBMIT_IP_CEILING": os.environ.get("SIPAS_SUBMIT_IP_CEILING", "600 per hour"),
        "KIOSK_RESET_SECONDS": int(os.environ.get("SIPAS_KIOSK_RESET_SECONDS", 10)),
        "KIOSK_IDLE_SECONDS": int(os.environ.get("SIPAS_KIOSK_IDLE_SECONDS", 180)),
        "TOKEN_TTL_DAYS": int(os.environ.get("SIPAS_TOKEN_TTL_DAYS", 30)),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted
        # (gunicorn behind nginx: 1). Without it every citizen seems to come from the proxy.
        "TRUSTED_PROXIES": int(os.environ.get("SIPAS_TRUSTED_PROXIES", 0)),
        "API_RATE_LIMIT": os.environ.get("SIPAS_API_RATE_LIMIT", "120 per minute;5000 per hour"),
    }
    cfg.update(overrides)
    if env == "production":
        if cfg["SECRET_KEY"] in WEAK_SECRETS or len(cfg["SECRET_KEY"]) < 32:
            raise ConfigError(
                "SIPAS_SECRET_KEY must be set to a random string of at least 32 characters "
                "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if not cfg["PUBLIC_BASE_URL"].startswith("https://"):
            raise ConfigError(
                "SIPAS_PUBLIC_BASE_URL must be the public https:// address of the platform "
                "in production: QR codes and posters encode it."
            )
    else:
        if not cfg["SECRET_KEY"]:
            cfg["SECRET_KEY"] = _dev_secret(instance_path)
        if not cfg["PUBLIC_BASE_URL"]:
            cfg["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    return cfg
