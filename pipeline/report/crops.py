"""Crops: one PNG per field found, so an auditor sees the value where it stands on the page.

Each field's provenance (models.Provenance: page and box in PDF points, top-left origin) is cut out
of its page with a small margin: born-digital pages are rendered by pypdfium2 at 150 dpi in grey,
only the box's part of the page, each page loaded once for all its boxes; scans keep their own
pixels (an image-only page is rendered at the embedded scan's resolution, an image file is cropped
as it is). The PNGs go to `evidence/` in the output folder, named by the document's sha256 prefix,
the page and the field, so the same document gives the same names in every run: a crop that exists
is never rendered again.

A crop is evidence, not a verdict: a document that cannot be opened or rendered again simply has
no crops (the run and its other outputs go on).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import regex

from pipeline.models import Certificate, DocumentError, Provenance
from pipeline.report.writers.atomic import write_once
from pipeline.report.writers.sink import Crop

EVIDENCE_DIR = "evidence"
CROP_DPI = 150  # legible for 8-12 pt text, and a few KB per field
MARGIN_PT = 6.0  # around the box: the value's neighbours show it was read in context
SHA_PREFIX = 16  # hex digits of the sha256 in a crop's name: no clash in any real archive
MAX_SCAN_DPI = 600  # a scan's own pixels, but never a page render over this (memory)
_IMAGE_KINDS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
_ZIP_MEMBER = regex.compile(r"(?i)^(?P<archive>.+?\.zip)/(?P<member>.+)$")
_NAME_SAFE = regex.compile(r"[^A-Za-z0-9_]+")


def crop_name(sha256: str, page: int, field: str, listing: int | None = None) -> str:
    """'0a1b2c3d4e5f6789-p1-listing2-model.png'; certificate fields have no listing part."""
    where = "" if listing is None else f"-listing{listing + 1}"
    return f"{sha256[:SHA_PREFIX]}-p{page}{where}-{_NAME_SAFE.sub('_', field)}.png"


def _fields(certificate: Certificate) -> Iterator[tuple[str, int | None, Provenance]]:
    for name, provenance in certificate.evidence:
        yield name, None, provenance
    for i, listing in enumerate(certificate.listings):
        for name, provenance in listing.evidence:
            yield name, i, provenance


def crops_for(
    certificate: Certificate, out_dir: Path, data: bytes | None = None
) -> tuple[Crop, ...]:
    """Every field's crop, rendered now unless a run already wrote it; () when none can be.
    `data`: the document's bytes when the caller has them (a worker that read it by its own
    path); else they are read again from the name reports show."""
    if not certificate.ok or not certificate.sha256:
        return ()
    wanted = [
        (Crop(name, listing, p.page, f"{EVIDENCE_DIR}/{crop_name(certificate.sha256, p.page, name, listing)}",
              p.source, p.confidence), p)
        for name, listing, p in _fields(certificate)
    ]
    missing = [(c, p) for c, p in wanted if not (out_dir / c.path).exists()]
    if missing:
        try:
            data = data if data is not None else document_bytes(certificate.file)
            for index, png in _render(data, certificate.file, [p for _, p in missing]):
                write_once(out_dir / missing[index][0].path, png)
        except (OSError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile, DocumentError):
            pass  # the document cannot be read again (moved, damaged): a crop's loss stops nothing
    return tuple(c for c, _ in wanted if (out_dir / c.path).exists())


def document_bytes(name: str) -> bytes:
    """A document's bytes from the name reports show: a path, or `archive.zip/member`."""
    path = Path(name)
    if path.is_file():
        return path.read_bytes()
    match = _ZIP_MEMBER.match(name)
    if match is None:
        raise FileNotFoundError(name)
    with zipfile.ZipFile(match["archive"]) as archive:
        return archive.read(match["member"])


def _render(data: bytes, name: str, boxes: list[Provenance]) -> Iterator[tuple[int, bytes]]:
    """(index into boxes, PNG) for each box that can be cut out."""
    if Path(name).suffix.lower() in _IMAGE_KINDS:
        yield from _crop_images(data, boxes)
    else:
        yield from _crop_pdf(data, boxes)


def _png(image: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # type: ignore[attr-defined]  # fast, still small
    return buffer.getvalue()


def _crop_pdf(data: bytes, boxes: list[Provenance]) -> Iterator[tuple[int, bytes]]:
    """Each page is loaded once for all the boxes on it (a page load costs as much as a crop)."""
    from pipeline.extract.pdfium_text import page_of, pdf_document

    by_page: dict[int, list[int]] = {}
    for i, box in enumerate(boxes):
        by_page.setdefault(box.page, []).append(i)
    with pdf_document(data) as pdf:  # the worker's kept document: its pages are loaded already
        for number, indexes in sorted(by_page.items()):
            if not 1 <= number <= len(pdf):
                continue
            with page_of(pdf, number - 1) as page:
                scan: float | None | bool = False  # looked up once, for the first OCR box
                for i in indexes:
                    box = boxes[i]
                    if box.source == "ocr" and scan is False:
                        scan = _scan_scale(page)
                    scale = scan if box.source == "ocr" and scan else CROP_DPI / 72
                    # Text-layer crops are grey: the value's text, in half the bytes and time.
                    image = _render_box(page, box, float(scale), grey=box.source != "ocr")
                    if image is not None:
                        yield i, _png(image)


def _scan_scale(page: object) -> float | None:
    """Pixels per point of the largest image on the page: a scan rendered at its own pixels."""
    import pypdfium2.raw as pdfium_c

    best: tuple[float, float] | None = None  # (area in points, pixels per point)
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):  # type: ignore[attr-defined]
        left, bottom, right, top = obj.get_bounds()
        width_px, _ = obj.get_px_size()
        if right - left <= 0 or width_px <= 0:
            continue
        area = (right - left) * (top - bottom)
        if best is None or area > best[0]:
            best = (area, width_px / (right - left))
    if best is None:
        return None
    return min(best[1], MAX_SCAN_DPI / 72)


def _render_box(page: object, box: Provenance, scale: float, grey: bool = False) -> object | None:
    width, height = page.get_size()  # type: ignore[attr-defined]
    x0, top, x1, bottom = box.bbox
    left, right = max(x0 - MARGIN_PT, 0.0), min(x1 + MARGIN_PT, width)
    upper, lower = max(top - MARGIN_PT, 0.0), min(bottom + MARGIN_PT, height)
    if right <= left or lower <= upper:
        return None
    # pypdfium2 crops (left, bottom, right, top) off the page's edges, in points.
    crop = (left, height - lower, width - right, upper)
    return page.render(scale=scale, crop=crop, grayscale=grey).to_pil()  # type: ignore[attr-defined]


def _crop_images(data: bytes, boxes: list[Provenance]) -> Iterator[tuple[int, bytes]]:
    """An image file: the page is the image at its dpi (as OCR read it); cut its own pixels."""
    from PIL import Image

    from pipeline.extract.tesseract import image_dpi

    with Image.open(io.BytesIO(data)) as image:
        for i, box in enumerate(boxes):
            try:
                image.seek(box.page - 1)
            except EOFError:
                continue
            per_point = image_dpi(image) / 72
            x0, top, x1, bottom = box.bbox
            area = (
                max(int((x0 - MARGIN_PT) * per_point), 0), max(int((top - MARGIN_PT) * per_point), 0),
                min(int((x1 + MARGIN_PT) * per_point) + 1, image.width),
                min(int((bottom + MARGIN_PT) * per_point) + 1, image.height),
            )
            if area[2] > area[0] and area[3] > area[1]:
                yield i, _png(image.crop(area))
