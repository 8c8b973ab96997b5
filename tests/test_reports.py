"""Reports, exports and certificates (SPEC §3, §4) on known data and on the demo."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from cetracker import entities, members, reports
from cetracker.files import certificates, exports
from cetracker.filters import Filters, Scope
from tests.pgserver import sent_queries, whole_reads
from tests.workbooks import OFFICE

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def office(workbook_database):
    return workbook_database("office", OFFICE)


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.both_backends
def test_conference_detail_has_carryover_line_and_total(office):
    frame = reports.conference_detail(office, Filters(2024, name="1001"))
    assert list(zip(frame["course"], frame["hours"], strict=True)) == [
        ("Ethics for Clerks", 3.0),
        ("Records Day", 10.0),
        ("Carried over from 2023", 6.5),
        ("Total credited", 19.5),
    ]


@pytest.mark.both_backends
def test_carryover_and_certificates_lists(office):
    assert list(reports.carryover(office, Filters(2024))["license_number"]) == ["1001"]
    assert list(reports.certificates_list(office, Filters(2023))["license_number"]) == ["1001"]
    assert reports.certificates_list(office, Filters(2024)).empty


@pytest.mark.both_backends
def test_dues_report_says_no_dues_record_for_missing_rows(office):
    """SPEC §2: a member with no dues row for the year has "no dues record", not "unpaid"."""
    frame = reports.dues(office, Filters(2024))
    got = dict(zip(frame["license_number"], frame["status"], strict=True))
    assert got == {"1001": "paid", "1002": "unpaid", "1003": "no dues record"}


@pytest.mark.both_backends
def test_conference_report_lists_attendees(office):
    frame = reports.conference(office, Filters(2024), "C3")
    assert sorted(frame["license_number"]) == ["1001", "1002", "1003"]


REPORT_OPTIONS = {"conference": {"course_number": "C2025-001"}}


@pytest.mark.parametrize("name", sorted(reports.REPORTS))
@pytest.mark.both_backends
def test_director_scope_holds_in_every_report_and_export(demo_db, name):
    area3 = Filters(2025, scope=Scope(areas=("Area 3",)))
    frame = reports.run_report(demo_db, name, area3, **REPORT_OPTIONS.get(name, {}))
    assert len(frame) > 0
    if "area" in frame.columns:
        assert set(frame["area"]) == {"Area 3"}
    outside = {
        lic for (lic,) in demo_db.rows("SELECT license_number FROM members WHERE area = 'Area 6'")
    }
    assert not outside & set(frame["license_number"])
    csv_text = exports.to_csv(frame).decode()
    assert "Area 6" not in csv_text
    book = load_workbook(io.BytesIO(exports.to_xlsx(frame, "t")))
    cells = {c.value for row in book.active.iter_rows() for c in row}
    assert "Area 6" not in cells and not outside & cells
    # A filter that asks for another area still finds nothing outside the scope.
    wider = Filters(2025, areas=("Area 6",), scope=Scope(areas=("Area 3",)))
    assert reports.run_report(demo_db, name, wider, **REPORT_OPTIONS.get(name, {})).empty


def test_csv_neutralises_formulas_and_keeps_numbers():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "name": ["=1+1", "+SUM(A1)", "-x", "@cmd", "plain", "a=b"],
            "hours": [-1.5, 2.0, 3.25, 0.0, 1.0, 4.0],
        }
    )
    assert exports.to_csv(frame).decode() == (
        "name,hours\n'=1+1,-1.5\n'+SUM(A1),2\n'-x,3.25\n'@cmd,0\nplain,1\na=b,4\n"
    )


def test_xlsx_is_styled_frozen_and_formula_free():
    import pandas as pd

    frame = pd.DataFrame({"name": ['=HYPERLINK("http://evil")'], "when": [date(2024, 3, 1)]})
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(frame, "Report"))).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet.column_dimensions["A"].width > 10


def test_pdf_has_title_filters_page_numbers_and_repeated_header(demo_db):
    filters = Filters(2025, areas=("Area 3",))
    frame = reports.member_list(demo_db, filters)
    pages = pdf_text(exports.to_pdf(frame, "Clerk List", filters.describe()))
    assert len(pages) >= 2
    assert "Clerk List" in pages[0] and "Area: Area 3" in pages[0]
    assert f"Page 1 of {len(pages)}" in pages[0] and f"Page 2 of {len(pages)}" in pages[1]
    # The header row repeats at the top of every page, right under the title lines.
    assert pages[1].split("\n")[2].startswith("License")
    assert "No rows match" in pdf_text(exports.to_pdf(frame.head(0), "Clerk List"))[0]


@pytest.mark.both_backends
def test_certificates_one_page_each_with_unicode_names(demo_db):
    earned = certificates.earned_certificates(demo_db, Filters(2025))
    eligible = reports.certificates_list(demo_db, Filters(2025))
    assert len(earned) == len(eligible) > 0
    special = [c for c in earned if c.name.startswith(("Nguyễn", "Zoë", "Łukasz"))]
    chosen = (special or earned[:1]) + earned[:2]
    pages = pdf_text(certificates.certificates_pdf(chosen))
    assert len(pages) == len(chosen)
    for cert, text in zip(chosen, pages, strict=True):
        assert cert.name in text and cert.code in text and "hours credited" in text
    reader = PdfReader(io.BytesIO(certificates.certificates_pdf(chosen[:1])))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape


def test_unicode_names_print(db):
    cert = certificates.Certificate(
        1, "Nguyễn Thị Ánh", "1", 2024, certificates.Decimal(20), date(2025, 1, 2)
    )
    other = certificates.Certificate(
        2, "Zoë Ødegård", "2", 2024, certificates.Decimal(20), date(2025, 1, 2)
    )
    third = certificates.Certificate(
        3, "Łukasz Nowak", "3", 2024, certificates.Decimal(20), date(2025, 1, 2)
    )
    text = "".join(pdf_text(certificates.certificates_pdf([cert, other, third])))
    for name in ("Nguyễn Thị Ánh", "Zoë Ødegård", "Łukasz Nowak"):
        assert name in text


# Names in the scripts the PDFs' fonts hold beyond Noto Sans's Latin, Greek and Cyrillic:
# right to left (Arabic, Hebrew), letters joined and reordered (Arabic, Devanagari, Thai).
OTHER_SCRIPTS = ("محمد العلي", "דוד כהן", "राम शर्मा", "Ana محمد Lee", "สมชาย ใจดี")


def test_names_in_arabic_hebrew_devanagari_and_thai_print_on_certificates_and_reports(caplog):
    """They came out blank: Noto Sans has no Arabic or Hebrew letters, and fpdf2's text()
    writes with the current font alone, unshaped."""
    import re

    caplog.set_level("WARNING", logger="fpdf")
    certs = [
        certificates.Certificate(
            i + 1, name, f"L{i}", 2025, certificates.Decimal(20), date(2026, 1, 5)
        )
        for i, name in enumerate(OTHER_SCRIPTS)
    ]
    frame = pd.DataFrame({"last_name": OTHER_SCRIPTS, "county": ["Harris"] * len(OTHER_SCRIPTS)})
    for pdf in (certificates.certificates_pdf(certs), exports.to_pdf(frame, "Clerk List")):
        # (Right-to-left words come out in the order they stand on the page; a ligature
        # of Arabic reads as a control character.)
        text = re.sub(r"[\x00-\x1f]", "", "".join(pdf_text(pdf)))
        for name in OTHER_SCRIPTS:
            assert all(word in text for word in name.split()), name
        faces = set(re.findall(rb"/BaseFont /[A-Z]+\+(\w+)", pdf))
        assert {b"NotoSansArabic", b"NotoSansHebrew", b"NotoSansThai"} <= faces
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    # The Hebrew face is cut at the regular weight (its own default is its thinnest), the
    # bold ones at bold: a name on a certificate is bold in every script.
    faces = set(re.findall(rb"/BaseFont /[A-Z]+\+(\w+)", certificates.certificates_pdf(certs)))
    assert {b"NotoSansArabicBold", b"NotoSansHebrewBold", b"NotoSansThaiBold"} <= faces
    assert not any(b"Thin" in face for face in faces)


def test_a_pdf_embeds_only_the_faces_its_names_need():
    """The faces that stand in for other scripts join a PDF only with a name that needs
    them (fpdf2 embeds every face a PDF is given, used or not)."""
    import re

    frame = pd.DataFrame({"last_name": ["Núñez", "Nguyễn", "Ødegård"]})
    faces = set(re.findall(rb"/BaseFont /[A-Z]+\+(\w+)", exports.to_pdf(frame, "Clerk List")))
    assert faces == {b"NotoSans", b"NotoSansBold"}
    # An Arabic name brings the Arabic faces, not the Hebrew or Thai ones.
    frame = pd.DataFrame({"last_name": ["Núñez", "محمد"]})
    faces = set(re.findall(rb"/BaseFont /[A-Z]+\+(\w+)", exports.to_pdf(frame, "Clerk List")))
    assert {
        f for f in faces if f.startswith(b"NotoSans") and f[8:12] in (b"Arab", b"Hebr", b"Thai")
    } == {
        b"NotoSansArabic",
        b"NotoSansArabicBold",
    }


def test_a_shaped_name_leaves_the_pdf_as_it_found_it():
    """After a name in Hebrew, the next text is written as before: the same face, size and
    place, unshaped (shaping, or fallback fonts, slow every later string by a third)."""
    from cetracker.files import fonts

    pdf = exports.ReportPDF("Clerk List", "")
    pdf.set_compression(False)  # the page's drawing commands readable below
    pdf.add_page()
    pdf.set_font(fonts.FAMILY, "B", 9)
    pdf.set_xy(30, 40)
    before = pdf.get_string_width("Harris")
    pdf.text(-5, 60, "דוד כהן")  # centred and wider than the page: x below zero
    assert (pdf.font_family, pdf.font_style, pdf.font_size_pt) == ("noto", "B", 9)
    assert (pdf.x, pdf.y, pdf.text_shaping) == (30, 40, None)
    assert pdf.get_string_width("Harris") == before
    assert pdf._fallback_font_ids == []  # fpdf2's fast way for the next strings
    assert pdf.get_string_width("דוד כהן") > 0
    written = bytes(pdf.output())  # (which also closes the fonts' files)
    assert "דוד" in "".join(pdf_text(written))
    # Where text() was asked to write it: 5 mm left of the page's edge (-14.17 pt), not
    # 5 mm from its right edge as set_xy() would count it.
    assert b"BT -14.17 " in written


@pytest.mark.both_backends
def test_verification_codes_resolve_and_forgeries_do_not(demo_db):
    cert = certificates.earned_certificates(demo_db, Filters(2025))[0]
    found = certificates.verify(demo_db, cert.code)
    assert found is not None and (found.name, found.year, found.hours) == (
        cert.name,
        2025,
        cert.hours,
    )
    assert certificates.verify(demo_db, cert.code.lower().replace("-", " ")) == found
    # Any single changed character, a changed year or hours, or junk: nothing.
    for i in range(len(cert.code)):
        if cert.code[i] == "-":
            continue
        altered = cert.code[:i] + ("B" if cert.code[i] != "B" else "C") + cert.code[i + 1 :]
        assert certificates.verify(demo_db, altered) is None
    inflated = certificates.Certificate(
        cert.member_id, cert.name, cert.license_number, 2025, cert.hours + 10, cert.issued
    )
    forged = inflated.code[:-5] + cert.code[-5:]
    assert certificates.verify(demo_db, forged) is None
    for junk in ["", "x" * 200, "' OR 1=1 --", "AAAAA-AAAAA"]:
        assert certificates.verify(demo_db, junk) is None


def test_code_needs_the_server_secret(demo_db, monkeypatch):
    code = certificates.earned_certificates(demo_db, Filters(2025))[0].code
    assert certificates.verify(demo_db, code) is not None
    monkeypatch.setenv("CETRACKER_SECRET_KEY", "another-secret-entirely")
    assert certificates.verify(demo_db, code) is None


def test_codes_made_together_are_the_sealed_bytes_in_base_32_and_read_back():
    """The page's 5,000 codes at once (``make_codes``): each is RFC 4648 base 32 of its
    sealed bytes in fives, the same as ``make_code`` alone, and reads back to its fields."""
    import base64
    import random
    from decimal import Decimal

    rng = random.Random(5)
    made = [
        certificates.Certificate(
            rng.randint(0, 2**32 - 1),
            "N",
            "L",
            rng.randint(1900, 2200),
            Decimal(rng.randint(0, 10**7)) / 100,
            date.fromordinal(rng.randint(1, date(9999, 12, 31).toordinal())),
        )
        for _ in range(500)
    ]
    codes = certificates.make_codes(made)
    key = certificates.config.secret_key().encode()
    for cert, code in zip(made, codes, strict=True):
        sealed = certificates._sealed(cert.member_id, cert.year, cert.hours, cert.issued, key)
        letters = base64.b32encode(sealed).decode().rstrip("=")
        assert code == "-".join(letters[i : i + 5] for i in range(0, len(letters), 5))
        assert code == cert.code
        assert certificates.read_code(code) == (cert.member_id, cert.year, cert.hours, cert.issued)
    assert certificates.make_codes([]) == []


def test_the_fast_qr_encoder_matches_segno_module_for_module():
    import random

    import segno

    rng = random.Random(11)
    for _ in range(300):
        code = certificates.make_code(
            rng.randint(1, 2**31),
            rng.randint(1900, 2200),
            rng.randint(1, 99_999) / 100,
            date(2026, 1, 1),
        )
        url = certificates.verify_url(code)
        reference = segno.make(url, mode="byte", error="m", mask=3, micro=False, boost_error=False)
        assert certificates.qr_matrix(url) == [list(row) for row in reference.matrix]


def test_a_printed_certificates_qr_code_scans_to_its_verify_address(demo_db):
    import pypdfium2
    import zxingcpp

    earned = certificates.earned_certificates(demo_db, Filters(2025))[:2]
    pdf = pypdfium2.PdfDocument(certificates.certificates_pdf(earned))
    for page, cert in zip(pdf, earned, strict=True):
        picture = page.render(scale=200 / 72).to_pil()
        found = zxingcpp.read_barcodes(picture)
        assert [b.text for b in found] == [certificates.verify_url(cert.code)]
        assert certificates.verify(demo_db, found[0].text.rsplit("=", 1)[1]).name == cert.name


@pytest.mark.both_backends
def test_conference_detail_first_lines_equal_the_head_of_the_whole_report(demo_db):
    whole = reports.conference_detail(demo_db, Filters(2025))
    for limit in (1, 7, 500):
        assert reports.conference_detail(demo_db, Filters(2025), limit=limit).equals(
            whole.head(limit)
        )


@pytest.mark.both_backends
def test_conference_detail_counts_match_the_whole_report(demo_db):
    from cetracker import years

    years.close_year(demo_db, 2023, actor="admin")  # a closed year counts from its snapshot
    for filters in (Filters(2025), Filters(2025, areas=("Area 3",)), Filters(2023)):
        whole = reports.conference_detail(demo_db, filters)
        members, courses = reports.conference_detail_counts(demo_db, filters)
        assert members == (whole["kind"] == "total").sum() > 0
        assert courses == (~whole["kind"].isin(["total", "carryover"])).sum() > 0


def test_cutting_the_bold_face_leaves_no_file_open(tmp_path, monkeypatch):
    # On a machine with no cut bold face yet, the first PDF of a process cuts it from
    # the variable font. fontTools kept that file open, and CI failed on the warning
    # its eventual collection raised in whichever test came next.
    import os
    import tempfile

    from cetracker.files import fonts

    def open_font_files() -> int:
        names = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                names.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor)
        return names.count(str(fonts.font_path()))

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = open_font_files()
    bold = fonts._bold_path()
    assert bold.parent == tmp_path / f"cetracker-fonts-{os.getuid()}"
    assert bold.stat().st_size > 100_000 and bold.parent.stat().st_mode & 0o077 == 0
    # No part of a cut is left behind.
    assert sorted(p.name for p in bold.parent.iterdir()) == sorted([".lock", bold.name])
    assert open_font_files() == before
    # A static bold face: no axes left, the weight of bold, every character the regular
    # face has, and the substitutions that join Indic letters (the positioning goes).
    from fontTools.ttLib import TTFont

    with TTFont(str(bold)) as cut, TTFont(str(fonts.font_path())) as source:
        assert "fvar" not in cut and cut["OS/2"].usWeightClass == 700
        assert cut.getBestCmap() == source.getBestCmap()
        assert "GSUB" in cut and "GPOS" not in cut
        assert cut["name"].getDebugName(4) == "Noto Sans Bold"


def test_a_font_folder_someone_else_made_first_is_not_used(tmp_path, monkeypatch):
    # The cache folder's name is known, in a temporary folder every user may write to: a
    # link there, or a folder of another user's, must not take the lock or the font.
    import os
    import tempfile

    from cetracker.files import fonts

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ours = tmp_path / f"cetracker-fonts-{os.getuid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ours.symlink_to(elsewhere)
    assert fonts._font_folder() not in (ours, elsewhere)
    ours.unlink()
    ours.mkdir()
    if os.getuid() == 0:  # a folder of another user's (root can make one)
        os.chown(ours, 65534, 65534)
        assert fonts._font_folder() != ours
        os.chown(ours, 0, 0)
    assert fonts._font_folder() == ours


def test_certificates_lead_to_the_configured_address_else_the_one_being_browsed(
    demo_db, monkeypatch
):
    import pypdfium2
    import zxingcpp

    (cert,) = certificates.earned_certificates(demo_db, Filters(2025))[:1]

    def scanned(**options: str) -> str:
        page = pypdfium2.PdfDocument(certificates.certificates_pdf([cert], **options))[0]
        (found,) = zxingcpp.read_barcodes(page.render(scale=200 / 72).to_pil())
        assert f"Verify at {found.text.split('?')[0]}" in page.get_textpage().get_text_range()
        return found.text

    monkeypatch.delenv("CETRACKER_BASE_URL", raising=False)
    browsing = "https://clerks.example.org"
    assert scanned(base_url=browsing) == f"{browsing}/verify?code={cert.code}"
    monkeypatch.setenv("CETRACKER_BASE_URL", "https://ce.clerks.org/")
    assert scanned(base_url=browsing) == f"https://ce.clerks.org/verify?code={cert.code}"


def test_certificates_page_warns_until_the_public_address_is_set(demo_db_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    def warnings() -> list[str]:
        at = AppTest.from_file(str(ROOT / "pages" / "certificates.py"), default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = "admin"
        at.run()
        assert not at.exception
        return [w.value for w in at.warning]

    monkeypatch.delenv("CETRACKER_BASE_URL", raising=False)
    assert any("no public address is set" in w for w in warnings())
    monkeypatch.setenv("CETRACKER_BASE_URL", "https://ce.clerks.org")
    assert not any("no public address" in w for w in warnings())


@pytest.mark.both_backends
def test_a_course_number_is_found_however_it_is_written(demo_db):
    """Course numbers compare trimmed and in any case everywhere (courses.number_key): a
    roster accepts " c2025-001", and so do the Conference Report and a provider's list."""
    from cetracker import providers

    exact = reports.conference(demo_db, Filters(2025), "C2025-001")
    assert len(exact) > 0
    assert reports.conference(demo_db, Filters(2025), " c2025-001 ").equals(exact)
    provider_id = demo_db.scalar(
        "SELECT provider_id FROM courses WHERE course_number = 'C2025-001'"
    )
    theirs = providers.attendees(demo_db, provider_id, course_number="C2025-001")
    assert len(theirs) > 0
    assert providers.attendees(demo_db, provider_id, course_number="c2025-001").equals(theirs)


def test_the_conference_report_lists_the_courses_of_the_ce_year(demo_db):
    """With a July–June CE year from 2024, a September 2024 conference is held in CE year
    2025 (the CE-year rule), not in 2024 as its calendar year would say."""
    from cetracker import policy as policies
    from cetracker.rules import compute

    with demo_db.transaction() as cur:
        policies.save_policy(cur, compute.Policy(2024, ce_year_start_month=7))
    (number,) = demo_db.one(
        """SELECT course_number FROM courses
           WHERE start_date BETWEEN DATE '2024-07-01' AND DATE '2024-12-01'
             AND coalesce(end_date, start_date) <= DATE '2024-12-31' LIMIT 1"""
    )
    assert number in [n for n, _ in reports.course_choices(demo_db, 2025)]
    assert number not in [n for n, _ in reports.course_choices(demo_db, 2024)]
    assert number in [n for n, _ in reports.course_choices(demo_db)]
    # A course with an end date only is held on that day.
    with demo_db.transaction() as cur:
        cur.execute(
            "UPDATE courses SET start_date = NULL, end_date = DATE '2024-09-15'"
            " WHERE course_number = ?",
            [number],
        )
    assert number in [n for n, _ in reports.course_choices(demo_db, 2025)]


def test_the_conference_reports_figures_count_members_and_approved_hours():
    """Two days of one member are one attendee; a pending record is listed, not counted."""
    import pandas as pd

    rows = pd.DataFrame(
        {
            "license_number": ["1001", "1001", "1002", "1003"],
            "hours": [6.0, 6.0, 12.0, 3.0],
            "status": ["approved", "approved", "approved", "pending"],
        }
    )
    assert reports.conference_figures(rows) == (3, 24.0)
    assert reports.conference_figures(rows.iloc[0:0]) == (0, 0.0)


@pytest.mark.both_backends
def test_a_server_sends_a_courses_records_alone(demo_db, capfd):
    """The Conference Report and a provider's CE details ask PostgreSQL for their courses'
    records, which it finds by its index by course (migration 12); DuckDB's scanner,
    given the join, read every record of the table (6.6-9.3 s at a million members). What
    they show is the same on both backends (the tests above)."""
    from cetracker import providers

    if not demo_db.server:
        pytest.skip("the embedded file scans its own table's course column: no server to ask")
    provider_id = demo_db.scalar(
        "SELECT provider_id FROM courses WHERE course_number = 'C2025-001'"
    )
    (shown, listed, years), queries = sent_queries(
        demo_db,
        capfd,
        lambda: (
            reports.conference(demo_db, Filters(2025), "C2025-001"),
            providers.attendees(demo_db, provider_id),
            providers.attendee_years(demo_db, provider_id),
        ),
    )
    assert len(shown) > 0 and len(listed) >= len(shown) and 2025 in years
    asked = [q for q in queries if "FROM ce_records WHERE course_id = ANY(" in q]
    assert len(asked) == 3, queries
    assert not whole_reads(queries, "ce_records"), whole_reads(queries, "ce_records")
    (definition,) = demo_db.server_rows(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ce_records_by_course'"
    )[0]
    assert definition.endswith("(course_id)"), definition


@pytest.mark.both_backends
def test_a_providers_attendee_years_follow_its_records_and_courses(demo_db):
    """A provider's CE details list the years its courses have records in; the list is
    remembered, and a record written or a course moved to another provider reads it again."""
    from cetracker import courses, providers

    new = providers.save_provider(
        demo_db, {"license_number": "P-NEW", "name": "New Provider"}, actor="admin"
    )
    assert providers.attendee_years(demo_db, new) == []
    course_id = demo_db.scalar("SELECT id FROM courses WHERE course_number = 'C2025-001'")
    loaded = entities.current(demo_db, courses.COURSE, {"id": course_id})
    assert loaded is not None
    courses.save_course(
        demo_db, {**loaded, "provider_id": new}, actor="admin", course_id=course_id, loaded=loaded
    )
    assert providers.attendee_years(demo_db, new) == [2025]


@pytest.mark.both_backends
def test_a_certificate_names_its_ce_year_alike_wherever_it_is_made(db):
    """Under a July–June CE year, the member's own certificate (My CE), the office's (the
    Certificates page and the command line) and the Verify page all say "2025–2026"; the
    member's own copy said "2026" when only the office's callers passed the label."""
    from decimal import Decimal

    from cetracker import members, records
    from cetracker import policy as policies
    from cetracker.rules import compute

    with db.transaction() as cur:
        policies.save_policy(cur, compute.Policy(2000, Decimal(20), Decimal(10), 7))
    member_id = members.save_member(
        db,
        {
            "license_number": "TX-1",
            "first_name": "Ann",
            "last_name": "Lee",
            "county": "Travis",
            "area": "Area 1",
            "position": "Deputy Clerk",
            "status": "active",
        },
        actor="t",
    )
    records.save_record(
        db,
        member_id,
        {"title": "Course", "course_date": date(2025, 9, 1), "hours": 20, "category": "General"}
        | {"course_id": None, "status": "approved"},
        actor="t",
    )

    def year_line(pdf: bytes) -> list[str]:
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        return [line for line in text.splitlines() if "CE year" in line]

    own = certificates.member_certificate(db, member_id, 2026)
    (office,) = certificates.earned_certificates(db, Filters(2026))
    assert own is not None and own.code == office.code
    said = "has met the continuing-education requirement for CE year 2025–2026"
    assert year_line(certificates.certificates_pdf([own])) == [said]
    assert year_line(certificates.certificates_pdf([office])) == [said]
    verified = certificates.verify(db, own.code)
    assert verified is not None and verified.year_label == "2025–2026"


_NAMES = [  # as an office types them; each report lists them in the order below
    ("Zimmer", "Al"),
    ("smith", "Bob"),
    ("de la Cruz", "Eva"),
    ("Smithers", "Cy"),
    ("Ødegård", "Zoë"),
    ("Álvarez", "Luz"),
    ("Smith", "Ann"),
    ("O'Brien", "Pat"),
]
_READ_ORDER = [
    "Álvarez",
    "de la Cruz",
    "O'Brien",
    "Ødegård",
    "Smith",
    "smith",
    "Smithers",
    "Zimmer",
]


@pytest.mark.both_backends
def test_members_are_listed_by_name_as_people_look_for_them(workbook_database):
    """Every list of members is in one order (``cells.search_key``): case, accents, spaces
    and punctuation aside, then the first name. Sorted as written, "de la Cruz" and
    "Álvarez" came after "Zimmer"."""
    header = OFFICE["Members"][0]
    rows = [
        [str(2000 + i), first, last, "", "", "", "Travis", "Area 3", "Deputy Clerk", "active", ""]
        for i, (last, first) in enumerate(_NAMES)
    ]
    db = workbook_database("names", {"Members": [header, *rows]})
    for name in ("member-list", "hour-summary", "dues", "conference-detail"):
        frame = reports.run_report(db, name, Filters(2024))
        listed = list(dict.fromkeys(frame["last_name"]))
        assert listed == _READ_ORDER, name
    assert list(members.search_members(db)[0]["Last name"]) == _READ_ORDER


@pytest.mark.both_backends
def test_members_whose_names_and_numbers_fold_alike_keep_their_lines_together(workbook_database):
    """Two members can fold to one search key (the same name, licenses "TX.1005" and
    "TX1005"): the license number as written settles their order, so neither's lines mix
    with the other's and a list pages the same way every time."""
    header = OFFICE["Members"][0]
    people = [
        [number, "Ann", "Berg", "", "", "", "Travis", "Area 3", "Deputy Clerk", "active", ""]
        for number in ("TX1005", "TX.1005")
    ]
    records = [
        [*OFFICE["CE Records"][0]],
        ["TX1005", "", 2024, "2024-03-01", 16, "Records Day", "AG Office", "General"],
        ["TX.1005", "", 2024, "2024-04-01", 3, "Ethics Day", "AG Office", "Ethics"],
    ]
    db = workbook_database("twins", {"Members": [header, *people], "CE Records": records})
    frame = reports.conference_detail(db, Filters(2024))
    assert list(zip(frame["license_number"], frame["course"], strict=True)) == [
        ("TX.1005", "Ethics Day"),
        ("TX.1005", "Carried over from 2023: none"),
        ("TX.1005", "Total credited"),
        ("TX1005", "Records Day"),
        ("TX1005", "Carried over from 2023: none"),
        ("TX1005", "Total credited"),
    ]
    assert list(reports.member_list(db, Filters(2024))["license_number"]) == ["TX.1005", "TX1005"]
