"""Sign-in: password check with constant work whether or not the account exists."""

from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from survey.common.clock import utcnow
from survey.extensions import db
from survey.org.models import User


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
