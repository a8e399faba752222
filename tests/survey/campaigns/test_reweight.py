"""Re-weighting a closed campaign: new weights and a new frozen snapshot, the earlier run
kept in the history with its snapshot still readable, all or nothing when the new options
are refused, a published snapshot left public until an administrator publishes the new one,
the managers' form prefilled on the weights page, analysts reading it without actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.campaigns.models import CampaignWeighting
from survey.campaigns.services import closing
from survey.common.errors import ServiceError
from survey.models import AuditLog, Campaign, CampaignWeight, ResultRow, ResultSnapshot
from survey.results.services import publication
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import (  # noqa: F401 (fixture)
    fieldwork,
    scope_of,
)
from tests.survey.campaigns.test_close import respond
from tests.survey.test_migrations import empty_database  # noqa: F401 (fixture)

SEX = {"gioi_tinh": {"1": 40.0, "2": 50.0}}


def state(db: Any, campaign: Campaign) -> dict[str, Any]:
    """Everything a re-weighting may change."""
    db.session.expire_all()
    kept = db.session.get(Campaign, campaign.id)
    return {
        "weights": [(w.id, w.response_id, w.base, w.adjusted, w.final, w.cell)
                    for w in db.session.scalars(select(CampaignWeight).order_by(
                        CampaignWeight.id))],
        "snapshots": [(s.id, s.status, s.n_responses) for s in db.session.scalars(
            select(ResultSnapshot).order_by(ResultSnapshot.id))],
        "rows": db.session.scalar(select(func.count()).select_from(ResultRow)),
        "runs": [(r.run, r.snapshot_id) for r in db.session.scalars(
            select(CampaignWeighting).order_by(CampaignWeighting.run))],
        "report": kept.weighting_report, "snapshot_id": kept.snapshot_id,
        "status": kept.status,
        "audit": db.session.scalar(select(func.count()).select_from(AuditLog)),
    }


@pytest.fixture
def closed(db: Any, fieldwork: Campaign) -> Campaign:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    snapshot = closing.close(fieldwork, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    return fieldwork


def test_the_close_is_run_1_of_the_history(db: Any, closed: Campaign) -> None:
    runs = closing.history(closed)
    assert [(r.run, r.weighted_by, r.snapshot_id) for r in runs] == [
        (1, "soyte", closed.snapshot_id)]
    assert runs[0].options == {"margins": {}, "trim": None}
    assert runs[0].report == closed.weighting_report


def test_reweighting_gives_new_weights_and_a_new_snapshot(db: Any, closed: Campaign) -> None:
    before = state(db, closed)
    old_id = closed.snapshot_id
    old_rows = [(r.node, r.unit_id, r.estimate, r.se) for r in db.session.scalars(
        select(ResultRow).where(ResultRow.snapshot_id == old_id).order_by(ResultRow.id))]
    snapshot = closing.reweight(closed, closing.CloseOptions(SEX, trim=3.0), "phantich2")
    assert snapshot.status == "done", snapshot.error
    after = state(db, closed)
    # new weights on the same respondents, raked to the margins
    assert sorted(w[1] for w in after["weights"]) == sorted(w[1] for w in before["weights"])
    assert sum(w[4] for w in after["weights"]) == pytest.approx(90)
    assert sum(w[4] for w in before["weights"]) == pytest.approx(90)  # (frame total 3 × 30)
    assert [w[4] for w in after["weights"]] != [w[4] for w in before["weights"]]
    assert after["report"]["raked_to"] == SEX and after["report"]["trim"] == 3.0
    # a new snapshot, the newest: the campaign and its results pages pick it
    assert snapshot.id > old_id and after["snapshot_id"] == snapshot.id
    assert closing.snapshot_of(db.session.get(Campaign, closed.id)).id == snapshot.id
    assert snapshot.parameters["campaign"] == closed.id
    # the earlier snapshot is untouched and readable
    old = db.session.get(ResultSnapshot, old_id)
    assert old.status == "done"
    assert [(r.node, r.unit_id, r.estimate, r.se) for r in db.session.scalars(
        select(ResultRow).where(ResultRow.snapshot_id == old_id).order_by(ResultRow.id))] \
        == old_rows
    # the two snapshots differ: the raked weights move the estimates
    new_rows = {(r.node, r.unit_id, r.domain): r.estimate for r in db.session.scalars(
        select(ResultRow).where(ResultRow.snapshot_id == snapshot.id))}
    assert len(new_rows) == len(old_rows)
    # the history: run 1 (the close) kept, run 2 added
    runs = closing.history(db.session.get(Campaign, closed.id))
    assert [(r.run, r.weighted_by, r.snapshot_id) for r in runs] == [
        (2, "phantich2", snapshot.id), (1, "soyte", old_id)]
    assert runs[0].options == {"margins": SEX, "trim": 3.0}
    assert runs[1].report == before["report"]
    assert closing.current_options(closed) == closing.CloseOptions(SEX, 3.0)
    # audited like the close: the campaign's change and the new run
    audits = {(a.entity, a.action) for a in db.session.scalars(
        select(AuditLog).where(AuditLog.id > 0))}
    assert ("campaign_weighting", "create") in audits
    changed = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "campaign", AuditLog.action == "update")).all()
    assert any(a.after.get("snapshot_id") == snapshot.id for a in changed)


@pytest.mark.parametrize(("margins", "trim", "why"), [
    ({"gioi_tinh": {"1": 40, "2": -5}}, None, "âm"),
    ({"gioi_tinh": {"1": 40, "2": 50}, "bhyt": {"1": 80}}, None, "cùng một tổng"),
    ({"gioi_tinh": {"1": 40}}, None, "không có tổng"),
    ({}, 0.5, "lớn hơn 1"),
    # a1 ∈ {2, 4} exactly for sex 1 (see test_close.answers): 60 against 40, no solution
    ({"gioi_tinh": {"1": 40, "2": 50}, "a1": {"2": 30, "3": 20, "4": 30, "5": 10}}, None,
     "không hội tụ"),
])
def test_refused_options_change_nothing(db: Any, closed: Campaign, margins: Any,
                                        trim: float | None, why: str) -> None:
    before = state(db, closed)
    with pytest.raises(ServiceError) as refused:
        closing.reweight(closed, closing.CloseOptions(margins, trim), "soyte")
    assert why in refused.value.message
    assert state(db, closed) == before


def test_only_a_closed_campaign_is_weighted_again(db: Any,
                                                  fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    before = state(db, fieldwork)
    with pytest.raises(ServiceError, match="đã kết thúc"):
        closing.reweight(fieldwork, closing.CloseOptions(), "soyte")
    assert state(db, fieldwork) == before


def test_a_published_snapshot_stays_public_until_the_new_one_is(
        client: Any, db: Any, login: Any, closed: Campaign) -> None:
    old_id = closed.snapshot_id
    publication.set_published(scope_of(db, "admin"), old_id, True, "admin")
    new = closing.reweight(closed, closing.CloseOptions(SEX), "soyte")
    assert new.status == "done" and not new.published
    assert old_id in {s.id for s in publication.current()}
    assert new.id not in {s.id for s in publication.current()}
    login("soyte")
    html = client.get(f"{BASE}/{closed.id}/weights").get_data(as_text=True)
    notice = (f"Trang kết quả công khai vẫn hiển thị số liệu của bản kết quả {old_id} (đã công "
              f"bố) cho đến khi quản trị viên công bố bản kết quả {new.id}")
    assert notice in html
    publication.set_published(scope_of(db, "admin"), new.id, True, "admin")
    assert new.id in {s.id for s in publication.current()}
    assert old_id not in {s.id for s in publication.current()}
    html = client.get(f"{BASE}/{closed.id}/weights").get_data(as_text=True)
    assert "vẫn hiển thị số liệu của bản kết quả" not in html


def test_the_weights_page_for_managers_and_analysts(client: Any, db: Any, login: Any,
                                                    closed: Campaign) -> None:
    url = f"{BASE}/{closed.id}/weights"
    closing.reweight(closed, closing.CloseOptions(SEX, trim=3.5), "soyte")
    login("soyte")
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # the form, prefilled with the current run's options; the history of both runs
    assert 'name="margins"' in html and "gioi_tinh: 1=40, 2=50" in html
    assert 'value="3.5"' in html
    assert "Các lần tính trọng số" in html and html.count("soyte") >= 2
    before = state(db, closed)
    bad = client.post(url, data={"margins": "gioi_tinh: 1=40, 2=-50"})
    assert bad.status_code == 422 and "âm" in bad.get_data(as_text=True)
    unreadable = client.post(url, data={"margins": "gioi_tinh 1=40"})
    assert unreadable.status_code == 422 and "Dòng 1" in unreadable.get_data(as_text=True)
    assert state(db, closed) == before
    done = client.post(url, data={"margins": "", "trim": ""})
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    after = state(db, closed)
    assert [r[0] for r in after["runs"]] == [1, 2, 3]
    assert after["report"]["raked_to"] == {} and after["report"]["trim"] is None
    assert after["snapshot_id"] not in {s for _r, s in before["runs"]}
    client.post("/logout")
    # an analyst of the province reads it, without the form
    login("phantich")
    read = client.get(url)
    html = read.get_data(as_text=True)
    assert read.status_code == 200 and "Kish" in html and "Các lần tính trọng số" in html
    assert 'name="margins"' not in html and "<form method=\"post\" novalidate>" not in html
    design = client.get(f"{BASE}/{closed.id}").get_data(as_text=True)
    assert f'href="{url}"' in design
    assert f'href="{url}"' in client.get(f"{BASE}/").get_data(as_text=True)
    assert client.post(url, data={"margins": ""}).status_code == 403
    assert state(db, closed) == after


def test_the_migration_records_a_campaign_closed_before_it_as_run_1(
        tmp_path: Any, empty_database: str) -> None:  # noqa: F811
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from survey.extensions import db as ext_db
    from tests.conftest import make_app

    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="j0plan000010")
        report = {"respondents": 18, "raked_to": SEX, "trim": 3.5}
        with ext_db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO unit (id, kind, sector, name, path) "
                "VALUES (1, 'department', 'health', 'Sở Y tế', '/1/')"))
            conn.execute(text(
                "INSERT INTO result_snapshot (id, period, period_start, period_end, status, "
                "progress, parameters, designs, questionnaire_versions, code_version, "
                "input_hash, n_responses, published, created_at, created_by) VALUES (7, "
                "'2026-12-01..2026-12-31', '2026-12-01', '2026-12-31', 'done', '', '{}', "
                "'{}', '[]', '', '', 18, false, '2027-01-02 03:04:05+00', 'soyte')"))
            for cid, status, weighting in [(1, "closed", report), (2, "fieldwork", None)]:
                conn.execute(text(
                    "INSERT INTO campaign (id, name, owner_unit_id, sector, "
                    "questionnaire_key, questionnaire_version, unit_kind, coverage, "
                    "period_start, period_end, channels, strata_by, stages, size_mode, "
                    "allocation, assumed_p, deff, response_rate, status, created_at, "
                    "weighting_report, snapshot_id) VALUES (:id, 'Đợt', 1, 'health', "
                    "'health_inpatient', 1, 'hospital', 'all', '2026-12-01', '2026-12-31', "
                    "'token', 'unit', 'unit_person', 'margin', 'proportional', 0.5, 1, 0.8, "
                    ":status, '2026-11-01 00:00:00+00', :report, :snap)"),
                    {"id": cid, "status": status, "snap": 7 if weighting else None,
                     "report": None if weighting is None else json.dumps(weighting)})
        upgrade(revision="k1rewt000011")
        with ext_db.engine.connect() as conn:
            runs = conn.execute(text(
                "SELECT campaign_id, run, options, report, snapshot_id, weighted_by "
                "FROM campaign_weighting")).all()
        assert len(runs) == 1  # the closed campaign only
        cid, run, options, stored, snapshot_id, by = runs[0]
        as_json = [v if isinstance(v, dict) else json.loads(v) for v in (options, stored)]
        assert (cid, run, snapshot_id, by) == (1, 1, 7, "soyte")
        assert as_json == [{"margins": SEX, "trim": 3.5}, report]
        downgrade(revision="j0plan000010")
        assert "campaign_weighting" not in inspect(ext_db.engine).get_table_names()
        ext_db.engine.dispose()
