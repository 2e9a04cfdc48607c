"""The codings as data: `rules/codings.toml` and `rules/manufacturer_codings/`, loaded and
schema-checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import regex

from pipeline.codings.primitives import CONVERSIONS, OCTETS, PLACEMENTS
from pipeline.models import Field, Verdict
from pipeline.registry import canonical_code
from pipeline.rulesfile import check_keys, read_rules_toml, read_toml, rules_path

CODINGS_TOML = rules_path("codings.toml")
MANUFACTURER_CODINGS_DIR = rules_path("manufacturer_codings")


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
    declared_only: bool = False  # a vendor's coding: read only for a manufacturer declaring it
    bits: tuple[int, ...] = ()  # the bitfield placement's field widths, most significant first


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
    """Which codings a manufacturer declares, per field, and the public source that says so.

    `codings`: the manufacturer's codings; only these (and a hex value the certificate shows)
    read its certificates. `also`: vendor codings (declared_only in codings.toml) read in addition
    to the general ones, for a code several companies share.
    """

    manufacturer_code: str
    manufacturer: str
    source: str
    codings: Mapping[Field, frozenset[str]]
    path: str
    example: bool = False  # an example is schema-checked but never narrows a verdict
    also: Mapping[Field, frozenset[str]] = dataclass_field(default_factory=lambda: MappingProxyType({}))
    tails: Mapping[Field, tuple[Tail, ...]] = dataclass_field(default_factory=lambda: MappingProxyType({}))

    @property
    def name(self) -> str:
        """How a verdict's reason names the declaration: its file name."""
        return Path(self.path).name

    def declares(self, field: Field, coding: str) -> bool:
        return (coding in self.codings.get(field, ()) or coding in self.also.get(field, ())
                or any(coding == t.name for t in self.tails.get(field, ())))

    def uses(self, field: Field, name: str, *, authoritative: bool, declared_only: bool) -> bool:
        """Whether a coding reads this manufacturer's certificates for the field: a hex value
        shown always; else the declaration's own list when it has one for the field; else the
        general codings and the vendor codings it adds."""
        if authoritative:
            return True
        if field in self.codings:
            return name in self.codings[field]
        return not declared_only or name in self.also.get(field, ())


class Tail(NamedTuple):
    """A constant a manufacturer puts in the digits its version string does not show."""

    coding: str
    digits: str  # hex digits, filling the value's last len(digits) digits

    @property
    def name(self) -> str:
        return f"{self.coding}+tail {self.digits}"


Keys = tuple[set[str], set[str]]  # (required, optional) keys of a rules table
_TOP: Keys = ({"version", "tokenisers", "coding"}, set())  # and `schema`, checked by rulesfile
_TOKENISER: Keys = ({"description", "pattern"}, {"parts", "component", "claims"})
_CODING: Keys = (
    {"name", "fields", "tokenisers", "conversion", "placement", "description", "source", "examples"},
    {"authoritative", "declared_only", "bits"},
)
_EXAMPLE: Keys = ({"text", "cpl", "verdict"}, {"note"})
_MANUFACTURER: Keys = (
    {"manufacturer_code", "source"}, {"manufacturer", "codings", "also", "tails", "example"}
)
_TAIL: Keys = ({"coding", "digits"}, set())


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
    table = check_keys(table, *_TOKENISER, where)
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
    table = check_keys(table, *_EXAMPLE, f"{where} example")
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
    table = check_keys(table, *_CODING, where)
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
    declared_only = table.get("declared_only", False)
    if not isinstance(authoritative, bool) or not isinstance(declared_only, bool):
        raise ValueError(f"{where}: authoritative and declared_only must be true or false")
    if authoritative and declared_only:
        raise ValueError(f"{where}: a hex value shown is read for everyone; it cannot be declared_only")
    bits = _bits(table, where)
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
        declared_only=declared_only,
        bits=bits,
    )


def _bits(table: Mapping[str, Any], where: str) -> tuple[int, ...]:
    """The bitfield placement's widths: required by it, meaningless to any other placement."""
    bits = table.get("bits", [])
    if table["placement"] != "bitfield":
        if bits:
            raise ValueError(f"{where}: bits belongs to the bitfield placement only")
        return ()
    if (not isinstance(bits, list) or not bits
            or not all(isinstance(b, int) and not isinstance(b, bool) and 0 < b <= 32 for b in bits)
            or sum(bits) > 32):
        raise ValueError(f"{where}: bitfield needs bits, a list of field widths (1-32, 32 in all)")
    if table["conversion"] != "decimal":
        raise ValueError(f"{where}: bitfield reads each component as a decimal number")
    return tuple(bits)


@lru_cache(maxsize=8)
def load_codings(path: Path = CODINGS_TOML) -> CodingRules:
    """Load and schema-check the codings; a bad file is a ValueError naming file and coding."""
    path = Path(path)
    data = read_rules_toml(path, *_TOP, what="codings")
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
    data = check_keys(read_toml(path), *_MANUFACTURER, where)
    code = canonical_code(_string(data, "manufacturer_code", where))
    if code is None:
        raise ValueError(f"{where}: manufacturer_code must be XX:XX hex")
    if not _string(data, "source", where).strip():
        raise ValueError(f"{where}: source must name the public source of the declaration")
    if "codings" not in data and "also" not in data:
        raise ValueError(f"{where}: [codings] or [also] must list codings per field")
    codings = _declared(data.get("codings"), rules, f"{where} [codings]", general=True)
    also = _declared(data.get("also"), rules, f"{where} [also]", general=False)
    example = data.get("example", False)
    if not isinstance(example, bool):
        raise ValueError(f"{where}: example must be true or false")
    declared = ManufacturerCodings(
        code, _string(data, "manufacturer", where), _string(data, "source", where),
        codings, where, example, also,
    )
    return replace(declared, tails=_tails(data.get("tails"), rules, declared, f"{where} [tails]"))


def _tails(
    table: object, rules: CodingRules, declared: ManufacturerCodings, where: str
) -> Mapping[Field, tuple[Tail, ...]]:
    """field -> constant tails, each after a coding the manufacturer uses for that field."""
    if table is None:
        return MappingProxyType({})
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{where}: must list tails per field")
    out: dict[Field, tuple[Tail, ...]] = {}
    for key, entries in table.items():
        try:
            f = Field(key)
        except ValueError as exc:
            raise ValueError(f"{where}: key {key!r} is not a field") from exc
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{where}: {key} must be a list of {{ coding, digits }} tables")
        tails = []
        for entry in entries:
            entry = check_keys(entry, *_TAIL, f"{where} {key}")
            known = {c.name: c for c in rules.for_field(f)}
            coding, digits = _string(entry, "coding", where), _string(entry, "digits", where)
            base = known.get(coding)
            if base is None or base.authoritative or not declared.uses(
                f, coding, authoritative=False, declared_only=base.declared_only
            ):
                raise ValueError(f"{where}: {key} tail follows {coding!r}, not a coding this "
                                 "manufacturer's declaration uses")
            if not 0 < len(digits) < 2 * OCTETS[f] or any(c not in "0123456789ABCDEFabcdef" for c in digits):
                raise ValueError(f"{where}: {key} tail digits must be 1-{2 * OCTETS[f] - 1} hex digits")
            tails.append(Tail(coding, digits.upper()))
        out[f] = tuple(tails)
    return MappingProxyType(out)


def _declared(
    table: object, rules: CodingRules, where: str, *, general: bool
) -> Mapping[Field, frozenset[str]]:
    """One declaration table: field -> coding names, each known for that field. `general` says
    whether codings that apply to everyone may be listed (they may narrow, never be added)."""
    if table is None:
        return MappingProxyType({})
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{where}: must list codings per field")
    per_field: dict[Field, frozenset[str]] = {}
    for key, names in table.items():
        try:
            f = Field(key)
        except ValueError as exc:
            raise ValueError(f"{where}: key {key!r} is not a field") from exc
        known = {c.name: c for c in rules.for_field(f)}
        listed = _strings(names, where, key)
        unknown = [n for n in listed if n not in known]
        if unknown:
            raise ValueError(f"{where}: {key} lists unknown coding(s) {unknown}")
        everyone = [n for n in listed if not known[n].declared_only]
        if everyone and not general:
            raise ValueError(f"{where}: {key} adds {everyone}, which every manufacturer already has")
        per_field[f] = frozenset(listed)
    return MappingProxyType(per_field)


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
