"""Turned scans (issue 11, class 5): a page scanned at 90, 180 or 270 degrees is read upright.

Only a page whose upright OCR reads poorly pays for this (mean word confidence under
POOR_CONFIDENCE, or not one label of the lexicon and no certificate wording), so upright scans
cost nothing more. Tesseract's orientation detection (OSD, `--psm 0`, on a reduced image)
names the turn; the page is turned, read again, and the better reading kept. OSD fails on sparse
pages ("Too few characters"); then, when the words were read unsurely (a turned page reads as
unsure garbage; a sparse upright one as a few sure words), each quarter turn is tried and the
best reading kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import regex
from PIL import Image

from pipeline.models import PageText
from pipeline.reader.lexicon import default_lexicon

POOR_CONFIDENCE = 60.0  # measured: upright scans read 85-95, turned ones 28-43
# A page OSD cannot judge is left as read only when its words are this sure: sideways pages of
# hand-made scans read 61-67 as specks and digits, labels none (so not turned at all)
SPARSE_SURE = 80.0
GOOD_LABELS = 2  # a turn reading this many labels at a good confidence is the upright one
TURNS = (90, 180, 270)
_CERTIFICATE_WORDS = regex.compile(r"certif|zigbee|zertifi", regex.IGNORECASE)
_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,  # PIL's ROTATE_n turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}

Read = Callable[[Image.Image], PageText]
Osd = Callable[[Image.Image], "int | None"]


def labels_on(page: PageText) -> int:
    """Segments that start with a label of the lexicon: what an upright certificate page has."""
    lexicon = default_lexicon()
    return sum(1 for s in page.segments if lexicon.label_at_start(s.text) is not None)


def reads_poorly(page: PageText) -> bool:
    """Unsure words, or neither a label nor certificate wording: perhaps a turned page."""
    if page.confidence is None or page.confidence < POOR_CONFIDENCE:
        return True
    return labels_on(page) == 0 and _CERTIFICATE_WORDS.search(page.text) is None


def _score(page: PageText) -> tuple[int, float]:
    return labels_on(page), page.confidence or 0.0


def _reads_well(page: PageText) -> bool:
    return (page.confidence or 0.0) >= POOR_CONFIDENCE and labels_on(page) >= GOOD_LABELS


def turn_clockwise(image: Image.Image, degrees: int) -> Image.Image:
    """The image turned `degrees` clockwise (a quarter turn or two), its dpi kept."""
    turned = image.transpose(_CLOCKWISE[degrees])
    turned.info["dpi"] = image.info.get("dpi", (0, 0))
    return turned


def upright(image: Image.Image, page: PageText, read: Read, osd: Osd) -> PageText:
    """`page` (the upright reading of `image`), or a turned reading that reads better.

    `read` OCRs an image into a page; `osd` gives the clockwise turn that sets an image upright
    (None when tesseract cannot tell). The turn is recorded in the page's `turned` and its
    `ocr_reason`."""
    if not reads_poorly(page):
        return page
    turn = osd(image)
    if turn == 0 and labels_on(page):
        return page  # OSD says upright, and labels were read: a poor scan, not a turned one
    if turn is None and (page.confidence or 0.0) >= SPARSE_SURE:
        return page  # sure words, too few for OSD: a sparse page (an annex's signature page)
    # OSD's turn first; the others after it when that does not read well (measured: OSD named
    # 90 for a sheet needing 270, at orientation confidence 1.06)
    candidates = [turn, *(t for t in TURNS if t != turn)] if turn else list(TURNS)
    best = page
    for degrees in candidates:
        turned = read(turn_clockwise(image, degrees))
        if _score(turned) > _score(best):
            how = "tesseract OSD" if degrees == turn else (
                "tried each turn: OSD could not tell" if turn is None else
                f"tried each turn: OSD said {turn}")
            best = dataclasses.replace(
                turned, turned=degrees,
                ocr_reason=f"{page.ocr_reason}; turned {degrees} degrees clockwise ({how})")
        if _reads_well(best):
            break
    return best


def turn_notes(pages: list[PageText]) -> list[str]:
    """`page N: turned D degrees clockwise (how)` for each page read turned, for ocr_reason."""
    notes = []
    for page in pages:
        if page.turned:
            how = page.ocr_reason.rsplit("; turned ", 1)[-1]
            notes.append(f"page {page.number}: turned {how}")
    return notes
