"""A member's transcript (issue "member's page" §4): every course by CE year, carried hours,
totals, and optionally the attached certificate files, as one audit-ready PDF."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader, PdfWriter

from cetracker import config, licenses
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import NotAllowed
from cetracker.files import fonts
from cetracker.files.exports import ReportPDF
from cetracker.rules import compute
from cetracker.standing import member_standing as standing_of
from cetracker.store.db import Database


def transcript_pdf(
    db: Database,
    member_id: int,
    first_year: int,
    last_year: int,
    *,
    with_certificates: bool = False,
    window: tuple[date, date] | None = None,
    heading: str = "",
) -> bytes:
    """Every approved course by CE year with totals; ``window`` keeps only courses dated in a
    license renewal cycle (``heading`` names it)."""
    member = db.one(
        "SELECT first_name || ' ' || last_name, license_number FROM members WHERE id = ?",
        [member_id],
    )
    if member is None:
        raise ValueError("no such member")
    pdf = ReportPDF(
        f"CE Transcript — {member[0]}",
        f"License number {member[1]} · " + (heading or f"CE years {first_year}–{last_year}"),
        orientation="P",
    )
    pdf.add_page()
    widths = [24, 78, 44, 30, 14]
    bounds = [window[0], window[0], window[1]] if window else [None, None, None]
    attachments: list[tuple[int, str, bytes, str]] = []
    for year in range(first_year, last_year + 1):
        standing = standing_of(db, member_id, year)
        rows = db.rows(
            """SELECT r.id, r.course_date, coalesce(c.title, r.title),
                      coalesce(p.name, r.provider_name, ''), r.category, r.hours,
                      r.certificate, r.certificate_name, r.certificate_type
               FROM ce_records r LEFT JOIN courses c ON c.id = r.course_id
               LEFT JOIN providers p ON p.id = c.provider_id
               WHERE r.member_id = ? AND r.ce_year = ? AND r.status = 'approved'
                 AND (?::DATE IS NULL OR r.course_date BETWEEN ? AND ?)
               ORDER BY r.course_date, r.id""",
            [member_id, year, *bounds],
        )
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.set_font(fonts.FAMILY, "B", 12)
        pdf.cell(0, 8, f"CE year {policies.ce_year_label(db, year)}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(fonts.FAMILY, "B", 8.5)
        for label, width in zip(
            ["Date", "Course", "Provider", "Category", "Hours"], widths, strict=True
        ):
            pdf.cell(width, 5.5, label, border="B")
        pdf.ln()
        pdf.set_font(fonts.FAMILY, "", 8.5)
        for rid, day, title, provider, category, hrs, cert, name, mime in rows:
            if pdf.get_y() > pdf.h - 25:
                pdf.add_page()
            for text, width in zip(
                [f"{day:%m/%d/%Y}", title or "", provider, category, compute.format_hours(hrs)],
                widths,
                strict=True,
            ):
                pdf.cell(width, 5, _fit(pdf, str(text), width))
            pdf.ln()
            if with_certificates and cert is not None:
                attachments.append((rid, name or f"certificate {rid}", bytes(cert), mime or ""))
        if not rows:
            pdf.cell(0, 5, "No approved courses in this year.", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(fonts.FAMILY, "", 8.5)
        if standing.carried_in > 0:
            pdf.cell(
                0,
                5,
                f"Carried over from {year - 1}: {compute.hours_text(standing.carried_in)}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.set_font(fonts.FAMILY, "B", 8.5)
        # The Hour Summary's words: "4 hours short; Ethics: 1 of 3 hours" (compute.reasons).
        verdict = "requirement met" if standing.eligible else "; ".join(standing.reasons)
        pdf.cell(
            0,
            6,
            f"Earned {compute.format_hours(standing.earned)} · carried in "
            f"{compute.format_hours(standing.carried_in)} · credited "
            f"{compute.format_hours(standing.credited)} of "
            f"{compute.format_hours(standing.required)} required — {verdict}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(4)
    pdf.set_font(fonts.FAMILY, "", 8)
    pdf.multi_cell(
        0,
        4,
        f"Produced by CE Tracker for {config.association_name()} on "
        f"{compute.long_date(config.today())}. Hours are those approved by the association.",
    )
    return _with_certificates(pdf, attachments)


def _with_certificates(pdf: ReportPDF, attachments: list[tuple[int, str, bytes, str]]) -> bytes:
    """The PDF with each attached certificate after it: a picture on a page of its own, a
    PDF's pages appended. A damaged file is left out; the transcript stays whole."""
    for _rid, name, data, mime in attachments:
        if mime.startswith("image/"):
            pdf.add_page()
            pdf.set_font(fonts.FAMILY, "B", 10)
            pdf.cell(0, 8, f"Attached certificate: {name}", new_x="LMARGIN", new_y="NEXT")
            try:
                pdf.image(io.BytesIO(data), x=pdf.l_margin, w=pdf.w - pdf.l_margin - pdf.r_margin)
            except Exception:  # a damaged image must not lose the transcript
                pdf.cell(0, 8, "(this image could not be read)")
    body = bytes(pdf.output())
    pdf_attachments = [data for _, _, data, mime in attachments if mime == "application/pdf"]
    if not pdf_attachments:
        return body
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(body)))
    for data in pdf_attachments:
        try:
            writer.append(PdfReader(io.BytesIO(data)))
        except Exception:  # a damaged attachment is left out, the transcript stays whole
            continue
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _fit(pdf: ReportPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 1.5:
        return text
    while len(text) > 1 and pdf.get_string_width(text + "…") > width - 1.5:
        text = text[:-1]
    return text + "…"


def cycle_transcript(
    db: Database, user: User, license_id: int, *, with_certificates: bool = True
) -> bytes:
    """The transcript of one renewal cycle, about the cycle alone: its window, requirement and
    category minimums, the progress made, and every approved course dated inside it with its
    certificate. The association's yearly rule (credited hours, carryover) has no place here:
    the board counts the courses inside its own window."""
    cycle = next(
        (c for c in licenses.license_progress(db, user) if c.license_id == license_id), None
    )
    if cycle is None or user.member_id is None:
        raise NotAllowed("That license is not one of yours.")
    name, member_license = db.one(
        "SELECT first_name || ' ' || last_name, license_number FROM members WHERE id = ?",
        [user.member_id],
    ) or ("", "")
    courses = db.rows(
        """SELECT r.id, r.course_date, coalesce(c.title, r.title),
                  coalesce(p.name, r.provider_name, ''), r.category, r.hours,
                  r.certificate, r.certificate_name, r.certificate_type
           FROM ce_records r LEFT JOIN courses c ON c.id = r.course_id
           LEFT JOIN providers p ON p.id = c.provider_id
           WHERE r.member_id = ? AND r.status = 'approved' AND r.course_date BETWEEN ? AND ?
           ORDER BY r.course_date, r.id""",
        [user.member_id, cycle.start, cycle.end],
    )
    board = " ".join(p for p in (cycle.board, cycle.license_number) if p)
    pdf = ReportPDF(
        f"Renewal-cycle transcript — {name}",
        f"{board} · cycle {cycle.start:%m/%d/%Y} – {cycle.end:%m/%d/%Y} · "
        f"member license {member_license}",
        orientation="P",
    )
    pdf.add_page()
    fmt = compute.format_hours
    short = ([f"{compute.hours_text(cycle.remaining)} to go"] if cycle.remaining > 0 else []) + [
        f"{c}: {compute.hours_text(cycle.missing(c))} to go"
        for c in cycle.categories
        if cycle.missing(c)
    ]
    pdf.set_font(fonts.FAMILY, "B", 12)
    pdf.cell(0, 8, f"{board}: renewal cycle", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(fonts.FAMILY, "", 10)
    for label, value in [
        ("Cycle", f"{compute.long_date(cycle.start)} to {compute.long_date(cycle.end)}"),
        ("Required", f"{compute.hours_text(cycle.required)} in the cycle"),
        (
            "Earned",
            f"{fmt(cycle.earned)} of {compute.hours_text(cycle.required)}"
            + (
                f" · {compute.hours_text(cycle.remaining)} to go"
                if cycle.remaining > 0
                else " · requirement met"
            ),
        ),
        ("Status", "; ".join(short) if short else "every requirement of the cycle is met"),
    ]:
        pdf.set_font(fonts.FAMILY, "B", 10)
        pdf.cell(28, 6, label)
        pdf.set_font(fonts.FAMILY, "", 10)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if cycle.categories:
        pdf.set_font(fonts.FAMILY, "B", 10)
        pdf.cell(0, 7, "Category minimums", new_x="LMARGIN", new_y="NEXT")
        widths = [70, 30, 30, 50]
        pdf.set_font(fonts.FAMILY, "B", 8.5)
        for label, width in zip(
            ["Category", "Minimum", "Earned", "Remaining"], widths, strict=True
        ):
            pdf.cell(width, 5.5, label, border="B")
        pdf.ln()
        pdf.set_font(fonts.FAMILY, "", 8.5)
        for category, (got, minimum) in cycle.categories.items():
            missing = cycle.missing(category)
            for text, width in zip(
                [
                    category,
                    f"{fmt(minimum)} h",
                    f"{fmt(got)} h",
                    f"{compute.hours_text(missing)} to go" if missing else "met",
                ],
                widths,
                strict=True,
            ):
                pdf.cell(width, 5, _fit(pdf, text, width))
            pdf.ln()
        pdf.ln(3)
    pdf.set_font(fonts.FAMILY, "B", 10)
    pdf.cell(0, 7, "Courses in the cycle", new_x="LMARGIN", new_y="NEXT")
    widths = [22, 62, 36, 26, 13, 36]
    pdf.set_font(fonts.FAMILY, "B", 8.5)
    for label, width in zip(
        ["Date", "Course", "Provider", "Category", "Hours", "Certificate"], widths, strict=True
    ):
        pdf.cell(width, 5.5, label, border="B")
    pdf.ln()
    pdf.set_font(fonts.FAMILY, "", 8.5)
    attachments: list[tuple[int, str, bytes, str]] = []
    for rid, day, title, provider, category, hrs, cert, cert_name, mime in courses:
        if pdf.get_y() > pdf.h - 25:
            pdf.add_page()
        shown = cert_name or f"certificate {rid}"
        certificate = "—"
        if cert is not None:
            certificate = f"attached: {shown}" if with_certificates else shown
            if with_certificates:
                attachments.append((rid, shown, bytes(cert), mime or ""))
        for text, width in zip(
            [f"{day:%m/%d/%Y}", title or "", provider, category, fmt(hrs), certificate],
            widths,
            strict=True,
        ):
            pdf.cell(width, 5, _fit(pdf, str(text), width))
        pdf.ln()
    if not courses:
        pdf.cell(0, 5, "No approved courses dated inside this cycle yet.", new_x="LMARGIN")
        pdf.ln()
    pdf.set_font(fonts.FAMILY, "B", 8.5)
    pdf.cell(
        0,
        6,
        f"Total: {compute.hours_text(cycle.earned)} in {len(courses)} course"
        + ("" if len(courses) == 1 else "s"),
        new_x="LMARGIN",
    )
    pdf.ln(10)
    pdf.set_font(fonts.FAMILY, "", 8)
    pdf.multi_cell(
        0,
        4,
        f"Produced by CE Tracker for {config.association_name()} on {compute.long_date(config.today())}. "
        "Every course approved by the association and dated inside the cycle counts toward it; "
        "the certificates on record follow this page.",
    )
    return _with_certificates(pdf, attachments)
