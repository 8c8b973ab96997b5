"""Sessions in a real browser (SPEC §8): a login cookie copied before a logout or a password
change signs nobody in afterwards; a forged cookie shows the login form; an anonymous
visitor's menu lists only the public pages, from the first page a new server serves."""

from __future__ import annotations

import base64
import json

import pytest

from cetracker.demo import DEMO_PASSWORDS
from tests.e2e.browser import LOGIN_COOKIE as COOKIE
from tests.e2e.browser import count_runs, log_in, login_cookie, new_page, runs, settle

pytestmark = pytest.mark.timeout(300)
PUBLIC_LINKS = {"Log in", "Verify a certificate", "Sign Up"}


def opened_with(browser, url: str, cookie: dict) -> tuple:
    """A fresh browser holding only ``cookie`` opens the app: the page, and whether it is
    asked to log in (else it is signed in)."""
    page = new_page(browser, [{"name": cookie["name"], "value": cookie["value"], "url": url}])
    page.goto(url)
    # Either the login form or the signed-in menu comes; whichever it is, it is final.
    page.wait_for_function(
        """() => document.querySelector("input[aria-label='Username']")
            || [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Log out')""",
        timeout=60_000,
    )
    asked = page.get_by_label("Username").count() == 1
    signed_in = page.get_by_role("button", name="Log out").count() > 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert asked != signed_in
    return page, asked


def shows_the_login_form(browser, url: str, cookie: dict) -> bool:
    """A fresh browser holding only ``cookie`` opens the app: is it asked to log in?"""
    page, asked = opened_with(browser, url, cookie)
    page.context.close()
    return asked


def test_the_first_visitor_after_a_start_sees_only_the_public_pages(browser, own_app_url):
    page = new_page(browser)
    page.goto(own_app_url)
    # Watched from the first paint: Streamlit's own menu (which listed every file in
    # pages/) must never appear, not even before the app has run once.
    seen_streamlit_menu = page.evaluate(
        """() => new Promise(resolve => {
            let seen = false;
            const look = () => {
                if (document.querySelector('[data-testid="stSidebarNav"]')) seen = true;
                if (document.querySelector("input[aria-label='Username']")) resolve(seen);
                else requestAnimationFrame(look);
            };
            look();
        })"""
    )
    assert not seen_streamlit_menu
    links = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']")
    links.first.wait_for(timeout=60_000)
    # (Each link's text starts with its icon's name.)
    assert {text.split("\n")[-1] for text in links.all_inner_texts()} == PUBLIC_LINKS
    # A signed-in page's address shows the login form, and after it that page.
    page.goto(f"{own_app_url}/hour-summary")
    page.get_by_label("Username").wait_for()
    settle(page)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["admin"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hour Summary").wait_for(timeout=60_000)
    page.context.close()


def test_a_cookie_copied_before_logout_no_longer_signs_in(browser, own_app_url):
    page = log_in(browser, own_app_url, "member")
    copied = login_cookie(page)
    assert not shows_the_login_form(browser, own_app_url, copied)  # the copy works now
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").wait_for(timeout=60_000)
    assert shows_the_login_form(browser, own_app_url, copied)
    page.context.close()


def test_a_cookie_copied_before_a_password_change_no_longer_signs_in(browser, own_app_url):
    page = log_in(browser, own_app_url, "provider")
    copied = login_cookie(page)
    page.goto(f"{own_app_url}/account")
    page.get_by_role("textbox", name="Current password").fill(DEMO_PASSWORDS["provider"])
    page.get_by_role("textbox", name="New password", exact=True).fill("provider-new-2026")
    page.get_by_role("textbox", name="New password again").fill("provider-new-2026")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password is changed.").wait_for(timeout=60_000)
    assert shows_the_login_form(browser, own_app_url, copied)
    # This browser stays signed in: it got a new cookie, which works.
    renewed = login_cookie(page, other_than=copied["value"])
    assert not shows_the_login_form(browser, own_app_url, renewed)
    page.reload()
    page.get_by_role("button", name="Log out").wait_for(timeout=60_000)
    page.context.close()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "value",
    [
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"username": "admin", "exp_date": 9e9})
        + ".",
        "garbage%%%not.a.token",
    ],
    ids=["alg-none", "malformed"],
)
def test_a_forged_cookie_shows_the_login_form_and_login_still_works(browser, own_app_url, value):
    page, asked = opened_with(browser, own_app_url, {"name": COOKIE, "value": value})
    assert asked
    # The same browser, still holding the forged cookie, logs in with the form.
    settle(page)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["admin"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.context.close()


def test_a_page_opened_by_its_address_opens_with_one_run_of_the_app(browser, app_url):
    """A bookmarked or typed address opens its page, signed in from the cookie, in one run:
    no second run comes to start over (one came with the login library's cookie reader,
    and on a busy server it could open the home page instead of the address)."""
    page = log_in(browser, app_url, "admin")
    count_runs(page)
    for path in ("audit", "hour-summary"):
        page.goto(f"{app_url}/{path}")
        page.get_by_role("button", name="Log out").wait_for()
        settle(page)
        assert page.url.removeprefix(app_url).strip("/") == path
        assert runs(page) == 1, f"/{path} ran the app more than once"
    page.context.close()


# Two roles (each home page is the first of the role's pages, one rule in app.py): the
# member's, as reported, and the provider's; the office's Dashboard costs the run 15 s more.
@pytest.mark.parametrize(
    ("role", "home", "heading"),
    [("member", "my-ce", "My CE"), ("provider", "provider", "CE Profile")],
)
def test_a_roles_home_page_opens_at_its_own_address_too(browser, app_url, role, home, heading):
    """The home page is served at "/"; its own address (typed, bookmarked, or the one a
    login came back to) opens it too, with its menu link marked, not "Page not found"."""
    page = log_in(browser, app_url, role)
    for path in (home, ""):
        page.goto(f"{app_url}/{path}")
        page.get_by_role("button", name="Log out").wait_for()
        settle(page)
        assert page.url.removeprefix(app_url).strip("/") == path
        assert page.get_by_text("Page not found").count() == 0, f"/{path}"
        assert page.locator("h1").first.inner_text() == heading
        # The open page's link is the one drawn on a background (Streamlit marks it so only).
        marked = page.locator("[data-testid='stSidebar'] a").evaluate_all(
            """ls => ls.filter(l => getComputedStyle(l).backgroundColor !== 'rgba(0, 0, 0, 0)')
                      .map(l => l.querySelector('[data-testid=stMarkdownContainer]').innerText.trim())"""
        )
        assert marked == [heading], f"/{path}"
    page.context.close()
