"""Reminders that send themselves, and the nightly backup (SPEC §8, issue 20).

Real DuckDB and PostgreSQL databases, real email on loopback (aiosmtpd), the scheduler's
own thread driven by its wake-up and its count of checks (no waiting for time).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from streamlit.testing.v1 import AppTest

from cetracker import audit, backups, reminders, scheduler
from cetracker import policy as policies
from cetracker.accounts import users
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.mail import SmtpSettings
from cetracker.rules import compute
from cetracker.standing import member_standing
from cetracker.store.db import Database
from tests.test_messages import Mailbox, free_port

PAGES = Path(__file__).parents[1] / "pages"
ADMIN = users.User(username="admin", role="admin")
BODY = "Dear {first_name}, you have {credited} of {required} hours for {year}: {short_by} to go."


@pytest.fixture
def mail_server() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield (
        box,
        SmtpSettings(host="127.0.0.1", port=port, security="none", sender="office@example.org"),
    )
    controller.stop()


def add(db: Database, days: int = 60, subject: str = "CE reminder", body: str = BODY) -> int:
    return reminders.add_schedule(db, ADMIN, days_before=days, subject=subject, body=body)


def short_active(db: Database, year: int) -> set[int]:
    """Active members short of hours, by the rules' oracle (compute.py) on every record."""
    records: dict[int, list[compute.Record]] = {}
    for member_id, ce_year, hours, category, status in db.rows(
        "SELECT member_id, ce_year, hours, category, status FROM ce_records"
    ):
        records.setdefault(int(member_id), []).append(
            compute.Record(int(ce_year), compute.hours(hours), category, status)
        )
    rules, minimums = policies.load_policies(db), policies.load_minimum_sets(db)
    return {
        int(member_id)
        for (member_id,) in db.rows("SELECT id FROM members WHERE status = 'active'")
        if not compute.standing(records.get(int(member_id), []), year, rules, minimums).eligible
    }


def test_due_rule_on_a_calendar_year_and_a_july_year(db):
    end = date(2026, 12, 31)
    assert reminders.sends_on(end, 60) == date(2026, 11, 1)
    assert not reminders.is_due(date(2026, 10, 31), end, 60)
    assert reminders.is_due(date(2026, 11, 1), end, 60)
    assert reminders.is_due(date(2026, 12, 31), end, 60)
    assert not reminders.is_due(date(2027, 1, 1), end, 60)

    with db.transaction() as cur:
        policies.save_policy(cur, compute.Policy(2020, ce_year_start_month=7))
    sixty, fourteen = add(db, 60), add(db, 14)
    # With CE years July–June, 11/15/2026 lies in CE year 2027, which ends on 06/30/2027.
    assert reminders.current_year(db) == (2027, date(2027, 6, 30))
    assert reminders.due(db) == []
    assert reminders.due(db, date(2027, 4, 30)) == []
    assert [s.id for s in reminders.due(db, date(2027, 5, 1))] == [sixty]
    assert [s.id for s in reminders.due(db, date(2027, 6, 16))] == [sixty, fourteen]
    # 07/01/2027 opens CE year 2028: nothing is due until its own last 60 days.
    assert reminders.due(db, date(2027, 7, 1)) == []
    assert [s.id for s in reminders.due(db, date(2028, 5, 1))] == [sixty]


def test_schedules_are_checked_and_only_for_admins(demo_db):
    admin, director = users.load_user(demo_db, "admin"), users.load_user(demo_db, "director")
    for days, subject, body, words in [
        (-1, "S", "B", "from 0 to 366"),
        ("sixty", "S", "B", "whole number"),
        (60, " ", "B", "subject"),
        (60, "S", "", "message"),
        (60, "S" * 201, "B", "under 200"),
    ]:
        with pytest.raises(CetrackerError, match=words):
            reminders.add_schedule(demo_db, admin, days_before=days, subject=subject, body=body)
    with pytest.raises(NotAllowed):
        reminders.add_schedule(demo_db, director, days_before=60, subject="S", body="B")
    reminder = add(demo_db, 60)
    changes = reminders.update_schedule(
        demo_db, admin, reminder, days_before=30, subject="CE reminder", body=BODY, active=False
    )
    assert changes == {"days_before": [60, 30], "active": [True, False]}
    assert reminders.due(demo_db) == []  # inactive
    trail = audit.history(demo_db, "reminder", reminder)
    assert list(trail["What"]) == ["reminder deactivated", "reminder added"]


@pytest.mark.both_backends
def test_only_short_active_members_get_their_own_figures_in_app_and_by_email(demo_db, mail_server):
    box, smtp = mail_server
    add(demo_db, 60)
    add(demo_db, 14)  # 11/15 is 46 days before 12/31: not due yet
    sent = reminders.run_due(demo_db, smtp=smtp)
    assert [(s.days_before, s.ce_year, s.emailed) for s in sent] == [(60, 2026, True)]
    recipients = {
        int(m)
        for (m,) in demo_db.rows(
            "SELECT member_id FROM message_recipients WHERE message_id = ?", [sent[0].message_id]
        )
    }
    expected = short_active(demo_db, 2026)
    assert 0 < len(expected) < demo_db.scalar("SELECT count(*) FROM members")
    assert recipients == expected and sent[0].members == len(expected)

    member = users.load_user(demo_db, "member")
    assert member is not None and member.member_id is not None
    standing = member_standing(demo_db, member.member_id, 2026)
    if member.member_id in recipients:
        _, body, _ = reminders.messages.open_message(demo_db, member, sent[0].message_id)
        assert body == (
            f"Dear Nguyễn Thị, you have {compute.format_hours(standing.credited)} of "
            f"{compute.format_hours(standing.required)} hours for 2026: "
            f"{compute.format_hours(standing.short_by)} to go."
        )
    emails = {
        rcpt[0]: message_from_bytes(content, policy=policy.default)
        for rcpt, content in box.received
    }
    assert len(emails) == demo_db.scalar(
        "SELECT count(*) FROM message_recipients WHERE message_id = ? AND email_status = 'sent'",
        [sent[0].message_id],
    )
    assert len(emails) > 0
    someone = next(iter(emails))
    member_id, first = demo_db.one("SELECT id, first_name FROM members WHERE email = ?", [someone])
    theirs = member_standing(demo_db, int(member_id), 2026)
    text = emails[someone].get_body(("plain",)).get_content()
    assert f"Dear {first}," in text
    assert f"{compute.format_hours(theirs.short_by)} to go" in text
    assert theirs.short_by > 0 or theirs.category_shortfalls
    entry = audit.recent(demo_db, action="reminder sent").iloc[0]
    assert entry["Who"] == "scheduler" and f"members: {len(expected)}" in entry["Detail"]


@pytest.mark.both_backends
def test_never_sent_twice_even_by_two_processes_racing(demo_db_path, demo_db):
    reminder = add(demo_db, 60)
    # Two Database objects: two connections (on PostgreSQL, two server sessions, as two
    # app instances have), each with its own write lock, started at the same moment.
    other = Database(demo_db_path)
    start = threading.Barrier(3)
    results: dict[str, object] = {}

    def run(name: str, db: Database) -> None:
        start.wait()
        try:
            results[name] = reminders.run_due(db)
        except Exception as exc:  # recorded for the assertion below
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=("first", demo_db)),
        threading.Thread(target=run, args=("second", other)),
        threading.Thread(target=run, args=("third", demo_db)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.close()
    outcomes = list(results.values())
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted(len(o) for o in outcomes) == [0, 0, 1]  # type: ignore[arg-type]
    assert demo_db.rows("SELECT schedule_id, ce_year FROM reminder_sends") == [(reminder, 2026)]
    assert demo_db.scalar("SELECT count(*) FROM messages WHERE sender = 'scheduler'") == 1
    # And once more later: still once.
    assert reminders.run_due(demo_db) == []
    assert demo_db.scalar("SELECT count(*) FROM messages WHERE sender = 'scheduler'") == 1


RACER = """
import json, sys, time
from pathlib import Path
from cetracker import reminders
from cetracker.store.db import Database
db = Database(sys.argv[1])
Path(sys.argv[3]).touch()
while not Path(sys.argv[2]).exists():  # every process starts sending at once
    time.sleep(0.005)
print(json.dumps([s.members for s in reminders.run_due(db)]))
db.close()
"""


@pytest.mark.both_backends
def test_two_app_processes_on_one_server_send_a_reminder_once(backend, demo_db_path, tmp_path):
    if backend == "duckdb":
        pytest.skip("one process at a time opens a DuckDB file; the threads above race on it")
    db = Database(demo_db_path)
    add(db, 60)
    db.close()
    go, ready = tmp_path / "go", [tmp_path / f"ready-{i}" for i in range(2)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, demo_db_path, str(go), str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    while not all(f.exists() for f in ready) and all(r.poll() is None for r in racers):
        time.sleep(0.01)  # waiting for both processes to have opened the database
    go.touch()
    outputs = [r.communicate(timeout=180) for r in racers]
    assert all(r.returncode == 0 for r in racers), outputs
    sent = sorted(json.loads(out) for out, _ in outputs)
    db = Database(demo_db_path)
    try:
        members = int(db.scalar("SELECT members FROM reminder_sends"))
        assert sent == [[], [members]] and members > 0
        assert db.scalar("SELECT count(*) FROM messages WHERE sender = 'scheduler'") == 1
    finally:
        db.close()


def test_nobody_short_is_recorded_once_with_no_message(db):
    reminder = add(db, 60)
    assert [(s.members, s.message_id) for s in reminders.run_due(db)] == [(0, None)]
    assert reminders.run_due(db) == []
    assert db.rows("SELECT schedule_id, members FROM reminder_sends") == [(reminder, 0)]


@pytest.mark.both_backends
def test_scheduler_thread_sends_due_reminders_and_the_nightly_backup_once(demo_db, tmp_path):
    reminder = add(demo_db, 60)
    folder = tmp_path / "nightly"
    clock = {"now": datetime(2026, 11, 15, 1, 30)}
    worker = scheduler.Scheduler(
        demo_db,
        interval_seconds=3600,
        backup_hour=2,
        backup_folder=folder,
        now=lambda: clock["now"],
    )
    try:
        assert worker.wait_for(1)
        first = worker.last
        assert first is not None and first.errors == []
        assert [s.schedule_id for s in first.sent] == [reminder]
        assert first.backup is None  # 1:30, before the backup hour

        clock["now"] = datetime(2026, 11, 15, 2, 5)
        worker.wake()
        assert worker.wait_for(2)
        second = worker.last
        assert second is not None and second.sent == [] and second.backup is not None
        assert second.backup.parent == folder and second.backup.stat().st_size > 0

        worker.wake()
        assert worker.wait_for(3)
        assert worker.last is not None and worker.last.backup is None  # once a day
    finally:
        worker.stop()
    assert list(folder.iterdir()) == [second.backup]
    last = backups.last_nightly(demo_db)
    assert last is not None and last.day == date(2026, 11, 15) and last.file == str(second.backup)
    done = audit.recent(demo_db, actor="scheduler")
    assert {"reminder sent", "message sent", "nightly backup made"} <= set(done["What"])
    # Another app process on the same database the same day does neither again.
    assert backups.nightly(demo_db, folder, day=date(2026, 11, 15)) is None


def test_scheduler_survives_a_failing_backup_and_reports_it(demo_db, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    worker = scheduler.Scheduler(
        demo_db, interval_seconds=3600, backup_hour=0, backup_folder=blocker
    )
    try:
        assert worker.wait_for(1)
        assert worker.last is not None and worker.last.backup is None
        assert any("nightly backup" in e for e in worker.last.errors)
        worker.wake()
        assert worker.wait_for(2)  # the thread lives on; tomorrow it tries again
    finally:
        worker.stop()
    last = backups.last_nightly(demo_db)
    assert last is not None and last.error and last.file is None
    assert "nightly backup failed" in set(audit.recent(demo_db, actor="scheduler")["What"])


def test_scheduler_is_off_when_its_interval_is_zero(demo_db, monkeypatch):
    monkeypatch.setenv("CETRACKER_SCHEDULER_MINUTES", "0")
    assert scheduler.start(demo_db) is None
    monkeypatch.setenv("CETRACKER_SCHEDULER_MINUTES", "soon")
    assert scheduler.start(demo_db) is None  # a mistyped setting never stops the app


def test_cli_lists_and_runs_due_reminders(demo_db_path, demo_db, capsys):
    from cetracker.cli import main

    assert main(["--db", demo_db_path, "reminders"]) == 0
    assert "No reminders are scheduled" in capsys.readouterr().out
    sixty, fourteen = add(demo_db, 60), add(demo_db, 14)
    assert main(["--db", demo_db_path, "reminders"]) == 0
    listing = capsys.readouterr().out
    assert "CE year 2026 ends on 12/31/2026." in listing
    assert f"{sixty}\t60 days before\tsends on 11/01/2026\tCE reminder" in listing
    assert f"{fourteen}\t14 days before\tsends on 12/17/2026" in listing
    assert main(["--db", demo_db_path, "reminders", "--run"]) == 0
    out = capsys.readouterr().out
    members = len(short_active(demo_db, 2026))
    assert (
        f"Sent reminder {sixty} (60 days before) for CE year 2026 to {members} members "
        "short of hours, in the app." in out
    )
    assert main(["--db", demo_db_path, "reminders", "--run"]) == 0
    again = capsys.readouterr().out
    assert "No reminder is due now; nothing was sent." in again
    assert f"{sixty}\t60 days before\tsent " in again
    assert demo_db.scalar("SELECT sent_by FROM reminder_sends") == "cli"


def test_admin_page_adds_previews_deactivates_and_lists_sends(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "reminders.py"), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    assert not at.exception, at.exception
    assert any("No reminders yet" in i.value for i in at.info)
    at.number_input(key="reminder_days_0").set_value(60)
    at.text_input(key="reminder_subject_0").input("Your CE hours")
    at.text_area(key="reminder_body_0").input(BODY)
    at.run()
    first_short = reminders.short_members(demo_db, 2026).iloc[0]
    assert any(
        f"Dear {first_short['first_name']}, you have" in m.value and "to go" in m.value
        for m in at.markdown
    )
    at.button(key="reminder_save").click().run()
    assert not at.exception, at.exception
    assert any("added" in s.value for s in at.success)
    [schedule] = reminders.schedules(demo_db)
    assert (schedule.days_before, schedule.subject, schedule.active) == (60, "Your CE hours", True)
    listed = at.dataframe[0].value
    assert list(listed["Subject"]) == ["Your CE hours"] and list(listed["Sent for 2026"]) == [
        "not yet"
    ]

    reminders.run_due(demo_db)
    at.selectbox(key="reminder_pick").set_value(schedule.id).run()
    at.checkbox(key=f"reminder_active_{schedule.id}").uncheck()
    at.button(key="reminder_save").click().run()
    assert any(f"Reminder {schedule.id} saved." in s.value for s in at.success)
    assert not reminders.schedule(demo_db, schedule.id).active
    sends = at.dataframe[1].value
    assert list(sends["Members"]) == [len(reminders.short_members(demo_db, 2026))]
    assert list(sends["Sent by"]) == ["scheduler"]


def test_backup_page_tells_of_the_latest_nightly_backup(
    demo_db_path, demo_db, tmp_path, monkeypatch
):
    monkeypatch.setattr(scheduler, "start", lambda db: None)  # no thread of its own here
    monkeypatch.setenv("CETRACKER_SCHEDULER_MINUTES", "5")
    made = backups.nightly(demo_db, tmp_path / "nightly", day=date(2026, 11, 15))
    assert made is not None
    at = AppTest.from_file(str(PAGES / "backup.py"), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    assert not at.exception, at.exception
    assert any(f"the latest, of 11/15/2026, is `{made.name}`" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]


def test_nightly_backups_older_than_the_kept_ones_are_deleted(demo_db, tmp_path, monkeypatch):
    """Two weeks of nightly backups are kept (here two); a backup made by hand never goes."""
    monkeypatch.setattr(backups, "NIGHTLY_KEPT", 2)
    folder = tmp_path / "backups"
    by_hand = backups.backup(demo_db, folder)
    made = [backups.nightly(demo_db, folder, day=date(2026, 11, d)) for d in (11, 12, 13, 14)]
    assert sorted(folder.iterdir()) == sorted([by_hand, made[2], made[3]])
    assert [p.name for p in made] == [
        f"cetracker-nightly-202611{d}.duckdb" for d in (11, 12, 13, 14)
    ]
    deleted = audit.recent(demo_db, actor="scheduler")
    assert (deleted["What"] == "old nightly backups deleted").sum() == 2
    # The history keeps every day made, and the latest still names its file.
    assert demo_db.scalar("SELECT count(*) FROM nightly_backups") == 4
    last = backups.last_nightly(demo_db)
    assert last is not None and last.file == str(made[3])
