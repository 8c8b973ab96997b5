"""My CE: where do I stand, and why — totals, categories, carryover, and my documents."""

import streamlit as st

from cetracker import charts, config, messages, records, standing
from cetracker import policy as policies
from cetracker import years as ce_years
from cetracker.files import archive, certificates, transcripts
from cetracker.plurals import plural
from cetracker.rules import compute
from cetracker.ui import session, widgets

user = session.require("member")
db = session.database()

st.title("My CE")
waiting = messages.unread_count(db, user)
if waiting:
    st.info(f"You have {plural(waiting, 'unread message')} from the association.")
    st.page_link("pages/inbox.py", label="Read my messages", icon=":material/mail:")
years = records.my_years(db, user)
year = st.selectbox(
    "CE year",
    years,
    key="my_year",
    format_func=lambda y: policies.ce_year_label(db, y),
)
mine = standing.my_standing(db, user, year)

# A row that wraps: on a phone, five columns would stack into a screen of one figure
# each, with "Short by" below the fold; these sit two or three to a line.
with st.container(horizontal=True, horizontal_alignment="distribute", key="my_figures"):
    st.metric("Earned", compute.format_hours(mine.earned), width="content")
    st.metric("Carried in", compute.format_hours(mine.carried_in), width="content")
    st.metric("Credited", compute.format_hours(mine.credited), width="content")
    st.metric("Required", compute.format_hours(mine.required), width="content")
    st.metric("Short by", compute.format_hours(mine.short_by), width="content")
deadline = policies.ce_year_end(db, year)
if mine.eligible:
    st.success(compute.what_it_gives(year, deadline, config.today()))
else:
    remaining = compute.what_remains(
        mine, deadline, config.today(), closed=ce_years.is_closed(db, year) is not None
    )
    st.warning("  \n".join(widgets.plain(line) for line in remaining))
    if mine.active:
        st.caption(compute.INELIGIBLE_NOTE)

share = float(min(mine.credited / mine.required, 1)) if mine.required else 1.0
st.progress(
    share,
    text=f"Total: {compute.format_hours(mine.credited)} of "
    f"{compute.hours_text(mine.required)} · {widgets.hours_to_go(mine.short_by)}",
)
for category, (got, minimum) in mine.categories.items():
    to_go = max(compute.ZERO, minimum - got)
    st.progress(
        float(min(got / minimum, 1)),
        text=f"{category}: {compute.format_hours(got)} of {compute.hours_text(minimum)} · "
        f"{widgets.hours_to_go(to_go, category)} (carried hours do not count here)",
    )

st.header("Why")
explained = records.why(db, user, year)
st.markdown(widgets.plain(explained.carried_from))
st.markdown("**Courses that count for this year**")
# What a member looks for first, in the columns a phone shows without scrolling the table.
FIRST = ["Course", "Hours", "Date", "Category"]
widgets.show_table(
    explained.counted.drop(columns=["Status"]),  # every one of them approved
    empty="No approved courses in this CE year yet.",
    column_order=FIRST,
)
if not explained.not_counted.empty:
    st.markdown("**Courses that do not count (yet)**")
    widgets.show_table(
        explained.not_counted.drop(columns=["Note", "Status"]),  # "Why not" says it
        column_order=["Course", "Why not", *FIRST[1:]],
    )
    # The office's reason in full: a table cell would cut it off.
    for _, course in explained.not_counted[explained.not_counted["Note"] != ""].iterrows():
        st.markdown(
            f"**{widgets.plain(course['Course'])}** ({course['Date']:%m/%d/%Y}), "
            f"{course['Why not']}: {widgets.plain(course['Note'])}"
        )

st.header("Hours by year")
by_year = records.hours_by_year(db, user)
if by_year.empty:
    st.info("No approved hours yet.")
else:
    chart = charts.my_hours_by_year(by_year)
    st.plotly_chart(chart, width="stretch")

st.header("My documents")
cols = st.columns(3)
earned = [y for y in years if standing.my_standing(db, user, y).eligible]
with cols[0]:
    if earned:
        cert_year = st.selectbox("Annual certificate", earned, key="my_cert_year")
        my_certificate = certificates.member_certificate(db, user.member_id, cert_year)
        # Read while the page runs: the file is made later, when the button is pressed,
        # outside the page's run, where the address being browsed is not known.
        address = session.browsing_base_url()
        st.download_button(
            "Download my certificate",
            lambda: certificates.certificates_pdf([my_certificate], base_url=address),
            file_name=f"certificate-{cert_year}.pdf",
            mime="application/pdf",
            on_click="ignore",
            key="my_cert",
            icon=":material/workspace_premium:",
        )
    else:
        st.caption("A certificate appears here for each CE year you meet the requirement.")
with cols[1]:
    span = st.select_slider(
        "Transcript years", options=sorted(years), value=(min(years), max(years)), key="my_span"
    )
    appended = st.checkbox("Append my certificate files", key="my_append")
    st.download_button(
        "Download my transcript (PDF)",
        lambda: transcripts.transcript_pdf(
            db, user.member_id, span[0], span[1], with_certificates=appended
        ),
        file_name=f"transcript-{span[0]}-{span[1]}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="my_transcript",
        icon=":material/description:",
    )
with cols[2]:
    st.download_button(
        "Download all my data (.zip)",
        lambda: archive.my_data_zip(db, user),
        file_name=f"my-ce-data-{config.today()}.zip",
        mime="application/zip",
        on_click="ignore",
        key="my_zip",
        icon=":material/folder_zip:",
        help="Your records as CSV and Excel, and every certificate file.",
    )
