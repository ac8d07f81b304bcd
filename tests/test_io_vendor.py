"""Instrument formats (Galactic SPC, JCAMP-DX, Renishaw WiRE .wdf, Bruker OPUS, Andor SIF) on
small files the tests write themselves, their errors and fuzzing, and the real files of
../shared/data."""

from __future__ import annotations

import io
import struct
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _vendor_files import (
    AXIS,
    jcamp_text,
    opus_bytes,
    peak_spectra,
    read_or_one_line_error,
    sif_bytes,
    spa_bytes,
    spc_bytes,
    spg_bytes,
    wdf_bytes,
)
from ramancam import RamancamError
from ramancam.cli import main
from ramancam.io import describe, file_format, read, read_opus, read_spc, read_wdf


def _one_line(e: pytest.ExceptionInfo[RamancamError]) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg == msg.strip()
    return msg


# --------------------------------------------------------------------------- readers


def test_spc_subfiles_become_spectra_with_metadata(tmp_path, rng):
    Y = peak_spectra(rng, 3)
    p = tmp_path / "cells.spc"
    p.write_bytes(spc_bytes(AXIS, Y, comment=b"E. coli", log={"Laser Wavelength": "532 nm"},
                            date=datetime(2024, 5, 6, 7, 8)))
    s = read(p)
    assert len(s) == 3 and s.has_common_axis
    np.testing.assert_allclose(s.wavenumbers, AXIS.astype(np.float32))
    np.testing.assert_allclose(s.X, Y)
    assert s.meta["title"].tolist() == ["E. coli"] * 3
    assert s.meta["instrument"][0] == "tester"
    assert s.meta["acquired"][0] == "2024-05-06T07:08:00"
    assert s.meta["laser_wavelength_nm"].tolist() == [532.0] * 3
    assert s.meta["subfile"].tolist() == [0, 1, 2]
    assert s.meta["Laser Wavelength"][0] == "532 nm"  # log-book entries kept as text
    assert s.sources.tolist() == [str(p)] * 3 and file_format(p) == "spc"


def test_spc_without_date_or_log(tmp_path, rng):
    p = tmp_path / "one.spc"
    p.write_bytes(spc_bytes(AXIS, peak_spectra(rng, 1)))
    s = read_spc(p)
    assert len(s) == 1 and s.meta["acquired"][0] == ""
    assert np.isnan(s.meta["laser_wavelength_nm"][0])


def test_spc_whose_header_does_not_account_for_its_bytes_is_refused(tmp_path, rng):
    # a cleared x-array flag or a halved point count read the x array as intensities (up to
    # 4e33) without a word; a log block after the data is fine
    good = bytearray(spc_bytes(AXIS, peak_spectra(rng, 1), log={"a": "b"}))
    (tmp_path / "good.spc").write_bytes(bytes(good))
    assert len(read(tmp_path / "good.spc")) == 1
    axis = np.linspace(100.0, 2000.0, 1024)  # as the bacteria files
    y = rng.random((1, 1024))
    noflag = bytearray(spc_bytes(axis, y))
    noflag[0] &= 0x7F
    half = bytearray(spc_bytes(axis, y))
    half[4:8] = (512).to_bytes(4, "little")
    raw = bytearray(spc_bytes(axis, y))
    end = int.from_bytes(raw[248:252], "little")
    raw[248:252] = bytes(4)  # no log block (as the bacteria files): the data end the file
    tail = bytes(raw[:end]) + bytes(5000)
    (tmp_path / "nolog.spc").write_bytes(bytes(raw[:end]))
    assert len(read(tmp_path / "nolog.spc")) == 1
    for name, data in (("noflag", noflag), ("half", half), ("tail", tail)):
        (tmp_path / f"{name}.spc").write_bytes(bytes(data))
        with pytest.raises(RamancamError, match=f"{name}.spc must end its data where its "
                                                r"header says .* bytes more"):
            read(tmp_path / f"{name}.spc")


def test_spc_with_one_axis_per_subfile(tmp_path):
    # the XYXY layout (TXYXYS): every sub-file has its own x array
    from spc_io import SPC

    spc = SPC(xarray=None)
    axes = [np.linspace(400, 1800, 30), np.linspace(410, 1700, 40)]
    for z, a in enumerate(axes):
        spc.add_subfile(xarray=a.astype(np.float32), yarray=np.full(a.size, z + 1.0, np.float32),
                        z=float(z))
    p = tmp_path / "xy.spc"
    p.write_bytes(spc.to_spc_raw().to_bytes())
    s = read(p)
    assert not s.has_common_axis and [a.size for a in s.axes] == [30, 40]
    np.testing.assert_allclose(s.axes[1], axes[1].astype(np.float32))
    assert s.intensities[1].tolist() == [2.0] * 40


@pytest.mark.parametrize("z_step", [None, -5.0])
def test_spc_series_keeps_the_file_order_and_its_z_values(tmp_path, rng, z_step):
    # a cooling series (z falling: ordered sub-files, or a negative z step) was sorted by z,
    # so spectrum 0 was the file's last sub-file and ``subfile`` named the wrong one
    Y = peak_spectra(rng, 3) + np.array([[0.0], [100.0], [200.0]], np.float32)
    p = tmp_path / "cooling.spc"
    p.write_bytes(spc_bytes(AXIS, Y, z=[300.0, 295.0, 290.0], z_step=z_step))
    s = read(p)
    np.testing.assert_allclose(s.X, Y)
    assert s.meta["subfile"].tolist() == [0, 1, 2]
    assert s.meta["subfile_z"].tolist() == [300.0, 295.0, 290.0]
    p.write_bytes(spc_bytes(AXIS, Y[:1]))
    assert np.isnan(read(p).meta["subfile_z"]).all()  # one spectrum: no z axis


def test_spc_unknown_x_unit_code_is_one_line(tmp_path, rng):
    data = bytearray(spc_bytes(AXIS, peak_spectra(rng, 1)))
    data[28] = 200  # fxtype: no SPC unit code
    p = tmp_path / "odd.spc"
    p.write_bytes(bytes(data))
    with pytest.raises(RamancamError) as e:
        read(p)
    assert _one_line(e) == (
        f"file {p} must have an x-axis unit code SPC defines (fxtype, byte 28); got 200, "
        "which is none of SPC's codes (a damaged header or a non-standard writer). "
        "Re-export it with a Raman-shift (cm-1) x axis.")


@pytest.mark.parametrize("form", ["XYDATA", "XYPOINTS"])
def test_jcamp_both_data_forms(tmp_path, rng, form):
    y = peak_spectra(rng, 1)[0].astype(np.float64)
    p = tmp_path / "s.jdx"
    p.write_text(jcamp_text(AXIS, y, title="quartz", form=form,
                            extra={"$LASER WAVELENGTH": "785", "LONGDATE": "2021/03/04 05:06:07",
                                   "OWNER": "lab 2"}))
    s = read(p)
    assert len(s) == 1
    np.testing.assert_allclose(s.wavenumbers, AXIS)
    np.testing.assert_allclose(s.X[0], y, rtol=1e-12)
    assert s.meta["title"][0] == "quartz" and s.meta["owner"][0] == "lab 2"
    assert s.meta["laser_wavelength_nm"][0] == 785.0
    assert s.meta["acquired"][0].startswith("2021-03-04T05:06:07")
    assert describe(s)["formats"] == {"JCAMP-DX": 1}


def test_a_letter_in_a_jcamp_table_of_plain_numbers_is_refused(tmp_path, rng):
    # the library reads letters as compressed digits: a damaged value 'A' became 1.0
    text = jcamp_text(AXIS, peak_spectra(rng, 1)[0]).split("\n")
    row = next(i for i, t in enumerate(text) if t.startswith("##XYDATA")) + 4
    cells = text[row].split(" ")
    text[row] = " ".join([*cells[:2], "A", *cells[3:]])
    (tmp_path / "bad.jdx").write_text("\n".join(text), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"bad\.jdx, line {row + 1}: a data table of plain "
                                            r"numbers must hold only numbers; got 'A'"):
        read(tmp_path / "bad.jdx")
    # compressed tables (letters on every line) are the library's to decode
    sqz = ("##TITLE=s\n##JCAMP-DX=5.01\n##XUNITS=1/CM\n##YUNITS=ARBITRARY UNITS\n"
           "##FIRSTX=400\n##LASTX=409\n##NPOINTS=10\n##XFACTOR=1\n##YFACTOR=1\n"
           "##XYDATA=(X++(Y..Y))\n" + "".join(f"{400 + i}A\n" for i in range(10))
           + "##END=\n")
    (tmp_path / "sqz.jdx").write_text(sqz, encoding="ascii")
    assert read(tmp_path / "sqz.jdx").X.tolist() == [[1.0] * 10]


def test_jcamp_compound_file_nanometres_and_text_suffix(tmp_path, rng):
    y = peak_spectra(rng, 2).astype(np.float64)
    nm = 1e7 / (1e7 / 785.0 - AXIS)  # the Raman shifts of AXIS as absolute wavelengths
    blocks = [jcamp_text(AXIS, y[0], title="a"),
              jcamp_text(nm, y[1], title="b", form="XYPOINTS",  # uneven x: pairs
                         extra={"XUNITS": "NANOMETERS", "LASER WAVELENGTH": "785"})]
    link = "##TITLE=both\n##JCAMP-DX=5.01\n##DATA TYPE=LINK\n##BLOCKS=2\n" + "".join(blocks)
    p = tmp_path / "both.txt"  # JCAMP-DX content behind a text suffix is still recognised
    p.write_text(link + "##END=\n")
    s = read(p, labels_from="header:TITLE")
    assert len(s) == 2 and s.labels.tolist() == ["a", "b"]
    np.testing.assert_allclose(s.axes[1], AXIS, rtol=1e-9)  # converted to Raman shift
    assert file_format(p) == "jcamp"


def test_wdf_map_positions_and_metadata(tmp_path, rng):
    Y = peak_spectra(rng, 4)
    xy = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5], [1.5, 1.5]])
    p = tmp_path / "map.wdf"
    p.write_bytes(wdf_bytes(AXIS[::-1], Y, xy=xy, laser_nm=532.0, title="map 7"))
    s = read(p)
    assert len(s) == 4
    np.testing.assert_allclose(s.wavenumbers, AXIS[::-1].astype(np.float32))
    np.testing.assert_array_equal(s.X, Y)
    # the contract with the map code: float columns x and y, one value per spectrum
    assert s.meta["x"].dtype == np.float64 and s.meta["y"].dtype == np.float64
    np.testing.assert_array_equal(np.c_[s.meta["x"], s.meta["y"]], xy)
    assert s.meta["title"][0] == "map 7" and s.meta["measurement"][0] == "Map"
    assert s.meta["laser_wavelength_nm"][0] == pytest.approx(532.0, rel=1e-6)
    assert s.meta["acquired"][1].startswith("2019-")
    assert s.meta["spectrum"].tolist() == [0, 1, 2, 3]


def test_a_wdf_map_cut_before_its_positions_is_refused(tmp_path, rng):
    # cut before ORGN, a line scan was read as 235 spectra without positions, no longer a map
    Y = peak_spectra(rng, 4)
    xy = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5], [1.5, 1.5]])
    whole = wdf_bytes(AXIS, Y, xy=xy)
    from wdf import WdfBlockId

    orgn = whole.rfind(struct.pack("<I", WdfBlockId.ORIGIN))  # the last block: positions
    p = tmp_path / "cut.wdf"
    p.write_bytes(whole[:orgn])
    with pytest.raises(RamancamError, match=r"cut\.wdf must hold an ORGN block \(the pixel "
                                            r"positions\)"):
        read(p)
    one = wdf_bytes(AXIS, Y[:1])  # a single spectrum keeps being read without it
    (tmp_path / "one.wdf").write_bytes(one[:one.rfind(struct.pack("<I", WdfBlockId.ORIGIN))])
    assert len(read(tmp_path / "one.wdf")) == 1


def test_a_wdf_x_list_shorter_than_its_points_is_named(tmp_path, rng):
    # 50 x values for 57 points: the library read the next block's bytes as the last 7
    # Raman shifts, and the error spoke of a repeated 0 cm-1, not of the x list
    from ramancam.io.wdf import open_wdf_rows

    p = tmp_path / "short.wdf"
    p.write_bytes(wdf_bytes(AXIS[:50], peak_spectra(rng, 2), xy=np.zeros((2, 2))))
    for reader in (read, open_wdf_rows):
        with pytest.raises(RamancamError) as e:
            reader(p)
        assert _one_line(e) == (
            f"file {p} must hold one Raman shift per point in its XLIST block (57 points, "
            "the header's npoints); got 50 x values: the file is truncated or damaged. "
            "Re-export it.")


def test_a_wdf_block_of_size_zero_is_refused_not_looked_through_for_ever(tmp_path, rng):
    # renishaw-wdf's find_section steps from block to block by each block's size: a size of
    # 0 (the header's, or the DATA block's) kept it on one block for ever, and info, convert
    # and every other reading command hung. Run in a child with a time limit.
    from _isolated import ramancam_child

    good = wdf_bytes(AXIS, peak_spectra(rng, 2), xy=np.zeros((2, 2)))
    ylist = 512 + (16 + 2 * AXIS.size * 4) + (16 + 8 + AXIS.size * 4)  # after DATA, XLIST
    # the header's size; DATA's; one short of a block header; YLST's (before ORGN, positions)
    cases = (("head.wdf", 0, 0, "WDF1"), ("data.wdf", 512, 0, "DATA"),
             ("small.wdf", 512, 15, "DATA"), ("ylist.wdf", ylist, 0, "YLST"))
    argvs = []
    for name, at, size, _ in cases:
        damaged = bytearray(good)
        struct.pack_into("<Q", damaged, at + 8, size)
        (tmp_path / name).write_bytes(bytes(damaged))
        argvs += [["info", tmp_path / name], ["convert", tmp_path / name, tmp_path / "o.csv"],
                  ["convert", tmp_path / name, tmp_path / "o.zarr"]]
    runs = ramancam_child(*argvs)
    for k, (name, at, size, block) in enumerate(cases):
        for rc, err in runs[3 * k:3 * k + 3]:
            assert rc == 2 and err == (
                f"error: file {tmp_path / name} must have blocks of at least their 16-byte "
                f"header; the block at byte {at} ({block}) gives a size "
                f"of {size} bytes: the file is damaged. Re-export it from WiRE.\n"), err


def test_a_signalling_nan_in_a_sif_file_is_refused_without_a_numpy_warning(tmp_path, rng):
    # sif.py's cast to float64 printed "RuntimeWarning: invalid value encountered in cast"
    # with its source line before the right one-line error
    import warnings

    Y = peak_spectra(rng, 2)
    Y.view(np.uint32)[1, 5] = 0x7FA00000  # a signalling NaN, as damaged bytes may be
    p = tmp_path / "snan.sif"
    p.write_bytes(sif_bytes(Y))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RamancamError, match=r"snan\.sif must hold finite values and "
                                                r"calibration; got NaN or infinite ones"):
            read(p)


def test_a_wdf_with_nan_names_the_file_once(tmp_path, rng):
    Y = peak_spectra(rng, 2)
    Y[1, 3] = np.nan
    (tmp_path / "nan.wdf").write_bytes(wdf_bytes(AXIS, Y, xy=np.zeros((2, 2))))
    with pytest.raises(RamancamError) as err:
        read(tmp_path / "nan.wdf")
    assert str(err.value).count("nan.wdf") == 1 and "must be finite; got nan" in str(err.value)


def test_wdf_rows_are_read_when_indexed_and_equal_the_whole_read(tmp_path, rng):
    from ramancam.io.wdf import open_wdf_rows

    Y = peak_spectra(rng, 9)
    xy = np.column_stack([np.arange(9.0) % 3, np.arange(9.0) // 3])
    p = tmp_path / "map.wdf"
    p.write_bytes(wdf_bytes(AXIS[::-1], Y, xy=xy, laser_nm=532.0, title="map 8"))
    whole = read(p)
    rows = open_wdf_rows(p)
    assert rows is not None and rows.X.shape == (9, AXIS.size) and len(rows.X) == 9
    np.testing.assert_array_equal(rows.axis, whole.wavenumbers)
    for k in ("x", "y", "title", "acquired", "spectrum"):
        np.testing.assert_array_equal(rows.meta[k], whole.meta[k])
    # runs of consecutive rows and single rows, as a tile asks for them
    idx = np.array([0, 1, 2, 5, 7, 8])
    np.testing.assert_array_equal(rows.X[idx], whole.X[idx].astype(np.float32))
    assert rows.X[np.array([], dtype=int)].shape == (0, AXIS.size)
    with pytest.raises(IndexError, match="ascending"):
        rows.X[np.array([3, 2])]
    with pytest.raises(IndexError, match="ascending"):
        rows.X[np.array([9])]
    import gzip

    (tmp_path / "map.wdf.gz").write_bytes(gzip.compress(p.read_bytes()))
    assert open_wdf_rows(tmp_path / "map.wdf.gz") is None  # read whole instead
    (tmp_path / "text.wdf").write_text("x,y\n1,2\n")
    with pytest.raises(RamancamError, match="must be a Renishaw WiRE file"):
        open_wdf_rows(tmp_path / "text.wdf")


def test_wdf_interrupted_map_keeps_collected_spectra(tmp_path, rng):
    p = tmp_path / "cut.wdf"
    p.write_bytes(wdf_bytes(AXIS, peak_spectra(rng, 3), n_collected=2))
    assert len(read_wdf(p)) == 2


def test_opus_raman_spectrum_with_metadata(tmp_path, rng):
    # an FT-Raman file as OPUS saves it: the axis descending, Nd:YAG laser, 300 mW
    y = peak_spectra(rng, 1)[0]
    p = tmp_path / "tablet_A.0"
    p.write_bytes(opus_bytes(AXIS[::-1], y[::-1], sample={
        "SNM": "tablet A", "SFM": "powder", "CNM": "Duran", "INS": "MultiRAM", "NSS": 64}))
    s = read(p)
    assert len(s) == 1 and s.has_common_axis and file_format(p) == "opus"
    np.testing.assert_allclose(s.wavenumbers, AXIS[::-1])  # kept as stored
    np.testing.assert_array_equal(s.X[0], y[::-1])
    m = {k: v[0] for k, v in s.meta.items()}
    assert (m["title"], m["sample_form"], m["operator"], m["instrument"]) == (
        "tablet A", "powder", "Duran", "MultiRAM")
    assert m["acquired"] == "2026-12-05T10:11:12" and m["scans"] == 64.0
    assert m["laser_wavelength_nm"] == pytest.approx(1064.5, abs=0.1)  # 1e7 / 9394 cm-1
    assert m["laser_power_mw"] == 300.0 and m["opus_block"] == "Raman" and m["spectrum"] == 0
    assert s.sources.tolist() == [str(p)]


def test_opus_series_rows_become_spectra(tmp_path, rng):
    Y = peak_spectra(rng, 4)
    p = tmp_path / "sequence.opus"
    p.write_bytes(opus_bytes(AXIS, Y, series=True, optics={"RLP": 50.0}))
    s = read_opus(p)
    assert len(s) == 4 and s.meta["spectrum"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(s.X, Y)
    assert s.meta["opus_block"][0] == "Raman (Series)"
    assert np.isnan(s.meta["laser_wavelength_nm"]).all()  # no laser wavenumber in the file


def test_opus_files_that_hold_no_raman_spectrum_are_refused(tmp_path, rng):
    ir = tmp_path / "ftir.0"
    ir.write_bytes(opus_bytes(AXIS, peak_spectra(rng, 1), spectrum_type=4))
    with pytest.raises(RamancamError, match=r"ftir\.0 must hold a Raman spectrum \(an OPUS "
                       r"Raman block\); it holds Absorbance\. Save the Raman") as e:
        read(ir)
    _one_line(e)
    micro = tmp_path / "micro.1"
    micro.write_bytes(opus_bytes(AXIS, peak_spectra(rng, 1), x_units="MI"))
    with pytest.raises(RamancamError, match=r"micro\.1 must have its Raman block on a "
                       r"wavenumber axis \(OPUS unit WN\); got 'MI'"):
        read(micro)


def test_folder_of_opus_files_labelled_by_folder(tmp_path, rng, capsys):
    for product in ("A", "B"):
        (tmp_path / product).mkdir()
        for k in range(3):
            (tmp_path / product / f"batch{k}.{k}").write_bytes(
                opus_bytes(AXIS[::-1], peak_spectra(rng, 1)[0][::-1]))
    s = read(tmp_path, labels_from="folder")
    assert len(s) == 6 and s.class_counts() == {"A": 3, "B": 3}
    assert describe(s)["formats"] == {"Bruker OPUS": 6}
    assert main(["info", str(tmp_path), "--labels-from", "folder"]) == 0
    out = capsys.readouterr().out
    assert "Bruker OPUS" in out and "classes:   2: A (3), B (3)" in out


def test_sif_frames_on_the_stored_laser_raman_shift(tmp_path, rng):
    # a kinetic series of 3 frames, calibrated 790.2-802.8 nm, excited at 785 nm
    Y = peak_spectra(rng, 3)
    p = tmp_path / "kinetic.sif"
    p.write_bytes(sif_bytes(Y, coefficients=(790.0, 0.2, 0.0, 0.0)))
    s = read(p)
    assert len(s) == 3 and s.has_common_axis and file_format(p) == "sif"
    nm = 790.0 + 0.2 * np.arange(1, AXIS.size + 1)
    np.testing.assert_allclose(s.wavenumbers, 1e7 / 785.0 - 1e7 / nm)
    np.testing.assert_array_equal(s.X, Y)
    m = {k: v[0] for k, v in s.meta.items()}
    assert (m["instrument"], m["title"], m["x_units"]) == ("DU420_BVF", "orig.sif",
                                                          "cm-1 (from nm)")
    assert m["laser_wavelength_nm"] == 785.0 and m["exposure_s"] == 1.0
    assert m["acquired"] == "2024-12-05T09:13:20" and s.meta["spectrum"].tolist() == [0, 1, 2]


def test_sif_without_a_laser_stays_in_nm_until_laser_nm(tmp_path, rng, capsys):
    p = tmp_path / "nm.sif"
    p.write_bytes(sif_bytes(peak_spectra(rng, 1), coefficients=(790.0, 0.2), raman_nm="0"))
    s = read(p)
    assert s.meta["x_units"][0] == "nm" and s.wavenumbers[0] == pytest.approx(790.2)
    assert main(["info", str(p)]) == 2
    assert "has its x axis in wavelengths (nm)" in capsys.readouterr().err
    assert main(["info", str(p), "--laser-nm", "785"]) == 0
    assert "laser:     785 nm" in capsys.readouterr().out


def test_sif_multi_track_frames_give_one_spectrum_per_track(tmp_path, rng, capsys):
    # two tracks per frame were refused as "images of 2 rows. Bin the rows in Solis"
    Y = peak_spectra(rng, 6)  # 3 frames of 2 tracks, frame by frame
    p = tmp_path / "tracks.sif"
    p.write_bytes(sif_bytes(Y.reshape(3, -1), tracks=2))
    s = read(p)
    assert len(s) == 6 and s.has_common_axis
    nm = 780.0 + 0.2 * np.arange(1, AXIS.size + 1)  # each track's pixels 1..width
    np.testing.assert_allclose(s.wavenumbers, 1e7 / 785.0 - 1e7 / nm)
    np.testing.assert_array_equal(s.X, Y)
    assert s.meta["spectrum"].tolist() == [0, 0, 1, 1, 2, 2]
    assert s.meta["track"].tolist() == [0, 1, 0, 1, 0, 1]
    (tmp_path / "one.sif").write_bytes(sif_bytes(Y[:2]))
    assert "track" not in read(tmp_path / "one.sif").meta
    assert main(["info", str(p)]) == 0 and "spectra:   6" in capsys.readouterr().out
    # tracks of more than one row each: still images, said as tracks
    (tmp_path / "tall.sif").write_bytes(sif_bytes(Y[:4].reshape(1, -1), tracks=2, height=2))
    with pytest.raises(RamancamError, match=r"tall\.sif must hold spectra .* got 2 tracks of 2 "
                                            r"rows each\. Bin each track's rows in Solis") as e:
        read(tmp_path / "tall.sif")
    _one_line(e)


def test_sif_files_that_hold_no_calibrated_spectra_are_refused(tmp_path, rng):
    cases = {
        "pixels.sif": (sif_bytes(peak_spectra(rng, 1), coefficients=(0.0, 1.0, 0.0, 0.0)),
                       r"pixels\.sif must carry a wavelength calibration"),
        "image.sif": (sif_bytes(peak_spectra(rng, 2).reshape(1, -1), height=2),
                      r"image\.sif must hold spectra .* got images of 2 rows"),
        "shift.sif": (sif_bytes(peak_spectra(rng, 1), coefficients=(100.0, 5.0)),
                      r"shift\.sif: its calibration must be wavelengths that the stored 785 "
                      r"nm laser turns into Raman shifts"),
    }
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RamancamError, match=match) as e:
            read(tmp_path / name)
        _one_line(e)


def test_folder_of_instrument_files_with_labels_and_groups(tmp_path, rng):
    for rep in (1, 2):
        for phase in ("lag", "stat"):
            data = spc_bytes(AXIS, peak_spectra(rng, 2))
            (tmp_path / f"x_rep{rep}_{phase}.spc").write_bytes(data)
    (tmp_path / "x_rep3_lag.wdf").write_bytes(
        wdf_bytes(AXIS, peak_spectra(rng, 2), xy=np.zeros((2, 2))))
    s = read(tmp_path, labels_from="regex:_(lag|stat)", groups_from=r"regex:_(rep\d)_")
    assert len(s) == 10 and s.class_counts() == {"lag": 6, "stat": 4}
    assert sorted(set(s.meta["group"].tolist())) == ["rep1", "rep2", "rep3"]
    # numeric metadata stays numeric across files (NaN where a file has no positions)
    assert s.meta["x"].dtype == np.float64 and np.isnan(s.meta["x"][:8]).all()
    assert s.meta["laser_wavelength_nm"].dtype == np.float64
    assert describe(s)["formats"] == {"Galactic SPC": 4, "Renishaw WiRE WDF": 1}


def test_groups_from_manifest_and_errors(tmp_path, rng):
    for name in ("a.spc", "b.spc"):
        (tmp_path / name).write_bytes(spc_bytes(AXIS, peak_spectra(rng, 1)))
    (tmp_path / "g.csv").write_text("file,group\na.spc,g1\nb.spc,g2\n")
    s = read(tmp_path, groups_from="manifest:g.csv")
    assert s.meta["group"].tolist() == ["g1", "g2"]
    (tmp_path / "g.csv").write_text("file,group\na.spc,g1\n")
    with pytest.raises(RamancamError, match=r"b\.spc must be listed in the groups manifest"):
        read(tmp_path, groups_from="manifest:g.csv")
    with pytest.raises(RamancamError, match=r"groups_from must be one of folder, header:KEY"):
        read(tmp_path, groups_from="guess")
    with pytest.raises(RamancamError, match=r"file names must match the regex of groups_from="):
        read(tmp_path, groups_from=r"regex:rep(\d)")


def test_folder_of_wide_tables_with_label_column_keeps_each_axis(tmp_path):
    (tmp_path / "p1.csv").write_text("id,label,patient,400,500,600\na,AD,p1,1,2,3\nb,AD,p1,1,2,4\n")
    (tmp_path / "p2.csv").write_text("id,label,patient,401,501,601\nc,PD,p2,1,2,3\nd,,p2,2,2,2\n")
    s = read(tmp_path, label_col="label")
    assert s.labels.tolist() == ["AD", "AD", "PD", ""]
    assert not s.has_common_axis and s.axes[2].tolist() == [401.0, 501.0, 601.0]
    assert s.meta["patient"].tolist() == ["p1", "p1", "p2", "p2"]
    d = describe(s)
    assert d["classes"] == {"AD": 2, "PD": 1} and d["n_unlabelled"] == 1
    with pytest.raises(RamancamError, match="labels must come from one place"):
        read(tmp_path, label_col="label", labels_from="folder")


# --------------------------------------------------------------------------- errors


def _bad_files(tmp_path: Path, rng: np.random.Generator) -> dict[str, tuple[Path, str]]:
    good_spc = spc_bytes(AXIS, peak_spectra(rng, 2))
    good_wdf = wdf_bytes(AXIS, peak_spectra(rng, 2))
    good_jdx = jcamp_text(AXIS, peak_spectra(rng, 1)[0].astype(float))
    good_opus = opus_bytes(AXIS, peak_spectra(rng, 1))
    good_sif = sif_bytes(peak_spectra(rng, 2))
    cases = {
        "spc_truncated": ("t.spc", good_spc[:700], r"t\.spc must hold the 2 spectra of 57 points"),
        "spc_header_cut": ("h.spc", good_spc[:100], r"h\.spc must be a Galactic SPC file with a "
                                                    r"512-byte header; got 100 bytes"),
        "spc_text": ("text.spc", b"400,1.0\n500,2.0\n", r"text\.spc must be a Galactic SPC "
                                                       r"\(binary\) file; got text content"),
        "spc_random": ("r.spc", bytes(rng.integers(0, 256, 600, dtype=np.uint8)),
                       r"r\.spc must be"),
        "spc_old_format": ("old.spc", good_spc[:1] + b"\x4d" + good_spc[2:],
                           r"old\.spc must be a new-format LSB-first SPC file .*old \(0x4D\)"),
        "wdf_truncated": ("t.wdf", good_wdf[:600], r"t\.wdf must hold the 2 spectra of 57 "
                                                   r"points its header announces"),
        "wdf_no_xlist": ("x.wdf", good_wdf[:512 + 16 + 2 * 57 * 4],
                         r"x\.wdf must hold an XLIST block \(the Raman shifts\)"),
        "wdf_garbled": ("g.wdf", good_wdf[:520] + b"\xff" * 8 + good_wdf[528:],
                        r"g\.wdf must be a valid Renishaw WiRE \(\.wdf\) file; the reader "
                        r"failed \(\w+"),
        "wdf_data_cut": ("d.wdf", good_wdf[:512 + 16 + 100] + good_wdf[512 + 16 + 2 * 57 * 4:],
                         r"d\.wdf must hold the 2 spectra .*holds 440 of 456 bytes"),
        "wdf_text": ("text.wdf", b"hello\n", r"text\.wdf must be a Renishaw WiRE file "
                                             r"\(starting with 'WDF1'\); got text content"),
        "wdf_empty": ("e.wdf", b"", r"e\.wdf must be a Renishaw WiRE file .*got an empty file"),
        "jdx_truncated": ("t.jdx", good_jdx[: len(good_jdx) // 2].encode(),
                          r"t\.jdx: the data table must have as many values as its header"),
        "jdx_not_jcamp": ("n.jdx", b"400\t1\n500\t2\n", r"n\.jdx must be JCAMP-DX text "
                                                      r"starting with ##TITLE="),
        "jdx_binary": ("b.dx", b"\x00\x01\x02", r"b\.dx must be JCAMP-DX text"),
        "jdx_no_data": ("h.jdx", b"##TITLE=x\n##JCAMP-DX=5.01\n##END=\n",
                        r"h\.jdx must hold a ##XYDATA= or ##XYPOINTS= data table"),
        "opus_truncated": ("t.0", good_opus[:400], r"t\.0 must hold the block its directory "
                                                   r"places at bytes 328 to 556; got 400 bytes"),
        "opus_directory_cut": ("d.0", good_opus[:30], r"d\.0 must hold its whole directory"),
        "opus_text": ("x.1", b"400,1.0\n500,2.0\n", r"x\.1 must be a Bruker OPUS file \(its "
                                                     r"suffix \.1 says so.*got text content"),
        "opus_header": ("h.0", good_opus[:4] + b"\xff" * 20 + good_opus[24:],
                        r"h\.0 must be a Bruker OPUS file with a valid header"),
        "sif_truncated": ("t.sif", good_sif[:-100], r"t\.sif must be a valid Andor SIF "
                                                     r"\(\.sif\) file; the reader failed"),
        # sif_parser alone loops for ever on a header cut short; the reader stops it
        "sif_header_cut": ("h.sif", good_sif[:60], r"h\.sif must be a valid Andor SIF "
                                                   r"\(\.sif\) file; the reader failed "
                                                   r"\(EOFError: the file ends inside"),
        "sif_text": ("x.sif", b"400 1\n500 2\n", r"x\.sif must be an Andor SIF file "
                                                 r"\(starting with .*got text content"),
    }
    out = {}
    for key, (name, data, match) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        out[key] = (p, match)
    return out


def test_bad_files_raise_one_line_naming_the_file(tmp_path, rng):
    for key, (p, match) in _bad_files(tmp_path, rng).items():
        with pytest.raises(RamancamError, match=match) as e:
            read(p)
        assert str(p) in _one_line(e), key


def test_bad_files_on_the_command_line(tmp_path, rng, capsys):
    for p, _ in _bad_files(tmp_path, rng).values():
        assert main(["info", str(p)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and str(p) in err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_label_col_on_an_instrument_file(tmp_path, rng):
    p = tmp_path / "a.spc"
    p.write_bytes(spc_bytes(AXIS, peak_spectra(rng, 1)))
    with pytest.raises(RamancamError, match=r"label_col applies to wide tables; got the SPC"):
        read(p, label_col="label")


def test_omnic_raman_spectrum_with_metadata(tmp_path, rng, capsys):
    y = peak_spectra(rng, 1)[0]
    p = tmp_path / "bead.spa"
    p.write_bytes(spa_bytes(150.0, 150.0 + y.size - 1, y, when=3_942_000_000, scans=32))
    assert file_format(p) == "omnic"
    s = read(p)
    np.testing.assert_array_equal(s.wavenumbers, 150.0 + np.arange(y.size))
    np.testing.assert_array_equal(s.X[0], y.astype(np.float32))
    assert {k: s.meta[k][0] for k in s.meta} == {
        "title": "PS bead", "acquired": "2024-11-30T00:00:00", "scans": 32.0,
        "y_units": "Raman intensity", "x_units": "cm-1", "spectrum": 0}
    assert main(["info", str(p)]) == 0
    assert "  format:    Thermo OMNIC" in capsys.readouterr().out
    # FT-Raman: Raman intensity against wavenumbers; points OMNIC blanked are left out
    z = y.astype(np.float32).copy()
    z[10:13] = np.nan
    p.write_bytes(spa_bytes(3500.0, 3500.0 - y.size + 1, z, x_unit=1))
    s = read(p)
    assert s.n_points == y.size - 3 and s.wavenumbers[0] == 3500.0
    # wavelengths: kept in nm until --laser-nm converts them
    p.write_bytes(spa_bytes(790.0, 800.0, y, x_unit=3))
    assert read(p).meta["x_units"][0] == "nm"


def test_omnic_group_of_spectra(tmp_path, rng):
    Y = peak_spectra(rng, 3)
    n = Y.shape[1]
    p = tmp_path / "group.spg"
    p.write_bytes(spg_bytes([(100.0, 100.0 + n - 1, y) for y in Y], ["a1", "a2", "b1"]))
    s = read(p)
    assert s.has_common_axis and s.X.shape == (3, n)
    np.testing.assert_array_equal(s.X, Y.astype(np.float32))
    assert s.meta["title"].tolist() == ["a1", "a2", "b1"]
    assert s.meta["spectrum"].tolist() == [0, 1, 2]
    # spectra on different ranges keep their own axes
    p.write_bytes(spg_bytes([(100.0, 100.0 + n - 1, Y[0]), (90.0, 90.0 + n - 1, Y[1])],
                            ["a", "b"]))
    s = read(p)
    assert not s.has_common_axis and s.axes[1][0] == 90.0
    # a group cut short, and one whose last intensities are missing from its directory
    good = spg_bytes([(100.0, 100.0 + n - 1, y) for y in Y], ["a1", "a2", "b1"])
    (tmp_path / "cut.spg").write_bytes(good[:-100])
    with pytest.raises(RamancamError, match=r"cut\.spg must hold its spectrum names inside"):
        read(tmp_path / "cut.spg")
    short = bytearray(good)
    short[294:296] = (3 * 3 - 2).to_bytes(2, "little")  # the last two entries not counted
    (tmp_path / "short.spg").write_bytes(bytes(short))
    with pytest.raises(RamancamError, match=r"short\.spg must hold a spectrum; got no "
                                            r"intensities for each of its 3 spectral headers"):
        read(tmp_path / "short.spg")


def test_omnic_files_that_hold_no_raman_spectrum_are_refused(tmp_path, rng):
    y = peak_spectra(rng, 1)[0]
    good = spa_bytes(150.0, 300.0, y)
    cases = {
        "ir.spa": (spa_bytes(4000.0, 400.0, y, x_unit=1, y_unit=17),
                   r"ir\.spa must hold a Raman spectrum .*; got absorbance against "
                   r"wavenumbers \(cm-1\) \(an infrared spectrum\)"),
        "ifg.spa": (spa_bytes(0.0, 100.0, y, x_unit=2, y_unit=22),
                    r"got detector volts against data points \(an interferogram\)"),
        "text.spa": (b"shift,intensity\n1,2\n", r"text\.spa must be a Thermo OMNIC \.spa "
                     r"file, which starts with 'Spectral Data File'; got text content"),
        "cut.spa": (good[:700], r"cut\.spa must hold its intensities inside the file; got a "
                    r"file of 700 bytes"),
        "short.spa": (good[:310], r"short\.spa must hold its directory inside the file"),
        "odd.spa": (good[:512 + 4] + (7).to_bytes(4, "little") + good[520:],
                    r"odd\.spa must hold as many intensities as its header's 7 points; got "
                    + str(y.size)),
    }
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RamancamError, match=match) as e:
            read(tmp_path / name)
        _one_line(e)


# --------------------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

_GOOD: dict[str, bytes] = {}


def _good(suffix: str) -> bytes:
    if not _GOOD:
        r = np.random.default_rng(0)
        _GOOD[".spc"] = spc_bytes(AXIS, peak_spectra(r, 2), log={"laser": "785"})
        _GOOD[".wdf"] = wdf_bytes(AXIS, peak_spectra(r, 2), xy=np.ones((2, 2)))
        _GOOD[".jdx"] = jcamp_text(AXIS, peak_spectra(r, 1)[0].astype(float)).encode()
        _GOOD[".0"] = opus_bytes(AXIS, peak_spectra(r, 2), series=True)
        _GOOD[".sif"] = sif_bytes(peak_spectra(r, 2))
        _GOOD[".spa"] = spa_bytes(150.0, 300.0, peak_spectra(r, 1)[0])
        _GOOD[".spg"] = spg_bytes([(150.0, 150.0 + AXIS.size - 1, y)
                                   for y in peak_spectra(r, 2)], ["a", "b"])
    return _GOOD[suffix]


def _feed(data: bytes, suffix: str) -> None:
    read_or_one_line_error(data, f"f{suffix}")


@FUZZ
@given(suffix=st.sampled_from([".spc", ".wdf", ".jdx", ".0", ".sif", ".spa", ".spg"]),
       data=st.data())
def test_fuzz_damaged_instrument_files(suffix, data):
    # a valid file cut short, with bytes overwritten, or both: a Spectra or a RamancamError
    good = bytearray(_good(suffix))
    cut = data.draw(st.integers(0, len(good)))
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    _feed(bytes(good[:cut]) if data.draw(st.booleans()) else bytes(good), suffix)


@FUZZ
@given(suffix=st.sampled_from([".spc", ".wdf", ".jdx", ".dx", ".0", ".sif", ".spa", ".spg"]),
       raw=st.binary(max_size=700),
       magic=st.sampled_from([b"", b"WDF1", b"\x80\x4b", b"##TITLE=x\n##JCAMP-DX=5\n",
                              b"\n\n\xfe\xfe", b"Andor Technology Multi-Channel File\n",
                              b"Spectral Data File"]))
def test_fuzz_random_bytes(suffix, raw, magic):
    _feed(magic + raw, suffix)


# --------------------------------------------------------------------------- CLI


def test_info_names_the_format_and_counts_unlabelled(tmp_path, rng, capsys):
    p = tmp_path / "map.wdf"
    p.write_bytes(wdf_bytes(AXIS, peak_spectra(rng, 3), xy=np.arange(6.0).reshape(3, 2)))
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "format:    Renishaw WiRE WDF" in out
    assert "positions: x 0 to 4, y 1 to 5 (3 spectra with positions)" in out
    assert "laser:     785 nm" in out
    t = tmp_path / "t.csv"
    t.write_text("label,1,2\nA,1,2\n,1,3\nB,2,2\n")
    assert main(["info", str(t), "--label-col", "label"]) == 0
    out = capsys.readouterr().out
    assert "classes:   2: A (1), B (1)" in out and "labelled:  2 of 3; 1 with an empty label" in out


def test_convert_round_trip_and_errors(tmp_path, rng, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    Y = peak_spectra(rng, 4)
    (folder / "a_rep1.spc").write_bytes(spc_bytes(AXIS, Y[:2]))
    (folder / "b_rep2.spc").write_bytes(spc_bytes(AXIS, Y[2:]))
    out = tmp_path / "all.csv"
    assert main(["convert", str(folder), str(out), "--labels-from", "regex:^(a|b)_",
                 "--groups-from", r"regex:_(rep\d)"]) == 0
    assert "wrote 4 spectra, 57 points, 2 classes" in capsys.readouterr().out
    back = read(out, label_col="label")
    np.testing.assert_array_equal(back.X, Y.astype(np.float64))
    assert back.labels.tolist() == ["a", "a", "b", "b"]
    assert back.meta["source"].tolist() == ["a_rep1.spc"] * 2 + ["b_rep2.spc"] * 2
    assert back.meta["group"].tolist() == ["rep1", "rep1", "rep2", "rep2"]
    # different axes: refused without --grid, resampled with it
    (folder / "c_rep1.jdx").write_text(jcamp_text(AXIS + 0.5, Y[0].astype(float)))
    assert main(["convert", str(folder), str(out)]) == 2
    assert "different axes" in capsys.readouterr().err
    assert main(["convert", str(folder), str(tmp_path / "g.csv.gz"), "--grid", "500:1700:2"]) == 0
    assert read(tmp_path / "g.csv.gz").X.shape == (5, 601)
    assert main(["convert", str(folder), str(tmp_path / "x.txt")]) == 2
    assert "OUT must be a .csv or .csv.gz file" in capsys.readouterr().err


# --------------------------------------------------------------------------- real files


def test_real_bacteria_spc(shared_data):
    s = read(shared_data / "bacteria-spc", labels_from="regex:_(lag|log|stat)_",
             groups_from=r"regex:_(rep\d)_")
    assert len(s) == 536 and s.class_counts() == {"lag": 183, "log": 177, "stat": 176}
    assert sorted(set(s.meta["group"].tolist())) == ["rep1", "rep2", "rep3"]
    assert s.has_common_axis and s.n_points == 1024
    assert s.meta["instrument"][0] == "WITec"


def test_real_saliva_folder_of_tables(shared_data):
    s = read(shared_data / "saliva-pd-ad", label_col="label")
    assert len(s) == 1751 and s.class_counts() == {"AD": 275, "CTRL": 876, "PD": 600}
    d = describe(s)
    assert not d["common_axis"] and d["n_files"] == 70 and d["formats"] == {"wide table": 70}
    assert len(set(s.meta["patient"].tolist())) == 70


def test_real_chondro_map_unlabelled_pixels(shared_data):
    s = read(shared_data / "chondro-map" / "map.csv", label_col="label")
    d = describe(s)
    assert d["n_spectra"] == 875 and d["n_unlabelled"] == 6 and sum(d["classes"].values()) == 869
    assert d["classes"] == {"cell": 182, "lacuna": 364, "matrix": 323}


def test_real_wdf_files(shared_data):
    folder = shared_data / "wdf-sample"
    ex2 = read(folder / "ex2.wdf")
    assert len(ex2) == 235 and ex2.n_points == 1015
    assert ex2.meta["x"].dtype == np.float64 and np.isfinite(ex2.meta["y"]).all()
    assert len(set(zip(ex2.meta["x"].tolist(), ex2.meta["y"].tolist(), strict=True))) == 235
    assert ex2.meta["laser_wavelength_nm"][0] == pytest.approx(532.25, abs=0.01)
    for name, n_points in (("ex1.wdf", 1015), ("test1.wdf", 1015), ("Spectrum_532nm.wdf", 1900)):
        s = read(folder / name)
        assert len(s) == 1 and s.n_points == n_points and "x" not in s.meta
    s = read(folder / "Spectrum_532nm.wdf")
    assert s.wavenumbers[0] > s.wavenumbers[-1]  # descending, kept as given
    assert read(folder).n_spectra == 238


def test_jcamp_library_reads_what_the_helper_writes():
    # the helper's text is plain JCAMP-DX: the library's own parser agrees on the values
    import jcamp

    y = np.arange(AXIS.size, dtype=float)
    d = jcamp.read(io.StringIO(jcamp_text(AXIS, y)).readlines())
    np.testing.assert_allclose(d["y"], y)


def test_spc_wavelength_axis_is_converted_or_refused(tmp_path, rng):
    y = peak_spectra(rng, 1)
    nm = 1e7 / (1e7 / 785.0 - AXIS)  # the Raman shifts of AXIS as absolute wavelengths

    def spc_with_units(units: int, log: dict) -> bytes:
        data = bytearray(spc_bytes(nm, y, log=log))
        data[28] = units  # fxtype, the x-unit code of the main header
        return bytes(data)

    p = tmp_path / "nm.spc"
    p.write_bytes(spc_with_units(3, {"Laser Wavelength": "785 nm"}))
    s = read(p)
    np.testing.assert_allclose(s.wavenumbers, AXIS, rtol=1e-5, atol=1e-3)
    assert s.meta["x_units"][0] == "XRAMANS (converted from XNMETR)"
    p.write_bytes(spc_with_units(3, {}))  # no laser: kept in nm, for --laser-nm
    s = read(p)
    np.testing.assert_allclose(s.wavenumbers, nm, rtol=1e-6)
    assert s.meta["x_units"][0] == "nm"
    p.write_bytes(spc_with_units(4, {}))
    with pytest.raises(RamancamError, match=r"got XSECS \(seconds\)\. Check that it is a "
                                            r"Raman spectrum"):
        read(p)


def test_jcamp_nanometres_without_a_laser_are_kept_in_nm(tmp_path, rng):
    y = peak_spectra(rng, 1)[0].astype(np.float64)
    p = tmp_path / "nm.jdx"
    # (uneven wavelengths: pairs; an (X++(Y..Y)) table of them fails its X checks first)
    p.write_text(jcamp_text(1e7 / (1e7 / 785.0 - AXIS), y, form="XYPOINTS",
                            extra={"XUNITS": "NANOMETERS"}))
    s = read(p)  # for --laser-nm to convert; the command line refuses it without
    np.testing.assert_allclose(s.wavenumbers, 1e7 / (1e7 / 785.0 - AXIS), rtol=1e-9)
    assert s.meta["x_units"][0] == "nm" and s.meta["xunits"][0] == "NANOMETERS"


def test_a_reader_out_of_memory_says_so_not_a_damaged_header(tmp_path, rng, monkeypatch):
    # any MemoryError inside a format library was "its header asks for more memory than
    # there is (a damaged header). Re-export the file.", also for a valid file
    import spc_io

    p = tmp_path / "cells.spc"
    p.write_bytes(spc_bytes(AXIS, peak_spectra(rng, 2)))

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(spc_io.SpcRaw, "from_bytes_io", no_memory)
    with pytest.raises(RamancamError) as e:
        read_spc(p)
    assert _one_line(e) == (
        f"file {p}: not enough memory to read this Galactic SPC (.spc) file; it is read "
        "whole. Save the spectra in several smaller files, or use a machine with more "
        "memory.")
