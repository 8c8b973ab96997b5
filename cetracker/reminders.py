"""Reminders that send themselves (SPEC §8, "Scheduled work runs itself").

An admin schedules reminders a number of days before the CE year ends (e.g. 60 and
14). When one is due it goes to every active member short of hours for the current
CE year, merged with that member's own figures (the merge fields of ``messages``),
to their inbox in the app and by email when a mail server is set up.

A reminder goes once per CE year: its (schedule, CE year) key is claimed in the very
transaction that stores the messages, before any email leaves, so two app processes
sharing a server, or the app and ``cetracker reminders --run``, cannot both send it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cetracker import audit, config, messages
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError
from cetracker.filters import Filters
from cetracker.mail import SmtpSettings
from cetracker.standing import hour_summary
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MAX_DAYS_BEFORE = 366

DEFAULT_SUBJECT = "Reminder: you are short of CE hours"
DEFAULT_BODY = (
    "Dear {first_name},\n\n"
    "The {year} CE year is coming to an end. CE Tracker shows {credited} of the "
    "{required} education hours required, and you are not yet eligible: **{missing}**.\n\n"
    "Clerks short of hours are not eligible to vote, be elected for clerk of the year or "
    "run for Secretary of the association. Take a conference or course before the year "
    "ends, or report one you took under *Report a Course*."
)


@dataclass(frozen=True)
class Schedule:
    """A reminder the admin set: when it goes, and what it says (with merge fields)."""

    id: int
    days_before: int
    subject: str
    body: str
    active: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Sent:
    """One reminder run: which schedule, for which CE year, to how many members."""

    schedule_id: int
    days_before: int
    ce_year: int
    members: int
    message_id: int | None
    emailed: bool


@dataclass(frozen=True)
class Preview:
    """A reminder as one member short of hours would read it now."""

    member: str
    subject: str
    body: str
    short_members: int
    year: int


def sends_on(year_end: date, days_before: int) -> date:
    """Reminder rule: a schedule is due from ``days_before`` days before the CE year's last
    day (``policy.ce_year_end``) through that last day, once per CE year."""
    return year_end - timedelta(days=days_before)


def is_due(today: date, year_end: date, days_before: int) -> bool:
    """Reminder rule (see ``sends_on``): due on or after its day and while the year runs."""
    return sends_on(year_end, days_before) <= today <= year_end


def current_year(db: Database) -> tuple[int, date]:
    """The current CE year and its last day, as the policy in force says."""
    year = policies.current_ce_year(db)
    return year, policies.ce_year_end(db, year)


def _row(row: tuple[Any, ...]) -> Schedule:
    return Schedule(
        int(row[0]), int(row[1]), str(row[2]), str(row[3]), bool(row[4]), str(row[5]), row[6]
    )


_COLUMNS = "id, days_before, subject, body, active, created_by, created_at"


def schedules(db: Database) -> list[Schedule]:
    """Every schedule, soonest first (most days before the end first)."""
    return [
        _row(r)
        for r in db.rows(
            f"SELECT {_COLUMNS} FROM reminder_schedules ORDER BY days_before DESC, id"  # noqa: S608 - constant
        )
    ]


def schedule(db: Database, schedule_id: int) -> Schedule:
    row = db.one(
        f"SELECT {_COLUMNS} FROM reminder_schedules WHERE id = ?",  # noqa: S608 - constant
        [schedule_id],
    )
    if row is None:
        raise CetrackerError(f"There is no reminder {schedule_id}; reload the page.")
    return _row(row)


def _checked(days_before: object, subject: str, body: str) -> tuple[int, str, str]:
    try:
        days = int(str(days_before).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_DAYS_BEFORE:
        raise CetrackerError(
            f"Enter the days before the CE year ends as a whole number from 0 to "
            f"{MAX_DAYS_BEFORE} (e.g. 60)."
        )
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise CetrackerError("Enter a subject for the reminder.")
    if not body:
        raise CetrackerError("Write the reminder's message.")
    messages.check_lengths(subject, body)
    return days, subject, body


def add_schedule(
    db: Database, user: User, *, days_before: object, subject: str, body: str, active: bool = True
) -> int:
    """A new reminder schedule (admins); returns its id."""
    user.require("admin")
    days, subject, body = _checked(days_before, subject, body)
    with db.transaction(reports=False) as cur:
        schedule_id = db.new_id("reminder_ids", cur)
        cur.execute(
            """INSERT INTO reminder_schedules (id, days_before, subject, body, active, created_by)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [schedule_id, days, subject, body, active, user.username],
        )
        audit.record(
            cur,
            user.username,
            "reminder added",
            "reminder",
            schedule_id,
            {"days_before": days, "subject": subject, "active": active},
        )
    return schedule_id


def update_schedule(
    db: Database,
    user: User,
    schedule_id: int,
    *,
    days_before: object,
    subject: str,
    body: str,
    active: bool,
) -> dict[str, list[Any]]:
    """Change a schedule (or deactivate it: ``active=False``); returns the changes made.

    A reminder already sent for the current CE year is not sent again, whatever changes.
    """
    user.require("admin")
    days, subject, body = _checked(days_before, subject, body)
    before = schedule(db, schedule_id)
    after = {"days_before": days, "subject": subject, "body": body, "active": active}
    changes = {
        name: [getattr(before, name), value]
        for name, value in after.items()
        if getattr(before, name) != value
    }
    if not changes:
        return {}
    with db.transaction(reports=False) as cur:
        cur.execute(
            """UPDATE reminder_schedules
               SET days_before = ?, subject = ?, body = ?, active = ?, updated_by = ?,
                   updated_at = current_timestamp
               WHERE id = ?""",
            [days, subject, body, active, user.username, schedule_id],
        )
        shown = {k: v for k, v in changes.items() if k != "body"}
        if "body" in changes:
            shown["message"] = ["(earlier text)", "(new text)"]
        action = (
            "reminder deactivated" if changes.get("active") == [True, False] else "reminder changed"
        )
        audit.record(cur, user.username, action, "reminder", schedule_id, {"changes": shown})
    return changes


def sent_for(db: Database, year: int) -> dict[int, datetime]:
    """Schedule id -> when it was sent for CE year ``year``."""
    return {
        int(s): at
        for s, at in db.rows(
            "SELECT schedule_id, sent_at FROM reminder_sends WHERE ce_year = ?", [year]
        )
    }


def due(db: Database, today: date | None = None) -> list[Schedule]:
    """The active schedules due today for the current CE year and not yet sent for it."""
    today = today or config.today()
    year = policies.ce_year_of(db, today)
    end = policies.ce_year_end(db, year)
    done = sent_for(db, year)
    return [
        s
        for s in schedules(db)
        if s.active and s.id not in done and is_due(today, end, s.days_before)
    ]


def short_members(db: Database, year: int) -> pd.DataFrame:
    """Active members short of hours (total or a category) for ``year``, in report order."""
    frame = hour_summary(db, Filters(year=year, short_only=True), detail=True)
    return frame[frame["status"] == "active"]


def _sender(actor: str) -> User:
    # Reminders reach every member, as an admin's message would; the name says who sent them.
    return User(username=actor, role="admin")


def preview(db: Database, user: User, subject: str, body: str) -> Preview | None:
    """The text as the first member short of hours would read it now (None: nobody short)."""
    user.require("admin")
    year, _ = current_year(db)
    short = short_members(db, year)
    if short.empty:
        return None
    first = short.iloc[0]
    member_id = int(first["member_id"])
    person = {"first_name": first["first_name"], "last_name": first["last_name"]}
    fields = messages.fields_of(short.head(1), year).get(member_id, {})
    return Preview(
        member=f"{first['first_name']} {first['last_name']}",
        subject=subject.strip(),  # shown in the app as typed, as every message's subject
        body=messages.preview(body, person, fields),
        short_members=len(short),
        year=year,
    )


def _already_sent(db: Database, schedule_id: int, year: int) -> bool:
    return bool(
        db.scalar(
            "SELECT count(*) FROM reminder_sends WHERE schedule_id = ? AND ce_year = ?",
            [schedule_id, year],
        )
    )


def send(
    db: Database,
    reminder: Schedule,
    year: int,
    *,
    actor: str,
    smtp: SmtpSettings | None,
) -> Sent | None:
    """Send one reminder for CE year ``year`` to the members short of hours, once.

    Returns None when it had been sent for that year already (by this process or another).
    """
    if _already_sent(db, reminder.id, year):
        return None
    short = short_members(db, year)
    member_ids = [int(i) for i in short["member_id"]]

    def claim(cur: Any, message_id: int | None) -> None:
        # The key (schedule, CE year) is the guarantee: a second claim fails here, and
        # with it everything its transaction would have stored.
        cur.execute(
            """INSERT INTO reminder_sends (schedule_id, ce_year, sent_by, members, message_id)
               VALUES (?, ?, ?, ?, ?)""",
            [reminder.id, year, actor, len(member_ids), message_id],
        )
        audit.record(
            cur,
            actor,
            "reminder sent",
            "reminder",
            reminder.id,
            {
                "ce_year": year,
                "days_before": reminder.days_before,
                "members": len(member_ids),
                "message": message_id,
                "emailed": smtp is not None and bool(member_ids),
            },
        )

    message_id: int | None = None
    try:
        if member_ids:
            sender = _sender(actor)
            message_id = messages.send(
                db,
                sender,
                subject=reminder.subject,
                body=reminder.body,
                member_ids=member_ids,
                smtp=smtp,
                fields=messages.fields_of(short, year),
                within=claim,
            )
        else:
            with db.transaction(reports=False) as cur:
                claim(cur, None)
    except Exception:
        if _already_sent(db, reminder.id, year):
            return None  # another process claimed it first; its send stands
        raise
    return Sent(
        reminder.id,
        reminder.days_before,
        year,
        len(member_ids),
        message_id,
        smtp is not None and bool(member_ids),
    )


def run_due(
    db: Database,
    *,
    actor: str = "scheduler",
    smtp: SmtpSettings | None = None,
    today: date | None = None,
) -> list[Sent]:
    """Send every reminder due today (each once per CE year); return what was sent.

    One reminder's failure is logged and the others still go; it is tried again at the
    next run (nothing of it was stored).
    """
    today = today or config.today()
    year = policies.ce_year_of(db, today)
    done: list[Sent] = []
    failures: list[str] = []
    for reminder in due(db, today):
        try:
            sent = send(db, reminder, year, actor=actor, smtp=smtp)
        except Exception as exc:
            log.exception("Reminder %s for CE year %s could not be sent", reminder.id, year)
            failures.append(f"reminder {reminder.id}: {exc}")
            continue
        if sent is not None:
            done.append(sent)
    if failures:
        raise RemindersFailed(done, failures)
    return done


class RemindersFailed(CetrackerError):
    """Some due reminders could not be sent (the others were): what was sent, and why not."""

    def __init__(self, sent: list[Sent], failures: list[str]) -> None:
        super().__init__(
            "Some reminders could not be sent and will be tried again: " + "; ".join(failures)
        )
        self.sent = sent
        self.failures = failures


def overview(db: Database, user: User) -> pd.DataFrame:
    """The schedules as the Reminders page lists them, with this CE year's send day."""
    import pandas as pd

    user.require("admin")
    year, end = current_year(db)
    done = sent_for(db, year)
    rows = schedules(db)
    return pd.DataFrame(
        {
            "Reminder": [s.id for s in rows],
            "Days before the year ends": [s.days_before for s in rows],
            "Sends on": [sends_on(end, s.days_before) for s in rows],
            "Subject": [s.subject for s in rows],
            "Active": [s.active for s in rows],
            f"Sent for {year}": [
                f"{done[s.id]:%m/%d/%Y %H:%M}" if s.id in done else "not yet" for s in rows
            ],
            "Created by": [s.created_by for s in rows],
        }
    )


def past_sends(db: Database, user: User) -> pd.DataFrame:
    """Every reminder run, newest first: when, for which year, to how many, read and emailed."""
    user.require("admin")
    return db.frame(
        """SELECT s.sent_at AS "Sent", s.ce_year AS "CE year", s.schedule_id AS "Reminder",
                  r.days_before AS "Days before", r.subject AS "Subject",
                  s.members AS "Members", s.sent_by AS "Sent by",
                  count(mr.read_at) AS "Read by",
                  count(*) FILTER (WHERE mr.email_status = 'sent') AS "Emails sent",
                  count(*) FILTER (WHERE mr.email_status = 'failed') AS "Emails failed"
           FROM reminder_sends s
           JOIN reminder_schedules r ON r.id = s.schedule_id
           LEFT JOIN message_recipients mr ON mr.message_id = s.message_id
           GROUP BY ALL ORDER BY s.sent_at DESC, s.schedule_id"""
    )
