"""The label lexicon (rules/lexicon.toml): labels per field in several languages, the value shape
each field accepts, and the cue words of prose.

Labels are matched word by word on normalised words, so punctuation and accents never decide a
match: `N.º de certificado`, `N° DE CERTIFICADO` and `No de certificado` are one label.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import regex

from pipeline.rulesfile import RulesFileError, read_rules_toml, rules_path

LEXICON_FILE = rules_path("lexicon.toml")
FIELDS = ("certificate_id", "certificate_date", "device_type", "manufacturer", "model",
          "hardware_version", "firmware_version")
# Lower-case words that make a text a sentence rather than a field value (English prose; the
# certificates' own values are names, codes and versions).
PROSE_WORDS = frozenset({"the", "has", "have", "been", "is", "are", "was", "were", "which",
                         "that", "this", "these", "shall", "must", "may", "will", "its",
                         "hereby", "under", "below", "above", "following", "described"})
_WORD = regex.compile(r"\S+")
_FOLD = str.maketrans({"°": "o", "º": "o", "ß": "ss"})


class LexiconError(RulesFileError):
    """rules/lexicon.toml is malformed: the message names the file and the problem."""


@lru_cache(maxsize=8192)  # the same words come back on every page and every document
def norm_word(word: str) -> str:
    """Case folded, accents dropped, only letters and digits kept: `N.º` -> `no`."""
    folded = unicodedata.normalize("NFKD", word.translate(_FOLD).casefold())
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True)
class Word:
    """One raw word of a text, its normalised form, and where it starts and ends."""

    norm: str
    start: int
    end: int


def words_of(text: str) -> list[Word]:
    return [Word(norm_word(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class Shape:
    pattern: regex.Pattern[str]
    max_words: int


@dataclass(frozen=True)
class LabelHit:
    """A label at the start of a text: its field, the label as printed, and where the value
    (anything after the label and its separators) starts. `separated` tells whether a colon,
    dotted leader or slash follows the label, or the label ends the text."""

    field: str
    label: str
    value_start: int
    separated: bool


@dataclass(frozen=True, eq=False)  # hashed by identity: compiled patterns are cached per rules
class ProseRules:
    """rules/lexicon.toml [prose]: what may stand between a cue and its value, cues that follow
    their value, and the company-name grammar used when no cue names the manufacturer."""

    fillers: tuple[str, ...] = ()
    value_fillers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    comma_fields: frozenset[str] = frozenset()
    after_cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    legal_forms: tuple[str, ...] = ()
    house_words: frozenset[str] = frozenset()
    house_cues: tuple[str, ...] = ()
    # a product's name in a sentence, with no cue (prose.py `_named_products`): what may stand
    # right before it, and words no product name holds (standards, stacks, references)
    product_openers: tuple[str, ...] = ()
    not_product_words: frozenset[str] = frozenset()
    reference_nouns: frozenset[str] = frozenset()  # `LH/ZB/19-007 test unit`: a reference
    # words of a device's kind (`In-Home Display`, `Communications Hub`): before a model's
    # name they describe it (`the In-Home Display IHD-55` is IHD-55); after a brand they are
    # part of it (`Meridian Gas Meter MG4`)
    kind_words: frozenset[str] = frozenset()
    # plural nouns a list of products follows in a sentence saying `respectively`
    plural_products: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class LayoutRules:
    """rules/lexicon.toml [layout]: the words by which the layout reader tells a label in a
    sentence from a label with its value, and what a table's header cells name."""

    # a bare certificate noun is no ID label without a separator (`Certificate ISO9001 ...`)
    bare_certificate_labels: frozenset[str] = frozenset()
    sentence_words: tuple[str, ...] = ()
    type_headers: frozenset[str] = frozenset()  # a `Type` column beside the model's: device types
    image_type_headers: frozenset[str] = frozenset()  # a column of image types beside models
    versions_headers: frozenset[str] = frozenset()  # a column of versions named by prefixes

    @cached_property
    def sentence_word(self) -> regex.Pattern[str]:
        """A lower-case word of running text: one of `sentence_words`, or a verb in the past."""
        words = "|".join(regex.escape(w) for w in self.sentence_words)
        return regex.compile(rf"(?<!\S)(?:{words}|\p{{Ll}}{{3,}}ed)(?!\S)")


def header_key(text: str) -> str:
    """A header cell's words as the [layout] header lists give them: case-blind, without
    surrounding punctuation or any spaces (`Versions (HW / FW)` is `versions(hw/fw)`)."""
    return "".join(text.strip(" :./").casefold().split())


LABEL_MEMO_SIZE = 20_000  # texts remembered by Lexicon.label_at_start (a few MB at most)


@dataclass(frozen=True)
class Lexicon:
    version: str
    labels: dict[tuple[str, ...], str]  # normalised label words -> field
    longest: int  # words in the longest label
    shapes: dict[str, Shape]
    cues: dict[str, tuple[str, ...]]
    path: str
    prose: ProseRules = field(default_factory=ProseRules)
    denials: tuple[str, ...] = ()  # [documents] not_a_certificate: a letter saying it is none
    # [documents]: a letter's own reference (`Our ref:`), the certificate's ID when the letter
    # says so in one of `reference_phrases` ("a certificate bearing the reference shown ...")
    letter_references: tuple[str, ...] = ()
    reference_phrases: tuple[str, ...] = ()
    layout: LayoutRules = field(default_factory=LayoutRules)

    def denial(self, text: str) -> str:
        """The phrase by which the text says it is not a certificate, or ''."""
        folded = " ".join(text.casefold().split())
        return next((d for d in self.denials if d.casefold() in folded), "")

    def label_at_start(self, text: str) -> LabelHit | None:
        """The longest label the text starts with, and the labels of the same field in other
        languages that follow it (`Certificate No. / N° de certificat:`). Remembered per text:
        the readers ask again of the same segments, and labels repeat across documents."""
        memo = self._label_memo
        if text in memo:
            return memo[text]
        if len(memo) >= LABEL_MEMO_SIZE:
            memo.clear()
        hit = memo[text] = self._label_at_start(text)
        return hit

    @cached_property
    def _label_memo(self) -> dict[str, LabelHit | None]:
        return {}

    def _label_at_start(self, text: str) -> LabelHit | None:
        lead = len(text) - len(text.lstrip(" /|"))
        if 0 < lead < len(text):  # '/ Zertifikat Nr.': a translation drawn apart from its label
            hit = self._label_at_start(text[lead:])
            return None if hit is None else dataclasses.replace(
                hit, label=text[: lead + len(hit.label)], value_start=hit.value_start + lead)
        first = _WORD.search(text)
        if first is None or norm_word(first.group()) not in self.first_words:
            return None  # most segments: no label starts with their first word
        words = words_of(text)
        first = self._longest_label(words, 0)
        if first is None:
            return None
        field, used = first
        index, separated = _skip_separators(text, words, used)
        if index < len(words) and _numbered(text, words[index]):
            # 'Manufacturer (1)', 'Model (2)': the device's number is part of the label
            index, _ = _skip_separators(text, words, index + 1)
            separated = True
        while index < len(words):  # a translation of the same label, then its separators
            again = self._longest_label(words, index)
            if again is None and "/" in text[words[used - 1].end : words[index].start]:
                again = self._alternative_ending(words, used, index)
            if again is None or again[0] != field:
                break
            index, more = _skip_separators(text, words, again[1])
            separated = separated or more
        start = words[index].start if index < len(words) else len(text)
        start = _after_leaders(text, start)
        label = text[: words[used - 1].end]
        return LabelHit(field, label, start, separated or index >= len(words))

    def _alternative_ending(self, words: Sequence[Word], used: int, index: int
                            ) -> tuple[str, int] | None:
        """`Model Name / Number`: the words after the slash stand for the label's last word,
        so `model number` is a label too; or they go on from the label, as in a header cell
        wrapped at its slash (`Hardware /` over `Version`: `hardware version`). (field, index
        after them) when it is one."""
        for head in (tuple(w.norm for w in words[:used]), tuple(w.norm for w in words[: used - 1])):
            if not head:
                continue
            for size in range(min(self.longest - len(head), len(words) - index), 0, -1):
                key = head + tuple(w.norm for w in words[index : index + size])
                if "" not in key and (field := self.labels.get(key)) is not None:
                    return field, index + size
        return None

    @cached_property
    def first_words(self) -> frozenset[str]:
        return frozenset(words[0] for words in self.labels)

    def _longest_label(self, words: Sequence[Word], start: int) -> tuple[str, int] | None:
        """(field, index after the label) for the longest label starting at words[start]."""
        for size in range(min(self.longest, len(words) - start), 0, -1):
            key = tuple(w.norm for w in words[start : start + size])
            if "" in key:
                continue
            field = self.labels.get(key)
            if field is not None:
                return field, start + size
        return None

    def is_only_labels(self, text: str) -> str | None:
        """The field when the whole text is labels of one field (any languages), else None."""
        hit = self.label_at_start(text)
        if hit is None or text[hit.value_start :].strip(" :.-/|"):
            return None
        return hit.field

    def fits(self, field: str, value: str) -> bool:
        """The value has its field's shape: pattern, length in words, and not a sentence."""
        shape = self.shapes[field]
        words = value.split()
        if not words or len(words) > shape.max_words:
            return False
        if shape.pattern.fullmatch(value) is None:
            return False
        return not any(w in PROSE_WORDS for w in words)


_LEADER_MARKS = ".…_·:"
_LEADER_RUN = regex.compile(r"[.…_·:]{3}")


def is_leader_junk(word: str, last: bool) -> bool:
    """Dotted leaders as OCR reads them, dots mixed with specks (`.......csccsscses`,
    `::.:::s:++00+0.`, `2.00.00...`): a word with a run of three leader marks, before more
    text; the last word of a text only when half of it is leader marks (`0000.....`)."""
    if _LEADER_RUN.search(word) is None:
        return False
    return not last or 2 * sum(ch in _LEADER_MARKS for ch in word) >= len(word)


def _numbered(text: str, word: Word) -> bool:
    """A device's number in brackets after a label: `(1)`, `(12)`."""
    return _DEVICE_NUMBER.fullmatch(text[word.start : word.end]) is not None


_DEVICE_NUMBER = regex.compile(r"\(\d{1,2}\)[:.]?")


def _skip_separators(text: str, words: Sequence[Word], index: int) -> tuple[int, bool]:
    """Past words that are only punctuation (`:`, `/`, `....`) or OCR'd leaders; True when there
    was one, or the label itself ended in `:`/`.`."""
    separated = index > 0 and text[words[index - 1].end - 1] in ":."
    while index < len(words) and (not words[index].norm or is_leader_junk(
            text[words[index].start : words[index].end], index == len(words) - 1)):
        separated = True
        index += 1
    return index, separated


def _after_leaders(text: str, start: int) -> int:
    """Past dotted leaders glued to the value (`........ZIG18-3692`)."""
    while start < len(text) and text[start] in ".·…_:":
        start += 1
    return start


def _schema(path: Path, problem: str) -> LexiconError:
    return LexiconError(f"{path}: {problem}")


def load_lexicon(path: Path | None = None) -> Lexicon:
    path = path or LEXICON_FILE
    data = read_rules_toml(path, ("fields", "shapes"), ("version", "cues", "prose", "documents",
                                                            "layout"),
                           what="the lexicon")
    fields, shapes, cues = data.get("fields", {}), data.get("shapes", {}), data.get("cues", {})
    labels: dict[tuple[str, ...], str] = {}
    for name in FIELDS:
        entry = fields.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("labels"), list):
            raise _schema(path, f"[fields.{name}] needs a list `labels`")
        for label in entry["labels"]:
            key = tuple(w.norm for w in words_of(str(label)) if w.norm)
            if not key:
                raise _schema(path, f"[fields.{name}] has an empty label {label!r}")
            if labels.get(key, name) != name:
                raise _schema(path, f"label {label!r} is given for {labels[key]} and {name}")
            labels[key] = name
    documents = _documents(path, data.get("documents", {}))
    return Lexicon(
        version=str(data.get("version", "")),
        labels=labels,
        longest=max(len(k) for k in labels),
        shapes={name: _shape(path, name, shapes.get(name)) for name in FIELDS},
        cues={name: tuple(str(c) for c in cues.get(name, ())) for name in FIELDS},
        path=str(path),
        prose=_prose(path, data.get("prose", {})),
        denials=documents["not_a_certificate"],
        letter_references=documents["letter_reference_labels"],
        reference_phrases=documents["reference_is_certificate"],
        layout=_layout(path, data.get("layout", {})),
    )


def _string_lists(path: Path, section: str, entry: object, keys: Sequence[str], items: str
                  ) -> dict[str, tuple[str, ...]]:
    """A section of lists of strings: each of `keys` (missing ones empty), no other key."""
    if not isinstance(entry, dict):
        raise _schema(path, f"[{section}] must be a table")
    if unknown := sorted(set(entry) - set(keys)):
        raise _schema(path, f"[{section}] has unknown keys {unknown}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in keys:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _schema(path, f"[{section}] {key} must be a list of {items}")
        lists[key] = tuple(value)
    return lists


def _layout(path: Path, entry: object) -> LayoutRules:
    lists = _string_lists(path, "layout", entry, (
        "bare_certificate_labels", "sentence_words", "type_headers", "image_type_headers",
        "versions_headers"), "words")
    return LayoutRules(
        bare_certificate_labels=frozenset(norm_word(w) for w in lists["bare_certificate_labels"]),
        sentence_words=lists["sentence_words"],
        type_headers=frozenset(header_key(w) for w in lists["type_headers"]),
        image_type_headers=frozenset(header_key(w) for w in lists["image_type_headers"]),
        versions_headers=frozenset(header_key(w) for w in lists["versions_headers"]),
    )


_DOCUMENT_KEYS = ("not_a_certificate", "letter_reference_labels", "reference_is_certificate")


def _documents(path: Path, entry: object) -> dict[str, tuple[str, ...]]:
    """[documents]: each key's phrases, spaces folded."""
    lists = _string_lists(path, "documents", entry, _DOCUMENT_KEYS, "phrases")
    return {key: tuple(" ".join(p.split()) for p in phrases) for key, phrases in lists.items()}


def _prose(path: Path, entry: object) -> ProseRules:
    if not isinstance(entry, dict):
        raise _schema(path, "[prose] must be a table")

    def words(value: object, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise _schema(path, f"[prose] {where} must be a list of words")
        return tuple(value)

    def folded(key: str) -> frozenset[str]:  # a word list compared case-blind
        return frozenset(w.casefold() for w in words(entry.get(key, []), key))

    def per_field(key: str) -> dict[str, tuple[str, ...]]:
        table = entry.get(key, {})
        if not isinstance(table, dict) or set(table) - set(FIELDS):
            raise _schema(path, f"[prose.{key}] must be a table keyed by field names")
        return {name: words(v, f"{key}.{name}") for name, v in table.items()}

    known = {"fillers", "value_fillers", "comma_fields", "after_cues", "legal_forms",
             "house_words", "house_cues", "product_openers", "not_product_words",
             "reference_nouns", "kind_words", "plural_products"}
    if unknown := sorted(set(entry) - known):
        raise _schema(path, f"[prose] has unknown keys {unknown}")
    return ProseRules(
        fillers=words(entry.get("fillers", []), "fillers"),
        value_fillers=per_field("value_fillers"),
        comma_fields=frozenset(words(entry.get("comma_fields", []), "comma_fields")),
        after_cues=per_field("after_cues"),
        legal_forms=words(entry.get("legal_forms", []), "legal_forms"),
        house_words=folded("house_words"),
        house_cues=words(entry.get("house_cues", []), "house_cues"),
        product_openers=words(entry.get("product_openers", []), "product_openers"),
        not_product_words=folded("not_product_words"),
        reference_nouns=folded("reference_nouns"),
        kind_words=folded("kind_words"),
        plural_products=words(entry.get("plural_products", []), "plural_products"),
    )


def _shape(path: Path, name: str, entry: object) -> Shape:
    if not isinstance(entry, dict) or "pattern" not in entry:
        raise _schema(path, f"[shapes.{name}] needs a `pattern`")
    try:
        pattern = regex.compile(str(entry["pattern"]))
    except regex.error as exc:
        raise _schema(path, f"[shapes.{name}] pattern does not compile: {exc}") from exc
    return Shape(pattern, int(entry.get("max_words", 10)))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return load_lexicon()
