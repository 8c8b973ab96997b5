"""The journeys of real users in Chromium, each asserting what is on the screen."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from cetracker.demo import DEMO_PASSWORDS
from tests.e2e.browser import (
    assert_no_error,
    count_runs,
    fetch,
    fill_course_report,
    log_in,
    new_page,
    open_page,
    refusal,
    runs,
    settle,
)

pytestmark = pytest.mark.timeout(300)


def test_admin_uploads_a_roster_and_exports_the_hour_summary(browser, app_url, artifacts, tmp_path):
    page = log_in(browser, app_url, "admin")
    open_page(page, app_url, "upload-roster")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "First Name,Last Name,License Number,Course Number,CE Year,Course Date,CE Hours\n"
        "Some,Body,999999,NOPE,2024,2024-01-01,2\n"
        "Other,Person,100001,NOPE,2024,not a date,2 hrs\n",
        encoding="utf-8",
    )
    page.locator("input[type=file]").set_input_files(str(roster))
    page.get_by_role("button", name="Import these rows").click()
    page.get_by_text("Result of roster.csv").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("No member holds license number 999999").count() >= 1
    page.screenshot(path=str(artifacts / "journey-admin-upload.png"), full_page=True)
    # Imported once: no button imports the same upload again (a second click answered
    # "Already recorded" for every row, over the result).
    page.get_by_text("This file is imported").wait_for()
    assert page.get_by_role("button", name="Import these rows").count() == 0
    download = fetch(page, "Download the failed rows (.xlsx)")
    sheet = load_workbook(io.BytesIO(Path(download).read_bytes())).worksheets[0]
    assert [c.value for c in sheet[1]][-1] == "Status" and sheet.max_row == 3
    # Another file in the same box gets its own preview (a file is read once, not on
    # every rerun of the page).
    second = tmp_path / "second.csv"
    second.write_text(roster.read_text() + "Third,Row,100002,NOPE,2024,2024-01-02,1\n")
    page.locator("input[type=file]").set_input_files(str(second))
    page.get_by_text("3 rows to import").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("Result of roster.csv").count() == 0  # not under the new preview
    expect(page.get_by_role("button", name="Import these rows")).to_be_visible()

    open_page(page, app_url, "hour-summary")
    page.get_by_role("combobox", name="Area").click()
    page.get_by_role("option", name="Area 6").click()
    page.keyboard.press("Escape")
    settle(page)
    download = fetch(page, "Download PDF")
    text = "".join(p.extract_text() for p in PdfReader(download).pages)
    assert "Hour Summary Report" in text and "Area: Area 6" in text
    download = fetch(page, "Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(download).read_text())))
    assert rows and {r["area"] for r in rows} == {"Area 6"}
    page.context.close()


def test_director_sees_only_area_3(browser, app_url, artifacts):
    page = log_in(browser, app_url, "director")
    open_page(page, app_url, "hour-summary")
    download = fetch(page, "Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(download).read_text())))
    assert rows and {r["area"] for r in rows} == {"Area 3"}
    # Typing another role's address opens the page, whose own guard refuses.
    page.goto(f"{app_url}/users")
    page.get_by_text("Not allowed: your account cannot open this page.").wait_for(timeout=30_000)
    page.context.close()


def test_provider_sees_only_its_courses(browser, app_url):
    page = log_in(browser, app_url, "provider")
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "V.G. Young Institute of County Government" in body
    open_page(page, app_url, "upload-roster")
    download = fetch(page, "Download the roster template")
    book = load_workbook(io.BytesIO(Path(download).read_bytes()))
    own = {row[0].value for row in book["Courses"].iter_rows(min_row=2)}
    assert own and len(own) < 30  # the demo lists 30 courses from 4 providers
    open_page(page, app_url, "ce-details")
    assert_no_error(page, "ce-details")
    download = fetch(page, "Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(download).read_text())))
    assert rows and {r["Course number"] for r in rows} <= own
    page.context.close()


def test_member_sees_their_totals(browser, app_url):
    page = log_in(browser, app_url, "member")
    page.get_by_text("Short by", exact=True).first.wait_for(timeout=30_000)
    body = page.locator("[data-testid='stMain']").inner_text()
    for label in ("Earned", "Carried in", "Credited", "Required", "Short by"):
        assert label in body
    page.context.close()


def test_anonymous_verifies_a_certificate(browser, app_url, tmp_path):
    page = log_in(browser, app_url, "admin")
    open_page(page, app_url, "certificates")
    download = fetch(page, "Download this certificate")
    text = PdfReader(download).pages[0].extract_text()
    found = re.search(r"Verification code: ([A-Z0-9-]+)", text)
    assert found, text
    page.context.close()

    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{app_url}/verify?code={found.group(1)}")
    anonymous.get_by_text("This is a valid certificate.").wait_for(timeout=30_000)
    anonymous.goto(f"{app_url}/verify?code={found.group(1)[:-1]}X")
    anonymous.get_by_text("Not a valid certificate").wait_for(timeout=30_000)
    anonymous.context.close()


def test_newcomer_two_commands(browser, tmp_path):
    """A fresh clone, the README's start command, and the logins it prints work."""
    import os
    import signal
    import subprocess

    from tests.e2e.conftest import ROOT, free_port, wait_healthy

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    # As on a newcomer's machine: no settings, and not inside this checkout's venv.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CETRACKER_") and k not in ("VIRTUAL_ENV", "PYTHONHOME")
    }
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if not part.startswith(str(ROOT))
    )
    env["PORT"] = str(port)
    log = tmp_path / "start.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["./ce", "start"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", seconds=240)
        printed = log.read_text()
        logins = dict(re.findall(r"username: (\w+)\s+password: (\S+)", printed))
        assert set(logins) == {"admin", "director", "provider", "member"}, printed
        page = browser.new_context().new_page()
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_label("Username").wait_for(timeout=120_000)
        settle(page)  # typed into once the page has drawn its form
        page.get_by_label("Username").fill("member")
        page.get_by_role("textbox", name="Password").fill(logins["member"])
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Log out").wait_for(timeout=30_000)
        page.get_by_text("Credited", exact=True).wait_for(timeout=30_000)
        page.context.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def wait_for_metric(page, label: str, expected: str, seconds: float = 30) -> None:
    """Streamlit redraws after each change; wait until the figure shows the expected value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if metric(page, label) == expected:
            return
        page.wait_for_timeout(250)
    assert metric(page, label) == expected


def test_a_report_with_a_wrong_file_and_no_title_names_both(browser, app_url, tmp_path):
    bogus = tmp_path / "certificate.pdf"
    bogus.write_bytes(b"not a certificate at all")
    member = log_in(browser, app_url, "member")
    open_page(member, app_url, "report-course")
    fill_course_report(member, "", "State Comptroller", "11022026", "2.5", bogus)
    member.locator("[data-testid='stForm']").first.get_by_role(
        "button", name="Report this course"
    ).click()
    words = refusal(member, "certificate.pdf is not a PDF")
    assert "Enter the course title." in words, words
    member.context.close()


def test_member_reports_a_course_admin_approves_member_reads_message(
    browser, app_url, tmp_path, artifacts
):
    certificate = tmp_path / "certificate.pdf"
    import pandas as pd

    from cetracker.files.exports import to_pdf

    certificate.write_bytes(to_pdf(pd.DataFrame({"c": ["Certificate of attendance"]}), "Proof"))
    member = log_in(browser, app_url, "member")
    before = float(metric(member, "Earned"))
    open_page(member, app_url, "report-course")
    fill_course_report(
        member, "Budget Workshop E2E", "State Comptroller", "11022026", "2.5", certificate
    )
    form = member.locator("[data-testid='stForm']").first
    settle(member)
    member.screenshot(path=str(artifacts / "journey-member-report-form.png"), full_page=True)
    form.get_by_role("button", name="Report this course").click()
    settle(member)
    member.screenshot(path=str(artifacts / "journey-member-after-submit.png"), full_page=True)
    member.get_by_text("It shows as pending").wait_for(timeout=30_000)
    member.screenshot(path=str(artifacts / "journey-member-reported.png"), full_page=True)

    admin = log_in(browser, app_url, "admin")
    open_page(admin, app_url, "approvals")
    admin.get_by_role("combobox", name="Reported course", exact=True).click()
    admin.get_by_role("option", name=re.compile("Budget Workshop E2E")).click()
    settle(admin)
    admin.get_by_role("button", name="Approve", exact=True).click()
    settle(admin)
    open_page(admin, app_url, "send-messages")
    admin.get_by_role("textbox", name="Subject").fill("Welcome to CE Tracker")
    admin.get_by_role("textbox", name="Message (Markdown)").fill(
        "Dear {first_name}, your course is approved."
    )
    admin.get_by_role("textbox", name="Last name").fill("Ánh")
    admin.keyboard.press("Tab")
    settle(admin)
    wait_for_metric(admin, "Recipients", "1")
    admin.get_by_text("Yes, send this message to 1 member", exact=True).click()
    settle(admin)
    admin.get_by_role("button", name="Send", exact=True).click()
    admin.get_by_text("Message sent to 1 member.").wait_for(timeout=30_000)
    admin.context.close()

    open_page(member, app_url, "")
    wait_for_metric(member, "Earned", f"{before + 2.5:g}")
    # Two unread: the approval of the reported course, and the welcome.
    member.get_by_text("You have 2 unread messages").wait_for(timeout=30_000)
    open_page(member, app_url, "messages")
    member.get_by_role("combobox", name="Open a message").click()
    member.get_by_role("option", name=re.compile("Welcome to CE Tracker")).click()
    member.get_by_text("Dear Nguyễn Thị, your course is approved.").wait_for(timeout=30_000)
    # Opening it marks it read: the menu's counter drops at once, without another click.
    member.get_by_text("Messages (1 unread)").wait_for(timeout=30_000)
    assert member.get_by_text("Messages (2 unread)").count() == 0
    # And the box that chose it no longer marks it unread ("●").
    chosen = member.get_by_role("combobox", name="Open a message")
    expect(chosen).to_have_value(re.compile(r"^\d\d/\d\d/\d{4} — Welcome to CE Tracker$"))
    member.screenshot(path=str(artifacts / "journey-member-message.png"), full_page=True)
    open_page(member, app_url, "")
    transcript = fetch(member, "Download my transcript (PDF)")
    text = "".join(p.extract_text() for p in PdfReader(transcript).pages)
    assert "Budget Workshop E2E" in text and "Nguyễn Thị Ánh" in text
    member.context.close()


def test_the_login_form_is_not_rerun_under_a_typing_person(browser, app_url):
    # Nothing may start a run of the login page once it is drawn: a run that lands just
    # after a click on "Log in" swallows the click (the login then does nothing). The login
    # library's cookie reader did that: its answer to the first run started a second.
    page = new_page(browser)
    count_runs(page)
    page.goto(app_url)
    page.get_by_label("Username").wait_for()
    settle(page)
    assert runs(page) == 1
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["admin"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    page.context.close()


def test_the_login_page_loads_the_chart_library_out_of_sight(browser, app_url):
    # The first page after login (Dashboard, My CE) draws plotly charts. The browser
    # loads plotly on the login page, while a person types, in a chart nobody sees.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    page.get_by_label("Username").wait_for(timeout=30_000)
    # Wait for the state asserted: the login page has run to its end and the chart library
    # has drawn the preloaded chart. Until then, and after, no chart may be seen.
    settle(page)
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot .main-svg') !== null", timeout=30_000
    )
    visible = "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent)"
    assert page.evaluate(f"{visible}.length") == 0
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["admin"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Members eligible").first.wait_for(timeout=30_000)
    page.wait_for_function(f"() => {visible}.length >= 3", timeout=30_000)
    context.close()
