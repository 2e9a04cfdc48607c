"""Certificate fields from extracted text, driven by rules/fields.toml.

Four readers, each over what the extractor really produced:
- label lines: "Label: value", or a label alone on a line with the value on the next;
- ruled tables: a cell with the label above the value, a label cell beside a value cell, or a
  header row of labels over one row per device model (a multi-model certificate);
- prose: "... manufactured by X, model number Y, hardware version Z ...".
Their results merge field by field; device fields group into listings (one per device model).
"""

from __future__ import annotations

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
_LEADING_NOISE = regex.compile(r"^[^\w(\[]+(?=\w)")
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
        return self.label_to_field[_key(match.group("label"))] if match else None


def _key(label: str) -> str:
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
    label_to_field = {_key(lab): f for f, labs in labels.items() for lab in labs}
    phrase_to_field = {_key(p): f for f, ps in prose.items() for p in ps}
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


# --- readers -------------------------------------------------------------------------------

Found = list[tuple[str, str]]  # (field, value) in reading order


def read_label_lines(text: str, rules: FieldRules) -> Found:
    # Leading bullets, dashes or OCR specks ("• Manufacturer:", "‘Date of Certification") are
    # not part of a label; brackets are kept, since a value line may start with one.
    lines = [_LEADING_NOISE.sub("", line.strip()) for line in text.splitlines()]
    found: Found = []
    for index, line in enumerate(lines):
        if not line:
            continue
        match = rules.label_line.match(line)
        if match and match.group("value"):
            found.append((rules.label_to_field[_key(match.group("label"))], match.group("value")))
            continue
        spaced = rules.label_space.match(line)
        if spaced and spaced.group("label")[0].isupper() and _plain_value(spaced, rules):
            value = _before_next_label(spaced.group("value"), rules)
            found.append((rules.label_to_field[_key(spaced.group("label"))], value))
            continue
        name = rules.field_of_label(line)
        if name is None:
            continue
        following = next((nxt for nxt in lines[index + 1 :] if nxt), "")
        if following and rules.field_of_label(following) is None and not rules.label_line.match(
            following
        ) and not _starts_with_label(following, rules):
            found.append((name, following))
    return found


def _starts_with_label(line: str, rules: FieldRules) -> bool:
    """`FW Version  6.4E Build String` under a label printed without its value is the next
    field's line, not the value (issue 11 class 10)."""
    spaced = rules.label_space.match(line)
    return bool(spaced) and spaced.group("label")[0].isupper() and _plain_value(spaced, rules)


def _plain_value(match: regex.Match[str], rules: FieldRules) -> bool:
    """A value printed after a label with only a space: not another label (a header row)."""
    value = match.group("value")
    whole_line_is_label = rules.field_of_label(match.group(0)) is not None
    return bool(value) and not whole_line_is_label and rules.label_only.match(value) is None


_SENTENCE_BREAK = regex.compile(r"\.\s+")


def _before_next_label(value: str, rules: FieldRules) -> str:
    """Cut at a sentence break followed by another label ('(PPMID). Certification ID ZIG...')."""
    for brk in _SENTENCE_BREAK.finditer(value):
        if rules.label_only.match(value, brk.end()):
            return value[: brk.start()]
    return value


def read_tables(tables: Iterable[Sequence[Sequence[str]]], rules: FieldRules) -> list[Found]:
    """One Found per listing: a header row over several rows gives one per row; others add to
    the first.

    A row of labels over rows of values is read column by column: a header over two or more
    rows of device models is a multi-model table; over one row it is "label above value", as
    OCR gives ruled cells (pdfplumber gives such a cell as "label\nvalue")."""
    listings: list[Found] = []
    loose: Found = []
    for table in tables:
        rows = [list(row) for row in table if any(cell.strip() for cell in row)]
        index = 0
        while index < len(rows):
            header = [rules.field_of_label(cell) for cell in rows[index]]
            body = _value_rows(rows[index + 1 :], rules)
            if not body or not _is_header(rows[index], header, index):
                loose.extend(_row_pairs(rows[index], rules))
                index += 1
                continue
            device_columns = [name for name in header if name in DEVICE_FIELDS]
            single = len(body) == 1 or len(device_columns) < 2
            for row in body[:1] if single else body:
                listing = [
                    (name, _one_line(cell))
                    for name, cell in zip(header, row, strict=False)
                    if name and cell.strip()
                ]
                if single:
                    loose.extend(listing)
                elif listing:
                    listings.append(listing)
            index += 1 + len(body)
    if loose:
        listings.insert(0, loose)
    return listings


def _is_header(row: Sequence[str], header: Sequence[str | None], index: int) -> bool:
    """Every filled cell a label; or, in a table's first row, labels for two device fields."""
    filled = [name for cell, name in zip(row, header, strict=False) if cell.strip()]
    if filled and all(filled):
        return True
    return index == 0 and len([n for n in header if n in DEVICE_FIELDS]) >= 2


def _value_rows(rows: Sequence[Sequence[str]], rules: FieldRules) -> list[Sequence[str]]:
    """The rows under a header: up to the next row holding a label cell."""
    body = []
    for row in rows:
        if any(rules.field_of_label(cell) for cell in row if cell.strip()):
            break
        body.append(row)
    return body


def _one_line(cell: str) -> str:
    return " ".join(cell.split())


def _row_pairs(row: Sequence[str], rules: FieldRules) -> Found:
    pairs: Found = []
    cells = [cell.strip() for cell in row]
    index = 0
    while index < len(cells):
        cell = cells[index]
        first, _, rest = cell.partition("\n")
        label_here = rules.field_of_label(first)
        if label_here and rest.strip():
            pairs.append((label_here, _one_line(rest)))
        elif label_here and index + 1 < len(cells) and cells[index + 1]:
            neighbour = cells[index + 1]
            if rules.field_of_label(neighbour.partition("\n")[0]) is None:
                pairs.append((label_here, _one_line(neighbour)))
                index += 1
        else:
            match = rules.label_line.match(_one_line(cell))
            if match and match.group("value"):
                pairs.append((rules.label_to_field[_key(match.group("label"))], match.group("value")))
        index += 1
    return pairs


def read_prose(text: str, rules: FieldRules) -> Found:
    flat = " ".join(text.split())
    hits = list(rules.prose_phrase.finditer(flat))
    found: Found = []
    for position, hit in enumerate(hits):
        end = hits[position + 1].start() if position + 1 < len(hits) else len(flat)
        value = clause(flat[hit.end() : end], rules.stop_words)
        value = regex.sub(r"^(?:is|of|:|-)\s+", "", value).strip(" :")
        if value:
            found.append((rules.phrase_to_field[_key(hit.group("phrase"))], value))
    return found


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


def _group_listings(found: Found) -> list[dict[str, str]]:
    """Device fields in reading order: a field seen again starts the next listing."""
    listings: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for name, value in found:
        if name not in DEVICE_FIELDS or not value:
            continue
        if name in current:
            listings.append(current)
            current = {}
        current[name] = value
    if current:
        listings.append(current)
    return listings


def _completeness(listing: dict[str, str]) -> int:
    return sum(1 for name in DEVICE_FIELDS if listing.get(name))


def parse_certificate(extracted: ExtractedDocument, rules: FieldRules) -> Certificate:
    """Fields of one extracted document. Never raises on odd text: missing fields stay empty.

    The layout-independent reader (pipeline.reader) reads pages that have segments (boxes);
    the text readers below are kept for pages without them and as a second opinion: their
    result is taken only when it fills more fields of a single certificate."""
    from pipeline.reader import read_document

    laid_out = read_document(extracted, rules)
    if laid_out is not None and (laid_out.parts or _complete(laid_out) and not _has_ocr(extracted)):
        # the text readers' result would not be taken: not worth reading. On OCR pages the
        # reader may merge table rows into one complete listing the text readers split (measured)
        return laid_out
    by_text = _parse_text(extracted, rules)
    if laid_out is None:
        return by_text
    if not laid_out.parts and _filled(by_text) > _filled(laid_out):
        return by_text
    return laid_out


def _id_shaped(text: str) -> bool:
    """A certificate ID has an ID's shape (rules/lexicon.toml): an invoice's
    "Certificate ID: sub-signatures" is none (issue 13)."""
    from pipeline.reader.lexicon import default_lexicon

    return default_lexicon().fits("certificate_id", text)


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


def _parse_text(extracted: ExtractedDocument, rules: FieldRules) -> Certificate:
    text = extracted.text
    tables = [t for page in extracted.pages for t in page.tables]
    sources: list[tuple[str, list[Found]]] = [
        ("tables", read_tables(tables, rules)),
        ("label-lines", [read_label_lines(text, rules)]),
        ("prose", [read_prose(text, rules)]),
    ]
    cert_fields: dict[str, str] = {}
    best: list[dict[str, str]] = []
    layout = ""
    for name, founds in sources:
        for found in founds:
            for field_name, value in found:
                if field_name in CERT_FIELDS and not cert_fields.get(field_name):
                    cleaned = clean_value(field_name, value, rules)
                    if field_name != "certificate_id" or _id_shaped(cleaned):
                        cert_fields[field_name] = cleaned
        listings = [
            {k: v for k, v in ((k, clean_value(k, v, rules)) for k, v in listing.items())
             if not _another_fields_label(k, v)}
            for found in founds
            for listing in _group_listings(found)
        ]
        listings = [item for item in listings if _completeness(item) >= 2 or len(listings) == 1]
        if sum(map(_completeness, listings)) > sum(map(_completeness, best)):
            best, layout = listings, name
    return assemble(extracted, cert_fields, best, layout=layout)


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


def _another_fields_label(name: str, value: str) -> bool:
    """A value that starts with another field's label is the next line, not this field's value
    ('Firmware Version' with nothing after it, then 'HW Version 7.3')."""
    from pipeline.reader.lexicon import default_lexicon  # the reader imports this module

    hit = default_lexicon().label_at_start(value)
    return hit is not None and hit.field != name


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
