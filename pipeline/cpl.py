"""Read a CPL submission (CSV or XLSX) as text, and validate it against guidance section 2.

Every cell is read as text: `00:01` must not become a time, `0012` must keep its zeros. Where an
XLSX cell was stored as a number or time anyway, it is turned back into the text its number format
shows, and the row carries a note saying so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import regex

from pipeline.models import CplRow, Field
from pipeline.run.spool import Spool

REQUIRED = (
    "manufacturer_identifier",
    "model_identifier",
    "hardware_version_version",
    "hardware_version_revision",
    "firmware_version",
    "zigbee_certificate_id",
)
OPTIONAL = (
    "submission_id",
    "device_type",
    "submission_date",
    "manufacturer_name",
    "model_name",
)
ALIASES = {
    "zigbee_certificate_id": (
        "zigbee_certificate_id", "zigbee_certification_id", "certificate_id", "certification_id",
        "certification_id_number", "zigbee_cert_id", "zigbee_certificate",
    ),
    "submission_id": ("submission_id", "submission", "submission_reference", "cpl_submission_id"),
    "device_type": ("device_type", "physical_device_type", "type_of_device"),
    "submission_date": ("submission_date", "date_submitted", "date"),
}
MAX_ROWS = 1_000_000


class CplFileError(Exception):
    """The CPL file cannot be used; the message names what is wrong (exit status 2)."""


def normalise_header(name: str) -> str:
    """Case-insensitive; optional `Device_Model - ` prefix; spaces, dots, underscores alike."""
    text = str(name or "").strip().lower()
    text = regex.sub(r"^device[ ._]*model\s*[-\u2013:]\s*", "", text)
    return regex.sub(r"[\s._]+", "_", text).strip("_")


def _column_map(headers: Sequence[str]) -> dict[str, int]:
    normalised = [normalise_header(h) for h in headers]
    mapping: dict[str, int] = {}
    for canonical in REQUIRED + OPTIONAL:
        for alias in ALIASES.get(canonical, (canonical,)):
            if alias in normalised:
                mapping[canonical] = normalised.index(alias)
                break
    return mapping


@dataclass(frozen=True)
class CplFile:
    path: str
    rows: Sequence[CplRow]
    columns: list[str]


def read_cpl(path: str | Path) -> CplFile:
    """Rows of a CPL submission. Raises CplFileError with a message fit for the user.

    Rows are read one at a time, never into a table of every cell first, and go to disk
    (a `Spool`): memory does not grow with the submission.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CplFileError(f"cannot read CPL file {path}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise CplFileError(f"CPL file {path} is empty")
    if data.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(path, data)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raise CplFileError(f"CPL file {path} is named .xlsx but is not an Excel workbook")
    else:
        table = _csv_rows(path, data)
    del data
    table = (row for row in table if any(cell.strip() for cell, _ in row))
    header = next(table, None)
    if header is None:
        raise CplFileError(f"CPL file {path} has no header row")
    headers = [cell for cell, _ in header]
    mapping = _column_map(headers)
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        found = ", ".join(repr(h) for h in headers if h.strip()) or "none"
        raise CplFileError(
            f"CPL file {path} is missing required columns: {', '.join(missing)}; "
            f"columns found: {found}"
        )
    rows: Spool[CplRow] = Spool(_row_to_json, _row_from_json, "cplrecon-cpl-")
    for number, cells in enumerate(table, start=1):
        if number > MAX_ROWS:
            raise CplFileError(f"CPL file {path} has over {MAX_ROWS} rows")
        rows.append(_cpl_row(number, cells, mapping))
    return CplFile(str(path), rows, headers)


_ROW_FIELDS = tuple(f.name for f in fields(CplRow))


def _row_to_json(row: CplRow) -> list[Any]:
    return [getattr(row, name) for name in _ROW_FIELDS]


def _row_from_json(line: str | bytes) -> CplRow:
    values = dict(zip(_ROW_FIELDS, json.loads(line), strict=True))
    values["notes"] = tuple(values["notes"])
    return CplRow(**values)


def _cpl_row(number: int, cells: list[tuple[str, str]], mapping: dict[str, int]) -> CplRow:
    def cell(name: str) -> str:
        index = mapping.get(name)
        return cells[index][0] if index is not None and index < len(cells) else ""

    notes = tuple(
        f"{name}: {cells[index][1]}"
        for name, index in mapping.items()
        if index < len(cells) and cells[index][1]
    )
    return CplRow(
        row=number,
        submission_id=cell("submission_id"),
        certificate_id=cell("zigbee_certificate_id"),
        manufacturer_identifier=cell("manufacturer_identifier"),
        model_identifier=cell("model_identifier"),
        hardware_version_version=cell("hardware_version_version"),
        hardware_version_revision=cell("hardware_version_revision"),
        firmware_version=cell("firmware_version"),
        device_type=cell("device_type"),
        submission_date=cell("submission_date"),
        manufacturer_name=cell("manufacturer_name"),
        model_name=cell("model_name"),
        notes=notes,
    )


def _csv_rows(path: Path, data: bytes) -> Iterator[list[tuple[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    del text
    try:
        for row in reader:
            yield [(c, "") for c in row]
    except csv.Error as exc:
        raise CplFileError(f"CPL file {path} is not valid CSV: {exc}") from exc


def _xlsx_rows(path: Path, data: bytes) -> Iterator[list[tuple[str, str]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad workbook
        raise CplFileError(f"CPL file {path} is not a readable Excel workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            yield [_xlsx_cell_text(c) for c in row]
    finally:
        workbook.close()


def _xlsx_cell_text(cell: object) -> tuple[str, str]:
    """The cell as the text the user sees, and a note when it was not stored as text."""
    value = getattr(cell, "value", None)
    fmt = str(getattr(cell, "number_format", "General") or "General")
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bool):
        return str(value).upper(), "stored as a boolean"
    if isinstance(value, (int, float)):
        shown = _number_text(value, fmt)
        return shown, f"stored as the number {value!r}, read as {shown!r}"
    if isinstance(value, (dt.datetime, dt.time, dt.date)):
        shown = _time_text(value, fmt)
        return shown, f"stored as a date/time, read as {shown!r}"
    return str(value), ""


def _number_text(value: float, fmt: str) -> str:
    if float(value).is_integer():
        digits = str(int(value))
        zeros = regex.fullmatch(r"0+", fmt.strip())
        return digits.zfill(len(fmt.strip())) if zeros else digits
    return repr(value)


def _time_text(value: dt.datetime | dt.time | dt.date, fmt: str) -> str:
    lowered = fmt.lower()
    if isinstance(value, dt.time) or (
        isinstance(value, dt.datetime) and "h" in lowered and "y" not in lowered
    ):
        return f"{value.hour:02d}:{value.minute:02d}" + (
            f":{value.second:02d}" if "s" in lowered else ""
        )
    return value.isoformat()[:10]


# --- guidance section 2 --------------------------------------------------------------------

FORMATS = {
    Field.MANUFACTURER: (regex.compile(r"[0-9A-F]{2}:[0-9A-F]{2}"), "XX:XX", 0xFFFE, "00:00 to FF:FE"),
    Field.MODEL: (regex.compile(r"[0-9A-F]{2}:[0-9A-F]{2}"), "XX:XX", 0xFFBF, "00:00 to FF:BF"),
    Field.FIRMWARE: (
        regex.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){3}"),
        "XX:XX:XX:XX",
        0xFFFFFFFF,
        "00:00:00:00 to FF:FF:FF:FF",
    ),
}
OCTET = regex.compile(r"[0-9A-F]{2}")


def _format_problem(value: str, label: str, pattern: regex.Pattern[str], form: str) -> str | None:
    if value == "":
        return f"{label} is empty"
    if value != value.strip():
        return f"{label} {value!r} has leading or trailing spaces"
    if pattern.fullmatch(value):
        return None
    if pattern.fullmatch(value.upper()):
        return f"{label} {value!r} uses lower-case hex; the format is {form} with X in 0-9 A-F"
    return f"{label} {value!r} is not in the format {form} (X is one of 0-9 A-F)"


def validate(row: CplRow) -> dict[Field, str]:
    """Each field that breaks guidance section 2, with the rule it broke."""
    problems: dict[Field, str] = {}
    for f, (pattern, form, highest, valid) in FORMATS.items():
        value = row.value_for(f)
        problem = _format_problem(value, f.value, pattern, form)
        if problem is None and int(value.replace(":", ""), 16) > highest:
            problem = f"{f.value} {value} is outside the valid range {valid}"
            if f is Field.MANUFACTURER:
                problem += " (FF:FF has a special meaning in the OTA specification)"
            if f is Field.MODEL:
                problem += " (FF:C0 and above have special meanings in the OTA specification)"
        if problem:
            problems[f] = problem
    hardware = [
        _format_problem(value, name, OCTET, "XX")
        for name, value in (
            ("hardware_version.version", row.hardware_version_version),
            ("hardware_version.revision", row.hardware_version_revision),
        )
    ]
    if any(hardware):
        problems[Field.HARDWARE] = "; ".join(p for p in hardware if p)
    return problems
