"""What a run was asked to do (Settings, from the command line) and the reference data its rows
are judged against (RunInputs: registries, evidence, OTA images, policy, device types)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.evidence import Evidence, load_evidence
from pipeline.ingest import IngestLimits
from pipeline.models import ExtractLimits
from pipeline.ota import OtaImage, discover_ota
from pipeline.policy import DeviceTypes, PolicyRules, RulesFileError
from pipeline.registry import Registry, load_registry
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
    crops: bool = True  # --no-crops: no evidence/ PNGs of the fields (report.crops)
    tasks_per_worker: int = TASKS_PER_WORKER
    executor: str = "local"  # local (this machine's pool) | dask
    scheduler: str | None = None  # a Dask scheduler's address; None with dask: a LocalCluster

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir or self.out) / CACHE_FILE




@dataclass(frozen=True)
class RunInputs:
    """Everything besides the CPL rows and the certificates that a row's verdict depends on.

    None means "not given" for evidence and OTA images (their columns stay empty), and "the
    shipped rules" for the registry, policy and device types."""

    registry: Registry | None = None
    evidence: Evidence | None = None
    ota_images: Sequence[OtaImage] | None = None
    policy: PolicyRules | None = None
    device_types: DeviceTypes | None = None

    @classmethod
    def load(cls, settings: Settings) -> RunInputs:
        """The files the settings name; a bad evidence manifest raises (exit 2) before slow work."""
        try:
            registry = load_registry(
                [Path(p) for p in settings.manufacturers], [Path(p) for p in settings.models]
            )
        except RulesFileError:
            raise
        except ValueError as exc:  # registry.py reports a bad line as ValueError naming the file
            raise RulesFileError(str(exc)) from exc
        evidence = load_evidence(settings.evidence) if settings.evidence else None
        ota_images = discover_ota(settings.ota) if settings.ota else None
        return cls(registry=registry, evidence=evidence, ota_images=ota_images)
