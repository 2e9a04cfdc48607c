"""The report stage: reconciliation results and certificates as frozen data, then thin writers.

`build_report` turns the stage outputs into plain rows of text (the `Report`); `write_outputs`
renders that one object as `reconciliation.csv`, `certificates.csv`, `audit.xlsx` and `run.json`
(SPEC "Outputs"). Writers never decide anything: every value they show is already in the Report.

Spreadsheet safety: text taken from documents is untrusted. In every spreadsheet output (both
CSVs and every sheet of the XLSX) a cell whose first character -- or first character after
leading whitespace -- is `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so
no spreadsheet program treats it as a formula (see `neutralise`). Status words and hex values
never start with those characters and are unaffected. The Report itself and `run.json` keep the
raw values: they are data, not spreadsheets. XLSX cells are always written as strings, so
`00:01` stays text and `0012` keeps its zeros.

Outputs are written atomically: each file goes to a uniquely named temp file in the output
directory, is fsynced, and only when all four are complete are they moved into place with
`os.replace`. Any failure (or an interrupt) removes the temp files and leaves the previous
outputs untouched.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import regex
import xlsxwriter

from pipeline.evidence import Evidence, unused_entries
from pipeline.ingest import sha256_file
from pipeline.models import (
    FIELDS,
    LISTING_ATTRIBUTE,
    Certificate,
    CplRow,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    TextSource,
    Verdict,
)
from pipeline.ota import OtaImage
from pipeline.pool import process_alive
from pipeline.reconcile import certificate_key
from pipeline.spool import indexes_noted, note_index

# --- the output contract (SPEC "Outputs"): names and order are fixed -------------------------

RECONCILIATION_CSV = "reconciliation.csv"
CERTIFICATES_CSV = "certificates.csv"
AUDIT_XLSX = "audit.xlsx"
RUN_JSON = "run.json"

OUTPUT_FILES: dict[str, str] = {
    "reconciliation": RECONCILIATION_CSV,
    "certificates": CERTIFICATES_CSV,
    "audit": AUDIT_XLSX,
    "run": RUN_JSON,
}

_FIELD_PARTS = ("cpl", "certificate", "status", "method")
_FIELD_EXTRAS = ("reason", "alternatives")

RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "submission_row",
    "submission_id",
    "certificate_id",
    "certificate_file",
    "overall_status",
    "reasons",
    *(f"{f.value}_{part}" for f in FIELDS for part in _FIELD_PARTS),
)
RECONCILIATION_EXTRA_COLUMNS: tuple[str, ...] = (
    "listing",
    *(f"{f.value}_{part}" for f in FIELDS for part in _FIELD_EXTRAS),
    # Informative (never in overall_status) and guidance §5 columns.
    "policy",
    "device_type_status",
    "ota_status",
    "ota_file",
    "evidence_file",
    "evidence_sha256",
    "evidence_lines",
    "device_type_cpl",
    "device_type_reason",
    "ota_reason",
    "evidence_check",
    "reuse_rows",
)

CERTIFICATE_COLUMNS: tuple[str, ...] = (
    "certificate_file",
    "sha256",
    "pages",
    "text_source",
    "certificate_id",
    "certificate_date",
    "device_type",
    "manufacturer",
    "model",
    "hardware_version",
    "firmware_version",
    "status",
    "error",
)
CERTIFICATE_EXTRA_COLUMNS: tuple[str, ...] = (
    "ocr_reason", "layout", "listings", "cpl_rows", "cpl_link", "notes",
)
RECONCILIATION_ALL_COLUMNS = RECONCILIATION_COLUMNS + RECONCILIATION_EXTRA_COLUMNS
CERTIFICATE_ALL_COLUMNS = CERTIFICATE_COLUMNS + CERTIFICATE_EXTRA_COLUMNS

# cpl_link: how CPL rows use a document (guidance §5 reuse; orphans are documents no row cites).
LINK_ORPHAN, LINK_SINGLE, LINK_SHARED, LINK_REUSED = "ORPHAN", "SINGLE", "SHARED", "REUSED"

PROBLEM_COLUMNS: tuple[str, ...] = ("severity", "kind", "where", "detail")
SUMMARY_COLUMNS: tuple[str, ...] = ("key", "value")

LIST_SEPARATOR = "; "  # reasons, alternatives
LINE_SEPARATOR = " | "  # matched evidence lines
LISTING_SEPARATOR = " | "  # the same field across the listings of a multi-model certificate

_LISTING_FIELDS: tuple[tuple[str, Field], ...] = tuple(
    (LISTING_ATTRIBUTE[f], f) for f in FIELDS
)

_GOOD_VERDICTS = frozenset({Verdict.MATCH, Verdict.MAPPED, Verdict.EVIDENCE})


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
    """Where report rows go as they are made: lists (a Report) or the output files."""

    def reconciliation(self, row: dict[str, str]) -> None: ...
    def certificate(self, row: dict[str, str]) -> None: ...
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
        self.sink.certificate(certificate_row(certificate, link))

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

    def certificate(self, row: dict[str, str]) -> None:
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


# --- how rows use documents (orphans, shared and reused certificates) --------------------------


@dataclass(frozen=True)
class Link:
    """The CPL rows citing one document, and whether any of them reuses it (guidance §5)."""

    rows: tuple[int, ...] = ()
    reused: bool = False

    @property
    def kind(self) -> str:
        if self.reused:
            return LINK_REUSED
        if len(self.rows) > 1:
            return LINK_SHARED
        return LINK_SINGLE if self.rows else LINK_ORPHAN


class RowLinks:
    """Which CPL rows cite which documents, kept as row numbers while results stream past.

    A row cites the documents carrying its certificate ID, and the document it was compared
    with. That is one of the former, except when the link crossed an OCR confusion or the
    document could not be read (it has no ID then): only those rows are noted by file name,
    so a row costs its number under its key and nothing more.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, int | list[int]] = {}
        self._by_file: dict[str, int | list[int]] = {}
        self._reused_files: set[str] = set()

    def add(self, result: RowResult) -> None:
        if key := certificate_key(result.cpl.certificate_id):
            # Interned, like the certificate spool's keys: one string per ID, not one per row.
            note_index(self._by_key, sys.intern(key), result.cpl.row)
        if result.certificate_file and (
            result.linked_by_confusion or result.overall is Overall.ERROR or not key
        ):
            note_index(self._by_file, result.certificate_file, result.cpl.row)
        if result.certificate_file and result.reuse_group:
            self._reused_files.add(result.certificate_file)

    def link_for(self, certificate: Certificate) -> Link:
        key = certificate_key(certificate.certificate_id) if certificate.ok else ""
        rows = set(indexes_noted(self._by_key, key)) if key else set()
        rows.update(indexes_noted(self._by_file, certificate.file))
        return Link(tuple(sorted(rows)), certificate.file in self._reused_files)


def certificate_links(
    results: Sequence[RowResult], certificates: Sequence[Certificate]
) -> list[Link]:
    """Per document: rows whose certificate ID it carries, or that were linked to it by name."""
    links = RowLinks()
    for result in results:
        links.add(result)
    return [links.link_for(c) for c in certificates]


# --- rows -------------------------------------------------------------------------------------


def judgement_for(result: RowResult, f: Field) -> FieldJudgement | None:
    """The judgement shown for a field: the first one reconcile gave for it, if any."""
    return next((j for j in result.judgements if j.field == f), None)


def reconciliation_row(result: RowResult) -> dict[str, str]:
    """One CPL row; without a judgement a field shows its CPL value and nothing else."""
    cpl = result.cpl
    row = {
        "submission_row": str(cpl.row),
        "submission_id": cpl.submission_id,
        "certificate_id": cpl.certificate_id,
        "certificate_file": result.certificate_file,
        "overall_status": result.overall.value,
        "reasons": LIST_SEPARATOR.join(result.reasons),
    }
    extras = {"listing": result.listing_label}
    for f in FIELDS:
        j = judgement_for(result, f)
        row[f"{f.value}_cpl"] = cpl.value_for(f)
        row[f"{f.value}_certificate"] = j.certificate_text if j else ""
        row[f"{f.value}_status"] = j.status.value if j else ""
        row[f"{f.value}_method"] = j.method if j else ""
        extras[f"{f.value}_reason"] = j.reason if j else ""
        extras[f"{f.value}_alternatives"] = LIST_SEPARATOR.join(j.alternatives) if j else ""
    extras |= {
        "policy": result.policy,
        "device_type_status": result.device_type_status,
        "ota_status": result.ota_status,
        "ota_file": result.ota_file,
        "evidence_file": result.evidence_file,
        "evidence_sha256": result.evidence_sha256,
        "evidence_lines": LINE_SEPARATOR.join(result.evidence_lines),
        "device_type_cpl": cpl.device_type,
        "device_type_reason": result.device_type_reason,
        "ota_reason": result.ota_reason,
        "evidence_check": result.evidence_check,
        "reuse_rows": ", ".join(map(str, result.reuse_group)),
    }
    return {**row, **extras}


def certificate_row(cert: Certificate, link: Link | None = None) -> dict[str, str]:
    """One input document; a multi-model certificate joins each field across its listings."""
    row = {
        "certificate_file": cert.file,
        "sha256": cert.sha256,
        "pages": str(cert.pages),
        "text_source": cert.text_source.value,
        "certificate_id": cert.certificate_id,
        "certificate_date": cert.certificate_date,
        "device_type": cert.device_type,
    }
    for column, f in _LISTING_FIELDS:
        row[column] = LISTING_SEPARATOR.join(listing.text_for(f) for listing in cert.listings)
    row["status"] = "OK" if cert.ok else "ERROR"
    row["error"] = str(cert.error) if cert.error else ""
    row["ocr_reason"] = cert.ocr_reason
    row["layout"] = cert.layout
    row["listings"] = str(len(cert.listings))
    if link is not None:
        row["cpl_rows"] = ", ".join(map(str, link.rows))
        row["cpl_link"] = link.kind if cert.ok or link.rows else ""
    row["notes"] = "; ".join(cert.notes)  # duplicates, repairs
    return row


def _document_problem(cert: Certificate) -> dict[str, str]:
    """An unreadable document, named by file, with its typed reason."""
    return {"severity": "ERROR", "kind": "document", "where": cert.file, "detail": str(cert.error)}


def _row_problem(result: RowResult) -> dict[str, str]:
    """A row that did not PASS, with the reasons reconcile gave (or the fields that failed)."""
    cpl = result.cpl
    where = f"row {cpl.row}" + (f" ({cpl.submission_id})" if cpl.submission_id else "")
    detail = LIST_SEPARATOR.join(result.reasons) or _fallback_detail(result)
    return {
        "severity": result.overall.value,
        "kind": "submission",
        "where": where,
        "detail": detail,
    }


def _fallback_detail(result: RowResult) -> str:
    """So a problem row is never blank when reconcile gave no reasons."""
    if result.overall == Overall.NO_CERTIFICATE:
        return f"no input document carries certificate ID {result.cpl.certificate_id!r}"
    return LIST_SEPARATOR.join(
        f"{j.field.value} {j.status.value}"
        for j in result.judgements
        if j.status not in _GOOD_VERDICTS
    )


def _ota_problem(image: OtaImage) -> dict[str, str]:
    """A bad or truncated OTA image, named by file, with its typed reason."""
    return {"severity": "ERROR", "kind": "ota", "where": image.file, "detail": image.error}


def _evidence_problems(
    evidence: Evidence | None, cpl_rows: Iterable[CplRow]
) -> list[dict[str, str]]:
    """Manifest rows naming no submission, and files that could not be read (names only)."""
    if evidence is None:
        return []
    problems = [
        {"severity": "WARNING", "kind": "evidence", "where": f"{evidence.manifest} row {e.line}",
         "detail": f"submission_id {e.submission_id!r} is not in the CPL file"}
        for e in unused_entries(evidence, cpl_rows)
    ]
    reported: set[str] = set()
    for entry in evidence.entries:
        text = evidence.texts.get(entry.path)
        if text is not None and text.error and entry.evidence_file not in reported:
            reported.add(entry.evidence_file)
            problems.append({"severity": "WARNING", "kind": "evidence",
                             "where": entry.evidence_file or f"{evidence.manifest} row {entry.line}",
                             "detail": text.error})
    return problems


def ota_entry(image: OtaImage) -> dict[str, Any]:
    """An OTA image for run.json: file, hash, status and the header facts it states."""
    return {
        "file": image.file, "sha256": image.sha256, "size": image.size,
        "status": "OK" if image.ok else "ERROR", "error": image.error,
        "manufacturer_code": image.manufacturer_code, "image_type": image.image_type,
        "file_version": image.file_version, "min_hardware": image.min_hardware,
        "max_hardware": image.max_hardware, "header_string": image.header_string,
    }


def evidence_entry(evidence: Evidence) -> dict[str, Any]:
    """The manifest for run.json: per file its name, hash and whether it could be read; no text."""
    files = []
    seen: set[str] = set()
    for entry in evidence.entries:
        if entry.evidence_file in seen:
            continue
        seen.add(entry.evidence_file)
        text = evidence.texts.get(entry.path)
        files.append({
            "file": entry.evidence_file,
            "sha256": text.sha256 if text else "",
            "status": "OK" if text and not text.error else "ERROR",
            "error": text.error if text else "",
        })
    return {"manifest": evidence.manifest, "entries": len(evidence.entries), "files": files}


def _extra_problem(problem: Mapping[str, str]) -> dict[str, str]:
    """Problems from other stages; keys outside the four columns go into detail, not lost."""
    row = {c: str(problem.get(c, "")) for c in PROBLEM_COLUMNS}
    leftover = [f"{k}={v}" for k, v in problem.items() if k not in PROBLEM_COLUMNS]
    if leftover:
        row["detail"] = LIST_SEPARATOR.join(filter(None, [row["detail"], *leftover]))
    return row


# --- counts and summary -----------------------------------------------------------------------


class Tally:
    """The counts run.json and the Summary sheet share, kept as rows arrive; zeros included."""

    def __init__(self) -> None:
        self.rows = 0
        self.overall: Counter[Overall] = Counter()
        self.by_field: dict[str, Counter[Verdict]] = {f.value: Counter() for f in FIELDS}
        self.certificates = 0
        self.readable = 0
        self.text_source: Counter[TextSource] = Counter()
        self.errors: Counter[str] = Counter()
        self.links: Counter[str] = Counter()
        self.problems = 0
        self.reused_rows = 0
        self.evidence: Counter[str] = Counter()
        self.device_type: Counter[str] = Counter()
        self.ota_status: Counter[str] = Counter()

    def result(self, result: RowResult) -> None:
        self.rows += 1
        self.overall[result.overall] += 1
        for f in FIELDS:
            j = judgement_for(result, f)
            if j is not None:
                self.by_field[f.value][j.status] += 1
        self.reused_rows += bool(result.reuse_group)
        if result.evidence_check:
            self.evidence["OK" if result.evidence_check == "OK" else "FAILED"] += 1
        if result.device_type_status:
            self.device_type[result.device_type_status] += 1
        self.ota_status[result.ota_status] += 1

    def certificate(self, certificate: Certificate, link: Link) -> None:
        self.certificates += 1
        self.text_source[certificate.text_source] += 1
        if certificate.ok:
            self.readable += 1
            self.links[link.kind] += 1
        if certificate.error is not None:
            self.errors[certificate.error.reason.value] += 1

    def counts(self, ota_images: Sequence[OtaImage] | None = None) -> dict[str, Any]:
        fields_total: Counter[Verdict] = sum(self.by_field.values(), Counter())
        counts: dict[str, Any] = {
            "rows": self.rows,
            "overall": {o.value: self.overall[o] for o in Overall},
            "fields": {v.value: fields_total[v] for v in Verdict},
            "fields_by_name": {
                f: {v.value: c[v] for v in Verdict} for f, c in self.by_field.items()
            },
            "certificates": self.certificates,
            "certificate_status": {"OK": self.readable, "ERROR": self.certificates - self.readable},
            "text_source": {t.value: self.text_source[t] for t in TextSource},
            "certificate_errors": dict(sorted(self.errors.items())),
            "problems": self.problems,
            "certificate_links": {
                k: self.links[k] for k in (LINK_ORPHAN, LINK_SINGLE, LINK_SHARED, LINK_REUSED)
            },
            "rows_in_reused_groups": self.reused_rows,
            "evidence": {"OK": self.evidence["OK"], "FAILED": self.evidence["FAILED"]},
            "device_type": dict(sorted(self.device_type.items())),
        }
        if ota_images is not None:
            errors = Counter(i.error_reason for i in ota_images if not i.ok)
            counts["ota_images"] = {
                "total": len(ota_images), "OK": sum(i.ok for i in ota_images),
                "ERROR": sum(not i.ok for i in ota_images), **dict(sorted(errors.items())),
            }
            counts["ota_status"] = dict(sorted(self.ota_status.items()))
        return counts


def _summary(counts: Mapping[str, Any], run_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Key/value lines for the Summary sheet: counts first, then the run's inputs and versions."""
    lines = [("rows", str(counts["rows"]))]
    lines += [(f"overall {k}", str(v)) for k, v in counts["overall"].items()]
    lines += [(f"field {k}", str(v)) for k, v in counts["fields"].items()]
    for name, by_status in counts["fields_by_name"].items():
        lines += [(f"{name} {k}", str(v)) for k, v in by_status.items() if v]
    lines.append(("certificates", str(counts["certificates"])))
    lines += [(f"certificates {k}", str(v)) for k, v in counts["certificate_status"].items()]
    lines += [(f"text_source {k}", str(v)) for k, v in counts["text_source"].items()]
    lines += [(f"certificate error {k}", str(v)) for k, v in counts["certificate_errors"].items()]
    lines += [(f"certificates {k}", str(v)) for k, v in counts.get("certificate_links", {}).items()]
    if "rows_in_reused_groups" in counts:
        lines.append(("rows in reused-certificate groups", str(counts["rows_in_reused_groups"])))
        lines += [(f"evidence {k}", str(v)) for k, v in counts["evidence"].items()]
        lines += [(f"device_type {k}", str(v)) for k, v in counts["device_type"].items()]
    lines += [(f"ota images {k}", str(v)) for k, v in counts.get("ota_images", {}).items()]
    lines += [(f"ota_status {k}", str(v)) for k, v in counts.get("ota_status", {}).items()]
    lines.append(("problems", str(counts["problems"])))
    lines += list(_flatten("", run_info))
    return lines


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """run_info's shape belongs to the CLI; show any nesting as dotted keys rather than guess."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _flatten(f"{prefix}[{i}]", v)
    else:
        yield prefix, "" if value is None else str(value)


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
        handle = open(path, "w", encoding="utf-8", errors="backslashreplace", newline="")
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


def _reserve_temp(out_dir: Path, name: str) -> Path:
    """A unique, freshly created temp file beside the target (umask-respecting permissions)."""
    while True:
        path = out_dir / f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path


_TEMP_NAME = regex.compile(
    r"\.(?P<name>" + "|".join(regex.escape(n) for n in OUTPUT_FILES.values())
    + r")\.(?P<pid>[0-9]+)\.[0-9a-f]{12}\.tmp"
)


def _remove_stale_temps(out_dir: Path) -> None:
    """Temp outputs left by a run that was killed (SIGKILL runs no clean-up): removed once the
    process that made them is gone. A live process's files, and anything else, are left alone."""
    try:
        entries = list(os.scandir(out_dir))
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and not process_alive(int(match["pid"])):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    """Make the renames durable; not every platform lets a directory be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _CsvStream:
    """UTF-8, header row, minimal quoting, `\\n` line ends; cells neutralised.

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


def _write_json(path: Path, run: Mapping[str, Any]) -> None:
    """run.json keeps raw values: it is data, not a spreadsheet."""
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
        json.dump(run, f, indent=2, ensure_ascii=False, default=str)
        f.write("\n")


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
