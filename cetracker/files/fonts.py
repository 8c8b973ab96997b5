"""The Unicode fonts of every PDF, parsed once per process, and the PDF that writes with them.

fpdf2's core fonts cannot print "Nguyễn" or "Łukasz"; Noto Sans (from the
``fontpkg-noto-sans`` package, so nothing downloads) can. It is a variable font,
and cutting the bold instance out of it takes seconds, so the bold face is cut
once and kept as a static font file in a cache folder; each PDF then gets a
copy of the fonts parsed once per process (fpdf2 subsets the font it is given
in place, so PDFs must not share one).

Noto Sans holds Latin, Greek, Cyrillic and Devanagari letters, but no Arabic, Hebrew or
Thai ones: Noto Sans Arabic, Hebrew and Thai (``fontpkg-noto-sans-arabic``,
``pylopdf-fonts-he``, ``fontpkg-noto-sans-thai``) stand in for them, their regular and
bold faces cut the same way.
These scripts are written right to left, or with letters joined and reordered: text
holding them goes through a shaping engine (HarfBuzz, ``uharfbuzz``); the rest is
written as it is (``PDF``). Scripts with no face here (Chinese, Japanese, Korean and
others) and emoji are left out by fpdf2, which logs the characters it could not
write.
"""

from __future__ import annotations

import copy
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import fontpkg_noto_sans
import fontpkg_noto_sans_arabic
import fontpkg_noto_sans_thai
import pylopdf_fonts_he
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

FAMILY = "Noto"
SHAPED_FAMILY = "NotoShaped"  # the same faces, for shaped text (``PDF._shaped``)


def _arabic() -> Path:
    return Path(fontpkg_noto_sans_arabic.ROOT) / "files" / "NotoSansArabic[wdth,wght].ttf"


def _hebrew() -> Path:
    return Path(pylopdf_fonts_he.sans_path())


def _thai() -> Path:
    return Path(fontpkg_noto_sans_thai.ROOT) / "files" / "NotoSansThai[wdth,wght].ttf"


# The letters each stand-in face holds that Noto Sans does not, by family.
_LETTERS = {
    "NotoArabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefe",
    "NotoHebrew": "\u0590-\u05ff\ufb1d-\ufb4f",
    "NotoThai": "\u0e00-\u0e7f",
}
_NEEDS = {family: re.compile(f"[{letters}]") for family, letters in _LETTERS.items()}
# The scripts these fonts hold that are written right to left, or whose letters join or
# reorder: the stand-ins' and Devanagari (in Noto Sans). A script with no face here takes
# fpdf2's own way, which leaves its letters out and logs them.
_SHAPED = re.compile(f"[\u0900-\u097f{''.join(_LETTERS.values())}]")


def font_path() -> Path:
    return Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"


def _instance(source: Path, weight: int, dropped: tuple[str, ...] = ()) -> Path:
    """A static face of the variable font ``source`` at ``weight``, without the tables
    ``dropped``: cut once per machine and kept in this user's font folder."""
    folder = _font_folder()
    face = (
        folder / f"{source.stem}-{weight}-{'-'.join(dropped) or 'all'}-{source.stat().st_size}.ttf"
    )
    if face.exists():
        return face
    # One process cuts it (0.3-1.8 s of a core); the others that want it meanwhile (the
    # app's server, a command, test workers on a new machine) wait for that one's file.
    lock = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not face.exists():
            _cut(source, weight, dropped, face)
    finally:
        os.close(lock)  # and with it the lock
    return face


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


# Noto Sans Bold leaves out the positioning table of OpenType layout: its kerning is
# variable, and cutting a bold face with it took 5-8 s of a core, without it under 2.
# Shaping (of Indic text) still finds its letters' joined forms (GSUB); fpdf2 drops the
# layout tables from every font it embeds.
_BOLD_DROPPED = ("GPOS",)


def _bold_path() -> Path:
    return _instance(font_path(), 700, _BOLD_DROPPED)


def _cut(source: Path, weight: int, dropped: tuple[str, ...], face: Path) -> None:
    """Cut the instance at ``weight`` out of the variable font ``source`` into ``face``
    (written whole, then renamed: a reader never sees part of it, and a cut that fails
    leaves no part behind)."""
    from fontTools.varLib import instancer

    partial = face.with_name(f".{face.name}.{os.getpid()}")
    # (recalcTimestamp off: the same file, and the same PDFs, on every machine)
    with ttLib.TTFont(str(source), recalcTimestamp=False) as font:  # closes the source
        for table in dropped:
            if table in font:
                del font[table]
        axes = {axis.axisTag for axis in font["fvar"].axes}
        at = {"wght": float(weight), **({"wdth": 100.0} if "wdth" in axes else {})}
        # (the names say the weight cut: "Noto Sans Hebrew Regular", not its default "Thin")
        instancer.instantiateVariableFont(font, at, inplace=True, static=True, updateFontNames=True)
        try:
            font.save(str(partial))
            partial.replace(face)
        finally:
            partial.unlink(missing_ok=True)


# The faces that write what Noto Sans cannot (fpdf2's fallback fonts): family, then the
# regular and the bold face. (Noto Sans Hebrew's own default is its thinnest weight.)
_STAND_INS: dict[str, tuple[Callable[[], Path], Callable[[], Path]]] = {
    "NotoArabic": (_arabic, lambda: _instance(_arabic(), 700)),
    "NotoHebrew": (lambda: _instance(_hebrew(), 400), lambda: _instance(_hebrew(), 700)),
    "NotoThai": (_thai, lambda: _instance(_thai(), 700)),
}


@cache
def _parsed(family: str) -> dict[str, TTFFont]:
    """The regular and bold faces of ``family``, parsed once per process (a stand-in's
    only when a PDF first needs it)."""
    # (FAMILY and SHAPED_FAMILY are both Noto Sans)
    regular, bold = _STAND_INS.get(family) or (font_path, _bold_path)
    pdf = FPDF()
    pdf.add_font(family, "", str(regular()))
    pdf.add_font(family, "B", str(bold()))
    return {k: f for k, f in pdf.fonts.items() if isinstance(f, TTFFont)}


def add_fonts(pdf: FPDF, families: tuple[str, ...] = (FAMILY,)) -> None:
    """Give ``pdf`` the regular and bold faces of ``families`` (the Noto faces unless named).

    fpdf2's copy of a font shares its fontTools object, which the subsetter cuts
    down in place when a PDF is written; each PDF gets its own (lazily read) one.
    """
    for family in families:
        for key, font in copy.deepcopy(_parsed(family)).items():
            font.ttfont = ttLib.TTFont(font.ttffile, recalcTimestamp=False, lazy=True)
            # Its number in the PDF (/F1, /F2...), as add_font gives it.
            font.i = pdf.fonts[key].i if key in pdf.fonts else len(pdf.fonts) + 1
            if family == SHAPED_FAMILY:  # one name, one subset: the other copy's is Noto Sans's
                font.name = f"{font.name}Shaped"
            pdf.fonts[key] = font


def _needs_shaping(text: str) -> bool:
    return not text.isascii() and _SHAPED.search(text) is not None


class PDF(FPDF):
    """A PDF with these fonts that writes every script they hold.

    Text in a script that needs shaping (``_SHAPED``) is shaped, and ``text()`` hands it
    to a cell: fpdf2's ``text()`` writes with the current font alone and unshaped, so a
    Hebrew name came out blank. The faces that stand in for Noto Sans join the PDF with
    the first text that needs them (fpdf2 embeds every face it is given, used or not).
    Other text is written as fpdf2 writes it (shaping every string would slow a report of
    thousands of rows).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_fonts(self)
        self._families = {FAMILY}  # the families this PDF has been given

    @contextmanager
    def _shaped(self, text: str) -> Iterator[None]:
        """Write ``text`` in faces of their own (Noto Sans under another name: in one face
        with unshaped text, fpdf2 gave the two the same character codes, and a copy of the
        text out of the PDF read "imman" for "Harris"), shaped, with the stand-ins. All
        three only meanwhile: with fallback fonts set, fpdf2 measures and writes all other
        text the slow way (a third more time per string)."""
        needed = [SHAPED_FAMILY, *(f for f, needs in _NEEDS.items() if needs.search(text))]
        new = tuple(f for f in needed if f not in self._families)
        add_fonts(self, new)
        self._families.update(new)
        was = self.font_family, self.font_style, self.font_size_pt, self.text_shaping
        was_fallback = self._fallback_font_ids
        self.set_font(SHAPED_FAMILY, self.font_style, self.font_size_pt)
        self.set_fallback_fonts([f for f in _STAND_INS if f in self._families])
        self.set_text_shaping(True)
        try:
            yield
        finally:
            self._fallback_font_ids = was_fallback
            self.text_shaping = was[3]
            self.set_font(*was[:3])

    def add_page(self, *args: Any, **kwargs: Any) -> None:
        # A page started in the middle of a shaped cell draws its header and footer as
        # any other text: unshaped, without stand-ins (add_page keeps the font itself).
        was = self.text_shaping, self._fallback_font_ids
        self.text_shaping, self._fallback_font_ids = None, []
        try:
            super().add_page(*args, **kwargs)
        finally:
            self.text_shaping, self._fallback_font_ids = was

    def cell(self, w: Any = None, h: Any = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        if not _needs_shaping(text):
            return super().cell(w, h, text, *args, **kwargs)
        with self._shaped(text):
            return super().cell(w, h, text, *args, **kwargs)

    def multi_cell(self, w: Any, h: Any = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        if not _needs_shaping(text):
            return super().multi_cell(w, h, text, *args, **kwargs)
        with self._shaped(text):
            return super().multi_cell(w, h, text, *args, **kwargs)

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        if not _needs_shaping(s):
            return super().get_string_width(s, normalized, markdown)
        with self._shaped(s):
            return super().get_string_width(s, normalized, markdown)

    def text(self, x: float, y: float, text: str = "") -> None:
        if not _needs_shaping(text):
            super().text(x, y, text)
            return
        # A cell of the font's height puts its baseline 0.8 of the size below its top
        # (fpdf2: half the height, and 0.3 of the size), where text() puts its own.
        size = self.font_size
        was = self.x, self.y, self.c_margin, self.auto_page_break
        self.c_margin, self.auto_page_break = 0, False
        try:
            # (not set_xy: it counts a negative x from the right edge, text() does not)
            self.x, self.y = x, y - 0.8 * size
            self.cell(self.get_string_width(text), size, text)
        finally:
            self.c_margin, self.auto_page_break = was[2], was[3]
            self.x, self.y = was[0], was[1]
