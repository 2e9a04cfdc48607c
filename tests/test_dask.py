"""The document stage on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (random free ports), started here and stopped at the end.

A run on the cluster gives the local run's outputs; a worker SIGKILLed mid-run loses no
document; a hung document is a TIMEOUT; a worker with other rules is refused; a scheduler that
is not there is exit 2; and `--executor dask` alone starts a LocalCluster.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_dask import SubprocessCluster
from pipeline.cli import main
from pipeline.extract import tesseract_available
from pipeline.ingest import discover
from pipeline.models import ErrorReason, ExtractLimits
from pipeline.run.cluster import DaskExecutor
from pipeline.run.executor import Job, Limits
from samples.generate import generate_corpus

from conftest import ROOT, SAMPLES

distributed = pytest.importorskip("distributed")

SCAN = SAMPLES / "scanned" / "scan_004_prose.png"  # OCR: over a second here
COMPARED = ("reconciliation.csv", "certificates.csv")
needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[SubprocessCluster]:
    running = SubprocessCluster(workers=2)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dask")
    generate_corpus(root / "certs", cpl_dir=root, count=16)
    return root


def _reconcile(corpus: Path, out: Path, *extra: str, certs: Path | None = None) -> int:
    return main(["reconcile", "--certs", str(certs or corpus / "certs"),
                 "--cpl", str(corpus / "cpl_submission.csv"), "--out", str(out),
                 "--no-cache", "--quiet", "--workers", "2", *extra])


def _outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in COMPARED}


@pytest.fixture(scope="module")
def local_out(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local")
    assert _reconcile(corpus, out, "--ocr", "never") == 0
    return out


@pytest.fixture(scope="module")
def local(local_out: Path) -> dict[str, bytes]:
    return _outputs(local_out)


@pytest.fixture(scope="module")
def local_crops(local_out: Path) -> list[str]:
    return [p.name for p in (local_out / "evidence").glob("*.png")]


def test_a_run_on_the_cluster_gives_the_local_outputs(
    cluster: SubprocessCluster, corpus: Path, local: dict[str, bytes], local_crops: list[str],
    tmp_path: Path,
) -> None:
    assert _reconcile(corpus, tmp_path, "--ocr", "never", "--scheduler", cluster.address) == 0
    assert _outputs(tmp_path) == local
    crops = sorted(p.name for p in (tmp_path / "evidence").glob("*.png"))
    assert crops and crops == sorted(local_crops)  # made by the workers, which see this folder
    run = (tmp_path / "run.json").read_text()
    assert '"executor": "dask"' in run and cluster.address in run


def test_the_environment_names_the_scheduler(
    cluster: SubprocessCluster, corpus: Path, local: dict[str, bytes], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CPLRECON_SCHEDULER", cluster.address)
    assert _reconcile(corpus, tmp_path, "--ocr", "never") == 0
    assert _outputs(tmp_path) == local
    assert '"executor": "dask"' in (tmp_path / "run.json").read_text()


@needs_tesseract
def test_a_worker_killed_mid_run_loses_no_document(
    cluster: SubprocessCluster, corpus: Path, tmp_path: Path
) -> None:
    certs = tmp_path / "certs"
    shutil.copytree(corpus / "certs", certs)
    for n in range(4):  # OCR keeps both workers busy for a few seconds
        shutil.copy(SCAN, certs / f"scan_{n}.png")
    expected = tmp_path / "local"
    assert _reconcile(corpus, expected, certs=certs) == 0
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(certs), "--cpl",
               str(corpus / "cpl_submission.csv"), "--out", str(tmp_path / "out"), "--no-cache",
               "--quiet", "--scheduler", cluster.address]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    victim = _busy_worker(cluster, deadline=time.monotonic() + 30)
    pid = cluster.client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    _, err = run.communicate(timeout=90)
    assert run.returncode == 0, err
    assert _outputs(tmp_path / "out") == _outputs(expected)
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarts it


def _busy_worker(cluster: SubprocessCluster, deadline: float) -> str:
    """A worker that is reading one of our documents now."""
    while time.monotonic() < deadline:
        for worker, keys in cluster.client.processing().items():
            if any(str(key).startswith("cplrecon-") for key in keys):
                return str(worker)
        time.sleep(0.05)
    raise AssertionError("no worker took a document")


def test_a_document_that_kills_workers_twice_is_worker_lost(cluster: SubprocessCluster, corpus: Path) -> None:
    from tests.dask_poison import POISONED, kill_my_worker

    documents, _ = discover([str(corpus / "certs")])
    jobs = [Job(d, "never", ExtractLimits()) for d in documents if d.error is None]
    limits = Limits(workers=2, timeout_s=60, tasks_per_worker=100)
    outcomes = {o.sha256: o for o in DaskExecutor(cluster.address).map(kill_my_worker, jobs, limits)}
    assert set(outcomes) == {job.sha256 for job in jobs}  # every document came back
    lost = [job.document.name for job in jobs if outcomes[job.sha256].error is not None]
    assert [Path(name).name for name in lost] == [POISONED]
    error = outcomes[jobs[[j.document.name for j in jobs].index(lost[0])].sha256].error
    assert error is not None and error.reason is ErrorReason.WORKER_LOST
    # only the poisoned one: each suspect is read again alone, where a death is its own
    assert "died 2 times, and 2 times more when it was read again with no other document" in error.message
    cluster.client.wait_for_workers(2, timeout=60)  # the nannies restart them


@needs_tesseract
def test_a_hung_document_is_a_timeout_on_the_workers(
    cluster: SubprocessCluster, corpus: Path, tmp_path: Path
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(SCAN, certs / "slow_scan.png")
    for name in sorted(p.name for p in (corpus / "certs").glob("cert_000[1-4]_*.pdf")):
        shutil.copy(corpus / "certs" / name, certs / name)
    started = time.monotonic()
    assert _reconcile(corpus, tmp_path / "out", "--timeout", "0.3", "--scheduler",
                      cluster.address, certs=certs) == 0
    assert time.monotonic() - started < 30
    with open(tmp_path / "out" / "certificates.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    timeouts = [row for row in rows if row["error"].startswith("TIMEOUT")]
    assert [Path(row["certificate_file"]).name for row in timeouts] == ["slow_scan.png"]
    assert timeouts[0]["error"] == "TIMEOUT: reading it took over 0.3 s (--timeout); it was stopped"
    # the worker whose process was killed went on: the other documents were read
    assert sum(row["status"] == "OK" for row in rows) >= 3


def test_a_worker_with_other_rules_is_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(ROOT / "pipeline", other / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "rules", other / "rules")
    fields = other / "rules" / "fields.toml"
    fields.write_text(fields.read_text(encoding="utf-8") + "\n# edited on this worker\n",
                      encoding="utf-8")
    odd = SubprocessCluster(workers=1, pythonpath=other)
    try:
        out = tmp_path / "out"
        out.mkdir()
        (out / "run.json").write_text("{}")
        assert _reconcile(corpus, out, "--scheduler", odd.address) == 2
    finally:
        odd.stop()
    err = capsys.readouterr().err
    assert "is refused: it would read documents differently (rules/ files" in err, err
    assert "Traceback" not in err
    assert (out / "run.json").read_text() == "{}"  # nothing written


def test_an_unreachable_scheduler_is_exit_2(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pipeline.run.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    assert _reconcile(corpus, tmp_path, "--scheduler", address) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err and "Traceback" not in err


def test_without_dask_the_error_names_the_extra(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    assert _reconcile(corpus, tmp_path, "--executor", "dask") == 2
    assert "pip install 'cplrecon[dask]'" in capsys.readouterr().err


def test_a_local_cluster_without_an_address(
    corpus: Path, local: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPLRECON_SCHEDULER", raising=False)
    assert _reconcile(corpus, tmp_path, "--ocr", "never", "--executor", "dask") == 0
    assert _outputs(tmp_path) == local


@needs_tesseract
def test_losing_the_scheduler_mid_run_keeps_the_outputs_and_a_rerun_resumes(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs, out = tmp_path / "certs", tmp_path / "out"
    shutil.copytree(corpus / "certs", certs)
    reconcile = ["reconcile", "--certs", str(certs), "--cpl", str(corpus / "cpl_submission.csv"),
                 "--out", str(out), "--workers", "2"]
    assert main([*reconcile, "--quiet"]) == 0  # the previous outputs, and their cache
    before = _outputs(out)
    scans = sorted(p for p in (SAMPLES / "scanned").iterdir() if p.name != "truth.json")
    for scan in scans:  # new documents: OCR keeps the one worker busy for several seconds
        shutil.copy(scan, certs / scan.name)
    doomed = SubprocessCluster(workers=1)
    try:
        run = subprocess.Popen([sys.executable, "-m", "pipeline", *reconcile, "--quiet",
                                "--scheduler", doomed.address],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
        _busy_worker(doomed, deadline=time.monotonic() + 30)
        scheduler = doomed.processes[0]
        os.killpg(scheduler.pid, signal.SIGKILL)
        scheduler.wait()
        _, err = run.communicate(timeout=120)
    finally:
        doomed.stop()
    assert run.returncode == 2, err
    assert "lost the Dask scheduler mid-run" in err and "Traceback" not in err
    assert _outputs(out) == before  # untouched: outputs are only written at the end
    assert main([*reconcile]) == 0  # the re-run, here, resumes from the cache
    summary = capsys.readouterr().err
    cached = int(summary.split(" from cache")[0].rsplit("(", 1)[1])
    assert cached >= len(list((corpus / "certs").glob("*.pdf")))  # at least the earlier run's
    assert _outputs(out) != before  # and now covers the scans too


def test_workers_on_this_machine_get_paths_and_others_get_bytes(
    cluster: SubprocessCluster, corpus: Path, local: dict[str, bytes], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pipeline.run.cluster as cluster_module

    assert cluster_module._workers_share_our_files(cluster.client)  # same boot, same mounts
    assert not cluster_module._workers_share_our_files(cluster.client, ours="another-boot:1")
    # As if this process were on another machine: the documents travel as bytes, same outputs.
    monkeypatch.setattr(cluster_module, "_workers_share_our_files", lambda client: False)
    assert _reconcile(corpus, tmp_path, "--ocr", "never", "--scheduler", cluster.address) == 0
    assert _outputs(tmp_path) == local
