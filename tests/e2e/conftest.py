"""A real app in a real browser: its server (cetracker.ui.server) on a free port, Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The app servers running now, by address: the process and the file its output goes to.
SERVERS: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
# What the servers a failing test had started itself said as it failed: address, output,
# the stacks of their threads (taken by its report).
STOPPED_ON_FAILURE: list[tuple[str, str, str]] = []
# The features Playwright turns off itself (its chromiumSwitches): a --disable-features of
# ours takes the place of Playwright's, so ours lists them too (tests/e2e/test_chromium.py
# checks them against the installed Playwright's).
PLAYWRIGHT_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
]
# Headless Chromium 156 opens a window for each browser context, with the address bar's
# popup loaded ahead in two renderers of its own (chrome://omnibox-popup.top-chrome): about
# a second of CPU for each new context, which no test ever shows.
UNSEEN_FEATURES = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + UNSEEN_FEATURES),
]


def wait_for_chromium() -> str:
    """Debian's chromium, once installed: ``./ce test`` installs it on a new machine while
    the tests run, and names in CE_CHROMIUM_INSTALL the file that gets apt-get's exit status
    (its output in the .log beside it)."""
    pending = os.environ.get("CE_CHROMIUM_INSTALL")
    if pending:
        status = Path(pending)
        deadline = time.monotonic() + 900
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(1)
        if not status.exists():
            pytest.fail("Debian's chromium was still installing after 15 minutes (apt-get)")
        if status.read_text().strip() != "0":
            log = Path(f"{pending}.log")
            said = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"Could not install Debian's chromium (apt-get install chromium):\n{said}")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: ./ce test installs it (apt-get install chromium)"
        )
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app at {url} did not become healthy")


@contextmanager
def serve(folder: Path, database: str | None = None, *, demo: bool = True) -> Iterator[str]:
    """The app's server on a database (a demo file in ``folder`` unless another is named);
    yields the app's address. ``demo=False``: the database is filled already."""
    wait_for_chromium()
    env = {
        **os.environ,
        "CETRACKER_DB": database or str(folder / "e2e.duckdb"),
        "CETRACKER_SECRET_KEY": "e2e-secret-key-for-tests",
        "CETRACKER_LOGIN_SLEEP": "0.3",
        "CETRACKER_BACKUP_DIR": str(folder / "backups"),
        "CETRACKER_WARMUP": "on",  # as shipped (the other tests turn it off)
        "CETRACKER_BASE_URL": "",  # certificates lead to the address being browsed
    }
    if demo:
        subprocess.run(
            [sys.executable, "-m", "cetracker.cli", "init", "--demo"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cetracker.ui.server",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    SERVERS[url] = (server, log)
    try:
        wait_healthy(url)
        yield url
    except BaseException as exc:
        # A test that started this server itself fails inside it: its report (made after
        # the server has stopped) gets the output and the stacks taken now.
        if not isinstance(exc, (pytest.skip.Exception, KeyboardInterrupt)):
            STOPPED_ON_FAILURE.append((url, *_server_stacks(server, log)))
        raise
    finally:
        del SERVERS[url]
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)  # reaped, or Python warns that it still runs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failed browser test's report holds what each open page said at that moment, and
    the app's output with the stack of each of its threads: in CI the log is all there is
    to read (a timeout alone does not say what was on the screen, or where the app was).
    A few lines of each ("in short: ...") are printed again at the very end of the run
    (tests/conftest.py), where a log cut to its ends still shows them."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    browser = funcargs.get("browser")
    if report.failed and call.when == "call" and browser is not None:
        for number, page in enumerate(p for c in browser.contexts for p in c.pages):
            text = _page_text(page)
            report.sections.append((f"page {number}: {page.url}", text[:3000]))
            short = re.sub(r"\n\s*\n+", " | ", text.strip())[:400]
            report.user_properties.append((f"in short: page {number}: {page.url}", short))
        dumps = [
            (url, *_server_stacks(*SERVERS[url]))
            for url in {v for v in funcargs.values() if isinstance(v, str) and v in SERVERS}
        ]
        dumps += STOPPED_ON_FAILURE
        for url, said, stacks in dumps:
            report.sections.append((f"app at {url}: its output's end", said[-6000:]))
            busy = _busy_threads(stacks)
            report.user_properties.append((f"in short: the busy threads of the app at {url}", busy))
    if call.when == "call":
        STOPPED_ON_FAILURE.clear()
    return report


def _page_text(page) -> str:
    """What the page shows, its main part alone when it has one (the sidebar's links say
    little)."""
    try:
        main = page.locator("[data-testid='stMain']")
        return (main.first if main.count() else page.locator("body")).inner_text(timeout=5_000)
    except Exception as exc:  # the page itself may be what broke
        return f"(unreadable: {exc})"


def _server_stacks(server: subprocess.Popen[bytes], log: Path) -> tuple[str, str]:
    """The app's output, and the stack of each of its threads that it wrote when asked
    (cetracker.ui.server)."""
    if server.poll() is not None:
        said = log.read_text(errors="replace")
        return f"(the app had ended, with {server.returncode})\n{said}", ""
    try:
        size = log.stat().st_size
        server.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and log.stat().st_size == size:
            time.sleep(0.1)
        time.sleep(0.3)  # the rest of the stacks
        said = log.read_bytes()
    except OSError as exc:  # the report of a failed test must not fail itself
        return f"(could not ask the app: {exc})", ""
    return said.decode(errors="replace"), said[size:].decode(errors="replace")


_THREAD = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$", re.M)


def _busy_threads(said: str, frames: int = 6) -> str:
    """The innermost frames of each of the app's threads that was running a page or the
    project's code (not waiting for work) at its last stacks: where a page that never
    finished was."""
    found = list(_THREAD.finditer(said))
    if not found:
        return "(no stacks)"
    stacks = []
    for match, after in zip(found, [*found[1:], None], strict=False):
        lines = said[match.end() : after.start() if after else None].strip().splitlines()
        lines = [line for line in lines if line.lstrip().startswith("File ")]
        if not lines:
            continue
        page = any(f"{ROOT}/pages/" in line or f'{ROOT}/app.py"' in line for line in lines)
        ours = any(f"{ROOT}/cetracker/" in line for line in lines)
        idle = re.search(r"/(threading|selectors|queue)\.py\b", lines[0]) is not None
        if page or (ours and not idle):
            stacks.append("\n".join(_short_frame(line) for line in lines[:frames]))
    return "\n--\n".join(stacks) or "(none: no thread was in a page or the project's code)"


def _short_frame(line: str) -> str:
    """``File "/…/site-packages/duckdb/x.py", line 3 in f`` as ``duckdb/x.py:3 f``."""
    match = re.match(r'\s*File "(.*)", line (\d+) in (.*)', line)
    if not match:
        return line.strip()
    path, number, function = match.groups()
    for cut in ("/site-packages/", f"{ROOT}/", "/lib/python3.11/"):
        if cut in path:
            path = path.split(cut, 1)[1]
    return f"  {path}:{number} {function}"


@pytest.fixture(scope="session")
def app_url(
    tmp_path_factory: pytest.TempPathFactory, demo_copy: Callable[[], str]
) -> Iterator[str]:
    """The demo app on a copy of the session's demo database (a DuckDB file, or a database
    on the test PostgreSQL for a journey marked both_backends)."""
    with serve(tmp_path_factory.mktemp("e2e"), demo_copy(), demo=False) as url:
        yield url


@pytest.fixture(scope="module")
def own_app_url(
    tmp_path_factory: pytest.TempPathFactory, demo_copy: Callable[[], str]
) -> Iterator[str]:
    """An app with a database of its own, for journeys that change the rules or close years."""
    with serve(tmp_path_factory.mktemp("e2e-own"), demo_copy(), demo=False) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=wait_for_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
