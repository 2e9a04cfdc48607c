"""Benchmark of the coding engine: candidates per text, throughput, and the false-accept rate.

`python -m benchmarks.bench_codings real-pairs` runs only the real-looking pairs of issue 15
(benchmarks/real_pairs.py: public vendor conventions with manufacturer codes; consistent verdicts
and false accepts on perturbed values); `python -m benchmarks codings` runs both.

Texts are version strings generated from random octets under every firmware coding (seeded, so
runs compare), plus the guidance's and the issue's own examples. Throughput is measured cold (the
engine's cache cleared) against a baseline measured in the same run: `str.upper()` and one regex
that normalises a shown hex value, i.e. what a tool that only accepts hex would do. The
false-accept rate perturbs one octet of each true value to a value outside the text's candidate
set and counts MATCH/MAPPED verdicts: it must be 0.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable

from benchmarks import real_pairs
from pipeline.codings import candidates_for, clear_cache, judge
from pipeline.models import Field, Verdict

SEED = 20180201  # guidance v2.1, February 2018
TEXTS = 3000
FW = Field.FIRMWARE
ACCEPTING = (Verdict.MATCH, Verdict.MAPPED)
_BASELINE_HEX = re.compile(r"(?:0X)?" + r"[:\- ]?".join([r"([0-9A-F]{2})"] * 4))

FIXED = [
    ("12.3 (Stack 1.2.3.4)", "12:03:12:34"), ("12.3 (Stack 12.34)", "0C:03:0C:22"),
    ("Some String (14.7)", "0E:07:00:00"), ("7.8D Other String", "00:00:07:8D"),
    ("Version 1.2.5.6", "01:02:05:06"), ("3.70.55.18", "03:46:37:12"), ("3.12.16", "00:03:0C:10"),
    ("24.4.13", "24:04:00:13"), ("0.0.0_0046", "00:00:00:2E"), ("V030103", "00:03:01:03"),
    ("v17", "00:00:00:11"), ("0x0C030C22", "0C:03:0C:22"),
]


def _hex(octets: list[int]) -> str:
    return ":".join(f"{o:02X}" for o in octets)


def _bcd(n: int) -> int:
    return int(str(n), 16)


def _render(rng: random.Random) -> tuple[str, str]:
    """One (certificate text, true CPL value) under a randomly chosen coding."""
    style = rng.randrange(9)
    label = rng.choice(["", "Version ", "Firmware ", "SW ", "Release ("])
    if style == 0:
        value = [rng.randrange(256) for _ in range(4)]
        return label + rng.choice(["0x{}", "{}"]).format(_hex(value).replace(":", "")), _hex(value)
    if style == 1:
        comps = [rng.randrange(256) for _ in range(rng.randint(2, 4))]
        return label + ".".join(map(str, comps)), _hex(comps + [0] * (4 - len(comps)))
    if style == 2:
        comps = [rng.randrange(256) for _ in range(rng.randint(2, 3))]
        return label + ".".join(map(str, comps)), _hex([0] * (4 - len(comps)) + comps)
    if style == 3:
        a, b, c, d = (rng.randrange(256) for _ in range(4))
        return f"{label}{a}.{b} (Stack {c}.{d})", _hex([a, b, c, d])
    if style == 4:
        a, b = rng.randrange(100), rng.randrange(100)
        w, x, y, z = (rng.randrange(10) for _ in range(4))
        return f"{label}{a}.{b} (Stack {w}.{x}.{y}.{z})", _hex([_bcd(a), _bcd(b), w * 16 + x, y * 16 + z])
    if style == 5:
        comps = [rng.randrange(100) for _ in range(rng.randint(2, 4))]
        return label + ".".join(map(str, comps)), _hex([_bcd(c) for c in comps] + [0] * (4 - len(comps)))
    if style == 6:
        comps = [rng.randrange(256) for _ in range(2)]
        if not any(ch in "ABCDEF" for c in comps for ch in f"{c:X}"):
            comps[1] = 0x8D
        return f"{'.'.join(f'{c:X}' for c in comps)} Other String", _hex([0, 0, *comps])
    if style == 7:
        n = rng.randrange(2**16)
        return f"v{n}", _hex(list(n.to_bytes(4, "big")))
    n = rng.randrange(10_000)
    return f"{rng.randrange(10)}.{rng.randrange(10)}.0_{n:04d}", _hex(list(n.to_bytes(4, "big")))


def generate(count: int = TEXTS, seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    return FIXED + [_render(rng) for _ in range(count - len(FIXED))]


def baseline(text: str) -> str | None:
    """What a hex-only checker does: upper-case and look for one shown hex value."""
    match = _BASELINE_HEX.search(text.upper())
    return ":".join(match.groups()) if match else None


def _rate(func: Callable[[str], object], texts: list[str], repeat: int = 3) -> float:
    """Texts per second, best of `repeat` passes (the engine's cache cleared before each)."""
    best = float("inf")
    for _ in range(repeat):
        clear_cache()
        started = time.perf_counter()
        for text in texts:
            func(text)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best if best else float("inf")


def _perturbed(value: str, rng: random.Random, candidates: set[str]) -> str | None:
    """The value with one octet changed to something outside the candidate set."""
    octets = value.split(":")
    for _ in range(50):
        changed = list(octets)
        changed[rng.randrange(4)] = f"{rng.randrange(256):02X}"
        wrong = ":".join(changed)
        if wrong not in candidates:
            return wrong
    return None


def run(quick: bool = False) -> dict[str, object]:
    return {**synthetic(), "real_pairs": real_pairs.measure(500 if quick else real_pairs.PAIRS)}


def synthetic() -> dict[str, object]:
    """Texts under every firmware coding from random octets (no manufacturer)."""
    cases = generate()
    texts = [text for text, _ in cases]
    clear_cache()
    counts = [len(candidates_for(text, FW)) for text in texts]
    found = sum(value in {c.value for c in candidates_for(text, FW)} for text, value in cases)
    engine_rate = _rate(lambda t: candidates_for(t, FW), texts)
    baseline_rate = _rate(baseline, texts)
    rng = random.Random(SEED + 1)  # noqa: S311 - reproducible test data, not secrets
    tried = accepted = coinciding = 0
    for text, value in cases:
        candidates = {c.value for c in candidates_for(text, FW)}
        wrong = _perturbed(value, rng, candidates)
        if wrong is not None:
            tried += 1
            accepted += judge(text, FW, wrong).status in ACCEPTING
        # The risk many candidates bring: a random one-octet slip that lands on another candidate.
        octets = value.split(":")
        octets[rng.randrange(4)] = f"{rng.randrange(256):02X}"
        slip = ":".join(octets)
        coinciding += slip != value and slip in candidates
    return {
        "texts": len(texts),
        "candidates_per_text_mean": round(statistics.fmean(counts), 2),
        "candidates_per_text_median": statistics.median(counts),
        "candidates_per_text_max": max(counts),
        "candidates_per_dotted_text_mean": round(
            statistics.fmean(n for n, t in zip(counts, texts, strict=True) if "." in t), 2
        ),
        "true_value_among_candidates": f"{found}/{len(cases)}",
        "engine_texts_per_s": round(engine_rate),
        "baseline_texts_per_s": round(baseline_rate),
        "baseline_over_engine_time_ratio": round(baseline_rate / engine_rate, 1),
        "perturbed_values_judged": tried,
        "false_accepts": accepted,
        "false_accept_rate": accepted / tried if tried else 0.0,
        "random_slips_landing_on_another_candidate": f"{coinciding}/{len(cases)}",
    }


if __name__ == "__main__":
    import json
    import sys

    result = real_pairs.measure() if sys.argv[1:] == ["real-pairs"] else run()
    print(json.dumps(result, indent=1))
