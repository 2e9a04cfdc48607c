"""One document to one Certificate: extract (cheapest extractor first), then parse.

Per document it spends the cheap text layer first and the expensive extractors (pdfplumber
tables, OCR) only where the cheaper result lacks required fields, and records why.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from pipeline.extract import (
    ExtractLimits,
    ocr_decision,
    ocr_image_file,
    ocr_pdf_page,
    page_facts,
    repair_pdf,
    ruled_tables,
    text_layer,
    text_source_of,
    turn_notes,
    unread_tables,
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
from pipeline.parse import FieldRules, load_field_rules, missing_fields, parse_certificate
from pipeline.reader import not_a_certificate


@lru_cache(maxsize=1)
def field_rules() -> FieldRules:
    """Loaded once per process (workers included)."""
    return load_field_rules()


def _error_certificate(document: Document, error: DocumentError, pages: int = 0) -> Certificate:
    return Certificate(file=document.name, sha256=document.sha256, pages=pages, error=error)


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
        return _error_certificate(
            document, DocumentError(ErrorReason.UNREADABLE, f"{type(exc).__name__}: {exc}")
        )


def _read(document: Document, data: bytes, ocr: str, limits: ExtractLimits) -> Certificate:
    extracted = _extract(document, data, ocr, limits)
    certificate = _parse(extracted)
    if document.kind == "pdf" and missing_fields(certificate):
        certificate = _with_tables(document, data, extracted, certificate)
    if document.kind == "pdf" and ocr == "auto" and missing_fields(certificate):
        certificate = _retry_with_ocr(data, extracted, certificate, limits)
    if why := not_a_certificate(certificate, extracted.text):
        return dataclasses.replace(
            certificate, listings=(), parts=(), certificate_id="", certificate_date="",
            device_type="", evidence=(),
            error=DocumentError(ErrorReason.NOT_A_CERTIFICATE, why),
        )
    if not certificate.certificate_id and not certificate.listings:
        reason = extracted.ocr_reason or "no certificate fields were recognised"
        return dataclasses.replace(
            certificate,
            error=DocumentError(ErrorReason.NO_FIELDS, f"no certificate fields found ({reason})"),
        )
    return certificate


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
            ErrorReason.CORRUPT, f"{damage.message}; a repaired copy failed too ({exc})"
        ) from exc
    if certificate.error is not None:  # repaired, but nothing of the certificate survived
        raise DocumentError(
            ErrorReason.CORRUPT,
            f"{damage.message}; a repaired copy ({certificate.pages} page(s)) has no certificate "
            "fields: the file is damaged or truncated",
        )
    note = f"repaired by qpdf before reading (pdfium: {damage.message})"
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


def _retry_with_ocr(
    data: bytes, extracted: ExtractedDocument, certificate: Certificate, limits: ExtractLimits
) -> Certificate:
    """After parsing: a text-layer page under which a scan lies, and that lacks required fields,
    is read again by OCR (ocr_decision with `missing`). Born-digital pages never are."""
    missing = tuple(missing_fields(certificate))
    pages = list(extracted.pages)
    reasons = [extracted.ocr_reason] if extracted.ocr_reason else []
    for index, page in enumerate(pages):
        if page.source is not TextSource.TEXT:
            continue
        decision = ocr_decision(*page_facts(data, page.number), missing=missing)
        if decision.needed:
            reasons.append(f"page {page.number}: {decision.reason}")
            pages[index] = ocr_pdf_page(data, page.number, decision.reason, limits)
            reasons += turn_notes(pages[index : index + 1])
    if pages == list(extracted.pages):
        return certificate
    retry = _parse(dataclasses.replace(extracted, pages=tuple(pages),
                                       text_source=text_source_of(pages),
                                       ocr_reason="; ".join(reasons)))
    return retry if len(missing_fields(retry)) < len(missing) else certificate


def _with_tables(
    document: Document, data: bytes, extracted: ExtractedDocument, certificate: Certificate
) -> Certificate:
    """Layout analysis only for documents whose text alone lacks fields and has a text layer.

    Ruled tables from pypdfium2's path objects first (~2 ms a page); pdfplumber's layout
    analysis (~25-100 ms a page) only when that still leaves fields missing, and only on pages
    with ruling the first could not read.
    """
    text_pages = [p.number for p in extracted.pages if p.text.strip() and p.source.value == "text"]
    if not text_pages:
        return certificate
    best = certificate
    for reader in (ruled_tables, unread_tables):
        found = reader(data, text_pages)
        if not any(found.values()):
            continue  # no table: parsing again would give the same certificate
        pages = tuple(
            dataclasses.replace(p, tables=found.get(p.number, ())) for p in extracted.pages
        )
        retry = _parse(dataclasses.replace(extracted, pages=pages))
        if len(missing_fields(retry)) < len(missing_fields(best)):
            best = retry
        if not missing_fields(best):
            break
    return best
