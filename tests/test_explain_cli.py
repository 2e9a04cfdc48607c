"""`cplrecon explain` for people: the sentence first on a terminal, JSON when piped or --json,
and an exit status that says the verdict."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

from conftest import ROOT, read_csv


def on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the real program with its stdout on a pseudo-terminal, as a person would."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "explain", *args], cwd=ROOT,
                            stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal is closed once the program has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode().replace("\r\n", "\n")


def test_on_a_terminal_the_sentence_comes_first() -> None:
    code, out = on_a_terminal("12.3 (Stack 12.34)", "--cpl", "0C:03:0C:22")
    assert code == 0
    first = out.splitlines()[0]
    assert first == (
        "MAPPED: the certificate's 12.3 (Stack 12.34) is application 12.3 and stack 12.34 with "
        "each number written in hex (12 = 0C, 3 = 03, 34 = 22), giving 0C:03:0C:22, the CPL value"
    )
    assert "decimal-per-component/app-stack" in out  # the details follow
    code, out = on_a_terminal("12.3 (Stack 12.34)", "--cpl", "0C:03:0C:22", "--json")
    assert json.loads(out)["status"] == "MAPPED"


@pytest.mark.parametrize(("text", "args", "status", "code"), [
    ("12.3 (Stack 12.34)", ["--cpl", "0C:03:0C:22"], "MAPPED", 0),
    ("0C:03:0C:22", ["--cpl", "0C:03:0C:22"], "MATCH", 0),
    ("Some String (14.7)", ["--cpl", "0D:07:00:00"], "MISMATCH", 1),
    ("1.2", ["--cpl", "01:02:00:0G"], "INVALID_CPL", 1),
    ("Acme", ["--field", "manufacturer_identifier", "--cpl", "FF:FF"], "INVALID_CPL", 1),
    ("12.3", ["--cpl", "0C:03:00:05"], "PARTIAL", 3),
    ("Acme", ["--field", "manufacturer_identifier", "--cpl", "10:9F"], "UNVERIFIABLE", 3),
    ("12.3", [], None, 3),
])
def test_exit_status_says_the_verdict(
    text: str, args: list[str], status: str | None, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", text, *args]) == code
    assert json.loads(capsys.readouterr().out).get("status") == status  # piped: JSON


def test_batch_gains_an_explanation_and_exits_0(tmp_path: Path) -> None:
    batch = tmp_path / "versions.csv"
    batch.write_text("text,field,cpl\n"
                     "12.3 (Stack 12.34),firmware_version,0C:03:0C:22\n"
                     "Some String (14.7),firmware_version,0D:07:00:00\n"
                     "1.2,firmware_version,GG\n"
                     "1.2,firmware_version,\n")
    out = tmp_path / "checked.csv"
    assert main(["explain", "--batch", str(batch), "--output", str(out)]) == 0
    rows = read_csv(out)
    assert [r["status"] for r in rows] == ["MAPPED", "MISMATCH", "INVALID_CPL", ""]
    assert rows[0]["explanation"].endswith("giving 0C:03:0C:22, the CPL value")
    assert "none of these is the CPL value 0D:07:00:00" in rows[1]["explanation"]
    assert rows[2]["explanation"].startswith("the CPL value GG is not a valid firmware version")
    assert rows[3]["explanation"].startswith("the text 1.2 can stand for 01:02:00:00 (")
