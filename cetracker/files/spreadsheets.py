"""Turning a spreadsheet file (.xlsx, .xlsm, .xls, .ods, .csv) into a header and columns of cells.

This module does the reading itself and runs inside the bounded child process
of ``cetracker.files.bounded`` (``cetracker.files.uploads`` is what the rest of
the product calls). Before the reader allocates anything it checks what a file
declares: each zip member's unpacked size and their total (a zip bomb), and the
sheet's dimensions (a 5 KB workbook with one cell at XFD1048576 would make the
reader allocate half a terabyte). When the reader runs out of room anyway, the
child dies and ``diagnose`` explains why from the file's own XML.

A file that cannot be read as a whole raises ``RejectedFile`` with one sentence
that says what is wrong and what to do; nothing else is ever raised for a bad
file.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import PurePath
from typing import Any
from xml.etree import ElementTree

import python_calamine as calamine

from cetracker.errors import RejectedFile
from cetracker.rules.cells import CELL_LIMIT, normalise_header, shorten, text

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
EXCEL_SUFFIXES = (*ZIP_SUFFIXES, ".xls")
ALL_SUFFIXES = (*EXCEL_SUFFIXES, ".csv")
# What a roster or the office's workbook can need, with room to spare. A 20 MB .xlsx of
# real rows unpacks to about 150 MB; more is a zip bomb.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
# A sheet is read into a dense grid of its first to its last cell: 5,000,000 cells is
# 700,000 roster rows of seven columns, and well under the child's memory limit.
MAX_CELLS = 5_000_000
MAX_CSV_LINES = 1_000_000
_DIMENSION = re.compile(
    rb'<dimension\s+ref="\$?([A-Z]{1,4})\$?(\d{1,8})(?::\$?([A-Z]{1,4})\$?(\d{1,8}))?"'
)
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,4})(\d{1,8})"')
_ROW_REF = re.compile(rb'<row\b[^>]*?\br="(\d{1,8})"')
_ODS_REPEAT = re.compile(rb'number-(rows|columns)-repeated="(\d{1,9})"')
_CHUNK = 1 << 20
_SEPARATOR = "\x00"  # joins a column of text for the trip to the parent; no cell holds it


@dataclass
class Sheet:
    """A sheet's header and, column by column, the cells of every row after it.

    ``columns`` holds only the columns asked for, by normalised header; blank
    rows are kept (``rows`` skips them) so row numbers stay as a person sees them.
    """

    name: str
    header: list[str]
    columns: dict[str, list[Any]]
    first_number: int  # the first body row's number as a person sees it (1-based)
    height: int  # body rows, blank ones included

    @property
    def numbers(self) -> range:
        return range(self.first_number, self.first_number + self.height)

    @property
    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """The non-blank rows with their numbers, each as normalised header -> cell."""
        keys = list(self.columns)
        found = []
        for number, cells in zip(
            self.numbers, zip(*self.columns.values(), strict=True), strict=True
        ):
            if not _is_blank(cells):
                found.append((number, dict(zip(keys, cells, strict=True))))
        return found

    def missing(self, wanted: Sequence[str]) -> list[str]:
        """The wanted headers this sheet does not have, as the caller spelled them."""
        return [w for w in wanted if normalise_header(w) not in self.columns]

    # A 100,000-row roster crosses from the child to the parent as one string a text
    # column (pickle would remember every string: four times slower) and, for columns
    # of numbers and dates, as each distinct value once plus an index a row.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "columns": {k: _pack(v) for k, v in self.columns.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["columns"] = {k: _unpack(v) for k, v in state["columns"].items()}
        self.__dict__.update(state)


def _pack(cells: list[Any]) -> tuple[str, Any, Any]:
    kinds = set(map(type, cells))
    if kinds == {str}:
        joined = _SEPARATOR.join(cells)
        if joined.count(_SEPARATOR) == len(cells) - 1:
            return ("joined", joined, len(cells))
    if kinds == {float}:
        return ("floats", array("d", cells).tobytes(), None)
    seen: dict[tuple[type, Any], int] = {}
    distinct: list[Any] = []
    index = array("l")
    for cell in cells:
        key = (type(cell), cell)
        at = seen.get(key)
        if at is None:
            at = seen[key] = len(distinct)
            distinct.append(cell)
        index.append(at)
    return ("distinct", distinct, index.tobytes())


def _unpack(packed: tuple[str, Any, Any]) -> list[Any]:
    kind, first, second = packed
    if kind == "joined":
        return first.split(_SEPARATOR) if second else []
    if kind == "floats":
        floats = array("d")
        floats.frombytes(first)
        return floats.tolist()
    index = array("l")
    index.frombytes(second)
    return list(map(first.__getitem__, index))


def _is_blank(cells: Sequence[Any]) -> bool:
    for c in cells:
        if c is None or c == "":
            continue
        if type(c) is str and not c.strip():
            continue
        return False
    return True


# -- from rows to a Sheet ------------------------------------------------------------------------


def _to_sheet(
    rows: list[list[Any]], first_row: int, name: str, wanted: Sequence[str] | None
) -> Sheet | None:
    """The first non-blank row is the header; the wanted columns of the rows after it."""
    for i, cells in enumerate(rows):
        if not _is_blank(cells):
            header = [text(c) for c in cells]
            while header and header[-1] == "":
                header.pop()
            body = rows[i + 1 :]
            break
    else:
        return None
    index: dict[str, int] = {}
    for position, title in enumerate(header):
        index.setdefault(normalise_header(title), position)
    keys = [normalise_header(w) for w in wanted] if wanted is not None else list(index)
    width = max((index[k] for k in keys if k in index), default=-1) + 1
    if width and body and min(map(len, body)) < width:  # a CSV's short lines
        body = [r if len(r) >= width else [*r, *[None] * (width - len(r))] for r in body]
    columns = {k: list(map(itemgetter(index[k]), body)) for k in keys if k in index}
    for cells in columns.values():
        _cut_long_text(cells)
    return Sheet(name, [shorten(h, 200) for h in header], columns, first_row + i + 2, len(body))


def _cut_long_text(cells: list[Any]) -> None:
    """No typed cell is longer than Excel holds (32,767 characters): cut any that is."""
    try:
        if max(map(len, cells), default=0) <= CELL_LIMIT:
            return  # the usual column of text, measured in one pass in C
    except TypeError:
        pass  # numbers or dates among the cells: only its text cells can be long
    for j, cell in enumerate(cells):
        if type(cell) is str and len(cell) > CELL_LIMIT:
            cells[j] = shorten(cell, CELL_LIMIT)


# -- checks before reading -----------------------------------------------------------------------


def _damaged(filename: str) -> RejectedFile:
    return RejectedFile(
        f"{filename} could not be read: the file is damaged or not really a spreadsheet. "
        "Open it in Excel or LibreOffice, save it again as .xlsx, and use the new file."
    )


def _check_kind(data: bytes, filename: str) -> str:
    """What the bytes are ("zip", "ole", "text"), refused when they are not what the name says."""
    suffix = PurePath(filename).suffix.lower()
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise RejectedFile(
                f"{filename} is password-protected. Open it, remove the password (File > Info > "
                "Protect Workbook), save it, and use the new file."
            )
        if suffix in (".xls", ".xlsx", ".xlsm"):
            return "ole"
    elif data.startswith(ZIP_MAGIC):
        if suffix in ZIP_SUFFIXES or suffix == ".xls":
            return "zip"
    elif suffix == ".xls" and head.startswith((b"<", b"<?xml")):
        raise RejectedFile(
            f"{filename} is a web page (or XML) saved under an .xls name, not an Excel workbook. "
            "Open it in Excel, save it as .xlsx (Excel Workbook), and use the new file."
        )
    kind = "an OpenDocument spreadsheet" if suffix == ".ods" else "an Excel workbook"
    raise RejectedFile(
        f"{filename} is not {kind}, although its name ends in {suffix}. "
        "Save it from Excel or LibreOffice as .xlsx, .xls, .ods or .csv, and use the new file."
    )


def check_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    """The zip's directory, after checking what it declares it unpacks to (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise _damaged(filename) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise RejectedFile(
            f"{filename} holds {len(members):,} files inside, far more than a spreadsheet has. "
            "Copy the rows into the roster template and use that file."
        )
    if any(m.flag_bits & 0x1 for m in members):
        raise RejectedFile(
            f"{filename} is password-protected. Remove the password, save it, and use the new file."
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        biggest = max(members, key=lambda m: m.file_size)
        raise RejectedFile(
            f"{filename} would unpack to {total / 2**30:,.1f} GB ({biggest.filename} alone "
            f"{biggest.file_size / 2**30:,.1f} GB), far more than a spreadsheet of rows needs "
            f"(at most {MAX_UNPACKED_BYTES // 2**20} MB are read). Copy the rows into a new "
            "workbook, save it, and use the new file."
        )
    return archive


def _column_number(letters: bytes | str) -> int:
    number = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(ch) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _too_many_cells(filename: str, sheet: str, rows: int, columns: int) -> RejectedFile:
    corner = f"{_column_letters(columns)}{rows}"
    return RejectedFile(
        f"{filename}: the sheet “{shorten(sheet, 60)}” reaches out to cell {corner} "
        f"({rows:,} rows by {columns:,} columns, {rows * columns:,} cells), far beyond any "
        f"roster; CE Tracker reads at most {MAX_CELLS:,} cells a sheet. Delete the rows and "
        "columns beyond your data (or copy the data into a new workbook), save, and use the "
        "new file."
    )


def xlsx_sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from workbook.xml and its relations."""
    names = set(archive.namelist())
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return {}
    targets = {r.get("Id"): (r.get("Target") or "") for r in rels if r.tag.endswith("Relationship")}
    paths = {}
    for element in book.iter():
        if not element.tag.endswith("}sheet"):
            continue
        rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if path in names:
            paths[element.get("name", "")] = path
    return paths


def _declared_dimension(archive: zipfile.ZipFile, path: str) -> tuple[int, int] | None:
    """Rows and columns the sheet's <dimension ref="A1:G100"> declares, from its first bytes."""
    with archive.open(path) as stream:
        head = stream.read(64 * 1024)
    found = _DIMENSION.search(head)
    if not found:
        return None
    first_col, first_row = _column_number(found[1]), int(found[2])
    last_col = _column_number(found[3]) if found[3] else first_col
    last_row = int(found[4]) if found[4] else first_row
    return last_row - min(first_row, last_row) + 1, last_col - min(first_col, last_col) + 1


def _check_xlsx_dimension(
    archive: zipfile.ZipFile, path: str | None, filename: str, sheet: str
) -> None:
    if path is None:
        return
    try:
        declared = _declared_dimension(archive, path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(filename) from exc
    if declared and declared[0] * declared[1] > MAX_CELLS:
        raise _too_many_cells(filename, sheet, *declared)


def _xml_chunks(archive: zipfile.ZipFile, path: str, boundary: bytes = b"<") -> Iterator[bytes]:
    """A member's XML in pieces that each end just before a ``boundary`` ("<": no tag is
    split; "<c ": no cell is)."""
    with archive.open(path) as stream:
        rest = b""
        while chunk := stream.read(_CHUNK):
            chunk = rest + chunk
            cut = chunk.rfind(boundary)
            if cut <= 0:
                rest = chunk
                continue
            rest = chunk[cut:]
            yield chunk[:cut]
        if rest:
            yield rest


def xlsx_error_cells(archive: zipfile.ZipFile, path: str) -> dict[tuple[int, int], str]:
    """(row, column) -> the Excel error a cell shows (#REF!, …): the reader reads them as blank."""
    found: dict[tuple[int, int], str] = {}
    for chunk in _xml_chunks(archive, path, b"<c "):
        at = chunk.find(b't="e"')
        while at != -1:
            start = chunk.rfind(b"<c ", 0, at)
            end = chunk.find(b">", at)
            close = chunk.find(b"</c>", end)
            # Only where t="e" is an attribute of a cell's own tag, not text inside a cell.
            if start != -1 and end != -1 and close != -1 and b">" not in chunk[start:at]:
                ref = re.search(rb'\br="([A-Z]{1,4})(\d{1,8})"', chunk[start:end])
                value = re.search(rb"<v>([^<]*)</v>", chunk[end:close])
                if ref and value:
                    error = html.unescape(value[1].decode("utf-8", "replace"))
                    found[(int(ref[2]), _column_number(ref[1]))] = error
            at = chunk.find(b't="e"', at + 5)
    return found


# -- reading -------------------------------------------------------------------------------------


def _open_book(data: bytes, filename: str) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise RejectedFile(
            f"{filename} is password-protected. Remove the password, save it, and use the new file."
        ) from exc
    except Exception as exc:  # calamine raises several types for damaged files
        raise _damaged(filename) from exc


def _first_visible(book: calamine.CalamineWorkbook) -> str | None:
    for meta in book.sheets_metadata:
        if (
            meta.visible == calamine.SheetVisibleEnum.Visible
            and meta.typ == calamine.SheetTypeEnum.WorkSheet
        ):
            return str(meta.name)
    return None


def _read_book_sheet(
    book: calamine.CalamineWorkbook,
    name: str,
    filename: str,
    wanted: Sequence[str] | None,
    errors: Any,
) -> Sheet | None:
    try:
        grid = book.get_sheet_by_name(name)
        # Rows come from A1 (the empty area above and left of the first cell included),
        # so that row numbers are the sheet's own.
        height, width = (grid.end[0] + 1, grid.end[1] + 1) if grid.end else (0, 0)
        if height * width > MAX_CELLS:
            raise _too_many_cells(filename, name, height, width)
        rows = grid.to_python(skip_empty_area=False)
    except RejectedFile:
        raise
    except Exception as exc:
        raise RejectedFile(
            f"The sheet “{shorten(name, 60)}” of {filename} could not be read. Save the workbook "
            "again from Excel or LibreOffice as .xlsx, and use the new file."
        ) from exc
    if errors is not None and any("" in r for r in rows):
        # Only a row with a blank cell can hide an error: the reader shows an error as "".
        for (row, column), error in errors().items():
            r, c = row - 1, column - 1
            if 0 <= r < len(rows) and 0 <= c < len(rows[r]) and rows[r][c] == "":
                rows[r][c] = error
    sheet = _to_sheet(rows, 0, name, wanted)
    del rows
    return sheet


def decode_csv(data: bytes) -> str:
    """CSV text as spreadsheets save it: UTF-8 (with or without BOM), UTF-16, or Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes, filename: str, wanted: Sequence[str] | None = None) -> Sheet | None:
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise RejectedFile(
            f"{filename} is a workbook, not a CSV text file. Rename it to .xlsx (or .xls), "
            "or save it as .csv, and use that file."
        )
    content = decode_csv(data)
    if "\x00" in content:
        raise RejectedFile(
            f"{filename} is not a CSV text file (it holds NUL bytes, as binary files do). "
            "Save it from your spreadsheet as .csv (comma separated), or use the workbook itself."
        )
    lines = content.count("\n")
    if lines > MAX_CSV_LINES:
        raise RejectedFile(
            f"{filename} has {lines:,} lines, far more than a roster (CE Tracker reads at most "
            f"{MAX_CSV_LINES:,}). Delete the empty lines below the rows, or split the file, "
            "and use the new file(s)."
        )
    first_line = next(iter(content[:8192].splitlines()), "")
    delimiter = ","
    if first_line.count(";") > first_line.count(",") and first_line.count(";") >= first_line.count(
        "\t"
    ):
        delimiter = ";"
    elif first_line.count("\t") > first_line.count(","):
        delimiter = "\t"
    # One field may be as long as the file (it is cut to Excel's cell size after reading).
    csv.field_size_limit(max(len(content) + 1, 131_072))
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RejectedFile(
            f"{filename} could not be read as CSV ({exc}). Save it again as .csv and use the "
            "new file."
        ) from exc
    del content
    return _to_sheet(rows, 0, PurePath(filename).stem, wanted)


def read_first_sheet(data: bytes, filename: str, wanted: Sequence[str] | None = None) -> Sheet:
    """The rows of a CSV, or of a workbook's first visible sheet; only the ``wanted`` columns."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        sheet = read_csv(data, filename, wanted)
    else:
        kind = _check_kind(data, filename)
        archive = check_zip(data, filename) if kind == "zip" else None
        book = _open_book(data, filename)
        name = _first_visible(book)
        sheet = None
        if name is not None:
            errors = _checked_xlsx_sheet(archive, name, filename)
            sheet = _read_book_sheet(book, name, filename, wanted, errors)
    if sheet is None:
        raise RejectedFile(
            f"{filename} has no rows at all. Fill in the rows and use the file again."
        )
    return sheet


def _checked_xlsx_sheet(archive: zipfile.ZipFile | None, name: str, filename: str) -> Any:
    """Check the sheet's declared dimension; return how to find its error cells (xlsx only)."""
    if archive is None:
        return None
    path = xlsx_sheet_paths(archive).get(name)
    _check_xlsx_dimension(archive, path, filename, name)
    if path is None:
        return None

    def errors() -> dict[tuple[int, int], str]:
        try:
            return xlsx_error_cells(archive, path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _damaged(filename) from exc

    return errors


def read_sheets(data: bytes, filename: str, wanted: dict[str, Sequence[str]]) -> dict[str, Sheet]:
    """The named sheets of a workbook (names matched as headers are), each with its wanted
    columns; a sheet that is absent or blank is left out."""
    kind = _check_kind(data, filename)
    archive = check_zip(data, filename) if kind == "zip" else None
    book = _open_book(data, filename)
    by_key = {normalise_header(n): n for n in book.sheet_names}
    found: dict[str, Sheet] = {}
    for name, columns in wanted.items():
        actual = by_key.get(normalise_header(name))
        if actual is None:
            continue
        errors = _checked_xlsx_sheet(archive, actual, filename)
        sheet = _read_book_sheet(book, actual, filename, columns, errors)
        if sheet is not None:
            found[name] = sheet
    return found


# -- after a reader died -------------------------------------------------------------------------


def diagnose(data: bytes, filename: str) -> str | None:
    """Why reading this file needed more memory than allowed, from its own XML; None if not seen.

    Scans every sheet of an .xlsx for its farthest cell (the reader fills a grid from A1 to
    it) and every repeat count of an .ods; streaming, a megabyte at a time.
    """
    if not data.startswith(ZIP_MAGIC):
        return None
    try:
        archive = check_zip(data, filename)
        paths = xlsx_sheet_paths(archive)
        for name, path in paths.items():
            rows = columns = 0
            for chunk in _xml_chunks(archive, path):
                for match in _CELL_REF.finditer(chunk):
                    columns = max(columns, _column_number(match[1]))
                    rows = max(rows, int(match[2]))
                for match in _ROW_REF.finditer(chunk):
                    rows = max(rows, int(match[1]))
            if rows * columns > MAX_CELLS:
                return _too_many_cells(filename, name, rows, columns).message
        if "content.xml" in archive.namelist():
            for chunk in _xml_chunks(archive, "content.xml"):
                for match in _ODS_REPEAT.finditer(chunk):
                    if int(match[2]) * 16 > MAX_CELLS:
                        return (
                            f"{filename} repeats a row or column {int(match[2]):,} times, far "
                            "beyond any roster. Delete the rows and columns beyond your data "
                            "(or copy the data into a new workbook), save, and use the new file."
                        )
    except RejectedFile as exc:
        return exc.message
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return _damaged(filename).message
    return None
