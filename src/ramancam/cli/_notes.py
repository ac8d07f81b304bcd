"""The notes ``train`` and ``baseline`` print under their first line (:func:`data_notes`):
what the data and the folds mean for the accuracy, said before any training."""

from __future__ import annotations

import argparse
import contextlib
import re
from typing import Any

from ..errors import first_of, spectra_count
from ._common import clipped_in, clipped_line, implausible_note, in_grid


def k_folds_notes(data: Any, folds: int, *, grouped: bool = False) -> list[str]:
    """Notes for K folds (train, baseline): classes too small for ``folds`` folds, and, for
    random folds (not ``grouped``), a labelled map, whose random folds test pixels beside
    training ones."""
    from ..inner import rare_classes_note
    from ..maps.grid import has_positions

    notes = [rare_classes_note(data.labels, folds) or ""]
    if not grouped and has_positions(data):
        notes.append("note: DATA is a map (x/y positions): random folds test pixels whose "
                     "neighbours trained, which flatters the accuracy; --spatial-folds K "
                     "holds out blocks of pixels (docs/maps.md)")
    return [n for n in notes if n]


def empty_cell_notes(args: argparse.Namespace, data: Any) -> list[str]:
    """Notes for spectra with no value in the split or group column: a split counts them
    as test, group folds pool them as one group; said, not done silently."""
    import numpy as np

    notes = []
    split_vals = None  # the split column's values, stripped, for the near misses below
    for col, what in ((getattr(args, "split_col", None), "split"),
                      (getattr(args, "group_col", None), "group")):
        if col is None or col not in data.meta:
            continue
        vals = np.char.strip(np.asarray(data.meta[col]).astype(str))
        if what == "split":
            split_vals = vals
        n = int(np.sum(vals == ""))
        if not n or (what == "split" and not str(args.train_value).strip()):
            continue
        one = n == 1
        how = (f"like every value other than {args.train_value!r}, "
               f"{'it counts' if one else 'they count'} as test" if what == "split" else
               f"{'it forms' if one else 'they form'} one group of "
               f"{'its' if one else 'their'} own")
        notes.append(f"note: {n} spectr{'um has' if one else 'a have'} no value in {what} "
                     f"column {col!r}; {how}.")
    if split_vals is not None:  # "Train", "TRAIN": test spectra, by the rule
        want = str(args.train_value).strip()
        near = (np.char.lower(split_vals) == want.lower()) & (split_vals != want)
        if near.any():
            odd = sorted(set(split_vals[near].tolist()))
            notes.append(f"note: {spectra_count(int(near.sum()))} in split column "
                         f"{args.split_col!r} "
                         f"read {', '.join(map(repr, odd))}, not {want!r}: they count as "
                         "test. If they are training spectra, fix the column or give "
                         "--train-value.")
        if (pooled := pooled_test_note(split_vals, want, args.split_col)) is not None:
            notes.append(pooled)
    return notes


def pooled_test_note(vals: Any, train: str, col: str) -> str | None:
    """The note for a split column whose test part pools several values ('test' and 'val'),
    each counted as test as every value other than the train value is; the empty cells and
    the train value's case slips have notes of their own. ``vals``: the column's values,
    stripped."""
    import numpy as np

    rest = vals[(vals != "") & (np.char.lower(vals) != train.lower())]
    names, counts = np.unique(rest, return_counts=True)
    if names.size < 2:
        return None
    shown = [f"{str(v)!r} ({int(c)})" for v, c in zip(names, counts, strict=True)]
    listed = (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) <= 5
              else ", ".join(shown[:5]) + f" and {len(shown) - 5} more")
    return (f"note: the test part pools {listed} of split column {col!r}: every value other "
            f"than the train value {train!r} counts as test.")


#: Labels that spreadsheets, R and pandas write for a missing value.
MISSING_LABELS = frozenset({"na", "n/a", "#n/a", "nan", "null", "none", "missing", "?"})


def missing_label_note(labels: Any) -> str | None:
    """A note for labels that read as a missing value ('NA', '#N/A', 'nan', ...): train
    takes them as a class of their own."""
    import numpy as np

    if labels is None:
        return None
    vals, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    odd = [(str(v), int(c)) for v, c in zip(vals, counts, strict=True)
           if v.strip().lower() in MISSING_LABELS]
    if not odd:
        return None
    shown = ", ".join(f"{v!r} ({c})" for v, c in odd)
    many = len(odd) > 1
    return (f"note: label{'s' if many else ''} {shown} read{'' if many else 's'} as a "
            f"missing value (R, spreadsheets and pandas write it so) but count"
            f"{'' if many else 's'} as a class here; if {'they mean' if many else 'it means'} "
            "'no label', empty those cells (empty labels are left out).")


def unknown_labels_note(names: list[str]) -> str | None:
    """The note on the labels (a cube's truth classes) that are none of the model's classes,
    which ``predict``'s accuracy counts wrong, or ``None``."""
    return f"note: labels not known to the model count as wrong: {names}" if names else None


#: A label that is a number as a table writes one ('1', '1.0', '01', '-2.5e3'); not what
#: float() also reads ('nan', 'inf', '1_000').
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def alike_classes_note(labels: Any) -> str | None:
    """A note for class names that differ only in case or whitespace ('Quartz' and
    'quartz', 'Quartz alpha' and 'Quartz  alpha'), or are one number written differently
    ('1', '1.0' and '01': one sheet's labels from a CSV, an old .xls and a zero-padded
    column): a slip in typing one substance, which trains as classes of its own (and reads
    alike in a report)."""
    from decimal import Decimal, InvalidOperation

    import numpy as np

    if labels is None:
        return None
    groups: dict[object, list[str]] = {}
    for name in sorted(set(np.asarray(labels).astype(str).tolist())):
        key: object = " ".join(name.split()).casefold()
        if _NUMBER.fullmatch(name.strip()):
            # compared as exact decimals (equal ones hash alike: '1.0', '01', '1'), not as
            # floats, which call 20-digit numbers one apart, or any two past 1.8e308, alike
            with contextlib.suppress(InvalidOperation):  # an exponent past 10**18: as text
                key = Decimal(name.strip())
        groups.setdefault(key, []).append(name)
    alike = [g for g in groups.values() if len(g) > 1]
    if not alike:
        return None

    def how(group: list[str]) -> str:
        if len({n.casefold() for n in group}) == 1:
            return "case"
        if len({" ".join(n.split()) for n in group}) == 1:
            return "whitespace"
        return ("how the number is written" if _NUMBER.fullmatch(group[0].strip())
                else "case and whitespace")

    def names(group: list[str]) -> str:
        shown = [repr(n) for n in group]
        return ", ".join(shown[:-1]) + " and " + shown[-1]

    shown = "; ".join(f"{names(g)} differ only in {how(g)}" for g in alike[:5])
    more = f"; {len(alike) - 5} more such groups" if len(alike) > 5 else ""
    return (f"note: classes {shown}{more}: they train as separate classes; if they are one "
            "substance, fix the labels.")


def unseen_classes_note(labels: Any, splits: Any, *, fixed: bool = False) -> str | None:
    """The line a split deserves when some test spectra are of a class its training part
    lacks (its model cannot name them: they count as errors), or ``None``. ``splits``:
    (train, test) index pairs; ``fixed``: one fixed train/test split."""
    import numpy as np

    labels = np.asarray(labels).astype(str)
    missing: dict[str, int] = {}
    n_folds = 0
    for tr, te in splits:
        new = set(labels[te].tolist()) - set(labels[tr].tolist())
        n_folds += bool(new)
        for c in new:
            missing[c] = missing.get(c, 0) + int(np.sum(labels[te] == c))
    if not missing:
        return None
    new_classes = sorted(missing)
    shown = ", ".join(f"{c} ({missing[c]})" for c in new_classes[:5])
    more = f" and {len(new_classes) - 5} more" if len(new_classes) > 5 else ""
    one, total = len(new_classes) == 1, sum(missing.values())
    if fixed:
        return (f"note: {len(new_classes)} {'class is' if one else 'classes are'} only in the "
                f"test part ({shown}{more}): the model cannot name {'it' if one else 'them'}, "
                f"so {'its' if one else 'their'} {total} test spectra count as errors "
                "(docs/novelty.md: spectra of classes the model never saw).")
    listed = ", ".join(f"{c}: {missing[c]}" for c in new_classes[:5])
    return (f"note: {n_folds} of {len(splits)} folds test{'s' * (n_folds == 1)} "
            f"{'a class' if one else 'classes'} that {'its' if n_folds == 1 else 'their'} "
            f"training part lacks (test spectra {listed}{more}): the fold "
            f"model cannot name {'it' if one else 'them'}, so those {total} test spectra "
            "count as errors. A class must span more than one group (or block) to be tested "
            "on a model that saw it.")


def untested_classes_note(labels: Any, splits: Any) -> str | None:
    """A fixed split's line for classes its test part lacks (trained, never checked), or
    ``None``."""
    import numpy as np

    labels = np.asarray(labels).astype(str)
    (tr, te), = splits
    gone = sorted(set(labels[tr].tolist()) - set(labels[te].tolist()))
    if not gone:
        return None
    one = len(gone) == 1
    shown = first_of(gone, 5)
    return (f"note: {len(gone)} {'class is' if one else 'classes are'} only in the training "
            f"part ({shown}): the test accuracy says nothing about "
            f"{'it' if one else 'them'}.")


def data_notes(args: argparse.Namespace, raw: Any, data: Any, splits: Any,
               recipe: Any = None) -> list[str]:
    """The notes ``train`` and ``baseline`` print under their first line, in one order: empty
    split or group cells, rare classes of random folds, classes a fold's training part
    lacks, copies across training and test, clipped, spiked, coarse or too narrow spectra,
    and an axis in wavelengths, channels or absolute wavenumbers. ``splits``: the (train,
    test) index pairs the run uses; ``recipe``: its recipe (``None``: ``--recipe none``),
    which the spike note's advice despikes."""
    import numpy as np

    from ..checks import (
        absolute_axis_note,
        channel_axis_note,
        coarse_note,
        duplicates_note,
        fill_ends,
        fill_note,
        narrow_grid_note,
        wavelength_axis_note,
    )

    split = getattr(args, "split_col", None) is not None
    spatial = getattr(args, "spatial_folds", None) is not None
    notes = empty_cell_notes(args, data)
    grouped = args.group_col is not None
    if grouped or not (split or spatial):
        notes += k_folds_notes(data, args.folds, grouped=grouped)
    if (missing := missing_label_note(data.labels)) is not None:
        notes.append(missing)
    if (alike := alike_classes_note(data.labels)) is not None:
        notes.append(alike)
    grid = data.wavenumbers
    found = [unseen_classes_note(data.labels, splits, fixed=split),
             untested_classes_note(data.labels, splits) if split else None,
             duplicates_note(data, splits, data.meta.get(args.group_col) if grouped
                             else None),
             clipped_training_note(raw, grid),
             implausible_note(raw, grid, "check the files, or leave them out: the "
                              "models train on them as read"),
             spiked_training_note(raw, grid, recipe),
             below_line_note(data, recipe),
             # the default grid only: a --grid the user chose is no narrowing by a few
             None if getattr(args, "grid", None) else narrow_grid_note(raw, grid),
             coarse_note(raw, float(np.median(np.diff(grid)))),
             fill_note(fill_ends(raw)),
             None if getattr(args, "laser_nm", None) else wavelength_axis_note(raw),
             channel_axis_note(raw, grid), absolute_axis_note(raw)]
    return notes + [n for n in found if n]


def clipped_training_note(raw: Any, grid: Any) -> str | None:
    """``train``'s and ``baseline``'s note on training spectra clipped inside the grid."""
    return clipped_line(clipped_in(raw, grid), raw.ids, "inside the grid",
                        "a classifier can learn the artefact: leave them out (--drop-clipped) "
                        "or measure them again")


def despike_recipe_json(recipe: Any) -> str:
    """The recipe JSON of ``recipe`` (``None``: none) with a despike step first, on one line,
    each step's parameters only where they differ from the defaults."""
    import json

    from ..errors import RamancamError
    from ..preprocess import Recipe, Step

    steps: list[Any] = ["despike"]
    for st in [] if recipe is None else recipe.steps:
        try:
            defaults = Step(st.name).params
        except RamancamError:  # a step without defaults for everything (crop)
            defaults = {}
        own = {k: v for k, v in st.params.items() if k not in defaults or defaults[k] != v}
        steps.append({"name": st.name, "params": own} if own else st.name)
    return json.dumps({"format": Recipe.FORMAT, "version": Recipe.VERSION, "steps": steps})


def despike_advice(recipe: Any) -> str:
    """How to train with ``recipe`` despiked: the recipe JSON to save and the option."""
    return (f"Remove them with a recipe that despikes first: save {despike_recipe_json(recipe)}"
            " as despike.json and give --recipe despike.json (check the despiked spectra: "
            "despiking also cuts bands only a few points wide)")


def spiked_in(data: Any, grid: Any) -> list[Any]:
    """The spectra of ``data`` with a cosmic-ray spike inside ``grid``'s range
    (:func:`ramancam.checks.spiked_spectra`)."""
    from ..checks import spiked_spectra

    return in_grid(spiked_spectra, data, grid)


def spiked_training_note(raw: Any, grid: Any, recipe: Any) -> str | None:
    """``train``'s and ``baseline``'s note on training spectra with a cosmic-ray spike inside
    the grid, with a recipe that despikes them; ``None`` when there are none or the recipe
    despikes."""
    from ..checks import spike_line

    if recipe is not None and any(st.name == "despike" for st in recipe.steps):
        return None
    return spike_line(spiked_in(raw, grid), raw.ids, where=" inside the grid",
                      advice="a classifier can learn it, and predict flags such spectra "
                             "unknown. " + despike_advice(recipe))


def spiked_unknown_note(data: Any, grid: Any, flagged: Any, recipe: Any,
                        n_flagged: int | None = None) -> str | None:
    """``predict``'s note on spectra with a cosmic-ray spike inside the model's range: how
    many of those flagged unknown (``flagged``: a mask over ``data``; ``n_flagged``: how many
    were flagged in all, when ``data`` holds only some of the spectra) carry one, the likely
    cause; ``None`` when none does or the model's recipe despikes."""
    import numpy as np

    from ..checks import spike_line
    from ..errors import spectra_count

    if recipe is not None and any(st.name == "despike" for st in recipe.steps):
        return None
    found = spiked_in(data, grid)
    flagged = np.asarray(flagged, dtype=bool)
    hit = [f for f in found if flagged[f.index]]
    fix = ("measure them again, or predict with a model trained on a recipe that despikes "
           "(train's note on spikes gives one)")
    if not hit:
        return spike_line(found, data.ids, where=" inside the model's range",
                          advice="their predictions may suffer: " + fix)
    rest = len(found) - len(hit)
    n = int(flagged.sum()) if n_flagged is None else int(n_flagged)
    return spike_line(hit, data.ids, where=" inside the model's range",
                      subject=f"{len(hit)} of the {spectra_count(n)} flagged unknown",
                      advice="the spike, not a new substance, is the likely cause"
                             + (f" ({rest} more spectr{'um carries' if rest == 1 else 'a carry'}"
                                " one, not flagged)" if rest else "") + "; " + fix)


def intensity_notes(data: Any, ids: list[str], grid: Any, flagged: Any, recipe: Any,
                    n_flagged: int | None = None) -> list[str]:
    """``predict``'s notes on the predicted spectra ``data`` (named ``ids``) inside the
    model's ``grid``: clipped (a saturated detector), values no detector counts, cosmic-ray
    spikes (:func:`spiked_unknown_note`, with ``flagged`` and ``n_flagged``); a map read
    tile by tile gives the pixels those checks found and the count of all flagged."""
    from ._common import clipped_in, clipped_line, implausible_note

    notes = [clipped_line(clipped_in(data, grid), ids, "inside the model's range",
                          "measure again with less laser power or time, or read these "
                          "predictions with care"),
             implausible_note(data, grid, "check the files before trusting these predictions"),
             spiked_unknown_note(data, grid, flagged, recipe, n_flagged)]
    return [n for n in notes if n]


def trained_note(n_same: int, n_predicted: int, what: str = "spectra") -> str:
    """The note on spectra (or a map's pixels) that are the same after preprocessing as
    spectra the model was trained on (library novelty score 0): their numbers test
    nothing. The score compares standardised first derivatives, so a spectrum that differs
    from a training spectrum by its intensity scale and a straight line scores 0 too (the
    same spectrum measured over another range, whose end-point baseline differs), and the
    note says so."""
    return (f"note: {n_same} of {n_predicted} {what} are the same as spectra the model was "
            "trained on (novelty 0: the same after preprocessing, up to intensity scale and "
            "a straight-line background); their accuracy, unknown "
            "flags and library matches are no test of the model. Predict spectra it was not "
            "trained on, or read train's cross-validation")


#: The class sizes from which accuracy can hide a class: the largest tested class holds this
#: many times the spectra of the smallest, or more.
IMBALANCE_RATIO = 4
#: ... and the balanced accuracy falls this far below the accuracy, or further.
IMBALANCE_GAP = 0.01


def untrained_left_out(labels: Any) -> str:
    """:func:`imbalance_note`'s ``left_out`` for the tested spectra of ``labels`` whose
    class the model that tested them never trained on (empty for none)."""
    import numpy as np

    from ..train_report import _classes_listed

    labels = np.asarray(labels).astype(str)
    if not (k := labels.size):
        return ""
    return (f"left out: the {k} spectr{'um' if k == 1 else 'a'} of {_classes_listed(labels)}, "
            f"tested by a model that never trained on {'its' if k == 1 else 'their'} class")


def imbalance_note(true: Any, pred: Any, model: str, *, more: str = "",
                   left_out: str = "") -> str | None:
    """The note under an accuracy table (train, baseline) when the classes are imbalanced
    and the accuracy hides it: the largest tested class holds :data:`IMBALANCE_RATIO` times
    the spectra of the smallest or more, and the balanced accuracy (mean recall per class,
    :func:`sklearn.metrics.balanced_accuracy_score`) falls :data:`IMBALANCE_GAP` or more below
    the accuracy, so the small classes are recognised worse than the accuracy says. Gives
    the balanced accuracy and the worst class's recall; ``None`` otherwise.

    Parameters
    ----------
    true, pred : array-like of shape (n_tested,)
        True and predicted class of every tested spectrum (out of fold; ``""`` or ``None``
        for a test spectrum without a prediction: an error).
    model : str
        The model in words, e.g. "the CNN".
    more : str
        Where to see more (ends the line).
    left_out : str
        The tested spectra not in ``true`` in words (ends the counts' parentheses), e.g.
        "left out: the 8 spectra of R, tested by a model that never trained on their
        class"; empty when none are.
    """
    import warnings

    import numpy as np
    from sklearn.metrics import balanced_accuracy_score

    true = np.asarray(true).astype(str)
    pred = np.asarray([("" if p is None else str(p)) for p in np.asarray(pred, dtype=object)])
    classes, counts = np.unique(true, return_counts=True)
    if classes.size < 2 or counts.max() < IMBALANCE_RATIO * counts.min():
        return None
    with warnings.catch_warnings():  # predicted classes that no tested spectrum is of
        warnings.simplefilter("ignore")
        balanced = float(balanced_accuracy_score(true, pred))
    right = pred == true
    if balanced > float(right.mean()) - IMBALANCE_GAP:
        return None
    hits = np.array([int(right[true == c].sum()) for c in classes])
    worst = np.lexsort((classes, counts, hits / counts))[0]  # ties: the smaller class
    big, small = int(np.argmax(counts)), int(np.argmin(counts))
    return (f"note: imbalanced classes (largest {classes[big]}: {counts[big]} tested "
            f"spectra; smallest {classes[small]}: {counts[small]}"
            f"{'; ' + left_out if left_out else ''}), and accuracy weighs each "
            f"class by its spectra: {model}'s balanced accuracy (mean recall per class) is "
            f"{balanced:.3f}; its worst class, {classes[worst]}, recognised {hits[worst]} of "
            f"{counts[worst]}. More spectra of the small classes help most{more}")


#: How far below zero (in units of its maximum) a spectrum the paper's recipe prepared may
#: reach before the note below names it: its straight line lay above most of it.
BELOW_LINE = 1.0


def below_line_note(data: Any, recipe: Any) -> str | None:
    """The note when the recipe's straight baseline (the paper's line through the end
    points) lay above most of some spectra, so that, normalised to their maximum, they reach
    below -:data:`BELOW_LINE` (drug-mabs: 37 of 999, to -4.03, 31 of them of one class):
    those inputs are scaled unlike the rest, by a small peak above the line. ``data``: the
    preprocessed spectra; ``None`` for other recipes or when none does."""
    import numpy as np

    from ..errors import first_of, spectra_count

    steps = [] if recipe is None else list(getattr(recipe, "steps", []))
    if not any(st.name == "linear_baseline" for st in steps) or not (
            steps[-1].name == "normalize" and steps[-1].params.get("method", "max") == "max"):
        return None
    X = np.asarray(data.X, dtype=np.float64)
    low = np.nanmin(X, axis=1) if X.size else np.zeros(0)
    hit = np.flatnonzero(low < -BELOW_LINE)
    if not hit.size:
        return None
    worst = int(hit[np.argmin(low[hit])])
    ids = data.ids
    return (f"note: {spectra_count(hit.size)} fall below -{BELOW_LINE:g} after the recipe's "
            f"straight baseline and normalisation to the maximum (down to {low[worst]:.2f} in "
            f"{ids[worst]}; {first_of([ids[i] for i in hit], 5)}): the line through the end "
            "points lies above most of each, so a small peak above it sets their scale; "
            "--recipe asls fits a baseline under the spectrum")

