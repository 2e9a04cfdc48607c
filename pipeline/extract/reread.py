"""Short values read again, enlarged (issue 11, class 8: poor scans).

On 150-dpi JPEG scans tesseract loses what is small: the dot of `7.3` (read `73` at 93%
confidence) or the last digit of `v41` (read `v4` at 45%, then dropped as a speck). Read again
from their box at REREAD_SCALE times the size, one line (`--psm 7`), they come out right
(measured: `7.3` 88%, `1.4` 91%, `v41` 87%). A value is re-read only where one stands: a short
word with a digit, alone in its cell, at the start of its line or right of a label. The new
reading is taken only when it is one sure word that keeps every character of the first one
in order and adds at most MAX_ADDED (it fills what was missed; it never changes what was read).
Pages without such a word pay nothing; each re-read is ~0.1-0.2 s.
"""

from __future__ import annotations

import dataclasses

from PIL import Image

from pipeline.extract.ocr_layout import CELL_GAP_HEIGHTS, OcrWord, _is_noise
from pipeline.extract.tesseract import TESSERACT_LANG, _run_tesseract, image_dpi
from pipeline.reader.lexicon import default_lexicon

REREAD_SCALE = 2
REREAD_CONFIG = "--psm 7"  # one line of text
SHORT_VALUE = 4  # characters: `73`, `1_2`, `v41` (single characters are specks too often)
SURE = 80.0  # the re-read must be at least this confident
MAX_ADDED = 2  # characters a re-read may add: a lost separator, a lost digit
PAD_HEIGHTS = (0.5, 2.0)  # box grown by half a line height, and two to the right (a lost digit)


def _may_be_short_value(word: OcrWord) -> bool:
    return 2 <= len(word.text) <= SHORT_VALUE and any(ch.isdigit() for ch in word.text) and (
        _is_noise(word) or word.text.isdigit())


def _label_left(left: list[OcrWord], gap: float) -> bool:
    """The cell just left of a word is a label (`Hardware Revision`, `Version:`)."""
    start = len(left) - 1
    while start > 0 and left[start].left - left[start - 1].right <= gap:
        start -= 1
    label = " ".join(w.text for w in left[start:])
    return label.endswith(":") or default_lexicon().is_only_labels(label) is not None


def short_values(words: list[OcrWord]) -> list[OcrWord]:
    """The words worth reading again: short, with a digit, unsure or all digits, alone in their
    cell, first on their line or right of a label."""
    by_line: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        if not _is_noise(word) or _may_be_short_value(word):
            by_line.setdefault(word.line, []).append(word)
    found = []
    for line in by_line.values():
        line.sort(key=lambda w: w.left)
        for index, word in enumerate(line):
            if not _may_be_short_value(word):
                continue
            gap = CELL_GAP_HEIGHTS * word.height
            left, after = line[:index], line[index + 1 : index + 2]
            if after and after[0].left - word.right <= gap:
                continue  # part of a longer text
            if left and word.left - left[-1].right <= gap:
                continue
            if not left or _label_left(left, gap):
                found.append(word)
    return found


def _keeps(first: str, again: str) -> bool:
    """`again` holds every character of `first`, in order, and at most MAX_ADDED more."""
    if again == first or len(again) > len(first) + MAX_ADDED:
        return False
    rest = iter(again)
    return all(ch in rest for ch in first)


def reread_values(image: Image.Image, words: list[OcrWord], timeout_s: float) -> list[OcrWord]:
    """`words`, with each short value read again enlarged where that reading fills it in."""
    candidates = short_values(words)
    if not candidates:
        return words
    dpi = image_dpi(image)
    replaced: dict[int, OcrWord] = {}
    for word in candidates:
        pad, right = (max(int(word.height * h), 2) for h in PAD_HEIGHTS)
        box = (max(word.left - pad, 0), max(word.top - pad, 0),
               min(word.right + right, image.width), min(word.top + word.height + pad, image.height))
        crop = image.crop(box)
        crop = crop.resize((crop.width * REREAD_SCALE, crop.height * REREAD_SCALE),
                           Image.Resampling.LANCZOS)
        crop.info["dpi"] = (dpi * REREAD_SCALE, dpi * REREAD_SCALE)
        data = _run_tesseract(crop, timeout_s, "image_to_data", lang=TESSERACT_LANG,
                              config=REREAD_CONFIG)
        assert isinstance(data, dict)
        read = [(str(t).strip(), float(c), int(w)) for t, c, w in
                zip(data["text"], data["conf"], data["width"], strict=True) if str(t).strip()]
        if len(read) != 1:
            continue
        again, confidence, width = read[0]
        if confidence >= SURE and _keeps(word.text, again):
            replaced[id(word)] = dataclasses.replace(
                word, text=again, confidence=confidence,
                width=max(word.width, round(width / REREAD_SCALE)))
    return [replaced.get(id(w), w) for w in words]
