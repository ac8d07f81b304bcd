"""Chemometric baselines the paper compares its CNN with: PCA + SVM and PLS-DA with VIP.

Fukuhara et al. (2019, section 4.2) report the CNN next to a PCA + SVM classifier built with
scikit-learn and discuss PLS(-DA) with variable importance in projection (VIP) as the
established way to say which bands matter. Both live here as scikit-learn classifiers on
spectra ``X`` of shape ``(n_spectra, n_points)``, already preprocessed onto one grid.

* :class:`PCASVM` -- optional centring/autoscaling, PCA, then a support vector machine; the
  number of components and the SVM's ``C`` and kernel are chosen by an inner, stratified,
  seeded cross validation over a small grid.
* :class:`PLSDA` -- PLS2 regression (:class:`sklearn.cross_decomposition.PLSRegression`) on
  one-hot class indicators, class = argmax of the predicted indicators; the number of latent
  variables is chosen by inner cross validation; per-class and overall VIP scores.
* :class:`LibrarySearch` -- the vendors' library search: the class of the training spectrum
  with the highest hit quality index (correlation) with the unknown; nothing to tune.

Both inner searches are exact but cheaper than a naive :class:`~sklearn.model_selection.
GridSearchCV`: PCA components and NIPALS PLS components are *nested* (the first ``a``
components do not depend on how many more are computed), so each inner fold fits PCA / PLS
once at the largest candidate and slices for the smaller ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._fit_whole import fit_whole
from ._inputs import SpectraScore, check_finite, fit_axis, predict_data
from .errors import RamancamError
from .inner import inner_k, quiet_many_classes, stratified_kfold
from .spectra import Spectra, labels_for_fit

__all__ = ["PCASVM", "PLSDA", "LibrarySearch", "plot_vip", "vip_scores"]

_SCALES = ("center", "standard", "none")
_KERNELS = ("linear", "rbf", "poly", "sigmoid")
_METRICS = ("correlation", "cosine")


# --------------------------------------------------------------------------- validation
def _candidates(value: Any, name: str, *, kind: type, positive: bool = True) -> list[Any]:
    """A parameter given as one value or a sequence of candidates -> a non-empty list."""
    vals = list(value) if isinstance(value, (list, tuple, range, np.ndarray)) else [value]
    if not vals:
        raise RamancamError(f"{name} must hold at least one candidate; got {value!r}.")
    out = []
    for v in vals:
        if kind is int:
            ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
        else:
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not ok or (positive and not v > 0):
            what = "positive integers" if kind is int else "positive numbers"
            raise RamancamError(f"{name} must be {what} (one or a sequence); got {value!r}.")
        out.append(kind(v))
    return out


def _check_cv(cv: Any) -> int:
    if not isinstance(cv, (int, np.integer)) or isinstance(cv, bool) or cv < 2:
        raise RamancamError(
            f"cv must be an integer >= 2 (number of inner folds); got {cv!r}.")
    return int(cv)


def _encode(estimator: BaseEstimator, X: Any, y: Any) -> tuple[NDArray[np.float64],
                                                                 NDArray[np.intp]]:
    """Validate ``X, y`` (``y`` left out: the labels of a :class:`Spectra` ``X``), set
    ``classes_`` / ``n_features_in_`` and return integer codes."""
    check_finite(X)
    estimator.wavenumbers_in_ = fit_axis(X)  # a Spectra's axis, checked in predict
    X, y = validate_data(estimator, X, labels_for_fit(X, y), dtype=np.float64)
    with quiet_many_classes():
        check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise RamancamError(
            f"y must hold at least 2 classes; got 1 class ({classes.tolist()!r}). "
            "A classifier needs spectra of two or more classes.")
    estimator.classes_ = classes
    return X, codes.astype(np.intp)


def _fit_svc(svc: SVC, X: NDArray[np.float64], y: NDArray[np.intp]) -> SVC:
    with quiet_many_classes():
        return svc.fit(X, y)


def _inner_folds(codes: NDArray[np.intp], cv: int, random_state: Any, n_candidates: int
                 ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Stratified, shuffled, seeded inner folds (none when there is nothing to choose, or
    nothing to score it on: every class a single spectrum, e.g. a reference library; then
    every candidate ties and the tie rule's simplest one is used)."""
    if n_candidates == 1:
        return []
    k = inner_k(codes, cv)
    if k < 2:
        return []
    # Shuffled so that spectra stored class by class or in measurement order spread evenly;
    # a class with a single spectrum trains in every inner fold.
    return stratified_kfold(codes, k, random_state)


class _Scaler:
    """Centring / autoscaling fitted on training spectra only (no leak across inner folds)."""

    def __init__(self, mode: str, X: NDArray[np.float64]) -> None:
        p = X.shape[1]
        self.mean = X.mean(axis=0) if mode in ("center", "standard") else np.zeros(p)
        if mode == "standard":
            std = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.ones(p)
            # Constant points (e.g. a flat, normalised edge) carry no information: leave them.
            std[~(std > 0)] = 1.0
            self.std = std
        else:
            self.std = np.ones(p)

    def __call__(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return (X - self.mean) / self.std


def _center_scale(A: NDArray[np.float64], scale: bool
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Column means and the scaling PLSRegression uses (ddof=1 std, zeros -> 1, or ones)."""
    mean = A.mean(axis=0)
    if not scale:
        return mean, np.ones(A.shape[1])
    std = A.std(axis=0, ddof=1)
    std[std == 0.0] = 1.0
    return mean, std


def _fit_pca(k: int, X: NDArray[np.float64]) -> PCA:
    """An exact PCA with ``k`` components, fast for few components of wide data.

    ARPACK (Lanczos, converged to machine precision) finds the leading ``k`` components of a
    700 x 1401 set about 15 times faster than a full SVD; it needs ``k < min(n, p)``. Its
    start vector is fixed, so results are reproducible. It runs on one BLAS thread (see
    :func:`_one_blas_thread`; 2-3 times faster PCA+SVM fits on a busy 2-core machine).
    Its ``transform`` returns arrays whatever scikit-learn's ``transform_output`` (a
    notebook's ``set_config(transform_output="pandas")`` made it a DataFrame, which the
    scores' column slices ``t[:, :k]`` failed on).
    """
    if k < min(X.shape):
        pca = PCA(n_components=k, svd_solver="arpack", random_state=0)
        with _one_blas_thread():
            return pca.set_output(transform="default").fit(X)
    return PCA(n_components=k, svd_solver="full").set_output(transform="default").fit(X)


def _one_blas_thread() -> Any:
    """Context: BLAS on one thread (iterative solvers made of many matrix-vector products).

    ARPACK and the NIPALS power iterations of PLS run hundreds of small matrix-vector
    products; threading each of them only adds synchronisation. On a busy 2-core machine a
    PLS-DA fit on 780 x 1351 spectra took 34 s with threaded BLAS and 1.2 s without.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _score_unit(t: NDArray[np.float64]) -> float:
    """Root mean squared norm of centred PCA scores (one number for all components).

    The SVM sees ``scores / unit``: one common factor keeps the geometry, makes the C grid
    mean the same whatever the intensity units or scaling, and keeps libsvm fast (a linear
    SVM with C = 100 on autoscaled spectra, whose scores reach ~30, took minutes).
    """
    u = float(np.sqrt(np.sum(np.var(t, axis=0))))
    return u if u > 0 and np.isfinite(u) else 1.0


def _best(params: list[dict[str, Any]], scores: NDArray[np.float64],
          recall: Callable[[dict[str, Any]], float] | None = None
          ) -> tuple[int, dict[str, Any]]:
    """First candidate with the highest mean score (candidates are ordered simplest first);
    means equal but for the last bits of their floating-point sums (1/3 + 1/3 and
    5/12 + 1/4) tie. With no folds every candidate ties.

    ``recall``: where some classes have a single training spectrum (never scored by the
    inner folds, :func:`_untested`), a tie goes to the first candidate that, fitted on all
    training spectra, names the most of those spectra's own classes: the inner folds train
    every class on one spectrum, so they cannot see a model too simple to predict a class of
    one spectrum beside classes of two (the simplest PCA + SVM of a 40-class library of 1-2
    spectra per class never predicted its 20 classes of one).
    """
    if scores.size:
        mean = np.round(scores.mean(axis=1), 9)
        tied = np.flatnonzero(mean == mean.max())
    else:
        tied = np.arange(len(params))
    i = int(tied[0])
    if recall is not None and tied.size > 1:
        best = -1.0
        for j in tied:  # simplest first: the first that names them all ends the search
            r = recall(params[int(j)])
            if r > best:
                i, best = int(j), r
            if best >= 1.0:
                break
    return i, params[i]


def _untested(codes: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Spectra of classes with a single spectrum (trained in every inner fold, never
    scored)."""
    return np.asarray(np.bincount(codes)[codes] == 1, dtype=bool)


def _cv_results(params: list[dict[str, Any]], scores: NDArray[np.float64]
                ) -> dict[str, Any]:
    mean = scores.mean(axis=1) if scores.size else np.full(len(params), np.nan)
    std = scores.std(axis=1) if scores.size else np.full(len(params), np.nan)
    return {"params": params, "mean_test_score": mean, "std_test_score": std,
            "split_test_scores": scores}


# --------------------------------------------------------------------------- PCA + SVM
class PCASVM(SpectraScore, ClassifierMixin, BaseEstimator):
    """PCA followed by a support vector machine, tuned by inner cross validation.

    The paper's comparison classifier (section 4.2, "PCA + SVM (scikit-learn)"). The spectra
    are centred (or autoscaled), projected on their first principal components, and the
    scores classified by :class:`sklearn.svm.SVC`. The number of components, ``C`` and the
    kernel are chosen jointly by stratified ``cv``-fold cross validation on the training
    spectra (accuracy; ties go to the earliest candidate in the order ``n_components``
    ascending, then ``C`` ascending, then ``kernel`` as given, i.e. the simplest model).
    Centring, scaling and PCA are refitted inside every inner fold, so nothing leaks from the
    validation part.

    Parameters
    ----------
    scale : {"center", "standard", "none"}, default="center"
        Before PCA: subtract the mean spectrum ("center"), also divide every point by its
        standard deviation ("standard", autoscaling: gives weak bands and noise the same
        weight as strong bands), or leave the spectra as they are ("none"; PCA still
        centres internally, this only skips the scaling step of "standard").
    n_components : int or sequence of int, default=(5, 10, 20, 40)
        Candidate numbers of principal components. Candidates larger than
        ``min(n_train, n_points)`` of a fold are replaced by that cap.
    C : float or sequence of float, default=(1.0, 10.0, 100.0, 1000.0, 10000.0)
        Candidate SVM regularisation constants, for scores rescaled to unit root mean
        squared norm (see ``score_unit_``). Spectra of few classes are often nearly
        separable, so the grid reaches large C (on drug-mabs the inner CV picks 1e4).
    kernel : str or sequence of str, default=("linear", "rbf")
        Candidate SVM kernels (any of "linear", "rbf", "poly", "sigmoid").
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient passed to :class:`~sklearn.svm.SVC` (not tuned).
    cv : int, default=3
        Number of inner stratified folds (reduced to the size of the smallest class when
        that is smaller; skipped when the grid has a single candidate). A class with a
        single spectrum is in every inner training part and never scored; when every class
        has a single spectrum nothing can be scored, and the simplest candidate (the first
        in the tie order above) is used.
    random_state : int, numpy RandomState or None, default=None
        Seeds the shuffling of the inner folds (the only randomness).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Number of points per spectrum seen in ``fit``.
    best_params_ : dict
        The chosen ``n_components``, ``C`` and ``kernel``.
    cv_results_ : dict
        ``params`` (list of dicts), ``mean_test_score`` and ``std_test_score`` (arrays of
        shape (n_candidates,)), ``split_test_scores`` (shape (n_candidates, n_folds); empty
        when no inner search was needed).
    pca_ : sklearn.decomposition.PCA
        The PCA fitted on all training spectra with the chosen number of components.
    svc_ : sklearn.svm.SVC
        The SVM fitted on the training scores (on integer class codes).
    mean_, scale_ : ndarray of shape (n_points,)
        The centring and scaling applied before PCA.
    score_unit_ : float
        The SVM is fitted on ``scores / score_unit_``, the root mean squared norm of the
        training scores, so that ``C`` does not depend on the units of the spectra.

    Examples
    --------
    >>> import numpy as np
    >>> from ramancam.baselines import PCASVM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 50)); y = np.repeat(["a", "b", "c"], 10)
    >>> X[y == "b", 5] += 4; X[y == "c", 20] += 4  # a band of their own
    >>> clf = PCASVM(n_components=(2, 5), C=(1.0,), kernel=("linear",), random_state=0)
    >>> clf.fit(X, y).predict(X[[0, 10, 20]]).tolist()
    ['a', 'b', 'c']
    """

    def __init__(self, scale: str = "center",
                 n_components: int | Sequence[int] = (5, 10, 20, 40),
                 C: float | Sequence[float] = (1.0, 10.0, 100.0, 1000.0, 10000.0),
                 kernel: str | Sequence[str] = ("linear", "rbf"),
                 gamma: str | float = "scale", cv: int = 3, random_state: Any = None) -> None:
        self.scale = scale
        self.n_components = n_components
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.cv = cv
        self.random_state = random_state

    def _check_params(self) -> tuple[list[int], list[float], list[str], int]:
        if self.scale not in _SCALES:
            raise RamancamError(
                f"scale must be one of {', '.join(_SCALES)}; got {self.scale!r}.")
        ncomp = _candidates(self.n_components, "n_components", kind=int)
        cs = _candidates(self.C, "C", kind=float)
        kernels = [self.kernel] if isinstance(self.kernel, str) else list(self.kernel)
        bad = [k for k in kernels if k not in _KERNELS]
        if bad or not kernels:
            raise RamancamError(
                f"kernel must be one or more of {', '.join(_KERNELS)}; got {self.kernel!r}.")
        return sorted(set(ncomp)), sorted(set(cs)), list(dict.fromkeys(kernels)), \
            _check_cv(self.cv)

    def _svc(self, C: float, kernel: str) -> SVC:
        # a seed of its own: without one SVC draws it from numpy's global generator, and a
        # notebook's np.random.seed(...) stream changed with every fit (libsvm uses it only
        # for probability estimates, which are off: the predictions do not depend on it)
        return SVC(C=C, kernel=kernel, gamma=self.gamma, random_state=0)

    @fit_whole
    def fit(self, X: ArrayLike | Spectra, y: ArrayLike | None = None) -> PCASVM:
        """Choose the components, ``C`` and kernel by inner CV, then fit on all spectra.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Training spectra on one common grid (or a Spectra on one grid).
        y : array-like of shape (n_spectra,), optional
            Class labels (at least two classes); default: ``X.labels`` of a Spectra.

        Returns
        -------
        self : PCASVM
        """
        ncomp, cs, kernels, cv = self._check_params()
        Xa, codes = _encode(self, X, y)
        n, p = Xa.shape
        n_grid = len(ncomp) * len(cs) * len(kernels)
        folds = _inner_folds(codes, cv, self.random_state, n_grid)
        # Candidate component counts are capped by the smallest training part (PCA needs
        # n_components <= min(n_samples, n_features)); duplicates after capping collapse.
        n_fit_min = min([len(tr) for tr, _ in folds] + [n])
        cap = min(n_fit_min, p)
        ncomp = sorted({min(k, cap) for k in ncomp})
        params: list[dict[str, Any]] = [{"n_components": k, "C": c, "kernel": ker}
                  for k, c, ker in product(ncomp, cs, kernels)]
        scores = np.zeros((len(params), len(folds)))
        for f, (tr, va) in enumerate(folds):
            scaler = _Scaler(self.scale, Xa[tr])
            # One PCA at the largest count per fold; smaller counts are leading columns of its
            # scores, because principal components are nested.
            pca = _fit_pca(max(ncomp), scaler(Xa[tr]))
            t_tr, t_va = pca.transform(scaler(Xa[tr])), pca.transform(scaler(Xa[va]))
            for i, prm in enumerate(params):
                k = prm["n_components"]
                u = _score_unit(t_tr[:, :k])
                svc = _fit_svc(self._svc(prm["C"], prm["kernel"]), t_tr[:, :k] / u, codes[tr])
                scores[i, f] = np.mean(svc.predict(t_va[:, :k] / u) == codes[va])
        single = _untested(codes)
        recall = None
        if single.any() and single.sum() < n:  # (a library of one spectrum per class is
            # balanced: nothing pulls a prediction away from its classes)
            scaler = _Scaler(self.scale, Xa)
            t_all = _fit_pca(max(ncomp), scaler(Xa)).transform(scaler(Xa))

            def recall(prm: dict[str, Any]) -> float:
                k = prm["n_components"]
                u = _score_unit(t_all[:, :k])
                svc = _fit_svc(self._svc(prm["C"], prm["kernel"]), t_all[:, :k] / u, codes)
                return float(np.mean(svc.predict(t_all[single, :k] / u) == codes[single]))
        _, best = _best(params, scores, recall) if folds else (0, params[0])
        self.best_params_ = dict(best)
        self.cv_results_ = _cv_results(params, scores)
        scaler = _Scaler(self.scale, Xa)
        self.mean_, self.scale_ = scaler.mean, scaler.std
        self.pca_ = _fit_pca(best["n_components"], scaler(Xa))
        t = self.pca_.transform(scaler(Xa))
        self.score_unit_ = _score_unit(t)
        self.svc_ = _fit_svc(self._svc(best["C"], best["kernel"]), t / self.score_unit_, codes)
        return self

    def pca_scores(self, X: ArrayLike) -> NDArray[np.float64]:
        """PCA scores of ``X``, shape (n_spectra, n_components).

        Not named ``transform``: the estimator is a classifier, not a transformer.
        """
        check_is_fitted(self, "svc_")
        Xa = predict_data(self, X, lambda: validate_data(self, X, dtype=np.float64,
                                                          reset=False))
        return np.asarray(self.pca_.transform((Xa - self.mean_) / self.scale_))

    def _scores(self, X: ArrayLike) -> NDArray[np.float64]:
        return self.pca_scores(X) / self.score_unit_

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """SVM decision values: shape (n_spectra,) for two classes, else (n_spectra, n_classes).
        """
        t = self._scores(X)
        return np.asarray(self.svc_.decision_function(t))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted class label of each spectrum, shape (n_spectra,)."""
        t = self._scores(X)  # checks fitted before svc_ / classes_ are touched
        return np.asarray(self.classes_[self.svc_.predict(t)])


# --------------------------------------------------------------------------- PLS-DA + VIP
def vip_scores(x_weights: ArrayLike, x_scores: ArrayLike, y_loadings: ArrayLike
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Variable importance in projection, per response column and overall.

    With ``A`` latent variables, normalised X weights ``w_a`` (shape (n_points,)), X scores
    ``t_a`` and Y loadings ``q_a`` (the regression of Y on ``t_a``), the part of the sum of
    squares of response column ``k`` explained by component ``a`` is
    ``SS_ka = q_ka^2 * t_a't_a``, and (Wold et al. 1993; Chong & Jun 2005, Eq. 1)::

        VIP_kj      = sqrt( p * sum_a SS_ka (w_ja / ||w_a||)^2 / sum_a SS_ka )   (per column)
        VIP_j       = sqrt( p * sum_a SS_a  (w_ja / ||w_a||)^2 / sum_a SS_a  )   (overall)

    with ``SS_a = sum_k SS_ka`` and ``p`` the number of points. Because every ``w_a`` has
    unit norm, ``sum_j VIP_j^2 = p`` (the mean squared VIP is 1, hence the usual "VIP > 1"
    rule), for the overall score and for every column's score.

    Parameters
    ----------
    x_weights : array-like of shape (n_points, n_components)
        PLS X weights ``W`` (``PLSRegression.x_weights_``).
    x_scores : array-like of shape (n_spectra, n_components)
        PLS X scores ``T`` of the training spectra.
    y_loadings : array-like of shape (n_responses, n_components)
        PLS Y loadings ``Q`` (``PLSRegression.y_loadings_``).

    Returns
    -------
    vip : ndarray of shape (n_responses, n_points)
        VIP of every point for each response column.
    vip_overall : ndarray of shape (n_points,)
        The standard multi-response VIP.

    Notes
    -----
    A component whose weight vector is all zero (NIPALS stopped early because the Y
    residual became constant) contributes nothing. A response with no explained sum of
    squares at all gets VIP 1 at every point (no point is preferred).
    """
    W = np.asarray(x_weights, dtype=np.float64)
    T = np.asarray(x_scores, dtype=np.float64)
    Q = np.asarray(y_loadings, dtype=np.float64)
    p = W.shape[0]
    norms = np.linalg.norm(W, axis=0)
    used = norms > 0
    Wn2 = np.zeros_like(W)
    Wn2[:, used] = (W[:, used] / norms[used]) ** 2           # (p, A)
    ss = Q ** 2 * np.sum(T ** 2, axis=0)[None, :]             # (K, A): SS_ka
    ss[:, ~used] = 0.0

    def _vip(s: NDArray[np.float64]) -> NDArray[np.float64]:   # s: (m, A)
        tot = s.sum(axis=1, keepdims=True)
        frac = np.divide(s, tot, out=np.zeros_like(s), where=tot > 0)
        v = p * frac @ Wn2.T                                   # (m, p)
        v[(tot <= 0)[:, 0]] = 1.0
        return np.sqrt(v)

    return _vip(ss), _vip(ss.sum(axis=0, keepdims=True))[0]


class PLSDA(SpectraScore, ClassifierMixin, BaseEstimator):
    """PLS discriminant analysis with VIP scores, tuned by inner cross validation.

    PLS2 regression (:class:`sklearn.cross_decomposition.PLSRegression`, NIPALS) of one-hot
    class indicators (one column per class, also for two classes) on the spectra; the
    predicted class is the column with the largest predicted indicator. The number of latent
    variables is chosen by stratified ``cv``-fold cross validation (accuracy; ties go to the
    fewest components). After fitting, :attr:`vip_` holds one VIP profile per class, the
    PLS-DA counterpart of the CNN's per-class maps, and :attr:`vip_overall_` the usual
    multi-response VIP; see :func:`vip_scores` for the formula.

    Parameters
    ----------
    n_components : int, sequence of int or None, default=None
        Candidate numbers of latent variables; None means 1..20, or 1..K for K > 20 classes
        (K - 1 latent variables are needed to tell K classes apart: with 1..20, a library of
        40 classes never predicted half of them). Candidates larger than
        ``min(n_train - 1, n_points)`` of a fold are capped to it.
    scale : bool, default=False
        Autoscale the spectra (and indicators) before PLS. Off by default: the spectra are
        only centred, so that points of pure noise or flat background, which autoscaling
        would blow up to unit variance, do not gain weight or VIP.
    cv : int, default=3
        Number of inner stratified folds (reduced to the smallest class size when needed;
        skipped when there is a single candidate). A class with a single spectrum is in
        every inner training part and never scored; when every class has a single spectrum
        nothing can be scored, and the fewest candidate components that can separate the K
        classes (K - 1, or the most allowed) are used.
    max_iter : int, default=500
        NIPALS iterations per component (passed to ``PLSRegression``).
    tol : float, default=1e-06
        NIPALS convergence tolerance on the weight vector (passed to ``PLSRegression``).
        The default gives weights (and VIP) to about 1e-3 relative; lower it for more.
    random_state : int, numpy RandomState or None, default=None
        Seeds the shuffling of the inner folds.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted; row ``k`` of ``vip_`` and ``coef_`` belongs to ``classes_[k]``.
    n_features_in_ : int
        Number of points per spectrum seen in ``fit``.
    best_params_ : dict
        ``{"n_components": A}``, the chosen number of latent variables.
    cv_results_ : dict
        As in :class:`PCASVM`.
    pls_ : sklearn.cross_decomposition.PLSRegression
        The PLS model fitted on all training spectra.
    vip_ : ndarray of shape (n_classes, n_points)
        Per-class VIP: the VIP formula with the explained sum of squares of that class's
        indicator column only.
    vip_overall_ : ndarray of shape (n_points,)
        The standard VIP over all indicator columns.
    coef_ : ndarray of shape (n_classes, n_points)
        Regression coefficients on the original (uncentred, unscaled) spectra:
        ``predicted indicators = (X - mean) @ coef_.T + intercept_``.
    intercept_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Largest number of NIPALS iterations any component of ``pls_`` needed.
    x_mean_ : ndarray of shape (n_points,)
        Mean training spectrum (subtracted before applying ``coef_``).

    References
    ----------
    S. Wold, E. Johansson, M. Cocchi, "PLS: partial least squares projections to latent
    structures", in 3D QSAR in Drug Design (1993) 523-550. I.-G. Chong, C.-H. Jun,
    "Performance of some variable selection methods when multicollinearity is present",
    Chemometr. Intell. Lab. Syst. 78 (2005) 103-112.
    """

    def __init__(self, n_components: int | Sequence[int] | None = None, scale: bool = False,
                 cv: int = 3, max_iter: int = 500, tol: float = 1e-06,
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.scale = scale
        self.cv = cv
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _pls(self, k: int) -> PLSRegression:
        return PLSRegression(n_components=k, scale=bool(self.scale), max_iter=self.max_iter,
                             tol=self.tol)

    @staticmethod
    def _nested_coefs(pls: PLSRegression, ks: Sequence[int]) -> dict[int, NDArray[np.float64]]:
        """Coefficients (on centred, scaled X) of the first ``k`` latent variables, each k.

        NIPALS components are computed one after the other, so the model with ``k``
        components is the leading part of one with more: ``B_k = W_k (P_k'W_k)^+ Q_k'``.
        """
        W, P, Q = pls.x_weights_, pls.x_loadings_, pls.y_loadings_
        out = {}
        for k in ks:
            Wk = W[:, :k]
            R = Wk @ np.linalg.pinv(P[:, :k].T @ Wk)
            out[k] = R @ Q[:, :k].T                            # (p, K)
        return out

    @fit_whole
    def fit(self, X: ArrayLike | Spectra, y: ArrayLike | None = None) -> PLSDA:
        """Choose the number of latent variables by inner CV, fit on all spectra, compute VIP.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Training spectra on one common grid (or a Spectra on one grid).
        y : array-like of shape (n_spectra,), optional
            Class labels (at least two classes); default: ``X.labels`` of a Spectra.

        Returns
        -------
        self : PLSDA
        """
        cands = (None if self.n_components is None
                 else _candidates(self.n_components, "n_components", kind=int))
        if not isinstance(self.scale, (bool, np.bool_)):
            raise RamancamError(f"scale must be True or False; got {self.scale!r}.")
        if (not isinstance(self.max_iter, (int, np.integer)) or isinstance(self.max_iter, bool)
                or self.max_iter < 1):
            raise RamancamError(f"max_iter must be a positive integer; got {self.max_iter!r}.")
        if not isinstance(self.tol, (int, float, np.number)) or not self.tol > 0:
            raise RamancamError(f"tol must be a positive number; got {self.tol!r}.")
        cv = _check_cv(self.cv)
        Xa, codes = _encode(self, X, y)
        n, p = Xa.shape
        K = self.classes_.size
        Y = np.eye(K)[codes]
        if cands is None:
            cands = list(range(1, max(20, K) + 1))
        folds = _inner_folds(codes, cv, self.random_state, len(set(cands)))
        # PLSRegression allows at most min(n, p) components; one fewer than the sample count
        # keeps the last component from fitting pure noise to a rank-deficient centred X.
        n_fit_min = min([len(tr) for tr, _ in folds] + [n])
        cap = max(1, min(n_fit_min - 1, p))
        ks = sorted({min(k, cap) for k in cands})
        params: list[dict[str, Any]] = [{"n_components": k} for k in ks]
        scores = np.zeros((len(ks), len(folds)))
        for f, (tr, va) in enumerate(folds):
            with _one_blas_thread():
                pls = self._pls(max(ks)).fit(Xa[tr], Y[tr])
            x_mean, x_std = _center_scale(Xa[tr], bool(self.scale))
            y_mean, y_std = _center_scale(Y[tr], bool(self.scale))
            Xv = (Xa[va] - x_mean) / x_std
            for i, B in enumerate(self._nested_coefs(pls, ks).values()):
                # Undo the indicator scaling as PLSRegression.predict does: with autoscaling
                # and unequal class sizes the columns' stds differ and would move the argmax.
                pred = (Xv @ B) * y_std + y_mean
                scores[i, f] = np.mean(np.argmax(pred, axis=1) == codes[va])
        single = _untested(codes)
        recall = None
        if single.any() and single.sum() < n:  # as PCASVM.fit
            with _one_blas_thread():
                pls_all = self._pls(max(ks)).fit(Xa, Y)
            x_mean, x_std = _center_scale(Xa, bool(self.scale))
            y_mean, y_std = _center_scale(Y, bool(self.scale))
            coefs = self._nested_coefs(pls_all, ks)
            Xs = (Xa[single] - x_mean) / x_std

            def recall(prm: dict[str, Any]) -> float:
                pred = (Xs @ coefs[prm["n_components"]]) * y_std + y_mean
                return float(np.mean(np.argmax(pred, axis=1) == codes[single]))
        if folds:
            _, best = _best(params, scores, recall)
        else:  # nothing to score: the fewest components that can span K - 1 class contrasts
            best = next((q for q in params if q["n_components"] >= K - 1), params[-1])
        self.best_params_ = dict(best)
        self.cv_results_ = _cv_results(params, scores)
        with _one_blas_thread():
            pls = self._pls(best["n_components"]).fit(Xa, Y)
        self.pls_ = pls
        x_mean, x_std = _center_scale(Xa, bool(self.scale))
        self.x_mean_ = x_mean
        T = ((Xa - x_mean) / x_std) @ pls.x_rotations_
        self.vip_, self.vip_overall_ = vip_scores(pls.x_weights_, T, pls.y_loadings_)
        self.n_iter_ = int(max(pls.n_iter_, default=1))
        self.coef_ = np.asarray(pls.coef_)
        self.intercept_ = np.asarray(pls.intercept_)
        return self

    def _response(self, X: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self, "pls_")
        Xa = predict_data(self, X, lambda: validate_data(self, X, dtype=np.float64,
                                                          reset=False))
        return np.asarray((Xa - self.x_mean_) @ self.coef_.T + self.intercept_)

    def predict_indicators(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predicted one-hot indicators, shape (n_spectra, n_classes) (not probabilities)."""
        return self._response(X)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predicted indicators; for two classes, indicator of class 1 minus class 0, (n,)."""
        r = self._response(X)
        return r[:, 1] - r[:, 0] if r.shape[1] == 2 else r

    def x_scores(self, X: ArrayLike) -> NDArray[np.float64]:
        """PLS X scores of ``X``, shape (n_spectra, n_components)."""
        check_is_fitted(self, "pls_")
        Xa = predict_data(self, X, lambda: validate_data(self, X, dtype=np.float64,
                                                          reset=False))
        return np.asarray(self.pls_.transform(Xa))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted class label of each spectrum (argmax of the indicators), (n_spectra,)."""
        r = self._response(X)  # checks fitted before classes_ is touched
        return np.asarray(self.classes_[np.argmax(r, axis=1)])


# --------------------------------------------------------------------------- library search
class LibrarySearch(SpectraScore, ClassifierMixin, BaseEstimator):
    """Library search: the nearest training spectrum by correlation (hit quality index).

    What every Raman instrument vendor ships: the unknown spectrum is compared with every
    spectrum of a reference library (here: the training spectra) and takes the class of the
    best hit. The similarity is the hit quality index (HQI) in its correlation form, the
    Pearson correlation of the two spectra (each centred on its own mean), or in its
    dot-product form, the cosine of the angle between the uncentred spectra. Both ignore the
    overall intensity scale, so spectra need no normalisation. There is nothing to tune and
    no randomness.

    Parameters
    ----------
    metric : {"correlation", "cosine"}, default="correlation"
        ``"correlation"``: HQI = Pearson r of the spectra (mean of each removed first);
        ``"cosine"``: the uncentred dot product of the unit-norm spectra.
    n_neighbors : int, default=1
        Hits that vote; ties go to the class with the larger summed similarity. 1 is the
        vendor's "best hit".

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Points per spectrum seen in ``fit``.
    library_ : ndarray of shape (n_library, n_points)
        The training spectra, centred (for ``"correlation"``) and scaled to unit norm.
    library_codes_ : ndarray of shape (n_library,)
        Class index of each library spectrum.
    best_params_ : dict
        ``{"metric": ..., "n_neighbors": ...}`` (fixed, reported like the other baselines).

    Examples
    --------
    >>> import numpy as np
    >>> from ramancam.baselines import LibrarySearch
    >>> X = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 2, 0.1, 0]]); y = ["a", "b", "a"]
    >>> LibrarySearch().fit(X[:2], y[:2]).predict(X[2:]).tolist()
    ['a']
    """

    def __init__(self, metric: str = "correlation", n_neighbors: int = 1) -> None:
        self.metric = metric
        self.n_neighbors = n_neighbors

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # scikit-learn's checks classify 2-feature points: the correlation of two 2-point
        # "spectra" is +-1, so the accuracy bar for real classifiers does not apply.
        tags.classifier_tags.poor_score = True
        return tags

    def _unit(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        A = X - X.mean(axis=1, keepdims=True) if self.metric == "correlation" else X.copy()
        norm = np.linalg.norm(A, axis=1, keepdims=True)
        # A flat spectrum matches nothing (similarity 0) instead of dividing by zero.
        return np.divide(A, norm, out=np.zeros_like(A), where=norm > 0)

    @fit_whole
    def fit(self, X: ArrayLike | Spectra, y: ArrayLike | None = None) -> LibrarySearch:
        """Store the training spectra as the library.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Library spectra on one common grid (or a Spectra on one grid).
        y : array-like of shape (n_spectra,), optional
            Their class labels (at least two classes); default: ``X.labels`` of a Spectra.

        Returns
        -------
        self : LibrarySearch
        """
        if self.metric not in _METRICS:
            raise RamancamError(
                f"metric must be one of {', '.join(_METRICS)}; got {self.metric!r}.")
        k = self.n_neighbors
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise RamancamError(f"n_neighbors must be a positive integer; got {k!r}.")
        Xa, codes = _encode(self, X, y)
        self.library_ = self._unit(Xa)
        self.library_codes_ = codes
        self.best_params_ = {"metric": self.metric, "n_neighbors": int(k)}
        return self

    def similarity(self, X: ArrayLike) -> NDArray[np.float64]:
        """HQI of every spectrum against every library spectrum, (n_spectra, n_library)."""
        check_is_fitted(self, "library_")
        Xa = predict_data(self, X, lambda: validate_data(self, X, dtype=np.float64,
                                                          reset=False))
        return np.asarray(self._unit(Xa) @ self.library_.T)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Per-class score: the best hit of each class (``n_neighbors=1``), else the votes
        among the best hits plus their summed similarity / (2 n_neighbors + 1) (ties).

        Returns
        -------
        ndarray of shape (n_spectra, n_classes), or (n_spectra,) for two classes
            For two classes: score of ``classes_[1]`` minus score of ``classes_[0]``.
        """
        score = self._class_scores(self.similarity(X))
        return score[:, 1] - score[:, 0] if score.shape[1] == 2 else score

    def _class_scores(self, S: NDArray[np.float64]) -> NDArray[np.float64]:
        K = self.classes_.size
        k = min(int(self.n_neighbors), S.shape[1])
        if k == 1:
            best = np.full((S.shape[0], K), -np.inf)
            for c in range(K):
                best[:, c] = S[:, self.library_codes_ == c].max(axis=1)
            return best
        top = np.argsort(-S, axis=1)[:, :k]
        votes = np.zeros((S.shape[0], K))
        sims = np.zeros((S.shape[0], K))
        rows = np.arange(S.shape[0])[:, None]
        np.add.at(votes, (rows, self.library_codes_[top]), 1.0)
        np.add.at(sims, (rows, self.library_codes_[top]), S[rows, top])
        # Votes first; the summed similarity (|sum| <= k, so < 1/2 vote) breaks ties.
        return votes + sims / (2.0 * k + 1.0)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Class of the best hit (or the majority of the ``n_neighbors`` best), (n_spectra,).
        """
        score = self._class_scores(self.similarity(X))
        return np.asarray(self.classes_[np.argmax(score, axis=1)])


# --------------------------------------------------------------------------- plotting
def plot_vip(vip: ArrayLike, wavenumbers: ArrayLike, classes: Sequence[str] | None = None, *,
             ax: Any = None, threshold: float | None = 1.0) -> Any:
    """Plot VIP profiles against the Raman shift, one line per class.

    Parameters
    ----------
    vip : array-like of shape (n_classes, n_points) or (n_points,)
        VIP scores (e.g. ``PLSDA.vip_`` or ``PLSDA.vip_overall_``).
    wavenumbers : array-like of shape (n_points,)
        The grid the VIP is on, cm-1 (channel numbers 0, 1, ... label the axis "channel").
    classes : sequence of str of length n_classes, optional
        Legend labels.
    ax : matplotlib Axes, optional
        Where to draw; a new pyplot figure (shown by a notebook or ``plt.show()``) is
        made when None.
    threshold : float or None, default=1.0
        Draw the usual "VIP > 1" reference line (None: no line).

    Returns
    -------
    ax : matplotlib Axes
    """
    v = np.atleast_2d(np.asarray(vip, dtype=np.float64))
    x = np.asarray(wavenumbers, dtype=np.float64)
    if v.shape[1] != x.size:
        raise RamancamError(
            f"vip must have one value per wavenumber ({x.size}); got shape {v.shape}.")
    if classes is not None and len(classes) != v.shape[0]:
        raise RamancamError(
            f"classes must have one name per VIP row ({v.shape[0]}); got {len(classes)}.")
    if ax is None:  # a pyplot figure, as ramancam.plot's: a notebook shows it
        from .plot import _axes

        ax = _axes(None, (8.0, 4.0))
    from .maps.images import class_colors

    # distinct colours per class (matplotlib's cycle repeats after 10), and line styles as
    # well: up to 4 classes they tell the classes apart without colour (greyscale print,
    # colour-blind readers), beyond 20, where hues come close, they part classes of one hue
    colors = class_colors(len(v))
    styles = ("-", "--", "-.", ":")
    from ._labels import short_names

    # names shortened as every figure's: long ones pushed the axes to nothing
    names = None if classes is None else short_names(classes)
    for i, row in enumerate(v):
        ax.plot(x, row, lw=1.0, color=colors[i], ls=styles[i % len(styles)],
                label=None if names is None else names[i])
    if threshold is not None:
        ax.axhline(threshold, color="0.5", lw=0.8, ls="--", label=f"VIP = {threshold:g}")
    from .plot import _xlabel

    ax.set_xlabel(_xlabel(x, None))  # "channel" on a channel axis, as every figure's
    ax.set_ylabel("VIP")
    if classes is not None:  # beside the axes: over them it hid VIP peaks
        ax.legend(fontsize="small", ncols=1 + len(classes) // 16, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    return ax
