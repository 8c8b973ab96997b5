"""Providers: a provider's own profile and courses."""

from __future__ import annotations

from typing import Any

from cetracker.auth import User
from cetracker.db import Database
from cetracker.errors import NotAllowed


def provider_profile(db: Database, user: User) -> dict[str, Any]:
    if user.provider_id is None:
        raise NotAllowed("This account is not linked to a course provider.")
    row = db.one(
        "SELECT license_number, name, contact, email, phone FROM providers WHERE id = ?",
        [user.provider_id],
    )
    if row is None:
        raise NotAllowed("This account's provider no longer exists.")
    return dict(zip(["license_number", "name", "contact", "email", "phone"], row, strict=True))
