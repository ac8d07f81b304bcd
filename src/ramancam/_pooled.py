"""Where the pooled maps of the paper (Grad-CAM, FC-importance) lie on the input grid, and
their interpolation onto it (:mod:`ramancam.explain` re-exports both functions)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["pooled_centres", "to_input_grid"]


def _centre_offset(n_blocks: int, filter_size: int | None) -> float:
    """Input coordinate of pooled position 0 (see :func:`pooled_centres`)."""
    k = 1 if filter_size is None else int(filter_size)
    shift = (k - 1) / 2 - (k - 1) // 2  # "same" padding puts the extra zero on the right
    return (2.0 ** n_blocks - 1.0) * (0.5 + shift)


def pooled_centres(n_pooled: int, n_blocks: int, filter_size: int | None = None
                   ) -> NDArray[np.float64]:
    """Input-grid coordinate (fractional point index) of each pooled position: the centre of
    its receptive field.

    Each size-2, stride-2 pool level maps pooled position ``x`` to the centre of its window,
    ``2 x + 0.5``; a convolution with an even ``filter_size`` adds half a point at its own
    level, since its "same" padding (:class:`ramancam.model.SamePad1d`) puts the extra zero
    on the right. Over ``n_blocks`` blocks the centre is ``2**n_blocks * x + (2**n_blocks -
    1) * (0.5 + h)`` with ``h`` 0.5 for an even and 0 for an odd filter size: ``4 x + 3``
    for the default network (two blocks, size 8), ``4 x + 1.5`` for odd sizes. (Before
    2026-12-06 ``4 x + 1.5`` was used for every size, which put the maps of even sizes 1.5
    points too low.)

    Parameters
    ----------
    n_pooled : int
        Length of the last pooling layer's output.
    n_blocks : int
        Number of pooling levels.
    filter_size : int, optional
        The convolutions' kernel size (``None``: an odd one).

    Returns
    -------
    ndarray of shape (n_pooled,)
    """
    scale = 2.0 ** n_blocks
    return scale * np.arange(n_pooled, dtype=np.float64) + _centre_offset(n_blocks, filter_size)


def to_input_grid(maps: NDArray[Any], n_points: int, n_blocks: int,
                  filter_size: int | None = None) -> NDArray[Any]:
    """Linear interpolation of pooled-resolution maps onto the input grid (METHOD.md 3).

    Pooled position ``x`` sits at the centre of its receptive field (:func:`pooled_centres`,
    ``4 x + 3`` for the default network). Input points before the first or after the last
    centre take the end value, as :func:`numpy.interp` does (the ends are clamped, never
    extrapolated). The result equals ``np.interp`` applied row by row, done as one vectorised
    gather.

    Parameters
    ----------
    maps : ndarray of shape (..., n_pooled)
    n_points : int
        Input length.
    n_blocks : int
        Number of pooling levels between input and maps.
    filter_size : int, optional
        The convolutions' kernel size (``None``: an odd one).

    Returns
    -------
    ndarray of shape (..., n_points)
        Same dtype as ``maps``.
    """
    n_pooled = maps.shape[-1]
    if n_pooled == 1:
        return np.repeat(maps, n_points, axis=-1)
    scale = 2.0 ** n_blocks
    t = (np.arange(n_points, dtype=np.float64) - _centre_offset(n_blocks, filter_size)) / scale
    j0 = np.clip(np.floor(t).astype(np.int64), 0, n_pooled - 2)
    w = np.clip(t - j0, 0.0, 1.0).astype(maps.dtype)
    out: NDArray[Any] = maps[..., j0] * (1 - w) + maps[..., j0 + 1] * w
    return out
