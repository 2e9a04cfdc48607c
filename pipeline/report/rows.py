"""Report rows: the output contract (file and column names), how rows use documents, and the
row dicts made from results and certificates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.evidence import Evidence, unused_entries
from pipeline.models import (
    FIELDS,
    LISTING_ATTRIBUTE,
    Certificate,
    CplRow,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    Verdict,
)
from pipeline.ota import OtaImage
from pipeline.reconcile import certificate_key
from pipeline.run.spool import indexes_noted, note_index

# --- the output contract (SPEC "Outputs"): names and order are fixed -------------------------

RECONCILIATION_CSV = "reconciliation.csv"
CERTIFICATES_CSV = "certificates.csv"
AUDIT_XLSX = "audit.xlsx"
RUN_JSON = "run.json"
REPORT_HTML = "report.html"

OUTPUT_FILES: dict[str, str] = {
    "reconciliation": RECONCILIATION_CSV,
    "certificates": CERTIFICATES_CSV,
    "audit": AUDIT_XLSX,
    "report": REPORT_HTML,
    "run": RUN_JSON,
}

_FIELD_PARTS = ("cpl", "certificate", "status", "method")
_FIELD_EXTRAS = ("reason", "alternatives", "page")

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
    "certificate_pages", "ocr_reason", "layout", "listings", "cpl_rows", "cpl_link", "notes",
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
        page = result.page_for(f)
        extras[f"{f.value}_page"] = str(page) if page else ""  # where the certificate shows it
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
    row["certificate_pages"] = cert.page_range
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
