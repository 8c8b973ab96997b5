"""Hours are rounded one way on every path they come in by (``compute.two_places``): an
admin's entry, a member's report, a roster row, a workbook's CE Rules and the CE Rules
form. Before, an admin's entry rounded halves to even (1.125 → 1.12) while rosters and
reports rounded them up (1.13), and "0.004" hours passed "more than 0" to be kept as a
record of 0.00 hours."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cetracker import entities, importer, policy, records, self_reports
from cetracker.accounts import users
from cetracker.errors import CetrackerError
from cetracker.rules import compute

D = Decimal


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("1.125", D("1.13")), ("2.5", D("2.50")), ("0.005", D("0.01")), (1.125, D("1.13"))],
)
def test_two_places_rounds_halves_away_from_zero(typed, kept):
    assert compute.two_places(typed) == kept


def test_hours_in_words_say_hour_for_exactly_one():
    assert [compute.hours_text(v) for v in ("1", "1.00", "0.5", "2", "0")] == [
        "1 hour",
        "1 hour",
        "0.5 hours",
        "2 hours",
        "0 hours",
    ]


def test_a_reports_totals_are_grouped_and_exact_to_the_cent():
    assert compute.format_hours(D("1535.25"), grouped=True) == "1,535.25"
    assert compute.format_hours(0.1 + 0.2, grouped=True) == "0.3"  # a float sum, not 0.30000…04
    assert compute.format_hours(1234567, grouped=True) == "1,234,567"


def _course(db) -> tuple[int, str, int, Decimal, date]:
    """A course of the demo with at least two approved hours, open on a recent day."""
    cid, number, pid, hrs, start = db.one(
        """SELECT id, course_number, provider_id, hours, coalesce(start_date, DATE '2026-01-05')
           FROM courses WHERE hours >= 2 AND coalesce(start_date, DATE '2026-01-05')
                 BETWEEN DATE '2026-01-01' AND DATE '2026-06-30' ORDER BY id LIMIT 1"""
    )
    return int(cid), number, int(pid), D(hrs), start


def _strangers(db, course_id: int, count: int) -> list[tuple[int, str, str, str]]:
    """Active members with no record of the course: id, license number, first, last name."""
    return db.rows(
        """SELECT id, license_number, first_name, last_name FROM members m
           WHERE status = 'active' AND NOT EXISTS (
               SELECT 1 FROM ce_records r WHERE r.member_id = m.id AND r.course_id = ?)
             AND id NOT IN (SELECT member_id FROM users WHERE member_id IS NOT NULL)
           ORDER BY id LIMIT ?""",
        [course_id, count],
    )


def _admin_entry(db, member_id: int, course_id: int, day: date, hours: str) -> Decimal:
    record_id = records.save_record(
        db,
        member_id,
        {
            "course_id": course_id,
            "title": "",
            "provider_name": "",
            "course_date": day,
            "hours": hours,
            "category": "General",
            "status": "approved",
        },
        actor="admin",
    )
    return D(db.scalar("SELECT hours FROM ce_records WHERE id = ?", [record_id]))


def _roster(db, provider_id: int, number: str, day: date, hours: str, who: tuple):
    _, license_number, first, last = who
    lines = [
        "First Name,Last Name,License Number,Course Number,CE Year,Course Date,CE Hours",
        f"{first},{last},{license_number},{number},{day.year},{day:%m/%d/%Y},{hours}",
    ]
    return importer.import_roster(
        db, "\n".join(lines).encode(), "r.csv", provider_id=provider_id, uploaded_by="t"
    )


@pytest.mark.both_backends
@pytest.mark.parametrize(("typed", "kept"), [("1.125", D("1.13")), ("1.135", D("1.14"))])
def test_an_admin_a_member_and_a_roster_keep_the_same_hours(demo_db, typed, kept):
    db = demo_db
    cid, number, pid, _, day = _course(db)
    member = users.load_user(db, "member")
    assert member.member_id is not None
    first, second = _strangers(db, cid, 2)
    assert _admin_entry(db, first[0], cid, day, typed) == kept
    reported = self_reports.report_course(
        db, member, title="T", provider="P", day=day, hours=typed, category="General"
    )
    assert D(db.scalar("SELECT hours FROM ce_records WHERE id = ?", [reported])) == kept
    result = _roster(db, pid, number, day, typed, second)
    assert result.counts()["processed"] == 1, result.outcomes[0].status
    assert (
        D(
            db.scalar(
                "SELECT hours FROM ce_records WHERE member_id = ? AND course_id = ? AND course_date = ?",
                [second[0], cid, day],
            )
        )
        == kept
    )


@pytest.mark.both_backends
def test_hours_that_round_to_nothing_are_refused_on_every_path(demo_db):
    db = demo_db
    cid, number, pid, _, day = _course(db)
    member = users.load_user(db, "member")
    (who,) = _strangers(db, cid, 1)
    before = db.scalar("SELECT count(*) FROM ce_records")
    with pytest.raises(entities.Invalid, match="more than 0"):
        _admin_entry(db, who[0], cid, day, "0.004")
    with pytest.raises(CetrackerError, match="more than 0"):
        self_reports.report_course(
            db, member, title="T", provider="P", day=day, hours="0.004", category="General"
        )
    result = _roster(db, pid, number, day, "0.004", who)
    assert "CE Hours must be more than 0" in result.outcomes[0].status
    assert db.scalar("SELECT count(*) FROM ce_records") == before


@pytest.mark.both_backends
def test_hours_a_hair_over_a_course_round_to_it_on_every_path(demo_db):
    """8.004 hours of an 8-hour course are 8 hours: an admin's entry and a roster agree."""
    db = demo_db
    cid, number, pid, approved, day = _course(db)
    over = f"{approved}4" if "." in str(approved) else f"{approved}.004"
    first, second = _strangers(db, cid, 2)
    assert _admin_entry(db, first[0], cid, day, over) == approved
    result = _roster(db, pid, number, day, over, second)
    assert result.counts()["processed"] == 1, result.outcomes[0].status


def test_a_minimum_is_rounded_alike_from_the_form_and_from_a_workbook():
    assert policy.parse_minimums("Ethics: 2.125") == {"Ethics": D("2.13")}
    from cetracker.files import workbook

    assert workbook._number("2.125", "Hours") == D("2.13")
    assert workbook._hours("2.125") == D("2.13")  # a CE Records row's hours
    with pytest.raises(workbook.RowError, match="Hours must be more than 0"):
        workbook._hours("0.004")
    with pytest.raises(CetrackerError, match="more than 0"):
        policy.parse_minimums("Ethics: 0.004")


@pytest.mark.both_backends
def test_a_number_too_big_for_cents_is_refused_in_words_not_raised(demo_db):
    """Rounding 10^28 to the cent raised decimal.InvalidOperation: the roster's whole
    upload failed with a traceback, where the row had been refused in words."""
    huge = "9" * 29
    assert compute.two_places(huge) == D(huge)
    db = demo_db
    cid, number, pid, _, day = _course(db)
    first, second = _strangers(db, cid, 2)
    result = _roster(db, pid, number, day, huge, first)
    assert "is more than the" in result.outcomes[0].status
    with pytest.raises(entities.Invalid, match="is more than 1,000"):
        _admin_entry(db, second[0], cid, day, huge)
