"""The report filter bar (SPEC §3) and a director's scope, as parameterised SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

        ``search_column``: a column holding lower(first || ' ' || last || ' ' || license).
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
        if self.name.strip() and search_column:
            # A plain substring test: nothing in the text is a pattern character.
            clauses.append(f"contains({alias}.{search_column}, lower($f_text))")
            params["f_text"] = self.name.strip()
        elif self.name.strip():
            clauses.append(
                f"({alias}.first_name || ' ' || {alias}.last_name || ' ' || {alias}.license_number)"
                " ILIKE $f_name ESCAPE '\\'"
            )
        if self.name.strip() and not search_column:
            escaped = (
                self.name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            params["f_name"] = f"%{escaped}%"
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
