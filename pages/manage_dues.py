"""Dues Entry: record what a member owes and paid for a year, or add a year's dues for all (admins)."""

import streamlit as st

from cetracker import audit, config, dues, entities, members
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.filters import Filters
from cetracker.plurals import plural
from cetracker.ui import editing, session, widgets

user = session.require("admin")
db = session.database()

st.title("Dues Entry")
this_year = policies.current_ce_year(db)
year = int(
    st.number_input(
        "Dues year", min_value=1900, max_value=2200, value=this_year, step=1, key="md_year"
    )
)
figures = dues.totals(db, Filters(year=year))
cols = st.columns(3)
cols[0].metric("Members with dues", f"{figures.with_dues:,}")
cols[1].metric("Paid", f"${figures.paid:,.2f}")
cols[2].metric("Outstanding", f"${figures.outstanding:,.2f}")

one_tab, all_tab = st.tabs(["One member", "Dues for every active member"])
with all_tab:
    with st.form("dues_all"):
        amount = st.number_input("Amount due", value=None, step=5.0, format="%.2f")
        if st.form_submit_button(f"Add {year} dues for every active member without them"):
            try:
                added = dues.add_dues_for_year(db, year, amount, actor=user.username)
            except CetrackerError as exc:
                editing.show_problem(exc)
            else:
                st.success(f"Added {year} dues for {plural(added, 'member')}.")

with one_tab:
    license_number = st.text_input("Member's license number", key="md_license", max_chars=40)
    if not license_number.strip():
        st.info("Type a member's license number to see and change their dues.")
        st.stop()
    member = members.member_by_license(db, license_number)
    if member is None:
        st.warning(f"No member holds license number {widgets.plain(license_number.strip())}.")
        st.stop()
    member_id, name = member
    st.markdown(f"**{widgets.plain(name)}** · {year}")
    key = f"dues_{member_id}_{year}"
    dues_key = {"member_id": member_id, "year": year}
    before = editing.loaded(key, lambda: entities.current(db, dues.DUES, dues_key))

    def dues_saved(_entered: dict[str, object], changes: object) -> editing.Notice:
        return editing.saved_notice(changes, f"{year} dues")  # type: ignore[arg-type]

    editing.edit(
        dues.DUES,
        before or {"amount_paid": 0, "status": "unpaid"},
        key,
        submit="Save dues",
        save=lambda v: dues.save_dues(db, member_id, year, v, actor=user.username, loaded=before),
        done=dues_saved,
        reload_label="Reload these dues",
        max_date=config.today(),
    )
    with st.expander("History"):
        widgets.show_table(
            audit.history(db, "dues", f"member_id={member_id}, year={year}"),
            empty="No changes recorded yet.",
        )
