"""JCAMP-DX as instruments and programs write it beyond the plain case: ``$$`` comments
anywhere, x units other than 1/CM, peak tables beside (or instead of) the spectrum, headers
that contradict the table, NTUPLES, a long preamble (audit vendor-formats, 2026-12-07)."""

from __future__ import annotations

import numpy as np
import pytest

from _memory import traced_peak
from _vendor_files import AXIS, jcamp_text
from ramancam import RamancamError
from ramancam.io import read

Y = np.linspace(100.0, 157.0, AXIS.size)
NM = 1e7 / (1e7 / 785.0 - AXIS)  # the Raman shifts of AXIS as absolute wavelengths


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_comments_anywhere_are_comments(tmp_path):
    # '##XUNITS=NANOMETERS $$ wavelength' kept the comment in the unit: the nm axis was read
    # as Raman shift (800-819 "cm-1"); a comment after a data line or a number stopped the
    # library ('damaged')
    text = jcamp_text(NM, Y, form="XYPOINTS",
                      extra={"XUNITS": "NANOMETERS $$ wavelength", "LASER WAVELENGTH": "785"})
    s = read(_write(tmp_path, "nm.jdx", text))
    np.testing.assert_allclose(s.axes[0], AXIS, rtol=1e-9)
    text = _with(jcamp_text(AXIS, Y, title="quartz $$ batch 4"), "##YFACTOR=1",
                 "##YFACTOR=0.5 $$ scale")
    lines = text.split("\n")
    row = next(i for i, t in enumerate(lines) if t.startswith("##XYDATA")) + 2
    lines[row] += " $$ checked"
    lines.insert(0, "$$ " + "written by a program " * 400)  # a preamble of 8 KB
    s = read(_write(tmp_path, "c.jdx", "\n".join(lines)))
    np.testing.assert_allclose(s.X[0], 0.5 * Y)
    np.testing.assert_allclose(s.wavenumbers, AXIS)
    assert s.meta["title"][0] == "quartz"


@pytest.mark.parametrize(("units", "x"), [
    ("MICROMETERS", NM / 1000.0), ("WAVELENGTH (NM)", NM), ("RAMAN SHIFT (CM-1)", AXIS),
    ("CM^-1", AXIS), ("cm\u207b\u00b9", AXIS), ("/cm", AXIS), ("cm^(-1)", AXIS),
    ("CM\u22121", AXIS), ("1/CENTIMETERS", AXIS), ("INVERSE CM", AXIS)])
def test_x_units_are_read_or_converted(tmp_path, units, x):
    text = jcamp_text(x, Y, form="XYPOINTS",
                      extra={"XUNITS": units, "LASER WAVELENGTH": "785"})
    np.testing.assert_allclose(read(_write(tmp_path, "u.jdx", text)).axes[0], AXIS, rtol=1e-9)


@pytest.mark.parametrize("units", ["PIXELS", "SECONDS", "ARBITRARY UNITS"])
def test_an_axis_that_is_no_raman_shift_is_refused(tmp_path, units):
    # micrometres were read as 0.8 "cm-1", pixels as 0-19 "cm-1", without a word
    text = jcamp_text(np.arange(AXIS.size, dtype=float), Y, extra={"XUNITS": units})
    with pytest.raises(RamancamError, match=rf"must have a Raman-shift x axis \(##XUNITS=1/CM\)"
                                            rf", or a wavelength .*got ##XUNITS={units}\. "
                                            "Calibrate"):
        read(_write(tmp_path, "p.jdx", text))


PEAKS = "##PEAK TABLE=(XY..XY)\n1001, 100\n1450, 40\n"


def test_peak_tables_are_no_spectra(tmp_path):
    # a peak table was read as a spectrum of 4 points; a LINK file of a spectrum and its
    # peak table gave two spectra; a peak table after a block's data replaced them
    alone = ("##TITLE=peaks\n##JCAMP-DX=4.24\n##DATA TYPE=RAMAN PEAK TABLE\n##XUNITS=1/CM\n"
             "##YUNITS=ARBITRARY UNITS\n##NPOINTS=2\n" + PEAKS + "##END=\n")
    with pytest.raises(RamancamError, match=r"must hold a spectrum .*got a peak table alone"):
        read(_write(tmp_path, "p.jdx", alone))
    link = ("##TITLE=both\n##JCAMP-DX=5.01\n##DATA TYPE=LINK\n##BLOCKS=2\n"
            + jcamp_text(AXIS, Y, title="spectrum") + alone + "##END=\n")
    s = read(_write(tmp_path, "link.jdx", link))
    assert len(s) == 1 and s.meta["title"].tolist() == ["spectrum"]
    np.testing.assert_allclose(s.X[0], Y)
    after = _with(jcamp_text(AXIS, Y), "##END=", PEAKS.rstrip("\n") + "\n##END=")
    np.testing.assert_allclose(read(_write(tmp_path, "a.jdx", after)).X[0], Y)


def test_a_header_that_contradicts_the_table_is_refused(tmp_path):
    text = jcamp_text(AXIS, Y)
    lines = text.split("\n")
    row = next(i for i, t in enumerate(lines) if t.startswith("##XYDATA")) + 1
    first = lines[row].split(" ", 1)
    # the table starts 100 cm-1 above ##FIRSTX: read on ##FIRSTX's axis without a word
    lines[row] = f"{float(first[0]) + 100.0!r} {first[1]}"
    with pytest.raises(RamancamError, match=rf"x\.jdx, line {row + 1}: a data table must start "
                                            r"at its ##FIRSTX=400; got a first x value of 500"):
        read(_write(tmp_path, "x.jdx", "\n".join(lines)))
    # a line further down that does not start where the line before ends (the library's
    # X check, printed and read on)
    lines = text.split("\n")
    cells = lines[row + 2].split(" ", 1)
    lines[row + 2] = f"{float(cells[0]) + 300.0!r} {cells[1]}"
    with pytest.raises(RamancamError, match=r"each line of a data table must start at the x "
                                            r"value where the line before ends"):
        read(_write(tmp_path, "l.jdx", "\n".join(lines)))
    step = (AXIS[-1] - AXIS[0]) / (AXIS.size - 1)
    with pytest.raises(RamancamError, match=rf"line 6: ##DELTAX={2 * step:g} must be the "
                                            rf"spacing .* give \({step:g}\)"):
        read(_write(tmp_path, "d.jdx", jcamp_text(AXIS, Y, extra={"DELTAX": str(2 * step)})))
    # a DELTAX written with few digits is that spacing (25 cm-1 as '25.0', '2.5E1', '3E1':
    # within half its last digit)
    for said in (f"{step:.3g}", "2.5E1", "3E1"):
        rounded = jcamp_text(AXIS, Y, extra={"DELTAX": said})
        np.testing.assert_allclose(read(_write(tmp_path, "r.jdx", rounded)).wavenumbers, AXIS)
    with pytest.raises(RamancamError, match=r"##DELTAX=24 must be the spacing"):
        read(_write(tmp_path, "r.jdx", jcamp_text(AXIS, Y, extra={"DELTAX": "24"})))


def test_ntuples_are_refused_with_the_way_out(tmp_path):
    text = ("##TITLE=n\n##JCAMP-DX=5.01\n##DATA TYPE=RAMAN SPECTRUM\n##NTUPLES=RAMAN SPECTRUM\n"
            "##VAR_NAME=RAMAN SHIFT, INTENSITY\n##PAGE=N=1\n##DATA TABLE=(XY..XY), XYPOINTS\n"
            "400, 1\n401, 2\n##END NTUPLES=RAMAN SPECTRUM\n##END=\n")
    with pytest.raises(RamancamError, match=r"got an ##NTUPLES table .*Export the spectra as "
                                            r"XYDATA"):
        read(_write(tmp_path, "n.jdx", text))


def test_an_empty_file_is_called_empty(tmp_path):
    # a zero-byte .jdx (a failed export) in a folder was 'got other content'
    (tmp_path / "e.jdx").write_bytes(b"")
    with pytest.raises(RamancamError, match=r"e\.jdx must be JCAMP-DX text .*got an empty "
                                            r"file\."):
        read(tmp_path / "e.jdx")


def test_telling_jcamp_from_a_table_does_not_split_the_table():
    # the $$-preamble scan split every text read (a table of 20 MB) into lines: +1.2x memory
    from ramancam.io.jcamp import looks_like_jcamp

    table = ("a," + ",".join(["123.456"] * 40) + "\n") * 60_000
    found, peak = traced_peak(looks_like_jcamp, table)
    assert found is False and peak < 1_000_000
    assert looks_like_jcamp("$$ note\n" * 2000 + "##TITLE=x\n##JCAMP-DX=5.01\n")



def test_a_header_value_on_the_next_line_is_read(tmp_path):
    # '##YFACTOR=' then '0.5' on its own line (JCAMP-DX lets a value continue): the library
    # failed on the empty value with a numpy error, reported as a damaged file
    text = _with(jcamp_text(AXIS, Y), "##YFACTOR=1", "##YFACTOR=\n0.5")
    s = read(_write(tmp_path, "v.jdx", text))
    np.testing.assert_allclose(s.X[0], 0.5 * Y)
    np.testing.assert_allclose(s.wavenumbers, AXIS)
    # the lines keep their numbers: a bad data line is named where it is in the file
    lines = text.split("\n")
    row = next(i for i, t in enumerate(lines) if t.startswith("##XYDATA")) + 2
    lines[row] = lines[row].replace(" ", " x", 1)
    with pytest.raises(RamancamError, match=rf"line {row + 1}\b"):
        read(_write(tmp_path, "w.jdx", "\n".join(lines)))
