"""Preprocessing decided on the training part only.

Where ``train`` (and ``baseline``) decide the preprocessing from the spectra themselves --
``--recipe auto`` (the paper's baseline, or asls where its straight line lies above a
spectrum) and the default grid (the range every spectrum covers) -- the decision made on all
spectra lets a test spectrum shape its own fold's training: one spectrum that the paper's
baseline cannot use moves every fold to asls, one short spectrum narrows every fold's grid.
Here each fold's training part decides alone, as it would with no test part beside it:

* a fold whose training part makes the choice made on all spectra (nearly always) keeps
  the common inputs;
* any other fold gets inputs of its own, every spectrum preprocessed by its training part's
  choice; a test spectrum that choice cannot use (not covering its grid, or a paper baseline
  above it) counts as an error of every model in that fold (``predict`` would refuse it),
  and is named.

A fixed split decides on its training part before anything else (:func:`split_choice`): the
saved model then holds that choice, and a test spectrum it cannot use is left out before the
test (as a flat spectrum is), named and recorded in the model.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import spectra_count
from ._common import first_ids

__all__ = ["FoldInputs", "fold_inputs", "split_choice", "training_choice"]


@dataclass
class FoldInputs:
    """One fold's own inputs: ``X`` (every spectrum, on the fold's grid; NaN rows where the
    fold's recipe cannot use a spectrum), ``usable`` per spectrum, and the reasons."""

    X: NDArray[np.float64]
    usable: NDArray[np.bool_]
    recipe: Any
    recipe_used: str
    reasons: dict[int, str] = field(default_factory=dict)

    @property
    def grid(self) -> NDArray[np.float64]:
        return np.asarray(self.recipe.grid, dtype=np.float64)


def training_choice(args: argparse.Namespace, raw: Any) -> tuple[Any, str]:
    """The recipe ``train`` would build from the spectra ``raw`` alone, and its printed name
    (``auto -> paper``, ...); ``args`` is not changed."""
    from ._common import _normalized_auto, build_recipe

    a = argparse.Namespace(**vars(args))
    recipe = build_recipe(a, raw)
    a.recipe_used = a.recipe
    if getattr(a, "normalize", None) is not None and a.recipe != "auto":
        a.recipe_used = f"{a.recipe}, normalize {a.normalize}"
    if a.recipe == "auto" and recipe is not None:
        recipe, _ = _normalized_auto(a, raw, recipe)
    return recipe, str(a.recipe_used)


def _apply_usable(recipe: Any, raw: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                                   dict[int, str]]:
    """``recipe`` applied to every spectrum of ``raw`` that it can use: ``(X, usable,
    reasons)``, NaN rows and the one-line reason where it cannot."""
    from ..errors import RamancamError

    grid = np.asarray(recipe.grid, dtype=np.float64)
    try:
        return (np.asarray(recipe.apply(raw).X, dtype=np.float64),
                np.ones(len(raw), dtype=bool), {})
    except RamancamError:
        pass  # one spectrum or more it cannot use: find them, one by one
    X = np.full((len(raw), grid.size), np.nan)
    usable = np.zeros(len(raw), dtype=bool)
    reasons: dict[int, str] = {}
    for i in range(len(raw)):
        try:
            X[i] = recipe.apply(raw[[i]]).X[0]
            usable[i] = True
        except RamancamError as exc:
            reasons[i] = str(exc).split(";")[0]
    return X, usable, reasons


def _short(recipe_used: str) -> str:
    """``auto -> asls`` of ``auto -> asls (paper baseline unusable: ...)``."""
    return recipe_used.split(" (")[0]


def _grid_text(grid: NDArray[np.float64]) -> str:
    return f"{grid[0]:g}-{grid[-1]:g}" if grid.size else "no grid"


def fold_inputs(args: argparse.Namespace, raw: Any, recipe: Any, splits: Any,
                data_grid: NDArray[np.float64]) -> tuple[dict[int, FoldInputs], list[str]]:
    """The folds whose training part alone chooses another recipe or grid than all spectra
    did (``recipe``), with their own inputs, and one note per such fold.

    ``raw``: the labelled spectra as read, row for row with the preprocessed ones;
    ``splits``: the folds' ``(train, test)`` index pairs; ``data_grid``: the grid of the
    common inputs.
    """
    if recipe is None or getattr(args, "split_col", None) is not None:
        return {}, []
    ids = raw.ids
    out: dict[int, FoldInputs] = {}
    notes = []
    for k, (tr, te) in enumerate(splits):
        own, used = training_choice(args, raw[np.asarray(tr)])
        if own == recipe:
            continue
        X, usable, reasons = _apply_usable(own, raw)
        fi = FoldInputs(X, usable, own, used, reasons)
        out[k] = fi
        bad = [str(ids[int(i)]) for i in te if not usable[i]]
        note = (f"note: fold {k + 1}'s training part alone chooses recipe {_short(used)} on "
                f"{_grid_text(fi.grid)} cm-1 (all spectra: "
                f"{_short(getattr(args, 'recipe_used', args.recipe))} on "
                f"{_grid_text(data_grid)}): the fold trains and tests on its own choice, so "
                "that its test spectra decide nothing of its training")
        if bad:
            note += (f"; {spectra_count(len(bad))} of its test part that choice cannot use "
                     f"({first_ids(bad)}) count as errors of every model (predict would "
                     "refuse them)")
        notes.append(note + ".")
    return out, notes


def split_choice(args: argparse.Namespace, raw: Any, recipe: Any, data: Any
                 ) -> tuple[Any, Any, Any, str | None]:
    """A fixed split's preprocessing, decided on its training part alone: ``(raw, recipe,
    data, note)``. When the training part chooses as all spectra did, the inputs come back
    unchanged (note ``None``); otherwise every spectrum is preprocessed by the training
    part's choice, test spectra it cannot use are left out (named in the note, as predict
    would refuse them) and ``args.recipe_used`` says the choice."""
    from ..train import make_splits

    if recipe is None or getattr(args, "split_col", None) is None:
        return raw, recipe, data, None
    ((tr, _),) = make_splits(raw, split_col=args.split_col, train_value=args.train_value)
    own, used = training_choice(args, raw[tr])
    if own == recipe:
        return raw, recipe, data, None
    X, usable, reasons = _apply_usable(own, raw)
    grid = np.asarray(own.grid, dtype=np.float64)
    note = (f"note: the training part alone chooses recipe {_short(used)} on "
            f"{_grid_text(grid)} cm-1 (all spectra: "
            f"{_short(getattr(args, 'recipe_used', args.recipe))} on "
            f"{_grid_text(np.asarray(data.wavenumbers))}): the model takes its choice, so "
            "that the test spectra decide nothing of its training")
    bad = np.flatnonzero(~usable)
    if bad.size:
        ids = raw.ids
        names = [str(ids[int(i)]) for i in bad]
        note += (f"; {spectra_count(bad.size, 'test')} it cannot use ({first_ids(names)}: "
                 f"{reasons.get(int(bad[0]), 'unusable')}) "
                 f"{'is' if bad.size == 1 else 'are'} left out, as predict would refuse "
                 f"{'it' if bad.size == 1 else 'them'}")
        args.left_out = {**getattr(args, "left_out", {}), "unusable": names}
    args.recipe_used = used
    keep = np.flatnonzero(usable)
    raw = raw[keep]
    data = raw.replace(X[keep], grid)
    return raw, own, data, note + "."
