"""The office's administration in Chromium, on an app of its own (it changes rules, closes a year)."""

from __future__ import annotations

import re

import pytest

from cetracker import config
from tests.e2e.browser import assert_no_error, expect_in_grid, log_in, open_page, settle

pytestmark = pytest.mark.timeout(300)


def visible(locator):
    return locator.filter(visible=True).first


def choose(page, label: str, option: str | re.Pattern, typed: str = "") -> None:
    """Pick from a selectbox; ``typed`` narrows a long (virtualised) list first."""
    visible(page.get_by_role("combobox", name=label)).click()
    if typed:
        page.keyboard.type(typed)
    page.get_by_role("option", name=option).first.click()
    settle(page)


def add_member(page, url: str, license_number: str, first: str, last: str) -> None:
    """The Members page's "Add a member" form, filled and saved (county Travis)."""
    open_page(page, url, "members")
    page.get_by_role("tab", name="Add a member").click()
    visible(page.get_by_label("License number *")).fill(license_number)
    visible(page.get_by_label("First name *")).fill(first)
    visible(page.get_by_label("Last name *")).fill(last)
    visible(page.get_by_label("County")).fill("Travis")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text(f"Added {first} {last} (license {license_number}).").wait_for(timeout=30_000)


def test_admin_adds_a_member_changes_the_rules_closes_a_year(browser, own_app_url, artifacts):
    url = own_app_url
    last_year = config.today().year - 1  # the demo's CE years are calendar years
    page = log_in(browser, url, "admin")

    add_member(page, url, "TX-4242", "Zoë", "Ødegård")
    page.screenshot(path=str(artifacts / "journey-admin-add-member.png"), full_page=True)

    # Change the rules: the preview comes first, and says how many members it affects.
    open_page(page, url, "ce-rules")
    year_box = page.get_by_label("Effective from CE year")
    year_box.fill(str(last_year))
    year_box.press("Enter")
    settle(page)
    required = page.get_by_label("Required hours")
    required.fill("30")
    page.get_by_role("button", name="Preview the effect").click()
    page.get_by_text("This change alters eligibility").wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(artifacts / "journey-admin-policy-preview.png"), full_page=True)
    page.get_by_role("button", name="Save this policy").click()
    page.get_by_text(f"Saved the rules from {last_year}").wait_for(timeout=30_000)

    # Close last year.
    open_page(page, url, "ce-years")
    choose(page, "CE year", str(last_year))
    page.get_by_text("I understand: its hours become final").click()
    page.get_by_role("button", name="Close this year").click()
    page.get_by_text(f"CE year {last_year} is closed:").wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "journey-admin-close-year.png"), full_page=True)

    # A record of the closed year cannot be changed.
    open_page(page, url, "members")
    search = page.get_by_role("textbox", name="Search")
    search.fill("100000")
    search.press("Enter")
    settle(page)
    # "MM/DD/YYYY · course · hours · status" (Playwright cannot send a "/" in a pattern)
    choose(page, "Record", re.compile(str(last_year) + " · "), typed=f"/{last_year}")
    hours = visible(page.get_by_label("CE hours *"))
    hours.fill("0.25")
    page.get_by_role("button", name="Save record").click()
    page.get_by_text(f"CE year {last_year} is closed. An administrator must reopen it").wait_for(
        timeout=30_000
    )
    page.screenshot(path=str(artifacts / "journey-admin-closed-record.png"), full_page=True)

    # The Hour Summary of the closed year says it reads the snapshot.
    open_page(page, url, "hour-summary")
    choose(page, "CE year", str(last_year))
    page.get_by_text(f"CE year {last_year} was closed on").wait_for(timeout=30_000)

    # The audit trail has all of it.
    open_page(page, url, "audit")
    page.screenshot(path=str(artifacts / "journey-admin-audit.png"), full_page=True)
    page.get_by_text("entries (newest first").wait_for(timeout=30_000)
    expect_in_grid(page, "CE year closed", "policy changed", "member created")
    assert_no_error(page, "admin journey")
    page.context.close()
