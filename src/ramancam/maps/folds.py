"""Spatially blocked cross validation for labelled maps.

Neighbouring pixels of a Raman map are nearly the same spectrum (the laser spot, the
sample's structure and often smoothing overlap them), so a random K-fold split puts the
twin of almost every test pixel in the training part and reports the accuracy of
recognising a neighbour, not of classifying new tissue. :class:`SpatialBlockKFold` splits
the map into square blocks of ``block_size x block_size`` pixels, assigns whole blocks to
the K folds (balancing the classes with scikit-learn's ``StratifiedGroupKFold``, or the
sizes with ``GroupKFold`` when no labels are given), and drops from each training part
every pixel within ``buffer`` pixels (Chebyshev distance: the ring of 8 neighbours for
``buffer=1``) of any test pixel. This is the blocked, buffered cross validation of Roberts
et al., Ecography 40 (2017) 913.

**Block size.** By default ``block_size = max(2, round(sqrt(n / (4 K))))`` pixels for a map
of ``n`` labelled pixels (``max(2, round(n / (4 K)))`` along a line scan): about four
blocks per fold, so that every fold can hold several regions and the classes can be
balanced, while a block stays much larger than the buffer. For the 35 x 25 chondro map and
K = 5 that is 7 x 7 pixels (7 um), 20 blocks; choose it larger than the distance over which
spectra stay alike when that is known.

The positions go to :meth:`SpatialBlockKFold.split` as ``groups`` (an array of shape
``(n_samples, 2)`` of x, y), so the splitter works inside scikit-learn's ``cross_validate``
and ``GridSearchCV`` with ``groups=xy``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.model_selection import BaseCrossValidator

from ..errors import RamancamError
from ..inner import every_fold_tested
from .grid import MapGrid, grid_of, infer_grid

__all__ = ["SpatialBlockKFold", "block_ids", "default_block_size", "spatial_splits"]


def default_block_size(n_pixels: int, n_splits: int, *, line: bool = False) -> int:
    """The default block side in pixels (see the module docstring)."""
    per_block = n_pixels / (4 * n_splits)
    side = per_block if line else math.sqrt(per_block)
    return max(2, round(side))


def block_ids(grid: MapGrid, block_size: int) -> NDArray[np.int64]:
    """Block number of every spectrum: ``(iy // b) * n_block_columns + ix // b``."""
    b = int(block_size)
    ncols = -(-grid.nx // b)
    return (grid.iy // b).astype(np.int64) * ncols + (grid.ix // b)


class SpatialBlockKFold(BaseCrossValidator):
    """K-fold cross validation over blocks of neighbouring pixels, with a buffer.

    Parameters
    ----------
    n_splits : int
        Number of folds K (>= 2).
    block_size : int, optional
        Block side in pixels (default: :func:`default_block_size`).
    buffer : int
        Training parts leave out every pixel within this many pixels of a test pixel
        (Chebyshev distance; 0 keeps them). Default 1.
    shuffle : bool
        Shuffle the blocks before assigning them to folds.
    random_state : int or None
        Seed of the shuffling.
    tol : float
        Jitter tolerance of the grid (see :func:`ramancam.maps.infer_grid`).

    Notes
    -----
    ``split(X, y=None, groups=xy)``: ``groups`` must hold the pixel positions, an array of
    shape (n_samples, 2) with columns x, y. With ``y`` the classes are balanced across folds
    (``StratifiedGroupKFold``), without it the fold sizes (``GroupKFold``). Every sample is
    tested exactly once.
    """

    def __init__(self, n_splits: int = 5, *, block_size: int | None = None, buffer: int = 1,
                 shuffle: bool = True, random_state: int | None = None,
                 tol: float = 0.25) -> None:
        self.n_splits = n_splits
        self.block_size = block_size
        self.buffer = buffer
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return int(self.n_splits)

    def _iter_test_indices(self, X: Any = None, y: Any = None, groups: Any = None
                           ) -> Iterator[NDArray[np.intp]]:  # pragma: no cover
        raise NotImplementedError  # split is overridden

    def _check(self) -> None:
        k = self.n_splits
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
            raise RamancamError(f"spatial folds must be an integer >= 2; got {k!r}.")
        b = self.block_size
        if b is not None and (not isinstance(b, (int, np.integer)) or b < 1):
            raise RamancamError(f"spatial block size must be a positive integer (pixels); "
                                f"got {b!r}.")
        if not isinstance(self.buffer, (int, np.integer)) or self.buffer < 0:
            raise RamancamError(f"spatial buffer must be an integer >= 0 (pixels); got "
                                f"{self.buffer!r}.")

    def split(self, X: Any, y: ArrayLike | None = None, groups: ArrayLike | None = None
              ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        """Yield ``(train_idx, test_idx)`` for each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Only its length is used.
        y : array-like of shape (n_samples,), optional
            Class labels (balanced across folds when given).
        groups : array-like of shape (n_samples, 2)
            Pixel positions x, y.
        """
        self._check()
        if groups is None:
            raise RamancamError(
                "groups must hold the pixel positions (an array of shape (n_samples, 2) of "
                "x, y) for SpatialBlockKFold; got None. Pass groups=xy.")
        xy = np.asarray(groups, dtype=np.float64)
        n = len(X)
        if xy.ndim != 2 or xy.shape != (n, 2):
            raise RamancamError(
                f"groups must be pixel positions of shape (n_samples, 2) = ({n}, 2); got "
                f"shape {xy.shape}.")
        grid = infer_grid(xy[:, 0], xy[:, 1], tol=self.tol)
        yield from self._split_grid(grid, y)

    def _block_side(self, grid: MapGrid) -> int:
        """The block side in pixels: ``block_size``, else :func:`default_block_size`."""
        return self.block_size or default_block_size(grid.n_spectra, int(self.n_splits),
                                                     line=grid.ny == 1)

    def _split_grid(self, grid: MapGrid, y: ArrayLike | None
                    ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        from scipy.ndimage import binary_dilation
        from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

        k = int(self.n_splits)
        n = grid.n_spectra
        b = self._block_side(grid)
        blocks = block_ids(grid, b)
        n_blocks = np.unique(blocks).size
        if n_blocks < k:
            raise RamancamError(
                f"spatial folds must not outnumber the blocks; got {k} folds but only "
                f"{n_blocks} block{'' if n_blocks == 1 else 's'} of {b} x {b} pixels in a "
                f"{grid.nx} x {grid.ny} grid. Use "
                "a smaller --spatial-block or fewer --spatial-folds.")
        dummy = np.zeros((n, 1))
        if y is not None:
            labels = np.asarray(y)
            splitter: Any = StratifiedGroupKFold(
                n_splits=k, shuffle=self.shuffle,
                random_state=self.random_state if self.shuffle else None)
            pairs = every_fold_tested(list(splitter.split(dummy, labels, blocks)), blocks, k,
                                      self.random_state if self.shuffle else None)
        else:
            splitter = GroupKFold(n_splits=k)
            pairs = splitter.split(dummy, None, blocks)
        r = int(self.buffer)
        structure = np.ones((2 * r + 1, 2 * r + 1), dtype=bool) if r else None
        for tr, te in pairs:
            tr = np.sort(tr)
            te = np.sort(te)
            if r:
                test_img = np.zeros(grid.shape, dtype=bool)
                test_img[grid.iy[te], grid.ix[te]] = True
                near = binary_dilation(test_img, structure=structure)
                tr = tr[~near[grid.iy[tr], grid.ix[tr]]]
            if tr.size == 0:
                raise RamancamError(
                    f"every training part must keep some pixels; got none after a buffer of "
                    f"{r} pixels around {te.size} test pixels"
                    + (f" (the buffer spans the whole {grid.nx} x {grid.ny} map). Use a "
                       "smaller --spatial-buffer." if 2 * r + 1 >= max(grid.nx, grid.ny) else
                       ". Use a smaller --spatial-buffer or more --spatial-folds."))
            yield tr.astype(np.intp), te.astype(np.intp)


def spatial_splits(spectra: Any, *, n_splits: int = 5, block_size: int | None = None,
                   buffer: int = 1, random_state: int | None = 0
                   ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Spatially blocked ``(train_idx, test_idx)`` pairs for labelled spectra of a map.

    Parameters
    ----------
    spectra : Spectra
        Spectra with positions (``meta["x"]``, ``meta["y"]``); labels, when present, are
        balanced across folds.
    n_splits, block_size, buffer, random_state
        See :class:`SpatialBlockKFold`.

    Returns
    -------
    list of (ndarray, ndarray)
        Sorted train and test indices per fold; every spectrum is tested once.
    """
    grid = grid_of(spectra)
    cv = SpatialBlockKFold(n_splits, block_size=block_size, buffer=buffer,
                           random_state=random_state)
    cv._check()
    return list(cv._split_grid(grid, spectra.labels))


def spatial_groups(spectra: Any, *, n_splits: int = 5, block_size: int | None = None
                   ) -> NDArray[np.int64]:
    """The block of every spectrum that :func:`spatial_splits` assigns to folds (same
    ``n_splits`` and ``block_size``): the groups of the inner splits inside each fold's fit
    (``CNNClassifier.fit(..., groups=...)``), so that they too keep neighbours together."""
    grid = grid_of(spectra)
    cv = SpatialBlockKFold(n_splits, block_size=block_size)
    cv._check()
    return block_ids(grid, cv._block_side(grid))
