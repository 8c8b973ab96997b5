"""Messages (SPEC §6): scope, preview, in-app read tracking, and real email on loopback."""

from __future__ import annotations

import json
import socket
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from streamlit.testing.v1 import AppTest

from cetracker import messages
from cetracker.accounts import users
from cetracker.errors import CetrackerError, NotAllowed

PAGES = Path(__file__).parents[1] / "pages"


def signed_in(page: str, username: str) -> AppTest:
    """A page of the app, run once as ``username`` (signed in)."""
    at = AppTest.from_file(str(PAGES / page), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    return at.run()


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self, refuse: str = "") -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse and self.refuse in address:
            return "550 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    box = Mailbox(refuse="bounce")
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield (
        box,
        messages.SmtpSettings(
            host="127.0.0.1", port=port, security="none", sender="office@example.org"
        ),
    )
    controller.stop()


def ids(frame) -> list[int]:
    return [int(i) for i in frame["member_id"]]


@pytest.mark.both_backends
def test_director_reaches_only_their_scope(demo_db):
    director = users.load_user(demo_db, "director")
    everyone = messages.recipients(demo_db, director, messages.Audience())
    assert len(everyone) > 0 and set(everyone["area"]) == {"Area 3"}
    outside = messages.recipients(
        demo_db, users.load_user(demo_db, "admin"), messages.Audience(areas=("Area 6",))
    )
    with pytest.raises(NotAllowed):
        messages.send(demo_db, director, subject="Hi", body="Hello", member_ids=ids(outside))
    with pytest.raises(NotAllowed):
        messages.recipients(demo_db, users.load_user(demo_db, "member"), messages.Audience())


@pytest.mark.both_backends
def test_filters_by_name_county_position_area(demo_db):
    admin = users.load_user(demo_db, "admin")
    chosen = messages.recipients(
        demo_db, admin, messages.Audience(positions=("County Clerk",), areas=("Area 2",))
    )
    assert len(chosen) > 0
    assert set(chosen["position"]) == {"County Clerk"} and set(chosen["area"]) == {"Area 2"}
    one = messages.recipients(demo_db, admin, messages.Audience(last_name="ánh"))
    assert list(one["first_name"]) == ["Nguyễn Thị"]
    assert messages.recipients(demo_db, admin, messages.Audience(last_name="' OR 1=1 --")).empty


@pytest.mark.both_backends
def test_in_app_delivery_and_read_tracking(demo_db):
    admin, member = users.load_user(demo_db, "admin"), users.load_user(demo_db, "member")
    chosen = ids(messages.recipients(demo_db, admin, messages.Audience(areas=("Area 1",))))
    chosen.append(member.member_id)
    message_id = messages.send(
        demo_db,
        admin,
        subject="Conference <b>reminder</b>",
        body="Hello {first_name}, **see you** <script>alert(1)</script>",
        reply_to="chair@example.org",
        member_ids=chosen,
    )
    assert messages.unread_count(demo_db, member) == 1
    subject, body, reply_to = messages.open_message(demo_db, member, message_id)
    assert body.startswith("Hello Nguyễn Thị, **see you**") and reply_to == "chair@example.org"
    first_read = demo_db.scalar(
        "SELECT read_at FROM message_recipients WHERE member_id = ?", [member.member_id]
    )
    messages.open_message(demo_db, member, message_id)
    assert (
        demo_db.scalar(
            "SELECT read_at FROM message_recipients WHERE member_id = ?", [member.member_id]
        )
        == first_read
    )
    sent = messages.sent_list(demo_db, admin).iloc[0]
    assert (sent["Sent to"], sent["Read by"]) == (len(set(chosen)), 1)
    assert len(messages.not_read_by(demo_db, admin, message_id)) == len(set(chosen)) - 1
    other = demo_db.scalar("SELECT id FROM members WHERE id NOT IN (SELECT unnest(?))", [chosen])
    stranger = users.User("x", "member", member_id=other)
    with pytest.raises(NotAllowed):
        messages.open_message(demo_db, stranger, message_id)


@pytest.mark.both_backends
@pytest.mark.parametrize("listed", [1_000, 1], ids=["looked-up", "many"])
def test_a_messages_recipients_are_read_by_id_when_few(demo_db, capfd, monkeypatch, listed):
    """Sent Messages lists a message's recipients: on a server a few are looked up by id,
    not found by reading every member; many (here: more than one) are read by the join.
    Both give the same list."""
    from cetracker.store import db as store
    from tests.pgserver import sent_queries, whole_reads

    admin = users.load_user(demo_db, "admin")
    chosen = ids(messages.recipients(demo_db, admin, messages.Audience(areas=("Area 1",))))[:5]
    message_id = messages.send(
        demo_db, admin, subject="Hi", body="Hello", reply_to="", member_ids=chosen
    )
    monkeypatch.setattr(store, "LITERAL_IDS", listed)
    shown, queries = sent_queries(
        demo_db, capfd, lambda: messages.message_recipients(demo_db, admin, message_id)
    )
    names = demo_db.rows(
        "SELECT license_number FROM members WHERE id IN (SELECT unnest($ids::INTEGER[]))"
        " ORDER BY last_name, first_name, license_number",
        {"ids": chosen},
    )
    assert list(shown["License number"]) == [n for (n,) in names]
    if demo_db.server:
        assert bool(whole_reads(queries, "members")) == (listed == 1), queries
    # One recipient opens it: "not read yet" lists the other four, by either path.
    reader = demo_db.scalar("SELECT license_number FROM members WHERE id = ?", [chosen[0]])
    messages.open_message(demo_db, users.User("m", "member", member_id=chosen[0]), message_id)
    unread = messages.not_read_by(demo_db, admin, message_id)
    assert list(unread["License number"]) == [n for (n,) in names if n != reader]
    assert "Read at" not in unread.columns


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"subject": " "}, "Enter a subject"),
        ({"body": ""}, "Write the message"),
        ({"reply_to": "not an address"}, "reply-to address"),
        ({"member_ids": []}, "Nobody"),
    ],
)
def test_bad_messages_are_refused(demo_db, values, message):
    admin = users.load_user(demo_db, "admin")
    sent = {"subject": "S", "body": "B", "reply_to": "", "member_ids": [1], **values}
    with pytest.raises(CetrackerError, match=message):
        messages.send(demo_db, admin, **sent)
    assert demo_db.scalar("SELECT count(*) FROM messages") == 0


def test_email_arrives_with_text_html_reply_to_and_unicode(demo_db, smtp_server):
    box, smtp = smtp_server
    admin = users.load_user(demo_db, "admin")
    member = users.load_user(demo_db, "member")
    demo_db.execute(
        "UPDATE members SET email = 'bounce@example.org' WHERE license_number = '100001'"
    )
    bounced = demo_db.scalar("SELECT id FROM members WHERE license_number = '100001'")
    message_id = messages.send(
        demo_db,
        admin,
        subject="Réunion d'été — Ødegård & Łukasz",
        body="Dear {first_name},\n\n<b>not bold</b> & see you.",
        reply_to="chair@example.org",
        member_ids=[member.member_id, bounced],
        smtp=smtp,
    )
    assert len(box.received) == 1
    ((to, raw),) = box.received
    email = message_from_bytes(raw, policy=policy.default)
    assert to == [demo_db.scalar("SELECT email FROM members WHERE id = ?", [member.member_id])]
    assert email["Subject"] == "Réunion d'été — Ødegård & Łukasz"
    assert email["Reply-To"] == "chair@example.org"
    assert "Nguyễn Thị" in str(email["To"])
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert text.startswith("Dear Nguyễn Thị,") and "<b>not bold</b>" in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>" not in html
    statuses = dict(demo_db.rows("SELECT member_id, email_status FROM message_recipients"))
    assert statuses == {member.member_id: "sent", bounced: "failed"}
    error = demo_db.scalar(
        "SELECT email_error FROM message_recipients WHERE member_id = ?", [bounced]
    )
    assert "550" in error
    sent = messages.sent_list(demo_db, admin).iloc[0]
    assert (sent["Emails sent"], sent["Emails failed"]) == (1, 1)
    # The address is fixed and the failed one retried: only it is emailed again.
    demo_db.execute("UPDATE members SET email = 'fixed@example.org' WHERE id = ?", [bounced])
    retry = messages.email_message(demo_db, message_id, smtp, only_failed=True)
    assert (retry.sent, retry.failed) == (1, 0) and len(box.received) == 2
    assert box.received[1][0] == ["fixed@example.org"]


def test_unreachable_mail_server_is_recorded_not_raised(demo_db):
    admin, member = users.load_user(demo_db, "admin"), users.load_user(demo_db, "member")
    dead = messages.SmtpSettings(host="127.0.0.1", port=free_port(), security="none")
    messages.send(demo_db, admin, subject="S", body="B", member_ids=[member.member_id], smtp=dead)
    status, error = demo_db.one("SELECT email_status, email_error FROM message_recipients")
    assert status == "failed" and "could not be reached" in error
    assert messages.unread_count(demo_db, member) == 1  # the in-app copy is there regardless


def test_cli_reminder_merges_each_members_figures(
    demo_db_path, smtp_server, monkeypatch, tmp_path, capsys
):
    from cetracker.cli import main
    from cetracker.store.db import close_all

    box, smtp = smtp_server
    close_all()
    monkeypatch.setenv("CETRACKER_SMTP_HOST", smtp.host)
    monkeypatch.setenv("CETRACKER_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("CETRACKER_SMTP_SECURITY", "none")
    body = tmp_path / "reminder.md"
    body.write_text(
        "Dear {first_name}, you are short by {short_by} of {required} hours for {year}.",
        encoding="utf-8",
    )
    code = main(
        [
            "--db",
            str(demo_db_path),
            "message",
            "send",
            "--subject",
            "CE reminder",
            "--body-file",
            str(body),
            "--short-only",
            "--year",
            "2025",
            "--area",
            "Area 3",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recipients"] > 0 and out["emailed"] is True
    assert len(box.received) > 0
    first = message_from_bytes(box.received[0][1], policy=policy.default)
    text = first.get_body(("plain",)).get_content()
    assert "you are short by" in text and "{short_by}" not in text and "for 2025" in text


def test_compose_preview_and_inbox_pages(demo_db_path, demo_db):
    at = signed_in("messages_compose.py", "director")
    at.text_input(key="msg_subject").input("Regional meeting")
    at.text_area(key="msg_body").input("Hello {first_name}, see you **Friday**.")
    at.toggle(key="msg_all").set_value(True).run()
    count = int(at.metric[0].value.replace(",", ""))
    area3 = demo_db.scalar(
        "SELECT count(*) FROM members WHERE area = 'Area 3' AND status = 'active'"
    )
    assert count == area3
    at.checkbox(key="msg_confirm").check().run()
    at.button(key="msg_send").click().run()
    assert any("Message sent" in s.value for s in at.success)
    # The tick was for that sending: a second click cannot send it to everyone again.
    assert not at.checkbox(key="msg_confirm").value and at.button(key="msg_send").disabled
    assert demo_db.scalar("SELECT count(*) FROM messages WHERE subject = 'Regional meeting'") == 1

    member_area = demo_db.scalar("SELECT area FROM members WHERE license_number = '100000'")
    inbox = signed_in("inbox.py", "member")
    if member_area != "Area 3":
        assert any("No messages" in i.value for i in inbox.info)
        return
    message_id = demo_db.scalar("SELECT max(id) FROM messages")
    inbox.selectbox(key="inbox_pick").set_value(message_id).run()
    assert any("see you **Friday**" in m.value for m in inbox.markdown)
    time.sleep(0.01)
    assert demo_db.scalar("SELECT count(read_at) FROM message_recipients") == 1


def test_password_reset_by_email(demo_db, smtp_server):
    import re as regex
    from datetime import datetime, timedelta

    box, smtp = smtp_server
    users.request_reset(demo_db, "DIRECTOR@example.org", smtp)
    ((to, raw),) = box.received
    assert to == ["director@example.org"]
    text = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    code = regex.search(r"[A-Z2-7]{6}(?:-[A-Z2-7]{1,6})+", text).group(0)
    with pytest.raises(CetrackerError, match="not valid or has expired"):
        users.reset_with_code(
            demo_db,
            "director",
            code,
            "the-new-password",
            now=datetime.now() + timedelta(minutes=31),
        )
    with pytest.raises(CetrackerError, match="not valid"):
        users.reset_with_code(demo_db, "admin", code, "the-new-password")
    users.reset_with_code(demo_db, "director", code, "the-new-password")
    assert users.verify_password(demo_db, "director", "the-new-password")
    with pytest.raises(CetrackerError, match="not valid"):  # used once, then dead
        users.reset_with_code(demo_db, "director", code, "yet-another-password")
    # An unknown name gets the same silence and no email.
    users.request_reset(demo_db, "nobody-here", smtp)
    assert len(box.received) == 1
    with pytest.raises(CetrackerError, match="office"):
        users.request_reset(demo_db, "director", None)


def test_two_messages_alike_in_the_inbox_each_open_their_own(demo_db_path, demo_db):
    """Two messages with one subject on one day (two approval notices) were one choice:
    Streamlit keeps a choice by its label, so the second opened the first."""
    admin, member = users.load_user(demo_db, "admin"), users.load_user(demo_db, "member")
    for body in ("Body ONE", "Body TWO"):
        messages.send(
            demo_db, admin, subject="Dues reminder", body=body, member_ids=[member.member_id]
        )
    inbox = signed_in("inbox.py", "member")
    first, second = demo_db.rows(
        "SELECT id FROM messages WHERE subject = 'Dues reminder' ORDER BY id"
    )
    for message_id, body in ((second[0], "Body TWO"), (first[0], "Body ONE")):
        inbox.selectbox(key="inbox_pick").set_value(message_id).run()
        shown = [m.value for m in inbox.markdown]
        assert any(body in m for m in shown) and not any(
            other in m for m in shown for other in {"Body ONE", "Body TWO"} - {body}
        ), shown
    labels = inbox.selectbox(key="inbox_pick").options
    assert len(set(labels)) == len(labels)


def test_the_send_tick_is_cleared_when_the_recipients_change(demo_db_path, demo_db):
    """A tick given to send to one member must not send to every member once "all
    members" is switched on: the box is cleared when the recipients change."""
    at = signed_in("messages_compose.py", "admin")
    at.text_input(key="msg_subject").input("Hello")
    at.text_area(key="msg_body").input("Body")
    first_name = demo_db.scalar(
        "SELECT first_name FROM members WHERE id = (SELECT member_id FROM users"
        " WHERE username = 'member')"
    )
    at.text_input(key="msg_first").input(first_name).run()
    few = at.metric[0].value
    at.checkbox(key="msg_confirm").check().run()
    assert at.checkbox(key="msg_confirm").value and not at.button(key="msg_send").disabled
    at.toggle(key="msg_all").set_value(True).run()
    assert int(at.metric[0].value.replace(",", "")) > int(few.replace(",", ""))
    assert not at.checkbox(key="msg_confirm").value
    assert at.button(key="msg_send").disabled


def test_a_filter_that_matches_nobody_is_told_so(demo_db_path, demo_db):
    at = signed_in("messages_compose.py", "admin")
    infos = [i.value for i in at.info]
    assert any("No recipients yet" in i for i in infos), infos
    at.text_input(key="msg_last").input("%").run()
    assert at.metric[0].value == "0"
    infos = [i.value for i in at.info]
    assert any("No member matches these filters" in i for i in infos), infos
    at.toggle(key="msg_all").set_value(True).run()  # no filter shown: nothing said of one
    assert not at.exception


def test_an_image_in_a_message_is_shown_as_a_link_not_loaded(demo_db_path, demo_db):
    """A body's ``![…](address)`` would make each reader's browser fetch the address when
    the message is opened (who read it, and when, told to an outside server): the inbox
    and Sent Messages show it as a link instead."""
    admin, member = users.load_user(demo_db, "admin"), users.load_user(demo_db, "member")
    body = "Hello ![pixel](http://127.0.0.1:9/track.png) and [the rules](http://example.org)"
    message_id = messages.send(
        demo_db, admin, subject="Tracked", body=body, member_ids=[member.member_id]
    )
    inbox = signed_in("inbox.py", "member")
    inbox.selectbox(key="inbox_pick").set_value(message_id).run()
    sent = signed_in("messages_sent.py", "admin")
    sent.selectbox(key="sent_pick").set_value(message_id).run()
    for page in (inbox, sent):
        shown = [m.value for m in page.markdown if "track.png" in m.value]
        assert shown == [
            "Hello !\u200b[pixel](http://127.0.0.1:9/track.png) and [the rules](http://example.org)"
        ]
    # A backslash typed before it cannot rejoin "!" and "[" (an escaped backslash, then an
    # image, is what "\\![" would have read as).
    from cetracker.ui import widgets

    assert "![" not in widgets.message_markdown("\\![p](http://x/t.png) ![q][ref]")


def test_a_mistyped_merge_field_and_one_in_the_subject_are_warned_of(demo_db_path):
    """{frist_name} reached members as typed, and {first_name} in the subject showed as
    typed in CE Tracker, with nothing said before sending."""
    at = signed_in("messages_compose.py", "admin")
    at.text_input(key="msg_subject").input("Hello {first_name}")
    at.text_area(key="msg_body").input("Dear {frist_name}, you need {missing}.").run()
    said = " ".join(w.value for w in at.warning)
    assert "{frist_name} is not a merge field" in said.replace("\\", "")
    assert "Merge fields in the subject are not filled in" in said  # no mail server here
    at.text_input(key="msg_subject").input("Hello")
    at.text_area(key="msg_body").input("Dear {first_name}, you need {missing}.").run()
    assert not [w.value for w in at.warning if "merge field" in w.value]


def test_repeated_labels_are_told_apart_by_their_own_number_not_their_place():
    """A choice is kept by its label: were repeats numbered by place, approving the first
    of three alike would move a kept "(2)" onto the third."""
    from cetracker.ui import widgets

    labels = {7: "Ann — Same", 8: "Ann — Same", 9: "Ann — Same", 10: "Bo — Other"}
    before = widgets.distinct_labels(list(labels), labels.__getitem__)
    after = widgets.distinct_labels([8, 9, 10], labels.__getitem__)
    assert [before(i) for i in (8, 9)] == [after(i) for i in (8, 9)]
    assert before(10) == after(10) == "Bo — Other"
    assert len({before(i) for i in labels}) == len(labels)
