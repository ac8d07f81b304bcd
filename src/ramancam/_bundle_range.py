"""The range checks of a loaded model (:class:`ramancam.bundle.Bundle`): whether prepared
spectra lie on its grid, whether raw spectra cover its range, and how spectra exported over
another range than the training spectra are anchored for the paper's end-point baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._inputs import finite_number
from .checks import MAX_SHIFT, axis_steps, looks_absolute
from .errors import RamancamError, spectra_count
from .spectra import Spectra, need_spectra

#: How far (cm-1) a spectrum's first or last point may lie from the training spectra's for
#: the end-point baseline of the paper recipe to count as anchored alike.
END_TOL = 5.0
#: Training sets with more distinct (first, last) ranges than this keep none in the model.
MAX_END_POINTS = 20


def end_points(spectra: Spectra) -> list[list[float]]:
    """The distinct ``[lowest, highest]`` Raman shifts of the spectra's axes (0.01 cm-1)."""
    axes = [spectra.wavenumbers] if spectra.has_common_axis else spectra.axes
    return [list(p) for p in sorted({(round(float(a.min()), 2), round(float(a.max()), 2))
                                     for a in axes})]


def median_step(spectra: Spectra) -> float:
    """The median point spacing (cm-1) of the spectra's axes (of the median spectrum's)."""
    return round(float(np.median(axis_steps(spectra))), 4)


def _cut_tolerance(spectra: Spectra) -> float:
    """How far beyond the training range :meth:`RangeChecks.anchored` keeps a wider
    spectrum's points: half a step (another grid's points), at most :data:`END_TOL`. Cut to
    within END_TOL, a padded file kept 106 and 108 cm-1 of its fill beyond a training range
    that starts at 110, and the baseline ran through the fill again."""
    return min(END_TOL, 0.5 * median_step(spectra))


#: The coverage error suggests ``--axis-offset`` for spectra short of the range by at most
#: this many cm-1 at one end, with as much to spare at the other.
SHIFT_HINT = 10.0

#: ``predict`` notes spectra sampled this many times more coarsely than the training ones.
COARSER = 2.0


class RangeChecks:
    """Mixin of :class:`ramancam.bundle.Bundle` (needs ``grid``, ``recipe`` and ``info``)."""

    grid: NDArray[np.float64]
    recipe: Any
    info: dict[str, Any]

    def fits_grid(self, axis: NDArray[np.float64], *, offset: bool = False) -> bool:
        """Check that prepared spectra on ``axis`` lie on the model's grid; ``True`` when
        ``axis`` is the grid reversed (a model saved without a recipe takes a descending
        axis, as WiRE writes, with the points flipped). ``offset``: an --axis-offset moved
        the axis (named in the error)."""
        tol = 1e-6 * max(1.0, float(np.abs(self.grid).max()))
        for flip in (False, True) if self.recipe is None else (False,):
            a = axis[::-1] if flip else axis
            if a.size == self.grid.size and np.allclose(a, self.grid, rtol=0, atol=tol):
                return flip
        raise RamancamError(
            f"spectra must be on the model's grid ({self._grid_text()}); got "
            f"{axis.size} points {axis[0]:g}-{axis[-1]:g}. "
            + ("Resample them onto that grid first"
               + (" (--axis-offset moves the axis off it: a model saved without a "
                  "resampling recipe cannot take it)" if offset else "") + "."
               if self.recipe is None
               else "The stored recipe does not produce that grid; the file is damaged."))

    def _training_ends(self) -> list[list[float]] | None:
        """The training spectra's ranges where the recipe starts with the paper's straight
        baseline through each spectrum's end points (``None`` otherwise, or unknown)."""
        steps = self.recipe.steps if self.recipe is not None else ()
        if not steps or steps[0].name != "linear_baseline" or steps[0].params.get("regions"):
            return None
        ends = self.info.get("training_data", {}).get("end_points")
        return [list(map(float, e)) for e in ends] if ends else None

    def anchored(self, spectra: Spectra) -> Spectra:
        """``spectra`` cut to the training spectra's range where they reach beyond it, when
        all training spectra had one range and the recipe's straight baseline runs through
        each spectrum's end points: a spectrum exported over a wider range then gets the
        baseline its training counterparts got (otherwise unchanged)."""
        ends = self._training_ends()
        if ends is None or len(ends) != 1:
            return spectra
        lo, hi = ends[0]
        a, b = spectra.axis_range()
        if a >= lo - END_TOL and b <= hi + END_TOL:
            return spectra
        from .preprocess import Recipe

        tol = _cut_tolerance(spectra)
        return Recipe([("crop", {"lo": lo - tol, "hi": hi + tol})]).apply(spectra)

    def end_point_note(self, spectra: Spectra) -> str | None:
        """A line for spectra whose first or last point (after :meth:`anchored`) lies more
        than :data:`END_TOL` from every training spectrum's, where the recipe's straight
        baseline runs through them: their preprocessing differs from training's."""
        ends = self._training_ends()
        if ends is None:
            return None
        known = np.asarray(ends)
        mine = np.asarray(end_points(spectra)) if spectra.has_common_axis else np.array(
            [[float(a.min()), float(a.max())] for a in spectra.axes])
        measured = mine
        if len(ends) == 1:  # the ends :meth:`anchored` leaves, without cutting a copy
            tol = _cut_tolerance(spectra)
            mine = np.clip(mine, known[0, 0] - tol, known[0, 1] + tol)
        off = np.abs(mine[:, None, :] - known[None, :, :]).max(axis=2).min(axis=1) > END_TOL
        n_off = len(spectra) * int(off.any()) if spectra.has_common_axis else int(off.sum())
        if not n_off:
            return None
        k = int(np.argmax(off))
        first, raw = mine[k], measured[k]
        span = f"{raw[0]:g}-{raw[1]:g} cm-1" + (
            "" if np.array_equal(first, raw) else
            f", cut to {first[0]:g}-{first[1]:g} where the training spectra end")
        shown = ", ".join(f"{a:g}-{b:g}" for a, b in ends[:3]) + ", ..." * (len(ends) > 3)
        return (f"note: {spectra_count(n_off)} span{'s' if n_off == 1 else ''} other Raman "
                f"shifts ({span}) than the training spectra ({shown} cm-1). The model's straight "
                "baseline runs through each spectrum's first and last points, so theirs "
                "differs from training's and the predictions may be off: export them over "
                "the training range, or, for an instrument that measures another range, "
                "train with --recipe paper-grid (its line runs through the grid's ends).")

    def sampling_note(self, spectra: Spectra) -> str | None:
        """A line for spectra sampled :data:`COARSER` times or more as coarsely as the
        training spectra were (recorded since 2026-12-06) and more coarsely than the grid:
        their resampled bands are broader and lower than any the network saw."""
        train = (self.info.get("training_data") or {}).get("step")
        if not finite_number(train) or not train > 0:
            return None
        step = median_step(spectra)
        grid_step = float(np.median(np.diff(self.grid))) if self.grid.size > 1 else 0.0
        if not (step >= COARSER * train and step > grid_step):
            return None
        return (f"note: the spectra are sampled every {step:g} cm-1 (median), the training "
                f"spectra every {train:g} cm-1: resampled onto the model's grid their bands "
                "are broader and lower than any the network saw, so expect more 'unknown' "
                "and less sure classes. Measure at the training spectra's resolution, or "
                "train on spectra like these.")

    def check_coverage(self, spectra: Spectra, *, some: bool = False) -> None:
        """Refuse spectra that do not cover the range the model's recipe resamples onto,
        in a predicting user's terms (the recipe's own message is about choosing a grid,
        which a trained model no longer can). :meth:`prepare` calls it; commands call it
        first, so that nothing is written for spectra that cannot be predicted. With
        ``some``, only when none covers it: files of other ranges among many are then
        left out one by one (:meth:`prepare_usable`, with this message as the reason).

        Raises
        ------
        RamancamError
            Naming the model's range, the first spectrum short of it and a grid that all
            the spectra cover.
        """
        need_spectra(spectra)
        steps = [] if self.recipe is None else [
            s for s in self.recipe.steps if s.name == "resample" and s.params["outside"] == "error"]
        if not steps or len(spectra) == 0:
            return
        p = steps[0].params
        lo, hi, step = float(p["start"]), float(p["stop"]), float(p["step"])
        tol = 0.5 * step if p.get("tolerance") is None else float(p["tolerance"])
        axes = [spectra.wavenumbers] if spectra.has_common_axis else spectra.axes
        ranges = np.array([(float(a.min()), float(a.max())) for a in axes])
        short = np.flatnonzero((ranges[:, 0] > lo + tol) | (ranges[:, 1] < hi - tol))
        if not short.size or (some and short.size < len(axes)):
            return
        i = int(short[0])
        n_short = len(spectra) if spectra.has_common_axis else short.size
        src = str(spectra.sources[i])
        if spectra.has_common_axis and n_short > 1 and set(spectra.sources.tolist()) == {src}:
            who = f"the {n_short} spectra of {src}" if src else f"{n_short} spectra"
        else:
            name = f"file {src}" if src else f"spectrum {spectra.ids[i]}"
            who = name + (f" and {n_short - 1} other spectra" if n_short > 1 else "")
        a = max(lo, float(ranges[:, 0].max()))
        b = min(hi, float(ranges[:, 1].min()))
        fix = (f"or train a model on a range they all cover ('ramancam train ... --grid "
               f"{np.ceil(a / step) * step:g}:{np.floor(b / step) * step:g}:{step:g}')"
               if b > a else "or train a model on their range ('ramancam train ... --grid')")
        laser = (self.info.get("settings") or {}).get("laser_nm")
        todo = (f"The model was trained on wavelength axes converted with --laser-nm "
                f"{laser:g}: give that option here too, or spectra measured over that range."
                if laser is not None and "laser_wavelength_nm" not in spectra.meta else
                f"Give spectra measured over that range, {fix}.")
        ax = np.asarray(axes[i])  # nm-like: 200-1700, steps under 0.25 (a CCD in wavelength)
        if laser is None and 200 <= ranges[i, 0] and ranges[i, 1] <= 1700 and np.median(
                np.abs(np.diff(ax))) < 0.25:
            todo = ("If that axis is in wavelengths (nm), give --laser-nm NM to convert it. "
                    + todo)
        elif looks_absolute(ax):  # as info and train's note say it
            todo = (f"That axis lies above {MAX_SHIFT:g} cm-1, where Raman shifts end: it "
                    "looks like absolute wavenumbers of the scattered light; if so, give "
                    "--laser-nm NM to convert it to Raman shift (shift = 1e7 / laser nm - "
                    "wavenumber) or export Raman shift from the instrument's software. "
                    + todo)
        # short by a few cm-1 at one end only, with room at the other: perhaps the axis
        # is calibrated differently (another instrument, a drift), which --axis-offset moves
        gap = max(ranges[i, 0] - lo, hi - ranges[i, 1])
        room = (hi - ranges[i, 1]) if ranges[i, 0] > lo + tol else (ranges[i, 0] - lo)
        if gap <= SHIFT_HINT and -room >= gap:
            sign = "-" if ranges[i, 0] > lo + tol else "+"
            todo += (f" If their Raman-shift axis is off by a few cm-1, --axis-offset "
                     f"{sign}{np.ceil(gap * 10) / 10:g} moves it onto the model's range (check "
                     "the offset on a standard: 'ramancam info FILE --standard silicon').")
        raise RamancamError(
            f"spectra must cover the model's range, {lo:g}-{hi:g} cm-1 (the grid it was "
            f"trained on); got {who} covering {ranges[i, 0]:g}-{ranges[i, 1]:g} "
            f"cm-1. {todo}")

    def _gaps(self, spectra: Any) -> str:
        """How spectra on the model's grid with points missing (a table's empty or NaN
        cells, which the reader leaves out) are said; ``""`` when the axes are others.
        Such a gap was told to resample, the one cell not named."""
        grid = np.asarray(self.grid, dtype=np.float64)
        short = []
        for i, ax in enumerate(spectra.axes):
            a = np.asarray(ax, dtype=np.float64)
            if a.size == grid.size:
                continue
            at = np.clip(np.searchsorted(grid, a), 0, grid.size - 1)
            if grid.size < 2 or not (grid[at] == a).all():
                return ""  # another axis, not the grid with gaps
            short.append((i, grid.size - a.size))
        if not short:
            return ""
        i, k = short[0]
        one = len(short) == 1
        return (f"{len(short)} spectr{'um' if one else 'a'} on its grid lack{'s' if one else ''} "
                f"{f'{k}' if one else 'some'} of its points (empty or non-numeric cells, read "
                f"as gaps; {'' if one else 'e.g. '}{spectra.ids[i]!r} lacks {k})")

    def _grid_text(self) -> str:
        return f"{self.grid.size} points {self.grid[0]:g}-{self.grid[-1]:g}"
