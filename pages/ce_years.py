"""CE Years: close a year after its deadline (hour summary and certificates frozen), or reopen it."""

import pandas as pd
import streamlit as st

from cetracker import years
from cetracker.errors import CetrackerError
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin")
db = session.database()

st.title("CE Years")
st.caption(
    "Closing a year freezes its hour summary and the certificates issued for it: reports of a "
    "closed year read that snapshot, certificate codes stay valid, and its records cannot "
    "change until the year is reopened with a reason. Neither can the year before's, whose "
    "extra hours carry into it."
)
done = st.session_state.pop("ce_years_done", None)
if done:
    st.success(done)
overview = pd.DataFrame(years.overview(db))
widgets.show_table(overview, empty="No CE records yet.")
if overview.empty:
    st.stop()
open_years = [int(y) for y, c in overview[["CE year", "Closed"]].values if not c]
closed_years = [int(y) for y, c in overview[["CE year", "Closed"]].values if c]

close_col, reopen_col = st.columns(2)
with close_col, st.form("close_year"):
    st.header("Close a year")
    year = st.selectbox("CE year", open_years, key="close_pick")
    sure = st.checkbox("I understand: its hours become final until it is reopened")
    if st.form_submit_button("Close this year", type="primary", disabled=not open_years):
        if not sure:
            st.warning("Tick the box to confirm.")
        else:
            try:
                count = years.close_year(db, int(year), actor=user.username)
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                st.session_state["ce_years_done"] = (
                    f"CE year {year} is closed: the standing of {plural(count, 'member')} is frozen."
                )
                st.rerun()
with reopen_col, st.form("reopen_year"):
    st.header("Reopen a year")
    # Not an empty, greyed-out list: its faded label fails the contrast audit and says less.
    if not closed_years:
        st.info("No CE year is closed.")
    again = (
        st.selectbox("Closed CE year", closed_years, key="reopen_pick") if closed_years else None
    )
    reason = st.text_area("Reason (kept in the audit log)", max_chars=500)
    if st.form_submit_button("Reopen this year", disabled=not closed_years):
        try:
            years.reopen_year(db, int(again), actor=user.username, reason=reason)
        except CetrackerError as exc:
            st.error(exc.message)
        else:
            st.session_state["ce_years_done"] = (
                f"CE year {again} is open again; its records can change."
            )
            st.rerun()
