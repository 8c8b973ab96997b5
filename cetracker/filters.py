"""The report filter bar (SPEC §3), a director's scope and name search, as parameterised SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cetracker.rules.cells import SEARCH_KEY_SEPARATOR, search_terms, search_words

# The parts of a member's ``search_key`` (cells.search_key), for a box that searches one.
LAST_NAME, FIRST_NAME, LICENSE_NUMBER = 1, 2, 3


def name_search(
    query: str, column: str, *, part: int | None = None, prefix: str = "q"
) -> tuple[str, dict[str, Any]]:
    """The one name-search rule (``cells.search_terms``), as a condition on ``column`` (a
    member's ``search_key``), for every search box and recipient filter.

    Parts of names and of the license number, ignoring case, accents, spaces and
    punctuation: "nunez" finds "Núñez", "obrien" "O'Brien", "ana nu" Ana Núñez, and
    "100-003" or "100 003" the license 100003. ``part`` limits the search to the first
    name, the last name or the license number (every word there). A blank query
    matches everyone; one of punctuation only matches no one.
    """
    if part is None:
        words, number = search_terms(query)
    else:
        words, number = search_words(query), ""
    if not words and not number:
        return ("true" if not query.strip() else "false"), {}

    def contains(which: int | None, name: str) -> str:
        # contains() is a plain substring test: nothing in a word is a pattern character.
        if which is None:
            return f"contains({column}, ${name})"
        # What is in one part is in the whole key: the whole is tested first, so that only
        # the few keys holding the word are split (a fifth of the time over a million).
        part_of = f"split_part({column}, '{SEARCH_KEY_SEPARATOR}', {which})"
        return f"contains({column}, ${name}) AND contains({part_of}, ${name})"

    clauses = [contains(part, f"{prefix}{i}") for i in range(len(words))]
    params = {f"{prefix}{i}": word for i, word in enumerate(words)}
    if number:
        clauses.append(contains(LICENSE_NUMBER, f"{prefix}_number"))
        params[f"{prefix}_number"] = number
    return f"({' AND '.join(clauses)})", params


@dataclass(frozen=True)
class Scope:
    """Which members a user may see: a director's areas and/or counties; empty = everyone."""

    areas: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return not self.areas and not self.counties


EVERYONE = Scope()


@dataclass(frozen=True)
class Filters:
    """What a report is filtered by. Every value reaches SQL as a parameter."""

    year: int
    counties: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()
    name: str = ""
    short_only: bool = False
    scope: Scope = field(default_factory=Scope)
    closed_year: bool = False  # only for describe(): the year's figures are its snapshot

    def member_where(
        self, alias: str = "m", *, search_column: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A WHERE clause (without the keyword) over members ``alias``, and its parameters.

        ``search_column``: a column holding the members' ``search_key`` (default: the
        members table's own).
        """
        clauses = ["true"]
        params: dict[str, Any] = {}
        if self.counties:
            clauses.append(f"{alias}.county IN (SELECT unnest($f_counties))")
            params["f_counties"] = list(self.counties)
        if self.areas:
            clauses.append(f"{alias}.area IN (SELECT unnest($f_areas))")
            params["f_areas"] = list(self.areas)
        if self.positions:
            clauses.append(f"{alias}.position IN (SELECT unnest($f_positions))")
            params["f_positions"] = list(self.positions)
        if self.name.strip():
            clause, words = name_search(
                self.name, f"{alias}.{search_column or 'search_key'}", prefix="f_word"
            )
            clauses.append(clause)
            params.update(words)
        if not self.scope.everyone:
            clauses.append(
                f"({alias}.area IN (SELECT unnest($s_areas))"
                f" OR {alias}.county IN (SELECT unnest($s_counties)))"
            )
            params["s_areas"] = list(self.scope.areas) or ["\x00none"]
            params["s_counties"] = list(self.scope.counties) or ["\x00none"]
        return " AND ".join(clauses), params

    def describe(self) -> str:
        """The filters in words, printed on exports."""
        parts = [
            f"CE year {self.year}" + (" (closed: frozen snapshot)" if self.closed_year else "")
        ]
        for label, values in (
            ("County", self.counties),
            ("Area", self.areas),
            ("Position", self.positions),
        ):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if self.name.strip():
            parts.append(f"Name contains “{self.name.strip()}”")
        if self.short_only:
            parts.append("Short of hours only")
        if not self.scope.everyone:
            parts.append("Scope: " + ", ".join(self.scope.areas + self.scope.counties))
        return "; ".join(parts)
