"""Worker processes that can kill one hung task: per-task wall time, recycling, bounded queue.

`concurrent.futures.ProcessPoolExecutor` cannot stop one running task, so a document that hangs
the parser would hang the run. pebble's pool kills the worker running a task that is over its
time limit and starts a fresh one; the other tasks go on. Workers are also replaced after
`max_tasks` tasks, so whatever a parser leaks cannot build up over ten thousand documents.

Tasks are submitted through a window of a few per worker, not all at once, and results come
back in input order as they finish: the caller streams them into the next stage.

A killed worker runs no `finally`: its temporary files (our page TIFF, pytesseract's `tess_*`,
and the `.tsv` its orphaned tesseract still writes) would stay in /tmp. So every run has one
temporary folder, each worker makes its files in a subfolder of it (`tempfile.tempdir` and
TMPDIR), a new worker removes the subfolders of dead ones, and the run removes the folder
however it ends. A run that is itself SIGKILLed cannot: its workers stop on their own and the
next run removes its folder (pipeline.run.orphans).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Generic, TypeVar

from pipeline.models import DocumentError, ErrorReason
from pipeline.run.executor import Job, Limits, Task
from pipeline.run.executor import Outcome as ExecutorOutcome
from pipeline.run.orphans import RUN_DIR_PREFIX as RUN_DIR_PREFIX
from pipeline.run.orphans import follow_parent, make_run_dir, process_alive

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")

WINDOW_PER_WORKER = 8  # tasks queued per worker: enough to keep it busy, few enough to stream
WORKER_DIR_PREFIX = "worker-"  # one per worker process, in the run's folder: worker-<pid>


@dataclass(frozen=True)
class TaskTimeout:
    """The task ran over its wall-time limit and its worker was killed."""

    seconds: float


@dataclass(frozen=True)
class TaskCrashed:
    """The worker died under the task (a segfault in a native parser, the OOM killer...)."""

    detail: str


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    job: T
    result: R | None = None
    failure: TaskTimeout | TaskCrashed | None = None


def init_worker(run_dir: str, owner: int | None = None) -> None:
    """Worker start: it stops when the pool's `owner` process is gone (and its tesseract with it),
    all temporary files in this worker's folder, and the PDF libraries loaded.
    (One tesseract thread per worker is set where tesseract runs,
    pipeline.extract.tesseract.one_tesseract_thread, so it holds in every executor.)"""
    follow_parent(owner)
    _load_readers()
    try:
        folder = _worker_temp_dir(run_dir)
    except OSError:  # an initializer that raises ends the worker, and the next would fail too
        return  # so: the system's temporary folder, as before
    os.environ["TMPDIR"] = folder  # tesseract and any other subprocess
    tempfile.tempdir = folder  # tempfile in this process: pytesseract's tess_*, our OCR folder


def _load_readers() -> None:
    """Import the readers before the first task: pebble starts a task's clock when the worker
    takes it, so the 0.2-0.5 s of imports in a fresh worker (one replacing a killed one, too)
    would otherwise count against the first document's --timeout."""
    try:
        import pipeline.document  # noqa: F401
    except ImportError:  # the task will report it, as one ERROR row per document
        pass


def _worker_temp_dir(run_dir: str) -> str:
    """A fresh `worker-<pid>` folder, after removing those of workers that are gone.

    A worker killed over a time limit leaves its files behind; the worker started in its place
    removes them, so a long run with many timeouts does not fill the disk before it ends."""
    me = os.getpid()
    os.makedirs(run_dir, exist_ok=True)  # removed under us (a /tmp cleaner): made again
    for entry in os.scandir(run_dir):
        pid = entry.name.removeprefix(WORKER_DIR_PREFIX)
        if entry.name.startswith(WORKER_DIR_PREFIX) and pid.isdigit():
            if int(pid) == me or not process_alive(int(pid)):  # own pid: a dead worker's, reused
                shutil.rmtree(entry.path, ignore_errors=True)
    folder = os.path.join(run_dir, f"{WORKER_DIR_PREFIX}{me}")
    os.makedirs(folder, exist_ok=True)
    return folder


def remove_run_dir(run_dir: str) -> None:
    """Retried: an orphaned tesseract of a killed worker may create a file while it is removed."""
    for _ in range(3):
        shutil.rmtree(run_dir, ignore_errors=True)
        if not os.path.exists(run_dir):
            return


def run_in_workers(
    task: Callable[[T], R],
    jobs: Iterable[T],
    workers: int,
    timeout_s: float | None,
    max_tasks: int = 200,
    on_wait: Callable[[], None] | None = None,
) -> Generator[Outcome[T, R], None, None]:
    """`task(job)` for every job in child processes; outcomes in job order, failures typed.

    A task's clock starts when a worker picks it up, so queued work never times out.
    An exception raised by `task` itself is re-raised here: tasks are expected to catch their own.
    `on_wait` runs before blocking on an unfinished task: the caller persists what it has, so
    a run killed while a slow document is read loses nothing already done.
    Workers' temporary files live in one folder for the run, removed when the run ends: normally,
    by an exception or an interrupt, or by closing this generator early.
    """
    run_dir = make_run_dir()
    try:
        from pebble import ProcessPool  # here: a run served from the cache never loads it

        pool = ProcessPool(max_workers=max(1, workers), max_tasks=max_tasks,
                           initializer=init_worker, initargs=(run_dir, os.getpid()))
        window = max(2, workers * WINDOW_PER_WORKER)
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            for job in jobs:
                pending.append((job, pool.schedule(task, args=(job,), timeout=timeout_s)))
                if len(pending) >= window:
                    yield _outcome(*pending.popleft(), timeout_s, on_wait)
            while pending:
                yield _outcome(*pending.popleft(), timeout_s, on_wait)
            pool.close()
        finally:
            pool.stop()  # on an interrupt or an early exit: no orphaned workers
            pool.join()
    finally:
        remove_run_dir(run_dir)  # after pool.join(): no worker is left to write there


def _outcome(
    job: T, future: Future[R], timeout_s: float | None, on_wait: Callable[[], None] | None
) -> Outcome[T, R]:
    if on_wait is not None and not future.done():
        on_wait()
    settled = settle(future, timeout_s)
    return Outcome(job, result=settled[0], failure=settled[1])


def settle(
    future: Future[V], timeout_s: float | None
) -> tuple[V | None, TaskTimeout | TaskCrashed | None]:
    """Wait for a pebble task: its result, or the typed reason there is none."""
    from pebble import ProcessExpired  # loaded already: the caller made the pool

    try:
        return future.result(), None
    except FutureTimeout:
        return None, TaskTimeout(timeout_s or 0.0)
    except ProcessExpired as exc:
        return None, TaskCrashed(f"the worker process died (exit code {exc.exitcode})")


class PebbleExecutor:
    """The local pool as an executor (pipeline.run.executor): pebble's failures become typed
    document errors here, so they never reach the runner."""

    def map(self, task: Task, jobs: Iterable[Job], limits: Limits) -> Iterator[ExecutorOutcome]:
        for outcome in run_in_workers(
            task, jobs, max(1, limits.workers), limits.timeout_s, limits.tasks_per_worker,
            limits.on_wait,
        ):
            sha256 = outcome.job.sha256
            if outcome.result is not None:
                yield ExecutorOutcome(sha256, certificate=outcome.result)
            else:
                yield ExecutorOutcome(sha256, error=failure_error(outcome.failure))


def failure_error(failure: TaskTimeout | TaskCrashed | None) -> DocumentError:
    """A task's failure as the document's typed error (ERROR row)."""
    if isinstance(failure, TaskTimeout):
        return DocumentError(
            ErrorReason.TIMEOUT,
            f"reading it took over {failure.seconds:g} s (--timeout); it was stopped",
        )
    detail = failure.detail if failure is not None else "no result"
    return DocumentError(
        ErrorReason.UNREADABLE,
        "the process reading it died (a crash in a PDF or OCR library, or out of memory); "
        "please report it with the file",
        f"worker process: {detail}",  # the library's words: notes, for developers
    )
