"""Run the benchmarks: `python -m benchmarks [NAME ...] [--quick]`.

Every `benchmarks/bench_*.py` module with a `run() -> dict` is a benchmark; NAME picks some
(`bulk` or `bench_bulk`). Each result is printed as a table (by the module's `render(result)`
when it has one) and all go to bench-out/results.json.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import time
from pathlib import Path
from typing import Any

import benchmarks

OUT = Path("bench-out") / "results.json"


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))


def run_one(name: str, quick: bool) -> dict[str, Any]:
    module = importlib.import_module(f"benchmarks.{name}")
    kwargs = {"quick": quick} if "quick" in inspect.signature(module.run).parameters else {}
    started = time.perf_counter()
    result = module.run(**kwargs)
    return {"result": result, "seconds": round(time.perf_counter() - started, 2)}


def _rows(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _rows(f"{prefix}.{k}" if prefix else str(k), v)]
    return [(prefix, json.dumps(value) if isinstance(value, list | tuple) else str(value))]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick check")
    args = parser.parse_args()
    names = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(available())}")
    results: dict[str, Any] = {}
    if OUT.exists():  # running one benchmark keeps the others' last results
        results = json.loads(OUT.read_text())
    for name in names:
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        results[name] = {**run_one(name, args.quick), "quick": args.quick}
        render = getattr(importlib.import_module(f"benchmarks.{name}"), "render", None)
        if render is not None:  # a benchmark that prints its own table (e.g. markdown)
            print(render(results[name]["result"]))
            print(f"  seconds  {results[name]['seconds']}")
            continue
        rows = _rows("", results[name])
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"  {key:<{width}}  {value}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
