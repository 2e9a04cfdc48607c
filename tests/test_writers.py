"""The writer seam: an output is one sink in one registry entry, and a real run feeds it all."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline.report import writers
from pipeline.report.writers import CertificateRecord, Output, WriterOptions
from pipeline.run.runner import Settings, run_reconcile

from conftest import CORPUS, SAMPLES, read_csv


class RowsSeen:
    """A test-defined output: every row, certificate and problem it is given, as JSON lines."""

    def __init__(self, path: Path, options: WriterOptions) -> None:
        self.handle = open(path, "w", encoding="utf-8")

    def add_row(self, row: dict[str, str]) -> None:
        self.handle.write(json.dumps({"row": row}) + "\n")

    def add_certificate(self, record: CertificateRecord) -> None:
        assert record.certificate is not None  # a run has the parsed certificate, not only its row
        self.handle.write(json.dumps({"certificate": record.row,
                                      "sha256": record.certificate.sha256}) + "\n")

    def add_problem(self, row: dict[str, str]) -> None:
        self.handle.write(json.dumps({"problem": row}) + "\n")

    def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
        self.handle.write(json.dumps({"finished": run["counts"]["rows"]}) + "\n")
        self.handle.close()

    def close(self) -> None:
        self.handle.close()


def test_an_extra_writer_sees_every_row_of_a_real_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(writers.OUTPUTS, "rows_seen", Output("rows_seen.jsonl", RowsSeen))
    out = tmp_path / "out"
    outcome = run_reconcile(Settings(
        certs=(str(CORPUS),), cpl=str(SAMPLES / "cpl_submission.csv"), out=str(out),
        workers=1, cache=False, quiet=True,
    ))
    lines = [json.loads(line) for line in (out / "rows_seen.jsonl").read_text().splitlines()]
    rows = [x["row"] for x in lines if "row" in x]
    certificates = [x["certificate"] for x in lines if "certificate" in x]
    # Every row and document the CSVs hold, in the same order, with the same text.
    assert rows == read_csv(out / "reconciliation.csv")
    assert [c["sha256"] for c in certificates] == [
        c["sha256"] for c in read_csv(out / "certificates.csv")
    ]
    assert sum("problem" in x for x in lines) == outcome.counts["problems"] > 0
    assert lines[-1] == {"finished": outcome.counts["rows"]}
    assert outcome.outputs["rows_seen"] == out / "rows_seen.jsonl"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_failing_extra_writer_leaves_the_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(RowsSeen):
        def finish(self, summary: Sequence[tuple[str, str]], run: Mapping[str, Any]) -> None:
            raise OSError("disk full")

    out = tmp_path / "out"
    with writers.OutputWriter(out) as writer:
        writer.finish([], {})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setitem(writers.OUTPUTS, "broken", Output("broken.txt", Broken))
    with pytest.raises(OSError, match="disk full"), writers.OutputWriter(out) as writer:
        writer.reconciliation({"submission_row": "1"})
        writer.finish([], {})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
