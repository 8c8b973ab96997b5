"""Widgets the report pages share: the filter bar, the table, the export buttons."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from cetracker import policy as policies
from cetracker import years
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError
from cetracker.files import exports
from cetracker.filters import Filters
from cetracker.members import filter_choices
from cetracker.rules import compute
from cetracker.rules.cells import written_day
from cetracker.store.db import Database

MAX_ROWS_SHOWN = 5000


def filter_bar(db: Database, user: User, key: str, *, short_switch: bool = False) -> Filters:
    """Year, county, area, position and name search; a director only sees their scope."""
    choices = filter_choices(db, user.scope, policies.current_ce_year(db))
    cols = st.columns([1, 2, 2, 2, 2])
    year = cols[0].selectbox(
        "CE year",
        choices.years,
        key=f"{key}_year",
        help="The continuing-education year to report on.",
    )
    counties = cols[1].multiselect(
        "County",
        choices.counties,
        key=f"{key}_county",
        help="Leave empty for every county you may see.",
    )
    areas = cols[2].multiselect(
        "Area", choices.areas, key=f"{key}_area", help="Leave empty for every area you may see."
    )
    positions = cols[3].multiselect(
        "Position",
        choices.positions,
        key=f"{key}_position",
        help="County Clerk, District Clerk, Deputy Clerk, ...",
    )
    name = cols[4].text_input(
        "Name search",
        key=f"{key}_name",
        max_chars=100,
        help="Part of a first or last name, or a license number.",
    )
    short_only = False
    if short_switch:
        short_only = st.toggle(
            "Short of hours only",
            key=f"{key}_short",
            help="Show only members short of hours: of the total required, or of a "
            "category's minimum (such a member's Short by can be 0).",
        )
    closed = years.is_closed(db, int(year))
    if closed:
        st.info(
            f"CE year {year} was closed on {closed.closed_at:%m/%d/%Y} by "
            f"{plain(closed.closed_by)}: hours, eligibility and certificates shown are its frozen "
            "snapshot.",
            icon=":material/lock:",
        )
    return Filters(
        year=int(year),
        counties=tuple(counties),
        areas=tuple(areas),
        positions=tuple(positions),
        name=name,
        short_only=short_only,
        scope=user.scope,
        closed_year=closed is not None,
    )


def show_table(
    df: pd.DataFrame,
    *,
    empty: str = "No members match these filters.",
    column_config: dict[str, Any] | None = None,
    total: int | None = None,
    column_order: list[str] | None = None,
) -> None:
    """At most MAX_ROWS_SHOWN rows; ``total`` is how many there are when ``df`` is a first page.

    ``column_order`` puts a report's key numbers first so that they show without scrolling
    sideways (the exports keep every column in the report's order).
    """
    if df.empty:
        st.info(empty)
        return
    df, dates = _dates_for_display(df)
    column_config = {**dates, **(column_config or {})}
    total = len(df) if total is None else total
    if total > MAX_ROWS_SHOWN or len(df) > MAX_ROWS_SHOWN:
        st.caption(
            f"Showing the first {MAX_ROWS_SHOWN:,} of {total:,} rows; "
            "the downloads below hold every row."
        )
        df = df.head(MAX_ROWS_SHOWN)
    df = _blank_missing_text(df)
    for name, wide in _long_text_columns(df).items():
        given = column_config.get(name)
        if given is None:
            column_config[name] = wide
        elif isinstance(given, dict) and given.get("width") is None:
            column_config[name] = {**given, "width": wide["width"]}
    # st.dataframe shows only the columns its order names: the others follow, never hidden.
    order = (
        [c for c in column_order if c in df.columns]
        + [c for c in df.columns if c not in column_order]
        if column_order
        else None
    )
    st.dataframe(
        df, hide_index=True, width="stretch", column_config=column_config, column_order=order
    )


# Text longer than this in a column (a 300-character course title) would widen the table
# until its hours and status had to be scrolled to, even on a laptop: such a column keeps
# a set width, its cells cut short on screen (shown whole when clicked; whole in the
# downloads).
LONG_TEXT = 60


def _blank_missing_text(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns with their missing cells blank (a report without a certificate file):
    the table draws a missing value as a grey "None", which reads as data."""
    text = [
        name
        for name in df.columns
        if (df[name].dtype == object or pd.api.types.is_string_dtype(df[name]))
        and df[name].isna().any()
    ]
    return df.assign(**{str(name): df[name].fillna("") for name in text}) if text else df


def _long_text_columns(df: pd.DataFrame) -> dict[str, Any]:
    wide = {}
    for name in df.columns:
        column = df[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            try:
                long = bool((column.str.len() > LONG_TEXT).any())
            except AttributeError:  # no text in it
                continue
            if long:
                wide[str(name)] = st.column_config.TextColumn(str(name), width="medium")
    return wide


def hours_column(label: str, help: str | None = None) -> Any:
    """A narrow column of hours: 20, 22.5 (no trailing zeros to read past)."""
    return st.column_config.NumberColumn(label, help=help, format="%g", width="small")


def money_column(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="dollar", width="small")


def chart(fig: Any, title: str, key: str) -> None:
    """A chart under its title (bold text, not a heading: a page's headings stay in order)."""
    st.markdown(f"**{plain(title)}**")
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


def plain(text: str) -> str:
    """Text from the database made safe for st.markdown: every Markdown character escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in str(text))


def labelled(df: pd.DataFrame) -> pd.DataFrame:
    """Column names as people read them: "carried_in" -> "Carried in"."""
    return df.rename(columns=lambda c: str(c).replace("_", " ").capitalize())


def _dates_for_display(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Date columns shown as dates: the frame to show and its column settings.

    DuckDB dates arrive as midnight timestamps (or as Python dates where a column has
    gaps). A column without gaps gets a date column setting; one with gaps (a
    report's carried-over and total lines) becomes text with blanks, because the
    table draws a missing value as a grey "None", which reads as data. Times of day
    (a login, an upload) are written 03/01/2024 14:05.
    """
    import datetime as dt

    changed: dict[str, pd.Series] = {}
    config: dict[str, Any] = {}
    for name in df.columns:
        column = df[name]
        known = column.dropna()
        if pd.api.types.is_datetime64_any_dtype(column):
            if not (known == known.dt.normalize()).all():  # times of day
                config[str(name)] = st.column_config.DatetimeColumn(
                    str(name), format="MM/DD/YYYY HH:mm"
                )
                continue
        elif not (
            column.dtype == object and len(known) and all(isinstance(v, dt.date) for v in known)
        ):
            continue
        if len(known) < len(column):
            changed[str(name)] = column.map(lambda v: "" if pd.isna(v) else written_day(v))
        else:
            config[str(name)] = st.column_config.DateColumn(str(name), format="MM/DD/YYYY")
    return (df.assign(**changed) if changed else df), config


# Export failures seen by the download threads, per (session, button), shown on the next run.
_FAILED_EXPORTS: dict[tuple[str, str], str] = {}
_FAILED_LOCK = threading.Lock()
_LOG = logging.getLogger(__name__)


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no session"


def _rerun_session(session_id: str) -> None:
    """Ask a session to run its page again, from a thread outside its script run.

    A download is made in a thread of its own, which cannot draw on the page; the page's
    next run shows what went wrong. Without Streamlit's runtime (AppTest), the message
    waits for the next click.
    """
    try:
        from streamlit import runtime

        info = runtime.get_instance()._session_mgr.get_active_session_info(session_id)
        if info is not None:
            info.session.request_rerun(None)
    except Exception:  # a missing rerun only delays the message
        _LOG.debug("could not rerun session %s", session_id, exc_info=True)


def export_failure_message(kind: str, exc: BaseException) -> str:
    """What a person reads when a download could not be made, and what to do next."""
    if isinstance(exc, CetrackerError):
        return f"The {kind} file could not be made: {exc.message}"
    return (
        f"The {kind} file could not be made ({type(exc).__name__}: {exc}). Try the other "
        "formats, or narrow the filters and try again; if it keeps failing, tell your "
        "administrator what you chose."
    )


def _guarded(make: Callable[[], bytes], kind: str, key: str) -> Callable[[], bytes]:
    """``make``, remembering a failure for the page to show instead of failing silently."""
    session_id = _session_id()

    def run() -> bytes:
        try:
            return make()
        except Exception as exc:
            _LOG.exception("the %s export %s failed", kind, key)
            with _FAILED_LOCK:
                _FAILED_EXPORTS[(session_id, key)] = export_failure_message(kind, exc)
            _rerun_session(session_id)
            raise

    return run


def show_export_failures(keys: list[str]) -> None:
    """An error for each of these downloads that failed since the page last ran."""
    session_id = _session_id()
    for key in keys:
        with _FAILED_LOCK:
            message = _FAILED_EXPORTS.pop((session_id, key), None)
        if message:
            st.error(message, icon=":material/error:")


def export_buttons(
    make: Callable[[], pd.DataFrame],
    title: str,
    filters: Filters,
    file_stem: str,
    key: str,
    csv_columns: list[str] | None = None,
) -> None:
    """CSV, Excel and PDF of exactly the filtered rows, built only when clicked.

    ``csv_columns``: the CSV's fixed columns (SPEC §7) when the others show more.
    A download that fails shows an error saying what to do, on the page's next run.
    """
    show_export_failures([f"{key}_csv", f"{key}_xlsx", f"{key}_pdf"])
    cols = st.columns(3)
    cols[0].download_button(
        "Download CSV",
        _guarded(
            lambda: exports.to_csv(make()[csv_columns] if csv_columns else make()),
            "CSV",
            f"{key}_csv",
        ),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    cols[1].download_button(
        "Download Excel",
        _guarded(
            lambda: exports.to_xlsx(make(), title, filters.describe()), "Excel", f"{key}_xlsx"
        ),
        file_name=f"{file_stem}.xlsx",
        key=f"{key}_xlsx",
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
    )
    cols[2].download_button(
        "Download PDF",
        _guarded(lambda: exports.to_pdf(make(), title, filters.describe()), "PDF", f"{key}_pdf"),
        file_name=f"{file_stem}.pdf",
        mime="application/pdf",
        key=f"{key}_pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
    )


def preload_charts() -> None:
    """Have the browser load its chart library now, out of sight.

    Streamlit fetches and compiles plotly (megabytes of JavaScript) the first time a
    page shows a chart. Drawn hidden on the login page, it loads while a person types
    the password, and the first page after login draws its charts at once.
    """
    import plotly.graph_objects as go

    # The rule that hides it comes first: sent after the chart, it could reach a busy
    # browser late, and the empty chart showed on the login page for a moment.
    st.html("<style>.st-key-chart_preload {display: none}</style>")
    with st.container(key="chart_preload"):
        st.plotly_chart(go.Figure(), key="chart_preload_figure", config={"staticPlot": True})


def message_markdown(body: str) -> str:
    """A message's body as Markdown that loads nothing from elsewhere: an image
    (``![text](address)``) shows as a link to it, so that opening a message tells no
    outside server who read it and when. (Raw HTML is shown as text by Streamlit.)"""
    # A zero-width space between "!" and "[": no backslash typed before it can rejoin them.
    return body.replace("![", "!\u200b[")


def distinct_labels(options: list[Any], label_of: Callable[[Any], str]) -> Callable[[Any], str]:
    """A choice's ``format_func`` whose labels all differ. Streamlit keeps what was chosen
    by its label, so two options labelled alike were one: of two messages with one subject
    on one day, picking the second opened the first. Every option of a repeated label is
    told apart by its own number (" · no. 1234"), never by its place in the list: when the
    list changes (one of them approved), a choice kept by its label stays on its option or
    is dropped, never moved to another one."""
    plain = {option: label_of(option) for option in options}
    seen = Counter(plain.values())
    labels = {o: f"{lab} · no. {o}" if seen[lab] > 1 else lab for o, lab in plain.items()}
    return labels.__getitem__


def hours_to_go(missing: object, category: str = "") -> str:
    """What remains, as a member reads it: "3 Ethics hours to go", "1 hour to go", "met"."""
    amount = compute.hours(missing)
    if amount <= 0:
        return f"{category} minimum met" if category else "requirement met"
    what = f"{category} " if category else ""
    return f"{compute.format_hours(amount)} {what}{compute.hours_word(amount)} to go"


# Streamlit's own page menu folds away after a tap on a phone; the links app.py draws in
# the sidebar (st.page_link) do not, and the open menu then covered three quarters of the
# new page until the person tapped beside it. Streamlit folds the sidebar when the page
# beside it is pressed, below its own width breakpoint: a tap on a menu link presses the
# page for the person, so the same rule (and breakpoint) applies. A fixed script, no input
# in it; added once per browser tab.
_FOLD_MENU_ON_PHONES = """<script>
if (!window.ceFoldsMenu) {
  window.ceFoldsMenu = true;
  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]')) {
      document.querySelector('[data-testid="stMain"]')
        ?.dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));
    }
  });
}
</script>"""


def fold_menu_on_phones() -> None:
    """After a tap on a menu link, a phone shows the page, not the menu over it."""
    st.html(_FOLD_MENU_ON_PHONES, unsafe_allow_javascript=True)
