"""Precomputed resampling operators for many spectra on one axis (every pixel of a map).

Cubic-spline resampling from a fixed axis onto a fixed grid is linear in the intensities:
``out = M @ y`` with ``M`` of shape (n_grid, n_in). :func:`spline_operator` builds ``M`` once
per (axis, grid) pair by resampling the identity with the same spline code as
:func:`ramancam.preprocess.resample` (:func:`scipy.interpolate.make_interp_spline`, cubic,
not-a-knot), drops the entries below ``1e-15`` of their row's largest (a cubic spline's
influence decays about 3.7x per knot, so each row keeps a band of a few dozen points) and
stores it as a sparse matrix; after that, resampling a batch is one sparse product.

:func:`operator_for` is what the resampling step asks: batches of at least
:func:`min_batch` spectra on one axis (a map's tile, a file's chunk) get the operator, which
is built once per (axis, grid) pair and cached; smaller batches (a few spectra on their own
axis, e.g. a folder of files) keep the direct spline, where building the operator would cost
more than it saves. The path depends only on the batch's size, so the same input always
gives the same bits; a recipe that works through a large set in blocks asks with the whole
set's size for every block. :func:`batching` turns the operator off (benchmarks, tests).

The result equals the direct spline to rounding (about 1e-13 of the data's scale; tested).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BLOCK_ROWS", "DROP", "MIN_SPECTRA", "apply_operator", "batching", "min_batch",
           "operator_for", "spline_operator"]

Array = NDArray[np.float64]

#: Entries of an operator row below this share of the row's largest entry are dropped.
DROP = 1e-15
#: Batches of at least ``max(MIN_SPECTRA, 2 * n_in)`` spectra (``n_in`` points on the input
#: axis) are resampled with the operator: building it resamples the n_in columns of the
#: identity and densely evaluates them, a few times the cost of resampling n_in spectra, so
#: it pays from the first large batch on (a map's 64 x 64 tile) and a one-off batch of a few
#: hundred spectra never builds one.
MIN_SPECTRA = 256


def min_batch(n_in: int) -> int:
    """The smallest batch resampled with the operator for an axis of ``n_in`` points."""
    return max(MIN_SPECTRA, 2 * int(n_in))

_lock = threading.Lock()
_state = {"enabled": True}


@lru_cache(maxsize=16)
def _operator(xs: bytes, grid: bytes, k: int) -> Any:
    from scipy.interpolate import make_interp_spline  # here, as steps.py imports it
    from scipy.sparse import csr_matrix

    x = np.frombuffer(xs, dtype=np.float64)
    g = np.frombuffer(grid, dtype=np.float64)
    spline = make_interp_spline(x, np.eye(x.size), k=k, check_finite=False)
    M = np.asarray(spline(np.clip(g, x[0], x[-1])), dtype=np.float64)   # (n_grid, n_in)
    M[np.abs(M) < DROP * np.abs(M).max(axis=1, keepdims=True)] = 0.0
    op = csr_matrix(M)
    op.sort_indices()
    return op


def spline_operator(xs: Array, grid: Array, k: int = 3) -> Any:
    """The sparse matrix of spline resampling from the ascending axis ``xs`` onto ``grid``.

    Parameters
    ----------
    xs : ndarray of shape (n_in,)
        Strictly ascending input axis.
    grid : ndarray of shape (n_grid,)
        Output points; points outside ``[xs[0], xs[-1]]`` take the end values (clipped), as
        in :func:`ramancam.preprocess.resample`.
    k : int
        Spline degree (3: cubic, not-a-knot; fewer points force a lower degree).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_grid, n_in)
        Cached per (xs, grid, k) (16 pairs).
    """
    return _operator(np.ascontiguousarray(xs, dtype=np.float64).tobytes(),
                     np.ascontiguousarray(grid, dtype=np.float64).tobytes(), int(k))


#: Rows of a batch that :func:`apply_operator` puts through one sparse product: the
#: transposed copies the product needs are this many rows, not the whole batch's.
BLOCK_ROWS = 4096


def apply_operator(op: Any, X: Array) -> Array:
    """Resample the rows of ``X`` (n_spectra, n_in) with ``op``: (n_spectra, n_grid), float64.

    Works through :data:`BLOCK_ROWS` rows at a time into one output array; each output
    value is the same sum in the same order whatever the block, so the bits do not depend
    on it."""
    n = X.shape[0]
    out = np.empty((n, op.shape[0]), dtype=np.float64)
    for b0 in range(0, n, BLOCK_ROWS):
        part = X[b0:b0 + BLOCK_ROWS]
        out[b0:b0 + part.shape[0]] = (op @ np.ascontiguousarray(part.T, dtype=np.float64)).T
    return out


def operator_for(xs: Array, grid: Array, k: int, n_spectra: int) -> Any | None:
    """The operator for a batch of ``n_spectra`` on ``xs``, or None for the direct spline.

    Batches of at least :func:`min_batch` spectra use the operator (built once per
    (xs, grid, k), then cached), smaller ones the direct spline: which path a batch takes
    depends only on its size and axis, never on what ran before. Returns None while batching
    is off (:func:`batching`).
    """
    if not _state["enabled"] or n_spectra < min_batch(xs.size):
        return None
    return spline_operator(xs, grid, k)


@contextmanager
def batching(enabled: bool) -> Iterator[None]:
    """Turn the precomputed operators on or off inside a ``with`` block (process-wide)."""
    with _lock:
        before = _state["enabled"]
        _state["enabled"] = bool(enabled)
    try:
        yield
    finally:
        with _lock:
            _state["enabled"] = before
