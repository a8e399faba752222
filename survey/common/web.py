"""Helpers the staff views of every domain share: refusals shown beside their field."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, flash, g
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf import FlaskForm

from survey.common.access import Permission, Scope
from survey.common.errors import ServiceError
from survey.extensions import limiter


def show_service_error(form: FlaskForm | None, error: ServiceError) -> None:
    """Put a refused use case's message beside its field, and at the top of the page.
    (The use case has rolled back what it changed: see transactions.use_case.)"""
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]  # type: ignore[list-item]
    flash(error.message, "error")


def form_values(form: FlaskForm, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in names}


def lang() -> str:
    """The interface language of this request: ``vi`` (default) or ``en``."""
    return "en" if str(get_locale()) == "en" else "vi"


def current_scope() -> Scope:
    """The scope of the signed-in staff member, computed once per request."""
    if "sipas_scope" not in g:
        g.sipas_scope = Scope.for_user(current_user) if current_user.is_authenticated else Scope(())
    scope: Scope = g.sipas_scope
    return scope


def require(permission: Permission) -> Scope:
    """The current scope if it holds ``permission``; a 403 page otherwise."""
    return current_scope().require(permission)


def download(data: bytes, mimetype: str, name: str) -> Response:
    """An attachment no cache keeps (a replaced link, an export within a scope)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def retry_after() -> int:
    """Seconds until the rate limit this request broke lets it through (what the
    Retry-After header says), at least 1."""
    try:
        current = limiter.current_limit
        return max(1, int(current.reset_at - time.time())) if current else 60
    except Exception:  # noqa: BLE001  (the store went away meanwhile: a fair guess)
        return 60
