"""Bulk runs: cost per born-digital document vs bare pypdfium2, 2 workers vs 1, cached re-run
vs cold, and peak RSS at 1,000 and 10,000 documents.

The corpus is generated into a temp dir by samples.generate (1,000 born-digital + 50 scanned;
--quick: 200 + 6). Baselines are measured in the same run, and ratios are reported. Each timed
run is a real `run_reconcile` in a fresh child process (cold imports, cold pool, own RSS).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_CHILD = """
import json, resource, sys, time
from pipeline.run.runner import Settings, run_reconcile
kw = json.loads(sys.argv[1])
started = time.perf_counter()
outcome = run_reconcile(Settings(**{k: tuple(v) if k == "certs" else v for k, v in kw.items()}))
wall = time.perf_counter() - started
run = json.load(open(kw["out"] + "/run.json"))
print(json.dumps({"wall_s": wall, "timings": run["timings"], "stats": outcome.stats,
                  # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so it would
                  # include the bench process's own size at fork time.
                  "rss_parent_mb": [int(line.split()[1]) for line in open("/proc/self/status")
                                    if line.startswith("VmHWM:")][0] / 1024,
                  "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _run(out: Path, certs: list[Path], cpl: Path, **settings: Any) -> dict[str, Any]:
    """One run in a fresh process: `wall_s` inside run_reconcile, `process_s` the whole process
    (interpreter start and imports included: what a user of the CLI waits for)."""
    kw = {"certs": [str(c) for c in certs], "cpl": str(cpl), "out": str(out), "quiet": True,
          **settings}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(kw)], check=True,
                          capture_output=True, text=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["process_s"] = time.perf_counter() - started
    return measured


def _change_one_value(cpl: Path, changed: Path) -> None:
    """The same submission with one firmware value edited: the usual reason to run again."""
    with open(cpl, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = next(i for i, name in enumerate(rows[0]) if "firmware" in name.lower())
    rows[1][column] = "00:00:00:01" if rows[1][column] != "00:00:00:01" else "00:00:00:02"
    with open(changed, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def bare_pypdfium2_ms(files: list[Path]) -> float:
    """Open + text of every page, nothing else: the floor for a text-layer reader."""
    import pypdfium2 as pdfium

    datas = [f.read_bytes() for f in files]
    started = time.perf_counter()
    for data in datas:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            continue
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            textpage.get_text_bounded()
            textpage.close()
            page.close()
        pdf.close()
    return (time.perf_counter() - started) / len(datas) * 1000


def _generate(folder: Path, count: int, scanned: int) -> list[Any]:
    from samples.generate import generate_corpus, generate_scanned

    specs = generate_corpus(folder / "certs", count=count, cpl_dir=folder)
    if scanned:
        generate_scanned(folder / "scanned", specs, scanned)
    return specs


def run(quick: bool = False) -> dict[str, Any]:
    born, scans = (200, 6) if quick else (1000, 50)
    root = Path(tempfile.mkdtemp(prefix="cplrecon-bench-"))
    try:
        return _measure(root, born, scans, quick)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _measure(root: Path, born: int, scans: int, quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    _generate(root, born, scans)
    generate_s = time.perf_counter() - started
    certs, scanned, cpl = root / "certs", root / "scanned", root / "cpl_submission.csv"
    pdfs = sorted(certs.glob("*.pdf"))
    bare = min(bare_pypdfium2_ms(pdfs) for _ in range(3))
    digital = _run(root / "o-digital", [certs], cpl, workers=1, timeout_s=None, cache=False)
    per_doc = digital["timings"]["extract_parse_s"] / len(pdfs) * 1000
    one = _run(root / "o-w1", [certs, scanned], cpl, workers=1, cache=False)
    two = _run(root / "o-w2", [certs, scanned], cpl, workers=2)
    same = _run(root / "o-w2", [certs, scanned], cpl, workers=2)
    assert same["stats"].get("up_to_date"), "an unchanged re-run should leave the outputs standing"
    changed_cpl = root / "cpl_changed.csv"
    _change_one_value(cpl, changed_cpl)
    changed = _run(root / "o-w2", [certs, scanned], changed_cpl, workers=2)
    result: dict[str, Any] = {
        "documents": {"born_digital": len(pdfs), "scanned": scans, "generate_s": round(generate_s, 1)},
        "born_digital": {
            "bare_pypdfium2_ms_per_doc": round(bare, 2),
            "cplrecon_ms_per_doc": round(per_doc, 2),
            "ratio": round(per_doc / bare, 2),
            "goal": "<= 3x",
        },
        "workers": {
            "one_s": round(one["timings"]["extract_parse_s"], 2),
            "two_s": round(two["timings"]["extract_parse_s"], 2),
            "speedup": round(one["timings"]["extract_parse_s"] / two["timings"]["extract_parse_s"], 2),
            "goal": ">= 1.8x",
        },
        "cache": {
            "cold_process_s": round(two["process_s"], 2),
            "cold_run_s": round(two["wall_s"], 2),
            "unchanged": {
                "process_s": round(same["process_s"], 3),
                "run_s": round(same["wall_s"], 3),
                "speedup_process": round(two["process_s"] / same["process_s"], 1),
                "speedup_run": round(two["wall_s"] / same["wall_s"], 1),
            },
            "changed_cpl": {
                "process_s": round(changed["process_s"], 3),
                "run_s": round(changed["wall_s"], 3),
                "speedup_process": round(two["process_s"] / changed["process_s"], 1),
                "speedup_run": round(two["wall_s"] / changed["wall_s"], 1),
                "extract_s": round(changed["timings"]["extract_parse_s"], 3),
                "speedup_extract": round(two["timings"]["extract_parse_s"]
                                         / max(changed["timings"]["extract_parse_s"], 1e-6), 1),
                "cached_documents": changed["stats"]["cached"],
                "timings": {k: round(v, 3) for k, v in changed["timings"].items()},
            },
            "goal": ">= 50x",
        },
        "rss_mb": {"1000_docs": {"parent": round(two["rss_parent_mb"], 1),
                                  "worker": round(two["rss_worker_mb"], 1)}},
    }
    if not quick:
        # Like with like: both points born-digital, same settings, no cache, a CPL row per document.
        result["rss_mb"]["1000_docs"] = _rss_at(root / "small", 1_000)
        result["rss_mb"]["10000_docs"] = _rss_at(root / "big", 10_000)
        small, big = result["rss_mb"]["1000_docs"], result["rss_mb"]["10000_docs"]
        result["rss_mb"]["growth_worker_pct"] = round((big["worker"] / small["worker"] - 1) * 100, 1)
        result["rss_mb"]["growth_parent_pct"] = round((big["parent"] / small["parent"] - 1) * 100, 1)
        result["rss_mb"]["goal"] = "flat (within 10%)"
    return result


def _rss_at(folder: Path, count: int) -> dict[str, float]:
    _generate(folder, count, 0)
    measured = _run(folder / "out", [folder / "certs"], folder / "cpl_submission.csv", workers=2,
                    cache=False)
    return {"parent": round(measured["rss_parent_mb"], 1), "worker": round(measured["rss_worker_mb"], 1),
            "wall_s": round(measured["wall_s"], 1)}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
