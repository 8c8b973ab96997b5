"""A member's own data as one zip: records (CSV and Excel) and certificate files."""

from __future__ import annotations

import io
import zipfile

from cetracker import records
from cetracker.accounts.users import User
from cetracker.files import exports
from cetracker.store.db import Database


def my_data_zip(db: Database, user: User) -> bytes:
    """All my records (CSV and Excel) and my certificate files, as one zip."""
    frame = records.records_frame(db, user).drop(columns=["id"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("my-ce-records.csv", exports.to_csv(frame))
        archive.writestr("my-ce-records.xlsx", exports.to_xlsx(frame, "My CE records"))
        for record_id, name, data in db.rows(
            "SELECT id, certificate_name, certificate FROM ce_records"
            " WHERE member_id = ? AND certificate IS NOT NULL",
            [user.member_id],
        ):
            archive.writestr(f"certificates/{record_id}-{name or 'certificate'}", bytes(data))
    return out.getvalue()
