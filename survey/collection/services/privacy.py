"""No raw IP address or device cookie is ever stored: only an HMAC under a salt of the
day. Hashes can be compared within a day (bursts from one device) and not linked across
days. The day is the local day of the platform's time zone, so the salt rotates at
midnight, not when desks open.

The salt is never stored: it is derived as HMAC-SHA256(secret key, "pseudonym-salt:" +
day), the secret key being ``PSEUDONYM_KEY`` if configured, else ``SECRET_KEY``; both come
from the environment and never reach the database. Whoever reads the database (a backup,
a leaked dump) therefore cannot try every IPv4 address against the hashes, as they could
while the salt sat in a table next to them; every worker derives the same salt without
a shared store (so bursts are still seen across workers), and nothing needs expiring.
The price: whoever holds both the key and the database could recompute any day's salt;
keep the key out of backups, and rotate it (a new key only makes new hashes differ from
old ones, which nothing compares across days).

Log redaction: :class:`RedactSecrets` removes link keys and one-time token secrets from
log records (werkzeug's and gunicorn's access lines, error logs), see :func:`redact`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re

from flask import current_app


def _salt(day: dt.date) -> bytes:
    key = current_app.config.get("PSEUDONYM_KEY") or current_app.config["SECRET_KEY"]
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, f"pseudonym-salt:{day.isoformat()}".encode(), hashlib.sha256).digest()


def pseudonym(value: str | None, day: dt.date) -> str | None:
    """HMAC-SHA256 of ``value`` under the day's salt, or None for a missing value."""
    if not value:
        return None
    return hmac.new(_salt(day), value.encode("utf-8"), hashlib.sha256).hexdigest()


# /q/<link key>, /k/<link key>, /t/<one-time secret> (and whatever follows them): the key
# is the credential, so a log line keeps the route and drops the key.
_SECRET_PATH = re.compile(r"(/(?:q|k|t)/)[^/\s?\"']+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every citizen link key and token secret in a path replaced."""
    return _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecrets(logging.Filter):
    """A logging filter that redacts link keys and token secrets in a record's message
    and arguments (werkzeug passes the request line as an argument, gunicorn's access
    log a dict of atoms)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            # In place: gunicorn's atoms are a dict subclass that answers "-" for a
            # missing atom.
            for k, v in list(record.args.items()):
                if isinstance(v, str):
                    record.args[k] = redact(v)
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask.app", "survey")


def install_log_redaction(names: tuple[str, ...] = LOGGERS) -> None:
    """Attach :class:`RedactSecrets` to the loggers that see request paths (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())
