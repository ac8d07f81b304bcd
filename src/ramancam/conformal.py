"""Held-out calibration of a classifier's outputs: conformal thresholds and p-values for a
novelty score, temperature scaling and the expected calibration error.

Everything here works on numbers that the model did not train on (out-of-fold logits and
novelty scores, or leave-one-out scores of a model-free score), as :mod:`ramancam.novelty`
explains; it knows nothing of networks or spectra. :mod:`ramancam.novelty` re-exports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import RamancamError

__all__ = ["DEFAULT_RATE", "Calibration", "calibrate", "calibration_error", "check_rate",
           "class_scores", "conformal_threshold", "expected_calibration_error",
           "fit_temperature", "p_values", "prediction_sets", "set_members", "softmax"]

#: Share of known spectra allowed to be flagged ("false alarms").
DEFAULT_RATE = 0.05


def check_rate(rate: Any) -> float:
    """``rate`` as a float in (0, 1)."""
    ok = isinstance(rate, (int, float, np.floating)) and not isinstance(rate, bool) \
        and np.isfinite(rate) and 0 < rate < 1
    if not ok:
        raise RamancamError(f"novelty_rate must be a number in (0, 1); got {rate!r}. "
                            "0.05 flags about 5 % of known spectra.",
                            cli=f"--novelty-rate must be a number in (0, 1); got {rate!r}. "
                                "0.05 flags about 5 % of known spectra.")
    return float(rate)


def smallest_rate(n_held: int) -> float:
    """The smallest false-alarm rate ``n_held`` held-out scores can set, ``1 / (n + 1)``,
    rounded *up* to 3 significant digits (so that the printed value is accepted)."""
    x = 1.0 / (n_held + 1)
    scale = 10.0 ** (2 - math.floor(math.log10(x)))
    return math.ceil(x * scale - 1e-9) / scale


def softmax(logits: ArrayLike, temperature: float = 1.0, *, like_torch: bool = False
            ) -> NDArray[np.float64]:
    """``softmax(logits / temperature)`` row by row, shape as ``logits``.

    ``like_torch``: compute with torch from the float32 logits, in float64, exactly as
    :func:`ramancam.train.predict_proba_module` does (same numbers to the last bit).
    """
    if like_torch:
        import torch

        zt = torch.as_tensor(np.asarray(logits, dtype=np.float32)).double() / float(temperature)
        return np.asarray(torch.softmax(zt, dim=1).double().numpy())
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


# ------------------------------------------------------------ threshold, temperature
def conformal_threshold(scores: ArrayLike, rate: float = DEFAULT_RATE) -> float:
    """Split-conformal threshold: a new known spectrum scores above it with probability
    ``<= rate``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Novelty scores of known spectra that the scorer was not fitted on (out-of-fold).
    rate : float
        Allowed false-alarm rate in (0, 1).

    Returns
    -------
    float
        The ``ceil((n + 1)(1 - rate))``-th smallest score; ``inf`` (flag nothing) when
        ``n < 1 / rate - 1`` spectra cannot support that rate.

    Notes
    -----
    With ``n < 2 / rate - 1`` scores (39 for 5 %) this is the largest score, so a single
    known spectrum unlike all others (another laser, luminescence instead of Raman bands)
    sets the threshold alone; a lower threshold could not keep the rate for every
    calibration set. The expected false-alarm rate is then ``1 / (n + 1)``, below ``rate``.
    """
    rate = check_rate(rate)
    s = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    s = s[np.isfinite(s)]
    k = _conformal_rank(s.size, rate)
    if s.size == 0 or k > s.size:
        return float("inf")
    return float(s[k - 1])


def p_values(scores: ArrayLike, held_out: ArrayLike | None) -> NDArray[np.float64]:
    """Conformal p-value of each novelty score among the held-out known scores that set the
    threshold: ``(1 + #{held-out >= s}) / (n + 1)``.

    It is the share of known spectra (the new one counted among them) that look at least as
    unlike the training spectra as this one: for a new spectrum of a known class it is
    uniform (``P(p <= a) <= a``), so a spectrum with ``p = 0.002`` is one that fewer than
    1 in 500 known spectra would match, whatever the score's own scale. Every spectrum
    above the threshold for ``rate`` has ``p <= rate``.

    Parameters
    ----------
    scores : array-like of shape (n_spectra,)
    held_out : array-like of shape (n,) or None
        Held-out novelty scores of known spectra (``Calibration.scores``).

    Returns
    -------
    ndarray of shape (n_spectra,)
        NaN where a score is NaN, and everywhere when ``held_out`` is None or empty.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    ref = np.zeros(0) if held_out is None else np.asarray(held_out, dtype=np.float64).ravel()
    ref = np.sort(ref[np.isfinite(ref)])
    if ref.size == 0:
        return np.full(s.shape, np.nan)
    at_least = ref.size - np.searchsorted(ref, s, side="left")
    p = (1.0 + at_least) / (ref.size + 1.0)
    p[np.isnan(s)] = np.nan
    return np.asarray(p, dtype=np.float64)


def class_scores(proba: ArrayLike, y_idx: ArrayLike) -> NDArray[np.float64]:
    """Non-conformity of each spectrum's true class for prediction sets: one minus its
    probability (the "least ambiguous" sets of Sadinle, Lei and Wasserman 2019, which have
    the smallest expected size for calibrated probabilities).

    Parameters
    ----------
    proba : array-like of shape (n, n_classes)
        Held-out (out-of-fold) probabilities.
    y_idx : array-like of shape (n,)
        True class indices.

    Returns
    -------
    ndarray of shape (n,), in [0, 1]
    """
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_idx, dtype=np.intp)
    return np.asarray(1.0 - p[np.arange(y.size), y])


def prediction_sets(proba: ArrayLike, held_out: ArrayLike,
                    rate: float = DEFAULT_RATE) -> NDArray[np.bool_]:
    """Conformal prediction sets: for each spectrum the classes whose :func:`class_scores`
    (one minus their probability) is at most the ``1 - rate`` quantile of the held-out
    spectra's, and always the most probable class. A new spectrum of a known class finds
    its class in its set with probability at least ``1 - rate``; the set is never empty,
    and it holds every class when the held-out spectra are too few for the rate.

    Parameters
    ----------
    proba : array-like of shape (n, n_classes)
        Calibrated probabilities (rows of NaN: no set, all False).
    held_out : array-like of shape (m,)
        :func:`class_scores` of held-out known spectra.
    rate : float
        Allowed miss rate (0.05: 95 % sets).

    Returns
    -------
    ndarray of bool, shape (n, n_classes)
    """
    p = np.asarray(proba, dtype=np.float64)
    q = conformal_threshold(held_out, rate)
    finite = np.isfinite(p)
    keep = finite & (1.0 - np.nan_to_num(p, nan=0.0) <= q)
    rows = np.flatnonzero(finite.any(axis=1))
    keep[rows, np.nan_to_num(p[rows], nan=-1.0).argmax(axis=1)] = True  # the top class
    return keep


def set_members(sets: ArrayLike, proba: ArrayLike, classes: Sequence[str]) -> list[list[str]]:
    """The classes of each row's prediction set (:func:`prediction_sets`), most probable
    first (ties in class order; rows of NaN probabilities give empty lists when their set is
    empty): what ``predict``'s ``prediction_set`` column and the reports list."""
    s = np.asarray(sets, dtype=bool)
    ranked = np.argsort(-np.asarray(proba, dtype=np.float64), axis=1, kind="stable")
    names = [str(c) for c in classes]
    return [[names[j] for j in order if row[j]] for order, row in zip(ranked, s, strict=True)]


def _conformal_rank(n: int, rate: float) -> int:
    """Rank (1-based, ascending) of the split-conformal threshold among ``n`` scores,
    ``ceil((n + 1) * (1 - rate))`` in exact arithmetic: in floating point 150 * (1 - 0.18)
    is 123.00000000000001, one rank too high, and a spectrum with ``novelty_p`` = 0.18 was
    not flagged at rate 0.18."""
    from fractions import Fraction

    return math.ceil((n + 1) * (1 - Fraction(repr(float(rate)))))


def _logsumexp(z: NDArray[np.float64]) -> NDArray[np.float64]:
    m = z.max(axis=1, keepdims=True)
    return np.asarray((m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0])


def fit_temperature(logits: ArrayLike, y_idx: ArrayLike) -> float:
    """Temperature ``T`` minimising the log loss of ``softmax(logits / T)`` (Guo et al. 2017).

    Parameters
    ----------
    logits : array-like of shape (n, n_classes)
        Held-out logits.
    y_idx : array-like of shape (n,)
        True class indices.

    Returns
    -------
    float
        ``T`` in [0.05, 100] (1.0 when there are no logits).
    """
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y_idx, dtype=np.intp)
    if z.shape[0] == 0:
        return 1.0

    def nll(log_t: float) -> float:
        zt = z / np.exp(log_t)
        return float(np.mean(_logsumexp(zt) - zt[np.arange(y.size), y]))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(100.0)), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


def expected_calibration_error(proba: ArrayLike, y_idx: ArrayLike, *, n_bins: int = 15
                               ) -> float:
    """Expected calibration error of the top-class probability (equal-width bins).

    ``sum_b |B_b| / n * |accuracy(B_b) - confidence(B_b)|`` over ``n_bins`` bins of the
    largest probability (Guo et al. 2017). A bin holds its lower edge (``[k/n_bins,
    (k+1)/n_bins)``, the last one 1.0 too); Guo et al. give each bin its upper edge, which
    differs only for confidences exactly on an edge (k/15 with 15 bins: 0.4, 2/3, ...).

    Parameters
    ----------
    proba : array-like of shape (n, n_classes)
    y_idx : array-like of shape (n,)
        True class indices.
    n_bins : int

    Returns
    -------
    float
        In [0, 1]; NaN for no spectra.
    """
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_idx, dtype=np.intp)
    if p.shape[0] == 0:
        return float("nan")
    return calibration_error(p.max(axis=1), p.argmax(axis=1) == y, n_bins=n_bins)


def calibration_error(confidence: ArrayLike, correct: ArrayLike, *, n_bins: int = 15
                      ) -> float:
    """:func:`expected_calibration_error` from the top-class probabilities and whether each
    prediction was right (for pooling several models' test spectra into one estimate).

    Parameters
    ----------
    confidence : array-like of shape (n,)
        The largest probability of each spectrum, in [0, 1].
    correct : array-like of shape (n,)
        True where the predicted class was the true one.
    n_bins : int

    Returns
    -------
    float
        In [0, 1]; NaN for no spectra.
    """
    conf = np.asarray(confidence, dtype=np.float64).ravel()
    ok = np.asarray(correct, dtype=np.float64).ravel()
    if conf.shape != ok.shape:
        raise RamancamError(f"confidence and correct differ in length ({conf.size} and "
                            f"{ok.size}).")
    if conf.size == 0:
        return float("nan")
    bins = np.minimum((conf * n_bins).astype(np.intp), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(ok[m].mean() - conf[m].mean())
    return float(total / conf.size)


@dataclass
class Calibration:
    """Temperature and novelty threshold chosen on held-out (out-of-fold) values.

    Attributes
    ----------
    temperature : float
    threshold : float
        Novelty threshold (``inf``: too few held-out spectra for the rate; nothing flagged).
    rate : float
        Requested false-alarm rate.
    source : str
        Where the held-out values came from (printed and stored).
    n_held_out : int
    ece_before, ece_after : float
        Expected calibration error of the held-out probabilities at ``T = 1`` and after
        scaling (each fold's probabilities scaled by a temperature fitted on the other
        folds, so "after" is not scored on its own fitting data).
    false_alarm : float
        Share of held-out known spectra flagged, each fold against a threshold set on the
        other folds (an honest estimate of the false-alarm rate, from thresholds set on
        fewer scores than the model's: a little low for a few dozen scores; NaN without
        folds, and NaN where a fold's threshold would be set on too few scores to flag
        anything, rather than the 0 % such thresholds give).
    fitted_temperature : float
        The log-loss temperature; ``temperature`` is 1 instead when scaling by it did not
        lower the cross-fitted ECE (``ece_after >= ece_before``).
    n_scores : int
        Number of held-out novelty scores the threshold was chosen from (0: unknown, e.g.
        a model file written before this field existed).
    scores : ndarray of shape (n_scores,) or None
        Those scores, sorted (for :func:`p_values`); not part of :meth:`to_dict` (the
        model file keeps them as an array).
    set_coverage, set_size : float
        Prediction sets at ``1 - rate``: the share of held-out spectra whose true class is
        in their set and the mean number of classes per set, each fold's sets from the
        other folds' :func:`class_scores` (NaN without folds or before 2026-12-05).
    set_scores : int
        The fewest :func:`class_scores` a fold's sets were built from (the other folds'),
        which decides whether :meth:`set_line` says they were too few (0: not recorded,
        before 2026-12-07; then all of them decide).
    class_scores : ndarray or None
        The held-out spectra's :func:`class_scores` under the final temperature, sorted
        (for :func:`prediction_sets`); not part of :meth:`to_dict`.
    """

    temperature: float
    threshold: float
    rate: float
    source: str
    n_held_out: int
    ece_before: float
    ece_after: float
    false_alarm: float
    fitted_temperature: float = 1.0
    n_scores: int = 0
    set_coverage: float = float("nan")
    set_size: float = float("nan")
    set_scores: int = 0
    scores: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    class_scores: NDArray[np.float64] | None = field(default=None, repr=False,
                                                     compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__
                if k not in ("scores", "class_scores")}

    def set_line(self) -> str | None:
        """The ``prediction sets:`` line ``train`` prints (``None`` when not measured)."""
        if not np.isfinite(self.set_coverage):
            return None
        m = None if self.class_scores is None else int(np.asarray(self.class_scores).size)
        # the cross-fitted sets of a fold come from the other folds' scores only: decided
        # on all m, a 2-fold run of 24 (12 a fold, 19 needed) said nothing of its full sets
        k = self.set_scores if 0 < self.set_scores < (m or 0) else m
        need = int(np.ceil(1 / self.rate - 1 - 1e-9)) if self.rate else 0
        few = ("" if k is None or not self.rate or _conformal_rank(k, self.rate) <= k else
               f" (too few held-out spectra, {k}, for {1 - self.rate:.0%} sets: below "
               f"{need} every set holds every class)" if k == m else
               f" (too few held-out spectra for {1 - self.rate:.0%} sets: a fold's are built "
               f"from the other folds' {k}; below {need} every set holds every class)")
        return (f"prediction sets: {1 - self.rate:.0%} sets hold the true class for "
                f"{self.set_coverage:.1%} of held-out spectra, {self.set_size:.2f} classes "
                f"per set on average (cross-fitted){few}")

    def summary(self) -> list[str]:
        """The two lines ``ramancam train`` prints under its accuracy table."""
        thr = "none (too few held-out spectra)" if not np.isfinite(self.threshold) \
            else f"{self.threshold:.4g}"
        n, rate = self.n_scores, self.rate
        if rate is not None and np.isfinite(self.threshold) and n and \
                _conformal_rank(n, rate) >= n:
            # One odd known spectrum sets it: worth saying (docs/novelty.md, small libraries).
            thr += (f" (the largest of {n} held-out scores: below "
                    f"{int(np.ceil(2 / rate - 1 - 1e-9))} it always is)")
        how = (f"temperature {self.temperature:.3g}" if self.temperature != 1.0
               or self.fitted_temperature == 1.0 else
               f"temperature {self.fitted_temperature:.3g} does not help: kept 1")
        def ece(v: float | None) -> str:  # None: a NaN saved (no spectrum could be scored)
            return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"

        first = (f"calibration: expected calibration error {ece(self.ece_before)} -> "
                 f"{ece(self.ece_after)} ({how}; {self.source})")
        if rate is None or (not self.n_scores and not np.isfinite(self.threshold)
                            and self.scores is None):
            return [first]  # no novelty score fitted: no threshold to speak of
        fa = self.false_alarm  # None (a NaN saved) without held-out novelty scores
        # each part of the scores against a threshold set on the others (the estimate for
        # new spectra), not against the model's own threshold: said so (a report's histogram
        # counted 4.0 % above that threshold where this line said 5.1 %)
        flagged = ("n/a" if fa is None or not np.isfinite(fa) else
                   f"{fa:.1%} (cross-fitted)")
        if flagged == "n/a" and self.n_scores and np.isfinite(self.threshold):
            flagged += (" (too few held-out scores to check the threshold on a part of "
                        "them: a threshold set on the rest would flag nothing)")
        return [first, f"unknown: threshold {thr} for {rate:.0%} false alarms; known held-out "
                       f"spectra flagged {flagged}"]


def calibrate(logits: ArrayLike, y_idx: ArrayLike, scores: ArrayLike | None,
              fold_of: ArrayLike, *, rate: float = DEFAULT_RATE, source: str = "",
              loo_scores: ArrayLike | None = None, loo_groups: bool = False) -> Calibration:
    """Choose temperature and threshold from out-of-fold logits and novelty scores.

    Parameters
    ----------
    logits : array-like of shape (n, n_classes)
        Out-of-fold logits of known spectra (columns in the final model's class order).
    y_idx : array-like of shape (n,)
        Their true class indices.
    scores : array-like of shape (n,) or None
        Their out-of-fold novelty scores (``None``: no novelty detection).
    fold_of : array-like of shape (n,)
        Fold of each spectrum (for the cross-fitted "after" ECE and false-alarm estimate).
        One fold (a validation part) is split in two halves for them.
    rate : float
        False-alarm rate for the threshold.
    source : str
        Description of the held-out values.
    loo_scores : array-like of shape (n_train,), optional
        Leave-one-out scores of the final model's training spectra for a model-free score
        (:meth:`NoveltyScorer.loo_scores`): they then set the threshold instead of
        ``scores``, since their reference set (all other training spectra) is the size of
        the final one.
    loo_groups : bool
        Whether ``loo_scores`` left whole groups out (leave-one-group-out); only the
        printed source says so.

    Returns
    -------
    Calibration
    """
    rate = check_rate(rate)
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y_idx, dtype=np.intp)
    folds = np.asarray(fold_of)
    # Spectra whose class a fold model never saw (group folds) cannot inform a temperature.
    ok = np.isfinite(z[np.arange(y.size), y]) if y.size else np.zeros(0, dtype=bool)
    z, y, folds = z[ok], y[ok], folds[ok]
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)[ok]
    if np.unique(folds).size == 1 and y.size >= 4:
        # one held-out part (a validation split): two halves of it cross-fit the "after" ECE
        # and the decision to keep T, which a temperature scored on its own fitting data
        # always passed (it was kept when it made the probabilities worse)
        folds = np.arange(y.size) % 2
    T = fit_temperature(z, y)
    proba_after = np.empty_like(z)
    flagged = np.zeros(y.size, dtype=bool)
    covered = np.zeros(y.size, dtype=bool)
    set_size = np.zeros(y.size)
    s = None if scores is None else np.asarray(scores, dtype=np.float64)
    blind = False  # a fold's threshold from too few scores: it flags nothing, by construction
    ids = np.unique(folds)
    for f in ids:
        te, tr = folds == f, folds != f
        t_f = fit_temperature(z[tr], y[tr]) if ids.size > 1 else T
        proba_after[te] = softmax(z[te], t_f)
        if s is not None and ids.size > 1:
            thr_f = conformal_threshold(s[tr], rate)
            blind |= not np.isfinite(thr_f)
            flagged[te] = s[te] > thr_f
    ece_before = expected_calibration_error(softmax(z), y)
    ece_after = expected_calibration_error(proba_after, y)
    fitted_t = T
    if ids.size > 1 and not ece_after < ece_before:
        # Scaling did not lower the cross-fitted ECE (typically a few confident mistakes
        # among few held-out spectra, which drive the log-loss fit to a large T): keep T = 1.
        T = 1.0
    # the sets, cross-fitted as the threshold, from the probabilities the model will give
    # (the fold temperatures, or T = 1 where scaling was not kept)
    proba_sets = proba_after if T != 1.0 else softmax(z)
    set_scores = int(y.size)  # the fewest scores a fold's sets are built from
    for f in ids if ids.size > 1 else ():
        te, tr = folds == f, folds != f
        set_scores = min(set_scores, int(tr.sum()))
        sets = prediction_sets(proba_sets[te], class_scores(proba_sets[tr], y[tr]), rate)
        covered[te] = sets[np.arange(int(te.sum())), y[te]]
        set_size[te] = sets.sum(axis=1)
    thr = float("inf") if s is None else conformal_threshold(s, rate)
    n_scores = 0 if s is None else int(np.isfinite(s).sum())
    fa = float(flagged.mean()) if s is not None and ids.size > 1 and not blind else float("nan")
    held = s
    if loo_scores is not None:
        loo = held = np.asarray(loo_scores, dtype=np.float64)
        thr = conformal_threshold(loo, rate)
        n_scores = int(np.isfinite(loo).sum())
        part = np.arange(loo.size) % 5  # the false-alarm estimate, cross-fitted as above
        known = np.isfinite(loo)  # NaN: no score (a class of one spectrum, one group)
        thr_parts = {f: conformal_threshold(loo[part != f], rate) for f in range(5)
                     if np.any((part == f) & known)}
        hits = [loo[(part == f) & known] > t for f, t in thr_parts.items()]
        fa = (float(np.mean(np.concatenate(hits)))
              if hits and all(np.isfinite(t) for t in thr_parts.values()) else float("nan"))
        source += (f"; threshold from leave-one-{'group-' if loo_groups else ''}out "
                   "scores")
    return Calibration(temperature=T, threshold=thr, rate=rate, source=source,
                       n_held_out=int(y.size), ece_before=ece_before, ece_after=ece_after,
                       false_alarm=fa, fitted_temperature=fitted_t, n_scores=n_scores,
                       set_coverage=float(covered.mean()) if ids.size > 1 else float("nan"),
                       set_size=float(set_size.mean()) if ids.size > 1 else float("nan"),
                       set_scores=set_scores,
                       scores=None if held is None else np.sort(held[np.isfinite(held)]),
                       class_scores=np.sort(class_scores(softmax(z, T), y)))
