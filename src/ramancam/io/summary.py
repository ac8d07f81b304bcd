"""A plain summary of a :class:`Spectra` (what ``ramancam info`` prints)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .._channels import is_channel_axis
from ..errors import RamancamError, first_of
from ..spectra import Spectra
from ._text import FORMAT_NAMES
from ._units import stated_shift
from .folder import file_format

__all__ = ["describe"]


def describe(spectra: Spectra) -> dict[str, Any]:
    """Summarise a set of spectra in JSON-friendly values.

    Parameters
    ----------
    spectra : Spectra
        Any set, common axis or per-spectrum axes.

    Returns
    -------
    dict
        ``n_spectra``; ``n_files`` (distinct non-empty sources); ``formats`` (format name ->
        number of files, e.g. ``{"Galactic SPC": 536}``); ``classes`` (label -> count over
        the labelled spectra, ``None`` when unlabelled); ``n_unlabelled`` (spectra whose
        label is ``""``; 0 when there are no labels); ``axis_min``/``axis_max`` (cm-1, or channels);
        ``direction``
        (``"ascending"``, ``"descending"`` or ``"mixed"``); ``common_axis`` (bool);
        ``n_axes`` (distinct axes); ``points_min``/``points_max`` (points per spectrum);
        ``step_min``/``step_median``/``step_max`` (absolute spacing between neighbouring
        points over all distinct axes); ``even`` (all steps equal to a thousandth of the
        median step, as an even axis written to a few decimals is);
        ``channels`` (every axis is channel numbers, 0 or 1 up in steps of 1: the unit
        ``info`` prints is then channels, not cm-1);
        ``metadata`` (column names); ``grid`` (maps only, when the spectra carry x/y
        positions: :meth:`ramancam.maps.MapGrid.describe` - kind, nx, ny, step_x, step_y,
        missing - or ``{"error": message}`` when the positions are not a raster).
    """
    axes = spectra.axes
    distinct = list({a.tobytes(): a for a in axes}.values())
    n = len(spectra)
    files = sorted({s for s in spectra.sources.tolist() if s})
    formats = Counter(FORMAT_NAMES.get(_format(f), "unknown") for f in files)
    counts = spectra.class_counts() if spectra.labels is not None else None
    unlabelled = 0 if spectra.labels is None else int((spectra.labels == "").sum())
    out: dict[str, Any] = {
        "n_spectra": n,
        "n_files": len(files),
        "formats": dict(sorted(formats.items())),
        "classes": counts,
        "n_unlabelled": unlabelled,
        "common_axis": spectra.has_common_axis,
        "n_axes": len(distinct),
        "metadata": list(spectra.meta),
    }
    if not n:
        return out
    lo, hi = spectra.axis_range()
    dirs = {bool(a[-1] > a[0]) for a in distinct}
    steps = np.abs(np.concatenate([np.diff(a) for a in distinct]))
    smin, smed, smax = (float(v) for v in (steps.min(), np.median(steps), steps.max()))
    sizes = [a.size for a in distinct]
    out.update(
        axis_min=lo, axis_max=hi,
        direction=("mixed" if len(dirs) > 1 else "ascending" if dirs.pop() else "descending"),
        points_min=int(min(sizes)), points_max=int(max(sizes)),
        step_min=smin, step_median=smed, step_max=smax,
        # a thousandth of the step: an even axis written to a few decimals (0.2932, 0.2933)
        even=bool(smax - smin <= 1e-3 * smed),
        # a Raman-shift unit the file states (##XUNITS=1/CM, SPC XRAMANS, WiRE) wins
        channels=(all(is_channel_axis(a) for a in distinct)
                  and not stated_shift(spectra)[0].any()),
    )
    from ..maps.grid import grid_of, has_positions

    if has_positions(spectra):
        placed = np.isfinite(spectra.meta["x"]) & np.isfinite(spectra.meta["y"])
        if not placed.all():  # e.g. a folder of a map and single spectra
            idx = np.flatnonzero(~placed)
            srcs = list(dict.fromkeys(str(spectra.sources[i]) or f"spectrum {i}"
                                      for i in idx))  # each file once, in order
            names = first_of(srcs, 3)
            out["grid"] = {"error": f"only {int(placed.sum())} of {n} spectra have positions, "
                                    f"not those of {names}; read the map's file alone"}
            return out
        try:
            out["grid"] = grid_of(spectra).describe()
        except RamancamError as exc:
            out["grid"] = {"error": exc.cli or str(exc)}  # the command line shows it
    return out


def _format(path: str) -> str:
    try:
        return file_format(path)
    except OSError:
        return "unknown"
