"""Certificate Report: every annual certificate earned in the year, to print (SPEC §3.3)."""

import streamlit as st

from cetracker import config
from cetracker.files import certificates
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Certificate Report")
st.caption(
    "Every member who met the requirement for the CE year earns a certificate. "
    "Each carries a verification code that anyone can check on the Verify page."
)
address = config.base_url(session.browsing_base_url())
if not config.base_url_configured():
    st.warning(
        f"The certificates' QR codes and links lead to {address}/verify, the address you are "
        "using now, because no public address is set. If members and employers reach the app "
        "at another address, set CETRACKER_BASE_URL to it (see docs/DEPLOYMENT.md).",
        icon=":material/warning:",
    )
filters = widgets.filter_bar(db, user, "cert")
# The page makes the certificates it shows (the first rows); the download makes them all.
count = certificates.earned_count(db, filters)
earned = certificates.earned_certificates(db, filters, limit=widgets.MAX_ROWS_SHOWN)
st.metric("Certificates earned", f"{count:,}")
table = certificates.certificate_rows(earned)
widgets.show_table(
    table,
    empty="Nobody matching these filters earned a certificate this year.",
    total=count,
)
if earned:
    st.download_button(
        "Download all certificates (PDF)",
        lambda: certificates.certificates_pdf(
            certificates.earned_certificates(db, filters), base_url=address
        ),
        file_name=f"certificates-{filters.year}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="cert_all",
        type="primary",
        icon=":material/picture_as_pdf:",
    )
    picked = st.selectbox(
        "One member's certificate",
        range(len(earned)),
        key="cert_one",
        format_func=lambda i: f"{earned[i].name} ({earned[i].license_number})",
        help=(
            f"The first {len(earned):,} in name order. To find another member, search for "
            "the name or license number in the filters above."
            if count > len(earned)
            else None
        ),
    )
    st.download_button(
        "Download this certificate",
        lambda: certificates.certificates_pdf([earned[picked]], base_url=address),
        file_name=f"certificate-{filters.year}-{earned[picked].license_number}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="cert_single",
        icon=":material/download:",
    )
