"""Review of responses the gaming checks flagged: accept (counts in results) or reject.

Whoever holds "results" sees the flagged responses of their scope; only "review" (the
managers) over a response's unit decides, since a decision changes the indices.

``Response`` is not audited by the session hook (citizens write it, not staff), so a
decision writes its audit row here, in the same transaction as the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, String, cast, literal, or_, select, tuple_
from sqlalchemy.orm import selectinload

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions
from survey.collection.models import Answer, Response
from survey.collection.services.words import answer_in_words, question_label
from survey.common.access import Permission, Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.pages import paginate
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import AuditLog, Unit, User

DECISIONS = ("accepted", "rejected")


BURST_WINDOW = dt.timedelta(hours=2)
DEVICE_FLAGS = ("burst_device",)
LINK_FLAGS = ("burst_link", "identical_burst")


def flagged(query: Select[tuple[Response]], *, unit: Unit | None = None,
            flag: str | None = None, burst: Response | None = None) -> Select[tuple[Response]]:
    """Narrow a scoped response query to flagged responses, optionally of one unit's
    subtree, carrying one flag (``flags`` is a comma list), or of the burst ``burst``
    belongs to (see :func:`burst_clause`)."""
    query = query.where(Response.review_status == "flagged")
    if burst is not None:
        query = query.where(burst_clause(burst))
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


def burst_clause(anchor: Response) -> ColumnElement[bool]:
    """The responses of ``anchor``'s burst: flagged within :data:`BURST_WINDOW` of it from
    the same device (its device flag) or on the same link (its link flags)."""
    flags = set(filter(None, (anchor.flags or "").split(",")))
    same = []
    if flags & set(DEVICE_FLAGS) and anchor.device_hash:
        same.append(Response.device_hash == anchor.device_hash)
    if flags & set(LINK_FLAGS) and anchor.link_id is not None:
        same.append(Response.link_id == anchor.link_id)
    if not same:
        return Response.id == anchor.id
    return or_(*same) & Response.submitted_at.between(anchor.submitted_at - BURST_WINDOW,
                                                      anchor.submitted_at + BURST_WINDOW)


def in_a_burst(response: Response) -> bool:
    flags = set(filter(None, (response.flags or "").split(",")))
    return bool(flags & set(DEVICE_FLAGS) and response.device_hash
                or flags & set(LINK_FLAGS) and response.link_id is not None)


MAX_AT_ONCE = 200


@use_case
def decide_many(scope: Scope, response_ids: Sequence[int], decision: str,
                reviewer: User) -> int:
    """Accept or reject several flagged responses at once (a burst): all or none. Every
    one must be in the scope's "review" view and still flagged; otherwise nothing is
    written and the refusal says which. Returns how many were decided."""
    if decision not in DECISIONS:
        raise ServiceError(_("Choose accept or reject."), "decision")
    ids = sorted(set(response_ids))
    if not ids:
        raise ServiceError(_("Tick at least one response."), "ids")
    if len(ids) > MAX_AT_ONCE:
        raise ServiceError(_("Decide on at most %(n)d responses at once.", n=MAX_AT_ONCE),
                           "ids")
    allowed = decidable(scope, ids)
    if set(ids) - allowed:
        raise Forbidden("review")
    responses = list(db.session.scalars(select_responses(ids)))
    done = [r.id for r in responses if r.review_status != "flagged"]
    if done:
        raise ServiceError(_("Already reviewed: %(ids)s. Nothing was changed.",
                             ids=", ".join(f"#{i}" for i in done)), "ids")
    now = utcnow()
    for response in responses:
        response.review_status = decision
        response.reviewed_by_id = reviewer.id
        response.reviewed_at = now
        db.session.add(AuditLog(
            at=now, actor_id=reviewer.id, actor_label=reviewer.username, action="update",
            entity="response", entity_id=str(response.id),
            before={"review_status": "flagged"},
            after={"review_status": decision, "reviewed_by_id": reviewer.id,
                   "reviewed_at": now.isoformat(), "with": len(responses)}))
    db.session.commit()
    return len(responses)


def select_responses(ids: Sequence[int]) -> Select[tuple[Response]]:
    return select(Response).where(Response.id.in_(ids)).order_by(Response.id)


CHANNEL_LABELS = {
    "desk_qr": _l("desk QR code"), "kiosk": _l("kiosk"), "token": _l("one-time token"),
    "field": _l("interviewer"), "paper": _l("paper form"),
}


@dataclass(frozen=True)
class AnswerLine:
    item_id: str
    value: str
    question: str = ""


@dataclass(frozen=True)
class ResponseView:
    """A flagged response as a reviewer reads it: the questionnaire's title, the channel
    in words, each answer as question text and answer label, and whether it belongs to a
    burst that can be listed (and decided) together."""

    questionnaire: str
    channel: str
    lines: list[AnswerLine]
    burst: bool


def describe(responses: Sequence[Response], lang: str) -> dict[int, ResponseView]:
    """:class:`ResponseView` of each response (one query for the questionnaire versions;
    answers must be loaded, as :func:`flagged` does)."""
    keys = {(r.questionnaire_key, r.questionnaire_version) for r in responses}
    definitions: dict[tuple[str, int], q.Definition] = {}
    if keys:
        for row in db.session.scalars(select(QuestionnaireVersion).where(
                tuple_(QuestionnaireVersion.key, QuestionnaireVersion.version).in_(keys))):
            definitions[(row.key, row.version)] = versions.definition_of(row)
    out = {}
    for r in responses:
        defn = definitions.get((r.questionnaire_key, r.questionnaire_version))
        title = (q_text(defn.title, lang) if defn else r.questionnaire_key)
        out[r.id] = ResponseView(
            questionnaire=_("%(title)s, version %(version)d", title=title,
                            version=r.questionnaire_version),
            channel=str(CHANNEL_LABELS.get(r.channel, r.channel)),
            lines=_lines(defn, r.answers, lang), burst=in_a_burst(r))
    return out


def q_text(text: q.Text, lang: str) -> str:
    return text.en if lang == "en" else text.vi


def _lines(defn: q.Definition | None, answers: Sequence[Answer],
           lang: str) -> list[AnswerLine]:
    plain = summarise(answers)
    if defn is None:
        return plain
    known = {i.id: i for i in defn.items}
    stored: Mapping[str, tuple[float | None, str | None, bool]] = {
        a.item_id: (a.value_num, a.value_text, a.not_applicable)
        for a in answers if a.item_id in known}
    try:
        decoded = q.answers_from_stored(defn, stored)
    except (ValueError, KeyError, TypeError):
        return plain
    order = {item_id: n for n, item_id in enumerate(known)}
    lines = []
    for line in sorted(plain, key=lambda x: order.get(x.item_id, len(order))):
        item = known.get(line.item_id)
        if item is None or line.item_id not in decoded:
            lines.append(line)
            continue
        value = answer_in_words(defn, item, decoded[line.item_id], lang)
        lines.append(AnswerLine(line.item_id, value if item.type != "text" else line.value,
                                question_label(item, lang)))
    return lines


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
                 page: int | None, burst: Response | None = None) -> Pagination:
    return paginate(flagged(scope.responses(), unit=unit, flag=flag, burst=burst), page,
                    MAX_AT_ONCE if burst is not None else 25)


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
