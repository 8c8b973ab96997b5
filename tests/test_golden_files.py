"""Golden files for what people download besides reports: the roster template a provider
fills in, the failed-rows file it gets back, the annual certificates and a member's
transcripts (by CE year, and of a license's renewal cycle).

They are made from tests/test_golden.py's fixed office, compared the same way (Excel as
text, PDFs as their text) and regenerated the same way: see that module's docstring.

Which run on both backends: the certificates and transcripts, whose text comes from the
standing and hour-summary SQL and the transcripts' own queries (dates, casts and hours as
each server returns them). The two spreadsheets are made by openpyxl from one plain query
of a provider's courses and from the importer's outcomes, whose SQL test_importer runs on
both backends already; a second run would check nothing new.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from cetracker import importer, licenses, providers, self_reports
from cetracker.accounts import users
from cetracker.files import certificates, rosters, transcripts
from cetracker.filters import Filters
from cetracker.store.db import Database
from tests.rosters import xlsx_bytes
from tests.test_golden import OFFICE, assert_golden, pdf_as_text, xlsx_as_text
from tests.test_self_reports import a_pdf

PASSWORD = "a-long-golden-password"
# A roster for provider P-1 with a row of every kind that fails (SPEC §5), the template's
# example row (skipped) and one good row (processed). Its dates are text, as a CSV gives them.
ROSTER = [
    ["Jane", "Example", "EXAMPLE", "C4", 2024, "06/01/2024", 2],
    ["Ana", "Núñez", "TX-1001", "C4", 2024, "06/01/2024", 2],
    ["Zoë", "Ødegård", "TX-9999", "C2", 2024, "03/01/2024", 3],  # nobody holds the license
    ["Łukasz", "Nowak", "TX-1003", "C1", 2023, "02/30/2023", 4],  # no such date
    ["Zoë", "Ødegård", "TX-1002", "C2", 2024, "03/01/2024", 4.5],  # over the approved 3
    ["Zoë", "Ødegård", "TX-1002", "C4", 2024, "06/01/2024", "1,5"],  # 1.5 or 15?
    ["+Bob", '=HYPERLINK("http://x")', "TX-1004", "C9", 2023, "06/01/2024", "=2*3"],
    ["@Ana", "Núñez", "-TX-1001", "C3", "2024", "2024-05-02", "-4"],
]


@pytest.fixture
def office(workbook_database, monkeypatch) -> Database:
    """The fixed office, with the certificates' secret and public address pinned: the
    verification codes and the links to check them are then the same on every run."""
    monkeypatch.setenv("CETRACKER_SECRET_KEY", "golden-files-secret")
    monkeypatch.setenv("CETRACKER_BASE_URL", "https://ce.example.org")
    return workbook_database("golden-office", OFFICE)


def test_golden_roster_template(office):
    provider = providers.provider_by_license(office, "P-1")
    template = rosters.template_xlsx(office, provider)
    assert_golden("roster-template.xlsx.txt", xlsx_as_text(template), office)


def _import(db: Database, provider: int, data: bytes, name: str) -> importer.ImportResult:
    return importer.import_roster(db, data, name, provider_id=provider, uploaded_by="golden")


def _failed_rows_file(db: Database, provider: int, result: importer.ImportResult) -> bytes:
    frame = importer.failed_rows_frame(result.failed_outcomes())
    return rosters.failed_rows_xlsx(db, provider, frame)


def test_golden_failed_rows_file_reuploads_as_it_is(office):
    provider = providers.provider_by_license(office, "P-1")
    first = _import(office, provider, xlsx_bytes(ROSTER), "roster.xlsx")
    assert first.counts() == {"processed": 1, "failed": 6, "total": 7}
    assert first.example_rows == [2]
    failed = _failed_rows_file(office, provider, first)
    assert_golden("failed-rows.xlsx.txt", xlsx_as_text(failed), office)

    # Uploaded again untouched, every row reads back as it was and fails for the same
    # reasons: the same file comes back, and nothing was recorded twice.
    second = _import(office, provider, failed, "failed-rows.xlsx")
    assert second.counts() == {"processed": 0, "failed": 6, "total": 6}
    assert [o.status for o in second.failed_outcomes()] == [
        o.status for o in first.failed_outcomes()
    ]
    assert xlsx_as_text(_failed_rows_file(office, provider, second)) == xlsx_as_text(failed)
    sheet = load_workbook(io.BytesIO(failed)).worksheets[0]
    assert sheet["B6"].value == '=HYPERLINK("http://x")' and sheet["B6"].data_type == "s"


@pytest.mark.both_backends
def test_golden_certificates(office):
    """The year's certificates, as the Certificates page prints them, and one member's own
    certificate of an earlier year, as My CE gives it."""
    earned = certificates.earned_certificates(office, Filters(2024))
    assert [c.name for c in earned] == ["Łukasz Nowak"]
    pdf = certificates.certificates_pdf(earned)
    assert_golden("certificates-2024.pdf.txt", pdf_as_text(pdf), office)
    ana = office.scalar("SELECT id FROM members WHERE license_number = 'TX-1001'")
    own = certificates.member_certificate(office, ana, 2023)
    pdf = certificates.certificates_pdf([own], base_url="http://127.0.0.1:8501")
    assert_golden("certificate-2023-TX-1001.pdf.txt", pdf_as_text(pdf), office)


@pytest.mark.both_backends
def test_golden_transcripts(office):
    """Ana's transcripts with a course she reported herself, its certificate appended."""
    users.add_user(office, "ana", PASSWORD, role="member", member_license="TX-1001")
    users.add_user(office, "boss", PASSWORD, role="admin")
    ana = users.load_user(office, "ana")
    reported = self_reports.report_course(
        office,
        ana,
        title="Records Retention Webinar",
        provider="State Library",
        day=date(2024, 9, 12),
        hours=2,
        category="Technology",
        certificate=a_pdf("Ana Núñez attended Records Retention Webinar"),
        certificate_name="retention.pdf",
    )
    self_reports.decide(office, users.load_user(office, "boss"), [reported], approve=True)
    by_year = transcripts.transcript_pdf(office, ana.member_id, 2023, 2024, with_certificates=True)
    assert_golden("transcript-2023-2024.pdf.txt", pdf_as_text(by_year), office)

    # A cycle that leaves out the first courses and misses a category minimum.
    licenses.add_license(
        office,
        ana,
        board="County Clerk Certification Board",
        license_number="CC-42",
        start=date(2023, 9, 1),
        end=date(2025, 8, 31),
        required=30,
        minimums={"Ethics": 3, "Records Management": 4},
    )
    (cycle,) = licenses.license_progress(office, ana)
    renewal = transcripts.cycle_transcript(office, ana, cycle.license_id)
    assert_golden("transcript-cycle-CC-42.pdf.txt", pdf_as_text(renewal), office)
