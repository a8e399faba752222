"""Questions of a draft: one page per question to edit or add; up, down and delete."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from werkzeug.wrappers import Response as WResponse

from survey.authoring.forms import ActionForm, ItemForm, NewItemForm
from survey.authoring.services import drafts, edits
from survey.authoring.views import bp
from survey.authoring.views.helpers import draft_or_409, posted, save, to_editor, values
from survey.common.errors import ServiceError


def _earlier(data: dict[str, Any], section: int, index: int | None) -> list[tuple[str, str]]:
    """Choice questions before this one (show_if may only look back)."""
    out: list[tuple[str, str]] = []
    for s_index, s in enumerate(data["sections"]):
        for i_index, item in enumerate(s["items"]):
            if s_index > section or (s_index == section and index is not None
                                     and i_index >= index):
                return out
            if item["type"] in (*edits.SCALED, "yes_no"):
                out.append((item["id"], f"{item['id']} – {item['text']['vi'][:60]}"))
    return out


def _fill(form: ItemForm, data: dict[str, Any], section: int, index: int | None) -> None:
    form.fill_choices(sorted(data["scales"]), _earlier(data, section, index))


@bp.route("/<int:version_id>/sections/<int:section>/items/<int:index>",
          methods=["GET", "POST"])
def edit_item(version_id: int, section: int, index: int) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    try:
        item = edits.item_at(data, section, index)
    except ServiceError:
        abort(404)
    form = ItemForm(data=edits.item_values(item))
    _fill(form, data, section, index)
    if form.validate_on_submit():
        done = save(row, lambda d: edits.set_item(edits.item_at(d, section, index),
                                                   posted(form, edits.ITEM_OPTIONAL)),
                     form, edits.ITEM_FIELDS, f"i-{item['id']}")
        if done:
            return done
    return render_template("authoring/item_form.html", row=row, form=form, item=item,
                           section=data["sections"][section])


@bp.route("/<int:version_id>/sections/<int:section>/items/new", methods=["GET", "POST"])
def new_item(version_id: int, section: int) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    if not 0 <= section < len(data["sections"]):
        abort(404)
    form = NewItemForm()
    _fill(form, data, section, None)
    if form.validate_on_submit():
        done = save(row, lambda d: edits.add_item(d, section, values(form)), form,
                     edits.ITEM_FIELDS, f"i-{form.id.data}")
        if done:
            return done
    return render_template("authoring/item_form.html", row=row, form=form, item=None,
                           section=data["sections"][section])


@bp.route("/<int:version_id>/sections/<int:section>/items/<int:index>/"
          "<any(up, down, delete):action>", methods=["POST"])
def item_action(version_id: int, section: int, index: int, action: str) -> WResponse:
    row = draft_or_409(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    def change(d: dict[str, Any]) -> None:
        if action == "delete":
            edits.delete_item(d, section, index)
        else:
            edits.move_item(d, section, index, -1 if action == "up" else 1)

    return save(row, change, None, {}, f"s{section}") or to_editor(row, f"s{section}")
