"""Reading a sampling frame's file: its size checked before it is read, CSV (UTF-8, the
delimiter guessed from the header) decoded as it streams, or the first sheet of an XLSX
workbook; every cell a stripped string. Refusals carry the problems to show the clerk."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from flask import current_app
from flask_babel import gettext as _

from survey.common.errors import ServiceError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_SHOWN = 200


@dataclass(frozen=True)
class Problem:
    row: int | None  # the file's row number (the header is row 1)
    message: str


class FrameRefused(ServiceError):
    """The frame was refused; ``problems`` says what to correct, row by row."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        super().__init__(_("The frame was not imported: %(n)d problems to correct.",
                           n=total or len(problems)))
        self.problems = problems[:MAX_SHOWN]
        self.total = total or len(problems)


def max_bytes() -> int:
    return int(current_app.config.get("CAMPAIGN_FRAME_MAX_BYTES", DEFAULT_MAX_BYTES))


def _size(stream: IO[bytes]) -> int | None:
    try:
        here = stream.tell()
        stream.seek(0, io.SEEK_END)
        end = stream.tell()
        stream.seek(here)
    except (OSError, AttributeError, ValueError):
        return None
    return end - here


def read_limited(stream: IO[bytes]) -> bytes:
    """The upload's bytes, refused (unread) when larger than the limit."""
    limit = max_bytes()
    size = _size(stream)
    if size is not None and size > limit:
        raise _too_large(limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> FrameRefused:
    return FrameRefused([Problem(None, _(
        "The file is larger than %(size)s. Remove the columns that are not needed, or "
        "split the list by unit into files of at most %(size)s.", size=size_text(limit)))])


def size_text(limit: int) -> str:
    mb = 1024 * 1024
    return f"{limit // mb} MB" if limit % mb == 0 else f"{limit // 1024} KB"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_xlsx(data: bytes) -> Iterator[list[str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FrameRefused([Problem(None, _("The XLSX file cannot be opened; save it again "
                                            "from the spreadsheet program."))]) from exc
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def _not_utf8() -> FrameRefused:
    return FrameRefused([Problem(None, _("The CSV file is not in UTF-8; save it as "
                                         "“CSV UTF-8” and import it again."))])


def _rows_csv(data: bytes) -> Iterator[list[str]]:
    # Decoded as it is read: a 50 MB file is not copied into one string (twice).
    first = data[:data.find(b"\n") if b"\n" in data else len(data)]
    delimiter = max([b",", b";", b"\t"], key=first.count).decode()
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        for values in csv.reader(text, delimiter=delimiter):
            yield [v.strip() for v in values]
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc


def table(data: bytes, filename: str) -> Iterator[list[str]]:
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _rows_xlsx(data)
    return _rows_csv(data)
