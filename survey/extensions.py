"""Flask extensions, created unbound and initialised in :func:`survey.create_app`."""

from __future__ import annotations

import enum

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Typed declarative base with a constraint naming convention (stable migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def in_values(column: str, values: type[enum.Enum]) -> str:
    """SQL of a CHECK constraint that keeps ``column`` within an enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _client_ip() -> str:
    # Only used as an in-memory rate-limit key; never stored.
    from flask import request

    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
# The user loader (survey/web.py) accepts a session only while its row is open and its
# version current: survey/org/services/sessions.py.
login_manager = LoginManager()
limiter = Limiter(key_func=_client_ip, default_limits=[])
