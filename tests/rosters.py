"""Build roster files (CSV and real .xlsx) for import tests."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from openpyxl import Workbook

HEADER = [
    "First Name",
    "Last Name",
    "License Number",
    "Course Number",
    "CE Year",
    "Course Date",
    "CE Hours",
]


def csv_bytes(
    rows: list[list[object]],
    *,
    header: list[str] = HEADER,
    sep: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in r] for r in rows])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(
    rows: list[list[object]],
    *,
    header: list[str] = HEADER,
    hidden_first: bool = False,
    merge: str | None = None,
    text_cells: bool = True,
) -> bytes:
    book = Workbook()
    sheet = book.active
    if hidden_first:
        sheet.title = "Old"
        sheet.append(["nothing", "here"])
        sheet.sheet_state = "hidden"
        sheet = book.create_sheet("Roster")
    for r, row in enumerate([header, *rows], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value)
            if text_cells and isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cached_formula(data: bytes, cell: str, formula: str, value: str) -> bytes:
    """Put a formula with its cached value into a cell, as Excel itself saves it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = content.decode()
                xml = re.sub(
                    rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)',
                    f'<c r="{cell}"><f>{formula}</f><v>{value}</v></c>',
                    xml,
                    count=1,
                )
                content = xml.encode()
            target.writestr(item, content)
    return out.getvalue()
