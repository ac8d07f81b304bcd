"""MATLAB files: a matrix of spectra beside its axis vector, per-spectrum variables as
metadata; versions 5 (scipy) and 7.3 (HDF5, h5py)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io as sio

from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import file_format, read, read_folder, read_mat

RNG = np.random.default_rng(0)
SHIFT = np.linspace(400.0, 1800.0, 60)
X = RNG.random((6, 60))
CLASSES = np.array(["A", "B", "C"] * 2, dtype=object)


def test_v5_matrix_axis_and_per_spectrum_variables(tmp_path, capsys):
    p = tmp_path / "tablets.mat"
    sio.savemat(p, {"spectra": X, "shift": SHIFT, "type": CLASSES,
                    "batch": np.array([1.0, 1, 2, 2, 3, 3]), "x": np.arange(6.0),
                    "y": np.zeros(6), "note": "measured 2026"})
    s = read(p, label_col="type")
    assert file_format(p) == "matlab"
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.wavenumbers, SHIFT)
    assert s.labels.tolist() == ["A", "B", "C"] * 2
    assert s.meta["batch"].tolist() == ["1", "1", "2", "2", "3", "3"]  # integers as text
    assert s.meta["x"].dtype == np.float64  # pixel positions
    assert "note" not in s.meta and "shift" not in s.meta
    assert main(["info", str(p), "--label-col", "type"]) == 0
    assert "3: A (2), B (2), C (2)" in capsys.readouterr().out


def test_transposed_matrix_struct_fields_and_text_rows(tmp_path):
    p = tmp_path / "s.mat"
    sio.savemat(p, {"d": {"data": X.T, "wavenumber": SHIFT[::-1],
                          "names": np.array(["aa", "bb", "cc"] * 2)}})
    s = read_mat(p, label_col="d.names")
    np.testing.assert_array_equal(s.X, X)  # one spectrum per column, read as rows
    np.testing.assert_array_equal(s.wavenumbers, SHIFT[::-1])
    assert s.labels.tolist() == ["aa", "bb", "cc"] * 2


def test_several_matrices_need_a_name(tmp_path):
    p = tmp_path / "two.mat"
    sio.savemat(p, {"raman": X, "shift": SHIFT, "nir": RNG.random((6, 20)),
                    "nm": np.linspace(1100, 2500, 20), "cls": CLASSES})
    with pytest.raises(RamancamError, match=r"two\.mat holds 2 matrices of spectra: raman "
                                            r"\(6x60, axis shift\), nir \(6x20, axis nm\); "
                                            r"name the one to read as .*two\.mat:NAME"):
        read(p)
    s = read(f"{p}:nir", label_col="cls")
    assert s.X.shape == (6, 20) and s.labels.tolist()[:3] == ["A", "B", "C"]
    assert read_mat(p, variable="raman").X.shape == (6, 60)
    with pytest.raises(RamancamError, match=r"there is no variable 'vis'\. Its variables: "
                                            r"raman \(6x60\), shift \(60\)"):
        read(f"{p}:vis")


def test_errors_name_the_file_and_what_is_missing(tmp_path, capsys):
    p = tmp_path / "noaxis.mat"
    sio.savemat(p, {"X": X})
    with pytest.raises(RamancamError, match=r"noaxis\.mat must hold, beside its matrix of "
                                            r"spectra, a vector of their Raman shifts"):
        read(p)
    q = tmp_path / "ok.mat"
    sio.savemat(q, {"X": X, "shift": SHIFT, "cls": CLASSES})
    with pytest.raises(RamancamError, match=r"the label must be a variable with one value per "
                                            r"spectrum \(6\); got label_col='label', but those "
                                            r"variables are cls"):
        read(q, label_col="label")
    gap = X.copy()
    gap[2, 30] = np.nan  # one missing point: left out of that spectrum's axis
    sio.savemat(tmp_path / "gap.mat", {"X": gap, "shift": SHIFT})
    assert read(tmp_path / "gap.mat").axes[2].size == SHIFT.size - 1
    gap[2, 30:42] = np.nan  # twelve in a row: refused
    sio.savemat(tmp_path / "gap.mat", {"X": gap, "shift": SHIFT})
    with pytest.raises(RamancamError, match=r"gap\.mat: X spectrum 3: intensities may be "
                                            r"missing inside a spectrum's range only in short "
                                            r"runs .* got 12 missing in a row"):
        read(tmp_path / "gap.mat")
    broken = tmp_path / "broken.mat"
    broken.write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20)
    assert main(["info", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.mat must be a valid MATLAB (.mat) file" in err
    assert len(err.strip().splitlines()) == 1


def _v73(path, labels):
    """A MATLAB 7.3 file as MATLAB writes one: HDF5 behind a 512-byte text header, arrays
    stored transposed, text as UTF-16 codes, a cell array as references."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in (("X", X), ("shift", SHIFT[:, None])):
            d = f.create_dataset(name, data=value.T)
            d.attrs["MATLAB_class"] = np.bytes_("double")
        refs = f.create_group("#refs#")
        cells = []
        for i, lab in enumerate(labels):
            d = refs.create_dataset(f"r{i}", data=np.array([[ord(c)] for c in lab], np.uint16))
            d.attrs["MATLAB_class"] = np.bytes_("char")
            cells.append(d.ref)
        d = f.create_dataset("labels", data=np.array([cells], dtype=h5py.ref_dtype).T)
        d.attrs["MATLAB_class"] = np.bytes_("cell")
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116))


def test_v73_hdf5_files_and_folders_of_them(tmp_path):
    for k in range(2):
        _v73(tmp_path / f"run{k}.mat", ["A", "BB", "C"] * 2)
    s = read(tmp_path / "run0.mat", label_col="labels")
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.wavenumbers, SHIFT)
    assert s.labels.tolist() == ["A", "BB", "C"] * 2
    both = read_folder(tmp_path, label_col="labels")
    assert len(both) == 12 and sorted(set(both.labels)) == ["A", "BB", "C"]


def test_a_padded_matrix_is_read_without_its_fill_as_from_a_table(tmp_path, capsys):
    # food/astragalus saved with savemat kept its padding (10.0 at 100-108 and 3312-4278
    # cm-1 in every spectrum) as measured, while its CSV left it out: the same data, two axes
    from ramancam.errors import RamancamWarning
    from ramancam.io import write_table
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(2)
    w = np.arange(300.0, 1900.0, 4.0)
    Xp = 50 + rng.random((8, w.size)) * 100
    Xp[:, :4] = 10.0
    Xp[:, -30:] = 10.0
    cls = np.repeat(["a", "b"], 4)
    p = tmp_path / "pad.mat"
    sio.savemat(p, {"spectra": Xp, "shift": w, "origin": cls.astype(object)})
    with pytest.warns(RamancamWarning, match=r"pad\.mat: the first 4 \(300-312 cm-1\) and the "
                                             r"last 30 \(1780-1896 cm-1\) points hold 10 in "
                                             r"every spectrum: a fill value, not a measurement, "
                                             r"so they are left out \(the spectra were measured "
                                             r"over 316-1776 cm-1\)"):
        s = read(p, label_col="origin")
    write_table(Spectra(Xp, w, labels=cls), tmp_path / "pad.csv")
    with pytest.warns(RamancamWarning, match="a fill value"):
        t = read(tmp_path / "pad.csv", label_col="label")
    np.testing.assert_array_equal(s.X, t.X)
    np.testing.assert_array_equal(s.wavenumbers, t.wavenumbers)
    np.testing.assert_array_equal(s.X, Xp[:, 4:-30])
    with pytest.warns(RamancamWarning, match="a fill value"):
        assert main(["info", str(p), "--label-col", "origin"]) == 0
    out = capsys.readouterr().out
    assert "  axis:      316.0 to 1776.0 cm-1" in out and "fill:" not in out
    # a run of zeros stays, as in a table (info says it)
    Z = Xp.copy()
    Z[:, :4] = 20 + rng.random((8, 4))
    Z[:, -30:] = 0.0
    sio.savemat(tmp_path / "z.mat", {"spectra": Z, "shift": w})
    assert read(tmp_path / "z.mat").wavenumbers.size == w.size


def _columns_file(path, **extra):
    """20 spectra of 500 points stored one per column, beside their shifts and ``extra``."""
    shift = np.linspace(400.0, 1800.0, 500)
    S = np.exp(-0.5 * ((shift - 1000) / 20) ** 2)[:, None] * np.arange(1, 21) * 100
    sio.savemat(path, {"spectra": S, "shift": shift, **extra})
    return S, shift


def test_an_axis_named_vector_wins_over_a_monotonic_one_of_the_other_layout(tmp_path, capsys):
    # a time vector (one value per spectrum, monotonic) fits the row layout; the columns fit
    # `shift`: read 500 spectra of 20 points on 0..95 "cm-1" before
    p = tmp_path / "ts_cols.mat"
    S, shift = _columns_file(p, t=np.arange(0, 100, 5.0))
    s = read(p)
    np.testing.assert_array_equal(s.X, S.T)
    np.testing.assert_array_equal(s.wavenumbers, shift)
    assert s.meta["t"].tolist()[:3] == ["0", "5", "10"]
    assert main(["info", str(p)]) == 0
    assert "spectra:   20\n" in capsys.readouterr().out


def test_a_matrix_that_reads_both_ways_equally_is_refused_naming_both(tmp_path):
    p = tmp_path / "both.mat"
    S, shift = _columns_file(p)
    b = np.linspace(200.0, 3000.0, 20)  # neither named an axis, both may be Raman shifts
    sio.savemat(p, {"spectra": S, "a": shift, "b": b})
    with pytest.raises(RamancamError, match=r"both\.mat: the matrix spectra \(500x20\) reads "
                                            r"as 500 spectra on b \(20 points\) or as 20 "
                                            r"spectra on a \(500 points\); name its axis as "
                                            r".*both\.mat:AXIS \(Python: variable='AXIS'\)"):
        read(p)
    s = read(f"{p}:a")
    np.testing.assert_array_equal(s.X, S.T)
    assert s.meta["b"].tolist()[:2] == ["200", "347.36842105263156"]
    assert read_mat(p, variable="b").X.shape == (500, 20)
    # sample numbers 0..19 are not Raman shifts: the columns on `a`
    sio.savemat(p, {"spectra": S, "a": shift, "b": np.arange(20.0)})
    s = read(p)
    np.testing.assert_array_equal(s.X, S.T)
    np.testing.assert_array_equal(s.wavenumbers, shift)


S6 = RNG.random((6, 50))
SHIFT50 = np.linspace(400.0, 1800.0, 50)


@pytest.mark.parametrize("extra", [
    {"nu": SHIFT50, "x": np.arange(0.0, 12.0, 2.0)},  # line-scan positions 0..10
    {"x": SHIFT50, "depth_cm": np.linspace(0.0, 2.5, 6)},
    {"wavenumber": SHIFT50, "depth_cm": np.linspace(0.0, 2.5, 6)},
    {"wavenumber": SHIFT50, "time_axis": np.linspace(0.0, 50.0, 6)},
    {"nu": SHIFT50, "conc": np.array([0.1, 0.2, 0.5, 1, 2, 5])},
    {"Raman_Shift": SHIFT50, "t": np.linspace(0.0, 500.0, 6)},
], ids=lambda e: "+".join(e))
def test_rows_on_the_shifts_not_columns_on_a_per_spectrum_vector(tmp_path, extra):
    # read as 50 "spectra" of 6 points on the positions (or refused) after 0b17611
    p = tmp_path / "rows.mat"
    sio.savemat(p, {"spectra": S6, **extra})
    s = read(p)
    np.testing.assert_array_equal(s.X, S6)
    np.testing.assert_array_equal(s.wavenumbers, SHIFT50)


def test_unnamed_shifts_beside_a_time_vector_that_may_be_shifts_are_refused(tmp_path):
    # x (50 shifts) and time_axis 0..50 (6 values): neither is named as Raman shifts, and
    # both spans may be; refused naming both, never read as 50 spectra of 6 points
    p = tmp_path / "t.mat"
    sio.savemat(p, {"spectra": S6, "x": SHIFT50, "time_axis": np.linspace(0.0, 50.0, 6)})
    with pytest.raises(RamancamError, match=r"t\.mat: the matrix spectra \(6x50\) reads as "
                                            r"6 spectra on x \(50 points\) or as 50 spectra "
                                            r"on time_axis \(6 points\); name its axis as "
                                            r".*t\.mat:AXIS \(Python: variable='AXIS'\)"):
        read(p)
    np.testing.assert_array_equal(read(f"{p}:x").X, S6)
    np.testing.assert_array_equal(read_mat(p, variable="x").wavenumbers, SHIFT50)


def test_two_unnamed_axis_vectors_of_one_length_are_refused(tmp_path):
    # x (shifts) and wavelength (nm), both 50 values: read on the nm axis after 0b17611
    p = tmp_path / "xw.mat"
    wl = 1e7 / (1e7 / 785 - SHIFT50)
    sio.savemat(p, {"spectra": S6, "x": SHIFT50, "wavelength": wl})
    with pytest.raises(RamancamError, match=r"reads as 6 spectra on x \(50 points\) or as 6 "
                                            r"spectra on wavelength \(50 points\)"):
        read(p)
    np.testing.assert_array_equal(read(f"{p}:x").wavenumbers, SHIFT50)


def test_two_axis_vectors_that_fit_are_named_and_one_is_picked_as_file_colon_axis(tmp_path):
    # told "no axis vector: save the axis into the file" before
    p = tmp_path / "two_axes.mat"
    wl = 1e7 / (1e7 / 785 - SHIFT)
    sio.savemat(p, {"spectra": X, "ramanshift": SHIFT, "wavelength": wl})
    with pytest.raises(RamancamError, match=r"two_axes\.mat: the matrix spectra \(6x60\) reads "
                                            r"as 6 spectra on ramanshift \(60 points\) or as 6 "
                                            r"spectra on wavelength \(60 points\); name its "
                                            r"axis as .*two_axes\.mat:AXIS"):
        read(p)
    s = read(f"{p}:ramanshift")
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.wavenumbers, SHIFT)
    np.testing.assert_array_equal(read_mat(p, variable="wavelength").wavenumbers, wl)


def test_one_spectrum_as_shift_intensity_columns_or_two_vectors_is_read(tmp_path):
    # refused before: "save the axis as a variable" (it is the first column), and a message
    # about MATLAB objects for two plain vectors
    y = X[0] * 1000
    for name, data in (("n2.mat", {"data": np.c_[SHIFT, y]}), ("two_n.mat", {"data": np.c_[
            SHIFT, y].T}), ("vectors.mat", {"spectrum": y, "shift": SHIFT[:, None]}),
            ("unnamed.mat", {"intensity": y, "s": SHIFT})):
        sio.savemat(tmp_path / name, data)
        s = read(tmp_path / name)
        np.testing.assert_array_equal(s.X, y[None, :])
        np.testing.assert_array_equal(s.wavenumbers, SHIFT)
    # descending shifts in the second column
    sio.savemat(tmp_path / "desc.mat", {"d": np.c_[y, SHIFT[::-1]]})
    np.testing.assert_array_equal(read(tmp_path / "desc.mat").wavenumbers, SHIFT[::-1])


def test_one_spectrum_layouts_that_do_not_say_which_is_the_axis_are_refused(tmp_path):
    both = tmp_path / "both.mat"  # two monotonic columns: either could be the axis
    sio.savemat(both, {"d": np.c_[SHIFT, SHIFT / 2]})
    with pytest.raises(RamancamError, match=r"both\.mat must hold, beside its matrix of "
                                            r"spectra, a vector of their Raman shifts .* or, "
                                            r"for one spectrum, a \[shift intensity\] matrix"):
        read(both)
    many = tmp_path / "many.mat"  # a spectrum and its baseline beside the axis
    sio.savemat(many, {"spectrum": X[0], "baseline": X[1], "shift": SHIFT})
    with pytest.raises(RamancamError, match=r"many\.mat must hold a matrix of spectra \(one "
                                            r"per row\) and a vector of Raman shifts, or one "
                                            r"spectrum as two vectors of one length; got "
                                            r"spectrum \(60\), baseline \(60\), shift \(60\)\. "
                                            r"Keep one spectrum's intensities and shifts"):
        read(many)
    # beside a matrix without an axis, two vectors of one length are not one spectrum
    meta = tmp_path / "meta.mat"
    sio.savemat(meta, {"X": X, "t": np.arange(7.0), "v": RNG.random(7)})
    with pytest.raises(RamancamError, match=r"meta\.mat must hold, beside its matrix of "
                                            r"spectra, a vector of their Raman shifts"):
        read(meta)


def _damaged_real_part_type(path, compressed: bool) -> tuple[int, str]:
    """Write spectra and shift with savemat, then give the spectra's real part the data type
    0x8009 (miDOUBLE with a high bit set, as a fuzzed file had it): where it is."""
    import struct
    import zlib

    sio.savemat(path, {"spectra": X, "shift": SHIFT}, do_compression=compressed)
    data = bytearray(path.read_bytes())
    if not compressed:  # tag, flags (16), dims (16), name 'spectra' (16), then the real part
        assert struct.unpack_from("<II", data, 184) == (9, X.size * 8)
        struct.pack_into("<I", data, 184, 0x8009)
        path.write_bytes(bytes(data))
        return 184, "the variable 'spectra' at byte 128: its real part at byte 184"
    mdtype, n = struct.unpack_from("<II", data, 128)
    inner = bytearray(zlib.decompress(data[136:136 + n]))
    assert mdtype == 15 and struct.unpack_from("<II", inner, 56) == (9, X.size * 8)
    struct.pack_into("<I", inner, 56, 0x8009)
    packed = zlib.compress(bytes(inner))
    path.write_bytes(bytes(data[:128]) + struct.pack("<II", 15, len(packed)) + packed
                     + bytes(data[136 + n:]))
    return 56, ("the compressed variable 'spectra' at byte 128: its real part at byte 56 of "
                "its inflated data")


def test_a_damaged_element_type_is_refused_before_scipy_crashes_on_it(tmp_path):
    # scipy's C reader looks a numeric element's dtype up by the type in its tag without a
    # bounds check: 0x8009 there killed info, convert (every command) with a segmentation
    # fault or a bus error. The commands run in a child, so a regression fails the test.
    from _isolated import ramancam_child

    wants, argvs = [], []
    for compressed in (False, True):
        p = tmp_path / f"damaged_{compressed}.mat"
        _, where = _damaged_real_part_type(p, compressed)
        wants.append(f"error: file {p} must be a valid MATLAB (.mat) file; {where} has data "
                     "type 32777, none of MATLAB's: the file is damaged or truncated. Save the "
                     "variables again in MATLAB (or copy the file again).\n")
        argvs += [["info", p], ["convert", p, tmp_path / "out.csv"]]
    runs = ramancam_child(*argvs)
    for k, (rc, err) in enumerate(runs):
        assert rc == 2 and err == wants[k // 2], err


def test_the_v5_check_passes_what_savemat_writes_and_refuses_broken_structure(tmp_path):
    from scipy.sparse import csc_matrix

    from ramancam.io._mat5check import check_mat5

    variables = {"X": X, "shift": SHIFT, "cls": CLASSES, "z": X[:2, :3] + 1j,
                 "sp": csc_matrix(np.eye(4)), "ok": np.array([True, False]),
                 "i": np.int16([1, -2]), "empty": np.zeros((0, 3)), "chars": np.array(["ab", "cd"]),
                 "s": {"a": np.arange(3), "b": "text", "c": {"d": [1.0, "x"]}}}
    for compressed in (False, True):
        p = tmp_path / f"all_{compressed}.mat"
        sio.savemat(p, variables, do_compression=compressed)
        check_mat5(p)
        assert len(read(p)) == 6
    # a truncated file, and cells nested deeper than scipy's C recursion should go
    data = (tmp_path / "all_False.mat").read_bytes()
    (tmp_path / "cut.mat").write_bytes(data[:1000])
    with pytest.raises(RamancamError, match=r"cut\.mat must be a valid MATLAB \(\.mat\) file; "
                                            r"the variable at byte 128: it announces \d+ bytes, "
                                            r"past the end of the file \(byte 1000\)"):
        read(tmp_path / "cut.mat")
    deep: object = np.arange(2.0)
    for _ in range(120):
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = deep
        deep = cell
    sio.savemat(tmp_path / "deep.mat", {"X": X, "shift": SHIFT, "deep": deep})
    with pytest.raises(RamancamError, match=r"the variable 'deep' at byte \d+: it nests arrays "
                                            r"more than 100 deep"):
        read(tmp_path / "deep.mat")


def test_a_valid_file_too_large_for_the_memory_is_not_called_damaged(tmp_path, monkeypatch,
                                                                      capsys):
    # a 4 MB compressed file holding a 4 GB matrix of zeros was "a damaged header ...
    # Re-export the file"; what is true is that it needs more memory than there is
    p = tmp_path / "big.mat"
    sio.savemat(p, {"spectra": np.zeros((2000, 1000), np.float32), "shift": SHIFT},
                do_compression=True)
    assert p.stat().st_size < 100_000

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sio, "loadmat", no_memory)
    with pytest.raises(RamancamError, match=(
            r"big\.mat: not enough memory to read this MATLAB \(\.mat\) file: its variable "
            r"'spectra' \(2000x1000 single\) needs 7\.6 MiB; it is read whole\. Save the "
            r"spectra in several smaller files, or use a machine with more memory\.$")):
        read_mat(p)
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "damaged" not in err
