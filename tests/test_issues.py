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
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".cplrecon-cache")) == [
        "run.json"]
