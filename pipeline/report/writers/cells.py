"""The one path from a report row into any spreadsheet cell: columns, and formula neutralisation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# --- neutralisation ---------------------------------------------------------------------------

_FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def neutralise(value: str) -> str:
    """Prefix `'` to text a spreadsheet would read as a formula (CSV/formula injection).

    Triggers: first character `=`, `+`, `-`, `@`, tab or carriage return, also after leading
    whitespace. Everything else, status words and hex values included, is returned unchanged.
    """
    if not value:
        return value
    if value[0] in _FORMULA_TRIGGERS or value.lstrip()[:1] in _FORMULA_TRIGGERS:
        return "'" + value
    return value




class _Columns:
    """An output's columns, and the one path from a report row into any spreadsheet cell."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.names = tuple(columns)
        self._known = frozenset(self.names)

    def cells(self, row: Mapping[str, str]) -> list[str]:
        """The row as neutralised cells in column order. A key outside the columns is a
        programming error: refused, rather than silently lost."""
        unknown = row.keys() - self._known
        if unknown:
            raise ValueError(f"report row has columns the output does not: {sorted(unknown)}")
        return [neutralise(row.get(c, "")) for c in self.names]
