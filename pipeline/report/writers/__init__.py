"""The outputs, written row by row as a run produces them and placed atomically at the end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import xlsxwriter

from pipeline.ingest import sha256_file
from pipeline.report.rows import (
    CERTIFICATE_ALL_COLUMNS,
    OUTPUT_FILES,
    PROBLEM_COLUMNS,
    RECONCILIATION_ALL_COLUMNS,
    SUMMARY_COLUMNS,
)
from pipeline.report.writers.atomic import _fsync_dir, _fsync_file, _remove_stale_temps, _reserve_temp
from pipeline.report.writers.cells import _Columns
from pipeline.report.writers.csv import _CsvStream
from pipeline.report.writers.run_json import _write_json
from pipeline.report.writers.xlsx import _WORKBOOK_OPTIONS, _SheetStream, _workbook_formats

# --- writers ----------------------------------------------------------------------------------


class OutputWriter:
    """The four outputs, written row by row as a run produces them, placed atomically at the end.

    Rows go straight to temp files beside the targets (the CSVs through `csv`, the workbook
    through xlsxwriter's constant-memory mode), so memory does not grow with the report.
    `finish` writes the Summary sheet and run.json, fsyncs, and only then moves all four into
    place with `os.replace`; any failure or interrupt before that (`abort`, or leaving the `with`
    block by an exception) removes the temp files and leaves the previous outputs untouched.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._temps: dict[str, Path] = {}
        self._files: list[IO[str]] = []
        self._workbook: xlsxwriter.Workbook | None = None
        self._done = False
        _remove_stale_temps(self.out_dir)
        try:
            for key, name in OUTPUT_FILES.items():
                self._temps[key] = _reserve_temp(self.out_dir, name)
            recon, certs = _Columns(RECONCILIATION_ALL_COLUMNS), _Columns(CERTIFICATE_ALL_COLUMNS)
            self._recon_csv = self._csv(self._temps["reconciliation"], recon)
            self._cert_csv = self._csv(self._temps["certificates"], certs)
            self._workbook = xlsxwriter.Workbook(str(self._temps["audit"]), _WORKBOOK_OPTIONS)
            formats = _workbook_formats(self._workbook)
            # Sheet order is the order they are added; Summary is filled in last.
            self._summary = _SheetStream(
                self._workbook, formats, "Summary", _Columns(SUMMARY_COLUMNS)
            )
            self._recon_sheet = _SheetStream(self._workbook, formats, "Reconciliation", recon)
            self._cert_sheet = _SheetStream(self._workbook, formats, "Certificates", certs)
            self._problem_sheet = _SheetStream(
                self._workbook, formats, "Problems", _Columns(PROBLEM_COLUMNS)
            )
        except BaseException:
            self.abort()
            raise

    def _csv(self, path: Path, columns: _Columns) -> _CsvStream:
        # UTF-8 with a BOM: without one, Excel opens a CSV as the local code page and shows § as
        # two characters. (audit.xlsx is still the file to open in Excel: see README.)
        handle = open(path, "w", encoding="utf-8-sig", errors="backslashreplace", newline="")
        self._files.append(handle)
        return _CsvStream(handle, columns)

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.abort()

    def reconciliation(self, row: dict[str, str]) -> None:
        cells = self._recon_csv.columns.cells(row)  # once, for the CSV and the sheet alike
        self._recon_csv.add(cells)
        self._recon_sheet.add(cells)

    def certificate(self, row: dict[str, str]) -> None:
        cells = self._cert_csv.columns.cells(row)
        self._cert_csv.add(cells)
        self._cert_sheet.add(cells)

    def problem(self, row: dict[str, str]) -> None:
        self._problem_sheet.add(self._problem_sheet.columns.cells(row))

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> dict[str, Path]:
        """Summary sheet and run.json, then every file synced and moved into place."""
        try:
            for key, value in summary:
                self._summary.add(self._summary.columns.cells({"key": key, "value": value}))
            for sheet in (self._summary, self._recon_sheet, self._cert_sheet, self._problem_sheet):
                sheet.close()
            assert self._workbook is not None
            workbook, self._workbook = self._workbook, None
            workbook.close()
            for handle in self._files:
                handle.close()
            # What was written, so a later run can tell the outputs are still these (runner).
            run = {**run, "output_sha256": {
                OUTPUT_FILES[key]: sha256_file(str(self._temps[key]))
                for key in ("reconciliation", "certificates", "audit")
            }}
            _write_json(self._temps["run"], run)
            for tmp in self._temps.values():
                _fsync_file(tmp)
            final = {key: self.out_dir / OUTPUT_FILES[key] for key in self._temps}
            for key, tmp in self._temps.items():
                os.replace(tmp, final[key])
            _fsync_dir(self.out_dir)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return final

    def abort(self) -> None:
        """Drop everything written so far; the previous outputs stay as they were."""
        self._done = True
        for handle in self._files:
            handle.close()
        if self._workbook is not None:
            try:
                self._workbook.close()
            except Exception:  # noqa: S110 - its temp file is removed next either way
                pass
            self._workbook = None
        for tmp in self._temps.values():
            tmp.unlink(missing_ok=True)
