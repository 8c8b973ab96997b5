"""Every file a person sends, read safely: cheap checks here, the reading in a bounded child.

Rosters (Upload Roster, ``cetracker import``), the office's workbook
(``cetracker load``) and certificate files of self-reports all come through
here. The size limit is checked in this process; everything that parses the
file's content runs in ``cetracker.files.bounded``'s child, limited to
``bounded.MEMORY_LIMIT`` of memory and ``bounded.TIME_LIMIT`` seconds, so that
no file can stop the app for other users (SPEC §5, §8).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PurePath

from cetracker import config
from cetracker.errors import RejectedFile
from cetracker.files import bounded
from cetracker.files.spreadsheets import ALL_SUFFIXES, EXCEL_SUFFIXES, Sheet

SPREADSHEET_TYPES = ".xlsx, .xlsm, .xls (Excel 97–2003), .ods (LibreOffice) or .csv"


def limit_mb() -> float:
    """The one upload size limit, in MB, as every page and message states it."""
    return config.max_upload_bytes() / 1_048_576


def limit_text() -> str:
    mb = limit_mb()
    return f"{mb:.0f} MB" if mb >= 1 else f"{mb * 1024:.0f} KB"


def uploader_limit_mb() -> int:
    """The limit for Streamlit's uploader, which takes whole megabytes."""
    return max(1, math.ceil(limit_mb()))


def check_size(data: bytes, filename: str, what: str = "file") -> None:
    if len(data) == 0:
        raise RejectedFile(
            f"{filename} is empty (0 bytes). Choose the filled {what} and try again."
        )
    if len(data) > config.max_upload_bytes():
        raise RejectedFile(
            f"{filename} is {len(data) / 1_048_576:.1f} MB, more than the {limit_text()} limit. "
            f"Split the {what} into smaller files and upload each."
        )


def check_spreadsheet_name(filename: str) -> None:
    if PurePath(filename).suffix.lower() not in ALL_SUFFIXES:
        raise RejectedFile(
            f"{filename} is not a file type CE Tracker reads. Save the roster as "
            f"{SPREADSHEET_TYPES}, and upload that file."
        )


def _explain(data: bytes, filename: str) -> str | None:
    """Why a child ran out of memory on this file, looked for in a child of its own."""
    try:
        found: str | None = bounded.run("diagnose", data, filename, seconds=30)
    except RejectedFile:
        return None
    return found


def start_roster_sheet(data: bytes, filename: str, wanted: Sequence[str]) -> bounded.Started:
    """The first visible sheet (or the CSV) of an upload, with the ``wanted`` columns only,
    begun: the cheap checks now (they raise here), the reading in its child while the
    caller goes on; ``result()`` is the ``Sheet``."""
    check_spreadsheet_name(filename)
    check_size(data, filename, "roster")
    return bounded.Started(
        "first_sheet", data, filename, list(wanted), on_memory=lambda: _explain(data, filename)
    )


def read_workbook_sheets(
    data: bytes, filename: str, wanted: dict[str, Sequence[str]]
) -> dict[str, Sheet]:
    """The named sheets of the office's workbook (``cetracker load``), each with its columns.

    No upload size limit here (the office's own lists may be large); the child's memory
    and time limits still hold.
    """
    if PurePath(filename).suffix.lower() not in EXCEL_SUFFIXES:
        raise RejectedFile(
            f"{filename} is not a workbook CE Tracker reads. Save it as .xlsx, .xlsm, .xls or "
            ".ods and load that file."
        )
    if not data:
        raise RejectedFile(f"{filename} is empty (0 bytes). Load the filled workbook.")
    sheets: dict[str, Sheet] = bounded.run(
        "sheets",
        data,
        filename,
        {k: list(v) for k, v in wanted.items()},
        on_memory=lambda: _explain(data, filename),
    )
    return sheets


def check_certificate_file(data: bytes, filename: str) -> str:
    """The certificate file's type ("application/pdf", "image/png", "image/jpeg"), judged by
    its content, after checking it can be opened within bounds: an image's declared pixel
    size before it is decoded (a decompression bomb), a PDF's pages and their size.
    """
    check_size(data, filename, "certificate")
    mime: str = bounded.run("picture", data, filename, seconds=30)
    return mime


def preview_certificate(data: bytes, mime: str, limit: int = 3) -> list[bytes]:
    """The certificate as at most ``limit`` PNG pictures of bounded size, for the screen
    (PDF pages rendered, photos scaled down); [] when it cannot be shown."""
    try:
        pictures: list[bytes] = bounded.run("preview", data, "certificate", mime, limit, seconds=30)
    except RejectedFile:
        return []
    return pictures
