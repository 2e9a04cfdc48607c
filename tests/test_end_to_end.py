"""End to end through the CLI on generated samples: every row's verdicts, every document listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main

from conftest import CORPUS, ROOT, SAMPLES, read_csv

FIELDS = ("manufacturer_identifier", "model_identifier", "hardware_version", "firmware_version")
SPEC_RECONCILIATION = [
    "submission_row", "submission_id", "certificate_id", "certificate_file", "overall_status",
    "reasons",
] + [f"{f}_{part}" for f in FIELDS for part in ("cpl", "certificate", "status", "method")]
SPEC_CERTIFICATES = [
    "certificate_file", "sha256", "pages", "text_source", "certificate_id", "certificate_date",
    "device_type", "manufacturer", "model", "hardware_version", "firmware_version", "status",
    "error",
]


def run(certs: Path, cpl: Path, out: Path, *extra: str) -> int:
    return main(["reconcile", "--certs", str(certs), "--cpl", str(cpl), "--out", str(out),
                 "--workers", "2", *extra])


def verdict_differences(out: Path, expected_csv: Path) -> list[str]:
    got = read_csv(out / "reconciliation.csv")
    expected = read_csv(expected_csv)
    assert [g["submission_row"] for g in got] == [e["submission_row"] for e in expected]
    problems = []
    for g, e in zip(got, expected, strict=True):
        if g["overall_status"] != e["overall_status"]:
            problems.append(f"row {e['submission_row']} overall {g['overall_status']} != "
                            f"{e['overall_status']} ({e['why']}): {g['reasons']}")
        for f in FIELDS:
            want = e[f"{f}_status"]
            if want and g[f"{f}_status"] != want:
                problems.append(f"row {e['submission_row']} {f} {g[f'{f}_status']} != {want} "
                                f"({e['why']}): {g['reasons']}")
    return problems


@pytest.fixture(scope="module")
def bundled_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundled")
    assert run(CORPUS, SAMPLES / "cpl_submission.csv", out) == 0
    return out


def test_bundled_rows_get_expected_verdicts(bundled_out: Path) -> None:
    assert verdict_differences(bundled_out, SAMPLES / "expected.csv") == []


def test_xlsx_submission_gives_the_same_verdicts(tmp_path: Path, bundled_out: Path) -> None:
    assert run(CORPUS, SAMPLES / "cpl_submission.xlsx", tmp_path) == 0
    assert verdict_differences(tmp_path, SAMPLES / "expected.csv") == []
    csv_rows = read_csv(bundled_out / "reconciliation.csv")
    xlsx_rows = read_csv(tmp_path / "reconciliation.csv")
    assert [r["firmware_version_cpl"] for r in xlsx_rows] == [
        r["firmware_version_cpl"] for r in csv_rows
    ]


def test_fresh_random_corpus_gets_expected_verdicts(random_corpus: Path, tmp_path: Path) -> None:
    registry = random_corpus / "manufacturers.csv"  # the names the generator prints, with codes
    assert run(random_corpus / "certs", random_corpus / "cpl_submission.csv", tmp_path,
               "--manufacturers", str(registry)) == 0
    assert verdict_differences(tmp_path, random_corpus / "expected.csv") == []


def test_outputs_follow_the_spec(bundled_out: Path) -> None:
    assert sorted(p.name for p in bundled_out.iterdir() if p.is_file() and not p.name.startswith(".")) == [
        "audit.xlsx", "certificates.csv", "reconciliation.csv", "report.html", "run.json",
    ]
    reconciliation = read_csv(bundled_out / "reconciliation.csv")
    assert list(reconciliation[0])[: len(SPEC_RECONCILIATION)] == SPEC_RECONCILIATION
    certificates = read_csv(bundled_out / "certificates.csv")
    assert list(certificates[0])[: len(SPEC_CERTIFICATES)] == SPEC_CERTIFICATES
    workbook = openpyxl.load_workbook(bundled_out / "audit.xlsx", read_only=True)
    assert workbook.sheetnames[:4] == ["Summary", "Reconciliation", "Certificates", "Problems"]
    run_json = json.loads((bundled_out / "run.json").read_text())
    assert run_json["inputs"]["cpl"]["sha256"]
    assert run_json["versions"]["pypdfium2"]
    assert {"extract_parse_s", "reconcile_s", "certificates_s", "total_before_writing_s"} <= set(
        run_json["timings"]
    )


def test_every_document_is_listed_with_its_status(bundled_out: Path) -> None:
    documents = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in {".pdf", ".png", ".jpg",
                                                                            ".jpeg", ".tif", ".tiff"})
    listed = {Path(r["certificate_file"]).resolve(): r for r in
              read_csv(bundled_out / "certificates.csv")}
    assert set(listed) == {p.resolve() for p in documents}
    assert listed[(CORPUS / "not_really.pdf").resolve()]["error"].startswith("NOT_A_PDF")
    broken = next(p for p in documents if p.name.startswith("broken_truncated"))
    assert listed[broken.resolve()]["status"] == "ERROR"


def test_every_mapped_field_names_its_method(bundled_out: Path) -> None:
    for row in read_csv(bundled_out / "reconciliation.csv"):
        for f in FIELDS:
            if row[f"{f}_status"] in ("MATCH", "MAPPED"):
                assert row[f"{f}_method"], (row["submission_row"], f)


def test_fail_on(tmp_path: Path) -> None:
    assert run(CORPUS, SAMPLES / "cpl_submission.csv", tmp_path, "--fail-on", "fail") == 1


def test_python_m_pipeline_is_the_same_program(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "12.3 (Stack 1.2.3.4)", "--cpl",
         "12:03:12:34"], capture_output=True, text=True, cwd=ROOT, check=True,
    )
    result = json.loads(done.stdout)
    assert result["status"] == "MAPPED"
    assert "bcd" in result["method"].lower()


def test_explain_batch(tmp_path: Path) -> None:
    batch = tmp_path / "versions.csv"
    batch.write_text(
        "text,field,cpl\n"
        "12.3 (Stack 12.34),firmware_version,0C:03:0C:22\n"
        "Some String (14.7),firmware_version,0D:07:00:00\n"
        "=HYPERLINK(\"x\"),firmware_version,00:00:00:01\n"
    )
    out = tmp_path / "checked.csv"
    assert main(["explain", "--batch", str(batch), "--output", str(out)]) == 0
    rows = read_csv(out)
    assert [r["status"] for r in rows] == ["MAPPED", "MISMATCH", "UNVERIFIABLE"]
    assert rows[0]["candidates"]
    assert not rows[2]["text"].startswith("=")


def test_extract_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(CORPUS.glob("cert_000[1-3]_*.pdf"))
    assert main(["extract", *map(str, files)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [Path(r["file"]).name for r in records] == [f.name for f in files]
    assert all(r["status"] == "OK" and r["listings"] for r in records)


def test_extract_prints_the_cache_shape_with_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.run.cache import certificate_from_json

    (file,) = sorted(CORPUS.glob("cert_0001_*.pdf"))
    assert main(["extract", str(file)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert isinstance(record["evidence"], dict)
    assert all(isinstance(listing["evidence"], dict) for listing in record["listings"])
    certificate = certificate_from_json(json.dumps(record))  # one shape: it reads back
    assert certificate.ok and certificate.certificate_id == record["certificate_id"]
