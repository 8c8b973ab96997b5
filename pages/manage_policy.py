"""CE Rules: required hours, carryover cap, CE-year start month and category minimums (admins).

A change is previewed first: how many members' eligibility it changes, year by year.
"""

import calendar

import pandas as pd
import streamlit as st

from cetracker import policy as policies
from cetracker import standing
from cetracker.errors import CetrackerError
from cetracker.plurals import plural
from cetracker.rules import compute
from cetracker.ui import editing, session, widgets

FORM = "policy"
user = session.require("admin")
db = session.database()

st.title("CE Rules")
st.caption(
    "A year follows the latest policy whose effective year is not after it; category minimums "
    "are versioned the same way. Carried hours count toward the total only."
)
stored = policies.load_policies(db)
sets = policies.load_minimum_sets(db)
cols = st.columns(2)
with cols[0]:
    st.header("Policies")
    widgets.show_table(
        pd.DataFrame(
            [
                (
                    p.effective_year,
                    float(p.required_hours),
                    float(p.carryover_cap),
                    calendar.month_name[p.ce_year_start_month],
                )
                for p in stored
            ],
            columns=["Effective from", "Required hours", "Carryover cap", "CE year starts"],
        ),
        empty="No policy stored: the defaults apply (20 hours, cap 10, calendar year).",
    )
with cols[1]:
    st.header("Category minimums")
    widgets.show_table(
        pd.DataFrame(
            [(y, policies._minimums_text(m)) for y, m in sorted(sets.items())],
            columns=["Effective from", "Minimums"],
        ),
        empty="No category minimums.",
    )

st.header("Change the rules")
year = int(
    st.number_input(
        "Effective from CE year",
        min_value=1900,
        max_value=2200,
        value=policies.current_ce_year(db),
        step=1,
        key="pol_year",
    )
)
now = policies.policy_for_year(db, year)
now_minimums = policies.minimums_for_year(db, year)
with st.form(f"policy_{year}_{editing.generation(FORM)}"):
    c = st.columns(3)
    required = c[0].number_input(
        "Required hours", value=float(now.required_hours), step=1.0, format="%g"
    )
    cap = c[1].number_input(
        "Carryover cap (0 = no carryover)", value=float(now.carryover_cap), step=1.0, format="%g"
    )
    month = c[2].selectbox(
        "CE year starts in",
        list(range(1, 13)),
        index=now.ce_year_start_month - 1,
        format_func=lambda m: calendar.month_name[m],
    )
    minimums_text = st.text_area(
        "Category minimums, one per line",
        value="\n".join(f"{k}: {compute.format_hours(v)}" for k, v in now_minimums.items()),
        help="For example “Ethics: 3”. Leave empty for no category minimums.",
    )
    if st.form_submit_button("Preview the effect", type="primary"):
        try:
            proposal = policies.Proposal(
                compute.Policy(
                    year,
                    compute.two_places(required),
                    compute.two_places(cap),
                    int(month),
                ),
                policies.parse_minimums(minimums_text),
            )
            policies.check_proposal(db, proposal)
            with st.spinner("Working out every member's eligibility under the new rules…"):
                st.session_state["policy_preview"] = (
                    proposal,
                    standing.policy_impact(db, proposal),
                )
        except CetrackerError as exc:
            st.session_state.pop("policy_preview", None)
            editing.show_problem(exc)

preview = st.session_state.get("policy_preview")
if preview and preview[0].effective_year == year:
    proposal, impact = preview
    p = proposal.policy
    st.markdown(
        f"**From CE year {p.effective_year}:** {compute.hours_text(p.required_hours)} "
        f"required, carryover cap {compute.format_hours(p.carryover_cap)}, CE year starts in "
        f"{calendar.month_name[p.ce_year_start_month]}; category minimums: "
        f"{widgets.plain(policies._minimums_text(proposal.minimums))}."
    )
    table = pd.DataFrame(
        [
            (
                i.year,
                i.members,
                i.eligible_before,
                i.eligible_after,
                i.gain,
                i.lose,
                "closed: keeps its snapshot" if i.closed else "",
            )
            for i in impact
        ],
        columns=[
            "CE year",
            "Members",
            "Eligible now",
            "Eligible after",
            "Become eligible",
            "No longer eligible",
            "Note",
        ],
    )
    changed = sum(i.changed for i in impact)
    if changed:
        st.warning(
            f"This change alters eligibility for {plural(changed, 'member-year')}: "
            + ", ".join(f"{i.year}: {i.changed:,}" for i in impact if i.changed)
            + "."
        )
    else:
        st.info("No member's eligibility changes in any year.")
    st.dataframe(table, hide_index=True)
    if st.button("Save this policy", key="policy_save"):
        try:
            changes = policies.save_proposal(db, proposal, actor=user.username)
        except CetrackerError as exc:
            editing.show_problem(exc)
        else:
            # The page runs again: the tables above show the saved rules, the preview and
            # its button go (they spoke of the rules before the save).
            st.session_state.pop("policy_preview", None)
            editing.after_save(FORM, editing.saved_notice(changes, f"the rules from {year}"))
editing.show_notice(FORM)
