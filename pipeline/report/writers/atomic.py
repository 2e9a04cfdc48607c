"""Temporary files beside the targets, stale ones removed, and durable renames.

Every output goes through here: `AtomicFiles` hands each writer a uniquely named temp file
beside its target and, once all of them are complete, fsyncs them and moves them into place
with `os.replace`. A failure before that removes the temp files and leaves the previous outputs
as they were. Writers never rename anything themselves.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import regex

from pipeline.report.rows import OUTPUT_FILES
from pipeline.run.pebble import process_alive


def _reserve_temp(out_dir: Path, name: str) -> Path:
    """A unique, freshly created temp file beside the target (umask-respecting permissions)."""
    while True:
        path = out_dir / f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path


def _temp_name(names: Iterable[str]) -> regex.Pattern[str]:
    return regex.compile(
        r"\.(?P<name>" + "|".join(regex.escape(n) for n in names)
        + r")\.(?P<pid>[0-9]+)\.[0-9a-f]{12}\.tmp"
    )


_TEMP_NAME = _temp_name(OUTPUT_FILES.values())


def _remove_stale_temps(out_dir: Path, names: Iterable[str] | None = None) -> None:
    """Temp outputs left by a run that was killed (SIGKILL runs no clean-up): removed once the
    process that made them is gone. A live process's files, and anything else, are left alone."""
    pattern = _TEMP_NAME if names is None else _temp_name(names)
    try:
        entries = list(os.scandir(out_dir))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and not process_alive(int(match["pid"])):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    """Make the renames durable; not every platform lets a directory be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFiles:
    """The temp files of one set of outputs, and the renames that publish them all at once."""

    def __init__(self, out_dir: Path, names: Iterable[str]) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._names: dict[str, str] = {}
        self._temps: dict[str, Path] = {}
        _remove_stale_temps(self.out_dir, names)

    def reserve(self, key: str, name: str) -> Path:
        """A fresh temp file for the output `key`, to be published as `name` in the folder."""
        self._names[key] = name
        self._temps[key] = _reserve_temp(self.out_dir, name)
        return self._temps[key]

    def temp(self, key: str) -> Path:
        return self._temps[key]

    def commit(self) -> dict[str, Path]:
        """Every temp file synced, then moved into place; the folder synced so the renames last."""
        for tmp in self._temps.values():
            _fsync_file(tmp)
        final = {key: self.out_dir / self._names[key] for key in self._temps}
        for key, tmp in self._temps.items():
            os.replace(tmp, final[key])
        _fsync_dir(self.out_dir)
        self._temps = {}
        return final

    def discard(self) -> None:
        """Remove every temp file not yet published; the previous outputs stay as they were."""
        for tmp in self._temps.values():
            tmp.unlink(missing_ok=True)
        self._temps = {}


def write_once(path: Path, data: bytes) -> None:
    """A content-addressed file (a crop): written through a temp file and renamed, so a reader
    never sees half of it; left alone when it already exists. One open per file: on some disks
    creating a file costs more than writing it."""
    if path.exists():
        return
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
