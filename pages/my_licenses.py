"""My Licenses: my own license renewal cycles and my progress in each (SPEC §4)."""

from datetime import date

import pandas as pd
import streamlit as st

from cetracker import config, licenses
from cetracker.errors import CetrackerError
from cetracker.files import transcripts
from cetracker.rules import compute
from cetracker.ui import session, widgets

user = session.require("member")
db = session.database()

st.title("My Licenses")
st.caption(
    "Track the renewal cycle of a license you hold. Approved courses dated inside the "
    "cycle count toward it automatically; one course counts for every license it falls in."
)
for cycle in licenses.license_progress(db, user):
    with st.container(border=True):
        st.markdown(
            f"**{widgets.plain(cycle.board)}** {widgets.plain(cycle.license_number)} · "
            f"{cycle.start:%m/%d/%Y} – {cycle.end:%m/%d/%Y} · {cycle.days_left} days left"
        )
        share = float(min(cycle.earned / cycle.required, 1)) if cycle.required else 1.0
        st.progress(
            share,
            text=f"{compute.format_hours(cycle.earned)} of "
            f"{compute.hours_text(cycle.required)} · "
            f"{widgets.hours_to_go(cycle.remaining)}",
        )
        for category, (got, minimum) in cycle.categories.items():
            st.progress(
                float(min(got / minimum, 1)) if minimum else 1.0,
                text=f"{category}: {compute.format_hours(got)} of "
                f"{compute.hours_text(minimum)} · "
                f"{widgets.hours_to_go(cycle.missing(category), category)}",
            )
        st.download_button(
            "Transcript of this cycle (PDF)",
            lambda lid=cycle.license_id: transcripts.cycle_transcript(db, user, lid),
            file_name=f"transcript-{cycle.board}-{cycle.end:%Y}.pdf",
            mime="application/pdf",
            on_click="ignore",
            key=f"lic_transcript_{cycle.license_id}",
            icon=":material/description:",
        )
        if st.button("Remove this license", key=f"lic_remove_{cycle.license_id}"):
            licenses.remove_license(db, user, cycle.license_id)
            st.rerun()

st.header("Add a license")
with st.form("license_form", clear_on_submit=True):
    cols = st.columns(2)
    board = cols[0].text_input("Licensing board", max_chars=200)
    number = cols[1].text_input("License number", max_chars=60)
    start = cols[0].date_input(
        "Cycle starts", value=date(config.today().year, 1, 1), format="MM/DD/YYYY"
    )
    end = cols[1].date_input(
        "Cycle ends", value=date(config.today().year + 1, 12, 31), format="MM/DD/YYYY"
    )
    required = cols[0].number_input(
        "Hours required in the cycle", min_value=0.0, value=40.0, step=1.0
    )
    known = licenses.category_names(db, user)
    st.markdown("**Category minimums** (optional): the hours the board requires in a category.")
    minimums = st.data_editor(
        pd.DataFrame({"Category": pd.Series([], dtype="string"), "Minimum hours": []}),
        num_rows="dynamic",
        key="license_minimums",
        column_config={
            "Category": st.column_config.TextColumn(
                "Category",
                max_chars=60,
                help="Any category the board names. Courses count by their category: "
                + ", ".join(known),
            ),
            "Minimum hours": st.column_config.NumberColumn(
                "Minimum hours", min_value=0.0, step=0.5
            ),
        },
        width="stretch",
    )
    if st.form_submit_button("Add license", type="primary"):
        try:
            licenses.add_license(
                db,
                user,
                board=board,
                license_number=number,
                start=start,
                end=end,
                required=required,
                minimums=list(
                    zip(minimums["Category"].fillna(""), minimums["Minimum hours"], strict=True)
                ),
            )
            st.rerun()
        except CetrackerError as exc:
            st.error(exc.message)
