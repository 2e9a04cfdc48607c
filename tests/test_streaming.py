"""The streamed run: spools on disk, links and reuse groups kept as row numbers, stale temps.

Everything here runs on the bundled samples: real PDFs read by the real pipeline.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cpl import read_cpl
from pipeline.document import process_document
from pipeline.extract import ExtractLimits
from pipeline.ingest import discover
from pipeline.models import Certificate, DocumentError, ErrorReason, Overall, TextSource
from pipeline.reconcile import (
    CertificateIndex,
    ConfusableKeys,
    certificate_key,
    compare_row,
    link_row,
    reconcile,
    reuse_candidates,
    reuse_groups,
)
from pipeline.report import OUTPUT_FILES, OutputWriter, certificate_links
from pipeline.run.spool import CertificateSpool, Spool
from samples import section5

from conftest import CORPUS, SAMPLES


@pytest.fixture(scope="module")
def certificates() -> list[Certificate]:
    documents, _ = discover([str(CORPUS)])
    return [process_document(d, "never", ExtractLimits()) for d in documents]


def test_certificate_spool_gives_back_what_it_was_given(certificates: list[Certificate]) -> None:
    assert any(not c.ok for c in certificates) and any(len(c.listings) > 1 for c in certificates)
    with CertificateSpool() as spool:
        for certificate in certificates:
            spool.add(certificate)
        assert len(spool) == len(certificates)
        assert list(spool) == certificates  # every field, in input order
        in_memory = CertificateIndex(certificates)
        assert set(spool.keys()) == set(in_memory.keys())
        for key in in_memory.keys():
            assert spool.with_key(key) == in_memory.with_key(key)
        assert spool.with_key("NOSUCHKEY") == []
        assert list(spool.shared_keys()) == list(in_memory.shared_keys())
        assert list(spool.unreadable()) == [c for c in certificates if not c.ok]


def test_spool_iterations_may_interleave() -> None:
    spool: Spool[int] = Spool(lambda n: n, int)
    spool.extend(range(5))
    assert list(zip(spool, spool, strict=True)) == [(n, n) for n in range(5)]
    assert [(a, b) for a in spool for b in spool][:6] == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]
    assert spool[-1] == 4 and spool[1:3] == [1, 2] and len(spool) == 5


def test_cpl_rows_and_documents_come_back_from_their_spools() -> None:
    rows = read_cpl(SAMPLES / "cpl_submission.csv").rows
    assert isinstance(rows, Spool)
    assert [r.row for r in rows] == list(range(1, len(rows) + 1))
    assert read_cpl(SAMPLES / "cpl_submission.xlsx").rows[:] == rows[:]
    documents, _ = discover([str(CORPUS)])
    assert isinstance(documents, Spool)
    assert sorted(Path(d.name).name for d in documents) == sorted(
        p.name for p in CORPUS.iterdir() if p.suffix == ".pdf"
    )


def _brute_force_links(results, certificates: list[Certificate]) -> list[tuple[int, ...]]:
    """The definition: rows citing the document's ID (readable ones), or compared with it."""
    links = []
    for cert in certificates:
        key = certificate_key(cert.certificate_id) if cert.ok else ""
        links.append(tuple(sorted(
            r.cpl.row for r in results
            if (key and certificate_key(r.cpl.certificate_id) == key) or r.certificate_file == cert.file
        )))
    return links


def test_links_kept_as_row_numbers_match_their_definition(certificates: list[Certificate]) -> None:
    rows = list(read_cpl(SAMPLES / "cpl_submission.csv").rows)
    readable = [c for c in certificates if c.ok]
    # A scan whose ID OCR read with a 1 for the I (linked across the confusion), and a
    # certificate that could not be read but whose file name carries a row's ID.
    scanned = dataclasses.replace(
        readable[0], file="scan_of_first.pdf", text_source=TextSource.OCR,
        certificate_id=readable[0].certificate_id.replace("ZIG", "Z1G", 1),
    )
    others = [c for c in certificates if c.certificate_id != readable[0].certificate_id]
    unreadable = Certificate(file=f"{rows[5].certificate_id}.pdf", sha256="0" * 64,
                             error=DocumentError(ErrorReason.CORRUPT, "broken"))
    pool = [*others, scanned, unreadable]
    results = reconcile(rows, pool)
    assert any(r.linked_by_confusion for r in results)
    assert any(r.overall is Overall.ERROR for r in results)
    assert [link.rows for link in certificate_links(results, pool)] == _brute_force_links(results, pool)


def test_reuse_groups_need_only_the_candidate_rows(tmp_path: Path) -> None:
    samples = section5.generate_section5(tmp_path / "s5")
    rows = list(read_cpl(samples / "cpl_submission.csv").rows)
    documents, _ = discover([str(samples / "certs")])
    index = CertificateIndex(process_document(d, "never", ExtractLimits()) for d in documents)
    confusable = ConfusableKeys(index.keys())

    def comparison(row):
        readable = [c for c in link_row(row, index, confusable)[0] if c.ok]
        return compare_row(row, readable, {}, None) if readable else None

    everything = reuse_groups(rows, [comparison(r) for r in rows])
    assert everything  # the samples reuse certificates
    could = reuse_candidates(rows)
    candidates = [r for r in rows if r.row in could]
    assert len(candidates) < len(rows)
    assert reuse_groups(candidates, [comparison(r) for r in candidates]) == everything


def test_stale_temp_outputs_of_a_dead_run_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".{OUTPUT_FILES['audit']}.{dead_pid}.0123456789ab.tmp"
    live = tmp_path / f".{OUTPUT_FILES['audit']}.{os.getppid()}.0123456789ab.tmp"
    unrelated = tmp_path / ".notes.txt.123.tmp"
    for path in (stale, live, unrelated):
        path.write_text("partial")
    with OutputWriter(tmp_path) as writer:
        writer.finish([], {})
    assert not stale.exists()
    assert live.exists() and unrelated.exists()  # a running process's files, and not ours
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        OUTPUT_FILES.values()
    )
