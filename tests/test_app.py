"""The app shell under AppTest: login per role, refusals, and a guard on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cetracker.demo import DEMO_PASSWORDS

APP = str(Path(__file__).parents[1] / "app.py")


def login(username: str, password: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    return at


def page_text(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown]
        + [t.value for t in at.title]
        + [e.value for e in at.error]
        + [w.value for w in at.warning]
        + [s.value for s in at.success]
    )
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("admin", "Dashboard"),
        ("director", "Dashboard"),
        ("provider", "CE Profile"),
        ("member", "My CE"),
    ],
)
def test_each_demo_role_logs_in(demo_db_path, role, landing):
    at = login(role, DEMO_PASSWORDS[role])
    assert not at.exception
    assert landing in [t.value for t in at.title]


def test_wrong_password_is_refused_and_audited(demo_db_path, demo_db):
    at = login("admin", "wrong-password")
    assert not at.exception
    assert "Dashboard" not in [t.value for t in at.title]
    assert any("not right" in e.value for e in at.error)
    assert (
        demo_db.scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'login failed' AND actor = 'admin'"
        )
        == 1
    )


def test_five_failures_lock_the_account(demo_db_path, demo_db):
    for _ in range(5):
        login("director", "not-the-password")
    at = login("director", DEMO_PASSWORDS["director"])
    assert "Dashboard" not in [t.value for t in at.title]


def run_page_as(page: str, username: str | None) -> AppTest:
    """Run one page file on its own, as a session signed in as ``username`` (None: nobody).

    This bypasses the router on purpose: the page's own guard must refuse.
    """
    at = AppTest.from_file(str(Path(APP).parent / "pages" / page), default_timeout=30)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
    at.run()
    return at


def test_member_gets_no_hour_summary_even_past_the_router(demo_db_path):
    at = run_page_as("hour_summary.py", "member")
    assert "Not allowed" in page_text(at)
    assert not at.dataframe and not at.exception


def test_anonymous_gets_no_hour_summary(demo_db_path):
    at = run_page_as("hour_summary.py", None)
    assert "Not allowed" in page_text(at)
    assert not at.dataframe


def test_member_opening_hour_summary_through_the_app_is_refused(demo_db_path):
    at = login("member", DEMO_PASSWORDS["member"])
    at.switch_page("pages/hour_summary.py")
    at.run()
    assert "Not allowed" in page_text(at)
    assert not at.dataframe and not at.metric
    # And the menu offers the member only their own pages.
    links = {link.proto.page for link in at.sidebar.get("page_link")}
    assert links and not any("hour_summary" in p for p in links)


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}")
    at.run()
    return at


def test_director_sees_only_their_area(demo_db_path):
    at = open_page(login("director", DEMO_PASSWORDS["director"]), "hour_summary.py")
    frame = at.dataframe[0].value
    assert set(frame["Area"]) == {"Area 3"}
    assert at.multiselect(key="hs_area").options == ["Area 3"]


def test_admin_filters_hour_summary(demo_db_path):
    at = open_page(login("admin", DEMO_PASSWORDS["admin"]), "hour_summary.py")
    everyone = len(at.dataframe[0].value)
    at.multiselect(key="hs_area").select("Area 6").run()
    frame = at.dataframe[0].value
    assert 0 < len(frame) < everyone and set(frame["Area"]) == {"Area 6"}
    at.toggle(key="hs_short").set_value(True).run()
    short = at.dataframe[0].value
    assert len(short) < len(frame) and not short["Eligible"].any()
    # Every column is shown (the order puts the hours first, and hides none): a member
    # short of nothing but not eligible is told why.
    shown = at.dataframe[0].proto.column_order
    assert set(shown) == set(short.columns) and "Why not eligible" in shown
    at.toggle(key="hs_short").set_value(False).run()
    frame = at.dataframe[0].value
    puzzling = frame[(frame["Short by"] == 0) & ~frame["Eligible"]]
    assert len(puzzling) > 0 and (puzzling["Why not eligible"].str.len() > 0).all()


def test_conference_detail_lines_without_a_date_show_blank_not_none(demo_db_path):
    at = run_page_as("conference_detail.py", "admin")
    assert not at.exception
    shown = at.dataframe[0].value
    totals = shown[shown["Kind"] == "total"]
    # The table draws a missing value as a grey "None": the total line's date is blank.
    assert len(totals) > 0 and (totals["Date"] == "").all()
    courses = shown[~shown["Kind"].isin(["total", "carryover"])]
    assert courses["Date"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()  # as the pages write dates


def test_a_login_reads_only_the_account_it_needs(demo_db_path):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    model = at.session_state["_authenticator"].authentication_controller.authentication_model
    assert dict(model.credentials["usernames"]) == {}  # no account read to draw the form
    at.text_input[0].input("director")
    at.text_input[1].input(DEMO_PASSWORDS["director"])
    at.button[0].click()
    at.run()
    assert not at.exception and at.session_state["username"] == "director"
    model = at.session_state["_authenticator"].authentication_controller.authentication_model
    # Never the whole users table: a board's 200,000 member accounts were loaded and
    # deep-copied on every page run.
    assert set(dict(model.credentials["usernames"])) <= {"director"}
