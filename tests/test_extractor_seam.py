"""The extractor seam (issue 10): the fallback chain is data (extract.FALLBACKS), a second
extractor plugs in as one entry, every step that runs leaves a note, and one that fails falls
back instead of sinking the document (issue 13)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline import document as document_stage
from pipeline.extract import FALLBACKS, Attempt, text_layer
from pipeline.ingest import IngestLimits, file_document
from pipeline.models import Certificate, ErrorReason, ExtractedDocument, ExtractLimits, PageText
from samples.generate import build_corpus, certificate_bytes, make_scanned


def _spec():
    return next(s for s in build_corpus().certificates if s.layout == "kv" and not s.broken)


def _read(path: Path, ocr: str = "never") -> Certificate:
    return document_stage.process_document(file_document(str(path), str(path), IngestLimits()),
                                           ocr, ExtractLimits())


@dataclasses.dataclass(frozen=True)
class SidecarText:
    """A second extractor: the text an archive keeps beside a scan (`<name>.pdf.txt`)."""

    folder: Path
    name: str = "sidecar-text"

    def applies(self, attempt: Attempt) -> str:
        sidecar = self.folder / f"{attempt.document.name}.txt"
        return f"{sidecar.name} is beside it" if sidecar.exists() else ""

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        text = (self.folder / f"{attempt.document.name}.txt").read_text(encoding="utf-8")
        pages = (PageText(1, text, attempt.extracted.pages[0].source),)
        return dataclasses.replace(attempt.extracted, pages=pages)


@dataclasses.dataclass(frozen=True)
class Broken:
    name: str = "broken"

    def applies(self, attempt: Attempt) -> str:
        return "always"

    def read(self, attempt: Attempt) -> ExtractedDocument | None:
        raise IndexError("list index out of range")  # as pdfplumber's on a page pdfium has not


@pytest.fixture
def scan_and_text(tmp_path: Path) -> tuple[Path, str]:
    """An image-only scan (no text layer: with --ocr never it has no fields) and the text layer
    of the same certificate born digital."""
    spec = _spec()
    scan = tmp_path / "scan.pdf"
    make_scanned(spec, spec.layout, scan, "pdf", 150, 0.0, 0.0, 0.0, seed=1)
    born = certificate_bytes(spec, spec.layout)
    text = "\n".join(page.text for page, _ in text_layer(born, ExtractLimits()))
    return scan, text


def test_the_chain_is_data_in_cost_order() -> None:
    assert [step.name for step in FALLBACKS] == [
        "ruled-tables", "pdfplumber-tables", "ocr-retry", "sparse-ocr"]


def test_a_plugged_in_extractor_reads_what_the_others_cannot(
    scan_and_text: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scan, text = scan_and_text
    before = _read(scan)
    assert before.error is not None and before.error.reason is ErrorReason.NO_FIELDS
    (scan.parent / "scan.pdf.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(document_stage, "FALLBACKS", (*FALLBACKS, SidecarText(scan.parent)))
    after = _read(scan)
    assert after.error is None
    spec = _spec()
    assert after.certificate_id == spec.certificate_id
    assert after.listings[0].model == spec.listings[0].model_text
    assert any(n.startswith("sidecar-text: scan.pdf.txt is beside it; kept") for n in after.notes)


def test_a_step_that_finds_nothing_leaves_a_note(
    scan_and_text: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scan, _ = scan_and_text
    (scan.parent / "scan.pdf.txt").write_text("Dear Sir, please find enclosed.", encoding="utf-8")
    monkeypatch.setattr(document_stage, "FALLBACKS", (SidecarText(scan.parent),))
    certificate = _read(scan)
    assert any(n.startswith("sidecar-text:") and "discarded" in n for n in certificate.notes)


def test_a_failing_extractor_falls_back_and_says_so(
    scan_and_text: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scan, text = scan_and_text
    (scan.parent / "scan.pdf.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(document_stage, "FALLBACKS", (Broken(), SidecarText(scan.parent)))
    certificate = _read(scan)
    assert certificate.error is None  # the next step still ran
    assert ("broken failed, skipped; the reading so far was kept (IndexError: list index out of "
            "range)") in certificate.notes


def test_a_complete_reading_runs_no_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec()
    path = tmp_path / "born.pdf"
    path.write_bytes(certificate_bytes(spec, spec.layout))
    monkeypatch.setattr(document_stage, "FALLBACKS", (Broken(),))
    certificate = _read(path)
    assert certificate.error is None and not certificate.notes


def _attempt(path: Path, missing: tuple[str, ...]) -> Attempt:
    data = path.read_bytes()
    document = file_document(str(path), str(path), IngestLimits())
    pages = tuple(page for page, _ in text_layer(data, ExtractLimits()))
    extracted = ExtractedDocument(document, pages, pages[0].source, "")
    return Attempt(document, data, extracted, missing, "never", ExtractLimits())


def test_a_ruled_table_is_parsed_again_only_when_it_names_a_missing_field(tmp_path: Path) -> None:
    """ruled-tables returns the document with its tables only when read_tables finds in them a
    value of a field still missing: a table of the fields already read cannot fill one, and
    parsing the document again cost ~2 ms on each born-digital document with a field absent."""
    ruled = FALLBACKS[0]
    assert ruled.name == "ruled-tables"
    spec = next(s for s in build_corpus().certificates if s.layout == "table" and not s.broken)
    path = tmp_path / "table.pdf"
    path.write_bytes(certificate_bytes(spec, spec.layout))
    reread = ruled.read(_attempt(path, ("hardware_version",)))
    assert reread is not None and any(page.tables for page in reread.pages)
    assert ruled.read(_attempt(path, ("device_type_of_nothing",))) is None


def test_a_field_truly_absent_is_not_parsed_once_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samples.grammar import generate

    generate(tmp_path, "kv-sparse", 8, 2021)
    parses = []
    real = document_stage._parse
    monkeypatch.setattr(document_stage, "_parse", lambda e: parses.append(1) or real(e))
    sparse = 0
    for path in sorted((tmp_path / "certs").glob("*.pdf")):
        parses.clear()
        certificate = _read(path)
        if any(n.startswith("ruled-tables:") for n in certificate.notes):
            sparse += 1
            assert len(parses) == 1, certificate.notes
            assert all("nothing new" in n for n in certificate.notes if "tables:" in n)
    assert sparse >= 2
