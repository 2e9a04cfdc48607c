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
    if new == text:
        return value, ""
    return new, f"{field}: read {text!r} as {new!r} (hex written without colons)"
