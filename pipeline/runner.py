"""Run the stages in order: ingest -> (extract -> parse per document) -> reconcile -> report.

The one place that knows every stage; per-document work is in document.py.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.cache import CACHE_FILE, ResultCache, certificate_from_json, pipeline_fingerprint
from pipeline.cpl import read_cpl
from pipeline.document import field_rules, process_document
from pipeline.evidence import load_evidence
from pipeline.extract import ExtractLimits
from pipeline.ingest import IngestLimits, discover, sha256_file
from pipeline.models import Certificate, Document, DocumentError, ErrorReason, Overall, RowResult
from pipeline.ota import discover_ota
from pipeline.parse import RULES_DIR
from pipeline.policy import default_device_types, default_policy
from pipeline.pool import TaskTimeout, run_in_workers
from pipeline.progress import Progress
from pipeline.reconcile import certificate_key, reconcile
from pipeline.registry import load_registry
from pipeline.report import build_report, write_outputs

DEFAULT_TIMEOUT_S = 120.0  # per document, OCR included; a hung parser is killed after this
TASKS_PER_WORKER = 500  # documents before a worker is replaced: leaks cannot build up


@dataclass(frozen=True)
class Settings:
    certs: tuple[str, ...]
    cpl: str
    out: str
    manufacturers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    evidence: str | None = None
    ota: tuple[str, ...] = ()  # --ota: OTA image files or folders
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ocr: str = "auto"  # auto | always | never
    fail_on: str | None = None  # fail | review
    extract_limits: ExtractLimits = ExtractLimits()
    ingest_limits: IngestLimits = IngestLimits()
    cache: bool = True  # --no-cache turns it off
    cache_dir: str | None = None  # default: the output folder
    timeout_s: float | None = DEFAULT_TIMEOUT_S  # None or 0: no limit (documents run in-process)
    quiet: bool = False  # no progress bar
    tasks_per_worker: int = TASKS_PER_WORKER

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or self.out) / CACHE_FILE


@dataclass(frozen=True)
class RunOutcome:
    results: list[RowResult]
    certificates: list[Certificate]
    outputs: dict[str, Path]
    exit_code: int
    stats: dict[str, Any] = field(default_factory=dict)  # documents, cached, errors, seconds


def _process_star(args: tuple[Document, str, ExtractLimits]) -> Certificate:
    return process_document(*args)


def process_documents(
    documents: Sequence[Document],
    settings: Settings,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
) -> Iterator[Certificate]:
    """One Certificate per document, in input order, streamed as they are ready.

    Each distinct document (by sha256) is read once: cached ones come from the cache, the rest
    from the workers; a second file with the same bytes gets the first one's fields and a note.
    """
    cached = cache.lookup(d.sha256 for d in documents if d.error is None) if cache else {}
    first_name: dict[str, str] = {}
    jobs: list[Document] = []
    for document in documents:
        if document.error is None and document.sha256 not in first_name:
            first_name[document.sha256] = document.name
            if document.sha256 not in cached:
                jobs.append(document)
    fresh = _fresh_certificates(jobs, settings, cache.flush if cache else None)
    done: dict[str, Certificate] = {}
    for document in documents:
        certificate, from_cache = _certificate_for(document, cached, done, fresh, cache)
        original = first_name.get(document.sha256, document.name)
        duplicate = document.error is None and original != document.name
        if duplicate:
            note = f"duplicate of {original} (same sha256): read once"
            certificate = dataclasses.replace(certificate, notes=(*certificate.notes, note))
        if progress is not None:
            progress.advance(certificate, cached=from_cache, duplicate=duplicate)
        yield certificate


def _certificate_for(
    document: Document,
    cached: dict[str, str],
    done: dict[str, Certificate],
    fresh: Iterator[Certificate],
    cache: ResultCache | None,
) -> tuple[Certificate, bool]:
    """This document's certificate and whether it came from the cache."""
    if document.error is not None:
        return process_document(document, "never", ExtractLimits()), False
    if document.sha256 in cached:
        return certificate_from_json(cached[document.sha256], document.name), True
    while document.sha256 not in done:  # workers answer in job order: pull up to this one
        certificate = next(fresh)
        done[certificate.sha256] = certificate
        if cache is not None:
            cache.store(certificate)
    return dataclasses.replace(done[document.sha256], file=document.name), False


def _fresh_certificates(
    jobs: Sequence[Document], settings: Settings, on_wait: Callable[[], None] | None = None
) -> Iterator[Certificate]:
    """Read and parse documents: in child processes whenever a time limit must be enforceable."""
    if not jobs:
        return
    work = ((d, settings.ocr, settings.extract_limits) for d in jobs)
    if not settings.timeout_s and settings.workers == 1:
        yield from map(_process_star, work)
        return
    workers = max(1, min(settings.workers, len(jobs)))
    for outcome in run_in_workers(
        _process_star, work, workers, settings.timeout_s or None, settings.tasks_per_worker, on_wait
    ):
        if outcome.result is not None:
            yield outcome.result
            continue
        document = outcome.job[0]
        if isinstance(outcome.failure, TaskTimeout):
            error = DocumentError(
                ErrorReason.TIMEOUT,
                f"reading it took over {outcome.failure.seconds:g} s (--timeout); it was stopped",
            )
        else:
            error = DocumentError(ErrorReason.UNREADABLE, f"the parser crashed: {outcome.failure}")
        yield Certificate(file=document.name, sha256=document.sha256, error=error)


def certificate_conflicts(certificates: Iterable[Certificate]) -> list[dict[str, str]]:
    """Different documents with one certificate ID but different fields: a Problems row each."""
    by_key: dict[str, dict[tuple[Any, ...], Certificate]] = {}
    for certificate in certificates:
        key = certificate_key(certificate.certificate_id)
        if certificate.ok and key:
            content = (certificate.certificate_date, certificate.device_type, certificate.listings)
            by_key.setdefault(key, {}).setdefault(content, certificate)
    problems = []
    for variants in by_key.values():
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


def _open_cache(settings: Settings, versions: dict[str, str]) -> ResultCache | None:
    if not settings.cache:
        return None
    limits = dataclasses.asdict(settings.extract_limits)
    limits.pop("ocr_timeout_s", None)  # how long we waited does not change what was read
    fingerprint = pipeline_fingerprint(versions, RULES_DIR, settings.ocr, limits)
    cache = ResultCache(settings.cache_path, fingerprint)
    return cache if cache.enabled else None


def _tool_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"cplrecon": __version__, "python": platform.python_version()}
    for package in (
        "pdfplumber", "pypdfium2", "pikepdf", "pebble", "pytesseract", "regex", "openpyxl", "xlsxwriter"
    ):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = "not installed"
    try:
        import pytesseract

        versions["tesseract"] = str(pytesseract.get_tesseract_version())
    except Exception:  # tesseract missing: recorded, not fatal
        versions["tesseract"] = "not installed"
    return versions


def run_reconcile(settings: Settings) -> RunOutcome:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    cpl = read_cpl(settings.cpl)  # first: a bad CPL file stops the run before any slow work
    registry = load_registry(
        [Path(p) for p in settings.manufacturers], [Path(p) for p in settings.models]
    )
    evidence = load_evidence(settings.evidence) if settings.evidence else None  # bad manifest: exit 2
    ota_images = discover_ota(settings.ota) if settings.ota else None
    timings["read_inputs_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    documents, skipped = discover(settings.certs, settings.ingest_limits)
    timings["ingest_s"] = time.perf_counter() - mark
    versions = _tool_versions()
    cache = _open_cache(settings, versions)
    mark = time.perf_counter()
    progress = Progress.for_terminal(len(documents), settings.quiet)
    try:
        certificates = list(process_documents(documents, settings, cache, progress))
    finally:
        progress.close()
        if cache is not None:
            cache.close()
    timings["extract_parse_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    results = reconcile(cpl.rows, certificates, registry, evidence=evidence, ota_images=ota_images)
    timings["reconcile_s"] = time.perf_counter() - mark
    stats: dict[str, Any] = {
        "documents": len(documents),
        "cached": progress.cached,
        "duplicates": progress.duplicates,
        "read": len(documents) - progress.cached - progress.duplicates,
        "errors": progress.errors,
        "ocr_pages": progress.ocr,
    }
    run_info = {
        "tool": "cplrecon",
        "versions": versions,
        "rules": {"fields": field_rules().version, "policy": default_policy().version,
                  "device_types": default_device_types().version},
        "inputs": {
            "cpl": {"path": settings.cpl, "sha256": sha256_file(settings.cpl), "rows": len(cpl.rows)},
            "certs": list(settings.certs),
            "documents": len(documents),
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
            "manufacturers": [{"path": p, "sha256": sha256_file(p)} for p in settings.manufacturers],
            "models": [{"path": p, "sha256": sha256_file(p)} for p in settings.models],
            "evidence": (
                {"path": settings.evidence, "sha256": sha256_file(settings.evidence)}
                if settings.evidence else None
            ),
            "ota": list(settings.ota),
        },
        "settings": {
            "workers": settings.workers, "ocr": settings.ocr, "timeout_s": settings.timeout_s,
            "cache": str(settings.cache_path) if cache is not None else None,
        },
        "documents": stats,
        "timings": timings,
    }
    mark = time.perf_counter()
    report = build_report(
        results, certificates, run_info, extra_problems=certificate_conflicts(certificates),
        ota_images=ota_images, evidence=evidence,
    )
    # Set before writing: run.json shares this dict, and a timing set after it is written is lost.
    timings["build_report_s"] = time.perf_counter() - mark
    timings["total_before_writing_s"] = time.perf_counter() - started
    outputs = write_outputs(report, Path(settings.out))
    timings["total_s"] = time.perf_counter() - started
    stats["seconds"] = timings["total_s"]
    return RunOutcome(
        results, certificates, outputs, exit_code_for(results, settings.fail_on), stats
    )


def exit_code_for(results: Sequence[RowResult], fail_on: str | None) -> int:
    """0 when the run completed; 1 when --fail-on is met (fail: FAIL/ERROR/NO_CERTIFICATE rows)."""
    if fail_on is None:
        return 0
    failing = {Overall.FAIL, Overall.ERROR, Overall.NO_CERTIFICATE}
    if fail_on == "review":
        failing |= {Overall.REVIEW}
    return 1 if any(r.overall in failing for r in results) else 0
