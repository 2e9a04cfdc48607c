"""report.html in a real browser (Debian's chromium, headless): it renders, every row is there,
cards show the crops and the plain-English verdict, nothing is fetched from outside, and text
from documents cannot run as script."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from pipeline.models import Field, FieldJudgement, Overall, RowResult, Verdict
from pipeline.report import build_report, write_outputs
from pipeline.run.runner import Settings, run_reconcile

from conftest import CORPUS, SAMPLES, read_csv
from evidence_words import with_text_evidence

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                    "(scripts/ensure-chromium.sh)")


def chromium(*args: str, timeout: float = 90) -> str:
    """Headless chromium with a throwaway profile; its stdout (the DOM for --dump-dom)."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="cplrecon-chromium-") as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=True,
        )
    return done.stdout


def dom(page: Path, fragment: str = "") -> str:
    return chromium("--virtual-time-budget=10000", "--dump-dom", page.as_uri() + fragment)


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run over the bundled corpus, its certificates carrying provenance made from
    their real words (the field reader that fills it is built elsewhere)."""
    import pipeline.document as document

    real = document.process_document
    patch = pytest.MonkeyPatch()
    patch.setattr(document, "process_document",
                  lambda doc, ocr, limits: with_text_evidence(real(doc, ocr, limits), Path(doc.location)))
    out = tmp_path_factory.mktemp("html") / "out"
    try:  # in-process (one worker, no time limit) so the patched reader is the one used
        run_reconcile(Settings(certs=(str(CORPUS),), cpl=str(SAMPLES / "cpl_submission.csv"),
                               out=str(out), workers=1, timeout_s=None, cache=False, quiet=True))
    finally:
        patch.undo()
    return out


def test_the_report_is_one_self_contained_file(report_run: Path) -> None:
    html = (report_run / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html and "@import" not in html
    assert len(list((report_run / "evidence").glob("*.png"))) > 100  # crops of every field found


@needs_chromium
def test_every_row_is_in_the_dom_and_nothing_is_external(report_run: Path) -> None:
    page = dom(report_run / "report.html")
    rows = read_csv(report_run / "reconciliation.csv")
    found = re.findall(r'<tr class="row" data-index="(\d+)" data-status="([A-Z_]+)">', page)
    assert [int(i) for i, _ in found] == list(range(len(rows)))
    assert [s for _, s in found] == [r["overall_status"] for r in rows]
    for r in rows:
        assert f">{r['submission_id']}<" in page
    assert f"{len(rows)} of {len(rows)} rows" in page
    assert not re.findall(r"""(?:src|href)="(?:https?:)?//""", page, re.I)


@needs_chromium
def test_a_card_shows_crops_the_sentence_and_the_page(report_run: Path) -> None:
    rows = read_csv(report_run / "reconciliation.csv")
    mapped = next(r for r in rows if r["firmware_version_method"] == "decimal-per-component/app-stack")
    page = dom(report_run / "report.html", f"#row={mapped['submission_row']}")
    card = page[page.index('<tr class="card">'):]
    card = card[:card.index("</tr></tbody>") if "</tr></tbody>" in card else len(card)]
    assert "is application 12.3 and stack 12.34 with each number written in hex" in card
    images = re.findall(r'<img src="(evidence/[^"]+\.png)" loading="lazy"', card)
    assert len(images) == 5  # the certificate ID and the four fields
    assert all((report_run / src).is_file() for src in images)
    assert re.search(r'href="[^"]*cert_\d+_\w+\.pdf#page=1"', card)


@needs_chromium
def test_screenshot_is_not_blank(report_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium("--window-size=1280,1600", f"--screenshot={shot}",
             (report_run / "report.html").as_uri() + "#row=6")
    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        grey = image.convert("L")
        histogram = grey.histogram()
        dark = sum(histogram[:128]) / (image.width * image.height)
        assert 0.005 < dark < 0.5  # text and bars on a white page, not blank and not black
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50  # colours: chart, status


def poisoned_results() -> list[RowResult]:
    from pipeline.models import CplRow

    poison = "</script><script>document.title='pwned'</script><img src=http://x.invalid/a.png>"
    cpl = CplRow(1, "S&1 <b>", "ZIG-1", "10:9F", "00:01", "01", "02", "12:03:12:34")
    return [RowResult(cpl, Overall.FAIL, reasons=(poison,), certificate_file="a.pdf", judgements=(
        FieldJudgement(Field.FIRMWARE, "12:03:12:34", poison, Verdict.MISMATCH, reason=poison),
    ))]


@needs_chromium
def test_document_text_cannot_run_or_fetch(tmp_path: Path) -> None:
    out = write_outputs(build_report(poisoned_results(), [], {}), tmp_path)
    html = out["report"].read_text(encoding="utf-8")
    assert "</script><script>document.title" not in html
    page = dom(out["report"], "#row=1")
    assert "<title>cplrecon audit report</title>" in page
    assert "pwned" not in page.split("<body", 1)[0]
    assert 'src="http' not in page
    assert "S&amp;1 &lt;b&gt;" in page  # shown as text


@needs_chromium
def test_ten_thousand_rows(tmp_path: Path) -> None:
    from pipeline.models import CplRow

    def passing(i: int) -> RowResult:
        cpl = CplRow(i, f"S{i}", "ZIG-1", "10:9F", "00:01", "01", "02", "0C:03:0C:22")
        return RowResult(cpl, Overall.PASS, certificate_file="a.pdf", judgements=(
            FieldJudgement(Field.FIRMWARE, "0C:03:0C:22", "12.3 (Stack 12.34)", Verdict.MAPPED,
                           "decimal-per-component/app-stack"),))

    out = write_outputs(build_report([passing(i) for i in range(1, 10_001)], [], {}), tmp_path)
    assert out["report"].stat().st_size < 30_000_000
    page = dom(out["report"])
    assert page.count('<tr class="row"') == 10_000
    assert "10000 of 10000 rows" in page
