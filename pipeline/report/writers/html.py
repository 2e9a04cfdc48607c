"""report.html: one static page for people; no server, no external URL, usable with 10,000 rows.

The page is a Jinja2 template (`report/templates/report.html.j2`) with autoescaping on: the
summary, the chart of row statuses (inline SVG) and the legend are rendered here; the rows go
into one JSON blob in a `<script type="application/json">`, from which plain JavaScript builds
the table and, when a row is opened, its card. So 10,000 rows cost one compact table and no
card until it is asked for, and crops (`<img loading="lazy">`) load only when seen.

Text from documents is untrusted: the template escapes everything it shows, the JSON has `<`,
`>`, `&` and the line separators escaped (nothing in it can close the script element), and the
JavaScript writes text with `textContent`, never as HTML.

Rows arrive before the documents they cite (runner order), so they are spooled to a temporary
file as JSON lines and joined with the documents' crops and links at `finish`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from pipeline.models import FIELDS, LISTING_ATTRIBUTE, Overall
from pipeline.report.plain import FIELD_WORDS, OVERALL_WORDS, STATUS_WORDS, row_sentences
from pipeline.report.writers.run_json import run_value
from pipeline.report.writers.sink import CertificateRecord, Crop, WriterOptions

TEMPLATE = "report.html.j2"
_ROW_KEYS = ("submission_row", "submission_id", "certificate_id", "certificate_file",
             "overall_status", "reasons", "listing")
_FIELD_KEYS = ("cpl", "certificate", "status", "method", "reason", "alternatives")
STATUS_COLOURS = {  # darker versions of the workbook's colours (writers.xlsx), legible as text
    "PASS": "#1e7b34", "REVIEW": "#9c5700", "FAIL": "#b00020", "NO_CERTIFICATE": "#6a1b9a",
    "ERROR": "#37474f",
}
_CHART_WIDTH = 420  # px of the longest bar


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.report", "templates"),
        autoescape=True,  # every value shown is escaped; document text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` (so no `</script>` or `<!--`),
    and no U+2028/U+2029 (line ends to older JavaScript)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _compact_row(row: Mapping[str, str]) -> list[Any]:
    """A row as the page needs it: identity, then per field its parts and the sentence."""
    sentences = row_sentences(dict(row))
    fields = [
        [row.get(f"{f.value}_{k}", "") for k in _FIELD_KEYS] + [sentences[f.value]]
        for f in FIELDS
    ]
    return [row.get(k, "") for k in _ROW_KEYS] + [fields]


def _link(file: str, out_dir: Path) -> str:
    """A relative link from the report to the document (a zip member: to its archive)."""
    path = file
    if ".zip/" in file.lower():
        path = file[: file.lower().index(".zip/") + 4]
    target = os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
    return quote(target.replace(os.sep, "/"))


def _crop_entry(crop: Crop) -> list[Any]:
    return [quote(crop.path), crop.page, crop.source, crop.confidence]


def _document(record: CertificateRecord, out_dir: Path) -> dict[str, Any]:
    cert, row = record.certificate, record.row
    listing_crops: list[dict[str, list[Any]]] = []
    certificate_crops: dict[str, list[Any]] = {}
    for crop in record.crops:
        if crop.listing is None:
            certificate_crops[crop.field] = _crop_entry(crop)
        else:
            while len(listing_crops) <= crop.listing:
                listing_crops.append({})
            listing_crops[crop.listing][crop.field] = _crop_entry(crop)
    zipped = ".zip/" in row["certificate_file"].lower()
    return {
        "id": row.get("certificate_id", ""),
        "href": _link(row["certificate_file"], out_dir),
        "page": (cert.first_page if cert is not None and cert.first_page else 1),
        "paged": not zipped,  # a viewer can open a PDF at a page, not a member inside a zip
        "status": row.get("status", ""),
        "error": row.get("error", ""),
        "text_source": row.get("text_source", ""),
        "listings": [listing.label for listing in cert.listings] if cert is not None else [],
        "crops": certificate_crops,
        "listing_crops": listing_crops,
    }


def _chart(overall: Mapping[str, int]) -> list[dict[str, Any]]:
    """Bars of the inline SVG chart: one per row status, zeros included, widths to scale."""
    top = max(overall.values(), default=0) or 1
    return [
        {"status": s, "count": int(overall.get(s, 0)), "colour": STATUS_COLOURS[s],
         "width": round(_CHART_WIDTH * int(overall.get(s, 0)) / top, 1), "y": 8 + 30 * i}
        for i, s in enumerate(o.value for o in Overall)
    ]



def run_facts(run: Mapping[str, Any]) -> dict[str, Any]:
    """What the page's header says about the run, read defensively from run.json's data."""
    seconds = run_value(run, "timings", "total_before_writing_s")
    return {
        "version": run_value(run, "versions", "cplrecon") or "",
        "cpl": run_value(run, "inputs", "cpl", "path") or "",
        "certs": ", ".join(map(str, run_value(run, "inputs", "certs") or [])),
        "seconds": f"{seconds:.1f} s" if isinstance(seconds, int | float) else "",
    }


class HtmlSink:
    """report.html, written at `finish` from the rows spooled as they came."""

    def __init__(self, path: Path, options: WriterOptions) -> None:
        self.path = path
        self.options = options
        self._spool: IO[str] | None = tempfile.TemporaryFile(  # noqa: SIM115 - closed in close()
            "w+", encoding="utf-8", prefix="cplrecon-html-", suffix=".jsonl"
        )
        self._documents: dict[str, list[dict[str, Any]]] = {}

    def add_row(self, row: dict[str, str]) -> None:
        assert self._spool is not None
        self._spool.write(json.dumps(_compact_row(row), ensure_ascii=False) + "\n")

    def add_certificate(self, record: CertificateRecord) -> None:
        self._documents.setdefault(record.row["certificate_file"], []).append(
            _document(record, self.options.out_dir)
        )

    def add_problem(self, row: dict[str, str]) -> None:
        pass

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
        assert self._spool is not None
        self._spool.seek(0)
        rows = [json.loads(line) for line in self._spool]
        self.close()
        counts = run.get("counts", {})
        page = _environment().get_template(TEMPLATE).render(
            title="cplrecon audit report",
            written=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            facts=run_facts(run), counts=counts, chart=_chart(counts.get("overall", {})),
            chart_width=_CHART_WIDTH,
            legend=[(s, STATUS_WORDS[s]) for s in STATUS_WORDS],
            overall_words=OVERALL_WORDS, colours=STATUS_COLOURS,
            data=Markup(script_json({  # noqa: S704 - made safe for a <script> by script_json
                "rows": rows, "documents": self._documents,
                "fields": [[f.value, FIELD_WORDS[f], LISTING_ATTRIBUTE[f]] for f in FIELDS],
                "legend": STATUS_WORDS, "crops": self.options.crops,
            })),
        )
        with open(self.path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(page)

    def close(self) -> None:
        if self._spool is not None:
            spool, self._spool = self._spool, None
            spool.close()


def report_html(path: Path, options: WriterOptions) -> HtmlSink:
    return HtmlSink(path, options)
