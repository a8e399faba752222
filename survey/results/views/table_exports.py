"""Downloads of the sector page's and the rankings page's tables: each table as CSV
(UTF-8 with BOM) and all of a page's tables as one XLSX workbook (with the metadata
sheet), as the unit page and the overview offer theirs. Scope-checked as the pages are,
with the export permission: a sector or a unit outside the scope is a 404, without the
right a 403. In Vietnamese whatever the interface language, as every export (they are
official documents: see :mod:`survey.results.services.tables`)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from survey.common.errors import BadInput, ServiceError
from survey.common.web import download, require
from survey.results.services import export, page_tables, rankings, sectors, xlsx
from survey.results.services.tables import SECTORS_VI
from survey.results.views import bp
from survey.results.views.exports import CSV, XLSX


def _sector_page(sector: str) -> sectors.SectorPage:
    if sector not in SECTORS_VI:
        abort(404)
    return sectors.sector_page(require("export"), sector,
                               request.args.get("snapshot", type=int))


@bp.route("/sectors/<sector>/<any(indices, trend, agencies, questions):table>.csv")
def export_sector_csv(sector: str, table: str) -> Response:
    page = _sector_page(sector)
    tables = page_tables.sector_tables(page)
    data = export.table_csv(tables[page_tables.SECTOR_TABLES.index(table)])
    return download(data, CSV, f"sipas-{page.snapshot.id}-sector-{sector}-{table}.csv")


@bp.route("/sectors/<sector>/tables.xlsx")
def export_sector_xlsx(sector: str) -> Response:
    page = _sector_page(sector)
    tables = page_tables.sector_tables(page)
    about = [("Lĩnh vực", SECTORS_VI[sector]),
             ("Mục tiêu (% hài lòng)", None if page.target is None else page.target * 100)]
    data = xlsx.workbook(tables, page.snapshot, about)
    return download(data, XLSX, f"sipas-{page.snapshot.id}-sector-{sector}.xlsx")


def _ranking() -> rankings.Ranking:
    """The ranking the page shows for the same query; a filter value the snapshot does not
    hold is a 400 saying so (the page drops it and says so)."""
    args = request.args
    try:
        return rankings.ranking(
            require("export"), snapshot_id=args.get("snapshot", type=int),
            questionnaire=args.get("questionnaire"), basis=args.get("basis"),
            node=args.get("node"), sector=args.get("sector"),
            within=args.get("within", type=int))
    except ServiceError as err:
        raise BadInput(err.message) from None


def _ranking_tables(page: rankings.Ranking) -> list[Any]:
    return page_tables.ranking_tables(page)


@bp.route("/rankings/<any(ranked, suppressed):table>.csv")
def export_ranking_csv(table: str) -> Response:
    page = _ranking()
    data = export.table_csv(_ranking_tables(page)[page_tables.RANKING_TABLES.index(table)])
    return download(data, CSV, f"sipas-{page.snapshot.id}-ranking-{table}.csv")


@bp.route("/rankings.xlsx")
def export_ranking_xlsx() -> Response:
    page = _ranking()
    data = xlsx.workbook(_ranking_tables(page), page.snapshot, page_tables.ranking_about(page))
    return download(data, XLSX, f"sipas-{page.snapshot.id}-ranking.xlsx")
