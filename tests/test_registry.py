"""Registries: company and model names -> codes, by exact lookup after normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.registry import (
    canonical_code,
    load_registry,
    normalise_company,
    normalise_model,
)

# The public Zigbee manufacturer codes the issue lists (also in Wireshark's packet-zbee.h).
ISSUE_CODES = [
    ("Itron", "10:28"), ("Siemens", "10:2C"), ("Elster", "10:57"), ("Landis+Gyr", "10:63"),
    ("EDMI", "10:6C"), ("Secure Electrans", "10:84"), ("Toshiba", "10:86"),
    ("Green Energy Options", "10:90"), ("Sensus", "10:A2"), ("British Gas", "10:A7"),
    ("Trilliant", "10:C7"), ("Chameleon Technology", "10:E0"), ("BGlobal Metering", "10:E6"),
    ("Genus", "10:ED"), ("Shenzhen Kaifa", "11:25"), ("Aclara", "11:8F"), ("SmartDCC", "12:1D"),
    ("Hildebrand Technology", "12:22"), ("Flonidan", "12:3E"),
]


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("EDMI Ltd", "edmi"),
        ("EDMI Ltd.", "edmi"),
        ("edmi limited", "edmi"),
        ("EDMI", "edmi"),
        ("Landis+Gyr AG", "landis gyr"),
        ("LANDIS + GYR", "landis gyr"),
        ("Siemens plc", "siemens"),
        ("Elster GmbH", "elster"),
        ("Itron, Inc.", "itron"),
        ("Acme LLC", "acme"),
        ("Shenzhen Kaifa Technology Co., Ltd.", "shenzhen kaifa technology"),
        ("Toshiba Corp", "toshiba"),
        ("Foo S.A.", "foo"),
        ("Foo B.V.", "foo"),
        ("Co", "co"),
        ("ＥＤＭＩ Ｌｔｄ", "edmi"),
        ("  Green   Energy\tOptions  Limited ", "green energy options"),
        ("Ltd Meters", "ltd meters"),
        ("", ""),
        ("Secure Meters (UK) Ltd", "secure meters"),
        ("SECURE METERS (UK) LIMITED", "secure meters"),
        ("Secure Meters Ltd (UK)", "secure meters"),
        ("Chameleon Technology (UK) Ltd", "chameleon technology"),
        ("Foo (UK) Meters", "foo uk meters"),
        ("(UK)", "uk"),
        ("Telecom Italia", "telecom italia"),
        ("Philips (RF4CE)", "philips rf4ce"),
        ("Flonidan A/S", "flonidan"),
        ("Radiocrafts AS", "radiocrafts"),
        ("NIVISS PHP Sp. z o.o.", "niviss php"),
        ("Alfred Karcher GmbH & Co KG", "alfred karcher"),
        ("A/S", "a s"),
    ],
)
def test_normalise_company(name: str, normalised: str) -> None:
    assert normalise_company(name) == normalised


def test_normalise_model_keeps_every_word() -> None:
    assert normalise_model("E-470 Ltd") == "e 470 ltd"


@pytest.mark.parametrize(
    ("text", "code"),
    [("10:6C", "10:6C"), ("106c", "10:6C"), ("0x106C", "10:6C"), ("10-6c", "10:6C"),
     ("10:6", None), ("EDMI", None), ("10:6C:00", None), ("", None)],
)
def test_canonical_code(text: str, code: str | None) -> None:
    assert canonical_code(text) == code


@pytest.mark.parametrize(("name", "code"), ISSUE_CODES)
def test_issue_manufacturer_codes_are_shipped(registry, name: str, code: str) -> None:
    assert code in [e.code for e in registry.manufacturer_entries(name)]


def test_one_name_may_carry_several_codes(registry) -> None:
    assert sorted(e.code for e in registry.manufacturer_entries("Honeywell Ltd")) == ["10:16", "10:D8"]


@pytest.mark.parametrize("name", ["EDM", "EDMI Metering", "Landis", "Itr0n", "Acme", ""])
def test_names_are_never_fuzzy_matched(registry, name: str) -> None:
    assert registry.manufacturer_entries(name) == ()


def test_aliases_resolve_to_the_same_entry(registry) -> None:
    (entry,) = registry.manufacturer_entries("Smart DCC Ltd")
    assert (entry.code, entry.name, entry.source) == ("12:1D", "SmartDCC", "manufacturers.csv")


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_files_add_to_the_shipped_ones(tmp_path: Path) -> None:
    extra = _csv(tmp_path, "ours.csv", "code,name,aliases\n# comment\n\n12:34,Acme Meters,Acme;ACM\n")
    models = _csv(tmp_path, "our-models.csv",
                  "manufacturer_code,image_type,name,aliases\n10:6C,01:02,E470,Atlas E470\n")
    registry = load_registry([extra], [models])
    assert [e.code for e in registry.manufacturer_entries("ACME Ltd")] == ["12:34"]
    assert [e.code for e in registry.manufacturer_entries("EDMI")] == ["10:6C"]
    (model,) = registry.model_entries("106c", "ATLAS  e470")
    assert (model.image_type, model.name, model.source) == ("01:02", "E470", "our-models.csv")
    assert registry.model_entries("10:63", "E470") == ()
    assert registry.model_entries("not a code", "E470") == ()


def test_an_extra_file_may_give_a_known_name_another_code(tmp_path: Path) -> None:
    extra = _csv(tmp_path, "more.csv", "code,name\n10:6D,EDMI\n")
    entries = load_registry([extra]).manufacturer_entries("EDMI")
    assert [(e.code, e.source) for e in entries] == [
        ("10:6C", "manufacturers.csv"), ("10:6D", "more.csv")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name,aliases\n10:6C,EDMI,\nXYZ,Acme,\n", "line 3: code 'XYZ' is not XX:XX hex"),
        ("code,name,aliases\nFF:FF,Acme,\n", "line 2: code FF:FF is above FFFE"),
        ("code,name,aliases\n10:6C,,\n", "line 2: empty name"),
        ("code,name,aliases\n10:6C,EDMI,a,b\n", "line 2: 4 cells for 3 columns"),
        ("name,aliases\nEDMI,\n", "line 1: header must be code,name,aliases"),
        ("code,name,colour\n10:6C,EDMI,red\n", "unknown ['colour']"),
        ("# only a comment\n", "no header line"),
    ],
)
def test_bad_manufacturer_file_names_file_line_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _csv(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError) as error:
        load_registry([path])
    assert str(path) in str(error.value) and message in str(error.value)


def test_bad_model_file_names_file_line_and_problem(tmp_path: Path) -> None:
    path = _csv(tmp_path, "m.csv", "manufacturer_code,image_type,name\n10:6C,FF:C0,E470\n")
    with pytest.raises(ValueError, match=r"m\.csv, line 2: image_type FF:C0 is above FFBF"):
        load_registry((), [path])


def test_a_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read registry file"):
        load_registry([tmp_path / "absent.csv"])


def test_a_source_column_is_optional_and_kept_as_the_entry_origin(tmp_path: Path) -> None:
    extra = _csv(tmp_path, "with-source.csv",
                 "code,name,aliases,source\n12:34,Acme Meters,Acme,our survey\n12:35,Bolt Meters,,\n")
    registry = load_registry([extra])
    (acme,) = registry.manufacturer_entries("Acme")
    (bolt,) = registry.manufacturer_entries("Bolt Meters Ltd")
    assert (acme.code, acme.origin, bolt.code, bolt.origin) == ("12:34", "our survey", "12:35", "")
    plain = _csv(tmp_path, "plain.csv", "code,name\n12:36,Cog Meters\n")
    (cog,) = load_registry([plain]).manufacturer_entries("Cog Meters")
    assert (cog.code, cog.source, cog.origin) == ("12:36", "plain.csv", "")
