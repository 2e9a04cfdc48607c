"""The audit workbook: status colours, frozen headers, filters, sized columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xlsxwriter

from pipeline.report.writers.cells import _Columns, neutralise

# --- the audit workbook -----------------------------------------------------------------------

_GREEN = frozenset({"PASS", "MATCH", "MAPPED", "OK", "EVIDENCE"})
_AMBER = frozenset({"REVIEW", "PARTIAL", "MISSING", "UNVERIFIABLE", "NEEDS_EVIDENCE", "WARNING"})
_RED = frozenset({"FAIL", "MISMATCH", "INVALID_CPL", "ERROR", "NO_CERTIFICATE"})
_COLOURS = {"green": ("#C6EFCE", "#006100"), "amber": ("#FFEB9C", "#9C5700"),
            "red": ("#FFC7CE", "#9C0006")}

_WIDTH_SAMPLE = 500  # rows looked at to size columns; keeps sizing O(1) for huge reports
_MIN_WIDTH, _MAX_WIDTH = 8, 60

_WORKBOOK_OPTIONS = {
    "constant_memory": True,  # rows stream to disk: memory stays flat for 10,000+ rows
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def _status_colour(value: str) -> str | None:
    if value in _GREEN:
        return "green"
    if value in _AMBER:
        return "amber"
    if value in _RED:
        return "red"
    return None


def _is_status_column(column: str) -> bool:
    return column in ("status", "severity") or column.endswith("_status")


def _workbook_formats(workbook: xlsxwriter.Workbook) -> dict[str, Any]:
    formats = {
        name: workbook.add_format({"bg_color": bg, "font_color": fg})
        for name, (bg, fg) in _COLOURS.items()
    }
    formats["header"] = workbook.add_format({"bold": True, "bottom": 1})
    return formats


class _SheetStream:
    """One data sheet written row by row: bold frozen header, coloured status cells, every cell
    a string; on `close`, an autofilter over all rows and column widths sized from the header
    and the first rows (clamped, so one long cell cannot dominate)."""

    def __init__(
        self, workbook: xlsxwriter.Workbook, formats: Mapping[str, Any], name: str,
        columns: _Columns,
    ) -> None:
        self.ws = workbook.add_worksheet(name)
        self.formats = formats
        self.columns = columns
        self.rows = 0
        self._longest = [len(c) for c in columns.names]
        self._coloured = [_is_status_column(c) for c in columns.names]
        self.ws.freeze_panes(1, 0)
        for c, column in enumerate(columns.names):
            self.ws.write_string(0, c, neutralise(column), formats["header"])

    def add(self, cells: list[str]) -> None:
        """One row of cells from `columns.cells`."""
        self.rows += 1
        if self.rows <= _WIDTH_SAMPLE:
            for c, cell in enumerate(cells):
                self._longest[c] = max(self._longest[c], len(cell.split("\n", 1)[0]))
        write, r = self.ws.write_string, self.rows
        for c, cell in enumerate(cells):
            colour = _status_colour(cell) if self._coloured[c] else None
            if colour:
                write(r, c, cell, self.formats[colour])
            elif cell:
                write(r, c, cell)

    def close(self) -> None:
        for c, longest in enumerate(self._longest):
            self.ws.set_column(c, c, float(min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH)))
        self.ws.autofilter(0, 0, self.rows, len(self.columns.names) - 1)
