"""The codings as data: `rules/codings.toml` and `rules/manufacturer_codings/`, loaded and
schema-checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import regex

from pipeline.codings.primitives import CONVERSIONS, PLACEMENTS
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
_TOP: Keys = ({"version", "tokenisers", "coding"}, set())  # and `schema`, checked by rulesfile
_TOKENISER: Keys = ({"description", "pattern"}, {"parts", "component", "claims"})
_CODING: Keys = (
    {"name", "fields", "tokenisers", "conversion", "placement", "description", "source", "examples"},
    {"authoritative"},
)
_EXAMPLE: Keys = ({"text", "cpl", "verdict"}, {"note"})
_MANUFACTURER: Keys = ({"manufacturer_code", "codings"}, {"manufacturer", "source", "example"})


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
