"""Backup: download a consistent copy of the whole database (admins). Restoring is a command."""

from pathlib import Path

import streamlit as st

from cetracker import audit, backups, config
from cetracker.errors import CetrackerError
from cetracker.ui import session

user = session.require("admin")
db = session.database()

st.title("Backup")
st.markdown(
    "A backup is one file holding everything: members, records, imports, messages, accounts "
    "and the audit log. Keep it somewhere safe; it contains personal data and password hashes."
)
folder = config.backup_folder()
nightly = backups.last_nightly(db)
try:
    scheduled, problem = config.backup_hour() is not None and config.scheduler_seconds() > 0, ""
except CetrackerError as exc:
    scheduled, problem = False, exc.message
if not scheduled:
    st.caption(
        "The app makes no nightly backup"
        + (f": {problem}" if problem else " (CETRACKER_BACKUP_HOUR, CETRACKER_SCHEDULER_MINUTES).")
    )
elif nightly is None:
    st.caption(f"The app makes a backup into `{folder}` every night; none has been made yet.")
elif nightly.error:
    st.warning(
        f"The nightly backup of {nightly.day:%m/%d/%Y} failed: {nightly.error}. "
        "The app tries again tomorrow; make one now below."
    )
else:
    st.caption(
        f"The app makes a backup every night; the latest, of {nightly.day:%m/%d/%Y}, is "
        + (
            f"`{Path(nightly.file).name}` in `{Path(nightly.file).parent}`."
            if nightly.file
            else "being made."
        )
    )
if st.button("Make a backup now", type="primary", icon=":material/backup:"):
    try:
        with st.spinner("Copying the database…"):
            made = backups.backup(db, folder)
    except (CetrackerError, OSError) as exc:
        st.error(f"The backup could not be made: {exc}")
    else:
        audit.log(db, user.username, "backup made", "backup", made.name)
        st.session_state["backup_file"] = str(made)
made_path = st.session_state.get("backup_file")
if made_path and Path(made_path).exists():
    path = Path(made_path)
    st.success(f"Backup {path.name} is ready ({path.stat().st_size / 1e6:,.1f} MB).")
    st.download_button(
        "Download the backup",
        data=path.read_bytes(),
        file_name=path.name,
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
    )
st.header("Restoring")
st.markdown(
    "Restoring replaces the whole database, so it is done at the command line with the app "
    "stopped:\n\n"
    "```\nuv run cetracker restore data/backups/<backup file> --yes\n```\n\n"
    "Without `--yes` it only explains what it would do. The replaced file is kept beside the "
    "database."
)
