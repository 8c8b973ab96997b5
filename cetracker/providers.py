"""Providers: a provider's own profile and courses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cetracker import config, entities
from cetracker.accounts.users import User
from cetracker.errors import NotAllowed
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd


def provider_profile(db: Database, user: User) -> dict[str, Any]:
    if user.provider_id is None:
        raise NotAllowed("This account is not linked to a course provider.")
    row = db.one(
        "SELECT license_number, name, contact, email, phone FROM providers WHERE id = ?",
        [user.provider_id],
    )
    if row is None:
        raise NotAllowed("This account's provider no longer exists.")
    return dict(zip(["license_number", "name", "contact", "email", "phone"], row, strict=True))


def list_providers(db: Database) -> list[tuple[int, str, str]]:
    """(id, license number, name) of every provider, by name."""
    return [
        (int(i), lic, name)
        for i, lic, name in db.rows("SELECT id, license_number, name FROM providers ORDER BY name")
    ]


def provider_courses(db: Database, provider_id: int) -> pd.DataFrame:
    return db.frame(
        """SELECT course_number AS "Course number", title AS "Title", category AS "Category",
                  hours::DOUBLE AS "Approved hours", start_date AS "Start", end_date AS "End",
                  location AS "Location", kind AS "Kind"
           FROM courses WHERE provider_id = ? ORDER BY start_date DESC NULLS LAST, course_number""",
        [provider_id],
    )


def attendee_years(db: Database, provider_id: int) -> list[int]:
    """The CE years in which anyone is recorded for this provider's courses, newest first."""
    return [
        int(y)
        for (y,) in db.rows(
            """SELECT DISTINCT r.ce_year FROM ce_records r JOIN courses c ON c.id = r.course_id
               WHERE c.provider_id = ? ORDER BY 1 DESC""",
            [provider_id],
        )
    ]


def attendees(
    db: Database,
    provider_id: int,
    *,
    year: int | None = None,
    course_number: str = "",
    name: str = "",
    limit: int | None = None,
) -> pd.DataFrame:
    """Everyone recorded for this provider's courses (SPEC §1, provider "CE details")."""
    escaped = name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return db.frame(
        """SELECT c.course_number AS "Course number", c.title AS "Course", r.course_date AS "Date",
                  r.ce_year AS "CE year", m.first_name AS "First name", m.last_name AS "Last name",
                  m.license_number AS "License number", r.hours::DOUBLE AS "Hours",
                  r.status AS "Status"
           FROM ce_records r
           JOIN courses c ON c.id = r.course_id
           JOIN members m ON m.id = r.member_id
           WHERE c.provider_id = $p
             AND ($year IS NULL OR r.ce_year = $year)
             AND ($course = '' OR c.course_number = $course)
             AND ($name = '' OR (m.first_name || ' ' || m.last_name || ' ' || m.license_number)
                                ILIKE '%' || $name || '%' ESCAPE '\\')
           ORDER BY r.course_date DESC, m.last_name, m.first_name
           LIMIT coalesce($limit, 9223372036854775807)""",
        {"p": provider_id, "year": year, "course": course_number, "name": escaped, "limit": limit},
    )


def import_history(db: Database, provider_id: int | None) -> pd.DataFrame:
    """Every upload, newest first; a provider sees only its own (``provider_id``)."""
    return db.frame(
        """SELECT i.id AS "Import", i.uploaded_at AS "Uploaded", i.uploaded_by AS "By",
                  p.name AS "Provider", i.file_name AS "File", i.processed AS "Processed",
                  i.failed AS "Failed", i.total AS "Total"
           FROM imports i JOIN providers p ON p.id = i.provider_id
           WHERE $p IS NULL OR i.provider_id = $p
           ORDER BY i.id DESC""",
        {"p": provider_id},
    )


def import_rows(db: Database, import_id: int, provider_id: int | None) -> pd.DataFrame:
    """The rows of one upload, in file order; empty when the upload is not the provider's."""
    return db.frame(
        """SELECT r.row_number AS "Row", r.first_name AS "First Name", r.last_name AS "Last Name",
                  r.license_number AS "License Number", r.course_number AS "Course Number",
                  r.ce_year AS "CE Year", r.course_date AS "Course Date",
                  r.ce_hours AS "CE Hours",
                  CASE WHEN r.outcome = 'processed' THEN 'Processed' ELSE r.reasons END AS "Status"
           FROM import_rows r JOIN imports i ON i.id = r.import_id
           WHERE r.import_id = $id AND ($p IS NULL OR i.provider_id = $p)
           ORDER BY r.row_number""",
        {"id": import_id, "p": provider_id},
    )


PROVIDER = entities.Entity(
    "provider",
    "providers",
    (
        entities.Field("license_number", "Provider license number", required=True, max_length=40),
        entities.Field("name", "Name", required=True, max_length=200),
        entities.Field("contact", "Contact name", max_length=200),
        entities.Field("email", "Email", "email"),
        entities.Field("phone", "Phone", max_length=40),
    ),
)


def save_provider(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    provider_id: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> int:
    cleaned = entities.check_values(PROVIDER, values, config.today())

    def checks(cur: Any, v: dict[str, Any]) -> None:
        if entities.unique_id(cur, "providers", "license_number", v["license_number"], provider_id):
            raise entities.Invalid(
                [f"Provider license number {v['license_number']} is already another provider's."]
            )

    if provider_id is None:
        new_id = db.new_id("provider_ids")
        entities.save(
            db, PROVIDER, {"id": new_id}, cleaned, None, actor, checks, "provider", tracked=True
        )
        return new_id
    loaded = loaded or entities.current(db, PROVIDER, {"id": provider_id})
    entities.save(
        db, PROVIDER, {"id": provider_id}, cleaned, loaded, actor, checks, "provider", tracked=True
    )
    return provider_id


def providers_frame(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT p.id, p.license_number AS "License number", p.name AS "Name",
                  p.contact AS "Contact", p.email AS "Email", p.phone AS "Phone",
                  (SELECT count(*) FROM courses c WHERE c.provider_id = p.id) AS "Courses"
           FROM providers p ORDER BY p.name"""
    )
