"""``ramancam.checks``: flat and clipped spectra, shifted Raman axes."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam.checks import (
    band_shift,
    clipped_spectra,
    flat_spectra,
    group_shift_note,
    group_shifts,
    implausible_line,
    implausible_spectra,
    shift_note,
)
from ramancam.errors import RamancamError
from ramancam.spectra import Spectra


def test_clipped_counts_only_the_points_inside_the_range(rng):
    w = np.linspace(100.0, 2000.0, 400)
    X = 100.0 + rng.normal(0, 1, (4, w.size))
    X[0, 2:6] = 65535.0       # at the Rayleigh edge (100-120 cm-1)
    X[1, 200:202] = 65535.0   # 16-bit limit, 2 points, mid-range
    X[2, 300:302] = 500.0     # two equal maxima, no detector's limit: not clipped
    X[3] = 7.0                # flat
    s = Spectra(X, w)
    found = clipped_spectra(s)
    assert [c.index for c in found] == [0, 1]
    assert (found[0].value, found[0].n_points) == (65535.0, 4)
    assert found[0].lo == w[2] and found[0].hi == w[5]
    inside = clipped_spectra(s, within=(350.0, 1800.0))
    assert [c.index for c in inside] == [1]  # the edge is outside: spectrum 0 is fine there
    assert flat_spectra(s) == [3]
    # flat inside a range: a dead window of the detector that covers the whole grid
    X[0, (w >= 350.0) & (w <= 1800.0)] = 3.0
    assert flat_spectra(Spectra(X, w)) == [3]
    assert flat_spectra(Spectra(X, w), within=(350.0, 1800.0)) == [0, 3]
    assert flat_spectra(Spectra(X, w), within=(3000.0, 3100.0)) == []  # no point there
    # per-spectrum axes (a folder of files) work the same way
    ragged = Spectra([X[0], X[1][:300]], [w, w[:300]])
    assert [c.index for c in clipped_spectra(ragged)] == [0, 1]


def test_values_no_detector_counts_are_found_inside_the_range(rng):
    w = np.linspace(100.0, 2000.0, 400)
    X = 100.0 + rng.normal(0, 1, (4, w.size))
    X[1, 200] = 3.4e38        # float32's largest: a "no data" value
    X[1, 210] = -1e30
    X[2, 3] = 1e30            # at 114 cm-1: outside 350-1800
    X[3, 100] = 9e14          # large, but a detector may sum to it: fine
    found = implausible_spectra(Spectra(X, w))
    assert [(f.index, f.n_points) for f in found] == [(1, 2), (2, 1)]
    assert found[0].value == 3.4e38 and found[0].at == w[200]
    inside = implausible_spectra(Spectra(X, w), within=(350.0, 1800.0))
    assert [f.index for f in inside] == [1]
    assert implausible_spectra(Spectra(X, w), within=(3000.0, 3100.0)) == []
    ids = ["a", "b", "c", "d"]
    line = implausible_line(found, ids)
    assert line == ("note: 2 spectra hold values no detector counts (beyond +-1e+15: up to "
                    f"3.4e+38 at {w[200]:.1f} cm-1 in b; b, c): a misread file or a 'no data' "
                    "value; check the files, or leave them out")
    assert implausible_line([], ids) is None
    # per-spectrum axes (a folder of files), float32 read as is
    ragged = Spectra([X[0].astype(np.float32), X[1][:300]], [w, w[:300]])
    assert [f.index for f in implausible_spectra(ragged)] == [1]


def _bands(w, centres, rng, noise=0.01):
    """Lorentzian bands (half width 6 cm-1) at ``centres`` on a sloped background."""
    y = sum(h / (1.0 + ((w - c) / 6.0) ** 2) for c, h in centres)
    return y + 0.0002 * (w - w[0]) + rng.normal(0, noise, w.size)


BANDS = [(620.0, 0.6), (1001.0, 1.0), (1032.0, 0.4), (1450.0, 0.7), (1602.0, 0.5)]


@pytest.mark.parametrize("shift", [0.0, 2.0, -3.0, 1.4])
def test_band_shift_reads_a_known_shift_to_a_fraction_of_a_point(rng, shift):
    w = np.arange(400.0, 1800.0 + 0.5, 1.0)
    ref = _bands(w, BANDS, rng, noise=0.0)
    X = np.stack([_bands(w, [(c + shift, h) for c, h in BANDS], rng) for _ in range(20)])
    got = band_shift(X, ref, 1.0)
    assert np.all(np.isfinite(got))
    assert abs(np.median(got) - shift) < 0.15
    # a descending grid: the same spectra reversed, the step negative, the same answer
    back = band_shift(X[:, ::-1], ref[::-1], -1.0)
    assert np.allclose(back, got)
    # a 2 cm-1 grid: points of 2 cm-1 each
    assert abs(np.median(band_shift(X[:, ::2], ref[::2], 2.0)) - shift) < 0.3


def test_band_shift_reads_nothing_from_another_substance_or_a_flat_spectrum(rng):
    w = np.arange(400.0, 1800.0 + 0.5, 1.0)
    ref = _bands(w, BANDS, rng, noise=0.0)
    other = _bands(w, [(700.0, 1.0), (1200.0, 0.8), (1300.0, 0.3)], rng)
    far = _bands(w, [(c + 30.0, h) for c, h in BANDS], rng)  # beyond the 12 points searched
    got = band_shift(np.stack([other, far, np.full(w.size, 2.0)]), ref, 1.0)
    assert np.isnan(got).all()
    assert band_shift(np.zeros((0, w.size)), ref, 1.0).shape == (0,)  # a chunk all refused
    with pytest.raises(RamancamError, match=r"reference must have the shape of X \(3, 1401\)"):
        band_shift(np.zeros((3, w.size)), np.zeros((2, w.size)), 1.0)
    with pytest.raises(RamancamError, match="at least 27 points to find a band shift; got 20"):
        band_shift(np.zeros((1, 20)), np.zeros(20), 1.0)


def test_band_shift_with_an_index_equals_the_rows_it_names(rng):
    """``index`` picks each spectrum's reference row: the same shifts and correlations as
    passing the rows themselves, flat spectra and other substances included."""
    w = np.arange(400.0, 1800.0 + 0.5, 1.0)
    refs = np.stack([_bands(w, BANDS, rng, noise=0.0),
                     _bands(w, [(700.0, 1.0), (1200.0, 0.8), (1300.0, 0.3)], rng, noise=0.0)])
    which = rng.integers(0, 2, 30)
    shifts = rng.uniform(-4, 4, 30)
    X = np.stack([_bands(w, [(c + d, h) for c, h in (BANDS if k == 0 else
                                                      [(700.0, 1.0), (1200.0, 0.8)])], rng)
                  for k, d in zip(which, shifts, strict=True)])
    X[3] = 2.0  # flat: no shift
    got, corr = band_shift(X, refs, 1.0, index=which, with_correlation=True)
    want, wcorr = band_shift(X, refs[which], 1.0, with_correlation=True)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(corr, wcorr, rtol=0, atol=1e-9)
    first = (which == 0) & (np.arange(30) != 3)
    assert np.isnan(got[3]) and np.isfinite(got[first]).all()
    assert np.abs(got - shifts)[first].max() < 0.5
    with pytest.raises(RamancamError, match=r"index must give one row of reference \(0 to 1\)"):
        band_shift(X, refs, 1.0, index=np.full(30, 2))
    with pytest.raises(RamancamError, match="index must give one row of reference"):
        band_shift(X, refs, 1.0, index=which[:5])


def test_shift_note_speaks_only_of_a_clear_shift():
    assert shift_note(np.full(9, 3.0)) is None             # too few spectra
    assert shift_note(np.r_[np.full(30, 1.2), np.nan]) is None  # below 1.5 cm-1
    assert shift_note(np.full(12, np.nan)) is None
    note = shift_note(np.r_[np.full(18, -2.5), 0.5, 1.0, np.nan])
    assert note is not None and note.startswith(
        "axis: the bands sit 2.5 cm-1 lower than in the model's training spectra (median of "
        "20 spectra, quartiles -2.5 to -2.5 cm-1, 90% shifted that way); check the "
        "Raman-shift calibration")
    assert "higher" in shift_note(np.full(10, 1.6))


def test_group_shifts_find_the_session_measured_off_axis(rng):
    """Two classes measured in four sessions; session s3's axis sits 3 cm-1 high. Class b
    was measured only in s4, so it has no other session to be compared with."""
    w = np.arange(400.0, 1800.0 + 0.5, 1.0)
    other = [(700.0, 1.0), (1200.0, 0.8), (1330.0, 0.5)]
    X, y, g = [], [], []
    for session, off in (("s1", 0.0), ("s2", 0.0), ("s3", 3.0), ("s4", 0.0)):
        for _ in range(6):
            X.append(_bands(w, [(c + off, h) for c, h in BANDS], rng))
            y.append("a")
            g.append(session)
        if session == "s4":
            X.append(_bands(w, other, rng))
            y.append("b")
            g.append(session)
    got = group_shifts(np.array(X), y, g, 1.0)
    assert set(got) == {"s1", "s2", "s3", "s4"}
    assert [got[k][1] for k in ("s1", "s2", "s3", "s4")] == [6, 6, 6, 7]  # spectra per group
    # the majority sets the zero: the other sessions read (nearly) nothing
    assert abs(got["s3"][0] - 3.0) < 0.3
    assert all(abs(got[k][0]) < 0.3 for k in ("s1", "s2", "s4"))
    note = group_shift_note(got, "session")
    assert note is not None and note.startswith(
        "note: the bands of 1 of 4 groups (session) sit 1.5 cm-1 or more off the other "
        "groups' spectra of their class (cm-1: s3 +")
    assert group_shift_note({"s1": (0.2, 6), "s2": (-1.4, 6), "s3": (2.0, 3)}, "s") is None
    many = {f"g{i}": (2.0 + i / 10, 8) for i in range(7)}
    assert "g6 +2.6, g5 +2.5, g4 +2.4, g3 +2.3, g2 +2.2 and 2 more)" in group_shift_note(many, "g")


def test_exact_copies_across_training_and_test_are_said():
    # an export written twice: random folds test copies of training spectra (a library
    # search on random labels went from 0.32 to 0.87), silently
    from ramancam.checks import duplicate_spectra, duplicates_note

    rng = np.random.default_rng(0)
    X = rng.random((6, 20))
    X[4] = X[1]
    X[5] = X[2]
    y = np.array(["a", "a", "b", "b", "a", "c"])
    s = Spectra(X, np.arange(20.0), labels=y, meta={"id": np.array([f"s{i}" for i in range(6)])})
    assert [g.tolist() for g in duplicate_spectra(X)] == [[1, 4], [2, 5]]
    apart = [(np.array([0, 1, 2]), np.array([3, 4, 5]))]
    note = duplicates_note(s, apart)
    assert note == ("note: 2 spectra have an exact copy that the split puts in training while "
                    "testing the other, which flatters the accuracy; 1 spectrum has exact copies "
                    "with another label (e.g. s1 and s4). Remove the copies, or keep them "
                    "together with --group-col (a folder: --groups-from).")
    together = [(np.array([0, 1, 4]), np.array([2, 3, 5]))]
    assert duplicates_note(s, together).startswith("note: 1 spectrum has exact copies with "
                                                   "another label (e.g. s2 and s5)")
    assert duplicates_note(Spectra(rng.random((4, 20)), np.arange(20.0)), apart) is None


def test_a_few_spectra_that_cut_the_default_grid_short_are_named():
    from ramancam.checks import narrow_grid_note, wavelength_axis_note

    wide = [np.arange(300.0, 1900.0, 2.0)] * 9
    axes = [*wide, np.arange(900.0, 1300.0, 2.0)]
    s = Spectra([np.ones(a.size) for a in axes], axes,
                sources=[f"{i}.txt" for i in range(10)])
    assert narrow_grid_note(s, np.arange(900.0, 1299.0)) == (
        "note: the grid 900-1298 cm-1 is the range every spectrum covers; 9.txt (900-1298 "
        "cm-1) cut it short: without it, every spectrum covers 350-1800 cm-1. Leave it out, "
        "or choose the range with --grid.")
    # several: the note says what leaving them out gives, not the median range (that half
    # the spectra fall short of)
    ends = [1898.0] * 9 + [1760.0, 1298.0, 1248.0]
    axes = [np.arange(300.0, e + 1, 2.0) for e in ends]
    s = Spectra([np.ones(a.size) for a in axes], axes,
                sources=[f"{i}.txt" for i in range(12)])
    assert narrow_grid_note(s, np.arange(350.0, 1249.0)) == (
        "note: the grid 350-1248 cm-1 is the range every spectrum covers; 10.txt (300-1298 "
        "cm-1) and 1 other spectra (all ending at 1248-1298 cm-1) cut it short: without them, "
        "every spectrum covers 350-1760 cm-1. Leave them out, or choose the range with "
        "--grid.")
    assert narrow_grid_note(s, np.arange(350.0, 1801.0)) is None  # nothing cut
    # rows of one table are named by their id, not by the file they share
    s = Spectra([np.ones(a.size) for a in axes], axes, sources=["t.csv"] * 12,
                meta={"id": np.array([f"row{i}" for i in range(12)])})
    assert "; spectrum row10 (300-1298 cm-1) and 1 other" in narrow_grid_note(
        s, np.arange(350.0, 1249.0))
    nm = Spectra(np.ones((2, 900)), np.linspace(797.5, 931.2, 900))
    assert "looks like wavelengths in nm" in wavelength_axis_note(nm)
    assert wavelength_axis_note(Spectra(np.ones((2, 900)), np.linspace(200, 1800, 900))) is None


def test_a_channel_axis_cut_by_the_grid_is_said():
    # 'simulate common' trained with the default grid lost the class band at channel 100
    from ramancam.checks import channel_axis_note

    ch = Spectra(np.ones((2, 1024)), np.arange(1024.0))
    note = channel_axis_note(ch, np.arange(350.0, 1024.0))
    assert note is not None and "looks like channel numbers" in note
    assert "keeps 350-1023" in note and "--recipe none" in note
    assert channel_axis_note(ch, np.arange(1024.0)) is None  # --recipe none: nothing cut
    shifts = Spectra(np.ones((2, 1451)), np.arange(300.0, 1751.0))
    assert channel_axis_note(shifts, np.arange(350.0, 1751.0)) is None  # starts at 300
    # numbered from 1, as MATLAB, R and spreadsheets number, was trained on without a word
    one = Spectra(np.ones((2, 1866)), np.arange(1.0, 1867.0))
    note = channel_axis_note(one, np.arange(350.0, 1801.0))
    assert note is not None and note.startswith("note: the x axis (1-1866 in steps of 1) looks "
                                                "like channel numbers")


def test_an_axis_of_absolute_wavenumbers_is_said():
    # an export in absolute cm-1 from a 785 nm instrument (8740-12338) trained on a
    # 3,599-point grid without a word
    from ramancam.checks import absolute_axis_note

    absolute = Spectra(np.ones((2, 900)), np.linspace(8740.2, 12338.0, 900))
    note = absolute_axis_note(absolute)
    assert note is not None and "(8740.2-12338) lies above 4500 cm-1" in note
    assert "absolute wavenumbers" in note and "1e7 / laser nm" in note
    for axis in (np.linspace(100.0, 4000.0, 900), np.linspace(2600.0, 3200.0, 900)):
        assert absolute_axis_note(Spectra(np.ones((2, 900)), axis)) is None



def test_info_says_an_axis_of_absolute_wavenumbers_or_wavelengths(tmp_path, capsys):
    # train said it; info, which a user reads first, showed the axis 8740-12338 "cm-1" alone
    from ramancam.cli import main
    from ramancam.io import write_table

    rng = np.random.default_rng(0)
    for name, axis, said in (("abs.csv", np.linspace(8740.2, 12338.0, 300), "absolute wavenumbers"),
                             ("nm.csv", np.linspace(800.0, 850.0, 300), "wavelengths in nm"),
                             ("ok.csv", np.linspace(400.0, 1800.0, 300), None)):
        write_table(Spectra(1 + rng.random((3, 300)), axis), tmp_path / name)
        assert main(["info", str(tmp_path / name)]) == 0
        notes = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  note:")]
        assert (said in notes[0]) if said else not notes
        assert main(["info", str(tmp_path / name), "--json"]) == 0
        assert ("axis_note" in capsys.readouterr().out) == (said is not None)


def test_spectra_too_coarse_for_raman_bands_are_said():
    # 5 points over 350-1800 cm-1 were resampled onto 1451 points without a word
    from ramancam.checks import coarse_note

    axes = [np.linspace(350, 1800, 5), np.arange(300.0, 1900.0, 2.0)]
    s = Spectra([np.ones(5), np.ones(800)], axes, sources=["five.txt", "fine.txt"])
    assert coarse_note(s, 1.0) == (
        "note: 1 spectrum is sampled more coarsely than every 10 cm-1 (e.g. five.txt: 5 points "
        "over 350-1800 cm-1); Raman bands are narrower than that, so the resampled spectra "
        "show the spline's guesses between the points: measure at finer steps.")
    assert coarse_note(s[1:], 1.0) is None
    # a model on a 16 cm-1 grid asks for nothing finer
    assert coarse_note(Spectra(np.ones((2, 100)), np.arange(0.0, 1200.0, 12.0)), 16.0) is None


def test_a_fill_value_at_the_ends_of_every_spectrum_is_said():
    # food/astragalus holds 10.0 at 100-108 and 3312-4278 cm-1 in all 160 spectra: info
    # reported 100-4278 cm-1 as measured, and the paper recipe's baseline ran through it
    from ramancam.checks import fill_ends, fill_note

    rng = np.random.default_rng(0)
    w = np.arange(100.0, 400.0)
    X = 50 + rng.random((6, w.size)) * 100
    X[:, :5] = 10.0
    X[:, -40:] = 10.0
    fill = fill_ends(Spectra(X, w))
    assert fill is not None and (fill.lead, fill.trail) == (5, 40)
    assert fill.measured == (105.0, 359.0)
    assert fill_note(fill) == (
        "note: the first 5 and the last 40 points of the axis hold 10 in every spectrum: a "
        "fill value, not a measurement (the spectra were measured over about 105-359 cm-1). "
        "The paper recipe's straight baseline runs through each spectrum's first and last "
        "points, here the fill; a pybaselines recipe (--recipe asls) does not use them")
    Y = X.copy()
    Y[3, 0] = 11.0  # one spectrum differs at the first point: the lead run is gone
    assert (fill_ends(Spectra(Y, w)).lead, fill_ends(Spectra(Y, w)).trail) == (0, 40)
    # nothing: measured ends, one spectrum, two points, flat spectra
    assert fill_ends(Spectra(X[:, 5:-40], w[5:-40])) is None
    assert fill_ends(Spectra(X[:1], w)) is None
    assert fill_ends(Spectra(X[:, 3:-40], w[3:-40])) is None  # 2 points: under MIN_FILL
    assert fill_ends(Spectra(np.full((3, 20), 4.0), w[:20])) is None
    assert fill_note(None) is None


def test_a_table_padded_with_a_fill_value_is_read_without_it(tmp_path, capsys):
    # food/astragalus: 10.0 at 100-108 and 3312-4278 cm-1 in all 160 spectra was read as
    # measured (info: 100-4278 cm-1), and the paper recipe's baseline ran through the fill
    from ramancam.cli import main
    from ramancam.errors import RamancamWarning
    from ramancam.io import read, write_table

    rng = np.random.default_rng(1)
    w = np.arange(300.0, 1900.0, 4.0)
    X = 50 + rng.random((8, w.size)) * 100
    X[:, :4] = 10.0
    X[:, -30:] = 5.0
    write_table(Spectra(X, w, labels=np.repeat(["a", "b"], 4)), tmp_path / "t.csv")
    with pytest.warns(RamancamWarning, match=r"t\.csv: the first 4 \(300-312 cm-1\) and the "
                                             r"last 30 \(1780-1896 cm-1\) points hold 5 and 10 "
                                             r"in every spectrum: a fill value, not a "
                                             r"measurement, so they are left out \(the spectra "
                                             r"were measured over 316-1776 cm-1\)"):
        s = read(tmp_path / "t.csv", label_col="label")
    assert s.wavenumbers[0] == 316.0 and s.wavenumbers[-1] == 1776.0
    np.testing.assert_array_equal(s.X, X[:, 4:-30])
    with pytest.warns(RamancamWarning, match="a fill value"):
        assert main(["info", str(tmp_path / "t.csv"), "--label-col", "label"]) == 0
    assert "  axis:      316.0 to 1776.0 cm-1" in capsys.readouterr().out
    # the same spectra written one per column read the same
    cols = ["shift," + ",".join(f"s{i}" for i in range(8))]
    cols += [f"{w[j]:g}," + ",".join(repr(float(v)) for v in X[:, j]) for j in range(w.size)]
    (tmp_path / "cols.csv").write_text("\n".join(cols) + "\n")
    with pytest.warns(RamancamWarning, match="a fill value"):
        c = read(tmp_path / "cols.csv")
    np.testing.assert_array_equal(c.X, s.X)
    # one spectrum cannot tell a fill from a measurement
    write_table(Spectra(X[:1], w), tmp_path / "one.csv")
    assert read(tmp_path / "one.csv").wavenumbers.size == w.size
    # a run of zeros (a noise-free simulation's empty tail) is read, and said
    Z = X.copy()
    Z[:, :4] = 20 + rng.random((8, 4))
    Z[:, -30:] = 0.0
    write_table(Spectra(Z, w, labels=np.repeat(["a", "b"], 4)), tmp_path / "z.csv")
    assert read(tmp_path / "z.csv", label_col="label").wavenumbers.size == w.size
    assert main(["info", str(tmp_path / "z.csv"), "--label-col", "label"]) == 0
    assert ("  fill:      the last 30 points of the axis hold 0 in every spectrum: a fill "
            "value or a tail without signal or noise (a simulation's), not a detector's "
            "reading (the spectra were measured over about 300-1776 cm-1)."
            in capsys.readouterr().out)


def test_only_one_value_held_by_every_spectrum_is_a_fill():
    # two rows that agreed at their ends (a spectrum and its despiked copy) lost 699 of 700
    # points: the run was checked column by column, not for one value along it
    from ramancam.checks import fill_runs

    rng = np.random.default_rng(3)
    y = 100 + rng.normal(0, 5, 700)
    spiked = y.copy()
    spiked[300] += 500
    assert fill_runs(np.stack([y, spiked])) is None
    X = np.stack([y, spiked, y + 1])
    X[:, :4] = 7.0
    assert fill_runs(X, nonzero=True, min_rows=3, min_kept=10) == (4, 0)
    X[:, :4] = 65535.0  # saturation: the clipped note's, not a fill
    assert fill_runs(X, nonzero=True) is None
    assert fill_runs(X[:2], nonzero=False, min_rows=3) is None  # too few rows
    Z = np.full((3, 12), 5.0)
    Z[:, 5:7] = [[1, 2], [3, 4], [5, 6]]
    assert fill_runs(Z, min_kept=10) is None  # two points left: no spectrum


def test_fill_runs_scanned_block_by_block_are_those_of_all_the_rows():
    # A table read in blocks (convert's row reader) must leave out the padding the whole
    # read leaves out: the blocks together, not the first alone, decide it
    from ramancam.checks import FillScan, fill_ends_of, fill_runs

    rng = np.random.default_rng(4)
    w = np.arange(100.0, 160.0)
    base = 50 + rng.random((9, w.size)) * 100
    cases = {}
    X = base.copy()
    X[:, :5], X[:, -7:] = 10.0, 10.0
    cases["padded"] = X
    Y = X.copy()
    Y[7, 1] = 3.0  # a row far down shortens the leading run to one point: no padding there
    cases["lead broken late"] = Y
    Z = X.copy()
    Z[:, 5] = 10.0  # as long as the first rows allow, then cut by the eighth row
    Z[8, 5] = 1.0
    cases["lead cut late"] = Z
    F = np.full((9, w.size), 4.0)
    cases["flat"] = F
    T = base.copy()
    T[:, :3], T[:, 3:] = 10.0, 6.0  # runs of two values meeting: 3 of 10, the rest of 6
    cases["two values"] = T
    rules = {"nonzero": True, "min_rows": 3, "min_kept": 10}
    for name, M in cases.items():
        for cuts in ([], [1], [2, 3], [1, 2, 3, 4, 5, 6, 7, 8], [8]):
            scan = FillScan(**rules)
            for part in np.split(M, cuts):
                scan.add(part)
            assert scan.runs() == fill_runs(M, **rules), (name, cuts)
            assert scan.ends(w) == fill_ends_of(M, w, **rules), (name, cuts)
    assert fill_runs(cases["lead cut late"], **rules) == (5, 7)
    assert fill_runs(cases["lead broken late"], **rules) == (0, 7)
    scan = FillScan(**rules)
    scan.add(X[:2])  # two rows: too few to tell a fill, as in one table of two
    assert scan.runs() is None
    scan.add(X[2:3])
    assert scan.runs() == (5, 7)


def test_train_and_baseline_say_an_axis_of_absolute_wavenumbers(tmp_path, capsys):
    from ramancam.cli import main
    from ramancam.io import write_table

    rng = np.random.default_rng(0)
    axis = np.linspace(8740.2, 12338.0, 400)
    centre = np.repeat([9500.0, 11000.0], 4)[:, None]
    X = 1 / (1 + ((axis - centre) / 20) ** 2) + rng.normal(0, 0.01, (8, axis.size))
    path = tmp_path / "absolute.csv"
    write_table(Spectra(X, axis, np.repeat(["a", "b"], 4)), path)
    assert main(["baseline", str(path), "--label-col", "label", "--model", "library",
                 "--folds", "2"]) == 0
    assert "note: the x axis (8740.2-12338) lies above 4500 cm-1" in capsys.readouterr().out
