"""Members: search, add, edit, deactivate; a member's CE records and history (admins)."""

import streamlit as st

from cetracker import audit, config, courses, entities, members, records
from cetracker.errors import CetrackerError
from cetracker.plurals import plural
from cetracker.ui import editing, session, widgets

user = session.require("admin")
db = session.database()

st.title("Members")
cols = st.columns([3, 1, 1])
text = cols[0].text_input(
    "Search", key="mm_search", max_chars=100, placeholder="Name, license number or email"
)
status = cols[1].selectbox(
    "Status",
    ["", *members.MEMBER_STATUSES],
    key="mm_status",
    format_func=lambda s: s.title() or "Any",
)
page_no = int(cols[2].number_input("Page", min_value=1, value=1, step=1, key="mm_page")) - 1
found, total = members.search_members(db, text, status, page_no)
pages = max(1, -(-total // members.PAGE_SIZE))
matches = plural(total, "member") + (" matches" if total == 1 else " match")
st.caption(f"{matches} · page {min(page_no + 1, pages)} of {pages}")
widgets.show_table(found.drop(columns=["id"]), empty="No member matches; try fewer letters.")

edit_tab, add_tab = st.tabs(["Edit a member", "Add a member"])

with add_tab:
    editing.edit(
        members.MEMBER,
        {"status": "active", "joined": config.today()},
        "member_new",
        submit="Add member",
        save=lambda v: members.save_member(db, v, actor=user.username),
        done=lambda v, _: (
            f"Added {widgets.plain(v['first_name'])} {widgets.plain(v['last_name'])} "
            f"(license {widgets.plain(v['license_number'])})."
        ),
        max_date=config.today(),
    )

with edit_tab:
    if found.empty:
        st.info("Search for a member above, then choose them here.")
        editing.show_unseen_notice()
        st.stop()
    labels = {
        int(i): f"{last}, {first} — {lic}"
        for i, lic, first, last in found[["id", "License number", "First name", "Last name"]].values
    }
    member_id = st.selectbox(
        "Member",
        list(labels),
        format_func=widgets.distinct_labels(list(labels), labels.__getitem__),
        key="mm_pick",
    )
    key = f"member_{member_id}"
    before = editing.loaded(key, lambda: entities.current(db, members.MEMBER, {"id": member_id}))
    if before is None:
        st.warning("This member no longer exists.")
        editing.reload_button(key)
        st.stop()
    editing.edit(
        members.MEMBER,
        before,
        key,
        submit="Save changes",
        save=lambda v: members.save_member(
            db, v, actor=user.username, member_id=member_id, loaded=before
        ),
        done=lambda _v, _s: (
            "Saved. Inactive members stay in every report of the years they were active."
        ),
        reload_label="Reload this member",
        max_date=config.today(),
    )
    st.caption(
        "To deactivate a member, set Status to inactive: the member and their history stay. "
        "A member added by mistake, with no records, can be deleted below."
    )

    records_tab, history_tab, delete_tab = st.tabs(["CE records", "History", "Delete"])
    with history_tab:
        widgets.show_table(
            audit.history(db, "member", member_id), empty="No changes recorded for this member."
        )
    with delete_tab:
        with st.form(f"delete_{member_id}"):
            sure = st.checkbox("Yes, delete this member (only possible without any records)")
            if st.form_submit_button("Delete member"):
                if not sure:
                    st.warning("Tick the box to confirm.")
                else:
                    try:
                        members.delete_member(db, member_id, actor=user.username)
                    except CetrackerError as exc:
                        st.error(exc.message)
                    else:
                        editing.forget(key)
                        st.success("Deleted.")
    with records_tab:
        held = records.member_records(db, member_id)
        widgets.show_table(held.drop(columns=["id"]), empty="No CE records yet.")
        course_options = {i: f"{number} — {title}" for i, number, title in courses.choices(db)}
        course_options_none = {None: "(not a listed course)", **course_options}
        choices = {0: "Add a new record"} | {
            int(i): f"{day:%m/%d/%Y} · {course} · {hours:g} h · {state}"
            for i, day, course, hours, state in held[
                ["id", "Date", "Course", "Hours", "Status"]
            ].values
        }
        record_id = st.selectbox(
            "Record",
            list(choices),
            format_func=widgets.distinct_labels(list(choices), choices.__getitem__),
            key=f"mr_pick_{member_id}",
        )
        rkey = f"record_{record_id}" if record_id else f"record_new_{member_id}"
        rbefore = (
            editing.loaded(rkey, lambda: entities.current(db, records.RECORD, {"id": record_id}))
            if record_id
            else {"status": "approved", "category": "General"}
        )
        editing.edit(
            records.RECORD,
            rbefore,
            rkey,
            submit="Save record" if record_id else "Add record",
            save=lambda v: records.save_record(
                db,
                member_id,
                v,
                actor=user.username,
                record_id=record_id or None,
                loaded=rbefore if record_id else None,
            ),
            done=lambda _v, _s: "Record saved. Reports show it at once.",
            reload_label="Reload this record",
            options={"course_id": course_options_none},
            max_date=config.today(),
        )
