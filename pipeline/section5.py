"""Certificate reuse (guidance §5), split from reconcile.py.

Rows are grouped by the certificate listing they were compared
with; a group is *reused* when two or more rows share it and their Device_Model values differ.
(Rows matched to different listings of a multi-model certificate are different device models, not
reuse.) In a reused group a row whose firmware_version the certificate does not back (MISMATCH or
PARTIAL) gets NEEDS_EVIDENCE for that field, with the rows it shares the certificate with; with
supplementary evidence that names the certificate, the ZigBee module and the row's firmware, it
gets EVIDENCE (backed). Only firmware is excused: §5 is about modular firmware updates that leave
the ZigBee part unchanged. Manufacturer, model and hardware differences are other devices or new
hardware and stay MISMATCH; INVALID_CPL is never excused. A row outside a group whose evidence
checks out also gets EVIDENCE (the certificate's other CPL entries may be in an earlier
submission); evidence that does not check out never softens a MISMATCH.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pipeline.evidence import EvidenceCheck
from pipeline.idkeys import confusable_key
from pipeline.idkeys import exact_key as certificate_key
from pipeline.models import CplRow, Field, FieldJudgement, Verdict

if TYPE_CHECKING:
    from pipeline.reconcile import CertificateLookup, Comparison


# --- guidance §5: one certificate, several CPL entries ------------------------------------------

# Only the firmware version may differ from a reused certificate: §5 is about modular firmware
# updates whose ZigBee part is unchanged. A different manufacturer or model is another device, and
# a different hardware version is new hardware, not a firmware module; neither is excused.
EXCUSABLE_FIELDS = frozenset({Field.FIRMWARE})
EXCUSABLE_VERDICTS = frozenset({Verdict.MISMATCH, Verdict.PARTIAL})
EVIDENCE_METHOD = "supplementary evidence"


def device_model(row: CplRow) -> tuple[str, ...]:
    """The five Device_Model cells, as compared for reuse (case and outer spaces ignored)."""
    return tuple(
        v.strip().upper()
        for v in (row.manufacturer_identifier, row.model_identifier,
                  row.hardware_version_version, row.hardware_version_revision, row.firmware_version)
    )


def reuse_groups(
    rows: Sequence[CplRow], comparisons: Sequence[Comparison | None]
) -> dict[int, tuple[int, ...]]:
    """Row number -> the rows reusing its certificate listing, for rows in a reused group.

    Rows are grouped by the certificate listing they were compared with (document and listing):
    on a multi-model certificate, rows backed by different listings each have their own device
    model and reuse nothing. A group is reused when it has two or more rows whose Device_Model
    values differ.
    """
    groups: dict[tuple[str, str, int], list[CplRow]] = defaultdict(list)
    for row, comparison in zip(rows, comparisons, strict=True):
        if comparison is not None:
            groups[(certificate_key(row.certificate_id), *comparison.listing_key)].append(row)
    reused: dict[int, tuple[int, ...]] = {}
    for members in groups.values():
        if len(members) >= 2 and len({device_model(r) for r in members}) >= 2:
            numbers = tuple(r.row for r in members)
            reused.update((r.row, numbers) for r in members)
    return reused


@dataclass(frozen=True)
class RowSurvey:
    """What one pass over the rows tells before any is judged (`survey_rows`)."""

    mixed_keys: frozenset[str]  # IDs cited by rows with different Device_Model values
    unmatched: frozenset[str]  # confusable keys of IDs no document carries exactly


def survey_rows(rows: Iterable[CplRow], lookup: CertificateLookup | None = None) -> RowSurvey:
    """Only rows whose certificate ID other rows cite with other Device_Model values can be in
    a reused group, and only IDs no document carries need OCR-confusion linking. Per ID it keeps
    one joined Device_Model string, not the row."""
    models: dict[str, str | None] = {}  # None: the ID is cited with several models
    unmatched: set[str] = set()
    for row in rows:
        key = certificate_key(row.certificate_id)
        if not key:
            continue
        model = "\x1f".join(device_model(row))
        if models.setdefault(key, model) not in (None, model):
            models[key] = None
        if lookup is not None and not lookup.has_key(key):
            unmatched.add(confusable_key(key))
    return RowSurvey(frozenset(k for k, m in models.items() if m is None), frozenset(unmatched))


def reuse_candidates(rows: Sequence[CplRow]) -> set[int]:
    """Row numbers of the rows that could be in a reused group (see `survey_rows`)."""
    mixed = survey_rows(rows).mixed_keys
    return {row.row for row in rows if certificate_key(row.certificate_id) in mixed}


def _evidence_summary(check: EvidenceCheck) -> str:
    if check.ok:
        return (f"supplementary evidence {check.evidence_file} names the certificate, the ZigBee "
                f"module and this firmware version ({check.firmware_coding})")
    return f"supplementary evidence {check.evidence_file or '(none)'}: {'; '.join(check.missing)}"


def apply_section5(
    row: CplRow,
    judgements: Sequence[FieldJudgement],
    group: tuple[int, ...],
    check: EvidenceCheck | None,
) -> tuple[FieldJudgement, ...]:
    """Guidance §5 for one row: firmware the certificate does not back -> NEEDS_EVIDENCE/EVIDENCE.

    In a reused group the firmware field becomes NEEDS_EVIDENCE, or EVIDENCE when the row's
    evidence checks out. Outside a group (the certificate's other CPL entries may be in an earlier
    submission) evidence that checks out is the manufacturer's §5 claim and gives EVIDENCE; evidence
    that does not leaves the verdict as it was, with the reason. INVALID_CPL is never excused.
    """
    out = []
    for j in judgements:
        if j.field not in EXCUSABLE_FIELDS or j.status not in EXCUSABLE_VERDICTS:
            out.append(j)
            continue
        others = [n for n in group if n != row.row]
        if others:
            where = (f"certificate {row.certificate_id} is reused by rows "
                     f"{', '.join(map(str, others))}")
        else:
            where = f"certificate {row.certificate_id} is used for another CPL entry (evidence manifest)"
        base = (f"{where}; this row's {j.field.value.replace('_', ' ')} {j.cpl} is not on it "
                f"(certificate shows {j.certificate_text!r}; guidance §5)")
        if check is not None and check.ok:
            out.append(replace(j, status=Verdict.EVIDENCE, method=EVIDENCE_METHOD,
                               reason=f"{base}: {_evidence_summary(check)}"))
        elif group:
            detail = (f"{check.evidence_file}: {'; '.join(check.missing)}" if check
                      else "none supplied")
            out.append(replace(j, status=Verdict.NEEDS_EVIDENCE, method="",
                               reason=f"{base}: supplementary evidence needed ({detail})"))
        else:
            assert check is not None
            out.append(replace(j, reason=f"{j.reason}; {_evidence_summary(check)}".lstrip("; ")))
    return tuple(out)


def reuse_notes(
    row: CplRow, group: tuple[int, ...], judgements: Sequence[FieldJudgement]
) -> list[str]:
    """Say a certificate is reused where no field reason says so, and what §5 does not excuse."""
    if not group:
        return []
    notes = []
    if not any(j.status in (Verdict.NEEDS_EVIDENCE, Verdict.EVIDENCE) for j in judgements):
        others = ", ".join(str(n) for n in group if n != row.row)
        notes.append(f"certificate {row.certificate_id} is reused by rows {others} with other "
                     "Device_Model values (guidance §5)")
    kept = [j.field.value for j in judgements
            if j.field not in EXCUSABLE_FIELDS and j.status is Verdict.MISMATCH]
    if kept:
        notes.append(f"{', '.join(kept)} MISMATCH is not excused by guidance §5 "
                     "(it covers firmware modules only)")
    return notes
