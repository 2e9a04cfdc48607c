"""Rebuild rules/manufacturers.csv from the public Zigbee manufacturer code lists.

    PYTHONPATH=. python scripts/build_manufacturers.py manufacturers.xml packet-zbee.h

Inputs: the CSA manufacturer code list as Silicon Labs ships it (SiliconLabs/sdk_support,
app/zcl/manufacturers.xml: `<mapping code="0x1031" translation="Secure Meters"/>`), Wireshark's
epan/dissectors/packet-zbee.h (`#define ZBEE_MFG_CODE_X 0x...` and `#define ZBEE_MFG_X "name"`),
and the project's hand-picked rows (rules/manufacturers-hand-picked.csv), whose names and aliases
are kept. One output row per (code, company name); where the lists name a code differently the
CSA name is the row's name and the others are its aliases. Each row's `source` says which lists
name that company under that code. The header does not say how every code define pairs with a
name define (Wireshark's table is in packet-zbee-zcl.c): X -> X is taken as given, and a pairing
guessed by dropping a tail (HONEYWELL2 -> HONEYWELL) only confirms a name another list gives.
The script prints counts and every normalised name that stands for several codes: those give
every code as a candidate, never one silently.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pipeline.registry import RULES_DIR, canonical_code, manufacturer_rows, normalise_company

CSA = "csa-manufacturers.xml"
WIRESHARK = "wireshark-packet-zbee.h"
HAND_PICKED = "hand-picked"
SOURCE_ORDER = (CSA, WIRESHARK, HAND_PICKED)
HAND_PICKED_CSV = RULES_DIR / "manufacturers-hand-picked.csv"
OUT_CSV = RULES_DIR / "manufacturers.csv"
HIGHEST_CODE = 0xFFFE  # guidance §2: FF:FF is not a manufacturer code

_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_XML_TAG = re.compile(r"<([A-Za-z_][\w.:-]*\s[^<>]*)>")
_XML_ATTRIBUTE = re.compile(r"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DEFINE = re.compile(r"^\s*#\s*define\s+ZBEE_MFG_(\w+)\s+(.*)$")
_NUMBER = re.compile(r"^\(?\s*(0[xX][0-9A-Fa-f]+|\d+)\s*\)?\s*(?:/\*.*|//.*)?$")
_C_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_COMMENT_AFTER_STRING = re.compile(r'(?<=")\s*(?:/\*.*|//.*)$')
_C_ESCAPE = re.compile(rb"\\([0-7]{1,3}|x[0-9A-Fa-f]{1,2}|.)")
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r"}
_PAIRING_TAILS = (re.compile(r"_RF4CE$"), re.compile(r"_?\d+$"))


Listed = tuple[str, str]  # (code 'XX:XX', company name) as one list gives it


@dataclass
class Row:
    """One output row: a company name under a code, its aliases, and the lists that name it."""

    code: str
    name: str
    aliases: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    def keys(self) -> set[str]:
        return {normalise_company(n) for n in (self.name, *self.aliases)}


def _clean(name: str) -> str:
    return " ".join(name.split())


def _code(value: int) -> str | None:
    return f"{value >> 8:02X}:{value & 0xFF:02X}" if 0 <= value <= HIGHEST_CODE else None


def _xml_elements(text: str) -> list[dict[str, str]]:
    """The attributes of every start tag, character references decoded.

    The list is flat (`<mapping code=... translation=.../>`), so a tag scanner reads it without an
    XML parser: no DTD and no entity is ever expanded from a downloaded file.
    """
    elements = []
    for tag in _XML_TAG.finditer(_XML_COMMENT.sub("", text)):
        attributes = _XML_ATTRIBUTE.findall(tag.group(1))
        elements.append({key: html.unescape(double or single) for key, double, single in attributes})
    return elements


def read_csa(path: Path, warnings: list[str]) -> list[Listed]:
    """Every `code`/`translation` pair of the CSA XML, in file order (a code may repeat)."""
    listed = []
    for element in _xml_elements(path.read_text(encoding="utf-8-sig")):
        code_text, name = element.get("code"), element.get("translation", element.get("name"))
        if code_text is None or name is None:
            continue
        code = canonical_code(code_text.removeprefix("0x").removeprefix("0X").zfill(4))
        if code is None or int(code.replace(":", ""), 16) > HIGHEST_CODE or not _clean(name):
            warnings.append(f"{CSA}: skipped {code_text!r} {name!r} (not a manufacturer code)")
            continue
        listed.append((code, _clean(name)))
    return listed


def _c_string(literals: Sequence[str]) -> str:
    """Adjacent C string literals, joined and unescaped (octal escapes are UTF-8 bytes)."""

    def unescape(match: re.Match[bytes]) -> bytes:
        body = match.group(1)
        if body[:1] == b"x":
            return bytes([int(body[1:], 16)])
        if body[:1].isdigit():
            return bytes([int(body, 8) & 0xFF])
        return _SIMPLE_ESCAPES.get(body, body)

    raw = "".join(literals).encode("utf-8")
    return _C_ESCAPE.sub(unescape, raw).decode("utf-8", errors="replace")


def _wireshark_defines(text: str) -> tuple[dict[str, int], dict[str, str]]:
    """ZBEE_MFG_CODE_X -> value and ZBEE_MFG_X -> name, first definition winning."""
    codes: dict[str, int] = {}
    names: dict[str, str] = {}
    for line in text.splitlines():
        match = _DEFINE.match(line)
        if match is None:
            continue
        ident, value = match.groups()
        value = _COMMENT_AFTER_STRING.sub("", value)
        number = _NUMBER.match(value)
        literals = _C_STRING.findall(value)
        if ident.startswith("CODE_") and number:
            codes.setdefault(ident.removeprefix("CODE_"), int(number.group(1), 0))
        elif literals and not ident.startswith("CODE_"):
            names.setdefault(ident, _clean(_c_string(literals)))
    return codes, names


def _paired_name(ident: str, names: dict[str, str]) -> tuple[str, bool] | None:
    """The name define for a code define, and whether the pairing is exact.

    ZBEE_MFG_CODE_X takes ZBEE_MFG_X. The header alone does not say how the others pair (the table
    is in packet-zbee-zcl.c), so X without an '_RF4CE' or a number tail is only a guess
    (HONEYWELL2 -> HONEYWELL is right; UNIVERSAL1 -> UNIVERSAL, 'Universal Devices', is not).
    """
    if ident in names:
        return names[ident], True
    tries = [ident]
    for tail in _PAIRING_TAILS:
        tries += [tail.sub("", t) for t in tries]
    return next(((names[t], False) for t in tries if t in names), None)


class Wireshark(NamedTuple):
    exact: list[Listed]  # ZBEE_MFG_CODE_X with ZBEE_MFG_X
    guessed: list[Listed]  # paired by dropping a tail: used only to confirm another list's name


def read_wireshark(path: Path, warnings: list[str]) -> Wireshark:
    """Every code define of packet-zbee.h that has a name define, in code order."""
    codes, names = _wireshark_defines(path.read_text(encoding="utf-8", errors="replace"))
    found = Wireshark([], [])
    for ident, value in sorted(codes.items(), key=lambda item: (item[1], item[0])):
        code, paired = _code(value), _paired_name(ident, names)
        if code is None or paired is None or not paired[0]:
            warnings.append(f"{WIRESHARK}: skipped ZBEE_MFG_CODE_{ident} = {value:#06x} "
                            f"({'no name define' if code else 'not a manufacturer code'})")
            continue
        (found.exact if paired[1] else found.guessed).append((code, paired[0]))
    return found


def _row_for(rows: list[Row], name: str) -> Row | None:
    key = normalise_company(name)
    return next((r for r in rows if key in r.keys()), None)


def _add_name(by_code: dict[str, list[Row]], code: str, names: Sequence[str], source: str) -> None:
    """Credit `source` for the row that already holds one of `names`, adding the others as its
    aliases; a new row when the code has none yet, so a name never moves to another code."""
    rows = by_code.setdefault(code, [])
    target = next((r for r in (_row_for(rows, n) for n in names) if r), None)
    if target is None:
        if source != CSA and rows:
            target = rows[0]
        else:
            target = Row(code, names[0])
            rows.append(target)
    target.sources.add(source)
    for name in names:
        if normalise_company(name) not in target.keys():
            target.aliases.append(name)


def _confirm(by_code: dict[str, list[Row]], guessed: Iterable[Listed], warnings: list[str]) -> None:
    """Credit Wireshark where a guessed pairing gives the name another list gives that code."""
    for code, name in guessed:
        row = _row_for(by_code.get(code, []), name)
        if row is None:
            warnings.append(f"{WIRESHARK}: not used: {code} {name!r} (name paired by guess, "
                            "and no other list names the code so)")
        else:
            row.sources.add(WIRESHARK)


def merge(csa: Iterable[Listed], wireshark: Wireshark, hand_picked: Iterable[tuple[str, Sequence[str]]],
          warnings: list[str] | None = None) -> list[Row]:
    """The output rows: CSA names first (each its own row), then Wireshark's and the hand-picked
    names as aliases of the row they name, or of the code's first row."""
    by_code: dict[str, list[Row]] = {}
    for code, name in csa:
        _add_name(by_code, code, [name], CSA)
    for code, name in wireshark.exact:
        _add_name(by_code, code, [name], WIRESHARK)
    _confirm(by_code, wireshark.guessed, [] if warnings is None else warnings)
    for code, names in hand_picked:
        _add_name(by_code, code, names, HAND_PICKED)
    return [row for code in sorted(by_code) for row in by_code[code]]


def collisions(rows: Iterable[Row]) -> dict[str, dict[str, list[str]]]:
    """Normalised name -> {code: the names written for it} where a name stands for several codes."""
    table: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        for name in (row.name, *row.aliases):
            written = table.setdefault(normalise_company(name), {}).setdefault(row.code, [])
            if name not in written:
                written.append(name)
    return {key: codes for key, codes in sorted(table.items()) if len(codes) > 1}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _header(inputs: Sequence[tuple[str, Path, str]]) -> list[str]:
    lines = [
        "# Zigbee manufacturer codes (the OTA header's Manufacturer Code). GENERATED: do not edit;",
        "# run scripts/build_manufacturers.py (add hand-picked names to manufacturers-hand-picked.csv).",
        "# One row per company name under a code; a name may carry several codes (one row each).",
        "# Names match after normalise_company (case, punctuation, company suffixes such as",
        "# Ltd/Limited/plc/GmbH/Inc and a bracketed country tag ignored); never fuzzily.",
        "# source: the lists that name the row's company under its code:",
    ]
    for label, path, origin in inputs:
        lines.append(f"#   {label}: {origin} (sha256 {_sha256(path)[:16]})")
    return lines


def write_csv(rows: Sequence[Row], out: Path, header: Sequence[str]) -> None:
    """The registry file: header comments, then `code,name,aliases,source` rows."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(f"{line}\n" for line in header)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "aliases", "source"])
        for row in rows:
            sources = [s for s in SOURCE_ORDER if s in row.sources]
            writer.writerow([row.code, row.name, ";".join(row.aliases), ";".join(sources)])


def check_names(rows: Iterable[Row]) -> list[str]:
    """Names the CSV cannot carry: ';' splits aliases, and a name must keep a word."""
    bad = []
    for row in rows:
        for name in row.aliases:
            if ";" in name:
                bad.append(f"{row.code}: alias {name!r} holds ';'")
        for name in (row.name, *row.aliases):
            if not normalise_company(name):
                bad.append(f"{row.code}: name {name!r} has no words")
    return bad


def summary(rows: Sequence[Row], clashes: dict[str, dict[str, list[str]]]) -> list[str]:
    """Counts per source and every normalised-name collision, for the person rebuilding."""
    def count(test: Callable[[set[str]], bool]) -> int:
        return sum(1 for r in rows if test(r.sources))

    lines = [
        f"rows {len(rows)}, codes {len({r.code for r in rows})}",
        f"  named by {CSA}: {count(lambda s: CSA in s)}; by {WIRESHARK}: "
        f"{count(lambda s: WIRESHARK in s)}; by both: {count(lambda s: {CSA, WIRESHARK} <= s)}",
        f"  only {CSA}: {count(lambda s: s == {CSA})}; only {WIRESHARK}: "
        f"{count(lambda s: s == {WIRESHARK})}; only {HAND_PICKED}: {count(lambda s: s == {HAND_PICKED})}; "
        f"with {HAND_PICKED} names: {count(lambda s: HAND_PICKED in s)}",
        f"normalised names standing for several codes: {len(clashes)}",
    ]
    for key, codes in clashes.items():
        shown = "; ".join(f"{code} {' / '.join(names)}" for code, names in codes.items())
        lines.append(f"  {key!r}: {shown}")
    return lines


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csa_xml", type=Path, help="app/zcl/manufacturers.xml (SiliconLabs/sdk_support)")
    parser.add_argument("wireshark_h", type=Path, help="epan/dissectors/packet-zbee.h (Wireshark)")
    parser.add_argument("--hand-picked", type=Path, default=HAND_PICKED_CSV)
    parser.add_argument("--out", type=Path, default=OUT_CSV)
    parser.add_argument("--csa-origin", default="SiliconLabs/sdk_support app/zcl/manufacturers.xml")
    parser.add_argument("--wireshark-origin", default="wireshark/wireshark epan/dissectors/packet-zbee.h")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build, check, write and summarise; 1 (nothing written) when a name cannot be written."""
    args = _arguments(argv)
    warnings: list[str] = []
    csa = read_csa(args.csa_xml, warnings)
    wireshark = read_wireshark(args.wireshark_h, warnings)
    hand = [(r.code, r.names) for r in manufacturer_rows(args.hand_picked)]
    rows = merge(csa, wireshark, hand, warnings)
    bad = check_names(rows)
    for line in [*warnings, *bad]:
        print(f"warning: {line}", file=sys.stderr)
    if bad:
        return 1
    header = _header([(CSA, args.csa_xml, args.csa_origin),
                      (WIRESHARK, args.wireshark_h, args.wireshark_origin),
                      (HAND_PICKED, args.hand_picked, "rules/manufacturers-hand-picked.csv")])
    write_csv(rows, args.out, header)
    print("\n".join(summary(rows, collisions(rows))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
