"""The report stage: reconciliation results and certificates as frozen data, then thin writers.

`build_report` turns the stage outputs into plain rows of text (the `Report`); `write_outputs`
renders that one object as `reconciliation.csv`, `certificates.csv`, `audit.xlsx` and `run.json`
(SPEC "Outputs"). Writers never decide anything: every value they show is already in the Report.

Spreadsheet safety: text taken from documents is untrusted. In every spreadsheet output (both
CSVs and every sheet of the XLSX) a cell whose first character -- or first character after
leading whitespace -- is `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so
no spreadsheet program treats it as a formula (see `neutralise`). Status words and hex values
never start with those characters and are unaffected. The Report itself and `run.json` keep the
raw values: they are data, not spreadsheets. XLSX values are written as strings, so `00:01`
stays text and `0012` keeps its zeros; only counts, row numbers and pages are numbers.

Outputs are written atomically: each file goes to a uniquely named temp file in the output
directory, is fsynced, and only when all four are complete are they moved into place with
`os.replace`. Any failure (or an interrupt) removes the temp files and leaves the previous
outputs untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.evidence import Evidence
from pipeline.models import (
    Certificate,
    CplRow,
    Overall,
    RowResult,
)
from pipeline.ota import OtaImage
from pipeline.report.rows import (
    CERTIFICATE_COLUMNS,
    OUTPUT_FILES,
    RECONCILIATION_COLUMNS,
    RowLinks,
    _document_problem,
    _evidence_problems,
    _extra_problem,
    _ota_problem,
    _row_problem,
    certificate_links,
    certificate_row,
    evidence_entry,
    ota_entry,
    reconciliation_row,
)
from pipeline.report.tally import Tally, _summary
from pipeline.report.writers import OutputWriter
from pipeline.report.writers.cells import neutralise

__all__ = [
    "CERTIFICATE_COLUMNS", "OUTPUT_FILES", "RECONCILIATION_COLUMNS", "OutputWriter", "Report",
    "ReportAssembler", "ReportSink", "build_report", "certificate_links", "neutralise",
    "write_outputs",
]

# --- the frozen report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """Everything the outputs show, as plain text rows; the writers are views over it."""

    reconciliation: list[dict[str, str]]
    certificates: list[dict[str, str]]
    problems: list[dict[str, str]]
    summary: list[tuple[str, str]]
    run: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready data (raw values, not neutralised)."""
        return {
            "reconciliation": [dict(r) for r in self.reconciliation],
            "certificates": [dict(c) for c in self.certificates],
            "problems": [dict(p) for p in self.problems],
            "summary": [[k, v] for k, v in self.summary],
            "run": self.run,
        }


class ReportSink(Protocol):
    """Where report rows go as they are made: lists (a Report) or the output files.

    `certificate` is also given the parsed certificate, for outputs that show more than its row
    (the crops of its fields); a sink that needs only the row ignores it.
    """

    def reconciliation(self, row: dict[str, str]) -> None: ...
    def certificate(self, row: dict[str, str], certificate: Certificate | None = None) -> None: ...
    def problem(self, row: dict[str, str]) -> None: ...


class ReportAssembler:
    """Turns results into report rows as they arrive, keeping only counts and row numbers.

    The order of calls is the order of a run: `document` for each document as it is read (its
    problem, if unreadable), `result` for each CPL row in input order, then `certificate` for
    each document (its CPL rows are known by then), then `finish`. Nothing per row or per
    document is kept but the numbers linking them, so memory does not grow with the rows' text.
    """

    def __init__(self, sink: ReportSink) -> None:
        self.sink = sink
        self.tally = Tally()
        self.links = RowLinks()

    def document(self, certificate: Certificate) -> None:
        if not certificate.ok:
            self._problem(_document_problem(certificate))

    def result(self, result: RowResult) -> None:
        self.sink.reconciliation(reconciliation_row(result))
        self.tally.result(result)
        self.links.add(result)
        if result.overall != Overall.PASS:
            self._problem(_row_problem(result))

    def certificate(self, certificate: Certificate) -> None:
        link = self.links.link_for(certificate)
        self.tally.certificate(certificate, link)
        self.sink.certificate(certificate_row(certificate, link), certificate)

    def finish(
        self,
        run_info: Mapping[str, Any],
        cpl_rows: Iterable[CplRow],
        extra_problems: Iterable[Mapping[str, str]] = (),
        ota_images: Sequence[OtaImage] | None = None,
        evidence: Evidence | None = None,
    ) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        """The last problems, then the Summary lines and run.json's data (counts included).

        `ota_images` (from --ota) and `evidence` (--evidence) add their problems and a section
        each to run.json. Evidence shows only file names and hashes: its text stays out of
        every output.
        """
        for image in ota_images or ():
            if not image.ok:
                self._problem(_ota_problem(image))
        for problem in _evidence_problems(evidence, cpl_rows):
            self._problem(problem)
        for extra in extra_problems:
            self._problem(_extra_problem(extra))
        counts = self.tally.counts(ota_images)
        run = {**dict(run_info), "counts": counts, "outputs": dict(OUTPUT_FILES)}
        if ota_images is not None:
            run["ota"] = [ota_entry(i) for i in ota_images]
        if evidence is not None:
            run["evidence"] = evidence_entry(evidence)
        return _summary(counts, run_info), run

    def _problem(self, problem: dict[str, str]) -> None:
        self.tally.problems += 1
        self.sink.problem(problem)


class _ReportLists:
    """A sink that keeps every row: for `build_report`, whose callers hold the results anyway."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str]]] = {
            "reconciliation": [], "certificates": [], "problems": []
        }

    def reconciliation(self, row: dict[str, str]) -> None:
        self.rows["reconciliation"].append(row)

    def certificate(self, row: dict[str, str], certificate: Certificate | None = None) -> None:
        self.rows["certificates"].append(row)

    def problem(self, row: dict[str, str]) -> None:
        self.rows["problems"].append(row)


def build_report(
    results: Sequence[RowResult],
    certificates: Sequence[Certificate],
    run_info: Mapping[str, Any],
    extra_problems: Sequence[Mapping[str, str]] = (),
    ota_images: Sequence[OtaImage] | None = None,
    evidence: Evidence | None = None,
) -> Report:
    """Results already in memory as one Report, made by the same assembler a run streams through."""
    lists = _ReportLists()
    assembler = ReportAssembler(lists)
    for certificate in certificates:
        assembler.document(certificate)
    for result in results:
        assembler.result(result)
    for certificate in certificates:
        assembler.certificate(certificate)
    summary, run = assembler.finish(
        run_info, [r.cpl for r in results], extra_problems, ota_images, evidence
    )
    return Report(
        reconciliation=lists.rows["reconciliation"],
        certificates=lists.rows["certificates"],
        problems=lists.rows["problems"],
        summary=summary,
        run=run,
    )




def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write a Report's four outputs atomically, through the same writer a run streams into."""
    with OutputWriter(out_dir) as writer:
        for row in report.reconciliation:
            writer.reconciliation(row)
        for row in report.certificates:
            writer.certificate(row)
        for row in report.problems:
            writer.problem(row)
        return writer.finish(report.summary, report.run)
