"""Text of each page: the PDF text layer, ruled tables where the layout needs them, or OCR.

Three extractors, cheapest first:
- `text_layer` (pypdfium2, ~3 ms a page) for every PDF page;
- `tables` (pdfplumber, ~100 ms a page) only for pages whose text alone did not yield the
  fields (the caller decides, after parsing);
- `ocr_page` (tesseract) only where `ocr_decision` says the text layer is not usable.
Settings are pinned here so the rules in rules/ always see the same spacing.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.models import DocumentError, ErrorReason, PageText, TextSource

# pdfplumber table settings, pinned: ruled tables only (lines drawn in the PDF).
TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
    "text_x_tolerance": 3,
    "text_y_tolerance": 3,
}
OCR_DPI = 200  # measured: 300 dpi read no better on 200-dpi scans and is 1.6x the render cost
TESSERACT_CONFIG = "--psm 6"  # measured: psm 6 keeps label and value on one line
MIN_USABLE_CHARS = 20
MAX_BAD_GLYPH_SHARE = 0.3


@dataclass(frozen=True)
class ExtractLimits:
    max_pages: int = 50
    max_page_side_pt: float = 5000.0  # 14,400 pt pages exist in the wild; their renders do not fit
    ocr_timeout_s: float = 120.0


@dataclass(frozen=True)
class OcrDecision:
    """Whether a page needs OCR, and the recorded reason (STYLE: OCRmyPDF is_ocr_required)."""

    needed: bool
    reason: str


def ocr_decision(text: str, image_objects: int, text_objects: int) -> OcrDecision:
    """Decide from the text layer alone; parsing may later ask for a retry with its own reason."""
    stripped = "".join(text.split())
    if not stripped:
        if image_objects:
            return OcrDecision(True, "no text layer; the page is an image")
        return OcrDecision(True, "no characters on the page")
    bad = stripped.count("\ufffd") + 5 * stripped.count("(cid:")
    if bad / len(stripped) > MAX_BAD_GLYPH_SHARE:
        return OcrDecision(True, "text layer is mostly unmappable glyphs (cid/U+FFFD)")
    if len(stripped) < MIN_USABLE_CHARS and image_objects:
        return OcrDecision(True, f"only {len(stripped)} characters of text over a page image")
    return OcrDecision(False, "")


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open with typed failures: ENCRYPTED, CORRUPT."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise DocumentError(
                ErrorReason.ENCRYPTED, "the PDF is encrypted; ask for an unprotected copy"
            ) from exc
        raise DocumentError(ErrorReason.CORRUPT, f"the PDF cannot be opened: {exc}") from exc


@contextmanager
def pdf_document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    pdf = open_pdf(data)
    try:
        yield pdf
    finally:
        pdf.close()


def _count_objects(page: pdfium.PdfPage, kind: int) -> int:
    return sum(1 for _ in page.get_objects(filter=(kind,), max_depth=1))


def check_page_count(pages: int, limits: ExtractLimits) -> None:
    if pages == 0:
        raise DocumentError(ErrorReason.EMPTY, "the PDF has no pages")
    if pages > limits.max_pages:
        raise DocumentError(
            ErrorReason.TOO_LARGE,
            f"{pages} pages is over the limit of {limits.max_pages} pages per certificate",
        )


def text_layer(data: bytes, limits: ExtractLimits) -> list[tuple[PageText, OcrDecision]]:
    """Every page's text layer with the OCR decision for it."""
    out: list[tuple[PageText, OcrDecision]] = []
    with pdf_document(data) as pdf:
        check_page_count(len(pdf), limits)
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                if max(width, height) > limits.max_page_side_pt:
                    raise DocumentError(
                        ErrorReason.TOO_LARGE,
                        f"page {index + 1} is {width:.0f} x {height:.0f} pt, over the "
                        f"{limits.max_page_side_pt:.0f} pt limit per side",
                    )
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
                decision = ocr_decision(
                    text,
                    _count_objects(page, pdfium_c.FPDF_PAGEOBJ_IMAGE),
                    _count_objects(page, pdfium_c.FPDF_PAGEOBJ_TEXT),
                )
            finally:
                page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            source = TextSource.NONE if decision.needed else TextSource.TEXT
            out.append((PageText(index + 1, text, source, decision.reason), decision))
    return out


def tables(data: bytes, page_numbers: list[int]) -> dict[int, tuple[tuple[tuple[str, ...], ...], ...]]:
    """Ruled tables of the given pages (1-based), by pdfplumber with pinned settings."""
    import pdfplumber  # imported here: 0.15-0.3 s, paid only by documents that need tables

    found: dict[int, tuple[tuple[tuple[str, ...], ...], ...]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number in page_numbers:
            page = pdf.pages[number - 1]
            try:
                raw = page.extract_tables(table_settings=TABLE_SETTINGS)
            finally:
                page.close()
            found[number] = tuple(
                tuple(tuple((cell or "").strip() for cell in row) for row in table)
                for table in raw
            )
    return found


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_image(image: object, timeout_s: float) -> tuple[str, float | None]:
    """OCR one PIL image: text and mean word confidence. One tesseract thread per worker."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if not tesseract_available():
        raise DocumentError(
            ErrorReason.OCR_UNAVAILABLE,
            "tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng "
            "(or run with --ocr never)",
        )
    try:
        text = pytesseract.image_to_string(image, config=TESSERACT_CONFIG, timeout=timeout_s)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise DocumentError(ErrorReason.TIMEOUT, f"OCR took over {timeout_s:.0f} s") from exc
    return text, None


def render_page(data: bytes, number: int, dpi: int = OCR_DPI) -> object:
    """A PDF page as a PIL image at `dpi`, with the dpi recorded for tesseract."""
    with pdf_document(data) as pdf:
        page = pdf[number - 1]
        try:
            image = page.render(scale=dpi / 72).to_pil()
        finally:
            page.close()
    image.info["dpi"] = (dpi, dpi)
    return image


def ocr_pdf_page(data: bytes, number: int, reason: str, limits: ExtractLimits) -> PageText:
    text, confidence = ocr_image(render_page(data, number), limits.ocr_timeout_s)
    return PageText(number, text, TextSource.OCR, reason, confidence)


def image_pages(data: bytes, limits: ExtractLimits) -> list[object]:
    """Frames of a PNG/JPEG/(multi-page) TIFF as PIL images."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = []
        for frame in ImageSequence.Iterator(image):
            if len(frames) >= limits.max_pages:
                raise DocumentError(
                    ErrorReason.TOO_LARGE, f"over {limits.max_pages} pages in one image file"
                )
            copy = frame.convert("RGB")
            copy.info["dpi"] = image.info.get("dpi", (OCR_DPI, OCR_DPI))
            frames.append(copy)
        return frames
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DocumentError(ErrorReason.CORRUPT, f"the image cannot be read: {exc}") from exc


def ocr_image_file(data: bytes, limits: ExtractLimits) -> list[PageText]:
    pages = []
    for number, frame in enumerate(image_pages(data, limits), start=1):
        text, confidence = ocr_image(frame, limits.ocr_timeout_s)
        pages.append(PageText(number, text, TextSource.OCR, "image file", confidence))
    return pages


def text_source_of(pages: list[PageText] | tuple[PageText, ...]) -> TextSource:
    sources = {p.source for p in pages if p.source is not TextSource.NONE}
    if not sources:
        return TextSource.NONE
    if len(sources) > 1:
        return TextSource.MIXED
    return sources.pop()
