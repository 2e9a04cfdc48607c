"""Issue 13 (reliability against the world's PDFs): one regression test per bug, each on the
smallest file made here that shows it (samples/hostile.py), never a library's test PDF."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.document import process_document
from pipeline.errors import REASON_ADVICE, ErrorReason
from pipeline.extract.tesseract import tesseract_available
from pipeline.ingest import kind_of
from pipeline.models import Certificate, Document, ExtractLimits
from samples import hostile

from conftest import ROOT, SAMPLES

# A certificate whose text layer lacks the firmware version: table layout analysis then runs.
PARTIAL = hostile.text_pdf([
    "ZigBee Alliance - Certificate of Compliance",
    "Certificate ID: ZIG21128SE6616",
    "Manufacturer: EDMI Ltd (10:6C)",
    "Model Identification: ES-10B (01:02)",
    "Hardware Version: 01_02",
])
needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract not installed")


def _read(data: bytes, name: str = "doc.pdf", limits: ExtractLimits | None = None,
          tmp: Path | None = None) -> Certificate:
    document = Document(name, "", hashlib.sha256(data).hexdigest(), len(data),
                        kind=kind_of(data[:1024]))
    if tmp is not None:
        path = tmp / name
        path.write_bytes(data)
        document = Document(name, str(path), document.sha256, len(data), kind=document.kind)
    return process_document(document, "auto", limits or ExtractLimits())


def _reason(certificate: Certificate) -> str:
    return certificate.error.reason.value if certificate.error else "OK"


def test_issue_13_2_pdfplumber_failing_on_an_xref_loop_keeps_the_text_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pdfminer hits RecursionError (as PdfminerException) on a self-referencing /Prev: the
    table fallback failed and sank the document as UNREADABLE. (pdfplumber now reads only pages
    with ruling the pypdfium2 reader could not read: this page is made to look so.)"""
    import importlib

    tables_module = importlib.import_module("pipeline.extract.tables")  # not the function
    monkeypatch.setattr(tables_module, "unread_ruling", lambda data, pages: list(pages))
    got = _read(hostile.xref_loop(PARTIAL), tmp=tmp_path)
    assert got.ok, got.error
    assert got.certificate_id == "ZIG21128SE6616"
    assert got.listings[0].hardware_version == "01_02"
    assert any("pdfplumber-tables failed" in n and "recursion" in n for n in got.notes), got.notes


def test_issue_13_2_pdfplumber_seeing_fewer_pages_than_pdfium_is_no_crash(tmp_path: Path) -> None:
    """A page object without /Type: PDFium reads 2 pages, pdfplumber 1 (IndexError)."""
    got = _read(hostile.untyped_page(PARTIAL, ["Page two of the certificate"]), tmp=tmp_path)
    assert got.ok, got.error
    assert (got.pages, got.certificate_id) == (2, "ZIG21128SE6616")


@needs_tesseract
def test_issue_13_2_a_page_that_cannot_be_rendered_is_typed_and_noted(tmp_path: Path) -> None:
    """CropBox outside the MediaBox: PDFium renders 0 x 0 pt ('Crop exceeds page dimensions')."""
    got = _read(hostile.outside_cropbox(), tmp=tmp_path)
    assert _reason(got) == "CORRUPT"
    assert "Crop exceeds" not in got.error.message  # type: ignore[union-attr]
    assert any("Crop exceeds page dimensions" in n for n in got.notes), got.notes


@needs_tesseract
def test_issue_13_2_an_unrenderable_page_beside_a_good_one_is_skipped(tmp_path: Path) -> None:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(PARTIAL)) as pdf, \
            pikepdf.open(io.BytesIO(hostile.outside_cropbox())) as bad:
        pdf.pages.append(bad.pages[0])
        out = io.BytesIO()
        pdf.save(out)
    got = _read(out.getvalue(), tmp=tmp_path)
    assert got.ok and got.certificate_id == "ZIG21128SE6616", got.error
    assert any(n.startswith("page 2 could not be rendered") for n in got.notes), got.notes


def test_issue_13_2_messages_carry_no_library_text(tmp_path: Path) -> None:
    """The message is for a compliance officer; PDFium's and qpdf's words go to notes."""
    files = {
        "garbage.pdf": hostile.garbage(), "zero.pdf": hostile.zero_pages(),
        "encrypted.pdf": hostile.encrypted(), "truncated.pdf": hostile.truncated(PARTIAL),
    }
    for name, data in files.items():
        got = _read(data, name, tmp=tmp_path)
        assert got.error is not None, name
        assert got.error.reason is not ErrorReason.UNREADABLE, name
        assert not re.search(r"PDFium|qpdf:|Error\b|Exception|0x[0-9a-f]", got.error.message), (
            name, got.error.message)
    garbage = _read(hostile.garbage(), tmp=tmp_path)
    assert any("PDFium" in n for n in garbage.notes) and "0x" not in "".join(garbage.notes)


def test_issue_13_2_readme_lists_every_reason_with_its_advice() -> None:
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+) \|$", readme, re.MULTILINE))
    for reason in ErrorReason:
        assert table.get(reason.value) == REASON_ADVICE[reason], reason


_READ_IN_ORDER = """
import hashlib, json, sys
from pipeline.document import process_document
from pipeline.models import Document, ExtractLimits
out = []
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    doc = Document(path, path, hashlib.sha256(data).hexdigest(), len(data))
    c = process_document(doc, "never", ExtractLimits())
    out.append(c.error.reason.value if c.error else "OK")
print(json.dumps(out))
"""


def _reasons_in_order(*paths: Path) -> list[str]:
    run = subprocess.run([sys.executable, "-c", _READ_IN_ORDER, *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(run.stdout)


def test_issue_13_3_reasons_do_not_depend_on_the_document_read_before(tmp_path: Path) -> None:
    """A 0-page PDF read after an encrypted one was ENCRYPTED: PDFium's last error was stale."""
    encrypted, empty = tmp_path / "encrypted.pdf", tmp_path / "empty.pdf"
    encrypted.write_bytes(hostile.encrypted())
    empty.write_bytes(hostile.zero_pages())
    # The first document of each fresh process is read alone; the second after the other.
    encrypted_first = _reasons_in_order(encrypted, empty)
    empty_first = _reasons_in_order(empty, encrypted)
    alone = {"encrypted": encrypted_first[0], "empty": empty_first[0]}
    assert alone == {"encrypted": "ENCRYPTED", "empty": "EMPTY"}
    assert encrypted_first[1] == alone["empty"] and empty_first[1] == alone["encrypted"]


def test_issue_13_5_a_poster_page_is_too_large_before_it_is_rendered(tmp_path: Path) -> None:
    got = _read(hostile.huge_blank_page(), tmp=tmp_path)
    assert _reason(got) == "TOO_LARGE"
    assert "megapixels" in got.error.message  # type: ignore[union-attr]


@needs_tesseract
def test_issue_13_5_the_render_cap_is_a_setting(tmp_path: Path) -> None:
    blank_a4 = hostile.text_pdf([])
    assert _reason(_read(blank_a4, tmp=tmp_path)) != "TOO_LARGE"  # A4 is 3.9 megapixels
    small = ExtractLimits(max_render_megapixels=1.0)
    assert _reason(_read(blank_a4, limits=small, tmp=tmp_path)) == "TOO_LARGE"


@needs_tesseract
def test_issue_13_5_extract_has_the_per_document_time_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scan = SAMPLES / "scanned" / "scan_001_kv.pdf"
    born_digital = SAMPLES / "corpus" / "cert_0001_kv.pdf"
    # born-digital first: ~25 ms in a worker whose readers are imported; the scan's OCR is > 1 s
    assert main(["extract", "--timeout", "0.3", str(born_digital), str(scan)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == [str(born_digital), str(scan)]
    assert records[0]["status"] == "OK"
    assert records[1]["status"] == "ERROR" and records[1]["error"]["reason"] == "TIMEOUT"


@pytest.mark.parametrize("name", ["cover_letter", "cover_letter_with_id", "paper_abstract",
                                  "invoice"])
def test_issue_13_1_a_document_that_is_no_certificate_invents_no_fields(
    name: str, tmp_path: Path
) -> None:
    lines = {"cover_letter": hostile.COVER_LETTER, "paper_abstract": hostile.PAPER_ABSTRACT,
             "cover_letter_with_id": hostile.COVER_LETTER_WITH_ID,
             "invoice": hostile.INVOICE}[name]
    got = _read(hostile.text_pdf(lines), tmp=tmp_path)
    assert _reason(got) == "NOT_A_CERTIFICATE", (got.certificate_id, got.listings)
    assert (got.certificate_id, got.listings) == ("", ())


def test_issue_13_1_an_invoice_page_in_a_certificate_does_not_replace_its_id(
    tmp_path: Path,
) -> None:
    """'Certificate ID: sub-signatures' on an added invoice page is not an ID's shape: the
    certificate keeps its own ID and stays a certificate."""
    base = (SAMPLES / "corpus" / "cert_0005_prose.pdf").read_bytes()
    got = _read(hostile.untyped_page(base, hostile.INVOICE), tmp=tmp_path)
    assert got.ok, got.error
    assert got.certificate_id == "ZIG17-5556"


def test_issue_13_fuzz_a_mutated_value_in_a_content_stream_never_matches(tmp_path: Path) -> None:
    """One digit or hex letter of a value changed inside the decompressed content stream: the
    field it changed is never MATCH against the original CPL row (bench_fuzz does 450)."""
    from benchmarks.bench_fuzz import fuzz_certificate
    from pipeline.cpl import read_cpl

    row = read_cpl(SAMPLES / "cpl_submission.csv").rows[0]  # backed by cert_0001_kv.pdf
    counts = fuzz_certificate(SAMPLES / "corpus" / "cert_0001_kv.pdf", row, 12, tmp_path)
    assert counts["mutants"] == 12 and counts["mutated_fields"] >= 3, counts
    assert counts["false_match"] == 0 and counts["id_changed_linked_silently"] == 0, counts


def test_issue_13_3_results_of_the_old_reason_logic_are_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache key holds the schema version (2: reasons decided from the document) and the
    pipeline's own source, so an ENCRYPTED stored for a 0-page PDF by the old logic misses."""
    from pipeline.run import cache

    rules = ROOT / "rules"
    versions = {"cplrecon": "0.1.0"}
    now = cache.pipeline_fingerprint(versions, rules, "auto", {})
    monkeypatch.setattr(cache, "SCHEMA_VERSION", 1)
    assert cache.pipeline_fingerprint(versions, rules, "auto", {}) != now
    monkeypatch.undo()
    monkeypatch.setattr(cache, "code_digest", lambda: "the source before issue 13")
    assert cache.pipeline_fingerprint(versions, rules, "auto", {}) != now


def test_issue_13_2_the_developer_detail_survives_the_cache_and_the_spool(tmp_path: Path) -> None:
    from pipeline.run.cache import (
        certificate_from_json,
        certificate_to_json,
        error_from_json,
        error_to_json,
    )

    got = _read(hostile.garbage(), tmp=tmp_path)
    assert certificate_from_json(certificate_to_json(got), got.file).notes == got.notes
    assert got.error is not None and got.error.detail
    again = error_from_json(error_to_json(got.error))
    assert again == got.error and again is not None and again.detail == got.error.detail
