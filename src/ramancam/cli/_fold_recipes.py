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
import re
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


def training_choice(args: argparse.Namespace, raw: Any, built: Any = None
                    ) -> tuple[Any, str]:
    """The recipe ``train`` would build from the spectra ``raw`` alone, and its printed name
    (``auto -> paper``, ...); ``built``: :func:`build_recipe` of ``raw`` where the caller
    has it already. ``args`` is not changed."""
    from ._common import _normalized_auto, build_recipe, given_recipe_text

    a = argparse.Namespace(**vars(args))
    recipe = build_recipe(a, raw) if built is None else built
    a.recipe_used = given_recipe_text(a)
    if a.recipe == "auto" and recipe is not None:
        recipe, _ = _normalized_auto(a, raw, recipe)
    return recipe, str(a.recipe_used)


def _apply_usable(recipe: Any, raw: Any, drop_clipped: bool = False
                  ) -> tuple[NDArray[np.float64], NDArray[np.bool_], dict[int, str]]:
    """``recipe`` applied to every spectrum of ``raw`` that it can use: ``(X, usable,
    reasons)``, NaN rows and the one-line reason where it cannot (with ``drop_clipped``, a
    spectrum clipped inside the recipe's grid is not usable either, as ``--drop-clipped``
    leaves it out of the common inputs)."""
    from .._blocks import in_blocks
    from ..errors import RamancamError
    from ._common import clipped_in

    grid = np.asarray(recipe.grid, dtype=np.float64)
    X = np.full((len(raw), grid.size), np.nan)
    usable = np.zeros(len(raw), dtype=bool)
    reasons: dict[int, str] = {}
    for rows, got in in_blocks(lambda r: recipe.apply(raw[r]).X, len(raw), _CHUNK):
        if isinstance(got, RamancamError):
            reasons[rows.start] = str(got).split(";")[0]
        else:
            X[rows], usable[rows] = got, True
    if drop_clipped:
        for c in clipped_in(raw, grid):
            usable[c.index] = False
            reasons[int(c.index)] = "clipped inside the grid (--drop-clipped)"
    return X, usable, reasons


#: Spectra preprocessed at a time where a fold has inputs of its own.
_CHUNK = 256


def _paper_fails(raw: Any, recipe: Any) -> NDArray[np.bool_] | None:
    """Per spectrum, whether the paper's straight baseline leaves nothing positive on the
    grid of ``recipe`` (what makes ``--recipe auto`` choose asls), from one pass of the
    paper's recipe without its normalisation; ``None`` when that pass fails."""
    from ..errors import RamancamError
    from ..preprocess import Recipe, paper_recipe

    g = np.asarray(recipe.grid, dtype=np.float64)
    step = float(np.median(np.diff(g))) if g.size > 1 else 1.0
    steps = paper_recipe(grid=(float(g[0]), float(g[-1]), step)).steps
    try:
        X = Recipe([st for st in steps if st.name != "normalize"]).apply(raw).X
    except RamancamError:
        return None
    with np.errstate(invalid="ignore"):
        return np.asarray(~(np.nanmax(X, axis=1) > 0), dtype=bool)


def _check_training(usable: NDArray[np.bool_], whose: str, recipe: Any) -> None:
    """Refuse a training part that its own choice leaves empty (``--drop-clipped`` on a
    wider grid than all spectra share: every spectrum saturated where it reaches)."""
    if usable.any():
        return
    from ..errors import RamancamError

    raise RamancamError(
        f"{whose} training part must keep some spectra on the grid it chooses "
        f"({_grid_text(np.asarray(recipe.grid, dtype=np.float64))} cm-1); got none: "
        "--drop-clipped leaves out every one, clipped on that grid. Give --grid "
        "START:STOP:STEP below the saturated range, or drop --drop-clipped.")


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


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
    common inputs. A fold's grid costs no preprocessing (the range its spectra cover), and
    ``--recipe auto``'s baseline choice is read from one pass over all spectra, so a fold
    that decides as all spectra did (nearly always) costs nothing more.
    """
    from ._common import build_recipe

    if recipe is None or getattr(args, "split_col", None) is not None:
        return {}, []
    ids = raw.ids
    auto = args.recipe == "auto"
    # "auto -> paper", "auto -> asls (...)", "auto -> paper, normalize snv": paper or asls
    kind = re.split(r"[ ,]", str(getattr(args, "recipe_used", "")).removeprefix("auto -> "))[0]
    fails = _paper_fails(raw, recipe) if auto else None
    if fails is not None and (kind == "paper") == bool(fails.any()):
        fails = None  # the one pass does not tell what auto_recipe told: decide in full
    out: dict[int, FoldInputs] = {}
    notes = []
    for k, (tr, te) in enumerate(splits):
        tr = np.asarray(tr)
        part = raw[tr]
        built = build_recipe(argparse.Namespace(**vars(args)), part)  # its grid: no applying
        if np.array_equal(np.asarray(built.grid), data_grid):
            if not auto and built == recipe:
                continue
            if auto and fails is not None and \
                    ("asls" if fails[tr].any() else "paper") == kind:
                continue
        own, used = training_choice(args, part, built)
        if own == recipe:
            continue
        X, usable, reasons = _apply_usable(own, raw, bool(getattr(args, "drop_clipped",
                                                                  False)))
        _check_training(usable[tr], f"fold {k + 1}'s", own)
        fi = FoldInputs(X, usable, own, used, reasons)
        out[k] = fi
        bad = [str(ids[int(i)]) for i in te if not usable[i]]
        note = (f"note: fold {k + 1}'s training part alone chooses recipe {_short(used)} on "
                f"{_grid_text(fi.grid)} cm-1 (all spectra: "
                f"{_short(getattr(args, 'recipe_used', args.recipe))} on "
                f"{_grid_text(data_grid)}): the fold trains and tests on its own choice, so "
                "that its test spectra decide nothing of its training")
        dropped = int((~usable[tr]).sum())
        if dropped:  # --drop-clipped on the fold's own grid
            note += (f"; {spectra_count(dropped)} of its training part clipped on that grid "
                     f"{_are(dropped)} left out of its training (--drop-clipped)")
        if bad:
            one = len(bad) == 1
            note += (f"; {spectra_count(len(bad))} of its test part that choice cannot use "
                     f"({first_ids(bad)}) {'counts' if one else 'count'} as an error of "
                     f"every model, without a prediction (predict would refuse "
                     f"{'it' if one else 'them'})")
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
    ((tr, te),) = make_splits(raw, split_col=args.split_col, train_value=args.train_value)
    ids = raw.ids
    own, used = training_choice(args, raw[tr])
    if own == recipe:
        return raw, recipe, data, None
    X, usable, reasons = _apply_usable(own, raw, bool(getattr(args, "drop_clipped", False)))
    grid = np.asarray(own.grid, dtype=np.float64)
    _check_training(usable[tr], "the split's", own)
    if not usable[te].any():
        from ..errors import RamancamError

        first = int(te[0])
        raise RamancamError(
            f"the recipe the training part chooses ({_short(used)} on {_grid_text(grid)} "
            f"cm-1) must be able to use some test spectrum; got none of {te.size} (e.g. "
            f"{ids[first]}: {reasons.get(first, 'unusable')}). Choose the preprocessing "
            "for both parts: give --recipe (e.g. asls) and --grid START:STOP:STEP.")
    note = (f"note: the training part alone chooses recipe {_short(used)} on "
            f"{_grid_text(grid)} cm-1 (all spectra: "
            f"{_short(getattr(args, 'recipe_used', args.recipe))} on "
            f"{_grid_text(np.asarray(data.wavenumbers))}): the model takes its choice, so "
            "that the test spectra decide nothing of its training")
    left = dict(getattr(args, "left_out", None) or {})  # what the model records
    clipped = [int(i) for i in tr if not usable[i]]  # --drop-clipped on the split's grid
    if clipped:
        names = [str(ids[i]) for i in clipped]
        note += (f"; {spectra_count(len(clipped), 'training')} clipped on that grid "
                 f"({first_ids(names)}) {_are(len(clipped))} left out (--drop-clipped)")
        left["clipped"] = [*left.get("clipped", []), *names]
    bad = [int(i) for i in te if not usable[i]]
    if bad:
        names = [str(ids[i]) for i in bad]
        note += (f"; {spectra_count(len(bad), 'test')} it cannot use ({first_ids(names)}: "
                 f"{reasons.get(bad[0], 'unusable')}) {_are(len(bad))} left out, as predict "
                 f"would refuse {'it' if len(bad) == 1 else 'them'}")
        left["unusable"] = names
    args.left_out, args.recipe_used = left, used
    keep = np.flatnonzero(usable)
    raw = raw[keep]
    data = raw.replace(X[keep], grid)
    return raw, own, data, note + "."
