"""Progress on stderr: a one-line bar on a terminal, one summary line otherwise.

Hand-written because it is one line of text redrawn a few times a second: documents done of the
total, OCR pages, errors, cached hits, rate and ETA. Logs and CI (no terminal) get only the
summary, so they stay readable.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from pipeline.models import Certificate, TextSource

REDRAW_EVERY_S = 0.2


def ocr_pages(certificate: Certificate) -> int:
    """Pages read by OCR: all pages of an OCR document, the OCR'd ones of a mixed one."""
    if certificate.text_source is TextSource.OCR:
        return certificate.pages
    if certificate.text_source is TextSource.MIXED:
        return sum(
            1 for part in certificate.ocr_reason.split("; ")
            if part.startswith("page ") and "(OCR off)" not in part
        )
    return 0


@dataclass
class Progress:
    total: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    live: bool = False  # redraw a bar (a terminal, and not --quiet)
    done: int = 0
    errors: int = 0
    cached: int = 0
    duplicates: int = 0
    ocr: int = 0
    started: float = field(default_factory=time.monotonic)
    _drawn: float = 0.0

    @classmethod
    def for_terminal(cls, total: int, quiet: bool, stream: TextIO | None = None) -> Progress:
        stream = stream or sys.stderr
        live = not quiet and hasattr(stream, "isatty") and stream.isatty()
        return cls(total=total, stream=stream, live=live)

    def advance(self, certificate: Certificate, cached: bool = False, duplicate: bool = False) -> None:
        self.done += 1
        self.errors += not certificate.ok
        self.cached += cached
        self.duplicates += duplicate and not cached
        self.ocr += 0 if cached or duplicate else ocr_pages(certificate)
        now = time.monotonic()
        if self.live and (now - self._drawn >= REDRAW_EVERY_S or self.done == self.total):
            self._drawn = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        fresh = self.done - self.cached - self.duplicates
        rate = fresh / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f}s" if rate > 0 and left else ("0s" if not left else "?")
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        return (
            f"[{bar}] {self.done}/{self.total} documents, {self.ocr} OCR pages, "
            f"{self.errors} errors, {self.cached} cached, {rate:.1f}/s, ETA {eta}"
        )

    def close(self) -> None:
        """End the bar's line so the summary starts on its own."""
        if self.live and self.done:
            self.stream.write("\n")
            self.stream.flush()

    def elapsed(self) -> float:
        return time.monotonic() - self.started
