"""The CSV outputs.
"""

from __future__ import annotations

import csv
from typing import IO

from pipeline.report.writers.cells import _Columns, neutralise


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
