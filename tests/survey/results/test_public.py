"""Publishing snapshots (administrators only, confirmed, audited) and the public results
page: no sign-in, no script, no inline style, under 30 KB, published snapshots only."""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest
from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.common.access import Scope
from survey.common.errors import Forbidden, ServiceError
from survey.models import AuditLog, User
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import publication
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


def _snapshot(db: Any, period: str) -> ResultSnapshot:
    found = db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.period == period)
                              .order_by(ResultSnapshot.id.desc()))
    assert found is not None
    return found


def _scope(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def test_an_administrator_publishes_after_confirming(client: Any, login: Any, db: Any,
                                                     two_months: dict[str, Any]) -> None:  # noqa: F811
    october = _snapshot(db, "2026-10")
    login("tinh")
    page = client.get(f"/staff/results/snapshots/{october.id}/publish")
    assert page.status_code == 200 and "<form method=\"post\"" in page.get_data(as_text=True)
    assert not db.session.get(ResultSnapshot, october.id).published  # a GET changes nothing
    response = client.post(f"/staff/results/snapshots/{october.id}/publish")
    assert response.status_code == 302
    snapshot = db.session.get(ResultSnapshot, october.id)
    assert snapshot.published and snapshot.published_by == "tinh"
    assert snapshot.published_at is not None
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "result_snapshot", AuditLog.entity_id == str(october.id),
        AuditLog.action == "update")).all()
    audit = [a for a in audit if "published" in a.after]
    assert [(a.before["published"], a.after["published"]) for a in audit] == [(False, True)]
    assert audit[0].actor_label == "tinh" and audit[0].after["published_by"] == "tinh"
    assert "Đã công bố" in client.get(f"/staff/results/snapshots/{october.id}").get_data(
        as_text=True)
    assert client.post(f"/staff/results/snapshots/{october.id}/unpublish").status_code == 302
    assert not db.session.get(ResultSnapshot, october.id).published


def test_only_administrators_publish(client: Any, login: Any, db: Any,
                                     two_months: dict[str, Any]) -> None:  # noqa: F811
    october = _snapshot(db, "2026-10")
    login("xa1")  # a unit manager who sees results
    assert client.get(f"/staff/results/snapshots/{october.id}/publish").status_code == 403
    assert client.post(f"/staff/results/snapshots/{october.id}/publish").status_code == 403
    assert not db.session.get(ResultSnapshot, october.id).published
    with pytest.raises(Forbidden):
        publication.set_published(_scope(db, "xa1"), october.id, True, "xa1")
    assert not db.session.get(ResultSnapshot, october.id).published


def test_publishing_twice_or_an_unfinished_snapshot_is_refused(db: Any,
                                                               two_months: dict[str, Any],  # noqa: F811
                                                               ) -> None:
    admin = _scope(db, "tinh")
    october = _snapshot(db, "2026-10")
    publication.set_published(admin, october.id, True, "tinh")
    stamp = db.session.get(ResultSnapshot, october.id).published_at
    with pytest.raises(ServiceError, match="đã được công bố"):
        publication.set_published(admin, october.id, True, "other")
    again = db.session.get(ResultSnapshot, october.id)
    assert again.published_by == "tinh" and again.published_at == stamp  # nothing written
    queued = ResultSnapshot(period="2026-11", period_start=october.period_start,
                            period_end=october.period_end, status="queued")
    db.session.add(queued)
    db.session.commit()
    with pytest.raises(ServiceError, match="đã tính xong"):
        publication.set_published(admin, queued.id, True, "tinh")
    assert not db.session.get(ResultSnapshot, queued.id).published


def test_the_public_page_shows_published_snapshots_only(client: Any, db: Any,
                                                        two_months: dict[str, Any],  # noqa: F811
                                                        ) -> None:
    october, september = _snapshot(db, "2026-10"), _snapshot(db, "2026-09")
    empty = client.get("/ket-qua/")
    assert empty.status_code == 200 and "Chưa có kết quả nào được công bố" in empty.get_data(
        as_text=True)
    assert client.get(f"/ket-qua/{october.id}").status_code == 404
    publication.set_published(_scope(db, "tinh"), october.id, True, "tinh")
    response = client.get("/ket-qua/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026-10" in html and "Tỉnh Thử" in html
    # Xã 1 published with its interval and n; Xã 2 (too few October answers) only counted
    row = re.search(r"<tr><td>Xã 1<td>([\d.]+)<td>([\d.]+)–([\d.]+)<td>(\d+)", html)
    assert row is not None and float(row[2]) <= float(row[1]) <= float(row[3])
    assert "Xã 2" not in html and "bị ẩn" in html
    assert "mẫu không xác suất" in html and "khoảng tin cậy 95%" in html
    # September is not published: neither linked nor reachable
    assert f"/ket-qua/{september.id}" not in html
    assert client.get(f"/ket-qua/{september.id}").status_code == 404
    publication.set_published(_scope(db, "tinh"), september.id, True, "tinh")
    html = client.get("/ket-qua/").get_data(as_text=True)
    assert f"/ket-qua/{september.id}" in html  # the previous published period
    assert "2026-09" in client.get(f"/ket-qua/{september.id}").get_data(as_text=True)


def test_the_figures_on_the_page_are_the_snapshot_rows(client: Any, db: Any,
                                                       two_months: dict[str, Any],  # noqa: F811
                                                       ) -> None:
    october = _snapshot(db, "2026-10")
    publication.set_published(_scope(db, "tinh"), october.id, True, "tinh")
    view = publication.page(None, None)
    assert view is not None and view.snapshot.id == october.id
    shown = {(p.questionnaire, p.basis, a.label): a for p in view.panels for a in p.units}
    rows = db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == october.id, ResultRow.domain == "unit")).all()
    for (label, basis, name), line in shown.items():
        row = next(r for r in rows if r.questionnaire == label and r.basis == basis
                   and r.unit_name == name and r.estimate == line.estimate)
        assert (row.ci_low, row.ci_high, row.n) == (line.ci_low, line.ci_high, line.n)
        assert row.publication != "suppress"
    assert shown  # at least Xã 1


def test_only_the_newest_published_snapshot_of_a_period_shows(client: Any, db: Any, runner: Any,
                                                              two_months: dict[str, Any],  # noqa: F811
                                                              ) -> None:
    admin = _scope(db, "tinh")
    first = _snapshot(db, "2026-10")
    assert runner.invoke(args=["results", "compute", "--period", "2026-10"]).exit_code == 0
    second = _snapshot(db, "2026-10")
    assert second.id != first.id
    publication.set_published(admin, first.id, True, "tinh")
    publication.set_published(admin, second.id, True, "tinh")
    assert [s.id for s in publication.current()] == [second.id]
    assert client.get(f"/ket-qua/{first.id}").status_code == 404
    assert client.get(f"/ket-qua/{second.id}").status_code == 200


def test_sector_filter_by_plain_links(client: Any, db: Any,
                                      two_months: dict[str, Any]) -> None:  # noqa: F811
    publication.set_published(_scope(db, "tinh"), _snapshot(db, "2026-10").id, True, "tinh")
    html = client.get("/ket-qua/").get_data(as_text=True)
    assert 'href="/ket-qua/?sector=administrative"' in html
    filtered = client.get("/ket-qua/?sector=administrative").get_data(as_text=True)
    assert "Xã 1" in filtered
    health = client.get("/ket-qua/?sector=health")
    assert health.status_code == 200 and "Xã 1" not in health.get_data(as_text=True)
    assert client.get("/ket-qua/?sector=khong-co").status_code == 404


def test_no_script_no_inline_style_strict_csp_and_english(client: Any, db: Any,
                                                          two_months: dict[str, Any],  # noqa: F811
                                                          ) -> None:
    publication.set_published(_scope(db, "tinh"), _snapshot(db, "2026-10").id, True, "tinh")
    response = client.get("/ket-qua/")
    html = response.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers  # nothing to sign in to
    client.get("/lang/en?next=/ket-qua/")
    english = client.get("/ket-qua/").get_data(as_text=True)
    assert "How to read these figures" in english and "non-probability sample" in english


def _big_snapshot(db: Any, agencies: int) -> ResultSnapshot:
    """A published snapshot with ``agencies`` units in two channel bases and long names
    (a province the size of the demo's, larger): the page's worst case."""
    import datetime as dt

    questionnaire_versions.sync()
    version = questionnaire_versions.latest_published("desk_rating")
    defn = questionnaire_versions.definition_of(version)
    label = f"desk_rating v{version.version}"
    overall = defn.index.overall
    snapshot = ResultSnapshot(period="2026-10", period_start=dt.date(2026, 10, 1),
                              period_end=dt.date(2026, 10, 31), status="done",
                              published=True, n_responses=20000)
    db.session.add(snapshot)
    db.session.flush()
    rows = []
    for basis in ("tokens", "open"):
        for i in range(agencies):
            rows.append(ResultRow(
                snapshot_id=snapshot.id, domain="unit", unit_id=None,
                unit_name=f"Ủy ban nhân dân phường Trường Thạnh số {i:03d}",
                sector="administrative", basis=basis, probability=basis == "tokens",
                questionnaire=label, node=overall, rule="share_at_least",
                estimate=0.8 + i / 1000, se=0.02, ci_low=0.76 + i / 1000,
                ci_high=0.84 + i / 1000, n=100 + i, method="logit",
                publication="suppress" if i % 10 == 0 else "present"))
    db.session.add_all(rows)
    db.session.commit()
    return snapshot


def test_the_page_stays_under_30_kb(client: Any, db: Any) -> None:
    _big_snapshot(db, 130)  # the demo province has 126 agencies
    body = client.get("/ket-qua/").get_data()
    assert body.count(b"<tr><td>") == 2 * 117  # 13 of 130 suppressed per basis
    assert len(gzip.compress(body)) < 30_000
    assert len(body) < 30_000, len(body)
