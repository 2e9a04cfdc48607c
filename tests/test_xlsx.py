"""audit.xlsx for people who work in Excel (issue 12), read back with openpyxl from a real run
over the bundled corpus: numbers are numbers, the identity is frozen, links open the certificate
at its page, the crops are on the Evidence sheet, the Summary has a chart, nothing is cut off
silently, and every sheet prints landscape, one page wide, its header repeated."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.models import Certificate, DeviceListing, Field, FieldJudgement, Overall, RowResult, Verdict
from pipeline.report import build_report, write_outputs
from pipeline.report.plain import STATUS_WORDS
from pipeline.report.writers import xlsx_columns, xlsx_summary
from pipeline.report.writers.xlsx import MAX_CELL

from conftest import read_csv

EXCEL_LIMIT = 32_767


@pytest.fixture(scope="module")
def workbook(sample_run: Path) -> Any:
    return openpyxl.load_workbook(sample_run / "audit.xlsx")


def by_key(ws: Any, columns: tuple[xlsx_columns.Column, ...], first: int = 2) -> list[dict[str, Any]]:
    cells = [[c for c in r] for r in ws.iter_rows(min_row=first)]
    return [dict(zip((c.key for c in columns), row, strict=True)) for row in cells]


def test_summary_counts_are_numbers_beside_a_legend(workbook: Any, sample_run: Path) -> None:
    counts = json.loads((sample_run / "run.json").read_text())["counts"]
    ws = workbook["Summary"]
    assert ws["A1"].value == "cplrecon audit"
    facts = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2, max_row=8)}
    assert facts["CPL file"].endswith("cpl_submission.csv") and "Run started" in facts
    by_status = {}
    for row in ws.iter_rows():
        if row[0].value in counts["overall"] and row[1].data_type == "n":
            by_status[row[0].value] = (row[1].value, row[2].value)
    assert {s: n for s, (n, _) in by_status.items()} == counts["overall"]
    assert {s: words for s, (_, words) in by_status.items()} == {
        s: STATUS_WORDS[s] for s in counts["overall"]}  # the legend, the README's own words
    all_rows = next(r for r in ws.iter_rows() if r[0].value == "All rows")
    assert all_rows[1].value == counts["rows"] == len(read_csv(sample_run / "reconciliation.csv"))
    # Below: every count, each a number, none of the run's settings.
    rows = list(ws.iter_rows(values_only=True))
    details = {r[0]: r[1] for r in rows[next(i for i, r in enumerate(rows) if r[0] == "Every count") + 1:]}
    assert details["problems"] == counts["problems"] and details["certificates OK"] == 34
    assert all(isinstance(v, int) for v in details.values())


def test_the_summary_has_a_chart_of_row_statuses(sample_run: Path) -> None:
    with zipfile.ZipFile(sample_run / "audit.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart = z.read(charts[0]).decode()
    assert "<c:barChart>" in chart and "Summary!$A$" in chart and "Summary!$B$" in chart


def test_reconciliation_identity_frozen_headers_plain_numbers_numbers(
    workbook: Any, sample_run: Path,
) -> None:
    ws = workbook["Reconciliation"]
    assert ws.freeze_panes == "E2"  # row, submission, certificate ID and status stay on screen
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["Row", "Submission ID", "Certificate ID", "Status"]
    # Per field: cpl | certificate | status | reason, then method and alternatives (and page).
    start = headers.index("Firmware: CPL value")
    assert headers[start:start + 7] == [
        "Firmware: CPL value", "Firmware: certificate shows", "Firmware: verdict",
        "Firmware: why", "Firmware: coding used", "Firmware: other readings", "Firmware: page"]
    csv_rows = read_csv(sample_run / "reconciliation.csv")
    rows = by_key(ws, xlsx_columns.RECONCILIATION_SHEET)
    assert len(rows) == len(csv_rows)
    for cells, csv_row in zip(rows, csv_rows, strict=True):
        assert cells["submission_row"].data_type == "n"
        assert cells["submission_row"].value == int(csv_row["submission_row"])
        for key, value in csv_row.items():
            shown = cells[key].value
            assert (str(shown) if shown is not None else "") == value.lstrip("'") or \
                shown == value, key
        page = csv_row["manufacturer_identifier_page"]
        assert cells["manufacturer_identifier_page"].value == (int(page) if page else None)


def test_reasons_wrap_and_widths_follow_the_content(workbook: Any) -> None:
    ws = workbook["Reconciliation"]
    rows = by_key(ws, xlsx_columns.RECONCILIATION_SHEET)
    reasons = [r["reasons"] for r in rows if r["reasons"].value]
    assert reasons and all(c.alignment.wrap_text for c in reasons)
    assert width(ws, reasons[0].column) == pytest.approx(60, abs=1)  # capped: the rest wraps
    assert width(ws, rows[0]["submission_row"].column) < 12  # a number column stays narrow
    longest = max(len(str(r["certificate_file"].value or "")) for r in rows)
    assert width(ws, rows[0]["certificate_file"].column) == pytest.approx(min(longest + 2, 60), abs=1)


def width(ws: Any, column: int) -> float:
    """A column's width; xlsxwriter writes neighbours of one width as one range (min..max)."""
    for dimension in ws.column_dimensions.values():
        if dimension.min <= column <= dimension.max:
            return float(dimension.width)
    raise AssertionError(f"column {column} has no width set")


def test_links_open_the_certificate_file_at_its_page(workbook: Any, sample_run: Path) -> None:
    ws = workbook["Reconciliation"]
    linked = 0
    for cells in by_key(ws, xlsx_columns.RECONCILIATION_SHEET):
        cell = cells["certificate_file"]
        if not cell.value:
            continue
        link = cell.hyperlink
        assert link is not None, cell.value
        target = Path(os.path.normpath(sample_run / link.target.replace("\\", "/")))
        assert target == Path(str(cell.value)).resolve()  # relative to the workbook
        page = cells["manufacturer_identifier_page"].value
        assert link.location == (f"page={page}" if page else None)
        linked += 1
    assert linked >= 30
    certs = by_key(workbook["Certificates"], xlsx_columns.CERTIFICATE_SHEET)
    assert all(c["certificate_file"].hyperlink for c in certs)


def test_the_evidence_sheet_shows_the_crops_not_pass_rows_first(
    workbook: Any, sample_run: Path,
) -> None:
    ws = workbook["Evidence"]
    assert "at most" in ws["A1"].value and "not PASS come first" in ws["A1"].value
    statuses = [r[2].value for r in ws.iter_rows(min_row=3)]
    first_pass = statuses.index("PASS")
    assert "PASS" not in {*statuses[:first_pass]} and set(statuses[first_pass:]) == {"PASS"}
    assert first_pass > 0
    images = ws._images
    assert len(images) >= 100
    anchored = {img.anchor._from.row for img in images}  # 0-based rows of the crop column
    assert {img.anchor._from.col for img in images} == {7}
    # Each image sits on its field's row, beside that field's values, with its page.
    for row in anchored:
        assert ws.cell(row + 1, 9).data_type == "n" and ws.cell(row + 1, 5).value is not None
    with zipfile.ZipFile(sample_run / "audit.xlsx") as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/") and n.endswith(".png")]
    assert len(media) == len(images)


def test_a_multi_model_row_shows_its_own_listing_crop(workbook: Any, sample_run: Path) -> None:
    rows = read_csv(sample_run / "reconciliation.csv")
    second = next(r for r in rows if r["listing"].startswith("listing 2 of"))
    ws = workbook["Evidence"]
    on_sheet = [r for r in ws.iter_rows(min_row=3) if r[1].value == second["submission_id"]]
    model = next(r for r in on_sheet if r[3].value.startswith("model"))
    image = next(img for img in ws._images if img.anchor._from.row == model[0].row - 1)
    assert image.ref is not None  # the crop of listing 2's model, read back from the workbook
    crops = sorted((sample_run / "evidence").glob("*-listing2-model.png"))
    assert any(p.read_bytes() == image._data() for p in crops)


def _cited_by_many(rows: int) -> Any:
    """A certificate cited by `rows` CPL rows: its 'CPL rows citing it' is over Excel's limit."""
    cert = Certificate(file="certs/a.pdf", sha256="ab" * 32, pages=1, certificate_id="ZIG-1",
                       listings=(DeviceListing("10:9F", "00:01", "01_02", "0C:03:0C:22"),))
    from pipeline.models import CplRow

    results = [
        RowResult(cpl=CplRow(i, f"S{i}", "ZIG-1", "10:9F", "00:01", "01", "02", "0C:03:0C:22"),
                  overall=Overall.PASS, certificate_file="certs/a.pdf",
                  judgements=(FieldJudgement(Field.MANUFACTURER, "10:9F", "10:9F", Verdict.MATCH),))
        for i in range(1, rows + 1)
    ]
    return build_report(results, [cert], {"started": "2026-12-02T10:00:00+00:00"})


def test_a_cell_over_the_limit_goes_whole_to_the_long_cells_sheet(tmp_path: Path) -> None:
    out = write_outputs(_cited_by_many(7_000), tmp_path)
    full = read_csv(out["certificates"])[0]["cpl_rows"]
    assert len(full) > EXCEL_LIMIT and MAX_CELL == EXCEL_LIMIT
    wb = openpyxl.load_workbook(out["audit"])
    cert = by_key(wb["Certificates"], xlsx_columns.CERTIFICATE_SHEET)[0]
    note = cert["cpl_rows"].value
    assert "too many for one cell" in note and "'Long cells'" in note
    long = wb["Long cells"]
    parts = [r for r in long.iter_rows(min_row=2, values_only=True)]
    assert {(p[0], p[1], p[2]) for p in parts} == {("Certificates", cert["cpl_rows"].coordinate,
                                                    "CPL rows citing it")}
    assert "".join(p[4] for p in parts) == full  # nothing lost
    assert all(len(p[4]) <= EXCEL_LIMIT for p in parts)


def test_every_sheet_prints_landscape_one_page_wide_headers_repeated(workbook: Any) -> None:
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1), ws.title
    assert {ws.title: ws.print_title_rows for ws in workbook.worksheets[1:]} == {
        "Reconciliation": "$1:$1", "Certificates": "$1:$1", "Problems": "$1:$1",
        "Evidence": "$1:$2"}


def test_the_evidence_sheet_stops_at_its_limit_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(xlsx_summary, "EVIDENCE_ROW_LIMIT", 5)
    out = write_outputs(_cited_by_many(12), tmp_path)
    ws = openpyxl.load_workbook(out["audit"])["Evidence"]
    assert "at most 5 CPL rows" in ws["A1"].value and "here 5 of 12" in ws["A1"].value
    assert [r[0].value for r in ws.iter_rows(min_row=3)] == [n for n in range(1, 6) for _ in range(4)]


def test_past_excels_link_limit_a_file_is_named_not_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Excel holds 65,530 links a sheet: later rows show the file name as text (here the limit
    is 3), and a document inside a zip, which no viewer opens by path, is never a link."""
    from pipeline.report.writers import xlsx

    monkeypatch.setattr(xlsx, "MAX_LINKS", 3)
    report = _cited_by_many(5)
    report.reconciliation[0]["certificate_file"] = "archive.zip/certs/a.pdf"
    out = write_outputs(report, tmp_path)
    rows = by_key(openpyxl.load_workbook(out["audit"])["Reconciliation"],
                  xlsx_columns.RECONCILIATION_SHEET)
    files = [r["certificate_file"] for r in rows]
    assert [c.hyperlink is not None for c in files] == [False, True, True, True, False]
    assert [c.value for c in files] == ["archive.zip/certs/a.pdf"] + ["certs/a.pdf"] * 4
