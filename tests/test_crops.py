"""Crops: one PNG per field found, cut from the page where the value stands, written once."""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from pipeline.models import Certificate, DeviceListing
from pipeline.report.crops import CROP_DPI, MARGIN_PT, crop_name, crops_for

from conftest import CORPUS, SAMPLES
from evidence_words import ocr_box, words_box

KV = CORPUS / "cert_0001_kv.pdf"
SCANS = SAMPLES / "scanned"


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def certificate(file: Path | str, **kw: object) -> Certificate:
    values: dict[str, object] = {"file": str(file), "sha256": "0a1b2c3d" * 8, "pages": 1}
    values.update(kw)
    return Certificate(**values)  # type: ignore[arg-type]


def kv_certificate(file: Path | str = KV) -> Certificate:
    fid, fw = words_box(KV, "ZIG21128SE6616"), words_box(KV, "0C:03:0C:22")
    return certificate(file, certificate_id="ZIG21128SE6616", evidence=(("certificate_id", fid),),
                       listings=(DeviceListing(firmware_version="0C:03:0C:22",
                                               evidence=(("firmware_version", fw),)),))


def test_born_digital_crops_are_the_box_at_150_dpi(tmp_path: Path) -> None:
    cert = kv_certificate()
    crops = crops_for(cert, tmp_path)
    assert [c.path for c in crops] == [
        "evidence/0a1b2c3d0a1b2c3d-p1-certificate_id.png",
        "evidence/0a1b2c3d0a1b2c3d-p1-listing1-firmware_version.png",
    ]
    box = cert.listings[0].evidence[0][1].bbox
    with Image.open(tmp_path / crops[1].path) as png:
        expected = ((box[2] - box[0] + 2 * MARGIN_PT) * CROP_DPI / 72,
                    (box[3] - box[1] + 2 * MARGIN_PT) * CROP_DPI / 72)
        assert png.width == pytest.approx(expected[0], abs=2)
        assert png.height == pytest.approx(expected[1], abs=2)
        assert png.convert("L").getextrema()[0] < 100  # dark text on it, not a blank page


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_the_crop_shows_the_value(tmp_path: Path) -> None:
    import pytesseract

    crops = crops_for(kv_certificate(), tmp_path)
    with Image.open(tmp_path / crops[1].path) as png:
        big = png.resize((png.width * 2, png.height * 2))
        assert "0C:03:0C:22" in pytesseract.image_to_string(big, config="--psm 7")


def test_crops_are_written_once_and_reused(tmp_path: Path) -> None:
    first = crops_for(kv_certificate(), tmp_path)
    stamps = {c.path: (tmp_path / c.path).stat().st_mtime_ns for c in first}
    gone = tmp_path / "moved.pdf"  # the document is no longer there: the crops are
    again = crops_for(kv_certificate(gone), tmp_path)
    assert again == first
    assert {c.path: (tmp_path / c.path).stat().st_mtime_ns for c in again} == stamps


def test_a_document_that_cannot_be_read_again_has_no_crops(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert crops_for(kv_certificate(broken), tmp_path / "out") == ()
    assert crops_for(kv_certificate(tmp_path / "missing.pdf"), tmp_path / "out") == ()


def test_a_zip_member_is_cropped_from_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "certs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(KV, "inner/kv.pdf")
    crops = crops_for(kv_certificate(f"{archive}/inner/kv.pdf"), tmp_path / "out")
    assert len(crops) == 2


def test_names_say_document_page_and_field() -> None:
    assert crop_name("ab" * 32, 3, "model", 1) == "abababababababab-p3-listing2-model.png"
    assert crop_name("ab" * 32, 1, "certificate id/../x") == "abababababababab-p1-certificate_id_x.png"


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_a_scan_keeps_its_own_pixels(tmp_path: Path) -> None:
    """An image-only PDF page is cut at the embedded scan's resolution, not re-sampled to 150."""
    from pipeline.extract.tesseract import render_page

    pdf = SCANS / "scan_001_kv.pdf"
    image = render_page(pdf.read_bytes(), 1, 200)
    box = ocr_box(200, image, "ZIG17-2383")
    crops = crops_for(certificate(pdf, evidence=(("certificate_id", box),)), tmp_path)
    assert len(crops) == 1 and crops[0].source == "ocr"
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    page = pypdfium2.PdfDocument(str(pdf))[0]
    scan = next(iter(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))))
    left, _, right, _ = scan.get_bounds()
    native = scan.get_px_size()[0] / (right - left)  # pixels per point of the scan itself
    with Image.open(tmp_path / crops[0].path) as png:
        width_pt = box.bbox[2] - box.bbox[0] + 2 * MARGIN_PT
        assert png.width == pytest.approx(width_pt * native, abs=3)


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_an_image_file_is_cut_from_its_pixels(tmp_path: Path) -> None:
    from pipeline.extract.tesseract import image_dpi

    png_file = SCANS / "scan_004_prose.png"
    with Image.open(png_file) as image:
        dpi = image_dpi(image)
        box = ocr_box(dpi, image, "ZIG", prefix=True)
        crops = crops_for(certificate(png_file, evidence=(("certificate_id", box),)), tmp_path)
        assert len(crops) == 1
        with Image.open(tmp_path / crops[0].path) as png:
            k = dpi / 72
            assert png.width == pytest.approx((box.bbox[2] - box.bbox[0] + 2 * MARGIN_PT) * k, abs=3)
            assert png.mode == image.mode  # the scan's own pixels, not a render


def test_no_evidence_no_crops(tmp_path: Path) -> None:
    assert crops_for(dataclasses.replace(kv_certificate(), evidence=(), listings=()), tmp_path) == ()
    assert not (tmp_path / "evidence").exists()


@pytest.mark.parametrize("crops", [True, False])
def test_the_writer_crops_each_document_unless_told_not_to(tmp_path: Path, crops: bool) -> None:
    from pipeline.report.rows import certificate_row
    from pipeline.report.writers import OutputWriter

    cert = kv_certificate()
    with OutputWriter(tmp_path, crops=crops) as writer:
        writer.certificate(certificate_row(cert), cert)
        writer.finish([], {})
    made = sorted(p.name for p in (tmp_path / "evidence").glob("*.png")) if crops else []
    assert made == (["0a1b2c3d0a1b2c3d-p1-certificate_id.png",
                     "0a1b2c3d0a1b2c3d-p1-listing1-firmware_version.png"] if crops else [])
    assert (tmp_path / "evidence").exists() == crops


def test_the_worker_that_reads_a_document_makes_its_crops(tmp_path: Path) -> None:
    """Crops are rendered where the document was read (in parallel, per worker); the writer then
    finds them made and renders nothing again."""
    from pipeline.extract import ExtractLimits
    from pipeline.ingest import discover
    from pipeline.report.rows import certificate_row
    from pipeline.report.writers import OutputWriter
    from pipeline.run.executor import Job, read_document

    (document,) = discover([str(CORPUS / "cert_0026_multi.pdf")])[0]
    cert = read_document(Job(document, "never", ExtractLimits(), crops_out=str(tmp_path)))
    fields = len(cert.evidence) + sum(len(listing.evidence) for listing in cert.listings)
    made = sorted((tmp_path / "evidence").glob("*.png"))
    assert fields >= 12 and len(made) == fields  # three listings of four fields, and the rest
    stamps = {p.name: p.stat().st_mtime_ns for p in made}
    with OutputWriter(tmp_path, crops=True) as writer:
        writer.certificate(certificate_row(cert), cert)
        writer.finish([], {})
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "evidence").glob("*.png")} == stamps
    assert not list((tmp_path / "evidence").glob(".*.tmp"))
    without = read_document(Job(document, "never", ExtractLimits()))
    assert without == cert  # the crops change nothing in what was read
