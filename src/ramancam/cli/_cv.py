"""From the labelled spectra as read to the cross validation, as ``train`` runs it.

One copy of the steps for ``ramancam train`` and for
:func:`ramancam.validate.cross_validate_spectra`: leave out the unlabelled and flat spectra,
build the recipe (``--recipe auto`` decides its baseline), let a fixed split's training part
decide the preprocessing (:func:`~._fold_recipes.split_choice`), make the folds, let each
fold's training part decide its own where it decides otherwise
(:func:`~._fold_recipes.fold_inputs`), say the notes on the data and the folds, and
cross-validate the CNN and the baselines on those folds.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import class_count
from ._fold_recipes import FoldInputs

if TYPE_CHECKING:
    from ..train import CVResult

__all__ = ["CVPlan", "check_training_parts", "cv_kind", "group_axis_note", "inner_groups",
           "plan_cv", "run_cv"]


@dataclass
class CVPlan:
    """What :func:`plan_cv` decided: the labelled spectra as used (``raw``, row for row with
    ``data``), the recipe of the common inputs (a fixed split's: its training part's) and
    those inputs, the folds (``splits``; ``spatial``: the map's blocks, else ``None``), the
    groups of each fit's held-out novelty scores, the folds with inputs of their own, the
    notes on the fixed split's and the folds' own decisions, the first line printed and the
    notes on the data (exact copies, clipped spectra, shifted groups, ...: the report and the
    model keep them too)."""

    raw: Any
    recipe: Any
    data: Any
    spatial: Any
    groups: Any
    splits: Any
    own_inputs: dict[int, FoldInputs]
    split_note: str | None
    fold_notes: list[str]
    header: str
    data_notes: list[str] = field(default_factory=list)

    @property
    def decisions(self) -> list[str]:
        """The split's or the folds' own decisions as the model records them (its settings'
        ``fold_notes``: the notes without ``note: ``)."""
        return [n.removeprefix("note: ") for n in [*filter(None, [self.split_note]),
                                                   *self.fold_notes]]


def inner_groups(args: argparse.Namespace, data: Any) -> Any:
    """The group of every spectrum for the novelty threshold's held-out scores of each fit
    (leave one group out): ``--group-col``'s values, the map blocks of ``--spatial-folds``,
    else ``None`` (leave one spectrum out)."""
    if args.group_col is not None:
        return data.meta[args.group_col] if args.group_col in data.meta else None
    if getattr(args, "spatial_folds", None) is not None:
        from ..maps.folds import spatial_groups

        return spatial_groups(data, n_splits=args.spatial_folds, block_size=args.spatial_block)
    return None


def group_axis_note(data: Any, column: str) -> str | None:
    """The note on groups of ``--group-col`` whose bands sit off the other groups'
    (:func:`ramancam.checks.group_shifts`), or ``None``."""
    import numpy as np

    from ..checks import MIN_SHIFT_GRID, group_shift_note, group_shifts

    grid = np.asarray(data.wavenumbers, dtype=np.float64)
    if grid.size < MIN_SHIFT_GRID:
        return None
    shifts = group_shifts(data.X, data.labels, data.meta[column],
                          float(np.median(np.diff(grid))))
    return group_shift_note(shifts, column)


def plan_cv(args: argparse.Namespace, raw: Any, purpose: str, more: str = "") -> CVPlan:
    """``train``'s steps from the spectra as read (``raw``, with labels) to the folds, each
    with its inputs, printing what ``train`` prints before its table: the spectra left out,
    the first line (spectra, classes, grid, recipe) and the notes on the data and folds.
    Sets ``args.recipe_used`` and ``args.left_out``; ``purpose`` completes the error
    messages ("for training"); ``more`` ends the first line (baseline's model)."""
    from ..train import make_splits
    from ._common import prepare_labelled, spatial_splits
    from ._fold_recipes import fold_inputs, split_choice
    from ._notes import data_notes

    raw, recipe, data = prepare_labelled(args, raw, purpose)
    raw, recipe, data, split_note = split_choice(args, raw, recipe, data)
    spatial = spatial_splits(args, data)
    groups = inner_groups(args, data)
    grid = data.wavenumbers
    header = (f"{len(data)} spectra, {class_count(len(data.class_counts()))}, {grid.size} "
              f"points ({grid[0]:g}-{grid[-1]:g}); recipe: "
              f"{getattr(args, 'recipe_used', args.recipe)}{more}")
    print(header)
    splits = spatial or make_splits(  # as cross_validate makes them, for the notes
        data, folds=args.folds, group_col=args.group_col, split_col=args.split_col,
        train_value=args.train_value, seed=args.seed)
    own_inputs, fold_notes = fold_inputs(args, raw, recipe, splits, grid)
    notes = data_notes(args, raw, data, splits, recipe)
    for note in [*notes, *filter(None, [split_note]), *fold_notes]:
        print(note)
    if args.group_col is not None and args.group_col in data.meta:
        shift = group_axis_note(data, args.group_col)
        if shift:
            print(shift)
            notes.append(shift)
    check_training_parts(args, data.labels, splits)  # under the notes, before any fit
    return CVPlan(raw, recipe, data, spatial, groups, splits, own_inputs, split_note,
                  fold_notes, header, list(notes))


def check_training_parts(args: argparse.Namespace, labels: Any, splits: Any) -> None:
    """Refuse a fixed split or folds that leave one class in a training part, in the
    command line's words (each fit stopped with the estimators' "y must hold at least 2
    classes"); the notes above name the classes each test part holds alone."""
    import numpy as np

    from ..errors import RamancamError

    labels = np.asarray(labels).astype(str)
    for k, (tr, _) in enumerate(splits, start=1):
        held = np.unique(labels[tr])
        if held.size >= 2:
            continue
        got = f"got 1 ({str(held[0])!r})" if held.size else "got none"
        if args.split_col is not None:
            raise RamancamError(
                f"the training part of --split-col {args.split_col} (--train-value "
                f"{args.train_value!r}) must hold at least 2 classes to train a classifier; "
                f"{got}. Put spectra of another class in it, or cross-validate all spectra "
                "(drop --split-col).")
        groups_from = getattr(args, "groups_from", None)
        how = (f"--groups-from {groups_from}" if groups_from is not None else
               f"--group-col {args.group_col}" if args.group_col is not None
               else f"--spatial-folds {args.spatial_folds}")
        raise RamancamError(
            f"every fold's training part must hold at least 2 classes to train a classifier; "
            f"{got} in fold {k} of {len(splits)} ({how}). The folds must leave spectra of "
            "two classes in each training part: more groups, or groups (blocks) that hold "
            "more than one class.")


def run_cv(args: argparse.Namespace, plan: CVPlan, params: dict[str, Any], *,
           keep_models: bool = False,
           progress: Callable[[int, int, float], None] | None = None,
           diverged: Callable[[int, int, int], None] | None = None) -> CVResult:
    """Cross-validate the CNN of ``params`` (and, with ``args.compare``, the baselines) on
    ``plan``'s folds and inputs, as ``train`` does; PLS-DA's convergence warnings come as one
    printed line after the folds."""
    from ..train import cross_validate
    from ._common import convergence_note

    # PLS-DA's inner search warns once per slow fit: one line after the table instead
    with convergence_note("a baseline (PLS-DA's NIPALS)"):
        return cross_validate(plan.data, estimator_params=params, folds=args.folds,
                              group_col=args.group_col, split_col=args.split_col,
                              train_value=args.train_value, seed=args.seed,
                              compare=args.compare, keep_models=keep_models,
                              progress=progress, splits=plan.spatial, groups=plan.groups,
                              fold_inputs=plan.own_inputs, diverged=diverged)


def cv_kind(args: argparse.Namespace, cv: CVResult, spatial: Any) -> str:
    """The validation in words, as ``train`` names it above its table (``5-fold CV``,
    ``fixed split``, ...)."""
    if args.split_col is not None:
        return "fixed split"
    return (f"{len(cv.fold_accuracy)}-fold{' group' if args.group_col else ''}"
            f"{' spatial' if spatial is not None else ''} CV")
