"""Answer scales of a draft: one page per scale (its options' values and labels in both
languages; add, remove and reorder options), a page to add a scale, delete an unused one.

Plain forms without JavaScript: the option rows are fields ``value_N``, ``vi_N`` and
``en_N``; one empty row is offered for a new option, an entirely empty row is no option,
and the buttons beside a row (``action=up-N``, ``down-N``, ``delete-N``) save the form
with that change. Every save goes through ``questionnaire_drafts.save_draft``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from survey.authoring.forms import ActionForm, NewScaleForm, ScaleForm, scale_form
from survey.authoring.services import drafts, edits
from survey.authoring.views import bp
from survey.authoring.views.helpers import draft_or_409, save, to_editor
from survey.common.errors import ServiceError

MAX_ROWS = 100
NEW_ROWS = 5


def _posted_rows(default: int) -> int:
    """How many option rows the posted page had (``value_0``, ``value_1``...)."""
    if request.method != "POST":
        return default
    count = 0
    while count < MAX_ROWS and f"value_{count}" in request.form:
        count += 1
    return count or default


def _rows(form: ScaleForm, count: int) -> list[edits.Row]:
    return [((form[f"value_{n}"].data or ""), (form[f"vi_{n}"].data or ""),
             (form[f"en_{n}"].data or "")) for n in range(count)]


def _fields(order: list[int], rows: list[edits.Row]) -> dict[str, str]:
    """Error path inside the scale → the form field of that option's row."""
    kept = [order[n] for n in edits.kept_rows(rows)]
    fields = {"options": f"value_{kept[0] if kept else 0}", "id": "id"}
    for j, n in enumerate(kept):
        fields.update({f"options.{j}.value": f"value_{n}", f"options.{j}.label": f"vi_{n}",
                       f"options.{j}.label.vi": f"vi_{n}", f"options.{j}.label.en": f"en_{n}"})
    return fields


def _render(row: Any, form: ScaleForm, count: int, scale_id: str | None,
            data: dict[str, Any]) -> str:
    return render_template("authoring/scale_form.html", row=row, form=form, scale_id=scale_id,
                           rows=[(form[f"value_{n}"], form[f"vi_{n}"], form[f"en_{n}"])
                                 for n in range(count)],
                           users=edits.scale_users(data, scale_id) if scale_id else [])


@bp.route("/<int:version_id>/scales/<scale_id>", methods=["GET", "POST"])
def edit_scale(version_id: int, scale_id: str) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    try:
        current = edits.scale_rows(data, scale_id)
    except ServiceError:
        abort(404)
    count = _posted_rows(len(current) + 1)
    initial: dict[str, str] = {}
    for n, (value, vi, en) in enumerate(current):
        initial.update({f"value_{n}": value, f"vi_{n}": vi, f"en_{n}": en})
    form = scale_form(ScaleForm, count, initial)
    if form.validate_on_submit():
        typed = _rows(form, count)
        order = edits.row_action(list(range(count)), request.form.get("action", "save"))
        rows = [typed[n] for n in order]
        here = url_for("authoring.edit_scale", version_id=row.id, scale_id=scale_id)
        done = save(row, lambda d: edits.set_scale(d, scale_id, rows), form,
                     _fields(order, rows), target=here)
        if done:
            return done
    return _render(row, form, count, scale_id, data)


@bp.route("/<int:version_id>/scales/new", methods=["GET", "POST"])
def new_scale(version_id: int) -> str | WResponse:
    row = draft_or_409(version_id)
    count = _posted_rows(NEW_ROWS)
    form = scale_form(NewScaleForm, count)
    if form.validate_on_submit():
        scale_id = form["id"].data.strip()
        rows = _rows(form, count)
        here = url_for("authoring.edit_scale", version_id=row.id, scale_id=scale_id)
        done = save(row, lambda d: edits.add_scale(d, scale_id, rows), form,
                     _fields(list(range(count)), rows), target=here)
        if done:
            return done
    return _render(row, form, count, None, drafts.draft_data(row))


@bp.route("/<int:version_id>/scales/<scale_id>/delete", methods=["POST"])
def delete_scale(version_id: int, scale_id: str) -> WResponse:
    row = draft_or_409(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return save(row, lambda d: edits.delete_scale(d, scale_id), None, {}, "scales") or \
        to_editor(row, "scales")
