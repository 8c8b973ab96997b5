"""Reminders: messages that send themselves before the CE year ends (admins; SPEC §8)."""

import streamlit as st

from cetracker import messages, reminders
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin")
db = session.database()
year, end = reminders.current_year(db)
emailed = messages.SmtpSettings.from_config() is not None

st.title("Reminders")
st.markdown(
    "A reminder goes by itself to every active member short of hours for the current CE "
    f"year ({widgets.plain(policies.ce_year_label(db, year))}, ending {end:%m/%d/%Y}): "
    "it appears on the clerk's home page in CE Tracker"
    + (" and is emailed to them" if emailed else " (and is emailed once a mail server is set up)")
    + ". Each reminder goes once per CE year; nobody needs to send it by hand."
)
st.caption(
    "Clerks short of hours are not eligible to vote, be elected for clerk of the year or run "
    "for Secretary of the association."
)

saved = st.session_state.pop("reminder_saved", None)
if saved:
    st.success(saved)

st.header("Scheduled reminders")
widgets.show_table(
    reminders.overview(db, user),
    empty="No reminders yet: add one below (for example 60 and 14 days before the year ends).",
)

st.header("Add or change a reminder")
listed = reminders.schedules(db)
by_id = {s.id: s for s in listed}
pick = st.selectbox(
    "Reminder",
    [0, *by_id],
    format_func=lambda i: (
        "New reminder"
        if i == 0
        else f"{i}: {by_id[i].days_before} days before, “{by_id[i].subject}”"
        + ("" if by_id[i].active else " (inactive)")
    ),
    key="reminder_pick",
)
current = by_id.get(pick)
# Each reminder has its own widgets, so that choosing another shows its own text.
days = st.number_input(
    "Days before the CE year ends",
    min_value=0,
    max_value=reminders.MAX_DAYS_BEFORE,
    step=1,
    value=current.days_before if current else 60,
    key=f"reminder_days_{pick}",
)
st.caption(f"This CE year it sends on {reminders.sends_on(end, int(days)):%m/%d/%Y}.")
subject = st.text_input(
    "Subject",
    value=current.subject if current else reminders.DEFAULT_SUBJECT,
    max_chars=messages.MAX_SUBJECT,
    key=f"reminder_subject_{pick}",
)
body = st.text_area(
    "Message (Markdown)",
    value=current.body if current else reminders.DEFAULT_BODY,
    height=220,
    max_chars=messages.MAX_BODY,
    key=f"reminder_body_{pick}",
    help=messages.merge_fields_help(),
)
active = st.checkbox(
    "Active (sends when due)",
    value=current.active if current else True,
    key=f"reminder_active_{pick}",
    help="Untick to stop a reminder without deleting it.",
)
if st.button(
    "Add reminder" if current is None else "Save changes", type="primary", key="reminder_save"
):
    try:
        if current is None:
            new_id = reminders.add_schedule(
                db, user, days_before=days, subject=subject, body=body, active=active
            )
            for name in ("days", "subject", "body", "active"):
                st.session_state.pop(f"reminder_{name}_0", None)
            st.session_state["reminder_saved"] = f"Reminder {new_id} added."
        else:
            changes = reminders.update_schedule(
                db, user, current.id, days_before=days, subject=subject, body=body, active=active
            )
            st.session_state["reminder_saved"] = (
                f"Reminder {current.id} saved." if changes else "Nothing was changed."
            )
    except CetrackerError as exc:
        st.error(exc.message)
    else:
        st.rerun()

st.subheader("Preview")
shown = reminders.preview(db, user, subject, body)
if shown is None:
    st.info(f"Nobody is short of hours for CE year {year} right now: nobody would receive it.")
else:
    st.caption(
        f"As {widgets.plain(shown.member)} will read it, one of "
        f"{plural(shown.short_members, 'member')} short of hours for CE year {shown.year} today:"
    )
    with st.container(border=True):
        st.markdown(f"**{widgets.plain(shown.subject)}**")
        # Markdown only: raw HTML is shown as text, never run.
        st.markdown(widgets.message_markdown(shown.body))

st.header("Sent reminders")
widgets.show_table(reminders.past_sends(db, user), empty="No reminder has been sent yet.")
st.caption("Sent Messages lists each of them too, with who has read it.")
