"""Values in sentences, found by their grammars and given a role by the cue words before them.

`... the product G874 (Image Type 02:E3), a Gas Smart Metering Equipment manufactured by Corrib
Metering Ltd (21:E3), running application firmware 0x0F36092D and hardware version 03_03 ...`:
after a cue (`product`, `manufactured by`, `application firmware`, `hardware version`), a few
filler words may stand (`is`, `of`, `number`, `:`), then the value must have its field's grammar.
A cue followed by no value of the right grammar (`any change to hardware or firmware may ...`)
gives nothing. Two grammars need no cue: `NAME (Image Type XX:XX)` is a model, and a certificate
ID of the ZigBee form is one wherever it stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import regex

from pipeline.models import Segment
from pipeline.parse import clause
from pipeline.reader.layout import Value
from pipeline.reader.lexicon import Lexicon

_HEX2 = r"[0-9A-Fa-f]{2}"
_HEX_VALUE = (rf"(?:0[xX]|h')?{_HEX2}(?:[:\- ]?{_HEX2}){{1,3}}h?(?![\w:])"
              rf"|0[xX][0-9A-Fa-f]{{4,8}}(?!\w)")
_VERSION = (r"(?:[vV](?:ersion\s)?)?\d+(?:[._]\d+)+(?:\s?\((?:Stack|stack)\s[\d.]+\))?"
            r"|Version\s\d+\sRevision\s\d+|[vV]\d+|[0-9A-F]{1,2}(?:\.[0-9A-F]{1,2})+(?![\w.])")
_TOKEN = r"[A-Z0-9][A-Za-z0-9\-./_]*"
GRAMMARS: dict[str, regex.Pattern[str]] = {
    # Letters and digits in groups joined by - / _ . (ZIG22SE5350, WRL-ZSE-2021-0057), a digit
    # among them, ending on a digit or capital (not on a sentence's full stop).
    "certificate_id": regex.compile(
        r"(?=[A-Za-z0-9\-/_.]*\d)[A-Z][A-Za-z0-9]*(?:[\-/_.]?[A-Za-z0-9]+)*(?<=[0-9A-Z])"),
    "certificate_date": regex.compile(
        r"\d{4}-\d{2}-\d{2}|\d{1,2}[./ -](?:\d{1,2}|[A-Za-z]{3,9})[./ -]\d{4}"
        r"|[A-Z][a-z]{2,8} \d{1,2},? \d{4}"),
    "device_type": regex.compile(r"[A-Z][\w-]*(?:\s[A-Z][\w-]*){0,6}(?:\s\([A-Z]{2,6}\))?"),
    "manufacturer": regex.compile(
        r"(?:[A-Z][\w&'.+\-]*|\(UK\)|\(GB\))(?:\s(?:[A-Z][\w&'.+\-]*|\(UK\)|\(GB\)|&|and(?=\s[A-Z])"
        r"|of(?=\s[A-Z])|plc|ltd|GmbH|AG|AB|Oy|S\.A\.|B\.V\.))*"
        rf"(?:\s\({_HEX2}:?{_HEX2}\))?"),
    "model": regex.compile(
        rf"{_TOKEN}(?:\s{_TOKEN}){{0,3}}\s\(Image Type\s{_HEX2}[: ]?{_HEX2}\)"
        rf"|{_HEX2}:{_HEX2}(?![\w:])|(?=[A-Za-z0-9\-./_]*\d){_TOKEN}(?:\s\({_HEX2}:{_HEX2}\))?"),
    "hardware_version": regex.compile(rf"{_VERSION}|{_HEX_VALUE}|{_HEX2}_{_HEX2}"),
    "firmware_version": regex.compile(rf"{_VERSION}|{_HEX_VALUE}"),
}
# Words between a cue and its value; a word only when a space follows it: the 'A' of firmware
# 'A.8B' is no article.
_FILLER = regex.compile(
    r"(?:\s*(?:(?:is|of|the|a|an|number|no\.?|id|identifier|model|code)(?=[\s:])|:|-)\s*)*\s*",
    regex.IGNORECASE)
_IMAGE_TYPE_MODEL = regex.compile(
    rf"(?<![\w-]){_TOKEN}(?:\s{_TOKEN}){{0,3}}\s\(Image Type\s{_HEX2}[: ]?{_HEX2}\)")
_ZIGBEE_ID = regex.compile(r"(?<![\w-])ZIG[\w\-/]*\d[\w\-/]*(?<=\w)")
_MAX_GAP = 24  # characters of filler allowed between a cue and its value


def read_prose(
    lines: Sequence[Sequence[Segment]], lexicon: Lexicon, stop_words: Sequence[str]
) -> list[Value]:
    """Values in the lines no label claimed; a value ends where its clause does (parse's clause
    rule, with the stop words of rules/fields.toml)."""
    text, spans = _flatten(lines)
    found: list[Value] = []
    strength: dict[int, int] = {}  # a cue-found value's cue: its place in the field's cue list
    taken: list[tuple[int, int]] = []
    cues = sorted(((c, name) for name, cs in lexicon.cues.items() for c in cs),
                  key=lambda cn: -len(cn[0]))
    cue_starts = sorted(
        hit.start() for cue, _ in cues for hit in _cue_pattern(cue).finditer(text)
    )
    for cue, name in cues:
        for hit in _cue_pattern(cue).finditer(text):
            if _overlaps(taken, hit.start(), hit.end()):
                continue
            filler = _FILLER.match(text, hit.end())
            start = filler.end() if filler else hit.end()
            if start - hit.end() > _MAX_GAP:
                continue
            grammar = GRAMMARS.get(name)
            match = grammar.match(text, start) if grammar is not None else None
            if match is None or not _good(name, match.group(), lexicon, cue):
                continue
            end = _clause_end(text, start, match.end(), cue_starts, name, lexicon, stop_words)
            taken.append((hit.start(), end))
            found.append(_value(name, (start, end), text, spans,
                                f"prose cue {cue!r} + {name} grammar"))
            strength[id(found[-1])] = lexicon.cues[name].index(cue)
    found = _strongest_cues(found, strength)
    for name, pattern in (("model", _IMAGE_TYPE_MODEL), ("certificate_id", _ZIGBEE_ID)):
        for match in pattern.finditer(text):
            if not _overlaps(taken, match.start(), match.end()):
                taken.append((match.start(), match.end()))
                found.append(_value(name, match.span(), text, spans,
                                    f"prose {name} grammar, no cue"))
    found.sort(key=lambda v: (v.segments[0].top, v.segments[0].x0))
    return found


def _strongest_cues(found: list[Value], strength: dict[int, int]) -> list[Value]:
    """A field that several cues give keeps the value of its strongest cue (the lexicon lists
    each field's cues strongest first): in 'Unit 4, Harwell Campus ... the device model 66:EB'
    the model is 66:EB, not the address's 4."""
    best: dict[str, int] = {}
    for value in found:
        best[value.field] = min(best.get(value.field, 10**6), strength[id(value)])
    return [v for v in found if strength[id(v)] == best[v.field]]


@lru_cache(maxsize=256)
def _cue_pattern(cue: str) -> regex.Pattern[str]:
    return regex.compile(rf"(?<!\w){regex.escape(cue)}(?!\w)", regex.IGNORECASE)


def _clause_end(text: str, start: int, grammar_end: int, cue_starts: Sequence[int], name: str,
                lexicon: Lexicon, stop_words: Sequence[str]) -> int:
    """Where the value ends: its clause (to a comma, `and`, a stop word or the next cue), when
    the whole clause still has the field's shape (`3.8B Build String`); else where its grammar
    ended."""
    following = next((c for c in cue_starts if c >= grammar_end), len(text))
    found = clause(text[start:following], stop_words)
    if found.count("(") > found.count(")"):  # a cue inside brackets: '(manufacturer code 64:0B)'
        found = clause(text[start:], stop_words)
    found = _TRAILING_WORDS.sub("", found)  # '2.0.15 on hardware ...': the 'on' is not the value's
    end = start + len(found)
    if end > grammar_end and found.count("(") == found.count(")") and lexicon.fits(name, found.strip()):
        return end
    return grammar_end


# Words a value never ends with: what follows them is the sentence going on.
_TRAILING_WORDS = regex.compile(
    r"(?:\s+(?:on|in|at|with|for|of|by|from|to|under|and|or|as|the|a|an))+\s*$", regex.IGNORECASE)


def _good(name: str, value: str, lexicon: Lexicon, cue: str) -> bool:
    value = value.strip()
    if name == "manufacturer" and len(value.split()) < 2 and "(" not in value:
        # One capitalised word after "from" or "vendor" is not a company name; after a verb of
        # making ("manufactured by Aclara,") it is.
        if not cue.endswith((" by", " of")):
            return False
    return lexicon.fits(name, value)


def _overlaps(taken: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < b and a < end for a, b in taken)


def _flatten(lines: Sequence[Sequence[Segment]]) -> tuple[str, list[tuple[int, int, Segment]]]:
    """The lines as one string, and each segment's character span in it."""
    parts: list[str] = []
    spans: list[tuple[int, int, Segment]] = []
    position = 0
    for line in lines:
        for seg in line:
            text = seg.text
            spans.append((position, position + len(text), seg))
            parts.append(text)
            position += len(text) + 1
    return " ".join(parts), spans


def _value(name: str, span: tuple[int, int], text: str,
           spans: Sequence[tuple[int, int, Segment]], rule: str) -> Value:
    """The value with the part of each segment it covers (boxes cut in proportion)."""
    start, end = span
    segments = [_cut(seg, max(start - a, 0), min(end, b) - a)
                for a, b, seg in spans if a < end and start < b] or [spans[0][2]]
    return Value(name, " ".join(text[start:end].split()).strip(" ,;"), segments, rule)


def _cut(seg: Segment, start: int, end: int) -> Segment:
    if start <= 0 and end >= len(seg.text):
        return seg
    width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
    return Segment(seg.text[start:end], seg.x0 + start * width, seg.top, seg.x0 + end * width,
                   seg.bottom, seg.confidence)
