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


# --- explain, for people -----------------------------------------------------------------------

EXIT_BACKED, EXIT_CONTRADICTED, EXIT_NEEDS_A_PERSON = 0, 1, 3


def explain_exit_code(status: str | None) -> int:
    """`explain`'s exit status: 0 MATCH/MAPPED, 1 MISMATCH/INVALID_CPL, 3 anything else (no
    --cpl given, MISSING, PARTIAL, UNVERIFIABLE...), so scripts can act on the verdict."""
    if status in (Verdict.MATCH, Verdict.MAPPED):
        return EXIT_BACKED
    if status in (Verdict.MISMATCH, Verdict.INVALID_CPL):
        return EXIT_CONTRADICTED
    return EXIT_NEEDS_A_PERSON


def cpl_problem(field: Field, cpl: str) -> str | None:
    """The rule a CPL value breaks (guidance section 2), as reconcile judges it; None if valid."""
    from pipeline.cpl import validate
    from pipeline.models import CplRow

    version, _, revision = cpl.partition("_") if field is Field.HARDWARE else ("00", "", "00")
    values = {"manufacturer_identifier": "00:00", "model_identifier": "00:00",
              "firmware_version": "00:00:00:00", "hardware_version_version": version,
              "hardware_version_revision": revision}
    if field is not Field.HARDWARE:
        values[field.value] = cpl
    row = CplRow(1, "", "", values["manufacturer_identifier"], values["model_identifier"],
                 values["hardware_version_version"], values["hardware_version_revision"],
                 values["firmware_version"])
    return validate(row).get(field)


def checked_explanation(result: dict[str, object]) -> dict[str, object]:
    """`codings.explain`'s result with the CPL value checked as reconcile checks it first: an
    invalid value is INVALID_CPL with the rule it broke, whatever the text reads as."""
    cpl = result.get("cpl")
    if not isinstance(cpl, str):
        return result
    problem = cpl_problem(Field(str(result["field"])), cpl)
    if problem is None:
        return result
    return {**result, "status": Verdict.INVALID_CPL.value, "method": "", "reason": problem}


def explanation_of(result: dict[str, object]) -> str:
    """The sentence for an `explain` result; without a CPL value, what the text may stand for."""
    field = Field(str(result["field"]))
    text = str(result["text"])
    candidates = result.get("candidates") or []
    assert isinstance(candidates, list)
    if "status" not in result:
        if not candidates:
            return f"the text {_quoted(text)} gives no {FIELD_WORDS[field]} under any coding"
        readings = " or ".join(f"{c['value']} ({c['coding']})" for c in candidates)
        return f"the text {_quoted(text)} can stand for {readings}; give --cpl to judge one"
    given = result.get("alternatives") or []
    assert isinstance(given, list)
    alternatives = "; ".join(str(a) for a in given) or "; ".join(
        f"{c['value']} ({c['coding']})" for c in candidates)
    return sentence(field, str(result["cpl"]), text, str(result["status"]),
                    str(result.get("method", "")), str(result.get("reason", "")), alternatives)


def explain_for_terminal(result: dict[str, object]) -> str:
    """The sentence first, then the verdict's details and every candidate, for a person."""
    status = result.get("status")
    head = f"{status}: " if status else ""
    lines = [head + explanation_of(result), ""]
    for key in ("field", "text", "cpl", "method", "reason"):
        if result.get(key):
            lines.append(f"  {key + ':':<12}{result[key]}")
    candidates = result.get("candidates") or []
    assert isinstance(candidates, list)
    if candidates:
        lines.append("  candidates:")
        lines += [f"    {c['value']:<14}{c['coding']}  {c['note']}" for c in candidates]
    return "\n".join(lines)


def with_explanations(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """`explain --batch` rows (codings.explain_rows) with an `explanation` column: the sentence.
    A CPL value that breaks its format or range is INVALID_CPL, as in a reconcile run."""
    from pipeline.codings import field_named

    out = []
    for row in rows:
        row = dict(row)
        try:
            field = field_named(row.get("field", "") or Field.FIRMWARE.value)
        except ValueError:
            out.append({**row, "explanation": row.get("reason", "")})
            continue
        cpl, text = row.get("cpl", "").strip(), row.get("text", "")
        problem = cpl_problem(field, cpl) if cpl else None
        if problem:
            row.update(status=Verdict.INVALID_CPL.value, method="", reason=problem)
        if row.get("status"):
            explanation = sentence(field, cpl, text, row["status"], row.get("method", ""),
                                   row.get("reason", ""), row.get("candidates", ""))
        else:
            candidates = [
                {"value": c.rsplit(" (", 1)[0], "coding": c.rsplit(" (", 1)[-1].rstrip(")")}
                for c in row.get("candidates", "").split("; ") if c
            ]
            explanation = explanation_of({"field": field.value, "text": text,
                                          "candidates": candidates})
        out.append({**row, "explanation": explanation})
    return out
