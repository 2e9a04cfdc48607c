"""What a run's outputs depend on, hashed: tool versions, the extraction fingerprint (the cache
key), the inputs with their hashes, and the run fingerprint that lets unchanged outputs stand."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.evidence import Evidence
from pipeline.ingest import Skipped, sha256_file
from pipeline.models import CplRow, Document
from pipeline.ota import OtaImage
from pipeline.parse import RULES_DIR
from pipeline.report import OUTPUT_FILES
from pipeline.run.cache import RETRIED_NEXT_RUN, pipeline_fingerprint
from pipeline.run.settings import Settings


def extraction_fingerprint(settings: Settings, versions: dict[str, str]) -> str:
    limits = dataclasses.asdict(settings.extract_limits)
    limits.pop("ocr_timeout_s", None)  # how long we waited does not change what was read
    return pipeline_fingerprint(versions, RULES_DIR, settings.ocr, limits)


def input_hashes(
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


def unchanged_outputs(out: Path, fingerprint: str) -> dict[str, Any] | None:
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
    errors = run["counts"].get("certificate_errors", {})
    if any(errors.get(reason.value) for reason in RETRIED_NEXT_RUN):
        return None  # a document that ran out of time may not next time: never cached, retried
    for key in ("reconciliation", "certificates", "audit"):
        name = OUTPUT_FILES[key]
        path = out / name
        if not path.is_file() or recorded.get(name) != sha256_file(str(path)):
            return None
    return run


def tool_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"cplrecon": __version__, "python": platform.python_version()}
    for package in (
        "pdfplumber", "pypdfium2", "pikepdf", "pebble", "pytesseract", "regex", "openpyxl", "xlsxwriter"
    ):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = "not installed"
    versions["tesseract"] = tesseract_version()
    return versions


def tesseract_version() -> str:
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




def rules_file_hashes(rules_dir: Path = RULES_DIR) -> dict[str, str]:
    """sha256 of every file in rules/, by its path there: which rules judged this run."""
    return {
        path.relative_to(rules_dir).as_posix(): sha256_file(str(path))
        for path in sorted(p for p in rules_dir.rglob("*") if p.is_file())
    }


def package_set() -> dict[str, Any]:
    """The installed distributions (`name==version`, sorted) as one hash and a count: two runs
    with the same hash ran on the same package set."""
    import importlib.metadata as md

    names = sorted({
        f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in md.distributions()
    })
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
    return {"sha256": digest, "count": len(names)}


def platform_info() -> dict[str, str]:
    """The operating system the run used (run.json "platform")."""
    return {
        "os": platform.platform(),
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }
