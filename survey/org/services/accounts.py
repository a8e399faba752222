"""Sign-in: password check with constant work whether or not the account exists."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from survey.common.clock import utcnow
from survey.extensions import db
from survey.org.models import User

_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same cost as a real check
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user
