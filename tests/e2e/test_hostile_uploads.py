"""Hostile and unusual uploads in Chromium: the file is refused in words, and the app stays up
for everyone else on the same server (SPEC §5, §8)."""

from __future__ import annotations

import pytest

from tests import hostile
from tests.e2e.browser import log_in, open_page, refusal, settle

pytestmark = pytest.mark.timeout(600)  # a busy machine is slow, not wrong


def test_far_cell_roster_is_refused_and_another_user_carries_on(
    browser, app_url, artifacts, tmp_path
):
    provider = log_in(browser, app_url, "provider")
    open_page(provider, app_url, "upload-roster")
    # One cell at XFD1048576, and a sheet that hides it (its declared size says A1:G2): the
    # reader itself runs out of room, in its child process, not in the app.
    far = tmp_path / "far.xlsx"
    far.write_bytes(hostile.far_cell_xlsx(dimension="A1:G2"))
    provider.locator("input[type=file]").set_input_files(str(far))
    words = refusal(provider, "XFD1048576")
    assert "far.xlsx: the sheet “Sheet” reaches out to cell XFD1048576" in words
    assert "Delete the rows and columns beyond your data" in words
    provider.screenshot(path=str(artifacts / "hostile-far-cell.png"), full_page=True)

    # Another user's page on the same server loads, and so does this user's next file.
    member = log_in(browser, app_url, "member")
    open_page(member, app_url, "my-ce")
    assert member.locator("[data-testid='stException']").count() == 0
    assert member.get_by_text("My CE").count() >= 1
    member.context.close()

    good = tmp_path / "roster.xls"
    good.write_bytes(hostile.xls_bytes([hostile.GOOD_ROW, hostile.GOOD_ROW]))
    provider.locator("input[type=file]").set_input_files(str(good))
    provider.get_by_text("2 rows to import").wait_for(timeout=60_000)
    provider.context.close()


def test_refused_types_and_the_one_size_limit_are_said_in_words(
    browser, app_url, artifacts, tmp_path
):
    page = log_in(browser, app_url, "provider")
    open_page(page, app_url, "upload-roster")
    # The label and the uploader's own note state the same limit.
    page.get_by_text("Roster file (up to 20 MB)").wait_for()
    page.screenshot(path=str(artifacts / "upload-roster-empty.png"), full_page=True)
    assert page.get_by_text("20MB per file").count() == 1
    for name, content, words in [
        ("notes.txt", b"hello", "notes.txt is not a file type CE Tracker reads"),
        ("bomb.xlsx", hostile.zip_bomb_xlsx(), "bomb.xlsx would unpack to 3.6 GB"),
        ("locked.xlsx", hostile.encrypted_xlsx(), "locked.xlsx is password-protected"),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        page.locator("input[type=file]").set_input_files(str(path))
        assert words in refusal(page, words)
        settle(page)
    page.screenshot(path=str(artifacts / "hostile-refused-type.png"), full_page=True)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (21 * 1024 * 1024))
    page.locator("input[type=file]").set_input_files(str(big))
    # The browser refuses it (a red mark on the name); the page says what to do in words.
    page.locator("[data-testid='stFileUploader']").get_by_text("big.csv").wait_for()
    assert page.get_by_text(
        "A file over 20 MB is marked red and not sent; split the roster into smaller files"
    ).is_visible()
    page.screenshot(path=str(artifacts / "hostile-too-big.png"), full_page=True)
    ods = tmp_path / "roster.ods"
    ods.write_bytes(hostile.ods_bytes([hostile.GOOD_ROW]))
    page.locator("input[type=file]").set_input_files(str(ods))
    page.get_by_text("1 row to import").wait_for(timeout=60_000)
    page.context.close()
