"""Bad input gets a clear answer and loses nothing (SPEC): broken files built here, run by the CLI
next to good certificates; every one is a row with its typed reason, the good ones keep their
verdicts, and no spreadsheet cell is a formula."""

from __future__ import annotations

import csv
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from samples.generate import generate_corpus
from samples.hostile import text_pdf

POISON = {
    "Certificate ID": "ZIG99SE0001",  # an ID's shape; a formula as the ID: poisoned_id.pdf
    "Certification Date": "@SUM(1+1)",
    "Type of Device": "-2+3 Electricity Smart Metering Equipment (ESME)",
    "Manufacturer": "+EDMI Ltd (10:6C)",
    "Model Identification": "=ES-10B (01:02)",
    "Hardware Version": "-01_02",
    "Application Firmware": "@0C:03:0C:22",
}


def _kv(fields: dict[str, str]) -> list[str]:
    return ["ZigBee Alliance - Certificate of Compliance", *(f"{k}: {v}" for k, v in fields.items())]


def _broken_inputs(folder: Path, good: bytes) -> dict[str, str]:
    """Write the broken documents; return file name -> expected typed reason."""
    rng = random.Random(7)  # noqa: S311 - reproducible junk, not crypto
    folder.mkdir()
    files = {
        "zero.pdf": (b"", "EMPTY"),
        "random.pdf": (bytes(rng.randrange(256) for _ in range(4096)), "NOT_A_PDF"),
        "random_with_header.pdf": (b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4096)),
                                   "CORRUPT"),
        "truncated.pdf": (good[: len(good) * 2 // 5], "CORRUPT"),
        "encrypted.pdf": (text_pdf(_kv(POISON), encrypt="secret"), "ENCRYPTED"),
        "login_page.pdf": (b"<!DOCTYPE html><html><body>Please log in</body></html>", "NOT_A_PDF"),
        "long_300_pages.pdf": (text_pdf(["page"], pages=300), "TOO_LARGE"),
        "banner_14400pt.pdf": (text_pdf(_kv(POISON), size=(14400, 842)), "TOO_LARGE"),
        "blank_page.pdf": (text_pdf([]), None),  # no text at all: NO_FIELDS, or OCR_UNAVAILABLE
        # A formula is not an ID's shape (issue 13): the document is no certificate, no fields
        "poisoned_id.pdf": (text_pdf(_kv(POISON | {"Certificate ID": '=HYPERLINK("http://x","ZIG99")'})),
                            "NOT_A_CERTIFICATE"),
    }
    expected = {}
    for name, (data, reason) in files.items():
        (folder / name).write_bytes(data)
        if reason:
            expected[name] = reason
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner/huge.pdf", b"%PDF-1.4\n" + b"\0" * (30 * 1024 * 1024))
    expected["bomb.zip/inner/huge.pdf"] = "TOO_LARGE"
    return expected


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("broken")
    good = root / "good"
    generate_corpus(good, cpl_dir=root)
    broken = root / "broken"
    expected = _broken_inputs(broken, (good / "cert_0001_kv.pdf").read_bytes())
    (broken / "poisoned.pdf").write_bytes(text_pdf(_kv(POISON)))
    with zipfile.ZipFile(root / "archive.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(good / "cert_0002_table.pdf", "2019/q1/cert_0002_table.pdf")
    out = root / "out"
    code = main(["reconcile", "--certs", str(good), str(broken), str(root / "archive.zip"),
                 "--cpl", str(root / "cpl_submission.csv"), "--out", str(out),
                 "--workers", "2", "--ocr", "never", "--quiet"])
    assert code == 0
    return {"root": root, "out": out, "good": good, "broken": broken,
            "expected": expected}  # type: ignore[dict-item]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_every_broken_input_is_a_row_with_its_typed_reason(run: dict) -> None:
    rows = {Path(r["certificate_file"]).name if "bomb.zip" not in r["certificate_file"]
            else "bomb.zip/inner/huge.pdf": r
            for r in _rows(run["out"] / "certificates.csv")}
    for name, reason in run["expected"].items():
        assert rows[name]["status"] == "ERROR", name
        assert rows[name]["error"].startswith(reason + ":"), (name, rows[name]["error"])
    assert rows["blank_page.pdf"]["error"].split(":")[0] in {"NO_FIELDS", "OCR_UNAVAILABLE"}


def test_good_documents_keep_their_verdicts(run: dict) -> None:
    expected = {r["submission_row"]: r["overall_status"] for r in _rows(run["root"] / "expected.csv")}
    got = {r["submission_row"]: r["overall_status"] for r in _rows(run["out"] / "reconciliation.csv")}
    assert got == expected
    files = [r["certificate_file"] for r in _rows(run["out"] / "certificates.csv")]
    assert f"{run['root'] / 'archive.zip'}/2019/q1/cert_0002_table.pdf" in files
    assert len(files) == len(list(run["good"].glob("*.pdf"))) + len(list(run["broken"].iterdir())) + 1


def test_poisoned_fields_are_never_formulas(run: dict) -> None:
    cert_rows = _rows(run["out"] / "certificates.csv")
    poisoned = next(r for r in cert_rows if r["certificate_file"].endswith("poisoned.pdf"))
    assert poisoned["model"].startswith("'="), poisoned  # read as written, then neutralised
    assert poisoned["manufacturer"].startswith("'+"), poisoned
    for name in ("certificates.csv", "reconciliation.csv"):
        for row in _rows(run["out"] / name):
            for cell in row.values():
                assert (cell or "x")[0] not in "=+-@", (name, cell)
    workbook = openpyxl.load_workbook(run["out"] / "audit.xlsx")
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value:
                    assert cell.value[0] not in "=+-@", (sheet.title, cell.value)
