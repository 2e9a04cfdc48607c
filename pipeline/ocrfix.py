"""OCR-aware reading: repair the usual misreads only where a value's grammar demands hex or
digits, and give each field its OCR confidence (certificate IDs link across OCR confusions by
pipeline.idkeys).

Free text (company names, model names, device types) is left as read, but for two narrow
cases where the reading cannot be a real one: a token made only of I/l/| in a model name is a
Roman numeral ("Trio Il" -> "Trio II"), and a device code in brackets that is no known code and
one character from the code its own phrase names is that code ("Gas Smart Metering Equipment
(GSMB)" -> "(GSME)"). Every repair is returned as a note so the audit shows what was read and
what it was taken for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from pipeline.models import Certificate, PageText
from pipeline.policy import DeviceTypes, default_device_types, device_codes_in

# Where the grammar demands a hex digit: letters tesseract reads for digits (A-F stay: they are
# hex). Where it demands a decimal digit, B is 8 as well.
HEX_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "|": "1",
                                "S": "5", "Z": "2", "G": "6"})  # G: `AG:61` for A6:61 (JPEG scan)
DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "|": "1",
                                  "S": "5", "Z": "2", "B": "8"})
_HEXISH = r"[0-9A-FOoQIl|SZG]"
_DIGITISH = r"[0-9OoQIl|SZB]"
# colon hex (10:6C, 0C:03:0C:22, with stray spaces around colons), VV_RR, 0x hex
COLON_HEX = re.compile(rf"(?<![\w|]){_HEXISH}{{2}}(?:\s?:\s?{_HEXISH}{{2}}){{1,3}}(?![\w|])")
# four octets where OCR read one or two colons as a comma, a quote mark or a semicolon
# (`BA‘21:7B:CE`): two true colons must remain
MIXED_COLON_HEX = re.compile(
    rf"(?<![\w|]){_HEXISH}{{2}}(?:[:;,'\u2018\u2019\u201a]{_HEXISH}{{2}}){{3}}(?![\w|])")
# a manufacturer code in brackets, `(SE:C2)` for (5E:C2): the brackets are the evidence
BRACKETED_HEX = re.compile(rf"(?<=\(){_HEXISH}{{2}}:{_HEXISH}{{2}}(?=\))")
# a space read inside a 0x number (`0x8 10E6BF2`) or a bracketed code (`(Image Type 1 4:D7)`,
# `(1 2:22)`): the two parts make a whole number of octets again, four or eight digits
SPLIT_PREFIXED_HEX = re.compile(
    rf"(?<![\w|])[0O]x(?:{_HEXISH}{{1,7}}\s{_HEXISH}{{1,7}})(?![\w|])")
SPLIT_BRACKETED_HEX = re.compile(rf"(?<=[( ]){_HEXISH}\s{_HEXISH}:{_HEXISH}{{2}}(?=\))")
# a manufacturer's code written 0x in brackets, its 0 read as O or a space read after the x
# (`(Ox10FE)`, `(0x 10F4)`: second blind probe, JPEG scans): the brackets are the evidence
BRACKETED_PREFIXED_HEX = re.compile(rf"(?<=\()[0O]x\s?{_HEXISH}{{4}}(?=\))")
# an image type after its words (`(Image Type OF:D4)` for 0F:D4, a JPEG scan): the words and
# the bracket are the evidence, with one true digit
# (or bare after them: `Beacon Hub 3 Image Type OF:7D`)
IMAGE_TYPE_HEX = re.compile(rf"(?<=Image Type\s){_HEXISH}{{2}}:{_HEXISH}{{2}}(?=\)|(?![\w|:]))")
# `Rey 4` for Rev 4 (a JPEG scan): before a number or a board letter
REV_MISREAD = re.compile(r"\bRey\.?\s?[0-9A-Z]\b")
UNDERSCORE_HEX = re.compile(rf"(?<![\w|]){_HEXISH}{{2}}\s?_\s?{_HEXISH}{{2}}(?![\w|])")
# ... its 0 read twice, as `O0` or `0O` (`O0xA72C`, a 150-dpi JPEG scan, DEVELOPMENT seed 71;
# `0OxD60580D7`, a tunable probe's scan)
PREFIXED_HEX = re.compile(rf"(?<![\w|])(?:O(?=0x)|0(?=Ox))?[0O]x{_HEXISH}{{2,8}}(?![\w|])")
# ... in lower case, its 0 read as O (`(image type Ox0f59)`): with a true digit in its body
LOWER_PREFIXED_HEX = re.compile(r"(?<![\w|])Ox(?=[0-9a-f]*\d)[0-9a-f]{2,8}(?![\w|])")
# ... split by a space read inside it (`0x1 10d`): the parts make four or eight digits
SPLIT_LOWER_PREFIXED_HEX = re.compile(
    r"(?<![\w|])[0O]x(?=[0-9a-f ]*\d)[0-9a-f]{1,7}\s[0-9a-f]{1,7}(?![\w|])")
# an image type written bare after its words (`Image Type OAA2` for 0AA2)
IMAGE_TYPE_BARE_HEX = re.compile(rf"(?<=Image Type\s){_HEXISH}{{4}}(?![\w|:])", re.IGNORECASE)
# a board `V4 R10` or a release `R09.772` with an O for a 0 (`V4 R1O`, `RO9.772`); two true
# digits, as ever (`V4 RO` may be V4 R9 read badly: left as read)
V_R_MISREAD = re.compile(r"(?<![\w|])V\d{1,2}\sR[O0-9]{1,2}(?![\w|.])")
RELEASE_MISREAD = re.compile(r"(?<![\w|])R[O0-9]{2,3}\.[O0-9]{2,4}(?![\w|.])")
# raw hex digits between dots (`A.C0`, `1.2.E`, `6.B1 Build String`) with an O for a 0 or an
# l, I or bar for a 1 (`6.Bl` on a turned 200-dpi scan): only those are repaired
DOTTED_HEX = re.compile(r"(?<![\w|.])[0-9A-FOIl|]{1,2}(?:\.[0-9A-FOIl|]{1,2})+(?![\w|])")
# a `v` and a short number, some of its 1s read as l, I or i (`vl6l`, `vi93` for v161, v193 on
# 150-dpi JPEG scans); one true digit at least, and at most four characters
V_NUMBER = re.compile(r"(?<![\w|])v(?=[0-9OoIil|]*[0-9])[0-9OoIil|]{2,4}(?![\w|.])")
# (the O and 1 misreads alone: S, Z, G and B are letters a v-number or raw hex may hold)
ONE_ZERO_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "I": "1", "i": "1", "l": "1", "|": "1"})
DOTTED_DIGITS = re.compile(rf"(?<![\w|.]){_DIGITISH}{_DIGITISH}*(?:\.{_DIGITISH}+)+(?![\w|])")
# "1:2" in a hardware version: octets are two hex digits, so a colon beside a one-digit number
# is a dot misread (measured: tesseract read "1.2" as "1:2" on a JPEG scan)
COLON_DECIMAL = re.compile(r"(?<![\w:|.])(?:\d:\d{1,2}|\d{1,2}:\d)(?![\w:|.])")
# Which shapes each field's grammar holds (registry names, product names are free text)
# A version word and a bar: the bar is the digit 1 (`Version | Revision 7`, Times at 150 dpi)
# ... or an I or l standing alone for it (`Version 6 Revision I`, a JPEG scan)
BAR_AFTER_VERSION = re.compile(r"\b(?:Version|Revision|Rev\.?|Issue|Build) [|Il](?=\s|$)",
                               re.IGNORECASE)
FIELD_SHAPES: dict[str, tuple[re.Pattern[str], ...]] = {
    "manufacturer": (SPLIT_BRACKETED_HEX, COLON_HEX, BRACKETED_HEX, BRACKETED_PREFIXED_HEX),
    "model": (SPLIT_BRACKETED_HEX, SPLIT_PREFIXED_HEX, COLON_HEX, PREFIXED_HEX, BRACKETED_HEX,
              IMAGE_TYPE_HEX, SPLIT_LOWER_PREFIXED_HEX, LOWER_PREFIXED_HEX, IMAGE_TYPE_BARE_HEX),
    "hardware_version": (REV_MISREAD, BAR_AFTER_VERSION, SPLIT_PREFIXED_HEX, UNDERSCORE_HEX,
                         DOTTED_DIGITS, COLON_DECIMAL, V_R_MISREAD),
    "firmware_version": (SPLIT_PREFIXED_HEX, MIXED_COLON_HEX, COLON_HEX, PREFIXED_HEX,
                         DOTTED_DIGITS, DOTTED_HEX, V_NUMBER, LOWER_PREFIXED_HEX,
                         RELEASE_MISREAD),
}
# ZigBee certificate IDs start "ZIG" and a two-digit year; measured: read as Z1G / 21G / ZG / Z!G, or
# with a space after ZIG, in 6 of 30 scans; once with a leader's last dot glued on before the Z
# (`2Z1G18522SE8643` at 45% after `Certificate No.: ......` in Courier, 150-dpi JPEG).
ID_PREFIX = re.compile(
    r"(?<![A-Za-z0-9])(?:[2.,:;'](?=Z))?"
    r"(?P<prefix>[Z2][I1l|!]{0,2}[G6])\s{0,3}(?P<year>[0-9Il|]\s?[0-9])(?=[\w-])"
)


def _repair_token(token: str, pattern: re.Pattern[str]) -> str:
    if pattern is BAR_AFTER_VERSION:
        return token[:-1] + "1"
    if pattern is REV_MISREAD:
        return "Rev" + token[3:]
    if pattern is BRACKETED_PREFIXED_HEX:
        return "0x" + re.sub(r"\s", "", token)[2:].translate(HEX_CONFUSIONS)
    if pattern is DOTTED_DIGITS:
        return token.translate(DIGIT_CONFUSIONS)
    if pattern is DOTTED_HEX:
        return token.translate(ONE_ZERO_CONFUSIONS)
    if pattern is V_NUMBER:
        return "v" + token[1:].translate(ONE_ZERO_CONFUSIONS)
    if pattern is MIXED_COLON_HEX:
        return re.sub(r"[;,'\u2018\u2019\u201a]", ":", token).translate(HEX_CONFUSIONS)
    if pattern is COLON_DECIMAL:
        return token.replace(":", ".")
    if pattern is LOWER_PREFIXED_HEX:
        return "0x" + token[2:]
    if pattern is SPLIT_LOWER_PREFIXED_HEX:
        body = re.sub(r"\s", "", token)[2:]
        return token if len(body) not in (4, 8) else "0x" + body
    if pattern is IMAGE_TYPE_BARE_HEX:
        return token.translate(HEX_CONFUSIONS)
    if pattern in (V_R_MISREAD, RELEASE_MISREAD):
        return token[0] + token[1:].replace("O", "0")
    squeezed = re.sub(r"\s", "", token)
    if pattern is SPLIT_PREFIXED_HEX:
        body = squeezed[2:]
        return token if len(body) not in (4, 8) else "0x" + body.translate(HEX_CONFUSIONS)
    if pattern is PREFIXED_HEX:
        return "0x" + squeezed.partition("x")[2].translate(HEX_CONFUSIONS)
    return squeezed.translate(HEX_CONFUSIONS)


def _evidence_enough(token: str, pattern: re.Pattern[str]) -> bool:
    """Two true digits; or, for raw hex between dots, two true hex characters; or, for a value
    written 0x..., the `x` and a body of whole octets with
    two true hex characters (`OxESDD` is 0xE5DD: tesseract read its 0 as O and its 5 as S, and a
    body of hex letters has no digit to show it)."""
    if pattern in (BAR_AFTER_VERSION, REV_MISREAD):  # the version word is the evidence
        return True
    if pattern is BRACKETED_PREFIXED_HEX:  # the brackets, the x and a true digit
        return any(ch.isdigit() for ch in token[2:])
    if pattern in (V_NUMBER, LOWER_PREFIXED_HEX):  # the `v` or `Ox`, and a true digit
        return True
    if pattern is IMAGE_TYPE_BARE_HEX:  # the words, and a true digit
        return any(ch.isdigit() for ch in token)
    if pattern is MIXED_COLON_HEX:
        return token.count(":") >= 2 and sum(ch.isdigit() for ch in token) >= 2
    if pattern in (BRACKETED_HEX, IMAGE_TYPE_HEX):  # one true digit, after the brackets or
        # the words (`OF:AC` may be DF:AC read badly: left as read)
        return any(ch.isdigit() for ch in token)
    if sum(ch.isdigit() for ch in token) >= 2:
        return True
    if pattern is DOTTED_HEX:  # `A.CO`: the dots and two true hex characters
        return sum(ch in "0123456789ABCDEF" for ch in token) >= 2
    if pattern is not PREFIXED_HEX:
        return False
    body = re.sub(r"\s", "", token).partition("x")[2]
    return len(body) % 2 == 0 and sum(ch in "0123456789ABCDEF" for ch in body) >= 2


def repair_value(field: str, value: str) -> tuple[str, list[str]]:
    """`value` with misreads fixed inside its hex/digit parts only, and a note per repair.

    A token is repaired only when it keeps two true digits and becomes well-formed; anything
    else is left as read (and will not match)."""
    notes: list[str] = []
    for pattern in FIELD_SHAPES.get(field, ()):
        def fix(match: re.Match[str], pattern: re.Pattern[str] = pattern) -> str:
            token = match.group(0)
            if not _evidence_enough(token, pattern):
                return token
            repaired = _repair_token(token, pattern)
            if repaired != token:
                notes.append(f"{field} {token!r} read as {repaired!r}")
            return repaired
        value = pattern.sub(fix, value)
    return value, notes


def repair_text(text: str) -> tuple[str, list[str]]:
    """Page-level repair of the certificate-ID prefix only ("Z1G17-..." -> "ZIG17-...")."""
    notes: list[str] = []

    def fix(match: re.Match[str]) -> str:
        if not any(ch.isalpha() for ch in match.group("prefix")):  # "216 2017": a number
            return match.group(0)
        repaired = "ZIG" + re.sub(r"\s", "", match.group("year")).translate(DIGIT_CONFUSIONS)
        if match.group(0) != repaired:
            notes.append(f"certificate_id {match.group(0)!r} read as {repaired!r}")
        return repaired

    return ID_PREFIX.sub(fix, text), notes


def repair_page(page: PageText) -> tuple[PageText, list[str]]:
    """An OCR page with certificate-ID prefixes repaired in its text, table cells and segments."""
    text, notes = repair_text(page.text)
    tables = tuple(
        tuple(tuple(repair_text(cell)[0] for cell in row) for row in table) for table in page.tables
    )
    segments = tuple(
        dataclasses.replace(s, text=repaired) if (repaired := repair_text(s.text)[0]) != s.text
        else s
        for s in page.segments
    )
    return dataclasses.replace(page, text=text, tables=tables, segments=segments), notes


# "Il", "lI", "I|": no word, a Roman numeral read with l or | for I
ROMAN_MISREAD = re.compile(r"(?<![\w|-])[Il|]{2,4}(?![\w|-])")
BRACKETED_CODE = re.compile(r"\((?P<code>[A-Z0-9]{2,12})\)")


def repair_roman(field: str, value: str) -> tuple[str, list[str]]:
    def fix(match: re.Match[str]) -> str:
        token = match.group(0)
        capitals = token.count("I")
        misread = capitals < len(token) and (capitals >= 2 or (capitals == 1 and len(token) == 2))
        return "I" * len(token) if misread else token  # "Ill" may be a word; "lII" is not

    repaired = ROMAN_MISREAD.sub(fix, value)
    return repaired, [f"{field} {value!r} read as {repaired!r}"] if repaired != value else []


def repair_device_type(value: str, types: DeviceTypes) -> tuple[str, list[str]]:
    """An unknown bracketed code one character from the code its own phrase names is that code."""
    match = BRACKETED_CODE.search(value)
    if not match or match.group("code") in types.phrases:
        return value, []
    code = match.group("code")
    named = device_codes_in(value[: match.start()], types)
    if len(named) != 1:
        return value, []
    (expected,) = named
    if len(expected) != len(code) or sum(a != b for a, b in zip(code, expected, strict=True)) != 1:
        return value, []
    repaired = f"{value[: match.start()]}({expected}){value[match.end():]}"
    return repaired, [f"device_type code {code!r} read as {expected!r}, the code its phrase names"]


# A hardware version is a version and a revision (07_03, 7.3, 7-3); read as bare digits, its
# separator was lost (measured: "1.4" and "7.3" read as "14" and "73" at 93% confidence on
# 150-dpi JPEG scans). Which digits are which cannot be known, so the value is not used.
BARE_HARDWARE = re.compile(r"\d{1,3}")


def set_aside_bare_hardware(value: str) -> tuple[str, list[str]]:
    if not BARE_HARDWARE.fullmatch(value.strip()):
        return value, []
    return "", [f"hardware_version {value!r} not used: read without its separator (7.3 as 73?)"]


def repair_certificate(certificate: Certificate) -> tuple[Certificate, list[str]]:
    """Hex/digit repairs in every listing's device fields, Roman numerals in model names and
    the device code, each with a note; a hardware version read as bare digits set aside."""
    notes: list[str] = []
    listings = []
    for listing in certificate.listings:
        changes: dict[str, Any] = {}
        for name in ("manufacturer", "model", "hardware_version", "firmware_version"):
            value, found = repair_value(name, getattr(listing, name))
            if name == "model":
                value, roman = repair_roman(name, value)
                found = [*found, *roman]
            if name == "hardware_version":
                value, bare = set_aside_bare_hardware(value)
                found = [*found, *bare]
            if found:
                changes[name] = value
                notes.extend(found)
        listings.append(dataclasses.replace(listing, **changes) if changes else listing)
    device_type, found = repair_device_type(certificate.device_type, default_device_types())
    notes.extend(found)
    return dataclasses.replace(certificate, listings=tuple(listings), device_type=device_type), notes


def field_confidences(certificate: Certificate, pages: Sequence[PageText]) -> tuple[
        tuple[str, float], ...]:
    """Mean tesseract confidence of the words each field value came from."""
    confidences: dict[str, list[float]] = {}
    for page in pages:
        for word, confidence in page.word_confidence:
            confidences.setdefault(word, []).append(confidence)
    values: list[tuple[str, str]] = [
        ("certificate_id", certificate.certificate_id),
        ("device_type", certificate.device_type),
    ]
    many = len(certificate.listings) > 1
    for n, listing in enumerate(certificate.listings, start=1):
        prefix = f"listing {n} " if many else ""
        values += [(prefix + name, getattr(listing, name)) for name in
                   ("manufacturer", "model", "hardware_version", "firmware_version")]
    out = []
    for name, value in values:
        found = [c for token in value.split() for c in confidences.get(token, [])[:1]]
        if found:
            out.append((name, round(sum(found) / len(found), 1)))
    return tuple(out)
