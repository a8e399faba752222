"""The results engine: microdata with designs per channel, estimation into frozen
snapshots, the CLI and the microdata bundle (whose analysis.R R's survey runs)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links, submission, tokens
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.demo.responses import random_answers
from survey.models import Response, Unit
from survey.org.services import units
from survey.results.models import ResultRow, ResultSnapshot, TransactionCount
from survey.results.services import microdata, snapshots
from survey.results.services.periods import parse_period, previous

OCT = dt.datetime(2026, 10, 14, 3, 0, tzinfo=dt.UTC)  # 10:00 in Hà Nội time


def _submit(defn: Any, version: Any, unit_id: int, point_id: int | None, channel: str,
            rng: random.Random, quality: float, token: Any = None,
            when: dt.datetime = OCT) -> int:
    outcome = submission.submit(submission.Submission(
        version=version, definition=defn, unit_id=unit_id, channel=channel,
        answers=random_answers(defn, rng, quality),
        client_submission_id=f"t-{rng.getrandbits(64):x}",
        service_point_id=point_id, token=token, device_id=f"d{rng.getrandbits(32)}",
        ip=f"192.0.2.{rng.randint(1, 250)}", submitted_at=when))
    return outcome.response_id


@pytest.fixture
def province(db: Any) -> dict[str, Any]:
    """A province with two communes (one desk each, open QR) and a centre whose dossiers
    get one-time tokens 1 in 2; desk_rating answers in October 2026."""
    questionnaire_versions.sync()
    version = questionnaire_versions.latest_published("desk_rating")
    defn = questionnaire_versions.definition_of(version)
    root = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                    "sector": "administrative", "code": "99"})
    rng = random.Random(7)
    out: dict[str, Any] = {"root": root, "points": {}}
    for n, quality in ((1, 0.9), (2, 0.3)):
        commune = units.create_unit(root, {"name": f"Xã {n}", "kind": "commune",
                                           "sector": "administrative", "code": f"99.X{n}"})
        point = units.create_point(commune, "Bộ phận Một cửa")
        links.create_link(point)
        out["points"][n] = point.id
        for _ in range(12 if n == 1 else 30):
            _submit(defn, version, commune.id, point.id, "desk_qr", rng, quality)
    centre = units.create_unit(root, {"name": "Trung tâm PVHCC", "kind": "service_centre",
                                      "sector": "administrative", "code": "99.TT"})
    desk = units.create_point(centre, "Quầy 1")
    tokens.configure_sampler(centre, 2)
    items = [tokens.parse_item({"dossier_hash": hashlib.sha256(f"hs{i}".encode()).hexdigest(),
                                "procedure_field": "Hộ tịch", "channel": "direct",
                                "completed_at": "2026-10-10T09:00:00+07:00",
                                "service_point_id": desk.id}) for i in range(40)]
    issued = tokens.issue_tokens(_admin(db, root), centre, items)
    answered = 0
    for item in issued:
        if item.secret and answered < 15:  # 20 selected, 15 answer
            token = links.resolve_token(item.secret)
            _submit(defn, version, centre.id, desk.id, "token", rng, 0.6, token=token)
            answered += 1
    # A flagged response never counts.
    flagged = _submit(defn, version, centre.id, desk.id, "desk_qr", rng, 0.1)
    db.session.get(Response, flagged).review_status = "flagged"
    db.session.add(TransactionCount(service_point_id=out["points"][1], month=dt.date(2026, 10, 1),
                                    count=600))
    db.session.commit()
    out.update(centre=centre, desk=desk.id, defn=defn, flagged=flagged)
    return out


def _admin(db: Any, root: Unit) -> Scope:
    from survey.models import Role, RoleAssignment, User

    user = User(username="quantri", full_name="Quản trị")
    user.set_password("mat-khau-123")
    user.roles.append(RoleAssignment(role=Role.administrator.value, unit=root))
    db.session.add(user)
    db.session.commit()
    return Scope.for_user(user)


# --- periods -----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ("2026-08-15..2026-09-14", dt.date(2026, 8, 15), dt.date(2026, 9, 14)),
])
def test_periods(text: str, start: dt.date, end: dt.date, app: Any) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    before = previous(period)
    assert before.end == start - dt.timedelta(days=1)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "tháng 10", "2026-02-30..2026-03-01",
                                  "2026-10-05..2026-10-01"])
def test_bad_periods_are_refused_with_a_message(text: str, app: Any) -> None:
    with pytest.raises(ServiceError) as err:
        parse_period(text)
    assert err.value.field == "period" and err.value.message


# --- microdata and designs -----------------------------------------------------------------
def _microdata(province: dict[str, Any], period: str = "2026-10") -> list[dict[str, Any]]:
    micro = microdata.load(microdata.Selection(parse_period(period)))
    return list(micro.rows())


def test_microdata_rows_carry_the_design_of_their_channel(province: dict[str, Any]) -> None:
    rows = _microdata(province)
    assert len(rows) == 12 + 30 + 15  # the flagged response is left out
    assert province["flagged"] not in {r["response_id"] for r in rows}
    by_point: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_point.setdefault((row["basis"], row["service_point_id"]), []).append(row)
    busy = by_point[("open", province["points"][1])]
    # 600 transactions at the first desk, 12 respondents: each counts for 50.
    assert {r["weight"] for r in busy} == {50.0} and not any(r["probability"] for r in busy)
    quiet = by_point[("open", province["points"][2])]
    assert {r["weight"] for r in quiet} == {1.0}  # no count reported: weight 1
    assert {r["fpc"] for r in busy + quiet} == {None}
    tok = by_point[("tokens", province["desk"])]
    # 1 in 2 of 40 dossiers: 20 selected, 15 answered → 2 × 20/15; fpc = 40 dossiers.
    assert {round(r["weight"], 12) for r in tok} == {round(2 * 20 / 15, 12)}
    assert {r["fpc"] for r in tok} == {40.0} and all(r["probability"] for r in tok)
    assert len({r["stratum"] for r in tok}) == 1


def test_microdata_keeps_na_and_blank_apart_and_leaves_text_out(province: dict[str, Any]) -> None:
    rows = _microdata(province)
    columns = microdata.load(microdata.Selection(parse_period("2026-10"))).columns()
    assert "answer.gop_y" not in columns  # free text never enters microdata
    assert not {"ip_hash", "device_hash", "flags"} & set(columns)
    threshold = province["defn"].index.node("dat_yeu_cau").threshold
    values = {r["answer.tong_thoi_gian"] for r in rows}
    assert {"0", "1", "2"} & values
    for row in rows:
        raw = row["answer.tong_thoi_gian"]
        indicator = row["tong_thoi_gian"]
        if raw in ("", "na"):
            assert indicator is None
        else:
            assert indicator == (1.0 if int(raw) >= threshold else 0.0)


def test_a_response_outside_the_period_or_scope_is_left_out(province: dict[str, Any]) -> None:
    assert _microdata(province, "2026-09") == []
    commune = province["points"][1]
    micro = microdata.load(microdata.Selection(parse_period("2026-Q4"),
                                               scope_unit_id=province["root"].id))
    assert len(list(micro.rows())) == 57
    scoped = db_unit_of_point(commune)
    micro = microdata.load(microdata.Selection(parse_period("2026-Q4"), scoped))
    assert {r["service_point_id"] for r in micro.rows()} == {commune}


def db_unit_of_point(point_id: int) -> int:
    from survey.extensions import db
    from survey.models import ServicePoint

    point = db.session.get(ServicePoint, point_id)
    assert point is not None
    return point.unit_id


# --- snapshots -------------------------------------------------------------------------------
def _compute(runner: Any, *args: str) -> Any:
    result = runner.invoke(args=["results", "compute", *args])
    return result


def test_compute_gives_every_unit_its_index_with_a_ci(runner: Any, db: Any,
                                                      province: dict[str, Any]) -> None:
    result = _compute(runner, "--period", "2026-10")
    assert result.exit_code == 0, result.output
    snapshot = db.session.scalar(select(ResultSnapshot))
    assert snapshot.status == "done" and snapshot.n_responses == 57
    assert snapshot.questionnaire_versions == ["desk_rating v1"]
    assert snapshot.designs["open"]["probability"] is False
    assert snapshot.designs["open"]["strata_weighted_to_transactions"] == 1
    rows = db.session.scalars(select(ResultRow).where(ResultRow.node == "dat_yeu_cau")).all()
    units_with = {(r.unit_code, r.basis) for r in rows if r.domain == "unit"}
    assert {("99", "open"), ("99.X1", "open"), ("99.X2", "open"), ("99", "tokens"),
            ("99.TT", "tokens")} <= units_with
    for row in rows:
        if row.estimate is not None and row.n >= 2:
            assert row.ci_low <= row.estimate <= row.ci_high, row.unit_name
            assert row.se is not None and row.method == "logit"
        assert ("non_probability" in row.flags) == (row.basis == "open")
    # The province's open figure is a domain estimate over both communes.
    province_open = next(r for r in rows if r.unit_code == "99" and r.basis == "open")
    assert province_open.n == 42
    mean_rows = db.session.scalars(select(ResultRow).where(ResultRow.node == "diem_binh_quan"))
    assert all(r.method == "wald" for r in mean_rows)


def test_recomputing_the_same_inputs_gives_identical_numbers(runner: Any, db: Any,
                                                             province: dict[str, Any]) -> None:
    for _ in range(2):
        assert _compute(runner, "--period", "2026-10").exit_code == 0
    first, second = db.session.scalars(select(ResultSnapshot).order_by(ResultSnapshot.id)).all()
    assert first.input_hash == second.input_hash and first.code_version == second.code_version

    def numbers(snapshot: ResultSnapshot) -> list[tuple[Any, ...]]:
        return [(r.unit_id, r.domain, r.unit_name, r.basis, r.node, r.estimate, r.se, r.ci_low,
                 r.ci_high, r.n, r.n_eff, r.deff, r.df, r.flags)
                for r in snapshots.rows_of(snapshot.id)]

    assert numbers(first) == numbers(second) and numbers(first)


def test_compute_refuses_bad_input_and_writes_nothing(runner: Any, db: Any,
                                                      province: dict[str, Any]) -> None:
    for args, message in ((["--period", "2026-13"], "2026-Q3"),
                          (["--period", "2026-10", "--scope", "KHONG-CO"], "KHONG-CO")):
        result = _compute(runner, *args)
        assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count()).select_from(ResultSnapshot)) == 0


# --- the microdata bundle ----------------------------------------------------------------------
def _bundle(runner: Any, tmp_path: Path) -> Path:
    assert _compute(runner, "--period", "2026-10").exit_code == 0
    out = tmp_path / "bundle"
    result = runner.invoke(args=["results", "microdata", "--snapshot", "latest", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_microdata_bundle(runner: Any, tmp_path: Path, province: dict[str, Any]) -> None:
    out = _bundle(runner, tmp_path)
    assert sorted(p.name for p in out.iterdir()) == [
        "analysis.R", "analysis.do", "codebook.csv", "microdata.csv", "results.csv"]
    micro = _csv(out / "microdata.csv")
    assert len(micro) == 57 and "answer.gop_y" not in micro[0]
    assert {r["basis"] for r in micro} == {"open", "tokens"}
    # the second-stage columns exist, blank: the channels are one-stage designs
    assert all(r["psu2"] == "" and r["fpc2"] == "" for r in micro)
    results = _csv(out / "results.csv")
    assert list(results[0])[:16] == [
        "unit_code", "unit_name", "sector", "channel", "questionnaire", "node", "estimate",
        "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df", "method", "flags"]
    assert any(r["unit_name"] == "Xã 1" and r["node"] == "hai_long" for r in results)
    codebook = {r["column"]: r["meaning"] for r in _csv(out / "codebook.csv")}
    assert "Quyền số" in codebook["weight"]
    assert set(codebook) == set(micro[0]) | {"(basis = tokens)", "(basis = open)"}
    assert "không xác suất" in codebook["(basis = open)"]
    assert "svyset psu [pweight = weight]" in (out / "analysis.do").read_text()


def _have_r_survey() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True)
    return probe.returncode == 0


def test_analysis_r_reproduces_results(runner: Any, tmp_path: Path,
                                       province: dict[str, Any]) -> None:
    if not _have_r_survey():
        if os.environ.get("SIPAS_REQUIRE_R") == "1":
            pytest.fail("R with the survey package is required here but missing")
        pytest.skip("NOTICE: Rscript with the survey package is not installed "
                    "(apt-get install r-base-core r-cran-survey)")
    out = _bundle(runner, tmp_path)
    run = subprocess.run(["Rscript", "analysis.R"], cwd=out, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ours = {(r["domain"], r["unit_id"] if r["domain"] == "unit" else r["unit_name"], r["channel"],
             r["questionnaire"], r["node"]): r for r in _csv(out / "results.csv") if r["estimate"]}
    theirs = list(csv.DictReader((out / "results_r.csv").read_text().splitlines()))
    compared = 0
    for row in theirs:
        key = (row["domain"], row["key"], row["channel"], row["questionnaire"], row["node"])
        mine = ours.get(key)
        if mine is None:
            continue
        assert float(row["estimate"]) == pytest.approx(float(mine["estimate"]), abs=1e-8), key
        if mine["se"] and row["se"] not in ("", "NA"):
            assert float(row["se"]) == pytest.approx(float(mine["se"]), abs=1e-8, rel=1e-8), key
        compared += 1
    assert compared >= len(ours) * 0.9 and compared > 20, (compared, len(ours))


def test_column_wise_frames_give_the_same_estimates_as_the_microdata_rows(
        db: Any, province: dict[str, Any]) -> None:
    """The snapshot path builds its frames column-wise; the reference builds them from the
    exported microdata rows one by one. Same estimates, to the last bit."""
    import pandas as pd

    from survey.results.services import estimation, frames

    micro = microdata.load(microdata.Selection(parse_period("2026-10")))
    units_by_id = {u.id: u for u in db.session.scalars(select(Unit))}
    fast = estimation.estimate_all(micro, units_by_id)
    slow = estimation.estimate_all(micro, units_by_id, data={
        k: pd.DataFrame(f.rows) for k, f in estimation.row_frames(micro).items()})
    assert fast == slow and len(fast) > 20
    built, digest = frames.frames(micro)
    assert digest == frames.frames(micro)[1] and len(digest) == 64
    assert sum(len(f.data) for f in built.values()) == 57


def test_a_stratum_without_a_frame_count_drops_the_fpc(runner: Any, db: Any,
                                                       province: dict[str, Any]) -> None:
    """A dossier completed in September and answered in October: its stratum has no
    frame count in October, so the tokens frame is estimated without fpc (not refused)."""
    centre = province["centre"]
    item = tokens.parse_item({"dossier_hash": hashlib.sha256(b"late").hexdigest(),
                              "procedure_field": "Hộ tịch", "channel": "direct",
                              "completed_at": "2026-09-29T09:00:00+07:00",
                              "service_point_id": province["desk"]})
    tokens.configure_sampler(centre, 1)  # another 1-in-k interval: another stratum
    issued = tokens.issue_tokens(_admin_scope(db), centre, [item])
    version = questionnaire_versions.latest_published("desk_rating")
    _submit(province["defn"], version, centre.id, province["desk"], "token",
            random.Random(3), 0.5, token=links.resolve_token(issued[0].secret or ""))
    result = _compute(runner, "--period", "2026-10")
    assert result.exit_code == 0, result.output
    rows = db.session.scalars(select(ResultRow).where(ResultRow.basis == "tokens")).all()
    assert rows and all(r.se is not None for r in rows if r.n > 1)


def _admin_scope(db: Any) -> Scope:
    from survey.models import User

    return Scope.for_user(db.session.scalar(select(User).where(User.username == "quantri")))
