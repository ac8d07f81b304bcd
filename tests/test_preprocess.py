"""What each preprocessing step computes, and every documented error."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from _memory import traced_peak
from ramancam import preprocess as pp
from ramancam.errors import RamancamError
from ramancam.preprocess import operators
from ramancam.spectra import Spectra


def _lorentz(w: np.ndarray, x0: float, fwhm: float) -> np.ndarray:
    return 1.0 / (1.0 + ((w - x0) / (fwhm / 2)) ** 2)


def _uneven_axis(rng: np.random.Generator, lo: float = 400.0, hi: float = 1800.0,
                 n: int = 500) -> np.ndarray:
    w = np.sort(rng.uniform(lo, hi, n))
    w[0], w[-1] = lo, hi
    return 0.5 * (w + np.linspace(lo, hi, n))  # uneven, no two points much closer than the step


# ------------------------------------------------------------------------- make_grid
def test_make_grid_default_is_the_papers_1451_points() -> None:
    g = pp.make_grid()
    assert g.size == 1451 and g[0] == 350.0 and g[-1] == 1800.0
    np.testing.assert_array_equal(np.diff(g), 1.0)


def test_make_grid_inclusive_and_partial_last_step() -> None:
    assert pp.make_grid(400, 1800, 1).size == 1401
    g = pp.make_grid(350, 1800, 3)  # 1450 / 3 is not whole: stop is not on the grid
    assert g[-1] <= 1800 and g[-1] + 3 > 1800 and g.size == 484
    g = pp.make_grid(0.0, 1.0, 0.1)  # rounding must not drop the end point
    assert g.size == 11 and g[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(("args", "match"), [
    ((350, 1800, 0), "grid step must be positive; got 0"),
    ((350, 1800, -1), "grid step must be positive"),
    ((1800, 350, 1), "grid stop must be above start"),
    ((0, 1e9, 1e-3), "grid must have at most 10\\^7 points"),
    ((0, float("nan"), 1), "stop must be finite"),
    (("a", 10, 1), "start must be a number"),
])
def test_make_grid_errors(args: tuple, match: str) -> None:
    with pytest.raises(RamancamError, match=match):
        pp.make_grid(*args)


# ------------------------------------------------------------------------- linear baseline
def test_end_point_line_removes_a_sloped_background(rng: np.random.Generator) -> None:
    w = _uneven_axis(rng)[::-1]  # descending, uneven
    peak = _lorentz(w, 1000.0, 8.0)
    peak -= np.interp(w, [w[-1], w[0]], [peak[-1], peak[0]])  # zero at both ends
    X = np.stack([peak + 3.0 + 0.01 * w, 2 * peak - 0.002 * w])
    out, wo = pp.linear_baseline(X, w)
    np.testing.assert_allclose(out, np.stack([peak, 2 * peak]), atol=1e-12)
    assert out[:, 0] == pytest.approx([0, 0]) and out[:, -1] == pytest.approx([0, 0])
    np.testing.assert_array_equal(wo, w)


def test_region_line_is_least_squares_through_the_regions(rng: np.random.Generator) -> None:
    w = _uneven_axis(rng)
    peak = 5 * _lorentz(w, 1100.0, 10.0)
    noise = rng.normal(0, 0.01, w.size)
    X = (peak + 1.5 + 0.004 * w + noise)[None, :]
    regions = [(400, 600), (1500, 1800)]
    out, _ = pp.linear_baseline(X, w, regions=regions)
    inside = ((w >= 400) & (w <= 600)) | ((w >= 1500) & (w <= 1800))
    # The residual in the regions is centred (least squares) and the peak survives.
    assert abs(out[0, inside].mean()) < 1e-10
    np.testing.assert_allclose(out[0], peak + noise - _fit_line(w, peak + noise, inside),
                               atol=1e-9)
    j = np.argmin(abs(w - 1100))
    assert out[0, j] > 0.9 * peak[j]


def _fit_line(w: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    slope, icpt = np.polyfit(w[mask], y[mask], 1)
    return slope * w + icpt


def test_region_with_fewer_than_two_points_is_an_error() -> None:
    w = np.arange(400.0, 1801.0, 2.0)
    X = np.ones((2, w.size))
    with pytest.raises(RamancamError, match=r"region 401-402 cm-1 holds 1 of spectrum 0, "
                                            r"whose axis covers 400-1800 cm-1\. Widen"):
        pp.linear_baseline(X, w, regions=[(401, 402), (1700, 1800)])
    with pytest.raises(RamancamError, match=r"region 100-200 cm-1 holds 0 of file a\.txt"):
        pp.linear_baseline(X, w, regions=[(100, 200)], sources=["a.txt", "b.txt"])


@pytest.mark.parametrize(("regions", "match"), [
    ([], "regions must hold at least one"),
    ([(500, 400)], r"regions\[0\] must have hi > lo"),
    ([(400, 500, 600)], r"regions\[0\] must be a \(lo, hi\) pair"),
    (5, "regions must be a list of"),
    ([(400, "x")], r"regions\[0\] hi must be a number"),
])
def test_malformed_regions(regions: object, match: str) -> None:
    w = np.linspace(400, 1800, 50)
    with pytest.raises(RamancamError, match=match):
        pp.linear_baseline(np.ones((1, 50)), w, regions=regions)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- pybaselines
def test_pybaselines_asls_removes_a_curved_background(rng: np.random.Generator) -> None:
    w = np.linspace(400, 1800, 700)
    bands = _lorentz(w, 800, 8) + 0.6 * _lorentz(w, 1300, 8)
    back = 2 + 3e-6 * (w - 400) ** 2
    X = np.stack([bands + back, 2 * bands + 0.5 * back])
    out, _ = pp.baseline(X, w, "asls", lam=1e3, p=0.001)
    off = (abs(w - 800) > 60) & (abs(w - 1300) > 60)
    # The background (1.0..7.9) is gone to within a few percent of the band height.
    assert np.abs(out[:, off]).max() < 0.05
    assert out[0, np.argmin(abs(w - 800))] == pytest.approx(1.0, abs=0.05)


def test_pybaselines_matches_direct_call(rng: np.random.Generator) -> None:
    from pybaselines import Baseline

    w = _uneven_axis(rng, n=200)
    X = rng.random((2, 200)) + 0.001 * w
    out, _ = pp.baseline(X, w, "modpoly", poly_order=2)
    for i in range(2):
        base, _ = Baseline(x_data=w).modpoly(X[i], poly_order=2)
        np.testing.assert_allclose(out[i], X[i] - base)


def test_unknown_baseline_method_lists_the_known_ones() -> None:
    w = np.linspace(0, 1, 20)
    with pytest.raises(RamancamError, match=r"baseline method must be one of .*airpls, .*arpls"
                                            r".*asls.*modpoly.*snip.*; got 'rolling'"):
        pp.baseline(np.ones((1, 20)), w, "rolling")
    assert {"asls", "arpls", "airpls", "snip", "modpoly"} <= set(pp.BASELINE_METHODS)


def test_baseline_parameter_rejected_by_pybaselines() -> None:
    w = np.linspace(0, 1, 20)
    with pytest.raises(RamancamError, match=r"baseline parameters must be accepted by "
                                            r"pybaselines' asls; got \{'lamda': 5\}"):
        pp.baseline(np.ones((1, 20)), w, "asls", lamda=5)


# ------------------------------------------------------------------------- crop
def test_crop_keeps_the_inclusive_range_in_caller_order() -> None:
    w = np.arange(1800.0, 399.0, -1.0)
    X = np.stack([w, 2 * w])
    out, wo = pp.crop(X, w, 500, 600)
    np.testing.assert_array_equal(wo, np.arange(600.0, 499.0, -1.0))
    np.testing.assert_array_equal(out, np.stack([wo, 2 * wo]))


def test_crop_errors() -> None:
    w = np.arange(400.0, 1801.0)
    with pytest.raises(RamancamError, match=r"crop range must keep at least 2 points of every "
                                            r"spectrum; 2000-3000 cm-1 keeps 0 of spectrum 0"):
        pp.crop(np.ones((1, w.size)), w, 2000, 3000)
    with pytest.raises(RamancamError, match=r"crop range must have hi > lo; got \(600, 500\)"):
        pp.crop(np.ones((1, w.size)), w, 600, 500)


# ------------------------------------------------------------------------- resample
def test_resample_reproduces_a_cubic_exactly_on_an_uneven_axis(rng: np.random.Generator
                                                               ) -> None:
    w = _uneven_axis(rng, 300, 1900, 300)
    t = (w - 1000) / 500
    X = np.stack([1 + t - 2 * t**2 + 0.5 * t**3, 3 * t**3])
    out, g = pp.resample(X[:, ::-1], w[::-1])  # descending input, default grid
    assert g.size == 1451
    tg = (g - 1000) / 500
    np.testing.assert_allclose(out, np.stack([1 + tg - 2 * tg**2 + 0.5 * tg**3, 3 * tg**3]),
                               atol=1e-9)


def test_resample_interpolates_peaks_closely() -> None:
    w = np.arange(300.0, 1900.0, 2.5)
    X = _lorentz(w, 1000.3, 12.0)[None, :]
    out, g = pp.resample(X, w, pp.make_grid(400, 1800, 1))
    np.testing.assert_allclose(out[0], _lorentz(g, 1000.3, 12.0), atol=5e-3)
    assert g[np.argmax(out[0])] == 1000.0


def test_grid_outside_the_range_is_an_error_naming_the_spectrum() -> None:
    w = np.linspace(400.1, 3999.4, 300)
    X = np.ones((3, 300))
    with pytest.raises(RamancamError, match=(
            r"resampling grid must lie within the measured range of every spectrum; got grid "
            r"350-1800 cm-1 but spectrum 0 and 2 other spectra on the same axis cover "
            r"400.1-3999.4 cm-1\. Crop the grid, e.g\. paper_recipe\(grid=\(400, 1800, 1\)\), "
            r"or opt in to outside='nearest' or 'zero'\.$")) as err:
        pp.resample(X, w)
    # the command line says it with its own option, not Python's keyword arguments
    assert err.value.cli.endswith("Crop the grid, e.g. --grid 400:1800:1.")
    with pytest.raises(RamancamError, match=r"but file x\.txt \(spectrum 0\) covers 400.1-"):
        pp.resample(X[:1], w, sources=["x.txt"])
    with pytest.raises(RamancamError, match="got grid 500-4100 cm-1"):
        pp.resample(X, w, pp.make_grid(500, 4100, 1))


def test_tolerance_of_half_a_grid_step() -> None:
    w = np.linspace(400.1, 1800.0, 300)
    X = np.stack([np.linspace(1.0, 2.0, 300)])
    out, g = pp.resample(X, w, pp.make_grid(400, 1800, 1))
    assert g.size == 1401
    assert out[0, 0] == pytest.approx(1.0)  # the end value, not an extrapolation
    with pytest.raises(RamancamError, match="must lie within the measured range"):
        pp.resample(X, w, pp.make_grid(400, 1800, 1), tolerance=0.0)
    with pytest.raises(RamancamError, match="must lie within the measured range"):
        pp.resample(X, w, pp.make_grid(399, 1800, 1))  # 1.1 cm-1 out: beyond 0.5


def test_outside_policies_opt_in() -> None:
    w = np.linspace(500.0, 1000.0, 101)
    X = np.stack([np.linspace(1.0, 3.0, 101)])
    g = pp.make_grid(400, 1100, 10)
    near, _ = pp.resample(X, w, g, outside="nearest")
    zero, _ = pp.resample(X, w, g, outside="zero")
    below, above = g < 500, g > 1000
    np.testing.assert_allclose(near[0, below], 1.0)
    np.testing.assert_allclose(near[0, above], 3.0)
    np.testing.assert_array_equal(zero[0, below | above], 0.0)
    inside = ~(below | above)
    np.testing.assert_allclose(zero[0, inside], 1 + 2 * (g[inside] - 500) / 500)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"outside": "extrapolate"}, "outside must be one of 'error', 'nearest', 'zero'; got "
                                 "'extrapolate'"),
    ({"tolerance": -1}, "tolerance must be >= 0; got -1"),
    ({"grid": [5.0, 4.0, 3.0]}, "grid must be ascending"),
])
def test_resample_option_errors(kwargs: dict, match: str) -> None:
    w = np.linspace(0, 10, 11)
    with pytest.raises(RamancamError, match=match):
        pp.resample(np.ones((1, 11)), w, **kwargs)


def test_resample_needs_wavenumbers_with_an_array() -> None:
    with pytest.raises(RamancamError, match="wavenumbers must be given with an array X"):
        pp.resample(np.ones((1, 11)))


def test_resample_a_spectra_with_per_spectrum_axes() -> None:
    a1, a2 = np.linspace(300, 1900, 400), np.linspace(1950, 250, 333)
    s = Spectra([np.linspace(0, 1, 400), np.linspace(1, 0, 333)], [a1, a2],
                labels=["p", "q"], meta={"k": [1, 2]}, sources=["a.txt", "b.txt"])
    out = pp.resample(s, pp.make_grid(400, 1800, 1))
    assert isinstance(out, Spectra) and out.has_common_axis and out.X.shape == (2, 1401)
    assert out.labels.tolist() == ["p", "q"] and out.meta["k"].tolist() == [1, 2]
    np.testing.assert_allclose(out.X[0], (out.wavenumbers - 300) / 1600, atol=1e-12)
    np.testing.assert_allclose(out.X[1], (out.wavenumbers - 250) / 1700, atol=1e-12)


# ------------------------------------------------------------------------- normalise
def test_normalisations(rng: np.random.Generator) -> None:
    w = _uneven_axis(rng, n=300)[::-1]
    X = rng.random((3, 300)) + 0.1
    mx, _ = pp.normalize(X, w, "max")
    np.testing.assert_allclose(mx.max(axis=1), 1.0)
    np.testing.assert_allclose(mx, X / X.max(axis=1, keepdims=True))
    area, _ = pp.normalize(X, w, "area")
    # scipy's: np.trapezoid is numpy 2.0+, and numpy>=1.26 is allowed
    np.testing.assert_allclose(-trapezoid(area, w, axis=1), 1.0)  # w is descending
    mm, _ = pp.normalize(X, w, "minmax")
    np.testing.assert_allclose(mm.min(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(mm.max(axis=1), 1.0)
    snv, _ = pp.normalize(X, w, "snv")
    np.testing.assert_allclose(snv.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(snv.std(axis=1), 1.0)
    vec, _ = pp.normalize(X, w, "vector")
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0)


@pytest.mark.parametrize("method", pp.NORMALIZATIONS)
def test_flat_spectrum_is_a_clear_error(method: str) -> None:
    w = np.linspace(0, 10, 11)
    X = np.stack([np.linspace(1, 2, 11), np.zeros(11) + (0.0 if method != "minmax" else 4.0)])
    if method == "snv":
        X[1] = 3.0
    with pytest.raises(RamancamError, match=rf"file b\.txt \(spectrum 1\) must have .* for "
                                            rf"{method} normalisation; got a flat"):
        pp.normalize(X, w, method, sources=["a.txt", "b.txt"])


@pytest.mark.parametrize("method", ["asls", "linear"])
def test_a_spectrum_all_baseline_is_refused_not_normalised(method: str) -> None:
    # asls left 1.2e-7 of a constant 1234, which max normalisation blew up to -46.6 .. 1 (its
    # flat test saw only the residue)
    w = np.linspace(400, 1800, 300)
    band = 500 * np.exp(-0.5 * ((w - 1000) / 6) ** 2) + 1000 + 0.5 * w
    X = np.stack([band, np.full(w.size, 1234.0), 1000 + 0.5 * w])
    recipe = (pp.baseline_recipe("asls", grid=(450, 1750, 2)) if method == "asls"
              else pp.paper_recipe(grid=(450, 1750, 2)))
    for flat in (1, 2):
        with pytest.raises(RamancamError, match=rf"file b{flat}\.txt must keep "
                                                rf"bands after {method} baseline removal"):
            recipe.apply(Spectra(X[[0, flat]], w, sources=["a.txt", f"b{flat}.txt"]))
    assert recipe.apply(Spectra(X[:1], w)).X.max() == pytest.approx(1.0)


def test_one_dead_spectrum_does_not_switch_auto_to_asls() -> None:
    # a straight-line spectrum made the paper recipe's max normalisation fail, and auto took
    # that for a baseline above the spectrum: asls for the whole set
    from ramancam.checks import flat_spectra
    from ramancam.preprocess import auto_recipe

    w = np.linspace(300, 1900, 400)
    X = np.stack([np.exp(-0.5 * ((w - c) / 6) ** 2) + 0.1 for c in (600, 900, 1200)]
                 + [1000 + 0.5 * w])
    s = Spectra(X, w)
    assert flat_spectra(s) == [3] and flat_spectra(s[np.arange(3)]) == []
    # a straight line stored as float32 (binary files) is one too: train leaves it out
    # rather than stopping where the baseline step refuses it
    s32 = Spectra(X.astype(np.float32), w)
    assert flat_spectra(s32) == [3]
    with pytest.raises(RamancamError, match="must keep bands after linear baseline removal"):
        auto_recipe(s)
    assert auto_recipe(s[np.arange(3)])[2] == "paper"


def test_max_normalisation_of_a_negative_spectrum() -> None:
    w = np.linspace(0, 10, 11)
    with pytest.raises(RamancamError, match=r"spectrum 0 must have a positive maximum for max "
                                            r"normalisation; got maximum -1 .*baseline regions"):
        pp.normalize(-np.linspace(1, 2, 11)[None, :], w, "max")
    # bands pointing down from a zero line: the highest points are 0, yet it is not flat
    # (it was called "a flat or empty spectrum")
    dip = -np.exp(-0.5 * ((w - 5) / 1.0) ** 2)
    dip -= dip[0]
    with pytest.raises(RamancamError, match=r"got maximum 0 \(no positive value\)") as err:
        pp.normalize(dip[None, :], w, "max")
    assert err.value.cli.endswith("use --recipe auto, asls or arpls, or --normalize snv.")


def test_unknown_normalisation() -> None:
    with pytest.raises(RamancamError, match="normalisation method must be one of max, area, "
                                            "minmax, snv, vector; got 'l1'"):
        pp.normalize(np.ones((1, 3)), [1, 2, 3], "l1")


# ------------------------------------------------------------------------- Savitzky-Golay
def test_savgol_keeps_polynomials_and_reduces_noise(rng: np.random.Generator) -> None:
    w = np.linspace(400, 1800, 500)
    t = (w - 1100) / 700
    quad = 1 + t + t**2
    out, _ = pp.savgol(quad[None, :], w, 11, 2)
    np.testing.assert_allclose(out[0], quad, atol=1e-12)
    clean = np.sin(6 * t)
    noisy = clean + rng.normal(0, 0.1, 500)
    sm, _ = pp.savgol(noisy[None, :], w, 21, 3)
    assert np.std(sm[0] - clean) < 0.5 * np.std(noisy - clean)


@pytest.mark.parametrize(("wl", "po", "match"), [
    (10, 2, "window_length must be odd; got 10. Use 11"),
    (5, 5, r"polyorder must be less than window_length \(5\); got 5"),
    (0, 0, "window_length must be an integer >= 1; got 0"),
    (5.0, 2, "window_length must be an integer >= 1; got 5.0"),
    (31, 3, r"window_length must be at most the number of points \(20\) of spectrum 0"),
])
def test_savgol_errors(wl: object, po: int, match: str) -> None:
    with pytest.raises(RamancamError, match=match):
        pp.savgol(np.ones((1, 20)), np.arange(20.0), wl, po)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- despiking
def test_despike_removes_one_and_two_pixel_spikes(rng: np.random.Generator) -> None:
    w = np.linspace(400, 1800, 1000)
    # Bands of a realistic signal-to-noise ratio (50:1); much cleaner sharp bands need a
    # higher threshold, as Whitaker & Hayes note.
    clean = _lorentz(w, 800, 20) + 0.6 * _lorentz(w, 1400, 30) + 1
    y = clean + rng.normal(0, 0.02, w.size)
    spiked = y.copy()
    spiked[300] += 8.0
    spiked[600:602] += 6.0
    out, _ = pp.despike(np.stack([spiked, y]), w)
    for j in (300, 600, 601):
        assert abs(out[0, j] - clean[j]) < 0.1
    far = np.ones(w.size, dtype=bool)
    for j in (300, 600, 601):
        far[j - 2:j + 3] = False
    np.testing.assert_array_equal(out[0, far], spiked[far])
    # No spikes, nothing changed (the bands are not mistaken for spikes).
    np.testing.assert_array_equal(out[1], y)


def test_despike_lower_threshold_flags_more() -> None:
    w = np.arange(100.0)
    y = np.zeros(100)
    y[50] = 1.0
    y += np.sin(np.arange(100)) * 0.01
    out, _ = pp.despike(y[None, :], w, threshold=3.5, window=2)
    assert abs(out[0, 50]) < 0.05


@pytest.mark.parametrize(("kw", "match"), [
    ({"threshold": 0}, "threshold must be positive; got 0"),
    ({"window": 0}, "window must be an integer >= 1; got 0"),
])
def test_despike_errors(kw: dict, match: str) -> None:
    with pytest.raises(RamancamError, match=match):
        pp.despike(np.ones((1, 20)), np.arange(20.0), **kw)


# ------------------------------------------------------------------------- shared input checks
def test_non_finite_and_non_numeric_input() -> None:
    X = np.ones((2, 5))
    X[1, 3] = np.nan
    with pytest.raises(RamancamError, match=r"X must be finite \(no NaN or inf\); got nan in "
                                            r"spectrum 1 at 3 cm-1"):
        pp.normalize(X, np.arange(5.0))
    with pytest.raises(RamancamError, match="X must hold numbers"):
        pp.normalize([["a", "b"]], [1.0, 2.0])
    with pytest.raises(RamancamError, match="wavenumbers must not repeat a value"):
        pp.normalize(np.ones((1, 3)), [1.0, 1.0, 2.0])
    with pytest.raises(RamancamError, match="sources must have one entry per spectrum"):
        pp.normalize(np.ones((2, 3)), [1.0, 2.0, 3.0], sources=["a"])


def test_resample_takes_a_start_stop_step_tuple_as_recipes_do():
    # resample(s, (400, 1800, 1)) and resample(s, auto_grid(s)) were refused as an
    # unsorted 3-point axis ("Sort the rows by Raman shift")
    from ramancam.preprocess import auto_grid, make_grid, resample

    w = np.linspace(300.0, 1900.0, 801)
    s = Spectra(np.vstack([np.sin(w / 50.0), np.cos(w / 70.0)]), w)
    out = resample(s, (400, 1800, 2))
    np.testing.assert_array_equal(out.wavenumbers, make_grid(400, 1800, 2))
    np.testing.assert_array_equal(out.X, resample(s, make_grid(400, 1800, 2)).X)
    assert resample(s, auto_grid(s)).wavenumbers.size == 1451
    # a list or an array is still a list of grid points
    assert resample(s, [400.0, 500.0, 600.0]).wavenumbers.tolist() == [400.0, 500.0, 600.0]
    # a 2-tuple looks like a range but would be two grid points: refused with the fix
    with pytest.raises(RamancamError, match=r"got the 2-tuple \(400\.0, 1800\.0\)\. Add the "
                                            r"step, e\.g\. \(400, 1800, 1\.0\)"):
        resample(s, (400, 1800))
    assert resample(s, np.array([400.0, 1800.0])).wavenumbers.tolist() == [400.0, 1800.0]
    # a 3-tuple whose step does not fit was three grid points without a word
    with pytest.raises(RamancamError, match=r"0 < step < stop - start, or an array of grid "
                                            r"points; got the tuple \(400\.0, 1000\.0, "
                                            r"1500\.0\)"):
        resample(s, (400, 1000, 1500))
    assert resample(s, np.array([400.0, 1000.0, 1500.0])).wavenumbers.size == 3


def test_paper_grid_inputs_do_not_depend_on_how_far_the_spectrum_was_measured():
    # the paper's line runs through each spectrum's measured ends: the same spectra exported
    # over 400-3999 and over 400-1850 cm-1 gave inputs up to 3.7 (of a maximum of 1) apart
    # and 17 of 40 other predictions (an audit, drug-mabs); --recipe paper-grid resamples
    # first and draws the line through the grid's ends
    rng = np.random.default_rng(3)
    axis = np.linspace(400.0, 3999.0, 1800)
    X = (1 / (1 + ((axis - 1000.0) / 8) ** 2) + 1e-4 * (axis - 400) ** 1.5 / 50
         + rng.normal(0, 0.005, (4, axis.size)))
    wide, short = Spectra(X, axis), Spectra(X[:, axis <= 1850], axis[axis <= 1850])
    grid = (401.0, 1800.0, 1.0)
    paper = pp.paper_recipe(grid=grid)
    assert np.abs(paper.apply(wide).X - paper.apply(short).X).max() > 0.05
    line = pp.paper_recipe(grid=grid, line_through="grid")
    assert [s.name for s in line.steps] == ["resample", "linear_baseline", "normalize"]
    diff = np.abs(line.apply(wide).X - line.apply(short).X).max()
    assert diff < 1e-12  # (the spline is fitted to all points: rounding apart, the same)
    out = line.apply(wide).X
    assert np.allclose(out[:, [0, -1]], 0.0, atol=1e-12) and np.allclose(out.max(axis=1), 1)
    with pytest.raises(RamancamError, match="line_through must be 'measured' or 'grid'"):
        pp.paper_recipe(grid=grid, line_through="ends")


# ------------------------------------------------------------------------- memory
def _large(n: int = 20_000, p: int = 800) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    w = _uneven_axis(rng, 350.0, 1850.0, p)
    X = (0.3 + 1e-4 * w[None] * rng.uniform(0.5, 1.5, (n, 1))
         + _lorentz(w[None], rng.uniform(450, 1700, (n, 1)), 12.0)
         + rng.normal(0, 0.01, (n, p)))
    return X, w


def test_steps_on_a_large_array_make_no_full_size_temporaries():
    # Counted by tracemalloc, not timed, on 20,000 x 800 (128 MB): the linear baseline took
    # 3.0x its output (the baseline and |X|, |X - baseline| for the refusal check), max
    # normalisation 2.0x (|X|, X - 0), resampling 3.2x (a sorted copy of an ascending axis,
    # the transposed input and output of the sparse product)
    X, w = _large()
    (out, _), peak = traced_peak(pp.linear_baseline, X, w)
    assert peak < 1.1 * out.nbytes, (peak, out.nbytes)
    (out, _), peak = traced_peak(pp.normalize, X, w)
    assert peak < 1.1 * out.nbytes, (peak, out.nbytes)
    (out, _), peak = traced_peak(pp.resample, X, w, (400, 1800, 2))
    block = operators.BLOCK_ROWS * X.shape[1] * 8  # the product goes 4,096 rows at a time
    assert peak < out.nbytes + 3 * block, (peak, out.nbytes, block)


def test_steps_without_temporaries_keep_their_bits():
    X, w = _large(300, 100)
    t = (w - w[0]) / (w[-1] - w[0])
    np.testing.assert_array_equal(pp.linear_baseline(X, w)[0],
                                  X - (X[:, :1] + (X[:, -1:] - X[:, :1]) * t[None, :]))
    np.testing.assert_array_equal(pp.normalize(X, w)[0], (X - 0.0) / X.max(axis=1)[:, None])
    # an ascending axis is resampled without a sorted copy: the bits of the sorted copy
    for n in (20, 300):  # the per-call spline and the operator (min_batch(100) = 256)
        np.testing.assert_array_equal(pp.resample(X[:n], w, (400, 1800, 2))[0],
                                      pp.resample(X[:n, ::-1], w[::-1], (400, 1800, 2))[0])


@pytest.mark.usefixtures("one_torch_thread")
def test_info_on_a_model_imports_no_scipy_signal_nor_sklearn(tmp_path_factory):
    """``info MODEL`` checks and prints the recipe; importing ``ramancam.preprocess`` for it
    imported scipy.signal, scipy.interpolate and scikit-learn (2.9 s of its import time on
    a busy 2-core machine), which only applying a step or a transformer needs."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import ramancam
    from _toy_sets import FAST, peaks_table
    from ramancam.cli import main

    table = peaks_table(tmp_path_factory, n_per_class=3, seed=5)
    recipe = pp.Recipe([pp.Step("despike", {}),
                        pp.Step("savgol", {"window_length": 9, "polyorder": 3}),
                        pp.Step("resample", {"start": 100.0, "stop": 1000.0, "step": 2.0}),
                        pp.Step("normalize", {"method": "snv"})])
    (rec := table.parent / "recipe.json").write_text(recipe.to_json(), encoding="utf-8")
    model = table.parent / "savgol.ramancam"
    assert main(["train", str(table), "--label-col", "label", *FAST[2:], "--recipe",
                 str(rec), "--folds", "2", "--no-compare", "--out", str(model)]) == 0
    heavy = ("scipy.signal", "scipy.interpolate", "scipy.stats", "sklearn")
    code = ("import sys; from ramancam.cli import main; rc = main(sys.argv[1:]); "
            f"print('imported:', [m for m in {heavy!r} if m in sys.modules]); sys.exit(rc)")
    src = str(Path(ramancam.__file__).resolve().parents[1])  # the ramancam under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH")) if p)}
    for argv in ([model], [model, "--json"]):
        run = subprocess.run([sys.executable, "-c", code, "info", *map(str, argv)],
                             capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert "savgol(window_length=9, polyorder=3)" in run.stdout or "--json" in argv
        assert run.stdout.endswith("imported: []\n"), run.stdout[-200:]
    # the names stay where they were
    from ramancam.preprocess import Resample, SavitzkyGolay

    assert Resample.__module__ == SavitzkyGolay.__module__ == "ramancam.preprocess.transformers"
