"""Server mode in Chromium: two app instances on one PostgreSQL database, as behind nginx."""

from __future__ import annotations

import pytest

from tests.e2e.browser import assert_no_error, expect_in_grid, log_in, open_page, search
from tests.e2e.conftest import serve
from tests.e2e.test_admin_journey import add_member

pytestmark = pytest.mark.timeout(300)


def test_a_member_added_on_one_instance_shows_on_the_other(
    browser, pg_server, tmp_path_factory, artifacts
):
    database = pg_server.create_database("e2e_two_instances")
    with (
        serve(tmp_path_factory.mktemp("instance-a"), database) as first,
        serve(tmp_path_factory.mktemp("instance-b"), database, demo=False) as second,
    ):
        a = log_in(browser, first, "admin")
        b = log_in(browser, second, "admin")  # the same secret: logins work on either

        open_page(b, second, "members")
        search(b, "Search", "TX-5150")
        b.get_by_text("No member matches").wait_for()

        add_member(a, first, "TX-5150", "Łukasz", "Nguyễn")
        a.screenshot(path=str(artifacts / "journey-server-instance-a.png"), full_page=True)

        # The other instance, with its own caches, shows the new member: it looks at the
        # server's write counter every second, so a search soon after finds it.
        for _attempt in range(20):
            open_page(b, second, "members")
            search(b, "Search", "TX-5150")
            if b.get_by_text("No member matches").count() == 0:
                break
        expect_in_grid(b, "Nguyễn")
        assert_no_error(b, "members on the second instance")
        b.screenshot(path=str(artifacts / "journey-server-instance-b.png"), full_page=True)

        # And its audit log names who added it, on the first instance.
        open_page(b, second, "audit")
        expect_in_grid(b, "member created")
