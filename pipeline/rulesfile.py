"""The one loader and schema check for the files in rules/.

rules/ stays at the top of the repository, where people edit it, and the wheel ships it as the
package data `pipeline/rules/` (pyproject.toml maps the package `pipeline.rules` to `rules/`).
An installed tool finds it through importlib.resources; a source checkout run with PYTHONPATH
or an editable install has no `pipeline/rules/` and reads `rules/` beside the package instead.

Every rules file is checked the same way, and every problem is a RulesFileError whose message
names the file and the entry: known keys, the schema number, a readable file.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Collection, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA = 1  # the one schema every TOML rules file declares; a new one needs a loader change
CSV_COMMENT = "#"  # registry CSV lines starting with it are comments


class RulesFileError(ValueError):
    """A rules file cannot be read or breaks its schema; the message names the file and the entry."""


def _rules_dir() -> Path:
    packaged = resources.files("pipeline") / "rules"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged  # an installed wheel
    return Path(__file__).resolve().parent.parent / "rules"  # a source checkout


RULES_DIR = _rules_dir()


def rules_path(*parts: str) -> Path:
    """A file (or folder) of the shipped rules, e.g. rules_path("codings.toml")."""
    return RULES_DIR.joinpath(*parts)


def read_toml(path: Path, what: str = "rules") -> dict[str, Any]:
    """The parsed TOML file; unreadable or malformed is a RulesFileError naming the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesFileError(f"{path}: cannot read {what}: {exc}") from exc


def check_keys(
    table: object, required: Collection[str], optional: Collection[str], where: str
) -> dict[str, Any]:
    """The table itself when it has every required key and no key outside required + optional."""
    if not isinstance(table, dict):
        raise RulesFileError(f"{where}: expected a table, found {type(table).__name__}")
    missing = set(required) - table.keys()
    unknown = table.keys() - set(required) - set(optional)
    if missing:
        raise RulesFileError(f"{where}: missing key(s) {sorted(missing)}")
    if unknown:
        raise RulesFileError(f"{where}: unknown key(s) {sorted(unknown)}")
    return table


def check_schema(data: Mapping[str, Any], where: str) -> None:
    if data.get("schema") != SCHEMA:
        raise RulesFileError(f"{where}: schema must be {SCHEMA}, found {data.get('schema')!r}")


def read_rules_toml(
    path: Path, required: Collection[str], optional: Collection[str] = (), what: str = "rules"
) -> dict[str, Any]:
    """A TOML rules file read, its top-level keys and its schema number checked."""
    data = check_keys(read_toml(path, what), {"schema", *required}, optional, str(path))
    check_schema(data, str(path))
    return data


def csv_rows(
    path: Path, columns: Sequence[str], optional: Collection[str] = (), what: str = "rules file",
    hint: str = "",
) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a rules CSV with their line numbers ('#' lines are comments).

    The header must hold every column but the last of `columns` (that one and `optional` may be
    left out) and nothing else; a row with more cells than the header is refused (`hint` says why
    that usually happens).
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(f"{path}: cannot read {what}: {exc}") from exc
    required = set(columns[:-1])
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in _numbered_cells(text):
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = required - set(header)
            unknown = set(header) - set(columns) - set(optional)
            if missing or unknown:
                raise RulesFileError(
                    f"{path}, line {number}: header must be {','.join(columns)}; "
                    f"missing {sorted(missing)}, unknown {sorted(unknown)}"
                )
            continue
        if len(cells) > len(header):
            raise RulesFileError(
                f"{path}, line {number}: {len(cells)} cells for {len(header)} columns{hint}"
            )
        rows.append((number, dict(zip(header, (c.strip() for c in cells), strict=False))))
    if header is None:
        raise RulesFileError(f"{path}: no header line ({','.join(columns)})")
    return rows


def _numbered_cells(text: str) -> list[tuple[int, list[str]]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(CSV_COMMENT):
            continue
        out.append((number, next(csv.reader([line]))))
    return out
