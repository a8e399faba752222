"""Results as an Excel workbook (openpyxl): one sheet per table (per level of a snapshot:
province, sectors, units, items; or a unit page's tables), then a metadata sheet saying
what every figure rests on (snapshot, period, questionnaire versions, method, interval
method, design per channel, publication rules, code version, input hash).

Numbers are written as numbers with a number format (never as text), so that Excel can
sort and compute; a suppressed figure is an empty cell and its reason is in the notes
column. Headers are Vietnamese; the header row is frozen and filtered."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from survey.results.models import ResultSnapshot
from survey.results.services import designs
from survey.results.services.tables import Table, channel_vi, metadata

FORMATS = {"int": "0", "number": "0.00", "p": "0.0000"}
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
META_SHEET = "Thông tin"


def _sheet_name(name: str, taken: set[str]) -> str:
    """Excel allows 31 characters, none of []:*?/\\, and unique names."""
    clean = "".join(c for c in name if c not in "[]:*?/\\")[:31] or "Bảng"
    out, i = clean, 2
    while out in taken:
        out = f"{clean[:28]} {i}"
        i += 1
    taken.add(out)
    return out


def _write_table(ws: Any, table: Table) -> None:
    ws.append([table.title])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(table.header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in table.rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # a text starting with "=": text, never a formula
                cell.data_type = "s"
    for j, column in enumerate(table.columns, start=1):
        letter = get_column_letter(j)
        fmt = FORMATS.get(column.kind)
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = fmt
        width = 12 if column.kind != "text" else 22
        if column.header in ("Đơn vị", "Chỉ số", "Ghi chú (lý do)", "Kênh"):
            width = 36
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "B3"
    if table.rows:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(table.columns))}{len(table.rows) + 2}"


CHANNEL_DESIGN_KEYS = ("Thiết kế kênh mã dùng một lần", "Thiết kế kênh QR công khai")


def design_metadata(snapshot: ResultSnapshot) -> list[tuple[str, Any]]:
    """The metadata lines; a campaign snapshot's design (stages, what psu and psu2 are, the
    fpc of each stage) in place of the two channels' designs, which it has none of."""
    lines = metadata(snapshot)
    campaign = [(basis, info) for basis, info in sorted((snapshot.designs or {}).items())
                if basis.startswith("campaign:")]
    if not campaign:
        return lines
    out: list[tuple[str, Any]] = []
    for key, value in lines:
        if str(key).startswith(CHANNEL_DESIGN_KEYS):
            continue
        out.append((key, value))
        if key == "Phương pháp ước lượng":
            for basis, info in campaign:
                out += [
                    ("Đợt khảo sát", channel_vi(basis, True)),
                    ("Thiết kế mẫu của đợt khảo sát (mẫu xác suất)",
                     designs.campaign_design_vi(info)),
                    ("Số giai đoạn chọn mẫu", 2 if info.get("stages") == 2
                     or info.get("two_stage") else 1),
                    ("Cơ sở ước lượng", basis),
                ]
    return out


def workbook(tables: Sequence[Table], snapshot: ResultSnapshot,
             extra: Sequence[tuple[str, Any]] = ()) -> bytes:
    """The workbook: ``tables`` in order, then the metadata sheet (``extra`` lines first,
    e.g. the unit the export is about)."""
    wb = Workbook()
    taken: set[str] = {META_SHEET}
    first = True
    for table in tables:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = _sheet_name(table.name, taken)
        _write_table(ws, table)
    meta = wb.create_sheet(META_SHEET) if not first else wb.active
    meta.title = META_SHEET
    meta.append(["Thông tin", "Giá trị"])
    for cell in meta[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for key, value in [*extra, *design_metadata(snapshot)]:
        meta.append([key, value])
    meta.column_dimensions["A"].width = 42
    meta.column_dimensions["B"].width = 110
    for (cell,) in meta.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
