"""The executor seam: any executor gives the same outputs, in input order, failures typed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from pipeline.models import DocumentError, ErrorReason
from pipeline.run.executor import Job, Limits, Outcome, SerialExecutor, Task
from pipeline.run.pebble import PebbleExecutor
from pipeline.run.runner import Settings, run_reconcile
from samples.generate import generate_corpus

COMPARED = ("reconciliation.csv", "certificates.csv")


class BackwardsExecutor:
    """Takes every job, then answers last first: the runner must put them back in order."""

    def __init__(self, lose: str = "") -> None:
        self.lose = lose  # a file name whose job ends as a lost worker
        self.seen: list[str] = []

    def map(self, task: Task, jobs: Iterable[Job], limits: Limits) -> Iterator[Outcome]:
        taken = list(jobs)
        self.seen = [job.document.name for job in taken]
        for job in reversed(taken):
            if self.lose and job.document.name.endswith(self.lose):
                yield Outcome(job.sha256, error=DocumentError(ErrorReason.TIMEOUT, "gone"))
            else:
                yield Outcome(job.sha256, certificate=task(job))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("executor")
    generate_corpus(root / "certs", cpl_dir=root, count=12)
    return root


def _run(corpus: Path, out: Path, executor: object, workers: int = 2) -> dict[str, bytes]:
    settings = Settings(certs=(str(corpus / "certs"),), cpl=str(corpus / "cpl_submission.csv"),
                        out=str(out), workers=workers, ocr="never", quiet=True, cache=False)
    run_reconcile(settings, executor=executor)  # type: ignore[arg-type]
    return {name: (out / name).read_bytes() for name in COMPARED}


def test_every_executor_gives_the_same_outputs(corpus: Path, tmp_path: Path) -> None:
    pool = _run(corpus, tmp_path / "pool", PebbleExecutor())
    serial = _run(corpus, tmp_path / "serial", SerialExecutor(), workers=1)
    backwards = BackwardsExecutor()
    reordered = _run(corpus, tmp_path / "backwards", backwards)
    assert len(backwards.seen) > 5  # it really read the corpus
    assert serial == pool
    assert reordered == pool


def test_a_failed_outcome_is_an_error_row_and_the_run_goes_on(corpus: Path, tmp_path: Path) -> None:
    victim = sorted(p.name for p in (corpus / "certs").glob("*.pdf"))[0]
    _run(corpus, tmp_path / "out", BackwardsExecutor(lose=victim))
    with open(tmp_path / "out" / "certificates.csv", newline="", encoding="utf-8-sig") as handle:
        rows = {Path(r["certificate_file"]).name: r for r in csv.DictReader(handle)}
    assert rows[victim]["status"] == "ERROR" and rows[victim]["error"] == "TIMEOUT: gone"
    assert sum(r["status"] == "OK" for r in rows.values()) >= 5
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["counts"]["certificate_errors"].get("TIMEOUT") == 1


def _dies_on_first(job: Job):  # noqa: ANN202 - a task run in the pool's worker process
    import os
    import signal

    from pipeline.run.executor import read_document

    if job.document.name.endswith("cert_0001_kv.pdf"):
        os.kill(os.getpid(), signal.SIGKILL)  # as a segfault in a native library would
    return read_document(job)


def test_a_worker_that_dies_is_one_typed_error_the_library_words_for_developers(
    corpus: Path,
) -> None:
    from pipeline.ingest import discover
    from pipeline.models import ExtractLimits

    documents, _ = discover([str(corpus / "certs")])
    jobs = [Job(d, "never", ExtractLimits()) for d in documents if d.error is None]
    outcomes = list(PebbleExecutor().map(_dies_on_first, jobs, Limits(workers=2, timeout_s=60)))
    assert len(outcomes) == len(jobs)  # the run went on
    failed = [o for o in outcomes if o.error is not None]
    assert len(failed) == 1
    error = failed[0].error
    assert error is not None and error.reason is ErrorReason.UNREADABLE
    assert error.message.startswith("the process reading it died")
    assert "worker process:" in error.detail  # pebble's words stay out of the message
