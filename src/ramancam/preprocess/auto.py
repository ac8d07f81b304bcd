"""What ``ramancam train`` does to spectra when given no preprocessing option.

* :func:`auto_grid` -- the default grid: the paper's 350-1800 cm-1 at 1 cm-1, narrowed to the
  range every spectrum covers (or, for spectra of another region, the whole range they
  share);
* :func:`full_grid` -- ``--grid full``: the whole range every spectrum covers;
* :func:`auto_recipe` -- ``--recipe auto``: the paper's recipe on that grid, or asls where
  the paper's straight baseline cannot be used.

So a notebook gets exactly the inputs that ``train`` would build::

    recipe, data, choice = auto_recipe(read("spectra.csv", label_col="label"))

The choices look at the spectra only, never at labels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import RamancamError
from ..spectra import need_spectra
from .recipe import Recipe, baseline_recipe, paper_recipe

__all__ = ["MIN_FINGERPRINT", "MIN_FINGERPRINT_SHARE", "PAPER_GRID", "auto_grid", "auto_recipe",
           "common_range", "full_grid"]

#: The paper's grid (350-1800 cm-1 at 1 cm-1); without a grid it is narrowed to the data.
PAPER_GRID = (350.0, 1800.0, 1.0)
#: Below this much of the paper's 350-1800 cm-1 shared by every spectrum (cm-1), the default
#: grid is the whole range they share instead (high-wavenumber spectra, 2600-3200 cm-1).
MIN_FINGERPRINT = 200.0
#: ... and below this share of the range they share: spectra measured at 1590-3200 cm-1 got
#: the 210 cm-1 at 1590-1800 and lost the C-H stretch, while spectra from 1610 cm-1 got the
#: whole range. The measured sets this was chosen beside hold 39-100 % of their shared
#: range inside 350-1800 cm-1 (drug-mabs 400-3999 cm-1: 39 %).
MIN_FINGERPRINT_SHARE = 0.25


def common_range(spectra: Any) -> tuple[float, float]:
    """Lowest and highest Raman shift that every spectrum of ``spectra`` covers."""
    axes = [np.asarray(spectra.wavenumbers)] if spectra.has_common_axis else [
        np.asarray(a) for a in spectra.axes]
    return (max(float(np.min(a)) for a in axes), min(float(np.max(a)) for a in axes))


def _no_overlap(lo: float, hi: float) -> RamancamError:
    """The error for spectra that share no range at all (no grid can fit them all)."""
    return RamancamError(
        f"spectra must share a range of Raman shifts; got none (one ends at {hi:g} cm-1, "
        f"another starts at {lo:g}). No grid fits them all: leave out the spectra of the "
        "other range, or train on each range separately.")


def full_grid(spectra: Any, step: float = PAPER_GRID[2]) -> tuple[float, float, float]:
    """``--grid full[:STEP]``: the whole range every spectrum covers (whole cm-1 inside), at
    ``step`` cm-1 (default the paper's 1 cm-1).

    Raises
    ------
    RamancamError
        If the spectra share less than 2 cm-1.
    """
    lo, hi = common_range(spectra)
    start, stop = float(math.ceil(lo)), float(math.floor(hi))
    if not hi > lo:
        raise _no_overlap(lo, hi)
    if not stop - start >= 2.0:
        raise RamancamError(
            f"spectra must share at least 2 cm-1 for --grid full; got a common range of "
            f"{lo:g}-{hi:g} cm-1. Give --grid START:STOP:STEP.")
    return start, stop, float(step)


def auto_grid(spectra: Any) -> tuple[float, float, float]:
    """The paper's grid narrowed to the range every spectrum covers (whole cm-1 inside); the
    whole range they cover when that leaves less than :data:`MIN_FINGERPRINT` cm-1 of it, or
    less than :data:`MIN_FINGERPRINT_SHARE` of the range they cover, but they share that
    much elsewhere (spectra of another region, such as the C-H stretch at 2600-3200 cm-1,
    or 1590-3200 cm-1). A narrow window inside 350-1800 cm-1 keeps the narrowed grid.

    Parameters
    ----------
    spectra : Spectra
        The spectra as read (common axis or one axis per spectrum).

    Returns
    -------
    (start, stop, step)
        ``PAPER_GRID`` itself when every spectrum covers 350-1800 cm-1.

    Raises
    ------
    RamancamError
        If the spectra share neither 2 cm-1 of 350-1800 cm-1 nor 200 cm-1 elsewhere (no
        Raman-shift axis, or spectra that hardly overlap).
    """
    lo, hi = common_range(spectra)
    if not hi > lo:
        raise _no_overlap(lo, hi)
    start = max(PAPER_GRID[0], float(math.ceil(lo)))
    stop = min(PAPER_GRID[1], float(math.floor(hi)))
    if stop - start >= max(MIN_FINGERPRINT, MIN_FINGERPRINT_SHARE * (hi - lo)):
        return start, stop, PAPER_GRID[2]
    if hi - lo >= MIN_FINGERPRINT:  # spectra of another region: the whole range they share
        whole = full_grid(spectra, PAPER_GRID[2])
        if whole[1] - whole[0] > max(stop - start, 0.0):
            return whole
    if stop - start >= 2.0:  # a narrow window inside 350-1800
        return start, stop, PAPER_GRID[2]
    raise RamancamError(  # e.g. a table whose header numbers are sample numbers, no shifts
        f"spectra must share a range inside {PAPER_GRID[0]:g}-{PAPER_GRID[1]:g} cm-1, or "
        f"{MIN_FINGERPRINT:g} cm-1 anywhere, for the default grid; got a common range of "
        f"{lo:g}-{hi:g} cm-1. Check that the axis is Raman shift in cm-1, or give --grid "
        "START:STOP:STEP.")


def auto_recipe(spectra: Any, grid: tuple[float, float, float] | None = None
                ) -> tuple[Recipe, Any, str]:
    """The recipe ``ramancam train`` uses when given no ``--recipe`` (``--recipe auto``).

    The paper's recipe (straight baseline through the end points, spline resampling onto
    ``grid``, normalisation to the maximum); where its straight line lies above a whole
    spectrum, as for spectra already baseline-corrected by their source, max normalisation
    finds nothing positive, and the asls baseline recipe on the same grid is used instead.
    A line above part of a spectrum keeps the paper's recipe (that part then dips below 0).

    Parameters
    ----------
    spectra : Spectra
        The spectra as read. ``train`` leaves out spectra that hold one value throughout
        the grid before this (:func:`ramancam.checks.flat_spectra`); here such a spectrum
        is an error of either recipe.
    grid : (start, stop, step), optional
        Default :func:`auto_grid` of ``spectra``.

    Returns
    -------
    recipe : Recipe
        The recipe chosen (what ``train`` saves in the model).
    data : Spectra
        ``spectra`` preprocessed by it.
    choice : str
        ``"paper"`` or ``"asls (paper baseline unusable: ...)"``, as ``train`` prints it
        after ``recipe: auto ->``.

    Raises
    ------
    RamancamError
        If neither recipe can use the spectra (the message names the spectrum).
    """
    need_spectra(spectra)
    grid = auto_grid(spectra) if grid is None else grid
    paper = paper_recipe(grid=grid)
    try:
        return paper, paper.apply(spectra), "paper"
    except RamancamError as exc:
        if "baseline probably lies above" not in str(exc):
            raise  # a flat spectrum is an error of either recipe, not a reason for asls
        why = str(exc).split(";")[0]
    asls = baseline_recipe("asls", grid=grid)
    return asls, asls.apply(spectra), f"asls (paper baseline unusable: {why})"
