"""What a run was asked to do: the settings from the command line, in one frozen record."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.ingest import IngestLimits
from pipeline.models import ExtractLimits
from pipeline.run.cache import CACHE_FILE

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


