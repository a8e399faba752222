"""The tables of the results pages as plain values, in Vietnamese, for exports.

A :class:`Table` is a header and rows of Python values (numbers stay numbers, a blank is
``None``); the CSV writer (:func:`survey.results.services.export.table_csv`) and the
XLSX writer (:mod:`survey.results.services.xlsx`) write the same tables, so that a figure
reads the same in every format. Proportions are given in per cent (87.3), mean scores on
their own scale, with the unit in a column. A suppressed figure (NCHS 2017 rules) is left
blank, and the reason is written in words in the notes column.

Exports are always in Vietnamese (the language of the reports a Sở files), whatever the
interface language of the person downloading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions
from survey.common.access import Scope
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import dashboard, snapshots

SECTORS_VI = {"administrative": "Hành chính", "health": "Y tế", "education": "Giáo dục",
              "other": "Khác"}
PUBLICATION_VI = {"present": "công bố", "review": "cần thẩm định trước khi công bố",
                  "suppress": "không công bố"}
STATUS_VI = {"below": "thấp hơn mục tiêu (có ý nghĩa)", "above": "cao hơn mục tiêu (có ý nghĩa)",
             "level": "không phân biệt được với mục tiêu", "none": "",
             "suppressed": "không công bố"}
CI_METHOD_VI = {"logit": "logit (t, bậc tự do của thiết kế; Korn–Graubard khi 0% hoặc 100%)",
                "wald": "Wald (t, bậc tự do của thiết kế)"}

TOKENS_DESIGN_VI = (
    "Mẫu hệ thống phân tầng các hồ sơ đã giải quyết: tầng = đơn vị × kỳ × khoảng chọn 1 trên "
    "k; trọng số = k × số mã được chọn / số mã đã trả lời (điều chỉnh không trả lời); fpc = "
    "số hồ sơ ghi nhận trong tầng")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | int | number (estimates: 2 decimals) | p (p-values)


@dataclass
class Table:
    name: str  # short: a sheet name (at most 31 characters) and a file name part
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return [c.header for c in self.columns]


def channel_vi(basis: str, probability: bool) -> str:
    """The basis of a row in the exports' words; a survey campaign's by its name."""
    if basis == "tokens":
        return "Mã dùng một lần (mẫu xác suất)"
    if basis == "open":
        return "QR công khai (mẫu không xác suất)"
    campaign_id = dashboard.campaign_of(basis)
    if campaign_id is not None:
        return (f"Đợt khảo sát: {dashboard.campaign_name(campaign_id) or basis} "
                "(mẫu xác suất)")
    return f"{basis} ({'mẫu xác suất' if probability else 'mẫu không xác suất'})"


def scale(row: ResultRow) -> tuple[float, str]:
    """Factor and unit of a row's figures: per cent for shares, points for mean scores."""
    return (1.0, "điểm") if row.rule == "mean_score" else (100.0, "%")


def suppressed(row: ResultRow) -> bool:
    return row.publication == "suppress" or row.estimate is None


def notes(row: ResultRow) -> str:
    """The row's flags in words; a suppressed row always says why."""
    with force_locale("vi"):
        words = dashboard.explain_flags(row.flags)
        if suppressed(row) and row.estimate is None and not words:
            words = "không ước lượng được (không có câu trả lời hợp lệ)"
        return words


def _figure(row: ResultRow, value: float | None) -> float | None:
    if value is None or suppressed(row):
        return None
    return value * scale(row)[0]


ROW_COLUMNS = [
    Column("Đơn vị"), Column("Mã đơn vị"), Column("Lĩnh vực"), Column("Kênh"),
    Column("Bộ câu hỏi"), Column("Mã chỉ số"), Column("Chỉ số"), Column("Đơn vị đo"),
    Column("Ước lượng", "number"), Column("CI 95% cận dưới", "number"),
    Column("CI 95% cận trên", "number"), Column("Sai số chuẩn", "number"),
    Column("n", "int"), Column("n hiệu dụng", "number"), Column("Hệ số thiết kế (deff)", "number"),
    Column("Bậc tự do", "number"), Column("Phương pháp CI"), Column("Công bố"),
    Column("Ghi chú (lý do)"),
]


def row_values(row: ResultRow, title: str) -> list[Any]:
    factor, unit = scale(row)
    hidden = suppressed(row)
    return [row.unit_name if row.domain == "unit" else SECTORS_VI.get(row.unit_name,
                                                                        row.unit_name),
            row.unit_code, SECTORS_VI.get(row.sector or "", row.sector),
            channel_vi(row.basis, row.probability), row.questionnaire, row.node, title, unit,
            _figure(row, row.estimate), _figure(row, row.ci_low), _figure(row, row.ci_high),
            _figure(row, row.se), row.n,
            None if hidden else row.n_eff, None if hidden else row.deff,
            None if hidden else row.df, CI_METHOD_VI.get(row.method, row.method),
            PUBLICATION_VI.get(row.publication, row.publication), notes(row)]


def rows_table(name: str, title: str, rows: Iterable[ResultRow],
               titles: dict[str, dict[str, str]]) -> Table:
    """Result rows with every column; ``titles``: questionnaire → node id → title."""
    table = Table(name, title, list(ROW_COLUMNS))
    for r in rows:
        table.rows.append(row_values(r, titles.get(r.questionnaire, {}).get(r.node, r.node)))
    return table


COMPARISON_COLUMNS = [
    Column("Mục tiêu (%)", "number"), Column("So với mục tiêu"),
    Column("Kỳ trước", "number"), Column("Thay đổi", "number"),
    Column("Thay đổi: CI 95% cận dưới", "number"), Column("Thay đổi: CI 95% cận trên", "number"),
    Column("Thay đổi: p", "p"), Column("Thay đổi có ý nghĩa (5%)"),
]


def comparison_values(line: dashboard.Line) -> list[Any]:
    factor = scale(line.row)[0]
    c = line.change
    return [None if line.target is None else line.target * 100, STATUS_VI[line.status],
            *([c.previous * factor, c.difference * factor, c.ci_low * factor, c.ci_high * factor,
               c.p_value, "có" if c.significant else "không"] if c else [None] * 6)]


def lines_table(name: str, title: str, lines: Iterable[dashboard.Line],
                titles: dict[str, dict[str, str]],
                lead: Sequence[tuple[Column, Any]] = ()) -> Table:
    """Lines of a page (a row with its target and change since the previous period)."""
    table = Table(name, title, [c for c, _ in lead] + ROW_COLUMNS + COMPARISON_COLUMNS)
    for line in lines:
        r = line.row
        table.rows.append([v for _, v in lead] + row_values(
            r, titles.get(r.questionnaire, {}).get(r.node, r.node)) + comparison_values(line))
    return table


# --- the tables of each page ---------------------------------------------------------------
def overview_tables(ov: dashboard.Overview) -> list[Table]:
    """The overview's tables: the headline unit's indices and every agency's index."""
    titles = {p.questionnaire: dashboard.node_titles(p.questionnaire) for p in ov.panels}
    headline = [line for p in ov.panels for line in p.province]
    agencies = [line for p in ov.panels for line in p.units]
    return [lines_table("Toàn tỉnh", "Chỉ số chung và các thành phần", headline, titles),
            lines_table("Cơ quan", "Chỉ số của từng cơ quan, đơn vị so với mục tiêu", agencies,
                        titles)]


def unit_tables(page: dashboard.UnitPage) -> list[Table]:
    """A unit page's tables: its indices (every node), the trend, the sub-units, the
    unit's own service points, the questions (share satisfied on each)."""
    titles = {p.questionnaire: dashboard.node_titles(p.questionnaire) for p in page.panels}
    nodes = Table("Chỉ số", f"Các chỉ số của {page.unit.name}",
                  [Column("Cấp trong cây chỉ số", "int"), *ROW_COLUMNS, *COMPARISON_COLUMNS])
    trend = lines_table("Xu hướng", "Xu hướng của chỉ số chung qua các kỳ", [], titles,
                        [(Column("Kỳ"), None)])
    for panel in page.panels:
        for item in panel.nodes:
            nodes.rows.append([item.depth, *row_values(item.line.row, item.title),
                               *comparison_values(item.line)])
        for point in panel.trend:
            r = point.line.row
            trend.rows.append([point.period, *row_values(
                r, titles.get(r.questionnaire, {}).get(r.node, r.node)),
                *comparison_values(point.line)])
    questions = Table("Câu hỏi", f"Tỷ lệ hài lòng theo từng câu hỏi của {page.unit.name}",
                      [Column("Thuộc chỉ số"), Column("Số câu"), *ROW_COLUMNS])
    for panel in page.panels:
        for item in panel.nodes:
            for q in item.items:
                questions.rows.append([item.title, q.number,
                                       *row_values(q.line.row, q.text)])
    children = lines_table("Đơn vị trực thuộc", "Chỉ số chung của các đơn vị trực thuộc",
                           [line for p in page.panels for line in p.children], titles)
    points = lines_table("Điểm phục vụ", "Chỉ số chung theo điểm phục vụ của đơn vị",
                         [line for p in page.panels for line in p.points],
                         titles)
    return [nodes, trend, children, points, questions]


def level_of(node: str, defn_nodes: dict[str, Any], overall: str | None) -> str:
    """``overall`` / ``component`` (a node over other nodes) / ``item`` (a node over
    questionnaire items: the finest level a snapshot stores)."""
    if node == overall:
        return "overall"
    found = defn_nodes.get(node)
    if found is not None and any(c in defn_nodes for c in found.children):
        return "component"
    return "item"


def metadata(snapshot: ResultSnapshot) -> list[tuple[str, Any]]:
    """What a figure rests on: the snapshot, its method and the design of each channel."""
    p = snapshot.parameters or {}
    designs = snapshot.designs or {}
    tokens = designs.get("tokens") or {}
    open_ = designs.get("open") or {}
    return [
        ("Ảnh chụp kết quả (snapshot)", snapshot.id),
        ("Kỳ", snapshot.period),
        ("Từ ngày", snapshot.period_start.isoformat()),
        ("Đến ngày", snapshot.period_end.isoformat()),
        ("Số phiếu", snapshot.n_responses),
        ("Bộ câu hỏi (phiên bản)", ", ".join(snapshot.questionnaire_versions or [])),
        ("Phương pháp ước lượng",
         "Ước lượng theo thiết kế mẫu: tỷ số các tổng có trọng số, sai số chuẩn tuyến tính "
         "hoá Taylor; kênh xác suất và kênh không xác suất không bao giờ gộp chung"),
        ("Khoảng tin cậy của tỷ lệ", CI_METHOD_VI.get(p.get("ci_proportion", "logit"),
                                                      p.get("ci_proportion"))),
        ("Khoảng tin cậy của điểm trung bình", CI_METHOD_VI.get(p.get("ci_mean", "wald"),
                                                                 p.get("ci_mean"))),
        ("Mức ý nghĩa", p.get("alpha", 0.05)),
        ("Quy tắc công bố", f"{p.get('publication_rules', 'NCHS 2017')} (Parker và cộng sự "
         "2017): không công bố khi n hiệu dụng < 30, khoảng Korn–Graubard rộng từ 30 điểm % "
         "hoặc độ rộng tương đối > 130%"),
        ("Thiết kế kênh mã dùng một lần (mẫu xác suất)",
         f"{TOKENS_DESIGN_VI} — số tầng: {tokens.get('strata', 0)} "
         f"({tokens.get('description', '')})"),
        ("Thiết kế kênh QR công khai (mẫu không xác suất)",
         f"{open_.get('assumption', '')} — số tầng: {open_.get('strata', 0)}, trong đó "
         f"{open_.get('strata_weighted_to_transactions', 0)} gia quyền theo số giao dịch"),
        ("Phạm vi", (p.get("scope") or "toàn tỉnh")),
        ("Phiên bản mã tính toán", snapshot.code_version),
        ("Mã băm dữ liệu đầu vào (SHA-256)", snapshot.input_hash),
        ("Thời điểm tính (UTC)", snapshot.created_at.strftime("%d/%m/%Y %H:%M")
         if snapshot.created_at else ""),
        ("Người tính", snapshot.created_by),
    ]


def definitions(labels: Iterable[str]) -> dict[str, Any]:
    out = {}
    for label in set(labels):
        key, _, version = label.partition(" v")
        row = db.session.scalar(select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == key, QuestionnaireVersion.version == int(version or 0)))
        out[label] = versions.definition_of(row) if row is not None else None
    return out


def snapshot_tables(scope: Scope, snapshot: ResultSnapshot) -> list[Table]:
    """A snapshot's rows in the scope, one table per level: the province (the snapshot's
    root unit), the sectors, the units (overall index and components), the items (index
    nodes over questionnaire items, every domain), the questions (rule ``item``: the
    share satisfied on each, every domain)."""
    rows = snapshots.rows_in_scope(scope, snapshot.id)
    root_id = snapshot.scope_unit_id or db.session.scalar(
        select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    defs = definitions(r.questionnaire for r in rows)
    titles: dict[str, dict[str, str]] = {}
    levels: dict[tuple[str, str], str] = {}
    for label, defn in defs.items():
        nodes = {n.id: n for n in defn.index.nodes} if defn is not None else {}
        titles[label] = {n.id: n.title.vi for n in nodes.values()}
        for node_id in nodes:
            levels[(label, node_id)] = level_of(node_id, nodes, defn.index.overall)

    def level(r: ResultRow) -> str:
        if r.rule == "item":
            return "question"
        return levels.get((r.questionnaire, r.node), "item")

    def question(r: ResultRow) -> str:
        defn = defs.get(r.questionnaire)
        try:
            item = defn.item(r.node) if defn is not None else None
        except KeyError:
            item = None
        if item is None:
            return r.node
        return f"{item.number}. {item.text.vi}" if item.number else item.text.vi

    order = sorted(rows, key=lambda r: (r.questionnaire, r.basis != "tokens", r.unit_name,
                                        level(r) != "overall", r.node))
    top = ("overall", "component")
    province = [r for r in order if r.domain == "unit" and r.unit_id == root_id
                and level(r) in top]
    sectors = [r for r in order if r.domain == "sector" and level(r) in top]
    units = [r for r in order if r.domain == "unit" and r.unit_id != root_id
             and level(r) in top]
    items = [r for r in order if level(r) == "item"]
    questions = [r for r in order if level(r) == "question"]
    for r in questions:
        titles[r.questionnaire][r.node] = question(r)
    return [rows_table("Toàn tỉnh", "Toàn tỉnh: chỉ số chung và các thành phần", province,
                       titles),
            rows_table("Lĩnh vực", "Theo lĩnh vực", sectors, titles),
            rows_table("Đơn vị", "Theo cơ quan, đơn vị", units, titles),
            rows_table("Tiêu chí", "Theo tiêu chí (nhóm câu hỏi)", items, titles),
            rows_table("Câu hỏi", "Tỷ lệ hài lòng theo từng câu hỏi", questions, titles)]
