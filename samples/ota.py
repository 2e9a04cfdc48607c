"""Zigbee OTA upgrade images for tests and the bundled samples, byte-for-byte deterministic.

`build_ota_image` writes a spec-correct image (header, then one Upgrade Image sub-element);
`write_ota_samples` writes a small set of good and deliberately broken images, one per problem
the OTA reader must name. Importing this module writes nothing.

    python -m samples.ota --out samples/ota
"""

from __future__ import annotations

import argparse
import struct
from collections.abc import Sequence
from pathlib import Path

OTA_MAGIC = 0x0BEEF11E
HEADER_VERSION = 0x0100
FIXED_HEADER = struct.Struct("<IHHHHHIH32sI")  # magic .. total image size: 56 bytes
SUB_ELEMENT = struct.Struct("<HI")  # tag id, length
UPGRADE_IMAGE_TAG = 0x0000
TOTAL_SIZE_OFFSET = 52

FC_CREDENTIAL = 0x0001
FC_DEVICE_SPECIFIC = 0x0002
FC_HARDWARE = 0x0004

DEFAULT_PAYLOAD = b"cplrecon sample firmware payload\x00\x01\x02\x03"


def _optional_fields(
    credential: int | None, device_specific: bytes | None, hw_range: tuple[int, int] | None
) -> tuple[int, bytes]:
    """Field control bits and the optional header fields, in the order the spec fixes."""
    control, fields = 0, b""
    if credential is not None:
        control |= FC_CREDENTIAL
        fields += struct.pack("<B", credential)
    if device_specific is not None:
        if len(device_specific) != 8:
            raise ValueError("device_specific must be an 8-byte IEEE address")
        control |= FC_DEVICE_SPECIFIC
        # Given as people write it (most significant byte first); stored little-endian.
        fields += struct.pack("<Q", int.from_bytes(device_specific, "big"))
    if hw_range is not None:
        control |= FC_HARDWARE
        fields += struct.pack("<HH", *hw_range)
    return control, fields


def build_ota_image(
    manufacturer: int,
    image_type: int,
    file_version: int,
    *,
    stack_version: int = 2,
    header_string: str = "cplrecon sample",
    hw_range: tuple[int, int] | None = None,
    device_specific: bytes | None = None,
    credential: int | None = None,
    payload: bytes = DEFAULT_PAYLOAD,
) -> bytes:
    """One OTA file: header (with the optional fields asked for) + an Upgrade Image sub-element.

    `device_specific` is the destination IEEE address, most significant byte first;
    `hw_range` is (min, max) as 16-bit values, version in the high byte, revision in the low.
    Reserved values (manufacturer FFFF, ...) are written as given, so tests can build them.
    """
    encoded = header_string.encode("utf-8")
    if len(encoded) > 32:
        raise ValueError("header_string must fit in 32 bytes (UTF-8)")
    control, optional = _optional_fields(credential, device_specific, hw_range)
    header_length = FIXED_HEADER.size + len(optional)
    body = SUB_ELEMENT.pack(UPGRADE_IMAGE_TAG, len(payload)) + payload
    total = header_length + len(body)
    fixed = FIXED_HEADER.pack(
        OTA_MAGIC, HEADER_VERSION, header_length, control, manufacturer, image_type,
        file_version, stack_version, encoded.ljust(32, b"\x00"), total,
    )
    return fixed + optional + body


def with_total_size(image: bytes, total: int) -> bytes:
    """The same image with another total image size in its header (for SIZE_MISMATCH samples)."""
    return image[:TOTAL_SIZE_OFFSET] + struct.pack("<I", total) + image[TOTAL_SIZE_OFFSET + 4:]


def sample_images() -> dict[str, bytes]:
    """File name -> bytes for the bundled set: good images first, then one per error class."""
    good = build_ota_image(0x106C, 0x0102, 0x0C030C22, header_string="cplrecon meter 12.3")
    return {
        "good-106C-0102-0C030C22.ota": good,
        "good-1063-010A-03463712.zigbee": build_ota_image(
            0x1063, 0x010A, 0x03463712, header_string="cplrecon ihd 3.70"
        ),
        "good-106C-0102-0C030C21.ota": build_ota_image(
            0x106C, 0x0102, 0x0C030C21, header_string="cplrecon meter 12.3 (older)"
        ),
        "hw-range-1234-0201-00000701.ota": build_ota_image(
            0x1234, 0x0201, 0x00000701, header_string="cplrecon hw 01_xx only",
            hw_range=(0x0100, 0x01FF),
        ),
        "device-specific-1234-0202-00010000.bin": build_ota_image(
            0x1234, 0x0202, 0x00010000, header_string="cplrecon one device",
            credential=1, device_specific=bytes.fromhex("000D6F000ABCDEF0"),
        ),
        "bad/truncated.ota": good[:40],
        "bad/bad-magic.bin": b"\x7fELF" + good[4:],
        "bad/reserved-manufacturer.ota": build_ota_image(0xFFFF, 0x0102, 0x0C030C22),
        "bad/wrong-total-size.ota": with_total_size(good, len(good) + 100),
    }


def write_ota_samples(out_dir: Path) -> list[Path]:
    """Write the sample set under `out_dir` (bad ones in `bad/`); returns the paths written."""
    written = []
    for name, data in sample_images().items():
        path = Path(out_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.ota", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder to write the OTA samples into")
    args = parser.parse_args(argv)
    for path in write_ota_samples(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
