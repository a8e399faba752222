"""Snapshots are computed outside the request: a staff page queues one and returns at
once; one worker thread per process computes queued snapshots in turn. (With
``RESULTS_INLINE`` — the tests — the computation runs in the request.)

The database is the queue, so nothing is lost with a process: a snapshot is taken for
computing by one UPDATE (:func:`snapshots.claim`; two workers never compute the same one)
and beats while it is computed. When a process starts serving, its first request hands
the worker every snapshot still waiting — queued ones, and running ones whose heartbeat
stopped because their process died (:func:`resume`); ``flask results resume`` does the
same in the foreground.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask

from survey.results.services import snapshots

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sipas-results")
_RESUMED: set[int] = set()  # apps (by id) whose waiting snapshots were handed over
_LOCK = threading.Lock()


def _run(app: Flask, snapshot_id: int) -> None:
    with app.app_context():
        snapshots.run(snapshot_id)


def _run_pending(app: Flask) -> None:
    with app.app_context():
        for snapshot_id in snapshots.pending():
            snapshots.run(snapshot_id)


def start(app: Flask, snapshot_id: int) -> Future[None] | None:
    if app.config.get("RESULTS_INLINE"):
        snapshots.run(snapshot_id)
        return None
    return _EXECUTOR.submit(_run, app, snapshot_id)


def resume(app: Flask) -> Future[None] | None:
    """Once per app: compute, in the worker thread, every snapshot left waiting or
    interrupted (a no-op under ``RESULTS_INLINE``, where nothing is ever left waiting)."""
    if id(app) in _RESUMED:  # every request after the first: no lock on the hot path
        return None
    with _LOCK:
        if id(app) in _RESUMED or app.config.get("RESULTS_INLINE"):
            return None
        _RESUMED.add(id(app))
    return _EXECUTOR.submit(_run_pending, app)
