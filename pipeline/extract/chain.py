"""The extractor seam: the fallbacks that re-read a document whose first reading lacks fields.

The first reading (every page's text layer, or OCR where `ocr_decision` says the text is not
usable) is document.py's. What follows it is data: `FALLBACKS`, an ordered list of extractors,
cheapest first. Each declares `applies(attempt)`, the reason it would run ('' when it does not),
and `read(attempt)`, the document re-read (None when it changed nothing). document.py runs them
in order while fields are missing, parses each result, keeps it only when it has fewer missing
fields, and notes every step, kept or discarded. A new extractor is one class and one entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.extract.ocr_layout import with_sparse_words
from pipeline.extract.orient import turn_clockwise, turn_notes
from pipeline.extract.pdfium_text import ocr_decision, page_facts, text_source_of
from pipeline.extract.tables import Table, ruled_tables, unread_tables
from pipeline.extract.tesseract import (
    PageNotRendered,
    at_ocr_dpi,
    image_dpi,
    image_pages,
    ocr_pdf_page,
    remove_rules,
    render_page,
    tesseract_words,
)
from pipeline.models import Document, ExtractedDocument, ExtractLimits, TextSource


@dataclass(frozen=True)
class Attempt:
    """What a fallback is given: the document, its bytes, the best reading so far and the
    required fields that reading still lacks."""

    document: Document
    data: bytes
    extracted: ExtractedDocument
    missing: tuple[str, ...]
    ocr: str  # the run's --ocr: auto, always or never
    limits: ExtractLimits


class Extractor(Protocol):
    @property
    def name(self) -> str:
        """Its name in the notes: 'ruled-tables', 'ocr-retry'."""
        ...

    def applies(self, attempt: Attempt) -> str:
        """Why this extractor runs on the attempt; '' when it does not."""
        ...

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        """The document re-read; None when nothing changed."""
        ...


def _text_pages(extracted: ExtractedDocument) -> list[int]:
    return [p.number for p in extracted.pages if p.text.strip() and p.source is TextSource.TEXT]


def _with_tables(
    extracted: ExtractedDocument, found: Mapping[int, tuple[Table, ...]]
) -> ExtractedDocument | None:
    if not any(found.values()):
        return None
    pages = tuple(dataclasses.replace(p, tables=found.get(p.number, ())) for p in extracted.pages)
    return dataclasses.replace(extracted, pages=pages)


@dataclass(frozen=True)
class TableReader:
    """Tables of the text-layer pages by one table reader, kept on the pages for the parser."""

    name: str
    reader: Callable[[bytes, list[int]], Mapping[int, tuple[Table, ...]]]

    def applies(self, attempt: Attempt) -> str:
        if attempt.document.kind != "pdf" or not _text_pages(attempt.extracted):
            return ""
        return f"the text layer lacks {', '.join(attempt.missing)}"

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        pages = _text_pages(attempt.extracted)
        found = self.reader(attempt.data, pages)
        if not _tables_give_any(found, attempt.missing):
            return None  # the document parsed again would lack the same fields: not worth it
        return _with_tables(attempt.extracted, found)


def _tables_give_any(found: Mapping[int, tuple[Table, ...]], missing: Sequence[str]) -> bool:
    """Whether the tables alone, read as the parser reads them, give a value of a missing field.
    A table that names none of them cannot fill one: its document is not parsed again (two
    parses, ~2 ms each, on every born-digital document with a field truly absent)."""
    from pipeline.document import field_rules  # the document stage imports this module
    from pipeline.textreaders import read_tables

    tables = [table for tables in found.values() for table in tables]
    if not tables:
        return False
    given = {name for listing in read_tables(tables, field_rules()) for name, _ in listing}
    return bool(given.intersection(missing))


@dataclass(frozen=True)
class OcrRetry:
    """A text-layer page under which a scan lies, and that lacks required fields, read again by
    OCR (`ocr_decision` with the missing fields). Born-digital pages never are."""

    name: str = "ocr-retry"

    def applies(self, attempt: Attempt) -> str:
        if attempt.document.kind != "pdf" or attempt.ocr != "auto":
            return ""
        if not any(p.source is TextSource.TEXT for p in attempt.extracted.pages):
            return ""
        return f"a text-layer page lacks {', '.join(attempt.missing)}: a scan under it?"

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        extracted = attempt.extracted
        pages = list(extracted.pages)
        reasons = [extracted.ocr_reason] if extracted.ocr_reason else []
        for index, page in enumerate(pages):
            if page.source is not TextSource.TEXT:
                continue
            decision = ocr_decision(*page_facts(attempt.data, page.number), missing=attempt.missing)
            if decision.needed:
                ocr_page = ocr_pdf_page(attempt.data, page.number, decision.reason, attempt.limits)
                if not ocr_page.problem:  # a page that cannot be rendered keeps its text layer
                    reasons.append(f"page {page.number}: {decision.reason}")
                    pages[index] = ocr_page
                    reasons += turn_notes([ocr_page])
        if pages == list(extracted.pages):
            return None
        return dataclasses.replace(extracted, pages=tuple(pages), text_source=text_source_of(pages),
                                   ocr_reason="; ".join(reasons))


@dataclass(frozen=True)
class SparseIdRetry:
    """OCR'd pages of a document with no certificate ID, read again as sparse text (tesseract
    --psm 11): on a turned 150-dpi scan psm 6 lost the whole `Cert. ID: ... ZIG20SE0931` line,
    which psm 11 read at 90%. Its words are added only where the page has no text. Documents
    with an ID never pay for it (~0.7 s a page)."""

    name: str = "sparse-ocr"

    def applies(self, attempt: Attempt) -> str:
        if "certificate_id" not in attempt.missing or attempt.ocr == "never":
            return ""
        if not any(p.source is TextSource.OCR for p in attempt.extracted.pages):
            return ""
        return "no certificate ID on the OCR'd pages: read again as sparse text"

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        pages = list(attempt.extracted.pages)
        images: list[Any] | None = None
        for index, page in enumerate(pages):
            if page.source is not TextSource.OCR or page.problem:
                continue
            if attempt.document.kind == "pdf":
                try:
                    image = render_page(attempt.data, page.number,
                                        max_megapixels=attempt.limits.max_render_megapixels)
                except PageNotRendered:
                    continue
            else:
                images = images if images is not None else image_pages(attempt.data,
                                                                         attempt.limits)
                image = images[page.number - 1]
            image = at_ocr_dpi(image)
            dpi = image_dpi(image)
            if page.turned:
                image = turn_clockwise(image, page.turned)
            words = tesseract_words(remove_rules(image, dpi), attempt.limits.ocr_timeout_s,
                                    config=SPARSE_CONFIG)
            pages[index] = with_sparse_words(page, words, dpi)
        if pages == list(attempt.extracted.pages):
            return None
        return dataclasses.replace(attempt.extracted, pages=tuple(pages))


SPARSE_CONFIG = "--psm 11"  # sparse text: every word found, in no particular order


# The fallback chain, cheapest first: data, not code paths.
FALLBACKS: Sequence[Extractor] = (
    # tables drawn with lines or boxes, from pypdfium2's path objects (~2 ms a page)
    TableReader("ruled-tables", ruled_tables),
    # any table pdfplumber's layout analysis finds (~25-100 ms a page, 0.15-0.3 s to import),
    # only on pages with ruling the first could not read (tables.unread_tables)
    TableReader("pdfplumber-tables", unread_tables),
    OcrRetry(),
    SparseIdRetry(),
)
