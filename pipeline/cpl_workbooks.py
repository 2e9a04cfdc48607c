"""A CPL workbook's sheets as text (XLSX through openpyxl, XLS and ODS through python-calamine),
and what every CPL sheet is: rows of (text shown, note) cells. Split from cpl.py, which reads CSV
and chooses the sheet and header.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import regex

SAVE_AS_UTF8 = 'save it from Excel as "CSV UTF-8 (Comma delimited) (*.csv)"'

Cell = tuple[str, str]  # the text shown, and a note when the cell was not stored as text
Numbered = tuple[int, list[Cell]]  # a non-empty row with its 1-based row number in the sheet


class CplFileError(Exception):
    """The CPL file cannot be used; the message names what is wrong (exit status 2)."""


@dataclass(frozen=True)
class Sheet:
    name: str | None  # None: a CSV file, which has no sheets
    rows: Iterator[Numbered]
    notices: tuple[str, ...] = ()


def numbered(rows: Iterable[list[Cell]]) -> Iterator[Numbered]:
    """Non-empty rows with their 1-based row number in the sheet: blank rows are never data."""
    for number, row in enumerate(rows, start=1):
        if any(text.strip() for text, _ in row):
            yield number, row


# --- workbooks -------------------------------------------------------------------------------


def xlsx_sheets(path: Path, data: bytes) -> Generator[Sheet, None, None]:
    """openpyxl, for the number formats that turn a stored number back into the text shown."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad workbook
        raise CplFileError(f"CPL file {path} is not a readable Excel workbook: {exc}") from exc
    try:
        for sheet in workbook.worksheets:
            rows = ([_xlsx_cell_text(c) for c in row] for row in sheet.iter_rows(min_row=1))
            yield Sheet(sheet.title, numbered(rows))
    finally:
        workbook.close()


def calamine_sheets(path: Path, data: bytes, kind: str) -> Generator[Sheet, None, None]:
    """python-calamine reads .xls and .ods, which openpyxl cannot; it gives no number formats."""
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum
    except ImportError as exc:
        raise CplFileError(
            f"CPL file {path} is {kind}; reading it needs the Python package python-calamine "
            f"(pip install python-calamine), or save it as .xlsx"
        ) from exc
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [s.name for s in workbook.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
    except Exception as exc:  # calamine raises its own types and ValueError alike
        raise _unreadable(path, kind, str(exc)) from exc
    try:
        for name in names:
            try:
                rows = workbook.get_sheet_by_name(name).iter_rows()
            except Exception as exc:
                raise _unreadable(path, kind, f"sheet {name!r}: {exc}") from exc
            yield Sheet(name, numbered([_calamine_cell_text(v) for v in row] for row in rows))
    finally:
        workbook.close()


def _unreadable(path: Path, kind: str, detail: str) -> CplFileError:
    """What calamine said, and the way out: Excel or LibreOffice can still open most such files."""
    locked = "; a password-protected workbook looks like this too" if "(.xls)" in kind else ""
    return CplFileError(
        f"CPL file {path} looks like {kind} but cannot be read ({detail}{locked}): open it in "
        f"Excel or LibreOffice and save it as .xlsx, or {SAVE_AS_UTF8}"
    )


def _calamine_cell_text(value: object) -> Cell:
    """The cell as text, and a note when it was not stored as text (as for XLSX)."""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bool):
        return str(value).upper(), "stored as a boolean"
    if isinstance(value, (int, float)):  # an .ods gives 1.0 for a cell showing 1
        shown = _number_text(value, "General")
        return shown, f"stored as the number {value!r}, read as {shown!r}"
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        shown = _plain_time_text(value)
        return shown, f"stored as a date/time, read as {shown!r}"
    return str(value), ""


def _plain_time_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    """ISO dates, hh:mm[:ss] times: without the number format, the plainest reading."""
    if isinstance(value, dt.timedelta):  # an .ods time cell is a duration
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return value.isoformat()


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
