"""Exports of exactly the rows a report shows: CSV, Excel and PDF (SPEC §3).

Spreadsheet formulas are neutralised: a text cell starting with ``=``, ``+``,
``-`` or ``@`` is written as text (CSV: prefixed with an apostrophe; Excel: a
string cell, never a formula).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
import xlsxwriter
from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from cetracker import config, fonts

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
    """CSV text (UTF-8, header row, minimal quoting) of every row of ``df``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(df.columns))
    cell = _cell
    for row in df.itertuples(index=False, name=None):
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8")


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
            f"produced {date.today().isoformat()}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(fonts.FAMILY, "", 8)
        self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")


def to_pdf(
    df: pd.DataFrame, title: str, subtitle: str = "", col_widths: Sequence[int] | None = None
) -> bytes:
    """A PDF table of every row; the header row repeats on each page."""
    pdf = ReportPDF(title, subtitle)
    pdf.add_page()
    pdf.set_font(fonts.FAMILY, "", 7.5)
    if df.empty:
        pdf.set_font(fonts.FAMILY, "", 11)
        pdf.cell(0, 10, "No rows match these filters.")
        return bytes(pdf.output())
    widths = col_widths or [
        max(6, min(40, max(len(str(c)), int(df[c].astype(str).head(300).str.len().max()))))
        for c in df.columns
    ]
    with pdf.table(
        col_widths=tuple(widths),
        line_height=4.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(220, 230, 241)),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        text_align="LEFT",
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        head = table.row()
        for name in df.columns:
            head.cell(str(name).replace("_", " ").capitalize())
        for row in df.itertuples(index=False, name=None):
            cells = table.row()
            for value in row:
                shown = _cell(value)
                cells.cell(str(shown))
    return bytes(pdf.output())
