"""Issue 13 part 4: a run killed with SIGKILL leaves nothing behind.

- No process: its workers and their tesseract stop on their own within 5 s (a real run over
  real scans, killed while tesseract reads them; every descendant is listed from /proc first).
- No folder: the next run removes the `cplrecon-run-*` folder of a run whose owner is gone,
  and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.extract import tesseract_available, tesseract_words
from pipeline.run.orphans import OWNER_FILE, RUN_DIR_PREFIX, boot_id, process_start
from pipeline.run.pebble import TaskTimeout, run_in_workers

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCAN = SAMPLES / "scanned" / "scan_004_prose.png"
GONE_WITHIN_S = 5.0

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, name, start time) of every live process (zombies have ended)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] not in ("Z", "X"):
            found[int(name)] = (int(fields[1]), stat[stat.find("(") + 1:stat.rfind(")")], fields[19])
    return found


def _descendants(root: int) -> dict[int, tuple[str, str]]:
    """pid -> (name, start time) of every process below `root`."""
    processes = _processes()
    found: dict[int, tuple[str, str]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, name, start) in processes.items():
            if ppid == parent and pid not in found:
                found[pid] = (name, start)
                frontier.append(pid)
    return found


def _using(folder: Path) -> set[int]:
    """Live processes whose TMPDIR is in `folder`: the run's workers and their tesseract, even
    one started after the descendants were listed."""
    marker = f"TMPDIR={folder}".encode()
    users = set()
    for pid in _processes():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if any(entry.startswith(marker) for entry in environ.split(b"\0")):
            users.add(pid)
    return users


def _long_scan(path: Path, pages: int) -> None:
    """An image-only PDF of `pages` scanned pages: OCR keeps a worker busy well past 5 s."""
    page = Image.open(SCAN).convert("L")
    page.save(path, "PDF", resolution=200.0, save_all=True, append_images=[page] * (pages - 1))


@needs_proc
@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_issue_13_4_sigkill_mid_ocr_leaves_no_worker_or_tesseract(tmp_path: Path) -> None:
    certs, temp = tmp_path / "certs", tmp_path / "tmp"
    certs.mkdir()
    temp.mkdir()
    for n, pages in enumerate((12, 13)):  # two documents (sha256 differ): both workers busy
        _long_scan(certs / f"scan_{n}.pdf", pages)
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(certs),
               "--cpl", str(SAMPLES / "cpl_submission.csv"), "--out", str(tmp_path / "out"),
               "--no-cache", "--workers", "2", "--quiet", "--timeout", "300"]
    run = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TMPDIR": str(temp)},
                           stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run.poll() is None:
            below = _descendants(run.pid)
            if sum(name == "tesseract" for name, _ in below.values()) >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"no two tesseract under the run: {run.stderr.read() if run.stderr else ''!r}")
        below |= _descendants(run.pid)
    finally:
        run.kill()
        run.wait()
    assert len(below) >= 4, below  # two workers, two tesseract
    stop = time.monotonic() + GONE_WITHIN_S
    while True:
        now = _processes()
        alive = {pid: below[pid] for pid in below if pid in now and now[pid][2] == below[pid][1]}
        left = alive or _using(temp)
        if not left or time.monotonic() > stop:
            break
        time.sleep(0.1)
    assert not left, f"alive {GONE_WITHIN_S} s after the run was killed: {left}"
    folders = [p for p in temp.iterdir() if p.name.startswith(RUN_DIR_PREFIX)]
    assert len(folders) == 1 and (folders[0] / OWNER_FILE).is_file()  # left: the next run's job


def _ocr_nine_pages(path: str) -> int:
    """Module level: pebble pickles it. One tesseract call on nine pages tiled: some seconds."""
    page = Image.open(path).convert("L")
    tiled = Image.new("L", (page.width * 3, page.height * 3), 255)
    for n in range(9):
        tiled.paste(page, (n % 3 * page.width, n // 3 * page.height))
    tiled.info["dpi"] = (200, 200)
    return len(tesseract_words(tiled, timeout_s=60))


@needs_proc
@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_issue_13_4_a_worker_stopped_over_its_timeout_takes_its_tesseract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pebble stops the worker with SIGTERM; its tesseract stops with it, not seconds later."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # workers' TMPDIR goes below it
    outcomes = list(run_in_workers(_ocr_nine_pages, [str(SCAN)], workers=1, timeout_s=0.5))
    assert isinstance(outcomes[0].failure, TaskTimeout)
    stop = time.monotonic() + 1.0
    while _using(tmp_path) and time.monotonic() < stop:
        time.sleep(0.05)
    assert not _using(tmp_path)


def _owned(temp: Path, name: str, owner: dict[str, object] | None) -> Path:
    folder = temp / f"{RUN_DIR_PREFIX}{name}"
    (folder / "worker-1").mkdir(parents=True)
    (folder / "worker-1" / "tess_1.tsv").write_text("left by a killed run")
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner))
    return folder


@needs_proc
def test_issue_13_4_next_run_removes_only_folders_of_dead_owners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead = {"pid": ended.pid, "start": "1", "boot": boot_id()}
    me = {"pid": os.getpid(), "start": process_start(os.getpid()), "boot": boot_id()}
    recycled = {**me, "start": str(int(me["start"] or 0) + 1)}  # our pid, another start: not us
    rebooted = {**me, "boot": "another-boot"}  # a pid from before a reboot is not us either
    gone = [_owned(temp, "dead", dead), _owned(temp, "recycled", recycled),
            _owned(temp, "rebooted", rebooted)]
    kept = [
        _owned(temp, "alive", me),
        _owned(temp, "no-owner-file", None),  # ours by name only: an older version's, or not ours
        _owned(temp, "bad-owner-file", None),
        _owned(tmp_path, "elsewhere", dead),  # outside the temporary folder
    ]
    (kept[2] / OWNER_FILE).write_text('{"pid": ')
    foreign = temp / "someone-else" / "keep.txt"
    foreign.parent.mkdir()
    foreign.write_text("not ours")
    (temp / f"{RUN_DIR_PREFIX}a-file").write_text(json.dumps(dead))  # a file, not a folder
    (temp / f"{RUN_DIR_PREFIX}link").symlink_to(gone[0], target_is_directory=True)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "cert.pdf").write_bytes((SAMPLES / "corpus" / "cert_0001_kv.pdf").read_bytes())

    code = main(["reconcile", "--certs", str(certs),
                 "--cpl", str(SAMPLES / "cpl_submission.csv"), "--out", str(tmp_path / "out"),
                 "--no-cache", "--quiet", "--workers", "1"])

    assert code in (0, 1)
    assert [p.exists() for p in gone] == [False, False, not boot_id()]
    assert all((p / "worker-1" / "tess_1.tsv").is_file() for p in kept)
    assert foreign.read_text() == "not ours"
    assert (temp / f"{RUN_DIR_PREFIX}a-file").is_file()
    assert (temp / f"{RUN_DIR_PREFIX}link").is_symlink()
    assert sorted(p.name for p in temp.iterdir()) == sorted(  # and this run removed its own
        [*(p.name for p in kept[:3]), "someone-else", f"{RUN_DIR_PREFIX}a-file", f"{RUN_DIR_PREFIX}link"]
    )
