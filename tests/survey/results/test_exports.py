"""Exports of the results tables: CSV (UTF-8 with BOM, Vietnamese headers) and XLSX (one
sheet per level, a metadata sheet, numbers as numbers, suppressed figures blank with the
reason), scope-checked as the pages are."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import ServicePoint, Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import export, tables, xlsx
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def setup(db: Any, make_user: Any, two_months: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    root = two_months["root"]
    make_user("phantich", "analyst", root)
    make_user("nhaplieu", "clerk", root)
    commune1 = db.session.get(ServicePoint, two_months["points"][1]).unit_id
    commune2 = db.session.get(ServicePoint, two_months["points"][2]).unit_id
    october = db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.period == "2026-10"))
    return {**two_months, "commune1": commune1, "commune2": commune2, "october": october}


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_bytes_has_a_bom_blanks_and_plain_numbers(app: Any) -> None:
    data = export.csv_bytes(["Đơn vị", "Ước lượng", "n"], [["Xã Tân Ninh", 87.25, 12],
                                                          ["Xã Hòa", None, 3]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Đơn vị", "Ước lượng", "n"], ["Xã Tân Ninh", "87.25", "12"],
                    ["Xã Hòa", "", "3"]]


def test_texts_never_become_formulas(app: Any) -> None:
    names = ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "Xã -"]
    data = export.csv_bytes(["Đơn vị", "Thay đổi"], [[name, -1.5] for name in names])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    assert [r[0] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "Xã -"]
    assert {r[1] for r in rows} == {"-1.5"}  # numbers are not texts
    table = tables.Table("Thử", "Thử", [tables.Column("Đơn vị"), tables.Column("n", "int")],
                         [[name, 3] for name in names])
    snapshot = ResultSnapshot(id=1, period="2026-10", period_start=dt.date(2026, 10, 1),
                        period_end=dt.date(2026, 10, 31), parameters={}, designs={},
                        questionnaire_versions=[], code_version="", input_hash="",
                        n_responses=0, created_by="")
    wb = load_workbook(io.BytesIO(xlsx.workbook([table], snapshot)))
    cells = [wb["Thử"].cell(r, 1) for r in range(3, 7)]
    assert [c.value for c in cells] == names and all(c.data_type == "s" for c in cells)


def test_unit_csv_has_every_node_with_figures_in_per_cent(client: Any, login: Any, db: Any,
                                                          setup: dict[str, Any]) -> None:
    login("phantich")
    root = setup["root"]
    rows = _csv(client.get(f"/staff/results/units/{root.id}/results.csv"))
    header, body = rows[0], rows[1:]
    assert "Ước lượng" in header and "CI 95% cận dưới" in header and "Ghi chú (lý do)" in header
    stored = db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == setup["october"].id, ResultRow.unit_id == root.id,
        ResultRow.rule != "item")).all()  # the questions have their own table
    assert len(body) == len(stored) and body
    est, node, unit = header.index("Ước lượng"), header.index("Mã chỉ số"), header.index("Đơn vị")
    by_node = {(r.node, r.basis): r for r in stored}
    for line in body:
        assert line[unit] == "Tỉnh Thử"
        basis = "tokens" if "Mã dùng một lần" in line[header.index("Kênh")] else "open"
        row = by_node[(line[node], basis)]
        if row.publication == "suppress":
            assert line[est] == "" and line[header.index("Ghi chú (lý do)")]
        elif row.rule != "mean_score":
            assert float(line[est]) == pytest.approx(row.estimate * 100, rel=1e-9)


def test_unit_trend_and_sub_unit_csv(client: Any, login: Any, setup: dict[str, Any]) -> None:
    login("tinh")
    root = setup["root"]
    trend = _csv(client.get(f"/staff/results/units/{root.id}/trend.csv"))
    periods = [line[0] for line in trend[1:]]
    assert "2026-09" in periods and "2026-10" in periods
    assert trend[0][-1] == "Thay đổi có ý nghĩa (5%)"
    subunits = _csv(client.get(f"/staff/results/units/{root.id}/subunits.csv"))
    names = {line[0] for line in subunits[1:]}
    assert {"Xã 1", "Xã 2"} <= names
    points = _csv(client.get(f"/staff/results/units/{setup['commune1']}/points.csv"))
    assert [line[0] for line in points[1:]] == ["Bộ phận Một cửa"]


def test_overview_csv_lists_agencies_against_their_target(client: Any, login: Any,
                                                          setup: dict[str, Any]) -> None:
    login("tinh")
    rows = _csv(client.get("/staff/results/overview/agencies.csv"))
    header = rows[0]
    target = header.index("Mục tiêu (%)")
    assert {line[0] for line in rows[1:]} >= {"Xã 1", "Xã 2"}
    assert all(float(line[target]) == 90.0 for line in rows[1:])  # administrative: 90 %
    # Xã 2 has too few October answers: blank figure, reason in words, not classified.
    suppressed = [line for line in rows[1:] if line[0] == "Xã 2"]
    assert suppressed and all(line[header.index("Ước lượng")] == "" for line in suppressed)
    assert all(line[header.index("So với mục tiêu")] == "không công bố" for line in suppressed)
    assert all("không công bố" in line[header.index("Ghi chú (lý do)")] for line in suppressed)
    # The headline table: the province's overall index and components, with the change.
    headline = _csv(client.get("/staff/results/overview/province.csv"))
    assert headline[0] == header and {line[0] for line in headline[1:]} == {"Tỉnh Thử"}
    assert any(line[header.index("Thay đổi")] for line in headline[1:])


def test_snapshot_xlsx_has_a_sheet_per_level_and_metadata(client: Any, login: Any, db: Any,
                                                          setup: dict[str, Any]) -> None:
    login("phantich")
    snapshot = setup["october"]
    response = client.get(f"/staff/results/snapshots/{snapshot.id}/results.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Toàn tỉnh", "Lĩnh vực", "Đơn vị", "Tiêu chí", "Câu hỏi",
                             "Thông tin"]
    counted = 0
    for name in wb.sheetnames[:5]:
        ws = wb[name]
        header = [c.value for c in ws[2]]
        est = header.index("Ước lượng")
        notes = header.index("Ghi chú (lý do)")
        for values in ws.iter_rows(min_row=3, values_only=True):
            counted += 1
            if values[header.index("Công bố")] == "không công bố":
                assert values[est] is None and values[notes]
            elif values[est] is not None:
                # a number, not text (100.0 %, a question everyone is satisfied on,
                # reads back from the file as the integer 100)
                assert isinstance(values[est], int | float)
            assert isinstance(values[header.index("n")], int)
    assert counted == db.session.query(ResultRow).filter(
        ResultRow.snapshot_id == snapshot.id, ResultRow.domain.in_(("unit", "sector"))).count()
    assert wb["Toàn tỉnh"].cell(3, 1).value == "Tỉnh Thử"
    assert {wb["Lĩnh vực"].cell(r, 1).value for r in range(3, wb["Lĩnh vực"].max_row + 1)} \
        == {"Hành chính"}
    meta = {r[0]: r[1] for r in wb["Thông tin"].iter_rows(min_row=2, values_only=True)}
    assert meta["Ảnh chụp kết quả (snapshot)"] == snapshot.id
    assert meta["Kỳ"] == "2026-10"
    assert meta["Mã băm dữ liệu đầu vào (SHA-256)"] == snapshot.input_hash
    assert meta["Phiên bản mã tính toán"] == snapshot.code_version
    assert "desk_rating v" in meta["Bộ câu hỏi (phiên bản)"]
    assert "logit" in meta["Khoảng tin cậy của tỷ lệ"]
    assert "NCHS 2017" in meta["Quy tắc công bố"]
    assert "không xác suất" in meta["Thiết kế kênh QR công khai (mẫu không xác suất)"]
    tokens = meta["Thiết kế kênh mã dùng một lần (mẫu xác suất)"]
    assert "Mẫu hệ thống phân tầng" in tokens and "fpc" in tokens


def test_unit_xlsx_and_a_unit_manager_sees_only_their_unit(client: Any, login: Any,
                                                           setup: dict[str, Any]) -> None:
    login("xa1")
    commune = setup["commune1"]
    response = client.get(f"/staff/results/units/{commune}/results.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Chỉ số", "Xu hướng", "Đơn vị trực thuộc", "Điểm phục vụ",
                             "Câu hỏi", "Thông tin"]
    points = [r[0] for r in wb["Điểm phục vụ"].iter_rows(min_row=3, values_only=True)]
    assert points == ["Bộ phận Một cửa"]
    units = {v for v in (r[1] for r in wb["Chỉ số"].iter_rows(min_row=3, values_only=True))}
    assert units == {"Xã 1"}
    meta = {r[0]: r[1] for r in wb["Thông tin"].iter_rows(min_row=2, values_only=True)}
    assert meta["Đơn vị"] == "Xã 1" and meta["Mã đơn vị"] == "99.X1"
    # Another commune, the province, the province's snapshot levels: not theirs.
    for url in (f"/staff/results/units/{setup['commune2']}/results.xlsx",
                f"/staff/results/units/{setup['commune2']}/results.csv",
                f"/staff/results/units/{setup['root'].id}/results.csv"):
        assert client.get(url).status_code == 404, url
    wb = load_workbook(io.BytesIO(client.get(
        f"/staff/results/snapshots/{setup['october'].id}/results.xlsx").data))
    names = {r[0] for s in wb.sheetnames[:4] for r in wb[s].iter_rows(min_row=3,
                                                                      values_only=True)}
    assert names <= {"Xã 1"} and "Xã 1" in names


EXPORTS = ("/staff/results/overview/agencies.csv", "/staff/results/units/{root}/results.csv",
           "/staff/results/units/{root}/trend.csv", "/staff/results/units/{root}/results.xlsx",
           "/staff/results/snapshots/{snap}/results.xlsx", "/staff/results/units/{root}/report.pdf",
           "/staff/results/sectors/administrative/report.pdf")


def test_exports_need_the_export_permission(client: Any, login: Any,
                                            setup: dict[str, Any]) -> None:
    urls = [u.format(root=setup["root"].id, snap=setup["october"].id) for u in EXPORTS]
    for url in urls:
        assert client.get(url).status_code == 302, url  # signed out: to the login page
    login("nhaplieu")  # a data-entry clerk: no results, no exports
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login("phantich")
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_unknown_unit_snapshot_or_table_is_not_found(client: Any, login: Any, db: Any,
                                                     setup: dict[str, Any]) -> None:
    login("tinh")
    missing = (db.session.scalar(select(Unit.id).order_by(Unit.id.desc())) or 0) + 1000
    assert client.get(f"/staff/results/units/{missing}/results.csv").status_code == 404
    assert client.get("/staff/results/snapshots/999999/results.xlsx").status_code == 404
    assert client.get(f"/staff/results/units/{setup['root'].id}/other.csv").status_code == 404


def test_level_of_nodes(app: Any) -> None:
    class Node:
        def __init__(self, *children: str) -> None:
            self.children = children

    nodes = {"all": Node("a", "b"), "a": Node("q1", "q2"), "b": Node("q3")}
    assert tables.level_of("all", nodes, "all") == "overall"
    assert tables.level_of("a", nodes, "all") == "item"
    nodes["c"] = Node("a", "b")
    assert tables.level_of("c", nodes, "all") == "component"


def test_pages_link_to_their_downloads(client: Any, login: Any, setup: dict[str, Any]) -> None:
    login("tinh")
    root, snapshot = setup["root"].id, setup["october"].id
    html = client.get(f"/staff/results/units/{root}").get_data(as_text=True)
    for href in (f"/staff/results/units/{root}/report.pdf?snapshot={snapshot}",
                 f"/staff/results/units/{root}/results.xlsx?snapshot={snapshot}",
                 f"/staff/results/units/{root}/trend.csv?snapshot={snapshot}",
                 f"/staff/results/units/{root}/points.csv?snapshot={snapshot}"):
        assert href in html, href
    html = client.get("/staff/results/").get_data(as_text=True)
    assert f"/staff/results/overview/agencies.csv?snapshot={snapshot}" in html  # the agencies
    assert f"/staff/results/overview/province.csv?snapshot={snapshot}" in html
    assert f"/staff/results/sectors/administrative/report.pdf?snapshot={snapshot}" in html
    assert "Báo cáo lĩnh vực (PDF): Hành chính" in html
    html = client.get(f"/staff/results/snapshots/{snapshot}").get_data(as_text=True)
    assert f"/staff/results/snapshots/{snapshot}/results.xlsx" in html
    html = client.get(f"/staff/results/sectors/administrative?snapshot={snapshot}").get_data(
        as_text=True)
    assert f"/staff/results/sectors/administrative/report.pdf?snapshot={snapshot}" in html
    client.post("/logout")
    login("xa1")  # a commune's manager: no sector report (it covers the whole province)
    html = client.get("/staff/results/").get_data(as_text=True)
    assert "overview/agencies.csv" in html and "report.pdf" not in html
