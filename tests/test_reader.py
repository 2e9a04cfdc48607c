"""Lint of rules/lexicon.toml, the layout-independent reader's label lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.reader.lexicon import FIELDS, LEXICON_FILE, load_lexicon
from pipeline.rulesfile import RulesFileError


def test_lexicon_loads_with_labels_and_a_shape_for_every_field() -> None:
    lexicon = load_lexicon()
    assert set(lexicon.labels.values()) == set(FIELDS)
    for name in FIELDS:
        assert lexicon.shapes[name].max_words >= 1


def test_translated_labels_are_one_label() -> None:
    lexicon = load_lexicon()
    for text in ("N.º de certificado", "N° DE CERTIFICADO", "Certificate No. / N° de certificat"):
        assert lexicon.is_only_labels(text) == "certificate_id", text


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace("schema = 1", "schema = 2"), "schema must be 1"),
        (lambda t: t.replace("[fields.model]", "[fields.modell]"), "[fields.model]"),
        (lambda t: t.replace("[fields.model]\nlabels = [", '[fields.model]\nlabels = ["vendor", '),
         "is given for manufacturer and model"),
        (lambda t: t.replace("type_headers = [", "typ_headers = ["), "[layout] has unknown keys"),
        (lambda t: t.replace('sentence_words = ["on",', 'sentence_words = ["on", 3,'),
         "[layout] sentence_words must be a list of words"),
    ],
)
def test_a_broken_lexicon_names_its_file(tmp_path: Path, edit, problem: str) -> None:  # noqa: ANN001
    broken = tmp_path / "lexicon.toml"
    broken.write_text(edit(LEXICON_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(RulesFileError, match=str(broken)) as caught:
        load_lexicon(broken)
    assert problem in str(caught.value)
