"""One regression test per bug, named after it, on the smallest input that shows it
(the pdfplumber convention). Issue numbers are the project's issues."""

from __future__ import annotations

import pytest

from pipeline import __version__
from pipeline.cli import main
from pipeline.parse import load_field_rules, read_label_lines, read_prose

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
