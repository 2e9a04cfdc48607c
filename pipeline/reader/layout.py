"""Fields of one page read from its segments (text runs with boxes), whatever the layout.

- **Labels** come from the lexicon; a segment that is only labels (of any language) is a label.
- **A value is bounded by its neighbours**: the rest of the label's own segment, else the next
  segment right of it on its line, else the first segment under it. Translations of the same
  label on the way are skipped; another field's label ends the search. A value may wrap onto
  lines directly under it, when nothing on those lines is labelled.
- **Tables by their header words**: a line of two or more labels over two or more lines of
  values is a table, one listing per row; cells are assigned by the header's columns, and a cell
  wrapped onto a further line is joined.
- Whatever no label claims is left for the prose reader.

Every value carries the segment boxes it came from and the rule that found it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import field as _field

import regex

from pipeline.models import DEVICE_FIELDS, Segment
from pipeline.reader.grammars import GRAMMARS
from pipeline.reader.lexicon import LabelHit, Lexicon, header_key, is_leader_junk, norm_word

SAME_LINE_OVERLAP = 0.5  # share of the shorter box's height two segments must share
WRAP_GAP_HEIGHTS = 1.25  # a wrapped line starts within this many line heights under the last
# (1.0 lost `5` under `Version 3 Revision`: 7.5 pt under a 7.1 pt line, its box a digit's)
WRAP_ALIGN_PT = 4.0  # ...and within this many points of its left edge
BELOW_GAP_HEIGHTS = 2.6  # a value under its label starts within this many label heights
COLUMN_SLACK_PT = 10.0  # a cell may start this far left of its header word
TABLE_END_GAP_HEIGHTS = 3.5  # a larger gap between rows ends a table
SPARSE_WRAP_GAP_HEIGHTS = 1.8  # a line of few cells this close under a row is the row's rest


@dataclass
class Value:
    """A value found on a page: text, the segments it spans, and what found it."""

    field: str
    text: str
    segments: list[Segment]
    rule: str
    row: int | None = None  # table row (0-based) for values read from a multi-row table
    table: int | None = None
    notes: list[str] = _field(default_factory=list)  # how the value was read, when rewritten
    device: int | None = None  # prose naming several devices: which one (reader/prose.py)
    at: int | None = None  # prose values: where the value starts in the page's prose text

    def bbox(self) -> tuple[float, float, float, float]:
        return (min(s.x0 for s in self.segments), min(s.top for s in self.segments),
                max(s.x1 for s in self.segments), max(s.bottom for s in self.segments))

    def confidence(self) -> float | None:
        known = [s.confidence for s in self.segments if s.confidence is not None]
        return round(sum(known) / len(known), 1) if known else None


@dataclass
class PageRead:
    values: list[Value] = field(default_factory=list)  # label and table values, reading order
    leftover: list[list[Segment]] = field(default_factory=list)  # lines no label claimed
    tables: int = 0  # multi-row tables found


@dataclass
class _Seg:
    seg: Segment
    line: int
    hit: LabelHit | None = None
    label_only: str | None = None  # field, when the segment is nothing but labels
    used: bool = False
    rest: Segment | None = None  # what follows a value taken as the first clause: for prose


def lines_of(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Segments grouped into lines by vertical overlap, top to bottom, each left to right."""
    lines: list[list[Segment]] = []
    for seg in sorted(segments, key=lambda s: (s.top, s.x0)):
        for line in reversed(lines[-3:]):
            ref = line[0]
            overlap = min(ref.bottom, seg.bottom) - max(ref.top, seg.top)
            if overlap >= SAME_LINE_OVERLAP * min(ref.height, seg.height, 50.0):
                line.append(seg)
                break
        else:
            lines.append([seg])
    for line in lines:
        line.sort(key=lambda s: s.x0)
    return lines


def _is_leader(text: str) -> bool:
    return bool(text) and all(ch in "._·…-–— " for ch in text)


# A footnote's marker drawn as a run of its own (`*`, `¹`, `†`, `(a)` raised beside a value):
# no value of any field, and it would stand between a value and its wrapped line
_FOOTNOTE_MARK = regex.compile(r"[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]{1,3}|\([a-z]\)")
_TRAILING_MARK = regex.compile(r"(?<=\S)[*†‡¹²³⁴⁵⁶⁷⁸⁹⁰]{1,3}$")  # glued on: `v158¹`, `1.7*`


def read_page(segments: Sequence[Segment], lexicon: Lexicon) -> PageRead:
    segments = [s for s in segments if not _FOOTNOTE_MARK.fullmatch(s.text.strip())]
    lines = lines_of(segments)
    read = _read_lines(lines, lexicon)
    cells = _centred_cells(lines)
    if cells is None:
        return read
    # A table of cells centred in their rows: its lines interleave (a cell of two lines beside
    # one of three), so read line by line they mix cells. They are read again with each row's
    # cells as one line, and that read is taken when it finds devices' values in as many
    # tables at least.
    blocks, moved = cells
    again = _read_lines(lines_of(blocks), lexicon)
    if not _table_values(again) or again.tables < read.tables:
        return read
    for value in again.values:
        value.segments = [m for seg in value.segments for m in _on_page(seg, moved)]
    again.leftover = [[m for seg in line for m in _on_page(seg, moved)] for line in again.leftover]
    return again


INTERLEAVED_PITCH = 1.0  # lines starting closer than a line height apart interleave
INTERLEAVED_LINES = 3  # ...in a run of this many lines at least: cells centred in a row


_Moved = dict[int, tuple[Segment, list[Segment], float]]  # new segment -> it, its lines, shift


def _centred_cells(lines: list[list[Segment]]) -> tuple[list[Segment], _Moved] | None:
    """The page's segments with each row of centred cells made one line: in a run of
    interleaved lines, a segment and the one close under it that it overlaps are one cell's
    lines (`Gas Smart` / `Metering` / `Equipment` beside `Manufacturer` / `Code 0xA068` set half
    a line lower). Each cell becomes one segment with its lines' text in order, all the run's on
    one line at its top, and what stands below moves up by the height the run lost, so the gaps
    between rows stay as printed. None when the page has no such run. Also, by each new
    segment's id: it, the segments on the page it stands for, and how far it moved up."""
    runs: list[list[list[Segment]]] = []
    for above, below in itertools.pairwise(lines):
        # closer than a line's height, in columns apart (lines of one column are a line apart);
        # the pitch first, as most pages have no such lines
        height = max(s.height for s in (*above, *below))
        if below[0].top - above[0].top < INTERLEAVED_PITCH * height and not any(
                a.x0 < b.x1 and b.x0 < a.x1 for a in above for b in below):
            if runs and runs[-1][-1] is above:
                runs[-1].append(below)
            else:
                runs.append([above, below])
    runs = _joined_runs([_with_outer_lines(run, lines) for run in runs
                         if len(run) >= INTERLEAVED_LINES], lines)
    if not runs:
        return None
    starts = {id(run[0]): run for run in runs}
    inside = {id(line) for run in runs for line in run}
    out: list[Segment] = []
    moved: _Moved = {}
    shift = 0.0

    def add(seg: Segment, lines: list[Segment], by: float) -> None:
        out.append(seg)
        moved[id(seg)] = (seg, lines, by)

    for line in lines:
        if id(line) in starts:
            run = starts[id(line)]
            segs = sorted((s for ln in run for s in ln), key=lambda s: (s.top, s.x0))
            height = sorted(s.height for s in segs)[len(segs) // 2]
            top = min(s.top for s in segs)
            for cell in _cells_of(segs):
                add(Segment(" ".join(s.text.strip() for s in cell), min(s.x0 for s in cell),
                            top - shift, max(s.x1 for s in cell), top - shift + height,
                            cell[0].confidence, cut=len(cell) > 1), cell, shift)
            shift += max(s.bottom for s in segs) - top - height
        elif id(line) not in inside:
            for seg in line:
                add(dataclasses.replace(seg, top=seg.top - shift, bottom=seg.bottom - shift),
                    [seg], shift)
    return out, moved


def _with_outer_lines(run: list[list[Segment]], lines: list[list[Segment]]
                      ) -> list[list[Segment]]:
    """A run and the lines just above and below it that go on its cells: the tallest cell's
    first and last lines stand a full line from the others (`Nexus` over `CH-2`, the run
    starting with `CH-2` beside the middle of `Ostara Meters` / `B.V.`). A line goes on a cell
    when it stands at the pitch of the cells' own lines over (or under) one it overlaps."""
    segs = [s for line in run for s in line]
    steps = sorted(b.top - a.top for b in segs for a in segs if a.x0 < b.x1 and b.x0 < a.x1
                   and a.top < b.top and not any(c.x0 < b.x1 and b.x0 < c.x1
                                                 and a.top < c.top < b.top for c in segs))
    if not steps:
        return run
    pitch = steps[len(steps) // 2]

    def goes_on(line: list[Segment], edge: list[list[Segment]], sign: float) -> bool:
        near = [s for ln in edge for s in ln]
        return all(any(o.x0 < seg.x1 and seg.x0 < o.x1 and abs(sign * (o.top - seg.top) - pitch)
                       <= CELL_PITCH_SLACK * pitch for o in near) for seg in line)

    index = next(n for n, line in enumerate(lines) if line is run[0])
    while index > 0 and goes_on(lines[index - 1], run[:2], 1.0):
        index -= 1
        run = [lines[index], *run]
    index = next(n for n, line in enumerate(lines) if line is run[-1])
    while index + 1 < len(lines) and goes_on(lines[index + 1], run[-2:], -1.0):
        index += 1
        run = [*run, lines[index]]
    return run


def _joined_runs(runs: list[list[list[Segment]]], lines: list[list[Segment]]
                 ) -> list[list[list[Segment]]]:
    """Runs that share lines once grown (one row's lines, broken where two of them stood a
    little further apart) are one run."""
    place = {id(line): n for n, line in enumerate(lines)}
    out: list[list[list[Segment]]] = []
    for run in runs:
        if out and place[id(run[0])] <= place[id(out[-1][-1])]:
            out[-1] = [*out[-1], *(ln for ln in run if place[id(ln)] > place[id(out[-1][-1])])]
        else:
            out.append(run)
    return out


CELL_PITCH_SLACK = 0.15  # a cell's lines stand this share of their pitch from it at most


def _cells_of(segs: list[Segment]) -> list[list[Segment]]:
    """A run's segments, top to bottom, grouped into cells: each goes under the cell whose
    last line it overlaps and stands close under."""
    cells: list[list[Segment]] = []
    height = max(s.height for s in segs)  # the run's tallest box: `Name` is lower than `(D6:B1)`
    for seg in segs:
        cell = next((c for c in reversed(cells) if c[-1].x0 < seg.x1 and seg.x0 < c[-1].x1
                     and -0.5 * height < seg.top - c[-1].bottom < INTERLEAVED_PITCH * height),
                    None)
        if cell is None:
            cells.append([seg])
        else:
            cell.append(seg)
    return cells


def _on_page(seg: Segment, moved: _Moved) -> list[Segment]:
    """The segments on the page a read segment stands for: a cell's lines, or the segment
    moved back; for a part of one (`part_of`), the lines under it, or the part moved back."""
    if id(seg) in moved:
        return moved[id(seg)][1]
    for new, lines, by in moved.values():
        if new.top == seg.top and new.x0 <= seg.x0 and seg.x1 <= new.x1 + 0.5:
            if len(lines) > 1:
                return [s for s in lines if s.x0 < seg.x1 and seg.x0 < s.x1] or lines
            return [dataclasses.replace(seg, top=seg.top + by, bottom=seg.bottom + by)]
    return [seg]


def _table_values(read: PageRead) -> int:
    return sum(v.table is not None and v.field in DEVICE_FIELDS for v in read.values)


def _read_lines(lines: list[list[Segment]], lexicon: Lexicon) -> PageRead:
    items: list[list[_Seg]] = []
    for number, line in enumerate(lines):
        row = []
        for seg in line:
            item = _Seg(seg, number)
            if not _is_leader(seg.text):
                item.hit = _accepted_label(seg.text, lexicon)
                if item.hit is not None and not seg.text[item.hit.value_start :].strip(" :.-/|"):
                    item.label_only = item.hit.field
            row.append(item)
        items.append(row)
    out = PageRead()
    out.tables = _read_tables(items, lexicon, out.values)
    for row in items:
        for item in row:
            if item.hit is not None and not item.used:
                value = _value_for(item, items, lexicon)
                item.used = True
                if value is not None:
                    out.values.append(value)
    out.values.sort(key=lambda v: (v.segments[0].top, v.segments[0].x0))
    out.leftover = [[i.seg for i in row if not i.used] + [i.rest for i in row if i.used and i.rest]
                    for row in items]
    out.leftover = [line for line in out.leftover if line]
    return out


def _accepted_label(text: str, lexicon: Lexicon) -> LabelHit | None:
    """A label at the start of a segment counts when something marks it as one: a separator
    (`:`, leaders, a slash to its translation), nothing after it, or a value of the field's
    shape after it (`Software Version 0B:84:2F:C5`). `Model numbers are ...` is prose."""
    if text.lstrip().startswith(("(", "[")):
        return None  # '(Image Type' is a wrapped value going on, not a label
    hit = lexicon.label_at_start(text)
    if hit is None:
        return None
    if hit.label.lstrip()[:1].islower() and not hit.separated:
        return None  # `manufacturer code is 10:61, ...` starting a line of a letter: its prose
    rest = text[hit.value_start :].strip()
    if not rest or (hit.separated and (len(hit.label.split()) > 1 or _colon_after(text, hit))):
        return hit
    several_words = len(hit.label.split()) > 1
    if several_words and (rest[0].isupper() or rest[0].isdigit()) and lexicon.fits(
        hit.field, _clean(rest)
    ):
        return hit
    bare_noun = norm_word(hit.label) in lexicon.layout.bare_certificate_labels
    if hit.field == "certificate_id" and not bare_noun and (
            lexicon.fits(hit.field, _clean(rest.split()[0]))):
        return hit  # 'Zertifikatsnummer ZSE-20-88979 — Ausstellungsdatum ...': an ID's shape
    return None


def _colon_after(text: str, hit: LabelHit) -> bool:
    """A one-word label (`Type`, `Product`) needs a colon or leaders after it before a value on
    the same run: `Type 69:B6)` wrapped under a model name is no label."""
    between = text[len(hit.label) : hit.value_start]
    return any(ch in between for ch in ":.…/") or hit.label.endswith((":", "."))


def _leader_junk(text: str, start: int) -> int:
    """Where a value starts once the OCR'd leaders after `start` are passed (lexicon's
    is_leader_junk)."""
    words = list(_WORDS.finditer(text, start))
    for n, word in enumerate(words):
        if not is_leader_junk(word.group(), n == len(words) - 1):
            begin = word.start()
            while begin < word.end() - 1 and text[begin] in _GLUED_JUNK:
                begin += 1  # what is left of a leader painted out, glued on: '—_ZIG20876SE3104'
            return begin
    return len(text) if words else start


_WORDS = regex.compile(r"\S+")
_GLUED_JUNK = frozenset(".·…_:—–~")  # no value of any field starts with one


def _clean(text: str) -> str:
    # no value starts with `_`, `~` or `=`: OCR's reading of a rule's end or a speck before it
    # (`_NM-3000`, `~=Product` on JPEG scans)
    return _TRAILING_MARK.sub("", " ".join(text.split()).strip(" :;,").lstrip("_~=")).rstrip()


# --- label and value --------------------------------------------------------------------------


def _value_for(item: _Seg, items: list[list[_Seg]], lexicon: Lexicon) -> Value | None:
    assert item.hit is not None
    name = item.hit.field
    rule = f"label {item.hit.label.strip(' :.')!r} (lexicon {name})"
    start = _leader_junk(item.seg.text, item.hit.value_start)
    rest = _clean(item.seg.text[start:])
    if rest and not item.hit.separated and lexicon.layout.sentence_word.search(rest):
        # No colon after the label, and the text goes on as a sentence ('software release 2.66
        # on hardware 1.3 for testing'): the value is what the field's grammar reads, and the
        # rest of the sentence is left to prose.
        return _grammar_value(item, rule)
    if rest and (both := _up_to_next_label(item, start, lexicon, rule, strict=True)):
        return both  # `Hardware Version 1.12 Firmware Version 0x1BED28C2` on one line
    if rest:
        part = part_of(item.seg, start)
        value = _with_wraps(Value(name, rest, [part], rule), item, items, lexicon, label=item)
        if lexicon.fits(name, value.text):
            return value
        # A label in running text: the value is its first clause ('Certificate No.
        # ZIG22SE5350, issued on 04/02/2022.' gives ZIG22SE5350), when that has the shape.
        clause = _CLAUSE_END.split(item.seg.text[start:], maxsplit=1)[0]
        if _clean(clause) != rest and lexicon.fits(name, _clean(clause)):
            end = start + len(clause)
            if item.seg.text[end:].strip(" ,;."):
                item.rest = part_of(item.seg, end)
            return Value(name, _clean(clause), [part_of(item.seg, start, end)],
                         f"{rule}, its first clause")
        if (bounded := _up_to_next_label(item, start, lexicon, rule)) is not None:
            return bounded
        if lexicon.layout.sentence_word.search(rest) and (in_sentence := _grammar_value(item, rule)):
            # 'Certificate of Conformity No. NTH-ZSE-0093 covers the following device from':
            # a separated label in a sentence; the value by its grammar, the rest to prose
            return in_sentence
    for finder, where in ((_right_of, "right of"), (_below, "under")):
        found = finder(item, items, lexicon)
        if found is None:
            continue
        candidate, skipped = found
        if finder is _right_of and _box_label_beside(item, candidate, items):
            continue
        junk = _leader_junk(candidate.seg.text, 0)
        text = _clean(candidate.seg.text[junk:])
        value = _with_wraps(Value(name, text, [part_of(candidate.seg, junk)],
                                  f"{rule}, value {where} it"),
                            candidate, items, lexicon, label=item)
        brackets = _brackets_after(candidate, items) if len(value.segments) == 1 else []
        if brackets and lexicon.fits(name, joined := " ".join(
                [value.text, *(_clean(b.seg.text) for b in brackets)])):
            value.text = joined
            value.segments += [b.seg for b in brackets]
            skipped += brackets
        if lexicon.fits(name, value.text):
            for other in (candidate, *skipped):
                other.used = True
            return value
    return None


def _up_to_next_label(item: _Seg, start: int, lexicon: Lexicon, rule: str,
                      strict: bool = False) -> Value | None:
    """The value up to another field's label in the same run of text, when that has the
    field's shape: `Zertifikatsnummer ZSE-20-88979 — Ausstellungsdatum 6. August 2020` gives
    the ID; what follows the label is left for the prose reader. `strict`: only a label of
    several words or with its separator, followed by a value of its own field's shape (a
    value that merely holds a label's word, `Acme Model Works Ltd`, is not cut)."""
    assert item.hit is not None
    text = item.seg.text
    for word in _WORDS.finditer(text, start):
        if word.start() == start:
            continue
        hit = lexicon.label_at_start(text[word.start():])
        if hit is None or hit.field == item.hit.field:
            continue
        if strict and not ((hit.separated or len(hit.label.split()) > 1) and lexicon.fits(
                hit.field, _clean(text[word.start() + hit.value_start:]))):
            continue
        value = _clean(text[start : word.start()].rstrip(" —–-|/"))
        if not value or not lexicon.fits(item.hit.field, value):
            return None
        item.rest = part_of(item.seg, word.start())
        return Value(item.hit.field, value, [part_of(item.seg, start, word.start())],
                     f"{rule}, up to the label {hit.label.strip(' :.')!r}")
    return None


_CLAUSE_END = regex.compile(r"[,;](?=\s)|\.(?=\s|$)")


def _grammar_value(item: _Seg, rule: str) -> Value | None:
    """The value a label in a sentence introduces, read by its field's grammar."""
    assert item.hit is not None
    name, text = item.hit.field, item.seg.text
    grammar = GRAMMARS.get(name)
    start = item.hit.value_start
    match = grammar.match(text, start) if grammar is not None else None
    if match is None:
        item.rest = part_of(item.seg, start)
        return None
    end = match.end()
    if text[end:].strip(" ,;."):
        item.rest = part_of(item.seg, end)
    return Value(name, _clean(match.group()), [part_of(item.seg, start, end)],
                 f"{rule}, in a sentence: {name} grammar")


def part_of(seg: Segment, start: int, end: int | None = None) -> Segment:
    """The part of a segment from character `start` (to `end`), its box cut in proportion."""
    end = len(seg.text) if end is None else end
    if start <= 0 and end >= len(seg.text):
        return seg
    width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
    return Segment(seg.text[start:end].strip(), seg.x0 + width * start, seg.top,
                   seg.x0 + width * end, seg.bottom, seg.confidence, cut=True)


Found = tuple[_Seg, list[_Seg]]  # the value's segment, and translations of the label skipped


def _right_of(item: _Seg, items: list[list[_Seg]], _lexicon: Lexicon) -> Found | None:
    skipped = []
    for other in items[item.line]:
        if other is item or other.seg.x0 < item.seg.x1 - 2 or _is_leader(other.seg.text):
            continue
        if other.label_only is not None and item.hit is not None:
            if other.label_only == item.hit.field:
                skipped.append(other)  # the same label in another language, beside it
                continue
            return None
        if other.used or (other.hit is not None and not _own_label_opens_value(other, item)):
            return None
        return other, skipped
    return None


def _box_label_beside(label: _Seg, other: _Seg, items: list[list[_Seg]]) -> bool:
    """Boxes side by side, each a capitalised label over its value (`MANUFACTURER` and
    `TEST SPECIFICATION`, values under both): the text right of a label is the next box's
    label, written as this one is, when a value stands under each."""
    text = other.seg.text.strip()
    if not (label.seg.text.isupper() and text.isupper()) or any(ch.isdigit() for ch in text):
        return False
    if label.line + 1 >= len(items):
        return False
    under = items[label.line + 1]
    return any(abs(o.seg.x0 - other.seg.x0) <= WRAP_ALIGN_PT for o in under) and any(
        abs(o.seg.x0 - label.seg.x0) <= WRAP_ALIGN_PT for o in under)


def _own_label_opens_value(other: _Seg, label: _Seg) -> bool:
    """`Hardware version .....  Hardware Build 6.9`: beside a label, a value that opens with a
    label of the same field is the value, not a label of its own."""
    assert other.hit is not None
    return label.hit is not None and other.hit.field == label.hit.field and (
        other.label_only is None)


def _below(item: _Seg, items: list[list[_Seg]], lexicon: Lexicon) -> Found | None:
    """The first segment under the label that overlaps it horizontally, skipping translations
    of the label (alone on their line); None at another field's label or past a gap."""
    last = item.seg
    skipped = []
    for row in items[item.line + 1 :]:
        under = [o for o in row if o.seg.x0 < item.seg.x1 + 5 and o.seg.x1 > item.seg.x0 - 5]
        if not under:
            if row and row[0].seg.top - last.bottom > BELOW_GAP_HEIGHTS * item.seg.height:
                return None
            continue
        # a segment starting under the label before one that only reaches under it from the
        # left (a long address line beside the label's wrapped 'No.')
        other = next((o for o in under if o.seg.x0 >= item.seg.x0 - 5), under[0])
        if other.seg.top - last.bottom > BELOW_GAP_HEIGHTS * max(item.seg.height, 6.0):
            return None
        if item.hit is not None and other.hit is None and (
                last is item.seg and item.label_only is not None
                and other.seg.top - last.bottom <= WRAP_GAP_HEIGHTS * item.seg.height
                and lexicon.is_only_labels(f"{item.seg.text.strip()} {other.seg.text.strip()}")
                == item.hit.field):
            last = other.seg  # 'Certificate' over 'ID' (or 'No.'): the label's own wrap
            skipped.append(other)
            continue
        if other.label_only is not None and item.hit is not None:
            if other.label_only != item.hit.field or len(row) > len(under):
                return None  # another field's label, or the same field's next row
            last = other.seg
            skipped.append(other)
            continue
        if other.used or _is_leader(other.seg.text) or (
                other.hit is not None and not _own_label_opens_value(other, item)):
            return None
        return other, skipped
    return None


_LEADER_END = regex.compile(r"\w\s*[.…·_]{3,}\s*$")  # a label's dotted leader to its value


def _own_label_goes_on(item: _Seg, value: Value) -> bool:
    """A wrapped line that opens with a label of the value's own field and goes on with more
    (`QUH-407-2 Consumer Access Bridge,` over `Image Type 48C5`): the rest of the value."""
    assert item.hit is not None
    return item.hit.field == value.field and item.label_only is None and (
        value.text.endswith(",") or value.segments[-1].text.rstrip().endswith(","))


def _brackets_after(value: _Seg, items: list[list[_Seg]]) -> list[_Seg]:
    """Bracketed text right of a value on its line, past a gap: `PPM-986   (Image Type 8D:93)`
    is one value (a bracket never starts a field of its own)."""
    found = []
    for other in items[value.line]:
        if other.seg.x0 < value.seg.x1 - 2 or other is value:
            continue
        if not other.seg.text.lstrip().startswith("(") or other.hit is not None or (
                other.label_only is not None or other.used):
            break
        found.append(other)
    return found


def _with_wraps(value: Value, start: _Seg, items: list[list[_Seg]], lexicon: Lexicon,
                label: _Seg | None = None) -> Value:
    """Lines directly under the value, aligned with it, with no label on their line, nor any
    text in the label's own column left of them (`Tested against` and its value under a
    firmware version: a label the lexicon does not know)."""
    last = value.segments[-1]
    label_x0 = None if label is None else label.seg.x0
    # a label ending in a slash goes on under itself in another language
    translated = label is not None and label.seg.text.rstrip().endswith("/")
    for row in items[start.line + 1 :]:
        below = [o for o in row if abs(o.seg.x0 - last.x0) <= WRAP_ALIGN_PT and not o.used]
        if not below and (back := _back_under_label(value, row, label_x0)) is not None:
            below = [back]  # `Merlin PM-12 (Image Type` / `0x18C4)` wrapped back under `Modelo:`
            label_x0 = None
        if not below:
            break
        nxt = below[0]
        # the label's translation wrapped under it ('Manufacturer /' over 'Fabricant'), left
        # of the value's wrapped line: the label going on, not another one
        wrapped_label = [o for o in row if translated and o.label_only == value.field
                         and o.seg.x1 <= nxt.seg.x0 + 1 and not o.used]
        translated = False  # (only on the line under the label)
        if any(o.hit is not None and o not in wrapped_label
               and not (o is nxt and _own_label_goes_on(o, value)) for o in row):
            break
        if nxt.seg.top - last.bottom > WRAP_GAP_HEIGHTS * max(last.height, nxt.seg.height):
            break
        if label_x0 is not None and any(
                abs(o.seg.x0 - label_x0) <= WRAP_ALIGN_PT and o.seg.x1 <= nxt.seg.x0 + 1
                and o not in wrapped_label for o in row):
            break
        if any(o.seg.x1 <= nxt.seg.x0 + 1 and (o.seg.text.rstrip().endswith(":")
                                                or _LEADER_END.search(o.seg.text)) for o in row):
            break  # 'Test Report No.: TR-21850', 'Test specification .....  SMETS2 HAN':
            # a label the lexicon does not know, and its value
        joined = _joined(value.field, value.text, _clean(nxt.seg.text), last.text)
        if not lexicon.fits(value.field, joined):
            break
        nxt.used = True
        for wrapped in wrapped_label:
            wrapped.used = True
        value.text = joined
        value.segments.append(nxt.seg)
        last = nxt.seg
    return value


def _back_under_label(value: Value, row: list[_Seg], label_x0: float | None) -> _Seg | None:
    """A value's bracket left open, closed by the next line, which starts under the label (a
    narrow list whose long values wrap back to the margin): that line, else None."""
    if label_x0 is None or value.text.count("(") <= value.text.count(")"):
        return None
    line = [o for o in row if not o.used]
    if not line or line[0].hit is not None or abs(line[0].seg.x0 - label_x0) > WRAP_ALIGN_PT:
        return None
    text = line[0].seg.text
    return line[0] if text.count(")") > text.count("(") else None


# --- tables -----------------------------------------------------------------------------------


def _read_tables(items: list[list[_Seg]], lexicon: Lexicon, out: list[Value]) -> int:
    tables = 0
    index = 0
    while index < len(items):
        header = _with_cells_above(items, index)
        _labels_wrapped_under(header, items[index + 1] if index + 1 < len(items) else [],
                              lexicon)
        under = _header_wrapped_under(header, items, index, lexicon)
        _same_field_columns(header, lexicon)
        labels = [i.label_only for i in header]
        devices = [f for f in labels if f in DEVICE_FIELDS]
        unnamed = [i for i in header if i.label_only is None]
        if len(header) >= 2 and len(set(devices)) >= 2 and (not unnamed or all(
                header_key(i.seg.text) in lexicon.layout.versions_headers for i in unnamed) or (
                len(unnamed) == 1 and len(header) >= 4 and _row_number_header(unnamed[0])) or (
                len(set(devices)) >= OTHER_COLUMNS_DEVICE_LABELS
                and all(_other_column_header(i) for i in unnamed))):
            rows, end, body = _table_rows(header, items, index + 1 + len({i.line for i in under}),
                                          lexicon)
            body = [*under, *body]
            if rows and max(len(r) for r in rows) >= 3:  # a lone cell is a heading: 'Device 2'
                rows = [r for r in rows if len(r) > 1]
            # One row under a header is a table only with three columns or more: two labels
            # side by side over their values are a label-above layout in two columns.
            if len(rows) >= 2 or (rows and len(header) >= 3):
                for i in (*header, *body):
                    i.used = True
                for number, cells in enumerate(rows):
                    _with_image_type(cells)
                    for value in cells.values():
                        if not value.field:
                            continue  # the column of a header the lexicon does not know
                        value.row, value.table = number, tables
                        out.append(value)
                tables += 1
                index = end
                continue
        if (end := _read_transposed(items, index, tables, out)) > index:
            tables += 1
            index = end
            continue
        index += 1
    return tables


TRANSPOSED_MIN_COLUMNS = 2  # devices side by side: a label and two values or more on its line
TRANSPOSED_MIN_ROWS = 3  # ...on three lines or more


def _read_transposed(items: list[list[_Seg]], start: int, table: int, out: list[Value]) -> int:
    """Devices as columns: lines that each start with a label (`Manufacturer`, `Model`, ...),
    and hold one value under each device's column right of it, wrapped lines going on under
    their cells. Each column is a listing (its `row`). Returns the index after the table, or
    `start` when none starts here."""
    first = items[start]
    if not first or first[0].label_only is None or len(first) < 1 + TRANSPOSED_MIN_COLUMNS:
        return start
    if any(i.hit is not None for i in first[1:]):
        return start  # labels side by side: a two-column form
    columns = [i.seg.x0 for i in first[1:] if not _is_leader(i.seg.text)]
    if len(columns) < TRANSPOSED_MIN_COLUMNS:
        return start
    rows: list[tuple[str, list[_Seg]]] = []
    index = start
    while index < len(items):
        line = items[index]
        head = line[0]
        values = [i for i in (line[1:] if head.label_only is not None else line)
                  if not _is_leader(i.seg.text)]  # dotted leaders are no device's column
        # the row's field: its label's, or for a wrapped line the row's above ('Type 33:CA)'
        # and 'Image Type 2A:46' wrapped under models are values, not labels)
        field = head.label_only if head.label_only is not None else (
            rows[-1][0] if rows else None)
        if any(i.hit is not None and not (  # 'Hardware Build 8.1' in the hardware row: a value
                i.hit.field == field and i.label_only is None) for i in values) or not all(
                any(abs(i.seg.x0 - x) <= COLUMN_SLACK_PT for x in columns) for i in values):
            break
        if head.label_only is not None:
            rows.append((head.label_only, [head, *values]))
        elif rows and values:  # a wrapped line under the cells of the row above
            rows[-1][1].extend(values)
        else:
            break
        index += 1
    fields = [name for name, _ in rows]
    if len({f for f in fields if f in DEVICE_FIELDS}) < 2 or len(set(fields)) != len(fields):
        return start
    full = [cells for _, cells in rows if len({round(i.seg.x0) for i in cells[1:]}) >= 2]
    if len(full) < TRANSPOSED_MIN_ROWS or any(
            i.seg.text.lstrip().startswith(("(", "[")) for _, cells in rows for i in cells[1:]
            if i.line == cells[0].line):
        return start  # a value and a bracket past a gap ('PPM-986   (Image Type 8D:93)')
    for name, cells in rows:
        label = cells[0]
        rule = f"label {label.seg.text.strip(' :.')!r} (lexicon {name}), column of devices"
        by_column: dict[int, Value] = {}
        for item in cells[1:]:
            column = min(range(len(columns)), key=lambda c: abs(columns[c] - item.seg.x0))
            text = _clean(item.seg.text)
            if column in by_column:
                value = by_column[column]
                value.text = _joined(name, value.text, text, value.segments[-1].text)
                value.segments.append(item.seg)
            else:
                by_column[column] = Value(name, text, [item.seg], rule, row=column, table=table)
        for item in cells:
            item.used = True
        out.extend(by_column[c] for c in sorted(by_column))
    return index


# A header with labels of three device fields is a table's, whatever else stands in it: its
# other columns (`ZigBee Stack`, `Result`, `Item`) are kept apart and not read.
OTHER_COLUMNS_DEVICE_LABELS = 3
OTHER_COLUMN_WORDS = 3


def _other_column_header(item: _Seg) -> bool:
    text = item.seg.text.strip()
    return item.hit is None and len(text.split()) <= OTHER_COLUMN_WORDS and not any(
        ch.isdigit() for ch in text)


def _remark_word(item: _Seg, columns: Sequence[tuple[float, str]]) -> bool:
    """A label's word in lower case, without a colon, in a column no field owns: a remark
    (`new` / `firmware` under `Remarks`), not a label ending the table."""
    text = item.seg.text.strip()
    return _column_of(item.seg, columns) == "" and text[:1].islower() and ":" not in text


def _with_cells_above(items: list[list[_Seg]], index: int) -> list[_Seg]:
    """The line's cells, and the labels just above it in columns it leaves empty: a header of
    two rows whose `Producer` is centred across both, so it stands half a line above `Model`,
    `Hardware` and the other labels of the lower row (and `Remarks` beyond its last cell).
    Only when the line holds two labels."""
    line = items[index]
    if index == 0 or sum(i.label_only is not None for i in line) < 2:
        return line
    height = max(i.seg.height for i in line)
    top = min(i.seg.top for i in line)
    right = max(o.seg.x1 for o in line)
    above = [i for i in items[index - 1] if not i.used and top - i.seg.bottom < height
             and not any(i.seg.x0 < o.seg.x1 and o.seg.x0 < i.seg.x1 for o in line)
             and (i.label_only is not None or (  # or a column no field owns, after the last
                 _other_column_header(i) and i.seg.x0 > right))]  # (`No.` left of them is
    # the row numbers', read as such without a column)
    if not above:
        return line
    return sorted([*line, *above], key=lambda i: i.seg.x0)


HEADER_WRAP_LINES = 3  # lines a header cell may wrap onto: `Physical` / `Device` / `Type`
# (a bilingual header over four lines: `Wersja` / `sprzętu /` / `Hardware` / `version`)


def _header_wrapped_under(header: list[_Seg], items: list[list[_Seg]], index: int,
                          lexicon: Lexicon) -> list[_Seg]:
    """A header whose cells wrap onto the lines under it (`Model Name /` over `Number`, `Device`
    over `Type`, `Physical` over `Device` over `Type`): each cell of those lines, close under a
    header cell and starting at its left edge, is read with it; the merged cells take the field
    their whole text names. Taken, over as many lines (up to HEADER_WRAP_LINES) as it can be,
    when no label is lost by it, a cell at least becomes one, and the merged header names more
    fields than the first line alone. Returns those lines' cells (or [])."""
    if len(header) < 3 or index + 1 >= len(items):
        return []
    height = max(i.seg.height for i in header)
    texts = {n: i.seg.text.strip() for n, i in enumerate(header)}
    extended: set[int] = set()
    bottom = max(i.seg.bottom for i in header)
    taken: list[_Seg] = []
    best: tuple[list[_Seg], dict[int, tuple[str, str]]] | None = None  # lines, merged cells
    for below in items[index + 1 : index + 1 + HEADER_WRAP_LINES]:
        if not below or min(b.seg.top for b in below) - bottom > WRAP_GAP_HEIGHTS * height or any(
                ch.isdigit() for b in below for ch in b.seg.text):
            break
        on_line: set[int] = set()
        for cell in below:
            above = _header_cell_over(header, cell, on_line)
            if above is None:
                break
            on_line.add(above)
            texts[above] = f"{texts[above]} {cell.seg.text.strip()}"
        else:
            extended |= on_line
            taken = [*taken, *below]
            bottom = max(b.seg.bottom for b in below)
            named = {n: (texts[n], lexicon.is_only_labels(texts[n])) for n in extended}
            # a label stays one (a row's values under it would not), and one cell at least
            # becomes one; a cell that named nothing may go on naming nothing (`Lp. /` over `No.`)
            if all(f is not None or header[n].label_only is None for n, (_, f) in named.items(
                    )) and any(f is not None for _, f in named.values()):
                best = (taken, {n: (t, f) for n, (t, f) in named.items() if f is not None})
            continue
        break
    if best is None:
        return []
    below, merged = best
    before = {i.label_only for i in header} - {None}
    after = {merged[n][1] if n in merged else i.label_only for n, i in enumerate(header)} - {None}
    if len(after) <= len(before) and all(
            header[n].label_only == field for n, (_, field) in merged.items()):
        # nothing new, but the lines are the header's: `Model /` over `Image` over `Type`
        # (`Hardware` over `Version` alone would be read by _header_goes_on too)
        return below
    for n, (text, found) in merged.items():
        header[n].label_only = found
        header[n].seg = dataclasses.replace(header[n].seg, text=text)
    return below


def _header_cell_over(header: list[_Seg], cell: _Seg, taken: set[int]) -> int | None:
    """The header cell a wrapped line's cell goes on: the one it starts under (a left-aligned
    header), else the one over its centre (a centred header: `Model` over `Identification`)."""
    free = [n for n in range(len(header)) if n not in taken]
    left = next((n for n in free if abs(header[n].seg.x0 - cell.seg.x0) <= WRAP_ALIGN_PT), None)
    if left is not None:
        return left
    centre = (cell.seg.x0 + cell.seg.x1) / 2
    return next((n for n in free if header[n].seg.x0 <= centre <= header[n].seg.x1), None)


def _same_field_columns(header: list[_Seg], lexicon: Lexicon) -> None:
    """Two header cells of one field: the one of fewer words gives way. A bare `Type` beside
    `Model Name` heads the device types (ESME, CAD), and another column of a field named
    already is not read."""
    words = lexicon.layout
    for name in {i.label_only for i in header} - {None}:
        cells = [i for i in header if i.label_only == name]
        if len(cells) < 2:
            continue
        # an image type's column beside the model's gives way whatever its words
        cells.sort(key=lambda i: (header_key(i.seg.text) in words.image_type_headers,
                                  -len(i.seg.text.split())))
        for weaker in cells[1:]:
            named = {i.label_only for i in header}
            bare = header_key(weaker.seg.text)
            if name == "model" and bare in words.image_type_headers:
                weaker.label_only = IMAGE_TYPE_COLUMN
            elif name == "model" and bare in words.type_headers and "device_type" not in named:
                weaker.label_only = "device_type"
            else:
                weaker.label_only = ""


IMAGE_TYPE_COLUMN = "model image type"  # a column of image types beside the models' names


def _with_image_type(cells: dict[str, Value]) -> None:
    """A model's name and, in a column of its own, its image type: one model value, written
    as certificates print it together (`Lantern IHD (Image Type 0x8757)`)."""
    image = cells.pop(IMAGE_TYPE_COLUMN, None)
    if image is None or not image.text:
        return
    model = cells.get("model")
    if model is None:
        cells["model"] = dataclasses.replace(image, field="model")
        return
    if "image type" not in model.text.casefold():
        model.text = f"{model.text} (Image Type {image.text})"
        model.segments.append(image.segments[0])
        model.rule = f"{model.rule}, with column {image.rule.split('column ', 1)[-1]}"


def _row_number_header(item: _Seg) -> bool:
    """A header cell of no field, beside three labels or more: `No.`, `#`, `Item`, `Pos.` over
    the rows' numbers. One short word without a digit; its column is not read."""
    text = item.seg.text.strip()
    return item.hit is None and len(text) <= 6 and " " not in text and not any(
        ch.isdigit() for ch in text)


def _labels_wrapped_under(line: list[_Seg], below: list[_Seg], lexicon: Lexicon) -> None:
    """A header cell that is a label only with the line under it (`Cert.` over `No.`) takes
    that label's field, when the rest of its line are labels already."""
    if not below or sum(i.label_only is None for i in line) != 1 or len(line) < 3:
        return
    item = next(i for i in line if i.label_only is None)
    under = next((b for b in below if abs(b.seg.x0 - item.seg.x0) <= WRAP_ALIGN_PT
                  and b.seg.top - item.seg.bottom
                  <= WRAP_GAP_HEIGHTS * max(item.seg.height, b.seg.height)), None)
    if under is not None and under.label_only is None and under.hit is None:
        item.label_only = lexicon.is_only_labels(f"{item.seg.text} {under.seg.text}")


def _table_rows(
    header: list[_Seg], items: list[list[_Seg]], start: int, lexicon: Lexicon
) -> tuple[list[dict[str, Value]], int, list[_Seg]]:
    columns = _centred_columns(header, items[start : start + CENTRED_LOOK_LINES])
    height = max(i.seg.height for i in header)
    rows: list[dict[str, Value]] = []
    # (the line before `start` is the header's own, or its wrapped second line)
    last_bottom = max(i.seg.bottom for i in [*header, *items[start - 1]])
    last_line: list[_Seg] = []
    body: list[_Seg] = []
    # Columns filled by each row's first line: a line close under a row that fills fewer than
    # every row's first line did is the rest of that row ('Ltd' / 'Unit (Image Type BE:41)' /
    # 'Assembly 4.18' under a row of five cells), not a row of its own.
    starts: list[int] = []
    row_gaps: list[float] = []  # the gaps between the current row's own lines
    index = start
    for index in range(start, len(items)):
        # a row's number left of the table, its header spanning the header's lines apart
        # (`No.` centred over two header rows): no column's value
        numbers = [i for i in items[index] if i.seg.x1 < columns[0][0] - COLUMN_SLACK_PT
                   and _ROW_NUMBER.fullmatch(i.seg.text.strip())]
        line = [i for i in items[index] if i not in numbers]
        body.extend(numbers)
        if not line:
            continue
        top = min(i.seg.top for i in line)
        if not rows and top - last_bottom <= WRAP_GAP_HEIGHTS * height and _header_goes_on(
                line, header, columns, lexicon):  # 'Hardware' / 'Version', 'Firmware /' / 'Software Version'
            body.extend(line)
            last_bottom = max(i.seg.bottom for i in line)
            continue
        # a row's values beside the cell, or a wrapped line close under the row ('Marlin
        # Consumer Access' over 'Device')
        valued = sum(i.hit is None for i in line) >= 2 or (bool(rows) and bool(last_line) and (
            top - max(i.seg.bottom for i in last_line) < WRAP_GAP_HEIGHTS * height))
        if any(i.hit is not None and not _value_in_own_column(i, columns, valued, lexicon)
               and not _remark_word(i, columns) for i in line) or not _fits_columns(line, columns):
            break
        if top - last_bottom > TABLE_END_GAP_HEIGHTS * height:
            break
        filled = len({_column_of(i.seg, columns) for i in line})
        gap = top - max(i.seg.bottom for i in last_line) if last_line else 0.0
        close = bool(last_line) and gap < WRAP_GAP_HEIGHTS * height
        # rows of vertically centred cells: a cell of two lines above and below a one-line
        # row's middle, so the row's own lines overlap; a line further under than any of the
        # row's own lines by half a line starts the next row, however few columns it fills
        apart = len(row_gaps) >= 1 and gap > max(row_gaps) + CENTRED_ROW_GAP_HEIGHTS * height \
            and max(row_gaps) <= 0
        wrapped = bool(rows) and bool(last_line) and not apart and (
            _continues(line, rows[-1], columns)
            # a line filling few columns, not far under: the rest of the row's cells (a
            # heading two line heights under, 'Device 2' over the next block, is not)
            or (2 * filled < len(columns) and gap < SPARSE_WRAP_GAP_HEIGHTS * height)
            or (close and (not _new_row(line, columns) or filled < min(starts))))
        cells = rows[-1] if wrapped else {}
        if not wrapped:
            starts.append(filled)  # a row's first line fills this many columns
        for item in line:
            column = _column_of(item.seg, columns)
            name, text, prefix = _prefixed_cell(item, column, lexicon)
            if name in cells:
                cells[name].text = _joined(name, cells[name].text, text,
                                           cells[name].segments[-1].text)
                cells[name].segments.append(item.seg)
            else:
                header_word = next(h for h in header if (h.label_only or "") == column)
                rule = f"table column {header_word.seg.text.strip(' :.')!r} (lexicon {column})"
                if prefix:
                    rule = f"{rule}, after its prefix {prefix!r} (lexicon {name})"
                cells[name] = Value(name, text, [item.seg], rule)
            body.append(item)
        if not wrapped:
            rows.append(cells)
            row_gaps = []
        else:
            row_gaps.append(gap)
        last_line = line
        last_bottom = max(i.seg.bottom for i in line)
    else:
        index = len(items)
    return rows, index, body


_HEX_RUN_END = regex.compile(r"0[xX][0-9A-Fa-f]+$")
_HEX_RUN = regex.compile(r"[0-9A-Fa-f]+(?=\s|$)")


# A value cut after a separator inside hex octets or a dotted version ('0C:03:' / '0C:22',
# '(Image Type 02:' / 'E3)', '2.6.' / '4.9'): no space where the wrap fell.
_CUT_AT_SEPARATOR = regex.compile(r"(?:\b[0-9A-Fa-f]{2}:|\b\d{1,3}\.)$")
_GOES_ON = regex.compile(r"[0-9A-Fa-f]{2}(?=[\s:)]|$)|\d")


def _joined(name: str, text: str, more: str, last_line: str = "") -> str:
    """A cell and its wrapped line: with a space, but a hex number cut by the wrap
    ('0x0F36' / '092D') is one number again, and so is a value cut after a separator
    (`last_line` is the wrapped line as printed, its separator not yet cleaned off)."""
    if name in ("hardware_version", "firmware_version") and _HEX_RUN_END.search(text) and (
        _HEX_RUN.match(more)
    ):
        return f"{text}{more}"
    if name == "certificate_id" and more.isalnum():
        return f"{text}{more}"  # an ID is one word: 'ZIG22SE' / '0301' in a narrow cell
    printed = last_line.rstrip() or text
    if _CUT_AT_SEPARATOR.search(printed) and _GOES_ON.match(more):
        cut = printed[-1] if not text.endswith(printed[-1]) else ""
        return f"{text}{cut}{more}"
    if printed.endswith(",") and not text.endswith(","):  # 'PCB Rev D,' / 'Assembly 4.18'
        return f"{text}, {more}"
    return f"{text} {more}"


def _header_goes_on(
    line: Sequence[_Seg], header: Sequence[_Seg], columns: Sequence[tuple[float, str]],
    lexicon: Lexicon,
) -> bool:
    """Every cell of the line, read after its column's header word, is still that column's label:
    a header wrapped over two lines ('Hardware' over 'Version')."""
    for item in line:
        name = _column_of(item.seg, columns)
        above = next((h for h in header if h.label_only == name), None)
        if above is None or lexicon.is_only_labels(f"{above.seg.text} {item.seg.text}") != name:
            return False
    return bool(line)


def _value_in_own_column(item: _Seg, columns: Sequence[tuple[float, str]], valued: bool,
                         lexicon: Lexicon) -> bool:
    """A cell that opens with its own column's label word and goes on with a value
    (`Hardware Build 4.10` under `Hardware Version`), or is only such words beside the row's
    other values (`Hardware Build` over `2.13 (02_13)`): a value, not a label ending the table.
    So is a version after its short prefix in a column no field owns (`FW: 17:79:C1:69` under
    `Versions`)."""
    assert item.hit is not None
    column = _column_of(item.seg, columns)
    if column == "" and item.label_only is None and _prefixed_cell(item, column, lexicon)[2]:
        return True
    return (item.label_only is None or valued) and column == item.hit.field


VERSION_FIELDS = ("hardware_version", "firmware_version")
SHORT_PREFIX_LETTERS = 3  # `HW`, `FW`, `F/W`, `SW`: a prefix, not a label of many words


def _prefixed_cell(item: _Seg, column: str, lexicon: Lexicon) -> tuple[str, str, str]:
    """(field, value, prefix) of a table cell. A version cell may open with a short prefix
    naming its field (`HW Rev D`, `F/W: v311`, `FW 4.6.3`): in a column no field owns
    (`Versions`) the prefix gives the field."""
    text = _clean(item.seg.text)
    first, _, rest = text.partition(" ")
    field = lexicon.is_only_labels(first)
    if field not in VERSION_FIELDS or column not in ("", field) or len(
            [ch for ch in first if ch.isalpha()]) > SHORT_PREFIX_LETTERS:
        return column, text, ""
    rest = _clean(rest)
    if not rest or field is None or not lexicon.fits(field, rest):
        return column, text, ""
    # a prefix with a colon is a label, cut off (`F/W: v311`); without one it is part of the
    # value as printed (`HW 8 (0x0008)`), and only names the field
    return field, rest if first.endswith(":") else text, first.strip(" :.")


def _new_row(line: Sequence[_Seg], columns: Sequence[tuple[float, str]]) -> bool:
    """A line with its own first cell and at least half the columns filled starts a row,
    however close under the last it stands."""
    names = {_column_of(i.seg, columns) for i in line}
    return columns[0][1] in names and 2 * len(names) >= len(columns)


def _continues(line: Sequence[_Seg], row: dict[str, Value], columns: Sequence[tuple[float, str]]) -> bool:
    """A line that goes on with the row above however far below it stands: a cell shows it is
    the rest of one above (it opens with a bracket or a lower-case word, not a value such as
    `v117`, closes a bracket it did
    not open, or the cell above left a bracket open or ended in a hyphen)."""
    if columns[0][1] not in row:
        return False
    full = _new_row(line, columns) and len({_column_of(i.seg, columns) for i in line}) >= len(row)
    for item in line:
        column = _column_of(item.seg, columns)
        if column == "":
            continue  # a column no field owns (`Remarks`: `variant of Pos. 1`) tells nothing
        text = _clean(item.seg.text)
        above = row.get(column)
        if text[:1] in "([" or _lower_word(text) or text.count(")") > text.count("("):
            return True
        if above is not None and (above.text.count("(") > above.text.count(")")
                                  or above.text.endswith("-")
                                  or (above.field != "certificate_id" and not full
                                      and _joined(above.field, above.text, text)
                                      == above.text + text)):
            return True  # (a hex number cut by the wrap: '0x0A0B' over '0C0D'; not in a line
            # that is a row of its own, whose firmware `536fe0b4` follows one `0x9DE88930`)
    return False


def _lower_word(text: str) -> bool:
    """A cell opening with a lower-case word ('build 7', 'and stack 1.4'): the rest of a value.
    A lower-case value is not one: `v117` is a firmware version in a row of its own."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first[:1].islower() and first.rstrip(".,;:").isalpha()


_ROW_NUMBER = regex.compile(r"\d{1,3}\.?")
CENTRED_LOOK_LINES = 4
CENTRED_ROW_GAP_HEIGHTS = 0.5  # lines of the first row looked at for its cells' left edges


def _centred_columns(header: Sequence[_Seg], body: Sequence[Sequence[_Seg]]
                     ) -> list[tuple[float, str]]:
    """Each column's left edge and field. A header cell centred over its column (`Manufacturer`
    over left-aligned `Brindlecombe Energy`, 28 pt further left) starts right of the column's
    cells: when the first row's cells, each matched to the header cell nearest its centre, start
    left of their headers by more than the slack (in two columns and a third of them at least,
    or in one where a cell stands under its header cell and clear of the one before), the
    column starts where its cells do."""
    columns = [(i.seg.x0, i.label_only or "") for i in header]
    centres = [(i.seg.x0 + i.seg.x1) / 2 for i in header]
    lefts = [x0 for x0, _ in columns]
    moved, sure = 0, False
    for number, line in enumerate(body):
        for item in line:
            if item.label_only is not None and item.seg.text[:1].isupper():
                if number == 0:
                    return columns  # a label under the header: not its first row (a
                    # remark's `firmware` in lower case is no label)
                continue  # a value's wrapped words that name a field: `Image Type` / `1F:66`
            if _ROW_NUMBER.fullmatch(item.seg.text.strip()):
                continue  # a row's number, perhaps left of the table
            if sum(item.seg.x0 < h.seg.x1 and h.seg.x0 < item.seg.x1 for h in header) > 1:
                continue  # across columns: a note under the table, not a cell
            centre = (item.seg.x0 + item.seg.x1) / 2
            n = min(range(len(header)), key=lambda k: abs(centres[k] - centre))
            before = header[n - 1].seg.x1 if n else float("-inf")
            overlaps = item.seg.x0 < header[n].seg.x1 and header[n].seg.x0 < item.seg.x1
            if not overlaps and not before < item.seg.x0 <= item.seg.x1 < header[n].seg.x0:
                continue  # neither under its nearest header cell nor in the gap left of it
            if item.seg.x0 < lefts[n] - COLUMN_SLACK_PT:
                lefts[n] = item.seg.x0
                moved += 1
                # under its header cell and clear of the one before: that column's, surely
                sure = sure or (overlaps and before < item.seg.x0)
    if (moved < 2 or 3 * moved < len(header)) and not sure or any(
            b <= a for a, b in itertools.pairwise(lefts)):
        return columns
    return [(left, name) for left, (_, name) in zip(lefts, columns, strict=True)]


def _column_of(seg: Segment, columns: Sequence[tuple[float, str]]) -> str:
    name = columns[0][1]
    for x0, label in columns:
        if seg.x0 >= x0 - COLUMN_SLACK_PT:
            name = label
    return name


def _fits_columns(line: Sequence[_Seg], columns: Sequence[tuple[float, str]]) -> bool:
    """Every segment starts inside the table and ends before the next column's header."""
    edges = [x0 for x0, _ in columns]
    for item in line:
        if item.seg.x0 < edges[0] - 2 * COLUMN_SLACK_PT:
            return False
        later = [x for x in edges if x > item.seg.x0 + COLUMN_SLACK_PT]
        if later and item.seg.x1 > later[0] + COLUMN_SLACK_PT:
            return False
    return True
