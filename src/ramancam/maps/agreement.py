"""The agreement of a tiled map run's predictions with the cube's ``truth`` (the pixels whose
nearest class is the labelled one), read tile by tile, and ``predict``'s line on it."""

from __future__ import annotations

import os

import numpy as np


def agreement(out: str | os.PathLike[str], cube_path: str | os.PathLike[str]
              ) -> tuple[int, int, int, int] | None:
    """Pixels whose predicted (nearest) class equals the cube's ``truth`` (matched by class
    name), pixels with a known truth, and of those the ones flagged unknown (counted by their
    nearest class) and the ones not predicted (refused: counted wrong); ``None`` when the
    cube has no truth. Read tile by tile."""
    found = agreement_details(out, cube_path)
    return None if found is None else found[0]


def agreement_details(out: str | os.PathLike[str], cube_path: str | os.PathLike[str]
                      ) -> tuple[tuple[int, int, int, int], list[str]] | None:
    """:func:`agreement`'s counts and the truth's classes that the model does not know
    (sorted; those of pixels with that truth only): their pixels count wrong, as ``predict``
    counts a table's labels the model does not know."""
    from ..io.zarr_cube import need_zarr, open_cube

    cube = open_cube(cube_path)
    if cube.truth is None or cube.class_names is None:
        return None
    g = need_zarr().open_group(str(out), mode="r")
    model_classes = list(g.attrs["ramancam"]["class_names"])
    # truth index -> model index (-2: a class the model does not know, never equal)
    lookup = np.array([model_classes.index(c) if c in model_classes else -2
                       for c in cube.class_names] + [-3], dtype=np.int64)
    right = total = flagged = refused = 0
    seen = np.zeros(len(cube.class_names), dtype=bool)  # the truth classes of some pixel
    for ty, tx in cube.tiles():
        ys, xs = cube.tile(ty, tx)
        t = cube.read_truth(ys, xs, f"tile ({ty}, {tx}) of 'truth'").astype(np.int64)
        p = np.asarray(g["predicted"][ys, xs], dtype=np.int64)
        known = t >= 0
        seen |= np.bincount(t[known], minlength=seen.size)[:seen.size] > 0
        right += int((lookup[np.where(known, t, -1)] == p)[known].sum())
        total += int(known.sum())
        refused += int((known & (p < 0)).sum())
        if "unknown" in g:
            flagged += int((known & (p >= 0)
                            & np.asarray(g["unknown"][ys, xs], dtype=bool)).sum())
    foreign = sorted(str(c) for c, i, hit in zip(cube.class_names, lookup, seen, strict=False)
                     if hit and i == -2)
    return (right, total, flagged, refused), foreign


def agreement_line(counts: tuple[int, int, int, int]) -> str:
    """``predict``'s line on :func:`agreement`'s counts."""
    right, total, flagged, refused = counts
    said = [f"{right}/{total}"]
    if flagged:
        said.append(f"the {flagged} flagged unknown counted by their nearest class")
    if refused:
        said.append(f"the {refused} not predicted counted wrong")
    return f"agreement with the cube's truth: {right / total:.4f} ({'; '.join(said)})"

