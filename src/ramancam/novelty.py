"""Knowing when not to answer: novelty ("unknown") scores and calibrated probabilities.

A classifier trained on N substances names one of them for every spectrum, usually with a
probability near 1, also for a substance it never saw. This module gives a fitted
:class:`~ramancam.train.CNNClassifier` two extra things, both chosen on spectra that the
network did not train on:

* a **novelty score** per spectrum (larger = less like the training library) and a
  **threshold** set for a stated false-alarm rate on known spectra (default 5 %); a spectrum
  above it is reported as ``unknown``;
* a **temperature** ``T`` (temperature scaling, Guo et al. 2017): probabilities are
  ``softmax(logits / T)``, with ``T`` fitted by minimising the log loss of held-out logits.
  The predicted class never changes; only how sure the model says it is.

Scores (``method``), all fitted on the training spectra only:

``"hqi-nap"`` (default since 2026-12-06)
    ``hqi-halves`` after removing, from the spectrum's derivative and the training spectra's,
    the two directions in which training spectra of one class differ most (nuisance
    attribute projection, :mod:`ramancam._nap`): a background, a coating's bands or a band
    ratio that varies within every class no longer makes an unknown spectrum look like a
    known one. On six measured sets it flags more left-out spectra than ``hqi-halves`` on
    every set (``docs/novelty.md``). Its leave-one-out scores refit those directions without
    each left-out spectrum (or group).
``"hqi-halves"`` (default from 2026-12-05 to 2026-12-06)
    ``hqi`` with the correlation taken in the lower and the upper half of the grid apart and
    averaged, so that both halves count alike whatever their intensity (a weak region that
    does not match is not hidden by a strong one that does). On six measured sets it ranks
    unknown spectra better than ``hqi`` on four and as well on two (``docs/novelty.md``).
    Like ``hqi`` it does not depend on the network.
``"hqi"`` (the default until 2026-12-05)
    ``1 - r`` with ``r`` the largest correlation between the first derivative of the
    preprocessed spectrum and that of any training spectrum: the "hit quality index" of
    vendor library search, on Savitzky-Golay first derivatives. It does not depend on the
    network, so leave-one-out scores of the training spectra set its threshold.
``"knn"``
    Cosine distance from the spectrum's FC1 activations (the network's penultimate layer) to
    the nearest training spectrum's (k-nearest-neighbour out-of-distribution detection, Sun
    et al. 2022).
``"mahalanobis"``
    Smallest Mahalanobis distance of the FC1 activations to a class mean, one shared
    (Ledoit-Wolf shrunk) covariance (Lee et al. 2018).
``"energy"``
    ``-logsumexp(logits)`` (Liu et al. 2020).
``"msp"``
    ``1 - max softmax probability`` (Hendrycks and Gimpel 2017).

Held-out data. Scores of training spectra under the final network are optimistic (the network
has fitted them), so the threshold and the temperature come from **out-of-fold** values:
each spectrum is scored by a network (and a reference set) fitted without it, in the
cross-validation that ``ramancam train`` runs anyway, or in an inner cross-fit
(:func:`cross_fit`, ``CNNClassifier(calibration_cv=K)``, ``train`` with a fixed split). The
threshold is the split-conformal quantile of those scores (:func:`conformal_threshold`):
with exchangeable data, a new known spectrum exceeds it with probability at most ``rate``.

The fitted state is numbers only: a JSON-able dict and named float32 arrays, which
:mod:`ramancam.bundle` stores as JSON and safetensors (nothing executable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .conformal import (
    DEFAULT_RATE,
    Calibration,
    _logsumexp,
    calibrate,
    calibration_error,
    check_rate,
    conformal_threshold,
    expected_calibration_error,
    fit_temperature,
    p_values,
    prediction_sets,
    softmax,
)
from .errors import RamancamError
from .inner import check_groups, inner_k, kfold

if TYPE_CHECKING:
    from .model import RamanCNN

__all__ = ["DEFAULT_METHOD", "DEFAULT_RATE", "LIBRARY_SCORES", "METHODS", "Calibration",
           "NoveltyMixin", "NoveltyScorer", "calibrate", "calibration_error", "check_class_names",
           "conformal_threshold", "cross_fit", "expected_calibration_error", "fit_temperature",
           "network_outputs", "p_values", "softmax"]

METHODS = ("hqi-nap", "hqi-halves", "hqi", "knn", "mahalanobis", "energy", "msp")
#: The scores that compare derivatives with the training spectra's, and their blocks.
_HQI_BLOCKS = {"hqi": 1, "hqi-halves": 2, "hqi-nap": 2}
#: Chosen by measurement (``benchmarks/novelty.py``, ``docs/novelty.md``).
DEFAULT_METHOD = "hqi-nap"
#: The scores that compare a spectrum with each training spectrum (0: the same as one).
LIBRARY_SCORES = (*_HQI_BLOCKS, "knn")
#: Label written for a flagged spectrum.
UNKNOWN = "unknown"
_BATCH = 256
#: Reference rows projected at a time (``hqi-nap``): the projection's temporaries stay
#: a few MB instead of several copies of the whole reference.
_PROJECT_ROWS = 1024
#: Savitzky-Golay window (points) of the ``hqi`` derivative: 25 flags more unknown spectra
#: than 9 on all six measured sets (``benchmarks/novelty.py --scores``, ``docs/novelty.md``).
HQI_WINDOW = 25
#: The window of model files saved before it was stored (they keep scoring as they did).
_LEGACY_WINDOW = 9
_SG_ORDER = 2


def check_class_names(classes: Any) -> None:
    """Refuse class names that prediction's output could not tell from its own words: the
    flag :data:`UNKNOWN`, and the ``|`` between a prediction set's classes.

    Raises
    ------
    RamancamError
    """
    names = [str(c) for c in classes]
    if UNKNOWN in names:
        raise RamancamError(
            f"class labels must not be {UNKNOWN!r}, the word predictions give a spectrum "
            f"flagged as none of the classes; got a class {UNKNOWN!r}. Rename it (e.g. "
            "'unidentified') or leave its spectra out.")
    bad = [c for c in names if "|" in c]
    if bad:
        raise RamancamError(
            f"class labels must not contain '|', which separates the classes of a "
            f"prediction set; got {bad[0]!r}. Rename it (e.g. with '/').")


def check_method(method: Any) -> str | None:
    """``method`` if it is a known score or ``None`` (no novelty detection)."""
    if method is None or method in METHODS:
        return method
    raise RamancamError(f"novelty must be one of {METHODS} or None; got {method!r}.")


# ------------------------------------------------------------------ network outputs
def network_outputs(module: RamanCNN, X: ArrayLike, *, batch_size: int = _BATCH
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Logits and penultimate (FC1) activations of a fitted network, batched, eval mode.

    Parameters
    ----------
    module : RamanCNN
    X : array-like of shape (n_spectra, n_points)
        Preprocessed spectra on the network's grid.
    batch_size : int
        Spectra per forward pass (memory only: the outputs do not depend on it).

    Returns
    -------
    logits : ndarray of shape (n_spectra, n_classes)
    features : ndarray of shape (n_spectra, fc_width)
        FC1 output after its activation (if any), before dropout: what FC2 sees.
    """
    import torch

    Xa = np.asarray(X, dtype=np.float32)
    module.eval()
    dev = next(module.parameters()).device
    n = Xa.shape[0]
    logits = np.empty((n, module.config.n_classes))
    feats = np.empty((n, module.config.fc_width))
    head = list(module.classifier)
    fc2 = head[-1]
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            xb = torch.from_numpy(np.array(Xa[start:start + batch_size])).to(dev)
            h = module.features(module.scale_input(xb[:, None, :]))
            for layer in head[:-1]:  # Flatten, FC1, [LeakyReLU], Dropout (identity in eval)
                h = layer(h)
            feats[start:start + batch_size] = h.double().cpu().numpy()
            logits[start:start + batch_size] = fc2(h).double().cpu().numpy()
    return logits, feats


def _unit_rows(A: NDArray[Any]) -> NDArray[np.float64]:
    A = np.asarray(A, dtype=np.float64)
    norm = np.linalg.norm(A, axis=1, keepdims=True)
    return np.asarray(A / np.where(norm > 0, norm, 1.0))


def _distance(similarity: NDArray[np.float64]) -> NDArray[np.float64]:
    """``1 - similarity``, with a similarity within 1e-12 of 1 (a spectrum against itself:
    it comes out a few ulp above or below 1, by how the matrix product was blocked) as a
    perfect match, 0, so that a score does not depend on the batch a spectrum is in."""
    d = 1.0 - np.asarray(similarity, dtype=np.float64)
    return np.where(d < 1e-12, 0.0, d)


def _derivative_rows(X: NDArray[Any], window: int = HQI_WINDOW, blocks: int = 1
                     ) -> NDArray[np.float64]:
    """Centred, unit-length Savitzky-Golay first derivatives (so a dot product is Pearson r);
    the window shrinks to the largest odd length that fits a short spectrum. With ``blocks``
    > 1 each of that many equal runs of the grid is centred and scaled on its own, and the
    row divided by sqrt(blocks): a dot product is then the mean of the runs' Pearson r."""
    from scipy.signal import savgol_filter

    X = np.asarray(X, dtype=np.float64)
    window = min(int(window), X.shape[1] - (1 - X.shape[1] % 2))
    if window <= _SG_ORDER:  # too few points for a smoothed derivative
        d = np.gradient(X, axis=1) if X.shape[1] > 1 else X
    else:
        d = savgol_filter(X, window, _SG_ORDER, deriv=1, axis=1)
    if blocks <= 1 or d.shape[1] < 2 * blocks:
        return _unit_rows(d - d.mean(axis=1, keepdims=True))
    parts = [_unit_rows(d[:, i] - d[:, i].mean(axis=1, keepdims=True))
             for i in np.array_split(np.arange(d.shape[1]), blocks)]
    return np.asarray(np.hstack(parts) / np.sqrt(blocks))


def _first_seen_codes(a: NDArray[Any]) -> NDArray[np.intp]:
    """Each value's rank by first occurrence: equal for two arrays exactly when the same
    positions hold equal values."""
    _, first, inv = np.unique(a, return_index=True, return_inverse=True)
    return np.asarray(np.argsort(np.argsort(first))[inv.ravel()], dtype=np.intp)


def _same(a: NDArray[Any] | None, b: NDArray[Any] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.all(a == b))


# ---------------------------------------------------------------------- the score
class NoveltyScorer:
    """A novelty score fitted on training spectra (larger = less like the training data).

    Parameters
    ----------
    method : {"hqi-nap", "hqi-halves", "hqi", "knn", "mahalanobis", "energy", "msp"}
        See the module docstring.
    window : int
        Savitzky-Golay window (points, odd, > 2) of the ``hqi`` derivative; stored in the
        model file.

    Attributes
    ----------
    reference_ : dict of str to ndarray
        The fitted arrays (training FC1 activations for ``"knn"``, training derivatives for
        ``"hqi"``, class means and precision matrix for ``"mahalanobis"``; empty for the
        logit scores), float64; a loaded ``"hqi-nap"`` scorer keeps its derivatives float32,
        as stored (it searches their projection, made on the first score).
    labels_ : ndarray of shape (n_reference,) or None
        ``"hqi"``: the class index of each training spectrum of the reference, for
        :meth:`library_match` (``None`` for the other methods, and for ``hqi`` scorers
        loaded from files saved before 2026-12-04). Saved beside the class reference
        spectra (``references.safetensors``), not with the novelty arrays.
    """

    def __init__(self, method: str = DEFAULT_METHOD, window: int = HQI_WINDOW) -> None:
        m = check_method(method)
        if m is None:
            raise RamancamError(f"method must be one of {METHODS}; got None.")
        if (not isinstance(window, (int, np.integer)) or isinstance(window, bool)
                or window < 3 or window % 2 == 0):
            raise RamancamError(f"window must be an odd integer >= 3 (points); got "
                                f"{window!r}.")
        self.method = m
        self.window = int(window)
        # float64, but for a loaded hqi-nap scorer's derivatives (float32, as stored)
        self.reference_: dict[str, NDArray[Any]] = {}
        self.labels_: NDArray[np.intp] | None = None
        self._projected: NDArray[np.float64] | None = None  # hqi-nap's reference rows
        # the last leave-one-out scores with what they were computed for (reference and its
        # classes, groups, labels' partition): fit's, which train's calibration asks for again
        self._loo: tuple[Any, Any, Any, Any, NDArray[np.float64]] | None = None

    def __repr__(self) -> str:
        return f"NoveltyScorer(method={self.method!r})"

    @property
    def gives_match(self) -> bool:
        """True when :meth:`library_match` answers: an ``hqi`` scorer that knows its
        spectra's classes (fitted, or loaded from a file saved since 2026-12-04)."""
        return self.method in _HQI_BLOCKS and self.labels_ is not None

    @property
    def needs_features(self) -> bool:
        return self.method in ("knn", "mahalanobis")

    @property
    def model_free(self) -> bool:
        """True when the score does not depend on the network (``"hqi"``,
        ``"hqi-halves"``, ``"hqi-nap"``): then the leave-one-out scores of the training spectra
        (:meth:`loo_scores`) are honest held-out scores for the threshold."""
        return self.method in _HQI_BLOCKS

    def loo_scores(self, groups: ArrayLike | None = None, labels: ArrayLike | None = None
                   ) -> NDArray[np.float64]:
        """Leave-one-out scores of the training spectra: each against all the others.

        Parameters
        ----------
        groups : array-like of shape (n_train,), optional
            Group of each training spectrum (sample, patient, batch): each is then scored
            against the spectra of the other groups only (leave one group out), so that
            replicates of one sample do not make the scores optimistic. A spectrum whose
            group holds all training spectra scores ``nan``.
        labels : array-like of shape (n_train,), optional
            Class of each training spectrum: a spectrum with no other spectrum of its class
            to be scored against (the only one of its class, or, with ``groups``, its class
            all in its group) scores ``nan``. Its score would be that of a spectrum of an
            unknown class, while a known spectrum in use always has its class in the
            reference; counted as known, it would raise the threshold.

        Returns
        -------
        ndarray of shape (n_train,)

        Raises
        ------
        RamancamError
            If the score depends on the network (only ``"hqi"`` has honest leave-one-out
            scores: the network has seen every training spectrum).
        """
        if not self.model_free or "derivatives" not in self.reference_:
            raise RamancamError(f"leave-one-out scores must come from a fitted model-free "
                                f"score ('hqi'); got {self.method!r}. Use out-of-fold scores.")
        ref = self.reference_["derivatives"]
        g = check_groups(groups, ref.shape[0])
        lab = check_groups(labels, ref.shape[0])
        # only which spectra share a class counts, not the classes' names (fit passes their
        # indices, train's calibration their names); the groups' names order the refits
        part = None if lab is None else _first_seen_codes(lab)
        last = self._loo
        if (last is not None and last[0] is ref and last[1] is self.labels_
                and _same(last[2], g) and _same(last[3], part)):
            return last[4].copy()
        out = np.empty(ref.shape[0])
        for rows, sim in self._loo_similarities(g):
            sim[np.arange(rows.size), rows] = -np.inf  # not against itself
            if g is not None:  # nor against its own group
                sim[g[rows, None] == g[None, :]] = -np.inf
            best = sim.max(axis=1)
            if lab is not None:  # no spectrum of its own class left to be scored against
                same = lab[rows, None] == lab[None, :]
                best[~np.any(same & np.isfinite(sim), axis=1)] = -np.inf
            out[rows] = np.where(np.isfinite(best), _distance(best), np.nan)
        self._loo = (ref, self.labels_, g, part, out.copy())
        return out

    def _loo_similarities(self, groups: NDArray[Any] | None
                          ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.float64]]]:
        """``(rows, similarities)`` batches: training rows and their similarity to every
        training row, compared as a new spectrum would be if those rows (their groups, with
        ``groups``) had been left out of the fit. For ``hqi-nap`` the nuisance directions are
        refitted without them (exactly, :func:`ramancam._nap.loo_similarities`); the other
        scores' reference does not depend on the other rows."""
        ref = self.reference_["derivatives"]
        n = ref.shape[0]
        if "nuisance" not in self.reference_:
            for start in range(0, n, _BATCH):
                rows = np.arange(start, min(start + _BATCH, n))
                yield rows, ref[rows] @ ref.T
            return
        if self.labels_ is None:
            raise RamancamError("leave-one-out scores of 'hqi-nap' need the training "
                                "spectra's classes; got a scorer without them. Fit it, or "
                                "load it with its model file.")
        from ._nap import loo_similarities

        units = ([np.array([i]) for i in range(n)] if groups is None
                 else [np.flatnonzero(groups == v) for v in np.unique(groups)])
        k = self.reference_["nuisance"].shape[0]  # as many directions as the fit kept
        # one small eigenproblem per unit, about a millisecond each (docs/novelty.md)
        yield from loo_similarities(ref, self.labels_, units, k)

    def fit(self, X: ArrayLike, y_idx: ArrayLike, features: ArrayLike) -> NoveltyScorer:
        """Fit on the training spectra.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Preprocessed training spectra.
        y_idx : array-like of shape (n_spectra,)
            Class index of each (``mahalanobis`` only).
        features : array-like of shape (n_spectra, fc_width)
            Their FC1 activations (:func:`network_outputs`).

        Returns
        -------
        self
        """
        self._projected = None
        self._loo = None
        if self.method == "knn":
            self.reference_ = {"features": _unit_rows(np.asarray(features))}
        elif self.method in _HQI_BLOCKS:
            D = _derivative_rows(np.asarray(X), self.window, _HQI_BLOCKS[self.method])
            self.labels_ = np.asarray(y_idx, dtype=np.intp).copy()
            self.reference_ = {"derivatives": D}
            if self.method == "hqi-nap":
                from ._nap import nuisance_directions

                self.reference_["nuisance"] = nuisance_directions(D, self.labels_)
        elif self.method == "mahalanobis":
            from sklearn.covariance import LedoitWolf

            F = np.asarray(features, dtype=np.float64)
            y = np.asarray(y_idx)
            classes = np.unique(y)
            means = np.stack([F[y == c].mean(axis=0) for c in classes])
            resid = F - means[np.searchsorted(classes, y)]
            self.reference_ = {"means": means,
                               "precision": np.asarray(LedoitWolf().fit(resid).precision_)}
        else:
            self.reference_ = {}
        return self

    def score(self, X: ArrayLike, logits: ArrayLike, features: ArrayLike
              ) -> NDArray[np.float64]:
        """Novelty scores, shape (n_spectra,); larger = less like the training spectra.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Preprocessed spectra.
        logits : array-like of shape (n_spectra, n_classes)
        features : array-like of shape (n_spectra, fc_width)
            From :func:`network_outputs`.
        """
        return self.score_and_match(X, logits, features)[0]

    def score_and_match(self, X: ArrayLike, logits: ArrayLike, features: ArrayLike
                        ) -> tuple[NDArray[np.float64], NDArray[np.intp] | None]:
        """:meth:`score` and :meth:`library_match` from one comparison with the reference
        (the match is ``None`` where :meth:`library_match` gives ``None``)."""
        z = np.asarray(logits, dtype=np.float64)
        if self.method == "energy":
            return -_logsumexp(z), None
        if self.method == "msp":
            return np.asarray(1.0 - softmax(z).max(axis=1)), None
        if not self.reference_:
            raise RamancamError("NoveltyScorer must be fitted before scoring; got an unfitted "
                                "one. Call fit first.")
        if self.method == "mahalanobis":
            F = np.asarray(features, dtype=np.float64)
            P = self.reference_["precision"]
            d = np.stack([np.einsum("ij,jk,ik->i", F - m, P, F - m)
                          for m in self.reference_["means"]], axis=1)
            return np.asarray(np.sqrt(np.maximum(d.min(axis=1), 0.0))), None
        best, row = self._nearest(X, features)
        labels = self.labels_ if self.gives_match else None
        match = None if labels is None else np.asarray(labels[row], dtype=np.intp)
        return _distance(best), match

    def _nearest(self, X: ArrayLike, features: ArrayLike
                 ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Largest similarity to any reference row and that row's index (``knn``, ``hqi``);
        exactly 1 for a row the same as its nearest reference row (a training spectrum)."""
        if self.method == "knn":
            query, ref = _unit_rows(np.asarray(features)), self.reference_["features"]
        else:
            query = _derivative_rows(np.asarray(X), self.window, _HQI_BLOCKS[self.method])
            ref = self.reference_["derivatives"]
        rows, refs = query, ref  # as stored (before the nuisance directions are taken out)
        if "nuisance" in self.reference_:
            from ._nap import project

            V = self.reference_["nuisance"]
            if self._projected is None:  # row by row the same as projected whole
                self._projected = np.empty(ref.shape)
                for start in range(0, ref.shape[0], _PROJECT_ROWS):
                    block = slice(start, start + _PROJECT_ROWS)
                    self._projected[block] = project(ref[block], V)
            query, ref = project(query, V), self._projected
        best = np.empty(query.shape[0])
        row = np.empty(query.shape[0], dtype=np.intp)
        for start in range(0, query.shape[0], _BATCH):  # bounded memory: batch x n_reference
            part = slice(start, start + _BATCH)
            sim = query[part] @ ref.T
            row[part] = sim.argmax(axis=1)
            best[part] = sim.max(axis=1)
            # A training spectrum scores a few 1e-9 above 0 against a model file's reference,
            # stored as float32 (its similarity to its own rounded row is not 1): one whose
            # row rounds to the stored row is the same spectrum, a perfect match (score 0).
            same = np.all(rows[part].astype(np.float32) == refs[row[part]].astype(np.float32),
                          axis=1)
            best[part][same] = 1.0
        return best, row

    def library_match(self, X: ArrayLike) -> NDArray[np.intp] | None:
        """Class index of each spectrum's most similar training spectrum by the hit quality
        index (the spectrum a vendor's library search would name), shape (n_spectra,);
        ``None`` when the scorer is not ``hqi`` or does not know its spectra's classes.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
            Preprocessed spectra.
        """
        if not self.gives_match or not self.reference_:
            return None
        n = len(np.asarray(X))
        return self.score_and_match(X, np.zeros((n, 0)), np.zeros((n, 0)))[1]

    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray[np.float32]]]:
        """``(json_dict, arrays)``: the method (and ``hqi``'s window) and the fitted arrays
        (float32)."""
        return ({"method": self.method, **({"window": self.window}
                                           if self.method in _HQI_BLOCKS else {})},
                {k: np.ascontiguousarray(v, dtype=np.float32)
                 for k, v in self.reference_.items()})

    @classmethod
    def from_state(cls, d: dict[str, Any], arrays: dict[str, NDArray[Any]]
                   ) -> NoveltyScorer:
        """Rebuild from :meth:`to_state` output (a loaded model file)."""
        s = cls(d.get("method", ""), d.get("window", _LEGACY_WINDOW))
        need = {"knn": {"features"}, "hqi": {"derivatives"}, "hqi-halves": {"derivatives"},
                "hqi-nap": {"derivatives", "nuisance"},
                "mahalanobis": {"means", "precision"}}.get(s.method, set())
        if set(arrays) != need:
            raise RamancamError(f"novelty arrays must be {sorted(need)} for method "
                                f"{s.method!r}; got {sorted(arrays)}. The file is damaged.")
        # hqi-nap searches its projected rows (float64, made on the first score) and needs
        # the stored float32 rows only to tell a training spectrum: a float64 copy of them
        # held a third more memory. The upcast in project() gives the same numbers.
        keep32 = s.method == "hqi-nap"
        s.reference_ = {k: (np.asarray(v) if keep32 and k == "derivatives"
                            and np.asarray(v).dtype == np.float32
                            else np.asarray(v, dtype=np.float64))
                        for k, v in arrays.items()}
        if "nuisance" in arrays:
            V, ref = s.reference_["nuisance"], s.reference_["derivatives"]
            if V.ndim != 2 or ref.ndim != 2 or V.shape[1] != ref.shape[1]:
                raise RamancamError(
                    f"novelty array 'nuisance' must have one column per grid point "
                    f"({ref.shape[-1]}); got shape {V.shape}. The file is damaged.")
        return s


def cross_fit(estimator: Any, X: NDArray[Any], y: NDArray[Any], *, folds: int = 3,
              seed: int = 0, groups: ArrayLike | None = None
              ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                         NDArray[np.intp], NDArray[np.int64]]:
    """Out-of-fold logits and novelty scores by an inner stratified K-fold (stratified
    group K-fold with ``groups``, :func:`ramancam.inner.kfold`).

    Each fold trains a clone of ``estimator`` (without its own calibration) on the other
    folds and scores this one with a scorer fitted on the other folds' spectra.

    Parameters
    ----------
    estimator : CNNClassifier
        Its parameters are used (fitted or not); a fitted one's augmentation decision
        (``augment_choice_``) is reused instead of being made again per fold.
    X : ndarray of shape (n, n_points)
    y : ndarray of shape (n,)
    folds : int
        Inner folds (reduced to the smallest class size when that is smaller, at least 2;
        a class with a single spectrum trains in every fold and is never scored:
        :func:`ramancam.inner.stratified_kfold`).
    seed : int
    groups : array-like of shape (n,), optional
        Group of each spectrum: whole groups go to one fold.

    Returns
    -------
    logits : ndarray of shape (n, n_classes)
        Columns in sorted class order; ``-inf`` for a class that a spectrum's fold model
        never saw (possible with groups) and in every column of a spectrum never scored.
    scores : ndarray of shape (n,) or None
        Novelty scores (``None`` when ``params["novelty"]`` is None; NaN where never
        scored).
    y_idx : ndarray of shape (n,)
    fold_of : ndarray of shape (n,)
        Inner fold in which each spectrum was scored; -1 if never.

    Raises
    ------
    RamancamError
        If every class has a single spectrum.
    """
    from sklearn.base import clone

    g = check_groups(groups, np.asarray(y).shape[0])
    classes, y_idx = np.unique(np.asarray(y), return_inverse=True)
    k = inner_k(y_idx, folds)
    if k < 2:
        raise RamancamError(
            "at least one class must have 2 spectra to calibrate on held-out data; every "
            "class has one. Add spectra or use calibration_cv=0.")
    # -inf: never tested (a class with a single spectrum trains in every fold) or a class
    # missing from the fold's training part; calibrate() leaves such spectra out.
    logits = np.full((y_idx.size, classes.size), -np.inf)
    scores = (None if estimator.get_params().get("novelty") is None
              else np.full(y_idx.size, np.nan))
    fold_of = np.full(y_idx.size, -1, dtype=np.int64)
    from .augment import decided_params

    # A fitted estimator's augmentation decision is kept, not made again in every fold.
    fixed = decided_params(getattr(estimator, "augment_choice_", None))
    for f, (tr, te) in enumerate(kfold(y_idx, k, seed, g)):
        est = clone(estimator).set_params(calibration_cv=0, **fixed).fit(
            X[tr], y[tr], groups=None if g is None else g[tr])
        z, s = est.held_out_outputs(X[te])
        cols = np.searchsorted(classes, est.classes_)
        logits[np.ix_(te, cols)] = z
        if scores is not None and s is not None:
            scores[te] = s
        fold_of[te] = f
    return logits, scores, y_idx.astype(np.intp), fold_of

# ------------------------------------------------------- the classifier's side of it
def _check_fitted(est: Any, attr: str) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est, attr)


class NoveltyMixin:
    """Novelty detection and calibration methods of :class:`ramancam.train.CNNClassifier`
    (kept here so that the classifier's module stays about training). Uses the estimator's
    ``novelty``, ``novelty_rate``, ``calibration_cv``, ``module_`` and ``classes_``."""

    novelty: str | None
    novelty_rate: float
    calibration_cv: int
    module_: Any
    classes_: NDArray[Any]
    novelty_scorer_: NoveltyScorer | None
    temperature_: float
    novelty_threshold_: float
    calibration_: Calibration | None
    novelty_held_out_: NDArray[np.float64] | None
    class_scores_: NDArray[np.float64] | None
    predict_proba: Callable[[ArrayLike], NDArray[np.float64]]  # the classifier's

    def _fit_novelty(self, Xa: NDArray[Any], ya: NDArray[Any], y_idx: NDArray[np.intp],
                     tr_idx: NDArray[np.intp], va_idx: NDArray[np.intp], seed: int,
                     groups: NDArray[Any] | None = None) -> None:
        """Fit the novelty score on the training rows; temperature and threshold on
        held-out ones (inner cross-fit or the validation part), see ``calibration_cv``;
        ``groups`` (one per row of ``Xa``) keep whole groups on one side of each."""
        self.temperature_ = 1.0
        self.novelty_threshold_ = float("inf")
        self.calibration_ = None
        self.novelty_scorer_ = None
        self.novelty_held_out_ = None
        self.class_scores_ = None
        if getattr(self, "diverged_epoch_", None) is not None:  # a network of NaN weights:
            return  # (a diverged fold of cross_validate) no scores, nothing calibrated
        if self.novelty is not None:
            new = NoveltyScorer(self.novelty)
            feats = (network_outputs(self.module_, Xa[tr_idx])[1] if new.needs_features
                     else np.zeros((tr_idx.size, 0)))
            self.novelty_scorer_ = new.fit(Xa[tr_idx], y_idx[tr_idx], feats)
        scorer = self.novelty_scorer_
        loo = (scorer.loo_scores(None if groups is None else groups[tr_idx], y_idx[tr_idx])
               if scorer is not None and scorer.model_free else None)
        if self.calibration_cv >= 2:
            z, s, yi, fold_of = cross_fit(self, Xa, ya, folds=int(self.calibration_cv),
                                          seed=seed, groups=groups)
            k = int(fold_of.max()) + 1
            self.set_calibration(calibrate(z, yi, s, fold_of, rate=self.novelty_rate,
                                           source=f"{k}-fold inner CV", loo_scores=loo,
                                           loo_groups=groups is not None))
        elif va_idx.size:
            z, s = self.held_out_outputs(Xa[va_idx])
            self.set_calibration(calibrate(z, y_idx[va_idx], s, np.zeros(va_idx.size),
                                           rate=self.novelty_rate,
                                           source="validation part", loo_scores=loo,
                                           loo_groups=groups is not None))
        elif loo is not None:  # a model-free score needs no held-out networks
            self.novelty_threshold_ = conformal_threshold(loo, self.novelty_rate)
            self.novelty_held_out_ = np.sort(loo[np.isfinite(loo)])

    def set_calibration(self, calibration: Any) -> Any:
        """Use a temperature and novelty threshold chosen on held-out data.

        Parameters
        ----------
        calibration : Calibration
            From :func:`ramancam.novelty.calibrate` on out-of-fold logits and scores.

        Returns
        -------
        self
        """
        _check_fitted(self, "module_")
        rate = getattr(calibration, "rate", None)
        if rate is not None and not np.isclose(float(rate), float(self.novelty_rate),
                                               rtol=0, atol=1e-12):
            # the threshold is for the calibration's rate; the model file, predict's line and
            # the prediction sets would state novelty_rate's
            raise RamancamError(
                f"calibration must be made for the model's novelty_rate ({self.novelty_rate:g}); "
                f"got one for rate {float(rate):g}. Pass rate={self.novelty_rate:g} to "
                f"calibrate(...), or set_params(novelty_rate={float(rate):g}) first.")
        self.temperature_ = float(calibration.temperature)
        self.novelty_threshold_ = float(calibration.threshold)
        self.calibration_ = calibration
        self.novelty_held_out_ = getattr(calibration, "scores", None)
        self.class_scores_ = getattr(calibration, "class_scores", None)
        return self

    def held_out_outputs(self, X: ArrayLike
                         ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Raw logits (no temperature) and novelty scores (``None`` without novelty).

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)

        Returns
        -------
        logits : ndarray of shape (n_spectra, n_classes)
        scores : ndarray of shape (n_spectra,) or None
        """
        from sklearn.utils.validation import validate_data

        from ._inputs import predict_data

        _check_fitted(self, "module_")
        Xa = predict_data(self, X, lambda: validate_data(self, X, reset=False,
                                                         dtype=[np.float64, np.float32]))
        z, feats = network_outputs(self.module_, Xa)
        scorer = getattr(self, "novelty_scorer_", None)
        return z, (None if scorer is None else scorer.score(Xa, z, feats))

    def novelty_score(self, X: ArrayLike) -> NDArray[np.float64]:
        """Novelty score of each spectrum, shape (n_spectra,); larger = less like the
        training spectra (see ``novelty``).

        Raises
        ------
        RamancamError
            If the classifier was fitted with ``novelty=None``.
        """
        _, s = self.held_out_outputs(X)
        if s is None:
            raise RamancamError("novelty must be set to score spectra; got novelty=None. "
                                f"Fit with novelty={DEFAULT_METHOD!r} (the default).")
        return s

    def novelty_p_value(self, X: ArrayLike) -> NDArray[np.float64]:
        """Conformal p-value of each spectrum's novelty score among the held-out known
        scores that set the threshold (:func:`p_values`), shape (n_spectra,): small = few
        known spectra look this unlike the training spectra; ``<= novelty_rate`` for every
        spectrum :meth:`predict_unknown` flags. All NaN until a threshold is set.
        """
        return p_values(self.novelty_score(X), getattr(self, "novelty_held_out_", None))

    def predict_set(self, X: ArrayLike, rate: float | None = None) -> NDArray[np.bool_]:
        """Conformal prediction sets (:func:`ramancam.conformal.prediction_sets`), shape
        (n_spectra, n_classes), columns in ``classes_`` order: for a new spectrum of a known
        class, its class is in its set with probability at least ``1 - rate`` (default
        ``novelty_rate``).

        Raises
        ------
        RamancamError
            Before held-out class scores exist (``calibration_cv`` or :meth:`set_calibration`).
        """
        scores = getattr(self, "class_scores_", None)
        if scores is None:
            raise RamancamError("prediction sets need held-out class scores; got a classifier "
                                "calibrated on none. Fit with calibration_cv=3 (or a "
                                "validation_fraction), or call set_calibration.")
        return prediction_sets(self.predict_proba(X), scores,
                               self.novelty_rate if rate is None else check_rate(rate))

    def predict_unknown(self, X: ArrayLike) -> NDArray[np.bool_]:
        """True for spectra whose novelty score exceeds ``novelty_threshold_``, shape
        (n_spectra,). The model-free scores (``hqi-nap``, ``hqi-halves``, ``hqi``) have
        their threshold from ``fit`` (leave-one-out scores); the others flag nothing until
        one is set (``calibration_cv`` or :meth:`set_calibration`)."""
        return np.asarray(self.novelty_score(X) > self.novelty_threshold_)

    def predict_or_unknown(self, X: ArrayLike) -> NDArray[np.object_]:
        """Like :meth:`predict`, with ``"unknown"`` for flagged spectra, shape (n_spectra,)."""
        z, s = self.held_out_outputs(X)
        out = np.asarray(self.classes_[z.argmax(axis=1)], dtype=object)
        if s is not None:
            out[s > self.novelty_threshold_] = UNKNOWN
        return out
