"""Configuration.

Every setting can come from the environment (see the table in README.md). SQLite in the
instance folder is the embedded default; ``SIPAS_DATABASE_URL`` (or ``DATABASE_URL``)
selects PostgreSQL through psycopg 3. Production mode refuses to start without a real
secret key, a public base URL (QR codes encode it for years) and a database URL.

A setting that is wrong stops the start with a :class:`ConfigError` naming the variable,
rather than running in a mode nobody asked for: an unknown ``SIPAS_ENV`` (``prod``,
``Production``) would otherwise run in development mode, and a rate limit Flask-Limiter
cannot parse would otherwise switch that limit off.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

from limits import parse_many

ENVIRONMENTS = ("development", "production", "testing")
WEAK_SECRETS = {"", "dev", "changeme", "secret", "change-me"}
SECRET_MIN_LENGTH = 32
# Estimated bits of a secret (its length times the entropy of its character frequencies).
# secrets.token_hex(16), the smallest generated secret worth accepting, never came below
# 94 in 100,000 draws; 32 × "a" has 0, "changeme" × 4 has 88.
SECRET_MIN_BITS = 90
SECRET_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Settings holding a Flask-Limiter rate limit, checked at start (in the configuration
# and in the environment, so that a limit read elsewhere is checked too).
RATE_LIMIT_SETTING = re.compile(r"^(?:SIPAS_)?[A-Z0-9_]*(?:RATE_LIMIT[A-Z0-9_]*|_CEILING)$")


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


def _environment(overrides: dict[str, Any]) -> str:
    env = overrides.pop("ENV", None)
    if env is None:
        env = os.environ.get("SIPAS_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"SIPAS_ENV={env!r} is not a known environment: write development, production "
            "or testing, in lower case (nothing else is accepted, so that a misspelt "
            "production never runs as development).")
    return str(env)


def secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign sessions, or None if it looks random enough."""
    if secret in WEAK_SECRETS or len(secret) < SECRET_MIN_LENGTH:
        return f"shorter than {SECRET_MIN_LENGTH} characters"
    if secret in (secret + secret)[1:-1]:  # a shorter string repeated
        return "a repeated pattern"
    counts = Counter(secret).values()
    bits = -sum(n * math.log2(n / len(secret)) for n in counts)
    if bits < SECRET_MIN_BITS:
        return f"too few different characters (about {bits:.0f} bits, {SECRET_MIN_BITS} needed)"
    return None


def _check_rate_limits(cfg: dict[str, Any]) -> None:
    """Parse every rate-limit setting as Flask-Limiter will; refuse one that fails."""
    found = {f"SIPAS_{k}": v for k, v in cfg.items()
             if RATE_LIMIT_SETTING.match(k) and isinstance(v, str)}
    found.update({k: v for k, v in os.environ.items()
                  if k.startswith("SIPAS_") and RATE_LIMIT_SETTING.match(k)})
    for name, value in sorted(found.items()):
        if name.endswith("_ENABLED"):  # a switch, not a limit
            continue
        try:
            items = parse_many(str(value))
            if any(item.amount < 1 for item in items):
                raise ValueError("a limit of 0 refuses everything")
        except ValueError as err:
            raise ConfigError(
                f"{name}={value!r} is not a rate limit ({err}): write e.g. '20 per minute' "
                "or '10 per minute;50 per hour'.") from err


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the configuration mapping from defaults, environment and ``overrides``;
    :class:`ConfigError` if a setting is missing or wrong."""
    overrides = dict(overrides or {})
    env = _environment(overrides)
    database_url = (
        overrides.pop("SQLALCHEMY_DATABASE_URI", None)
        or os.environ.get("SIPAS_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not database_url and env == "production":
        raise ConfigError(
            "SIPAS_DATABASE_URL (or DATABASE_URL) must name the PostgreSQL database in "
            "production, e.g. postgresql://sipas@127.0.0.1/sipas; the embedded SQLite "
            "database is for development only.")
    database_url = database_url or f"sqlite:///{instance_path / 'sipas.sqlite3'}"
    cfg: dict[str, Any] = {
        "SIPAS_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # Production error logs must not carry SQL parameters (a link token, a one-time
        # secret in a failed query): SQLAlchemy then writes "[SQL parameters hidden ...]".
        # Development and tests keep them, for debugging.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                      "hide_parameters": env == "production"},
        "SECRET_KEY": os.environ.get("SIPAS_SECRET_KEY", ""),
        "PUBLIC_BASE_URL": os.environ.get("SIPAS_PUBLIC_BASE_URL", "").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SIPAS_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "LANGUAGES": ("vi", "en"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("SIPAS_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "RATELIMIT_STORAGE_URI": os.environ.get("SIPAS_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("SIPAS_RATELIMIT_ENABLED", True),
        # Redis away: count in each worker's memory until it is back (logged once), so
        # that no answer and no sign-in is lost to a missing rate-limit store.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("SIPAS_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        # The remember-me cookie signs a staff member in: no script reads it, no
        # cross-site POST carries it.
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        # Microdata bundles of larger snapshots are written outside the request (a
        # worker thread or `flask results microdata --for-download`), then served.
        "BUNDLE_INLINE_MAX": int(os.environ.get("SIPAS_BUNDLE_INLINE_MAX", 100_000)),
        # A staff session unused this many days ends (its remember-me cookie too).
        "SESSION_IDLE_DAYS": int(os.environ.get("SIPAS_SESSION_IDLE_DAYS", 30)),
        "WTF_CSRF_TIME_LIMIT": None,
        # Citizen pages
        "DEFAULT_QUESTIONNAIRE": os.environ.get("SIPAS_DEFAULT_QUESTIONNAIRE", "desk_rating"),
        "PUBLIC_MAX_CONTENT_LENGTH": int(os.environ.get("SIPAS_PUBLIC_MAX_CONTENT_LENGTH",
                                                        64 * 1024)),
        # Citizen POSTs (one a page). Many phones share one office's NAT address, and the
        # device cookie is the client's to change: per link + device (a polite phone), per
        # link + address (junk sent to one desk's link locks out only that desk, for at
        # most a minute) and per address (a flood over every link). Short windows: a
        # lock-out ends within a minute and the 429 page says how long.
        "SUBMIT_RATE_LIMIT": os.environ.get("SIPAS_SUBMIT_RATE_LIMIT", "20 per minute"),
        "SUBMIT_LINK_RATE_LIMIT": os.environ.get("SIPAS_SUBMIT_LINK_RATE_LIMIT",
                                                 "60 per minute"),
        "SUBMIT_IP_CEILING": os.environ.get("SIPAS_SUBMIT_IP_CEILING", "120 per minute"),
        # Wrong kiosk PINs, per link whatever the device or address (4 digits: 10,000).
        "KIOSK_PIN_RATE_LIMIT": os.environ.get("SIPAS_KIOSK_PIN_RATE_LIMIT",
                                               "5 per minute;30 per hour"),
        "KIOSK_RESET_SECONDS": int(os.environ.get("SIPAS_KIOSK_RESET_SECONDS", 10)),
        "KIOSK_IDLE_SECONDS": int(os.environ.get("SIPAS_KIOSK_IDLE_SECONDS", 180)),
        "TOKEN_TTL_DAYS": int(os.environ.get("SIPAS_TOKEN_TTL_DAYS", 30)),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted
        # (gunicorn behind nginx: 1). Without it every citizen seems to come from the proxy.
        "TRUSTED_PROXIES": int(os.environ.get("SIPAS_TRUSTED_PROXIES", 0)),
        "API_RATE_LIMIT": os.environ.get("SIPAS_API_RATE_LIMIT", "120 per minute;5000 per hour"),
    }
    cfg.update(overrides)
    _check_rate_limits(cfg)
    if env == "production":
        weakness = secret_weakness(cfg["SECRET_KEY"])
        if weakness is not None:
            raise ConfigError(
                f"SIPAS_SECRET_KEY is too weak ({weakness}): set it to a random string of at "
                f"least {SECRET_MIN_LENGTH} characters in production ({SECRET_HINT}).")
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
