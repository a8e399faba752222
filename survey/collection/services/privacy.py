"""No raw IP address or device cookie is ever stored: only an HMAC with a random salt
of the day. Hashes can be compared within a day (bursts from one device) and not
linked across days; salts older than two days are deleted. The day is the local day
of the platform's time zone, so the salt rotates at midnight, not when desks open."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from survey.collection.models import DailySalt
from survey.common import transactions
from survey.extensions import db

KEEP_DAYS = 2
# Salts already read by this process, by (database URL, day): one query per day, not per
# submission. Salts never change once written, so the cache cannot go stale.
_CACHE: dict[tuple[str, dt.date], str] = {}


def _salt(day: dt.date) -> str:
    key = (str(db.engine.url), day)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    salt = db.session.scalar(select(DailySalt.salt).where(DailySalt.day == day))
    if salt is None:
        # Its own short transaction; of concurrent workers the first insert wins.
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        with transactions.own_transaction() as conn:
            conn.execute(insert(DailySalt).values(day=day, salt=secrets.token_hex(32))
                         .on_conflict_do_nothing(index_elements=["day"]))
            conn.execute(delete(DailySalt).where(
                DailySalt.day < day - dt.timedelta(days=KEEP_DAYS)))
            salt = conn.execute(select(DailySalt.salt).where(DailySalt.day == day)).scalar()
    assert salt is not None
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = salt
    return salt


def pseudonym(value: str | None, day: dt.date) -> str | None:
    """HMAC-SHA256 of ``value`` under the day's salt, or None for a missing value."""
    if not value:
        return None
    return hmac.new(_salt(day).encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()
