"""A recipe runs a large set a block of rows at a time (steps.BLOCK_ROWS): memory stays near
the input plus the output, and the bits, the resampling path and the refusal raised are
those of each step over the whole set (an audit: 10^5 spectra made 4.8 GB of temporaries)."""

from __future__ import annotations

import numpy as np
import pytest

from _memory import traced_peak
from ramancam.errors import RamancamError
from ramancam.preprocess import Recipe, baseline_recipe, paper_recipe, resample, steps
from ramancam.preprocess import operators as ops
from ramancam.preprocess._validation import _names
from ramancam.spectra import Spectra


def _set(n: int, p: int, seed: int, *, descending: bool = False, bands: int = 3
         ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` spectra on an uneven ``p``-point axis over 350-1850 cm-1: ``bands`` bands on a
    curved background with noise."""
    rng = np.random.default_rng(seed)
    w = np.sort(rng.uniform(350.0, 1850.0, p))
    w[0], w[-1] = 350.0, 1850.0
    w = 0.5 * (w + np.linspace(350.0, 1850.0, p))  # uneven, no two points much closer than the step
    X = 0.3 + 0.2 * ((w - 350.0) / 1500.0)[None] ** 2 * rng.uniform(0.5, 1.5, (n, 1))
    for _ in range(bands):
        X = X + np.exp(-0.5 * ((w[None] - rng.uniform(450, 1700, (n, 1))) / 6.0) ** 2)
    X = X + 0.01 * rng.standard_normal((n, p))
    return (X[:, ::-1].copy(), w[::-1].copy()) if descending else (X, w)


def _whole(recipe: Recipe, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each step over the whole set, one after the other: what Recipe.apply did before it
    worked in blocks."""
    names = _names(X.shape[0])
    for s in recipe.steps:
        X, w = s.run(X, w, names)
    return X


RECIPES = {
    "paper": paper_recipe(grid=(400, 1800, 4)),
    "paper-grid": paper_recipe(grid=(400, 1800, 4), line_through="grid"),
    "asls": baseline_recipe("asls", grid=(400, 1800, 4)),
    "none": Recipe([]),
    "savgol-regions-crop-snv": Recipe([
        ("savgol", {}), ("linear_baseline", {"regions": [[350, 420], [1780, 1850]]}),
        ("crop", {"lo": 380, "hi": 1820}),
        ("resample", {"start": 400, "stop": 1800, "step": 3, "outside": "zero"}),
        ("normalize", {"method": "snv"})]),
}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("name", list(RECIPES))
def test_blocks_give_the_bits_of_the_whole_set(monkeypatch, name, descending):
    # 450 spectra of 120 points in blocks of 100: the whole set takes the resampling
    # operator (min_batch(120) = 256), and so must its last block of 50, which alone would
    # take the per-call spline, whose bits differ (checked below)
    monkeypatch.setattr(steps, "BLOCK_ROWS", 100)
    X, w = _set(450, 120, 1, descending=descending)
    recipe = RECIPES[name]
    ref = _whole(recipe, X, w)
    got = recipe.apply(Spectra(X, w)).X
    assert np.array_equal(got, ref)
    assert np.array_equal(recipe.apply_arrays(X, w)[0], ref)
    assert np.array_equal(recipe.apply(Spectra(X.astype(np.float32), w)).X,
                          _whole(recipe, X.astype(np.float32).astype(np.float64), w))
    if recipe.grid is not None:
        with ops.batching(False):  # the per-call spline: other bits, so the path matters
            assert not np.array_equal(_whole(recipe, X, w), ref)


def test_a_set_below_the_operator_batch_keeps_the_spline_in_blocks(monkeypatch):
    # 200 spectra (< min_batch = 256) in blocks of 64: the per-call spline for every block
    monkeypatch.setattr(steps, "BLOCK_ROWS", 64)
    X, w = _set(200, 120, 2)
    recipe = paper_recipe(grid=(400, 1800, 4))
    with ops.batching(False):
        ref = _whole(recipe, X, w)
    assert np.array_equal(recipe.apply(Spectra(X, w)).X, ref)
    assert np.array_equal(resample(Spectra(X, w), (400, 1800, 4)).X,
                          resample(X, w, (400, 1800, 4))[0])


def test_blocks_raise_the_refusal_of_the_whole_set(monkeypatch):
    monkeypatch.setattr(steps, "BLOCK_ROWS", 100)
    X, w = _set(450, 120, 3)
    recipe = paper_recipe(grid=(400, 1800, 4))
    # an arc below the line through its ends: the last step (max normalisation) refuses it
    X[30] = 0.5 - 0.4 * np.sin(np.pi * (w - 350.0) / 1500.0)
    with pytest.raises(RamancamError, match="spectrum 30 must have a positive maximum"):
        recipe.apply(Spectra(X, w))
    # a later block's spectrum that the first step refuses: the whole set stopped there
    X[420] = 1.0
    with pytest.raises(RamancamError, match="spectrum 420 must keep bands after linear"):
        recipe.apply(Spectra(X, w))
    # the resampling range's refusal counts the whole set, not the block
    with pytest.raises(RamancamError, match="spectrum 0 and 449 other spectra"):
        paper_recipe(grid=(300, 1800, 4)).apply(Spectra(_set(450, 120, 3)[0], w))


def test_a_large_set_takes_about_its_output_in_memory():
    # Counted by tracemalloc, not timed: 20,000 x 800 (128 MB in, 112 MB out) took 483 MB
    # before (every step's temporaries full-size: baseline, |X|, sorted copy, transposes,
    # the Spectra's copy of the result); in blocks of 4,096 it takes 214 MB.
    X, w = _set(20_000, 800, 5, bands=1)
    data = Spectra(X, w, copy=False)
    recipe = paper_recipe(grid=(400, 1800, 2))
    out, peak = traced_peak(recipe.apply, data)
    block = steps.BLOCK_ROWS * X.shape[1] * 8
    assert peak < out.X.nbytes + 6 * block, (peak, out.X.nbytes, block)
    assert np.array_equal(out.X, _whole(recipe, X, w))
