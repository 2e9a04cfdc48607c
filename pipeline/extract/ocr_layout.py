"""OCR words to what the readers take: lines, cells (words without a wide gap), aligned tables,
and segments with boxes in PDF points. No tesseract call here: tesseract.py makes the words."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pipeline.models import DEVICE_FIELDS, PageText, Segment, TextSource
from pipeline.reader.lexicon import Lexicon, default_lexicon

OCR_DPI = 200  # measured: 300 dpi read no better on 200-dpi scans and is 1.6x the render cost

NOISE_CONFIDENCE = 60.0  # below this, a word of 1-2 characters is a speck, not text (measured)
NOISE_CONFIDENCE_ONE_CHAR = 75.0  # specks read as one letter reached 67
JUNK_CELL_CONFIDENCE = 30.0  # stamps/signatures read as words: 15-23; real values >= 27 had digits
CELL_GAP_HEIGHTS = 1.2  # a gap wider than 1.2 line heights separates cells, not words (measured)
ID_PREFIX_WORD = re.compile(r"[Z2][I1l|!]?[G6][I1l|]?")
TABLE_TAIL_LINES = 2  # one-cell lines kept after a table: a last "label over value" cell
# A character this much shorter than its line's words is a speck read as a digit (measured: `5`
# at 81% in a box 1.5 pt high beside `FW Version` 7 pt high; lower-case x-height is ~0.55)
SPECK_HEIGHT_SHARE = 0.35
DIGIT_HEIGHT_SHARE = 0.8  # a digit is about as tall as the capital-led word before it
SHORT_LABEL_WORD = 3  # `FW`, `HW`, `SW`, `Mfr`: a label's first word that may stand apart


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int
    line: tuple[int, int, int]  # tesseract's (block, paragraph, line)

    @property
    def right(self) -> int:
        return self.left + self.width


_HEX_PREFIX = re.compile(r"[0O]x")


def _is_noise(word: OcrWord) -> bool:
    """Specks and ruling-line fragments: no letter or digit, or 1-2 characters read unsurely."""
    if not any(ch.isalnum() for ch in word.text):
        return word.confidence < NOISE_CONFIDENCE or len(word.text) == 1
    if len(word.text) == 1:
        return word.confidence < NOISE_CONFIDENCE_ONE_CHAR
    if ID_PREFIX_WORD.fullmatch(word.text) or _HEX_PREFIX.fullmatch(word.text):
        return False  # "ZG" for "ZIG", or "Ox" split from its digits, read unsurely: no speck
    return len(word.text) == 2 and word.confidence < NOISE_CONFIDENCE


# A bar right after a version word is the digit 1 (`Version | Revision 7` on a 150-dpi JPEG scan
# in Times): kept, not a speck, for ocrfix to repair with a note.
_VERSION_WORD = re.compile(r"(?:Version|Revision|Rev\.?|Issue|Build)", re.IGNORECASE)


def _number_after_version_word(words: list[OcrWord], index: int) -> bool:
    """A bar between version words, or last on its line after one: not a ruling line's remnant
    between a label and its value (`Hardware Version | 1.2`). Or a digit read fairly surely
    (`1` at 70%, below the one-character floor) standing close after a version word, as tall as
    it: the number of `Version 2 Revision 1` on a turned 200-dpi scan (DEVELOPMENT seed 41)."""
    word = words[index]
    if index == 0 or words[index - 1].line != word.line:
        return False
    before = words[index - 1]
    if word.text.isdigit():
        return (len(word.text) == 1 and word.confidence >= NOISE_CONFIDENCE
                and _VERSION_WORD.fullmatch(before.text) is not None
                and word.left - before.right <= before.height
                and word.height >= DIGIT_HEIGHT_SHARE * before.height)
    if word.text != "|":
        return False
    after = words[index + 1] if index + 1 < len(words) else None
    return _VERSION_WORD.fullmatch(before.text) is not None and (
        after is None or after.line != word.line or _VERSION_WORD.fullmatch(after.text) is not None)


def _is_junk_cell(cell: list[OcrWord]) -> bool:
    """A stamp or signature read as words: unsure, and no digit (IDs read unsurely have digits)."""
    mean = sum(w.confidence for w in cell) / len(cell)
    if mean >= JUNK_CELL_CONFIDENCE or any(ch.isdigit() for w in cell for ch in w.text):
        return False
    if _HEX_PREFIX.match(cell[0].text):  # `Ox EFA` at 2%: a hex value read badly, no stamp
        return False
    # a label read unsurely is still a label (`Model` at 12% beside a dotted leader, DEVELOPMENT
    # scan-poor seed 71): its value was otherwise taken as the line above's wrap
    return default_lexicon().is_only_labels(_cell_text(cell).strip(" :.")) is None


def _is_speck_cell(cell: list[OcrWord], left: list[OcrWord] | None) -> bool:
    """A lone 1-2 character cell far from the text is a speck or a signature stroke, unless it
    is a short value: it has a digit (`73`, `0B`, `v1`), or a label stands left of it. A lone
    word of 3 letters read unsurely is one too, even beside a label (measured: `fie` at 33%
    from the tint right of `MODEL`, whose value stood under it)."""
    word = cell[0]
    if len(cell) > 1 or len(word.text) > 3 or any(ch.isdigit() for ch in word.text):
        return False
    if len(word.text) == 3:
        return word.confidence < NOISE_CONFIDENCE
    if left is None:
        return True
    label = _cell_text(left)
    return not (label.endswith(":") or default_lexicon().is_only_labels(label))


def ocr_lines(words: list[OcrWord]) -> list[list[list[OcrWord]]]:
    """Lines top to bottom, each a list of cells (word groups split at wide gaps)."""
    grouped: dict[tuple[int, int, int], list[OcrWord]] = {}
    for index, word in enumerate(words):
        if not _is_noise(word) or _number_after_version_word(words, index):
            grouped.setdefault(word.line, []).append(word)
    lines = []
    for line_words in sorted(grouped.values(), key=lambda ws: min(w.top for w in ws)):
        line_words.sort(key=lambda w: w.left)
        height = _line_height(line_words)
        line_words = [w for w in line_words
                      if w.height >= SPECK_HEIGHT_SHARE * height or _tall_word(w)] or line_words
        cells: list[list[OcrWord]] = [[line_words[0]]]
        for word in line_words[1:]:
            split_id = ID_PREFIX_WORD.fullmatch(cells[-1][-1].text) and word.text[:1].isdigit()
            if word.left - cells[-1][-1].right > CELL_GAP_HEIGHTS * height and not split_id and (
                    not _label_goes_on(cells[-1], word)):
                cells.append([word])
            else:
                cells[-1].append(word)
        cells = [c for i, c in enumerate(cells)
                 if len(cells) == 1 or not _is_speck_cell(c, cells[i - 1] if i else None)]
        cells = [c for c in cells if len(cells) == 1 or not _is_junk_cell(c)] or cells[:1]
        if cells:  # a line of specks alone (two lone strokes far apart) is no line
            lines.append(cells)
    return _split_at_columns(lines)


COLUMN_ALIGN_HEIGHTS = 0.5  # word starts this close (in line heights) stand in one column
COLUMN_MIN_LINES = 3  # ...on this many lines at least, two of them a cell's first word
COLUMN_GAP_HEIGHTS = 0.7  # a gap this wide before a word at a column's start splits its cell


def _split_at_columns(lines: list[list[list[OcrWord]]]) -> list[list[list[OcrWord]]]:
    """Cells of a narrow table split where its columns start: a gap between columns may be
    no wider than CELL_GAP_HEIGHTS, so `Firmware / Software` ran into `Hardware` and `(Image
    Type` into `Release 5.84 (Stack`. Only under a header (a line naming two device fields or
    more) down to where the table ends: justified running text has wide gaps too. A column
    starts where the first words of cells on two lines or more, and of words after a gap on
    COLUMN_MIN_LINES lines in all, stand aligned; a word there after a gap wider than
    COLUMN_GAP_HEIGHTS starts a cell of its own."""
    heights = [_line_height([w for c in cells for w in c]) for cells in lines]
    out = list(lines)
    for first, end in _table_regions(lines, heights):
        region = range(first, end)
        starts: list[tuple[int, int, bool]] = []  # (left, line, a cell's first word)
        for number in region:
            for n, cell in enumerate(lines[number]):
                if n:
                    starts.append((cell[0].left, number, True))
                for before, word in zip(cell, cell[1:]):  # noqa: B905 (pairs)
                    if word.left - before.right > COLUMN_GAP_HEIGHTS * heights[number]:
                        starts.append((word.left, number, False))
        height = sorted(heights[n] for n in region)[len(region) // 2]
        columns = [left for left, _, first_word in starts if first_word and (
            len({ln for x, ln, _ in starts if abs(x - left) <= COLUMN_ALIGN_HEIGHTS * height})
            >= COLUMN_MIN_LINES) and len({ln for x, ln, f in starts if f and abs(x - left)
                                          <= COLUMN_ALIGN_HEIGHTS * height}) >= 2]
        if not columns:
            continue
        for number in region:
            split: list[list[OcrWord]] = []
            for cell in lines[number]:
                split.append([cell[0]])
                for before, word in zip(cell, cell[1:]):  # noqa: B905 (pairs)
                    if word.left - before.right > COLUMN_GAP_HEIGHTS * heights[number] and any(
                            abs(word.left - x) <= COLUMN_ALIGN_HEIGHTS * height for x in columns):
                        split.append([word])
                    else:
                        split[-1].append(word)
            out[number] = split
    return out


def _header_fields(texts: list[str], lexicon: Lexicon) -> set[str]:
    """The fields a header line names: its words labels one after another (`No. Manufacturer
    Model Firmware Software Hardware`), two words or half of them other columns' (`No.`, `Test
    Report`), none with a digit; else none (a sentence: `hardware version 1.2 and firmware`)."""
    fields: set[str] = set()
    unknown = 0
    n = 0
    while n < len(texts):
        hit = lexicon.label_at_start(" ".join(texts[n:]))
        if hit is None:
            if any(ch.isdigit() for ch in texts[n]):
                return set()  # a value: `hardware version 1.2 and firmware ...` is a sentence
            unknown += any(ch.isalnum() for ch in texts[n])
            n += 1
            continue
        fields.add(hit.field)
        n += max(len(hit.label.split()), 1)
    return fields if unknown <= max(2, len(texts) // 2) else set()


TABLE_END_GAP_HEIGHTS = 3.0  # a wider gap under a table's line ends it
WIDE_CELL_SHARE = 0.5  # ...as does a line of one cell this wide a share of the page's text


def _table_regions(lines: list[list[list[OcrWord]]], heights: list[int]) -> list[tuple[int, int]]:
    """(first, end) line ranges of tables: a header naming two device fields or more, or rows
    each led by a device field's label (devices as columns, two fields or more), and the lines
    under it to a wide gap or a line of running text (one cell, wide)."""
    lexicon = default_lexicon()
    words = [w for cells in lines for c in cells for w in c]
    if not words:
        return []
    width = max(w.right for w in words) - min(w.left for w in words)

    def row_label(cells: list[list[OcrWord]]) -> str | None:  # a transposed table's row
        hit = lexicon.label_at_start(_cell_text(cells[0])) if len(cells) >= 2 else None
        return hit.field if hit is not None and hit.field in DEVICE_FIELDS else None

    regions = []
    number = 0
    while number < len(lines):
        header = len(_header_fields([w.text for c in lines[number] for w in c], lexicon)
                     & set(DEVICE_FIELDS)) >= 2
        if not header and row_label(lines[number]) is None:
            number += 1
            continue
        end = number + 1
        while end < len(lines):
            cells = lines[end]
            above = lines[end - 1]
            gap = min(w.top for c in cells for w in c) - max(
                w.top + w.height for c in above for w in c)
            wide = len(cells) == 1 and cells[0][-1].right - cells[0][0].left > WIDE_CELL_SHARE * width
            if wide or gap > TABLE_END_GAP_HEIGHTS * heights[end]:
                break
            end += 1
        if header or len({row_label(cells) for cells in lines[number:end]} - {None}) >= 2:
            regions.append((number, end))
        number = end
    return regions


def _line_height(words: list[OcrWord]) -> int:
    """The median height of the line's words that have a capital or a digit: dotted leaders read
    as lower-case words (`canes`, `sepesnsas`) are no measure of it."""
    for keep in (lambda t: any(c.isupper() or c.isdigit() for c in t),
                 lambda t: any(c.isalnum() for c in t)):
        heights = sorted(w.height for w in words if keep(w.text))
        if heights:
            return heights[len(heights) // 2]
    return 20


def _tall_word(word: OcrWord) -> bool:
    """A word of 3 characters or more is text, however short its box, unless it is all
    lower-case letters: a dotted leader on a 150-dpi JPEG scan is read `canes` or `sees` at
    0-50%, in a box 3-4 px high on a line 16-19 px high (DEVELOPMENT scan-poor, seed 71)."""
    return len(word.text) > 2 and not (word.text.isalpha() and word.text.islower())


def _label_goes_on(cell: list[OcrWord], word: OcrWord) -> bool:
    """A short word alone and the word after it make one label (`FW` far from `Version:` on a
    turned 200-dpi scan in Times, DEVELOPMENT seed 71): one cell, or `FW` is dropped as a speck."""
    if len(cell) > 1 or len(cell[0].text) > SHORT_LABEL_WORD or not cell[0].text.isalpha():
        return False
    hit = default_lexicon().label_at_start(f"{cell[0].text} {word.text}")
    return hit is not None and len(hit.label.split()) > 1


def _cell_text(cell: list[OcrWord]) -> str:
    return " ".join(w.text for w in cell)


def ocr_tables(lines: list[list[list[OcrWord]]]) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Runs of consecutive multi-cell lines as tables, cells aligned to the widest row's columns.

    Ruled cells (label above value, label beside value, a header row over one row per model) come
    out of psm 6 as lines of cells; as tables they go through the same reader as pdfplumber's."""
    found = []
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and len(lines[end]) >= 2:
            end += 1
        if end - index >= 2:
            # a last row of one cell (label over value, value left empty beside it) still belongs
            tail = min(end + TABLE_TAIL_LINES, len(lines))
            while tail > end and any(len(cells) >= 2 for cells in lines[end:tail]):
                tail -= 1
            found.append(_aligned(lines[index:tail]))
            index = tail
        else:
            index = max(end, index + 1)
    return tuple(found)


def _aligned(rows: list[list[list[OcrWord]]]) -> tuple[tuple[str, ...], ...]:
    out = []
    for index, cells in enumerate(rows):
        # columns come from the row above or below with the most cells (a header row, usually)
        neighbours = rows[max(index - 1, 0) : index + 2]
        reference = max(neighbours, key=len)
        if len(cells) == len(reference):
            out.append(tuple(_cell_text(c) for c in cells))
            continue
        columns = [c[0].left for c in reference]
        texts = [""] * len(columns)
        for cell in cells:
            nearest = min(range(len(columns)), key=lambda k: abs(columns[k] - cell[0].left))
            texts[nearest] = f"{texts[nearest]} {_cell_text(cell)}".strip()
        out.append(tuple(texts))
    return tuple(out)


def _segment(cell: list[OcrWord], scale: float) -> Segment:
    """One OCR cell as a Segment in PDF points (top-left origin), with its mean confidence."""
    return Segment(
        _cell_text(cell),
        min(w.left for w in cell) * scale,
        min(w.top for w in cell) * scale,
        max(w.right for w in cell) * scale,
        max(w.top + w.height for w in cell) * scale,
        round(sum(w.confidence for w in cell) / len(cell), 1),
    )


def page_from_words(
    number: int, words: list[OcrWord], reason: str, dpi: int = OCR_DPI
) -> PageText:
    """An OCR page as the parser expects it: text lines (cells two spaces apart), tables, word
    confidences, and the cells as segments with boxes in PDF points."""
    lines = ocr_lines(words)
    scale = 72.0 / dpi
    segments = tuple(_segment(cell, scale) for cells in lines for cell in cells)
    text = "\n".join("  ".join(_cell_text(c) for c in cells) for cells in lines)
    kept = [w for cells in lines for c in cells for w in c]
    confidence = sum(w.confidence for w in kept) / len(kept) if kept else None
    return PageText(
        number, text, TextSource.OCR, reason,
        round(confidence, 1) if confidence is not None else None,
        tables=ocr_tables(lines),
        word_confidence=tuple((w.text, w.confidence) for w in kept),
        segments=segments,
        skew=line_slope(words),
    )


SKEW_MIN_WORDS = 3  # a line of this many words or more shows the page's slope
SKEW_MIN_SPAN = 0.2  # ...when it spans this share of the text's width
SKEW_MIN_LINES = 3
SKEW_NONE = 0.002  # below this slope (0.11 degrees) the page is read as it is
_DESCENDERS = frozenset("gjpqy,;()[]{}|")


def line_slope(words: list[OcrWord]) -> float:
    """The median slope of tesseract's long lines, fitted through its words' bottoms (words
    with descenders left out); 0.0 when too few lines show one or it is negligible."""
    if not words:
        return 0.0
    width = max(w.right for w in words) - min(w.left for w in words)
    by_line: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        if any(c.isalnum() for c in word.text) and not _DESCENDERS.intersection(word.text):
            by_line.setdefault(word.line, []).append(word)
    slopes = []
    for line in by_line.values():
        if len(line) < SKEW_MIN_WORDS:
            continue
        xs = [w.left + w.width / 2 for w in line]
        ys = [w.top + w.height for w in line]
        span = max(xs) - min(xs)
        if span < SKEW_MIN_SPAN * width:
            continue
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slopes.append(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                      / sum((x - mx) ** 2 for x in xs))
    if len(slopes) < SKEW_MIN_LINES:
        return 0.0
    slopes.sort()
    slope = slopes[len(slopes) // 2]
    return round(slope, 5) if abs(slope) >= SKEW_NONE else 0.0


SPARSE_SURE = 60.0  # words of a sparse re-read below this are left out (specks, leaders)
SPARSE_REPLACES = 40.0  # a first reading's segment under this gives way to sure sparse words


def with_sparse_words(page: PageText, words: list[OcrWord], dpi: int) -> PageText:
    """`page` with the words of a second, sparse-text reading (tesseract --psm 6 lost a whole
    line: `Cert. ID: ....... ZIG20SE0931` came out as `COrt`, or as `Cert IDS vcccsss...
    LIG2ZZSEI2AL` at 0-18%) that stand where the page has no text, or only text read under
    SPARSE_REPLACES: those segments give way to the sparse words over them. Each word's line is
    where it stands, not tesseract's block."""
    scale = 72.0 / dpi

    def box(s: Segment) -> tuple[float, float, float, float]:
        return (s.x0 / scale, s.top / scale, s.x1 / scale, s.bottom / scale)

    def over(w: OcrWord, b: tuple[float, float, float, float]) -> bool:
        return w.left < b[2] and w.right > b[0] and w.top < b[3] and w.top + w.height > b[1]

    sure_words = [w for w in words if w.confidence >= SPARSE_SURE
                  and any(c.isalnum() for c in w.text)]
    unsure = [s for s in page.segments if s.confidence is not None
              and s.confidence < SPARSE_REPLACES and any(over(w, box(s)) for w in sure_words)]
    kept = [s for s in page.segments if s not in unsure]
    new = [w for w in sure_words if not any(over(w, box(s)) for s in kept)]
    if not new:
        return page
    height = sorted(w.height for w in new)[len(new) // 2] or 20
    placed = [OcrWord(w.text, w.confidence, w.left, w.top, w.width, w.height,
                      (10_000 + round((w.top + w.height / 2) / height), 0, 0)) for w in new]
    lines = ocr_lines(placed)
    segments = tuple(_segment(cell, scale) for cells in lines for cell in cells)
    text = "\n".join("  ".join(_cell_text(c) for c in cells) for cells in lines)
    return dataclasses.replace(
        page, text=f"{page.text}\n{text}",
        segments=tuple(sorted((*kept, *segments), key=lambda s: (round(s.top), s.x0))),
        word_confidence=(*page.word_confidence,
                         *((w.text, w.confidence) for c in lines for cell in c for w in cell)))
