"""The preprocessing step functions on arrays (``step(X, wavenumbers, **params)``).

:func:`make_grid`, :func:`linear_baseline` (paper 2.1, step 1), :func:`crop`,
:func:`resample` (step 2), :func:`normalize` (step 3), :func:`savgol` and :func:`despike`,
each with its private checks and array kernel (``_name(X, w, names, **params)``), which the
recipe and the transformers reuse. The pybaselines step is in
:mod:`ramancam.preprocess.baselines`. Conventions: see :mod:`ramancam.preprocess`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import RamancamError
from ..spectra import Spectra, check_axis
from ._validation import Array, _check_kept, _check_X, _float, _int, _names, abs_max
from .operators import apply_operator, operator_for

__all__ = [
    "NORMALIZATIONS",
    "OUTSIDE_POLICIES",
    "crop",
    "despike",
    "linear_baseline",
    "make_grid",
    "normalize",
    "resample",
    "savgol",
]

#: Normalisation methods accepted by :func:`normalize`.
NORMALIZATIONS = ("max", "area", "minmax", "snv", "vector")
#: Policies for grid points outside a spectrum's measured range (:func:`resample`).
OUTSIDE_POLICIES = ("error", "nearest", "zero")


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
        base = (X[:, -1:] - X[:, :1]) * t[None, :]
        base += X[:, :1]
    else:
        base = _region_line(X, w, names, regions)
    # in place: the baseline's array becomes the output (one full-size array, not two)
    out = np.subtract(X, base, out=base)
    _check_kept(X, out, names, "linear")
    return out


def _region_line(X: Array, w: Array, names: list[str], regions: list[list[float]]) -> Array:
    """Each spectrum's least-squares line through the points in its baseline regions."""
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
    return np.asarray(coef[0][:, None] + coef[1][:, None] * xc[None, :])


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


# ----------------------------------------------------------------------------- Spectra
# Runs array steps over a Spectra, grouped by axis (used by resample(spectra) and Recipe).
def _group_by_axis(axes: Sequence[Array]) -> list[tuple[Array, list[int]]]:
    groups: dict[bytes, tuple[Array, list[int]]] = {}
    for i, a in enumerate(axes):
        key = a.tobytes()
        if key in groups:
            groups[key][1].append(i)
        else:
            groups[key] = (a, [i])
    return list(groups.values())


#: Rows a recipe takes through all of its steps at a time (:func:`_run_blocks`).
BLOCK_ROWS = 4096

Run = Callable[..., tuple[Array, Array]]


def _run_blocks(X: Array, w: Array, names: list[str], runs: Sequence[Run]
                ) -> tuple[Array, Array]:
    """``runs`` in order on ``X`` (n, p), :data:`BLOCK_ROWS` rows at a time, into one output.

    Peak memory is the input, the output and one block's temporaries (a set of 10^5 spectra
    made every step's temporaries full-size: 4.8 GB over a 1.28 GB input). The bits are
    those of each step over the whole ``X``: the steps work row by row, and every block is
    told the whole call's ``n`` (``rows``), which chooses the resampling path
    (:func:`~ramancam.preprocess.operators.operator_for`). Which refusal is raised is the
    same too: that of the earliest step any spectrum fails, at its first such spectrum.
    The output is a new array (never ``X``) whenever there is a step.
    """
    n = X.shape[0]
    if n <= BLOCK_ROWS:
        X = np.asarray(X, dtype=np.float64)
        for run in runs:
            X, w = run(X, w, names, None, n)
        return X, w
    out: Array | None = None
    w_in = w
    for b0 in range(0, n, BLOCK_ROWS):
        rows = slice(b0, min(n, b0 + BLOCK_ROWS))
        Xb, w = np.asarray(X[rows], dtype=np.float64), w_in
        failed: tuple[int, RamancamError] | None = None
        for k, run in enumerate(runs):
            try:
                Xb, w = run(Xb, w, names[rows], None, n)
            except RamancamError as exc:
                failed = (k, exc)
                break
        if failed is not None:
            raise _first_refusal(X, w_in, names, runs, rows.stop, *failed)
        if out is None:
            out = np.empty((n, Xb.shape[1]), dtype=np.float64)
        out[rows] = Xb
    assert out is not None
    return out, w


def _first_refusal(X: Array, w: Array, names: list[str], runs: Sequence[Run], start: int,
                   step: int, err: RamancamError) -> RamancamError:
    """The refusal the whole ``X`` would have raised, given that its rows before ``start``
    passed steps ``0 .. step - 1`` and one of them failed ``step`` with ``err``: a later row
    that fails an earlier step comes first (each step ran over all rows before the next)."""
    n = X.shape[0]
    for b0 in range(start, n, BLOCK_ROWS):
        rows = slice(b0, min(n, b0 + BLOCK_ROWS))
        Xb, wb = np.asarray(X[rows], dtype=np.float64), w
        for k, run in enumerate(runs[:step]):
            try:
                Xb, wb = run(Xb, wb, names[rows], None, n)
            except RamancamError as exc:
                step, err = k, exc
                break
    return err


def _apply_runs(spectra: Spectra, runs: Sequence[Run]) -> Spectra:
    n = len(spectra)
    sources = spectra.sources
    ids = spectra.ids
    if spectra.has_common_axis:
        # as float64 block by block (a float32 set is not copied whole)
        X = spectra.X if runs else np.asarray(spectra.X, dtype=np.float64)
        names = _names(n, sources, ids=ids)
        Xo, wo = _run_blocks(X, spectra.wavenumbers, names, runs)
        return spectra.replace(Xo, wo, copy=not runs)
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
            Xo, wo = run(Xg, axis, _names(len(idx), sources[idx], idx, [ids[i] for i in idx]),
                         common)
            for r, i in enumerate(idx):
                new_ys[i], new_axes[i] = Xo[r], wo
        ys = [y for y in new_ys if y is not None]
        axes = [a for a in new_axes if a is not None]
    return spectra.replace(ys, axes)


# ----------------------------------------------------------------------------- crop
def _check_crop(lo: Any, hi: Any) -> tuple[float, float]:
    a, b = _float("crop lo", lo), _float("crop hi", hi)
    if not b > a:
        raise RamancamError(f"crop range must have hi > lo; got ({a:g}, {b:g}).")
    return a, b


def _crop(X: Array, w: Array, names: list[str], common: Any = None, rows: Any = None, *,
          lo: float, hi: float) -> tuple[Array, Array]:
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
    if (isinstance(grid, tuple) and len(grid) == 3
            and all(isinstance(v, int | float | np.number) for v in grid)
            and grid[1] > grid[0] and 0 < grid[2] < grid[1] - grid[0]):
        # (start, stop, step), as paper_recipe, auto_grid and --grid give a grid
        return make_grid(*(float(v) for v in grid))
    if (isinstance(grid, tuple) and len(grid) == 3
            and all(isinstance(v, int | float | np.number) for v in grid)):
        # (400, 1000, 1500) was three grid points without a word: a tuple is (start, stop,
        # step), and this step does not fit
        raise RamancamError(
            f"grid must be a (start, stop, step) tuple with 0 < step < stop - start, or an "
            f"array of grid points; got the tuple {tuple(float(v) for v in grid)!r}. For "
            "these as grid points pass np.array([...]).")
    if (isinstance(grid, tuple) and len(grid) == 2
            and all(isinstance(v, int | float | np.number) for v in grid)):
        # (400, 1800) would be a grid of two points, not the range it looks like
        raise RamancamError(
            f"grid must be a (start, stop, step) tuple or an array of grid points; got the "
            f"2-tuple {tuple(float(v) for v in grid)!r}. Add the step, e.g. "
            f"({float(grid[0]):g}, {float(grid[1]):g}, 1.0) (an array of two points: "
            "np.array([...])).")
    g = check_axis(grid, name="grid")
    if g[0] > g[-1]:
        raise RamancamError(
            f"grid must be ascending; got {g[0]:g} down to {g[-1]:g}. Use make_grid(start, "
            "stop, step).")
    return g


def _suggest(g: Array, lo: float, hi: float, tol: float) -> tuple[float, float, float]:
    """A grid with the same step that fits inside [lo, hi] (and inside the requested one)."""
    step = float(np.median(np.diff(g))) if g.size > 1 else 1.0
    a = max(float(g[0]), math.ceil((lo - tol) / step - 1e-9) * step)
    b = min(float(g[-1]), math.floor((hi + tol) / step + 1e-9) * step)
    return a, b, step


def _resample(X: Array, w: Array, names: list[str], *, grid: Array, outside: str,
              tolerance: float | None, common: tuple[float, float] | None = None,
              rows: int | None = None) -> Array:
    """``rows``: the spectra of the whole call when ``X`` is one block of it
    (:func:`_run_blocks`); they, not the block, choose the path (operator or spline) and
    are counted in the error message."""
    n_rows = X.shape[0] if rows is None else rows
    order = np.argsort(w)
    # an ascending axis (the usual case) needs no sorted copy of X
    ascending = bool((order == np.arange(order.size)).all())
    xs = w[order]
    lo, hi = float(xs[0]), float(xs[-1])
    if tolerance is None:
        steps = np.diff(grid)
        tol = 0.5 * float(steps.min()) if steps.size else 0.0
    else:
        tol = tolerance
    below, above = grid < lo - tol, grid > hi + tol
    if outside == "error" and (below.any() or above.any()):
        who = (f"{names[0]} and {n_rows - 1} other spectra on the same axis cover"
               if n_rows > 1 else f"{names[0]} covers")
        # For a set with per-spectrum axes, suggest the range that all of them cover, so
        # that one fix is enough.
        c_lo, c_hi = common if common is not None else (lo, hi)
        what = (f"resampling grid must lie within the measured range of every spectrum; got "
                f"grid {grid[0]:g}-{grid[-1]:g} cm-1 but {who} {lo:g}-{hi:g} cm-1. Crop the grid")
        a, b, step = _suggest(grid, c_lo, c_hi, tol)
        fits = b > a
        raise RamancamError(
            what + (f", e.g. paper_recipe(grid=({a:g}, {b:g}, {step:g}))" if fits else "")
            + ", or opt in to outside='nearest' or 'zero'.",
            cli=what + (f", e.g. --grid {a:g}:{b:g}:{step:g}." if fits else
                        " to a range every spectrum covers (--grid START:STOP:STEP)."))
    # k=3 (cubic, not-a-knot) as the paper's spline interpolation; fewer points force a
    # lower degree. One banded solve for the whole matrix (all spectra share this axis).
    k = min(3, xs.size - 1)
    # Many spectra on this axis (a map's tile, a file's chunk): the precomputed sparse
    # operator of the same spline (operators.py), equal to rounding.
    op = operator_for(xs, grid, k, n_rows)
    if op is not None:
        out = apply_operator(op, X if ascending else X[:, order])
    else:
        # imported here, as scipy.signal below: importing them took 1.9 s of ramancam info
        # MODEL's 3.4 s on a busy 2-core machine, which only checks and prints the recipe
        from scipy.interpolate import make_interp_spline

        spline = make_interp_spline(xs, (X if ascending else X[:, order]).T, k=k,
                                    check_finite=False)
        # Grid points within the tolerance of an end are evaluated at that end (its
        # measured value), never extrapolated.
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
    grid : array-like of shape (n_grid,), or (start, stop, step) as a tuple, optional
        Ascending target axis, or the tuple :func:`make_grid` takes (as ``paper_recipe``
        and :func:`~ramancam.preprocess.auto_grid` give a grid); default :func:`make_grid`
        () = 350-1800 cm-1 at 1 cm-1.
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
                common: tuple[float, float] | None = None,
                rows: int | None = None) -> tuple[Array, Array]:
            return _resample(A, w, names, grid=g, outside=out_pol, tolerance=tol,
                             common=common, rows=rows), g

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
    scale = abs_max(X)
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
        if method == "max" and not np.abs(X[i] - X[i, 0]).max() <= tiny[i]:
            # Seen on real RRUFF spectra: the end-point line lies above the whole spectrum
            # (its highest points may be the end points themselves, at 0).
            what = (f"{names[i]} must have a positive maximum for max normalisation; got "
                    f"maximum {0.0 if abs(den[i]) <= tiny[i] else den[i]:g} (no positive "
                    "value). The baseline probably lies above the spectrum (one corrected "
                    "at source, or bands pointing down)")
            raise RamancamError(
                what + ": use baseline regions, a pybaselines method, or another "
                "normalisation.",
                cli=what + ": use --recipe auto, asls or arpls, or --normalize snv.")
        raise RamancamError(
            f"{names[i]} must have {why} for {method} normalisation; got a flat or empty "
            f"spectrum (denominator {den[i]:g}). Remove it, or check the steps before "
            "(e.g. a baseline that removed everything).")
    out = X - shift[:, None]
    out /= den[:, None]  # in place: one full-size array, not two
    return out


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
    from scipy.signal import savgol_filter

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
    # of it the large difference lies on, and 2-pixel hits (a flat top 3 or more pixels
    # wide keeps its middle: its inner differences are small).
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

    The score is relative to the spectrum's own pixel-to-pixel noise, so the flanks of real
    bands only a few points wide exceed the threshold too: on measured sets (RRUFF minerals,
    single-cell bacteria spectra) the defaults change most spectra and cut narrow bands down
    (a RRUFF band from 43746 to 3133 counts), and even a threshold of 50 changes many. A
    flat-topped hit three or more points wide keeps its middle. So no default recipe uses
    it: use it on spectra whose bands span many points, compare input and output, and prefer
    removing cosmic rays where replicate acquisitions exist (the instrument's software).

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
