"""The sample generator: deterministic, one page per certificate, truth matching the text layer."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import openpyxl
import pypdfium2 as pdfium
import pytest

from samples.generate import (
    CPL_COLUMNS,
    EXPECTED_COLUMNS,
    LAYOUTS,
    STATUS_FIELDS,
    build_corpus,
    cpl_problem,
    generate_corpus,
    generate_scanned,
    make_certificate,
    make_scanned,
    truth_entry,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
A4 = (595.28, 841.89)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def page_text(path: Path) -> tuple[int, str]:
    pdf = pdfium.PdfDocument(path)
    try:
        page = pdf[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        page.close()
        return len(pdf), text
    finally:
        pdf.close()


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    generate_corpus(root / "corpus", cpl_dir=root)
    return root


def test_same_seed_gives_identical_files(corpus: Path, tmp_path: Path) -> None:
    generate_corpus(tmp_path / "corpus", cpl_dir=tmp_path)
    assert digests(tmp_path) == digests(corpus)


def test_other_seed_gives_other_certificates(corpus: Path, tmp_path: Path) -> None:
    generate_corpus(tmp_path / "corpus", seed=99, cpl_dir=tmp_path)
    first = json.loads((corpus / "corpus" / "truth.json").read_text())
    other = json.loads((tmp_path / "corpus" / "truth.json").read_text())
    assert [c["certificate_id"] for c in first["certificates"]] != [
        c["certificate_id"] for c in other["certificates"]
    ]


def test_bundled_corpus_is_what_the_generator_writes(corpus: Path) -> None:
    """samples/corpus and the CPL files in samples/ are reproducible from the default seed."""
    if not (SAMPLES / "corpus" / "truth.json").exists():
        pytest.skip("bundled corpus not generated")
    bundled = digests(SAMPLES / "corpus")
    assert bundled == digests(corpus / "corpus")
    for name in ("cpl_submission.csv", "expected.csv", "manufacturers.csv"):
        assert (SAMPLES / name).read_bytes() == (corpus / name).read_bytes(), name
    # The workbook's bytes depend on openpyxl's optional XML backend (lxml or not): compare
    # what a reader sees, cell by cell, with each cell's type.
    assert xlsx_cells(SAMPLES / "cpl_submission.xlsx") == xlsx_cells(corpus / "cpl_submission.xlsx")


def xlsx_cells(path: Path) -> list[list[tuple[object, str]]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    try:
        return [[(c.value, c.data_type) for c in row] for ws in workbook for row in ws.iter_rows()]
    finally:
        workbook.close()


def test_every_layout_is_covered(corpus: Path) -> None:
    truth = json.loads((corpus / "corpus" / "truth.json").read_text())
    assert {c["layout"] for c in truth["certificates"]} == set(LAYOUTS)


def check_text_layer(folder: Path, entry: dict) -> None:
    pages, text = page_text(folder / entry["file"])
    assert pages == 1
    flat = squash(text)
    printed = [entry["certificate_id"], entry["certificate_date_text"], entry["device_type"]]
    for listing in entry["listings"]:
        printed += [listing[k] for k in
                    ("manufacturer", "model", "hardware_version", "firmware_version") if listing[k]]
    for value in printed:
        assert value in flat, f"{entry['file']}: {value!r} not in text layer"
    # every value sits on one line (never wrapped inside a cell or a sentence)
    lines = [squash(line) for line in text.splitlines()]
    for value in printed:
        assert any(value in line for line in lines), f"{entry['file']}: {value!r} wrapped"


def test_text_layer_holds_every_printed_value(corpus: Path) -> None:
    truth = json.loads((corpus / "corpus" / "truth.json").read_text())
    readable = [c for c in truth["certificates"] if not c["broken"]]
    assert len(readable) >= 30
    for entry in readable:
        check_text_layer(corpus / "corpus", entry)


def test_random_certificates_hold_their_values_too(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "c", seed=5, count=70, cpl_dir=tmp_path)
    truth = json.loads((tmp_path / "c" / "truth.json").read_text())
    assert len(truth["certificates"]) == 70
    for entry in truth["certificates"][40:]:
        check_text_layer(tmp_path / "c", entry)
    rows = list(csv.DictReader((tmp_path / "expected.csv").open()))
    assert {r["overall_status"] for r in rows} >= {"PASS", "FAIL", "REVIEW", "NO_CERTIFICATE"}


@pytest.mark.parametrize("layout", [lay for lay in LAYOUTS if lay != "multi"])
def test_each_layout_renders_any_single_model_spec(layout: str, tmp_path: Path) -> None:
    spec = build_corpus().certificates[0]
    path = tmp_path / f"{layout}.pdf"
    make_certificate(spec, layout, path)
    entry = truth_entry(spec)
    entry["file"] = path.name
    check_text_layer(tmp_path, entry)
    pdf = pdfium.PdfDocument(path)
    width, height = pdf[0].get_size()
    pdf.close()
    assert (round(width, 1), round(height, 1)) == (595.3, 841.9)


def test_broken_files_do_not_open(corpus: Path) -> None:
    truth = json.loads((corpus / "corpus" / "truth.json").read_text())
    broken = {c["file"]: c["broken"] for c in truth["certificates"] if c["broken"]}
    assert set(broken.values()) == {"truncated", "html"}
    assert "not_really.pdf" in broken
    for name in broken:
        with pytest.raises(pdfium.PdfiumError):
            pdfium.PdfDocument(corpus / "corpus" / name)


def test_cpl_csv_and_xlsx_have_the_exact_columns_and_text_cells(corpus: Path) -> None:
    with (corpus / "cpl_submission.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        csv_rows = list(reader)
    assert tuple(header) == CPL_COLUMNS
    sheet = openpyxl.load_workbook(corpus / "cpl_submission.xlsx").active
    xlsx_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(xlsx_rows[0]) == CPL_COLUMNS
    assert all(isinstance(v, str) for row in xlsx_rows[1:] for v in row)
    assert xlsx_rows[1:] == csv_rows
    assert len(csv_rows) >= 35


def test_expected_covers_every_cpl_row(corpus: Path) -> None:
    cpl = list(csv.DictReader((corpus / "cpl_submission.csv").open(newline="")))
    with (corpus / "expected.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == EXPECTED_COLUMNS
        expected = list(reader)
    assert [int(e["submission_row"]) for e in expected] == list(range(1, len(cpl) + 1))
    assert [e["submission_id"] for e in expected] == [r["Submission ID"] for r in cpl]
    statuses = {e["overall_status"] for e in expected}
    assert statuses == {"PASS", "FAIL", "REVIEW", "NO_CERTIFICATE", "ERROR"}
    fields = {e[f"{f}_status"] for e in expected for f in STATUS_FIELDS}
    assert fields >= {"MATCH", "MAPPED", "MISMATCH", "MISSING", "PARTIAL", "UNVERIFIABLE",
                      "INVALID_CPL"}
    for e in expected:
        empty = e["overall_status"] in ("NO_CERTIFICATE", "ERROR")
        assert all((e[f"{f}_status"] == "") == empty for f in STATUS_FIELDS), e
        assert e["why"]


def test_expected_verdicts_follow_the_spec_rules(corpus: Path) -> None:
    """Spot checks of the cases the brief names, straight from the files."""
    cpl = list(csv.DictReader((corpus / "cpl_submission.csv").open(newline="")))
    expected = list(csv.DictReader((corpus / "expected.csv").open(newline="")))
    by_firmware = {r["Device_Model - firmware_version"]: e for r, e in zip(cpl, expected,
                                                                          strict=True)}
    assert by_firmware["0D:07:00:00"]["firmware_version_status"] == "MISMATCH"
    assert by_firmware["0E:07:00:00"]["firmware_version_status"] == "MAPPED"
    assert by_firmware["02:01:05:07"]["firmware_version_status"] == "PARTIAL"
    assert by_firmware["02:01:05:07"]["overall_status"] == "REVIEW"
    assert by_firmware["0c:03:0c:22"]["firmware_version_status"] == "INVALID_CPL"
    linked = [e for e in expected if e["certificate_id"] == "zig 17-123 se0456"]
    assert linked and linked[0]["overall_status"] == "PASS"
    for row, e in zip(cpl, expected, strict=True):
        for column, status_field in (
            ("Device_Model - manufacturer_identifier", "manufacturer_identifier"),
            ("Device_Model - model_identifier", "model_identifier"),
            ("Device_Model - firmware_version", "firmware_version"),
        ):
            if cpl_problem(status_field, row[column]) and e[f"{status_field}_status"]:
                assert e[f"{status_field}_status"] == "INVALID_CPL"


def test_cpl_validation_rules() -> None:
    assert cpl_problem("manufacturer_identifier", "FF:FE") == ""
    assert cpl_problem("manufacturer_identifier", "FF:FF")
    assert cpl_problem("model_identifier", "FF:BF") == ""
    assert cpl_problem("model_identifier", "FF:C0")
    assert cpl_problem("firmware_version", "0C:03:0C")
    assert cpl_problem("firmware_version", "0c:03:0c:22")
    assert cpl_problem("hardware_version", "1_02")
    assert cpl_problem("hardware_version", "01_02") == ""


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scans")
    generate_scanned(root, build_corpus().certificates, 6)
    return root


def test_scanned_pdfs_are_image_only_a4(scans: Path) -> None:
    pdfs = sorted(scans.glob("*.pdf"))
    assert len(pdfs) == 3
    for path in pdfs:
        pdf = pdfium.PdfDocument(path)
        page = pdf[0]
        assert len(pdf) == 1
        assert page.get_textpage().get_text_range().strip() == ""
        objects = list(page.get_objects())
        assert [o.type for o in objects] == [pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        width, height = page.get_size()
        assert abs(width - A4[0]) < 1.5 and abs(height - A4[1]) < 1.5
        pdf.close()


def test_scanned_images_record_their_dpi(scans: Path) -> None:
    from PIL import Image

    truth = json.loads((scans / "truth.json").read_text())
    assert {e["format"] for e in truth["certificates"]} == {"pdf", "png", "jpeg", "tiff"}
    for entry in truth["certificates"]:
        assert entry["scanned"] is True
        assert 0.3 <= abs(entry["rotation_deg"]) <= 1.5
        assert entry["source_file"].endswith(".pdf")
        if entry["format"] == "pdf":
            continue
        with Image.open(scans / entry["file"]) as image:
            assert round(image.info["dpi"][0]) == entry["dpi"]
            assert getattr(image, "n_frames", 1) == entry["pages"]


def test_scans_are_deterministic(scans: Path, tmp_path: Path) -> None:
    generate_scanned(tmp_path, build_corpus().certificates, 6)
    assert digests(tmp_path) == digests(scans)


def test_make_scanned_multi_page_tiff(tmp_path: Path) -> None:
    from PIL import Image

    spec = build_corpus().certificates[0]
    info = make_scanned(spec, "kv", tmp_path / "s.tif", "tiff", 150, 0.7, 2.0, 0.3, seed=1,
                        back_page=True)
    with Image.open(tmp_path / "s.tif") as image:
        assert image.n_frames == 2 == info["pages"]
        assert round(image.info["dpi"][0]) == 150


def test_bundled_scans_are_small_and_reproducible(tmp_path: Path) -> None:
    folder = SAMPLES / "scanned"
    if not (folder / "truth.json").exists():
        pytest.skip("bundled scans not generated")
    files = [p for p in folder.iterdir() if p.name != "truth.json"]
    assert len(files) == 6
    assert sum(p.stat().st_size for p in files) <= 1_500_000
    generate_scanned(tmp_path, build_corpus().certificates, 6, source_dir="corpus")
    assert digests(tmp_path) == digests(folder)
