"""Accounts, roles and scopes (SPEC §1, §8): users live in the database with bcrypt hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt

from cetracker import audit, mail
from cetracker.accounts import sessions
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.filters import Scope
from cetracker.rules.cells import license_key
from cetracker.store.db import Database

ROLES = ("admin", "director", "provider", "member")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72
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
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        # bcrypt reads no further (and its library refuses longer ones outright).
        raise CetrackerError(
            f"The password must be at most {MAX_PASSWORD_BYTES} bytes long "
            f"({MAX_PASSWORD_BYTES} plain letters; accented letters count two)."
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
    role: str | None,
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
    if role is None:
        raise CetrackerError(f"Choose the account's role: {', '.join(ROLES)}.")
    if role not in ROLES:
        raise CetrackerError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    check_password_rules(username, password)
    member_id = provider_id = None
    if role == "member":
        if not member_license:
            raise CetrackerError("A member account needs the member's license number (--member).")
        member_id = db.scalar(
            "SELECT id FROM members WHERE license_key = ?", [license_key(member_license)]
        )
        if member_id is None:
            raise CetrackerError(f"No member holds license number {member_license}.")
    if role == "provider":
        if not provider_license:
            raise CetrackerError(
                "A provider account needs the provider license number (--provider)."
            )
        provider_id = db.scalar(
            "SELECT id FROM providers WHERE license_key = ?", [license_key(provider_license)]
        )
        if provider_id is None:
            raise CetrackerError(f"No provider holds license number {provider_license}.")
    with db.transaction(tracked=True) as cur:  # users: nothing the standing reads
        if cur.execute(
            "SELECT 1 FROM users WHERE lower(username) = lower(?)", [username]
        ).fetchone():
            raise CetrackerError(f"The username {username!r} is taken; choose another.")
        held = (
            cur.execute(
                "SELECT min(username) FROM users WHERE member_id = ?", [member_id]
            ).fetchone()
            if member_id is not None
            else None
        )
        if held is not None and held[0] is not None:
            # One member, one account: a second would read and report the same record.
            raise CetrackerError(
                f"License number {member_license} has an account already ({held[0]}). Reset "
                "its password, or enable it, instead of adding another."
            )
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


def canonical_username(db: Database, typed: str) -> str | None:
    """The account's username as stored, for a name typed in any case (the library lowers it)."""
    found = db.scalar("SELECT username FROM users WHERE username = ?", [typed])
    if found is None:
        found = db.scalar(
            "SELECT min(username) FROM users WHERE lower(username) = lower(?)", [typed]
        )
    return None if found is None else str(found)


def load_user(db: Database, username: str) -> User | None:
    row = db.one(
        """SELECT username, role, email, member_id, provider_id, scope_areas, scope_counties,
                  disabled
           FROM users WHERE username = ?""",
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
        display_name=_display_name(db, row[0], row[3], row[4]),
    )


def _display_name(db: Database, username: str, member_id: int | None, provider: int | None) -> str:
    """The member's or the provider's name, else the username. (One row by its id: on a
    PostgreSQL server a join would read the whole members table on every page run.)"""
    name = None
    if member_id is not None:
        name = db.scalar(
            "SELECT first_name || ' ' || last_name FROM members WHERE id = ?", [member_id]
        )
    if name is None and provider is not None:
        name = db.scalar("SELECT name FROM providers WHERE id = ?", [provider])
    return str(name) if name is not None else username


def account(db: Database, username: str) -> dict[str, Any] | None:
    """An enabled account in the shape streamlit-authenticator expects, or None.

    Looked up one at a time, as a login needs it: a board's 200,000 member accounts
    are never all loaded (nor copied for every page run). A lock after failed logins
    is checked before the password is (``locked_until``), for any name typed.
    """
    # The library lowers what was typed: the key first (indexed), then any case.
    for match in ("u.username = ?", "lower(u.username) = lower(?)"):
        row = db.one(
            f"""SELECT u.password_hash, u.email, u.role, u.username, u.member_id, u.provider_id
                FROM users u
                WHERE NOT u.disabled AND {match}""",  # noqa: S608 - one of two fixed clauses
            [username],
        )
        if row is not None:
            break
    else:
        return None
    password_hash, email, role, name, member_id, provider_id = row
    return {
        "email": email or "",
        "name": _display_name(db, name, member_id, provider_id),
        "password": password_hash,
        "roles": [role],
    }


def _throttle_name(typed: str) -> str:
    # Bounded: the key of a row, whatever length was typed.
    return typed.strip().lower()[:200]


def locked_until(db: Database, typed: str, now: datetime | None = None) -> datetime | None:
    """Until when logins with this name are refused, or None; the same for names without
    an account, so that the answer tells nobody which names exist."""
    until = db.scalar(
        "SELECT locked_until FROM login_failures WHERE name = ?", [_throttle_name(typed)]
    )
    return until if until is not None and until > (now or datetime.now()) else None


def locked_message(until: datetime, now: datetime | None = None) -> str:
    """What a locked login is told (the same words whether or not the name has an account)."""
    now = now or datetime.now()
    when = f"{until:%H:%M}" if until.date() == now.date() else f"{until:%m/%d/%Y %H:%M}"
    return (
        f"This account is locked until {when} after {MAX_FAILED_LOGINS} failed logins. "
        "Try again then, or ask an administrator to reset the password."
    )


def record_login(
    db: Database, typed: str, success: bool, *, now: datetime | None = None
) -> datetime | None:
    """Audit a login; after repeated failures lock the name typed for a while.

    Failures count by the name typed, account or not. Returns the lock's end when this
    failure set one.
    """
    now = now or datetime.now()
    name = _throttle_name(typed)
    locked = None
    with db.transaction(reports=False) as cur:
        if success:
            cur.execute("DELETE FROM login_failures WHERE name = ?", [name])
        else:
            row = cur.execute(
                "SELECT failures, last_failed_at FROM login_failures WHERE name = ?", [name]
            ).fetchone()
            # Failures further apart than a lock lasts do not add up.
            recent = row is not None and row[1] > now - timedelta(minutes=LOCK_MINUTES)
            failures = (row[0] if row is not None and recent else 0) + 1
            if failures >= MAX_FAILED_LOGINS:
                locked, failures = now + timedelta(minutes=LOCK_MINUTES), 0
            if row is None:
                cur.execute(
                    "DELETE FROM login_failures WHERE last_failed_at < ? AND "
                    "coalesce(locked_until, last_failed_at) < ?",
                    [now - timedelta(days=1), now],
                )
                cur.execute(
                    "INSERT INTO login_failures (name, failures, last_failed_at, locked_until)"
                    " VALUES (?, ?, ?, ?)",
                    [name, failures, now, locked],
                )
            else:
                cur.execute(
                    "UPDATE login_failures SET failures = ?, last_failed_at = ?,"
                    " locked_until = coalesce(?, locked_until) WHERE name = ?",
                    [failures, now, locked, name],
                )
        audit.record(
            cur,
            typed.strip()[:200] or "(blank)",
            "login" if success else "login failed",
            "user",
            typed.strip()[:200],
            {"locked until": f"{locked:%Y-%m-%d %H:%M}"} if locked else None,
        )
    return locked


def verify_password(db: Database, username: str, password: str) -> bool:
    row = db.one("SELECT password_hash, disabled FROM users WHERE username = ?", [username])
    if row is None or row[1] or len(password.encode()) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(password.encode(), row[0].encode())


def disabled_with_password(db: Database, typed: str, password: str) -> bool:
    """Whether ``typed`` names a disabled account and ``password`` is its password (then
    its owner is told the account is disabled, not that the password is wrong). A name
    with no account takes a password check as long (``spend_password_check``)."""
    username = canonical_username(db, typed.strip())
    row = (
        None
        if username is None
        else db.one("SELECT password_hash FROM users WHERE username = ? AND disabled", [username])
    )
    if row is None or len(password.encode()) > MAX_PASSWORD_BYTES:
        spend_password_check(password)
        return False
    return bool(bcrypt.checkpw(password.encode(), row[0].encode()))


DISABLED_MESSAGE = (
    "This account is disabled. Ask the association office to enable it again; until then it "
    "cannot sign in."
)

_UNUSED_HASH: list[bytes] = []


def spend_password_check(password: str) -> None:
    """Check the password against no account, as long as a real check takes.

    A name without an account is otherwise answered at once and a real one after bcrypt's
    ~50 ms: the time alone would tell which names exist.
    """
    if not _UNUSED_HASH:
        _UNUSED_HASH.append(bcrypt.hashpw(b"no account has this", bcrypt.gensalt(rounds=10)))
    bcrypt.checkpw(password.encode()[:72], _UNUSED_HASH[0])


def change_password(db: Database, username: str, current: str, new: str) -> None:
    """A signed-in user's own change: needs the current password; signs out every session."""
    if not verify_password(db, username, current):
        raise CetrackerError("The current password is not right; nothing was changed.")
    if new == current:
        raise CetrackerError("Choose a new password that differs from the current one.")
    check_password_rules(username, new)
    with db.transaction() as cur:
        cur.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            [hash_password(new), username],
        )
        sessions.end_all(cur, username, "password changed")
        audit.record(cur, username, "password changed", "user", username)


def list_users(db: Database) -> list[tuple[Any, ...]]:
    return db.rows(
        """SELECT u.username, u.role, u.email, coalesce(m.license_number, p.license_number, ''),
                  u.scope_areas, u.scope_counties, u.disabled
           FROM users u LEFT JOIN members m ON m.id = u.member_id
           LEFT JOIN providers p ON p.id = u.provider_id ORDER BY u.username""",
        bulk=True,  # every account, and on a server every member (the join is not passed on)
    )


SIGNUP_REFUSED = (
    "We could not create an account with these details. Check the license number (and the "
    "email on file), or contact the association if you already have an account."
)


def sign_up_provider(
    db: Database, provider_license: str, username: str, password: str, email: str
) -> None:
    """Provider "Sign Up": only an existing provider license with no account yet.

    Wrong and taken numbers get the same answer, so the form reveals nothing about
    which providers exist or have accounts.
    """
    key = license_key(provider_license)
    row = db.one(
        """SELECT p.license_number, (SELECT count(*) FROM users u WHERE u.provider_id = p.id)
           FROM providers p WHERE p.license_key = ?""",
        [key],
    )
    if not key or row is None or row[1]:
        audit.log(db, username or "(blank)", "provider sign-up refused", "provider", key)
        raise CetrackerError(SIGNUP_REFUSED)
    if not mail.EMAIL.match(email.strip()):
        raise CetrackerError("Enter the email address where the provider can be reached.")
    add_user(
        db,
        username,
        password,
        role="provider",
        email=email.strip(),
        provider_license=row[0],
        actor=username,
    )


def activate_member(
    db: Database, member_license: str, email: str, username: str, password: str
) -> None:
    """A member activates their account with their license number and the email on file."""
    key = license_key(member_license)
    row = db.one(
        """SELECT m.license_number, (SELECT count(*) FROM users u WHERE u.member_id = m.id)
           FROM members m
           WHERE m.license_key = ?
             AND lower(trim(m.email)) = lower(trim(?)) AND m.status = 'active'""",
        [key, email],
    )
    if not key or not email.strip() or row is None or row[1]:
        audit.log(db, username or "(blank)", "member activation refused", "member", key)
        raise CetrackerError(SIGNUP_REFUSED)
    add_user(
        db,
        username,
        password,
        role="member",
        email=email.strip(),
        member_license=row[0],
        actor=username,
    )


def _require_user(cur: Any, username: str) -> None:
    if not cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise CetrackerError(f"There is no account named {username!r}.")


def set_disabled(db: Database, username: str, disabled: bool, *, actor: str) -> None:
    with db.transaction(tracked=True) as cur:  # users: nothing the standing reads
        _require_user(cur, username)
        if disabled and username == actor:
            raise CetrackerError("You cannot disable your own account.")
        cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        if disabled:
            sessions.end_all(cur, username, "account disabled")
        audit.record(cur, actor, "user disabled" if disabled else "user enabled", "user", username)


def reset_password(db: Database, username: str, password: str, *, actor: str) -> None:
    """An administrator's reset (no email needed, or a reset code's): lifts a lock after
    failed logins and signs the account out of every browser."""
    check_password_rules(username, password)
    with db.transaction(tracked=True) as cur:  # users: nothing the standing reads
        _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            [hash_password(password), username],
        )
        cur.execute("DELETE FROM login_failures WHERE name = ?", [_throttle_name(username)])
        sessions.end_all(cur, username, "password reset")
        audit.record(cur, actor, "password reset", "user", username)


def change_role(
    db: Database,
    username: str,
    role: str,
    *,
    actor: str,
    scope_areas: tuple[str, ...] = (),
    scope_counties: tuple[str, ...] = (),
) -> None:
    """Change a staff account's role and a director's scope (members and providers keep theirs)."""
    if role not in ("admin", "director"):
        raise CetrackerError("Only staff roles can be changed here: admin or director.")
    with db.transaction(tracked=True) as cur:  # users: nothing the standing reads
        row = cur.execute(
            "SELECT role, scope_areas, scope_counties FROM users WHERE username = ?", [username]
        ).fetchone()
        if row is None:
            raise CetrackerError(f"There is no account named {username!r}.")
        if row[0] not in ("admin", "director"):
            raise CetrackerError("Member and provider accounts keep their role.")
        if username == actor and role != "admin":
            raise CetrackerError("You cannot take away your own admin role.")
        cur.execute(
            "UPDATE users SET role = ?, scope_areas = ?, scope_counties = ? WHERE username = ?",
            [
                role,
                "|".join(scope_areas) if role == "director" else "",
                "|".join(scope_counties) if role == "director" else "",
                username,
            ],
        )
        audit.record(
            cur,
            actor,
            "user role changed",
            "user",
            username,
            {
                "before": {"role": row[0], "areas": row[1], "counties": row[2]},
                "after": {"role": role, "areas": scope_areas, "counties": scope_counties},
            },
        )


RESET_MINUTES = 30
RESET_SENT = (
    "If an account with that username or email exists and has an email address, a "
    "reset code is on its way. It works for 30 minutes."
)


def _reset_signature(username: str, expires: int, password_hash: str) -> bytes:
    import hashlib
    import hmac

    from cetracker import config

    payload = f"{username}|{expires}|{password_hash}".encode()
    return hmac.new(config.secret_key().encode(), payload, hashlib.sha256).digest()[:6]


def make_reset_code(db: Database, username: str, now: datetime | None = None) -> str:
    """A one-time code: it expires, and it dies once the password changes (it signs the hash)."""
    import base64

    password_hash = db.scalar("SELECT password_hash FROM users WHERE username = ?", [username])
    if password_hash is None:
        raise CetrackerError(f"There is no account named {username!r}.")
    expires = int(((now or datetime.now()) + timedelta(minutes=RESET_MINUTES)).timestamp())
    raw = expires.to_bytes(5, "big") + _reset_signature(username, expires, password_hash)
    code = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(code[i : i + 6] for i in range(0, len(code), 6))


def request_reset(db: Database, who: str, smtp: Any) -> None:
    """Email a reset code to the account's address (SMTP configured); says the same either way."""
    if smtp is None:
        raise CetrackerError(
            "Password reset by email is not set up here. Ask the association "
            "office to reset your password."
        )
    row = db.one(
        "SELECT username, email FROM users WHERE NOT disabled AND (lower(username) ="
        " lower(?) OR lower(email) = lower(?)) AND email IS NOT NULL AND email <> ''"
        " LIMIT 1",
        [who.strip(), who.strip()],
    )
    audit.log(
        db, who.strip() or "(blank)", "password reset requested", "user", row[0] if row else ""
    )
    if row is None:
        return
    code = make_reset_code(db, row[0])
    mail.send_plain_email(
        smtp,
        row[1],
        "CE Tracker password reset",
        f"Your CE Tracker password reset code for {row[0]} is:\n\n{code}\n\n"
        f"It works for {RESET_MINUTES} minutes. If you did not ask for it, "
        "ignore this email.",
    )


def reset_with_code(
    db: Database, username: str, code: str, new_password: str, now: datetime | None = None
) -> None:
    import base64
    import hmac

    refused = CetrackerError("That reset code is not valid or has expired. Ask for a new one.")
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (ValueError, TypeError) as exc:
        raise refused from exc
    if len(raw) != 11:
        raise refused
    expires, signature = int.from_bytes(raw[:5], "big"), raw[5:]
    password_hash = db.scalar("SELECT password_hash FROM users WHERE username = ?", [username])
    if password_hash is None or expires < (now or datetime.now()).timestamp():
        raise refused
    if not hmac.compare_digest(signature, _reset_signature(username, expires, password_hash)):
        raise refused
    reset_password(db, username, new_password, actor=username)
