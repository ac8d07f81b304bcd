"""``benchmarks/ceiling.py``: further classifiers on the benchmark's inputs and folds."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest


@pytest.fixture
def ce(load_benchmark):
    load_benchmark("realdata")
    return load_benchmark("ceiling")


def _spec(rd, shift=100.0):
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(0)
    grid = np.arange(400.0, 700.0, 2.0)
    y = np.repeat(["a", "b", "c"], 12)
    centre = np.select([y == "a", y == "b"], [450.0, 450.0 + shift], 450 + 2 * shift)[:, None]
    X = 0.1 + np.exp(-0.5 * ((grid - centre) / 5.0) ** 2) + 0.01 * rng.standard_normal(
        (y.size, grid.size))
    return rd.SetSpec("toy", "stratified 3-fold", lambda: Spectra(X, grid, labels=y),
                      ["--folds", "3", "--recipe", "none"], "toy")


def test_every_panel_model_is_fitted_on_the_benchmark_folds(ce):
    rd = sys.modules["realdata"]
    out = ce.run_set(_spec(rd))
    assert out["folds"] == 3 and out["n"] == 36
    assert set(out["models"]) == set(ce.panel())
    for name, d in out["models"].items():
        assert len(d["fold_accuracy"]) == 3 and len(d["chosen"]) == 3, name
        assert d["mean"] == pytest.approx(1.0), name  # three separated bands


def test_table_names_the_best_model_of_all(ce, tmp_path):
    res = tmp_path / "realdata.json"
    res.write_text(json.dumps({"rows": [{"set": "s", "split": "k", "models": {
        "CNN default": {"mean": 0.95}, "PCA+SVM": {"mean": 0.97}}}]}))
    models = {m: {"mean": 0.9, "sd": 0.01} for m in ce.panel()}
    models["logreg"] = {"mean": 0.99, "sd": 0.0}
    line = ce.table([{"set": "s", "split": "k", "folds": 5, "models": models}],
                    res).splitlines()[-1]
    assert line.startswith("| s | k | 0.950 | 0.970 | - | - | ")
    assert "0.990 +- 0.000" in line and line.endswith("| logreg 0.990 |")
