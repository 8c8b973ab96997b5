"""Courses and conferences: number, title, provider, category, approved hours, dates (admins)."""

import streamlit as st

from cetracker import audit, courses, entities, providers
from cetracker.plurals import plural
from cetracker.ui import editing, session, widgets

user = session.require("admin")
db = session.database()

st.title("Courses")
text = st.text_input(
    "Search", key="mc_search", max_chars=100, placeholder="Course number, title or provider"
)
table = courses.courses_frame(db, text)
st.caption(f"{plural(len(table), 'course or conference', 'courses and conferences')}")
widgets.show_table(table.drop(columns=["id"]), empty="No course matches.")
provider_options = {i: f"{name} — {lic}" for i, lic, name in providers.list_providers(db)}
if not provider_options:
    st.info("Add a provider first (Providers page): every course belongs to one.")
    st.stop()

edit_tab, add_tab = st.tabs(["Edit a course", "Add a course"])
with add_tab:
    editing.edit(
        courses.COURSE,
        {"category": "General", "kind": "conference"},
        "course_new",
        submit="Add course",
        save=lambda v: courses.save_course(db, v, actor=user.username),
        done=lambda v, _: f"Added course {widgets.plain(v['course_number'])}.",
        options={"provider_id": provider_options},
    )

with edit_tab:
    if table.empty:
        st.info("Search for a course above, then choose it here.")
        editing.show_unseen_notice()
        st.stop()
    labels = {int(i): f"{n} — {t}" for i, n, t in table[["id", "Course number", "Title"]].values}
    course_id = st.selectbox("Course", list(labels), format_func=labels.get, key="mcs_pick")
    key = f"course_{course_id}"
    before = editing.loaded(key, lambda: entities.current(db, courses.COURSE, {"id": course_id}))
    if before is None:
        st.warning("This course no longer exists.")
        editing.reload_button(key)
        st.stop()
    editing.edit(
        courses.COURSE,
        before,
        key,
        submit="Save changes",
        save=lambda v: courses.save_course(
            db, v, actor=user.username, course_id=course_id, loaded=before
        ),
        done=lambda _v, _s: "Saved.",
        reload_label="Reload this course",
        options={"provider_id": provider_options},
    )
    with st.expander("History"):
        widgets.show_table(audit.history(db, "course", course_id), empty="No changes recorded yet.")
