"""A member's own records (SPEC §1 member, §4): figures, the "why", self-reports,
approvals, license renewal cycles and the member's own data export.

Every function that reads or changes a record checks that it belongs to the
member asking (or that an admin asks): changing an id in a request reveals nothing.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cetracker import audit, config, years
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.rules import compute
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES = ["General", "Ethics", "Records Management", "Technology"]
FILE_TYPES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def _member_id(user: User) -> int:
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return user.member_id


def member_records(db: Database, member_id: int) -> list[compute.Record]:
    return [
        compute.Record(int(y), compute.hours(h), c, s)
        for y, h, c, s in db.rows(
            "SELECT ce_year, hours, category, status FROM ce_records WHERE member_id = ?",
            [member_id],
        )
    ]


def standing_of(db: Database, member_id: int, year: int) -> compute.Standing:
    status = db.scalar("SELECT status FROM members WHERE id = ?", [member_id])
    return compute.standing(
        member_records(db, member_id),
        year,
        policies.load_policies(db),
        policies.load_minimum_sets(db),
        active=status == "active",
    )


def my_standing(db: Database, user: User, year: int | None = None) -> compute.Standing:
    return standing_of(db, _member_id(user), year or policies.current_ce_year(db))


def my_years(db: Database, user: User) -> list[int]:
    """The CE years to show: this one and every year the member has records in."""
    current = policies.current_ce_year(db)
    found = {current} | {
        int(y)
        for (y,) in db.rows(
            "SELECT DISTINCT ce_year FROM ce_records WHERE member_id = ?", [_member_id(user)]
        )
    }
    return sorted((y for y in found if y <= current), reverse=True)


def minimums(db: Database, year: int) -> dict[str, Decimal]:
    return policies.minimums_for_year(db, year)


def records_frame(db: Database, user: User) -> pd.DataFrame:
    """All of the member's records, newest first, with what happened to each."""
    return db.frame(
        """SELECT r.id, r.ce_year AS "CE year", r.course_date AS "Date",
                  coalesce(c.title, r.title) AS "Course",
                  coalesce(p.name, r.provider_name, '') AS "Provider",
                  r.category AS "Category", r.hours::DOUBLE AS "Hours", r.status AS "Status",
                  coalesce(r.status_reason, '') AS "Note", r.source AS "Source",
                  r.certificate_name AS "Certificate file"
           FROM ce_records r
           LEFT JOIN courses c ON c.id = r.course_id
           LEFT JOIN providers p ON p.id = c.provider_id
           WHERE r.member_id = ?
           ORDER BY r.course_date DESC, r.id DESC""",
        [_member_id(user)],
    )


@dataclass(frozen=True)
class Why:
    counted: pd.DataFrame
    not_counted: pd.DataFrame
    carried_from: str


def why(db: Database, user: User, year: int) -> Why:
    """Which records counted for ``year``, where carried hours came from, and what did not count."""
    frame = records_frame(db, user)
    in_year = frame[frame["CE year"] == year]
    counted = in_year[in_year["Status"] == "approved"]
    reasons = {"pending": "waiting for approval", "rejected": "rejected"}
    not_counted = in_year[in_year["Status"] != "approved"].assign(
        **{"Why not": lambda f: f["Status"].map(reasons).fillna("does not count")}
    )
    previous = policies.policy_for_year(db, year - 1)
    earned_before = Decimal(
        str(
            frame.loc[
                (frame["CE year"] == year - 1) & (frame["Status"] == "approved"), "Hours"
            ].sum()
        )
    )
    standing = my_standing(db, user, year)
    if standing.carried_in > 0:
        carried = (
            f"{compute.format_hours(standing.carried_in)} hours carried over from "
            f"{year - 1}: you earned {compute.format_hours(earned_before)} hours then, "
            f"{compute.format_hours(previous.required_hours)} were required, and at most "
            f"{compute.format_hours(previous.carryover_cap)} carry over."
        )
    else:
        carried = (
            f"No hours carried over from {year - 1}: only hours earned beyond that "
            f"year's {compute.format_hours(previous.required_hours)} required roll over."
        )
    return Why(counted.drop(columns=["id"]), not_counted.drop(columns=["id"]), carried)


def hours_by_year(db: Database, user: User) -> pd.DataFrame:
    return db.frame(
        """SELECT ce_year::VARCHAR AS year, sum(hours)::DOUBLE AS hours FROM ce_records
           WHERE member_id = ? AND status = 'approved' GROUP BY ce_year ORDER BY ce_year""",
        [_member_id(user)],
    )


# -- reporting a course oneself --------------------------------------------------------------


def sniff_certificate(data: bytes, filename: str) -> str:
    """The certificate file's type, judged by its content, not its name."""
    if not data:
        raise CetrackerError(f"{filename} is empty. Attach the certificate you received.")
    if len(data) > config.max_upload_bytes():
        raise CetrackerError(
            f"{filename} is larger than {config.max_upload_bytes() // 1_048_576} MB. "
            "Attach a smaller scan or photo of the certificate."
        )
    for magic, (mime, _) in FILE_TYPES.items():
        if data.startswith(magic):
            return mime
    raise CetrackerError(
        f"{filename} is not a PDF, PNG or JPEG file. Save the certificate as one of those "
        "and attach it again."
    )


def _check_report(
    title: str, provider: str, day: date | None, hours: Any, category: str, start_month: int
) -> tuple[Decimal, int]:
    if not title.strip():
        raise CetrackerError("Enter the course title.")
    if not provider.strip():
        raise CetrackerError("Enter who gave the course (the provider).")
    if day is None:
        raise CetrackerError("Enter the date you took the course.")
    if day > config.today():
        raise CetrackerError(
            "The course date lies in the future; report a course after you took it."
        )
    try:
        amount = compute.hours(hours)
    except Exception as exc:  # Decimal raises several types for bad text
        raise CetrackerError("Enter the hours as a number, for example 1.5.") from exc
    if not amount.is_finite() or amount <= 0 or amount > 100:
        raise CetrackerError("Enter the hours earned: more than 0 and at most 100.")
    if category not in CATEGORIES:
        raise CetrackerError(f"Choose a category: {', '.join(CATEGORIES)}.")
    return amount, compute.ce_year_of(day, start_month)


def report_course(
    db: Database,
    user: User,
    *,
    title: str,
    provider: str,
    day: date | None,
    hours: Any,
    category: str,
    certificate: bytes | None = None,
    certificate_name: str = "",
) -> int:
    """A member's own report of a course: pending until an admin approves it."""
    member_id = _member_id(user)
    start = policies.policy_for_year(db, (day or config.today()).year).ce_year_start_month
    amount, year = _check_report(title, provider, day, hours, category, start)
    mime = sniff_certificate(certificate, certificate_name) if certificate is not None else None
    with db.transaction() as cur:
        years.ensure_open(cur, year, message=years.MEMBER_CLOSED)
        record_id = db.new_id("record_ids", cur)
        cur.execute(
            """INSERT INTO ce_records (id, member_id, title, provider_name, ce_year, course_date,
                                       hours, category, source, status, certificate,
                                       certificate_name, certificate_type, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'self report', 'pending', ?, ?, ?, ?)""",
            [
                record_id,
                member_id,
                title.strip()[:300],
                provider.strip()[:300],
                year,
                day,
                amount,
                category,
                certificate,
                certificate_name[:200] or None,
                mime,
                user.username,
            ],
        )
        audit.record(
            cur,
            user.username,
            "course reported",
            "ce_record",
            record_id,
            {"title": title, "hours": str(amount), "date": str(day)},
        )
    return int(record_id)


def _own_pending(cur: Any, user: User, record_id: int) -> None:
    row = cur.execute(
        "SELECT member_id, status, source FROM ce_records WHERE id = ?", [record_id]
    ).fetchone()
    if row is None or row[0] != user.member_id:
        raise NotAllowed("That record is not one of yours.")
    if row[1] != "pending" or row[2] != "self report":
        raise CetrackerError("Only your own reports still waiting for approval can be changed.")


def _years_of(cur: Any, record_ids: list[int]) -> list[int]:
    rows = cur.execute(
        "SELECT DISTINCT ce_year FROM ce_records WHERE id IN (SELECT unnest($ids::BIGINT[]))",
        {"ids": [int(r) for r in record_ids]},
    ).fetchall()
    return [int(y) for (y,) in rows]


def update_report(
    db: Database,
    user: User,
    record_id: int,
    *,
    title: str,
    provider: str,
    day: date | None,
    hours: Any,
    category: str,
) -> None:
    start = policies.policy_for_year(db, (day or config.today()).year).ce_year_start_month
    amount, year = _check_report(title, provider, day, hours, category, start)
    with db.transaction() as cur:
        _own_pending(cur, user, record_id)
        years.ensure_open(cur, year, message=years.MEMBER_CLOSED)
        cur.execute(
            """UPDATE ce_records SET title = ?, provider_name = ?, course_date = ?, ce_year = ?,
                      hours = ?, category = ? WHERE id = ?""",
            [title.strip()[:300], provider.strip()[:300], day, year, amount, category, record_id],
        )
        audit.record(cur, user.username, "reported course edited", "ce_record", record_id)


def withdraw_report(db: Database, user: User, record_id: int) -> None:
    with db.transaction() as cur:
        _own_pending(cur, user, record_id)
        years.ensure_open(cur, *_years_of(cur, [record_id]), message=years.MEMBER_CLOSED)
        cur.execute("DELETE FROM ce_records WHERE id = ?", [record_id])
        audit.record(cur, user.username, "reported course withdrawn", "ce_record", record_id)


def certificate_file(db: Database, user: User, record_id: int) -> tuple[bytes, str, str]:
    """A record's attached certificate: for its own member or an admin, nobody else."""
    row = db.one(
        "SELECT member_id, certificate, certificate_name, certificate_type FROM ce_records"
        " WHERE id = ?",
        [record_id],
    )
    if row is None or (user.role != "admin" and row[0] != user.member_id):
        raise NotAllowed("That certificate file is not yours to open.")
    if row[1] is None:
        raise CetrackerError("No certificate file is attached to this record.")
    return bytes(row[1]), row[2] or f"certificate-{record_id}", row[3] or "application/pdf"


def preview_pages(data: bytes, mime: str, limit: int = 3) -> list[bytes]:
    """A certificate as PNG pictures to look at on screen (PDF pages rendered with PDFium)."""
    if mime.startswith("image/"):
        return [data]
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return []
    pictures = []
    for index in range(min(limit, len(document))):
        out = io.BytesIO()
        document[index].render(scale=1.2).to_pil().save(out, format="PNG")
        pictures.append(out.getvalue())
    document.close()
    return pictures


# -- approvals ---------------------------------------------------------------------------------


def pending_reports(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT r.id AS "Record", m.license_number AS "License number",
                  m.first_name || ' ' || m.last_name AS "Member", r.title AS "Course",
                  r.provider_name AS "Provider", r.course_date AS "Date", r.ce_year AS "CE year",
                  r.hours::DOUBLE AS "Hours", r.category AS "Category",
                  r.certificate IS NOT NULL AS "Certificate attached"
           FROM ce_records r JOIN members m ON m.id = r.member_id
           WHERE r.status = 'pending'
           ORDER BY r.created_at, r.id"""
    )


def decide(
    db: Database, actor: User, record_ids: list[int], *, approve: bool, reason: str = ""
) -> int:
    """Approve or reject pending records (admins); a rejection needs a reason the member sees."""
    actor.require("admin")
    if not approve and not reason.strip():
        raise CetrackerError("Say why the course is rejected; the member will read it.")
    done = 0
    with db.transaction() as cur:
        years.ensure_open(cur, *_years_of(cur, record_ids))
        for record_id in record_ids:
            changed = cur.execute(
                """UPDATE ce_records SET status = ?, status_reason = ?
                   WHERE id = ? AND status = 'pending'""",
                ["approved" if approve else "rejected", reason.strip()[:500] or None, record_id],
            ).fetchone()[0]  # type: ignore[index]  # an UPDATE reports its row count
            if changed:
                done += 1
                audit.record(
                    cur,
                    actor.username,
                    "approved" if approve else "rejected",
                    "ce_record",
                    record_id,
                    reason.strip() or None,
                )
    return done


# -- license renewal cycles --------------------------------------------------------------------


@dataclass(frozen=True)
class CycleProgress:
    license_id: int
    board: str
    license_number: str
    start: date
    end: date
    required: Decimal
    earned: Decimal
    remaining: Decimal
    days_left: int
    categories: dict[str, tuple[Decimal, Decimal]]  # category -> (earned, minimum)


def add_license(
    db: Database,
    user: User,
    *,
    board: str,
    license_number: str,
    start: date,
    end: date,
    required: Any,
    minimums: dict[str, Any] | None = None,
) -> None:
    member_id = _member_id(user)
    if not board.strip():
        raise CetrackerError("Enter the licensing board.")
    if end <= start:
        raise CetrackerError("The cycle must end after it starts.")
    try:
        needed = compute.hours(required)
    except Exception as exc:
        raise CetrackerError("Enter the required hours as a number.") from exc
    if needed <= 0:
        raise CetrackerError("Enter the hours the board requires for the cycle (more than 0).")
    cleaned = {c: str(compute.hours(h)) for c, h in (minimums or {}).items() if h}
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO member_licenses (member_id, board, license_number, cycle_start,
                                            cycle_end, required_hours, minimums)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                member_id,
                board.strip()[:200],
                license_number.strip()[:60],
                start,
                end,
                needed,
                json.dumps(cleaned),
            ],
        )
        audit.record(cur, user.username, "license cycle added", "member", member_id, board)


def cycle_transcript(db: Database, user: User, license_id: int) -> bytes:
    """The transcript of one renewal cycle: only courses dated inside it."""
    from cetracker.files import transcripts

    cycle = next((c for c in license_progress(db, user) if c.license_id == license_id), None)
    if cycle is None:
        raise NotAllowed("That license is not one of yours.")
    start_month = policies.policy_for_year(db, cycle.start.year).ce_year_start_month
    return transcripts.transcript_pdf(
        db,
        _member_id(user),
        compute.ce_year_of(cycle.start, start_month),
        compute.ce_year_of(cycle.end, start_month),
        window=(cycle.start, cycle.end),
        heading=(
            f"{cycle.board} {cycle.license_number} renewal cycle "
            f"{cycle.start:%m/%d/%Y}–{cycle.end:%m/%d/%Y}: "
            f"{compute.format_hours(cycle.earned)} of "
            f"{compute.format_hours(cycle.required)} hours"
        ),
    )


def remove_license(db: Database, user: User, license_id: int) -> None:
    with db.transaction() as cur:
        owner = cur.execute(
            "SELECT member_id FROM member_licenses WHERE id = ?", [license_id]
        ).fetchone()
        if owner is None or owner[0] != user.member_id:
            raise NotAllowed("That license is not one of yours.")
        cur.execute("DELETE FROM member_licenses WHERE id = ?", [license_id])


def license_progress(db: Database, user: User, today: date | None = None) -> list[CycleProgress]:
    """Each license's cycle: approved records dated inside it count, whichever CE year."""
    member_id = _member_id(user)
    today = today or config.today()
    out = []
    for lid, board, number, start, end, required, mins in db.rows(
        """SELECT id, board, coalesce(license_number, ''), cycle_start, cycle_end,
                  required_hours, minimums
           FROM member_licenses WHERE member_id = ? ORDER BY cycle_end""",
        [member_id],
    ):
        rows = db.rows(
            """SELECT category, sum(hours) FROM ce_records
               WHERE member_id = ? AND status = 'approved' AND course_date BETWEEN ? AND ?
               GROUP BY category""",
            [member_id, start, end],
        )
        by_category = {c: compute.hours(h) for c, h in rows}
        earned = sum(by_category.values(), Decimal(0))
        required = compute.hours(required)
        out.append(
            CycleProgress(
                int(lid),
                board,
                number,
                start,
                end,
                required,
                earned,
                max(Decimal(0), required - earned),
                max(0, (end - today).days),
                {
                    c: (by_category.get(c, Decimal(0)), compute.hours(m))
                    for c, m in json.loads(mins).items()
                },
            )
        )
    return out


# -- the member's own backup -------------------------------------------------------------------


def my_data_zip(db: Database, user: User) -> bytes:
    """All my records (CSV and Excel) and my certificate files, as one zip."""
    from cetracker.files import exports

    frame = records_frame(db, user).drop(columns=["id"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("my-ce-records.csv", exports.to_csv(frame))
        archive.writestr("my-ce-records.xlsx", exports.to_xlsx(frame, "My CE records"))
        for record_id, name, data in db.rows(
            "SELECT id, certificate_name, certificate FROM ce_records"
            " WHERE member_id = ? AND certificate IS NOT NULL",
            [_member_id(user)],
        ):
            archive.writestr(f"certificates/{record_id}-{name or 'certificate'}", bytes(data))
    return out.getvalue()
