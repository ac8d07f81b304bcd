"""Raman maps: pixel grids from x/y positions, class/confidence/band images, spatial folds.

* :mod:`ramancam.maps.grid` - :class:`MapGrid` and :func:`infer_grid` (nx x ny, step,
  missing pixels, line scans), :func:`with_positions` (``--xy-cols``);
* :mod:`ramancam.maps.images` - :func:`write_map_images` (classes.png, confidence.png, one
  probability image per class, up to 20) and the predict/explain map outputs with their HTML report;
* :mod:`ramancam.maps.outputs` - what ``predict``/``explain --out DIR`` write for a map
  (images, band images, class means, ``report.html``);
* :mod:`ramancam.maps.store` - what a Zarr result store keeps beside its per-pixel arrays
  (an explain run's per-tile class sums) and what is read back from it tile by tile (run
  summaries, class means, band images, pixels' maps, the store's pixel grid);
* :mod:`ramancam.maps.folds` - :class:`SpatialBlockKFold`, a scikit-learn splitter whose
  folds are blocks of contiguous pixels, with a buffer so that no neighbour of a test pixel
  trains.

Positions travel in ``Spectra.meta["x"]`` / ``meta["y"]`` as floats, in the file's units.
"""

from __future__ import annotations

from .grid import MapGrid, grid_of, has_positions, infer_grid, with_positions

__all__ = ["MapGrid", "grid_of", "has_positions", "infer_grid", "with_positions"]
