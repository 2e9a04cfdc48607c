"""Plain-English / BCD / hex certificate text -> candidate CPL hex values, and the field verdict.

The audit rests here: which hex values may a certificate's text stand for, by which coding, and is
the CPL value one of them. The codings are data (`rules/codings.toml`); this module implements the
few primitives they combine (conversions and placements) and the verdict rules of SPEC "Verdicts".

Safety over reach: a false MATCH/MAPPED is the worst defect. So each coding applies one conversion
and one placement to the whole value; a hex value the certificate states outright silences every
other reading; registry names are matched exactly after normalisation, never guessed; and MATCH or
MAPPED is given only when the CPL value equals a candidate's value exactly (octets the text does
not show being 00). Text is untrusted: at most MAX_SCAN characters are read, patterns are bounded
and run under a time limit, and `judge` never raises.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import regex

from pipeline.models import Candidate, Field, FieldJudgement, Verdict
from pipeline.registry import RULES_DIR, Registry, canonical_code, normalise_company

CODINGS_TOML = RULES_DIR / "codings.toml"
MANUFACTURER_CODINGS_DIR = RULES_DIR / "manufacturer_codings"
MAX_SCAN = 500  # characters of certificate text read per field; values are short
REGEX_TIMEOUT = 0.05  # seconds per pattern; a rules pattern that backtracks cannot hang a run
INTERNAL_ERROR = "internal error while reading the text"
OCTETS: Mapping[Field, int] = MappingProxyType(
    {Field.FIRMWARE: 4, Field.MANUFACTURER: 2, Field.MODEL: 2, Field.HARDWARE: 2}
)

Nibbles = tuple[int | None, ...]  # one hex digit each; None where the text does not show it


# --- primitives: conversions (one component -> `width` hex digits) ------------------------------

def _in_base(value: int, base: int, width: int) -> list[int] | None:
    """`value` as `width` digits in `base`, or None when it does not fit."""
    if value < 0 or value >= base**width:
        return None
    digits = []
    for _ in range(width):
        value, digit = divmod(value, base)
        digits.append(digit)
    return digits[::-1]


def _is_decimal(text: str) -> bool:
    return 0 < len(text) <= 10 and all(c in "0123456789" for c in text)


def convert_decimal(component: str, width: int) -> list[int] | None:
    """'12' -> 0C: the component's decimal value in hex (the guidance's "hex coding")."""
    return _in_base(int(component), 16, width) if _is_decimal(component) else None


def convert_bcd(component: str, width: int) -> list[int] | None:
    """'12' -> 12: decimal digits written as hex digits; too many digits for the field -> None."""
    return _in_base(int(component), 10, width) if _is_decimal(component) else None


def convert_hex_digits(component: str, width: int) -> list[int] | None:
    """'8D' -> 8D: the component is already hex digits."""
    if not 0 < len(component) <= 8 or any(c not in "0123456789abcdefABCDEF" for c in component):
        return None
    return _in_base(int(component, 16), 16, width)


Convert = Callable[[str, int], "list[int] | None"]
CONVERSIONS: Mapping[str, Convert] = MappingProxyType(
    {"decimal": convert_decimal, "bcd": convert_bcd, "hex-digits": convert_hex_digits}
)


# --- primitives: placements (converted components -> where they sit in the value) ---------------

class Layout(NamedTuple):
    nibbles: Nibbles
    steps: tuple[str, ...]  # "12->0C" per component, for the reason an auditor reads


def _hexstr(nibbles: Sequence[int]) -> str:
    return "".join(f"{n:X}" for n in nibbles)


class Converted(NamedTuple):
    nibbles: tuple[int, ...]
    step: str  # "12->0C"


@lru_cache(maxsize=1024)
def _converted(convert: Convert, component: str, width: int) -> Converted | None:
    """`convert(component, width)` with its step text, memoised.

    Conversions are pure and their inputs small and repetitive: the same components ('0', '1',
    '12') recur across certificates, and several codings convert one component the same way
    (left- and right-aligned share every conversion). Cleared by `clear_cache`.
    """
    digits = convert(component, width)
    if digits is None:
        return None
    return Converted(tuple(digits), f"{component}->{_hexstr(digits)}")


def _fill(components: Sequence[str], convert: Convert, width: int) -> Layout | None:
    nibbles: tuple[int, ...] = ()
    steps = []
    for component in components:
        converted = _converted(convert, component, width)
        if converted is None:
            return None
        nibbles += converted.nibbles
        steps.append(converted.step)
    return Layout(nibbles, tuple(steps))


def _flat(parts: Sequence[Sequence[str]]) -> Sequence[str]:
    """Every part's components, in order; one part is returned as it is (no copy)."""
    if len(parts) == 1:
        return parts[0]
    return tuple(c for part in parts for c in part)


def _place_aligned(
    parts: Sequence[Sequence[str]], convert: Convert, total: int, *, right: bool
) -> Layout | None:
    """One octet per component, from octet 1 (left) or ending at the last octet (right);
    the octets on the other side are not shown."""
    components = _flat(parts)
    if not components or 2 * len(components) > total:
        return None
    filled = _fill(components, convert, 2)
    if filled is None:
        return None
    unshown = (None,) * (total - len(filled.nibbles))
    nibbles = unshown + filled.nibbles if right else filled.nibbles + unshown
    return Layout(nibbles, filled.steps)


def place_left(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    return _place_aligned(parts, convert, total, right=False)


def place_right(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    return _place_aligned(parts, convert, total, right=True)


def place_whole(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """The components share the whole value equally: one 32-bit number, or four octets."""
    components = _flat(parts)
    if not components or total % len(components):
        return None
    return _fill(components, convert, total // len(components))


def place_digit_stream(
    parts: Sequence[Sequence[str]], convert: Convert, total: int
) -> Layout | None:
    """Each written digit is one hex digit, packed from the start; the rest not shown."""
    components = _flat(parts)
    nibbles: tuple[int, ...] = ()
    for component in components:
        converted = _converted(convert, component, len(component))
        if converted is None:
            return None
        nibbles += converted.nibbles
    if not nibbles or len(nibbles) > total:
        return None
    steps = (f"digits {' '.join(_hexstr(nibbles))} packed from octet 1",)
    return Layout(nibbles + (None,) * (total - len(nibbles)), steps)


def _sixteen_bits(components: Sequence[str], convert: Convert) -> Layout | None:
    """A 16-bit OTA part (application or stack) shared equally by its components, right-aligned."""
    if not components:
        return Layout((None,) * 4, ())
    if len(components) > 4:
        return None
    width = 4 // len(components)
    filled = _fill(components, convert, width)
    if filled is None:
        return None
    return Layout((0,) * (4 - len(filled.nibbles)) + filled.nibbles, filled.steps)


def _app_and_stack(parts: Sequence[Sequence[str]]) -> tuple[Sequence[str], Sequence[str]] | None:
    if len(parts) >= 2 and parts[1]:
        return parts[0], parts[1]
    components = _flat(parts)
    if len(components) > 4:
        return None
    return components[:2], components[2:]


def place_app_stack(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """Application release/build in octets 1-2, stack release/build in 3-4 (OTA recommendation)."""
    split = _app_and_stack(parts)
    if total != 8 or split is None or not split[0]:
        return None
    app, stack = _sixteen_bits(split[0], convert), _sixteen_bits(split[1], convert)
    if app is None or stack is None:
        return None
    steps: tuple[str, ...] = (f"application {' '.join(app.steps)}",)
    if stack.steps:
        steps += (f"stack {' '.join(stack.steps)}",)
    return Layout(app.nibbles + stack.nibbles, steps)


def place_app_only(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """The whole version is the application part; the stack is not shown."""
    if total != 8 or (len(parts) >= 2 and parts[1]):
        return None  # a stack the text does show cannot be ignored
    app = _sixteen_bits(_flat(parts), convert)
    if app is None or not app.steps:
        return None
    return Layout(app.nibbles + (None,) * 4, app.steps)


Place = Callable[[Sequence[Sequence[str]], Convert, int], "Layout | None"]
PLACEMENTS: Mapping[str, Place] = MappingProxyType(
    {
        "whole-value": place_whole,
        "left-aligned": place_left,
        "right-aligned": place_right,
        "app-stack": place_app_stack,
        "app-only": place_app_only,
        "digit-stream": place_digit_stream,
    }
)


# --- the rules: loaded from TOML and schema-checked ------------------------------------------

@dataclass(frozen=True)
class Tokeniser:
    name: str
    description: str
    pattern: Any  # compiled regex.Pattern
    parts: tuple[str, ...]
    component: Any  # compiled regex.Pattern splitting a part into components
    claims: bool


@dataclass(frozen=True)
class Example:
    text: str
    cpl: str
    verdict: Verdict
    note: str = ""


@dataclass(frozen=True)
class Coding:
    name: str
    fields: frozenset[Field]
    tokenisers: tuple[str, ...]
    conversion: str
    placement: str
    description: str
    source: str
    examples: tuple[Example, ...]
    authoritative: bool = False


@dataclass(frozen=True)
class CodingRules:
    path: str
    version: str
    tokenisers: Mapping[str, Tokeniser]  # in file order: the order they run in
    codings: tuple[Coding, ...]  # in file order: earlier names a shared value

    def for_field(self, field: Field) -> tuple[Coding, ...]:
        return tuple(c for c in self.codings if field in c.fields)


@dataclass(frozen=True)
class ManufacturerCodings:
    """Which codings a manufacturer declares, per field; narrows that manufacturer's candidates."""

    manufacturer_code: str
    manufacturer: str
    source: str
    codings: Mapping[Field, frozenset[str]]
    path: str
    example: bool = False  # an example is schema-checked but never narrows a verdict


Keys = tuple[set[str], set[str]]  # (required, optional) keys of a rules table
_TOP: Keys = ({"schema", "version", "tokenisers", "coding"}, set())
_TOKENISER: Keys = ({"description", "pattern"}, {"parts", "component", "claims"})
_CODING: Keys = (
    {"name", "fields", "tokenisers", "conversion", "placement", "description", "source", "examples"},
    {"authoritative"},
)
_EXAMPLE: Keys = ({"text", "cpl", "verdict"}, {"note"})
_MANUFACTURER: Keys = ({"manufacturer_code", "codings"}, {"manufacturer", "source", "example"})


def _check_keys(table: object, keys: Keys, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table, found {type(table).__name__}")
    required, optional = keys
    missing = required - table.keys()
    unknown = table.keys() - required - optional
    if missing:
        raise ValueError(f"{where}: missing key(s) {sorted(missing)}")
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
    return table


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key} must be a non-empty list of strings")
    return tuple(value)


def _string(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be a string")
    return value


def _compile(pattern: str, where: str) -> Any:
    try:
        return regex.compile(pattern)
    except (regex.error, TypeError) as exc:
        raise ValueError(f"{where}: pattern does not compile: {exc}") from exc


def _tokeniser(name: str, table: object, path: Path) -> Tokeniser:
    where = f"{path}: tokeniser {name!r}"
    table = _check_keys(table, _TOKENISER, where)
    pattern = _compile(_string(table, "pattern", where), where)
    parts = _strings(table.get("parts", ["comps"]), where, "parts")
    missing = [p for p in parts if p not in pattern.groupindex]
    if missing:
        raise ValueError(f"{where}: parts {missing} are not named groups of the pattern")
    claims = table.get("claims", False)
    if not isinstance(claims, bool):
        raise ValueError(f"{where}: claims must be true or false")
    component = _compile(table.get("component", "[0-9]+"), f"{where} component")
    return Tokeniser(name, _string(table, "description", where), pattern, parts, component, claims)


def _example(table: object, where: str) -> Example:
    table = _check_keys(table, _EXAMPLE, f"{where} example")
    try:
        verdict = Verdict(table["verdict"])
    except ValueError as exc:
        raise ValueError(f"{where} example: unknown verdict {table['verdict']!r}") from exc
    return Example(
        _string(table, "text", where), _string(table, "cpl", where), verdict,
        _string(table, "note", where),
    )


def _coding(table: object, index: int, path: Path, tokenisers: Mapping[str, Tokeniser]) -> Coding:
    name = table.get("name", f"#{index + 1}") if isinstance(table, dict) else f"#{index + 1}"
    where = f"{path}: coding {name!r}"
    table = _check_keys(table, _CODING, where)
    try:
        fields = frozenset(Field(f) for f in _strings(table["fields"], where, "fields"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    used = _strings(table["tokenisers"], where, "tokenisers")
    unknown = [t for t in used if t not in tokenisers]
    if unknown:
        raise ValueError(f"{where}: unknown tokeniser(s) {unknown}")
    if table["conversion"] not in CONVERSIONS:
        raise ValueError(f"{where}: conversion must be one of {sorted(CONVERSIONS)}")
    if table["placement"] not in PLACEMENTS:
        raise ValueError(f"{where}: placement must be one of {sorted(PLACEMENTS)}")
    if not isinstance(table["examples"], list) or not table["examples"]:
        raise ValueError(f"{where}: examples must be a non-empty list (every coding is exercised)")
    authoritative = table.get("authoritative", False)
    if not isinstance(authoritative, bool):
        raise ValueError(f"{where}: authoritative must be true or false")
    return Coding(
        name=_string(table, "name", where),
        fields=fields,
        tokenisers=used,
        conversion=table["conversion"],
        placement=table["placement"],
        description=_string(table, "description", where),
        source=_string(table, "source", where),
        examples=tuple(_example(e, where) for e in table["examples"]),
        authoritative=authoritative,
    )


@lru_cache(maxsize=8)
def load_codings(path: Path = CODINGS_TOML) -> CodingRules:
    """Load and schema-check the codings; a bad file is a ValueError naming file and coding."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read codings: {exc}") from exc
    _check_keys(data, _TOP, str(path))
    if data["schema"] != 1:
        raise ValueError(f"{path}: schema {data['schema']!r} is not supported (expected 1)")
    if not isinstance(data["tokenisers"], dict) or not isinstance(data["coding"], list):
        raise ValueError(f"{path}: [tokenisers.*] tables and [[coding]] entries expected")
    tokenisers = {n: _tokeniser(n, t, path) for n, t in data["tokenisers"].items()}
    codings = tuple(_coding(t, i, path, tokenisers) for i, t in enumerate(data["coding"]))
    seen: set[tuple[str, Field]] = set()
    for coding in codings:
        for f in coding.fields:
            if (coding.name, f) in seen:
                raise ValueError(f"{path}: coding {coding.name!r} defined twice for {f.value}")
            seen.add((coding.name, f))
    return CodingRules(str(path), str(data["version"]), MappingProxyType(tokenisers), codings)


def _manufacturer_codings(path: Path, rules: CodingRules) -> ManufacturerCodings:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{where}: cannot read: {exc}") from exc
    _check_keys(data, _MANUFACTURER, where)
    code = canonical_code(_string(data, "manufacturer_code", where))
    if code is None:
        raise ValueError(f"{where}: manufacturer_code must be XX:XX hex")
    if not isinstance(data["codings"], dict) or not data["codings"]:
        raise ValueError(f"{where}: [codings] must list codings per field")
    per_field: dict[Field, frozenset[str]] = {}
    for key, names in data["codings"].items():
        try:
            f = Field(key)
        except ValueError as exc:
            raise ValueError(f"{where}: [codings] key {key!r} is not a field") from exc
        known = {c.name for c in rules.for_field(f)}
        listed = _strings(names, f"{where} [codings]", key)
        unknown = [n for n in listed if n not in known]
        if unknown:
            raise ValueError(f"{where}: {key} lists unknown coding(s) {unknown}")
        per_field[f] = frozenset(listed)
    example = data.get("example", False)
    if not isinstance(example, bool):
        raise ValueError(f"{where}: example must be true or false")
    return ManufacturerCodings(
        code, _string(data, "manufacturer", where), _string(data, "source", where),
        MappingProxyType(per_field), where, example,
    )


@lru_cache(maxsize=8)
def load_manufacturer_codings(
    directory: Path = MANUFACTURER_CODINGS_DIR,
    codings_path: Path = CODINGS_TOML,
    include_examples: bool = False,
) -> Mapping[str, ManufacturerCodings]:
    """Per-manufacturer coding declarations, keyed by manufacturer code 'XX:XX'.

    Files marked `example = true` are checked like the others but left out unless asked for: a
    declaration nobody has confirmed must not turn a backed field into a failure.
    """
    rules = load_codings(codings_path)
    found: dict[str, ManufacturerCodings] = {}
    for path in sorted(Path(directory).glob("*.toml")) if Path(directory).is_dir() else []:
        declared = _manufacturer_codings(path, rules)
        if declared.example and not include_examples:
            continue
        if declared.manufacturer_code in found:
            other = found[declared.manufacturer_code].path
            raise ValueError(f"{path}: manufacturer {declared.manufacturer_code} also in {other}")
        found[declared.manufacturer_code] = declared
    return MappingProxyType(found)


def _declarations() -> Mapping[str, ManufacturerCodings]:
    """The declarations in force (read at call time, so a test can point elsewhere)."""
    return load_manufacturer_codings(MANUFACTURER_CODINGS_DIR)


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

    @property
    def value_nibbles(self) -> tuple[int, ...]:
        return tuple([n or 0 for n in self.nibbles])


class Readings(NamedTuple):
    kept: tuple[Reading, ...]
    excluded: tuple[Reading, ...]  # ruled out by the manufacturer's declared codings
    narrowed_by: ManufacturerCodings | None
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
    steps = [Step(t, c, PLACEMENTS[c.placement], CONVERSIONS[c.conversion])
             for c in codings for t in c.tokenisers]
    return Plan(
        2 * OCTETS[field],
        tokenisers[:split],
        tokenisers[split:],
        tuple(s for s in steps if s.coding.authoritative),
        tuple(s for s in steps if not s.coding.authoritative),
    )


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
                            layout.steps, coding.authoritative)
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
def _text_readings(text: str, field: Field) -> Mapping[tuple[int, ...], Reading]:
    """The codings' readings of a scanned text, one per value (`_dedupe`).

    They depend on the text and field alone, so they are cached apart from the registry and the
    manufacturer code: a hardware text such as 'Version 1 Revision 2' recurs under many
    manufacturers. Read-only, as every caller shares it.
    """
    return MappingProxyType(_dedupe(_coding_readings(text, field, load_codings())))


@lru_cache(maxsize=1024)
def _readings_cached(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> Readings:
    by_value = _text_readings(text, field)
    if not by_value:
        by_value = _dedupe(_registry_readings(text, field, registry, manufacturer_code))
    declared = _declarations().get(manufacturer_code or "")
    allowed = declared.codings.get(field) if declared else None
    if allowed is None:
        return Readings(tuple(by_value.values()), (), None, by_value)
    kept = {v: r for v, r in by_value.items() if r.authoritative or r.coding.startswith("registry:")
            or r.coding in allowed}
    drop = tuple(r for v, r in by_value.items() if v not in kept)
    return Readings(tuple(kept.values()), drop, declared, kept)


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


def clear_cache() -> None:
    """Forget cached readings and the memoised helpers (benchmarks measure the engine cold)."""
    _readings_cached.cache_clear()
    _text_readings.cache_clear()
    _converted.cache_clear()
    _manufacturer_code.cache_clear()
    _cpl_value.cache_clear()
    _PLANS.clear()


# --- values and their display ---------------------------------------------------------------------

def _separator(field: Field) -> str:
    return "_" if field is Field.HARDWARE else ":"


def _octet_texts(nibbles: Sequence[int | None]) -> list[str]:
    chars = ["?" if n is None else f"{n:X}" for n in nibbles]
    return [chars[i] + chars[i + 1] for i in range(0, len(chars), 2)]


def display(nibbles: Sequence[int | None], field: Field) -> str:
    """'23:08:9?:??': the value with the hex digits the text does not show as '?'."""
    return _separator(field).join(_octet_texts(nibbles))


def format_value(nibbles: Sequence[int | None], field: Field) -> str:
    """Canonical CPL form: octets not shown are 00."""
    return display([n or 0 for n in nibbles], field)


# The engine's own nibbles are always ints 0-15 or None, in whole octets, so the engine formats
# them with one table look-up per octet; `display` and `format_value` above keep the general
# form for any caller's sequence, and give the same text for the engine's nibbles.
OctetTable = Mapping[tuple[int | None, int | None], str]


def _octet_table(unshown: str) -> OctetTable:
    digits = {None: unshown} | {n: f"{n:X}" for n in range(16)}
    return MappingProxyType({(hi, lo): digits[hi] + digits[lo] for hi in digits for lo in digits})


_SHOWN_OCTETS = _octet_table("?")  # as `display`: a digit the text does not show is '?'
_VALUE_OCTETS = _octet_table("0")  # as `format_value`: a digit the text does not show is 0


def _engine_octets(nibbles: Nibbles, table: OctetTable = _SHOWN_OCTETS) -> list[str]:
    """`_octet_texts` of the engine's nibbles (with table _VALUE_OCTETS: of its values)."""
    return [table[nibbles[i], nibbles[i + 1]] for i in range(0, len(nibbles), 2)]


def _shown_text(nibbles: Nibbles, field: Field) -> str:
    """`display` of the engine's nibbles."""
    return _separator(field).join(_engine_octets(nibbles))


def _value_text(nibbles: Nibbles, field: Field) -> str:
    """`format_value` of the engine's nibbles."""
    return _separator(field).join(_engine_octets(nibbles, _VALUE_OCTETS))


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


def canonical_hex(text: str, octets: int) -> str | None:
    """'0c030c22', '0x0C030C22', '0C-03-0C-22', '0c 03 0c 22' -> '0C:03:0C:22'.

    One separator kind (':', '-', '_' or space) between every octet, or none; None when the text
    is not exactly `octets` hex octets.
    """
    if not isinstance(text, str) or octets < 1 or len(text) > 8 * octets + 8:
        return None
    body = text.strip()
    if body[:2] in ("0x", "0X"):
        body = body[2:]
    if len(body) == 2 * octets and _HEX_DIGITS.issuperset(body):
        pairs = [body[i:i + 2] for i in range(0, len(body), 2)]
    else:
        separators = set(body[2::3])  # the characters at 2, 5, 8, ...
        if len(separators) != 1 or not separators <= _SEPARATORS:
            return None
        pairs = body.split(separators.pop())
        # `octets` pieces in 3 * octets - 1 characters, with the separator at 2, 5, 8, ...: then
        # every piece has two characters
        if (len(pairs) != octets or len(body) != 3 * octets - 1
                or not _HEX_DIGITS.issuperset("".join(pairs))):
            return None
    return ":".join(pairs).upper()


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = frozenset(":-_ ")


class CplValue(NamedTuple):
    nibbles: tuple[int, ...]
    text: str  # canonical form: format_value(nibbles, field)


@lru_cache(maxsize=1024)
def _cpl_value(cpl: str, field: Field) -> CplValue | None:
    """The CPL value's hex digits and canonical text; memoised, as a run meets the same
    manufacturer, model and hardware values on many rows. Cleared by `clear_cache`."""
    canonical = canonical_hex(cpl, OCTETS[field]) if isinstance(cpl, str) else None
    if canonical is None:
        return None
    nibbles = tuple(map(_NIBBLE_OF_DIGIT.__getitem__, canonical.replace(":", "")))
    return CplValue(nibbles, canonical.replace(":", _separator(field)))  # = _value_text(nibbles)


_NIBBLE_OF_DIGIT = {f"{n:X}": n for n in range(16)}  # canonical_hex gives upper-case digits


# --- the verdict ---------------------------------------------------------------------------------

def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _octet_name(field: Field, index: int) -> str:
    if field is Field.HARDWARE:
        return ("hardware version", "hardware revision")[index]
    return f"octet {index + 1}"


def _ranges(indices: Sequence[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    for i in indices:
        if groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _describe_octets(field: Field, indices: Sequence[int], values: Sequence[str]) -> str:
    """'octets 3-4 (96:31)' / 'hardware revision (05)'."""
    out = []
    for group in _ranges(indices):
        shown = _separator(field).join(values[i] for i in group)
        if field is Field.HARDWARE or len(group) == 1:
            names = " and ".join(_octet_name(field, i) for i in group)
            out.append(f"{names} ({shown})")
        else:
            out.append(f"octets {group[0] + 1}-{group[-1] + 1} ({shown})")
    return ", ".join(out)


def _unshown(reading: Reading) -> list[int]:
    return [i for i, o in enumerate(_engine_octets(reading.nibbles)) if "?" in o]


def _agrees(reading: Reading, target: tuple[int, ...]) -> bool:
    """Every hex digit the text shows equals the CPL's (PARTIAL needs this; MAPPED needs more)."""
    return tuple([t if n is None else n for n, t in zip(reading.nibbles, target, strict=True)]) == target


def _half_shown(reading: Reading, field: Field) -> str:
    notes = []
    for i, octet in enumerate(_engine_octets(reading.nibbles)):
        if octet[0] != "?" and octet[1] == "?":
            notes.append(f"the text gives only the first digit, {octet[0]}, of {_octet_name(field, i)}")
    return f" ({'; '.join(notes)})" if notes else ""


def _how(reading: Reading, field: Field) -> str:
    if reading.coding.startswith("registry:"):
        _, source, name = reading.coding.split(":", 2)
        return f"{reading.shown!r} is {name!r} in {source}"
    steps = f" ({', '.join(reading.steps)})" if reading.steps else ""
    return f"{reading.shown!r} reads by {reading.coding} as {_shown_text(reading.nibbles, field)}{steps}"


def _mapped_reason(reading: Reading, field: Field, cpl_text: str) -> str:
    if reading.authoritative:
        return f"the certificate shows {cpl_text} in hex ({reading.shown!r})"
    reason = f"{_how(reading, field)} = {cpl_text}"
    unshown = _unshown(reading)
    if unshown:
        names = _describe_octets(field, unshown, cpl_text.split(_separator(field)))
        reason += f"; {names} not shown, and 00 in the CPL value"
    return reason


def _partial_reason(reading: Reading, field: Field, cpl_text: str) -> str:
    values = cpl_text.split(_separator(field))
    unshown = _unshown(reading)
    shown = [i for i in range(len(values)) if i not in unshown]
    explained = _describe_octets(field, shown, values) if shown else "no whole octet"
    return (
        f"{_how(reading, field)}: it explains {explained}; "
        f"{_describe_octets(field, unshown, values)} not shown{_half_shown(reading, field)}"
    )


def _listing(readings: Iterable[Reading], field: Field) -> str:
    return "; ".join(f"{_shown_text(r.nibbles, field)} by {r.coding}" for r in readings)


def _alternatives(readings: Iterable[Reading], chosen: Reading | None, field: Field) -> tuple[str, ...]:
    return tuple(
        f"{_value_text(r.nibbles, field)} ({r.coding})" for r in readings if r is not chosen
    )


def _narrowing_note(found: Readings, target: tuple[int, ...], field: Field) -> str:
    if found.narrowed_by is None or not found.excluded:
        return ""
    code = found.narrowed_by.manufacturer_code
    would = [r for r in found.excluded if r.value_nibbles == target]
    if would:
        return (f"; the CPL value would map by {would[0].coding}, which {found.narrowed_by.path} "
                f"does not declare for manufacturer {code}")
    return f"; codings not declared for manufacturer {code} were not used"


def _unverifiable_reason(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> str:
    shown = _quote(text)
    if field is Field.MANUFACTURER:
        if registry is None:
            return f"{shown} shows no hex code, and no manufacturers registry was given"
        return (f"{shown} shows no hex code, and {normalise_company(text)!r} has no entry in the "
                "manufacturers registry (names are never guessed)")
    if field is Field.MODEL:
        if registry is None:
            return f"{shown} shows no hex image type, and no models registry was given"
        if not manufacturer_code:
            return f"{shown} shows no hex image type, and there is no manufacturer code to look it up"
        return (f"{shown} shows no hex image type, and has no entry for manufacturer "
                f"{manufacturer_code} in the models registry (names are never guessed)")
    return f"{shown} shows no hex value, and no coding in codings.toml reads it"


def _judge(
    text: str, field: Field, cpl: str, registry: Registry | None, manufacturer_code: str | None
) -> FieldJudgement:
    field = _as_field(field)
    text = text if isinstance(text, str) else ""
    cpl = cpl if isinstance(cpl, str) else ""
    if not text.strip():
        return FieldJudgement(field, cpl, text, Verdict.MISSING,
                              reason="the certificate does not show this field")
    value = _cpl_value(cpl, field)
    if value is None:
        form = "VV_RR" if field is Field.HARDWARE else ":".join(["XX"] * OCTETS[field])
        return FieldJudgement(field, cpl, text, Verdict.MISMATCH,
                              reason=f"CPL value {cpl!r} is not in {form} hex form; cannot compare")
    target, cpl_text = value
    found = _readings(text, field, registry, manufacturer_code)
    readings = found.kept
    note = _narrowing_note(found, target, field)
    if not readings:
        reason = _unverifiable_reason(text, field, registry, manufacturer_code) + note
        return FieldJudgement(field, cpl, text, Verdict.UNVERIFIABLE, reason=reason)
    chosen = found.by_value.get(target)  # readings are deduplicated: at most one has the value
    if chosen is not None:
        status = Verdict.MATCH if chosen.authoritative else Verdict.MAPPED
        return FieldJudgement(field, cpl, text, status, chosen.coding,
                              _mapped_reason(chosen, field, cpl_text),
                              _alternatives(readings, chosen, field))
    partial = [r for r in readings if _agrees(r, target)]
    if partial:
        chosen = max(partial, key=lambda r: sum(n is not None for n in r.nibbles))
        return FieldJudgement(field, cpl, text, Verdict.PARTIAL, chosen.coding,
                              _partial_reason(chosen, field, cpl_text) + note,
                              _alternatives(readings, chosen, field))
    legend = " ('?' = not shown, must be 0)" if any(None in r.nibbles for r in readings) else ""
    reason = (f"{_quote(text)} maps to {_listing(readings, field)}{legend}; "
              f"none is the CPL value {cpl_text}{note}")
    return FieldJudgement(field, cpl, text, Verdict.MISMATCH, "", reason,
                          _alternatives(readings, None, field))


# --- public API ------------------------------------------------------------------------------------

def candidates_for(
    text: str,
    field: Field,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> list[Candidate]:
    """Every CPL hex value the text may stand for, each with its coding; rules order, no repeats."""
    if not isinstance(text, str) or not text.strip():
        return []
    field = Field(field)
    return [_candidate(r, field) for r in _readings(text, field, registry, manufacturer_code).kept]


def judge(
    text: str,
    field: Field,
    cpl: str,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> FieldJudgement:
    """The verdict for one field (SPEC "Verdicts"). Never raises: document text is untrusted."""
    try:
        return _judge(text, field, cpl, registry, manufacturer_code)
    except Exception as exc:  # noqa: BLE001 - a verdict with the reason beats a crashed run
        return FieldJudgement(field, str(cpl), str(text), Verdict.UNVERIFIABLE,
                              reason=f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}")


def explain(
    text: str,
    field: Field,
    cpl: str | None = None,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> dict[str, Any]:
    """JSON-able account of a text's candidates and, given a CPL value, the verdict."""
    field = Field(field)
    out: dict[str, Any] = {
        "field": field.value,
        "text": text,
        "candidates": [
            {
                "value": c.value,
                "coding": c.coding,
                "placement": c.placement,
                "explained_octets": [i + 1 for i, e in enumerate(c.explained) if e],
                "note": c.note,
            }
            for c in candidates_for(text, field, registry, manufacturer_code)
        ],
    }
    if cpl is not None:
        j = judge(text, field, cpl, registry, manufacturer_code)
        out.update(cpl=cpl, status=j.status.value, method=j.method, reason=j.reason,
                   alternatives=list(j.alternatives))
    return out


_FIELD_ALIASES = {f.value: f for f in Field} | {
    "firmware": Field.FIRMWARE, "hardware": Field.HARDWARE,
    "manufacturer": Field.MANUFACTURER, "model": Field.MODEL,
}


def field_named(name: str) -> Field:
    """'firmware_version', 'Firmware Version', 'firmware' -> Field.FIRMWARE."""
    key = "_".join((name or "").strip().lower().replace("-", " ").split())
    if key not in _FIELD_ALIASES:
        raise ValueError(f"unknown field {name!r}; one of {', '.join(f.value for f in Field)}")
    return _FIELD_ALIASES[key]


def explain_rows(
    rows: Iterable[Mapping[str, str]], registry: Registry | None = None
) -> list[dict[str, str]]:
    """`explain --batch`: text,field[,cpl][,manufacturer_code] + status,method,candidates,reason."""
    out_rows = []
    for row in rows:
        out = {k: (v if isinstance(v, str) else "") for k, v in row.items() if isinstance(k, str)}
        text, cpl = out.get("text", ""), out.get("cpl", "").strip()
        maker = out.get("manufacturer_code", "").strip() or None
        try:
            field = field_named(out.get("field", "") or "firmware_version")
        except ValueError as exc:
            out.update(status="ERROR", method="", candidates="", reason=str(exc))
            out_rows.append(out)
            continue
        candidates = candidates_for(text, field, registry, maker)
        status = method = reason = ""
        if cpl:
            j = judge(text, field, cpl, registry, maker)
            status, method, reason = j.status.value, j.method, j.reason
        elif not text.strip():
            status, reason = Verdict.MISSING.value, "no text"
        out.update(
            status=status,
            method=method,
            candidates="; ".join(f"{c.value} ({c.coding})" for c in candidates),
            reason=reason,
        )
        out_rows.append(out)
    return out_rows
