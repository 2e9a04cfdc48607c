"""Value grammars: what a value of each field looks like in running text, wherever it stands.

The prose reader matches them after a cue word (`manufactured by`, `hardware version`), and the
layout reader uses them to cut a label's value out of a sentence (`software release 2.66 on
hardware 1.3 ...` gives 2.66). The lexicon's [shapes] say whether a whole value is acceptable;
these say where a value starts and ends in a longer text.
"""

from __future__ import annotations

import regex

_HEX2 = r"[0-9A-Fa-f]{2}"
_HEX_VALUE = (rf"(?:0[xX]|h')?{_HEX2}(?:[:\- ]?{_HEX2}){{1,3}}h?(?![\w:])"
              rf"|0[xX][0-9A-Fa-f]{{4,8}}(?!\w)")
_VERSION = (r"(?:[vV](?:ersion\s)?)?\d+(?:[._]\d+)+(?:\s?\((?:Stack|stack)\s[\d.]+\)|\sbuild\s\d+)?"
            r"|Version\s\d+\sRevision\s\d+|[vV]\d+|[0-9A-F]{1,2}(?:\.[0-9A-F]{1,2})+(?![\w.])")
_TOKEN = r"[A-Z0-9][A-Za-z0-9\-./_]*"
# an image type after a model's name, in either spelling: `(Image Type 2E:80)`, `(Image Type 0x128C)`
# (in brackets, or bare after the name in its colon or 0x form: `Waymark Hub Image Type 3E:35`)
IMAGE_TYPE = (rf"(?:\(Image Type\s(?:{_HEX2}[: ]?{_HEX2}|0[xX]{_HEX2}{_HEX2})\)"
              rf"|Image Type\s(?:{_HEX2}:{_HEX2}|0[xX]{_HEX2}{_HEX2})(?![\w:]))")
_MFR_CODE = rf"\((?:0[xX])?{_HEX2}:?{_HEX2}\)"  # `(10:AE)`, `(0x11D0)`, `(1266)`
# (a sentence's first word after a company's full stop is no part of it: `GmbH. The device`,
# `Ravensworth Metering Services. We ...`; an abbreviation's dots are: `Co. Ltd`, `S.A.`)
_COMPANY = (r"(?:[A-Z][\w&'.+\-]*|\(UK\)|\(GB\))(?:\s(?:(?<!(?:GmbH|Ltd|Limited|plc|Inc|AG|[a-z]{3})\.\s)"
            r"[A-Z][\w&'.+\-]*|\(UK\)|\(GB\)|&"
            r"|and(?=\s[A-Z])|of(?=\s[A-Z])|plc|ltd|GmbH|AG|AB|Oy|S\.A\.|B\.V\.))*")
GRAMMARS: dict[str, regex.Pattern[str]] = {
    # Letters and digits in groups joined by - / _ . (ZIG22SE5350, WRL-ZSE-2021-0057), a digit
    # among them, ending on a digit or capital (not on a sentence's full stop).
    "certificate_id": regex.compile(
        r"(?=[A-Za-z0-9\-/_.]*\d)[A-Z][A-Za-z0-9]*(?:[\-/_.]?[A-Za-z0-9]+)*(?<=[0-9A-Z])"),
    "certificate_date": regex.compile(
        r"\d{4}-\d{2}-\d{2}|\d{1,2}[./ -](?:\d{1,2}|[A-Za-z]{3,9})[./ -]\d{4}"
        r"|[A-Z][a-z]{2,8} \d{1,2},? \d{4}"),
    "device_type": regex.compile(r"[A-Z][\w-]*(?:\s[A-Z][\w-]*){0,6}(?:\s\([A-Z]{2,6}\))?"),
    # A company name, its code in brackets after it; or the code first, the name in brackets
    # ('0x7CAE (Calder Valley Instruments Ltd)').
    "manufacturer": regex.compile(
        rf"(?:0[xX]{_HEX2}{_HEX2}|{_HEX2}{_HEX2}h|{_HEX2}:{_HEX2})(?:\s\({_COMPANY}\))?"
        rf"|{_COMPANY}(?:\s{_MFR_CODE})?"),
    "model": regex.compile(
        rf"{_TOKEN}(?:\s{_TOKEN}){{0,3}}\s{IMAGE_TYPE}"
        rf"|{_HEX2}:{_HEX2}(?![\w:])"
        # (a name's capitalised words before its word with a digit: `Quill Q3`, `Aurora ESME 3`)
        rf"|(?:[A-Z][A-Za-z\-]*\s){{0,3}}(?=[A-Za-z0-9\-./_]*\d){_TOKEN}(?:\s\({_HEX2}:{_HEX2}\))?"),
    # ...and a board issue by letter: 0x0A, C2, rev C (hand-made letters: `hardware issue C2`)
    "hardware_version": regex.compile(
        rf"{_VERSION}|{_HEX_VALUE}|{_HEX2}_{_HEX2}|0[xX][0-9A-Fa-f]{{2}}(?![\w:])"
        r"|(?:[Rr]ev\.?\s)?[A-Z][0-9]{1,2}(?![\w.:])|[Rr]ev\.?\s(?:[A-Z]|\d{1,2})(?![\w.])"),
    # ...and a release by its letter (`R13.604`, `R09.219`)
    # ...and an application release with its stack, named as such (`SMETS2 Application Release
    # 9.17 (Stack 2.42)`, `Application 4.07 (Stack 3.56)`)
    "firmware_version": regex.compile(
        r"(?:SMETS\d?\s)?Application\s(?:Release\s|Version\s)?\d+(?:\.\d+)+\s?\([Ss]tack\s[\d.]+\)"
        rf"|{_VERSION}|{_HEX_VALUE}|R\d{{1,3}}(?:\.\d{{1,4}})+(?![\w.])"),
}
