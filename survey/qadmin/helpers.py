"""Shared pieces of the questionnaire views."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WResponse

from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.services import questionnaire_drafts as drafts
from survey.services.errors import ServiceError
from survey.services.scope import require


def lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def version_or_404(version_id: int) -> QuestionnaireVersion:
    require("view")
    row = db.session.get(QuestionnaireVersion, version_id)
    if row is None:
        abort(404)
    return row


def draft_or_409(version_id: int) -> QuestionnaireVersion:
    """A draft the user may edit: 403 without the right, 409 for a fixed version."""
    require("manage_questionnaires")
    row = version_or_404(version_id)
    try:
        drafts.require_draft(row)
    except drafts.NotEditable as err:
        response = current_app.make_response(render_template(
            "error.html", code=409, title=_l("This version cannot change"), message=err.message))
        response.status_code = 409
        abort(response)
    return row


def show_error(form: FlaskForm | None, error: ServiceError) -> None:
    """The refusal beside its field (if known) and at the top; nothing was written."""
    db.session.rollback()
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]  # type: ignore[list-item]
    flash(error.message, "error")


def to_editor(row: QuestionnaireVersion, anchor: str = "") -> WResponse:
    return redirect(url_for("qadmin.editor", version_id=row.id) + (f"#{anchor}" if anchor else ""))


def values(form: FlaskForm, skip: tuple[str, ...] = ("submit", "csrf_token")) -> dict[str, Any]:
    return {name: field.data for name, field in form._fields.items() if name not in skip}


def posted(form: FlaskForm, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """:func:`values`, without the ``optional`` fields the request did not send: a client
    that does not know a field (an older page, a script) leaves its content unchanged."""
    return {name: value for name, value in values(form).items()
            if name not in optional or name in request.form}
