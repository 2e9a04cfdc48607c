"""Read a CPL submission (CSV, XLSX, XLS or ODS) as text, and validate it against guidance section 2.

Every cell is read as text: `00:01` must not become a time, `0012` must keep its zeros. Where a
workbook cell was stored as a number or time anyway, it is turned back into the text its number
format shows (XLSX) or into plain digits and ISO dates (XLS and ODS, whose formats calamine does
not give), and the row carries a note saying so.

Files come as users save them: the table may sit on a later sheet below title rows, a CSV may be
Excel's UTF-16 "Unicode text". What was guessed is said in `CplFile.notices`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import itertools
import json
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import regex

from pipeline.cpl_workbooks import (
    SAVE_AS_UTF8,
    Cell,
    CplFileError,
    Numbered,
    Sheet,
    calamine_sheets,
    numbered,
    xlsx_sheets,
)
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
HEADER_SEARCH_ROWS = 20  # non-empty rows of a sheet looked at for the header (titles above it)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (and password-protected .xlsx) containers
ZIP = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),  # Excel's "Unicode text (*.txt)"
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)

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
    notices: tuple[str, ...] = ()  # what was guessed (sheet, header row, encoding): for the user


@dataclass(frozen=True)
class _Header:
    sheet: str | None
    number: int  # row number in the sheet
    cells: list[str]
    mapping: dict[str, int]
    above: int  # non-empty rows above it (titles), skipped

    @property
    def complete(self) -> bool:
        return all(c in self.mapping for c in REQUIRED)

    @property
    def where(self) -> str:
        """`row 4 of sheet 'Data'`: where the user finds this header."""
        return f"row {self.number}" + ("" if self.sheet is None else f" of sheet {self.sheet!r}")


def read_cpl(path: str | Path) -> CplFile:
    """Rows of a CPL submission. Raises CplFileError with a message fit for the user.

    Rows are read one at a time, never into a table of every cell first (XLS and ODS sheets
    excepted: calamine reads a sheet whole), and go to disk (a `Spool`): memory does not grow
    with the submission.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CplFileError(f"cannot read CPL file {path}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise CplFileError(f"CPL file {path} is empty")
    with contextlib.closing(_sheets(path, data)) as sheets:
        del data
        header, rest, notices = _choose_sheet(path, sheets)
        rows = _spool_rows(path, header, rest)
    return CplFile(str(path), rows, header.cells, tuple(notices))


def _sheets(path: Path, data: bytes) -> Generator[Sheet, None, None]:
    """The file's sheets, told by its bytes rather than its name: users rename files."""
    suffix = path.suffix.lower()
    if data.startswith(OLE2):
        return calamine_sheets(path, data, "an Excel 97-2003 workbook (.xls)")
    if data.startswith(ZIP):
        if _is_ods(data):
            return calamine_sheets(path, data, "an OpenDocument spreadsheet (.ods)")
        return xlsx_sheets(path, data)
    if suffix in (".xlsx", ".xlsm"):
        raise CplFileError(f"CPL file {path} is named {suffix} but is not an Excel workbook")
    if suffix == ".ods":
        raise CplFileError(f"CPL file {path} is named .ods but is not an OpenDocument spreadsheet")
    named = (f"named {suffix} but is text, so it was read as CSV",) if suffix == ".xls" else ()
    return _csv_sheets(path, data, named)


def _is_ods(data: bytes) -> bool:
    """An ODS is a zip like an XLSX; its `mimetype` member tells them apart."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("mimetype").strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _choose_sheet(
    path: Path, sheets: Iterable[Sheet]
) -> tuple[_Header, Iterator[Numbered], list[str]]:
    """The first sheet with a header naming every required column, the rows below it, and what
    the user should be told: templates put instructions on the first sheet, titles above."""
    best: _Header | None = None
    passed: list[str] = []
    for sheet in sheets:
        header, rest = _scan(sheet)
        if header is not None and header.complete:
            return header, rest, [*sheet.notices, *_header_notices(header, passed)]
        if header is not None and (best is None or len(header.mapping) > len(best.mapping)):
            best = header
        if sheet.name is not None:
            passed.append(sheet.name)
    raise _missing_columns(path, best, passed)


def _scan(sheet: Sheet) -> tuple[_Header | None, Iterator[Numbered]]:
    """The header among the first non-empty rows: the first naming every required column, else
    the one naming most (for the message); and the rows after it, still to be read."""
    seen: list[Numbered] = []
    best: _Header | None = None
    for number, cells in sheet.rows:
        texts = [text for text, _ in cells]
        header = _Header(sheet.name, number, texts, _column_map(texts), len(seen))
        seen.append((number, cells))
        if best is None or len(header.mapping) > len(best.mapping):
            best = header
        if header.complete or len(seen) >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        return None, iter(())
    return best, itertools.chain(seen[best.above + 1:], sheet.rows)


def _header_notices(header: _Header, passed: Sequence[str]) -> list[str]:
    """Say which sheet and row were taken when it was not the obvious one."""
    notices = []
    if passed:
        names = ", ".join(repr(name) for name in passed)
        have = "has" if len(passed) == 1 else "have"
        notices.append(
            f"the CPL table was read from sheet {header.sheet!r}: sheet{'s' * (len(passed) > 1)} "
            f"{names} {have} no header row with the required columns"
        )
    if header.above:
        rows = "the row above it was" if header.above == 1 else f"the {header.above} rows above it were"
        notices.append(f"header found on {header.where}; {rows} skipped as titles")
    return notices


def _missing_columns(path: Path, best: _Header | None, passed: Sequence[str]) -> CplFileError:
    """The required columns not found, where the best candidate header was, and near misses."""
    if best is None:
        return CplFileError(f"CPL file {path} has no header row")
    missing = [c for c in REQUIRED if c not in best.mapping]
    found = ", ".join(repr(h) for h in best.cells if h.strip()) or "none"
    where = "" if best.sheet is None and best.number == 1 else f" on {best.where}"
    parts = [
        f"CPL file {path} is missing required columns: {', '.join(missing)}",
        f"columns found{where}: {found}",
        *_did_you_mean(best, missing),
    ]
    if len(passed) > 1:
        parts.append(f"no sheet has them all (sheets: {', '.join(repr(p) for p in passed)})")
    return CplFileError("; ".join(parts))


def _did_you_mean(header: _Header, missing: Sequence[str]) -> list[str]:
    """A column name one typo away from a missing column: quicker to fix than to hunt for."""
    names = {alias: column for column in missing for alias in ALIASES.get(column, (column,))}
    used = set(header.mapping.values())
    hints = []
    for index, cell in enumerate(header.cells):
        close = difflib.get_close_matches(normalise_header(cell), list(names), n=1, cutoff=0.8)
        if close and index not in used:
            hints.append(f"{cell!r}: did you mean {names[close[0]]}?")
    return hints


def _spool_rows(path: Path, header: _Header, rest: Iterable[Numbered]) -> Spool[CplRow]:
    """The data rows, numbered from 1 below the header, on disk."""
    rows: Spool[CplRow] = Spool(_row_to_json, _row_from_json, "cplrecon-cpl-")
    for number, (_, cells) in enumerate(rest, start=1):
        if number > MAX_ROWS:
            raise CplFileError(f"CPL file {path} has over {MAX_ROWS} rows")
        rows.append(_cpl_row(number, cells, header.mapping))
    if len(rows) == 0:
        raise CplFileError(
            f"CPL file {path} has a header but no rows: nothing below the header on "
            f"{header.where}; add the submission's rows under it"
        )
    return rows


_ROW_FIELDS = tuple(f.name for f in fields(CplRow))


def _row_to_json(row: CplRow) -> list[Any]:
    return [getattr(row, name) for name in _ROW_FIELDS]


def _row_from_json(line: str | bytes) -> CplRow:
    values = dict(zip(_ROW_FIELDS, json.loads(line), strict=True))
    values["notes"] = tuple(values["notes"])
    return CplRow(**values)


def _cpl_row(number: int, cells: list[Cell], mapping: dict[str, int]) -> CplRow:
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


# --- CSV -------------------------------------------------------------------------------------


def _csv_sheets(
    path: Path, data: bytes, notices: tuple[str, ...] = ()
) -> Generator[Sheet, None, None]:
    """A CSV file as one sheet without a name."""
    text, decoded = _decode(path, data)
    if regex.match(r"\s*<(?:!doctype\s+html|html|table)\b", text[:1024], regex.IGNORECASE):
        raise CplFileError(
            f"CPL file {path} is a web page (HTML), not CSV or a workbook (some web exports name "
            f"such files .xls): open it in Excel and save it as .xlsx, or {SAVE_AS_UTF8}"
        )
    yield Sheet(None, numbered(_csv_records(path, text)), (*notices, *decoded))


def _decode(path: Path, data: bytes) -> tuple[str, tuple[str, ...]]:
    """The CSV's text, and a notice when it was guessed. A BOM says the encoding (Excel's
    "Unicode text" is UTF-16 LE with one); else UTF-8, else Windows-1252 (Excel's plain "CSV")."""
    codec, label = _encoding(path, data)
    try:
        return data.decode(codec), ()
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise _undecodable(path, label, exc) from exc
    try:
        return data.decode("cp1252"), ("read as Windows-1252 text: it is not UTF-8",)
    except UnicodeDecodeError as exc:
        raise _undecodable(path, "UTF-8 or Windows-1252", exc) from exc


def _encoding(path: Path, data: bytes) -> tuple[str, str]:
    """(codec, name for the user): by BOM; NUL bytes without one mean UTF-16 or not text."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return codec, label
    head = data[:4096]
    if b"\x00" not in head:
        return "utf-8", "UTF-8"
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd >= len(head) // 4 and odd > 3 * even:
        return "utf-16-le", "UTF-16 LE (without a BOM)"
    if even >= len(head) // 4 and even > 3 * odd:
        return "utf-16-be", "UTF-16 BE (without a BOM)"
    raise CplFileError(
        f"CPL file {path} is not CSV or a workbook: it holds binary data; save the submission as "
        f".xlsx, or {SAVE_AS_UTF8}"
    )


def _undecodable(path: Path, label: str, exc: UnicodeDecodeError) -> CplFileError:
    return CplFileError(
        f"CPL file {path} is not valid {label} text ({exc.reason} at byte {exc.start}); "
        f"{SAVE_AS_UTF8}"
    )


def _csv_records(path: Path, text: str) -> Iterator[list[Cell]]:
    reader = _csv_reader(text)
    del text
    try:
        for record in reader:
            yield [(c, "") for c in record]
    except csv.Error as exc:
        raise CplFileError(f"CPL file {path} is not valid CSV: {exc}") from exc


def _csv_reader(text: str) -> Iterator[list[str]]:
    """The delimiter is the one that makes some early line name the most CPL columns; the
    Sniffer guesses only where none names any (title rows and `00:01` values mislead it)."""
    sample = text[:8192]
    lines = sample.splitlines()[: 2 * HEADER_SEARCH_ROWS]
    scores = {d: max((_line_score(line, d) for line in lines), default=0) for d in ",;\t|"}
    delimiter = max(scores, key=lambda d: scores[d])
    if scores[delimiter]:
        return csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text), dialect)


def _line_score(line: str, delimiter: str) -> int:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return 0
    return len(_column_map(cells))


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
