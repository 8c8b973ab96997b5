"""Turning an uploaded .xlsx, .xlsm or .csv into a header and rows of raw cells.

A file that cannot be read as a whole raises ``RejectedFile`` with one sentence
that says what is wrong and what to do; nothing else is ever raised for a bad
file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import python_calamine as calamine

from cetracker.errors import RejectedFile
from cetracker.rules.cells import normalise_header, text

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ALL_SUFFIXES = (*EXCEL_SUFFIXES, ".csv")


@dataclass
class Sheet:
    """A sheet's header cells and every row after it, blank ones included."""

    name: str
    header: list[str]
    body: Sequence[Sequence[Any]]
    first_number: int  # body[0]'s row number as a person sees it (1-based, header included)

    @property
    def rows(self) -> list[tuple[int, Sequence[Any]]]:
        """The non-blank rows after the header, with their row numbers."""
        start = self.first_number
        return [(start + j, r) for j, r in enumerate(self.body) if not _is_blank(r)]

    def column_index(self) -> dict[str, int]:
        """Normalised header name -> first column holding it."""
        index: dict[str, int] = {}
        for i, name in enumerate(self.header):
            index.setdefault(normalise_header(name), i)
        return index


def _is_blank(cells: Sequence[Any]) -> bool:
    if cells and type(cells[0]) is str and cells[0] and not cells[0][0].isspace():
        return False  # the usual row: text in its first cell
    for c in cells:
        if c is None or c == "":
            continue
        if type(c) is str and not c.strip():
            continue
        return False
    return True


def _trim(rows: Sequence[Sequence[Any]], first_row: int) -> Sheet | None:
    """Find the header (the first non-blank row) and the rows after it."""
    for i, cells in enumerate(rows):
        if not _is_blank(cells):
            header = [text(c) for c in cells]
            while header and header[-1] == "":
                header.pop()
            return Sheet("", header, rows[i + 1 :], first_row + i + 2)
    return None


def _check_excel_bytes(data: bytes, filename: str) -> None:
    if data.startswith(OLE_MAGIC):
        raise RejectedFile(
            f"{filename} is password-protected or an old .xls workbook. Remove the password, "
            "or open it in Excel and save it as .xlsx, then upload it again."
        )
    if not data.startswith(ZIP_MAGIC):
        raise RejectedFile(
            f"{filename} is not an Excel workbook, although its name ends in "
            f"{PurePath(filename).suffix}. Save it from Excel as .xlsx (or as .csv) and upload it again."
        )


def open_workbook(data: bytes, filename: str) -> calamine.CalamineWorkbook:
    _check_excel_bytes(data, filename)
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise RejectedFile(
            f"{filename} is password-protected. Remove the password and upload it again."
        ) from exc
    except Exception as exc:  # calamine raises several types for damaged files
        raise RejectedFile(
            f"{filename} could not be read: the workbook is damaged or not really an Excel file. "
            "Open it in Excel, save it again as .xlsx, and upload the new file."
        ) from exc


def read_excel_sheet(book: calamine.CalamineWorkbook, name: str, filename: str) -> Sheet | None:
    try:
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        start = sheet.start[0] if sheet.start else 0
    except Exception as exc:
        raise RejectedFile(
            f"The sheet {name!r} of {filename} could not be read. Save the workbook again "
            "from Excel as .xlsx and upload the new file."
        ) from exc
    found = _trim(rows, start)
    if found:
        found.name = name
    return found


def first_visible_sheet_name(book: calamine.CalamineWorkbook) -> str | None:
    for meta in book.sheets_metadata:
        if (
            meta.visible == calamine.SheetVisibleEnum.Visible
            and meta.typ == calamine.SheetTypeEnum.WorkSheet
        ):
            return meta.name
    return None


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes, filename: str) -> Sheet | None:
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)) or b"\x00" in data[:4096]:
        raise RejectedFile(
            f"{filename} is not a CSV text file. Save it as .csv (comma separated) or upload "
            "the Excel workbook itself."
        )
    content = decode_csv(data)
    sample = content[:8192]
    delimiter = ","
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    if first_line.count(";") > first_line.count(",") and first_line.count(";") >= first_line.count(
        "\t"
    ):
        delimiter = ";"
    elif first_line.count("\t") > first_line.count(","):
        delimiter = "\t"
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RejectedFile(
            f"{filename} could not be read as CSV ({exc}). Save it again as .csv."
        ) from exc
    found = _trim(rows, 0)
    if found:
        found.name = PurePath(filename).stem
    return found


def read_first_sheet(data: bytes, filename: str, *, max_bytes: int) -> Sheet:
    """The roster in an upload: a CSV, or the first visible sheet of a workbook."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ALL_SUFFIXES:
        raise RejectedFile(
            f"{filename} is not a file type CE Tracker reads. Upload the roster as .xlsx, .xlsm or .csv."
        )
    if len(data) == 0:
        raise RejectedFile(f"{filename} is empty (0 bytes). Upload the filled roster file.")
    if len(data) > max_bytes:
        raise RejectedFile(
            f"{filename} is {len(data) / 1_048_576:.1f} MB, more than the {max_bytes / 1_048_576:.0f} MB "
            "limit. Split the roster into smaller files and upload each."
        )
    if suffix == ".csv":
        sheet = read_csv(data, filename)
    else:
        book = open_workbook(data, filename)
        name = first_visible_sheet_name(book)
        sheet = read_excel_sheet(book, name, filename) if name else None
    if sheet is None:
        raise RejectedFile(
            f"{filename} has no rows at all. Fill in the roster template and upload it again."
        )
    return sheet
