"""The notes ``predict`` prints on a map's spectra, for a map read from a Zarr cube tile by
tile (:mod:`ramancam.scale`): the same lines as for the map read into memory
(:mod:`ramancam.cli.predict`), from the same functions.

The notes on the axis (end points, sampling, coarse steps) read the cube's one axis once.
The notes on the intensities (clipped, values no detector counts, cosmic-ray spikes) need
the raw spectra: each tile counts its pixels that each check finds (array :data:`CHECKS`,
one chunk per tile, written with the tile's results, so a resumed run counts the tiles of
the earlier runs too) and, at the end, only the tiles with a count are read again, for the
pixels the lines name.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..spectra import Spectra

#: The result store's per-tile counts of the raw-spectra checks, in the order of
#: :data:`CHECK_NAMES`: (n_tiles_y, n_tiles_x, 3) int32.
CHECKS = "checks"
CHECK_NAMES = ("clipped", "implausible", "spiked")


def checks_array(n_tiles: tuple[int, int]) -> dict[str, Any]:
    """The :data:`CHECKS` array as :func:`ramancam.maps.store.result_arrays` lists it."""
    nty, ntx = (int(n) for n in n_tiles)
    k = len(CHECK_NAMES)
    return {"shape": (nty, ntx, k), "chunks": (1, 1, k), "dtype": "int32", "fill_value": 0}


def older_store(store: Any, meta: dict[str, Any], arrays: dict[str, Any],
                listed: list[str]) -> None:
    """Leave :data:`CHECKS` out of ``arrays`` and ``listed`` (what a resume expects of
    ``store``, whose record is ``meta``) when the store was made before the array existed:
    resumed as it is (not every tile computed again), and the notes on intensities are not
    printed for it."""
    recorded = meta.get("arrays")
    if CHECKS in store or (isinstance(recorded, list) and CHECKS in recorded):
        return  # made with the array: a missing one is damage, made again
    arrays.pop(CHECKS, None)
    if CHECKS in listed:
        listed.remove(CHECKS)


class _CubeAxis:
    """The spectra of a cube as the notes on the axis read them: ``n`` spectra on the one
    ``wavenumbers`` axis, named by the cube (no intensity is read)."""

    has_common_axis = True

    def __init__(self, wavenumbers: NDArray[np.float64], n: int, source: str) -> None:
        self.wavenumbers = np.asarray(wavenumbers, dtype=np.float64)
        self._n, self.sources, self.ids = int(n), [source], [source]

    def __len__(self) -> int:
        return self._n


def axis_notes(cube: Any, bundle: Any, axis_offset: float = 0.0, source: str = ""
               ) -> list[str]:
    """``predict``'s notes on the spectra's Raman-shift axis against the model's (other end
    points, coarser sampling than training's, steps coarser than Raman bands), for every
    measured pixel of ``cube`` (an opened :class:`ramancam.io.zarr_cube.Cube`, named
    ``source`` in them)."""
    from ..checks import coarse_note

    ny, nx = (int(v) for v in cube.shape)
    missing = dict(cube.group.attrs.get("ramancam") or {}).get("missing") or 0
    spectra = cast(Spectra, _CubeAxis(cube.wavenumbers + axis_offset, ny * nx - int(missing),
                                      source))
    notes = [bundle.end_point_note(spectra), bundle.sampling_note(spectra)]
    if bundle.recipe is not None:
        notes.append(coarse_note(spectra, float(np.median(np.diff(bundle.grid)))))
    return [s for s in notes if s is not None]
