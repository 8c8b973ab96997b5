"""Accounts, roles and scopes (SPEC §1, §8): users live in the database with bcrypt hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt

from cetracker import audit
from cetracker.db import Database
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.filters import Scope

ROLES = ("admin", "director", "provider", "member")
MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


@dataclass(frozen=True)
class User:
    """The signed-in person, as every page and query sees them."""

    username: str
    role: str
    email: str | None = None
    member_id: int | None = None
    provider_id: int | None = None
    scope: Scope = Scope()
    display_name: str = ""

    def require(self, *roles: str) -> None:
        """The server-side guard every page calls before it does anything."""
        if self.role not in roles:
            raise NotAllowed("You are not allowed to open this page with your account.")


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(v for v in (text or "").split("|") if v)


def check_password_rules(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CetrackerError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
        )
    if password.strip().lower() == username.strip().lower():
        raise CetrackerError("The password must not be the same as the username.")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def add_user(
    db: Database,
    username: str,
    password: str,
    *,
    role: str,
    email: str | None = None,
    member_license: str | None = None,
    provider_license: str | None = None,
    scope_areas: tuple[str, ...] = (),
    scope_counties: tuple[str, ...] = (),
    actor: str = "system",
) -> None:
    """Create an account; the link to a member or provider is by license number."""
    username = username.strip()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise CetrackerError("Choose a username of letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise CetrackerError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    check_password_rules(username, password)
    member_id = provider_id = None
    if role == "member":
        if not member_license:
            raise CetrackerError("A member account needs the member's license number (--member).")
        member_id = db.scalar("SELECT id FROM members WHERE license_number = ?", [member_license])
        if member_id is None:
            raise CetrackerError(f"No member holds license number {member_license}.")
    if role == "provider":
        if not provider_license:
            raise CetrackerError(
                "A provider account needs the provider license number (--provider)."
            )
        provider_id = db.scalar(
            "SELECT id FROM providers WHERE license_number = ?", [provider_license]
        )
        if provider_id is None:
            raise CetrackerError(f"No provider holds license number {provider_license}.")
    with db.transaction() as cur:
        if cur.execute(
            "SELECT 1 FROM users WHERE lower(username) = lower(?)", [username]
        ).fetchone():
            raise CetrackerError(f"The username {username!r} is taken; choose another.")
        cur.execute(
            """INSERT INTO users (username, password_hash, email, role, member_id, provider_id,
                                  scope_areas, scope_counties)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                username,
                hash_password(password),
                email,
                role,
                member_id,
                provider_id,
                "|".join(scope_areas),
                "|".join(scope_counties),
            ],
        )
        audit.record(
            cur,
            actor,
            "user added",
            "user",
            username,
            {"role": role, "scope_areas": scope_areas, "scope_counties": scope_counties},
        )


def load_user(db: Database, username: str) -> User | None:
    row = db.one(
        """SELECT u.username, u.role, u.email, u.member_id, u.provider_id, u.scope_areas,
                  u.scope_counties, u.disabled,
                  coalesce(m.first_name || ' ' || m.last_name, p.name, u.username)
           FROM users u
           LEFT JOIN members m ON m.id = u.member_id
           LEFT JOIN providers p ON p.id = u.provider_id
           WHERE u.username = ?""",
        [username],
    )
    if row is None or row[7]:
        return None
    return User(
        username=row[0],
        role=row[1],
        email=row[2],
        member_id=row[3],
        provider_id=row[4],
        scope=Scope(_split(row[5]), _split(row[6])),
        display_name=row[8],
    )


def credentials(db: Database) -> dict[str, Any]:
    """Enabled, unlocked accounts in the shape streamlit-authenticator expects (a fresh dict)."""
    now = datetime.now()
    users: dict[str, Any] = {}
    for username, password_hash, email, role, locked_until, name in db.rows(
        """SELECT u.username, u.password_hash, u.email, u.role, u.locked_until,
                  coalesce(m.first_name || ' ' || m.last_name, p.name, u.username)
           FROM users u
           LEFT JOIN members m ON m.id = u.member_id
           LEFT JOIN providers p ON p.id = u.provider_id
           WHERE NOT u.disabled"""
    ):
        if locked_until is not None and locked_until > now:
            continue
        users[username] = {
            "email": email or "",
            "name": name,
            "password": password_hash,
            "roles": [role],
        }
    return {"usernames": users}


def record_login(db: Database, username: str, success: bool) -> None:
    """Audit a login; lock an account for a while after repeated failures."""
    with db.transaction() as cur:
        if success:
            cur.execute("UPDATE users SET failed_logins = 0 WHERE username = ?", [username])
        else:
            cur.execute(
                "UPDATE users SET failed_logins = coalesce(failed_logins, 0) + 1 WHERE username = ?",
                [username],
            )
            cur.execute(
                """UPDATE users SET locked_until = ?, failed_logins = 0
                   WHERE username = ? AND failed_logins >= ?""",
                [datetime.now() + timedelta(minutes=LOCK_MINUTES), username, MAX_FAILED_LOGINS],
            )
        audit.record(
            cur, username or "(blank)", "login" if success else "login failed", "user", username
        )


def verify_password(db: Database, username: str, password: str) -> bool:
    row = db.one("SELECT password_hash, disabled FROM users WHERE username = ?", [username])
    if row is None or row[1]:
        return False
    return bcrypt.checkpw(password.encode(), row[0].encode())


def list_users(db: Database) -> list[tuple[Any, ...]]:
    return db.rows(
        """SELECT u.username, u.role, u.email, coalesce(m.license_number, p.license_number, ''),
                  u.scope_areas, u.scope_counties, u.disabled
           FROM users u LEFT JOIN members m ON m.id = u.member_id
           LEFT JOIN providers p ON p.id = u.provider_id ORDER BY u.username"""
    )
