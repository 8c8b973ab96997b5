"""Import History: every roster upload with who, when, file and counts; open one to see its rows."""

import streamlit as st

from cetracker import importer
from cetracker.ui import session, widgets

user = session.require("admin", "provider")
db = session.database()
own = user.provider_id if user.role == "provider" else None

st.title("Import History")
history = importer.import_history(db, own)
if history.empty:
    st.info("No rosters have been uploaded yet.")
    st.stop()
widgets.show_table(history.drop(columns=["Import"]))
picked = st.selectbox(
    "Open an upload",
    history["Import"].tolist(),
    key="history_pick",
    format_func=widgets.distinct_labels(
        history["Import"].tolist(),
        lambda i: "{} · {:%m/%d/%Y %H:%M}".format(
            *history.loc[history["Import"] == i, ["File", "Uploaded"]].iloc[0]
        ),
    ),
    help="See every row of this upload and what happened to it.",
)
rows = importer.import_rows(db, int(picked), own)
only_failed = st.toggle("Failed rows only", key="history_failed")
if only_failed:
    rows = rows[rows["Status"] != "Processed"]
widgets.show_table(rows, empty="No rows to show.")
