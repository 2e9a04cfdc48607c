"""OCR path: field accuracy on scans against the same certificates born-digital, cost per page
against bare tesseract on the same page images (timed in the same run), and OCR calls on
born-digital pages (must be 0).

    .venv/bin/python -m benchmarks.bench_ocr [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.document import process_document
from pipeline.extract import ExtractLimits, at_ocr_dpi, image_pages, render_page
from pipeline.extract import tesseract as extract  # the module whose calls are counted
from pipeline.ingest import IngestLimits, file_document
from pipeline.models import Certificate
from samples.generate import LAYOUTS, SCAN_SUFFIX, build_corpus, certificate_bytes, make_scanned

SCAN_COUNT = 12
# (format, dpi, noise, blur): every layout meets several formats over 12 scans
PLAN = (
    ("pdf", 200, 6.0, 0.6),
    ("png", 200, 3.0, 0.5),
    ("jpeg", 200, 5.0, 0.7),
    ("tiff", 300, 3.0, 0.4),
    ("pdf", 300, 8.0, 0.8),
    ("pdf", 150, 4.0, 0.0),
    ("jpeg", 250, 6.0, 0.6),
)
CERT_FIELDS = ("certificate_id", "certificate_date", "device_type")
LISTING_FIELDS = ("manufacturer", "model", "hardware_version", "firmware_version")


def _norm(text: str) -> str:
    return " ".join(text.split())


def field_values(certificate: Certificate, spec: Any) -> dict[str, tuple[str, str]]:
    """Each truth field: (read, printed), whitespace normalised."""
    out = {
        "certificate_id": (certificate.certificate_id, spec.certificate_id),
        "certificate_date": (certificate.certificate_date, spec.certificate_date),
        "device_type": (_norm(certificate.device_type), _norm(spec.device_type)),
    }
    for n, listing in enumerate(spec.listings):
        got = certificate.listings[n] if n < len(certificate.listings) else None
        for name in LISTING_FIELDS:
            have = _norm(getattr(got, name)) if got else ""
            out[f"listing {n + 1} {name}"] = (have, _norm(listing.text(name)))
    return out


def field_results(certificate: Certificate, spec: Any) -> dict[str, bool]:
    """Each truth field: read exactly (whitespace aside)?"""
    return {k: have == want for k, (have, want) in field_values(certificate, spec).items()}


def _specs(count: int) -> list[tuple[Any, str]]:
    """`count` (spec, layout) pairs cycling over the layouts (multi only for multi-model specs)."""
    specs = [s for s in build_corpus().certificates if not s.broken]
    by_layout: dict[str, list[Any]] = {}
    for spec in specs:
        by_layout.setdefault(spec.layout, []).append(spec)
    chosen = []
    for n in range(count):
        layout = LAYOUTS[n % len(LAYOUTS)]
        pool = by_layout[layout]
        chosen.append((pool[(n // len(LAYOUTS)) % len(pool)], layout))
    return chosen


def _process(path: Path) -> Certificate:
    return process_document(file_document(str(path), str(path), IngestLimits()), "auto",
                            ExtractLimits())


def _page_images(path: Path) -> list[Any]:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return [render_page(data, 1)]
    return [at_ocr_dpi(image) for image in image_pages(data, ExtractLimits())]


def _bare_tesseract(image_path: Path) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    subprocess.run(["tesseract", str(image_path), "stdout", "--psm", "6", "-l", "eng"],  # noqa: S603,S607
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def run(count: int = SCAN_COUNT) -> dict[str, Any]:
    calls = {"n": 0}
    real = extract.tesseract_words

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return real(*args, **kwargs)

    extract.tesseract_words = counted  # type: ignore[assignment]
    try:
        return _run(count, calls)
    finally:
        extract.tesseract_words = real  # type: ignore[assignment]


def _run(count: int, calls: dict[str, int]) -> dict[str, Any]:
    scanned_ok = scanned_total = digital_ok = digital_total = 0
    per_scan = []
    path_s = bare_s = 0.0
    pages = 0
    born_digital_calls = 0
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(os.environ.get("BENCH_OCR_KEEP", tmp))  # keep the scans to look at them
        folder.mkdir(parents=True, exist_ok=True)
        for n, (spec, layout) in enumerate(_specs(count)):
            fmt, dpi, noise, blur = PLAN[n % len(PLAN)]
            rotation = (0.3 + 1.2 * ((n * 7) % 10) / 9) * (1 if n % 2 else -1)
            scan = folder / f"scan_{n + 1:02d}_{layout}{SCAN_SUFFIX[fmt]}"
            make_scanned(spec, layout, scan, fmt, dpi, round(rotation, 2), noise, blur, seed=n)
            digital = folder / f"digital_{n + 1:02d}_{layout}.pdf"
            digital.write_bytes(certificate_bytes(spec, layout))

            before = calls["n"]
            digital_cert = _process(digital)
            born_digital_calls += calls["n"] - before
            got_digital = field_results(digital_cert, spec)

            before = calls["n"]
            start = time.perf_counter()
            scan_cert = _process(scan)
            path_s += time.perf_counter() - start
            ocr_pages = calls["n"] - before
            pages += ocr_pages
            for index, image in enumerate(_page_images(scan)[:max(ocr_pages, 1)]):
                page_file = folder / f"bare_{n}_{index}.tif"
                image.save(page_file, "TIFF", dpi=image.info.get("dpi", (200, 200)), compression="raw")
                bare_s += _bare_tesseract(page_file)
            got_scan = field_results(scan_cert, spec)

            scanned_ok += sum(got_scan.values())
            scanned_total += len(got_scan)
            digital_ok += sum(got_digital.values())
            digital_total += len(got_digital)
            per_scan.append({
                "file": scan.name, "format": fmt, "dpi": dpi,
                "wrong": {k: v for k, v in field_values(scan_cert, spec).items() if v[0] != v[1]},
                "wrong_born_digital": sorted(k for k, ok in got_digital.items() if not ok),
                "ocr_reason": scan_cert.ocr_reason,
                "field_confidence": dict(scan_cert.field_confidence),
            })
    scanned_acc = 100.0 * scanned_ok / scanned_total
    digital_acc = 100.0 * digital_ok / digital_total
    return {
        "name": "ocr",
        "scans": count,
        "field_accuracy_scanned_pct": round(scanned_acc, 1),
        "field_accuracy_born_digital_pct": round(digital_acc, 1),
        "accuracy_gap_points": round(digital_acc - scanned_acc, 1),
        "accuracy_within_2_points": digital_acc - scanned_acc <= 2.0,
        "ocr_pages": pages,
        "ocr_path_s_per_page": round(path_s / max(pages, 1), 3),
        "bare_tesseract_s_per_page": round(bare_s / max(pages, 1), 3),
        "cost_ratio": round(path_s / bare_s, 3) if bare_s else None,
        "cost_within_1_15x": bool(bare_s) and path_s / bare_s <= 1.15,
        "ocr_calls_on_born_digital_pages": born_digital_calls,
        "per_scan": per_scan,
    }


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else SCAN_COUNT)
    print(json.dumps(result, indent=2))
