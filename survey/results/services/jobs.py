"""Snapshots are computed outside the request: a staff page queues one and returns at
once; one worker thread per process computes queued snapshots in turn. (With
``RESULTS_INLINE`` — the tests — the computation runs in the request.)"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask

from survey.results.services import snapshots

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sipas-results")


def _run(app: Flask, snapshot_id: int) -> None:
    with app.app_context():
        snapshots.run(snapshot_id)


def start(app: Flask, snapshot_id: int) -> Future[None] | None:
    if app.config.get("RESULTS_INLINE"):
        snapshots.run(snapshot_id)
        return None
    return _EXECUTOR.submit(_run, app, snapshot_id)
