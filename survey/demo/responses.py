"""Demo responses: a few months of realistic answers at every demo service point,
submitted through the real submission service (validation, pseudonyms, gaming flags),
with a few gaming bursts for the review screen. Deterministic for a given seed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import PointLink
from survey.collection.services import submission
from survey.extensions import db
from survey.org.models import ServicePoint, Unit

PERIOD = (dt.date(2026, 8, 3), dt.date(2026, 11, 20))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COMMENTS = ["Cán bộ nhiệt tình, hướng dẫn rõ ràng.", "Thời gian chờ hơi lâu.",
            "Nên bố trí thêm ghế ngồi chờ.", "Rất hài lòng.", "Thủ tục còn rườm rà."]
RATE = {"commune": 10, "department": 8, "service_centre": 40, "hospital": 25, "school": 9}


def _answer(item: q.Item, defn: q.Definition, rng: random.Random, quality: float) -> object:
    if item.not_applicable and rng.random() < 0.04:
        return q.NOT_APPLICABLE
    if item.type in ("likert5", "points", "single_choice"):
        values = sorted(defn.scale(item.scale or "").values)
        if item.type == "single_choice":
            return rng.choice(values)
        # Better agencies (quality near 1) put more weight on the upper levels.
        weights = [(1 + i) ** (4 * quality) for i in range(len(values))]
        return rng.choices(values, weights=weights)[0]
    if item.type == "multiple_choice":
        values = list(defn.scale(item.scale or "").values)
        k = min(len(values), item.max_choices or 2, rng.randint(1, 2))
        return sorted(rng.sample(values, k))
    if item.type == "yes_no":
        return rng.random() < 0.5 + 0.4 * quality
    if item.type == "percentage":
        return round(min(100, max(0, rng.gauss(70 + 25 * quality, 12))))
    if item.type == "number":
        lo, hi = item.min or 0, item.max if item.max is not None else 100
        value = rng.uniform(lo, hi)
        return round(value) if item.integer else round(value, 1)
    return rng.choice(COMMENTS)


def random_answers(defn: q.Definition, rng: random.Random, quality: float) -> dict[str, object]:
    """A valid answer set: items in order, respecting show_if; optional ones often skipped."""
    answers: dict[str, object] = {}
    for item in defn.items:
        if item.id not in q.visible_items(defn, answers):
            continue
        if not item.required and rng.random() < (0.85 if item.type == "text" else 0.25):
            continue
        answers[item.id] = _answer(item, defn, rng, quality)
    return answers


def _opening_time(day: dt.date, rng: random.Random) -> dt.datetime:
    start, end = (7 * 60 + 30, 11 * 60) if day.isoweekday() == 6 else (7 * 60 + 15, 17 * 60)
    minute = rng.randint(start, end)
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60, rng.randint(0, 59)),
                                tzinfo=TZ)
    return local.astimezone(dt.UTC)


def _working_days() -> list[dt.date]:
    days, day = [], PERIOD[0]
    while day <= PERIOD[1]:
        if day.isoweekday() <= 6:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass(frozen=True)
class _Link:
    """What the loop needs of a link, as plain values: every commit of the submission
    service expires ORM objects, and reloading them per response would be slow."""

    id: int
    point_id: int
    unit_id: int
    unit_kind: str
    key: str


def _submit(link: _Link, answers: dict[str, object], when: dt.datetime, device: str,
            rng: random.Random) -> submission.Outcome:
    version = _VERSIONS[link.key]
    return submission.submit(submission.Submission(
        version=version, definition=questionnaire_versions.definition_of(version),
        unit_id=link.unit_id, channel="desk_qr",
        answers=answers, client_submission_id=f"demo-{rng.getrandbits(64):016x}",
        service_point_id=link.point_id, link_id=link.id, device_id=device,
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        submitted_at=when))


def seed_responses(*, seed: int = 2026, scale: float = 1.0) -> int:
    """Submit the demo responses; returns how many were stored."""
    rng = random.Random(seed)
    days = _working_days()
    rows = db.session.execute(
        select(PointLink.id, ServicePoint.id, Unit.id, Unit.kind, ServicePoint.questionnaire_key)
        .join(ServicePoint, PointLink.service_point_id == ServicePoint.id)
        .join(Unit, ServicePoint.unit_id == Unit.id)
        .where(PointLink.kind == "poster", PointLink.revoked_at.is_(None))
        .order_by(PointLink.id)).all()
    links = [_Link(r[0], r[1], r[2], r[3], r[4] or "desk_rating") for r in rows]
    for key in {lk.key for lk in links}:
        version = questionnaire_versions.latest_published(key)
        assert version is not None
        questionnaire_versions.definition_of(version)  # parse and cache while attached
        _VERSIONS[key] = version
    db.session.expunge_all()
    planned: list[tuple[dt.datetime, _Link, float]] = []
    for link in links:
        quality = 0.35 + 0.6 * random.Random(link.unit_id * 7919 + seed).random()
        for _ in range(max(1, round(RATE.get(link.unit_kind, 8) * scale
                                    * rng.uniform(0.5, 1.5)))):
            planned.append((_opening_time(rng.choice(days), rng), link, quality))
    planned.sort(key=lambda p: p[0])
    for when, link, quality in planned:
        _submit(link, random_answers(_definition(link), rng, quality), when,
                f"dev-{rng.getrandbits(48):x}", rng)
    return len(planned) + _gaming_bursts(links, rng)


_VERSIONS: dict[str, QuestionnaireVersion] = {}


def _definition(link: _Link) -> q.Definition:
    return questionnaire_versions.definition_of(_VERSIONS[link.key])


def _gaming_bursts(links: list[_Link], rng: random.Random) -> int:
    """Three kinds of gaming: one phone filling the form again and again, identical
    answers in a row at one desk, and a batch of submissions at night."""
    count = 0
    desk = next(lk for lk in links if lk.unit_kind == "commune")
    start = dt.datetime(2026, 10, 14, 2, 5, tzinfo=dt.UTC)  # 09:05 local
    best = random_answers(_definition(desk), rng, 1.0)
    for i in range(6):  # same device, identical top marks, within two minutes
        _submit(desk, best, start + dt.timedelta(seconds=20 * i), "dev-staff-phone", rng)
        count += 1
    night = dt.datetime(2026, 10, 20, 16, 30, tzinfo=dt.UTC)  # 23:30 local
    other = next(lk for lk in links if lk.unit_kind == "department")
    for i in range(3):
        _submit(other, random_answers(_definition(other), rng, 0.9),
                night + dt.timedelta(minutes=7 * i), f"dev-night-{i}", rng)
        count += 1
    return count
