"""A persistent cache of parsed certificates, so an unchanged archive is never re-extracted.

Keyed on the document's sha256 plus a fingerprint of everything that can change what a
document parses to: the cplrecon version and source, every file in rules/, the OCR mode, the
extraction limits and the versions of pypdfium2, pdfplumber, pikepdf and tesseract. A rule edit or a tool
upgrade therefore misses the cache instead of serving stale fields.

SQLite in WAL mode with one writer (the parent process); writes are committed in small batches,
so a run killed mid-way keeps nearly everything it had done and the next run resumes from it.
Values are JSON written here, never pickle: the fields come from untrusted documents.
A cache that cannot be opened or written is a warning, never a failed run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from pipeline.models import (
    Certificate,
    DeviceListing,
    DocumentError,
    ErrorReason,
    Evidence,
    Provenance,
    TextSource,
)

CACHE_FILE = ".cplrecon-cache.sqlite"
# Bumped when results made by older logic must not be served even where the code digest would
# not tell (an installed copy): 2 = reasons decided from the document itself (issue 13).
SCHEMA_VERSION = 2
COMMIT_EVERY = 100  # results per transaction: a SIGKILL loses at most this many
KEEP_FINGERPRINTS = 4  # older pipeline versions are pruned so the file cannot grow without bound
_LOOKUP_CHUNK = 500  # sha256s per SELECT (SQLite's variable limit is 999 on old builds)
# Tool versions that change extraction results; the others (openpyxl...) only touch reports.
_EXTRACTION_TOOLS = ("cplrecon", "pypdfium2", "pdfplumber", "pikepdf", "pytesseract", "tesseract")


def rules_digest(rules_dir: Path) -> str:
    """One hash over every file in rules/ (names and bytes), so any rule change invalidates."""
    digest = hashlib.sha256()
    for path in sorted(p for p in rules_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(rules_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_digest() -> str:
    """One hash over the pipeline's own source: an edited checkout is a different pipeline,
    even before its version number changes."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent  # pipeline/, every sub-package included
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def pipeline_fingerprint(
    versions: Mapping[str, str], rules_dir: Path, ocr: str, limits: Mapping[str, Any]
) -> str:
    parts = {
        "schema": SCHEMA_VERSION,
        "tools": {k: versions.get(k, "") for k in _EXTRACTION_TOOLS},
        "code": code_digest(),
        "rules": rules_digest(rules_dir),
        "ocr": ocr,
        "limits": dict(limits),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


# --- Certificate <-> JSON ---------------------------------------------------------------------


_CERTIFICATE_FIELDS = tuple(f.name for f in fields(Certificate))
_KNOWN_FIELDS = frozenset(_CERTIFICATE_FIELDS)
_LISTING_FIELDS = tuple(f.name for f in fields(DeviceListing))


def error_to_json(error: DocumentError | None) -> dict[str, str] | None:
    """A document's typed error as JSON data (certificates here, documents in ingest's spool);
    its developer detail only when there is one."""
    if error is None:
        return None
    data = {"reason": error.reason.value, "message": error.message}
    return data | {"detail": error.detail} if error.detail else data


def error_from_json(data: Mapping[str, str] | None) -> DocumentError | None:
    if data is None:
        return None
    return DocumentError(ErrorReason(data["reason"]), data["message"], data.get("detail", ""))


def certificate_to_json(certificate: Certificate) -> str:
    return json.dumps(certificate_to_dict(certificate), ensure_ascii=False, separators=(",", ":"))


def certificate_to_dict(certificate: Certificate) -> dict[str, Any]:
    """Every field of the Certificate as JSON data (what the cache stores and `cplrecon extract`
    prints); tuples stay tuples, which json writes as arrays. Field by field rather than
    `dataclasses.asdict`, whose deep copy was most of the cost (47 -> 14 us a certificate)."""
    data = {name: getattr(certificate, name) for name in _CERTIFICATE_FIELDS}
    data["listings"] = [
        {name: getattr(listing, name) for name in _LISTING_FIELDS} | {
            "evidence": evidence_to_json(listing.evidence)
        }
        for listing in certificate.listings
    ]
    data["evidence"] = evidence_to_json(certificate.evidence)
    data["parts"] = [json.loads(certificate_to_json(part)) for part in certificate.parts]
    data["text_source"] = certificate.text_source.value
    data["error"] = error_to_json(certificate.error)
    return data


def certificate_from_json(text: str | bytes, file: str | None = None) -> Certificate:
    """The cached certificate under the name this run found it by (the bytes may have moved);
    under its own stored name when `file` is None.

    Generic over Certificate's fields, so a field another stage adds round-trips without an
    edit here: lists come back as tuples, and fields the cache does not know keep defaults.
    """
    return _certificate_from_data(json.loads(text), file)


def _certificate_from_data(data: dict[str, Any], file: str | None) -> Certificate:
    error = data.pop("error", None)
    values = {k: _tuples(v) for k, v in data.items() if k in _KNOWN_FIELDS and k != "file"}
    values["listings"] = tuple(_listing_from_json(x) for x in data.get("listings", ()))
    values["evidence"] = evidence_from_json(data.get("evidence", {}))
    values["parts"] = tuple(_certificate_from_data(p, file) for p in data.get("parts", ()))
    values["text_source"] = TextSource(data.get("text_source", TextSource.NONE.value))
    values["error"] = error_from_json(error)
    return Certificate(file=data.get("file", "") if file is None else file, **values)


def evidence_to_json(evidence: Evidence) -> dict[str, dict[str, Any]]:
    """Provenance per field as a JSON object, in the shape `cplrecon extract` prints."""
    return {name: _without_exact(asdict(p)) | {"bbox": list(p.bbox)} for name, p in evidence}


def _without_exact(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("exact", None)  # a reading aid (models.Provenance), not part of the record
    return data


def evidence_from_json(data: Mapping[str, Mapping[str, Any]]) -> Evidence:
    return tuple(
        (name, Provenance(**{**p, "bbox": tuple(p["bbox"])})) for name, p in data.items()
    )


def _listing_from_json(data: Mapping[str, Any]) -> DeviceListing:
    values = {k: _tuples(v) for k, v in data.items() if k in _LISTING_FIELDS and k != "evidence"}
    return DeviceListing(**values, evidence=evidence_from_json(data.get("evidence", {})))


def _tuples(value: Any) -> Any:
    """JSON arrays back to the tuples the frozen dataclasses hold."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


# May pass next time: on a quieter machine, with a longer --timeout, on workers that stay up.
RETRIED_NEXT_RUN = frozenset({ErrorReason.TIMEOUT, ErrorReason.WORKER_LOST})


def cacheable(certificate: Certificate) -> bool:
    """Everything but the errors a next run may not have (RETRIED_NEXT_RUN)."""
    return certificate.error is None or certificate.error.reason not in RETRIED_NEXT_RUN


# --- the store --------------------------------------------------------------------------------


class ResultCache:
    """sha256 -> Certificate for one pipeline fingerprint. Used from the parent process only."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.hits = 0
        self._pending = 0
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS results (sha256 TEXT NOT NULL, fingerprint TEXT NOT NULL,"
                " certificate TEXT NOT NULL, created REAL NOT NULL,"
                " PRIMARY KEY (sha256, fingerprint)) WITHOUT ROWID"
            )
        except sqlite3.Error as exc:
            self._disable(f"cannot open the cache {self.path}: {exc}")

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _disable(self, why: str) -> None:
        print(f"cplrecon: warning: {why}; running without a cache", file=sys.stderr)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def lookup(self, sha256s: Iterable[str]) -> dict[str, str]:
        """Cached certificate JSON by sha256, for the ones this fingerprint has seen."""
        found = {sha: self.get(sha) for sha in self.present(sha256s)}
        return {sha: text for sha, text in found.items() if text is not None}

    def present(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these sha256s this fingerprint has a result for (their JSON stays on disk).

        Asked in chunks as the sha256s come, so a long input is never all in memory at once.
        """
        found: set[str] = set()
        if self._db is None:
            return found
        chunk: list[str] = []
        try:
            for sha256 in sha256s:
                if sha256:
                    chunk.append(sha256)
                if len(chunk) >= _LOOKUP_CHUNK:
                    found.update(self._present(chunk))
                    chunk = []
            found.update(self._present(chunk))
        except sqlite3.Error as exc:
            self._disable(f"cannot read the cache {self.path}: {exc}")
            return set()
        return found

    def _present(self, chunk: list[str]) -> Iterator[str]:
        if not chunk or self._db is None:
            return iter(())
        marks = ",".join("?" * len(chunk))
        rows = self._db.execute(
            f"SELECT sha256 FROM results WHERE fingerprint = ? AND sha256 IN ({marks})",  # noqa: S608 - only '?' marks are interpolated
            (self.fingerprint, *chunk),
        ).fetchall()
        return (sha for (sha,) in rows)

    def get(self, sha256: str) -> str | None:
        """One cached certificate's JSON, or None (not cached, or the cache failed)."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT certificate FROM results WHERE sha256 = ? AND fingerprint = ?",
                (sha256, self.fingerprint),
            ).fetchone()
        except sqlite3.Error as exc:
            self._disable(f"cannot read the cache {self.path}: {exc}")
            return None
        return None if row is None else str(row[0])

    def store(self, certificate: Certificate) -> None:
        if self._db is None or not certificate.sha256 or not cacheable(certificate):
            return
        try:
            if self._pending == 0:
                self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                (certificate.sha256, self.fingerprint, certificate_to_json(certificate), time.time()),
            )
            self._pending += 1
            if self._pending >= COMMIT_EVERY:
                self.flush()
        except sqlite3.Error as exc:
            self._disable(f"cannot write the cache {self.path}: {exc}")

    def flush(self) -> None:
        if self._db is None or self._pending == 0:
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._disable(f"cannot write the cache {self.path}: {exc}")
        self._pending = 0

    def close(self) -> None:
        self.flush()
        if self._db is None:
            return
        try:
            self._db.execute(
                "DELETE FROM results WHERE fingerprint NOT IN (SELECT fingerprint FROM results"
                " GROUP BY fingerprint ORDER BY MAX(created) DESC LIMIT ?)",
                (KEEP_FINGERPRINTS,),
            )
            self._db.close()
        except sqlite3.Error:
            pass
        self._db = None
