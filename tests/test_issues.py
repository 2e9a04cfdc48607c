"""One regression test per bug, named after it, on the smallest input that shows it
(the pdfplumber convention). Issue numbers are the project's issues."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline import __version__
from pipeline.cli import main
from pipeline.document import process_document
from pipeline.extract import tesseract_available
from pipeline.ingest import IngestLimits, file_document
from pipeline.models import Certificate, ExtractLimits
from pipeline.parse import load_field_rules
from pipeline.textreaders import read_label_lines, read_prose
from samples.grammar import Scan, build_plan, generate, write_document

from conftest import CORPUS, ROOT, SAMPLES, read_csv

RULES = load_field_rules()


def test_issue_11_9_words_run_together_in_prose_are_not_a_crash() -> None:
    """A German compound (`Hardwareversion`) matched the prose pattern, whose words may run
    together, but its key was looked up with a space: KeyError, shown as ERROR UNREADABLE."""
    found = read_prose("Das Gerät hat die Hardwareversion 1.2 und läuft.", RULES)
    assert ("hardware_version", "1.2") in [(f, v.split()[0]) for f, v in found]


def test_issue_11_9_labels_written_without_spaces_find_their_field() -> None:
    pairs = read_label_lines("Hardwareversion: 03_03", RULES)
    assert [f for f, _ in pairs] == ["hardware_version"]


def test_issue_10_version_is_printed_not_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"cplrecon {__version__}"


def test_issue_10_out_naming_a_file_is_a_usage_error(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "out.txt"
    taken.write_text("not a folder")
    code = main(["reconcile", "--certs", str(CORPUS), "--cpl", str(SAMPLES / "cpl_submission.csv"),
                 "--out", str(taken), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "is a file; give a folder" in err and "Traceback" not in err
    assert taken.read_text() == "not a folder"


def test_issue_10_ctrl_c_is_one_line_exit_130_and_keeps_the_outputs(tmp_path: Path) -> None:
    """A real SIGINT to a real run over scans (OCR keeps it busy for several seconds)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("{}")
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(SAMPLES / "scanned"),
               "--cpl", str(SAMPLES / "cpl_submission.csv"), "--out", str(out), "--no-cache",
               "--workers", "1", "--quiet"]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert err.strip().splitlines() == ["cplrecon: interrupted; outputs already in place are unchanged"]
    assert (out / "run.json").read_text() == "{}"
    # Crops the workers made before the interrupt stay, like the cache: content-addressed and
    # whole (written through temp files), the next run reuses them; no other output changed.
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".cplrecon-cache")
                  and p.name != "evidence") == ["run.json"]
    from PIL import Image

    for crop in (out / "evidence").glob("*.png"):
        with Image.open(crop) as png:
            png.verify()


def _reconcile(certs: Path, out: Path, *extra: str) -> int:
    return main(["reconcile", "--certs", str(certs), "--cpl", str(SAMPLES / "cpl_submission.csv"),
                 "--out", str(out), "--no-cache", "--quiet", *extra])


def test_issue_10_a_bug_is_a_traceback_not_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ValueError was exit 2, "bad usage": a bug in the code read as the user's fault."""
    import pipeline.run.runner as runner

    def broken(*_: object, **__: object) -> None:
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(runner, "reconcile_rows", broken)
    with pytest.raises(ValueError, match="a bug"):
        _reconcile(CORPUS, tmp_path / "out")


@pytest.mark.parametrize("bad", ["registry", "batch"])
def test_issue_10_input_errors_stay_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    if bad == "registry":
        registry = tmp_path / "makers.csv"
        registry.write_text("code,name\nZZ:ZZ,Nobody Ltd\n")
        code = _reconcile(CORPUS, tmp_path / "out", "--manufacturers", str(registry))
    else:
        batch = tmp_path / "batch.csv"
        batch.write_text("value,kind\n12.3,firmware_version\n")
        code = main(["explain", "--batch", str(batch)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ("ZZ:ZZ" in err) if bad == "registry" else ("needs columns text,field" in err)


def test_issue_10_missing_tesseract_says_ocr_is_off_and_for_how_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console said only "6 unreadable"; it says OCR is off, why, and for how many."""
    certs = tmp_path / "certs"
    certs.mkdir()
    scans = sorted((SAMPLES / "scanned").glob("scan_00[14]_*"))  # a scanned PDF and a PNG
    for scan in scans:
        (certs / scan.name).write_bytes(scan.read_bytes())
    (certs / "digital.pdf").write_bytes(sorted(CORPUS.glob("*.pdf"))[0].read_bytes())
    monkeypatch.setenv("PATH", str(tmp_path / "no-tesseract-here"))
    assert _reconcile(certs, tmp_path / "out", "--workers", "1", "--timeout", "0") == 0
    err = capsys.readouterr().err
    assert (f"OCR is off because tesseract is not installed: {len(scans)} document(s) needed it"
            in err), err
    assert "apt-get install tesseract-ocr" in err


def test_issue_12_a_manufacturer_with_a_plus_in_prose_has_its_provenance() -> None:
    """`manufactured by Landis+Gyr Limited (10:63)`: the reader's prose grammar stopped at the
    `+`, so the text readers' result (no provenance at all) won for the whole document."""
    from pipeline.document import process_document
    from pipeline.extract import ExtractLimits
    from pipeline.ingest import discover

    (document,), _ = discover([str(CORPUS / "cert_0005_prose.pdf")])
    certificate = process_document(document, "never", ExtractLimits())
    (listing,) = certificate.listings
    assert listing.manufacturer == "Landis+Gyr Limited (10:63)"
    boxes = dict(listing.evidence)
    assert set(boxes) == {"manufacturer", "model", "hardware_version", "firmware_version"}
    assert boxes["manufacturer"].rule == "prose cue 'manufactured by' + manufacturer grammar"
    assert {name for name, _ in certificate.evidence} == {
        "certificate_id", "certificate_date", "device_type"}


# --------------------------------------------------------------------------- issue 11, by class
# Each test reads the smallest document of a DEVELOPMENT family of samples/grammar.py that
# shows the class (one certificate, seed 7), generated at test time.

GRAMMAR_SEED = 7
needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract not installed")


def grammar_document(folder: Path, family: str, index: int = 0, per_family: int = 1,
                     seed: int = GRAMMAR_SEED, **scan: Any) -> tuple[Path, list[dict[str, Any]]]:
    """One document of a grammar family written into `folder` (its scan changed by `scan`),
    and the truth of the certificates it holds."""
    plan = build_plan(seed, per_family)
    document = [d for d in plan.documents if d.family == family][index]
    if scan and document.scan is None:  # a born-digital family, scanned
        stem = document.file.rsplit(".", 1)[0]
        document = dataclasses.replace(document, scan=Scan(**scan), file=f"{stem}.{scan['fmt']}")
    elif scan:
        document = dataclasses.replace(document, scan=dataclasses.replace(document.scan, **scan))
    _, certificates = write_document(document, folder, seed)
    return folder / document.file, certificates


def read(path: Path) -> Certificate:
    return process_document(file_document(path.name, str(path), IngestLimits()), "auto",
                            ExtractLimits())


def printed(truth: dict[str, Any], field: str, listing: int = 0) -> str:
    return str(truth["listings"][listing][field])


@needs_tesseract
@pytest.mark.parametrize("rotation", [90, 180])
def test_issue_11_5_turned_scans_are_read_upright(tmp_path: Path, rotation: int) -> None:
    """A scan turned 90 or 180 degrees gave NO_FIELDS: tesseract's OSD names the turn, the page
    is read again turned upright, and the turn is recorded in ocr_reason."""
    path, (truth,) = grammar_document(tmp_path, "scan-turned", rotation=rotation)
    certificate = read(path)
    assert certificate.error is None
    assert certificate.certificate_id == truth["certificate_id"]
    assert f"turned {(360 - rotation) % 360} degrees clockwise" in certificate.ocr_reason
    assert certificate.listings[0].hardware_version == printed(truth, "hardware_version")


@needs_tesseract
def test_issue_11_5_a_turn_osd_misjudges_is_found_by_trying_the_others(tmp_path: Path) -> None:
    """A sheet turned 90 degrees that OSD took for one needing 90 more (orientation confidence
    1.06): when OSD's turn does not read well, the other turns are tried."""
    path, (truth,) = grammar_document(tmp_path, "scan-turned", index=7, per_family=8, seed=2021)
    certificate = read(path)
    assert certificate.certificate_id == truth["certificate_id"]
    assert "turned 270 degrees clockwise (tried each turn: OSD said 90)" in certificate.ocr_reason


def _tessdata_with(folder: Path, *languages: str) -> Path:
    """A tessdata folder holding only `languages` of the installed ones (links)."""
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                            check=True).stdout.splitlines()[0]
    installed = Path(listed.split('"')[1])
    folder.mkdir()
    for language in languages:
        (folder / f"{language}.traineddata").symlink_to(installed / f"{language}.traineddata")
    return folder


@needs_tesseract
def test_issue_11_5_without_osd_data_each_turn_is_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without tesseract's osd data OSD cannot tell (as on a sparse page, "Too few
    characters"): the turns are tried and the best reading kept. Its failure was reported as
    ERROR TIMEOUT (pytesseract's TesseractError is a RuntimeError, which meant a timeout)."""
    monkeypatch.setenv("TESSDATA_PREFIX", str(_tessdata_with(tmp_path / "tessdata", "eng")))
    path, (truth,) = grammar_document(tmp_path, "scan-turned")  # turned 180 degrees
    certificate = read(path)
    assert certificate.error is None
    assert certificate.certificate_id == truth["certificate_id"]
    assert "turned 180 degrees clockwise (tried each turn: OSD could not tell)" in (
        certificate.ocr_reason)


@needs_tesseract
def test_issue_11_9_a_tesseract_failure_is_not_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSDATA_PREFIX", str(_tessdata_with(tmp_path / "tessdata")))
    path, _ = grammar_document(tmp_path, "scan-turned")
    error = read(path).error
    assert error is not None and error.reason.name == "UNREADABLE", error
    assert "tesseract failed" in error.message


def test_issue_11_10_a_label_line_under_a_label_without_value_is_not_its_value() -> None:
    """`HW Version` printed with no value over `FW Version  6.4E Build String`: the text
    reader took the firmware line as the hardware version."""
    text = "Model Identification  7F:32\nHW Version\nFW Version  6.4E Build String"
    assert read_label_lines(text, RULES) == [("model", "7F:32"),
                                             ("firmware_version", "6.4E Build String")]


@needs_tesseract
def test_issue_11_10_short_value_cells_are_kept(tmp_path: Path) -> None:
    """OCR dropped every lone cell of 1-2 characters as a speck: firmware `v1` right of its
    label came out MISSING. A short cell with a digit, or right of a label, is a value."""
    path, (truth,) = grammar_document(tmp_path, "kv-sparse", index=3, per_family=6,
                                      fmt="png", dpi=200, rotation=0, skew=0.3, quality=75,
                                      noise=3.0, blur=0.4)
    assert printed(truth, "firmware_version") == "v1"
    certificate = read(path)
    assert certificate.listings[0].firmware_version == "v1"  # not `v1` + the next line's value


@needs_tesseract
@pytest.mark.parametrize(("seed", "per_family", "field", "value"), [
    (GRAMMAR_SEED, 4, "hardware_version", "1.4"),  # read `14` at 93%: the dot was lost
    (2021, 8, "firmware_version", "v41"),  # read `v4` at 45%, then dropped as a speck
])
def test_issue_11_8_a_short_value_is_read_again_enlarged(
    tmp_path: Path, seed: int, per_family: int, field: str, value: str,
) -> None:
    """150-dpi JPEG scans lose what is small. A short value beside its label (or first on its
    line) is read again from its box at twice the size, where the dot or digit shows."""
    path, (truth,) = grammar_document(tmp_path, "scan-poor", index=3, per_family=per_family,
                                      seed=seed)
    assert printed(truth, field) == value
    assert getattr(read(path).listings[0], field) == value


def test_issue_11_8_hardware_read_as_bare_digits_is_set_aside() -> None:
    """When even the enlarged reading shows no separator, `14` is not compared (a wrong FAIL
    against 01_04): it is set aside with a note, and the row goes to REVIEW."""
    from pipeline.models import DeviceListing
    from pipeline.ocrfix import repair_certificate

    read_as = Certificate(file="scan.jpg", sha256="", listings=(
        DeviceListing(manufacturer="Landis+Gyr Ltd (10:63)", model="34:D8", hardware_version="14",
                      firmware_version="v183"),
        DeviceListing(manufacturer="Landis+Gyr Ltd (10:63)", model="34:D9",
                      hardware_version="01_04", firmware_version="v183")))
    repaired, notes = repair_certificate(read_as)
    assert [x.hardware_version for x in repaired.listings] == ["", "01_04"]
    assert notes == ["hardware_version '14' not used: read without its separator (7.3 as 73?)"]

STATUS_COLUMNS = ("overall_status", "manufacturer_identifier_status", "model_identifier_status",
                  "hardware_version_status", "firmware_version_status")


@dataclasses.dataclass
class Reconciled:
    truth: dict[str, Any]
    expected: list[dict[str, str]]
    got: list[dict[str, str]]
    certificates: list[dict[str, str]]

    def verdicts(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """(expected, got) statuses per CPL row, in row order."""
        got = {r["submission_row"]: r for r in self.got}
        return ([tuple(e[c] for c in STATUS_COLUMNS) for e in self.expected],
                [tuple(got.get(e["submission_row"], {}).get(c, "") for c in STATUS_COLUMNS)
                 for e in self.expected])


def reconciled(folder: Path, family: str, seed: int = GRAMMAR_SEED, **scan: Any) -> Reconciled:
    """One certificate of a grammar family (its CPL rows, registry and expected verdicts)
    through the real CLI; `scan` replaces the document by a scan (as a PDF, same name)."""
    import json

    generate(folder, family, per_family=1, seed=seed)
    if scan:
        (document,) = [d for d in build_plan(seed, 1).documents if d.family == family]
        write_document(dataclasses.replace(document, scan=Scan(fmt="pdf", **scan)),
                       folder / "certs", seed)
    code = main(["reconcile", "--certs", str(folder / "certs"),
                 "--cpl", str(folder / "cpl_submission.csv"),
                 "--manufacturers", str(folder / "manufacturers.csv"),
                 "--out", str(folder / "out"), "--no-cache", "--quiet", "--workers", "1"])
    assert code == 0
    return Reconciled(json.loads((folder / "truth.json").read_text(encoding="utf-8")),
                      read_csv(folder / "expected.csv"),
                      read_csv(folder / "out" / "reconciliation.csv"),
                      read_csv(folder / "out" / "certificates.csv"))


def test_issue_11_1_fields_above_a_table_belong_to_every_listing(tmp_path: Path) -> None:
    """`Manufacturer: ...` once above a device table: every listing's manufacturer was
    MISSING."""
    run = reconciled(tmp_path, "shared-header-table")
    (certificate,) = run.certificates
    assert int(certificate["listings"]) == len(run.truth["certificates"][0]["listings"]) > 1
    assert all(row["manufacturer_identifier_status"] != "MISSING" for row in run.got)
    want, got = run.verdicts()
    assert got == want


def test_issue_11_2_prose_in_other_words(tmp_path: Path) -> None:
    """A sentence (`... manufactured by ..., hardware version ...`) in place of labels: model
    and manufacturer were MISSING."""
    run = reconciled(tmp_path, "prose-parts")
    assert run.truth["certificates"][0]["arrangement"] == "prose"
    assert run.certificates[0]["layout"] == "prose"
    want, got = run.verdicts()
    assert got == want


def test_issue_11_3_manufacturer_codes_spelled_in_other_ways(tmp_path: Path) -> None:
    """The manufacturer code on a row of its own (`21 E3`), hex spelled `1F C6`: the
    manufacturer was UNVERIFIABLE."""
    run = reconciled(tmp_path, "mfr-code-spellings")
    (truth,) = run.truth["certificates"]
    assert truth["code_row"] and truth["listings"][0]["form"]["model"] == "spelled"
    want, got = run.verdicts()
    assert got == want


@pytest.mark.parametrize("family", ["bilingual-fr", "stacked-es"])
def test_issue_11_4_a_translated_label_is_not_a_value(tmp_path: Path, family: str) -> None:
    """`Certificate No. / N° de certificat`, or `N.º de certificado` stacked under the English
    label: the certificate ID was read as `de`, so the row was NO_CERTIFICATE."""
    run = reconciled(tmp_path, family)
    assert run.certificates[0]["certificate_id"] == run.truth["certificates"][0]["certificate_id"]
    want, got = run.verdicts()
    assert got == want


def test_issue_11_6_a_bundle_is_two_certificates(tmp_path: Path) -> None:
    """Two certificates in one PDF were merged into one with two listings (a wrong FAIL), and
    the second ID was never found. Each is a row of certificates.csv with its page range."""
    run = reconciled(tmp_path, "bundle")
    assert [(c["certificate_id"], c["certificate_pages"]) for c in run.certificates] == [
        (t["certificate_id"], t["certificate_pages"]) for t in run.truth["certificates"]]
    want, got = run.verdicts()
    assert got == want


def test_issue_11_6_a_cover_letter_is_not_the_certificate(tmp_path: Path) -> None:
    """A cover letter before the certificate, and a letter alone naming a pending certificate:
    every document is listed, the letter alone gives NO_CERTIFICATE, not invented fields."""
    run = reconciled(tmp_path, "cover-letter")
    listed = {Path(c["certificate_file"]).name for c in run.certificates}
    assert listed == {d["file"] for d in run.truth["documents"]}
    want, got = run.verdicts()
    assert got == want


def test_issue_11_7_a_wrapped_value_is_read_whole(tmp_path: Path) -> None:
    """A long value wrapped in a narrow cell: only its first line was read
    (`Osprey Display 1 (Image Type` gave UNVERIFIABLE)."""
    run = reconciled(tmp_path, "wrapped-cells")
    assert run.truth["certificates"][0]["look"]["wrap_ratio"] > 0
    model = run.truth["certificates"][0]["listings"][0]["model"]
    assert run.certificates[0]["model"] == model
    want, got = run.verdicts()
    assert got == want


@needs_tesseract
def test_issue_11_8_a_poor_tinted_scan_reads_like_the_certificate(tmp_path: Path) -> None:
    """150 dpi, JPEG quality 30-40, tinted paper: fields were lost or misread, and a tinted
    certificate became ERROR UNREADABLE (class 9)."""
    run = reconciled(tmp_path, "scan-poor")
    assert run.certificates[0]["status"] == "OK"
    want, got = run.verdicts()
    assert got == want


@pytest.mark.parametrize("scanned", [False, pytest.param(True, marks=needs_tesseract)])
def test_issue_11_10_a_value_never_comes_from_another_fields_line(tmp_path: Path,
                                                                  scanned: bool) -> None:
    """The hardware label printed with no value, the firmware line right under it: hardware
    must be MISSING, not `Software Version 0B:84:2F:C5` (seen on a scan)."""
    scan = {"dpi": 200, "rotation": 0, "skew": 0.4, "quality": 60, "noise": 4.0, "blur": 0.5}
    run = reconciled(tmp_path, "kv-sparse", seed=5, **(scan if scanned else {}))
    assert run.certificates[0]["text_source"] == ("ocr" if scanned else "text")
    assert run.truth["certificates"][0]["blank"] == ["hardware_version"]
    assert run.certificates[0]["hardware_version"] == ""
    assert run.certificates[0]["firmware_version"] == (
        run.truth["certificates"][0]["listings"][0]["firmware_version"])
    want, got = run.verdicts()
    assert got == want
