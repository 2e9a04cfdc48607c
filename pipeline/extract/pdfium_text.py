"""The PDF text layer by pypdfium2 (~3 ms a page), typed open failures, qpdf repair, and the
one decision whether a page needs OCR.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.errors import developer_note
from pipeline.models import (
    DocumentError,
    ErrorReason,
    ExtractLimits,
    PageText,
    Segment,
    TextSource,
)

MIN_USABLE_CHARS = 20
MAX_BAD_GLYPH_SHARE = 0.3
PAGE_IMAGE_COVER = 0.8  # an image over 80% of the page is a scan, not a logo


@dataclass(frozen=True)
class OcrDecision:
    """Whether a page needs OCR, and the recorded reason (STYLE: OCRmyPDF is_ocr_required)."""

    needed: bool
    reason: str


def ocr_decision(
    text: str,
    image_objects: int,
    text_objects: int,
    image_cover: float = 0.0,
    missing: tuple[str, ...] = (),
) -> OcrDecision:
    """The one place that decides whether a page needs OCR, and why.

    From the text layer: no characters; mostly (cid:N)/U+FFFD; a few characters over an image.
    After parsing (`missing` = required fields the text layer did not yield): OCR only a page
    one image covers (a scan under an invisible text layer), never a born-digital page."""
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
    if missing and image_cover >= PAGE_IMAGE_COVER:
        return OcrDecision(
            True,
            f"text layer over a page-covering image lacks {', '.join(missing)} after parsing",
        )
    return OcrDecision(False, "")


def page_image_cover(page: pdfium.PdfPage) -> float:
    """Share of the page the largest image covers (a scan covers ~1)."""
    width, height = page.get_size()
    best = 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=1):
        left, bottom, right, top = obj.get_bounds() if hasattr(obj, "get_bounds") else obj.get_pos()
        best = max(best, (right - left) * (top - bottom) / max(width * height, 1.0))
    return min(best, 1.0)


def page_facts(data: bytes, number: int) -> tuple[str, int, int, float]:
    """(text, image objects, text objects, image cover) of one page: ocr_decision's inputs."""
    with pdf_document(data) as pdf, page_of(pdf, number - 1) as page:
        return (*_text_and_objects(page), page_image_cover(page))


def _text_and_objects(page: pdfium.PdfPage) -> tuple[str, int, int]:
    """A page's text layer and its image and text object counts: what ocr_decision reads."""
    text, _ = _text_and_segments(page, with_segments=False)
    return (text, *_object_counts(page))


def _text_and_segments(
    page: pdfium.PdfPage, with_segments: bool = True
) -> tuple[str, tuple[Segment, ...]]:
    """The page's text, and its text runs with their boxes (PDFium's text rectangles: one per
    drawn string on a line, ~0.4 ms a page more than the text alone, measured on 43 generated
    certificates), top-left origin."""
    with textpage_of(page) as textpage:
        text = textpage.get_text_bounded()
        if not with_segments:
            return text, ()
        height = page.get_height()
        rects = [textpage.get_rect(index) for index in range(textpage.count_rects())]
        runs = _runs_by_start(textpage, rects)
        if runs is None:
            runs = [textpage.get_text_bounded(*rect) for rect in rects]
        segments = []
        for (left, bottom, right, top), run in zip(rects, runs, strict=True):
            run = " ".join(run.split())
            if run:
                segments.append(Segment(run, left, height - top, right, height - bottom))
    segments.sort(key=lambda s: (round(s.top), s.x0))
    return text, tuple(segments)


def _runs_by_start(
    textpage: pdfium.PdfTextPage, rects: Sequence[tuple[float, float, float, float]]
) -> list[str] | None:
    """The text of each of PDFium's rectangles, as slices of the page's text between the first
    characters of consecutive rectangles (PDFium makes them in character order, one per drawn
    string): one position lookup a rectangle instead of a bounded text read, which copies and
    scans the page's characters twice (0.58 -> 0.17 ms a document, the same runs on the 98
    pages of 86 generated certificates). None, and the bounded reads, when the first
    characters found are not in strictly rising order (overlapping text, a gap at a corner)."""
    if not rects:
        return []
    raw = textpage.raw
    starts = [pdfium_c.FPDFText_GetCharIndexAtPos(raw, left + 0.01, (bottom + top) / 2, 0.0, 0.0)
              for left, bottom, _, top in rects]
    if any(start < 0 for start in starts) or any(
            later <= earlier for earlier, later in itertools.pairwise(starts)):
        return None
    full = textpage.get_text_range()
    ends = [*starts[1:], len(full)]
    return [full[start:end] for start, end in zip(starts, ends, strict=True)]


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open with typed failures: ENCRYPTED, EMPTY, CORRUPT (open_failure)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise open_failure(data, exc) from exc


def open_failure(data: bytes, exc: Exception) -> DocumentError:
    """Why PDFium refused a PDF, decided from the document itself by qpdf (pikepdf).

    PDFium's error code is not trusted: it is the library's last error, and after an encrypted
    file a 0-page PDF read in the same process still reported FPDF_ERR_PASSWORD (issue 13)."""
    import pikepdf  # imported here: only documents PDFium refuses pay for it

    detail = f"PDFium: {exc}"
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
    except pikepdf.PasswordError:
        return DocumentError(
            ErrorReason.ENCRYPTED, "the PDF is encrypted; ask for an unprotected copy", detail
        )
    except Exception as qpdf_exc:  # qpdf cannot read it either
        note = developer_note(qpdf_exc)
        if "encrypt" in note.lower():  # an encryption qpdf does not support, e.g. a custom handler
            return DocumentError(
                ErrorReason.ENCRYPTED, "the PDF is encrypted; ask for an unprotected copy",
                f"{detail}; qpdf: {note}",
            )
        return DocumentError(
            ErrorReason.CORRUPT, "the PDF is damaged and cannot be opened; ask for a new copy",
            f"{detail}; qpdf: {note}",
        )
    if pages == 0:
        return DocumentError(ErrorReason.EMPTY, "the PDF has no pages", detail)
    return DocumentError(
        ErrorReason.CORRUPT, "the PDF is damaged and cannot be opened; ask for a new copy", detail
    )


def repair_pdf(data: bytes) -> bytes | None:
    """A re-saved copy by qpdf (pikepdf), which rebuilds broken cross-reference tables and
    recovers the objects of a truncated file that pdfium refuses; None when it cannot either."""
    import pikepdf  # imported here: only damaged documents pay for it

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0:
                return None
            out = io.BytesIO()
            pdf.save(out)
    except Exception:  # qpdf's own errors, and anything else: the original CORRUPT stands
        return None
    return out.getvalue()


@contextmanager
def pdf_document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    """The PDF of `data`, open for the block: the kept one while `kept_document` is reading it."""
    kept = _KEPT.__dict__
    if kept.get("active"):
        if kept.get("pdf") is None:
            kept.update(data=data, pdf=open_pdf(data), pages={}, textpages={})
        if kept["data"] is data or kept["data"] == data:
            yield kept["pdf"]
            return
    pdf = open_pdf(data)
    try:
        yield pdf
    finally:
        pdf.close()


# The document one worker thread is reading, opened once with each page and its text loaded once
# for every step that needs them (the text layer, the exact boxes, the crops): a page load costs
# ~0.8 ms here, and each step loaded every page again.
_KEPT = threading.local()


@contextmanager
def kept_document() -> Iterator[None]:
    """Within the block, the first PDF read is kept open, with its pages, until the block ends."""
    _KEPT.__dict__.update(active=True, data=None, pdf=None, pages={}, textpages={})
    try:
        yield
    finally:
        kept = _KEPT.__dict__
        for textpage in kept.get("textpages", {}).values():
            textpage.close()
        for page in kept.get("pages", {}).values():
            page.close()
        if kept.get("pdf") is not None:
            kept["pdf"].close()
        _KEPT.__dict__.clear()


@contextmanager
def page_of(pdf: pdfium.PdfDocument, index: int) -> Iterator[pdfium.PdfPage]:
    """Page `index` (0-based) for the block: the kept one when `pdf` is the kept document."""
    kept = _KEPT.__dict__
    if id(kept.get("pdf")) == id(pdf):
        if index not in kept["pages"]:
            kept["pages"][index] = pdf[index]
        yield kept["pages"][index]
        return
    page = pdf[index]
    try:
        yield page
    finally:
        page.close()


@contextmanager
def textpage_of(page: pdfium.PdfPage) -> Iterator[pdfium.PdfTextPage]:
    """The page's text for the block: kept with the page when the page is kept."""
    kept = _KEPT.__dict__
    for index, kept_page in kept.get("pages", {}).items():
        if kept_page is page:
            if index not in kept["textpages"]:
                kept["textpages"][index] = page.get_textpage()
            yield kept["textpages"][index]
            return
    textpage = page.get_textpage()
    try:
        yield textpage
    finally:
        textpage.close()


def _object_counts(page: pdfium.PdfPage) -> tuple[int, int]:
    """(image objects, text objects) placed on the page itself (not inside form XObjects), by
    pdfium's raw calls in one pass: get_objects makes a Python object of each (~0.5 ms a page)."""
    raw = page.raw
    kinds = [pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(raw, i))
             for i in range(max(pdfium_c.FPDFPage_CountObjects(raw), 0))]
    return kinds.count(pdfium_c.FPDF_PAGEOBJ_IMAGE), kinds.count(pdfium_c.FPDF_PAGEOBJ_TEXT)


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
            try:
                with page_of(pdf, index) as page:
                    out.append(_page_text(page, index, limits))
            except pdfium.PdfiumError as exc:  # this page only: the others are still read
                out.append((skipped_page(index + 1, "could not be loaded", exc),
                            OcrDecision(False, "")))
    return out


def _page_text(page: pdfium.PdfPage, index: int, limits: ExtractLimits) -> tuple[PageText, OcrDecision]:
    width, height = page.get_size()
    if max(width, height) > limits.max_page_side_pt:
        raise DocumentError(
            ErrorReason.TOO_LARGE,
            f"page {index + 1} is {width:.0f} x {height:.0f} pt, over the "
            f"{limits.max_page_side_pt:.0f} pt limit per side",
        )
    text, segments = _text_and_segments(page)
    images, texts = _object_counts(page)
    decision = ocr_decision(text, images, texts)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = TextSource.NONE if decision.needed else TextSource.TEXT
    return PageText(index + 1, text, source, decision.reason, segments=segments), decision


def skipped_page(number: int, what: str, exc: Exception) -> PageText:
    """A page that cannot be read, kept as an empty page whose `problem` says why (a note)."""
    return PageText(number, "", TextSource.NONE, f"page {what}",
                    problem=f"page {number} {what}, skipped ({developer_note(exc)})")


def text_source_of(pages: list[PageText] | tuple[PageText, ...]) -> TextSource:
    sources = {p.source for p in pages if p.source is not TextSource.NONE}
    if not sources:
        return TextSource.NONE
    if len(sources) > 1:
        return TextSource.MIXED
    return sources.pop()


Box = tuple[float, float, float, float]  # x0, top, x1, bottom: PDF points, top-left origin


def exact_boxes(
    data: bytes, wanted: Sequence[tuple[int, Sequence[str], Box]]
) -> list[Box | None]:
    """For each (page, the ways the value may be printed, rough box): the box of the value's own
    characters on the text layer (PDFium's character boxes of the occurrence that overlaps the
    rough box most), or None when it is not printed so (rewritten, wrapped over lines).

    The reader cuts a text run shared by a label and its value in proportion to the characters,
    which clips a value's first characters after a wide label; this measures instead. The value
    is found in the page's text by Python's str.find, whose indexes are PDFium's characters
    (PDFium's own search made a searcher object a value: 0.54 -> 0.19 ms a document on 52
    generated certificates, the same 1,378 boxes on the samples and 138 generated ones)."""
    found: list[Box | None] = [None] * len(wanted)
    by_page: dict[int, list[int]] = {}
    for index, (page, printed, _) in enumerate(wanted):
        if any(text.strip() for text in printed):
            by_page.setdefault(page, []).append(index)
    if not by_page:
        return found
    with pdf_document(data) as pdf:
        for number, indexes in by_page.items():
            with page_of(pdf, number - 1) as page, textpage_of(page) as textpage:
                height = page.get_height()
                full = textpage.get_text_range()
                for index in indexes:
                    _, printed, rough = wanted[index]
                    for text in filter(None, (t.strip() for t in printed)):
                        if (box := _best_occurrence(textpage, full, height, text, rough)) is not None:
                            found[index] = box
                            break
    return found


def _best_occurrence(
    textpage: pdfium.PdfTextPage, full: str, height: float, value: str, rough: Box
) -> Box | None:
    """The box of the occurrence of `value` in the page's text (`full`, indexed as PDFium's
    characters) that overlaps the rough box most: the union of its characters' boxes."""
    best: tuple[float, Box] | None = None
    start = full.find(value)
    for _ in range(MAX_OCCURRENCES):
        if start < 0:
            break
        boxes = [textpage.get_charbox(i) for i in range(start, start + len(value))
                 if not full[i].isspace()]
        box = (min(b[0] for b in boxes), height - max(b[3] for b in boxes),
               max(b[2] for b in boxes), height - min(b[1] for b in boxes))
        overlap = _overlap(box, rough)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, box)
        start = full.find(value, start + 1)
    return None if best is None else tuple(round(x, 1) for x in best[1])  # type: ignore[return-value]


MAX_OCCURRENCES = 20  # of one value on one page: a value printed more often is boxed roughly


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    tall = min(a[3], b[3]) - max(a[1], b[1])
    return width * tall if width > 0 and tall > 0 else 0.0
