"""Paper and interviewer entry: a clerk keys a campaign's questionnaire into one form and
it goes through the citizen pages' validate-and-submit service (``collection``'s
``submission.submit``: validation by the questionnaire version, idempotent on the client
submission id, a token answers once) with channel ``field`` or ``paper`` and the campaign.

A slip is named by its invitation token (the link printed on it, or the QR code read by a
scanner) or by its row number in the frame; the selected person's token is claimed by the
response, so a sampled person answers once. Every keying is a :class:`CampaignEntry` (who
and when, audited). With double entry, a slip becomes a response only when a second clerk
keys the same answers blind, or a supervisor picks the right value of each item that
differs; before that nothing counts."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, select

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.campaigns.models import Campaign, CampaignEntry, CampaignUnit, FrameRow, SamplingFrame
from survey.collection.models import DossierToken, Response
from survey.collection.services import links, submission
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import NotFound, ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit, User

PERMISSION: Final = "data_entry"
ENTRY_CHANNELS = ("field", "paper")
COUNTED = ("submitted", "matched", "reconciled")


class EntryRefused(ServiceError):
    """The answers do not fit the questionnaire: ``errors`` by item (nothing written)."""

    def __init__(self, errors: list[q.AnswerError]) -> None:
        super().__init__(_("Some answers need your attention."))
        self.errors = errors


@dataclass(frozen=True)
class EntryInput:
    channel: str
    slip: str  # the token (or the slip's link) or the frame row number; may be blank
    unit_id: int | None  # when no slip names the person
    answers: Mapping[str, object]  # raw form values by item id
    client_submission_id: str


@dataclass(frozen=True)
class EntryOutcome:
    entry_id: int
    status: str
    duplicate: bool = False


def new_submission_id() -> str:
    return secrets.token_urlsafe(18)


# --- what a clerk may see -------------------------------------------------------------
def entry_campaigns(scope: Scope) -> Select[Any]:
    """Campaigns in fieldwork taking paper or interviewer entry, covering a unit the
    scope may enter data for."""
    covered = select(CampaignUnit.campaign_id).join(Unit, Unit.id == CampaignUnit.unit_id) \
        .where(scope.unit_clause(PERMISSION))
    channel = (Campaign.channels.contains("field")) | (Campaign.channels.contains("paper"))
    return select(Campaign).where(Campaign.id.in_(covered), Campaign.status == "fieldwork",
                                  channel)


def list_for_clerk(scope: Scope) -> list[tuple[Campaign, int, int]]:
    """(campaign, selected persons still to answer, slips awaiting a second entry or a
    supervisor) of the clerk's campaigns: two aggregate queries."""
    found = list(db.session.scalars(entry_campaigns(scope).order_by(Campaign.period_start)))
    ids = [c.id for c in found]
    if not ids:
        return []
    units = select(Unit.id).where(scope.unit_clause(PERMISSION))
    todo = dict(db.session.execute(
        select(SamplingFrame.campaign_id, func.count()).join(
            FrameRow, FrameRow.frame_id == SamplingFrame.id).outerjoin(
            DossierToken, DossierToken.id == FrameRow.token_id).where(
            SamplingFrame.campaign_id.in_(ids), FrameRow.status == "selected",
            FrameRow.unit_id.in_(units), DossierToken.used_at.is_(None))
        .group_by(SamplingFrame.campaign_id)).all())
    waiting = dict(db.session.execute(
        select(CampaignEntry.campaign_id, func.count(func.distinct(CampaignEntry.frame_row_id)))
        .where(CampaignEntry.campaign_id.in_(ids),
               CampaignEntry.status.in_(("pending", "discrepancy")))
        .group_by(CampaignEntry.campaign_id)).all())
    return [(c, int(todo.get(c.id, 0)), int(waiting.get(c.id, 0))) for c in found]


def get_for_entry(scope: Scope, campaign_id: int) -> Campaign:
    """The campaign if the scope may enter data for it; :class:`NotFound` otherwise."""
    found = db.session.scalar(entry_campaigns(scope).where(Campaign.id == campaign_id))
    if found is None:
        raise NotFound("campaign", campaign_id)
    return found


def entry_units(scope: Scope, campaign: Campaign) -> list[Unit]:
    return list(db.session.scalars(select(Unit).join(
        CampaignUnit, CampaignUnit.unit_id == Unit.id).where(
        CampaignUnit.campaign_id == campaign.id, scope.unit_clause(PERMISSION))
        .order_by(Unit.name)))


def channels_of(campaign: Campaign) -> list[str]:
    return [c for c in ENTRY_CHANNELS if c in campaign.channel_list]


def version_of(campaign: Campaign) -> QuestionnaireVersion:
    found = db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == campaign.questionnaire_key,
        QuestionnaireVersion.version == campaign.questionnaire_version))
    if found is None:
        raise ServiceError(_("The campaign's questionnaire version is missing."))
    return found


def definition(campaign: Campaign) -> q.Definition:
    return questionnaire_versions.definition_of(version_of(campaign))


# --- the form's values ----------------------------------------------------------------
def form_answers(defn: q.Definition, posted: Mapping[str, object]) -> dict[str, object]:
    """Typed answers of the entry form: every item is one text field where the clerk
    types the option's number (several numbers, separated by spaces or commas, for a
    multiple choice; ``na`` for not applicable)."""
    raw: dict[str, object] = {}
    for item in defn.items:
        value = str(posted.get(item.id) or "").strip()
        if q.item_type(item.type).multiple:
            raw[item.id] = [v for v in value.replace(",", " ").split() if v]
        else:
            raw[item.id] = value
    answers = q.answers_from_form(defn, raw)
    return {k: v for k, v in answers.items() if v not in (None, "", [])}


def form_values(defn: q.Definition, answers: Mapping[str, object]) -> dict[str, str]:
    """The inverse of :func:`form_answers`, to show stored answers in the form."""
    out: dict[str, str] = {}
    for item_id, value in answers.items():
        if isinstance(value, list):
            out[item_id] = " ".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[item_id] = "1" if value else "0"
        elif isinstance(value, float) and value.is_integer():
            out[item_id] = str(int(value))
        else:
            out[item_id] = str(value)
    return out


def _validate(defn: q.Definition, answers: Mapping[str, object]) -> None:
    errors = q.validate_answers(defn, answers)
    if not errors and not q.stored_answers(defn, answers):
        first = defn.items[0].id if defn.items else ""
        errors = [q.AnswerError(first, "blank_response", *submission.BLANK)]
    if errors:
        raise EntryRefused(errors)


# --- the slip -------------------------------------------------------------------------
def _frame_id(campaign: Campaign) -> int | None:
    return db.session.scalar(select(SamplingFrame.id).where(
        SamplingFrame.campaign_id == campaign.id))


def find_row(campaign: Campaign, slip: str) -> FrameRow | None:
    """The selected frame row a slip names: its token (or the link printed on it) or its
    row number; None for a blank slip. Refused when it names nobody of this campaign."""
    text = slip.strip()
    if not text:
        return None
    frame_id = _frame_id(campaign)
    row: FrameRow | None = None
    if frame_id is not None and text.isdigit():
        row = db.session.scalar(select(FrameRow).where(
            FrameRow.frame_id == frame_id, FrameRow.row_number == int(text)))
    elif frame_id is not None:
        token = links.resolve_token(text.rsplit("/t/", 1)[-1].strip("/"))
        if token is not None:
            row = db.session.scalar(select(FrameRow).where(
                FrameRow.frame_id == frame_id, FrameRow.token_id == token.id))
    if row is None:
        raise ServiceError(_("No person of this campaign's sample has this slip number or "
                             "code."), "slip")
    if row.status != "selected":
        raise ServiceError(_("Row %(n)d was not selected for this campaign (or refused).",
                             n=row.row_number), "slip")
    return row


def _token_of(row: FrameRow) -> DossierToken:
    """The person's invitation token, issued now (with no link) if they have none."""
    if row.token_id is not None:
        token = db.session.get(DossierToken, row.token_id)
        assert token is not None
        return token
    campaign = db.session.scalar(select(Campaign).join(
        SamplingFrame, SamplingFrame.campaign_id == Campaign.id).where(
        SamplingFrame.id == row.frame_id))
    assert campaign is not None
    token = DossierToken(unit_id=row.unit_id, questionnaire_key=campaign.questionnaire_key,
                         token_hash=None, dossier_hash=row.ident_hash,
                         procedure_field=campaign.name[:255], channel="campaign",
                         issued_at=utcnow(), selected=True,
                         selection_probability=row.selection_probability or 1.0)
    db.session.add(token)
    db.session.flush()
    row.token_id = token.id
    return token


def _answered(row: FrameRow) -> bool:
    if row.token_id is None:
        return False
    token = db.session.get(DossierToken, row.token_id)
    return token is not None and token.used_at is not None


def _unit(scope: Scope, campaign: Campaign, row: FrameRow | None, unit_id: int | None) -> Unit:
    wanted = row.unit_id if row is not None else unit_id
    unit = next((u for u in entry_units(scope, campaign) if u.id == wanted), None)
    if unit is None:
        if row is not None:
            raise ServiceError(_("This slip belongs to a unit you do not enter data for."),
                               "slip")
        raise ServiceError(_("Choose the unit of the form."), "unit_id")
    return unit


def _submit(campaign: Campaign, defn: q.Definition, unit_id: int, channel: str,
            answers: Mapping[str, object], row: FrameRow | None, submission_id: str) -> None:
    token = _token_of(row) if row is not None else None
    try:
        submission.submit(submission.Submission(
            version=version_of(campaign), definition=defn, unit_id=unit_id, channel=channel,
            answers=dict(answers), client_submission_id=submission_id, token=token,
            campaign_id=campaign.id))
    except submission.TokenUnavailable as exc:
        if exc.reason == "expired":
            raise ServiceError(_("This slip's invitation has expired."), "slip") from exc
        raise ServiceError(_("This slip has already been answered: a sampled person answers "
                             "once."), "slip") from exc


# --- the use cases --------------------------------------------------------------------
@use_case
def enter(scope: Scope, user_id: int, campaign: Campaign, data: EntryInput) -> EntryOutcome:
    """Store one keyed form (see the module docstring). Nothing is written when it is
    refused."""
    if not submission.SUBMISSION_ID.match(data.client_submission_id or ""):
        raise ServiceError(_("The form is incomplete; please reload it and answer again."))
    existing = db.session.scalar(select(CampaignEntry).where(
        CampaignEntry.client_submission_id == data.client_submission_id))
    if existing is not None:  # the same form sent twice: one entry
        return EntryOutcome(existing.id, existing.status, duplicate=True)
    if data.channel not in channels_of(campaign):
        raise ServiceError(_("Choose how the answers were collected."), "channel")
    row = find_row(campaign, data.slip)
    unit = _unit(scope, campaign, row, data.unit_id)
    if campaign.double_entry and row is None:
        raise ServiceError(_("With double entry every form needs its slip number."), "slip")
    if row is not None and _answered(row):
        raise ServiceError(_("This slip has already been answered: a sampled person answers "
                             "once."), "slip")
    defn = definition(campaign)
    answers = form_answers(defn, data.answers)
    _validate(defn, answers)
    entry = CampaignEntry(campaign_id=campaign.id, frame_row_id=row.id if row else None,
                          unit_id=unit.id, channel=data.channel,
                          client_submission_id=data.client_submission_id,
                          answers=json.dumps(answers, sort_keys=True, ensure_ascii=False),
                          entered_by_id=user_id, entered_at=utcnow())
    if not campaign.double_entry:
        entry.status = "submitted"
        entry.response_submission_id = data.client_submission_id
        db.session.add(entry)
        _submit(campaign, defn, unit.id, data.channel, answers, row, data.client_submission_id)
        return EntryOutcome(entry.id, entry.status)
    assert row is not None
    earlier = list(db.session.scalars(select(CampaignEntry).where(
        CampaignEntry.frame_row_id == row.id, CampaignEntry.campaign_id == campaign.id)
        .order_by(CampaignEntry.id)))
    if len(earlier) >= 2:
        raise ServiceError(_("This slip was entered twice and awaits a supervisor."), "slip")
    if not earlier:
        entry.status = "pending"
        db.session.add(entry)
        commit_or_refuse()
        return EntryOutcome(entry.id, entry.status)
    first = earlier[0]
    if first.entered_by_id == user_id:
        raise ServiceError(_("The second entry of a slip must be made by another clerk."),
                           "slip")
    if json.loads(first.answers) == json.loads(entry.answers):
        first.status = entry.status = "matched"
        first.response_submission_id = entry.response_submission_id = \
            data.client_submission_id
        db.session.add(entry)
        _submit(campaign, defn, unit.id, data.channel, answers, row, data.client_submission_id)
        return EntryOutcome(entry.id, entry.status)
    first.status = entry.status = "discrepancy"
    db.session.add(entry)
    commit_or_refuse()
    return EntryOutcome(entry.id, entry.status)


@dataclass(frozen=True)
class Difference:
    item: q.Item
    first: str
    second: str


@dataclass(frozen=True)
class Discrepancy:
    row_number: int
    unit_name: str
    entries: tuple[CampaignEntry, CampaignEntry]
    clerks: tuple[str, str]
    differences: list[Difference]


def discrepancies(campaign: Campaign) -> list[tuple[int, int, str]]:
    """(frame row id, row number, unit name) of the slips whose two entries differ."""
    rows = db.session.execute(
        select(FrameRow.id, FrameRow.row_number, Unit.name).join(
            CampaignEntry, CampaignEntry.frame_row_id == FrameRow.id).join(
            Unit, Unit.id == FrameRow.unit_id).where(
            CampaignEntry.campaign_id == campaign.id, CampaignEntry.status == "discrepancy")
        .group_by(FrameRow.id, FrameRow.row_number, Unit.name).order_by(FrameRow.row_number))
    return [(int(a), int(b), str(c)) for a, b, c in rows]


def discrepancy(campaign: Campaign, row_id: int) -> Discrepancy:
    entries = list(db.session.scalars(select(CampaignEntry).where(
        CampaignEntry.campaign_id == campaign.id, CampaignEntry.frame_row_id == row_id,
        CampaignEntry.status == "discrepancy").order_by(CampaignEntry.id)))
    if len(entries) != 2:
        raise NotFound("discrepancy", row_id)
    row = db.session.get(FrameRow, row_id)
    assert row is not None
    unit = db.session.get(Unit, row.unit_id)
    names = dict(db.session.execute(select(User.id, User.full_name).where(
        User.id.in_([e.entered_by_id for e in entries if e.entered_by_id]))).all())
    defn = definition(campaign)
    one, two = (form_values(defn, json.loads(e.answers)) for e in entries)
    diffs = [Difference(item, one.get(item.id, ""), two.get(item.id, ""))
             for item in defn.items if one.get(item.id, "") != two.get(item.id, "")]
    return Discrepancy(row.row_number, unit.name if unit else "", (entries[0], entries[1]),
                       tuple(names.get(e.entered_by_id or 0, "?") for e in entries),  # type: ignore[arg-type]
                       diffs)


@use_case
def reconcile(campaign: Campaign, row_id: int, supervisor_id: int,
              picks: Mapping[str, str]) -> int:
    """The supervisor's choice (``"1"`` or ``"2"``: which entry is right) for every item
    that differs; the reconciled answers become the response. Returns its id."""
    found = discrepancy(campaign, row_id)
    first, second = (json.loads(e.answers) for e in found.entries)
    answers = dict(first)
    for diff in found.differences:
        pick = picks.get(diff.item.id)
        if pick not in ("1", "2"):
            raise ServiceError(_("Choose the right value of every item that differs."),
                               diff.item.id)
        source = first if pick == "1" else second
        answers.pop(diff.item.id, None)
        if diff.item.id in source:
            answers[diff.item.id] = source[diff.item.id]
    defn = definition(campaign)
    _validate(defn, answers)
    row = db.session.get(FrameRow, row_id)
    assert row is not None
    if _answered(row):
        raise ServiceError(_("This slip has already been answered: a sampled person answers "
                             "once."))
    submission_id = f"rec-{found.entries[1].client_submission_id}"[:64]
    now = utcnow()
    for e in found.entries:
        e.status, e.response_submission_id = "reconciled", submission_id
        e.reconciled_by_id, e.reconciled_at = supervisor_id, now
    _submit(campaign, defn, row.unit_id, found.entries[1].channel, answers, row, submission_id)
    response_id = db.session.scalar(select(Response.id).where(
        Response.client_submission_id == submission_id))
    return int(response_id or 0)


def entries_by(campaign: Campaign, user_id: int, limit: int = 20) -> list[tuple[int, str, str]]:
    """The clerk's latest entries of the campaign: (row number or 0, unit, status)."""
    rows = db.session.execute(
        select(func.coalesce(FrameRow.row_number, 0), Unit.name, CampaignEntry.status)
        .join(Unit, Unit.id == CampaignEntry.unit_id)
        .outerjoin(FrameRow, and_(FrameRow.id == CampaignEntry.frame_row_id))
        .where(CampaignEntry.campaign_id == campaign.id,
               CampaignEntry.entered_by_id == user_id)
        .order_by(CampaignEntry.id.desc()).limit(limit))
    return [(int(a), str(b), str(c)) for a, b, c in rows]


@use_case
def set_double_entry(campaign: Campaign, enabled: bool) -> None:
    """Switch double entry on or off; refused once forms were entered (the entries
    already made would not fit the other rule)."""
    if campaign.status == "closed":
        raise ServiceError(_("The campaign is closed."))
    entered = db.session.scalar(select(func.count()).select_from(CampaignEntry).where(
        CampaignEntry.campaign_id == campaign.id))
    if entered:
        raise ServiceError(_("Double entry cannot be changed once forms have been entered."))
    campaign.double_entry = enabled
    commit_or_refuse()
