"""Settings: the only module that reads the environment and secrets files.

Every setting has a default and a line of help (see ``SETTINGS``); a test checks
that the README documents each of them.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cetracker.errors import CetrackerError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "data" / "cetracker.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
GENERATED_KEY_FILE = ROOT / "data" / ".secret_key"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = [
    Setting("CETRACKER_DB", str(DEFAULT_DB), "Database file (or postgresql:// URL) to use."),
    Setting(
        "CETRACKER_ASSOCIATION",
        "County and District Clerks' Association",
        "Association name printed on pages and certificates.",
    ),
    Setting(
        "CETRACKER_BACKUP_DIR",
        "",
        "Folder the Backup page writes to; empty = backups/ beside the database file "
        "(data/backups for PostgreSQL).",
    ),
    Setting("CETRACKER_MAX_UPLOAD_MB", "20", "Largest roster or certificate file accepted, in MB."),
    Setting(
        "CETRACKER_SECRET_KEY",
        "",
        "Secret for login cookies and certificate codes; generated once into "
        "data/.secret_key when not set here or in .streamlit/secrets.toml.",
    ),
    Setting(
        "CETRACKER_LOGIN_SLEEP",
        "0.5",
        "Seconds the login form waits for the browser's login cookie.",
    ),
    Setting("CETRACKER_SMTP_HOST", "", "Mail server for emailing messages; empty = in-app only."),
    Setting("CETRACKER_SMTP_PORT", "587", "Mail server port."),
    Setting("CETRACKER_SMTP_SECURITY", "starttls", "starttls, ssl or none."),
    Setting("CETRACKER_SMTP_USER", "", "Mail server user name (empty: no login)."),
    Setting("CETRACKER_SMTP_PASSWORD", "", "Mail server password: in secrets, never in the repo."),
    Setting("CETRACKER_SMTP_FROM", "", "Sender address of the emails."),
    Setting(
        "CETRACKER_BASE_URL",
        "",
        "Public address of the app (https://ce.example.org), used in certificate QR codes; "
        "unset, the app uses the address its admin is browsing and says so.",
    ),
    Setting(
        "CETRACKER_SCHEDULER_MINUTES",
        "5",
        "Minutes between the app's checks for due reminders and the nightly backup; "
        "0 = the app runs no scheduled work (run `cetracker reminders --run` from cron).",
    ),
    Setting(
        "CETRACKER_WARMUP",
        "on",
        "on: the app works out the Dashboard's figures in the background as it starts and "
        "after each pause in writes, before anyone opens it; off: when someone opens it "
        "(a process that serves a few pages, such as the tests').",
    ),
    Setting(
        "CETRACKER_BACKUP_HOUR",
        "2",
        "Hour of the day (0-23, the server's clock) from which the app makes the day's "
        "nightly backup into the backup folder; off = no nightly backup.",
    ),
    Setting(
        "CETRACKER_TODAY",
        "",
        "Today's date as YYYY-MM-DD, for tests and demonstrations; empty = the real date.",
    ),
]
_DEFAULTS = {s.name: s.default for s in SETTINGS}


def _secrets() -> dict[str, object]:
    if SECRETS_FILE.exists():
        with SECRETS_FILE.open("rb") as fh:
            return tomllib.load(fh)
    return {}


def get(name: str) -> str:
    """A setting: environment first, then .streamlit/secrets.toml, then the default."""
    if name in os.environ and os.environ[name] != "":
        return os.environ[name]
    value = _secrets().get(name.removeprefix("CETRACKER_").lower())
    if value not in (None, ""):
        return str(value)
    return _DEFAULTS[name]


def db_path(override: str | None = None) -> str:
    return override or get("CETRACKER_DB")


def is_server_url(location: str | Path) -> bool:
    """A PostgreSQL URL (server mode) rather than a database file."""
    return str(location).lower().startswith(("postgresql://", "postgres://"))


def backup_folder() -> Path:
    """Where the Backup page writes: beside the database file, or data/backups for a server."""
    if chosen := get("CETRACKER_BACKUP_DIR"):
        return Path(chosen)
    location = db_path()
    if is_server_url(location):
        return ROOT / "data" / "backups"
    return Path(location).parent / "backups"


def association_name() -> str:
    return get("CETRACKER_ASSOCIATION")


def max_upload_bytes() -> int:
    try:
        return int(float(get("CETRACKER_MAX_UPLOAD_MB")) * 1024 * 1024)
    except ValueError:
        return 20 * 1024 * 1024


def get_login_sleep() -> float:
    try:
        return max(0.0, float(get("CETRACKER_LOGIN_SLEEP")))
    except ValueError:
        return 0.5


def scheduler_seconds() -> float:
    """Seconds between the scheduler's checks; 0 = no scheduler."""
    text = get("CETRACKER_SCHEDULER_MINUTES")
    try:
        minutes = float(text)
    except ValueError as exc:
        raise CetrackerError(
            f"CETRACKER_SCHEDULER_MINUTES is {text!r}: write a number of minutes (0 = off)."
        ) from exc
    return max(0.0, minutes * 60)


def warmup_on() -> bool:
    """Whether the app works out the Dashboard's figures ahead (CETRACKER_WARMUP)."""
    text = get("CETRACKER_WARMUP").strip().lower()
    if text not in ("on", "off"):
        raise CetrackerError(f"CETRACKER_WARMUP is {text!r}: write on or off.")
    return text == "on"


def backup_hour() -> int | None:
    """The hour from which the day's nightly backup is made; None = no nightly backup."""
    text = get("CETRACKER_BACKUP_HOUR").strip().lower()
    if text in ("off", "none", "no"):
        return None
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise CetrackerError(
            f"CETRACKER_BACKUP_HOUR is {text!r}: write an hour from 0 to 23, or off."
        )
    return int(text)


def today() -> date:
    """Today's date, as every rule, form and demo asks for it.

    ``CETRACKER_TODAY`` pins it, so that the demo data and the tests agree on the
    current CE year whatever the calendar says; unset, it is the real date.
    """
    pinned = get("CETRACKER_TODAY")
    if not pinned:
        return date.today()
    try:
        return date.fromisoformat(pinned)
    except ValueError as exc:
        raise CetrackerError(
            f"CETRACKER_TODAY is {pinned!r}, not a date: write it as YYYY-MM-DD, or leave it empty."
        ) from exc


LOCAL_BASE_URL = "http://127.0.0.1:8501"


def base_url_configured() -> bool:
    return bool(get("CETRACKER_BASE_URL").strip())


def base_url(browsing: str = "") -> str:
    """Where certificates send people to verify: the configured public address; unset, the
    address the app is being browsed at (``browsing``); else this machine's."""
    return (get("CETRACKER_BASE_URL").strip() or browsing or LOCAL_BASE_URL).rstrip("/")


def secret_key() -> str:
    """The server secret. Never a constant in code: configured, or generated once."""
    configured = get("CETRACKER_SECRET_KEY")
    if configured:
        return configured
    if GENERATED_KEY_FILE.exists():
        return GENERATED_KEY_FILE.read_text().strip()
    GENERATED_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    GENERATED_KEY_FILE.write_text(key)
    GENERATED_KEY_FILE.chmod(0o600)
    return key
