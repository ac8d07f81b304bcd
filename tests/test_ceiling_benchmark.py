"""``benchmarks/ceiling.py``: the raw inputs (resampling alone) and the factor-analysis MLP."""

from __future__ import annotations

import numpy as np

from ramancam.spectra import Spectra


def test_raw_inputs_resample_alone_onto_the_common_range(load_benchmark):
    ceiling = load_benchmark("ceiling")
    a = np.linspace(400.0, 1000.0, 301)          # 2 cm-1
    b = np.linspace(410.0, 1100.0, 346)          # 2 cm-1, another range
    ys = [5.0 + np.sin(a / 50.0), 500.0 + 100.0 * np.cos(b / 80.0)]
    raw = Spectra(ys, [a, b])                     # one axis per spectrum
    out = ceiling.raw_inputs(raw)
    w = np.asarray(out.wavenumbers)
    assert w[0] == 410.0 and w[-1] == 1000.0 and np.allclose(np.diff(w), 2.0)
    # no baseline, no normalisation: the intensities as measured, interpolated
    np.testing.assert_allclose(out.X[0], 5.0 + np.sin(w / 50.0), atol=1e-3)
    np.testing.assert_allclose(out.X[1], 500.0 + 100.0 * np.cos(w / 80.0), atol=1e-2)


def test_fa_mlp_chooses_its_factors_on_the_training_part(load_benchmark, rng):
    ceiling = load_benchmark("ceiling")
    est, grid = ceiling.panel()["fa-mlp"]
    assert grid == {"factoranalysis__n_components": [5, 10, 20]}
    axis = np.arange(60.0)
    y = np.repeat(["a", "b"], 40)
    X = np.where((y == "a")[:, None], np.exp(-((axis - 20) / 3) ** 2),
                 np.exp(-((axis - 40) / 3) ** 2)) + rng.normal(0, 0.05, (80, 60))
    tr, te = np.arange(0, 80, 2), np.arange(1, 80, 2)
    acc, chosen = ceiling.fit_score(est, grid, X, y, tr, te)
    assert acc == 1.0 and chosen["factoranalysis__n_components"] in (5, 10, 20)
