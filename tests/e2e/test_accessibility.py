"""Every page for every role in Chromium: it renders (a title, no error, not refused) and
it is accessible (SPEC §8: axe-core), and keyboard-only use.

axe-core comes pinned inside the PyPI package axe-playwright-python (its axe.min.js);
it is injected into the page and run there, never fetched. A serious or critical
violation, or a skipped heading level, on any page fails the test; the figures per page are written to
test-artifacts/axe-ROLE.json for the record.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest

from tests.e2e.browser import assert_no_error, log_in, open_from_menu, open_page, settle
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.timeout(900)

FAILING_IMPACTS = {"serious", "critical"}
# Moderate in axe, but a screen reader user navigates by headings: levels are not skipped.
FAILING_RULES = {"heading-order"}


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def pages_by_role() -> dict[str, list[str]]:
    """Every page's address per role, read from the router's own list (app.py PAGES)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    listed = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets)
    )
    roles: dict[str, list[str]] = {}
    for _section, _file, _title, _icon, url, allowed in ast.literal_eval(listed):
        for role in allowed or ("admin", "director", "provider", "member", "anonymous"):
            roles.setdefault(role, []).append(url)
    roles["anonymous"] = ["", *roles["anonymous"], "sign-up"]
    return roles


# The menu is the same on every page of a role (only the open page's link is marked): it is
# audited on the role's first page, and left out on the others (a third of axe's time).
MENU = "[data-testid='stSidebar']"


def audit(page, *, menu: bool = True) -> list[dict]:
    """axe-core's violations on the page as it stands (all rules of its default set);
    ``menu=False``: the sidebar's menu left out.

    Audited once Streamlit has drawn the page: while a run is under way it fades the
    elements of the previous run, which would be judged at their faded contrast.
    """
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=60_000,
    )
    if page.evaluate("() => typeof window.axe === 'undefined'"):  # once per page load
        page.evaluate(axe_script())
    scope = "document" if menu else json.dumps({"exclude": [[MENU]]})
    result = page.evaluate(f"axe.run({scope}, {{resultTypes: ['violations']}})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": len(v["nodes"]),
            "example": v["nodes"][0]["target"] if v["nodes"] else [],
        }
        for v in result["violations"]
    ]


def record(artifacts: Path, role: str, found: dict[str, list[dict]]) -> None:
    (artifacts.parent / f"axe-{role}.json").write_text(json.dumps(found, indent=1))


@pytest.mark.parametrize("role", ["admin", "director", "provider", "member", "anonymous"])
def test_every_page_renders_and_passes_axe_with_no_serious_or_critical_violation(
    browser, app_url, artifacts, role
):
    if role == "anonymous":
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
    else:
        page = log_in(browser, app_url, role)
    found: dict[str, list[dict]] = {}
    for index, path in enumerate(pages_by_role()[role]):
        if role == "anonymous":
            page.goto(f"{app_url}/{path}", timeout=90_000)
            page.locator("h1").first.wait_for(timeout=60_000)
            settle(page)
        elif index > 0:  # the first is the role's home page, where the login lands
            open_from_menu(page, path)
        name = path or "home"
        page.screenshot(path=str(artifacts / f"{role}-{name}.png"))  # the first screen
        assert_no_error(page, f"{role} {name}")
        assert page.locator("h1").count() >= 1, f"{role} {name} has no title"
        assert "Not allowed" not in page.content(), f"{role} may not open {name}"
        found[name] = audit(page, menu=index == 0)
    page.context.close()
    record(artifacts, role, found)
    failing = {
        path: [f"{v['id']} ({v['impact']}, {v['nodes']}×): {v['help']} e.g. {v['example']}"]
        for path, violations in found.items()
        for v in violations
        if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES
    }
    assert not failing, json.dumps(failing, indent=1, ensure_ascii=False)


def focused(page) -> str:
    """The focused element's accessible name, label or text, as a person hears it."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            // The page itself takes the focus on the way (skip link target): no control.
            if (!e || ['BODY', 'MAIN', 'IFRAME'].includes(e.tagName)) return '';
            const label = e.getAttribute('aria-label') || (e.labels && e.labels[0]
                && e.labels[0].innerText) || e.innerText || e.value || '';
            return label.trim();
        }"""
    )


def tab_to(page, name: str, most: int = 80) -> None:
    """Press Tab until the element named ``name`` has the focus (as a keyboard user does)."""
    seen = []
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now)
        # A button's text carries its icon's name on a line of its own ("download").
        if name.lower() in (line.strip().lower() for line in now.splitlines()):
            return
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def test_login_filters_and_exports_work_by_keyboard_alone(browser, app_url, tmp_path):
    from cetracker.demo import DEMO_PASSWORDS

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(app_url)
    page.get_by_label("Username").wait_for(timeout=30_000)
    settle(page)
    tab_to(page, "Username")
    page.keyboard.type("director")
    tab_to(page, "Password")
    page.keyboard.type(DEMO_PASSWORDS["director"])
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Log out").wait_for(timeout=30_000)
    settle(page)

    open_page(page, app_url, "hour-summary")
    # Past the menu the way a keyboard user goes: Streamlit's skip link.
    tab_to(page, "Skip to main content")
    page.keyboard.press("Enter")
    tab_to(page, "Name search")
    page.keyboard.type("a")
    page.keyboard.press("Enter")
    settle(page)
    tab_to(page, "Short of hours only")
    page.keyboard.press("Space")
    settle(page)
    assert page.get_by_role("switch", name="Short of hours only").is_checked()
    tab_to(page, "Download CSV")
    with page.expect_download(timeout=90_000) as download:
        page.keyboard.press("Enter")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows and all(r["eligible"] == "false" for r in rows)  # short of hours or a category
    assert {r["area"] for r in rows} == {"Area 3"}  # the director's scope
    assert all(
        "a" in (r["first_name"] + r["last_name"] + r["license_number"]).lower() for r in rows
    )
    context.close()
