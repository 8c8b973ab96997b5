"""Widgets the report pages share: the filter bar, the table, the export buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from cetracker import policy as policies
from cetracker import years
from cetracker.accounts.users import User
from cetracker.files import exports
from cetracker.filters import Filters
from cetracker.members import filter_choices
from cetracker.rules import compute
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
            help="Show only members who have not met the requirement.",
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
) -> None:
    """At most MAX_ROWS_SHOWN rows; ``total`` is how many there are when ``df`` is a first page."""
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
    st.dataframe(df, hide_index=True, width="stretch", column_config=column_config)


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
    report's carried-over and total lines) becomes ISO text with blanks, because the
    table draws a missing value as a grey "None", which reads as data.
    """
    import datetime as dt

    changed: dict[str, pd.Series] = {}
    config: dict[str, Any] = {}
    for name in df.columns:
        column = df[name]
        known = column.dropna()
        if pd.api.types.is_datetime64_any_dtype(column):
            if not (known == known.dt.normalize()).all():
                continue  # times of day: not a date column
        elif not (
            column.dtype == object and len(known) and all(isinstance(v, dt.date) for v in known)
        ):
            continue
        if len(known) < len(column):
            changed[str(name)] = column.map(lambda v: "" if pd.isna(v) else f"{v:%Y-%m-%d}")
        else:
            config[str(name)] = st.column_config.DateColumn(str(name), format="YYYY-MM-DD")
    return (df.assign(**changed) if changed else df), config


def export_buttons(
    make: Callable[[], pd.DataFrame], title: str, filters: Filters, file_stem: str, key: str
) -> None:
    """CSV, Excel and PDF of exactly the filtered rows, built only when clicked."""
    cols = st.columns(3)
    cols[0].download_button(
        "Download CSV",
        lambda: exports.to_csv(make()),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    cols[1].download_button(
        "Download Excel",
        lambda: exports.to_xlsx(make(), title, filters.describe()),
        file_name=f"{file_stem}.xlsx",
        key=f"{key}_xlsx",
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
    )
    cols[2].download_button(
        "Download PDF",
        lambda: exports.to_pdf(make(), title, filters.describe()),
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

    with st.container(key="chart_preload"):
        st.plotly_chart(go.Figure(), key="chart_preload_figure", config={"staticPlot": True})
    st.html("<style>.st-key-chart_preload {display: none}</style>")


def hours_to_go(missing: object, category: str = "") -> str:
    """What remains, as a member reads it: "3 Ethics hours to go", "1 hour to go", "met"."""
    amount = compute.hours(missing)
    if amount <= 0:
        return f"{category} minimum met" if category else "requirement met"
    unit = "hour" if amount == 1 else "hours"
    return f"{compute.format_hours(amount)} {category + ' ' if category else ''}{unit} to go"
