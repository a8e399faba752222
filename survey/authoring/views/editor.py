"""The draft editor: overview, titles, sections and index-tree nodes (plain forms, no
JavaScript). Every save goes through ``questionnaire_drafts.save_draft``."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from werkzeug.wrappers import Response as WResponse

from survey.authoring.forms import (
    RULE_LABELS,
    TYPE_LABELS,
    ActionForm,
    MetaForm,
    NewNodeForm,
    NewSectionForm,
    NodeForm,
    NotesForm,
    SectionForm,
    weight_field,
)
from survey.authoring.services import drafts, edits
from survey.authoring.services.versions import definition_of
from survey.authoring.views import bp
from survey.authoring.views.helpers import draft_or_409, posted, save, to_editor, values
from survey.common.errors import ServiceError
from survey.common.web import lang


@bp.route("/<int:version_id>/edit")
def editor(version_id: int) -> str:
    row = draft_or_409(version_id)
    return render_template("authoring/editor.html", row=row, defn=definition_of(row), lang=lang(),
                           action_form=ActionForm(), types=TYPE_LABELS, rules=RULE_LABELS)


@bp.route("/<int:version_id>/meta", methods=["GET", "POST"])
def edit_meta(version_id: int) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    form = MetaForm(data={"title_vi": data["title"]["vi"], "title_en": data["title"]["en"],
                          "decisions": "\n".join(data["decisions"]), **data})
    if form.validate_on_submit():
        done = save(row, lambda d: edits.set_meta(d, values(form)), form, edits.META_FIELDS)
        if done:
            return done
    return render_template("authoring/meta_form.html", row=row, form=form)


@bp.route("/<int:version_id>/notes", methods=["GET", "POST"])
def edit_notes(version_id: int) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    label = data.get("na_label") or {}
    form = NotesForm(data={"na_label_vi": label.get("vi", ""), "na_label_en": label.get("en", ""),
                           "gaps": "\n".join(data.get("gaps", [])),
                           "notes": "\n".join(data.get("notes", []))})
    if form.validate_on_submit():
        done = save(row, lambda d: edits.set_notes(d, values(form)), form, edits.NOTES_FIELDS,
                     "notes")
        if done:
            return done
    return render_template("authoring/notes_form.html", row=row, form=form)


@bp.route("/<int:version_id>/sections/<int:section>", methods=["GET", "POST"])
def edit_section(version_id: int, section: int) -> str | WResponse:
    row = draft_or_409(version_id)
    data = drafts.draft_data(row)
    if not 0 <= section < len(data["sections"]):
        abort(404)
    current = data["sections"][section]
    intro = current.get("intro") or {}
    form = SectionForm(data={"title_vi": current["title"]["vi"],
                             "title_en": current["title"]["en"], "page": current["page"],
                             "intro_vi": intro.get("vi", ""), "intro_en": intro.get("en", "")})
    if form.validate_on_submit():
        done = save(row, lambda d: edits.set_section(d, section,
                                                      posted(form, edits.SECTION_OPTIONAL)),
                     form,
                     edits.SECTION_FIELDS, f"s{section}")
        if done:
            return done
    return render_template("authoring/section_form.html", row=row, form=form, section=current)


@bp.route("/<int:version_id>/sections/new", methods=["GET", "POST"])
def new_section(version_id: int) -> str | WResponse:
    row = draft_or_409(version_id)
    form = NewSectionForm()
    if request.method == "GET":
        form.page.data = max(s.page for s in definition_of(row).sections)
    if form.validate_on_submit():
        fields = {**edits.SECTION_FIELDS, "items.0.id": "item_id", "text.vi": "item_text_vi",
                  "text.en": "item_text_en"}
        done = save(row, lambda d: edits.add_section(d, values(form)), form, fields)
        if done:
            return done
    return render_template("authoring/section_form.html", row=row, form=form, section=None)


@bp.route("/<int:version_id>/sections/<int:section>/<any(up, down, delete):action>",
          methods=["POST"])
def section_action(version_id: int, section: int, action: str) -> WResponse:
    row = draft_or_409(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "delete":
        return save(row, lambda d: edits.delete_section(d, section), None, {}) or to_editor(row)
    step = -1 if action == "up" else 1
    done = save(row, lambda d: edits.move_section(d, section, step), None, {},
                 f"s{section + step}")
    return done or to_editor(row, f"s{section}")


def _node_form(node: dict[str, Any], labels: dict[str, str]) -> NodeForm:
    """The node form with one weight field per child (weighted mean only)."""
    extra = {f"w_{c}": weight_field(labels.get(c, c)) for c in node["children"]}
    weighted = node["rule"] in ("mean", "weighted_mean")
    cls = type("NodeWeightsForm", (NodeForm,), extra) if weighted else NodeForm
    data = {"title_vi": node["title"]["vi"], "title_en": node["title"]["en"],
            "children": "\n".join(node["children"]),
            "values": ", ".join(str(v) for v in node.get("values", [])), **node}
    data.update({f"w_{c}": w for c, w in zip(node["children"], node.get("weights", []),
                                             strict=False)})
    form: NodeForm = cls(data=data)
    return form


@bp.route("/<int:version_id>/nodes/<node_id>", methods=["GET", "POST"])
def edit_node(version_id: int, node_id: str) -> str | WResponse:
    row = draft_or_409(version_id)
    defn = definition_of(row)
    try:
        node = edits.node_at(drafts.draft_data(row), node_id)
    except ServiceError:
        abort(404)
    labels = {n.id: f"{n.id} – {n.title.vi}" for n in defn.index.nodes}
    form = _node_form(node, labels)
    if form.validate_on_submit():
        weights = {c: form[f"w_{c}"].data for c in node["children"] if f"w_{c}" in form}
        done = save(row, lambda d: edits.set_node(edits.node_at(d, node_id), values(form),
                                                   weights), form, edits.NODE_FIELDS, "index")
        if done:
            return done
    return render_template("authoring/node_form.html", row=row, form=form, node=node,
                           weight_fields=[f for f in form if f.name.startswith("w_")],
                           flat=defn.index.flatten(node_id), lang=lang())


@bp.route("/<int:version_id>/nodes/new", methods=["GET", "POST"])
def new_node(version_id: int) -> str | WResponse:
    row = draft_or_409(version_id)
    form = NewNodeForm()
    if form.validate_on_submit():
        done = save(row, lambda d: edits.add_node(d, values(form)), form,
                     {**edits.NODE_FIELDS, "id": "id"}, "index")
        if done:
            return done
    return render_template("authoring/node_form.html", row=row, form=form, node=None,
                           weight_fields=[], flat=None, lang=lang())


@bp.route("/<int:version_id>/nodes/<node_id>/delete", methods=["POST"])
def delete_node(version_id: int, node_id: str) -> WResponse:
    row = draft_or_409(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return save(row, lambda d: edits.delete_node(d, node_id), None, {}, "index") or \
        to_editor(row, "index")
