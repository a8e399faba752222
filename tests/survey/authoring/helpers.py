"""Shared pieces of the questionnaire staff-page tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from survey.models import AuditLog, QuestionnaireVersion

BASE = "/staff/questionnaires"


def snapshot(db: Any) -> tuple[list[tuple[Any, ...]], int]:
    """Every version row (with its content hash) and the number of audit rows."""
    db.session.expire_all()
    rows = db.session.execute(select(
        QuestionnaireVersion.id, QuestionnaireVersion.key, QuestionnaireVersion.version,
        QuestionnaireVersion.status, QuestionnaireVersion.hash,
        QuestionnaireVersion.published_at).order_by(QuestionnaireVersion.id)).all()
    audit = db.session.scalar(select(func.count()).select_from(AuditLog))
    return [tuple(r) for r in rows], audit


def row_of(db: Any, key: str, version: int) -> QuestionnaireVersion:
    db.session.expire_all()
    found: QuestionnaireVersion = db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == version))
    return found


def flag(value: object) -> dict[str, str]:
    return {"y": "y"} if value else {}


def item_post(item: dict[str, Any]) -> dict[str, Any]:
    """The item form's fields as a browser would post them for ``item`` unchanged."""
    show_if = item.get("show_if") or {}
    data: dict[str, Any] = {
        "text_vi": item["text"]["vi"], "text_en": item["text"]["en"], "type": item["type"],
        "scale": item.get("scale", ""), "show_if_item": show_if.get("item", ""),
        "show_if_values": ", ".join(
            ("true" if v else "false") if isinstance(v, bool) else str(v)
            for v in show_if.get("in", [])),
        "code": item.get("code", ""), "profile_field": item.get("profile_field", ""),
        "provenance": item["provenance"],
    }
    for key in ("min", "max", "max_length", "max_choices"):
        if item.get(key) is not None:
            data[key] = str(item[key])
    for key in ("required", "not_applicable", "integer"):
        if item.get(key):
            data[key] = "y"
    return data


def node_post(node: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title_vi": node["title"]["vi"], "title_en": node["title"]["en"], "rule": node["rule"],
        "children": "\n".join(node["children"]), "pooling": node.get("pooling", ""),
        "values": ", ".join(str(v) for v in node.get("values", [])),
    }
    if node.get("threshold") is not None:
        data["threshold"] = str(node["threshold"])
    for child, weight in zip(node["children"], node.get("weights", []), strict=False):
        data[f"w_{child}"] = repr(weight)
    return data
