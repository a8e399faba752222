"""Automatic audit trail: every flush that writes an audited model (``__audited__``)
inserts one ``audit_log`` row per object, in the same transaction, with the acting
staff member and the before/after values of the changed columns.

Hooking the session, rather than calling a helper from each service, means no write can
forget its audit row.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from survey.org.models import AuditLog

_actor: contextvars.ContextVar[tuple[int | None, str]] = contextvars.ContextVar(
    "sipas_actor", default=(None, "system")
)


def set_actor(user_id: int | None, label: str) -> contextvars.Token[tuple[int | None, str]]:
    return _actor.set((user_id, label))


def reset_actor(token: contextvars.Token[tuple[int | None, str]]) -> None:
    _actor.reset(token)


@contextmanager
def acting_as(user_id: int | None, label: str) -> Iterator[None]:
    token = _actor.set((user_id, label))
    try:
        yield
    finally:
        _actor.reset(token)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def _columns(obj: Any) -> list[str]:
    excluded = set(getattr(obj, "__audit_exclude__", ()))
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in excluded]


def _snapshot(obj: Any) -> dict[str, Any]:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            before[key] = _plain(hist.deleted[0]) if hist.deleted else None
            after[key] = _plain(hist.added[0]) if hist.added else None
    return before, after


def _entity_id(obj: Any) -> str | None:
    # The identity key is not assigned yet in after_flush; read the primary key itself.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(v) for v in key) if all(v is not None for v in key) else None


@event.listens_for(Session, "before_flush")
def _remember_deleted(session: Session, flush_context: Any, instances: Any) -> None:
    # Read a deleted row's values (deferred columns included) while it can still load.
    remembered = session.info.setdefault("sipas_audit_deleted", {})
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            remembered[id(obj)] = _snapshot(obj)


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    actor_id, label = _actor.get()

    def row(action: str, obj: Any, before: Any, after: Any) -> None:
        rows.append(
            {
                "actor_id": actor_id,
                "actor_label": label,
                "action": action,
                "entity": obj.__tablename__,
                "entity_id": _entity_id(obj),
                "before": before,
                "after": after,
                "at": dt.datetime.now(dt.UTC),
            }
        )

    for obj in session.new:
        if getattr(obj, "__audited__", False):
            row("create", obj, None, _snapshot(obj))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj):
            before, after = _changes(obj)
            if after:
                row("update", obj, before, after)
    remembered = session.info.pop("sipas_audit_deleted", {})
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            row("delete", obj, remembered.get(id(obj)) or _snapshot(obj), None)
    if rows:
        session.connection().execute(insert(AuditLog), rows)
