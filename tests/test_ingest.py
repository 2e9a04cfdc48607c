"""Ingest: folders, globs, zips; kinds by bytes; typed reasons for what cannot be read."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from pipeline.ingest import IngestLimits, discover, kind_of, read_bytes
from pipeline.models import ErrorReason

PDF = b"%PDF-1.4\n% a minimal header is enough for ingest\n"


def test_folders_recursive_and_kinds(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.pdf").write_bytes(PDF)
    (tmp_path / "a" / "b" / "two.PDF").write_bytes(PDF)
    (tmp_path / "a" / "b" / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    (tmp_path / "a" / "notes.txt").write_text("not a certificate")
    (tmp_path / "a" / "fake.pdf").write_text("<html>login page</html>")
    (tmp_path / "a" / "empty.pdf").write_bytes(b"")
    documents, skipped = discover([str(tmp_path / "a")])
    names = [Path(d.name).relative_to(tmp_path).as_posix() for d in documents]
    assert names == ["a/empty.pdf", "a/fake.pdf", "a/one.pdf", "a/b/scan.png", "a/b/two.PDF"]
    by_name = {Path(d.name).name: d for d in documents}
    assert by_name["one.pdf"].kind == "pdf" and by_name["one.pdf"].error is None
    assert by_name["one.pdf"].sha256 == hashlib.sha256(PDF).hexdigest()
    assert by_name["scan.png"].kind == "image"
    assert by_name["fake.pdf"].error.reason is ErrorReason.NOT_A_PDF
    assert by_name["empty.pdf"].error.reason is ErrorReason.EMPTY
    assert [Path(s.path).name for s in skipped] == ["notes.txt"]


def test_explicit_file_always_a_document(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    documents, _ = discover([str(path)])
    assert documents[0].error.reason is ErrorReason.NOT_A_PDF


def test_glob_and_dedup(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(PDF)
    documents, _ = discover([str(tmp_path / "*.pdf"), str(tmp_path / "x.pdf"), str(tmp_path)])
    assert len(documents) == 1


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        discover([str(tmp_path / "nope")])


def test_zip_members_in_memory_with_folders(tmp_path: Path) -> None:
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2018/cert.pdf", PDF)
        z.writestr("2018/readme.html", "<html></html>")
    documents, _ = discover([str(archive)])
    assert [d.name for d in documents] == [f"{archive}/2018/cert.pdf", f"{archive}/2018/readme.html"]
    assert read_bytes(documents[0]) == PDF
    assert documents[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert documents[1].error.reason is ErrorReason.NOT_A_PDF


def test_zip_bomb_member_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.pdf", PDF + b"\0" * (20 * 1024 * 1024))
    documents, _ = discover([str(archive)])
    assert documents[0].error.reason is ErrorReason.TOO_LARGE
    assert "zip bomb" in documents[0].error.message


def test_corrupt_zip(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04" + b"junk" * 10)
    documents, _ = discover([str(archive)])
    assert documents[0].error.reason is ErrorReason.CORRUPT


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    path.write_bytes(PDF + b"0" * 2000)
    documents, _ = discover([str(path)], IngestLimits(max_document_bytes=1000))
    assert documents[0].error.reason is ErrorReason.TOO_LARGE


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"%PDF-1.7", "pdf"), (b"\xff\xd8\xff\xe0", "image"), (b"II*\x00", "image"),
     (b"<html>", "unknown"), (b"   %PDF-1.4", "pdf")],
)
def test_kind_of(head: bytes, kind: str) -> None:
    assert kind_of(head) == kind


def test_walk_files_gives_each_real_file_once_and_keeps_what_is_named(tmp_path: Path) -> None:
    from pipeline.ingest import walk_files

    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.ota", "a.txt", "sub/c.ota"):
        (folder / name).write_bytes(b"x")
    (tmp_path / "link.ota").symlink_to(folder / "b.ota")
    given = [str(folder), str(tmp_path / "link.ota"), str(folder / "a.txt"), str(folder)]
    found = list(walk_files(given, lambda p: p.endswith(".ota")))
    assert [(Path(p).relative_to(tmp_path).as_posix(), named) for p, named in found] == [
        ("f/b.ota", False), ("f/sub/c.ota", False), ("f/a.txt", True),
    ]
