"""Plain-English verdicts: the sentence is built from the coding result, for the guidance's cases."""

from __future__ import annotations

import pytest

from pipeline.codings import judge
from pipeline.models import Field
from pipeline.registry import load_registry
from pipeline.report.plain import STATUS_WORDS, judgement_sentence, row_sentences

F = Field.FIRMWARE


@pytest.mark.parametrize(("text", "field", "cpl", "status", "words"), [
    # The guidance's own examples (SPEC table), checked against their codings.
    ("12.3 (Stack 12.34)", F, "0C:03:0C:22", "MAPPED",
     "the certificate's 12.3 (Stack 12.34) is application 12.3 and stack 12.34 with each number "
     "written in hex (12 = 0C, 3 = 03, 34 = 22), giving 0C:03:0C:22, the CPL value"),
    ("12.3 (Stack 1.2.3.4)", F, "12:03:12:34", "MAPPED",
     "the certificate's 12.3 (Stack 1.2.3.4) is application 12.3 and stack 1.2.3.4 with each "
     "number's decimal digits used as hex digits (binary-coded decimal) (12 = 12, 3 = 03, 1 = 1, "
     "2 = 2, 3 = 3, 4 = 4), giving 12:03:12:34, the CPL value"),
    ("7.8D Other String", F, "00:00:07:8D", "MAPPED",
     "the certificate's 7.8D gives one octet per number, ending at the last octet, with each part "
     "already in hex (7 = 07, 8D = 8D), giving 00:00:07:8D (the text shows ??:??:07:8D; the "
     "digits it does not show count as 0), the CPL value"),
    # The guidance's 14 = 0D is wrong: 14 is 0E. The sentence says what each reading gives.
    ("Some String (14.7)", F, "0D:07:00:00", "MISMATCH",
     "the certificate's Some String (14.7) can be read as 0E:07:00:00 "
     "(decimal-per-component/left-aligned) or "),
    ("1.2", Field.HARDWARE, "01_02", "MAPPED",
     "the certificate's 1.2 gives one octet per number, from the first octet, with each number "
     "written in hex (1 = 01, 2 = 02), giving 01_02, the CPL value"),
    ("10:9F", Field.MANUFACTURER, "10:9F", "MATCH",
     "the certificate shows 10:9F, which is the CPL value 10:9F written in hex"),
    ("EDMI Pty Ltd", Field.MANUFACTURER, "10:6C", "MAPPED",
     "the certificate's EDMI Pty Ltd is EDMI Pty Ltd in the registry manufacturers.csv, whose "
     "code is 10:6C, the CPL value"),
    ("", F, "01:02:03:04", "MISSING", "the certificate does not show the firmware version"),
    ("12.3", F, "0C:03:00:05", "PARTIAL",
     "the certificate's 12.3 accounts for only part of the CPL value 0C:03:00:05: it explains "
     "octets 1-2 (0C:03); octets 3-4 (00:05) not shown"),
    ("Acme", Field.MANUFACTURER, "10:9F", "UNVERIFIABLE",
     "the certificate shows Acme, which cannot be turned into a hex manufacturer code: "),
])
def test_sentences(text: str, field: Field, cpl: str, status: str, words: str) -> None:
    j = judge(text, field, cpl, load_registry())
    assert j.status.value == status
    assert judgement_sentence(j).startswith(words)


def test_invalid_cpl_says_which_rule() -> None:
    from pipeline.report.plain import sentence

    reason = "manufacturer_identifier FF:FF is outside the valid range 00:00 to FF:FE"
    assert sentence(Field.MANUFACTURER, "FF:FF", "Acme (11:25)", "INVALID_CPL", reason=reason) == (
        "the CPL value FF:FF is not a valid manufacturer code: " + reason)


def test_a_row_gets_one_sentence_per_judged_field() -> None:
    row = {"firmware_version_cpl": "0C:03:0C:22", "firmware_version_certificate": "12.3 (Stack 12.34)",
           "firmware_version_status": "MAPPED", "firmware_version_method": "decimal-per-component/app-stack"}
    sentences = row_sentences(row)
    assert sentences["firmware_version"].endswith("giving 0C:03:0C:22, the CPL value")
    assert sentences["model_identifier"] == ""


def test_every_status_word_has_a_legend() -> None:
    from pipeline.models import Overall, Verdict

    assert set(STATUS_WORDS) == {v.value for v in Verdict} | {o.value for o in Overall}
