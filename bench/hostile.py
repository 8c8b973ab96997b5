"""Hostile files against the bounded readers: what each costs before its rejection (SPEC §5, §8).

    .venv/bin/python bench/hostile.py

For each file: its size, the peak resident memory of the child that read it (and of the one
that explained a crash), the seconds until the rejection, and the first words of the
message. Targets: every file rejected, under 1 GiB, within 60 s, this process alive.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cetracker import importer  # noqa: E402
from cetracker.errors import RejectedFile  # noqa: E402
from cetracker.files import bounded, uploads  # noqa: E402
from tests import hostile  # noqa: E402

ROSTERS = [
    ("far cell XFD1048576 (declared)", "far.xlsx", hostile.far_cell_xlsx),
    (
        "far cell, dimension lies A1:G2",
        "far2.xlsx",
        lambda: hostile.far_cell_xlsx(dimension="A1:G2"),
    ),
    ("zip bomb 3.9 GB sheet XML", "bomb.xlsx", hostile.zip_bomb_xlsx),
    ("zip bomb 1 GB sheet XML", "bomb1g.xlsx", lambda: hostile.zip_bomb_xlsx(1_000_000_000)),
    ("zip bomb, size lies (30 KB)", "bomb3.xlsx", lambda: hostile.zip_bomb_xlsx(declared=30_000)),
    ("corrupt (truncated) zip", "cut.xlsx", hostile.truncated_xlsx),
    ("password-protected (OLE)", "locked.xlsx", hostile.encrypted_xlsx),
    ("CSV with NUL bytes", "nul.csv", hostile.csv_with_nul),
    ("CSV of 5,000,000 lines", "lines.csv", hostile.many_lines_csv),
    (".xls, cell at IV65536", "far.xls", hostile.far_cell_xls),
    (".ods, a cell repeated 16384x1M", "rep.ods", hostile.repeated_cell_ods),
    ("web page named .xls", "page.xls", lambda: b"<html><table><tr><td>1</td></tr></table>"),
]
CERTIFICATES = [
    ("PNG bomb 60,000 x 60,000", "bomb.png", hostile.bomb_png),
    ("PDF page 27,778 in square", "huge.pdf", hostile.huge_page_pdf),
]


def main() -> int:
    print(f"{'file tried':<34} {'size':>9} {'peak':>9} {'time':>7}  message")
    bad = 0
    for label, name, make in [*ROSTERS, *CERTIFICATES]:
        data = make()
        started = time.perf_counter()
        try:
            if name.endswith((".png", ".pdf")):
                uploads.check_certificate_file(data, name)
            else:
                importer.read_roster(data, name)
            message = "NOT REJECTED"
            bad += 1
        except RejectedFile as exc:
            message = exc.message
        seconds = time.perf_counter() - started
        usage = bounded.last_usage()
        if usage.peak_bytes >= 2**30 or seconds >= 60:
            bad += 1
        print(
            f"{label:<34} {len(data) / 2**20:>6.2f} MB {usage.peak_bytes / 2**20:>5.0f} MiB"
            f" {seconds:>6.2f}s  {message[:90]}"
        )
    print("this process: alive" + ("" if not bad else f"; {bad} file(s) missed a target"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
