"""Section-5 samples: reused certificates, supplementary evidence, policy dates, device types, OTA.

A fixed table of cases (guidance §1 dates, §5 reuse with and without evidence, a multi-model
certificate, an orphan certificate, Physical Device Types, OTA images that match, miss and break),
each CPL row with the verdicts it must get written beside it in expected.csv. Certificates come
from samples/generate.py and OTA images from samples/ota.py; byte-for-byte deterministic.

    python -m samples.section5 --out samples/section5

writes OUT/certs/*.pdf, OUT/evidence/* + OUT/evidence.csv, OUT/ota/**, OUT/cpl_submission.csv
(+ .xlsx) and OUT/expected.csv. Every evidence file carries the marker CONFIDENTIAL_MARKER on a
line of its own that names nothing, so a test can show the evidence text never leaks into outputs.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from samples.generate import (
    CPL_COLUMNS,
    CertificateSpec,
    Listing,
    Style,
    _Builder,
    make_certificate,
    write_cpl,
)
from samples.ota import build_ota_image

CONFIDENTIAL_MARKER = "CONFIDENTIAL-RELEASE-NOTE-TEXT-7Q4Z"
EXPECTED_COLUMNS: tuple[str, ...] = (
    "submission_row", "submission_id", "certificate_id", "overall_status",
    "manufacturer_identifier_status", "model_identifier_status", "hardware_version_status",
    "firmware_version_status", "listing", "policy_rule", "device_type_status", "ota_status",
    "evidence_check", "reuse_rows", "why",
)
EVIDENCE_COLUMNS = ("submission_id", "evidence_file", "zigbee_module", "certificate_id")
M, P, X, N, E, INV = "MATCH", "MAPPED", "MISMATCH", "NEEDS_EVIDENCE", "EVIDENCE", "INVALID_CPL"

_L = _Builder(random.Random(0)).listing  # noqa: S311 - only its value formatting; it draws no random numbers


def _spec(file: str, layout: str, cid: str, date: str, device: str,
          listings: list[Listing]) -> CertificateSpec:
    return CertificateSpec(file=file, layout=layout, certificate_id=cid, certificate_date=date,
                           date_text=date, device_code=device, listings=listings, style=Style())


CERTIFICATES: dict[str, CertificateSpec] = {
    "es50": _spec("es50_ZIG18SE5001.pdf", "kv", "ZIG18SE5001", "2018-01-10", "ESME", [
        _L("10:6C", "EDMI Ltd", "name+code", "ES-50", "01:40", "image-type", (1, 2),
           "underscore", "01:02:00:04")]),
    "g20": _spec("g20_ZIG17SE5002.pdf", "kv", "ZIG17SE5002", "2017-06-05", "GSME", [
        _L("10:28", "Itron Inc", "name+code", "G20", "02:20", "image-type", (2, 1), "underscore",
           "03:01:05:07", "3.1 (Stack 5.7)", P, "decimal app-stack")]),
    "multi": _spec("trio_ZIG19SE5003.pdf", "multi", "ZIG19SE5003", "2019-02-11", "PPMID", [
        _L("10:90", "Green Energy Options Ltd", "name+code", f"Trio {n}", f"00:2{n}", "image-type",
           (0, n), "underscore", f"00:00:07:0{n}") for n in (1, 2, 3)]),
    "orphan": _spec("orphan_ZIG19SE5004.pdf", "kv", "ZIG19SE5004", "2019-03-01", "CHF", [
        _L("10:86", "Toshiba Corporation", "name+code", "CH-X", "00:07", "image-type", (1, 0),
           "underscore", "02:00:00:01")]),
    "gpf": _spec("gpf_ZIG20SE5005.pdf", "kv", "ZIG20SE5005", "2020-04-02", "GPF", [
        _L("10:86", "Toshiba Corporation", "name+code", "GPF-1", "00:08", "image-type", (1, 1),
           "underscore", "00:00:02:00")]),
    "alcs": _spec("alcs_ZIG20SE5006.pdf", "kv", "ZIG20SE5006", "2020-05-03", "HCALCS", [
        _L("12:22", "Hildebrand Technology Limited", "name+code", "Glow ALCS 5", "00:55",
           "image-type", (1, 0), "underscore", "00:00:05:00")]),
}


@dataclass
class Case:
    """One CPL row and what it must get."""

    cert: str
    why: str
    statuses: tuple[str, str, str, str]
    overall: str
    listing: int = 0
    cells: dict[str, str] = field(default_factory=dict)  # overrides: firmware, hw_revision, ...
    date: str = "2018-03-01"
    device: str | None = None  # None: the certificate's own code
    policy: str = "strict"
    device_status: str = "MATCH"
    ota: str = "NO_OTA_IMAGE"
    evidence: str = ""  # "", "OK" or "FAILED"
    listing_label: str = ""
    reuse: str = ""


R = "1, 2, 3, 4, 5, 6, 7, 8"  # the rows reusing es50's certificate (row 8's firmware is INVALID_CPL)
CASES: tuple[Case, ...] = (
    Case("es50", "the certificate's own firmware 01:02:00:04; an OTA image carries it",
         (M, M, M, M), "PASS", ota="OTA_MATCH", reuse=R),
    Case("es50", "reused certificate, firmware 01:02:00:05 not on it; Markdown release notes name "
         "the certificate (spaced), module EM357 and 'Version 1.2.0.5': EVIDENCE",
         (M, M, M, E), "PASS", cells={"firmware": "01:02:00:05"}, ota="OTA_MATCH",
         evidence="OK", reuse=R),
    Case("es50", "reused; the release notes name another certificate (ZIG17SE5002): "
         "NEEDS_EVIDENCE; the OTA image for 01:02:00:06 is cut short: OTA_ERROR",
         (M, M, M, N), "REVIEW", cells={"firmware": "01:02:00:06"}, ota="OTA_ERROR",
         evidence="FAILED", reuse=R),
    Case("es50", "reused; the manifest names an evidence file that is not there: NEEDS_EVIDENCE",
         (M, M, M, N), "REVIEW", cells={"firmware": "01:02:00:07"}, evidence="FAILED", reuse=R),
    Case("es50", "reused; no evidence supplied at all: NEEDS_EVIDENCE",
         (M, M, M, N), "REVIEW", cells={"firmware": "01:02:00:08"}, reuse=R),
    Case("es50", "reused, but hardware revision 03 differs too: §5 does not excuse hardware "
         "(MISMATCH), firmware NEEDS_EVIDENCE: FAIL",
         (M, M, X, N), "FAIL", cells={"firmware": "01:02:00:09", "hw_revision": "03"}, reuse=R),
    Case("es50", "reused; PDF release notes print the ID with O for 0 (OCR-style) and firmware "
         "01:02:00:0A: EVIDENCE. CPL says GSME, certificate ESME; OTA image hw 02_00..02_FF "
         "excludes 01_02", (M, M, M, E), "PASS", cells={"firmware": "01:02:00:0A"},
         device="GSME", device_status="MISMATCH", ota="OTA_MISMATCH", evidence="OK", reuse=R),
    Case("es50", "reused, but the CPL firmware 01:02:00:0b is lower case: INVALID_CPL, never "
         "excused", (M, M, M, INV), "FAIL", cells={"firmware": "01:02:00:0b"}, reuse=R),
    Case("g20", "'3.1 (Stack 5.7)' maps to 03:01:05:07; submitted 2017-10-15, before the "
         "1 Dec 2017 hex requirement", (M, M, M, P), "PASS", date="2017-10-15",
         policy="pre", reuse="9, 10"),
    Case("g20", "reused for 3.2; text notes name module ETRX357 and '3.2 (Stack 5.7)'; "
         "date written 20/11/2017 (pre-policy)", (M, M, M, E), "PASS",
         cells={"firmware": "03:02:05:07"}, date="20/11/2017", policy="pre", evidence="OK",
         reuse="9, 10"),
    Case("multi", "multi-model certificate: the row is model 2 (Trio 2)", (M, M, M, M), "PASS",
         listing=1, listing_label="listing 2 of 3: Trio 2 (Image Type 00:22)"),
    Case("multi", "same certificate, model 3 (Trio 3): a shared certificate, not reuse",
         (M, M, M, M), "PASS", listing=2, listing_label="listing 3 of 3: Trio 3 (Image Type 00:23)",
         date="", policy="", device="", device_status="NOT_GIVEN"),
    Case("gpf", "single-use certificate, firmware 00:00:02:01 not on it; evidence names "
         "certificate, module and firmware (§5 claim against an earlier CPL entry): EVIDENCE",
         (M, M, M, E), "PASS", cells={"firmware": "00:00:02:01"}, evidence="OK",
         date="sometime in 2020", policy="unknown"),
    Case("alcs", "single-use certificate, firmware differs; the evidence file does not show the "
         "firmware version: MISMATCH stays", (M, M, M, X), "FAIL",
         cells={"firmware": "00:00:05:01"}, evidence="FAILED", device="SMART-PLUG",
         device_status="UNKNOWN"),
)

_CELL = {
    "firmware": "Device_Model - firmware_version",
    "hw_revision": "Device_Model - hardware_version.revision",
}


def submission_id(number: int) -> str:
    return f"S5-{number:03d}"


def cpl_rows() -> list[dict[str, str]]:
    rows = []
    for number, case in enumerate(CASES, start=1):
        spec = CERTIFICATES[case.cert]
        source = spec.listings[case.listing]
        values = {
            "Submission ID": submission_id(number),
            "Device_Model - manufacturer_identifier": source.manufacturer_identifier,
            "Device_Model - model_identifier": source.model_identifier,
            "Device_Model - hardware_version.version": source.hardware_version_version,
            "Device_Model - hardware_version.revision": source.hardware_version_revision,
            "Device_Model - firmware_version": source.firmware_version,
            "ZigBee Certificate ID": spec.certificate_id,
            "Device Type": spec.device_code if case.device is None else case.device,
            "Submission Date": case.date,
            "Manufacturer Name": source.manufacturer_name,
            "Model Name": source.model_name,
        }
        for key, value in case.cells.items():
            values[_CELL[key]] = value
        rows.append({c: values[c] for c in CPL_COLUMNS})
    return rows


def expected_rows() -> list[dict[str, str]]:
    rows = []
    for number, case in enumerate(CASES, start=1):
        statuses = dict(zip(EXPECTED_COLUMNS[4:8], case.statuses, strict=True))
        rows.append({
            "submission_row": str(number), "submission_id": submission_id(number),
            "certificate_id": CERTIFICATES[case.cert].certificate_id,
            "overall_status": case.overall, **statuses, "listing": case.listing_label,
            "policy_rule": case.policy, "device_type_status": case.device_status,
            "ota_status": case.ota, "evidence_check": case.evidence, "reuse_rows": case.reuse,
            "why": case.why,
        })
    return rows


# --- evidence -------------------------------------------------------------------------------------

def _notes(title: str, lines: Sequence[str]) -> str:
    body = "\n".join(lines)
    return (f"# {title}\n\nInternal release notes.\n\n{CONFIDENTIAL_MARKER}\n\n{body}\n\n"
            "No changes were made that would require re-certification.\n")


EVIDENCE_TEXT: dict[str, str] = {
    "evidence/es50-1.2.0.5-release-notes.md": _notes("ES-50 release 1.2.0.5", [
        "- Firmware: Version 1.2.0.5 (metrology fixes only)",
        "- ZigBee module: EM357, stack 5.7.4, unchanged",
        "- ZigBee certificate: ZIG18 SE 5001 still applies",
    ]),
    "evidence/es50-1.2.0.6-notes.txt": _notes("ES-50 release 1.2.0.6", [
        "Firmware 1.2.0.6",
        "ZigBee module EM357",
        "Certificate ZIG17SE5002",
    ]),
    "evidence/g20-3.2-notes.txt": _notes("G20 application 3.2", [
        "Application firmware 3.2 (Stack 5.7)",
        "Radio: Telegesis ETRX357 ZigBee module, certified under ZIG17-SE5002",
    ]),
    "evidence/gpf-notes.md": _notes("GPF-1 update", [
        "Firmware 00:00:02:01 adds logging",
        "ZigBee module: CH-ZB2 (certificate ZIG20SE5005)",
    ]),
    "evidence/alcs-notes.md": _notes("Glow ALCS 5", [
        "Minor update of the relay driver",
        "ZigBee module: JN5169 as certified in ZIG20SE5006",
    ]),
}
EVIDENCE_PDF = "evidence/es50-1.2.0.10-notes.pdf"
EVIDENCE_PDF_LINES = (
    "ES-50 release notes, firmware 01:02:00:0A",
    CONFIDENTIAL_MARKER,
    "ZigBee module EM357 (stack 5.7.4) is unchanged.",
    "Certificate ZIG18SE5OO1 remains valid for this release.",
)
MANIFEST: tuple[tuple[int, str, str, str], ...] = (  # row, file, module, certificate
    (2, "evidence/es50-1.2.0.5-release-notes.md", "EM357", "ZIG18SE5001"),
    (3, "evidence/es50-1.2.0.6-notes.txt", "EM357", "ZIG18SE5001"),
    (4, "evidence/es50-1.2.0.7-notes.md", "EM357", "ZIG18SE5001"),  # not written: missing
    (7, EVIDENCE_PDF, "EM357", "ZIG18SE5001"),
    (10, "evidence/g20-3.2-notes.txt", "Telegesis ETRX357", "ZIG17SE5002"),
    (13, "evidence/gpf-notes.md", "CH-ZB2", "ZIG20SE5005"),
    (14, "evidence/alcs-notes.md", "JN5169", "ZIG20SE5006"),
)


def evidence_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    y = A4[1] - 72
    for line in EVIDENCE_PDF_LINES:
        canvas.setFont("Helvetica", 11)
        canvas.drawString(72, y, line)
        y -= 20
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- OTA images -----------------------------------------------------------------------------------

def ota_images() -> dict[str, bytes]:
    cut = build_ota_image(0x106C, 0x0140, 0x01020006, header_string="ES-50 1.2.0.6")
    return {
        "ota/es50-01020004.ota": build_ota_image(0x106C, 0x0140, 0x01020004,
                                                 header_string="ES-50 1.2.0.4"),
        "ota/es50-01020005.zigbee": build_ota_image(0x106C, 0x0140, 0x01020005,
                                                    header_string="ES-50 1.2.0.5",
                                                    hw_range=(0x0100, 0x01FF)),
        "ota/es50-0102000A.ota": build_ota_image(0x106C, 0x0140, 0x0102000A,
                                                 header_string="ES-50 1.2.0.10 hw 2 only",
                                                 hw_range=(0x0200, 0x02FF)),
        "ota/bad/es50-01020006-cut.ota": cut[: len(cut) - 20],
        "ota/bad/not-an-image.bin": b"this is not an OTA image\n" * 4,
    }


# --- writing --------------------------------------------------------------------------------------

def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate_section5(out_dir: str | Path) -> Path:
    """Write the whole sample set into `out_dir` (created; files of the same names replaced)."""
    out = Path(out_dir)
    files: dict[str, bytes] = {}
    for spec in CERTIFICATES.values():
        buffer = io.BytesIO()
        make_certificate(spec, spec.layout, buffer)
        files[f"certs/{spec.file}"] = buffer.getvalue()
    files |= {name: text.encode("utf-8") for name, text in EVIDENCE_TEXT.items()}
    files[EVIDENCE_PDF] = evidence_pdf()
    files |= ota_images()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (out / "evidence" / "es50-1.2.0.7-notes.md").unlink(missing_ok=True)  # the missing one
    _write_csv(out / "evidence.csv", EVIDENCE_COLUMNS, [
        {"submission_id": submission_id(row), "evidence_file": file, "zigbee_module": module,
         "certificate_id": cid}
        for row, file, module, cid in MANIFEST
    ])
    write_cpl(cpl_rows(), out / "cpl_submission.csv", out / "cpl_submission.xlsx")
    _write_csv(out / "expected.csv", EXPECTED_COLUMNS, expected_rows())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.section5",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder to write the samples into")
    args = parser.parse_args(argv)
    print(generate_section5(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
