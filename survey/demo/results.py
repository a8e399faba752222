"""The demo province's results: one-time tokens at the public service centre (a
probability sample of its completed dossiers), monthly transaction counts for every desk
(what open QR responses are weighted to), and a frozen snapshot for each of the last
three months, so that the results pages have something true to show."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator

from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import Response
from survey.collection.services import apikeys, links, submission, tokens
from survey.common.access import Scope
from survey.demo.responses import PERIOD, TZ, random_answers
from survey.extensions import db
from survey.org.models import ServicePoint, Unit
from survey.results.models import ResultSnapshot, TransactionCount
from survey.results.services import snapshots

CENTRE = "80.TTPVHCC"
SNAPSHOT_MONTHS = ("2026-09", "2026-10", "2026-11")
TOKENS_PER_DAY = 6
TOKEN_K = 3
ANSWER_RATE = 0.7


def _days() -> list[dt.date]:
    day, out = PERIOD[0], []
    while day <= PERIOD[1]:
        if day.isoweekday() <= 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def seed_tokens(rng: random.Random) -> int:
    """Dossiers of the centre through the token API's service (1 in 3 selected, about
    70 % of the selected answer); returns the responses stored."""
    centre = db.session.scalar(select(Unit).where(Unit.code == CENTRE))
    assert centre is not None
    key, _secret = apikeys.create_key(centre, "Hệ thống một cửa điện tử (demo)")
    tokens.configure_sampler(centre, TOKEN_K)
    desk = db.session.scalar(select(ServicePoint).where(ServicePoint.unit_id == centre.id)
                             .order_by(ServicePoint.id))
    assert desk is not None
    version = questionnaire_versions.latest_published("desk_rating")
    assert version is not None
    defn = questionnaire_versions.definition_of(version)
    scope = Scope.for_api_key(key)
    answered = 0
    for n, day in enumerate(_days()):
        items = []
        for i in range(TOKENS_PER_DAY):
            moment = dt.datetime.combine(day, dt.time(8 + i, 15), TZ)
            items.append(tokens.parse_item({
                "dossier_hash": hashlib.sha256(f"demo-{n}-{i}".encode()).hexdigest(),
                "procedure_field": rng.choice(["Hộ tịch", "Đất đai", "Đầu tư", "Xây dựng"]),
                "channel": rng.choice(["direct", "online"]),
                "completed_at": moment.isoformat(), "service_point_id": desk.id}))
        centre = db.session.get(Unit, centre.id)
        assert centre is not None
        for issued in tokens.issue_tokens(scope, centre, items):
            if issued.secret is None or rng.random() > ANSWER_RATE:
                continue
            token = links.resolve_token(issued.secret)
            assert token is not None and token.completed_at is not None
            completed = token.completed_at
            if completed.tzinfo is None:  # SQLite hands back naive UTC
                completed = completed.replace(tzinfo=dt.UTC)
            when = completed + dt.timedelta(hours=rng.uniform(1, 30))
            submission.submit(submission.Submission(
                version=version, definition=defn, unit_id=token.unit_id, channel="token",
                answers=random_answers(defn, rng, 0.7),
                client_submission_id=f"demo-token-{rng.getrandbits(64):016x}",
                service_point_id=token.service_point_id, token=token,
                device_id=f"dev-{rng.getrandbits(48):x}", ip=None, submitted_at=when))
            answered += 1
    return answered


def seed_counts(rng: random.Random) -> int:
    """Each open point's monthly transactions: its respondents times a response rate
    between 1 in 8 and 1 in 40 (busy desks answer less often)."""
    months = sorted({dt.date(d.year, d.month, 1) for d in _days()})
    added = 0
    for point_id, in db.session.execute(select(ServicePoint.id).order_by(ServicePoint.id)):
        per_month: dict[str, int] = {}
        for moment, in db.session.execute(select(Response.submitted_at).where(
                Response.service_point_id == point_id, Response.channel == "desk_qr")):
            label = moment.strftime("%Y-%m")
            per_month[label] = per_month.get(label, 0) + 1
        if not per_month:
            continue
        rate = rng.uniform(8, 40)
        for month in months:
            respondents = int(per_month.get(month.strftime("%Y-%m"), 0))
            db.session.add(TransactionCount(
                service_point_id=point_id, month=month, source="demo",
                count=max(respondents, round(max(respondents, 1) * rate))))
            added += 1
    db.session.commit()
    return added


def seed_snapshots() -> Iterator[ResultSnapshot]:
    """Compute the demo months' snapshots, yielding each as it is done."""
    for month in SNAPSHOT_MONTHS:
        snapshot = snapshots.create(month, None, "demo")
        done = snapshots.run(snapshot.id)
        assert done.status == "done", done.error
        yield done


def seed_results(seed: int = 2026) -> Iterator[ResultSnapshot]:
    rng = random.Random(seed)
    seed_tokens(rng)
    seed_counts(rng)
    yield from seed_snapshots()
