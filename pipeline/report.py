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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import xlsxwriter

from pipeline.evidence import Evidence, unused_entries
from pipeline.models import (
    FIELDS,
    LISTING_ATTRIBUTE,
    Certificate,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    TextSource,
    Verdict,
)
from pipeline.ota import OtaImage
from pipeline.reconcile import certificate_key

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
    "ocr_reason", "layout", "listings", "cpl_rows", "cpl_link",
)

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


def build_report(
    results: Sequence[RowResult],
    certificates: Sequence[Certificate],
    run_info: Mapping[str, Any],
    extra_problems: Sequence[Mapping[str, str]] = (),
    ota_images: Sequence[OtaImage] | None = None,
    evidence: Evidence | None = None,
) -> Report:
    """Freeze the run's results into one Report; every output is rendered from it alone.

    `ota_images` (from --ota) and `evidence` (--evidence) add their problems and a section each to
    run.json. Evidence shows only file names and hashes: its text stays out of every output.
    """
    problems = [
        *(_document_problem(c) for c in certificates if not c.ok),
        *(_row_problem(r) for r in results if r.overall != Overall.PASS),
        *(_ota_problem(i) for i in ota_images or () if not i.ok),
        *_evidence_problems(evidence, results),
        *(_extra_problem(p) for p in extra_problems),
    ]
    links = certificate_links(results, certificates)
    counts = _counts(results, certificates, len(problems))
    counts |= _link_counts(links, certificates)
    counts |= _section5_counts(results, ota_images)
    run = {**dict(run_info), "counts": counts, "outputs": dict(OUTPUT_FILES)}
    if ota_images is not None:
        run["ota"] = [ota_entry(i) for i in ota_images]
    if evidence is not None:
        run["evidence"] = evidence_entry(evidence)
    return Report(
        reconciliation=[reconciliation_row(r) for r in results],
        certificates=[
            certificate_row(c, links[i]) for i, c in enumerate(certificates)
        ],
        problems=problems,
        summary=_summary(counts, run_info),
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


def certificate_links(
    results: Sequence[RowResult], certificates: Sequence[Certificate]
) -> list[Link]:
    """Per document: rows whose certificate ID it carries, or that were linked to it by name."""
    by_key: dict[str, list[RowResult]] = {}
    by_file: dict[str, list[RowResult]] = {}
    for r in results:
        if key := certificate_key(r.cpl.certificate_id):
            by_key.setdefault(key, []).append(r)
        if r.certificate_file:
            by_file.setdefault(r.certificate_file, []).append(r)
    links = []
    for cert in certificates:
        key = certificate_key(cert.certificate_id) if cert.ok else ""
        candidates = [*(by_key.get(key, []) if key else []), *by_file.get(cert.file, [])]
        linked = {id(r): r for r in candidates}
        rows = tuple(sorted(r.cpl.row for r in linked.values()))
        reused = any(r.reuse_group and r.certificate_file == cert.file for r in linked.values())
        links.append(Link(rows, reused))
    return links


def _link_counts(links: Sequence[Link], certificates: Sequence[Certificate]) -> dict[str, Any]:
    kinds = Counter(link.kind for link, c in zip(links, certificates, strict=True) if c.ok)
    return {"certificate_links": {k: kinds[k] for k in
                                  (LINK_ORPHAN, LINK_SINGLE, LINK_SHARED, LINK_REUSED)}}


def _section5_counts(
    results: Sequence[RowResult], ota_images: Sequence[OtaImage] | None
) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "rows_in_reused_groups": sum(bool(r.reuse_group) for r in results),
        "evidence": {
            "OK": sum(r.evidence_check == "OK" for r in results),
            "FAILED": sum(bool(r.evidence_check) and r.evidence_check != "OK" for r in results),
        },
        "device_type": dict(sorted(Counter(
            r.device_type_status for r in results if r.device_type_status).items())),
    }
    if ota_images is not None:
        errors = Counter(i.error_reason for i in ota_images if not i.ok)
        counts["ota_images"] = {
            "total": len(ota_images), "OK": sum(i.ok for i in ota_images),
            "ERROR": sum(not i.ok for i in ota_images), **dict(sorted(errors.items())),
        }
        counts["ota_status"] = dict(sorted(Counter(r.ota_status for r in results).items()))
    return counts


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
    if cert.notes:  # duplicates, repairs: the column appears when any document has one
        row["notes"] = "; ".join(cert.notes)
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
    evidence: Evidence | None, results: Sequence[RowResult]
) -> list[dict[str, str]]:
    """Manifest rows naming no submission, and files that could not be read (names only)."""
    if evidence is None:
        return []
    problems = [
        {"severity": "WARNING", "kind": "evidence", "where": f"{evidence.manifest} row {e.line}",
         "detail": f"submission_id {e.submission_id!r} is not in the CPL file"}
        for e in unused_entries(evidence, [r.cpl for r in results])
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


def _counts(
    results: Sequence[RowResult], certificates: Sequence[Certificate], problems: int
) -> dict[str, Any]:
    """The counts run.json and the Summary sheet share; every status listed, zeros included."""
    overall = Counter(r.overall for r in results)
    by_field: dict[str, Counter[Verdict]] = {f.value: Counter() for f in FIELDS}
    for r in results:
        for f in FIELDS:
            j = judgement_for(r, f)
            if j is not None:
                by_field[f.value][j.status] += 1
    fields_total: Counter[Verdict] = sum(by_field.values(), Counter())
    errors = Counter(c.error.reason.value for c in certificates if c.error is not None)
    return {
        "rows": len(results),
        "overall": {o.value: overall[o] for o in Overall},
        "fields": {v.value: fields_total[v] for v in Verdict},
        "fields_by_name": {f: {v.value: c[v] for v in Verdict} for f, c in by_field.items()},
        "certificates": len(certificates),
        "certificate_status": {
            "OK": sum(c.ok for c in certificates),
            "ERROR": sum(not c.ok for c in certificates),
        },
        "text_source": {
            t.value: sum(c.text_source == t for c in certificates) for t in TextSource
        },
        "certificate_errors": dict(sorted(errors.items())),
        "problems": problems,
    }


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


def _spreadsheet_rows(
    rows: Iterable[Mapping[str, str]], columns: Sequence[str]
) -> Iterator[list[str]]:
    """Rows as neutralised cell lists in column order: the one path into every spreadsheet."""
    for row in rows:
        yield [neutralise(row.get(c, "")) for c in columns]


# --- writers ----------------------------------------------------------------------------------


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write all four outputs atomically; on any failure the previous outputs stay as they were."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {
        "reconciliation": lambda f: _write_csv(f, report.reconciliation, _recon_columns(report)),
        "certificates": lambda f: _write_csv(f, report.certificates, _cert_columns(report)),
        "audit": lambda f: _write_xlsx(f, report),
        "run": lambda f: _write_json(f, report.run),
    }
    temps: dict[str, Path] = {}
    try:
        for key, write in writers.items():
            temps[key] = _reserve_temp(out_dir, OUTPUT_FILES[key])
            write(temps[key])
            _fsync_file(temps[key])
        final = {key: out_dir / OUTPUT_FILES[key] for key in writers}
        for key, tmp in temps.items():
            os.replace(tmp, final[key])
        _fsync_dir(out_dir)
        return final
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise


def _recon_columns(report: Report) -> list[str]:
    """The fixed columns; any other key a row carries goes after them rather than vanish."""
    return _columns(report.reconciliation, RECONCILIATION_COLUMNS + RECONCILIATION_EXTRA_COLUMNS)


def _cert_columns(report: Report) -> list[str]:
    return _columns(report.certificates, CERTIFICATE_COLUMNS + CERTIFICATE_EXTRA_COLUMNS)


def _columns(rows: Sequence[Mapping[str, str]], fixed: Sequence[str]) -> list[str]:
    columns = list(fixed)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    return columns


def _reserve_temp(out_dir: Path, name: str) -> Path:
    """A unique, freshly created temp file beside the target (umask-respecting permissions)."""
    while True:
        path = out_dir / f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path


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


def _write_csv(path: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> None:
    """UTF-8, header row, minimal quoting, `\\n` line ends; cells neutralised."""
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        _csv_rows(f, rows, columns)


def _csv_rows(f: IO[str], rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> None:
    """Minimal quoting, except a row holding a bare CR is fully quoted.

    With a `\n` line terminator the csv module (3.11) does not quote a field containing `\r`,
    and readers then split the row there; quoting that row keeps the document text intact.
    """
    minimal = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    quoted = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
    minimal.writerow([neutralise(c) for c in columns])
    for cells in _spreadsheet_rows(rows, columns):
        (quoted if any("\r" in c for c in cells) else minimal).writerow(cells)


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


def _write_xlsx(path: Path, report: Report) -> None:
    """Summary, Reconciliation, Certificates, Problems: every cell a string, never a formula."""
    workbook = xlsxwriter.Workbook(str(path), _WORKBOOK_OPTIONS)
    try:
        formats = {
            name: workbook.add_format({"bg_color": bg, "font_color": fg})
            for name, (bg, fg) in _COLOURS.items()
        }
        formats["header"] = workbook.add_format({"bold": True, "bottom": 1})
        summary = [{"key": k, "value": v} for k, v in report.summary]
        sheets: list[tuple[str, Sequence[Mapping[str, str]], Sequence[str]]] = [
            ("Summary", summary, SUMMARY_COLUMNS),
            ("Reconciliation", report.reconciliation, _recon_columns(report)),
            ("Certificates", report.certificates, _cert_columns(report)),
            ("Problems", report.problems, PROBLEM_COLUMNS),
        ]
        for name, rows, columns in sheets:
            _write_sheet(workbook, formats, name, rows, columns)
    finally:
        workbook.close()


def _write_sheet(
    workbook: xlsxwriter.Workbook,
    formats: Mapping[str, Any],
    name: str,
    rows: Sequence[Mapping[str, str]],
    columns: Sequence[str],
) -> None:
    """One data sheet: sized columns, bold frozen header, autofilter, coloured status cells."""
    ws = workbook.add_worksheet(name)
    for i, width in enumerate(_column_widths(rows, columns)):
        ws.set_column(i, i, width)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(columns) - 1)
    for c, column in enumerate(columns):
        ws.write_string(0, c, neutralise(column), formats["header"])
    coloured = [_is_status_column(c) for c in columns]
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            raw = row.get(column, "")
            colour = _status_colour(raw) if coloured[c] else None
            if colour:
                ws.write_string(r, c, neutralise(raw), formats[colour])
            elif raw:
                ws.write_string(r, c, neutralise(raw))


def _column_widths(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> list[float]:
    """Widths from the header and a sample of rows, clamped so one long cell cannot dominate."""
    widths = []
    sample = rows[:_WIDTH_SAMPLE]
    for column in columns:
        longest = max(
            [len(column), *(len(row.get(column, "").split("\n", 1)[0]) for row in sample)]
        )
        widths.append(float(min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH)))
    return widths
