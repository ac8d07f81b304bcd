"""A plain summary of a :class:`Spectra` (what ``ramancam info`` prints)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import RamancamError
from ..spectra import Spectra

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
        ``n_spectra``; ``n_files`` (distinct non-empty sources); ``classes`` (label -> count,
        ``None`` when unlabelled); ``axis_min``/``axis_max`` (cm-1); ``direction``
        (``"ascending"``, ``"descending"`` or ``"mixed"``); ``common_axis`` (bool);
        ``n_axes`` (distinct axes); ``points_min``/``points_max`` (points per spectrum);
        ``step_min``/``step_median``/``step_max`` (absolute spacing between neighbouring
        points over all distinct axes); ``even`` (all steps equal to 1e-6 relative);
        ``metadata`` (column names); ``grid`` (maps only, when the spectra carry x/y
        positions: :meth:`ramancam.maps.MapGrid.describe` - kind, nx, ny, step_x, step_y,
        missing - or ``{"error": message}`` when the positions are not a raster).
    """
    axes = spectra.axes
    distinct = list({a.tobytes(): a for a in axes}.values())
    n = len(spectra)
    out: dict[str, Any] = {
        "n_spectra": n,
        "n_files": len({s for s in spectra.sources.tolist() if s}),
        "classes": spectra.class_counts() if spectra.labels is not None else None,
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
        even=bool(smax - smin <= 1e-6 * smed),
    )
    from ..maps.grid import grid_of, has_positions

    if has_positions(spectra):
        try:
            out["grid"] = grid_of(spectra).describe()
        except RamancamError as exc:
            out["grid"] = {"error": str(exc)}
    return out
