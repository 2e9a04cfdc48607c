"""One regression test per bug, named after it, on the smallest input that shows it
(the pdfplumber convention). Issue numbers are the project's issues."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.cli import main
from pipeline.parse import load_field_rules, read_label_lines, read_prose

from conftest import CORPUS, ROOT, SAMPLES

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
