"""The writer seam: what every output is given, and the one shape every output has.

An output is a sink. The run hands it each reconciliation row as it is judged (`add_row`),
each problem (`add_problem`), each document once its rows are known (`add_certificate`), and at
the end the Summary lines and run.json's data (`finish`). A sink writes only to the temp path it
was made with: `atomic.AtomicFiles` owns the temp files and the renames, for every output.
`close` releases what a sink holds when the run is abandoned part-way.

Rows are the report's plain text dicts (`report.rows`), raw: a sink that writes a spreadsheet
neutralises them itself (`cells.neutralise`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.models import Certificate


@dataclass(frozen=True)
class Crop:
    """A PNG of one field as the certificate shows it (report.crops), for the outputs to show."""

    field: str  # parse's field name: certificate_id, manufacturer, model, ...
    listing: int | None  # 0-based listing for a listing field; None for a certificate field
    page: int  # 1-based page of the document
    path: str  # relative to the output folder, '/'-separated: evidence/<sha>-p1-model.png
    source: str = "text"  # text or ocr
    confidence: float | None = None


@dataclass(frozen=True)
class CertificateRecord:
    """One document for the outputs: its certificates.csv row, and when the run has it, the
    parsed certificate and the crops of its fields."""

    row: dict[str, str]
    certificate: Certificate | None = None
    crops: tuple[Crop, ...] = ()


@dataclass(frozen=True)
class WriterOptions:
    """What a run tells its outputs beyond the rows."""

    out_dir: Path
    crops: bool = True  # --no-crops: no evidence/ PNGs, and the outputs show none


class Sink(Protocol):
    def add_row(self, row: dict[str, str]) -> None: ...
    def add_certificate(self, record: CertificateRecord) -> None: ...
    def add_problem(self, row: dict[str, str]) -> None: ...
    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None: ...
    def close(self) -> None: ...


# Makes an output's sink, writing to the temp path it is given.
SinkFactory = Callable[[Path, WriterOptions], Sink]


@dataclass(frozen=True)
class Output:
    """A registry entry: the file an output is published as, and how its sink is made."""

    name: str
    make: SinkFactory
