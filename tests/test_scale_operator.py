"""The precomputed resampling operator equals the per-call spline (issue 14, throughput)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import make_interp_spline

from ramancam.preprocess import baseline_recipe, paper_recipe, resample, steps
from ramancam.preprocess import operators as ops
from ramancam.spectra import Spectra


@pytest.fixture
def op_calls(monkeypatch):
    """Count the calls of the operator path inside resample (it wraps the real function).

    Without this the batched-vs-unbatched comparisons below would still pass if resample
    stopped using the operator: they would compare the per-call spline with itself.
    """
    calls: list[int] = []
    real = steps.apply_operator

    def spy(op, X):
        calls.append(X.shape[0])
        return real(op, X)

    monkeypatch.setattr(steps, "apply_operator", spy)
    return calls


def _axis(rng, n=400, lo=350.0, hi=1850.0):
    w = np.sort(rng.uniform(lo, hi, n))
    w[0], w[-1] = lo, hi
    return 0.5 * (w + np.linspace(lo, hi, n))  # uneven, no two points much closer than the step


@pytest.mark.parametrize("n_in", [3, 4, 50, 400])
def test_operator_equals_the_spline(rng, n_in):
    w = _axis(rng, n_in)
    grid = np.linspace(300.0, 1900.0, 333)  # beyond both ends: clipped like resample does
    X = rng.normal(size=(7, n_in)) + 5.0
    k = min(3, n_in - 1)
    ref = make_interp_spline(w, X.T, k=k)(np.clip(grid, w[0], w[-1])).T
    got = ops.apply_operator(ops.spline_operator(w, grid, k), X)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


def test_operator_is_banded_and_cached(rng):
    w = _axis(rng, 800)
    grid = np.arange(400.0, 1801.0)
    op = ops.spline_operator(w, grid)
    assert op.shape == (grid.size, w.size)
    assert op.nnz < 0.1 * grid.size * w.size  # a band, not a dense matrix
    assert ops.spline_operator(w.copy(), grid.copy()) is op


def test_operator_for_large_batches_only_and_switch(rng):
    w = _axis(rng, 120)
    grid = np.arange(400.0, 1800.0, 7.0)
    assert ops.min_batch(120) == ops.MIN_SPECTRA and ops.min_batch(1000) == 2000
    assert ops.operator_for(w, grid, 3, ops.MIN_SPECTRA - 1) is None
    assert ops.operator_for(w, grid, 3, ops.MIN_SPECTRA) is ops.spline_operator(w, grid, 3)
    with ops.batching(False):
        assert ops.operator_for(w, grid, 3, 10**6) is None
    assert ops.operator_for(w, grid, 3, 10**6) is not None


@pytest.mark.parametrize("outside", ["error", "nearest", "zero"])
def test_resample_with_operator_equals_per_call_spline(rng, op_calls, outside):
    w = _axis(rng, 300, 380.0, 1820.0)
    X = rng.random((ops.min_batch(w.size), w.size))
    grid = np.arange(400.0, 1801.0, 2.0) if outside == "error" else np.arange(350.0, 1851.0)
    with ops.batching(False):
        ref, _ = resample(X, w, grid, outside=outside)
    assert op_calls == []  # batching off: the per-call spline
    got, _ = resample(X, w, grid, outside=outside)
    assert op_calls == [len(X)]  # the whole batch went through the operator, once
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    # a small batch takes the direct spline: the same bits as with batching off
    np.testing.assert_array_equal(resample(X[:5], w, grid, outside=outside)[0], ref[:5])
    assert op_calls == [len(X)]
    # a descending axis is sorted first, exactly as on the per-call path
    got, _ = resample(X[:, ::-1], w[::-1], grid, outside=outside)
    assert op_calls == [len(X), len(X)]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["paper", "asls", "arpls"])
def test_every_shipped_recipe_is_unchanged_by_batching(rng, op_calls, name):
    w = _axis(rng, 100)
    n = ops.min_batch(w.size)
    X = (1.0 / (1.0 + ((w - rng.uniform(500, 1700, (n, 1))) / 8.0) ** 2)
         + np.exp(-((w - 900.0) / 600.0) ** 2) + rng.normal(0, 0.01, (n, w.size)))
    data = Spectra(X, w)
    recipe = (paper_recipe(grid=(400, 1800, 4)) if name == "paper"
              else baseline_recipe(name, grid=(400, 1800, 4)))
    with ops.batching(False):
        ref = recipe.apply(data).X
    assert op_calls == []
    # arpls stops on a relative change: rounding between the batched operator and the
    # per-call spline can stop a spectrum one iteration apart (~2e-9)
    np.testing.assert_allclose(recipe.apply(data).X, ref, rtol=0,
                               atol=1e-8 if name == "arpls" else 1e-10)
    assert op_calls == [n]  # the recipe's resampling step used the operator on the batch


def test_operator_in_blocks_of_rows_gives_the_bits_of_one_product(rng, monkeypatch):
    # apply_operator goes BLOCK_ROWS rows at a time (the transposed copies of a large batch
    # were full-size); each output value is the same sum in the same order
    w = _axis(rng, 120)
    X = rng.random((300, w.size))
    op = ops.spline_operator(w, np.arange(400.0, 1801.0, 4.0))
    one = np.ascontiguousarray((op @ np.ascontiguousarray(X.T)).T)
    monkeypatch.setattr(ops, "BLOCK_ROWS", 64)
    np.testing.assert_array_equal(ops.apply_operator(op, X), one)
