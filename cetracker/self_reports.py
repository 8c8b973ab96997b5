"""Courses members report themselves (SPEC §1 member, §2) and their approval by the office.

A report is a pending CE record with an optional certificate file; every function checks that
the record belongs to the member asking (or that an admin asks): changing an id in a request
reveals nothing. The record itself is written by ``cetracker.records``."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from cetracker import audit, config, messages, records
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.entities import Invalid
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.filters import Filters
from cetracker.mail import SmtpSettings
from cetracker.rules import compute
from cetracker.rules.cells import shorten
from cetracker.store.db import Database, Touched, in_ids

CATEGORIES = ["General", "Ethics", "Records Management", "Technology"]


def listed_category(category: str) -> int:
    """The place in CATEGORIES of ``category`` (compared as compute.category_key), else 0."""
    keys = [compute.category_key(c) for c in CATEGORIES]
    key = compute.category_key(category)
    return keys.index(key) if key in keys else 0


FILE_TYPES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def _member_id(user: User) -> int:
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return user.member_id


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


def report_problems(
    title: str, provider: str, day: date | None, hours: Any, category: str
) -> list[str]:
    """What is wrong or missing in a report's fields, every one at once, so that a member
    on a phone corrects the form in one go (the page adds its file's, when it has one)."""
    return _checked(title, provider, day, hours, category)[0]


def _checked(
    title: str, provider: str, day: date | None, hours: Any, category: str
) -> tuple[list[str], Decimal]:
    problems = []
    if not title.strip():
        problems.append("Enter the course title.")
    if not provider.strip():
        problems.append("Enter who gave the course (the provider).")
    if day is None:
        problems.append("Enter the date you took the course.")
    elif day > config.today():
        problems.append(
            f"The course date {day:%m/%d/%Y} is in the future: report a course once you have "
            "taken it."
        )
    amount = compute.ZERO
    try:
        amount = compute.two_places(hours)
    except Exception:  # Decimal raises several types for bad text
        problems.append("Enter the hours as a number, for example 1.5.")
    else:
        if not amount.is_finite() or amount <= 0 or amount > 100:
            problems.append("Enter the hours earned: more than 0 and at most 100.")
    if category not in CATEGORIES:
        problems.append(f"Choose a category: {', '.join(CATEGORIES)}.")
    return problems, amount


def _check_report(
    title: str, provider: str, day: date | None, hours: Any, category: str, db: Database
) -> tuple[Decimal, int]:
    """The report's hours and CE year; ``Invalid`` naming every problem of its fields."""
    problems, amount = _checked(title, provider, day, hours, category)
    if problems or day is None:
        raise Invalid(problems)
    return amount, policies.ce_year_of(db, day)


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
    amount, year = _check_report(title, provider, day, hours, category, db)
    mime = sniff_certificate(certificate, certificate_name) if certificate is not None else None
    with db.transaction(tracked=True) as cur:
        _refuse_a_second_report(cur, member_id, title, day)
        record_id = db.new_id("record_ids", cur)
        records.add_one(
            cur,
            record_id,
            {
                "member_id": member_id,
                "title": title.strip()[:300],
                "provider_name": provider.strip()[:300],
                "ce_year": year,
                "course_date": day,
                "hours": amount,
                "category": category,
                "source": "self report",
                "status": "pending",
                "certificate": certificate,
                "certificate_name": certificate_name[:200] or None,
                "certificate_type": mime,
                "created_by": user.username,
            },
            member=True,
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


def _refuse_a_second_report(
    cur: Any, member_id: int, title: str, day: date | None, record_id: int | None = None
) -> None:
    """One record of a course not listed per title and date (the title compared trimmed,
    its spaces run together, in any case): reported twice (a second click, the form sent
    again, a report changed into another) it would be approved twice and its hours
    counted twice. ``record_id``: the report being changed, which does not count."""
    held = cur.execute(
        r"""SELECT status, source FROM ce_records
           WHERE member_id = ? AND course_id IS NULL AND course_date = ?
             AND lower(regexp_replace(trim(title), '\s+', ' ', 'g')) = lower(?)
             AND status <> 'rejected' AND id IS DISTINCT FROM ?
           LIMIT 1""",
        [member_id, day, " ".join(title.split())[:300], record_id],
    ).fetchone()
    if held is None:
        return
    status, source = held
    named = f"“{shorten(' '.join(title.split()), 80)}” on {day:%m/%d/%Y}"
    if source != "self report":
        raise CetrackerError(f"Your record already holds {named}: the association entered it.")
    if status == "pending":
        raise CetrackerError(
            f"You reported {named} already: it is waiting for approval. To change it, choose "
            "it under Change or withdraw a pending report."
        )
    raise CetrackerError(f"You reported {named} already: it is approved and counts.")


def _own_pending(cur: Any, user: User, record_id: int) -> None:
    row = cur.execute(
        "SELECT member_id, status, source FROM ce_records WHERE id = ?", [record_id]
    ).fetchone()
    if row is None or row[0] != user.member_id:
        raise NotAllowed("That record is not one of yours.")
    if row[1] != "pending" or row[2] != "self report":
        raise CetrackerError("Only your own reports still waiting for approval can be changed.")


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
    amount, year = _check_report(title, provider, day, hours, category, db)
    with db.transaction(tracked=True) as cur:
        _own_pending(cur, user, record_id)
        _refuse_a_second_report(cur, _member_id(user), title, day, record_id)
        records.change_one(
            cur,
            record_id,
            {
                "title": title.strip()[:300],
                "provider_name": provider.strip()[:300],
                "course_date": day,
                "ce_year": year,
                "hours": amount,
                "category": category,
            },
            member=True,
        )
        audit.record(cur, user.username, "reported course edited", "ce_record", record_id)


def attach_certificate(
    db: Database, user: User, record_id: int, certificate: bytes, certificate_name: str
) -> None:
    """Add the certificate to a pending report of one's own, or replace the one attached."""
    mime = sniff_certificate(certificate, certificate_name)
    with db.transaction(tracked=True) as cur:
        _own_pending(cur, user, record_id)
        records.change_one(
            cur,
            record_id,
            {
                "certificate": certificate,
                "certificate_name": certificate_name[:200] or None,
                "certificate_type": mime,
            },
            member=True,
        )
        audit.record(
            cur, user.username, "certificate attached", "ce_record", record_id, certificate_name
        )


def withdraw_report(db: Database, user: User, record_id: int) -> None:
    with db.transaction(tracked=True) as cur:
        _own_pending(cur, user, record_id)
        records.delete_one(cur, record_id, member=True)
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


def pending_reports(db: Database) -> pd.DataFrame:
    """The records awaiting the office's review, oldest first, with their members."""
    pending = _pending(db)
    records, members = in_ids(r for r, _ in pending), in_ids(m for _, m in pending)
    # (Named as constants, a server returns those rows only; a backlog of more than
    # ``LITERAL_IDS`` is read by status, as before; none: no table is read.)
    if not pending:
        where = "false"
    elif records and members:
        where = f"r.id {records} AND m.id {members}"
    else:
        where = "r.status = 'pending'"
    return db.frame(
        f"""SELECT r.id AS "Record", m.license_number AS "License number",
                  m.first_name || ' ' || m.last_name AS "Member", r.title AS "Course",
                  r.provider_name AS "Provider", r.course_date AS "Date", r.ce_year AS "CE year",
                  r.hours::DOUBLE AS "Hours", r.category AS "Category",
                  r.certificate IS NOT NULL AS "Certificate attached"
           FROM ce_records r JOIN members m ON m.id = r.member_id
           WHERE {where} AND r.status = 'pending'
           ORDER BY r.created_at, r.id"""  # noqa: S608 - constants of ours
    )


def awaiting_review(db: Database, filters: Filters) -> int:
    """How many records await the office's review (pending) among the filters' members;
    remembered until a write can change it (a roster's approved rows leave it be)."""
    count: int = db.maintained_value(
        repr(("awaiting review", filters)),
        lambda: _awaiting_review(db, filters),
        _may_change_pending,
    )
    return count


def _pending(db: Database) -> list[tuple[int, int]]:
    """(record, member) of every record awaiting review: a few among millions. A server
    finds them through its partial index (migration 11); DuckDB's scan of the status
    column is as quick."""
    # The index's predicate is this one, word for word: PostgreSQL uses a partial index
    # only for a query whose condition implies it.
    sql = "SELECT id, member_id FROM ce_records WHERE status = 'pending'"
    return db.server_rows(sql) if db.server else db.rows(sql)


def _awaiting_review(db: Database, filters: Filters) -> int:
    pending = Counter(member for _, member in _pending(db))
    where, params = filters.member_where("m")
    if not pending or (where == "true" and not params):  # none, or everyone's
        return sum(pending.values())
    members = in_ids(pending)
    if members is None:  # a backlog of more than ``LITERAL_IDS`` members
        return int(
            db.scalar(
                f"""SELECT count(*) FROM ce_records r JOIN members m ON m.id = r.member_id
                    WHERE r.status = 'pending' AND {where}""",  # noqa: S608 - fixed clauses
                params,
            )
        )
    chosen = db.rows(f"SELECT m.id FROM members m WHERE m.id {members} AND {where}", params)  # noqa: S608
    return sum(pending[member] for (member,) in chosen)


def _may_change_pending(change: Touched) -> bool:
    """Whether a write can change which records are pending: a member's own row, a record
    changed or removed, or one added other than approved."""
    import pyarrow.compute as pc

    return (
        bool(change.members)
        or any(change.rewritten.values())
        or any(
            pc.any(pc.not_equal(rows.column("status"), "approved")).as_py() for rows in change.added
        )
    )


def _notice(approve: bool, reason: str, rows: list[records.Decided]) -> tuple[str, str]:
    """The message a member gets about their reports decided at once: subject and body."""
    # The member's and the office's own words, as typed: the inbox shows Markdown without
    # raw HTML, and an email carries the text as it is.
    several = len(rows) > 1
    courses = "\n".join(
        f"- {r.title} ({r.provider}), {r.day:%m/%d/%Y}: {compute.hours_text(r.hours)}, "
        f"{r.category}, CE year {r.ce_year}"
        for r in rows
    )
    if approve:
        return (
            f"Your reported course{'s were' if several else ' was'} approved",
            f"The association approved the course{'s' if several else ''} you reported:\n\n"
            f"{courses}\n\nThe hours now count on your My CE page.",
        )
    return (
        f"Your reported course{'s were' if several else ' was'} not approved",
        f"The association did not approve the course{'s' if several else ''} you reported:"
        f"\n\n{courses}\n\nReason: {reason}\n\nIf something is missing, such as "
        "the certificate, report the course again with it, or contact the office.",
    )


def decide(
    db: Database, actor: User, record_ids: list[int], *, approve: bool, reason: str = ""
) -> int:
    """Approve or reject pending records (admins); a rejection needs a reason the member sees.

    Each member whose reports were decided gets a message saying so, with the reason in full,
    in the app and (when SMTP is set) by email."""
    actor.require("admin")
    if not approve and not reason.strip():
        raise CetrackerError("Say why the course is rejected; the member will read it.")
    reason = reason.strip()[:500]
    status = "approved" if approve else "rejected"
    notices: list[int] = []
    with db.transaction(tracked=True) as cur:
        decided = records.decide_pending(cur, record_ids, status, reason or None)
        by_member: dict[int, list[records.Decided]] = {}
        for one in decided:
            audit.record(cur, actor.username, status, "ce_record", one.record_id, reason or None)
            by_member.setdefault(one.member_id, []).append(one)
        for member_id, theirs in by_member.items():
            subject, body = _notice(approve, reason, theirs)
            notices.append(messages.notify(db, cur, actor.username, member_id, subject, body))
    smtp = SmtpSettings.from_config()
    if smtp:
        for message_id in notices:
            messages.email_message(db, message_id, smtp)
    return len(decided)
