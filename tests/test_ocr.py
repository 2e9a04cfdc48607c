"""OCR path: the per-page decision, real tesseract on generated scans, hex/digit repair,
certificate-ID linking across I/1 and O/0, --ocr never, and a missing tesseract."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from pipeline import extract
from pipeline.document import process_document
from pipeline.extract import ExtractLimits, ocr_decision, page_facts
from pipeline.extract.ocr_layout import OcrWord, ocr_lines
from pipeline.extract.reread import _same_shape, unsure_groups
from pipeline.idkeys import confusable_key
from pipeline.ingest import IngestLimits, file_document
from pipeline.models import Certificate, CplRow, ErrorReason, TextSource
from pipeline.ocrfix import (
    repair_device_type,
    repair_roman,
    repair_text,
    repair_value,
)
from pipeline.policy import default_device_types
from pipeline.reconcile import CertificateIndex, ConfusableKeys, link_row
from samples.generate import build_corpus, certificate_bytes, make_scanned
from samples.grammar import DEVELOPMENT, build_plan, write_document

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract is not installed")


def spec_for(layout: str):
    specs = [s for s in build_corpus().certificates if s.layout == layout and not s.broken]
    return specs[0]


def read(path: Path, ocr: str = "auto") -> Certificate:
    return process_document(file_document(str(path), str(path), IngestLimits()), ocr,
                            ExtractLimits())


# --- the decision, on real generated PDFs -----------------------------------------------------


def test_born_digital_page_needs_no_ocr(tmp_path: Path) -> None:
    data = certificate_bytes(spec_for("kv"), "kv")
    decision = ocr_decision(*page_facts(data, 1))
    assert not decision.needed and decision.reason == ""
    # a field missing after parsing still never sends a born-digital page to OCR
    assert not ocr_decision(*page_facts(data, 1), missing=("firmware_version",)).needed


def test_image_only_pdf_needs_ocr_because_it_is_an_image(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    make_scanned(spec_for("kv"), "kv", path, "pdf", 150, 0.5, 2.0, 0.3, seed=1)
    text, images, texts, cover = page_facts(path.read_bytes(), 1)
    assert cover > 0.9 and images == 1
    decision = ocr_decision(text, images, texts, cover)
    assert decision.needed and decision.reason == "no text layer; the page is an image"


@pytest.mark.parametrize(("text", "images", "cover", "missing", "needed", "why"), [
    ("", 0, 0.0, (), True, "no characters"),
    ("(cid:12)(cid:7)(cid:9) ab", 0, 0.0, (), True, "unmappable glyphs"),
    ("\ufffd\ufffd\ufffd\ufffd ab", 0, 0.0, (), True, "unmappable glyphs"),
    ("Page 1", 1, 1.0, (), True, "characters of text over a page image"),
    ("Certificate ID: ZIG17-2383 and more text here", 1, 1.0, ("firmware_version",), True,
     "lacks firmware_version"),
    ("Certificate ID: ZIG17-2383 and more text here", 1, 0.1, ("firmware_version",), False, ""),
    ("Certificate ID: ZIG17-2383 and more text here", 1, 1.0, (), False, ""),
])
def test_decision_table(text: str, images: int, cover: float, missing: tuple[str, ...],
                        needed: bool, why: str) -> None:
    decision = ocr_decision(text, images, 1, cover, missing=missing)
    assert decision.needed is needed
    assert why in decision.reason


# --- real tesseract on generated scans --------------------------------------------------------


@needs_tesseract
@pytest.mark.parametrize(("layout", "fmt", "dpi"), [
    ("kv", "pdf", 200), ("table", "png", 200), ("multi", "tiff", 300), ("twocol", "jpeg", 200),
])
def test_scans_read_like_the_born_digital_certificate(tmp_path: Path, layout: str, fmt: str,
                                                      dpi: int) -> None:
    spec = spec_for(layout)
    scan = tmp_path / f"scan.{fmt}"
    make_scanned(spec, layout, scan, fmt, dpi, -0.8, 3.0, 0.4, seed=3)
    digital = tmp_path / "digital.pdf"
    digital.write_bytes(certificate_bytes(spec, layout))
    got, want = read(scan), read(digital)
    assert got.ok and got.text_source is TextSource.OCR
    assert want.text_source is TextSource.TEXT
    assert got.certificate_id == want.certificate_id == spec.certificate_id
    assert got.certificate_date == want.certificate_date
    assert [(x.manufacturer, x.model, x.hardware_version, x.firmware_version)
            for x in got.listings] == [
        (x.manufacturer, x.model, x.hardware_version, x.firmware_version) for x in want.listings]
    confidence = dict(got.field_confidence)
    assert confidence and all(0 <= c <= 100 for c in confidence.values())


@needs_tesseract
def test_ocr_runs_tesseract_with_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OMP_THREAD_LIMIT=1 reaches the tesseract process even when the caller set another."""
    import pytesseract

    seen = tmp_path / "env.txt"
    fake = tmp_path / "tesseract"
    header = "\\t".join(["level", "page_num", "block_num", "par_num", "line_num", "word_num",
                         "left", "top", "width", "height", "conf", "text"])
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'
        f'echo "$OMP_THREAD_LIMIT" > "{seen}"\n'
        f'printf "{header}\\n5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t50\\t20\\t96\\tZIG\\n" > "$2.tsv"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("OMP_THREAD_LIMIT", "4")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(fake))
    from PIL import Image

    image = Image.new("L", (200, 100), 255)
    image.info["dpi"] = (200, 200)
    page = extract.ocr_image(image, 1, "test", 30)
    assert seen.read_text().strip() == "1"
    assert page.text == "ZIG" and os.environ["OMP_THREAD_LIMIT"] == "1"


# --- --ocr never and a missing tesseract ------------------------------------------------------


def test_ocr_never_on_an_image_file_is_an_ocr_unavailable_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    make_scanned(spec_for("kv"), "kv", path, "png", 150, 0.5, 0.0, 0.0, seed=1)
    certificate = read(path, "never")
    assert certificate.error is not None
    assert certificate.error.reason is ErrorReason.OCR_UNAVAILABLE
    assert "--ocr never" in certificate.error.message


def test_missing_tesseract_names_the_install_command(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scan.pdf"
    make_scanned(spec_for("kv"), "kv", path, "pdf", 150, 0.5, 0.0, 0.0, seed=1)
    monkeypatch.setattr("shutil.which", lambda name: None)
    certificate = read(path)
    assert certificate.error is not None
    assert certificate.error.reason is ErrorReason.OCR_UNAVAILABLE
    assert "apt-get install tesseract-ocr" in certificate.error.message
    # --ocr never still runs: a born-digital certificate reads without tesseract
    digital = tmp_path / "digital.pdf"
    digital.write_bytes(certificate_bytes(spec_for("kv"), "kv"))
    assert read(digital, "never").ok


# --- repair only where the grammar demands hex or digits --------------------------------------


@pytest.mark.parametrize(("field", "read_as", "repaired", "noted"), [
    ("firmware_version", "0C:O3:0C:22", "0C:03:0C:22", True),
    ("firmware_version", "03:46:37: 12", "03:46:37:12", True),
    ("firmware_version", "Ox00000310", "0x00000310", True),
    ("firmware_version", "Version 1.2.S.6", "Version 1.2.5.6", True),
    ("firmware_version", "12.3 (Stack l.2.3.4)", "12.3 (Stack 1.2.3.4)", True),
    ("manufacturer", "EDMI Ltd (1O:6C)", "EDMI Ltd (10:6C)", True),
    ("model", "ES-10A (Image Type 0l:0I)", "ES-10A (Image Type 01:01)", True),
    # 0x and whole octets with two true hex characters: a body of hex letters has no digit
    ("model", "OxESDD", "0xE5DD", True),
    ("model", "AG:61", "A6:61", True),  # G for 6 on a 150-dpi JPEG scan
    ("firmware_version", "BA\u201a21:7B:CE", "BA:21:7B:CE", True),  # a low quote for a colon
    ("firmware_version", "BA\u201821:7B:CE", "BA:21:7B:CE", True),  # an opening quote
    ("firmware_version", "12,34,56:78", "12,34,56:78", False),  # one true colon: a list, left
    ("manufacturer", "Fenland Metering Company (SE:C2)", "Fenland Metering Company (5E:C2)", True),
    ("manufacturer", "Fenland (SE:CA)", "Fenland (SE:CA)", False),  # no true digit
    ("manufacturer", "Chameleon Technology (GB) Ltd", "Chameleon Technology (GB) Ltd", False),
    ("model", "OxFEF2", "0xFEF2", True),
    ("model", "OxSOS", "OxSOS", False),  # odd length: not octets
    ("firmware_version", "Version A.CO", "Version A.C0", True),  # raw hex, O for 0
    ("firmware_version", "O.O", "O.O", False),  # no true hex character
    ("model", "OxSSOO", "OxSSOO", False),  # no true hex character
    ("hardware_version", "0l_O2", "01_02", True),
    ("hardware_version", "01 _03", "01_03", True),  # a stray space beside the underscore
    ("hardware_version", "1.B", "1.8", False),  # one true digit only: left as read
    ("hardware_version", "1:2", "1.2", True),  # a one-digit number: not hex octets
    ("hardware_version", "HW 1:10", "HW 1.10", True),
    ("hardware_version", "01:02", "01:02", False),  # two-digit pairs may be hex: left as read
    ("firmware_version", "1:2", "1:2", False),  # only the hardware grammar reads it
    ("hardware_version", "Version | Revision 7", "Version 1 Revision 7", True),  # a bar for 1
    ("hardware_version", "Rev. |", "Rev. 1", True),
    ("hardware_version", "Build |A", "Build |A", False),  # a bar inside a word: left as read
    # 150-dpi JPEG scans (DEVELOPMENT seed 51): an I for the 1 after a version word, 1s of a
    # v-number read as l or i, an l in raw hex between dots before `Build String`
    ("hardware_version", "Version 6 Revision I", "Version 6 Revision 1", True),
    ("firmware_version", "vl6l", "v161", True),
    ("firmware_version", "vi93", "v193", True),
    ("firmware_version", "vl1l14", "vl1l14", False),  # five characters: not a short number
    ("firmware_version", "vIII", "vIII", False),  # no true digit
    ("firmware_version", "6.Bl", "6.B1", True),  # (`6.Bl Build String`)
    ("model", "vi93", "vi93", False),  # only the firmware grammar reads it
    # JPEG scans of the second blind probe: a bracketed 0x code, `Rey` for Rev
    ("manufacturer", "Tessaly Controls B.V. (Ox10FE)", "Tessaly Controls B.V. (0x10FE)", True),
    ("manufacturer", "Kestrel Grid Solutions (0x 10F4)", "Kestrel Grid Solutions (0x10F4)", True),
    ("manufacturer", "Oxford (OxABCD)", "Oxford (OxABCD)", False),  # no true digit
    ("hardware_version", "Rey 4", "Rev 4", True),
    ("model", "NM-3000 (Image Type OF:D4)", "NM-3000 (Image Type 0F:D4)", True),
    # ...bare after its words (born10 probe scans)
    ("model", "Beacon Hub 3 Image Type OF:7D", "Beacon Hub 3 Image Type 0F:7D", True),
    ("model", "Beacon Hub 3 Image Type OF:7DA", "Beacon Hub 3 Image Type OF:7DA", False),
    ("model", "NM-3000 (Image Type OF:DA)", "NM-3000 (Image Type OF:DA)", False),  # no digit
    ("hardware_version", "Reynolds 4", "Reynolds 4", False),
    # a 150-dpi JPEG scan (DEVELOPMENT scan-poor, seed 71): the 0 of 0x read twice
    ("model", "O0xA72C", "0xA72C", True),
    ("model", "OO0xA72C", "OO0xA72C", False),  # two stray letters: not one 0 read twice
    # scans of a tunable probe (helper-written): 0 read as O in lower-case hex, bare image
    # types, boards and releases; a 0 read twice
    ("model", "Helix ESME 2 (image type Ox0f59)", "Helix ESME 2 (image type 0x0f59)", True),
    ("model", "Oxface (image type Oxface)", "Oxface (image type Oxface)", False),  # no digit
    ("model", "Talon CH-5, Image Type OAA2", "Talon CH-5, Image Type 0AA2", True),
    ("hardware_version", "V4 RO", "V4 RO", False),  # one true digit: perhaps V4 R9, left
    ("hardware_version", "V1 R1O", "V1 R10", True),
    ("firmware_version", "RO9.772", "R09.772", True),
    ("firmware_version", "0OxD60580D7", "0xD60580D7", True),
    ("model", "Pica IHD Mini (image type 0x1 10d)", "Pica IHD Mini (image type 0x110d)", True),
    ("model", "Pica IHD Mini (image type 0x1 10)", "Pica IHD Mini (image type 0x1 10)", False),
    # free text is never touched
    ("manufacturer", "EDM! Ltd (10:6C)", "EDM! Ltd (10:6C)", False),
    ("model", "Trio Il PPMID (Image Type 00:21)", "Trio Il PPMID (Image Type 00:21)", False),
    ("manufacturer", "SOLO Metering", "SOLO Metering", False),
    # already well-formed: unchanged, and a genuinely different value stays different
    ("firmware_version", "0C:03:0C:23", "0C:03:0C:23", False),
    ("firmware_version", "0B:00:00:00", "0B:00:00:00", False),
])
def test_repair_table(field: str, read_as: str, repaired: str, noted: bool) -> None:
    value, notes = repair_value(field, read_as)
    if field == "hardware_version" and read_as == "1.B":
        assert value == read_as and not notes
        return
    assert value == repaired
    assert bool(notes) is noted
    if noted:
        assert any(part.strip("()") in notes[0] for part in (read_as.split()[-1], read_as,
                                                             " ".join(read_as.split()[:2])))


def test_certificate_id_prefix_repair_is_noted_and_leaves_numbers_alone() -> None:
    assert repair_text("Certificate ID: Z1G17-2383")[0] == "Certificate ID: ZIG17-2383"
    assert repair_text("No. ZIGI 8-0044")[0] == "No. ZIG18-0044"
    assert repair_text("Certification ID Number Z!G20-2704")[0] == (
        "Certification ID Number ZIG20-2704")
    assert repair_text("No.: 2Z1G18522SE8643")[0] == "No.: ZIG18522SE8643"  # a leader's dot
    assert repair_text("No.: 221G18-1")[0] == "No.: 221G18-1"  # a stray only before a true Z
    text, notes = repair_text("Suite 216 2018, Davis")
    assert text == "Suite 216 2018, Davis" and not notes


# --- certificate-ID linking -------------------------------------------------------------------


@pytest.mark.parametrize(("row_id", "certificates", "linked"), [
    ("ZIG17-2383", ["ZIG17-2383", "ZIG17-2384"], ["ZIG17-2383"]),
    ("zig17 2383", ["ZIG17-2383"], ["ZIG17-2383"]),  # case and separators: exact key
    ("ZIG17-2383", ["Z1G17-2383"], ["Z1G17-2383"]),  # OCR read I as 1
    ("ZIG17-2380", ["ZIG17-238O"], ["ZIG17-238O"]),  # O for 0
    ("ZIG17-2383", ["21G17-2383"], ["21G17-2383"]),
    ("ZIG17SE1376", ["ZIGITSE1376"], ["ZIGITSE1376"]),  # 17 read as IT (150-dpi JPEG)
    ("ZIG10", ["ZIG1O", "ZIG10"], ["ZIG10"]),  # exact wins
    ("ZIGIO", ["ZIG1O", "ZIG10"], []),  # two different IDs share the key: never merged
    ("ZIG17-2383", ["ZIG17-2388"], []),
    ("", ["ZIG17-2383"], []),
])
def test_link_row(row_id: str, certificates: list[str], linked: list[str]) -> None:
    scans = CertificateIndex(
        Certificate(f"scan{i}.pdf", "", text_source=TextSource.OCR, certificate_id=cid)
        for i, cid in enumerate(certificates)
    )
    row = CplRow(1, "S1", row_id, "10:6C", "01:02", "01", "02", "00:00:00:01")
    found, _ = link_row(row, scans, ConfusableKeys(scans.keys()))
    assert [c.certificate_id for c in found] == linked


def test_confusable_key() -> None:
    assert confusable_key("ZIG17-2380") == confusable_key("Z1G17 2380") == confusable_key(
        "zig17-238o")
    assert confusable_key("ZIG17-2383") != confusable_key("ZIG17-2384")


@pytest.mark.parametrize(("read_as", "repaired"), [
    ("Trio Il PPMID (Image Type 00:21)", "Trio II PPMID (Image Type 00:21)"),
    ("Solo lII (00:22)", "Solo III (00:22)"),
    ("Trio II PPMID", "Trio II PPMID"),  # already right
    ("Il Forno", "II Forno"),  # a word of I and l only is taken for a numeral: the cost is named
    ("Ill-Meter 2", "Ill-Meter 2"),  # part of a longer word: untouched
    ("Model lll", "Model lll"),  # no capital I at all: not evidence of a numeral
])
def test_roman_numerals_in_model_names(read_as: str, repaired: str) -> None:
    value, notes = repair_roman("model", read_as)
    assert value == repaired
    assert bool(notes) is (read_as != repaired)


@pytest.mark.parametrize(("read_as", "repaired"), [
    ("Gas Smart Metering Equipment (GSMB)", "Gas Smart Metering Equipment (GSME)"),
    ("Gas Smart Metering Equipment (GSME)", "Gas Smart Metering Equipment (GSME)"),
    # a known code that disagrees with the phrase is a real discrepancy, never "repaired"
    ("Gas Smart Metering Equipment (ESME)", "Gas Smart Metering Equipment (ESME)"),
    # two characters off: not a misread we can vouch for
    ("Gas Smart Metering Equipment (GXMB)", "Gas Smart Metering Equipment (GXMB)"),
    # no phrase to agree with
    ("Some Device (GSMB)", "Some Device (GSMB)"),
])
def test_device_code_agrees_with_its_phrase(read_as: str, repaired: str) -> None:
    value, notes = repair_device_type(read_as, default_device_types())
    assert value == repaired
    assert bool(notes) is (read_as != repaired)


# --- unsure values read again, enlarged (pipeline/extract/reread.py) -----------------------------


def _word(text: str, confidence: float, left: int, line: int = 1) -> OcrWord:
    return OcrWord(text, confidence, left, 100 * line, 12 * len(text), 20, (1, 1, line))


def test_unsure_runs_are_value_shaped_words_in_one_cell() -> None:
    words = [
        _word("Manufacturer:", 96, 10), _word("Corrib", 96, 300), _word("(21:53)", 16, 380),
        _word("Firmware", 95, 10, 2), _word("OF:", 23, 300, 2), _word("AA:", 23, 340, 2),
        _word("8F:34", 45, 380, 2),
        _word("signature", 20, 10, 3), _word("scrawl", 15, 130, 3),  # unsure, but no value
        _word("HW", 96, 10, 4), _word("Version", 96, 40, 4), _word("tA", 46, 300, 4),
    ]
    runs = [[w.text for w in run] for run in unsure_groups(words)]
    assert runs == [["(21:53)"], ["OF:", "AA:", "8F:34"], ["tA"]]


@pytest.mark.parametrize(("first", "again", "taken"), [
    ("(21:53)", "(21:E3)", True),
    ("DOFE", "D9:FE", True),  # a lost separator comes back
    ("tA", "1.1", True),
    ("(21:53)", "(21:53)", False),  # nothing new
    ("(21:53)", "(21:5)", False),  # a character lost
    ("(21:53)", "21E3", False),  # separators dropped
    ("9-3", "9.3", True),  # a dot blurred into a dash
    ("9.3", "9-3", False),  # a dot never becomes a dash
    ("9:3", "9.3", False),  # nor a colon a dot
])
def test_a_reread_is_taken_only_in_the_same_shape(first: str, again: str, taken: bool) -> None:
    assert _same_shape(first, again) is taken


def test_an_unsure_manufacturer_code_on_a_turned_scan_is_read_again(tmp_path: Path) -> None:
    # DEVELOPMENT family scan-turned, seed 2021: `(21:E3)` in a monospaced font on a page
    # scanned at 90 degrees was read `(21:53)` at 16% and gave a wrong MISMATCH
    plan = build_plan(2021, 8)
    document = next(d for d in plan.documents if d.file == "scan-turned_003.pdf")
    assert document.family in DEVELOPMENT
    write_document(document, tmp_path, 2021)
    path = tmp_path / document.file
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    listing = certificate.listings[0]
    assert listing.manufacturer == "Corrib Metering Ltd (21:E3)"
    evidence = dict(listing.evidence)["manufacturer"]
    assert evidence.source == "ocr" and evidence.confidence is not None
    assert "turned" in certificate.ocr_reason


def test_a_certificate_id_line_lost_by_ocr_is_found_by_a_sparse_reading(tmp_path: Path) -> None:
    # DEVELOPMENT family scan-turned, seed 31: on a page scanned upside down tesseract's psm 6
    # lost the whole `Cert. ID: ........ ZIG20SE0931` line (read `COrt`: the leaders took it),
    # so the row was NO_CERTIFICATE. With leaders painted out psm 6 reads it; the sparse
    # reading is the net for the lines it still loses, shown here with that line taken away.
    import dataclasses
    import hashlib

    from pipeline.document import _extract, _parse
    from pipeline.extract.chain import Attempt, SparseIdRetry
    from pipeline.models import Document

    plan = build_plan(31, 8)
    document = next(d for d in plan.documents if d.file == "scan-turned_004.pdf")
    assert document.family in DEVELOPMENT
    write_document(document, tmp_path, 31)
    path = tmp_path / document.file
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert certificate.ok and certificate.certificate_id == "ZIG20SE0931"

    data = path.read_bytes()
    doc = Document(path.name, str(path), hashlib.sha256(data).hexdigest(), len(data))
    extracted = _extract(doc, data, "auto", ExtractLimits())
    page = extracted.pages[0]
    lost = dataclasses.replace(page, segments=tuple(
        seg for seg in page.segments if "ZIG" not in seg.text and "Cert" not in seg.text))
    without = dataclasses.replace(extracted, pages=(lost,))
    assert not _parse(without).certificate_id
    attempt = Attempt(doc, data, without, ("certificate_id",), "auto", ExtractLimits())
    assert SparseIdRetry().applies(attempt)
    again = SparseIdRetry().read(attempt)
    assert again is not None and _parse(again).certificate_id == "ZIG20SE0931"


def test_sparse_words_fill_empty_places_and_replace_only_unsure_text() -> None:
    from pipeline.extract.ocr_layout import with_sparse_words
    from pipeline.models import PageText, Segment

    scale = 72.0 / 200
    sure = Segment("Issue Date: 10.07.2020", 100 * scale, 600 * scale, 700 * scale, 620 * scale, 95)
    garbled = Segment("Cert IDS vcccsssss LIG2ZZSEI2AL", 100 * scale, 500 * scale,
                      800 * scale, 520 * scale, 9)
    page = PageText(1, "Cert IDS vcccsssss LIG2ZZSEI2AL\nIssue Date: 10.07.2020", TextSource.OCR,
                    segments=(garbled, sure))
    sparse = [
        OcrWord("Cert.", 95, 100, 500, 60, 20, (1, 1, 1)),
        OcrWord("ID", 95, 170, 500, 30, 20, (2, 1, 1)),
        OcrWord("ZIG22SE9241", 74, 500, 500, 200, 20, (3, 1, 1)),
        OcrWord("Issue", 90, 100, 600, 60, 20, (4, 1, 1)),  # already read surely: not added
        OcrWord("~", 20, 300, 700, 10, 20, (5, 1, 1)),  # a speck
    ]
    texts = [s.text for s in with_sparse_words(page, sparse, 200).segments]
    assert "Cert IDS vcccsssss LIG2ZZSEI2AL" not in texts
    assert sure.text in texts and "ZIG22SE9241" in texts
    assert not any("Issue" in t and t != sure.text for t in texts)
    assert not any("~" in t for t in texts)


def test_dotted_leaders_are_painted_out_before_ocr_and_glyphs_stay() -> None:
    import numpy as np
    from PIL import Image, ImageDraw

    from pipeline.extract.tesseract import remove_rules

    image = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(image)
    for x in range(100, 500, 12):  # a leader: 3-px dots every 12 px (a monospaced '.....')
        draw.rectangle((x, 100, x + 2, 102), fill=0)
    draw.rectangle((600, 90, 610, 104), fill=0)  # a glyph's stem, a line high
    draw.rectangle((640, 102, 665, 104), fill=0)  # a short thin stroke: the foot of a '2'
    cleaned = np.asarray(remove_rules(image, 150))
    assert (cleaned[95:110, 95:505] < 160).sum() == 0  # the dots are gone
    assert (cleaned[90:105, 600:611] < 160).all()  # the glyph stays
    assert (cleaned[102:105, 640:666] < 160).all()  # and so does the stroke


def test_a_fuller_text_reading_keeps_the_fields_only_the_layout_reader_found(
    tmp_path: Path,
) -> None:
    """A DEVELOPMENT scan (seed 5: 150-dpi JPEG, labels above their values): the text readers
    read the date, device type and a hardware value, one field more than the layout reader, and
    taking their reading whole lost the model and firmware read under PRODUCT NAME and
    APPLICATION VERSION. Now the fuller reading's gaps are filled from the other."""
    from samples.grammar import generate

    generate(tmp_path, "scan-poor", 8, 5)
    path = tmp_path / "certs" / "scan-poor_008.jpg"
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert certificate.certificate_id == "ZIG18-4922"
    (listing,) = certificate.listings
    assert (listing.model, listing.firmware_version) == ("F3:2A", "FD:1B:64:B2")
    where = dict(listing.evidence)
    assert "PRODUCT NAME" in where["model"].rule and where["model"].source == "ocr"
    assert "APPLICATION VERSION" in where["firmware_version"].rule


@pytest.fixture(scope="module")
def turned_seed_5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DEVELOPMENT family scan-turned of seed 5, eight scans."""
    from samples.grammar import generate

    folder = tmp_path_factory.mktemp("scan-turned-5")
    generate(folder, "scan-turned", 8, 5)
    return folder / "certs"


def test_a_space_read_inside_a_hex_number_is_taken_out(turned_seed_5: Path) -> None:
    """The same family: `0x810E6BF2` read `0x8 10E6BF2`, UNVERIFIABLE; the two parts make four
    octets again."""
    path = turned_seed_5 / "scan-turned_001.pdf"
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert certificate.listings[0].firmware_version == "0x810E6BF2"
    assert "firmware_version '0x8 10E6BF2' read as '0x810E6BF2'" in certificate.ocr_reason
    assert repair_value("model", "CH-7233 (Image Type 1 4:D7)")[0] == "CH-7233 (Image Type 14:D7)"
    assert repair_value("firmware_version", "0x12 345")[0] == "0x12 345"  # 5 digits: as read


def test_a_label_whose_value_tesseract_lost_has_it_read_where_it_should_stand(
    turned_seed_5: Path,
) -> None:
    """A DEVELOPMENT scan (seed 5, turned 270 degrees, tinted): psm 6 read `Hardware Revision`
    and nothing under it, where `7.6` stands in Courier on grey; read enlarged as it was it
    came out `726` at 31%, binarized at the crop's own threshold `7.6` at 85%."""
    path = turned_seed_5 / "scan-turned_005.pdf"
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert certificate.certificate_id == "ZIG17628SE0657"
    (listing,) = certificate.listings
    assert listing.hardware_version == "7.6"
    assert dict(listing.evidence)["hardware_version"].rule.startswith("label 'Hardware Revision'")



def test_a_line_of_specks_alone_is_no_line() -> None:
    """Two lone strokes far apart on one line are both specks: the line has no cell left, and
    it is dropped (it was kept empty, and the empty-label search took its last cell: an
    IndexError that made two DEVELOPMENT scans of seed 17 ERROR rows)."""
    words = [_word("Model:", 96, 10), _word("U6-Z", 96, 300),
             _word("a", 90, 10, 2), _word("i", 90, 900, 2)]
    assert [[[w.text for w in cell] for cell in line] for line in ocr_lines(words)] == [
        [["Model:"], ["U6-Z"]]]


def test_poor_scans_whose_specks_made_an_empty_line_are_read(tmp_path: Path) -> None:
    """The DEVELOPMENT scans behind that error (seed 17, 150 dpi JPEG on cream, skewed)."""
    from samples.grammar import generate

    generate(tmp_path, "scan-poor", 8, 17)
    for name, certificate_id in (("scan-poor_002.pdf", "ZIG17187SE9435"),
                                 ("scan-poor_007.pdf", "ZIG22-1130")):
        path = tmp_path / "certs" / name
        certificate = process_document(file_document(str(path), str(path), IngestLimits()),
                                       "auto", ExtractLimits())
        assert certificate.error is None
        assert certificate.certificate_id == certificate_id
        assert len(certificate.listings) == 1


def test_a_bar_after_a_version_word_is_kept_for_the_repair(tmp_path: Path) -> None:
    """A DEVELOPMENT scan (scan-poor, seed 5: 150 dpi JPEG, Times): `Version 1 Revision 7` was
    read `Version | Revision 7`; the bar, a speck anywhere else, was dropped and the hardware
    version was UNVERIFIABLE. After a version word it is kept, and read as 1 with a note."""
    words = [_word("Version", 96, 10), _word("|", 80, 100), _word("Revision", 94, 130),
             _word("|", 89, 10, 2), _word("Hardware", 96, 10, 3), _word("Version", 96, 100, 3),
             _word("|", 80, 180, 3), _word("1.2", 96, 200, 3)]
    assert [[w.text for c in line for w in c] for line in ocr_lines(words)] == [
        ["Version", "|", "Revision"], ["Hardware", "Version", "1.2"]]  # a rule's remnant: out
    from samples.grammar import generate

    generate(tmp_path, "scan-poor", 8, 5)
    path = tmp_path / "certs" / "scan-poor_008.jpg"
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert certificate.listings[0].hardware_version == "Version 1 Revision 7"
    assert "hardware_version 'Version |' read as 'Version 1'" in certificate.ocr_reason


def test_unsure_values_of_a_turned_scan_are_read_again_binarized_and_kept_when_confirmed(
    tmp_path: Path,
) -> None:
    """DEVELOPMENT scans (scan-turned, seed 17): `04_02` was read `04` `_02` at 29%, confirmed
    enlarged as `04_02` at 86%, but the first words were kept and the unsure `04` dropped as a
    speck (hardware MISSING); `9.3` in Courier was read `9-3` at 35%, and only binarized
    (95%) does it read right (UNVERIFIABLE)."""
    from samples.grammar import generate

    generate(tmp_path, "scan-turned", 8, 17)
    for name, hardware in (("scan-turned_002.pdf", "04_02"), ("scan-turned_003.pdf", "9.3")):
        path = tmp_path / "certs" / name
        certificate = process_document(file_document(str(path), str(path), IngestLimits()),
                                       "auto", ExtractLimits())
        assert certificate.listings[0].hardware_version == hardware
        assert dict(certificate.listings[0].evidence)["hardware_version"].source == "ocr"


def test_a_speck_far_shorter_than_its_line_is_no_value() -> None:
    """A speck 1.5 pt high right of `FW Version` (7 pt) was read `5` at 81%, a sure digit, and
    taken as the firmware version over the value under the label (a wrong FAIL)."""
    speck = dataclasses.replace(_word("5", 81, 300), top=110, height=4, width=3)
    small = dataclasses.replace(_word("x", 90, 50, 2), top=206, height=11)  # an x-height letter
    words = [_word("FW", 95, 10), _word("Version", 95, 40), speck,
             _word("Rev", 95, 10, 2), small, _word("7", 95, 10, 3)]
    assert [[w.text for c in line for w in c] for line in ocr_lines(words)] == [
        ["FW", "Version"], ["Rev", "x"], ["7"]]


def test_poor_scans_keep_the_value_under_a_label_and_beside_a_leader(tmp_path: Path) -> None:
    """DEVELOPMENT scans (scan-poor, seed 23: 150 dpi JPEG): a speck read `5` or `2` right of
    `FW Version` / `Software Version` took the place of the firmware under it; `1.9` after a
    dotted leader in Courier was read `9:` at 44% and its label was not seen as empty (the next
    label, two line heights under, was taken for its value); the ID was read `2Z1G18522SE8643`,
    a leader's dot glued on before it."""
    from samples.grammar import generate

    generate(tmp_path, "scan-poor", 8, 23)
    for name, field, value in (("scan-poor_002.pdf", "firmware_version", "EF:94:E2:7C"),
                               ("scan-poor_004.pdf", "firmware_version", "76:60:A7:F7"),
                               ("scan-poor_007.jpg", "hardware_version", "1.9")):
        path = tmp_path / "certs" / name
        certificate = process_document(file_document(str(path), str(path), IngestLimits()),
                                       "auto", ExtractLimits())
        assert getattr(certificate.listings[0], field) == value
        assert dict(certificate.listings[0].evidence)[field].source == "ocr"
    assert certificate.certificate_id == "ZIG18522SE8643"
    assert "certificate_id '2Z1G18' read as 'ZIG18'" in certificate.ocr_reason


def test_a_digit_close_after_a_version_word_is_its_number_though_read_unsurely() -> None:
    """`Version 2 Revision 1` on a turned 200-dpi scan (DEVELOPMENT seed 41): tesseract read
    the `1` at 70%, under the one-character floor, and the hardware version lost its number.
    A digit as unsure far from a version word, or a speck-sized one beside it, stays noise."""
    def line(*words: OcrWord) -> list[str]:
        return [w.text for cells in ocr_lines(list(words)) for cell in cells for w in cell]

    version = _word("Revision", 96, 100)  # 96 px wide, 20 high
    assert line(version, _word("1", 70, 205)) == ["Revision", "1"]
    assert line(version, _word("1", 50, 205)) == ["Revision"]  # too unsure
    assert line(_word("Hardware", 96, 100), _word("1", 70, 205)) == ["Hardware"]  # no version word
    assert line(version, dataclasses.replace(_word("1", 70, 205), height=8)) == ["Revision"]
    assert line(version, _word("1", 70, 260)) == ["Revision"]  # far after it


def test_the_slope_of_a_skewed_page_comes_from_tesseracts_long_lines() -> None:
    from pipeline.extract.ocr_layout import line_slope

    def line(number: int, top: float, slope: float) -> list[OcrWord]:
        return [OcrWord("Word", 95, x, round(top + slope * x), 60, 20, (1, 1, number))
                for x in range(100, 2100, 200)]

    tilted = [w for n in range(5) for w in line(n, 200 + 100 * n, 0.0175)]  # one degree
    assert line_slope(tilted) == pytest.approx(0.0175, abs=0.001)
    assert line_slope([w for n in range(5) for w in line(n, 200 + 100 * n, 0.001)]) == 0.0
    assert line_slope(line(0, 200, 0.0175)) == 0.0  # one line does not show the page's slope


def test_a_wide_table_scanned_a_degree_askew_is_read_row_by_row(tmp_path: Path) -> None:
    """A landscape schedule scanned at 200 dpi turned by 1.2 degrees: the cells of one row
    stand 12 pt apart from one end of the page to the other, and tesseract split each row
    into two lines; read as if straight (the page's slope from tesseract's own long lines),
    every row is a listing again. Before: one listing of five (second blind probe)."""
    import io

    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=landscape(A4), invariant=True)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(70, 520, "Schedule to certificate ZIG21121SE1002")
    rows = [("Product", "Supplier", "Software Image", "HW Issue", "Device Class"),
            ("Halo IHD 4 (Image Type 1F:60)", "Kestrel Grid Solutions", "0x7A574D25", "HW 4",
             "IHD"),
            ("NM-3000 (Image Type 0F:D4)", "Zephyr Devices Srl", "0x0000C6F7", "HW 5", "ESME"),
            ("BriteView 3 (Image Type 0C:16)", "Tarn Valley Electronics", "R23.2", "HW 6", "GSME")]
    for n, row in enumerate(rows):
        for x, cell in zip((70, 270, 440, 600, 690), row, strict=True):
            canvas.drawString(x, 480 - 24 * n, cell)
    canvas.save()
    page = pdfium.PdfDocument(buffer.getvalue())[0]
    image = page.render(scale=200 / 72).to_pil().convert("L").rotate(
        1.2, fillcolor=255, resample=3)
    path = tmp_path / "askew.png"
    image.save(path, dpi=(200, 200))
    certificate = process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                                   ExtractLimits())
    assert [(li.manufacturer, li.hardware_version) for li in certificate.listings] == [
        ("Kestrel Grid Solutions", "HW 4"), ("Zephyr Devices Srl", "HW 5"),
        ("Tarn Valley Electronics", "HW 6")]


def test_leader_dots_read_as_words_are_no_value() -> None:
    """A dotted leader on a 150-dpi JPEG scan (DEVELOPMENT scan-poor, seed 71) was read as
    lower-case words in boxes 3-4 px high on lines 16-19 px high (`canes` at 0%, `sees` at 50%):
    the manufacturer came out `canes Chameleon Technology`. A short word with a capital or a
    digit is kept, and so is a lower-case word of x-height."""
    def at(text: str, conf: float, left: int, line: int, height: int) -> OcrWord:
        return OcrWord(text, conf, left, 100 * line + 20 - height, 12 * len(text), height,
                       (1, 1, line))
    words = [at("Applicant:", 80, 10, 1, 20), at("canes", 0, 150, 1, 4),
             at("Chameleon", 86, 220, 1, 16), at("Technology", 57, 340, 1, 19),
             at("HW", 95, 10, 2, 16), at("Version", 72, 50, 2, 16), at("sepesnsas", 0, 150, 2, 4),
             at("0402", 68, 260, 2, 18),
             at("Model", 95, 10, 3, 16), at("use", 90, 100, 3, 9), at("0x1A", 60, 200, 3, 4)]
    assert [[w.text for c in line for w in c] for line in ocr_lines(words)] == [
        ["Applicant:", "Chameleon", "Technology"], ["HW", "Version", "0402"],
        ["Model", "use", "0x1A"]]


def test_a_label_read_unsurely_is_no_stamp_and_a_split_hex_prefix_no_speck() -> None:
    """The same scans: `Model` read at 12% was dropped as a stamp's junk (its value became the
    manufacturer's wrap), and `Ox` at 2%, split from `EFA`, as a speck (the model became the
    label's closing quote mark)."""
    words = [_word("Model", 12, 10), _word("Ox81DO", 66, 300),
             _word("Model", 95, 10, 2), _word("Identification", 48, 80, 2),
             _word("Ox", 2, 300, 2), _word("EFA", 2, 330, 2),
             _word("scrawl", 12, 10, 3), _word("Manufacturer:", 95, 300, 3)]
    assert [[[w.text for w in c] for c in line] for line in ocr_lines(words)] == [
        [["Model"], ["Ox81DO"]], [["Model", "Identification"], ["Ox", "EFA"]],
        [["Manufacturer:"]]]


def test_a_short_first_word_far_from_the_rest_of_its_label_stays_with_it() -> None:
    """`FW` stood 37 px from `Version:` on a turned 200-dpi scan in Times (DEVELOPMENT
    scan-turned, seed 71): a cell of its own, it was dropped as a speck and the firmware's label
    read as `Version:`, which names no field. A short word that begins no label is still a speck."""
    words = [_word("FW", 96, 10), _word("Version:", 55, 60), _word("1.2.4.4", 96, 400),
             _word("OK", 96, 10, 2), _word("Version:", 55, 60, 2)]
    assert [[[w.text for w in c] for c in line] for line in ocr_lines(words)] == [
        [["FW", "Version:"], ["1.2.4.4"]], [["Version:"]]]


def test_a_header_printed_white_on_a_dark_band_is_read(tmp_path: Path) -> None:
    """A scanned table whose header row is white on dark blue (a tunable probe written by a
    helper session): tesseract read the band as `VETV esis`, the rule remover painted its long
    dark runs out with the words, and no table was found. The band is turned dark on light."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(60, 780, "ZigBee Smart Energy Certificate No. ZSE-22-31907")
    canvas.setFillColorRGB(0.1, 0.15, 0.35)
    canvas.rect(55, 700, 480, 18, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    xs = (60, 200, 330, 430)
    for x, word in zip(xs, ("Manufacturer", "Model", "Hardware", "Firmware"), strict=True):
        canvas.drawString(x, 705, word)
    canvas.setFillColorRGB(0, 0, 0)
    rows = (("Penhallow Wireless Ltd", "Kestrel 3PH E1", "V4 R12", "D9:62:4E:4B"),
            ("Penhallow Wireless Ltd", "Talon CH-5 X2", "Rev C", "15.7.2"))
    for n, row in enumerate(rows):
        for x, cell in zip(xs, row, strict=True):
            canvas.drawString(x, 680 - 20 * n, cell)
    canvas.save()
    certificate = _read_as_scan(tmp_path / "band.png", buffer.getvalue())
    assert [(li.model, li.hardware_version, li.firmware_version)
            for li in certificate.listings] == [("Kestrel 3PH E1", "V4 R12", "D9:62:4E:4B"),
                                                ("Talon CH-5 X2", "Rev C", "15.7.2")]


@needs_tesseract
def test_a_narrow_table_scanned_has_its_cells_split_where_its_columns_start(
        tmp_path: Path) -> None:
    """A table of narrow columns scanned at 200 dpi: tesseract's gap between two columns is no
    wider than between words, so `Firmware / Software` ran into `Hardware` and `(Image Type`
    into `Release 5.84 (Stack` (born10 probe, table01). Under a header naming device fields,
    cells split where the words of other lines show a column starts. Running text under no
    header stays whole."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(51, 780, "Zigbee Smart Energy Certificate")
    canvas.drawString(51, 760, "Cert. Ref: ZIG37656SE1478")
    canvas.setFont("Helvetica", 8)
    for x, y, text in ((55, 540, "No."), (77, 540, "Manufacturer"), (151, 540, "Model"),
                       (195, 540, "Firmware / Software"), (278, 540, "Hardware"),
                       (92, 530, "Name"), (137, 530, "Identification"), (217, 530, "Version"),
                       (281, 520, "Version"),
                       (55, 506, "1"), (75, 506, "Thornbury"), (136, 506, "TopUp Panel"),
                       (194, 506, "SMETS2 Application"), (276, 506, "Version 4"),
                       (75, 496, "Instruments"), (136, 496, "Q (Image Type"),
                       (194, 496, "Release 5.84 (Stack"), (277, 496, "Revision 6"),
                       (75, 486, "UK Ltd"), (136, 486, "1F:B6)"), (194, 486, "3.48)")):
        canvas.drawString(x, y, text)
    canvas.save()
    certificate = _read_as_scan(tmp_path / "narrow.png", buffer.getvalue())
    assert certificate.certificate_id == "ZIG37656SE1478"
    [listing] = certificate.listings
    assert (listing.manufacturer, listing.hardware_version, listing.firmware_version) == (
        "Thornbury Instruments UK Ltd", "Version 4 Revision 6",
        "SMETS2 Application Release 5.84 (Stack 3.48)")
    assert listing.model.endswith("(Image Type 1F:B6)")


def _read_as_scan(path: Path, pdf: bytes) -> Certificate:
    """The PDF's first page rendered at 200 dpi in grey, saved as an image and read (OCR)."""
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().convert("L")
    image.save(path, dpi=(200, 200))
    return process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                            ExtractLimits())
