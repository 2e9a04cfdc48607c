"""Manufacturer and model registries: names a certificate prints -> OTA header codes.

Certificates sometimes name a company or a model without its hex code. The registries turn such a
name into candidate codes, by exact lookup after normalisation (case, punctuation, company
suffixes) and never by fuzzy matching: a name with no entry stays unverifiable. The project's own
`rules/manufacturers.csv` and `rules/models.csv` always load first; files given by the user add to
them. Every entry remembers the file it came from, so a verdict can cite it.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import regex

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
MANUFACTURERS_CSV = RULES_DIR / "manufacturers.csv"
MODELS_CSV = RULES_DIR / "models.csv"

# Trailing words that say what kind of company it is, not which company (compared after the
# punctuation inside them is dropped: "S.A." -> "sa", "Co." -> "co"). The public Zigbee list writes
# them in many national forms ("Radiocrafts AS", "Overkiz SAS", "Vimar SpA", "Tech4home, Lda.").
COMPANY_SUFFIXES = frozenset(
    {
        "ltd", "limited", "plc", "gmbh", "inc", "incorporated", "llc", "co", "corp",
        "corporation", "company", "ag", "sa", "bv", "nv", "pty", "kg",
        "pte", "spa", "srl", "sas", "sarl", "as", "aps", "ab", "oy", "lda", "ltda", "cie",
    }
)
# Suffixes written as several words once punctuation is gone: "A/S" -> "a s", "Sp. z o.o." -> "sp z oo".
COMPANY_SUFFIX_PHRASES = (("a", "s"), ("sp", "z", "oo"))
# A bracketed country or region after the name says where, not who: "Secure Meters (UK) Ltd" is
# Secure Meters. Only bracketed tags count, so "Telecom Italia" keeps its last word.
COUNTRY_TAGS = frozenset(
    {
        "uk", "gb", "great britain", "united kingdom", "england", "scotland", "wales", "ireland",
        "northern ireland", "europe", "eu", "emea", "us", "usa", "america", "north america",
        "canada", "australia", "new zealand", "india", "china", "prc", "hong kong", "hk", "japan",
        "korea", "singapore", "asia", "asia pacific", "apac", "germany", "deutschland", "de",
        "france", "italy", "italia", "spain", "espana", "netherlands", "nederland", "holland",
        "belgium", "denmark", "danmark", "sweden", "norway", "finland", "switzerland", "austria",
        "poland", "portugal", "israel", "taiwan",
    }
)
_TAG_MARK = "\x00"  # a word that is a bracketed country tag (no real word holds this character)
_JOINERS = regex.compile(r"[.'\u2019]")  # dropped: "S.A." and "Co." read as "sa" and "co"
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")
_BRACKETED_OR_WORD = regex.compile(r"\(([^()]*)\)|[\p{L}\p{N}]+")
_CODE = regex.compile(r"^\s*(?:0[xX])?([0-9A-Fa-f]{2})[:\-_ ]?([0-9A-Fa-f]{2})\s*$")
_MAX_NAME = 200


class ManufacturerEntry(NamedTuple):
    code: str  # "XX:XX"
    name: str  # the registry's name for the company, as written in the file
    source: str  # file name the entry came from, e.g. "manufacturers.csv"
    origin: str = ""  # the row's optional `source` cell: where the file's author found it


class ManufacturerRow(NamedTuple):
    line: int
    code: str  # "XX:XX"
    names: tuple[str, ...]  # the name, then its aliases
    origin: str  # the `source` cell, "" when the file has no such column


class ModelEntry(NamedTuple):
    image_type: str  # "XX:XX"
    name: str
    source: str


@dataclass(frozen=True, eq=False)  # identity equality: cheap to hash as a cache key
class Registry:
    """Normalised name -> entries. Several entries per name are kept (Honeywell has two codes)."""

    manufacturers: Mapping[str, tuple[ManufacturerEntry, ...]]
    models: Mapping[tuple[str, str], tuple[ModelEntry, ...]]
    files: tuple[str, ...] = ()

    def manufacturer_entries(self, name: str) -> tuple[ManufacturerEntry, ...]:
        return self.manufacturers.get(normalise_company(name), ())

    def model_entries(self, manufacturer_code: str, name: str) -> tuple[ModelEntry, ...]:
        code = canonical_code(manufacturer_code)
        if code is None:
            return ()
        return self.models.get((code, normalise_model(name)), ())


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKC", name[:_MAX_NAME]).casefold()
    return [w for w in _NOT_WORD.split(_JOINERS.sub("", text)) if w]


def _company_tokens(name: str) -> list[str]:
    """The words of a company name; a bracketed country tag is one token, marked by _TAG_MARK.

    Other bracketed text stays as plain words: '(RF4CE)' or '(ZMDI)' may tell companies apart.
    """
    text = _JOINERS.sub("", unicodedata.normalize("NFKC", name[:_MAX_NAME]).casefold())
    tokens: list[str] = []
    for match in _BRACKETED_OR_WORD.finditer(text):
        inner = match.group(1)
        if inner is None:
            tokens.append(match.group(0))
            continue
        words = [w for w in _NOT_WORD.split(inner) if w]
        tag = " ".join(words)
        tokens.extend([_TAG_MARK + tag] if tag in COUNTRY_TAGS else words)
    return tokens


def _suffix_length(words: Sequence[str]) -> int:
    """How many trailing words form one company suffix or country tag; 0 when they do not."""
    last = words[-1]
    if last in COMPANY_SUFFIXES or last.startswith(_TAG_MARK):
        return 1
    for phrase in COMPANY_SUFFIX_PHRASES:
        if tuple(words[-len(phrase):]) == phrase:
            return len(phrase)
    return 0


def normalise_company(name: str) -> str:
    """Compare company names as people read them: 'EDMI Ltd.' and 'edmi limited' are one company.

    Case, accents-as-written (NFKC), punctuation, trailing company suffixes ('Co., Ltd.', 'A/S')
    and a bracketed country tag ('Secure Meters (UK) Ltd') are ignored; the remaining words must
    then be equal, whole: 'Secure Meters' is not 'Secure electrans'. A name that is only a suffix
    ('Co') is kept as it is.
    """
    words = _company_tokens(name)
    while words:
        length = _suffix_length(words)
        if length == 0 or length >= len(words):
            break
        del words[-length:]
    return " ".join(w.removeprefix(_TAG_MARK) for w in words)


def normalise_model(name: str) -> str:
    """Model names compare case- and punctuation-blind ('E-470' is 'e 470'); no words dropped."""
    return " ".join(_words(name))


def canonical_code(text: str) -> str | None:
    """'106c', '0x106C', '10-6c' -> '10:6C'; None when not two hex octets."""
    match = _CODE.match(text[:_MAX_NAME])
    if match is None:
        return None
    return f"{match.group(1)}:{match.group(2)}".upper()


def _rows(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a registry CSV with their line numbers; '#' lines are comments."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read registry file: {exc}") from exc
    required = set(columns[:-1])  # the last column (aliases) is optional
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in _numbered_cells(text):
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = required - set(header)
            unknown = set(header) - set(columns) - {"source", "note"}
            if missing or unknown:
                raise ValueError(
                    f"{path}, line {number}: header must be {','.join(columns)}; "
                    f"missing {sorted(missing)}, unknown {sorted(unknown)}"
                )
            continue
        if len(cells) > len(header):
            raise ValueError(
                f"{path}, line {number}: {len(cells)} cells for {len(header)} columns "
                "(separate aliases with ';', not ',')"
            )
        rows.append((number, dict(zip(header, (c.strip() for c in cells), strict=False))))
    if header is None:
        raise ValueError(f"{path}: no header line ({','.join(columns)})")
    return rows


def _numbered_cells(text: str) -> list[tuple[int, list[str]]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append((number, next(csv.reader([line]))))
    return out


def _code(path: Path, number: int, value: str, what: str, highest: int) -> str:
    code = canonical_code(value)
    if code is None:
        raise ValueError(f"{path}, line {number}: {what} {value!r} is not XX:XX hex")
    if int(code.replace(":", ""), 16) > highest:
        raise ValueError(f"{path}, line {number}: {what} {code} is above {highest:04X} (guidance §2)")
    return code


def _names(path: Path, number: int, row: Mapping[str, str]) -> list[str]:
    name = row.get("name", "")
    if not normalise_model(name):
        raise ValueError(f"{path}, line {number}: empty name")
    aliases = [a.strip() for a in row.get("aliases", "").split(";") if a.strip()]
    return [name, *aliases]


def _add(table: dict, key: object, entry: tuple) -> None:
    entries = table.setdefault(key, [])
    if entry not in entries:
        entries.append(entry)


def manufacturer_rows(path: Path) -> list[ManufacturerRow]:
    """The checked rows of a manufacturers CSV: what loading uses, and what rebuilding reads back.

    The columns are `code,name[,aliases][,source][,note]`; `source` says where a row came from
    (rules/manufacturers.csv is generated from public lists) and is optional, so user registries
    written to SPEC's `code,name[,aliases]` load as before.
    """
    rows = []
    for number, row in _rows(path, ("code", "name", "aliases")):
        code = _code(path, number, row.get("code", ""), "code", 0xFFFE)
        names = tuple(_names(path, number, row))
        rows.append(ManufacturerRow(number, code, names, row.get("source", "")))
    return rows


def _load_manufacturers(path: Path, table: dict) -> None:
    for row in manufacturer_rows(path):
        entry = ManufacturerEntry(row.code, row.names[0], path.name, row.origin)
        for name in row.names:
            _add(table, normalise_company(name), entry)


def _load_models(path: Path, table: dict) -> None:
    columns = ("manufacturer_code", "image_type", "name", "aliases")
    for number, row in _rows(path, columns):
        maker = _code(path, number, row.get("manufacturer_code", ""), "manufacturer_code", 0xFFFE)
        image_type = _code(path, number, row.get("image_type", ""), "image_type", 0xFFBF)
        names = _names(path, number, row)
        for name in names:
            _add(table, (maker, normalise_model(name)), ModelEntry(image_type, names[0], path.name))


def load_registry(
    extra_manufacturers: Sequence[Path] = (), extra_models: Sequence[Path] = ()
) -> Registry:
    """The shipped registries plus any extra files; a bad file is a ValueError naming file and line."""
    manufacturers: dict[str, list[ManufacturerEntry]] = {}
    models: dict[tuple[str, str], list[ModelEntry]] = {}
    manufacturer_files = [MANUFACTURERS_CSV, *map(Path, extra_manufacturers)]
    model_files = [MODELS_CSV, *map(Path, extra_models)]
    for path in manufacturer_files:
        _load_manufacturers(path, manufacturers)
    for path in model_files:
        _load_models(path, models)
    return Registry(
        manufacturers=MappingProxyType({k: tuple(v) for k, v in manufacturers.items()}),
        models=MappingProxyType({k: tuple(v) for k, v in models.items()}),
        files=tuple(str(p) for p in (*manufacturer_files, *model_files)),
    )
