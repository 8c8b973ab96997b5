"""Server-side login sessions (SPEC §8): the login cookie names a row of ``login_sessions``.

A login starts a session and the browser keeps a cookie that names it: a JWT (HS256,
signed with the server secret) carrying the session's random id, the username and an
expiry. The signature turns away forged and foreign cookies before the database is
asked; the row is what makes logout real. Logout ends the row; a password change, a
reset or disabling the account ends every row of that user. A copy of the cookie
taken before then signs nobody in afterwards.

Only the SHA-256 of a session id is stored, so a backup or a copy of the database holds
no cookie that works. This module owns the ``login_sessions`` table.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from cetracker import audit, config
from cetracker.errors import CetrackerError
from cetracker.store.db import Database

SESSION_HOURS = 24
ALGORITHM = "HS256"
# A real cookie is ~200 characters; anything far longer is not ours and is not parsed.
MAX_COOKIE_LENGTH = 2048
# Ended and expired rows are kept this long (the Audit Log says who was signed in when).
KEEP_ENDED_DAYS = 30


class CookieRefused(CetrackerError):
    """A login cookie that signs nobody in; ``reason`` says why, for the Audit Log."""

    def __init__(self, reason: str, session: str = "") -> None:
        super().__init__(f"The login cookie was refused: {reason}.")
        self.reason = reason
        self.session = session  # the stored key's first characters, when the cookie named one


@dataclass(frozen=True)
class Session:
    """A live session, as a signed-in browser holds it."""

    token: str  # the cookie's value
    username: str
    expires_at: datetime


def _signing_key() -> bytes:
    """The cookies' own key, derived from the server secret: 32 bytes whatever the secret's
    length, and never the key that signs certificate codes or reset codes."""
    return hashlib.sha256(b"cetracker login cookie\x00" + config.secret_key().encode()).digest()


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(db: Database, username: str, *, now: datetime | None = None) -> Session:
    """Open a session for ``username`` (who just proved their password) and make its cookie."""
    now = now or datetime.now()
    expires = now + timedelta(hours=SESSION_HOURS)
    session_id = secrets.token_urlsafe(32)
    with db.transaction(reports=False) as cur:
        # Keeping the table small: rows long over are of no use to anyone.
        cur.execute(
            "DELETE FROM login_sessions WHERE coalesce(ended_at, expires_at) < ?",
            [now - timedelta(days=KEEP_ENDED_DAYS)],
        )
        cur.execute(
            "INSERT INTO login_sessions (id, username, started_at, expires_at) VALUES (?, ?, ?, ?)",
            [_key(session_id), username, now, expires],
        )
    token = jwt.encode(
        {"sid": session_id, "sub": username, "exp": int(expires.timestamp())},
        _signing_key(),
        algorithm=ALGORITHM,
    )
    return Session(token, username, expires)


def _claims(token: str, now: datetime) -> dict[str, Any]:
    """The cookie's claims, once its signature and expiry hold; otherwise ``CookieRefused``."""
    if not token.isascii() or len(token) > MAX_COOKIE_LENGTH:
        raise CookieRefused("not a login token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise CookieRefused("not a login token") from exc
    if header.get("alg") != ALGORITHM:
        # "alg: none" above all: a token that asks not to be checked is never accepted.
        raise CookieRefused(f"signing algorithm {str(header.get('alg'))[:20]!r} refused")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],
            options={"require": ["sid", "sub", "exp"], "verify_exp": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise CookieRefused("signature does not match (altered, or from another server)") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise CookieRefused("not a login token of CE Tracker") from exc
    except jwt.InvalidTokenError as exc:
        raise CookieRefused("not a login token") from exc
    if not isinstance(claims["sid"], str) or not isinstance(claims["sub"], str):
        raise CookieRefused("not a login token of CE Tracker")
    if not isinstance(claims["exp"], int | float) or claims["exp"] < now.timestamp():
        raise CookieRefused("expired")
    return claims


def username_for(db: Database, token: str, *, now: datetime | None = None) -> str:
    """Whose live session the cookie names; ``CookieRefused`` (with the reason) otherwise."""
    now = now or datetime.now()
    claims = _claims(token, now)
    key = _key(claims["sid"])
    row = db.one(
        "SELECT username, expires_at, ended_at, ended_why FROM login_sessions WHERE id = ?",
        [key],
    )
    if row is None:
        raise CookieRefused("no such session", key[:12])
    username, expires_at, ended_at, ended_why = row
    if username != claims["sub"]:
        raise CookieRefused("the session is another user's", key[:12])
    if ended_at is not None:
        raise CookieRefused(f"the session ended ({ended_why})", key[:12])
    if expires_at < now:
        raise CookieRefused("expired", key[:12])
    return str(username)


def is_live(db: Database, token: str, *, now: datetime | None = None) -> bool:
    try:
        username_for(db, token, now=now)
    except CookieRefused:
        return False
    return True


def end(db: Database, token: str, why: str) -> None:
    """End the session the cookie names (logout), audited under its user's name.

    A cookie that names no live session is let be.
    """
    try:
        claims = jwt.decode(
            token, _signing_key(), algorithms=[ALGORITHM], options={"verify_exp": False}
        )
    except jwt.InvalidTokenError:
        return
    key = _key(str(claims.get("sid")))
    with db.transaction(reports=False) as cur:
        row = cur.execute(
            "SELECT username FROM login_sessions WHERE id = ? AND ended_at IS NULL", [key]
        ).fetchone()
        if row is None:
            return
        cur.execute(
            "UPDATE login_sessions SET ended_at = ?, ended_why = ? WHERE id = ?",
            [datetime.now(), why, key],
        )
        audit.record(cur, row[0], why, "user", row[0])


def end_all(cur: Any, username: str, why: str) -> None:
    """End every session of ``username``, inside the caller's transaction (reset, disable)."""
    cur.execute(
        "UPDATE login_sessions SET ended_at = ?, ended_why = ? "
        "WHERE username = ? AND ended_at IS NULL",
        [datetime.now(), why, username],
    )


def live_count(db: Database, username: str) -> int:
    """How many sessions of ``username`` could still sign a browser in."""
    return int(
        db.scalar(
            "SELECT count(*) FROM login_sessions "
            "WHERE username = ? AND ended_at IS NULL AND expires_at > ?",
            [username, datetime.now()],
        )
    )


def record_refusal(db: Database, refused: CookieRefused, client: str | None) -> None:
    """Put a refused cookie in the Audit Log: why, and from which address (never the cookie)."""
    audit.log(
        db,
        "(anonymous)",
        "login cookie refused",
        "session",
        refused.session,
        {"reason": refused.reason, "client": client or "local"},
    )
