"""The command line of SPEC §7, on the same database as the app.

Errors print one line to stderr and exit non-zero; nothing is half-written, and a
command that fails commits nothing (what can be checked first is checked first).
Only ``init`` creates a database; every other command refuses one that is not there.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import re
import secrets
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from cetracker import config
from cetracker.config import is_server_url
from cetracker.errors import CetrackerError

if TYPE_CHECKING:
    from cetracker import reminders
    from cetracker.demo import DemoLogin
    from cetracker.filters import Filters
    from cetracker.store.db import Database

# Each command imports the modules it uses, the database's among them: this module loads
# with the standard library and the project's settings and errors alone, so that
# `cetracker import` starts reading its roster (in a child, on the other core) before
# DuckDB, the checks and the reports load (0.2 s), and a quick command starts quickly.
# pandas, fpdf2 and Faker come only with the commands that use them.


def _db(args: argparse.Namespace) -> Database:
    """The database the command works on; never created here (a mistyped --db would
    otherwise leave an empty database behind and report nothing found)."""
    from cetracker.store.db import holds_database, open_database, redacted

    path = config.db_path(args.db)
    if not holds_database(path):
        where = "database file" if not is_server_url(path) else "CE Tracker database"
        raise CetrackerError(
            f"There is no {where} at {redacted(path)}. Check --db (or CETRACKER_DB); "
            "`cetracker init` creates a new one."
        )
    return open_database(path)


def cmd_init(args: argparse.Namespace) -> int:
    from cetracker import demo
    from cetracker.store.db import open_database, redacted

    path = config.db_path(args.db)
    existed = has_database(path)
    if existed and args.if_missing:
        db = open_database(path)
        _print_logins(db, demo_logins_still_valid(db))
        return 0
    db = open_database(path)
    if args.demo:
        if db.scalar("SELECT count(*) FROM members"):
            raise CetrackerError(
                f"{redacted(path)} already holds members; demo data goes into a new database."
            )
        logins = demo.build(
            db,
            members=args.members,
            years=args.years,
            providers=args.providers,
            courses=args.courses,
            seed=args.seed,
            with_users=not args.no_users,
        )
        print(
            f"Created {redacted(path)} with demo data: {args.members} members over {args.years} CE years."
        )
        _print_logins(db, logins)
    else:
        print(f"Database ready: {redacted(path)} (schema version {db.schema_version()}).")
    return 0


def has_database(path: str) -> bool:
    """A database file exists, or the PostgreSQL database holds CE Tracker's members."""
    if not is_server_url(path):
        return Path(path).exists()
    from cetracker.store.db import holds_database, open_database

    return holds_database(path) and bool(open_database(path).scalar("SELECT count(*) FROM members"))


def demo_logins_still_valid(db: Database) -> list[DemoLogin]:
    from cetracker import demo
    from cetracker.accounts import users

    found = []
    for role, password in demo.DEMO_PASSWORDS.items():
        if users.verify_password(db, role, password):
            found.append(demo.DemoLogin(role, role, password, ""))
    return found


def _print_logins(db: Database, logins: Sequence[DemoLogin]) -> None:
    if not logins:
        return
    print("\nDemo logins (one per role):")
    for login in logins:
        note = f"  — {login.note}" if login.note else ""
        print(f"  {login.role:<9} username: {login.username:<9} password: {login.password}{note}")
    print()


def cmd_load(args: argparse.Namespace) -> int:
    from cetracker.files import workbook

    counts = workbook.load_file(_db(args), Path(args.workbook))
    print(json.dumps(counts))
    return 0


def _filters(args: argparse.Namespace) -> Filters:
    from cetracker.filters import Filters

    return Filters(
        year=args.year,
        counties=tuple(args.county or ()),
        areas=tuple(args.area or ()),
        positions=tuple(args.position or ()),
        name=args.name or "",
        short_only=args.short_only,
    )


REPORT_FORMATS = ("csv", "xlsx", "pdf")


def _report_format(chosen: str | None, output: str | None) -> str:
    """The report's format: ``--format``, else the output file's ending (``-o list.pdf``
    writes a PDF, not CSV text under a .pdf name), else CSV. A format the file's ending
    contradicts is refused: the file would not open as what its name says."""
    ending = Path(output).suffix.lower().lstrip(".") if output and output != "-" else ""
    named = ending if ending in REPORT_FORMATS else None
    if chosen and named and chosen != named:
        raise CetrackerError(
            f"--format {chosen} does not match the file name {output} (a .{named} file). "
            f"Name the file .{chosen}, or leave out --format."
        )
    return chosen or named or "csv"


def cmd_report(args: argparse.Namespace) -> int:
    args.format = _report_format(args.format, args.output)
    from cetracker import reports
    from cetracker.files import exports

    db = _db(args)
    from dataclasses import replace

    from cetracker import years

    filters = _filters(args)
    filters = replace(filters, closed_year=years.is_closed(db, filters.year) is not None)
    options = {}
    if args.report == "conference":
        if not args.course:
            raise CetrackerError("The conference report needs --course COURSE_NUMBER.")
        options["course_number"] = args.course
    if args.report == "certificates" and args.format == "pdf":
        return _write_certificates(db, filters, args.output)
    if args.report == "hour-summary" and args.format == "csv":
        return _stream_hour_summary_csv(db, filters, args.output)
    frame = reports.run_report(db, args.report, filters, **options)
    title = reports.REPORTS[args.report].title
    if args.format == "csv":
        data = exports.to_csv(reports.csv_frame(args.report, frame))
    elif args.format == "xlsx":
        data = exports.to_xlsx(frame, title, filters.describe())
    else:
        data = exports.to_pdf(frame, title, filters.describe())
    _write(data, args.output)
    return 0


def _stream_hour_summary_csv(db: Database, filters: Filters, output: str | None) -> int:
    """The Hour Summary CSV written by DuckDB straight from the year's standing (a million
    members in about a second, memory flat)."""
    import shutil
    import tempfile

    from cetracker.files import exports
    from cetracker.standing import hour_summary_csv_query

    sql, params = hour_summary_csv_query(db, filters)
    with tempfile.TemporaryDirectory() as folder:
        to_stdout = output in (None, "-")
        target = Path(folder) / "out.csv" if to_stdout else Path(str(output))
        partial = target if to_stdout else target.with_name(f".{target.name}.partial")
        cur = db.cursor()
        try:
            exports.query_to_csv(cur, sql, params, partial)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CetrackerError(f"Cannot write {target}: {exc.strerror}.") from exc
        finally:
            cur.close()
        if to_stdout:
            with partial.open("rb") as rows:
                shutil.copyfileobj(rows, sys.stdout.buffer, 1 << 20)
            sys.stdout.flush()
        else:
            partial.replace(target)
    return 0


def _write_certificates(db: Database, filters: Filters, output: str | None) -> int:
    from cetracker.files import certificates

    earned = certificates.earned_certificates(db, filters)
    if not earned:
        print(
            f"Nobody earned a certificate for CE year {filters.year} with these filters; "
            "no file was written."
        )
        return 0
    if not config.base_url_configured():
        print(
            f"Note: CETRACKER_BASE_URL is not set, so the QR codes lead to "
            f"{config.base_url()}/verify. Set it to the app's public address.",
            file=sys.stderr,
        )
    _write(certificates.certificates_pdf(earned), output)
    if output not in (None, "-"):
        print(f"Wrote {len(earned)} certificates to {output}.")
    return 0


def cmd_certificates(args: argparse.Namespace) -> int:
    return _write_certificates(_db(args), _filters(args), args.output)


def _check_writable(output: str) -> None:
    """Fail now if ``output`` cannot be written, before any work is committed."""
    target = Path(output)
    if output == "-" or target.is_dir():
        raise CetrackerError(f"Name a file to write to, not {output!r}. Nothing was done.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        # The same file ``_write`` writes first, so the same folder rights are tested.
        with partial.open("wb"):
            pass
        partial.unlink()
    except OSError as exc:
        raise CetrackerError(f"Cannot write {target}: {exc.strerror}. Nothing was done.") from exc


def _write(data: bytes, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CetrackerError(f"Cannot write {target}: {exc.strerror}.") from exc


def cmd_template(args: argparse.Namespace) -> int:
    from cetracker import providers
    from cetracker.files import rosters

    db = _db(args)
    provider_id = providers.provider_by_license(db, args.provider) if args.provider else None
    _write(rosters.template_xlsx(db, provider_id), args.output)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    # The roster's reading starts before the checks and the database load (see the note at
    # the top); no pandas frames, fpdf or openpyxl unless failed rows are written out.
    from cetracker.files import roster_columns

    if args.failed_out:
        # Checked before importing: a failure afterwards would leave the rows recorded
        # and a script that retries would get every one back as "Already recorded".
        _check_writable(args.failed_out)
    path = Path(args.roster)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CetrackerError(f"Cannot read {path}: {exc.strerror}.") from exc
    # The file is read in its child on the other core while the rest loads and the
    # database opens.
    reading = roster_columns.start_reading(data, path.name)
    from cetracker import importer, providers

    db = _db(args)
    provider_id = providers.provider_by_license(db, args.provider)
    result = importer.import_roster(
        db, data, path.name, provider_id=provider_id, uploaded_by=args.user, reading=reading
    )
    counts = json.dumps(result.counts())
    if args.failed_out:
        from cetracker.files import rosters

        frame = importer.failed_rows_frame(result.failed_outcomes())
        try:
            _write(rosters.failed_rows_xlsx(db, provider_id, frame), args.failed_out)
        except CetrackerError as exc:
            # The folder was writable a moment ago (a full disk, say): the import stands.
            print(counts)
            raise CetrackerError(
                f"The import is recorded ({counts}), but the failed rows were not written: "
                f"{exc.message} Download them from Import History."
            ) from exc
    print(counts)
    return 0


def _password(args: argparse.Namespace, prompt: str) -> tuple[str, bool]:
    """--password, $CETRACKER_PASSWORD, a prompt, or (no terminal) a generated one to print."""
    password = args.password or os.environ.get("CETRACKER_PASSWORD")
    if password:
        return password, False
    if sys.stdin.isatty():
        return getpass.getpass(f"{prompt} for {args.username}: "), False
    return secrets.token_urlsafe(12), True


def cmd_users(args: argparse.Namespace) -> int:
    from cetracker.accounts import users

    db = _db(args)
    if args.users_command == "add":
        password, generated = _password(args, "Password")
        users.add_user(
            db,
            args.username,
            password,
            role=args.role,
            email=args.email,
            member_license=args.member,
            provider_license=args.provider,
            scope_areas=tuple(args.scope_area or ()),
            scope_counties=tuple(args.scope_county or ()),
            actor="cli",
        )
        print(
            f"Added {args.role} {args.username}." + (f" Password: {password}" if generated else "")
        )
    elif args.users_command == "list":
        print("username\trole\temail\tlinked license\tscope areas\tscope counties\tdisabled")
        for row in users.list_users(db):
            print("\t".join("" if v is None else str(v) for v in row))
    elif args.users_command in ("disable", "enable"):
        users.set_disabled(db, args.username, args.users_command == "disable", actor="cli")
        print(f"{args.username} is {args.users_command}d.")
    elif args.users_command == "reset-password":
        password, generated = _password(args, "New password")
        users.reset_password(db, args.username, password, actor="cli")
        print(
            f"Password of {args.username} reset."
            + (f" New password: {password}" if generated else "")
        )
    return 0


def cmd_message(args: argparse.Namespace) -> int:
    """Scheduled reminders: e.g. a monthly "you are short by {short_by} hours" to short members."""
    from cetracker import mail, messages
    from cetracker.accounts.users import User
    from cetracker.filters import Filters
    from cetracker.standing import hour_summary

    db = _db(args)
    try:
        body = Path(args.body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CetrackerError(f"Cannot read the message body from {args.body_file}: {exc}.") from exc
    from cetracker import policy as policies

    year = args.year or policies.current_ce_year(db)
    sender = User(username="cli", role="admin")
    filters = Filters(
        year=year,
        counties=tuple(args.county or ()),
        areas=tuple(args.area or ()),
        positions=tuple(args.position or ()),
        short_only=args.short_only,
    )
    chosen = hour_summary(db, filters, detail=True)
    chosen = chosen[chosen["status"] == "active"]
    if chosen.empty:
        print("Nobody matches these filters; no message was sent.")
        return 0
    fields = messages.fields_of(chosen, year)
    smtp = mail.SmtpSettings.from_config()
    message_id = messages.send(
        db,
        sender,
        subject=args.subject,
        body=body,
        reply_to=args.reply_to or "",
        member_ids=list(fields),
        smtp=smtp,
        fields=fields,
    )
    print(
        json.dumps({"message": message_id, "recipients": len(fields), "emailed": smtp is not None})
    )
    return 0


def cmd_reminders(args: argparse.Namespace) -> int:
    """The reminder schedules, and (--run) the due ones sent now: for an office that runs
    CE Tracker's scheduled work from cron with the app stopped."""
    from cetracker import mail, reminders

    db = _db(args)
    year, end = reminders.current_year(db)
    done = reminders.sent_for(db, year)
    listed = reminders.schedules(db)
    print(f"CE year {year} ends on {end:%m/%d/%Y}.")
    if not listed:
        print("No reminders are scheduled; an admin adds them on the Reminders page.")
    for s in listed:
        state = (
            f"sent {done[s.id]:%m/%d/%Y}"
            if s.id in done
            else f"sends on {reminders.sends_on(end, s.days_before):%m/%d/%Y}"
            if s.active
            else "inactive"
        )
        print(f"{s.id}\t{s.days_before} days before\t{state}\t{s.subject}")
    if not args.run:
        return 0
    try:
        sent = reminders.run_due(db, actor="cli", smtp=mail.SmtpSettings.from_config())
    except reminders.RemindersFailed as exc:
        _print_sent(exc.sent)
        raise
    _print_sent(sent)
    return 0


def _print_sent(sent: list[reminders.Sent]) -> None:
    if not sent:
        print("No reminder is due now; nothing was sent.")
    for s in sent:
        print(
            f"Sent reminder {s.schedule_id} ({s.days_before} days before) for CE year "
            f"{s.ce_year} to {s.members} members short of hours"
            + (", in the app and by email." if s.emailed else ", in the app.")
        )


def cmd_backup(args: argparse.Namespace) -> int:
    from cetracker import backups

    print(backups.backup(_db(args), Path(args.dir)))
    return 0


def cmd_migrate_to(args: argparse.Namespace) -> int:
    from cetracker import transfer

    result = transfer.copy_database(_db(args), args.target)
    print(json.dumps(result.as_dict()))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from cetracker import backups

    target = config.db_path(args.db)
    if is_server_url(target):
        raise CetrackerError(
            "Restore replaces a database file. To put a backup into PostgreSQL, create a new, "
            f"empty database and run: cetracker --db {args.backup} migrate-to <postgresql URL>"
        )
    kept = backups.restore(Path(args.backup), Path(target), force=args.yes)
    print(
        f"Restored {args.backup}." + (f" The replaced database is kept as {kept}." if kept else "")
    )
    return 0


class _Parser(argparse.ArgumentParser):
    """A mistake in the arguments is one line on stderr, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"cetracker: {message} (see {self.prog} --help)\n")


class _Names:
    """The names a module holds (the reports', the roles'), looked up when the parser checks
    an argument against them or shows them in its help: building the parser loads neither
    module (see the note at the top)."""

    def __init__(self, module: str, attribute: str) -> None:
        self._module, self._attribute = module, attribute

    def _names(self) -> list[str]:
        return list(getattr(importlib.import_module(self._module), self._attribute))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


def ce_year(text: str) -> int:
    """A CE year argument: a whole number in compute's CE-year range."""
    cleaned = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,9}", cleaned):
        raise argparse.ArgumentTypeError(
            f"the CE year must be a whole number such as 2024, not {text[:40]!r}"
        )
    year = int(cleaned)
    from cetracker.rules import compute

    if not compute.is_ce_year(year):
        raise argparse.ArgumentTypeError(
            f"CE year {year} is outside {compute.FIRST_CE_YEAR}–{compute.LAST_CE_YEAR}"
        )
    return year


def build_parser() -> argparse.ArgumentParser:
    # --db is accepted before or after the command: `cetracker --db F report …` or
    # `cetracker report … --db F`.
    common = _Parser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser = _Parser(prog="cetracker", description="CE Tracker command line.")
    parser.add_argument(
        "--db",
        help="database file or postgresql:// URL (default: $CETRACKER_DB or data/cetracker.duckdb)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "init", parents=[common], help="create the database (and fill it with demo data)"
    )
    p.add_argument("--demo", action="store_true")
    p.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the database exists (but print the demo logins)",
    )
    p.add_argument("--members", type=int, default=600)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--providers", type=int, default=4)
    p.add_argument("--courses", type=int, default=30)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-users", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "load", parents=[common], help="upsert sheets Members, Providers, Courses, Dues, ..."
    )
    p.add_argument("workbook", help=".xlsx, .xlsm, .xls or .ods")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("report", parents=[common], help="print or save a report")
    p.add_argument(
        "report", metavar="NAME", choices=_Names("cetracker.reports", "REPORTS"), help="%(choices)s"
    )
    p.add_argument("--year", type=ce_year, required=True)
    p.add_argument("--county", action="append")
    p.add_argument("--area", action="append")
    p.add_argument("--position", action="append")
    p.add_argument("--name", help="name or license number contains")
    p.add_argument("--short-only", action="store_true")
    p.add_argument("--course", help="course number (conference report)")
    p.add_argument(
        "--format", choices=REPORT_FORMATS, help="default: the output file's ending, else csv"
    )
    p.add_argument("-o", "--output")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "certificates", parents=[common], help="every annual certificate of a CE year as one PDF"
    )
    p.add_argument("--year", type=ce_year, required=True)
    p.add_argument("--county", action="append")
    p.add_argument("--area", action="append")
    p.add_argument("--position", action="append")
    p.add_argument("--name", help=argparse.SUPPRESS)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_certificates, short_only=False)

    p = sub.add_parser("template", parents=[common], help="write the roster template (.xlsx)")
    p.add_argument("--provider", help="provider license number: its courses in the drop-down")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser(
        "import",
        parents=[common],
        help="import a provider's roster (.xlsx, .xlsm, .xls, .ods or .csv)",
    )
    p.add_argument("roster")
    p.add_argument("--provider", required=True, help="provider license number")
    p.add_argument("--failed-out", help="write the failed rows, with Status, to this .xlsx")
    p.add_argument("--user", default="cli", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("users", parents=[common], help="manage accounts")
    verbs = p.add_subparsers(dest="users_command", required=True)
    a = verbs.add_parser("add", parents=[common])
    a.add_argument("username")
    a.add_argument(
        "--role",
        required=True,
        metavar="ROLE",  # a name of its own: argparse would otherwise list the roles now
        choices=_Names("cetracker.accounts.users", "ROLES"),
        help="%(choices)s",
    )
    a.add_argument("--member", help="member license number (role member)")
    a.add_argument("--provider", help="provider license number (role provider)")
    a.add_argument("--scope-area", action="append")
    a.add_argument("--scope-county", action="append")
    a.add_argument("--email")
    a.add_argument("--password", help="or $CETRACKER_PASSWORD; asked for when omitted")
    verbs.add_parser("list", parents=[common])
    for verb in ("disable", "enable"):
        d = verbs.add_parser(verb)
        d.add_argument("username")
    r = verbs.add_parser("reset-password", parents=[common])
    r.add_argument("username")
    r.add_argument("--password", help="or $CETRACKER_PASSWORD; asked for when omitted")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("message", parents=[common], help="send a message (scheduled reminders)")
    msg = p.add_subparsers(dest="message_command", required=True)
    m = msg.add_parser("send", parents=[common])
    m.add_argument("--subject", required=True)
    m.add_argument("--body-file", required=True, help="Markdown text; merge fields in {braces}")
    m.add_argument("--reply-to")
    m.add_argument("--county", action="append")
    m.add_argument("--area", action="append")
    m.add_argument("--position", action="append")
    m.add_argument("--short-only", action="store_true", help="only members short of hours")
    m.add_argument("--year", type=ce_year, help="CE year of the figures (default: the current one)")
    p.set_defaults(func=cmd_message)

    p = sub.add_parser(
        "reminders",
        parents=[common],
        help="list the reminder schedules; --run sends the due ones now",
    )
    p.add_argument(
        "--run", action="store_true", help="send the reminders due today (each once per CE year)"
    )
    p.set_defaults(func=cmd_reminders)

    p = sub.add_parser(
        "backup", parents=[common], help="write a consistent copy of the database into DIR"
    )
    p.add_argument("dir")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "migrate-to",
        parents=[common],
        help="copy this database into a new, empty one: a postgresql:// URL or a .duckdb file",
    )
    p.add_argument("target")
    p.set_defaults(func=cmd_migrate_to)

    p = sub.add_parser("restore", parents=[common], help="replace the database with a backup file")
    p.add_argument("backup")
    p.add_argument("--yes", action="store_true", help="replace an existing database")
    p.set_defaults(func=cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a mistake already printed as one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except CetrackerError as exc:
        print(f"cetracker: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # last resort: one line, never a traceback
        print(
            f"cetracker: unexpected error ({type(exc).__name__}: {exc}); nothing was "
            "half-written. Please report this.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("cetracker: interrupted; nothing was half-written.", file=sys.stderr)
        return 130


def command() -> NoReturn:
    """The ``cetracker`` command: ``main``, then the process ends. It reads a file or two
    at most: no child is started ahead for a next one (``bounded.no_spares``).

    Once every database is closed (and checkpointed) and the output flushed, the process
    ends at once (``os._exit``), with any child still reading (for a command that stopped
    on another error) stopped first. Python's own teardown would free every object of
    pandas, pyarrow and numpy one by one on the way out: 0.15-0.2 s of a roster import
    that takes 3."""
    from cetracker.files import bounded

    bounded.no_spares()
    code = main()
    if "cetracker.store.db" in sys.modules:  # a command that opened no database loads none
        from cetracker.store.db import close_all

        close_all()  # each database closed (and checkpointed) by name, not left to the collector
    _end(code)


def _end(code: int) -> NoReturn:
    """End the process with ``code``: children stopped, logs and output flushed, no teardown."""
    import logging

    from cetracker.files import bounded

    bounded.stop_children()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the command was started with that stream closed
                stream.flush()
        except (OSError, ValueError):  # what Python itself does when output cannot be flushed
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    command()
