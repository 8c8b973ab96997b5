"""The Unicode font for every PDF, parsed once per process.

fpdf2's core fonts cannot print "Nguyễn" or "Łukasz"; Noto Sans (from the
``fontpkg-noto-sans`` package, so nothing downloads) can. It is a variable font,
and cutting the bold instance out of it takes seconds, so the bold face is cut
once and kept as a static font file in a cache folder; each PDF then gets a
copy of the fonts parsed once per process (fpdf2 subsets the font it is given
in place, so PDFs must not share one).
"""

from __future__ import annotations

import copy
import fcntl
import os
import stat
import tempfile
from functools import cache
from pathlib import Path

import fontpkg_noto_sans
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

FAMILY = "Noto"


def font_path() -> Path:
    return Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"


def _bold_path() -> Path:
    folder = _font_folder()
    bold = folder / f"NotoSans-Bold-{font_path().stat().st_size}.ttf"
    if bold.exists():
        return bold
    # One process cuts it (1.6 s of a core); the others that want it meanwhile (the app's
    # server, a command, test workers on a new machine) wait for that one's file.
    lock = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not bold.exists():
            _cut_bold(bold)
    finally:
        os.close(lock)  # and with it the lock
    return bold


def _font_folder() -> Path:
    """This user's cache folder for the cut font, readable by nobody else. In the shared
    temporary folder another user could have made one by that name first (a link in it
    then led the lock or the font elsewhere): this process then cuts into a folder of its
    own."""
    folder = Path(tempfile.gettempdir()) / f"cetracker-fonts-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = folder.lstat()
        if stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid():
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="cetracker-fonts-"))


# The tables of OpenType layout: only text shaping reads them, which these PDFs do not turn
# on (``FPDF.set_text_shaping``: the regular face would keep them, the bold not), and
# fpdf2 drops them from every font it embeds. Cutting a bold face with them took
# 8 s of a core (their kerning is variable too); without them, under 2.
_LAYOUT_TABLES = ("GDEF", "GPOS", "GSUB")


def _cut_bold(bold: Path) -> None:
    """Cut the bold instance out of the variable font into ``bold`` (written whole, then
    renamed: a reader never sees part of it, and a cut that fails leaves no part behind)."""
    from fontTools.varLib import instancer

    partial = bold.with_name(f".{bold.name}.{os.getpid()}")
    # (recalcTimestamp off: the same file, and the same PDFs, on every machine)
    with ttLib.TTFont(str(font_path()), recalcTimestamp=False) as font:  # closes the source
        for table in _LAYOUT_TABLES:
            if table in font:
                del font[table]
        instancer.instantiateVariableFont(font, {"wght": 700.0}, inplace=True, static=True)
        try:
            font.save(str(partial))
            partial.replace(bold)
        finally:
            partial.unlink(missing_ok=True)


@cache
def _parsed() -> dict[str, TTFFont]:
    pdf = FPDF()
    pdf.add_font(FAMILY, "", str(font_path()))
    pdf.add_font(FAMILY, "B", str(_bold_path()))
    return {k: f for k, f in pdf.fonts.items() if isinstance(f, TTFFont)}


def add_fonts(pdf: FPDF) -> None:
    """Give ``pdf`` the Noto regular and bold faces (family ``"Noto"``).

    fpdf2's copy of a font shares its fontTools object, which the subsetter cuts
    down in place when a PDF is written; each PDF gets its own (lazily read) one.
    """
    for key, font in copy.deepcopy(_parsed()).items():
        font.ttfont = ttLib.TTFont(font.ttffile, recalcTimestamp=False, lazy=True)
        pdf.fonts[key] = font
