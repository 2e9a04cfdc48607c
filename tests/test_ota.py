"""OTA images: header facts round-trip, every error has its typed reason, CPL rows link by key."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models import CplRow
from pipeline.ota import (
    OtaImage,
    check_row,
    discover_ota,
    hardware_value,
    ota_key,
    parse_ota_header,
    read_ota_file,
)
from samples.ota import build_ota_image, sample_images, with_total_size, write_ota_samples

METER = (0x106C, 0x0102, 0x0C030C22)


def cpl_row(
    manufacturer: str = "10:6C", model: str = "01:02", firmware: str = "0C:03:0C:22",
    version: str = "01", revision: str = "05",
) -> CplRow:
    return CplRow(
        row=1, submission_id="S1", certificate_id="ZIG1", manufacturer_identifier=manufacturer,
        model_identifier=model, hardware_version_version=version, hardware_version_revision=revision,
        firmware_version=firmware,
    )


def image(*args: int, name: str = "x.ota", **kwargs: object) -> OtaImage:
    return parse_ota_header(build_ota_image(*args, **kwargs), name)  # type: ignore[arg-type]


# --- round trip ---------------------------------------------------------------------------------


def test_plain_image_every_field() -> None:
    data = build_ota_image(*METER, stack_version=2, header_string="meter 12.3")
    got = parse_ota_header(data, "meter.ota")
    assert got.ok, got.error
    assert got == OtaImage(
        file="meter.ota", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        header_version=0x0100, header_length=56, field_control=0, manufacturer_code="10:6C",
        image_type="01:02", file_version="0C:03:0C:22", stack_version=2, header_string="meter 12.3",
        total_image_size=len(data),
    )


def test_all_optional_fields() -> None:
    got = image(*METER, credential=3, device_specific=bytes.fromhex("000D6F000ABCDEF0"),
                hw_range=(0x0100, 0x01FF))
    assert got.ok, got.error
    assert (got.field_control, got.header_length) == (0x7, 56 + 1 + 8 + 4)
    assert got.security_credential_version == 3
    assert got.destination == "00:0D:6F:00:0A:BC:DE:F0"
    assert (got.min_hardware, got.max_hardware) == ("01_00", "01_FF")


def test_destination_is_stored_little_endian() -> None:
    data = build_ota_image(*METER, device_specific=bytes.fromhex("0011223344556677"))
    assert data[56:64] == bytes.fromhex("7766554433221100")


def test_image_is_header_plus_one_upgrade_sub_element() -> None:
    payload = b"firmware!"
    data = build_ota_image(*METER, payload=payload)
    assert struct.unpack_from("<HI", data, 56) == (0x0000, len(payload))
    assert data[62:] == payload and struct.unpack_from("<I", data, 52)[0] == len(data)


@settings(max_examples=200, deadline=None)
@given(
    manufacturer=st.integers(0, 0xFFFE),
    image_type=st.integers(0, 0xFFBF),
    version=st.integers(0, 0xFFFFFFFE),
    stack=st.integers(0, 0xFFFF),
    text=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=32),
    credential=st.none() | st.integers(0, 0xFF),
    destination=st.none() | st.binary(min_size=8, max_size=8),
    hw=st.none() | st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(sorted).map(tuple),
    payload=st.binary(max_size=64),
)
def test_round_trip_any_header(
    manufacturer: int, image_type: int, version: int, stack: int, text: str, credential: int | None,
    destination: bytes | None, hw: tuple[int, int] | None, payload: bytes,
) -> None:
    data = build_ota_image(
        manufacturer, image_type, version, stack_version=stack, header_string=text,
        hw_range=hw, device_specific=destination, credential=credential, payload=payload,
    )
    got = parse_ota_header(data)
    assert got.ok, got.error
    assert got.manufacturer_code == f"{manufacturer >> 8:02X}:{manufacturer & 0xFF:02X}"
    assert got.image_type.replace(":", "") == f"{image_type:04X}"
    assert got.file_version.replace(":", "") == f"{version:08X}"
    assert bytes.fromhex(got.file_version.replace(":", "")) == version.to_bytes(4, "big")
    assert (got.stack_version, got.header_string, got.total_image_size) == (stack, text, len(data))
    assert got.security_credential_version == credential
    assert got.destination.replace(":", "") == (destination.hex().upper() if destination else "")
    assert (hardware_value(got.min_hardware), hardware_value(got.max_hardware)) == (hw or (None, None))
    expected_control = (credential is not None) | (destination is not None) << 1 | (hw is not None) << 2
    assert got.field_control == expected_control
    assert got.header_length == 56 + (credential is not None) + 8 * (destination is not None) + 4 * bool(hw)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    got = parse_ota_header(data, "junk")
    assert got.size == len(data) and (got.ok or got.error_reason)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=52, max_size=120), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_arbitrary_bytes_behind_the_magic_never_raise(tail: bytes, length: int, control: int) -> None:
    data = struct.pack("<IHHH", 0x0BEEF11E, 0x0100, length, control) + tail
    got = parse_ota_header(data)
    assert got.ok or got.error_reason in {"TRUNCATED", "BAD_HEADER", "RESERVED", "SIZE_MISMATCH"}


def test_header_string_nuls_and_non_printables() -> None:
    data = bytearray(build_ota_image(*METER, header_string="abc"))
    data[20:24] = b"a\x07b\xff"
    assert parse_ota_header(bytes(data)).header_string == "a\ufffdb\ufffd"


# --- error classes ------------------------------------------------------------------------------

GOOD = build_ota_image(*METER)


def _with_u16(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<H", value) + data[offset + 2:]


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"\x7fELF" + GOOD[4:], "NOT_OTA", "bad magic 0x464C457F"),
        (b"%PDF-1.4\n", "NOT_OTA", "bad magic"),
        (b"", "TRUNCATED", "0 bytes"),
        (GOOD[:2], "TRUNCATED", "2 bytes"),
        (b"\x00\x01", "NOT_OTA", "2 bytes"),
        (GOOD[:55], "TRUNCATED", "55 bytes; an OTA header needs at least 56"),
        (_with_u16(GOOD, 6, 40), "BAD_HEADER", "header length 40 is under the minimum of 56"),
        (_with_u16(GOOD, 8, 0x0004)[:58], "TRUNCATED", "field control 0x0004 implies a 60-byte header"),
        (_with_u16(GOOD, 8, 0x0004), "BAD_HEADER", "too short for the optional fields"),
        (_with_u16(GOOD, 6, 5000), "BAD_HEADER", "header length 5000 is larger than the file"),
        (with_total_size(_with_u16(GOOD, 6, 80), 200)[:70], "TRUNCATED", "shorter than the 80-byte header"),
        (build_ota_image(0xFFFF, 0x0102, 1), "RESERVED", "manufacturer code FFFF is reserved"),
        (build_ota_image(0x106C, 0xFFC0, 1), "RESERVED", "image type FFC0 is reserved"),
        (build_ota_image(0x106C, 0x0102, 0xFFFFFFFF), "RESERVED", "file version FFFFFFFF is reserved"),
        (build_ota_image(*METER, hw_range=(0x0200, 0x0100)), "BAD_HEADER", "02_00 is above the max"),
        (with_total_size(GOOD, 1000), "SIZE_MISMATCH", f"header says 1000 bytes, file has {len(GOOD)}"),
        (GOOD + b"\x00" * 3, "SIZE_MISMATCH", "3 bytes extra"),
    ],
)
def test_error_classes(data: bytes, reason: str, words: str) -> None:
    got = parse_ota_header(data, "f.ota")
    assert not got.ok
    assert got.error.startswith(f"{reason}: ") and got.error_reason == reason
    assert words in got.error


def test_reserved_and_size_mismatch_still_fill_fields() -> None:
    reserved = parse_ota_header(build_ota_image(0xFFFF, 0xFFC1, 7, header_string="r"))
    assert reserved.manufacturer_code == "FF:FF" and reserved.image_type == "FF:C1"
    assert reserved.header_string == "r" and reserved.error.count("RESERVED:") == 2
    wrong = parse_ota_header(with_total_size(build_ota_image(*METER, hw_range=(1, 2)), 9))
    assert wrong.error_reason == "SIZE_MISMATCH"
    assert (wrong.file_version, wrong.min_hardware, wrong.total_image_size) == ("0C:03:0C:22", "00_01", 9)


# --- CPL rows -----------------------------------------------------------------------------------


def test_ota_key_normalises_case_only() -> None:
    assert ota_key("10:6c", "01:0a", "0c:03:0c:22") == ("10:6C", "01:0A", "0C:03:0C:22")
    assert ota_key(" 106C", "", "x") == (" 106C", "", "X")


def test_match_names_file_header_string_and_stack() -> None:
    check = check_row(cpl_row(model="01:02", firmware="0c:03:0c:22"), [image(*METER, name="m.ota")])
    assert check.status == "OTA_MATCH" and check.file == "m.ota"
    assert "'cplrecon sample'" in check.reason and "stack version 2" in check.reason


def test_version_mismatch_lists_versions_seen() -> None:
    images = [image(0x106C, 0x0102, v, name=f"{v:X}.ota") for v in range(0x0C030C10, 0x0C030C17)]
    images.append(image(0x106C, 0x0103, 0x0C030C22))  # another image type: not listed
    check = check_row(cpl_row(), images)
    assert check.status == "NO_OTA_IMAGE" and check.file == ""
    assert "0C:03:0C:10, 0C:03:0C:11, 0C:03:0C:12, 0C:03:0C:13, 0C:03:0C:14 and 2 more" in check.reason


def test_no_image() -> None:
    check = check_row(cpl_row(), [image(0x1063, 0x010A, 0x03463712)])
    assert check == check_row(cpl_row(), [])
    assert check.status == "NO_OTA_IMAGE" and "version(s)" not in check.reason


def test_malformed_cpl_values_do_not_link() -> None:
    images = [image(*METER)]
    for row in (cpl_row(manufacturer="106C"), cpl_row(firmware="0C030C22"), cpl_row(model=" 01:02")):
        assert check_row(row, images).status == "NO_OTA_IMAGE"


@pytest.mark.parametrize(
    ("version", "revision", "status"),
    [("01", "00", "OTA_MATCH"), ("01", "ff", "OTA_MATCH"), ("00", "FF", "OTA_MISMATCH"),
     ("02", "01", "OTA_MISMATCH"), ("1", "5", "OTA_MISMATCH")],
)
def test_hardware_range(version: str, revision: str, status: str) -> None:
    check = check_row(cpl_row(version=version, revision=revision),
                      [image(*METER, hw_range=(0x0100, 0x01FF), name="hw.ota")])
    assert check.status == status and check.file == "hw.ota"
    verb = "includes" if status == "OTA_MATCH" else "excludes"
    assert f"image hw range 01_00..01_FF {verb} CPL {version}_{revision}" in check.reason


def test_any_image_covering_the_hardware_backs_the_row() -> None:
    images = [image(*METER, hw_range=(0x0100, 0x01FF), name="a.ota"),
              image(*METER, hw_range=(0x0200, 0x02FF), name="b.ota")]
    check = check_row(cpl_row(version="02", revision="01"), images)
    assert (check.status, check.file) == ("OTA_MATCH", "b.ota")


def test_device_specific_is_noted() -> None:
    check = check_row(cpl_row(), [image(*METER, device_specific=bytes(range(8)))])
    assert check.status == "OTA_MATCH"
    assert "device-specific image for 00:01:02:03:04:05:06:07 only" in check.reason


def test_broken_image_with_the_key_is_an_error_and_good_one_wins() -> None:
    broken = parse_ota_header(with_total_size(GOOD, 1), "broken.ota")
    check = check_row(cpl_row(), [broken])
    assert check.status == "OTA_ERROR" and check.file == "broken.ota" and "SIZE_MISMATCH" in check.reason
    assert check_row(cpl_row(), [broken, image(*METER, name="ok.ota")]).file == "ok.ota"


# --- files --------------------------------------------------------------------------------------


def test_discover_folders_and_files(tmp_path: Path) -> None:
    (tmp_path / "fw" / "nested").mkdir(parents=True)
    (tmp_path / "fw" / "a.ota").write_bytes(GOOD)
    (tmp_path / "fw" / "nested" / "b.ZIGBEE").write_bytes(build_ota_image(0x1063, 0x010A, 1))
    (tmp_path / "fw" / "nested" / "firmware.bin").write_bytes(b"\x7fELF not an OTA image")
    (tmp_path / "fw" / "notes.txt").write_text("skipped in folders")
    (tmp_path / "named.img").write_bytes(GOOD)
    images = discover_ota([str(tmp_path / "fw"), str(tmp_path / "named.img"), str(tmp_path / "fw" / "a.ota")])
    names = [Path(i.file).relative_to(tmp_path).as_posix() for i in images]
    assert names == ["fw/a.ota", "fw/nested/b.ZIGBEE", "fw/nested/firmware.bin", "named.img"]
    by_name = {Path(i.file).name: i for i in images}
    assert by_name["a.ota"].ok and by_name["named.img"].ok and by_name["b.ZIGBEE"].ok
    assert by_name["firmware.bin"].error_reason == "NOT_OTA"
    assert by_name["a.ota"].sha256 == hashlib.sha256(GOOD).hexdigest()


def test_discover_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        discover_ota([str(tmp_path), str(tmp_path / "nowhere")])


def test_too_large_reads_only_the_header(tmp_path: Path) -> None:
    path = tmp_path / "big.ota"
    path.write_bytes(GOOD)
    got = read_ota_file(str(path), max_bytes=60)
    assert got.error_reason == "TOO_LARGE" and got.size == len(GOOD) and got.sha256 == ""
    assert got.manufacturer_code == "10:6C"  # the header facts are still shown


def test_unreadable_file_is_a_row(tmp_path: Path) -> None:
    (tmp_path / "dangling.ota").symlink_to(tmp_path / "gone.ota")  # unreadable even for root
    (got,) = discover_ota([str(tmp_path)])
    assert got.error_reason == "UNREADABLE" and got.file.endswith("dangling.ota")


def test_samples_are_deterministic_and_cover_every_case(tmp_path: Path) -> None:
    assert sample_images() == sample_images()
    paths = write_ota_samples(tmp_path)
    assert all(p.is_file() for p in paths)
    reasons = {p.name: parse_ota_header(p.read_bytes()).error_reason for p in paths}
    assert reasons == {
        "good-106C-0102-0C030C22.ota": "", "good-1063-010A-03463712.zigbee": "",
        "good-106C-0102-0C030C21.ota": "", "hw-range-1234-0201-00000701.ota": "",
        "device-specific-1234-0202-00010000.bin": "", "truncated.ota": "TRUNCATED",
        "bad-magic.bin": "NOT_OTA", "reserved-manufacturer.ota": "RESERVED",
        "wrong-total-size.ota": "SIZE_MISMATCH",
    }
    assert len(discover_ota([str(tmp_path)])) == len(paths)
