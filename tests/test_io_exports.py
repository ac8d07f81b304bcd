"""Spectrometer text exports with a header of settings: Ocean Insight (OceanView,
SpectraSuite) and B&W Tek (BWSpec), written here in their layouts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _vendor_files import read_or_one_line_error
from ramancam import RamancamError
from ramancam.cli import main
from ramancam.io import describe, file_format, read

WL = np.linspace(786.0, 1000.0, 120)  # nm, a 785 nm laser
SHIFT = 1e7 / 785.0 - 1e7 / WL
Y = 1000 * np.exp(-0.5 * ((SHIFT - 1001) / 8) ** 2) + 200 + 5 * np.sin(np.arange(120))

OCEAN_HEAD = """Data from Tablet_QEP01234__0__10-11-12-345.txt Node

Date: Sat Dec 05 10:11:12 CET 2026
User: qc
Spectrometer: QEP01234
Trigger mode: 0
Integration Time (sec): 2.000000E0
Scans to average: 3
Electric dark correction enabled: true
XAxis mode: {mode}
Number of Pixels in Spectrum: 120
>>>>>Begin Spectral Data<<<<<
"""


def ocean(x: np.ndarray, mode: str = "Raman Shifts", comma: bool = False) -> str:
    rows = "".join(f"{a:.4f}\t{b:.3f}\n" for a, b in zip(x, Y, strict=True))
    return OCEAN_HEAD.format(mode=mode) + (rows.replace(".", ",") if comma else rows)


def bwtek(sep: str = ";", acquisitions: int = 1, shift_col: bool = True,
          decimal_comma: bool = False) -> str:
    head = ["File Version;BWSpec4.03_29", "Date;2026-12-05 10:11:12", "title;batch 7",
            "model;BTC655N", "operator;qc", "laser_wavelength;785.00", "laser_powerlevel;100",
            "intigration times(ms);5000", "xaxis_min;2", "xaxis_max;117"]
    cols = ["Pixel", "Wavelength", "Wavenumber"] + (["Raman Shift"] if shift_col else [])
    cols += ["Dark", "Reference"]
    for k in range(1, acquisitions + 1):
        cols += [f"Raw data #{k}", f"Dark Subtracted #{k}"]
    lines = [h.replace(";", sep) for h in head] + [sep.join(cols) + sep]
    for i, (w, s) in enumerate(zip(WL, SHIFT, strict=True)):
        cells = [str(i), f"{w:.4f}", f"{1e7 / w:.2f}"]
        if shift_col:
            cells.append("" if i in (0, 119) else f"{s:.4f}")  # detector edges: no shift
        cells += ["1000", "65535"]
        for k in range(1, acquisitions + 1):
            cells += [f"{Y[i] * k + 1000:.3f}", f"{Y[i] * k:.3f}"]
        if decimal_comma:
            cells = [c.replace(".", ",") for c in cells]
        lines.append(sep.join(cells) + sep)
    return "\n".join(lines) + "\n"


def test_ocean_export_in_raman_shifts(tmp_path):
    p = tmp_path / "tablet.txt"
    p.write_text(ocean(SHIFT))
    s = read(p)
    assert file_format(p) == "ocean" and len(s) == 1
    np.testing.assert_allclose(s.wavenumbers, np.round(SHIFT, 4))
    np.testing.assert_allclose(s.X[0], np.round(Y, 3))
    m = {k: v[0] for k, v in s.meta.items()}
    assert m["title"] == "Tablet_QEP01234__0__10-11-12-345.txt"
    assert (m["instrument"], m["acquired"], m["x_units"]) == (
        "QEP01234", "2026-12-05T10:11:12", "cm-1")
    assert m["integration_s"] == 2.0 and m["scans to average"] == "3"


def test_ocean_export_in_wavelengths_needs_the_laser(tmp_path, capsys):
    p = tmp_path / "nm.txt"
    p.write_text(ocean(WL, mode="Wavelengths", comma=True))  # a European locale
    s = read(p)  # Python: the axis as the file gives it, its unit in x_units
    np.testing.assert_allclose(s.wavenumbers, np.round(WL, 4))
    assert s.meta["x_units"][0] == "nm"
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: file {p} has its x axis in wavelengths (nm), as its header says; "
                   "give --laser-nm NM (the excitation laser, e.g. 785) to convert it to Raman "
                   "shift, or export the spectra in Raman shifts.\n")
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert "axis:      " + f"{SHIFT[0]:.1f} to {SHIFT[-1]:.1f} cm-1" in capsys.readouterr().out
    out = tmp_path / "shift.csv"
    assert main(["convert", str(p), str(out), "--laser-nm", "785"]) == 0
    assert f"wrote 1 spectrum, 120 points to {out}" in capsys.readouterr().out
    back = read(out)
    assert repr(back).startswith("Spectra(1 spectrum, ")
    assert main(["info", str(out)]) == 0  # the laser column of a table, read as text
    assert "  laser:     785 nm\n" in capsys.readouterr().out
    np.testing.assert_allclose(back.wavenumbers, SHIFT, atol=1e-3)
    assert back.meta["x_units"][0] == "cm-1 (from nm)"


def test_spectrasuite_export_and_axis_modes(tmp_path):
    old = ("SpectraSuite Data File\n++++++++++++\nDate: Tue Mar 13 16:03:21 CET 2012\n"
           "Spectrometers: USB2G6154\nIntegration Time (usec): 100000 (USB2G6154)\n"
           ">>>>>Begin Processed Spectral Data<<<<<\n"
           + "".join(f"{a:.2f}\t{b:.2f}\n" for a, b in zip(SHIFT, Y, strict=True))
           + ">>>>>End Processed Spectral Data<<<<<\n")
    p = tmp_path / "old.txt"
    p.write_text(old)
    s = read(p)  # no XAxis mode line: read as it is, like any two-column text
    assert len(s.wavenumbers) == 120 and s.meta["x_units"][0] == ""
    assert s.meta["instrument"][0] == "USB2G6154" and s.meta["integration_s"][0] == 0.1
    assert s.meta["acquired"][0] == "2012-03-13T16:03:21"
    px = tmp_path / "pixels.txt"
    px.write_text(ocean(np.arange(120.0), mode="Pixels"))
    with pytest.raises(RamancamError, match=r"pixels\.txt: the x axis must be Raman shifts or "
                       r"wavelengths; its header says 'XAxis mode: Pixels'"):
        read(px)
    empty = tmp_path / "empty.txt"
    empty.write_text(OCEAN_HEAD.format(mode="Raman Shifts"))
    with pytest.raises(RamancamError, match=r"empty\.txt, line 12: an Ocean Insight export "
                       r"must hold \(x, intensity\) lines"):
        read(empty)
    bad = tmp_path / "bad.txt"
    bad.write_text(ocean(SHIFT) + "abc\t1\n")
    with pytest.raises(RamancamError, match=r"bad\.txt, line 133: could not read a number "
                       r"from 'abc'"):
        read(bad)


@pytest.mark.parametrize("sep,decimal_comma", [(";", False), (",", False), (";", True),
                                               ("\t", False)])
def test_bwtek_export(tmp_path, sep, decimal_comma):
    p = tmp_path / "batch7.txt"
    p.write_text(bwtek(sep, decimal_comma=decimal_comma))
    s = read(p)
    assert file_format(p) == "bwtek" and len(s) == 1
    # pixels 2-117 (xaxis_min/max), the Dark Subtracted column on the Raman Shift column
    np.testing.assert_allclose(s.wavenumbers, np.round(SHIFT[2:118], 4))
    np.testing.assert_allclose(s.X[0], np.round(Y[2:118], 3))
    m = {k: v[0] for k, v in s.meta.items()}
    assert (m["title"], m["instrument"], m["acquired"]) == (
        "batch 7", "BTC655N", "2026-12-05T10:11:12")
    assert m["laser_wavelength_nm"] == 785.0 and m["integration_s"] == 5.0
    assert m["operator"] == "qc" and m["x_units"] == "cm-1"


def test_bwtek_acquisitions_and_wavelength_only(tmp_path):
    p = tmp_path / "two.txt"
    p.write_text(bwtek(acquisitions=2))
    s = read(p)
    assert len(s) == 2 and s.meta["spectrum"].tolist() == [0, 1]
    np.testing.assert_allclose(s.X[1], np.round(2 * Y[2:118], 3))
    w = tmp_path / "nm.txt"
    w.write_text(bwtek(shift_col=False))  # converted with the header's laser
    np.testing.assert_allclose(read(w).wavenumbers, 1e7 / 785.0 - 1e7 / np.round(WL[2:118], 4))


def test_bwtek_errors_name_file_and_line(tmp_path):
    text = bwtek()
    cases = {
        "nocol.txt": (text.replace("Dark Subtracted #1", "Something").replace(
            "Raw data #1", "Other"), r"nocol\.txt, line 11: a B&W Tek export's table must "
                                     r"have a 'Raman Shift'"),
        "cell.txt": (text.replace("\n50;", "\nfifty;"), r"cell\.txt, line 62: a B&W Tek data "
                                                        r"line must start with its pixel"),
        "value.txt": ("\n".join(ln if not ln.startswith("60;") else ln.rsplit(";", 2)[0] + ";x;"
                                for ln in text.split("\n")),
                      r"value\.txt, line 72: a B&W Tek data line must hold a number in every "
                      r"intensity column \(Dark Subtracted #1\)"),
    }
    for name, (content, match) in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(RamancamError, match=match) as e:
            read(tmp_path / name)
        assert "\n" not in str(e.value)


def test_exports_cut_short_are_refused_by_their_pixel_counts(tmp_path):
    """Both headers say how many pixels follow (Ocean: 'Number of Pixels in Spectrum';
    BWSpec: xaxis_max): a file cut short is refused, not read as a shorter spectrum."""
    oc = ocean(SHIFT).split("\n")
    (tmp_path / "oc.txt").write_text("\n".join(oc[:40]) + "\n")
    with pytest.raises(RamancamError, match=r"oc\.txt: an Ocean Insight export must hold the "
                       r"pixels its header announces \('Number of Pixels': 120\); got 28 "):
        read(tmp_path / "oc.txt")
    # with its End line the data are whole, however many lines there are
    (tmp_path / "end.txt").write_text("\n".join(oc[:40]) + "\n>>>>>End Spectral Data<<<<<\n")
    assert read(tmp_path / "end.txt").X.shape == (1, 28)
    bw = bwtek().split("\n")
    (tmp_path / "bw.txt").write_text("\n".join(bw[:60]) + "\n")
    with pytest.raises(RamancamError, match=r"bw\.txt: a B&W Tek export must hold the pixels "
                       r"up to its header's xaxis_max \(117\); got pixels up to 48\."):
        read(tmp_path / "bw.txt")
    cut = bw[61].split(";")[:3]  # pixel, wavelength, wavenumber: the row ends before its shift
    (tmp_path / "row.txt").write_text("\n".join([*bw[:61], ";".join(cut)]) + "\n")
    with pytest.raises(RamancamError, match=r"row\.txt, line 62: a B&W Tek data line must "
                       r"hold every column of the table \(8\); got 3 in "):
        read(tmp_path / "row.txt")


def test_folder_of_exports_with_labels(tmp_path, capsys):
    for product in ("A", "B"):
        (tmp_path / product).mkdir()
        for k in range(2):
            (tmp_path / product / f"s{k}.txt").write_text(bwtek())
    (tmp_path / "A" / "oc.txt").write_text(ocean(SHIFT))
    s = read(tmp_path, labels_from="folder")
    assert len(s) == 5 and s.class_counts() == {"A": 3, "B": 2}
    assert describe(s)["formats"] == {"B&W Tek BWSpec export": 4,
                                      "Ocean Insight text export": 1}
    assert main(["info", str(tmp_path), "--labels-from", "folder"]) == 0
    assert "classes:   2: A (3), B (2)" in capsys.readouterr().out


def test_output_cut_short_by_a_pipe_ends_quietly():
    # `ramancam info ... | head -1`: the reader leaves early; no error line, status 141
    p = subprocess.Popen([sys.executable, "-m", "ramancam", "info"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 141 and err == ""


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["ocean", "bwtek"]), data=st.data())
def test_fuzz_damaged_exports(kind, data):
    # an export cut short, with characters overwritten, or both: a Spectra or one line
    text = list(ocean(SHIFT) if kind == "ocean" else bwtek())
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(0, len(text) - 1))
        text[i] = data.draw(st.sampled_from(list("0123456789.,;\t\n -eEx#>:")))
    cut = data.draw(st.integers(0, len(text)))
    body = "".join(text[:cut] if data.draw(st.booleans()) else text)
    read_or_one_line_error(body.encode(), "export.txt")


LABSPEC = ("#Acq. time (s)=\t10\n#Accumulations=\t2\n#Instrument=\tLabRAM HR Evol\n"
           "#Objective=\t50\n#Grating=\t600 (500nm)\n#Laser=\t532.07\n#Title=\tPS bead\n"
           "#Date=\t12.03.2021 14:22\n")


def test_labspec_settings_become_metadata(tmp_path, capsys):
    """Horiba LabSpec's text export: '#Key=<TAB>value' settings above the two columns."""
    path = tmp_path / "bead.txt"
    path.write_text(LABSPEC + "".join(f"{w:.1f}\t{100 + w:.1f}\n" for w in range(400, 420)))
    s = read(path)
    meta = {k: s.meta[k][0] for k in s.meta}
    assert meta == {"Acq. time (s)": "10", "Accumulations": "2",
                    "instrument": "LabRAM HR Evol", "Objective": "50",
                    "Grating": "600 (500nm)", "laser_wavelength_nm": "532.07",
                    "title": "PS bead", "acquired": "12.03.2021 14:22"}
    assert s.X.shape == (1, 20)
    assert file_format(path) == "labspec"
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  laser:     532.1 nm" in out and "  format:    Horiba LabSpec text export" in out
    # one such line is an ordinary comment, and a comment below the data is not a setting
    other = tmp_path / "plain.txt"
    other.write_text("#baseline=\tremoved\n400\t1\n401\t2\n#Laser=\t785\n402\t3\n")
    assert read(other).meta == {} and file_format(other) == "two_column"


def test_bwtek_damaged_or_missing_raman_shift_inside_the_range_is_refused(tmp_path):
    lines = bwtek().split("\n")
    row = next(i for i, t in enumerate(lines) if t.startswith("Pixel;")) + 1 + 50  # pixel 50
    cells = lines[row].split(";")
    damaged = cells.copy()
    damaged[3] = damaged[3][:3] + "#" + damaged[3][3:]
    p = tmp_path / "batch7.txt"
    p.write_text("\n".join([*lines[:row], ";".join(damaged), *lines[row + 1:]]))
    with pytest.raises(RamancamError, match=rf"^file .*batch7\.txt, line {row + 1}: a B&W Tek "
                                            r"data line must hold a number \(or nothing, at "
                                            r"the detector's edges\) in its 'Raman Shift' "
                                            rf"column; got '{damaged[3]}'\. Fix that value"):
        read(p)
    empty = cells.copy()
    empty[3] = ""
    p.write_text("\n".join([*lines[:row], ";".join(empty), *lines[row + 1:]]))
    with pytest.raises(RamancamError, match=rf"^file .*batch7\.txt, line {row + 1}: only the "
                                            r"pixels at the detector's edges may lack a "
                                            r"'Raman Shift'; got an empty cell between pixels "
                                            r"that have one\."):
        read(p)
    # empty cells at the edges (pixels 2 and 117, inside xaxis_min..xaxis_max) are left out
    edges = lines.copy()
    for r in (row - 50 + 2, row - 50 + 117):
        c = edges[r].split(";")
        c[3] = ""
        edges[r] = ";".join(c)
    p.write_text("\n".join(edges))
    s = read(p)
    assert s.X.shape == (1, 114)
    np.testing.assert_allclose(s.wavenumbers, np.round(SHIFT[3:117], 4))
