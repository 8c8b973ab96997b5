"""The roster template's columns, the fields they fill and its example row (SPEC §5), and
the start of a roster's reading.

Apart from the checks (``cetracker.importer``) and the template's workbook
(``cetracker.files.rosters``): both need the columns, and ``cetracker import`` starts
reading its file with nothing but these and the bounded reader loaded, so that the file
is read on the other core while the database library and the checks load.
"""

from __future__ import annotations

from cetracker.files import bounded, uploads

TEMPLATE_COLUMNS = [
    "First Name",
    "Last Name",
    "License Number",
    "Course Number",
    "CE Year",
    "Course Date",
    "CE Hours",
]
FIELDS = [
    "first_name",
    "last_name",
    "license_number",
    "course_number",
    "ce_year",
    "course_date",
    "ce_hours",
]
# The template's example row (first name, last name, license number): never imported, so
# a provider who types under it instead of over it gets no failure for it.
EXAMPLE_ROW = ("Jane", "Example", "EXAMPLE")


def start_reading(data: bytes, filename: str) -> bounded.Started:
    """Begin reading a roster file, to hand to ``importer.import_roster`` (``reading=``):
    the caller goes on while a child reads. A wrong name or size raises here; anything
    wrong inside the file, when the reading is waited for."""
    return uploads.start_roster_sheet(data, filename, TEMPLATE_COLUMNS)
