"""Worker processes that can kill one hung task: per-task wall time, recycling, bounded queue.

`concurrent.futures.ProcessPoolExecutor` cannot stop one running task, so a document that hangs
the parser would hang the run. pebble's pool kills the worker running a task that is over its
time limit and starts a fresh one; the other tasks go on. Workers are also replaced after
`max_tasks` tasks, so whatever a parser leaks cannot build up over ten thousand documents.

Tasks are submitted through a window of a few per worker, not all at once, and results come
back in input order as they finish: the caller streams them into the next stage.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Generic, TypeVar

from pebble import ProcessExpired, ProcessPool

T = TypeVar("T")
R = TypeVar("R")

WINDOW_PER_WORKER = 8  # tasks queued per worker: enough to keep it busy, few enough to stream


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


def _limit_threads() -> None:
    """One tesseract thread per worker: measured 1.88x for 2 workers, own threads are slower."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def run_in_workers(
    task: Callable[[T], R],
    jobs: Iterable[T],
    workers: int,
    timeout_s: float | None,
    max_tasks: int = 200,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Outcome[T, R]]:
    """`task(job)` for every job in child processes; outcomes in job order, failures typed.

    A task's clock starts when a worker picks it up, so queued work never times out.
    An exception raised by `task` itself is re-raised here: tasks are expected to catch their own.
    `on_wait` runs before blocking on an unfinished task: the caller persists what it has, so
    a run killed while a slow document is read loses nothing already done.
    """
    pool = ProcessPool(max_workers=max(1, workers), max_tasks=max_tasks, initializer=_limit_threads)
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


def _outcome(
    job: T, future: Future[R], timeout_s: float | None, on_wait: Callable[[], None] | None
) -> Outcome[T, R]:
    if on_wait is not None and not future.done():
        on_wait()
    try:
        return Outcome(job, result=future.result())
    except FutureTimeout:
        return Outcome(job, failure=TaskTimeout(timeout_s or 0.0))
    except ProcessExpired as exc:
        return Outcome(job, failure=TaskCrashed(f"the worker process died (exit code {exc.exitcode})"))
