"""The audit workbook, for people who work in Excel.

Summary (a real summary, with a chart), Reconciliation (identity frozen at the left, per field
the comparison then how, reasons wrapped, links to the certificate files), Certificates,
Problems, Evidence (the crops beside the values, rows that are not PASS first), and, only when
needed, Long cells. Numbers are numbers; text stays text (`00:01` is not a time, `0012` keeps its
zeros); every string is neutralised (`cells.neutralise`), and with strings_to_formulas off no
string is ever a formula. A cell over Excel's 32,767 characters is never cut silently: its text
goes to the Long cells sheet and the cell says where. Every sheet prints landscape, one page
wide, with its header row repeated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.report.writers.cells import neutralise
from pipeline.report.writers.sink import CertificateRecord, WriterOptions
from pipeline.report.writers.xlsx_columns import (
    CERTIFICATE_SHEET,
    LINK,
    NUMBER,
    PAGE_COLUMNS,
    PROBLEM_SHEET,
    RECONCILIATION_IDENTITY,
    RECONCILIATION_SHEET,
    STATUS,
    WRAP,
    Column,
)
from pipeline.report.writers.xlsx_summary import EvidenceSheet, write_summary

_GREEN = frozenset({"PASS", "MATCH", "MAPPED", "OK", "EVIDENCE"})
_AMBER = frozenset({"REVIEW", "PARTIAL", "MISSING", "UNVERIFIABLE", "NEEDS_EVIDENCE", "WARNING"})
_RED = frozenset({"FAIL", "MISMATCH", "INVALID_CPL", "ERROR", "NO_CERTIFICATE"})
_COLOURS = {"green": ("#C6EFCE", "#006100"), "amber": ("#FFEB9C", "#9C5700"),
            "red": ("#FFC7CE", "#9C0006")}

_WIDTH_SAMPLE = 500  # rows looked at to size columns; keeps sizing O(1) for huge reports
_MIN_WIDTH, _MAX_WIDTH = 8, 60  # a wrapped column stops at 60 characters and wraps
MAX_CELL = 32_767  # Excel's limit on one cell's text
LONG_PART = 32_000  # characters per row of the Long cells sheet
MAX_LINKS = 65_530  # Excel's hyperlinks per sheet; later rows show the file name as text
MAX_LINK_LENGTH = 2_079  # Excel's longest hyperlink

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


def _workbook_formats(workbook: xlsxwriter.Workbook) -> dict[str, Any]:
    formats = {
        name: workbook.add_format({"bg_color": bg, "font_color": fg, "valign": "top"})
        for name, (bg, fg) in _COLOURS.items()
    }
    formats["header"] = workbook.add_format(
        {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2"})
    formats["text"] = workbook.add_format({"valign": "top"})
    formats["wrap"] = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats["link"] = workbook.add_format({"font_color": "#0563C1", "underline": 1, "valign": "top"})
    formats["title"] = workbook.add_format({"bold": True, "font_size": 16})
    formats["bold"] = workbook.add_format({"bold": True})
    formats["note"] = workbook.add_format({"italic": True, "font_color": "#595959"})
    return formats


def print_setup(ws: Any, header_rows: int = 1) -> None:
    """Landscape A4, one page wide (as many pages down as it takes), header rows repeated."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    if header_rows:
        ws.repeat_rows(0, header_rows - 1)


def page_of(row: Mapping[str, str]) -> int | None:
    """The page a row's link opens at: the first field's page (F_page), else the first page
    of the certificate (certificates' `certificate_pages`)."""
    for key in (*PAGE_COLUMNS, "certificate_pages"):
        first = row.get(key, "").split("-", 1)[0]
        if first.isdigit() and int(first) > 0:
            return int(first)
    return None


class LongCells:
    """Text too long for one cell, kept whole on a sheet of its own (made when first needed)."""

    NAME = "Long cells"

    def __init__(self, workbook: xlsxwriter.Workbook, formats: Mapping[str, Any]) -> None:
        self.workbook, self.formats = workbook, formats
        self.ws: Any = None
        self.row = 0

    def keep(self, sheet: str, cell: str, header: str, text: str) -> str:
        """Store the text; the note the original cell shows instead."""
        if self.ws is None:
            self.ws = self.workbook.add_worksheet(self.NAME)
            for c, title in enumerate(("Sheet", "Cell", "Column", "Part", "Text")):
                self.ws.write_string(0, c, title, self.formats["header"])
            self.ws.set_column(4, 4, 120)
            print_setup(self.ws)
        first = self.row + 1
        for part, start in enumerate(range(0, len(text), LONG_PART), 1):
            self.row += 1
            for c, value in enumerate((sheet, cell, header)):
                self.ws.write_string(self.row, c, neutralise(value))
            self.ws.write_number(self.row, 3, part)
            self.ws.write_string(self.row, 4, neutralise(text[start:start + LONG_PART]))
        return (f"{len(text):,} characters, too many for one cell: the whole text is on sheet "
                f"'{self.NAME}', rows {first + 1}-{self.row + 1}")


class _SheetStream:
    """One data sheet written row by row: plain headers, frozen identity, coloured verdicts,
    numbers as numbers, wrapped prose, links; filter and widths set on `close`."""

    def __init__(
        self, workbook: xlsxwriter.Workbook, formats: Mapping[str, Any], name: str,
        columns: Sequence[Column], frozen: int, long_cells: LongCells, links_from: Path | None,
    ) -> None:
        self.ws = workbook.add_worksheet(name)
        self.name = name
        self.formats = formats
        self.columns = tuple(columns)
        self.rows = 0
        self.links = 0
        self._long = long_cells
        self._links_from = links_from
        self._longest = [min(len(c.header), 24) for c in self.columns]
        self.ws.freeze_panes(1, frozen)
        self.ws.set_row(0, 30)
        for c, column in enumerate(self.columns):
            self.ws.write_string(0, c, neutralise(column.header), formats["header"])
        print_setup(self.ws)

    def add(self, row: Mapping[str, str]) -> None:
        self.rows += 1
        r = self.rows
        for c, column in enumerate(self.columns):
            value = row.get(column.key, "")
            if r <= _WIDTH_SAMPLE:
                self._longest[c] = max(self._longest[c], len(value.split("\n", 1)[0]))
            if value:
                self._cell(r, c, column, value, row)

    def _cell(self, r: int, c: int, column: Column, value: str, row: Mapping[str, str]) -> None:
        kind = column.kind
        if kind == NUMBER and value.isdigit():
            self.ws.write_number(r, c, int(value))
            return
        if len(value) > MAX_CELL:
            cell = xlsxwriter.utility.xl_rowcol_to_cell(r, c)
            value, kind = self._long.keep(self.name, cell, column.header, value), WRAP
        text = neutralise(value)
        if kind == STATUS:
            colour = _status_colour(value)
            self.ws.write_string(r, c, text, self.formats[colour or "text"])
        elif kind == LINK and self._link(r, c, value, text, page_of(row)):
            return
        else:
            self.ws.write_string(r, c, text, self.formats["wrap" if kind == WRAP else "text"])

    def _link(self, r: int, c: int, file: str, text: str, page: int | None) -> bool:
        """A hyperlink to the document, relative to the workbook, at its page (`#page=N`: the
        file is the link's target and the page its location, which a PDF viewer opened with
        it may honour); False where Excel has none (a zip member, a sheet's 65,530th link, an
        over-long path)."""
        if self._links_from is None or self.links >= MAX_LINKS or ".zip/" in file.lower():
            return False
        target = os.path.relpath(os.path.abspath(file), os.path.abspath(self._links_from))
        if len(target) > MAX_LINK_LENGTH - 9:
            return False
        self.links += 1
        url = "external:" + target.replace(os.sep, "/") + (f"#page={page}" if page else "")
        self.ws.write_url(r, c, url, self.formats["link"],
                          string=text, tip="open the certificate file")
        return True

    def close(self) -> None:
        for c, (column, longest) in enumerate(zip(self.columns, self._longest, strict=True)):
            width = float(min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH))
            if column.kind == NUMBER:
                width = float(max(len(column.header) + 2, _MIN_WIDTH))
            self.ws.set_column(c, c, width)
        self.ws.autofilter(0, 0, self.rows, len(self.columns) - 1)


class XlsxSink:
    """audit.xlsx, streamed row by row through xlsxwriter's constant-memory mode; Summary and
    Evidence are filled in at `finish`, from the counts and the rows kept for Evidence.

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
            wb = self._workbook
            self.formats = formats(wb)
            self._summary = wb.add_worksheet("Summary")  # first tab; written at finish
            long_cells = LongCells(wb, self.formats)
            out = options.out_dir
            self._recon = _SheetStream(wb, self.formats, "Reconciliation", RECONCILIATION_SHEET,
                                       len(RECONCILIATION_IDENTITY), long_cells, out)
            self._certs = _SheetStream(wb, self.formats, "Certificates", CERTIFICATE_SHEET, 1,
                                       long_cells, out)
            self._problems = _SheetStream(wb, self.formats, "Problems", PROBLEM_SHEET, 0,
                                          long_cells, None)
            self._evidence = EvidenceSheet(wb, self.formats, out, options.crops)
        except BaseException:
            self.close()
            raise

    def add_row(self, row: dict[str, str]) -> None:
        self._recon.add(row)
        self._evidence.add_row(row)

    def add_certificate(self, record: CertificateRecord) -> None:
        self._certs.add(record.row)
        self._evidence.add_certificate(record)

    def add_problem(self, row: dict[str, str]) -> None:
        self._problems.add(row)

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
        for sheet in (self._recon, self._certs, self._problems):
            sheet.close()
        assert self._workbook is not None
        write_summary(self._workbook, self._summary, self.formats, run, print_setup, summary)
        self._evidence.write(print_setup)
        workbook, self._workbook = self._workbook, None
        workbook.close()

    def close(self) -> None:
        if self._workbook is not None:
            workbook, self._workbook = self._workbook, None
            try:
                workbook.close()
            except Exception:  # noqa: S110 - its temp file is removed next either way
                pass
