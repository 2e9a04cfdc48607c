"""Text of each page: the PDF text layer, ruled tables where the layout needs them, or OCR.

The first reading: `text_layer` (pypdfium2, ~3 ms a page) for every PDF page, and
`ocr_pdf_page` / `ocr_image_file` (tesseract) only where `ocr_decision` says the text layer is not
usable. Then the extractor seam (`chain.py`): `FALLBACKS`, an ordered list of extractors each with
`applies(attempt)` and `read(attempt)`, run only while fields are missing: ruled tables
(pypdfium2 paths ~1 ms a page), pdfplumber's tables (~100 ms a page), an OCR retry of text pages
with a scan under them.
Settings are pinned in each module so the rules in rules/ always see the same spacing.
"""

from __future__ import annotations

from pipeline.extract.chain import FALLBACKS, Attempt, Extractor, OcrRetry, TableReader
from pipeline.extract.orient import turn_notes
from pipeline.extract.pdfium_text import (
    OcrDecision,
    check_page_count,
    exact_boxes,
    ocr_decision,
    open_pdf,
    page_facts,
    pdf_document,
    repair_pdf,
    text_layer,
    text_source_of,
)
from pipeline.extract.tables import ruled_tables, tables, unread_tables
from pipeline.extract.tesseract import (
    at_ocr_dpi,
    image_pages,
    ocr_image,
    ocr_image_file,
    ocr_pdf_page,
    render_page,
    tesseract_available,
    tesseract_words,
)
from pipeline.models import ExtractLimits

__all__ = [
    "FALLBACKS", "Attempt", "Extractor", "OcrRetry", "TableReader",
    "ExtractLimits", "exact_boxes",
    "OcrDecision", "at_ocr_dpi", "check_page_count", "image_pages", "ocr_decision",
    "ocr_image", "ocr_image_file", "ocr_pdf_page", "open_pdf", "page_facts", "pdf_document",
    "render_page", "repair_pdf", "ruled_tables", "tables", "tesseract_available",
    "tesseract_words", "text_layer", "text_source_of", "turn_notes", "unread_tables",
]
