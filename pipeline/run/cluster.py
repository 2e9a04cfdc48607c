"""The document stage on a Dask cluster: `--executor dask [--scheduler ADDRESS]`.

Tasks are documents. A document up to `BYTES_LIMIT` travels as its bytes; a larger one as its
path (or fsspec URL), which the workers read on shared storage. When every worker sees the files
as we do (same boot and mount namespace: workers on this machine), every document travels as its
path: no bytes through the scheduler. A worker returns the JSON the
cache stores (`certificate_to_json`); the main process alone writes the cache and the outputs.
Results come back as they complete; the runner puts them in input order.

Faults, each a typed outcome and never a stopped run:
- The per-document time limit holds on the workers: each Dask worker reads its documents in a
  pebble pool of its own (one process per worker thread), so a hung document is killed at its
  limit (ERROR TIMEOUT) and that process replaced, exactly as in a local run.
- A worker that dies mid-task has its documents retried on another worker by the scheduler;
  the scheduler's `allowed-failures` says how often. At 1 (what our LocalCluster uses, and what
  the README asks of a cluster), a document that kills workers twice is ERROR WORKER_LOST.
- A worker with other rules, code or tool versions is refused before any document is read,
  and any task landing on one later is refused too: mixed verdicts would be worse than none.
A scheduler that cannot be reached, or is lost mid-run, is a ClusterError (exit 2): the outputs
are only written at the end, so the previous ones stay, and a re-run resumes from the cache.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline import __version__
from pipeline.errors import developer_note
from pipeline.models import Certificate, DocumentError, ErrorReason
from pipeline.run.cache import certificate_from_json, certificate_to_json, code_digest, rules_digest
from pipeline.run.executor import Job, Limits, Outcome, Task

BYTES_LIMIT = 32 * 2**20  # documents up to 32 MB travel in the task; larger ones as a path
CONNECT_TIMEOUT_S = 10.0  # to reach the scheduler at start: then it is "unreachable", exit 2
WORKERS_TIMEOUT_S = 60.0  # for a first worker to join (LocalCluster's take ~2 s here)
TASKS_PER_THREAD = 4  # tasks queued per worker thread: keeps it busy, few lost if it dies
BATCH_DOCUMENTS = 8  # small documents per task: a task costs ~5 ms of scheduling, a page ~10 ms
SMALL_DOCUMENT_BYTES = 256 * 2**10  # larger (a scan, ~0.5 s of OCR a page) travels alone
ALLOWED_FAILURES = 1  # our LocalCluster: a task is retried after one worker death, not two
EXTRA = "pip install 'cplrecon[dask]'"
DAEMON_FIX = "start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (or --no-nanny)"


class ClusterError(Exception):
    """The cluster cannot run this run: the message says what to change (exit 2)."""


def require_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError(f"--executor dask needs dask and distributed: {EXTRA}") from exc
    return distributed


# --- what a worker must share with us ------------------------------------------------------------


@functools.cache
def worker_identity() -> dict[str, str]:
    """What decides a document's fields besides the document: checked on every worker."""
    from pipeline.parse import RULES_DIR
    from pipeline.run.cache import _EXTRACTION_TOOLS
    from pipeline.run.fingerprint import tool_versions

    versions = tool_versions()
    identity = {"cplrecon": __version__, "code": code_digest(), "rules": rules_digest(RULES_DIR)}
    return identity | {tool: versions.get(tool, "") for tool in _EXTRACTION_TOOLS if tool != "cplrecon"}


def identity_problem(worker: dict[str, str], ours: dict[str, str]) -> str:
    """'' when the worker reads as we do; else what differs, for the refusal message."""
    names = {"code": "cplrecon source", "rules": "rules/ files"}
    differs = [
        f"{names.get(key, key)} {worker.get(key, 'missing')!r:.14} here {value!r:.14}"
        for key, value in ours.items() if worker.get(key) != value
    ]
    return "; ".join(differs)


def _refusal(address: str, problem: str) -> str:
    return (f"Dask worker {address} is refused: it would read documents differently "
            f"({problem}). Install the same cplrecon and rules on every worker.")


# --- on the worker -------------------------------------------------------------------------------


_pool_lock = threading.Lock()
_pool: Any = None


def _worker_pool(threads: int, tasks_per_worker: int) -> Any:
    """This Dask worker's own pebble pool (made once, remade if it broke)."""
    global _pool
    from pebble import ProcessPool

    from pipeline.run.orphans import make_run_dir
    from pipeline.run.pebble import init_worker, remove_run_dir

    with _pool_lock:
        if _pool is None or not _pool.active:
            # Loaded here before the pool forks its processes: they start with the readers in
            # memory instead of importing them (~0.4 s each, again after every timeout).
            import pipeline.document  # noqa: F401

            run_dir = make_run_dir()
            atexit.register(remove_run_dir, run_dir)
            _pool = ProcessPool(max_workers=threads, max_tasks=tasks_per_worker,
                                initializer=init_worker, initargs=(run_dir, os.getpid()))
        return _pool


def read_on_worker(
    task: Task, batch: list[tuple[Job, bytes | None]], limits: Limits, expected: dict[str, str]
) -> list[str]:
    """Run on a Dask worker: each document's certificate as the cache's JSON, or one
    {"refused": why} when this worker must not read them."""
    from distributed import get_worker

    problem = identity_problem(worker_identity(), expected)
    if not problem and limits.timeout_s and _daemonic():
        problem = ("it runs as a daemonic process, which cannot start the processes that "
                   f"enforce --timeout: {DAEMON_FIX}")
    if problem:
        return [json.dumps({"refused": problem, "worker": get_worker().address})]
    if all(data is None and not _fetched(job) for job, data in batch):  # paths it reads itself
        return _read_here(task, [_local_job(job, None, "") for job, _ in batch], limits)
    with tempfile.TemporaryDirectory(prefix="cplrecon-dask-") as folder:
        jobs = [_local_job(job, data, os.path.join(folder, str(n)))
                for n, (job, data) in enumerate(batch)]
        return _read_here(task, jobs, limits)


def _fetched(job: Job) -> bool:
    location = job.document.location
    return "://" in location and not location.startswith("file://")


def _read_here(task: Task, jobs: list[Job], limits: Limits) -> list[str]:
    if not limits.timeout_s:
        return [certificate_to_json(task(job)) for job in jobs]
    return [certificate_to_json(certificate) for certificate in _in_pool(task, jobs, limits)]


def dask_setup(worker: Any) -> None:
    """`dask worker --preload pipeline.run.cluster`: the worker's pool of reading processes and
    its identity are made when the worker starts, not under the first documents of a run."""
    worker_identity()
    if not _daemonic():
        _worker_pool(max(1, worker.state.nthreads), Limits().tasks_per_worker)


def _local_job(job: Job, data: bytes | None, stem: str) -> Job:
    """The job with its document where this worker can read it: bytes written to a file here
    (`stem`.document), an fsspec URL fetched, a path on shared storage as it is."""
    document = job.document
    if data is None and _fetched(job):
        import fsspec  # comes with dask

        with fsspec.open(document.location, "rb") as handle:
            data = handle.read()
    if data is None:
        location = document.location.removeprefix("file://")
        return dataclasses.replace(job, document=dataclasses.replace(document, location=location))
    path = stem + ".document"
    with open(path, "wb") as handle:
        handle.write(data)
    return dataclasses.replace(job, document=dataclasses.replace(document, location=path, member=None))


def _in_pool(task: Task, jobs: list[Job], limits: Limits) -> list[Certificate]:
    """The documents in this worker's pebble pool, each under the time limit."""
    from distributed import get_worker

    from pipeline.run.pebble import failure_error, settle

    pool = _worker_pool(max(1, get_worker().state.nthreads), limits.tasks_per_worker)
    futures = [pool.schedule(task, args=(job,), timeout=limits.timeout_s) for job in jobs]
    certificates = []
    for job, future in zip(jobs, futures, strict=True):
        result, failure = settle(future, limits.timeout_s)
        document = job.document
        certificates.append(result if result is not None else Certificate(
            file=document.name, sha256=document.sha256, error=failure_error(failure)))
    return certificates


# --- in the main process ---------------------------------------------------------------------


class DaskExecutor:
    """Documents read on a Dask cluster: the scheduler at `address`, or a LocalCluster sized
    like --workers when there is none."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def map(self, task: Task, jobs: Iterable[Job], limits: Limits) -> Iterator[Outcome]:
        distributed = require_distributed()
        with _quiet_distributed():
            cluster: Any = None if self.address else _local_cluster(distributed, limits.workers)
            address = self.address or str(cluster.scheduler_address)
            try:
                client = _connect(distributed, address, limits)
                try:
                    yield from _stream(distributed, client, task, jobs, limits)
                finally:
                    client.close()
            finally:
                if cluster is not None:
                    cluster.close()


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """distributed logs a lost scheduler as tracebacks on stderr while it tries to reconnect;
    the user gets our one-line ClusterError instead, so its loggers say only what is critical
    while we run (each level put back after)."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "distributed"]
    loggers = [logging.getLogger(name) for name in ["distributed", *names]]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _local_cluster(distributed: Any, workers: int) -> Any:
    import dask

    # Set before the cluster exists: its scheduler and nannies read them when they start.
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.worker.daemon": False}):
        return distributed.LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True,
            dashboard_address=":0", silence_logs=logging.ERROR,  # ":0": any free port
        )


def _connect(distributed: Any, address: str, limits: Limits) -> Any:
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        _check_workers(client, limits)
    except BaseException:
        client.close()
        raise
    return client


def _check_workers(client: Any, limits: Limits) -> None:
    """Every worker now in the cluster reads as we do, or the run is refused before it starts
    (one joining later is refused at its first task: read_on_worker checks again)."""
    ours = worker_identity()
    try:
        identities = client.run(worker_identity)
        daemonic = client.run(_daemonic) if limits.timeout_s else {}
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"the Dask workers did not answer: {exc}") from exc
    for address, identity in sorted(identities.items()):
        problem = identity_problem(identity, ours)
        if problem:
            raise ClusterError(_refusal(address, problem))
    for address, daemon in sorted(daemonic.items()):
        if daemon:
            raise ClusterError(f"Dask worker {address} runs as a daemonic process, which cannot "
                               f"start the processes that enforce --timeout: {DAEMON_FIX}")


def filesystem_view() -> str:
    """This process's view of the files: the boot and the mount namespace (Linux). Two
    processes with the same view open the same file under the same path; '' elsewhere."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
        return f"{boot}:{os.stat('/proc/self/ns/mnt').st_ino}"
    except OSError:
        return ""


def _workers_share_our_files(client: Any, ours: str | None = None) -> bool:
    """Every worker sees the files as we do (same host, same mounts): a document then travels
    as its path, not its bytes through the scheduler."""
    ours = filesystem_view() if ours is None else ours
    try:
        views = client.run(filesystem_view)
    except (OSError, TimeoutError):
        return False
    return bool(ours) and bool(views) and all(view == ours for view in views.values())


def _daemonic() -> bool:
    import multiprocessing

    return bool(multiprocessing.current_process().daemon)


def _stream(
    distributed: Any, client: Any, task: Task, jobs: Iterable[Job], limits: Limits
) -> Iterator[Outcome]:
    """Submit batches through a window of a few tasks per worker thread; yield each document as
    its batch completes.

    Small documents travel in batches (`_batches`): a Dask task costs a few milliseconds of the
    scheduler's and the worker's time, as much as reading a born-digital page.

    A document whose workers died (KilledWorker) is not judged there: Dask blames every task
    that was on a dying worker, so a neighbour of the document that really kills workers is
    blamed too. Each such suspect is read again at the end, alone: only a death then is its own
    (ERROR WORKER_LOST); an innocent neighbour reads as usual."""
    expected = worker_identity()
    by_path = _workers_share_our_files(client)
    threads = sum(client.nthreads().values()) or 1
    window = max(2, threads * TASKS_PER_THREAD)
    run = uuid.uuid4().hex[:8]
    pending = distributed.as_completed()
    queued = _batches(jobs)
    by_key: dict[str, list[Job]] = {}
    suspects: list[Job] = []

    def submit(batch: list[Job], tag: str = run) -> Any:
        future = _submit(client, task, batch, limits, expected, tag, by_path)
        by_key[future.key] = batch
        return future

    try:
        for batch in itertools.islice(queued, window):
            pending.add(submit(batch))
        while pending.count():
            if limits.on_wait is not None and not pending.has_ready():
                limits.on_wait()
            future = next(pending)
            batch = by_key.pop(future.key)
            outcomes = _outcomes(distributed, future, batch)
            future.release()
            for job, outcome in zip(batch, outcomes, strict=True):
                if outcome.error is not None and outcome.error.reason is ErrorReason.WORKER_LOST:
                    suspects.append(job)
                else:
                    yield outcome
            for batch in itertools.islice(queued, 1):
                pending.add(submit(batch))
        for job in suspects:
            future = submit([job], f"{run}-alone")
            yield from _outcomes(distributed, future, [job], alone=True)
            future.release()
    except distributed.CancelledError as exc:  # the scheduler went away
        raise ClusterError(
            "lost the Dask scheduler mid-run: the previous outputs are unchanged, and a re-run "
            "resumes from the cache"
        ) from exc
    finally:
        pending.clear()


def _batches(jobs: Iterable[Job]) -> Iterator[list[Job]]:
    """Consecutive documents under SMALL_DOCUMENT_BYTES in batches of up to BATCH_DOCUMENTS; a
    larger one (a scan: ~0.5 s of OCR a page) alone."""
    batch: list[Job] = []
    for job in jobs:
        if job.document.size > SMALL_DOCUMENT_BYTES:
            yield [job]
            continue
        batch.append(job)
        if len(batch) == BATCH_DOCUMENTS:
            yield batch
            batch = []
    if batch:
        yield batch


def _submit(
    client: Any, task: Task, batch: list[Job], limits: Limits, expected: dict[str, str], run: str,
    by_path: bool = False,
) -> Any:
    from pipeline.ingest import read_bytes

    items: list[tuple[Job, bytes | None]] = []
    for job in batch:
        if not by_path:  # a worker elsewhere cannot write into our output folder
            job = dataclasses.replace(job, crops_out=None)
        document = job.document
        if document.size <= BYTES_LIMIT and not (by_path and document.member is None):
            items.append((job, read_bytes(document)))
            continue
        if "://" not in document.location:
            job = dataclasses.replace(job, document=dataclasses.replace(
                document, location=os.path.abspath(document.location)))
        items.append((job, None))
    worker_limits = dataclasses.replace(limits, on_wait=None)  # a callback of this process stays here
    return client.submit(read_on_worker, task, items, worker_limits, expected,
                         key=f"cplrecon-{run}-{batch[0].sha256}-{len(batch)}", pure=False)


def _outcomes(distributed: Any, future: Any, batch: list[Job], alone: bool = False) -> list[Outcome]:
    try:
        texts = future.result()
    except distributed.KilledWorker as exc:
        deaths = exc.allowed_failures + 1
        message = (f"the Dask workers reading it died {deaths} times, and {deaths} times more "
                   "when it was read again with no other document of the run; it was given up"
                   if alone else f"the Dask workers reading it died {deaths} times")
        return [Outcome(job.sha256, error=DocumentError(ErrorReason.WORKER_LOST, message))
                for job in batch]
    except distributed.CancelledError:
        raise
    except Exception as exc:  # read_on_worker catches documents' failures: this is the cluster's
        return [Outcome(job.sha256, error=DocumentError(
            ErrorReason.UNREADABLE, "the Dask task reading it failed; the notes say why",
            developer_note(exc))) for job in batch]
    first = json.loads(texts[0])
    if "refused" in first:
        raise ClusterError(_refusal(first["worker"], first["refused"]))
    return [Outcome(job.sha256, certificate=certificate_from_json(text))
            for job, text in zip(batch, texts, strict=True)]
