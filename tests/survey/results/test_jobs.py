"""The database is the queue of snapshot computations: a snapshot left queued or
interrupted by a restart is taken up again, and never computed by two workers at once."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.authoring.services import versions as questionnaire_versions
from survey.common.clock import utcnow
from survey.models import ServicePoint
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import jobs, snapshots
from tests.survey.results.test_results import _submit, province  # noqa: F401  (fixture)

SEPT = dt.datetime(2026, 9, 15, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def answered(db: Any, province: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    version = questionnaire_versions.latest_published("desk_rating")
    rng = random.Random(5)
    point = province["points"][1]
    unit_id = db.session.get(ServicePoint, point).unit_id
    for _ in range(12):
        _submit(province["defn"], version, unit_id, point, "desk_qr", rng, 0.8, when=SEPT)
    return province


def rows(db: Any, snapshot_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ResultRow)
                             .where(ResultRow.snapshot_id == snapshot_id))


def interrupted(db: Any, beat_ago: dt.timedelta | None) -> ResultSnapshot:
    snapshot = snapshots.create("2026-09", None, "tinh")
    snapshot.status = "running"
    snapshot.heartbeat_at = None if beat_ago is None else utcnow() - beat_ago
    db.session.commit()
    return snapshot


def test_an_interrupted_snapshot_is_resumed_by_the_cli(runner: Any, db: Any,
                                                        answered: dict[str, Any]) -> None:
    dead = interrupted(db, dt.timedelta(minutes=10))
    queued = snapshots.create("2026-09", None, "tinh")
    alive = interrupted(db, dt.timedelta(seconds=5))
    finished = snapshots.run(snapshots.create("2026-09", None, "tinh").id)
    assert finished.status == "done"
    assert snapshots.pending() == [dead.id, queued.id]

    out = runner.invoke(args=["results", "resume"])
    assert out.exit_code == 0, out.output
    assert f"Snapshot {dead.id} (2026-09): done" in out.output
    for snapshot in (dead, queued):
        db.session.refresh(snapshot)
        assert snapshot.status == "done" and rows(db, snapshot.id) == rows(db, finished.id) > 0
    db.session.refresh(alive)
    assert alive.status == "running" and rows(db, alive.id) == 0  # its process still beats
    assert snapshots.pending() == []
    assert "No snapshot is waiting." in runner.invoke(args=["results", "resume"]).output


def test_a_snapshot_is_claimed_once(db: Any, answered: dict[str, Any]) -> None:
    snapshot = snapshots.create("2026-09", None, "tinh")
    assert snapshots.claim(snapshot.id) is True
    assert snapshots.claim(snapshot.id) is False  # a second worker does not take it
    again = snapshots.run(snapshot.id)  # and run() leaves it to the one computing it
    assert again.status == "running" and rows(db, snapshot.id) == 0
    never_beat = interrupted(db, None)
    assert snapshots.claim(never_beat.id) is True


class _InlineExecutor:
    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn: Any, *args: Any) -> Future[None]:
        self.calls += 1
        fn(*args)
        done: Future[None] = Future()
        done.set_result(None)
        return done


def test_the_first_request_of_a_process_hands_waiting_snapshots_to_the_worker(
        app: Any, client: Any, db: Any, answered: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dead = interrupted(db, dt.timedelta(minutes=10))
    executor = _InlineExecutor()
    monkeypatch.setattr(jobs, "_EXECUTOR", executor)
    monkeypatch.setattr(jobs, "_RESUMED", set())
    monkeypatch.setitem(app.config, "RESULTS_INLINE", False)
    client.get("/login")
    client.get("/login")
    assert executor.calls == 1  # once per process, not per request
    db.session.refresh(dead)
    assert dead.status == "done" and rows(db, dead.id) > 0
