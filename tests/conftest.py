"""Shared fixtures: the bundled corpus, and fresh corpora made by the sample generator."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CORPUS = SAMPLES / "corpus"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def truth(folder: Path) -> list[dict[str, Any]]:
    return json.loads((folder / "truth.json").read_text())["certificates"]


@pytest.fixture(scope="session")
def random_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus the generator makes with another seed and 60 certificates (audit cases plus random ones)."""
    from samples.generate import generate_corpus

    folder = tmp_path_factory.mktemp("random-corpus")
    generate_corpus(folder / "certs", seed=20261124, count=60, cpl_dir=folder)
    return folder


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus reconciled once, for real (reader, provenance, crops), in-process:
    its output folder. Tests read it and never write to it."""
    from pipeline.run.runner import Settings, run_reconcile

    out = tmp_path_factory.mktemp("sample-run") / "out"
    run_reconcile(Settings(certs=(str(CORPUS),), cpl=str(SAMPLES / "cpl_submission.csv"),
                           out=str(out), workers=1, timeout_s=None, cache=False, quiet=True))
    return out
