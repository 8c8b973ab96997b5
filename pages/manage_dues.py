"""Dues Entry: record what a member owes and paid for a year, or add a year's dues for all (admins)."""

import streamlit as st

from cetracker import config, office
from cetracker import policy as policies
from cetracker.errors import CetrackerError
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
paid, due, rows = office.dues_totals(db, year)
cols = st.columns(3)
cols[0].metric("Members with dues", f"{rows:,}")
cols[1].metric("Paid", f"${paid:,.2f}")
cols[2].metric("Outstanding", f"${max(due - paid, 0):,.2f}")

one_tab, all_tab = st.tabs(["One member", "Dues for every active member"])
with all_tab:
    with st.form("dues_all"):
        amount = st.number_input("Amount due", value=None, step=5.0, format="%.2f")
        if st.form_submit_button(f"Add {year} dues for every active member without them"):
            try:
                added = office.add_dues_for_year(db, year, amount, actor=user.username)
            except CetrackerError as exc:
                editing.show_problem(exc)
            else:
                st.success(f"Added {year} dues for {added:,} members.")

with one_tab:
    license_number = st.text_input("Member's license number", key="md_license", max_chars=40)
    if not license_number.strip():
        st.info("Type a member's license number to see and change their dues.")
        st.stop()
    member = office.member_by_license(db, license_number)
    if member is None:
        st.warning(f"No member holds license number {widgets.plain(license_number.strip())}.")
        st.stop()
    member_id, name = member
    st.markdown(f"**{widgets.plain(name)}** · {year}")
    key = f"dues_{member_id}_{year}"
    dues_key = {"member_id": member_id, "year": year}
    before = editing.loaded(key, lambda: office.current(db, office.DUES, dues_key))

    def dues_saved(_entered: dict[str, object], changes: object) -> None:
        editing.saved_message(changes, f"{year} dues")  # type: ignore[arg-type]

    editing.edit(
        office.DUES,
        before or {"amount_paid": 0, "status": "unpaid"},
        key,
        submit="Save dues",
        save=lambda v: office.save_dues(db, member_id, year, v, actor=user.username, loaded=before),
        done=dues_saved,
        reload_label="Reload these dues",
        max_date=config.today(),
    )
    with st.expander("History"):
        widgets.show_table(
            office.history(db, "dues", f"member_id={member_id}, year={year}"),
            empty="No changes recorded yet.",
        )
