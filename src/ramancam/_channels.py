"""The one rule for "this x axis is channel numbers, not Raman shifts", shared by the plots'
labels, train's note and ``ramancam info``'s units."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["is_channel_axis", "is_channel_grid", "numbered_in_ones"]


def numbered_in_ones(axis: ArrayLike) -> bool:
    """Whether ``axis`` may be channel numbers: at least 3 points from 0 or 1 in steps of 1.
    The hedged rule of train's note ("looks like channel numbers",
    :func:`ramancam.checks.channel_axis_note`); labels and units take the stricter
    :func:`is_channel_axis`."""
    a = np.asarray(axis, dtype=np.float64)
    return bool(a.ndim == 1 and a.size >= 3 and a[0] in (0.0, 1.0)
                and np.allclose(np.diff(a), 1.0))


def is_channel_axis(axis: ArrayLike) -> bool:
    """Whether ``axis`` is channel numbers rather than Raman shifts in cm-1, judged on its
    numbers alone (a unit the file states wins over this rule: see
    :func:`ramancam.io.summary.describe`): at least 3 points in steps of 1, either

    - from 0 (0, 1, ..., n-1, as ``ramancam simulate`` writes, paper Eq. 10), any length: a
      measured Raman axis never starts at exactly 0 cm-1 in steps of 1 (the laser line and
      its filter sit there); or
    - from 1 with a detector's number of channels, a power of two of 64 or more (1..512,
      1..1024, 1..2048, as MATLAB, R and spreadsheets number them). Raman shifts resampled
      from 1 cm-1 (``--grid 1:2000:1``) are no detector's width and stay cm-1; 1..1024
      cm-1 stated in no unit reads as channels.
    """
    a = np.asarray(axis, dtype=np.float64)
    if not numbered_in_ones(a):
        return False
    n = a.size
    return bool(a[0] == 0.0 or (n >= 64 and n & (n - 1) == 0))


def is_channel_grid(grid: ArrayLike, settings: dict[str, Any],
                    axis_range: Any = None) -> bool:
    """Whether a model's grid is channel numbers: a grid given by ``--grid START:STOP:STEP``
    (``settings["grid_option"]``) names Raman shifts, channels only where the training data
    (``axis_range``, their ``[min, max]``) were channels too; the data's own axis (no
    ``--grid``, or ``--grid full``) by :func:`is_channel_axis`."""
    if not is_channel_axis(grid):
        return False
    option = settings.get("grid_option")
    if not option or str(option).startswith("full"):
        return True
    rng = list(axis_range or [])
    return len(rng) == 2 and is_channel_axis(np.arange(float(rng[0]), float(rng[1]) + 1))
