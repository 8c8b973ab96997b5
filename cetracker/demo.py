"""Believable demo data (SPEC §2, issue "Foundation" §6), seeded and deterministic.

The same generator builds the small association of the quick start (about 600
members over 5 CE years) and the scale set of SPEC §8 (200,000 members, 10 years,
~4,000,000 records). Names come from Faker, everything else from one numpy
random generator, and rows go into DuckDB in bulk from pandas frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from faker import Faker

from cetracker import config, records
from cetracker import courses as course_table
from cetracker import dues as dues_table
from cetracker import members as member_table
from cetracker import policy as policies
from cetracker import providers as provider_table
from cetracker.accounts import users
from cetracker.rules import compute
from cetracker.rules.cells import name_key
from cetracker.store.db import Database

AREAS = [f"Area {i}" for i in range(1, 9)]
COUNTIES = [
    "Anderson",
    "Bexar",
    "Brazos",
    "Brown",
    "Cameron",
    "Collin",
    "Comal",
    "Dallas",
    "Denton",
    "Ector",
    "Ellis",
    "El Paso",
    "Fort Bend",
    "Galveston",
    "Grayson",
    "Gregg",
    "Guadalupe",
    "Harris",
    "Hays",
    "Hidalgo",
    "Jefferson",
    "Johnson",
    "Kaufman",
    "Lubbock",
    "McLennan",
    "Midland",
    "Montgomery",
    "Nueces",
    "Parker",
    "Potter",
    "Randall",
    "Rockwall",
    "Smith",
    "Tarrant",
    "Taylor",
    "Tom Green",
    "Travis",
    "Webb",
    "Wichita",
    "Williamson",
]
POSITIONS = [
    ("County Clerk", 0.18),
    ("District Clerk", 0.16),
    ("County and District Clerk", 0.06),
    ("Chief Deputy Clerk", 0.15),
    ("Deputy Clerk", 0.45),
]
CATEGORIES = [
    ("General", 0.55),
    ("Ethics", 0.15),
    ("Records Management", 0.18),
    ("Technology", 0.12),
]
KINDS = ["conference", "workshop", "webinar", "online course"]
COURSE_HOURS = [1, 2, 3, 4, 6, 8, 12]
# Names that printing and matching must get right; the demo keeps them visible.
SPECIAL_NAMES = [
    ("Nguyễn Thị", "Ánh"),
    ("Zoë", "Ødegård"),
    ("Łukasz", "Nowak"),
    ("José", "Núñez"),
    ("Siobhán", "O'Brien"),
]
TOPICS = {
    "General": [
        "Court Costs and Fees",
        "Jury Management",
        "Marriage Licenses and Probate",
        "Customer Service at the Counter",
        "Budget and Fee Accounting",
        "Passport Acceptance Training",
        "Child Support Filings",
        "Elections Law Update",
        "Leadership for Chief Deputies",
        "Legislative Update",
    ],
    "Ethics": [
        "Ethics for County Officials",
        "Public Integrity and Conflicts of Interest",
        "Open Meetings and Ethics",
    ],
    "Records Management": [
        "Records Retention Schedules",
        "Vital Statistics Records",
        "Open Records and the Public Information Act",
        "Preserving Historic Court Records",
    ],
    "Technology": [
        "Cybersecurity for Clerks",
        "E-filing and Digital Records",
        "Spreadsheets for the Clerk's Office",
    ],
}
PROVIDER_NAMES = [
    "V.G. Young Institute of County Government",
    "Clerks' Education Foundation",
    "State Bar Continuing Legal Education",
    "Records Management Academy",
]

DEMO_PASSWORDS = {
    "admin": "admin-demo-2026",
    "director": "director-demo-2026",
    "provider": "provider-demo-2026",
    "member": "member-demo-2026",
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    note: str


def _county_areas() -> dict[str, str]:
    return {county: AREAS[i % len(AREAS)] for i, county in enumerate(COUNTIES)}


def _written(number: int, i: int) -> str:
    """A license number as offices write them: mostly plain, some with a dash or a space
    ("100-003", "100 028"); the number as written is what every page shows."""
    if i % 50 == 3:
        return f"{number // 1000}-{number % 1000:03d}"
    if i % 50 == 28:
        return f"{number // 1000} {number % 1000:03d}"
    return str(number)


def _names(fake: Faker, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pool = min(n, 3000)
    firsts = np.array([fake.first_name() for _ in range(max(pool // 2, 50))], dtype=object)
    lasts = np.array([fake.last_name() for _ in range(max(pool, 100))], dtype=object)
    first = firsts[rng.integers(len(firsts), size=n)]
    last = lasts[rng.integers(len(lasts), size=n)]
    for i, (given, family) in enumerate(SPECIAL_NAMES[:n]):
        first[i], last[i] = given, family
    return first, last


def _attendance(
    rng: np.random.Generator, diligence: np.ndarray, per_year: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which course (index within its year) each member-year attended.

    A small association offers a handful of courses a year and a keen member goes
    to most of them; a large board offers hundreds and a member picks a few.
    """
    if per_year <= 40:
        went = rng.random((len(diligence), per_year)) < diligence[:, None]
        rows, courses = np.nonzero(went)
        return rows, courses
    count = rng.binomial(3, diligence)
    rows = np.repeat(np.arange(len(diligence)), count)
    return rows, rng.integers(per_year, size=len(rows))


def build(
    db: Database,
    *,
    members: int = 600,
    years: int = 5,
    providers: int = 4,
    courses: int = 30,
    last_year: int | None = None,
    seed: int = 2026,
    with_users: bool = True,
) -> list[DemoLogin]:
    """Fill an empty database; return the demo logins (one per role)."""
    if db.scalar("SELECT count(*) FROM members"):
        raise ValueError("the database already holds members; demo data goes into a new one")
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    today = config.today()
    last_year = last_year or today.year
    first_year = last_year - years + 1
    county_area = _county_areas()

    # -- members -------------------------------------------------------------
    first, last = _names(fake, members, rng)
    county = np.array(COUNTIES, dtype=object)[rng.integers(len(COUNTIES), size=members)]
    streets = [fake.street_address() for _ in range(min(members, 2000))]
    cities = [fake.city() for _ in range(min(members, 500))]
    positions = rng.choice([p for p, _ in POSITIONS], size=members, p=[w for _, w in POSITIONS])
    joined_days = rng.integers(0, 365 * 20, size=members)
    member_df = pd.DataFrame(
        {
            "license_number": [_written(100000 + i, i) for i in range(members)],
            "first_name": first,
            "last_name": last,
            "email": [
                f"{name_key(str(f).split()[0])}.{name_key(fam)}{i}@example.org"
                for i, (f, fam) in enumerate(zip(first, last, strict=True))
            ],
            "phone": [f"(512) 555-{1000 + (i * 37) % 9000:04d}" for i in range(members)],
            "address": [
                f"{streets[i % len(streets)]}, {cities[i % len(cities)]}, TX"
                for i in range(members)
            ],
            "county": county,
            "area": [county_area[c] for c in county],
            "position": positions,
            "status": np.where(rng.random(members) < 0.95, "active", "inactive"),
            "joined": [date(last_year - 20, 1, 1) + timedelta(days=int(d)) for d in joined_days],
        }
    )
    member_df.loc[0, "status"] = "active"

    # -- providers and courses ----------------------------------------------
    provider_df = pd.DataFrame(
        {
            "license_number": [
                f"P-{1000 + i}" if i % 4 == 2 else f"P{1000 + i}" for i in range(providers)
            ],
            "name": [
                PROVIDER_NAMES[i] if i < len(PROVIDER_NAMES) else f"{fake.company()} Training"
                for i in range(providers)
            ],
            "contact": [fake.name() for _ in range(providers)],
            "email": [f"ce{i}@provider{i}.example.org" for i in range(providers)],
            "phone": [f"(512) 555-{2000 + i:04d}" for i in range(providers)],
        }
    )
    per_year = max(1, courses // years)
    course_rows = []
    for y_index in range(years):
        year = first_year + y_index
        latest = min(date(year, 12, 20), today - timedelta(days=7))
        span = max(1, (latest - date(year, 1, 5)).days)
        for c in range(per_year):
            # Each year has one conference and one ethics course; the rest vary.
            kind = "conference" if c == 0 else KINDS[1 + int(rng.integers(len(KINDS) - 1))]
            start = date(year, 1, 5) + timedelta(days=int(rng.integers(span)))
            length = 2 if kind == "conference" else 0
            end = min(start + timedelta(days=length), latest)
            category = (
                "Ethics"
                if c == 1
                else (
                    "General"
                    if c == 0
                    else rng.choice([c for c, _ in CATEGORIES], p=[w for _, w in CATEGORIES])
                )
            )
            # A large catalogue has longer courses: members take fewer of them.
            menu = COURSE_HOURS[:5] if per_year <= 40 else [4, 6, 8, 12, 16]
            hrs = 12 if kind == "conference" else 3 if c == 1 else int(rng.choice(menu))
            title = (
                f"{year} {'Spring' if start.month < 7 else 'Fall'} Education Conference"
                if kind == "conference"
                else TOPICS[str(category)][int(rng.integers(len(TOPICS[str(category)])))]
            )
            course_rows.append(
                {
                    "course_number": f"C{year}-{c + 1:03d}",
                    "title": title,
                    "provider_index": int(rng.integers(providers)),
                    "category": category,
                    "hours": hrs,
                    "start_date": start,
                    "end_date": end,
                    "location": f"{fake.city()}, TX"
                    if kind in ("conference", "workshop")
                    else "Online",
                    "kind": kind,
                    "year_index": y_index,
                }
            )
    course_df = pd.DataFrame(course_rows)

    # -- CE records ---------------------------------------------------------
    diligence = rng.beta(5, 2, size=members)
    member_idx = np.repeat(np.arange(members), years)
    year_idx = np.tile(np.arange(years), members)
    row, course_in_year = _attendance(rng, diligence[member_idx], per_year)
    rec = pd.DataFrame({"m": member_idx[row], "c": year_idx[row] * per_year + course_in_year})
    rec = rec.drop_duplicates()
    c_hours = course_df["hours"].to_numpy()[rec["c"].to_numpy()]
    partial = rng.random(len(rec)) < 0.1
    rec_hours = np.where(partial, np.maximum(1, c_hours // 2), c_hours).astype(float)

    with db.transaction() as cur:
        member_table.upsert_many(cur, member_df)
        provider_table.upsert_many(cur, provider_df)
        member_ids = dict(cur.execute("SELECT license_number, id FROM members").fetchall())
        provider_ids = dict(cur.execute("SELECT license_number, id FROM providers").fetchall())
        course_df["provider_id"] = [
            provider_ids[provider_df["license_number"].iat[i]] for i in course_df["provider_index"]
        ]
        course_table.upsert_many(cur, course_df)
        course_ids = dict(cur.execute("SELECT course_number, id FROM courses").fetchall())
        ids_by_index = np.array([member_ids[lic] for lic in member_df["license_number"]])
        cidx = rec["c"].to_numpy()
        record_df = pd.DataFrame(
            {
                "member_id": ids_by_index[rec["m"].to_numpy()],
                "course_id": np.array([course_ids[n] for n in course_df["course_number"]])[cidx],
                "ce_year": first_year + course_df["year_index"].to_numpy()[cidx],
                "course_date": course_df["start_date"].to_numpy()[cidx],
                "hours": rec_hours,
                "category": course_df["category"].to_numpy()[cidx],
            }
        )
        record_df["title"] = None
        record_df["provider_name"] = None
        cur.register("record_df", record_df)
        records.insert_many(cur, "record_df", source="admin entry", created_by="demo")

        # A few self-reported courses waiting for approval.
        pending = pd.DataFrame(
            {
                "member_id": [
                    int(ids_by_index[(i * 41) % members]) for i in range(min(members, 12))
                ],
                "course_id": None,
                "title": "Open Records Webinar",
                "provider_name": "Attorney General's Office",
                "ce_year": last_year,
                "course_date": [
                    min(today, date(last_year, 10, 1)) - timedelta(days=i)
                    for i in range(min(members, 12))
                ],
                "hours": 2,
                "category": "General",
            }
        )
        cur.register("pending_df", pending)
        records.insert_many(
            cur, "pending_df", source="self report", status="pending", created_by="demo"
        )

        # Dues for every member and year.
        dm = np.repeat(ids_by_index, years)
        dy = np.tile(np.arange(first_year, first_year + years), members)
        status = rng.choice(
            ["paid", "partial", "unpaid", "waived"], size=len(dm), p=[0.8, 0.05, 0.12, 0.03]
        )
        due = np.where(np.isin(positions, ["County Clerk", "District Clerk"]), 75.0, 50.0)
        due = np.repeat(due, years)
        paid = np.where(status == "paid", due, np.where(status == "partial", due / 2, 0.0))
        dues_df = pd.DataFrame(
            {
                "member_id": dm,
                "year": dy,
                "amount_due": due,
                "amount_paid": paid,
                "paid_date": [
                    date(int(y), 2, 15) if s in ("paid", "partial") else None
                    for y, s in zip(dy, status, strict=True)
                ],
                "status": status,
            }
        )
        dues_table.upsert_many(cur, dues_df)

        policies.save_policy(cur, compute.Policy(first_year - 1))
        policies.save_minimum_set(cur, first_year + 2, {"Ethics": Decimal(3)})
        for name in ("record_df", "pending_df"):
            cur.unregister(name)

    if not with_users:
        return []
    member_lic = member_df["license_number"].iloc[0]
    provider_lic = provider_df["license_number"].iloc[0]
    logins = [
        DemoLogin("admin", "admin", DEMO_PASSWORDS["admin"], "association staff"),
        DemoLogin("director", "director", DEMO_PASSWORDS["director"], "regional director, Area 3"),
        DemoLogin(
            "provider",
            "provider",
            DEMO_PASSWORDS["provider"],
            f"{provider_df['name'].iloc[0]} ({provider_lic})",
        ),
        DemoLogin(
            "member",
            "member",
            DEMO_PASSWORDS["member"],
            f"{member_df['first_name'].iloc[0]} {member_df['last_name'].iloc[0]} ({member_lic})",
        ),
    ]
    users.add_user(
        db, "admin", DEMO_PASSWORDS["admin"], role="admin", email="staff@example.org", actor="demo"
    )
    users.add_user(
        db,
        "director",
        DEMO_PASSWORDS["director"],
        role="director",
        email="director@example.org",
        scope_areas=("Area 3",),
        actor="demo",
    )
    users.add_user(
        db,
        "provider",
        DEMO_PASSWORDS["provider"],
        role="provider",
        provider_license=provider_lic,
        email=provider_df["email"].iloc[0],
        actor="demo",
    )
    users.add_user(
        db,
        "member",
        DEMO_PASSWORDS["member"],
        role="member",
        member_license=member_lic,
        email=member_df["email"].iloc[0],
        actor="demo",
    )
    return logins
