"""Lint every rules file without any PDF: load, schema-check, and run each coding's own examples."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.codings import (
    CODINGS_TOML,
    MANUFACTURER_CODINGS_DIR,
    candidates_for,
    clear_cache,
    judge,
    load_codings,
    load_manufacturer_codings,
)
from pipeline.codings import rules as codings_rules
from pipeline.models import FIELDS, Field, Verdict
from pipeline.registry import MANUFACTURERS_CSV, MODELS_CSV, load_registry

RULES = load_codings()
EXAMPLES = [
    pytest.param(coding, field, example, id=f"{coding.name}[{field.value}]:{example.text}->{example.cpl}")
    for coding in RULES.codings
    for field in sorted(coding.fields)
    for example in coding.examples
]
BY_ITSELF = (Verdict.MATCH, Verdict.MAPPED, Verdict.PARTIAL)


def test_codings_file_loads_with_a_version() -> None:
    assert RULES.version
    assert RULES.codings
    assert Path(RULES.path) == CODINGS_TOML


def test_every_tokeniser_is_used_by_a_coding() -> None:
    used = {t for c in RULES.codings for t in c.tokenisers}
    assert set(RULES.tokenisers) == used


def test_every_field_has_a_hex_shown_coding() -> None:
    for f in FIELDS:
        assert any(c.authoritative for c in RULES.for_field(f)), f


VENDOR_CODE = "FF:00"  # a code no company holds: the lint's own declarations use it


@pytest.fixture
def declaring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Put in force a declaration of manufacturer VENDOR_CODE whose codings are the ones given."""

    def declare(field: Field, *names: str) -> str:
        listed = ", ".join(f'"{n}"' for n in names)
        (tmp_path / "vendor.toml").write_text(
            f'manufacturer_code = "{VENDOR_CODE}"\nsource = "test"\n[codings]\n{field.value} = [{listed}]\n',
            encoding="utf-8",
        )
        monkeypatch.setattr(codings_rules, "MANUFACTURER_CODINGS_DIR", tmp_path)
        clear_cache()
        return VENDOR_CODE

    yield declare
    clear_cache()


@pytest.mark.parametrize(("coding", "field", "example"), EXAMPLES)
def test_coding_example(coding, field, example, declaring) -> None:
    """Each documented example gives its verdict, by this coding where the verdict names one.

    A vendor coding (declared_only) is judged under a declaration naming it alone, as its
    manufacturer's certificates are."""
    maker = declaring(field, coding.name) if coding.declared_only else None
    result = judge(example.text, field, example.cpl, manufacturer_code=maker)
    assert result.status is example.verdict, result.reason
    if example.verdict in BY_ITSELF:
        assert result.method == coding.name, result.reason
    if maker and example.verdict in (Verdict.MAPPED, Verdict.PARTIAL):
        assert "vendor.toml" in result.reason, result.reason


@pytest.mark.parametrize(
    ("coding", "field", "example"),
    [p for p in EXAMPLES if p.values[0].declared_only and p.values[2].verdict is Verdict.MAPPED],
)
def test_vendor_codings_apply_only_under_a_declaration(coding, field, example) -> None:
    """Without a declaration naming it, a vendor coding never maps: not for an unknown
    manufacturer, not for none."""
    for maker in (None, "10:6C"):
        result = judge(example.text, field, example.cpl, manufacturer_code=maker)
        assert result.method != coding.name, result.reason
        assert coding.name not in {c.coding for c in candidates_for(example.text, field)}


def test_every_coding_is_exercised_by_its_own_example() -> None:
    for coding in RULES.codings:
        assert any(e.verdict in BY_ITSELF for e in coding.examples), coding.name


def test_every_coding_documents_description_and_source() -> None:
    for coding in RULES.codings:
        assert coding.description.strip() and coding.source.strip(), coding.name


@pytest.mark.parametrize(
    "text",
    [
        "1." * 300,
        "0" * 2000,
        "v" + "1" * 600,
        "12.3 (Stack " * 80,
        "(" * 500 + "1.2" + ")" * 500,
        "0x" * 400,
        "Version 1 Revision " * 40,
        "a1.b2.c3.d4." * 60,
        "0c:" * 300,
        "7.8D " * 200,
        "build _ " * 100 + "1.2.3_",
    ],
)
@pytest.mark.parametrize("field", FIELDS)
def test_patterns_do_not_backtrack_on_pathological_text(text: str, field: Field) -> None:
    started = time.perf_counter()
    candidates_for(text + "\u00a0tail", field)
    assert time.perf_counter() - started < 0.5


# --- schema check: bad files are clear ValueErrors naming file and coding --------------------------

GOOD_TOKENISER = """
schema = 1
version = "t"
[tokenisers.dotted]
description = "d"
pattern = '(?P<comps>[0-9]+(?:\\.[0-9]+)+)'
"""
GOOD_CODING = """
[[coding]]
name = "my-coding"
fields = ["firmware_version"]
tokenisers = ["dotted"]
conversion = "decimal"
placement = "left-aligned"
description = "d"
source = "s"
examples = [{ text = "1.2", cpl = "01:02:00:00", verdict = "MAPPED" }]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_codings_file_loads(tmp_path: Path) -> None:
    rules = load_codings(_write(tmp_path, GOOD_TOKENISER + GOOD_CODING))
    assert [c.name for c in rules.codings] == ["my-coding"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('placement = "left-aligned"', 'placement = "left-aligned"\ncolour = "red"'),
         "unknown key(s) ['colour']"),
        (('source = "s"\n', ""), "missing key(s) ['source']"),
        (('conversion = "decimal"', 'conversion = "octal"'), "conversion must be one of"),
        (('placement = "left-aligned"', 'placement = "middle"'), "placement must be one of"),
        (('tokenisers = ["dotted"]', 'tokenisers = ["nope"]'), "unknown tokeniser(s) ['nope']"),
        (('fields = ["firmware_version"]', 'fields = ["colour"]'), "'colour' is not a valid Field"),
        (('verdict = "MAPPED"', 'verdict = "FINE"'), "unknown verdict 'FINE'"),
        (('examples = [{ text = "1.2", cpl = "01:02:00:00", verdict = "MAPPED" }]', "examples = []"),
         "examples must be a non-empty list"),
    ],
)
def test_bad_coding_names_file_and_coding(tmp_path: Path, change, message: str) -> None:
    old, new = change
    assert old in GOOD_CODING
    path = _write(tmp_path, GOOD_TOKENISER + GOOD_CODING.replace(old, new))
    with pytest.raises(ValueError) as error:
        load_codings(path)
    assert str(path) in str(error.value)
    assert "my-coding" in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("tokeniser", "message"),
    [
        ("description = \"d\"\npattern = '(?P<comps>[0-9'\n", "does not compile"),
        ("description = \"d\"\npattern = '(?P<x>[0-9]+)'\n", "not named groups"),
        ("pattern = '(?P<comps>[0-9]+)'\n", "missing key(s) ['description']"),
        ("description = \"d\"\npattern = '(?P<comps>1)'\nspeed = 3\n", "unknown key(s) ['speed']"),
    ],
)
def test_bad_tokeniser_names_file_and_tokeniser(tmp_path: Path, tokeniser: str, message: str) -> None:
    text = f'schema = 1\nversion = "t"\n[tokenisers.dotted]\n{tokeniser}' + GOOD_CODING
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as error:
        load_codings(path)
    assert str(path) in str(error.value) and "dotted" in str(error.value)
    assert message in str(error.value)


def test_a_coding_defined_twice_for_a_field_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_TOKENISER + GOOD_CODING + GOOD_CODING)
    with pytest.raises(ValueError, match="defined twice"):
        load_codings(path)


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "extra = 1\n" + GOOD_TOKENISER + GOOD_CODING)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['extra'\]"):
        load_codings(path)


def test_a_file_that_is_not_toml_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read codings"):
        load_codings(_write(tmp_path, "[[coding]\n"))


# --- manufacturer codings -------------------------------------------------------------------------

def test_manufacturer_codings_load_and_name_known_codings() -> None:
    declared = load_manufacturer_codings(include_examples=True)
    assert "10:6C" in declared and declared["10:6C"].example
    for entry in declared.values():
        for f, names in entry.codings.items():
            known = {c.name for c in RULES.for_field(f)}
            assert names <= known
    assert any(Path(p).suffix == ".toml" for p in map(str, MANUFACTURER_CODINGS_DIR.iterdir()))


S = 'source = "s"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (S + 'manufacturer_code = "10:6C"\n[codings]\nfirmware_version = ["no-such"]\n',
         "unknown coding(s) ['no-such']"),
        (S + 'manufacturer_code = "EDMI"\n[codings]\nfirmware_version = ["hex-shown"]\n',
         "manufacturer_code must be XX:XX"),
        (S + 'manufacturer_code = "10:6C"\ncolour = 1\n[codings]\nfirmware_version = ["hex-shown"]\n',
         "unknown key(s) ['colour']"),
        (S + 'manufacturer_code = "10:6C"\n[codings]\ncolour = ["hex-shown"]\n', "is not a field"),
        (S + '[codings]\nfirmware_version = ["hex-shown"]\n', "missing key(s) ['manufacturer_code']"),
        (S + 'manufacturer_code = "10:6C"\nexample = "yes"\n[codings]\nfirmware_version = ["hex-shown"]\n',
         "example must be true or false"),
        ('manufacturer_code = "10:6C"\n[codings]\nfirmware_version = ["hex-shown"]\n',
         "missing key(s) ['source']"),
        ('source = " "\nmanufacturer_code = "10:6C"\n[codings]\nfirmware_version = ["hex-shown"]\n',
         "source must name the public source"),
        (S + 'manufacturer_code = "10:6C"\n', "[codings] or [also] must list codings"),
        (S + 'manufacturer_code = "10:6C"\n[also]\nfirmware_version = ["bcd/left-aligned"]\n',
         "adds ['bcd/left-aligned'], which every manufacturer already has"),
    ],
)
def test_bad_manufacturer_codings_file_is_named(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "10-6C.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_manufacturer_codings(tmp_path)
    assert str(path) in str(error.value) and message in str(error.value)


# --- registries -----------------------------------------------------------------------------------

def test_shipped_registries_load() -> None:
    registry = load_registry()
    assert str(MANUFACTURERS_CSV) in registry.files and str(MODELS_CSV) in registry.files
    for entries in registry.manufacturers.values():
        for entry in entries:
            assert entry.source == "manufacturers.csv"
            assert int(entry.code.replace(":", ""), 16) <= 0xFFFE
