"""The executor seam: where documents are read (in-process, a local pool, a Dask cluster).

An executor runs `task(job)` for every job and yields one `Outcome` per job, keyed by the
document's sha256, in whatever order they finish; the runner puts them back in input order.
A task that cannot finish (over its time limit, its worker lost) is an outcome with a typed
`DocumentError`, never an exception of the executor's library: the runner knows no pool.

`SerialExecutor` reads in this process (one worker and no time limit, or tests);
`pipeline.run.pebble.PebbleExecutor` is the local pool, `pipeline.run.dask.DaskExecutor` a
cluster. A new one is a class with this `map` method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from pipeline.models import Certificate, Document, DocumentError, ExtractLimits


@dataclass(frozen=True)
class Job:
    """One document to read, with the settings that decide what it reads to."""

    document: Document
    ocr: str
    limits: ExtractLimits
    # The output folder when the run makes crops: the worker that read the document renders
    # them there while it is warm, in parallel with the other workers (report.crops), and the
    # writer finds them made. None: no crops here (the writer makes any that are missing).
    crops_out: str | None = None

    @property
    def sha256(self) -> str:
        return self.document.sha256


@dataclass(frozen=True)
class Limits:
    """How an executor may run the jobs."""

    workers: int = 1
    timeout_s: float | None = None  # wall time per job once a worker has it; None: no limit
    tasks_per_worker: int = 500  # jobs before a worker process is replaced
    # Called before the executor blocks waiting for an unfinished job: the runner persists what
    # it has, so a run killed while a slow document is read loses nothing already done.
    on_wait: Callable[[], None] | None = None


@dataclass(frozen=True)
class Outcome:
    """A job's result, or the typed reason it has none."""

    sha256: str
    certificate: Certificate | None = None
    error: DocumentError | None = None


Task = Callable[[Job], Certificate]


class Executor(Protocol):
    def map(self, task: Task, jobs: Iterable[Job], limits: Limits) -> Iterator[Outcome]:
        """One outcome per job, in any order; jobs are taken as workers get to them."""
        ...


def read_document(job: Job) -> Certificate:
    """The task every executor runs: one document to one Certificate (never raises)."""
    # Imported here: the PDF and OCR libraries load where documents are read, not in a run
    # whose documents all come from the cache.
    from pipeline.document import process_document
    from pipeline.extract.pdfium_text import kept_document

    with kept_document():  # the PDF opened, and each page loaded, once for every step
        return _read_and_crop(job, process_document(job.document, job.ocr, job.limits))


def _read_and_crop(job: Job, certificate: Certificate) -> Certificate:
    if job.crops_out is not None and certificate.ok:
        from pathlib import Path

        from pipeline.ingest import read_bytes
        from pipeline.models import certificates_in
        from pipeline.report.crops import crops_for

        try:
            data = read_bytes(job.document)  # by the job's own location: a worker's may differ
            for part in certificates_in(certificate):
                crops_for(part, Path(job.crops_out), data)
        except Exception:  # noqa: BLE001, S110 - a crop is evidence, never the document's verdict:
            pass  # the writer tries again for any crop missing
    return certificate


class SerialExecutor:
    """Every job in this process, in order. No time limit can be enforced here (nothing can stop
    a running parser from inside its own process), so the runner uses it only without one."""

    def map(self, task: Task, jobs: Iterable[Job], limits: Limits) -> Iterator[Outcome]:
        for job in jobs:
            yield Outcome(job.sha256, certificate=task(job))
