"""Annual certificates (SPEC §4): landscape PDF pages with an unforgeable verification code.

The code carries the member, CE year, hours credited and issue date, sealed with
an HMAC of the server secret: the public Verify page reads it back without any
stored state, and a forged or altered code resolves to nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import segno

from cetracker import config
from cetracker import policy as policies
from cetracker.files import fonts
from cetracker.filters import Filters
from cetracker.rules import compute
from cetracker.standing import hour_summary, hour_summary_counts
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

_PAYLOAD = struct.Struct(">IHII")  # member id, CE year, hours x 100, issue day (ordinal)
_SIG_BYTES = 6


@dataclass(frozen=True)
class Certificate:
    member_id: int
    name: str
    license_number: str
    year: int
    hours: Decimal
    issued: date
    # How the CE year is written ("2025–2026" under a July–June policy); worked out here
    # when the certificate is made, so that every copy of it says the same.
    year_label: str = ""

    @property
    def code(self) -> str:
        return make_code(self.member_id, self.year, self.hours, self.issued)


@dataclass(frozen=True)
class Verified:
    name: str
    license_number: str
    year: int
    hours: Decimal
    issued: date
    year_label: str = ""


def _sign(payload: bytes, key: bytes | None = None) -> bytes:
    key = key or config.secret_key().encode()
    return hmac.digest(key, payload, hashlib.sha256)[:_SIG_BYTES]


def _sealed(member_id: int, year: int, hours: Decimal, issued: date, key: bytes) -> bytes:
    payload = _PAYLOAD.pack(member_id, year, int(hours * 100), issued.toordinal())
    return payload + _sign(payload, key)


# A sealed code is 20 bytes: 32 base-32 letters (RFC 4648, no padding), shown in fives.
_SEALED_BYTES = _PAYLOAD.size + _SIG_BYTES
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_FIVES = [slice(i, i + 5) for i in range(0, _SEALED_BYTES * 8 // 5, 5)]


def _written(sealed: list[bytes]) -> list[str]:
    """Sealed codes as people read them ("ABCDE-FGHIJ-…"), base 32 in five-bit groups, all
    at once: a page shows 5,000 codes on every rerun (base64.b32encode is pure Python)."""
    import numpy as np

    if not sealed:
        return []
    raw = np.frombuffer(b"".join(sealed), np.uint8).reshape(len(sealed), _SEALED_BYTES)
    groups = np.unpackbits(raw, axis=1).reshape(len(sealed), -1, 5)
    numbers = groups @ np.array([16, 8, 4, 2, 1], np.uint8)
    letters = np.frombuffer(_LETTERS, np.uint8)[numbers]
    dash = np.full((len(sealed), 1), ord("-"), np.uint8)
    parts = [letters[:, five] for five in _FIVES]
    spaced = np.hstack([part for five in parts for part in (five, dash)][:-1])
    width = spaced.shape[1]
    text = spaced.tobytes().decode("ascii")
    return [text[i : i + width] for i in range(0, len(text), width)]


def make_code(
    member_id: int, year: int, hours: Decimal, issued: date, *, key: bytes | None = None
) -> str:
    """The certificate's verification code; ``key`` is the server secret when the caller
    has read it once for many codes (it is read from its file otherwise)."""
    key = key or config.secret_key().encode()
    return _written([_sealed(member_id, year, hours, issued, key)])[0]


def make_codes(certificates: list[Certificate]) -> list[str]:
    """``make_code`` of each certificate, the server secret read once."""
    key = config.secret_key().encode()
    return _written([_sealed(c.member_id, c.year, c.hours, c.issued, key) for c in certificates])


def read_code(code: str) -> tuple[int, int, Decimal, date] | None:
    """The sealed contents of a code, or None for anything forged, altered or mistyped."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    if not cleaned or len(cleaned) > 64:
        return None
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (ValueError, TypeError):
        return None
    if len(raw) != _PAYLOAD.size + _SIG_BYTES:
        return None
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    if not hmac.compare_digest(signature, _sign(payload)):
        return None
    member_id, year, cents, ordinal = _PAYLOAD.unpack(payload)
    try:
        issued = date.fromordinal(ordinal)
    except ValueError:
        return None
    return member_id, year, Decimal(cents) / 100, issued


def verify(db: Database, code: str) -> Verified | None:
    found = read_code(code)
    if found is None:
        return None
    member_id, year, hours, issued = found
    row = db.one(
        "SELECT first_name || ' ' || last_name, license_number FROM members WHERE id = ?",
        [member_id],
    )
    if row is None:
        return None
    return Verified(row[0], row[1], year, hours, issued, policies.ce_year_label(db, year))


def verify_url(code: str, base: str = "") -> str:
    return f"{base or config.base_url()}/verify?code={code}"


def earned_certificates(
    db: Database, filters: Filters, issued: date | None = None, *, limit: int | None = None
) -> list[Certificate]:
    """Every annual certificate earned in the filters' year: eligible members only (the
    first ``limit`` in report order when given: what a page shows)."""
    frame = hour_summary(db, filters, detail=True, only="eligible", limit=limit)
    when = _closed_issue_date(db, filters.year) or issued or config.today()
    label = policies.ce_year_label(db, filters.year)
    # Column by column, as Python values: a page makes its first 5,000 on every rerun.
    columns = ("member_id", "first_name", "last_name", "license_number", "year", "credited")
    return [
        Certificate(int(m), f"{first} {last}", number, int(y), compute.two_places(c), when, label)
        for m, first, last, number, y, c in zip(
            *(frame[name].tolist() for name in columns), strict=True
        )
    ]


def earned_count(db: Database, filters: Filters) -> int:
    """How many certificates ``earned_certificates`` holds, without making them."""
    return hour_summary_counts(db, filters).eligible


def member_certificate(
    db: Database, member_id: int, year: int, issued: date | None = None
) -> Certificate | None:
    """One member's annual certificate for ``year``, or None when it was not earned."""
    from cetracker.standing import member_standing as standing_of

    row = db.one(
        "SELECT first_name || ' ' || last_name, license_number FROM members WHERE id = ?",
        [member_id],
    )
    if row is None:
        return None
    closed_issue = _closed_issue_date(db, year)  # a closed year's certificates: when it closed
    if closed_issue and not db.scalar(
        "SELECT count(*) FROM year_snapshots WHERE ce_year = ? AND member_id = ?",
        [year, member_id],
    ):
        return None  # not a member when the year closed
    standing = standing_of(db, member_id, year)  # a closed year's: its snapshot
    if not standing.eligible:
        return None
    when = closed_issue or issued or config.today()
    return Certificate(
        member_id,
        row[0],
        row[1],
        year,
        standing.credited,
        when,
        policies.ce_year_label(db, year),
    )


def _closed_issue_date(db: Database, year: int) -> date | None:
    found = db.one("SELECT certificates_issued FROM closed_years WHERE ce_year = ?", [year])
    return found[0] if found else None


class CertificatePDF(fonts.PDF):
    def __init__(self, base_url: str = "") -> None:
        super().__init__(orientation="L", format="Letter")
        self.set_auto_page_break(False)
        self.association = config.association_name()
        self.base_url = config.base_url(base_url)
        self._qr_key: object = None
        self._widths: dict[tuple[str, str, float], float] = {}
        self._qr_strings: tuple[list[str], list[str], list[str], str] = ([], [], [], "")

    def centred(self, y: float, text: str, style: str, size: float) -> None:
        # text() is several times cheaper than cell(); it matters at 10,000 pages.
        if (self.font_style, self.font_size_pt) != (style, size):
            self.set_font(fonts.FAMILY, style, size)
        key = (text, style, size)
        width = self._widths.get(key)
        if width is None:
            width = self.get_string_width(text)
            if len(self._widths) < 256:  # the fixed wording; names are measured each time
                self._widths[key] = width
        self.text((self.w - width) / 2, y, text)

    def add_certificate(self, cert: Certificate, code: str | None = None) -> None:
        """One certificate's page; ``code``: its verification code, when made with others."""
        self.add_page()
        w, h = self.w, self.h
        self.set_draw_color(31, 78, 121)
        self.set_line_width(1.6)
        self.rect(10, 10, w - 20, h - 20)
        self.set_line_width(0.4)
        self.rect(14, 14, w - 28, h - 28)
        self.set_text_color(31, 78, 121)
        self.centred(33, self.association, "B", 16)
        self.centred(54, "Certificate of Continuing Education", "B", 30)
        self.set_text_color(40, 40, 40)
        self.centred(72, "This certifies that", "", 14)
        self.centred(89, cert.name, "B", 28)
        self.centred(102, f"License number {cert.license_number}", "", 14)
        self.centred(
            114,
            "has met the continuing-education requirement for CE year "
            f"{cert.year_label or cert.year}",
            "",
            14,
        )
        self.centred(127, f"{compute.hours_text(cert.hours)} credited", "B", 16)
        # Signature and date lines.
        self.set_font(fonts.FAMILY, "", 11)
        self.line(40, 150, 120, 150)
        self.text(80 - self.get_string_width("Executive Director") / 2, 156, "Executive Director")
        issued = compute.long_date(cert.issued)
        self.line(w - 150, 150, w - 80, 150)
        self.text(w - 115 - self.get_string_width(issued) / 2, 147, issued)
        self.text(w - 115 - self.get_string_width("Date issued") / 2, 156, "Date issued")
        # Verification code and its QR code, drawn as vector squares (no image to encode).
        code = code or cert.code
        self.qr_code(verify_url(code, self.base_url), x=w - 50, y=h - 52, size=28)
        self.set_font(fonts.FAMILY, "", 9)
        self.text(24, h - 32, f"Verification code: {code}")
        self.text(24, h - 27, f"Verify at {self.base_url}/verify")

    def qr_code(self, text: str, *, x: float, y: float, size: float) -> None:
        """A QR code as filled squares, one PDF ``re`` per run of dark modules."""
        template, tail = _template(text)
        n = template.size
        geometry = (x, y, size, self.k, self.h)
        # Coordinates as text, worked out once per position and size.
        if self._qr_key != (geometry, n):
            module = size / (n + 2)  # one module of quiet zone on each side
            k = self.k
            lefts = [f"{(x + (c + 1) * module) * k:.2f}" for c in range(n)]
            widths = [f"{w * module * k:.2f}" for w in range(n + 1)]
            tops = [f"{(self.h - y - (r + 1) * module) * k:.2f}" for r in range(n)]
            self._qr_key = (geometry, n)
            self._qr_strings = (lefts, widths, tops, f"{-module * k:.2f}")
        lefts, widths, tops, height = self._qr_strings
        ops = ["q 0 g"]
        for r, row in enumerate(template.rows(tail)):
            top = tops[r]
            while row:
                start = (row & -row).bit_length() - 1
                shifted = row >> start
                length = (shifted ^ (shifted + 1)).bit_length() - 1
                ops.append(f"{lefts[start]} {top} {widths[length]} {height} re")
                row &= ~(((1 << length) - 1) << start)
        ops.append("f Q")
        self._out("\n".join(ops))


class _QrTemplate:
    """QR codes of texts that differ only in their last ``length`` bytes, fast.

    With the version, error level and mask fixed, a QR symbol is an affine function of
    its data bits over GF(2): symbol(x) = symbol(0) XOR the symbols of x's one-bits. The
    one-bit symbols are made once with segno; each certificate then costs a few XORs.
    A test checks the result against segno module by module.
    """

    def __init__(self, prefix: bytes, length: int) -> None:
        self.prefix, self.length = prefix, length
        zero = prefix + bytes(length)
        first = segno.make(zero, mode="byte", error="m", mask=3, micro=False, boost_error=False)
        self.version = first.version
        self.size = len(first.matrix)
        self.base = self._bits(zero)
        self.deltas = [
            [
                self._bits(prefix + bytes(i) + bytes([1 << j]) + bytes(length - i - 1)) ^ self.base
                for j in range(8)
            ]
            for i in range(length)
        ]

    def _bits(self, data: bytes) -> int:
        symbol = segno.make(
            data,
            mode="byte",
            error="m",
            mask=3,
            micro=False,
            boost_error=False,
            version=getattr(self, "version", None),
        )
        value = 0
        for row in reversed(symbol.matrix):
            for module in reversed(row):
                value = (value << 1) | (module & 1)
        return value

    def bits(self, tail: bytes) -> int:
        value = self.base
        for i, byte in enumerate(tail):
            deltas = self.deltas[i]
            while byte:
                low = byte & -byte
                value ^= deltas[low.bit_length() - 1]
                byte ^= low
        return value

    def rows(self, tail: bytes) -> list[int]:
        """The symbol's rows as integers, bit c = column c."""
        value, n = self.bits(tail), self.size
        mask = (1 << n) - 1
        return [(value >> (r * n)) & mask for r in range(n)]


_TEMPLATES: dict[tuple[bytes, int], _QrTemplate] = {}


def _template(text: str) -> tuple[_QrTemplate, bytes]:
    data = text.encode()
    cut = data.rfind(b"=") + 1  # the verification code after "code=" varies, the rest not
    key = (data[:cut], len(data) - cut)
    template = _TEMPLATES.get(key)
    if template is None:
        template = _TEMPLATES[key] = _QrTemplate(*key)
    return template, data[cut:]


def qr_matrix(text: str) -> list[list[int]]:
    """The QR symbol of ``text`` (error level M, mask 3) as rows of 0/1 modules."""
    template, tail = _template(text)
    n = template.size
    return [[(row >> c) & 1 for c in range(n)] for row in template.rows(tail)]


def qr_rows(text: str) -> list[list[tuple[int, int]]]:
    """Each row's runs of dark modules as (first column, length)."""
    template, tail = _template(text)
    result = []
    for row in template.rows(tail):
        runs = []
        while row:
            start = (row & -row).bit_length() - 1
            shifted = row >> start
            length = (shifted ^ (shifted + 1)).bit_length() - 1
            runs.append((start, length))
            row &= ~(((1 << length) - 1) << start)
        result.append(runs)
    return result


def certificates_pdf(certificates: list[Certificate], *, base_url: str = "") -> bytes:
    """One printable PDF, one landscape page per certificate; its QR codes lead to the
    configured public address, else to ``base_url`` (the address the app is browsed at)."""
    pdf = CertificatePDF(base_url)
    pdf.set_title("CE certificates")
    for cert, code in zip(certificates, make_codes(certificates), strict=True):
        pdf.add_certificate(cert, code)
    return bytes(pdf.output())


def certificate_rows(certificates: list[Certificate]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            (c.license_number, c.name, c.year, float(c.hours), c.issued, code)
            for c, code in zip(certificates, make_codes(certificates), strict=True)
        ],
        columns=[
            "License number",
            "Name",
            "CE year",
            "Hours credited",
            "Issued",
            "Verification code",
        ],
    )
