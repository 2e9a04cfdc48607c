"""The layout grammar: deterministic, every family generates, truth and expected agree."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from samples.generate import EXPECTED_COLUMNS, STATUS_FIELDS
from samples.grammar import (
    DEVELOPMENT,
    FAMILIES,
    HELD_OUT,
    build_plan,
    cpl_row,
    generate,
    select_families,
)

SAMPLE_FAMILIES = "kv-leaders,bundle-two-page,wrapped-table,scan-poor,scan-sideways"


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def key(certificate_id: str) -> str:
    return "".join(ch for ch in certificate_id.upper() if ch.isalnum())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate per family (bundles: one document of two)."""
    out = tmp_path_factory.mktemp("grammar")
    generate(out, "all", per_family=1, seed=7)
    return out


@pytest.fixture(scope="module")
def truth(corpus: Path) -> dict[str, Any]:
    return json.loads((corpus / "truth.json").read_text(encoding="utf-8"))


def test_development_and_held_out_split_the_families() -> None:
    assert not set(DEVELOPMENT) & set(HELD_OUT)
    assert set(DEVELOPMENT) | set(HELD_OUT) == set(FAMILIES)
    assert len(FAMILIES) >= 10
    assert 0.3 <= len(HELD_OUT) / len(FAMILIES) <= 0.5
    dev_classes = {FAMILIES[n].failure_class for n in DEVELOPMENT}
    held_classes = {FAMILIES[n].failure_class for n in HELD_OUT}
    assert dev_classes - {0} == held_classes == {1, 2, 3, 4, 5, 6, 7, 8, 10}
    assert select_families("dev") == [n for n in FAMILIES if n in DEVELOPMENT]
    assert select_families("held-out") == [n for n in FAMILIES if n in HELD_OUT]
    with pytest.raises(ValueError, match="unknown families"):
        select_families("kv-leaders,nonsense")


def test_every_family_generates(corpus: Path, truth: dict[str, Any]) -> None:
    assert truth["families"] == list(FAMILIES)
    documents = Counter(d["family"] for d in truth["documents"])
    certificates = Counter(c["family"] for c in truth["certificates"])
    for name in FAMILIES:
        assert documents[name] >= 1, name
        assert certificates[name] >= 1, name
    for entry in truth["documents"]:
        assert (corpus / "certs" / entry["file"]).is_file(), entry["file"]
    assert sorted(p.name for p in (corpus / "certs").iterdir()) == sorted(
        d["file"] for d in truth["documents"])


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", SAMPLE_FAMILIES, per_family=2, seed=11)
    generate(tmp_path / "b", SAMPLE_FAMILIES, per_family=2, seed=11)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    generate(tmp_path / "c", "scan-poor", per_family=2, seed=12)
    assert digests(tmp_path / "c" / "certs") != {
        k: v for k, v in digests(tmp_path / "a" / "certs").items() if k.startswith("scan-poor")}


def test_a_subset_of_families_gives_the_same_documents(corpus: Path, tmp_path: Path) -> None:
    generate(tmp_path, "bundle,stacked-es", per_family=1, seed=7)
    subset = digests(tmp_path / "certs")
    assert subset and all(digests(corpus / "certs")[name] == digest
                          for name, digest in subset.items())


def test_cpl_rows_and_truth_agree(corpus: Path, truth: dict[str, Any]) -> None:
    cpl = list(csv.DictReader((corpus / "cpl_submission.csv").open(newline="")))
    with (corpus / "expected.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == EXPECTED_COLUMNS
        expected = list(reader)
    assert len(cpl) == len(expected) == len(truth["rows"])
    assert [int(e["submission_row"]) for e in expected] == list(range(1, len(cpl) + 1))
    files = {key(c["certificate_id"]): c["file"] for c in truth["certificates"]}
    mentioned = {key(p["certificate_id"]) for d in truth["documents"] for p in d["parts"]}
    for row, e, meta in zip(cpl, expected, truth["rows"], strict=True):
        assert row["Submission ID"] == e["submission_id"] == meta["submission_id"]
        cid = key(row["ZigBee Certificate ID"])
        if e["overall_status"] == "NO_CERTIFICATE":
            assert cid not in files and cid in mentioned, e  # only a cover letter names it
            assert all(e[f"{f}_status"] == "" for f in STATUS_FIELDS)
        else:
            assert files[cid] == e["certificate_file"] == meta["certificate_file"], e
            assert all(e[f"{f}_status"] for f in STATUS_FIELDS)
        assert e["why"].startswith(f"[{meta['family']}]")


def test_bundles_record_page_ranges(corpus: Path, truth: dict[str, Any]) -> None:
    by_file = {d["file"]: d for d in truth["documents"]}
    for entry in truth["documents"]:
        if entry["scanned"] and not entry["file"].endswith(".pdf"):
            continue
        with pdfium.PdfDocument(corpus / "certs" / entry["file"]) as pdf:
            assert len(pdf) == entry["pages"], entry["file"]
    bundle = next(d for d in truth["documents"] if d["family"] == "bundle")
    assert [p["pages"] for p in bundle["parts"]] == ["1", "2"]
    two_page = next(d for d in truth["documents"] if d["family"] == "bundle-two-page")
    assert [(p["kind"], p["pages"]) for p in two_page["parts"]] == [
        ("letter", "1"), ("certificate", "2-3"), ("certificate", "4-5")]
    for certificate in truth["certificates"]:
        parts = by_file[certificate["file"]]["parts"]
        assert {"kind": "certificate", "pages": certificate["certificate_pages"],
                "certificate_id": certificate["certificate_id"]} in parts


def test_text_layer_holds_what_truth_says_was_printed(corpus: Path, truth: dict[str, Any]) -> None:
    texts: dict[str, list[str]] = {}
    for entry in truth["certificates"]:
        if entry["scanned"]:
            continue
        if entry["file"] not in texts:
            with pdfium.PdfDocument(corpus / "certs" / entry["file"]) as pdf:
                texts[entry["file"]] = [" ".join(page.get_textpage().get_text_range().split())
                                        for page in pdf]
        pages = texts[entry["file"]]
        for printed in entry["printed"]:
            text = pages[printed["page"] - 1]
            for piece in printed.get("lines", [printed["value"]]):
                assert piece in text, (entry["file"], printed)


def test_scans_are_image_only_and_turned(corpus: Path, truth: dict[str, Any]) -> None:
    from PIL import Image

    scans = [d for d in truth["documents"] if d["scanned"]]
    rotations = {d["scan"]["rotation"] for d in scans}
    assert 270 in rotations and rotations & {90, 180}
    for entry in scans:
        path = corpus / "certs" / entry["file"]
        if path.suffix == ".pdf":
            with pdfium.PdfDocument(path) as pdf:
                assert pdf[0].get_textpage().get_text_range().strip() == ""
            continue
        with Image.open(path) as image:
            assert round(image.info["dpi"][0]) == entry["scan"]["dpi"]
            sideways = entry["scan"]["rotation"] in (90, 270)
            assert (image.width > image.height) == sideways, entry["file"]


def test_a_quarter_of_the_rows_are_deliberate_mismatches() -> None:
    plan = build_plan(seed=3, per_family=8)
    rows = [row for row in plan.rows if row.spec is not None]
    perturbed = [row for row in rows if row.perturbed]
    assert 0.2 <= len(perturbed) / len(rows) <= 0.3
    verdicts = [cpl_row(row, n).expected for n, row in enumerate(plan.rows, start=1)]
    overall = Counter(v["overall_status"] for v in verdicts)
    assert overall["PASS"] > overall["FAIL"] > 0 and overall["REVIEW"] and overall["NO_CERTIFICATE"]
    for row, verdict in zip(plan.rows, verdicts, strict=True):
        if row.perturbed:
            assert verdict["overall_status"] == "FAIL"
            assert verdict[f"{row.perturbed}_status"] == "MISMATCH"
        elif row.spec is not None and "MISSING" not in row.case:
            assert verdict["overall_status"] == "PASS", row.case
