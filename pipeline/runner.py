"""Run the stages in order: ingest -> (extract -> parse per document) -> reconcile -> report.

The one place that knows every stage; per-document work is in document.py.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import __version__
from pipeline.cpl import read_cpl
from pipeline.document import field_rules, process_document
from pipeline.extract import ExtractLimits
from pipeline.ingest import IngestLimits, discover
from pipeline.models import Certificate, Document, Overall, RowResult
from pipeline.reconcile import reconcile
from pipeline.registry import load_registry
from pipeline.report import build_report, write_outputs


@dataclass(frozen=True)
class Settings:
    certs: tuple[str, ...]
    cpl: str
    out: str
    manufacturers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    evidence: str | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ocr: str = "auto"  # auto | always | never
    fail_on: str | None = None  # fail | review
    extract_limits: ExtractLimits = ExtractLimits()
    ingest_limits: IngestLimits = IngestLimits()


@dataclass(frozen=True)
class RunOutcome:
    results: list[RowResult]
    certificates: list[Certificate]
    outputs: dict[str, Path]
    exit_code: int


def _process_star(args: tuple[Document, str, ExtractLimits]) -> Certificate:
    return process_document(*args)


def process_documents(
    documents: Sequence[Document], settings: Settings
) -> Iterator[Certificate]:
    """Certificates in input order; a process pool when there is enough work for one."""
    jobs = [(d, settings.ocr, settings.extract_limits) for d in documents]
    workers = max(1, min(settings.workers, len(jobs)))
    if workers == 1:
        yield from map(_process_star, jobs)
        return
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with ProcessPoolExecutor(max_workers=workers, max_tasks_per_child=500) as pool:
        yield from pool.map(_process_star, jobs, chunksize=4)


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tool_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"cplrecon": __version__, "python": platform.python_version()}
    for package in ("pdfplumber", "pypdfium2", "pytesseract", "regex", "openpyxl", "xlsxwriter"):
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
    timings["read_inputs_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    documents, skipped = discover(settings.certs, settings.ingest_limits)
    timings["ingest_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    certificates = list(process_documents(documents, settings))
    timings["extract_parse_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    results = reconcile(cpl.rows, certificates, registry)
    timings["reconcile_s"] = time.perf_counter() - mark
    run_info = {
        "tool": "cplrecon",
        "versions": _tool_versions(),
        "rules": {"fields": field_rules().version},
        "inputs": {
            "cpl": {"path": settings.cpl, "sha256": _file_hash(settings.cpl), "rows": len(cpl.rows)},
            "certs": list(settings.certs),
            "documents": len(documents),
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
            "manufacturers": [{"path": p, "sha256": _file_hash(p)} for p in settings.manufacturers],
            "models": [{"path": p, "sha256": _file_hash(p)} for p in settings.models],
        },
        "settings": {"workers": settings.workers, "ocr": settings.ocr},
        "timings": timings,
    }
    mark = time.perf_counter()
    report = build_report(results, certificates, run_info)
    outputs = write_outputs(report, Path(settings.out))
    timings["report_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started
    return RunOutcome(results, certificates, outputs, exit_code_for(results, settings.fail_on))


def exit_code_for(results: Sequence[RowResult], fail_on: str | None) -> int:
    """0 when the run completed; 1 when --fail-on is met (fail: FAIL/ERROR/NO_CERTIFICATE rows)."""
    if fail_on is None:
        return 0
    failing = {Overall.FAIL, Overall.ERROR, Overall.NO_CERTIFICATE}
    if fail_on == "review":
        failing |= {Overall.REVIEW}
    return 1 if any(r.overall in failing for r in results) else 0
