"""The switches the browser tests start Chromium with (tests/e2e/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import playwright

from tests.e2e.conftest import CHROMIUM_ARGS, PLAYWRIGHT_DISABLED_FEATURES, UNSEEN_FEATURES


def playwrights_disabled_features() -> list[str]:
    """The features the installed Playwright turns off in Chromium, read from its driver."""
    driver = Path(playwright.__file__).parent / "driver" / "package" / "lib"
    for bundle in sorted(driver.rglob("*.js")):
        text = bundle.read_text(errors="replace")
        found = re.search(r"disabledFeatures = \[(.*?)\]", text, re.S)
        if found:
            without_comments = re.sub(r"//[^\n]*", "", found[1])
            return re.findall(r'"([^"]+)"', without_comments)
    raise AssertionError(f"Playwright's list of disabled features is not in {driver}")


def test_our_disable_features_keeps_every_one_playwright_turns_off():
    # Chromium keeps one --disable-features: ours replaces Playwright's, so it must hold
    # all of them (else, for one, http:// addresses would be upgraded to https://).
    assert set(playwrights_disabled_features()) <= set(PLAYWRIGHT_DISABLED_FEATURES)
    (switch,) = [a for a in CHROMIUM_ARGS if a.startswith("--disable-features=")]
    assert switch.split("=", 1)[1].split(",") == PLAYWRIGHT_DISABLED_FEATURES + UNSEEN_FEATURES
