"""Runs of consecutive rows: how the readers that read a file only where indexed
(:class:`ramancam.io.wdf.FileRows`, :class:`ramancam.io.longrows.LongFileRows`) cut a request
into reads."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def ascending_runs(idx: Any, n: int) -> tuple[NDArray[np.int64], list[NDArray[np.intp]]]:
    """``idx`` as int64 rows, and the positions in it of each run of consecutive rows.

    Raises
    ------
    IndexError
        If the rows are not ascending, or not within ``0 .. n - 1``.
    """
    rows = np.asarray(idx, dtype=np.int64).ravel()
    if rows.size == 0:
        return rows, []
    if (np.diff(rows) <= 0).any() or rows[0] < 0 or rows[-1] >= n:
        raise IndexError(f"rows must be ascending indices within the file's {n}")
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    return rows, np.split(np.arange(rows.size), breaks)
