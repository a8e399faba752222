"""Edits of a draft's definition as pure functions on its JSON dictionary.

Each function changes ``data`` in place from plain form values; it checks only what
the form cannot express (positions, ids to add). Whether the result is a valid
questionnaire is decided by ``questionnaires.parse_definition`` in
:func:`survey.authoring.services.drafts.save_draft`, the single gate.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

import questionnaires as q
from survey.common.errors import ServiceError

JSON = dict[str, Any]
#: Fields of an item that only some types take, from the item types' registry entries.
TYPE_FIELDS = {name: tuple(t for t, kind in q.ITEM_TYPE_REGISTRY.items() if name in kind.fields)
               for name in ("scale", "max_choices", "min", "max", "integer", "max_length")}
SCALED = TYPE_FIELDS["scale"]
#: Where a parse error's path ends → the form field that shows it.
ITEM_FIELDS = {"id": "id", "type": "type", "text.vi": "text_vi", "text.en": "text_en",
               "text": "text_vi", "scale": "scale", "required": "required",
               "not_applicable": "not_applicable", "show_if.item": "show_if_item",
               "show_if": "show_if_values", "in": "show_if_values", "min": "min",
               "max": "max", "max_length": "max_length", "code": "code",
               "provenance": "provenance", "profile_field": "profile_field",
               "max_choices": "max_choices", "integer": "integer", "source": "source",
               "note": "note"}
SECTION_FIELDS = {"title.vi": "title_vi", "title.en": "title_en", "title": "title_vi",
                  "page": "page", "id": "id", "intro.vi": "intro_vi", "intro.en": "intro_en",
                  "intro": "intro_vi"}
#: The optional texts of a form; a client that does not send them leaves them unchanged.
ITEM_OPTIONAL = ("source", "note")
SECTION_OPTIONAL = ("intro_vi", "intro_en")
NOTES_FIELDS = {"na_label.vi": "na_label_vi", "na_label.en": "na_label_en",
                "na_label": "na_label_vi", "not_applicable": "na_label_vi", "gaps": "gaps",
                "notes": "notes"}
META_FIELDS = {"title.vi": "title_vi", "title.en": "title_en", "title": "title_vi",
               "sector": "sector", "provenance": "provenance", "decisions": "decisions",
               "text_status": "text_status"}
NODE_FIELDS = {"title.vi": "title_vi", "title.en": "title_en", "rule": "rule",
               "children": "children", "threshold": "threshold", "values": "values",
               "pooling": "pooling"}


def _at(seq: list[Any], index: int, what: str) -> Any:
    if not 0 <= index < len(seq):
        raise ServiceError(_("There is no %(what)s number %(n)d.", what=what, n=index + 1))
    return seq[index]


def _move(seq: list[Any], index: int, step: int) -> None:
    _at(seq, index, "position")
    target = index + step
    if 0 <= target < len(seq):
        seq[index], seq[target] = seq[target], seq[index]


def _set(out: JSON, key: str, value: object) -> None:
    """Set ``key``, or drop it when the form left it empty (the JSON omits it)."""
    if value is None or value == "" or value is False:
        out.pop(key, None)
    else:
        out[key] = value


def set_meta(data: JSON, values: JSON) -> None:
    data["title"] = {"vi": values["title_vi"], "en": values["title_en"]}
    data["sector"] = values["sector"]
    data["provenance"] = values["provenance"]
    data["text_status"] = values["text_status"]
    data["decisions"] = _lines(values["decisions"])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _optional_text(out: JSON, key: str, vi: str | None, en: str | None) -> None:
    """A bilingual text that may be absent: both empty → dropped; one empty → kept
    empty so that the loader names the missing language."""
    vi, en = (vi or "").strip(), (en or "").strip()
    if vi or en:
        out[key] = {"vi": vi, "en": en}
    else:
        out.pop(key, None)


def set_notes(data: JSON, values: JSON) -> None:
    """The "not applicable" label, the known gaps and the staff notes."""
    _optional_text(data, "na_label", values.get("na_label_vi"), values.get("na_label_en"))
    for key in ("gaps", "notes"):
        _set(data, key, _lines(values.get(key)) or None)


# --- sections ----------------------------------------------------------------------
def set_section(data: JSON, index: int, values: JSON) -> None:
    section = _at(data["sections"], index, _("section"))
    section["title"] = {"vi": values["title_vi"], "en": values["title_en"]}
    section["page"] = values["page"]
    if "intro_vi" in values or "intro_en" in values:
        _optional_text(section, "intro", values.get("intro_vi"), values.get("intro_en"))


def add_section(data: JSON, values: JSON) -> None:
    """A section at the end with its first item (a section is never empty)."""
    section: JSON = {
        "id": values["id"], "title": {"vi": values["title_vi"], "en": values["title_en"]},
        "page": values["page"],
        "items": [{"id": values["item_id"], "type": "yes_no",
                   "text": {"vi": values["item_text_vi"], "en": values["item_text_en"]},
                   "required": False, "provenance": "inferred"}]}
    _optional_text(section, "intro", values.get("intro_vi"), values.get("intro_en"))
    data["sections"].append(section)


def move_section(data: JSON, index: int, step: int) -> None:
    _move(data["sections"], index, step)


def delete_section(data: JSON, index: int) -> None:
    _at(data["sections"], index, _("section"))
    del data["sections"][index]


# --- items -------------------------------------------------------------------------
def item_values(item: JSON) -> JSON:
    """The form values of an item (the inverse of :func:`set_item`)."""
    show_if = item.get("show_if") or {}
    return {**item, "text_vi": item["text"]["vi"], "text_en": item["text"]["en"],
            "source": item.get("source", ""), "note": item.get("note", ""),
            "show_if_item": show_if.get("item", ""),
            "show_if_values": ", ".join(json_value(v) for v in show_if.get("in", []))}


def json_value(value: object) -> str:
    return json_text(value) if isinstance(value, bool) else str(value)


def json_text(value: bool) -> str:
    return "true" if value else "false"


def _show_if_values(text: str) -> list[int | bool]:
    out: list[int | bool] = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if part.lower() in ("true", "false", "có", "không"):
            out.append(part.lower() in ("true", "có"))
        elif part:
            try:
                out.append(int(part))
            except ValueError as err:
                raise ServiceError(_("%(value)s is not a whole number, true or false.",
                                     value=part), "show_if_values") from err
    return out


def set_item(item: JSON, values: JSON) -> None:
    """Apply the form values to an item; fields its type does not take are dropped."""
    item["type"] = values["type"]
    item["text"] = {"vi": values["text_vi"], "en": values["text_en"]}
    item["required"] = bool(values["required"])
    item["provenance"] = values["provenance"]
    _set(item, "code", (values.get("code") or "").strip())
    _set(item, "not_applicable", bool(values.get("not_applicable")))
    _set(item, "profile_field", values.get("profile_field") or None)
    for key in ITEM_OPTIONAL:
        if key in values:
            _set(item, key, (values[key] or "").strip())
    for key, types in TYPE_FIELDS.items():
        _set(item, key, values.get(key) if values["type"] in types else None)
    for key in ("min", "max"):
        if isinstance(item.get(key), float) and item[key].is_integer():
            item[key] = int(item[key])
    target = (values.get("show_if_item") or "").strip()
    if target:
        item["show_if"] = {"item": target, "in": _show_if_values(values["show_if_values"] or "")}
    else:
        item.pop("show_if", None)


def add_item(data: JSON, section: int, values: JSON) -> None:
    item: JSON = {"id": values["id"]}
    set_item(item, values)
    _at(data["sections"], section, _("section"))["items"].append(item)


def item_at(data: JSON, section: int, index: int) -> JSON:
    items = _at(data["sections"], section, _("section"))["items"]
    found: JSON = _at(items, index, _("question"))
    return found


def move_item(data: JSON, section: int, index: int, step: int) -> None:
    """Up/down within the section; past its ends into the neighbouring section."""
    sections = data["sections"]
    items = _at(sections, section, _("section"))["items"]
    item = _at(items, index, _("question"))
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    elif 0 <= section + step < len(sections):
        del items[index]
        neighbour = sections[section + step]["items"]
        neighbour.insert(len(neighbour) if step < 0 else 0, item)


def delete_item(data: JSON, section: int, index: int) -> None:
    items = _at(data["sections"], section, _("section"))["items"]
    _at(items, index, _("question"))
    del items[index]


# --- index tree --------------------------------------------------------------------
def node_at(data: JSON, node_id: str) -> JSON:
    for node in data["index"]["nodes"]:
        if node["id"] == node_id:
            found: JSON = node
            return found
    raise ServiceError(_("There is no index node %(id)s.", id=node_id))


def _ints(text: str, field: str) -> list[int]:
    try:
        return [int(p) for p in text.replace(";", ",").split(",") if p.strip()]
    except ValueError as err:
        raise ServiceError(_("Enter whole numbers separated by commas."), field) from err


def set_node(node: JSON, values: JSON, weights: dict[str, float | None]) -> None:
    """Apply a node form; ``weights`` maps child id → weight (weighted_mean only)."""
    rule = values["rule"]
    children = [c.strip() for c in values["children"].replace(",", "\n").splitlines()
                if c.strip()]
    node.update(title={"vi": values["title_vi"], "en": values["title_en"]}, rule=rule,
                children=children)
    _set(node, "threshold", values.get("threshold") if rule in (
        "share_at_least", "comprehensive") else None)
    _set(node, "values", _ints(values.get("values") or "", "values") if rule == "share_in"
         else None)
    _set(node, "pooling", (values.get("pooling") or None) if rule in (
        "share_at_least", "share_in") else None)
    if rule != "weighted_mean":
        node.pop("weights", None)
        return
    missing = [c for c in children if weights.get(c) is None]
    if missing:
        raise ServiceError(_("Give a weight to every child (missing: %(ids)s). After adding a "
                             "child, save with the rule mean first, then set the weights.",
                             ids=", ".join(missing)), "children")
    node["weights"] = [weights[c] for c in children]


def add_node(data: JSON, values: JSON) -> None:
    """A new node (mean or an item rule; weights are set on its edit page afterwards)."""
    node: JSON = {"id": values["id"], "provenance": values["provenance"]}
    set_node(node, values, {})
    data["index"]["nodes"].append(node)


def delete_node(data: JSON, node_id: str) -> None:
    node = node_at(data, node_id)
    data["index"]["nodes"].remove(node)


# --- answer scales -----------------------------------------------------------------
#: One option row of the scale form: (value, Vietnamese label, English label) as typed.
Row = tuple[str, str, str]


def scale_rows(data: JSON, scale_id: str) -> list[Row]:
    """The option rows of a scale, as the form shows them."""
    return [(str(o["value"]), o["label"]["vi"], o["label"]["en"])
            for o in scale_at(data, scale_id)["options"]]


def scale_at(data: JSON, scale_id: str) -> JSON:
    found = data["scales"].get(scale_id)
    if found is None:
        raise ServiceError(_("There is no answer scale %(id)s.", id=scale_id))
    scale: JSON = found
    return scale


def scale_users(data: JSON, scale_id: str) -> list[str]:
    """The ids of the questions answered on the scale."""
    return [item["id"] for section in data["sections"] for item in section["items"]
            if item.get("scale") == scale_id]


def kept_rows(rows: list[Row]) -> list[int]:
    """Positions of the rows that are options (an entirely empty row is no option)."""
    return [n for n, row in enumerate(rows) if any(part.strip() for part in row)]


def row_action(rows: list[Any], action: str) -> list[Any]:
    """``up-N``, ``down-N`` or ``delete-N`` on the option rows (anything else: none)."""
    name, _sep, number = action.partition("-")
    if name not in ("up", "down", "delete") or not number.isdigit():
        return rows
    rows = list(rows)
    index = int(number)
    if name == "delete":
        _at(rows, index, _("option"))
        del rows[index]
    else:
        _move(rows, index, -1 if name == "up" else 1)
    return rows


def _option_value(text: str) -> object:
    """A whole number, or the text as typed so that the loader refuses it by its path."""
    try:
        return int(text.strip())
    except ValueError:
        return text.strip()


def _options(rows: list[Row]) -> list[JSON]:
    return [{"value": _option_value(rows[n][0]),
             "label": {"vi": rows[n][1].strip(), "en": rows[n][2].strip()}}
            for n in kept_rows(rows)]


def set_scale(data: JSON, scale_id: str, rows: list[Row]) -> None:
    """Replace the options of a scale by the non-empty rows, in their order."""
    scale_at(data, scale_id)["options"] = _options(rows)


def add_scale(data: JSON, scale_id: str, rows: list[Row]) -> None:
    if scale_id in data["scales"]:
        raise ServiceError(_("The answer scale %(id)s already exists.", id=scale_id), "id")
    data["scales"][scale_id] = {"options": _options(rows)}


def delete_scale(data: JSON, scale_id: str) -> None:
    """Delete a scale no question uses (refused, naming the questions, otherwise)."""
    scale_at(data, scale_id)
    users = scale_users(data, scale_id)
    if users:
        raise ServiceError(_("The answer scale %(id)s is still used by the questions "
                             "%(items)s: give them another scale first.", id=scale_id,
                             items=", ".join(users)))
    del data["scales"][scale_id]
