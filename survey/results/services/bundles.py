"""A snapshot's microdata bundle as a file, for snapshots too big for one web request.

Written column-wise, microdata.csv takes about 4 s a 100,000 responses (``bench/
bench_bundle.py``): a province of a million responses needs about 40 s plus deflating,
more than a sync worker's request may last (gunicorn's 30 s timeout). The download of a
snapshot above ``BUNDLE_INLINE_MAX`` responses (default 100,000) therefore does not build
the bundle in the request: the first request starts :func:`build` in a worker thread and
says so; once written, the same link serves the finished ZIP file from
``<instance>/bundles/`` (written under a temporary name and renamed, so a half-written
file is never served). A marker file says a build is under way, so that a second request
— from any worker process — does not start another; a marker older than
:data:`STALE_AFTER` (its process died) is taken over. With ``RESULTS_INLINE`` (the tests)
the build runs in the request.

The file holds the microdata as they were when it was built, as an export downloaded then
would; ``flask results microdata -o DIR`` always writes a fresh bundle, and
``flask results microdata --for-download`` writes (again) the file the link serves, e.g.
right after computing a province's snapshot.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from flask import Flask, current_app

from survey.results.services import export, snapshots

INLINE_MAX = 100_000
STALE_AFTER = 3600.0  # seconds: a build marker older than this is a dead process's
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sipas-bundle")
log = logging.getLogger(__name__)


def inline_max() -> int:
    """Snapshots of at most this many responses get their bundle in the request."""
    return int(current_app.config.get("BUNDLE_INLINE_MAX", INLINE_MAX))


def folder() -> Path:
    """``BUNDLE_FOLDER``, by default ``<instance>/bundles``."""
    configured = current_app.config.get("BUNDLE_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "bundles"


def file_name(snapshot_id: int) -> str:
    """The file of a snapshot, named also by its creation time, so that a later snapshot
    given the same id (SQLite may reuse the id of a deleted last row) never gets it."""
    snapshot = snapshots.get(snapshot_id)
    stamp = snapshot.created_at.strftime("%Y%m%dT%H%M%S%f") if snapshot.created_at else "x"
    return f"sipas-{snapshot_id}-{stamp}-microdata.zip"


def ready(snapshot_id: int) -> Path | None:
    """The finished bundle file of the snapshot, if one was built."""
    path = folder() / file_name(snapshot_id)
    return path if path.is_file() else None


def zip_bundle(snapshot_id: int, target: Path | None = None) -> Path:
    """Write the snapshot's five files and deflate them into ``target`` (a new temporary
    file when None); returns the ZIP's path."""
    snapshot = snapshots.get(str(snapshot_id))
    if target is None:
        handle, name = tempfile.mkstemp(suffix=".zip")
        os.close(handle)
        target = Path(name)
    with tempfile.TemporaryDirectory() as tmp:
        export.write_bundle(snapshot, snapshots.rows_of(snapshot.id), Path(tmp))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, path.name)
    return target


def build(snapshot_id: int) -> Path:
    """Write the bundle file (under a temporary name, then renamed) and drop the marker."""
    final = folder() / file_name(snapshot_id)
    part = final.with_suffix(f".part{os.getpid()}")
    try:
        zip_bundle(snapshot_id, part)
        os.replace(part, final)
        return final
    finally:
        part.unlink(missing_ok=True)
        _marker(snapshot_id).unlink(missing_ok=True)


def _marker(snapshot_id: int) -> Path:
    return folder() / f"{file_name(snapshot_id)}.building"


def building(snapshot_id: int) -> bool:
    marker = _marker(snapshot_id)
    try:
        return time.time() - marker.stat().st_mtime < STALE_AFTER
    except FileNotFoundError:
        return False


def claim(snapshot_id: int) -> bool:
    """Take the build of the bundle (False: another request has it under way)."""
    folder().mkdir(parents=True, exist_ok=True)
    marker = _marker(snapshot_id)
    if marker.exists() and not building(snapshot_id):
        marker.unlink(missing_ok=True)  # a dead process's
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _run(app: Flask, snapshot_id: int) -> None:
    with app.app_context():
        try:
            build(snapshot_id)
        except Exception:  # the next request starts again; the log says why
            log.exception("bundle of snapshot %s failed", snapshot_id)


def start(app: Flask, snapshot_id: int) -> Future[None] | None:
    """Build the bundle file in the worker thread unless it is ready or under way (in the
    request under ``RESULTS_INLINE``)."""
    if ready(snapshot_id) is not None or not claim(snapshot_id):
        return None
    if app.config.get("RESULTS_INLINE"):
        build(snapshot_id)
        return None
    return _EXECUTOR.submit(_run, app, snapshot_id)
