"""Sign-in (a password check with constant work whether or not the account exists) and
the account's sessions: sign-out, "sign out everywhere", one's own password."""

from __future__ import annotations

import functools

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from survey.common.clock import utcnow
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import User
from survey.org.services import sessions
from survey.org.services.users import check_password_strength


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def hash_method() -> str:
    """Werkzeug's scrypt (memory-hard, salted); tests may configure a cheaper method."""
    return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(hash_method()), password)  # a real check's cost
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def revoke(user: User) -> None:
    """Every session and remember-me cookie of ``user`` stops working (see
    :mod:`survey.org.services.sessions`). Part of the caller's use case."""
    sessions.end_every(user)


@use_case
def end_sessions(user: User) -> None:
    """"Sign out everywhere", or an administrator ending another account's sessions: a
    copied cookie is refused afterwards (audited as a change of the account's
    session_version). Signing out ends one session: ``sessions.end_current``."""
    revoke(user)
    commit_or_refuse()


@use_case
def change_own_password(user: User, current: str, new: str) -> None:
    """One's own password, after the current one; every session ends (the caller
    starts a new one for this browser)."""
    if not user.check_password(current):
        raise ServiceError(_("The current password is wrong."), "current")
    check_password_strength(new)
    user.set_password(new)
    revoke(user)
    commit_or_refuse()
