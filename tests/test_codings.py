"""Certificate text -> CPL hex, in the guidance's own terms: (text, CPL value, verdict, coding)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline import codings
from pipeline.codings import (
    INTERNAL_ERROR,
    MAX_SCAN,
    candidates_for,
    canonical_hex,
    explain,
    explain_rows,
    field_named,
    judge,
)
from pipeline.models import FIELDS, Candidate, Field, FieldJudgement, Verdict
from pipeline.registry import load_registry

FW, HW, MAN, MOD = Field.FIRMWARE, Field.HARDWARE, Field.MANUFACTURER, Field.MODEL
MATCH, MAPPED, PARTIAL = Verdict.MATCH, Verdict.MAPPED, Verdict.PARTIAL
MISMATCH, MISSING, UNVERIFIABLE = Verdict.MISMATCH, Verdict.MISSING, Verdict.UNVERIFIABLE
REGISTRY = load_registry()

# Guidance §4 table, checked against each coding: example 3 does not add up (14 is 0E, not 0D).
GUIDANCE = [
    ("12.3 (Stack 1.2.3.4)", "12:03:12:34", MAPPED, "bcd/app-stack"),
    ("12.3 (Stack 12.34)", "0C:03:0C:22", MAPPED, "decimal-per-component/app-stack"),
    ("Some String (14.7)", "0D:07:00:00", MISMATCH, ""),
    ("7.8D Other String", "00:00:07:8D", MAPPED, "raw-hex-digits/right-aligned"),
]

FIRMWARE = [
    # hex shown: any separator or none, 0x prefix, lower case
    ("0c:03:0c:22", "0C:03:0C:22", MATCH, "hex-shown"),
    ("0x0C030C22", "0C:03:0C:22", MATCH, "hex-shown"),
    ("0C030C22", "0C:03:0C:22", MATCH, "hex-shown"),
    ("Firmware 0C-03-0C-22 (release)", "0C:03:0C:22", MATCH, "hex-shown"),
    ("0C:03:0C:22", "0c030c22", MATCH, "hex-shown"),
    # guidance §1 and §4, per-component decimal ("hex coding") and BCD
    ("Version 1.2.5.6", "01:02:05:06", MAPPED, "decimal-per-component/left-aligned"),
    ("Some String (14.7)", "0E:07:00:00", MAPPED, "decimal-per-component/left-aligned"),
    ("Some String (14.7)", "14:07:00:00", MAPPED, "bcd/left-aligned"),
    ("Some String (14.7)", "0E:07:00:01", PARTIAL, "decimal-per-component/left-aligned"),
    ("12.3 (Stack 12.34)", "12:03:12:34", MAPPED, "bcd/app-stack"),
    ("12.3 (Stack 12.34)", "0C:03:0C:23", MISMATCH, ""),
    # public Zigbee OTA images: version string -> file version
    ("3.70.55.18", "03:46:37:12", MAPPED, "decimal-per-component/left-aligned"),
    ("3.12.16", "00:03:0C:10", MAPPED, "decimal-per-component/right-aligned"),
    ("2.3.089", "23:08:96:31", PARTIAL, "bcd-digits/left-aligned"),
    ("24.4.13", "24:04:00:13", MAPPED, "bcd/app-stack"),
    ("0.0.0_0046", "00:00:00:2E", MAPPED, "build-number"),
    ("V030103", "00:03:01:03", MAPPED, "decimal-per-component/right-aligned"),
    ("v17", "00:00:00:11", MAPPED, "decimal-integer"),
    ("2.6.0", "02:60:04:60", PARTIAL, "bcd/app-only"),
    # components too large for their coding give no candidate under it
    ("Version 1.2.300.4", "01:02:2C:04", MISMATCH, ""),
    ("Version 1.2.300.4", "01:02:01:2C", MISMATCH, ""),
    # a shown hex value is what the certificate states; other readings are not offered
    ("1.2.5.6 (0x01020507)", "01:02:05:06", MISMATCH, ""),
    # regressions found by the properties: a number after '_' or 'v' is decimal, not shown hex
    ("1.2_10000000", "00:98:96:80", MAPPED, "build-number"),
    ("v10000000", "00:98:96:80", MAPPED, "decimal-integer"),
    ("v10000000", "10:00:00:00", MAPPED, "bcd/left-aligned"),  # digit pairs 10.00.00.00, as V030103
    ("FW v00:00:00:01", "00:00:00:01", MATCH, "hex-shown"),
    ("FW v0.A", "00:0A:00:00", MAPPED, "raw-hex-digits/left-aligned"),
    ("FW v0.A", "00:00:00:00", MISMATCH, ""),
    # OCR's letter O inside hex: repair is the OCR stage's job; here it is simply not read
    ("0C:O3:0C:22", "0C:03:0C:22", UNVERIFIABLE, ""),
    # nothing to read, or nothing there
    ("Beta release", "01:00:00:00", UNVERIFIABLE, ""),
    ("", "01:00:00:00", MISSING, ""),
    ("   \n", "01:00:00:00", MISSING, ""),
    ("1.2.3.4.5.6.7.8.9", "01:02:03:04", UNVERIFIABLE, ""),
]

HARDWARE = [
    ("01_02", "01_02", MATCH, "hex-shown"),
    ("Hardware 0A_1f", "0A_1F", MATCH, "hex-shown"),
    ("1.2", "01_02", MAPPED, "decimal-per-component/left-aligned"),
    ("v1.2", "01_02", MAPPED, "decimal-per-component/left-aligned"),
    ("Version 1 Revision 2", "01_02", MAPPED, "decimal-per-component/left-aligned"),
    ("HW 1 Rev 10", "01_0A", MAPPED, "decimal-per-component/left-aligned"),
    ("HW 1 Rev 10", "01_10", MAPPED, "bcd/left-aligned"),
    ("1", "01_00", MAPPED, "decimal-per-component/left-aligned"),
    ("1", "01_03", PARTIAL, "decimal-per-component/left-aligned"),
    ("1.2", "01_03", MISMATCH, ""),
    ("1.2", "02_01", MISMATCH, ""),
    ("Rev B", "01_02", UNVERIFIABLE, ""),
]

MANUFACTURER = [
    ("(10:6C)", "10:6C", MATCH, "hex-shown"),
    ("EDMI Limited (10:6C)", "10:6C", MATCH, "hex-shown"),
    ("Manufacturer Code 0x106C", "10:6C", MATCH, "hex-shown"),
    ("106c", "10:6C", MATCH, "hex-shown-alone"),
    ("EDMI Ltd", "10:6C", MAPPED, "registry:manufacturers.csv:EDMI Pty Ltd"),
    ("edmi limited", "10:6C", MAPPED, "registry:manufacturers.csv:EDMI Pty Ltd"),
    ("Landis+Gyr AG", "10:63", MAPPED, "registry:manufacturers.csv:Landis+Gyr"),
    ("Honeywell", "10:D8", MAPPED, "registry:manufacturers.csv:Honeywell"),
    ("Honeywell", "10:16", MAPPED, "registry:manufacturers.csv:Honeywell"),
    ("Flonidan (Denmark)", "12:3E", MAPPED, "registry:manufacturers.csv:Flonidan A/S"),
    ("EDMI", "10:63", MISMATCH, ""),
    ("EDMI Limited (10:6D)", "10:6C", MISMATCH, ""),  # the shown code wins over the name
    ("Acme Meters Ltd", "10:6C", UNVERIFIABLE, ""),
    ("EDM1 Ltd", "10:6C", UNVERIFIABLE, ""),  # never fuzzy
]

MODEL = [
    ("E470 (Image Type 01:02)", "01:02", MATCH, "hex-shown"),
    ("Image Type 0x0102", "01:02", MATCH, "hex-shown"),
    ("E470 (Image Type 01:02)", "E4:70", MISMATCH, ""),
    ("E470", "E4:70", UNVERIFIABLE, ""),  # a model name is not hex
]


def _check(text: str, field: Field, cpl: str, verdict: Verdict, method: str, **kw) -> FieldJudgement:
    result = judge(text, field, cpl, REGISTRY, **kw)
    assert result.status is verdict, result.reason
    assert result.method == method, result.reason
    assert result.field is field and result.cpl == cpl and result.certificate_text == text
    assert result.reason
    return result


@pytest.mark.parametrize(("text", "cpl", "verdict", "method"), GUIDANCE)
def test_guidance_table(text: str, cpl: str, verdict: Verdict, method: str) -> None:
    _check(text, FW, cpl, verdict, method)


def test_guidance_example_3_does_not_add_up_and_the_engine_says_so() -> None:
    result = judge("Some String (14.7)", FW, "0D:07:00:00")
    assert result.status is MISMATCH
    assert "0E:07" in result.reason and "14:07" in result.reason and "0D:07:00:00" in result.reason
    assert "0E:07:00:00 (decimal-per-component/left-aligned)" in result.alternatives


@pytest.mark.parametrize(("text", "cpl", "verdict", "method"), FIRMWARE)
def test_firmware(text: str, cpl: str, verdict: Verdict, method: str) -> None:
    _check(text, FW, cpl, verdict, method)


@pytest.mark.parametrize(("text", "cpl", "verdict", "method"), HARDWARE)
def test_hardware(text: str, cpl: str, verdict: Verdict, method: str) -> None:
    _check(text, HW, cpl, verdict, method)


@pytest.mark.parametrize(("text", "cpl", "verdict", "method"), MANUFACTURER)
def test_manufacturer(text: str, cpl: str, verdict: Verdict, method: str) -> None:
    _check(text, MAN, cpl, verdict, method)


@pytest.mark.parametrize(("text", "cpl", "verdict", "method"), MODEL)
def test_model(text: str, cpl: str, verdict: Verdict, method: str) -> None:
    _check(text, MOD, cpl, verdict, method, manufacturer_code="10:6C")


def test_partial_names_the_unexplained_octets() -> None:
    result = judge("2.3.089", FW, "23:08:96:31")
    assert "octets 3-4 (96:31) not shown" in result.reason
    assert "first digit, 9, of octet 3" in result.reason
    assert "octets 1-2 (23:08)" in result.reason
    assert "octets 3-4 (04:60) not shown" in judge("2.6.0", FW, "02:60:04:60").reason
    assert "hardware revision (03) not shown" in judge("1", HW, "01_03").reason


def test_a_shown_digit_that_disagrees_is_a_mismatch_not_partial() -> None:
    assert judge("2.3.089", FW, "23:08:56:31").status is MISMATCH


def test_mapped_with_zero_octets_says_they_count_as_explained() -> None:
    result = judge("7.8D Other String", FW, "00:00:07:8D")
    assert "octets 1-2 (00:00) not shown, and 00 in the CPL value" in result.reason


def test_mapped_names_the_alternatives() -> None:
    result = judge("12.3 (Stack 12.34)", FW, "0C:03:0C:22")
    assert result.alternatives == ("12:03:12:34 (bcd/app-stack)",)
    honeywell = judge("Honeywell", MAN, "10:16", REGISTRY)
    assert honeywell.alternatives == ("10:D8 (registry:manufacturers.csv:Honeywell)",)


def test_every_candidate_is_kept_where_codings_disagree() -> None:
    values = {(c.value, c.coding) for c in candidates_for("3.12.16", FW)}
    assert ("00:03:0C:10", "decimal-per-component/right-aligned") in values
    assert ("03:0C:10:00", "decimal-per-component/left-aligned") in values
    assert ("00:03:12:16", "bcd/right-aligned") in values
    assert ("03:12:00:16", "bcd/app-stack") in values
    assert len(values) <= 8  # modest: more candidates, more chance a wrong value coincides


def test_candidates_carry_value_coding_placement_and_explained_octets() -> None:
    (first, *_) = candidates_for("Some String (14.7)", FW)
    assert first == Candidate(
        value="0E:07:00:00",
        coding="decimal-per-component/left-aligned",
        placement="left-aligned",
        explained=(True, True, False, False),
        note="'14.7' -> 0E:07:??:?? (14->0E, 7->07); same value by decimal-per-component/app-stack",
    )
    (hw,) = [c for c in candidates_for("HW 1 Rev 10", HW) if c.coding == "bcd/left-aligned"]
    assert hw.value == "01_10" and hw.explained == (True, True)


def test_same_value_by_two_codings_is_one_candidate_noting_both() -> None:
    (candidate,) = [c for c in candidates_for("Version 1.2.5.6", FW) if c.value == "01:02:05:06"]
    assert candidate.coding == "decimal-per-component/left-aligned"
    assert "bcd/left-aligned" in candidate.note


def test_registry_is_not_used_without_one() -> None:
    result = judge("EDMI Ltd", MAN, "10:6C")
    assert result.status is UNVERIFIABLE and "no manufacturers registry" in result.reason


def test_model_registry(tmp_path: Path) -> None:
    models = tmp_path / "models.csv"
    models.write_text("manufacturer_code,image_type,name,aliases\n10:6C,01:02,E470,Atlas E470\n")
    registry = load_registry((), [models])
    result = judge("Atlas E470", MOD, "01:02", registry, "10:6C")
    assert (result.status, result.method) == (MAPPED, "registry:models.csv:E470")
    assert judge("E470", MOD, "01:02", registry, "10:63").status is UNVERIFIABLE
    assert "no manufacturer code" in judge("E470", MOD, "01:02", registry).reason


@pytest.fixture
def edmi_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The shipped EDMI example, put in force (examples never narrow by themselves)."""
    example = (codings.MANUFACTURER_CODINGS_DIR / "10-6C-edmi.toml").read_text(encoding="utf-8")
    (tmp_path / "10-6C.toml").write_text(example.replace("example = true", ""), encoding="utf-8")
    monkeypatch.setattr(codings.rules, "MANUFACTURER_CODINGS_DIR", tmp_path)
    codings.clear_cache()
    yield
    codings.clear_cache()


def test_example_declarations_do_not_narrow() -> None:
    assert "10:6C" not in codings.load_manufacturer_codings()
    assert "10:6C" in codings.load_manufacturer_codings(include_examples=True)
    assert judge("v17", FW, "00:00:00:11", manufacturer_code="10:6C").status is MAPPED


def test_manufacturer_rules_narrow_the_candidates(edmi_declared) -> None:
    everyone = {c.coding for c in candidates_for("2.3.089", FW)}
    edmi = {c.coding for c in candidates_for("2.3.089", FW, manufacturer_code="10:6C")}
    assert "bcd-digits/left-aligned" in everyone and "bcd-digits/left-aligned" not in edmi
    assert edmi < everyone
    result = judge("v17", FW, "00:00:00:11", manufacturer_code="10:6C")
    assert result.status is UNVERIFIABLE
    assert "would map by decimal-integer" in result.reason and "10:6C" in result.reason
    assert judge("0x00000011", FW, "00:00:00:11", manufacturer_code="10:6c").status is MATCH
    assert judge("v17", FW, "00:00:00:11", manufacturer_code="10:63").status is MAPPED


@pytest.mark.parametrize(
    ("text", "octets", "canonical"),
    [
        ("0c030c22", 4, "0C:03:0C:22"),
        ("0x0C030C22", 4, "0C:03:0C:22"),
        ("0C-03-0C-22", 4, "0C:03:0C:22"),
        ("0c 03 0c 22", 4, "0C:03:0C:22"),
        (" 0C:03:0C:22 ", 4, "0C:03:0C:22"),
        ("01_02", 2, "01:02"),
        ("106c", 2, "10:6C"),
        ("0C:03:0C", 4, None),
        ("0C:03:0C:22:00", 4, None),
        ("0C:03-0C:22", 4, None),
        ("0C:3:0C:22", 4, None),
        ("0G:03:0C:22", 4, None),
        ("0O:03:0C:22", 4, None),  # OCR's letter O: left to the OCR stage, no crash
        ("0C.03.0C.22", 4, None),  # dots are decimal versions, not hex
        ("", 4, None),
        ("0x", 1, None),
    ],
)
def test_canonical_hex(text: str, octets: int, canonical: str | None) -> None:
    assert canonical_hex(text, octets) == canonical


def test_bad_cpl_value_is_a_mismatch_with_reason_never_a_crash() -> None:
    result = judge("1.2.5.6", FW, "1.2.5.6")
    assert result.status is MISMATCH and "not in XX:XX:XX:XX hex form" in result.reason


@pytest.mark.parametrize("text", [None, 12, b"1.2"])
def test_non_text_input_is_a_verdict(text) -> None:
    assert judge(text, FW, "01:02:00:00").status in (MISSING, UNVERIFIABLE)


def test_only_the_first_max_scan_characters_are_read() -> None:
    assert candidates_for("x" * MAX_SCAN + " 1.2.5.6", FW) == []
    assert candidates_for("1.2.5.6 " + "x" * 100_000, FW)


def test_unicode_digits_are_read_as_their_ascii_forms_or_not_at_all() -> None:
    assert judge("１.２.５.６", FW, "01:02:05:06").status is MAPPED  # fullwidth, NFKC
    assert judge("١.٢.٥.٦", FW, "01:02:05:06").status is UNVERIFIABLE  # Arabic-Indic


def test_field_given_as_plain_string() -> None:
    assert judge("1.2", "hardware_version", "01_02").status is MAPPED  # type: ignore[arg-type]


def test_explain_is_json_able() -> None:
    out = explain("12.3 (Stack 12.34)", FW, "0C:03:0C:22")
    json.dumps(out)
    assert out["field"] == "firmware_version" and out["status"] == "MAPPED"
    assert out["method"] == "decimal-per-component/app-stack"
    assert out["candidates"][0]["explained_octets"] == [1, 2, 3, 4]
    assert {"value", "coding", "placement", "explained_octets", "note"} == set(out["candidates"][0])
    assert out["alternatives"] == ["12:03:12:34 (bcd/app-stack)"]
    assert "status" not in explain("1.2", HW)


def test_explain_rows() -> None:
    rows = [
        {"text": "Some String (14.7)", "field": "firmware_version", "cpl": "0D:07:00:00"},
        {"text": "EDMI Ltd", "field": "manufacturer", "cpl": "10:6C"},
        {"text": "1.2", "field": "hardware_version", "cpl": ""},
        {"text": "1.2", "field": "colour", "cpl": "01_02"},
    ]
    out = explain_rows(rows, REGISTRY)
    assert list(out[0]) == ["text", "field", "cpl", "status", "method", "candidates", "reason"]
    assert out[0]["status"] == "MISMATCH"
    assert out[0]["candidates"].startswith(
        "0E:07:00:00 (decimal-per-component/left-aligned); 00:00:0E:07 (decimal-per-component/"
    )
    assert (out[1]["status"], out[1]["method"]) == ("MAPPED", "registry:manufacturers.csv:EDMI Pty Ltd")
    assert out[2]["status"] == "" and out[2]["candidates"] == "01_02 (decimal-per-component/left-aligned)"
    assert out[3]["status"] == "ERROR" and "unknown field" in out[3]["reason"]


@pytest.mark.parametrize(
    ("name", "field"),
    [("firmware_version", FW), ("Firmware Version", FW), ("hardware", HW), (" MODEL ", MOD)],
)
def test_field_named(name: str, field: Field) -> None:
    assert field_named(name) is field


# --- properties -----------------------------------------------------------------------------------

def _hex(octets: list[int], sep: str = ":") -> str:
    return sep.join(f"{o:02X}" for o in octets)


octet = st.integers(0, 255)
bcd_octet = st.integers(0, 99)
digit = st.integers(0, 9)


@st.composite
def rendered_firmware(draw) -> tuple[str, str, str]:
    """(text, CPL value, coding): random octets rendered as a certificate would show them."""
    coding = draw(st.sampled_from([
        "hex-shown", "decimal-per-component/left-aligned", "decimal-per-component/right-aligned",
        "decimal-per-component/app-stack", "bcd/left-aligned", "bcd/right-aligned",
        "bcd/app-stack", "bcd/app-only", "raw-hex-digits/left-aligned",
        "raw-hex-digits/right-aligned", "bcd-digits/left-aligned", "decimal-integer",
        "build-number",
    ]))
    prefix = draw(st.sampled_from(["", "Version ", "Firmware ", "FW v", "Release ("]))
    if coding == "hex-shown":
        value = draw(st.lists(octet, min_size=4, max_size=4))
        sep = draw(st.sampled_from(["", ":", "-", " "]))
        text = ("0x" if draw(st.booleans()) and not sep else "") + _hex(value, sep)
        text = text.lower() if draw(st.booleans()) else text
        if not sep:  # 'v12345678' is a decimal version number, not hex
            prefix = prefix.replace("v", "")
        return prefix + text, _hex(value), coding
    if coding.startswith(("decimal-per-component/left", "decimal-per-component/right", "bcd/left",
                          "bcd/right")):
        comps = draw(st.lists(bcd_octet if coding.startswith("bcd") else octet,
                              min_size=2, max_size=4))
        if coding.startswith("bcd"):
            octets = [int(str(c), 16) for c in comps]
        else:
            octets = comps
        pad = [0] * (4 - len(comps))
        value = octets + pad if "left" in coding else pad + octets
        return prefix + ".".join(map(str, comps)), _hex(value), coding
    if coding == "decimal-per-component/app-stack":
        a, b, c, d = draw(st.lists(octet, min_size=4, max_size=4))
        return f"{prefix}{a}.{b} (Stack {c}.{d})", _hex([a, b, c, d]), coding
    if coding == "bcd/app-stack":
        a, b = draw(st.lists(bcd_octet, min_size=2, max_size=2))
        w, x, y, z = draw(st.lists(digit, min_size=4, max_size=4))
        value = [int(str(a), 16), int(str(b), 16), w * 16 + x, y * 16 + z]
        return f"{prefix}{a}.{b} (Stack {w}.{x}.{y}.{z})", _hex(value), coding
    if coding == "bcd/app-only":
        x, y, z = draw(st.lists(digit, min_size=3, max_size=3))
        return f"{prefix}{x}.{y}.{z}", _hex([x, y * 16 + z, 0, 0]), coding
    if coding.startswith("raw-hex-digits"):
        comps = draw(st.lists(octet, min_size=2, max_size=4))
        texts = [f"{c:X}" for c in comps]
        assume(any(ch in "ABCDEF" for t in texts for ch in t))
        pad = [0] * (4 - len(comps))
        value = comps + pad if "left" in coding else pad + comps
        return prefix + ".".join(texts), _hex(value), coding
    if coding == "bcd-digits/left-aligned":
        digits = draw(st.lists(digit, min_size=2, max_size=8))
        cut = draw(st.integers(1, len(digits) - 1))
        text = "".join(map(str, digits[:cut])) + "." + "".join(map(str, digits[cut:]))
        nibbles = digits + [0] * (8 - len(digits))
        value = [nibbles[i] * 16 + nibbles[i + 1] for i in range(0, 8, 2)]
        return prefix.replace("v", "") + text, _hex(value), coding
    number = draw(st.integers(0, 2**32 - 1))
    value = list(number.to_bytes(4, "big"))
    if coding == "decimal-integer":
        return f"v{number}", _hex(value), coding
    return f"{prefix.replace('v', '')}1.2_{number}", _hex(value), coding


@st.composite
def rendered_hardware(draw) -> tuple[str, str, str]:
    version, revision = draw(octet), draw(octet)
    style = draw(st.sampled_from(["hex", "dotted", "words", "bcd-words"]))
    if style == "hex":
        return f"{version:02x}_{revision:02X}", f"{version:02X}_{revision:02X}", "hex-shown"
    if style == "bcd-words":
        version, revision = version % 100, revision % 100
        value = f"{int(str(version), 16):02X}_{int(str(revision), 16):02X}"
        return f"HW {version} Rev {revision}", value, "bcd/left-aligned"
    text = f"v{version}.{revision}" if style == "dotted" else f"Version {version} Revision {revision}"
    return text, f"{version:02X}_{revision:02X}", "decimal-per-component/left-aligned"


@st.composite
def rendered_identifier(draw) -> tuple[str, Field, str]:
    field = draw(st.sampled_from([MAN, MOD]))
    value = draw(st.lists(octet, min_size=2, max_size=2))
    style = draw(st.sampled_from(["(XX:XX)", "0x", "Code "]))
    hex_text = _hex(value, "") if style != "(XX:XX)" else _hex(value)
    text = {"(XX:XX)": f"Acme ({hex_text})", "0x": f"Code 0x{hex_text}", "Code ": f"Code {hex_text}"}
    return text[style], field, _hex(value)


def _values(text: str, field: Field) -> set[str]:
    return {c.value for c in candidates_for(text, field, REGISTRY)}


@settings(max_examples=400, deadline=None)
@given(rendered_firmware())
def test_property_rendered_firmware_reads_back(case: tuple[str, str, str]) -> None:
    text, value, coding = case
    assert value in _values(text, FW), (text, coding)
    assert judge(text, FW, value, REGISTRY).status in (MATCH, MAPPED)


@settings(max_examples=200, deadline=None)
@given(rendered_hardware())
def test_property_rendered_hardware_reads_back(case: tuple[str, str, str]) -> None:
    text, value, coding = case
    assert value in _values(text, HW), (text, coding)


@settings(max_examples=200, deadline=None)
@given(rendered_identifier())
def test_property_rendered_identifier_reads_back(case: tuple[str, Field, str]) -> None:
    text, field, value = case
    assert judge(text, field, value, REGISTRY).status is MATCH


# Normalised registry names a coding reads as hex by themselves ('2d2c' is code 2D:2C; the company
# 2D2C, Inc. maps from its listed name: tests/test_registry_public.py)
READ_AS_HEX = {n for n in REGISTRY.manufacturers if candidates_for(n, MAN)}


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(set(REGISTRY.manufacturers) - READ_AS_HEX)),
       st.sampled_from(["", " Ltd", " Limited"]))
def test_property_registry_names_read_back(name: str, suffix: str) -> None:
    codes = {e.code for e in REGISTRY.manufacturers[name]}
    assert codes <= _values(name + suffix, MAN)


def _perturb(value: str, index: int, new: int, field: Field) -> str:
    sep = "_" if field is HW else ":"
    octets = value.split(sep)
    octets[index % len(octets)] = f"{new:02X}"
    return sep.join(octets)


@settings(max_examples=500, deadline=None)
@given(rendered_firmware(), st.integers(0, 3), octet)
def test_property_perturbed_firmware_is_never_accepted(case, index: int, new: int) -> None:
    text, value, _ = case
    wrong = _perturb(value, index, new, FW)
    assume(wrong not in _values(text, FW))
    assert judge(text, FW, wrong, REGISTRY).status not in (MATCH, MAPPED)


@settings(max_examples=200, deadline=None)
@given(rendered_hardware(), st.integers(0, 1), octet)
def test_property_perturbed_hardware_is_never_accepted(case, index: int, new: int) -> None:
    text, value, _ = case
    wrong = _perturb(value, index, new, HW)
    assume(wrong not in _values(text, HW))
    assert judge(text, HW, wrong, REGISTRY).status not in (MATCH, MAPPED)


@settings(max_examples=200, deadline=None)
@given(rendered_identifier(), st.integers(0, 1), octet)
def test_property_perturbed_identifier_is_never_accepted(case, index: int, new: int) -> None:
    text, field, value = case
    wrong = _perturb(value, index, new, field)
    assume(wrong not in _values(text, field))
    assert judge(text, field, wrong, REGISTRY).status not in (MATCH, MAPPED)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=700), st.sampled_from(FIELDS), st.text(max_size=20),
       st.sampled_from([None, "10:6C", "zz"]))
def test_property_arbitrary_unicode_gives_a_verdict(text: str, field: Field, cpl: str, maker) -> None:
    result = judge(text, field, cpl, REGISTRY, maker)
    assert isinstance(result, FieldJudgement) and result.status in Verdict
    assert not result.reason.startswith(INTERNAL_ERROR), result.reason
    for candidate in candidates_for(text, field, REGISTRY, maker):
        assert canonical_hex(candidate.value, 4 if field is FW else 2) == candidate.value.replace("_", ":")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.abcdefABCDEF:x_-vV ()Stack", max_size=60),
       st.sampled_from(FIELDS), st.lists(octet, min_size=4, max_size=4))
def test_property_version_like_noise_only_accepts_candidates(text, field, octets) -> None:
    """MATCH/MAPPED only ever when the CPL value is one of the candidates, exactly."""
    n = 4 if field is FW else 2
    cpl = _hex(octets[:n], "_" if field is HW else ":")
    result = judge(text, field, cpl, REGISTRY)
    assert not result.reason.startswith(INTERNAL_ERROR), result.reason
    if result.status in (MATCH, MAPPED):
        assert cpl in _values(text, field)
