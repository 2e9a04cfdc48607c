"""The audit workbook: status colours, frozen headers, filters, sized columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.report.rows import (
    CERTIFICATE_ALL_COLUMNS,
    PROBLEM_COLUMNS,
    RECONCILIATION_ALL_COLUMNS,
    SUMMARY_COLUMNS,
)
from pipeline.report.writers.cells import _Columns, neutralise
from pipeline.report.writers.sink import CertificateRecord, WriterOptions

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


class XlsxSink:
    """audit.xlsx: Summary (filled in last), Reconciliation, Certificates and Problems sheets,
    streamed row by row through xlsxwriter's constant-memory mode.

    `formats` makes the workbook's cell formats; the registry passes `_workbook_formats`.
    """

    def __init__(
        self, path: Path, options: WriterOptions,
        formats: Callable[[xlsxwriter.Workbook], dict[str, Any]],
    ) -> None:
        self._workbook: xlsxwriter.Workbook | None = xlsxwriter.Workbook(
            str(path), _WORKBOOK_OPTIONS
        )
        try:
            made = formats(self._workbook)
            recon, certs = _Columns(RECONCILIATION_ALL_COLUMNS), _Columns(CERTIFICATE_ALL_COLUMNS)
            # Sheet order is the order they are added; Summary is filled in last.
            self._summary = _SheetStream(self._workbook, made, "Summary", _Columns(SUMMARY_COLUMNS))
            self._recon = _SheetStream(self._workbook, made, "Reconciliation", recon)
            self._certs = _SheetStream(self._workbook, made, "Certificates", certs)
            self._problems = _SheetStream(self._workbook, made, "Problems", _Columns(PROBLEM_COLUMNS))
        except BaseException:
            self.close()
            raise

    def add_row(self, row: dict[str, str]) -> None:
        self._recon.add(self._recon.columns.cells(row))

    def add_certificate(self, record: CertificateRecord) -> None:
        self._certs.add(self._certs.columns.cells(record.row))

    def add_problem(self, row: dict[str, str]) -> None:
        self._problems.add(self._problems.columns.cells(row))

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
        for key, value in summary:
            self._summary.add(self._summary.columns.cells({"key": key, "value": value}))
        for sheet in (self._summary, self._recon, self._certs, self._problems):
            sheet.close()
        assert self._workbook is not None
        workbook, self._workbook = self._workbook, None
        workbook.close()

    def close(self) -> None:
        if self._workbook is not None:
            workbook, self._workbook = self._workbook, None
            try:
                workbook.close()
            except Exception:  # noqa: S110 - its temp file is removed next either way
                pass
