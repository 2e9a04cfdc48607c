"""Certificate fields from extracted text, driven by rules/fields.toml.

Four readers, each over what the extractor really produced:
- label lines: "Label: value", or a label alone on a line with the value on the next;
- ruled tables: a cell with the label above the value, a label cell beside a value cell, or a
  header row of labels over one row per device model (a multi-model certificate);
- prose: "... manufactured by X, model number Y, hardware version Z ...".
Their results merge field by field; device fields group into listings (one per device model).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from pipeline.models import ALL_FIELDS as ALL_FIELDS  # re-exported with the two below
from pipeline.models import CERT_FIELDS as CERT_FIELDS
from pipeline.models import DEVICE_FIELDS as DEVICE_FIELDS
from pipeline.models import Certificate, DeviceListing, Evidence, ExtractedDocument, TextSource
from pipeline.rulesfile import RULES_DIR as RULES_DIR  # re-exported: callers name the folder
from pipeline.rulesfile import RulesFileError, read_rules_toml, rules_path

MAX_VALUE_CHARS = 200
_YEAR = regex.compile(r"\s*\d{4}\b")  # "March 13, 2017": that comma is not a clause break


@dataclass(frozen=True)
class FieldRules:
    """The compiled contents of rules/fields.toml."""

    version: str
    labels: dict[str, tuple[str, ...]]
    prose: dict[str, tuple[str, ...]]
    stop_words: tuple[str, ...]
    grammar: dict[str, regex.Pattern[str]]
    label_line: regex.Pattern[str] = field(repr=False)
    label_only: regex.Pattern[str] = field(repr=False)
    label_space: regex.Pattern[str] = field(repr=False)
    prose_phrase: regex.Pattern[str] = field(repr=False)
    label_to_field: dict[str, str] = field(repr=False)
    phrase_to_field: dict[str, str] = field(repr=False)

    def field_of_label(self, text: str) -> str | None:
        """The field a whole cell or line names, or None."""
        match = self.label_only.fullmatch(text.strip())
        return self.label_to_field[label_key(match.group("label"))] if match else None


def label_key(label: str) -> str:
    """A label or phrase as matched, with case, dots and spacing gone: the alternation lets
    words run together (German `Hardwareversion`), so the key must not depend on spaces."""
    return "".join(label.lower().replace(".", "").split())


def _alternation(phrases: Iterable[str]) -> str:
    """Longest first, spaces flexible, a dot after an abbreviation optional."""
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        words = [regex.escape(w) for w in phrase.split()]
        parts.append(r"\.?\s*".join(words) if len(words) > 1 else words[0])
    return "|".join(parts)


def _schema_error(path: Path, problem: str) -> RulesFileError:
    return RulesFileError(f"{path}: {problem}")


def load_field_rules(path: Path | None = None) -> FieldRules:
    """Load and schema-check the field rules; any problem names the file and the key."""
    path = path or rules_path("fields.toml")
    data = read_rules_toml(path, (), {"version", "labels", "prose", "grammar"}, "field rules")
    labels = _string_lists(path, data, "labels", required=ALL_FIELDS)
    prose_data = dict(data.get("prose", {}))
    stop_words = tuple(prose_data.pop("stop_words", ()))
    prose = _string_lists(path, {"prose": prose_data}, "prose", required=())
    grammar = {}
    for name, pattern in data.get("grammar", {}).items():
        if name not in ALL_FIELDS:
            raise _schema_error(path, f"grammar for unknown field {name!r}")
        try:
            grammar[name] = regex.compile(pattern)
        except regex.error as exc:
            raise _schema_error(path, f"grammar {name!r} does not compile: {exc}") from exc
    label_to_field = {label_key(lab): f for f, labs in labels.items() for lab in labs}
    phrase_to_field = {label_key(p): f for f, ps in prose.items() for p in ps}
    label_alt = _alternation(lab for labs in labels.values() for lab in labs)
    phrase_alt = _alternation(p for ps in prose.values() for p in ps)
    return FieldRules(
        version=str(data.get("version", "")),
        labels=labels,
        prose=prose,
        stop_words=stop_words,
        grammar=grammar,
        label_line=regex.compile(
            rf"^\s*(?P<label>{label_alt})\.?\s*(?:[:;]|\t|\s[-\u2013\u2014]\s)\s*(?P<value>.*?)\s*$",
            regex.IGNORECASE,
        ),
        label_only=regex.compile(rf"(?P<label>{label_alt})\.?\s*:?", regex.IGNORECASE),
        # "Label value" with no separator, as two-column tables come out of the text layer.
        label_space=regex.compile(rf"^\s*(?P<label>{label_alt})\.?\s+(?P<value>\S.*?)\s*$"),
        prose_phrase=regex.compile(rf"\b(?P<phrase>{phrase_alt})\b\.?", regex.IGNORECASE),
        label_to_field=label_to_field,
        phrase_to_field=phrase_to_field,
    )


def _string_lists(
    path: Path, data: dict, section: str, required: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    table = data.get(section)
    if not isinstance(table, dict):
        raise _schema_error(path, f"[{section}] must be a table")
    out = {}
    for name, values in table.items():
        if name not in ALL_FIELDS:
            raise _schema_error(path, f"[{section}] names unknown field {name!r}")
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise _schema_error(path, f"[{section}] {name} must be a list of non-empty strings")
        out[name] = tuple(values)
    if missing := [f for f in required if f not in out]:
        raise _schema_error(path, f"[{section}] is missing {missing}")
    return out


# --- values: the readers (pipeline.reader, pipeline.textreaders) clean what they find here ---

def clause(text: str, stop_words: Sequence[str]) -> str:
    """The text up to the first clause break outside brackets."""
    depth = 0
    lowered = text.lower()
    for index, char in enumerate(text[:MAX_VALUE_CHARS]):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            if char == ";" or (
                char == "," and text[index + 1 : index + 2] in (" ", "") and not _YEAR.match(text, index + 1)
            ):
                return text[:index].strip()
            if char == "." and (index + 1 == len(text) or text[index + 1] == " "):
                return text[:index].strip()
            if char == " " and any(lowered.startswith(f" {w} ", index) for w in stop_words):
                return text[:index].strip()
            if char == " " and lowered.startswith(" and ", index):
                return text[:index].strip()
    return text[:MAX_VALUE_CHARS].strip()


# --- assembly ------------------------------------------------------------------------------


_LEADERS = regex.compile(r"^(?:[.…_·]{3,}\s*)+")  # dotted leaders between a label and its value


def clean_value(name: str, value: str, rules: FieldRules) -> str:
    value = _LEADERS.sub("", " ".join(value.split()))[:MAX_VALUE_CHARS]
    grammar = rules.grammar.get(name)
    if grammar is None or not value:
        return value
    match = grammar.search(value)
    if not match:
        return ""
    if name == "certificate_date":
        return _iso_date(match.group(0))
    return match.group(0)


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y",
                "%B %d %Y", "%B %d, %Y", "%b %d %Y", "%b %d, %Y")


def printed_forms(name: str, value: str) -> tuple[str, ...]:
    """How a value read as `value` may stand printed: itself, and for a date (read into ISO form)
    each format DATE_FORMATS reads, with and without leading zeros ('2 February 2017')."""
    if name != "certificate_date":
        return (value,)
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return (value,)
    forms = [value]
    for fmt in DATE_FORMATS:
        text = date.strftime(fmt)
        forms += [text, regex.sub(r"(?<!\d)0(\d)", r"\1", text)]
    return tuple(dict.fromkeys(forms))


def _iso_date(text: str) -> str:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def parse_certificate(extracted: ExtractedDocument, rules: FieldRules) -> Certificate:
    """Fields of one extracted document. Never raises on odd text: missing fields stay empty.

    The layout-independent reader (pipeline.reader) reads pages that have segments (boxes);
    the text readers below are kept for pages without them and as a second opinion: their
    result is taken only when it fills more fields of a single certificate."""
    from pipeline.reader import read_document
    from pipeline.textreaders import parse_text

    laid_out = read_document(extracted, rules)
    if laid_out is not None and (laid_out.parts or _complete(laid_out) and not _has_ocr(extracted)):
        # the text readers' result would not be taken: not worth reading. On OCR pages the
        # reader may merge table rows into one complete listing the text readers split (measured)
        return laid_out
    by_text = parse_text(extracted, rules)
    if laid_out is None:
        return by_text
    if not laid_out.parts and len(laid_out.listings) <= 1 and len(by_text.listings) <= 1:
        return _one_of_each(laid_out, by_text)
    if not laid_out.parts and _filled(by_text) > _filled(laid_out) and not _full_rows(laid_out):
        if len(by_text.listings) == len(laid_out.listings):
            return _gaps_filled(laid_out, by_text)
        return _certificate_fields_filled(by_text, laid_out)
    return laid_out


def _certificate_fields_filled(by_text: Certificate, laid_out: Certificate) -> Certificate:
    """The text readers' listings, with the certificate fields they missed from the layout
    reader, provenance and all (a letter's ID read from its `Our ref:` line)."""
    gaps = {n: getattr(laid_out, n) for n in CERT_FIELDS
            if not getattr(by_text, n) and getattr(laid_out, n)}
    if not gaps:
        return by_text
    boxes = tuple((n, box) for n, box in laid_out.evidence if n in gaps)
    return dataclasses.replace(by_text, **gaps, evidence=(*by_text.evidence, *boxes))


def _full_rows(certificate: Certificate) -> bool:
    """Two listings or more, each with all four device fields, under a certificate ID: a table
    read whole. The text readers fill more fields of an OCR'd table by splitting its wrapped
    rows (`GmbH` and `06:2D)` as a third and fourth listing); that is not a better reading."""
    return bool(certificate.certificate_id) and len(certificate.listings) >= 2 and all(
        getattr(listing, n) for listing in certificate.listings for n in DEVICE_FIELDS)


def _gaps_filled(laid_out: Certificate, by_text: Certificate) -> Certificate:
    """As many listings read by both: the layout reader's values, each gap filled from the
    text readers' listing in the same place (they fill more fields, but took `(1) Lumos Home
    Energy` for the manufacturer beside `Manufacturer (1)`)."""
    listings = tuple(
        dataclasses.replace(mine, **{n: getattr(mine, n) or getattr(theirs, n)
                                     for n in DEVICE_FIELDS})
        for mine, theirs in zip(laid_out.listings, by_text.listings, strict=True))
    return dataclasses.replace(
        laid_out, listings=listings,
        **{n: getattr(laid_out, n) or getattr(by_text, n) for n in CERT_FIELDS})


def _one_of_each(laid_out: Certificate, by_text: Certificate) -> Certificate:
    """One certificate of one listing read by both: the reading that filled more fields, its
    gaps filled from the other. Taking the fuller reading whole lost the other's fields: on a
    150-dpi scan the text readers' date and hardware cost the model and firmware the layout
    reader had read under their labels. A value the layout reader gave keeps its provenance."""
    first, second = (by_text, laid_out) if _filled(by_text) > _filled(laid_out) else (
        laid_out, by_text)

    def merged(a: Any, b: Any, names: Sequence[str], where: Any) -> dict[str, Any]:
        values = {name: getattr(a, name) or getattr(b, name) for name in names}
        boxes = dict(where.evidence) if where is not None else {}
        evidence = tuple((name, boxes[name]) for name in names
                         if name in boxes and values[name] == getattr(where, name))
        return {**values, "evidence": evidence}

    mine = laid_out.listings[0] if laid_out.listings else None
    listings: tuple[DeviceListing, ...] = ()
    if ones := [x.listings[0] for x in (first, second) if x.listings]:
        a, b = ones[0], ones[-1]  # the same listing when only one reading has one
        listings = (a if a is b is mine else dataclasses.replace(
            a, **merged(a, b, DEVICE_FIELDS, mine)),)
    return dataclasses.replace(first, **merged(first, second, CERT_FIELDS, laid_out),
                               listings=listings)


def _has_ocr(extracted: ExtractedDocument) -> bool:
    return any(page.source is TextSource.OCR for page in extracted.pages)


def _complete(certificate: Certificate) -> bool:
    """Every certificate field, and every device field of every listing."""
    return bool(certificate.listings) and all(getattr(certificate, n) for n in CERT_FIELDS) and all(
        getattr(listing, n) for listing in certificate.listings for n in DEVICE_FIELDS)


def _filled(certificate: Certificate) -> int:
    listing_fields = sum(
        1 for listing in certificate.listings for name in DEVICE_FIELDS if getattr(listing, name)
    )
    return listing_fields + sum(1 for name in CERT_FIELDS if getattr(certificate, name))


def assemble(
    extracted: ExtractedDocument,
    cert_fields: Mapping[str, str],
    listings: Sequence[Mapping[str, str]],
    *,
    layout: str,
    listing_evidence: Sequence[Evidence] = (),
    **found: Any,
) -> Certificate:
    """The one place a Certificate is built from the fields a reader found: the layout reader's
    and the older text readers' alike. `listing_evidence` is each listing's provenance; `found`
    the certificate-level extras (evidence, notes, first_page, last_page)."""
    total = len(listings)
    evidence = list(listing_evidence) or [()] * total
    device_listings = tuple(
        DeviceListing(
            manufacturer=item.get("manufacturer", ""),
            model=item.get("model", ""),
            hardware_version=item.get("hardware_version", ""),
            firmware_version=item.get("firmware_version", ""),
            label=f"listing {n} of {total}" if total > 1 else "",
            evidence=where,
        )
        for n, (item, where) in enumerate(zip(listings, evidence, strict=True), start=1)
    )
    return Certificate(
        file=extracted.document.name,
        sha256=extracted.document.sha256,
        pages=len(extracted.pages),
        text_source=extracted.text_source,
        ocr_reason=extracted.ocr_reason,
        certificate_id=cert_fields.get("certificate_id", ""),
        certificate_date=cert_fields.get("certificate_date", ""),
        device_type=cert_fields.get("device_type", ""),
        listings=device_listings,
        layout=layout,
        error=extracted.error,
        **found,
    )


def missing_fields(certificate: Certificate) -> list[str]:
    """Required fields the certificate lacks: drives the table and OCR fallbacks."""
    missing = [] if certificate.certificate_id else ["certificate_id"]
    if not certificate.listings:
        return missing + list(DEVICE_FIELDS)
    first = certificate.listings[0]
    values = {
        "manufacturer": first.manufacturer,
        "model": first.model,
        "hardware_version": first.hardware_version,
        "firmware_version": first.firmware_version,
    }
    return missing + [name for name in DEVICE_FIELDS if not values[name]]

