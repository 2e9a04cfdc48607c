"""Keys that compare certificate IDs (and the module names evidence files cite) the way people
and OCR vary them: one definition for linking CPL rows to certificates and evidence to rows.

`exact_key`: upper case, spaces, dashes and other punctuation dropped ("zig17 2383" is
"ZIG172383"). `confusable_key`: that, with each letter tesseract reads for a digit taken as the
digit, so two IDs with one confusable key may be one ID read twice (measured: ZIG read as Z1G
and 21G, 0 as O, 17 as IT on a 150-dpi JPEG scan).
"""

from __future__ import annotations

import regex

_NOT_ALNUM = regex.compile(r"[^0-9A-Z]+")
# Letters OCR confuses with digits, upper case (the keys are): I/L->1, O/Q->0, Z->2, S->5, T->7.
ID_CONFUSIONS = str.maketrans({"I": "1", "L": "1", "O": "0", "Q": "0", "Z": "2", "S": "5",
                               "T": "7"})


def exact_key(text: str) -> str:
    return _NOT_ALNUM.sub("", text.upper())


def confusable_key(text: str) -> str:
    return exact_key(text).translate(ID_CONFUSIONS)
