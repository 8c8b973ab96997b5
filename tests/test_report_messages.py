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
