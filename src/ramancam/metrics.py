"""Classification metrics and map-quality metrics for explanation maps.

Map-quality metrics score a set of maps ``(n_maps, n_points)`` on a known axis against what is
known about the spectra (METHOD.md sections 4-5):

* :func:`pointing_game` -- share of maps whose maximum lies within ``tol`` of a known peak;
* :func:`peak_mass` -- share of each map's positive mass within ``window`` of known peaks;
* :func:`map_correlation` -- Pearson correlation of each map with a reference spectrum;
* :func:`background_share` -- share of each map's absolute mass where the spectrum is
  background (below a fraction of its maximum);
* :func:`fold_stability` -- per-class mean and standard-deviation maps across
  cross-validation folds, and how well the folds agree;
* :func:`seed_agreement` -- how well the maps of two models (e.g. two seeds) agree, per class
  mean and per spectrum;
* :func:`labelled_closer` -- share of mixture maps closer to the labelled pure spectrum than
  to the admixed one (paper Fig. 7);
* :func:`flatten_points` and :func:`deletion_test` -- does flattening the points a map ranks
  highest lower the class score more than flattening as many random points?

Peaks are given on the same axis as the maps (cm-1 or channel number) as a scalar (one peak
for every map), an array of shape ``(n_maps,)`` (one per map) or ``(n_maps, n_peaks)`` (several
per map; NaN entries are ignored, so maps may have different numbers of peaks).

Classification helpers: :func:`accuracy`, :func:`confusion`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import RamancamError

__all__ = [
    "DeletionResult",
    "FoldStability",
    "SeedAgreement",
    "accuracy",
    "background_share",
    "confusion",
    "deletion_test",
    "flatten_points",
    "fold_stability",
    "labelled_closer",
    "map_correlation",
    "peak_mass",
    "pointing_game",
    "pointing_hits",
    "seed_agreement",
]


# --------------------------------------------------------------------------- validation

def _maps(maps: ArrayLike, name: str = "maps") -> NDArray[np.float64]:
    try:
        m = np.asarray(maps, dtype=np.float64)
    except (TypeError, ValueError):
        raise RamancamError(f"{name} must be numbers; got values that are not numbers.") from None
    if m.ndim != 2:
        raise RamancamError(
            f"{name} must be 2-D of shape (n_maps, n_points); got shape {m.shape}. Use "
            f"{name}[None, :] for a single map.")
    if not np.isfinite(m).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(m))[0])
        raise RamancamError(f"{name} must be finite; got {m[i, j]} in row {i} at point {j}.")
    return m


def _axis(axis: ArrayLike, n_points: int) -> NDArray[np.float64]:
    a = np.asarray(axis, dtype=np.float64)
    if a.shape != (n_points,):
        raise RamancamError(
            f"axis must have shape ({n_points},), one value per map point; got shape "
            f"{a.shape}.")
    return a


def _peaks(peaks: ArrayLike, n_maps: int) -> NDArray[np.float64]:
    """Peaks as an ``(n_maps, n_peaks)`` array (NaN = no peak in that slot)."""
    p = np.asarray(peaks, dtype=np.float64)
    if p.ndim == 0:
        p = np.full((n_maps, 1), float(p))
    elif p.ndim == 1:
        if p.shape[0] != n_maps:
            raise RamancamError(
                f"peaks must be a scalar, shape ({n_maps},) or ({n_maps}, n_peaks); got shape "
                f"{p.shape}. Give one row of peak positions per map.")
        p = p[:, None]
    elif p.ndim != 2 or p.shape[0] != n_maps:
        raise RamancamError(
            f"peaks must be a scalar, shape ({n_maps},) or ({n_maps}, n_peaks); got shape "
            f"{p.shape}. Give one row of peak positions per map.")
    if np.isinf(p).any():
        raise RamancamError("peaks must be finite or NaN (no peak); got an infinite value.")
    return p


def _positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise RamancamError(f"{name} must be a number >= 0; got {value!r}.") from None
    if not (np.isfinite(v) and v >= 0):
        raise RamancamError(f"{name} must be a number >= 0; got {value!r}.")
    return v


def _maps_near_peaks(maps: ArrayLike, axis: ArrayLike, peaks: ArrayLike, name: str,
                     dist: Any) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                         NDArray[np.float64], float]:
    """The checked maps, axis, peaks and distance ``name`` of :func:`pointing_hits` and
    :func:`peak_mass`, checked in that order."""
    m = _maps(maps)
    return m, _axis(axis, m.shape[1]), _peaks(peaks, m.shape[0]), _positive(name, dist)


def _near(axis: NDArray[np.float64], peaks: NDArray[np.float64], dist: float
          ) -> NDArray[np.bool_]:
    """``near[i, j]``: point ``j`` of map ``i`` lies within ``dist`` of one of its peaks."""
    d = np.abs(axis[None, None, :] - peaks[:, :, None])          # (n, k, p); NaN never near
    with np.errstate(invalid="ignore"):
        out: NDArray[np.bool_] = np.asarray((d <= dist).any(axis=1))
    return out


# --------------------------------------------------------------------------- map quality

def pointing_hits(maps: ArrayLike, axis: ArrayLike, peaks: ArrayLike, tol: float
                  ) -> NDArray[np.bool_]:
    """Per map: does its maximum lie within ``tol`` of one of its known peaks?

    Parameters
    ----------
    maps : array-like of shape (n_maps, n_points)
    axis : array-like of shape (n_points,)
        Position of each map point (cm-1 or channel).
    peaks : float, or array-like of shape (n_maps,) or (n_maps, n_peaks)
        Known peak positions, on the axis's scale; NaN entries are ignored.
    tol : float
        Largest distance (axis units) between the map's maximum and a peak that counts as a
        hit.

    Returns
    -------
    ndarray of bool of shape (n_maps,)
        A map whose values are all equal has no maximum and counts as a miss. Ties between
        points take the first maximum.

    Raises
    ------
    RamancamError
        If shapes disagree, values are not finite or ``tol`` is negative.
    """
    m, a, p, tol = _maps_near_peaks(maps, axis, peaks, "tol", tol)
    top = a[m.argmax(axis=1)]
    with np.errstate(invalid="ignore"):
        # "within tol" on a decimal axis: |1000.1 - 1000.0| is 0.10000000000002274
        hit = (np.abs(p - top[:, None]) <= tol * (1 + 1e-9) + 1e-12).any(axis=1)
    flat = m.max(axis=1) == m.min(axis=1)
    out: NDArray[np.bool_] = hit & ~flat
    return out


def pointing_game(maps: ArrayLike, axis: ArrayLike, peaks: ArrayLike, tol: float) -> float:
    """Share of maps whose maximum lies within ``tol`` of a known peak (the pointing game).

    Parameters and errors as in :func:`pointing_hits`.

    Returns
    -------
    float
        In [0, 1]; NaN for zero maps.
    """
    hits = pointing_hits(maps, axis, peaks, tol)
    return float(hits.mean()) if hits.size else float("nan")


def peak_mass(maps: ArrayLike, axis: ArrayLike, peaks: ArrayLike, window: float
              ) -> NDArray[np.float64]:
    """Share of each map's positive mass within ``window`` of its known peaks.

    ``sum(max(map, 0) over points within window of a peak) / sum(max(map, 0))``. For a map
    with a sign (the FC-importance map) only the positive part, the evidence *for* the
    class, counts.

    Parameters
    ----------
    maps, axis, peaks
        As in :func:`pointing_hits`.
    window : float
        Half-width (axis units) of the window around each peak.

    Returns
    -------
    ndarray of shape (n_maps,)
        In [0, 1]; NaN for a map without positive values (use ``np.nanmean`` to average).

    Raises
    ------
    RamancamError
        If shapes disagree, values are not finite or ``window`` is negative.
    """
    m, a, p, window = _maps_near_peaks(maps, axis, peaks, "window", window)
    pos = np.clip(m, 0.0, None)
    total = pos.sum(axis=1)
    inside = np.where(_near(a, p, window), pos, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: NDArray[np.float64] = np.where(total > 0, inside / np.where(total > 0, total, 1),
                                            np.nan)
    return out


def map_correlation(maps: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """Pearson correlation between each map and a reference spectrum.

    Parameters
    ----------
    maps : array-like of shape (n_maps, n_points)
    reference : array-like of shape (n_points,) or (n_maps, n_points)
        One reference for all maps (e.g. a pure spectrum) or one per map.

    Returns
    -------
    ndarray of shape (n_maps,)
        In [-1, 1]; NaN where a map or its reference is constant.

    Raises
    ------
    RamancamError
        If shapes disagree or values are not finite.
    """
    m = _maps(maps)
    r = np.asarray(reference, dtype=np.float64)
    if r.ndim == 1:
        r = r[None, :]
    if r.ndim != 2 or r.shape[1] != m.shape[1] or r.shape[0] not in (1, m.shape[0]):
        raise RamancamError(
            f"reference must have shape ({m.shape[1]},) or {m.shape}; got shape "
            f"{np.asarray(reference).shape}.")
    r = _maps(r, "reference")
    mc = m - m.mean(axis=1, keepdims=True)
    rc = r - r.mean(axis=1, keepdims=True)
    num = (mc * rc).sum(axis=1)
    den = np.sqrt((mc ** 2).sum(axis=1) * (rc ** 2).sum(axis=1))
    # a constant row (ptp 0) has no correlation: its centred values are rounding residue
    # (a map of 0.1 everywhere gave r = +-2e-17, which labelled_closer read as "closer")
    varies = (np.ptp(m, axis=1) > 0) & (np.ptp(r, axis=1) > 0)
    ok = varies & (den > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: NDArray[np.float64] = np.where(ok, num / np.where(ok, den, 1), np.nan)
    return np.clip(out, -1.0, 1.0)


def background_share(maps: ArrayLike, spectra: ArrayLike, threshold: float = 0.05
                     ) -> NDArray[np.float64]:
    """Share of each map's absolute mass that falls on background.

    A point is background where the spectrum is below ``threshold`` times its own maximum.
    Good maps put little weight there (the paper: "near-zero values on background").

    Parameters
    ----------
    maps : array-like of shape (n_maps, n_points)
    spectra : array-like of shape (n_maps, n_points)
        The explained spectra, on the maps' grid.
    threshold : float
        Fraction of each spectrum's maximum below which a point is background (default 0.05).

    Returns
    -------
    ndarray of shape (n_maps,)
        ``sum(|map| on background) / sum(|map|)`` in [0, 1]; NaN for a map that is zero
        everywhere.

    Raises
    ------
    RamancamError
        If shapes disagree, values are not finite or ``threshold`` is negative.
    """
    m = _maps(maps)
    s = _maps(spectra, "spectra")
    if s.shape != m.shape:
        raise RamancamError(
            f"spectra must have the shape of maps {m.shape}; got {s.shape}. Pass the "
            "spectra the maps explain, on the same grid.")
    threshold = _positive("threshold", threshold)
    bg = s < threshold * s.max(axis=1, keepdims=True)
    mag = np.abs(m)
    total = mag.sum(axis=1)
    on_bg = np.where(bg, mag, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: NDArray[np.float64] = np.where(total > 0, on_bg / np.where(total > 0, total, 1),
                                            np.nan)
    return out


@dataclass(frozen=True)
class FoldStability:
    """Agreement of explanation maps across cross-validation folds (see :func:`fold_stability`).

    Attributes
    ----------
    classes : list of str
        Class labels, sorted.
    fold_means : ndarray of shape (n_folds, n_classes, n_points)
        Per fold, the mean map of each class (NaN where a fold has no spectrum of the class).
    mean : ndarray of shape (n_classes, n_points)
        Mean over folds of the per-fold class-mean maps.
    sd : ndarray of shape (n_classes, n_points)
        Standard deviation over folds (ddof=1; NaN with fewer than two folds).
    pairwise_corr : ndarray of shape (n_classes,)
        Per class, the mean Pearson correlation between the class-mean maps of every pair of
        folds (1 = the folds agree on the shape of the map).
    """

    classes: list[str]
    fold_means: NDArray[np.float64]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    pairwise_corr: NDArray[np.float64]


def fold_stability(maps_per_fold: Sequence[ArrayLike], labels: ArrayLike | Sequence[ArrayLike]
                   ) -> FoldStability:
    """Per-class mean and sd maps across folds, and the mean pairwise correlation of folds.

    Parameters
    ----------
    maps_per_fold : sequence of array-like of shape (n_spectra_f, n_points)
        The maps made by each fold's model (e.g. of its test spectra, or all of the same
        spectra).
    labels : array-like of shape (n_spectra,), or a sequence of them, one per fold
        Class of each map: one array when every fold explained the same spectra, otherwise
        one array per fold.

    Returns
    -------
    FoldStability

    Raises
    ------
    RamancamError
        If there are no folds, the folds' maps have different numbers of points, or labels do
        not match the maps.
    """
    folds = [_maps(m, f"maps_per_fold[{i}]") for i, m in enumerate(maps_per_fold)]
    if not folds:
        raise RamancamError("maps_per_fold must hold at least one fold; got none.")
    n_points = folds[0].shape[1]
    for i, f in enumerate(folds):
        if f.shape[1] != n_points:
            raise RamancamError(
                f"maps_per_fold[{i}] must have {n_points} points like fold 0; got "
                f"{f.shape[1]}. Explain every fold on the same grid.")
    per_fold = (isinstance(labels, (list, tuple)) and len(labels) > 0
                and np.ndim(labels[0]) >= 1)
    if per_fold:
        labs = [np.asarray(lab).astype(str) for lab in labels]  # type: ignore[union-attr]
    else:
        labs = [np.asarray(labels).astype(str)] * len(folds)
    if len(labs) != len(folds):
        raise RamancamError(
            f"labels must be one array, or one per fold ({len(folds)}); got {len(labs)}.")
    for i, (f, lab) in enumerate(zip(folds, labs, strict=True)):
        if lab.shape != (f.shape[0],):
            raise RamancamError(
                f"labels of fold {i} must have one label per map ({f.shape[0]}); got shape "
                f"{lab.shape}.")
    classes = sorted(set().union(*(set(lab.tolist()) for lab in labs)))
    fm = np.full((len(folds), len(classes), n_points), np.nan)
    for i, (f, lab) in enumerate(zip(folds, labs, strict=True)):
        for j, c in enumerate(classes):
            sel = lab == c
            if sel.any():
                fm[i, j] = f[sel].mean(axis=0)
    with warnings.catch_warnings():
        # a class missing from every fold gives NaN, the documented answer, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(fm, axis=0)
        sd = (np.nanstd(fm, axis=0, ddof=1) if len(folds) > 1
              else np.full_like(mean, np.nan))
    corr = np.full(len(classes), np.nan)
    for j in range(len(classes)):
        rows = fm[:, j][~np.isnan(fm[:, j]).any(axis=1)]
        if rows.shape[0] >= 2:
            c = np.corrcoef(rows) if np.all(np.ptp(rows, axis=1) > 0) else None
            if c is not None:
                iu = np.triu_indices(rows.shape[0], k=1)
                corr[j] = float(c[iu].mean())
    return FoldStability(classes=classes, fold_means=fm, mean=mean, sd=sd, pairwise_corr=corr)


# --------------------------------------------------------------------------- map checks
@dataclass
class SeedAgreement:
    """Agreement of two sets of maps of the same spectra (see :func:`seed_agreement`).

    Attributes
    ----------
    classes : list of str
        Class labels, sorted.
    class_mean_r : ndarray of shape (n_classes,)
        Per class, the Pearson correlation of the two class-mean maps.
    spectrum_r : ndarray of shape (n_spectra,)
        Per spectrum, the correlation of its two maps (NaN where a map is constant).
    """

    classes: list[str]
    class_mean_r: NDArray[np.float64]
    spectrum_r: NDArray[np.float64]

    @property
    def min_class_r(self) -> float:
        """The weakest class's class-mean correlation (NaN when a class's maps cannot be
        correlated, e.g. one seed's class mean is constant: no agreement shown)."""
        return float(np.min(self.class_mean_r)) if len(self.class_mean_r) else float("nan")

    @property
    def median_spectrum_r(self) -> float:
        """Median per-spectrum correlation, a spectrum with a constant map counted as 0 (no
        agreement shown), as the deletion test and the pointing game count a constant map
        as a failure (``nanmedian`` left such spectra out: two of three constant maps read
        a median of 1.0)."""
        r = np.asarray(self.spectrum_r, dtype=np.float64)
        return float(np.median(np.where(np.isnan(r), 0.0, r))) if r.size else float("nan")


def seed_agreement(maps_a: ArrayLike, maps_b: ArrayLike, labels: ArrayLike) -> SeedAgreement:
    """Do two models (e.g. trained with different seeds) give the same maps?

    Parameters
    ----------
    maps_a, maps_b : array-like of shape (n_spectra, n_points)
        Maps of the same spectra, in the same order, by the two models.
    labels : array-like of shape (n_spectra,)
        Class of each spectrum (class-mean maps are formed per class).

    Returns
    -------
    SeedAgreement

    Raises
    ------
    RamancamError
        If the shapes disagree or values are not finite.
    """
    a, b = _maps(maps_a, "maps_a"), _maps(maps_b, "maps_b")
    lab = np.asarray(labels).astype(str)
    if a.shape != b.shape or lab.shape != (a.shape[0],):
        raise RamancamError(
            f"maps_a, maps_b and labels must describe the same spectra; got shapes {a.shape}, "
            f"{b.shape} and {lab.shape}.")
    classes = sorted(set(lab.tolist()))
    means_a = np.stack([a[lab == c].mean(axis=0) for c in classes])
    means_b = np.stack([b[lab == c].mean(axis=0) for c in classes])
    return SeedAgreement(classes=classes, class_mean_r=map_correlation(means_a, means_b),
                         spectrum_r=map_correlation(a, b))


def labelled_closer(maps: ArrayLike, labelled: ArrayLike, admixed: ArrayLike
                    ) -> NDArray[np.bool_]:
    """Per mixture map: is it more correlated with the labelled pure spectrum than with the
    admixed one (paper Fig. 7)?

    Parameters
    ----------
    maps : array-like of shape (n_maps, n_points)
    labelled, admixed : array-like of shape (n_maps, n_points)
        The pure spectrum of each mixture's labelled and admixed component.

    Returns
    -------
    ndarray of bool of shape (n_maps,)
        A constant map (correlation NaN) counts as not closer.
    """
    with np.errstate(invalid="ignore"):
        out: NDArray[np.bool_] = np.asarray(
            map_correlation(maps, labelled) > map_correlation(maps, admixed))
    return out


def flatten_points(X: ArrayLike, mask: ArrayLike) -> NDArray[np.float64]:
    """Replace the masked points of each spectrum by a straight line between the nearest kept
    points on either side (the end value where there is none on one side).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
    mask : array-like of bool of shape (n_spectra, n_points)
        True where a point is flattened; each row must keep at least one point.

    Returns
    -------
    ndarray of shape (n_spectra, n_points)

    Raises
    ------
    RamancamError
        If the shapes disagree or a row masks every point.
    """
    A = _maps(X, "X")
    m = np.asarray(mask, dtype=bool)
    if m.shape != A.shape:
        raise RamancamError(f"mask must have the shape of X {A.shape}; got {m.shape}.")
    if m.all(axis=1).any():
        raise RamancamError("mask must keep at least one point of every spectrum; got a row "
                            "with every point masked.")
    out = A.copy()
    idx = np.arange(A.shape[1])
    for i in np.flatnonzero(m.any(axis=1)):
        keep = ~m[i]
        out[i, m[i]] = np.interp(idx[m[i]], idx[keep], A[i, keep])
    return out


@dataclass
class DeletionResult:
    """Result of :func:`deletion_test`.

    Attributes
    ----------
    drop_top : ndarray of shape (n_spectra,)
        Fall of the class score when the map's top points are flattened.
    drop_random : ndarray of shape (n_spectra,)
        Fall of the class score when as many random points are flattened.
    informative : ndarray of bool of shape (n_spectra,)
        Whether the map ranks its points at all (a constant map has no top points: it
        fails, as :func:`pointing_hits` counts it a miss).
    """

    drop_top: NDArray[np.float64]
    drop_random: NDArray[np.float64]
    informative: NDArray[np.bool_] | None = None

    @property
    def passed(self) -> NDArray[np.bool_]:
        """Per spectrum: flattening the top points lowers the score more (a constant map
        never passes)."""
        out: NDArray[np.bool_] = self.drop_top > self.drop_random
        if self.informative is not None:
            out = out & self.informative
        return out

    @property
    def share(self) -> float:
        """Share of spectra that pass (the issue asks for >= 0.9)."""
        return float(np.mean(self.passed)) if self.passed.size else float("nan")


def deletion_test(score: Any, X: ArrayLike, maps: ArrayLike, *, fraction: float = 0.05,
                  random_state: Any = None) -> DeletionResult:
    """Flatten the points a map ranks highest and, separately, as many random points; compare
    how far the explained class score falls.

    Parameters
    ----------
    score : callable
        ``score(X) -> ndarray of shape (n_spectra,)``: the explained class's score (e.g. its
        logit) for each spectrum.
    X : array-like of shape (n_spectra, n_points)
        Spectra as the model sees them.
    maps : array-like of shape (n_spectra, n_points)
        Signed maps (larger = more evidence for the class).
    fraction : float
        Share of points flattened (at least one), default 5 %.
    random_state : int, numpy Generator/RandomState or None
        Seeds the random points and the order of a map's tied points.

    Returns
    -------
    DeletionResult

    Raises
    ------
    RamancamError
        If shapes disagree or ``fraction`` is not in (0, 1).
    """
    A = _maps(X, "X")
    M = _maps(maps)
    if M.shape != A.shape:
        raise RamancamError(f"maps must have the shape of X {A.shape}; got {M.shape}.")
    if not isinstance(fraction, (int, float, np.floating)) or not 0 < fraction < 1:
        raise RamancamError(f"fraction must be a number in (0, 1); got {fraction!r}.")
    n, p = A.shape
    k = max(1, round(fraction * p))
    if k >= p:
        raise RamancamError(f"fraction must leave points to draw the line through; got "
                            f"{fraction!r} of {p} points ({k} flattened). Give a smaller one.")
    rng = np.random.default_rng(random_state) if not isinstance(
        random_state, np.random.RandomState) else np.random.default_rng(
            random_state.randint(0, 2**31 - 1))
    rnd = np.zeros((n, p), dtype=bool)
    np.put_along_axis(rnd, np.argsort(rng.random((n, p)), axis=1)[:, :k], True, axis=1)
    # ties (a ReLU Grad-CAM map is zero at most points) are broken at random, drawn after
    # the random points so that those stay as before: by grid position, the leftmost points
    # of the spectrum filled the "top 5 %" of a map that gives them no weight
    tie = rng.random((n, p))
    top = np.zeros((n, p), dtype=bool)
    np.put_along_axis(top, np.lexsort((tie, -M), axis=1)[:, :k], True, axis=1)
    base = np.asarray(score(A), dtype=np.float64)
    return DeletionResult(drop_top=base - np.asarray(score(flatten_points(A, top))),
                          drop_random=base - np.asarray(score(flatten_points(A, rnd))),
                          informative=np.ptp(M, axis=1) > 0)


# --------------------------------------------------------------------------- classification

def _labels_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape:
        raise RamancamError(
            f"y_true and y_pred must be 1-D of one length; got shapes {t.shape} and {p.shape}.")
    if (t.dtype.kind in "US") != (p.dtype.kind in "US"):
        # a Spectra's labels are text; a classifier fitted on integer labels answers numbers:
        # compared as they are, "0" never equals 0 (an accuracy of 0.0, silently)
        t, p = t.astype(str), p.astype(str)
    return t, p


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of correct predictions; NaN for empty input.

    Raises
    ------
    RamancamError
        If the two label arrays are not 1-D of one length.
    """
    t, p = _labels_pair(y_true, y_pred)
    return float((t == p).mean()) if t.size else float("nan")


def confusion(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[Any] | None = None
              ) -> tuple[NDArray[np.int64], list[Any]]:
    """Confusion matrix: ``cm[i, j]`` = spectra of class ``labels[i]`` predicted ``labels[j]``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_spectra,)
    labels : sequence, optional
        Class order (default: sorted union of both arrays). Labels outside it are an error.

    Returns
    -------
    cm : ndarray of int of shape (n_classes, n_classes)
    labels : list

    Raises
    ------
    RamancamError
        If the arrays differ in shape, or hold a label not in ``labels``.
    """
    t, p = _labels_pair(y_true, y_pred)
    labs = list(labels) if labels is not None else sorted(set(t.tolist()) | set(p.tolist()))
    index = {v: i for i, v in enumerate(labs)}
    cm = np.zeros((len(labs), len(labs)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        if a not in index or b not in index:
            bad = a if a not in index else b
            raise RamancamError(
                f"labels must include every label of y_true and y_pred; got {bad!r}, which is "
                "missing. Add it to labels or leave labels out.")
        cm[index[a], index[b]] += 1
    return cm, labs
