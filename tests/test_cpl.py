"""CPL reader and guidance section 2 validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from pipeline.cpl import CplFileError, normalise_header, read_cpl, validate
from pipeline.models import CplRow, Field

HEADER = (
    "Submission ID,Device_Model - manufacturer_identifier,Device_Model - model_identifier,"
    "Device_Model - hardware_version.version,Device_Model - hardware_version.revision,"
    "Device_Model - firmware_version,ZigBee Certificate ID"
)


def row(**values: str) -> CplRow:
    base = dict(
        row=1, submission_id="S1", certificate_id="ZIG1",
        manufacturer_identifier="10:6C", model_identifier="01:02",
        hardware_version_version="01", hardware_version_revision="02",
        firmware_version="0C:03:0C:22",
    )
    base.update(values)
    return CplRow(**base)  # type: ignore[arg-type]


# (field, value, valid?, words the broken rule must contain)
SECTION_2 = [
    ("manufacturer_identifier", "10:6C", True, ""),
    ("manufacturer_identifier", "00:00", True, ""),
    ("manufacturer_identifier", "FF:FE", True, ""),
    ("manufacturer_identifier", "FF:FF", False, "valid range 00:00 to FF:FE"),
    ("manufacturer_identifier", "10:6c", False, "lower-case"),
    ("manufacturer_identifier", "106C", False, "format XX:XX"),
    ("manufacturer_identifier", "10:6C:00", False, "format XX:XX"),
    ("manufacturer_identifier", "", False, "empty"),
    ("manufacturer_identifier", " 10:6C", False, "spaces"),
    ("model_identifier", "FF:BF", True, ""),
    ("model_identifier", "FF:C0", False, "valid range 00:00 to FF:BF"),
    ("model_identifier", "G1:00", False, "format XX:XX"),
    ("firmware_version", "00:00:00:00", True, ""),
    ("firmware_version", "FF:FF:FF:FF", True, ""),
    ("firmware_version", "0c:03:0c:22", False, "lower-case"),
    ("firmware_version", "0C:03:0C", False, "format XX:XX:XX:XX"),
    ("firmware_version", "0C.03.0C.22", False, "format XX:XX:XX:XX"),
    ("firmware_version", "12.3", False, "format XX:XX:XX:XX"),
    ("hardware_version_version", "1", False, "hardware_version.version '1' is not in the format XX"),
    ("hardware_version_version", "FF", True, ""),
    ("hardware_version_revision", "0G", False, "hardware_version.revision"),
    ("hardware_version_revision", "", False, "empty"),
]


@pytest.mark.parametrize(("name", "value", "valid", "words"), SECTION_2)
def test_section_2_validation(name: str, value: str, valid: bool, words: str) -> None:
    problems = validate(row(**{name: value}))
    field = Field.HARDWARE if name.startswith("hardware") else Field(name)
    if valid:
        assert problems == {}
    else:
        assert set(problems) == {field}
        assert words in problems[field]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Device_Model - hardware_version.version", "hardware_version_version"),
        ("HARDWARE VERSION VERSION", "hardware_version_version"),
        ("device_model-firmware_version", "firmware_version"),
        ("ZigBee Certificate ID", "zigbee_certificate_id"),
        ("  Submission ID ", "submission_id"),
    ],
)
def test_header_normalisation(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


def test_csv_cells_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text(f"{HEADER}\nS1,00:01,0012,01,02,00:00:00:01,ZIG 1\n")
    rows = read_cpl(path).rows
    assert rows[0].manufacturer_identifier == "00:01"
    assert rows[0].model_identifier == "0012"
    assert rows[0].certificate_id == "ZIG 1"
    assert rows[0].row == 1


def test_semicolon_csv_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text(
        "manufacturer_identifier;model_identifier;hardware_version.version;"
        "hardware_version.revision;firmware_version;certification_id\n"
        "10:6C;01:02;01;02;0C:03:0C:22;ZIG17123SE0456\n"
    )
    rows = read_cpl(path).rows
    assert rows[0].certificate_id == "ZIG17123SE0456"
    assert rows[0].hardware_version == "01_02"


def test_missing_columns_named(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text("Submission ID,manufacturer_identifier,firmware_version\nS1,10:6C,00:00:00:01\n")
    with pytest.raises(CplFileError) as caught:
        read_cpl(path)
    message = str(caught.value)
    assert "model_identifier" in message and "zigbee_certificate_id" in message
    assert "columns found: 'Submission ID', 'manufacturer_identifier'" in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_bytes(b"")
    with pytest.raises(CplFileError, match="is empty"):
        read_cpl(path)


def test_fake_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "cpl.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(CplFileError, match="not an Excel workbook"):
        read_cpl(path)


def test_xlsx_numeric_and_time_cells_read_as_shown(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["S1", dt.time(0, 1), "01:02", 1, 2, "0C:03:0C:22", "ZIG1"])
    sheet["B2"].number_format = "hh:mm"
    sheet["D2"].number_format = "00"
    path = tmp_path / "cpl.xlsx"
    workbook.save(path)
    (first,) = read_cpl(path).rows
    assert first.manufacturer_identifier == "00:01"
    assert first.hardware_version_version == "01"  # zero-padded by its "00" format
    assert first.hardware_version_revision == "2"  # shown as 2: invalid, and said so
    assert "hardware_version.revision '2'" in validate(first)[Field.HARDWARE]
    assert any("stored as the number" in note for note in first.notes)


def test_cli_exit_2_on_bad_cpl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text("a,b\n1,2\n")
    code = main(["reconcile", "--certs", str(tmp_path), "--cpl", str(path), "--out",
                 str(tmp_path / "out")])
    assert code == 2
    assert "missing required columns" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
