"""Report a Course: log a course taken elsewhere with its certificate; pending until approved."""

from datetime import date

import streamlit as st

from cetracker import records, self_reports
from cetracker.entities import Invalid
from cetracker.errors import CetrackerError
from cetracker.files import uploads
from cetracker.rules import compute
from cetracker.ui import editing, session, widgets

user = session.require("member")
db = session.database()

st.title("Report a Course")
st.caption(
    "Took a course that is not on your record? Log it here with its certificate. "
    "It counts once the association approves it."
)
CERTIFICATE_TYPES = ["pdf", "png", "jpg", "jpeg"]


FORM = "report_course"  # the report form and the pending report's, fresh after a change


generation = editing.generation(FORM)
with st.form(f"report_form_{generation}"):
    # Two fields to a row, each row its own columns: a phone stacks the columns of a
    # row in turn, so the fields keep this order there (title, provider, date, hours,
    # category, certificate) instead of one column's fields and then the other's.
    cols = st.columns(2)
    title = cols[0].text_input("Course title", max_chars=300, key=f"rc_title_{generation}")
    provider = cols[1].text_input(
        "Provider", max_chars=300, key=f"rc_provider_{generation}", help="Who gave the course."
    )
    cols = st.columns(2)
    # The widgets take any date and number: the checks then say what is wrong in words.
    # A bound on the widget made it refuse quietly (a date after its last one turned into
    # "Enter the date", hours over its most were never sent and nothing was said).
    day = cols[0].date_input(
        "Date taken",
        value=None,
        min_value=date(compute.FIRST_CE_YEAR, 1, 1),
        max_value=date(compute.LAST_CE_YEAR, 12, 31),
        key=f"rc_date_{generation}",
        format="MM/DD/YYYY",
    )
    hours = cols[1].number_input(
        "Hours", step=0.25, value=None, format="%g", key=f"rc_hours_{generation}"
    )
    cols = st.columns(2)
    category = cols[0].selectbox(
        "Category", self_reports.CATEGORIES, key=f"rc_category_{generation}"
    )
    certificate = cols[1].file_uploader(
        f"Certificate (PDF, or a photo: PNG or JPEG; up to {uploads.limit_text()})",
        type=CERTIFICATE_TYPES,
        max_upload_size=uploads.uploader_limit_mb(),
        key=f"rc_file_{generation}",
        help="On a phone, choose Take Photo to photograph the paper certificate.",
    )
    if st.form_submit_button("Report this course", type="primary"):
        fields = {
            "title": title,
            "provider": provider,
            "day": day,
            "hours": hours if hours is not None else "",
            "category": category,
        }
        try:
            # Every problem at once: the fields' and the file's (opened in a bounded child
            # first: a picture bomb).
            problems = self_reports.report_problems(**fields)
            if certificate is not None:
                try:
                    uploads.check_certificate_file(certificate.getvalue(), certificate.name)
                except CetrackerError as exc:
                    problems.append(exc.message)
            if problems:
                raise Invalid(problems)
            self_reports.report_course(
                db,
                user,
                **fields,
                certificate=certificate.getvalue() if certificate else None,
                certificate_name=certificate.name if certificate else "",
            )
        except CetrackerError as exc:
            editing.show_problem(exc)
        else:
            editing.after_save(
                FORM, "Reported. It shows as pending until the association approves it."
            )
editing.show_notice(FORM)

st.header("My reported courses")
mine = records.records_frame(db, user)
reported = mine[mine["Source"] == "self report"]
if reported.empty:
    st.info("You have not reported any course yourself.")
    st.stop()
# What a member looks for first, in the columns a phone shows without scrolling the table.
widgets.show_table(
    reported.drop(columns=["id", "Source", "Note"]),
    column_order=[
        "Course",
        "Status",
        "Hours",
        "Date",
        "Category",
        "Provider",
        "CE year",
        "Certificate file",
    ],
)
for _, done in reported[reported["Note"] != ""].iterrows():
    st.markdown(
        f"**{widgets.plain(done['Course'])}** ({done['Date']:%m/%d/%Y}), {done['Status']}: "
        f"{widgets.plain(done['Note'])}"
    )
pending = reported[reported["Status"] == "pending"]
if not pending.empty:
    st.markdown("**Change or withdraw a pending report**")
    # The report chosen stays chosen when the list changes around it (a new report above
    # it): the choice is kept by id, and the box is drawn afresh for each list.
    ids = pending["id"].tolist()
    kept = st.session_state.get("rc_chosen")
    chosen = st.selectbox(
        "Pending report",
        ids,
        index=ids.index(kept) if kept in ids else 0,
        key=f"rc_pick_{generation}_{'_'.join(map(str, ids))}",
        format_func=widgets.distinct_labels(
            ids,
            lambda i: "{} ({:%m/%d/%Y})".format(
                *pending.loc[pending["id"] == i, ["Course", "Date"]].iloc[0]
            ),
        ),
    )
    st.session_state["rc_chosen"] = chosen
    row = pending.loc[pending["id"] == chosen].iloc[0]
    with st.form(f"edit_form_{generation}_{chosen}"):
        cols = st.columns(2)  # a row at a time, as in the form above
        new_title = cols[0].text_input("Course title", value=row["Course"], max_chars=300)
        new_provider = cols[1].text_input("Provider", value=row["Provider"], max_chars=300)
        cols = st.columns(2)
        new_day = cols[0].date_input(
            "Date taken",
            value=row["Date"],
            min_value=date(compute.FIRST_CE_YEAR, 1, 1),
            max_value=date(compute.LAST_CE_YEAR, 12, 31),
            format="MM/DD/YYYY",
        )
        new_hours = cols[1].number_input("Hours", step=0.25, value=float(row["Hours"]), format="%g")
        cols = st.columns(2)
        new_category = cols[0].selectbox(
            "Category",
            self_reports.CATEGORIES,
            index=self_reports.listed_category(row["Category"]),
        )
        save, withdraw = st.columns(2)
        if save.form_submit_button("Save changes"):
            try:
                self_reports.update_report(
                    db,
                    user,
                    int(chosen),
                    title=new_title,
                    provider=new_provider,
                    day=new_day,
                    hours=new_hours,
                    category=new_category,
                )
            except CetrackerError as exc:
                editing.show_problem(exc)
            else:
                editing.after_save(FORM, "Saved.")
        if withdraw.form_submit_button("Withdraw this report"):
            try:
                self_reports.withdraw_report(db, user, int(chosen))
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                editing.after_save(FORM, "Withdrawn.")
    with st.form("attach_form", clear_on_submit=True):
        attached = row["Certificate file"] if isinstance(row["Certificate file"], str) else ""
        new_file = st.file_uploader(
            ("Replace the certificate " + f"({attached})" if attached else "Add the certificate")
            + f" — PDF, PNG or JPEG, up to {uploads.limit_text()}",
            type=CERTIFICATE_TYPES,
            max_upload_size=uploads.uploader_limit_mb(),
            key="rc_attach_file",
        )
        if st.form_submit_button("Attach this file", key="rc_attach"):
            if new_file is None:
                st.error("Choose the certificate file first.")
            else:
                try:
                    uploads.check_certificate_file(new_file.getvalue(), new_file.name)
                    self_reports.attach_certificate(
                        db, user, int(chosen), new_file.getvalue(), new_file.name
                    )
                except CetrackerError as exc:
                    st.error(exc.message)
                else:
                    editing.after_save(FORM, f"{new_file.name} is attached to this report.")
