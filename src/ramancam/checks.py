"""Measurement checks: flat spectra, saturated (clipped) detectors, shifted Raman axes.

A spectrum with one value throughout carries no band (a dead pixel, a closed shutter); a
normalising recipe refuses it. A spectrum whose maximum is held over several points was
clipped by its detector: the band there has lost its shape and height, and a classifier may
learn the artefact. ``ramancam info`` names both; ``ramancam predict`` notes clipped spectra
inside the model's range. A Raman-shift axis calibrated differently from the training
spectra's (another instrument, a drifted spectrometer) moves every band by the same few
cm-1 (:func:`band_shift`); ``ramancam predict`` says so when the shift is clear
(:func:`shift_note`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._channels import numbered_in_ones
from .spectra import Spectra

__all__ = ["COARSE_STEP", "DETECTOR_LIMITS", "MAX_SHIFT", "Clipped", "Implausible", "Spike",
           "absolute_axis_note", "axis_steps", "band_shift", "channel_axis_note",
           "clipped_spectra", "coarse_note", "duplicate_spectra", "duplicates_note",
           "flat_spectra", "implausible_line", "implausible_spectra",
           "narrow_grid_note", "shift_note", "spike_line", "spiked_spectra", "true_runs",
           "wavelength_axis_note"]

#: Counts an analogue-to-digital converter of 12 to 32 bits cannot exceed -> its bits.
DETECTOR_LIMITS = {2 ** k - 1: k for k in (12, 14, 15, 16, 18, 20, 24, 32)}


@dataclass(frozen=True)
class Clipped:
    """One clipped spectrum: its index, the value it is held at, how many points hold it,
    and the Raman-shift range of those points (cm-1)."""

    index: int
    value: float
    n_points: int
    lo: float
    hi: float


def true_runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start and end (exclusive) indices of each run of True in a 1-D mask."""
    edges = np.diff(np.r_[0, np.asarray(mask).astype(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _blocks(spectra: Spectra, within: tuple[float, float] | None
            ) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]]:
    """``(axis, Y, index)`` for the checks below: the Raman shifts inside ``within`` (all
    without it), the spectra's float64 values there and their indices, :data:`FLAT_BLOCK`
    spectra of a common axis at a time (bounding memory on a large map), or each spectrum of
    per-spectrum axes alone; spectra with no point inside are left out."""
    if spectra.has_common_axis:
        groups = [(np.asarray(spectra.wavenumbers, dtype=np.float64), spectra.X,
                   np.arange(len(spectra)))]
    else:
        groups = [(np.asarray(w, dtype=np.float64), np.asarray(y)[None, :], np.array([i]))
                  for i, (w, y) in enumerate(zip(spectra.axes, spectra.intensities,
                                                 strict=True))]
    for w, Y_all, idx_all in groups:
        inside = (np.ones(w.size, dtype=bool) if within is None
                  else (w >= within[0]) & (w <= within[1]))
        if not inside.any():
            continue
        for r0 in range(0, len(idx_all), FLAT_BLOCK):
            yield (w[inside], np.asarray(Y_all[r0:r0 + FLAT_BLOCK][:, inside],
                                         dtype=np.float64), idx_all[r0:r0 + FLAT_BLOCK])


def flat_spectra(spectra: Spectra, within: tuple[float, float] | None = None) -> list[int]:
    """Indices of the spectra with one value, or a straight line, throughout (``within``:
    throughout that Raman-shift range, e.g. a recipe's grid; one with no point there is not
    counted: it is the resampling's error). A straight line is all baseline: every baseline
    removes it whole and leaves rounding error to normalise."""
    out: list[int] = []
    for w, Y, idx in _blocks(spectra, within):
        flat = Y.min(axis=1) == Y.max(axis=1)
        ok = np.isfinite(Y).all(axis=1) & ~flat
        if w.size > 2 and ok.any():
            xc = w - w.mean()
            A = np.stack([np.ones_like(xc), xc], axis=1)
            coef, *_ = np.linalg.lstsq(A, Y[ok].T, rcond=None)
            resid = np.abs(Y[ok] - (A @ coef).T).max(axis=1)
            line = resid <= STRAIGHT_TOL * np.abs(Y[ok]).max(axis=1)
            flat[np.flatnonzero(ok)[line]] = True
        out += idx[flat].tolist()
    return sorted(out)


#: Spectra :func:`flat_spectra` reads at once (bounds its memory on large maps).
FLAT_BLOCK = 4096
#: A spectrum within this share of its largest value of a straight line is one: above the
#: rounding of float32 files (6e-8) and above the 1e-7 at which a baseline step refuses a
#: spectrum it removes whole (so train leaves such spectra out instead of stopping).
STRAIGHT_TOL = 1e-6


def clipped_spectra(spectra: Spectra, within: tuple[float, float] | None = None
                    ) -> list[Clipped]:
    """The spectra whose maximum is held over several points: at a detector's limit
    (:data:`DETECTOR_LIMITS`) in 2 or more points, or at any value in 3 or more in a row.

    Parameters
    ----------
    spectra : Spectra
        As read (before any preprocessing).
    within : (lo, hi), optional
        Only points inside this Raman-shift range count (e.g. a model's grid), and the
        maximum is the largest value there.
    """
    out = []
    for i, (w, y) in enumerate(zip(spectra.axes, spectra.intensities, strict=True)):
        w = np.asarray(w, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if within is not None:
            keep = (w >= within[0]) & (w <= within[1])
            w, y = w[keep], y[keep]
        if y.size < 2:
            continue
        top = float(y.max())
        if float(y.min()) == top:
            continue  # flat: flat_spectra's case
        at = y == top
        starts, ends = true_runs(at)
        run = int((ends - starts).max())
        if (top in DETECTOR_LIMITS and at.sum() >= 2) or run >= 3:
            out.append(Clipped(i, top, int(at.sum()), float(w[at].min()), float(w[at].max())))
    return out


#: Intensities beyond this magnitude are no measurement: a 32-bit detector counts to 4.3e9,
#: and summing a thousand accumulations adds three digits. Larger values are a misread file
#: (bytes of another type read as numbers) or a file's "no data" sentinel (1e30, 3.4e38).
IMPLAUSIBLE = 1e15


@dataclass(frozen=True)
class Implausible:
    """A spectrum holding a value beyond :data:`IMPLAUSIBLE`: its index, how many such
    points, the largest in magnitude (signed) and its Raman shift (cm-1)."""

    index: int
    n_points: int
    value: float
    at: float


def implausible_spectra(spectra: Spectra, within: tuple[float, float] | None = None
                        ) -> list[Implausible]:
    """The spectra holding a finite value no detector counts (magnitude beyond
    :data:`IMPLAUSIBLE`); ``within``: only points inside that Raman-shift range count."""
    out = []
    for w, Y, idx in _blocks(spectra, within):
        big = np.isfinite(Y) & (np.abs(Y) > IMPLAUSIBLE)
        for r in np.flatnonzero(big.any(axis=1)):
            j = int(np.argmax(np.where(big[r], np.abs(Y[r]), 0.0)))
            out.append(Implausible(int(idx[r]), int(big[r].sum()), float(Y[r, j]),
                                   float(w[j])))
    return sorted(out, key=lambda f: f.index)


def implausible_line(found: list[Implausible], ids: list[str], what: str = "note: ",
                     advice: str = "check the files, or leave them out") -> str | None:
    """One line naming the spectra :func:`implausible_spectra` found, or ``None``."""
    if not found:
        return None
    top = max(found, key=lambda f: abs(f.value))
    n = len(found)
    where = f"{top.value:.3g} at {top.at:.1f} cm-1 in {ids[top.index]}"
    if n > 1:
        where = (f"up to {where}; " + ", ".join(ids[f.index] for f in found[:5])
                 + (f" and {n - 5} more" if n > 5 else ""))
    return (f"{what}{n} spectr{'um holds' if n == 1 else 'a hold'} values no detector counts "
            f"(beyond +-{IMPLAUSIBLE:.0e}: {where}): a misread file or a 'no data' value; "
            f"{advice}")


#: :func:`spiked_spectra`: a spike stands this many times the spectrum's noise (the robust sd
#: of its first difference over sqrt 2) above the points around it ...
SPIKE_NOISE = 10.0
#: ... and this share of the spectrum's range without its spikes (its 5-point median's) ...
SPIKE_RANGE = 0.5
#: ... while the points beside its one or two stand less than this share of its height above
#: those points: a band's flanks stand higher (chondro-map's 1002 cm-1 band, sampled every
#: 4 cm-1 and smoothed, at 0.15 and more).
SPIKE_FLANK = 0.1
#: Spectra :func:`spiked_spectra` filters at once (bounds its memory on large maps).
SPIKE_BLOCK = 512


@dataclass(frozen=True)
class Spike:
    """A spectrum with spikes (:func:`spiked_spectra`): its index, how many spikes, and the
    tallest one's Raman shift (cm-1), width (1 or 2 points) and height above the points
    around it, in multiples of the spectrum's range without spikes."""

    index: int
    n_spikes: int
    at: float
    n_points: int
    height: float


def spiked_spectra(spectra: Spectra, within: tuple[float, float] | None = None
                   ) -> list[Spike]:
    """The spectra with a cosmic-ray spike: one or two points that stand above the points
    around them (the median of the 2nd to 5th points on either side) by at least
    :data:`SPIKE_NOISE` times the spectrum's noise and :data:`SPIKE_RANGE` of its range
    without spikes, while the points just beside them stand less than :data:`SPIKE_FLANK`
    of that height above those points. A Raman band sampled as real spectra are is wider:
    its flanks stand higher. ``within``: only points inside that Raman-shift range count.
    On ../shared/data it finds 6 saliva spectra and one bacteria spectrum, each a cosmic
    ray (docs/formats.md, "Cosmic-ray spikes")."""
    out = []
    for w, Y, idx in _blocks(spectra, within):
        for r0 in range(0, len(idx) if w.size > 11 else 0, SPIKE_BLOCK):
            out += _spikes_in(w, Y[r0:r0 + SPIKE_BLOCK], idx[r0:r0 + SPIKE_BLOCK])
    return sorted(out, key=lambda f: f.index)


def _beside(Y: NDArray[np.float64], around: NDArray[np.float64], k: int
            ) -> NDArray[np.float64]:
    """How far point ``j + k`` stands above the points around point ``j`` (inf off the end)."""
    b = np.full_like(Y, np.inf)
    if k < 0:
        b[:, -k:] = Y[:, :k] - around[:, -k:]
    else:
        b[:, :-k] = Y[:, k:] - around[:, :-k]
    return b


def _spikes_in(w: NDArray[np.float64], Y: NDArray[np.float64], idx: NDArray[np.intp]
               ) -> list[Spike]:
    """:func:`spiked_spectra` of the rows ``Y`` (spectra ``idx``) on the axis ``w``."""
    from scipy.ndimage import median_filter

    finite = np.isfinite(Y).all(axis=1)  # gaps: another note's
    Y, idx = Y[finite], idx[finite]
    # values near the float64 limit (1e308, a damaged file) overflow the sums and
    # differences to inf, which compares as such: no RuntimeWarning printed with its line
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.diff(Y, axis=1)
        dev = np.abs(d - np.median(d, axis=1, keepdims=True))
        mad = np.median(dev, axis=1)
        noise = np.where(mad > 0, 1.4826 * mad, 1.2533 * dev.mean(axis=1)) / np.sqrt(2)
        # a spike's top stands above one neighbour by (1 - SPIKE_FLANK) of its height at least:
        # only the rows with such a jump are filtered (most measured spectra have none)
        jump = np.maximum(np.pad(d, ((0, 0), (1, 0))), -np.pad(d, ((0, 0), (0, 1))))
        some = (jump > (1 - SPIKE_FLANK) * SPIKE_NOISE * noise[:, None]).any(axis=1)
        Y, idx, noise = Y[some], idx[some], noise[some]
        ring = np.array([1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1], dtype=bool)[None, :]
        around = median_filter(Y, footprint=ring, mode="nearest")
        smooth = median_filter(Y, size=(1, 5), mode="nearest")  # the spikes filtered out
        span = smooth.max(axis=1) - smooth.min(axis=1)
        h = Y - around
        low = SPIKE_FLANK * h
        left, right = _beside(Y, around, -1), _beside(Y, around, 1)
        one = (left < low) & (right < low)
        two = (((right >= low) & (h >= right) & (left < low) & (_beside(Y, around, 2) < low))
               | ((left >= low) & (h > left) & (_beside(Y, around, -2) < low) & (right < low)))
        spike = ((one | two) & (h > 0) & (h >= SPIKE_NOISE * noise[:, None])
                 & (h >= SPIKE_RANGE * span[:, None]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(spike, h / span[:, None], -np.inf)
    out = []
    for r in np.flatnonzero(spike.any(axis=1)):
        j = int(np.argmax(rel[r]))
        out.append(Spike(int(idx[r]), int(spike[r].sum()), float(w[j]), 1 if one[r, j] else 2,
                         float(rel[r, j])))
    return out


def spike_line(found: list[Spike], ids: list[str], what: str = "note: ", where: str = "",
               advice: str = "", subject: str | None = None) -> str | None:
    """One line naming the spectra :func:`spiked_spectra` found (``where``: e.g. `` inside
    the grid``; ``subject``: what carries them, ``12 spectra`` without it), or ``None``."""
    from .errors import first_of, spectra_count

    if not found:
        return None
    top = max(found, key=lambda f: f.height)
    n = len(found)
    shown = "" if n == 1 else "; " + first_of([ids[f.index] for f in found], 5)
    return (f"{what}{subject or spectra_count(n)} carr{'ies' if n == 1 else 'y'} a cosmic-ray "
            f"spike{where} (one or two points far above their neighbours, no Raman band: "
            f"{'up to ' if n > 1 else ''}{top.height:.3g} times the spectrum's range, at "
            f"{top.at:.1f} cm-1 in {ids[top.index]}{shown})" + (f"; {advice}" if advice else ""))


#: :func:`band_shift`: largest shift searched, in grid points, each way.
MAX_SHIFT_POINTS = 12
#: The fewest grid points on which band shifts are read (``predict``'s axis line, the
#: ``band_shift`` array of a Zarr run, ``train``'s group note): the shifts searched each way
#: and a 9-point derivative window.
MIN_SHIFT_GRID = 2 * MAX_SHIFT_POINTS + 9
#: :func:`band_shift`: below this correlation of the aligned derivatives the reference is
#: not the spectrum's kind (another substance), and no shift is read from it.
MIN_SHIFT_CORRELATION = 0.5
#: :func:`shift_note`: the least median shift (cm-1) and number of spectra that it reports.
MIN_NOTED_SHIFT = 1.5
MIN_SHIFT_SPECTRA = 10


def band_shift(X: ArrayLike, reference: ArrayLike, step: float, *, window: int = 9,
               max_points: int = MAX_SHIFT_POINTS, with_correlation: bool = False,
               index: ArrayLike | None = None) -> Any:
    """How far each spectrum's bands sit from its reference's, in cm-1 (positive: at a
    higher Raman shift), by cross-correlating their first derivatives.

    The lag that maximises the normalised correlation of the Savitzky-Golay first
    derivatives (order 2, ``window`` points; offsets and slow backgrounds drop out) is
    refined to a fraction of a point by a parabola through the peak and its neighbours.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Preprocessed spectra on one grid.
    reference : array-like of shape (n_spectra, n_points) or (n_points,)
        What each spectrum is compared with, on the same grid (e.g. the mean training
        spectrum of its predicted class); with ``index``, of shape (n_references, n_points).
    step : float
        The grid's spacing in cm-1, signed (negative for a descending grid).
    window : int, default=9
        Savitzky-Golay window, odd, at least 3.
    max_points : int, default=12
        Largest shift searched, in grid points, each way.
    with_correlation : bool, default=False
        Also return the correlation at the best lag.
    index : array-like of int of shape (n_spectra,), optional
        Spectrum ``i`` is compared with ``reference[index[i]]`` (the same result as passing
        ``reference[index]``, faster: each reference's derivative is computed once).

    Returns
    -------
    shift : ndarray of shape (n_spectra,)
        ``nan`` where no shift can be read: the best lag is at the end of the range
        searched, the aligned correlation is below :data:`MIN_SHIFT_CORRELATION` (the
        reference is not the spectrum's kind), or a derivative is zero throughout.
    correlation : ndarray of shape (n_spectra,)
        With ``with_correlation``: the correlation at the best lag (``nan`` where a
        derivative is zero throughout).

    Raises
    ------
    RamancamError
        If the shapes do not match or the grid is shorter than the window and the shifts.
    """
    from scipy.signal import savgol_filter

    from .errors import RamancamError

    A = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if index is not None:
        R = np.atleast_2d(np.asarray(reference, dtype=np.float64))
        idx = np.asarray(index)
        if idx.shape != A.shape[:1] or R.ndim != 2 or R.shape[1] != A.shape[-1] or (
                idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0
                              or idx.max() >= len(R))):
            raise RamancamError(f"index must give one row of reference (0 to {len(R) - 1}) "
                                f"per spectrum of X {A.shape}; got index of shape "
                                f"{idx.shape} for reference of shape {R.shape}.")
    else:
        R = np.broadcast_to(np.asarray(reference, dtype=np.float64), A.shape) \
            if np.ndim(reference) == 1 else np.asarray(reference, dtype=np.float64)
        if A.ndim != 2 or R.shape != A.shape:
            raise RamancamError(f"reference must have the shape of X {A.shape} or one row of "
                                f"{A.shape[-1]} points; got {np.shape(reference)}.")
        idx = None
    n, p = A.shape
    if p < max(window, 2 * max_points + 3):
        raise RamancamError(f"spectra must have at least {max(window, 2 * max_points + 3)} "
                            f"points to find a band shift; got {p}.")
    if n == 0:  # savgol_filter refuses an empty array
        empty = np.zeros(0)
        return (empty, empty.copy()) if with_correlation else empty
    dA = savgol_filter(A, window, 2, deriv=1, axis=1)
    if idx is not None:
        dR = savgol_filter(R, window, 2, deriv=1, axis=1)[idx]
    elif np.ndim(reference) == 1:  # one reference for all: its derivative once
        dR = np.broadcast_to(savgol_filter(R[0], window, 2, deriv=1), A.shape)
    else:
        dR = savgol_filter(R, window, 2, deriv=1, axis=1)
    # sums of squares of every window, from running sums (cheaper than one sum per lag)
    zero = np.zeros((n, 1))
    sa = np.hstack([zero, np.cumsum(dA * dA, axis=1)])
    sr = np.hstack([zero, np.cumsum(dR * dR, axis=1)])
    lags = np.arange(-max_points, max_points + 1)
    cc = np.full((n, lags.size), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, k in enumerate(lags.tolist()):  # spectrum point i + k against reference i
            lo_a, hi_a = max(0, k), p + min(0, k)
            lo_r, hi_r = max(0, -k), p - max(0, k)
            dot = np.einsum("ij,ij->i", dA[:, lo_a:hi_a], dR[:, lo_r:hi_r])
            norm = (sa[:, hi_a] - sa[:, lo_a]) * (sr[:, hi_r] - sr[:, lo_r])
            cc[:, j] = dot / np.sqrt(np.maximum(norm, 0.0))
    out = np.full(n, np.nan)
    ok = np.isfinite(cc).all(axis=1)
    best = np.argmax(np.where(ok[:, None], cc, -np.inf), axis=1)
    rows = np.arange(n)
    peak = np.where(ok, cc[rows, best], np.nan)
    mid = np.clip(best, 1, lags.size - 2)  # the best lag, kept one off the ends for its neighbours
    y0, y1, y2 = cc[rows, mid - 1], cc[rows, mid], cc[rows, mid + 1]
    # a peak at the end of the range searched, or a poor match, gives no shift
    good = ok & (best > 0) & (best < lags.size - 1) & (y1 >= MIN_SHIFT_CORRELATION)
    curv = y0 - 2.0 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(curv < 0, 0.5 * (y0 - y2) / np.where(curv < 0, curv, -1.0), 0.0)
    out[good] = (lags[mid[good]] + frac[good]) * float(step)
    return (out, peak) if with_correlation else out


def shift_note(shifts: ArrayLike, what: str = "the model's training spectra", *,
               offset_fix: bool = True) -> str | None:
    """One line saying that the bands sit consistently off ``what`` (``None`` when they do
    not: fewer than :data:`MIN_SHIFT_SPECTRA` readable shifts, or a median below
    :data:`MIN_NOTED_SHIFT` cm-1). ``offset_fix``: the line names the ``--axis-offset`` that
    would move them back (a model without a recipe takes spectra on its grid only, so it
    cannot use one)."""
    s = np.asarray(shifts, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size < MIN_SHIFT_SPECTRA:
        return None
    med = float(np.median(s))
    if abs(med) < MIN_NOTED_SHIFT:
        return None
    same = float(np.mean(np.sign(s) == np.sign(med)))
    lo, hi = np.percentile(s, [25, 75])
    return (f"axis: the bands sit {abs(med):.1f} cm-1 {'higher' if med > 0 else 'lower'} than "
            f"in {what} (median of {s.size} spectra, quartiles {lo:+.1f} to {hi:+.1f} cm-1, "
            f"{same:.0%} shifted that way); check the Raman-shift calibration on a measured "
            "standard ('ramancam info FILE --standard polystyrene', or silicon), "
            + (f"correct it with --axis-offset {-med:+.1f}, " if offset_fix else "")
            + "or train with spectra from this instrument")


#: :func:`group_shifts`: each group is compared with at most this many others.
MAX_GROUP_PAIRS = 30


def group_shifts(X: ArrayLike, labels: ArrayLike, groups: ArrayLike, step: float
                 ) -> dict[str, tuple[float, int]]:
    """Each group's band shift (cm-1) against the others, the majority setting the zero.

    For every pair of groups that share a class (each group with at most
    :data:`MAX_GROUP_PAIRS` others), the mean spectra of a shared class are compared
    (:func:`band_shift`), averaged over the shared classes. One offset per group is then
    fitted to those pair shifts by least squares (pair shift = offset of the one - offset of
    the other), and the offsets of each set of connected groups are moved so that their
    median is 0: with one session off axis among several, the others read 0 and it reads
    its shift, which a comparison with the mean of all others would blur.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Preprocessed spectra on one grid.
    labels, groups : array-like of shape (n_spectra,)
        Class and group (session, patient, batch, replicate) of each spectrum.
    step : float
        The grid's spacing in cm-1, signed.

    Returns
    -------
    dict
        Group -> (offset in cm-1, its number of spectra); groups that share no class with
        another (or whose comparisons all fail) are left out.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    A = np.asarray(X, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    g = np.asarray(groups).astype(str)
    names = np.unique(g)
    counts = {str(n): int(np.sum(g == n)) for n in names}
    means = {(str(n), c): A[(g == n) & (y == c)].mean(axis=0)
             for n in names for c in np.unique(y[g == n])}
    holders: dict[str, list[str]] = {}
    for n, c in means:
        holders.setdefault(c, []).append(n)
    partners: dict[str, set[str]] = {str(n): set() for n in names}
    for gs in holders.values():
        for n in gs:
            partners[n].update(m for m in gs if m != n)
    rng = np.random.default_rng(0)
    pairs = []
    for n in sorted(partners):
        others = sorted(partners[n])
        if len(others) > MAX_GROUP_PAIRS:
            others = sorted(rng.choice(others, MAX_GROUP_PAIRS, replace=False).tolist())
        pairs += [(n, m) for m in others if (m, n) not in pairs]
    rows = [(n, m, c) for n, m in pairs for c in holders
            if (n, c) in means and (m, c) in means]
    if not rows:
        return {}
    shift = band_shift(np.stack([means[(n, c)] for n, m, c in rows]),
                       np.stack([means[(m, c)] for n, m, c in rows]), step)
    per_pair: dict[tuple[str, str], list[float]] = {}
    for (n, m, _), v in zip(rows, shift, strict=True):
        if np.isfinite(v):
            per_pair.setdefault((n, m), []).append(float(v))
    if not per_pair:
        return {}
    index = {n: i for i, n in enumerate(sorted({k for pair in per_pair for k in pair}))}
    k = len(index)
    design = np.zeros((len(per_pair), k))
    target = np.empty(len(per_pair))
    for r, ((n, m), vs) in enumerate(per_pair.items()):
        design[r, index[n]], design[r, index[m]] = 1.0, -1.0
        target[r] = float(np.mean(vs))
    offset = np.linalg.lstsq(design, target, rcond=None)[0]
    ii = [index[n] for n, _ in per_pair]
    jj = [index[m] for _, m in per_pair]
    _, part = connected_components(coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(k, k)),
                                   directed=False)
    for p in np.unique(part):
        offset[part == p] -= np.median(offset[part == p])
    return {n: (float(offset[i]), counts[n]) for n, i in index.items()}


def group_shift_note(shifts: dict[str, tuple[float, int]], column: str,
                     shown: int = 5) -> str | None:
    """``train``'s note on groups whose bands sit :data:`MIN_NOTED_SHIFT` cm-1 or more off
    the other groups' (at least 5 spectra giving a shift), largest first; ``None`` when no
    group does."""
    off = sorted(((k, m) for k, (m, n) in shifts.items()
                  if abs(m) >= MIN_NOTED_SHIFT and n >= 5), key=lambda km: -abs(km[1]))
    if not off:
        return None
    listed = ", ".join(f"{k} {m:+.1f}" for k, m in off[:shown])
    more = f" and {len(off) - shown} more" if len(off) > shown else ""
    return (f"note: the bands of {len(off)} of {len(shifts)} groups ({column}) sit "
            f"{MIN_NOTED_SHIFT:g} cm-1 or more off the other groups' spectra of their class "
            f"(cm-1: {listed}{more}), as a Raman-shift calibration that "
            "differs between measurements would put them; a classifier can learn such a "
            "shift. Check those sessions against a standard ('ramancam info FILE --standard "
            "silicon')")


def duplicate_spectra(X: ArrayLike) -> list[NDArray[np.intp]]:
    """The groups of rows of ``X`` that are exact copies of each other (two or more rows
    each, in row order; an export written twice, a file copied into two folders)."""
    A = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    seen: dict[bytes, list[int]] = {}
    for i, row in enumerate(A):
        seen.setdefault(row.tobytes(), []).append(i)
    return [np.asarray(v, dtype=np.intp) for v in seen.values() if len(v) > 1]


def duplicates_note(spectra: Spectra, splits: Any, group_of: Any = None) -> str | None:
    """The line ``train`` and ``baseline`` print when exact copies of a spectrum are both
    trained on and tested in the folds ``splits`` ((train, test) index pairs), which flatters
    the accuracy, or carry different labels (``None`` otherwise). ``group_of``: each spectrum's
    group when the folds are group folds, whose copies across training and test sit in
    different groups (the note names a few, rather than advising groups)."""
    groups = duplicate_spectra(spectra.X)
    if not groups:
        return None
    where = [np.zeros(len(spectra), dtype=np.int8) for _ in splits]
    for w, (tr, te) in zip(where, splits, strict=True):
        w[np.asarray(tr, dtype=np.intp)] = 1
        w[np.asarray(te, dtype=np.intp)] = 2
    leaked = [g for g in groups if any({1, 2} <= set(w[g].tolist()) for w in where)]
    labels = spectra.labels
    mixed = [] if labels is None else [g for g in groups if len(set(labels[g].tolist())) > 1]
    if not leaked and not mixed:
        return None
    # copies with two labels are a labelling question: grouping them does not answer it
    fix = ("Remove the copies, or keep them together with --group-col (a folder: "
           "--groups-from)" if leaked else "Check their labels, or remove the copies")
    if leaked and group_of is not None:  # grouping is what the user did: the copies span groups
        from .errors import first_of

        names = sorted({str(v).strip() for g in leaked for v in np.asarray(group_of)[g]})
        fix = (f"The copies sit in different groups ({first_of([repr(n) for n in names], 3)}"
               "), which group folds keep apart: remove the copies, or check the groups")
    first = [str(spectra.ids[i]) for i in (leaked or mixed)[0]]
    ids = (f"e.g. {first[0]} {'twice' if len(first) == 2 else f'{len(first)} times'}"
           if len(set(first)) == 1 else f"e.g. {first[0]} and {first[1]}")
    parts = []
    if leaked:
        one = len(leaked) == 1
        who = "the split puts" if len(where) == 1 else "the folds put"
        parts.append(f"{len(leaked)} spectr{'um has' if one else 'a have'} an exact copy "
                     f"that {who} in training while testing the other, which flatters the "
                     "accuracy")
    if mixed:
        parts.append(f"{len(mixed)} spectr{'um has' if len(mixed) == 1 else 'a have'} exact "
                     "copies with another label")
    return f"note: {'; '.join(parts)} ({ids}). {fix}."


def narrow_grid_note(spectra: Spectra, grid: ArrayLike, *, margin: float = 50.0
                     ) -> str | None:
    """The line ``train`` and ``baseline`` print when a few spectra of a set on several axes
    cut the default grid (the range every spectrum covers) well short of what most of them
    cover, naming the first of those spectra; ``None`` otherwise (one axis, or no such
    spectra). ``margin``: cm-1 lost on either side before it is said."""
    if spectra.has_common_axis or len(spectra) < 3:
        return None
    g = np.asarray(grid, dtype=np.float64)
    ranges = np.array([(float(np.min(a)), float(np.max(a))) for a in spectra.axes])
    lo, hi = float(np.median(ranges[:, 0])), float(np.median(ranges[:, 1]))
    want_lo, want_hi = max(lo, 350.0), min(hi, 1800.0)
    cut_lo, cut_hi = g[0] - want_lo > margin, want_hi - g[-1] > margin
    if not (cut_lo or cut_hi):
        return None
    short = np.flatnonzero((cut_lo & (ranges[:, 0] > want_lo + margin))
                           | (cut_hi & (ranges[:, 1] < want_hi - margin)))
    if not short.size or short.size > len(spectra) // 5:  # a few spectra, not a fifth
        return None
    # what the others cover together: the grid without the few (the median range, which
    # half the spectra fall short of, is no such promise)
    rest = np.setdiff1d(np.arange(len(spectra)), short)
    new_lo = max(float(ranges[rest, 0].max()), 350.0)
    new_hi = min(float(ranges[rest, 1].min()), 1800.0)
    if new_lo > g[0] - 1.0 and new_hi < g[-1] + 1.0:
        return None
    i = int(short[0])
    src = spectra.sources[i]
    # a file of its own names the spectrum; a table's row is named by its id
    own_file = bool(src) and sum(1 for s_ in spectra.sources if s_ == src) == 1
    name = src if own_file else f"spectrum {spectra.ids[i]}"
    them = "them" if short.size > 1 else "it"
    ends = [f"starting at {ranges[short, 0].min():.0f}-{ranges[short, 0].max():.0f}"
            if cut_lo else "",
            f"ending at {ranges[short, 1].min():.0f}-{ranges[short, 1].max():.0f}"
            if cut_hi else ""]
    shown = (f"{name} ({ranges[i, 0]:.0f}-{ranges[i, 1]:.0f} cm-1)"
             + (f" and {short.size - 1} other spectra (all "
                f"{' and '.join(e for e in ends if e)} cm-1)" if short.size > 1 else ""))
    return (f"note: the grid {g[0]:g}-{g[-1]:g} cm-1 is the range every spectrum covers; "
            f"{shown} cut it short: without {them}, every spectrum covers "
            f"{new_lo:.0f}-{new_hi:.0f} cm-1. Leave {them} out, or choose the range with "
            "--grid.")


def _first_axis(spectra: Spectra) -> NDArray[np.float64]:
    """The common axis, or the first spectrum's: the one an axis-unit note judges."""
    axis = spectra.wavenumbers if spectra.has_common_axis else spectra.axes[0]
    return np.asarray(axis, dtype=np.float64)


def wavelength_axis_note(spectra: Spectra) -> str | None:
    """The line ``train`` and ``baseline`` print when the spectra's axis looks like
    wavelengths in nm, not Raman shifts; ``None`` otherwise. It does within 200-1700 with
    steps under 0.25 (a CCD read in nm), or from 400 on over a span of at most 0.4 times its
    start: a Raman spectrum in nm lies just above its laser line (785 nm: 790-1100, 1064 nm:
    1070-1400, a span of 0.3-0.4 times the start), a Raman-shift axis starts far lower or
    spans far more (200-1800, 600-1800, 1226-2788 cm-1)."""
    a = _first_axis(spectra)
    if a.size < 3 or not (200 <= a.min() and a.max() <= 1700):
        return None
    lo, hi = float(a.min()), float(a.max())
    if (float(np.median(np.abs(np.diff(a)))) >= 0.25
            and not (lo >= 400 and hi - lo <= 0.4 * lo)):
        return None
    return (f"note: the x axis ({a.min():g}-{a.max():g}, steps of "
            f"{float(np.median(np.abs(np.diff(a)))):.3g}) looks like wavelengths in nm, not "
            "Raman shifts in cm-1; if so, give --laser-nm NM (the excitation laser) to "
            "convert it.")


#: Raman shifts (cm-1) above which an axis is no Stokes Raman shift: the highest
#: fundamentals (O-H, N-H, C-H stretches) lie below 3800 cm-1, overtones below about 4500.
MAX_SHIFT = 4500.0


def absolute_axis_note(spectra: Spectra) -> str | None:
    """The line ``train`` and ``baseline`` print when the whole axis lies above
    :data:`MAX_SHIFT` cm-1: absolute wavenumbers of the scattered light (an export from a
    785 nm instrument reads 8740-12340 cm-1), not Raman shifts; ``None`` otherwise."""
    a = _first_axis(spectra)
    if not looks_absolute(a):
        return None
    return (f"note: the x axis ({a.min():g}-{a.max():g}) lies above {MAX_SHIFT:g} cm-1, "
            "where Raman shifts end: it looks like absolute wavenumbers of the scattered "
            "light, not Raman shifts; if so, give --laser-nm NM (the excitation laser) to "
            "convert it (shift = 1e7 / laser nm - wavenumber), or export Raman shift from "
            "the instrument's software.")


def looks_absolute(axis: ArrayLike) -> bool:
    """Whether a whole axis (3 points or more) lies above :data:`MAX_SHIFT` cm-1: absolute
    wavenumbers of the scattered light, not Raman shifts (:func:`absolute_axis_note`)."""
    a = np.asarray(axis, dtype=np.float64)
    return bool(a.size >= 3 and float(a.min()) > MAX_SHIFT)


def channel_axis_note(spectra: Spectra, grid: NDArray[np.float64]) -> str | None:
    """The line printed when the axis is channel numbers 0, 1, 2, ... (as ``ramancam
    simulate`` writes, paper Eq. 10) or 1, 2, 3, ... (as MATLAB, R and spreadsheets number;
    :func:`ramancam._channels.numbered_in_ones`, looser than the plots' and ``info``'s
    rule: a note says "looks like") and the grid, a Raman-shift range, cut part of
    it away (a class band at channel 100 is then never seen); ``None`` otherwise."""
    if not spectra.has_common_axis:
        return None
    a = np.asarray(spectra.wavenumbers, dtype=np.float64)
    g = np.asarray(grid, dtype=np.float64)
    if not numbered_in_ones(a) or g.size < 2:
        return None
    lo, hi = float(g.min()), float(g.max())
    if lo <= a[0] + 1 and hi >= a[-1] - 1:
        return None
    return (f"note: the x axis ({a[0]:g}-{a[-1]:g} in steps of 1) looks like channel numbers, "
            f"not Raman shifts; the grid keeps {lo:g}-{hi:g} of it and drops the rest. Train "
            "channel data (such as 'ramancam simulate' writes) as the paper does, with "
            "--recipe none.")


#: Median point spacing (cm-1) above which a spectrum is too coarse for Raman bands (about
#: 5-20 cm-1 wide): resampling onto a 1 cm-1 grid then draws the spline's guesses.
COARSE_STEP = 10.0


def axis_steps(spectra: Spectra) -> NDArray[np.float64]:
    """The median point spacing (cm-1) of each distinct axis: one value on a common axis,
    one per spectrum otherwise (an axis holds 2 points or more)."""
    axes = [spectra.wavenumbers] if spectra.has_common_axis else list(spectra.axes)
    return np.array([float(np.median(np.abs(np.diff(a)))) for a in axes])


def coarse_note(spectra: Spectra, grid_step: float | None = None) -> str | None:
    """The line printed for spectra sampled more coarsely than :data:`COARSE_STEP` cm-1
    (and than the grid's step, when given), naming the first; ``None`` without any."""
    axes = [spectra.wavenumbers] if spectra.has_common_axis else list(spectra.axes)
    steps = axis_steps(spectra)
    limit = max(COARSE_STEP, grid_step or 0.0)
    coarse = np.flatnonzero(steps > limit)
    if not coarse.size:
        return None
    n = len(spectra) if spectra.has_common_axis else int(coarse.size)
    i = int(coarse[0])
    a = np.asarray(axes[i])
    name = spectra.sources[i] if spectra.sources[i] else f"spectrum {spectra.ids[i]}"
    return (f"note: {n} spectr{'um is' if n == 1 else 'a are'} sampled more coarsely than "
            f"every {limit:g} cm-1 (e.g. {name}: {a.size} points over {a.min():g}-{a.max():g} "
            "cm-1); Raman bands are narrower than that, so the resampled spectra show the "
            "spline's guesses between the points: measure at finer steps.")


#: Fewest points a run of one value at an end of every spectrum must hold to count as
#: padding (:func:`fill_ends`): the paper recipe's straight baseline leaves one exact 0 at
#: each end of every spectrum (two after resampling), which a preprocessed table keeps.
MIN_FILL = 3


@dataclass(frozen=True)
class FillEnds:
    """Runs of one value at the two ends of the axis, the same in every spectrum
    (:func:`fill_ends`): ``lead`` and ``trail`` points, their values, the Raman shifts each
    run spans, and those of the first and last points between them (the range measured)."""

    lead: int
    trail: int
    values: tuple[float, float]
    spans: tuple[tuple[float, float], tuple[float, float]]
    measured: tuple[float, float]

    def held(self, *, spans: bool = False, where: str = "") -> str:
        """``the first 5 and the last 484 points<where> hold 10 in every spectrum``; with
        ``spans``, each run's Raman shifts after its count."""
        runs = [(f"the first {self.lead}", self.lead, self.spans[0], self.values[0]),
                (f"the last {self.trail}", self.trail, self.spans[1], self.values[1])]
        ends = [text + (f" ({a:g}-{b:g} cm-1)" if spans else "")
                for text, k, (a, b), _ in runs if k]
        vals = sorted({v for _, k, _, v in runs if k})
        return (f"{' and '.join(ends)} points{where} hold {' and '.join(f'{v:g}' for v in vals)}"
                " in every spectrum")


def fill_ends(spectra: Spectra) -> FillEnds | None:
    """Padding at the ends of a table of spectra: the first and last points that hold one
    value in every spectrum (:func:`fill_runs`; two spectra or more on one axis), as a
    source that wrote spectra of different ranges on one axis fills what was not measured
    (food/astragalus: 10.0 at 100-108 and 3312-4278 cm-1). ``None`` when there is none.
    Read column by column from each end, so a large map costs a column or two."""
    if len(spectra) < 2 or not spectra.has_common_axis:
        return None
    return fill_ends_of(spectra.X, spectra.wavenumbers)


def fill_ends_of(X: NDArray[Any], axis: NDArray[Any], **rules: Any) -> FillEnds | None:
    """:func:`fill_ends` of the rows of ``X`` on ``axis``; ``rules``: those of
    :func:`fill_runs` (the table reader's, stricter)."""
    scan = FillScan(**rules)
    scan.add(X)
    return scan.ends(axis)


def fill_runs(X: NDArray[Any], *, nonzero: bool = False, min_rows: int = 2,
              min_kept: int = 2) -> tuple[int, int] | None:
    """The points at the start and at the end of the rows of ``X`` (``min_rows`` rows or
    more) that hold one and the same value in every row, each run counted when it holds at
    least :data:`MIN_FILL` points (:func:`fill_ends`) and at least ``min_kept`` points are
    left between them; ``None`` when neither end has one, or the rows are flat throughout.
    With ``nonzero``, runs of 0 or of a detector's limit (:data:`DETECTOR_LIMITS`:
    saturation, another note's) do not count (a noise-free simulation's empty tail is 0)."""
    if X.ndim != 2:
        return None
    scan = FillScan(nonzero=nonzero, min_rows=min_rows, min_kept=min_kept)
    scan.add(X)
    return scan.runs()


class FillScan:
    """:func:`fill_runs` and :func:`fill_ends_of` of rows given a block at a time (a table
    read in blocks of lines): :meth:`add` each block in file order, then :meth:`runs` or
    :meth:`ends` give what the same functions give for all the rows at once. A column
    belongs to a run when every row of every block holds the first row's value there, so
    each block can only shorten the runs the earlier ones left; no block decides alone."""

    def __init__(self, *, nonzero: bool = False, min_rows: int = 2, min_kept: int = 2
                 ) -> None:
        self.nonzero, self.min_rows, self.min_kept = nonzero, min_rows, min_kept
        self.n_rows = 0
        self.values: tuple[float, float] | None = None  # the first row's first and last
        self.lead = self.trail = 0  # the runs so far, unbounded (both may span every point)
        self.n_points = 0

    def add(self, X: NDArray[Any]) -> None:
        """Rows of the table, the next in file order, of as many points as the others."""
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            return
        n = X.shape[1]
        if self.values is None:
            self.values = (X[0, 0], X[0, -1])
            self.lead = self.trail = self.n_points = n
        elif n != self.n_points:
            raise ValueError(f"rows must have {self.n_points} points; got {n}")
        v0, v1 = self.values

        def run(cols: range, v: float) -> int:  # column by column: a large map costs a few
            k = 0
            for j in cols:
                if not (X[:, j] == v).all():
                    break
                k += 1
            return k

        self.lead = run(range(self.lead), v0)
        self.trail = run(range(n - 1, n - 1 - self.trail, -1), v1)
        self.n_rows += X.shape[0]

    def runs(self) -> tuple[int, int] | None:
        """``(lead, trail)`` as :func:`fill_runs` gives them for all the rows added."""
        if self.values is None or self.n_rows < max(2, self.min_rows):
            return None
        n, (v0, v1) = self.n_points, self.values
        lead = self.lead
        if lead >= n - 1:  # flat spectra: another note's
            return None
        trail = min(self.trail, n - 1 - lead)

        def counts(k: int, v: float) -> bool:
            return k >= MIN_FILL and bool(np.isfinite(v)) and not (
                self.nonzero and (v == 0 or float(v) in DETECTOR_LIMITS))

        lead, trail = (lead if counts(lead, v0) else 0), (trail if counts(trail, v1) else 0)
        if not (lead or trail) or n - lead - trail < max(2, self.min_kept):
            return None
        return lead, trail

    def ends(self, axis: NDArray[Any]) -> FillEnds | None:
        """:func:`fill_ends_of` of all the rows added, on ``axis``."""
        runs = self.runs()
        if runs is None or self.values is None:
            return None
        lead, trail = runs
        n = self.n_points
        return FillEnds(lead, trail, (float(self.values[0]), float(self.values[1])),
                        ((float(axis[0]), float(axis[max(lead, 1) - 1])),
                         (float(axis[n - max(trail, 1)]), float(axis[-1]))),
                        (float(axis[lead]), float(axis[n - 1 - trail])))


def fill_note(fill: FillEnds | None, what: str = "note: ") -> str | None:
    """The line ``info`` (``what`` its ``  fill:`` label) and ``train``/``baseline`` print for
    :func:`fill_ends`."""
    if fill is None:
        return None
    zeros = all(v == 0 for v, k in zip(fill.values, (fill.lead, fill.trail), strict=True) if k)
    kind = ("a fill value or a tail without signal or noise (a simulation's), not a "
            "detector's reading" if zeros else "a fill value, not a measurement")
    return (f"{what}{fill.held(where=' of the axis')}: {kind} "
            f"(the spectra were measured over about {min(fill.measured):g}-"
            f"{max(fill.measured):g} cm-1). The paper recipe's straight baseline runs through "
            "each spectrum's first and last points, here the fill; a pybaselines recipe "
            "(--recipe asls) does not use them")
