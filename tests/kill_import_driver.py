"""Run a roster import that stops for good after writing its rows, before it commits.

Used by test_killed_import_leaves_nothing, which kills this process at that point.
"""

import sys
import time
from datetime import date

from cetracker import importer, providers
from cetracker.store.db import Database

original = importer._store_records


def store_then_hang(*args, **kwargs):
    original(*args, **kwargs)
    print("records written, not committed", flush=True)
    time.sleep(120)


importer._store_records = store_then_hang
db = Database(sys.argv[1])
roster = open(sys.argv[2], "rb").read()
importer.import_roster(
    db,
    roster,
    "r.csv",
    provider_id=providers.provider_by_license(db, "P-1"),
    uploaded_by="driver",
    today=date(2024, 12, 31),
)
