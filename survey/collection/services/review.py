"""Review of responses the gaming checks flagged: accept (counts in results) or reject.

Whoever holds "results" sees the flagged responses of their scope; only "review" (the
managers) over a response's unit decides, since a decision changes the indices.

``Response`` is not audited by the session hook (citizens write it, not staff), so a
decision writes its audit row here, in the same transaction as the decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, String, cast, literal
from sqlalchemy.orm import selectinload

from survey.collection.models import Answer, Response
from survey.common.access import Permission, Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.pages import paginate
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import AuditLog, Unit, User

DECISIONS = ("accepted", "rejected")


def flagged(query: Select[tuple[Response]], *, unit: Unit | None = None,
            flag: str | None = None) -> Select[tuple[Response]]:
    """Narrow a scoped response query to flagged responses, optionally of one unit's
    subtree and carrying one flag (``flags`` is a comma list)."""
    query = query.where(Response.review_status == "flagged")
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    if flag:
        padded = literal(",", String) + cast(Response.flags, String) + literal(",", String)
        query = query.where(padded.contains(f",{flag},", autoescape=True))
    return query.options(selectinload(Response.answers)).order_by(Response.submitted_at.desc(),
                                                                   Response.id.desc())


def flag_names(query: Select[tuple[Response]]) -> list[str]:
    """The distinct flags among the (scoped) flagged responses."""
    rows = db.session.scalars(
        query.where(Response.review_status == "flagged").with_only_columns(Response.flags)
        .distinct())
    return sorted({f.strip() for row in rows for f in (row or "").split(",") if f.strip()})


@use_case
def decide(response: Response, decision: str, reviewer: User) -> None:
    if decision not in DECISIONS:
        raise ServiceError(_("Choose accept or reject."), "decision")
    if response.review_status != "flagged":
        raise ServiceError(_("This response has already been reviewed."))
    before = {"review_status": response.review_status}
    now = utcnow()
    response.review_status = decision
    response.reviewed_by_id = reviewer.id
    response.reviewed_at = now
    db.session.add(AuditLog(
        at=now, actor_id=reviewer.id, actor_label=reviewer.username, action="update",
        entity="response", entity_id=str(response.id), before=before,
        after={"review_status": decision, "reviewed_by_id": reviewer.id,
               "reviewed_at": now.isoformat()}))
    db.session.commit()


@dataclass(frozen=True)
class AnswerLine:
    item_id: str
    value: str


def summarise(answers: Sequence[Answer], limit: int = 80) -> list[AnswerLine]:
    """Answers as short lines for the reviewer (numbers as given, text shortened)."""
    lines = []
    for answer in answers:
        if answer.not_applicable:
            value = "—"
        elif answer.value_num is not None:
            value = f"{answer.value_num:g}"
        else:
            text = answer.value_text or ""
            value = text if len(text) <= limit else text[: limit - 1] + "…"
        lines.append(AnswerLine(answer.item_id, value))
    return lines


def flagged_page(scope: Scope, *, unit: Unit | None, flag: str | None,
                 page: int | None) -> Pagination:
    return paginate(flagged(scope.responses(), unit=unit, flag=flag), page, 25)


def response_in_scope(scope: Scope, response_id: int,
                      permission: Permission = "results") -> Response:
    """A response in the scope's view (:class:`NotFound` otherwise) whose unit
    ``permission`` covers (:class:`Forbidden` otherwise: "review" to decide on it)."""
    response = db.session.scalar(scope.responses().where(Response.id == response_id))
    if response is None:
        raise NotFound("response", response_id)
    if permission != "results" and not decidable(scope, [response.id], permission):
        raise Forbidden(permission)
    return response


def decidable(scope: Scope, response_ids: Iterable[int],
              permission: Permission = "review") -> set[int]:
    """Those of ``response_ids`` the scope may accept or reject (one query)."""
    ids = list(response_ids)
    if not ids or not scope.has(permission):
        return set()
    return set(db.session.scalars(scope.responses(permission).where(Response.id.in_(ids))
                                  .with_only_columns(Response.id)))
