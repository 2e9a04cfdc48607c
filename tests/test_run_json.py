"""run.json says when and where the run ran, and on which rules and packages (issue 10)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import json
import platform
from pathlib import Path

from pipeline.cli import main

from conftest import CORPUS, ROOT, SAMPLES


def test_run_json_records_start_os_rules_and_packages(tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert main(["reconcile", "--certs", str(CORPUS), "--cpl", str(SAMPLES / "cpl_submission.csv"),
                 "--out", str(tmp_path), "--quiet", "--ocr", "never"]) == 0
    run = json.loads((tmp_path / "run.json").read_text())
    # The SPEC's keys keep their place; the new ones are added beside them.
    assert {"tool", "versions", "rules", "inputs", "settings", "documents", "timings",
            "run_fingerprint", "counts", "outputs"} <= set(run)
    started = dt.datetime.fromisoformat(run["started"])
    assert before <= started <= dt.datetime.now(dt.UTC)
    assert run["platform"]["os"] == platform.platform()
    rules = ROOT / "rules"
    expected = {p.relative_to(rules).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in rules.rglob("*") if p.is_file()}
    assert run["rules_files"] == expected and "fields.toml" in expected
    installed = sorted({f"{d.metadata['Name'].lower()}=={d.version}" for d in md.distributions()})
    assert run["packages"] == {"sha256": hashlib.sha256("\n".join(installed).encode()).hexdigest(),
                               "count": len(installed)}
    assert any(name.startswith("pebble==") for name in installed)
