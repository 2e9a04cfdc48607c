"""Ruled tables: from pypdfium2 path objects (~1 ms a page), pdfplumber as the fallback.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.extract.pdfium_text import page_of, pdf_document, textpage_of

# pdfplumber table settings, pinned: ruled tables only (lines drawn in the PDF).
TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
    "text_x_tolerance": 3,
    "text_y_tolerance": 3,
}


Table = tuple[tuple[str, ...], ...]
EDGE_TOLERANCE = 2.0  # pt: edges this close are one ruling line (pdfplumber's snap default is 3)
THIN = 2.5  # pt: a path object thinner than this is a line, not a box


@dataclass(frozen=True)
class _Edges:
    horizontal: list[tuple[float, float, float]]  # (y, x0, x1)
    vertical: list[tuple[float, float, float]]  # (x, y0, y1)


def _is_polygon(path: object) -> bool:
    """Straight segments only: a ruling line or box, not a logo drawn with curves."""
    raw = path.raw  # type: ignore[attr-defined]
    count = pdfium_c.FPDFPath_CountSegments(raw)
    for index in range(max(count, 0)):
        segment = pdfium_c.FPDFPath_GetPathSegment(raw, index)
        if pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            return False
    return count > 0


def _page_edges(page: pdfium.PdfPage) -> _Edges:
    """Ruling edges from path objects: thin lines, and the four sides of straight boxes."""
    edges = _Edges([], [])
    for path in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=3):
        left, bottom, right, top = path.get_bounds()
        if not _is_polygon(path):
            continue
        if top - bottom < THIN and right - left >= THIN:
            edges.horizontal.append(((top + bottom) / 2, left, right))
        elif right - left < THIN and top - bottom >= THIN:
            edges.vertical.append(((left + right) / 2, bottom, top))
        elif right - left >= THIN and top - bottom >= THIN:
            edges.horizontal.extend([(top, left, right), (bottom, left, right)])
            edges.vertical.extend([(left, bottom, top), (right, bottom, top)])
    return edges


def _snap(values: list[float]) -> list[float]:
    """Positions within EDGE_TOLERANCE of each other become one (their mean)."""
    groups: list[list[float]] = []
    for value in sorted(values):
        if groups and value - groups[-1][-1] <= EDGE_TOLERANCE:
            groups[-1].append(value)
        else:
            groups.append([value])
    return [sum(g) / len(g) for g in groups]


def _covers(span: tuple[float, float], low: float, high: float) -> bool:
    return span[0] <= low + EDGE_TOLERANCE and span[1] >= high - EDGE_TOLERANCE


def _grid_rows(edges: _Edges) -> list[tuple[float, float, list[float]]]:
    """Row bands (top, bottom, column xs) bounded by horizontal edges and split by verticals."""
    ys = sorted(_snap([y for y, _, _ in edges.horizontal]), reverse=True)
    rows = []
    for top, bottom in zip(ys, ys[1:], strict=False):
        ruled_top = [(x0, x1) for y, x0, x1 in edges.horizontal if abs(y - top) <= EDGE_TOLERANCE]
        ruled_bottom = [(x0, x1) for y, x0, x1 in edges.horizontal if abs(y - bottom) <= EDGE_TOLERANCE]
        xs = _snap([x for x, y0, y1 in edges.vertical if _covers((y0, y1), bottom, top)])
        xs = [x for x in xs if any(_covers(span, x, x) for span in ruled_top)
              and any(_covers(span, x, x) for span in ruled_bottom)]
        if len(xs) >= 2:
            rows.append((top, bottom, xs))
    return rows


def _bounded_cell_text(
    textpage: pdfium.PdfTextPage, left: float, bottom: float, right: float, top: float
) -> str:
    text = textpage.get_text_bounded(left=left, bottom=bottom, right=right, top=top)
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _page_tables(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> tuple[Table, ...]:
    tables_found: list[list[tuple[str, ...]]] = []
    previous_bottom: float | None = None
    for top, bottom, xs in _grid_rows(_page_edges(page)):
        cells = tuple(
            _bounded_cell_text(textpage, left, bottom, right, top)
            for left, right in zip(xs, xs[1:], strict=False)
        )
        if previous_bottom is None or abs(previous_bottom - top) > EDGE_TOLERANCE:
            tables_found.append([])  # rows that do not touch the one above start a new table
        tables_found[-1].append(cells)
        previous_bottom = bottom
    return tuple(tuple(rows) for rows in tables_found if any(any(c) for c in rows))


def ruled_tables(data: bytes, page_numbers: list[int]) -> dict[int, tuple[Table, ...]]:
    """Ruled tables from pypdfium2 path objects and bounded text, ~1 ms a page.

    Reads tables whose rules are drawn as lines or straight boxes (what certificate generators
    and office suites write); pdfplumber's `tables` stays the fallback for anything else.
    """
    found: dict[int, tuple[Table, ...]] = {}
    with pdf_document(data) as pdf:
        for number in page_numbers:
            with page_of(pdf, number - 1) as page, textpage_of(page) as textpage:
                found[number] = _page_tables(page, textpage)
    return found


def _may_hold_grid(edges: _Edges) -> bool:
    """Ruling that can bound two cells: pdfplumber's "lines" strategy finds no table without it
    (a letterhead band or a page frame is one box: two edges each way)."""
    rows = len(_snap([y for y, _, _ in edges.horizontal]))
    columns = len(_snap([x for x, _, _ in edges.vertical]))
    return rows >= 2 and columns >= 2 and rows + columns >= 5


def unread_ruling(data: bytes, page_numbers: list[int]) -> list[int]:
    """The pages whose path objects could form a ruled table that `ruled_tables` did not read
    (~1 ms a page). Where it read the grid, pdfplumber would read the same lines again."""
    with pdf_document(data) as pdf:
        wanted = []
        for number in page_numbers:
            with page_of(pdf, number - 1) as page:
                edges = _page_edges(page)
            if _may_hold_grid(edges) and not _grid_rows(edges):
                wanted.append(number)
    return wanted


def unread_tables(data: bytes, page_numbers: list[int]) -> dict[int, tuple[Table, ...]]:
    """pdfplumber's `tables`, as the fallback after `ruled_tables`: only for pages with ruling
    it could not read. Other pages are not given to pdfplumber (~60 ms a page, 0.15-0.3 s to
    import it); on the development families it found no field there that `ruled_tables` had
    not, and born-digital documents with a field left blank paid it every time."""
    found: dict[int, tuple[Table, ...]] = {n: () for n in page_numbers}
    wanted = unread_ruling(data, page_numbers)
    return {**found, **tables(data, wanted)} if wanted else found


def tables(data: bytes, page_numbers: list[int]) -> dict[int, tuple[tuple[tuple[str, ...], ...], ...]]:
    """Ruled tables of the given pages (1-based), by pdfplumber with pinned settings.

    pdfminer may see fewer pages than PDFium (a page object without /Type): those it does not
    see have no tables here. Its other failures are the caller's to fall back from."""
    import pdfplumber  # imported here: 0.15-0.3 s, paid only by documents that need tables

    found: dict[int, tuple[tuple[tuple[str, ...], ...], ...]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number in page_numbers:
            if number > len(pdf.pages):
                continue
            page = pdf.pages[number - 1]
            try:
                raw = page.extract_tables(table_settings=TABLE_SETTINGS)
            finally:
                page.close()
            found[number] = tuple(
                tuple(tuple((cell or "").strip() for cell in row) for row in table)
                for table in raw
            )
    return found
