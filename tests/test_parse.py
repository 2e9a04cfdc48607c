"""Parse: every rule file loads and is checked; fields come out of real generated PDFs exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.document import process_document
from pipeline.extract import ExtractLimits
from pipeline.ingest import discover
from pipeline.parse import RULES_DIR, load_field_rules
from pipeline.textreaders import read_label_lines, read_prose

from conftest import CORPUS, truth


def parsed(path: Path):  # noqa: ANN201 - a Certificate
    (document,), _ = discover([str(path)])
    return process_document(document, "never", ExtractLimits())


def printed(entry: dict) -> list[tuple[str, str, str, str]]:
    return [
        (item["manufacturer"], item["model"], item["hardware_version"], item["firmware_version"])
        for item in entry["listings"]
    ]


def check_against_truth(folder: Path, entry: dict) -> None:
    certificate = parsed(folder / entry["file"])
    assert certificate.ok, certificate.error
    got = [
        (item.manufacturer, item.model, item.hardware_version, item.firmware_version)
        for item in certificate.listings
    ]
    assert got == printed(entry), entry["layout"]
    assert certificate.certificate_id == entry["certificate_id"]
    assert certificate.certificate_date == entry["certificate_date"]
    assert certificate.device_type == entry["device_type"]


BUNDLED = [e for e in truth(CORPUS) if not e["broken"]]


@pytest.mark.parametrize("entry", BUNDLED, ids=[e["file"] for e in BUNDLED])
def test_bundled_certificates_parse_to_their_truth(entry: dict) -> None:
    check_against_truth(CORPUS, entry)


def test_every_layout_is_bundled() -> None:
    assert {e["layout"] for e in BUNDLED} >= {"kv", "table", "prose", "multi", "twocol", "stacked"}


def test_fresh_random_corpus_parses(random_corpus: Path) -> None:
    """Another seed, other label synonyms, fonts and values: the rules must not be overfitted."""
    entries = [e for e in truth(random_corpus / "certs") if not e["broken"]]
    assert len(entries) >= 55
    failures = []
    for entry in entries:
        try:
            check_against_truth(random_corpus / "certs", entry)
        except AssertionError as exc:
            failures.append(f"{entry['file']}: {exc}")
    assert failures == []


def test_multi_model_listings_are_labelled() -> None:
    entry = next(e for e in BUNDLED if e["layout"] == "multi")
    certificate = parsed(CORPUS / entry["file"])
    total = len(entry["listings"])
    assert [item.label for item in certificate.listings] == [
        f"listing {n} of {total}" for n in range(1, total + 1)
    ]


def test_tables_only_where_the_text_layer_lacks_fields() -> None:
    """pdfplumber's layout analysis is spent only on documents whose text alone lacks fields."""
    layouts = {e["layout"]: parsed(CORPUS / e["file"]).layout for e in BUNDLED}
    assert layouts["multi"] == "tables"
    assert {layouts[name] for name in ("kv", "twocol", "stacked", "table")} == {"label-lines"}
    assert layouts["prose"] == "prose"


# --- rules lint: every rule file loads, and bad ones say what is wrong -----------------------


def test_field_rules_load_and_cover_every_field() -> None:
    rules = load_field_rules()
    assert rules.version
    for name in ("certificate_id", "manufacturer", "model", "hardware_version", "firmware_version"):
        assert rules.labels[name], name
        assert rules.prose[name], name


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("schema = 2\n[labels]\n", "schema must be 1"),
        ("schema = 1\nextra = 1\n[labels]\n", "unknown key"),
        ("schema = 1\n[labels]\nmanufacturer = ['Maker']\n", "is missing"),
        ("schema = 1\n[labels]\ncolour = ['x']\n", "unknown field 'colour'"),
        ("schema = 1\n[labels]\nmanufacturer = 'Maker'\n", "must be a list"),
    ],
)
def test_bad_rule_files_are_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "fields.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem) as caught:
        load_field_rules(path)
    assert str(path) in str(caught.value)


def test_rules_dir_is_the_shipped_one() -> None:
    assert (RULES_DIR / "fields.toml").is_file()


# --- readers on the text the extractor really produces ----------------------------------------

RULES = load_field_rules()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Manufacturer: EDMI Ltd (10:6C)", [("manufacturer", "EDMI Ltd (10:6C)")]),
        ("Certificate No.: ZIG18-0044", [("certificate_id", "ZIG18-0044")]),
        ("Firmware Version 7.8D Other String", [("firmware_version", "7.8D Other String")]),
        ("Model Number", []),  # a label alone with nothing after it
        ("Manufacturer Model Identification Hardware Version", []),  # a header row
        ("hardware revision 01_02 and software version", []),  # prose, not a label line
    ],
)
def test_label_lines(line: str, expected: list[tuple[str, str]]) -> None:
    assert read_label_lines(line, RULES) == expected


def test_prose_values_stop_at_clause_breaks() -> None:
    text = (
        "We certify that the product model G470 (Image Type 02:0A) manufactured by\n"
        "Landis+Gyr Limited (10:63), with hardware revision 01_02 and software version "
        "03:46:37:12, has completed testing. Certificate number ZIG17-5556, certified on "
        "March 13, 2017."
    )
    found = dict(read_prose(text, RULES))
    assert found["model"] == "G470 (Image Type 02:0A)"
    assert found["manufacturer"] == "Landis+Gyr Limited (10:63)"
    assert found["hardware_version"] == "01_02"
    assert found["firmware_version"] == "03:46:37:12"
    assert found["certificate_date"] == "March 13, 2017"


RULED = [e for e in BUNDLED if e["layout"] in ("table", "twocol", "multi")]


@pytest.mark.parametrize("entry", RULED, ids=[e["file"] for e in RULED])
def test_pdfium_tables_hold_the_cells_pdfplumber_finds(entry: dict) -> None:
    """The fast ruled-table reader sees every non-empty cell pdfplumber's analysis sees."""
    from pipeline.extract import ruled_tables, tables

    data = (CORPUS / entry["file"]).read_bytes()

    def cells(found: dict) -> list[list[list[str]]]:
        return [[[c for c in row if c] for row in table] for table in found[1]]

    fast = cells(ruled_tables(data, [1]))
    assert fast, "no ruled table found"
    assert fast == cells(tables(data, [1]))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("\u2018Date of Certification  25.10.2021", [("certificate_date", "25.10.2021")]),
        ("\u2022 Manufacturer: EDMI Ltd (10:6C)", [("manufacturer", "EDMI Ltd (10:6C)")]),
        ("- Firmware Version: 1.2.5.6", [("firmware_version", "1.2.5.6")]),
    ],
)
def test_bullets_and_specks_before_a_label(line: str, expected: list[tuple[str, str]]) -> None:
    assert read_label_lines(line, RULES) == expected


def test_a_value_line_keeps_its_opening_bracket() -> None:
    text = "Model Identification\n(01:02) ES-10B"
    assert read_label_lines(text, RULES) == [("model", "(01:02) ES-10B")]
