"""Measurement checks on raw spectra: flat spectra and saturated (clipped) detectors.

A spectrum with one value throughout carries no band (a dead pixel, a closed shutter); a
normalising recipe refuses it. A spectrum whose maximum is held over several points was
clipped by its detector: the band there has lost its shape and height, and a classifier may
learn the artefact. ``ramancam info`` names both; ``ramancam predict`` notes clipped spectra
inside the model's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .spectra import Spectra

__all__ = ["DETECTOR_LIMITS", "Clipped", "clipped_spectra", "flat_spectra", "true_runs"]

#: Counts an analogue-to-digital converter of 12 to 32 bits cannot exceed -> its bits.
DETECTOR_LIMITS = {2 ** k - 1: k for k in (12, 14, 15, 16, 18, 20, 24, 32)}


@dataclass(frozen=True)
class Clipped:
    """One clipped spectrum: its index, the value it is held at, how many points hold it,
    and the Raman-shift range of those points (cm-1)."""

    index: int
    value: float
    n_points: int
    lo: float
    hi: float


def true_runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start and end (exclusive) indices of each run of True in a 1-D mask."""
    edges = np.diff(np.r_[0, np.asarray(mask).astype(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def flat_spectra(spectra: Spectra, within: tuple[float, float] | None = None) -> list[int]:
    """Indices of the spectra with one value throughout (``within``: throughout that
    Raman-shift range, e.g. a recipe's grid; one with no point there is not counted: it is
    the resampling's error)."""
    out = []
    for i, (w, y) in enumerate(zip(spectra.axes, spectra.intensities, strict=True)):
        y = np.asarray(y)
        if within is not None:
            w = np.asarray(w, dtype=np.float64)
            y = y[(w >= within[0]) & (w <= within[1])]
        if y.size and float(np.min(y)) == float(np.max(y)):
            out.append(i)
    return out


def clipped_spectra(spectra: Spectra, within: tuple[float, float] | None = None
                    ) -> list[Clipped]:
    """The spectra whose maximum is held over several points: at a detector's limit
    (:data:`DETECTOR_LIMITS`) in 2 or more points, or at any value in 3 or more in a row.

    Parameters
    ----------
    spectra : Spectra
        As read (before any preprocessing).
    within : (lo, hi), optional
        Only points inside this Raman-shift range count (e.g. a model's grid), and the
        maximum is the largest value there.
    """
    out = []
    for i, (w, y) in enumerate(zip(spectra.axes, spectra.intensities, strict=True)):
        w = np.asarray(w, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if within is not None:
            keep = (w >= within[0]) & (w <= within[1])
            w, y = w[keep], y[keep]
        if y.size < 2:
            continue
        top = float(y.max())
        if float(y.min()) == top:
            continue  # flat: flat_spectra's case
        at = y == top
        starts, ends = true_runs(at)
        run = int((ends - starts).max())
        if (top in DETECTOR_LIMITS and at.sum() >= 2) or run >= 3:
            out.append(Clipped(i, top, int(at.sum()), float(w[at].min()), float(w[at].max())))
    return out
