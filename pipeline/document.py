"""One document to one Certificate: extract (cheapest extractor first), then parse.

Per document it spends the cheap text layer first and the expensive extractors (pdfplumber
tables, OCR) only where the cheaper result lacks required fields, and records why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from pipeline.errors import developer_note
from pipeline.extract import (
    FALLBACKS,
    Attempt,
    ExtractLimits,
    exact_boxes,
    ocr_image_file,
    ocr_pdf_page,
    repair_pdf,
    text_layer,
    text_source_of,
    turn_notes,
)
from pipeline.ingest import read_bytes
from pipeline.models import (
    Certificate,
    Document,
    DocumentError,
    ErrorReason,
    ExtractedDocument,
    PageText,
    TextSource,
)
from pipeline.ocrfix import field_confidences, repair_certificate, repair_page
from pipeline.parse import (
    FieldRules,
    load_field_rules,
    missing_fields,
    parse_certificate,
    printed_forms,
)
from pipeline.reader import not_a_certificate


@lru_cache(maxsize=1)
def field_rules() -> FieldRules:
    """Loaded once per process (workers included)."""
    return load_field_rules()


def _error_certificate(document: Document, error: DocumentError, pages: int = 0) -> Certificate:
    notes = (error.detail,) if error.detail else ()  # the library's words, for developers
    return Certificate(file=document.name, sha256=document.sha256, pages=pages, error=error,
                       notes=notes)


def process_document(document: Document, ocr: str, limits: ExtractLimits) -> Certificate:
    """One document to one Certificate. Never raises: a failure is an ERROR certificate."""
    if document.error is not None:
        return _error_certificate(document, document.error)
    try:
        data = read_bytes(document)
        try:
            return _read(document, data, ocr, limits)
        except DocumentError as exc:
            if exc.reason is not ErrorReason.CORRUPT or document.kind != "pdf":
                raise
            return _read_repaired(document, data, ocr, limits, exc)
    except DocumentError as exc:
        return _error_certificate(document, exc)
    except Exception as exc:  # one bad document is one ERROR row, never a crashed batch
        return _error_certificate(document, DocumentError(
            ErrorReason.UNREADABLE,
            "cplrecon failed while reading this document; please report it with the file",
            f"{developer_note(exc)} (in {_where(exc)})",
        ))


def _where(exc: BaseException) -> str:
    """The innermost frame of a traceback as `module:line`, for the developer note."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_globals.get('__name__', '?')}:{tb.tb_lineno}"


def _read(document: Document, data: bytes, ocr: str, limits: ExtractLimits) -> Certificate:
    extracted = _extract(document, data, ocr, limits)
    certificate = _parse(extracted)
    if missing_fields(certificate):
        extracted, certificate = _fall_back(document, data, ocr, limits, extracted, certificate)
    if problems := tuple(p.problem for p in extracted.pages if p.problem):
        certificate = dataclasses.replace(certificate, notes=(*certificate.notes, *problems))
    if document.kind == "pdf":
        certificate = _exact_provenance(data, certificate)
    if why := not_a_certificate(certificate, extracted.text, id_page_text=_id_page_text(
            certificate, extracted)):
        return dataclasses.replace(
            certificate, listings=(), parts=(), certificate_id="", certificate_date="",
            device_type="", evidence=(),
            error=DocumentError(ErrorReason.NOT_A_CERTIFICATE, why),
        )
    if not certificate.certificate_id:  # fields without an ID link to no CPL row
        reason = extracted.ocr_reason or "no certificate fields were recognised"
        message = f"no certificate fields found ({reason})"
        if certificate.listings:
            message = ("no certificate ID found: its device fields cannot be linked to a CPL row "
                       f"({extracted.ocr_reason or 'check the document by eye'})")
        return dataclasses.replace(
            certificate, error=DocumentError(ErrorReason.NO_FIELDS, message))
    return certificate


def _id_page_text(certificate: Certificate, extracted: ExtractedDocument) -> str:
    """The text of the page the certificate ID was read on ('' when not known)."""
    where = dict(certificate.evidence).get("certificate_id")
    if where is None:
        return ""
    return next((p.text for p in extracted.pages if p.number == where.page), "")


def _exact_provenance(data: bytes, certificate: Certificate) -> Certificate:
    """Text-layer boxes measured from PDFium's character boxes where the value is printed as
    read (extract.exact_boxes); the reader's boxes stay where it is not."""
    wanted: list[tuple[int, Sequence[str], tuple[float, float, float, float]]] = []

    def collect(holder: Any) -> Any:
        for name, where in holder.evidence:
            if where.source == "text" and not where.exact:
                wanted.append((where.page, printed_forms(name, str(getattr(holder, name))),
                               where.bbox))
        return holder

    def exact(holder: Any, boxes: Iterator[tuple[float, float, float, float] | None]) -> Any:
        evidence = []
        for name, where in holder.evidence:
            box = next(boxes) if where.source == "text" and not where.exact else None
            evidence.append((name, dataclasses.replace(where, bbox=box) if box else where))
        return dataclasses.replace(holder, evidence=tuple(evidence))

    def walk(cert: Certificate, visit: Any) -> Certificate:
        return visit(dataclasses.replace(
            cert, listings=tuple(visit(listing) for listing in cert.listings),
            parts=tuple(walk(part, visit) for part in cert.parts)))

    walk(certificate, collect)
    if not wanted:
        return certificate
    try:
        boxes = iter(exact_boxes(data, wanted))
    except Exception:  # noqa: BLE001 - a better box is a refinement: never a failed document
        return certificate
    return walk(certificate, lambda holder: exact(holder, boxes))


def _read_repaired(
    document: Document, data: bytes, ocr: str, limits: ExtractLimits, damage: DocumentError
) -> Certificate:
    """Before declaring CORRUPT, read a copy repaired by qpdf; keep it only if it has fields."""
    repaired = repair_pdf(data)
    if repaired is None:
        raise damage
    try:
        certificate = _read(document, repaired, ocr, limits)
    except DocumentError as exc:
        raise DocumentError(
            ErrorReason.CORRUPT, f"{damage.message}; a repair by qpdf did not help",
            "; ".join(dict.fromkeys(filter(None, (damage.detail, exc.detail)))),
        ) from exc
    if certificate.error is not None:  # repaired, but nothing of the certificate survived
        raise DocumentError(
            ErrorReason.CORRUPT,
            f"{damage.message}; a repaired copy ({certificate.pages} page(s)) has no certificate "
            "fields: the file is damaged or truncated", damage.detail,
        )
    note = "repaired by qpdf before reading" + (f" ({damage.detail})" if damage.detail else "")
    return dataclasses.replace(certificate, notes=(*certificate.notes, note))


def _extract(document: Document, data: bytes, ocr: str, limits: ExtractLimits) -> ExtractedDocument:
    if document.kind == "image":
        if ocr == "never":
            raise DocumentError(
                ErrorReason.OCR_UNAVAILABLE, "an image file needs OCR, and --ocr never was given"
            )
        frames = ocr_image_file(data, limits)
        reason = "; ".join(["image file", *turn_notes(frames)])
        return ExtractedDocument(document, tuple(frames), text_source_of(frames), reason)
    pages: list[PageText] = []
    reasons: list[str] = []
    for page, decision in text_layer(data, limits):
        wants_ocr = ocr == "always" or (ocr == "auto" and decision.needed)
        if wants_ocr:
            reason = decision.reason or "--ocr always"
            reasons.append(f"page {page.number}: {reason}")
            pages.append(ocr_pdf_page(data, page.number, reason, limits))
        else:
            if decision.needed:
                reasons.append(f"page {page.number}: {decision.reason} (OCR off)")
            pages.append(page)
    if all(p.problem for p in pages):
        raise DocumentError(
            ErrorReason.CORRUPT,
            f"no page of the PDF could be read ({len(pages)} page(s) damaged); ask for a new copy",
            "; ".join(p.problem for p in pages),
        )
    reasons += turn_notes(pages)
    return ExtractedDocument(document, tuple(pages), text_source_of(pages), "; ".join(reasons))


def _parse(extracted: ExtractedDocument) -> Certificate:
    """Parse; for OCR pages, repair misreads only inside hex/digit values, record every repair
    in ocr_reason, and give each field its mean word confidence."""
    if not any(p.source is TextSource.OCR for p in extracted.pages):
        return parse_certificate(extracted, field_rules())
    notes: list[str] = []
    pages = []
    for page in extracted.pages:
        if page.source is TextSource.OCR:
            page, found = repair_page(page)
            notes.extend(found)
        pages.append(page)
    certificate = parse_certificate(dataclasses.replace(extracted, pages=tuple(pages)),
                                    field_rules())
    certificate, found = repair_certificate(certificate)
    notes.extend(found)
    reason = "; ".join(filter(None, [certificate.ocr_reason, *dict.fromkeys(notes)]))
    return dataclasses.replace(certificate, ocr_reason=reason,
                               field_confidence=field_confidences(certificate, pages))


def _fall_back(
    document: Document, data: bytes, ocr: str, limits: ExtractLimits,
    extracted: ExtractedDocument, certificate: Certificate,
) -> tuple[ExtractedDocument, Certificate]:
    """The extractor chain (extract.FALLBACKS, cheapest first) while required fields are missing.
    Each step's result is parsed and kept only with fewer missing fields; every step that runs
    leaves a note, kept or discarded, and one that fails falls back to the best reading so far."""
    notes: list[str] = []
    for step in FALLBACKS:
        missing = tuple(missing_fields(certificate))
        if not missing:
            break
        attempt = Attempt(document, data, extracted, missing, ocr, limits)
        if not (why := step.applies(attempt)):
            continue
        try:
            reread = step.read(attempt)
            retry = None if reread is None else _parse(reread)
        except DocumentError:
            raise
        except Exception as exc:  # a fallback that fails falls back; the library's text is kept
            notes.append(f"{step.name} failed, skipped; the reading so far was kept "
                         f"({developer_note(exc)})")
            continue
        if reread is None or retry is None:
            notes.append(f"{step.name}: {why}; found nothing new")
        elif len(missing_fields(retry)) < len(missing):
            notes.append(f"{step.name}: {why}; kept ({len(missing)} -> "
                         f"{len(missing_fields(retry))} fields missing)")
            extracted, certificate = reread, retry
        else:
            notes.append(f"{step.name}: {why}; discarded (no field gained)")
    if not notes:
        return extracted, certificate
    return extracted, dataclasses.replace(certificate, notes=(*certificate.notes, *notes))
