"""Provenance made from the real words of sample documents, for the report tests.

The field reader that fills `evidence` is built elsewhere; these tests build the same Provenance
the way it will: the value's words found on the page (pdfplumber for a text layer, tesseract for a
scan), their boxes joined.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pdfplumber

from pipeline.models import Certificate, Provenance


def words_box(pdf: Path, value: str, page: int = 1) -> Provenance:
    """The union of the boxes of the consecutive words reading `value` on the page."""
    wanted = value.split()
    with pdfplumber.open(pdf) as doc:
        words = doc.pages[page - 1].extract_words()
    texts = [w["text"] for w in words]
    for start in range(len(texts) - len(wanted) + 1):
        if texts[start:start + len(wanted)] == wanted:
            run = words[start:start + len(wanted)]
            box = (min(w["x0"] for w in run), min(w["top"] for w in run),
                   max(w["x1"] for w in run), max(w["bottom"] for w in run))
            return Provenance(page, box, "text", None, "test: words on the page")
    raise AssertionError(f"{value!r} is not on page {page} of {pdf}")


def ocr_box(image_dpi: int, image: object, value: str, page: int = 1,
            prefix: bool = False) -> Provenance:
    """The box of the OCR word reading `value` (or starting with it), in points (px * 72 / dpi)."""
    import pytesseract

    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    for i, text in enumerate(data["text"]):
        if text.strip() == value or (prefix and text.startswith(value)):
            k = 72 / image_dpi
            x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
            return Provenance(page, (x * k, y * k, (x + w) * k, (y + h) * k), "ocr",
                              float(data["conf"][i]), "test: tesseract word")
    raise AssertionError(f"tesseract did not read {value!r}")


def with_text_evidence(certificate: Certificate, pdf: Path) -> Certificate:
    """The certificate with every field it shows boxed where its words stand (first page with
    them); each page's words are read once."""
    if not certificate.ok or pdf.suffix.lower() != ".pdf":
        return certificate
    with pdfplumber.open(pdf) as doc:
        pages = [[w for w in page.extract_words()] for page in doc.pages]

    def box(value: str) -> Provenance | None:
        wanted = value.split()
        for number, words in enumerate(pages, 1):
            texts = [w["text"] for w in words]
            for start in range(len(texts) - len(wanted) + 1):
                if wanted and texts[start:start + len(wanted)] == wanted:
                    run = words[start:start + len(wanted)]
                    bbox = (min(w["x0"] for w in run), min(w["top"] for w in run),
                            max(w["x1"] for w in run), max(w["bottom"] for w in run))
                    return Provenance(number, bbox, "text", None, "test: words on the page")
        return None

    evidence = tuple((n, p) for n in ("certificate_id",) if (p := box(certificate.certificate_id)))
    listings = []
    for listing in certificate.listings:
        fields = ("manufacturer", "model", "hardware_version", "firmware_version")
        found = tuple((n, p) for n in fields if (p := box(getattr(listing, n))))
        listings.append(dataclasses.replace(listing, evidence=found))
    return dataclasses.replace(certificate, evidence=evidence, listings=tuple(listings))
