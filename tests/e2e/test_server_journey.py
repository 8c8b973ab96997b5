"""Server mode in Chromium: two app instances on one PostgreSQL database, as behind nginx."""

from __future__ import annotations

import pytest

from tests.e2e.browser import assert_no_error, expect_in_grid, log_in, search, settle
from tests.e2e.conftest import serve
from tests.e2e.test_admin_journey import add_member

pytestmark = pytest.mark.timeout(300)


def go_by_menu(page, name: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1).filter(has_text=name).wait_for()
    settle(page)


def test_a_member_added_on_one_instance_shows_on_the_other(
    browser, pg_server, demo_templates, tmp_path_factory, artifacts
):
    # A copy of the session's demo database on the server (the demo a CLI builds, tested
    # in tests/test_cli.py): building it again here took a process of its own.
    database = pg_server.copy_database(demo_templates("postgresql"), "e2e_two_instances")
    with (
        serve(tmp_path_factory.mktemp("instance-a"), database, demo=False) as first,
        serve(tmp_path_factory.mktemp("instance-b"), database, demo=False) as second,
    ):
        a = log_in(browser, first, "admin")
        b = log_in(browser, second, "admin")  # the same secret: logins work on either

        # On the second instance the pages are opened from the menu, in one session: a typed
        # address there opened the home page now and then (an open finding, see open_page).
        go_by_menu(b, "Members")
        search(b, "Search", "TX-5150")
        b.get_by_text("No member matches").wait_for()

        add_member(a, first, "TX-5150", "Łukasz", "Nguyễn")
        a.screenshot(path=str(artifacts / "journey-server-instance-a.png"), full_page=True)

        # The other instance, with its own caches, shows the new member: it looks at the
        # server's write counter every second, so a search soon after finds it.
        for _attempt in range(20):
            search(b, "Search", "")  # each search is a run of the page, which looks again
            search(b, "Search", "TX-5150")
            if b.get_by_text("No member matches").count() == 0:
                break
        expect_in_grid(b, "Nguyễn")
        assert_no_error(b, "members on the second instance")
        b.screenshot(path=str(artifacts / "journey-server-instance-b.png"), full_page=True)

        # And its audit log names who added it, on the first instance.
        go_by_menu(b, "Audit Log")
        expect_in_grid(b, "member created")
