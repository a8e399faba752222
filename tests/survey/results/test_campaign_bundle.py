"""The microdata bundle of a closed campaign's snapshot: the campaign's responses with the
design stored at its close (psu2 and fpc2 for a two-stage campaign), analysis.R that R's
survey package runs to the platform's estimates and multistage SEs, analysis.do declaring
the two stages to Stata, and the design in words in the workbook and the PDF note; the
demo's inpatient campaign is such a two-stage campaign."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

import analysis
from survey.campaigns.services import campaigns, closing, draw
from survey.models import Campaign, CampaignWeight, ResultSnapshot, Unit
from survey.render.report import Text
from survey.results.services import reports, xlsx
from tests.survey.campaigns.conftest import province  # noqa: F401 (fixture)
from tests.survey.campaigns.entry_fixtures import fieldwork, selected_rows  # noqa: F401
from tests.survey.campaigns.test_close import enter_rows
from tests.survey.campaigns.test_stages import TAKE, drawn, two_stage_campaign
from tests.survey.results.test_results import _csv, _have_r_survey

TWO_STAGE_SVYSET = ("svyset psu [pweight = weight], strata(stratum) fpc(fpc) "
                    "|| psu2, fpc(fpc2) singleunit(centered)")


def _close_two_stage(db: Any, province: dict[str, Any], make_user: Any,  # noqa: F811
                     method: str = "srs") -> tuple[Campaign, ResultSnapshot]:
    campaign = two_stage_campaign(db, province)
    draw.draw_sample(campaign, method=method, seed=12, take=TAKE)
    campaigns.advance_status(campaign, "fieldwork")
    make_user("nhaplieu", "clerk", province["province"], sector="health")
    enter_rows(db, campaign, sorted(drawn(db), key=lambda r: r.row_number))
    snapshot = closing.close(campaign, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    return campaign, snapshot


def _bundle(runner: Any, snapshot: ResultSnapshot, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    result = runner.invoke(args=["results", "microdata", "--snapshot", str(snapshot.id),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _require_r() -> None:
    if not _have_r_survey():
        if os.environ.get("SIPAS_REQUIRE_R") == "1":
            pytest.fail("R with the survey package is required here but missing")
        pytest.skip("NOTICE: Rscript with the survey package is not installed "
                    "(apt-get install r-base-core r-cran-survey)")


def _r_matches(out: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """Run analysis.R; every estimate and SE of results.csv is reproduced to 1e-8. Returns
    R's rows by (domain, key, channel, questionnaire, node)."""
    run = subprocess.run(["Rscript", "analysis.R"], cwd=out, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ours = {(r["domain"], r["unit_id"] if r["domain"] == "unit" else r["unit_name"],
             r["channel"], r["questionnaire"], r["node"]): r
            for r in _csv(out / "results.csv") if r["estimate"]}
    theirs = {(r["domain"], r["key"], r["channel"], r["questionnaire"], r["node"]): r
              for r in csv.DictReader((out / "results_r.csv").read_text().splitlines())}
    assert ours and set(ours) <= set(theirs), set(ours) - set(theirs)
    for key, mine in ours.items():
        row = theirs[key]
        assert float(row["estimate"]) == pytest.approx(float(mine["estimate"]), abs=1e-8), key
        if mine["se"]:
            assert row["se"] not in ("", "NA"), key
            assert float(row["se"]) == pytest.approx(float(mine["se"]), abs=1e-8, rel=1e-8), key
    return theirs


def test_a_two_stage_campaign_bundle_carries_both_stages(runner: Any, db: Any, tmp_path: Path,
                                                         make_user: Any,
                                                         province: dict[str, Any]  # noqa: F811
                                                         ) -> None:
    campaign, snapshot = _close_two_stage(db, province, make_user)
    out = _bundle(runner, snapshot, tmp_path)
    micro = _csv(out / "microdata.csv")
    weights = {w.response_id: w for w in db.session.scalars(select(CampaignWeight))}
    # the campaign's responses alone, each with its stored two-stage design
    assert sorted(int(r["response_id"]) for r in micro) == sorted(weights)
    basis = f"campaign:{campaign.id}"
    for r in micro:
        w = weights[int(r["response_id"])]
        assert r["basis"] == basis and r["channel"] == "paper"
        assert (r["stratum"], r["psu"], r["psu2"]) == (w.stratum, w.psu, w.psu2)
        assert (float(r["fpc"]), float(r["fpc2"]), float(r["weight"])) == pytest.approx(
            (w.fpc, w.fpc2, w.final))
    assert len({r["psu"] for r in micro}) < len(micro)  # clusters, not persons
    codebook = {r["column"]: r["meaning"] for r in _csv(out / "codebook.csv")}
    assert set(codebook) == set(micro[0]) | {f"(basis = {basis})"}
    assert "người được chọn trong cụm" in codebook["psu2"]
    assert "Số người của cụm" in codebook["fpc2"]
    assert "Mẫu hai giai đoạn" in codebook[f"(basis = {basis})"]
    script = (out / "analysis.R").read_text()
    assert "ids = ~psu + psu2, strata = ~stratum, fpc = ~fpc + fpc2" in script
    assert 'options(survey.lonely.psu = "adjust")' in script
    stata = (out / "analysis.do").read_text()
    assert TWO_STAGE_SVYSET in stata and "replace fpc = ." not in stata
    assert "egen long `v' = group(`v'_text)" in stata  # text cluster ids as numbers


def test_r_reproduces_the_multistage_estimates_and_ses(runner: Any, db: Any, tmp_path: Path,
                                                       make_user: Any,
                                                       province: dict[str, Any]  # noqa: F811
                                                       ) -> None:
    _require_r()
    campaign, snapshot = _close_two_stage(db, province, make_user)
    out = _bundle(runner, snapshot, tmp_path)
    theirs = _r_matches(out)
    basis = f"campaign:{campaign.id}"
    certain = str(db.session.scalar(select(Unit.id).where(Unit.code == "99.BV3")))
    r_se = float(theirs[("unit", certain, basis, "health_inpatient v1", "tiep_can")]["se"])
    # Both ward-days of BV3 were taken: a one-stage reading of the same columns (clusters
    # as PSUs with their fpc, or persons as PSUs) gives another SE; R's is the multistage one.
    micro = pd.read_csv(out / "microdata.csv", encoding="utf-8-sig",
                        dtype={"psu": str, "psu2": str, "unit_path": str})
    items = [c for c in ("a1", "a2", "a3", "a4", "a5") if c in micro.columns]
    micro = micro[["stratum", "psu", "psu2", "fpc", "weight", *items]].assign(
        bv3=micro["unit_path"].str.split("/").apply(lambda p: certain in p))
    one_stage = analysis.SurveyDesign(micro, strata="stratum", weights="weight", psu="psu",
                                      fpc="fpc", lonely_psu="adjust")
    persons = analysis.SurveyDesign(micro, strata="stratum", weights="weight", psu="psu2",
                                    lonely_psu="adjust")
    by_unit = {name: d.satisfaction_index(items, threshold=1, by="bv3").summary_frame()
               .set_index("bv3").loc[True, "se"] for name, d in
               (("one_stage", one_stage), ("persons", persons))}
    assert by_unit["one_stage"] == pytest.approx(0, abs=1e-12)
    assert r_se > 0.01
    assert abs(r_se - by_unit["persons"]) > 1e-4


def test_a_pps_two_stage_campaign_is_estimated_between_clusters(
        runner: Any, db: Any, tmp_path: Path, make_user: Any,
        province: dict[str, Any]) -> None:  # noqa: F811
    """Clusters drawn by PPS have no first-stage fpc: the engine takes the clusters as
    with-replacement PSUs (ultimate cluster), and so do the scripts."""
    campaign, snapshot = _close_two_stage(db, province, make_user, method="pps")
    assert snapshot.designs[f"campaign:{campaign.id}"]["two_stage"] is False
    assert snapshot.designs[f"campaign:{campaign.id}"]["stages"] == 2
    out = _bundle(runner, snapshot, tmp_path)
    micro = _csv(out / "microdata.csv")
    assert all(r["psu2"] and r["fpc2"] and not r["fpc"] for r in micro)
    stata = (out / "analysis.do").read_text()
    assert "svyset psu [pweight = weight], strata(stratum) singleunit(centered)" in stata
    assert "||" not in stata
    if _have_r_survey():
        _r_matches(out)


def test_a_one_stage_campaign_bundle(runner: Any, db: Any, tmp_path: Path,
                                     fieldwork: Campaign) -> None:  # noqa: F811
    enter_rows(db, fieldwork, selected_rows(db, fieldwork)[:20])
    snapshot = closing.close(fieldwork, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    out = _bundle(runner, snapshot, tmp_path)
    micro = _csv(out / "microdata.csv")
    assert len(micro) == 20
    assert all(r["psu2"] == "" and r["fpc2"] == "" and r["fpc"] for r in micro)
    assert len({r["psu"] for r in micro}) == 20  # the person is the PSU
    codebook = {r["column"]: r["meaning"] for r in _csv(out / "codebook.csv")}
    assert "Mẫu một giai đoạn" in codebook[f"(basis = campaign:{fieldwork.id})"]
    stata = (out / "analysis.do").read_text()
    assert "svyset psu [pweight = weight], strata(stratum) fpc(fpc) singleunit(centered)" \
        in stata and "||" not in stata
    if _have_r_survey():
        _r_matches(out)


def test_workbook_and_pdf_note_describe_the_two_stages(db: Any, make_user: Any,
                                                       province: dict[str, Any]  # noqa: F811
                                                       ) -> None:
    campaign, snapshot = _close_two_stage(db, province, make_user)
    clusters = len(set(db.session.scalars(select(CampaignWeight.psu))))
    assert 3 < clusters < len(list(db.session.scalars(select(CampaignWeight.psu))))
    book = load_workbook(io.BytesIO(xlsx.workbook([], snapshot)))
    meta = {r[0]: r[1] for r in book[xlsx.META_SHEET].iter_rows(min_row=2, values_only=True)}
    design = meta["Thiết kế mẫu của đợt khảo sát (mẫu xác suất)"]
    for words in ("Mẫu hai giai đoạn", "psu = cụm", "fpc = số cụm của tầng", "psu2 = người",
                  "fpc2 = số người của cụm", f"số cụm: {clusters};"):
        assert words in design, words
    assert meta["Số giai đoạn chọn mẫu"] == 2
    assert meta["Cơ sở ước lượng"] == f"campaign:{campaign.id}"
    assert meta["Đợt khảo sát"] == f"Đợt khảo sát: {campaign.name} (mẫu xác suất)"
    assert not any(str(k).startswith("Thiết kế kênh") for k in meta)
    note = " ".join(b.text for b in reports.methodology(snapshot) if isinstance(b, Text))
    assert "Mẫu hai giai đoạn" in note and "psu2 = người" in note
    assert "Mã dùng một lần theo hồ sơ" not in note
    # a snapshot of the channels keeps the channels' description
    channels = ResultSnapshot(id=999, period="2026-10", designs={"tokens": {"strata": 2}},
                              parameters={}, input_hash="0" * 64, code_version="x")
    assert "Mã dùng một lần theo hồ sơ" in " ".join(
        b.text for b in reports.methodology(channels) if isinstance(b, Text))


def test_the_demo_inpatient_campaign_is_two_stage(runner: Any, db: Any, client: Any,
                                                  app: Any, tmp_path: Path) -> None:
    from survey.demo import campaigns as demo_campaigns
    from survey.demo import seed as demo

    demo.seed(responses=False)
    done = demo_campaigns.seed_campaigns()
    closed = done.closed
    assert closed.status == "closed" and closed.stages == "unit_cluster_person"
    assert closed.cluster_kind == "ward_day" and closed.weighting_report["two_stage"] is True
    design = done.snapshot.designs[f"campaign:{closed.id}"]
    assert design["two_stage"] is True and design["psus"] < design["respondents"]
    assert done.fieldwork.stages == "unit_person"  # the Sở GD&ĐT campaign stays one stage
    # its pages show the two stages to the department
    assert client.post("/login", data={"username": "soyte", "password": demo.DEMO_PASSWORD}
                       ).status_code == 302
    page = client.get(f"/staff/campaigns/{closed.id}").get_data(as_text=True)
    assert "Đơn vị → cụm → người" in page and "Khoa-ngày" in page
    assert client.get(f"/staff/campaigns/{closed.id}/sample").status_code == 200
    # the administrator downloads the snapshot's bundle from its page: both stages in it
    admin = app.test_client()
    assert admin.post("/login", data={"username": "admin", "password": demo.DEMO_PASSWORD}
                      ).status_code == 302
    download = admin.get(f"/staff/results/snapshots/{done.snapshot.id}/bundle.zip")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        header = archive.read("microdata.csv").decode("utf-8-sig").splitlines()[0]
        assert "ids = ~psu + psu2" in archive.read("analysis.R").decode()
    assert ",psu,weight,fpc,psu2,fpc2," in header
    out = _bundle(runner, done.snapshot, tmp_path)
    micro = _csv(out / "microdata.csv")
    assert micro and all(r["psu2"] and r["fpc2"] and r["fpc"] for r in micro)
    # the last hospital's two ward-days are both taken (certainty clusters)
    last = max((r for r in micro), key=lambda r: r["unit_code"])
    assert float(last["fpc"]) == 2
    assert TWO_STAGE_SVYSET in (out / "analysis.do").read_text()
    if _have_r_survey():
        _r_matches(out)


def test_a_department_exports_its_own_campaigns_bundle_and_no_other(
        db: Any, app: Any) -> None:
    """The campaign snapshot holds the campaign's responses only: Sở Y tế (a sector
    manager, export permission over health) downloads its bundle; Sở GD&ĐT cannot see it;
    a hospital's manager, whose grant covers one of the six hospitals, may not export it."""
    from survey.demo import campaigns as demo_campaigns
    from survey.demo import seed as demo

    demo.seed(responses=False)
    done = demo_campaigns.seed_campaigns()
    url = f"/staff/results/snapshots/{done.snapshot.id}/bundle.zip"

    def status(username: str) -> int:
        client = app.test_client()
        assert client.post("/login", data={"username": username,
                                           "password": demo.DEMO_PASSWORD}).status_code == 302
        return int(client.get(url).status_code)

    assert status("soyte") == 200
    assert status("sogddt") == 404
    assert status("admin") == 200
    assert status("benhvien") == 403  # sees its hospital's figures, exports none


def test_a_campaign_snapshot_is_hidden_from_other_departments(db: Any, app: Any) -> None:
    """Sở GD&ĐT does not see that a Sở Y tế campaign's snapshot exists: not in its list of
    snapshots, and its pages answer 404; Sở Y tế and the hospital's manager read it."""
    from survey.demo import campaigns as demo_campaigns
    from survey.demo import seed as demo

    demo.seed(responses=False)
    done = demo_campaigns.seed_campaigns()
    snapshot_id = done.snapshot.id

    def client_of(username: str) -> Any:
        client = app.test_client()
        assert client.post("/login", data={"username": username,
                                           "password": demo.DEMO_PASSWORD}).status_code == 302
        return client

    other = client_of("sogddt")
    assert other.get(f"/staff/results/snapshots/{snapshot_id}").status_code == 404
    overview = other.get(f"/staff/results/?snapshot={snapshot_id}", follow_redirects=True)
    assert "health_inpatient" not in overview.get_data(as_text=True)
    listing = other.get("/staff/results/snapshots").get_data(as_text=True)
    assert f"/staff/results/snapshots/{snapshot_id}\"" not in listing
    assert "health_inpatient" not in listing
    for username in ("soyte", "benhvien", "admin"):
        assert client_of(username).get(
            f"/staff/results/snapshots/{snapshot_id}").status_code == 200, username
