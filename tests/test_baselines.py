"""Tests for ramancam.baselines: PCA+SVM and PLS-DA with VIP."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from ramancam.baselines import PCASVM, PLSDA, LibrarySearch, plot_vip, vip_scores
from ramancam.errors import RamancamError


def lorentz(x: np.ndarray, x0: float, fwhm: float) -> np.ndarray:
    return 1.0 / (1.0 + ((x - x0) / (fwhm / 2.0)) ** 2)


def simulated_set(seed: int, n_per_class: int = 20, n_points: int = 300,
                  class_amp: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes with a defined peak each, 3 random common peaks, +-2.5 % noise (Eq. 10)."""
    rng = np.random.default_rng(seed)
    x = np.arange(n_points, dtype=float)
    X, y = [], []
    for c, x0 in enumerate((0.2 * n_points, 0.5 * n_points, 0.8 * n_points)):
        for _ in range(n_per_class):
            s = class_amp * lorentz(x, x0, 6.0)
            for _ in range(3):
                s = s + rng.uniform(0.3, 1.0) * lorentz(x, rng.uniform(0, n_points), 6.0)
            s = s + rng.uniform(-0.025, 0.025, n_points) * s.max()
            X.append(s / s.max())
            y.append(f"class{c}")
    return np.array(X), np.array(y)


# ----------------------------------------------------------------- scikit-learn contract
# Every check passes (scikit-learn 1.9); none is listed as an expected failure.
@parametrize_with_checks(
    [PCASVM(n_components=(1, 2), C=(1.0, 100.0), kernel=("linear", "rbf"), random_state=0),
     PLSDA(n_components=(1, 2), random_state=0), LibrarySearch(),
     LibrarySearch(metric="cosine", n_neighbors=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------------- VIP
def test_vip_identity_sum_of_squares_equals_n_points():
    X, y = simulated_set(1, n_per_class=10, n_points=120)
    m = PLSDA(n_components=4).fit(X, y)
    p = X.shape[1]
    assert m.vip_.shape == (3, p)
    assert m.vip_overall_.shape == (p,)
    np.testing.assert_allclose(np.sum(m.vip_overall_ ** 2), p, rtol=1e-10)
    np.testing.assert_allclose(np.sum(m.vip_ ** 2, axis=1), np.full(3, p), rtol=1e-10)
    # The class peaks (points 24, 60, 96) must rank among the most important points.
    top = set(np.argsort(m.vip_overall_)[-15:].tolist())
    assert {24, 60, 96} <= top


def _nipals_pls2_by_hand(X: np.ndarray, Y: np.ndarray, A: int):
    """PLS2 with regression deflation, each weight the leading left singular vector of X_a'Y."""
    Xa = X - X.mean(axis=0)
    Ya = Y - Y.mean(axis=0)
    W, T, Q = [], [], []
    for _ in range(A):
        u, _, _ = np.linalg.svd(Xa.T @ Ya, full_matrices=False)
        w = u[:, 0]
        t = Xa @ w
        p = Xa.T @ t / (t @ t)
        q = Ya.T @ t / (t @ t)
        Xa = Xa - np.outer(t, p)
        Ya = Ya - np.outer(t, q)
        W.append(w)
        T.append(t)
        Q.append(q)
    return np.array(W).T, np.array(T).T, np.array(Q).T


def test_vip_matches_hand_computation_with_plain_loops():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(9, 5))
    y = np.array(list("aaabbbccc"))
    X[y == "b", 1] += 2.0
    X[y == "c", 3] -= 2.0
    Y = np.eye(3)[np.searchsorted(["a", "b", "c"], y)]
    A = 2
    W, T, Q = _nipals_pls2_by_hand(X, Y, A)
    p, K = X.shape[1], 3
    vip_k = np.zeros((K, p))
    vip_o = np.zeros(p)
    for j in range(p):
        num_o = den_o = 0.0
        for k in range(K):
            num = den = 0.0
            for a in range(A):
                ss = Q[k, a] ** 2 * (T[:, a] @ T[:, a])
                num += ss * (W[j, a] / np.linalg.norm(W[:, a])) ** 2
                den += ss
            vip_k[k, j] = np.sqrt(p * num / den)
            num_o += num
            den_o += den
        vip_o[j] = np.sqrt(p * num_o / den_o)
    # NIPALS power iterations stop at tol; tighten it so that the weights match the SVD.
    m = PLSDA(n_components=A, tol=1e-14, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(m.vip_, vip_k, rtol=1e-6)
    np.testing.assert_allclose(m.vip_overall_, vip_o, rtol=1e-6)
    # The function on its own gives the same from the hand-made W, T, Q.
    v, vo = vip_scores(W, T, Q)
    np.testing.assert_allclose(v, vip_k, rtol=1e-12)
    np.testing.assert_allclose(vo, vip_o, rtol=1e-12)


def test_vip_zero_weight_component_and_unexplained_response():
    W = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    T = np.array([[1.0, 5.0], [-1.0, 5.0]])
    Q = np.array([[2.0, 9.0], [0.0, 0.0]])
    v, vo = vip_scores(W, T, Q)
    # Component 2 has no weights: it must not count. Response 2 explains nothing: VIP 1.
    np.testing.assert_allclose(v[0], [np.sqrt(3.0), 0.0, 0.0])
    np.testing.assert_allclose(v[1], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(vo, [np.sqrt(3.0), 0.0, 0.0])


def test_plsda_coef_and_predictions_match_plsregression():
    X, y = simulated_set(2, n_per_class=8, n_points=80)
    m = PLSDA(n_components=3).fit(X, y)
    pls = PLSRegression(n_components=3, scale=False).fit(X, np.eye(3)[np.unique(
        y, return_inverse=True)[1]])
    np.testing.assert_allclose(m.coef_, pls.coef_, rtol=1e-8, atol=1e-12)
    assert m.coef_.shape == (3, 80)
    np.testing.assert_allclose(m.predict_indicators(X), pls.predict(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(m.predict(X), m.classes_[np.argmax(pls.predict(X), axis=1)])


# ----------------------------------------------------------------- the nested inner search
class _Unit(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.u_ = np.sqrt(np.sum(np.var(X, axis=0)))
        return self

    def transform(self, X):
        return X / self.u_


def test_pcasvm_inner_search_equals_gridsearchcv_on_a_pipeline():
    X, y = simulated_set(3, n_per_class=12, n_points=100, class_amp=0.4)
    grid = {"n_components": (2, 5, 10), "C": (1.0, 100.0), "kernel": ("linear", "rbf")}
    m = PCASVM(**grid, scale="standard", cv=3, random_state=0).fit(X, y)
    pipe = Pipeline([("s", StandardScaler()), ("pca", PCA(svd_solver="full")),
                     ("u", _Unit()), ("svc", SVC())])
    gs = GridSearchCV(pipe, {"pca__n_components": grid["n_components"], "svc__C": grid["C"],
                             "svc__kernel": grid["kernel"]},
                      cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(X, y)
    ref = {(p["pca__n_components"], p["svc__C"], p["svc__kernel"]): s for p, s in
           zip(gs.cv_results_["params"], gs.cv_results_["mean_test_score"], strict=True)}
    ours = {(p["n_components"], p["C"], p["kernel"]): s for p, s in
            zip(m.cv_results_["params"], m.cv_results_["mean_test_score"], strict=True)}
    assert ours.keys() == ref.keys()
    for key, s in ours.items():
        assert s == pytest.approx(ref[key], abs=1e-12), key
    assert gs.best_score_ == pytest.approx(max(ours.values()))
    assert m.best_params_["n_components"] in grid["n_components"]


def test_plsda_inner_search_equals_separate_fits():
    X, y = simulated_set(4, n_per_class=10, n_points=90, class_amp=0.3)
    m = PLSDA(n_components=(1, 2, 4, 6), cv=3, random_state=5).fit(X, y)
    codes = np.unique(y, return_inverse=True)[1]
    Y = np.eye(3)[codes]
    folds = list(StratifiedKFold(3, shuffle=True, random_state=5).split(X, codes))
    for prm, s in zip(m.cv_results_["params"], m.cv_results_["mean_test_score"], strict=True):
        accs = [np.mean(np.argmax(PLSRegression(prm["n_components"], scale=False)
                                  .fit(X[tr], Y[tr]).predict(X[va]), axis=1) == codes[va])
                for tr, va in folds]
        assert s == pytest.approx(np.mean(accs), abs=1e-9), prm


def test_component_candidates_are_capped_by_the_training_size():
    X, y = simulated_set(5, n_per_class=4, n_points=50)
    m = PCASVM(n_components=(5, 40), C=(1.0,), kernel=("linear",), cv=2, random_state=0)
    m.fit(X, y)
    # 12 spectra, 2 inner folds of 6 training spectra: 40 becomes 6.
    assert [p["n_components"] for p in m.cv_results_["params"]] == [5, 6]
    pls = PLSDA(n_components=(3, 40), cv=2, random_state=0).fit(X, y)
    assert [p["n_components"] for p in pls.cv_results_["params"]] == [3, 5]


# ----------------------------------------------------------------- accuracy
@pytest.mark.parametrize("make", [lambda: PCASVM(random_state=0),
                                  lambda: PLSDA(random_state=0)], ids=["pca-svm", "plsda"])
def test_accuracy_on_simulated_three_class_set(make):
    X, y = simulated_set(11, n_per_class=20, n_points=300)
    Xt, yt = simulated_set(12, n_per_class=20, n_points=300)
    m = make().fit(X, y)
    assert m.score(Xt, yt) >= 0.95
    assert m.classes_.tolist() == ["class0", "class1", "class2"]
    assert m.n_features_in_ == 300


def test_same_seed_same_choice_and_input_not_modified():
    X, y = simulated_set(6, n_per_class=10, n_points=100, class_amp=0.3)
    X.flags.writeable = False
    a = PCASVM(n_components=(2, 5), random_state=3).fit(X, y)
    b = PCASVM(n_components=(2, 5), random_state=3).fit(X, y)
    assert a.best_params_ == b.best_params_
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])


def test_pcasvm_decision_function_shapes():
    X, y = simulated_set(8, n_per_class=6, n_points=60)
    m = PCASVM(n_components=3, C=1.0, kernel="linear").fit(X, y)
    assert m.best_params_ == {"n_components": 3, "C": 1.0, "kernel": "linear"}
    assert m.decision_function(X).shape == (18, 3)
    assert m.pca_scores(X).shape == (18, 3)
    two = y != "class2"
    m2 = PLSDA(n_components=2).fit(X[two], y[two])
    d = m2.decision_function(X[two])
    assert d.shape == (12,)
    np.testing.assert_array_equal(m2.predict(X[two]), m2.classes_[(d > 0).astype(int)])
    assert m2.vip_.shape == (2, 60)


# ----------------------------------------------------------------- errors
X_ERR, Y_ERR = simulated_set(9, n_per_class=4, n_points=30)


@pytest.mark.parametrize(("est", "match"), [
    (PCASVM(scale="autoscale"), r"scale must be one of center, standard, none; got 'autoscale'"),
    (PCASVM(n_components=(0, 5)), r"n_components must be positive integers"),
    (PCASVM(n_components=2.5), r"n_components must be positive integers"),
    (PCASVM(n_components=()), r"n_components must hold at least one candidate"),
    (PCASVM(C=(-1.0,)), r"C must be positive numbers"),
    (PCASVM(kernel="gaussian"), r"kernel must be one or more of linear, rbf"),
    (PCASVM(cv=1), r"cv must be an integer >= 2"),
    (PLSDA(n_components=[0]), r"n_components must be positive integers"),
    (PLSDA(scale="yes"), r"scale must be True or False; got 'yes'"),
    (PLSDA(max_iter=0), r"max_iter must be a positive integer; got 0"),
    (PLSDA(tol=0.0), r"tol must be a positive number; got 0.0"),
    (PLSDA(cv=True), r"cv must be an integer >= 2"),
])
def test_bad_parameters_raise_clear_errors(est, match):
    with pytest.raises(RamancamError, match=match):
        est.fit(X_ERR, Y_ERR)


@pytest.mark.parametrize("cls", [PCASVM, PLSDA])
def test_single_class_is_refused(cls):
    with pytest.raises(RamancamError, match=r"y must hold at least 2 classes; got 1 class "
                                            r"\(\['\w+'\]\)\."):  # not np.str_('...')
        cls().fit(X_ERR[:4], Y_ERR[:4])


@pytest.mark.parametrize("cls", [PCASVM, PLSDA])
def test_single_spectrum_classes_train_in_every_inner_fold(cls):
    # a library with one spectrum of "b": it cannot be scored in the inner CV, so it trains
    # in every inner fold and the model still knows it
    X = np.vstack([X_ERR[:4], X_ERR[4:5]])
    y = np.array(["a"] * 4 + ["b"])
    clf = cls(random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["a", "b"]
    assert clf.predict(X_ERR[4:5]).tolist() == ["b"]
    # one spectrum per class (a reference library): nothing to score, every candidate ties
    # and the simplest one is used
    lib = cls(random_state=0).fit(X_ERR[[0, 4]], np.array(["a", "b"]))
    assert lib.cv_results_["split_test_scores"].shape[1] == 0
    # PCA + SVM: the fewest components, capped by the two training spectra; PLS-DA: the
    # fewest that span K - 1 = 1 class contrast
    assert lib.best_params_["n_components"] == (2 if cls is PCASVM else 1)
    if cls is PCASVM:
        assert (lib.best_params_["C"], lib.best_params_["kernel"]) == (1.0, "linear")
    assert lib.predict(X_ERR[[0, 4]]).tolist() == ["a", "b"]


BASELINES = [lambda: PCASVM(n_components=(2, 3), C=(1.0,), random_state=0),
             lambda: PLSDA(n_components=(1, 2), random_state=0), LibrarySearch]


def _assert_as_it_was(est, state, X, decision):
    now = vars(est)
    assert sorted(now) == sorted(state)
    assert [k for k in state if now[k] is not state[k]] == []
    np.testing.assert_array_equal(est.decision_function(X), decision)


@pytest.mark.parametrize("make", BASELINES)
def test_a_refused_refit_leaves_the_fitted_model_as_it_was(make):
    # fit set n_features_in_ and the axis before it refused one class: predict then
    # refused the spectra the model was fitted on
    from ramancam.spectra import Spectra

    data = Spectra(X_ERR, np.linspace(400.0, 1800.0, X_ERR.shape[1]), labels=Y_ERR)
    est = make().fit(data)
    state, decision = dict(vars(est)), est.decision_function(data)
    wide = np.hstack([X_ERR, X_ERR])
    with pytest.raises(RamancamError, match="at least 2 classes"):
        est.fit(wide[:4], Y_ERR[:4])
    _assert_as_it_was(est, state, data, decision)


@pytest.mark.parametrize("make", BASELINES)
def test_an_interrupted_refit_leaves_the_fitted_model_as_it_was(make, monkeypatch):
    # Ctrl-C after the classes were set left the new class names beside the old model
    import ramancam.baselines as baselines

    est = make().fit(X_ERR, Y_ERR)
    state, decision = dict(vars(est)), est.decision_function(X_ERR)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(baselines, "_fit_svc", interrupt)
    monkeypatch.setattr(baselines, "vip_scores", interrupt)
    monkeypatch.setattr(LibrarySearch, "_unit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X_ERR, np.char.add("x", Y_ERR.astype(str)))
    monkeypatch.undo()
    _assert_as_it_was(est, state, X_ERR, decision)
    assert est.predict(X_ERR[:1]).tolist() == Y_ERR[:1].tolist()


@pytest.mark.parametrize("make", BASELINES)
def test_a_subclass_keeps_what_it_sets_before_the_fit_and_a_refit_drops_stale_state(make):
    # fit_whole ran fit on a copy without any fitted attribute: one a subclass set before
    # super().fit() was gone afterwards (0.2.0 kept it)
    class Tagged(type(make())):  # type: ignore[misc]
        def fit(self, X, y=None):
            self.source_ = "batch-7"
            return super().fit(X, y)

    est = Tagged(**make().get_params()).fit(X_ERR, Y_ERR)
    assert est.source_ == "batch-7" and hasattr(est, "classes_")
    # what the last fit made is not carried into the next: a stale attribute is dropped
    est.made_by_an_old_fit_ = 1
    est._fit_whole_made = (*est._fit_whole_made, "made_by_an_old_fit_")
    est.fit(X_ERR, Y_ERR)
    assert est.source_ == "batch-7" and not hasattr(est, "made_by_an_old_fit_")
    assert "source_" not in est._fit_whole_made and "classes_" in est._fit_whole_made


def test_plsda_on_a_one_spectrum_per_class_library_spans_the_classes():
    X, y = simulated_set(4, n_per_class=1, n_points=30)
    assert len(set(y.tolist())) >= 3
    k = len(set(y.tolist()))
    clf = PLSDA(random_state=0).fit(X, y)
    # K - 1 components (capped at n - 1 = K - 1): every library spectrum is named right
    assert clf.best_params_["n_components"] == k - 1
    assert clf.predict(X).tolist() == y.tolist()


def test_not_fitted_and_wrong_width():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PLSDA().predict(X_ERR)
    m = PLSDA(n_components=2).fit(X_ERR, Y_ERR)
    with pytest.raises(ValueError, match=r"X has 29 features"):
        m.predict(X_ERR[:, :29])


# ----------------------------------------------------------------- plot
def test_plot_vip_draws_one_line_per_class_and_threshold():
    import matplotlib

    matplotlib.use("Agg")
    m = PLSDA(n_components=2).fit(X_ERR, Y_ERR)
    x = np.linspace(400, 1800, 30)
    import matplotlib.pyplot as plt

    ax = plot_vip(m.vip_, x, m.classes_.tolist())
    # on a pyplot figure, as ramancam.plot draws: a notebook showed nothing (a bare Figure)
    assert plt.fignum_exists(ax.figure.number)
    plt.close(ax.figure)
    assert len(ax.lines) == 4  # 3 classes + the VIP = 1 line
    np.testing.assert_allclose(ax.lines[1].get_ydata(), m.vip_[1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [*m.classes_.tolist(),
                                                                   "VIP = 1"]
    from matplotlib.figure import Figure

    ax2 = Figure().add_subplot()
    assert plot_vip(m.vip_overall_, x, ax=ax2, threshold=None) is ax2
    assert len(ax2.lines) == 1
    # long names shortened as in every figure (a 150-character one collapsed the axes)
    from ramancam._labels import NAME_LIMIT

    ax3 = plot_vip(m.vip_, x, ["x" * 150, "b", "c"], ax=Figure().add_subplot())
    legend = [t.get_text() for t in ax3.get_legend().get_texts()]
    assert len(legend[0]) <= NAME_LIMIT and "\u2026" in legend[0] and legend[1:3] == ["b", "c"]
    # the axis named as every figure names it: a channel axis is no Raman shift
    assert ax.get_xlabel() == "Raman shift (cm⁻¹)"
    channels = plot_vip(m.vip_, np.arange(30.0), ax=Figure().add_subplot())
    assert channels.get_xlabel() == "channel"


@pytest.mark.parametrize("n", [3, 4, 15, 30])
def test_plot_vip_tells_many_classes_apart(n):
    # matplotlib's colour cycle repeats after 10 lines: class 11 looked like class 1
    vip = np.random.default_rng(0).random((n, 20))
    ax = plot_vip(vip, np.linspace(400, 1800, 20), [f"c{i}" for i in range(n)])
    looks = {(ln.get_color(), ln.get_linestyle()) for ln in ax.lines[:n]}
    assert len(looks) == n
    # and without colour (greyscale print, colour-blind readers): up to 4 classes by line
    # style alone (all were solid up to 20 classes)
    styles = [ln.get_linestyle() for ln in ax.lines[:n]]
    assert len(set(styles)) == min(n, 4)


def test_plot_vip_errors():
    with pytest.raises(RamancamError, match=r"vip must have one value per wavenumber \(5\)"):
        plot_vip(np.ones((2, 4)), np.arange(5.0))
    with pytest.raises(RamancamError, match=r"classes must have one name per VIP row \(2\)"):
        plot_vip(np.ones((2, 5)), np.arange(5.0), ["a"])


# ----------------------------------------------------------------- real data
def test_plsda_on_amino_acid_mixtures(shared_data):
    """Paper 4.3 with the 13 shared pure spectra: PLS-DA separates the mixtures (1.0 measured)."""
    from pathlib import Path

    from ramancam import io, preprocess, simulate
    folder = shared_data / "amino-acids"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    pure = preprocess.paper_recipe(grid=(450.0, 1800.0, 1.0)).apply(io.read(folder))
    pure = pure.replace(labels=[Path(p).stem for p in pure.sources])

    def mixed(seed: int):
        m = simulate.mixtures(pure, n_per_pair=2, ratio=(0.1, 0.5), rng=seed)
        return m.X / m.X.max(axis=1, keepdims=True), m.labels

    (X, y), (Xt, yt) = mixed(1), mixed(2)
    m = PLSDA(n_components=(4, 8, 12), random_state=0).fit(X, y)
    assert m.score(Xt, yt) >= 0.98
    assert m.vip_.shape == (13, 1351)


# ----------------------------------------------------------------- library search
def test_library_search_is_the_best_correlation_hit():
    X, y = simulated_set(4, n_per_class=10, n_points=200)
    rng = np.random.default_rng(0)
    lib = LibrarySearch().fit(X, y)
    # Scaled and offset copies of library spectra find their own class (correlation ignores
    # both); the similarity to the spectrum itself is 1.
    Q = 3.0 * X[[0, 12, 25]] + 0.2
    assert lib.predict(Q).tolist() == [y[0], y[12], y[25]]
    np.testing.assert_allclose(lib.similarity(X[:3]).max(axis=1), 1.0)
    # The same as a brute-force Pearson search.
    Z = X + rng.normal(0, 0.05, X.shape)
    r = np.corrcoef(Z, X)[: len(Z), len(Z):]
    np.testing.assert_array_equal(lib.predict(Z), y[np.argmax(r, axis=1)])
    assert lib.decision_function(Z).shape == (len(Z), 3)
    # Cosine (uncentred) is offset-sensitive where correlation is not.
    cos = LibrarySearch(metric="cosine").fit(X, y).similarity(X[:1] + 5.0)
    assert cos.max() < 0.99


def test_library_search_k_neighbours_vote():
    X = np.array([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 1.0, 0, 0], [0.95, 0, 0.05, 0]])
    y = np.array(["b", "b", "a", "a"])
    q = np.array([[1.0, 0.02, 0.0, 0.0]])
    # Best hit alone: class a's (0.95, 0, 0.05) or b's (1, 0, 0)? b; 3 hits: b, a, b -> b.
    assert LibrarySearch(metric="cosine").fit(X, y).predict(q).tolist() == ["b"]
    assert LibrarySearch(metric="cosine", n_neighbors=3).fit(X, y).predict(q).tolist() == ["b"]


@pytest.mark.parametrize("kw, match", [({"metric": "euclid"}, "metric must be one of"),
                                       ({"n_neighbors": 0}, "n_neighbors must be a positive")])
def test_library_search_bad_parameters(kw, match):
    X, y = simulated_set(1, n_per_class=3, n_points=20)
    with pytest.raises(RamancamError, match=match):
        LibrarySearch(**kw).fit(X, y)


@pytest.mark.parametrize("cls", [PCASVM, PLSDA, LibrarySearch])
def test_fit_takes_a_spectra_and_its_labels(cls):
    """fit(spectra) is fit(spectra.X, spectra.labels); unlabelled spectra are refused."""
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(4)
    axis = np.arange(60.0)
    y = np.repeat(["a", "b", "c"], 8)
    X = rng.normal(0, 0.05, (24, 60)) + np.exp(-0.5 * ((axis - 10 - 20 * np.repeat(
        np.arange(3), 8)[:, None]) / 3) ** 2)
    s = Spectra(X, axis, labels=y)
    a, b = cls().fit(s), cls().fit(X, y)
    np.testing.assert_array_equal(a.predict(s), b.predict(X))
    with pytest.raises(RamancamError, match="y must be given when X is a Spectra without"):
        cls().fit(Spectra(X, axis))
    with pytest.raises(RamancamError, match="got 2 with an empty label"):
        cls().fit(Spectra(X, axis, labels=np.where(np.arange(24) < 2, "", y)))


def _library(n_classes: int, per: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A reference library: each class three Lorentzian bands at its own shifts."""
    rng = np.random.default_rng(seed)
    x = np.arange(400.0, 1801.0, 2.0)
    X, y = [], []
    for c in range(n_classes):
        centres = rng.uniform(450, 1750, size=3)
        for _ in range(per):
            s = sum(h / (1 + ((x - m - rng.normal(0, 1)) / 5) ** 2)
                    for m, h in zip(centres, (1.0, 0.6, 0.3), strict=True))
            X.append(0.05 + s + rng.normal(0, 0.01, x.size))
            y.append(f"c{c:02d}")
    return np.array(X), np.array(y)


def test_a_class_of_one_training_spectrum_is_predicted_beside_classes_of_two():
    # 40 classes of 3 spectra, 2-fold: each training part has 20 classes of one spectrum and
    # 20 of two. The inner folds (every class trained on one spectrum) tied every candidate
    # at 1.0 and took the simplest (PCA + SVM with C = 1; PLS-DA capped at 20 latent
    # variables for 40 classes), which never predicted a class of one spectrum: 0.333 for
    # both, where the library search scored 1.0.
    X, y = _library(40, 3)
    skf = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    for tr, te in skf.split(X, y):
        counts = dict(zip(*np.unique(y[tr], return_counts=True), strict=True))
        single = np.array([counts[v] == 1 for v in y[te]])
        assert single.sum() >= 10
        for model in (PCASVM(random_state=0), PLSDA(random_state=0)):
            pred = model.fit(X[tr], y[tr]).predict(X[te])
            assert np.mean(pred[single] == y[te][single]) >= 0.95, model
            assert np.mean(pred == y[te]) >= 0.95, model
    # classes of two spectra alike are not moved: no class of one, no tie-break
    X2, y2 = _library(6, 6, seed=1)
    m = PCASVM(random_state=0).fit(X2, y2)
    assert m.best_params_ == {"n_components": 5, "C": 1.0, "kernel": "linear"}


def test_pcasvm_leaves_numpys_global_random_state_alone():
    # SVC without a seed drew one from np.random: a notebook's seeded stream changed
    X = np.random.default_rng(0).random((30, 50))
    y = np.repeat(["a", "b", "c"], 10)
    # (the legacy global generator on purpose: it is what a notebook seeds)
    np.random.seed(5)  # noqa: NPY002
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    PCASVM(n_components=(2,), C=(1.0,), kernel=("linear",), random_state=0).fit(X, y)
    assert np.random.rand() == expected  # noqa: NPY002


@pytest.mark.parametrize("make", [
    lambda: PCASVM(n_components=(2, 5), C=(1.0, 100.0), random_state=0),
    lambda: PCASVM(scale="standard", n_components=(40,), C=(1.0,), kernel=("linear",)),
    lambda: PLSDA(n_components=(1, 2, 4), random_state=0),
    lambda: LibrarySearch(n_neighbors=3)])
@pytest.mark.filterwarnings("error")
def test_results_are_the_same_under_scikit_learns_pandas_output(make):
    # sklearn.set_config(transform_output="pandas"), common in notebooks, made the inner PCA
    # return a DataFrame: PCASVM.fit failed on t_tr[:, :k] (pandas' InvalidIndexError), and
    # without an inner search its SVM was fitted on named columns, so that every predict
    # warned "X does not have valid feature names"
    import sklearn

    X, y = simulated_set(3, n_per_class=8, n_points=120)
    ref = make().fit(X[::2], y[::2])
    with sklearn.config_context(transform_output="pandas"):
        est = make().fit(X[::2], y[::2])
        got = {"predict": est.predict(X[1::2]),
               "decision_function": est.decision_function(X[1::2]),
               "score": est.score(X[1::2], y[1::2])}
        for name in ("pca_scores", "x_scores", "similarity"):
            if hasattr(est, name):
                got[name] = getattr(est, name)(X[1::2])
    assert est.best_params_ == ref.best_params_
    np.testing.assert_array_equal(got.pop("predict"), ref.predict(X[1::2]))
    assert got.pop("score") == ref.score(X[1::2], y[1::2])
    for name, value in got.items():
        assert type(value) is np.ndarray, name
        np.testing.assert_allclose(value, getattr(ref, name)(X[1::2]), rtol=1e-12,
                                   atol=1e-12, err_msg=name)
