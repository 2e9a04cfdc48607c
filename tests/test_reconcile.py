"""Reconcile: linking rows to certificates, and scans judged like their born-digital originals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.models import FIELDS, Certificate, CplRow, DeviceListing, Field, Overall, TextSource
from pipeline.reconcile import reconcile

from conftest import SAMPLES, read_csv

LISTING = DeviceListing("EDMI Ltd (10:6C)", "ES-10B (01:02)", "01_02", "0C:03:0C:22")


def cpl_row(certificate_id: str) -> CplRow:
    return CplRow(1, "S1", certificate_id, "10:6C", "01:02", "01", "02", "0C:03:0C:22")


def certificate(certificate_id: str, source: TextSource) -> Certificate:
    return Certificate(file=f"{certificate_id}.pdf", sha256="0" * 64, pages=1, text_source=source,
                       certificate_id=certificate_id, listings=(LISTING,))


@pytest.mark.parametrize(
    ("cpl_id", "on_file", "expected", "linked_by_confusion"),
    [
        # a scan read Z1G for ZIG: linked, and the reasons say how
        ("ZIG17123SE0456", [("Z1G17123SE0456", TextSource.OCR)], Overall.PASS, True),
        ("ZIG17123SE0456", [("ZIG17123SEO456", TextSource.OCR)], Overall.PASS, True),
        # a born-digital text layer is exact: a different character is a different ID
        ("ZIG17123SE0456", [("Z1G17123SE0456", TextSource.TEXT)], Overall.NO_CERTIFICATE, False),
        # two different IDs share the confusable key: never merged, never guessed
        ("ZIG1O", [("ZIG10", TextSource.OCR), ("ZIGIO", TextSource.OCR)],
         Overall.NO_CERTIFICATE, False),
        # case, spaces and dashes never matter
        ("zig 17-123 se0456", [("ZIG17123SE0456", TextSource.TEXT)], Overall.PASS, False),
    ],
)
def test_certificate_id_linking(
    cpl_id: str, on_file: list[tuple[str, TextSource]], expected: Overall, linked_by_confusion: bool
) -> None:
    (result,) = reconcile([cpl_row(cpl_id)], [certificate(cid, src) for cid, src in on_file])
    assert result.overall is expected
    assert any("OCR character confusions" in r for r in result.reasons) is linked_by_confusion


def test_scans_get_the_verdicts_of_their_born_digital_originals(tmp_path: Path) -> None:
    """Real tesseract on the bundled scans (image PDF, PNG, JPEG, TIFF; every layout)."""
    scanned = json.loads((SAMPLES / "scanned" / "truth.json").read_text())["certificates"]
    ids = {entry["certificate_id"] for entry in scanned}
    with open(SAMPLES / "cpl_submission.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        rows = [row for row in reader if row["ZigBee Certificate ID"] in ids]
    expected = [row for row in read_csv(SAMPLES / "expected.csv") if row["certificate_id"] in ids]
    assert len(rows) == len(expected) >= len(ids)
    cpl = tmp_path / "cpl.csv"
    with open(cpl, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    assert main(["reconcile", "--certs", str(SAMPLES / "scanned"), "--cpl", str(cpl),
                 "--out", str(out), "--no-cache"]) == 0
    got = read_csv(out / "reconciliation.csv")
    fields = ("manufacturer_identifier", "model_identifier", "hardware_version", "firmware_version")
    assert [(g["overall_status"], *(g[f"{f}_status"] for f in fields)) for g in got] == [
        (e["overall_status"], *(e[f"{f}_status"] for f in fields)) for e in expected
    ]
    sources = {row["text_source"] for row in read_csv(out / "certificates.csv")}
    assert sources == {"ocr"}


def test_verdicts_on_ocr_text_say_so_with_the_confidence() -> None:
    """A MISMATCH against a scan may be a misread (42.3 for 12.3): the auditor is told to look."""
    misread = DeviceListing("EDMI Ltd (10:6C)", "ES-10B (01:02)", "01_02", "42.3 (Stack 1.2.3.4)")
    scan = Certificate(file="scan.png", sha256="0" * 64, pages=1, text_source=TextSource.OCR,
                       certificate_id="ZIG1", listings=(misread,),
                       field_confidence=(("firmware_version", 93.4),))
    row = CplRow(1, "S1", "ZIG1", "10:6C", "01:02", "01", "02", "12:03:12:34")
    (result,) = reconcile([row], [scan])
    assert result.overall is Overall.FAIL
    assert any("read by OCR" in r and "firmware_version (OCR confidence 93)" in r
               for r in result.reasons)
    (born_digital,) = reconcile([row], [certificate("ZIG1", TextSource.TEXT)])
    assert not any("read by OCR" in r for r in born_digital.reasons)


def test_each_field_carries_the_page_its_value_stands_on() -> None:
    """F_page: the compared listing's provenance page per field, through to the report row."""
    from pipeline.models import Provenance
    from pipeline.reconcile import Comparison, linked_result
    from pipeline.report.rows import reconciliation_row

    box = (0.0, 0.0, 1.0, 1.0)
    listing = DeviceListing(
        "10:9F", "00:01", "01_02", "0C:03:0C:22",
        evidence=(("manufacturer", Provenance(2, box, "text")),
                  ("firmware_version", Provenance(3, box, "ocr"))),
    )
    cert = Certificate(file="a.pdf", sha256="ab" * 32, certificate_id="ZIG-1", listings=(listing,))
    row = CplRow(1, "S1", "ZIG-1", "10:9F", "00:01", "01", "02", "0C:03:0C:22")
    result = linked_result(row, Comparison(cert, listing, (), (cert,)))
    assert result.page_for(Field.MANUFACTURER) == 2 and result.page_for(Field.MODEL) is None
    cells = reconciliation_row(result)
    assert [cells[f"{f.value}_page"] for f in FIELDS] == ["2", "", "", "3"]
