"""Real-looking (version string, OTA file version, manufacturer code) pairs, from the public
conventions of issue 15, and how the coding engine judges them.

Each convention is what a real vendor does (issue 15, "What real vendors do"), with its row share
of the 833 public pairs the issue describes; the numbers are drawn at random from SEED, and any
text that appears as an example in rules/codings.toml or as a quoted literal in tests/ is drawn
again, so the benchmark is kept apart from the tests. Every pair carries the manufacturer code
a CPL row would, so the declarations in rules/manufacturer_codings/ apply as in a reconcile.

Measured: consistent (MATCH, MAPPED or PARTIAL on the true value), and the false-accept rate on
perturbed values: one octet, or one hex digit, of the true value changed; any MATCH/MAPPED on a
perturbed value is a false accept.
"""

from __future__ import annotations

import random
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from pipeline.codings import CODINGS_TOML, candidates_for, clear_cache, judge
from pipeline.models import Field, Verdict

SEED = 20261215  # not a seed the tests use
PAIRS = 5000
PERTURBATIONS = 4  # per pair and kind (octet, digit)
FW = Field.FIRMWARE
CONSISTENT = (Verdict.MATCH, Verdict.MAPPED, Verdict.PARTIAL)
ACCEPTING = (Verdict.MATCH, Verdict.MAPPED)
TESTS = Path(__file__).resolve().parent.parent / "tests"

# Manufacturers without a declaration (their certificates are read by the general codings), and
# the declared ones, each with the convention its declaration's source documents.
UNDECLARED = ["10:6C", "10:31", "10:63", "10:57", "10:28", "11:25", "10:E0", "10:15", "10:F2",
              "10:5E", "11:5F", "11:60", "12:33", "12:46", "10:0B", "12:3E"]
HUE, FLONIDAN = "10:0B", "12:3E"


class Pair(NamedTuple):
    convention: str
    text: str
    cpl: str
    manufacturer: str


Draw = Callable[[random.Random], tuple[str, list[int]]]


def _hex(octets: list[int]) -> str:
    return ":".join(f"{o:02X}" for o in octets)


def _bcd(n: int) -> int:
    return int(str(n), 16)


def _label(rng: random.Random) -> str:
    return rng.choice(["", "", "Version ", "Firmware ", "SW ", "v", "Firmware version: "])


def _octets(value: int) -> list[int]:
    return list(value.to_bytes(4, "big"))


# --- the conventions: each (rng) -> (text, octets of the true value) ---------------------------

def decimal_left(rng: random.Random) -> tuple[str, list[int]]:
    comps = [rng.randrange(10), rng.randrange(100), rng.randrange(256), rng.randrange(256)]
    comps = comps[: rng.choice([2, 3, 4, 4])]
    return _label(rng) + ".".join(map(str, comps)), comps + [0] * (4 - len(comps))


def decimal_right(rng: random.Random) -> tuple[str, list[int]]:
    comps = [rng.randrange(10), rng.randrange(100), rng.randrange(256)][: rng.choice([2, 3, 3])]
    return _label(rng) + ".".join(map(str, comps)), [0] * (4 - len(comps)) + comps


def decimal_after_leading_octet(rng: random.Random) -> tuple[str, list[int]]:
    """A fixed vendor octet, then the components right-aligned: PARTIAL names the octet."""
    lead = rng.choice([0x06, 0x02, 0x11, 0x40])
    comps = [rng.randrange(10), rng.randrange(1, 100), rng.randrange(100)]
    return rng.choice(["_", "."]).join(map(str, comps)), [lead, *comps]


def hue(rng: random.Random) -> tuple[str, list[int]]:
    """Hue: 26.0 -> 01:00:1A:00 (PARTIAL: octet 1 is Hue's)."""
    minor, patch = rng.randrange(1, 256), rng.randrange(10)
    return f"{minor}.{patch}", [0x01, 0x00, minor, patch]


def all_under_ten(rng: random.Random) -> tuple[str, list[int]]:
    comps = [rng.randrange(10) for _ in range(rng.choice([2, 3, 3, 4]))]
    pad = [0] * (4 - len(comps))
    return _label(rng) + ".".join(map(str, comps)), rng.choice([comps + pad, pad + comps])


def bcd_right(rng: random.Random) -> tuple[str, list[int]]:
    """1.1.006 -> 00:01:10:06: the written digits as hex digits, ending at the last."""
    text = f"{rng.randrange(1, 10)}.{rng.randrange(10)}.{rng.randrange(1000):03d}"
    digits = text.replace(".", "")
    return text, _octets(int(digits, 16))


def ikea_bcd(rng: random.Random) -> tuple[str, list[int]]:
    """IKEA 24.4.13 -> 24:04:00:13 (the old feed's MSB and LSB are the digits in hex)."""
    a, b, c = rng.randrange(1, 100), rng.randrange(10), rng.randrange(100)
    return f"{a}.{b}.{c}", [_bcd(a), _bcd(b), 0, _bcd(c)]


def ikea_tail(rng: random.Random) -> tuple[str, list[int]]:
    """IKEA 2.3.089 -> 23:08:96:31: the digits, then a tail the string does not show (PARTIAL)."""
    a, b, c = rng.randrange(1, 10), rng.randrange(10), rng.randrange(1000)
    text = f"{a}.{b}.{c:03d}"
    tail = rng.randrange(1, 0x1000)
    return text, _octets(int(text.replace(".", "") + f"{tail:03X}", 16))


def ikea_integer(rng: random.Random) -> tuple[str, list[int]]:
    n = rng.randrange(1, 1 << 28)
    return f"v{n}", _octets(n)


def last_component(rng: random.Random) -> tuple[str, list[int]]:
    if rng.random() < 0.4:
        n = rng.randrange(10000)
        return f"{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(10)}_{n:04d}", _octets(n)
    n = rng.randrange(1, 1000)
    return f"{rng.randrange(10)}.{n}", _octets(n)


def digit_pairs(rng: random.Random) -> tuple[str, list[int]]:
    """V030103 -> 00:03:01:03: the string is the hex (pairs of decimal digits)."""
    comps = [rng.randrange(10), rng.randrange(100), rng.randrange(100)]
    return "V" + "".join(f"{c:02d}" for c in comps), [0, *map(_bcd, comps)]


def salus(rng: random.Random) -> tuple[str, list[int]]:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([3, 4, 6])))
    return digits, _octets(int(digits, 16))


def decimal_integer(rng: random.Random) -> tuple[str, list[int]]:
    n = rng.randrange(1, 5000)
    return rng.choice([f"v{n}", f"{n}", f"V{n}"]), _octets(n)


def joined_integer(rng: random.Random) -> tuple[str, list[int]]:
    """3.18 -> 318: no public source names a vendor, so no declaration reads it (a miss)."""
    a, b = rng.randrange(1, 10), rng.randrange(10, 100)
    return f"{a}.{b}", _octets(int(f"{a}{b}"))


def silabs(rng: random.Random) -> tuple[str, list[int]]:
    comps = [rng.randrange(5, 9), rng.randrange(16), rng.randrange(16), rng.randrange(16)]
    value = comps[0] << 12 | comps[1] << 8 | comps[2] << 4 | comps[3]
    return ".".join(map(str, comps)), _octets(value)


def tuya(rng: random.Random) -> tuple[str, list[int]]:
    major, minor, patch = rng.randrange(4), rng.randrange(4), rng.randrange(16)
    return f"{major}.{minor}.{patch}", _octets(major << 6 | minor << 4 | patch)


def ledvance(rng: random.Random) -> tuple[str, list[int]]:
    comps = [rng.randrange(1, 4), rng.randrange(10), rng.randrange(256), rng.randrange(256)]
    return ".".join(map(str, comps)), comps


def flonidan(rng: random.Random) -> tuple[str, list[int]]:
    """The G4SZV: radio 3.10.7 -> 09:03:0A:07, octet 1 an index build (PARTIAL at best)."""
    comps = [rng.randrange(1, 10), rng.randrange(1, 30), rng.randrange(20)]
    return ".".join(map(str, comps)), [rng.randrange(1, 16), *comps]


def app_stack(rng: random.Random) -> tuple[str, list[int]]:
    a, b, c, d = (rng.randrange(100) for _ in range(4))
    return f"{a}.{b} (Stack {c}.{d})", [a, b, c, d]


def hex_shown(rng: random.Random) -> tuple[str, list[int]]:
    octets = [rng.randrange(256) for _ in range(4)]
    shown = rng.choice(["0x{}", "{}"]).format(_hex(octets).replace(":", ""))
    return rng.choice(["", "Version ", "Firmware "]) + shown, octets


# (weight in rows of 833, convention, manufacturer codes it is drawn for: None = undeclared)
CONVENTIONS: list[tuple[int, Draw, list[str] | None]] = [
    (170, decimal_left, None),
    (90, decimal_right, None),
    (60, decimal_after_leading_octet, None),
    (20, hue, [HUE]),
    (25, ledvance, ["11:89", "11:0C"]),
    (15, app_stack, None),
    (173, all_under_ten, None),
    (18, bcd_right, None),
    (15, ikea_bcd, ["11:7C"]),
    (10, ikea_tail, ["11:7C"]),
    (81, last_component, None),
    (38, digit_pairs, None),
    (15, salus, ["10:78"]),
    (12, decimal_integer, None),
    (10, decimal_integer, ["12:2F"]),
    (10, ikea_integer, ["11:7C"]),
    (8, joined_integer, None),
    (20, silabs, ["10:49", "10:02"]),
    (25, tuya, ["11:41"]),
    (8, flonidan, [FLONIDAN]),
    (10, hex_shown, None),
]


def _examples() -> set[str]:
    """Texts the tests use: rules/codings.toml examples and quoted literals in tests/*.py."""
    data = tomllib.loads(CODINGS_TOML.read_text(encoding="utf-8"))
    texts = {e["text"] for c in data["coding"] for e in c["examples"]}
    source = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("*.py"))
    return texts | {"QUOTED:" + source}


def _used(text: str, examples: set[str]) -> bool:
    quoted = next(e for e in examples if e.startswith("QUOTED:"))
    return text in examples or f'"{text}"' in quoted or f"'{text}'" in quoted


def generate(count: int = PAIRS, seed: int = SEED) -> list[Pair]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    examples = _examples()
    weights = [w for w, _, _ in CONVENTIONS]
    pairs: list[Pair] = []
    while len(pairs) < count:
        _, draw, makers = rng.choices(CONVENTIONS, weights)[0]
        text, octets = draw(rng)
        if _used(text.strip(), examples):
            continue
        maker = rng.choice(makers or UNDECLARED)
        pairs.append(Pair(draw.__name__, text, _hex(octets), maker))
    return pairs


def _perturb_octet(value: str, rng: random.Random) -> str:
    octets = value.split(":")
    i = rng.randrange(4)
    octets[i] = f"{(int(octets[i], 16) + rng.randrange(1, 256)) % 256:02X}"
    return ":".join(octets)


def _perturb_digit(value: str, rng: random.Random) -> str:
    digits = list(value.replace(":", ""))
    i = rng.randrange(8)
    digits[i] = f"{(int(digits[i], 16) + rng.randrange(1, 16)) % 16:X}"
    return ":".join("".join(digits[k:k + 2]) for k in range(0, 8, 2))


def _only_unshown_to_zero(pair: Pair, wrong: str) -> bool:
    """The perturbed value differs from the true one only where the true value's best reading
    shows nothing, and is 00 there: SPEC counts such octets as explained ("Octets that the text
    leaves out and the CPL value has as 00 count as explained"), so no coding can refuse it."""
    true = judge(pair.text, FW, pair.cpl, manufacturer_code=pair.manufacturer)
    if true.status is not Verdict.PARTIAL:
        return False
    got = judge(pair.text, FW, wrong, manufacturer_code=pair.manufacturer)
    return got.method == true.method and all(
        a == b or b == "00" for a, b in zip(pair.cpl.split(":"), wrong.split(":"), strict=True)
    )


def measure(count: int = PAIRS, seed: int = SEED) -> dict[str, object]:
    clear_cache()
    pairs = generate(count, seed)
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not secrets
    verdicts: Counter[str] = Counter()
    by_convention: dict[str, Counter[str]] = {}
    judged = {"octet": 0, "digit": 0}
    accepted = {"octet": 0, "digit": 0}
    unshown_to_zero = {"octet": 0, "digit": 0}
    by_coding: Counter[str] = Counter()
    examples: list[str] = []
    for pair in pairs:
        result = judge(pair.text, FW, pair.cpl, manufacturer_code=pair.manufacturer)
        verdicts[result.status.value] += 1
        ok = "consistent" if result.status in CONSISTENT else result.status.value
        by_convention.setdefault(pair.convention, Counter())[ok] += 1
        for kind, perturb in (("octet", _perturb_octet), ("digit", _perturb_digit)):
            for _ in range(PERTURBATIONS):
                wrong = perturb(pair.cpl, rng)
                judged[kind] += 1
                got = judge(pair.text, FW, wrong, manufacturer_code=pair.manufacturer)
                if got.status in ACCEPTING:
                    accepted[kind] += 1
                    if _only_unshown_to_zero(pair, wrong):
                        unshown_to_zero[kind] += 1
                    else:
                        by_coding[got.method] += 1
                    if len(examples) < 8:
                        examples.append(f"{pair.text!r} [{pair.manufacturer}] true {pair.cpl}, "
                                        f"{wrong} accepted by {got.method}")
    consistent = sum(verdicts[v.value] for v in CONSISTENT)
    total_judged = judged["octet"] + judged["digit"]
    total_accepted = accepted["octet"] + accepted["digit"]
    return {
        "pairs": len(pairs),
        "seed": seed,
        "verdicts": dict(sorted(verdicts.items())),
        "consistent": round(consistent / len(pairs), 4),
        "by_convention": {k: dict(v) for k, v in sorted(by_convention.items())},
        "perturbed_judged": judged,
        "perturbed_false_accepts": accepted,
        "false_accept_rate_octet": round(accepted["octet"] / judged["octet"], 5),
        "false_accept_rate_digit": round(accepted["digit"] / judged["digit"], 5),
        "false_accept_rate": round(total_accepted / total_judged, 5),
        # The accepts a certificate does not back: less those SPEC itself calls explained (the one
        # change is a 00 where the text shows nothing), which no coding may refuse.
        "not_backed_rate_octet": round((accepted["octet"] - unshown_to_zero["octet"]) / judged["octet"], 5),
        "not_backed_rate_digit": round((accepted["digit"] - unshown_to_zero["digit"]) / judged["digit"], 5),
        "of_which_unshown_octet_set_to_00": unshown_to_zero,
        "other_false_accepts_by_coding": dict(by_coding.most_common()),
        "false_accept_examples": examples,
        "candidates_per_text_mean": round(
            sum(len(candidates_for(p.text, FW, manufacturer_code=p.manufacturer)) for p in pairs)
            / len(pairs), 2),
    }
