"""A member on a phone, 390 px wide: My CE, Report a Course with a photo of the certificate,
Messages, and Verify, each without sideways scrolling and with its buttons in reach."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from pypdf import PdfReader

from cetracker import messages
from cetracker.accounts import users
from cetracker.store.db import Database
from tests.e2e.browser import (
    assert_no_error,
    fetch,
    fill_course_report,
    grid,
    log_in,
    new_page,
    settle,
)
from tests.e2e.conftest import serve

pytestmark = pytest.mark.timeout(300)

# An iPhone 12-15's screen in CSS pixels, drawn at twice the density.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
SUBJECT = "Your 2026 CE year ends on December 31"
# A long address, as offices paste them: one unbroken word wider than the screen.
LINK = "https://www.example.org/continuing-education/annual-requirements-for-county-clerks-2026"
BODY = f"Dear {{first_name}}, the rules for this year are at {LINK} and the office is open."


@pytest.fixture(scope="module")
def phone_app_url(
    tmp_path_factory: pytest.TempPathFactory, demo_copy: Callable[[], str]
) -> Iterator[str]:
    """The demo app, its member holding one message from the association (written before
    the server starts: the server then holds the database)."""
    location = demo_copy()
    db = Database(location)
    try:
        member = users.load_user(db, "member")
        admin = users.load_user(db, "admin")
        assert member is not None and member.member_id is not None and admin is not None
        messages.send(db, admin, subject=SUBJECT, body=BODY, member_ids=[member.member_id])
    finally:
        db.close()
    with serve(tmp_path_factory.mktemp("e2e-phone"), location, demo=False) as url:
        yield url


def fits(page, where: str) -> int:
    """How wide the page is in CSS pixels, asserted to be no wider than the screen: the
    document, and Streamlit's main area, which scrolls inside it."""
    widths = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return [document.scrollingElement.scrollWidth, main.scrollWidth, window.innerWidth];
        }"""
    )
    assert max(widths[:2]) <= widths[2], f"{where}: page and main area {widths[:2]} px wide"
    return max(widths[:2])


def in_view(page, locator, what: str, *, first_screen: bool = False) -> None:
    """``locator`` is drawn whole across the screen's width (and within its first screenful:
    seen without scrolling at all)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, f"{what} is not drawn"
    screen = page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"], f"{what}: {box}"
    if first_screen:
        assert box["y"] >= 0 and box["y"] + box["height"] <= screen["height"], f"{what}: {box}"


def certificate_photo() -> bytes:
    """A phone's photo of a paper certificate: a JPEG of 1512 × 2016 pixels."""
    picture = Image.new("RGB", (1512, 2016), "white")
    pen = ImageDraw.Draw(picture)
    pen.rectangle((60, 60, 1452, 1956), outline="navy", width=12)
    pen.text((200, 400), "Certificate of Completion", fill="black", font_size=90)
    pen.text((200, 600), "Records Retention for Clerks - 3 hours", fill="black", font_size=60)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def screenshot(page, artifacts, name: str) -> None:
    """The whole page, to be looked at: Streamlit scrolls inside its main area, which a
    full-page screenshot does not reach, so the screen is made as tall as the page for it."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": PHONE["viewport"]["width"], "height": height})
    page.screenshot(path=str(artifacts / f"phone-{name}.png"))
    page.set_viewport_size(PHONE["viewport"])


def go_by_menu(page, link: re.Pattern | str, heading: str) -> None:
    """Open the menu, tap ``link``; the page opens with the menu folded away."""
    page.get_by_test_id("stExpandSidebarButton").tap()
    # The menu slides in: where it ends up is measured, not a frame of the slide (seen
    # once: "Log out" at x = -286 while it moved).
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "false")
    page.wait_for_function(
        """() => {
            const box = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
            return box.left >= 0;
        }"""
    )
    in_view(page, page.get_by_role("button", name="Log out"), "Log out in the menu")
    page.get_by_role("link", name=link).tap()
    page.get_by_role("heading", name=heading).wait_for()
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    settle(page)


def test_a_member_on_a_phone(browser, phone_app_url, artifacts, tmp_path):
    url = phone_app_url
    widths: dict[str, int] = {}
    member = log_in(browser, url, "member", **PHONE)
    # My CE, the member's first page: the figures on the first screen, across its width.
    member.get_by_text("Short by", exact=True).first.wait_for()
    settle(member)
    widths["my-ce"] = fits(member, "My CE")
    for label in ("Earned", "Credited", "Required", "Short by"):
        figure = member.locator("[data-testid='stMetric']").filter(has_text=label).first
        in_view(member, figure, label, first_screen=True)
    in_view(member, member.get_by_text("You have met the CE requirement"), "standing")
    screenshot(member, artifacts, "my-ce")
    certificate = fetch(member, "Download my certificate")
    printed = PdfReader(certificate).pages[0].extract_text()
    code = re.search(r"Verification code: ([A-Z0-9-]+)", printed)
    assert code, "no verification code on the certificate"
    # No public address is set: the certificate leads to the address being browsed (the
    # file is made when the button is pressed, outside the page's run).
    assert f"Verify at {url}/verify" in printed, printed

    # Report a Course through the menu, the certificate a photo taken on the phone.
    go_by_menu(member, "Report a Course", "Report a Course")
    photo = tmp_path / "IMG_2041.JPG"  # as a phone names it
    photo.write_bytes(certificate_photo())
    fill_course_report(
        member, "Records Retention for Clerks", "State Library", "10142026", "3", photo
    )
    form = member.locator("[data-testid='stForm']").first
    form.get_by_text("IMG_2041.JPG").wait_for()
    settle(member)
    screenshot(member, artifacts, "report-form")
    send = form.get_by_role("button", name="Report this course")
    in_view(member, send, "the Report button")
    send.tap()
    member.get_by_text("It shows as pending").wait_for()
    settle(member)
    expect(grid(member)).to_contain_text("Records Retention for Clerks")
    widths["report-course"] = fits(member, "Report a Course")
    assert_no_error(member, "Report a Course")
    screenshot(member, artifacts, "report-sent")

    # Messages: the association's message, a long address in it, read on the phone.
    go_by_menu(member, re.compile(r"^Messages"), "Messages")
    member.get_by_role("combobox", name="Open a message").tap()
    member.get_by_role("option", name=re.compile(SUBJECT)).tap()
    body = member.get_by_text(LINK)
    body.wait_for()
    settle(member)
    in_view(member, body, "the message")
    widths["messages"] = fits(member, "Messages")
    screenshot(member, artifacts, "message")
    member.context.close()

    # Verify, by anyone holding the certificate (its QR code opens this address).
    anyone = new_page(browser, **PHONE)
    anyone.goto(f"{url}/verify?code={code.group(1)}")
    anyone.get_by_text("This is a valid certificate.").wait_for()
    settle(anyone)
    in_view(anyone, anyone.get_by_text("Hours credited"), "the hours credited")
    widths["verify"] = fits(anyone, "Verify")
    screenshot(anyone, artifacts, "verify")
    anyone.context.close()
    print("page widths at 390 px:", widths)
