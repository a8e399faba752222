from __future__ import annotations

from werkzeug.exceptions import BadRequest


class ServiceError(Exception):
    """A use case refused its input. ``message`` is shown to the clerk (already translated);
    ``field`` names the form field it belongs to, if any. Nothing has been written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def commit_or_refuse() -> None:
    """Commit the use case; a constraint the checks did not foresee (e.g. a concurrent
    edit) becomes a clear refusal with nothing saved."""
    from flask_babel import gettext as _
    from sqlalchemy.exc import IntegrityError

    from survey.extensions import db

    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ServiceError(
            _("The change conflicts with existing data; nothing was saved.")) from exc


class Refusal(Exception):
    """Access refused by a :class:`~survey.common.access.Scope`. Plain values, raised
    anywhere (views, exports, jobs, the API); the web layer answers 404 or 403."""

    status = 403


class NotFound(Refusal):
    """The object does not exist or lies outside the scope: the same answer for both,
    so that nobody can probe for what they may not see."""

    status = 404

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")


class Forbidden(Refusal):
    """The object is in view but the scope lacks the permission asked for."""

    status = 403

    def __init__(self, permission: str) -> None:
        super().__init__(f"permission {permission!r} not granted")
        self.permission = permission


def is_outage(exc: BaseException) -> bool:
    """Is ``exc`` the database being away (stopped, restarting, unreachable, a dropped
    connection), as opposed to a statement the database refused (a NUL byte in a text,
    an integer out of range, invalid text for a type)? An outage deserves a "send again"
    page (503); resending a data error fails the same way forever, so it is a 400."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, ConnectionError)


def is_data_error(exc: BaseException) -> bool:
    """Did the database (or its driver) refuse a value the request carried? (psycopg
    refuses a NUL byte in a text with a ``DataError`` before it reaches the server; a
    lone surrogate cannot be encoded at all.)"""
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(exc, (DataError, UnicodeError)):  # psycopg raises the latter bare
        return True
    return isinstance(exc, StatementError) and isinstance(
        exc.orig, (UnicodeError, ValueError, OverflowError))


class BadInput(BadRequest):
    """A request carrying what no view accepts (a NUL byte, a lone surrogate, JSON nested
    too deeply): refused before anything reads it. ``message`` is shown (translated)."""

    def __init__(self, message: object) -> None:
        super().__init__(description=str(message))
        self.message = message
