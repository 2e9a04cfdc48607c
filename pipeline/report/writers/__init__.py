"""The outputs, written row by row as a run produces them and placed atomically at the end.

Each output is a sink (`sink.Sink`) registered in `OUTPUTS` under its key: a new output is one
module and one entry here. `OutputWriter` feeds every registered sink the same rows, then writes
run.json (which records the others' hashes) and publishes them all at once through
`atomic.AtomicFiles`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.ingest import sha256_file
from pipeline.models import Certificate
from pipeline.report.crops import crops_for
from pipeline.report.rows import (
    AUDIT_XLSX,
    CERTIFICATES_CSV,
    RECONCILIATION_CSV,
    REPORT_HTML,
    RUN_JSON,
)
from pipeline.report.writers.atomic import AtomicFiles
from pipeline.report.writers.csv import certificates_csv, reconciliation_csv
from pipeline.report.writers.html import report_html
from pipeline.report.writers.run_json import _write_json
from pipeline.report.writers.sink import (
    CertificateRecord,
    Crop,
    Output,
    Sink,
    WriterOptions,
)
from pipeline.report.writers.xlsx import XlsxSink, _workbook_formats

__all__ = ["OUTPUTS", "CertificateRecord", "Crop", "Output", "OutputWriter", "Sink", "WriterOptions"]


def _audit_workbook(path: Path, options: WriterOptions) -> Sink:
    # The formats are looked up here when the sink is made, so this module is where they come from.
    return XlsxSink(path, options, formats=_workbook_formats)


# Every output but run.json, in the order they are written. run.json is not a sink: it is written
# last, by OutputWriter, because it records the hashes of the outputs a later run checks.
OUTPUTS: dict[str, Output] = {
    "reconciliation": Output(RECONCILIATION_CSV, reconciliation_csv),
    "certificates": Output(CERTIFICATES_CSV, certificates_csv),
    "audit": Output(AUDIT_XLSX, _audit_workbook),
    "report": Output(REPORT_HTML, report_html),
}
RUN_KEY = "run"
HASHED_OUTPUTS = ("reconciliation", "certificates", "audit")  # what a later run checks (runner)


class OutputWriter:
    """Every registered output, written row by row as a run produces them, placed atomically.

    Rows go straight to each sink's temp file, so memory does not grow with the report. `finish`
    finishes every sink, writes run.json, fsyncs, and only then moves all of them into place;
    any failure or interrupt before that (`abort`, or leaving the `with` block by an exception)
    removes the temp files and leaves the previous outputs untouched.
    """

    def __init__(self, out_dir: Path, crops: bool = True) -> None:
        self.out_dir = Path(out_dir)
        self.options = WriterOptions(self.out_dir, crops=crops)
        outputs = dict(OUTPUTS)  # as registered now: a test may add one for a run
        self._files = AtomicFiles(self.out_dir, [o.name for o in outputs.values()] + [RUN_JSON])
        self._sinks: list[Sink] = []
        self._done = False
        try:
            paths = {key: self._files.reserve(key, o.name) for key, o in outputs.items()}
            self._run_path = self._files.reserve(RUN_KEY, RUN_JSON)
            for key, output in outputs.items():
                self._sinks.append(output.make(paths[key], self.options))
        except BaseException:
            self.abort()
            raise
        self._keys = list(outputs)

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.abort()

    def reconciliation(self, row: dict[str, str]) -> None:
        for sink in self._sinks:
            sink.add_row(row)

    def certificate(self, row: dict[str, str], certificate: Certificate | None = None) -> None:
        crops = (
            crops_for(certificate, self.out_dir)
            if certificate is not None and self.options.crops else ()
        )
        record = CertificateRecord(row, certificate, crops)
        for sink in self._sinks:
            sink.add_certificate(record)

    def problem(self, row: dict[str, str]) -> None:
        for sink in self._sinks:
            sink.add_problem(row)

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> dict[str, Path]:
        """Every sink finished and run.json written, then every file synced and moved into place."""
        try:
            for sink in self._sinks:
                sink.finish(summary, run)
            # What was written, so a later run can tell the outputs are still these (runner).
            run = {**run, "output_sha256": {
                OUTPUTS[key].name: sha256_file(str(self._files.temp(key)))
                for key in HASHED_OUTPUTS if key in self._keys
            }}
            _write_json(self._run_path, run)
            final = self._files.commit()
        except BaseException:
            self.abort()
            raise
        self._done = True
        return final

    def abort(self) -> None:
        """Drop everything written so far; the previous outputs stay as they were."""
        self._done = True
        for sink in self._sinks:
            sink.close()
        self._files.discard()
