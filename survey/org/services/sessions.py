"""Signed-in sessions, one row each (:class:`~survey.org.models.UserSession`).

Sessions and remember-me cookies hold ``User.get_id()``: ``"<id>:<version>:<key>"``. The
key is 32 random bytes the browser keeps; the database stores its SHA-256 only, so a
copy of the table signs nobody in. A cookie is accepted while its version is the
account's ``session_version`` and its row has not ended:

- signing out ends this browser's row only (the person's other computers stay signed in);
- "sign out everywhere", a new password and an administrator end every row and raise the
  version (a cookie of any earlier form is refused too);
- the account page lists the open rows (browser, signed in, last seen) and ends one.

``last_seen_at`` is written at most every :data:`SEEN_EVERY` so that pages do not each
cost a write. A session unused for ``SESSION_IDLE_DAYS`` (30 by default) ends when it next
comes back (sign in again); a sign-in clears the account's rows ended more than
:data:`KEEP_ENDED` ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from survey.common.clock import utcnow
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import User, UserSession

SEEN_EVERY = dt.timedelta(minutes=5)
KEEP_ENDED = dt.timedelta(days=90)
AGENT_CHARS = 120


def idle_limit() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get("SESSION_IDLE_DAYS", 30)))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@use_case
def start(user: User, agent: str | None) -> str:
    """A new session of ``user``: its row, and the key the caller signs the browser in
    with (``user.session_key`` and ``session_id`` are set, so that ``login_user(user)``
    stores the key)."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at < now - KEEP_ENDED))
    row = UserSession(user_id=user.id, key_hash=_digest(key),
                      agent=(agent or "").strip()[:AGENT_CHARS], created_at=now,
                      last_seen_at=now)
    db.session.add(row)
    commit_or_refuse()
    user.session_key, user.session_id = key, row.id
    return key


def load(token: str) -> User | None:
    """The account a cookie's ``id:version:key`` stands for, or None (unknown, inactive,
    an old version, an ended or unknown session, a malformed value)."""
    ident, _sep, rest = token.partition(":")
    version, _sep, key = rest.partition(":")
    if not ident.isdigit() or not version.isdigit() or not key or len(ident) > 18:
        return None
    row = db.session.execute(
        select(User, UserSession).join(UserSession, UserSession.user_id == User.id).where(
            User.id == int(ident), UserSession.key_hash == _digest(key),
            UserSession.ended_at.is_(None))).first()
    if row is None:
        return None
    user, session = row
    if not user.active or (user.session_version or 1) != int(version):
        return None
    now = utcnow()
    idle = now - _aware(session.last_seen_at)
    if idle > idle_limit():  # unused too long: it ends, the browser signs in again
        db.session.execute(update(UserSession).where(UserSession.id == session.id).values(
            ended_at=now))
        db.session.commit()
        return None
    user.session_key, user.session_id = key, session.id
    if idle >= SEEN_EVERY:
        db.session.execute(update(UserSession).where(UserSession.id == session.id).values(
            last_seen_at=now))
        db.session.commit()
    return user


def end_every(user: User) -> None:
    """Every session of ``user`` ends; part of the caller's use case (a password change,
    "sign out everywhere", an administrator). The version rises, so that a cookie of any
    form issued before is refused; it is what the audit log records."""
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)).values(
        ended_at=utcnow()))


@use_case
def end_current(user: User) -> None:
    """Sign-out: this browser's session ends (a copy of its cookie is refused from now
    on); the account's other sessions go on."""
    if user.session_id is not None:
        db.session.execute(update(UserSession).where(
            UserSession.id == user.session_id, UserSession.ended_at.is_(None)).values(
            ended_at=utcnow()))
    commit_or_refuse()


@use_case
def end_one(user: User, session_id: int) -> None:
    """The account page: one of one's own sessions ends (another person's, or one already
    ended, is refused and nothing changes)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise ServiceError(_("This session is not one of your open sessions."))
    row.ended_at = utcnow()
    commit_or_refuse()


def open_sessions(user: User) -> list[UserSession]:
    """The account's open sessions (not idle too long), the most recently seen first."""
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None),
        UserSession.last_seen_at >= utcnow() - idle_limit()).order_by(
        UserSession.last_seen_at.desc(), UserSession.id.desc())))
