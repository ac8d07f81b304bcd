"""Preprocessing steps, the recorded :class:`Recipe` that chains them, and the paper's chain.

Every step exists in three forms:

* a plain function on arrays, ``step(X, wavenumbers, **params) -> (X_new, wavenumbers_new)``
  with ``X`` of shape (n_spectra, n_points) and ``wavenumbers`` of shape (n_points,);
* a scikit-learn transformer (``BaseEstimator`` + ``TransformerMixin``) on ``X`` alone; the
  input axis is a constructor parameter (``wavenumbers``), required by the steps that change
  the grid (:class:`Crop`, :class:`Resample`);
* a named step of a :class:`Recipe`, which records the step names and every parameter as
  JSON so that a saved model applies exactly the same preprocessing at prediction time.

Conventions shared by all steps
-------------------------------
* Inputs are never modified; outputs are new arrays.
* Output intensities are always **float64** (float32 or integer input is promoted), because
  the spline solve and the normalisation denominators lose digits in float32; the model casts
  to float32 itself.
* Axes may be ascending or descending and unevenly spaced. Steps that keep the grid keep the
  caller's order (a reversed axis gives the reversed result). :func:`resample` always returns
  intensities on its ascending grid.
* Expected failures raise :class:`ramancam.errors.RamancamError` naming the spectrum (its
  source file when known, else its index).

The paper's chain (Fukuhara et al. 2019, section 2.1; METHOD.md section 1) is
:func:`paper_recipe`: linear baseline through the end points, cubic-spline resampling onto
350-1800 cm-1 at 1 cm-1 (1451 points), normalisation to the maximum.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import make_interp_spline
from scipy.signal import savgol_filter
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..errors import RamancamError
from ..spectra import Spectra, check_axis

__all__ = [
    "BASELINE_METHODS",
    "NORMALIZATIONS",
    "OUTSIDE_POLICIES",
    "STEPS",
    "BaselineCorrection",
    "Crop",
    "Despike",
    "LinearBaseline",
    "Normalize",
    "Recipe",
    "Resample",
    "SavitzkyGolay",
    "Step",
    "baseline",
    "baseline_recipe",
    "crop",
    "despike",
    "linear_baseline",
    "make_grid",
    "normalize",
    "paper_recipe",
    "resample",
    "savgol",
]

Array = NDArray[np.float64]

#: Normalisation methods accepted by :func:`normalize`.
NORMALIZATIONS = ("max", "area", "minmax", "snv", "vector")
#: Policies for grid points outside a spectrum's measured range (:func:`resample`).
OUTSIDE_POLICIES = ("error", "nearest", "zero")

# pybaselines methods that do not fit "one spectrum in, one baseline out" with keyword
# parameters only (they need other methods, several spectra or explicit anchor points).
_PYBASELINES_EXCLUDED = {"custom_bc", "optimize_extended_range", "collab_pls", "interp_pts"}


def _pybaselines_methods() -> tuple[str, ...]:
    from pybaselines import Baseline as _PB

    return tuple(sorted(n for n in dir(_PB) if not n.startswith("_")
                        and callable(getattr(_PB, n)) and n not in _PYBASELINES_EXCLUDED))


#: pybaselines algorithms reachable through :func:`baseline` (``method=...``).
BASELINE_METHODS = _pybaselines_methods()


# ----------------------------------------------------------------------------- helpers
def _names(n: int, sources: ArrayLike | None = None,
           index: Sequence[int] | None = None) -> list[str]:
    """How each spectrum is named in error messages: its file when known, else its index."""
    idx = list(range(n)) if index is None else [int(i) for i in index]
    src = [""] * n if sources is None else [str(s) for s in np.asarray(sources).tolist()]
    if len(src) != n:
        raise RamancamError(
            f"sources must have one entry per spectrum ({n}); got {len(src)}.")
    return [f"file {s} (spectrum {i})" if s else f"spectrum {i}"
            for s, i in zip(src, idx, strict=True)]


def _check_X(X: ArrayLike, wavenumbers: ArrayLike) -> tuple[Array, Array]:
    """Validate a matrix and its axis; return float64 copies-or-views (never written to)."""
    w = check_axis(wavenumbers)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RamancamError(f"X must hold numbers; got {exc}.") from None
    if arr.ndim != 2:
        raise RamancamError(
            f"X must be 2-D of shape (n_spectra, n_points); got shape {arr.shape}. "
            "Use X[None, :] for a single spectrum.")
    if arr.shape[1] != w.size:
        raise RamancamError(f"X has {arr.shape[1]} points but wavenumbers has {w.size}.")
    if not np.isfinite(arr).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise RamancamError(
            f"X must be finite; got {arr[i, j]} in spectrum {i} at {w[j]:g} cm-1. "
            "Remove or interpolate missing values first.")
    return arr, w


def _float(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise RamancamError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(v):
        raise RamancamError(f"{name} must be finite; got {value!r}.")
    return v


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise RamancamError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


# ----------------------------------------------------------------------------- grid
def make_grid(start: float = 350.0, stop: float = 1800.0, step: float = 1.0) -> Array:
    """The resampling grid ``start, start + step, ...`` up to and including ``stop``.

    Parameters
    ----------
    start, stop : float
        First and last Raman shift in cm-1 (``stop`` is included when it lies on the grid).
    step : float
        Spacing in cm-1.

    Returns
    -------
    ndarray of shape (n_grid,)
        Ascending grid; 1451 points for the default (the paper's 350-1800 cm-1 at 1 cm-1).

    Raises
    ------
    RamancamError
        If ``step`` is not positive or ``stop`` is not above ``start``.
    """
    a, b, s = _float("start", start), _float("stop", stop), _float("step", step)
    if not s > 0:
        raise RamancamError(f"grid step must be positive; got {step!r}. E.g. 400:1800:1.")
    if not b > a:
        raise RamancamError(
            f"grid stop must be above start; got start={start!r}, stop={stop!r}. "
            "E.g. 400:1800:1.")
    # Computed from the index (not by accumulation) so every grid point is start + i*step
    # exactly; the small slack keeps `stop` when (stop - start)/step is an integer up to
    # rounding.
    n = math.floor((b - a) / s + 1e-9) + 1
    if n > 10_000_000:
        raise RamancamError(
            f"grid must have at most 10^7 points; got {n} ({a:g}:{b:g}:{s:g}). "
            "Use a larger step.")
    return a + s * np.arange(n, dtype=np.float64)


# ----------------------------------------------------------------------------- baseline
def _check_regions(regions: Any) -> list[list[float]] | None:
    if regions is None:
        return None
    try:
        pairs = [list(r) for r in regions]
    except TypeError:
        raise RamancamError(
            f"regions must be a list of (lo, hi) ranges in cm-1; got {regions!r}.") from None
    if not pairs:
        raise RamancamError(
            "regions must hold at least one (lo, hi) range; got an empty list. "
            "Give baseline regions, or None for the line through the end points.")
    out = []
    for k, r in enumerate(pairs):
        if len(r) != 2:
            raise RamancamError(
                f"regions[{k}] must be a (lo, hi) pair; got {r!r}.")
        lo, hi = _float(f"regions[{k}] lo", r[0]), _float(f"regions[{k}] hi", r[1])
        if not hi > lo:
            raise RamancamError(
                f"regions[{k}] must have hi > lo; got ({lo:g}, {hi:g}). Swap the bounds.")
        out.append([lo, hi])
    return out


def _linear_baseline(X: Array, w: Array, names: list[str], *,
                     regions: list[list[float]] | None) -> Array:
    if regions is None:
        # The straight line through the two end points (paper 2.1, METHOD.md 1.1); written
        # in the caller's axis order, so a reversed axis gives the same line reversed.
        t = (w - w[0]) / (w[-1] - w[0])
        base = X[:, :1] + (X[:, -1:] - X[:, :1]) * t[None, :]
        return X - base
    mask = np.zeros(w.size, dtype=bool)
    for lo, hi in regions:
        inside = (w >= lo) & (w <= hi)
        if inside.sum() < 2:
            raise RamancamError(
                f"each baseline region must hold at least 2 points of every spectrum; "
                f"region {lo:g}-{hi:g} cm-1 holds {int(inside.sum())} of {names[0]}, whose "
                f"axis covers {w.min():g}-{w.max():g} cm-1. Widen or move the region.")
        mask |= inside
    # One least-squares line (slope + intercept) per spectrum, solved for all spectra at
    # once; centring the axis keeps the 2x2 system well conditioned at ~1000 cm-1.
    xc = w - w[mask].mean()
    A = np.stack([np.ones(int(mask.sum())), xc[mask]], axis=1)
    coef, *_ = np.linalg.lstsq(A, X[:, mask].T, rcond=None)
    base = (coef[0][:, None] + coef[1][:, None] * xc[None, :])
    return X - base


def linear_baseline(X: ArrayLike, wavenumbers: ArrayLike, *,
                    regions: Sequence[tuple[float, float]] | None = None,
                    sources: ArrayLike | None = None) -> tuple[Array, Array]:
    """Subtract a straight baseline from each spectrum (paper 2.1, step 1).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1, strictly monotonic (either direction, uneven allowed).
    regions : sequence of (lo, hi), optional
        Baseline regions in cm-1. ``None`` (default, the paper's choice) uses the line
        through the first and last points; otherwise one least-squares line is fitted per
        spectrum to all points inside the regions.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
        Intensities minus their baselines.
    wavenumbers : ndarray of shape (n_points,)
        The axis, unchanged (caller's order).

    Raises
    ------
    RamancamError
        If a region holds fewer than 2 points of the spectra, or a region is malformed.
    """
    arr, w = _check_X(X, wavenumbers)
    regs = _check_regions(regions)
    return _linear_baseline(arr, w, _names(arr.shape[0], sources), regions=regs), w.copy()


def _check_method(method: Any) -> str:
    if method not in BASELINE_METHODS:
        raise RamancamError(
            f"baseline method must be one of {', '.join(BASELINE_METHODS)}; got {method!r}.")
    return str(method)


def _pybaseline(X: Array, w: Array, names: list[str], *, method: str,
                **params: Any) -> Array:
    from pybaselines import Baseline as _PB

    fitter = getattr(_PB(x_data=w), _check_method(method))
    out = np.empty_like(X)
    # pybaselines has no batched 1-D API: one call per spectrum, but the Baseline object
    # (sorting of x, cached matrices) is shared by all spectra on this axis.
    for i, y in enumerate(X):
        try:
            base, _ = fitter(y, **params)
        except TypeError as exc:
            raise RamancamError(
                f"baseline parameters must be accepted by pybaselines' {method}; got "
                f"{params!r} ({exc}). See the pybaselines documentation of {method}.") from None
        except ValueError as exc:
            raise RamancamError(
                f"baseline {method} must succeed on {names[i]}; got {exc}. "
                "Check its parameters.") from None
        out[i] = y - base
    return out


def baseline(X: ArrayLike, wavenumbers: ArrayLike, method: str = "asls", *,
             sources: ArrayLike | None = None, **params: Any) -> tuple[Array, Array]:
    """Subtract a baseline estimated by a pybaselines algorithm.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1 (passed to ``pybaselines.Baseline(x_data=wavenumbers)``, which
        handles descending axes and restores the caller's order).
    method : str
        Name of a ``pybaselines.Baseline`` method, one of :data:`BASELINE_METHODS`
        (e.g. ``"asls"``, ``"arpls"``, ``"airpls"``, ``"snip"``, ``"modpoly"``).
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.
    **params
        Passed through to the method, e.g. ``lam=1e6, p=0.01`` for ``asls``.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
        Intensities minus their baselines.
    wavenumbers : ndarray of shape (n_points,)
        The axis, unchanged.

    Raises
    ------
    RamancamError
        If ``method`` is unknown (the message lists the known ones) or pybaselines rejects
        the parameters.
    """
    arr, w = _check_X(X, wavenumbers)
    m = _check_method(method)
    return _pybaseline(arr, w, _names(arr.shape[0], sources), method=m, **params), w.copy()


# ----------------------------------------------------------------------------- crop
def _check_crop(lo: Any, hi: Any) -> tuple[float, float]:
    a, b = _float("crop lo", lo), _float("crop hi", hi)
    if not b > a:
        raise RamancamError(f"crop range must have hi > lo; got ({a:g}, {b:g}).")
    return a, b


def _crop(X: Array, w: Array, names: list[str], common: Any = None, *, lo: float, hi: float
          ) -> tuple[Array, Array]:
    keep = (w >= lo) & (w <= hi)
    if keep.sum() < 2:
        raise RamancamError(
            f"crop range must keep at least 2 points of every spectrum; {lo:g}-{hi:g} cm-1 "
            f"keeps {int(keep.sum())} of {names[0]}, which covers {w.min():g}-{w.max():g} "
            "cm-1. Choose a range inside the measured one.")
    return X[:, keep].copy(), w[keep].copy()


def crop(X: ArrayLike, wavenumbers: ArrayLike, lo: float, hi: float, *,
         sources: ArrayLike | None = None) -> tuple[Array, Array]:
    """Keep the points with ``lo <= wavenumber <= hi``.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1.
    lo, hi : float
        Inclusive range in cm-1.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_kept), float64
    wavenumbers_new : ndarray of shape (n_kept,)
        The kept part of the axis, in the caller's order.

    Raises
    ------
    RamancamError
        If fewer than 2 points remain.
    """
    arr, w = _check_X(X, wavenumbers)
    a, b = _check_crop(lo, hi)
    return _crop(arr, w, _names(arr.shape[0], sources), lo=a, hi=b)


# ----------------------------------------------------------------------------- resample
def _check_outside(outside: Any) -> str:
    if outside not in OUTSIDE_POLICIES:
        raise RamancamError(
            f"outside must be one of {', '.join(repr(p) for p in OUTSIDE_POLICIES)}; got "
            f"{outside!r}.")
    return str(outside)


def _check_grid(grid: ArrayLike | None) -> Array:
    if grid is None:
        return make_grid()
    g = check_axis(grid, name="grid")
    if g[0] > g[-1]:
        raise RamancamError(
            f"grid must be ascending; got {g[0]:g} down to {g[-1]:g}. Use make_grid(start, "
            "stop, step).")
    return g


def _suggest(g: Array, lo: float, hi: float, tol: float) -> str:
    """A grid with the same step that fits inside [lo, hi] (and inside the requested one)."""
    step = float(np.median(np.diff(g))) if g.size > 1 else 1.0
    a = max(float(g[0]), math.ceil((lo - tol) / step - 1e-9) * step)
    b = min(float(g[-1]), math.floor((hi + tol) / step + 1e-9) * step)
    return f"--grid {a:g}:{b:g}:{step:g} or paper_recipe(grid=({a:g}, {b:g}, {step:g}))"


def _resample(X: Array, w: Array, names: list[str], *, grid: Array, outside: str,
              tolerance: float | None, common: tuple[float, float] | None = None) -> Array:
    order = np.argsort(w)
    xs = w[order]
    lo, hi = float(xs[0]), float(xs[-1])
    if tolerance is None:
        steps = np.diff(grid)
        tol = 0.5 * float(steps.min()) if steps.size else 0.0
    else:
        tol = tolerance
    below, above = grid < lo - tol, grid > hi + tol
    if outside == "error" and (below.any() or above.any()):
        who = (f"{names[0]} and {len(names) - 1} other spectra on the same axis cover"
               if len(names) > 1 else f"{names[0]} covers")
        # For a set with per-spectrum axes, suggest the range that all of them cover, so
        # that one fix is enough.
        c_lo, c_hi = common if common is not None else (lo, hi)
        raise RamancamError(
            f"resampling grid must lie within the measured range of every spectrum; got grid "
            f"{grid[0]:g}-{grid[-1]:g} cm-1 but {who} {lo:g}-{hi:g} cm-1. Crop the grid, "
            f"e.g. {_suggest(grid, c_lo, c_hi, tol)}, or opt in to outside='nearest' or "
            "'zero'.")
    # k=3 (cubic, not-a-knot) as the paper's spline interpolation; fewer points force a
    # lower degree. One banded solve for the whole matrix (all spectra share this axis).
    k = min(3, xs.size - 1)
    spline = make_interp_spline(xs, X[:, order].T, k=k, check_finite=False)
    # Grid points within the tolerance of an end are evaluated at that end (its measured
    # value), never extrapolated.
    out = np.ascontiguousarray(spline(np.clip(grid, lo, hi)).T, dtype=np.float64)
    if outside == "zero":
        out[:, below | above] = 0.0
    return out


def resample(X: ArrayLike | Spectra, wavenumbers: ArrayLike | None = None,
             grid: ArrayLike | None = None, *, outside: str = "error",
             tolerance: float | None = None, sources: ArrayLike | None = None
             ) -> Any:
    """Cubic-spline resampling onto a grid (paper 2.1, step 2).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points), or a Spectra
        Intensities. A :class:`~ramancam.spectra.Spectra` (also one with per-spectrum axes)
        may be given instead, as ``resample(spectra, grid)``; a ``Spectra`` on the grid is
        then returned, with labels, metadata and sources kept.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1, strictly monotonic, either direction, uneven spacing allowed
        (sorted internally).
    grid : array-like of shape (n_grid,), optional
        Ascending target axis; default :func:`make_grid` () = 350-1800 cm-1 at 1 cm-1.
    outside : {"error", "nearest", "zero"}
        What to do with grid points outside a spectrum's measured range (beyond
        ``tolerance``): ``"error"`` (default) refuses; ``"nearest"`` repeats the end value;
        ``"zero"`` writes 0. The spline is never extrapolated.
    tolerance : float, optional
        How far (cm-1) a grid point may lie outside the measured range and still count as
        measured (it takes the end value). Default: half the grid step, so that a spectrum
        measured from 400.1 cm-1 can be resampled onto a grid starting at 400.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_grid), float64
        Intensities on the grid (ascending, whatever the input order).
    grid : ndarray of shape (n_grid,)

    Raises
    ------
    RamancamError
        If a grid point lies outside a spectrum's range and ``outside="error"``; the message
        names the spectrum, its range and the fix.
    """
    out_pol = _check_outside(outside)
    tol = None if tolerance is None else _float("tolerance", tolerance)
    if tol is not None and tol < 0:
        raise RamancamError(f"tolerance must be >= 0; got {tolerance!r}.")
    if isinstance(X, Spectra):
        g = _check_grid(grid if grid is not None else wavenumbers)

        def run(A: Array, w: Array, names: list[str],
                common: tuple[float, float] | None = None) -> tuple[Array, Array]:
            return _resample(A, w, names, grid=g, outside=out_pol, tolerance=tol,
                             common=common), g

        return _apply_runs(X, [run])
    if wavenumbers is None:
        raise RamancamError("wavenumbers must be given with an array X; got None.")
    arr, w = _check_X(X, wavenumbers)
    g = _check_grid(grid)
    names = _names(arr.shape[0], sources)
    return _resample(arr, w, names, grid=g, outside=out_pol, tolerance=tol), g.copy()


# ----------------------------------------------------------------------------- normalise
def _check_norm(method: Any) -> str:
    if method not in NORMALIZATIONS:
        raise RamancamError(
            f"normalisation method must be one of {', '.join(NORMALIZATIONS)}; got "
            f"{method!r}.")
    return str(method)


def _normalize(X: Array, w: Array, names: list[str], *, method: str) -> Array:
    scale = np.abs(X).max(axis=1)
    tiny = 1e-12 * np.where(scale > 0, scale, 1.0)
    if method == "max":
        # Paper 2.1 step 3: the maximum becomes 1.
        shift = np.zeros(X.shape[0])
        den = X.max(axis=1)
        bad = den <= tiny
        why = "a positive maximum"
    elif method == "minmax":
        shift = X.min(axis=1)
        den = X.max(axis=1) - shift
        bad = den <= tiny
        why = "max > min"
    elif method == "area":
        # Area under |spectrum| by the trapezoid rule on the sorted axis, so the sign and
        # direction of the axis do not matter.
        order = np.argsort(w)
        shift = np.zeros(X.shape[0])
        ya, xs = np.abs(X[:, order]), w[order]
        den = (0.5 * (ya[:, 1:] + ya[:, :-1]) * np.diff(xs)[None, :]).sum(axis=1)
        bad = den <= tiny * (w.max() - w.min())
        why = "a non-zero area"
    elif method == "snv":
        shift = X.mean(axis=1)
        den = X.std(axis=1)
        bad = den <= tiny
        why = "a non-zero standard deviation"
    else:  # vector
        shift = np.zeros(X.shape[0])
        den = np.sqrt((X * X).sum(axis=1))
        bad = den <= tiny
        why = "a non-zero length"
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if method == "max" and den[i] < 0 and not np.abs(X[i] - X[i, 0]).max() <= tiny[i]:
            # Seen on real RRUFF spectra: the end-point line lies above the whole spectrum.
            raise RamancamError(
                f"{names[i]} must have a positive maximum for max normalisation; got maximum "
                f"{den[i]:g} (no positive value). The baseline probably lies above the "
                "spectrum: use baseline regions, a pybaselines method, or another "
                "normalisation.")
        raise RamancamError(
            f"{names[i]} must have {why} for {method} normalisation; got a flat or empty "
            f"spectrum (denominator {den[i]:g}). Remove it, or check the steps before "
            "(e.g. a baseline that removed everything).")
    return (X - shift[:, None]) / den[:, None]


def normalize(X: ArrayLike, wavenumbers: ArrayLike, method: str = "max", *,
              sources: ArrayLike | None = None) -> tuple[Array, Array]:
    """Normalise each spectrum's intensity (paper 2.1, step 3: ``"max"``).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1 (used by ``"area"``).
    method : {"max", "area", "minmax", "snv", "vector"}
        ``"max"``: divide by the maximum (max becomes 1; the paper's choice).
        ``"area"``: divide by the trapezoid area under ``|spectrum|`` over the axis.
        ``"minmax"``: map min..max to 0..1. ``"snv"``: subtract the mean, divide by the
        standard deviation (ddof 0). ``"vector"``: divide by the Euclidean (L2) norm.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
    wavenumbers : ndarray of shape (n_points,)

    Raises
    ------
    RamancamError
        If the method is unknown, or a spectrum is flat (its denominator is zero, or for
        ``"max"`` not positive).
    """
    arr, w = _check_X(X, wavenumbers)
    m = _check_norm(method)
    return _normalize(arr, w, _names(arr.shape[0], sources), method=m), w.copy()


# ----------------------------------------------------------------------------- smoothing
def _check_savgol(window_length: Any, polyorder: Any) -> tuple[int, int]:
    wl = _int("window_length", window_length, 1)
    po = _int("polyorder", polyorder, 0)
    if wl % 2 == 0:
        raise RamancamError(f"window_length must be odd; got {wl}. Use {wl + 1}.")
    if po >= wl:
        raise RamancamError(
            f"polyorder must be less than window_length ({wl}); got {po}.")
    return wl, po


def _savgol(X: Array, w: Array, names: list[str], *, window_length: int,
            polyorder: int) -> Array:
    if window_length > w.size:
        raise RamancamError(
            f"window_length must be at most the number of points ({w.size}) of {names[0]}; "
            f"got {window_length}. Use a shorter window.")
    # mode="interp" fits the edge windows instead of padding, and is symmetric, so a
    # reversed axis gives the reversed result.
    return np.asarray(savgol_filter(X, window_length, polyorder, axis=1, mode="interp"),
                      dtype=np.float64)


def savgol(X: ArrayLike, wavenumbers: ArrayLike, window_length: int = 11,
           polyorder: int = 3, *, sources: ArrayLike | None = None) -> tuple[Array, Array]:
    """Savitzky-Golay smoothing (``scipy.signal.savgol_filter``, ``mode="interp"``).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities. The filter works on point index, i.e. assumes roughly even spacing.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts (checked, returned unchanged).
    window_length : int
        Odd window length in points, at most n_points.
    polyorder : int
        Polynomial order, less than ``window_length``.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
    wavenumbers : ndarray of shape (n_points,)

    Raises
    ------
    RamancamError
        If the window is even, longer than the spectra, or not above ``polyorder``.
    """
    arr, w = _check_X(X, wavenumbers)
    wl, po = _check_savgol(window_length, polyorder)
    return _savgol(arr, w, _names(arr.shape[0], sources), window_length=wl,
                   polyorder=po), w.copy()


# ----------------------------------------------------------------------------- despiking
def _check_despike(threshold: Any, window: Any) -> tuple[float, int]:
    t = _float("threshold", threshold)
    if not t > 0:
        raise RamancamError(f"threshold must be positive; got {threshold!r}.")
    return t, _int("window", window, 1)


def _despike(X: Array, w: Array, names: list[str], *, threshold: float,
             window: int) -> Array:
    # Whitaker & Hayes (2018): modified z-score (Iglewicz & Hoaglin) of the first
    # difference, which is large only where the intensity jumps within one pixel.
    d = np.diff(X, axis=1)
    med = np.median(d, axis=1, keepdims=True)
    mad = np.median(np.abs(d - med), axis=1, keepdims=True)
    # A zero MAD (e.g. piecewise-constant data) would flag everything; the scaled mean
    # absolute deviation is the usual fallback, and zero of that means no spikes at all.
    meanad = 1.253314 * np.mean(np.abs(d - med), axis=1, keepdims=True)
    den = np.where(mad > 0, mad, meanad / 0.6745)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, 0.6745 * (d - med) / np.where(den > 0, den, 1.0), 0.0)
    flagged = np.abs(z) > threshold
    # Both ends of a flagged jump are suspect: this catches the spike pixel whichever side
    # of it the large difference lies on, and wider (2-3 pixel) cosmic-ray hits.
    spikes = np.zeros(X.shape, dtype=bool)
    spikes[:, :-1] |= flagged
    spikes[:, 1:] |= flagged
    out = X.copy()
    p = X.shape[1]
    for i, j in zip(*np.nonzero(spikes), strict=True):
        m = window
        while True:
            a, b = max(0, j - m), min(p, j + m + 1)
            good = ~spikes[i, a:b]
            if good.any():
                out[i, j] = X[i, a:b][good].mean()
                break
            if a == 0 and b == p:  # every point flagged: leave the spectrum alone
                break
            m *= 2
    return out


def despike(X: ArrayLike, wavenumbers: ArrayLike, threshold: float = 7.0, window: int = 3,
            *, sources: ArrayLike | None = None) -> tuple[Array, Array]:
    """Remove cosmic-ray spikes (Whitaker & Hayes 2018).

    A point is a spike when the modified z-score ``0.6745 (d - median(d)) / MAD(d)`` of the
    first difference ``d`` on either side of it exceeds ``threshold``; each spike is replaced
    by the mean of the points within ``window`` on each side that are not spikes (the window
    doubles until it holds one).

    The score is relative to the spectrum's own pixel-to-pixel noise, so on very clean
    spectra the flanks of sharp bands can exceed the threshold too; raise ``threshold`` for
    such data (check by comparing input and output).

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts (checked, returned unchanged).
    threshold : float
        Modified z-score above which a jump counts as a spike (default 7; 3.5 is the usual
        outlier level, but real sharp Raman bands then get flagged).
    window : int
        Half-width in points of the neighbourhood used to replace a spike.
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
    wavenumbers : ndarray of shape (n_points,)

    Raises
    ------
    RamancamError
        If ``threshold`` is not positive or ``window`` is not a positive integer.
    """
    arr, w = _check_X(X, wavenumbers)
    t, m = _check_despike(threshold, window)
    return _despike(arr, w, _names(arr.shape[0], sources), threshold=t, window=m), w.copy()


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _StepKind:
    """How a recipe step is checked, completed with defaults and run."""

    defaults: dict[str, Any]
    check: Callable[[dict[str, Any]], dict[str, Any]]
    run: Callable[..., tuple[Array, Array]]
    open_params: bool = False  # accepts parameters beyond the defaults (pybaselines)


def _run_keep(fn: Callable[..., Array]) -> Callable[..., tuple[Array, Array]]:
    def run(X: Array, w: Array, names: list[str], common: Any = None,
            **kw: Any) -> tuple[Array, Array]:
        return fn(X, w, names, **kw), w
    return run


def _check_lb(p: dict[str, Any]) -> dict[str, Any]:
    return {"regions": _check_regions(p["regions"])}


def _check_bl(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "method": _check_method(p["method"])}


def _check_cr(p: dict[str, Any]) -> dict[str, Any]:
    lo, hi = _check_crop(p["lo"], p["hi"])
    return {"lo": lo, "hi": hi}


def _check_rs(p: dict[str, Any]) -> dict[str, Any]:
    make_grid(p["start"], p["stop"], p["step"])
    tol = p["tolerance"]
    if tol is not None:
        tol = _float("tolerance", tol)
        if tol < 0:
            raise RamancamError(f"tolerance must be >= 0; got {p['tolerance']!r}.")
    return {"start": _float("start", p["start"]), "stop": _float("stop", p["stop"]),
            "step": _float("step", p["step"]), "outside": _check_outside(p["outside"]),
            "tolerance": tol}


def _run_rs(X: Array, w: Array, names: list[str], common: tuple[float, float] | None = None,
            *, start: float, stop: float, step: float, outside: str,
            tolerance: float | None) -> tuple[Array, Array]:
    g = make_grid(start, stop, step)
    return _resample(X, w, names, grid=g, outside=outside, tolerance=tolerance,
                     common=common), g


def _check_nm(p: dict[str, Any]) -> dict[str, Any]:
    return {"method": _check_norm(p["method"])}


def _check_sg(p: dict[str, Any]) -> dict[str, Any]:
    wl, po = _check_savgol(p["window_length"], p["polyorder"])
    return {"window_length": wl, "polyorder": po}


def _check_ds(p: dict[str, Any]) -> dict[str, Any]:
    t, m = _check_despike(p["threshold"], p["window"])
    return {"threshold": t, "window": m}


_KINDS: dict[str, _StepKind] = {
    "linear_baseline": _StepKind({"regions": None}, _check_lb, _run_keep(_linear_baseline)),
    "baseline": _StepKind({"method": "asls"}, _check_bl, _run_keep(_pybaseline),
                          open_params=True),
    "crop": _StepKind({"lo": None, "hi": None}, _check_cr, _crop),
    "resample": _StepKind({"start": 350.0, "stop": 1800.0, "step": 1.0, "outside": "error",
                           "tolerance": None}, _check_rs, _run_rs),
    "normalize": _StepKind({"method": "max"}, _check_nm, _run_keep(_normalize)),
    "savgol": _StepKind({"window_length": 11, "polyorder": 3}, _check_sg,
                        _run_keep(_savgol)),
    "despike": _StepKind({"threshold": 7.0, "window": 3}, _check_ds, _run_keep(_despike)),
}

#: Names of the steps a :class:`Recipe` knows, each with the function it runs.
STEPS: dict[str, Callable[..., Any]] = {
    "linear_baseline": linear_baseline, "baseline": baseline, "crop": crop,
    "resample": resample, "normalize": normalize, "savgol": savgol, "despike": despike,
}


def _jsonable(name: str, value: Any) -> Any:
    """Plain JSON values (so that a recipe round-trips exactly), or an error."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RamancamError(f"recipe parameter {name} must be finite; got {value!r}.")
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(f"{name}.{k}", v) for k, v in value.items()}
    raise RamancamError(
        f"recipe parameter {name} must be a number, string, bool, None or a list/dict of "
        f"them; got {type(value).__name__}. Recipes are stored as JSON.")


@dataclass(frozen=True)
class Step:
    """One named step of a :class:`Recipe` with all of its parameters.

    Parameters
    ----------
    name : str
        One of :data:`STEPS`.
    params : dict
        Keyword parameters; missing ones are filled with the defaults, so that the recorded
        recipe does not depend on later changes of defaults.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in _KINDS:
            raise RamancamError(
                f"recipe step must be one of {', '.join(_KINDS)}; got {self.name!r}.")
        kind = _KINDS[self.name]
        if not isinstance(self.params, Mapping):
            raise RamancamError(
                f"parameters of step {self.name} must be a mapping; got "
                f"{type(self.params).__name__}.")
        unknown = [k for k in self.params if k not in kind.defaults]
        if unknown and not kind.open_params:
            raise RamancamError(
                f"parameters of step {self.name} must be among {', '.join(kind.defaults)}; "
                f"got {', '.join(map(repr, unknown))}.")
        merged = {**kind.defaults, **self.params}
        missing = [k for k, v in merged.items() if v is None and k in ("lo", "hi")]
        if missing:
            raise RamancamError(
                f"step {self.name} needs {' and '.join(missing)}; got none. "
                "E.g. {'name': 'crop', 'params': {'lo': 400, 'hi': 1800}}.")
        checked = kind.check(merged)
        clean = {k: _jsonable(f"{self.name}.{k}", v) for k, v in checked.items()}
        object.__setattr__(self, "params", clean)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "params": {...}}`` (plain JSON values)."""
        return {"name": self.name, "params": json.loads(json.dumps(self.params))}

    def run(self, X: Array, w: Array, names: list[str],
            common: tuple[float, float] | None = None) -> tuple[Array, Array]:
        """Apply the step to a matrix on one axis (arrays already validated).

        ``common`` is the range every spectrum of the set covers (used in error hints).
        """
        return _KINDS[self.name].run(X, w, names, common, **self.params)


def _as_step(s: Any, k: int) -> Step:
    if isinstance(s, Step):
        return s
    if isinstance(s, str):
        return Step(s)
    if isinstance(s, Mapping):
        if "name" not in s:
            raise RamancamError(
                f"recipe step {k} must have a 'name'; got keys {sorted(s)}. "
                "Write {'name': 'normalize', 'params': {'method': 'max'}}.")
        extra = set(s) - {"name", "params"}
        if extra:
            raise RamancamError(
                f"recipe step {k} must have only 'name' and 'params'; got also "
                f"{sorted(extra)}. Put parameters under 'params'.")
        return Step(s["name"], dict(s.get("params") or {}))
    if isinstance(s, (tuple, list)) and len(s) == 2:
        return Step(s[0], dict(s[1] or {}))
    raise RamancamError(
        f"recipe step {k} must be a Step, a name, a (name, params) pair or a dict; got "
        f"{s!r}.")


def _group_by_axis(axes: Sequence[Array]) -> list[tuple[Array, list[int]]]:
    groups: dict[bytes, tuple[Array, list[int]]] = {}
    for i, a in enumerate(axes):
        key = a.tobytes()
        if key in groups:
            groups[key][1].append(i)
        else:
            groups[key] = (a, [i])
    return list(groups.values())


def _apply_runs(spectra: Spectra, runs: Sequence[Callable[..., tuple[Array, Array]]]
                ) -> Spectra:
    n = len(spectra)
    sources = spectra.sources
    if spectra.has_common_axis:
        X = np.asarray(spectra.X, dtype=np.float64)
        w = spectra.wavenumbers
        names = _names(n, sources)
        for run in runs:
            X, w = run(X, w, names)
        return spectra.replace(X, w)
    # Per-spectrum axes: spectra sharing an axis go through together (vectorised); the
    # groups split again whenever a step leaves them on different axes.
    ys: list[Array] = [np.asarray(y, dtype=np.float64) for y in spectra.intensities]
    axes: list[Array] = spectra.axes
    for run in runs:
        new_ys: list[Array | None] = [None] * n
        new_axes: list[Array | None] = [None] * n
        common = (max(float(a.min()) for a in axes), min(float(a.max()) for a in axes))
        for axis, idx in _group_by_axis(axes):
            Xg = np.stack([ys[i] for i in idx])
            Xo, wo = run(Xg, axis, _names(len(idx), sources[idx], idx), common)
            for r, i in enumerate(idx):
                new_ys[i], new_axes[i] = Xo[r], wo
        ys = [y for y in new_ys if y is not None]
        axes = [a for a in new_axes if a is not None]
    return spectra.replace(ys, axes)


class Recipe:
    """An ordered, recorded chain of preprocessing steps.

    Parameters
    ----------
    steps : sequence
        Each a :class:`Step`, a step name, a ``(name, params)`` pair or a
        ``{"name": ..., "params": {...}}`` dict. Order is kept as given.

    Notes
    -----
    A recipe serialises to JSON and back exactly: ``Recipe.from_json(r.to_json()) == r`` and
    both give identical output. Every parameter is recorded, defaults included.

    Examples
    --------
    >>> r = Recipe([("linear_baseline", {}), ("resample", {"start": 400, "stop": 1800}),
    ...             ("normalize", {"method": "max"})])
    >>> r.grid.size
    1401
    """

    FORMAT = "ramancam-recipe"
    VERSION = 1

    def __init__(self, steps: Iterable[Any] = ()) -> None:
        if isinstance(steps, (str, Mapping)):
            raise RamancamError(
                f"steps must be a list of steps; got {type(steps).__name__}. "
                "Use Recipe.from_dict / Recipe.from_json for a saved recipe.")
        self._steps: tuple[Step, ...] = tuple(_as_step(s, k) for k, s in enumerate(steps))

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return self._steps

    def __len__(self) -> int:
        return len(self._steps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recipe):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{s.name}({', '.join(f'{k}={v!r}' for k, v in s.params.items())})"
            for s in self._steps)
        return f"Recipe([{inner}])"

    # --------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A plain-JSON description: format tag, version and the steps in order."""
        return {"format": self.FORMAT, "version": self.VERSION,
                "steps": [s.to_dict() for s in self._steps]}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The recipe as JSON text (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recipe:
        """Rebuild a recipe from :meth:`to_dict` output.

        Raises
        ------
        RamancamError
            If it is not a ramancam recipe, was written by a newer version, or names an
            unknown step or parameter.
        """
        if not isinstance(d, Mapping) or d.get("format") != cls.FORMAT:
            got = d.get("format") if isinstance(d, Mapping) else type(d).__name__
            raise RamancamError(
                f"recipe must be a ramancam recipe (format {cls.FORMAT!r}); got {got!r}. "
                "Write it with Recipe.to_json().")
        version = d.get("version")
        if not isinstance(version, int) or version > cls.VERSION:
            raise RamancamError(
                f"recipe version must be at most {cls.VERSION}; got {version!r}. "
                "Upgrade ramancam to read it.")
        steps = d.get("steps")
        if not isinstance(steps, list):
            raise RamancamError(
                f"recipe 'steps' must be a list; got {type(steps).__name__}.")
        return cls(steps)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """Rebuild a recipe from :meth:`to_json` text.

        Raises
        ------
        RamancamError
            If the text is not JSON, or as :meth:`from_dict`.
        """
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RamancamError(
                f"recipe must be JSON; got an error at line {exc.lineno}, column "
                f"{exc.colno}: {exc.msg}.") from None
        return cls.from_dict(d)

    # --------------------------------------------------------------- grid
    @property
    def grid(self) -> Array | None:
        """Output axis, shape (n_grid,), when the recipe resamples (else ``None``)."""
        g: Array | None = None
        for s in self._steps:
            if s.name == "resample":
                g = make_grid(s.params["start"], s.params["stop"], s.params["step"])
            elif s.name == "crop" and g is not None:
                g = g[(g >= s.params["lo"]) & (g <= s.params["hi"])]
        return g

    def with_grid(self, grid: tuple[float, float, float]) -> Recipe:
        """A copy whose (last) resampling step uses ``grid = (start, stop, step)``.

        Raises
        ------
        RamancamError
            If the recipe has no resampling step.
        """
        try:
            start, stop, step = grid
        except (TypeError, ValueError):
            raise RamancamError(
                f"grid must be (start, stop, step); got {grid!r}.") from None
        idx = [k for k, s in enumerate(self._steps) if s.name == "resample"]
        if not idx:
            raise RamancamError(
                "recipe must have a resample step to change its grid; got steps "
                f"{[s.name for s in self._steps]}. Add a 'resample' step.")
        steps = list(self._steps)
        old = steps[idx[-1]]
        steps[idx[-1]] = Step("resample", {**old.params, "start": start, "stop": stop,
                                           "step": step})
        return Recipe(steps)

    # --------------------------------------------------------------- applying
    def apply(self, spectra: Spectra) -> Spectra:
        """Run the steps in order on a :class:`~ramancam.spectra.Spectra`.

        Parameters
        ----------
        spectra : Spectra
            Common-axis or per-spectrum-axes layout. Steps that keep the grid run per group
            of spectra sharing an axis; resampling brings them onto one common grid.

        Returns
        -------
        Spectra
            The result, with labels, metadata and sources kept.
        """
        if not isinstance(spectra, Spectra):
            raise RamancamError(
                f"spectra must be a ramancam Spectra; got {type(spectra).__name__}. "
                "Use Recipe.apply_arrays(X, wavenumbers) for plain arrays.")
        if len(spectra) == 0:
            return spectra
        return _apply_runs(spectra, [s.run for s in self._steps])

    def apply_arrays(self, X: ArrayLike, wavenumbers: ArrayLike, *,
                     sources: ArrayLike | None = None) -> tuple[Array, Array]:
        """Run the steps on a matrix.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
        wavenumbers : array-like of shape (n_points,)
        sources : array-like of str of shape (n_spectra,), optional
            Named in error messages.

        Returns
        -------
        X_new : ndarray of shape (n_spectra, n_out), float64
        wavenumbers_new : ndarray of shape (n_out,)
        """
        arr, w = _check_X(X, wavenumbers)
        names = _names(arr.shape[0], sources)
        for s in self._steps:
            arr, w = s.run(arr, w, names)
        return np.array(arr, dtype=np.float64), np.array(w, dtype=np.float64)


def paper_recipe(grid: tuple[float, float, float] = (350.0, 1800.0, 1.0)) -> Recipe:
    """The paper's preprocessing (Fukuhara et al. 2019, 2.1; METHOD.md section 1).

    Linear baseline through the end points -> cubic-spline resampling onto ``grid``
    (default 350-1800 cm-1 at 1 cm-1, 1451 points; grid points outside a spectrum's range
    are an error) -> normalisation to the maximum.

    Parameters
    ----------
    grid : (start, stop, step)
        Resampling grid in cm-1, inclusive.
    """
    try:
        start, stop, step = grid
    except (TypeError, ValueError):
        raise RamancamError(f"grid must be (start, stop, step); got {grid!r}.") from None
    return Recipe([
        Step("linear_baseline", {"regions": None}),
        Step("resample", {"start": start, "stop": stop, "step": step, "outside": "error",
                          "tolerance": None}),
        Step("normalize", {"method": "max"}),
    ])


def baseline_recipe(method: str = "asls",
                    grid: tuple[float, float, float] = (350.0, 1800.0, 1.0),
                    **params: Any) -> Recipe:
    """The paper's recipe with a pybaselines baseline in place of the straight line.

    Cubic-spline resampling onto ``grid`` -> ``method`` baseline (on the grid, so every
    spectrum gets the same smoothness setting) -> normalisation to the maximum. For spectra
    whose end points are not baseline (a fluorescence hump, a band at the edge), where the
    line through the end points cuts into the spectrum.

    Parameters
    ----------
    method : str
        A pybaselines method (:data:`BASELINE_METHODS`), default ``"asls"``.
    grid : (start, stop, step)
        Resampling grid in cm-1, inclusive.
    **params
        Passed to the method (e.g. ``lam=1e6, p=0.01`` for asls); pybaselines' defaults
        otherwise.
    """
    try:
        start, stop, step = grid
    except (TypeError, ValueError):
        raise RamancamError(f"grid must be (start, stop, step); got {grid!r}.") from None
    return Recipe([
        Step("resample", {"start": start, "stop": stop, "step": step, "outside": "error",
                          "tolerance": None}),
        Step("baseline", {"method": method, **params}),
        Step("normalize", {"method": "max"}),
    ])


# ----------------------------------------------------------------------------- transformers
class _StepTransformer(TransformerMixin, BaseEstimator):
    """Shared fit/transform plumbing: validation in ``fit``, fitted state ends in ``_``."""

    _needs_axis = False
    #: The step function ``f(X, wavenumbers, **self._params()) -> (X_out, axis_out)``.
    _step: Callable[..., tuple[Array, Array]]

    def _axis(self, n_features: int) -> Array:
        wn = getattr(self, "wavenumbers", None)
        if wn is None:
            if self._needs_axis:
                raise RamancamError(
                    f"wavenumbers must be given to {type(self).__name__} (the input axis); "
                    "got None.")
            # Without an axis the point index stands in for it (channel numbers).
            return np.arange(n_features, dtype=np.float64)
        w = check_axis(wn)
        if w.size != n_features:
            raise RamancamError(
                f"X has {n_features} points but wavenumbers has {w.size}.")
        return w

    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _run(self, X: Array, w: Array) -> tuple[Array, Array]:
        return type(self)._step(X, w, **self._params())

    def fit(self, X: ArrayLike, y: Any = None) -> _StepTransformer:
        """Check ``X`` (n_spectra, n_points) and the parameters; returns ``self``."""
        arr = check_array(X, dtype=np.float64)
        w = self._axis(arr.shape[1])
        self._params()
        self.n_features_in_ = arr.shape[1]
        self.wavenumbers_in_ = w
        return self

    def transform(self, X: ArrayLike) -> Array:
        """Apply the step: array of shape (n_spectra, n_out), float64."""
        check_is_fitted(self, "n_features_in_")
        arr = check_array(X, dtype=np.float64)
        if arr.shape[1] != self.n_features_in_:
            # Worded as scikit-learn words it, so that its estimator checks recognise it.
            raise RamancamError(
                f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (the points of the axis in fit). "
                "Resample the spectra onto that axis first.")
        out, _ = self._run(arr, self.wavenumbers_in_)
        return out


class LinearBaseline(_StepTransformer):
    """Transformer form of :func:`linear_baseline`.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: the point index.
    regions : sequence of (lo, hi), optional
        Baseline regions; ``None`` = line through the end points.
    """

    _step = staticmethod(linear_baseline)

    def __init__(self, wavenumbers: ArrayLike | None = None,
                 regions: Sequence[tuple[float, float]] | None = None) -> None:
        self.wavenumbers = wavenumbers
        self.regions = regions

    def _params(self) -> dict[str, Any]:
        return {"regions": _check_regions(self.regions)}


class BaselineCorrection(_StepTransformer):
    """Transformer form of :func:`baseline` (pybaselines).

    Parameters
    ----------
    method : str
        One of :data:`BASELINE_METHODS`.
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: the point index.
    params : dict, optional
        Passed through to the pybaselines method.
    """

    _step = staticmethod(baseline)

    def __init__(self, method: str = "asls", wavenumbers: ArrayLike | None = None,
                 params: dict[str, Any] | None = None) -> None:
        self.method = method
        self.wavenumbers = wavenumbers
        self.params = params

    def _params(self) -> dict[str, Any]:
        return {"method": _check_method(self.method), **(self.params or {})}


class Crop(_StepTransformer):
    """Transformer form of :func:`crop`; ``wavenumbers_out_`` is the kept axis.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,)
        Input axis (required).
    lo, hi : float
        Inclusive range in cm-1.
    """

    _needs_axis = True
    _step = staticmethod(crop)

    def __init__(self, wavenumbers: ArrayLike | None = None, lo: float = 350.0,
                 hi: float = 1800.0) -> None:
        self.wavenumbers = wavenumbers
        self.lo = lo
        self.hi = hi

    def _params(self) -> dict[str, Any]:
        lo, hi = _check_crop(self.lo, self.hi)
        return {"lo": lo, "hi": hi}

    def fit(self, X: ArrayLike, y: Any = None) -> Crop:
        super().fit(X, y)
        p = self._params()
        self.wavenumbers_out_ = _crop(np.zeros((1, self.wavenumbers_in_.size)),
                                      self.wavenumbers_in_, ["the input axis"], **p)[1]
        return self


class Resample(_StepTransformer):
    """Transformer form of :func:`resample`; ``grid_`` is the output axis.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,)
        Input axis (required).
    grid : (start, stop, step)
        Output grid in cm-1, inclusive (default: the paper's 350-1800 at 1).
    outside : {"error", "nearest", "zero"}
        See :func:`resample`.
    tolerance : float, optional
        See :func:`resample`.
    """

    _needs_axis = True
    _step = staticmethod(resample)

    def __init__(self, wavenumbers: ArrayLike | None = None,
                 grid: tuple[float, float, float] = (350.0, 1800.0, 1.0),
                 outside: str = "error", tolerance: float | None = None) -> None:
        self.wavenumbers = wavenumbers
        self.grid = grid
        self.outside = outside
        self.tolerance = tolerance

    def _params(self) -> dict[str, Any]:
        try:
            start, stop, step = self.grid
        except (TypeError, ValueError):
            raise RamancamError(
                f"grid must be (start, stop, step); got {self.grid!r}.") from None
        return {"grid": make_grid(start, stop, step), "outside": _check_outside(self.outside),
                "tolerance": self.tolerance}

    def fit(self, X: ArrayLike, y: Any = None) -> Resample:
        super().fit(X, y)
        self.grid_ = self._params()["grid"]
        return self


class Normalize(_StepTransformer):
    """Transformer form of :func:`normalize`.

    Parameters
    ----------
    method : {"max", "area", "minmax", "snv", "vector"}
    wavenumbers : array-like of shape (n_points,), optional
        Input axis (used by ``"area"``); default: the point index.
    """

    _step = staticmethod(normalize)

    def __init__(self, method: str = "max", wavenumbers: ArrayLike | None = None) -> None:
        self.method = method
        self.wavenumbers = wavenumbers

    def _params(self) -> dict[str, Any]:
        return {"method": _check_norm(self.method)}


class SavitzkyGolay(_StepTransformer):
    """Transformer form of :func:`savgol`.

    Parameters
    ----------
    window_length : int
    polyorder : int
    wavenumbers : array-like of shape (n_points,), optional
    """

    _step = staticmethod(savgol)

    def __init__(self, window_length: int = 11, polyorder: int = 3,
                 wavenumbers: ArrayLike | None = None) -> None:
        self.window_length = window_length
        self.polyorder = polyorder
        self.wavenumbers = wavenumbers

    def _params(self) -> dict[str, Any]:
        wl, po = _check_savgol(self.window_length, self.polyorder)
        return {"window_length": wl, "polyorder": po}


class Despike(_StepTransformer):
    """Transformer form of :func:`despike`.

    Parameters
    ----------
    threshold : float
    window : int
    wavenumbers : array-like of shape (n_points,), optional
    """

    _step = staticmethod(despike)

    def __init__(self, threshold: float = 7.0, window: int = 3,
                 wavenumbers: ArrayLike | None = None) -> None:
        self.threshold = threshold
        self.window = window
        self.wavenumbers = wavenumbers

    def _params(self) -> dict[str, Any]:
        t, m = _check_despike(self.threshold, self.window)
        return {"threshold": t, "window": m}


