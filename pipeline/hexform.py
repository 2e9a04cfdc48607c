"""The one reading of a hex value written as octets: '0c030c22', '10-6c', '01_02' -> canonical.

Codings (CPL values), the registries (manufacturer codes) and the OTA images (hardware ranges) all
compare hex octets; they share this function so that the three can never disagree on what counts
as the same value. It has no imports from the rest of the package, so any module may use it.
"""

from __future__ import annotations

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
ANY_SEPARATOR = ":-_ "


def canonical_hex(
    text: str, octets: int, separators: str = ANY_SEPARATOR, *, loose: bool = True
) -> str | None:
    """'0c030c22', '0x0C030C22', '0C-03-0C-22', '0c 03 0c 22' -> '0C:03:0C:22'.

    One separator kind (one of `separators`) between every octet; None when the text is not
    exactly `octets` hex octets. `loose` also allows surrounding spaces, a '0x' prefix and no
    separator at all; without it the text must be the octets and separators alone ('01_02').
    """
    if not isinstance(text, str) or octets < 1 or len(text) > 8 * octets + 8:
        return None
    body = text.strip() if loose else text
    if loose and body[:2] in ("0x", "0X"):
        body = body[2:]
    if loose and len(body) == 2 * octets and _HEX_DIGITS.issuperset(body):
        pairs = [body[i:i + 2] for i in range(0, len(body), 2)]
    elif octets == 1:
        if len(body) != 2 or not _HEX_DIGITS.issuperset(body):
            return None
        pairs = [body]
    else:
        found = set(body[2::3])  # the characters at 2, 5, 8, ...
        if len(found) != 1 or not found <= set(separators):
            return None
        pairs = body.split(found.pop())
        # `octets` pieces in 3 * octets - 1 characters, with the separator at 2, 5, 8, ...: then
        # every piece has two characters
        if (len(pairs) != octets or len(body) != 3 * octets - 1
                or not _HEX_DIGITS.issuperset("".join(pairs))):
            return None
    return ":".join(pairs).upper()
