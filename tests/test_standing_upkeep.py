"""The maintained standing against a full recompute, after every write of a random sequence.

A year's standing is built once and then patched by each write for the members it touched
(``standing.year_standing``); these tests apply imports, self-reports, approvals and
rejections, admin edits, deletions, policy changes, closes and reopens and member status
changes in random order and compare, after each, every year's maintained table with the
Hour Summary query run from scratch (which a property test of its own checks against
``compute.py``), on both backends.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cetracker import (
    courses,
    dues,
    entities,
    importer,
    members,
    providers,
    records,
    self_reports,
    years,
)
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError
from cetracker.filters import Filters, Scope
from cetracker.rules import compute
from cetracker.rules.cells import license_key, search_key
from cetracker.standing import (
    eligibility_counts,
    hour_summary,
    hour_summary_query,
    year_eligibility,
    year_records,
    year_standing,
)
from cetracker.store.db import Database

pytestmark = pytest.mark.both_backends

D = Decimal
YEARS = range(2022, 2027)  # 2026 is the current CE year (config.today() is pinned in tests)
MEMBERS = 5
ADMIN = User("admin", "admin")
TODAY = date(2026, 11, 15)
PNG = b"\x89PNG\r\n\x1a\n" + bytes.fromhex(
    "0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001"
    "e221bc330000000049454e44ae426082"
)


def _fresh(db: Database) -> None:
    """Empty the database, then five members, two courses of one provider, one policy."""
    with db.transaction() as cur:
        for table in db.tables():
            cur.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names from the catalog
        for i in range(MEMBERS):
            cur.execute(
                "INSERT INTO members (id, license_number, license_key, search_key, first_name,"
                " last_name, county, area, position, status)"
                " VALUES (?, ?, ?, ?, 'F', ?, 'Travis', ?, 'Clerk', 'active')",
                [
                    i + 1,
                    f"L{i}",
                    license_key(f"L{i}"),
                    search_key("F", f"N{i}", f"L{i}"),
                    f"N{i}",
                    f"Area {i % 2 + 1}",
                ],
            )
        cur.execute(
            "INSERT INTO providers (id, license_number, license_key, name)"
            " VALUES (1, 'P1', 'P1', 'P')"
        )
        # Course 3's category is Ethics written otherwise: the minimum counts it too.
        for cid, category in ((1, "General"), (2, "Ethics"), (3, "ETHICS")):
            cur.execute(
                "INSERT INTO courses (id, course_number, title, provider_id, category, hours,"
                " start_date, end_date) VALUES (?, ?, 'Course', 1, ?, 12, ?, ?)",
                [cid, f"C{cid}", category, date(2021, 1, 1), date(2026, 12, 31)],
            )
        policies.save_policy(cur, compute.Policy(2020, D(10), D(5)))
        policies.save_minimum_set(cur, 2023, {"Ethics": D(2)})
    db.advance_sequence("record_ids", 1000)
    db.advance_sequence("member_ids", MEMBERS)  # a member added later gets a new id


def _day(n: int) -> date:
    return date.fromordinal(date(2022, 1, 1).toordinal() + n)


def _member(i: int) -> User:
    return User(f"m{i}", "member", member_id=i + 1)


def _some_record(db: Database, pick: int, where: str = "true") -> int | None:
    ids = [r for (r,) in db.rows(f"SELECT id FROM ce_records WHERE {where} ORDER BY id")]  # noqa: S608
    return int(ids[pick % len(ids)]) if ids else None


def _import(db: Database, rows: list[tuple[int, int, int, int]]) -> None:
    lines = ["First Name,Last Name,License Number,Course Number,CE Year,Course Date,CE Hours"]
    for member, course, day, hrs in rows:
        d = _day(day)
        lines.append(f"F,N{member},L{member},C{course},{d.year},{d:%m/%d/%Y},{hrs}")
    importer.import_roster(
        db, "\n".join(lines).encode(), "r.csv", provider_id=1, uploaded_by="p", today=TODAY
    )


def _apply(db: Database, op: tuple) -> None:  # noqa: C901 - one branch per kind of write
    kind, *args = op
    if kind == "import":
        _import(db, args[0])
    elif kind == "report":
        member, day, hrs, category = args
        d = _day(day)
        self_reports.report_course(
            db, _member(member), title="T", provider="P", day=d, hours=hrs, category=category
        )
    elif kind == "decide":
        record = _some_record(db, args[0], "status = 'pending'")
        if record is not None:
            self_reports.decide(db, ADMIN, [record], approve=args[1], reason="no proof")
    elif kind == "edit":
        record = _some_record(db, args[0])
        if record is None:
            return
        loaded = entities.current(db, records.RECORD, {"id": record})
        assert loaded is not None
        member_id = int(db.scalar("SELECT member_id FROM ce_records WHERE id = ?", [record]))
        values = dict(loaded)
        values["hours"] = args[1]
        values["status"] = args[2]
        values["course_date"] = _day(args[3])
        values["course_id"] = None  # a course's dates and hours limits do not apply
        values["title"] = values.get("title") or "Edited"
        records.save_record(
            db, member_id, values, actor="admin", record_id=record, loaded=loaded, today=TODAY
        )
    elif kind == "pend":  # an admin puts a roster's record back to pending, course kept
        record = _some_record(db, args[0], "course_id IS NOT NULL AND status <> 'pending'")
        if record is None:
            return
        loaded = entities.current(db, records.RECORD, {"id": record})
        assert loaded is not None
        member_id = int(db.scalar("SELECT member_id FROM ce_records WHERE id = ?", [record]))
        records.save_record(
            db,
            member_id,
            {**loaded, "status": "pending"},
            actor="admin",
            record_id=record,
            loaded=loaded,
            today=TODAY,
        )
    elif kind == "confirm":  # a roster row of that member, course and date confirms it
        record = _some_record(
            db, args[0], f"course_id IS NOT NULL AND status = 'pending' AND member_id <= {MEMBERS}"
        )
        if record is None:
            return
        member_id, course_id, day_of = db.one(
            "SELECT member_id, course_id, course_date FROM ce_records WHERE id = ?", [record]
        )
        _import(db, [(member_id - 1, course_id, (day_of - date(2022, 1, 1)).days, args[1])])
    elif kind == "attach":  # a member attaches a certificate to their pending report
        record = _some_record(db, args[0], "status = 'pending' AND source = 'self report'")
        if record is not None:
            member_id = int(db.scalar("SELECT member_id FROM ce_records WHERE id = ?", [record]))
            self_reports.attach_certificate(db, _member(member_id - 1), record, PNG, "scan.png")
    elif kind == "delete":
        record = _some_record(db, args[0])
        if record is not None:
            with db.transaction(tracked=True) as cur:
                records.delete_one(cur, record)
    elif kind == "policy":
        year, required, cap, ethics = args
        proposal = policies.Proposal(
            compute.Policy(year, D(required), D(cap)), {"Ethics": D(ethics)} if ethics else {}
        )
        policies.save_proposal(db, proposal, actor="admin")
    elif kind == "close":
        years.close_year(db, args[0], actor="admin", today=TODAY)
    elif kind == "reopen":
        years.reopen_year(db, args[0], actor="admin", reason="a correction came in")
    elif kind == "status":
        member_id = args[0] + 1
        loaded = entities.current(db, members.MEMBER, {"id": member_id})
        assert loaded is not None
        values = {**loaded, "status": "inactive" if loaded["status"] == "active" else "active"}
        values["area"] = args[1]
        members.save_member(db, values, actor="admin", member_id=member_id, loaded=loaded)
    elif kind == "dues":
        member_id, paid = args[0] + 1, D(args[1])
        dues.save_dues(
            db,
            member_id,
            2026,
            {
                "amount_due": D(50),
                "amount_paid": paid,
                "paid_date": TODAY if paid else None,
                "status": "paid" if paid == 50 else "partial" if paid else "unpaid",
            },
            actor="admin",
        )
    elif kind == "new member":
        first = entities.current(db, members.MEMBER, {"id": 1})
        assert first is not None
        values = {k: v for k, v in first.items() if k != "id"}
        values.update(license_number=f"N{args[0]}", first_name="New", area=args[1])
        members.save_member(db, values, actor="admin")
    elif kind == "delete member":  # the newest added (one with records or dues stays)
        newest = db.scalar("SELECT max(id) FROM members WHERE id > ?", [MEMBERS])
        if newest is not None:
            members.delete_member(db, int(newest), actor="admin")
    elif kind == "dues for all":
        dues.add_dues_for_year(db, 2026, D(args[0]), actor="admin")
    elif kind == "untracked":  # a write that says nothing of what it changed
        with db.transaction() as cur:
            cur.execute("UPDATE ce_records SET hours = hours + 1 WHERE id = ?", [args[0] + 1000])


day = st.integers(0, 365 * 5 - 1)  # 2022-01-01 … 2026-12-30 (future dates are refused)
hours = st.sampled_from([D(1), D(2), D("2.5"), D(6), D(12)])
member = st.integers(0, MEMBERS - 1)
ops = st.one_of(
    st.tuples(
        st.just("import"),
        st.lists(st.tuples(member, st.integers(1, 3), day, st.integers(1, 12)), max_size=6),
    ),
    st.tuples(st.just("report"), member, day, hours, st.sampled_from(["General", "Ethics"])),
    st.tuples(st.just("decide"), st.integers(0, 50), st.booleans()),
    st.tuples(
        st.just("edit"),
        st.integers(0, 50),
        hours,
        st.sampled_from(["approved", "pending", "rejected"]),
        day,
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("pend"), st.integers(0, 50)),
    st.tuples(st.just("confirm"), st.integers(0, 50), st.integers(1, 12)),
    st.tuples(st.just("attach"), st.integers(0, 50)),
    st.tuples(
        st.just("policy"),
        st.integers(2021, 2027),
        st.integers(1, 30),
        st.integers(0, 10),
        st.integers(0, 3),
    ),
    st.tuples(st.just("close"), st.integers(2022, 2025)),
    st.tuples(st.just("reopen"), st.integers(2022, 2025)),
    st.tuples(st.just("status"), member, st.sampled_from(["Area 1", "Area 2"])),
    st.tuples(st.just("dues"), member, st.sampled_from([0, 20, 50])),
    st.tuples(st.just("new member"), st.integers(0, 99), st.sampled_from(["Area 1", "Area 2"])),
    st.tuples(st.just("delete member")),
    st.tuples(st.just("dues for all"), st.sampled_from([25, 50])),
    st.tuples(st.just("untracked"), st.integers(0, 20)),
)


def _maintained(db: Database, year: int) -> list[tuple]:
    return db.rows(
        f"SELECT * EXCLUDE (search) FROM {year_standing(db, year)} ORDER BY member_id"  # noqa: S608
    )


def _recomputed(db: Database, year: int) -> list[tuple]:
    sql, params = hour_summary_query(db, Filters(year=year), detail=True)
    return db.rows(f"SELECT * FROM ({sql}) ORDER BY member_id", params)  # noqa: S608


def _eligibility_kept(db: Database, year: int) -> list[tuple]:
    return db.rows(f"SELECT * FROM {year_eligibility(db, year)} ORDER BY member_id")  # noqa: S608


def _eligibility_now(db: Database, year: int) -> list[tuple]:
    sql, params = hour_summary_query(db, Filters(year=year), detail=True)
    return db.rows(
        f"""SELECT member_id, status, area, county, eligible, carried_in, earned,
                   categories_short
            FROM ({sql}) ORDER BY member_id""",  # noqa: S608
        params,
    )


def _dues_now(db: Database) -> list[tuple]:
    """2026's dues per area and status, read from the tables: members, paid, owed."""
    return db.rows(
        f"""SELECT m.area, coalesce(d.status, '{dues.NO_DUES_RECORD}'), count(*),
                   coalesce(sum(d.amount_paid), 0)::DOUBLE,
                   coalesce(sum({dues.outstanding_sql("d")}), 0)::DOUBLE
            FROM members m LEFT JOIN dues d ON d.member_id = m.id AND d.year = 2026
            GROUP BY ALL"""  # noqa: S608 - fixed test SQL
    )


def _dues_in(rows: list[tuple], areas: tuple[str, ...]) -> tuple[dict[str, int], float, float]:
    """``_dues_now`` among the areas' members (every member: no areas)."""
    chosen = [row for row in rows if not areas or row[0] in areas]
    statuses: dict[str, int] = {}
    for _, status, n, _, _ in chosen:
        statuses[str(status)] = statuses.get(str(status), 0) + int(n)
    return statuses, sum(row[3] for row in chosen), sum(row[4] for row in chosen)


def _pending_now(db: Database) -> list[tuple]:
    """Records awaiting review per area, read from the tables."""
    return db.rows(
        "SELECT m.area, count(*) FROM ce_records r JOIN members m ON m.id = r.member_id"
        " WHERE r.status = 'pending' GROUP BY ALL"
    )


def _choices_now(db: Database) -> members.FilterChoices:
    """The filter bar's choices, read from the tables (in one query)."""
    rows = db.rows(
        """SELECT 'county', county FROM members UNION SELECT 'area', area FROM members
           UNION SELECT 'position', position FROM members
           UNION SELECT 'first', min(ce_year)::VARCHAR FROM ce_records
           UNION SELECT 'last', max(ce_year)::VARCHAR FROM ce_records"""
    )
    found = {kind: value for kind, value in rows if kind in ("first", "last")}
    first = int(found["first"]) if found.get("first") else 2026
    last = max(int(found["last"]) if found.get("last") else 2026, 2026)

    def values(kind: str) -> list[str]:
        return sorted(v for k, v in rows if k == kind and v is not None)

    return members.FilterChoices(
        list(range(last, first - 1, -1)), values("county"), values("area"), values("position")
    )


def _members_kept(db: Database) -> list[tuple]:
    return db.rows(f"SELECT * FROM {members.kept(db)} ORDER BY id")  # noqa: S608


def _members_now(db: Database) -> list[tuple]:
    return db.rows("SELECT * FROM members ORDER BY id")


def _records_kept(db: Database, year: int) -> list[tuple]:
    return db.rows(
        f"SELECT * FROM {year_records(db, year)} ORDER BY ALL"  # noqa: S608
    )


def _records_now(db: Database, year: int) -> list[tuple]:
    return db.rows(
        """SELECT member_id, course_date, course_id, title, source, hours, category
           FROM ce_records WHERE ce_year = ? AND status = 'approved' ORDER BY ALL""",
        [year],
    )


def _check(db: Database, after: object) -> None:
    # (Each query crosses to the server on PostgreSQL: a recompute is read once and the
    # by-area figures in one query each.)
    for year in YEARS:
        assert _maintained(db, year) == _recomputed(db, year), (year, after)
        assert _records_kept(db, year) == _records_now(db, year), (year, after)
        eligibility = _eligibility_now(db, year)
        assert _eligibility_kept(db, year) == eligibility, (year, after)
        active = [row for row in eligibility if row[1] == "active"]
        counts = (len(active), sum(1 for row in active if row[4]))
        assert eligibility_counts(db, Filters(year)) == counts, (year, after)
    dues_now, pending_now = _dues_now(db), _pending_now(db)
    for areas in ((), ("Area 1",)):
        kept_dues = dues.totals(db, Filters(2026, areas=areas))
        kept = (kept_dues.statuses, kept_dues.paid, kept_dues.outstanding)
        assert kept == _dues_in(dues_now, areas), after
        counted = self_reports.awaiting_review(db, Filters(2026, areas=areas))
        assert counted == sum(n for area, n in pending_now if not areas or area in areas), after
    assert _members_kept(db) == _members_now(db), after
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db), after
    dues_rows = "SELECT * FROM {} WHERE year = 2026 ORDER BY ALL"
    assert db.rows(dues_rows.format(dues.kept(db, 2026))) == db.rows(dues_rows.format("dues"))
    # The remembered counts of records by course and by year (the Courses and CE Years pages).
    assert courses.record_counts(db) == dict(
        db.rows("SELECT course_id, count(*) FROM ce_records WHERE course_id IS NOT NULL GROUP BY 1")
    ), after
    # The CE details' years of the provider's attendees (remembered between writes).
    assert providers.attendee_years(db, 1) == [
        y
        for (y,) in db.rows(
            "SELECT DISTINCT ce_year FROM ce_records WHERE course_id IS NOT NULL ORDER BY 1 DESC"
        )
    ], after
    assert years._record_counts(db) == db.rows(
        """SELECT ce_year, count(*), count(DISTINCT member_id),
                  count(*) FILTER (WHERE status = 'pending')
           FROM ce_records GROUP BY ce_year ORDER BY ce_year DESC"""
    ), after


def _counts_now(db: Database, year: int) -> tuple[int, int]:
    """Active members and how many are eligible, from a full recompute."""
    active = [row for row in _eligibility_now(db, year) if row[1] == "active"]
    return len(active), sum(1 for row in active if row[4])


def test_the_maintained_standing_equals_a_full_recompute_after_every_write(db, backend):
    # Ten random sequences on DuckDB, four on PostgreSQL (and the explicit one below on
    # each): there each of a write's thirty checks crosses to the server, and ten took
    # four minutes of the CI's ten.
    @settings(
        max_examples=10 if backend == "duckdb" else 4,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(ops, min_size=1, max_size=6))
    # A roster's record put back to pending, then confirmed by a roster with other hours
    # (its surplus carried into the next year changes too), beside a report's certificate.
    @example(
        [
            ("import", [(0, 1, 800, 12), (1, 2, 800, 3)]),
            ("report", 0, 900, D(2), "General"),
            ("pend", 0),
            ("attach", 0),
            ("confirm", 0, 4),
            ("decide", 0, True),
        ]
    )
    def holds(sequence: list[tuple]) -> None:
        _fresh(db)
        _check(db, "start")  # builds every year's tables once
        for op in sequence:
            try:
                _apply(db, op)
            except CetrackerError:
                pass  # refused (a closed year, a duplicate, …): nothing was written
            _check(db, op)

    holds()


def test_a_write_patches_only_the_years_it_can_change(db, tables_built):
    """An approval in 2024 patches 2024 and 2025; no year is rebuilt; a policy change
    rebuilds the years it governs, an untracked write every year."""
    _fresh(db)
    _import(db, [(0, 1, 800, 12), (1, 2, 900, 6)])
    _check(db, "start")
    built = tables_built(db)
    self_reports.report_course(
        db, _member(2), title="T", provider="P", day=date(2024, 5, 1), hours=8, category="Ethics"
    )
    record = _some_record(db, 0, "status = 'pending'")
    assert record is not None
    self_reports.decide(db, ADMIN, [record], approve=True)
    _check(db, "approved")
    assert built == []
    policies.save_proposal(
        db, policies.Proposal(compute.Policy(2025, D(12), D(5)), {}), actor="admin"
    )
    _check(db, "policy")
    assert sorted(built) == [
        "eligibility_2025",
        "eligibility_2026",
        "standing_2025",
        "standing_2026",
    ]
    built.clear()
    with db.transaction() as cur:
        cur.execute("UPDATE members SET area = 'Area 9' WHERE id = 1")
    _check(db, "untracked")
    assert sorted(built) == sorted(
        [f"{family}_{y}" for y in YEARS for family in ("standing", "records", "eligibility")]
        + [f"records_{YEARS[0] - 1}"]  # what the first year's carried hours come from
        + ["dues_2026"]  # the year's dues by group, which _check's dues totals add up
        + (["members", "dues_rows_2026"] if db.server else [])  # a server's, copied for reports
    )


def test_another_app_process_write_is_seen(backend, database_location):
    """Server mode: a write by another app process (which this one cannot know the reach
    of) rebuilds the standing here once the shared counter shows it."""
    if backend != "postgresql":
        pytest.skip("one process owns an embedded database")
    here, there = Database(database_location), Database(database_location)
    try:
        here.shared_check_seconds = there.shared_check_seconds = 0
        _fresh(here)
        _check(here, "start")
        _import(there, [(0, 1, 1500, 12), (3, 2, 1400, 4)])
        _check(here, "the other process's import")
        self_reports.report_course(
            here, _member(4), title="T", provider="P", day=date(2026, 2, 1), hours=3,
            category="General",
        )  # fmt: skip
        _check(here, "this process's own report")
    finally:
        here.close()
        there.close()


def test_a_roster_adds_its_hours_to_the_kept_rows_once(db, monkeypatch):
    """A roster's hours are added to the kept figures (not computed again) when the table
    holds exactly the writes before it; a roster committed while the table was being built
    may be in it already, so then its members are computed again, never added twice."""
    from cetracker import standing

    _fresh(db)
    _import(db, [(0, 1, 1200, 4), (1, 2, 1250, 3)])  # 2025
    _check(db, "start")
    added: list[set[int]] = []
    real_update = standing._update_added

    def watching(cur, table, columns, changes, members, params):
        added.append(set(members))
        real_update(cur, table, columns, changes, members, params)

    monkeypatch.setattr(standing, "_update_added", watching)
    _import(db, [(0, 1, 1300, 5), (2, 1, 1310, 2)])  # General: no minimum
    _check(db, "a roster of a course without a minimum")
    assert {1, 3} in added  # standing_2025's members, their sums grown
    added.clear()

    # Hours in a category with a minimum (Ethics, 2 hours): added in place as well, and
    # those members' categories counted again (one short of it, one not).
    counted: list[set[int]] = []
    real_categories = standing._update_categories

    def counting(cur, table, columns, records, members, params, *, reasons):
        counted.append(set(members))
        real_categories(cur, table, columns, records, members, params, reasons=reasons)

    monkeypatch.setattr(standing, "_update_categories", counting)
    _import(db, [(0, 2, 1330, 1), (2, 2, 1340, 3)])
    _check(db, "a roster of a course with a minimum")
    assert {1, 3} in added and {1, 3} in counted
    rows = hour_summary(db, Filters(year=2025), detail=True)
    (why,) = rows.loc[rows["member_id"] == 1, "why_not_eligible"]
    assert why.endswith("Ethics: 1 of 2 hours"), why
    added.clear()

    # A roster commits while 2025's records (what its standing is computed from) are read
    # for the standing's build: the standing holds it, though its mark (taken before the
    # build) does not count it.
    db.forget_cache()
    real_build = db._new_scratch
    landed: list[bool] = []

    def build_with_a_write_landing(family: str, sql: str, params: object) -> str:
        if family == "records_2025" and not landed:
            landed.append(True)
            _import(db, [(3, 1, 1320, 6)])
        return real_build(family, sql, params)

    monkeypatch.setattr(db, "_new_scratch", build_with_a_write_landing)
    year_standing(db, 2025)
    assert landed
    _check(db, "a roster that landed during the build")
    assert not any(4 in members for members in added)  # computed again, not added to


def test_the_trend_counts_a_year_from_its_standing_when_that_is_up_to_date(db, monkeypatch):
    """After a write, a year whose whole standing someone has just seen (its Hour Summary)
    is counted from that table; its slim eligibility table is not brought up to date for
    it. Either way the counts equal a full recompute."""
    from cetracker import standing

    _fresh(db)
    _import(db, [(0, 1, 800, 12), (1, 2, 900, 6)])
    _check(db, "start")
    read: list[str] = []
    real = standing.year_eligibility
    monkeypatch.setattr(
        standing, "year_eligibility", lambda db, year: read.append(year) or real(db, year)
    )
    _import(db, [(2, 1, 1100, 4)])  # 2025 records
    year_standing(db, 2025)  # the Hour Summary of 2025 is open
    assert eligibility_counts(db, Filters(2025)) == _counts_now(db, 2025)
    assert read == []
    _import(db, [(3, 1, 1101, 4)])  # nobody looks at 2025's standing this time
    assert eligibility_counts(db, Filters(2025)) == _counts_now(db, 2025)
    assert read == [2025]


def test_a_members_edit_patches_the_servers_copy_of_the_members(db, tables_built):
    """On a server the reports read the members from a copy in memory (``members.kept``);
    an edit patches that member's row in it, it is not copied again. (On the embedded
    file the reports read the table itself.)"""
    _fresh(db)
    assert _members_kept(db) == _members_now(db)
    built = tables_built(db)
    loaded = entities.current(db, members.MEMBER, {"id": 1})
    assert loaded is not None
    members.save_member(
        db, {**loaded, "area": "Area 2", "phone": "512-555-0100"}, actor="admin",
        member_id=1, loaded=loaded,
    )  # fmt: skip
    assert _members_kept(db) == _members_now(db)
    kept = members.kept(db)
    assert db.one(f"SELECT area, phone FROM {kept} WHERE id = 1") == ("Area 2", "512-555-0100")  # noqa: S608
    assert built == []


def test_the_filter_bar_reads_again_only_what_a_write_can_change(db, monkeypatch):
    """A roster inside the CE years there are leaves the filter bar's choices be (they
    read every member and every record); one of an earlier year reads the years again, a
    member's edit the members' values. Each time they equal the tables'."""
    _fresh(db)
    _import(db, [(0, 1, 800, 12)])  # 2024
    reads: list[str] = []
    real_choices, real_one = members._member_choices, db.one
    monkeypatch.setattr(
        members, "_member_choices", lambda *a: reads.append("members") or real_choices(*a)
    )
    monkeypatch.setattr(
        db,
        "one",
        lambda sql, *a, **k: (
            (reads.append("years") if "min(ce_year)" in sql else None) or real_one(sql, *a, **k)
        ),
    )
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db)
    assert reads == ["members", "years"]
    _import(db, [(1, 1, 900, 6)])  # 2024 again
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db)
    assert reads == ["members", "years"]
    _import(db, [(2, 1, 10, 6)])  # 2022: earlier than any
    assert members.filter_choices(db, Scope(), 2026).years[-1] == 2022
    assert reads == ["members", "years", "years"]
    _apply(db, ("status", 0, "Area 2"))
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db)
    assert reads == ["members", "years", "years", "members"]
    # An approval in the last year and an edit of hours leave the years be: the records
    # stay in their years.
    _apply(db, ("report", 2, 810, 3, "General"))  # 2024
    pending = db.scalar("SELECT id FROM ce_records WHERE status = 'pending'")
    self_reports.decide(db, ADMIN, [pending], approve=True)
    with db.transaction(tracked=True) as cur:
        records.change_one(cur, pending, {"hours": D(2)})
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db)
    assert reads == ["members", "years", "years", "members"]
    # An admin's edit moves the first year's only record into 2023 (inside the span): the
    # years are read again, and 2022 goes; then that record removed: 2023 goes.
    (record, member_id) = db.one("SELECT id, member_id FROM ce_records WHERE ce_year = 2022")
    loaded = entities.current(db, records.RECORD, {"id": record})
    assert loaded is not None
    moved_by_hand = {**loaded, "course_id": None, "title": "Moved", "course_date": _day(400)}
    records.save_record(
        db, member_id, moved_by_hand, actor="admin", record_id=record, loaded=loaded, today=TODAY
    )
    assert members.filter_choices(db, Scope(), 2026).years[-1] == 2023
    assert reads == ["members", "years", "years", "members", "years"]
    with db.transaction(tracked=True) as cur:
        records.delete_one(cur, record)
    assert members.filter_choices(db, Scope(), 2026).years[-1] == 2024
    assert reads == ["members", "years", "years", "members", "years", "years"]
    # The last year's records all moved to another year: read again.
    moved = [i for (i,) in db.rows("SELECT id FROM ce_records WHERE ce_year = 2024")]
    with db.transaction(tracked=True) as cur:
        for record in moved:
            records.change_one(cur, record, {"ce_year": 2023, "course_date": date(2023, 5, 1)})
    assert members.filter_choices(db, Scope(), 2026) == _choices_now(db)
    assert reads[-1] == "years"


def test_the_record_counts_are_read_again_only_after_records_change(db, monkeypatch):
    """The Courses page's records per course and the CE Years page's records and members
    per year count every record: they are counted again after records are added (a
    roster, a self-report), not after an approval (only the records awaiting review are
    counted again), a member's edit or on the page's next run. Each time they equal the
    table's."""
    _fresh(db)
    _import(db, [(0, 1, 800, 12), (1, 2, 800, 6)])  # 2024

    def counts_now() -> tuple[dict[int, int], list[tuple[int, ...]]]:
        by_course = dict(
            db.rows(
                "SELECT course_id, count(*) FROM ce_records WHERE course_id IS NOT NULL"
                " GROUP BY course_id"
            )
        )
        by_year = db.rows(
            """SELECT ce_year, count(*), count(DISTINCT member_id),
                      count(*) FILTER (WHERE status = 'pending')
               FROM ce_records GROUP BY ce_year ORDER BY ce_year DESC"""
        )
        return by_course, by_year

    def shown() -> tuple[dict[int, int], list[tuple[int, ...]]]:
        frame = courses.courses_frame(db)
        years_shown = [
            (y["CE year"], y["Records"], y["Members with hours"], y["Pending approvals"])
            for y in years.overview(db)
        ]
        return {int(i): int(n) for i, n in frame[["id", "Records"]].values if n}, years_shown

    counted: list[str] = []
    real_rows = db.rows

    def rows(sql: str, *args: object, **kwargs: bool) -> list[tuple[object, ...]]:
        if "GROUP BY course_id" in sql or "GROUP BY ce_year" in sql:
            counted.append("course" if "course_id" in sql.split("GROUP BY")[1] else "year")
        elif "pending" in sql and "GROUP BY 1" in sql:  # (quoted twice on a server)
            counted.append("pending")
        return real_rows(sql, *args, **kwargs)

    monkeypatch.setattr(db, "rows", rows)
    now = ["course", "year"]  # counts_now's own two
    assert shown() == counts_now()
    assert counted == ["course", "year", "pending", *now]
    counted.clear()
    assert shown() == counts_now()  # the page's next run
    _apply(db, ("status", 0, "Area 2"))  # a member's edit
    assert shown() == counts_now()
    assert counted == [*now, *now]  # counts_now's alone
    counted.clear()
    _apply(db, ("report", 2, 810, 3, "General"))  # a self-report, pending
    _import(db, [(3, 1, 900, 4)])  # 2024 again
    assert shown() == counts_now()
    assert counted == ["course", "year", "pending", *now]
    counted.clear()
    # A member's edit of a pending report within its year, and an approval, restate a
    # record in place: only the count awaiting review is read again.
    pending, member = db.one("SELECT id, member_id FROM ce_records WHERE status = 'pending'")
    self_reports.update_report(
        db,
        User("m", "member", member_id=member),
        pending,
        title="T2",
        provider="P",
        day=_day(811),
        hours=2,
        category="General",
    )
    assert shown() == counts_now()
    assert counted == ["pending", *now]
    counted.clear()
    self_reports.decide(db, ADMIN, [pending], approve=True)
    assert shown() == counts_now()
    assert counted == ["pending", *now]
