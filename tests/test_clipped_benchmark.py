"""``benchmarks/clipped.py``: the models refitted without the clipped training spectra."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from _toy_sets import toy_spec

CLIPPED = [0, 5, 13, 30]  # two of class a, one of b, one of c


@pytest.fixture
def cl(load_benchmark):
    load_benchmark("realdata")
    return load_benchmark("clipped")


def _clipped_spec(rd):
    spec = toy_spec(rd)
    tiny = ["--epochs", "2", "--filters", "2", "--filter-size", "3", "--fc-width", "4",
            "--augment", "off"]

    def load():
        s = spec.load()
        X = s.X.copy()
        X[CLIPPED, 150:154] = 5.0  # held at its maximum over 4 points: a saturated detector
        return s.replace(X)

    return rd.SetSpec(spec.name, spec.split, load, [*spec.options, *tiny], spec.command)


def test_clipped_training_spectra_are_left_out_and_the_test_parts_kept(cl, monkeypatch):
    from ramancam import baselines

    rd = sys.modules["realdata"]
    sizes: list[int] = []
    real = baselines.PCASVM.fit

    def fit(self, X, y):
        sizes.append(len(X))
        return real(self, X, y)

    monkeypatch.setattr(baselines.PCASVM, "fit", fit)
    out = cl.run_set(_clipped_spec(rd), ["pca-svm", "cnn"], [0])
    assert out["n"] == 36 and out["n_clipped"] == 4
    assert out["clipped_by_class"] == {"a": 2, "b": 1, "c": 1}
    _, _, _, splits = rd.prepared_with_raw(_clipped_spec(rd))
    kept = [len(tr) for tr, _ in splits]
    gone = [len(tr) - int(np.isin(tr, CLIPPED).sum()) for tr, _ in splits]
    assert sizes == kept + gone  # kept first, then left out, fold by fold
    models = out["models"]
    assert list(models) == ["PCA+SVM, clipped kept", "PCA+SVM, clipped left out",
                            "CNN default seed 0, clipped left out"]
    for d in models.values():
        assert len(d["all"]) == len(d["unclipped"]) == 3
        assert all(0.0 <= v <= 1.0 for v in d["all"] + d["unclipped"])
    lines = cl.table([out]).splitlines()
    assert lines[0] == ("| set | split | clipped | model | all test spectra | "
                        "unclipped test spectra |")
    assert lines[2].startswith("| toy | stratified 3-fold | 4 of 36 | PCA+SVM, clipped kept | ")


def test_models_are_checked(cl, capsys):
    with pytest.raises(SystemExit):
        cl.main(["--sets", "saliva-pd-ad", "--models", "svm"])
    assert "--models must name models of pca-svm, cnn; got 'svm'" in capsys.readouterr().err
