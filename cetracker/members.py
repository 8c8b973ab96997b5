"""Members: look-ups the pages need (filter choices, one member's details)."""

from __future__ import annotations

from dataclasses import dataclass

from cetracker.filters import Filters, Scope
from cetracker.store.db import Database


@dataclass(frozen=True)
class FilterChoices:
    years: list[int]
    counties: list[str]
    areas: list[str]
    positions: list[str]


def filter_choices(db: Database, scope: Scope, current_year: int) -> FilterChoices:
    """The values the filter bar offers: only what lies inside the user's scope.

    Every report page asks on every rerun; the answer changes only with the data.
    """
    choices: FilterChoices = db.cached(
        repr(("filter_choices", scope, current_year)),
        lambda: _filter_choices(db, scope, current_year),
    )
    return choices


def _filter_choices(db: Database, scope: Scope, current_year: int) -> FilterChoices:
    where, params = Filters(year=current_year, scope=scope).member_where("m")
    rows = db.rows(
        f"""SELECT 'county', county FROM members m WHERE {where} AND county IS NOT NULL
            UNION SELECT 'area', area FROM members m WHERE {where} AND area IS NOT NULL
            UNION SELECT 'position', position FROM members m WHERE {where} AND position IS NOT NULL""",  # noqa: S608 - clause of fixed text
        params,
    )
    span = db.one("SELECT min(ce_year), max(ce_year) FROM ce_records")
    first = int(span[0]) if span and span[0] is not None else current_year
    last = max(int(span[1]) if span and span[1] is not None else current_year, current_year)
    return FilterChoices(
        years=list(range(last, first - 1, -1)),
        counties=sorted(v for k, v in rows if k == "county"),
        areas=sorted((v for k, v in rows if k == "area"), key=_natural),
        positions=sorted(v for k, v in rows if k == "position"),
    )


def _natural(text: str) -> tuple[str, int]:
    head, _, tail = text.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (text, 0)
