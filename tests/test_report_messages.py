"""Messaging from a report: who is included, inactive members by choice, a merged preview."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cetracker import messages, reports
from cetracker.accounts import users
from cetracker.filters import Filters
from cetracker.plurals import plural
from cetracker.standing import hour_summary

PAGES = Path(__file__).parents[1] / "pages"


def as_user(page: str, username: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    return at


def hour_summary_year(at: AppTest) -> int:
    return int(at.selectbox(key="hs_year").value)


def test_hour_summary_says_who_a_message_reaches_and_lets_staff_include_inactive(
    demo_db_path, demo_db
):
    at = as_user("hour_summary.py", "admin").run()
    filters = Filters(hour_summary_year(at))
    shown = len(hour_summary(demo_db, filters))
    active = reports.active_members(demo_db, filters)
    assert 0 < active < shown  # the demo has inactive members
    button = at.button(key="hs_message")
    assert button.label == f"Message these {plural(active, 'member')}"
    assert any(
        f"{shown:,} members shown: {active:,} active, {shown - active:,} inactive" in c.value
        for c in at.caption
    )
    at.checkbox(key="hs_leave_out_inactive").uncheck().run()
    assert at.button(key="hs_message").label == f"Message these {plural(shown, 'member')}"
    at.button(key="hs_message").click().run()
    assert len(at.session_state["compose_member_ids"]) == shown
    assert at.session_state["compose_from"]["include_inactive"] is True


def test_compose_from_a_report_previews_the_merged_text_and_sends_to_inactive_members(
    demo_db_path, demo_db
):
    year = 2025
    detail = hour_summary(demo_db, Filters(year, short_only=True), detail=True)
    inactive = detail[detail["status"] != "active"].head(2)
    active = detail[detail["status"] == "active"].head(3)
    chosen = [int(i) for i in list(inactive["member_id"]) + list(active["member_id"])]
    assert len(inactive) == 2 and len(active) == 3

    at = as_user("messages_compose.py", "admin")
    at.session_state["compose_member_ids"] = chosen
    at.session_state["compose_from"] = {
        "report": "Hour Summary",
        "year": year,
        "shown": 5,
        "inactive_left_out": 0,
        "include_inactive": True,
    }
    at.run()
    assert "5 members chosen from the Hour Summary" in at.info[0].value
    assert at.metric[0].value == "5"
    at.text_input(key="msg_subject").input("Hours for {year}")
    at.text_area(key="msg_body").input(
        "Dear {first_name}, you are short by {short_by} of {required} hours for {year}."
    ).run()
    first = messages.recipients(
        demo_db,
        users.User(username="admin", role="admin"),
        messages.Audience(member_ids=tuple(chosen), include_inactive=True),
    ).iloc[0]
    row = detail[detail["member_id"] == first["member_id"]].iloc[0]
    from cetracker.rules.compute import format_hours

    expected = (
        f"Dear {first['first_name']}, you are short by {format_hours(row['short_by'])} of "
        f"{format_hours(row['required'])} hours for {year}."
    )
    assert any(expected in m.value for m in at.markdown), [m.value for m in at.markdown]
    at.checkbox(key="msg_confirm").check().run()
    at.button(key="msg_send").click().run()
    assert any("Message sent to 5 members" in s.value for s in at.success)
    message_id = demo_db.scalar("SELECT max(id) FROM messages")
    bodies = dict(
        demo_db.rows(
            "SELECT member_id, personal_body FROM message_recipients WHERE message_id = ?",
            [message_id],
        )
    )
    assert set(bodies) == set(chosen)  # the inactive two included, as chosen
    assert all("{short_by}" not in b and "{year}" not in b for b in bodies.values())


def test_a_send_leaves_inactive_members_out_unless_told(demo_db):
    admin = users.User(username="admin", role="admin")
    everyone = messages.recipients(demo_db, admin, messages.Audience(include_inactive=True))
    active_only = messages.recipients(demo_db, admin, messages.Audience())
    assert set(active_only["status"]) == {"active"}
    assert len(everyone) > len(active_only)
    inactive_id = int(everyone.loc[everyone["status"] != "active", "member_id"].iloc[0])
    import pytest

    from cetracker.errors import NotAllowed

    with pytest.raises(NotAllowed, match="or inactive"):
        messages.send(demo_db, admin, subject="s", body="b", member_ids=[inactive_id])
    assert messages.send(
        demo_db, admin, subject="s", body="b", member_ids=[inactive_id], include_inactive=True
    )


def test_plurals():
    assert plural(1, "member") == "1 member"
    assert plural(0, "member") == "0 members"
    assert plural(1204, "entry") == "1,204 entries"
    assert plural(1, "inactive member") == "1 inactive member"
    assert plural(2, "person", "people") == "2 people"


def _sent_to_member_and_two_others(demo_db) -> tuple[int, list[int]]:
    admin, member = users.load_user(demo_db, "admin"), users.load_user(demo_db, "member")
    others = messages.recipients(demo_db, admin, messages.Audience(areas=("Area 1",)))
    chosen = [member.member_id] + [int(i) for i in others["member_id"].head(2)]
    message_id = messages.send(
        demo_db,
        admin,
        subject="Renewal reminder",
        body="Hello {first_name}, **renew** by June.",
        member_ids=chosen,
    )
    return message_id, chosen


def test_sent_messages_opens_a_message_with_recipients_read_times_and_email_status(
    demo_db_path, demo_db
):
    message_id, chosen = _sent_to_member_and_two_others(demo_db)
    member = users.load_user(demo_db, "member")
    messages.open_message(demo_db, member, message_id)

    at = as_user("messages_sent.py", "admin").run()
    at.selectbox(key="sent_pick").set_value(message_id).run()
    assert not at.exception
    assert any("Hello {first_name}, **renew** by June." == m.value for m in at.markdown)
    assert [m.value for m in at.metric] == ["3 members", "1 member", "2 members"]
    table = at.dataframe[-1].value
    assert len(table) == 3
    mine = table[table["License number"] == "100000"].iloc[0]
    assert mine["Read at"] != "not yet"
    assert (table["Read at"] == "not yet").sum() == 2
    # No mail server in the tests: the Email column says so instead of being blank.
    assert set(table["Email"]) == {messages.NOT_EMAILED}
    assert (table["Email address"] != "").all()
    at.toggle(key="sent_unread_only").set_value(True).run()
    assert len(at.dataframe[-1].value) == 2


def test_a_director_cannot_open_another_senders_message(demo_db):
    import pytest

    from cetracker.errors import NotAllowed

    message_id, _ = _sent_to_member_and_two_others(demo_db)
    director = users.load_user(demo_db, "director")
    with pytest.raises(NotAllowed):
        messages.sent_message(demo_db, director, message_id)


def test_opening_a_message_lowers_the_unread_count_at_once(demo_db_path, demo_db):
    message_id, _ = _sent_to_member_and_two_others(demo_db)
    at = as_user("inbox.py", "member").run()
    assert any("1 message, 1 unread" in c.value for c in at.caption)
    at.selectbox(key="inbox_pick").set_value(message_id).run()
    assert any("1 message, 0 unread" in c.value for c in at.caption)
    assert any("**renew** by June" in m.value for m in at.markdown)


def test_no_page_writes_a_count_without_its_plural_rule():
    """'1 members', '1 messages': a count in a page's text goes through plural()."""
    import re

    root = Path(__file__).parents[1]
    counted = re.compile(
        r"\{[^}]*\}\s+(?:\w+\s)?(members|messages|rows|entries|providers|emails"
        r"|courses|records|certificates|lines|users|imports|files|member-years)\b"
    )
    offenders = [
        f"{path.relative_to(root)}: {line.strip()}"
        for path in [*(root / "pages").glob("*.py"), *(root / "cetracker" / "ui").glob("*.py")]
        for line in path.read_text().splitlines()
        # (a count beyond the table's limit of thousands of rows is never one)
        if counted.search(line) and "plural(" not in line and "MAX_ROWS_SHOWN" not in line
    ]
    assert not offenders, offenders
