"""The member's own page: self-reports, approvals, transcript, renewal cycles, own data."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from cetracker import config, mine
from cetracker.accounts import users
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.files import certificates, transcripts
from cetracker.files.exports import to_pdf

PAGES = Path(__file__).parents[1] / "pages"
PNG = b"\x89PNG\r\n\x1a\n" + bytes.fromhex(
    "0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001"
    "e221bc330000000049454e44ae426082"
)


def a_pdf(text: str) -> bytes:
    import pandas as pd

    return to_pdf(pd.DataFrame({"certificate": [text]}), "Certificate of attendance")


def report(db, user, **changes):
    """Report a course as ``user``: a plain one unless ``changes`` say otherwise."""
    values = {
        "title": "T",
        "provider": "P",
        "day": config.today(),
        "hours": 1,
        "category": "General",
        **changes,
    }
    return mine.report_course(db, user, **values)


def member(db, username: str = "member"):
    return users.load_user(db, username)


def another_member(db):
    lic, email = db.one(
        "SELECT license_number, email FROM members WHERE id <> "
        "(SELECT member_id FROM users WHERE username = 'member') "
        "AND status = 'active' LIMIT 1"
    )
    users.activate_member(db, lic, email, "other", "a-long-password")
    return users.load_user(db, "other")


@pytest.mark.both_backends
def test_report_is_pending_until_approved_and_then_counts(demo_db):
    me = member(demo_db)
    day = config.today() - timedelta(days=3)
    year = day.year
    before = mine.my_standing(demo_db, me, year)
    record = report(
        demo_db,
        me,
        title="Open Records Webinar",
        provider="AG Office",
        day=day,
        hours="2.5",
        certificate=a_pdf("proof"),
        certificate_name="proof.pdf",
    )
    assert mine.my_standing(demo_db, me, year).earned == before.earned
    why = mine.why(demo_db, me, year)
    assert "Open Records Webinar" in set(why.not_counted["Course"])
    assert "waiting for approval" in set(why.not_counted["Why not"])
    admin = users.load_user(demo_db, "admin")
    assert record in set(mine.pending_reports(demo_db)["Record"])
    assert mine.decide(demo_db, admin, [record], approve=True) == 1
    assert mine.my_standing(demo_db, me, year).earned == before.earned + Decimal("2.5")
    assert "approved" in [a for (a,) in demo_db.rows("SELECT action FROM audit_log")]


def test_rejection_needs_a_reason_the_member_sees(demo_db):
    me, admin = member(demo_db), users.load_user(demo_db, "admin")
    record = report(demo_db, me, title="Gardening", provider="Club")
    with pytest.raises(CetrackerError, match="Say why"):
        mine.decide(demo_db, admin, [record], approve=False)
    mine.decide(demo_db, admin, [record], approve=False, reason="Not related to clerk duties")
    mine_rows = mine.records_frame(demo_db, me)
    row = mine_rows[mine_rows["id"] == record].iloc[0]
    assert (row["Status"], row["Note"]) == ("rejected", "Not related to clerk duties")
    with pytest.raises(NotAllowed):
        mine.decide(demo_db, me, [record], approve=True)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hello, I am text", "certificate.pdf", "is not a PDF, PNG or JPEG"),
        (b"", "empty.pdf", "is empty"),
        (b"MZ\x90\x00 a program", "cert.png", "is not a PDF, PNG or JPEG"),
    ],
)
def test_certificate_type_is_checked_by_content(demo_db, data, name, message):
    with pytest.raises(CetrackerError, match=message):
        report(demo_db, member(demo_db), certificate=data, certificate_name=name)


@pytest.mark.both_backends
def test_png_named_pdf_is_stored_as_png(demo_db):
    me = member(demo_db)
    record = report(demo_db, me, certificate=PNG, certificate_name="odd.pdf")
    assert mine.certificate_file(demo_db, me, record)[2] == "image/png"


def test_oversized_and_bad_values_are_refused(demo_db, monkeypatch):
    me = member(demo_db)
    monkeypatch.setenv("CETRACKER_MAX_UPLOAD_MB", "0.0001")
    with pytest.raises(CetrackerError, match="larger than"):
        report(demo_db, me, certificate=a_pdf("x"), certificate_name="a.pdf")
    for change, message in [
        ({"day": config.today() + timedelta(days=2)}, "future"),
        ({"hours": -1}, "more than 0"),
        ({"hours": "lots"}, "as a number"),
        ({"title": " "}, "course title"),
        ({"category": "Fun"}, "category"),
    ]:
        values = {
            "title": "T",
            "provider": "P",
            "day": config.today(),
            "hours": 1,
            "category": "General",
            **change,
        }
        with pytest.raises(CetrackerError, match=message):
            mine.report_course(demo_db, me, **values)


@pytest.mark.both_backends
def test_members_touch_only_their_own_records(demo_db):
    me, other = member(demo_db), another_member(demo_db)
    record = report(demo_db, me, certificate=PNG, certificate_name="c.png")
    with pytest.raises(NotAllowed):
        mine.certificate_file(demo_db, other, record)
    with pytest.raises(NotAllowed):
        mine.withdraw_report(demo_db, other, record)
    with pytest.raises(NotAllowed):
        mine.update_report(
            demo_db,
            other,
            record,
            title="Mine now",
            provider="P",
            day=config.today(),
            hours=1,
            category="General",
        )
    assert mine.certificate_file(demo_db, users.load_user(demo_db, "admin"), record)[0] == PNG
    mine.update_report(
        demo_db,
        me,
        record,
        title="Renamed",
        provider="P",
        day=config.today(),
        hours=2,
        category="Ethics",
    )
    mine.withdraw_report(demo_db, me, record)
    assert demo_db.scalar("SELECT count(*) FROM ce_records WHERE id = ?", [record]) == 0


@pytest.mark.both_backends
def test_approved_records_cannot_be_edited_by_the_member(demo_db):
    me = member(demo_db)
    approved = demo_db.scalar(
        "SELECT id FROM ce_records WHERE member_id = ? AND status = 'approved' LIMIT 1",
        [me.member_id],
    )
    with pytest.raises(CetrackerError, match="waiting for approval"):
        mine.withdraw_report(demo_db, me, approved)


def test_transcript_lists_courses_carryover_and_appends_certificates(demo_db):
    me = member(demo_db)
    record = report(
        demo_db,
        me,
        title="Appended Seminar",
        certificate=a_pdf("ATTACHED-PROOF"),
        certificate_name="p.pdf",
    )
    mine.decide(demo_db, users.load_user(demo_db, "admin"), [record], approve=True)
    year = config.today().year
    plain = transcripts.transcript_pdf(demo_db, me.member_id, year - 2, year)
    full = transcripts.transcript_pdf(demo_db, me.member_id, year - 2, year, with_certificates=True)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(plain)).pages)
    assert "Nguyễn Thị Ánh" in text and "Appended Seminar" in text
    assert f"CE year {year - 2}" in text and "credited" in text
    if mine.my_standing(demo_db, me, year).carried_in > 0:
        assert f"Carried over from {year - 1}" in text
    pages = PdfReader(io.BytesIO(full)).pages
    assert len(pages) == len(PdfReader(io.BytesIO(plain)).pages) + 1
    assert "ATTACHED-PROOF" in pages[-1].extract_text()


@pytest.mark.both_backends
def test_license_cycles_count_records_inside_their_window(demo_db):
    me = member(demo_db)
    year = config.today().year
    mine.add_license(
        demo_db,
        me,
        board="Board of Counselors",
        license_number="LPC-1",
        start=date(year - 1, 1, 1),
        end=date(year, 12, 31),
        required=40,
        minimums={"Ethics": 3},
    )
    mine.add_license(
        demo_db,
        me,
        board="Notary",
        license_number="N-2",
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        required=10,
    )
    cycles = {c.board: c for c in mine.license_progress(demo_db, me, today=date(year, 12, 1))}
    two_years = sum(mine.my_standing(demo_db, me, y).earned for y in (year - 1, year))
    assert cycles["Board of Counselors"].earned == two_years
    assert cycles["Notary"].earned == mine.my_standing(demo_db, me, year).earned
    assert cycles["Notary"].days_left == 30
    assert "Ethics" in cycles["Board of Counselors"].categories
    with pytest.raises(CetrackerError, match="end after it starts"):
        mine.add_license(
            demo_db,
            me,
            board="X",
            license_number="",
            start=date(year, 5, 1),
            end=date(year, 1, 1),
            required=1,
        )
    other = another_member(demo_db)
    with pytest.raises(NotAllowed):
        mine.remove_license(demo_db, other, cycles["Notary"].license_id)


@pytest.mark.both_backends
def test_my_data_zip_holds_records_and_files(demo_db):
    me = member(demo_db)
    report(demo_db, me, title="Zip Course", certificate=PNG, certificate_name="c.png")
    names = zipfile.ZipFile(io.BytesIO(mine.my_data_zip(demo_db, me))).namelist()
    assert "my-ce-records.csv" in names and "my-ce-records.xlsx" in names
    assert any(n.startswith("certificates/") and n.endswith("c.png") for n in names)


def test_member_certificate_only_when_eligible(demo_db):
    me = member(demo_db)
    for year in mine.my_years(demo_db, me):
        cert = certificates.member_certificate(demo_db, me.member_id, year)
        assert (cert is not None) == mine.my_standing(demo_db, me, year).eligible


def run_as(page: str, username: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.run()
    return at


def test_my_ce_page_shows_figures_and_why(demo_db_path, demo_db):
    at = run_as("my_ce.py", "member")
    labels = [m.label for m in at.metric]
    assert labels == ["Earned", "Carried in", "Credited", "Required", "Short by"]
    assert any("carried over" in m.value.lower() for m in at.markdown)


def test_report_course_page_and_approval_page(demo_db_path, demo_db):
    at = run_as("report_course.py", "member")
    at.text_input(key="rc_title").input("County Budget Basics")
    at.text_input(key="rc_provider").input("Comptroller")
    at.date_input(key="rc_date").set_value(config.today() - timedelta(days=1))
    at.number_input(key="rc_hours").set_value(3.0)
    at.button[0].click().run()
    assert any("pending" in s.value for s in at.success), [e.value for e in at.error]
    record = demo_db.scalar("SELECT id FROM ce_records WHERE title = 'County Budget Basics'")
    admin = run_as("approvals.py", "admin")
    admin.selectbox(key="ap_pick").set_value(record).run()
    admin.button(key="ap_approve").click().run()
    assert demo_db.scalar("SELECT status FROM ce_records WHERE id = ?", [record]) == "approved"


def test_cycle_transcript_holds_only_courses_inside_the_cycle(demo_db):
    me = member(demo_db)
    inside = report(demo_db, me, title="Inside The Cycle", day=config.today() - timedelta(days=2))
    outside = report(demo_db, me, title="Before The Cycle", day=config.today() - timedelta(days=40))
    mine.decide(demo_db, users.load_user(demo_db, "admin"), [inside, outside], approve=True)
    mine.add_license(
        demo_db,
        me,
        board="Notary Board",
        license_number="N-9",
        start=config.today() - timedelta(days=10),
        end=config.today() + timedelta(days=300),
        required=10,
    )
    cycle = mine.license_progress(demo_db, me)[0]
    text = "".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(mine.cycle_transcript(demo_db, me, cycle.license_id))).pages
    )
    assert "Notary Board N-9 renewal cycle" in " ".join(text.split())
    assert "Inside The Cycle" in text and "Before The Cycle" not in text
    with pytest.raises(NotAllowed):
        mine.cycle_transcript(demo_db, another_member(demo_db), cycle.license_id)
