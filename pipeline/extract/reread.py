"""Short values read again, enlarged (issue 11, class 8: poor scans).

On 150-dpi JPEG scans tesseract loses what is small: the dot of `7.3` (read `73` at 93%
confidence) or the last digit of `v41` (read `v4` at 45%, then dropped as a speck). Read again
from their box at REREAD_SCALE times the size, one line (`--psm 7`), they come out right
(measured: `7.3` 88%, `1.4` 91%, `v41` 87%). A value is re-read only where one stands: a short
word with a digit, alone in its cell, at the start of its line or right of a label. The new
reading is taken only when it is one sure word that keeps every character of the first one
in order and adds at most MAX_ADDED (it fills what was missed; it never changes what was read).
Pages without such a word pay nothing; each re-read is ~0.1-0.2 s.

Values read unsurely are read again the same way (`unsure_groups`, `reread_unsure`): tesseract
gave `(21:53)` at 16% for a clear `(21:E3)` in a monospaced font, `DOFE` at 56% for `D9:FE`, and
`tA` at 46% for `1.1`; enlarged two to four times they read right at 86-96%. A run of unsure
words in one cell, looking like a value (or short, right of a label), is cropped whole and read
at each scale of UNSURE_READS in turn (binarized once), until a reading is taken or the first
one is read again alike (it stands, with the new reading's words and confidence). A reading is
taken only when every word of it is sure (or two readings agree, each at AGREE or more), it has
as many letters and digits as the first, keeps its separators (it may add up to MAX_ADDED, and a
dash may come back a dot) and differs from it. Certificate IDs, dates and single characters are
not read again. The CPL is never consulted, so a re-read can no more invent a match than the
first reading could; the value keeps its OCR source and the new confidence. Some misreads
survive every scale (`9F:AA:8F:34` read `OF:AA:8F:34` each time): those stay a MISMATCH that
names the OCR.
"""

from __future__ import annotations

import dataclasses

import regex
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
UNSURE = 60.0  # a word read below this is worth reading again when it looks like a value
AGREE = 50.0  # or two readings alike at this or more (`vIS` 22% read `v15` at 58% and 67%)
# (scale, binarized) tried in turn: tesseract's best scale differs word by word; binarized at
# twice the size, `9.3` in Courier on a turned scan read 95% (`o.3` at 0% as it was)
UNSURE_READS = ((2, False), (2, True), (3, False), (4, False))
UNSURE_PAD = 0.5  # line heights left and right of an unsure run
UNSURE_RISE = 0.5  # and above and below it: tesseract's box of an unsure word is often too
# short (`tA` for `1.1` read right only with half a line more); a quarter line was tried too,
# and read nothing right that half a line did not, at twice the calls
MAX_UNSURE_RUN = 4  # words: a value, not a sentence
_HEXISH = frozenset("0123456789ABCDEFO")


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


# Certificate IDs and dates read unsurely are left as read: IDs link through OCR-confusable
# keys (pipeline.idkeys), dates decide no verdict, and each re-read costs a tesseract call.
_NOT_DEVICE_VALUE = regex.compile(r"[Z2][I1l|!]?[G6]|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_V_NUMBER = regex.compile(r"[vV][0-9OoIlSZB|]{1,4}")  # `vIS` for v15


def _looks_like_value(text: str) -> bool:
    """A digit, two or more upper-case hex letters (`DOFE` for `D9:FE`), or a `v` and letters
    OCR reads for digits (`vIS` for `v15`)."""
    letters = [ch for ch in text if ch.isalnum()]
    return any(ch.isdigit() for ch in letters) or (
        len(letters) >= 2 and all(ch in _HEXISH for ch in letters)) or bool(
        _V_NUMBER.fullmatch(text))


def _unsure(word: OcrWord) -> bool:
    return word.confidence < UNSURE and any(ch.isalnum() for ch in word.text)


def unsure_groups(words: list[OcrWord]) -> list[list[OcrWord]]:
    """Runs of unsure words standing together in one cell (no wide gap between them), each
    looking like a value, or short and right of a label (`tA` for `1.1` beside `HW Version`):
    the ones worth reading again enlarged."""
    by_line: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        by_line.setdefault(word.line, []).append(word)
    groups = []
    for line in by_line.values():
        line.sort(key=lambda w: w.left)
        start = 0
        while start < len(line):
            end = start
            while end < len(line) and _unsure(line[end]) and (
                    end == start or line[end].left - line[end - 1].right
                    <= CELL_GAP_HEIGHTS * line[end].height):
                end += 1
            if end == start:
                start += 1
                continue
            run, left = line[start:end], line[:start]
            text = " ".join(w.text for w in run)
            gap = CELL_GAP_HEIGHTS * run[0].height
            beside_label = (len(text) <= SHORT_VALUE and bool(left)
                            and run[0].left - left[-1].right > gap and _label_left(left, gap))
            if (len(run) <= MAX_UNSURE_RUN and len(_skeleton(text)) >= 2
                    and not _NOT_DEVICE_VALUE.match(text)
                    and (_looks_like_value(text) or beside_label)):
                groups.append(run)
            start = end
    return groups


def _skeleton(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _separators(text: str) -> str:
    return "".join(ch for ch in text if not ch.isalnum() and not ch.isspace())


# A dot blurred into a dash or a comma (`9-3` at 35% for a clear `9.3`): one separator
_DOT_LIKE = str.maketrans({"-": ".", ",": "."})


def _same_shape(first: str, again: str) -> bool:
    """As many letters and digits; the first's separators kept in order (a dash or comma may
    come back a dot), at most MAX_ADDED more; and not the same text."""
    if again.replace(" ", "") == first.replace(" ", ""):
        return False
    if len(_skeleton(again)) != len(_skeleton(first)):
        return False
    kept, added = _separators(first), _separators(again)
    if "." in added:
        kept = kept.translate(_DOT_LIKE)
    rest = iter(added)
    return len(added) <= len(kept) + MAX_ADDED and all(ch in rest for ch in kept)


def _read_enlarged(image: Image.Image, box: tuple[int, int, int, int], scale: int, dpi: int,
                   timeout_s: float, binarize: bool = False
                   ) -> list[tuple[str, float, int, int, int, int]]:
    crop = image.crop(box)
    crop = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.LANCZOS)
    if binarize:
        crop = _binarized(crop)
    crop.info["dpi"] = (dpi * scale, dpi * scale)
    data = _run_tesseract(crop, timeout_s, "image_to_data", lang=TESSERACT_LANG,
                          config=REREAD_CONFIG)
    assert isinstance(data, dict)
    return [(str(t).strip(), float(c), int(x), int(y), int(w), int(h)) for t, c, x, y, w, h in
            zip(data["text"], data["conf"], data["left"], data["top"], data["width"],
                data["height"], strict=True) if str(t).strip()]


def _binarized(crop: Image.Image) -> Image.Image:
    """Black and white at Otsu's threshold of the crop itself: a small crop of a tinted 150-dpi
    scan (`7.6` on grey) was read `726` at 31% as it was and `7.6` at 83-93% once binarized."""
    gray = crop.convert("L")
    histogram = gray.histogram()
    total = sum(histogram)
    sum_all = sum(i * n for i, n in enumerate(histogram))
    best, threshold, weight, sum_below = -1.0, 128, 0, 0
    for level, count in enumerate(histogram):
        weight += count
        if weight == 0 or weight == total:
            continue
        sum_below += level * count
        mean_below = sum_below / weight
        mean_above = (sum_all - sum_below) / (total - weight)
        between = weight * (total - weight) * (mean_below - mean_above) ** 2
        if between > best:
            best, threshold = between, level
    return gray.point(lambda v: 255 if v > threshold else 0)


def reread_unsure(image: Image.Image, words: list[OcrWord], timeout_s: float) -> list[OcrWord]:
    """`words`, with each unsure value run read again enlarged where a sure reading of the same
    shape comes out (see the module's note)."""
    groups = unsure_groups(words)
    if not groups:
        return words
    dpi = image_dpi(image)
    replaced: dict[int, list[OcrWord]] = {}
    for run in groups:
        height = sorted(w.height for w in run)[len(run) // 2]
        pad = max(int(height * UNSURE_PAD), 2)
        rise = max(int(height * UNSURE_RISE), 1)
        box = (max(run[0].left - pad, 0), max(min(w.top for w in run) - rise, 0),
               min(run[-1].right + pad, image.width),
               min(max(w.top + w.height for w in run) + rise, image.height))
        first = " ".join(w.text for w in run)
        seen: dict[str, float] = {}  # readings of the right shape, by text: their confidence
        for scale, binarize in UNSURE_READS:
            read = _read_enlarged(image, box, scale, dpi, timeout_s, binarize=binarize)
            again = " ".join(r[0] for r in read)
            confidence = min((r[1] for r in read), default=0.0)
            confirmed = bool(read) and again.replace(" ", "") == first.replace(" ", "") and (
                confidence >= AGREE)
            if not confirmed and (not read or not _looks_like_value(again)
                                  or not _same_shape(first, again)):
                continue
            agreed = confidence >= AGREE and seen.get(again, -1.0) >= AGREE
            if confirmed or confidence >= SURE or agreed:
                # confirmed, the words are the sure ones: `04` `_02` at 29% is `04_02` at 86%,
                # and the unsure `04` was dropped as a speck
                replaced[id(run[0])] = [
                    OcrWord(text, max(c, seen.get(again, 0.0)), box[0] + x // scale,
                            box[1] + y // scale, max(w // scale, 1), max(h // scale, 1),
                            run[0].line)
                    for text, c, x, y, w, h in read]
                for word in run[1:]:
                    replaced[id(word)] = []
                break
            seen[again] = max(confidence, seen.get(again, -1.0))
    out: list[OcrWord] = []
    for word in words:
        out.extend(replaced.get(id(word), [word]))
    return out


# --- a label with no value: the place its value should stand, read enlarged ---------------------

EMPTY_BELOW = (0.15, 2.0)  # line heights under a label where a value under it stands
EMPTY_RIGHT = 24.0  # line heights right of a label where a value beside it stands
EMPTY_SCALES = (1, 2)  # binarized first (`_binarized`): as they were, tints read as digits
EMPTY_PAD = 0.4  # line heights around the place read


def _label_field(cell: list[OcrWord]) -> str | None:
    return default_lexicon().is_only_labels(" ".join(w.text for w in cell).rstrip(":"))


def _empty_places(words: list[OcrWord], width: int, height: int
                  ) -> list[tuple[str, list[tuple[int, int, int, int]]]]:
    """(field, places to read) for each label cell with nothing right of
    it on its line and nothing under it: where tesseract lost the value (`7.6` under
    `Hardware Revision` on a turned 150-dpi scan, not read at all by psm 6)."""
    from pipeline.extract.ocr_layout import ocr_lines

    lines = ocr_lines(words)
    # the next label is not a value under this one (`FW Version:` two line heights under
    # `HW Version:`, whose `1.9` was read `9:` at 44%)
    labels = {id(w) for cells in lines for cell in cells if _label_field(cell) for w in cell}
    text = [w for w in words if not _is_noise(w)]
    kept = [w for w in text if id(w) not in labels]
    found = []
    for cells in lines:
        label = cells[-1]
        field = _label_field(label)
        if field is None or field == "certificate_date":
            continue
        h = sorted(w.height for w in label)[len(label) // 2]
        left, right = label[0].left, label[-1].right
        top, bottom = min(w.top for w in label), max(w.top + w.height for w in label)
        under = [w for w in kept if w.top > bottom - h * 0.3 and w.top < bottom + EMPTY_BELOW[1] * h
                 and w.left < right + 4 * h and w.right > left - h]
        if under:
            continue
        pad = max(int(h * EMPTY_PAD), 2)
        after = [w.left for w in text if w.left > right and w.top < bottom and w.top + w.height > top]
        right_end = min([*after, right + int(EMPTY_RIGHT * h), width])
        below_end = min([w.top for w in text if w.top > bottom and w.left < right + 4 * h
                         and w.right > left - h] + [bottom + int(EMPTY_BELOW[1] * h) + pad, height])
        places = []
        if right_end - right > 3 * h:
            places.append((right + pad, max(top - pad, 0), right_end - pad, min(bottom + pad, height)))
        places.append((max(left - h, 0), bottom + int(EMPTY_BELOW[0] * h),
                       min(right + 4 * h, width), below_end))
        if not label[-1].text.endswith(":"):
            places.reverse()  # no colon: under it first (a label above its value)
        found.append((field, places))
    return found


def reread_empty_labels(image: Image.Image, words: list[OcrWord], timeout_s: float) -> list[OcrWord]:
    """`words`, with the value read where a label stands with none (`_empty_places`): a sure
    reading (every word at SURE or more, or two scales agreeing at AGREE), that looks like a
    value and has the field's shape, is added as the words the page lacked."""
    places = _empty_places(words, image.width, image.height)
    if not places:
        return words
    dpi = image_dpi(image)
    added: list[OcrWord] = []
    lexicon = default_lexicon()
    line = max((w.line for w in words), default=(0, 0, 0))
    for number, (field, boxes) in enumerate(places, start=1):
        for box in boxes:
            if box[2] - box[0] < 4 or box[3] - box[1] < 4:
                continue
            seen: dict[str, float] = {}
            taken = None
            for scale in EMPTY_SCALES:
                # a leader's last dot read as `:` at 4% beside `1.9` at 92%: no part of a value
                read = [r for r in _read_enlarged(image, box, scale, dpi, timeout_s, binarize=True)
                        if any(ch.isalnum() for ch in r[0])]
                text = " ".join(r[0] for r in read)
                if not read or len(read) > MAX_UNSURE_RUN or not _looks_like_value(text):
                    continue
                if lexicon.is_only_labels(text) is not None or not lexicon.fits(field, text):
                    continue
                confidence = min(r[1] for r in read)
                if confidence >= SURE or (confidence >= AGREE and seen.get(text, -1.0) >= AGREE):
                    taken = (read, scale)
                    break
                seen[text] = max(confidence, seen.get(text, -1.0))
            if taken is not None:
                read, scale = taken
                added += [OcrWord(text, c, box[0] + x // scale, box[1] + y // scale,
                                  max(w // scale, 1), max(h // scale, 1),
                                  (line[0] + number, 0, 0))
                          for text, c, x, y, w, h in read]
                break
    return [*words, *added] if added else words
