"""A task for tests/test_dask.py that the scheduler and the workers import (they run with the
repository as their working folder): its one poisoned document kills the Dask worker reading
it, as a document exhausting a worker's memory would."""

from __future__ import annotations

import os
import signal
import time

from pipeline.models import Certificate
from pipeline.run.executor import Job, read_document

POISONED = "cert_0002_table.pdf"


def kill_my_worker(job: Job) -> Certificate:
    if job.document.name.endswith(POISONED):
        os.kill(os.getppid(), signal.SIGKILL)  # this runs in the worker's pebble process
        time.sleep(30)
    return read_document(job)
