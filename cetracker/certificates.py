"""Annual certificates (SPEC §4): landscape PDF pages with an unforgeable verification code.

The code carries the member, CE year, hours credited and issue date, sealed with
an HMAC of the server secret: the public Verify page reads it back without any
stored state, and a forged or altered code resolves to nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import struct
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import segno
from fpdf import FPDF

from cetracker import compute, config, fonts
from cetracker.db import Database
from cetracker.filters import Filters
from cetracker.summary import hour_summary

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


def _sign(payload: bytes) -> bytes:
    return hmac.new(config.secret_key().encode(), payload, hashlib.sha256).digest()[:_SIG_BYTES]


def make_code(member_id: int, year: int, hours: Decimal, issued: date) -> str:
    payload = _PAYLOAD.pack(member_id, year, int(hours * 100), issued.toordinal())
    raw = base64.b32encode(payload + _sign(payload)).decode().rstrip("=")
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


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
    return Verified(row[0], row[1], year, hours, issued)


def verify_url(code: str) -> str:
    return f"{config.base_url()}/verify?code={code}"


def earned_certificates(
    db: Database, filters: Filters, issued: date | None = None
) -> list[Certificate]:
    """Every annual certificate earned in the filters' year: eligible members only."""
    frame = hour_summary(db, filters, detail=True, only="eligible")
    when = _closed_issue_date(db, filters.year) or issued or date.today()
    return [
        Certificate(
            int(r.member_id),
            f"{r.first_name} {r.last_name}",
            r.license_number,
            int(r.year),
            compute.hours(round(r.credited, 2)),
            when,
        )
        for r in frame.itertuples()
    ]


def member_certificate(
    db: Database, member_id: int, year: int, issued: date | None = None
) -> Certificate | None:
    """One member's annual certificate for ``year``, or None when it was not earned."""
    from cetracker.mine import standing_of

    row = db.one(
        "SELECT first_name || ' ' || last_name, license_number FROM members WHERE id = ?",
        [member_id],
    )
    if row is None:
        return None
    frozen = db.one(
        """SELECT s.eligible, s.earned + s.carried_in, c.certificates_issued
           FROM year_snapshots s JOIN closed_years c USING (ce_year)
           WHERE s.ce_year = ? AND s.member_id = ?""",
        [year, member_id],
    )
    if frozen is not None:  # a closed year: the certificate issued when it closed
        eligible, credited, closed_issue = frozen
        if not eligible:
            return None
        return Certificate(member_id, row[0], row[1], year, compute.hours(credited), closed_issue)
    if _closed_issue_date(db, year):  # closed before this member was in the snapshot
        return None
    standing = standing_of(db, member_id, year)
    if not standing.eligible:
        return None
    return Certificate(member_id, row[0], row[1], year, standing.credited, issued or date.today())


def _closed_issue_date(db: Database, year: int) -> date | None:
    found = db.one("SELECT certificates_issued FROM closed_years WHERE ce_year = ?", [year])
    return found[0] if found else None


class CertificatePDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", format="Letter")
        fonts.add_fonts(self)
        self.set_auto_page_break(False)
        self.association = config.association_name()

    def centred(self, y: float, text: str, style: str, size: float) -> None:
        # text() is several times cheaper than cell(); it matters at 10,000 pages.
        self.set_font(fonts.FAMILY, style, size)
        self.text((self.w - self.get_string_width(text)) / 2, y, text)

    def add_certificate(self, cert: Certificate, start_month: int = 1) -> None:
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
        label = compute.ce_year_label(cert.year, start_month)
        self.centred(
            114, f"has met the continuing-education requirement for CE year {label}", "", 14
        )
        self.centred(127, f"{compute.format_hours(cert.hours)} hours credited", "B", 16)
        # Signature and date lines.
        self.set_font(fonts.FAMILY, "", 11)
        self.line(40, 150, 120, 150)
        self.text(80 - self.get_string_width("Executive Director") / 2, 156, "Executive Director")
        issued = cert.issued.strftime("%B %d, %Y").replace(" 0", " ")
        self.line(w - 150, 150, w - 80, 150)
        self.text(w - 115 - self.get_string_width(issued) / 2, 147, issued)
        self.text(w - 115 - self.get_string_width("Date issued") / 2, 156, "Date issued")
        # Verification code and QR code. A fixed mask: choosing the best of eight costs more
        # than the rest of the page. One pixel per module; the PDF scales it up.
        code = cert.code
        qr = io.BytesIO()
        segno.make(verify_url(code), error="m", mask=3, micro=False).save(
            qr, kind="png", scale=1, border=1
        )
        self.image(qr, x=w - 50, y=h - 52, w=28, h=28)
        self.set_font(fonts.FAMILY, "", 9)
        self.text(24, h - 32, f"Verification code: {code}")
        self.text(24, h - 27, f"Verify at {config.base_url()}/verify")


def certificates_pdf(certificates: list[Certificate], start_month: int = 1) -> bytes:
    """One printable PDF, one landscape page per certificate."""
    pdf = CertificatePDF()
    pdf.set_title("CE certificates")
    for cert in certificates:
        pdf.add_certificate(cert, start_month)
    return bytes(pdf.output())


def certificate_rows(certificates: list[Certificate]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            (c.license_number, c.name, c.year, float(c.hours), c.issued, c.code)
            for c in certificates
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
