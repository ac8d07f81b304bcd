"""``benchmarks/ceiling.py``: further classifiers on the benchmark's inputs and folds."""

from __future__ import annotations

import json
import sys

import pytest

from _toy_sets import toy_spec


@pytest.fixture
def ce(load_benchmark):
    load_benchmark("realdata")
    return load_benchmark("ceiling")


def _spec(rd, shift=100.0):
    return toy_spec(rd, step=2.0, shift=shift)


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


def test_library_match_model_is_the_predict_column_and_models_pick_a_subset(ce, tmp_path):
    import numpy as np

    from ramancam.novelty import NoveltyScorer

    rd = sys.modules["realdata"]
    spec = _spec(rd)
    out = ce.run_set(spec, models=["library-match"])
    assert list(out["models"]) == ["library-match"]
    # the panel's model is the scorer's library match, fold by fold
    _, data, splits = rd.prepared(spec, None)
    X, y = np.asarray(data.X, dtype=np.float64), np.asarray(data.labels).astype(str)
    est = ce.panel()["library-match"][0]
    for (tr, te), acc in zip(splits, out["models"]["library-match"]["fold_accuracy"],
                             strict=True):
        tr, te = np.asarray(tr), np.asarray(te)
        classes, idx = np.unique(y[tr], return_inverse=True)
        scorer = NoveltyScorer("hqi").fit(X[tr], idx, None)
        want = classes[scorer.library_match(X[te])]
        got = est.fit(X[tr], y[tr]).predict(X[te])
        np.testing.assert_array_equal(got, want)
        assert acc == pytest.approx(np.mean(want == y[te]))
    lines = ce.table([out], tmp_path / "none.json").splitlines()
    assert lines[0].endswith("| library | library-match | best of all |")
    with pytest.raises(SystemExit):
        ce.main(["--sets", "none", "--models", "nope"])
