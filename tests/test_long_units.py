"""Long map exports and long tables whose shift column's title states wavelengths."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.io import read
from ramancam.io.longmap import parse_long_map
from ramancam.io.longrows import open_long_rows
from ramancam.io.zarr_cube import open_cube

NM = np.linspace(800.0, 850.0, 20)
NM_REFUSAL = ("has its x axis in wavelengths (nm), as its header says; give --laser-nm NM "
              "(the excitation laser, e.g. 785) to convert it to Raman shift, or export the "
              "spectra in Raman shifts.")


def _long_map(title: str, x: np.ndarray = NM) -> str:
    """A 3 x 2 map, one row per (x, y, shift, intensity), the shift column titled ``title``."""
    rows = [f"{i}\t{j}\t{v:.6g}\t{100 + k + i + j}"
            for j in range(2) for i in range(3) for k, v in enumerate(x)]
    return f"#X\t#Y\t{title}\t#Intensity\n" + "\n".join(rows) + "\n"


def _tidy(title: str, x: np.ndarray = NM) -> str:
    rows = [f"s{i},A,{v:.3f},{100 + k + i}" for i in range(3) for k, v in enumerate(x)]
    return f"id,label,{title},intensity\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("title", ["#Wave (nm)", "Wave [nm]", "X-axis (nm)", "Shift"])
def test_long_map_with_a_shift_column_in_nm_needs_the_laser(tmp_path, capsys, monkeypatch,
                                                              title):
    # read as Raman shifts: 'info' said '800 to 850 cm-1', convert wrote a cube labelled cm-1
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.txt").write_text(_long_map(title))
    if title == "Shift":  # a title that says Raman shift: as before, cm-1 as written
        assert "x_units" not in read("m.txt").meta
        assert open_long_rows("m.txt") is not None
        assert main(["convert", "m.txt", "m.zarr"]) == 0
        assert open_cube(tmp_path / "m.zarr").wavenumbers[0] == pytest.approx(800.0)
        return
    assert read("m.txt").meta["x_units"][0] == "nm"
    assert main(["info", "m.txt"]) == 2
    assert capsys.readouterr().err == f"error: file m.txt {NM_REFUSAL}\n"
    assert open_long_rows("m.txt") is None  # read whole, where the unit is looked at
    assert main(["convert", "m.txt", "m.zarr"]) == 2
    assert NM_REFUSAL in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.txt"]
    assert main(["convert", "m.txt", "l.zarr", "--laser-nm", "785"]) == 0
    cube = open_cube(tmp_path / "l.zarr")
    assert cube.wavenumbers[0] == pytest.approx(1e7 / 785 - 1e7 / 800, abs=1e-3)


def test_long_map_in_micrometres_is_read_in_nm():
    s = parse_long_map(_long_map("#Wave (µm)", NM / 1000.0), source="m.txt")
    assert s.meta["x_units"][0] == "nm"
    assert s.wavenumbers == pytest.approx(NM, abs=1e-3)


@pytest.mark.parametrize("title", ["#Wave (nm)", "Wave [nm]", "Raman shift (cm-1)",
                                   "Wavenumber", "Shift", "#Wave"])
def test_long_table_with_a_shift_column_in_nm_needs_the_laser(tmp_path, capsys, title):
    p = tmp_path / "t.csv"
    p.write_text(_tidy(title))
    if "nm" not in title:  # titles that say Raman shift (or say nothing): cm-1 as before
        assert "x_units" not in read(p).meta
        assert main(["info", str(p)]) == 0
        return
    assert read(p).meta["x_units"].tolist() == ["nm"] * 3
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert f"{1e7 / 785 - 1e7 / 800:.1f} to" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["Wavelength (nm)", "#Wavelength (nm)", "wavelength_nm",
                                   "Wavelength", "lambda (nm)", "λ (nm)", "Wavelength_um"])
def test_long_map_with_a_wavelength_column_is_a_long_map_in_nm(tmp_path, capsys,
                                                                monkeypatch, title):
    # not taken for a long map: read as a wide table and refused with a thousands-separator
    # error ("got '802.632' in column '800.000'")
    monkeypatch.chdir(tmp_path)
    x = NM / 1000.0 if title.endswith("um") else NM
    (tmp_path / "m.txt").write_text(_long_map(title, x))
    s = read("m.txt")
    assert len(s) == 6 and s.meta["x_units"][0] == "nm"
    assert s.wavenumbers == pytest.approx(NM, abs=1e-3)
    assert main(["info", "m.txt"]) == 2
    assert capsys.readouterr().err == f"error: file m.txt {NM_REFUSAL}\n"
    assert open_long_rows("m.txt") is None
    assert main(["convert", "m.txt", "l.zarr", "--laser-nm", "785"]) == 0
    cube = open_cube(tmp_path / "l.zarr")
    assert cube.wavenumbers[0] == pytest.approx(1e7 / 785 - 1e7 / 800, abs=1e-3)


def test_comma_long_map_with_a_wavelength_column(tmp_path, capsys):
    p = tmp_path / "m.csv"
    p.write_text(_long_map("wavelength_nm").replace("\t", ",").replace("#", ""))
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert "6 spectra" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["Wavelength (nm)", "wavelength_nm", "Wavelength",
                                   "lambda (nm)"])
def test_long_table_with_a_wavelength_column_is_a_long_table_in_nm(tmp_path, capsys, title):
    # refused: "the header must name Raman shifts (numeric column names) for a wide table"
    p = tmp_path / "t.csv"
    p.write_text(_tidy(title))
    assert read(p).meta["x_units"].tolist() == ["nm"] * 3
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err == f"error: file {p} {NM_REFUSAL}\n"
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert f"{1e7 / 785 - 1e7 / 800:.1f} to" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["Wavelength (nm) Intensity", "Wavenumber (cm-1) Intensity"])
def test_two_column_titled_with_a_unit_between_spaces_is_no_long_table(tmp_path, title):
    # the unit, split off by the spaces, was taken for a third (id) column: "every row must
    # have 3 fields, as the header has; got 2"
    p = tmp_path / "s.txt"
    p.write_text(f"{title}\n" + "".join(f"{v:.3f} {k}\n" for k, v in enumerate(NM)))
    s = read(p)
    assert len(s) == 1 and len(s.wavenumbers) == len(NM)
    assert ("x_units" in s.meta) == ("nm" in title)


@pytest.mark.parametrize("title", ["Wave (cm-1)", "Wave (nm)"])
def test_long_map_with_a_spaced_header_and_a_unit(tmp_path, capsys, monkeypatch, title):
    # the unit, split off by the spaces, was taken for a fifth column: "every row must have
    # 5 fields ... got 4"
    monkeypatch.chdir(tmp_path)
    rows = [f"{i} {j} {v:.6g} {100 + k + i + j}"
            for j in range(2) for i in range(3) for k, v in enumerate(NM)]
    (tmp_path / "m.txt").write_text(f"X Y {title} Intensity\n" + "\n".join(rows) + "\n")
    s = read("m.txt")
    assert len(s) == 6 and s.wavenumbers == pytest.approx(NM, abs=1e-3)
    if "nm" not in title:
        assert "x_units" not in s.meta
        assert main(["info", "m.txt"]) == 0
        return
    assert s.meta["x_units"][0] == "nm"
    assert main(["info", "m.txt"]) == 2
    assert capsys.readouterr().err == f"error: file m.txt {NM_REFUSAL}\n"
    assert open_long_rows("m.txt") is None
    assert main(["info", "m.txt", "--laser-nm", "785"]) == 0
