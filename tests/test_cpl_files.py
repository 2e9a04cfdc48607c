"""CPL files as real users send them: header only, Excel's UTF-16 "Unicode text", old .xls and
.ods, the table on a later sheet or below title rows, and near-miss column names.

Every file is made here, the smallest that shows its case.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from pipeline.cpl import CplFileError, read_cpl

HEADER = [
    "Submission ID", "manufacturer_identifier", "model_identifier", "hardware_version.version",
    "hardware_version.revision", "firmware_version", "ZigBee Certificate ID",
]
ROW = ["S1", "10:6C", "01:02", "01", "02", "0C:03:0C:22", "ZIG1"]


def cli(tmp_path: Path, cpl: Path) -> int:
    certs = tmp_path / "certs"
    certs.mkdir(exist_ok=True)
    return main(["reconcile", "--certs", str(certs), "--cpl", str(cpl), "--out", str(tmp_path / "out"),
                 "--ocr", "never", "--workers", "1", "--no-cache"])


def xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for values in rows:
            sheet.append(values)
    workbook.save(path)
    return path


def values(path: Path) -> list[tuple[str, ...]]:
    return [
        (r.submission_id, r.manufacturer_identifier, r.model_identifier, r.hardware_version_version,
         r.hardware_version_revision, r.firmware_version, r.certificate_id)
        for r in read_cpl(path).rows
    ]


# 1. header only -----------------------------------------------------------------------------


def test_header_only_csv_says_no_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes((",".join(HEADER) + "\r\n,,,,,,\r\n").encode())  # a blank row is no row
    with pytest.raises(CplFileError, match="has a header but no rows") as caught:
        read_cpl(path)
    assert "below the header on row 1;" in str(caught.value)
    assert cli(tmp_path, path) == 2
    assert "has a header but no rows" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_header_only_xlsx_says_no_rows(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "cpl.xlsx", {"CPL": [HEADER]})
    with pytest.raises(CplFileError, match="no rows: nothing below the header on row 1 of sheet 'CPL'"):
        read_cpl(path)


# 2. UTF-16 ----------------------------------------------------------------------------------


def test_utf16_csv_from_excel_unicode_text(tmp_path: Path) -> None:
    text = "\r\n".join("\t".join(cells) for cells in (HEADER, ROW, [*ROW[:-1], "ZIG2 Ünïcode"]))
    path = tmp_path / "cpl.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + (text + "\r\n").encode("utf-16-le"))
    cpl = read_cpl(path)
    assert values(path) == [tuple(ROW), (*ROW[:-1], "ZIG2 Ünïcode")]
    assert cpl.columns == HEADER and cpl.notices == ()


def test_utf16_be_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes(codecs.BOM_UTF16_BE + "\n".join([",".join(HEADER), ",".join(ROW)]).encode("utf-16-be"))
    assert values(path) == [tuple(ROW)]


def test_undecodable_utf16_names_the_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "\t".join(HEADER).encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(CplFileError) as caught:
        read_cpl(path)
    assert "not valid UTF-16 LE text" in str(caught.value)
    assert 'save it from Excel as "CSV UTF-8' in str(caught.value)
    assert cli(tmp_path, path) == 2
    assert "UTF-16 LE" in capsys.readouterr().err


def test_windows_1252_csv_is_read_and_said(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes((",".join([*HEADER, "model_name"]) + "\n" + ",".join([*ROW, "Café"])).encode("cp1252"))
    cpl = read_cpl(path)
    assert cpl.rows[0].model_name == "Café"
    assert cpl.notices == ("read as Windows-1252 text: it is not UTF-8",)


def test_binary_file_named_csv_is_not_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 4)
    with pytest.raises(CplFileError, match="holds binary data"):
        read_cpl(path)


# 3. .xls and .ods ---------------------------------------------------------------------------


def test_old_xls_read_with_calamine(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("CPL")
    cells: list[list[object]] = [HEADER, [*ROW[:3], 1, "02", ROW[5], ROW[6]]]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    sheet.write(2, 0, "S2")
    sheet.write(2, 1, dt.time(0, 1), xlwt.easyxf(num_format_str="hh:mm"))
    path = tmp_path / "cpl.xls"
    workbook.save(str(path))
    assert path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    first, second = read_cpl(path).rows
    assert (first.manufacturer_identifier, first.hardware_version_version, first.certificate_id) == (
        "10:6C", "1", "ZIG1"
    )  # stored as the number 1: read as 1 (.xls number formats are not read), and said so
    assert first.notes == ("hardware_version_version: stored as the number 1, read as '1'",)
    assert (second.submission_id, second.manufacturer_identifier) == ("S2", "00:01")
    assert second.notes == ("manufacturer_identifier: stored as a date/time, read as '00:01'",)


def _ods(path: Path, rows: list[list[object]]) -> Path:
    """A minimal OpenDocument spreadsheet: a float cell is stored as a number, as LibreOffice does."""
    def cell(value: object) -> str:
        if isinstance(value, str):
            return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="float" office:value="{value}"/>'

    body = "".join("<table:table-row>" + "".join(map(cell, row)) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="CPL">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def test_ods_read_with_calamine(tmp_path: Path) -> None:
    path = _ods(tmp_path / "cpl.ods", [HEADER, [*ROW[:3], "01", 2.0, ROW[5], ROW[6]]])
    (first,) = read_cpl(path).rows
    assert first.hardware_version_version == "01"
    assert first.hardware_version_revision == "2"  # 2.0 from calamine is the number 2, not "2.0"
    assert first.notes == ("hardware_version_revision: stored as the number 2.0, read as '2'",)
    assert all(isinstance(getattr(first, name), str) for name in ("model_identifier", "firmware_version"))


def test_broken_xls_is_a_wrong_format_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cpl.xls"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"not really a workbook" * 30)
    with pytest.raises(CplFileError, match=r"an Excel 97-2003 workbook \(.xls\) but cannot be read"):
        read_cpl(path)
    assert cli(tmp_path, path) == 2
    assert "save it as .xlsx" in capsys.readouterr().err


def test_xls_without_calamine_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cpl.xls"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504)
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # the import now fails
    with pytest.raises(CplFileError, match="needs the Python package python-calamine"):
        read_cpl(path)


def test_html_named_xls_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "cpl.xls"
    path.write_text("<html><body><table><tr><td>manufacturer_identifier</td></tr></table></body></html>")
    with pytest.raises(CplFileError, match=r"is a web page \(HTML\)"):
        read_cpl(path)


# 4. table on another sheet ------------------------------------------------------------------


def test_xlsx_table_on_a_later_sheet_is_found_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = xlsx(tmp_path / "cpl.xlsx", {
        "Instructions": [["Fill in one row per device"], ["Use the format XX:XX"]],
        "Submission": [HEADER, ROW],
    })
    cpl = read_cpl(path)
    assert values(path) == [tuple(ROW)]
    assert cpl.notices == (
        "the CPL table was read from sheet 'Submission': sheet 'Instructions' has no header row "
        "with the required columns",
    )
    assert cli(tmp_path, path) == 0
    assert "cplrecon: CPL file" in capsys.readouterr().err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["inputs"]["cpl"]["notices"] == list(cpl.notices)


# 5. title rows above the header -------------------------------------------------------------


def test_title_rows_above_the_header_are_skipped_and_said(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "cpl.xlsx", {
        "CPL": [["ACME CPL submission"], ["Date: 2024-05-01"], [], HEADER, ROW, [], [*ROW[:-1], "ZIG2"]]
    })
    cpl = read_cpl(path)
    assert [r.row for r in cpl.rows] == [1, 2]  # data rows count from below the found header
    assert [r.certificate_id for r in cpl.rows] == ["ZIG1", "ZIG2"]
    assert cpl.notices == (
        "header found on row 4 of sheet 'CPL'; the 2 rows above it were skipped as titles",
    )


def test_title_rows_above_a_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text("ACME CPL submission\n\n" + ";".join(HEADER) + "\n" + ";".join(ROW) + "\n")
    cpl = read_cpl(path)
    assert values(path) == [tuple(ROW)] and cpl.rows[0].row == 1
    assert cpl.notices == ("header found on row 3; the row above it was skipped as titles",)


# 6. no sheet has the columns ----------------------------------------------------------------


def test_missing_columns_name_the_sheet_and_near_misses(tmp_path: Path) -> None:
    typo = ["firmwre_version" if h == "firmware_version" else h for h in HEADER]
    path = xlsx(tmp_path / "cpl.xlsx", {"Instructions": [["Read me"]], "Data": [["CPL"], typo, ROW]})
    with pytest.raises(CplFileError) as caught:
        read_cpl(path)
    message = str(caught.value)
    assert "is missing required columns: firmware_version;" in message
    assert "columns found on row 2 of sheet 'Data': 'Submission ID', " in message
    assert "'firmwre_version': did you mean firmware_version?" in message
    assert "no sheet has them all (sheets: 'Instructions', 'Data')" in message


# 7. the same submission, as each kind of file: the same verdicts ------------------------------


def _as_unicode_text(rows: list[list[str]], path: Path) -> None:
    """What Excel's "Unicode text (*.txt)" writes: UTF-16 LE with a BOM, TAB-separated, CRLF."""
    text = "".join("\t".join(cells) + "\r\n" for cells in rows)
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def _as_xls_below_titles(rows: list[list[str]], path: Path) -> None:
    """An Excel 97-2003 workbook: instructions on the first sheet, title rows above the table."""
    xlwt = pytest.importorskip("xlwt")
    workbook = xlwt.Workbook()
    workbook.add_sheet("Read me").write(0, 0, "One row per device model")
    sheet = workbook.add_sheet("CPL")
    sheet.write(0, 0, "CPL submission")
    for r, cells in enumerate(rows, start=2):
        for c, value in enumerate(cells):
            sheet.write(r, c, value)
    workbook.save(str(path))


@pytest.mark.parametrize(("name", "write"), [
    ("cpl.txt", _as_unicode_text), ("cpl.xls", _as_xls_below_titles),
])
def test_the_sample_submission_in_another_file_gives_the_same_verdicts(
    tmp_path: Path, name: str, write: Callable[[list[list[str]], Path], None]
) -> None:
    """Issue 13 part 6 end to end: rows read from Excel's "Unicode text" or from an .xls with
    its table on the second sheet below a title are the rows of the CSV, verdicts and all."""
    sample = Path(__file__).resolve().parent.parent / "samples"
    certs = tmp_path / "certs"
    certs.mkdir()
    for cert in sorted((sample / "corpus").glob("cert_000[1-4]_*.pdf")):
        shutil.copy(cert, certs)
    with open(sample / "cpl_submission.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    write(rows, tmp_path / name)
    outputs = []
    for cpl in (sample / "cpl_submission.csv", tmp_path / name):
        out = tmp_path / f"out-{cpl.name}"
        code = main(["reconcile", "--certs", str(certs), "--cpl", str(cpl), "--out", str(out),
                     "--ocr", "never", "--workers", "1", "--no-cache", "--quiet"])
        assert code in (0, 1)
        outputs.append((out / "reconciliation.csv").read_text(encoding="utf-8-sig"))
    table = list(csv.DictReader(outputs[0].splitlines()))
    assert len(table) == len(rows) - 1  # one row per CPL row
    assert sorted(Path(r["certificate_file"]).name for r in table if r["certificate_file"]) == sorted(
        p.name for p in certs.iterdir())  # each certificate found its CPL row
    assert outputs[1] == outputs[0]
