"""Every failure: a typed reason, its message, its exit code (STYLE: OCRmyPDF exceptions.py).

A document that cannot be read is one `DocumentError`: its `reason` is one of `ErrorReason`,
its `message` says in a compliance officer's words what happened and what to do, and its
`detail` (the library's own exception text, for developers) goes into the certificate's
`notes`, never into the message. `REASON_ADVICE` is the table README.md shows.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Process exit codes (SPEC "Exit codes"): the CLI returns these.
EXIT_OK, EXIT_FAIL_ON, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class ErrorReason(StrEnum):
    """Why a document could not be read: one typed reason each (STYLE: OCRmyPDF exceptions)."""

    EMPTY = "EMPTY"
    NOT_A_PDF = "NOT_A_PDF"
    CORRUPT = "CORRUPT"
    ENCRYPTED = "ENCRYPTED"
    TIMEOUT = "TIMEOUT"
    TOO_LARGE = "TOO_LARGE"
    OCR_UNAVAILABLE = "OCR_UNAVAILABLE"
    NO_FIELDS = "NO_FIELDS"
    NOT_A_CERTIFICATE = "NOT_A_CERTIFICATE"  # a cover letter, a paper: no certificate ID + fields
    UNREADABLE = "UNREADABLE"
    WORKER_LOST = "WORKER_LOST"  # the (Dask) workers reading it died, more often than retried


# What each reason means and what the user should do: README.md's reasons table (a test keeps
# the two in step).
REASON_ADVICE: dict[ErrorReason, str] = {
    ErrorReason.EMPTY: "The file has no bytes, or the PDF has no pages. Ask for the certificate "
    "again.",
    ErrorReason.NOT_A_PDF: "The file is neither a PDF nor an image, whatever its name says. Ask "
    "for the certificate as a PDF.",
    ErrorReason.CORRUPT: "The PDF is damaged, and a repair with qpdf did not help. Ask for a new "
    "copy. When the repair worked, the row is `OK` and its notes say the file was repaired.",
    ErrorReason.ENCRYPTED: "The PDF needs a password. Ask for an unprotected copy.",
    ErrorReason.TIMEOUT: "Reading the document took longer than `--timeout`. The next run tries "
    "it again; give a longer `--timeout` if it keeps happening.",
    ErrorReason.TOO_LARGE: "The file is over a size, page-count, page-area or render-size limit, "
    "or it is a zip bomb. Ask for the certificate pages only.",
    ErrorReason.OCR_UNAVAILABLE: "The document needs OCR, but tesseract is missing or "
    "`--ocr never` was given. Install tesseract, or drop `--ocr never`.",
    ErrorReason.NO_FIELDS: "The document was read, but no certificate fields were found in it. "
    "Check it by eye; it may be a poor scan.",
    ErrorReason.NOT_A_CERTIFICATE: "The document was read, but it is not a certificate (no "
    "certificate ID with certificate context), e.g. a cover letter or a paper. Ask for the "
    "certificate itself.",
    ErrorReason.UNREADABLE: "cplrecon itself failed on this document (a bug). The notes hold the "
    "error for developers; please report it with the file.",
    ErrorReason.WORKER_LOST: "Dask only: the workers reading it died more often than retried. "
    "The next run tries it again.",
}


class DocumentError(Exception):
    """A document could not be read; carries its typed reason and an actionable message.

    `detail` is for developers (the library's exception text): it goes into the certificate's
    notes. Two errors are equal by reason and message only."""

    def __init__(self, reason: ErrorReason, message: str, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.detail = detail

    def __eq__(self, other: object) -> bool:
        # By value, so a Certificate read back from the cache equals the one first parsed.
        if not isinstance(other, DocumentError):
            return NotImplemented
        return (self.reason, self.message) == (other.reason, other.message)

    def __hash__(self) -> int:
        return hash((self.reason, self.message))

    def __reduce__(self) -> tuple[type[DocumentError], tuple[ErrorReason, str, str]]:
        # Travels back from worker processes: rebuild from the arguments, not from str(self).
        return (DocumentError, (self.reason, self.message, self.detail))


_ADDRESS = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


def developer_note(exc: BaseException) -> str:
    """A library's exception as one line for a certificate's notes (never its message)."""
    # without object addresses (`<_io.BytesIO object at 0x7f..>`): the same file, the same note
    text = _ADDRESS.sub("<object>", " ".join(str(exc).split()))[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
