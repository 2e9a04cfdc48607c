"""Run the stages in order: ingest -> (extract -> parse per document) -> reconcile -> report.

The one place that knows every stage; per-document work is in document.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.cpl import read_cpl
from pipeline.evidence import Evidence, load_evidence
from pipeline.ingest import IngestLimits, Skipped, discover, sha256_file
from pipeline.models import (
    Certificate,
    CplRow,
    Document,
    DocumentError,
    ErrorReason,
    ExtractLimits,
    Overall,
)
from pipeline.ota import OtaImage, discover_ota
from pipeline.parse import RULES_DIR, load_field_rules
from pipeline.policy import default_device_types, default_policy
from pipeline.reconcile import CertificateLookup, reconcile_rows
from pipeline.registry import Registry, load_registry
from pipeline.report import OUTPUT_FILES, OutputWriter, ReportAssembler
from pipeline.run.cache import CACHE_FILE, ResultCache, certificate_from_json, pipeline_fingerprint
from pipeline.run.progress import Progress
from pipeline.run.spool import CertificateSpool

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
    crops: bool = True  # --no-crops: no evidence/ PNGs of the fields (report.crops)
    tasks_per_worker: int = TASKS_PER_WORKER

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or self.out) / CACHE_FILE


@dataclass(frozen=True)
class RunOutcome:
    """What a run leaves behind besides its output files (which hold every row)."""

    counts: dict[str, Any]  # as in run.json: rows by overall status, certificates, problems...
    outputs: dict[str, Path]
    exit_code: int
    stats: dict[str, Any] = field(default_factory=dict)  # documents, cached, errors, seconds


def _process_star(args: tuple[Document, str, ExtractLimits]) -> Certificate:
    # Imported here: the PDF and OCR libraries load where documents are read, not in a run
    # whose documents all come from the cache.
    from pipeline.document import process_document

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
    What is kept per document is its digest; a certificate is held after it is yielded only
    when its bytes appear again later.
    """
    cached = (
        {_digest(s) for s in cache.present(d.sha256 for d in documents if d.error is None)}
        if cache else set()
    )
    seen: set[bytes] = set()
    repeated: dict[bytes, int] = {}  # digest of bytes seen twice -> position of the first copy
    fresh_count = 0
    for document in documents:
        if document.error is None:
            digest = _digest(document.sha256)
            if digest in seen:
                repeated[digest] = -1
            else:
                seen.add(digest)
                fresh_count += digest not in cached
    del seen
    if repeated:
        for position, document in enumerate(documents):
            if document.error is None:
                digest = _digest(document.sha256)
                if repeated.get(digest) == -1:
                    repeated[digest] = position
    fresh = _fresh_certificates(
        _first_copies(documents, cached, repeated), fresh_count, settings,
        cache.flush if cache else None,
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
            progress.advance(certificate, cached=from_cache, duplicate=duplicate)
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
        return Certificate(file=document.name, sha256=document.sha256, error=document.error), False
    if cached and cache is not None:
        text = cache.get(document.sha256)
        if text is not None:
            return certificate_from_json(text, document.name), True
        # The cache failed since the look-up (it warned): read this one here, in-process.
        return _process_star((document, settings.ocr, settings.extract_limits)), False
    while document.sha256 not in done:  # workers answer in job order: pull up to this one
        certificate = next(fresh)
        done[certificate.sha256] = certificate
        if cache is not None:
            cache.store(certificate)
    return dataclasses.replace(done[document.sha256], file=document.name), False


def _fresh_certificates(
    jobs: Iterable[Document],
    count: int,
    settings: Settings,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Certificate]:
    """Read and parse `count` documents: in child processes whenever a time limit must be
    enforceable. Jobs are taken from `jobs` as workers get to them, not all at once."""
    if not count:
        return
    work = ((d, settings.ocr, settings.extract_limits) for d in jobs)
    if not settings.timeout_s and settings.workers == 1:
        yield from map(_process_star, work)
        return
    from pipeline.run.pebble import TaskTimeout, run_in_workers

    workers = max(1, min(settings.workers, count))
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


def _extraction_fingerprint(settings: Settings, versions: dict[str, str]) -> str:
    limits = dataclasses.asdict(settings.extract_limits)
    limits.pop("ocr_timeout_s", None)  # how long we waited does not change what was read
    return pipeline_fingerprint(versions, RULES_DIR, settings.ocr, limits)


def _open_cache(settings: Settings, fingerprint: str) -> ResultCache | None:
    if not settings.cache:
        return None
    cache = ResultCache(settings.cache_path, fingerprint)
    return cache if cache.enabled else None


def run_inputs(
    settings: Settings, cpl_rows: Sequence[CplRow], documents: int, skipped: Sequence[Skipped]
) -> dict[str, Any]:
    """The run's input files with their hashes (run.json "inputs"), each file hashed once."""
    return {
        "cpl": {"path": settings.cpl, "sha256": sha256_file(settings.cpl), "rows": len(cpl_rows)},
        "certs": list(settings.certs),
        "documents": documents,
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "manufacturers": [{"path": p, "sha256": sha256_file(p)} for p in settings.manufacturers],
        "models": [{"path": p, "sha256": sha256_file(p)} for p in settings.models],
        "evidence": (
            {"path": settings.evidence, "sha256": sha256_file(settings.evidence)}
            if settings.evidence else None
        ),
        "ota": list(settings.ota),
    }


def run_fingerprint(
    settings: Settings,
    extraction: str,
    inputs: Mapping[str, Any],
    documents: Iterable[Document],
    evidence: Evidence | None,
    ota_images: Sequence[OtaImage] | None,
) -> str:
    """One hash over everything the outputs depend on: the pipeline (code, rules, tools,
    settings), the input files by content (`inputs`), the files the evidence manifest names
    and the OTA images by content, and every input document by name and content."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        digest.update(json.dumps(value, sort_keys=True, default=str).encode() + b"\n")

    feed({
        "extraction": extraction,
        "timeout_s": settings.timeout_s,
        "crops": settings.crops,
        "ingest_limits": dataclasses.asdict(settings.ingest_limits),
        "inputs": inputs,
        "evidence_files": None if evidence is None else sorted(
            [str(path), text.sha256, text.error] for path, text in evidence.texts.items()
        ),
        "ota_images": None if ota_images is None else [[i.file, i.sha256] for i in ota_images],
    })
    for d in documents:
        feed([d.name, d.sha256, d.size, str(d.error) if d.error else None])
    return digest.hexdigest()


def _unchanged_outputs(out: Path, fingerprint: str) -> dict[str, Any] | None:
    """The previous run.json, when that run had this fingerprint and its outputs are untouched."""
    try:
        run = json.loads((out / OUTPUT_FILES["run"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(run, dict) or run.get("run_fingerprint") != fingerprint:
        return None
    recorded = run.get("output_sha256")
    if not isinstance(recorded, dict) or not isinstance(run.get("counts"), dict):
        return None
    if run["counts"].get("certificate_errors", {}).get(ErrorReason.TIMEOUT.value):
        return None  # a document that ran out of time may not next time: never cached, retried
    for key in ("reconciliation", "certificates", "audit"):
        name = OUTPUT_FILES[key]
        path = out / name
        if not path.is_file() or recorded.get(name) != sha256_file(str(path)):
            return None
    return run


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
    versions["tesseract"] = _tesseract_version()
    return versions


def _tesseract_version() -> str:
    """`tesseract --version`'s first line (the binary pytesseract runs): part of the cache key.
    Asked directly, so a run needing no OCR loads neither pytesseract nor PIL."""
    try:
        done = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "not installed"  # recorded, not fatal
    words = (done.stdout or done.stderr).split()
    return words[1] if done.returncode == 0 and len(words) > 1 else "not installed"


def run_reconcile(settings: Settings) -> RunOutcome:
    """The whole run, streamed: documents are spooled to disk as they are read, and rows go to
    the output files as they are judged, so memory stays flat however large the archive."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    cpl = read_cpl(settings.cpl)  # first: a bad CPL file stops the run before any slow work
    for notice in () if settings.quiet else cpl.notices:  # which sheet, header row, encoding
        print(f"cplrecon: CPL file {settings.cpl}: {notice}", file=sys.stderr)
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
    extraction = _extraction_fingerprint(settings, versions)
    count = len(documents)
    inputs = run_inputs(settings, cpl.rows, count, skipped)
    inputs["cpl"]["notices"] = list(cpl.notices)
    fingerprint = run_fingerprint(settings, extraction, inputs, documents, evidence, ota_images)
    if settings.cache:  # --no-cache reads and writes everything again
        previous = _unchanged_outputs(Path(settings.out), fingerprint)
        if previous is not None:
            return _up_to_date(settings, previous, count, started)
    cache = _open_cache(settings, extraction)
    progress = Progress.for_terminal(count, settings.quiet)
    with CertificateSpool() as spool:
        mark = time.perf_counter()
        try:
            for certificate in process_documents(documents, settings, cache, progress):
                spool.add(certificate)
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
        run_info["run_fingerprint"] = fingerprint
        return _reconcile_and_report(
            settings, spool, cpl.rows, registry, evidence, ota_images, run_info, started
        )


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
    registry: Registry,
    evidence: Evidence | None,
    ota_images: Sequence[OtaImage] | None,
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
        for result in reconcile_rows(
            cpl_rows, spool, registry, evidence=evidence, ota_images=ota_images
        ):
            assembler.result(result)
        timings["reconcile_s"] = time.perf_counter() - mark  # rows written as they are judged
        mark = time.perf_counter()
        for certificate in spool:
            assembler.certificate(certificate)
        conflicts = certificate_conflicts(spool)
        timings["certificates_s"] = time.perf_counter() - mark
        # Set before writing: run.json shares this dict, and a timing set after it is written is lost.
        timings["total_before_writing_s"] = time.perf_counter() - started
        summary, run = assembler.finish(run_info, cpl_rows, conflicts, ota_images, evidence)
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
            "cache": str(settings.cache_path) if cache is not None else None,
        },
        "documents": stats,
        "timings": timings,
    }


def exit_code_for(counts: Mapping[str, Any], fail_on: str | None) -> int:
    """0 when the run completed; 1 when --fail-on is met (fail: FAIL/ERROR/NO_CERTIFICATE rows)."""
    if fail_on is None:
        return 0
    failing = {Overall.FAIL, Overall.ERROR, Overall.NO_CERTIFICATE}
    if fail_on == "review":
        failing |= {Overall.REVIEW}
    return 1 if any(counts["overall"].get(o.value, 0) for o in failing) else 0
