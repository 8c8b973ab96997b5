"""Office administration (issue: manage pages): edits validated, audited, stale edits refused,
policy changes previewed, CE years closed and reopened, backups."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cetracker import (
    audit,
    backups,
    config,
    courses,
    dashboard,
    dues,
    entities,
    importer,
    members,
    providers,
    records,
    reports,
    self_reports,
    standing,
    years,
)
from cetracker import policy as policies
from cetracker.accounts.users import load_user
from cetracker.errors import CetrackerError
from cetracker.files import certificates, workbook
from cetracker.filters import Filters, Scope
from cetracker.rules import compute
from cetracker.standing import hour_summary
from tests.rosters import csv_bytes
from tests.workbooks import write_workbook

TODAY = date(2026, 11, 22)


def member_values(**changes):
    values = {
        "license_number": "NEW-1",
        "first_name": "Łukasz",
        "last_name": "Nguyễn",
        "email": "lukasz@example.org",
        "phone": "",
        "address": "1 Main St",
        "county": "Travis",
        "area": "Area 3",
        "position": "Deputy Clerk",
        "status": "active",
        "joined": date(2020, 1, 1),
    }
    values.update(changes)
    return values


def audit_rows(db, entity, entity_id):
    return db.rows(
        "SELECT actor, action, detail FROM audit_log WHERE entity = ? AND entity_id = ?"
        " ORDER BY id",
        [entity, str(entity_id)],
    )


# -- members ------------------------------------------------------------------------------------


@pytest.mark.both_backends
def test_add_and_edit_a_member_records_before_and_after(demo_db):
    member_id = members.save_member(demo_db, member_values(), actor="admin")
    loaded = entities.current(demo_db, members.MEMBER, {"id": member_id})
    assert loaded["last_name"] == "Nguyễn"
    members.save_member(
        demo_db,
        {**loaded, "county": "Hays", "status": "inactive"},
        actor="admin",
        member_id=member_id,
        loaded=loaded,
    )
    trail = audit_rows(demo_db, "member", member_id)
    assert [a for _, a, _ in trail] == ["member created", "member updated"]
    changes = json.loads(trail[1][2])["changes"]
    assert changes == {"county": ["Travis", "Hays"], "status": ["active", "inactive"]}
    history = audit.history(demo_db, "member", member_id)
    assert "county: Travis → Hays; status: active → inactive" in history["Changes"].tolist()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"license_number": "100000"}, "License number 100000 already belongs to Nguyễn Thị Ánh."),
        ({"license_number": " 100000 "}, "already belongs to"),
        ({"first_name": "  "}, "First name is required."),
        ({"email": "not-an-address"}, "Email “not-an-address” is not an email address."),
        ({"joined": date(2099, 1, 1)}, "Joined 01/01/2099 is in the future."),
        ({"joined": "31/31/2020"}, "is not a date"),
        ({"status": "gone"}, "Status must be one of: active, inactive."),
        ({"last_name": "x" * 101}, "Last name is longer than 100 characters."),
        ({"county": "Travis\x00"}, "County contains control characters"),
    ],
)
def test_member_validation_messages(demo_db, changes, message):
    before = demo_db.scalar("SELECT count(*) FROM members")
    with pytest.raises(CetrackerError) as caught:
        members.save_member(demo_db, member_values(**changes), actor="admin", today=TODAY)
    assert message in caught.value.message
    assert demo_db.scalar("SELECT count(*) FROM members") == before


def test_every_problem_of_a_form_is_reported_together(demo_db):
    with pytest.raises(entities.Invalid) as caught:
        members.save_member(
            demo_db,
            member_values(first_name="", last_name="", email="x"),
            actor="admin",
        )
    assert len(caught.value.problems) == 3


@pytest.mark.both_backends
def test_the_second_of_two_concurrent_edits_is_refused_and_nothing_is_lost(demo_db):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    first = entities.current(demo_db, members.MEMBER, {"id": member_id})
    second = entities.current(demo_db, members.MEMBER, {"id": member_id})
    members.save_member(
        demo_db,
        {**first, "phone": "512-555-0101"},
        actor="admin",
        member_id=member_id,
        loaded=first,
    )
    with pytest.raises(entities.StaleEdit) as caught:
        members.save_member(
            demo_db,
            {**second, "county": "Elsewhere"},
            actor="admin2",
            member_id=member_id,
            loaded=second,
        )
    assert "changed this member after you opened it" in caught.value.message
    now = entities.current(demo_db, members.MEMBER, {"id": member_id})
    assert now["phone"] == "512-555-0101" and now["county"] == first["county"]


@pytest.mark.both_backends
def test_concurrent_saves_from_threads_keep_exactly_one(demo_db):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    loaded = entities.current(demo_db, members.MEMBER, {"id": member_id})
    outcomes: list[str] = []

    def edit(phone: str) -> None:
        try:
            members.save_member(
                demo_db, {**loaded, "phone": phone}, actor="x", member_id=member_id, loaded=loaded
            )
            outcomes.append("saved")
        except entities.StaleEdit:
            outcomes.append("stale")

    threads = [threading.Thread(target=edit, args=(f"555-{i:04d}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved"] + ["stale"] * 7


@pytest.mark.both_backends
@pytest.mark.both_backends
def test_a_county_area_or_position_typed_another_way_takes_the_associations_spelling(demo_db):
    """Directors' scopes and the filters match these values exactly: "area 3" would hide
    the member from the director of Area 3 and add a choice to every filter."""
    from cetracker.filters import Filters, Scope
    from cetracker.standing import hour_summary

    member_id = members.save_member(
        demo_db,
        member_values(county=" travis ", area="area  3", position="DEPUTY CLERK"),
        actor="admin",
    )
    saved = entities.current(demo_db, members.MEMBER, {"id": member_id})
    assert (saved["county"], saved["area"], saved["position"]) == (
        "Travis",
        "Area 3",
        "Deputy Clerk",
    )
    director = hour_summary(demo_db, Filters(2026, scope=Scope(areas=("Area 3",))))
    assert "NEW-1" in set(director["license_number"])
    # A new value is kept as typed.
    loaded = entities.current(demo_db, members.MEMBER, {"id": member_id})
    members.save_member(
        demo_db, {**loaded, "area": "Area 12"}, actor="admin", member_id=member_id, loaded=loaded
    )
    assert entities.current(demo_db, members.MEMBER, {"id": member_id})["area"] == "Area 12"


def test_a_member_with_records_is_never_deleted(demo_db):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    with pytest.raises(CetrackerError, match="Set the status to inactive"):
        members.delete_member(demo_db, member_id, actor="admin")
    assert demo_db.scalar("SELECT count(*) FROM members WHERE id = ?", [member_id]) == 1
    spare = members.save_member(demo_db, member_values(), actor="admin")
    members.delete_member(demo_db, spare, actor="admin")
    assert demo_db.scalar("SELECT count(*) FROM members WHERE id = ?", [spare]) == 0
    assert audit_rows(demo_db, "member", spare)[-1][1] == "member deleted"


@pytest.mark.both_backends
def test_member_search_pages_in_sql(demo_db):
    first, total = members.search_members(demo_db)
    assert total == demo_db.scalar("SELECT count(*) FROM members")
    assert len(first) == members.PAGE_SIZE
    second, _ = members.search_members(demo_db, page=1)
    assert set(first["id"]).isdisjoint(second["id"])
    hits, count = members.search_members(demo_db, "100000")
    assert count == 1 and hits["Last name"].iloc[0] == "Ánh"
    # Read as text, never as SQL: the words "or" and "11" (punctuation folds away).
    some, found = members.search_members(demo_db, "%_\\' OR 1=1 --")
    assert 0 < found < total
    assert all("or" in f"{r['First name']}{r['Last name']}".lower() for _, r in some.iterrows())
    none, zero = members.search_members(demo_db, "%_\\' --")
    assert zero == 0 and none.empty


# -- providers, courses, dues --------------------------------------------------------------------


@pytest.mark.both_backends
def test_provider_licence_numbers_stay_unique(demo_db):
    holder = "V.G. Young Institute of County Government"
    for same in ("p1000", "P-1000", " p 1000 "):
        with pytest.raises(CetrackerError) as caught:
            providers.save_provider(demo_db, {"license_number": same, "name": "Copy"}, actor="a")
        assert caught.value.message == (
            f"Provider license number {same.strip()} already belongs to {holder}."
        )
    new = providers.save_provider(demo_db, {"license_number": "P9", "name": "New"}, actor="a")
    assert audit_rows(demo_db, "provider", new)[0][1] == "provider created"


def course_values(db, **changes):
    values = {
        "course_number": "CONF-2027",
        "title": "Annual Conference 2027",
        "provider_id": db.scalar("SELECT id FROM providers WHERE license_number = 'P1000'"),
        "category": "General",
        "hours": 12,
        "start_date": date(2027, 6, 1),
        "end_date": date(2027, 6, 3),
        "location": "Austin",
        "kind": "conference",
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date": date(2027, 5, 1)}, "End date 05/01/2027 is before start date 06/01/2027."),
        ({"hours": -2}, "Approved hours cannot be negative."),
        ({"hours": 0}, "Approved hours must be more than 0."),
        ({"hours": "two"}, "Approved hours “two” is not a number."),
        ({"hours": "NaN"}, "Approved hours “NaN” is not a number."),
        ({"kind": "party"}, "Kind must be one of"),
        ({"provider_id": 999_999}, "Choose the provider that offers this course."),
    ],
)
def test_course_validation_messages(demo_db, changes, message):
    with pytest.raises(CetrackerError) as caught:
        courses.save_course(demo_db, course_values(demo_db, **changes), actor="admin")
    assert message in caught.value.message


@pytest.mark.both_backends
def test_a_course_number_is_unique_and_approved_hours_cover_existing_records(demo_db):
    existing = demo_db.one(
        """SELECT c.id, c.course_number FROM courses c
           WHERE EXISTS (SELECT 1 FROM ce_records r WHERE r.course_id = c.id AND r.hours > 1)"""
    )
    with pytest.raises(CetrackerError, match="already used by another course"):
        courses.save_course(
            demo_db, course_values(demo_db, course_number=existing[1]), actor="admin"
        )
    loaded = entities.current(demo_db, courses.COURSE, {"id": existing[0]})
    with pytest.raises(CetrackerError, match="approved hours cannot go below that"):
        courses.save_course(
            demo_db, {**loaded, "hours": Decimal("0.5")}, actor="admin", course_id=existing[0]
        )


@pytest.mark.both_backends
def test_a_course_edit_reads_only_that_courses_records_on_a_server(demo_db, capfd):
    """The check that new hours still hold a course's records asks a server for that
    course's records (its index by course), not for every record."""
    from tests.pgserver import sent_queries

    course = demo_db.scalar(
        "SELECT course_id FROM ce_records WHERE course_id IS NOT NULL GROUP BY ALL"
        " ORDER BY count(*) DESC LIMIT 1"
    )
    loaded = entities.current(demo_db, courses.COURSE, {"id": course})
    caught, queries = sent_queries(
        demo_db,
        capfd,
        lambda: pytest.raises(
            CetrackerError,
            courses.save_course,
            demo_db,
            {**loaded, "hours": Decimal("0.25")},
            actor="admin",
            course_id=course,
        ),
    )
    assert "approved hours cannot go below that" in caught.value.message
    if demo_db.server:
        reads = [q for q in queries if q.startswith("COPY (SELECT") and '"ce_records"' in q]
        assert reads and all(f"\"course_id\" = '{course}'" in q for q in reads), reads


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"amount_due": 50, "amount_paid": 20, "status": "paid"}, "choose partial"),
        ({"amount_due": 50, "amount_paid": 0, "status": "partial"}, "above 0 and below"),
        ({"amount_due": 50, "amount_paid": 10, "status": "unpaid"}, "choose partial or paid"),
        ({"amount_due": 50, "amount_paid": 50, "status": "paid"}, "Enter the date"),
        ({"amount_due": -5, "amount_paid": 0, "status": "unpaid"}, "cannot be negative"),
    ],
)
def test_dues_must_agree_with_their_status(demo_db, values, message):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    with pytest.raises(CetrackerError, match=message):
        dues.save_dues(demo_db, member_id, 2030, values, actor="admin")
    assert not demo_db.scalar("SELECT count(*) FROM dues WHERE year = 2030")


@pytest.mark.both_backends
def test_dues_saved_and_added_for_the_year(demo_db):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    changes = dues.save_dues(
        demo_db,
        member_id,
        2030,
        {"amount_due": 75, "amount_paid": 75, "paid_date": date(2026, 1, 5), "status": "paid"},
        actor="admin",
    )
    assert changes["status"] == [None, "paid"]
    active = demo_db.scalar("SELECT count(*) FROM members WHERE status = 'active'")
    added = dues.add_dues_for_year(demo_db, 2030, 75, actor="admin")
    assert added == active - 1  # the one already entered is left alone
    assert dues.add_dues_for_year(demo_db, 2030, 75, actor="admin") == 0


@pytest.mark.both_backends
def test_dues_of_nothing_are_paid_whether_entered_for_one_or_added_for_all(demo_db):
    """Waived dues (0 due) are "paid" on the Dues Entry form; adding them for every member
    said "unpaid", and the Dashboard's share of dues paid counted them as owed."""
    first, second = demo_db.rows(
        "SELECT id FROM members WHERE status = 'active' ORDER BY id LIMIT 2"
    )
    dues.save_dues(demo_db, first[0], 2031, {"amount_due": 0, "amount_paid": 0}, actor="admin")
    dues.add_dues_for_year(demo_db, 2031, 0, actor="admin")
    statuses = dict(demo_db.rows("SELECT member_id, status FROM dues WHERE year = 2031"))
    assert statuses[first[0]] == statuses[second[0]] == "paid"
    assert set(statuses.values()) == {"paid"}


# -- CE records and closed years ------------------------------------------------------------------


def last_closable_year(db):
    return policies.current_ce_year(db) - 1


def report_a_course(db, member_user, title, day):
    """A member's own report of an hour's General course from Somebody."""
    return self_reports.report_course(
        db, member_user, title=title, provider="Somebody", day=day, hours=1, category="General"
    )


def change_hours(db, member_id, loaded, record_id):
    """An admin's correction of a loaded record: a quarter hour."""
    records.save_record(
        db, member_id, {**loaded, "hours": Decimal("0.25")}, actor="admin", record_id=record_id
    )


@pytest.mark.both_backends
def test_closing_a_year_freezes_reports_and_certificates(demo_db):
    year = last_closable_year(demo_db)
    live = hour_summary(demo_db, Filters(year=year))
    certs_before = certificates.earned_certificates(demo_db, Filters(year=year))
    count = years.close_year(demo_db, year, actor="admin")
    assert count == len(live)
    frozen = hour_summary(demo_db, Filters(year=year))
    assert frozen.equals(live)
    # A later policy change cannot touch the closed year, and reports keep the snapshot.
    proposal = policies.Proposal(compute.Policy(year, Decimal(40), Decimal(0), 1), {})
    with pytest.raises(CetrackerError, match=f"CE year {year} is closed"):
        policies.save_proposal(demo_db, proposal, actor="admin")
    # Certificates are the ones issued at closing; their codes still verify.
    certs = certificates.earned_certificates(demo_db, Filters(year=year))
    assert [c.member_id for c in certs] == [c.member_id for c in certs_before]
    assert all(c.issued == config.today() for c in certs)
    assert certificates.verify(demo_db, certs[0].code) is not None
    member_cert = certificates.member_certificate(demo_db, certs[0].member_id, year)
    assert member_cert is not None and member_cert.code == certs[0].code


@pytest.mark.both_backends
def test_a_closed_years_records_cannot_change_until_reopened(demo_db):
    year = last_closable_year(demo_db)
    member_id, record_id, loaded_day = demo_db.one(
        "SELECT member_id, id, course_date FROM ce_records WHERE ce_year = ? AND course_id IS NOT NULL"
        " AND status = 'approved' LIMIT 1",
        [year],
    )
    years.close_year(demo_db, year, actor="admin")
    loaded = entities.current(demo_db, records.RECORD, {"id": record_id})
    with pytest.raises(CetrackerError, match=f"CE year {year} is closed"):
        change_hours(demo_db, member_id, loaded, record_id)
    # The member cannot report a course in it, and a roster row for it fails with a reason.
    member_user = load_user(demo_db, "member")
    with pytest.raises(CetrackerError, match="closed"):
        report_a_course(demo_db, member_user, "Late course", date(year, 3, 1))
    with pytest.raises(CetrackerError, match="Say why the year is reopened"):
        years.reopen_year(demo_db, year, actor="admin", reason="short")
    years.reopen_year(demo_db, year, actor="admin", reason="Provider sent a corrected roster")
    change_hours(demo_db, member_id, loaded, record_id)
    assert demo_db.scalar("SELECT hours FROM ce_records WHERE id = ?", [record_id]) == Decimal(
        "0.25"
    )
    actions = [
        a
        for (a,) in demo_db.rows(
            "SELECT action FROM audit_log WHERE entity IN ('ce_year', 'ce_record') ORDER BY id"
        )
    ]
    assert actions[-3:] == ["CE year closed", "CE year reopened", "CE record updated"]
    assert loaded_day == loaded["course_date"]


@pytest.mark.both_backends
def test_a_roster_row_for_a_closed_year_fails_with_its_reason(demo_db):
    year = last_closable_year(demo_db)
    provider_id, number, start = demo_db.one(
        "SELECT provider_id, course_number, start_date FROM courses WHERE year(start_date) = ?"
        " AND year(end_date) = ? ORDER BY id LIMIT 1",
        [year, year],
    )
    course = (number, start)
    member = demo_db.one(
        "SELECT first_name, last_name, license_number FROM members WHERE id NOT IN"
        " (SELECT member_id FROM ce_records r JOIN courses c ON c.id = r.course_id"
        "  WHERE c.course_number = ?) LIMIT 1",
        [course[0]],
    )
    years.close_year(demo_db, year, actor="admin")
    result = importer.import_roster(
        demo_db,
        csv_bytes([[*member, course[0], str(year), f"{course[1]:%Y-%m-%d}", "1"]]),
        "late.csv",
        provider_id=provider_id,
        uploaded_by="admin",
    )
    assert (result.processed, result.failed) == (0, 1)
    assert f"CE year {year} is closed" in result.outcomes[0].status


@pytest.mark.both_backends
def test_the_year_before_a_closed_year_is_final_too(demo_db):
    """A year's surplus hours carry into the next: once that one is closed, neither the
    year's records nor the rules that carry them may change (the closed year's figures
    would no longer be what its reports, certificates and member pages say)."""
    year = last_closable_year(demo_db)
    before = year - 1
    # The rules of the closed year are its own policy row; those of the year before govern
    # only the year before, and the hours it carries into the closed one.
    current = policies.policy_for_year(demo_db, year)
    policies.save_proposal(
        demo_db,
        policies.Proposal(
            compute.Policy(
                year, current.required_hours, current.carryover_cap, current.ce_year_start_month
            ),
            policies.load_minimum_sets(demo_db).get(year, {}),
        ),
        actor="admin",
    )
    member_id, record_id, provider_id, number, day = demo_db.one(
        """SELECT r.member_id, r.id, c.provider_id, c.course_number, r.course_date
           FROM ce_records r JOIN courses c ON c.id = r.course_id
           WHERE r.ce_year = ? AND r.status = 'approved' ORDER BY r.id LIMIT 1""",
        [before],
    )
    member_user = load_user(demo_db, "member")
    pending = [
        report_a_course(demo_db, member_user, f"Late course {n}", date(before, 3, n))
        for n in (1, 2)
    ]
    years.close_year(demo_db, year, actor="admin")
    carry = f"CE year {year} is closed, and hours of CE year {before} carry into it"
    # The member is told in a member's words; the office can still turn a report down
    # (a pending report never counted), not approve it.
    with pytest.raises(CetrackerError, match=f"{carry}.*Contact the office"):
        report_a_course(demo_db, member_user, "Later course", date(before, 4, 1))
    admin = load_user(demo_db, "admin")
    with pytest.raises(CetrackerError, match=carry):
        self_reports.decide(demo_db, admin, pending[:1], approve=True)
    assert self_reports.decide(demo_db, admin, pending[:1], approve=False, reason="No proof")
    assert demo_db.scalar("SELECT status FROM ce_records WHERE id = ?", [pending[0]]) == (
        "rejected"
    )
    loaded = entities.current(demo_db, records.RECORD, {"id": record_id})
    with pytest.raises(CetrackerError, match=carry):
        change_hours(demo_db, member_id, loaded, record_id)
    with pytest.raises(CetrackerError, match=f"CE year {year} is closed"):
        policies.save_proposal(
            demo_db,
            policies.Proposal(compute.Policy(before, Decimal(1), Decimal(100), 1), {}),
            actor="admin",
        )
    other = demo_db.one(
        """SELECT first_name, last_name, license_number FROM members WHERE id NOT IN
           (SELECT member_id FROM ce_records WHERE ce_year = ?) ORDER BY id LIMIT 1""",
        [before],
    )
    result = importer.import_roster(
        demo_db,
        csv_bytes([[*other, number, str(before), f"{day:%Y-%m-%d}", "1"]]),
        "late.csv",
        provider_id=provider_id,
        uploaded_by="admin",
    )
    assert (result.processed, result.failed) == (0, 1)
    # The same words as the office's and the member's refusals, then what must happen: the
    # reason is read by the provider and by the office (here, the office uploaded).
    assert result.outcomes[0].status == (
        f"{carry}, so they are final too. This row can count only if an administrator "
        f"reopens {year}"
    )
    assert (
        demo_db.scalar("SELECT hours FROM ce_records WHERE id = ?", [record_id])
        == (loaded["hours"])
    )
    # Reopened, the year before changes again.
    years.reopen_year(demo_db, year, actor="admin", reason="Provider sent a corrected roster")
    change_hours(demo_db, member_id, loaded, record_id)


def test_a_closed_year_refuses_only_the_rule_changes_it_depends_on(demo_db):
    """A policy reaches one year past its own (the carried hours); a minimum set does not.
    The demo's minimum sets start in 2019 and the year before the last closable one."""
    closed = last_closable_year(demo_db) - 1  # a minimum set starts here
    assert closed in policies.load_minimum_sets(demo_db)
    current = policies.policy_for_year(demo_db, closed)

    def propose(effective: int, required: int) -> None:
        policy = dataclasses.replace(current, effective_year=effective, required_hours=required)
        policies.save_proposal(demo_db, policies.Proposal(policy, {}), actor="admin")

    # A policy row of its own from closed - 2 (as an older system's workbook may hold it).
    with demo_db.transaction() as cur:
        policies.save_policy(cur, dataclasses.replace(current, effective_year=closed - 2))
    years.close_year(demo_db, closed, actor="admin")
    # Closed - 3's policy governs one year and carries into closed - 2; its minimum set
    # governs up to closed - 1 and carries nothing: the closed year does not depend on it.
    propose(closed - 3, 25)
    # Closed - 2's policy carries into the closed year through closed - 1's surplus.
    with pytest.raises(CetrackerError, match=f"CE year {closed} is closed"):
        propose(closed - 2, 25)


def test_a_year_closed_between_the_check_and_the_write_is_refused(demo_db, monkeypatch):
    """The closed-year check runs again inside the rules' write: another session may close
    the year after the form's check passed."""
    year = last_closable_year(demo_db)
    checked = policies.check_proposal

    def check_then_another_session_closes(db, proposal):
        checked(db, proposal)
        years.close_year(db, year, actor="another admin")

    monkeypatch.setattr(policies, "check_proposal", check_then_another_session_closes)
    current = policies.policy_for_year(demo_db, year)
    change = policies.Proposal(
        dataclasses.replace(current, effective_year=year, required_hours=Decimal(30)), {}
    )
    with pytest.raises(CetrackerError, match=f"CE year {year} is closed"):
        policies.save_proposal(demo_db, change, actor="admin")
    assert policies.policy_for_year(demo_db, year) == current  # nothing was written


@pytest.mark.both_backends
def test_a_closed_years_member_page_reads_its_snapshot(demo_db):
    """My CE, the transcript and the certificate say of a closed year what its reports say,
    though the member was made inactive after the close."""
    year = last_closable_year(demo_db)
    member_id = demo_db.scalar(
        """SELECT m.id FROM members m JOIN ce_records r ON r.member_id = m.id
           WHERE m.status = 'active' AND r.ce_year = ? AND r.status = 'approved'
           GROUP BY m.id ORDER BY sum(r.hours) DESC, m.id LIMIT 1""",
        [year],
    )
    open_standing = standing.member_standing(demo_db, member_id, year)
    assert open_standing.eligible
    years.close_year(demo_db, year, actor="admin")
    loaded = entities.current(demo_db, members.MEMBER, {"id": member_id})
    members.save_member(
        demo_db, {**loaded, "status": "inactive"}, actor="admin", member_id=member_id, loaded=loaded
    )
    closed = standing.member_standing(demo_db, member_id, year)
    assert closed == open_standing
    reported = hour_summary(demo_db, Filters(year=year))
    mine = reported[reported["license_number"] == loaded["license_number"]]
    assert list(mine["eligible"]) == [True]
    cert = certificates.member_certificate(demo_db, member_id, year)
    assert cert is not None and cert.hours == closed.credited
    # An open year reads the member as they are now.
    assert not standing.member_standing(demo_db, member_id, year + 1).active
    # A snapshot taken under an earlier rule (categories compared by their exact spelling)
    # may hold a shortfall today's rule does not see: the page and the report say so.
    with demo_db.transaction() as cur:
        cur.execute(
            "UPDATE year_snapshots SET eligible = false, categories_short = 1"
            " WHERE ce_year = ? AND member_id = ?",
            [year, member_id],
        )
    older = standing.member_standing(demo_db, member_id, year)
    assert not older.eligible and older.reasons == (compute.SHORT_WHEN_CLOSED,)
    reported = hour_summary(demo_db, Filters(year=year), reasons=True)
    mine = reported[reported["license_number"] == loaded["license_number"]]
    assert list(mine["why_not_eligible"]) == [compute.SHORT_WHEN_CLOSED]
    assert compute.what_remains(older, date(year, 12, 31)) == [
        f"Not eligible: {compute.SHORT_WHEN_CLOSED}."
    ]


def test_a_year_cannot_close_before_its_deadline(demo_db):
    year = policies.current_ce_year(demo_db)
    with pytest.raises(CetrackerError, match="it can be closed after that"):
        years.close_year(demo_db, year, actor="admin", today=date(year, 6, 1))
    years.close_year(demo_db, year - 1, actor="admin")
    with pytest.raises(CetrackerError, match="already closed"):
        years.close_year(demo_db, year - 1, actor="admin")


def test_admin_record_entry_is_validated(demo_db):
    member_id = demo_db.scalar("SELECT id FROM members WHERE license_number = '100000'")
    course_id, approved, start = demo_db.one(
        "SELECT id, hours, start_date FROM courses WHERE start_date <= current_date"
        " ORDER BY start_date DESC LIMIT 1"
    )
    base = {
        "course_id": course_id,
        "course_date": start,
        "category": "General",
        "status": "approved",
    }
    with pytest.raises(CetrackerError, match="more than the"):
        records.save_record(demo_db, member_id, {**base, "hours": approved + 1}, actor="admin")
    with pytest.raises(CetrackerError, match="Choose a course, or type the title"):
        records.save_record(
            demo_db, member_id, {**base, "course_id": None, "hours": 1}, actor="admin"
        )
    existing = demo_db.one(
        "SELECT course_id, course_date FROM ce_records WHERE member_id = ? AND course_id IS NOT NULL"
        " LIMIT 1",
        [member_id],
    )
    with pytest.raises(CetrackerError, match="already has a record of course"):
        records.save_record(
            demo_db,
            member_id,
            {**base, "course_id": existing[0], "course_date": existing[1], "hours": 0.5},
            actor="admin",
        )
    new_id = records.save_record(
        demo_db,
        member_id,
        {
            **base,
            "course_id": None,
            "title": "State bar ethics",
            "provider_name": "Bar",
            "course_date": date(2026, 2, 2),
            "hours": 2,
            "category": "Ethics",
        },
        actor="admin",
        today=TODAY,
    )
    row = demo_db.one("SELECT ce_year, source, created_by FROM ce_records WHERE id = ?", [new_id])
    assert row == (2026, "admin entry", "admin")


# -- policy ------------------------------------------------------------------------------------


@pytest.mark.both_backends
def test_policy_impact_counts_match_a_recomputation(demo_db):
    year = policies.current_ce_year(demo_db) - 1
    proposal = policies.Proposal(
        compute.Policy(year, Decimal(25), Decimal(10), 1), {"Ethics": Decimal(3)}
    )
    impact = {i.year: i for i in standing.policy_impact(demo_db, proposal)}
    before = hour_summary(demo_db, Filters(year=year))
    policies.save_proposal(demo_db, proposal, actor="admin")
    after = hour_summary(demo_db, Filters(year=year))
    both = before.merge(after, on="license_number")
    assert impact[year].lose == int((both.eligible_x & ~both.eligible_y).sum())
    assert impact[year].gain == int((~both.eligible_x & both.eligible_y).sum())
    assert impact[year].eligible_after == int(after.eligible.sum())
    assert impact[year].lose > 0
    detail = json.loads(
        demo_db.scalar(
            "SELECT detail FROM audit_log WHERE action = 'policy changed' ORDER BY id DESC LIMIT 1"
        )
    )
    assert detail["changes"]["required_hours"] == ["20", "25"]  # the rules that applied


@pytest.mark.parametrize(
    ("required", "cap", "month", "minimums", "message"),
    [
        (0, 10, 1, {}, "Required hours must be more than 0"),
        (20, -1, 1, {}, "carryover cap must be between 0"),
        (20, 10, 1, {"Ethics": Decimal(15), "Law": Decimal(10)}, "add up to 25 hours"),
        (20, 10, 7, {}, "changing the start month would put them in the wrong year"),
    ],
)
def test_policy_proposals_are_checked(demo_db, required, cap, month, minimums, message):
    year = policies.current_ce_year(demo_db)
    proposal = policies.Proposal(
        compute.Policy(year, Decimal(required), Decimal(cap), month), minimums
    )
    with pytest.raises(CetrackerError, match=message):
        policies.check_proposal(demo_db, proposal)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Ethics 3", "write a category, a colon and hours"),
        ("Ethics: three", "write a category, a colon and hours"),
        ("Ethics: 0", "must be more than 0"),
        ("Ethics: 3\nethics: 2", "listed twice"),
    ],
)
def test_minimum_lines_are_read_with_clear_messages(text, message):
    with pytest.raises(CetrackerError, match=message):
        policies.parse_minimums(text)
    assert policies.parse_minimums("Ethics: 3\n\nLaw : 1.5") == {
        "Ethics": Decimal("3.00"),
        "Law": Decimal("1.50"),
    }


def rules_of(db, year):
    """A year's rules: required hours, carryover cap, start month, category minimums."""
    p = policies.policy_for_year(db, year)
    return (
        p.required_hours,
        p.carryover_cap,
        p.ce_year_start_month,
        policies.minimums_for_year(db, year),
    )


POLICY_HEADER = ["Effective Year", "Required Hours", "Carryover Cap", "Year Start Month"]
MINIMUMS_HEADER = ["Effective Year", "Category", "Minimum Hours"]


def test_a_workbook_is_held_to_the_ce_rules_checks_but_loads_again(demo_db, tmp_path):
    """A workbook's Policy and Category Minimums sheets go through policy.check_proposal as the
    CE Rules page does: a closed year's rules are not changed by a load. Rows that give their
    years the rules they have already (the same workbook loaded again) still load."""
    year = last_closable_year(demo_db)
    years.close_year(demo_db, year, actor="admin")
    stored, sets = policies.load_policies(demo_db), policies.load_minimum_sets(demo_db)

    def load(name, sheets):
        data = write_workbook(tmp_path / name, sheets).read_bytes()
        return workbook.load(demo_db, data, name)

    def row(p, effective_year):
        return [
            effective_year,
            float(p.required_hours),
            float(p.carryover_cap),
            p.ce_year_start_month,
        ]

    same = {
        "Policy": [
            POLICY_HEADER,
            *[row(p, p.effective_year) for p in stored],
        ],
        "Category Minimums": [
            MINIMUMS_HEADER,
            *[[y, c, float(m)] for y, chosen in sets.items() for c, m in chosen.items()],
        ],
    }
    if year not in {p.effective_year for p in stored}:
        # A new row, with the rules the closed year has already.
        same["Policy"].append(row(policies.policy_for_year(demo_db, year), year))
    rules = rules_of(demo_db, year)
    assert load("same.xlsx", same)["Policy"] == len(same["Policy"]) - 1
    assert rules_of(demo_db, year) == rules
    changed = [
        ({"Policy": [POLICY_HEADER, [year, 40, 0, 1]]}, "Policy"),
        ({"Category Minimums": [MINIMUMS_HEADER, [year, "Ethics", 5]]}, "Category Minimums"),
    ]
    ride_along = [["License Number", "First Name", "Last Name"], ["NEW-9", "New", "One"]]
    for sheets, sheet in changed:
        with pytest.raises(CetrackerError) as refused:
            load("closed.xlsx", {"Members": ride_along, **sheets})
        assert refused.value.message == (
            f"closed.xlsx was not loaded: sheet {sheet}, row 2: CE year {year} is closed and "
            f"this change would apply to it. Reopen {year} first (CE Years page), or make the "
            f"change effective from {year + 1}. Nothing was written."
        )
    assert rules_of(demo_db, year) == rules
    assert not demo_db.scalar("SELECT count(*) FROM members WHERE license_number = 'NEW-9'")


@pytest.mark.both_backends
def test_backup_from_the_app_side_is_a_complete_database(demo_db, tmp_path):
    made = backups.backup(demo_db, tmp_path / "backups")
    import duckdb

    copy = duckdb.connect(str(made), read_only=True)
    try:
        assert copy.execute("SELECT count(*) FROM members").fetchone()[0] == demo_db.scalar(
            "SELECT count(*) FROM members"
        )
    finally:
        copy.close()


@pytest.mark.both_backends
def test_the_audit_log_filters_by_kind_and_dates_and_spells_out_changes(demo_db):
    from cetracker import audit

    member_id = members.save_member(demo_db, member_values(), actor="clerk1")
    loaded = entities.current(demo_db, members.MEMBER, {"id": member_id})
    members.save_member(
        demo_db,
        {**loaded, "county": "Hays", "joined": date(2024, 3, 1)},
        actor="clerk1",
        member_id=member_id,
        loaded=loaded,
    )
    entries = audit.recent(demo_db, entity="member", actor="clerk1")
    assert entries["What"].tolist() == ["member updated", "member created"]
    # Dates as the pages write them (the log keeps them as ISO).
    assert entries["Detail"].iloc[0] == "county: Travis → Hays; joined: 01/01/2020 → 03/01/2024"
    assert set(audit.recent(demo_db, entity="member")["Entity"]) == {"member"}
    assert audit.recent(demo_db, actor="clerk1", until=date(2000, 1, 1)).empty
    assert len(audit.recent(demo_db, actor="clerk1", since=config.today())) == 2


@pytest.mark.both_backends
def test_the_whole_audit_log_reads_with_entries_without_detail(demo_db):
    from cetracker import audit

    audit.log(demo_db, "admin", "login")  # no detail at all
    members.save_member(demo_db, member_values(), actor="admin")
    entries = audit.recent(demo_db)
    assert entries["Detail"].iloc[1] == ""
    assert entries["Detail"].iloc[0].startswith("license number: — → NEW-1")


@pytest.mark.both_backends
@given(
    st.lists(
        st.tuples(
            st.integers(0, 500).map(Decimal),
            st.integers(0, 500).map(Decimal),
            st.sampled_from(["paid", "partial", "unpaid", "waived"]),
        ),
        min_size=1,
        max_size=6,
    )
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_dues_outstanding_is_one_rule_in_sql_and_compute(db, rows):
    """The Dues report, Dues Entry and the Dashboard read dues.totals, whose SQL must agree
    with compute.dues_outstanding (a waived row owes nothing; no row is no dues record)."""
    with db.transaction() as cur:
        cur.execute("DELETE FROM dues")
        cur.execute("DELETE FROM members")
        for i in range(len(rows) + 1):  # the last member has no dues row for the year
            cur.execute(
                "INSERT INTO members (id, license_number, license_key, first_name, last_name,"
                " status) VALUES (?, ?, ?, 'A', 'B', 'active')",
                [i + 1, f"D{i}", f"D{i}"],
            )
        for i, (due, paid, status) in enumerate(rows):
            cur.execute(
                "INSERT INTO dues (member_id, year, amount_due, amount_paid, status)"
                " VALUES (?, 2026, ?, ?, ?)",
                [i + 1, due, paid, status],
            )
    figures = dues.totals(db, Filters(year=2026))
    expected = sum((compute.dues_outstanding(d, p, s) for d, p, s in rows), Decimal(0))
    assert Decimal(str(figures.outstanding)) == expected
    assert figures.paid == float(sum(p for _, p, _ in rows))
    assert (figures.members, figures.with_dues, figures.no_record) == (len(rows) + 1, len(rows), 1)
    # The Dues report's statuses and "paid in full" are the Dashboard's dues paid share's.
    statuses = Counter(s for _, _, s in rows)
    assert figures.statuses == {**statuses, dues.NO_DUES_RECORD: 1}
    assert figures.paid_in_full == statuses["paid"] + statuses["waived"]
    headline = dashboard.headline(db, Scope(), 2026)
    assert headline.dues_paid_share == figures.paid_in_full / len(rows)


def _dues_member_by_member(db, filters):
    """The Dues report's rows for ``filters`` added up in Python: what dues.totals must say."""
    rows = reports.dues(db, filters)
    by_area = rows.groupby("area", dropna=False)[["amount_paid", "outstanding"]].sum()
    return (
        dict(Counter(rows["status"])),
        rows["amount_paid"].sum(),
        rows["outstanding"].sum(),
        {(None if pd.isna(a) else a): (p, o) for a, (p, o) in by_area.iterrows()},
    )


@pytest.mark.both_backends
def test_dues_totals_add_up_the_members_for_any_filter_and_follow_writes(demo_db):
    """dues.totals adds up kept groups (area, county, position, status) for most filters and
    the members themselves for a name search: both give what the Dues report's rows add up
    to, and after a dues or member change too."""
    county, position = demo_db.one(
        "SELECT county, position FROM members WHERE area = 'Area 3' AND position IS NOT NULL"
        " LIMIT 1"
    )
    every = [
        Filters(2025),
        Filters(2025, areas=("Area 3", "Area 1")),
        Filters(2025, counties=(county,)),
        Filters(2025, positions=(position,)),
        Filters(2025, scope=Scope(areas=("Area 3",), counties=(county,))),
        Filters(2025, name="a"),
        Filters(2025, areas=("Area 3",), name="an"),
    ]

    def check() -> None:
        for filters in every:
            got = dues.totals(demo_db, filters)
            statuses, paid, outstanding, areas = _dues_member_by_member(demo_db, filters)
            assert got.statuses == statuses, filters
            assert (got.paid, got.outstanding) == (pytest.approx(paid), pytest.approx(outstanding))
            assert {a: (p, o) for a, p, o in got.by_area} == pytest.approx(areas), filters

    check()
    someone, their_dues = demo_db.one(
        "SELECT m.id, d.amount_due FROM members m JOIN dues d ON d.member_id = m.id"
        " WHERE m.area = 'Area 3' AND d.year = 2025 AND d.status = 'unpaid' LIMIT 1"
    )
    dues.save_dues(
        demo_db,
        someone,
        2025,
        {"amount_due": their_dues, "amount_paid": their_dues, "paid_date": date(2025, 3, 1)},
        actor="admin",
    )
    check()
    # The member moves to Area 1: their dues now count there.
    values = entities.current(demo_db, members.MEMBER, {"id": someone})
    members.save_member(
        demo_db, {**values, "area": "Area 1"}, actor="admin", member_id=someone, loaded=values
    )
    check()


def test_an_admins_record_of_a_listed_course_is_in_the_courses_category(demo_db):
    """The form's category (General by default) does not file an Ethics course as General:
    the record takes the course's category, as a roster's row does."""
    member_id = demo_db.scalar("SELECT id FROM members WHERE status = 'active' LIMIT 1")
    course_id, first = demo_db.one(
        """SELECT id, start_date FROM courses WHERE category = 'Ethics'
           AND id NOT IN (SELECT course_id FROM ce_records WHERE member_id = ?
                          AND course_id IS NOT NULL)
           ORDER BY start_date DESC LIMIT 1""",
        [member_id],
    )
    added = records.save_record(
        demo_db,
        member_id,
        {
            "course_id": course_id,
            "title": "",
            "provider_name": "",
            "course_date": first,
            "hours": 1,
            "category": "General",
            "status": "approved",
        },
        actor="admin",
    )
    assert demo_db.scalar("SELECT category FROM ce_records WHERE id = ?", [added]) == "Ethics"


def test_every_writer_files_a_date_in_the_same_ce_year_after_a_start_month_change(demo_db):
    """July from 2024: 08/15/2023 is CE year 2023 for admin entry, self-reports and rosters."""
    with demo_db.transaction() as cur:
        policies.save_policy(cur, compute.Policy(2024, ce_year_start_month=7))
    member_id, license_number, last_name = demo_db.one(
        "SELECT id, license_number, last_name FROM members WHERE status = 'active' LIMIT 1"
    )
    day = date(2023, 8, 15)
    assert policies.ce_year_of(demo_db, day) == 2023
    title = {"title": "Records retention", "provider_name": "County", "course_id": None}
    added = records.save_record(
        demo_db,
        member_id,
        {**title, "course_date": day, "hours": 2, "category": "General", "status": "approved"},
        actor="admin",
    )
    assert demo_db.scalar("SELECT ce_year FROM ce_records WHERE id = ?", [added]) == 2023
    course_number, provider_license = demo_db.one(
        """SELECT c.course_number, p.license_number FROM courses c
           JOIN providers p ON p.id = c.provider_id
           WHERE c.id NOT IN (SELECT course_id FROM ce_records
                              WHERE member_id = ? AND course_id IS NOT NULL)
           ORDER BY c.id LIMIT 1""",
        [member_id],
    )
    with demo_db.transaction() as cur:
        cur.execute(
            "UPDATE courses SET start_date = NULL, end_date = NULL WHERE course_number = ?",
            [course_number],
        )
    provider_id = providers.provider_by_license(demo_db, provider_license)
    rows = [
        ["A", last_name, license_number, course_number, year, "08/15/2023", 1]
        for year in (2023, 2024)
    ]
    result = importer.import_roster(
        demo_db, csv_bytes(rows), "july.csv", provider_id=provider_id, uploaded_by="admin"
    )
    reasons = [o.reasons for o in result.outcomes]
    assert reasons[0] == []  # CE year 2023 is right
    assert any("does not match the course date" in r for r in reasons[1])  # 2024 is not
