"""The reports of SPEC §3: each a function from filters to a table, plus its title.

Pages and the command line both call ``run_report``; exports take its frame, so
a download holds exactly the rows the page shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cetracker.db import Database
from cetracker.filters import Filters
from cetracker.summary import hour_summary

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    build: Callable[[Database, Filters], pd.DataFrame]


REPORTS: dict[str, Report] = {
    "hour-summary": Report("hour-summary", "Hour Summary Report", hour_summary),
}


def run_report(db: Database, name: str, filters: Filters) -> pd.DataFrame:
    return REPORTS[name].build(db, filters)
