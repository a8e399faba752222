"""Sign-in throttling: failures only, with a delay that grows, never a lock-out.

Two counters of failed sign-ins: one per account *at one address*, one per address. A
successful sign-in never counts, and resets the account's counter at that address; so an
office of forty behind one NAT address is not slowed by its own sign-ins, and somebody
typing wrong passwords for an account from elsewhere slows only themselves, never the
account's owner at their own desk. An account that signed in successfully from an
address within :data:`KNOWN_FOR` is not slowed by that address's counter, so typing
mistakes of a whole office (or somebody there guessing other accounts) never keep its
regular staff out. Past a few free failures each further one doubles the
wait (2, 4, 8 … seconds, at most :data:`MAX_DELAY`); an attempt during the wait is refused
without checking the password and without counting. Counters older than :data:`FORGET`
start again from zero. Keys are HMACs under the secret key: no address or username is
stored. Times come from :func:`survey.common.clock.utcnow`, so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from survey.common import clock
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import SignInFailure

FREE = {"account": 3, "address": 20}  # failures before any wait
MAX_DELAY = dt.timedelta(minutes=15)
FORGET = dt.timedelta(hours=24)
KNOWN_FOR = dt.timedelta(days=30)


def _key(kind: str, *parts: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = "\x00".join(("sign-in", kind, *parts)).encode("utf-8", "replace")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def keys(username: str, address: str) -> dict[str, str]:
    name = username.strip().lower()
    return {"account": _key("account", name, address), "address": _key("address", address),
            "known": _key("known", name, address)}


def delay_after(failures: int, free: int) -> dt.timedelta:
    """The wait after ``failures`` failures of which ``free`` cost nothing."""
    if failures <= free:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - free, 20)), MAX_DELAY)


def wait(username: str, address: str) -> int:
    """Whole seconds to wait before the next attempt may be checked (0: go ahead)."""
    now = clock.utcnow()
    named = keys(username, address)
    rows = {row.key: row for row in db.session.scalars(
        select(SignInFailure).where(SignInFailure.key.in_(named.values())))}
    known = rows.get(named.pop("known"))
    if known is not None and _aware(known.last_at) + KNOWN_FOR >= now:
        named.pop("address")  # signed in here before: only this account's failures count
    longest = dt.timedelta(0)
    for kind, key in named.items():
        row = rows.get(key)
        if row is None or _aware(row.last_at) + FORGET < now:
            continue
        until = _aware(row.last_at) + delay_after(row.failures, FREE[kind])
        longest = max(longest, until - now)
    return math.ceil(longest.total_seconds())


@use_case
def record_failure(username: str, address: str) -> None:
    now = clock.utcnow()
    named = keys(username, address)
    # Nothing older than KNOWN_FOR matters any more: the table stays small.
    db.session.execute(delete(SignInFailure).where(SignInFailure.last_at < now - KNOWN_FOR))
    for key in (named["account"], named["address"]):
        row = db.session.get(SignInFailure, key)
        if row is None:
            db.session.add(SignInFailure(key=key, failures=1, last_at=now))
        else:
            row.failures = 1 if _aware(row.last_at) + FORGET < now else row.failures + 1
            row.last_at = now
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent first failure under the same key: one is enough
        db.session.rollback()


@use_case
def record_success(username: str, address: str) -> None:
    """The account's failures at this address are forgotten (the address's stay), and
    the account is known at this address for :data:`KNOWN_FOR`."""
    named = keys(username, address)
    db.session.execute(delete(SignInFailure).where(
        SignInFailure.key.in_((named["account"], named["known"]))))
    db.session.add(SignInFailure(key=named["known"], failures=0, last_at=clock.utcnow()))
    try:
        db.session.commit()
    except IntegrityError:  # the same account signing in twice at once from here
        db.session.rollback()


def _aware(when: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes for timezone-aware columns.
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
