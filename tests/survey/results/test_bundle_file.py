"""A snapshot above BUNDLE_INLINE_MAX responses gets its microdata bundle written to a file
outside the request: the link starts the build and says so, the same link serves the
finished file (the same five files as the bundle built in a request), a second request
while it is written starts nothing, and the export permission and scope still apply."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from survey.results.models import ResultSnapshot
from survey.results.services import bundles
from tests.survey.results.test_results import province  # noqa: F401  (fixture)
from tests.survey.results.test_results_web import staff  # noqa: F401  (fixture)


def _files(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def snapshot(app: Any, runner: Any, db: Any, staff: dict[str, Any],  # noqa: F811
             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResultSnapshot:
    assert runner.invoke(args=["results", "compute", "--period", "2026-10"]).exit_code == 0
    # The app the requests run in, and the one whose context the test (and the CLI) is in.
    for config in (app.config, current_app.config):
        monkeypatch.setitem(config, "BUNDLE_FOLDER", str(tmp_path / "bundles"))
    found = db.session.scalar(select(ResultSnapshot))
    assert found is not None and found.n_responses > 0
    return found


def test_a_big_snapshot_bundle_is_written_outside_the_request(
        app: Any, client: Any, login: Any, snapshot: ResultSnapshot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"/staff/results/snapshots/{snapshot.id}/bundle.zip"
    login("phantich")
    inline = _files(client.get(url).data)  # small enough: built in the request
    assert sorted(inline) == ["analysis.R", "analysis.do", "codebook.csv", "microdata.csv",
                              "results.csv"]
    monkeypatch.setitem(app.config, "BUNDLE_INLINE_MAX", snapshot.n_responses - 1)
    monkeypatch.setitem(app.config, "RESULTS_INLINE", False)
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(bundles._EXECUTOR, "submit",
                        lambda *args: queued.append(args))  # the worker thread, held
    first = client.get(url)
    assert first.status_code == 302 and first.location.endswith(
        f"/staff/results/snapshots/{snapshot.id}")
    page = client.get(first.location).get_data(as_text=True)
    assert "đang được ghi" in page  # "is being written", in Vietnamese
    assert client.get(url).status_code == 302 and len(queued) == 1  # no second build
    with app.app_context():
        assert bundles.ready(snapshot.id) is None and bundles.building(snapshot.id)
        _, _, snapshot_id = queued[0]
        bundles.build(snapshot_id)  # what the worker thread runs
        assert not bundles.building(snapshot.id)
    done = client.get(url)
    assert done.status_code == 200 and done.mimetype == "application/zip"
    assert "private" in done.headers["Cache-Control"]
    assert _files(done.data) == inline
    done.close()  # the file the response streams
    client.post("/logout")
    login("xa1")  # the file exists; the scope rule still holds
    assert client.get(url).status_code == 403


def test_a_dead_build_is_taken_over_and_inline_mode_builds_in_the_request(
        app: Any, client: Any, login: Any, snapshot: ResultSnapshot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "BUNDLE_INLINE_MAX", 0)
    with app.app_context():
        marker = bundles._marker(snapshot.id)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        old = marker.stat().st_mtime - bundles.STALE_AFTER - 1
        os.utime(marker, (old, old))
        assert not bundles.building(snapshot.id)
    login("phantich")
    response = client.get(f"/staff/results/snapshots/{snapshot.id}/bundle.zip")
    assert response.status_code == 200
    assert "microdata.csv" in _files(response.data)
    response.close()
    with app.app_context():
        assert bundles.ready(snapshot.id) is not None and not marker.exists()


def test_the_cli_writes_the_file_the_link_serves(app: Any, client: Any, login: Any,
                                                 runner: Any, snapshot: ResultSnapshot,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    refused = runner.invoke(args=["results", "microdata", "--snapshot", str(snapshot.id)])
    assert refused.exit_code != 0 and "--for-download" in refused.output
    with app.app_context():
        assert bundles.claim(snapshot.id)  # another process is writing it
    busy = runner.invoke(args=["results", "microdata", "--snapshot", str(snapshot.id),
                               "--for-download"])
    assert busy.exit_code != 0 and "another process" in busy.output, busy.output
    with app.app_context():
        bundles._marker(snapshot.id).unlink()
        assert bundles.ready(snapshot.id) is None
    done = runner.invoke(args=["results", "microdata", "--snapshot", str(snapshot.id),
                               "--for-download"])
    assert done.exit_code == 0, done.output
    monkeypatch.setitem(app.config, "BUNDLE_INLINE_MAX", 0)
    monkeypatch.setitem(app.config, "RESULTS_INLINE", False)
    monkeypatch.setattr(bundles._EXECUTOR, "submit", lambda *args: pytest.fail("no build"))
    login("phantich")
    response = client.get(f"/staff/results/snapshots/{snapshot.id}/bundle.zip")
    assert response.status_code == 200
    assert sorted(_files(response.data)) == ["analysis.R", "analysis.do", "codebook.csv",
                                             "microdata.csv", "results.csv"]
    response.close()
