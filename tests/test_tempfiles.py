"""Temporary files of worker processes do not outlive the run, even when a worker is killed.

Every test points the parent's `tempfile` at an empty folder of its own and checks that the
folder is empty again once the run is over: the real pool, real kills, real tesseract."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pipeline.extract import ExtractLimits, ocr_image_file, tesseract_available, tesseract_words
from pipeline.models import DocumentError, ErrorReason
from pipeline.run.orphans import OWNER_FILE
from pipeline.run.pebble import RUN_DIR_PREFIX, TaskTimeout, run_in_workers

ROOT = Path(__file__).resolve().parent.parent
SCAN = ROOT / "samples" / "scanned" / "scan_004_prose.png"
ORPHAN_DELAY_S = 1.0  # the orphan of a killed worker writes its file this long after it starts


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The parent's temporary folder for the test; workers forked from it inherit it too."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root


def _leave_files() -> str:
    """What a worker killed mid-OCR leaves: pytesseract's tess_*, our OCR folder with its page."""
    with tempfile.NamedTemporaryFile(prefix="tess_", delete=False) as handle:
        handle.write(b"input")
    folder = tempfile.mkdtemp(prefix="cplrecon-ocr-")
    Path(folder, "page.tif").write_bytes(b"\0" * 1000)
    return tempfile.gettempdir()


def _task(job: str) -> Any:
    """Module level: pebble pickles it. `job` says what the task does."""
    if job == "ok":  # temp files made and removed as usual; where they went
        with tempfile.NamedTemporaryFile(prefix="tess_"):
            pass
        return (tempfile.gettempdir(), os.environ.get("TMPDIR"), os.getpid())
    if job == "hang":
        _leave_files()
        time.sleep(60)
    if job == "hang-with-orphan":  # like tesseract: a child that writes its output after we die
        folder = _leave_files()
        script = f'sleep {ORPHAN_DELAY_S}; echo late > "$1/tess_orphan.tsv"'
        subprocess.Popen(["sh", "-c", script, "sh", folder], start_new_session=True)
        time.sleep(60)
    if job == "list":  # the run's folder, seen from a worker
        return sorted(os.listdir(Path(tempfile.gettempdir()).parent)), os.getpid()
    if job == "raise":
        _leave_files()
        raise ValueError("the task failed")
    if job == "slow":
        time.sleep(2)
        return None
    raise AssertionError(job)


def _left_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_killed_workers_leave_no_temp_files(temp_root: Path) -> None:
    jobs = ["hang-with-orphan", "ok", "hang", "ok"]
    outcomes = list(run_in_workers(_task, jobs, workers=2, timeout_s=0.5))
    assert [isinstance(o.failure, TaskTimeout) for o in outcomes] == [True, False, True, False]
    for outcome in (outcomes[1], outcomes[3]):
        assert outcome.result is not None
        folder, tmpdir_env, pid = outcome.result
        assert folder == tmpdir_env  # subprocesses (tesseract) use the same folder
        run_dir = Path(folder).parent
        assert run_dir.parent == temp_root and run_dir.name.startswith(RUN_DIR_PREFIX)
        assert Path(folder).name == f"worker-{pid}"
    assert _left_in(temp_root) == []
    time.sleep(ORPHAN_DELAY_S + 0.5)  # the killed worker's child has tried to write by now
    assert _left_in(temp_root) == []


def test_a_new_worker_removes_the_files_of_a_killed_one(temp_root: Path) -> None:
    """Many timeouts in one long run do not fill the disk before the run ends."""
    outcomes = list(run_in_workers(_task, ["hang", "list", "hang", "list"], workers=1, timeout_s=0.5))
    assert isinstance(outcomes[0].failure, TaskTimeout) and isinstance(outcomes[2].failure, TaskTimeout)
    for outcome in (outcomes[1], outcomes[3]):
        assert outcome.result is not None
        listing, pid = outcome.result
        assert listing == [OWNER_FILE, f"worker-{pid}"]  # the run's owner file (orphans.py)
    assert _left_in(temp_root) == []


def test_closing_early_an_exception_or_an_interrupt_removes_the_run_folder(temp_root: Path) -> None:
    outcomes = run_in_workers(_task, ["ok"] * 20, workers=1, timeout_s=5)
    next(outcomes)
    assert [p.name.startswith(RUN_DIR_PREFIX) for p in temp_root.iterdir()] == [True]
    outcomes.close()
    assert _left_in(temp_root) == []

    with pytest.raises(ValueError, match="the task failed"):
        list(run_in_workers(_task, ["ok", "raise", "ok"], workers=2, timeout_s=5))
    assert _left_in(temp_root) == []

    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(run_in_workers(_task, ["hang", "slow"], workers=2, timeout_s=None, on_wait=interrupt))
    assert _left_in(temp_root) == []


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_ocr_in_process_cleans_up_on_success_and_on_tesseract_timeout(temp_root: Path) -> None:
    image = Image.open(SCAN)
    assert tesseract_words(image, timeout_s=60)
    with pytest.raises(DocumentError) as caught:
        tesseract_words(image.resize((image.width * 2, image.height * 2)), timeout_s=0.05)
    assert caught.value.reason is ErrorReason.TIMEOUT  # pytesseract killed tesseract
    assert _left_in(temp_root) == []


def _ocr_scan(path: str) -> int:
    """Module level: pebble pickles it. Our OCR of a scan: a page TIFF, then tesseract."""
    return len(ocr_image_file(Path(path).read_bytes(), ExtractLimits()))


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_killed_during_ocr_leaves_nothing(temp_root: Path, workers: int) -> None:
    outcomes = list(run_in_workers(_ocr_scan, [str(SCAN)] * 2, workers, timeout_s=0.3))
    assert all(isinstance(o.failure, TaskTimeout) for o in outcomes)  # OCR takes over a second
    time.sleep(3)  # the killed workers' tesseract has finished and written its .tsv by now
    assert _left_in(temp_root) == []
