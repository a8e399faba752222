"""Downloads of the sector page's and the rankings page's tables: CSV (UTF-8 with BOM) per
table and one XLSX workbook per page, with the page's figures (per cent, suppressed blank
with the reason), texts never run as formulas, Vietnamese headers whatever the interface
language (as every export), and the page's scope (outside it: 404; without the export
right: 403)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from survey.common.access import Scope
from survey.models import User
from survey.results.models import ResultRow
from survey.results.services import rankings, sectors
from survey.results.services.tables import STATUS_VI, scale
from tests.survey.results.test_exports import _csv as csv_rows
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_rankings import wards  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)
from tests.survey.results.test_sector import two_sectors  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTOR = "/staff/results/sectors"
RANKINGS = "/staff/results/rankings"


def _scope(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def _csv(response: Any) -> list[dict[str, str]]:
    """The download's rows by header (the checks of every CSV download: test_exports)."""
    header, *rows = csv_rows(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _sheets(response: Any) -> dict[str, list[dict[str, Any]]]:
    """Each table sheet as rows keyed by header (row 1: title, row 2: headers), and the
    metadata sheet as {key: value} under ``Thông tin``."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    wb = load_workbook(io.BytesIO(response.data))
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        if ws.title == "Thông tin":
            out[ws.title] = {k: v for k, v in values[1:]}
        else:
            out[ws.title] = [dict(zip(values[1], r, strict=True)) for r in values[2:]]
    return out


def _figure(row: ResultRow, value: float | None, hidden: bool) -> str:
    """As the page shows it: per cent for shares, points for mean scores."""
    return "" if value is None or hidden else format(value * scale(row)[0], ".10g")


# --- the sector page --------------------------------------------------------------------
def test_sector_csv_holds_the_pages_figures(client: Any, login: Any, db: Any,
                                            two_months: dict[str, Any]) -> None:  # noqa: F811
    page = sectors.sector_page(_scope(db, "tinh"), "administrative")
    login("tinh")
    base = f"{SECTOR}/administrative"
    nodes = _csv(client.get(f"{base}/indices.csv?snapshot={page.snapshot.id}"))
    expected = [item for p in page.panels for item in p.nodes]
    assert len(nodes) == len(expected) > 0
    for got, item in zip(nodes, expected, strict=True):
        r = item.line.row
        assert got["Chỉ số"] == item.title and got["Mã chỉ số"] == r.node
        assert got["Cấp trong cây chỉ số"] == str(item.depth)
        assert got["Ước lượng"] == _figure(r, r.estimate, item.line.suppressed)
        assert got["CI 95% cận dưới"] == _figure(r, r.ci_low, item.line.suppressed)
        assert got["CI 95% cận trên"] == _figure(r, r.ci_high, item.line.suppressed)
        assert got["n"] == str(r.n) and got["Lĩnh vực"] == "Hành chính"
    trend = _csv(client.get(f"{base}/trend.csv"))
    points = [t for p in page.panels for t in p.trend]
    assert [t["Kỳ"] for t in trend] == [t.period for t in points]
    assert "2026-09" in {t["Kỳ"] for t in trend}
    for got, point in zip(trend, points, strict=True):
        change = point.line.change
        assert got["Thay đổi"] == ("" if change is None else
                                   _figure(point.line.row, change.difference, False))
    agencies = _csv(client.get(f"{base}/agencies.csv"))
    lines = [line for p in page.panels for line in p.agencies]
    assert [a["Đơn vị"] for a in agencies] == [line.row.unit_name for line in lines]
    assert [a["So với mục tiêu"] for a in agencies] == [STATUS_VI[ln.status] for ln in lines]
    for got, line in zip(agencies, lines, strict=True):
        assert got["Ước lượng"] == _figure(line.row, line.row.estimate, line.suppressed)
        assert got["Mục tiêu (%)"] == format(line.target * 100, ".10g")
        if line.suppressed:  # blank, and the reason in words
            assert got["Ghi chú (lý do)"]
    assert any(line.suppressed for line in lines)  # Xã 2 is not published in October
    questions = _csv(client.get(f"{base}/questions.csv"))
    assert len(questions) == sum(len(item.items) for item in expected) > 0


def test_sector_xlsx_has_numbers_blanks_with_reasons_and_metadata(
        client: Any, login: Any, db: Any, two_months: dict[str, Any]) -> None:  # noqa: F811
    page = sectors.sector_page(_scope(db, "tinh"), "administrative")
    login("tinh")
    book = _sheets(client.get(f"{SECTOR}/administrative/tables.xlsx"))
    assert list(book) == ["Chỉ số", "Xu hướng", "Cơ quan", "Câu hỏi", "Thông tin"]
    lines = [line for p in page.panels for line in p.agencies]
    assert len(book["Cơ quan"]) == len(lines)
    for got, line in zip(book["Cơ quan"], lines, strict=True):
        assert got["Đơn vị"] == line.row.unit_name
        if line.suppressed:
            assert got["Ước lượng"] is None and got["CI 95% cận dưới"] is None
            assert got["Ghi chú (lý do)"]
        else:
            assert isinstance(got["Ước lượng"], float)
            assert got["Ước lượng"] == pytest.approx(line.row.estimate * 100)
            assert got["CI 95% cận trên"] == pytest.approx(line.row.ci_high * 100)
    meta = book["Thông tin"]
    assert meta["Ảnh chụp kết quả (snapshot)"] == page.snapshot.id
    assert meta["Lĩnh vực"] == "Hành chính"
    assert meta["Phiên bản mã tính toán"] == page.snapshot.code_version
    assert "Khoảng tin cậy của tỷ lệ" in meta and "Thiết kế kênh QR công khai (mẫu không xác " \
        "suất)" in meta


@pytest.mark.parametrize(("username", "sector", "status"), [
    ("tinh", "health", 200), ("phantich", "health", 200), ("soyte", "health", 200),
    ("sogd", "health", 404), ("soyte", "administrative", 404),
    ("phuong", "administrative", 404), ("tinh", "khong-co", 404)])
def test_sector_downloads_have_the_pages_scope(client: Any, login: Any,
                                               two_sectors: dict[str, Any],  # noqa: F811
                                               username: str, sector: str,
                                               status: int) -> None:
    login(username)
    for table in ("indices", "trend", "agencies", "questions"):
        response = client.get(f"{SECTOR}/{sector}/{table}.csv")
        assert response.status_code == status
        if status == 200:
            names = {r["Đơn vị"] for r in _csv(response)}
            assert "Phường Một" not in names  # another sector's agency
    response = client.get(f"{SECTOR}/{sector}/tables.xlsx")
    assert response.status_code == status
    if status == 200:
        agencies = _sheets(response)["Cơ quan"]
        assert [a["Đơn vị"] for a in agencies] == ["Bệnh viện Tốt", "Bệnh viện Kém"]
        assert [a["So với mục tiêu"] for a in agencies] == [STATUS_VI["above"],
                                                           STATUS_VI["below"]]


def test_sector_downloads_need_the_export_right(client: Any, login: Any, make_user: Any,
                                                two_sectors: dict[str, Any]) -> None:  # noqa: F811
    make_user("nhaplieu", "clerk", two_sectors["root"])
    login("nhaplieu")
    assert client.get(f"{SECTOR}/health/agencies.csv").status_code == 403
    assert client.get(f"{SECTOR}/health/tables.xlsx").status_code == 403


def test_a_unit_named_like_a_formula_stays_text(client: Any, login: Any, db: Any,
                                               two_sectors: dict[str, Any]) -> None:  # noqa: F811
    name = '=HYPERLINK("http://x","y")'
    db.session.execute(update(ResultRow).where(ResultRow.unit_id == two_sectors["poor"].id)
                       .values(unit_name=name))
    db.session.commit()
    login("soyte")
    agencies = _csv(client.get(f"{SECTOR}/health/agencies.csv"))
    assert [a["Đơn vị"] for a in agencies] == ["Bệnh viện Tốt", "'" + name]
    wb = load_workbook(io.BytesIO(client.get(f"{SECTOR}/health/tables.xlsx").data))
    cells = [c for row in wb["Cơ quan"].iter_rows() for c in row if c.value == name]
    assert cells and all(c.data_type == "s" for c in cells)


def test_english_interface_still_gets_vietnamese_headers(
        client: Any, login: Any, two_sectors: dict[str, Any]) -> None:  # noqa: F811
    """Exports are official documents: Vietnamese whatever the interface language, as the
    unit page's and the overview's are."""
    login("soyte")
    vi = _csv(client.get(f"{SECTOR}/health/agencies.csv"))
    vi_book = _sheets(client.get(f"{SECTOR}/health/tables.xlsx"))
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert "Results" in client.get(f"{SECTOR}/health").get_data(as_text=True)  # English UI
    en = _csv(client.get(f"{SECTOR}/health/agencies.csv"))
    assert "Ước lượng" in en[0] and "Estimate" not in en[0] and "Against the target" not in en[0]
    assert en == vi
    book = _sheets(client.get(f"{SECTOR}/health/tables.xlsx"))
    assert list(book)[:3] == ["Chỉ số", "Xu hướng", "Cơ quan"] and book == vi_book
    assert book["Cơ quan"][0]["Đơn vị"] == "Bệnh viện Tốt"


def test_the_sector_page_links_to_its_downloads(client: Any, login: Any,
                                                two_sectors: dict[str, Any]) -> None:  # noqa: F811
    login("soyte")
    html = client.get(f"{SECTOR}/health").get_data(as_text=True)
    links = re.findall(r'href="([^"]*/sectors/health/[^"]*\.(?:csv|xlsx)[^"]*)"', html)
    assert len(links) == 5
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200


# --- the rankings page ------------------------------------------------------------------
def test_ranking_csv_and_xlsx_hold_the_pages_ranks(client: Any, login: Any, db: Any,
                                                  wards: dict[str, Any]) -> None:  # noqa: F811
    page = rankings.ranking(_scope(db, "hang"), basis="open")
    login("hang")
    ranked = _csv(client.get(f"{RANKINGS}/ranked.csv?basis=open"))
    assert [r["Đơn vị"] for r in ranked] == [item.line.row.unit_name for item in page.ranked]
    for got, item in zip(ranked, page.ranked, strict=True):
        assert (got["Hạng"], got["Khoảng hạng: từ"], got["Khoảng hạng: đến"],
                got["Nhóm"]) == tuple(str(v) for v in (item.rank, item.rank_low,
                                                        item.rank_high, item.group))
        assert got["Ước lượng"] == _figure(item.line.row, item.line.row.estimate, False)
        assert got["Kênh"] == "QR công khai (mẫu không xác suất)"
    assert {r["Nhóm"] for r in ranked} == {"1", "2"}  # A and B tied, C below them
    hidden = _csv(client.get(f"{RANKINGS}/suppressed.csv?basis=open"))
    assert [(h["Đơn vị"], h["Lý do"]) for h in hidden] == [
        ("Phường D", "ít phiếu; khoảng tin cậy rộng")]
    assert "Ước lượng" not in hidden[0]  # a suppressed figure is never written
    book = _sheets(client.get(f"{RANKINGS}.xlsx?basis=open"))
    assert list(book) == ["Xếp hạng", "Không công bố", "Thông tin"]
    for got, item in zip(book["Xếp hạng"], page.ranked, strict=True):
        assert got["Hạng"] == item.rank and got["Nhóm"] == item.group
        assert got["Ước lượng"] == pytest.approx(item.line.row.estimate * 100)
        assert got["CI 95% cận dưới"] == pytest.approx(item.line.row.ci_low * 100)
    assert book["Không công bố"][0]["Lý do"] == "ít phiếu; khoảng tin cậy rộng"
    meta = book["Thông tin"]
    assert "2000 lần mô phỏng" in meta["Khoảng hạng"]
    assert meta["Không xếp hạng vì chứa đơn vị được xếp hạng"] == "Tỉnh Hạng"
    assert meta["Ảnh chụp kết quả (snapshot)"] == wards["snapshot"].id


def test_ranking_downloads_follow_the_filters(client: Any, login: Any, db: Any,
                                              wards: dict[str, Any]) -> None:  # noqa: F811
    login("hang")
    tokens = _csv(client.get(f"{RANKINGS}/ranked.csv?basis=tokens"))
    assert [r["Đơn vị"] for r in tokens] == ["Phường C"]  # the channels are never mixed
    html = client.get(f"{RANKINGS}?basis=open").get_data(as_text=True)
    links = re.findall(r'href="([^"]*/rankings(?:/\w+\.csv|\.xlsx)[^"]*)"', html)
    assert len(links) == 3 and all("basis=open" in link for link in links)
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200
    bad = client.get(f"{RANKINGS}/ranked.csv?basis=phone")
    assert bad.status_code == 400 and "phone" in bad.get_data(as_text=True)


def test_ranking_downloads_have_the_pages_scope(client: Any, login: Any, db: Any,
                                                wards: dict[str, Any]) -> None:  # noqa: F811
    login("phuongb")  # a ward's manager ranks their own ward only
    ranked = _csv(client.get(f"{RANKINGS}/ranked.csv?basis=open"))
    assert [r["Đơn vị"] for r in ranked] == ["Phường B"]
    assert _csv(client.get(f"{RANKINGS}/suppressed.csv?basis=open")) == []
    assert client.get(f"{RANKINGS}.xlsx?within={wards['root'].id}").status_code == 404
    assert client.get(f"{RANKINGS}/ranked.csv?within={wards['root'].id}").status_code == 404


def test_ranking_formula_names_and_vietnamese_headers(client: Any, login: Any, db: Any,
                                                      wards: dict[str, Any]) -> None:  # noqa: F811
    name = "=1+2"
    db.session.execute(update(ResultRow).where(
        ResultRow.unit_id == wards["units"]["Phường D"].id).values(unit_name=name))
    db.session.commit()
    login("hang")
    hidden = _csv(client.get(f"{RANKINGS}/suppressed.csv?basis=open"))
    assert hidden[0]["Đơn vị"] == "'=1+2"
    with client.session_transaction() as session:
        session["lang"] = "en"
    ranked = _csv(client.get(f"{RANKINGS}/ranked.csv?basis=open"))
    assert {"Hạng", "Khoảng hạng: từ", "Khoảng hạng: đến", "Nhóm", "Đơn vị",
            "Ước lượng"} <= set(ranked[0])
    assert not {"Rank", "Unit", "Estimate"} & set(ranked[0])
    book = _sheets(client.get(f"{RANKINGS}.xlsx?basis=open"))
    assert list(book)[:2] == ["Xếp hạng", "Không công bố"]
    assert book["Không công bố"][0]["Đơn vị"] == name  # a text cell, not a formula
