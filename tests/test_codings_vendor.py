"""Vendor codings through manufacturer declarations, PARTIAL as SPEC defines it, and the real GB
meter (Flonidan G4SZV) whose mixed coding must never be MAPPED. Issue 15."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.codings import (
    MANUFACTURER_CODINGS_DIR,
    candidates_for,
    clear_cache,
    explain_rows,
    judge,
    load_codings,
    load_manufacturer_codings,
    manufacturer_code_for,
)
from pipeline.codings import rules as codings_rules
from pipeline.codings.engine import _readings
from pipeline.models import Field, Verdict
from pipeline.registry import load_registry

FW = Field.FIRMWARE
MATCH, MAPPED, PARTIAL = Verdict.MATCH, Verdict.MAPPED, Verdict.PARTIAL
MISMATCH, UNVERIFIABLE = Verdict.MISMATCH, Verdict.UNVERIFIABLE
REGISTRY = load_registry()
DECLARED = load_manufacturer_codings()
RULES = load_codings()
FLONIDAN = "12:3E"

# (certificate text, CPL value, manufacturer code, verdict, coding): each vendor's convention,
# under its shipped declaration
VENDOR = [
    ("1.0.13", "00:00:00:4D", "11:41", MAPPED, "tuya-version-byte"),  # the TS011F plug's 77
    ("2.1.9", "00:00:00:99", "11:41", MAPPED, "tuya-version-byte"),
    ("1.0.13", "00:00:00:4D", "10:6C", MISMATCH, ""),  # Tuya's byte is not EDMI's
    ("6.11.2.1", "00:00:6B:21", "10:49", MAPPED, "silabs-ember-version"),
    ("6.11.2.1", "00:00:6B:21", "10:02", MAPPED, "silabs-ember-version"),
    ("6.11.2.1", "00:00:6B:21", "11:41", MISMATCH, ""),
    ("6.11.2.1", "06:0B:02:01", "10:49", MAPPED, "decimal-per-component/left-aligned"),  # [also]
    ("24.4.5", "24:04:00:05", "11:7C", MAPPED, "bcd/app-stack"),
    ("v20", "00:00:00:14", "11:7C", MAPPED, "decimal-integer"),
    ("8195.4", "20:03:00:04", "11:7C", MAPPED, "decimal-16-bit-halves"),
    ("8195.4", "20:03:00:04", None, MISMATCH, ""),
    ("24.4.5", "00:24:04:05", "11:7C", MISMATCH, ""),  # IKEA's list has no right-aligned BCD
    ("1.2.3.44", "01:02:03:2C", "11:89", MAPPED, "decimal-per-component/left-aligned"),
    ("1.2.3.44", "01:02:03:2C", "11:0C", MAPPED, "decimal-per-component/left-aligned"),
    ("1.2.3.44", "01:02:03:44", "11:89", MISMATCH, ""),  # BCD is not LEDVANCE's
    ("040210", "00:04:02:10", "10:78", MAPPED, "hex-string"),
    ("v23", "00:00:00:23", "10:78", MAPPED, "hex-string"),
    ("v23", "00:00:00:17", "10:78", MISMATCH, ""),
    ("v23", "00:00:00:17", "12:2F", MAPPED, "decimal-integer"),
    ("v23", "00:00:00:23", "12:2F", MISMATCH, ""),
    ("0x00000017", "00:00:00:17", "10:78", MATCH, "hex-shown"),  # a shown hex value always counts
]


@pytest.mark.parametrize(("text", "cpl", "maker", "verdict", "coding"), VENDOR)
def test_vendor_coding_under_its_declaration(text, cpl, maker, verdict, coding) -> None:
    result = judge(text, FW, cpl, manufacturer_code=maker)
    assert (result.status, result.method) == (verdict, coding), result.reason
    declared = DECLARED.get(maker or "")
    if verdict is MAPPED and declared and declared.declares(FW, coding):
        assert declared.name in result.reason and maker in result.reason


def test_every_shipped_declaration_names_a_public_source_and_known_codings() -> None:
    assert {"10:02", "10:49", "10:78", "11:0C", "11:41", "11:7C", "11:89", "12:2F"} <= set(DECLARED)
    known = {c.name: c for c in RULES.for_field(FW)}
    for code, declared in DECLARED.items():
        data = tomllib.loads(Path(declared.path).read_text(encoding="utf-8"))
        assert declared.source.strip() and "@" in declared.source, declared.path  # repo path @ commit
        assert Path(declared.path).name.startswith(code.replace(":", "-")), declared.path
        for name in declared.also.get(FW, ()):
            assert known[name].declared_only, (declared.path, name)
        assert set(data) <= {"manufacturer_code", "manufacturer", "source", "codings", "also"}


def test_a_vendor_coding_is_never_read_for_a_manufacturer_that_does_not_declare_it() -> None:
    vendor = {c.name for c in RULES.for_field(FW) if c.declared_only}
    assert vendor >= {"tuya-version-byte", "silabs-ember-version", "hex-string", "joined-integer"}
    for maker in (None, "10:6C", FLONIDAN, "FF:FE"):
        for text in ("1.0.14", "6.10.3.0", "030103", "3.18", "9220.19", "v17"):
            assert not vendor & {c.coding for c in candidates_for(text, FW, manufacturer_code=maker)}


# --- the Flonidan G4SZV gas meter: radio 3.10.7 is 09:03:0A:07, the certificate shows 3.10 -------

@pytest.mark.parametrize("maker", [None, FLONIDAN])
@pytest.mark.parametrize("text", ["3.10.7", "3.10", "Radio 3.10.7", "Firmware version 3.10"])
def test_flonidan_g4szv_is_never_mapped(text: str, maker: str | None) -> None:
    result = judge(text, FW, "09:03:0A:07", REGISTRY, maker)
    assert result.status not in (MATCH, MAPPED), result.reason


def test_flonidan_radio_version_explains_all_but_the_index_build_octet() -> None:
    result = judge("3.10.7", FW, "09:03:0A:07", REGISTRY, FLONIDAN)
    assert (result.status, result.method) == (PARTIAL, "decimal-per-component/right-aligned")
    assert "octet 1 (09) not shown" in result.reason


# --- PARTIAL exactly as SPEC defines it --------------------------------------------------------

PARTIAL_CASES = [
    ("3_14_3", "06:03:0E:03", None, "decimal-per-component/right-aligned"),
    ("26.0", "01:00:1A:00", None, "decimal-per-component/right-aligned"),
    ("1.1.006", "30:01:10:06", None, "bcd-digits/right-aligned"),
    ("2.3.089", "23:08:96:31", "11:7C", "bcd-digits/left-aligned"),
    ("6.10.3.0", "02:07:6A:30", "10:49", "silabs-ember-version"),
    ("1.0.14", "00:01:00:4E", "11:41", "tuya-version-byte"),
]


@pytest.mark.parametrize(("text", "cpl", "maker", "coding"), PARTIAL_CASES)
def test_partial_whatever_the_coding_or_placement(text, cpl, maker, coding) -> None:
    result = judge(text, FW, cpl, manufacturer_code=maker)
    assert (result.status, result.method) == (PARTIAL, coding), result.reason
    assert "not shown" in result.reason


def _unexplained_variants(text: str, maker: str | None) -> list[tuple[str, str]]:
    """(coding, value): each reading's value with the hex digits it does not show set non-zero,
    one octet at a time (a digit the text shows is kept)."""
    out = []
    for r in _readings(text, FW, None, maker).kept:
        for i in range(0, len(r.nibbles), 2):
            if None not in r.nibbles[i:i + 2]:
                continue
            nibbles = [0 if n is None else n for n in r.nibbles]
            for j in (i, i + 1):
                if r.nibbles[j] is None:
                    nibbles[j] = 0xA
            digits = "".join(f"{n:X}" for n in nibbles)
            out.append((r.coding, ":".join(digits[k:k + 2] for k in range(0, 8, 2))))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 99), min_size=2, max_size=4),
    st.sampled_from([".", "_"]),
    st.sampled_from([None, "11:7C", "11:41", "10:49", "12:3E"]),
)
def test_property_an_unexplained_non_zero_octet_is_partial_never_mismatch(comps, sep, maker) -> None:
    """Any candidate's value with an octet the text does not show made non-zero is PARTIAL (or
    MAPPED, when that value is another candidate): never MISMATCH, under any coding."""
    if sep == "_" and len(comps) < 3:
        sep = "."
    text = sep.join(map(str, comps))
    values = {c.value for c in candidates_for(text, FW, manufacturer_code=maker)}
    for _coding, value in _unexplained_variants(text, maker):
        status = judge(text, FW, value, manufacturer_code=maker).status
        assert status is (MAPPED if value in values else PARTIAL), (text, value, maker)


# --- explain --batch: the manufacturer column ------------------------------------------------

def test_explain_rows_take_a_manufacturer_code_or_name() -> None:
    rows = [
        {"text": "1.0.14", "field": "firmware_version", "cpl": "00:00:00:4E", "manufacturer": "11:41"},
        {"text": "1.0.14", "field": "firmware_version", "cpl": "00:00:00:4E", "manufacturer": "1141"},
        {"text": "24.4.13", "field": "firmware_version", "cpl": "24:04:00:13",
         "manufacturer": "IKEA of Sweden"},
        {"text": "1.0.14", "field": "firmware_version", "cpl": "00:00:00:4E", "manufacturer": ""},
        {"text": "v17", "field": "firmware_version", "cpl": "00:00:00:11", "manufacturer": "Honeywell"},
        {"text": "v17", "field": "firmware_version", "cpl": "00:00:00:11", "manufacturer": "Acme Meters"},
    ]
    out = explain_rows(rows, REGISTRY)
    assert [r["status"] for r in out] == ["MAPPED", "MAPPED", "MAPPED", "MISMATCH", "MAPPED", "MAPPED"]
    assert out[0]["method"] == out[1]["method"] == "tuya-version-byte"
    assert "11-41-telink-tuya.toml" in out[0]["reason"]
    assert "11-7C-ikea.toml" in out[2]["reason"]
    assert "tuya-version-byte" not in out[3]["candidates"]
    assert "names 2 codes (10:16, 10:D8): no declaration applied" in out[4]["reason"]
    assert "has no code in the registry" in out[5]["reason"]
    assert list(out[0])[:4] == ["text", "field", "cpl", "manufacturer"]


def test_manufacturer_code_for() -> None:
    assert manufacturer_code_for("0x117C", REGISTRY) == ("11:7C", "")
    assert manufacturer_code_for("Ikea of Sweden AB", REGISTRY) == ("11:7C", "")
    assert manufacturer_code_for("", REGISTRY) == (None, "")
    assert manufacturer_code_for("IKEA", None)[0] is None


def test_cli_explain_batch_applies_the_declaration(tmp_path: Path) -> None:
    batch = tmp_path / "versions.csv"
    batch.write_text("text,field,cpl,manufacturer\n1.0.14,firmware_version,00:00:00:4E,11:41\n"
                     "1.0.14,firmware_version,00:00:00:4E,\n", encoding="utf-8")
    out = tmp_path / "checked.csv"
    assert main(["explain", "--batch", str(batch), "--output", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        got = list(csv.DictReader(handle))
    assert [(r["status"], r["method"]) for r in got] == [("MAPPED", "tuya-version-byte"), ("MISMATCH", "")]


# --- the guidance's four examples keep their verdicts, whoever the manufacturer ------------------

GUIDANCE = [
    ("12.3 (Stack 1.2.3.4)", "12:03:12:34", MAPPED),
    ("12.3 (Stack 12.34)", "0C:03:0C:22", MAPPED),
    ("Some String (14.7)", "0D:07:00:00", MISMATCH),
    ("7.8D Other String", "00:00:07:8D", MAPPED),
]


@pytest.mark.parametrize("maker", [None, "10:49", "10:02", "11:41", FLONIDAN])
@pytest.mark.parametrize(("text", "cpl", "verdict"), GUIDANCE)
def test_guidance_examples_keep_their_verdicts(text, cpl, verdict, maker) -> None:
    assert judge(text, FW, cpl, manufacturer_code=maker).status is verdict


def test_example_3_is_no_vendor_coding_either() -> None:
    for maker in DECLARED:
        assert judge("Some String (14.7)", FW, "0D:07:00:00", manufacturer_code=maker).status is not MAPPED


def test_shipped_declarations_live_in_the_rules_folder() -> None:
    assert all(Path(d.path).parent == MANUFACTURER_CODINGS_DIR for d in DECLARED.values())


# --- constant tails: a declaration may name the digits a vendor's string never shows -----------

@pytest.fixture
def tail_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A manufacturer FF:01 whose bcd-digits strings end in the constant 631 (as IKEA's 2.3.089
    -> 23:08:96:31 would if its tail were constant; the shipped IKEA file declares none)."""
    (tmp_path / "FF-01.toml").write_text(
        'manufacturer_code = "FF:01"\nsource = "test"\n'
        '[codings]\nfirmware_version = ["bcd-digits/left-aligned", "bcd/app-stack"]\n'
        '[tails]\nfirmware_version = [{ coding = "bcd-digits/left-aligned", digits = "631" }]\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(codings_rules, "MANUFACTURER_CODINGS_DIR", tmp_path)
    clear_cache()
    yield "FF:01"
    clear_cache()


def test_a_declared_tail_maps_and_names_its_declaration(tail_declared) -> None:
    result = judge("2.3.072", FW, "23:07:26:31", manufacturer_code=tail_declared)
    assert (result.status, result.method) == (MAPPED, "bcd-digits/left-aligned+tail 631"), result.reason
    assert "tail 631 declared" in result.reason and "FF-01.toml" in result.reason
    assert judge("2.3.072", FW, "23:07:26:32", manufacturer_code=tail_declared).status is PARTIAL
    assert judge("2.3.072", FW, "23:07:26:31").status is PARTIAL  # no declaration, no tail
    # the tail fills exactly the digits the text leaves out: 5 digits shown, 3 left
    shorter = candidates_for("2.3.07", FW, manufacturer_code=tail_declared)
    assert not any("tail" in c.coding for c in shorter)


NOT_USED = "not a coding this manufacturer's declaration uses"


@pytest.mark.parametrize(
    ("tails", "message"),
    [('[{ coding = "bcd/right-aligned", digits = "631" }]', NOT_USED),
     ('[{ coding = "hex-shown", digits = "631" }]', NOT_USED),
     ('[{ coding = "bcd-digits/left-aligned", digits = "63G" }]', "tail digits must be 1-7 hex digits"),
     ('[{ coding = "bcd-digits/left-aligned", digits = "63100000" }]', "tail digits must be 1-7 hex digits"),
     ('[{ coding = "bcd-digits/left-aligned" }]', "missing key(s) ['digits']")],
)
def test_a_bad_tail_is_named(tmp_path: Path, tails: str, message: str) -> None:
    path = tmp_path / "FF-01.toml"
    path.write_text('manufacturer_code = "FF:01"\nsource = "test"\n[codings]\n'
                    f'firmware_version = ["bcd-digits/left-aligned"]\n[tails]\nfirmware_version = {tails}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_manufacturer_codings(tmp_path)
    assert str(path) in str(error.value) and message in str(error.value)
