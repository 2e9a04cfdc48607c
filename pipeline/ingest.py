"""Find the documents: files, folders (recursive), globs and .zip archives; hash them.

A document's kind is decided by its first bytes, never by its name, so an HTML page named `.pdf`
is a NOT_A_PDF row rather than a crash further down. Zip members are read in memory, never
extracted to disk, within limits that stop zip bombs.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import developer_note
from pipeline.models import Document, DocumentError, ErrorReason
from pipeline.run.cache import error_from_json, error_to_json
from pipeline.run.spool import Spool

DOCUMENT_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})
ARCHIVE_SUFFIXES = frozenset({".zip"})
HASH_CHUNK = 1 << 16  # 64 KiB: as fast as larger reads, and a small transient in a run


@dataclass(frozen=True)
class IngestLimits:
    """Bounds that keep one input from exhausting the machine."""

    max_document_bytes: int = 200 * 1024 * 1024
    max_zip_members: int = 50_000
    max_zip_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_zip_ratio: float = 200.0  # uncompressed / compressed, per member


@dataclass(frozen=True)
class Skipped:
    """A file seen in a folder that is not a document type: listed in run.json, never lost."""

    path: str
    reason: str


def kind_of(head: bytes) -> str:
    """The document kind from its leading bytes: pdf, image or unknown."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    return "unknown"


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _document_error(kind: str, size: int, limits: IngestLimits) -> DocumentError | None:
    if size == 0:
        return DocumentError(ErrorReason.EMPTY, "the file is empty (0 bytes)")
    if size > limits.max_document_bytes:
        return DocumentError(
            ErrorReason.TOO_LARGE,
            f"{size} bytes is over the {limits.max_document_bytes}-byte limit per document",
        )
    if kind == "unknown":
        return DocumentError(
            ErrorReason.NOT_A_PDF, "not a PDF or image (its first bytes say otherwise)"
        )
    return None


def file_document(name: str, path: str, limits: IngestLimits) -> Document:
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(1024)
    kind = kind_of(head)
    error = _document_error(kind, size, limits)
    digest = sha256_file(path) if size <= limits.max_document_bytes else ""
    return Document(name=name, location=path, sha256=digest, size=size, kind=kind, error=error)


def zip_documents(name: str, path: str, limits: IngestLimits) -> Iterator[Document]:
    """One document per member file; a broken or bomb-like archive is one ERROR document."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Document(
            name=name, location=path, sha256=_safe_hash(path), size=os.path.getsize(path),
            kind="zip", error=DocumentError(ErrorReason.CORRUPT, "the zip archive is damaged and cannot be "
                                                     "read; ask for a new copy", developer_note(exc)),
        )
        return
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        total = sum(info.file_size for info in members)
        problem = None
        if len(members) > limits.max_zip_members:
            problem = f"{len(members)} members is over the limit of {limits.max_zip_members}"
        elif total > limits.max_zip_total_bytes:
            problem = f"{total} uncompressed bytes is over the limit of {limits.max_zip_total_bytes}"
        if problem:
            yield Document(
                name=name, location=path, sha256=_safe_hash(path), size=os.path.getsize(path),
                kind="zip", error=DocumentError(ErrorReason.TOO_LARGE, problem),
            )
            return
        for info in sorted(members, key=lambda i: i.filename):
            yield _zip_member(archive, name, path, info, limits)


def _zip_member(
    archive: zipfile.ZipFile, name: str, path: str, info: zipfile.ZipInfo, limits: IngestLimits
) -> Document:
    member_name = f"{name}/{info.filename}"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.max_document_bytes or (
        ratio > limits.max_zip_ratio and info.file_size > 1024 * 1024
    ):
        return Document(
            name=member_name, location=path, member=info.filename, sha256="",
            size=info.file_size, kind="unknown",
            error=DocumentError(
                ErrorReason.TOO_LARGE,
                f"member expands to {info.file_size} bytes (ratio {ratio:.0f}:1): "
                "refused as a possible zip bomb",
            ),
        )
    if info.flag_bits & 0x1:
        return Document(
            name=member_name, location=path, member=info.filename, sha256="",
            size=info.file_size, kind="unknown",
            error=DocumentError(ErrorReason.ENCRYPTED, "the zip member is password-protected"),
        )
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        return Document(
            name=member_name, location=path, member=info.filename, sha256="",
            size=info.file_size, kind="unknown",
            error=DocumentError(ErrorReason.CORRUPT, "this zip member is damaged and cannot be "
                                                     "read; ask for a new copy", developer_note(exc)),
        )
    kind = kind_of(data[:1024])
    return Document(
        name=member_name, location=path, member=info.filename,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), kind=kind,
        error=_document_error(kind, len(data), limits),
    )


def _safe_hash(path: str) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _folder_files(root: str) -> Iterator[str]:
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for filename in sorted(files):
            yield os.path.join(folder, filename)


def walk_files(
    paths: Iterable[str], in_folders: Callable[[str], bool] = lambda path: True
) -> Iterator[tuple[str, bool]]:
    """(file, named) for every file under the given files and folders, in a stable order, each
    real file once however many ways it is reached (a folder given twice, a symlink, a file also
    named on its own). Folders are walked recursively, sorted, keeping the files `in_folders`
    accepts; `named` is True for a file given itself, which is always kept."""
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            files: Iterable[tuple[str, bool]] = ((p, False) for p in _folder_files(given) if in_folders(p))
        else:
            files = ((given, True),)
        for path, named in files:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                yield path, named


def _suffix(path: str) -> str:
    """'.pdf' for 'a/b.PDF'. Not pathlib: it interns every path part it parses, and the interned
    table of ten thousand file names stays allocated for the rest of the run."""
    return os.path.splitext(path)[1].lower()


def _wanted_in_folder(path: str) -> bool:
    """Inside folders, take document and archive types, plus anything whose bytes say PDF/image."""
    suffix = _suffix(path)
    if suffix in DOCUMENT_SUFFIXES or suffix in ARCHIVE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return kind_of(handle.read(1024)) != "unknown"
    except OSError:
        return False


def document_to_json(document: Document) -> list[Any]:
    return [
        document.name, None if document.location == document.name else document.location,
        document.sha256, document.size, document.member, document.kind,
        error_to_json(document.error),
    ]


def document_from_json(line: str | bytes) -> Document:
    name, location, sha256, size, member, kind, error = json.loads(line)
    return Document(
        name=name, location=name if location is None else location, sha256=sha256, size=size,
        member=member, kind=kind, error=error_from_json(error),
    )


def discover(
    paths: Sequence[str], limits: IngestLimits | None = None
) -> tuple[Spool[Document], list[Skipped]]:
    """Every document under the given paths, in a stable order, each once per location.

    The documents are kept on disk (a `Spool`): an archive of any size costs memory for one
    offset per document.
    """
    limits = limits or IngestLimits()
    documents: Spool[Document] = Spool(document_to_json, document_from_json, "cplrecon-docs-")
    skipped: list[Skipped] = []
    for path, named in walk_files(_expand(paths, skipped)):
        _add_file(path, named, documents, skipped, limits)
    return documents, skipped


def _add_file(
    path: str, explicit: bool, documents: Spool[Document], skipped: list[Skipped], limits: IngestLimits
) -> None:
    if not explicit and not _wanted_in_folder(path):
        skipped.append(Skipped(path, "not a document type (pdf, png, jpeg, tiff, zip)"))
        return
    if _suffix(path) in ARCHIVE_SUFFIXES or _looks_like_zip(path):
        documents.extend(zip_documents(path, path, limits))
    else:
        documents.append(file_document(path, path, limits))


def _expand(paths: Sequence[str], skipped: list[Skipped]) -> Iterator[str]:
    """The given files and folders, globs expanded (lazily, so documents keep the given order);
    a pattern that matches nothing is noted, a path that is not there is a usage error."""
    for given in paths:
        if os.path.isdir(given) or os.path.isfile(given):
            yield given
        elif _is_glob(given):
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                skipped.append(Skipped(given, "the pattern matched no files"))
            yield from matches
        else:
            raise FileNotFoundError(f"--certs: no such file or folder: {given}")


def _looks_like_zip(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def read_bytes(document: Document) -> bytes:
    """The document's bytes, from the filesystem or from inside its zip archive."""
    if document.member is None:
        with open(document.location, "rb") as handle:
            return handle.read()
    with zipfile.ZipFile(document.location) as archive:
        return archive.read(document.member)
