"""Zigbee OTA upgrade images as a third source of evidence, beside certificates and the CPL.

An OTA image header states the manufacturer code, image type and file version that a device will
report once upgraded: the same three facts a CPL row claims as manufacturer_identifier,
model_identifier and firmware_version. Images are linked to CPL rows by those three values, and
the optional hardware range in the header is checked against the row's hardware version.

Header layout (Zigbee OTA Upgrade cluster, all little-endian):

    0  u32  magic 0x0BEEF11E          20  32s  header string
    4  u16  header version            52  u32  total image size (header included)
    6  u16  header length             56  u8   security credential version  (field control bit 0)
    8  u16  field control             ..  8s   upgrade file destination     (bit 1, IEEE address)
   10  u16  manufacturer code         ..  u16  minimum hardware version     (bit 2)
   12  u16  image type                ..  u16  maximum hardware version     (bit 2)
   14  u32  file version
   18  u16  stack version

Parsing never raises: a bad image is an `OtaImage` whose `problems` are typed (OtaProblem), so every
input file appears in the output.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from pipeline.hexform import canonical_hex
from pipeline.ingest import walk_files
from pipeline.models import CplRow

OTA_MAGIC = 0x0BEEF11E
OTA_SUFFIXES = frozenset({".ota", ".zigbee", ".bin"})
MAX_OTA_BYTES = 512 * 1024 * 1024
HEADER_PEEK_BYTES = 64 * 1024  # enough for any header; all that is read of a file over the limit

FIXED_HEADER = struct.Struct("<IHHHHHIH32sI")  # up to and including the total image size
FIXED_HEADER_LEN = FIXED_HEADER.size  # 56
CREDENTIAL = struct.Struct("<B")
DESTINATION = struct.Struct("<Q")
HARDWARE_RANGE = struct.Struct("<HH")

FC_CREDENTIAL = 0x0001
FC_DEVICE_SPECIFIC = 0x0002
FC_HARDWARE = 0x0004

RESERVED_MANUFACTURER = 0xFFFF
RESERVED_IMAGE_TYPES_FROM = 0xFFC0
RESERVED_FILE_VERSION = 0xFFFFFFFF

STACK_NAMES = {0x0000: "ZigBee 2006", 0x0001: "ZigBee 2007", 0x0002: "ZigBee PRO", 0x0003: "ZigBee IP"}
MAX_VERSIONS_LISTED = 5



class OtaError(StrEnum):
    """Why an image cannot back a CPL row: one typed reason each, as for certificates."""

    NOT_OTA = "NOT_OTA"
    TRUNCATED = "TRUNCATED"
    BAD_HEADER = "BAD_HEADER"
    RESERVED = "RESERVED"
    SIZE_MISMATCH = "SIZE_MISMATCH"
    TOO_LARGE = "TOO_LARGE"
    UNREADABLE = "UNREADABLE"


class OtaProblem(Exception):
    """One thing wrong with an OTA image: its typed reason and what was found. Raised where the
    header cannot be read further, and kept on the image (`OtaImage.problems`) either way."""

    def __init__(self, reason: OtaError, message: str) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.message}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OtaProblem) and (self.reason, self.message) == (other.reason, other.message)

    def __hash__(self) -> int:
        return hash((self.reason, self.message))


class OtaStatus(StrEnum):
    """The `ota_status` of a CPL row."""

    MATCH = "OTA_MATCH"
    MISMATCH = "OTA_MISMATCH"
    NO_IMAGE = "NO_OTA_IMAGE"
    ERROR = "OTA_ERROR"


@dataclass(frozen=True)
class OtaImage:
    """One OTA file and the header facts it states, in CPL notation."""

    file: str
    sha256: str
    size: int
    header_version: int = 0
    header_length: int = 0
    field_control: int = 0
    manufacturer_code: str = ""  # "10:6C": the u16 as CPL hex, high byte first
    image_type: str = ""  # "01:02"
    file_version: str = ""  # "0C:03:0C:22": the u32 most significant byte first
    stack_version: int = 0
    header_string: str = ""  # decoded, NULs stripped, non-printables replaced
    total_image_size: int = 0
    security_credential_version: int | None = None
    destination: str = ""  # IEEE address, most significant byte first, e.g. "00:0D:6F:00:0A:BC:DE:F0"
    min_hardware: str = ""  # "VV_RR"
    max_hardware: str = ""
    problems: tuple[OtaProblem, ...] = ()  # the first is the one that decided how far reading got

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def error(self) -> str:
        """The problems as reports show them: "REASON: message", several joined by "; "."""
        return "; ".join(map(str, self.problems))

    @property
    def error_reason(self) -> str:
        """The typed reason of the first problem, "" when the image is fine."""
        return self.problems[0].reason.value if self.problems else ""

    @property
    def device_specific(self) -> bool:
        return bool(self.field_control & FC_DEVICE_SPECIFIC)

    @property
    def has_hardware_range(self) -> bool:
        return bool(self.min_hardware and self.max_hardware)

    @property
    def key(self) -> tuple[str, str, str]:
        return ota_key(self.manufacturer_code, self.image_type, self.file_version)


@dataclass(frozen=True)
class OtaCheck:
    """A CPL row against the OTA images: status, the files used, and why in words."""

    status: str
    file: str
    reason: str


# --- CPL notation -------------------------------------------------------------------------------


def hex_octets(value: int, octets: int) -> str:
    """An unsigned integer in CPL form: upper-case hex octets, most significant first, ':'-joined."""
    return ":".join(f"{b:02X}" for b in value.to_bytes(octets, "big"))


def hardware_text(value: int) -> str:
    """A 16-bit OTA hardware version as the certificate's VV_RR (high byte version, low revision)."""
    return f"{value >> 8:02X}_{value & 0xFF:02X}"


def hardware_value(text: str) -> int | None:
    """VV_RR back to the 16-bit value; None when it is not two hex octets."""
    canonical = canonical_hex(text, 2, "_", loose=False)
    return None if canonical is None else int(canonical.replace(":", ""), 16)


def ota_key(manufacturer: str, image_type: str, file_version: str) -> tuple[str, str, str]:
    """The link between an image and a CPL row.

    Only case is normalised: a CPL value that is not well-formed (spaces, missing colons) should
    fail to link rather than be quietly repaired; the CPL validation reports it.
    """
    return (manufacturer.upper(), image_type.upper(), file_version.upper())


def decode_header_string(raw: bytes) -> str:
    """The 32-byte header string as text: trailing NUL padding dropped, anything unprintable as U+FFFD."""
    text = raw.rstrip(b"\x00").decode("utf-8", errors="replace")
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


# --- parsing ------------------------------------------------------------------------------------


def optional_fields_length(field_control: int) -> int:
    """Bytes of optional fields after the fixed 56 that the field control declares."""
    length = 0
    if field_control & FC_CREDENTIAL:
        length += CREDENTIAL.size
    if field_control & FC_DEVICE_SPECIFIC:
        length += DESTINATION.size
    if field_control & FC_HARDWARE:
        length += HARDWARE_RANGE.size
    return length


@dataclass(frozen=True)
class _Header:
    """The header's numbers as stored, before they become CPL text."""

    header_version: int
    header_length: int
    field_control: int
    manufacturer: int
    image_type: int
    file_version: int
    stack_version: int
    header_string: bytes
    total_image_size: int
    credential: int | None = None
    destination: int | None = None
    hardware_range: tuple[int, int] | None = None


def _check_magic(data: bytes) -> None:
    """NOT_OTA unless the file starts with the magic; a file cut inside the magic is TRUNCATED."""
    magic = struct.pack("<I", OTA_MAGIC)
    if len(data) < len(magic):
        if magic.startswith(data):
            raise OtaProblem(OtaError.TRUNCATED, f"{len(data)} bytes; an OTA header needs at least 56")
        raise OtaProblem(OtaError.NOT_OTA, f"{len(data)} bytes that do not start with the OTA magic")
    (found,) = struct.unpack_from("<I", data)
    if found != OTA_MAGIC:
        raise OtaProblem(OtaError.NOT_OTA, f"bad magic 0x{found:08X} (an OTA image starts 0x{OTA_MAGIC:08X})")


def _fixed_header(data: bytes) -> _Header:
    (_magic, header_version, header_length, field_control, manufacturer, image_type, file_version,
     stack_version, header_string, total_size) = FIXED_HEADER.unpack_from(data)
    return _Header(header_version, header_length, field_control, manufacturer, image_type,
                   file_version, stack_version, header_string, total_size)


def _with_optional_fields(data: bytes, header: _Header) -> _Header:
    """The optional fields, in their fixed order; the caller has checked they are all there."""
    offset = FIXED_HEADER_LEN
    credential = destination = None
    hardware_range = None
    if header.field_control & FC_CREDENTIAL:
        (credential,) = CREDENTIAL.unpack_from(data, offset)
        offset += CREDENTIAL.size
    if header.field_control & FC_DEVICE_SPECIFIC:
        (destination,) = DESTINATION.unpack_from(data, offset)
        offset += DESTINATION.size
    if header.field_control & FC_HARDWARE:
        hardware_range = HARDWARE_RANGE.unpack_from(data, offset)
    return replace(header, credential=credential, destination=destination, hardware_range=hardware_range)


def _check_structure(data: bytes, header: _Header) -> None:
    """Whether the header can be read as a whole: raises TRUNCATED or BAD_HEADER."""
    length, control = header.header_length, header.field_control
    needed = FIXED_HEADER_LEN + optional_fields_length(control)
    if length < FIXED_HEADER_LEN:
        raise OtaProblem(OtaError.BAD_HEADER, f"header length {length} is under the minimum of 56")
    if len(data) < needed:
        raise OtaProblem(
            OtaError.TRUNCATED,
            f"{len(data)} bytes, but field control 0x{control:04X} implies a {needed}-byte header",
        )
    if length < needed:
        raise OtaProblem(
            OtaError.BAD_HEADER,
            f"header length {length} is too short for the optional fields that field control "
            f"0x{control:04X} declares ({needed} bytes)",
        )
    if length > len(data):
        # A file cut short and a nonsense header length look alike here; the header's own total
        # image size tells them apart.
        if length > header.total_image_size:
            raise OtaProblem(
                OtaError.BAD_HEADER,
                f"header length {length} is larger than the file ({len(data)} bytes) and than "
                f"the total image size the header states ({header.total_image_size})",
            )
        raise OtaProblem(OtaError.TRUNCATED, f"{len(data)} bytes, shorter than the {length}-byte header")


def _value_problems(data: bytes, header: _Header) -> list[OtaProblem]:
    """Problems in a readable header: reserved values, an upside-down hardware range, a wrong size."""
    problems = []
    if header.manufacturer == RESERVED_MANUFACTURER:
        problems.append(OtaProblem(OtaError.RESERVED, "manufacturer code FFFF is reserved"))
    if header.image_type >= RESERVED_IMAGE_TYPES_FROM:
        problems.append(OtaProblem(
            OtaError.RESERVED, f"image type {header.image_type:04X} is reserved (FFC0-FFFF)"
        ))
    if header.file_version == RESERVED_FILE_VERSION:
        problems.append(OtaProblem(OtaError.RESERVED, "file version FFFFFFFF is reserved"))
    if header.hardware_range and header.hardware_range[0] > header.hardware_range[1]:
        low, high = (hardware_text(v) for v in header.hardware_range)
        problems.append(OtaProblem(
            OtaError.BAD_HEADER, f"minimum hardware version {low} is above the maximum {high}"
        ))
    if header.total_image_size != len(data):
        gap = len(data) - header.total_image_size
        detail = f"{-gap} bytes missing" if gap < 0 else f"{gap} bytes extra"
        problems.append(OtaProblem(
            OtaError.SIZE_MISMATCH,
            f"header says {header.total_image_size} bytes, file has {len(data)} ({detail})",
        ))
    return problems


def _image(
    name: str, data: bytes, header: _Header | None, problems: Sequence[OtaProblem] = ()
) -> OtaImage:
    image = OtaImage(file=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                     problems=tuple(problems))
    if header is None:
        return image
    low, high = header.hardware_range or (None, None)
    return replace(
        image,
        header_version=header.header_version,
        header_length=header.header_length,
        field_control=header.field_control,
        manufacturer_code=hex_octets(header.manufacturer, 2),
        image_type=hex_octets(header.image_type, 2),
        file_version=hex_octets(header.file_version, 4),
        stack_version=header.stack_version,
        header_string=decode_header_string(header.header_string),
        total_image_size=header.total_image_size,
        security_credential_version=header.credential,
        destination="" if header.destination is None else hex_octets(header.destination, 8),
        min_hardware="" if low is None else hardware_text(low),
        max_hardware="" if high is None else hardware_text(high),
    )


def parse_ota_header(data: bytes, name: str = "") -> OtaImage:
    """The header facts of one OTA file; never raises, a bad file is an image with an error.

    Whatever could be read is filled in even when there is an error, so a report can show what a
    RESERVED or SIZE_MISMATCH (or a truncated) image claims to be.
    """
    data = bytes(data)
    header = None
    try:
        _check_magic(data)
        if len(data) < FIXED_HEADER_LEN:
            raise OtaProblem(
                OtaError.TRUNCATED, f"{len(data)} bytes; an OTA header needs at least {FIXED_HEADER_LEN}"
            )
        header = _fixed_header(data)
        _check_structure(data, header)
    except OtaProblem as problem:
        return _image(name, data, header, [problem])
    header = _with_optional_fields(data, header)
    return _image(name, data, header, _value_problems(data, header))


# --- discovery ----------------------------------------------------------------------------------


def read_ota_file(path: str, max_bytes: int = MAX_OTA_BYTES) -> OtaImage:
    """One file read once, never more than `max_bytes` of it (a file over the limit: its header only)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                head = handle.read(HEADER_PEEK_BYTES)
                image = parse_ota_header(head, path)
                return replace(image, sha256="", size=size, problems=(OtaProblem(
                    OtaError.TOO_LARGE, f"{size} bytes is over the {max_bytes}-byte limit per image"
                ),))
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return OtaImage(file=path, sha256="", size=0,
                        problems=(OtaProblem(OtaError.UNREADABLE,
                                             f"cannot read the file: {exc.strerror or exc}"),))
    if len(data) > max_bytes:  # grew while we looked
        return replace(parse_ota_header(data[:HEADER_PEEK_BYTES], path), sha256="", size=len(data),
                       problems=(OtaProblem(OtaError.TOO_LARGE,
                                            f"over the {max_bytes}-byte limit per image"),))
    return parse_ota_header(data, path)


def discover_ota(paths: Sequence[str], max_bytes: int = MAX_OTA_BYTES) -> list[OtaImage]:
    """Every OTA image under the given files and folders, each file once, in a stable order.

    Folders are searched recursively for .ota/.zigbee/.bin; a file named explicitly is always read,
    whatever its name. A path that does not exist is a usage error, raised before anything is read.
    """
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"OTA path not found: {path}")
    return [read_ota_file(file, max_bytes) for file, _ in walk_files(paths, _ota_suffixed)]


def _ota_suffixed(path: str) -> bool:
    return Path(path).suffix.lower() in OTA_SUFFIXES


# --- CPL rows against images --------------------------------------------------------------------


def _describe(image: OtaImage) -> str:
    stack = STACK_NAMES.get(image.stack_version, "unknown stack")
    return f"{image.file} ({image.header_string!r}, stack version {image.stack_version}: {stack})"


def _hardware_note(image: OtaImage, cpl_hardware: str, inside: bool) -> str:
    verb = "includes" if inside else "excludes"
    return f"image hw range {image.min_hardware}..{image.max_hardware} {verb} CPL {cpl_hardware}"


def _covers_hardware(image: OtaImage, cpl_value: int | None) -> bool:
    """An image without a hardware range fits any hardware; one with a range needs a valid CPL value."""
    if not image.has_hardware_range:
        return True
    low, high = hardware_value(image.min_hardware), hardware_value(image.max_hardware)
    return cpl_value is not None and low is not None and high is not None and low <= cpl_value <= high


def _no_image(row: CplRow, images: Sequence[OtaImage]) -> OtaCheck:
    manufacturer, image_type, version = ota_key(
        row.manufacturer_identifier, row.model_identifier, row.firmware_version
    )
    others = sorted({i.file_version for i in images if i.ok and i.key[:2] == (manufacturer, image_type)})
    reason = f"no OTA image for manufacturer {manufacturer}, image type {image_type}, version {version}"
    if others:
        listed = ", ".join(others[:MAX_VERSIONS_LISTED])
        more = f" and {len(others) - MAX_VERSIONS_LISTED} more" if len(others) > MAX_VERSIONS_LISTED else ""
        reason += f"; images for this manufacturer and image type carry version(s) {listed}{more}"
    return OtaCheck(OtaStatus.NO_IMAGE.value, "", reason)


def check_row(row: CplRow, images: Sequence[OtaImage]) -> OtaCheck:
    """The row's `ota_status`: does an image back its manufacturer, image type, version and hardware?

    Several images may carry the same version for different hardware ranges; the row is backed if
    any one of them covers its hardware version.
    """
    key = ota_key(row.manufacturer_identifier, row.model_identifier, row.firmware_version)
    linked = [i for i in images if i.ok and i.key == key]
    if not linked:
        broken = [i for i in images if not i.ok and i.manufacturer_code and i.key == key]
        if broken:
            return OtaCheck(
                OtaStatus.ERROR.value, "; ".join(i.file for i in broken),
                "; ".join(f"{i.file}: {i.error}" for i in broken),
            )
        return _no_image(row, images)
    cpl_hardware = row.hardware_version
    cpl_value = hardware_value(cpl_hardware)
    backing = [i for i in linked if _covers_hardware(i, cpl_value)]
    if not backing:
        notes = [f"{i.file}: {_hardware_note(i, cpl_hardware, inside=False)}" for i in linked]
        if cpl_value is None:
            notes.append(f"CPL hardware version {cpl_hardware!r} is not VV_RR hex")
        return OtaCheck(OtaStatus.MISMATCH.value, "; ".join(i.file for i in linked), "; ".join(notes))
    notes = []
    for image in backing:
        note = f"{_describe(image)} carries {'/'.join(key)}"
        if image.has_hardware_range:
            note += f", {_hardware_note(image, cpl_hardware, inside=True)}"
        if image.device_specific:
            note += f", device-specific image for {image.destination} only"
        notes.append(note)
    return OtaCheck(OtaStatus.MATCH.value, "; ".join(i.file for i in backing), "; ".join(notes))
