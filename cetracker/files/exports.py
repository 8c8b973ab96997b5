"""Exports of exactly the rows a report shows: CSV, Excel and PDF (SPEC §3).

Spreadsheet formulas are neutralised: a text cell starting with ``=``, ``+``,
``-`` or ``@`` is written as text (CSV: prefixed with an apostrophe; Excel: a
string cell, never a formula).
"""

from __future__ import annotations

import io
import math
import numbers
import shutil
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from cetracker import config
from cetracker.files import fonts
from cetracker.rules.cells import written_day

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text that a spreadsheet would read as a formula, made plain text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _missing(value: object) -> bool:
    """None, NaN, NaT and pandas' NA: an empty cell."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _shown(value: object) -> str:
    """A value as the PDF prints it (a PDF runs no formulas: text is printed as given)."""
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"  # a page is read by people (the CSV keeps true/false)
    if isinstance(value, float | Decimal):
        number = float(value)
        return str(int(number)) if number.is_integer() else str(round(number, 4))
    if isinstance(value, date):  # a Timestamp too (the CSV keeps ISO)
        return written_day(value)
    return str(value)


def _csv_expression(ref: str, kind: str) -> str:
    """SQL writing one column's value as the CSV shows it (``kind``: bool, float, datetime,
    number or text): formulas neutralised, whole hours without a trailing ".0"."""
    if kind == "bool":
        return f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' END"
    if kind == "float":
        return (
            f"CASE WHEN {ref} = trunc({ref}) AND abs({ref}) < 1e15 "
            f"THEN CAST(CAST({ref} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST(round({ref}, 4) AS VARCHAR) END"
        )
    if kind == "datetime":
        return (
            f"CASE WHEN {ref} = date_trunc('day', {ref}) THEN strftime({ref}, '%Y-%m-%d')"
            f" ELSE strftime({ref}, '%Y-%m-%dT%H:%M:%S') END"
        )
    if kind == "number":
        return f"CAST({ref} AS VARCHAR)"
    text = f"CAST({ref} AS VARCHAR)"
    quote = "''''"  # an SQL string holding one apostrophe
    return (
        f"CASE WHEN left({text}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN {quote} || {text} ELSE {text} END"
    )


def _frame_kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_float_dtype(column):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    return "text"


def _sql_kind(name: str) -> str:
    if name == "BOOLEAN":
        return "bool"
    if name in ("DOUBLE", "FLOAT", "REAL") or name.startswith("DECIMAL"):
        return "float"
    if name == "DATE" or name.startswith("TIMESTAMP"):
        return "datetime"
    if name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UINTEGER", "UBIGINT"):
        return "number"
    return "text"


_COPY_OPTIONS = "(HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def to_csv(df: pd.DataFrame) -> bytes:
    """CSV text (UTF-8, header row, minimal quoting) of every row of ``df``.

    Written by DuckDB from the frame (200,000 rows in well under a second); the
    SELECT neutralises formulas and writes whole hours without a trailing ".0".
    """
    import duckdb

    header = ",".join(_csv_field(str(c)) for c in df.columns) + "\n"
    if df.empty:
        return header.encode()
    columns = [
        f"{_csv_expression(_quoted(f'c{i}'), _frame_kind(df[name]))} AS {_quoted(f'c{i}')}"
        for i, name in enumerate(df.columns)
    ]
    frame = df.copy(deep=False)
    frame.columns = [f"c{i}" for i in range(len(df.columns))]
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "out.csv"
            con.execute(
                f"COPY (SELECT {', '.join(columns)} FROM frame) TO '{target}' {_COPY_OPTIONS}"  # noqa: S608
            )
            return header.encode() + target.read_bytes()
    finally:
        con.close()


def query_to_csv(cur: Any, sql: str, params: Any, target: Path) -> None:
    """Write the rows of ``sql`` to ``target`` as ``to_csv`` writes a frame of them.

    DuckDB streams the rows from the query into the file: nothing is held in Python, so
    memory stays flat however many rows there are (a million members in about a second).
    """
    described = cur.execute(f"DESCRIBE {sql}", params).fetchall()
    names = [str(row[0]) for row in described]
    header = ",".join(_csv_field(n) for n in names) + "\n"
    renamed = ", ".join(f"{_quoted(n)} AS {_quoted(f'c{i}')}" for i, n in enumerate(names))
    columns = [
        f"{_csv_expression(_quoted(f'c{i}'), _sql_kind(str(row[1])))} AS {_quoted(f'c{i}')}"
        for i, row in enumerate(described)
    ]
    rows = target.with_name(f".{target.name}.rows")
    try:
        cur.execute(
            f"COPY (SELECT {', '.join(columns)} FROM (SELECT {renamed} FROM ({sql})))"  # noqa: S608 - composed of fixed SQL
            f" TO '{str(rows).replace(chr(39), chr(39) * 2)}' {_COPY_OPTIONS}",
            params,
        )
        with target.open("wb") as out, rows.open("rb") as body:
            out.write(header.encode())
            shutil.copyfileobj(body, out, 1 << 20)
    finally:
        rows.unlink(missing_ok=True)


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


MONEY_COLUMNS = frozenset({"amount_due", "amount_paid", "outstanding"})
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Excel's column width is in characters of the default font; a long address or title
# is cut at this width rather than pushing the rest of the sheet off screen.
MIN_WIDTH, MAX_WIDTH = 8, 60


def _xlsx_text_width(value: object) -> int:
    """How many characters a value takes in its cell, as Excel shows it."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, pd.Timestamp | datetime):
        return 16 if pd.Timestamp(value) != pd.Timestamp(value).normalize() else 10
    if isinstance(value, date):
        return 10
    if isinstance(value, numbers.Real):
        return len(f"{value:,.2f}") if isinstance(value, float) else len(f"{value:,}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(df: pd.DataFrame, sample: int = 200) -> list[int]:
    """A width per column from its header and the first ``sample`` values it holds.

    A column empty in every row is as wide as its header (a width taken from no values
    at all is no number: the cause of a failed export in the past).
    """
    widths = []
    for position, name in enumerate(df.columns):
        values = df.iloc[:sample, position]
        longest = max((_xlsx_text_width(v) for v in values if not _missing(v)), default=0)
        widths.append(min(max(len(str(name)), longest) + 2, MAX_WIDTH))
    return [max(w, MIN_WIDTH) for w in widths]


def to_xlsx(df: pd.DataFrame, title: str = "Report", subtitle: str = "") -> bytes:
    """An Excel workbook: styled, frozen header row, typed cells, sensible column widths.

    Numbers are number cells (money with two decimals), dates are date cells, true/false
    are boolean cells and text is always a text cell: a value starting with ``=`` stays
    the text it was, never a formula. Missing values are empty cells.
    """
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": True,
        },
    )
    sheet = book.add_worksheet(_sheet_name(title))
    header = book.add_format(
        {"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "border": 1}
    )
    date_fmt = book.add_format({"num_format": DATE_FORMAT})
    datetime_fmt = book.add_format({"num_format": DATETIME_FORMAT})
    money_fmt = book.add_format({"num_format": MONEY_FORMAT})
    money = [str(name) in MONEY_COLUMNS for name in df.columns]
    for col, (name, width) in enumerate(zip(df.columns, column_widths(df), strict=True)):
        sheet.set_column(col, col, width, money_fmt if money[col] else None)
        sheet.write_string(0, col, str(name), header)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(df.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(row):
            if _missing(value):
                continue
            if isinstance(value, bool | np.bool_):
                sheet.write_boolean(r, c, bool(value))
            elif isinstance(value, numbers.Real | Decimal):
                sheet.write_number(r, c, float(value), money_fmt if money[c] else None)
            elif isinstance(value, pd.Timestamp | datetime):
                stamp = pd.Timestamp(value)
                timed = stamp != stamp.normalize()
                sheet.write_datetime(
                    r,
                    c,
                    stamp.tz_localize(None).to_pydatetime(),
                    datetime_fmt if timed else date_fmt,
                )
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
            else:
                sheet.write_string(r, c, str(value))
    book.set_properties({"title": title, "subject": subtitle})
    book.close()
    return out.getvalue()


def _sheet_name(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip(" '")
    return cleaned[:31] or "Report"


class ReportPDF(fonts.PDF):
    """A report page: title, filters and date on top, page numbers at the bottom."""

    def __init__(self, title: str, subtitle: str, orientation: str = "L") -> None:
        super().__init__(orientation=orientation, format="Letter")
        self.report_title = title
        self.report_subtitle = subtitle
        self.set_auto_page_break(True, margin=15)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font(fonts.FAMILY, "B", 14)
        self.cell(0, 8, self.report_title, new_x="LMARGIN", new_y="NEXT")
        self.set_font(fonts.FAMILY, "", 8)
        self.multi_cell(
            0,
            4.5,
            " · ".join(
                part
                for part in (
                    config.association_name(),
                    self.report_subtitle,  # none on a page that is a certificate
                    f"produced {written_day(config.today())}",
                )
                if part
            ),
            align="L",  # fpdf2 justifies by default: a long line came out with gaps
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(fonts.FAMILY, "", 8)
        self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")


def _share_width(need: list[float], usable: float) -> list[float]:
    """Give every column what it needs; when that is too much, narrow only the widest."""
    if sum(need) <= usable:
        return [usable * n / sum(need) for n in need]
    low, high = 0.0, max(need)
    for _ in range(40):  # the cap at which the capped widths fill the page
        cap = (low + high) / 2
        low, high = (cap, high) if sum(min(n, cap) for n in need) < usable else (low, cap)
    return [min(n, low) for n in need]


def to_pdf(
    df: pd.DataFrame, title: str, subtitle: str = "", col_widths: Sequence[float] | None = None
) -> bytes:
    """A PDF table of every row; the header row repeats on each page.

    Drawn with fpdf2's plain text() calls rather than its table(): a table of
    thousands of rows would otherwise take many seconds. Long values are cut
    with "…" to fit their column.
    """
    pdf = ReportPDF(title, subtitle)
    pdf.add_page()
    if df.empty:
        pdf.set_font(fonts.FAMILY, "", 11)
        pdf.cell(0, 10, "No rows match these filters.")
        return bytes(pdf.output())
    size, row_h, pad = 7.5, 4.4, 1.6
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    labels = [str(c).replace("_", " ").capitalize() for c in df.columns]
    if col_widths:
        widths = [usable * w / sum(col_widths) for w in col_widths]
    else:
        pdf.set_font(fonts.FAMILY, "B", size)
        need = [pdf.get_string_width(label) for label in labels]
        pdf.set_font(fonts.FAMILY, "", size)
        for i, c in enumerate(df.columns):
            sample = df[c].head(200)
            need[i] = max(need[i], *(pdf.get_string_width(_shown(v)) for v in sample))
        need = [min(60.0, max(8.0, n + pad)) for n in need]
        widths = _share_width(need, usable)

    def fit(text: str, width: float) -> str:
        # Short values fit at a glance: no glyph is wider than 2 mm at this size.
        if len(text) * 2.0 <= width - pad or pdf.get_string_width(text) <= width - pad:
            return text
        while len(text) > 1 and pdf.get_string_width(text + "…") > width - pad:
            text = text[: max(1, int(len(text) * 0.9))] if len(text) > 12 else text[:-1]
        return text + "…"

    bottom = pdf.h - 16

    def header_row() -> float:
        y = pdf.get_y()
        pdf.set_fill_color(220, 230, 241)
        pdf.rect(pdf.l_margin, y, usable, row_h + 0.6, style="F")
        pdf.set_font(fonts.FAMILY, "B", size)
        x = pdf.l_margin
        for label, width in zip(labels, widths, strict=True):
            pdf.text(x + 0.8, y + row_h - 1.1, fit(label, width))
            x += width
        pdf.set_font(fonts.FAMILY, "", size)
        return y + row_h + 0.6

    pdf.set_draw_color(215, 215, 215)
    pdf.set_line_width(0.1)
    y = header_row()
    for row in df.itertuples(index=False, name=None):
        if y + row_h > bottom:
            pdf.add_page()
            y = header_row()
        x = pdf.l_margin
        for value, width in zip(row, widths, strict=True):
            shown = _shown(value)
            if shown:
                pdf.text(x + 0.8, y + row_h - 1.1, fit(shown, width))
            x += width
        y += row_h
        pdf.line(pdf.l_margin, y, pdf.l_margin + usable, y)
    return bytes(pdf.output())
