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


def _found(tile: Spectra, grid: Any) -> list[list[Any]]:
    """What each check of :data:`CHECK_NAMES` finds in ``tile`` inside ``grid``'s range."""
    from ..checks import clipped_spectra, implausible_spectra, spiked_spectra

    g = np.asarray(grid, dtype=np.float64)
    within = (float(g.min()), float(g.max()))
    return [clipped_spectra(tile, within), implausible_spectra(tile, within),
            spiked_spectra(tile, within)]


def tile_checks(tile: Spectra | None, grid: Any) -> NDArray[np.int32]:
    """One tile's row of :data:`CHECKS`: its measured pixels (``tile``, as
    :meth:`ramancam.io.zarr_cube.Cube.read_tile_pixels` gives them, the axis offset applied;
    ``None``: none) that each check finds, shape (1, 1, 3)."""
    counts = [0] * len(CHECK_NAMES) if tile is None else [len(f) for f in _found(tile, grid)]
    return np.asarray(counts, dtype=np.int32)[None, None]


def checked_pixels(store: Any, cube: Any, grid: Any, axis_offset: float = 0.0
                   ) -> tuple[Spectra, NDArray[np.bool_]] | None:
    """The pixels of a result store's finished tiles that a check of :data:`CHECK_NAMES`
    finds, read again from ``cube`` (an opened cube) only in the tiles whose
    :data:`CHECKS` count one, in row-major order and named ``y<row>x<column>``, and which of
    them are flagged unknown; ``None`` when there are none or the store has no
    :data:`CHECKS` (made by an older ramancam)."""
    if CHECKS not in store:
        return None
    counts = np.asarray(store[CHECKS][...])
    tiles = np.argwhere((np.asarray(store["done"][...]) == 1) & (counts > 0).any(axis=-1))
    nx = int(cube.shape[1])
    rows: list[NDArray[Any]] = []
    at: list[NDArray[np.intp]] = []
    flags: list[NDArray[np.bool_]] = []
    axis = None
    for ty, tx in tiles:
        tile, present = cube.read_tile_pixels(int(ty), int(tx))
        if tile is None:
            continue
        if axis_offset:
            tile = tile.replace(wavenumbers=tile.wavenumbers + axis_offset)
        hit = np.zeros(len(tile), dtype=bool)
        for found in _found(tile, grid):
            hit[[f.index for f in found]] = True
        ys, xs = cube.tile(int(ty), int(tx))
        w = xs.stop - xs.start
        flat = np.flatnonzero(present)[hit]
        iy, ix = flat // w, flat % w
        if "unknown" in store:
            flagged = (np.asarray(store["unknown"][ys, xs], dtype=bool)
                       & (np.asarray(store["predicted"][ys, xs]) >= 0))
            flags.append(flagged[iy, ix])
        else:
            flags.append(np.zeros(flat.size, dtype=bool))
        rows.append(np.asarray(tile.X)[hit])
        at.append((ys.start + iy) * nx + xs.start + ix)
        axis = tile.wavenumbers
    if axis is None or not sum(len(a) for a in at):
        return None
    where = np.concatenate(at)
    order = np.argsort(where)
    names = [f"y{i // nx}x{i % nx}" for i in where[order]]
    return (Spectra(np.concatenate(rows)[order], axis, meta={"id": names}),
            np.concatenate(flags)[order])


def refused_pixels(store: Any, cube: Any, bundle: Any, axis_offset: float = 0.0,
                   limit: int = 5) -> tuple[list[str], str] | None:
    """The first ``limit`` pixels of a result store's finished tiles that hold a spectrum in
    ``cube`` (an opened cube) but were not predicted, tile by tile, named ``y<row>x<column>``,
    and the first one's reason, as the map read into memory names it: the recipe's message
    (:meth:`ramancam.bundle.Bundle.prepare_usable`), or that its probabilities were not
    finite (:func:`ramancam.bundle.overflow_reason`). Reads only the tiles up to the
    ``limit``-th such pixel; ``None`` when there is none."""
    from ..bundle import overflow_reason

    done = np.asarray(store["done"][...])
    names: list[str] = []
    first: Spectra | None = None
    for ty, tx in np.argwhere(done == 1):
        ys, xs = cube.tile(int(ty), int(tx))
        pred = np.asarray(store["predicted"][ys, xs])
        if not (pred < 0).any():
            continue
        tile, present = cube.read_tile_pixels(int(ty), int(tx))
        if tile is None:
            continue
        w = xs.stop - xs.start
        flat = np.flatnonzero(present)
        iy, ix = flat // w, flat % w
        for j in np.flatnonzero(pred[iy, ix] < 0)[:limit - len(names)].tolist():
            names.append(f"y{ys.start + int(iy[j])}x{xs.start + int(ix[j])}")
            if first is None:
                first = tile[[j]]
        if len(names) >= limit:
            break
    if first is None:
        return None
    if axis_offset:
        first = first.replace(wavenumbers=first.wavenumbers + axis_offset)
    X, usable, reasons = bundle.prepare_usable(first)
    why = reasons[0] if not usable[0] else overflow_reason(names[0], X[0])
    at = why.find(" must ")  # the recipe names it "spectrum 0": the name above says which
    return names, why[at + 1:] if at > 0 else why
