"""audit.xlsx's columns: the order people read them in, plain-English headers, and how each is
written. The SPEC names stay in the CSVs; every SPEC column has exactly one header here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.models import FIELDS
from pipeline.report.rows import (
    CERTIFICATE_ALL_COLUMNS,
    PROBLEM_COLUMNS,
    RECONCILIATION_ALL_COLUMNS,
)

TEXT, NUMBER, WRAP, LINK, STATUS = "text", "number", "wrap", "link", "status"


@dataclass(frozen=True)
class Column:
    key: str  # the SPEC name, as in the CSV
    header: str  # what people read
    kind: str = TEXT  # TEXT, NUMBER (written as a number), WRAP (long prose), LINK, STATUS


_FIELD_SHORT = {"manufacturer_identifier": "Manufacturer", "model_identifier": "Model",
                "hardware_version": "Hardware", "firmware_version": "Firmware"}
# Per field: the comparison first (cpl | certificate | status | reason), then how.
_FIELD_PARTS = (("cpl", "CPL value", TEXT), ("certificate", "certificate shows", TEXT),
                ("status", "verdict", STATUS), ("reason", "why", WRAP),
                ("method", "coding used", TEXT), ("alternatives", "other readings", WRAP),
                ("page", "page", NUMBER))

PAGE_COLUMNS = tuple(f"{f.value}_page" for f in FIELDS)  # F_page: where each field stands

# The row's identity: frozen at the left while the fields scroll past.
RECONCILIATION_IDENTITY = (
    Column("submission_row", "Row", NUMBER), Column("submission_id", "Submission ID"),
    Column("certificate_id", "Certificate ID"), Column("overall_status", "Status", STATUS),
)
RECONCILIATION_SHEET: tuple[Column, ...] = (
    *RECONCILIATION_IDENTITY,
    Column("reasons", "Reasons", WRAP),
    Column("certificate_file", "Certificate file", LINK),
    Column("listing", "Listing used"),
    *(Column(f"{f.value}_{part}", f"{_FIELD_SHORT[f.value]}: {words}", kind)
      for f in FIELDS for part, words, kind in _FIELD_PARTS),
    Column("policy", "Date policy"),
    Column("device_type_status", "Device type check", STATUS),
    Column("device_type_cpl", "Device type (CPL)"),
    Column("device_type_reason", "Device type: why", WRAP),
    Column("ota_status", "OTA image check"),
    Column("ota_file", "OTA image file"),
    Column("ota_reason", "OTA: why", WRAP),
    Column("evidence_check", "Evidence check"),
    Column("evidence_file", "Evidence file"),
    Column("evidence_sha256", "Evidence file sha256"),
    Column("evidence_lines", "Evidence lines matched", WRAP),
    Column("reuse_rows", "Rows reusing this certificate listing", WRAP),
)

CERTIFICATE_SHEET: tuple[Column, ...] = (
    Column("certificate_file", "Certificate file", LINK),
    Column("status", "Read", STATUS),
    Column("certificate_id", "Certificate ID"),
    Column("error", "Why it could not be read", WRAP),
    Column("sha256", "sha256"),
    Column("pages", "Pages", NUMBER),
    Column("certificate_pages", "Pages of this certificate"),
    Column("text_source", "Text from"),
    Column("ocr_reason", "Why OCR", WRAP),
    Column("certificate_date", "Certificate date"),
    Column("device_type", "Type of device"),
    Column("manufacturer", "Manufacturer"),
    Column("model", "Model"),
    Column("hardware_version", "Hardware version"),
    Column("firmware_version", "Firmware version"),
    Column("listings", "Device models listed", NUMBER),
    Column("layout", "Layout"),
    Column("cpl_rows", "CPL rows citing it", WRAP),
    Column("cpl_link", "Used by"),
    Column("notes", "Notes", WRAP),
)

PROBLEM_SHEET: tuple[Column, ...] = (
    Column("severity", "severity", STATUS), Column("kind", "kind"), Column("where", "where"),
    Column("detail", "detail", WRAP),
)


def _check(sheet: tuple[Column, ...], spec: tuple[str, ...]) -> None:
    keys = [c.key for c in sheet]
    if sorted(keys) != sorted(spec):  # a column the CSV has and the workbook lost, or the reverse
        raise AssertionError(f"workbook columns differ from the CSV's: {set(keys) ^ set(spec)}")


_check(RECONCILIATION_SHEET, RECONCILIATION_ALL_COLUMNS)
_check(CERTIFICATE_SHEET, CERTIFICATE_ALL_COLUMNS)
_check(PROBLEM_SHEET, PROBLEM_COLUMNS)
