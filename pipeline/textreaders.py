"""The older text readers: fields from a page's plain text by label lines, pdfplumber's
tables and prose cue phrases, with the labels and grammars of rules/fields.toml.

The layout reader (pipeline.reader) reads pages with boxes first; these give a second opinion,
taken by parse.parse_certificate only when they fill more of a single certificate, and read the
pages that have no boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex

from pipeline.models import CERT_FIELDS, DEVICE_FIELDS, Certificate, ExtractedDocument
from pipeline.parse import FieldRules, assemble, clause, clean_value, label_key

_LEADING_NOISE = regex.compile(r"^[^\w(\[]+(?=\w)")
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
            found.append((rules.label_to_field[label_key(match.group("label"))], match.group("value")))
            continue
        spaced = rules.label_space.match(line)
        if spaced and spaced.group("label")[0].isupper() and _plain_value(spaced, rules):
            value = _before_next_label(spaced.group("value"), rules)
            found.append((rules.label_to_field[label_key(spaced.group("label"))], value))
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
    return (bool(value) and not whole_line_is_label and rules.label_only.match(value) is None
            and _LABEL_GOES_ON.match(value) is None)


# Words and a colon after a known label: the label goes on ('Model Designation: CAD-8733' is no
# model 'Designation: CAD-8733'), a label the rules do not know.
_LABEL_GOES_ON = regex.compile(r"\p{L}[\p{L}.]*(?: \p{L}[\p{L}.]*){0,3}:")


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
                pairs.append((rules.label_to_field[label_key(match.group("label"))], match.group("value")))
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
            found.append((rules.phrase_to_field[label_key(hit.group("phrase"))], value))
    return found


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


def _id_shaped(text: str) -> bool:
    """A certificate ID has an ID's shape (rules/lexicon.toml): an invoice's
    "Certificate ID: sub-signatures" is none (issue 13)."""
    from pipeline.reader.lexicon import default_lexicon

    return default_lexicon().fits("certificate_id", text)


def parse_text(extracted: ExtractedDocument, rules: FieldRules) -> Certificate:
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


def _another_fields_label(name: str, value: str) -> bool:
    """A value that starts with another field's label is the next line, not this field's value
    ('Firmware Version' with nothing after it, then 'HW Version 7.3')."""
    from pipeline.reader.lexicon import default_lexicon  # the reader imports this module

    hit = default_lexicon().label_at_start(value)
    return hit is not None and hit.field != name


