"""Reading spreadsheet cells as people type them (SPEC §5).

Every value is first turned into trimmed text or a real date, then validated:
a reader's type guessing never silently blanks "2 hrs". A value that cannot be
read gets a reason that says how to write it (``number_problem``,
``date_problem``); an Excel error such as ``#REF!`` is named as such, and long
values are cut (``shorten``) so that a reason stays readable.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers of 1900-01-01 .. 9999-12-31; text that looks like one is read as one too.
_SERIAL_RANGE = (1, 2958465)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
# "1,234.5": thousands grouped by commas AND a decimal point, so no other reading exists.
_US_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+\.\d+$")
# "1,000" or "12,500": a thousands separator to an American, a decimal comma to a European.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")
# "1,5" or "1.000,5": a decimal comma, perhaps with points grouping the thousands.
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
# What Excel (and LibreOffice) show in a cell whose formula failed.
EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#UNKNOWN!",
        "#BUSY!",
        "#EXTERNAL!",
        "#PYTHON!",
        "Err:502",  # LibreOffice's own codes, as its CSV export writes them
        "Err:504",
        "Err:508",
        "Err:522",
    }
)
# Excel keeps at most this many characters in a cell; a longer value is not a typed one.
CELL_LIMIT = 32_767
# A reason names the value it is about; a value longer than this is cut with "…".
QUOTE_LIMIT = 40
REASON_LIMIT = 200
# Letters that have no accent to strip but are written without one in plain ASCII.
_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ß": "ss",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŧ": "t",
        "Ŧ": "T",
    }
)


def normalise_header(name: object) -> str:
    """Header match ignores case, spaces and punctuation: "CE-Hours " == "cehours"."""
    return re.sub(r"[^0-9a-z]", "", str(name or "").lower())


def text(value: object) -> str:
    """A cell as the text a person typed: trimmed; 12345.0 read as "12345"."""
    if type(value) is str:  # the common case first: rosters are mostly text
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def written_day(value: date) -> str:
    """A date, or a moment, as CE Tracker writes it for people (pages, PDFs, the audit
    log's words): 03/01/2024, and 03/01/2024 14:05 when it has a time of day. Files for
    other programs (CSV, rosters) keep ISO."""
    if isinstance(value, datetime) and value.time() != datetime.min.time():
        return f"{value:%m/%d/%Y %H:%M}"
    return f"{value:%m/%d/%Y}"


def shorten(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, the cut marked with "…"."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def quote(value: object) -> str:
    """A cell's text as a reason quotes it: “like this”, cut to a readable length."""
    return f"“{shorten(text(value), QUOTE_LIMIT)}”"


def excel_error(value: object) -> str | None:
    """The error a cell shows ("#REF!", "#N/A", …) when its formula failed; else None."""
    if type(value) is not str or not value or value.lstrip()[:1] not in ("#", "E"):
        return None
    found = value.strip()
    return found if found in EXCEL_ERRORS else None


def error_reason(column: str, error: str) -> str:
    return (
        f"{column}: the cell holds the Excel error {error} (its formula failed); type the "
        "value itself or fix the formula"
    )


def date_problem(value: object, column: str) -> str:
    """Why a non-blank cell is not a date, in words that say how to write one."""
    if error := excel_error(value):
        return error_reason(column, error)
    return f"{column} {quote(value)} is not a date (use MM/DD/YYYY or YYYY-MM-DD)"


def number_problem(value: object, column: str) -> str:
    """Why a non-blank cell is not a number: an Excel error, an ambiguous comma ("1,5"
    is 1.5 to some and 15 to others: never guessed), or text that is no number."""
    if error := excel_error(value):
        return error_reason(column, error)
    raw = text(value)
    sign = "-" if raw.startswith("-") else ""
    digits = raw.lstrip("+-")
    if _GROUPED.match(raw):
        whole = digits.replace(",", "")
        european = digits.replace(",", ".").rstrip("0").rstrip(".")
        return (
            f"{column} {quote(value)} is ambiguous: write {sign}{whole}, or {sign}{european} if "
            "the comma marks decimals (no thousands separators; a point for decimals)"
        )
    if _DECIMAL_COMMA.match(raw):
        plain = digits.replace(".", "").replace(",", ".")
        return (
            f"{column} {quote(value)} is ambiguous: write {sign}{plain} (a point for decimals, "
            "no thousands separators)"
        )
    return f"{column} {quote(value)} is not a number"


def parse_date(value: object) -> date | None:
    """A real Excel date, an Excel serial number, YYYY-MM-DD or MM/DD/YYYY; else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_serial(float(value))
    raw = text(value)
    try:
        if m := _ISO.match(raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _US.match(raw):
            return date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError:
        return None
    if _NUMBER.match(raw):
        return _from_serial(float(raw))
    return None


def _from_serial(serial: float) -> date | None:
    if not float(serial).is_integer() or not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        return None
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_number(value: object) -> Decimal | None:
    """A number or numeric text ("1.5", " 2 ", "1,234.5"); anything else None.

    A comma is read only where nothing else could be meant ("1,234.5"): "1,5" and
    "1,000" are None, and ``number_problem`` says how to write them.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    raw = text(value)
    if "," in raw and _US_GROUPED.match(raw):
        raw = raw.replace(",", "")
    if not _NUMBER.match(raw):
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_int(value: object) -> int | None:
    number = parse_number(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


# What a license number's comparison key leaves out (SPEC §2, §5): every kind of space
# (all that ``str.isspace`` knows, so a pasted no-break space counts), the invisible
# characters that come with text copied from a web page, and every dash.
_LICENSE_KEY_DROPS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
)
_LICENSE_KEY = str.maketrans("", "", _LICENSE_KEY_DROPS)


def lower_as_sql(text: str) -> str:
    """``text`` lowered letter by letter, as SQL's ``lower()`` does (Unicode's simple
    lowercase; ``tests/test_cells.py`` compares every code point with DuckDB's). Python's
    own ``str.lower`` makes "İ" two letters and a word's last "Σ" a "ς", so a key made by
    it and the same key made in SQL differed."""
    if text.isascii():
        return text.lower()
    return "".join(letter.lower()[0] for letter in text)


def upper_as_sql(text: str) -> str:
    """``text`` raised letter by letter, as SQL's ``upper()`` does (see ``lower_as_sql``):
    Python's own ``str.upper`` makes "ß" "SS" where SQL makes it "ẞ"."""
    if text.isascii():
        return text.upper()
    return "".join(map(_upper_letter, text))


def _upper_letter(letter: str) -> str:
    """One letter's simple uppercase: one letter, where ``str.upper`` may give two."""
    upper = letter.upper()
    if len(upper) == 1:
        return upper
    title = letter.title()  # "ᾳ": "ᾼ", as SQL raises it
    return title if len(title) == 1 else {"ß": "ẞ"}.get(letter, letter)


def license_key(value: object) -> str:
    """A license number's comparison key: no spaces or dashes, upper case ("tx-10 001" →
    "TX10001"). The one maker of the key: stored beside the number as written, compared by
    every look-up (forms, workbook load, roster import, sign-up, command line)."""
    return text(value).translate(_LICENSE_KEY).upper()


@lru_cache(maxsize=65536)
def _name_key(value: str) -> str:
    if value.isascii():  # most names and every plain license number: nothing to fold
        return "".join(ch for ch in value.lower() if ch.isalnum())
    folded = unicodedata.normalize("NFKD", value.translate(_TRANSLITERATE))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def name_key(value: object) -> str:
    """Names compare ignoring case, accents, spaces and punctuation; Ø→O, Ł→L."""
    return _name_key(text(value))


# Below every letter and digit: "smith ann" sorts before "smithers ann".
SEARCH_KEY_SEPARATOR = " "


def search_key(first_name: object, last_name: object, license_number: object) -> str:
    """What a name search looks in, and the order lists of members are in: the last name,
    the first name and the license number, each folded by ``name_key``, kept apart.

    José Núñez, 100-003 → "nunez jose 100003": a search word (folded the same way, so it
    never holds the separator) is found inside one part, never across two. Sorted as
    text, the keys put Álvarez among the A's and de la Cruz among the D's, as a person
    looks for them (names as written put lower case and accented letters after Z).
    """
    parts = (last_name, first_name, license_number)
    return SEARCH_KEY_SEPARATOR.join(map(name_key, parts))


def name_order(alias: str = "", *, key: str = "search_key") -> str:
    """The terms of an ``ORDER BY`` that lists members by name: their ``search_key`` (or
    ``key``, a column holding it), then the license number as written, of the members
    table or the relation ``alias``. Two members' keys can fold alike ("TX.1005" and
    "TX1005" both fold to "tx1005"); the number as written is unique (its key is), so no
    two members tie and a list pages and exports the same way."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}{key}, {prefix}license_number"


def search_words(query: object) -> list[str]:
    """The words of a search box as ``name_key`` folds them; words of punctuation alone drop out."""
    return [w for w in map(name_key, text(query).split()) if w]


def search_terms(query: object) -> tuple[list[str], str]:
    """A search box's text as (words, number), the one name-search rule (issue 17).

    Each word without a digit must be part of a name or of the license number. The words
    with digits are read as one license number written in groups and must be part of the
    license number: "100 003" and "100-003" find 100003 (not also 100030 for having
    both "100" and "003"); "Núñez 100-003" is the word "nunez" and the number "100003".
    """
    words = search_words(query)
    number = "".join(w for w in words if any(ch.isdigit() for ch in w))
    return [w for w in words if not any(ch.isdigit() for ch in w)], number
