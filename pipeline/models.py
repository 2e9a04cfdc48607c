"""The few dataclasses that flow between stages.

Data flows one way: ingest -> extract -> parse -> codings -> reconcile -> report.
Every stage is a set of pure functions over these types; no stage imports a later one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Re-exported: they lived here before errors.py, and stages still import them from models.
from pipeline.errors import DocumentError as DocumentError
from pipeline.errors import ErrorReason as ErrorReason


class Field(StrEnum):
    """The four Device_Model fields a ZigBee certificate must show (guidance section 3)."""

    MANUFACTURER = "manufacturer_identifier"
    MODEL = "model_identifier"
    HARDWARE = "hardware_version"
    FIRMWARE = "firmware_version"


FIELDS: tuple[Field, ...] = (Field.MANUFACTURER, Field.MODEL, Field.HARDWARE, Field.FIRMWARE)


class Verdict(StrEnum):
    """Per-field verdict (SPEC "Verdicts")."""

    MATCH = "MATCH"
    MAPPED = "MAPPED"
    MISMATCH = "MISMATCH"
    MISSING = "MISSING"
    PARTIAL = "PARTIAL"
    UNVERIFIABLE = "UNVERIFIABLE"
    INVALID_CPL = "INVALID_CPL"
    NEEDS_EVIDENCE = "NEEDS_EVIDENCE"
    EVIDENCE = "EVIDENCE"


class Overall(StrEnum):
    """Per submission row verdict (SPEC "Verdicts")."""

    PASS = "PASS"
    REVIEW = "REVIEW"
    FAIL = "FAIL"
    NO_CERTIFICATE = "NO_CERTIFICATE"
    ERROR = "ERROR"


class TextSource(StrEnum):
    TEXT = "text"
    OCR = "ocr"
    MIXED = "mixed"
    NONE = "none"


@dataclass(frozen=True)
class ExtractLimits:
    """Per-document limits of the extract stage (pipeline.extract), set by the runner."""

    max_pages: int = 50
    max_page_side_pt: float = 5000.0  # 14,400 pt pages exist in the wild; their renders do not fit
    ocr_timeout_s: float = 120.0
    # A page that would render to more pixels than this for OCR is TOO_LARGE, before rendering
    # (OCRmyPDF's --skip-big). At 200 dpi A4 is 3.9 Mpx, A3 7.7. Measured peak RSS of one OCR
    # read of a blank page: 150 MiB at 3.9 Mpx, 309 MiB at 11.6, 908 MiB at 39.6 (~20 MiB a
    # megapixel: the render, its grey copy and the rule-removal arrays); a worker's peak in
    # bench_world was 298 MiB on a 9.6 Mpx page. 9 keeps it under 300 MiB with a margin.
    max_render_megapixels: float = 9.0


@dataclass(frozen=True, slots=True)
class Document:
    """One input document as found by ingest.

    `name` is what reports show: the path as given (folders kept), or `archive.zip/member.pdf`.
    `location` is where the bytes are: a filesystem path, or for a zip member the archive path,
    with `member` naming the entry inside it.
    """

    name: str
    location: str
    sha256: str
    size: int
    member: str | None = None
    kind: str = "pdf"  # "pdf", "image", or "unknown" (decided by magic bytes, not the name)
    error: DocumentError | None = None  # set when ingest already knows it cannot be read


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text on one line with its box: one drawn string of a text layer, or a group of
    OCR words without a wide gap. The layout-independent reader (pipeline.reader) works on these.

    Coordinates are PDF points with the origin at the page's top-left (pdfplumber's convention),
    so provenance boxes mean the same for born-digital pages and scans."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float | None = None  # mean OCR word confidence 0-100; None for a text layer
    cut: bool = False  # a part of a run, its box cut in proportion to the characters (not exact)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class PageText:
    """Text of one page, with where it came from and why."""

    number: int  # 1-based
    text: str
    source: TextSource  # TEXT, OCR or NONE
    ocr_reason: str = ""  # why OCR was (or would have been) needed; "" when the text layer was used
    confidence: float | None = None  # mean OCR word confidence 0-100, None for a text layer
    # Ruled tables found by layout analysis (pdfplumber), only when the text layer alone did not
    # yield the fields: each table is rows of cells, each cell's text as extracted.
    tables: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # OCR only: every kept word with its tesseract confidence (0-100), in reading order, so parse
    # can give each field the mean confidence of the words its value came from.
    word_confidence: tuple[tuple[str, float], ...] = ()
    # The page's text as segments with boxes, in reading order (top to bottom, left to right).
    segments: tuple[Segment, ...] = ()
    turned: int = 0  # degrees the page image was turned before OCR (0 when upright)
    # OCR only: the slope (dy/dx) of the text lines on the page image, from tesseract's own
    # lines; the layout reader reads the page as if it were straight (a 1-degree skew puts the
    # cells of one table row 10 pt apart across an A4 page, and they fell on two lines)
    skew: float = 0.0
    # Why the page could not be read (it failed to load or render) and was skipped: a note for
    # the certificate, with the library's error; "" for a page that was read.
    problem: str = ""


@dataclass(frozen=True)
class ExtractedDocument:
    document: Document
    pages: tuple[PageText, ...] = ()
    text_source: TextSource = TextSource.NONE
    ocr_reason: str = ""
    error: DocumentError | None = None

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)


# A CPL field's name on a certificate listing (and in certificates.csv, field confidences).
LISTING_ATTRIBUTE: dict[Field, str] = {
    Field.MANUFACTURER: "manufacturer",
    Field.MODEL: "model",
    Field.HARDWARE: "hardware_version",
    Field.FIRMWARE: "firmware_version",
}


@dataclass(frozen=True)
class Provenance:
    """Where one field value was found: enough for an auditor to see it without opening the PDF."""

    page: int  # 1-based
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points, top-left origin
    source: str  # "text" (the PDF's text layer) or "ocr"
    confidence: float | None = None  # tesseract word confidence 0-100; None for the text layer
    rule: str = ""  # the label, cue or table header and the rules entry that found the value
    # The box is the text layer's own runs, whole, holding just the value: no character search
    # can make it better (document._exact_provenance). Not stored: it only spares that search.
    exact: bool = field(default=False, compare=False, repr=False)


# Provenance per field name (parse.ALL_FIELDS), as pairs so frozen records stay hashable.
Evidence = tuple[tuple[str, Provenance], ...]


def evidence_for(evidence: Evidence, name: str) -> Provenance | None:
    return next((p for n, p in evidence if n == name), None)


# The fields a certificate states: once per certificate, and per device listing.
CERT_FIELDS = ("certificate_id", "certificate_date", "device_type")
DEVICE_FIELDS = ("manufacturer", "model", "hardware_version", "firmware_version")
ALL_FIELDS = CERT_FIELDS + DEVICE_FIELDS


@dataclass(frozen=True)
class DeviceListing:
    """One device model as a certificate lists it: the field texts exactly as found."""

    manufacturer: str = ""
    model: str = ""
    hardware_version: str = ""
    firmware_version: str = ""
    label: str = ""  # which listing this is on a multi-model certificate, e.g. "model 2 of 3"
    evidence: Evidence = ()  # where each listing field was found

    def text_for(self, f: Field) -> str:
        return str(getattr(self, LISTING_ATTRIBUTE[f]))


@dataclass(frozen=True)
class Certificate:
    """The parsed certificate: what parse hands to reconcile and report."""

    file: str
    sha256: str
    pages: int = 0
    text_source: TextSource = TextSource.NONE
    ocr_reason: str = ""
    certificate_id: str = ""
    certificate_date: str = ""
    device_type: str = ""
    listings: tuple[DeviceListing, ...] = ()
    layout: str = ""  # which rules/ layout matched
    error: DocumentError | None = None
    # OCR only: (field, mean word confidence 0-100) for each field value read by OCR; field names
    # as in parse.ALL_FIELDS, listing fields prefixed "listing N " when there are several.
    field_confidence: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()  # how the document was read, when worth saying (e.g. repaired)
    evidence: Evidence = ()  # where each certificate-level field was found (certificate_id, ...)
    # The pages this certificate spans inside its file (1-based, inclusive); a bundle PDF holds
    # several certificates, each with its own range. 0 when unknown (an ERROR row).
    first_page: int = 0
    last_page: int = 0
    # A bundle: the certificates this document holds, each with its own ID, listings and page
    # range (this record is then the first of them, spanning all pages). Empty for one.
    parts: tuple[Certificate, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def page_range(self) -> str:
        """`1-2` or `3`: the pages this certificate spans in its file; "" when unknown."""
        if not self.first_page:
            return ""
        if self.last_page > self.first_page:
            return f"{self.first_page}-{self.last_page}"
        return str(self.first_page)


def certificates_in(certificate: Certificate) -> tuple[Certificate, ...]:
    """Each certificate a document holds: the parts of a bundle, else the one."""
    return certificate.parts or (certificate,)


@dataclass(frozen=True)
class Candidate:
    """One hex value a certificate text may stand for, and how.

    `value` is canonical CPL form: upper-case hex octets joined by ':' ("0C:03:0C:22"), or for
    hardware_version "VV_RR". `explained` marks, per octet, whether the text accounts for it;
    octets not explained by the text are "00" in `value` (see codings.judge for PARTIAL).
    """

    value: str
    coding: str  # name of the coding in rules/codings.toml, or "registry:<file>:<entry>"
    placement: str = ""  # e.g. "app-stack", "right-aligned"
    explained: tuple[bool, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class FieldJudgement:
    """Verdict for one field of one CPL row against one certificate text."""

    field: Field
    cpl: str
    certificate_text: str
    status: Verdict
    method: str = ""  # coding / registry used; "" when none applies
    reason: str = ""  # why, in words an auditor can check
    alternatives: tuple[str, ...] = ()  # other candidates "VALUE (coding)" that were considered


@dataclass(frozen=True, slots=True)
class CplRow:
    """One CPL submission row, every cell as text exactly as read."""

    row: int  # 1-based data row
    submission_id: str
    certificate_id: str
    manufacturer_identifier: str
    model_identifier: str
    hardware_version_version: str
    hardware_version_revision: str
    firmware_version: str
    device_type: str = ""
    submission_date: str = ""
    manufacturer_name: str = ""
    model_name: str = ""
    notes: tuple[str, ...] = ()  # how cells were read, e.g. a numeric XLSX cell turned into text

    @property
    def hardware_version(self) -> str:
        return f"{self.hardware_version_version}_{self.hardware_version_revision}"

    def value_for(self, f: Field) -> str:
        return {
            Field.MANUFACTURER: self.manufacturer_identifier,
            Field.MODEL: self.model_identifier,
            Field.HARDWARE: self.hardware_version,
            Field.FIRMWARE: self.firmware_version,
        }[f]


@dataclass(frozen=True)
class RowResult:
    """Reconciliation of one CPL row."""

    cpl: CplRow
    overall: Overall
    reasons: tuple[str, ...] = ()
    certificate_file: str = ""
    judgements: tuple[FieldJudgement, ...] = field(default_factory=tuple)
    listing_label: str = ""  # which listing backed the row on a multi-model certificate
    # Informative columns (never part of `overall`): the date policy (rules/policy.toml), the
    # Physical Device Type check (rules/device_types.toml) and the OTA image check (--ota).
    policy: str = ""
    device_type_status: str = ""  # MATCH, MISMATCH, MISSING, NOT_GIVEN, UNKNOWN
    device_type_reason: str = ""
    ota_status: str = ""  # OTA_MATCH, OTA_MISMATCH, NO_OTA_IMAGE, OTA_ERROR; "" without --ota
    ota_file: str = ""
    ota_reason: str = ""
    # Guidance §5: rows (1-based) that reuse this row's certificate listing with other
    # Device_Model values, this row included; () when the certificate is not reused.
    reuse_group: tuple[int, ...] = ()
    # Supplementary evidence (--evidence): only the file name, its hash and the matched lines.
    evidence_file: str = ""
    evidence_sha256: str = ""
    evidence_lines: tuple[str, ...] = ()
    evidence_check: str = ""  # "OK", or what was missing
    # The certificate was found across OCR character confusions (Z1G for ZIG), not by its ID.
    linked_by_confusion: bool = False
    # Provenance: the 1-based page of the compared listing where each field's value stands
    # (F_page in the outputs); a field the certificate does not show has no entry.
    field_pages: tuple[tuple[Field, int], ...] = ()

    def page_for(self, f: Field) -> int | None:
        return next((page for name, page in self.field_pages if name == f), None)
