"""Courses and conferences (SPEC §2): the only writer of ``courses``, with its checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from cetracker import entities
from cetracker.rules import compute
from cetracker.store.db import Database

COURSE_KINDS = ("conference", "workshop", "webinar", "online course")


COURSE = entities.Entity(
    "course",
    "courses",
    (
        entities.Field("course_number", "Course number", required=True, max_length=40),
        entities.Field("title", "Title", required=True, max_length=300),
        entities.Field("provider_id", "Provider", "int", required=True),
        entities.Field("category", "Category", required=True, max_length=60),
        entities.Field("hours", "Approved hours", "hours", required=True),
        entities.Field("start_date", "Start date", "date"),
        entities.Field("end_date", "End date", "date"),
        entities.Field("location", "Location", max_length=200),
        entities.Field("kind", "Kind", "choice", required=True, choices=COURSE_KINDS),
    ),
)


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
    cleaned = entities.check_values(COURSE, values, far)
    if (
        cleaned["start_date"]
        and cleaned["end_date"]
        and cleaned["end_date"] < cleaned["start_date"]
    ):
        raise entities.Invalid(
            [
                f"End date {cleaned['end_date']:%m/%d/%Y} is before start date "
                f"{cleaned['start_date']:%m/%d/%Y}."
            ]
        )

    def checks(cur: Any, v: dict[str, Any]) -> None:
        problems = []
        if entities.unique_id(cur, "courses", "course_number", v["course_number"], course_id):
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
            raise entities.Invalid(problems)

    if course_id is None:
        new_id = db.new_id("course_ids")
        entities.save(
            db, COURSE, {"id": new_id}, cleaned, None, actor, checks, "course", tracked=True
        )
        return new_id
    loaded = loaded or entities.current(db, COURSE, {"id": course_id})
    entities.save(
        db, COURSE, {"id": course_id}, cleaned, loaded, actor, checks, "course", tracked=True
    )
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
