"""run.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _write_json(path: Path, run: Mapping[str, Any]) -> None:
    """run.json keeps raw values: it is data, not a spreadsheet."""
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
        json.dump(run, f, indent=2, ensure_ascii=False, default=str)
        f.write("\n")


def run_value(run: Any, *keys: str) -> Any:
    """run[k1][k2]..., or None where run.json's shape (the CLI's) does not have it: the reports
    that quote the run (report.html, audit.xlsx's Summary) read it so."""
    for key in keys:
        if not isinstance(run, Mapping):
            return None
        run = run.get(key)
    return run
