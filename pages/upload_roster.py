"""Upload Roster: a provider's filled template in, processed and failed rows out (SPEC §5)."""

import streamlit as st

from cetracker import importer, providers
from cetracker.errors import CetrackerError
from cetracker.files import rosters, uploads
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin", "provider")
db = session.database()

st.title("Upload Roster")
st.caption(
    f"Upload the filled roster template ({uploads.SPREADSHEET_TYPES}). Every row is checked; "
    "rows that fail come back with a Status you can fix and upload again."
)

if user.role == "provider":
    provider_id = user.provider_id
    provider_name = providers.provider_profile(db, user)["name"]
else:
    choices = providers.list_providers(db)
    picked = st.selectbox(
        "Provider",
        choices,
        format_func=lambda p: f"{p[2]} ({p[1]})",
        key="upload_provider",
        help="The provider whose roster this is.",
    )
    provider_id, provider_name = (picked[0], picked[2]) if picked else (None, "")

if provider_id is None:
    st.info("There are no providers yet. Add one on the Providers page first.")
    st.stop()

st.download_button(
    "Download the roster template",
    lambda: rosters.template_xlsx(db, provider_id),
    file_name="ce-roster-template.xlsx",
    on_click="ignore",
    icon=":material/download:",
    key="template_download",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

# Every type is let through the widget (it would refuse others with a red icon and no words):
# the reader refuses them with a sentence that says what to do. The widget's own size note
# shows the same one limit.
upload = st.file_uploader(
    f"Roster file (up to {uploads.limit_text()})",
    type=None,
    max_upload_size=uploads.uploader_limit_mb(),
    key="roster_file",
)
# The browser itself refuses a bigger file (a red mark on its name, no words): say it here.
st.caption(
    f"A file over {uploads.limit_text()} is marked red and not sent; split the roster into "
    "smaller files and upload each."
)
if upload is not None:
    data = upload.getvalue()
    # Read once per file, not on every rerun of the page; only the count and the first
    # rows are kept.
    preview = st.session_state.get("roster_preview")
    if preview is None or preview[0] != upload.file_id:
        try:
            roster = importer.read_roster(data, upload.name)
        except CetrackerError as exc:
            st.error(exc.message)
            st.stop()
        preview = (upload.file_id, len(roster), importer.preview_frame(roster, 10))
        st.session_state["roster_preview"] = preview
        # A new file: the previous file's result would sit under its preview as if its own.
        st.session_state.pop("last_import", None)
        del roster
    st.header("Preview")
    st.caption(f"{plural(preview[1], 'row')} to import for {provider_name}. The first rows:")
    widgets.show_table(preview[2], empty="No rows.")
    if st.session_state.get("imported_upload") == upload.file_id:
        # Imported already: a second click would import it again and answer "Already
        # recorded" for every row, over the result the provider came for.
        st.caption(
            "This file is imported: its result is below. To import another, upload it above."
        )
    elif st.button("Import these rows", type="primary", key="import_go"):
        bar = st.progress(0.0, text="Starting…")
        try:
            result = importer.import_roster(
                db,
                data,
                upload.name,
                provider_id=provider_id,
                uploaded_by=user.username,
                progress=lambda f, t: bar.progress(f, text=t),
            )
        except CetrackerError as exc:
            st.error(exc.message)
            st.stop()
        st.session_state["last_import"] = result.summary()
        st.session_state["imported_upload"] = upload.file_id
        del result
        st.rerun()  # the preview's button gone, the result drawn once

result = st.session_state.get("last_import")
if result is not None:
    st.header(f"Result of {result.file_name}")
    cols = st.columns(3)
    cols[0].metric("Processed", f"{result.processed:,}")
    cols[1].metric("Failed", f"{result.failed:,}")
    cols[2].metric("Total", f"{result.total:,}")
    if result.confirmed:
        st.info(
            f"{plural(result.confirmed, 'row')} confirmed courses that members had reported themselves."
        )
    if result.example_rows:
        rows = ", ".join(map(str, result.example_rows))
        st.caption(
            f"Row{'s' if len(result.example_rows) > 1 else ''} {rows}: the template's example "
            "(license number EXAMPLE), skipped."
        )
    if result.earlier_upload:
        st.warning(
            f"This same file was uploaded before ({result.earlier_upload}); rows already "
            "recorded then were not added again."
        )
    failed = result.failed_rows
    if failed.empty:
        st.success("Every row was processed.")
    else:
        st.markdown("**Failed rows** — fix them in the file below and upload it again.")
        # What is wrong comes first, so that it shows without scrolling sideways.
        widgets.show_table(
            failed,
            empty="No failed rows.",
            column_order=["Status", *(c for c in failed.columns if c != "Status")],
            # The reason whole: the set width of long text would cut it short.
            column_config={"Status": st.column_config.TextColumn("Status", width="large")},
        )
        st.download_button(
            "Download the failed rows (.xlsx)",
            lambda: rosters.failed_rows_xlsx(db, provider_id, failed),
            file_name=f"failed-rows-{result.import_id}.xlsx",
            key="failed_download",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            on_click="ignore",
        )
