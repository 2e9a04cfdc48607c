"""The manufacturers registry as the public Zigbee list: every listed company maps from its name,
shared names give every code, and companies that share a word never cross-map."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.codings import candidates_for, judge
from pipeline.models import Field, Verdict
from pipeline.registry import (
    MANUFACTURERS_CSV,
    RULES_DIR,
    load_registry,
    manufacturer_rows,
    normalise_company,
)
from scripts import build_manufacturers as build

MAN = Field.MANUFACTURER
REGISTRY = load_registry()
ROWS = manufacturer_rows(MANUFACTURERS_CSV)
HAND_PICKED = manufacturer_rows(RULES_DIR / "manufacturers-hand-picked.csv")
PUBLIC_SOURCES = {build.CSA, build.WIRESHARK}

CSA_XML = """<?xml version="1.0"?>
<map>
  <!-- <mapping code="0x7777" translation="Commented Out"/> -->
  <mapping code="0x1016" translation="Honeywell"/>
  <mapping code="0x1031" translation="Secure Meters"/>
  <mapping code="0x1084" translation="Secure electrans"/>
  <mapping code="0x109B" translation="Home Automation Inc."/>
  <mapping code="0x109B" translation="Pioneer Corp"/>
  <mapping code="0x10D8" translation="Honeywell"/>
  <mapping code="0x10E0" translation="Chameleon Technology (UK) Ltd"/>
  <mapping code="0x1092" translation="Black &amp; Decker"/>
  <mapping code='0x0004' translation='Philips (RF4CE)'/>
  <mapping code="0x10EE" translation="Universal Electronics, Inc."/>
  <mapping code="0xFFFF" translation="Wildcard"/>
</map>
"""

PACKET_ZBEE_H = r"""
#define ZBEE_MFG_CODE_PHILIPS_RF4CE       0x0004
#define ZBEE_MFG_CODE_PHILIPS             0x100b
#define ZBEE_MFG_CODE_HONEYWELL1          0x1016
#define ZBEE_MFG_CODE_PRI                 0x1031
#define ZBEE_MFG_CODE_SECURE              0x1084   /* Secure electrans */
#define ZBEE_MFG_CODE_LEVITON             0x109b
#define ZBEE_MFG_CODE_HONEYWELL2          0x10d8
#define ZBEE_MFG_CODE_UNIVERSAL1          0x10ee
#define ZBEE_MFG_CODE_UNIVERSAL           0x1103
#define ZBEE_MFG_CODE_NONAME              0x1200
#define ZBEE_MFG_CODE_ALIAS               ZBEE_MFG_CODE_PRI
#define ZBEE_MFG_PHILIPS                  "Philips"
#define ZBEE_MFG_HONEYWELL                "Honeywell"
#define ZBEE_MFG_PRI                      "PRI"
#define ZBEE_MFG_SECURE                   "Secure " "electrans"
#define ZBEE_MFG_LEVITON                  "Leviton"  /* was "Home Automation" */
#define ZBEE_MFG_UNIVERSA L               "Universal Electronics, Inc."
#define ZBEE_MFG_UNIVERSAL                "Universal Devices"
#define ZBEE_MFG_SCEMTEC                  "Scemtec f\303\274r \"Mess\""
"""


def _names(row) -> list[str]:
    return list(row.names)


# --- the build script, on small copies of its inputs -------------------------------------------

@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    csa, header, hand = tmp_path / "manufacturers.xml", tmp_path / "packet-zbee.h", tmp_path / "hand.csv"
    csa.write_text(CSA_XML, encoding="utf-8")
    header.write_text(PACKET_ZBEE_H, encoding="utf-8")
    hand.write_text("code,name,aliases\n10:31,Secure Meters (UK),\n10:E0,Chameleon Technology,Chameleon\n"
                    "12:99,Hand Only Meters,HOM\n", encoding="utf-8")
    return csa, header, hand


def test_csa_list_is_read_in_file_order_with_entities_and_without_comments(inputs) -> None:
    warnings: list[str] = []
    listed = build.read_csa(inputs[0], warnings)
    assert listed[:3] == [("10:16", "Honeywell"), ("10:31", "Secure Meters"), ("10:84", "Secure electrans")]
    assert ("10:92", "Black & Decker") in listed and ("00:04", "Philips (RF4CE)") in listed
    assert [c for c, _ in listed].count("10:9B") == 2
    assert not any(c in ("77:77", "FF:FF") for c, _ in listed)
    assert any("0xFFFF" in w for w in warnings)


def test_wireshark_codes_pair_with_names_exactly_or_by_a_guess(inputs) -> None:
    warnings: list[str] = []
    found = build.read_wireshark(inputs[1], warnings)
    exact, guessed = dict(found.exact), dict(found.guessed)
    assert exact["10:31"] == "PRI" and exact["11:03"] == "Universal Devices"
    assert exact["10:84"] == "Secure electrans"  # adjacent literals joined
    assert guessed["10:16"] == guessed["10:D8"] == "Honeywell"  # HONEYWELL1/2 -> HONEYWELL
    assert guessed["00:04"] == "Philips"  # PHILIPS_RF4CE -> PHILIPS
    assert guessed["10:EE"] == "Universal Devices"  # UNIVERSAL1 -> UNIVERSAL: a wrong guess
    assert "12:00" not in exact and "12:00" not in guessed and any("NONAME" in w for w in warnings)


def test_a_guessed_pairing_only_confirms_a_name_another_list_gives(inputs) -> None:
    warnings: list[str] = []
    rows = build.merge(build.read_csa(inputs[0], []), build.read_wireshark(inputs[1], []), [], warnings)
    by_code = {r.code: r for r in rows}
    assert by_code["10:16"].sources == {build.CSA, build.WIRESHARK}
    assert (by_code["10:EE"].aliases, by_code["10:EE"].sources) == ([], {build.CSA})
    assert (by_code["00:04"].aliases, by_code["00:04"].sources) == ([], {build.CSA})
    assert sorted(w.split(": ")[2].split(" ")[0] for w in warnings) == ["00:04", "10:EE"]


def test_c_strings_unescape_to_utf8() -> None:
    assert build._c_string([r"Scemtec f\303\274r \"Mess\""]) == 'Scemtec für "Mess"'


def test_merge_keeps_csa_names_and_adds_the_others_as_aliases(inputs, tmp_path: Path) -> None:
    out = tmp_path / "manufacturers.csv"
    assert build.main([str(inputs[0]), str(inputs[1]), "--hand-picked", str(inputs[2]),
                       "--out", str(out)]) == 0
    rows = {(r.code, r.names[0]): r for r in manufacturer_rows(out)}
    assert _names(rows["10:31", "Secure Meters"]) == ["Secure Meters", "PRI"]  # '(UK)' adds nothing
    both = "csa-manufacturers.xml;wireshark-packet-zbee.h"
    assert rows["10:31", "Secure Meters"].origin == f"{both};hand-picked"
    assert _names(rows["10:E0", "Chameleon Technology (UK) Ltd"])[1:] == ["Chameleon"]
    assert rows["10:84", "Secure electrans"].origin == both
    assert _names(rows["10:9B", "Home Automation Inc."]) == ["Home Automation Inc.", "Leviton"]
    assert rows["10:9B", "Pioneer Corp"].origin == "csa-manufacturers.xml"
    assert (_names(rows["12:99", "Hand Only Meters"]), rows["12:99", "Hand Only Meters"].origin) == (
        ["Hand Only Meters", "HOM"], "hand-picked")
    assert rows["10:0B", "Philips"].origin == "wireshark-packet-zbee.h"
    assert rows["11:03", "Universal Devices"].origin == "wireshark-packet-zbee.h"


def test_collisions_name_every_code(inputs) -> None:
    rows = build.merge(build.read_csa(inputs[0], []), build.read_wireshark(inputs[1], []), [])
    clashes = build.collisions(rows)
    assert clashes == {"honeywell": {"10:16": ["Honeywell"], "10:D8": ["Honeywell"]}}
    assert "secure meters" not in clashes and "secure electrans" not in clashes


def test_a_name_the_csv_cannot_carry_stops_the_build(inputs, tmp_path: Path) -> None:
    inputs[1].write_text('#define ZBEE_MFG_CODE_ODD 0x1031\n#define ZBEE_MFG_ODD "Odd;Name"\n')
    out = tmp_path / "out.csv"
    assert build.main([str(inputs[0]), str(inputs[1]), "--hand-picked", str(inputs[2]),
                       "--out", str(out)]) == 1
    assert not out.exists()
    rows = build.merge([("12:98", "Acme")], build.Wireshark([], []), [("12:98", ["Acme", "***"])])
    assert build.check_names(rows) == ["12:98: name '***' has no words"]


# --- the shipped registry ------------------------------------------------------------------------

def _registry_codes(text: str) -> set[str]:
    """The codes the registry gives a certificate's manufacturer text (codings' readings aside)."""
    return {c.value for c in candidates_for(text, MAN, REGISTRY) if c.coding.startswith("registry:")}


def _codes_by_key() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for key, entries in REGISTRY.manufacturers.items():
        table[key] = {e.code for e in entries}
    return table


def test_the_shipped_file_is_the_public_list() -> None:
    sources = [set(r.origin.split(";")) for r in ROWS]
    assert len(ROWS) > 450
    assert all(s and s <= {*PUBLIC_SOURCES, build.HAND_PICKED} for s in sources)
    assert sum(build.CSA in s for s in sources) > 450 and sum(build.WIRESHARK in s for s in sources) > 300


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.code} {r.names[0]}" for r in ROWS])
def test_every_listed_company_maps_from_its_listed_name(row) -> None:
    for name in row.names:
        assert row.code in [e.code for e in REGISTRY.manufacturer_entries(name)], name
    assert row.code in {c.value for c in candidates_for(row.names[0], MAN, REGISTRY)}


@pytest.mark.parametrize("row", HAND_PICKED, ids=[f"{r.code} {r.names[0]}" for r in HAND_PICKED])
def test_hand_picked_names_are_kept(row) -> None:
    for name in row.names:
        assert row.code in _registry_codes(name), name


# Normalised names that a coding reads as hex by themselves: the shown hex wins over the registry
# (pipeline.codings consults the registry only when no coding reads the text), so the bare text
# '2D2C' is code 2D:2C, not 2D2C, Inc.'s 10:CF; '2D2C, Inc.' still maps.
READ_AS_HEX = {"2d2c"}


def test_a_name_shared_by_several_codes_gives_every_code() -> None:
    shadowed = set()
    for key, codes in _codes_by_key().items():
        if not _registry_codes(key) >= codes:
            shadowed.add(key)
    assert shadowed == READ_AS_HEX
    assert _registry_codes("2D2C, Inc.") == {"10:CF"}


def test_honeywell_maps_only_to_its_two_codes_and_names_both() -> None:
    assert _registry_codes("Honeywell") == {"10:16", "10:D8"}
    for cpl, other in (("10:16", "10:D8"), ("10:D8", "10:16")):
        result = judge("Honeywell Ltd", MAN, cpl, REGISTRY)
        assert (result.status, result.method) == (Verdict.MAPPED, "registry:manufacturers.csv:Honeywell")
        assert "'Honeywell'" in result.reason and cpl in result.reason
        assert "'Honeywell' is the name of 2 codes: 10:16, 10:D8" in result.reason
        assert result.alternatives == (f"{other} (registry:manufacturers.csv:Honeywell)",)
    wrong = judge("Honeywell", MAN, "10:6C", REGISTRY)
    assert wrong.status is Verdict.MISMATCH
    assert "10:16" in wrong.reason and "10:D8" in wrong.reason


@pytest.mark.parametrize(
    "text", ["Secure Meters (UK)", "Secure Meters (UK) Ltd", "SECURE METERS (UK) LIMITED", "Secure Meters",
             "secure meters ltd.", "Secure Meters Limited (UK)"],
)
def test_secure_meters_is_10_31_and_never_secure_electrans(text: str) -> None:
    assert _registry_codes(text) == {"10:31"}
    assert judge(text, MAN, "10:31", REGISTRY).status is Verdict.MAPPED
    assert judge(text, MAN, "10:84", REGISTRY).status is Verdict.MISMATCH


def test_secure_electrans_is_10_84_only() -> None:
    assert _registry_codes("Secure electrans") == {"10:84"}
    assert judge("Secure Electrans Ltd", MAN, "10:31", REGISTRY).status is Verdict.MISMATCH


@pytest.mark.parametrize(
    ("shorter", "longer"),
    [("Secure", "Secure Meters"), ("Secure", "Secure electrans"), ("Insta", "Insta Elektro GmbH"),
     ("GE", "GE Appliances"), ("Samsung", "Samsung SDS"), ("Bosch", "Robert Bosch LLC"),
     ("Kaifa", "Shenzhen Kaifa Technology Co., Ltd.")],
)
def test_a_name_inside_another_never_cross_maps(shorter: str, longer: str) -> None:
    """Only whole-name (or alias) equality maps: neither name lends its codes to the other.

    (No bracketed name here: the engine also reads a certificate's text without its bracketed
    asides, so the text 'Philips (RF4CE)' gives Philips' codes too; that is pipeline.codings.)
    """
    short_codes = {e.code for e in REGISTRY.manufacturer_entries(shorter)}
    long_codes = {e.code for e in REGISTRY.manufacturer_entries(longer)}
    assert long_codes, longer
    by_key = _codes_by_key()
    assert short_codes == by_key.get(normalise_company(shorter), set())
    assert long_codes == by_key[normalise_company(longer)]
    assert _registry_codes(shorter) == short_codes
    assert normalise_company(shorter) != normalise_company(longer)
    for code in long_codes - short_codes:
        assert judge(shorter, MAN, code, REGISTRY).status is not Verdict.MAPPED, code
    for code in short_codes - long_codes:
        assert judge(longer + " Ltd", MAN, code, REGISTRY).status is not Verdict.MAPPED, code


def test_first_and_last_words_alone_map_only_to_their_own_entries() -> None:
    """Across the whole list, a word of a name is no shortcut to that name's code."""
    by_key = _codes_by_key()
    for row in ROWS:
        words = normalise_company(row.names[0]).split()
        for part in {words[0], words[-1]} if len(words) > 1 else ():
            assert _registry_codes(part) == by_key.get(part, set()), (row.names[0], part)


@pytest.mark.parametrize("text", ["Acme Smart Meters Ltd", "Secure Meter", "Honeywel", "Secure Meters Group",
                                  "Meters (UK) Ltd", "Secure"])
def test_a_made_up_company_stays_unverifiable(text: str) -> None:
    result = judge(text, MAN, "10:31", REGISTRY)
    assert result.status is Verdict.UNVERIFIABLE, result.reason
    assert "has no entry in the manufacturers registry" in result.reason
