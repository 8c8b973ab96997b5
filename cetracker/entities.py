"""The office's editors (SPEC §1 admin): one engine for every table a form edits.

Every save is checked field by field with messages a person can act on, writes in one
transaction with its audit entry (what changed, before → after), and is refused when
someone else changed the same row since the editor loaded it. The tables' own modules
(members, providers, courses, dues, records) declare their fields and checks and call this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cetracker import audit
from cetracker.errors import CetrackerError
from cetracker.mail import EMAIL
from cetracker.rules import compute
from cetracker.rules.cells import (
    date_problem,
    number_problem,
    parse_date,
    parse_number,
    quote,
    text,
)
from cetracker.store.db import Database


class StaleEdit(CetrackerError):
    """Someone else saved the same row after this editor loaded it."""

    title = "Changed by someone else"


class Invalid(CetrackerError):
    """One or more fields are wrong; ``problems`` lists them all."""

    title = "Please correct"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class RowsInvalid(Invalid):
    """Rows of a bulk write that its table's checks refuse: {row's index: its problems}."""

    def __init__(self, rows: dict[int, list[str]]) -> None:
        super().__init__([p for problems in rows.values() for p in problems])
        self.rows = rows


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | email | date | hours | money | choice
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    default: Any = None  # what a blank means (a workbook's empty Status cell: "active")


@dataclass(frozen=True)
class Entity:
    name: str  # "member", as the audit log names it
    table: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def clean_field(field: Field, value: Any, problems: list[str], today: date) -> Any:
    """One field's value as stored, or None; what is wrong goes into ``problems``.

    Values come from forms (typed) and from workbook cells (text, numbers, dates) alike.
    """
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "" or (isinstance(value, float) and value != value):
        if field.default is not None:
            return field.default
        if field.required:
            problems.append(f"{field.label} is required.")
        return None
    if field.kind in ("text", "email", "choice"):
        written = text(value)
        if len(written) > field.max_length:
            problems.append(f"{field.label} is longer than {field.max_length} characters.")
        elif any(ord(ch) < 32 for ch in written):
            problems.append(f"{field.label} contains control characters; type it again.")
        elif field.kind == "email" and not EMAIL.match(written):
            problems.append(f"{field.label} {quote(written)} is not an email address.")
        elif field.kind == "choice":
            chosen = next((c for c in field.choices if c.lower() == written.lower()), None)
            if chosen is None:
                problems.append(f"{field.label} must be one of: {', '.join(field.choices)}.")
            return chosen
        return written
    if field.kind == "date":
        if isinstance(value, date):
            day = value.date() if hasattr(value, "date") and callable(value.date) else value
        else:
            parsed = parse_date(value)
            if parsed is None:
                problems.append(date_problem(value, field.label) + ".")
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
    if field.kind == "year":
        number = parse_number(value)
        if (
            number is None
            or number != number.to_integral_value()
            or not compute.is_ce_year(int(number))
        ):
            problems.append(
                f"{field.label} {quote(value)} is not a year from "
                f"{compute.FIRST_CE_YEAR} to {compute.LAST_CE_YEAR}."
            )
            return None
        return int(number)
    # hours, money
    number = value if isinstance(value, Decimal) else parse_number(value)
    if number is None or not number.is_finite():
        problems.append(number_problem(value, field.label) + ".")
        return None
    number = compute.two_places(number)
    if number < 0:
        problems.append(f"{field.label} cannot be negative.")
        return None
    limit = Decimal(1000) if field.kind == "hours" else Decimal(1_000_000)
    if number > limit:
        problems.append(f"{field.label} {text(value)} is more than {limit:,}; check the figure.")
        return None
    if field.kind == "hours" and number == 0:
        problems.append(f"{field.label} must be more than 0.")
        return None
    return number


def check_values(entity: Entity, values: dict[str, Any], today: date) -> dict[str, Any]:
    problems: list[str] = []
    cleaned = {f.name: clean_field(f, values.get(f.name), problems, today) for f in entity.fields}
    if problems:
        raise Invalid(problems)
    return cleaned


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return compute.two_places(value)
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


def save(
    db: Database,
    entity: Entity,
    key: dict[str, Any],
    cleaned: dict[str, Any],
    loaded: dict[str, Any] | None,
    actor: str,
    checks: Callable[[Any, dict[str, Any]], None],
    label: str,
    extra: dict[str, Any] | None = None,
    *,
    tracked: bool = False,
) -> dict[str, list[Any]]:
    """Insert (``loaded`` None) or update one row, refusing a stale edit; audited.

    ``extra`` columns follow from the checked values (a record's CE year) and are written too.
    ``tracked``: the caller's ``checks`` note what the row changes of what the standing
    reads (see ``Database.transaction``); a table the standing does not read notes nothing.
    """
    extra = extra or {}
    with db.transaction(tracked=tracked) as cur:
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


def unique_id(cur: Any, table: str, column: str, value: str, own_id: int | None) -> str | None:
    row = cur.execute(
        f"SELECT id FROM {table} WHERE upper(trim({column})) = upper(trim(?)) AND id IS DISTINCT FROM ?",  # noqa: S608
        [value, own_id],
    ).fetchone()
    return None if row is None else str(row[0])
