"""One hex canonicalisation for codings, registries and OTA images (pipeline/hexform.py)."""

from __future__ import annotations

import pytest

from pipeline import codings, hexform, ota, registry


def test_codings_registry_and_ota_share_one_function() -> None:
    assert codings.canonical_hex is hexform.canonical_hex


@pytest.mark.parametrize(
    ("text", "code"),
    [("10:6C", "10:6C"), (" 106c ", "10:6C"), ("0x106C", "10:6C"), ("10-6c", "10:6C"),
     ("10_6c", "10:6C"), ("10 6C", "10:6C"), ("10:6", None), ("10:6C-00", None), ("1:06C", None)],
)
def test_registry_codes_read_as_the_codings_read_them(text: str, code: str | None) -> None:
    assert registry.canonical_code(text) == code == hexform.canonical_hex(text, 2)


@pytest.mark.parametrize(
    ("text", "value"),
    [("01_02", 0x0102), ("0a_1F", 0x0A1F), ("0102", None), ("01:02", None), (" 01_02", None),
     ("0x01_02", None), ("1_02", None), ("", None)],
)
def test_ota_hardware_values_are_strict_vv_rr(text: str, value: int | None) -> None:
    assert ota.hardware_value(text) == value


def test_loose_off_wants_the_octets_alone() -> None:
    assert hexform.canonical_hex("0C:03:0C:22", 4, loose=False) == "0C:03:0C:22"
    assert hexform.canonical_hex("0C030C22", 4, loose=False) is None
    assert hexform.canonical_hex("0C", 1, loose=False) == "0C"
    assert hexform.canonical_hex("0x0C", 1) == "0C"
