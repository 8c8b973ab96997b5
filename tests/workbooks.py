"""Build real .xlsx workbooks for tests with openpyxl."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # typed text, as a person's cell would be
    book.save(path)
    return path


OFFICE = {
    "Members": [
        [
            "License Number",
            "First Name",
            "Last Name",
            "Email",
            "Phone",
            "Address",
            "County",
            "Area",
            "Position",
            "Status",
            "Joined",
        ],
        [
            "1001",
            "Ana",
            "Núñez",
            "ana@example.org",
            "",
            "",
            "Travis",
            "Area 3",
            "County Clerk",
            "active",
            "2015-01-01",
        ],
        [
            "1002",
            "Zoë",
            "Ødegård",
            "zoe@example.org",
            "",
            "",
            "Harris",
            "Area 6",
            "Deputy Clerk",
            "Active",
            "",
        ],
        [
            1003,
            "Bob",
            "=cmd|' /C calc'!A0",
            "",
            "",
            "",
            "Travis",
            "Area 3",
            "Deputy Clerk",
            "inactive",
            "",
        ],
    ],
    "Providers": [
        ["License Number", "Name", "Contact", "Email", "Phone"],
        ["P-1", "Clerks' Education Foundation", "Dana", "ce@example.org", ""],
    ],
    "Courses": [
        [
            "Course Number",
            "Title",
            "Provider License",
            "Category",
            "Hours",
            "Start Date",
            "End Date",
            "Location",
            "Kind",
        ],
        [
            "C1",
            "Winter Conference",
            "P1",
            "General",
            12,
            "2023-02-01",
            "2023-02-03",
            "Austin",
            "Conference",
        ],
        [
            "C2",
            "Ethics for Clerks",
            "P-1",
            "Ethics",
            3,
            "2024-03-01",
            "2024-03-01",
            "Online",
            "webinar",
        ],
        ["C3", "Records Day", "P-1", "General", 16, "2024-05-01", "2024-05-02", "Waco", "workshop"],
    ],
    "Policy": [
        ["Effective Year", "Required Hours", "Carryover Cap", "Year Start Month"],
        [2000, 20, 10, 1],
    ],
    "Category Minimums": [["Effective Year", "Category", "Minimum Hours"], [2024, "Ethics", 3]],
    "CE Records": [
        [
            "License Number",
            "Course Number",
            "CE Year",
            "Course Date",
            "Hours",
            "Title",
            "Provider",
            "Category",
        ],
        ["1001", "C1", 2023, "2023-02-01", 12, "", "", ""],
        ["1001", "", 2023, "2023-06-10", 14.5, "Open Records Seminar", "AG Office", "General"],
        ["1001", "C2", 2024, "2024-03-01", 3, "", "", ""],
        ["1001", "C3", 2024, "2024-05-01", 10, "", "", ""],
        ["1002", "C3", 2024, "2024-05-01", 16, "", "", ""],
        ["1003", "C3", 2024, "2024-05-01", 16, "", "", ""],
        ["1003", "C2", 2024, "2024-03-01", 3, "", "", ""],
    ],
    "Dues": [
        ["License Number", "Year", "Amount Due", "Amount Paid", "Paid Date", "Status"],
        ["1001", 2024, 50, 50, "2024-02-01", ""],
        ["1002", 2024, 50, 0, "", ""],
    ],
}
