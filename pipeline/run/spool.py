"""Run-sized collections on disk, so the main process's memory does not grow with the archive.

A `Spool` keeps its items as JSON lines in an anonymous temp file (the OS deletes it however the
run ends, SIGKILL included) and reads them back by index; memory holds one offset per item. The
documents found by ingest, the CPL rows and the parsed certificates each live in one.
`CertificateSpool` adds what reconcile needs: certificates by certificate-ID key, with the
recently used ones kept decoded.
"""

from __future__ import annotations

import json
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload

from pipeline.idkeys import exact_key
from pipeline.models import Certificate
from pipeline.run.cache import certificate_from_json, certificate_to_json

T = TypeVar("T")

DECODED = 256  # certificates kept decoded: rows citing one certificate usually come together


class Spool(Sequence[T], Generic[T]):
    """A list on disk: `append`, `len`, indexing and iteration; items pass through JSON.

    `encode` turns an item into JSON-ready data (or a JSON string), `decode` turns that back.
    """

    def __init__(
        self, encode: Callable[[T], Any], decode: Callable[[Any], T], prefix: str = "cplrecon-"
    ) -> None:
        self._encode, self._decode = encode, decode
        self._file = tempfile.TemporaryFile(prefix=prefix)
        self._offsets = array("q")

    def append(self, item: T) -> None:
        self._file.seek(0, 2)
        self._offsets.append(self._file.tell())
        data = self._encode(item)
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        self._file.write(text.encode("utf-8") + b"\n")

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        self._file.seek(self._offsets[index])
        return self._decode(self._file.readline())

    def __iter__(self) -> Iterator[T]:
        # By index, not by reading on: two iterations may interleave.
        for index in range(len(self)):
            yield self[index]

    def close(self) -> None:
        self._file.close()


class CertificateSpool:
    """Certificates in input order, on disk; a `reconcile.CertificateLookup`.

    The key is `ocrfix.exact_key`, which reconcile's `certificate_key` is (one definition).
    """

    def __init__(self) -> None:
        self._items: Spool[Certificate] = Spool(
            certificate_to_json, certificate_from_json, "cplrecon-certs-"
        )
        self._by_key: dict[str, int | list[int]] = {}
        self._unreadable: list[Certificate] = []  # usually few, and small: no listings
        self._read = lru_cache(maxsize=DECODED)(self._items.__getitem__)

    def __enter__(self) -> CertificateSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._items.close()

    def add(self, certificate: Certificate) -> None:
        if key := exact_key(certificate.certificate_id):
            # Interned: the report's row links use the same key, and then share this string.
            note_index(self._by_key, sys.intern(key), len(self._items))
        self._items.append(certificate)
        if not certificate.ok:
            self._unreadable.append(certificate)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Certificate]:
        """Every certificate in the order added, decoded one at a time."""
        return iter(self._items)

    # --- reconcile.CertificateLookup ----------------------------------------------------------

    def with_key(self, key: str) -> list[Certificate]:
        return [self._read(i) for i in indexes_noted(self._by_key, key)]

    def has_key(self, key: str) -> bool:
        return key in self._by_key

    def keys(self) -> Iterable[str]:
        return self._by_key.keys()

    def shared_keys(self) -> Iterable[str]:
        return [k for k, found in self._by_key.items() if isinstance(found, list)]

    def unreadable(self) -> Sequence[Certificate]:
        return self._unreadable


def note_index(index: dict[str, int | list[int]], key: str, number: int) -> None:
    """Add `number` under `key`. A key with one number holds the int itself, not a list: that is
    nearly every key, and a list for each would double the cost."""
    noted = index.get(key)
    if noted is None:
        index[key] = number
    elif isinstance(noted, int):
        index[key] = [noted, number]
    else:
        noted.append(number)


def indexes_noted(index: dict[str, int | list[int]], key: str) -> list[int]:
    noted = index.get(key)
    return [] if noted is None else [noted] if isinstance(noted, int) else list(noted)
