"""CE Tracker: the login gate and the router. Pages are listed by role; nothing else lives here.

Hiding a page from the navigation is not the guard: every page also calls
``session.require`` with its roles before it does anything.
"""

import streamlit as st

from cetracker import config, messages
from cetracker.ui import session, widgets

# An emoji icon is drawn by the browser itself; a Material icon would be fetched from the internet.
st.set_page_config(page_title="CE Tracker", page_icon="🎓", layout="wide")

# (section, file, title, icon, url path, roles)
PAGES = [
    ("Reports", "dashboard.py", "Dashboard", "dashboard", "dashboard", {"admin", "director"}),
    (
        "Reports",
        "hour_summary.py",
        "Hour Summary",
        "schedule",
        "hour-summary",
        {"admin", "director"},
    ),
    (
        "Reports",
        "conference_detail.py",
        "Conference Detail",
        "event_note",
        "conference-detail",
        {"admin", "director"},
    ),
    (
        "Reports",
        "certificates.py",
        "Certificates",
        "workspace_premium",
        "certificates",
        {"admin", "director"},
    ),
    (
        "Reports",
        "conference_report.py",
        "Conference Report",
        "groups",
        "conference-report",
        {"admin", "director"},
    ),
    ("Reports", "member_list.py", "Clerk List", "contacts", "clerk-list", {"admin", "director"}),
    ("Reports", "dues.py", "Dues", "payments", "dues", {"admin", "director"}),
    ("Reports", "carryover.py", "Carryover", "redo", "carryover", {"admin", "director"}),
    ("My CE", "my_ce.py", "My CE", "person", "my-ce", {"member"}),
    ("My CE", "report_course.py", "Report a Course", "add_task", "report-course", {"member"}),
    ("My CE", "my_licenses.py", "My Licenses", "card_membership", "my-licenses", {"member"}),
    ("My CE", "inbox.py", "Messages", "mail", "messages", {"member"}),
    (
        "Messages",
        "messages_compose.py",
        "Send Messages",
        "send",
        "send-messages",
        {"admin", "director"},
    ),
    (
        "Messages",
        "messages_sent.py",
        "Sent Messages",
        "outbox",
        "sent-messages",
        {"admin", "director"},
    ),
    ("Messages", "reminders.py", "Reminders", "alarm", "reminders", {"admin"}),
    ("Provider", "provider_home.py", "CE Profile", "badge", "provider", {"provider"}),
    (
        "Rosters",
        "upload_roster.py",
        "Upload Roster",
        "upload_file",
        "upload-roster",
        {"admin", "provider"},
    ),
    (
        "Rosters",
        "import_history.py",
        "Import History",
        "history",
        "import-history",
        {"admin", "provider"},
    ),
    ("Provider", "ce_details.py", "CE Details", "groups", "ce-details", {"provider"}),
    ("Administration", "approvals.py", "Approvals", "fact_check", "approvals", {"admin"}),
    ("Administration", "manage_members.py", "Members", "person_search", "members", {"admin"}),
    ("Administration", "manage_providers.py", "Providers", "domain", "providers", {"admin"}),
    ("Administration", "manage_courses.py", "Courses", "menu_book", "courses", {"admin"}),
    ("Administration", "manage_dues.py", "Dues Entry", "receipt_long", "dues-entry", {"admin"}),
    ("Administration", "manage_policy.py", "CE Rules", "rule", "ce-rules", {"admin"}),
    ("Administration", "ce_years.py", "CE Years", "event_available", "ce-years", {"admin"}),
    ("Administration", "backup.py", "Backup", "backup", "backup", {"admin"}),
    ("Administration", "users.py", "Users", "manage_accounts", "users", {"admin"}),
    ("Administration", "audit.py", "Audit Log", "policy", "audit", {"admin"}),
    (
        "Account",
        "account.py",
        "My Account",
        "key",
        "account",
        {"admin", "director", "provider", "member"},
    ),
    ("Public", "verify.py", "Verify a certificate", "verified", "verify", None),
]


def page(file: str, title: str, icon: str, url: str, *, home: bool = False) -> st.Page:
    """A page at its address; the home page is served at "/" (``home``)."""
    return st.Page(
        f"pages/{file}",
        title=title,
        icon=f":material/{icon}:",
        url_path="" if home else url,
        default=home,
    )


db = session.database()
session.start_run(db)
session.restore_login()
user = session.current_user(db)

if user is None:

    def login() -> None:
        st.title("CE Tracker")
        st.caption(config.association_name())
        session.login_form(db)
        session.forgot_password(db)
        widgets.preload_charts()

    public = [
        st.Page(login, title="Log in", icon=":material/login:", default=True),
        *(page(*p[1:5]) for p in PAGES if p[5] is None),
        page("sign_up.py", "Sign Up", "person_add", "sign-up"),
    ]
    # The menu is drawn here, never by Streamlit (showSidebarNavigation = false in
    # .streamlit/config.toml): its own menu listed every file in pages/ to the first
    # visitor after a start, before this script had said which pages there are.
    # Any other page's address shows the login form (a session that just ended stays on
    # its address); once signed in, the same address opens that page.
    behind_login = [
        st.Page(login, title="Log in", url_path=p[4]) for p in PAGES if p[5] is not None
    ]
    # Pages are registered before the links are drawn: a link is checked against the
    # pages registered, and the previous run may have registered others at these addresses.
    chosen = st.navigation(public + behind_login, position="hidden")
    with st.sidebar:
        for entry in public:
            st.page_link(entry)
        widgets.fold_menu_on_phones()
    chosen.run()
    st.stop()

unread = messages.unread_count(db, user)
# Every page is registered, so that a page opened by its address runs its own guard and
# says "Not allowed"; the menu lists only the pages of this user's role, which come first
# (the first is the home page).
# Streamlit serves the home page at "/" only, so a typed or bookmarked /my-ce (or the
# address a login came back to) said "Page not found": the home page is registered at its
# own address too, and the menu links there while it is open.
allowed: dict[str, list[st.Page]] = {}
others: list[st.Page] = []
home_page = home_at_address = None
for section, file, title, *rest, roles in PAGES:
    if roles is None or user.role in roles:
        if file == "inbox.py" and unread:
            title = f"Messages ({unread} unread)"
        home = not allowed  # the role's first page
        entry = page(file, title, *rest, home=home)
        allowed.setdefault(section, []).append(entry)
        if home:
            home_page, home_at_address = entry, page(file, title, *rest)
            others.append(home_at_address)
    else:
        others.append(page(file, title, *rest))

registered = [p for entries in allowed.values() for p in entries] + others
chosen = st.navigation(registered, position="hidden")
with st.sidebar:
    for section, entries in allowed.items():
        st.caption(section)
        for entry in entries:
            st.page_link(
                home_at_address if entry is home_page and chosen is home_at_address else entry
            )
    st.divider()
    st.markdown(
        f"**{widgets.plain(user.display_name)}**  \n{user.role.title()} · "
        f"{widgets.plain(config.association_name())}"
    )
    session.logout_button()
    widgets.fold_menu_on_phones()
session.keep_login_cookie()
chosen.run()
