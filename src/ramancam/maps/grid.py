"""The pixel grid of a Raman map, inferred from the spectra's x/y positions.

A map's spectra carry their stage positions in ``Spectra.meta["x"]`` and ``meta["y"]``
(floats, in the file's units: micrometres for WDF). :func:`infer_grid` turns them into a
:class:`MapGrid`: the number of pixels ``nx x ny``, the step, the pixel of every spectrum and
the pixels with no spectrum (an aborted map, dropped or unlabelled pixels).

How the grid is found (documented because it decides what counts as "one pixel"):

* **Line or map.** When every position lies on one straight line (within ``tol`` steps), the
  set is a *line scan*: its pixels are the distances along that line (``ny = 1``), whatever
  the line's direction (WiRE line scans are often diagonal). Otherwise it is a 2-D map on an
  axis-aligned raster.
* **Step.** Along each axis the sorted positions are differenced; gaps smaller than 1/8 of the
  largest gap are stage jitter inside one column, the others separate columns, and the step
  is the median distance between neighbouring column centres (so missing columns are fine
  as long as fewer than half the gaps are wider than one step). It is then refined by a
  least-squares fit of position against pixel index. An axis whose whole spread is below
  ``tol`` steps of the other axis is constant (one column or row).
* **Jitter.** A position may lie up to ``tol`` (default 0.25) of a step off its grid line;
  further off, the positions are not a raster and :func:`infer_grid` says which spectrum is
  off and by how much. Two spectra on one pixel are an error too.

Images are arrays of shape ``(ny, nx)``: row 0 is the smallest y, column 0 the smallest x;
draw them with ``origin="lower"`` and :meth:`MapGrid.extent`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import RamancamError

__all__ = ["MapGrid", "grid_of", "has_positions", "infer_grid", "with_positions"]

#: Default jitter tolerance, as a fraction of the step.
TOL = 0.25
#: Gaps below this fraction of an axis' largest gap are jitter inside one column.
_JITTER_FRACTION = 1 / 8
#: A grid may have at most this many cells per spectrum (a guard against non-raster data).
_MAX_CELLS_PER_SPECTRUM = 50


@dataclass(frozen=True)
class MapGrid:
    """The pixel grid of a map or line scan.

    Parameters
    ----------
    nx, ny : int
        Pixels along x (columns) and y (rows); a line scan has ``ny == 1``.
    x0, y0 : float
        Position of pixel column 0 / row 0 (file units). For a line scan ``x0, y0`` is the
        start of the line.
    step_x, step_y : float
        Distance between neighbouring columns / rows (file units; ``nan`` for a single
        column / row). For a line scan ``step_x`` is the step along the line.
    ix, iy : ndarray of int, shape (n_spectra,)
        Column and row of every spectrum, in input order.
    kind : {"map", "line"}
        A 2-D raster, or a line scan (pixels along one straight line, possibly diagonal).
    direction : tuple of float
        Line scans: the unit vector (dx, dy) of the line; maps: ``(1.0, 0.0)``.

    Notes
    -----
    ``to_image(values)`` scatters per-spectrum values into an ``(ny, nx)`` image; pixels
    without a spectrum get ``fill``. :meth:`regular` builds a full grid from its shape, for
    code that makes maps itself (simulations, chunked runs).
    """

    nx: int
    ny: int
    x0: float
    y0: float
    step_x: float
    step_y: float
    ix: NDArray[np.intp] = field(repr=False)
    iy: NDArray[np.intp] = field(repr=False)
    kind: str = "map"
    direction: tuple[float, float] = (1.0, 0.0)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def regular(cls, nx: int, ny: int, *, step: float = 1.0, x0: float = 0.0,
                y0: float = 0.0) -> MapGrid:
        """A full ``nx x ny`` grid, spectra in row-major order (x fastest).

        Parameters
        ----------
        nx, ny : int
            Pixels along x and y (both >= 1).
        step : float
            Distance between neighbouring pixels, both directions.
        x0, y0 : float
            Position of the first pixel.
        """
        if int(nx) < 1 or int(ny) < 1:
            raise RamancamError(f"grid shape must be at least 1 x 1; got {nx} x {ny}.")
        iy, ix = np.divmod(np.arange(int(nx) * int(ny)), int(nx))
        return cls(int(nx), int(ny), float(x0), float(y0), float(step), float(step),
                   ix.astype(np.intp), iy.astype(np.intp))

    # ------------------------------------------------------------------ derived
    @property
    def shape(self) -> tuple[int, int]:
        """Image shape ``(ny, nx)``."""
        return (self.ny, self.nx)

    @property
    def n_spectra(self) -> int:
        """Number of spectra placed on the grid."""
        return int(self.ix.size)

    @property
    def n_pixels(self) -> int:
        """Number of grid cells, ``nx * ny``."""
        return self.nx * self.ny

    @property
    def filled(self) -> NDArray[np.bool_]:
        """Boolean image of shape ``(ny, nx)``: True where a spectrum lies."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.iy, self.ix] = True
        return out

    @property
    def n_missing(self) -> int:
        """Grid cells without a spectrum."""
        return self.n_pixels - int(self.filled.sum())

    def extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` for ``imshow(..., origin="lower")``: pixel edges
        in file units (line scans: distance along the line, rows from -0.5 to 0.5)."""
        sx = self.step_x if math.isfinite(self.step_x) else 1.0
        sy = self.step_y if math.isfinite(self.step_y) else 1.0
        if self.kind == "line":
            return (-sx / 2, (self.nx - 0.5) * sx, -0.5, 0.5)
        return (self.x0 - sx / 2, self.x0 + (self.nx - 0.5) * sx,
                self.y0 - sy / 2, self.y0 + (self.ny - 0.5) * sy)

    def to_image(self, values: ArrayLike, fill: Any = np.nan) -> NDArray[Any]:
        """Scatter per-spectrum values into an image.

        Parameters
        ----------
        values : array-like of shape (n_spectra,) or (n_spectra, k)
            One value (or one row of ``k`` values) per spectrum, in input order.
        fill : scalar
            Value of the cells without a spectrum (NaN by default; use -1 for class indices).

        Returns
        -------
        ndarray of shape (ny, nx) or (ny, nx, k)
        """
        v = np.asarray(values)
        if v.shape[:1] != (self.n_spectra,):
            raise RamancamError(
                f"values must have one entry per spectrum ({self.n_spectra}); got shape "
                f"{v.shape}.")
        if isinstance(fill, float) and math.isnan(fill):
            dtype = v.dtype if v.dtype.kind == "f" else np.dtype(np.float64)
        else:
            dtype = np.result_type(v, np.asarray(fill))
        out = np.full(self.shape + v.shape[1:], fill, dtype=dtype)
        out[self.iy, self.ix] = v
        return out

    def coordinates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The x of every column and the y of every row (``x0 + step * index``; a single
        column or row, whose step is NaN, steps by 1)."""
        sx = self.step_x if math.isfinite(self.step_x) else 1.0
        sy = self.step_y if math.isfinite(self.step_y) else 1.0
        return (self.x0 + sx * np.arange(self.nx, dtype=np.float64),
                self.y0 + sy * np.arange(self.ny, dtype=np.float64))

    def describe(self) -> dict[str, Any]:
        """JSON-friendly summary: kind, nx, ny, step_x, step_y, missing, n_spectra, x0, y0."""
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {"kind": self.kind, "nx": self.nx, "ny": self.ny, "step_x": num(self.step_x),
                "step_y": num(self.step_y), "missing": self.n_missing,
                "n_spectra": self.n_spectra, "x0": self.x0, "y0": self.y0}

    def text(self) -> str:
        """One line for humans, e.g. ``35 x 25 pixels, step 1 x 1, 0 missing``."""
        if self.kind == "line":
            return (f"line scan of {self.nx} pixels, step {self.step_x:.4g} along the line "
                    f"(direction {self.direction[0]:.3f}, {self.direction[1]:.3f}), "
                    f"{self.n_missing} missing")
        sx = f"{self.step_x:.4g}" if math.isfinite(self.step_x) else "-"
        sy = f"{self.step_y:.4g}" if math.isfinite(self.step_y) else "-"
        return f"{self.nx} x {self.ny} pixels, step {sx} x {sy}, {self.n_missing} missing"


# ---------------------------------------------------------------------- inference
def _axis_step(v: NDArray[np.float64]) -> float:
    """Step along one axis (nan when all values are equal)."""
    s = np.sort(v)
    gaps = np.diff(s)
    if gaps.size == 0 or gaps.max() <= 0:
        return math.nan
    # split the sorted values into columns at the big gaps; the step is the median distance
    # between neighbouring column centres (gap sizes alone would shrink by the jitter)
    # a gap between columns: at least half the typical one among the gaps not plainly jitter
    # (1/8 of the largest alone split a column whose few pixels jitter by 0.1 step)
    typical = float(np.median(gaps[gaps >= _JITTER_FRACTION * gaps.max()]))
    starts = np.concatenate([[0], np.flatnonzero(gaps >= 0.5 * typical) + 1])
    centres = np.add.reduceat(s, starts) / np.diff(np.append(starts, s.size))
    return float(np.median(np.diff(centres)))


def _snap(v: NDArray[np.float64], step: float, tol: float, name: str,
          who: Callable[[int], str] = str
          ) -> tuple[NDArray[np.intp], float, float]:
    """Pixel index of every value on a raster of ``step``; returns (index, origin, step)."""
    rel = (v - v.min()) / step
    idx = np.rint(rel)
    # the origin that centres the residuals (jitter of the smallest value must not shift it)
    origin = float(v.min() + step * np.median(rel - idx))
    idx = np.rint((v - origin) / step)
    exact = np.abs(v - (origin + idx * step)).max() <= 1e-9 * abs(step)
    if exact:  # 12 significant digits: 0.3, not the 0.29999999999999893 of a difference;
        # the origin to a billionth of a step first (0, not the -1.15e-15 of 0.1 * i)
        step = float(f"{step:.12g}")
        r = origin / step  # a whole number of steps (0, 7.0 at 0.35): exactly that
        origin = (float(f"{round(r) * step:.12g}") if abs(r - round(r)) <= 1e-9
                  else float(f"{origin:.12g}")) + 0.0
    if idx.max() > idx.min() and not exact:  # refine the step by least squares (drift over
        # a long axis); positions already on the raster keep it exactly (a least-squares
        # fit gives 0.9999999999999981 for 1, differently for each row order)
        step = float(np.polyfit(idx, v, 1)[0])
        origin = float(np.mean(v - idx * step))
        idx = np.rint((v - origin) / step)
    off = np.abs((v - origin) / step - idx)
    if off.max() > tol:
        i = int(off.argmax())
        said = (f"pixel positions must lie on a regular grid (within {tol:g} of a step); got "
                f"{name} = {v[i]:g} for spectrum {who(i)}, {off[i]:.2f} steps off the grid "
                f"of step {step:.4g}. Check the {name} column")
        raise RamancamError(said + ", or pass a larger tol.",
                            cli=said + " (fix that position in the file). Images and "
                                "--spatial-folds need pixels on one regular step; to "
                                "classify the spectra without them, rename the x/y columns "
                                "(e.g. to stage_x, stage_y: x and y in any case are read as "
                                "positions).")
    shift = idx.min()
    return (idx - shift).astype(np.intp), origin + shift * step, step


def infer_grid(x: ArrayLike, y: ArrayLike | None = None, *, tol: float = TOL,
               step: float | tuple[float, float] | None = None,
               ids: Sequence[str] | None = None) -> MapGrid:
    """Infer the pixel grid of a map or line scan from its positions.

    Parameters
    ----------
    x, y : array-like of shape (n_spectra,)
        Stage positions (finite floats, any units; ``y=None`` for a line along x).
    tol : float
        Largest allowed distance of a position from its grid line, as a fraction of the step
        (0 < tol < 0.5; default 0.25).
    step : float or (float, float), optional
        The step along x and y when known (one number for both), instead of inferring it:
        needed for a map of separate regions more than 8 steps apart, whose gap would
        otherwise look like the step.
    ids : sequence of str, optional
        Each spectrum's id, to name a misplaced spectrum in errors (default: its 0-based
        index).

    Returns
    -------
    MapGrid

    Raises
    ------
    RamancamError
        Empty or non-finite positions, a bad ``tol``, positions that are not a raster, two
        spectra on one pixel, or a grid far larger than the number of spectra.
    """
    if not 0 < tol < 0.5:
        raise RamancamError(f"tol must be in (0, 0.5) steps; got {tol!r}.")

    def who(i: int) -> str:
        return str(i) if ids is None else str(ids[i])

    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.zeros_like(xs) if y is None else np.asarray(y, dtype=np.float64).ravel()
    if xs.size == 0:
        raise RamancamError("positions must hold at least one spectrum; got none.")
    if xs.shape != ys.shape:
        raise RamancamError(f"x and y must have one value per spectrum; got {xs.size} x "
                            f"values and {ys.size} y values.")
    for name, v in (("x", xs), ("y", ys)):
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RamancamError(f"position {name} must be finite; got {v[i]} for spectrum "
                                f"{who(i)}. Fix or drop that spectrum.")
    n = xs.size
    given = None if step is None else (
        # casts, not an ignore: numpy 2.5's np.isscalar narrows step, 2.4's does not, and
        # warn_unused_ignores would flag an ignore under one of them
        (float(cast(float, step)), float(cast(float, step))) if np.isscalar(step)
        else tuple(map(float, cast("tuple[float, float]", step))))
    if given is not None and (len(given) != 2 or not all(v > 0 for v in given)):
        raise RamancamError(f"step must be positive (one number, or x and y); got {step!r}.")
    line = _as_line(xs, ys, tol, who) if given is None else None
    if line is not None:
        grid = line
    else:
        sx, sy = given if given is not None else (_axis_step(xs), _axis_step(ys))
        # An axis whose whole spread is jitter on the scale of the other axis is constant.
        if math.isfinite(sx) and math.isfinite(sy):
            if np.ptp(xs) < tol * sy:
                sx = math.nan
            elif np.ptp(ys) < tol * sx:
                sy = math.nan
        if math.isfinite(sx):
            ix, x0, sx = _snap(xs, sx, tol, "x", who)
        else:
            ix, x0 = np.zeros(n, dtype=np.intp), float(np.median(xs))
        if math.isfinite(sy):
            iy, y0, sy = _snap(ys, sy, tol, "y", who)
        else:
            iy, y0 = np.zeros(n, dtype=np.intp), float(np.median(ys))
        nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
        _check_size(nx, ny, n)
        grid = MapGrid(nx, ny, x0, y0, sx, sy, ix, iy)
    _check_unique(grid, xs, ys, who)
    return grid


def _as_line(xs: NDArray[np.float64], ys: NDArray[np.float64], tol: float,
             who: Callable[[int], str]) -> MapGrid | None:
    """A line-scan grid when all positions lie on one straight line and are not a
    single axis-aligned row that the map rules handle equally well; else None."""
    n = xs.size
    if n < 2:
        return None
    P = np.column_stack([xs, ys])
    c = P.mean(axis=0)
    _, _, vt = np.linalg.svd(P - c, full_matrices=False)
    u = vt[0]
    if abs(u[0]) < 1e-12 and abs(u[1]) < 1e-12:
        return None
    # orient the line along its main direction (+x, or +y when steeper than 45 degrees)
    if u[int(abs(u[1]) > abs(u[0]))] < 0:
        u = -u
    t = (P - c) @ u
    perp = (P - c) @ np.array([-u[1], u[0]])
    step = _axis_step(t)
    if not math.isfinite(step) or np.abs(perp).max() > tol * step:
        return None
    if abs(u[1]) < 1e-9 or abs(u[0]) < 1e-9:
        return None  # axis-aligned: a one-row (or one-column) map keeps the real x/y
    it, t0, step = _snap(t, step, tol, "distance along the line", who)
    nx = int(it.max()) + 1
    _check_size(nx, 1, n)
    start = c + t0 * u
    return MapGrid(nx, 1, float(start[0]), float(start[1]), step, math.nan, it,
                   np.zeros(n, dtype=np.intp), kind="line",
                   direction=(float(u[0]), float(u[1])))


def _check_size(nx: int, ny: int, n: int) -> None:
    if nx * ny > _MAX_CELLS_PER_SPECTRUM * n + 100:
        raise RamancamError(
            f"pixel positions must form a raster; got {n} spectra spread over a {nx} x {ny} "
            "grid, mostly empty. Check the x/y columns (--xy-cols) or that the file is a map.")


def _check_unique(grid: MapGrid, xs: NDArray[np.float64], ys: NDArray[np.float64],
                  who: Callable[[int], str]) -> None:
    flat = grid.iy.astype(np.int64) * grid.nx + grid.ix
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(np.diff(flat[order]) == 0)
    if dup.size:
        i, j = int(order[dup[0]]), int(order[dup[0] + 1])
        what = (f"each pixel must hold one spectrum; got spectra {who(i)} and {who(j)} on the "
                f"same pixel (x={xs[i]:g}, y={ys[i]:g} and x={xs[j]:g}, y={ys[j]:g}). Average "
                "or drop repeated acquisitions first")
        raise RamancamError(what + " (or, for separate regions far apart, give step=).",
                            cli=what + ".")


# ---------------------------------------------------------------------- Spectra helpers
def has_positions(spectra: Any) -> bool:
    """True when ``spectra.meta`` holds float columns ``x`` and ``y``."""
    meta = getattr(spectra, "meta", {})
    return all(k in meta and np.asarray(meta[k]).dtype.kind == "f" for k in ("x", "y"))


def grid_of(spectra: Any, *, tol: float = TOL) -> MapGrid:
    """The grid of a :class:`~ramancam.Spectra` with positions (see :func:`infer_grid`).

    Raises
    ------
    RamancamError
        If the spectra have no ``x``/``y`` positions, or they do not form a grid.
    """
    if not has_positions(spectra):
        raise RamancamError(
            "spectra must carry pixel positions (float metadata columns x and y) to form a "
            f"map; got columns {sorted(getattr(spectra, 'meta', {}))}. Read a map file, or "
            "name the position columns with --xy-cols X,Y.")
    return infer_grid(spectra.meta["x"], spectra.meta["y"], tol=tol,
                      ids=getattr(spectra, "ids", None))


def parse_xy_cols(text: str) -> tuple[str, str]:
    """``"X,Y"`` -> ``("X", "Y")`` (the ``--xy-cols`` option)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise RamancamError(
            f"--xy-cols must name two columns separated by a comma, e.g. xpos,ypos; got "
            f"{text!r}.")
    return parts[0], parts[1]


def with_positions(spectra: Any, x_col: str, y_col: str) -> Any:
    """The spectra with metadata columns ``x_col``/``y_col`` as float positions ``x``/``y``.

    Parameters
    ----------
    spectra : Spectra
    x_col, y_col : str
        Metadata columns holding the positions (numbers as text are converted).

    Returns
    -------
    Spectra
        A new object whose ``meta["x"]``, ``meta["y"]`` are float64 (the source columns are
        renamed, not duplicated).

    Raises
    ------
    RamancamError
        A column missing, or a value that is not a finite number.
    """
    meta = dict(spectra.meta)
    vals = {}
    for name, col in (("x", x_col), ("y", y_col)):
        if col not in meta:
            raise RamancamError(
                f"position column {col!r} must be a metadata column; got columns "
                f"{sorted(meta)}. Check --xy-cols.")
        raw = np.asarray(meta[col])
        try:
            v = raw.astype(np.float64)
        except (TypeError, ValueError):
            bad = next(s for s in raw.tolist() if not _is_float(s))
            raise RamancamError(
                f"position column {col!r} must hold numbers; got {str(bad)!r}. Fix that "
                "value or choose another column with --xy-cols.") from None
        if not np.isfinite(v).all():
            i = int(np.flatnonzero(~np.isfinite(v))[0])
            raise RamancamError(
                f"position column {col!r} must hold finite numbers; got {raw[i]!r} for "
                f"spectrum {spectra.ids[i]}. Fix or drop that spectrum.")
        vals[name] = v
    for col in (x_col, y_col):
        meta.pop(col, None)
    for name in ("x", "y"):
        if name in meta and name not in (x_col, y_col):
            meta[f"{name}_orig"] = meta.pop(name)
    meta.update(vals)
    return spectra.replace(meta=meta)


def _is_float(s: Any) -> bool:
    try:
        float(s)
    except (TypeError, ValueError):
        return False
    return True
