"""Providers: the course providers whose rosters the office imports (admins)."""

import streamlit as st

from cetracker import audit, entities, providers
from cetracker.plurals import plural
from cetracker.ui import editing, session, widgets

user = session.require("admin")
db = session.database()

st.title("Providers")
table = providers.providers_frame(db)
st.caption(plural(len(table), "provider"))
widgets.show_table(table.drop(columns=["id"]), empty="No providers yet.")

edit_tab, add_tab = st.tabs(["Edit a provider", "Add a provider"])
with add_tab:
    editing.edit(
        providers.PROVIDER,
        {},
        "provider_new",
        submit="Add provider",
        save=lambda v: providers.save_provider(db, v, actor=user.username),
        done=lambda v, _: f"Added provider {widgets.plain(v['name'])}.",
    )

with edit_tab:
    if table.empty:
        st.info("Add the first provider in the next tab.")
        st.stop()
    labels = {
        int(i): f"{n} — {lic}" for i, n, lic in table[["id", "Name", "License number"]].values
    }
    provider_id = st.selectbox("Provider", list(labels), format_func=labels.get, key="mp_pick")
    key = f"provider_{provider_id}"
    before = editing.loaded(
        key, lambda: entities.current(db, providers.PROVIDER, {"id": provider_id})
    )
    if before is None:
        st.warning("This provider no longer exists.")
        editing.reload_button(key)
        st.stop()
    editing.edit(
        providers.PROVIDER,
        before,
        key,
        submit="Save changes",
        save=lambda v: providers.save_provider(
            db, v, actor=user.username, provider_id=provider_id, loaded=before
        ),
        done=lambda _v, _s: "Saved.",
        reload_label="Reload this provider",
    )
    with st.expander("History"):
        widgets.show_table(
            audit.history(db, "provider", provider_id), empty="No changes recorded yet."
        )
