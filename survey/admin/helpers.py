from __future__ import annotations

from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from survey.extensions import db
from survey.services.errors import ServiceError


def show_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Put a refused use case's message beside its field, or at the top of the page."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]  # type: ignore[list-item]
    flash(error.message, "error")


def form_values(form: FlaskForm, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in names}
