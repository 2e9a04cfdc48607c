"""Hex written other ways, read as the colon form the codings work on.

The codings read `0C 03 0C 22`, `0C-03-0C-22`, `h'0C030C22` and `0x7CAE` as printed. These
forms they do not, and are rewritten here: `0C030C22h` and `7CAEh` (assembler style), a
manufacturer code given alone as `21 E3`, `Ox7CAE` (OCR) or `0x7CAE`, and an image type in
brackets with a space (`Image Type 1F C6`). Only where the whole value (or the bracket) is that
hex, never inside a name; every rewrite is returned as a note so the audit shows what was
printed. (pipeline.hexform is the other half: what counts as the same octets once written
with separators.)
"""

from __future__ import annotations

import regex

_H = r"[0-9A-Fa-f]{2}"
_SEPARATED = regex.compile(rf"(?P<hex>{_H}[ \-]{_H})")  # a two-octet code: 21 E3
_GLUED = regex.compile(r"(?P<hex>(?:[0-9A-Fa-f]{2}){2,4})[hH]")  # 21E3h, 0C030C22h
_IMAGE_TYPE = regex.compile(rf"(?P<lead>\(Image Type\s)(?P<hex>{_H})[ \-](?P<hex2>{_H})\)")
_BARE_CODE = regex.compile(r"(?:0[xX]|O[xX])?(?P<hex>[0-9A-Fa-f]{4})")
# A manufacturer code after its cue word inside the value: 'Corrib Metering Ltd, Mfr. Code: 21 E3',
# '(Manufacturer Code 78 DC)', 'Manufacturer ID: 8B6Dh', 'Code 0x7CAE'. It needs a mark of hex
# (a 0x, an h, a space or dash between the octets, or a hex letter): 'ID 2012' stays as printed.
_CUED_CODE = regex.compile(
    r"(?i)(?P<lead>\b(?:code|id|identifier)\b\.?\s*[:#]?\s*)"
    r"(?P<hex>(?P<x>0x|ox)?[0-9a-f]{2}(?P<sep>[ \-])?[0-9a-f]{2})(?P<h>h)?(?![0-9a-z:])"
)


def _cued(match: regex.Match[str]) -> str:
    digits = match["hex"][2:] if match["x"] else match["hex"]
    marked = match["x"] or match["sep"] or match["h"] or regex.search(r"[a-fA-F]", digits)
    return f"{match['lead']}{_colons(digits)}" if marked else match[0]


def _colons(digits: str) -> str:
    digits = regex.sub(r"[^0-9A-Fa-f]", "", digits).upper()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def rewrite_printed_hex(field: str, value: str) -> tuple[str, str]:
    """(value, note): the value with its hex in colon form, and a note when it changed."""
    text = value.strip()
    new = text
    if field == "manufacturer" and (match := _SEPARATED.fullmatch(text)):
        new = _colons(match.group("hex"))
    elif match := _GLUED.fullmatch(text):
        new = _colons(match.group("hex"))
    elif field == "manufacturer" and (match := _BARE_CODE.fullmatch(text)) and (
        text[:2].lower() in ("0x", "ox")
    ):
        new = _colons(match.group("hex"))
    else:
        new = _IMAGE_TYPE.sub(lambda m: f"{m['lead']}{m['hex'].upper()}:{m['hex2'].upper()})", text)
        if field == "manufacturer":
            new = _CUED_CODE.sub(_cued, new)
    if new == text:
        return value, ""
    return new, f"{field}: read {text!r} as {new!r} (hex written without colons)"
