"""No raw IP address or device cookie is ever stored: only an HMAC with a random salt
of the day. Hashes can be compared within a day (bursts from one device) and not
linked across days; salts older than two days are deleted."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import DailySalt

KEEP_DAYS = 2


def _salt(day: dt.date) -> str:
    row = db.session.get(DailySalt, day)
    if row is not None:
        return row.salt
    # Create today's salt in its own short transaction; a concurrent worker may win.
    with db.engine.begin() as conn:
        try:
            conn.execute(DailySalt.__table__.insert().values(day=day,
                                                             salt=secrets.token_hex(32)))
        except IntegrityError:
            pass
        conn.execute(delete(DailySalt).where(DailySalt.day < day - dt.timedelta(days=KEEP_DAYS)))
    salt = db.session.scalar(select(DailySalt.salt).where(DailySalt.day == day))
    assert salt is not None
    return salt


def pseudonym(value: str | None, day: dt.date) -> str | None:
    """HMAC-SHA256 of ``value`` under the day's salt, or None for a missing value."""
    if not value:
        return None
    return hmac.new(_salt(day).encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()
