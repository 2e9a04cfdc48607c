"""Run the stages in order: ingest -> (extract -> parse per document) -> reconcile -> report.

The one place that knows every stage; per-document work is in document.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cpl import read_cpl
from pipeline.errors import EXIT_FAIL_ON, EXIT_OK
from pipeline.ingest import discover
from pipeline.models import (
    Certificate,
    CplRow,
    Document,
    DocumentError,
    Overall,
    certificates_in,
)
from pipeline.parse import load_field_rules
from pipeline.policy import default_device_types, default_policy
from pipeline.reconcile import CertificateLookup, reconcile_rows
from pipeline.report import OUTPUT_FILES, OutputWriter, ReportAssembler
from pipeline.run.cache import ResultCache, certificate_from_json
from pipeline.run.executor import Executor, Job, Limits, SerialExecutor, read_document
from pipeline.run.fingerprint import (
    extraction_fingerprint,
    input_hashes,
    package_set,
    platform_info,
    rules_file_hashes,
    run_fingerprint,
    tool_versions,
    unchanged_outputs,
)
from pipeline.run.orphans import remove_orphan_run_dirs
from pipeline.run.progress import Progress
from pipeline.run.settings import DEFAULT_TIMEOUT_S, TASKS_PER_WORKER, RunInputs, Settings
from pipeline.run.spool import CertificateSpool

__all__ = ["DEFAULT_TIMEOUT_S", "TASKS_PER_WORKER", "RunOutcome", "Settings", "run_reconcile"]


@dataclass(frozen=True)
class RunOutcome:
    """What a run leaves behind besides its output files (which hold every row)."""

    counts: dict[str, Any]  # as in run.json: rows by overall status, certificates, problems...
    outputs: dict[str, Path]
    exit_code: int
    stats: dict[str, Any] = field(default_factory=dict)  # documents, cached, errors, seconds


def process_documents(
    documents: Sequence[Document],
    settings: Settings,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> Iterator[Certificate]:
    """One Certificate per document, in input order, streamed as they are ready.

    Each distinct document (by sha256) is read once: cached ones come from the cache, the rest
    from the workers; a second file with the same bytes gets the first one's fields and a note.
    What is kept per document is its digest; a certificate is held after it is yielded only
    when its bytes appear again later.
    """
    cached = (
        {_digest(s) for s in cache.present(d.sha256 for d in documents if d.error is None)}
        if cache else set()
    )
    seen: set[bytes] = set()
    repeated: dict[bytes, int] = {}  # digest of bytes seen twice -> position of the first copy
    fresh_count = fresh_images = 0
    for document in documents:
        if document.error is None:
            digest = _digest(document.sha256)
            if digest in seen:
                repeated[digest] = -1
            else:
                seen.add(digest)
                fresh_count += digest not in cached
                fresh_images += digest not in cached and document.kind == "image"
    del seen
    if progress is not None:
        progress.expect(images=fresh_images, pdfs=fresh_count - fresh_images)
    if repeated:
        for position, document in enumerate(documents):
            if document.error is None:
                digest = _digest(document.sha256)
                if repeated.get(digest) == -1:
                    repeated[digest] = position
    fresh = _fresh_certificates(
        _first_copies(documents, cached, repeated), fresh_count, settings,
        cache.flush if cache else None, executor,
    )
    done: dict[str, Certificate] = {}
    for position, document in enumerate(documents):
        digest = _digest(document.sha256) if document.error is None else b""
        certificate, from_cache = _certificate_for(
            document, settings, digest in cached, done, fresh, cache
        )
        if digest not in repeated:
            done.pop(document.sha256, None)
        original = repeated.get(digest, position)
        duplicate = original != position
        if duplicate:
            note = f"duplicate of {documents[original].name} (same sha256): read once"
            certificate = dataclasses.replace(certificate, notes=(*certificate.notes, note))
        if progress is not None:
            progress.advance(
                certificate, cached=from_cache, duplicate=duplicate, image=document.kind == "image"
            )
        yield certificate


def _first_copies(
    documents: Sequence[Document], cached: set[bytes], repeated: dict[bytes, int]
) -> Iterator[Document]:
    """The documents to read, in input order: readable, not cached, each bytes only once."""
    for position, document in enumerate(documents):
        if document.error is None:
            digest = _digest(document.sha256)
            if digest not in cached and repeated.get(digest, position) == position:
                yield document


def _digest(sha256: str) -> bytes:
    """The 32 bytes of a hex sha256: half the memory of the text, for a key kept per document."""
    return bytes.fromhex(sha256)


def _certificate_for(
    document: Document,
    settings: Settings,
    cached: bool,
    done: dict[str, Certificate],
    fresh: Iterator[Certificate],
    cache: ResultCache | None,
) -> tuple[Certificate, bool]:
    """This document's certificate and whether it came from the cache."""
    if document.error is not None:  # refused at ingest (empty, not a PDF, too large...)
        return _error_row(document.name, document.sha256, document.error), False
    if cached and cache is not None:
        text = cache.get(document.sha256)
        if text is not None:
            return certificate_from_json(text, document.name), True
        # The cache failed since the look-up (it warned): read this one here, in-process.
        return read_document(Job(document, settings.ocr, settings.extract_limits)), False
    while document.sha256 not in done:  # workers answer in job order: pull up to this one
        certificate = next(fresh)
        done[certificate.sha256] = certificate
        if cache is not None:
            cache.store(certificate)
    return dataclasses.replace(done[document.sha256], file=document.name), False


def _error_row(name: str, sha256: str, error: DocumentError | None) -> Certificate:
    """A document without a certificate: its typed error, the library's words in the notes."""
    notes = (error.detail,) if error is not None and error.detail else ()
    return Certificate(file=name, sha256=sha256, error=error, notes=notes)


def _fresh_certificates(
    documents: Iterable[Document],
    count: int,
    settings: Settings,
    on_wait: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> Iterator[Certificate]:
    """Read and parse `count` documents with the executor, in the order they finish. Jobs are
    taken from `documents` as workers get to them, not all at once."""
    if not count:
        return
    names: dict[str, str] = {}  # sha256 -> name, for the jobs handed out and not yet back

    def jobs() -> Iterator[Job]:
        for document in documents:
            names[document.sha256] = document.name
            yield Job(document, settings.ocr, settings.extract_limits, crops_out)

    # Crops are made by the workers, into the output folder; a cluster executor gives it only to
    # workers that see this machine's files (the writer makes any crop still missing).
    crops_out = os.path.abspath(settings.out) if settings.crops else None
    limits = Limits(
        workers=max(1, min(settings.workers, count)), timeout_s=settings.timeout_s or None,
        tasks_per_worker=settings.tasks_per_worker, on_wait=on_wait,
    )
    for outcome in (executor or executor_for(settings)).map(read_document, jobs(), limits):
        name = names.pop(outcome.sha256, "")
        if outcome.certificate is not None:
            yield outcome.certificate
        else:
            yield _error_row(name, outcome.sha256, outcome.error)


def executor_for(settings: Settings) -> Executor:
    """A Dask cluster when asked for; else in this process when nothing needs stopping, and
    otherwise child processes, which can be killed."""
    if settings.executor == "dask":
        from pipeline.run.cluster import DaskExecutor

        return DaskExecutor(settings.scheduler)
    if not settings.timeout_s and settings.workers == 1:
        return SerialExecutor()
    from pipeline.run.pebble import PebbleExecutor  # here: a cached run never loads pebble

    return PebbleExecutor()


def certificate_conflicts(lookup: CertificateLookup) -> list[dict[str, str]]:
    """Different documents with one certificate ID but different fields: a Problems row each."""
    problems = []
    for key in lookup.shared_keys():
        variants: dict[tuple[Any, ...], Certificate] = {}
        for certificate in lookup.with_key(key):
            if certificate.ok:
                content = (certificate.certificate_date, certificate.device_type, certificate.listings)
                variants.setdefault(content, certificate)
        if len(variants) < 2:
            continue
        first, *others = variants.values()
        for other in others:
            problems.append({
                "severity": "WARNING",
                "kind": "conflict",
                "where": first.certificate_id,
                "detail": f"{first.file} and {other.file} carry certificate ID "
                          f"{first.certificate_id!r} with different fields: "
                          + "; ".join(_differences(first, other)),
            })
    return problems


def _differences(a: Certificate, b: Certificate) -> list[str]:
    out = [
        f"{name} {getattr(a, name)!r} vs {getattr(b, name)!r}"
        for name in ("certificate_date", "device_type")
        if getattr(a, name) != getattr(b, name)
    ]
    if a.listings != b.listings:
        def show(c: Certificate) -> str:
            return " | ".join(
                f"{x.manufacturer}, {x.model}, hw {x.hardware_version}, fw {x.firmware_version}"
                for x in c.listings
            )
        out.append(f"device models [{show(a)}] vs [{show(b)}]")
    return out


def _open_cache(settings: Settings, fingerprint: str) -> ResultCache | None:
    if not settings.cache:
        return None
    cache = ResultCache(settings.cache_path, fingerprint)
    return cache if cache.enabled else None


def run_reconcile(settings: Settings, executor: Executor | None = None) -> RunOutcome:
    """The whole run, streamed: documents are spooled to disk as they are read, and rows go to
    the output files as they are judged, so memory stays flat however large the archive."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    cpl = read_cpl(settings.cpl)  # first: a bad CPL file stops the run before any slow work
    for notice in () if settings.quiet else cpl.notices:  # which sheet, header row, encoding
        print(f"cplrecon: CPL file {settings.cpl}: {notice}", file=sys.stderr)
    run_inputs = RunInputs.load(settings)  # a bad evidence manifest stops the run here too
    remove_orphan_run_dirs(tempfile.gettempdir())  # left by killed runs; a cached run too
    timings["read_inputs_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    documents, skipped = discover(settings.certs, settings.ingest_limits)
    timings["ingest_s"] = time.perf_counter() - mark
    versions = tool_versions()
    extraction = extraction_fingerprint(settings, versions)
    count = len(documents)
    inputs = input_hashes(settings, cpl.rows, count, skipped)
    inputs["cpl"]["notices"] = list(cpl.notices)
    fingerprint = run_fingerprint(
        settings, extraction, inputs, documents, run_inputs.evidence, run_inputs.ota_images
    )
    if settings.cache:  # --no-cache reads and writes everything again
        previous = unchanged_outputs(Path(settings.out), fingerprint)
        if previous is not None:
            return _up_to_date(settings, previous, count, started)
    cache = _open_cache(settings, extraction)
    progress = Progress.for_terminal(count, settings.quiet)
    with CertificateSpool() as spool:
        mark = time.perf_counter()
        try:
            for certificate in process_documents(documents, settings, cache, progress, executor):
                for part in certificates_in(certificate):  # a bundle is several certificates
                    spool.add(part)
        finally:
            progress.close()
            if cache is not None:
                cache.close()
        del documents  # the spool has everything they gave
        timings["extract_parse_s"] = time.perf_counter() - mark
        stats: dict[str, Any] = {
            "documents": count,
            "cached": progress.cached,
            "duplicates": progress.duplicates,
            "read": count - progress.cached - progress.duplicates,
            "errors": progress.errors,
            "ocr_pages": progress.ocr,
        }
        run_info = _run_info(settings, inputs, versions, cache, stats, timings)
        run_info.update(started=started_at, **_environment())
        run_info["run_fingerprint"] = fingerprint
        return _reconcile_and_report(settings, spool, cpl.rows, run_inputs, run_info, started)


def _up_to_date(
    settings: Settings, previous: dict[str, Any], documents: int, started: float
) -> RunOutcome:
    """Nothing the outputs depend on has changed since they were written, and they are intact:
    they stand as they are (run.json still describes the run that wrote them)."""
    counts = previous["counts"]
    out = Path(settings.out)
    stats = {
        "documents": documents, "up_to_date": True, "cached": 0, "duplicates": 0, "read": 0,
        "errors": counts.get("certificate_status", {}).get("ERROR", 0), "ocr_pages": 0,
        "seconds": time.perf_counter() - started,
    }
    return RunOutcome(
        counts, {key: out / name for key, name in OUTPUT_FILES.items()},
        exit_code_for(counts, settings.fail_on), stats,
    )


def _reconcile_and_report(
    settings: Settings,
    spool: CertificateSpool,
    cpl_rows: Sequence[CplRow],
    run_inputs: RunInputs,
    run_info: dict[str, Any],
    started: float,
) -> RunOutcome:
    """Rows judged and written one by one, then the documents with the rows citing them.

    The output files are opened only now: a run killed while documents are read leaves no
    temp files beside the previous outputs. `run_info` goes into run.json as it is when the
    outputs are finished: its "timings" and "documents" (stats) are filled in here.
    """
    timings: dict[str, float] = run_info["timings"]
    stats: dict[str, Any] = run_info["documents"]
    with OutputWriter(Path(settings.out), crops=settings.crops) as writer:
        assembler = ReportAssembler(writer)
        for certificate in spool.unreadable():
            assembler.document(certificate)
        mark = time.perf_counter()
        for result in reconcile_rows(cpl_rows, spool, run_inputs):
            assembler.result(result)
        timings["reconcile_s"] = time.perf_counter() - mark  # rows written as they are judged
        mark = time.perf_counter()
        for certificate in spool:
            assembler.certificate(certificate)
        conflicts = certificate_conflicts(spool)
        timings["certificates_s"] = time.perf_counter() - mark
        # Set before writing: run.json shares this dict, and a timing set after it is written is lost.
        timings["total_before_writing_s"] = time.perf_counter() - started
        summary, run = assembler.finish(
            run_info, cpl_rows, conflicts, run_inputs.ota_images, run_inputs.evidence
        )
        outputs = writer.finish(summary, run)
    timings["total_s"] = time.perf_counter() - started
    stats["seconds"] = timings["total_s"]
    counts = run["counts"]
    return RunOutcome(counts, outputs, exit_code_for(counts, settings.fail_on), stats)


def _run_info(
    settings: Settings,
    inputs: dict[str, Any],
    versions: dict[str, str],
    cache: ResultCache | None,
    stats: dict[str, Any],
    timings: dict[str, float],
) -> dict[str, Any]:
    """run.json's account of the run: inputs with hashes, versions, settings, documents, timings."""
    return {
        "tool": "cplrecon",
        "versions": versions,
        "rules": {"fields": load_field_rules().version, "policy": default_policy().version,
                  "device_types": default_device_types().version},
        "inputs": inputs,
        "settings": {
            "workers": settings.workers, "ocr": settings.ocr, "timeout_s": settings.timeout_s,
            "executor": settings.executor, "scheduler": settings.scheduler,
            "cache": str(settings.cache_path) if cache is not None else None,
        },
        "documents": stats,
        "timings": timings,
    }


def _environment() -> dict[str, Any]:
    """Where the run ran and with what: the OS, each rules/ file's hash, the package set's hash
    (run.json keys added after the SPEC's; the existing ones keep their shape)."""
    return {"platform": platform_info(), "rules_files": rules_file_hashes(),
            "packages": package_set()}


def exit_code_for(counts: Mapping[str, Any], fail_on: str | None) -> int:
    """0 when the run completed; 1 when --fail-on is met (fail: FAIL/ERROR/NO_CERTIFICATE rows)."""
    if fail_on is None:
        return EXIT_OK
    failing = {Overall.FAIL, Overall.ERROR, Overall.NO_CERTIFICATE}
    if fail_on == "review":
        failing |= {Overall.REVIEW}
    return EXIT_FAIL_ON if any(counts["overall"].get(o.value, 0) for o in failing) else EXIT_OK
