"""Bulk runs: cache (resume, invalidation), duplicates and conflicts, per-document timeout,
a SIGKILLed run leaving the previous outputs intact, and what goes to stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from pipeline.cli import main
from pipeline.extract import tesseract_available
from pipeline.models import Certificate, DeviceListing, DocumentError, ErrorReason, TextSource
from pipeline.run.cache import (
    CACHE_FILE,
    ResultCache,
    certificate_from_json,
    certificate_to_json,
    pipeline_fingerprint,
)
from pipeline.run.runner import Settings, run_reconcile
from samples.generate import generate_corpus

ROOT = Path(__file__).resolve().parent.parent
SCAN = ROOT / "samples" / "scanned" / "scan_004_prose.png"


def _kv_pdf(certificate_id: str, firmware: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    lines = ["ZigBee Alliance - Certificate of Compliance", f"Certificate ID: {certificate_id}",
             "Manufacturer: EDMI Ltd (10:6C)", "Model Identification: ES-10B (01:02)",
             "Hardware Version: 01_02", f"Application Firmware: {firmware}"]
    for n, line in enumerate(lines):
        canvas.drawString(72, 770 - 18 * n, line)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bulk")
    generate_corpus(root / "certs", cpl_dir=root)
    return root


def _settings(root: Path, out: Path, **kw: object) -> Settings:
    base = dict(certs=(str(root / "certs"),), cpl=str(root / "cpl_submission.csv"), out=str(out),
                workers=2, ocr="never", quiet=True)
    return Settings(**{**base, **kw})  # type: ignore[arg-type]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_cached_rerun_with_changed_cpl_reads_nothing(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_reconcile(_settings(corpus, out))
    assert first.stats["read"] > 30 and first.stats["cached"] == 0
    assert (out / CACHE_FILE).exists()
    before = {r["certificate_file"]: r for r in _rows(out / "certificates.csv")}
    changed = tmp_path / "cpl.csv"
    lines = (corpus / "cpl_submission.csv").read_text().splitlines(keepends=True)
    changed.write_text("".join(lines[:10]))
    second = run_reconcile(_settings(corpus, out, cpl=str(changed)))
    assert second.stats["read"] == 1  # only not_really.pdf, refused at ingest, is never cached
    assert second.stats["cached"] == first.stats["read"] - 1
    assert second.counts["rows"] == len(_rows(out / "reconciliation.csv")) == 9
    after = _rows(out / "certificates.csv")
    assert len(after) == len(before)
    for row in after:  # the same fields from the cache as from the documents (links aside)
        assert {k: v for k, v in row.items() if not k.startswith("cpl_")} == {
            k: v for k, v in before[row["certificate_file"]].items() if not k.startswith("cpl_")
        }


def test_no_cache_and_cache_dir(corpus: Path, tmp_path: Path) -> None:
    run_reconcile(_settings(corpus, tmp_path / "a", cache=False))
    assert not (tmp_path / "a" / CACHE_FILE).exists()
    run_reconcile(_settings(corpus, tmp_path / "b", cache_dir=str(tmp_path / "cache")))
    assert (tmp_path / "cache" / CACHE_FILE).exists() and not (tmp_path / "b" / CACHE_FILE).exists()


def test_fingerprint_covers_rules_ocr_and_tools(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    versions = {"cplrecon": "1", "pypdfium2": "4", "pdfplumber": "0.11", "tesseract": "5"}
    base = pipeline_fingerprint(versions, rules, "auto", {})
    assert base == pipeline_fingerprint(versions, rules, "auto", {})
    assert base != pipeline_fingerprint(versions, rules, "never", {})
    assert base != pipeline_fingerprint({**versions, "tesseract": "5.1"}, rules, "auto", {})
    some_rule = next(p for p in sorted(rules.rglob("*")) if p.is_file())
    some_rule.write_bytes(some_rule.read_bytes() + b"\n# changed\n")
    assert base != pipeline_fingerprint(versions, rules, "auto", {})


def test_cache_round_trips_errors_and_skips_timeouts(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite", "fp")
    ok = Certificate(file="a.pdf", sha256="aa", pages=1, text_source=TextSource.TEXT,
                     certificate_id="ZIG1", listings=(DeviceListing("10:6C", "m", "01_02", "1"),),
                     notes=("repaired",))
    bad = Certificate(file="b.pdf", sha256="bb", error=DocumentError(ErrorReason.ENCRYPTED, "locked"))
    slow = Certificate(file="c.pdf", sha256="cc", error=DocumentError(ErrorReason.TIMEOUT, "slow"))
    for certificate in (ok, bad, slow):
        cache.store(certificate)
    cache.close()
    found = ResultCache(tmp_path / "c.sqlite", "fp").lookup(["aa", "bb", "cc"])
    assert set(found) == {"aa", "bb"}
    assert certificate_from_json(found["aa"], "a.pdf") == ok
    again = certificate_from_json(found["bb"], "elsewhere/b.pdf")
    assert again.file == "elsewhere/b.pdf" and again.error.reason is ErrorReason.ENCRYPTED
    assert ResultCache(tmp_path / "c.sqlite", "other").lookup(["aa"]) == {}
    assert certificate_from_json(certificate_to_json(ok), "a.pdf") == ok


def test_a_broken_cache_file_is_a_warning(corpus: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / CACHE_FILE).write_bytes(b"this is not sqlite" * 100)
    outcome = run_reconcile(_settings(corpus, out))
    assert outcome.counts["rows"] > 0 and "running without a cache" in capsys.readouterr().err


def test_duplicates_read_once_and_conflicts_reported(corpus: Path, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(corpus / "certs" / "cert_0001_kv.pdf", certs / "a.pdf")
    shutil.copy(corpus / "certs" / "cert_0001_kv.pdf", certs / "b_copy.pdf")
    (certs / "c.pdf").write_bytes(_kv_pdf("ZIG77ABC", "0C:03:0C:22"))
    (certs / "d.pdf").write_bytes(_kv_pdf("ZIG77ABC", "0D:07:00:00"))
    out = tmp_path / "out"
    outcome = run_reconcile(_settings(corpus, out, certs=(str(certs),)))
    assert outcome.stats["duplicates"] == 1 and outcome.stats["read"] == 3
    rows = {Path(r["certificate_file"]).name: r for r in _rows(out / "certificates.csv")}
    assert len(rows) == 4
    assert rows["b_copy.pdf"]["notes"].startswith("duplicate of ")
    assert rows["b_copy.pdf"]["certificate_id"] == rows["a.pdf"]["certificate_id"]
    assert rows["a.pdf"]["notes"] == ""
    workbook = json.loads((out / "run.json").read_text())
    assert workbook["documents"]["duplicates"] == 1
    import openpyxl

    problems = list(openpyxl.load_workbook(out / "audit.xlsx")["Problems"].values)
    conflicts = [p for p in problems if p[1] == "conflict"]
    assert len(conflicts) == 1 and "ZIG77ABC" in conflicts[0][2]
    assert "0C:03:0C:22" in conflicts[0][3] and "0D:07:00:00" in conflicts[0][3]


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_document_over_the_time_limit_is_a_timeout_row(
    corpus: Path, tmp_path: Path, workers: int
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(SCAN, certs / "slow_scan.png")  # OCR takes over a second here
    shutil.copy(corpus / "certs" / "cert_0001_kv.pdf", certs / "good.pdf")
    out = tmp_path / "out"
    started = time.monotonic()
    outcome = run_reconcile(_settings(corpus, out, certs=(str(certs),), workers=workers,
                                      ocr="auto", timeout_s=0.3))
    assert time.monotonic() - started < 20
    by_name = {Path(r["certificate_file"]).name: r for r in _rows(out / "certificates.csv")}
    assert by_name["slow_scan.png"]["error"].startswith(f"{ErrorReason.TIMEOUT.value}:")
    assert by_name["good.pdf"]["status"] == "OK"
    assert outcome.counts["certificate_errors"] == {ErrorReason.TIMEOUT.value: 1}
    again = run_reconcile(_settings(corpus, out, certs=(str(certs),), workers=workers,
                                    ocr="auto", timeout_s=0.3))
    assert again.stats["cached"] == 1  # the TIMEOUT was not cached: it may pass next time


@pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")
def test_sigkill_leaves_outputs_intact_and_the_next_run_resumes(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["reconcile", "--certs", str(corpus / "certs" / "cert_0001_kv.pdf"),
                 "--cpl", str(corpus / "cpl_submission.csv"), "--out", str(out), "--quiet"]) == 0
    previous = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    certs = tmp_path / "certs"
    shutil.copytree(corpus / "certs", certs)
    for n in range(3):  # slow documents last: the run is killed while it reads them
        shutil.copy(SCAN, certs / f"zz_scan_{n}.png")
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(certs), "--cpl",
               str(corpus / "cpl_submission.csv"), "--out", str(out), "--workers", "1",
               "--timeout", "0", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _cached_rows(out / CACHE_FILE) < 35 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    kept = {p.name: p.read_bytes() for p in out.iterdir()
            if p.is_file() and not p.name.startswith(".")}
    assert kept == previous
    outcome = run_reconcile(_settings(corpus, out, certs=(str(certs),), ocr="auto", timeout_s=0.3))
    assert outcome.stats["cached"] >= 35
    assert len(_rows(out / "certificates.csv")) == len([p for p in certs.iterdir() if p.suffix != ".json"])


def _cached_rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_stderr_has_only_a_summary_line_when_not_a_terminal(corpus: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pipeline", "reconcile", "--certs", str(corpus / "certs"),
               "--cpl", str(corpus / "cpl_submission.csv"), "--out", str(tmp_path / "o"),
               "--ocr", "never"]
    loud = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    assert loud.stderr.count("\n") == 1 and loud.stderr.startswith("cplrecon: ")
    assert "\r" not in loud.stderr
    quiet = subprocess.run([*command, "--quiet"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert quiet.stderr == ""


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in
            ("reconciliation.csv", "certificates.csv", "audit.xlsx", "run.json")}


def test_unchanged_inputs_leave_the_outputs_standing(corpus: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    first = run_reconcile(_settings(corpus, out, fail_on="fail"))
    assert first.exit_code == 1 and not first.stats.get("up_to_date")  # the corpus has FAIL rows
    written = _bytes(out)
    again = run_reconcile(_settings(corpus, out, fail_on="fail"))
    assert again.stats["up_to_date"] and again.stats["read"] == again.stats["cached"] == 0
    assert again.counts == first.counts and again.exit_code == 1
    assert run_reconcile(_settings(corpus, out)).exit_code == 0  # --fail-on is not an input
    assert _bytes(out) == written  # nothing rewritten
    assert main(["reconcile", "--certs", str(corpus / "certs"), "--cpl",
                 str(corpus / "cpl_submission.csv"), "--out", str(out), "--ocr", "never"]) == 0
    assert "are up to date" in capsys.readouterr().err


@pytest.mark.parametrize("change", ["edited output", "deleted output", "cpl", "document", "no-cache"])
def test_any_change_runs_again(corpus: Path, tmp_path: Path, change: str) -> None:
    certs = tmp_path / "certs"
    shutil.copytree(corpus / "certs", certs)
    cpl = tmp_path / "cpl.csv"
    shutil.copy(corpus / "cpl_submission.csv", cpl)
    out = tmp_path / "out"
    settings = _settings(corpus, out, certs=(str(certs),), cpl=str(cpl))
    run_reconcile(settings)
    written = _bytes(out)
    if change == "edited output":
        (out / "certificates.csv").write_bytes(written["certificates.csv"] + b"x,y\n")
    elif change == "deleted output":
        (out / "audit.xlsx").unlink()
    elif change == "cpl":
        cpl.write_text(cpl.read_text().replace("0C:03:0C:22", "0C:03:0C:23", 1))
    elif change == "document":
        (certs / "extra.pdf").write_bytes(_kv_pdf("ZIG99NEW", "0C:03:0C:22"))
    else:
        settings = _settings(corpus, out, certs=(str(certs),), cpl=str(cpl), cache=False)
    outcome = run_reconcile(settings)
    assert not outcome.stats.get("up_to_date")
    refused = 1  # not_really.pdf, refused at ingest, is never cached
    expected_read = {"document": refused + 1, "no-cache": outcome.stats["documents"]}
    assert outcome.stats["read"] == expected_read.get(change, refused)
    rewritten = _bytes(out)
    if change in ("edited output", "deleted output", "no-cache"):
        assert rewritten["certificates.csv"] == written["certificates.csv"]
        assert rewritten["reconciliation.csv"] == written["reconciliation.csv"]
    elif change == "cpl":
        assert rewritten["reconciliation.csv"] != written["reconciliation.csv"]
    else:
        assert b"extra.pdf" in rewritten["certificates.csv"]
