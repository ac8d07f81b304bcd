"""The one rule for "this x axis is channel numbers, not Raman shifts", shared by the plots'
labels, train's note and ``ramancam info``'s units."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["is_channel_axis"]


def is_channel_axis(axis: ArrayLike) -> bool:
    """Whether ``axis`` is channel numbers: 0, 1, ..., n-1 (as ``ramancam simulate`` writes,
    paper Eq. 10) or 1, 2, ..., n (as MATLAB, R and spreadsheets number), at least 3 of them,
    rather than Raman shifts in cm-1 (a Raman axis never starts at 0 or 1 cm-1 in steps of 1:
    the laser line and its filter sit there)."""
    a = np.asarray(axis, dtype=np.float64)
    return bool(a.ndim == 1 and a.size >= 3 and a[0] in (0.0, 1.0)
                and np.allclose(np.diff(a), 1.0))
