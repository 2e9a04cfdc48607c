"""The layout-independent reader: certificates from pages of segments (text runs with boxes).

Per page, `layout.read_page` reads labelled values and tables and leaves the rest to
`prose.read_prose`. Then this module:
- **splits the document into certificates** by certificate ID and page: a page whose ID differs
  from the current certificate's starts the next one (bundles); pages without an ID (a cover
  letter, a second page) belong to the certificate around them;
- **assembles listings**: each row of a multi-row table is a listing, and fields given once at
  certificate level (manufacturer above a table, say) are inherited by every listing without
  its own; otherwise a device field seen again starts the next listing;
- gives every value its provenance (page, box, source, confidence, rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import regex

from pipeline.models import (
    CERT_FIELDS,
    DEVICE_FIELDS,
    Certificate,
    ExtractedDocument,
    PageText,
    Provenance,
    Segment,
    TextSource,
)
from pipeline.parse import FieldRules, assemble, clean_value
from pipeline.reader.layout import PageRead, Value, lines_of, part_of, read_page
from pipeline.reader.lexicon import Lexicon, default_lexicon
from pipeline.reader.printed_hex import rewrite_printed_hex
from pipeline.reader.prose import NO_CUE, read_prose

# A manufacturer code spelled as a code: 21 E3, 0x78DC, 8B6Dh, Ox7CAE, Manufacturer Code 0x7CAE
_MFR_CODE = regex.compile(
    r"(?:Manufacturer\s+(?:Code|ID)\s*:?\s*)?(?:0[xX]|O[xX]|h')?"
    r"(?P<a>[0-9A-FO]{2})[\s:\-]?(?P<b>[0-9A-FO]{2})h?")


@dataclass
class _Found:
    value: Value
    page: PageText


@dataclass
class _Part:
    """The pages of one certificate and what was found on them."""

    pages: list[PageText] = field(default_factory=list)
    labelled: list[_Found] = field(default_factory=list)
    prose: list[_Found] = field(default_factory=list)
    certificate_id: str = ""


def read_document(
    extracted: ExtractedDocument, rules: FieldRules, lexicon: Lexicon | None = None
) -> Certificate | None:
    """The document's certificate(s) from its segments; None when no page has segments.

    Values go through parse's clean-up (`rules`: value grammars, ISO dates), so both readers
    give values in the same form."""
    lexicon = lexicon or default_lexicon()
    if not any(p.segments for p in extracted.pages):
        return None
    parts = _split(extracted.pages, lexicon, rules)
    certificates = [_certificate(extracted, part, rules, lexicon) for part in parts]
    if len(certificates) == 1:
        return certificates[0]
    first = certificates[0]
    return dataclasses.replace(first, parts=tuple(certificates), last_page=certificates[-1].last_page)


def _split(pages: Sequence[PageText], lexicon: Lexicon, rules: FieldRules) -> list[_Part]:
    parts: list[_Part] = [_Part()]
    for page in pages:
        read = _read_straight(page, lexicon)
        labelled = [_Found(v, page) for v in read.values]
        prose = [_Found(v, page) for v in read_prose(read.leftover, lexicon, rules.stop_words)]
        if rows := _rows_by_certificate(labelled, lexicon, rules):
            # a table with a certificate ID on each row: one certificate a row (issue 11,
            # class 6), each with the page's values outside the table
            loose = [f for f in labelled if f.value.table is None]
            if not parts[-1].pages:
                parts.pop()
            for certificate_id, found in rows:
                parts.append(_Part([page], [*found, *loose], prose, certificate_id))
            continue
        for band_id, band_labelled, band_prose in _bands(labelled, prose, lexicon, rules):
            current = parts[-1]
            if band_id and current.certificate_id and band_id != current.certificate_id:
                current = _Part()
                parts.append(current)
            if band_id and not current.certificate_id:
                current.certificate_id = band_id
            if not current.pages or current.pages[-1] is not page:
                current.pages.append(page)
            current.labelled.extend(band_labelled)
            current.prose.extend(band_prose)
    return parts


def _bands(labelled: list[_Found], prose: list[_Found], lexicon: Lexicon, rules: FieldRules
           ) -> list[tuple[str, list[_Found], list[_Found]]]:
    """A page's values by certificate: a page giving two certificate IDs or more under their
    labels, one under the other (`Certificate No.: ZSE-17-63120` ... `Certificate No.:
    CERT-ZB-2024-5561` half-way down: a bundle whose next certificate starts mid-page), is cut
    above each new ID; what stands above the second belongs to the first. One band otherwise."""
    ids: list[tuple[float, str]] = []
    for found in sorted(labelled, key=lambda f: f.value.segments[0].top):
        if found.value.field != "certificate_id":
            continue
        text = _clean(rules, found.value)
        if text and lexicon.fits("certificate_id", text) and text not in {i for _, i in ids}:
            ids.append((found.value.segments[0].top, text))
    if len(ids) < 2:
        return [(ids[0][1] if ids else "", labelled, prose)]
    cuts = [top for top, _ in ids[1:]]

    def band(found: _Found) -> int:
        return sum(found.value.segments[0].top >= cut for cut in cuts)

    return [(text, [f for f in labelled if band(f) == n], [f for f in prose if band(f) == n])
            for n, (_, text) in enumerate(ids)]


def _read_straight(page: PageText, lexicon: Lexicon) -> PageRead:
    """The page read by the layout reader; a skewed scan (`PageText.skew`) is read with each
    segment moved up or down by the slope at its centre, as if the page were straight, and the
    values keep their boxes where they stand on the page."""
    if not page.skew:
        return read_page(page.segments, lexicon)
    slope = page.skew

    def moved(seg: Segment, sign: float) -> Segment:
        by = sign * slope * (seg.x0 + seg.x1) / 2
        return dataclasses.replace(seg, top=seg.top + by, bottom=seg.bottom + by)

    straight = [moved(s, -1.0) for s in page.segments]
    originals = {id(copy): seg for copy, seg in zip(straight, page.segments, strict=True)}
    read = read_page(straight, lexicon)

    def back(seg: Segment) -> Segment:  # a part of a segment is moved back by its own centre
        return originals.get(id(seg)) or moved(seg, 1.0)

    for value in read.values:
        value.segments = [back(s) for s in value.segments]
    read.leftover = [[back(s) for s in line] for line in read.leftover]
    return read


def _clean(rules: FieldRules, value: Value) -> str:
    text = clean_value(value.field, value.text, rules)
    if value.field in DEVICE_FIELDS and text:
        text, note = rewrite_printed_hex(value.field, text)
        if note and note not in value.notes:
            value.notes.append(note)
    return str(text)


def _provenance(found: _Found, text: str) -> Provenance:
    """Where the value stands; `text` is the value as the certificate gives it."""
    source = "ocr" if found.page.source is TextSource.OCR else "text"
    segments = found.value.segments
    exact = source == "text" and not any(s.cut for s in segments) and (
        "".join(text.split()) == "".join("".join(s.text.split()) for s in segments))
    return Provenance(
        page=found.page.number,
        bbox=tuple(round(x, 1) for x in found.value.bbox()),  # type: ignore[arg-type]
        source=source,
        confidence=found.value.confidence(),
        rule=found.value.rule,
        exact=exact,
    )


def _certificate(
    extracted: ExtractedDocument, part: _Part, rules: FieldRules, lexicon: Lexicon
) -> Certificate:
    cert: dict[str, tuple[str, _Found]] = {}
    for found in [*part.labelled, *part.prose]:
        name = found.value.field
        if name in CERT_FIELDS and name not in cert and (text := _clean(rules, found.value)):
            if name == "certificate_id" and not lexicon.fits(name, text):
                continue  # "Certificate ID: sub-signatures" on an invoice page is no ID
            cert[name] = (text, found)
    if "certificate_id" not in cert and (reference := _letter_reference(part, lexicon)):
        cert["certificate_id"] = (_clean(rules, reference.value), reference)
    listings = _listings(part, rules)
    numbers = [p.number for p in part.pages]
    return assemble(
        extracted,
        {name: text for name, (text, _) in cert.items()},
        [{name: text for name, (text, _) in item.items()} for item in listings],
        layout=_layout(listings),
        listing_evidence=[
            tuple((k, _provenance(f, t)) for k, (t, f) in item.items() if f is not None)
            for item in listings
        ],
        evidence=tuple((k, _provenance(f, t)) for k, (t, f) in cert.items()),
        notes=tuple(dict.fromkeys(
            n for item in listings for _, f in item.values() if f is not None for n in f.value.notes
        )),
        first_page=min(numbers) if numbers else 0,
        last_page=max(numbers) if numbers else 0,
    )


def _letter_reference(part: _Part, lexicon: Lexicon) -> _Found | None:
    """A letter's own reference (`Our ref: TH/2019/8698-A`) as the certificate's ID, when it has
    an ID's shape and the letter says the certificate bears it (lexicon [documents])."""
    folded = " ".join(" ".join(p.text.split()) for p in part.pages).casefold()
    phrase = next((p for p in lexicon.reference_phrases if p.casefold() in folded), None)
    if phrase is None or not lexicon.letter_references:
        return None
    labels = "|".join(regex.escape(label) for label in lexicon.letter_references)
    pattern = regex.compile(rf"(?i)\s*(?:{labels})\s*[:.]?\s*")
    for page in part.pages:
        for line in lines_of(page.segments):
            for n, seg in enumerate(line):
                if (label := pattern.match(seg.text)) is None:
                    continue
                if label.end() < len(seg.text):
                    value = part_of(seg, label.end())
                elif n + 1 < len(line):
                    value = line[n + 1]
                else:
                    continue
                first = value.text.split()[0] if value.text.split() else ""
                if not lexicon.fits("certificate_id", first):
                    continue
                if first != value.text.strip():
                    value = part_of(value, 0, value.text.index(first) + len(first))
                rule = (f"letter reference {label.group().strip(' :.')!r} (lexicon documents."
                        f"letter_reference_labels), the certificate's by {phrase!r}")
                return _Found(Value("certificate_id", first, [value], rule), page)
    return None


def _rows_by_certificate(
    labelled: Sequence[_Found], lexicon: Lexicon, rules: FieldRules
) -> list[tuple[str, list[_Found]]]:
    """A table's rows grouped by the certificate ID in their own cell, when its rows name two
    IDs or more ([] otherwise); a row without an ID belongs to the certificate above it."""
    rows: dict[tuple[int, int], list[_Found]] = {}
    for found in labelled:
        if found.value.table is not None and found.value.row is not None:
            rows.setdefault((found.value.table, found.value.row), []).append(found)
    grouped: list[tuple[str, list[_Found]]] = []
    for key in sorted(rows):
        ids = [text for f in rows[key] if f.value.field == "certificate_id"
               and (text := _clean(rules, f.value)) and lexicon.fits("certificate_id", text)]
        if ids and (not grouped or ids[0] != grouped[-1][0]):
            grouped.append((ids[0], list(rows[key])))
        elif grouped:
            grouped[-1][1].extend(f for f in rows[key] if f.value.field != "certificate_id")
    return grouped if len(grouped) >= 2 else []


Listing = dict[str, tuple[str, "_Found | None"]]


def _layout(listings: Sequence[Listing]) -> str:
    """How the fields were found, for the certificates.csv reader: tables, label-lines, prose."""
    rules = [f.value.rule for item in listings for _, f in item.values() if f is not None]
    if any(r.startswith("table") for r in rules):
        return "tables"
    prose = sum(r.startswith("prose") for r in rules)
    return "prose" if rules and prose * 2 > len(rules) else "label-lines"


def _listings(part: _Part, rules: FieldRules) -> list[Listing]:
    table_rows: dict[tuple[int, int, int], Listing] = {}
    loose: list[_Found] = []
    for found in part.labelled:
        if found.value.field not in DEVICE_FIELDS:
            continue
        text = _clean(rules, found.value)
        if not text:
            continue
        if found.value.table is not None and found.value.row is not None:
            key = (found.page.number, found.value.table, found.value.row)
            table_rows.setdefault(key, {})[found.value.field] = (text, found)
        else:
            loose.append(found)
    if table_rows:
        shared = _shared(loose, rules)
        rows = [table_rows[key] for key in sorted(table_rows)]  # pages, tables, rows in order
        return [{**shared, **row} for row in rows]
    listings = _grouped(_by_card(loose), rules)
    if len(listings) <= 1 and len(devices := _prose_devices(part.prose, rules)) >= 2:
        shared = listings[0] if listings else {}  # `Applicant: ...` above the letter's devices
        return [_under_shared(shared, device) for device in devices]
    if len(listings) <= 1:
        only = listings[0] if listings else {}
        for found in part.prose:  # prose fills what no label gave
            name = found.value.field
            if name in DEVICE_FIELDS and name not in only and (text := _clean(rules, found.value)):
                only[name] = (text, found)
        return [only] if only else []
    return listings


CARD_GAP_PT = 72.0  # two values of one field this far apart on one line: cards side by side


def _by_card(loose: list[_Found]) -> list[_Found]:
    """Labelled values in reading order, or card by card when devices stand side by side
    (`Device 1` and `Device 2` blocks, each `Manufacturer` over its value, two to a row): a
    field given twice on one line, an inch apart or more, makes each value's column its card,
    and the values are read card by card (page, row of cards, card, line): a row of cards
    starts where the first field so paired is given again lower down."""
    starts: list[float] = []
    pairs: list[tuple[str, float]] = []  # (field, top) of each field given twice on a line
    for a in loose:
        for b in loose:
            if (a.page is b.page and a.value.field == b.value.field and a is not b
                    and abs(a.value.segments[0].top - b.value.segments[0].top)
                    < a.value.segments[0].height
                    and b.value.segments[0].x0 - a.value.segments[0].x0 > CARD_GAP_PT):
                starts.extend((a.value.segments[0].x0, b.value.segments[0].x0))
                pairs.append((a.value.field, a.value.segments[0].top))
    if not starts:
        return loose
    columns = sorted({round(x) for x in starts})
    merged = [columns[0]]
    for x in columns[1:]:
        if x - merged[-1] > CARD_GAP_PT:
            merged.append(x)
    if len(merged) < 2:
        return loose

    def card(found: _Found) -> int:
        x0 = found.value.segments[0].x0
        return max((n for n, x in enumerate(merged) if x0 >= x - CARD_GAP_PT / 4), default=0)

    per_card = [sum(card(f) == n for f in loose) for n in range(len(merged))]
    if min(per_card) < 2:
        return loose
    # rows of cards: each starts where the first field paired on a line is given again lower
    # down (in one card or more: a last row may hold one)
    first = min(pairs, key=lambda p: p[1])[0]
    height = min(f.value.segments[0].height for f in loose)
    bands: list[float] = []
    for top in sorted(f.value.segments[0].top for f in loose if f.value.field == first):
        if not bands or top - bands[-1] > height:
            bands.append(top)

    def band(found: _Found) -> int:
        top = found.value.segments[0].top
        return sum(top >= b - height for b in bands[1:])

    return sorted(loose, key=lambda f: (f.page.number, band(f), card(f), f.value.segments[0].top))


def _under_shared(shared: Listing, device: Listing) -> Listing:
    """A device of a letter with the fields labelled once above it: its own value wins when a
    cue in its sentence gave it, the label's when the prose value had no cue (a company name
    found by its legal form alone)."""
    merged = {**shared, **device}
    for name, (_, found) in device.items():
        if name in shared and found is not None and found.value.rule.endswith(NO_CUE):
            merged[name] = shared[name]
    return merged


def _prose_devices(prose: Sequence[_Found], rules: FieldRules) -> list[Listing]:
    """The devices of letters naming several (prose.read_prose tags each value with its
    device on its page), in page and device order."""
    devices: dict[tuple[int, int], Listing] = {}
    for found in prose:
        if found.value.device is None or found.value.field not in DEVICE_FIELDS:
            continue
        if text := _clean(rules, found.value):
            key = (found.page.number, found.value.device)
            devices.setdefault(key, {}).setdefault(found.value.field, (text, found))
    return [devices[key] for key in sorted(devices)]


def _shared(loose: Sequence[_Found], rules: FieldRules) -> Listing:
    """Device fields stated once at certificate level, for every listing of a table."""
    grouped = _grouped(loose, rules)
    return grouped[0] if grouped else {}


def _grouped(loose: Sequence[_Found], rules: FieldRules) -> list[Listing]:
    """Device fields in reading order; a field seen again starts the next listing, except a
    manufacturer name and its code given under two labels, which are one manufacturer."""
    listings: list[Listing] = []
    current: Listing = {}
    for found in loose:
        name, text = found.value.field, _clean(rules, found.value)
        if name == "manufacturer" and name in current:
            merged = _name_and_code(current[name][0], text)
            if merged is not None:
                current[name] = (merged, current[name][1])
                continue
        if name in current:
            listings.append(current)
            current = {}
        current[name] = (text, found)
    if current:
        listings.append(current)
    if len(listings) > 1:
        listings = [item for item in listings if len(item) >= 2] or listings[:1]
    return _heads_shared(listings)


SHARED_HEAD_FIELDS = frozenset({"manufacturer"})


def _heads_shared(listings: list[Listing]) -> list[Listing]:
    """A field that opens the first listing and no later listing gives is stated once for all
    (`MANUFACTURER` above blocks `1. MODEL ...`, `2. MODEL ...`): every listing inherits it."""
    if len(listings) < 2:
        return listings
    head = next(iter(listings[0]))
    # Only the manufacturer: a model or version missing from a later block is not the first
    # block's (taking it would pair one device's model with another's versions).
    if head not in SHARED_HEAD_FIELDS or any(head in later for later in listings[1:]):
        return listings
    return [listings[0], *({head: listings[0][head], **later} for later in listings[1:])]


def _name_and_code(first: str, second: str) -> str | None:
    """`Corrib Metering Ltd` and `21 E3` (either order) as `Corrib Metering Ltd (21:E3)`."""
    for name, code in ((first, second), (second, first)):
        match = _MFR_CODE.fullmatch(code.strip())
        if match and not _MFR_CODE.fullmatch(name.strip()) and "(" not in name:
            a, b = (match.group(g).replace("O", "0").upper() for g in ("a", "b"))
            return f"{name} ({a}:{b})"
    return None


# Words that say a document is about certification, in the lexicon's languages.
_CERTIFICATE_CONTEXT = regex.compile(
    r"certif|zigbee|zertifi|certificad|certificat|certificaat", regex.IGNORECASE)


_READABLE_CHARS = 40  # less text than this says nothing about what the document is
# Device fields a certificate shows at least (of manufacturer, model, hardware, firmware): a
# cover letter quoting an ID with "Manufacturer: Airplanes" is one (issue 13).
MIN_DEVICE_FIELDS = 2


def not_a_certificate(
    certificate: Certificate, text: str, lexicon: Lexicon | None = None, id_page_text: str = ""
) -> str:
    """Why the document is not a certificate, or "" when it may be one (issue 13: no invented
    fields on a paper, an invoice or a cover letter).

    A certificate has certificate wording, a certificate ID of an ID's shape (the lexicon's
    [shapes.certificate_id]: one word, letters and at least two digits) and at least
    MIN_DEVICE_FIELDS device fields (fewer on a scan, where OCR may miss some). A cover letter
    quoting the ID of an enclosed (or missing) certificate has the ID but one device field or
    none; an invoice's "Certificate ID: sub-signatures" is no ID. A document without an ID is
    left to the caller: NO_FIELDS when it reads like a certificate whose ID was not read.
    A page that gives the ID and says it is no certificate (`id_page_text`, the lexicon's
    [documents] not_a_certificate) is a letter, whatever device fields it names."""
    lexicon = lexicon or default_lexicon()
    devices = sum(
        1 for listing in certificate.listings for name in DEVICE_FIELDS if getattr(listing, name)
    )
    context = _CERTIFICATE_CONTEXT.search(text) is not None
    cid = certificate.certificate_id
    if cid and (phrase := lexicon.denial(id_page_text)):
        return (f"it quotes certificate ID {cid!r} but says of itself {phrase!r}: a cover "
                "letter or covering note, not the certificate")
    if cid and not lexicon.fits("certificate_id", cid):
        return (f"its certificate ID {cid!r} is not shaped like one (a single word with letters "
                "and digits): not a ZigBee certificate")
    if cid and context and devices >= MIN_DEVICE_FIELDS:
        return ""
    read_by_ocr = certificate.text_source in (TextSource.OCR, TextSource.MIXED)
    if cid and context and devices and read_by_ocr:
        return ""  # a poor scan, some fields not read: its row shows them MISSING (REVIEW)
    if cid and devices and not context:
        return (f"it gives {cid!r} as a certificate ID but has no certificate wording: "
                "not a ZigBee certificate")
    if cid and devices:
        return (f"it quotes certificate ID {cid!r} with only {devices} device field(s): a "
                "cover letter or covering note, not the certificate")
    if cid:
        return (f"it quotes certificate ID {cid!r} but lists no device model: a cover letter "
                "or covering note, not the certificate")
    if len("".join(text.split())) < _READABLE_CHARS:
        return ""  # no text to judge by: NO_FIELDS
    if context and read_by_ocr:
        return ""  # a scan that reads like a certificate, its ID not read: NO_FIELDS
    if context and not devices:
        return ""  # certificate wording, nothing read: NO_FIELDS
    return ("no certificate ID: not a ZigBee certificate (a cover letter, a paper, an "
            "invoice?); if it is one, its ID could not be read")

