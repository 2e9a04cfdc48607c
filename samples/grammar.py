"""A layout grammar for ZigBee certificates from many test houses, and named families over it.

samples/generate.py draws six fixed layouts, and the pipeline reads those perfectly; certificates
from other test houses are not that regular. This module builds each certificate from parts a
seeded RNG picks: the test house and its letterhead, the label language(s), a synonym for each
label, the arrangement (label: value lines with or without dotted leaders, label above value, a
ruled table under fields shared by every listing, label|value boxes, prose sentences assembled
from clauses), the font family, narrow cells that make a value wrap, how manufacturer codes and
hex values are spelled, bundles and cover letters, and scan conditions. The data model, the
verdict rules (`expected_status`, `overall_of`) and the CPL writer are generate.py's, so expected
verdicts are computed the same way for both generators.

Families are recipes over the grammar, each aimed at one failure class seen on real archives:

 1 fields above a table that belong to every listing      5 scans turned 90/180/270 degrees
 2 prose in other words                                    6 bundles and cover letters
 3 manufacturer codes and hex spelled other ways           7 values wrapped in narrow cells
 4 bilingual labels                                        8 poor scans (dpi, JPEG, tint, COPY)
10 a label whose value is missing or short, the next label adjacent

DEVELOPMENT families may be looked at when writing rules. HELD_OUT families must never be used to
tune rules (not read, not run while changing rules/): they measure whether a rule written for one
surface form generalises to another of the same class. Every class has a development family and a
held-out family whose surface form differs (e.g. French labels after a slash in development, a
German column in held-out). Label synonyms are one shared table; the classes' surface forms are
split.

    python -m samples.grammar --out DIR [--families dev|held-out|all|NAME,...]
        [--per-family N] [--seed S]

writes DIR/certs/ (PDFs, and scans as .pdf/.png/.jpg/.tif), DIR/truth.json (documents,
certificates with their family and page range, CPL rows), DIR/cpl_submission.csv (+ .xlsx),
DIR/expected.csv (the columns of samples/expected.csv) and DIR/manufacturers.csv (the registry of
the company names printed without a code). A seed gives byte-identical files: reportlab runs with
invariant=1 and scans use fixed dates. Every family is always planned, in FAMILIES order, so a
subset of families gives the same documents as `all`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from samples.generate import (
    _FIXED_DATE,
    DEVICE_TYPES,
    EXPECTED_COLUMNS,
    MANUFACTURERS,
    MAPPED,
    MATCH,
    MISSING,
    MONTHS,
    SCAN_SUFFIX,
    SIGNATORIES,
    STATUS_FIELDS,
    CertificateSpec,
    CplRow,
    Listing,
    _scan_effects,
    _write_csv,
    _write_json,
    expected_status,
    overall_of,
    remove_previous,
    truth_entry,
    write_cpl,
    write_manufacturers,
)

PAGE_W, PAGE_H = A4
DEFAULT_SEED = 2021
DEFAULT_PER_FAMILY = 8
PERTURBED_SHARE = 0.25  # rows with one field changed on purpose: expected FAIL

# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class TestHouse:
    """A test house: its name, how its letterhead looks, and the address in its footer."""

    name: str
    letterhead: str  # band | centred | left-logo | boxed
    address: str


TEST_HOUSES: tuple[TestHouse, ...] = (
    TestHouse("Harwell Conformance Laboratory", "band",
              "Unit 4, Harwell Campus, Didcot OX11 0QX, United Kingdom"),
    TestHouse("Laboratoire Atlantique d'Essais Radio", "centred",
              "12 rue des Forges, 44300 Nantes, France"),
    TestHouse("Pr\u00fcfzentrum Rhein-Main GmbH", "left-logo",
              "Industriestra\u00dfe 21, 63067 Offenbach am Main, Deutschland"),
    TestHouse("Laboratorio Ib\u00e9rico de Ensayos S.L.", "boxed",
              "Calle de la Industria 8, 28823 Coslada, Espa\u00f1a"),
    TestHouse("Corrib Test and Certification Ltd", "centred",
              "Galway Business Park, Galway H91 X2YK, Ireland"),
    TestHouse("Nordic Radio Test AB", "band", "Kistag\u00e5ngen 12, 164 40 Kista, Sweden"),
)
LETTERHEADS: tuple[str, ...] = ("band", "centred", "left-logo", "boxed")

FONTS: dict[str, tuple[str, str, str]] = {  # family -> (regular, bold, italic)
    "Helvetica": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
    "Times": ("Times-Roman", "Times-Bold", "Times-Italic"),
    "Courier": ("Courier", "Courier-Bold", "Courier-Oblique"),
}

TITLES: tuple[str, ...] = (
    "Certificate of Zigbee Compliance",
    "Zigbee Smart Energy Certificate",
    "ZigBee Certified Product",
    "Zigbee Certification",
)
TITLE_TRANSLATIONS: dict[str, str] = {
    "fr": "Certificat de conformit\u00e9 Zigbee",
    "de": "Zigbee-Konformit\u00e4tszertifikat",
    "es": "Certificado de conformidad Zigbee",
}
INTROS: tuple[str, ...] = (
    "The device model identified below has been tested and found to conform to the Zigbee "
    "Smart Energy 1.4 profile and the GB Smart Metering requirements.",
    "This certificate confirms that the product described below has completed Zigbee Smart "
    "Energy certification testing.",
    "Certified under the Zigbee Alliance certification programme for GB smart metering devices.",
)

# English labels a certificate may print for each field (one shared table for every family).
LABELS: dict[str, tuple[str, ...]] = {
    "certificate_id": ("Certificate No.", "Certificate Number", "Cert. ID",
                       "Zigbee Certification ID", "Certification ID Number"),
    "certificate_date": ("Certification Date", "Date of Issue", "Issue Date",
                         "Date of Certification"),
    "device_type": ("Type of Device", "Device Type", "Physical Device Type"),
    "manufacturer": ("Manufacturer", "Company", "Applicant", "Vendor"),
    "model": ("Model", "Product", "Device Model", "Product Name", "Model Identification"),
    "hardware_version": ("Hardware Version", "HW Version", "Hardware Revision"),
    "firmware_version": ("Firmware Version", "Software Version", "FW Version",
                         "Application Version"),
}
HEAD_KEYS: tuple[str, ...] = ("certificate_id", "certificate_date", "device_type")
LISTING_KEYS: tuple[str, ...] = ("manufacturer", "model", "hardware_version", "firmware_version")

# The second language of a bilingual certificate, per field (and the code row's label).
TRANSLATIONS: dict[str, dict[str, str]] = {
    "fr": {"certificate_id": "N\u00b0 de certificat", "certificate_date": "Date de certification",
           "device_type": "Type d'appareil", "manufacturer": "Fabricant", "model": "Mod\u00e8le",
           "hardware_version": "Version mat\u00e9rielle",
           "firmware_version": "Version du micrologiciel", "manufacturer_code": "Code fabricant"},
    "de": {"certificate_id": "Zertifikatsnummer", "certificate_date": "Zertifizierungsdatum",
           "device_type": "Ger\u00e4tetyp", "manufacturer": "Hersteller", "model": "Modell",
           "hardware_version": "Hardwareversion", "firmware_version": "Firmwareversion",
           "manufacturer_code": "Herstellercode"},
    "es": {"certificate_id": "N.\u00ba de certificado",
           "certificate_date": "Fecha de certificaci\u00f3n",
           "device_type": "Tipo de dispositivo", "manufacturer": "Fabricante", "model": "Modelo",
           "hardware_version": "Versi\u00f3n de hardware",
           "firmware_version": "Versi\u00f3n de firmware",
           "manufacturer_code": "C\u00f3digo de fabricante"},
}
LANGUAGE_SETS: tuple[str, ...] = ("en", "en+fr", "en+de-column", "en+es-stacked")

# How a manufacturer code is introduced, inline or on a row of its own. Development spellings and
# held-out spellings differ on purpose (failure class 3).
CODE_LABELS_DEV: tuple[str, ...] = ("Manufacturer Code", "Mfr. Code")
CODE_LABELS_HELD_OUT: tuple[str, ...] = ("Manufacturer ID",)
INLINE_CODE: dict[str, str] = {  # code label -> template for "name + code" in one value
    "Manufacturer Code": "{name} (Manufacturer Code {code})",
    "Mfr. Code": "{name}, Mfr. Code: {code}",
    "Manufacturer ID": "{name} (Manufacturer ID: {code})",
}


def _octets(hex_value: str) -> list[str]:
    return hex_value.replace("_", ":").split(":")


# Hex spellings of a value whose canonical form is "XX:XX[:XX:XX]"; all of them show the hex.
HEX_SPELLINGS: dict[str, Callable[[str], str]] = {
    "colon": lambda v: ":".join(_octets(v)),
    "0x": lambda v: "0x" + "".join(_octets(v)),
    "spaced": lambda v: " ".join(_octets(v)),
    "dashed": lambda v: "-".join(_octets(v)),
    "h-quote": lambda v: "h'" + "".join(_octets(v)),
    "h-suffix": lambda v: "".join(_octets(v)) + "h",
}
SPELLINGS_DEV: tuple[str, ...] = ("0x", "spaced")
SPELLINGS_HELD_OUT: tuple[str, ...] = ("dashed", "h-quote", "h-suffix")

# Companies with Zigbee codes that no registry knows: printed only with their code.
CODED_COMPANIES: dict[str, str] = {
    "21:E3": "Corrib Metering Ltd",
    "7F:04": "Thornbury Sensing Ltd",
    "7C:AE": "Calder Valley Instruments Ltd",
    "78:DC": "Brecon Energy Devices Ltd",
    "8B:6D": "Solent Smart Systems plc",
    "3A:19": "Mourne Controls Ltd",
    "5E:C2": "Fenland Metering Company",
    "64:0B": "Pennine Telemetry Ltd",
}
# Registered companies a certificate may name without a code: samples/manufacturers.csv holds
# every one of these names (written next to the corpus as manufacturers.csv).
NAMED_COMPANIES: dict[str, tuple[str, ...]] = dict(MANUFACTURERS)

MODEL_STEMS: tuple[str, ...] = ("G", "E", "PPM-", "CH-", "SM", "GX-", "IHD-", "ALCS-", "MX")
DISTRACTORS: tuple[tuple[str, str], ...] = (  # rows test houses print that are not CPL fields
    ("Test Report No.", "TR-{n}"),
    ("Report Reference", "RR/{n}/A"),
    ("Zigbee Profile", "Smart Energy 1.4"),
    ("Remarks", "None"),
)

# Prose: sentences assembled from parts (failure class 2). Development and held-out use different
# frames and verbs.
PROSE_OPENINGS: tuple[str, ...] = ("This is to certify that", "We hereby certify that",
                                   "It is hereby certified that")
PROSE_SUBJECTS: tuple[str, ...] = ("the product {model}", "the device model {model}")
PROSE_DEVICE: tuple[str, ...] = (", a {device},", ", of device type {device},")
PROSE_VERBS_DEV: tuple[str, ...] = ("manufactured by", "made by")
PROSE_HARDWARE_DEV: tuple[str, ...] = ("hardware version {hw}", "hardware revision {hw}")
PROSE_FIRMWARE_DEV: tuple[str, ...] = ("running application firmware {fw}",
                                       "running FW version {fw}", "firmware version {fw}")
PROSE_TAILS: tuple[str, ...] = (
    "has been tested by {house} and found to conform to the Zigbee Smart Energy 1.4 profile.",
    "has successfully completed Zigbee certification testing at {house}.",
)
PROSE_ID_DEV: tuple[str, ...] = ("Certificate No. {id}, issued on {date}.",
                                 "Certification ID {id}; certified on {date}.")
PROSE_HELD_OUT: tuple[str, ...] = (
    "Under certificate number {id}, dated {date}, {house} confirms that the {device} {model}, "
    "produced by {mfr}, was found compliant when built on hardware {hw} and carrying software "
    "release {fw}.",
    "The {device} {model}, produced by {mfr}, in hardware revision {hw} with firmware {fw}, was "
    "examined by {house} and meets the Zigbee Smart Energy 1.4 requirements. Reference: "
    "certificate {id} of {date}.",
    "{mfr} (the applicant) submitted the device {model}, a {device}, for testing; the sample "
    "tested carried software version {fw} and hardware version {hw}. Zigbee certification {id} "
    "was granted on {date} by {house}.",
)

COVER_ENCLOSED = (
    "Please find enclosed the Zigbee Smart Energy certificate {id} for your {device} {model}. "
    "The certificate follows this letter; please check its details against your Certified "
    "Products List submission before you send it."
)
COVER_PENDING = (
    "Testing of your {device} {model} is complete. The certificate, which will carry the "
    "number {id}, will be issued separately once the final test report has been approved; "
    "this letter is not a certificate and must not be submitted as one."
)

# --------------------------------------------------------------------------- data model


@dataclass
class Look:
    """How one certificate is drawn: every choice made up front, so drawing needs no RNG."""

    house: TestHouse
    letterhead: str
    font: str  # a key of FONTS
    size: float
    margin: float
    title: str
    intro: str
    signatory: str
    labels: dict[str, str]  # field key -> English label
    arrangement: str  # a key of _ARRANGEMENTS
    languages: str = "en"  # a member of LANGUAGE_SETS
    leaders: bool = False  # kv: dotted leaders from label to value
    colon: bool = True  # kv: "Label:" rather than "Label"
    caps: bool = False  # label-above: labels in capitals
    columns: int = 1  # label-above: fields side by side
    order: tuple[str, ...] = ()  # field order of the rows (empty: the usual order)
    tight: bool = False  # rows close together (a missing value leaves two labels adjacent)
    wrap_ratio: float = 0.0  # narrow cells: this share of the widest value's width; 0: no wrap
    split_hex: bool = False  # wrapped values may break after a hex separator
    ruled: bool = True  # tables: ruled cells, else aligned columns under a header line
    split_model: bool = False  # tables: model name and Image Type in two columns
    prose: tuple[str, ...] = ()  # the chosen prose parts (one sentence frame, filled in order)
    paper: str = ""  # scans only: "" | "security" (guilloche) | "copy" (COPY watermark) | both


@dataclass
class Draft:
    """A certificate to draw: generate.py's CertificateSpec plus what only this grammar prints."""

    spec: CertificateSpec
    look: Look
    code_row: str = ""  # the manufacturer code printed on a row of its own ("" when none)
    code_label: str = ""
    blank: tuple[str, ...] = ()  # listing keys printed as a label with no value
    extras: tuple[tuple[str, str], ...] = ()  # distractor rows (label, value)


@dataclass
class Letter:
    """A cover letter from the test house: not a certificate, though it names one."""

    house: TestHouse
    letterhead: str
    font: str
    date_text: str
    addressee: str
    certificate_id: str
    model: str
    device: str
    enclosed: bool  # True: a certificate follows; False: the certificate is still pending
    signatory: str


@dataclass
class Part:
    """Pages of a document: a cover letter (1 page) or a certificate (1 or 2 pages)."""

    kind: str  # "letter" | "certificate"
    draft: Draft | None = None
    letter: Letter | None = None

    @property
    def pages(self) -> int:
        if self.draft is not None and self.draft.look.arrangement == "annex":
            return 2
        return 1


@dataclass
class Scan:
    """How a document was scanned; the scan replaces the born-digital file."""

    fmt: str  # pdf | png | jpeg | tiff
    dpi: int
    rotation: int  # 0, 90, 180, 270: clockwise quarter turns of the whole sheet
    skew: float  # degrees, on top of the turn
    quality: int  # JPEG quality (pdf and jpeg)
    noise: float
    blur: float
    tint: tuple[int, int, int] | None = None  # paper colour, None for white


@dataclass
class GrammarDocument:
    file: str  # relative to DIR/certs
    family: str
    parts: list[Part]
    scan: Scan | None = None

    @property
    def pages(self) -> int:
        return sum(p.pages for p in self.parts)

    def page_ranges(self) -> list[tuple[Part, int, int]]:
        """(part, first page, last page), 1-based, in page order."""
        out, first = [], 1
        for part in self.parts:
            out.append((part, first, first + part.pages - 1))
            first += part.pages
        return out


@dataclass
class PlannedRow:
    """A CPL row and its expected verdicts, before rows are numbered for the chosen families."""

    family: str
    document: GrammarDocument | None
    spec: CertificateSpec | None
    listing: int
    case: str
    cells: dict[str, str] = field(default_factory=dict)  # overrides of the listing's values
    perturbed: str = ""  # the field changed on purpose ("" for none)
    certificate_id: str = ""  # NO_CERTIFICATE rows: the ID cited
    base: Listing | None = None  # NO_CERTIFICATE rows: the values cited
    device_code: str = ""


@dataclass
class Plan:
    seed: int
    per_family: int
    documents: list[GrammarDocument]
    rows: list[PlannedRow]


# --------------------------------------------------------------------------- value forms

STANDARD_FIRMWARE: tuple[str, ...] = (
    "hex", "hex", "0x", "decimal app-stack", "decimal dotted", "decimal right-aligned",
    "hex right-aligned",
)


@dataclass(frozen=True)
class Forms:
    """Which value forms a family's certificates print (names of the *_value functions' forms)."""

    manufacturer: tuple[str, ...] = ("name+code", "name+code", "code", "name")
    model: tuple[str, ...] = ("image-type", "name+hex", "hex", "0x")
    hardware: tuple[str, ...] = ("underscore", "underscore", "dotted", "words")
    firmware: tuple[str, ...] = STANDARD_FIRMWARE
    spellings: tuple[str, ...] = ("colon",)  # hex spellings for the "spelled" forms
    code_labels: tuple[str, ...] = CODE_LABELS_DEV  # for "inline-code" and "code-row"
    coded_share: float = 0.35  # share of companies from CODED_COMPANIES (printed with a code)


def hexcode(number: int, octets: int) -> str:
    raw = f"{number:0{octets * 2}X}"
    return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))


def _join(octets: Sequence[int]) -> int:
    number = 0
    for octet in octets:
        number = number << 8 | octet
    return number


def firmware_value(rng: random.Random, form: str, spellings: Sequence[str]) -> tuple[str, str, str]:
    """(CPL hex, printed text, verdict for that CPL value) for a firmware version in `form`."""
    octets = [rng.randrange(256) for _ in range(4)]
    cpl = hexcode(_join(octets), 4)
    if form == "hex":
        return cpl, cpl, MATCH
    if form == "0x":
        return cpl, HEX_SPELLINGS["0x"](cpl), MATCH
    if form == "spelled":
        return cpl, HEX_SPELLINGS[rng.choice(spellings)](cpl), MATCH
    if form == "decimal app-stack":  # guidance: "12.3 (Stack 12.34)" is 0C:03:0C:22
        parts = [rng.randrange(1, 40), rng.randrange(20), rng.randrange(1, 20), rng.randrange(99)]
        text = f"{parts[0]}.{parts[1]} (Stack {parts[2]}.{parts[3]})"
        return hexcode(_join(parts), 4), text, MAPPED
    if form == "decimal dotted":
        parts = [rng.randrange(10) for _ in range(4)]
        return hexcode(_join(parts), 4), "Version " + ".".join(map(str, parts)), MAPPED
    if form == "decimal right-aligned":
        n = rng.randrange(1, 250)
        return hexcode(n, 4), f"v{n}", MAPPED
    if form == "hex right-aligned":  # guidance: "7.8D Other String" is 00:00:07:8D
        # a hex letter in the last octet makes the hex reading the only one
        a, b = rng.randrange(1, 16), rng.choice([n for n in range(256) if not f"{n:02X}".isdigit()])
        return hexcode(a << 8 | b, 4), f"{a:X}.{b:02X} Build String", MAPPED
    raise ValueError(f"unknown firmware form {form!r}")


def hardware_value(rng: random.Random, form: str) -> tuple[int, int, str, str]:
    """(version, revision, printed text, verdict) for a hardware version in `form`."""
    version, revision = rng.randrange(1, 10), rng.randrange(10)
    if form == "underscore":
        return version, revision, f"{version:02X}_{revision:02X}", MATCH
    if form == "dashed":  # hex with another separator: separators are normalised
        return version, revision, f"{version:02X}-{revision:02X}", MATCH
    if form == "dotted":
        return version, revision, f"{version}.{revision}", MAPPED
    if form == "words":
        return version, revision, f"Version {version} Revision {revision}", MAPPED
    raise ValueError(f"unknown hardware form {form!r}")


def model_value(form: str, name: str, image_type: str, spelling: str) -> str:
    """The printed model text; every form shows the Image Type, so it MATCHes."""
    spelled = HEX_SPELLINGS[spelling](image_type)
    return {
        "image-type": f"{name} (Image Type {image_type})",
        "name+hex": f"{name} ({image_type})",
        "hex": image_type,
        "0x": HEX_SPELLINGS["0x"](image_type),
        "spelled": f"{name} (Image Type {spelled})",
        "spelled-bare": spelled,
    }[form]


def manufacturer_value(form: str, code: str, name: str, code_label: str,
                       spelling: str) -> tuple[str, str, str]:
    """(printed text, verdict, code printed on a row of its own) for the manufacturer."""
    spelled = HEX_SPELLINGS[spelling](code)
    if form == "name+code":
        return f"{name} ({code})", MATCH, ""
    if form == "code":
        return code, MATCH, ""
    if form == "name":  # only registered companies are printed this way: the registry maps it
        return name, MAPPED, ""
    if form == "inline-code":
        return INLINE_CODE[code_label].format(name=name, code=spelled), MATCH, ""
    if form == "code-row":
        return name, MATCH, spelled
    raise ValueError(f"unknown manufacturer form {form!r}")


@dataclass(frozen=True)
class Company:
    code: str
    name: str  # as printed
    registry_name: str  # the CPL's Manufacturer Name
    registered: bool  # in samples/manufacturers.csv, so the name alone maps to the code


def pick_company(rng: random.Random, coded_share: float) -> Company:
    if rng.random() < coded_share:
        code = rng.choice(sorted(CODED_COMPANIES))
        return Company(code, CODED_COMPANIES[code], CODED_COMPANIES[code], False)
    code = rng.choice(sorted(NAMED_COMPANIES))
    names = NAMED_COMPANIES[code]
    return Company(code, rng.choice(names), names[0], True)


def model_name(rng: random.Random) -> str:
    stem = rng.choice(MODEL_STEMS)
    return f"{stem}{rng.randint(10, 999)}{rng.choice(('', '', 'B', 'P', 'X'))}"


# --------------------------------------------------------------------------- planning


class _Planner:
    """Plans every family in FAMILIES order; IDs are unique over the whole plan."""

    def __init__(self, seed: int, per_family: int) -> None:
        self.seed = seed
        self.per_family = per_family
        self.ids: set[str] = set()
        self.documents: list[GrammarDocument] = []
        self.rows: list[PlannedRow] = []


class _Ctx:
    """One family's planning: its own RNG (seeded by seed and name), shared ID uniqueness."""

    def __init__(self, planner: _Planner, family: str) -> None:
        self.planner = planner
        self.family = family
        self.rng = random.Random(f"{planner.seed}/{family}")  # noqa: S311 - reproducible samples
        self.count = planner.per_family
        self.documents: list[GrammarDocument] = []
        self.rows: list[PlannedRow] = []

    def certificate_id(self) -> str:
        rng = self.rng
        while True:
            year = rng.randint(17, 22)
            cid = rng.choice((
                f"ZIG{year}{rng.randint(100, 999)}SE{rng.randint(1, 9999):04d}",
                f"ZIG{year}-{rng.randint(1, 9999):04d}",
                f"ZIG{year}SE{rng.randint(1, 9999):04d}",
            ))
            if cid not in self.planner.ids:
                self.planner.ids.add(cid)
                return cid

    def date(self, certificate_id: str) -> tuple[str, str]:
        """(ISO date, the date as printed) in the certificate's year."""
        year = 2000 + int(certificate_id[3:5])
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        text = self.rng.choice((
            f"{year}-{month:02d}-{day:02d}", f"{day} {MONTHS[month - 1]} {year}",
            f"{day:02d}/{month:02d}/{year}", f"{MONTHS[month - 1]} {day}, {year}",
            f"{day:02d}.{month:02d}.{year}",
        ))
        return f"{year}-{month:02d}-{day:02d}", text

    def look(self, arrangement: str, **overrides: Any) -> Look:
        """Every grammar choice for one certificate; families override the ones they fix."""
        rng = self.rng
        house = rng.choice(TEST_HOUSES)
        order = list(HEAD_KEYS + LISTING_KEYS)
        if rng.random() < 0.3:  # date at the end
            order.append(order.pop(1))
        if rng.random() < 0.3:  # firmware before hardware
            i = order.index("hardware_version")
            order[i], order[i + 1] = order[i + 1], order[i]
        look = Look(
            house=house,
            letterhead=house.letterhead if rng.random() < 0.7 else rng.choice(LETTERHEADS),
            font=rng.choice(tuple(FONTS)), size=rng.choice((9.5, 10.0, 10.5, 11.0)),
            margin=rng.choice((50.0, 56.0, 62.0, 68.0)), title=rng.choice(TITLES),
            intro=rng.choice(INTROS), signatory=rng.choice(SIGNATORIES),
            labels={k: rng.choice(v) for k, v in LABELS.items()}, arrangement=arrangement,
            leaders=rng.random() < 0.5, colon=rng.random() < 0.7, caps=rng.random() < 0.4,
            order=tuple(order),
        )
        return replace(look, **overrides)

    def listings(self, forms: Forms, count: int) -> tuple[list[Listing], str, str]:
        """`count` listings of one company (one manufacturer form), and its code row + label."""
        rng = self.rng
        company = pick_company(rng, forms.coded_share)
        mform = rng.choice(forms.manufacturer)
        if mform == "name" and not company.registered:
            mform = "name+code"
        if mform in ("inline-code", "code-row") and company.registered:
            # only the spelled code can back these, so the verdict is MATCH, never "MAPPED by name"
            company = pick_company(rng, 1.0)
        label = rng.choice(forms.code_labels)
        mtext, mstatus, code_row = manufacturer_value(mform, company.code, company.name, label,
                                                      rng.choice(forms.spellings))
        images: list[str] = []
        while len(images) < count:
            image = hexcode(rng.randrange(0xFFC0), 2)
            if image not in images:
                images.append(image)
        listings = [self._listing(forms, company, mtext, mstatus, mform, image) for image in images]
        return listings, code_row, label if code_row else ""

    def _listing(self, forms: Forms, company: Company, mtext: str, mstatus: str, mform: str,
                 image: str) -> Listing:
        rng = self.rng
        name = model_name(rng)
        model_form, hform, fform = (rng.choice(forms.model), rng.choice(forms.hardware),
                                    rng.choice(forms.firmware))
        version, revision, htext, hstatus = hardware_value(rng, hform)
        firmware, ftext, fstatus = firmware_value(rng, fform, forms.spellings)
        return Listing(
            manufacturer_text=mtext,
            model_text=model_value(model_form, name, image, rng.choice(forms.spellings)),
            hardware_text=htext, firmware_text=ftext,
            manufacturer_identifier=company.code, model_identifier=image,
            hardware_version_version=f"{version:02X}", hardware_version_revision=f"{revision:02X}",
            firmware_version=firmware, manufacturer_name=company.registry_name, model_name=name,
            status={"manufacturer_identifier": mstatus, "model_identifier": MATCH,
                    "hardware_version": hstatus, "firmware_version": fstatus},
            form={"manufacturer": mform, "model": model_form, "hardware_version": hform,
                  "firmware_version": fform},
        )

    def draft(self, arrangement: str, count: int = 1, forms: Forms | None = None,
              **overrides: Any) -> Draft:
        """A certificate with `count` listings in `arrangement`."""
        listings, code_row, code_label = self.listings(forms or Forms(), count)
        cid = self.certificate_id()
        iso, text = self.date(cid)
        spec = CertificateSpec(file="", layout=arrangement, certificate_id=cid,
                               certificate_date=iso, date_text=text,
                               device_code=self.rng.choice(sorted(DEVICE_TYPES)),
                               listings=listings)
        return Draft(spec=spec, look=self.look(arrangement, **overrides), code_row=code_row,
                     code_label=code_label)

    def add(self, parts: list[Part], scan: Scan | None = None) -> GrammarDocument:
        """A document of `parts`, named after the family, with a CPL row per certificate."""
        number = len(self.documents) + 1
        suffix = SCAN_SUFFIX[scan.fmt] if scan else ".pdf"
        document = GrammarDocument(f"{self.family}_{number:03d}{suffix}", self.family, parts, scan)
        for part in parts:
            if part.draft is not None:
                part.draft.spec.file = document.file
                self._rows(document, part.draft)
            elif part.letter is not None and not part.letter.enclosed:
                self._pending_row(part.letter)
        self.documents.append(document)
        return document

    def _rows(self, document: GrammarDocument, draft: Draft) -> None:
        spec = draft.spec
        first = self.rng.randrange(len(spec.listings))
        chosen = [first]
        if len(spec.listings) > 1 and self.rng.random() < 0.5:
            chosen.append((first + 1) % len(spec.listings))
        for index in chosen:
            shown = spec.listings[index].status
            missing = [f for f in STATUS_FIELDS if shown[f] == MISSING]
            case = (f"listing {index + 1} of {len(spec.listings)}: "
                    + (f"{', '.join(missing)} not shown: MISSING" if missing
                       else "every field backed"))
            self.rows.append(PlannedRow(self.family, document, spec, index, case))

    def _pending_row(self, letter: Letter) -> None:
        """A CPL row citing the certificate a letter says is still to come: NO_CERTIFICATE."""
        listings, _, _ = self.listings(Forms(), 1)
        self.rows.append(PlannedRow(
            self.family, None, None, 0,
            f"only a cover letter names {letter.certificate_id} (certificate pending): "
            "NO_CERTIFICATE", certificate_id=letter.certificate_id, base=listings[0],
            device_code=self.rng.choice(sorted(DEVICE_TYPES)),
        ))

    def letter(self, model: str, device: str, enclosed: bool, certificate_id: str = "",
               house: TestHouse | None = None) -> Letter:
        """A cover letter; one that encloses a certificate comes from its test house."""
        rng = self.rng
        house = house or rng.choice(TEST_HOUSES)
        cid = certificate_id or self.certificate_id()
        return Letter(house=house, letterhead=house.letterhead, font=rng.choice(tuple(FONTS)),
                      date_text=self.date(cid)[1], addressee=pick_company(rng, 0.5).name,
                      certificate_id=cid, model=model, device=device, enclosed=enclosed,
                      signatory=rng.choice(SIGNATORIES))


# --------------------------------------------------------------------------- deliberate mismatches

_CELL_OF: dict[str, str] = {  # status field -> the CPL cell a perturbation overrides
    "manufacturer_identifier": "manufacturer",
    "model_identifier": "model",
    "hardware_version": "hw_revision",
    "firmware_version": "firmware",
}


def _changed(rng: random.Random, status_field: str, listing: Listing,
             listings: Sequence[Listing]) -> tuple[str, str]:
    """(old, new) CPL value of `status_field`; new is on no listing, so no listing backs it."""
    if status_field == "firmware_version":
        old, taken = listing.firmware_version, {item.firmware_version for item in listings}
        new, step = old, 1
        while new in taken:
            new = f"{old[:-2]}{(int(old[-2:], 16) + step) % 256:02X}"
            step += 1
        return old, new
    if status_field == "model_identifier":
        old, taken = listing.model_identifier, {item.model_identifier for item in listings}
        new = old
        while new in taken:
            new = hexcode(rng.randrange(0xFFC0), 2)
        return old, new
    if status_field == "hardware_version":
        old = listing.hardware_version_revision
        return old, f"{(int(old, 16) + 1) % 256:02X}"
    old = listing.manufacturer_identifier
    return old, rng.choice(sorted((set(CODED_COMPANIES) | set(NAMED_COMPANIES)) - {old}))


def perturb(rng: random.Random, row: PlannedRow) -> None:
    """Change one field the certificate shows (MATCH or MAPPED): expected MISMATCH, so FAIL."""
    assert row.spec is not None
    listings = row.spec.listings
    listing = listings[row.listing]
    shown = [f for f in STATUS_FIELDS if listing.status[f] in (MATCH, MAPPED)]
    status_field = rng.choice(shown)
    old, new = _changed(rng, status_field, listing, listings)
    row.cells = {_CELL_OF[status_field]: new}
    row.perturbed = status_field
    row.case = (f"listing {row.listing + 1} of {len(listings)}: CPL {status_field} changed on "
                f"purpose ({old} -> {new}): MISMATCH")


def _perturb_share(ctx: _Ctx) -> None:
    """About PERTURBED_SHARE of the family's certificate rows get one field changed."""
    eligible = [row for row in ctx.rows if row.spec is not None]
    chosen = ctx.rng.sample(range(len(eligible)), round(PERTURBED_SHARE * len(eligible)))
    for index in sorted(chosen):
        perturb(ctx.rng, eligible[index])


# --------------------------------------------------------------------------- families

TINTS_DEV: tuple[tuple[int, int, int], ...] = ((246, 236, 208), (226, 236, 250))  # cream, blue
TINTS_HELD_OUT: tuple[tuple[int, int, int], ...] = ((222, 242, 222), (248, 224, 232))  # green, pink
_BASIC = ("kv", "twocol", "label-above")


def _singles(ctx: _Ctx, arrangements: Sequence[str], forms: Forms | None = None,
             scan: Callable[[random.Random], Scan] | None = None, **look: Any) -> None:
    """One certificate per document, `ctx.count` of them."""
    for _ in range(ctx.count):
        draft = ctx.draft(ctx.rng.choice(arrangements), forms=forms, **look)
        ctx.add([Part("certificate", draft)], scan=scan(ctx.rng) if scan else None)


def _kv_leaders(ctx: _Ctx) -> None:
    _singles(ctx, ("kv",), leaders=True)


def _label_above(ctx: _Ctx) -> None:
    for _ in range(ctx.count):
        draft = ctx.draft("label-above", columns=ctx.rng.choice((1, 2)))
        ctx.add([Part("certificate", draft)])


def _shared_table(ctx: _Ctx, forms: Forms | None = None, **look: Any) -> None:
    for _ in range(ctx.count):
        draft = ctx.draft("shared-table", count=ctx.rng.randint(1, 3), forms=forms, **look)
        ctx.add([Part("certificate", draft)])


def _shared_header_table(ctx: _Ctx) -> None:
    _shared_table(ctx, ruled=True)


def _shared_header_grid(ctx: _Ctx) -> None:
    _shared_table(ctx, Forms(model=("hex",)), ruled=False, split_model=True)


def _wrapped_table(ctx: _Ctx) -> None:
    forms = Forms(manufacturer=("name+code",), model=("image-type", "name+hex"),
                  firmware=("hex", "decimal app-stack", "hex right-aligned"))
    for _ in range(ctx.count):
        draft = ctx.draft("shared-table", count=ctx.rng.randint(1, 3), forms=forms,
                          wrap_ratio=ctx.rng.choice((0.55, 0.65)), split_hex=True)
        ctx.add([Part("certificate", draft)])


_PROSE_FORMS = Forms(manufacturer=("name+code", "name+code", "name"))


def _prose_parts(ctx: _Ctx) -> None:
    """Development prose: one frame assembled from interchangeable clauses."""
    rng = ctx.rng
    for _ in range(ctx.count):
        order = rng.choice(("maker,hw,fw", "maker,fw,hw", "fw,maker,hw"))
        parts = (rng.choice(PROSE_OPENINGS), rng.choice(PROSE_SUBJECTS), rng.choice(PROSE_DEVICE),
                 rng.choice(PROSE_VERBS_DEV), rng.choice(PROSE_HARDWARE_DEV),
                 rng.choice(PROSE_FIRMWARE_DEV), rng.choice(PROSE_TAILS), rng.choice(PROSE_ID_DEV),
                 order)
        ctx.add([Part("certificate", ctx.draft("prose", forms=_PROSE_FORMS, prose=parts))])


def _prose_letter(ctx: _Ctx) -> None:
    """Held-out prose: whole sentences in other frames, verbs and clause orders."""
    for _ in range(ctx.count):
        frame = (ctx.rng.choice(PROSE_HELD_OUT),)
        ctx.add([Part("certificate", ctx.draft("prose", forms=_PROSE_FORMS, prose=frame))])


def _mfr_code_spellings(ctx: _Ctx) -> None:
    forms = Forms(manufacturer=("inline-code", "code-row"), model=("image-type", "spelled"),
                  firmware=("spelled", "spelled", "0x", "hex"), spellings=SPELLINGS_DEV,
                  code_labels=CODE_LABELS_DEV, coded_share=0.8)
    _singles(ctx, ("kv", "twocol"), forms)


def _hex_spellings_grid(ctx: _Ctx) -> None:
    forms = Forms(manufacturer=("inline-code", "code-row"), model=("spelled",),
                  hardware=("dashed", "underscore"), firmware=("spelled",),
                  spellings=SPELLINGS_HELD_OUT, code_labels=CODE_LABELS_HELD_OUT, coded_share=0.8)
    _singles(ctx, ("twocol",), forms)


def _bilingual_fr(ctx: _Ctx) -> None:
    _singles(ctx, ("kv", "twocol"), languages="en+fr")


def _stacked_es(ctx: _Ctx) -> None:
    _singles(ctx, ("label-above",), languages="en+es-stacked", columns=1)


def _bilingual_de_column(ctx: _Ctx) -> None:
    _singles(ctx, ("de-column",), languages="en+de-column")


def _bundle(ctx: _Ctx) -> None:
    """Two certificates in one PDF, one page each."""
    for _ in range(math.ceil(ctx.count / 2)):
        parts = [Part("certificate", ctx.draft(ctx.rng.choice(_BASIC))) for _ in range(2)]
        ctx.add(parts)


def _bundle_two_page(ctx: _Ctx) -> None:
    """A cover letter, then two certificates of two pages each (device table on an annex)."""
    for _ in range(math.ceil(ctx.count / 2)):
        drafts = [ctx.draft("annex", count=ctx.rng.randint(1, 2)) for _ in range(2)]
        first = drafts[0].spec
        letter = ctx.letter(first.listings[0].model_name, first.device_type, True,
                            first.certificate_id, drafts[0].look.house)
        ctx.add([Part("letter", letter=letter)] + [Part("certificate", d) for d in drafts])


def _cover_letter(ctx: _Ctx) -> None:
    """A cover letter before each certificate; and letters alone, which are not certificates."""
    for _ in range(ctx.count):
        draft = ctx.draft(ctx.rng.choice(("kv", "twocol")))
        spec = draft.spec
        letter = ctx.letter(spec.listings[0].model_name, spec.device_type, True,
                            spec.certificate_id, draft.look.house)
        ctx.add([Part("letter", letter=letter), Part("certificate", draft)])
    for _ in range(max(1, ctx.count // 4)):
        letter = ctx.letter(model_name(ctx.rng), DEVICE_TYPES[ctx.rng.choice(sorted(DEVICE_TYPES))],
                            False)
        ctx.add([Part("letter", letter=letter)])


_LONG_FORMS = Forms(manufacturer=("name+code",), model=("image-type",),
                    hardware=("words", "underscore"),
                    firmware=("decimal app-stack", "hex right-aligned", "decimal dotted"),
                    coded_share=0.2)


def _wrapped_cells(ctx: _Ctx) -> None:
    for _ in range(ctx.count):
        draft = ctx.draft("twocol", forms=_LONG_FORMS, wrap_ratio=ctx.rng.choice((0.55, 0.65)))
        ctx.add([Part("certificate", draft)])


def _scan_turned(ctx: _Ctx) -> None:
    _singles(ctx, _BASIC, scan=lambda rng: Scan(
        "pdf", 200, rng.choice((90, 180)), round(rng.uniform(-0.8, 0.8), 2), 60, 4.0, 0.5))


def _scan_sideways(ctx: _Ctx) -> None:
    _singles(ctx, _BASIC, scan=lambda rng: Scan(
        rng.choice(("png", "tiff")), 200, 270, round(rng.uniform(-0.6, 0.6), 2), 75, 3.0, 0.4))


def _scan_poor(ctx: _Ctx) -> None:
    _singles(ctx, _BASIC, scan=lambda rng: Scan(
        rng.choice(("jpeg", "pdf")), 150, 0, round(rng.uniform(0.3, 1.2) * rng.choice((-1, 1)), 2),
        rng.choice((30, 35, 40)), 7.0, 0.7, rng.choice(TINTS_DEV)))


def _scan_watermark(ctx: _Ctx) -> None:
    _singles(ctx, _BASIC, paper="security+copy", scan=lambda rng: Scan(
        rng.choice(("pdf", "png")), 200, 0, round(rng.uniform(-0.8, 0.8), 2), 60, 4.0, 0.5,
        rng.choice(TINTS_HELD_OUT)))


_SHORT_FORMS = Forms(hardware=("dotted",), firmware=("decimal right-aligned", "hex"))


def _sparse(ctx: _Ctx, arrangement: str) -> None:
    """Tight rows; most certificates leave one value out, so two labels stand adjacent."""
    rng = ctx.rng
    for _ in range(ctx.count):
        draft = ctx.draft(arrangement, forms=_SHORT_FORMS, tight=True, columns=1)
        extra = rng.choice(DISTRACTORS)
        draft.extras = ((extra[0], extra[1].format(n=rng.randint(10000, 99999))),)
        if rng.random() < 0.6:
            _leave_out(draft, rng.choice(("firmware_version", "hardware_version")))
        ctx.add([Part("certificate", draft)])


def _leave_out(draft: Draft, key: str) -> None:
    """Print `key`'s label with no value, just before the rows that follow it."""
    listing = draft.spec.listings[0]
    if key == "firmware_version":
        listing.firmware_text = ""
    else:
        listing.hardware_text = ""
    listing.status[key] = MISSING
    listing.form[key] = "absent"
    draft.blank = (key,)
    order = [k for k in draft.look.order if k != key]
    order.insert(order.index("model") + 1, key)  # right under the model row
    draft.look.order = tuple(order)


def _kv_sparse(ctx: _Ctx) -> None:
    _sparse(ctx, "kv")


def _label_above_sparse(ctx: _Ctx) -> None:
    _sparse(ctx, "label-above")


@dataclass(frozen=True)
class Family:
    """A named recipe over the grammar, for one failure class (0: layout variety only)."""

    name: str
    failure_class: int
    summary: str
    recipe: Callable[[_Ctx], None]


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("kv-leaders", 0, "label: value lines, dotted leaders, any font", _kv_leaders),
    Family("label-above", 0, "label line above its value, one or two columns", _label_above),
    Family("shared-header-table", 1, "certificate fields (manufacturer once) above a ruled "
           "device table", _shared_header_table),
    Family("shared-header-grid", 1, "fields above an unruled table; name and Image Type in "
           "separate columns", _shared_header_grid),
    Family("prose-parts", 2, "sentences from clauses: manufactured/made by, clause orders",
           _prose_parts),
    Family("prose-letter", 2, "other sentence frames: produced by, the applicant, ID first",
           _prose_letter),
    Family("mfr-code-spellings", 3, "Manufacturer Code 0x7CAE, Mfr. Code: 0x78DC, hex as "
           "0C 03 0C 22 or 0x0C030C22", _mfr_code_spellings),
    Family("hex-spellings-grid", 3, "Manufacturer ID: 8B6Dh, hex as 0C-03-0C-22, h'0C030C22, "
           "0C030C22h", _hex_spellings_grid),
    Family("bilingual-fr", 4, "English / French labels on one line", _bilingual_fr),
    Family("stacked-es", 4, "Spanish label stacked under the English one, value below",
           _stacked_es),
    Family("bilingual-de-column", 4, "English label, German label, value: three columns",
           _bilingual_de_column),
    Family("bundle", 6, "two one-page certificates in one PDF", _bundle),
    Family("cover-letter", 6, "a cover letter before the certificate; letters alone",
           _cover_letter),
    Family("bundle-two-page", 6, "cover letter + two certificates of two pages (annex table)",
           _bundle_two_page),
    Family("wrapped-cells", 7, "narrow value cells: values wrap at spaces", _wrapped_cells),
    Family("wrapped-table", 7, "narrow device-table columns: values wrap, hex breaks after a "
           "separator", _wrapped_table),
    Family("scan-turned", 5, "scans turned 90 or 180 degrees (PDF)", _scan_turned),
    Family("scan-sideways", 5, "scans turned 270 degrees (PNG, TIFF)", _scan_sideways),
    Family("scan-poor", 8, "150 dpi, JPEG quality 30-40, tinted paper", _scan_poor),
    Family("scan-watermark", 8, "security-paper guilloche and a translucent COPY watermark",
           _scan_watermark),
    Family("kv-sparse", 10, "tight label: value rows, a value missing or short",
           _kv_sparse),
    Family("label-above-sparse", 10, "label above value, a value missing: two labels adjacent",
           _label_above_sparse),
)}

# HELD_OUT families must never be used to tune rules: do not read their documents or run them
# while changing rules/ or the parser; run them only to measure. Each failure class has a
# development family and a held-out one whose surface form differs.
HELD_OUT: tuple[str, ...] = (
    "shared-header-grid", "prose-letter", "hex-spellings-grid", "bilingual-de-column",
    "bundle-two-page", "wrapped-table", "scan-sideways", "scan-watermark", "label-above-sparse",
)
DEVELOPMENT: tuple[str, ...] = (
    "kv-leaders", "label-above", "shared-header-table", "prose-parts", "mfr-code-spellings",
    "bilingual-fr", "stacked-es", "bundle", "cover-letter", "wrapped-cells", "scan-turned",
    "scan-poor", "kv-sparse",
)


def select_families(spec: str) -> list[str]:
    """`dev`, `held-out`, `all` or comma-separated names -> family names in FAMILIES order."""
    if spec == "all":
        wanted = set(FAMILIES)
    elif spec in ("dev", "development"):
        wanted = set(DEVELOPMENT)
    elif spec in ("held-out", "heldout"):
        wanted = set(HELD_OUT)
    else:
        wanted = {name.strip() for name in spec.split(",") if name.strip()}
        unknown = sorted(wanted - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown families {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    return [name for name in FAMILIES if name in wanted]


def build_plan(seed: int = DEFAULT_SEED, per_family: int = DEFAULT_PER_FAMILY) -> Plan:
    """Every family's documents and CPL rows for a seed; no files written."""
    planner = _Planner(seed, per_family)
    for name, family in FAMILIES.items():
        ctx = _Ctx(planner, name)
        family.recipe(ctx)
        _perturb_share(ctx)
        planner.documents += ctx.documents
        planner.rows += ctx.rows
    return Plan(seed, per_family, planner.documents, planner.rows)


# --------------------------------------------------------------------------- drawing

_BAND = (0.13, 0.22, 0.40)


def wrap_value(text: str, font: str, size: float, width: float, split_hex: bool) -> list[str]:
    """The lines a narrow cell shows `text` on: breaks at spaces, and (split_hex) after a hex
    separator when one piece is still too wide. A single line when it fits."""
    lines: list[str] = []
    for word in text.split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and stringWidth(candidate, font, size) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    if not split_hex:
        return lines
    out: list[str] = []
    for line in lines:
        while stringWidth(line, font, size) > width and re.search(r"[:\-_]", line[:-1]):
            cuts = [m.end() for m in re.finditer(r"[:\-_]", line[:-1])]
            fitting = [c for c in cuts if stringWidth(line[:c], font, size) <= width] or cuts[:1]
            out.append(line[: fitting[-1]])
            line = line[fitting[-1]:]
        out.append(line)
    return out


def narrow_width(values: Sequence[str], font: str, size: float, look: Look) -> float:
    """A narrow cell: `wrap_ratio` of the widest value, never narrower than its widest piece
    (a word, or with split_hex a hex octet and its separator), so values wrap but fit."""
    pieces = [p for v in values for w in v.split(" ")
              for p in (re.findall(r"[^:\-_]+[:\-_]?", w) if look.split_hex else [w]) if p]
    widest_piece = max((stringWidth(p, font, size) for p in pieces), default=20.0)
    widest = max((stringWidth(v, font, size) for v in values), default=20.0)
    return max(look.wrap_ratio * widest, widest_piece) + 2

class _Pen:
    """A reportlab canvas with one look's fonts, the page count, and a log of printed fields."""

    def __init__(self, canvas: Canvas, font: str, size: float, margin: float, paper: str) -> None:
        self.c = canvas
        self.regular, self.bold, self.italic = FONTS[font]
        self.size = size
        self.left, self.right = margin, PAGE_W - margin
        self.width = self.right - self.left
        self.margin = margin
        self.paper = paper
        self.page = 1
        self.log: list[dict[str, Any]] = []

    def font(self, style: str) -> str:
        return {"regular": self.regular, "bold": self.bold, "italic": self.italic}[style]

    def fit(self, text: str, font: str, size: float, width: float) -> float:
        while size > 5 and stringWidth(text, font, size) > width:
            size -= 0.25
        return size

    def text(self, x: float, y: float, text: str, style: str = "regular",
             size: float | None = None, width: float | None = None, align: str = "left") -> None:
        font, size = self.font(style), size or self.size
        if width is not None:
            size = self.fit(text, font, size, width)
        self.c.setFont(font, size)
        draw = {"left": self.c.drawString, "centre": self.c.drawCentredString,
                "right": self.c.drawRightString}[align]
        draw(x, y, text)

    def centred(self, y: float, text: str, style: str = "regular", size: float | None = None) -> None:
        self.text(PAGE_W / 2, y, text, style, size, self.width, align="centre")

    def paragraph(self, y: float, items: Sequence[str], size: float | None = None,
                  leading: float = 1.45) -> float:
        """Greedy line filling; no item is ever split. Returns the y below."""
        size = size or self.size
        widest = max(items, key=lambda w: stringWidth(w, self.regular, size))
        size = self.fit(widest, self.regular, size, self.width)
        lines: list[str] = []
        for item in items:
            candidate = f"{lines[-1]} {item}" if lines else item
            if lines and stringWidth(candidate, self.regular, size) <= self.width:
                lines[-1] = candidate
            else:
                lines.append(item)
        self.c.setFont(self.regular, size)
        for line in lines:
            self.c.drawString(self.left, y, line)
            y -= size * leading
        return y

    def grid(self, x: float, top: float, widths: Sequence[float], height: float) -> None:
        self.c.setLineWidth(0.7)
        self.c.rect(x, top - height, sum(widths), height, stroke=1, fill=0)
        edge = x
        for w in widths[:-1]:
            edge += w
            self.c.line(edge, top, edge, top - height)

    def record(self, key: str, label: str, value: str, lines: Sequence[str] | None = None) -> None:
        entry: dict[str, Any] = {"page": self.page, "key": key, "label": label, "value": value}
        if lines is not None and len(lines) > 1:
            entry["lines"] = list(lines)
        self.log.append(entry)

    def begin_page(self) -> None:
        if "security" in self.paper:
            _guilloche(self.c)

    def end_page(self) -> None:
        if "copy" in self.paper:
            _watermark(self.c)
        self.c.showPage()
        self.page += 1


def _guilloche(c: Canvas) -> None:
    """Security paper: fine light waves over the whole sheet (drawn, never text)."""
    c.saveState()
    c.setStrokeColorRGB(0.80, 0.80, 0.80)
    c.setLineWidth(0.35)
    for row in range(0, int(PAGE_H) + 12, 11):
        path = c.beginPath()
        path.moveTo(0, row)
        for x in range(6, int(PAGE_W) + 6, 6):
            path.lineTo(x, row + 3.5 * math.sin(x / 17.0 + row / 29.0))
        c.drawPath(path, stroke=1, fill=0)
    c.restoreState()


def _watermark(c: Canvas) -> None:
    """A translucent COPY stamped across the page, over the text."""
    c.saveState()
    c.setFillColorRGB(0.35, 0.35, 0.35, alpha=0.22)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(38)
    c.setFont("Helvetica-Bold", 150)
    c.drawCentredString(0, -50, "COPY")
    c.restoreState()


def _letterhead(pen: _Pen, house: TestHouse, style: str) -> float:
    """The test house's letterhead; returns the y below it."""
    c, top = pen.c, PAGE_H - pen.margin
    if style == "band":
        c.setFillColorRGB(*_BAND)
        c.rect(0, top - 30, PAGE_W, 58, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        pen.text(pen.left, top - 2, house.name, "bold", pen.size + 5, pen.width)
        pen.text(pen.left, top - 20, house.address, "regular", pen.size - 2.5, pen.width)
        c.setFillColorRGB(0, 0, 0)
        return top - 58
    if style == "left-logo":
        c.setLineWidth(1.5)
        c.rect(pen.left, top - 26, 30, 30, stroke=1, fill=0)
        c.line(pen.left, top - 26, pen.left + 30, top + 4)
        pen.text(pen.right, top - 4, house.name, "bold", pen.size + 3, pen.width - 40, "right")
        pen.text(pen.right, top - 19, house.address, "regular", pen.size - 3, pen.width - 40,
                 "right")
        c.setLineWidth(0.8)
        c.line(pen.left, top - 34, pen.right, top - 34)
        return top - 56
    if style == "boxed":
        c.setLineWidth(2)
        c.rect(pen.margin / 2, pen.margin / 2, PAGE_W - pen.margin, PAGE_H - pen.margin)
        c.setLineWidth(0.8)
        c.rect(pen.left, top - 40, pen.width, 44, stroke=1, fill=0)
        pen.centred(top - 14, house.name, "bold", pen.size + 4)
        pen.centred(top - 31, house.address, "regular", pen.size - 3)
        return top - 64
    pen.centred(top - 4, house.name, "bold", pen.size + 5)
    pen.centred(top - 20, house.address, "regular", pen.size - 2.5)
    c.setLineWidth(0.8)
    c.line(pen.left, top - 30, pen.right, top - 30)
    return top - 52


def _title(pen: _Pen, look: Look, y: float) -> float:
    """Title (with its translation when bilingual) and intro; returns the y below."""
    pen.centred(y, look.title, "bold", pen.size + 6)
    y -= pen.size * 1.8
    second = look.languages.partition("+")[2][:2]
    if second:
        pen.centred(y, TITLE_TRANSLATIONS[second], "italic", pen.size + 1)
        y -= pen.size * 1.8
    y -= pen.size * 0.6
    return pen.paragraph(y, look.intro.split(), pen.size - 1) - pen.size * 0.9


def _footer(pen: _Pen, look: Look, page: int, pages: int) -> None:
    c, y = pen.c, pen.margin + 62
    pen.text(pen.left, y + 26, f"Issued by {look.house.name} on behalf of the Zigbee Alliance",
             "regular", pen.size - 2, pen.width)
    c.setLineWidth(1)
    path = c.beginPath()
    path.moveTo(pen.left + 4, y + 6)
    path.curveTo(pen.left + 30, y + 22, pen.left + 40, y - 6, pen.left + 70, y + 10)
    path.curveTo(pen.left + 90, y + 20, pen.left + 100, y, pen.left + 130, y + 8)
    c.drawPath(path, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.line(pen.left, y, pen.left + 190, y)
    pen.text(pen.left, y - 12, f"{look.signatory}, Authorised Signatory", "regular", pen.size - 2)
    pen.text(pen.right, pen.margin - 12, f"Page {page} of {pages}", "regular", pen.size - 3,
             align="right")


def _label(look: Look, key: str, english: str = "") -> list[str]:
    """The label lines of a field: English, plus French after a slash or Spanish underneath."""
    en = english or look.labels.get(key, key)
    if look.languages == "en+fr" and key in TRANSLATIONS["fr"]:
        return [f"{en} / {TRANSLATIONS['fr'][key]}"]
    if look.languages == "en+es-stacked" and key in TRANSLATIONS["es"]:
        return [en, TRANSLATIONS["es"][key]]
    return [en]


@dataclass(frozen=True)
class _Row:
    key: str
    label: list[str]
    value: str


def _rows(draft: Draft, keys: Sequence[str] | None = None) -> list[_Row]:
    """The label/value rows of a one-listing certificate, in the look's order."""
    spec, look = draft.spec, draft.look
    listing = spec.listings[0]
    values = {"certificate_id": spec.certificate_id, "certificate_date": spec.date_text,
              "device_type": spec.device_type}
    values.update({k: listing.text(k) for k in LISTING_KEYS})
    rows: list[_Row] = []
    for key in keys or look.order or HEAD_KEYS + LISTING_KEYS:
        if values[key] or key in draft.blank:
            rows.append(_Row(key, _label(look, key), values[key]))
        if key == "manufacturer" and draft.code_row:
            rows.append(_Row("manufacturer_code",
                             _label(look, "manufacturer_code", draft.code_label), draft.code_row))
    for label, value in draft.extras:
        rows.append(_Row("extra", [label], value))
    return rows


def _draw_kv(pen: _Pen, draft: Draft, y: float, rows: Sequence[_Row] | None = None) -> float:
    """Label: value lines, the value at a tab stop, with or without dotted leaders."""
    look = draft.look
    rows = list(rows if rows is not None else _rows(draft))
    labels = [row.label[0] + (":" if look.colon else "") for row in rows]
    tab = max(stringWidth(t, pen.bold, pen.size) for t in labels) + (38 if look.leaders else 14)
    tab = min(tab, pen.width * 0.55)
    step = pen.size * (1.3 if look.tight else 2.0)
    dot = stringWidth(".", pen.regular, pen.size)
    for row, text in zip(rows, labels, strict=True):
        pen.text(pen.left, y, text, "bold", width=tab - 8)
        if look.leaders:
            start = pen.left + stringWidth(text, pen.bold, pen.size) + 4
            count = int((pen.left + tab - 6 - start) / dot)
            if count > 2:
                pen.text(start, y, "." * count)
        if row.value:
            pen.text(pen.left + tab, y, row.value, width=pen.width - tab)
        pen.record(row.key, " ".join(row.label), row.value)
        y -= step
    return y


def _draw_label_above(pen: _Pen, draft: Draft, y: float) -> float:
    """Each label on its own line (Spanish under English when stacked), the value below."""
    look = draft.look
    rows = _rows(draft)
    column_w = pen.width / look.columns
    gap = pen.size * (0.5 if look.tight else 1.5)
    lead = pen.size * 1.25
    for start in range(0, len(rows), look.columns):
        lowest = y
        for n, row in enumerate(rows[start : start + look.columns]):
            x, line_y = pen.left + n * column_w, y
            for i, label in enumerate(row.label):
                text = label.upper() if look.caps and i == 0 else label
                pen.text(x, line_y, text, "bold" if i == 0 else "italic", pen.size - 1.5 - i,
                         column_w - 10)
                line_y -= lead
            if row.value:
                pen.text(x + 8, line_y, row.value, width=column_w - 18)
                line_y -= lead
            pen.record(row.key, " ".join(row.label), row.value)
            lowest = min(lowest, line_y)
        y = lowest - gap
    return y


def _draw_twocol(pen: _Pen, draft: Draft, y: float) -> float:
    """A ruled label | value box; narrow value cells make long values wrap."""
    look = draft.look
    rows = _rows(draft)
    label_w = max(stringWidth(r.label[0], pen.bold, pen.size) for r in rows) + 14
    label_w = min(label_w, pen.width * 0.5)
    listing_values = [r.value for r in rows if r.key in LISTING_KEYS]
    value_w = (narrow_width(listing_values, pen.regular, pen.size, look) + 12 if look.wrap_ratio
               else pen.width - label_w)
    lead = pen.size * 1.3
    for row in rows:
        lines = (wrap_value(row.value, pen.regular, pen.size, value_w - 12, look.split_hex)
                 if look.wrap_ratio else [row.value])
        height = len(lines) * lead + pen.size * 0.8
        pen.grid(pen.left, y, [label_w, value_w], height)
        pen.text(pen.left + 6, y - pen.size * 1.3, row.label[0], "bold", width=label_w - 12)
        for i, line in enumerate(lines):
            pen.text(pen.left + label_w + 6, y - pen.size * 1.3 - i * lead, line,
                     width=value_w - 12)
        pen.record(row.key, row.label[0], row.value, lines)
        y -= height
    return y - pen.size


def _draw_de_column(pen: _Pen, draft: Draft, y: float) -> float:
    """Three ruled columns: English label, German label, value."""
    rows = _rows(draft)
    german = [TRANSLATIONS["de"].get(r.key, r.label[0]) for r in rows]
    en_w = max(stringWidth(r.label[0], pen.bold, pen.size - 0.5) for r in rows) + 12
    de_w = max(stringWidth(g, pen.italic, pen.size - 0.5) for g in german) + 12
    widths = [en_w, de_w, pen.width - en_w - de_w]
    height = pen.size * 2.0
    for row, de in zip(rows, german, strict=True):
        pen.grid(pen.left, y, widths, height)
        base = y - pen.size * 1.35
        pen.text(pen.left + 5, base, row.label[0], "bold", pen.size - 0.5, en_w - 10)
        pen.text(pen.left + en_w + 5, base, de, "italic", pen.size - 0.5, de_w - 10)
        pen.text(pen.left + en_w + de_w + 6, base, row.value, width=widths[2] - 12)
        pen.record(row.key, f"{row.label[0]} | {de}", row.value)
        y -= height
    return y - pen.size


def _table_columns(draft: Draft) -> list[tuple[str, str, list[str]]]:
    """(key, header, cell per listing) for the device table of a multi-listing certificate."""
    look, listings = draft.look, draft.spec.listings
    columns = []
    if look.split_model:
        name_header = "Model Name" if look.labels["model"] == "Product Name" else "Product Name"
        columns.append(("model_name", name_header, [item.model_name for item in listings]))
    for key in LISTING_KEYS[1:]:
        header = "Image Type" if key == "model" and look.split_model else look.labels[key]
        columns.append((key, header, [item.text(key) for item in listings]))
    return columns


def _draw_device_table(pen: _Pen, draft: Draft, top: float) -> float:
    """The device table under the shared fields: ruled, or aligned under a header rule."""
    look = draft.look
    columns = _table_columns(draft)
    size = pen.size - 0.5
    natural = [max([stringWidth(h, pen.bold, size)] + [stringWidth(c, pen.regular, size)
                                                       for c in cells]) + 14
               for _, h, cells in columns]
    widths = ([narrow_width(cells, pen.regular, size, look) + 10 for _, _, cells in columns]
              if look.wrap_ratio else [w * pen.width / sum(natural) for w in natural])
    lead = size * 1.3
    wrap = look.wrap_ratio > 0
    body = [[wrap_value(cells[i], pen.regular, size, w - 10, look.split_hex) if wrap
             else [cells[i]] for (_, _, cells), w in zip(columns, widths, strict=True)]
            for i in range(len(draft.spec.listings))]
    headings = [wrap_value(h, pen.bold, size, w - 10, False) if wrap else [h]
                for (_, h, _), w in zip(columns, widths, strict=True)]
    rows = [headings] + body
    value_of = {key: cells for key, _, cells in columns}
    for n, row in enumerate(rows):
        height = max(len(cell) for cell in row) * lead + size * 0.9
        if look.ruled:
            pen.grid(pen.left, top, widths, height)
        elif n == 0:
            pen.c.line(pen.left, top - height, pen.left + sum(widths), top - height)
        x = pen.left
        for (key, header, _), cell, w in zip(columns, row, widths, strict=True):
            for i, line in enumerate(cell):
                pen.text(x + 5, top - size * 1.35 - i * lead, line, "bold" if n == 0 else "regular",
                         size, w - 10)
            if n:
                pen.record(key, header, value_of[key][n - 1], cell)
            x += w
        top -= height
    return top - pen.size



def _draw_shared_table(pen: _Pen, draft: Draft, y: float) -> float:
    """Certificate-level fields (the manufacturer once) above the device table."""
    y = _draw_kv(pen, draft, y, _rows(draft, (*HEAD_KEYS, "manufacturer")))
    count = len(draft.spec.listings)
    words = (f"This certificate applies to the following device model{'s' if count > 1 else ''} "
             "of the manufacturer named above:").split()
    y = pen.paragraph(y - pen.size * 0.2, words, pen.size - 1) - pen.size * 0.4
    return _draw_device_table(pen, draft, y)


def _fill(template: str, values: dict[str, str]) -> list[str]:
    """Template words with {name} replaced; a value (with its punctuation) is one item."""
    items = []
    for word in template.split(" "):
        match = re.fullmatch(r"(.*?)\{(\w+)\}(.*)", word)
        if not match:
            items.append(word)
            continue
        value, after = values[match.group(2)], match.group(3)
        if value.endswith(".") and after.startswith("."):  # "S.L." ends the sentence once
            after = after[1:]
        items.append(match.group(1) + value + after)
    return items


def prose_template(look: Look) -> str:
    """The sentence(s) of a prose certificate: a held-out frame, or development clauses in order."""
    if len(look.prose) == 1:
        return look.prose[0]
    opening, subject, device, verb, hardware, firmware, tail, id_line, order = look.prose
    clauses = {"maker": f"{verb} {{mfr}}", "hw": hardware, "fw": firmware}
    chosen = [clauses[key] for key in order.split(",")]
    joined = ", ".join(chosen[:-1]) + " and " + chosen[-1]
    return f"{opening} {subject}{device} {joined}, {tail} {id_line}"


_PROSE_KEYS = {"mfr": "manufacturer", "model": "model", "hw": "hardware_version",
               "fw": "firmware_version", "id": "certificate_id", "date": "certificate_date",
               "device": "device_type"}


def _draw_prose(pen: _Pen, draft: Draft, y: float) -> float:
    spec, look = draft.spec, draft.look
    listing = spec.listings[0]
    values = {"model": listing.model_text, "device": spec.device_type,
              "mfr": listing.manufacturer_text, "hw": listing.hardware_text,
              "fw": listing.firmware_text, "house": look.house.name, "id": spec.certificate_id,
              "date": spec.date_text}
    y = pen.paragraph(y - pen.size * 0.5, _fill(prose_template(look), values), pen.size + 0.5)
    for short, key in _PROSE_KEYS.items():
        pen.record(key, "prose", values[short])
    return y - pen.size


def _draw_annex_front(pen: _Pen, draft: Draft, y: float) -> float:
    y = _draw_kv(pen, draft, y, _rows(draft, (*HEAD_KEYS, "manufacturer")))
    words = (f"The device models covered by certificate {draft.spec.certificate_id} are listed "
             "in Annex A on the next page, which forms part of this certificate.").split()
    return pen.paragraph(y - pen.size * 0.3, words, pen.size - 1)


def _draw_annex_page(pen: _Pen, draft: Draft) -> None:
    """Page 2 of a two-page certificate: the device table."""
    look = draft.look
    pen.begin_page()
    y = PAGE_H - pen.margin - pen.size
    pen.text(pen.left, y, f"Annex A to certificate {draft.spec.certificate_id}", "bold",
             pen.size + 2)
    pen.text(pen.right, y, look.house.name, "regular", pen.size - 2, align="right")
    y -= pen.size * 3
    y = pen.paragraph(y, "Certified device models (Zigbee Smart Energy 1.4):".split(), pen.size - 1)
    _draw_device_table(pen, draft, y - pen.size * 0.5)
    _footer(pen, look, 2, 2)
    pen.end_page()


_BODIES: dict[str, Callable[[_Pen, Draft, float], float]] = {
    "kv": _draw_kv,
    "label-above": _draw_label_above,
    "twocol": _draw_twocol,
    "de-column": _draw_de_column,
    "shared-table": _draw_shared_table,
    "prose": _draw_prose,
    "annex": _draw_annex_front,
}
ARRANGEMENTS: tuple[str, ...] = tuple(_BODIES)


def _draw_certificate(pen: _Pen, draft: Draft) -> None:
    look = draft.look
    pages = 2 if look.arrangement == "annex" else 1
    pen.begin_page()
    y = _title(pen, look, _letterhead(pen, look.house, look.letterhead) - pen.size * 1.2)
    y = _BODIES[look.arrangement](pen, draft, y)
    closing = ("This certificate applies only to the device models identified in it; any change "
               "to hardware or firmware may require re-certification.").split()
    pen.paragraph(y - pen.size * 0.5, closing, pen.size - 2)
    _footer(pen, look, 1, pages)
    pen.end_page()
    if pages == 2:
        _draw_annex_page(pen, draft)


def _draw_letter(pen: _Pen, letter: Letter) -> None:
    pen.begin_page()
    y = _letterhead(pen, letter.house, letter.letterhead) - pen.size * 2
    pen.text(pen.right, y, letter.date_text, align="right")
    y -= pen.size * 2.5
    for line in (letter.addressee, "Compliance and Certification", "For the attention of the "
                 "CPL submission team"):
        pen.text(pen.left, y, line)
        y -= pen.size * 1.4
    y -= pen.size * 1.5
    pen.text(pen.left, y, "Dear Sir or Madam,")
    y -= pen.size * 2.2
    pen.text(pen.left, y, f"Re: Zigbee certification of {letter.model}", "bold")
    y -= pen.size * 2.2
    body = (COVER_ENCLOSED if letter.enclosed else COVER_PENDING).format(
        id=letter.certificate_id, device=letter.device, model=letter.model)
    y = pen.paragraph(y, body.split()) - pen.size * 1.5
    for line in ("Yours faithfully,", "", letter.signatory, letter.house.name):
        pen.text(pen.left, y, line)
        y -= pen.size * 1.5
    pen.end_page()


def document_pdf(document: GrammarDocument) -> tuple[bytes, list[list[dict[str, Any]]]]:
    """The document as a born-digital PDF, and per part the fields it printed (for truth)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(Path(document.file).stem)
    canvas.setSubject("Zigbee Smart Energy certification")
    logs: list[list[dict[str, Any]]] = []
    page = 1
    for part in document.parts:
        if part.draft is not None:
            look = part.draft.look
            pen = _Pen(canvas, look.font, look.size, look.margin, look.paper)
            pen.page = page
            _draw_certificate(pen, part.draft)
        else:
            assert part.letter is not None
            pen = _Pen(canvas, part.letter.font, 10.5, 62.0, "")
            pen.page = page
            _draw_letter(pen, part.letter)
        logs.append(pen.log)
        page = pen.page
    canvas.save()
    return buffer.getvalue(), logs


# --------------------------------------------------------------------------- scans

_INK = (26, 26, 42)


def _turn(image: Any, rotation: int) -> Any:
    """Turn the sheet `rotation` degrees clockwise (exact quarter turns)."""
    from PIL import Image

    turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
             270: Image.Transpose.ROTATE_90}
    return image.transpose(turns[rotation]) if rotation else image


def scan_images(pdf: bytes, scan: Scan, seed: int) -> list[Any]:
    """Each page of the born-digital PDF as a scanner would give it back."""
    import pypdfium2 as pdfium
    from PIL import ImageOps

    images = []
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            image = page.render(scale=scan.dpi / 72).to_pil().convert("L")
            page.close()
            image = _scan_effects(image, scan.skew, scan.noise, scan.blur, seed + index)
            if scan.tint:
                image = ImageOps.colorize(image, black=_INK, white=scan.tint)
            images.append(_turn(image, scan.rotation))
    finally:
        document.close()
    return images


def save_scan(images: Sequence[Any], path: Path, scan: Scan) -> None:
    """Write the page images in the scan's format, with its dpi (and JPEG quality)."""
    first, rest = images[0], list(images[1:])
    dpi = (scan.dpi, scan.dpi)
    if scan.fmt == "pdf":
        first.save(path, "PDF", resolution=float(scan.dpi), quality=scan.quality, save_all=True,
                   append_images=rest, title=path.stem, creationDate=_FIXED_DATE,
                   modDate=_FIXED_DATE, producer="samples.grammar")
    elif scan.fmt == "tiff":
        if first.mode == "L":  # a bilevel office scan
            pages = [im.point(lambda v: 255 if v > 150 else 0).convert("1", dither=None)
                     for im in images]
            pages[0].save(path, "TIFF", dpi=dpi, compression="group4", save_all=True,
                          append_images=pages[1:])
        else:
            first.save(path, "TIFF", dpi=dpi, compression="tiff_lzw", save_all=True,
                       append_images=rest)
    elif rest:
        raise ValueError(f"{scan.fmt} holds one page; {path.name} has {len(images)}")
    elif scan.fmt == "png":
        first.save(path, "PNG", dpi=dpi)
    else:
        first.save(path, "JPEG", dpi=dpi, quality=scan.quality)


# --------------------------------------------------------------------------- truth and CPL

_CELL_COLUMNS: dict[str, str] = {
    "manufacturer": "Device_Model - manufacturer_identifier",
    "model": "Device_Model - model_identifier",
    "hw_version": "Device_Model - hardware_version.version",
    "hw_revision": "Device_Model - hardware_version.revision",
    "firmware": "Device_Model - firmware_version",
}


def _later(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()


def cpl_row(row: PlannedRow, number: int) -> CplRow:
    """The CPL cells and expected verdicts of a planned row, as generate.py computes them."""
    spec = row.spec
    source = spec.listings[row.listing] if spec else row.base
    assert source is not None
    cid = spec.certificate_id if spec else row.certificate_id
    values = {
        "Submission ID": f"GRM-{number:05d}",
        _CELL_COLUMNS["manufacturer"]: source.manufacturer_identifier,
        _CELL_COLUMNS["model"]: source.model_identifier,
        _CELL_COLUMNS["hw_version"]: source.hardware_version_version,
        _CELL_COLUMNS["hw_revision"]: source.hardware_version_revision,
        _CELL_COLUMNS["firmware"]: source.firmware_version,
        "ZigBee Certificate ID": cid,
        "Device Type": spec.device_code if spec else row.device_code,
        "Submission Date": _later(spec.certificate_date if spec else "2021-06-01",
                                  20 + number * 37 % 90),
        "Manufacturer Name": source.manufacturer_name,
        "Model Name": source.model_name,
    }
    values.update({_CELL_COLUMNS[key]: value for key, value in row.cells.items()})
    expected = {"submission_row": str(number), "submission_id": values["Submission ID"],
                "certificate_id": cid, "certificate_file": spec.file if spec else "",
                "why": f"[{row.family}] {row.case}"}
    if spec is None:
        expected["overall_status"] = "NO_CERTIFICATE"
        expected.update({f"{f}_status": "" for f in STATUS_FIELDS})
    else:
        cpl = {"manufacturer_identifier": values[_CELL_COLUMNS["manufacturer"]],
               "model_identifier": values[_CELL_COLUMNS["model"]],
               "hardware_version": f"{values[_CELL_COLUMNS['hw_version']]}_"
                                   f"{values[_CELL_COLUMNS['hw_revision']]}",
               "firmware_version": values[_CELL_COLUMNS["firmware"]]}
        statuses = [expected_status(spec.listings[row.listing], f, cpl[f]) for f in STATUS_FIELDS]
        expected.update({f"{f}_status": s for f, s in zip(STATUS_FIELDS, statuses, strict=True)})
        expected["overall_status"] = overall_of(statuses)
    return CplRow(values=values, expected={k: expected[k] for k in EXPECTED_COLUMNS})


def _family_fields(name: str) -> dict[str, Any]:
    family = FAMILIES[name]
    return {"family": name, "failure_class": family.failure_class,
            "held_out": name in HELD_OUT}


def _entries(document: GrammarDocument, logs: Sequence[list[dict[str, Any]]]
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The truth.json entries of one document and of the certificates it holds."""
    scan = asdict(document.scan) if document.scan else None
    parts, certificates = [], []
    for (part, first, last), log in zip(document.page_ranges(), logs, strict=True):
        pages = f"{first}" if first == last else f"{first}-{last}"
        cid = (part.draft.spec.certificate_id if part.draft else
               part.letter.certificate_id if part.letter else "")
        parts.append({"kind": part.kind, "pages": pages, "certificate_id": cid})
        if part.draft is None:
            continue
        entry = truth_entry(part.draft.spec)
        entry.pop("style")
        entry.update(_family_fields(document.family))
        entry.update({
            "arrangement": part.draft.look.arrangement, "pages": last - first + 1,
            "certificate_pages": pages, "document_pages": document.pages,
            "scanned": scan is not None, "scan": scan, "code_row": part.draft.code_row,
            "blank": list(part.draft.blank), "printed": log, "look": asdict(part.draft.look),
        })
        certificates.append(entry)
    doc_entry = {"file": document.file, **_family_fields(document.family),
                 "pages": document.pages, "scanned": scan is not None, "scan": scan,
                 "parts": parts, "certificates": [c["certificate_id"] for c in certificates]}
    return doc_entry, certificates


def write_document(document: GrammarDocument, folder: Path, seed: int
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write one document (born-digital or scanned) into `folder`; returns its truth entries."""
    data, logs = document_pdf(document)
    target = folder / document.file
    if document.scan is None:
        target.write_bytes(data)
    else:
        scan_seed = zlib.crc32(f"{seed}/{document.file}".encode())
        save_scan(scan_images(data, document.scan, scan_seed), target, document.scan)
    return _entries(document, logs)


def generate(out_dir: str | Path, families: str = "all", per_family: int = DEFAULT_PER_FAMILY,
             seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write the chosen families' documents, truth.json, the CPL submission and expected.csv."""
    out = Path(out_dir)
    certs = out / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    remove_previous(out, "documents", out / "certs")
    chosen = select_families(families)
    plan = build_plan(seed, per_family)
    documents, certificates = [], []
    for document in (d for d in plan.documents if d.family in chosen):
        doc_entry, cert_entries = write_document(document, certs, seed)
        documents.append(doc_entry)
        certificates += cert_entries
    planned = [row for row in plan.rows if row.family in chosen]
    rows = [cpl_row(row, number) for number, row in enumerate(planned, start=1)]
    truth = {
        "generator": "samples.grammar", "seed": seed, "per_family": per_family,
        "families": chosen, "development": list(DEVELOPMENT), "held_out": list(HELD_OUT),
        "documents": documents, "certificates": certificates,
        "rows": [_row_truth(p, r) for p, r in zip(planned, rows, strict=True)],
    }
    _write_json(out / "truth.json", truth)
    write_cpl(rows, out / "cpl_submission.csv", out / "cpl_submission.xlsx")
    _write_csv(out / "expected.csv", EXPECTED_COLUMNS, [r.expected for r in rows])
    write_manufacturers(out / "manufacturers.csv")
    return truth


def _row_truth(planned: PlannedRow, row: CplRow) -> dict[str, Any]:
    return {"submission_row": int(row.expected["submission_row"]),
            "submission_id": row.expected["submission_id"], **_family_fields(planned.family),
            "certificate_id": row.expected["certificate_id"],
            "certificate_file": row.expected["certificate_file"],
            "listing": planned.listing + 1 if planned.spec else 0,
            "perturbed": planned.perturbed, "case": planned.case,
            "overall_status": row.expected["overall_status"]}


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.grammar",
        description="Write certificates from the layout grammar, a CPL submission and the truth.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--families", default="all",
                        help="dev, held-out, all, or comma-separated names: "
                             + ", ".join(FAMILIES))
    parser.add_argument("--per-family", type=int, default=DEFAULT_PER_FAMILY, metavar="N",
                        help="certificates per family")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        truth = generate(args.out, args.families, args.per_family, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{len(truth['documents'])} documents, {len(truth['certificates'])} certificates, "
          f"{len(truth['rows'])} CPL rows ({', '.join(truth['families'])}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
