"""Email over SMTP (SPEC §6): the settings from secrets, one email composed safely, sending.

Used by messages to members and by password resets; knows nothing of either.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from cetracker import config
from cetracker.errors import CetrackerError

EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password: str = ""
    sender: str = ""

    @staticmethod
    def from_config() -> SmtpSettings | None:
        host = config.get("CETRACKER_SMTP_HOST")
        if not host:
            return None
        return SmtpSettings(
            host=host,
            port=int(config.get("CETRACKER_SMTP_PORT") or 587),
            security=config.get("CETRACKER_SMTP_SECURITY").lower(),
            user=config.get("CETRACKER_SMTP_USER"),
            password=config.get("CETRACKER_SMTP_PASSWORD"),
            sender=config.get("CETRACKER_SMTP_FROM") or f"ce-tracker@{host}",
        )


def compose_email(
    smtp: SmtpSettings, to: str, name: str, subject: str, body: str, reply_to: str | None
) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = formataddr((config.association_name(), smtp.sender))
    email["To"] = formataddr((name, to))
    if reply_to:
        email["Reply-To"] = reply_to
    email.set_content(body)
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n")
    )
    email.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return email


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if smtp.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=30, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
        if smtp.security == "starttls":
            server.starttls(context=ssl.create_default_context())
    if smtp.user:
        server.login(smtp.user, smtp.password)
    return server


def send_plain_email(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    """One email outside any message (a password reset code, for instance)."""
    if not EMAIL.match(to):
        raise CetrackerError("The account's email address is not valid.")
    server = connect(smtp)
    try:
        server.send_message(compose_email(smtp, to, "", subject, body, None))
    finally:
        server.quit()
