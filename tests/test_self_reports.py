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

from cetracker import config, licenses, records, self_reports, standing
from cetracker.accounts import users
from cetracker.entities import Invalid
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.files import archive, certificates, transcripts
from cetracker.files.exports import to_pdf
from cetracker.rules import compute

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
    return self_reports.report_course(db, user, **values)


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
    before = standing.my_standing(demo_db, me, year)
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
    assert standing.my_standing(demo_db, me, year).earned == before.earned
    why = records.why(demo_db, me, year)
    assert "Open Records Webinar" in set(why.not_counted["Course"])
    assert "waiting for approval" in set(why.not_counted["Why not"])
    admin = users.load_user(demo_db, "admin")
    assert record in set(self_reports.pending_reports(demo_db)["Record"])
    assert self_reports.decide(demo_db, admin, [record], approve=True) == 1
    assert standing.my_standing(demo_db, me, year).earned == before.earned + Decimal("2.5")
    assert "approved" in [a for (a,) in demo_db.rows("SELECT action FROM audit_log")]


def test_rejection_needs_a_reason_the_member_sees(demo_db):
    me, admin = member(demo_db), users.load_user(demo_db, "admin")
    record = report(demo_db, me, title="Gardening", provider="Club")
    with pytest.raises(CetrackerError, match="Say why"):
        self_reports.decide(demo_db, admin, [record], approve=False)
    self_reports.decide(
        demo_db, admin, [record], approve=False, reason="Not related to clerk duties"
    )
    mine_rows = records.records_frame(demo_db, me)
    row = mine_rows[mine_rows["id"] == record].iloc[0]
    assert (row["Status"], row["Note"]) == ("rejected", "Not related to clerk duties")
    with pytest.raises(NotAllowed):
        self_reports.decide(demo_db, me, [record], approve=True)


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
    assert self_reports.certificate_file(demo_db, me, record)[2] == "image/png"


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
            self_reports.report_course(demo_db, me, **values)


def test_every_problem_of_a_report_is_named_at_once(demo_db):
    with pytest.raises(Invalid) as refused:
        self_reports.report_course(
            demo_db, member(demo_db), title=" ", provider="", day=None, hours="lots", category="Fun"
        )
    assert refused.value.problems == [
        "Enter the course title.",
        "Enter who gave the course (the provider).",
        "Enter the date you took the course.",
        "Enter the hours as a number, for example 1.5.",
        f"Choose a category: {', '.join(self_reports.CATEGORIES)}.",
    ]


@pytest.mark.both_backends
def test_members_touch_only_their_own_records(demo_db):
    me, other = member(demo_db), another_member(demo_db)
    record = report(demo_db, me, certificate=PNG, certificate_name="c.png")
    with pytest.raises(NotAllowed):
        self_reports.certificate_file(demo_db, other, record)
    with pytest.raises(NotAllowed):
        self_reports.withdraw_report(demo_db, other, record)
    with pytest.raises(NotAllowed):
        self_reports.update_report(
            demo_db,
            other,
            record,
            title="Mine now",
            provider="P",
            day=config.today(),
            hours=1,
            category="General",
        )
    assert (
        self_reports.certificate_file(demo_db, users.load_user(demo_db, "admin"), record)[0] == PNG
    )
    self_reports.update_report(
        demo_db,
        me,
        record,
        title="Renamed",
        provider="P",
        day=config.today(),
        hours=2,
        category="Ethics",
    )
    self_reports.withdraw_report(demo_db, me, record)
    assert demo_db.scalar("SELECT count(*) FROM ce_records WHERE id = ?", [record]) == 0


@pytest.mark.both_backends
def test_approved_records_cannot_be_edited_by_the_member(demo_db):
    me = member(demo_db)
    approved = demo_db.scalar(
        "SELECT id FROM ce_records WHERE member_id = ? AND status = 'approved' LIMIT 1",
        [me.member_id],
    )
    with pytest.raises(CetrackerError, match="waiting for approval"):
        self_reports.withdraw_report(demo_db, me, approved)


def test_transcript_lists_courses_carryover_and_appends_certificates(demo_db):
    me = member(demo_db)
    record = report(
        demo_db,
        me,
        title="Appended Seminar",
        certificate=a_pdf("ATTACHED-PROOF"),
        certificate_name="p.pdf",
    )
    self_reports.decide(demo_db, users.load_user(demo_db, "admin"), [record], approve=True)
    year = config.today().year
    plain = transcripts.transcript_pdf(demo_db, me.member_id, year - 2, year)
    full = transcripts.transcript_pdf(demo_db, me.member_id, year - 2, year, with_certificates=True)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(plain)).pages)
    assert "Nguyễn Thị Ánh" in text and "Appended Seminar" in text
    assert f"CE year {year - 2}" in text and "credited" in text
    if standing.my_standing(demo_db, me, year).carried_in > 0:
        assert f"Carried over from {year - 1}" in text
    pages = PdfReader(io.BytesIO(full)).pages
    assert len(pages) == len(PdfReader(io.BytesIO(plain)).pages) + 1
    assert "ATTACHED-PROOF" in pages[-1].extract_text()


@pytest.mark.both_backends
def test_license_cycles_count_records_inside_their_window(demo_db):
    me = member(demo_db)
    year = config.today().year
    licenses.add_license(
        demo_db,
        me,
        board="Board of Counselors",
        license_number="LPC-1",
        start=date(year - 1, 1, 1),
        end=date(year, 12, 31),
        required=40,
        minimums={"Ethics": 3},
    )
    licenses.add_license(
        demo_db,
        me,
        board="Notary",
        license_number="N-2",
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        required=10,
    )
    cycles = {c.board: c for c in licenses.license_progress(demo_db, me, today=date(year, 12, 1))}
    two_years = sum(standing.my_standing(demo_db, me, y).earned for y in (year - 1, year))
    assert cycles["Board of Counselors"].earned == two_years
    assert cycles["Notary"].earned == standing.my_standing(demo_db, me, year).earned
    assert cycles["Notary"].days_left == 30
    assert "Ethics" in cycles["Board of Counselors"].categories
    with pytest.raises(CetrackerError, match="end after it starts"):
        licenses.add_license(
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
        licenses.remove_license(demo_db, other, cycles["Notary"].license_id)


@pytest.mark.both_backends
def test_my_data_zip_holds_records_and_files(demo_db):
    me = member(demo_db)
    report(demo_db, me, title="Zip Course", certificate=PNG, certificate_name="c.png")
    names = zipfile.ZipFile(io.BytesIO(archive.my_data_zip(demo_db, me))).namelist()
    assert "my-ce-records.csv" in names and "my-ce-records.xlsx" in names
    assert any(n.startswith("certificates/") and n.endswith("c.png") for n in names)


def test_member_certificate_only_when_eligible(demo_db):
    me = member(demo_db)
    for year in records.my_years(demo_db, me):
        cert = certificates.member_certificate(demo_db, me.member_id, year)
        assert (cert is not None) == standing.my_standing(demo_db, me, year).eligible


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
    # The course, its hours and date first: what a phone shows without scrolling sideways.
    assert list(at.dataframe[0].proto.column_order)[:3] == ["Course", "Hours", "Date"]


def test_report_course_page_and_approval_page(demo_db_path, demo_db):
    at = run_as("report_course.py", "member")
    at.text_input(key="rc_title_0").input("County Budget Basics")
    at.text_input(key="rc_provider_0").input("Comptroller")
    at.date_input(key="rc_date_0").set_value(config.today() - timedelta(days=1))
    at.number_input(key="rc_hours_0").set_value(3.0)
    at.button[0].click().run()
    assert any("pending" in s.value for s in at.success), [e.value for e in at.error]
    record = demo_db.scalar("SELECT id FROM ce_records WHERE title = 'County Budget Basics'")
    admin = run_as("approvals.py", "admin")
    admin.selectbox(key="ap_pick").set_value(record).run()
    admin.button(key="ap_approve").click().run()
    assert demo_db.scalar("SELECT status FROM ce_records WHERE id = ?", [record]) == "approved"


def test_a_course_is_reported_once(demo_db):
    """The same title on the same date (in any case and spacing) is one course: reported
    twice it would be approved twice. Once rejected, it may be reported again."""
    me = member(demo_db)
    day = config.today() - timedelta(days=3)
    first = report(demo_db, me, title="Open Records Update", day=day)
    with pytest.raises(CetrackerError, match="already: it is waiting for approval"):
        report(demo_db, me, title="  open  records UPDATE ", day=day)
    other = report(demo_db, me, title="Open Records Update", day=day - timedelta(days=1))
    with pytest.raises(CetrackerError, match="already: it is waiting for approval"):
        self_reports.update_report(  # a report changed into the other one
            demo_db, me, other, title="Open Records Update", provider="P", day=day,
            hours=1, category="General",
        )  # fmt: skip
    admin = users.load_user(demo_db, "admin")
    self_reports.decide(demo_db, admin, [first], approve=False, reason="No proof")
    report(demo_db, me, title="Open Records Update", day=day)
    assert (
        demo_db.scalar("SELECT count(*) FROM ce_records WHERE title = 'Open Records Update'") == 3
    )


def test_the_report_form_is_fresh_after_a_report_and_the_chosen_report_stays_chosen(
    demo_db_path, demo_db
):
    """After a report the form is empty again (a second click had reported the course
    twice), and a pending report chosen for a change stays chosen when a new one joins the
    list above it (the box kept its place in the list, not the report)."""
    at = run_as("report_course.py", "member")
    for generation, (title, days) in enumerate((("Older Course", 20), ("Newer Course", 2))):
        at.text_input(key=f"rc_title_{generation}").input(title)
        at.text_input(key=f"rc_provider_{generation}").input("Comptroller")
        at.date_input(key=f"rc_date_{generation}").set_value(config.today() - timedelta(days=days))
        at.number_input(key=f"rc_hours_{generation}").set_value(2.0)
        at.button[0].click().run()
        assert any("pending" in s.value for s in at.success), [e.value for e in at.error]
        assert at.text_input(key=f"rc_title_{generation + 1}").value == ""
        if generation == 0:
            older = demo_db.scalar("SELECT id FROM ce_records WHERE title = 'Older Course'")
            [pick] = [b for b in at.selectbox if b.label == "Pending report"]
            pick.set_value(older).run()
    [pick] = [b for b in at.selectbox if b.label == "Pending report"]
    assert pick.value == older
    assert demo_db.scalar("SELECT count(*) FROM ce_records WHERE title LIKE '% Course'") == 2


def test_a_pending_report_is_changed_and_withdrawn_beside_one_with_a_note(demo_db_path, demo_db):
    """The page's change and withdraw buttons work while the list shows a report with the
    office's note (a rejected one with its reason): the note's loop once took the name of
    the page's step after a change, and the change then ended in a traceback."""
    me = member(demo_db)
    rejected = report(demo_db, me, title="Turned Down", day=config.today() - timedelta(days=9))
    admin = users.load_user(demo_db, "admin")
    self_reports.decide(demo_db, admin, [rejected], approve=False, reason="No certificate")
    waiting = report(demo_db, me, title="Still Waiting", day=config.today() - timedelta(days=8))
    at = run_as("report_course.py", "member")
    assert any("No certificate" in m.value for m in at.markdown)
    [pick] = [b for b in at.selectbox if b.label == "Pending report"]
    pick.set_value(waiting).run()
    [title] = [t for t in at.text_input if t.value == "Still Waiting"]
    title.input("Still Waiting, Renamed")
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    assert not at.exception, at.exception
    assert "Saved." in [s.value for s in at.success]
    assert demo_db.scalar("SELECT title FROM ce_records WHERE id = ?", [waiting]) == (
        "Still Waiting, Renamed"
    )
    [pick] = [b for b in at.selectbox if b.label == "Pending report"]
    pick.set_value(waiting).run()
    [withdraw] = [b for b in at.button if b.label == "Withdraw this report"]
    withdraw.click().run()
    assert not at.exception, at.exception
    assert "Withdrawn." in [s.value for s in at.success]
    assert not demo_db.scalar("SELECT count(*) FROM ce_records WHERE id = ?", [waiting])


def test_cycle_transcript_is_about_the_cycle_alone(demo_db):
    me = member(demo_db)
    inside = report(
        demo_db,
        me,
        title="Inside The Cycle",
        day=config.today() - timedelta(days=2),
        hours=3,
        category="Ethics",
        certificate=a_pdf("CYCLE-PROOF"),
        certificate_name="proof.pdf",
    )
    outside = report(demo_db, me, title="Before The Cycle", day=config.today() - timedelta(days=40))
    self_reports.decide(demo_db, users.load_user(demo_db, "admin"), [inside, outside], approve=True)
    licenses.add_license(
        demo_db,
        me,
        board="Notary Board",
        license_number="N-9",
        start=config.today() - timedelta(days=10),
        end=config.today() + timedelta(days=300),
        required=10,
        minimums={"Ethics": 6, "Technology": 2},
    )
    cycle = licenses.license_progress(demo_db, me)[0]
    pdf = transcripts.cycle_transcript(demo_db, me, cycle.license_id)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join("".join(p.extract_text() for p in pages).split())
    assert "Notary Board N-9: renewal cycle" in text
    assert "Required 10 hours in the cycle" in text
    assert f"Earned {compute.format_hours(cycle.earned)} of 10 hours" in text
    assert "Ethics 6 h" in text and "Technology 2 h 0 h 2 hours to go" in text
    assert "Inside The Cycle" in text and "Before The Cycle" not in text
    assert "attached: proof.pdf" in text and "CYCLE-PROOF" in pages[-1].extract_text()
    # Nothing of the association's yearly rule.
    assert "credited" not in text and "Carried over" not in text and "CE year" not in text
    with pytest.raises(NotAllowed):
        transcripts.cycle_transcript(demo_db, another_member(demo_db), cycle.license_id)


# -- what a member is told (issue 20) ----------------------------------------------------------


def test_a_future_date_says_it_is_in_the_future(demo_db):
    tomorrow = config.today() + timedelta(days=1)
    with pytest.raises(CetrackerError, match=f"{tomorrow:%m/%d/%Y} is in the future"):
        report(demo_db, member(demo_db), day=tomorrow)


def test_report_course_page_names_every_missing_field_at_once(demo_db_path, demo_db):
    at = run_as("report_course.py", "member")
    at.text_input(key="rc_provider_0").input("Somebody")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        "Please correct:\n- Enter the course title.\n- Enter the date you took the course."
        "\n- Enter the hours as a number, for example 1.5."
    ]


def test_report_course_page_says_a_future_date_is_in_the_future(demo_db_path, demo_db):
    at = run_as("report_course.py", "member")
    at.text_input(key="rc_title_0").input("Next Week's Course")
    at.text_input(key="rc_provider_0").input("Somebody")
    at.date_input(key="rc_date_0").set_value(config.today() + timedelta(days=7))
    at.number_input(key="rc_hours_0").set_value(2.0)
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        f"The course date {config.today() + timedelta(days=7):%m/%d/%Y} is in the future: "
        "report a course once you have taken it."
    ]


def test_a_pending_report_gets_its_certificate_later_or_a_new_one(demo_db):
    me = member(demo_db)
    record = report(demo_db, me, title="Forgot The File")
    self_reports.attach_certificate(demo_db, me, record, PNG, "photo.png")
    assert self_reports.certificate_file(demo_db, me, record) == (PNG, "photo.png", "image/png")
    self_reports.attach_certificate(demo_db, me, record, a_pdf("better scan"), "scan.pdf")
    data, name, mime = self_reports.certificate_file(demo_db, me, record)
    assert (name, mime) == ("scan.pdf", "application/pdf") and data.startswith(b"%PDF")
    with pytest.raises(CetrackerError, match="is not a PDF, PNG or JPEG"):
        self_reports.attach_certificate(demo_db, me, record, b"GIF89a", "x.gif")
    with pytest.raises(NotAllowed):
        self_reports.attach_certificate(demo_db, another_member(demo_db), record, PNG, "p.png")
    self_reports.decide(demo_db, users.load_user(demo_db, "admin"), [record], approve=True)
    with pytest.raises(CetrackerError, match="waiting for approval"):
        self_reports.attach_certificate(demo_db, me, record, PNG, "late.png")


def test_approval_and_rejection_reach_the_members_inbox_and_email(demo_db, monkeypatch):
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    from cetracker import messages
    from tests.test_messages import Mailbox, free_port

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("CETRACKER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CETRACKER_SMTP_PORT", str(port))
        monkeypatch.setenv("CETRACKER_SMTP_SECURITY", "none")
        me, admin = member(demo_db), users.load_user(demo_db, "admin")
        day = config.today() - timedelta(days=2)
        good = report(demo_db, me, title="Open Records 101", provider="AG", day=day, hours=2)
        bad = report(demo_db, me, title="Gardening", provider="Club", day=day)
        reason = (
            "Gardening is not related to a clerk's duties; only courses on records, elections, "
            "ethics or court administration count toward CE hours (see the handbook, p. 4)."
        )
        self_reports.decide(demo_db, admin, [good], approve=True)
        self_reports.decide(demo_db, admin, [bad], approve=False, reason=reason)
    finally:
        controller.stop()
    box_now = messages.inbox(demo_db, me)
    subjects = list(box_now["Subject"][:2])
    assert subjects == [
        "Your reported course was not approved",
        "Your reported course was approved",
    ]
    _, body, _ = messages.open_message(demo_db, me, int(box_now["id"].iloc[0]))
    assert "- Gardening (Club)" in body and f"Reason: {reason}" in body
    _, approved_body, _ = messages.open_message(demo_db, me, int(box_now["id"].iloc[1]))
    assert "Open Records 101" in approved_body and f"{day:%m/%d/%Y}" in approved_body
    emails = [message_from_bytes(content, policy=policy.default) for _, content in box.received]
    assert [e["Subject"] for e in emails] == [
        "Your reported course was approved",
        "Your reported course was not approved",
    ]
    assert f"Reason: {reason}" in emails[1].get_body(("plain",)).get_content()


def test_license_cycles_take_any_categories_and_say_what_remains(demo_db):
    me = member(demo_db)
    year = config.today().year
    licenses.add_license(
        demo_db,
        me,
        board="Board",
        license_number="B-1",
        start=date(year - 1, 1, 1),
        end=date(year, 12, 31),
        required=40,
        minimums=[("ethics", 300 / 100), ("Cultural Competency", "2"), ("Blank", None)],
    )
    (cycle,) = licenses.license_progress(demo_db, me)
    assert set(cycle.categories) == {"ethics", "Cultural Competency"}
    assert cycle.missing("Cultural Competency") == 2  # no course in that category yet
    ethics = demo_db.scalar(
        "SELECT coalesce(sum(hours), 0) FROM ce_records WHERE member_id = ? AND status = "
        "'approved' AND category = 'Ethics' AND course_date BETWEEN ? AND ?",
        [me.member_id, date(year - 1, 1, 1), date(year, 12, 31)],
    )
    assert cycle.categories["ethics"][0] == ethics  # "ethics" counts the "Ethics" courses
    for minimums, message in [
        ([("Ethics", 3), ("ETHICS", 1)], "listed twice"),
        ([("Ethics", 50)], "more than the 40 hours the cycle requires"),
        ([("", 3)], "Name the category"),
        ([("Ethics", "lots")], "not a number of hours"),
    ]:
        with pytest.raises(CetrackerError, match=message):
            licenses.add_license(
                demo_db,
                me,
                board="B",
                license_number="",
                start=date(year, 1, 1),
                end=date(year, 12, 31),
                required=40,
                minimums=minimums,
            )


def test_my_ce_says_what_remains_and_shows_a_rejection_reason_in_full(demo_db_path, demo_db):
    me = member(demo_db)
    record = report(demo_db, me, title="Gardening", day=config.today() - timedelta(days=1))
    reason = "Not a clerk course " + "because the catalogue says so " * 8 + "END OF REASON"
    self_reports.decide(
        demo_db, users.load_user(demo_db, "admin"), [record], approve=False, reason=reason
    )
    from cetracker import messages

    for message_id in messages.inbox(demo_db, me)["id"]:  # read: the page then links no inbox
        messages.open_message(demo_db, me, int(message_id))
    at = run_as("my_ce.py", "member")
    bars = [p.proto.text for p in at.get("progress")]
    mine = standing.my_standing(demo_db, me, records.my_years(demo_db, me)[0])
    total = "requirement met" if mine.short_by == 0 else "hours to go"
    assert total in bars[0], bars
    assert any("Ethics" in b and ("to go" in b or "minimum met" in b) for b in bars), bars
    assert any("END OF REASON" in m.value and "rejected" in m.value for m in at.markdown)


def test_why_says_the_hours_earned_the_year_before_as_the_earned_rule_sums_them(demo_db):
    """Hours like 1.1 + 2.2 + … are decimals: "you earned 20.4 hours then", never the
    float sum 20.400000000000002."""
    me = member(demo_db)
    year = config.today().year
    with demo_db.transaction() as cur:
        cur.execute("DELETE FROM ce_records WHERE member_id = ?", [me.member_id])
    for hours in ("1.1", "2.2", "7.3", "6.7", "3.1"):
        records.save_record(
            demo_db,
            me.member_id,
            {
                "title": "Minutes and agendas",
                "provider_name": "County",
                "course_id": None,
                "course_date": date(year - 1, 3, 1),
                "hours": Decimal(hours),
                "category": "General",
                "status": "approved",
            },
            actor="admin",
        )
    assert standing.my_standing(demo_db, me, year).carried_in > 0
    assert "you earned 20.4 hours then" in records.why(demo_db, me, year).carried_from


def test_a_member_short_only_in_a_category_reads_why_in_the_hour_summarys_words(demo_db):
    """24 of 20 hours, none of them Ethics: the transcript and the reminder say "Ethics: 0 of
    3 hours" (compute.reasons), never "short by 0 hours"."""
    from cetracker import messages, reminders

    me = member(demo_db)
    year = config.today().year
    with demo_db.transaction() as cur:
        cur.execute("DELETE FROM ce_records WHERE member_id = ?", [me.member_id])
    records.save_record(
        demo_db,
        me.member_id,
        {
            "title": "Elections law",
            "provider_name": "County",
            "course_id": None,
            "course_date": date(year, 3, 1),
            "hours": Decimal(24),
            "category": "General",
            "status": "approved",
        },
        actor="admin",
    )
    mine = standing.my_standing(demo_db, me, year)
    assert (mine.short_by, mine.reasons) == (0, ("Ethics: 0 of 3 hours",))
    pdf = transcripts.transcript_pdf(demo_db, me.member_id, year, year)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "required — Ethics: 0 of 3 hours" in text and "short by" not in text
    admin = users.load_user(demo_db, "admin")
    fields = messages.standing_fields(demo_db, admin, year, [me.member_id])[me.member_id]
    body = messages.merge(reminders.DEFAULT_BODY, fields)
    assert "you are not yet eligible: **Ethics: 0 of 3 hours**" in body
    assert "short by" not in body


@pytest.mark.both_backends
@pytest.mark.parametrize("listed", [1_000, 1], ids=["ids-listed", "backlog-read-by-status"])
def test_the_records_awaiting_review_are_each_pending_record_once(demo_db, monkeypatch, listed):
    """The Approvals list and the Dashboard's count read the pending records by their ids
    (on a server, found through its partial index); a backlog of more ids than may be
    listed is read by status. Both give what a plain join gives, for everyone and for an
    area's director."""
    from cetracker.filters import Filters, Scope
    from cetracker.store import db as store

    monkeypatch.setattr(store, "LITERAL_IDS", listed)
    me = member(demo_db)
    for n in range(3):  # one member with several pending records
        report(demo_db, me, title=f"Webinar {n}", certificate=a_pdf("proof"))

    def expected(where: str = "true") -> list[int]:
        return [
            r
            for (r,) in demo_db.rows(
                "SELECT r.id FROM ce_records r JOIN members m ON m.id = r.member_id"  # noqa: S608 - fixed test SQL
                f" WHERE r.status = 'pending' AND {where} ORDER BY r.created_at, r.id"
            )
        ]

    assert len(expected()) > 3
    assert list(self_reports.pending_reports(demo_db)["Record"]) == expected()
    everyone = Filters(2026, scope=Scope())
    area = demo_db.scalar("SELECT area FROM members WHERE id = ?", [me.member_id])
    one_area = Filters(2026, areas=(area,))
    assert self_reports._awaiting_review(demo_db, everyone) == len(expected())
    assert (
        self_reports._awaiting_review(demo_db, one_area)
        == len(expected(f"m.area = '{area}'"))
        < len(expected())
    )


@pytest.mark.both_backends
def test_a_server_finds_the_records_awaiting_review_by_its_index(demo_db):
    """On PostgreSQL the pending records are one index's few entries, not a read of every
    record (migration 11), whose condition is the one ``self_reports._pending`` asks."""
    if not demo_db.server:
        pytest.skip("DuckDB has no partial index: the embedded file scans the status column")
    (definition,) = demo_db.server_rows(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ce_records_awaiting_review'"
    )[0]
    assert "WHERE ((status)::text = 'pending'::text)" in definition, definition
    import inspect

    assert "WHERE status = 'pending'" in inspect.getsource(self_reports._pending)


@pytest.mark.both_backends
@pytest.mark.parametrize("listed", [1_000, 1], ids=["ids-as-constants", "ids-as-a-list"])
def test_a_batch_is_decided_in_a_few_lookups_and_each_member_told_once(
    demo_db, capfd, monkeypatch, listed
):
    """Three reports of two members, one of them for a listed course, and one record
    decided already: the pending three are approved together; each member gets one notice
    naming their courses (a listed one by its title and provider). On a server the
    records, courses and providers are looked up by id, never sent whole."""
    from cetracker import messages
    from cetracker.store import db as store
    from tests.pgserver import sent_queries, whole_reads

    # (ids-as-a-list: more ids than are written as constants, so the records go as a list)
    monkeypatch.setattr(store, "LITERAL_IDS", listed)
    me, other, admin = member(demo_db), another_member(demo_db), users.load_user(demo_db, "admin")
    day = config.today() - timedelta(days=3)
    course, title, provider = demo_db.one(
        "SELECT c.id, c.title, p.name FROM courses c JOIN providers p ON p.id = c.provider_id"
        " ORDER BY c.id LIMIT 1"
    )
    mine = [report(demo_db, me, title="Records 101", provider="AG", day=day, hours=2)]
    mine.append(report(demo_db, me, title="Elections", provider="SoS", day=day, hours=3))
    # (a report of a listed course, as the member page's course picker makes one)
    demo_db.execute("UPDATE ce_records SET course_id = ? WHERE id = ?", [course, mine[1]])
    theirs = report(demo_db, other, title="Ethics now", provider="Bar", day=day, hours=1)
    done = demo_db.scalar("SELECT min(id) FROM ce_records WHERE status = 'approved'")
    before = demo_db.one("SELECT status, status_reason FROM ce_records WHERE id = ?", [done])
    count, queries = sent_queries(
        demo_db,
        capfd,
        lambda: self_reports.decide(demo_db, admin, [theirs, *mine, done], approve=True),
    )
    assert count == 3
    assert (
        demo_db.one("SELECT status, status_reason FROM ce_records WHERE id = ?", [done]) == before
    )
    decided = demo_db.rows(
        "SELECT DISTINCT status FROM ce_records WHERE id IN (SELECT unnest($ids::BIGINT[]))",
        {"ids": [theirs, *mine]},
    )
    assert decided == [("approved",)]
    inbox = messages.inbox(demo_db, me)
    assert list(inbox["Subject"]).count("Your reported courses were approved") == 1
    _, body, _ = messages.open_message(demo_db, me, int(inbox["id"].iloc[0]))
    assert "- Records 101 (AG)" in body and f"- {title} ({provider})" in body, body
    assert "Your reported course was approved" in set(messages.inbox(demo_db, other)["Subject"])
    if demo_db.server and listed > 1:
        for table in ("ce_records", "courses", "providers"):
            assert not whole_reads(queries, table), whole_reads(queries, table)


@pytest.mark.parametrize(
    ("day", "hours", "said"),
    [
        (date(2030, 10, 15), 3.0, "is in the future"),
        (None, -5.0, "more than 0 and at most 100"),
        (None, 9999.0, "more than 0 and at most 100"),
    ],
    ids=["a later year", "negative hours", "too many hours"],
)
def test_report_a_course_says_what_is_wrong_with_a_date_or_hours(
    demo_db_path, demo_db, day, hours, said
):
    """The form's widgets take any date and number, and the check says what is wrong: a
    date after the widget's last day had turned into "Enter the date", and hours beyond
    its bounds were never sent, with nothing said."""
    at = run_as("report_course.py", "member")
    at.text_input(key="rc_title_0").input("County Budget Basics")
    at.text_input(key="rc_provider_0").input("Comptroller")
    at.date_input(key="rc_date_0").set_value(day or config.today() - timedelta(days=1))
    at.number_input(key="rc_hours_0").set_value(hours)
    at.button[0].click().run()
    assert any(said in e.value for e in at.error), [e.value for e in at.error]
    assert not demo_db.scalar(
        "SELECT count(*) FROM ce_records WHERE title = 'County Budget Basics'"
    )
