"""Hostile files, made cheaply: far cells, zip bombs, a decompression-bomb PNG, and the like.

Each is a real file of its kind (a zip any unzip tool lists, a PNG whose header
any viewer reads) built in milliseconds: the bombs repeat one compressed block
instead of compressing gigabytes.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from datetime import date

import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P
from openpyxl import Workbook

from tests.rosters import HEADER, xlsx_bytes

GOOD_ROW = ["Ana", "Núñez", "1001", "C-100", "2024", "06/01/2024", "2"]


def far_cell_xlsx(cell: str = "XFD1048576", *, dimension: str | None = None) -> bytes:
    """The template's header and one value at ``cell``: ~5 KB. ``dimension`` rewrites the
    sheet's declared <dimension ref> (a lying one hides the far cell from a first look)."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(GOOD_ROW)
    sheet[cell] = "x"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if dimension is None:
        return data
    return rewrite_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), xml
        ),
    )


def rewrite_member(data: bytes, name: str, change) -> bytes:  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, change(content) if item.filename == name else content)
    return out.getvalue()


def _deflate_repeated(head: bytes, block: bytes, times: int, tail: bytes) -> tuple[bytes, int]:
    """A raw deflate stream of head + block * times + tail, and its unpacked size: the block
    is compressed once after a full flush (no reference reaches back), then repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    middle = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush(zlib.Z_FINISH)
    return start + middle * times + end, len(head) + len(block) * times + len(tail)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of already deflated members: (name, deflated, unpacked size, crc)."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, packed, size, crc in members:
        offset = out.tell()
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(encoded), 0
        )
        out.write(header + encoded + packed)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(packed),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0
        )
    )
    return out.getvalue()


def zip_bomb_xlsx(unpacked: int = 3_900_000_000, *, declared: int | None = None) -> bytes:
    """A real roster workbook whose sheet XML inflates to ``unpacked`` bytes (3.9 GB: a few
    MB of file). ``declared`` sets the size its directory claims (a lie hides the bomb)."""
    template = zipfile.ZipFile(io.BytesIO(xlsx_bytes([GOOD_ROW])))
    sheet_xml = template.read("xl/worksheets/sheet1.xml")
    head, _, tail = sheet_xml.partition(b"</sheetData>")
    head = head.replace(b'<dimension ref="A1:G2" />', b"")
    row = b'<row><c t="inlineStr"><is><t>Ana</t></is></c><c><v>1</v></c></row>'
    block = row * (4 * 1024 * 1024 // len(row))
    times = max(1, (unpacked - len(head) - len(tail)) // len(block))
    packed, size = _deflate_repeated(head, block, times, b"</sheetData>" + tail)
    members = []
    for item in template.infolist():
        if item.filename == "xl/worksheets/sheet1.xml":
            claimed = size if declared is None else declared
            members.append((item.filename, packed, min(claimed, 0xFFFFFFFE), 0))
        else:
            content = template.read(item.filename)
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            deflated = packer.compress(content) + packer.flush()
            members.append((item.filename, deflated, len(content), zlib.crc32(content)))
    return _zip(members)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 60_000) -> bytes:
    """A black 1-bit PNG of ``side`` × ``side`` pixels (3.6 gigapixels from 60,000): a few
    hundred KB of file that decodes to gigabytes."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    rows_a_block = 200
    packer = zlib.compressobj(9)
    first = packer.compress(row * rows_a_block) + packer.flush(zlib.Z_FULL_FLUSH)  # with header
    block = packer.compress(row * rows_a_block) + packer.flush(zlib.Z_FULL_FLUSH)
    # The end checksum covers only what the packer saw: a decoder fails at the very end,
    # after it has allocated everything.
    packed = first + block * (side // rows_a_block - 1) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", packed)
        + _png_chunk(b"IEND", b"")
    )


def encrypted_xlsx(password: str = "secret") -> bytes:
    """A roster saved with a password, as Excel does (an OLE container, not a zip)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx_bytes([GOOD_ROW]))).encrypt(password, out)
    return out.getvalue()


def csv_with_nul() -> bytes:
    rows = ",".join(HEADER) + "\n" + (",".join(GOOD_ROW) + "\n") * 300
    return rows.encode() + b"Ana,N\x00\x00ez,1001,C-100,2024,06/01/2024,2\n"


def truncated_xlsx() -> bytes:
    data = xlsx_bytes([GOOD_ROW] * 50)
    return data[: len(data) // 2]


def xls_bytes(rows: list[list[object]], header: list[str] = HEADER, sheet: str = "Roster") -> bytes:
    """A real Excel 97–2003 workbook (xlwt), dates written as dates."""
    book = xlwt.Workbook()
    grid = book.add_sheet(sheet)
    dated = xlwt.easyxf(num_format_str="MM/DD/YYYY")
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if isinstance(value, date):
                grid.write(r, c, value, dated)
            elif value is not None:
                grid.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def far_cell_xls() -> bytes:
    """The header and one value at the last cell an .xls holds (IV65536)."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("Roster")
    for c, value in enumerate(HEADER):
        sheet.write(0, c, value)
    sheet.write(65535, 255, "x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(
    rows: list[list[object]],
    header: list[str] = HEADER,
    *,
    tail: bool = True,
    sheet: str = "Roster",
) -> bytes:
    """A real OpenDocument spreadsheet (odfpy); ``tail`` adds the million empty repeated rows
    LibreOffice writes below the data."""
    document = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for values in [header, *rows]:
        row = TableRow()
        for value in values:
            if value is None:
                cell = TableCell()
            elif isinstance(value, bool):
                cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
            elif isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            elif isinstance(value, date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
            else:
                cell = TableCell(valuetype="string")
            if value is not None:
                cell.addElement(
                    P(text=str(value).upper() if isinstance(value, bool) else str(value))
                )
            row.addElement(cell)
        table.addElement(row)
    if tail:
        empty = TableRow(numberrowsrepeated=1_048_000)
        empty.addElement(TableCell(numbercolumnsrepeated=1024))
        table.addElement(empty)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def repeated_cell_ods() -> bytes:
    """An .ods whose one written cell is repeated 16,384 columns × 1,048,576 rows."""
    document = OpenDocumentSpreadsheet()
    table = Table(name="Roster")
    header = TableRow()
    for value in HEADER:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=value))
        header.addElement(cell)
    table.addElement(header)
    row = TableRow(numberrowsrepeated=1_048_575)
    cell = TableCell(valuetype="float", value=1, numbercolumnsrepeated=16_384)
    cell.addElement(P(text="1"))
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def many_lines_csv(lines: int = 5_000_000) -> bytes:
    return (",".join(HEADER) + "\n").encode() + b"\n" * lines


def huge_page_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(14_400, 14_400))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.text(10, 20, "Certificate")
    raw = bytes(pdf.output())
    # Past the standard's largest page: a 2,000,000-point MediaBox.
    return raw.replace(b"/MediaBox [0 0 14400.00 14400.00]", b"/MediaBox [0 0 2000000 2000000]")


def small_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, format="PNG")
    return out.getvalue()


def spin(data: bytes, filename: str) -> None:
    """A reader that never ends, as a decoder stuck on a crafted file would (run in the child)."""
    while True:
        pass
