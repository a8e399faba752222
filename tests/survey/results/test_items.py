"""The questions of the share nodes (rule ``item``): the share satisfied on each question,
estimated with the same design, interval method and publication rules as the index nodes,
and shown on the unit and sector pages, in the exports and in analysis.R's reproduction."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.models import ServicePoint, Unit, User
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import dashboard, microdata, rankings, sectors
from survey.results.services.periods import parse_period
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import (
    _bundle,
    _csv,
    _have_r_survey,
    province,  # noqa: F401  (fixture)
)

SHARE_ITEMS = {"muc_do_hai_long": "hai_long", "tong_thoi_gian": "dat_yeu_cau",
               "thoi_gian_tung_co_quan": "dat_yeu_cau", "so_lan_lien_he": "dat_yeu_cau",
               "so_co_quan_lien_he": "dat_yeu_cau", "mot_cua": "dat_yeu_cau",
               "cong_khai_tthc": "dat_yeu_cau", "thai_do": "dat_yeu_cau",
               "tiep_thu_pakn": "dat_yeu_cau", "dvc_truc_tuyen": "dat_yeu_cau"}


def _compute(runner: Any) -> None:
    result = runner.invoke(args=["results", "compute", "--period", "2026-10"])
    assert result.exit_code == 0, result.output


def _scope(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def test_item_rows_are_the_direct_estimate_of_analysis_on_the_frame(
        runner: Any, db: Any, province: dict[str, Any]) -> None:  # noqa: F811
    """Each question's row is analysis' weighted mean of the item's 0/1 column (N/A and
    blank out of the domain) on the full design: estimate, SE, logit CI, n, publication."""
    import analysis
    from survey.results.services import frames

    _compute(runner)
    rows = db.session.scalars(select(ResultRow).where(ResultRow.rule == "item")).all()
    assert {r.node for r in rows} == set(SHARE_ITEMS)
    assert {r.domain for r in rows} == {"unit", "sector"}  # no service point rows
    assert all(r.method == "logit" for r in rows)
    assert all(("non_probability" in r.flags) == (r.basis == "open") for r in rows)
    micro = microdata.load(microdata.Selection(parse_period("2026-10")))
    built, _digest = frames.frames(micro)
    root = province["root"]
    compared = 0
    for (_key, _version, basis), frame in built.items():
        df = frame.data.copy()
        design = analysis.SurveyDesign(
            df, strata="stratum", weights="weight",
            fpc="fpc" if df["fpc"].notna().all() else None, lonely_psu="adjust")
        for item in SHARE_ITEMS:
            # Every unit is administrative: the sector is the whole province.
            direct = design.mean(item, by="sector").summary_frame(method="logit", flags=True)
            assert len(direct) == 1
            want = direct.iloc[0]
            mine = [r for r in rows if r.basis == basis and r.node == item
                    and (r.domain == "sector" or r.unit_id == root.id)]
            assert len(mine) == 2, (basis, item)
            for r in mine:
                assert r.estimate == pytest.approx(float(want["estimate"]), abs=1e-12)
                assert r.se == pytest.approx(float(want["se"]), abs=1e-12)
                assert r.ci_low == pytest.approx(float(want["ci_low"]), abs=1e-10)
                assert r.ci_high == pytest.approx(float(want["ci_high"]), abs=1e-10)
                assert r.n == int(want["n"]) and r.publication == str(want["publication"])
                compared += 1
    assert compared == 2 * 2 * len(SHARE_ITEMS)


def test_an_item_alone_under_a_share_node_equals_that_node(
        runner: Any, db: Any, province: dict[str, Any]) -> None:  # noqa: F811
    """hai_long holds one question: the question's rows are the node's, figure for figure,
    and the item rows leave the node rows as they were."""
    _compute(runner)
    rows = db.session.scalars(select(ResultRow)).all()
    node = {(r.domain, r.unit_id, r.unit_name, r.basis): r for r in rows
            if r.node == "hai_long" and r.domain != "point"}
    item = {(r.domain, r.unit_id, r.unit_name, r.basis): r for r in rows
            if r.node == "muc_do_hai_long"}
    assert set(node) == set(item) and node
    for key, r in item.items():
        twin = node[key]
        assert (r.estimate, r.se, r.ci_low, r.ci_high, r.n, r.df, r.flags) == (
            twin.estimate, twin.se, twin.ci_low, twin.ci_high, twin.n, twin.df, twin.flags)
        assert r.rule == "item" and twin.rule == "share_at_least"


def test_analysis_r_reproduces_every_item_row(runner: Any, tmp_path: Path,
                                              province: dict[str, Any]) -> None:  # noqa: F811
    if not _have_r_survey():
        pytest.skip("NOTICE: Rscript with the survey package is not installed")
    out = _bundle(runner, tmp_path)
    script = (out / "analysis.R").read_text()
    assert "svymean(~item_y" in script and '"muc_do_hai_long"' in script
    run = subprocess.run(["Rscript", "analysis.R"], cwd=out, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ours = {(r["domain"], r["unit_id"] if r["domain"] == "unit" else r["unit_name"],
             r["channel"], r["node"]): r for r in _csv(out / "results.csv")
            if r["estimate"] and r["rule"] == "item"}
    theirs = {(r["domain"], r["key"], r["channel"], r["node"]): r
              for r in csv.DictReader((out / "results_r.csv").read_text().splitlines())}
    assert ours and set(ours) <= set(theirs)
    for key, mine in ours.items():
        assert float(theirs[key]["estimate"]) == pytest.approx(float(mine["estimate"]),
                                                               abs=1e-8), key
        if mine["se"] and theirs[key]["se"] not in ("", "NA"):
            assert float(theirs[key]["se"]) == pytest.approx(float(mine["se"]), abs=1e-8), key


def test_recomputing_gives_identical_item_rows(runner: Any, db: Any,
                                               province: dict[str, Any]) -> None:  # noqa: F811
    _compute(runner)
    _compute(runner)
    first, second = db.session.scalars(select(ResultSnapshot).order_by(ResultSnapshot.id)).all()

    def items(snapshot: ResultSnapshot) -> list[tuple[Any, ...]]:
        return [(r.domain, r.unit_id, r.basis, r.node, r.estimate, r.se, r.ci_low, r.ci_high,
                 r.n, r.flags) for r in db.session.scalars(select(ResultRow).where(
                     ResultRow.snapshot_id == snapshot.id, ResultRow.rule == "item")
                     .order_by(ResultRow.id))]

    assert items(first) == items(second) and items(first)


def test_unit_page_lists_each_nodes_questions(client: Any, login: Any, db: Any,
                                              two_months: dict[str, Any]) -> None:  # noqa: F811
    root = two_months["root"]
    page = dashboard.unit_page(_scope(db, "tinh"), root.id)
    panel = next(p for p in page.panels if p.basis == "open")
    by_node = {n.line.row.node: n for n in panel.nodes}
    # The node rows stay the index tree; the questions hang under their share node.
    assert all(n.line.row.rule != "item" for n in panel.nodes)
    assert [q.line.row.node for q in by_node["dat_yeu_cau"].items] == [
        i for i, holder in SHARE_ITEMS.items() if holder == "dat_yeu_cau"]
    assert [q.line.row.node for q in by_node["hai_long"].items] == ["muc_do_hai_long"]
    assert by_node["diem_binh_quan"].items == []  # a mean-score node holds no share
    first = by_node["dat_yeu_cau"].items[0]
    defn = two_months["defn"]
    assert first.number == "1" and first.text == defn.item("tong_thoi_gian").text.vi
    assert first.line.target is None  # targets are for the indices
    login("tinh")
    html = client.get(f"/staff/results/units/{root.id}").get_data(as_text=True)
    assert "Các câu hỏi: tỷ lệ hài lòng của từng câu" in html
    assert defn.item("thai_do").text.vi in html
    r = next(q.line.row for q in by_node["dat_yeu_cau"].items if q.line.row.node == "thai_do")
    if r.publication != "suppress" and r.estimate is not None:
        assert f"{r.estimate * 100:.1f}" in html


def test_sector_page_lists_the_questions(client: Any, login: Any, db: Any,
                                         two_months: dict[str, Any]) -> None:  # noqa: F811
    page = sectors.sector_page(_scope(db, "tinh"), "administrative")
    questions = [q for p in page.panels for n in p.nodes for q in n.items]
    assert {q.line.row.node for q in questions} == set(SHARE_ITEMS)
    assert all(q.line.row.domain == "sector" for q in questions)
    login("tinh")
    html = client.get("/staff/results/sectors/administrative").get_data(as_text=True)
    assert "Các câu hỏi: tỷ lệ hài lòng của từng câu" in html
    assert two_months["defn"].item("mot_cua").text.vi in html


def test_overview_public_page_and_rankings_leave_the_questions_out(
        client: Any, login: Any, db: Any, two_months: dict[str, Any]) -> None:  # noqa: F811
    scope = _scope(db, "tinh")
    overview = dashboard.overview(scope)
    for panel in overview.panels:
        assert [line.row.node for line in panel.province] == ["hai_long"]  # not its question
        assert all(line.row.node == "hai_long" for line in panel.units)
    # Rankings offer the index nodes only; a question is refused with a message.
    page = rankings.ranking(scope, basis="open")
    offered = {n for n, _title in page.filters.nodes}
    assert offered and not offered & set(SHARE_ITEMS)
    with pytest.raises(ServiceError):
        rankings.ranking(scope, basis="open", node="thai_do")
    login("tinh")
    html = client.get("/staff/results/").get_data(as_text=True)
    assert "Các câu hỏi" not in html


def test_exports_have_a_questions_table(client: Any, login: Any, db: Any, tmp_path: Path,
                                        two_months: dict[str, Any]) -> None:  # noqa: F811
    login("tinh")
    root = two_months["root"]
    commune = db.session.get(ServicePoint, two_months["points"][1]).unit_id
    response = client.get(f"/staff/results/units/{root.id}/questions.csv")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = lines[0], lines[1:]
    stored = db.session.scalars(select(ResultRow).where(
        ResultRow.unit_id == root.id, ResultRow.rule == "item",
        ResultRow.snapshot_id == max(s.id for s in db.session.scalars(select(ResultSnapshot))
                                     if s.period == "2026-10"))).all()
    assert len(body) == len(stored) == 2 * len(SHARE_ITEMS)
    node, est = header.index("Mã chỉ số"), header.index("Ước lượng")
    by = {(r.node, r.basis): r for r in stored}
    for line in body:
        basis = "tokens" if "Mã dùng một lần" in line[header.index("Kênh")] else "open"
        r = by[(line[node], basis)]
        assert line[header.index("Chỉ số")] == two_months["defn"].item(r.node).text.vi
        if r.publication != "suppress" and r.estimate is not None:
            assert float(line[est]) == pytest.approx(r.estimate * 100, rel=1e-9)
        else:
            assert line[est] == ""
    wb = load_workbook(io.BytesIO(client.get(
        f"/staff/results/units/{commune}/results.xlsx").data))
    sheet = [r for r in wb["Câu hỏi"].iter_rows(min_row=3, values_only=True)]
    assert len(sheet) == len(SHARE_ITEMS)  # the commune's open questions
    assert {r[1] for r in sheet} == {None, *map(str, range(1, 10))}  # the form's numbers
    snapshot = max(s.id for s in db.session.scalars(select(ResultSnapshot)))
    wb = load_workbook(io.BytesIO(client.get(
        f"/staff/results/snapshots/{snapshot}/results.xlsx").data))
    nodes = {r[5] for r in wb["Câu hỏi"].iter_rows(min_row=3, values_only=True)}
    assert nodes == set(SHARE_ITEMS)
    for other in ("Toàn tỉnh", "Lĩnh vực", "Đơn vị", "Tiêu chí"):  # each row once
        assert not nodes & {r[5] for r in wb[other].iter_rows(min_row=3, values_only=True)}
    pdf = client.get(f"/staff/results/units/{root.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "report.pdf").write_bytes(pdf.data)
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"],
                                   check=True, capture_output=True, timeout=120)
                    .stdout.decode("utf-8").split())
    assert "Tỷ lệ hài lòng theo từng câu hỏi" in text
    assert db.session.get(Unit, commune) is not None
