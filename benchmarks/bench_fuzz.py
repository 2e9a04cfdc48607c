"""Fuzz pass (issue 13, "Also measure"): one-character mutants of the sample certificates,
made inside decompressed content streams (samples/fuzz.py), each read and reconciled against
the original CPL row.

A mutant whose field value changed (the CPL values its text stands for, by the codings
engine) must not get MATCH on that field (it may get MISMATCH,
PARTIAL, UNVERIFIABLE...): `false_match` counts those, and must be 0. `mapped_on_mutated` counts
MAPPED on a changed field (a name read through the registry: informative). Mutants whose
certificate ID changed no longer link to the row (NO_CERTIFICATE), which is also safe.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.codings import candidates_for
from pipeline.cpl import read_cpl
from pipeline.document import process_document
from pipeline.models import FIELDS, Certificate, Document, ExtractLimits, Field, Overall, Verdict
from pipeline.reconcile import reconcile
from pipeline.registry import Registry, load_registry
from samples import fuzz

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return load_registry()


def _values(text: str, field: Field) -> frozenset[str]:
    """The CPL values a field text may stand for (the codings engine's candidates)."""
    return frozenset(c.value for c in candidates_for(text, field, _registry()))


def _certificate(data: bytes, path: Path) -> Certificate:
    path.write_bytes(data)
    document = Document(path.name, str(path), hashlib.sha256(data).hexdigest(), len(data))
    return process_document(document, "never", ExtractLimits())


def _passing_rows() -> list[tuple[int, Path]]:
    """(CPL row, certificate file) of every PASS row on a born-digital one-model certificate."""
    with open(SAMPLES / "expected.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seen: set[str] = set()
    picked = []
    for row in rows:
        name = row["certificate_file"]
        path = SAMPLES / "corpus" / name
        if row["overall_status"] != "PASS" or name in seen or not path.is_file():
            continue
        seen.add(name)
        picked.append((int(row["submission_row"]), path))
    return picked


def fuzz_certificate(path: Path, cpl_row: Any, per_file: int, tmp: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    data = path.read_bytes()
    original = _certificate(data, tmp / "original.pdf")
    if not original.ok or len(original.listings) != 1:
        counts["skipped_files"] += 1
        return counts
    for mutant, _ in fuzz.mutants(data, per_file, seed=len(data)):
        counts["mutants"] += 1
        got = _certificate(mutant, tmp / "mutant.pdf")
        if not got.ok:
            counts["mutant_error"] += 1
            continue
        result = reconcile([cpl_row], [got])[0]
        if got.certificate_id != original.certificate_id:
            counts["id_changed"] += 1
            # linked anyway (OCR-confusion linking): said in the reasons, never silent
            counts["id_changed_still_linked"] += result.overall is not Overall.NO_CERTIFICATE
            counts["id_changed_linked_silently"] += (
                result.overall is not Overall.NO_CERTIFICATE and not result.linked_by_confusion)
        changed = {f for f in FIELDS if len(got.listings) != 1
                   or got.listings[0].text_for(f) != original.listings[0].text_for(f)}
        if not changed:
            counts["no_field_changed"] += 1
            continue
        counts["field_changed"] += 1
        for judgement in result.judgements:
            if judgement.field not in changed:
                continue
            before = original.listings[0].text_for(judgement.field)
            if _values(before, judgement.field) == _values(judgement.certificate_text,
                                                           judgement.field):
                # e.g. "G470 (Image Type 02:0A)" -> "G460 (...)": the name changed, the hex the
                # CPL value is compared with did not, so MATCH is right
                counts["text_changed_value_kept"] += 1
                counts["match_value_kept"] += judgement.status is Verdict.MATCH
                continue
            counts["mutated_fields"] += 1
            counts["false_match"] += judgement.status is Verdict.MATCH
            counts["mapped_on_mutated"] += judgement.status is Verdict.MAPPED
        counts[f"overall_{result.overall.value}"] += 1
    return counts


def run(quick: bool = False) -> dict[str, Any]:
    rows = {row.row: row for row in read_cpl(SAMPLES / "cpl_submission.csv").rows}
    picked = _passing_rows()[: 4 if quick else None]
    total: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="cplrecon-fuzz-") as tmp:
        for number, path in picked:
            total += fuzz_certificate(path, rows[number], 6 if quick else 25, Path(tmp))
    return {"certificates": len(picked), **dict(sorted(total.items()))}


def render(result: dict[str, Any]) -> str:
    return (
        f"  {result.get('mutants', 0)} mutants of {result['certificates']} certificates: "
        f"{result.get('field_changed', 0)} changed a device field's text: "
        f"{result.get('mutated_fields', 0)} its value, {result.get('text_changed_value_kept', 0)} "
        f"only the text beside it ({result.get('match_value_kept', 0)} of those MATCH, rightly), "
        f"{result.get('id_changed', 0)} changed the certificate ID, "
        f"{result.get('no_field_changed', 0)} changed no field, "
        f"{result.get('mutant_error', 0)} became ERROR\n"
        f"  false MATCH on a mutated field: {result.get('false_match', 0)} (must be 0); "
        f"MAPPED on a mutated field: {result.get('mapped_on_mutated', 0)}; mutated IDs still "
        f"linked: {result.get('id_changed_still_linked', 0)} "
        f"(silently: {result.get('id_changed_linked_silently', 0)}, must be 0)"
    )
