"""Contract suite run over every preprocessing step (pybaselines-style).

For each step, in function and transformer form: the input is not modified (read-only arrays
go in), the output has the documented shape and dtype (float64), list input equals array
input, a reversed axis gives the reversed result (steps that keep the grid) or the same
result (resampling), float32 and integer input work and match float64 input. In
transformer form: refitting gives the same transform, and scikit-learn's own checks
(``parametrize_with_checks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from ramancam import preprocess as pp
from ramancam.errors import RamancamError

N_SPECTRA, N_POINTS = 4, 240


def _data(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Positive spectra (Lorentzian bands on a sloping background) on an uneven axis."""
    rng = np.random.default_rng(seed)
    w = np.sort(rng.uniform(380.0, 1850.0, N_POINTS))
    w[0], w[-1] = 380.0, 1850.0
    # uneven, but no two points much closer than the step (refused)
    w = 0.5 * (w + np.linspace(380.0, 1850.0, N_POINTS))
    X = np.empty((N_SPECTRA, N_POINTS))
    for i in range(N_SPECTRA):
        x0 = rng.uniform(600, 1600, 3)
        bands = sum(1.0 / (1 + ((w - c) / 6.0) ** 2) for c in x0)
        X[i] = 2.0 + 1e-3 * (w - 380) + bands + rng.normal(0, 0.01, N_POINTS)
    return X, w


# name -> (function(X, w) -> (X_new, w_new), kind); kind "keep" keeps the grid,
# "crop" keeps the order but fewer points, "grid" resamples onto an ascending grid.
GRID = pp.make_grid(400.0, 1800.0, 2.0)
Fn = Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]
STEPS: dict[str, tuple[Fn, str]] = {
    "linear_baseline": (lambda X, w: pp.linear_baseline(X, w), "keep"),
    "linear_baseline_regions": (
        lambda X, w: pp.linear_baseline(X, w, regions=[(380, 450), (1750, 1850)]), "keep"),
    "baseline_asls": (lambda X, w: pp.baseline(X, w, "asls", lam=1e5, p=0.01), "keep"),
    "baseline_snip": (lambda X, w: pp.baseline(X, w, "snip", max_half_window=20), "keep"),
    "crop": (lambda X, w: pp.crop(X, w, 500.0, 1500.0), "crop"),
    "resample": (lambda X, w: pp.resample(X, w, GRID), "grid"),
    "resample_nearest": (lambda X, w: pp.resample(X, w, pp.make_grid(300, 1900, 5),
                                                  outside="nearest"), "grid"),
    **{f"normalize_{m}": ((lambda X, w, m=m: pp.normalize(X, w, m)), "keep")
       for m in pp.NORMALIZATIONS},
    "savgol": (lambda X, w: pp.savgol(X, w, 9, 2), "keep"),
    "despike": (lambda X, w: pp.despike(X, w, threshold=5.0), "keep"),
    "paper_recipe": (lambda X, w: pp.paper_recipe((400, 1800, 2)).apply_arrays(X, w), "grid"),
}
IDS = list(STEPS)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("name", IDS)
def test_input_not_modified_and_readonly_ok(name: str) -> None:
    X, w = _data()
    Xr, wr = _readonly(X), _readonly(w)
    fn, _ = STEPS[name]
    out, wout = fn(Xr, wr)
    np.testing.assert_array_equal(Xr, X)
    np.testing.assert_array_equal(wr, w)
    # The outputs are new, writable arrays (no views of the caller's data).
    assert out.flags.writeable and wout.flags.writeable
    assert not np.shares_memory(out, Xr) and not np.shares_memory(wout, wr)


@pytest.mark.parametrize("name", IDS)
def test_output_shape_and_dtype(name: str) -> None:
    X, w = _data()
    fn, kind = STEPS[name]
    out, wout = fn(X, w)
    assert out.dtype == np.float64 and wout.dtype == np.float64
    assert out.ndim == 2 and out.shape[0] == N_SPECTRA and out.shape[1] == wout.size
    assert np.isfinite(out).all()
    if kind == "keep":
        assert out.shape == X.shape
        np.testing.assert_array_equal(wout, w)
    elif kind == "crop":
        assert wout.min() >= 500.0 and wout.max() <= 1500.0
        assert wout.size == int(((w >= 500) & (w <= 1500)).sum())
    else:
        assert (np.diff(wout) > 0).all()


@pytest.mark.parametrize("name", IDS)
def test_one_spectrum_equals_row_of_matrix(name: str) -> None:
    X, w = _data()
    fn, _ = STEPS[name]
    full, _ = fn(X, w)
    one, _ = fn(X[2:3], w)
    np.testing.assert_allclose(one[0], full[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", IDS)
def test_list_input_equals_array_input(name: str) -> None:
    X, w = _data()
    fn, _ = STEPS[name]
    a, wa = fn(X, w)
    b, wb = fn(X.tolist(), w.tolist())
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("name", IDS)
def test_reversed_axis(name: str) -> None:
    X, w = _data()
    fn, kind = STEPS[name]
    a, wa = fn(X, w)
    b, wb = fn(X[:, ::-1], w[::-1])
    if kind == "grid":
        # Same result on the (ascending) grid, whatever the input order.
        np.testing.assert_array_equal(wb, wa)
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
    else:
        np.testing.assert_array_equal(wb, wa[::-1])
        np.testing.assert_allclose(b, a[:, ::-1], rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", IDS)
def test_float32_input(name: str) -> None:
    X, w = _data()
    fn, _ = STEPS[name]
    a, _ = fn(X, w)
    b, wb = fn(X.astype(np.float32), w.astype(np.float32))
    assert b.dtype == np.float64 and wb.dtype == np.float64
    scale = np.abs(a).max()
    np.testing.assert_allclose(b, a, atol=2e-3 * scale)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("name", IDS)
def test_integer_input(name: str, dtype: type) -> None:
    # Counts as integers (as many instruments write them) give the float64 result of the
    # same values. scikit-learn's check_estimators_dtypes is an expected failure for
    # Normalize (its integer rows are flat, refused), so this is where it is tested.
    X, w = _data()
    Xi = np.round(1000 * X).astype(dtype)
    fn, _ = STEPS[name]
    a, wa = fn(Xi.astype(np.float64), w)
    b, wb = fn(Xi, w)
    assert b.dtype == np.float64 and wb.dtype == np.float64
    np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(wb, wa)


@pytest.mark.parametrize("name", IDS)
def test_one_dimensional_input_is_refused(name: str) -> None:
    X, w = _data()
    fn, _ = STEPS[name]
    with pytest.raises(ValueError, match=r"X must be 2-D .* Use X\[None, :\]"):
        fn(X[0], w)


@pytest.mark.parametrize("name", IDS)
def test_axis_length_mismatch_is_refused(name: str) -> None:
    X, w = _data()
    fn, _ = STEPS[name]
    with pytest.raises(ValueError, match=f"X has {N_POINTS} points but wavenumbers has "
                                         f"{N_POINTS - 1}"):
        fn(X, w[:-1])


# ------------------------------------------------------------------ transformer forms
TRANSFORMERS: dict[str, Callable[[np.ndarray], Any]] = {
    "linear_baseline": lambda w: pp.LinearBaseline(wavenumbers=w),
    "linear_baseline_regions": lambda w: pp.LinearBaseline(
        wavenumbers=w, regions=[(380, 450), (1750, 1850)]),
    "baseline_asls": lambda w: pp.BaselineCorrection("asls", wavenumbers=w,
                                                     params={"lam": 1e5, "p": 0.01}),
    "baseline_snip": lambda w: pp.BaselineCorrection("snip", wavenumbers=w,
                                                     params={"max_half_window": 20}),
    "crop": lambda w: pp.Crop(wavenumbers=w, lo=500.0, hi=1500.0),
    "resample": lambda w: pp.Resample(wavenumbers=w, grid=(400.0, 1800.0, 2.0)),
    "resample_nearest": lambda w: pp.Resample(wavenumbers=w, grid=(300, 1900, 5),
                                              outside="nearest"),
    **{f"normalize_{m}": (lambda w, m=m: pp.Normalize(m, wavenumbers=w))
       for m in pp.NORMALIZATIONS},
    "savgol": lambda w: pp.SavitzkyGolay(9, 2, wavenumbers=w),
    "despike": lambda w: pp.Despike(threshold=5.0, wavenumbers=w),
}


def test_every_step_has_a_transformer() -> None:
    assert set(TRANSFORMERS) == set(IDS) - {"paper_recipe"}


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_matches_function(name: str) -> None:
    X, w = _data()
    Xr = _readonly(X)
    est = TRANSFORMERS[name](_readonly(w))
    got = est.fit_transform(Xr)
    want, wout = STEPS[name][0](X, w)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(Xr, X)
    assert est.n_features_in_ == N_POINTS
    if name == "crop":
        np.testing.assert_array_equal(est.wavenumbers_out_, wout)
    if name.startswith("resample"):
        np.testing.assert_array_equal(est.grid_, wout)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_dtypes(name: str, dtype: type) -> None:
    # What check_estimators_dtypes would test (an expected failure for Normalize, whose
    # random integer rows are flat): fit and transform take int32, int64 and float32
    # spectra and give the float64 result of the same values.
    X, w = _data()
    Xd = (X if dtype is np.float32 else np.round(1000 * X)).astype(dtype)
    est = TRANSFORMERS[name](w)
    want = clone(est).fit_transform(Xd.astype(np.float64))
    got = est.fit(Xd).transform(Xd)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(clone(est).fit_transform(Xd), want)


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_refit_is_idempotent(name: str) -> None:
    # What check_fit_idempotent would test (an expected failure for LinearBaseline,
    # SavitzkyGolay and BaselineCorrection, which refuse its 2-point spectra): fitting
    # again, also after a fit on other spectra, gives the same transform.
    X, w = _data()
    other = 3.0 * X[::-1] + 1.0
    est = TRANSFORMERS[name](w)
    first = est.fit(X).transform(other)
    est.fit(other)
    np.testing.assert_array_equal(est.fit(X).transform(other), first)
    np.testing.assert_array_equal(clone(est).fit(X).transform(other), first)


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_refuses_other_width(name: str) -> None:
    X, w = _data()
    est = TRANSFORMERS[name](w).fit(X)
    with pytest.raises(ValueError, match=f"X has {N_POINTS - 1} features, but .* expecting "
                                         f"{N_POINTS} features"):
        est.transform(X[:, :-1])


@pytest.mark.parametrize("cls", [pp.Crop, pp.Resample])
def test_grid_changing_transformer_needs_axis(cls: type) -> None:
    X, _ = _data()
    with pytest.raises(ValueError, match="wavenumbers must be given to"):
        cls().fit(X)


def test_transformer_axis_length_must_match() -> None:
    X, w = _data()
    with pytest.raises(ValueError, match=f"X has {N_POINTS} points but wavenumbers has 10"):
        pp.LinearBaseline(wavenumbers=w[:10]).fit(X)


def _expected_failures(est: Any) -> dict[str, str]:
    # These checks feed tiny random matrices (2 points, negative or constant rows) that no
    # spectrum looks like; the steps refuse them with a RamancamError on purpose. What each
    # check would have covered is tested above on spectra: test_transformer_dtypes,
    # test_integer_input and test_transformer_refit_is_idempotent. xfail_strict (pyproject)
    # turns one that starts to pass into a failure, so this list cannot go stale.
    if isinstance(est, pp.Normalize):
        return {"check_estimators_dtypes": "integer test rows are constant: flat spectrum"}
    if isinstance(est, pp.SavitzkyGolay):
        return {"check_fit_idempotent": "2-point spectra are shorter than the window"}
    if isinstance(est, pp.BaselineCorrection):
        return {"check_fit_idempotent": "2-point spectra are too short for a baseline"}
    if isinstance(est, pp.LinearBaseline):  # the line through 2 points is all of them
        return {"check_fit_idempotent": "a 2-point spectrum is all baseline: refused"}
    return {}


@parametrize_with_checks(
    [pp.LinearBaseline(), pp.Despike(), pp.Normalize("vector"), pp.Normalize("snv"),
     pp.SavitzkyGolay(3, 1), pp.BaselineCorrection("asls")],
    expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    check(estimator)


def test_sklearn_expected_failures_are_strict(request: pytest.FixtureRequest) -> None:
    # An expected failure that passes (XPASS) must fail the run, not pass silently.
    assert request.config.getini("xfail_strict") is True


@pytest.mark.parametrize("make", [lambda X, w: pp.BaselineCorrection("asls").fit_transform(X),
                                  lambda X, w: pp.baseline(X, w, "snip")[0]])
def test_baseline_refuses_a_two_point_spectrum_in_one_clear_line(make: Any) -> None:
    # pybaselines' own error was "zero-size array to reduction operation minimum which has
    # no identity. Check its parameters.": the parameters were not what was wrong.
    X = np.random.default_rng(0).normal(100.0, 1.0, (3, 2))
    w = np.array([400.0, 410.0])
    with pytest.raises(RamancamError, match=r"^spectrum 0 must have at least 3 points for the "
                                            r"\w+ baseline; got 2\. Give spectra with more "
                                            r"points \(a wider range or a finer grid\)\.$"):
        make(X, w)


def test_baseline_needs_more_points_than_its_difference_order() -> None:
    rng = np.random.default_rng(0)
    w = np.array([400.0, 410.0, 420.0, 430.0])
    X = rng.normal(100.0, 1.0, (2, 4)) + np.array([0.0, 5.0, 0.0, 0.0])
    with pytest.raises(RamancamError, match=r"^spectrum 0 must have at least 4 points for the "
                                            r"asls baseline with diff_order=3; got 3\."):
        pp.baseline(X[:, :3], w[:3], "asls", diff_order=3)
    assert pp.baseline(X, w, "asls", diff_order=3)[0].shape == (2, 4)  # enough points
    assert pp.baseline(X[:, :3], w[:3], "asls")[0].shape == (2, 3)  # diff_order 2: 3 do


def test_pipeline_gives_pandas_with_the_output_axis_as_columns() -> None:
    """set_output(transform="pandas"): columns are the output axis's shifts as text, as
    wide tables head them (the grid after Resample, the kept range after Crop)."""
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    w = np.linspace(300.0, 1900.0, 400)
    X = 1 + np.exp(-0.5 * ((w - 405) / 8) ** 2) + 0.01 * rng.random((3, w.size))
    pipe = make_pipeline(pp.LinearBaseline(wavenumbers=w),
                         pp.Resample(wavenumbers=w, grid=(400, 410, 2)),
                         pp.Normalize()).set_output(transform="pandas")
    out = pipe.fit_transform(X)
    assert list(out.columns) == ["400", "402", "404", "406", "408", "410"]
    np.testing.assert_allclose(out.to_numpy(), make_pipeline(
        pp.LinearBaseline(wavenumbers=w), pp.Resample(wavenumbers=w, grid=(400, 410, 2)),
        pp.Normalize()).fit_transform(X))
    # column names tell close shifts apart ({:g} made 1000.005 and 1000.000 one name)
    fine = pp.Resample(wavenumbers=w, grid=(1000.0, 1000.5, 0.005)).fit(X)
    names = fine.get_feature_names_out()
    assert len(set(names)) == len(names) == 101 and names[1] == "1000.005"
    crop = pp.Crop(wavenumbers=w, lo=400, hi=420).fit(X)
    assert crop.get_feature_names_out().tolist() == [f"{v:.10g}" for v in crop.wavenumbers_out_]
    # a step that keeps the axis passes a DataFrame's own column names through
    assert pp.Normalize().fit(X).get_feature_names_out(
        [f"c{i}" for i in range(w.size)])[:2].tolist() == ["c0", "c1"]


def test_a_pipeline_that_loses_the_axis_names_the_fix_for_every_step() -> None:
    """A Spectra's axis reaches the first step only: a later Resample gets LinearBaseline's
    bare array, and the message named the pandas fix "after Resample or Crop" alone."""
    from sklearn.pipeline import make_pipeline

    from ramancam.spectra import Spectra

    w = np.linspace(300.0, 1900.0, 400)
    X = 1 + np.exp(-0.5 * ((w - 405) / 8) ** 2) + np.zeros((3, 1))
    steps = (pp.LinearBaseline(), pp.Resample(grid=(400, 410, 2)), pp.Normalize())
    with pytest.raises(RamancamError, match=r"whose later steps get a bare "
                                            r"array: give the first step one of these, and "
                                            r"make_pipeline\(\.\.\.\)\.set_output"):
        make_pipeline(*steps).fit_transform(Spectra(X, w))
    out = make_pipeline(*steps).set_output(transform="pandas").fit_transform(Spectra(X, w))
    assert out.shape == (3, 6) and out.columns[0] == "400"


def test_a_dataframe_with_raman_shift_headers_gives_its_axis():
    # the point index stood in for the axis: on an uneven axis the straight baseline and
    # the area differed from those on the headers' shifts (by up to 0.29 and ~ the step)
    pd = pytest.importorskip("pandas")
    from ramancam.preprocess.transformers import LinearBaseline, Normalize

    rng = np.random.default_rng(0)
    w = np.sort(rng.uniform(400.0, 1800.0, 60))
    # uneven, but no two points much closer than the step (refused)
    w = np.round(0.5 * (w + np.linspace(w[0], w[-1], 60)), 4)
    X = rng.random((4, 60)) + np.linspace(0.0, 1.0, 60)
    df = pd.DataFrame(X, columns=[f"{v:.4f}" for v in w])
    for t in (LinearBaseline(), Normalize(method="area")):
        want = type(t)(**{**t.get_params(), "wavenumbers": w}).fit_transform(X)
        np.testing.assert_array_equal(np.asarray(t.fit_transform(df)), want)
    # headers that are no axis (names, or numbers out of order): the point index, as before,
    # where it can stand in; the area needs the axis (after Resample in a Pipeline the index
    # stood in silently, the areas off by the grid step from the recipe's)
    named = pd.DataFrame(X, columns=[f"c{i}" for i in range(60)])
    np.testing.assert_array_equal(np.asarray(LinearBaseline().fit_transform(named)),
                                  LinearBaseline().fit_transform(X))
    for bare in (named, X):
        with pytest.raises(RamancamError, match="wavenumbers must be given to Normalize"):
            Normalize(method="area").fit_transform(bare)
    assert np.asarray(Normalize().fit_transform(named)).shape == X.shape  # max: no axis


def test_linear_baseline_regions_need_an_axis_in_a_pipeline():
    # after Resample a Pipeline hands LinearBaseline a plain array: its cm-1 regions were
    # read as point indices (4 % off, silently)
    from sklearn.pipeline import make_pipeline

    from ramancam.errors import RamancamError
    from ramancam.preprocess import LinearBaseline, Resample
    from ramancam.spectra import Spectra

    w = np.linspace(300.0, 1900.0, 801)
    rng = np.random.default_rng(0)
    s = Spectra(1.0 + w / 2000.0 + rng.random((4, 801)) * 0.1, w)
    reg = [(400, 450), (1200, 1250)]
    with pytest.raises(RamancamError, match=r"wavenumbers must be given to LinearBaseline "
                                            r"\(the input axis\) \(its regions are in cm-1\)"):
        make_pipeline(Resample(grid=(400, 1800, 1)), LinearBaseline(regions=reg)).fit(s)
    # the two ways the message gives agree with the step function on the resampled spectra
    ref = make_pipeline(Resample(grid=(400, 1800, 1)),
                        LinearBaseline(wavenumbers=np.arange(400, 1801.0), regions=reg))
    pandas_out = make_pipeline(Resample(grid=(400, 1800, 1)),
                               LinearBaseline(regions=reg)).set_output(transform="pandas")
    np.testing.assert_allclose(pandas_out.fit_transform(s).to_numpy(), ref.fit_transform(s))
    # without regions the point index still stands in (the line through the end points)
    assert make_pipeline(Resample(grid=(400, 1800, 1)), LinearBaseline()).fit_transform(s).shape \
        == (4, 1401)


def test_transformers_name_nan_and_check_baseline_params_in_fit():
    # NaN got scikit-learn's message (suggesting HistGradientBoostingClassifier);
    # BaselineCorrection took any params in fit and failed at transform, or never
    from ramancam.errors import RamancamError

    X, w = _data()
    bad = X.copy()
    bad[1, 7] = np.nan
    with pytest.raises(RamancamError, match=rf"X must be finite \(no NaN or inf\); got nan in "
                                            rf"spectrum 1 at {w[7]:g} cm-1"):
        pp.Normalize(wavenumbers=w).fit(bad)
    fitted = pp.Normalize(wavenumbers=w).fit(X)
    with pytest.raises(RamancamError, match="got nan in spectrum 1"):
        fitted.transform(bad)
    for params, match in [({"lamb": 1}, "got 'lamb'"),
                          ({"max_iter": 10**9}, "max_iter must be at most 100000"),
                          ([1, 2], r"params of BaselineCorrection must be a dict of "
                                   r"pybaselines' asls keywords; got \[1, 2\]")]:
        with pytest.raises(RamancamError, match=match):
            pp.BaselineCorrection(wavenumbers=w, params=params).fit(X)


@pytest.mark.parametrize("step", [pp.Crop(lo=500, hi=1500), pp.Resample(grid=(0, 1999, 4)),
                                  pp.Normalize(method="area"),
                                  pp.LinearBaseline(regions=[(0, 100), (1900, 1999)])],
                         ids=lambda t: type(t).__name__)
def test_a_dataframe_with_pandas_default_column_names_is_refused_like_the_array(step):
    # pd.DataFrame(X)'s labels 0..p-1 were taken for Raman shifts in cm-1: Crop kept points
    # 500..1500, the area was an integral over the point index, silently
    pd = pytest.importorskip("pandas")
    X = 1 + np.random.default_rng(0).random((3, 2000))
    name = type(step).__name__
    with pytest.raises(RamancamError, match=rf"^wavenumbers must be given to {name} .*got an "
                                            r"array without Raman shifts\."):
        clone(step).fit_transform(X)
    for df in (pd.DataFrame(X), pd.DataFrame(X).iloc[:, ::-1],  # either order
               pd.DataFrame(X, columns=[str(i) for i in range(2000)])):  # read from a header
        with pytest.raises(RamancamError, match=rf"^wavenumbers must be given to {name} .*got "
                                                r"a DataFrame whose column names are its "
                                                r"point positions \(0 to 1999\), not Raman "
                                                r"shifts \(pandas' default names; should they "
                                                r"be Raman shifts from 0 cm-1, give them as "
                                                r"wavenumbers=\)\. Give wavenumbers="):
            clone(step).fit_transform(df)
    # with the axis given, the same DataFrame is transformed on it
    w = np.linspace(0.0, 1999.0, 2000)
    np.testing.assert_array_equal(
        np.asarray(clone(step).set_params(wavenumbers=w).fit_transform(pd.DataFrame(X))),
        clone(step).set_params(wavenumbers=w).fit_transform(X))


def test_a_dataframe_with_pandas_default_column_names_has_no_axis_for_other_steps():
    # steps that need no axis still take it, on the point index, and keep its names
    pd = pytest.importorskip("pandas")
    X, _ = _data()
    df = pd.DataFrame(X)
    sg = pp.SavitzkyGolay().fit(df)
    np.testing.assert_array_equal(np.asarray(sg.transform(df)), pp.SavitzkyGolay().fit_transform(X))
    # integer labels are not names to scikit-learn: its x0, x1, ...; text ones pass through
    assert sg.axis_is_index_ and sg.get_feature_names_out()[:2].tolist() == ["x0", "x1"]
    named = pd.DataFrame(X, columns=[str(i) for i in range(N_POINTS)])
    assert pp.SavitzkyGolay().fit(named).get_feature_names_out()[:2].tolist() == ["0", "1"]
    # ... and the next step refuses them as the positions they are
    from sklearn.pipeline import make_pipeline
    with pytest.raises(RamancamError, match=r"column names are its point positions"):
        make_pipeline(pp.SavitzkyGolay(), pp.Crop(lo=50, hi=150)).set_output(
            transform="pandas").fit_transform(named)


def test_a_step_without_an_axis_does_not_name_its_columns_like_raman_shifts():
    # SavitzkyGolay on a bare array named its columns "0", "1", ... (the point index), and
    # set_output(transform="pandas"), as the refusal advised, made Crop read them as cm-1
    from sklearn.pipeline import make_pipeline

    X, w = _data()
    names = pp.SavitzkyGolay().fit(X).get_feature_names_out()
    assert names.tolist() == [f"x{i}" for i in range(N_POINTS)]  # scikit-learn's names
    crop = make_pipeline(pp.SavitzkyGolay(), pp.Crop(lo=50, hi=150))
    with pytest.raises(RamancamError, match=r"^wavenumbers must be given to Crop .*got an "
                                            r"array without Raman shifts"):
        crop.fit_transform(X)
    with pytest.raises(RamancamError, match=r"^wavenumbers must be given to Crop .*got a "
                                            r"DataFrame whose column names \('x0', 'x1', "
                                            r"\.\.\.\) are not Raman shifts"):
        crop.set_output(transform="pandas").fit_transform(X)
    # the message's way: the first step given the axis passes it on as column names
    out = make_pipeline(pp.SavitzkyGolay(wavenumbers=w), pp.Crop(lo=500, hi=1500)).set_output(
        transform="pandas").fit_transform(X)
    want = pp.Crop(wavenumbers=w, lo=500, hi=1500).fit_transform(
        pp.SavitzkyGolay().fit_transform(X))
    np.testing.assert_array_equal(out.to_numpy(), want)
    assert out.columns[0] == f"{w[(w >= 500) & (w <= 1500)][0]:.10g}"
    # a step given the axis, or fitted on a Spectra, still names its columns by shift
    assert pp.SavitzkyGolay(wavenumbers=w).fit(X).get_feature_names_out()[0] == f"{w[0]:.10g}"
