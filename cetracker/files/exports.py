"""Exports of exactly the rows a report shows: CSV, Excel and PDF (SPEC §3).

Spreadsheet formulas are neutralised: a text cell starting with ``=``, ``+``,
``-`` or ``@`` is written as text (CSV: prefixed with an apostrophe; Excel: a
string cell, never a formula).
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter
from fpdf import FPDF

from cetracker import config
from cetracker.files import fonts

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text that a spreadsheet would read as a formula, made plain text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: object) -> object:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return int(value) if value.is_integer() else round(value, 4)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def to_csv(df: pd.DataFrame) -> bytes:
    """CSV text (UTF-8, header row, minimal quoting) of every row of ``df``.

    Written by DuckDB from the frame (200,000 rows in well under a second); the
    SELECT neutralises formulas and writes whole hours without a trailing ".0".
    """
    import duckdb
    import pandas as pd

    header = ",".join(_csv_field(str(c)) for c in df.columns) + "\n"
    if df.empty:
        return header.encode()
    columns = []
    for i, name in enumerate(df.columns):
        ref = f'"c{i}"'
        column = df[name]
        if pd.api.types.is_bool_dtype(column):
            expr = f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' END"
        elif pd.api.types.is_float_dtype(column):
            expr = (
                f"CASE WHEN {ref} = trunc({ref}) AND abs({ref}) < 1e15 "
                f"THEN CAST(CAST({ref} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST(round({ref}, 4) AS VARCHAR) END"
            )
        elif pd.api.types.is_datetime64_any_dtype(column):
            expr = (
                f"CASE WHEN {ref} = date_trunc('day', {ref}) THEN strftime({ref}, '%Y-%m-%d')"
                f" ELSE strftime({ref}, '%Y-%m-%dT%H:%M:%S') END"
            )
        elif pd.api.types.is_numeric_dtype(column):
            expr = f"CAST({ref} AS VARCHAR)"
        else:
            text = f"CAST({ref} AS VARCHAR)"
            quote = "''''"  # an SQL string holding one apostrophe
            expr = (
                f"CASE WHEN left({text}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                f"THEN {quote} || {text} ELSE {text} END"
            )
        columns.append(f'{expr} AS "c{i}"')
    frame = df.copy(deep=False)
    frame.columns = [f"c{i}" for i in range(len(df.columns))]
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "out.csv"
            con.execute(
                f"COPY (SELECT {', '.join(columns)} FROM frame) TO '{target}' "  # noqa: S608
                "(HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"
            )
            return header.encode() + target.read_bytes()
    finally:
        con.close()


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_xlsx(df: pd.DataFrame, title: str = "Report", subtitle: str = "") -> bytes:
    """An Excel workbook: styled, frozen header row, sensible column widths."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "constant_memory": True,
        },
    )
    sheet = book.add_worksheet(title[:31] or "Report")
    header = book.add_format(
        {"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "border": 1}
    )
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, name in enumerate(df.columns):
        sheet.write_string(0, col, str(name), header)
        sample = df[name].astype(str).head(200).str.len()
        width = max(len(str(name)), int(sample.max()) if len(sample) else 0)
        sheet.set_column(col, col, min(max(width + 2, 8), 60))
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(df.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(row):
            if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, pd.Timestamp | datetime | date):
                sheet.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), date_fmt)
            else:
                sheet.write_string(r, c, str(value))
    if subtitle:
        book.set_properties({"title": title, "subject": subtitle})
    book.close()
    return out.getvalue()


class ReportPDF(FPDF):
    """A report page: title, filters and date on top, page numbers at the bottom."""

    def __init__(self, title: str, subtitle: str, orientation: str = "L") -> None:
        super().__init__(orientation=orientation, format="Letter")
        fonts.add_fonts(self)
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
            f"{config.association_name()} · {self.report_subtitle} · "
            f"produced {config.today().isoformat()}",
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
            need[i] = max(need[i], *(pdf.get_string_width(str(_cell(v))) for v in sample))
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
            shown = str(_cell(value))
            if shown:
                pdf.text(x + 0.8, y + row_h - 1.1, fit(shown, width))
            x += width
        y += row_h
        pdf.line(pdf.l_margin, y, pdf.l_margin + usable, y)
    return bytes(pdf.output())
