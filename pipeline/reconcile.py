"""Certificate fields x CPL rows -> verdicts (SPEC "Verdicts").

A row links to every readable document carrying its certificate ID (case, spaces and dashes
ignored). A certificate that lists several device models backs a row if any one listing matches
all its fields; the best listing is reported, by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import regex

from pipeline.codings import judge
from pipeline.cpl import validate
from pipeline.models import (
    FIELDS,
    Certificate,
    CplRow,
    DeviceListing,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    Verdict,
)
from pipeline.registry import Registry

BACKED = frozenset({Verdict.MATCH, Verdict.MAPPED, Verdict.EVIDENCE})
FAILING = frozenset({Verdict.MISMATCH, Verdict.INVALID_CPL})
TO_REVIEW = frozenset(
    {Verdict.MISSING, Verdict.PARTIAL, Verdict.UNVERIFIABLE, Verdict.NEEDS_EVIDENCE}
)
_NOT_ALNUM = regex.compile(r"[^0-9A-Z]+")


def certificate_key(certificate_id: str) -> str:
    """The linking key: upper case, with spaces, dashes and other punctuation dropped."""
    return _NOT_ALNUM.sub("", certificate_id.upper())


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


def reconcile_row(
    row: CplRow,
    linked: Sequence[Certificate],
    unreadable: Sequence[Certificate],
    registry: Registry | None,
) -> RowResult:
    invalid = validate(row)
    readable = [c for c in linked if c.ok]
    if not readable:
        return _unlinked(row, linked, unreadable, invalid)
    best: tuple[tuple[int, int, int], Certificate, DeviceListing, tuple[FieldJudgement, ...]] | None
    best = None
    for certificate in readable:
        for listing in certificate.listings or (DeviceListing(),):
            judgements = judge_listing(row, listing, invalid, registry)
            score = _score(judgements)
            if best is None or score > best[0]:
                best = (score, certificate, listing, judgements)
    assert best is not None
    _, certificate, listing, judgements = best
    reasons = _reasons(row, judgements)
    total_listings = sum(len(c.listings) for c in readable)
    label = ""
    if total_listings > 1:
        label = listing.label or "listing"
        label = f"{label}: {listing.model}" if listing.model else label
        reasons.insert(0, f"compared with {label} on {certificate.file}")
    if len(readable) > 1:
        others = ", ".join(c.file for c in readable if c is not certificate)
        reasons.append(f"certificate ID also carried by: {others}")
    return RowResult(
        cpl=row,
        overall=overall_of(judgements),
        reasons=tuple(reasons),
        certificate_file=certificate.file,
        judgements=judgements,
        listing_label=label,
    )


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


def index_certificates(certificates: Iterable[Certificate]) -> dict[str, list[Certificate]]:
    index: dict[str, list[Certificate]] = defaultdict(list)
    for certificate in certificates:
        if key := certificate_key(certificate.certificate_id):
            index[key].append(certificate)
    return index


def reconcile(
    rows: Sequence[CplRow],
    certificates: Sequence[Certificate],
    registry: Registry | None = None,
) -> list[RowResult]:
    """One RowResult per CPL row, in input order."""
    index = index_certificates(certificates)
    unreadable = [c for c in certificates if not c.ok]
    return [
        reconcile_row(row, index.get(certificate_key(row.certificate_id), []), unreadable, registry)
        for row in rows
    ]
