"""Command line: argument parsing only; the work is in the stages (runner.py calls them)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pipeline import __version__
from pipeline.cpl import CplFileError
from pipeline.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ErrorReason
from pipeline.evidence import EvidenceFileError
from pipeline.models import Field
from pipeline.policy import RulesFileError
from pipeline.run.cluster import ClusterError
from pipeline.run.settings import DEFAULT_TIMEOUT_S

SCHEDULER_ENV = "CPLRECON_SCHEDULER"  # the default --scheduler


class UsageError(Exception):
    """A command line that cannot run as given; the message says what to change (exit 2)."""


# The input errors: the message says which file or option to fix (exit 2). FileNotFoundError is
# raised for --certs and --ota paths that do not exist.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    CplFileError, EvidenceFileError, RulesFileError, UsageError, FileNotFoundError, ClusterError,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep the message short
        self.print_usage(sys.stderr)
        print(f"cplrecon: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cplrecon", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cplrecon {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    rec = commands.add_parser("reconcile", help="check a CPL submission against certificates")
    rec.add_argument("--certs", nargs="+", required=True, metavar="PATH",
                     help="certificate PDFs/images, folders (recursive), globs or .zip archives")
    rec.add_argument("--cpl", required=True, metavar="FILE", help="CPL submission: CSV, XLSX, XLS or ODS")
    rec.add_argument("--out", required=True, metavar="DIR", help="output folder")
    rec.add_argument("--manufacturers", nargs="*", default=[], metavar="CSV",
                     help="extra manufacturer registry (code,name[,aliases])")
    rec.add_argument("--models", nargs="*", default=[], metavar="CSV",
                     help="extra model registry (manufacturer_code,image_type,name[,aliases])")
    rec.add_argument("--evidence", metavar="CSV",
                     help="supplementary evidence manifest (guidance sec. 5): submission_id, "
                          "evidence_file, zigbee_module, certificate_id; paths relative to the CSV")
    rec.add_argument("--ota", nargs="+", default=[], metavar="PATH",
                     help="Zigbee OTA images (.ota/.zigbee/.bin) or folders of them: a third "
                          "source checked against each CPL row (ota_status)")
    rec.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N")
    rec.add_argument("--ocr", choices=("auto", "always", "never"), default="auto")
    rec.add_argument("--fail-on", choices=("fail", "review"), default=None,
                     help="exit 1 when a row is FAIL/ERROR/NO_CERTIFICATE (or also REVIEW)")
    rec.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                     help="wall time per document, OCR included; over it: ERROR TIMEOUT (0: none)")
    rec.add_argument("--no-cache", action="store_true",
                     help="read every document again; neither use nor update the cache")
    rec.add_argument("--cache-dir", metavar="DIR",
                     help="where the cache lives (default: the --out folder)")
    rec.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    rec.add_argument("--executor", choices=("local", "dask"), default=None,
                     help="where documents are read: local (this machine, default) or dask "
                          "(a Dask cluster; a LocalCluster of --workers without --scheduler)")
    rec.add_argument("--scheduler", metavar="ADDRESS",
                     help=f"a Dask scheduler, e.g. tcp://host:8786 (implies --executor dask; "
                          f"default ${SCHEDULER_ENV})")
    rec.add_argument("--no-crops", action="store_true",
                     help="write no evidence/ crops of the fields (report.html and audit.xlsx "
                          "then show the values without them)")

    ext = commands.add_parser("extract", help="parsed fields of documents, as JSON lines")
    ext.add_argument("files", nargs="+", metavar="FILE")
    ext.add_argument("--ocr", choices=("auto", "always", "never"), default="auto")
    ext.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                     help="wall time per document, OCR included; over it: ERROR TIMEOUT (0: none)")

    exp = commands.add_parser(
        "explain", help="candidate hex values of a certificate text, and the verdict in words",
        description="On a terminal the verdict comes first as a sentence, then the details; "
                    "piped (or with --json) the result is JSON. Exit 0: MATCH or MAPPED; "
                    "1: MISMATCH or INVALID_CPL; 3: anything else (no --cpl, MISSING, PARTIAL, "
                    "UNVERIFIABLE). --batch exits 0 once its output is written.")
    exp.add_argument("text", nargs="?", metavar="VALUE_TEXT")
    exp.add_argument("--field", choices=[f.value for f in Field], default=Field.FIRMWARE.value)
    exp.add_argument("--cpl", metavar="VALUE", help="CPL value to judge against")
    exp.add_argument("--batch", metavar="CSV",
                     help="CSV with columns text,field,cpl[,manufacturer] (a code or a company name)")
    exp.add_argument("--output", metavar="CSV", help="with --batch: write here (default stdout)")
    exp.add_argument("--json", action="store_true",
                     help="print the result as JSON even on a terminal")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "reconcile":
            return _reconcile(args)
        if args.command == "extract":
            return _extract(args)
        return _explain(args)
    except INPUT_ERRORS as exc:
        print(f"cplrecon: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cplrecon: interrupted; outputs already in place are unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED
    # Anything else is a bug: its traceback and exit 1, never passed off as a usage error.


def _reconcile(args: argparse.Namespace) -> int:
    from pipeline.run.runner import Settings, run_reconcile

    if args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.timeout < 0:
        raise UsageError("--timeout must be 0 (no limit) or more seconds")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a file; give a folder for the outputs")
    executor, scheduler = _executor(args)
    settings = Settings(
        certs=tuple(args.certs), cpl=args.cpl, out=args.out,
        manufacturers=tuple(args.manufacturers), models=tuple(args.models),
        evidence=args.evidence, ota=tuple(args.ota), workers=args.workers, ocr=args.ocr, fail_on=args.fail_on,
        timeout_s=args.timeout or None, cache=not args.no_cache, cache_dir=args.cache_dir,
        quiet=args.quiet, executor=executor, scheduler=scheduler, crops=not args.no_crops,
    )
    outcome = run_reconcile(settings)
    counts = outcome.counts
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts["overall"].items()) if v) or "no rows"
    stats = outcome.stats
    if not args.quiet and stats.get("up_to_date"):
        print(
            f"cplrecon: outputs in {args.out} are up to date: the same inputs, rules and tools as "
            f"the run that wrote them, and the files untouched; nothing rewritten "
            f"(--no-cache runs everything again). {counts['rows']} rows ({summary}); "
            f"{stats.get('seconds', 0.0):.1f} s",
            file=sys.stderr,
        )
    elif not args.quiet:
        print(
            f"cplrecon: {counts['rows']} rows ({summary}); "
            f"{counts['certificates']} documents ({stats.get('cached', 0)} from cache), "
            f"{counts['certificate_status']['ERROR']} unreadable; "
            f"{stats.get('seconds', 0.0):.1f} s; outputs in {args.out}",
            file=sys.stderr,
        )
    _warn_if_ocr_is_off(counts)
    return outcome.exit_code


def _executor(args: argparse.Namespace) -> tuple[str, str | None]:
    """--executor and --scheduler: a scheduler (given, or $CPLRECON_SCHEDULER) implies dask."""
    if args.executor == "local":
        if args.scheduler:
            raise UsageError("--scheduler is for --executor dask; drop one of them")
        return "local", None
    scheduler = args.scheduler or os.environ.get(SCHEDULER_ENV) or None
    if args.executor == "dask" or scheduler:
        from pipeline.run.cluster import require_distributed

        require_distributed()  # before any slow work: the message names the extra
        return "dask", scheduler
    return "local", None


def _warn_if_ocr_is_off(counts: dict[str, Any]) -> None:
    """Documents that needed OCR while tesseract is missing: said once, with the count and the
    fix, rather than left to be found among the unreadable ones (even with --quiet)."""
    needing = counts.get("certificate_errors", {}).get(ErrorReason.OCR_UNAVAILABLE.value, 0)
    if not needing:
        return
    from pipeline.extract.tesseract import TESSERACT_INSTALL, tesseract_available

    if not tesseract_available():
        print(
            f"cplrecon: warning: OCR is off because tesseract is not installed: {needing} "
            f"document(s) needed it and are ERROR {ErrorReason.OCR_UNAVAILABLE.value} "
            f"(install it: {TESSERACT_INSTALL})",
            file=sys.stderr,
        )


def _extract(args: argparse.Namespace) -> int:
    """Each document read as reconcile reads it: the same executor and per-document time limit
    (run.runner.process_documents), in input order, without the cache."""
    from pipeline.ingest import discover
    from pipeline.run.cache import certificate_to_dict
    from pipeline.run.runner import Settings, process_documents

    if args.timeout < 0:
        raise UsageError("--timeout must be 0 (no limit) or more seconds")
    documents, _ = discover(args.files)
    settings = Settings(certs=tuple(args.files), cpl="", out="", workers=1, ocr=args.ocr,
                        timeout_s=args.timeout or None, cache=False, quiet=True, crops=False)
    for certificate in process_documents(documents, settings):
        record = certificate_to_dict(certificate) | {"status": "OK" if certificate.ok else "ERROR"}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from pipeline.codings import explain, explain_rows
    from pipeline.registry import load_registry
    from pipeline.report import neutralise
    from pipeline.report.plain import (
        checked_explanation,
        explain_exit_code,
        explain_for_terminal,
        with_explanations,
    )

    registry = load_registry()
    if args.batch:
        with open(args.batch, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        if rows and not {"text", "field"} <= set(rows[0]):
            raise UsageError(
                f"{args.batch}: needs columns text,field[,cpl][,manufacturer]; found {list(rows[0])}"
            )
        out_rows = with_explanations(explain_rows(rows, registry))
        handle_out = open(args.output, "w", newline="", encoding="utf-8") if args.output else None
        try:
            stream = handle_out or sys.stdout
            if out_rows:
                writer = csv.DictWriter(stream, fieldnames=list(out_rows[0]))
                writer.writeheader()
                writer.writerows(
                    {key: neutralise(value) for key, value in row.items()} for row in out_rows
                )
        finally:
            if handle_out:
                handle_out.close()
        return EXIT_OK
    if args.text is None:
        raise UsageError("explain needs VALUE_TEXT or --batch CSV")
    result = checked_explanation(explain(args.text, Field(args.field), args.cpl, registry))
    if args.json or not sys.stdout.isatty():
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(explain_for_terminal(result))
    status = result.get("status")
    return explain_exit_code(str(status) if status else None)


if __name__ == "__main__":
    raise SystemExit(main())
