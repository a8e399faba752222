"""The citizen flow as one service: resolve → page → validate → submit.

Three ways in share it: an open desk link (/q), a kiosk tablet (/k) and a one-time
dossier token (/t); paper and interviewer entry will use the same validate-and-submit
steps. It reads no request: the web layer hands it the link key, the answers kept so far
(the citizen pages keep them in the signed session cookie, so a citizen needs no account
and no JavaScript) and the posted values, and turns its refusals into pages.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from werkzeug.security import check_password_hash

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import DossierToken, PointLink
from survey.collection.services import links, submission
from survey.extensions import db
from survey.org.models import ServicePoint, Unit


class LinkUnavailable(Exception):
    """The link or token cannot be answered: ``unknown`` (or revoked, or no published
    questionnaire), ``used`` (a one-time token already answered) or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ref:
    """What a page needs of a unit, a point or a link: plain values that can be cached
    across requests (ORM objects cannot)."""

    id: int
    name: str = ""


@dataclass(frozen=True)
class VersionRef:
    id: int
    key: str
    version: int


@dataclass(frozen=True)
class Target:
    """Where an answer goes: resolved from the URL, never from an editable parameter."""

    prefix: str  # "q", "k" or "t"
    key: str  # the link token or the token secret
    unit: Ref
    point: Ref | None
    link: Ref | None
    token: DossierToken | None
    version: VersionRef
    definition: q.Definition

    @property
    def channel(self) -> str:
        return {"q": "desk_qr", "k": "kiosk", "t": "token"}[self.prefix]

    @property
    def state_key(self) -> str:
        return f"{self.prefix}:{links.hash_secret(self.key)[:16]}"


def questionnaire_for(point: ServicePoint | None, override: str | None,
                      default: str) -> QuestionnaireVersion | None:
    """Latest published version of the link's, the point's or the default questionnaire.
    (Campaigns will take over a point here for their period.)"""
    key = override or (point.questionnaire_key if point else None) or default
    return questionnaire_versions.latest_published(key)


def _target(prefix: str, key: str, point: ServicePoint | None, unit: Unit,
            link: PointLink | None, token: DossierToken | None,
            version: QuestionnaireVersion) -> Target:
    return Target(prefix, key, Ref(unit.id, unit.name),
                  Ref(point.id, point.name) if point else None,
                  Ref(link.id) if link else None, token,
                  VersionRef(version.id, version.key, version.version),
                  questionnaire_versions.definition_of(version))


def _load_link_target(prefix: str, token: str, default_key: str) -> Target | None:
    link = links.resolve_link(token)
    if link is None or (prefix == "k") != (link.kind == "kiosk"):
        return None
    point = link.service_point
    version = questionnaire_for(point, link.questionnaire_key, default_key)
    if version is None:
        return None
    return _target(prefix, token, point, point.unit, link, None, version)


def target_for_link(prefix: str, token: str, default_key: str) -> Target | None:
    return links.cached(f"link:{prefix}:{default_key}", token,
                        lambda: _load_link_target(prefix, token, default_key))


def target_for_token(secret: str, token: DossierToken, default_key: str) -> Target | None:
    point = db.session.get(ServicePoint, token.service_point_id) if token.service_point_id \
        else None
    version = questionnaire_for(point, token.questionnaire_key, default_key)
    if version is None:
        return None
    return _target("t", secret, point, token.unit, None, token, version)


def resolve(prefix: str, key: str, default_key: str, *,
            now: dt.datetime | None = None) -> Target:
    """Step 1: the target of a link key (``q``/``k``) or token secret (``t``).
    Raises :class:`LinkUnavailable`."""
    target: Target | None
    if prefix == "t":
        token = links.resolve_token(key)
        if token is None:
            raise LinkUnavailable("unknown")
        if token.used_at is not None:
            raise LinkUnavailable("used")
        if submission.token_expired(token, now):
            raise LinkUnavailable("expired")
        target = target_for_token(key, token, default_key)
    else:
        target = target_for_link(prefix, key, default_key)
    if target is None:
        raise LinkUnavailable("unknown")
    return target


# --- step 2: pages -------------------------------------------------------------------
# A page of the definition holds as many questions as its paper form (SIPAS 2023: 24 on
# one page, 10,846 px on a phone). The citizen sees it as screens of at most
# MAX_ITEMS_PER_SCREEN questions: a long section is cut into near-equal parts (its title
# repeated, "continued"), short sections of one page share a screen. Screens never mix
# two pages of the definition. Page numbers in the citizen's addresses are screen numbers.
MAX_ITEMS_PER_SCREEN = 12


@dataclass(frozen=True)
class Screen:
    number: int
    page: int  # the definition's page it belongs to
    sections: tuple[tuple[q.Section, tuple[q.Item, ...]], ...]  # (section as shown, items)

    @property
    def items(self) -> list[q.Item]:
        return [item for _, items in self.sections for item in items]


def _continued(section: q.Section) -> q.Section:
    title = q.Text(vi=f"{section.title.vi} (tiếp theo)", en=f"{section.title.en} (continued)")
    return replace(section, title=title, intro=None)


@lru_cache(maxsize=256)
def screens(defn: q.Definition) -> tuple[Screen, ...]:
    """The definition's pages cut into screens (see :data:`MAX_ITEMS_PER_SCREEN`)."""
    out: list[Screen] = []
    for page in defn.pages:
        groups: list[list[tuple[q.Section, tuple[q.Item, ...]]]] = []
        current: list[tuple[q.Section, tuple[q.Item, ...]]] = []
        count = 0
        for section in defn.sections_on_page(page):
            items = section.items
            parts = max(1, math.ceil(len(items) / MAX_ITEMS_PER_SCREEN))
            size = max(1, math.ceil(len(items) / parts))
            pieces = [items[i:i + size] for i in range(0, len(items), size)] or [items]
            for k, piece in enumerate(pieces):
                if current and count + len(piece) > MAX_ITEMS_PER_SCREEN:
                    groups.append(current)
                    current, count = [], 0
                current.append((section if k == 0 else _continued(section), piece))
                count += len(piece)
        if current:
            groups.append(current)
        first = len(out) + 1
        out.extend([Screen(first + n, page, tuple(g)) for n, g in enumerate(groups)])
    return tuple(out)


def screen(defn: q.Definition, number: int) -> Screen | None:
    all_screens = screens(defn)
    return all_screens[number - 1] if 1 <= number <= len(all_screens) else None


def screen_numbers(defn: q.Definition) -> list[int]:
    return [s.number for s in screens(defn)]


def page_items(defn: q.Definition, page: int) -> list[q.Item]:
    """The items of screen ``page``."""
    found = screen(defn, page)
    return found.items if found else []


def visible_pages(defn: q.Definition, answers: Mapping[str, object]) -> list[int]:
    shown = q.visible_items(defn, answers)
    return [s.number for s in screens(defn) if any(i.id in shown for i in s.items)]


def first_page(defn: q.Definition, answers: Mapping[str, object]) -> int:
    pages = visible_pages(defn, answers)
    return pages[0] if pages else 1


def next_page(defn: q.Definition, answers: Mapping[str, object], page: int) -> int | None:
    """The next page with a visible item after ``page``, or None when it is the last."""
    return next((p for p in visible_pages(defn, answers) if p > page), None)


def first_page_with(defn: q.Definition, item_ids: set[str]) -> int:
    return min((s.number for s in screens(defn) for i in s.items if i.id in item_ids),
               default=1)


# --- step 3: validate ----------------------------------------------------------------
@dataclass
class PageResult:
    """What posting one page gives: the merged answers, the errors of this page's items,
    and where to go (``next_page``; None with no errors means the form is complete)."""

    answers: dict[str, object]
    errors: list[q.AnswerError] = field(default_factory=list)
    next_page: int | None = None

    @property
    def complete(self) -> bool:
        return not self.errors and self.next_page is None


def merge(kept: Mapping[str, object], page_ids: list[str],
          answers: Mapping[str, object]) -> dict[str, object]:
    """Answers kept so far with this page's replaced (blank answers are dropped)."""
    merged = {k: v for k, v in kept.items() if k not in page_ids}
    merged.update({k: v for k, v in answers.items() if v not in (None, "", [])})
    return merged


def receive_page(target: Target, page: int, kept: Mapping[str, object],
                 posted: Mapping[str, object]) -> PageResult:
    """Convert the raw values posted for ``page``, merge them into the answers kept so
    far and check this page's items against the questionnaire version."""
    defn = target.definition
    ids = [i.id for i in page_items(defn, page)]
    answers = merge(kept, ids, q.answers_from_form(defn, posted))
    errors = [e for e in q.validate_answers(defn, answers) if e.item_id in set(ids)]
    following = None if errors else next_page(defn, answers, page)
    if not errors and following is None and not q.stored_answers(defn, answers):
        errors = [blank_error(defn, page, answers)]
    return PageResult(answers, errors, following)


def blank_error(defn: q.Definition, page: int,
                answers: Mapping[str, object]) -> q.AnswerError:
    """The refusal of a blank response, shown beside the first question of ``page``."""
    shown = q.visible_items(defn, answers)
    items = [i.id for i in page_items(defn, page)]
    first = next((i for i in items if i in shown), items[0] if items else "")
    return q.AnswerError(first, "blank_response", *submission.BLANK)


# --- step 4: submit ------------------------------------------------------------------
def submit(target: Target, answers: Mapping[str, Any], client_submission_id: str, *,
           device_id: str | None, ip: str | None) -> submission.Outcome:
    """Store the response (idempotent on ``client_submission_id``); raises what
    :func:`submission.submit` raises, and :class:`LinkUnavailable` when the link was
    revoked since it was resolved (the resolution may come from this worker's cache,
    so revocation is checked in the database at every submit, whichever worker
    revoked it)."""
    if target.link is not None and not links.link_accepts(target.link.id):
        links.invalidate()
        raise LinkUnavailable("unknown")
    return submission.submit(submission.Submission(
        version=target.version, definition=target.definition, unit_id=target.unit.id,
        channel=target.channel, answers=dict(answers), client_submission_id=client_submission_id,
        service_point_id=target.point.id if target.point else None,
        link_id=target.link.id if target.link else None, token=target.token,
        device_id=device_id, ip=ip))


# --- kiosk ---------------------------------------------------------------------------
def kiosk_pin_hash(target: Target) -> str | None:
    point = db.session.get(ServicePoint, target.point.id) if target.point else None
    return point.kiosk_pin_hash if point else None


def kiosk_pin_ok(target: Target, pin: str) -> bool:
    """Does ``pin`` open the kiosk of the target's service point?"""
    pin_hash = kiosk_pin_hash(target)
    return bool(pin_hash) and check_password_hash(pin_hash or "", pin)
