"""Downloads of the results pages: every table as CSV (UTF-8 with BOM) and XLSX (with a
metadata sheet), and PDF reports per unit and per sector. Scope-checked as the pages are,
with the export permission: outside the scope is a 404, without the right a 403."""

from __future__ import annotations

from flask import Response, abort, request

from survey.common.web import download, require
from survey.results.services import dashboard, export, reports, snapshots, tables, xlsx
from survey.results.views import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
UNIT_TABLES = {"results": 0, "trend": 1, "subunits": 2, "points": 3, "questions": 4}


def _snapshot_arg() -> int | None:
    return request.args.get("snapshot", type=int)


@bp.route("/overview/<any(agencies, province):table>.csv")
def export_overview_csv(table: str) -> Response:
    """The overview's tables: every agency against its target, or the headline unit's
    overall index and components."""
    ov = dashboard.overview(require("export"), _snapshot_arg())
    data = export.table_csv(tables.overview_tables(ov)[table == "agencies"])
    return download(data, CSV, f"sipas-{ov.snapshot.id}-overview-{table}.csv")


@bp.route("/snapshots/<int:snapshot_id>/results.xlsx")
def export_snapshot_xlsx(snapshot_id: int) -> Response:
    scope = require("export")
    snapshot = snapshots.visible_one(scope, snapshot_id)
    data = xlsx.workbook(tables.snapshot_tables(scope, snapshot), snapshot)
    return download(data, XLSX, f"sipas-{snapshot.id}-results.xlsx")


@bp.route("/units/<int:unit_id>/<any(results, trend, subunits, points, questions):table>.csv")
def export_unit_csv(unit_id: int, table: str) -> Response:
    scope = require("export")
    scope.get_unit(unit_id, "export")
    page = dashboard.unit_page(scope, unit_id, _snapshot_arg())
    data = export.table_csv(tables.unit_tables(page)[UNIT_TABLES[table]])
    return download(data, CSV, f"sipas-{page.snapshot.id}-unit-{unit_id}-{table}.csv")


@bp.route("/units/<int:unit_id>/results.xlsx")
def export_unit_xlsx(unit_id: int) -> Response:
    scope = require("export")
    unit = scope.get_unit(unit_id, "export")
    page = dashboard.unit_page(scope, unit_id, _snapshot_arg())
    data = xlsx.workbook(tables.unit_tables(page), page.snapshot,
                         [("Đơn vị", unit.name), ("Mã đơn vị", unit.code or "")])
    return download(data, XLSX, f"sipas-{page.snapshot.id}-unit-{unit_id}.xlsx")


@bp.route("/units/<int:unit_id>/report.pdf")
def export_unit_report(unit_id: int) -> Response:
    scope = require("export")
    scope.get_unit(unit_id, "export")
    data = reports.unit_report(scope, unit_id, _snapshot_arg())
    return download(data, "application/pdf", f"sipas-unit-{unit_id}-report.pdf")


@bp.route("/sectors/<sector>/report.pdf")
def export_sector_report(sector: str) -> Response:
    if sector not in tables.SECTORS_VI:
        abort(404)
    data = reports.sector_report(require("export"), sector, _snapshot_arg())
    return download(data, "application/pdf", f"sipas-sector-{sector}-report.pdf")
