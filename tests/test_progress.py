"""The progress bar: one line that fits the terminal, an ETA that knows scans cost more, and
nothing at all when stderr is not a terminal."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from pipeline.models import Certificate, TextSource
from pipeline.run.progress import OCR_PAGE_WEIGHT, CostModel, Progress

from conftest import CORPUS, ROOT, SAMPLES

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _text(n: int) -> Certificate:
    return Certificate(file=f"{n}.pdf", sha256=f"{n:064x}", pages=1, text_source=TextSource.TEXT)


def _scan(n: int) -> Certificate:
    return Certificate(file=f"{n}.png", sha256=f"{n:064x}", pages=1, text_source=TextSource.OCR)


def test_the_bar_never_outgrows_80_columns() -> None:
    stream = _Terminal()
    progress = Progress.for_terminal(10_000, quiet=False, stream=stream, columns=80)
    for n in range(300):
        progress.advance(_scan(n) if n % 7 == 0 else _text(n), cached=n % 5 == 0)
    progress.close()
    drawn = [ANSI.sub("", part) for part in re.split(r"[\r\n]", stream.getvalue()) if part]
    assert drawn and max(len(line) for line in drawn) <= 80
    assert stream.getvalue().count("\n") == 1  # one line, redrawn in place


def test_no_terminal_no_bar() -> None:
    stream = io.StringIO()
    progress = Progress.for_terminal(3, quiet=False, stream=stream)
    for n in range(3):
        progress.advance(_text(n))
    progress.close()
    assert stream.getvalue() == "" and progress.done == 3


def test_eta_weighs_the_scans_still_to_read() -> None:
    """Two text PDFs read in 0.02 s and three image files to go: not 0.03 s, but three OCR
    documents' worth. A plain documents-per-second rate would say 0.03 s."""
    cost = CostModel(images_left=3, pdfs_left=2)
    cost.done(_text(1), image=False)
    cost.done(_text(2), image=False)
    seconds = cost.seconds_left(0.02)
    assert seconds is not None
    assert abs(seconds - 3 * (1 + OCR_PAGE_WEIGHT) * 0.01) < 1e-9
    cost.done(_scan(3), image=True)  # a scan measured: the share of its cost is learned
    assert cost.images_left == 2


def test_a_real_run_in_an_80_column_terminal_draws_one_line(tmp_path: Path) -> None:
    """What a user sees: the CLI under a pseudo-terminal 80 columns wide."""
    main_end, child_end = pty.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(CORPUS),
               "--cpl", str(SAMPLES / "cpl_submission.csv"), "--out", str(tmp_path / "out"),
               "--no-cache", "--ocr", "never", "--workers", "1", "--timeout", "0"]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(command, cwd=ROOT, stdin=child_end, stdout=subprocess.DEVNULL,
                               stderr=child_end, env=env)
    os.close(child_end)
    seen = b""
    while select.select([main_end], [], [], 60)[0]:
        try:
            chunk = os.read(main_end, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0
    os.close(main_end)
    text = ANSI.sub("", seen.decode("utf-8", "replace"))
    lines = text.replace("\r\n", "\n").split("\n")
    bar = [part for line in lines for part in line.split("\r") if "docs" in part]
    assert bar, text
    assert max(len(part) for part in bar) <= 80, bar
    summary = [line for line in lines if line.startswith("cplrecon:")]
    assert len(summary) == 1 and "rows" in summary[0]
    # The bar's line, then the summary: nothing stacked.
    assert len([line for line in lines if line.strip()]) == 2, lines
