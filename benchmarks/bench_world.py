"""The world corpus (issue 13): hostile and non-certificate PDFs made by samples/hostile.py, with
sample certificates and scans as controls, read by one real `cplrecon reconcile`.

Reports: files and rows (every file must be a row of certificates.csv), OK rows on documents
that are no certificate (must be 0), every reason typed (one of ErrorReason), the reason counts,
files whose reason differs from the one expected, and peak RSS (VmHWM) of the main process, of
each worker process and of tesseract, sampled from /proc while the run goes (Linux).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.errors import ErrorReason
from samples import hostile

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BASES = ("cert_0001_kv.pdf", "cert_0002_table.pdf", "cert_0003_twocol.pdf",
         "cert_0004_stacked.pdf", "cert_0005_prose.pdf")
NOT_CERTIFICATES = {"cover_letter.pdf", "cover_letter_with_id.pdf", "paper_abstract.pdf",
                    "invoice.pdf"}
POLL_S = 0.05


def build_world(folder: Path, quick: bool = False) -> dict[str, str]:
    """Write the corpus; file name -> the reason it must come out as ("OK": a certificate)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}
    bases = BASES[:2] if quick else BASES
    for index, base in enumerate(bases):
        data = (SAMPLES / "corpus" / base).read_bytes()
        files = hostile.world_files(data)
        for name, (content, reason) in files.items():
            if index and name not in _DERIVED:  # the stand-alone files once
                continue
            target = name if name not in _DERIVED else f"{Path(base).stem}__{name}"
            (folder / target).write_bytes(content)
            expected[target] = reason
    for scan in sorted((SAMPLES / "scanned").glob("*.pdf"))[: 1 if quick else 3]:
        shutil.copy(scan, folder / scan.name)
        expected[scan.name] = "OK"
    return expected


# Made from each base certificate; the others are made once.
_DERIVED = {"control_certificate.pdf", "truncated.pdf", "xref_loop.pdf", "page_tree_loop.pdf",
            "pages_node_without_kids.pdf", "untyped_page.pdf"}


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return dict(line.rstrip("\n").split(":\t", 1) for line in handle if ":\t" in line)
    except OSError:
        return {}


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(x) for x in handle.read().split())
    except OSError:
        pass
    return found


class PeakRss:
    """Polls a process tree's VmHWM (peak RSS, kB) every POLL_S: the last value seen per pid."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, tuple[str, int, int]] = {}  # pid -> (name, parent, kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            pending, parents = [self.root], {self.root: 0}
            while pending:
                pid = pending.pop()
                status = _status(pid)
                if status.get("VmHWM"):
                    kb = int(status["VmHWM"].split()[0])
                    name = status.get("Name", "?")
                    old = self.peaks.get(pid, (name, parents[pid], 0))
                    # a forked child that then execs (tesseract) starts a new peak: before the
                    # exec its VmHWM is the worker's
                    peak = max(old[2], kb) if old[0] == name else kb
                    self.peaks[pid] = (name, parents[pid], peak)
                for child in _children(pid):
                    parents[child] = pid
                    pending.append(child)
            self._stop.wait(POLL_S)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        main = self.peaks.get(self.root, ("", 0, 0))[2]
        workers = [kb for pid, (name, parent, kb) in self.peaks.items()
                   if parent == self.root and not name.startswith("tesseract")]
        tesseract = [kb for name, _, kb in self.peaks.values() if name.startswith("tesseract")]
        mib = 1024
        return {
            "main_mib": round(main / mib, 1),
            "workers": len(workers),
            "worker_peak_mib": round(max(workers, default=0) / mib, 1),
            "worker_peaks_mib": sorted(round(kb / mib, 1) for kb in workers),
            "tesseract_peak_mib": round(max(tesseract, default=0) / mib, 1),
        }


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def reconcile_world(folder: Path, out: Path, workers: int = 2) -> dict[str, Any]:
    """One `cplrecon reconcile` over the folder in a child process, its RSS sampled."""
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(folder),
               "--cpl", str(SAMPLES / "cpl_submission.csv"), "--out", str(out), "--no-cache",
               "--no-crops", "--quiet", "--workers", str(workers)]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stderr=subprocess.PIPE, text=True)
    rss = PeakRss(child.pid)
    _, err = child.communicate(timeout=1800)
    memory = rss.stop()
    if child.returncode != 0:
        raise RuntimeError(f"reconcile exited {child.returncode}: {err}")
    return {"seconds": round(time.perf_counter() - started, 1), "rss": memory}


def summarise(expected: dict[str, str], rows: list[dict[str, str]]) -> dict[str, Any]:
    by_file = {Path(r["certificate_file"]).name: r for r in rows}
    got = {name: (row["error"].split(":", 1)[0] if row["status"] == "ERROR" else "OK")
           for name, row in by_file.items()}
    typed = {r.value for r in ErrorReason} | {"OK"}
    non_certificates = [n for n in expected if n.split("__")[-1] in NOT_CERTIFICATES]
    return {
        "files": len(expected),
        "rows": len(rows),
        "files_without_a_row": sorted(set(expected) - set(by_file)),
        "ok_on_non_certificates": sum(got.get(n) == "OK" for n in non_certificates),
        "non_certificates": len(non_certificates),
        "untyped_reasons": sorted({g for g in got.values() if g not in typed}),
        "reasons": dict(sorted(Counter(got.values()).items())),
        "unexpected": {n: f"{got.get(n)} (expected {want})" for n, want in expected.items()
                       if got.get(n) != want},
        "messages_with_library_text": sorted(
            n for n, r in by_file.items()
            if any(word in r["error"] for word in ("PDFium", "Exception", "Error:", " at 0x"))),
    }


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cplrecon-world-") as tmp:
        folder, out = Path(tmp) / "world", Path(tmp) / "out"
        expected = build_world(folder, quick)
        measured = reconcile_world(folder, out)
        summary = summarise(expected, _read(out / "certificates.csv"))
    return {**summary, **measured}


def render(result: dict[str, Any]) -> str:
    rss = result["rss"]
    lines = [
        f"  world corpus: {result['files']} files, {result['rows']} certificate rows "
        f"(without a row: {result['files_without_a_row'] or 'none'})",
        f"  OK rows on non-certificates: {result['ok_on_non_certificates']} of "
        f"{result['non_certificates']} (must be 0)",
        f"  untyped reasons: {result['untyped_reasons'] or 'none'}; messages with library text: "
        f"{result['messages_with_library_text'] or 'none'}",
        f"  reasons: {json.dumps(result['reasons'])}",
        f"  not as expected: {json.dumps(result['unexpected']) if result['unexpected'] else 'none'}",
        f"  peak RSS: main {rss['main_mib']} MiB; {rss['workers']} worker(s), peak "
        f"{rss['worker_peak_mib']} MiB (goal <= 300); tesseract {rss['tesseract_peak_mib']} MiB",
        f"  reconcile took {result['seconds']} s",
    ]
    return "\n".join(lines)
