"""Report stage: the output contract (SPEC "Outputs"), neutralisation, and atomic writes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from pipeline import report as report_mod
from pipeline.models import (
    Certificate,
    CplRow,
    DeviceListing,
    DocumentError,
    ErrorReason,
    Field,
    FieldJudgement,
    Overall,
    RowResult,
    TextSource,
    Verdict,
)
from pipeline.report import build_report, neutralise, write_outputs

FIELD_NAMES = (
    "manufacturer_identifier", "model_identifier", "hardware_version", "firmware_version",
)

RECON_HEADER = [
    "submission_row", "submission_id", "certificate_id", "certificate_file", "overall_status",
    "reasons",
    *(f"{f}_{p}" for f in FIELD_NAMES for p in ("cpl", "certificate", "status", "method")),
    "listing",
    *(f"{f}_{p}" for f in FIELD_NAMES for p in ("reason", "alternatives", "page")),
    "policy", "device_type_status", "ota_status", "ota_file", "evidence_file", "evidence_sha256",
    "evidence_lines", "device_type_cpl", "device_type_reason", "ota_reason", "evidence_check",
    "reuse_rows",
]
CERT_HEADER = [
    "certificate_file", "sha256", "pages", "text_source", "certificate_id", "certificate_date",
    "device_type", "manufacturer", "model", "hardware_version", "firmware_version", "status",
    "error", "certificate_pages", "ocr_reason", "layout", "listings", "cpl_rows", "cpl_link", "notes",
]
POISON = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\t=1", "  =1+1", "\r=2"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cpl_row(row: int, **kw: str) -> CplRow:
    values = {
        "submission_id": f"S{row}",
        "certificate_id": "ZIG-1",
        "manufacturer_identifier": "10:9F",
        "model_identifier": "00:01",
        "hardware_version_version": "01",
        "hardware_version_revision": "02",
        "firmware_version": "12:03:12:34",
    }
    values.update(kw)
    return CplRow(row=row, **values)


def judgement(f: Field, cpl: str, text: str, status: Verdict, method: str = "") -> FieldJudgement:
    return FieldJudgement(
        field=f, cpl=cpl, certificate_text=text, status=status, method=method,
        reason=f"{f.value} {status.value}", alternatives=("A (bcd)", "B (hex)"),
    )


def passing(row: int) -> RowResult:
    cpl = cpl_row(row)
    return RowResult(
        cpl=cpl,
        overall=Overall.PASS,
        certificate_file="certs/a.pdf",
        listing_label="model 1 of 2",
        field_pages=((Field.MANUFACTURER, 1), (Field.MODEL, 1), (Field.FIRMWARE, 2)),
        judgements=(
            judgement(Field.MANUFACTURER, "10:9F", "10:9F", Verdict.MATCH, "hex"),
            judgement(Field.MODEL, "00:01", "0001", Verdict.MATCH, "hex"),
            judgement(Field.HARDWARE, "01_02", "1.2", Verdict.MAPPED, "bcd"),
            judgement(Field.FIRMWARE, "12:03:12:34", "12.3 (Stack 1.2.3.4)", Verdict.MAPPED, "bcd"),
        ),
    )


def results() -> list[RowResult]:
    poisoned = RowResult(
        cpl=cpl_row(2, submission_id="=HYPERLINK(\"x\")", firmware_version="0012"),
        overall=Overall.FAIL,
        reasons=("+1", "firmware_version MISMATCH"),
        certificate_file="@SUM(A1).pdf",
        judgements=(
            judgement(Field.MANUFACTURER, "10:9F", "10:9F", Verdict.MATCH, "hex"),
            judgement(Field.MODEL, "00:01", "-2", Verdict.MISMATCH),
            judgement(Field.HARDWARE, "01_02", "\t=1", Verdict.MISSING),
            judgement(Field.FIRMWARE, "0012", "  =1+1", Verdict.INVALID_CPL),
        ),
    )
    no_cert = RowResult(
        cpl=cpl_row(3, certificate_id="ZIG-404"),
        overall=Overall.NO_CERTIFICATE,
        reasons=("no input document carries ZIG-404",),
    )
    invalid_only = RowResult(
        cpl=cpl_row(4, manufacturer_identifier="FF:FF"),
        overall=Overall.ERROR,
        reasons=("certificate unreadable",),
        certificate_file="certs/broken.pdf",
        judgements=(
            judgement(Field.MANUFACTURER, "FF:FF", "", Verdict.INVALID_CPL),
        ),
    )
    # Input order is kept, not sorted by row number or status.
    return [passing(5), poisoned, no_cert, invalid_only, passing(1)]


def certificates() -> list[Certificate]:
    multi = Certificate(
        file="certs/a.pdf", sha256="ab" * 32, pages=2, text_source=TextSource.TEXT,
        certificate_id="ZIG-1", certificate_date="2018-02-01", device_type="ESME",
        listings=(
            DeviceListing("10:9F", "00:01", "1.2", "12.3 (Stack 1.2.3.4)", "model 1 of 2"),
            DeviceListing("Acme Ltd", "=HYPERLINK(\"x\")", "01_03", "-2", "model 2 of 2"),
        ),
        layout="zigbee-2018",
    )
    broken = Certificate(
        file="archive.zip/certs/broken.pdf", sha256="cd" * 32, pages=0,
        error=DocumentError(ErrorReason.ENCRYPTED, "the PDF is password protected"),
    )
    scanned = Certificate(
        file="+1.pdf", sha256="ef" * 32, pages=1, text_source=TextSource.OCR,
        ocr_reason="no text layer", certificate_id="ZIG-2",
        listings=(DeviceListing("@SUM(A1)", "0012", "00:01", "\r=2"),),
    )
    return [multi, broken, scanned]


RUN_INFO = {
    "tool": {"name": "cplrecon", "version": "0.1.0"},
    "rules": {"codings.toml": "3"},
    "inputs": [{"path": "samples/cpl.csv", "sha256": "12" * 32}],
    "timings": {"total_s": 1.5},
}


@pytest.fixture
def report() -> report_mod.Report:
    extra = [{"severity": "WARNING", "kind": "cpl", "where": "cpl.csv", "detail": "-note",
              "column": "x"}]
    return build_report(results(), certificates(), RUN_INFO, extra)


@pytest.fixture
def written(report: report_mod.Report, tmp_path: Path) -> dict[str, Path]:
    return write_outputs(report, tmp_path / "out")


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --- neutralise --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("\n@x", "'\n@x"),
        ("", ""),
        ("PASS", "PASS"),
        ("NO_CERTIFICATE", "NO_CERTIFICATE"),
        ("0C:03:0C:22", "0C:03:0C:22"),
        ("01_02", "01_02"),
        ("12.3 (Stack 1.2.3.4)", "12.3 (Stack 1.2.3.4)"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    assert neutralise(value) == expected


# --- the frozen report -------------------------------------------------------------------------


def test_report_is_raw_data(report: report_mod.Report) -> None:
    data = report.to_dict()
    assert set(data) == {"reconciliation", "certificates", "problems", "summary", "run"}
    # Raw values in the report; neutralisation belongs to the spreadsheet writers.
    assert data["reconciliation"][1]["submission_id"] == '=HYPERLINK("x")'
    json.dumps(data)


def test_problems_cover_errors_non_passing_rows_and_extras(report: report_mod.Report) -> None:
    problems = [(p["severity"], p["kind"], p["where"]) for p in report.problems]
    assert problems == [
        ("ERROR", "document", "archive.zip/certs/broken.pdf"),
        ("FAIL", "submission", 'row 2 (=HYPERLINK("x"))'),
        ("NO_CERTIFICATE", "submission", "row 3 (S3)"),
        ("ERROR", "submission", "row 4 (S4)"),
        ("WARNING", "cpl", "cpl.csv"),
    ]
    assert report.problems[0]["detail"] == "ENCRYPTED: the PDF is password protected"
    assert report.problems[-1]["detail"] == "-note; column=x"


def test_summary_counts_and_run_info(report: report_mod.Report) -> None:
    summary = dict(report.summary)
    assert summary["rows"] == "5"
    assert summary["overall PASS"] == "2"
    assert summary["overall FAIL"] == "1"
    assert summary["overall NO_CERTIFICATE"] == "1"
    assert summary["overall ERROR"] == "1"
    assert summary["field MATCH"] == "5"
    assert summary["field INVALID_CPL"] == "2"
    assert summary["certificates OK"] == "2"
    assert summary["certificates ERROR"] == "1"
    assert summary["certificate error ENCRYPTED"] == "1"
    assert summary["tool.version"] == "0.1.0"
    assert summary["inputs[0].sha256"] == "12" * 32


# --- the CSVs ----------------------------------------------------------------------------------


def test_csvs_are_utf8_with_a_bom_so_excel_reads_them_as_utf8(written: dict[str, Path]) -> None:
    for name in ("reconciliation", "certificates"):
        data = written[name].read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1, name
        assert data[3:].decode("utf-8").startswith(("submission_row,", "certificate_file,")), name


def test_reconciliation_csv_columns_and_order(written: dict[str, Path]) -> None:
    df = read_csv(written["reconciliation"])
    assert list(df.columns) == RECON_HEADER
    assert list(df["submission_row"]) == ["5", "2", "3", "4", "1"]
    first = df.iloc[0]
    assert first["overall_status"] == "PASS"
    assert first["hardware_version_cpl"] == "01_02"
    assert first["firmware_version_status"] == "MAPPED"
    assert first["firmware_version_method"] == "bcd"
    assert first["model_identifier_cpl"] == "00:01"
    assert first["listing"] == "model 1 of 2"
    assert first["firmware_version_alternatives"] == "A (bcd); B (hex)"
    # F_page: where the certificate shows each field; empty for one it does not show.
    assert [first[f"{f}_page"] for f in FIELD_NAMES] == ["1", "1", "", "2"]
    assert df.iloc[2]["firmware_version_page"] == ""  # NO_CERTIFICATE: no page


def test_reconciliation_row_without_judgements(written: dict[str, Path]) -> None:
    df = read_csv(written["reconciliation"]).set_index("submission_row")
    no_cert = df.loc["3"]
    assert no_cert["overall_status"] == "NO_CERTIFICATE"
    assert no_cert["certificate_id"] == "ZIG-404"
    assert no_cert["manufacturer_identifier_cpl"] == "10:9F"
    assert no_cert["hardware_version_cpl"] == "01_02"
    for f in FIELD_NAMES:
        assert no_cert[f"{f}_certificate"] == no_cert[f"{f}_status"] == ""
        assert no_cert[f"{f}_method"] == ""
    error = df.loc["4"]
    assert error["manufacturer_identifier_status"] == "INVALID_CPL"
    assert error["model_identifier_status"] == ""
    assert error["reasons"] == "certificate unreadable"


def test_reconciliation_reasons_joined(written: dict[str, Path]) -> None:
    df = read_csv(written["reconciliation"]).set_index("submission_row")
    assert df.loc["2", "reasons"] == "'+1; firmware_version MISMATCH"
    assert df.loc["2", "firmware_version_cpl"] == "0012"


def test_certificates_csv(written: dict[str, Path]) -> None:
    df = read_csv(written["certificates"])
    assert list(df.columns) == CERT_HEADER
    assert list(df["certificate_file"]) == [
        "certs/a.pdf", "archive.zip/certs/broken.pdf", "'+1.pdf",
    ]
    multi, broken, scanned = (df.iloc[i] for i in range(3))
    assert multi["manufacturer"] == "10:9F | Acme Ltd"
    assert multi["model"] == '00:01 | =HYPERLINK("x")'  # only a leading '=' is a formula
    assert multi["firmware_version"] == "12.3 (Stack 1.2.3.4) | -2"
    assert multi["listings"] == "2"
    assert multi["status"] == "OK" and multi["error"] == ""
    assert broken["status"] == "ERROR"
    assert broken["error"] == "ENCRYPTED: the PDF is password protected"
    assert broken["text_source"] == "none"
    assert broken["listings"] == "0"
    assert scanned["text_source"] == "ocr"
    assert scanned["ocr_reason"] == "no text layer"
    assert scanned["model"] == "0012"
    assert scanned["firmware_version"] == "'\r=2"  # a bare CR inside a cell does not split the row


def test_csv_bytes_are_utf8_with_lf(written: dict[str, Path]) -> None:
    raw = written["reconciliation"].read_bytes()
    raw.decode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbfsubmission_row,submission_id,")  # UTF-8 with a BOM
    assert b"\r" not in raw
    assert raw.count(b"\n") == 6  # header + five rows


@pytest.mark.parametrize("name", ["reconciliation", "certificates"])
def test_csv_cells_neutralised(written: dict[str, Path], name: str) -> None:
    df = read_csv(written[name])
    cells = [v for col in df.columns for v in df[col]]
    assert not [c for c in cells if c.lstrip()[:1] in TRIGGERS or c[:1] in TRIGGERS]
    assert any(c.startswith("'") for c in cells)  # the poison was there, and was defused


# --- the workbook ------------------------------------------------------------------------------


def _sheet_rows(ws: Any) -> list[dict[str, Any]]:
    """A data sheet's rows by SPEC column name (the workbook's headers are plain English)."""
    from pipeline.report.writers import xlsx_columns

    sheets = {"Reconciliation": xlsx_columns.RECONCILIATION_SHEET,
              "Certificates": xlsx_columns.CERTIFICATE_SHEET, "Problems": xlsx_columns.PROBLEM_SHEET}
    columns = sheets[ws.title]
    assert [c.value for c in ws[1]] == [c.header for c in columns]
    return [dict(zip((c.key for c in columns), (cell.value for cell in r), strict=True))
            for r in ws.iter_rows(min_row=2)]


def test_xlsx_sheets_frozen_and_filtered(written: dict[str, Path]) -> None:
    from pipeline.report.writers import xlsx_columns

    wb = openpyxl.load_workbook(written["audit"])
    assert wb.sheetnames == ["Summary", "Reconciliation", "Certificates", "Problems", "Evidence"]
    # The row's identity (row, submission, certificate ID, status) stays on screen.
    assert {ws.title: ws.freeze_panes for ws in wb.worksheets[1:4]} == {
        "Reconciliation": "E2", "Certificates": "B2", "Problems": "A2"}
    recon = wb["Reconciliation"]
    assert sorted(c.key for c in xlsx_columns.RECONCILIATION_SHEET) == sorted(RECON_HEADER)
    assert recon.auto_filter.ref == f"A1:{recon.cell(1, len(RECON_HEADER)).column_letter}6"
    assert [c.value for c in recon[1]][:4] == ["Row", "Submission ID", "Certificate ID", "Status"]
    assert sorted(c.key for c in xlsx_columns.CERTIFICATE_SHEET) == sorted(CERT_HEADER)
    assert wb["Certificates"].auto_filter.ref and wb["Problems"].auto_filter.ref
    assert [c.value for c in wb["Problems"][1]] == ["severity", "kind", "where", "detail"]


def test_xlsx_no_formulas_and_all_neutralised(written: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(written["audit"])
    seen_quote = False
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type in ("s", "n"), (ws.title, cell.coordinate, cell.value)
                text = str(cell.value)
                assert text[:1] not in TRIGGERS and text.lstrip()[:1] not in TRIGGERS
                seen_quote = seen_quote or text.startswith("'")
    assert seen_quote


def test_xlsx_keeps_text_values(written: dict[str, Path]) -> None:
    rows = _sheet_rows(openpyxl.load_workbook(written["audit"])["Reconciliation"])
    assert rows[0]["model_identifier_cpl"] == "00:01"
    assert rows[1]["firmware_version_cpl"] == "0012"  # text, zeros kept
    assert rows[0]["submission_row"] == 5  # a number is a number
    assert rows[0]["firmware_version_page"] == 2 and rows[0]["hardware_version_page"] is None


def test_xlsx_status_colours(written: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(written["audit"])["Reconciliation"]
    header = [c.value for c in ws[1]]
    col = header.index("Status") + 1
    fills = {ws.cell(r, col).value: ws.cell(r, col).fill.fgColor.rgb for r in range(2, 7)}
    assert fills["PASS"].endswith("C6EFCE")
    assert fills["FAIL"].endswith("FFC7CE")
    amber = ws.cell(3, header.index("Hardware: verdict") + 1)
    assert amber.value == "MISSING" and amber.fill.fgColor.rgb.endswith("FFEB9C")


def test_xlsx_many_rows(tmp_path: Path) -> None:
    many = [passing(i) for i in range(1, 12_001)]
    out = write_outputs(build_report(many, certificates(), RUN_INFO), tmp_path)
    ws = openpyxl.load_workbook(out["audit"], read_only=True)["Reconciliation"]
    assert ws.max_row == 12_001


# --- run.json ----------------------------------------------------------------------------------


def test_run_json(written: dict[str, Path]) -> None:
    run = json.loads(written["run"].read_text(encoding="utf-8"))
    assert run["tool"] == RUN_INFO["tool"]
    assert run["inputs"] == RUN_INFO["inputs"]
    assert run["timings"] == {"total_s": 1.5}
    assert run["counts"]["overall"] == {
        "PASS": 2, "REVIEW": 0, "FAIL": 1, "NO_CERTIFICATE": 1, "ERROR": 1,
    }
    assert run["counts"]["fields_by_name"]["firmware_version"]["MAPPED"] == 2
    assert run["counts"]["certificate_status"] == {"OK": 2, "ERROR": 1}
    assert run["counts"]["text_source"] == {"text": 1, "ocr": 1, "mixed": 0, "none": 1}
    assert run["outputs"] == {
        "reconciliation": "reconciliation.csv", "certificates": "certificates.csv",
        "audit": "audit.xlsx", "report": "report.html", "run": "run.json",
    }


def test_empty_report(tmp_path: Path) -> None:
    out = write_outputs(build_report([], [], {}), tmp_path / "deep" / "out")
    assert read_csv(out["reconciliation"]).columns.tolist() == RECON_HEADER
    assert len(read_csv(out["certificates"])) == 0
    wb = openpyxl.load_workbook(out["audit"])
    assert wb["Problems"].auto_filter.ref == "A1:D1"


# --- atomicity ---------------------------------------------------------------------------------


def _snapshot(out_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()])
@pytest.mark.parametrize("where", ["_write_json", "_workbook_formats", "_status_colour"])
def test_failed_write_leaves_previous_outputs(
    report: report_mod.Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    failure: BaseException, where: str,
) -> None:
    out_dir = tmp_path / "out"
    write_outputs(build_report([passing(1)], certificates()[:1], RUN_INFO), out_dir)
    before = _snapshot(out_dir)
    assert set(before) == {"reconciliation.csv", "certificates.csv", "audit.xlsx", "report.html",
                           "run.json"}

    def boom(*args: object, **kwargs: object) -> None:
        raise failure

    # Failing while opening the outputs, part-way through the rows, and at the very end (the
    # CSVs and the workbook are complete in their temp files when run.json fails).
    module = {"_write_json": "pipeline.report.writers", "_workbook_formats": "pipeline.report.writers",
              "_status_colour": "pipeline.report.writers.xlsx"}[where]
    monkeypatch.setattr(f"{module}.{where}", boom)
    with pytest.raises(type(failure)):
        write_outputs(report, out_dir)
    assert _snapshot(out_dir) == before  # same files, same bytes, no temp files left


def test_a_row_with_an_unknown_column_is_refused_not_dropped(
    report: report_mod.Report, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    write_outputs(report, out_dir)
    before = _snapshot(out_dir)
    bad = dataclasses.replace(
        report, certificates=[{**report.certificates[0], "surprise": "kept nowhere"}]
    )
    with pytest.raises(ValueError, match="surprise"):
        write_outputs(bad, out_dir)
    assert _snapshot(out_dir) == before


def test_rewrite_replaces_outputs_and_leaves_no_temps(
    report: report_mod.Report, tmp_path: Path
) -> None:
    write_outputs(build_report([passing(1)], [], RUN_INFO), tmp_path)
    write_outputs(report, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "audit.xlsx", "certificates.csv", "reconciliation.csv", "report.html", "run.json",
    ]
    assert len(read_csv(tmp_path / "reconciliation.csv")) == 5
