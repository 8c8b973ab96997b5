"""Verify a certificate by its code: public, no login (SPEC §4); rate-limited per client."""

from datetime import datetime, timedelta

import streamlit as st

from cetracker import rate_limit
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
    # A rerun of the page (any click) looks the same code up again: only a new code counts.
    last = st.session_state.get("_verify_last")
    if last is not None and last[0] == code:
        found = last[1]
    else:
        refused = rate_limit.VERIFY_LOOKUPS.take(session.client_address() or "local")
        if refused is not None:
            seconds = max(1, round(refused.retry_in + 0.5))
            at = datetime.now() + timedelta(seconds=seconds)
            st.error(
                f"Too many lookups from your address: at most {refused.limit} a minute. "
                f"Try again in {seconds} seconds (at {at:%H:%M:%S})."
            )
            st.stop()
        found = certificates.verify(db, code)
        st.session_state["_verify_last"] = (code, found)
    if found is None:
        st.error(
            "Not a valid certificate: no certificate has this code. Check the code "
            "letter by letter; a changed code never verifies."
        )
    else:
        st.success("This is a valid certificate.")
        cols = st.columns(4)
        cols[0].markdown(f"**Name**  \n{widgets.plain(found.name)}")
        cols[1].markdown(f"**CE year**  \n{found.year_label}")
        cols[2].markdown(f"**Hours credited**  \n{compute.format_hours(found.hours)}")
        cols[3].markdown(f"**Issued**  \n{compute.long_date(found.issued)}")
