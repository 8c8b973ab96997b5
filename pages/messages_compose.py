"""Send Messages: compose, choose recipients, preview, send (SPEC §6, seed "Send Messages")."""

import streamlit as st

from cetracker import messages
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.members import filter_choices
from cetracker.plurals import plural
from cetracker.ui import editing, session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Send Messages")
st.caption(
    "A message appears on each recipient's home page in CE Tracker"
    + (", and is emailed to them." if messages.SmtpSettings.from_config() else ".")
)
subject = st.text_input("Subject", max_chars=200, key="msg_subject")
body = st.text_area(
    "Message (Markdown)",
    height=180,
    max_chars=20_000,
    key="msg_body",
    help=messages.merge_fields_help(),
)
reply_to = st.text_input(
    "Reply-to email (if you want replies, enter your own)", max_chars=200, key="msg_reply"
)

st.header("Recipients")
preset = st.session_state.get("compose_member_ids")
chosen_any = False  # a filter typed or chosen (below): an empty list then says so
origin = st.session_state.get("compose_from") or {}
year = int(origin.get("year") or policies.current_ce_year(db))
if preset is not None:
    left_out = int(origin.get("inactive_left_out") or 0)
    st.info(
        f"{plural(len(preset), 'member')} chosen from the {origin.get('report', 'report')}"
        + (f" ({origin['filters']})" if origin.get("filters") else "")
        + (
            f": {plural(int(origin['shown']), 'member')} shown, "
            f"{plural(left_out, 'inactive member')} left out."
            if left_out
            else ", every member shown."
            if origin.get("shown")
            else "."
        )
    )
    if st.button("Choose recipients myself instead", key="msg_clear_preset"):
        st.session_state.pop("compose_member_ids", None)
        st.session_state.pop("compose_from", None)
        st.rerun()
    audience = messages.Audience(
        member_ids=tuple(preset), include_inactive=bool(origin.get("include_inactive"))
    )
else:
    everyone = st.toggle("Send to all members", key="msg_all", help="All members you may write to.")
    include_inactive = st.checkbox(
        "Include inactive members",
        key="msg_inactive",
        help="Inactive members are left out unless you tick this.",
    )
    if everyone:
        audience = messages.Audience(include_inactive=include_inactive)
    else:
        choices = filter_choices(db, user.scope, policies.current_ce_year(db))
        cols = st.columns(5)
        first = cols[0].text_input(
            "First name", key="msg_first", max_chars=80, help="Part of a first name."
        )
        last = cols[1].text_input(
            "Last name", key="msg_last", max_chars=80, help="Part of a last name."
        )
        counties = cols[2].multiselect("County", choices.counties, key="msg_county")
        positions = cols[3].multiselect("Position", choices.positions, key="msg_position")
        areas = cols[4].multiselect("Area", choices.areas, key="msg_area")
        chosen_any = first or last or counties or positions or areas
        audience = (
            messages.Audience(
                first,
                last,
                tuple(counties),
                tuple(positions),
                tuple(areas),
                include_inactive=include_inactive,
            )
            if chosen_any
            else messages.Audience(member_ids=())
        )

people = messages.recipients(db, user, audience)
inactive = int((people["status"] != "active").sum()) if len(people) else 0
st.metric("Recipients", f"{len(people):,}")
if inactive:
    st.caption(f"Including {plural(inactive, 'inactive member')}.")
widgets.show_table(
    widgets.labelled(people.drop(columns=["member_id"])),
    empty=(
        "No member matches these filters: loosen them, or send to all members."
        if chosen_any
        else "No recipients yet: send to all members, or filter by name, county, position or area."
    ),
)

member_ids = [int(i) for i in people["member_id"]]
emailed = messages.SmtpSettings.from_config() is not None
for warning in messages.merge_warnings(subject, body, emailed=emailed):
    st.warning(widgets.plain(warning), icon=":material/data_object:")
needs_hours = messages.uses_standing(subject, body)
if body.strip() and len(people):
    st.header("Preview")
    first_one = people.iloc[0]
    fields = (
        messages.standing_fields(db, user, year, member_ids[:1]).get(member_ids[0])
        if needs_hours
        else None
    )
    st.caption(
        f"As {widgets.plain(first_one['first_name'])} {widgets.plain(first_one['last_name'])} "
        f"will read it" + (f" (hours for CE year {year})" if needs_hours else "") + ":"
    )
    with st.container(border=True):
        st.markdown(f"**{widgets.plain(subject) or '(no subject yet)'}**")
        # Markdown only: raw HTML is shown as text, never run.
        st.markdown(widgets.message_markdown(messages.preview(body, dict(first_one), fields)))

# A tick confirms these recipients only: when they change (a filter, "all members"), the
# box is cleared, or a tick given for one member sent to every member.
recipients_now = hash(tuple(sorted(member_ids)))
if st.session_state.get("_msg_confirmed_for") != recipients_now:
    st.session_state["msg_confirm"] = False
st.session_state["_msg_confirmed_for"] = recipients_now
confirm = st.checkbox(
    f"Yes, send this message to {plural(len(people), 'member')}", key="msg_confirm"
)
if st.button("Send", type="primary", disabled=not confirm or people.empty, key="msg_send"):
    bar = st.progress(0.0, text="Sending…")
    try:
        message_id = messages.send(
            db,
            user,
            subject=subject,
            body=body,
            reply_to=reply_to,
            member_ids=member_ids,
            smtp=messages.SmtpSettings.from_config(),
            fields=messages.standing_fields(db, user, year, member_ids) if needs_hours else None,
            progress=lambda f, t: bar.progress(f, text=t),
            include_inactive=audience.include_inactive,
        )
    except CetrackerError as exc:
        st.error(exc.message)
    else:
        bar.progress(1.0, text="Sent.")
        st.session_state.pop("compose_member_ids", None)
        st.session_state.pop("compose_from", None)
        # The tick was for this sending alone: left ticked, a second click on Send sent
        # the message to everyone again. The page runs again with the box clear.
        st.session_state["_msg_confirmed_for"] = None
        editing.after_save(
            "send_message",
            f"Message sent to {plural(len(people), 'member')}. "
            "See Sent Messages for who has read it.",
        )
editing.show_notice("send_message")
