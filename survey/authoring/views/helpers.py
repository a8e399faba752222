"""Shared pieces of the questionnaire views."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WResponse

from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import drafts
from survey.common.errors import ServiceError
from survey.common.web import require
from survey.common.web import show_service_error as show_error


def version_or_404(version_id: int) -> QuestionnaireVersion:
    require("view")
    return drafts.get_version(version_id)


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


def save(row: Any, change: Any, form: Any, fields: dict[str, str], anchor: str = "",
          target: str | None = None) -> Any:
    """Apply ``change`` to a copy of the draft and save it; on refusal, show why.
    Saved: back to the editor (at ``anchor``) or to ``target``."""
    data = drafts.draft_data(row)
    try:
        drafts.require_unchanged(row, request.form.get("base_hash", ""))
        change(data)
        drafts.save_draft(row, data, fields)
    except ServiceError as err:
        show_error(form, err)
        return None
    flash(_("Changes saved."), "success")
    return redirect(target) if target else to_editor(row, anchor)
