"""What the estimators check of their input (``ramancam._inputs``): empty labels in ``y``,
a Spectra on another axis with as many points, NaN, the number of points, ``score`` with a
Spectra's labels, and the docstring examples."""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

import ramancam
from ramancam.baselines import PCASVM, PLSDA, LibrarySearch
from ramancam.errors import RamancamError, RamancamWarning
from ramancam.preprocess.transformers import LinearBaseline, Normalize, Resample
from ramancam.simulate import peak_position_set
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier

TINY = {"n_filters": 4, "filter_size": 3, "fc_width": 8, "epochs": 1, "batch_size": 16}


@pytest.fixture(scope="module")
def data():
    s = peak_position_set(10, n_channels=128, positions=(20, 60, 100), rng=0)
    return s.replace(wavenumbers=np.linspace(400.0, 1600.0, 128))


def _estimators():
    return [LibrarySearch(), PCASVM(random_state=0), PLSDA(),
            CNNClassifier(**TINY, random_state=0)]


@pytest.mark.parametrize("est", _estimators(), ids=lambda e: type(e).__name__)
def test_an_empty_label_in_y_is_refused_as_in_the_spectra(est, data):
    # fit(data) refused unlabelled spectra, fit(data, data.labels) learnt a class ""
    labels = data.labels.copy()
    labels[:3] = ""
    with pytest.raises(RamancamError, match="y must hold a class for every spectrum; got 3"):
        est.fit(data, labels)


@pytest.mark.parametrize("est", _estimators(), ids=lambda e: type(e).__name__)
def test_spectra_on_another_axis_are_refused(est, data):
    # the same number of points on another axis was classified as if measured on the first
    est.fit(data)
    moved = data.replace(wavenumbers=data.wavenumbers + 150.0)
    with pytest.raises(RamancamError, match=r"X's axis \(550-1750 cm-1\) must be the axis "
                                            f"{type(est).__name__} was fitted on"):
        est.predict(moved)
    # the same axis written descending: told to reverse, not to resample
    flipped = Spectra(data.X[:, ::-1], data.wavenumbers[::-1], data.labels)
    with pytest.raises(RamancamError, match=r"got the same number of points on the same "
                                            r"axis in the other order: reverse"):
        est.predict(flipped)
    assert est.predict(data).shape == (len(data),)
    assert est.predict(data.X).shape == (len(data),)  # an array carries no axis to check


@pytest.mark.parametrize("est", _estimators(), ids=lambda e: type(e).__name__)
def test_nan_and_too_few_points_are_said_with_the_spectrum_and_the_fix(est, data):
    est.fit(data)
    X = data.X.copy()
    X[4, 7] = np.nan
    with pytest.raises(RamancamError, match="got NaN in row 4 at point 7"):
        est.predict(X)
    with pytest.raises(RamancamError, match="got inf in spectrum"):
        est.fit(data.replace(X=np.where(np.arange(128) == 3, np.inf, data.X)))
    with pytest.raises(RamancamError, match=r"X has 100 features, but .* expecting 128 "
                                            r"features as input \(the points of the axis in "
                                            r"fit\)\. Resample"):
        est.predict(data.X[:, :100])


def test_score_and_cross_validation_take_the_spectra_labels(data):
    clf = LibrarySearch().fit(data)
    assert clf.score(data) == 1.0
    scores = cross_val_score(LibrarySearch(), data, data.labels, cv=3)
    assert scores.min() == 1.0
    search = GridSearchCV(LibrarySearch(), {"n_neighbors": [1, 3]}, cv=3).fit(data,
                                                                              data.labels)
    assert search.best_score_ == 1.0
    # without y scikit-learn splits in order, unstratified: the score is real but says why
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cross_val_score(LibrarySearch(), data, cv=3)
    assert any(issubclass(w.category, RamancamWarning) and "pass y=data.labels" in
               str(w.message) for w in caught)


def test_a_pipeline_without_y_is_told_to_pass_the_labels(data):
    pipe = make_pipeline(Normalize(), LibrarySearch())
    with pytest.raises(RamancamError, match=r"requires y to be passed.*fit\(data, "
                                            r"data\.labels\)"):
        pipe.fit(data)
    assert pipe.fit(data, data.labels).score(data, data.labels) == 1.0


def test_transformers_use_and_check_the_axis_a_spectra_carries(data):
    r = Resample(grid=(500.0, 1500.0, 2.0)).fit(data)  # no wavenumbers: the Spectra's axis
    assert r.transform(data).shape == (len(data), 501)
    with pytest.raises(RamancamError, match="must be the axis Resample was fitted on"):
        r.transform(data.replace(wavenumbers=data.wavenumbers + 50.0))
    with pytest.raises(RamancamError, match="must be the wavenumbers given to LinearBaseline"):
        LinearBaseline(wavenumbers=np.arange(128.0)).fit(data)
    assert LinearBaseline().fit(data).get_feature_names_out()[0] == "400"


def test_header_axis_is_not_pandas_default_column_names():
    # pd.DataFrame(X)'s labels 0..p-1 (its point positions) were taken for Raman shifts
    pd = pytest.importorskip("pandas")
    from ramancam._inputs import header_axis

    X = np.ones((2, 5))
    for cols in (None, range(5), range(4, -1, -1), [str(i) for i in range(5)],
                 [f"x{i}" for i in range(5)], np.arange(5.0)):
        assert header_axis(pd.DataFrame(X, columns=cols)) is None, cols
    for cols, want in (([f"{v}" for v in (400, 400.5, 401, 402, 404)], [400, 400.5, 401, 402, 404]),
                       (range(400, 405), np.arange(400.0, 405.0)),
                       (np.arange(1.0, 6.0), np.arange(1.0, 6.0))):
        np.testing.assert_array_equal(header_axis(pd.DataFrame(X, columns=cols)), want)
    assert header_axis(X) is None


def _modules_with_examples():
    """The package's modules whose source holds a docstring example (read, not imported)."""
    root = Path(ramancam.__file__).parent
    return sorted("ramancam." + ".".join(p.relative_to(root).with_suffix("").parts)
                  for p in root.rglob("*.py") if ">>>" in p.read_text(encoding="utf-8"))


def test_the_docstring_examples_are_found():
    assert {"ramancam.baselines", "ramancam.report"} <= set(_modules_with_examples())


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_print_what_they_say(name):
    # PCASVM's example printed ['a', 'a'] where it said so, for classes it could not tell apart
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_a_transformer_fitted_on_an_array_takes_a_spectra_on_any_axis(data):
    # fitted on an array its axis is the point index, not an axis to hold a Spectra to
    from ramancam.preprocess.transformers import Normalize

    X = data.X
    out = Normalize().fit(X).transform(data)
    np.testing.assert_allclose(out.max(axis=1), 1.0)
    pipe = make_pipeline(Normalize(), LibrarySearch()).fit(X, data.labels)
    assert (pipe.predict(data) == data.labels).all()


def test_check_finite_reads_large_float32_maps_in_place():
    from ramancam._inputs import check_finite

    X = np.ones((20000, 50), dtype=np.float32)
    check_finite(X)  # no error, no float64 copy needed
    X[19999, 3] = np.nan
    with pytest.raises(RamancamError, match="got NaN in row 19999 at point 3"):
        check_finite(X)
    check_finite(np.ones((3, 4), dtype=np.int64))
