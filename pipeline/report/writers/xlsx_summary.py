"""The workbook's Summary and Evidence sheets, written when the run's counts are known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.models import FIELDS, LISTING_ATTRIBUTE, Field, Overall, Verdict
from pipeline.report.plain import FIELD_WORDS, STATUS_WORDS, row_sentences
from pipeline.report.writers.cells import neutralise
from pipeline.report.writers.run_json import run_value
from pipeline.report.writers.sink import CertificateRecord, Crop

_STATUS_FILL = {"PASS": "#1E7B34", "REVIEW": "#C98A00", "FAIL": "#B00020",
                "NO_CERTIFICATE": "#6A1B9A", "ERROR": "#37474F"}

COUNTS_END = "problems"  # the last count among the Summary lines (report.tally._summary)
EVIDENCE_ROW_LIMIT = 500  # CPL rows on the Evidence sheet: 4 crops each, ~4 KB a crop, ~8 MB
CROP_WIDTH_PX = 320  # a crop is shown at most this wide in its cell
_PX_TO_PT = 0.75



def _counts(data: Any) -> Mapping[str, Any]:
    return data if isinstance(data, Mapping) else {}


def _started(run: Mapping[str, Any]) -> str:
    """run.json's start time as people read it (UTC); the time of writing when not given."""
    started = run.get("started")
    try:
        when = dt.datetime.fromisoformat(str(started)) if started else dt.datetime.now(dt.UTC)
    except ValueError:
        return str(started)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _write_facts(ws: Any, formats: Mapping[str, Any], run: Mapping[str, Any]) -> int:
    ws.write_string(0, 0, "cplrecon audit", formats["title"])
    seconds = run_value(run, "timings", "total_before_writing_s")
    facts: list[tuple[str, Any]] = [
        ("Run started", _started(run)),
        ("Run took (seconds)", round(seconds, 1) if isinstance(seconds, int | float) else None),
        ("CPL file", run_value(run, "inputs", "cpl", "path")),
        ("Certificates from", ", ".join(map(str, run_value(run, "inputs", "certs") or []))),
        ("cplrecon version", run_value(run, "versions", "cplrecon")),
        ("Rules (fields, policy, device types)", ", ".join(
            str(v) for v in _counts(run_value(run, "rules")).values())),
    ]
    row = 1
    for label, value in facts:
        if value in (None, ""):
            continue
        ws.write_string(row, 0, label, formats["bold"])
        if isinstance(value, int | float):
            ws.write_number(row, 1, value)
        else:
            ws.write_string(row, 1, neutralise(str(value)))
        row += 1
    ws.write_string(row, 0, "Open this workbook, not the CSVs, in Excel: Excel reads 10:28 in a "
                    "CSV as a time. The CSVs keep the SPEC column names.", formats["note"])
    return row + 2


def _write_rows_by_status(ws: Any, formats: Mapping[str, Any], counts: Mapping[str, Any],
                          row: int, workbook: xlsxwriter.Workbook) -> int:
    overall = _counts(counts.get("overall"))
    for c, title in enumerate(("Rows by status", "Rows", "What it means")):
        ws.write_string(row, c, title, formats["header"])
    first = row + 1
    for status in (o.value for o in Overall):
        row += 1
        ws.write_string(row, 0, status, formats["bold"])
        ws.write_number(row, 1, int(overall.get(status, 0) or 0))
        ws.write_string(row, 2, STATUS_WORDS[status], formats["wrap"])
    row += 1
    ws.write_string(row, 0, "All rows", formats["bold"])
    ws.write_number(row, 1, int(counts.get("rows", sum(overall.values()) if overall else 0) or 0))
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series({
        "name": "Rows by status",
        "categories": ["Summary", first, 0, first + len(Overall) - 1, 0],
        "values": ["Summary", first, 1, first + len(Overall) - 1, 1],
        "points": [{"fill": {"color": _STATUS_FILL[o.value]}} for o in Overall],
        "data_labels": {"value": True},
    })
    chart.set_title({"name": "Rows by status"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    ws.insert_chart(first - 1, 4, chart, {"x_scale": 1.1, "y_scale": 0.9})
    return row + 3


def _write_fields(ws: Any, formats: Mapping[str, Any], counts: Mapping[str, Any], row: int) -> int:
    by_name = _counts(counts.get("fields_by_name"))
    titles = ("Field verdicts", *(FIELD_WORDS[f].split(" (")[0] for f in FIELDS), "What it means")
    for c, title in enumerate(titles):
        ws.write_string(row, c, title, formats["header"])
    for verdict in (v.value for v in Verdict):
        row += 1
        ws.write_string(row, 0, verdict, formats["bold"])
        for c, f in enumerate(FIELDS, 1):
            ws.write_number(row, c, int(_counts(by_name.get(f.value)).get(verdict, 0) or 0))
        ws.write_string(row, len(FIELDS) + 1, STATUS_WORDS[verdict], formats["wrap"])
    return row + 2


def _write_documents(ws: Any, formats: Mapping[str, Any], counts: Mapping[str, Any], row: int) -> int:
    ws.write_string(row, 0, "Documents", formats["header"])
    ws.write_string(row, 1, "Count", formats["header"])
    lines: list[tuple[str, Any]] = [
        ("Documents read", counts.get("certificates")),
        ("Read", run_value(counts, "certificate_status", "OK")),
        ("Could not be read", run_value(counts, "certificate_status", "ERROR")),
        *((f"Text from: {k}", v) for k, v in _counts(counts.get("text_source")).items()),
        *((f"Could not be read: {k}", v) for k, v in _counts(counts.get("certificate_errors")).items()),
        ("Problems (sheet Problems)", counts.get("problems")),
    ]
    for label, value in lines:
        if isinstance(value, int):
            row += 1
            ws.write_string(row, 0, label)
            ws.write_number(row, 1, value)
    return row + 2


def _write_details(ws: Any, formats: Mapping[str, Any], lines: Sequence[tuple[str, str]],
                   row: int) -> int:
    """Every count the run made (run.json's "counts", as the report's Summary lines name them),
    numbers as numbers: below the summary, for the auditor who needs one the summary skips."""
    ws.write_string(row, 0, "Every count", formats["header"])
    ws.write_string(row, 1, "Value", formats["header"])
    for key, value in lines:
        row += 1
        ws.write_string(row, 0, neutralise(key))
        if value.isdigit():
            ws.write_number(row, 1, int(value))
        else:
            ws.write_string(row, 1, neutralise(value))
        if key == COUNTS_END:
            break
    return row + 2


def write_summary(workbook: xlsxwriter.Workbook, ws: Any, formats: Mapping[str, Any],
                  run: Mapping[str, Any], print_setup: Callable[..., None],
                  lines: Sequence[tuple[str, str]] = ()) -> None:
    """Title, run facts, counts as numbers with a chart, field verdicts, documents, legend, then
    every count (`lines`: the report's Summary lines, up to the run's settings)."""
    counts = _counts(run.get("counts"))
    row = _write_facts(ws, formats, run)
    row = _write_rows_by_status(ws, formats, counts, row, workbook)
    row = _write_fields(ws, formats, counts, row)
    row = _write_documents(ws, formats, counts, row)
    _write_details(ws, formats, lines, row)
    ws.set_column(0, 0, 36)
    ws.set_column(1, 5, 14)
    ws.set_column(2, 2, 60)
    ws.set_column(6, 6, 70)
    print_setup(ws, header_rows=0)


# --- the Evidence sheet -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Shown:
    """What the Evidence sheet keeps of a document: its ID, its listings' labels, its crops."""

    certificate_id: str
    labels: tuple[str, ...]
    crops: tuple[Crop, ...]


_EVIDENCE_HEADERS = ("Row", "Submission ID", "Status", "Field", "CPL value", "Certificate shows",
                     "Verdict", "Where it stands (crop)", "Page", "In plain English")


class EvidenceSheet:
    """The crops beside the values: rows that are not PASS first, at most EVIDENCE_ROW_LIMIT.

    Rows arrive before the documents that hold their crops, so the first EVIDENCE_ROW_LIMIT
    rows of each kind are kept (bounded memory) and written at the end."""

    def __init__(self, workbook: xlsxwriter.Workbook, formats: Mapping[str, Any], out_dir: Path,
                 crops_on: bool) -> None:
        self.ws = workbook.add_worksheet("Evidence")
        self.formats, self.out_dir, self.crops_on = formats, out_dir, crops_on
        self.kept: dict[bool, list[dict[str, str]]] = {True: [], False: []}  # by "not PASS"
        self.total = 0
        self.documents: dict[str, list[_Shown]] = {}

    def add_row(self, row: dict[str, str]) -> None:
        self.total += 1
        kept = self.kept[row.get("overall_status") != "PASS"]
        if len(kept) < EVIDENCE_ROW_LIMIT:
            kept.append(row)

    def add_certificate(self, record: CertificateRecord) -> None:
        if record.crops:  # only what the sheet shows: the crops, not the certificate
            labels = tuple(x.label for x in record.certificate.listings) if record.certificate else ()
            self.documents.setdefault(record.row["certificate_file"], []).append(
                _Shown(record.row.get("certificate_id", ""), labels, record.crops))

    def _crop(self, row: Mapping[str, str], attribute: str) -> Crop | None:
        found = self.documents.get(row.get("certificate_file", ""), [])
        key = _key(row.get("certificate_id", ""))
        shown = next((d for d in found if _key(d.certificate_id) == key), found[0] if found else None)
        if shown is None:
            return None
        label = row.get("listing", "")  # "listing 2 of 3: ES-10B-P", the listing's label first
        listing = next((i for i, own in enumerate(shown.labels)
                        if own and (label == own or label.startswith(own + ":"))), 0)
        return next((c for c in shown.crops if c.field == attribute and c.listing == listing), None)

    def write(self, print_setup: Callable[..., None]) -> None:
        rows = (self.kept[True] + self.kept[False])[:EVIDENCE_ROW_LIMIT]
        shown = len(rows)
        note = (f"Rows that are not PASS come first. This sheet shows at most {EVIDENCE_ROW_LIMIT} "
                f"CPL rows, 4 fields each: here {shown} of {self.total}. report.html shows every row "
                "with its crops.")
        if not self.crops_on:
            note += " Crops were turned off for this run (--no-crops)."
        self.ws.write_string(0, 0, note, self.formats["note"])
        for c, title in enumerate(_EVIDENCE_HEADERS):
            self.ws.write_string(1, c, title, self.formats["header"])
        r = 1
        for row in rows:
            sentences = row_sentences(row)
            for f in FIELDS:
                r += 1
                self._field_row(r, row, f.value, LISTING_ATTRIBUTE[f], sentences[f.value])
        for c, width in enumerate((7, 16, 14, 24, 14, 28, 14, CROP_WIDTH_PX / 7, 7, 70)):
            self.ws.set_column(c, c, width)
        self.ws.freeze_panes(2, 3)
        self.ws.autofilter(1, 0, max(r, 1), len(_EVIDENCE_HEADERS) - 1)
        print_setup(self.ws, header_rows=2)

    def _field_row(self, r: int, row: Mapping[str, str], field: str, attribute: str,
                   sentence: str) -> None:
        ws, fmt = self.ws, self.formats
        number = row.get("submission_row", "")
        if number.isdigit():
            ws.write_number(r, 0, int(number), fmt["text"])
        for c, value in ((1, row.get("submission_id", "")), (2, row.get("overall_status", "")),
                         (3, FIELD_WORDS[_field(field)]), (4, row.get(f"{field}_cpl", "")),
                         (5, row.get(f"{field}_certificate", "")), (6, row.get(f"{field}_status", "")),
                         (9, sentence or row.get(f"{field}_reason", ""))):
            ws.write_string(r, c, neutralise(value), fmt["wrap"])
        crop = self._crop(row, attribute)
        if crop is None:
            ws.write_string(r, 7, "no crop" if self.crops_on else "crops off", fmt["note"])
            return
        ws.write_number(r, 8, crop.page, fmt["text"])
        if not self._image(r, crop):
            ws.write_string(r, 7, "crop unreadable", fmt["note"])

    def _image(self, r: int, crop: Crop) -> bool:
        """The crop in its cell, scaled to fit the column; the row as tall as the crop."""
        path = self.out_dir / crop.path
        size = png_size(path)
        if size is None:
            return False
        width, height = size
        scale = min(1.0, CROP_WIDTH_PX / max(width, 1))
        self.ws.set_row(r, max(15.0, height * scale * _PX_TO_PT + 6))
        self.ws.insert_image(r, 7, str(path), {"x_scale": scale, "y_scale": scale, "x_offset": 2,
                                               "y_offset": 3, "object_position": 1})
        return True


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's header (its first 24 bytes), without decoding it; None when
    the file is not a PNG (or is gone)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _key(certificate_id: str) -> str:
    return "".join(ch for ch in certificate_id.upper() if ch.isalnum())


def _field(name: str) -> Field:
    return Field(name)
