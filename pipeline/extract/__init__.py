"""Text of each page: the PDF text layer, ruled tables where the layout needs them, or OCR.

Three extractors, cheapest first:
- `text_layer` (pypdfium2, ~3 ms a page) for every PDF page;
- `ruled_tables` / `tables` (pypdfium2 paths ~1 ms, pdfplumber ~100 ms a page) only for pages
  whose text alone did not yield the fields (the caller decides, after parsing);
- `ocr_pdf_page` / `ocr_image_file` (tesseract) only where `ocr_decision` says the text layer
  is not usable.
Settings are pinned in each module so the rules in rules/ always see the same spacing.
"""

from __future__ import annotations

from pipeline.extract.orient import turn_notes
from pipeline.extract.pdfium_text import (
    OcrDecision,
    check_page_count,
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
    "ExtractLimits", "OcrDecision", "at_ocr_dpi", "check_page_count", "image_pages", "ocr_decision",
    "ocr_image", "ocr_image_file", "ocr_pdf_page", "open_pdf", "page_facts", "pdf_document",
    "render_page", "repair_pdf", "ruled_tables", "tables", "tesseract_available",
    "tesseract_words", "text_layer", "text_source_of", "turn_notes", "unread_tables",
]
