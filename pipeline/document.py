"""One document to one Certificate: extract (cheapest extractor first), then parse.

Per document it spends the cheap text layer first and the expensive extractors (pdfplumber
tables, OCR) only where the cheaper result lacks required fields, and records why.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from pipeline.extract import (
    ExtractLimits,
    ocr_image_file,
    ocr_pdf_page,
    tables,
    text_layer,
    text_source_of,
)
from pipeline.ingest import read_bytes
from pipeline.models import (
    Certificate,
    Document,
    DocumentError,
    ErrorReason,
    ExtractedDocument,
    PageText,
)
from pipeline.parse import FieldRules, load_field_rules, missing_fields, parse_certificate


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
        extracted = _extract(document, data, ocr, limits)
        certificate = parse_certificate(extracted, field_rules())
        if document.kind == "pdf" and missing_fields(certificate):
            certificate = _with_tables(document, data, extracted, certificate)
        if not certificate.certificate_id and not certificate.listings:
            reason = extracted.ocr_reason or "no certificate fields were recognised"
            return dataclasses.replace(
                certificate,
                error=DocumentError(ErrorReason.NO_FIELDS, f"no certificate fields found ({reason})"),
            )
        return certificate
    except DocumentError as exc:
        return _error_certificate(document, exc)
    except Exception as exc:  # one bad document is one ERROR row, never a crashed batch
        return _error_certificate(
            document, DocumentError(ErrorReason.UNREADABLE, f"{type(exc).__name__}: {exc}")
        )


def _extract(document: Document, data: bytes, ocr: str, limits: ExtractLimits) -> ExtractedDocument:
    if document.kind == "image":
        if ocr == "never":
            raise DocumentError(
                ErrorReason.OCR_UNAVAILABLE, "an image file needs OCR, and --ocr never was given"
            )
        pages = ocr_image_file(data, limits)
        return ExtractedDocument(document, tuple(pages), text_source_of(pages), "image file")
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
    return ExtractedDocument(document, tuple(pages), text_source_of(pages), "; ".join(reasons))


def _with_tables(
    document: Document, data: bytes, extracted: ExtractedDocument, certificate: Certificate
) -> Certificate:
    """Layout analysis only for documents whose text alone lacks fields and has a text layer."""
    text_pages = [p.number for p in extracted.pages if p.text.strip() and p.source.value == "text"]
    if not text_pages:
        return certificate
    found = tables(data, text_pages)
    pages = tuple(
        dataclasses.replace(p, tables=found.get(p.number, ())) for p in extracted.pages
    )
    retry = parse_certificate(dataclasses.replace(extracted, pages=pages), field_rules())
    return retry if len(missing_fields(retry)) < len(missing_fields(certificate)) else certificate
