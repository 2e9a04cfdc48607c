"""Field-value fuzzing inside decompressed content streams (issue 13, "Also measure").

Raw-byte mutation mostly breaks a compressed stream; here a sample PDF is rewritten with its
content streams uncompressed (pikepdf, as `qpdf --stream-data=uncompress`), and one digit or
hex letter inside the string of a text operator (Tj, TJ, ', ") is changed: the file still
opens and shows a value that differs from the original by one character.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pikepdf

TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}
DIGITS = b"0123456789"
HEX_UPPER = b"ABCDEF"
HEX_LOWER = b"abcdef"
VALUE_WORD = re.compile(rb"[0-9A-Za-z]+")


@dataclass(frozen=True)
class Site:
    """One mutable character: page (0-based), instruction, string operand, byte offset."""

    page: int
    instruction: int
    operand: tuple[int, ...]  # index path into the operands (a TJ array's element: (0, k))
    offset: int
    byte: int


def _alphabet(byte: int) -> bytes | None:
    for alphabet in (DIGITS, HEX_UPPER, HEX_LOWER):
        if byte in alphabet:
            return alphabet
    return None


def _strings(operands: list[object]) -> Iterator[tuple[tuple[int, ...], bytes]]:
    for i, operand in enumerate(operands):
        if isinstance(operand, pikepdf.String):
            yield (i,), bytes(operand)
        elif isinstance(operand, pikepdf.Array):
            for k, item in enumerate(operand):
                if isinstance(item, pikepdf.String):
                    yield (i, k), bytes(item)


def _value_offsets(text: bytes) -> Iterator[int]:
    """Digits and hex letters of the words that hold a digit ("10:6C", "01_02", an ID), not of
    label words ("Certificate"): a mutant then changes a value, not the text around it."""
    for word in VALUE_WORD.finditer(text):
        if any(ch in DIGITS for ch in word.group()):
            yield from (word.start() + k for k, ch in enumerate(word.group()) if _alphabet(ch))


def sites(data: bytes) -> list[Site]:
    """Every digit and hex letter of a value inside a text operator's strings."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages):
            for index, (operands, operator) in enumerate(pikepdf.parse_content_stream(page)):
                if str(operator) not in TEXT_OPERATORS:
                    continue
                for path, text in _strings(list(operands)):
                    found.extend(Site(number, index, path, offset, text[offset])
                                 for offset in _value_offsets(text))
    return found


def mutate(data: bytes, site: Site, rng: random.Random) -> tuple[bytes, str]:
    """`data` uncompressed with the character at `site` changed to another of its alphabet;
    and what changed ("'3' -> '7'")."""
    alphabet = _alphabet(site.byte)
    assert alphabet is not None
    new = rng.choice([b for b in alphabet if b != site.byte])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[site.page]
        instructions = list(pikepdf.parse_content_stream(page))
        operands, operator = instructions[site.instruction]
        operands = list(operands)
        if len(site.operand) == 1:
            text = bytearray(bytes(operands[site.operand[0]]))
            text[site.offset] = new
            operands[site.operand[0]] = pikepdf.String(bytes(text))
        else:
            array = operands[site.operand[0]]
            items = list(array)
            text = bytearray(bytes(items[site.operand[1]]))
            text[site.offset] = new
            items[site.operand[1]] = pikepdf.String(bytes(text))
            operands[site.operand[0]] = pikepdf.Array(items)
        instructions[site.instruction] = pikepdf.ContentStreamInstruction(operands, operator)
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
        out = io.BytesIO()
        pdf.save(out, compress_streams=False,
                 stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
                 deterministic_id=True)
    return out.getvalue(), f"{chr(site.byte)!r} -> {chr(new)!r}"


def mutants(data: bytes, count: int, seed: int = 13) -> Iterator[tuple[bytes, str]]:
    """`count` one-character mutants of `data` (fewer when it has fewer sites), reproducible."""
    rng = random.Random(seed)  # noqa: S311 - reproducible fuzzing, not crypto
    found = sites(data)
    for site in rng.sample(found, min(count, len(found))):
        yield mutate(data, site, rng)
