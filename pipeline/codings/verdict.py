"""The verdict for one field against a CPL value (SPEC "Verdicts"), with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from pipeline.codings.engine import Reading, Readings, _as_field, _readings
from pipeline.codings.primitives import (
    OCTETS,
    _engine_octets,
    _separator,
    _shown_text,
    _value_text,
    canonical_hex,
)
from pipeline.models import Field, FieldJudgement, Verdict
from pipeline.registry import Registry, normalise_company


class CplValue(NamedTuple):
    nibbles: tuple[int, ...]
    text: str  # canonical form: format_value(nibbles, field)


@lru_cache(maxsize=1024)
def _cpl_value(cpl: str, field: Field) -> CplValue | None:
    """The CPL value's hex digits and canonical text; memoised, as a run meets the same
    manufacturer, model and hardware values on many rows. Cleared by `clear_cache`."""
    canonical = canonical_hex(cpl, OCTETS[field]) if isinstance(cpl, str) else None
    if canonical is None:
        return None
    nibbles = tuple(map(_NIBBLE_OF_DIGIT.__getitem__, canonical.replace(":", "")))
    return CplValue(nibbles, canonical.replace(":", _separator(field)))  # = _value_text(nibbles)


_NIBBLE_OF_DIGIT = {f"{n:X}": n for n in range(16)}  # canonical_hex gives upper-case digits


# --- the verdict ---------------------------------------------------------------------------------

def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _octet_name(field: Field, index: int) -> str:
    if field is Field.HARDWARE:
        return ("hardware version", "hardware revision")[index]
    return f"octet {index + 1}"


def _ranges(indices: Sequence[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    for i in indices:
        if groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _describe_octets(field: Field, indices: Sequence[int], values: Sequence[str]) -> str:
    """'octets 3-4 (96:31)' / 'hardware revision (05)'."""
    out = []
    for group in _ranges(indices):
        shown = _separator(field).join(values[i] for i in group)
        if field is Field.HARDWARE or len(group) == 1:
            names = " and ".join(_octet_name(field, i) for i in group)
            out.append(f"{names} ({shown})")
        else:
            out.append(f"octets {group[0] + 1}-{group[-1] + 1} ({shown})")
    return ", ".join(out)


def _unshown(reading: Reading) -> list[int]:
    return [i for i, o in enumerate(_engine_octets(reading.nibbles)) if "?" in o]


def _agrees(reading: Reading, target: tuple[int, ...]) -> bool:
    """Every hex digit the text shows equals the CPL's (PARTIAL needs this; MAPPED needs more)."""
    return tuple([t if n is None else n for n, t in zip(reading.nibbles, target, strict=True)]) == target


def _half_shown(reading: Reading, field: Field) -> str:
    notes = []
    for i, octet in enumerate(_engine_octets(reading.nibbles)):
        if octet[0] != "?" and octet[1] == "?":
            notes.append(f"the text gives only the first digit, {octet[0]}, of {_octet_name(field, i)}")
    return f" ({'; '.join(notes)})" if notes else ""


def _how(reading: Reading, field: Field) -> str:
    if reading.coding.startswith("registry:"):
        _, source, name = reading.coding.split(":", 2)
        return f"{reading.shown!r} is {name!r} in {source}"
    steps = f" ({', '.join(reading.steps)})" if reading.steps else ""
    return f"{reading.shown!r} reads by {reading.coding} as {_shown_text(reading.nibbles, field)}{steps}"


def _mapped_reason(reading: Reading, field: Field, cpl_text: str) -> str:
    if reading.authoritative:
        return f"the certificate shows {cpl_text} in hex ({reading.shown!r})"
    reason = f"{_how(reading, field)} = {cpl_text}"
    unshown = _unshown(reading)
    if unshown:
        names = _describe_octets(field, unshown, cpl_text.split(_separator(field)))
        reason += f"; {names} not shown, and 00 in the CPL value"
    return reason


def _partial_reason(reading: Reading, field: Field, cpl_text: str) -> str:
    values = cpl_text.split(_separator(field))
    unshown = _unshown(reading)
    shown = [i for i in range(len(values)) if i not in unshown]
    explained = _describe_octets(field, shown, values) if shown else "no whole octet"
    return (
        f"{_how(reading, field)}: it explains {explained}; "
        f"{_describe_octets(field, unshown, values)} not shown{_half_shown(reading, field)}"
    )


def _listing(readings: Iterable[Reading], field: Field) -> str:
    return "; ".join(f"{_shown_text(r.nibbles, field)} by {r.coding}" for r in readings)


def _alternatives(readings: Iterable[Reading], chosen: Reading | None, field: Field) -> tuple[str, ...]:
    return tuple(
        f"{_value_text(r.nibbles, field)} ({r.coding})" for r in readings if r is not chosen
    )


def _shared_name_note(found: Readings, chosen: Reading, field: Field) -> str:
    """A registry name held by several codes maps to each; the reason names them all."""
    if not chosen.coding.startswith("registry:"):
        return ""
    codes = [_value_text(r.nibbles, field) for r in found.kept if r.coding == chosen.coding]
    if len(codes) < 2:
        return ""
    name = chosen.coding.split(":", 2)[2]
    return f"; {name!r} is the name of {len(codes)} codes: {', '.join(codes)}"


def _declaration_note(found: Readings, chosen: Reading, field: Field) -> str:
    """Whose mapping it was: the declaration that lets (or makes) this manufacturer use the coding."""
    declared = found.narrowed_by
    if declared is None or chosen.authoritative or not declared.declares(field, chosen.coding):
        return ""
    who = f" ({declared.manufacturer})" if declared.manufacturer else ""
    code = declared.manufacturer_code
    return f"; {chosen.coding} is declared for manufacturer {code}{who} in {declared.name}"


def _narrowing_note(found: Readings, target: tuple[int, ...], field: Field) -> str:
    if found.narrowed_by is None or not found.excluded:
        return ""
    code = found.narrowed_by.manufacturer_code
    would = [r for r in found.excluded if r.value_nibbles == target]
    if would:
        return (f"; the CPL value would map by {would[0].coding}, which {found.narrowed_by.name} "
                f"does not declare for manufacturer {code}")
    return f"; codings not declared for manufacturer {code} were not used"


def _unverifiable_reason(
    text: str, field: Field, registry: Registry | None, manufacturer_code: str | None
) -> str:
    shown = _quote(text)
    if field is Field.MANUFACTURER:
        if registry is None:
            return f"{shown} shows no hex code, and no manufacturers registry was given"
        return (f"{shown} shows no hex code, and {normalise_company(text)!r} has no entry in the "
                "manufacturers registry (names are never guessed)")
    if field is Field.MODEL:
        if registry is None:
            return f"{shown} shows no hex image type, and no models registry was given"
        if not manufacturer_code:
            return f"{shown} shows no hex image type, and there is no manufacturer code to look it up"
        return (f"{shown} shows no hex image type, and has no entry for manufacturer "
                f"{manufacturer_code} in the models registry (names are never guessed)")
    return f"{shown} shows no hex value, and no coding in codings.toml reads it"


def _judge(
    text: str, field: Field, cpl: str, registry: Registry | None, manufacturer_code: str | None
) -> FieldJudgement:
    field = _as_field(field)
    text = text if isinstance(text, str) else ""
    cpl = cpl if isinstance(cpl, str) else ""
    if not text.strip():
        return FieldJudgement(field, cpl, text, Verdict.MISSING,
                              reason="the certificate does not show this field")
    value = _cpl_value(cpl, field)
    if value is None:
        form = "VV_RR" if field is Field.HARDWARE else ":".join(["XX"] * OCTETS[field])
        return FieldJudgement(field, cpl, text, Verdict.MISMATCH,
                              reason=f"CPL value {cpl!r} is not in {form} hex form; cannot compare")
    target, cpl_text = value
    found = _readings(text, field, registry, manufacturer_code)
    readings = found.kept
    note = _narrowing_note(found, target, field)
    if not readings:
        reason = _unverifiable_reason(text, field, registry, manufacturer_code) + note
        return FieldJudgement(field, cpl, text, Verdict.UNVERIFIABLE, reason=reason)
    chosen = found.by_value.get(target)  # readings are deduplicated: at most one has the value
    if chosen is not None:
        status = Verdict.MATCH if chosen.authoritative else Verdict.MAPPED
        return FieldJudgement(field, cpl, text, status, chosen.coding,
                              _mapped_reason(chosen, field, cpl_text)
                              + _shared_name_note(found, chosen, field)
                              + _declaration_note(found, chosen, field),
                              _alternatives(readings, chosen, field))
    partial = [r for r in readings if _agrees(r, target)]
    if partial:
        chosen = max(partial, key=lambda r: sum(n is not None for n in r.nibbles))
        return FieldJudgement(field, cpl, text, Verdict.PARTIAL, chosen.coding,
                              _partial_reason(chosen, field, cpl_text)
                              + _declaration_note(found, chosen, field) + note,
                              _alternatives(readings, chosen, field))
    legend = " ('?' = not shown, must be 0)" if any(None in r.nibbles for r in readings) else ""
    reason = (f"{_quote(text)} maps to {_listing(readings, field)}{legend}; "
              f"none is the CPL value {cpl_text}{note}")
    return FieldJudgement(field, cpl, text, Verdict.MISMATCH, "", reason,
                          _alternatives(readings, None, field))
