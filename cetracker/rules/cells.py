"""Reading spreadsheet cells as people type them (SPEC §5).

Every value is first turned into trimmed text or a real date, then validated:
a reader's type guessing never silently blanks "2 hrs".
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
    """A number or numeric text ("1.5", " 2 "); anything else None."""
    if isinstance(value, bool):
        return None
    raw = text(value).replace(",", "") if not isinstance(value, float) else text(value)
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


def license_key(value: object) -> str:
    """License numbers compare without spaces and dashes, upper-cased."""
    return re.sub(r"[\s\-‐-―]", "", text(value)).upper()


@lru_cache(maxsize=65536)
def _name_key(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value.translate(_TRANSLITERATE))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def name_key(value: object) -> str:
    """Names compare ignoring case, accents, spaces and punctuation; Ø→O, Ł→L."""
    return _name_key(text(value))
