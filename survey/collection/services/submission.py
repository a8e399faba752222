"""Submit one citizen response: validated against its questionnaire version, idempotent
on the client submission id, single-use for dossier tokens, pseudonymised, flagged when
it looks like gaming. One transaction; nothing is written when anything is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import questionnaires as q
from survey.campaigns.services.tokens import campaign_of_token
from survey.collection.models import Answer, DossierToken, Response
from survey.collection.services import gaming, privacy
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.extensions import db

SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A response needs at least one answer: a form whose items are all optional, sent blank,
# says nothing about the service and would only add an empty row to the response count.
# No questionnaire needs blank responses today; a definition that did would say so.
BLANK = ("Vui lòng trả lời ít nhất một câu hỏi trước khi gửi.",
         "Please answer at least one question before sending.")


class SubmissionRejected(ServiceError):
    """The answers do not fit the questionnaire; ``errors`` say which and why."""

    def __init__(self, errors: list[q.AnswerError]) -> None:
        super().__init__(_("Some answers need your attention."))
        self.errors = errors


class TokenUnavailable(ServiceError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VersionLike(Protocol):
    """A questionnaire version row, or any plain reference to one."""

    @property
    def key(self) -> str: ...

    @property
    def version(self) -> int: ...


@dataclass(frozen=True)
class Submission:
    version: VersionLike
    definition: q.Definition
    unit_id: int
    channel: str
    answers: Mapping[str, object]
    client_submission_id: str
    service_point_id: int | None = None
    link_id: int | None = None
    token: DossierToken | None = None
    device_id: str | None = None
    ip: str | None = None
    campaign_id: int | None = None  # paper and interviewer entry of a campaign
    submitted_at: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Outcome:
    response_id: int
    duplicate: bool
    flags: tuple[str, ...]


def _existing(client_submission_id: str) -> Response | None:
    return db.session.scalar(
        select(Response).where(Response.client_submission_id == client_submission_id))


def answer_rows(defn: q.Definition, answers: Mapping[str, object]) -> list[Answer]:
    """Answer rows of the visible, answered items (hidden and blank ones are not stored);
    each item type's registry entry says how its value is stored."""
    rows = []
    for item_id, stored in q.stored_answers(defn, answers).items():
        row = Answer(item_id=item_id, value_num=stored.num, value_text=stored.text)
        if stored.not_applicable:
            # Set only when true: answers_hash covers the unflushed rows, where an
            # ordinary answer's flag is still None (hashes stay comparable over time).
            row.not_applicable = True
        rows.append(row)
    return rows


def raw_answers(defn: q.Definition, rows: list[Answer]) -> dict[str, object]:
    """The inverse of :func:`answer_rows`: stored rows back to raw answers for scoring."""
    return q.answers_from_stored(defn, {
        row.item_id: (row.value_num, row.value_text, bool(row.not_applicable)) for row in rows})


def token_expired(token: DossierToken, now: dt.datetime | None = None) -> bool:
    expires = token.expires_at
    if expires is None:
        return False
    if expires.tzinfo is None:  # SQLite returns naive UTC datetimes
        expires = expires.replace(tzinfo=dt.UTC)
    return expires < (now or utcnow())


def _claim_token(token: DossierToken, now: dt.datetime) -> None:
    if token.used_at is not None:
        raise TokenUnavailable("used")
    if token_expired(token, now):
        raise TokenUnavailable("expired")
    # Conditional update: of two concurrent submissions with one token, one wins.
    claimed = db.session.execute(
        update(DossierToken).where(DossierToken.id == token.id, DossierToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenUnavailable("used")


def submit(sub: Submission) -> Outcome:
    """Store one response (see module docstring). Raises ServiceError subclasses."""
    if not SUBMISSION_ID.match(sub.client_submission_id or ""):
        raise ServiceError(_("The form is incomplete; please reload it and answer again."))
    existing = _existing(sub.client_submission_id)
    if existing is not None:
        return Outcome(existing.id, True, tuple(filter(None, existing.flags.split(","))))
    errors = q.validate_answers(sub.definition, sub.answers)
    if errors:
        raise SubmissionRejected(errors)
    rows = answer_rows(sub.definition, sub.answers)
    if not rows:
        raise SubmissionRejected([q.AnswerError("", "blank_response", *BLANK)])
    stored = {r.item_id: (r.value_num, r.value_text, r.not_applicable) for r in rows}
    config: dict[str, Any] = current_app.config
    day = sub.submitted_at.astimezone(ZoneInfo(config["BABEL_DEFAULT_TIMEZONE"])).date()
    response = Response(
        questionnaire_key=sub.version.key, questionnaire_version=sub.version.version,
        channel=sub.channel, unit_id=sub.unit_id, service_point_id=sub.service_point_id,
        link_id=sub.link_id, submitted_at=sub.submitted_at,
        client_submission_id=sub.client_submission_id,
        token_id=sub.token.id if sub.token else None,
        selection_probability=sub.token.selection_probability if sub.token else None,
        campaign_id=sub.campaign_id or (campaign_of_token(sub.token.id) if sub.token else None),
        ip_hash=privacy.pseudonym(sub.ip, day), device_hash=privacy.pseudonym(sub.device_id, day),
        answers_hash=hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest(),
        answers=rows,
    )
    try:
        if sub.token is not None:
            _claim_token(sub.token, sub.submitted_at)
        flagging = gaming.flags_for(response, config, config["BABEL_DEFAULT_TIMEZONE"])
        flags = flagging.flags
        response.flags = ",".join(flags)
        response.review_status = "flagged" if flags else "ok"
        db.session.add(response)
        db.session.flush()
        response_id = response.id  # read now: after the commit it would be reloaded
        gaming.flag_burst_companions(response, flagging, config)
        db.session.commit()
    except IntegrityError:
        # A double tap raced us to the same client submission id: one response is stored.
        db.session.rollback()
        existing = _existing(sub.client_submission_id)
        if existing is None:
            raise
        return Outcome(existing.id, True, tuple(filter(None, existing.flags.split(","))))
    except BaseException:
        db.session.rollback()
        raise
    return Outcome(response_id, False, tuple(flags))
