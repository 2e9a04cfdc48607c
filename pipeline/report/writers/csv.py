"""The CSV outputs.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pipeline.report.rows import CERTIFICATE_ALL_COLUMNS, RECONCILIATION_ALL_COLUMNS
from pipeline.report.writers.cells import _Columns, neutralise
from pipeline.report.writers.sink import CertificateRecord, WriterOptions


class _CsvStream:
    """UTF-8 with a BOM (as the file is opened), header row, minimal quoting, `\\n` line ends;
    cells neutralised.

    A row holding a bare CR is fully quoted: with a `\\n` line terminator the csv module (3.11)
    does not quote a field containing `\\r`, and readers would split the row there.
    """

    def __init__(self, handle: IO[str], columns: _Columns) -> None:
        self.columns = columns
        self._minimal = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        self._quoted = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        self._minimal.writerow([neutralise(c) for c in columns.names])

    def add(self, cells: list[str]) -> None:
        """One row of cells from `columns.cells`."""
        (self._quoted if any("\r" in c for c in cells) else self._minimal).writerow(cells)


class CsvSink:
    """One CSV output: the reconciliation rows or the certificate rows, in arrival order."""

    def __init__(self, path: Path, columns: Sequence[str], takes: str) -> None:
        self.columns = _Columns(columns)
        self._takes = takes  # "rows" or "certificates"
        # UTF-8 with a BOM: without one, Excel opens a CSV in the local code page and shows § as
        # two characters (audit.xlsx is still the file to open in Excel: see README).
        self._handle = open(path, "w", encoding="utf-8-sig", errors="backslashreplace", newline="")
        self._stream = _CsvStream(self._handle, self.columns)

    def add_row(self, row: dict[str, str]) -> None:
        if self._takes == "rows":
            self._stream.add(self.columns.cells(row))

    def add_certificate(self, record: CertificateRecord) -> None:
        if self._takes == "certificates":
            self._stream.add(self.columns.cells(record.row))

    def add_problem(self, row: dict[str, str]) -> None:
        pass

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
        self._handle.close()

    def close(self) -> None:
        self._handle.close()


def reconciliation_csv(path: Path, options: WriterOptions) -> CsvSink:
    return CsvSink(path, RECONCILIATION_ALL_COLUMNS, "rows")


def certificates_csv(path: Path, options: WriterOptions) -> CsvSink:
    return CsvSink(path, CERTIFICATE_ALL_COLUMNS, "certificates")
