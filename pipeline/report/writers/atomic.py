"""Temporary files beside the targets, stale ones removed, and durable renames.
"""

from __future__ import annotations

import os
import secrets
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


_TEMP_NAME = regex.compile(
    r"\.(?P<name>" + "|".join(regex.escape(n) for n in OUTPUT_FILES.values())
    + r")\.(?P<pid>[0-9]+)\.[0-9a-f]{12}\.tmp"
)


def _remove_stale_temps(out_dir: Path) -> None:
    """Temp outputs left by a run that was killed (SIGKILL runs no clean-up): removed once the
    process that made them is gone. A live process's files, and anything else, are left alone."""
    try:
        entries = list(os.scandir(out_dir))
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
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
