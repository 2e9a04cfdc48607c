"""The document stage on Dask: two Dask workers against the local pool with two workers on the
same corpus (born-digital + 50 scans), the scaling from one Dask worker to two, and what 16 or
64 workers would give by a model fitted to the measured costs.

The cluster is real: a `dask scheduler` and `dask worker` processes on 127.0.0.1, started
before the timed runs (a cluster exists before a user's run does). Every timed run is a real
`run_reconcile` in a fresh child process with no cache, as in bench_bulk; the figure compared
is the document stage (run.json timings.extract_parse_s), plus the whole process.

    python -m benchmarks dask [--quick]
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_bulk import _generate, _run

ROOT = Path(__file__).resolve().parent.parent
SCANS = 50
BORN_DIGITAL = 300
WORKERS_MODELLED = (16, 64)
ARCHIVE_SCANNED_PAGES = 20_000  # the archive: what a cluster is for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SubprocessCluster:
    """A `dask scheduler` and its `dask worker`s as subprocesses on 127.0.0.1, as a user would
    start them (also used by tests/test_dask.py)."""

    def __init__(self, workers: int, pythonpath: Path = ROOT) -> None:
        import distributed

        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.processes: list[subprocess.Popen[bytes]] = []
        # One retry after a worker dies; a second death of the same task is WORKER_LOST.
        scheduler_env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
        self._start(["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                     "--no-dashboard"], scheduler_env)
        for _ in range(workers):
            self.add_worker(pythonpath)
        self.client = distributed.Client(self.address, timeout=30)
        self.client.wait_for_workers(workers, timeout=60)

    def add_worker(self, pythonpath: Path) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(pythonpath),
               "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}  # its pebble pool starts processes
        return self._start(["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                            "--nworkers", "1", "--no-dashboard",
                            "--preload", "pipeline.run.cluster"],  # its reading pool made at start
                           env, cwd=pythonpath)

    def _start(
        self, command: list[str], env: dict[str, str], cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        # cwd: `python -m` puts it first on sys.path, before PYTHONPATH
        process = subprocess.Popen([sys.executable, "-m", "dask", *command], env=env, cwd=cwd,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        self.client.close()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _document_costs(certs: Path, scanned: Path, samples: int) -> dict[str, float]:
    """Seconds to read one born-digital PDF and one scan, in this process (no pool, no
    cluster): the work the workers share out, for the model."""
    from pipeline.document import process_document
    from pipeline.ingest import IngestLimits, file_document
    from pipeline.models import ExtractLimits

    def mean_s(paths: list[Path]) -> float:
        started = time.perf_counter()
        for path in paths:
            process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                             ExtractLimits())
        return (time.perf_counter() - started) / len(paths)

    born = sorted(certs.glob("*.pdf"))
    scans = sorted(p for p in scanned.iterdir() if p.name != "truth.json")
    mean_s(born[:3])  # imports and first-call costs out of the way
    return {"born_digital_s": mean_s(born[:samples * 4]), "scan_s": mean_s(scans[:samples])}


def run(quick: bool = False) -> dict[str, Any]:
    born, scans = (60, 6) if quick else (BORN_DIGITAL, SCANS)
    root = Path(tempfile.mkdtemp(prefix="cplrecon-bench-dask-"))
    try:
        return _measure(root, born, scans, quick)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _stage(root: Path, name: str, certs: list[Path], cpl: Path, **settings: Any) -> dict[str, float]:
    measured = _run(root / name, certs, cpl, cache=False, **settings)
    return {"stage_s": measured["timings"]["extract_parse_s"], "process_s": measured["process_s"]}


def _measure(root: Path, born: int, scans: int, quick: bool) -> dict[str, Any]:
    _generate(root, born, scans)
    certs, scanned, cpl = root / "certs", root / "scanned", root / "cpl_submission.csv"
    inputs = [certs, scanned]
    documents = born + scans
    costs = _document_costs(certs, scanned, 2 if quick else 5)
    local = _stage(root, "local2", inputs, cpl, workers=2)
    clusters: dict[int, dict[str, float]] = {}
    for workers in (2, 1):
        cluster = SubprocessCluster(workers)
        try:
            clusters[workers] = _stage(root, f"dask{workers}", inputs, cpl, workers=workers,
                                       executor="dask", scheduler=cluster.address)
        finally:
            cluster.stop()
    same = all(
        (root / "local2" / name).read_bytes() == (root / "dask2" / name).read_bytes()
        for name in ("reconciliation.csv", "certificates.csv")
    )
    one, two = clusters[1]["stage_s"], clusters[2]["stage_s"]
    # T(n) = C + W / n: C the part no worker shares (submitting, the main process's own work,
    # the scheduler), W the work shared out. Two points fit both.
    work = 2 * (one - two)
    serial = one - work
    work_measured = born * costs["born_digital_s"] + scans * costs["scan_s"]
    per_document = max(serial, 0.0) / documents
    return {
        "documents": {"born_digital": born, "scanned": scans},
        "per_document_s": {k: round(v, 4) for k, v in costs.items()},
        "local_pool_2_workers": _rounded(local),
        "dask_2_workers": _rounded(clusters[2]),
        "dask_1_worker": _rounded(clusters[1]),
        "overhead": {
            "dask2_vs_local2_stage": round(two / local["stage_s"], 3),
            "dask2_vs_local2_process": round(clusters[2]["process_s"] / local["process_s"], 3),
            "goal": "<= 1.10",
            "outputs_identical": same,
        },
        "scaling_1_to_2": round(one / two, 2),
        "model": {
            "form": "T(n) = C + max(W / n, longest document)",
            "C_serial_s": round(serial, 2),
            "W_fitted_s": round(work, 2),
            "W_from_document_costs_s": round(work_measured, 2),
            **{f"workers_{n}_s": round(serial + max(work / n, costs["scan_s"]), 2)
               for n in WORKERS_MODELLED},
            "archive": _archive(costs["scan_s"], per_document),
        },
    }


def _archive(scan_s: float, per_document_s: float) -> dict[str, Any]:
    """The issue's archive (20,000 one-page scans) by the same model, with C grown per document."""
    pages = ARCHIVE_SCANNED_PAGES
    serial = pages * per_document_s
    out: dict[str, Any] = {"scanned_pages": pages, "C_s": round(serial, 1)}
    for n in (2, *WORKERS_MODELLED):
        seconds = serial + pages * scan_s / n
        out[f"workers_{n}_min"] = round(seconds / 60, 1)
    return out


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in values.items()}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
