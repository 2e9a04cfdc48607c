"""The layout reader on the smallest PDFs that show each case it once got wrong (issue 11; found
on DEVELOPMENT families of samples/grammar.py, seed 11): a label in running text, one-word
company names after a verb of making, an address's number taken for a model, dotted leaders
with no value, and a manufacturer code spelled inside the company's name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from pipeline.codings import judge
from pipeline.document import process_document
from pipeline.ingest import IngestLimits, file_document
from pipeline.models import Certificate, ExtractLimits, Field, Verdict
from pipeline.reader.printed_hex import rewrite_printed_hex
from samples.hostile import text_pdf


def _pdf(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(text_pdf(lines))
    return path


def _read(path: Path) -> Certificate:
    return process_document(file_document(str(path), str(path), IngestLimits()), "never",
                            ExtractLimits())


PROSE = [
    "Harwell Conformance Laboratory",
    "Unit 4, Harwell Campus, Didcot OX11 0QX, United Kingdom",
    "Zigbee Smart Energy Certificate",
    "We hereby certify that the device model GX-857 (Image Type 10:1D), of device type Gas Proxy",
    "Function (GPF), running FW version v158, manufactured by Aclara, and hardware version 1.7,",
    "has been tested and found to conform to the Zigbee Smart Energy 1.4 profile.",
    "Certificate No. ZIG22230SE5350, issued on 04/02/2022.",
]


def test_a_label_in_running_text_gives_its_first_clause_and_the_rest_stays_prose(
    tmp_path: Path,
) -> None:
    certificate = _read(_pdf(tmp_path, PROSE))
    assert certificate.certificate_id == "ZIG22230SE5350"
    assert certificate.certificate_date == "2022-02-04"  # 'issued on' after the ID still read
    rule = dict(certificate.evidence)["certificate_id"].rule
    assert rule.endswith("its first clause")


def test_one_word_after_a_verb_of_making_is_the_manufacturer(tmp_path: Path) -> None:
    listing = _read(_pdf(tmp_path, PROSE)).listings[0]
    assert listing.manufacturer == "Aclara"
    assert dict(listing.evidence)["manufacturer"].rule.startswith("prose cue 'manufactured by'")


def test_one_word_after_from_is_still_no_manufacturer(tmp_path: Path) -> None:
    lines = [line.replace("manufactured by Aclara,", "shipped from Aclara,") for line in PROSE]
    assert _read(_pdf(tmp_path, lines)).listings[0].manufacturer == ""


def test_the_strongest_cue_wins_over_an_address(tmp_path: Path) -> None:
    listing = _read(_pdf(tmp_path, PROSE)).listings[0]
    assert listing.model == "GX-857 (Image Type 10:1D)"  # not the '4' of 'Unit 4'


def test_dotted_leaders_with_nothing_after_them_are_no_value(tmp_path: Path) -> None:
    certificate = _read(_pdf(tmp_path, [
        "Zigbee Smart Energy Certificate",
        "Certification ID Number: ........... ZIG22188SE5617",
        "Manufacturer: ............................. 7C:AE",
        "Model Identification: .................. 0x9584",
        "Firmware Version: ......................",
        "Hardware Version: ..................... 6.3",
    ]))
    listing = certificate.listings[0]
    assert (listing.manufacturer, listing.model, listing.hardware_version) == ("7C:AE", "0x9584", "6.3")
    assert listing.firmware_version == ""


@pytest.mark.parametrize(("printed", "code"), [
    ("Corrib Metering Ltd, Mfr. Code: 21 E3", "21:E3"),
    ("Brecon Energy Devices Ltd (Manufacturer Code 78 DC)", "78:DC"),
    ("Solent Smart Systems plc, Manufacturer ID: 8B6Dh", "8B:6D"),
    ("Thornbury Sensing Ltd, Code 0x7F04", "7F:04"),
])
def test_a_code_inside_the_company_name_is_read_as_the_code(
    tmp_path: Path, printed: str, code: str
) -> None:
    certificate = _read(_pdf(tmp_path, [
        "Zigbee Smart Energy Certificate",
        "Certificate No.: ZIG20SE2396",
        f"Company: {printed}",
        "Device Model: GX-368B (Image Type 0xAE43)",
    ]))
    manufacturer = certificate.listings[0].manufacturer
    assert code in manufacturer
    assert judge(manufacturer, Field.MANUFACTURER, code).status is Verdict.MATCH
    assert judge(manufacturer, Field.MANUFACTURER, "11:11").status is Verdict.MISMATCH


def test_a_number_after_id_without_a_mark_of_hex_stays_as_printed() -> None:
    assert rewrite_printed_hex("manufacturer", "Acme Metering Ltd, ID 2012") == (
        "Acme Metering Ltd, ID 2012", "")


def test_a_firmware_starting_with_a_is_not_an_article(tmp_path: Path) -> None:
    lines = [line.replace("running FW version v158", "running application firmware A.8B Build String")
             for line in PROSE]
    assert _read(_pdf(tmp_path, lines)).listings[0].firmware_version == "A.8B Build String"


def _columns(tmp_path: Path, rows: list[tuple[str, str]], step: float = 14) -> Path:
    """Labels at x=50, values in a column at x=190 (a value alone on its row: a wrap)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    for n, (label, value) in enumerate(rows):
        if label:
            canvas.drawString(50, 780 - step * n, label)
        if value:
            canvas.drawString(190, 780 - step * n, value)
    path = _saved(canvas, buffer, tmp_path / "columns.pdf")
    return path


def test_a_bracket_wrapped_under_a_value_is_no_label(tmp_path: Path) -> None:
    certificate = _read(_columns(tmp_path, [
        ("Zigbee Certification", ""),
        ("Zigbee Certification ID", "ZIG18-3782"),
        ("Company", "Toshiba (10:86)"),
        ("Model Identification", "PPM-690B"),
        ("", "(Image Type"),
        ("", "C4:8A)"),
        ("Application Version", "7.0D Build String"),
        ("HW Version", "05_04"),
    ]))
    assert len(certificate.listings) == 1
    assert certificate.listings[0].model == "PPM-690B (Image Type C4:8A)"


def test_a_bracket_past_a_gap_on_the_value_line_belongs_to_the_value(tmp_path: Path) -> None:
    # found on a DEVELOPMENT scan (scan-turned, seed 7): OCR split `PPM-986  (Image Type 8D:93)`
    # into two cells at a wide gap, and the model lost its image type
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    for n, (label, value, far) in enumerate([
        ("Certificate Number", "ZIG22105SE9605", ""), ("Applicant", "Toshiba", ""),
        ("Model", "PPM-986", "(Image Type 8D:93)"), ("HW Version", "04_09", "Issued 2022"),
    ]):
        canvas.drawString(50, 780 - 14 * n, label)
        canvas.drawString(190, 780 - 14 * n, value)
        canvas.drawString(300, 780 - 14 * n, far)
    path = _saved(canvas, buffer, tmp_path / "gap.pdf")
    certificate = _read(path)
    listing = certificate.listings[0]
    assert listing.model == "PPM-986 (Image Type 8D:93)"
    assert listing.hardware_version == "04_09"  # text past a gap that is no bracket stays out


def test_a_label_with_no_value_does_not_take_the_next_line(tmp_path: Path) -> None:
    certificate = _read(_pdf(tmp_path, [
        "Certificate of Zigbee Compliance",
        "Zigbee Certification ID ZIG19146SE7625",
        "Applicant Aclara Meters UK Ltd (11:8F)",
        "Model Identification 06:37",
        "Firmware Version",
        "HW Version 7.3",
    ]))
    assert certificate.listings[0].firmware_version == ""
    assert certificate.listings[0].hardware_version == "7.3"


def test_a_label_the_lexicon_does_not_know_stops_a_wrap(tmp_path: Path) -> None:
    path = _columns(tmp_path, [
        ("ZigBee Certified Product", ""), ("Cert. ID:", "ZIG17SE1786"),
        ("Manufacturer:", "Aclara Meters UK Ltd (11:8F)"), ("Hardware Version:", "9.1"),
        ("Test Report No.:", "TR-21850"),
    ], step=11)  # rows as close as wrapped lines
    assert _read(path).listings[0].hardware_version == "9.1"


def _grid(tmp_path: Path, rows: list[list[str]], widths: list[float]) -> Path:
    """A ruled table, every line of a cell 14 pt below the last: rows no further apart than
    a cell's own wrapped lines, as some certificate generators draw them."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(50, 800, "Certificate of Zigbee Certification")
    xs = [50.0]
    for width in widths:
        xs.append(xs[-1] + width)
    y = 780.0
    for row in rows:
        height = 14 * max(len(cell.split("\n")) for cell in row)
        canvas.line(xs[0], y, xs[-1], y)
        for x, cell in zip(xs, row, strict=False):
            for n, part in enumerate(cell.split("\n")):
                canvas.drawString(x + 4, y - 11 - 14 * n, part)
        y -= height
    canvas.line(xs[0], y, xs[-1], y)
    path = _saved(canvas, buffer, tmp_path / "grid.pdf")
    return path


def test_a_table_cell_wrapped_across_lines_is_one_value(tmp_path: Path) -> None:
    certificate = _read(_grid(tmp_path, [
        ["Certificate No.", "Manufacturer", "Model", "HW version", "FW version"],
        ["WRL-0099", "Corrib\nMetering Ltd\n(21:E3)", "GX-901 (Image\nType 02:E3)", "1.0", "0x0F36\n092D"],
    ], [110, 90, 100, 90, 100]))
    assert certificate.certificate_id == "WRL-0099"
    assert len(certificate.listings) == 1  # one row, not three
    listing = certificate.listings[0]
    assert listing.manufacturer == "Corrib Metering Ltd (21:E3)"
    assert listing.model == "GX-901 (Image Type 02:E3)"
    assert listing.firmware_version == "0x0F36092D"  # the hex number cut by the wrap, whole
    assert dict(listing.evidence)["model"].rule == "table column 'Model' (lexicon model)"


def test_a_value_cut_after_a_separator_is_joined_without_a_space(tmp_path: Path) -> None:
    # hand-made grids: the wrap falls after a colon of hex octets or a dot of a version
    certificate = _read(_grid(tmp_path, [*[["Certificate No.", ""], ["ZIG19SE0007", ""]],
        ["Model", "Hardware", "Firmware"],
        ["LG-1 (Image Type 01:\n01)", "2.6.\n4.9", "0C:03:\n0C:22"],
        ["LG-2 (Image Type\n01:02)", "2.7", "0x0A0B\n0C0D"],
    ], [120, 70, 80]))
    assert [(li.model, li.hardware_version, li.firmware_version)
            for li in certificate.listings] == [
        ("LG-1 (Image Type 01:01)", "2.6.4.9", "0C:03:0C:22"),
        ("LG-2 (Image Type 01:02)", "2.7", "0x0A0B0C0D"),
    ]


def test_a_table_with_a_certificate_id_on_each_row_is_one_certificate_a_row(
    tmp_path: Path,
) -> None:
    # hand-made: a register of certificates, the ID wrapped in its narrow cell
    certificate = _read(_grid(tmp_path, [
        ["Certificate\nNo.", "Manufacturer", "Model", "Hardware", "Firmware"],
        ["ZIG22SE\n0301", "Pennine Telemetry\nLtd (64:0B)", "PT-10 (Image\nType 0A:01)", "3.2",
         "2.6.4.9"],
        ["ZIG22SE\n0302", "Pennine Telemetry\nLtd (64:0B)", "PT-11 (Image\nType 0A:02)", "3.3",
         "2.6.5.0"],
    ], [50, 100, 90, 60, 60]))
    assert [(part.certificate_id, [(li.model, li.firmware_version) for li in part.listings])
            for part in certificate.parts] == [
        ("ZIG22SE0301", [("PT-10 (Image Type 0A:01)", "2.6.4.9")]),
        ("ZIG22SE0302", [("PT-11 (Image Type 0A:02)", "2.6.5.0")]),
    ]
    assert all(part.listings[0].manufacturer == "Pennine Telemetry Ltd (64:0B)"
               for part in certificate.parts)


def test_an_unruled_table_whose_first_header_cell_is_a_label_only_with_its_wrap(
    tmp_path: Path,
) -> None:
    # hand-made: `Cert.` over `No.` heads the first column of a table drawn without lines
    rows = [["Cert.\nNo.", "Manufacturer", "Model", "Hardware", "Firmware"],
            ["ZIG22SE0301", "Pennine Telemetry Ltd (64:0B)", "PT-10 (Image Type 0A:01)", "3.2",
             "2.6.4.9"],
            ["ZIG22SE0302", "Pennine Telemetry Ltd (64:0B)", "PT-11 (Image Type 0A:02)", "3.3",
             "2.6.5.0"]]
    path = _unruled(tmp_path, ["Zigbee Smart Energy Certificates"], rows,
                    [50, 120, 270, 400, 460], size=9)
    certificate = _read(path)
    assert [(part.certificate_id, part.listings[0].model) for part in certificate.parts] == [
        ("ZIG22SE0301", "PT-10 (Image Type 0A:01)"), ("ZIG22SE0302", "PT-11 (Image Type 0A:02)")]


def test_a_second_row_with_its_own_first_cell_is_a_second_listing(tmp_path: Path) -> None:
    certificate = _read(_grid(tmp_path, [
        ["Certificate No.", ""],
        ["ZIG21SE0042", ""],
        ["Model", "Manufacturer", "Hardware", "Firmware"],
        ["BX-100", "Brecon Energy Devices Ltd (78:DC)", "2.1", "1.4.7"],
        ["BX-200", "Brecon Energy Devices Ltd (78:DC)", "2.1", "1.4.9"],
    ], [80, 200, 70, 70]))
    assert [listing.model for listing in certificate.listings] == ["BX-100", "BX-200"]


def test_a_certificate_id_of_several_letter_groups_is_read_in_prose(tmp_path: Path) -> None:
    certificate = _read(_pdf(tmp_path, [
        "Westmoor Radio Labs",
        "Re: Zigbee Smart Energy certification, certificate WRL-ZSE-2021-0057.",
        "We are pleased to confirm that your gas meter GM-4 (Image Type 02:11), made by Pennine",
        "Telemetry Ltd (64:0B), passed, with hardware revision 3.2 and firmware 2.0.15.",
    ]))
    assert certificate.certificate_id == "WRL-ZSE-2021-0057"


ID_ROWS = [["Certificate No.", ""], ["ZIG21SE0042", ""]]


def test_a_wrapped_first_cell_and_header_are_one_row_each(tmp_path: Path) -> None:
    certificate = _read(_grid(tmp_path, [*ID_ROWS,
        ["Manufacturer", "Model", "Hardware\nVersion", "Firmware\nVersion"],
        ["Corrib\nMetering Ltd\n(21:E3)", "GX-901\n(Image Type\n02:E3)", "1.0", "0x0F36\n092D"],
        ["Brecon Energy\nDevices Ltd", "BX-2", "2.0", "0x0A0B\n0C0D"],
    ], [110, 110, 90, 100]))
    assert [(li.manufacturer, li.model, li.hardware_version, li.firmware_version)
            for li in certificate.listings] == [
        ("Corrib Metering Ltd (21:E3)", "GX-901 (Image Type 02:E3)", "1.0", "0x0F36092D"),
        ("Brecon Energy Devices Ltd", "BX-2", "2.0", "0x0A0B0C0D"),
    ]


def test_two_labels_side_by_side_over_their_values_are_no_table(tmp_path: Path) -> None:
    certificate = _read(_columns(tmp_path, [
        ("ZigBee Certified Product", ""), ("CERT. ID", "TYPE OF DEVICE"),
        ("ZIG21553SE7289", "Pre-Payment Meter Interface Device (PPMID)"),
        ("VENDOR", "MODEL IDENTIFICATION"), ("EDMI (10:6C)", "E623 (D9:A7)"),
        ("HARDWARE REVISION", "FIRMWARE VERSION"), ("05_07", "C.9D Build String"),
    ], step=13))
    assert len(certificate.listings) == 1
    listing = certificate.listings[0]
    assert (listing.manufacturer, listing.model, listing.hardware_version, listing.firmware_version) == (
        "EDMI (10:6C)", "E623 (D9:A7)", "05_07", "C.9D Build String")


def test_a_letter_with_a_cue_inside_brackets_and_a_value_before_on(tmp_path: Path) -> None:
    certificate = _read(_pdf(tmp_path, [
        "Westmoor Radio Labs", "Dear Sir or Madam,",
        "Thank you for submitting your product for Zigbee certification.",
        "Certificate number: ZIG21SE5678",
        "The device tested was model GM-4 (image type 02:11) from Pennine Telemetry Ltd",
        "(manufacturer code 64:0B). It ran firmware 2.0.15 on hardware revision 3.2.",
    ]))
    listing = certificate.listings[0]
    assert listing.manufacturer == "Pennine Telemetry Ltd (manufacturer code 64:0B)"
    assert judge(listing.manufacturer, Field.MANUFACTURER, "64:0B").status is Verdict.MATCH
    assert (listing.firmware_version, listing.hardware_version) == ("2.0.15", "3.2")


# Letters in wordings the generator never writes (hand-made, issue 11): the prose reader must
# read them by value grammars and cues on either side, not by one phrase per layout.
LETTERS = [
    ("Acme Metering Ltd has demonstrated that its Electricity Smart Meter E470 (hardware 2.1, "
     "firmware 3.4.5) complies with the Zigbee Smart Energy 1.4 profile. Certificate "
     "ZIG21004SE0001, 12 March 2021.", ("Acme Metering Ltd", "E470", "2.1", "3.4.5")),
    ("Certificate NTS-2021-0042 is awarded to Brecon Energy Devices Ltd for the In-Home Display "
     "IHD-55, hardware build 04_02, software build 0x0C030C22, on 2021-05-04.",
     ("Brecon Energy Devices Ltd", "IHD-55", "04_02", "0x0C030C22")),
    ("Mourne Controls Ltd, the manufacturer, submitted the Communications Hub CH-12 running "
     "software release 2.66 on hardware 1.3 for testing. Reference certificate NTS-2019-0777 of "
     "3 June 2019.", ("Mourne Controls Ltd", "CH-12", "1.3", "2.66")),
    ("Fenland Metering Company's Smart Meter SM-900 passed all tests with firmware v4.12 and "
     "hardware V2. Zigbee certificate ZIG19330SE4411 was granted on 11/11/2019.",
     ("Fenland Metering Company", "SM-900", "V2", "v4.12")),
    ("Model GX-857 from Thornbury Sensing Ltd (hardware 1.7, firmware 0x0106) has been certified "
     "under ZIG22188SE5617 on 2022-01-19.", ("Thornbury Sensing Ltd", "GX-857", "1.7", "0x0106")),
    # the code before the name, then a verb with no colon after the label
    ("Certificate no. ZIG21SE9001. Manufacturer code 0x7CAE (Calder Valley Instruments Ltd) "
     "submitted model CV-88 (Image Type 77:01) for test. Hardware build 02_02 and firmware build "
     "0C:03:0C:22 were assessed and found compliant.",
     ("0x7CAE (Calder Valley Instruments Ltd)", "CV-88 (Image Type 77:01)", "02_02",
      "0C:03:0C:22")),
    # a certificate of conformity; words between the model's name and its image type
    ("Certificate of Conformity No. NTH-ZSE-0093 covers the following device from Lough Meters "
     "Ltd (3E:11): the LM-5 gas meter (Image Type 0C:05), at hardware version 5.0, with firmware "
     "5.12 (Stack 2.3).", ("Lough Meters Ltd (3E:11)", "LM-5 gas meter (Image Type 0C:05)", "5.0",
                           "5.12 (Stack 2.3)")),
]


@pytest.mark.parametrize("sentence,want", LETTERS, ids=[w[0] for _, w in LETTERS])
def test_letters_in_other_wordings_are_read_by_grammar_and_cues(
    tmp_path: Path, sentence: str, want: tuple[str, str, str, str]
) -> None:
    import textwrap
    certificate = _read(_pdf(tmp_path, ["Northgate Test Services", "Zigbee Smart Energy Certificate",
                                        *textwrap.wrap(sentence, 90)]))
    listing = certificate.listings[0]
    assert (listing.manufacturer, listing.model, listing.hardware_version,
            listing.firmware_version) == want


LETTER = [
    "Harwell Conformance Laboratory",
    "Unit 4, Harwell Campus, Didcot OX11 0QX, United Kingdom",
    "9 November 2022",
    "Brecon Energy Devices Ltd",
    "Dear Sir or Madam,",
    "Re: Zigbee certification of E474",
    "Testing of your Pre-Payment Meter Interface Device (PPMID) E474 is complete. The certificate,",
    "which will carry the number ZIG22-7713, will be issued once the final test report has been",
    "approved; this letter is not a certificate and must not be submitted as one.",
    "Yours faithfully,",
]


def test_a_letter_that_says_it_is_no_certificate_is_none(tmp_path: Path) -> None:
    """Found on a DEVELOPMENT cover letter (seed 5): its model and company made two device
    fields, so it passed for a certificate and its row came out REVIEW, not NO_CERTIFICATE."""
    certificate = _read(_pdf(tmp_path, LETTER))
    assert certificate.error is not None
    assert certificate.error.reason.name == "NOT_A_CERTIFICATE"
    assert "'this letter is not a certificate'" in certificate.error.message
    assert not certificate.listings and not certificate.certificate_id
    plain = [line.replace("; this letter is not a certificate and must not be submitted as one",
                          ".") for line in LETTER]
    other = _read(_pdf(tmp_path, plain)).error  # without the words, another reason or none
    assert other is None or "says of itself" not in other.message


def test_what_is_left_of_a_leader_glued_to_a_value_is_no_part_of_it(tmp_path: Path) -> None:
    """A DEVELOPMENT scan (seed 5, JPEG at 150 dpi) read `Certificate Number  —_ZIG20876SE3104`
    once its leaders were painted out: the ID was not ID-shaped and the row NO_CERTIFICATE."""
    certificate = _read(_columns(tmp_path, [
        ("Certificate of Zigbee Compliance", ""),
        ("Certificate Number", "\u2014_ZIG20876SE3104"),
        ("Vendor", "Genus (10:ED)"),
        ("Model", "GX-749 (6C:90)"),
        ("Hardware Version", "4.2"),
        ("Firmware Version", "\u2014_C5:10:D4:D3"),
    ]))
    assert certificate.certificate_id == "ZIG20876SE3104"
    assert certificate.listings[0].firmware_version == "C5:10:D4:D3"


def test_a_translation_drawn_apart_from_its_label_is_skipped_to_the_value(
    tmp_path: Path,
) -> None:
    """`Certificate No.` and `/ Zertifikat Nr.` drawn as two strings, the value in a column to
    their right (a hand-made bilingual certificate): the slash hid the German label, which was
    taken for the value, and the document came out NOT_A_CERTIFICATE."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    rows = [("Certificate No.", "/ Zertifikat Nr.", "ZIG16SE0699"),
            ("Manufacturer", "/ Hersteller", "0x1222"),
            ("Model", "/ Modell", "CAD-8869"),
            ("Hardware version", "/ Hardwareversion", "0x0007"),
            ("Firmware version", "/ Firmwareversion", "0C:B3:32:A3")]
    canvas.drawString(200, 800, "Certificate / Zertifikat")
    for n, (label, translation, value) in enumerate(rows):
        y = 760 - 26 * n
        canvas.drawString(66, y, label)
        canvas.drawString(66 + canvas.stringWidth(label, "Helvetica", 9) + 3, y, translation)
        canvas.drawString(241, y, value)
    path = _saved(canvas, buffer, tmp_path / "bilingual.pdf")
    certificate = _read(path)
    assert certificate.certificate_id == "ZIG16SE0699"
    listing = certificate.listings[0]
    assert (listing.model, listing.hardware_version, listing.firmware_version) == (
        "CAD-8869", "0x0007", "0C:B3:32:A3")


def test_labels_of_other_test_houses_and_a_label_that_goes_on(tmp_path: Path) -> None:
    """Labels of a hand-made certificate the lexicon did not know (`Date Awarded`, `Product
    Designation`, `Application Image Version`, `Brand Owner`); and a known label with more
    words and a colon after it is a label it does not know, not a value ('Model Variant Code:
    CAD-8733' gave the model 'Variant Code: CAD-8733')."""
    certificate = _read(_columns(tmp_path, [
        ("Zigbee Smart Energy Compliance Record", ""),
        ("Zigbee Certificate Ref.:", "ZIG17SE0492"),
        ("Date Awarded:", "2016-12-11"),
        ("Brand Owner:", "Hildebrand Technology Ltd (12:22)"),
        ("Product Designation:", "GSME-8418"),
        ("Hardware Build:", "2.1"),
        ("Application Image Version:", "12:03:03:1A"),
        ("Device Category:", "Gas Proxy Function (GPF)"),
    ]))
    assert (certificate.certificate_id, certificate.certificate_date, certificate.device_type) == (
        "ZIG17SE0492", "2016-12-11", "Gas Proxy Function (GPF)")
    listing = certificate.listings[0]
    assert (listing.manufacturer, listing.model, listing.hardware_version,
            listing.firmware_version) == ("Hildebrand Technology Ltd (12:22)", "GSME-8418", "2.1",
                                          "12:03:03:1A")
    lines = ["Zigbee Certificate", "Certificate No: ZIG17SE0492", "Manufacturer: Aclara",
             "Model Variant Code: CAD-8733", "Hardware Version: 2.1", "Firmware Version: 1.2.3"]
    assert "Variant" not in _read(_pdf(tmp_path, lines)).listings[0].model


def test_a_row_number_column_does_not_hide_a_table_from_its_shared_manufacturer(
    tmp_path: Path,
) -> None:
    """A hand-made family certificate: `Manufacturer:` once above a table whose first header
    cell is `No.`. The header was no table header (a cell of no field), the rows were read by
    the ruled-table fallback alone, and no row had the manufacturer (issue 11, class 1)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    for n, (label, value) in enumerate([("Certificate ID:", "ZSE-24-15179"),
                                        ("Date of Issue:", "11 June 2016"),
                                        ("Manufacturer:", "Sensus (0x10A2)")]):
        canvas.drawString(60, 780 - 18 * n, label)
        canvas.drawString(160, 780 - 18 * n, value)
    xs = [66, 96, 246, 321, 432]
    rows = [["No.", "Model", "Hardware Version", "Firmware Version", "Device Type"],
            ["1", "KFM5-HAN (Image Type 5E:04)", "01_04", "02:09:07:62", "ESME"],
            ["2", "CH-643", "6.9", "0E:02:0C:5E", "IHD"],
            ["3", "CAD-7825", "03_01", "16.5 (Stack 18.39)", "IHD"]]
    for n, row in enumerate(rows):
        for x, cell in zip(xs, row, strict=True):
            canvas.drawString(x, 700 - 28 * n, cell)
    path = _saved(canvas, buffer, tmp_path / "family.pdf")
    certificate = _read(path)
    assert [(x.manufacturer, x.model, x.hardware_version) for x in certificate.listings] == [
        ("Sensus (0x10A2)", "KFM5-HAN (Image Type 5E:04)", "01_04"),
        ("Sensus (0x10A2)", "CH-643", "6.9"),
        ("Sensus (0x10A2)", "CAD-7825", "03_01")]
    assert dict(certificate.listings[1].evidence)["model"].rule.startswith("table column 'Model'")


def test_devices_side_by_side_in_columns_are_one_listing_a_column(tmp_path: Path) -> None:
    """A hand-made family certificate with its devices as columns (`Variant 1`, `Variant 2`)
    and the fields as rows, a cell wrapped onto a second line: only the first column was
    read."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(60, 800, "Certification Number: ZSE-21-52903")
    rows = [("", "Variant 1", "Variant 2"),
            ("Manufacturer", "Shenzhen Kaifa", "Secure Meters (0x1031)"),
            ("", "Technology Co., Ltd.", ""),
            ("Model", "E-6085 (Image Type", "ZBX-2638"),
            ("", "9E:8C)", ""),
            ("Hardware Version", "02_08", "3.0"),
            ("Firmware Version", "3.1 (Stack 15.94)", "0xB7AFDE5A")]
    for n, row in enumerate(rows):
        for x, cell in zip((67, 171, 295), row, strict=True):
            if cell:
                canvas.drawString(x, 760 - 12 * n, cell)
    canvas.save()
    path = tmp_path / "columns-of-devices.pdf"
    path.write_bytes(buffer.getvalue())
    certificate = _read(path)
    assert [(x.manufacturer, x.model, x.hardware_version, x.firmware_version)
            for x in certificate.listings] == [
        ("Shenzhen Kaifa Technology Co., Ltd.", "E-6085 (Image Type 9E:8C)", "02_08",
         "3.1 (Stack 15.94)"),
        ("Secure Meters (0x1031)", "ZBX-2638", "3.0", "0xB7AFDE5A")]
    assert dict(certificate.listings[1].evidence)["model"].rule.endswith("column of devices")


def test_a_company_followed_by_its_code_is_the_manufacturer_and_a_unit_number_no_model(
    tmp_path: Path,
) -> None:
    """A hand-made letter: the recipient's address gave the manufacturer by its legal form
    (`Elster Metering Ltd`) though the letter names `Elster (0x1057)`, and a house number
    (`Unit 4`) was taken for the model by the cue `unit`."""
    certificate = _read(_pdf(tmp_path, [
        "Calder Smart Energy Testing LLP",
        "Unit 4, The Old Mill, Hebden Bridge HX7 8AD",
        "Elster Metering Ltd",
        "Tollgate Business Park, Stafford ST16 3HS",
        "Dear Dr Moss,",
        "We are writing to confirm that the gas meter has been certified. The certificate number is",
        "ZIG19SE0577 and it was issued on 11 December 2019.",
        "The meter was tested with hardware version 2.3 and firmware version 1.0.2.18.",
        "The manufacturer of record is Elster (0x1057).",
    ]))
    listing = certificate.listings[0]
    assert listing.manufacturer == "Elster (0x1057)"
    assert dict(listing.evidence)["manufacturer"].rule == (
        "prose company grammar (its code in brackets), no cue")
    assert listing.model == ""  # MISSING, not the '4' of 'Unit 4'


@pytest.mark.parametrize(("sentence", "cid"), [
    ("The certificate reference for this listing is ZSE-18-79243, dated 3 September 2018.",
     "ZSE-18-79243"),
    ("The certificate, ZSE-17-30219, is dated 25 September 2017.", "ZSE-17-30219"),
])
def test_a_certificate_id_a_few_words_after_its_cue_is_read_by_its_look(
    tmp_path: Path, sentence: str, cid: str
) -> None:
    """Hand-made letters whose ID stood a few words after its cue: no ID was read, and the
    letter with all its device fields came out NOT_A_CERTIFICATE."""
    certificate = _read(_pdf(tmp_path, [
        "Elmstead Radio Compliance Ltd", "Dear Sir or Madam,",
        "We confirm that the Liberty 100 Series 2 submitted by Secure Meters (0x1031), with",
        "board revision 03_03 and application firmware 1D:BD:2F:B8, passed Zigbee testing.",
        sentence,
    ]))
    assert certificate.error is None and certificate.certificate_id == cid
    assert dict(certificate.evidence)["certificate_id"].rule.endswith("certificate ID look, in its clause")
    listing = certificate.listings[0]
    assert (listing.manufacturer, listing.hardware_version, listing.firmware_version) == (
        "Secure Meters (0x1031)", "03_03", "1D:BD:2F:B8")


def test_a_letter_in_french_is_read_by_french_cues(tmp_path: Path) -> None:
    listing = _read(_pdf(tmp_path, [
        "Laboratoire Atlantique d'Essais Radio", "Certificat Zigbee No ZIG21SE0377",
        "Nous certifions que le produit, fabriqué par Schneider Electric (0x105E), en version",
        "matérielle 1.2 et version du micrologiciel 3.1.9, est conforme au profil Smart Energy.",
    ])).listings[0]
    assert (listing.manufacturer, listing.hardware_version, listing.firmware_version) == (
        "Schneider Electric (0x105E)", "1.2", "3.1.9")


@pytest.mark.parametrize(("sentence", "model"), [
    ("We certify the OMNIPOWER-3P three-phase meter from Kamstrup (0x102D).", "OMNIPOWER-3P"),
    ("We certify the U6-Z diaphragm gas meter from Kamstrup (0x102D).", "U6-Z"),
    ("We certify the LH/ZB/19-007 test unit of Kamstrup (0x102D).", ""),  # a reference
])
def test_a_model_before_words_of_kind_and_its_noun(tmp_path: Path, sentence: str,
                                                    model: str) -> None:
    """Hand-made letters: a model, a word or two of what kind it is, then the device noun
    (`the U6-Z diaphragm gas meter`) gave no model; a reference before `test unit` is none."""
    certificate = _read(_pdf(tmp_path, [
        "Calder Smart Energy Testing LLP", "Certificate number ZIG19SE0577.", sentence,
        "It was tested at hardware version 2.3 with firmware version 1.0.2.18."]))
    assert certificate.listings[0].model == model


def test_a_digit_wrapped_under_a_value_a_line_below_is_read_with_it(tmp_path: Path) -> None:
    """Found on a DEVELOPMENT certificate (wrapped-cells, seed 17): `5` under `Version 3
    Revision` stood 7.5 pt under a 7.1 pt line (a digit's box has no ascender): one line
    height lost it, and the hardware version was UNVERIFIABLE."""
    certificate = _read(_columns(tmp_path, [
        ("Certificate Number", "ZIG18467SE5461"),
        ("Manufacturer", "Pennine Telemetry Ltd (64:0B)"),
        ("Model", "E275 (Image Type DB:EA)"),
        ("HW Version", "Version 3 Revision"),
        ("", "5"),
        ("", ""),
        ("FW Version", "7.A9 Build String"),
    ]))
    (listing,) = certificate.listings
    assert listing.hardware_version == "Version 3 Revision 5"
    assert listing.firmware_version == "7.A9 Build String"


def test_a_lower_case_version_starts_a_table_row_of_its_own(tmp_path: Path) -> None:
    """Found on a DEVELOPMENT certificate (shared-header-table, seed 17): `v117` opened with a
    lower-case letter, was taken for the rest of the row above, and three devices became one
    listing whose hardware was `Version 7 Revision 6 1.5 04_07` (a FAIL)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(50, 800, "Certificate No. ZIG21704SE4661")
    canvas.drawString(50, 786, "Manufacturer: Kaifa (11:25)")
    for n, row in enumerate([("Device Model", "Hardware Revision", "Firmware Version"),
                             ("FE:5F", "Version 7 Revision 6", "3.16 (Stack 3.32)"),
                             ("0x2BF7", "1.5", "v117"),
                             ("GX-433P (Image Type 8E:9F)", "04_07", "v213")]):
        for x, text in zip((55, 256, 414), row, strict=True):
            canvas.drawString(x, 750 - 23 * n, text)
    path = _saved(canvas, buffer, tmp_path / "table.pdf")
    listings = _read(path).listings
    assert [(x.model, x.hardware_version, x.firmware_version) for x in listings] == [
        ("FE:5F", "Version 7 Revision 6", "3.16 (Stack 3.32)"), ("0x2BF7", "1.5", "v117"),
        ("GX-433P (Image Type 8E:9F)", "04_07", "v213")]
    assert {x.manufacturer for x in listings} == {"Kaifa (11:25)"}


def _saved(canvas: Canvas, buffer: io.BytesIO, path: Path) -> Path:
    canvas.save()
    path.write_bytes(buffer.getvalue())
    return path


def _drawn(tmp_path: Path, name: str, items: tuple[tuple[float, float, str], ...],
           font: str = "Helvetica", size: int = 9) -> Path:
    """A page with each text drawn where its (x, y) puts it, in one font."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont(font, size)
    for x, y, text in items:
        canvas.drawString(x, y, text)
    return _saved(canvas, buffer, tmp_path / name)


def _unruled(tmp_path: Path, head: list[str], rows: list[list[str]], xs: list[float],
             size: int = 8) -> Path:
    """An unruled table under a certificate's heading, 11 pt between a cell's lines, 6 pt more
    between rows; `\\n` wraps a cell."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica", size)
    for n, line in enumerate(head):
        canvas.drawString(50, 800 - 12 * n, line)
    y = 780.0 - 12 * len(head)
    for row in rows:
        for x, cell in zip(xs, row, strict=True):
            for n, part in enumerate(cell.split("\n")):
                canvas.drawString(x, y - 11 * n, part)
        y -= 11 * max(len(c.split("\n")) for c in row) + 6
    path = _saved(canvas, buffer, tmp_path / "unruled.pdf")
    return path


def test_a_table_header_wrapped_over_two_lines_is_read_whole(tmp_path: Path) -> None:
    """Hand-made, in the shape of blind probes (a test house's landscape schedule): `Model
    Name /` over `Number`, `Device` over `Type`, `Image` over `Type`, columns no field owns
    (`ZigBee Stack`, `Result`, `Item`), a hardware cell that opens with its column's word
    (`Hardware Build 4.10`) and one wrapped after a comma. Before: the table was not seen,
    the model came out `Number` or the ID box's words, one listing of three."""
    path = _unruled(tmp_path, ["Calloway Wireless Test Centre",
                               "Certificate No.: ZSE-22-72271",
                               "Manufacturer: Fenwick & Royle Electronics Ltd (0xE887)"], [
        ["Item", "Model Name /\nNumber", "Device\nType", "ZigBee Stack", "Hardware\nVersion",
         "Firmware /\nSoftware Version", "Image\nType", "Result"],
        ["1", "HI-E770A Consumer\nAccess Bridge", "CAD", "EmberZNet 6.7.9",
         "Hardware Build 4.10\n(04_10)", "App 10.00, Stack 5.3.7", "0xC40C", "PASS"],
        ["2", "Sentinel PPMID 2", "PPMID", "Silabs ZNet 7.1", "HW 8 (0x0008)", "AF:0B:E6:54",
         "0xFB01", "PASS"],
        ["3", "Lantern IHD", "IHD", "Silabs ZNet 7.1", "Main board 4.6,\nRadio board 1.8",
         "0x662CA8BF", "0x8757", "PASS"],
    ], [44, 72, 170, 220, 290, 370, 470, 530])
    certificate = _read(path)
    assert certificate.certificate_id == "ZSE-22-72271"
    assert [(li.model, li.hardware_version, li.firmware_version)
            for li in certificate.listings] == [
        ("HI-E770A Consumer Access Bridge (Image Type 0xC40C)", "Hardware Build 4.10 (04_10)",
         "App 10.00, Stack 5.3.7"),
        ("Sentinel PPMID 2 (Image Type 0xFB01)", "HW 8 (0x0008)", "AF:0B:E6:54"),
        ("Lantern IHD (Image Type 0x8757)", "Main board 4.6, Radio board 1.8", "0x662CA8BF"),
    ]
    assert {li.manufacturer for li in certificate.listings} == {
        "Fenwick & Royle Electronics Ltd (0xE887)"}
    rule = dict(certificate.listings[0].evidence)["model"].rule
    assert rule.startswith("table column 'Model Name / Number' (lexicon model), with column")


def test_a_bare_type_column_beside_a_model_column_is_the_device_type(tmp_path: Path) -> None:
    """Hand-made (blind probe shape): `Type` is a model label alone, but beside `Model Name`
    its cells (ESME, CAD) were glued into the model; a line close under a row that fills
    fewer columns than every row's first line is the rest of that row."""
    path = _unruled(tmp_path, ["Certificate: ZIG18132SE3653"], [
        ["Manufacturer", "Model Name /\nNumber", "Type", "Hardware\nVersion",
         "Firmware /\nSoftware Version"],
        ["Quayside Utility Hardware\nLtd", "Osprey E470 (Model ID\n0xE607)", "ESME", "Rev 8",
         "0xE5CB7D0D"],
        ["Quayside Utility Hardware\nLtd", "VM-G944X Colour Display\nUnit (Image Type BE:41)",
         "IHD", "PCB Rev D,\nAssembly 4.18", "App 4.04, Stack 6.4.4"],
    ], [53, 163, 278, 328, 413])
    listings = _read(path).listings
    assert [(li.manufacturer, li.model, li.hardware_version) for li in listings] == [
        ("Quayside Utility Hardware Ltd", "Osprey E470 (Model ID 0xE607)", "Rev 8"),
        ("Quayside Utility Hardware Ltd", "VM-G944X Colour Display Unit (Image Type BE:41)",
         "PCB Rev D, Assembly 4.18"),
    ]


def test_a_label_with_an_alternative_last_word_after_a_slash_is_one_label() -> None:
    from pipeline.reader.lexicon import default_lexicon

    lexicon = default_lexicon()
    assert lexicon.is_only_labels("Model Name / Number") == "model"
    assert lexicon.is_only_labels("Hardware Version / Revision") == "hardware_version"
    assert lexicon.is_only_labels("Model Name / GX-1") is None  # a value, not a label


def test_a_label_wrapped_over_its_box_and_an_id_wrapped_after_a_hyphen(tmp_path: Path) -> None:
    """Hand-made (blind probe shape): a narrow ID box at the top right, `Certificate` over
    `No.` over `ZSE-22-` over `72271`, beside a letterhead whose address line reaches under
    the label from the left. Before: the ID was lost and the document was no certificate; a
    model wrapped after a comma onto `Image Type 48C5` (a model label) lost its image type."""
    path = _drawn(tmp_path, "sidebar.pdf", (
            (41, 800, "Meridian Interoperability Laboratories Ltd"), (519, 800, "Certificate"),
            (41, 789, "Unit 7, Harbourside Technology Park, Avonmouth, Bristol BS11 9QD, United "
                      "Kingdom, Tel +44 117 496 0321"), (519, 790, "No."),
            (519, 775, "ZSE-17-"), (519, 765, "71991"),
            (51, 720, "Manufacturer"), (170, 720, "Quayside Utility Hardware Ltd (0x434F)"),
            (51, 700, "Model"), (170, 700, "QUH-407-2 Consumer Access Bridge,"),
            (170, 689, "Image Type 48C5"),
            (51, 669, "Hardware Version"), (170, 669, "HW 9 (0x0009)"),
            (51, 649, "Firmware Version"), (170, 649, "2F:EA:EB:A8")), size=8)
    certificate = _read(path)
    assert certificate.certificate_id == "ZSE-17-71991"
    listing = certificate.listings[0]
    assert listing.model == "QUH-407-2 Consumer Access Bridge, Image Type 48C5"
    assert (listing.hardware_version, listing.firmware_version) == ("HW 9 (0x0009)",
                                                                     "2F:EA:EB:A8")


def test_a_manufacturer_above_numbered_device_blocks_belongs_to_every_block(
    tmp_path: Path,
) -> None:
    """Hand-made (blind probe shape): dotted leaders, `Manufacturer` once, then `Device n of 3`
    blocks. Before: only the first listing had a manufacturer, and it took the next row's
    value of a label the lexicon does not know (`Test specification .....`); a value opening
    with its own field's label (`Hardware Build 6.9`) gave `6.9` and lost its wrap."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Courier", 9)
    y = 800.0
    lines: list[tuple[float, str, str]] = [
        (50, "Certificate reference ...", "ZSE-19-23351"),
        (50, "Manufacturer ...........", "Trevanion Power"), (50, "", "Instruments Ltd"),
        (50, "Test specification .....", "SMETS2 HAN interface,"), (50, "", "GBCS v4.1")]
    for number, (model, hardware) in enumerate((("TPI-1 (Image Type 0x1B01)", "2.15"),
                                                ("TPI-2 (Image Type 0x1B02)", "Hardware Build 6.9"))):
        lines += [(50, f"Device {number + 1} of 2", ""), (61, "Model ................", model),
                  (61, "Hardware version .....", hardware)]
        if hardware.startswith("Hardware Build"):
            lines.append((61, "", "(06_09)"))
        lines.append((61, "Firmware version .....", f"3.26.{number}"))
    for x, label, value in lines:
        y -= 14 if label else 11  # a wrapped line (no label) 11 pt under the last
        canvas.drawString(x, y, label)
        canvas.drawString(191, y, value)
    path = _saved(canvas, buffer, tmp_path / "blocks.pdf")
    listings = _read(path).listings
    assert [(li.manufacturer, li.model, li.hardware_version) for li in listings] == [
        ("Trevanion Power Instruments Ltd", "TPI-1 (Image Type 0x1B01)", "2.15"),
        ("Trevanion Power Instruments Ltd", "TPI-2 (Image Type 0x1B02)",
         "Hardware Build 6.9 (06_09)"),
    ]


def test_boxes_of_capitalised_labels_over_values_and_device_headings(tmp_path: Path) -> None:
    """Hand-made (blind probe shape): `MANUFACTURER` and `TEST SPECIFICATION` side by side,
    each over its value; `Device 1` and `Device 2` headings over blocks of label-above cells.
    Before: the manufacturer was `TEST SPECIFICATION SMETS2 HAN interface` and the first
    model went on with `Device 2`."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    for font, size, x, y, text in (
            ("Helvetica", 7, 54, 800, "CERTIFICATE NUMBER"), ("Helvetica", 10, 54, 789, "ZSE-24-77647"),
            ("Helvetica", 7, 55, 769, "MANUFACTURER"), ("Helvetica", 7, 203, 769, "TEST SPECIFICATION"),
            ("Helvetica", 10, 54, 758, "Trevanion Power Instruments"),
            ("Helvetica", 10, 203, 758, "SMETS2 HAN interface, GBCS v4.1"),
            ("Helvetica", 10, 55, 746, "Ltd (0x36CE)"),
            *(item for n, top, model, hardware in ((1, 723, "Osprey E470 (Model ID 0xD68E)", "HW 9"),
                                                   (2, 660, "Link Hub C1 (Model ID 0x7AE4)", "HW 4"))
              for item in (("Helvetica-Bold", 10, 51, top, f"Device {n}"),
                           ("Helvetica", 7, 55, top - 19, "MODEL"),
                           ("Helvetica", 7, 233, top - 19, "HARDWARE VERSION"),
                           ("Helvetica", 7, 333, top - 19, "FIRMWARE VERSION"),
                           ("Helvetica", 10, 54, top - 30, model),
                           ("Helvetica", 10, 234, top - 30, hardware),
                           ("Helvetica", 10, 332, top - 30, f"v1.5.{n}")))):
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
    path = _saved(canvas, buffer, tmp_path / "boxes.pdf")
    listings = _read(path).listings
    assert [(li.manufacturer, li.model, li.hardware_version) for li in listings] == [
        ("Trevanion Power Instruments Ltd (0x36CE)", "Osprey E470 (Model ID 0xD68E)", "HW 9"),
        ("Trevanion Power Instruments Ltd (0x36CE)", "Link Hub C1 (Model ID 0x7AE4)", "HW 4"),
    ]


def test_a_wrapped_value_stops_at_text_in_its_labels_column(tmp_path: Path) -> None:
    """Hand-made (blind probe shape): `Tested against` (no colon, a label the lexicon does not
    know) under a wrapped firmware version, its value aligned with it; and, label above
    value, a value opening with its own field's label (`Hardware Build 3.19` over `(03_19)`).
    Before: the firmware took `ZigBee Smart Energy Profile 1.4`, the hardware gave `3.19`."""
    path = _drawn(tmp_path, "kv.pdf", (
        (51, 800, "Certificate ID"), (171, 800, "ZSE-18-65880"),
                       (51, 780, "Model"), (171, 780, "Sentinel PPMID 2, Image Type 7D5D"),
                       (51, 760, "Firmware Version"), (171, 760, "E6:99:53:54 (Application), 15.11"),
                       (171, 748, "(Stack)"),
                       (50, 737, "Tested against"), (170, 737, "ZigBee Smart Energy Profile 1.4"),
                       (51, 700, "HARDWARE VERSION"), (51, 688, "Hardware Build 3.19"),
                       (51, 677, "(03_19)")))
    listing = _read(path).listings[0]
    assert listing.firmware_version == "E6:99:53:54 (Application), 15.11 (Stack)"
    assert listing.hardware_version == "Hardware Build 3.19 (03_19)"


def test_a_bilingual_label_wrapped_under_itself_beside_its_wrapped_value(
        tmp_path: Path) -> None:
    """Hand-made (blind probe shape): `Manufacturer /` over `Fabricant`, its value wrapped
    beside them onto `(58:15)`. Before: the code was read as a second manufacturer's, and the
    name lost it. A code under a label of its own (`Manufacturer Code`) stays apart."""
    path = _drawn(tmp_path, "bilingual.pdf", (
        (54, 800, "Certificate No. / N° de certificat"), (186, 800, "ZIG23291SE0292"),
                       (55, 780, "Manufacturer /"), (186, 780, "Quayside Utility Hardware Ltd"),
                       (55, 769, "Fabricant"), (187, 769, "(58:15)"),
                       (55, 750, "Model / Modèle"), (186, 750, "TSL-E549X (Image Type 0x3FBE)"),
                       (55, 730, "Hardware Version /"), (186, 730, "HW 0 (0x0000)"),
                       (54, 719, "Version matérielle"),
                       (55, 700, "Firmware Version /"), (186, 700, "0.10.54 build 620")))
    (listing,) = _read(path).listings
    assert listing.manufacturer == "Quayside Utility Hardware Ltd (58:15)"
    assert (listing.model, listing.hardware_version) == ("TSL-E549X (Image Type 0x3FBE)",
                                                         "HW 0 (0x0000)")


def test_devices_as_columns_with_a_value_opening_with_its_rows_label(tmp_path: Path) -> None:
    """Hand-made (blind probe shape): attributes as rows, Device 1 and Device 2 as columns,
    `Hardware Build 8.1` in the hardware row. Before: the second device was lost."""
    path = _drawn(tmp_path, "columns.pdf", (
        (50, 800, "Certificate ID: ZSE-16-69270"),
                       (50, 786, "Manufacturer: Pennine Smart Technologies Ltd"),
                       (53, 760, "Attribute"), (144, 760, "Device 1"), (274, 760, "Device 2"),
                       (54, 743, "Device type"), (144, 743, "HCALCS"), (274, 743, "ESME"),
                       (54, 726, "Model"), (143, 726, "CMS-D418 (Image Type 0D:C6)"),
                       (273, 726, "Osprey E470 (Image Type 15:FB)"),
                       (54, 709, "Hardware version"), (144, 709, "Hardware Build 8.1"),
                       (273, 709, "8.2 (0x0802)"), (144, 698, "(08_01)"),
                       (54, 681, "Firmware version"), (143, 681, "App 5.21, Stack 7.7.1"),
                       (273, 681, "5.29")), size=8)
    listings = _read(path).listings
    assert [(li.model, li.hardware_version, li.firmware_version) for li in listings] == [
        ("CMS-D418 (Image Type 0D:C6)", "Hardware Build 8.1 (08_01)", "App 5.21, Stack 7.7.1"),
        ("Osprey E470 (Image Type 15:FB)", "8.2 (0x0802)", "5.29"),
    ]
    assert {li.manufacturer for li in listings} == {"Pennine Smart Technologies Ltd"}


def test_an_id_line_without_a_colon_and_a_table_of_other_words(tmp_path: Path) -> None:
    """Hand-made (second blind probe shape): `Zertifikatsnummer ZSE-20-88979 — Ausstellungsdatum
    6. August 2020` on one line (the value ends at the next field's label), a German table
    whose firmware column is `Firmware-Stand`, a model wrapped onto `Device` (a model label
    alone). Before: no certificate ID (an ERROR row), then no firmware, a truncated model."""
    path = _unruled(tmp_path, [
        "Zertifikatsnummer ZSE-20-88979 \u2014 Ausstellungsdatum 6. August 2020"], [
        ["Hersteller", "Modell", "Hardware-Stand", "Firmware-Stand"],
        ["Tessaly Controls B.V.\n(0x115F)", "TX-21 Comms Hub Model ID\n0x0A09", "3", "v105"],
        ["Tessaly Controls B.V.\n(0x115F)", "Marlin Consumer Access\nDevice", "4.12.4", "V1.04.14"],
    ], [69, 189, 329, 424])
    certificate = _read(path)
    assert certificate.certificate_id == "ZSE-20-88979"
    assert dict(certificate.evidence)["certificate_id"].rule.endswith(
        "up to the label 'Ausstellungsdatum'")
    assert [(li.model, li.firmware_version) for li in certificate.listings] == [
        ("TX-21 Comms Hub Model ID 0x0A09", "v105"), ("Marlin Consumer Access Device", "V1.04.14")]


def test_a_wide_schedule_with_its_own_column_words_and_an_id_in_its_sentence(
        tmp_path: Path) -> None:
    """Hand-made (second blind probe shape): `#`, `Product`, `Supplier`, `Software Image`,
    `HW Issue`, `Device Class`, `Test Report`; the ID only in a sentence, and `No. ZSE-...`
    forms are found by the ID grammar. Before: one listing, the manufacturer `Software Image`."""
    path = _unruled(tmp_path, ["This schedule forms part of certificate ZSE-21-31371 issued on "
                               "2021-02-26."], [
        ["#", "Product", "Supplier", "Software Image", "HW Issue", "Device Class", "Test Report"],
        ["1", "Halo IHD 4 Model ID 0x1F60", "Kestrel Grid Solutions", "0x7A574D25", "Rev A",
         "GSME", "TR-5157"],
        ["2", "NM-3000 (Image Type 0F:D4)", "Zephyr Devices Srl", "0x0000C6F7", "4.2", "CHF",
         "TR-8973"],
    ], [82, 102, 232, 342, 432, 482, 532])
    certificate = _read(path)
    assert certificate.certificate_id == "ZSE-21-31371"
    assert [(li.manufacturer, li.model, li.hardware_version, li.firmware_version)
            for li in certificate.listings] == [
        ("Kestrel Grid Solutions", "Halo IHD 4 Model ID 0x1F60", "Rev A", "0x7A574D25"),
        ("Zephyr Devices Srl", "NM-3000 (Image Type 0F:D4)", "4.2", "0x0000C6F7")]


def test_footnote_marks_numbered_labels_and_spaced_leaders(tmp_path: Path) -> None:
    """Hand-made (second blind probe shapes): a raised `*` between `Version 4 Revision` and its
    wrapped `3`, a raised `(b)` after a firmware version; labels numbered per device
    (`Manufacturer (1)`); spaced leaders (`. . . .`) between labels and values, which had
    been read as a second device's column. A board revision by letter (`Rev C`) is a hardware
    version."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    dots = " ".join("." * 20)
    rows = [("Certificate number", "ZIG22-6157")]
    for n, (model, hardware, firmware) in enumerate((("Halo IHD 4 (Image Type 05:8C)", "Rev C",
                                                      "10:C6:FD:07"),
                                                     ("Kite PPMID (Image Type 05:8D)",
                                                      "Version 4 Revision", "2.9.5")), start=1):
        rows += [(f"Name of manufacturer ({n})", "Corrigan Smart Home Ltd 10:09"),
                 (f"Model designation ({n})", model), (f"Hardware revision ({n})", hardware),
                 (f"Firmware revision ({n})", firmware)]
    y = 800.0
    for label, value in rows:
        canvas.setFont("Times-Roman", 10)
        canvas.drawString(70, y, label)
        canvas.drawString(180, y - 5, dots)
        canvas.drawString(290, y, value)
        if value == "Version 4 Revision":
            canvas.setFont("Times-Roman", 6)
            canvas.drawString(296, y - 7, "*")
            canvas.setFont("Times-Roman", 10)
            canvas.drawString(290, y - 11, "3")
            y -= 11
        if value == "10:C6:FD:07":
            canvas.setFont("Times-Roman", 6)
            canvas.drawString(290 + canvas.stringWidth(value, "Times-Roman", 10) + 1, y + 4, "(b)")
        y -= 22
    path = _saved(canvas, buffer, tmp_path / "leaders.pdf")
    listings = _read(path).listings
    assert [(li.manufacturer, li.model, li.hardware_version, li.firmware_version)
            for li in listings] == [
        ("Corrigan Smart Home Ltd 10:09", "Halo IHD 4 (Image Type 05:8C)", "Rev C", "10:C6:FD:07"),
        ("Corrigan Smart Home Ltd 10:09", "Kite PPMID (Image Type 05:8D)", "Version 4 Revision 3",
         "2.9.5")]


def test_a_model_missing_from_a_later_block_is_not_the_first_blocks(tmp_path: Path) -> None:
    """Only a manufacturer stated once above the blocks is every block's: a second device
    whose model was not printed (or not read) must not take the first device's model, which
    would pair it with the second device's versions."""
    listings = _read(_pdf(tmp_path, [
        "Zigbee Smart Energy Certificate", "Certificate No.: ZIG21SE0042",
        "Model: BX-100 (Image Type 01:02)", "Manufacturer: Brecon Energy Devices Ltd (78:DC)",
        "Hardware Version: 2.1", "Firmware Version: 1.4.7",
        "Manufacturer: Brecon Energy Devices Ltd (78:DC)",
        "Hardware Version: 2.2", "Firmware Version: 1.4.9",
    ])).listings
    assert [(li.model, li.hardware_version) for li in listings] == [
        ("BX-100 (Image Type 01:02)", "2.1"), ("", "2.2")]


def test_a_column_of_versions_named_by_their_prefixes(tmp_path: Path) -> None:
    """Hand-made (second blind probe shape): one `Versions` column, each cell's prefix naming
    its field (`HW Rev. 4` over `FW: 17:79:C1:69`); a prefix with a colon is a label and is cut
    off, one without stays part of the value as printed. Before: no table, the model was
    `Versions`."""
    listings = _read(_unruled(tmp_path, ["Zigbee Smart Energy Certificate",
                                         "Cert. ID ZIG20-7959 / issued January 7, 2020"], [
        ["Manufacturer", "Model", "Versions"],
        ["Kestrel Grid Solutions (0x1106)", "Pulse ESME 2", "HW Rev. 4\nFW: 17:79:C1:69"],
    ], [69, 219, 399])).listings
    assert [(li.model, li.hardware_version, li.firmware_version) for li in listings] == [
        ("Pulse ESME 2", "HW Rev. 4", "17:79:C1:69")]
    rule = dict(listings[0].evidence)["firmware_version"].rule
    assert rule == "table column 'Versions' (lexicon ), after its prefix 'FW' (lexicon firmware_version)"


def test_a_product_name_and_its_model_id_in_a_letter_are_one_model(tmp_path: Path) -> None:
    """Hand-made (second blind probe wording): `testing of its HT-45 Gas Meter Model ID 0x0E57
    (hardware version Rev C, ...)`. Before: the cue `Model ID` gave `0x0E57` alone."""
    listing = _read(_pdf(tmp_path, [
        "Albion Smart Energy Test House",
        "Re: ZigBee Smart Energy assurance certification",
        "This letter confirms that Caledon Smart Systems (0x1077) has successfully completed",
        "GB smart metering assurance testing of its HT-45 Gas Meter Model ID 0x0E57 (hardware",
        "version Rev C, firmware version 3.19.9). Certificate ZIG23131SE5761 was issued on",
        "11 August 2023.",
    ])).listings[0]
    assert listing.model == "HT-45 Gas Meter Model ID 0x0E57"
    assert dict(listing.evidence)["model"].rule.startswith("prose model grammar")


def test_a_company_at_the_end_of_a_sentence_stops_at_its_full_stop(tmp_path: Path) -> None:
    """Second blind probe wording: `... supplied by Veridian Energy Devices GmbH. The device
    was tested ...` gave the manufacturer `Veridian Energy Devices GmbH. The`."""
    listing = _read(_pdf(tmp_path, [
        "Albion Smart Energy Test House",
        "Following the completion of interoperability testing at our laboratory, certificate",
        "ZIG24247SE1043 dated 22 June 2024 has been granted for the device VX-10 supplied by",
        "Veridian Energy Devices GmbH. The device was tested with hardware revision 5.1 and",
        "with firmware V1.04.27 loaded.",
    ])).listings[0]
    assert listing.manufacturer == "Veridian Energy Devices GmbH"


def test_a_bare_certificate_noun_before_an_id_shaped_word_is_no_label() -> None:
    from pipeline.reader.layout import _accepted_label
    from pipeline.reader.lexicon import default_lexicon

    lexicon = default_lexicon()
    assert _accepted_label("Zertifikatsnummer ZSE-20-88979 \u2014 Ausstellungsdatum 6. August 2020",
                           lexicon) is not None
    assert _accepted_label("Certificate ISO9001 accredited laboratory", lexicon) is None


# --- letters naming several devices (a prose probe written by a helper session) ---------------

LETTER_HEAD = ["Brackenridge Test Laboratories Ltd Unit 4, Harrow Business Park",
               "Milton Keynes MK12 5QP", "United Kingdom"]


def _devices(certificate: Certificate) -> list[tuple[str, str, str, str]]:
    return [(item.manufacturer, item.model, item.hardware_version, item.firmware_version)
            for item in certificate.listings]


def test_a_letter_with_a_paragraph_per_device_gives_a_listing_per_device(tmp_path: Path) -> None:
    """Each device in its own sentence, its model named without a cue (`The HelioHub CH3 was
    certified ...`), the manufacturer labelled once above: one listing each, the manufacturer
    shared. Before, the letter gave one listing with the first device's values and the last
    one's model (`K2`, from `Keystone K2 Meter`)."""
    path = _pdf(tmp_path, [*LETTER_HEAD, "Grant of ZigBee Smart Energy Certificate",
                           "Applicant: Umberleigh Systeme GmbH (11:90)",
                           "Agent: Fenbridge Compliance Consulting Ltd",
                           "Certificate number ZSE-17-99516 is hereby granted to the applicant, who "
                           "is the manufacturer of the products described below.",
                           "The HelioHub CH3 was certified at hardware 1.3.7 with firmware version "
                           "12.4.20 and passed all tests.",
                           "The Keystone K2 Meter was likewise certified, at hardware V1.9 with "
                           "firmware image 12.7.23 and passed.",
                           "The Orion PPMID was certified at hardware Rev 3 with firmware release "
                           "R13.604 and passed."])
    certificate = _read(path)
    assert certificate.certificate_id == "ZSE-17-99516"
    maker = "Umberleigh Systeme GmbH (11:90)"
    assert _devices(certificate) == [(maker, "HelioHub CH3", "1.3.7", "12.4.20"),
                                     (maker, "Keystone K2 Meter", "V1.9", "12.7.23"),
                                     (maker, "Orion PPMID", "Rev 3", "R13.604")]


def test_a_sentence_naming_several_devices_gives_each_its_own_versions(tmp_path: Path) -> None:
    """One sentence, three devices: a value goes to the model before it. The manufacturer,
    named once for all (`all manufactured by`), is every device's; a leading article is no
    part of a model."""
    path = _pdf(tmp_path, [*LETTER_HEAD, "Letter of Conformance",
                           "Certification testing of the Tern GSME 6 Model ID 0x2F0B, the AMX 310-E "
                           "and the E470 Model ID 0x1838, all manufactured by Umberleigh Systeme "
                           "GmbH, has been completed successfully. The Tern GSME 6 Model ID 0x2F0B "
                           "was tested with hardware Rev 8 and firmware 0x3DDB8C14, the AMX 310-E "
                           "with hardware V2.9 and firmware version 7.3 (Stack 7.39), and the E470 "
                           "Model ID 0x1838 with hardware Rev D and firmware image 0x3F86E7B4.",
                           "This letter is issued under ZigBee certificate ZIG21111SE5106."])
    maker = "Umberleigh Systeme GmbH"
    assert _devices(_read(path)) == [
        (maker, "Tern GSME 6 Model ID 0x2F0B", "Rev 8", "0x3DDB8C14"),
        (maker, "AMX 310-E", "V2.9", "7.3 (Stack 7.39)"),
        (maker, "E470 Model ID 0x1838", "Rev D", "0x3F86E7B4")]


def test_bullets_after_a_lead_in_share_its_manufacturer(tmp_path: Path) -> None:
    """List items end at their semicolons; the manufacturer of the lead-in sentence (`the
    devices from X listed below`) is each item's; an image type written 0x stays with its
    model, a build number with its firmware."""
    path = _pdf(tmp_path, [*LETTER_HEAD, "24 Mar 2021", "Dear Sir or Madam,",
                           "We write to confirm that the devices from Elstrom Messtechnik AG listed "
                           "below have been certified under ZIG21-9567 following testing:",
                           "- the GX-857 (Image Type 0x2A27), hardware revision 4.2, firmware "
                           "version B0:A7:66:36, which passed all 112 applicable test cases;",
                           "- the NV-210E (Image Type 1F:59), hardware version V3.9, firmware "
                           "image 4.2.8 build 9351, which passed all 46 applicable test cases;",
                           "Our invoice INV-90457 and your order PO-47955 refer."])
    maker = "Elstrom Messtechnik AG"
    assert _devices(_read(path)) == [
        (maker, "GX-857 (Image Type 0x2A27)", "4.2", "B0:A7:66:36"),
        (maker, "NV-210E (Image Type 1F:59)", "V3.9", "4.2.8 build 9351")]


def test_the_manufacturer_named_beats_the_applicant_and_the_letterhead_company(
        tmp_path: Path) -> None:
    """`The applicant, X, applied on behalf of the manufacturer, Y`: Y. And the test house's
    name from the letterhead, found again in the footer, is never the manufacturer."""
    path = _pdf(tmp_path, ["Veritest Interop Services Ltd", "CERTIFICATE OF ASSURANCE",
                           "1. Veritest Interop Services Ltd issues this certificate under "
                           "certificate number ZIG18-5750 in accordance with its scheme rules.",
                           "2. The applicant, Tessaly Product Approvals Ltd, applied on behalf of "
                           "the manufacturer, Elstrom Messtechnik AG, under order PO-43180.",
                           "3. The products certified are (a) the SG-90, hardware version 01_07, "
                           "firmware release 6.0.22; and (b) the Aurora ESME 3 (Image Type 18:F7), "
                           "hardware version 04_04, firmware 0x52616EFD.",
                           "Veritest Interop Services Ltd - Registered in England and Wales"])
    maker = "Elstrom Messtechnik AG"
    assert _devices(_read(path)) == [(maker, "SG-90", "01_07", "6.0.22"),
                                     (maker, "Aurora ESME 3 (Image Type 18:F7)", "04_04",
                                      "0x52616EFD")]


def test_one_device_named_twice_is_one_listing(tmp_path: Path) -> None:
    """A model named in the opening and again with its versions is one device, not two."""
    path = _pdf(tmp_path, [*LETTER_HEAD, "Attestation of ZigBee Smart Energy certification",
                           "We hereby attest that Juniper Grid Communications Inc. (0x1266) has "
                           "completed certification of its Beacon CH-5 at this laboratory. The "
                           "Beacon CH-5 was examined with hardware Rev B, firmware image 4.5.20.",
                           "The certificate number assigned to this evaluation is ZIG21-2631."])
    assert _devices(_read(path)) == [
        ("Juniper Grid Communications Inc. (0x1266)", "Beacon CH-5", "Rev B", "4.5.20")]


def test_a_table_header_wrapped_over_three_lines_is_read_whole(tmp_path: Path) -> None:
    """An annex table (a tunable probe written by a helper session): `Physical` over `Device`
    over `Type` in the last header cell, beside a `No.` column. `Device` alone is a model's
    label, so the table ended at its own header and no device was read (one listing, from the
    certificate's own fields)."""
    path = _unruled(tmp_path, ["Annex A - Certified Device Models",
                               "Certificate Number ZSE/20/04567"], [
        ["No.", "Manufacturer", "Model", "Hardware", "Firmware", "Physical\nDevice\nType"],
        ["1", "Elmstead Instruments\nGmbH (MC 11 69)", "Image Type 0x0C50", "Version 1.0",
         "2.8 (Stack 20.47)", "Comms\nHub"],
        ["2", "Ashgrove Metering Ltd\n(MC 11 74)", "Ibex SMETS2 ESME B3", "Version 1\nRevision 6",
         "DB:1D:C0:13", "PPMID"],
    ], [55, 81, 200, 330, 400, 496])
    certificate = _read(path)
    assert _devices(certificate) == [
        ("Elmstead Instruments GmbH (MC 11 69)", "Image Type 0x0C50", "Version 1.0",
         "2.8 (Stack 20.47)"),
        ("Ashgrove Metering Ltd (MC 11 74)", "Ibex SMETS2 ESME B3", "Version 1 Revision 6",
         "DB:1D:C0:13")]


def test_a_bundle_whose_next_certificate_starts_mid_page_is_split_there(tmp_path: Path) -> None:
    """Two certificates on one page, one under the other (a tunable probe written by a helper
    session): each its own certificate, with its own listing. Before, one certificate with both
    listings, the second ID lost."""
    path = _pdf(tmp_path, ["Meridian Radio Test House Ltd - certificates issued",
                           "ZigBee Smart Energy Certificate",
                           "Certificate No.: ZSE-17-63120",
                           "Manufacturer: Dovecote Systems Ltd (10:B8)", "Model: Talon CH-5",
                           "Hardware Version: V1 R4", "Firmware Version: 12:32:AD:C7",
                           "Authorised Signatory", "ZigBee Smart Energy Certificate",
                           "Certificate No.: CERT-ZB-2024-5561",
                           "Manufacturer: Dovecote Systems Ltd (10:B8)", "Model: Ibex SMETS2 ESME",
                           "Hardware Version: 4.5", "Firmware Version: v8.3"])
    certificate = _read(path)
    parts = certificate.parts or (certificate,)
    assert [(p.certificate_id, _devices(p)) for p in parts] == [
        ("ZSE-17-63120", [("Dovecote Systems Ltd (10:B8)", "Talon CH-5", "V1 R4", "12:32:AD:C7")]),
        ("CERT-ZB-2024-5561", [("Dovecote Systems Ltd (10:B8)", "Ibex SMETS2 ESME", "4.5",
                                "v8.3")])]


def test_a_table_of_centred_headers_and_vertically_centred_cells(tmp_path: Path) -> None:
    """Header words centred over left-aligned columns, the row numbers' `No.` beside them
    spanning two header rows, and a two-line manufacturer cell standing above and below its
    row's one-line cells (the same probe). Before: the cells went to the column left of theirs
    and both rows ran into one."""
    items = ((178, 700, "Identification"), (393, 700, "Versions"), (504, 697, "Device"),
             (58, 691, "No."), (508, 685, "Type"), (114, 682, "Manufacturer"), (255, 682, "Model"),
             (354, 682, "HW"), (435, 682, "FW"),
             (86, 664, "Brindlecombe Energy"), (57, 658, "1"), (212, 658, "Quarto Twin ESME"),
             (337, 658, "3.2"), (401, 658, "0x775B644C"), (496, 658, "PPMID"), (86, 652, "Devices"),
             (86, 634, "Brindlecombe Energy"), (211, 634, "Fathom Gas G6 (Image Type"),
             (56, 628, "2"), (336, 628, "03:04"), (401, 628, "R12.690"), (496, 628, "ESME"),
             (86, 623, "Devices"), (211, 623, "0x2886)"),
             (77, 760, "Certificate No. ZIG19139SE9836"))
    certificate = _read(_drawn(tmp_path, "centred.pdf", items, size=7))
    assert certificate.certificate_id == "ZIG19139SE9836"
    assert _devices(certificate) == [
        ("Brindlecombe Energy Devices", "Quarto Twin ESME", "3.2", "0x775B644C"),
        ("Brindlecombe Energy Devices", "Fathom Gas G6 (Image Type 0x2886)", "03:04", "R12.690")]


def test_a_bilingual_header_over_four_lines(tmp_path: Path) -> None:
    """`Wersja` / `sprzętu /` / `Hardware` / `version` over one column, `Lp. /` over `No.` (a
    cell that names no field) beside it: the header is read over its four lines, in Polish and
    English (new labels: `Producent`, `Wersja sprzętu`, `Typ urządzenia`; drawn without their
    accents, which the standard PDF fonts cannot show, and which labels are compared without)."""
    items = ((49, 700, "Lp. /"), (83, 701, "Producent /"), (201, 701, "Model / Model"),
             (319, 700, "Wersja"), (391, 700, "Wersja"), (495, 700, "Typ"),
             (49, 690, "No."), (83, 691, "Manufacturer"), (319, 690, "sprzetu /"),
             (391, 691, "oprogramowania /"), (495, 691, "urzadzenia"),
             (319, 681, "Hardware"), (391, 681, "Firmware version"), (495, 681, "/ Device"),
             (319, 671, "version"), (495, 671, "type"),
             (50, 655, "1"), (83, 655, "Brindlecombe Energy"), (201, 655, "Quarto Twin ESME"),
             (319, 655, "Rev C"), (391, 655, "Version 15 Revision 5"), (495, 655, "PPMID"),
             (83, 644, "Devices (0x12a3)"), (201, 644, "(Image Type 01:BE)"),
             (49, 760, "Numer certyfikatu / Certificate No. ZB22SE48983"))
    certificate = _read(_drawn(tmp_path, "pl.pdf", items, size=7))
    assert certificate.certificate_id == "ZB22SE48983"
    assert _devices(certificate) == [("Brindlecombe Energy Devices (0x12a3)",
                                      "Quarto Twin ESME (Image Type 01:BE)", "Rev C",
                                      "Version 15 Revision 5")]


def test_devices_as_cards_side_by_side_are_read_card_by_card(tmp_path: Path) -> None:
    """Two device cards to a row, each label over its value (the same probe): the values are
    read card by card. Before, reading line by line made three listings of mixed devices."""
    items = ((54, 700, "Device 1"), (314, 700, "Device 2"),
             (53, 680, "Manufacturer"), (313, 680, "Manufacturer"),
             (54, 670, "Kingsmere Controls Ltd (0x123D)"), (314, 670, "Kingsmere Controls Ltd (0x123D)"),
             (53, 654, "Model"), (313, 654, "Model"),
             (53, 644, "Stratus GSME G4 (Image Type 0x36FB)"), (313, 644, "Wisp CAD Lite"),
             (54, 628, "Hardware version"), (314, 628, "Hardware version"),
             (53, 618.4, "3_6"), (313, 618, "V1 R12"),
             (54, 602, "Firmware version"), (314, 602, "Firmware version"),
             (53, 592, "5f0e4537"), (313, 592, "Version 5 Revision 9"),
             (45, 760, "Certificate number: CERT-ZB-2019-2556"))
    certificate = _read(_drawn(tmp_path, "cards.pdf", items, size=8))
    maker = "Kingsmere Controls Ltd (0x123D)"
    assert _devices(certificate) == [
        (maker, "Stratus GSME G4 (Image Type 0x36FB)", "3_6", "5f0e4537"),
        (maker, "Wisp CAD Lite", "V1 R12", "Version 5 Revision 9")]


def test_a_remark_in_lower_case_does_not_join_its_row_to_the_one_above(tmp_path: Path) -> None:
    """A register's `Remarks` column, no field's (`variant of Pos. 1`): a cell opening with a
    lower-case word there is no sign of a wrapped line, so its row is a row of its own. Before,
    the two rows ran into one. New labels: `Maker`, `Hardware Platform`, `Approval No.`."""
    items = ((47, 760, "Approval No.: ZC-2312-2208"),
             (47, 740, "Register of Approved ZigBee Smart Energy Devices - Extract"),
             (49, 700, "Pos."), (81, 700, "Maker"), (240, 700, "Type Designation"),
             (406, 700, "Hardware"), (496, 700, "Firmware Release"), (626, 700, "Remarks"),
             (406, 690, "Platform"),
             (49, 670, "1"), (81, 670, "Cresswell Smart Utilities plc (0x104F)"),
             (241, 670, "Fathom Gas G6"), (406, 670, "0x040A"), (496, 670, "16.3 (Stack 6.0.1.2)"),
             (626, 670, "-"),
             (49, 652, "2"), (81, 652, "Cresswell Smart Utilities plc (0x104F)"),
             (241, 652, "Vela PPMID 3"), (406, 652, "Version 3.12"), (496, 652, "85:F8:4E:93"),
             (626, 652, "variant of Pos. 1"))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(842, 595), invariant=True)
    canvas.setFont("Helvetica", 7)
    for x, y, text in items:
        canvas.drawString(x, y - 200, text)
    certificate = _read(_saved(canvas, buffer, tmp_path / "register.pdf"))
    assert certificate.certificate_id == "ZC-2312-2208"
    maker = "Cresswell Smart Utilities plc (0x104F)"
    assert _devices(certificate) == [(maker, "Fathom Gas G6", "0x040A", "16.3 (Stack 6.0.1.2)"),
                                     (maker, "Vela PPMID 3", "Version 3.12", "85:F8:4E:93")]


def test_two_labelled_values_on_one_line_are_cut_at_the_second_label(tmp_path: Path) -> None:
    """`Hardware Version 1.12 Firmware Version 0x1BED28C2` in one run (a diploma's centred
    line, the same probe): the hardware is 1.12, not the whole line, and the firmware is read.
    A value that merely holds a label's word (`Acme Model Works Ltd`) is not cut."""
    path = _pdf(tmp_path, ["Certificate of ZigBee Smart Energy Certification",
                           "Certificate No.: CERT-ZB-2023-3765",
                           "Manufacturer: Acme Model Works Ltd", "Model: Merlin PM-12",
                           "Hardware Version 1.12 Firmware Version 0x1BED28C2"])
    assert _devices(_read(path)) == [("Acme Model Works Ltd", "Merlin PM-12", "1.12", "0x1BED28C2")]


def test_a_value_wrapped_back_under_its_label_closes_its_bracket(tmp_path: Path) -> None:
    """A narrow list whose long values wrap back to the margin (`Modelo:  Merlin PM-12 (Image
    Type` over `0x18C4)` at the label's left edge): the line that closes the bracket is the
    value's. Before, the model stopped at `(Image Type`."""
    items = ((201, 700, "Número do certificado:"), (310, 700, "ZB23SE71251"),
             (201, 680, "Fabricante:"), (256, 680, "Penhallow Wireless Ltd (0x1208)"),
             (240, 660, "Merlin PM-12 (Image Type"), (201, 659, "Modelo:"),
             (201, 648, "0x18C4)"),
             (201, 630, "Versão de hardware:"), (290, 630, "Rev F"),
             (201, 612, "Versão de firmware:"), (290, 612, "88 16 90 FB"),
             (201, 760, "Certificado ZigBee Smart Energy"))
    assert _devices(_read(_drawn(tmp_path, "pt.pdf", items, size=8))) == [
        ("Penhallow Wireless Ltd (0x1208)", "Merlin PM-12 (Image Type 0x18C4)", "Rev F",
         "88 16 90 FB")]


def test_german_and_french_letters_naming_their_devices(tmp_path: Path) -> None:
    """`das Gerät Sentinel IHD 4 ... Hardware-Version Rev B ... Firmware-Version 8.2.16` and
    `Firmwarestand v263`; `micrologiciel en version 0xDCF782E5`, `révision matérielle V3.5` (the
    prose probe). Before, the noun `Gerät` before the name hid it, and the cues were unknown."""
    german = _read(_pdf(tmp_path, [
        "Prüflabor Rheinstahl GmbH", "Betreff: ZigBee-Smart-Energy-Zertifizierung",
        "im Auftrag Ihres Mandanten bestätigen wir die erfolgreiche Prüfung der folgenden Geräte des",
        "Herstellers Aldervane Metering Ltd:",
        "Das Gerät Sentinel IHD 4, ein Haushaltsanzeige, wurde in der Hardware-Version Rev B mit der",
        "Firmware-Version 8.2.16 geprüft. Ferner wurde das Gerät Aurora ESME 3 in der Hardware-Revision",
        "02_07 mit dem Firmwarestand v263 geprüft.",
        "Beide Geräte sind unter der Zertifikatsnummer ZIG21-9883 erfasst."]))
    maker = "Aldervane Metering Ltd"
    assert _devices(german) == [(maker, "Sentinel IHD 4", "Rev B", "8.2.16"),
                                (maker, "Aurora ESME 3", "02_07", "v263")]
    (tmp_path / "fr").mkdir()
    french = _read(_pdf(tmp_path / "fr", [
        "Laboratoire Atlantique d'Essais Radio", "Certificat ZigBee No ZIG18-1452",
        "Le laboratoire certifie que le micrologiciel en version 0E:F5:8E:35 a été testé sur la",
        "révision matérielle V3.5 du Lyra 2 (Image Type 0x182B), fabriqué par Castellan Smart",
        "Devices GmbH."]))
    assert _devices(french) == [("Castellan Smart Devices GmbH", "Lyra 2 (Image Type 0x182B)",
                                 "V3.5", "0E:F5:8E:35")]


def test_a_row_whose_firmware_looks_like_the_rest_of_the_hex_above_is_its_own(
        tmp_path: Path) -> None:
    """A full row under one ending in `0x9DE88930`, its own firmware `536fe0b4` (the annex
    table of the same probe): hex cut by a wrap only in a line that is not a row of its own.
    Before, the rows ran into one and every row under was shifted by one."""
    path = _unruled(tmp_path, ["Annex A - Certified Device Models",
                               "Certificate Number ZSE/20/04567"], [
        ["No.", "Manufacturer", "Model", "Hardware", "Firmware"],
        ["25", "Ashgrove Metering Ltd", "Vela PPMID 3 X25", "0x0102", "0x9DE88930"],
        ["26", "Ashgrove Metering Ltd", "Lumen IHD Touch E26", "01_06", "536fe0b4"],
        ["27", "Ashgrove Metering Ltd", "Atlas ESME Poly E27", "Version 4 Revision 8",
         "Comms Build (3.4)"],
    ], [55, 81, 200, 330, 430])
    assert [(m, h, f) for _, m, h, f in _devices(_read(path))] == [
        ("Vela PPMID 3 X25", "0x0102", "0x9DE88930"), ("Lumen IHD Touch E26", "01_06", "536fe0b4"),
        ("Atlas ESME Poly E27", "Version 4 Revision 8", "Comms Build (3.4)")]


def test_an_approval_in_a_test_house_s_own_words(tmp_path: Path) -> None:
    """`Reference Number`, `Produced by`, `Product Designation`, `HW Release`, `FW Release`,
    `Category` with no colons (a tunable probe's layout): before, no label was known, so no ID,
    and the document was taken for no certificate at all."""
    path = _pdf(tmp_path, ["WEXCOMBE INTEROPERABILITY LABORATORY LTD", "Certificate",
                           "ZigBee Smart Energy - product approval",
                           "Reference Number ZC-2512-8702", "Date of Approval 22 January 2023",
                           "Produced by Harrowgate Meter Company [1091]",
                           "Product Designation Sable EM-220, Image Type 3534",
                           "HW Release Version 1.10", "FW Release 0x1C8E4055", "Category IHD"])
    certificate = _read(path)
    assert certificate.certificate_id == "ZC-2512-8702"
    assert _devices(certificate) == [("Harrowgate Meter Company [1091]",
                                      "Sable EM-220, Image Type 3534", "Version 1.10", "0x1C8E4055")]


def test_a_two_row_header_with_labels_centred_across_both_rows(tmp_path: Path) -> None:
    """`Producer` and `Remarks` centred across a two-row header, half a line above `Model`,
    `Hardware`, `Firmware` (the same probe): they head their columns. Before, the makers'
    names were read as models, and a remark (`new` / `firmware`) joined the firmware or ended
    the table at its lower-case `firmware`."""
    items = ((271, 700, "Identification"), (458, 700, "Versions"),
             (127, 691, "Producer"), (520, 691, "Remarks"),
             (255, 683, "Model"), (336, 683, "Device Type"), (405, 683, "Hardware"),
             (460, 683, "Firmware"),
             (91, 666, "Dovecote Systems Ltd"), (520, 666, "new"), (211, 660, "Heron E470"),
             (336, 660, "CAD"), (396, 660, "01:08"), (460, 660, "3.4.1"),
             (91, 654, "[10B8]"), (520, 654, "firmware"),
             (91, 635, "Dovecote Systems Ltd"), (211, 629, "Corvid IHD-7"), (336, 629, "CAD"),
             (396, 629, "Version 1.0"), (460, 629, "08-70-73-6C"), (91, 623, "[10B8]"),
             (60, 760, "ZigBee Smart Energy Certificate No. ZC-2103-9504"))
    certificate = _read(_drawn(tmp_path, "two-row.pdf", items, size=7))
    maker = "Dovecote Systems Ltd [10B8]"
    assert _devices(certificate) == [(maker, "Heron E470", "01:08", "3.4.1"),
                                     (maker, "Corvid IHD-7", "Version 1.0", "08-70-73-6C")]


def test_a_letter_set_in_two_columns_is_read_column_by_column(tmp_path: Path) -> None:
    """Prose in two columns (the prose probe): read line by line, the left column's sentence ran
    into the right column's (`... manufactured by Pellworth Home` + `Enquiries: ...`)."""
    left = ["Northfield Compliance Centre is accredited to carry out the",
            "tests required by the Smart Energy Profile 1.4. We confirm that",
            "the CH-2000 Comms Hub from Pellworth Home Energy Ltd was",
            "tested at hardware revision 2.2 with firmware version 14.3",
            "(Stack 14.32) and passed, under certificate ZIG24-9927.",
            "Testing followed test plan version 1.2b in every session."]
    right = ["Enquiries: +44 1245 496 031.", "Sarah O'Donnell", "Technical Manager",
             "Northfield House", "3 Quarry Road", "Chelmsford CM2 7RJ"]
    items = tuple((56, 700 - 13 * n, text) for n, text in enumerate(left)) + tuple(
        (330, 698 - 13 * n, text) for n, text in enumerate(right)) + (
        (56, 760, "ZigBee Smart Energy Certification Letter"),)
    certificate = _read(_drawn(tmp_path, "columns.pdf", items, size=8))
    assert certificate.certificate_id == "ZIG24-9927"
    assert _devices(certificate) == [("Pellworth Home Energy Ltd", "CH-2000 Comms Hub", "2.2",
                                      "14.3 (Stack 14.32)")]


def test_cards_in_rows_are_read_row_by_row(tmp_path: Path) -> None:
    """Two cards in the first row and one under them (the same probe): read row of cards by row,
    card by card, so the third device comes last. Before, column by column, it came second."""
    def card(x: float, y: float, number: int, maker: str, model: str, hw: str, fw: str
             ) -> tuple[tuple[float, float, str], ...]:
        return ((x, y, f"Device {number}"), (x, y - 20, "Manufacturer"), (x, y - 30, maker),
                (x, y - 46, "Model"), (x, y - 56, model), (x, y - 72, "Hardware version"),
                (x, y - 82, hw), (x, y - 98, "Firmware version"), (x, y - 108, fw))
    items = (*card(54, 700, 1, "Elmstead Instruments GmbH", "Orca GS-4", "HW 1.10", "0x4DCD35F8"),
             *card(314, 700, 2, "Elmstead Instruments GmbH", "Talon CH-5", "04_07", "7.29"),
             *card(54, 570, 3, "Ashgrove Metering Ltd", "Wisp CAD Lite", "Version 2, Revision 12",
                   "13.0.17 build 7183"),
             (45, 760, "Certificate number: ZSE-22-41905"))
    certificate = _read(_drawn(tmp_path, "cards3.pdf", items, size=8))
    assert [m for _, m, _, _ in _devices(certificate)] == ["Orca GS-4", "Talon CH-5",
                                                          "Wisp CAD Lite"]
    assert _devices(certificate)[2] == ("Ashgrove Metering Ltd", "Wisp CAD Lite",
                                        "Version 2, Revision 12", "13.0.17 build 7183")


def test_a_letter_in_two_languages_side_by_side_is_one_device(tmp_path: Path) -> None:
    """English beside French, the device stated in both (the prose probe): one device, the
    French article no part of the model; and a name with no digit right before its versions
    (`the Vantage In-Home Display, hardware version V2.9`) is the model."""
    items = ((56, 700, "The Tern GSME 6 (Image Type 14:A4), manufactured"),
             (56, 688, "by Saltmarsh Meter Company Ltd (0x1A3C), was tested"),
             (56, 676, "with hardware version 1.4 and firmware version 2.0.7."),
             (320, 700, "Le Tern GSME 6 (Image Type 14:A4), fabriqué par"),
             (320, 688, "Saltmarsh Meter Company Ltd (0x1A3C), a été testé en"),
             (320, 676, "version matérielle 1.4 et micrologiciel 2.0.7."),
             (56, 664, "Certificate ZSE-18-70956 applies."), (320, 664, "Le certificat ZSE-18-70956."),
             (56, 652, "Testing used the Smart Energy Profile 1.4 test plan."),
             (320, 652, "Les essais suivent le plan d'essai 1.4."),
             (56, 760, "Certificate of Conformity / Certificat de conformité"))
    assert _devices(_read(_drawn(tmp_path, "bilingual.pdf", items, size=8))) == [
        ("Saltmarsh Meter Company Ltd (0x1A3C)", "Tern GSME 6 (Image Type 14:A4)", "1.4", "2.0.7")]
    (tmp_path / "b").mkdir()
    path = _pdf(tmp_path / "b", ["Brackenridge Test Laboratories Ltd", "CERTIFICATE OF ASSURANCE",
                                 "1. We issue this certificate under certificate number ZIG20-3178.",
                                 "2. The product certified is the Vantage In-Home Display, hardware "
                                 "version V2.9, firmware version 0xCE8EDBBF, made by Umberleigh "
                                 "Systeme GmbH."])
    assert _devices(_read(path)) == [("Umberleigh Systeme GmbH", "Vantage In-Home Display", "V2.9",
                                      "0xCE8EDBBF")]


@pytest.mark.parametrize(("lines", "want"), [
    (["Ashcombe Radio Conformance Ltd confirms that a smart metering device produced by "
      "Umberleigh Systeme GmbH (ZigBee manufacturer code 0x1190) and sold under the trade name "
      "Quill Q3 has met the requirements of the Smart Energy Profile 1.4. The evaluated "
      "configuration comprised hardware 02_08 and firmware 3.1.4."],
     # (the code in the colon form the codings read, with a note: printed_hex.py)
     ("Umberleigh Systeme GmbH (ZigBee manufacturer code 11:90)", "Quill Q3", "02_08", "3.1.4")),
    (["Please be advised that the meter known as the Meridian Gas Meter MG4, made by Kelsbrook",
      "Instruments Ltd, was examined at PCB revision 1.4 with firmware v2.0.1."],
     ("Kelsbrook Instruments Ltd", "Meridian Gas Meter MG4", "1.4", "v2.0.1")),
    (["Our customer, Oakfell Systems Ltd, presented the CH-2000 Comms Hub at board issue 3.2",
      "with its firmware (OTA file version 0x00030201) for assessment."],
     ("Oakfell Systems Ltd", "CH-2000 Comms Hub", "3.2", "0x00030201")),
])
def test_letters_in_yet_other_wordings(tmp_path: Path, lines: list[str],
                                       want: tuple[str, str, str, str]) -> None:
    """Cues of a third prose probe (helper-written letters): `sold under the trade name`,
    `known as`, `PCB revision`, `board issue`, `OTA file version`, `our customer`; a kind's
    noun inside a brand's name (`Meridian Gas Meter MG4`, `Comms Hub`) is no cue cutting it."""
    import textwrap
    text = " ".join(lines)
    certificate = _read(_pdf(tmp_path, ["Veritest Interop Services Ltd", "Certificate ZIG21-1234",
                                        *textwrap.wrap(text, 95)]))
    assert _devices(certificate) == [want]


def test_versions_given_respectively_go_to_their_devices_in_turn(tmp_path: Path) -> None:
    """`Two of its devices, marketed as the Polaris Twin Element ESME and the PPMID-7, ...` then
    `tested at hardware versions 0x0109 and 0x0203 respectively, running firmware 5.6.20 and
    v7.1.25 respectively` (the third prose probe): the n-th value is the n-th device's. Before,
    one listing. A company ending a sentence stops at its full stop (`... Services. We`)."""
    path = _pdf(tmp_path, [
        "Tessaly Product Approvals Ltd", "Re: ZigBee certification",
        "We write for our customer, Ravensworth Metering Services. We act in its CPL submission.",
        "Two of its devices, marketed as the Polaris Twin Element ESME and the PPMID-7, were",
        "certified by Ashcombe Radio Conformance Ltd under certificate ZIG21-9870 on April 26, 2023.",
        "The two devices were tested at hardware versions 0x0109 and 0x0203 respectively, running",
        "firmware 5.6.20 and v7.1.25 respectively."])
    maker = "Ravensworth Metering Services"
    assert _devices(_read(path)) == [(maker, "Polaris Twin Element ESME", "0x0109", "5.6.20"),
                                     (maker, "PPMID-7", "0x0203", "v7.1.25")]


def test_a_header_wrapped_centred_under_its_cells(tmp_path: Path) -> None:
    """Header cells centred over their columns and wrapped (`Model` over `Identification`,
    `Hardware /` over `/` over `Version`), the cells left-aligned under them: `Hardware /
    Version` is a label read across its slash, the wrapped words go on their header cells, and
    the one column its cells start left of is moved to them (born10 probe, table01). Before: no
    table, the header's second line was taken for a row."""
    items = ((51, 720, "Certificate No.: ZIG37656SE1478"),
             (55, 540, "No."), (77, 540, "Manufacturer"), (151, 540, "Model"),
             (195, 540, "Firmware / Software"), (278, 540, "Hardware"),
             (92, 530, "Name"), (137, 530, "Identification"), (217, 530, "Version"),
             (294, 530, "/"), (281, 520, "Version"),
             (55, 506, "1"), (75, 506, "Thornbury"), (136, 506, "TopUp Panel"),
             (194, 506, "SMETS2 Application"), (276, 506, "Version 4"),
             (75, 496, "Instruments"), (136, 496, "2 (Image Type"),
             (194, 496, "Release 5.84 (Stack"), (277, 496, "Revision 6"),
             (75, 486, "UK Ltd"), (136, 486, "1F:B6)"), (194, 486, "3.48)"))
    certificate = _read(_drawn(tmp_path, "wrapped.pdf", items, size=8))
    assert certificate.certificate_id == "ZIG37656SE1478"
    assert _devices(certificate) == [("Thornbury Instruments UK Ltd",
                                      "TopUp Panel 2 (Image Type 1F:B6)", "Version 4 Revision 6",
                                      "SMETS2 Application Release 5.84 (Stack 3.48)")]
    assert certificate.layout == "tables"


def test_rows_of_cells_centred_in_their_rows_whose_lines_interleave(tmp_path: Path) -> None:
    """Every cell centred in its row, header and body alike: a cell of two lines beside one of
    three sets their lines half a line apart, so the page's lines interleave and read line by
    line they mix cells (born10 probe, table07). Each row's cells are read as one line, and
    each value keeps the boxes of its own lines."""
    items = ((71, 720, "Certificate No.: SE2-7108-H"),
             (85, 512, "Device"), (89, 501, "Type"), (135, 512, "Manufacturer"),
             (212, 517, "Model /"), (259, 517, "Hardware"), (215, 506, "Image"), (278, 506, "/"),
             (150, 501, "(Code)"), (217, 495, "Type"), (263, 495, "Version"), (324, 512, "FW"),
             (315, 501, "Version"), (74, 479, "Gas Smart"), (204, 474, "Hearth SG1"),
             (74, 468, "Metering"), (130, 468, "Manufacturer"), (258, 468, "Version 2"),
             (204, 463, "Image Type"), (307, 463, "25:03:13:08"), (74, 457, "Equipment"),
             (130, 457, "Code 0xA068"), (258, 457, "Revision 0"), (204, 452, "2F:1B"),
             (74, 446, "(GSME)"), (74, 430, "Gas Smart"), (204, 430, "GX-874"),
             (130, 425, "Anvil Energy"), (74, 419, "Metering"), (204, 419, "(Image"),
             (258, 419, "Version 1"), (307, 419, "15.9 (Stack"), (130, 414, "Devices plc"),
             (74, 408, "Equipment"), (204, 408, "Type"), (258, 408, "Revision 7"),
             (307, 408, "18.46)"), (130, 403, "(6F:F5)"), (74, 397, "(GSME)"),
             (204, 397, "0x3ECA)"))
    certificate = _read(_drawn(tmp_path, "centred-rows.pdf", items))
    assert certificate.certificate_id == "SE2-7108-H"
    assert _devices(certificate) == [
        ("Manufacturer Code A0:68", "Hearth SG1 Image Type 2F:1B", "Version 2 Revision 0",
         "25:03:13:08"),
        ("Anvil Energy Devices plc (6F:F5)", "GX-874 (Image Type 0x3ECA)", "Version 1 Revision 7",
         "15.9 (Stack 18.46)")]
    model = dict(certificate.listings[0].evidence)["model"]
    assert model.page == 1 and model.bbox[3] - model.bbox[1] > 20  # its three lines' union


def test_a_header_cell_over_three_lines_and_a_value_wrapped_onto_a_label(tmp_path: Path) -> None:
    """`Model /` over `Image` over `Type`, centred, beside cells of one and two lines; a model's
    wrapped `Image Type` (a label's words) on the row's second line (born10 probe, table15).
    Before: the header's lines were taken for a row (`Model / Image` names nothing until its
    third line), and the wrapped label kept the columns from moving to their cells."""
    items = ((57, 720, "Certification ID Number: ZIG56872SE8073"),
             (61, 270, "Manufacturer /"), (152, 270, "Model /"), (207, 270, "Hardware"),
             (277, 270, "FW Version"), (87, 260, "Code"), (158, 260, "Image"),
             (210, 260, "Version"), (160, 249, "Type"),
             (60, 234, "Anvil Energy"), (140, 234, "Glance 7"), (207, 234, "01_05"),
             (256, 234, "0A:09:12:FD"), (60, 224, "Devices plc"), (141, 224, "Image Type"),
             (141, 213, "1F:66"),
             (60, 198, "Penhallow"), (140, 198, "HomeView"), (207, 198, "01_06"),
             (256, 198, "28:7A:0E:21"), (60, 188, "Telemetry Ltd"), (140, 188, "Mk2 (Image"),
             (62, 177, "(3D:D5)"), (140, 177, "Type 3F:2E)"))
    certificate = _read(_drawn(tmp_path, "three-lines.pdf", items, size=8))
    assert _devices(certificate) == [
        ("Anvil Energy Devices plc", "Glance 7 Image Type 1F:66", "01_05", "0A:09:12:FD"),
        ("Penhallow Telemetry Ltd (3D:D5)", "HomeView Mk2 (Image Type 3F:2E)", "01_06",
         "28:7A:0E:21")]


def test_a_letter_naming_its_certificate_in_a_sentence_about_the_device(tmp_path: Path) -> None:
    """`Our certificate reference for this device is SE2-3347-G.`: the ID after its cue, ending
    in a letter after a separator, wins over the model the cue `device` read inside the same
    clause (born10 probe, letter13). Before: no certificate ID, so NOT_A_CERTIFICATE."""
    certificate = _read(_pdf(tmp_path, [
        *LETTER_HEAD, "Our ref: HIL/JOB/6619", "Dear Sir/Madam,",
        "The device Aurora G2 (Image Type 2E:4E), made by Velmora Metering GmbH (1E:C6), was",
        "evaluated against the Zigbee Smart Energy 1.4 test specification. The unit under test",
        "was at hardware Version 1 Revision 8 with firmware release 1B:5E:07:95 installed.",
        "Our certificate reference for this device is SE2-3347-G.",
        "We thank you for your co-operation during testing."]))
    assert certificate.error is None
    assert certificate.certificate_id == "SE2-3347-G"
    assert _devices(certificate) == [("Velmora Metering GmbH (1E:C6)",
                                      "Aurora G2 (Image Type 2E:4E)", "Version 1 Revision 8",
                                      "1B:5E:07:95")]


BULLETED_LETTER = (
    (63, 720, "Our ref: TH/2019/8698-A"), (63, 704, "Your ref: Email of August 1, 2019"),
    (63, 680, "Dear Sirs,"),
    (75, 660, "Thank you for submitting your product for Zigbee Smart Energy certification."),
    (75, 640, "The following products have been certified:"),
    (69, 614, "\u2022"),
    (81, 614, "GX-874, manufactured by Anvil Energy Devices plc (code BB:D7): hardware version"),
    (81, 601, "01_00; firmware version 0x241E07EC"),
    (69, 581, "\u2022"),
    (81, 581, "Waymark Hub Image Type 3E:35, manufactured by Northmoor Home Energy Ltd"),
    (81, 568, "(0x9959): hardware version Version 1 Revision 6; firmware version 26:59:1F:9F"),
    (75, 548, "A certificate bearing the reference shown at the head of this letter has been"),
    (75, 535, "issued and will be published on the Alliance website."))


def test_a_letter_whose_certificate_bears_its_own_reference(tmp_path: Path) -> None:
    """No certificate ID anywhere but `Our ref:`, and the letter says the certificate bears
    that reference (lexicon [documents]): the reference is the ID, and its rule says why. Its
    products are a bulleted list: each item a device, its name opening the item (born10 probe,
    letters 05 and 12). Before: NOT_A_CERTIFICATE, and one listing without models."""
    certificate = _read(_drawn(tmp_path, "letter.pdf", BULLETED_LETTER))
    assert certificate.error is None
    assert certificate.certificate_id == "TH/2019/8698-A"
    rule = dict(certificate.evidence)["certificate_id"].rule
    assert "'Our ref'" in rule and "certificate bearing the reference" in rule
    assert _devices(certificate) == [
        ("Anvil Energy Devices plc (code BB:D7)", "GX-874", "01_00", "0x241E07EC"),
        ("Northmoor Home Energy Ltd (0x9959)", "Waymark Hub Image Type 3E:35",
         "Version 1 Revision 6", "26:59:1F:9F")]


def test_a_letter_reference_without_the_words_is_no_certificate_id(tmp_path: Path) -> None:
    """The same letter without its sentence on the certificate: `Our ref:` is a job number, and
    the letter is no certificate."""
    items = tuple(i for i in BULLETED_LETTER if not i[2].startswith(("A certificate", "issued")))
    certificate = _read(_drawn(tmp_path, "letter.pdf", items))
    assert certificate.certificate_id == ""
    assert certificate.error is not None


def test_a_sentence_listing_products_makers_and_versions_respectively(tmp_path: Path) -> None:
    """Three products listed after `The products`, their makers after `supplied by`, their
    hardware in a list without its own `respectively` and their firmware in one with it: each
    device its own values, in order (born10 probe, letter07). Before: one listing, its model
    `products Pulse Display (Image Type 3D:F5)`."""
    certificate = _read(_pdf(tmp_path, [
        *LETTER_HEAD, "Certificate No. ZSE-20-45281", "Dear Sirs,",
        "The products Pulse Display (Image Type 3D:F5), Ember Touch and Halcyon IHD (Image Type",
        "11:25), supplied by Kinsale Grid Devices Ltd (32:DE), Thornbury Instruments UK Ltd",
        "(BD:A9) and Quayside Smart Devices Ltd (0x26C5) respectively, have been certified at",
        "hardware versions 3.7, Version 3 Revision 4 and 03_01 and with firmware Application 4.07",
        "(Stack 3.56), Application 6.20 (Stack 3.90) and 0F:38:1C:2D respectively."]))
    assert _devices(certificate) == [
        ("Kinsale Grid Devices Ltd (32:DE)", "Pulse Display (Image Type 3D:F5)", "3.7",
         "Application 4.07 (Stack 3.56)"),
        ("Thornbury Instruments UK Ltd (BD:A9)", "Ember Touch", "Version 3 Revision 4",
         "Application 6.20 (Stack 3.90)"),
        ("Quayside Smart Devices Ltd (0x26C5)", "Halcyon IHD (Image Type 11:25)", "03_01",
         "0F:38:1C:2D")]


def test_each_device_of_a_letter_keeps_the_maker_named_with_its_code(tmp_path: Path) -> None:
    """One device's maker opens its sentence with its code, no cue (`Brightwater Metering
    Systems Ltd (9A:1A) has demonstrated that its ...`), the other's follows `made by`: each
    keeps its own (born10 probe, letter15). Before: the cue's maker went to both."""
    certificate = _read(_pdf(tmp_path, [
        *LETTER_HEAD, "Our ref: ZSE-20-96154", "Dear Sir/Madam,",
        "Brightwater Metering Systems Ltd (9A:1A) has demonstrated that its In-Home Display",
        "(IHD), model designation Glance 7 (Image Type 0F:AC), meets the Zigbee Smart Energy",
        "requirements when operating at hardware version 2.1 and firmware 0x0102A0B3.",
        "",
        "In addition, the device Credit Point 5 (Image Type 29:F2), made by Kinsale Grid Devices",
        "Ltd, was evaluated against the Zigbee Smart Energy 1.4 test specification. The unit under",
        "test was at hardware Version 2 Revision 2 with firmware 16:87:0A:85 installed."]))
    assert [(d[0], d[1]) for d in _devices(certificate)] == [
        ("Brightwater Metering Systems Ltd (9A:1A)", "Glance 7 (Image Type 0F:AC)"),
        ("Kinsale Grid Devices Ltd", "Credit Point 5 (Image Type 29:F2)")]


def test_devices_as_columns_whose_wrapped_models_start_with_label_words(tmp_path: Path) -> None:
    """A transposed table whose model cells wrap onto `Type 33:CA)` and `Image Type 2A:46`,
    words that would open a model's label: under the model row they are its values (born10
    probe, table14). Before: the table ended there, and the labels read one device only."""
    items = ((71, 720, "Certificate No.: ZSE-19-64724"),
             (71, 700, "Manufacturer: Thornbury Instruments UK Ltd (23:33)"),
             (206, 563, "Listing 1"), (301, 563, "Listing 2"), (387, 563, "Listing 3"),
             (116, 547, "Model Identification"), (206, 547, "Credit Point 5 (Image"),
             (301, 547, "TopUp Panel 2"), (387, 547, "Vendo PPMID Image"),
             (206, 535, "Type 33:CA)"), (301, 535, "Image Type 2A:46"), (387, 535, "Type 2C:EA"),
             (116, 518, "HW Version"), (206, 518, "3.7"), (301, 518, "Version 4 Revision"),
             (387, 518, "04_06"), (301, 507, "4"),
             (116, 490, "Firmware Version"), (206, 490, "SMETS2 Application"),
             (301, 490, "2B:8E:16:0C"), (387, 490, "SMETS2 Application"),
             (206, 479, "Release 4.76 (Stack"), (387, 479, "Release 1.18 (Stack"),
             (206, 467, "2.00)"), (387, 467, "2.33)"))
    certificate = _read(_drawn(tmp_path, "columns.pdf", items, size=9))
    assert [d[1:] for d in _devices(certificate)] == [
        ("Credit Point 5 (Image Type 33:CA)", "3.7",
         "SMETS2 Application Release 4.76 (Stack 2.00)"),
        ("TopUp Panel 2 Image Type 2A:46", "Version 4 Revision 4", "2B:8E:16:0C"),
        ("Vendo PPMID Image Type 2C:EA", "04_06", "SMETS2 Application Release 1.18 (Stack 2.33)")]
    assert {d[0] for d in _devices(certificate)} == {"Thornbury Instruments UK Ltd (23:33)"}
