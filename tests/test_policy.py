"""Date policy (guidance §1) and Physical Device Type (SEC F2.5): rules/ files and their use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.policy import (
    DEVICE_TYPES_TOML,
    POLICY_TOML,
    DeviceTypeStatus,
    RulesFileError,
    check_device_type,
    device_codes_in,
    load_device_types,
    load_policy,
    normalise_phrase,
    parse_submission_date,
    policy_for,
)

POLICY = load_policy()
TYPES = load_device_types()
PRE = "pre-2017-12-01: hex-format requirement did not yet apply (guidance §1)"


# --- rules files lint ---------------------------------------------------------------------------


def test_policy_file_loads_with_a_version_and_the_guidance_date() -> None:
    assert POLICY.version and Path(POLICY.path) == POLICY_TOML
    rules = {p.rule: p for p in POLICY.periods}
    assert rules["strict"].start == dt.date(2017, 12, 1)  # guidance §1: "from the 1st December 2017"
    assert rules["transitional"].until == dt.date(2017, 12, 1)
    assert rules["transitional"].note == PRE


def test_policy_periods_cover_every_day_once() -> None:
    for day in (dt.date(1990, 1, 1), dt.date(2017, 11, 30), dt.date(2017, 12, 1), dt.date(2099, 1, 1)):
        assert sum(p.covers(day) for p in POLICY.periods) == 1


def test_device_types_file_loads_every_cpl_code() -> None:
    assert TYPES.version and Path(TYPES.path) == DEVICE_TYPES_TOML
    assert {"ESME", "GSME", "IHD", "PPMID", "CHF", "HCALCS", "GPF", "SAPC", "CAD"} <= set(TYPES.phrases)


def test_every_device_type_phrase_names_only_its_own_code() -> None:
    for code, phrases in TYPES.phrases.items():
        for phrase in phrases:
            assert device_codes_in(phrase, TYPES) == {code}, phrase


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('schema = 1\nversion = "x"\n[[period]]\nrule = "a"\nnote = "n"\n', "from` and/or `until"),
        ('schema = 1\nversion = "x"\n[[period]]\nfrom = "2017-13-01"\nrule = "a"\nnote = "n"\n',
         "not an ISO date"),
        ('schema = 1\nversion = "x"\n[[period]]\nfrom = "2017-01-01"\nrule = "a"\nnote = "n"\n'
         '[[period]]\nfrom = "2018-01-01"\nrule = "b"\nnote = "n"\n', "overlap"),
        ('schema = 1\nversion = "x"\n[[period]]\nfrom = "2017-01-01"\nrule = "a"\nnote = "n"\n'
         'colour = "red"\n', "unknown key"),
    ],
)
def test_bad_policy_files_are_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError, match=message):
        load_policy(path)


def test_bad_device_types_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "device_types.toml"
    path.write_text('schema = 1\nversion = "x"\n[[device_type]]\ncode = "esme meter"\nphrases = []\n',
                    encoding="utf-8")
    with pytest.raises(RulesFileError, match="code"):
        load_device_types(path)


# --- policy by date -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-11-30", dt.date(2017, 11, 30)),
        ("2017-12-01", dt.date(2017, 12, 1)),
        ("2017-12-01T09:30:00", dt.date(2017, 12, 1)),
        ("2017-12-01 00:00:00", dt.date(2017, 12, 1)),
        ("01/12/2017", dt.date(2017, 12, 1)),  # day first: a GB register
        ("1/12/2017", dt.date(2017, 12, 1)),
        ("30.11.2017", dt.date(2017, 11, 30)),
        (" 2018-02-01 ", dt.date(2018, 2, 1)),
        ("31/02/2017", None),
        ("12/31/2017", None),  # US month-first is not read
        ("Dec 2017", None),
        ("20171201", None),
    ],
)
def test_parse_submission_date(text: str, expected: dt.date | None) -> None:
    assert parse_submission_date(text) == expected


@pytest.mark.parametrize(
    ("date", "starts"),
    [
        ("2017-11-30", PRE),
        ("30/11/2017", PRE),
        ("2017-12-01", "strict: from 2017-12-01"),
        ("01/12/2017", "strict: from 2017-12-01"),
        ("2024-05-05", "strict: from 2017-12-01"),
        ("", ""),
        ("   ", ""),
        ("soon", "submission_date 'soon' is not a date"),
    ],
)
def test_policy_for(date: str, starts: str) -> None:
    policy = policy_for(date, POLICY)
    assert policy.startswith(starts)
    if starts == "":
        assert policy == ""


# --- device types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpl", "certificate", "status"),
    [
        ("ESME", "Electricity Smart Metering Equipment (ESME)", DeviceTypeStatus.MATCH),
        ("esme", "Electricity Smart Metering Equipment", DeviceTypeStatus.MATCH),
        ("IHD", "In-Home Display", DeviceTypeStatus.MATCH),
        ("IHD", "IN HOME DISPLAY", DeviceTypeStatus.MATCH),
        ("PPMID", "Pre-Payment Meter Interface Device (PPMID)", DeviceTypeStatus.MATCH),
        ("HCALCS", "HAN Connected Auxiliary Load Control Switch", DeviceTypeStatus.MATCH),
        ("GPF", "Gas Proxy Function (GPF)", DeviceTypeStatus.MATCH),
        ("CHF", "Communications Hub Function", DeviceTypeStatus.MATCH),
        ("Gas Smart Metering Equipment", "GSME", DeviceTypeStatus.MATCH),  # a phrase in the CPL
        ("GSME", "Electricity Smart Metering Equipment (ESME)", DeviceTypeStatus.MISMATCH),
        ("CHF", "Gas Proxy Function", DeviceTypeStatus.MISMATCH),
        ("ESME", "", DeviceTypeStatus.MISSING),
        ("", "Electricity Smart Metering Equipment", DeviceTypeStatus.NOT_GIVEN),
        ("SMART-PLUG", "Electricity Smart Metering Equipment", DeviceTypeStatus.UNKNOWN),
        ("ESME", "Kettle", DeviceTypeStatus.UNKNOWN),
        ("ESMEX", "Electricity Smart Metering Equipment", DeviceTypeStatus.UNKNOWN),  # whole words
    ],
)
def test_check_device_type(cpl: str, certificate: str, status: DeviceTypeStatus) -> None:
    check = check_device_type(cpl, certificate, TYPES)
    assert check.status is status
    assert check.reason


def test_gas_smart_meter_is_not_read_inside_gas_smart_metering() -> None:
    assert device_codes_in("Gas Smart Metering Equipment", TYPES) == {"GSME"}
    assert normalise_phrase("In-Home  Display.") == "in home display"
