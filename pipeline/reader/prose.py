"""Values in sentences, found by their grammars and given a role by the cue words around them.

`... the product G874 (Image Type 02:E3), a Gas Smart Metering Equipment manufactured by Corrib
Metering Ltd (21:E3), running application firmware 0x0F36092D and hardware version 03_03 ...`:
after a cue (`product`, `manufactured by`, `application firmware`, `hardware version`), a few
filler words may stand (`is`, `of`, `number`, `:`; for versions also `build`, `release`), then the
value must have its field's grammar (reader/grammars.py). A cue followed by no value of the
right grammar (`any change to hardware or firmware may ...`) gives nothing.

Some cues follow their value (`Mourne Controls Ltd, the manufacturer,`; `the IHD-7 display`), and
some values need no cue: `NAME (Image Type XX:XX)` is a model, a certificate ID of the ZigBee form
is one wherever it stands, and when no cue names the manufacturer, a company name ending in a
legal form (`Acme Metering Ltd has demonstrated ...`) is taken, unless it is the test house's.
The cue words and these lists are data: rules/lexicon.toml [cues] and [prose].

A short line (a heading, a letterhead) ends its paragraph: no value runs across it.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from functools import lru_cache

import regex

from pipeline.models import DEVICE_FIELDS, Segment
from pipeline.parse import clause
from pipeline.reader.grammars import _HEX2, _TOKEN, GRAMMARS, IMAGE_TYPE
from pipeline.reader.layout import VERSION_FIELDS, Value
from pipeline.reader.lexicon import Lexicon, ProseRules

# A name and its image type, with up to three words between (`LM-5 gas meter (Image Type 0C:05)`)
# (not from a sentence's article, nor across a list's `and`: `The products Pulse Display (Image
# Type 3D:F5), Ember Touch and Halcyon IHD (Image Type 11:25)`)
_IMAGE_TYPE_MODEL = regex.compile(
    rf"(?<![\w-])(?!(?:The|A|An|This|Our|Your|Its|Their)\s){_TOKEN}"
    rf"(?:\s(?:{_TOKEN}|(?!(?:and|or|with|by|from|of|the|for)\b)[a-z]{{2,12}})){{0,3}}\s{IMAGE_TYPE}")
# A name and its model ID (`HT-45 Gas Meter Model ID 0x0E57`): read before the cues, so the
# cue `Model ID` does not take the number alone
_MODEL_ID_MODEL = regex.compile(
    rf"(?<![\w-])(?=[A-Z0-9]){_TOKEN}(?:\s{_TOKEN}){{0,4}}\sModel ID\s0[xX][0-9A-Fa-f]{{4}}(?!\w)")
# ZigBee certificate IDs wherever they stand: `ZIG...` and the `ZSE-18-79243` form (issue 11)
_ZIGBEE_ID = regex.compile(
    r"(?<![\w-])(?:ZIG[\w\-/]*\d[\w\-/]*(?<=\w)|ZSE-\d{2}-\d{3,6}(?![\w-]))")
NO_CUE = "no cue"  # ends the rule of a value found by its grammar alone
_MAX_GAP = 24  # characters of filler allowed between a cue and its value
BREAK = "\u00b6"  # joins two lines of different paragraphs; nothing matches across it
SHORT_LINE = 0.6  # a line ending left of this share of the widest line ends its paragraph
PARAGRAPH_GAP = 1.8  # ...as does a gap of more than this many line heights under it
# Lower-case words a value found in prose does not run on with: 'SM-900 passed all tests' is the
# model SM-900, 'hardware 1.3 for testing' is 1.3. Connectors inside names are allowed.
_NAME_CONNECTORS = frozenset({"and", "of", "de", "du", "und", "et", "y", "plc", "ltd", "gmbh"})
_LOWER_WORD = regex.compile(r"(?<![\w(])\p{Ll}{2,}\b")  # `geprüft`, `avec`: any language's


def read_prose(
    lines: Sequence[Sequence[Segment]], lexicon: Lexicon, stop_words: Sequence[str]
) -> list[Value]:
    """Values in the lines no label claimed; a value ends where its clause does (parse's clause
    rule, with the stop words of rules/fields.toml)."""
    text, spans = _flatten_blocks(_column_by_column(lines))
    found: list[Value] = []
    strength: dict[int, int] = {}  # a cue-found value's cue: its place in the field's cue list
    taken: list[tuple[int, int]] = []
    folded = text.casefold()  # a cue not in the text as a substring needs no regex search
    cues = [(c, name) for c, name, low in _cues_longest_first(lexicon) if low in folded]
    hits = {cue: list(_cue_pattern(cue).finditer(text)) for cue, _ in cues}
    cue_starts = sorted(hit.start() for found_hits in hits.values() for hit in found_hits)
    for match in _MODEL_ID_MODEL.finditer(text):
        taken.append(match.span())
        found.append(_value("model", match.span(), text, spans,
                            "prose model grammar (a name and its Model ID), " + NO_CUE))
        strength[id(found[-1])] = -1  # the whole of what a `Model ID` cue would give part of
    ends = _units(text)  # where each sentence or list item ends, for the steps below
    if "respectively" in folded:  # `hardware versions 0x0109 and 0x0203 respectively`
        for value in _listed_products(text, ends, spans, lexicon, taken):
            found.append(value)
            strength[id(value)] = -1
        for value, cue, name in _respectively(text, ends, spans, lexicon, cues, hits, taken):
            found.append(value)
            strength[id(value)] = lexicon.cues[name].index(cue)
    for cue, name in cues:
        for hit in hits[cue]:
            if _overlaps(taken, hit.start(), hit.end()):
                continue
            if name == "model" and _inside_name(text, hit.start(), lexicon.prose):
                continue  # `Meridian Gas Meter MG4`: the noun is the name's, not a cue
            grammar = GRAMMARS.get(name)
            match = _after_filler(text, hit.end(), grammar, _filler(lexicon.prose, name))
            if match is None or not _good(name, match.group(), lexicon, cue):
                continue
            start = match.start()
            end = _clause_end(text, start, match.end(), cue_starts, name, lexicon, stop_words)
            taken.append((hit.start(), end))
            found.append(_value(name, (start, end), text, spans,
                                f"prose cue {cue!r} + {name} grammar"))
            strength[id(found[-1])] = lexicon.cues[name].index(cue)
    every = list(found)  # before the strongest cue is chosen: one letter may name several devices
    found = _strongest_cues(found, strength)
    have = {v.field for v in found}
    # before the cues that follow their value: `the Keystone K2 Meter` is no `K2` meter
    products = _named_products(text, ends, spans, lexicon, taken, every)
    for value in _after_cues(text, spans, lexicon, taken):
        every.append(value)
        if value.field not in have:
            have.add(value.field)
            found.append(value)
    if products and "model" not in have:
        have.add("model")
        found.append(products[0])
    every.extend(products)
    if "certificate_id" not in have and (later := _id_later(text, spans, lexicon, taken)):
        have.add("certificate_id")
        assert later.at is not None
        inside = (later.at, later.at + len(later.text))
        found = [v for v in found if not _read_inside(v, inside)]
        every = [v for v in every if not _read_inside(v, inside)]
        have = {v.field for v in found}
        found.append(later)
    for name, pattern in (("model", _IMAGE_TYPE_MODEL), ("certificate_id", _ZIGBEE_ID)):
        # (overlapped: `révision matérielle V3.5 du Lyra 2 (Image Type 0x182B)`, the version
        # taken, is read again from `Lyra`)
        for match in pattern.finditer(text, overlapped=True):
            if not _overlaps(taken, match.start(), match.end()):
                taken.append((match.start(), match.end()))
                found.append(_value(name, match.span(), text, spans,
                                    f"prose {name} grammar, " + NO_CUE))
                every.append(found[-1])
                strength[id(found[-1])] = -1
    # every company named with its code: a letter's devices may each name their maker so
    # (`Brightwater Metering Systems Ltd (9A:1A) has demonstrated that its In-Home Display ...`
    # beside `the device X, made by Y`), weaker than any cue
    coded = _coded_companies(text, spans, lexicon.prose, taken)
    every.extend(coded)
    if "manufacturer" not in have:
        company = coded[0] if coded else _company(text, spans, lines, lexicon.prose, taken)
        if company is not None:
            found.append(company)
            if not coded:
                every.append(company)
    devices = _by_device(every, strength, ends)
    if devices:
        found = [*(v for v in found if v.field not in DEVICE_FIELDS), *devices]
    else:  # one device: a value paired `respectively` is no device's but the one's
        found = [dataclasses.replace(v, device=None) if v.device is not None else v
                 for v in found]
    found.sort(key=lambda v: (v.segments[0].top, v.segments[0].x0))
    return found


# --- versions paired with devices `respectively` -------------------------------------------------

_PAIR_JOIN = regex.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)")


def _respectively(text: str, ends: Sequence[int], spans: Sequence[tuple[int, int, Segment]],
                  lexicon: Lexicon, cues: Sequence[tuple[str, str]],
                  hits: dict[str, list[regex.Match[str]]], taken: list[tuple[int, int]]
                  ) -> list[tuple[Value, str, str]]:
    """Versions given for several devices in turn, in a sentence saying `respectively` (`tested
    at hardware versions 0x0109 and 0x0203 respectively, running firmware 5.6.20 and v7.1.25
    respectively`): each value with the number of the device it belongs to (`Value.device`,
    read by `_by_device` as the devices' order of first mention). Version and manufacturer cues
    (`supplied by A, B and C respectively`); a list of two values or more in such a sentence
    need not say it itself (`at hardware versions 3.7, 2.1 and 03_01 and with firmware ...
    respectively`)."""
    found: list[tuple[Value, str, str]] = []
    for cue, name in cues:
        if name not in (*VERSION_FIELDS, "manufacturer"):
            continue
        grammar = GRAMMARS[name]
        for hit in hits[cue]:
            if _overlaps(taken, hit.start(), hit.end()):
                continue
            unit = _unit_of(ends, hit.start())
            sentence = text[ends[unit - 1] if unit else 0 : ends[unit]]
            if "respectively" not in sentence.casefold():
                continue
            first = _after_filler(text, hit.end(), grammar, _filler(lexicon.prose, name))
            if first is None:
                continue
            matches = [first]
            while (join := _PAIR_JOIN.match(text, matches[-1].end())) and (
                    after := grammar.match(text, join.end())):
                matches.append(after)
            if len(matches) < 2:
                continue
            taken.append((hit.start(), matches[-1].end()))
            for number, match in enumerate(matches):
                value = _value(name, match.span(), text, spans,
                               f"prose cue {cue!r} + {name} grammar, device {number + 1} of "
                               f"{len(matches)} 'respectively'")
                found.append((dataclasses.replace(value, device=number), cue, name))
    return found


# A product's name in a list: capitalised words or words with a digit, and its image type
_LISTED_NAME = regex.compile(rf"{_TOKEN}(?:\s{_TOKEN}){{0,3}}(?:\s{IMAGE_TYPE})?")


def _listed_products(text: str, ends: Sequence[int], spans: Sequence[tuple[int, int, Segment]],
                     lexicon: Lexicon, taken: list[tuple[int, int]]) -> list[Value]:
    """The models of a sentence saying `respectively`, listed after a plural noun (`The
    products Pulse Display (Image Type 3D:F5), Ember Touch and Halcyon IHD (Image Type
    11:25), supplied by ... respectively`): each a model, in the devices' order."""
    nouns = lexicon.prose.plural_products
    if not nouns:
        return []
    found: list[Value] = []
    pattern = regex.compile(rf"(?i)\b(?:{'|'.join(regex.escape(n) for n in nouns)})\s")
    for hit in pattern.finditer(text):
        unit = _unit_of(ends, hit.start())
        if "respectively" not in text[ends[unit - 1] if unit else 0 : ends[unit]].casefold():
            continue
        matches = []
        position = hit.end()
        while (name := _LISTED_NAME.match(text, position)) is not None:
            matches.append(name)
            join = _PAIR_JOIN.match(text, name.end())
            if join is None:
                break
            position = join.end()
        # the list ends where the sentence goes on: `, supplied by`, ` have been`
        if len(matches) < 2 or not regex.match(r",?\s\p{Ll}", text[matches[-1].end():]):
            continue
        if any(_overlaps(taken, m.start(), m.end()) or not lexicon.fits("model", m.group())
               for m in matches):
            continue
        for number, match in enumerate(matches):
            taken.append(match.span())
            found.append(dataclasses.replace(_value(
                "model", match.span(), text, spans,
                f"prose cue {hit.group().strip()!r} + a list of {len(matches)} models, "
                f"model {number + 1} 'respectively', " + NO_CUE), device=number))
    return found


# --- products named without a cue ---------------------------------------------------------------

# Up to three capitalised words and a word with a digit (`Aurora ESME 3`, `Beacon CH-5`,
# `NV-210E`), or a word with a digit and up to three capitalised words (`CH-2000 Comms Hub`)
# ...or two to four capitalised words before the verb of a sentence about it (`The Orion PPMID
# was certified at hardware 02_02`, `the Vantage In-Home Display was tested`), or before its
# versions (`the Vantage In-Home Display, hardware version V2.9`)
_NAMED_BEFORE_VERB = (r"\p{Lu}[\p{L}\-]*(?:\s\p{Lu}[\p{L}\-]*){1,3}"
                      r"(?=\s(?:was|were|is|has|had|passed|completed)\b"
                      r"|,\s(?:hardware|firmware|software|were|was)\b|\sand\sthe\s)")
_PRODUCT = regex.compile(
    r"(?:\p{Lu}[\p{L}\-]*\s){0,3}(?=[\w\-./]*\d)[\p{Lu}\d][\w\-./]*(?<![./])"
    r"(?:\s\p{Lu}[\p{L}\-]*(?![\w.]*\d)){0,3}" + rf"(?:\s{IMAGE_TYPE})?")


# A list item's bullet (`• GX-874, manufactured by`): it starts an item in `_flatten`, and the
# name right after it opens the item in `_named_products`
_BULLETS = r"[\u2022\u25aa\u25cf\u25e6\u2023\u2043\u2013*\-]"
_BULLET = regex.compile(rf"{_BULLETS}(?:\s|$)")
_ITEM_START = rf"(?<=(?:^|\s){_BULLETS}\s)"


def _named_products(text: str, ends: Sequence[int], spans: Sequence[tuple[int, int, Segment]],
                    lexicon: Lexicon, taken: list[tuple[int, int]], values: Sequence[Value]
                    ) -> list[Value]:
    """Models named without a cue (`completed certification of its Beacon CH-5 at this
    laboratory. The device was examined in the configuration hardware Rev B, firmware image
    4.5.20`): a product's name (`_PRODUCT`) after an opener (`the`, `its`, `designated`, a quote
    mark, a list item's bullet) in a sentence that, or whose next sentence, gives a version
    found by its cue; never
    a name holding a standard's, a stack's or a document's word (`ZigBee Smart Energy 1.4`,
    `Z-Stack 3.0.2`, `test plan 1.4.3`)."""
    rules = lexicon.prose
    if not rules.product_openers:
        return []
    versions = [v.at for v in values if v.field in VERSION_FIELDS and v.at is not None]
    if not versions:
        return []
    with_version = {_unit_of(ends, at) for at in versions}
    openers = "|".join(regex.escape(o) for o in rules.product_openers)
    found: list[Value] = []
    for match in regex.finditer(rf"(?:(?<=\b(?i:{openers})\s)|(?<=[\u201c\u2018\"'])|{_ITEM_START})"
                                rf"(?:{_PRODUCT.pattern}|{_NAMED_BEFORE_VERB})", text,
                                overlapped=True):  # `Gerät Sentinel IHD 4` refused: `Sentinel ...`
        start, end = match.span()
        name = match.group()
        if _overlaps(taken, start, end) or not name[0].isupper():
            continue
        if _IMAGE_TYPE_MODEL.match(text, start):
            continue  # `the LM-5 gas meter (Image Type 0C:05)`: the image type grammar's, whole
        following = regex.match(r"\s(\p{Ll}+)\b", text[end:])
        if following and following.group(1) in rules.reference_nouns:
            continue
        words = {w.casefold().strip(",.;:()") for w in name.split()}
        if words & rules.not_product_words or _NUMBER.fullmatch(name):
            continue
        if any(GRAMMARS[f].fullmatch(name) for f in VERSION_FIELDS):
            continue  # `the 1.2`: a version, not a product
        unit = _unit_of(ends, start)
        if unit not in with_version and unit + 1 not in with_version:
            continue
        if not lexicon.fits("model", name):
            continue
        kind = regex.match(r"(?:\p{Lu}[\p{L}\-]*\s)+", name)
        if kind and {w.casefold() for w in kind.group().split()} <= rules.kind_words and (
                any(ch.isdigit() for ch in name[kind.end():])):
            start += kind.end()  # `the In-Home Display IHD-55`: its kind, then its name
        taken.append((start, end))
        found.append(_value("model", (start, end), text, spans,
                            "prose product-name grammar (a name with a digit), " + NO_CUE))
    return found


def _unit_of(ends: Sequence[int], offset: int) -> int:
    """The number of the sentence or list item holding `offset` (`ends` from `_units`)."""
    return bisect.bisect_right(ends, offset)


# --- several devices in one letter ------------------------------------------------------------

# Where a sentence or a list item ends: a full stop or semicolon before a capital, a bullet, a
# dash or a bracket; or a paragraph's end. Not inside brackets: `(hardware 1.2; firmware 3.4)`.
_UNIT_END = regex.compile(rf"[.;](?=\s+[\p{{Lu}}\d(\u2013\u2014\u2022\-])|;(?=\s)|{BREAK}")
MIN_DEVICE_VALUES = 2  # a model and one version at least: a device, not a model's mention


def _units(text: str) -> list[int]:
    """The offsets where each sentence or list item of the text ends, in order."""
    ends: list[int] = []
    depth = 0
    position = 0
    for match in _UNIT_END.finditer(text):
        chunk = text[position:match.start()]
        depth = max(depth + chunk.count("(") - chunk.count(")"), 0)
        position = match.start()
        if depth == 0:
            ends.append(match.end())
    ends.append(len(text) + 1)
    return ends


def _model_key(text: str) -> str:
    return " ".join(regex.sub(r"\(.*", "", text).casefold().split())


def _same_model(key: str, other: str) -> bool:
    """One model named shorter or longer (`HelioHub CH3`, `HelioHub CH3 Model ID 0x1803`)."""
    return key.startswith(other) or other.startswith(key)


def _by_device(values: list[Value], strength: dict[int, int], ends: Sequence[int]
               ) -> list[Value]:
    """Values of a letter that names two devices or more (`The first of your devices, the
    Arcadia 3PH (Image Type 2E:80), was presented with HW version 1.3 ... Your Orion PPMID ...
    was tested with hardware Rev C ...`), each tagged with its device; [] for one device.

    Each model opens a device. A sentence or list item with one model gives it all its values;
    with several, a value goes to the model before it (the first model when none is); without
    one, to the device before it. A manufacturer named before the first device (`the devices
    from Elstrom Messtechnik AG listed below`), or the only one named, is every device's that
    names none. Per device and field the strongest cue's value is kept, as for one device."""
    at = {id(v): v.at for v in values if v.at is not None}
    models = sorted((v for v in values if v.field == "model" and id(v) in at),
                    key=lambda v: at[id(v)])
    keys: list[str] = []
    for model in models:
        key = _model_key(model.text)
        if key and not any(_same_model(key, k) for k in keys):
            keys.append(key)
    if len(keys) < 2:
        return []

    def device_of_model(model: Value) -> int:
        key = _model_key(model.text)
        return next(i for i, k in enumerate(keys) if _same_model(key, k))

    anchors = [(at[id(m)], _unit_of(ends, at[id(m)]), device_of_model(m)) for m in models]
    devices: dict[int, list[Value]] = {}
    prelude: list[Value] = []
    for value in values:
        if id(value) not in at or value.field not in DEVICE_FIELDS:
            continue
        offset = at[id(value)]
        if value.field == "model":
            devices.setdefault(device_of_model(value), []).append(value)
            continue
        if value.device is not None and value.device < len(keys):
            devices.setdefault(value.device, []).append(value)  # `... respectively`
            continue
        here = [a for a in anchors if a[1] == _unit_of(ends, offset)]
        before = [a for a in anchors if a[0] <= offset]
        if here:
            earlier = [a for a in here if a[0] <= offset]
            device = (earlier[-1] if earlier else here[0])[2]
        elif before:
            device = before[-1][2]
        else:
            prelude.append(value)
            continue
        devices.setdefault(device, []).append(value)
    kept = {d: _strongest_cues(sorted(vs, key=lambda v: at[id(v)]), strength)
            for d, vs in devices.items()}
    kept = {d: _first_per_field(vs) for d, vs in kept.items()
            if len({v.field for v in vs}) >= MIN_DEVICE_VALUES}
    if len(kept) < 2:
        return []
    makers = {" ".join(v.text.split()) for vs in kept.values() for v in vs
              if v.field == "manufacturer"}
    named = _strongest_cues([v for v in prelude if v.field == "manufacturer"], strength)
    shared = named[0] if named else None  # `The applicant, X, applied on behalf of the manufacturer, Y`
    if shared is None and len(makers) == 1:
        shared = next(v for vs in kept.values() for v in vs if v.field == "manufacturer")
    out: list[Value] = []
    for number, (_, vs) in enumerate(sorted(kept.items())):
        if shared is not None and not any(v.field == "manufacturer" for v in vs):
            vs = [*vs, shared]
        out.extend(dataclasses.replace(v, device=number) for v in vs)
    return out


def _first_per_field(values: list[Value]) -> list[Value]:
    seen: set[str] = set()
    kept = []
    for value in values:
        if value.field not in seen:
            seen.add(value.field)
            kept.append(value)
    return kept


def _inside_name(text: str, start: int, rules: ProseRules) -> bool:
    """A capitalised word right after capitalised words (`Meridian Gas Meter`, `Comms Hub`):
    part of a product's name, so no cue of the model; unless those words hold a word no product
    name does (`its Electricity Smart Meter E470` is read by the cue: E470)."""
    if not text[start : start + 1].isupper():
        return False
    run = regex.search(r"(?:\p{Lu}[\p{L}\-]*\s+)+$", text[max(0, start - 60) : start])
    if run is None:
        return False
    words = {w.casefold() for w in run.group().split()}
    return not words & rules.not_product_words and not words <= rules.kind_words


def _strongest_cues(found: list[Value], strength: dict[int, int]) -> list[Value]:
    """A field that several cues give keeps the value of its strongest cue (the lexicon lists
    each field's cues strongest first): in 'Unit 4, Harwell Campus ... the device model 66:EB'
    the model is 66:EB, not the address's 4."""
    best: dict[str, int] = {}
    for value in found:
        best[value.field] = min(best.get(value.field, 10**6), strength.get(id(value), _WEAKEST))
    return [v for v in found if strength.get(id(v), _WEAKEST) == best[v.field]]


_WEAKEST = 10**3  # a value found after its cue or by a company's grammar: any cue before wins


_SORTED_CUES: dict[int, tuple[Lexicon, list[tuple[str, str, str]]]] = {}  # by the lexicon's id


def _cues_longest_first(lexicon: Lexicon) -> list[tuple[str, str, str]]:
    """Every (cue, field, cue case-folded), longest cue first; sorted once per lexicon (a Lexicon holds dicts,
    so it is no cache key; the entry keeps it alive, so its id is not reused)."""
    kept = _SORTED_CUES.get(id(lexicon))
    if kept is None or kept[0] is not lexicon:
        if len(_SORTED_CUES) > 8:
            _SORTED_CUES.clear()
        kept = _SORTED_CUES[id(lexicon)] = (lexicon, sorted(
            ((c, name, c.casefold()) for name, cs in lexicon.cues.items() for c in cs),
            key=lambda cn: -len(cn[0])))
    return kept[1]


@lru_cache(maxsize=256)
def _cue_pattern(cue: str) -> regex.Pattern[str]:
    return regex.compile(rf"(?<!\w){regex.escape(cue)}(?!\w)", regex.IGNORECASE)


def _after_filler(text: str, position: int, grammar: regex.Pattern[str] | None,
                  filler: regex.Pattern[str]) -> regex.Match[str] | None:
    """The field's grammar after the cue, at the first place past zero or more filler words
    where it matches: 'software version Version 1.2.5.6' keeps its printed 'Version'."""
    if grammar is None:
        return None
    limit = position + _MAX_GAP
    while True:
        start = position + len(text[position:]) - len(text[position:].lstrip(" \t"))
        if start > limit:
            return None
        match = grammar.match(text, start)
        if match is not None:
            return match
        step = filler.match(text, position)
        if step is None or step.end() == position:
            return None
        position = step.end()


@lru_cache(maxsize=64)
def _filler(rules: ProseRules, name: str) -> regex.Pattern[str]:
    """One filler word or mark that may stand between a cue of `name` and its value; a word
    only when a space or colon follows it: the 'A' of firmware 'A.8B' is no article."""
    words = sorted({*rules.fillers, *rules.value_fillers.get(name, ())}, key=len, reverse=True)
    marks = ":|-|," if name in rules.comma_fields else ":|-"
    alternation = "|".join(regex.escape(w) for w in words) or "(?!)"
    return regex.compile(rf"[ \t]*(?:(?:{alternation})(?=[\s:,])|{marks})[ \t]*", regex.IGNORECASE)


def _clause_end(text: str, start: int, grammar_end: int, cue_starts: Sequence[int], name: str,
                lexicon: Lexicon, stop_words: Sequence[str]) -> int:
    """Where the value ends: its clause (to a comma, `and`, a stop word, the next cue or the
    paragraph's end), when the whole clause still has the field's shape (`3.8B Build String`);
    else where its grammar ended."""
    paragraph = text.find(BREAK, grammar_end)
    paragraph = len(text) if paragraph < 0 else paragraph
    following = next((c for c in cue_starts if c >= grammar_end), len(text))
    found = clause(text[start:min(following, paragraph)], stop_words)
    if found.count("(") > found.count(")"):  # a cue inside brackets: '(manufacturer code 64:0B)'
        found = clause(text[start:paragraph], stop_words)
        inside = [c for c in cue_starts if start + found.find("(") < c < start + len(found)]
        if any(_cue_field(text, c, lexicon) not in (name, None) for c in inside):
            return grammar_end  # '(hardware 1.7, firmware 0x0106)' after a name is not its own
    found = _TRAILING_WORDS.sub("", found)  # '2.0.15 on hardware ...': the 'on' is not the value's
    end = start + len(found)
    extension = regex.sub(r"\([^()]*\)", "", text[grammar_end:end])  # brackets may hold words
    if any(w.group() not in _NAME_CONNECTORS for w in _LOWER_WORD.finditer(extension)):
        return grammar_end
    if end > grammar_end and found.count("(") == found.count(")") and lexicon.fits(name, found.strip()):
        return end
    return grammar_end


def _cue_field(text: str, position: int, lexicon: Lexicon) -> str | None:
    """The field of the longest cue starting at `position`."""
    best: tuple[int, str] | None = None
    for name, cues in lexicon.cues.items():
        for cue in cues:
            if _cue_pattern(cue).match(text, position) and (best is None or len(cue) > best[0]):
                best = (len(cue), name)
    return best[1] if best else None


# Words a value never ends with: what follows them is the sentence going on.
_TRAILING_WORDS = regex.compile(
    r"(?:\s+(?:on|in|at|with|for|of|by|from|to|under|and|or|as|the|a|an))+\s*$", regex.IGNORECASE)


_NUMBER = regex.compile(r"\d+(?:\.\d+)*")


def _good(name: str, value: str, lexicon: Lexicon, cue: str) -> bool:
    value = value.strip()
    if name == "manufacturer" and len(value.split()) < 2 and "(" not in value:
        # One capitalised word after "from" or "vendor" is not a company name; after a verb of
        # making ("manufactured by Aclara,") it is.
        if not cue.endswith((" by", " of")):
            return False
    if name == "model" and _NUMBER.fullmatch(value):
        return False  # 'Unit 4' of an address, 'Unit 1.3': a number alone is no model in prose
    if name == "model" and {w.casefold().strip(",.;:()") for w in value.split()[:4]} & (
            lexicon.prose.not_product_words):
        return False  # `Zigbee Certified Product` / `Zigbee Smart Energy 1.4 ...`: a standard
    return lexicon.fits(name, value)


# --- values before their cue, and company names without one -----------------------------------


def _after_cues(text: str, spans: Sequence[tuple[int, int, Segment]], lexicon: Lexicon,
                taken: list[tuple[int, int]]) -> list[Value]:
    """Values right before a cue that follows them: `NAME, the manufacturer` or `NAME (the
    applicant)`, and a model token before its device noun (`the IHD-7 display`)."""
    found: list[Value] = []
    for name, cues in lexicon.prose.after_cues.items():
        for cue in sorted(cues, key=len, reverse=True):
            for hit in _cue_pattern(cue).finditer(text):
                if name == "model" and text[hit.end():].lstrip().startswith("(Image Type"):
                    continue  # 'LM-5 gas meter (Image Type 0C:05)': the image type grammar's
                if name == "model" and _inside_name(text, hit.start(), lexicon.prose):
                    continue  # `the CH-2000 Comms Hub`: the product grammar's, whole
                span = _before(text, hit.start(), name, words=cue not in _WEAK_NOUNS)
                if span is None or _overlaps(taken, *span):
                    continue
                value = " ".join(text[span[0]:span[1]].split())
                if not _good(name, value, lexicon, "") and not _has_legal_form(value, lexicon.prose):
                    continue
                taken.append((span[0], hit.end()))
                found.append(_value(name, span, text, spans,
                                    f"prose {name} grammar + cue {cue!r} after it"))
    return found


_WEAK_NOUNS = frozenset({"unit", "device"})  # 'LH/ZB/19-007 test unit' is a reference


def _before(text: str, end: int, name: str, words: bool = True) -> tuple[int, int] | None:
    """The span of a `name` value that ends right before `end`: after ',' or '(' for a
    manufacturer, after one space for a model."""
    window_start = max(text.rfind(BREAK, 0, end) + 1, text.rfind(". ", 0, end) + 1, end - 90, 0)
    head = text[window_start:end]
    if name == "manufacturer":
        match = regex.search(r"(?:,|\()\s*$", head)
        if match is None:
            return None
        head = head[: match.start()]
        value = regex.search(rf"(?:{GRAMMARS['manufacturer'].pattern})$", head)
    else:  # the token, and up to two lower-case words of kind before the noun: 'the
        # OMNIPOWER-3P three-phase meter', 'the U6-Z diaphragm gas meter' (hand-made letters)
        value = regex.search(
            rf"(?<![\w-/])(?P<token>(?=[A-Za-z0-9\-./_]*\d)(?![^ \t]*/){_TOKEN})"
            rf"(?:[ \t]+[a-z][a-z\-]+){{0,{2 if words else 0}}}[ \t]+$", head)
    if value is None:
        return None
    start = window_start + value.start()
    stop = window_start + (value.end("token") if name == "model" else value.end())
    while stop > start and text[stop - 1] in " \t":
        stop -= 1
    return (start, stop) if stop > start else None


def _has_legal_form(value: str, rules: ProseRules) -> bool:
    words = value.split()
    return bool(words) and words[-1] in rules.legal_forms


@lru_cache(maxsize=8)
@lru_cache(maxsize=8)  # ProseRules hash by identity: one pattern per rules loaded
def _company_pattern(rules: ProseRules) -> regex.Pattern[str]:
    forms = "|".join(regex.escape(f) for f in sorted(rules.legal_forms, key=len, reverse=True))
    word = r"(?:[A-Z][\w&.+\-]*|&|and|of)"
    return regex.compile(
        rf"(?<![\w&.+\-])[A-Z][\w&.+\-]*(?:[ \t]{word}){{0,5}}[ \t](?:{forms})(?![\w])"
        rf"(?:[ \t]\({_HEX2}:?{_HEX2}\))?")


def _company(text: str, spans: Sequence[tuple[int, int, Segment]],
             lines: Sequence[Sequence[Segment]], rules: ProseRules,
             taken: list[tuple[int, int]]) -> Value | None:
    """The first company name of the page by its legal form (`Acme Metering Ltd`), when no cue
    gave the manufacturer: not on the first line (the letterhead), not a name with a test
    house's words (`... Test Laboratory Ltd`) and not right after `tested by`, `at`, ..."""
    first_line_end = len(" ".join(s.text for s in lines[0])) if lines else 0
    house_cues = [_cue_pattern(c) for c in rules.house_cues]
    pattern = _company_pattern(rules)
    # the letterhead's company is the test house wherever it stands again (a footer's
    # `Veritest Interop Services Ltd · Registered in England`, a signature's title)
    house = {" ".join(m.group().split()) for m in pattern.finditer(text, 0, first_line_end)}
    for match in pattern.finditer(text):
        start, end = match.span()
        if start < first_line_end or _overlaps(taken, start, end):
            continue
        if " ".join(match.group().split()) in house:
            continue
        words = {w.casefold().strip(".,") for w in match.group().split()}
        if words & rules.house_words:
            continue
        before = text[max(0, start - 24):start].rstrip()
        if any(p.search(before) and p.search(before).end() == len(before)  # type: ignore[union-attr]
               for p in house_cues):
            continue
        taken.append((start, end))
        form = next(w for w in reversed(match.group().split()) if w in rules.legal_forms)
        return _value("manufacturer", (start, end), text, spans,
                      f"prose company grammar (legal form {form!r}), " + NO_CUE)
    return None


_NAME_WORD = r"(?:\p{Lu}[\p{L}&.+\-']*|&|and|of|du|de)"
# A company name and its manufacturer code in brackets, no cue needed: `Develco (0x1015)`,
# `Elster (0x1057)`, `Hildebrand Technology Ltd (12:22)`; a lower-case brand only after a
# preposition (`a product of ecobee (0x1080)`).
_CODED_COMPANY = regex.compile(
    rf"(?:(?<![\w&.+\-])\p{{Lu}}[\p{{L}}&.+\-']*(?:[ \t]{_NAME_WORD}){{0,5}}"
    rf"|(?<=\b(?:of|by|from|to)[ \t])\p{{Ll}}[\p{{L}}\-]+)"
    rf"[ \t]\((?:0[xX])?{_HEX2}:?{_HEX2}\)")


# A certificate ID by its look, after its cue: two to five capitals, four digits or more, ending
# in a digit (`ZSE-18-79243`, `ZSE/20/00419`, `ZIG19SE0042`) or in one capital after a separator
# (`SE2-3347-G`, `TH/2019/8698-A`); a test report (`TR-60890-SE`) does not end so, and a model
# so shaped (`SGM1412-A`) is taken by its cue before.
_ID_LOOK = regex.compile(
    r"(?<![\w\-/])\p{Lu}{2,5}(?=(?:[\w\-/]*\d){4})[\w\-/]*(?:\d|[\-/]\p{Lu})(?![\w\-/])")
ID_WORDS_ON = 8  # words an ID may stand after its cue in one clause: 'for this listing is'


def _id_later(text: str, spans: Sequence[tuple[int, int, Segment]], lexicon: Lexicon,
              taken: list[tuple[int, int]]) -> Value | None:
    """A certificate ID a few words after its cue in the same clause, by its look (`_ID_LOOK`):
    `The certificate reference for this listing is ZSE-18-79243`, `The certificate,
    ZSE-17-30219, is dated ...` (hand-made letters, read as no certificate at all)."""
    if _ID_LOOK.search(text) is None:
        return None  # most pages: nothing looks like an ID
    folded = text.casefold()
    for cue in lexicon.cues.get("certificate_id", ()):
        if cue.casefold() not in folded:
            continue
        for hit in _cue_pattern(cue).finditer(text):
            clause = regex.split(r"[.;](?:\s|$)|" + BREAK, text[hit.end():], maxsplit=1)[0]
            words = list(regex.finditer(r"\S+", clause))[:ID_WORDS_ON]
            match = _ID_LOOK.search(clause, 0, words[-1].end()) if words else None
            if match is None:
                continue
            start, end = hit.end() + match.start(), hit.end() + match.end()
            # (a value another cue read inside the ID's clause gives way: `certificate
            # reference for this device is SE2-3347-G` is no model `SE2-3347-G`)
            before = [(a, b) for a, b in taken if a < hit.start()]
            if _overlaps(before, start, end) or not lexicon.fits("certificate_id", match.group()):
                continue
            taken.append((start, end))
            return _value("certificate_id", (start, end), text, spans,
                          f"prose cue {cue!r} + certificate ID look, in its clause")
    return None


def _read_inside(value: Value, span: tuple[int, int]) -> bool:
    """A prose value read from text that overlaps the span."""
    return value.at is not None and value.at < span[1] and span[0] < value.at + len(value.text)


_ARTICLES = frozenset({"The", "A", "An", "This", "Our", "Your"})


def _coded_companies(text: str, spans: Sequence[tuple[int, int, Segment]], rules: ProseRules,
                     taken: list[tuple[int, int]]) -> list[Value]:
    """The company names followed by their code in brackets (`_CODED_COMPANY`) that no cue
    took: a code names a manufacturer as surely as a cue (hand-made letters: `The manufacturer
    of record is Elster (0x1057)` gave `Elster Metering Ltd` of the address). Not a test house's
    name, nor `Image Type (02:E3)`."""
    found: list[Value] = []
    for match in _CODED_COMPANY.finditer(text):
        start, end = match.span()
        name = match.group()[: match.group().rindex("(")].split()
        if _overlaps(taken, start, end) or name[-1].casefold() == "type":
            continue
        if {w.casefold().strip(".,") for w in name} & rules.house_words:
            continue
        if len(name) > 1 and name[0] in _ARTICLES:  # 'The Sensus (0x10A2) ...'
            start += len(name[0]) + 1
        taken.append((start, end))
        found.append(_value("manufacturer", (start, end), text, spans,
                            "prose company grammar (its code in brackets), " + NO_CUE))
    return found


def _overlaps(taken: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < b and a < end for a, b in taken)


GUTTER_LINES = 5  # segments each side of a gutter before the text is read as two columns
GUTTER_CROSSING = 0.2  # ...with at most this share of the lines crossing it (headings)


def _column_by_column(lines: Sequence[Sequence[Segment]]) -> list[list[list[Segment]]]:
    """Lines of a page set in two columns read column by column: where a vertical gutter in the
    middle of the text is crossed by no segment of a run of lines, that run is read down its
    left column, then down its right one (`... relies on devices` on the left and `Enquiries:
    +44 ...` on the right stand on one line). Lines crossing the gutter (a letterhead, a
    heading) stay where they are. Returns blocks of lines, each a column's run or the lines
    between; text in one column comes back as one block."""
    segs = [s for line in lines for s in line]
    if len(segs) < 2 * GUTTER_LINES:
        return [[list(line) for line in lines]]
    left_edge, right_edge = min(s.x0 for s in segs), max(s.x1 for s in segs)
    width = right_edge - left_edge
    if width <= 0:
        return [[list(line) for line in lines]]
    steps = [left_edge + width * step / 100 for step in range(30, 71, 2)]
    crossing = [0] * len(steps)  # lines crossing each candidate, counted once a line
    for line in lines:
        crossed = {n for s in line for n, x in enumerate(steps) if s.x0 < x < s.x1}
        for n in crossed:
            crossing[n] += 1
    best: tuple[int, float] | None = None
    for n, x in enumerate(steps):
        if crossing[n] > GUTTER_CROSSING * len(lines) or (best and crossing[n] >= best[0]):
            continue
        if sum(s.x1 <= x for s in segs) >= GUTTER_LINES and sum(
                s.x0 >= x for s in segs) >= GUTTER_LINES:
            best = (crossing[n], x)
    if best is None:
        return [[list(line) for line in lines]]
    gutter = best[1]
    out: list[list[list[Segment]]] = []
    left: list[list[Segment]] = []
    right: list[list[Segment]] = []
    across: list[list[Segment]] = []

    def flush() -> None:
        for block in (across, left, right):
            if block:
                out.append(list(block))
                block.clear()

    for line in lines:
        if any(s.x0 < gutter < s.x1 for s in line):
            if left or right:
                flush()
            across.append(list(line))
            continue
        if across:
            flush()
        if part := [s for s in line if s.x1 <= gutter]:
            left.append(part)
        if part := [s for s in line if s.x0 >= gutter]:
            right.append(part)
    flush()
    return out


def _flatten_blocks(blocks: Sequence[Sequence[Sequence[Segment]]]
                    ) -> tuple[str, list[tuple[int, int, Segment]]]:
    """Each block flattened on its own (its own margins for the short-line rule), the blocks
    joined by a paragraph break."""
    texts: list[str] = []
    spans: list[tuple[int, int, Segment]] = []
    position = 0
    for block in blocks:
        if texts:
            texts.append(BREAK)
            position += len(BREAK) + 1
        text, block_spans = _flatten(block)
        spans.extend((a + position, b + position, seg) for a, b, seg in block_spans)
        texts.append(text)
        position += len(text) + 1
    return " ".join(texts), spans


def _flatten(lines: Sequence[Sequence[Segment]]) -> tuple[str, list[tuple[int, int, Segment]]]:
    """The lines as one string, and each segment's character span in it. Lines of one paragraph
    are joined by a space; a short line or a wide gap ends a paragraph (BREAK)."""
    parts: list[str] = []
    spans: list[tuple[int, int, Segment]] = []
    position = 0
    right = max((line[-1].x1 for line in lines if line), default=0.0)
    left = min((line[0].x0 for line in lines if line), default=0.0)
    indent: float | None = None  # a list item's text, right of its bullet
    for number, line in enumerate(lines):
        if line and _BULLET.match(line[0].text):
            indent = line[1].x0 if len(line) > 1 and _BULLET.fullmatch(line[0].text.strip()) \
                else None
        for seg in line:
            text = seg.text
            spans.append((position, position + len(text), seg))
            parts.append(text)
            position += len(text) + 1
        following = lines[number + 1] if number + 1 < len(lines) else []
        if line and following and (_ends_paragraph(line, following, left, right)
                                   or _BULLET.match(following[0].text)
                                   or (indent is not None
                                       and following[0].x0 < indent - ITEM_INDENT_SLACK_PT)):
            # (a list item ends where the next one's bullet starts, or where a line starts left
            # of its text: `• Tern G ...` / `hardware version 03_05` / `A certificate ...`)
            parts.append(BREAK)
            position += len(BREAK) + 1
            indent = None
    return " ".join(parts), spans


ITEM_INDENT_SLACK_PT = 3.0  # a line starting this far left of an item's text ends the item


def _ends_paragraph(line: Sequence[Segment], following: Sequence[Segment], left: float,
                    right: float) -> bool:
    if not following:
        return False
    width = right - left
    if width > 0 and line[-1].x1 - left < SHORT_LINE * width:
        return True
    height = max(s.height for s in line)
    return following[0].top - line[-1].bottom > PARAGRAPH_GAP * height


def _value(name: str, span: tuple[int, int], text: str,
           spans: Sequence[tuple[int, int, Segment]], rule: str) -> Value:
    """The value with the part of each segment it covers (boxes cut in proportion)."""
    start, end = span
    segments = [_cut(seg, max(start - a, 0), min(end, b) - a)
                for a, b, seg in spans if a < end and start < b] or [spans[0][2]]
    text_value = " ".join(text[start:end].replace(BREAK, " ").split()).strip(" ,;:")
    if name == "model":  # `Your Zephyr ZC-14`, `The Tern GSME 6`: the article is the sentence's
        text_value = regex.sub(r"^(?:The|Your|Our|Its|Their|Le|La|Les|Das|Der|Die|El|Il|Lo|Het)\s(?=\S)",
                               "", text_value)  # (and a translation's: `Le Tern GSME 6`)
    if name == "manufacturer":
        text_value = regex.sub(r"['\u2019]s$", "", text_value)  # "Fenland Metering Company's"
        # a sentence's full stop after a legal form (`... Devices GmbH. The device was`), not
        # the dots of an abbreviation written with them (`S.A.`, `B.V.`)
        text_value = regex.sub(r"(?:(?<=\b(?:GmbH|Ltd|Limited|plc|AG|SE|Srl|BV|Oy|AB))|(?<=[a-z]{3}))\.$",
                               "", text_value)  # (or a word's: `... Metering Services. We`)
    return Value(name, text_value, segments, rule, at=start)


def _cut(seg: Segment, start: int, end: int) -> Segment:
    if start <= 0 and end >= len(seg.text):
        return seg
    width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
    return Segment(seg.text[start:end], seg.x0 + start * width, seg.top, seg.x0 + end * width,
                   seg.bottom, seg.confidence, cut=True)
