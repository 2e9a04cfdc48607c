"""A field's verdict in one plain-English sentence, for people (report.html, audit.xlsx, explain).

The codings' own reasons are written for checking ("reads by decimal-per-component/app-stack
as 0C:03:0C:22 (application 12->0C 3->03 ...)"). This module says the same thing in words:
"the certificate's 12.3 (Stack 12.34) is application 12.3 and stack 12.34 with each number
written in hex (12 = 0C, 3 = 03, 34 = 22), giving 0C:03:0C:22, the CPL value".

It reads the coding result itself -- the reading the verdict named (its shown text, placement,
conversion steps and unshown octets) -- rather than parsing the reason. It only describes: the
verdict is the codings' (pipeline.codings.judge); for anything it cannot describe from the
reading it falls back to that reason.
"""

from __future__ import annotations

from functools import lru_cache

import regex

from pipeline.codings import load_codings
from pipeline.codings.engine import Reading, _readings
from pipeline.codings.primitives import _shown_text, _value_text
from pipeline.models import Field, FieldJudgement, Verdict

FIELD_WORDS: dict[Field, str] = {
    Field.MANUFACTURER: "manufacturer code",
    Field.MODEL: "model identifier (image type)",
    Field.HARDWARE: "hardware version",
    Field.FIRMWARE: "firmware version",
}

# What each status word means, for legends (report.html, the workbook's Summary, README).
STATUS_WORDS: dict[str, str] = {
    "PASS": "every field is backed by the certificate",
    "REVIEW": "nothing contradicts the certificate, but a field is missing, partial, "
              "unverifiable or needs evidence: a person should look",
    "FAIL": "a field contradicts the certificate, or the CPL value itself is invalid",
    "NO_CERTIFICATE": "no input document carries the row's certificate ID",
    "ERROR": "the certificate was found but could not be read (the reason is given)",
    "MATCH": "the certificate shows the CPL value itself, in hex",
    "MAPPED": "the certificate shows another form that a named coding or registry entry turns "
              "into the CPL value",
    "MISMATCH": "the certificate shows the field, and no reading of it is the CPL value",
    "MISSING": "the field is not on the certificate",
    "PARTIAL": "the certificate explains some octets of the CPL value; the others are neither "
               "shown nor 00",
    "UNVERIFIABLE": "the field is there but cannot be turned into hex (e.g. a company name "
                    "with no registry entry)",
    "INVALID_CPL": "the CPL value breaks its format or range",
    "NEEDS_EVIDENCE": "the certificate is reused for several submissions and this one does not "
                      "match it; no supplementary evidence was given",
    "EVIDENCE": "as NEEDS_EVIDENCE, with supplementary evidence given and checked",
}
OVERALL_WORDS = ("PASS", "REVIEW", "FAIL", "NO_CERTIFICATE", "ERROR")

_STEP = regex.compile(r"(\S+)->([0-9A-F]+)")

_CONVERSION_WORDS = {
    "decimal": "with each number written in hex",
    "bcd": "with each number's decimal digits used as hex digits (binary-coded decimal)",
    "hex-digits": "with each part already in hex",
}


@lru_cache(maxsize=1)
def _conversions() -> dict[str, str]:
    """Coding name -> its conversion, from rules/codings.toml."""
    rules = load_codings()
    return {c.name: c.conversion for f in Field for c in rules.for_field(f)}


def _reading_for(text: str, field: Field, method: str) -> Reading | None:
    found = _readings(text, field, None, None)
    for reading in (*found.kept, *found.excluded):
        if reading.coding == method or method in reading.also:
            return reading
    return None


def _pairs(steps: tuple[str, ...]) -> str:
    """'12 = 0C, 3 = 03, 34 = 22': each conversion once, in order."""
    seen: list[str] = []
    for step in steps:
        for shown, written in _STEP.findall(step):
            pair = f"{shown} = {written}"
            if pair not in seen:
                seen.append(pair)
    return ", ".join(seen)


def _components(step: str) -> str:
    return ".".join(shown for shown, _ in _STEP.findall(step))


def _placement_words(reading: Reading) -> str:
    placement = reading.placement
    if placement == "app-stack":
        app = next((s for s in reading.steps if s.startswith("application ")), "")
        stack = next((s for s in reading.steps if s.startswith("stack ")), "")
        words = f"is application {_components(app)}"
        return words + (f" and stack {_components(stack)}" if stack else ", with no stack")
    return {
        "app-only": f"is application {_components(' '.join(reading.steps))}, with no stack shown",
        "left-aligned": "gives one octet per number, from the first octet",
        "right-aligned": "gives one octet per number, ending at the last octet",
        "whole-value": "is one number",
        "digit-stream": "has its digits packed two to an octet, from the first octet",
    }.get(placement, f"is read by {reading.coding}")


def _mapped(reading: Reading, field: Field, cpl: str) -> str:
    shown = " ".join(reading.shown.split())
    if reading.authoritative:
        return f"the certificate shows {shown}, which is the CPL value {cpl} written in hex"
    conversion = _CONVERSION_WORDS.get(_conversions().get(reading.coding, ""), "")
    pairs = _pairs(reading.steps) if reading.placement != "digit-stream" else ""
    placed = _placement_words(reading)
    how = f"{',' if ',' in placed else ''} {conversion} ({pairs})" if conversion and pairs else ""
    value = _value_text(reading.nibbles, field)
    sentence = f"the certificate's {shown} {placed}{how}, giving {value}"
    if None in reading.nibbles:
        sentence += (f" (the text shows {_shown_text(reading.nibbles, field)}; "
                     "the digits it does not show count as 0)")
    return sentence + ", the CPL value"


def _registry(method: str, text: str, cpl: str) -> str:
    _, source, name = method.split(":", 2)
    return (f"the certificate's {' '.join(text.split())} is {name} in the registry {source}, "
            f"whose code is {cpl}, the CPL value")


def _quoted(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _after_colon(reason: str) -> str:
    return reason.split(": ", 1)[1] if ": " in reason else reason


def sentence(
    field: Field | str, cpl: str, text: str, status: str, method: str = "", reason: str = "",
    alternatives: str = "",
) -> str:
    """The verdict of one field in plain English, from the fields of a reconciliation row."""
    field = Field(field)
    words = FIELD_WORDS[field]
    shown = _quoted(text)
    try:
        verdict = Verdict(status)
    except ValueError:
        return reason
    if verdict in (Verdict.MATCH, Verdict.MAPPED) and method:
        if method.startswith("registry:"):
            return _registry(method, text, cpl)
        reading = _reading_for(text, field, method)
        if reading is not None:
            return _mapped(reading, field, cpl)
    if verdict is Verdict.MISSING:
        return f"the certificate does not show the {words}" + (f" ({reason})" if reason else "")
    if verdict is Verdict.INVALID_CPL:
        return f"the CPL value {cpl} is not a valid {words}: {_after_colon(reason) or 'it breaks the format'}"
    if verdict is Verdict.MISMATCH:
        readings = [a for a in alternatives.split("; ") if a]
        if not readings:
            return f"the certificate's {shown} is not the CPL value {cpl}" + (
                f": {reason}" if reason else "")
        return (f"the certificate's {shown} can be read as {' or '.join(readings)}, "
                f"and none of these is the CPL value {cpl}")
    if verdict is Verdict.PARTIAL:
        return (f"the certificate's {shown} accounts for only part of the CPL value {cpl}: "
                f"{_after_colon(reason)}")
    if verdict is Verdict.UNVERIFIABLE:
        return f"the certificate shows {shown}, which cannot be turned into a hex {words}: {reason}"
    if verdict is Verdict.NEEDS_EVIDENCE:
        return ("the certificate is reused for other submissions and does not match this one; "
                f"supplementary evidence is needed: {reason}")
    if verdict is Verdict.EVIDENCE:
        return f"supplementary evidence backs the CPL value {cpl}: {reason}"
    return reason


def judgement_sentence(j: FieldJudgement) -> str:
    return sentence(j.field, j.cpl, j.certificate_text, j.status.value, j.method, j.reason,
                    "; ".join(j.alternatives))


def row_sentences(row: dict[str, str]) -> dict[str, str]:
    """Per field of a reconciliation row (report.rows), its sentence; "" without a status."""
    out = {}
    for f in Field:
        status = row.get(f"{f.value}_status", "")
        out[f.value] = sentence(
            f, row.get(f"{f.value}_cpl", ""), row.get(f"{f.value}_certificate", ""), status,
            row.get(f"{f.value}_method", ""), row.get(f"{f.value}_reason", ""),
            row.get(f"{f.value}_alternatives", ""),
        ) if status else ""
    return out
