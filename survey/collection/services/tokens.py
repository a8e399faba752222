"""One-time dossier tokens: validate what a one-stop system (API) or a clerk (CSV) sends,
select dossiers 1-in-k, and issue tokens. :func:`issue_tokens` is one transaction.

Only hashes are stored: the dossier code arrives hashed (sha256) and the token secret is
kept as its sha256, so the URL exists only in the answer to the call that issued it.
Every dossier is recorded, selected or not, so the number of completed dossiers (the
sampling frame's size) is known to the analysis.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from survey.collection.models import ApiKey, DossierToken, TokenSampler
from survey.collection.services import links
from survey.collection.services.points import questionnaire_keys
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import ServicePoint, Unit

CHANNELS = ("direct", "online", "postal")
FIELDS = ("dossier_hash", "procedure_field", "channel", "completed_at", "service_point_id",
          "questionnaire_key")
MAX_BATCH = 500
MAX_K = 1000
MAX_ID = 2**31 - 1  # an INTEGER key column: larger ids exist nowhere
# No dossier of this platform was completed before this (the guard also keeps times
# that are no datetime once in UTC, e.g. 0001-01-01T00:00+07:00, out of the database).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_LOCAL_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


class ItemProblem(Exception):
    """Input refused; ``index`` is the item's position in a batch, ``field`` its field.
    ``status`` is the HTTP status the API answers with. Nothing has been written."""

    def __init__(self, field: str | None, message: LazyString | str, *, index: int | None = None,
                 status: int = 422, code: str = "invalid_field") -> None:
        super().__init__(str(message))
        self.field, self.message, self.index = field, message, index
        self.status, self.code = status, code


@dataclass(frozen=True)
class DossierInput:
    dossier_hash: str
    procedure_field: str
    channel: str
    completed_at: dt.datetime
    service_point_id: int | None = None
    questionnaire_key: str | None = None


@dataclass(frozen=True)
class Issued:
    token: DossierToken
    secret: str | None  # only for a newly issued, selected token
    already_issued: bool

    @property
    def url(self) -> str | None:
        return links.token_url(self.secret) if self.secret else None


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh"))


def _text(raw: Mapping[str, Any], name: str, required: bool, limit: int) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ItemProblem(name, _l("This field is required."))
        return None
    if not isinstance(value, str):
        raise ItemProblem(name, _l("Must be a text string."))
    if len(value.strip()) > limit:
        raise ItemProblem(name, _l("Must be at most %(n)d characters.", n=limit))
    return value.strip()


def _read_time(value: str, allow_local: bool) -> dt.datetime | None:
    formats = _LOCAL_FORMATS if allow_local else ()
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def parse_time(value: str, *, allow_local: bool = False) -> dt.datetime:
    """ISO 8601 with an offset; with ``allow_local`` (CSV files from spreadsheets) also a
    time without offset or ``dd/mm/yyyy [HH:MM]``, read in the platform's time zone."""
    moment = _read_time(value, allow_local)
    if moment is None:
        raise ItemProblem("completed_at", _l(
            "Not a valid time; write it as 2026-11-20T14:30:00+07:00."))
    if moment.tzinfo is None:
        if not allow_local:
            raise ItemProblem("completed_at", _l(
                "The time needs a time zone offset, e.g. 2026-11-20T14:30:00+07:00."))
        moment = moment.replace(tzinfo=local_zone())
    try:
        in_utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # before year 1 or after 9999 once in UTC
        raise ItemProblem("completed_at", _l(
            "Not a valid time; write it as 2026-11-20T14:30:00+07:00.")) from None
    if in_utc < EARLIEST:
        raise ItemProblem("completed_at", _l(
            "The completion time is too far in the past (before 2000)."))
    if moment > utcnow() + dt.timedelta(minutes=10):
        raise ItemProblem("completed_at", _l("The completion time is in the future."))
    return moment


def parse_item(raw: Mapping[str, Any], *, allow_local: bool = False) -> DossierInput:
    """Check one dossier's fields; raise :class:`ItemProblem` naming the first bad one."""
    for name in raw:
        if name == "dossier_code":
            raise ItemProblem(name, _l(
                "Send the SHA-256 hash of the dossier code (dossier_hash), never the code."))
        if name not in FIELDS:
            raise ItemProblem(name, _l("Unknown field."))
    dossier_hash = _text(raw, "dossier_hash", True, 64) or ""
    if not _HEX64.fullmatch(dossier_hash):
        raise ItemProblem("dossier_hash", _l("Must be 64 hexadecimal characters (SHA-256)."))
    procedure_field = _text(raw, "procedure_field", True, 255) or ""
    channel = _text(raw, "channel", True, 16)
    if channel not in CHANNELS:
        raise ItemProblem("channel", _l("Must be one of: direct, online, postal."))
    completed = _text(raw, "completed_at", True, 64) or ""
    point_id = raw.get("service_point_id")
    if point_id is not None and (isinstance(point_id, bool) or not isinstance(point_id, int)):
        raise ItemProblem("service_point_id", _l("Must be a whole number."))
    if point_id is not None and not 1 <= point_id <= MAX_ID:
        raise ItemProblem("service_point_id", _l("No such service point."))
    return DossierInput(dossier_hash.lower(), procedure_field, channel,
                        parse_time(completed, allow_local=allow_local), point_id,
                        _text(raw, "questionnaire_key", False, 64))


def _check_batch(scope: Scope, unit: Unit,
                 items: Sequence[DossierInput]) -> dict[int, ServicePoint]:
    if not scope.allows("issue_tokens", unit):
        raise Forbidden("issue_tokens")
    if len(items) > MAX_BATCH:
        raise ItemProblem("tokens", _l("At most %(n)d tokens per request.", n=MAX_BATCH),
                          status=413, code="too_many")
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.dossier_hash in seen:
            raise ItemProblem("dossier_hash", _l("The same dossier appears twice in the batch."),
                              index=i)
        seen[item.dossier_hash] = i
    wanted = {item.service_point_id for item in items if item.service_point_id is not None}
    points = {p.id: p for p in db.session.scalars(
        scope.service_points("issue_tokens").where(
            ServicePoint.id.in_(wanted), Unit.path.startswith(unit.path, autoescape=True)))}
    keys = set(questionnaire_keys()) if any(i.questionnaire_key for i in items) else set()
    for i, item in enumerate(items):
        if item.service_point_id is not None and item.service_point_id not in points:
            # The same answer whether the point is missing or another unit's: no probing.
            raise ItemProblem("service_point_id", _l(
                "Service point %(id)s is not part of this unit.", id=item.service_point_id),
                index=i, status=403, code="forbidden")
        if item.questionnaire_key and item.questionnaire_key not in keys:
            raise ItemProblem("questionnaire_key", _l("Unknown questionnaire."), index=i)
    return points


def _sampler(unit: Unit) -> TokenSampler:
    # FOR UPDATE serialises concurrent batches of one unit on PostgreSQL, so the counter
    # (and thus the systematic selection) has no gaps and no repeats.
    sampler = db.session.scalar(
        select(TokenSampler).where(TokenSampler.unit_id == unit.id).with_for_update())
    if sampler is None:
        sampler = TokenSampler(unit_id=unit.id, k=1, start=0, counter=0)
        db.session.add(sampler)
    return sampler


def prepare_tokens(scope: Scope, unit: Unit, items: Sequence[DossierInput],
                   api_key: ApiKey | None = None) -> list[Issued]:
    """Everything :func:`issue_tokens` does except the commit (the caller commits with
    :func:`commit_tokens` once whatever needs the secrets, e.g. the slips, is ready).
    ``scope`` (a staff member's or the API key's) must allow ``issue_tokens`` on ``unit``
    and on every service point named."""
    points = _check_batch(scope, unit, items)
    if api_key is not None:
        api_key.last_used_at = utcnow()
    existing = {t.dossier_hash: t for t in db.session.scalars(select(DossierToken).where(
        DossierToken.unit_id == unit.id,
        DossierToken.dossier_hash.in_([i.dossier_hash for i in items])))}
    sampler = _sampler(unit)
    now = utcnow()
    ttl = dt.timedelta(days=int(current_app.config["TOKEN_TTL_DAYS"]))
    result: list[Issued] = []
    for item in items:
        if item.dossier_hash in existing:
            result.append(Issued(existing[item.dossier_hash], None, True))
            continue
        selected = sampler.counter % sampler.k == sampler.start
        sampler.counter += 1
        secret = links.new_secret() if selected else None
        point = points.get(item.service_point_id or 0)
        key = item.questionnaire_key or (point.questionnaire_key if point else None)
        token = DossierToken(
            unit_id=unit.id, service_point_id=item.service_point_id, questionnaire_key=key,
            token_hash=links.hash_secret(secret) if secret else None,
            dossier_hash=item.dossier_hash, procedure_field=item.procedure_field,
            channel=item.channel, completed_at=item.completed_at, issued_at=now,
            expires_at=now + ttl if selected else None, selected=selected,
            selection_probability=1.0 / sampler.k)
        db.session.add(token)
        result.append(Issued(token, secret, False))
    return result


def commit_tokens() -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:  # a concurrent call recorded one of these dossiers
        db.session.rollback()
        raise ItemProblem(None, _l("Another request recorded the same dossier; send again."),
                          status=409, code="conflict") from exc


def issue_tokens(scope: Scope, unit: Unit, items: Sequence[DossierInput],
                 api_key: ApiKey | None = None) -> list[Issued]:
    """Record every dossier, issue tokens to the selected ones; all or nothing."""
    try:
        result = prepare_tokens(scope, unit, items, api_key)
    except ItemProblem:
        db.session.rollback()
        raise
    commit_tokens()
    return result


@use_case
def configure_sampler(unit: Unit, k: int) -> TokenSampler:
    """Select 1 dossier in ``k`` from now on, from a new random start."""
    if not 1 <= k <= MAX_K:
        raise ServiceError(_("Choose a whole number from 1 to %(n)d.", n=MAX_K), "k")
    sampler = _sampler(unit)
    sampler.k, sampler.start, sampler.counter = k, secrets.randbelow(k), 0
    sampler.updated_at = utcnow()
    db.session.commit()
    return sampler


def token_counts(unit: Unit) -> tuple[int, int]:
    """Dossiers recorded for the unit: (selected for a token, not selected)."""
    counts = dict(db.session.execute(
        select(DossierToken.selected, func.count()).where(DossierToken.unit_id == unit.id)
        .group_by(DossierToken.selected)).all())
    return int(counts.get(True, 0)), int(counts.get(False, 0))


def sampler_of(unit: Unit) -> TokenSampler | None:
    return db.session.scalar(select(TokenSampler).where(TokenSampler.unit_id == unit.id))


def expiry_text(moment: dt.datetime | None) -> str:
    """What a slip prints (always Vietnamese, like the posters)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return "Hạn dùng đến " + moment.astimezone(local_zone()).strftime("%d/%m/%Y")
