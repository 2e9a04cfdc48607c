"""Reading a text: tokenisers and codings -> readings (candidate hex values with what they show).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache, partial
from typing import Any, NamedTuple

import regex

from pipeline.codings.primitives import (
    CONVERSIONS,
    OCTETS,
    PLACEMENTS,
    Convert,
    Nibbles,
    Place,
    _engine_octets,
    _shown_text,
    _value_text,
    place_bitfield,
)
from pipeline.codings.rules import (
    Coding,
    CodingRules,
    ManufacturerCodings,
    Tokeniser,
    _declarations,
    load_codings,
)
from pipeline.models import Candidate, Field
from pipeline.registry import Registry, canonical_code

MAX_SCAN = 500  # characters of certificate text read per field; values are short
REGEX_TIMEOUT = 0.05  # seconds per pattern; a rules pattern that backtracks cannot hang a run


# --- reading a text ------------------------------------------------------------------------------

class Token(NamedTuple):
    shown: str  # the text the tokeniser matched, as it appears
    parts: tuple[tuple[str, ...], ...]


class Reading(NamedTuple):
    """One candidate with what the engine needs beyond Candidate: which hex digits are shown.

    Immutable like a frozen dataclass, and about three times cheaper to make: a text gives several
    readings on every call.
    """

    nibbles: Nibbles
    coding: str
    placement: str
    shown: str
    steps: tuple[str, ...]
    authoritative: bool = False
    also: tuple[str, ...] = ()  # other codings giving the same value
    declared_only: bool = False  # a vendor's coding, read only under a declaration naming it

    @property
    def value_nibbles(self) -> tuple[int, ...]:
        return tuple([n or 0 for n in self.nibbles])


class Readings(NamedTuple):
    kept: tuple[Reading, ...]
    excluded: tuple[Reading, ...]  # general readings ruled out by the manufacturer's declaration
    narrowed_by: ManufacturerCodings | None  # the declaration in force for this field, if any
    by_value: Mapping[tuple[int, ...], Reading]  # the kept readings by value_nibbles (one each)


def _scan_text(text: str) -> str:
    """The bounded, compatibility-normalised text the patterns read (fullwidth digits -> ASCII)."""
    return unicodedata.normalize("NFKC", text[:MAX_SCAN])[:MAX_SCAN]


def _finditer(pattern: Any, text: str) -> list[Any]:
    try:
        return list(pattern.finditer(text, timeout=REGEX_TIMEOUT))
    except TimeoutError:
        return []  # a pathological text yields no reading rather than a hung run


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every span replaced by as many spaces (so later offsets still hold).

    Built from slices rather than char by char; the spans are sorted and their union blanked, so
    the result does not depend on the order or overlap of the matches.
    """
    pieces: list[str] = []
    end = 0
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        start = max(start, end)
        pieces += (text[end:start], " " * (stop - start))
        end = stop
    pieces.append(text[end:])
    return "".join(pieces)


def _tokens(tokeniser: Tokeniser, matches: Iterable[Any]) -> list[Token]:
    tokens = []
    for match in matches:
        parts = tuple([
            tuple(tokeniser.component.findall(match.group(p) or "")) for p in tokeniser.parts
        ])
        if any(parts):
            tokens.append(Token(match.group(0).strip(), parts))
    return tokens


class Scan:
    """One text read by tokenisers in rules order, and the tokens each found.

    A claiming tokeniser blanks what it read for the tokenisers after it. The blanking waits until
    one of them reads the text: the last tokeniser to run is often a claiming one (a hex value
    the text shows), and then nothing needs blanking.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.claimed: list[Any] = []  # the last claiming tokeniser's matches, not yet blanked
        self.found: dict[str, list[Token]] = {}

    def run(self, tokenisers: Iterable[Tokeniser]) -> None:
        for tokeniser in tokenisers:
            if self.claimed:
                self.text = _blank(self.text, [match.span() for match in self.claimed])
                self.claimed = []
            matches = _finditer(tokeniser.pattern, self.text)
            self.found[tokeniser.name] = _tokens(tokeniser, matches) if matches else []
            if tokeniser.claims:
                self.claimed = matches


class Step(NamedTuple):
    """One coding applied to one of its tokenisers' tokens."""

    tokeniser: str
    coding: Coding
    place: Place
    convert: Convert


class Plan(NamedTuple):
    """How one field is read under one set of rules; worked out once, not on every call.

    Authoritative codings (a hex value the text states) silence every other reading, so they are
    tried first, with only the tokenisers they need (and those before them in rules order, whose
    claims shape the text they see); the rest run only when those give no reading.
    """

    total: int  # hex digits in the field's value
    first_tokenisers: tuple[Tokeniser, ...]  # in rules order, up to the last an authoritative coding uses
    other_tokenisers: tuple[Tokeniser, ...]  # the remaining ones the field's codings use
    authoritative: tuple[Step, ...]  # in rules order: by coding, then by the coding's tokenisers
    others: tuple[Step, ...]  # the same, for the codings that are not authoritative


def _make_plan(rules: CodingRules, field: Field) -> Plan:
    codings = rules.for_field(field)
    wanted = {t for c in codings for t in c.tokenisers}
    tokenisers = tuple(t for n, t in rules.tokenisers.items() if n in wanted)
    needed = {t for c in codings if c.authoritative for t in c.tokenisers}
    split = max((i + 1 for i, t in enumerate(tokenisers) if t.name in needed), default=0)
    steps = [Step(t, c, _placement(c), CONVERSIONS[c.conversion])
             for c in codings for t in c.tokenisers]
    return Plan(
        2 * OCTETS[field],
        tokenisers[:split],
        tokenisers[split:],
        tuple(s for s in steps if s.coding.authoritative),
        tuple(s for s in steps if not s.coding.authoritative),
    )


def _placement(coding: Coding) -> Place:
    """The coding's placement, with its bit widths when it has them (the bitfield placement)."""
    if coding.bits:
        return partial(place_bitfield, bits=coding.bits)
    return PLACEMENTS[coding.placement]


_PLANS: dict[tuple[int, Field], tuple[CodingRules, Plan]] = {}


def _plan(rules: CodingRules, field: Field) -> Plan:
    """`_make_plan`, memoised on the rules' identity (CodingRules holds mappings, so it cannot be
    hashed); each entry keeps its rules alive, so the id cannot be reused by other rules."""
    entry = _PLANS.get((id(rules), field))
    if entry is None or entry[0] is not rules:
        entry = _PLANS[(id(rules), field)] = (rules, _make_plan(rules, field))
    return entry[1]


def _place_tokens(steps: Iterable[Step], tokens: Mapping[str, list[Token]], total: int) -> list[Reading]:
    readings = []
    for tokeniser, coding, place, convert in steps:
        for token in tokens[tokeniser]:
            layout = place(token.parts, convert, total)
            if layout is not None:
                readings.append(
                    Reading(layout.nibbles, coding.name, coding.placement, token.shown,
                            layout.steps, coding.authoritative, (), coding.declared_only)
                )
    return readings


def _coding_readings(text: str, field: Field, rules: CodingRules) -> list[Reading]:
    """The authoritative codings' readings if there are any, else every other coding's."""
    plan = _plan(rules, field)
    scan = Scan(text)
    scan.run(plan.first_tokenisers)
    authoritative = _place_tokens(plan.authoritative, scan.found, plan.total)
    if authoritative:
        return authoritative
    scan.run(plan.other_tokenisers)
    return _place_tokens(plan.others, scan.found, plan.total)


_BRACKETED = regex.compile(r"\([^()]{0,200}\)|\[[^\[\]]{0,200}\]")


def _name_variants(text: str) -> list[str]:
    """The name as shown, and without bracketed asides: 'EDMI Ltd (UK)' -> also 'EDMI Ltd'."""
    variants = [text, _BRACKETED.sub(" ", text)]
    return [v for i, v in enumerate(variants) if v.strip() and v not in variants[:i]]


def _nibbles_of_code(code: str) -> Nibbles:
    return tuple(int(c, 16) for c in code.replace(":", ""))


def _registry_readings(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> list[Reading]:
    if registry is None or field not in (Field.MANUFACTURER, Field.MODEL):
        return []
    readings = []
    for name in _name_variants(text.strip()):
        if field is Field.MANUFACTURER:
            for m in registry.manufacturer_entries(name):
                readings.append(Reading(_nibbles_of_code(m.code), f"registry:{m.source}:{m.name}",
                                        "", name.strip(), (f"{m.name} -> {m.code}",)))
        elif manufacturer_code:
            for e in registry.model_entries(manufacturer_code, name):
                readings.append(Reading(_nibbles_of_code(e.image_type),
                                        f"registry:{e.source}:{e.name}", "", name.strip(),
                                        (f"{e.name} -> {e.image_type}",)))
    return readings


def _dedupe(readings: Iterable[Reading]) -> dict[tuple[int, ...], Reading]:
    """One reading per value, by value in rules order: the first coding in rules order names it,
    the others are noted."""
    by_value: dict[tuple[int, ...], Reading] = {}
    for r in readings:
        value = r.value_nibbles
        first = by_value.get(value)
        if first is None:
            by_value[value] = r
        elif r.coding != first.coding and r.coding not in first.also:
            by_value[value] = first._replace(also=first.also + (r.coding,))
    return by_value


@lru_cache(maxsize=1024)
def _text_readings(text: str, field: Field) -> tuple[Reading, ...]:
    """Every coding's readings of a scanned text, vendor codings included, in rules order.

    They depend on the text and field alone, so they are cached apart from the registry and the
    manufacturer code: a hardware text such as 'Version 1 Revision 2' recurs under many
    manufacturers. Which of them count depends on the manufacturer's declaration (`_usable`).
    """
    return tuple(_coding_readings(text, field, load_codings()))


def _with_tails(
    readings: list[Reading], field: Field, declared: ManufacturerCodings | None
) -> list[Reading]:
    """The readings, and for each declared tail a reading of its coding with the tail filling the
    digits the text does not show (exactly those: a tail never overwrites what the text shows)."""
    tails = declared.tails.get(field, ()) if declared else ()
    out = list(readings)
    for tail in tails:
        digits = tuple(int(d, 16) for d in tail.digits)
        for r in readings:
            shown = r.nibbles[: len(r.nibbles) - len(digits)]
            if (r.coding == tail.coding and None not in shown
                    and all(n is None for n in r.nibbles[len(shown):])):
                out.append(r._replace(nibbles=shown + digits, coding=tail.name,
                                      steps=(*r.steps, f"tail {tail.digits} declared")))
    return out


def _usable(reading: Reading, field: Field, declared: ManufacturerCodings | None) -> bool:
    """`ManufacturerCodings.uses` for a reading; without a declaration, the general codings."""
    if declared is None:
        return reading.authoritative or not reading.declared_only
    return declared.uses(field, reading.coding, authoritative=reading.authoritative,
                         declared_only=reading.declared_only)


@lru_cache(maxsize=1024)
def _readings_cached(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> Readings:
    declared = _declarations().get(manufacturer_code or "")
    if declared is not None and field not in declared.codings and field not in declared.also:
        declared = None
    readings = _text_readings(text, field)
    kept = _with_tails([r for r in readings if _usable(r, field, declared)], field, declared)
    if not readings:
        kept = _registry_readings(text, field, registry, manufacturer_code)
    by_value = _dedupe(kept)
    excluded = _dedupe(r for r in readings if not r.declared_only and not _usable(r, field, declared))
    drop = tuple(r for v, r in excluded.items() if v not in by_value)
    return Readings(tuple(by_value.values()), drop, declared, by_value)


@lru_cache(maxsize=1024)
def _manufacturer_code(text: str) -> str | None:
    """`canonical_code`, memoised: a run judges every field of a row under the same code."""
    return canonical_code(text)


def _as_field(field: Field | str) -> Field:
    """Field(field), without the enum look-up when it is already one."""
    return field if type(field) is Field else Field(field)


def _readings(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> Readings:
    code = _manufacturer_code(manufacturer_code) if isinstance(manufacturer_code, str) else None
    return _readings_cached(_scan_text(text), _as_field(field), registry, code)




def _candidate(reading: Reading, field: Field) -> Candidate:
    octets = _engine_octets(reading.nibbles)
    note = f"{reading.shown!r} -> {_shown_text(reading.nibbles, field)}"
    if reading.steps:
        note += f" ({', '.join(reading.steps)})"
    if reading.also:
        note += f"; same value by {', '.join(reading.also)}"
    return Candidate(
        value=_value_text(reading.nibbles, field),
        coding=reading.coding,
        placement=reading.placement,
        explained=tuple("?" not in o for o in octets),
        note=note,
    )
