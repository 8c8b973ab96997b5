"""Verify a certificate by its code: public, no login (SPEC §4)."""

import streamlit as st

from cetracker.files import certificates
from cetracker.rules import compute
from cetracker.ui import session, widgets

db = session.database()

st.title("Verify a certificate")
st.caption(
    "Type the verification code printed at the bottom of a CE Tracker certificate, "
    "or scan its QR code."
)
code = st.text_input(
    "Verification code",
    value=st.query_params.get("code", ""),
    key="verify_code",
    max_chars=80,
    placeholder="AAAAE-VIH5E-…",
)
if code.strip():
    found = certificates.verify(db, code)
    if found is None:
        st.error(
            "Not a valid certificate: no certificate has this code. Check the code "
            "letter by letter; a changed code never verifies."
        )
    else:
        st.success("This is a valid certificate.")
        cols = st.columns(4)
        cols[0].markdown(f"**Name**  \n{widgets.plain(found.name)}")
        cols[1].markdown(f"**CE year**  \n{found.year}")
        cols[2].markdown(f"**Hours credited**  \n{compute.format_hours(found.hours)}")
        cols[3].markdown(f"**Issued**  \n{found.issued:%B %d, %Y}")
