"""Certificate fields x CPL rows -> verdicts (SPEC "Verdicts").

A row links to every readable document carrying its certificate ID (case, spaces and dashes
ignored). A certificate that lists several device models backs a row if any one listing matches
all its fields; the best listing is reported, by name.

Certificate reuse (guidance §5) is pipeline.section5.

Informative columns, never part of `overall_status`: the date policy and the Physical Device Type
(pipeline.policy) and the OTA image check (pipeline.ota).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from pipeline.codings import judge
from pipeline.cpl import validate
from pipeline.evidence import Evidence, EvidenceCheck, check_row_evidence
from pipeline.idkeys import confusable_key, exact_key
from pipeline.models import (
    FIELDS,
    LISTING_ATTRIBUTE,
    Certificate,
    CplRow,
    DeviceListing,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    TextSource,
    Verdict,
    evidence_for,
)
from pipeline.ota import OtaImage, check_row
from pipeline.policy import (
    DeviceTypes,
    PolicyRules,
    check_device_type,
    default_device_types,
    default_policy,
    policy_for,
)
from pipeline.registry import Registry
from pipeline.run.settings import RunInputs
from pipeline.section5 import apply_section5, reuse_groups, reuse_notes, survey_rows
from pipeline.section5 import reuse_candidates as reuse_candidates  # re-exported for callers

BACKED = frozenset({Verdict.MATCH, Verdict.MAPPED, Verdict.EVIDENCE})
FAILING = frozenset({Verdict.MISMATCH, Verdict.INVALID_CPL})
TO_REVIEW = frozenset(
    {Verdict.MISSING, Verdict.PARTIAL, Verdict.UNVERIFIABLE, Verdict.NEEDS_EVIDENCE}
)
# The linking key (upper case; spaces, dashes, other punctuation dropped), one definition with
# the OCR linking that extends it.
certificate_key = exact_key


def overall_of(judgements: Iterable[FieldJudgement]) -> Overall:
    statuses = {j.status for j in judgements}
    if statuses & FAILING:
        return Overall.FAIL
    if statuses & TO_REVIEW:
        return Overall.REVIEW
    return Overall.PASS


def judge_listing(
    row: CplRow,
    listing: DeviceListing,
    invalid: dict[Field, str],
    registry: Registry | None,
) -> tuple[FieldJudgement, ...]:
    manufacturer_code = (
        row.manufacturer_identifier if Field.MANUFACTURER not in invalid else None
    )
    judgements = []
    for f in FIELDS:
        text = listing.text_for(f)
        cpl_value = row.value_for(f)
        if f in invalid:
            judgements.append(
                FieldJudgement(f, cpl_value, text, Verdict.INVALID_CPL, reason=invalid[f])
            )
        else:
            judgements.append(judge(text, f, cpl_value, registry, manufacturer_code))
    return tuple(judgements)


def _score(judgements: Sequence[FieldJudgement]) -> tuple[int, int, int]:
    statuses = [j.status for j in judgements]
    backed = sum(s in BACKED for s in statuses)
    return (int(backed == len(statuses)), backed, -sum(s is Verdict.MISMATCH for s in statuses))


def _reasons(row: CplRow, judgements: Sequence[FieldJudgement]) -> list[str]:
    reasons = []
    for j in judgements:
        if j.status is Verdict.MATCH:
            continue
        text = f"{j.field.value} {j.status.value}"
        if j.method:
            text += f" by {j.method}"
        if j.reason:
            text += f": {j.reason}"
        if j.alternatives:
            text += f" (alternatives: {', '.join(j.alternatives)})"
        reasons.append(text)
    reasons.extend(f"CPL cell {note}" for note in row.notes)
    return reasons


@dataclass(frozen=True)
class Comparison:
    """A row against the best listing of the readable documents carrying its certificate ID."""

    certificate: Certificate
    listing: DeviceListing
    judgements: tuple[FieldJudgement, ...]
    readable: tuple[Certificate, ...]

    @property
    def listing_key(self) -> tuple[str, int]:
        """Which listing on which document: rows compared with the same one share it."""
        listings = self.certificate.listings
        return (self.certificate.file, listings.index(self.listing) if self.listing in listings else 0)


def compare_row(
    row: CplRow, readable: Sequence[Certificate], invalid: dict[Field, str], registry: Registry | None
) -> Comparison:
    """Every listing of every readable document judged; the one that backs most fields wins."""
    best: tuple[tuple[int, int, int], Comparison] | None = None
    for certificate in readable:
        for listing in certificate.listings or (DeviceListing(),):
            judgements = judge_listing(row, listing, invalid, registry)
            score = _score(judgements)
            if best is None or score > best[0]:
                best = (score, Comparison(certificate, listing, judgements, tuple(readable)))
    assert best is not None
    return best[1]


def _listing_label(comparison: Comparison) -> str:
    if sum(len(c.listings) for c in comparison.readable) <= 1:
        return ""
    listing = comparison.listing
    label = listing.label or "listing"
    return f"{label}: {listing.model}" if listing.model else label


def linked_result(
    row: CplRow,
    comparison: Comparison,
    judgements: Sequence[FieldJudgement] | None = None,
    notes: Sequence[str] = (),
) -> RowResult:
    """The RowResult of a row with a readable certificate; `judgements` replace the comparison's."""
    judgements = tuple(comparison.judgements if judgements is None else judgements)
    reasons = _reasons(row, judgements)
    label = _listing_label(comparison)
    if label:
        reasons.insert(0, f"compared with {label} on {comparison.certificate.file}")
    reasons.extend(notes)
    ocr_note = _ocr_caution(comparison, judgements)
    if ocr_note:
        reasons.append(ocr_note)
    if len(comparison.readable) > 1:
        others = ", ".join(c.file for c in comparison.readable if c is not comparison.certificate)
        reasons.append(f"certificate ID also carried by: {others}")
    return RowResult(
        cpl=row,
        overall=overall_of(judgements),
        reasons=tuple(reasons),
        certificate_file=comparison.certificate.file,
        judgements=judgements,
        listing_label=label,
        field_pages=_field_pages(comparison.listing),
    )


def _field_pages(listing: DeviceListing) -> tuple[tuple[Field, int], ...]:
    """Where each field of the compared listing stands (its provenance's page)."""
    pages = []
    for f in FIELDS:
        provenance = evidence_for(listing.evidence, LISTING_ATTRIBUTE[f])
        if provenance is not None:
            pages.append((f, provenance.page))
    return tuple(pages)


_OCR_SENSITIVE = frozenset({Verdict.MISMATCH, Verdict.PARTIAL, Verdict.UNVERIFIABLE, Verdict.MISSING})


def _ocr_caution(comparison: Comparison, judgements: Sequence[FieldJudgement]) -> str:
    """A verdict against OCR text may be a misread (42.3 for 12.3): say so, with the confidence."""
    certificate = comparison.certificate
    if certificate.text_source not in (TextSource.OCR, TextSource.MIXED):
        return ""
    confidence = dict(certificate.field_confidence)
    prefix = comparison.listing.label.split(" of ")[0]  # "listing 2 of 3" -> "listing 2"
    shown = []
    for j in judgements:
        if j.status not in _OCR_SENSITIVE:
            continue
        name = LISTING_ATTRIBUTE[j.field]
        value = confidence.get(f"{prefix} {name}" if prefix else name, confidence.get(name))
        shown.append(f"{j.field.value}" + (f" (OCR confidence {value:.0f})" if value is not None else ""))
    if not shown:
        return ""
    return (f"{certificate.file} was read by OCR: check the scan for {', '.join(shown)} "
            "before acting on the verdict")


def _unlinked(
    row: CplRow,
    linked: Sequence[Certificate],
    unreadable: Sequence[Certificate],
    invalid: dict[Field, str],
) -> RowResult:
    """NO_CERTIFICATE, or ERROR when the certificate was found but could not be read."""
    judgements = tuple(
        FieldJudgement(f, row.value_for(f), "", Verdict.INVALID_CPL, reason=invalid[f])
        for f in FIELDS
        if f in invalid
    )
    invalid_reasons = [f"{j.field.value} INVALID_CPL: {j.reason}" for j in judgements]
    key = certificate_key(row.certificate_id)
    suspects = list(linked) or [
        c for c in unreadable if key and key in certificate_key(c.file.rsplit("/", 1)[-1])
    ]
    if suspects:
        reasons = [f"{c.file} could not be read: {c.error}" for c in suspects]
        return RowResult(
            cpl=row, overall=Overall.ERROR, reasons=tuple(reasons + invalid_reasons),
            certificate_file=suspects[0].file, judgements=judgements,
        )
    reasons = [
        f"no input document carries certificate ID {row.certificate_id!r}"
        if row.certificate_id.strip() else "the row gives no ZigBee certificate ID"
    ]
    if unreadable:
        reasons.append(f"{len(unreadable)} input document(s) could not be read; see Problems")
    return RowResult(
        cpl=row, overall=Overall.NO_CERTIFICATE, reasons=tuple(reasons + invalid_reasons),
        judgements=judgements,
    )


class CertificateLookup(Protocol):
    """The readable and unreadable documents of a run, found by certificate-ID key.

    `CertificateIndex` holds them in memory; a run's spool (pipeline.run.spool) keeps them on disk.
    """

    def with_key(self, key: str) -> list[Certificate]: ...
    def has_key(self, key: str) -> bool: ...
    def keys(self) -> Iterable[str]: ...
    def shared_keys(self) -> Iterable[str]: ...  # keys carried by two or more documents
    def unreadable(self) -> Sequence[Certificate]: ...


class CertificateIndex:
    """Certificates in memory, by the linking key of their certificate ID."""

    def __init__(self, certificates: Iterable[Certificate]) -> None:
        self._by_key: dict[str, list[Certificate]] = defaultdict(list)
        self._unreadable: list[Certificate] = []
        for certificate in certificates:
            if key := certificate_key(certificate.certificate_id):
                self._by_key[key].append(certificate)
            if not certificate.ok:
                self._unreadable.append(certificate)

    def with_key(self, key: str) -> list[Certificate]:
        return list(self._by_key.get(key, ()))

    def has_key(self, key: str) -> bool:
        return key in self._by_key

    def keys(self) -> Iterable[str]:
        return self._by_key.keys()

    def shared_keys(self) -> Iterable[str]:
        return [k for k, found in self._by_key.items() if len(found) > 1]

    def unreadable(self) -> Sequence[Certificate]:
        return self._unreadable


# --- the stage ------------------------------------------------------------------------------------


def _with_evidence(result: RowResult, check: EvidenceCheck | None) -> RowResult:
    if check is None:
        return result
    return replace(
        result,
        evidence_file=check.evidence_file,
        evidence_sha256=check.sha256,
        evidence_lines=check.matched_lines,
        evidence_check="OK" if check.ok else "; ".join(check.missing),
    )


def _informative(
    result: RowResult,
    comparison: Comparison | None,
    policy: PolicyRules,
    device_types: DeviceTypes,
    ota_images: Sequence[OtaImage] | None,
) -> RowResult:
    """Policy, device type and OTA columns: reported beside the verdicts, never in `overall`."""
    row = result.cpl
    result = replace(result, policy=policy_for(row.submission_date, policy))
    if comparison is not None:
        device = check_device_type(row.device_type, comparison.certificate.device_type, device_types)
        result = replace(result, device_type_status=device.status.value,
                         device_type_reason=device.reason)
    if ota_images is not None:
        ota = check_row(row, ota_images)
        result = replace(result, ota_status=ota.status, ota_file=ota.file, ota_reason=ota.reason)
    return result


class ConfusableKeys:
    """Confusable key (I/L->1, O/Q->0, Z->2, S->5) -> the one exact key that has it, if only one.

    Only the confusable keys asked for (`wanted`: those of the rows' IDs no document carries
    exactly) are indexed, so it costs nothing when every row links by its exact ID.
    """

    _SHARED = ""  # two or more exact keys: never merged

    def __init__(self, keys: Iterable[str], wanted: Iterable[str] | None = None) -> None:
        wanted = None if wanted is None else frozenset(wanted)
        self._index: dict[str, str] = {}
        if wanted is not None and not wanted:
            return
        for exact in keys:
            confusable = confusable_key(exact)
            if wanted is None or confusable in wanted:
                self._index[confusable] = (
                    exact if self._index.get(confusable, exact) == exact else self._SHARED
                )

    def only(self, key: str) -> str | None:
        return self._index.get(confusable_key(key)) or None


def link_row(
    row: CplRow, lookup: CertificateLookup, confusable: ConfusableKeys
) -> tuple[list[Certificate], str]:
    """Certificates carrying the row's ID, and a note when the link crossed an OCR confusion.

    Exact key first. Otherwise a scanned certificate whose ID differs only by characters OCR
    confuses (Z1G for ZIG) links, but only when no other certificate ID shares that confusable
    key: two genuinely different IDs are never merged, and a born-digital certificate's text
    is exact, so it never links this way.
    """
    key = certificate_key(row.certificate_id)
    if not key:
        return [], ""
    exact = lookup.with_key(key)
    if exact:
        return exact, ""
    other = confusable.only(key)
    if other is None:
        return [], ""
    scanned = [c for c in lookup.with_key(other) if c.text_source in (TextSource.OCR, TextSource.MIXED)]
    if not scanned:
        return [], ""
    shown = scanned[0].certificate_id
    return scanned, (
        f"certificate ID linked across OCR character confusions: the scan reads {shown!r} "
        f"for the CPL's {row.certificate_id!r}"
    )


def _compare_linked(
    row: CplRow, linked: Sequence[Certificate], registry: Registry | None
) -> Comparison | None:
    readable = [c for c in linked if c.ok]
    return compare_row(row, readable, validate(row), registry) if readable else None


def reconcile(
    rows: Sequence[CplRow],
    certificates: Sequence[Certificate],
    registry: Registry | None = None,
    *,
    evidence: Evidence | None = None,
    ota_images: Sequence[OtaImage] | None = None,
    policy: PolicyRules | None = None,
    device_types: DeviceTypes | None = None,
) -> list[RowResult]:
    """One RowResult per CPL row, in input order, for certificates held in memory."""
    inputs = RunInputs(registry, evidence, ota_images, policy, device_types)
    return list(reconcile_rows(rows, CertificateIndex(certificates), inputs))


def reconcile_rows(
    rows: Sequence[CplRow], lookup: CertificateLookup, inputs: RunInputs | None = None
) -> Iterator[RowResult]:
    """One RowResult per CPL row, in input order, each yielded as soon as it is final.

    Each row is compared on its own; rows reusing a certificate listing are grouped (guidance
    §5) and the firmware they do not share with it needs supplementary evidence. Groups need
    the comparisons of every row citing the certificate, so the rows that could form one
    (`survey_rows`: rare) are compared first and again when their turn comes -- twice the
    work for those rows, in exchange for holding no comparison between rows.
    """
    inputs = inputs or RunInputs()
    registry, evidence, ota_images = inputs.registry, inputs.evidence, inputs.ota_images
    policy = inputs.policy or default_policy()
    device_types = inputs.device_types or default_device_types()
    survey = survey_rows(rows, lookup)
    confusable = ConfusableKeys(lookup.keys(), survey.unmatched)
    unreadable = lookup.unreadable()
    candidates = [row for row in rows if certificate_key(row.certificate_id) in survey.mixed_keys]
    groups = reuse_groups(candidates, [
        _compare_linked(row, link_row(row, lookup, confusable)[0], registry) for row in candidates
    ])
    for row in rows:
        linked, link_note = link_row(row, lookup, confusable)
        comparison = _compare_linked(row, linked, registry)
        check = check_row_evidence(evidence, row)
        if comparison is None:
            result = _unlinked(row, linked, unreadable, validate(row))
        else:
            group = groups.get(row.row, ())
            judgements = comparison.judgements
            if group or check is not None:
                judgements = apply_section5(row, judgements, group, check)
            notes = reuse_notes(row, group, judgements)
            result = replace(linked_result(row, comparison, judgements, notes), reuse_group=group)
        if link_note:
            result = replace(result, reasons=(link_note, *result.reasons), linked_by_confusion=True)
        result = _with_evidence(result, check)
        yield _informative(result, comparison, policy, device_types, ota_images)
