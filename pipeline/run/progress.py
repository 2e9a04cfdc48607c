"""Progress on stderr: a one-line tqdm bar on a terminal, nothing otherwise.

tqdm (rather than a hand-written bar) because it fits the line to the terminal's width as it
is resized: the old bar, wider than 80 columns, wrapped and stacked one line per redraw.
Logs and CI (no terminal) get no bar; the CLI prints its one summary line at the end.

The ETA is our own, not tqdm's documents-per-second: a scan costs ~100x a born-digital page
(MEASUREMENTS.md: 1.5-1.7 s of tesseract against ~15 ms), and cached documents cost nothing,
so a plain rate is wrong in both directions. Each document read is weighed by its cost
(1 + OCR_PAGE_WEIGHT per OCR page), seconds per unit of weight are measured as the run goes,
and the documents still to read are weighed by what is known of them: image files certainly
need OCR; a PDF is expected to weigh what the PDFs read so far weighed on average (so a share
of scanned PDFs is learned, not assumed).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from pipeline.models import Certificate, TextSource

REDRAW_EVERY_S = 0.2
# One OCR page against one text-layer document, in wall time: 1.5-1.7 s vs ~15 ms (measured).
OCR_PAGE_WEIGHT = 100.0
# tqdm puts ", " before {postfix}; ours is "elapsed<ETA, counts" (the ETA our own: see above)
BAR_FORMAT = "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} docs{postfix}"


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
class CostModel:
    """Seconds left, from the cost of the documents read so far (see the module docstring)."""

    images_left: int = 0  # image files still to read: OCR for certain
    pdfs_left: int = 0
    weight_done: float = 0.0
    pdf_weight: float = 0.0
    pdfs_done: int = 0
    image_pages: int = 0
    images_done: int = 0

    def done(self, certificate: Certificate, image: bool) -> None:
        weight = 1.0 + OCR_PAGE_WEIGHT * ocr_pages(certificate)
        self.weight_done += weight
        if image:
            self.images_left = max(0, self.images_left - 1)
            self.images_done += 1
            self.image_pages += max(1, certificate.pages)
        else:
            self.pdfs_left = max(0, self.pdfs_left - 1)
            self.pdfs_done += 1
            self.pdf_weight += weight

    def seconds_left(self, seconds_reading: float) -> float | None:
        if self.weight_done <= 0:
            return None
        per_weight = seconds_reading / self.weight_done
        image_pages = self.image_pages / self.images_done if self.images_done else 1.0
        pdf = self.pdf_weight / self.pdfs_done if self.pdfs_done else 1.0
        left = self.images_left * (1.0 + OCR_PAGE_WEIGHT * image_pages) + self.pdfs_left * pdf
        return left * per_weight


@dataclass
class Progress:
    total: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    live: bool = False  # draw a bar (a terminal, and not --quiet)
    columns: int | None = None  # None: the terminal's width, followed as it changes
    done: int = 0
    errors: int = 0
    cached: int = 0
    duplicates: int = 0
    ocr: int = 0
    started: float = field(default_factory=time.monotonic)
    cost: CostModel = field(default_factory=CostModel)
    _bar: Any = None

    @classmethod
    def for_terminal(
        cls, total: int, quiet: bool, stream: TextIO | None = None, columns: int | None = None
    ) -> Progress:
        stream = stream or sys.stderr
        live = not quiet and hasattr(stream, "isatty") and stream.isatty()
        return cls(total=total, stream=stream, live=live, columns=columns)

    def expect(self, images: int, pdfs: int) -> None:
        """The documents that will be read (neither cached nor duplicates), by kind."""
        self.cost.images_left, self.cost.pdfs_left = images, pdfs

    def advance(
        self, certificate: Certificate, cached: bool = False, duplicate: bool = False,
        image: bool = False,
    ) -> None:
        self.done += 1
        self.errors += not certificate.ok
        self.cached += cached
        self.duplicates += duplicate and not cached
        fresh = not cached and not duplicate
        self.ocr += ocr_pages(certificate) if fresh else 0
        if fresh and certificate.sha256:
            self.cost.done(certificate, image)
        if self.live:
            bar = self._bar or self._open()
            bar.set_postfix_str(self.postfix(), refresh=False)
            bar.update(1)

    def _open(self) -> Any:
        from tqdm import tqdm  # here: a run with no terminal never loads it

        self._bar = tqdm(
            total=self.total, file=self.stream, bar_format=BAR_FORMAT, mininterval=REDRAW_EVERY_S,
            ncols=self.columns, dynamic_ncols=self.columns is None, leave=True,
        )
        return self._bar

    def postfix(self) -> str:
        seconds = self.cost.seconds_left(self.elapsed())
        eta = "?" if seconds is None else _clock(seconds)
        if self.done >= self.total:
            eta = "0:00"
        return (f"{_clock(self.elapsed())}<{eta}, {self.ocr} OCR pages, {self.errors} err, "
                f"{self.cached} cached")

    def line(self) -> str:
        """What the bar shows after its percentage (for logs and tests)."""
        return f"{self.done}/{self.total} documents, {self.postfix()}"

    def close(self) -> None:
        """End the bar's line so the summary starts on its own."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
