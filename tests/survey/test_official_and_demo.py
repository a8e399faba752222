"""Official communes from vietnam-provinces, and the demo province."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from survey.demo import seed as demo
from survey.models import (
    Campaign,
    PointLink,
    Response,
    RoleAssignment,
    ServicePoint,
    Unit,
    User,
)


def n(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_official_is_idempotent(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["units", "import-official", "--province", "80"])
    assert result.exit_code == 0, result.output
    assert "Tỉnh Tây Ninh: 97 created, 0 updated, 0 unchanged." in result.output
    province = db.session.scalar(select(Unit).where(Unit.code == "80"))
    communes = db.session.scalars(select(Unit).where(Unit.parent_id == province.id)).all()
    assert len(communes) == 96 and all(c.kind == "commune" and len(c.code) == 5 for c in communes)
    assert all(c.path == f"{province.path}{c.id}/" for c in communes)
    assert any(c.name == "Xã Hưng Điền" for c in communes)
    again = runner.invoke(args=["units", "import-official", "--province", "80"])
    assert "0 created, 0 updated, 97 unchanged." in again.output
    assert n(db, Unit) == 97


def test_import_official_bad_code_writes_nothing(runner: Any, db: Any) -> None:
    for code in ("99", "abc", "0"):
        result = runner.invoke(args=["units", "import-official", "--province", code])
        assert result.exit_code != 0
        assert "không phải là mã của một trong 34 tỉnh" in result.output
    assert n(db, Unit) == 0


def test_demo_seed(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["demo", "seed", "--response-scale", "0.05"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and demo.DEMO_PASSWORD in result.output
    # what it is doing, step by step, with the time so far
    assert "Tỉnh Tây Ninh: 126 units" in result.output
    assert "demo responses submitted" in result.output
    assert result.output.count("computed: snapshot") == 3
    kinds = dict(db.session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
    assert kinds == {"province": 1, "commune": 96, "department": 12, "service_centre": 1,
                     "hospital": 6, "school": 10}
    assert n(db, ServicePoint) == 96 + 12 + 4 + 16 + 20
    roles = {a.role for a in db.session.scalars(select(RoleAssignment))}
    assert roles == {"administrator", "sector_manager", "unit_manager", "analyst", "clerk"}
    # Each role can sign in with the documented password.
    assert db.session.scalar(select(User).where(User.username == "admin")).check_password(
        demo.DEMO_PASSWORD)
    stored = db.session.scalars(select(Response)).all()
    assert len(stored) > 50
    assert {r.channel for r in stored} == {"desk_qr", "token", "paper"}  # paper: campaigns
    # The results pages have something true to show: counts, and a snapshot per month.
    from survey.results.models import ResultRow, ResultSnapshot, TransactionCount

    assert n(db, TransactionCount) > 100
    snaps = db.session.scalars(select(ResultSnapshot).order_by(ResultSnapshot.id)).all()
    closed = db.session.scalar(select(Campaign).where(Campaign.status == "closed"))
    assert [s.id for s in snaps][0] == closed.snapshot_id  # before the province's
    assert [(s.period, s.status) for s in snaps[1:]] == [
        ("2026-09", "done"), ("2026-10", "done"), ("2026-11", "done")]
    assert snaps[0].status == "done" and snaps[0].parameters["campaign"] == closed.id
    bases = set(db.session.scalars(select(ResultRow.basis).distinct()))
    assert bases == {"open", "tokens", f"campaign:{closed.id}"}
    assert "campaigns: " in result.output
    assert closed.weighting_report["raked_to"] and closed.weighting_report["respondents"] > 20
    assert db.session.scalar(select(func.count()).select_from(Campaign).where(
        Campaign.status == "fieldwork")) == 1
    assert sum(r.review_status == "flagged" for r in stored) >= 9  # the planted bursts
    assert {"burst_device", "off_hours"} <= {f for r in stored for f in r.flags.split(",")}
    links = db.session.scalars(select(PointLink)).all()
    assert sum(lk.kind == "poster" for lk in links) == n(db, ServicePoint)
    refused = runner.invoke(args=["demo", "seed"])
    assert refused.exit_code != 0 and "not empty" in refused.output
    skipped = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert skipped.exit_code == 0 and "skipped" in skipped.output
    assert n(db, Unit) == 126


def test_demo_is_deterministic(db: Any) -> None:
    demo.seed(responses=False)
    first = [(u.code, u.name, u.path) for u in db.session.scalars(select(Unit).order_by(Unit.id))]
    from tests.conftest import empty_tables

    empty_tables()
    demo.seed(responses=False)
    second = [(u.code, u.name) for u in db.session.scalars(select(Unit).order_by(Unit.id))]
    assert [(c, nm) for c, nm, _ in first] == second
