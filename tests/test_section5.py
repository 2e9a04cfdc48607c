"""Guidance §5 end to end: reused certificates, supplementary evidence, multi-model, orphans, OTA.

The samples come from samples/section5.py; every row's verdicts are in its expected.csv. Unit
tests below cover evidence matching (with the negative cases) and the reuse rules.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from pipeline.evidence import (
    Evidence,
    EvidenceCheck,
    EvidenceEntry,
    check_entry,
    line_naming,
    line_with_firmware,
    load_evidence,
    read_evidence_file,
    read_manifest,
)
from pipeline.idkeys import confusable_key as tolerant_key
from pipeline.models import CplRow, Field, FieldJudgement, Verdict
from pipeline.reconcile import apply_section5
from samples import section5

ROOT = Path(__file__).resolve().parent.parent
STATUS_COLUMNS = (
    "overall_status", "manufacturer_identifier_status", "model_identifier_status",
    "hardware_version_status", "firmware_version_status", "listing", "device_type_status",
    "ota_status", "reuse_rows",
)
POLICY_PREFIX = {"pre": "pre-2017-12-01", "strict": "strict:", "unknown": "submission_date", "": ""}


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return section5.generate_section5(tmp_path_factory.mktemp("s5") / "section5")


def run(samples: Path, out: Path, *extra: str) -> int:
    return main([
        "reconcile", "--certs", str(samples / "certs"), "--cpl", str(samples / "cpl_submission.csv"),
        "--out", str(out), "--workers", "1", *extra,
    ])


@pytest.fixture(scope="module")
def outputs(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    code = run(samples, out, "--evidence", str(samples / "evidence.csv"),
               "--ota", str(samples / "ota"))
    assert code == 0
    return out


@pytest.fixture(scope="module")
def recon(outputs: Path) -> list[dict[str, str]]:
    return read_rows(outputs / "reconciliation.csv")


@pytest.fixture(scope="module")
def run_json(outputs: Path) -> dict[str, Any]:
    return json.loads((outputs / "run.json").read_text(encoding="utf-8"))


# --- the generated samples, row by row ----------------------------------------------------------


def test_bundled_section5_samples_are_current(samples: Path) -> None:
    bundled = ROOT / "samples" / "section5"
    for name in ("cpl_submission.csv", "expected.csv", "evidence.csv"):
        assert (samples / name).read_bytes() == (bundled / name).read_bytes(), name
    sizes = sum(p.stat().st_size for p in samples.rglob("*") if p.is_file())
    assert sizes < 1_000_000


def test_every_row_gets_its_expected_verdicts(samples: Path, recon: list[dict[str, str]]) -> None:
    expected = read_rows(samples / "expected.csv")
    assert len(recon) == len(expected)
    for want, got in zip(expected, recon, strict=True):
        where = f"row {want['submission_row']}: {want['why']}"
        for column in STATUS_COLUMNS:
            assert got[column] == want[column], f"{where}: {column}"
        evidence = "" if not got["evidence_check"] else "OK" if got["evidence_check"] == "OK" else "FAILED"
        assert evidence == want["evidence_check"], where
        assert got["policy"].startswith(POLICY_PREFIX[want["policy_rule"]]), where
        if want["policy_rule"] == "":
            assert got["policy"] == ""


def test_reused_rows_name_the_rows_they_share_with(recon: list[dict[str, str]]) -> None:
    row5 = recon[4]
    assert row5["firmware_version_status"] == "NEEDS_EVIDENCE"
    assert "certificate ZIG18SE5001 is reused by rows 1, 2, 3, 4, 6, 7, 8" in row5["reasons"]
    assert "firmware version 01:02:00:08 is not on it" in row5["reasons"]
    assert "guidance §5" in row5["reasons"]


def test_evidence_rows_record_file_hash_and_lines(samples: Path, recon: list[dict[str, str]]) -> None:
    import hashlib

    row2 = recon[1]
    assert row2["evidence_file"] == "evidence/es50-1.2.0.5-release-notes.md"
    data = (samples / row2["evidence_file"]).read_bytes()
    assert row2["evidence_sha256"] == hashlib.sha256(data).hexdigest()
    assert "ZIG18 SE 5001" in row2["evidence_lines"]
    assert row2["firmware_version_method"] == "supplementary evidence"
    pdf_row = recon[6]
    assert pdf_row["evidence_file"].endswith(".pdf") and "ZIG18SE5OO1" in pdf_row["evidence_lines"]


@pytest.mark.parametrize(
    ("row", "missing"),
    [
        (3, "does not name the certificate ID ZIG18SE5001"),
        (4, "file not found"),
        (14, "does not show firmware version 00:00:05:01"),
    ],
)
def test_failed_evidence_says_what_was_missing(recon: list[dict[str, str]], row: int, missing: str) -> None:
    got = recon[row - 1]
    assert missing in got["evidence_check"]
    assert missing in got["reasons"]


def test_evidence_text_never_leaves_the_matched_lines(samples: Path, outputs: Path) -> None:
    """§5: release notes are retained for audit only. Only matched lines may appear, nothing else."""
    shown: set[str] = set()
    for row in read_rows(outputs / "reconciliation.csv"):
        # The CSV neutralises a cell starting "-" with a leading "'".
        shown |= set(filter(None, row["evidence_lines"].removeprefix("'").split(" | ")))
    texts = [*section5.EVIDENCE_TEXT.values(), "\n".join(section5.EVIDENCE_PDF_LINES)]
    secret_lines = {
        " ".join(line.split()) for text in texts for line in text.splitlines()
        if line.strip() and " ".join(line.split()) not in shown
    }
    assert section5.CONFIDENTIAL_MARKER in secret_lines
    blobs = {p.name: p.read_bytes().decode("utf-8", "replace") for p in outputs.iterdir()
             if p.suffix in (".csv", ".json")}
    with zipfile.ZipFile(outputs / "audit.xlsx") as workbook:
        blobs["audit.xlsx"] = "".join(
            workbook.read(n).decode("utf-8", "replace") for n in workbook.namelist()
        )
    for name, blob in blobs.items():
        for line in secret_lines:
            if len(line) > 12:  # short headings ("# G20 application 3.2") may echo CPL values
                assert line not in blob, f"{name} leaks evidence text {line!r}"


# --- certificates sheet, summary, OTA -----------------------------------------------------------


def test_certificates_show_which_rows_use_them(outputs: Path) -> None:
    certs = {Path(c["certificate_file"]).name: c for c in read_rows(outputs / "certificates.csv")}
    assert certs["orphan_ZIG19SE5004.pdf"]["cpl_rows"] == ""
    assert certs["orphan_ZIG19SE5004.pdf"]["cpl_link"] == "ORPHAN"
    assert certs["es50_ZIG18SE5001.pdf"]["cpl_rows"] == "1, 2, 3, 4, 5, 6, 7, 8"
    assert certs["es50_ZIG18SE5001.pdf"]["cpl_link"] == "REUSED"
    assert certs["trio_ZIG19SE5003.pdf"]["cpl_link"] == "SHARED"  # multi-model: not reuse
    assert certs["gpf_ZIG20SE5005.pdf"]["cpl_link"] == "SINGLE"


def test_summary_counts_orphans_shared_reused_and_ota(outputs: Path, run_json: dict[str, Any]) -> None:
    counts = run_json["counts"]
    assert counts["certificate_links"] == {"ORPHAN": 1, "SINGLE": 2, "SHARED": 1, "REUSED": 2}
    assert counts["ota_images"]["total"] == 5 and counts["ota_images"]["ERROR"] == 2
    assert counts["ota_status"]["OTA_MATCH"] == 2
    assert counts["fields"]["EVIDENCE"] == 4 and counts["fields"]["NEEDS_EVIDENCE"] == 4
    import openpyxl

    rows = list(openpyxl.load_workbook(outputs / "audit.xlsx")["Summary"].iter_rows(values_only=True))
    details = rows[next(i for i, r in enumerate(rows) if r[0] == "Every count"):]
    summary = {r[0]: r[1] for r in details}
    assert summary["certificates ORPHAN"] == 1  # numbers are numbers
    assert summary["certificates REUSED"] == 2
    assert summary["ota images NOT_OTA"] == 1


def test_bad_ota_images_are_problems_and_in_run_json(outputs: Path, run_json: dict[str, Any]) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(outputs / "audit.xlsx")["Problems"]
    ota = [r for r in sheet.iter_rows(values_only=True) if r[1] == "ota"]
    assert sorted(Path(r[2]).name for r in ota) == ["es50-01020006-cut.ota", "not-an-image.bin"]
    assert {r[3].split(":")[0] for r in ota} == {"SIZE_MISMATCH", "NOT_OTA"}
    images = {Path(i["file"]).name: i for i in run_json["ota"]}
    assert len(images) == 5
    assert all(len(i["sha256"]) == 64 for i in images.values())
    assert images["es50-0102000A.ota"]["status"] == "OK"
    assert images["not-an-image.bin"]["status"] == "ERROR"
    files = {Path(f["file"]).name: f for f in run_json["evidence"]["files"]}
    assert files["es50-1.2.0.7-notes.md"]["status"] == "ERROR"


def test_ota_status_names_the_hardware_range(recon: list[dict[str, str]]) -> None:
    assert "hw range 02_00..02_FF excludes CPL 01_02" in recon[6]["ota_reason"]
    assert "includes CPL 01_02" in recon[1]["ota_reason"]


def test_without_evidence_reused_rows_need_it(samples: Path, tmp_path: Path) -> None:
    assert run(samples, tmp_path) == 0
    rows = read_rows(tmp_path / "reconciliation.csv")
    assert rows[1]["firmware_version_status"] == "NEEDS_EVIDENCE"
    assert rows[1]["overall_status"] == "REVIEW"
    assert rows[12]["firmware_version_status"] == "MISMATCH"  # single use, no evidence: §5 not claimed
    assert {r["ota_status"] for r in rows} == {""}
    assert not (set(json.loads((tmp_path / "run.json").read_text())) & {"ota", "evidence"})


# --- command line errors ------------------------------------------------------------------------


def test_manifest_missing_columns_exits_2(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "evidence.csv"
    manifest.write_text("submission_id,file\nS5-002,x.md\n", encoding="utf-8")
    assert run(samples, tmp_path / "out", "--evidence", str(manifest)) == 2
    err = capsys.readouterr().err
    assert "evidence_file, zigbee_module, certificate_id" in err and "'file'" in err
    assert not (tmp_path / "out" / "reconciliation.csv").exists()


def test_missing_manifest_and_missing_ota_path_exit_2(samples: Path, tmp_path: Path) -> None:
    assert run(samples, tmp_path / "a", "--evidence", str(tmp_path / "nope.csv")) == 2
    assert run(samples, tmp_path / "b", "--ota", str(tmp_path / "nope")) == 2


def test_bundled_corpus_keeps_its_verdicts(tmp_path: Path) -> None:
    code = main(["reconcile", "--certs", str(ROOT / "samples" / "corpus"), "--cpl",
                 str(ROOT / "samples" / "cpl_submission.csv"), "--out", str(tmp_path),
                 "--workers", "1"])
    assert code == 0
    expected = read_rows(ROOT / "samples" / "expected.csv")
    got = read_rows(tmp_path / "reconciliation.csv")
    for want, row in zip(expected, got, strict=True):
        for column in STATUS_COLUMNS[:5]:
            assert row[column] == want[column], (want["submission_row"], column)


# --- evidence matching, unit by unit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("ZIG18SE5001", "zig18 se 5001", True),
        ("ZIG18SE5001", "ZIG18-SE-5OO1", True),  # O for 0
        ("ZIG18SE5001", "Z1G18SE5001", True),  # 1 for I
        ("ZIG18SE5001", "ZIG18SE5002", False),
    ],
)
def test_tolerant_key(a: str, b: str, same: bool) -> None:
    assert (tolerant_key(a) == tolerant_key(b)) is same


def test_line_naming_finds_ids_and_modules_inside_lines() -> None:
    lines = ["Release 2", "Radio: Telegesis ETRX-357 module", "Cert: ZIG 18 SE 5001"]
    assert line_naming(lines, "ZIG18SE5001") == lines[2]
    assert line_naming(lines, "ETRX357") == lines[1]
    assert line_naming(lines, "EM357") is None
    assert line_naming(lines, "") is None


@pytest.mark.parametrize(
    ("line", "firmware", "found"),
    [
        ("Firmware: Version 1.2.0.5", "01:02:00:05", True),
        ("firmware 01:02:00:0A", "01:02:00:0A", True),
        ("build 0x0102000A", "01:02:00:0A", True),
        ("Application firmware 3.2 (Stack 5.7)", "03:02:05:07", True),
        ("Firmware 1.2.O.5", "01:02:00:05", True),  # OCR: O for 0 inside a version
        ("Firmware 1.2.0.6", "01:02:00:05", False),
        ("Minor update of the relay driver", "00:00:05:01", False),
        ("module JN5169, certificate ZIG20SE5006", "00:00:05:01", False),
        ("Firmware 1.2.0.5", "01:02:00:0g", False),  # not a CPL value: nothing can match it
    ],
)
def test_line_with_firmware(line: str, firmware: str, found: bool) -> None:
    assert (line_with_firmware([line], firmware) is not None) is found


def _row(**kw: str) -> CplRow:
    values = dict(row=1, submission_id="S1", certificate_id="ZIG18SE5001",
                  manufacturer_identifier="10:6C", model_identifier="01:40",
                  hardware_version_version="01", hardware_version_revision="02",
                  firmware_version="01:02:00:05")
    values.update(kw)
    return CplRow(**values)  # type: ignore[arg-type]


def _evidence(tmp_path: Path, text: str | bytes, name: str = "notes.md",
              module: str = "EM357", cid: str = "ZIG18SE5001",
              extra: str = "") -> tuple[Evidence, EvidenceEntry]:
    folder = tmp_path / "ev"
    folder.mkdir(exist_ok=True)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (folder / name).write_bytes(data)
    manifest = tmp_path / "evidence.csv"
    manifest.write_text(
        f"Submission ID,Evidence File,ZigBee Module,Certificate ID\nS1,ev/{name},{module},{cid}\n"
        + extra, encoding="utf-8")
    evidence = load_evidence(manifest)
    return evidence, evidence.entries[0]


GOOD = "Firmware 1.2.0.5\nZigBee module EM357\nCertificate ZIG18SE5001\nsecret line\n"


def test_good_evidence_checks_out(tmp_path: Path) -> None:
    evidence, entry = _evidence(tmp_path, GOOD)
    check = check_entry(entry, evidence, _row())
    assert check.ok and len(check.sha256) == 64
    assert "secret line" not in check.matched_lines
    assert len(check.matched_lines) == 3


@pytest.mark.parametrize(
    ("text", "name", "kwargs", "missing"),
    [
        (GOOD.replace("ZIG18SE5001", "ZIG18SE5002"), "n.md", {}, "does not name the certificate ID"),
        (GOOD.replace("EM357", "EFR32"), "n.md", {}, "does not name the ZigBee module EM357"),
        (GOOD.replace("1.2.0.5", "1.2.0.6"), "n.md", {}, "does not show firmware version"),
        (GOOD, "n.md", {"cid": "ZIG18SE5002"}, "the manifest relates it to certificate"),
        (GOOD, "n.md", {"module": ""}, "names no ZigBee module"),
        (GOOD, "n.md", {"extra": "S2,ev/n.md,EM357,ZIG19SE0001\n"}, "must uniquely relate to one"),
        (GOOD, "notes.docx", {}, "not a PDF, .txt or .md"),
        ("", "n.md", {}, "empty"),
        (b"GOOD\x00binary", "n.txt", {}, "not a PDF, .txt or .md"),
        (b"%PDF-1.4 broken", "n.pdf", {}, "the PDF cannot be read"),
    ],
)
def test_evidence_negative_cases(tmp_path: Path, text: str | bytes, name: str,
                                 kwargs: dict[str, str], missing: str) -> None:
    evidence, entry = _evidence(tmp_path, text, name, **kwargs)
    check = check_entry(entry, evidence, _row())
    assert not check.ok
    assert any(missing in m for m in check.missing), check.missing


def test_evidence_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(GOOD * 10, encoding="utf-8")
    assert "limit" in read_evidence_file(path, max_bytes=100).error


def test_manifest_paths_resolve_relative_to_the_manifest(tmp_path: Path) -> None:
    _, entry = _evidence(tmp_path, GOOD)
    assert entry.path == tmp_path / "ev" / "notes.md"
    assert entry.evidence_file == "ev/notes.md"
    assert read_manifest(tmp_path / "evidence.csv")[0].submission_id == "S1"


# --- the reuse rules ----------------------------------------------------------------------------


def _firmware(status: Verdict) -> tuple[FieldJudgement, ...]:
    return (
        FieldJudgement(Field.HARDWARE, "01_03", "01_02", Verdict.MISMATCH),
        FieldJudgement(Field.FIRMWARE, "01:02:00:05", "01:02:00:04", status),
    )


OK = EvidenceCheck("n.md", "ab" * 32, ("line",), (), "hex-shown")
BAD = EvidenceCheck("n.md", "ab" * 32, (), ("the file does not name the certificate ID X",))


@pytest.mark.parametrize(
    ("status", "group", "check", "expected"),
    [
        (Verdict.MISMATCH, (1, 2), None, Verdict.NEEDS_EVIDENCE),
        (Verdict.PARTIAL, (1, 2), None, Verdict.NEEDS_EVIDENCE),
        (Verdict.MISMATCH, (1, 2), OK, Verdict.EVIDENCE),
        (Verdict.MISMATCH, (1, 2), BAD, Verdict.NEEDS_EVIDENCE),
        (Verdict.MISMATCH, (), OK, Verdict.EVIDENCE),  # §5 claimed by the manifest
        (Verdict.MISMATCH, (), BAD, Verdict.MISMATCH),  # bad evidence never softens a MISMATCH
        (Verdict.INVALID_CPL, (1, 2), OK, Verdict.INVALID_CPL),
        (Verdict.MATCH, (1, 2), None, Verdict.MATCH),
        (Verdict.MISSING, (1, 2), None, Verdict.MISSING),
    ],
)
def test_apply_section5(status: Verdict, group: tuple[int, ...], check: EvidenceCheck | None,
                        expected: Verdict) -> None:
    hardware, firmware = apply_section5(_row(), _firmware(status), group, check)
    assert hardware.status is Verdict.MISMATCH  # hardware is never excused by §5
    assert firmware.status is expected
    if expected is Verdict.NEEDS_EVIDENCE:
        assert "reused by rows 2" in firmware.reason and "supplementary evidence needed" in firmware.reason
