"""Verify a certificate by its code (public, no login)."""

import streamlit as st

st.title("Verify a certificate")
st.text_input(
    "Verification code",
    key="verify_code",
    max_chars=80,
    help="The code printed at the bottom of the certificate.",
)
st.info("Certificate verification arrives with the certificates report.")
