"""Sample ZigBee Smart Energy certificates, a CPL submission, and the ground truth for both.

The bundled corpus is a fixed set of audit cases (guidance sections 2-5: exact hex, plain-English
forms that map, the guidance's own inconsistent example, mismatches, invalid CPL values, a missing
certificate, an unverifiable company, a partial firmware version, a multi-model certificate, a
certificate ID written differently, broken files). Asking for more certificates than the cases
hold adds random certificates, each with one CPL row, for scale tests. Everything is drawn from one
seeded `random.Random`, and reportlab runs with `invariant=1`, so a seed gives byte-identical files.

    python -m samples.generate --out samples/corpus [--count N] [--seed S]
        [--scanned N] [--scanned-out DIR] [--cpl-out DIR]

writes OUT/*.pdf + OUT/truth.json, the CPL submission (cpl_submission.csv / .xlsx), expected.csv
and manufacturers.csv into --cpl-out (default: the parent of OUT, so corpus/ holds only
documents), and N scanned variants into --scanned-out (default OUT/scanned) with their own truth.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PAGE_W, PAGE_H = A4
LAYOUTS: tuple[str, ...] = ("kv", "table", "prose", "multi", "twocol", "stacked")
DEFAULT_SEED = 2018

CPL_COLUMNS: tuple[str, ...] = (
    "Submission ID",
    "Device_Model - manufacturer_identifier",
    "Device_Model - model_identifier",
    "Device_Model - hardware_version.version",
    "Device_Model - hardware_version.revision",
    "Device_Model - firmware_version",
    "ZigBee Certificate ID",
    "Device Type",
    "Submission Date",
    "Manufacturer Name",
    "Model Name",
)
STATUS_FIELDS: tuple[str, ...] = (
    "manufacturer_identifier",
    "model_identifier",
    "hardware_version",
    "firmware_version",
)
EXPECTED_COLUMNS: tuple[str, ...] = (
    "submission_row",
    "submission_id",
    "certificate_id",
    "certificate_file",
    "overall_status",
    *(f"{f}_status" for f in STATUS_FIELDS),
    "why",
)

# Manufacturer codes (OTA "Manufacturer code") with the company names certificates print.
# The first name is the registry name; the others are aliases seen on certificates.
MANUFACTURERS: dict[str, tuple[str, ...]] = {
    "10:28": ("Itron", "Itron Inc", "Itron Metering Solutions UK Ltd"),
    "10:2C": ("Siemens", "Siemens plc", "Siemens Metering"),
    "10:57": ("Elster", "Elster Metering Limited", "Honeywell Elster"),
    "10:63": ("Landis+Gyr", "Landis+Gyr Limited", "Landis+Gyr Ltd"),
    "10:6C": ("EDMI", "EDMI Ltd", "EDMI Europe Ltd"),
    "10:84": ("Secure Electrans", "Secure Electrans Ltd", "Secure Electrans Limited"),
    "10:86": ("Toshiba", "Toshiba Corporation"),
    "10:90": ("Green Energy Options", "Green Energy Options Ltd"),
    "10:A2": ("Sensus", "Sensus UK Systems Ltd", "Sensus Metering Systems"),
    "10:E0": ("Chameleon Technology", "Chameleon Technology (UK) Ltd"),
    "10:ED": ("Genus", "Genus Power Infrastructures Ltd"),
    "11:25": ("Shenzhen Kaifa Technology", "Shenzhen Kaifa Technology Co Ltd", "Kaifa"),
    "11:8F": ("Aclara", "Aclara Technologies LLC", "Aclara Meters UK Ltd"),
    "12:22": ("Hildebrand Technology", "Hildebrand Technology Limited"),
}
FICTIONAL_COMPANY = "Northwind Metering Systems Ltd"  # deliberately absent from any registry

DEVICE_TYPES: dict[str, str] = {
    "ESME": "Electricity Smart Metering Equipment (ESME)",
    "GSME": "Gas Smart Metering Equipment (GSME)",
    "CHF": "Communications Hub Function (CHF)",
    "GPF": "Gas Proxy Function (GPF)",
    "PPMID": "Pre-Payment Meter Interface Device (PPMID)",
    "HCALCS": "HAN Connected Auxiliary Load Control Switch (HCALCS)",
}

LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "certificate_id": ("Certification ID Number", "Certificate No.", "Certificate ID"),
    "certificate_date": ("Certification Date", "Date of Certification"),
    "device_type": ("Type of Device",),
    "manufacturer": ("Manufacturer", "Company", "Applicant"),
    "model": ("Model Identification", "Model Number", "Product Model"),
    "hardware_version": ("Hardware Version", "HW Version", "Hardware Revision"),
    "firmware_version": (
        "Firmware Version", "Software Version", "FW Version", "Application Firmware",
    ),
}
LISTING_KEYS: tuple[str, ...] = ("manufacturer", "model", "hardware_version", "firmware_version")
HEAD_KEYS: tuple[str, ...] = ("certificate_id", "certificate_date", "device_type")

TITLES = (
    "ZigBee Alliance \u2014 Certificate of Compliance",
    "Zigbee Certified Product",
    "ZigBee Alliance \u2014 Certificate of Compliance",
)
TEST_HOUSES = (
    "Intertek Testing Services",
    "T\u00dcV Rheinland Product Safety",
    "DEKRA Testing and Certification",
    "Element Materials Technology",
    "National Technical Systems",
)
SIGNATORIES = ("J. Whitfield", "A. Okafor", "M. Lindqvist", "R. Patel", "S. Moreau")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)

MATCH, MAPPED, MISMATCH, MISSING = "MATCH", "MAPPED", "MISMATCH", "MISSING"
PARTIAL, UNVERIFIABLE, INVALID_CPL = "PARTIAL", "UNVERIFIABLE", "INVALID_CPL"


# --------------------------------------------------------------------------- data


@dataclass
class Style:
    """How one certificate looks; fixed in the spec so rendering needs no randomness."""

    font: str = "Helvetica"  # "Helvetica" or "Times"
    size: float = 10.5
    margin: float = 60.0
    title: str = TITLES[0]
    labels: dict[str, str] = field(default_factory=lambda: {k: v[0] for k, v in LABEL_SYNONYMS.items()})
    test_house: str = TEST_HOUSES[0]
    signatory: str = SIGNATORIES[0]
    inline: bool = True  # kv: "Label: value" in one string, else label and value at a tab stop
    columns: int = 3  # table: cells per row
    variant: int = 0  # prose: which sentence template; kv: field order

    @property
    def regular(self) -> str:
        return "Times-Roman" if self.font == "Times" else "Helvetica"

    @property
    def bold(self) -> str:
        return "Times-Bold" if self.font == "Times" else "Helvetica-Bold"


@dataclass
class Listing:
    """One device model on a certificate: the text printed, the CPL hex it stands for, and how."""

    manufacturer_text: str
    model_text: str
    hardware_text: str
    firmware_text: str  # "" when the certificate does not show a firmware version
    manufacturer_identifier: str  # intended CPL values ("" where no code exists)
    model_identifier: str
    hardware_version_version: str
    hardware_version_revision: str
    firmware_version: str
    manufacturer_name: str
    model_name: str
    # field -> the verdict this text gives against the intended value, and the form it is in
    status: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)

    def text(self, key: str) -> str:
        return {
            "manufacturer": self.manufacturer_text,
            "model": self.model_text,
            "hardware_version": self.hardware_text,
            "firmware_version": self.firmware_text,
        }[key]

    def cpl_value(self, status_field: str) -> str:
        return {
            "manufacturer_identifier": self.manufacturer_identifier,
            "model_identifier": self.model_identifier,
            "hardware_version": f"{self.hardware_version_version}_{self.hardware_version_revision}",
            "firmware_version": self.firmware_version,
        }[status_field]


@dataclass
class CertificateSpec:
    file: str  # relative to the corpus folder
    layout: str
    certificate_id: str
    certificate_date: str  # ISO
    date_text: str  # as printed
    device_code: str  # ESME, GSME, ...
    listings: list[Listing]
    style: Style = field(default_factory=Style)
    broken: str = ""  # "", "truncated" or "html"

    @property
    def device_type(self) -> str:
        return DEVICE_TYPES[self.device_code]


@dataclass
class CplRow:
    values: dict[str, str]  # CPL_COLUMNS -> cell text
    expected: dict[str, str]  # EXPECTED_COLUMNS -> value


@dataclass
class Corpus:
    seed: int
    certificates: list[CertificateSpec]
    rows: list[CplRow]


# --------------------------------------------------------------------------- CPL rules


_HEX2 = re.compile(r"[0-9A-F]{2}")


def cpl_problem(status_field: str, value: str) -> str:
    """The guidance section 2 rule a CPL value breaks, or "" when it is valid."""
    if status_field == "hardware_version":
        version, _, revision = value.partition("_")
        for part in (version, revision):
            if not _HEX2.fullmatch(part):
                return f"hardware_version part {part!r} is not XX (0-9, A-F)"
        return ""
    octets = 4 if status_field == "firmware_version" else 2
    parts = value.split(":")
    if len(parts) != octets or not all(_HEX2.fullmatch(p) for p in parts):
        return f"{value!r} is not {':'.join(['XX'] * octets)} (0-9, A-F)"
    number = int("".join(parts), 16)
    if status_field == "manufacturer_identifier" and number > 0xFFFE:
        return "outside 00:00 to FF:FE"
    if status_field == "model_identifier" and number > 0xFFBF:
        return "outside 00:00 to FF:BF"
    return ""


def expected_status(listing: Listing, status_field: str, cpl_value: str) -> str:
    """What the SPEC's verdict rules say for this CPL value against this listing."""
    if cpl_problem(status_field, cpl_value):
        return INVALID_CPL
    shown = listing.status[status_field]
    if shown in (MISSING, UNVERIFIABLE):
        return shown
    return shown if cpl_value == listing.cpl_value(status_field) else MISMATCH


def overall_of(statuses: Sequence[str]) -> str:
    if any(s in (MISMATCH, INVALID_CPL) for s in statuses):
        return "FAIL"
    if any(s in (MISSING, PARTIAL, UNVERIFIABLE, "NEEDS_EVIDENCE") for s in statuses):
        return "REVIEW"
    return "PASS"


# --------------------------------------------------------------------------- value forms


def _hexcode(number: int, octets: int) -> str:
    raw = f"{number:0{octets * 2}X}"
    return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))


def manufacturer_text(code: str, name: str, form: str) -> tuple[str, str]:
    """(printed text, verdict it gives for the right code)."""
    if form == "name+code":
        return f"{name} ({code})", MATCH
    if form == "code":
        return code, MATCH
    if form == "name":
        return name, MAPPED
    raise ValueError(form)


def model_text(name: str, image_type: str, form: str) -> str:
    if form == "image-type":
        return f"{name} (Image Type {image_type})"
    if form == "name+hex":
        return f"{name} ({image_type})"
    if form == "hex":
        return image_type
    if form == "0x":
        return "0x" + image_type.replace(":", "")
    raise ValueError(form)


def hardware_text(version: int, revision: int, form: str) -> tuple[str, str]:
    if form == "underscore":
        return f"{version:02X}_{revision:02X}", MATCH
    if form == "dotted":
        return f"{version}.{revision}", MAPPED
    if form == "words":
        return f"Version {version} Revision {revision}", MAPPED
    raise ValueError(form)


# --------------------------------------------------------------------------- the cases


class _Builder:
    """Collects certificates and CPL rows, deriving each row's expected verdicts."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.certificates: list[CertificateSpec] = []
        self.rows: list[CplRow] = []
        self.ids: set[str] = set()

    # -- certificates

    def certificate_id(self) -> str:
        while True:
            year = self.rng.randint(17, 21)
            shape = self.rng.randrange(3)
            if shape == 0:
                cid = f"ZIG{year}{self.rng.randint(100, 999)}SE{self.rng.randint(1, 9999):04d}"
            elif shape == 1:
                cid = f"ZIG{year}-{self.rng.randint(1, 9999):04d}"
            else:
                cid = f"ZIG{year}SE{self.rng.randint(1, 9999):04d}"
            if cid not in self.ids:
                self.ids.add(cid)
                return cid

    def date(self, certificate_id: str) -> tuple[str, str]:
        match = re.match(r"ZIG(\d\d)", certificate_id)
        year = 2000 + int(match.group(1)) if match else 2018
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        iso = f"{year}-{month:02d}-{day:02d}"
        shape = self.rng.randrange(5)
        text = [
            iso,
            f"{day} {MONTHS[month - 1]} {year}",
            f"{day:02d}/{month:02d}/{year}",
            f"{MONTHS[month - 1]} {day}, {year}",
            f"{day:02d}.{month:02d}.{year}",
        ][shape]
        return iso, text

    def style(self, layout: str) -> Style:
        rng = self.rng
        return Style(
            font=rng.choice(("Helvetica", "Times")),
            size=rng.choice((10.0, 10.5, 11.0, 11.5)),
            margin=rng.choice((54.0, 60.0, 66.0, 72.0)),
            title=rng.choice(TITLES),
            labels={k: rng.choice(v) for k, v in LABEL_SYNONYMS.items()},
            test_house=rng.choice(TEST_HOUSES),
            signatory=rng.choice(SIGNATORIES),
            inline=rng.random() < 0.5,
            columns=rng.choice((2, 3)),
            variant=rng.randrange(3),
        )

    def add(
        self,
        layout: str,
        device_code: str,
        listings: list[Listing],
        certificate_id: str = "",
        file: str = "",
        broken: str = "",
    ) -> CertificateSpec:
        if certificate_id:
            self.ids.add(certificate_id)
        cid = certificate_id or self.certificate_id()
        iso, text = self.date(cid)
        number = sum(1 for s in self.certificates if not s.broken) + 1
        spec = CertificateSpec(
            file=file or f"cert_{number:04d}_{layout}.pdf",
            layout=layout,
            certificate_id=cid,
            certificate_date=iso,
            date_text=text,
            device_code=device_code,
            listings=listings,
            style=self.style(layout),
            broken=broken,
        )
        self.certificates.append(spec)
        return spec

    # -- listings

    def listing(
        self,
        code: str,
        company: str,
        company_form: str,
        model: str,
        image_type: str,
        model_form: str,
        hardware: tuple[int, int],
        hardware_form: str,
        firmware: str,
        firmware_text: str | None = None,
        firmware_status: str = MATCH,
        firmware_form: str = "hex",
    ) -> Listing:
        if company_form == "none":
            mtext, mstatus = company, UNVERIFIABLE
        else:
            mtext, mstatus = manufacturer_text(code, company, company_form)
        htext, hstatus = hardware_text(*hardware, hardware_form)
        ftext = firmware if firmware_text is None else firmware_text
        return Listing(
            manufacturer_text=mtext,
            model_text=model_text(model, image_type, model_form),
            hardware_text=htext,
            firmware_text=ftext,
            manufacturer_identifier=code,
            model_identifier=image_type,
            hardware_version_version=f"{hardware[0]:02X}",
            hardware_version_revision=f"{hardware[1]:02X}",
            firmware_version=firmware,
            manufacturer_name=MANUFACTURERS[code][0] if code in MANUFACTURERS else company,
            model_name=model,
            status={
                "manufacturer_identifier": mstatus,
                "model_identifier": MATCH,
                "hardware_version": hstatus,
                "firmware_version": firmware_status if ftext else MISSING,
            },
            form={
                "manufacturer": company_form,
                "model": model_form,
                "hardware_version": hardware_form,
                "firmware_version": firmware_form if ftext else "absent",
            },
        )

    # -- CPL rows

    def row(
        self,
        spec: CertificateSpec | None,
        why: str,
        listing: int = 0,
        cpl_certificate_id: str | None = None,
        overall: str | None = None,
        base: Listing | None = None,
        device_code: str = "",
        **cells: str,
    ) -> CplRow:
        """A CPL row for `spec` (listing `listing`), with `cells` overriding the intended values.

        `overall` forces NO_CERTIFICATE / ERROR (field statuses then stay empty).
        """
        source = base or (spec.listings[listing] if spec else None)
        assert source is not None
        number = len(self.rows) + 1
        cid = spec.certificate_id if spec else ""
        date = spec.certificate_date if spec else "2019-06-01"
        values = {
            "Submission ID": f"SUB-{2017 + (number % 4)}-{number:04d}",
            "Device_Model - manufacturer_identifier": source.manufacturer_identifier,
            "Device_Model - model_identifier": source.model_identifier,
            "Device_Model - hardware_version.version": source.hardware_version_version,
            "Device_Model - hardware_version.revision": source.hardware_version_revision,
            "Device_Model - firmware_version": source.firmware_version,
            "ZigBee Certificate ID": cpl_certificate_id if cpl_certificate_id is not None else cid,
            "Device Type": device_code or (spec.device_code if spec else "ESME"),
            "Submission Date": _later(date, 20 + self.rng.randrange(90)),
            "Manufacturer Name": source.manufacturer_name,
            "Model Name": source.model_name,
        }
        keys = {
            "manufacturer": "Device_Model - manufacturer_identifier",
            "model": "Device_Model - model_identifier",
            "hw_version": "Device_Model - hardware_version.version",
            "hw_revision": "Device_Model - hardware_version.revision",
            "firmware": "Device_Model - firmware_version",
        }
        for key, value in cells.items():
            values[keys[key]] = value
        expected = {
            "submission_row": str(number),
            "submission_id": values["Submission ID"],
            "certificate_id": values["ZigBee Certificate ID"],
            "certificate_file": spec.file if spec and not overall else "",
            "why": why,
        }
        if overall:
            expected["overall_status"] = overall
            for f in STATUS_FIELDS:
                expected[f"{f}_status"] = ""
            if overall == "ERROR" and spec:
                expected["certificate_file"] = spec.file
        else:
            assert spec is not None
            cpl = {
                "manufacturer_identifier": values["Device_Model - manufacturer_identifier"],
                "model_identifier": values["Device_Model - model_identifier"],
                "hardware_version": values["Device_Model - hardware_version.version"]
                + "_"
                + values["Device_Model - hardware_version.revision"],
                "firmware_version": values["Device_Model - firmware_version"],
            }
            statuses = [
                expected_status(spec.listings[listing], f, cpl[f]) for f in STATUS_FIELDS
            ]
            for f, s in zip(STATUS_FIELDS, statuses, strict=True):
                expected[f"{f}_status"] = s
            expected["overall_status"] = overall_of(statuses)
        row = CplRow(values=values, expected={k: expected[k] for k in EXPECTED_COLUMNS})
        self.rows.append(row)
        return row


def _later(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()


def _audit_cases(b: _Builder) -> None:
    """The bundled corpus: one certificate (or two) per audit case, with its CPL row(s)."""
    L = b.listing  # noqa: N806

    # Exact hex on the certificate -> MATCH everywhere -> PASS.
    c = b.add("kv", "ESME", [L("10:6C", "EDMI Ltd", "name+code", "ES-10B", "01:02", "name+hex",
                               (1, 2), "underscore", "0C:03:0C:22")])
    b.row(c, "exact hex on the certificate: every field MATCH")
    c = b.add("table", "GSME", [L("10:28", "Itron Metering Solutions UK Ltd", "name+code",
                                  "Intelis G", "02:0B", "image-type", (2, 1), "underscore",
                                  "01:04:22:1A")])
    b.row(c, "exact hex in a ruled table (label above value): every field MATCH")
    c = b.add("twocol", "ESME", [L("10:2C", "Siemens plc", "code", "SGM1300", "03:01", "hex",
                                   (3, 0), "underscore", "03:01:0A:05",
                                   firmware_text="0x03010A05", firmware_form="0x")])
    b.row(c, "bare hex codes and firmware as 0x03010A05 (hex form, separators normalised): MATCH")
    c = b.add("stacked", "CHF", [L("10:86", "Toshiba Corporation", "name+code", "CH-N1", "00:05",
                                   "0x", (1, 0), "underscore", "00:00:02:6B")])
    b.row(c, "labels on their own line, values below; model shown as 0x0005: MATCH")
    c = b.add("prose", "GSME", [L("10:63", "Landis+Gyr Limited", "name+code", "G470", "02:0A",
                                  "image-type", (1, 2), "underscore", "03:46:37:12")])
    b.row(c, "fields in sentences, exact hex: every field MATCH")

    # Plain-English forms that map (guidance section 4) -> MAPPED -> PASS.
    c = b.add("kv", "ESME", [L("10:6C", "EDMI Ltd", "name+code", "ES-20B", "01:03", "image-type",
                               (1, 2), "underscore", "0C:03:0C:22", "12.3 (Stack 12.34)", MAPPED,
                               "decimal app-stack")])
    b.row(c, "guidance example: '12.3 (Stack 12.34)' is 0C:03:0C:22 in hex coding: MAPPED")
    c = b.add("table", "GSME", [L("10:57", "Elster Metering Limited", "name+code", "BK-G4E",
                                  "04:02", "image-type", (2, 0), "underscore", "12:03:12:34",
                                  "12.3 (Stack 1.2.3.4)", MAPPED, "bcd app-stack")])
    b.row(c, "guidance example: '12.3 (Stack 1.2.3.4)' is 12:03:12:34 in BCD coding: MAPPED")
    c = b.add("twocol", "PPMID", [L("10:90", "Green Energy Options Ltd", "name+code",
                                    "Trio II PPMID", "00:21", "image-type", (0, 3), "underscore",
                                    "00:00:07:8D", "7.8D Other String", MAPPED,
                                    "hex right-aligned")])
    b.row(c, "guidance example: '7.8D Other String' is 00:00:07:8D (hex, text omitted): MAPPED")
    c = b.add("prose", "GSME", [L("10:63", "Landis+Gyr Limited", "name", "E470", "01:0A",
                                  "image-type", (1, 2), "dotted", "01:02:05:06",
                                  "Version 1.2.5.6", MAPPED, "decimal dotted")],
              certificate_id="ZIG18-0044")
    b.row(c, "company name only (registry: Landis+Gyr 10:63), hardware '1.2', firmware "
             "'Version 1.2.5.6' -> 01:02:05:06; CPL writes the ID in lower case: MAPPED",
          cpl_certificate_id="zig18-0044")
    c = b.add("kv", "ESME", [L("10:2C", "Siemens plc", "name", "SGM1400", "01:05", "name+hex",
                               (1, 1), "underscore", "00:00:00:11", "v17", MAPPED,
                               "decimal right-aligned")])
    b.row(c, "company name only (registry: Siemens 10:2C); firmware 'v17' -> 00:00:00:11 "
             "(17 decimal = 0x11): MAPPED")
    c = b.add("stacked", "GSME", [L("10:A2", "Sensus UK Systems Ltd", "name+code", "iConA-G",
                                    "03:10", "image-type", (1, 2), "words", "03:46:37:12",
                                    "3.70.55.18", MAPPED, "decimal dotted")])
    b.row(c, "hardware 'Version 1 Revision 2' -> 01_02; firmware '3.70.55.18' -> 03:46:37:12 "
             "(70=0x46, 55=0x37, 18=0x12): MAPPED")
    c = b.add("table", "PPMID", [L("10:E0", "Chameleon Technology (UK) Ltd", "name", "IHD6-P",
                                   "00:31", "name+hex", (2, 0), "words", "00:00:03:10",
                                   firmware_text="0x00000310", firmware_form="0x")])
    b.row(c, "company name with brackets but no code (registry: Chameleon 10:E0); hardware "
             "'Version 2 Revision 0': MAPPED; firmware 0x00000310: MATCH")

    # The guidance's own inconsistent example, and its corrected form.
    c = b.add("kv", "ESME", [L("10:84", "Secure Electrans Ltd", "name+code", "Liberty 100",
                               "05:01", "image-type", (1, 4), "underscore", "0E:07:00:00",
                               "Some String (14.7)", MAPPED, "decimal left-aligned")])
    b.row(c, "guidance example as printed: 'Some String (14.7)' with CPL 0D:07:00:00 - but 14 "
             "decimal is 0x0E, so the guidance's table is wrong: MISMATCH", firmware="0D:07:00:00")
    c = b.add("twocol", "ESME", [L("10:ED", "Genus Power Infrastructures Ltd", "name+code",
                                   "GSM-3P", "02:02", "image-type", (3, 1), "underscore",
                                   "0E:07:00:00", "Some String (14.7)", MAPPED,
                                   "decimal left-aligned")])
    b.row(c, "the same text with the corrected CPL 0E:07:00:00 (14.7 -> 0E:07, text omitted, "
             "stack octets 00): MAPPED")

    # Mismatches.
    c = b.add("table", "ESME", [L("11:8F", "Aclara Meters UK Ltd", "name+code", "SGM-E1",
                                  "01:11", "image-type", (1, 0), "underscore", "01:04:22:1A")])
    b.row(c, "firmware last octet differs (certificate 01:04:22:1A, CPL 01:04:22:1B): MISMATCH",
          firmware="01:04:22:1B")
    c = b.add("kv", "GSME", [L("10:28", "Itron Metering Solutions UK Ltd", "name+code",
                               "Intelis G2", "01:02", "image-type", (1, 2), "underscore",
                               "00:01:00:0A")])
    b.row(c, "wrong model: certificate Image Type 01:02, CPL 01:03: MISMATCH", model="01:03")

    # Invalid CPL values (guidance section 2).
    c = b.add("twocol", "ESME", [L("11:25", "Shenzhen Kaifa Technology Co Ltd", "name+code",
                                   "KFM-E2", "00:40", "name+hex", (1, 1), "underscore",
                                   "01:00:03:00")])
    b.row(c, "CPL manufacturer FF:FF is outside 00:00-FF:FE: INVALID_CPL", manufacturer="FF:FF")
    c = b.add("stacked", "HCALCS", [L("12:22", "Hildebrand Technology Limited", "name+code",
                                      "Glow ALCS", "00:51", "image-type", (1, 0), "underscore",
                                      "00:00:01:05")])
    b.row(c, "CPL model FF:C0 is outside 00:00-FF:BF: INVALID_CPL", model="FF:C0")
    c = b.add("kv", "ESME", [L("10:6C", "EDMI Europe Ltd", "name+code", "ES-10A", "01:01",
                               "image-type", (1, 1), "underscore", "0C:03:0C:22")])
    b.row(c, "CPL firmware in lower case 0c:03:0c:22 (format allows 0-9 A-F only): INVALID_CPL",
          firmware="0c:03:0c:22")
    c = b.add("table", "GSME", [L("10:57", "Elster Metering Limited", "code", "BK-G4T", "04:05",
                                  "image-type", (1, 2), "underscore", "02:00:0B:01")])
    b.row(c, "CPL firmware 02:00:0B has three octets, not four: INVALID_CPL", firmware="02:00:0B")
    c = b.add("prose", "ESME", [L("10:2C", "Siemens plc", "name+code", "SGM1500", "01:07",
                                  "image-type", (1, 3), "underscore", "01:00:00:09")])
    b.row(c, "CPL hardware_version.version '1' is one character, not XX: INVALID_CPL",
          hw_version="1")

    # No certificate in the corpus.
    ghost = L("10:63", "Landis+Gyr Limited", "name+code", "E470", "01:0A", "image-type", (1, 2),
              "underscore", "01:02:05:06")
    b.ids.add("ZIG20SE9999")
    b.row(None, "no document carries ZIG20SE9999", base=ghost, cpl_certificate_id="ZIG20SE9999",
          overall="NO_CERTIFICATE", device_code="ESME")

    # REVIEW cases.
    c = b.add("kv", "ESME", [L("", FICTIONAL_COMPANY, "none", "NW-100E", "00:10", "image-type",
                               (1, 0), "underscore", "01:00:00:02")])
    b.row(c, "company with no manufacturer code anywhere (fictional, no registry entry): "
             "UNVERIFIABLE", manufacturer="13:A7")
    c = b.add("twocol", "PPMID", [L("10:90", "Green Energy Options Ltd", "name+code", "Solo III",
                                    "00:22", "image-type", (1, 1), "underscore", "02:01:05:07",
                                    "Application 2.1", PARTIAL, "application only")])
    b.row(c, "certificate shows only 'Application 2.1'; CPL 02:01:05:07 carries a stack version "
             "05:07 the certificate does not explain: PARTIAL")
    c = b.add("kv", "CHF", [L("10:86", "Toshiba Corporation", "name+code", "CH-N2", "00:06",
                              "image-type", (1, 1), "underscore", "02:01:00:00",
                              "Application 2.1", MAPPED, "application only")])
    b.row(c, "'Application 2.1' with CPL 02:01:00:00: the octets the text leaves out are 00, "
             "which counts as explained: MAPPED")
    c = b.add("kv", "PPMID", [L("10:E0", "Chameleon Technology (UK) Ltd", "name+code", "IHD6-P2",
                                "00:32", "image-type", (1, 0), "underscore", "00:00:04:02",
                                firmware_text="")])
    b.row(c, "certificate has no firmware version line: MISSING")

    # Multi-model certificates.
    c = b.add("multi", "ESME", [
        L("10:6C", "EDMI Ltd", "name+code", "ES-10B", "01:02", "image-type", (1, 2), "underscore",
          "0C:03:0C:22"),
        L("10:6C", "EDMI Ltd", "name+code", "ES-10B-P", "01:12", "image-type", (1, 3),
          "underscore", "0C:04:0C:22"),
        L("10:6C", "EDMI Ltd", "name+code", "ES-10C", "01:22", "image-type", (2, 0), "underscore",
          "0D:00:0C:22"),
    ])
    b.row(c, "multi-model certificate (3 models): the row matches model 2 (ES-10B-P): MATCH",
          listing=1)
    b.row(c, "multi-model certificate: firmware 0C:05:0C:22 is on no listed model; closest is "
             "model 1 (ES-10B): MISMATCH", listing=0, firmware="0C:05:0C:22")
    c = b.add("multi", "ESME", [
        L("10:63", "Landis+Gyr Limited", "name", "E470", "01:0A", "image-type", (1, 2), "dotted",
          "01:02:05:06", "Version 1.2.5.6", MAPPED, "decimal dotted"),
        L("10:63", "Landis+Gyr Limited", "name", "E470-PP", "01:1A", "image-type", (1, 3),
          "dotted", "01:02:06:00", "Version 1.2.6.0", MAPPED, "decimal dotted"),
    ])
    b.row(c, "multi-model certificate in plain English: model 2 (E470-PP) via registry name, "
             "'1.3' and 'Version 1.2.6.0': MAPPED", listing=1)
    c = b.add("multi", "GSME", [
        L("10:A2", "Sensus UK Systems Ltd", "name+code", f"iConA-G{n}", f"03:1{n}", "hex",
          (1, n), "underscore", f"03:01:00:0{n}")
        for n in range(1, 5)
    ])
    b.row(c, "multi-model certificate (4 models, all hex): the row matches model 4: MATCH",
          listing=3)

    # Certificate ID written differently in the CPL.
    c = b.add("kv", "GSME", [L("10:57", "Elster Metering Limited", "name+code", "BK-G6E", "04:06",
                               "image-type", (1, 2), "underscore", "02:00:0C:01")],
              certificate_id="ZIG17123SE0456")
    b.row(c, "CPL writes the certificate ID as 'zig 17-123 se0456' (case, spaces, dashes); it "
             "must still link to ZIG17123SE0456", cpl_certificate_id="zig 17-123 se0456")

    # Broken documents.
    c = b.add("kv", "ESME", [L("10:84", "Secure Electrans Ltd", "name+code", "Liberty 200",
                               "05:02", "image-type", (1, 0), "underscore", "01:02:00:00")],
              certificate_id="ZIG19SE0913", file="broken_truncated_ZIG19SE0913.pdf",
              broken="truncated")
    b.row(c, "certificate PDF is truncated (file named after its ID): certificate found, "
             "unreadable: ERROR", overall="ERROR")
    c = b.add("kv", "GSME", [L("10:ED", "Genus Power Infrastructures Ltd", "name+code",
                               "GSM-G1", "02:10", "image-type", (1, 0), "underscore",
                               "01:00:00:01")],
              certificate_id="ZIG19SE0914", file="not_really.pdf", broken="html")
    b.row(c, "ZIG19SE0914 is only inside not_really.pdf, an HTML page (ERROR in certificates.csv)"
             "; nothing readable carries the ID: NO_CERTIFICATE", overall="NO_CERTIFICATE")

    # More forms.
    c = b.add("stacked", "ESME", [L("10:ED", "Genus Power Infrastructures Ltd", "name+code",
                                    "GSM-1P", "02:01", "image-type", (1, 1), "underscore",
                                    "0C:00:0A:1F", "0c:00:0a:1f", MATCH, "hex lower-case")])
    b.row(c, "certificate prints lower-case hex 0c:00:0a:1f (case normalised): MATCH")
    c = b.add("twocol", "GSME", [L("10:28", "Itron Metering Solutions UK Ltd", "name+code",
                                   "Intelis G3", "01:04", "image-type", (1, 2), "words",
                                   "00:01:00:0B")])
    b.row(c, "certificate 'Version 1 Revision 2', CPL revision 03: hardware MISMATCH",
          hw_revision="03")
    c = b.add("table", "ESME", [L("10:84", "Secure Electrans Ltd", "name+code", "Liberty 300",
                                  "05:03", "image-type", (1, 1), "underscore", "01:03:00:00")])
    b.row(c, "certificate shows Secure Electrans (10:84), CPL says 10:86 (Toshiba): MISMATCH",
          manufacturer="10:86")
    c = b.add("twocol", "HCALCS", [L("12:22", "Hildebrand Technology Limited", "name",
                                     "Glow ALCS 2", "00:52", "name+hex", (1, 1), "underscore",
                                     "00:00:04:1F", "00 00 04 1F", MATCH, "hex spaced")])
    b.row(c, "registry company name; firmware printed '00 00 04 1F' (space separators): MATCH")
    c = b.add("prose", "ESME", [L("10:6C", "EDMI Ltd", "name+code", "ES-30", "01:30",
                                  "image-type", (1, 0), "underscore", "10:20:30:40",
                                  "Version 10.20.30.40", MAPPED, "bcd dotted")])
    b.row(c, "'Version 10.20.30.40' maps two ways: BCD 10:20:30:40 (the CPL value) and hex "
             "0A:14:1E:28; the CPL value is a candidate: MAPPED")


# --------------------------------------------------------------------------- random certificates

_MODEL_STEMS = ("SM", "ES", "GS", "CH", "PX", "HC", "MX", "UT")


def _random_firmware(rng: random.Random) -> tuple[str, str, str, str]:
    """(CPL hex, printed text, verdict, form) for a firmware version printed some common way."""
    shape = rng.randrange(7)
    if shape == 0:
        octets = [rng.randrange(256) for _ in range(4)]
        return _hexcode(_join(octets), 4), _hexcode(_join(octets), 4), MATCH, "hex"
    if shape == 1:
        octets = [rng.randrange(256) for _ in range(4)]
        return _hexcode(_join(octets), 4), f"0x{_join(octets):08X}", MATCH, "0x"
    if shape == 2:
        octets = [rng.randrange(1, 40), rng.randrange(20), rng.randrange(1, 20), rng.randrange(99)]
        text = f"{octets[0]}.{octets[1]} (Stack {octets[2]}.{octets[3]})"
        return _hexcode(_join(octets), 4), text, MAPPED, "decimal app-stack"
    if shape == 3:
        octets = [rng.randrange(10) for _ in range(4)]
        return _hexcode(_join(octets), 4), "Version " + ".".join(map(str, octets)), MAPPED, (
            "decimal dotted"
        )
    if shape == 4:
        n = rng.randrange(1, 250)
        return _hexcode(n, 4), f"v{n}", MAPPED, "decimal right-aligned"
    if shape == 5:
        a, b = rng.randrange(1, 16), rng.randrange(256)
        while not re.search(r"[A-F]", f"{b:02X}"):  # a hex letter makes the hex reading certain
            b = rng.randrange(256)
        return _hexcode(a << 8 | b, 4), f"{a:X}.{b:02X} Build String", MAPPED, "hex right-aligned"
    digits = [rng.randrange(10) for _ in range(4)]
    app, build = rng.randrange(10, 99), rng.randrange(10)
    text = f"{app}.{build} (Stack {'.'.join(map(str, digits))})"
    cpl = f"{app:02d}:{build:02d}:{digits[0]}{digits[1]}:{digits[2]}{digits[3]}"
    return cpl, text, MAPPED, "bcd app-stack"


def _join(octets: Sequence[int]) -> int:
    number = 0
    for octet in octets:
        number = number << 8 | octet
    return number


def _random_case(b: _Builder) -> None:
    rng = b.rng
    layout = rng.choice(LAYOUTS)
    count = rng.randint(2, 3) if layout == "multi" else 1
    code = rng.choice(sorted(MANUFACTURERS))
    company = rng.choice(MANUFACTURERS[code][1:])
    company_form = rng.choice(("name+code", "name+code", "code", "name"))
    listings = []
    used: set[str] = set()
    stem = rng.choice(_MODEL_STEMS)
    for _ in range(count):
        image_type = _hexcode(rng.randrange(0xFFC0), 2)
        while image_type in used:
            image_type = _hexcode(rng.randrange(0xFFC0), 2)
        used.add(image_type)
        firmware, text, status, form = _random_firmware(rng)
        hardware = (rng.randrange(1, 10), rng.randrange(10))
        listings.append(
            b.listing(code, company, company_form, f"{stem}-{rng.randint(10, 999)}", image_type,
                      rng.choice(("image-type", "name+hex", "hex", "0x")), hardware,
                      rng.choice(("underscore", "underscore", "dotted", "words")), firmware,
                      text, status, form)
        )
    spec = b.add(layout, rng.choice(sorted(DEVICE_TYPES)), listings)
    which = rng.randrange(count)
    roll = rng.random()
    if roll < 0.8:
        b.row(spec, f"random certificate, listing {which + 1}: every field backed", listing=which)
    elif roll < 0.9:
        fw = spec.listings[which].firmware_version
        last = (int(fw[-2:], 16) + 1) % 256
        b.row(spec, "random certificate with the firmware's last octet changed: MISMATCH",
              listing=which, firmware=f"{fw[:-2]}{last:02X}")
    else:
        other = _hexcode(rng.randrange(0xFFC0), 2)
        while other in used:
            other = _hexcode(rng.randrange(0xFFC0), 2)
        b.row(spec, "random certificate with a model on no listing: MISMATCH", listing=which,
              model=other)


def build_corpus(seed: int = DEFAULT_SEED, count: int | None = None) -> Corpus:
    """The certificates and CPL rows for a seed; no files written.

    `count` is the number of certificate documents: fewer than the audit cases drops the later
    cases, more adds random certificates.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible samples, not security
    builder = _Builder(rng)
    _audit_cases(builder)
    if count is not None and count < len(builder.certificates):
        keep = {spec.certificate_id for spec in builder.certificates[:count]}
        builder.certificates = builder.certificates[:count]
        builder.rows = [
            row for row in builder.rows
            if _certificate_key(row.values["ZigBee Certificate ID"]) in
            {_certificate_key(k) for k in keep}
            or row.expected["overall_status"] == "NO_CERTIFICATE"
        ]
        for number, row in enumerate(builder.rows, start=1):
            row.expected["submission_row"] = str(number)
    while count is not None and len(builder.certificates) < count:
        _random_case(builder)
    return Corpus(seed=seed, certificates=builder.certificates, rows=builder.rows)


def _certificate_key(certificate_id: str) -> str:
    return re.sub(r"[^0-9A-Z]+", "", certificate_id.upper())


# --------------------------------------------------------------------------- drawing


class _Page:
    """A reportlab canvas with the certificate's style and a few drawing helpers."""

    def __init__(self, canvas: Canvas, spec: CertificateSpec) -> None:
        self.c = canvas
        self.spec = spec
        self.st = spec.style
        self.left = self.st.margin
        self.right = PAGE_W - self.st.margin
        self.width = self.right - self.left

    def fit(self, text: str, font: str, size: float, width: float) -> float:
        """The largest size <= `size` at which `text` fits `width` (values never wrap)."""
        while size > 5 and stringWidth(text, font, size) > width:
            size -= 0.25
        return size

    def text(self, x: float, y: float, text: str, bold: bool = False, size: float | None = None,
             width: float | None = None) -> None:
        font = self.st.bold if bold else self.st.regular
        size = size or self.st.size
        if width is not None:
            size = self.fit(text, font, size, width)
        self.c.setFont(font, size)
        self.c.drawString(x, y, text)

    def centred(self, y: float, text: str, bold: bool = False, size: float | None = None) -> None:
        font = self.st.bold if bold else self.st.regular
        size = self.fit(text, font, size or self.st.size, self.width)
        self.c.setFont(font, size)
        self.c.drawCentredString(PAGE_W / 2, y, text)

    def label(self, key: str) -> str:
        return self.st.labels[key]

    def head_values(self) -> list[tuple[str, str]]:
        spec = self.spec
        return [
            (self.label("certificate_id"), spec.certificate_id),
            (self.label("certificate_date"), spec.date_text),
            (self.label("device_type"), spec.device_type),
        ]

    def listing_values(self, listing: Listing) -> list[tuple[str, str]]:
        return [(self.label(k), listing.text(k)) for k in LISTING_KEYS if listing.text(k)]

    def header(self) -> float:
        """Logo, title, profile line and a rule; returns the y below them."""
        st, c = self.st, self.c
        top = PAGE_H - st.margin
        c.setLineWidth(1.2)  # the logo is drawn, not text, so it stays out of the text layer
        c.circle(self.left + 14, top - 10, 14, stroke=1, fill=0)
        c.setLineWidth(2)
        path = c.beginPath()
        path.moveTo(self.left + 7, top - 3)
        path.lineTo(self.left + 21, top - 3)
        path.lineTo(self.left + 7, top - 17)
        path.lineTo(self.left + 21, top - 17)
        c.drawPath(path, stroke=1, fill=0)
        self.centred(top - 20, st.title, bold=True, size=st.size + 8)
        self.centred(top - 40, "Zigbee Smart Energy 1.4 \u2014 GB Smart Metering Profile",
                     size=st.size - 0.5)
        c.setLineWidth(0.8)
        c.line(self.left, top - 52, self.right, top - 52)
        return top - 52 - 2.4 * st.size

    def paragraph(self, y: float, words: Sequence[str], size: float | None = None) -> float:
        """Greedy line filling; each item of `words` is never split. Returns the y below."""
        size = size or self.st.size
        font = self.st.regular
        widest = max(stringWidth(w, font, size) for w in words)
        if widest > self.width:
            size = self.fit(max(words, key=lambda w: stringWidth(w, font, size)), font, size,
                            self.width)
        lines: list[str] = []
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if stringWidth(candidate, font, size) <= self.width:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        self.c.setFont(font, size)
        for text in lines:
            self.c.drawString(self.left, y, text)
            y -= size * 1.45
        return y

    def intro(self, y: float) -> float:
        words = (
            "The product identified below has completed Zigbee Smart Energy certification "
            "testing against the Zigbee Smart Energy 1.4 profile and the GB Smart Metering "
            "requirements, and has met the conformance criteria."
        ).split()
        return self.paragraph(y, words, size=self.st.size - 1) - self.st.size * 0.8

    def footer(self) -> None:
        st, c = self.st, self.c
        y = st.margin + 70
        self.text(self.left, y + 28, f"Test house: {st.test_house}", size=st.size - 1.5)
        c.setLineWidth(1)
        path = c.beginPath()
        path.moveTo(self.left + 4, y + 6)
        path.curveTo(self.left + 30, y + 22, self.left + 40, y - 6, self.left + 70, y + 10)
        path.curveTo(self.left + 90, y + 20, self.left + 100, y, self.left + 130, y + 8)
        c.drawPath(path, stroke=1, fill=0)
        c.setLineWidth(0.5)
        c.line(self.left, y, self.left + 200, y)
        self.text(self.left, y - 12, f"{st.signatory}, Authorised Signatory", size=st.size - 2)
        self.text(self.left, y - 24, "For and on behalf of the Zigbee Alliance", size=st.size - 2)
        self.centred(st.margin, "Zigbee Alliance, 508 Second Street, Suite 206, Davis, CA 95616, "
                     "USA \u2014 Page 1 of 1", size=st.size - 3)

    def grid(self, x: float, top: float, widths: Sequence[float], height: float) -> None:
        """One ruled row of cells."""
        c = self.c
        c.setLineWidth(0.7)
        c.rect(x, top - height, sum(widths), height, stroke=1, fill=0)
        edge = x
        for w in widths[:-1]:
            edge += w
            c.line(edge, top, edge, top - height)


def _kv_label(label: str) -> str:
    return label.rstrip(".") + ":"


def _draw_kv(p: _Page) -> None:
    st = p.st
    y = p.intro(p.header())
    rows = p.head_values() + p.listing_values(p.spec.listings[0])
    if st.variant == 1:  # date at the end, as some test houses print it
        rows = rows[:1] + rows[2:] + rows[1:2]
    tab = max(stringWidth(_kv_label(label), st.bold, st.size) for label, _ in rows) + 14
    for label, value in rows:
        if st.inline:
            p.text(p.left, y, f"{_kv_label(label)} {value}", width=p.width)
        else:
            p.text(p.left, y, _kv_label(label), bold=True)
            p.text(p.left + tab, y, value, width=p.width - tab)
        y -= st.size * 2.0
    y -= st.size
    p.paragraph(y, ("This certificate applies only to the product version identified above. "
                    "Any change to the product may require re-certification.").split(),
                size=st.size - 1.5)
    p.footer()


def _draw_table(p: _Page) -> None:
    st = p.st
    top = p.intro(p.header()) + st.size * 0.6
    cells = p.head_values() + p.listing_values(p.spec.listings[0])
    height = st.size * 3.0
    per_row = st.columns
    for start in range(0, len(cells), per_row):
        chunk = cells[start : start + per_row]
        natural = [
            max(stringWidth(label, st.bold, st.size - 2.5), stringWidth(value, st.regular, st.size))
            + 14
            for label, value in chunk
        ]
        widths = [w * p.width / sum(natural) for w in natural]
        p.grid(p.left, top, widths, height)
        x = p.left
        for (label, value), w in zip(chunk, widths, strict=True):
            p.text(x + 5, top - st.size * 1.05, label, bold=True, size=st.size - 2.5,
                   width=w - 10)
            p.text(x + 5, top - st.size * 2.35, value, width=w - 10)
            x += w
        top -= height
    p.paragraph(top - st.size * 2, ("Certified under the Zigbee Alliance certification "
                                     "programme.").split(), size=st.size - 1.5)
    p.footer()


def _draw_twocol(p: _Page) -> None:
    st = p.st
    top = p.intro(p.header()) + st.size * 0.6
    rows = p.head_values() + p.listing_values(p.spec.listings[0])
    label_w = max(stringWidth(label, st.bold, st.size) for label, _ in rows) + 16
    height = st.size * 2.0
    for label, value in rows:
        p.grid(p.left, top, [label_w, p.width - label_w], height)
        p.text(p.left + 6, top - st.size * 1.35, label, bold=True)
        p.text(p.left + label_w + 6, top - st.size * 1.35, value, width=p.width - label_w - 12)
        top -= height
    p.footer()


def _draw_stacked(p: _Page) -> None:
    st = p.st
    y = p.intro(p.header())
    for label, value in p.head_values() + p.listing_values(p.spec.listings[0]):
        p.text(p.left, y, label, bold=True, size=st.size - 1.5)
        p.text(p.left + 12, y - st.size * 1.25, value, width=p.width - 12)
        y -= st.size * 3.0
    p.footer()


_PROSE = (
    "This is to certify that the {device_type_label} {device_type} manufactured by {manufacturer}, "
    "model number {model}, hardware version {hardware_version} and firmware version "
    "{firmware_version}, has been tested by {test_house} and found to conform to the Zigbee Smart "
    "Energy 1.4 profile for GB smart metering. Certificate No. {certificate_id} issued on "
    "{certificate_date}.",
    "We hereby certify that the product model {model} manufactured by {manufacturer}, of device "
    "type {device_type}, with hardware revision {hardware_version} and software version "
    "{firmware_version}, has successfully completed Zigbee certification testing at {test_house}. "
    "The product is listed under certificate number {certificate_id}, certified on "
    "{certificate_date}.",
    "Zigbee certification is granted to the product manufactured by {manufacturer}, model "
    "identification {model}, hw version {hardware_version}, application firmware "
    "{firmware_version}, of the {device_type_label} {device_type}. Certification ID "
    "{certificate_id} issued on {certificate_date}, after testing by {test_house}.",
)


def _draw_prose(p: _Page) -> None:
    st, spec = p.st, p.spec
    listing = spec.listings[0]
    if not listing.firmware_text:
        raise ValueError("the prose layout cannot leave out a field")
    values = {
        "device_type_label": "Type of Device",
        "device_type": spec.device_type,
        "manufacturer": listing.manufacturer_text,
        "model": listing.model_text,
        "hardware_version": listing.hardware_text,
        "firmware_version": listing.firmware_text,
        "test_house": st.test_house,
        "certificate_id": spec.certificate_id,
        "certificate_date": spec.date_text,
    }
    y = p.header() - st.size
    p.centred(y, "CERTIFICATE OF ZIGBEE COMPLIANCE", bold=True, size=st.size + 2)
    y -= st.size * 3
    words: list[str] = []
    for word in _PROSE[st.variant % len(_PROSE)].split(" "):
        match = re.fullmatch(r"(.*)\{(\w+)\}(.*)", word)
        if match:  # a value, with any punctuation around it, is one unbreakable item
            words.append(match.group(1) + values[match.group(2)] + match.group(3))
        else:
            words.append(word)
    y = p.paragraph(y, words, size=st.size + 0.5) - st.size
    p.paragraph(y, ("This certificate applies only to the product identified in this "
                    "statement.").split(), size=st.size - 1.5)
    p.footer()


def _draw_multi(p: _Page) -> None:
    st, spec = p.st, p.spec
    y = p.header()
    for label, value in p.head_values():
        p.text(p.left, y, f"{_kv_label(label)} {value}", width=p.width)
        y -= st.size * 1.8
    y -= st.size * 0.4
    p.paragraph(y, (f"This certificate covers the following {len(spec.listings)} device models "
                    "of the same family:").split(), size=st.size - 1)
    top = y - st.size * 1.6
    header = [p.label(k) for k in LISTING_KEYS]
    body = [[listing.text(k) for k in LISTING_KEYS] for listing in spec.listings]
    size = st.size - 1
    natural = [
        max([stringWidth(header[i], st.bold, size)]
            + [stringWidth(r[i], st.regular, size) for r in body]) + 12
        for i in range(len(LISTING_KEYS))
    ]
    scale = p.width / sum(natural)
    widths = [w * scale for w in natural]
    height = size * 2.1
    p.grid(p.left, top, widths, height)
    x = p.left
    for text, w in zip(header, widths, strict=True):
        p.text(x + 5, top - size * 1.4, text, bold=True, size=size, width=w - 10)
        x += w
    top -= height
    for row in body:
        p.grid(p.left, top, widths, height)
        x = p.left
        for text, w in zip(row, widths, strict=True):
            p.text(x + 5, top - size * 1.4, text, size=size, width=w - 10)
            x += w
        top -= height
    p.footer()


_DRAW = {
    "kv": _draw_kv,
    "table": _draw_table,
    "prose": _draw_prose,
    "multi": _draw_multi,
    "twocol": _draw_twocol,
    "stacked": _draw_stacked,
}


def make_certificate(spec: CertificateSpec, layout: str, path: str | Path | BinaryIO) -> None:
    """Write `spec` as a one-page born-digital PDF in `layout` (byte-identical for a spec)."""
    if layout not in _DRAW:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if layout != "multi" and len(spec.listings) != 1:
        raise ValueError(f"layout {layout!r} shows one device model; use 'multi'")
    target = str(path) if isinstance(path, Path) else path
    canvas = Canvas(target, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"Zigbee Certificate {spec.certificate_id}")
    canvas.setAuthor("Zigbee Alliance")
    canvas.setSubject("Zigbee Smart Energy certification")
    _DRAW[layout](_Page(canvas, spec))
    canvas.showPage()
    canvas.save()


def certificate_bytes(spec: CertificateSpec, layout: str | None = None) -> bytes:
    buffer = io.BytesIO()
    make_certificate(spec, layout or spec.layout, buffer)
    return buffer.getvalue()


def _broken_bytes(spec: CertificateSpec) -> bytes:
    if spec.broken == "truncated":
        # Cut inside the compressed page content, before the cross-reference table and trailer:
        # a download that stopped part-way.
        whole = certificate_bytes(spec)
        return whole[: len(whole) * 2 // 5]
    if spec.broken == "html":
        return (
            "<!DOCTYPE html>\n<html><head><title>Certificate download</title></head>\n<body>\n"
            f"<h1>Session expired</h1>\n<p>Please sign in again to download certificate "
            f"{spec.certificate_id}.</p>\n</body></html>\n"
        ).encode()
    raise ValueError(spec.broken)


# --------------------------------------------------------------------------- truth and CPL


def truth_entry(spec: CertificateSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": spec.file,
        "layout": spec.layout,
        "certificate_id": spec.certificate_id,
        "certificate_date": spec.certificate_date,
        "certificate_date_text": spec.date_text,
        "device_type": spec.device_type,
        "device_type_code": spec.device_code,
        "pages": 1,
        "broken": spec.broken,
        "listings": [],
        "style": asdict(spec.style),
    }
    for listing in spec.listings:
        entry["listings"].append({
            "manufacturer": listing.manufacturer_text,
            "model": listing.model_text,
            "hardware_version": listing.hardware_text,
            "firmware_version": listing.firmware_text,
            "cpl": {
                "manufacturer_identifier": listing.manufacturer_identifier,
                "model_identifier": listing.model_identifier,
                "hardware_version.version": listing.hardware_version_version,
                "hardware_version.revision": listing.hardware_version_revision,
                "firmware_version": listing.firmware_version,
            },
            "status": dict(listing.status),
            "form": dict(listing.form),
        })
    return entry


def remove_previous(folder: Path, listing: str = "certificates", documents: Path | None = None) -> None:
    """Delete the documents a previous run recorded in `folder`/truth.json under `listing` (and
    only those); they lie in `documents`, by default `folder` itself."""
    truth = folder / "truth.json"
    if not truth.is_file():
        return
    try:
        entries = json.loads(truth.read_text(encoding="utf-8")).get(listing, [])
    except (ValueError, AttributeError):
        return
    for entry in entries:
        name = str(entry.get("file", ""))
        if name and "/" not in name and not name.startswith("."):
            ((documents or folder) / name).unlink(missing_ok=True)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_cpl(rows: Sequence[CplRow | dict[str, str]], csv_path: str | Path,
              xlsx_path: str | Path) -> None:
    """The CPL submission as CSV and XLSX; XLSX cells are text so `00:01` and `0012` survive."""
    from openpyxl import Workbook

    records = [r.values if isinstance(r, CplRow) else r for r in rows]
    _write_csv(Path(csv_path), CPL_COLUMNS, records)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "CPL Submission"
    sheet.append(list(CPL_COLUMNS))
    for record in records:
        sheet.append([record.get(column, "") for column in CPL_COLUMNS])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"
            cell.number_format = "@"
    for letter, column in zip("ABCDEFGHIJK", CPL_COLUMNS, strict=True):
        sheet.column_dimensions[letter].width = max(14, len(column) + 2)
    workbook.properties.creator = "samples.generate"
    workbook.properties.created = dt.datetime(2018, 2, 1)
    workbook.properties.modified = dt.datetime(2018, 2, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _normalise_zip(buffer.getvalue(), Path(xlsx_path))


def _normalise_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip with fixed member times so the same rows give the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(2018, 2, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2018-02-01T00:00:00Z",
                              data)
            target.writestr(member, data)
    path.write_bytes(out.getvalue())


def write_manufacturers(path: Path) -> None:
    """A registry (`code,name,aliases`) of the companies the samples print without a code."""
    rows = [
        {"code": code, "name": names[0], "aliases": ";".join(names[1:])}
        for code, names in sorted(MANUFACTURERS.items())
    ]
    _write_csv(path, ("code", "name", "aliases"), rows)


def generate_corpus(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    count: int | None = None,
    cpl_dir: str | Path | None = None,
) -> list[CertificateSpec]:
    """Write the certificates and truth.json into `out_dir`; the CPL files into `cpl_dir` if given.

    Files a previous run listed in `out_dir`/truth.json are removed first, so the folder holds
    exactly this corpus; nothing else there is touched.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_previous(out)
    corpus = build_corpus(seed, count)
    for spec in corpus.certificates:
        data = _broken_bytes(spec) if spec.broken else certificate_bytes(spec)
        (out / spec.file).write_bytes(data)
    _write_json(out / "truth.json", {
        "generator": "samples.generate",
        "seed": seed,
        "count": len(corpus.certificates),
        "layouts": list(LAYOUTS),
        "certificates": [truth_entry(spec) for spec in corpus.certificates],
    })
    if cpl_dir is not None:
        target = Path(cpl_dir)
        target.mkdir(parents=True, exist_ok=True)
        write_cpl(corpus.rows, target / "cpl_submission.csv", target / "cpl_submission.xlsx")
        _write_csv(target / "expected.csv", EXPECTED_COLUMNS, [r.expected for r in corpus.rows])
        write_manufacturers(target / "manufacturers.csv")
    return corpus.certificates


# --------------------------------------------------------------------------- scanned variants

SCAN_FORMATS = ("pdf", "png", "jpeg", "tiff")
_FIXED_DATE = time.struct_time((2018, 2, 1, 0, 0, 0, 3, 32, 0))


def render_page(spec: CertificateSpec, layout: str, dpi: int) -> Any:
    """The born-digital certificate as a greyscale PIL image at `dpi`."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(certificate_bytes(spec, layout))
    try:
        page = pdf[0]
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        page.close()
    finally:
        pdf.close()
    return image


def _scan_effects(image: Any, rotation_deg: float, noise: float, blur: float, seed: int) -> Any:
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    image = image.point(lambda v: int(v * 0.9 + 14))  # paper is not white, toner not black
    image = image.rotate(rotation_deg, resample=Image.Resampling.BICUBIC, expand=False,
                         fillcolor=242)
    pixels = np.asarray(image, dtype=np.float32)
    if noise:  # sensor noise, then dust specks
        pixels = pixels + rng.normal(0.0, noise, pixels.shape)
        specks = int(pixels.size * noise / 400_000)
        ys = rng.integers(0, pixels.shape[0] - 2, specks)
        xs = rng.integers(0, pixels.shape[1] - 2, specks)
        for dy in (0, 1):
            for dx in (0, 1):
                pixels[ys + dy, xs + dx] = rng.uniform(30, 120, specks)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    if blur:  # optics: applied last, so it also softens the noise as a real scanner does
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def make_scanned(
    spec: CertificateSpec,
    layout: str,
    path: str | Path,
    fmt: str,
    dpi: int,
    rotation_deg: float,
    noise: float,
    blur: float,
    seed: int,
    back_page: bool = False,
) -> dict[str, Any]:
    """A scan of the certificate: rendered at `dpi`, rotated, blurred, noisy; image only.

    fmt: "pdf" (one image covering an A4 page, no text layer), "png", "jpeg" or "tiff" (bilevel
    Group 4, multi-page when `back_page` adds the blank back of the sheet). The dpi is recorded
    in every format. Returns the scan's truth fields.
    """
    from PIL import Image

    if fmt not in SCAN_FORMATS:
        raise ValueError(f"unknown scan format {fmt!r}; known: {', '.join(SCAN_FORMATS)}")
    image = _scan_effects(render_page(spec, layout, dpi), rotation_deg, noise, blur, seed)
    target = Path(path)
    pages = 1
    if fmt == "pdf":
        image.save(target, "PDF", resolution=float(dpi), quality=50, title=target.stem,
                   creationDate=_FIXED_DATE, modDate=_FIXED_DATE, producer="samples.generate")
    elif fmt == "png":
        image.save(target, "PNG", dpi=(dpi, dpi), optimize=True)
    elif fmt == "jpeg":
        image.save(target, "JPEG", dpi=(dpi, dpi), quality=55)
    else:
        bilevel = image.point(lambda v: 255 if v > 150 else 0).convert("1", dither=None)
        extra = []
        if back_page:
            blank = Image.new("L", image.size, 242)
            back = _scan_effects(blank, 0.0, noise, 0.0, seed + 1)
            extra = [back.point(lambda v: 255 if v > 150 else 0).convert("1", dither=None)]
            pages = 2
        bilevel.save(target, "TIFF", dpi=(dpi, dpi), compression="group4", save_all=True,
                     append_images=extra)
    return {
        "scanned": True,
        "format": fmt,
        "dpi": dpi,
        "rotation_deg": rotation_deg,
        "noise": noise,
        "blur": blur,
        "pages": pages,
        "size_px": list(image.size),
    }


_SCAN_PLAN = (  # (format, dpi, noise, blur): three image-only PDFs, then PNG, JPEG, TIFF
    ("pdf", 200, 6.0, 0.6),
    ("pdf", 150, 4.0, 0.0),
    ("pdf", 300, 8.0, 0.8),
    ("png", 200, 0.0, 0.5),
    ("jpeg", 200, 5.0, 0.7),
    ("tiff", 300, 3.0, 0.4),
)
SCAN_SUFFIX = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "tiff": ".tif"}


def generate_scanned(
    out_dir: str | Path,
    specs: Sequence[CertificateSpec],
    count: int,
    seed: int = DEFAULT_SEED,
    source_dir: str = "",
) -> list[dict[str, Any]]:
    """`count` scans of readable certificates, covering the layouts, with their truth.json."""
    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - reproducible samples
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_previous(out)
    readable = [s for s in specs if not s.broken]
    by_layout: dict[str, list[CertificateSpec]] = {}
    for spec in readable:
        by_layout.setdefault(spec.layout, []).append(spec)
    order = [lay for lay in ("kv", "table", "twocol", "prose", "stacked", "multi")
             if lay in by_layout]
    entries = []
    for n in range(count):
        fmt, dpi, noise, blur = _SCAN_PLAN[n % len(_SCAN_PLAN)]
        pool = by_layout[order[n % len(order)]] if order else readable
        spec = pool[rng.randrange(len(pool))]
        rotation = round(rng.uniform(0.3, 1.5) * rng.choice((-1, 1)), 2)
        name = f"scan_{n + 1:03d}_{spec.layout}{SCAN_SUFFIX[fmt]}"
        scan = make_scanned(spec, spec.layout, out / name, fmt, dpi, rotation, noise, blur,
                            seed=seed + n, back_page=(fmt == "tiff"))
        entry = truth_entry(replace(spec, file=name))
        entry.update(scan)
        entry["pages"] = scan["pages"]
        entry["source_file"] = f"{source_dir}/{spec.file}" if source_dir else spec.file
        entries.append(entry)
    _write_json(out / "truth.json", {
        "generator": "samples.generate",
        "seed": seed,
        "count": len(entries),
        "scanned": True,
        "certificates": entries,
    })
    return entries


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.generate",
        description="Write sample ZigBee certificates, a CPL submission and their ground truth.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for the certificates")
    parser.add_argument("--count", type=int, default=None,
                        help="number of certificate documents (default: the audit cases only)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scanned", type=int, default=0, metavar="N",
                        help="also write N scanned variants")
    parser.add_argument("--scanned-out", type=Path, default=None,
                        help="folder for the scans (default: OUT/scanned)")
    parser.add_argument("--cpl-out", type=Path, default=None,
                        help="folder for cpl_submission.csv/.xlsx, expected.csv and "
                             "manufacturers.csv (default: the parent of OUT)")
    args = parser.parse_args(argv)
    cpl_dir = args.cpl_out or args.out.resolve().parent
    specs = generate_corpus(args.out, seed=args.seed, count=args.count, cpl_dir=cpl_dir)
    print(f"{len(specs)} certificates -> {args.out}")
    print(f"CPL submission, expected.csv, manufacturers.csv -> {cpl_dir}")
    if args.scanned:
        scanned_out = args.scanned_out or args.out / "scanned"
        generate_scanned(scanned_out, specs, args.scanned, seed=args.seed,
                         source_dir=args.out.name)
        print(f"{args.scanned} scanned variants -> {scanned_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
