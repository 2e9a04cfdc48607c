"""Nothing outlives a killed run: its workers, their tesseract, its temporary folder.

SIGKILL runs no clean-up in the process it kills, so what it started has to notice by itself.

- **Workers** watch their parent. A worker process makes itself the leader of a new process
  group (the tesseract it starts inherits the group), and a thread in it polls `os.getppid()`.
  When the parent is gone, the worker is re-parented (to init or a sub-reaper), the pid changes,
  and the thread kills the whole group: the worker and its tesseract, within `WATCH_INTERVAL_S`.
  `prctl(PR_SET_PDEATHSIG)` was the other way. It would kill the worker alone: the setting is
  not inherited by tesseract, which pytesseract starts without a hook for it. It also fires when
  the *thread* that forked the worker ends, and pebble forks replacement workers from its
  manager thread (and a Dask worker from an executor thread that may be retired), not from a
  thread that lives as long as the process. The poll is Linux and macOS alike.
- **Tesseract of a worker stopped by pebble** (over its --timeout, or at the end of the run):
  pebble sends the worker SIGTERM; the worker passes it to its group, then exits as pebble
  would. A worker SIGKILLed outright still leaves its tesseract, which finishes its one page.
- **Temporary folders.** Each run's `cplrecon-run-*` folder holds an owner file: the pid, the
  process start time and the boot id. A later run removes such a folder when its owner is gone:
  no process with the pid, or one that started at another time (a recycled pid), or the machine
  rebooted since. A folder without a readable owner file, or of another name, or a symlink, or
  another user's, is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

RUN_DIR_PREFIX = "cplrecon-run-"  # one per run, in the system temporary folder
OWNER_FILE = ".owner.json"  # in the run's folder: who made it (pid, start time, boot)
WATCH_INTERVAL_S = 0.25  # how often a worker checks that its parent is still there
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


# --- processes -----------------------------------------------------------------------------------


def process_alive(pid: int) -> bool:
    """Whether a process has this pid; anyone else's (or one we may not ask about) counts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def process_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22); None where
    there is no /proc, or no such process. A zombie has ended: None too."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name, in (), may hold spaces
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def boot_id() -> str:
    """This boot of the machine ('' where the system does not say): a pid from before a reboot
    names another process."""
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return ""


# --- workers follow their parent -----------------------------------------------------------------


def follow_parent(owner: int | None = None) -> None:
    """In a worker: lead a process group of its own and stop with it when the parent is gone.

    `owner` is the pid of the process that made the pool; with the fork start method it is the
    parent, and a worker that starts after the owner has already died (a tiny window) sees it."""
    if not hasattr(os, "killpg"):  # Windows: no process groups, no SIGKILL
        return
    parent = os.getppid()
    try:
        os.setpgid(0, 0)
    except OSError:  # a session leader cannot: the watch still stops the worker itself
        pass
    _pass_sigterm_to_group()
    threading.Thread(target=_watch_parent, args=(parent, owner), daemon=True,
                     name="cplrecon-follow-parent").start()


def leads_group() -> bool:
    return os.getpgrp() == os.getpid()


def _watch_parent(parent: int, owner: int | None) -> None:
    while os.getppid() == parent and (owner is None or process_alive(owner)):
        time.sleep(WATCH_INTERVAL_S)
    stop_group()


def stop_group() -> None:
    """Kill this process and, if it leads its group, everything it started (never the group of
    the parent: that may be the user's shell script)."""
    if leads_group():
        try:
            os.killpg(os.getpid(), signal.SIGKILL)
        except OSError:
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def _pass_sigterm_to_group() -> None:
    """On SIGTERM (pebble stopping the worker), SIGTERM the group too, then do what the worker
    did before on SIGTERM (pebble's clean exit): the handler is put back and the signal, sent to
    the group, reaches this process again once the handler returns."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or not leads_group():
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, previous)
        try:
            os.killpg(os.getpid(), signal.SIGTERM)
        except OSError:
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


# --- run folders -------------------------------------------------------------------------------


def make_run_dir() -> str:
    """A fresh `cplrecon-run-*` folder in the temporary folder, with its owner file; the folders
    of runs that were killed are removed first."""
    remove_orphan_run_dirs(tempfile.gettempdir())
    run_dir = tempfile.mkdtemp(prefix=RUN_DIR_PREFIX)
    owner = {"pid": os.getpid(), "start": process_start(os.getpid()) or "", "boot": boot_id()}
    partial = os.path.join(run_dir, OWNER_FILE + ".part")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(owner, handle)
    os.replace(partial, os.path.join(run_dir, OWNER_FILE))  # never read half-written
    return run_dir


def remove_orphan_run_dirs(temp_dir: str) -> list[str]:
    """Remove the run folders in `temp_dir` whose owner is gone; the names removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(temp_dir))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(RUN_DIR_PREFIX) and _orphaned(entry):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _orphaned(entry: os.DirEntry[str]) -> bool:
    """Ours (a real folder of this user with an owner file) and its owner not alive."""
    try:
        if not entry.is_dir(follow_symlinks=False):
            return False
        if hasattr(os, "getuid") and entry.stat(follow_symlinks=False).st_uid != os.getuid():
            return False
        with open(os.path.join(entry.path, OWNER_FILE), encoding="utf-8") as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        return False
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False
    return not owner_alive(owner)


def owner_alive(owner: dict[str, Any]) -> bool:
    """The process that wrote this owner record still runs. Where a field cannot be checked
    (no /proc), the pid alone decides, and a live pid keeps the folder: never a wrong removal."""
    pid = owner["pid"]
    if pid <= 0 or not process_alive(pid):
        return False
    booted, now = str(owner.get("boot") or ""), boot_id()
    if booted and now and booted != now:
        return False
    started, start = str(owner.get("start") or ""), process_start(pid)
    if started and start is None and Path("/proc").is_dir():
        return False  # a zombie: it has ended
    return not (started and start and started != start)  # another process, same pid
