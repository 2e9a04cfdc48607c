"""Supplementary evidence for reused certificates (guidance §5).

When a certificate is reused for several CPL entries, the manufacturer supplies release notes (or
an extract) that identify the ZigBee module the firmware uses; the module must relate to one
certificate. The evidence manifest (`--evidence CSV`) links a submission to its evidence file, the
module and the certificate. This module reads the manifest and the files, and checks that a file
names the certificate, the module and the row's firmware version.

Evidence is confidential: "will not be made available publicly and will be retained for auditing
purposes only" (§5). So nothing here hands the file's text onward; an `EvidenceCheck` carries only
the file name as written in the manifest, its sha256, and the few lines that matched, each cut to
MAX_LINE_CHARS.

Paths are resolved relative to the manifest's folder. Absolute paths and paths outside that folder
are allowed: the manifest is the user's own file, and evidence often lives in a separate, access-
controlled store. A file that cannot be found or read is a failed check with the reason, never an
error that stops the run.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex

from pipeline.codings import candidates_for, canonical_hex
from pipeline.cpl import normalise_header
from pipeline.idkeys import confusable_key
from pipeline.models import CplRow, DocumentError, Field

MANIFEST_COLUMNS: tuple[str, ...] = ("submission_id", "evidence_file", "zigbee_module", "certificate_id")
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
MAX_EVIDENCE_PAGES = 200
MAX_LINE_CHARS = 200
MAX_SCAN_LINE = 500  # characters of one line handed to the coding engine
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})


class EvidenceFileError(Exception):
    """The evidence manifest cannot be used (the CLI exits 2, as for a bad CPL file); not a
    CplFileError, so nothing that handles a bad CPL file mistakes one for the other."""


@dataclass(frozen=True)
class EvidenceEntry:
    """One manifest row: the evidence a submission relies on, as the manifest states it."""

    line: int  # 1-based data row of the manifest
    submission_id: str
    evidence_file: str  # as written in the manifest: what reports show
    path: Path  # where it was looked for
    zigbee_module: str
    certificate_id: str


@dataclass(frozen=True)
class EvidenceText:
    """An evidence file's lines (kept in memory only) and its hash, or why it could not be read."""

    sha256: str = ""
    lines: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class EvidenceCheck:
    """What the auditor may see of a check: file name, hash, matched lines, what was missing."""

    evidence_file: str
    sha256: str
    matched_lines: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    firmware_coding: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Evidence:
    """The manifest and every file it names, each read once."""

    manifest: str
    entries: tuple[EvidenceEntry, ...]
    texts: Mapping[Path, EvidenceText] = field(default_factory=dict)

    def for_row(self, row: CplRow) -> list[EvidenceEntry]:
        key = row.submission_id.strip()
        return [e for e in self.entries if key and e.submission_id.strip() == key]


def _trim(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "\u2026"


def line_naming(lines: Sequence[str], name: str) -> str | None:
    """The first line whose confusable key contains the name's; None when no line does."""
    key = confusable_key(name)
    if not key:
        return None
    return next((line for line in lines if key in confusable_key(line)), None)


_VERSION_SEGMENT = regex.compile(
    r"(?<![0-9A-Za-z])(?:0[xX][0-9A-Fa-f]{1,8}"
    r"|[0-9A-Fa-f]{2}(?:[:\- ][0-9A-Fa-f]{2}){3}"
    r"|[vV]?[0-9OoIl]{1,3}(?:\.[0-9OoIl]{1,3}){1,3}(?:\s*[(\[][^()\[\]]{0,40}[)\]])?)"
)
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


def _version_texts(line: str) -> list[str]:
    """Version-like segments of a line (OCR look-alikes as digits), then the whole line."""
    segments = []
    for match in _VERSION_SEGMENT.finditer(line[:MAX_SCAN_LINE]):
        text = match.group(0)
        head, _, tail = text.partition("(")
        fixed = head.translate(_DIGIT_LOOKALIKES) + (f"({tail}" if tail else "")
        if any(c.isdigit() for c in fixed):
            segments.append(fixed)
    return [*segments, line[:MAX_SCAN_LINE]]


def line_with_firmware(lines: Sequence[str], firmware: str) -> tuple[str, str] | None:
    """(line, coding) of the first line that shows the firmware version in a form that maps to it.

    The coding engine decides, exactly as for certificates: the CPL value must be one of the
    candidates of a version-like text on the line (hex shown, or a plain-English form).
    """
    target = canonical_hex(firmware, 4)
    if target is None:
        return None
    for line in lines:
        for text in _version_texts(line):
            for candidate in candidates_for(text, Field.FIRMWARE):
                if candidate.value == target:
                    return line, candidate.coding
    return None


# --- reading --------------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> tuple[EvidenceEntry, ...]:
    """The manifest rows; a missing column or an unreadable file raises EvidenceFileError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceFileError(f"cannot read evidence manifest {path}: {exc.strerror or exc}") from exc
    text = data.decode("utf-8-sig", errors="replace")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise EvidenceFileError(f"evidence manifest {path} has no header row")
    headers = [normalise_header(h) for h in rows[0]]
    missing = [c for c in MANIFEST_COLUMNS if c not in headers]
    if missing:
        found = ", ".join(repr(h) for h in rows[0] if h.strip()) or "none"
        raise EvidenceFileError(
            f"evidence manifest {path} is missing required columns: {', '.join(missing)}; "
            f"columns found: {found}"
        )
    index = {c: headers.index(c) for c in MANIFEST_COLUMNS}
    folder = path.parent
    entries = []
    for number, cells in enumerate(rows[1:], start=1):
        cell = {c: cells[i].strip() if i < len(cells) else "" for c, i in index.items()}
        entries.append(EvidenceEntry(
            line=number,
            submission_id=cell["submission_id"],
            evidence_file=cell["evidence_file"],
            path=folder / cell["evidence_file"],
            zigbee_module=cell["zigbee_module"],
            certificate_id=cell["certificate_id"],
        ))
    return tuple(entries)


def _pdf_lines(data: bytes) -> list[str]:
    from pipeline.extract import pdf_document  # pypdfium2, only when a PDF is given

    lines: list[str] = []
    with pdf_document(data) as pdf:
        if len(pdf) > MAX_EVIDENCE_PAGES:
            raise ValueError(f"{len(pdf)} pages is over the {MAX_EVIDENCE_PAGES}-page limit")
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    lines += textpage.get_text_bounded().replace("\r", "\n").split("\n")
                finally:
                    textpage.close()
            finally:
                page.close()
    return lines


def read_evidence_file(path: Path, max_bytes: int = MAX_EVIDENCE_BYTES) -> EvidenceText:
    """The lines of a PDF (text layer) or a UTF-8 text / Markdown file; never raises."""
    if not path.name or not path.is_file():
        return EvidenceText(error=f"file not found: {path}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return EvidenceText(error=f"{size} bytes is over the {max_bytes}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        return EvidenceText(error=f"cannot read the file: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        return EvidenceText(digest, error="the file is empty")
    try:
        if data.startswith(b"%PDF"):
            lines = _pdf_lines(data)
        elif path.suffix.lower() in TEXT_SUFFIXES and b"\x00" not in data:
            lines = data.decode("utf-8", errors="replace").splitlines()
        else:
            return EvidenceText(digest, error="not a PDF, .txt or .md file")
    except (DocumentError, ValueError) as exc:
        return EvidenceText(digest, error=f"the PDF cannot be read: {exc}")
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return EvidenceText(digest, error="no text (a scanned PDF is not OCRed as evidence)")
    return EvidenceText(digest, tuple(lines))


def load_evidence(manifest: str | Path) -> Evidence:
    """The manifest and each distinct file it names, read once."""
    entries = read_manifest(manifest)
    texts: dict[Path, EvidenceText] = {}
    for entry in entries:
        if entry.path not in texts:
            texts[entry.path] = (
                read_evidence_file(entry.path) if entry.evidence_file
                else EvidenceText(error="the manifest names no evidence file")
            )
    return Evidence(str(manifest), entries, texts)


# --- checking -------------------------------------------------------------------------------------


def module_certificates(entries: Iterable[EvidenceEntry]) -> dict[str, set[str]]:
    """Module key -> the certificate keys the manifest relates it to (§5: must be exactly one)."""
    related: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.zigbee_module.strip():
            related[confusable_key(entry.zigbee_module)].add(confusable_key(entry.certificate_id))
    return related


def check_entry(entry: EvidenceEntry, evidence: Evidence, row: CplRow) -> EvidenceCheck:
    """Does this file back this row? Every condition is checked, so the report lists all gaps."""
    text = evidence.texts.get(entry.path, EvidenceText(error="not read"))
    missing: list[str] = []
    if text.error:
        missing.append(text.error)
    if confusable_key(entry.certificate_id) != confusable_key(row.certificate_id):
        missing.append(
            f"the manifest relates it to certificate {entry.certificate_id!r}, "
            f"the row to {row.certificate_id!r}"
        )
    if not entry.zigbee_module.strip():
        missing.append("the manifest names no ZigBee module")
    else:
        certificates = module_certificates(evidence.entries)[confusable_key(entry.zigbee_module)]
        if len(certificates) > 1:
            missing.append(
                f"ZigBee module {entry.zigbee_module!r} is related to {len(certificates)} "
                "certificates in the manifest; it must uniquely relate to one (guidance §5)"
            )
    matched: list[str] = []
    coding = ""
    if not text.error:
        for what, line in (
            (f"certificate ID {row.certificate_id}", line_naming(text.lines, row.certificate_id)),
            (f"ZigBee module {entry.zigbee_module}", line_naming(text.lines, entry.zigbee_module)),
        ):
            if line is None:
                missing.append(f"the file does not name the {what}")
            elif line not in matched:
                matched.append(line)
        found = line_with_firmware(text.lines, row.firmware_version)
        if found is None:
            missing.append(f"the file does not show firmware version {row.firmware_version}")
        else:
            line, coding = found
            if line not in matched:
                matched.append(line)
    return EvidenceCheck(
        evidence_file=entry.evidence_file,
        sha256=text.sha256,
        matched_lines=tuple(_trim(line) for line in matched),
        missing=tuple(missing),
        firmware_coding=coding,
    )


def check_row_evidence(evidence: Evidence | None, row: CplRow) -> EvidenceCheck | None:
    """The row's best evidence check (the first that passes, else the first); None without entries."""
    if evidence is None:
        return None
    checks = [check_entry(entry, evidence, row) for entry in evidence.for_row(row)]
    if not checks:
        return None
    return next((c for c in checks if c.ok), checks[0])


def unused_entries(evidence: Evidence | None, rows: Iterable[CplRow]) -> list[EvidenceEntry]:
    """Manifest rows that name no submission in the CPL file: reported, so nothing is lost."""
    if evidence is None:
        return []
    ids = {r.submission_id.strip() for r in rows if r.submission_id.strip()}
    return [e for e in evidence.entries if e.submission_id.strip() not in ids]
