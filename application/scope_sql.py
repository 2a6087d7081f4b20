"""The SQL that keeps a reader inside its scope (districts, importers), shared by every
list the views serve: the API's lists (projections.queries), the dashboards and the work
list page (application/*_queries.py)."""

from __future__ import annotations

from typing import Any

from domain.values import parse_district, parse_importer_number


def scope_clauses(districts: frozenset[str] | None, importers: frozenset[str] | None,
                  district_column: str = "district",
                  importer_column: str = "importer_number") -> tuple[list[str], list[Any]]:
    """The clauses that keep a reader inside what they may see: None sees everything, a
    set only those districts (importers), an empty set nothing ("1 = 0")."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, allowed, parse in ((district_column, districts, parse_district),
                                   (importer_column, importers, parse_importer_number)):
        if allowed is None:
            continue
        values = sorted({parse(value) for value in allowed})
        if not values:
            clauses.append("1 = 0")
            continue
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params += values
    return clauses, params
