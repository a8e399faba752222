from __future__ import annotations

from typing import Literal

from flask import abort, flash, request
from flask_wtf import FlaskForm

from survey.extensions import db
from survey.services.errors import ServiceError


def show_service_error(form: FlaskForm | None, error: ServiceError) -> None:
    """Put a refused use case's message beside its field, and at the top of the page."""
    db.session.rollback()
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]  # type: ignore[list-item]
    flash(error.message, "error")


def paper_size() -> Literal["A4", "A5"]:
    size = request.args.get("size", "A4")
    if size not in ("A4", "A5"):
        abort(404)
    return "A4" if size == "A4" else "A5"
