"""What every browser test does: sign in, open a page, wait for Streamlit, download, read a grid.

The waits wait for a state of the page, never for a length of time: a shared machine under
load is slow, not wrong.
"""

from __future__ import annotations

import re
import warnings

from playwright.sync_api import expect

from cetracker.demo import DEMO_PASSWORDS

LOGIN_COOKIE = "cetracker_login"
WAIT_MS = 120_000  # the longest any one state may take to come on a loaded machine

# The app is connected and its script is not running: Streamlit's own marks on the page,
# held for QUIET_MS in a row. A widget change sends its rerun request without marking the
# page (the mark turns to "running" only when the server answers): a state that lasts is
# the settled one.
QUIET_MS = 500
SETTLED = """(quiet) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app !== null
        && app.dataset.testConnectionState === 'CONNECTED'
        && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]');
    const now = performance.now();
    if (!idle) { window.__ceIdleSince = undefined; return false; }
    if (window.__ceIdleSince === undefined) { window.__ceIdleSince = now; }
    return now - window.__ceIdleSince >= quiet;
}"""


# Counts the runs of the app's script in a page: each time Streamlit marks it running.
_COUNT_RUNS = """
window.__ceRuns = 0;
new MutationObserver((changes) => {
    for (const change of changes) {
        if (change.target.dataset.testScriptState === 'running'
            && change.oldValue !== 'running') window.__ceRuns += 1;
    }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""


def count_runs(page) -> None:
    """From the next load of ``page`` on, count the app's runs (read with ``runs``)."""
    page.context.add_init_script(_COUNT_RUNS)


def runs(page) -> int:
    """How many times the app has run in ``page`` since it was last loaded."""
    return int(page.evaluate("window.__ceRuns"))


def settle(page) -> None:
    """Wait until Streamlit has run the script to its end and started no other run."""
    page.evaluate("() => { window.__ceIdleSince = undefined; }")
    page.wait_for_function(SETTLED, arg=QUIET_MS, timeout=WAIT_MS, polling=100)


DESKTOP = {"width": 1400, "height": 1000}


def new_page(browser, cookies: list[dict] | None = None, *, viewport: dict | None = None, **device):
    """A page in a new browser context of ``viewport`` (a desktop screen unless given);
    ``device`` are Playwright's other context options (is_mobile, has_touch, ...)."""
    context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **device)
    context.set_default_timeout(WAIT_MS)
    if cookies:
        context.add_cookies(cookies)
    return context.new_page()


def login_cookie(page, other_than: str | None = None) -> dict:
    """The login cookie once the browser holds it (waits for the app to send it)."""
    for _ in range(600):
        found = [c for c in page.context.cookies() if c["name"] == LOGIN_COOKIE]
        if found and found[0]["value"] != other_than:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("the app never sent a login cookie")


def sign_in(browser, url: str, username: str, password: str, **screen):
    """A new browser signed in as ``username``, its login cookie held; ``screen`` as for
    ``new_page``."""
    page = new_page(browser, **screen)
    page.goto(url)
    page.get_by_label("Username").wait_for()
    settle(page)  # typed into once the page has drawn its form
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    settle(page)
    login_cookie(page)  # then a typed address opens straight into the signed-in app
    return page


def log_in(browser, url: str, role: str, **screen):
    """Sign in as the demo user of ``role``; ``screen`` as for ``new_page``."""
    return sign_in(browser, url, role, DEMO_PASSWORDS[role], **screen)


def open_page(page, url: str, path: str) -> None:
    """Open a signed-in page as a person does: its menu link when the menu lists it,
    otherwise its address (a landing elsewhere is retried and reported)."""
    if path and page.url.startswith(url) and menu_link(page, path).count():
        open_from_menu(page, path)
        return
    for attempt in range(3):
        page.goto(f"{url}/{path}")
        page.get_by_role("button", name="Log out").wait_for()
        settle(page)
        landed = page.url.removeprefix(url).strip("/").split("?")[0]
        if landed == path.strip("/"):
            return
        # Seen under load on a second app instance right after the other one wrote; the
        # cause is not found yet. Shown in the run's warnings (pyproject's filterwarnings).
        warnings.warn(
            f"landed elsewhere: {url}/{path} opened /{landed} (attempt {attempt + 1})",
            UserWarning,
            stacklevel=2,
        )
    raise AssertionError(f"{url}/{path} kept opening /{landed}")


def menu_link(page, path: str):
    """The menu's link to the page at ``path`` (the menu writes addresses relative)."""
    return page.locator(f"[data-testid='stSidebar'] a[href='{path}']")


def open_from_menu(page, path: str) -> None:
    """Open a signed-in page the way a person does: its link in the menu (the page
    changes in place, with no new load of the app)."""
    menu_link(page, path).click()
    page.wait_for_url(re.compile(rf"/{re.escape(path)}/?(\\?.*)?$"))
    page.get_by_role("button", name="Log out").wait_for()
    settle(page)


def assert_no_error(page, where: str) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, f"exception on {where}"
    assert page.get_by_text("Page not found").count() == 0, f"page not found: {where}"


def fetch(page, button: str) -> str:
    """Click a download button and return the downloaded file's path."""
    settle(page)
    target = page.get_by_role("button", name=button)
    with page.expect_download() as download:
        target.click()
    return download.value.path()


def search(page, label: str, text: str) -> None:
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter")
    settle(page)


def grid(page):
    """The page's first table (a data grid, whose visible cells are in the page as text)."""
    return page.locator("[data-testid='stDataFrame']").first


def expect_in_grid(page, *texts: str | re.Pattern) -> None:
    """Each of ``texts`` shows in the page's first table (which draws after its run ends)."""
    for text in texts:
        expect(grid(page)).to_contain_text(text, timeout=WAIT_MS)


def refusal(page, text: str) -> str:
    """The words of the page's error box that holds ``text``, once it shows."""
    box = page.locator("[data-testid='stAlertContentError']").filter(has_text=text)
    box.wait_for()
    return box.inner_text()


def fill_course_report(page, title: str, provider: str, day: str, hours: str, file) -> None:
    """Report a Course's form filled in; ``day`` typed as MMDDYYYY (React Aria's date field
    takes month, day and year in separate spin buttons)."""
    form = page.locator("[data-testid='stForm']").first
    form.get_by_role("textbox", name="Course title").fill(title)
    form.get_by_role("textbox", name="Provider").fill(provider)
    form.get_by_role("spinbutton", name="month, Date taken").click()
    page.keyboard.type(day)
    form.locator("[data-testid='stNumberInput'] input").fill(hours)
    form.locator("input[type=file]").set_input_files(str(file))
