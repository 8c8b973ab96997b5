"""A server just started: its first visitors open pages by their address (issue 20).

Streamlit decides, as a server's first session starts, whether a pages/ folder makes the
app an old-style multipage app; cetracker.ui.server answers no before anyone asks.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import new_page, settle
from tests.e2e.conftest import serve

pytestmark = pytest.mark.timeout(300)


def test_sign_up_opens_cleanly_on_a_just_started_server(browser, tmp_path, artifacts):
    with serve(tmp_path) as url:
        # The first visit after the start follows a link to the sign-up page.
        page = new_page(browser)
        page.goto(f"{url}/sign-up")
        page.get_by_role("button", name="Create provider account").wait_for()
        settle(page)
        page.screenshot(path=str(artifacts / "fresh-sign-up.png"), full_page=True)
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("dialog").count() == 0
        # Only the public pages are listed (not every screen file, as an old-style
        # multipage app would list them); each link's text begins with its icon's name.
        links = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']")
        names = [text.split("\n")[-1].strip() for text in links.all_inner_texts()]
        assert names == ["Log in", "Verify a certificate", "Sign Up"]
        # The form can be used: nothing sits over it.
        page.get_by_label("Provider license number").fill("P-NOPE")
        page.get_by_role("button", name="Create provider account").click()
        page.get_by_text("We could not create an account").wait_for()
        page.context.close()

        # The next visitor follows a certificate's link: the app's own page, with its menu.
        page = new_page(browser)
        page.goto(f"{url}/verify")
        page.get_by_role("heading", name="Verify a certificate").wait_for()
        settle(page)
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("link", name="Log in").count() >= 1
        page.context.close()
