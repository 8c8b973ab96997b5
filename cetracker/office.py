"""The office's everyday edits (SPEC §1 admin): members, providers, courses, dues and CE records.

Every save is checked field by field with messages a person can act on, writes
in one transaction with its audit entry (what changed, before → after), and is
refused when someone else changed the same row since the editor loaded it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from cetracker import audit, config, years
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.rules import compute
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

MEMBER_STATUSES = ("active", "inactive")
COURSE_KINDS = ("conference", "workshop", "webinar", "online course")
DUES_STATUSES = ("paid", "partial", "unpaid", "waived")
RECORD_STATUSES = ("approved", "pending", "rejected")
PAGE_SIZE = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaleEdit(CetrackerError):
    """Someone else saved the same row after this editor loaded it."""

    title = "Changed by someone else"


class Invalid(CetrackerError):
    """One or more fields are wrong; ``problems`` lists them all."""

    title = "Please correct"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | email | date | hours | money | choice
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    name: str  # "member", as the audit log names it
    table: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


MEMBER = Entity(
    "member",
    "members",
    (
        Field("license_number", "License number", required=True, max_length=40),
        Field("first_name", "First name", required=True, max_length=100),
        Field("last_name", "Last name", required=True, max_length=100),
        Field("email", "Email", "email"),
        Field("phone", "Phone", max_length=40),
        Field("address", "Mailing address", max_length=300),
        Field("county", "County", max_length=100),
        Field("area", "Area", max_length=100),
        Field("position", "Position", max_length=100),
        Field("status", "Status", "choice", required=True, choices=MEMBER_STATUSES),
        Field("joined", "Joined", "date"),
    ),
)
PROVIDER = Entity(
    "provider",
    "providers",
    (
        Field("license_number", "Provider license number", required=True, max_length=40),
        Field("name", "Name", required=True, max_length=200),
        Field("contact", "Contact name", max_length=200),
        Field("email", "Email", "email"),
        Field("phone", "Phone", max_length=40),
    ),
)
COURSE = Entity(
    "course",
    "courses",
    (
        Field("course_number", "Course number", required=True, max_length=40),
        Field("title", "Title", required=True, max_length=300),
        Field("provider_id", "Provider", "int", required=True),
        Field("category", "Category", required=True, max_length=60),
        Field("hours", "Approved hours", "hours", required=True),
        Field("start_date", "Start date", "date"),
        Field("end_date", "End date", "date"),
        Field("location", "Location", max_length=200),
        Field("kind", "Kind", "choice", required=True, choices=COURSE_KINDS),
    ),
)
DUES = Entity(
    "dues",
    "dues",
    (
        Field("amount_due", "Amount due", "money", required=True),
        Field("amount_paid", "Amount paid", "money", required=True),
        Field("paid_date", "Paid date", "date"),
        Field("status", "Status", "choice", required=True, choices=DUES_STATUSES),
    ),
)
RECORD = Entity(
    "ce_record",
    "ce_records",
    (
        Field("course_id", "Course", "int"),
        Field("title", "Title (when not a listed course)", max_length=300),
        Field("provider_name", "Provider (when not a listed course)", max_length=300),
        Field("course_date", "Course date", "date", required=True),
        Field("hours", "CE hours", "hours", required=True),
        Field("category", "Category", required=True, max_length=60),
        Field("status", "Status", "choice", required=True, choices=RECORD_STATUSES),
    ),
)


# -- reading and checking values --------------------------------------------------------------


def _clean(field: Field, value: Any, problems: list[str], today: date) -> Any:
    """One field's value as stored, or None; what is wrong goes into ``problems``."""
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if field.required:
            problems.append(f"{field.label} is required.")
        return None
    if field.kind in ("text", "email", "choice"):
        text = str(value)
        if len(text) > field.max_length:
            problems.append(f"{field.label} is longer than {field.max_length} characters.")
        elif any(ord(ch) < 32 for ch in text):
            problems.append(f"{field.label} contains control characters; type it again.")
        elif field.kind == "email" and not _EMAIL.match(text):
            problems.append(f"{field.label} “{text}” is not an email address.")
        elif field.kind == "choice" and text not in field.choices:
            problems.append(f"{field.label} must be one of: {', '.join(field.choices)}.")
        return text
    if field.kind == "date":
        if isinstance(value, date):
            day = value
        else:
            from cetracker.rules.cells import parse_date

            parsed = parse_date(value)
            if parsed is None:
                problems.append(f"{field.label} “{value}” is not a date (use YYYY-MM-DD).")
                return None
            day = parsed
        if day > today:
            problems.append(f"{field.label} {day:%m/%d/%Y} is in the future.")
        return day
    if field.kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            problems.append(f"{field.label} is not valid.")
            return None
    # hours, money
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{field.label} “{value}” is not a number.")
        return None
    if not number.is_finite():
        problems.append(f"{field.label} is not a number.")
        return None
    if number < 0:
        problems.append(f"{field.label} cannot be negative.")
        return None
    limit = Decimal(1000) if field.kind == "hours" else Decimal(1_000_000)
    if number > limit:
        problems.append(f"{field.label} {number} is more than {limit}; check the figure.")
        return None
    if field.kind == "hours" and number == 0:
        problems.append(f"{field.label} must be more than 0.")
        return None
    return number.quantize(Decimal("0.01"))


def _values(entity: Entity, values: dict[str, Any], today: date) -> dict[str, Any]:
    problems: list[str] = []
    cleaned = {f.name: _clean(f, values.get(f.name), problems, today) for f in entity.fields}
    if problems:
        raise Invalid(problems)
    return cleaned


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if hasattr(value, "date") and callable(value.date):  # a timestamp read back from DuckDB
        return value.date()
    return value


def _changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    """What changed, as {field: [before, after]} (a new row: every set field)."""
    return {
        k: [None if before is None else before.get(k), v]
        for k, v in after.items()
        if before is None or _comparable(before.get(k)) != _comparable(v)
    }


def _select(entity: Entity, where: str) -> str:
    return f"SELECT {', '.join(f.name for f in entity.fields)} FROM {entity.table} WHERE {where}"  # noqa: S608


def current(db: Database, entity: Entity, key: dict[str, Any]) -> dict[str, Any] | None:
    """The row as the editor loads it: what a later save compares against."""
    where = " AND ".join(f"{k} = ${k}" for k in key)
    cur = db.cursor()
    try:
        row = cur.execute(_select(entity, where), key).fetchone()
    finally:
        cur.close()
    if row is None:
        return None
    return {f.name: _comparable(v) for f, v in zip(entity.fields, row, strict=True)}


def _save(
    db: Database,
    entity: Entity,
    key: dict[str, Any],
    cleaned: dict[str, Any],
    loaded: dict[str, Any] | None,
    actor: str,
    checks: Callable[[Any, dict[str, Any]], None],
    label: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Insert (``loaded`` None) or update one row, refusing a stale edit; audited.

    ``extra`` columns follow from the checked values (a record's CE year) and are written too.
    """
    extra = extra or {}
    with db.transaction() as cur:
        where = " AND ".join(f"{k} = ${k}" for k in key) if key else "false"
        row = cur.execute(_select(entity, where), key).fetchone() if key else None
        now = (
            None
            if row is None
            else {f.name: _comparable(v) for f, v in zip(entity.fields, row, strict=True)}
        )
        if loaded is not None and now != {k: _comparable(v) for k, v in loaded.items()}:
            raise StaleEdit(
                f"Someone else changed this {label} after you opened it. Reload to see their "
                "change, then make yours again; nothing was saved."
            )
        if loaded is None and now is not None:
            raise StaleEdit(f"This {label} was just added by someone else. Reload the page.")
        checks(cur, cleaned)
        changes = _changes(now, cleaned)
        if not changes:
            return {}
        if now is None:
            names = list(key) + list(cleaned) + list(extra)
            cur.execute(
                f"INSERT INTO {entity.table} ({', '.join(names)}) "  # noqa: S608
                f"VALUES ({', '.join('$' + n for n in names)})",
                {**key, **cleaned, **extra},
            )
            action = "created"
            entity_id = key or cleaned
        else:
            written = {**{n: cleaned[n] for n in changes}, **extra}
            sets = ", ".join(f"{n} = $v_{n}" for n in written)
            cur.execute(
                f"UPDATE {entity.table} SET {sets} WHERE {where}",  # noqa: S608
                {**key, **{f"v_{n}": v for n, v in written.items()}},
            )
            action = "updated"
            entity_id = key
        audit.record(
            cur,
            actor,
            f"{label} {action}",
            entity.name,
            _key_text(entity_id),
            {"changes": changes},
        )
    return changes


def _key_text(key: dict[str, Any]) -> str:
    if set(key) == {"id"}:
        return str(key["id"])
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _unique(cur: Any, table: str, column: str, value: str, own_id: int | None) -> str | None:
    row = cur.execute(
        f"SELECT id FROM {table} WHERE upper(trim({column})) = upper(trim(?)) AND id IS DISTINCT FROM ?",  # noqa: S608
        [value, own_id],
    ).fetchone()
    return None if row is None else str(row[0])


# -- members --------------------------------------------------------------------------------------


def save_member(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    member_id: int | None = None,
    loaded: dict[str, Any] | None = None,
    today: date | None = None,
) -> int:
    """Add (no ``member_id``) or change a member; returns its id."""
    cleaned = _values(MEMBER, values, today or config.today())

    def checks(cur: Any, v: dict[str, Any]) -> None:
        other = _unique(cur, "members", "license_number", v["license_number"], member_id)
        if other is not None:
            name = cur.execute(
                "SELECT first_name || ' ' || last_name FROM members WHERE id = ?", [int(other)]
            ).fetchone()[0]
            raise Invalid([f"License number {v['license_number']} already belongs to {name}."])

    if member_id is None:
        new_id = db.new_id("member_ids")
        _save(db, MEMBER, {"id": int(new_id)}, cleaned, None, actor, checks, "member")
        return int(new_id)
    if loaded is None:
        loaded = current(db, MEMBER, {"id": member_id})
        if loaded is None:
            raise CetrackerError("That member no longer exists. Reload the page.")
    _save(db, MEMBER, {"id": member_id}, cleaned, loaded, actor, checks, "member")
    return member_id


def delete_member(db: Database, member_id: int, *, actor: str) -> None:
    """Remove a member added by mistake; one with any records, dues or account stays."""
    with db.transaction() as cur:
        row = cur.execute(
            "SELECT license_number, first_name || ' ' || last_name FROM members WHERE id = ?",
            [member_id],
        ).fetchone()
        if row is None:
            raise CetrackerError("That member no longer exists.")
        used = cur.execute(
            """SELECT (SELECT count(*) FROM ce_records WHERE member_id = $m)
                    + (SELECT count(*) FROM dues WHERE member_id = $m)
                    + (SELECT count(*) FROM users WHERE member_id = $m)
                    + (SELECT count(*) FROM message_recipients WHERE member_id = $m)""",
            {"m": member_id},
        ).fetchone()[0]  # type: ignore[index]  # count(*) always yields a row
        if used:
            raise CetrackerError(
                f"{row[1]} has CE records, dues, messages or an account, so the member cannot be "
                "deleted. Set the status to inactive instead: the history stays."
            )
        cur.execute("DELETE FROM members WHERE id = ?", [member_id])
        audit.record(cur, actor, "member deleted", "member", member_id, {"license_number": row[0]})


def search_members(
    db: Database, text: str = "", status: str = "", page: int = 0
) -> tuple[pd.DataFrame, int]:
    """One page of members matching ``text`` (name, license, email), and how many match."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params = {"t": f"%{escaped}%", "s": status}
    where = """(first_name || ' ' || last_name || ' ' || license_number || ' ' ||
                coalesce(email, '')) ILIKE $t ESCAPE '\\' AND ($s = '' OR status = $s)"""
    total = db.scalar(f"SELECT count(*) FROM members WHERE {where}", params)  # noqa: S608
    frame = db.frame(
        f"""SELECT id, license_number AS "License number", first_name AS "First name",
                   last_name AS "Last name", county AS "County", area AS "Area",
                   position AS "Position", email AS "Email", status AS "Status"
            FROM members WHERE {where}
            ORDER BY last_name, first_name, license_number
            LIMIT {PAGE_SIZE} OFFSET $o""",  # noqa: S608
        {**params, "o": max(0, page) * PAGE_SIZE},
    )
    return frame, int(total)


def history(db: Database, entity: str, entity_id: object, limit: int = 200) -> pd.DataFrame:
    """The audit trail of one row, newest first, each change as "field: before → after"."""
    frame = db.frame(
        """SELECT logged_at AS "When", actor AS "Who", action AS "What", detail
           FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT ?""",
        [entity, str(entity_id), limit],
    )
    frame["Changes"] = [describe_changes(d) for d in frame.pop("detail")]
    return frame


def describe_changes(detail: object) -> str:
    """An audit entry's changes in words: "county: Travis → Hays; status: active → inactive"."""
    if not isinstance(detail, str) or not detail:  # None, or NaN from a frame
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return detail
    if "changes" not in data:  # other details: "members: 601; eligible: 74"
        return "; ".join(
            f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in data.items()
            if v not in (None, "", [])
        )
    parts = []
    for name, (before, after) in data["changes"].items():
        label = name.replace("_", " ")
        parts.append(f"{label}: {'—' if before in (None, '') else before} → {after}")
    return "; ".join(parts)


# -- providers and courses ------------------------------------------------------------------------


def save_provider(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    provider_id: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> int:
    cleaned = _values(PROVIDER, values, config.today())

    def checks(cur: Any, v: dict[str, Any]) -> None:
        if _unique(cur, "providers", "license_number", v["license_number"], provider_id):
            raise Invalid(
                [f"Provider license number {v['license_number']} is already another provider's."]
            )

    if provider_id is None:
        new_id = db.new_id("provider_ids")
        _save(db, PROVIDER, {"id": new_id}, cleaned, None, actor, checks, "provider")
        return new_id
    loaded = loaded or current(db, PROVIDER, {"id": provider_id})
    _save(db, PROVIDER, {"id": provider_id}, cleaned, loaded, actor, checks, "provider")
    return provider_id


def save_course(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    course_id: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> int:
    """Add or change a course or conference (approved hours, dates, provider)."""
    values = {**values}
    # A course may be scheduled ahead: its dates are not checked against today.
    far = date(9999, 12, 31)
    cleaned = _values(COURSE, values, far)
    if (
        cleaned["start_date"]
        and cleaned["end_date"]
        and cleaned["end_date"] < cleaned["start_date"]
    ):
        raise Invalid(
            [
                f"End date {cleaned['end_date']:%m/%d/%Y} is before start date "
                f"{cleaned['start_date']:%m/%d/%Y}."
            ]
        )

    def checks(cur: Any, v: dict[str, Any]) -> None:
        problems = []
        if _unique(cur, "courses", "course_number", v["course_number"], course_id):
            problems.append(
                f"Course number {v['course_number']} is already used by another course."
            )
        if not cur.execute(
            "SELECT count(*) FROM providers WHERE id = ?", [v["provider_id"]]
        ).fetchone()[0]:
            problems.append("Choose the provider that offers this course.")
        if course_id is not None:
            outside = cur.execute(
                """SELECT count(*), max(hours) FILTER (WHERE hours > $h),
                          count(*) FILTER (WHERE course_date < $s OR course_date > $e)
                   FROM ce_records WHERE course_id = $c AND status <> 'rejected'""",
                {
                    "h": v["hours"],
                    "s": v["start_date"] or date.min,
                    "e": v["end_date"] or date.max,
                    "c": course_id,
                },
            ).fetchone()
            if outside[1] is not None:
                problems.append(
                    f"Members already have up to {compute.format_hours(outside[1])} hours for this "
                    f"course; approved hours cannot go below that."
                )
            if outside[2]:
                problems.append(
                    f"{outside[2]} records of this course are dated outside the new dates."
                )
        if problems:
            raise Invalid(problems)

    if course_id is None:
        new_id = db.new_id("course_ids")
        _save(db, COURSE, {"id": new_id}, cleaned, None, actor, checks, "course")
        return new_id
    loaded = loaded or current(db, COURSE, {"id": course_id})
    _save(db, COURSE, {"id": course_id}, cleaned, loaded, actor, checks, "course")
    return course_id


def courses_frame(db: Database, text: str = "") -> pd.DataFrame:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return db.frame(
        """SELECT c.id, c.course_number AS "Course number", c.title AS "Title",
                  p.name AS "Provider", c.category AS "Category",
                  c.hours::DOUBLE AS "Approved hours", c.start_date AS "Start",
                  c.end_date AS "End", c.location AS "Location", c.kind AS "Kind",
                  (SELECT count(*) FROM ce_records r WHERE r.course_id = c.id) AS "Records"
           FROM courses c JOIN providers p ON p.id = c.provider_id
           WHERE (c.course_number || ' ' || c.title || ' ' || p.name) ILIKE $t ESCAPE '\\'
           ORDER BY c.start_date DESC NULLS LAST, c.course_number""",
        {"t": f"%{escaped}%"},
    )


def providers_frame(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT p.id, p.license_number AS "License number", p.name AS "Name",
                  p.contact AS "Contact", p.email AS "Email", p.phone AS "Phone",
                  (SELECT count(*) FROM courses c WHERE c.provider_id = p.id) AS "Courses"
           FROM providers p ORDER BY p.name"""
    )


# -- dues -----------------------------------------------------------------------------------------


def save_dues(
    db: Database,
    member_id: int,
    year: int,
    values: dict[str, Any],
    *,
    actor: str,
    loaded: dict[str, Any] | None | str = "load",
    today: date | None = None,
) -> dict[str, list[Any]]:
    """Set one member's dues for a year; the status must agree with the amounts.

    ``loaded`` is the row as the editor saw it (None: there was none); by default it is read now.
    """
    cleaned = _values(DUES, values, today or config.today())
    due, paid, status = cleaned["amount_due"], cleaned["amount_paid"], cleaned["status"]
    problems = []
    if status == "paid" and paid < due:
        problems.append(f"Status is paid but only {paid} of {due} was paid; choose partial.")
    if status == "partial" and not 0 < paid < due:
        problems.append("Status partial needs an amount paid above 0 and below the amount due.")
    if status == "unpaid" and paid > 0:
        problems.append("Status is unpaid but an amount was paid; choose partial or paid.")
    if paid > 0 and cleaned["paid_date"] is None:
        problems.append("Enter the date the dues were paid.")
    if paid == 0 and cleaned["paid_date"] is not None:
        problems.append("A paid date needs an amount paid.")
    if not 1900 <= year <= 2200:
        problems.append(f"{year} is not a dues year.")
    if problems:
        raise Invalid(problems)
    key = {"member_id": member_id, "year": year}
    seen = current(db, DUES, key) if isinstance(loaded, str) else loaded
    return _save(db, DUES, key, cleaned, seen, actor, lambda _c, _v: None, "dues")


def dues_totals(db: Database, year: int) -> tuple[Decimal, Decimal, int]:
    """Amounts paid and due, and how many members have dues, for ``year``."""
    row = db.one(
        """SELECT coalesce(sum(amount_paid), 0), coalesce(sum(amount_due), 0), count(*)
           FROM dues WHERE year = ?""",
        [year],
    )
    assert row is not None  # an aggregate always yields a row
    return row[0], row[1], int(row[2])


def member_by_license(db: Database, license_number: str) -> tuple[int, str] | None:
    """(id, full name) of the member holding ``license_number`` (case and spaces ignored)."""
    row = db.one(
        "SELECT id, first_name || ' ' || last_name FROM members"
        " WHERE upper(trim(license_number)) = upper(trim(?))",
        [license_number],
    )
    return None if row is None else (int(row[0]), str(row[1]))


def add_dues_for_year(db: Database, year: int, amount: Any, *, actor: str) -> int:
    """Dues of ``amount`` for every active member who has none for ``year`` yet."""
    cleaned = _values(
        Entity("dues", "dues", (Field("amount_due", "Amount due", "money", required=True),)),
        {"amount_due": amount},
        config.today(),
    )
    with db.transaction() as cur:
        added = cur.execute(
            """INSERT INTO dues (member_id, year, amount_due, amount_paid, status)
               SELECT id, $y, $a, 0, 'unpaid' FROM members m
               WHERE status = 'active'
                 AND NOT EXISTS (SELECT 1 FROM dues d WHERE d.member_id = m.id AND d.year = $y)""",
            {"y": year, "a": cleaned["amount_due"]},
        ).fetchone()[0]  # type: ignore[index]  # DuckDB reports the inserted count
        audit.record(
            cur,
            actor,
            "dues added for the year",
            "dues",
            year,
            {"members": int(added), "amount_due": cleaned["amount_due"]},
        )
    return int(added)


# -- CE records -----------------------------------------------------------------------------------


def member_records(db: Database, member_id: int) -> pd.DataFrame:
    return db.frame(
        """SELECT r.id, r.ce_year AS "CE year", r.course_date AS "Date",
                  coalesce(c.course_number, '') AS "Course number",
                  coalesce(c.title, r.title) AS "Course",
                  r.hours::DOUBLE AS "Hours", r.category AS "Category", r.source AS "Source",
                  r.status AS "Status"
           FROM ce_records r LEFT JOIN courses c ON c.id = r.course_id
           WHERE r.member_id = ? ORDER BY r.course_date DESC, r.id DESC""",
        [member_id],
    )


def save_record(
    db: Database,
    member_id: int,
    values: dict[str, Any],
    *,
    actor: str,
    record_id: int | None = None,
    loaded: dict[str, Any] | None = None,
    today: date | None = None,
) -> int:
    """An admin's entry or correction of a CE record; closed years are refused."""
    cleaned = _values(RECORD, values, today or config.today())
    day: date = cleaned["course_date"]
    start = policies.policy_for_year(db, day.year).ce_year_start_month
    year = compute.ce_year_of(day, start)
    if cleaned["course_id"] is None and not cleaned["title"]:
        raise Invalid(["Choose a course, or type the title of a course that is not listed."])

    def checks(cur: Any, v: dict[str, Any]) -> None:
        old_year = (
            cur.execute("SELECT ce_year FROM ce_records WHERE id = ?", [record_id]).fetchone()
            if record_id is not None
            else None
        )
        years.ensure_open(cur, year, *([old_year[0]] if old_year else []))
        if v["course_id"] is not None:
            course = cur.execute(
                "SELECT course_number, hours, start_date, end_date FROM courses WHERE id = ?",
                [v["course_id"]],
            ).fetchone()
            if course is None:
                raise Invalid(["That course no longer exists."])
            number, approved, first, last = course
            problems = []
            if v["hours"] > approved:
                problems.append(
                    f"CE hours {compute.format_hours(v['hours'])} is more than the "
                    f"{compute.format_hours(approved)} hours approved for course {number}."
                )
            if (first and day < first) or (last and day > last):
                problems.append(f"The course date is outside course {number}'s dates.")
            same = cur.execute(
                """SELECT count(*) FROM ce_records WHERE member_id = ? AND course_id = ?
                   AND course_date = ? AND id IS DISTINCT FROM ?""",
                [member_id, v["course_id"], day, record_id],
            ).fetchone()[0]
            if same:
                problems.append(
                    f"This member already has a record of course {number} on {day:%m/%d/%Y}."
                )
            if problems:
                raise Invalid(problems)

    if record_id is None:
        new_id = db.new_id("record_ids")
        extra = {
            "member_id": member_id,
            "ce_year": year,
            "source": "admin entry",
            "created_by": actor,
        }
        _save(db, RECORD, {"id": new_id}, cleaned, None, actor, checks, "CE record", extra)
        return new_id
    key = {"id": record_id}
    loaded = loaded or current(db, RECORD, key)
    if loaded is None:
        raise CetrackerError("That record no longer exists. Reload the page.")
    _save(db, RECORD, key, cleaned, loaded, actor, checks, "CE record", {"ce_year": year})
    return record_id
