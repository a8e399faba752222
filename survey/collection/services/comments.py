"""Comments (góp ý): the free-text answers of a unit's subtree, newest first (in the order
they arrived), with the ratings given in the same response in words; search, filters and
moderation.

Which answers are comments comes from the questionnaire definitions (items of type
``text``), per questionnaire version; an answer without a single letter ("...", "10") is
not listed. The search compares ``answer.search_text``, a folded
copy (lower case, no diacritics) written when the answer is stored, so that "tan ninh"
finds "Tân Ninh" with one LIKE on SQLite and PostgreSQL alike.

Reading needs "results" over the response's unit; hiding and showing again, and seeing
hidden comments at all, need "moderate" (managers). A hidden comment never reaches a
reader without it, and free text never enters any export (microdata leaves it out).
Moderation is audited by the session hook (``CommentModeration.__audited__``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services.versions import definition_of
from survey.collection.models import HIDE_REASONS, Answer, CommentModeration, Response, fold_text
from survey.collection.services import words
from survey.collection.services.words import answer_in_words
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import NotFound, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import ServicePoint, Unit, User
from survey.results.services.periods import Period, parse_period

PER_PAGE = 25
MAX_NOTE = 500
VISIBILITIES = ("", "visible", "hidden")
REASON_LABELS = {
    "personal_data": _l("Personal information (a name, a phone number, an ID)"),
    "offensive": _l("Offensive or abusive language"),
    "spam": _l("Spam or advertising"),
    "off_topic": _l("Not about the service"),
    "other": _l("Other (explain in the note)"),
}
assert tuple(REASON_LABELS) == HIDE_REASONS


# --- which answers are comments --------------------------------------------------------
def text_items() -> dict[tuple[str, int], q.Definition]:
    """Every stored questionnaire version that has free-text items, with its definition
    (parsed definitions are cached by hash: one small query per call)."""
    rows = db.session.scalars(select(QuestionnaireVersion)).all()
    out = {}
    for row in rows:
        defn = definition_of(row)
        if any(item.type == "text" for item in defn.items):
            out[(row.key, row.version)] = defn
    return out


# search_text is set for every stored answer with a word in it, which only the text items
# of the definitions store (choices are numbers, "1,3" at most): the partial index's
# condition, alone, so that PostgreSQL estimates the rows from that index (an extra item
# filter, taken as independent, made it expect a few hundred rows and sort them all).
_COMMENT: ColumnElement[bool] = Answer.search_text.is_not(None)


def _is_text(versions: Mapping[tuple[str, int], q.Definition], key: str, version: int,
             item_id: str) -> bool:
    defn = versions.get((key, version))
    return defn is not None and any(i.id == item_id and i.type == "text" for i in defn.items)


_VISIBLE = or_(CommentModeration.id.is_(None), CommentModeration.hidden.is_(False))


# --- filters ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    unit: Unit | None = None
    point: ServicePoint | None = None
    period: Period | None = None
    search: str = ""
    visibility: str = ""

    def args(self) -> dict[str, Any]:
        """The filters as query arguments (for the pager and the return address)."""
        return {"unit": self.unit.id if self.unit else None,
                "point": self.point.id if self.point else None,
                "period": self.period.label if self.period else None,
                "q": self.search or None, "visibility": self.visibility or None}


def parse_filters(scope: Scope, args: Mapping[str, str]) -> Filters:
    """The filters of the page's query string. A unit or point outside the scope is
    :class:`NotFound`; a bad period or visibility a :class:`ServiceError`."""
    unit = point = None
    if unit_id := _int(args.get("unit")):
        unit = scope.get_unit(unit_id, "results")
    if point_id := _int(args.get("point")):
        point = scope.get_point(point_id, "results")
    period_text = (args.get("period") or "").strip()
    period = parse_period(period_text) if period_text else None
    visibility = (args.get("visibility") or "").strip()
    if visibility not in VISIBILITIES:
        raise ServiceError(_("Choose all, visible or hidden comments."), "visibility")
    if visibility and not scope.has("moderate"):
        visibility = ""  # readers see visible comments only, whatever they ask for
    return Filters(unit, point, period, (args.get("q") or "").strip()[:200], visibility)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    start = dt.datetime.combine(period.start, dt.time(), zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def comments_query(scope: Scope, filters: Filters) -> Select[tuple[Answer]]:
    """The comments in the scope's view under ``filters``, newest first."""
    # Units as an IN list, not a join: PostgreSQL then sees how small a unit manager's
    # subtree is and starts from its responses, or walks every comment for a province.
    readable = select(Unit.id).where(scope.unit_clause("results"))
    if filters.unit is not None:
        readable = readable.where(Unit.path.startswith(filters.unit.path, autoescape=True))
    moderated = select(Unit.id).where(scope.unit_clause("moderate"))
    query = (select(Answer).join(Response, Answer.response_id == Response.id)
             .outerjoin(CommentModeration, CommentModeration.answer_id == Answer.id)
             .where(Response.unit_id.in_(readable), _COMMENT,
                    or_(_VISIBLE, Response.unit_id.in_(moderated))))
    if filters.point is not None:
        query = query.where(Response.service_point_id == filters.point.id)
    if filters.period is not None:
        start, end = _bounds(filters.period)
        query = query.where(Response.submitted_at >= start, Response.submitted_at < end)
    for word in fold_text(filters.search).split():
        query = query.where(Answer.search_text.contains(word, autoescape=True))
    if filters.visibility == "visible":
        query = query.where(_VISIBLE)
    elif filters.visibility == "hidden":
        query = query.where(~_VISIBLE)
    # Newest first in the order responses arrived: the database walks response ids
    # backwards (ix_answer_comments finds each one's comment) and stops after the page;
    # sorting by submission time sorted every comment of the scope instead (1.5 s a page
    # for a province's 100,000 comments in PostgreSQL, 50 ms this way).
    return query.order_by(Answer.response_id.desc(), Answer.id.desc())


# --- the page --------------------------------------------------------------------------
@dataclass(frozen=True)
class Rating:
    question: str
    answer: str
    low: bool = False  # below the "satisfied" threshold of its index node


@dataclass(frozen=True)
class Ratings:
    headline: list[Rating] = field(default_factory=list)
    satisfied: int = 0
    rated: int = 0
    low: list[Rating] = field(default_factory=list)


@dataclass(frozen=True)
class Comment:
    answer_id: int
    response_id: int
    question: str
    text: str
    submitted_at: dt.datetime
    unit_name: str
    point_name: str | None
    channel: str
    review_status: str
    hidden: bool
    reason: str | None
    note: str | None
    moderated_at: dt.datetime | None
    moderated_by: str | None
    can_moderate: bool
    ratings: Ratings


@dataclass(frozen=True)
class Page:
    """A page of the list, for the pager. ``total`` is counted up to :data:`COUNT_AHEAD`
    comments past the page (``more`` then says there are more): counting every comment
    of a province on each page view would cost more than the page."""

    page: int
    per_page: int
    total: int
    more: bool

    @property
    def pages(self) -> int:
        """The pages known to exist (one more when ``more``: the next is not empty)."""
        return max(1, -(-self.total // self.per_page)) + (1 if self.more else 0)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


COUNT_AHEAD = 1000


def _page_of(query: Select[tuple[Answer]], page: int | None) -> tuple[Page, list[int]]:
    number = max(page or 1, 1)
    offset = (number - 1) * PER_PAGE
    horizon = offset + COUNT_AHEAD
    ids_query = query.with_only_columns(Answer.id)
    counted = db.session.scalar(select(func.count()).select_from(
        ids_query.limit(horizon + 1).subquery())) or 0
    ids = list(db.session.scalars(ids_query.limit(PER_PAGE).offset(offset)))
    return Page(number, PER_PAGE, min(counted, horizon), counted > horizon), ids


def comments_page(scope: Scope, filters: Filters, page: int | None,
                  lang: str = "vi") -> tuple[Page, list[Comment]]:
    """One page of comments with everything the template shows (a bounded number of
    queries whatever the page size: the page, its details, the answers of its responses)."""
    versions = text_items()
    pagination, ids = _page_of(comments_query(scope, filters), page)
    if not ids:
        return pagination, []
    details = {row.id: row for row in db.session.execute(
        select(Answer.id, Answer.item_id, Answer.value_text, Response, Unit.name.label("unit"),
               ServicePoint.name.label("point"), CommentModeration,
               User.username.label("moderator"),
               scope.unit_clause("moderate").label("can_moderate"))
        .join(Response, Answer.response_id == Response.id)
        .join(Unit, Response.unit_id == Unit.id)
        .outerjoin(ServicePoint, Response.service_point_id == ServicePoint.id)
        .outerjoin(CommentModeration, CommentModeration.answer_id == Answer.id)
        .outerjoin(User, CommentModeration.moderated_by_id == User.id)
        .where(Answer.id.in_(ids)))}
    stored: dict[int, dict[str, tuple[float | None, str | None, bool]]] = {}
    for a in db.session.scalars(select(Answer).where(
            Answer.response_id.in_({row.Response.id for row in details.values()}))):
        stored.setdefault(a.response_id, {})[a.item_id] = (a.value_num, a.value_text,
                                                           bool(a.not_applicable))
    out = []
    for answer_id in ids:
        row = details[answer_id]
        response: Response = row.Response
        defn = versions.get((response.questionnaire_key, response.questionnaire_version))
        mod: CommentModeration | None = row.CommentModeration
        out.append(Comment(
            answer_id=answer_id, response_id=response.id,
            question=_question(defn, row.item_id, lang), text=row.value_text,
            submitted_at=response.submitted_at, unit_name=row.unit, point_name=row.point,
            channel=response.channel, review_status=response.review_status,
            hidden=bool(mod and mod.hidden), reason=mod.reason if mod else None,
            note=mod.note if mod else None, moderated_at=mod.moderated_at if mod else None,
            moderated_by=row.moderator, can_moderate=bool(row.can_moderate),
            ratings=ratings(defn, stored.get(response.id, {}), lang) if defn else Ratings()))
    return pagination, out


def _question(defn: q.Definition | None, item_id: str, lang: str) -> str:
    try:
        return words.text(defn.item(item_id).text, lang) if defn else item_id
    except KeyError:
        return item_id


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ratings(defn: q.Definition, stored: Mapping[str, tuple[float | None, str | None, bool]],
            lang: str = "vi") -> Ratings:
    """The ratings of one response in words: the single-question index nodes (the overall
    satisfaction question, "would you come back"), how many rated questions reach the
    "satisfied" threshold of their index node, and those that do not."""
    answers = q.answers_from_stored(defn, stored)
    index = defn.index
    headline_ids = [node.children[0] for node in index.nodes
                    if len(node.children) == 1 and not index.is_node(node.children[0])]
    headline = [Rating(_short(words.text(defn.item(i).text, lang)),
                       answer_in_words(defn, defn.item(i), answers[i], lang))
                for i in dict.fromkeys(headline_ids) if i in answers]
    scores = q.score_response(defn, answers)
    verdicts: dict[str, float] = {}
    for node in index.nodes:
        if node.rule != "share_at_least" or len(node.children) == 1:
            continue
        for item_id, value in q.item_indicators(defn, node.id, scores).items():
            if value is not None and item_id not in headline_ids:
                verdicts.setdefault(item_id, value)
    low = [Rating(_short(words.text(defn.item(i).text, lang)),
                  answer_in_words(defn, defn.item(i), answers[i], lang), low=True)
           for i, v in verdicts.items() if v < 1]
    return Ratings(headline, sum(1 for v in verdicts.values() if v >= 1), len(verdicts), low)


def points_for(scope: Scope, unit: Unit | None) -> Sequence[tuple[int, str]]:
    """The service points the point filter offers (within the unit's subtree if any)."""
    query = scope.service_points("results").with_only_columns(ServicePoint.id, ServicePoint.name,
                                                              Unit.name)
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    return [(pid, f"{unit_name} — {name}") for pid, name, unit_name
            in db.session.execute(query.order_by(Unit.path, ServicePoint.name))]


# --- moderation ------------------------------------------------------------------------
def comment_to_moderate(scope: Scope, answer_id: int,
                        versions: Mapping[tuple[str, int], q.Definition] | None = None
                        ) -> Answer:
    """A comment the scope may moderate: :class:`NotFound` when it is not a comment in
    the scope's view, :class:`Forbidden` (via the unit) when only readable."""
    versions = text_items() if versions is None else versions
    row = db.session.execute(
        select(Answer, Response.unit_id, Response.questionnaire_key,
               Response.questionnaire_version)
        .join(Response, Answer.response_id == Response.id)
        .where(Answer.id == answer_id, _COMMENT)).first()
    if row is None or not _is_text(versions, row.questionnaire_key, row.questionnaire_version,
                                   row.Answer.item_id):
        raise NotFound("comment", answer_id)
    scope.get_unit(row.unit_id, "moderate")
    answer: Answer = row.Answer
    return answer


def _moderation(answer: Answer) -> CommentModeration | None:
    return db.session.scalar(select(CommentModeration)
                             .where(CommentModeration.answer_id == answer.id))


@use_case
def hide(answer: Answer, reason: str, note: str, moderator: User) -> None:
    """Hide a comment from readers, with a reason from :data:`HIDE_REASONS` (and a note,
    required for "other")."""
    reason, note = (reason or "").strip(), " ".join((note or "").split())
    if reason not in HIDE_REASONS:
        raise ServiceError(_("Choose the reason for hiding this comment."), "reason")
    if reason == "other" and not note:
        raise ServiceError(_("Explain in the note why this comment is hidden."), "note")
    if len(note) > MAX_NOTE:
        raise ServiceError(_("The note is too long (at most %(n)d characters).", n=MAX_NOTE),
                           "note")
    mod = _moderation(answer)
    if mod is not None and mod.hidden:
        raise ServiceError(_("This comment is already hidden."))
    if mod is None:
        mod = CommentModeration(answer_id=answer.id)
        db.session.add(mod)
    mod.hidden, mod.reason, mod.note = True, reason, note or None
    mod.moderated_by_id, mod.moderated_at = moderator.id, utcnow()
    db.session.commit()


@use_case
def unhide(answer: Answer, moderator: User) -> None:
    """Show a hidden comment to readers again (the audit log keeps why it was hidden)."""
    mod = _moderation(answer)
    if mod is None or not mod.hidden:
        raise ServiceError(_("This comment is not hidden."))
    mod.hidden, mod.reason, mod.note = False, None, None
    mod.moderated_by_id, mod.moderated_at = moderator.id, utcnow()
    db.session.commit()
