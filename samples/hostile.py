"""Small hostile and non-certificate PDFs, each showing one property seen in the world's PDFs
(issue 13), made here with reportlab and pikepdf: never copied from a library's test suite.

Every maker returns the file's bytes; `world_files()` is the set bench_world reads, with the
reason each must come out as ("OK" for the one real certificate kept as a control).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def text_pdf(lines: Sequence[str], size: tuple[float, float] = A4, pages: int = 1,
             encrypt: str | None = None) -> bytes:
    """A born-digital PDF with `lines` on each page (reportlab, byte-identical per input)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, invariant=1, encrypt=encrypt)
    for _ in range(pages):
        y = size[1] - 72
        for line in lines:
            canvas.drawString(72, y, line)
            y -= 16
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _saved(pdf: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, **options)  # type: ignore[arg-type]
    return out.getvalue()


def zero_pages() -> bytes:
    """A valid PDF whose page tree is empty (PDFium refuses it, reporting 'Success')."""
    return _saved(pikepdf.new())


def encrypted(lines: Sequence[str] = ("Confidential",)) -> bytes:
    """A PDF that needs a user password."""
    return text_pdf(lines, encrypt="secret")


def untyped_page(first: bytes, second_lines: Sequence[str]) -> bytes:
    """`first`'s pages plus one whose page object has no /Type: PDFium reads it, pdfminer
    (pdfplumber) does not see it, so pdfplumber has fewer pages than PDFium."""
    with pikepdf.open(io.BytesIO(first)) as pdf, \
            pikepdf.open(io.BytesIO(text_pdf(second_lines))) as extra:
        pdf.pages.append(extra.pages[0])
        del pdf.pages[-1].obj["/Type"]
        return _saved(pdf)


def outside_cropbox() -> bytes:
    """A blank page whose CropBox lies outside its MediaBox: 0 x 0 pt to PDFium, whose render
    then fails ('Crop exceeds page dimensions')."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.pages[0].obj["/CropBox"] = Array([300, 300, 400, 400])
    return _saved(pdf)


def huge_blank_page(width_pt: float = 2384, height_pt: float = 3370) -> bytes:
    """One A0 poster page with no text: OCR would render it at 62 megapixels."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(width_pt, height_pt))
    return _saved(pdf)


def truncated(whole: bytes) -> bytes:
    """A download that stopped part-way: the first 40% of the bytes."""
    return whole[: len(whole) * 2 // 5]


def garbage(size: int = 4096) -> bytes:
    """A PDF header over bytes that are no PDF (deterministic)."""
    state = 12345
    out = bytearray(b"%PDF-1.7\n")
    for _ in range(size):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(state >> 16 & 0xFF)
    return bytes(out)


def xref_loop(whole: bytes) -> bytes:
    """`whole` with an incremental update whose cross-reference section names itself as /Prev:
    a reader that follows /Prev without remembering where it has been never stops."""
    trailer = whole[whole.rindex(b"trailer"):]
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    size = re.search(rb"/Size\s+(\d+)", trailer)
    if root is None or size is None:
        raise ValueError("no /Root or /Size in the trailer")
    offset = len(whole)
    update = (
        b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %s /Root %s /Prev %d >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (size.group(1), root.group(1), offset, offset)
    )
    return whole + update


def page_tree_loop(whole: bytes) -> bytes:
    """`whole` whose page tree lists itself among its kids (a cycle)."""
    with pikepdf.open(io.BytesIO(whole)) as pdf:
        pages = pdf.Root.Pages
        pages.Kids = Array([*pages.Kids, pages])
        pages.Count = len(pages.Kids)
        return _saved(pdf)


def pages_node_without_kids(whole: bytes) -> bytes:
    """`whole` plus a /Pages node that claims a page but has none."""
    with pikepdf.open(io.BytesIO(whole)) as pdf:
        empty = pdf.make_indirect(Dictionary(Type=Name.Pages, Kids=Array([]), Count=1))
        pdf.Root.Pages.Kids = Array([*pdf.Root.Pages.Kids, empty])
        pdf.Root.Pages.Count = len(pdf.Root.Pages.Kids)
        return _saved(pdf)


COVER_LETTER = (
    "Acme Metering Ltd, 1 High Street, Reading",
    "12 March 2024",
    "Dear Compliance Team,",
    "Please find enclosed our CPL submission for the ES-10B meter.",
    "The ZigBee certificate will follow under separate cover.",
    "Manufacturer: Airplanes and other things we also make",
    "Model: This paper provides a historical overview of the Technology Acceptance Model",
    "Yours sincerely, J. Smith, Head of Certification",
)
# A cover letter that quotes the enclosed certificate's ID under its label, with one field.
COVER_LETTER_WITH_ID = (
    "Dear Compliance Team,",
    "Please find enclosed the ZigBee certificate for our meter.",
    "Certificate ID: ZIG21128SE6616",
    "Manufacturer: Airplanes",
    "Yours sincerely, J. Smith",
)
PAPER_ABSTRACT = (
    "A Historical Overview of the Technology Acceptance Model",
    "Abstract. This paper provides a historical overview of the Technology Acceptance Model",
    "(TAM) and its extensions. Model identification and firmware versions of devices are",
    "discussed as examples of sub-signatures in certificate chains of trust.",
    "Keywords: technology acceptance, certification, smart energy, hardware version 2",
    "Registered under the Investment Company Act of 1940 as an open-end management",
    "investment company.",
)
INVOICE = (
    "INVOICE No. 2024-0117",
    "Bill to: Acme Metering Ltd",
    "Item: Zigbee certification test fee, ESME model ES-10B",
    "Certificate ID: sub-signatures",
    "Hardware version 1.2 testing   GBP 4,200.00",
    "Firmware version review        GBP 1,300.00",
    "Total due within 30 days       GBP 5,500.00",
)


def world_files(certificate: bytes, certificate_reason: str = "OK") -> dict[str, tuple[bytes, str]]:
    """File name -> (bytes, the reason it must come out as): the hostile world corpus.

    `certificate` is one real sample certificate (a control that must stay OK, and the base
    the damaged copies are made from)."""
    makers: dict[str, tuple[Callable[[], bytes], str]] = {
        "control_certificate.pdf": (lambda: certificate, certificate_reason),
        "zero_pages.pdf": (zero_pages, "EMPTY"),
        "encrypted.pdf": (encrypted, "ENCRYPTED"),
        "truncated.pdf": (lambda: truncated(certificate), "CORRUPT"),
        "garbage.pdf": (garbage, "CORRUPT"),
        "xref_loop.pdf": (lambda: xref_loop(certificate), certificate_reason),
        "page_tree_loop.pdf": (lambda: page_tree_loop(certificate), certificate_reason),
        "pages_node_without_kids.pdf": (lambda: pages_node_without_kids(certificate),
                                        certificate_reason),
        "outside_cropbox.pdf": (outside_cropbox, "CORRUPT"),
        "huge_page.pdf": (huge_blank_page, "TOO_LARGE"),
        # just under the 9-megapixel render cap (8.6 Mpx at 200 dpi): the most OCR may cost
        "near_cap_page.pdf": (lambda: huge_blank_page(1000, 1114), "NO_FIELDS"),
        "untyped_page.pdf": (lambda: untyped_page(certificate, INVOICE), certificate_reason),
        "cover_letter.pdf": (lambda: text_pdf(COVER_LETTER), "NOT_A_CERTIFICATE"),
        "cover_letter_with_id.pdf": (lambda: text_pdf(COVER_LETTER_WITH_ID),
                                     "NOT_A_CERTIFICATE"),
        "paper_abstract.pdf": (lambda: text_pdf(PAPER_ABSTRACT), "NOT_A_CERTIFICATE"),
        "invoice.pdf": (lambda: text_pdf(INVOICE), "NOT_A_CERTIFICATE"),
    }
    return {name: (make(), reason) for name, (make, reason) in makers.items()}
