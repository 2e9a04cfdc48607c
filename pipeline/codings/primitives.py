"""The few primitives the codings combine: conversions (one component -> hex digits),
placements (converted components -> where they sit in the value), and how values are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

from pipeline.hexform import canonical_hex as canonical_hex  # re-exported for the codings' callers
from pipeline.models import Field

OCTETS: Mapping[Field, int] = MappingProxyType(
    {Field.FIRMWARE: 4, Field.MANUFACTURER: 2, Field.MODEL: 2, Field.HARDWARE: 2}
)

Nibbles = tuple[int | None, ...]  # one hex digit each; None where the text does not show it



# --- primitives: conversions (one component -> `width` hex digits) ------------------------------

def _in_base(value: int, base: int, width: int) -> list[int] | None:
    """`value` as `width` digits in `base`, or None when it does not fit."""
    if value < 0 or value >= base**width:
        return None
    digits = []
    for _ in range(width):
        value, digit = divmod(value, base)
        digits.append(digit)
    return digits[::-1]


def _is_decimal(text: str) -> bool:
    return 0 < len(text) <= 10 and all(c in "0123456789" for c in text)


def convert_decimal(component: str, width: int) -> list[int] | None:
    """'12' -> 0C: the component's decimal value in hex (the guidance's "hex coding")."""
    return _in_base(int(component), 16, width) if _is_decimal(component) else None


def convert_bcd(component: str, width: int) -> list[int] | None:
    """'12' -> 12: decimal digits written as hex digits; too many digits for the field -> None."""
    return _in_base(int(component), 10, width) if _is_decimal(component) else None


def convert_hex_digits(component: str, width: int) -> list[int] | None:
    """'8D' -> 8D: the component is already hex digits."""
    if not 0 < len(component) <= 8 or any(c not in "0123456789abcdefABCDEF" for c in component):
        return None
    return _in_base(int(component, 16), 16, width)


Convert = Callable[[str, int], "list[int] | None"]
CONVERSIONS: Mapping[str, Convert] = MappingProxyType(
    {"decimal": convert_decimal, "bcd": convert_bcd, "hex-digits": convert_hex_digits}
)


# --- primitives: placements (converted components -> where they sit in the value) ---------------

class Layout(NamedTuple):
    nibbles: Nibbles
    steps: tuple[str, ...]  # "12->0C" per component, for the reason an auditor reads


def _hexstr(nibbles: Sequence[int]) -> str:
    return "".join(f"{n:X}" for n in nibbles)


class Converted(NamedTuple):
    nibbles: tuple[int, ...]
    step: str  # "12->0C"


@lru_cache(maxsize=1024)
def _converted(convert: Convert, component: str, width: int) -> Converted | None:
    """`convert(component, width)` with its step text, memoised.

    Conversions are pure and their inputs small and repetitive: the same components ('0', '1',
    '12') recur across certificates, and several codings convert one component the same way
    (left- and right-aligned share every conversion). Cleared by `clear_cache`.
    """
    digits = convert(component, width)
    if digits is None:
        return None
    return Converted(tuple(digits), f"{component}->{_hexstr(digits)}")


def _fill(components: Sequence[str], convert: Convert, width: int) -> Layout | None:
    nibbles: tuple[int, ...] = ()
    steps = []
    for component in components:
        converted = _converted(convert, component, width)
        if converted is None:
            return None
        nibbles += converted.nibbles
        steps.append(converted.step)
    return Layout(nibbles, tuple(steps))


def _flat(parts: Sequence[Sequence[str]]) -> Sequence[str]:
    """Every part's components, in order; one part is returned as it is (no copy)."""
    if len(parts) == 1:
        return parts[0]
    return tuple(c for part in parts for c in part)


def _place_aligned(
    parts: Sequence[Sequence[str]], convert: Convert, total: int, *, right: bool
) -> Layout | None:
    """One octet per component, from octet 1 (left) or ending at the last octet (right);
    the octets on the other side are not shown."""
    components = _flat(parts)
    if not components or 2 * len(components) > total:
        return None
    filled = _fill(components, convert, 2)
    if filled is None:
        return None
    unshown = (None,) * (total - len(filled.nibbles))
    nibbles = unshown + filled.nibbles if right else filled.nibbles + unshown
    return Layout(nibbles, filled.steps)


def place_left(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    return _place_aligned(parts, convert, total, right=False)


def place_right(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    return _place_aligned(parts, convert, total, right=True)


def place_whole(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """The components share the whole value equally: one 32-bit number, or four octets."""
    components = _flat(parts)
    if not components or total % len(components):
        return None
    return _fill(components, convert, total // len(components))


def _digit_stream(
    parts: Sequence[Sequence[str]], convert: Convert, total: int, *, right: bool
) -> Layout | None:
    components = _flat(parts)
    nibbles: tuple[int, ...] = ()
    for component in components:
        converted = _converted(convert, component, len(component))
        if converted is None:
            return None
        nibbles += converted.nibbles
    if not nibbles or len(nibbles) > total:
        return None
    unshown = (None,) * (total - len(nibbles))
    if right:
        return Layout(unshown + nibbles, (f"digits {' '.join(_hexstr(nibbles))} ending at the last digit",))
    return Layout(nibbles + unshown, (f"digits {' '.join(_hexstr(nibbles))} packed from octet 1",))


def place_digit_stream(
    parts: Sequence[Sequence[str]], convert: Convert, total: int
) -> Layout | None:
    """Each written digit is one hex digit, packed from the start; the rest not shown."""
    return _digit_stream(parts, convert, total, right=False)


def place_digit_stream_right(
    parts: Sequence[Sequence[str]], convert: Convert, total: int
) -> Layout | None:
    """Each written digit is one hex digit, the last written digit the value's last; the digits
    before them not shown ('1.1.006' -> ??:?1:10:06)."""
    return _digit_stream(parts, convert, total, right=True)


def place_last_component(
    parts: Sequence[Sequence[str]], convert: Convert, total: int
) -> Layout | None:
    """Only the last component is encoded, as the whole value ('1.11' -> 00:00:00:0B); the
    components before it are a label the value does not carry."""
    components = _flat(parts)
    if len(components) < 2:
        return None  # one component is the integer codings' reading, not this one
    if not components[-1].isdigit() or int(components[-1]) < 10:
        # A build counter under 10 would leave a value that is all 00 but its last digit: that
        # says nothing, and it accepts any value whose shown digits were zeroed ('4.6' would back
        # 00:00:00:06 as readily as the 00:00:04:06 it means), so the reading needs a counter >= 10.
        return None
    filled = _fill(components[-1:], convert, total)
    if filled is None:
        return None
    return Layout(filled.nibbles, (f"last component {filled.steps[0]}",))


def place_joined(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """The components' digits written together are one number, the whole value ('3.18' is 318)."""
    components = _flat(parts)
    if len(components) < 2:
        return None
    filled = _fill(("".join(components),), convert, total)
    if filled is None:
        return None
    return Layout(filled.nibbles, (f"digits joined {filled.steps[0]}",))


def place_bitfield(
    parts: Sequence[Sequence[str]], convert: Convert, total: int, bits: Sequence[int] = ()
) -> Layout | None:
    """Each component in its own bit field, most significant first, the fields packed at the
    value's end ('1.0.14' in 2+2+4 bits -> 0x4E); the octets above the fields not shown.

    `bits` comes from the coding (rules/codings.toml); `convert` is the coding's conversion of a
    component to its number, so a component too wide for its field gives no reading.
    """
    components = _flat(parts)
    if not bits or len(components) != len(bits) or sum(bits) > 4 * total:
        return None
    value = 0
    steps = []
    for component, width in zip(components, bits, strict=True):
        converted = _converted(convert, component, total)
        if converted is None:
            return None
        number = int(_hexstr(converted.nibbles), 16)
        if number >= 1 << width:
            return None
        value = value << width | number
        steps.append(f"{component} in {width} bits")
    shown = -(-sum(bits) // 8) * 2  # whole octets that hold the fields
    digits = _in_base(value, 16, shown)
    if digits is None:
        return None
    return Layout((None,) * (total - shown) + tuple(digits), (", ".join(steps) + f" = {value:X}",))


def _sixteen_bits(components: Sequence[str], convert: Convert) -> Layout | None:
    """A 16-bit OTA part (application or stack) shared equally by its components, right-aligned."""
    if not components:
        return Layout((None,) * 4, ())
    if len(components) > 4:
        return None
    width = 4 // len(components)
    filled = _fill(components, convert, width)
    if filled is None:
        return None
    return Layout((0,) * (4 - len(filled.nibbles)) + filled.nibbles, filled.steps)


def _app_and_stack(parts: Sequence[Sequence[str]]) -> tuple[Sequence[str], Sequence[str]] | None:
    if len(parts) >= 2 and parts[1]:
        return parts[0], parts[1]
    components = _flat(parts)
    if len(components) > 4:
        return None
    return components[:2], components[2:]


def place_app_stack(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """Application release/build in octets 1-2, stack release/build in 3-4 (OTA recommendation)."""
    split = _app_and_stack(parts)
    if total != 8 or split is None or not split[0]:
        return None
    app, stack = _sixteen_bits(split[0], convert), _sixteen_bits(split[1], convert)
    if app is None or stack is None:
        return None
    steps: tuple[str, ...] = (f"application {' '.join(app.steps)}",)
    if stack.steps:
        steps += (f"stack {' '.join(stack.steps)}",)
    return Layout(app.nibbles + stack.nibbles, steps)


def place_app_only(parts: Sequence[Sequence[str]], convert: Convert, total: int) -> Layout | None:
    """The whole version is the application part; the stack is not shown."""
    if total != 8 or (len(parts) >= 2 and parts[1]):
        return None  # a stack the text does show cannot be ignored
    app = _sixteen_bits(_flat(parts), convert)
    if app is None or not app.steps:
        return None
    return Layout(app.nibbles + (None,) * 4, app.steps)


Place = Callable[[Sequence[Sequence[str]], Convert, int], "Layout | None"]
PLACEMENTS: Mapping[str, Place] = MappingProxyType(
    {
        "whole-value": place_whole,
        "left-aligned": place_left,
        "right-aligned": place_right,
        "app-stack": place_app_stack,
        "app-only": place_app_only,
        "digit-stream": place_digit_stream,
        "digit-stream-right": place_digit_stream_right,
        "last-component": place_last_component,
        "joined-integer": place_joined,
        "bitfield": place_bitfield,
    }
)



# --- values and their display ---------------------------------------------------------------------

def _separator(field: Field) -> str:
    return "_" if field is Field.HARDWARE else ":"


def _octet_texts(nibbles: Sequence[int | None]) -> list[str]:
    chars = ["?" if n is None else f"{n:X}" for n in nibbles]
    return [chars[i] + chars[i + 1] for i in range(0, len(chars), 2)]


def display(nibbles: Sequence[int | None], field: Field) -> str:
    """'23:08:9?:??': the value with the hex digits the text does not show as '?'."""
    return _separator(field).join(_octet_texts(nibbles))


def format_value(nibbles: Sequence[int | None], field: Field) -> str:
    """Canonical CPL form: octets not shown are 00."""
    return display([n or 0 for n in nibbles], field)


# The engine's own nibbles are always ints 0-15 or None, in whole octets, so the engine formats
# them with one table look-up per octet; `display` and `format_value` above keep the general
# form for any caller's sequence, and give the same text for the engine's nibbles.
OctetTable = Mapping[tuple[int | None, int | None], str]


def _octet_table(unshown: str) -> OctetTable:
    digits = {None: unshown} | {n: f"{n:X}" for n in range(16)}
    return MappingProxyType({(hi, lo): digits[hi] + digits[lo] for hi in digits for lo in digits})


_SHOWN_OCTETS = _octet_table("?")  # as `display`: a digit the text does not show is '?'
_VALUE_OCTETS = _octet_table("0")  # as `format_value`: a digit the text does not show is 0


def _engine_octets(nibbles: Nibbles, table: OctetTable = _SHOWN_OCTETS) -> list[str]:
    """`_octet_texts` of the engine's nibbles (with table _VALUE_OCTETS: of its values)."""
    return [table[nibbles[i], nibbles[i + 1]] for i in range(0, len(nibbles), 2)]


def _shown_text(nibbles: Nibbles, field: Field) -> str:
    """`display` of the engine's nibbles."""
    return _separator(field).join(_engine_octets(nibbles))


def _value_text(nibbles: Nibbles, field: Field) -> str:
    """`format_value` of the engine's nibbles."""
    return _separator(field).join(_engine_octets(nibbles, _VALUE_OCTETS))
