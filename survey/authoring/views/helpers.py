"""Shared pieces of the questionnaire views."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WResponse

from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import drafts
from survey.common.web import require
from survey.extensions import db


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


def to_editor(row: QuestionnaireVersion, anchor: str = "") -> WResponse:
    url = url_for("authoring.editor", version_id=row.id)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def values(form: FlaskForm, skip: tuple[str, ...] = ("submit", "csrf_token")) -> dict[str, Any]:
    return {name: field.data for name, field in form._fields.items() if name not in skip}


def posted(form: FlaskForm, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """:func:`values`, without the ``optional`` fields the request did not send: a client
    that does not know a field (an older page, a script) leaves its content unchanged."""
    return {name: value for name, value in values(form).items()
            if name not in optional or name in request.form}
