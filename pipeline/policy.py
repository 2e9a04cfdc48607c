"""Informative checks driven by rules/: the date policy and the Physical Device Type.

Neither changes a verdict. The guidance (§1) made the hex-format requirement binding from
1 December 2017; an auditor looking at an older submission needs to know that the strict rule
did not yet apply, but the tool still says what the certificate does and does not show. The
Physical Device Type (SEC F2.5) is checked the same way: reported beside the verdicts, never in
`overall_status`. Dates and device-type phrases are data (`rules/policy.toml`,
`rules/device_types.toml`), so a new period or device type needs no Python change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import regex

from pipeline.rulesfile import RulesFileError as RulesFileError  # re-exported: callers catch it
from pipeline.rulesfile import check_keys, read_rules_toml, rules_path

POLICY_TOML = rules_path("policy.toml")
DEVICE_TYPES_TOML = rules_path("device_types.toml")


# --- date policy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A span of submission dates and the rule that applies in it (`until` is exclusive)."""

    rule: str
    note: str
    start: dt.date | None = None
    until: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class PolicyRules:
    version: str
    periods: tuple[Period, ...]
    path: str = ""


def _iso(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RulesFileError(f"{where}: {value!r} is not an ISO date") from exc


def load_policy(path: Path = POLICY_TOML) -> PolicyRules:
    """The periods of rules/policy.toml, checked: known keys, ISO dates, no overlaps."""
    data = read_rules_toml(path, {"version", "period"}, what="policy")
    periods = []
    for i, table in enumerate(data["period"]):
        where = f"{path}: period {i + 1}"
        entry = check_keys(table, {"rule", "note"}, {"from", "until"}, where)
        if "from" not in entry and "until" not in entry:
            raise RulesFileError(f"{where}: needs `from` and/or `until`")
        start = _iso(entry["from"], where) if "from" in entry else None
        until = _iso(entry["until"], where) if "until" in entry else None
        if start and until and start >= until:
            raise RulesFileError(f"{where}: `from` {start} is not before `until` {until}")
        periods.append(Period(str(entry["rule"]), str(entry["note"]), start, until))
    ordered = sorted(periods, key=lambda p: p.start or dt.date.min)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (before.until or dt.date.max) > (after.start or dt.date.min):
            raise RulesFileError(f"{path}: periods {before.rule!r} and {after.rule!r} overlap")
    return PolicyRules(str(data["version"]), tuple(ordered), str(path))


_ISO_DATE = regex.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+Z?)?")
_UK_DATE = regex.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


def parse_submission_date(text: str) -> dt.date | None:
    """ISO (yyyy-mm-dd, a time after it allowed) or UK day-first dd/mm/yyyy; None otherwise.

    Day-first because the CPL is a GB register: 01/12/2017 is 1 December, never 12 January.
    """
    text = text.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _UK_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def policy_for(submission_date: str, rules: PolicyRules) -> str:
    """The `policy` cell: the period's note; "" without a date; a plain statement when unreadable."""
    if not submission_date.strip():
        return ""
    day = parse_submission_date(submission_date)
    if day is None:
        return (
            f"submission_date {submission_date.strip()!r} is not a date (yyyy-mm-dd or "
            "dd/mm/yyyy): policy unknown"
        )
    period = next((p for p in rules.periods if p.covers(day)), None)
    if period is None:
        return f"no policy period in {Path(rules.path).name or 'the rules'} covers {day.isoformat()}"
    return period.note


@lru_cache(maxsize=4)
def default_policy() -> PolicyRules:
    return load_policy()


# --- Physical Device Type -------------------------------------------------------------------------


class DeviceTypeStatus(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    MISSING = "MISSING"  # the certificate shows no Type of Device
    NOT_GIVEN = "NOT_GIVEN"  # the CPL row gives no device_type
    UNKNOWN = "UNKNOWN"  # a term not in rules/device_types.toml


@dataclass(frozen=True)
class DeviceTypes:
    version: str
    phrases: Mapping[str, tuple[str, ...]]  # code -> normalised phrases (code itself included)
    path: str = ""


_NOT_WORD = regex.compile(r"[^0-9a-z]+")


def normalise_phrase(text: str) -> str:
    """Lower case, every run of punctuation and spaces one space: "In-Home Display" = "in home display"."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def load_device_types(path: Path = DEVICE_TYPES_TOML) -> DeviceTypes:
    data = read_rules_toml(path, {"version", "device_type"}, what="device types")
    phrases: dict[str, tuple[str, ...]] = {}
    for i, table in enumerate(data["device_type"]):
        where = f"{path}: device_type {i + 1}"
        entry = check_keys(table, {"code", "phrases"}, set(), where)
        code = str(entry["code"]).strip().upper()
        if not regex.fullmatch(r"[A-Z0-9]{2,12}", code) or code in phrases:
            raise RulesFileError(f"{where}: code {code!r} is not a new 2-12 character code")
        if not isinstance(entry["phrases"], list) or not all(
            isinstance(p, str) and normalise_phrase(p) for p in entry["phrases"]
        ):
            raise RulesFileError(f"{where}: phrases must be a list of non-empty strings")
        phrases[code] = (normalise_phrase(code), *(normalise_phrase(p) for p in entry["phrases"]))
    return DeviceTypes(str(data["version"]), phrases, str(path))


@lru_cache(maxsize=4)
def default_device_types() -> DeviceTypes:
    return load_device_types()


def device_codes_in(text: str, types: DeviceTypes) -> frozenset[str]:
    """The codes whose phrase (or the code itself) occurs in the text as whole words."""
    padded = f" {normalise_phrase(text)} "
    return frozenset(
        code for code, phrases in types.phrases.items()
        if any(f" {phrase} " in padded for phrase in phrases)
    )


@dataclass(frozen=True)
class DeviceTypeCheck:
    status: DeviceTypeStatus
    reason: str


def check_device_type(cpl_text: str, certificate_text: str, types: DeviceTypes) -> DeviceTypeCheck:
    """CPL `device_type` (a code, or a phrase) against the certificate's "Type of Device"."""
    if not cpl_text.strip():
        return DeviceTypeCheck(DeviceTypeStatus.NOT_GIVEN, "the CPL row gives no device_type")
    if not certificate_text.strip():
        return DeviceTypeCheck(DeviceTypeStatus.MISSING, "the certificate shows no Type of Device")
    cpl_codes = device_codes_in(cpl_text, types)
    certificate_codes = device_codes_in(certificate_text, types)
    unknown = [
        f"{who} {text.strip()!r}"
        for who, text, codes in (("CPL device_type", cpl_text, cpl_codes),
                                 ("certificate Type of Device", certificate_text, certificate_codes))
        if not codes
    ]
    if unknown:
        return DeviceTypeCheck(
            DeviceTypeStatus.UNKNOWN,
            f"{' and '.join(unknown)} not in {Path(types.path).name or 'the device-type rules'}",
        )
    shown = ", ".join(sorted(certificate_codes))
    if cpl_codes & certificate_codes:
        return DeviceTypeCheck(DeviceTypeStatus.MATCH, f"certificate Type of Device is {shown}")
    return DeviceTypeCheck(
        DeviceTypeStatus.MISMATCH,
        f"CPL device_type {', '.join(sorted(cpl_codes))} but the certificate's Type of Device is {shown}",
    )
