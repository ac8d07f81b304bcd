"""Axis units the files state: wavelength columns, laser keys, absolute wavenumbers."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.io import read

LASER = 785.0
NM = np.linspace(800.0, 1100.0, 200)
SHIFT = 1e7 / LASER - 1e7 / NM
Y = 1.0 + np.exp(-0.5 * ((SHIFT - 1001.0) / 5.0) ** 2)


def _two_column(title: str, x: np.ndarray = NM) -> str:
    return title + "\n" + "".join(f"{a:.7g}\t{b:.5f}\n" for a, b in zip(x, Y, strict=True))


NM_REFUSAL = ("has its x axis in wavelengths (nm), as its header says; give --laser-nm NM "
              "(the excitation laser, e.g. 785) to convert it to Raman shift, or export the "
              "spectra in Raman shifts.")


@pytest.mark.parametrize("title", ["Wavelength (nm)\tIntensity (counts)",
                                   "Wavelength\tIntensity", "nm,counts",
                                   "Lambda [nanometers];Intensity", "lambda (nm)\tI",
                                   "Wavelength (nm) Intensity", "WAVELENGTH_NM\tcounts",
                                   "Wavelength (nm)\tCounts (785 nm laser)",
                                   # Raman in the y title (spaces only) is no Raman shift
                                   "Wavelength(nm) Raman_Intensity", "nm Raman",
                                   "Wavelength [nm] Raman_counts", "Wavelength Raman_Signal",
                                   "Wavelength_nm Intensity_Raman"])
def test_two_column_titled_in_nm_needs_the_laser(tmp_path, capsys, title):
    p = tmp_path / "s.txt"
    p.write_text(_two_column(title))
    assert read(p).meta["x_units"][0] == "nm"
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert f"axis:      {SHIFT[0]:.1f} to {SHIFT[-1]:.1f} cm-1" in capsys.readouterr().out


def test_two_column_titled_in_micrometres_is_read_in_nm(tmp_path, capsys):
    p = tmp_path / "s.txt"
    p.write_text(_two_column("Wavelength (µm)\tIntensity", NM / 1000.0))
    s = read(p)
    assert s.meta["x_units"][0] == "nm"
    np.testing.assert_allclose(s.wavenumbers, NM, atol=1e-3)
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert f"axis:      {SHIFT[0]:.1f} to {SHIFT[-1]:.1f} cm-1" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["Raman Shift (cm-1)\tIntensity", "shift\tcounts",
                                   "Wavenumber\tIntensity", "x\ty",
                                   # a laser line (785nm, 532 nm) is no unit of the axis
                                   "Raman_Shift_785nm\tIntensity", "Shift Counts(532nm)",
                                   "Shift (785nm laser)\tI",
                                   "Lambda shift\tIntensity", "RAMAN_SHIFT\tcounts",
                                   "RamanShift;Intensity", "Wavenumber_cm-1\tI",
                                   "X Counts (nm)",
                                   # spaces only: a shift word may still be the x title's
                                   "Lambda shift", "Wavelength Raman_Shift",
                                   "nm Raman_Shift(cm-1)"])
def test_two_column_titled_otherwise_is_a_shift(tmp_path, title):
    p = tmp_path / "s.txt"
    p.write_text(_two_column(title, SHIFT))
    assert "x_units" not in read(p).meta


def test_column_table_with_a_wavelength_column_needs_the_laser(tmp_path, capsys):
    p = tmp_path / "t.csv"
    p.write_text("Wavelength (nm),s0,s1\n" + "".join(
        f"{a:.4f},{b:.5f},{b + 0.1:.5f}\n" for a, b in zip(NM, Y, strict=True)))
    s = read(p)
    assert s.meta["x_units"].tolist() == ["nm", "nm"] and s.meta["id"].tolist() == ["s0", "s1"]
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert f"axis:      {SHIFT[0]:.1f} to {SHIFT[-1]:.1f} cm-1" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["Sample 1 (532 nm)", "Shift @ 532 nm",
                                   "Shift (785nm laser)", "Lambda shift", "Raman_Shift_785nm"])
def test_column_table_titled_with_a_laser_line_is_a_shift(tmp_path, title):
    p = tmp_path / "t.csv"
    p.write_text(f"{title},s0,s1\n" + "".join(
        f"{a:.4f},{b:.5f},{b + 0.1:.5f}\n" for a, b in zip(SHIFT, Y, strict=True)))
    assert "x_units" not in read(p).meta


@pytest.mark.parametrize(("line", "title"), [
    ("Wavelength [nm] Raman counts", "Wavelength [nm]"), ("Wavelength Raman Signal", "Wavelength"),
    ("Wavelength(nm) Raman_Intensity", "Wavelength(nm)"), ("nm Raman", "nm"),
    ("Shift Counts(532nm)", "Shift"), ("Raman_Shift_785nm Intensity", "Raman_Shift_785nm"),
    # a shift word right after the first word may be the x title's: no x title told apart
    ("Lambda shift counts", ""), ("Wavelength Raman shift (cm-1)", ""),
    ("Wavelength (nm)\tRaman shift", "Wavelength (nm)")])
def test_the_x_title_of_a_title_line(line, title):
    from ramancam.io._units import title_line_x

    assert title_line_x(line) == title


@pytest.mark.parametrize("unit", ["x_units", "Raman_Shift", "Shift", "RAMAN-SHIFT"])
def test_a_stated_shift_however_spelt(unit):
    from ramancam.io._units import says_shift

    assert says_shift(unit) is (unit != "x_units")


def test_folder_of_titled_nm_files_is_refused_for_training(tmp_path, capsys):
    for cls in "AB":
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"s{i}.txt").write_text(
                _two_column("Wavelength (nm)\tIntensity (counts)"))
    out = tmp_path / "m.ramancam"
    assert main(["train", str(tmp_path), "--labels-from", "folder", "--folds", "2",
                 "--epochs", "1", "--out", str(out)]) == 2
    assert NM_REFUSAL in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("axis", [NM, np.linspace(800.0, 1100.0, 1024),  # 785 nm, 0.29 nm
                                  np.linspace(1070.0, 1400.0, 512),  # 1064 nm InGaAs
                                  np.linspace(535.0, 700.0, 1024),  # 532 nm
                                  np.linspace(797.5, 931.2, 900)])
def test_an_untitled_axis_of_wavelengths_is_noted(axis):
    from ramancam.checks import wavelength_axis_note
    from ramancam.spectra import Spectra

    assert "looks like wavelengths in nm" in wavelength_axis_note(
        Spectra(np.ones((2, axis.size)), axis))


@pytest.mark.parametrize("axis", [np.linspace(200.0, 1800.0, 900), np.arange(450.0, 1801.0),
                                  np.arange(602.0, 1799.0, 4.0), np.linspace(401, 1600, 991),
                                  np.linspace(100.0, 1500.0, 1400),
                                  np.linspace(1226.0, 2788.0, 1015), np.arange(300.0, 1900.0)])
def test_a_raman_shift_axis_is_no_wavelength(axis):
    from ramancam.checks import wavelength_axis_note
    from ramancam.spectra import Spectra

    assert wavelength_axis_note(Spectra(np.ones((2, axis.size)), axis)) is None


# -- the laser wavelength of instrument headers -------------------------------------------

RAMAN = np.linspace(200.0, 1800.0, 300)  # Raman shifts, cm-1
IN_NM = 1e7 / (1e7 / LASER - RAMAN)  # the same, absolute wavelengths with a 785 nm laser


def _jdx(tmp_path, x, units, extra):
    from _vendor_files import jcamp_text

    p = tmp_path / "s.jdx"
    p.write_text(jcamp_text(x, np.ones(x.size), form="XYPOINTS",
                            extra={"XUNITS": units, **extra}))
    return p


def _spc(tmp_path, x, units, log):
    from _vendor_files import spc_bytes

    data = bytearray(spc_bytes(x, np.ones((1, x.size)), log=log))
    data[28] = units  # fxtype: 1 XWAVEN, 3 XNMETR, 13 XRAMANS
    p = tmp_path / "s.spc"
    p.write_bytes(bytes(data))
    return p


@pytest.mark.parametrize("power", [{"$LASER POWER": "250 mW"}, {"$LASER POWER": "250"},
                                   {"$LASER CURRENT": "1200 mA"},
                                   {"$LASER TEMPERATURE": "25 C"}])
def test_jcamp_laser_power_is_no_wavelength(tmp_path, power):
    p = _jdx(tmp_path, IN_NM, "NANOMETERS", {**power, "$LASER WAVELENGTH": "785"})
    s = read(p)
    assert s.meta["laser_wavelength_nm"][0] == 785.0
    np.testing.assert_allclose(s.wavenumbers, RAMAN, atol=1e-6)


def test_jcamp_laser_value_with_units(tmp_path):
    for value, nm in (("785 nm", 785.0), ("0.785 um", 785.0), ("12738.85 cm-1", 785.0),
                      ("785.0nm", 785.0)):
        s = read(_jdx(tmp_path, RAMAN, "1/CM", {"$LASER": value}))
        assert s.meta["laser_wavelength_nm"][0] == pytest.approx(nm, rel=1e-5), value
    s = read(_jdx(tmp_path, RAMAN, "1/CM", {"$LASER": "300 mW"}))
    assert np.isnan(s.meta["laser_wavelength_nm"][0])


def test_spc_laser_power_is_no_wavelength(tmp_path, capsys):
    p = _spc(tmp_path, IN_NM, 3, {"Laser Power": "300 mW", "Laser Wavelength": "785 nm"})
    s = read(p)
    assert s.meta["laser_wavelength_nm"][0] == 785.0
    np.testing.assert_allclose(s.wavenumbers, RAMAN, rtol=1e-5, atol=1e-2)
    p = _spc(tmp_path, RAMAN, 13, {"Laser Power (mW)": "250"})
    assert np.isnan(read(p).meta["laser_wavelength_nm"][0])
    assert main(["info", str(p)]) == 0
    assert "laser:" not in capsys.readouterr().out
    p = _spc(tmp_path, RAMAN, 13, {"Excitation Power": "250", "Excitation": "532 nm"})
    assert read(p).meta["laser_wavelength_nm"][0] == 532.0


@pytest.mark.parametrize("kind", ["spc-nm", "spc-um", "jdx-nm", "jdx-um"])
def test_laser_nm_converts_instrument_files_in_wavelengths_without_a_laser(tmp_path, capsys,
                                                                            kind):
    fmt, unit = kind.split("-")
    x = IN_NM / (1000.0 if unit == "um" else 1.0)
    p = (_spc(tmp_path, x, 3 if unit == "nm" else 2, {}) if fmt == "spc"
         else _jdx(tmp_path, x, "NANOMETERS" if unit == "nm" else "MICROMETERS", {}))
    s = read(p)  # Python: in nm, as the Ocean Insight and SIF readers leave it
    assert s.meta["x_units"][0] == "nm"
    np.testing.assert_allclose(s.wavenumbers, IN_NM, rtol=1e-6)
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    out = capsys.readouterr().out
    assert "  laser:     785 nm\n" in out
    assert f"axis:      {RAMAN[0]:.1f} to {RAMAN[-1]:.1f} cm-1" in out


# -- absolute wavenumbers ------------------------------------------------------------------

ABSOLUTE = 1e7 / LASER - RAMAN[::-1]  # ascending absolute wavenumbers of the scattered light


def test_laser_nm_converts_absolute_wavenumbers(tmp_path, capsys):
    p = tmp_path / "abs.txt"
    p.write_text("".join(f"{a:.4f}\t1.0\n" for a in ABSOLUTE))
    assert main(["info", str(p)]) == 0
    note = next(ln for ln in capsys.readouterr().out.splitlines() if "note:" in ln)
    assert "absolute wavenumbers" in note and "--laser-nm" in note
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    out = capsys.readouterr().out
    assert f"axis:      {RAMAN[0]:.1f} to {RAMAN[-1]:.1f} cm-1, descending" in out
    assert "note:" not in out
    # stated in cm-1 (JCAMP-DX ##XUNITS=1/CM) but above 4500: absolute, converted too
    assert main(["info", str(_jdx(tmp_path, ABSOLUTE, "1/CM", {})), "--laser-nm", "785"]) == 0
    assert f"axis:      {RAMAN[0]:.1f} to {RAMAN[-1]:.1f} cm-1" in capsys.readouterr().out
    # another laser: the axis gives no Raman shifts; the advice names both cases
    assert main(["info", str(p), "--laser-nm", "532"]) == 2
    err = capsys.readouterr().err
    assert "absolute wavenumbers" in err and "Drop --laser-nm" not in err
    assert "give the laser the spectra were measured with" in err


def test_an_even_axis_written_to_four_decimals_is_even():
    from ramancam.io import describe
    from ramancam.spectra import Spectra

    rounded = np.round(np.linspace(800.0, 1100.0, 1024), 4)  # steps 0.2932-0.2933
    assert describe(Spectra(np.ones((1, rounded.size)), rounded))["even"] is True
    ccd = 1e7 / 785 - 1e7 / np.linspace(800.0, 1100.0, 1024)  # a CCD even in nm
    assert describe(Spectra(np.ones((1, ccd.size)), ccd))["even"] is False


@pytest.mark.parametrize(("value", "nm"), [
    ("633 HeNe", 633.0), ("785 NIR", 785.0), ("532 Green", 532.0), ("785 stabilized", 785.0),
    ("HeNe 633", 633.0), ("100 mW, 785 nm", 785.0), ("785 nm, 100 mW", 785.0),
    ("12738.85 1/cm", 785.0), ("1.064 µm", 1064.0), ("250 mW", None), ("25 C", None),
    ("150 °C", None), ("1200 mA", None), ("100 %", None), ("500 ms", None), ("2 W", None),
    ("785 mm", None), ("HeNe", None),
    # a plain number before the wavelength (a channel, a laser's index) leaves it whole
    ("Laser 1 785 nm", 785.0), ("Line 2 532 nm", 532.0), ("Ch 3 633nm", 633.0),
    ("25 785 nm", 785.0),
    # a grating's groove density is no wavelength
    ("1800 l/mm", None), ("1200 gr/mm", None), ("600 lines/mm", None),
    ("600 gr/mm 785", 785.0)])
def test_laser_value_words(value, nm):
    from ramancam.io._vendor import laser_nm

    got = laser_nm(value)
    assert got == (None if nm is None else pytest.approx(nm, rel=1e-5)), value


def test_laser_named_by_its_kind_converts(tmp_path, capsys):
    p = _jdx(tmp_path, IN_NM, "NANOMETERS", {"$LASER": "633 HeNe"})
    assert read(p).meta["laser_wavelength_nm"][0] == 633.0
    p = tmp_path / "labspec.txt"
    p.write_text("#Acq. time (s)=\t10\n#Accumulations=\t2\n#Laser=\t633 HeNe\n"
                 + "".join(f"{a:.3f}\t1.0\n" for a in RAMAN))  # Horiba LabSpec
    assert read(p).meta["laser_wavelength_nm"][0] == "633"


def test_a_wrong_nm_title_is_no_dead_end(tmp_path, capsys):
    """An axis whose file says nm but that no laser turns into Raman shifts (200-1800 under
    'Wavelength (nm)'): the refusals say the unit was taken from the file and how to read it."""
    p = tmp_path / "s.txt"
    p.write_text(_two_column("Wavelength (nm)\tIntensity", np.linspace(200.0, 1800.0, 200)))
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: file {p} has its x axis in wavelengths (nm), as its "
                          "header says, but 200 to 1800 nm give Raman shifts with no laser")
    assert "give --laser-nm" not in err and "'Raman shift (cm-1)'" in err
    assert main(["info", str(p), "--laser-nm", "785"]) == 2
    err = capsys.readouterr().err
    assert "gives -37261 to 7183 cm-1" in err and "Drop --laser-nm if" not in err
    assert "header states the x unit as nm" in err and "'Raman shift (cm-1)'" in err
    # plausible wavelengths keep the plain advice
    p.write_text(_two_column("Wavelength (nm)\tIntensity"))
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
