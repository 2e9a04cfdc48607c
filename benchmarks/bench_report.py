"""What the auditor's evidence costs (issue 12): crops, and the workbook's memory.

- **Crop cost.** One born-digital corpus from the sample generator is reconciled with crops and
  without (`--no-crops`) in the same run, alternating, each into a fresh output folder with no
  cache (so every crop is rendered), in-process with one worker so the two differ only by the
  crops. The ratio of the medians is the cost; the goal is at most 1.25x.
- **Workbook memory.** audit.xlsx written for 10,000 CPL rows (and their certificates), its
  Python allocation peak measured with tracemalloc, in xlsxwriter's constant-memory mode (what
  the writer uses) and without it, so the effect of streaming rows to disk shows.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from pipeline.run.runner import Settings, run_reconcile

GOAL = 1.25
SEED = 20261202


def _corpus(folder: Path, count: int) -> tuple[Path, Path]:
    from samples.generate import generate_corpus

    generate_corpus(folder / "certs", seed=SEED, count=count, cpl_dir=folder)
    return folder / "certs", folder / "cpl_submission.csv"


def _run(certs: Path, cpl: Path, out: Path, crops: bool, pool: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    how: dict[str, Any] = {"workers": 2} if pool else {"workers": 1, "timeout_s": None}
    started = time.perf_counter()
    run_reconcile(Settings(certs=(str(certs),), cpl=str(cpl), out=str(out), cache=False,
                           quiet=True, crops=crops, ocr="never", **how))
    return time.perf_counter() - started


def crop_cost(count: int, repeats: int) -> dict[str, Any]:
    """With and without crops, alternating, for the default local pool of two workers (crops
    made by the workers) and in-process (every crop in the one process: their full CPU cost)."""
    result: dict[str, Any] = {"documents": count, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="cplrecon-bench-report-") as tmp:
        folder = Path(tmp)
        certs, cpl = _corpus(folder, count)
        _run(certs, cpl, folder / "warm", crops=True, pool=False)  # imports and fonts, once
        result["crops"] = len(list((folder / "warm" / "evidence").glob("*.png")))
        for pool in (True, False):
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(repeats):
                for crops in (False, True):
                    times[crops].append(_run(certs, cpl, folder / "out", crops, pool))
            without, with_crops = statistics.median(times[False]), statistics.median(times[True])
            ratio = with_crops / without
            result["pool_of_2" if pool else "in_process"] = {
                "without_crops_s": round(without, 3), "with_crops_s": round(with_crops, 3),
                "per_crop_ms": round((with_crops - without) / max(result["crops"], 1) * 1000, 2),
                "ratio": round(ratio, 3), "goal": GOAL, "met": ratio <= GOAL,
            }
    return result


def crop_breakdown(count: int) -> dict[str, Any]:
    """Per crop, where the time goes: rendering and PNG encoding (in memory), writing the file,
    and embedding it in the Evidence sheet (xlsxwriter copies each image to a temp file and
    removes it when it zips the workbook)."""
    import xlsxwriter

    from pipeline.document import process_document
    from pipeline.extract import ExtractLimits
    from pipeline.ingest import discover
    from pipeline.models import Provenance, certificates_in
    from pipeline.report import crops as crop_module
    from pipeline.report.writers.atomic import write_once

    with tempfile.TemporaryDirectory(prefix="cplrecon-bench-crops-") as tmp:
        folder = Path(tmp)
        certs, _ = _corpus(folder, count)
        documents, _ = discover([str(certs)])
        started = time.perf_counter()
        read = [process_document(d, "never", ExtractLimits()) for d in documents]
        reading = time.perf_counter() - started
        work: list[tuple[str, list[Provenance]]] = []
        for certificate in (c for c in read if c.ok):
            for part in certificates_in(certificate):
                boxes = [p for _, p in part.evidence]
                boxes += [p for listing in part.listings for _, p in listing.evidence]
                work.append((part.file, boxes))
        started = time.perf_counter()
        pngs = [png for file, boxes in work
                for _, png in crop_module._render(Path(file).read_bytes(), file, boxes)]
        rendering = time.perf_counter() - started
        started = time.perf_counter()
        for n, png in enumerate(pngs):
            write_once(folder / "evidence" / f"{n}.png", png)
        writing = time.perf_counter() - started
        started = time.perf_counter()
        workbook = xlsxwriter.Workbook(str(folder / "e.xlsx"), {"constant_memory": True})
        sheet = workbook.add_worksheet("Evidence")
        for n in range(len(pngs)):
            sheet.write_string(n, 0, str(n))
            sheet.insert_image(n, 1, str(folder / "evidence" / f"{n}.png"))
        workbook.close()
        embedding = time.perf_counter() - started
    crops = max(len(pngs), 1)
    return {
        "documents": len(read), "crops": len(pngs),
        "read_per_document_ms": round(reading / max(len(read), 1) * 1000, 2),
        "render_encode_per_crop_ms": round(rendering / crops * 1000, 3),
        "write_file_per_crop_ms": round(writing / crops * 1000, 3),
        "embed_in_xlsx_per_crop_ms": round(embedding / crops * 1000, 3),
        "mean_png_bytes": sum(map(len, pngs)) // crops,
    }


def _write_workbook(folder: Path, rows: int, constant_memory: bool) -> tuple[float, float]:
    """(tracemalloc peak in MB, seconds) for audit.xlsx alone, fed `rows` reconciliation rows."""
    from pipeline.report.writers import xlsx
    from pipeline.report.writers.sink import CertificateRecord, WriterOptions

    row = {"submission_row": "", "submission_id": "", "certificate_id": "ZIG20254SE6157",
           "certificate_file": str(folder / "cert.pdf"), "overall_status": "PASS",
           "reasons": "compared with listing 1 of 3: ES-10B on cert.pdf; model MAPPED by hex",
           "manufacturer_identifier_cpl": "10:6C", "manufacturer_identifier_certificate":
           "EDMI Ltd (10:6C)", "manufacturer_identifier_status": "MATCH",
           "manufacturer_identifier_reason": "the certificate shows 10:6C in hex",
           "manufacturer_identifier_page": "1", "firmware_version_cpl": "0C:03:0C:22",
           "firmware_version_certificate": "12.3 (Stack 12.34)", "firmware_version_status": "MAPPED"}
    options = dict(xlsx._WORKBOOK_OPTIONS, constant_memory=constant_memory)
    saved, xlsx._WORKBOOK_OPTIONS = xlsx._WORKBOOK_OPTIONS, options
    tracemalloc.start()
    started = time.perf_counter()
    try:
        sink = xlsx.XlsxSink(folder / "audit.xlsx", WriterOptions(folder, crops=False),
                             formats=xlsx._workbook_formats)
        for n in range(1, rows + 1):
            sink.add_row({**row, "submission_row": str(n), "submission_id": f"SUB-{n:05d}"})
        for n in range(rows // 4):
            sink.add_certificate(CertificateRecord({"certificate_file": f"c{n}.pdf", "pages": "1",
                                                    "status": "OK", "certificate_id": f"ZIG{n}"}))
        sink.finish([], {"counts": {"rows": rows, "overall": {"PASS": rows}}})
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        xlsx._WORKBOOK_OPTIONS = saved
    return peak / 1e6, seconds


def workbook_memory(rows: int) -> dict[str, Any]:
    result: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="cplrecon-bench-xlsx-") as tmp:
        for constant in (True, False):
            peak, seconds = _write_workbook(Path(tmp), rows, constant)
            key = "constant_memory" if constant else "in_memory"
            result[key] = {"peak_mb": round(peak, 1), "seconds": round(seconds, 2)}
    result["in_memory_over_constant"] = round(
        result["in_memory"]["peak_mb"] / max(result["constant_memory"]["peak_mb"], 0.1), 1)
    return result


def run(quick: bool = False) -> dict[str, Any]:
    return {
        "crop_cost": crop_cost(count=20 if quick else 60, repeats=2 if quick else 3),
        "crop_breakdown": crop_breakdown(count=20 if quick else 60),
        "workbook_memory": workbook_memory(2_000 if quick else 10_000),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
