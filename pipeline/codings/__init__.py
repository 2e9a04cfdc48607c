"""Plain-English / BCD / hex certificate text -> candidate CPL hex values, and the field verdict.

The audit rests here: which hex values may a certificate's text stand for, by which coding, and is
the CPL value one of them. The codings are data (`rules/codings.toml`); this module implements the
few primitives they combine (conversions and placements) and the verdict rules of SPEC "Verdicts".

Safety over reach: a false MATCH/MAPPED is the worst defect. So each coding applies one conversion
and one placement to the whole value; a hex value the certificate states outright silences every
other reading; registry names are matched exactly after normalisation, never guessed; and MATCH or
MAPPED is given only when the CPL value equals a candidate's value exactly (octets the text does
not show being 00). Text is untrusted: at most MAX_SCAN characters are read, patterns are bounded
and run under a time limit, and `judge` never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.codings.engine import (
    _PLANS,
    MAX_SCAN,
    _candidate,
    _manufacturer_code,
    _readings,
    _readings_cached,
    _text_readings,
)
from pipeline.codings.primitives import OCTETS, _converted, canonical_hex, display, format_value
from pipeline.codings.rules import (
    CODINGS_TOML,
    MANUFACTURER_CODINGS_DIR,
    load_codings,
    load_manufacturer_codings,
)
from pipeline.codings.verdict import _cpl_value, _judge
from pipeline.models import Candidate, Field, FieldJudgement, Verdict
from pipeline.registry import Registry, canonical_code

__all__ = [
    "CODINGS_TOML", "INTERNAL_ERROR", "MANUFACTURER_CODINGS_DIR", "MAX_SCAN", "OCTETS",
    "candidates_for", "canonical_hex", "clear_cache", "display", "explain", "explain_rows",
    "field_named", "format_value", "judge", "load_codings", "load_manufacturer_codings",
    "manufacturer_code_for",
]

INTERNAL_ERROR = "internal error while reading the text"


# --- public API ------------------------------------------------------------------------------------

def candidates_for(
    text: str,
    field: Field,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> list[Candidate]:
    """Every CPL hex value the text may stand for, each with its coding; rules order, no repeats."""
    if not isinstance(text, str) or not text.strip():
        return []
    field = Field(field)
    return [_candidate(r, field) for r in _readings(text, field, registry, manufacturer_code).kept]


def judge(
    text: str,
    field: Field,
    cpl: str,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> FieldJudgement:
    """The verdict for one field (SPEC "Verdicts"). Never raises: document text is untrusted."""
    try:
        return _judge(text, field, cpl, registry, manufacturer_code)
    except Exception as exc:  # noqa: BLE001 - a verdict with the reason beats a crashed run
        return FieldJudgement(field, str(cpl), str(text), Verdict.UNVERIFIABLE,
                              reason=f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}")


def explain(
    text: str,
    field: Field,
    cpl: str | None = None,
    registry: Registry | None = None,
    manufacturer_code: str | None = None,
) -> dict[str, Any]:
    """JSON-able account of a text's candidates and, given a CPL value, the verdict."""
    field = Field(field)
    out: dict[str, Any] = {
        "field": field.value,
        "text": text,
        "candidates": [
            {
                "value": c.value,
                "coding": c.coding,
                "placement": c.placement,
                "explained_octets": [i + 1 for i, e in enumerate(c.explained) if e],
                "note": c.note,
            }
            for c in candidates_for(text, field, registry, manufacturer_code)
        ],
    }
    if cpl is not None:
        j = judge(text, field, cpl, registry, manufacturer_code)
        out.update(cpl=cpl, status=j.status.value, method=j.method, reason=j.reason,
                   alternatives=list(j.alternatives))
    return out


_FIELD_ALIASES = {f.value: f for f in Field} | {
    "firmware": Field.FIRMWARE, "hardware": Field.HARDWARE,
    "manufacturer": Field.MANUFACTURER, "model": Field.MODEL,
}


def field_named(name: str) -> Field:
    """'firmware_version', 'Firmware Version', 'firmware' -> Field.FIRMWARE."""
    key = "_".join((name or "").strip().lower().replace("-", " ").split())
    if key not in _FIELD_ALIASES:
        raise ValueError(f"unknown field {name!r}; one of {', '.join(f.value for f in Field)}")
    return _FIELD_ALIASES[key]


def manufacturer_code_for(text: str, registry: Registry | None) -> tuple[str | None, str]:
    """A manufacturer given as a code ('11:7C', '117c') or a company name -> its code, and a note
    when a name does not settle on one code (then no declaration can apply)."""
    text = (text or "").strip()
    if not text:
        return None, ""
    code = canonical_code(text)
    if code is not None:
        return code, ""
    codes = sorted({e.code for e in registry.manufacturer_entries(text)}) if registry else []
    if len(codes) == 1:
        return codes[0], ""
    if codes:
        listed = ", ".join(codes)
        return None, f"manufacturer {text!r} names {len(codes)} codes ({listed}): no declaration applied"
    return None, f"manufacturer {text!r} has no code in the registry: no declaration applied"


def explain_rows(
    rows: Iterable[Mapping[str, str]], registry: Registry | None = None
) -> list[dict[str, str]]:
    """`explain --batch`: text,field[,cpl][,manufacturer] + status,method,candidates,reason.

    `manufacturer` (or `manufacturer_code`) is a code or a company name; its declaration in
    rules/manufacturer_codings/ applies as in a reconcile.
    """
    out_rows = []
    for row in rows:
        out = {k: (v if isinstance(v, str) else "") for k, v in row.items() if isinstance(k, str)}
        text, cpl = out.get("text", ""), out.get("cpl", "").strip()
        maker, maker_note = manufacturer_code_for(
            out.get("manufacturer_code", "") or out.get("manufacturer", ""), registry
        )
        try:
            field = field_named(out.get("field", "") or "firmware_version")
        except ValueError as exc:
            out.update(status="ERROR", method="", candidates="", reason=str(exc))
            out_rows.append(out)
            continue
        candidates = candidates_for(text, field, registry, maker)
        status = method = reason = ""
        if cpl:
            j = judge(text, field, cpl, registry, maker)
            status, method, reason = j.status.value, j.method, j.reason
        elif not text.strip():
            status, reason = Verdict.MISSING.value, "no text"
        if maker_note:
            reason = f"{reason}; {maker_note}" if reason else maker_note
        out.update(
            status=status,
            method=method,
            candidates="; ".join(f"{c.value} ({c.coding})" for c in candidates),
            reason=reason,
        )
        out_rows.append(out)
    return out_rows


def clear_cache() -> None:
    """Forget cached readings and the memoised helpers (benchmarks measure the engine cold)."""
    _readings_cached.cache_clear()
    _text_readings.cache_clear()
    _converted.cache_clear()
    _manufacturer_code.cache_clear()
    _cpl_value.cache_clear()
    _PLANS.clear()
