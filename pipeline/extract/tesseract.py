"""OCR by tesseract: page images prepared (200 dpi, rules painted out), one call per page, and
lines and table cells rebuilt from the words.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import sys
import tempfile
from types import ModuleType
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from PIL import Image

from pipeline.errors import developer_note
from pipeline.extract.ocr_layout import (
    OCR_DPI,
    OcrWord,
    page_from_words,
)
from pipeline.extract.orient import reads_poorly, upright
from pipeline.extract.pdfium_text import pdf_document, skipped_page
from pipeline.models import (
    DocumentError,
    ErrorReason,
    ExtractLimits,
    PageText,
    TextSource,
)

if TYPE_CHECKING:  # numpy is imported where pages are prepared: text-layer runs never load it
    import numpy as np

TESSERACT_CONFIG = "--psm 6"  # measured: psm 6 keeps label and value on one line
TESSERACT_LANG = "eng"
OSD_DPI = 100  # measured: OSD at 100 dpi ~0.6 s a page and still names the turn


TESSERACT_INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd"
RULE_MIN_INCHES = 0.25  # dark runs this long are ruling lines: glyphs at 8-12 pt are shorter
RULE_DARK_LEVEL = 160
# Dark bands behind light text (_dark_bands_inverted): rows and columns this share dark, from
# a small text line's height to a band of two lines
BAND_DARK_SHARE = 0.6
BAND_MIN_INCHES = 0.08
BAND_MAX_INCHES = 0.6
# Dotted leaders: dots no further apart than LEADER_GAP, a row no thicker than LEADER_THICK,
# running at least LEADER_MIN. Measured: psm 6 read a leader as `vcccsssssssssscvississ` and
# took the label and the value with it (`Cert IDS ... LIG2ZZSEI2AL` at 0-18%).
LEADER_GAP_INCHES = 0.09  # a monospaced leader: one dot each 6 pt
LEADER_THICK_INCHES = 0.03
LEADER_MIN_INCHES = 0.3
LEADER_INK = 0.6  # share of a leader's row that is ink: dots with gaps, not a stroke
# measured: tesseract may leave a wide space after the "ZIG" of a certificate ID; it is one word


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def require_tesseract() -> None:
    """Fail with the install command, before any page is rendered."""
    if not tesseract_available():
        raise DocumentError(
            ErrorReason.OCR_UNAVAILABLE,
            f"tesseract is not installed: {TESSERACT_INSTALL} (or run with --ocr never)",
        )


def one_tesseract_thread() -> None:
    """OMP_THREAD_LIMIT=1 in the environment tesseract inherits: one thread per worker process
    (measured 1.47 s/page against 3.24 s with tesseract's own threads on 2 cores)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"


def _long_runs(dark: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels lying on a run of at least `length` dark pixels along `axis` (a 1-D opening).

    Two running sums over slices, no per-pixel indexing: ~40 ms for an A4 page at 200 dpi."""
    import numpy as np
    moved = dark if axis == 1 else dark.T
    rows, n = moved.shape
    if n < length:
        return np.zeros_like(dark)
    sums = np.zeros((rows, n + 1), np.int32)
    np.cumsum(moved, axis=1, dtype=np.int32, out=sums[:, 1:])
    full = (sums[:, length:] - sums[:, :-length]) == length  # the window starting here is dark
    padded = np.zeros((rows, n + length), np.int32)  # full, with length-1 zeros each side
    np.cumsum(full, axis=1, dtype=np.int32, out=padded[:, length : length + full.shape[1]])
    padded[:, length + full.shape[1] :] = padded[:, length + full.shape[1] - 1 : length + full.shape[1]]
    covered = (padded[:, length:] - padded[:, :n]) > 0  # some full window covers this pixel
    return covered if axis == 1 else covered.T


def _leader_dots(dark: np.ndarray, dpi: int) -> np.ndarray:
    """Dotted leaders (`Cert. ID: ............ ZIG20SE0931`): rows of dots, bridged across
    their gaps, thin, and long. Worked at half resolution (a quarter of the pixels)."""
    import numpy as np
    small = dark[::2, ::2]
    half = dpi / 2
    gap, thin_px, length = (max(int(half * LEADER_GAP_INCHES), 2),
                            max(int(half * LEADER_THICK_INCHES), 2),
                            max(int(half * LEADER_MIN_INCHES), 10))
    rows, n = small.shape
    if n <= 2 * gap + 1 or rows <= thin_px + 1:
        return np.zeros_like(dark)
    sums = np.zeros((rows, n + 1), np.int32)
    np.cumsum(small, axis=1, dtype=np.int32, out=sums[:, 1:])
    index = np.arange(n)
    left = sums[:, index + 1] - sums[:, np.maximum(index - gap, 0)]  # dark at or left of here
    right = sums[:, np.minimum(index + gap + 1, n)] - sums[:, index]  # ...at or right of it
    bridged = small | ((left > 0) & (right > 0))
    thick = _long_runs(bridged, thin_px + 1, axis=0)
    # dots, not a stroke: under LEADER_INK of the row around here is ink (the feet of `12:22`
    # make a thin run too, but an unbroken one)
    start, end = np.maximum(index - length // 2, 0), np.minimum(index + length // 2 + 1, n)
    gapped = (sums[:, end] - sums[:, start]) < LEADER_INK * (end - start)
    leaders = _long_runs(bridged & ~thick & gapped, length, axis=1)
    if not leaders.any():
        return np.zeros_like(dark)
    big = np.repeat(np.repeat(leaders, 2, axis=0), 2, axis=1)[: dark.shape[0], : dark.shape[1]]
    grown = big.copy()
    grown[1:, :] |= big[:-1, :]
    grown[:-1, :] |= big[1:, :]
    return grown & dark


def _dark_bands_inverted(gray: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """Light text on dark bands (a table's header row or a device's title band printed white
    on dark blue) turned dark on light: tesseract reads dark text, and the rule remover would
    paint a filled band's long dark runs out, its white words with them. A band is a run of
    rows mostly dark across a stretch of a third of the page's width or more, a text line's
    height or more, and not a photograph's (at most BAND_MAX_INCHES high)."""
    import numpy as np

    height, width = gray.shape
    dark = gray < RULE_DARK_LEVEL
    share = dark.mean(axis=1)
    rows = share >= BAND_DARK_SHARE / 3  # a band a third of the width, mostly dark
    if not rows.any():
        return gray, dark
    out = gray
    low, high = int(dpi * BAND_MIN_INCHES), int(dpi * BAND_MAX_INCHES)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rows.astype(np.int8), [0]))))
    for top, bottom in zip(edges[::2], edges[1::2], strict=True):
        if not low <= bottom - top <= high:
            continue
        columns = dark[top:bottom].mean(axis=0) >= BAND_DARK_SHARE
        filled = np.flatnonzero(columns)
        if filled.size < width / 3:
            continue
        left, right = int(filled[0]), int(filled[-1]) + 1
        if columns[left:right].mean() < BAND_DARK_SHARE:
            continue  # dark columns here and there: text, not a band
        if out is gray:
            out = gray.copy()
        out[top:bottom, left:right] = 255 - gray[top:bottom, left:right]
    # the dark pixels, computed again only when a band was turned
    return (gray, dark) if out is gray else (out, out < RULE_DARK_LEVEL)


def remove_rules(image: Image.Image, dpi: int) -> Image.Image:
    """Grayscale, with ruling lines (table borders) painted out.

    Measured: tesseract psm 6 dropped whole rows of ruled two-column and multi-model tables,
    labels included; with the rules gone it reads them as cells separated by wide gaps."""
    import numpy as np

    gray, dark = _dark_bands_inverted(np.asarray(image.convert("L")), dpi)
    length = max(int(dpi * RULE_MIN_INCHES), 12)
    rules = _long_runs(dark, length, axis=1) | _long_runs(dark, length, axis=0)
    rules |= _leader_dots(dark, dpi)
    if not rules.any():
        out = Image.fromarray(gray)
    else:
        grown = rules.copy()  # the anti-aliased fringe of a rule is dark too
        grown[1:, :] |= rules[:-1, :]
        grown[:-1, :] |= rules[1:, :]
        grown[:, 1:] |= rules[:, :-1]
        grown[:, :-1] |= rules[:, 1:]
        cleaned = gray.copy()
        cleaned[grown] = 255
        out = Image.fromarray(cleaned)
    out.info["dpi"] = (dpi, dpi)
    return out


def image_dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi") or (OCR_DPI, OCR_DPI)
    value = round(float(dpi[0]))
    return value if 50 <= value <= 1200 else OCR_DPI


def import_pytesseract() -> ModuleType:
    """pytesseract, imported without pandas.

    pytesseract imports pandas when it is installed, only to offer DataFrame output, which
    cplrecon never asks for; that import costs ~34 MB and ~0.2 s in every process that OCRs (each
    worker, again after every recycling) and in the main process, which asks tesseract's version.
    pandas is hidden for the length of the import only: `import pandas` elsewhere works as usual.
    """
    if "pytesseract" in sys.modules:
        return sys.modules["pytesseract"]
    hide = "pandas" not in sys.modules
    if hide:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` fail
    try:
        import pytesseract
    finally:
        if hide and sys.modules.get("pandas", False) is None:
            del sys.modules["pandas"]
    return pytesseract


def _run_tesseract(image: Image.Image, timeout_s: float, call: str, **kwargs: object) -> object:
    """One pytesseract call (`image_to_data`, `image_to_osd`) on the image.

    The image goes to tesseract as an uncompressed TIFF with its dpi: pytesseract's own PNG
    encoding costs ~0.36 s a page, and without a dpi tesseract guesses (changed 1 page in 6)."""
    pytesseract = import_pytesseract()
    require_tesseract()
    one_tesseract_thread()
    dpi = image_dpi(image)
    with tempfile.TemporaryDirectory(prefix="cplrecon-ocr-") as folder:
        path = os.path.join(folder, "page.tif")
        image.save(path, "TIFF", dpi=(dpi, dpi), compression="raw")
        try:
            return getattr(pytesseract, call)(
                path, timeout=timeout_s, output_type=pytesseract.Output.DICT, **kwargs)
        except pytesseract.TesseractError:  # a RuntimeError too: tesseract failed, no timeout
            raise
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            raise DocumentError(ErrorReason.TIMEOUT, f"OCR took over {timeout_s:.0f} s") from exc


def tesseract_osd(image: Image.Image, timeout_s: float) -> int | None:
    """The clockwise turn (0, 90, 180, 270) that sets the page upright, by tesseract's OSD on
    the image reduced to OSD_DPI; None when OSD cannot tell (a sparse page: "Too few
    characters")."""
    dpi = image_dpi(image)
    if dpi > OSD_DPI:
        scale = OSD_DPI / dpi
        size = (max(round(image.width * scale), 1), max(round(image.height * scale), 1))
        image = image.resize(size, Image.Resampling.BILINEAR)
        image.info["dpi"] = (OSD_DPI, OSD_DPI)
    pytesseract = import_pytesseract()
    try:
        found = _run_tesseract(image, timeout_s, "image_to_osd")  # pytesseract adds --psm 0
    except (pytesseract.TesseractError, OSError):  # no osd data, no output: cannot tell
        return None
    assert isinstance(found, dict)
    turn = int(found.get("rotate", 0)) % 360
    return turn if turn in (0, 90, 180, 270) else None


def tesseract_words(image: Image.Image, timeout_s: float,
                    config: str = TESSERACT_CONFIG) -> list[OcrWord]:
    """One tesseract call (image_to_data: words, boxes, confidences); text is derived from it."""
    pytesseract = import_pytesseract()
    try:
        data = _run_tesseract(image, timeout_s, "image_to_data", lang=TESSERACT_LANG,
                              config=config)
    except pytesseract.TesseractError as exc:
        raise DocumentError(
            ErrorReason.UNREADABLE, "tesseract failed on a page image; the notes hold its error",
            f"tesseract: {developer_note(exc)}",
        ) from exc
    assert isinstance(data, dict)
    words = []
    for i, text in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if not text.strip() or confidence < 0:
            continue
        words.append(OcrWord(
            text.strip(), confidence, int(data["left"][i]), int(data["top"][i]),
            int(data["width"][i]), int(data["height"][i]),
            (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i])),
        ))
    return words


def at_ocr_dpi(image: Image.Image) -> Image.Image:
    """Scans over 200 dpi brought down to 200 dpi (grayscale). Measured on 300-dpi bilevel TIFFs:
    2.3x faster, and `0C` no longer read as `00`; 300 dpi never read better here."""
    dpi = image_dpi(image)
    gray = image if image.mode == "L" else image.convert("L")
    if dpi <= OCR_DPI * 1.1:
        gray.info["dpi"] = (dpi, dpi)
        return gray
    scale = OCR_DPI / dpi
    size = (max(round(gray.width * scale), 1), max(round(gray.height * scale), 1))
    small = gray.resize(size, Image.Resampling.LANCZOS)
    small.info["dpi"] = (OCR_DPI, OCR_DPI)
    return small


def ocr_image(image: Image.Image, number: int, reason: str, timeout_s: float) -> PageText:
    """OCR one page image: at 200 dpi, rules painted out, one tesseract call, text rebuilt from
    the words; a page that reads poorly is tried turned (orient.upright)."""
    image = at_ocr_dpi(image)
    dpi = image_dpi(image)

    from pipeline.extract.reread import (  # it builds on this module
        reread_empty_labels,
        reread_unsure,
        reread_values,
    )

    def read(sheet: Image.Image) -> PageText:
        prepared = remove_rules(sheet, dpi)
        words = tesseract_words(prepared, timeout_s)
        page = page_from_words(number, words, reason, dpi)
        if reads_poorly(page):  # perhaps turned: its specks are not values worth reading again
            return page
        again = reread_unsure(prepared, reread_values(prepared, words, timeout_s), timeout_s)
        again = reread_empty_labels(prepared, again, timeout_s)
        return page if again == words else page_from_words(number, again, reason, dpi)

    return upright(image, read(image), read, lambda sheet: tesseract_osd(sheet, timeout_s))


def render_pixels(width_pt: float, height_pt: float, dpi: int = OCR_DPI) -> int:
    """Pixels a page of this size renders to at `dpi`: known before any memory is spent."""
    scale = dpi / 72
    return math.ceil(width_pt * scale) * math.ceil(height_pt * scale)


def render_page(
    data: bytes, number: int, dpi: int = OCR_DPI, max_megapixels: float | None = None
) -> Image.Image:
    """A PDF page as a PIL image at `dpi`, with the dpi recorded for tesseract.

    Over `max_megapixels` (OCRmyPDF's --skip-big) the page is TOO_LARGE before it is rendered:
    a poster page at 200 dpi took 906 MiB (issue 13). A page PDFium cannot render (no area
    left after its CropBox, a damaged page) raises PageNotRendered."""
    with pdf_document(data) as pdf:
        try:
            page = pdf[number - 1]
        except pdfium.PdfiumError as exc:
            raise PageNotRendered(exc) from exc
        try:
            width, height = page.get_size()
            megapixels = render_pixels(width, height, dpi) / 1e6
            if max_megapixels is not None and megapixels > max_megapixels:
                raise DocumentError(
                    ErrorReason.TOO_LARGE,
                    f"page {number} ({width:.0f} x {height:.0f} pt) would render to "
                    f"{megapixels:.0f} megapixels for OCR, over the limit of "
                    f"{max_megapixels:.0f}; ask for the certificate at a normal page size",
                )
            try:
                image = page.render(scale=dpi / 72).to_pil()
            except (ValueError, pdfium.PdfiumError) as exc:  # "Crop exceeds page dimensions"
                raise PageNotRendered(exc) from exc
        finally:
            page.close()
    image.info["dpi"] = (dpi, dpi)
    return image


class PageNotRendered(Exception):
    """PDFium could not render one page; the page is skipped with a note, not the document."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def ocr_pdf_page(data: bytes, number: int, reason: str, limits: ExtractLimits) -> PageText:
    """One PDF page OCRed; a page that cannot be rendered comes back empty, its problem said."""
    require_tesseract()
    try:
        image = render_page(data, number, max_megapixels=limits.max_render_megapixels)
    except PageNotRendered as exc:
        return skipped_page(number, "could not be rendered for OCR", exc.cause)
    return ocr_image(image, number, reason, limits.ocr_timeout_s)


def image_pages(data: bytes, limits: ExtractLimits) -> list[Image.Image]:
    """Frames of a PNG/JPEG/(multi-page) TIFF as grayscale PIL images, each with its dpi."""
    from PIL import ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames: list[Image.Image] = []
        for frame in ImageSequence.Iterator(image):
            if len(frames) >= limits.max_pages:
                raise DocumentError(
                    ErrorReason.TOO_LARGE, f"over {limits.max_pages} pages in one image file"
                )
            copy = frame.convert("L")
            copy.info = {"dpi": image.info.get("dpi", (OCR_DPI, OCR_DPI))}  # not the codec's
            frames.append(copy)
        return frames
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(
            ErrorReason.CORRUPT, "the image file is damaged and cannot be read; ask for a new copy",
            developer_note(exc),
        ) from exc


def _blank(image: Image.Image) -> bool:
    """The back of a sheet: nothing darker than paper grey after a speck filter (no OCR call)."""
    import numpy as np

    small = image.reduce(4) if min(image.size) >= 64 else image
    return int(np.asarray(small).min()) > RULE_DARK_LEVEL


def _check_image_size(frame: Image.Image, number: int, limits: ExtractLimits) -> None:
    """The render cap for image files: the frame's pixels once brought to OCR_DPI."""
    scale = min(OCR_DPI / image_dpi(frame), 1.0) if image_dpi(frame) > OCR_DPI * 1.1 else 1.0
    megapixels = frame.width * scale * frame.height * scale / 1e6
    if megapixels > limits.max_render_megapixels:
        raise DocumentError(
            ErrorReason.TOO_LARGE,
            f"image page {number} is {megapixels:.0f} megapixels at {OCR_DPI} dpi, over the limit "
            f"of {limits.max_render_megapixels:.0f} for OCR; ask for the certificate at a normal "
            "page size",
        )


def ocr_image_file(data: bytes, limits: ExtractLimits) -> list[PageText]:
    require_tesseract()
    pages = []
    for number, frame in enumerate(image_pages(data, limits), start=1):
        if _blank(frame):
            pages.append(PageText(number, "", TextSource.NONE, "blank page image"))
            continue
        _check_image_size(frame, number, limits)
        pages.append(ocr_image(frame, number, "image file", limits.ocr_timeout_s))
    return pages
