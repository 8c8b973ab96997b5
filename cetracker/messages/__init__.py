"""Messages to members (SPEC §6): in the app with read tracking, and by email when SMTP is set.

A director reaches only members in their scope; a message's body is Markdown,
shown without raw HTML; emails carry the text and a safely escaped HTML part.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cetracker import audit
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.filters import FIRST_NAME, LAST_NAME, Filters, name_search
from cetracker.mail import EMAIL, SmtpSettings, compose_email, connect
from cetracker.rules.cells import name_order
from cetracker.store.db import LITERAL_IDS, Database, in_ids

if TYPE_CHECKING:
    import pandas as pd

MERGE_FIELDS = (
    "first_name",
    "last_name",
    "year",
    "earned",
    "carried_in",
    "credited",
    "required",
    "short_by",
    "missing",  # what keeps the member from eligibility, in the Hour Summary's words
)


@dataclass(frozen=True)
class Audience:
    """Who a message goes to: everyone in the sender's scope, or those matching the filters."""

    first_name: str = ""
    last_name: str = ""
    counties: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    member_ids: tuple[int, ...] | None = None  # chosen elsewhere (e.g. from a report)
    # Inactive members are left out unless the sender chose otherwise where they chose.
    include_inactive: bool = False


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    errors: dict[int, str] = field(default_factory=dict)


MAX_SUBJECT = 200
MAX_BODY = 20_000


def check_lengths(subject: str, body: str) -> None:
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise CetrackerError("Keep the subject under 200 and the message under 20,000 characters.")


def _can_send(user: User) -> None:
    user.require("admin", "director")


def recipients(db: Database, sender: User, audience: Audience) -> pd.DataFrame:
    """The members a message would reach (active ones unless the audience includes
    inactive members), limited to the sender's scope."""
    _can_send(sender)
    where, params = Filters(
        year=0,
        counties=audience.counties,
        areas=audience.areas,
        positions=audience.positions,
        scope=sender.scope,
    ).member_where("m")
    # Parts of names, as every search box finds them: "ann" finds Ann and Annette.
    first, first_words = name_search(
        audience.first_name, "m.search_key", part=FIRST_NAME, prefix="first"
    )
    last, last_words = name_search(
        audience.last_name, "m.search_key", part=LAST_NAME, prefix="last"
    )
    params.update(
        first_words,
        **last_words,
        ids=list(audience.member_ids or []),
        use_ids=audience.member_ids is not None,
        inactive=audience.include_inactive,
    )
    return db.frame(
        f"""SELECT m.id AS member_id, m.license_number, m.first_name, m.last_name, m.email,
                   m.county, m.area, m.position, m.status
            FROM members m
            WHERE ($inactive OR m.status = 'active') AND {where}
              AND {first} AND {last}
              AND (NOT $use_ids OR m.id IN (SELECT unnest($ids::INTEGER[])))
            ORDER BY {name_order("m")}""",  # noqa: S608 - fixed clause, values are parameters
        params,
        bulk=True,  # on a server the filters are not passed on: every member is read
    )


def merge(body: str, fields: dict[str, Any]) -> str:
    """Fill {first_name}, {short_by} and the other merge fields; leave anything else as typed."""
    return re.sub(r"\{(\w+)\}", lambda m: str(fields[m[1]]) if m[1] in fields else m[0], body)


def merge_warnings(subject: str, body: str, *, emailed: bool = True) -> list[str]:
    """What will not be filled in as the sender may expect, in sentences: a {name} that is
    no merge field (members read it as typed), and merge fields in the subject (filled in
    the emails only, ``emailed``: CE Tracker shows the subject as typed)."""
    named = re.findall(r"\{(\w+)\}", subject + "\n" + body)
    unknown = sorted({n for n in named if n not in MERGE_FIELDS})
    found = []
    if unknown:
        listed = ", ".join("{" + n + "}" for n in unknown)
        known = ", ".join("{" + n + "}" for n in MERGE_FIELDS)
        found.append(
            f"{listed} {'is not a merge field' if len(unknown) == 1 else 'are not merge fields'}"
            f", so members will read {'it' if len(unknown) == 1 else 'them'} as typed. "
            f"The merge fields are {known}."
        )
    if any(n in MERGE_FIELDS for n in re.findall(r"\{(\w+)\}", subject)):
        found.append(
            (
                "Merge fields in the subject are filled in the emails only: in CE Tracker "
                "the subject shows as typed."
                if emailed
                else "Merge fields in the subject are not filled in: the subject shows as typed."
            )
            + " Put them in the message instead."
        )
    return found


STANDING_FIELDS = ("year", "earned", "carried_in", "credited", "required", "short_by", "missing")


def merge_fields_help() -> str:
    """The sentence under a message's body that lists its merge fields."""
    listed = ", ".join("{" + name + "}" for name in MERGE_FIELDS)
    return f"Plain text or Markdown. These are filled in for each member: {listed}."


def uses_standing(*texts: str) -> bool:
    """Whether a subject or body names a merge field that needs the members' hours."""
    return any("{" + name + "}" in text for text in texts for name in STANDING_FIELDS)


def standing_fields(
    db: Database, sender: User, year: int, member_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """{year}, {earned}, {carried_in}, {credited}, {required}, {short_by}, {missing} per member, for
    the CE year ``year``, as the command line's ``message send`` fills them in."""
    from cetracker.standing import hour_summary

    _can_send(sender)
    frame = hour_summary(db, Filters(year=year, scope=sender.scope), detail=True)
    return fields_of(frame[frame["member_id"].isin(set(member_ids))], year)


def fields_of(frame: pd.DataFrame, year: int) -> dict[int, dict[str, Any]]:
    """The standing merge fields of each member of an hour-summary frame (detail=True)."""
    from cetracker.rules.compute import format_hours

    return {
        int(r.member_id): {
            "year": year,
            "earned": format_hours(r.earned),
            "carried_in": format_hours(r.carried_in),
            "credited": format_hours(r.credited),
            "required": format_hours(r.required),
            "short_by": format_hours(r.short_by),
            # "4 hours short; Ethics: 1 of 3 hours" (empty for an eligible member)
            "missing": r.why_not_eligible if isinstance(r.why_not_eligible, str) else "",
        }
        for r in frame.itertuples()
    }


def preview(body: str, person: dict[str, Any], fields: dict[str, Any] | None = None) -> str:
    """The body exactly as one recipient will read it.

    ``person`` holds first_name and last_name; ``fields`` the standing fields of
    ``standing_fields`` for that member. (The subject is shown in the app as typed.)
    """
    personal = {
        "first_name": person.get("first_name", ""),
        "last_name": person.get("last_name", ""),
        **(fields or {}),
    }
    return merge(body, personal)


def send(
    db: Database,
    sender: User,
    *,
    subject: str,
    body: str,
    reply_to: str = "",
    member_ids: list[int],
    smtp: SmtpSettings | None = None,
    fields: dict[int, dict[str, Any]] | None = None,
    progress: Callable[[float, str], None] | None = None,
    include_inactive: bool = False,
    within: Callable[[Any, int], None] | None = None,
) -> int:
    """Store the message for each recipient (one transaction), then email it when SMTP is set.

    Inactive members among ``member_ids`` are refused unless ``include_inactive``: the
    sender chose them knowingly. ``within(cur, message_id)`` runs first in that
    transaction (a reminder claims its send there): when it raises, nothing is stored.
    """
    _can_send(sender)
    subject, body, reply_to = subject.strip(), body.strip(), reply_to.strip()
    if not subject:
        raise CetrackerError("Enter a subject.")
    if not body:
        raise CetrackerError("Write the message.")
    check_lengths(subject, body)
    if reply_to and not EMAIL.match(reply_to):
        raise CetrackerError("The reply-to address is not an email address; correct or clear it.")
    if not member_ids:
        raise CetrackerError("Nobody would receive this message: choose at least one member.")
    reachable = recipients(
        db, sender, Audience(member_ids=tuple(member_ids), include_inactive=include_inactive)
    )
    allowed = set(reachable["member_id"])
    names = {
        int(r.member_id): {"first_name": r.first_name, "last_name": r.last_name}
        for r in reachable.itertuples()
    }
    if set(member_ids) - allowed:
        raise NotAllowed(
            "Some chosen members are outside the members you may write to"
            + ("" if include_inactive else ", or inactive")
            + ": choose the recipients again."
        )
    with db.transaction(reports=False) as cur:
        message_id = db.new_id("message_ids", cur)
        if within is not None:
            within(cur, message_id)
        cur.execute(
            "INSERT INTO messages (id, subject, body, reply_to, sender) VALUES (?, ?, ?, ?, ?)",
            [message_id, subject, body, reply_to or None, sender.username],
        )
        import pyarrow as pa

        ids = sorted(allowed)
        personal = [
            merge(body, {**names[i], **(fields or {}).get(i, {})}) if "{" in body else None
            for i in ids
        ]
        cur.register(
            "chosen",
            pa.table(
                {
                    "member_id": pa.array(ids, pa.int32()),
                    "personal": pa.array(personal, pa.string()),
                }
            ),
        )
        cur.execute(
            "INSERT INTO message_recipients (message_id, member_id, email_status, personal_body)"
            " SELECT ?, member_id, ?, personal FROM chosen",
            [message_id, "queued" if smtp else None],
        )
        cur.unregister("chosen")
        audit.record(
            cur,
            sender.username,
            "message sent",
            "message",
            message_id,
            {"subject": subject, "recipients": len(allowed)},
        )
    if smtp:
        email_message(db, int(message_id), smtp, fields=fields, progress=progress)
    return int(message_id)


def notify(db: Database, cur: Any, sender: str, member_id: int, subject: str, body: str) -> int:
    """A message to one member about their own records (an approval, a rejection, a
    reminder), written in the caller's transaction: no scope to check, the caller decided who.
    Email it with ``email_message`` once the transaction has committed."""
    message_id = db.new_id("message_ids", cur)
    cur.execute(
        "INSERT INTO messages (id, subject, body, reply_to, sender) VALUES (?, ?, ?, NULL, ?)",
        [message_id, subject[:200], body[:20_000], sender],
    )
    cur.execute(
        "INSERT INTO message_recipients (message_id, member_id, email_status) VALUES (?, ?, ?)",
        [message_id, member_id, "queued" if SmtpSettings.from_config() else None],
    )
    return int(message_id)


def email_message(
    db: Database,
    message_id: int,
    smtp: SmtpSettings,
    *,
    only_failed: bool = False,
    fields: dict[int, dict[str, Any]] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Delivery:
    """Email one message to its recipients (or retry those that failed); record each outcome."""
    message = db.one("SELECT subject, body, reply_to FROM messages WHERE id = ?", [message_id])
    if message is None:
        raise CetrackerError(f"There is no message {message_id}.")
    subject, body, reply_to = message
    targets = db.rows(
        f"""SELECT r.member_id, m.email, m.first_name, m.last_name FROM message_recipients r
           JOIN members m ON m.id = r.member_id
           WHERE r.message_id = ? AND (NOT ? OR r.email_status = 'failed')
           ORDER BY {name_order("m")}""",  # noqa: S608 - constants
        [message_id, only_failed],
    )
    result = Delivery()
    outcomes: list[tuple[str, str | None, int]] = []
    server: smtplib.SMTP | None = None
    try:
        try:
            server = connect(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            reason = f"the mail server could not be reached: {exc}"
            outcomes = [("failed", reason, mid) for mid, *_ in targets]
            result.failed = len(targets)
        else:
            for i, (member_id, address, first, last) in enumerate(targets):
                if progress and i % 25 == 0:
                    progress(i / max(1, len(targets)), f"Emailing {i:,} of {len(targets):,}…")
                if not address or not EMAIL.match(address):
                    outcomes.append(("failed", "no valid email address on file", member_id))
                    result.failed += 1
                    continue
                personal = {
                    "first_name": first,
                    "last_name": last,
                    **((fields or {}).get(member_id, {})),
                }
                try:
                    server.send_message(
                        compose_email(
                            smtp,
                            address,
                            f"{first} {last}",
                            merge(subject, personal),
                            merge(body, personal),
                            reply_to,
                        )
                    )
                except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as exc:
                    outcomes.append(("failed", str(exc)[:300], member_id))
                    result.failed += 1
                else:
                    outcomes.append(("sent", None, member_id))
                    result.sent += 1
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    with db.transaction(reports=False) as cur:
        import pyarrow as pa

        # One UPDATE from a batch: DuckDB runs row-by-row statements slowly.
        cur.register(
            "outcomes",
            pa.table(
                {
                    "status": pa.array([o[0] for o in outcomes], pa.string()),
                    "error": pa.array([o[1] for o in outcomes], pa.string()),
                    "member_id": pa.array([o[2] for o in outcomes], pa.int32()),
                }
            ),
        )
        cur.execute(
            """UPDATE message_recipients r SET email_status = o.status, email_error = o.error
               FROM outcomes o WHERE r.member_id = o.member_id AND r.message_id = ?""",
            [message_id],
        )
        cur.unregister("outcomes")
    if progress:
        progress(1.0, f"Emailed {result.sent:,}; {result.failed:,} failed.")
    return result


def inbox(db: Database, user: User) -> pd.DataFrame:
    if user.member_id is None:
        raise NotAllowed("Only members have an inbox.")
    return db.frame(
        """SELECT m.id, m.subject AS "Subject", m.sent_at AS "Sent", m.reply_to AS "Reply to",
                  r.read_at IS NOT NULL AS "Read"
           FROM message_recipients r JOIN messages m ON m.id = r.message_id
           WHERE r.member_id = ? ORDER BY m.sent_at DESC, m.id DESC""",
        [user.member_id],
    )


def unread_count(db: Database, user: User) -> int:
    if user.member_id is None:
        return 0
    return int(
        db.scalar(
            "SELECT count(*) FROM message_recipients WHERE member_id = ? AND read_at IS NULL",
            [user.member_id],
        )
        or 0
    )


def open_message(db: Database, user: User, message_id: int) -> tuple[str, str, str | None]:
    """A message for its recipient; the first opening marks it read, with the time."""
    if user.member_id is None:
        raise NotAllowed("Only members have an inbox.")
    row = db.one(
        """SELECT m.subject, coalesce(r.personal_body, m.body), m.reply_to, r.read_at
           FROM message_recipients r
           JOIN messages m ON m.id = r.message_id WHERE r.message_id = ? AND r.member_id = ?""",
        [message_id, user.member_id],
    )
    if row is None:
        raise NotAllowed("That message was not sent to you.")
    if row[3] is None:
        db.execute(
            "UPDATE message_recipients SET read_at = current_timestamp"
            " WHERE message_id = ? AND member_id = ? AND read_at IS NULL",
            [message_id, user.member_id],
            reports=False,
        )
    return row[0], row[1], row[2]


def sent_list(db: Database, user: User) -> pd.DataFrame:
    """Per message: sent to N, read by M, emails sent and failed (directors see their own)."""
    _can_send(user)
    return db.frame(
        """SELECT m.id AS "Message", m.sent_at AS "Sent", m.sender AS "From",
                  m.subject AS "Subject", count(*) AS "Sent to",
                  count(r.read_at) AS "Read by",
                  count(*) FILTER (WHERE r.email_status = 'sent') AS "Emails sent",
                  count(*) FILTER (WHERE r.email_status = 'failed') AS "Emails failed"
           FROM messages m JOIN message_recipients r ON r.message_id = m.id
           WHERE $admin OR m.sender = $me
           GROUP BY ALL ORDER BY m.sent_at DESC, m.id DESC""",
        {"admin": user.role == "admin", "me": user.username},
    )


@dataclass(frozen=True)
class SentMessage:
    """A sent message as its sender sees it: what was sent, when, by whom, to how many."""

    id: int
    subject: str
    body: str
    reply_to: str | None
    sender: str
    sent_at: datetime
    recipients: int
    read: int
    personalised: bool  # merge fields were filled in per recipient


def sent_message(db: Database, user: User, message_id: int) -> SentMessage:
    """One of the messages this user may see in Sent Messages (an admin: all)."""
    _can_send(user)
    row = db.one(
        """SELECT m.id, m.subject, m.body, m.reply_to, m.sender, m.sent_at, count(r.member_id),
                  count(r.read_at), count(r.personal_body) > 0
           FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id
           WHERE m.id = $id AND ($admin OR m.sender = $me)
           GROUP BY ALL""",
        {"id": message_id, "admin": user.role == "admin", "me": user.username},
    )
    if row is None:
        raise NotAllowed("That message is not one you sent.")
    return SentMessage(
        int(row[0]), row[1], row[2], row[3], row[4], row[5], int(row[6]), int(row[7]), bool(row[8])
    )


NOT_EMAILED = "not emailed (no mail server was set up)"


def message_recipients(
    db: Database, user: User, message_id: int, *, unread_only: bool = False
) -> pd.DataFrame:
    """Per recipient of a sent message: who, their email address, when they read it, and
    what became of the email (sent, queued, failed with the reason, or not emailed)."""
    sent_message(db, user, message_id)  # refuses a message the user may not see
    # A few recipients are named as constants, which a server looks up by id; for many,
    # the join (not passed on) reads every member from it. (One more than are named at
    # most is enough to know: a message to every member is not read twice.)
    listed = in_ids(
        [
            m
            for (m,) in db.rows(
                "SELECT member_id FROM message_recipients WHERE message_id = ? LIMIT ?",
                [message_id, LITERAL_IDS + 1],
            )
        ]
    )
    return db.frame(
        f"""SELECT mb.license_number AS "License number", mb.first_name AS "First name",
                  mb.last_name AS "Last name", coalesce(mb.email, '') AS "Email address",
                  coalesce(strftime(r.read_at, '%m/%d/%Y %H:%M'), 'not yet') AS "Read at",
                  CASE WHEN r.email_status IS NULL THEN '{NOT_EMAILED}'
                       WHEN r.email_status = 'failed'
                           THEN 'failed: ' || coalesce(r.email_error, 'no reason given')
                       ELSE r.email_status END AS "Email"
           FROM message_recipients r JOIN members mb ON mb.id = r.member_id
           WHERE r.message_id = $id AND (NOT $unread OR r.read_at IS NULL)
                 {f"AND mb.id {listed}" if listed else ""}
           ORDER BY {name_order("mb")}""",  # noqa: S608 - constants
        {"id": message_id, "unread": unread_only},
        bulk=listed is None,
    )


def not_read_by(db: Database, user: User, message_id: int) -> pd.DataFrame:
    """The recipients who have not opened the message yet, with what became of their email."""
    return message_recipients(db, user, message_id, unread_only=True).drop(columns=["Read at"])
