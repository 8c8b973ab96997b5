"""Hour Summary Report: each member's hours for a CE year, and who is short (SPEC §3.1)."""

import streamlit as st

from cetracker import charts, reports
from cetracker.files import exports
from cetracker.plurals import plural
from cetracker.rules import compute
from cetracker.standing import (
    HOUR_SUMMARY_COLUMNS,
    eligibility_by_area,
    hour_summary,
    hour_summary_counts,
)
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Hour Summary Report")
st.caption("Each member's hours for the CE year: earned, carried over, credited and short by.")
filters = widgets.filter_bar(db, user, "hs", short_switch=True)
counts = hour_summary_counts(db, filters)
# Only the rows a table shows leave the database; the downloads hold every row.
frame = hour_summary(db, filters, limit=widgets.MAX_ROWS_SHOWN, reasons=True)
shown = counts.members
cols = st.columns(4)
cols[0].metric("Members", f"{shown:,}")
cols[1].metric("Eligible", f"{counts.eligible:,}")
cols[2].metric("Not eligible", f"{counts.not_eligible:,}")
cols[3].metric("Hours short, in all", compute.format_hours(counts.short_hours, grouped=True))
st.warning(compute.INELIGIBLE_NOTE, icon=":material/how_to_vote:")
left, right = st.columns(2)
with left:
    widgets.chart(
        charts.short_by_distribution(reports.short_by_buckets(db, filters)),
        "Members by hours short",
        "hs_chart_short",
    )
with right:
    widgets.chart(
        charts.eligibility_by_area(eligibility_by_area(db, filters)),
        "Active members eligible, by area",
        "hs_chart_areas",
    )

widgets.show_table(
    widgets.labelled(frame),
    total=shown,
    # The hours first: at 1400 px they show without scrolling sideways.
    column_order=[
        "License number",
        "Last name",
        "First name",
        "Earned",
        "Carried in",
        "Credited",
        "Required",
        "Short by",
        "Eligible",
        "Why not eligible",
        "Area",
        "County",
        "Position",
    ],
    column_config={
        "Eligible": st.column_config.CheckboxColumn(
            "Eligible",
            help=f"Unchecked: may not {compute.privileges('or')}.",
            width="small",
        ),
        **{
            name: widgets.hours_column(name)
            for name in ("Earned", "Carried in", "Credited", "Required", "Short by")
        },
    },
)
widgets.export_buttons(
    lambda: hour_summary(db, filters, reasons=True),
    "Hour Summary Report",
    filters,
    f"hour-summary-{filters.year}",
    "hs_export",
    csv_columns=HOUR_SUMMARY_COLUMNS,
)
if shown:
    # The active members shown: the eligibility-by-area figures count only them.
    active = int(reports.active_members(db, filters))
    inactive = shown - active
    leave_out = True
    if inactive:
        leave_out = st.checkbox(
            # What it leaves them out of, in its words: the table above keeps listing them.
            f"Don't write to the {plural(inactive, 'inactive member')} shown",
            value=True,
            key="hs_leave_out_inactive",
            help="Inactive members stay listed in the report and its exports; this leaves "
            "them out of the message and the email list below.",
        )
    chosen = active if leave_out else shown
    st.caption(
        f"{plural(shown, 'member')} shown: {active:,} active, {inactive:,} inactive. "
        + (
            f"A message goes to the {plural(active, 'active member')}."
            if leave_out and inactive
            else f"A message goes to all {plural(chosen, 'member')} shown."
        )
    )

    def emails() -> bytes:
        contacts = reports.member_list(db, filters)
        everyone = hour_summary(db, filters)
        picked = contacts[contacts["license_number"].isin(everyone["license_number"])]
        if leave_out:
            picked = picked[picked["status"] == "active"]
        return exports.to_csv(picked[["license_number", "first_name", "last_name", "email"]])

    if st.button(
        f"Message these {plural(chosen, 'member')}",
        key="hs_message",
        icon=":material/send:",
        disabled=chosen == 0,
        help="Open Send Messages with exactly these members.",
    ):
        detail = hour_summary(db, filters, detail=True)
        if leave_out:
            detail = detail[detail["status"] == "active"]
        st.session_state["compose_member_ids"] = [int(i) for i in detail["member_id"]]
        st.session_state["compose_from"] = {
            "report": "Hour Summary",
            "year": filters.year,
            "filters": filters.describe(),
            "shown": shown,
            "inactive_left_out": inactive if leave_out else 0,
            "include_inactive": not leave_out,
        }
        st.switch_page("pages/messages_compose.py")
    st.download_button(
        f"Email addresses of these {plural(chosen, 'member')} (CSV)",
        emails,
        file_name=f"members-{filters.year}-emails.csv",
        mime="text/csv",
        on_click="ignore",
        key="hs_emails",
        icon=":material/mail:",
        help="To write to exactly these members from your own email program.",
    )
