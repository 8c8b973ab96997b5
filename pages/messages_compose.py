"""Send Messages: compose, choose recipients, preview, send (SPEC §6, seed "Send Messages")."""

import streamlit as st

from cetracker import messages
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.members import filter_choices
from cetracker.ui import session, widgets

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
    help="Plain text or Markdown. {first_name} is replaced by each member's first name.",
)
reply_to = st.text_input(
    "Reply-to email (if you want replies, enter your own)", max_chars=200, key="msg_reply"
)

st.subheader("Recipients")
preset = st.session_state.get("compose_member_ids")
if preset is not None:
    st.info(f"{len(preset):,} members chosen from a report.")
    if st.button("Choose recipients myself instead", key="msg_clear_preset"):
        del st.session_state["compose_member_ids"]
        st.rerun()
    audience = messages.Audience(member_ids=tuple(preset))
else:
    everyone = st.toggle(
        "Send to all members", key="msg_all", help="All active members you may write to."
    )
    if everyone:
        audience = messages.Audience()
    else:
        choices = filter_choices(db, user.scope, policies.current_ce_year(db))
        cols = st.columns(5)
        first = cols[0].text_input("First name", key="msg_first", max_chars=80)
        last = cols[1].text_input("Last name", key="msg_last", max_chars=80)
        counties = cols[2].multiselect("County", choices.counties, key="msg_county")
        positions = cols[3].multiselect("Position", choices.positions, key="msg_position")
        areas = cols[4].multiselect("Area", choices.areas, key="msg_area")
        chosen_any = first or last or counties or positions or areas
        audience = (
            messages.Audience(first, last, tuple(counties), tuple(positions), tuple(areas))
            if chosen_any
            else messages.Audience(member_ids=())
        )

people = messages.recipients(db, user, audience)
st.metric("Recipients", f"{len(people):,}")
widgets.show_table(
    widgets.labelled(people.drop(columns=["member_id"])),
    empty="No recipients yet: send to all members, or filter by name, county, position or area.",
)
confirm = st.checkbox(f"Yes, send this message to {len(people):,} members", key="msg_confirm")
if st.button("Send", type="primary", disabled=not confirm or people.empty, key="msg_send"):
    bar = st.progress(0.0, text="Sending…")
    try:
        message_id = messages.send(
            db,
            user,
            subject=subject,
            body=body,
            reply_to=reply_to,
            member_ids=[int(i) for i in people["member_id"]],
            smtp=messages.SmtpSettings.from_config(),
            progress=lambda f, t: bar.progress(f, text=t),
        )
    except CetrackerError as exc:
        st.error(exc.message)
    else:
        bar.progress(1.0, text="Sent.")
        st.success(
            f"Message sent to {len(people):,} members. See Sent Messages for who has read it."
        )
        st.session_state.pop("compose_member_ids", None)
