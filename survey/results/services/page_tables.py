"""The tables of the sector page and of the rankings page, as plain values for the CSV and
XLSX downloads (the same :class:`~survey.results.services.tables.Table` the unit page and
the overview export: numbers stay numbers in per cent or on their scale, a suppressed
figure is blank and the notes column says why).

In Vietnamese whatever the interface language of the person downloading, as every
export (they are official documents: see :mod:`survey.results.services.tables`).
"""

from __future__ import annotations

from typing import Any

from survey.results.services import dashboard, rankings, sectors
from survey.results.services.tables import (
    COMPARISON_COLUMNS,
    PUBLICATION_VI,
    ROW_COLUMNS,
    SECTORS_VI,
    Column,
    Table,
    channel_vi,
    comparison_values,
    lines_table,
    row_values,
)

SECTOR_TABLES = ("indices", "trend", "agencies", "questions")
RANKING_TABLES = ("ranked", "suppressed")


def sector_tables(page: sectors.SectorPage) -> list[Table]:
    """The sector page's tables, every channel basis and questionnaire one after the
    other: the sector's index tree, the trend of its overall index, its agencies against
    the sector's target, and the questions (share satisfied on each)."""
    name = SECTORS_VI.get(page.sector, page.sector)
    titles = {p.questionnaire: dashboard.node_titles(p.questionnaire) for p in page.panels}
    nodes = Table("Chỉ số", f"Các chỉ số của lĩnh vực {name}",
                  [Column("Cấp trong cây chỉ số", "int"), *ROW_COLUMNS, *COMPARISON_COLUMNS])
    trend = Table("Xu hướng", f"Xu hướng của chỉ số chung của lĩnh vực {name} qua các kỳ",
                  [Column("Kỳ"), *ROW_COLUMNS, *COMPARISON_COLUMNS])
    questions = Table("Câu hỏi", f"Tỷ lệ hài lòng theo từng câu hỏi, lĩnh vực {name}",
                      [Column("Thuộc chỉ số"), Column("Số câu"), *ROW_COLUMNS])
    for panel in page.panels:
        for item in panel.nodes:
            nodes.rows.append([item.depth, *row_values(item.line.row, item.title),
                               *comparison_values(item.line)])
            for q in item.items:
                questions.rows.append([item.title, q.number, *row_values(q.line.row, q.text)])
        for point in panel.trend:
            r = point.line.row
            trend.rows.append([point.period, *row_values(
                r, titles.get(r.questionnaire, {}).get(r.node, r.node)),
                *comparison_values(point.line)])
    agencies = lines_table("Cơ quan", f"Các cơ quan, đơn vị của lĩnh vực {name} so với mục "
                           "tiêu", [line for p in page.panels for line in p.agencies], titles)
    return [nodes, trend, agencies, questions]


RANK_COLUMNS = [Column("Hạng", "int"), Column("Khoảng hạng: từ", "int"),
                Column("Khoảng hạng: đến", "int"), Column("Nhóm", "int")]


def ranking_tables(page: rankings.Ranking) -> list[Table]:
    """The rankings page's tables: the ranked units (rank, rank interval, tied group,
    then every column of a result row and its status against the target), and the units
    whose figure is not published, apart, with the reason."""
    titles = {page.filters.questionnaire: dashboard.node_titles(page.filters.questionnaire)}
    ranked = Table("Xếp hạng", f"Xếp hạng theo {page.node_title}",
                   [*RANK_COLUMNS, *ROW_COLUMNS, *COMPARISON_COLUMNS])
    for item in page.ranked:
        r = item.line.row
        ranked.rows.append([item.rank, item.rank_low, item.rank_high, item.group,
                            *row_values(r, titles[r.questionnaire].get(r.node, r.node)),
                            *comparison_values(item.line)])
    hidden = Table("Không công bố", "Không công bố nên không xếp hạng", [
        Column("Đơn vị"), Column("Mã đơn vị"), Column("Lĩnh vực"), Column("Kênh"),
        Column("Bộ câu hỏi"), Column("Mã chỉ số"), Column("Chỉ số"), Column("n", "int"),
        Column("n hiệu dụng", "number"), Column("Công bố"), Column("Lý do")])
    for item in page.suppressed:
        r = item.row
        hidden.rows.append([r.unit_name, r.unit_code, SECTORS_VI.get(r.sector or "", r.sector),
                            channel_vi(r.basis, r.probability), r.questionnaire, r.node,
                            page.node_title, r.n, r.n_eff,
                            PUBLICATION_VI.get(r.publication, r.publication), item.reason])
    return [ranked, hidden]


def ranking_about(page: rankings.Ranking) -> list[tuple[str, Any]]:
    """The choices a ranking was drawn with (first lines of the workbook's metadata)."""
    f = page.filters
    return [("Bộ câu hỏi", f.questionnaire), ("Kênh", channel_vi(f.basis, page.probability)),
            ("Chỉ số", f"{page.node_title} ({f.node})"),
            ("Lĩnh vực", SECTORS_VI.get(f.sector, f.sector) if f.sector else "tất cả"),
            ("Đơn vị trực thuộc của", f.within.name if f.within is not None else "tất cả"),
            ("Khoảng hạng", f"95%, {page.draws} lần mô phỏng, hạt giống {page.seed} "
                            "(Goldstein & Spiegelhalter 1996)"),
            ("Nhóm", "các đơn vị cùng nhóm không khác biệt có ý nghĩa (5%) so với đơn vị đầu "
                     "nhóm"),
            ("Không xếp hạng vì chứa đơn vị được xếp hạng", ", ".join(page.containing))]
