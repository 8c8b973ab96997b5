"""Approvals: courses members reported themselves, with their certificates (admins)."""

import streamlit as st

from cetracker import self_reports
from cetracker.errors import CetrackerError
from cetracker.files import uploads
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin")
db = session.database()

st.title("Approvals")
if done := st.session_state.pop("_ap_done", None):  # said before the rerun that showed this
    st.success(done)
pending = self_reports.pending_reports(db)
st.metric("Waiting for review", f"{len(pending):,}")
if pending.empty:
    st.success("Nothing is waiting for review.")
    st.stop()
widgets.show_table(pending.drop(columns=["Record"]))

st.header("Review one")
chosen = st.selectbox(
    "Reported course",
    pending["Record"].tolist(),
    key="ap_pick",
    format_func=widgets.distinct_labels(
        pending["Record"].tolist(),
        lambda i: "{} — {}".format(
            *pending.loc[pending["Record"] == i, ["Member", "Course"]].iloc[0]
        ),
    ),
)
try:
    data, name, mime = self_reports.certificate_file(db, user, int(chosen))
except CetrackerError as exc:
    st.info(exc.message)
else:
    pictures = uploads.preview_certificate(data, mime)
    for picture in pictures:
        st.image(picture, caption=name, width=700)
    if not pictures:
        st.warning("This certificate file could not be shown; download it to look at it.")
    st.download_button(
        "Download the certificate file",
        data,
        file_name=name,
        mime=mime,
        on_click="ignore",
        key="ap_file",
    )
reason = st.text_input(
    "Reason (shown to the member when rejecting)", key="ap_reason", max_chars=500
)
cols = st.columns(3)
if cols[0].button("Approve", type="primary", key="ap_approve"):
    try:  # (refused in a closed year, or decided meanwhile by someone else)
        self_reports.decide(db, user, [int(chosen)], approve=True)
        st.session_state["_ap_done"] = "Approved 1 reported course; the member is told."
        st.rerun()
    except CetrackerError as exc:
        st.error(exc.message)
if cols[1].button("Reject", key="ap_reject"):
    try:
        self_reports.decide(db, user, [int(chosen)], approve=False, reason=reason)
        st.session_state["_ap_done"] = "Rejected 1 reported course; the member is told why."
        st.rerun()
    except CetrackerError as exc:
        st.error(exc.message)

st.header("Approve several")
many = st.multiselect(
    "Reported courses",
    pending["Record"].tolist(),
    key="ap_many",
    format_func=widgets.distinct_labels(
        pending["Record"].tolist(),
        lambda i: "{} — {}".format(
            *pending.loc[pending["Record"] == i, ["Member", "Course"]].iloc[0]
        ),
    ),
)
if st.button(f"Approve {len(many)} selected", disabled=not many, key="ap_bulk"):
    try:
        count = self_reports.decide(db, user, [int(i) for i in many], approve=True)
        st.session_state["_ap_done"] = f"Approved {plural(count, 'reported course')}; " + (
            "the member is told." if count == 1 else "the members are told."
        )
        st.rerun()
    except CetrackerError as exc:
        st.error(exc.message)
