"""Input checks shared by the preprocessing steps (private).

How a spectrum is named in error messages, the validation of a matrix and its axis, and
the number checks every step uses. Expected failures raise
:class:`ramancam.errors.RamancamError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import RamancamError
from ..spectra import check_axis

Array = NDArray[np.float64]


# ----------------------------------------------------------------------------- helpers
def _names(n: int, sources: ArrayLike | None = None,
           index: Sequence[int] | None = None, ids: Sequence[str] | None = None
           ) -> list[str]:
    """How each spectrum is named in error messages: its file when known, and its id
    (:attr:`ramancam.Spectra.ids`; else its index) unless the id is the file's name."""
    idx = [str(i) for i in (range(n) if index is None else index)]
    names = idx if ids is None else [str(v) or k for v, k in zip(ids, idx, strict=False)]
    src = [""] * n if sources is None else [str(s) for s in np.asarray(sources).tolist()]
    if len(src) != n or len(names) != n:
        raise RamancamError(
            f"sources must have one entry per spectrum ({n}); got {len(src)}.")
    return [(f"file {s}" if ids is not None and PurePath(s).name == i
             else f"file {s} (spectrum {i})") if s else f"spectrum {i}"
            for s, i in zip(src, names, strict=True)]


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
    finite_on_axis(arr, w)
    return arr, w


def finite_on_axis(arr: Array, w: Array) -> None:
    """Refuse NaN or inf in ``arr`` (n_spectra, n_points), naming the spectrum and the Raman
    shift (the words NaN and inf are what scikit-learn's estimator checks look for)."""
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise RamancamError(
            f"X must be finite (no NaN or inf); got {arr[i, j]} in spectrum {i} at "
            f"{w[j]:g} cm-1. Remove or interpolate missing values first.")


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


#: What a baseline may leave of a spectrum, relative to its largest value as given, and still
#: count as nothing: rounding error (a flat or straight spectrum minus its own baseline).
ALL_BASELINE = 1e-7


def abs_max(X: Array) -> Array:
    """Each row's largest absolute value, ``np.abs(X).max(axis=1)`` to the bit, without the
    full-size temporary ``np.abs(X)`` (a copy of the whole set for a large array)."""
    return np.asarray(np.maximum(X.max(axis=1), -X.min(axis=1)), dtype=np.float64)


def _check_kept(before: Array, after: Array, names: list[str], method: str) -> None:
    """Refuse a spectrum that a baseline removed whole (a flat or smooth spectrum without
    bands): what is left is rounding error, which a normalisation would blow up to +-1 (the
    flat test of a normalisation sees only that residue)."""
    scale = abs_max(before)
    gone = (scale > 0) & (abs_max(after) <= ALL_BASELINE * scale)
    if gone.any():
        i = int(np.flatnonzero(gone)[0])
        raise RamancamError(
            f"{names[i]} must keep bands after {method} baseline removal; got nothing above "
            "rounding error (a flat or smooth spectrum: all of it is baseline). Remove it "
            "(a dead pixel, a blank, a detector read without light).")
