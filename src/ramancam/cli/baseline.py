"""``ramancam baseline``: the chemometric baselines alone (PCA + SVM or PLS-DA with VIP)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    GivenAction,
    add_data_arguments,
    add_recipe_arguments,
    add_split_arguments,
)
from ._stdin import shown_as

NAME = "baseline"
HELP = ("PCA + SVM, PLS-DA (with VIP scores) or library search on the same data, recipe and "
        "splits as train")
DESCRIPTION = """\
Preprocess the spectra exactly as 'ramancam train' does (--recipe, --grid), split them the
same way (stratified K-fold, group-aware K-fold with --group-col, or a fixed train/test split
with --split-col/--train-value; same --seed, same folds) and fit one of the paper's
comparison classifiers on every training part:

  pca-svm  centring, PCA, support vector machine; components, C and kernel chosen by inner
           cross validation on the training part only
  plsda    PLS2 regression on one-hot classes, class = largest predicted indicator; number
           of latent variables chosen by inner cross validation; VIP scores per class
  library  library search, what instrument vendors ship: the class of the training spectrum
           with the highest hit quality index (correlation) with the unknown; no tuning

Prints the accuracy per fold and mean +- sd (or the test accuracy of a fixed split), and,
where the classes are imbalanced (4:1 or more) and the balanced accuracy (mean recall per
class) falls 0.01 or more below the accuracy, a note with it and the worst class. With
--out DIR it writes DIR/predictions.csv (id, fold, true, predicted; each test spectrum once:
every spectrum with K folds, the test part of a fixed split), DIR/baseline.json (settings,
accuracies, chosen parameters) and, for
plsda, DIR/vip.csv (per-class VIP of a model fitted on all training spectra: a 'class'
column then one column per grid point; read it with
ramancam.io.read_table(path, label_col="class")) and DIR/vip.png.

examples:
  ramancam baseline spectra.csv.gz --label-col label --grid 400:1800:1 --model pca-svm
  ramancam baseline spectra.csv.gz --label-col label --grid 400:1800:1 --model plsda \\
      --split-col split --train-value train --out plsda-results
"""

MODELS = ("pca-svm", "plsda", "library")
#: Each model in words (the lines under the accuracy).
MODEL_NAMES = {"pca-svm": "PCA + SVM", "plsda": "PLS-DA", "library": "library search"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p)
    p.add_argument("--model", required=True, choices=MODELS,
                   help="which baseline: pca-svm, plsda or library")
    p.add_argument("--out", metavar="DIR",
                   help="folder for predictions.csv, baseline.json and (plsda) vip.csv and "
                        "vip.png; created when missing (default: print only)")
    add_recipe_arguments(p)
    add_split_arguments(p)
    g = p.add_argument_group("model")
    g.add_argument("--components", metavar="N[,N...]",
                   help="candidate numbers of components for the inner search (default "
                        "pca-svm 5,10,20,40; plsda 1..20, 1..K for K > 20 classes)")
    g.add_argument("--inner-folds", type=int, default=3, metavar="K", action=GivenAction,
                   help="folds of the inner cross validation that picks the settings "
                        "(default 3)")


def parse_components(text: str | None) -> tuple[int, ...] | None:
    """``"5,10,20"`` -> ``(5, 10, 20)``; None stays None."""
    from ..errors import RamancamError

    if text is None:
        return None
    try:
        vals = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise RamancamError(
            f"--components must be positive integers separated by commas, e.g. 5,10,20; "
            f"got {text!r}.") from None
    if any(v < 1 for v in vals):
        raise RamancamError(
            f"--components must be positive integers separated by commas, e.g. 5,10,20; "
            f"got {text!r}.")
    return vals


def make_model(name: str, *, components: tuple[int, ...] | None, inner_folds: int,
               seed: int) -> Any:
    """The baseline estimator named on the command line (inner folds seeded by ``seed``)."""
    from ..baselines import PCASVM, PLSDA, LibrarySearch

    if name == "library":
        return LibrarySearch()
    if name == "pca-svm":
        if components is None:
            return PCASVM(cv=inner_folds, random_state=seed)
        return PCASVM(n_components=components, cv=inner_folds, random_state=seed)
    return PLSDA(n_components=components, cv=inner_folds, random_state=seed)


def _check_args(args: argparse.Namespace) -> tuple[int, ...] | None:
    from ..errors import RamancamError
    from ._outputs import check_not_inputs, check_out_folder

    if args.inner_folds < 2:
        raise RamancamError(
            f"--inner-folds must be an integer >= 2; got {args.inner_folds}.")
    check_out_folder("out", args.out)
    check_not_inputs(args, ("out",), inputs=("data",), folders=("out",),
                     folder_files={"out": ("predictions.csv", "vip.csv")})
    if args.model == "library":
        given = [o for o, on in (("--components", args.components is not None),
                                 ("--inner-folds", getattr(args, "inner_folds_given", False)))
                 if on]
        if given:
            raise RamancamError(
                f"{' and '.join(given)} set{'s' * (len(given) == 1)} the inner search of "
                "pca-svm and plsda; library search has no settings to search. Drop "
                f"{'it' if len(given) == 1 else 'them'}.")
    return parse_components(args.components)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def _write_vip(out: Any, model: Any, grid: Any) -> None:
    from matplotlib.figure import Figure

    from ..baselines import plot_vip
    from ..io import atomic_write, write_table
    from ..spectra import Spectra

    classes = [str(c) for c in model.classes_]
    write_table(Spectra(model.vip_, grid, labels=classes), out / "vip.csv", label_col="class")
    # A bare Figure renders with Agg on savefig: no pyplot state, never a window.
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = plot_vip(model.vip_, grid, classes, ax=fig.add_subplot())
    ax.set_title(f"PLS-DA VIP per class ({model.best_params_['n_components']} latent "
                 "variables)")
    with atomic_write(out / "vip.png", "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)


def run(args: argparse.Namespace) -> int:
    from ..io._atomic import atomic_group
    from ._common import convergence_note

    # the table, the summary and the VIP files replace the earlier run's together
    with convergence_note(MODEL_NAMES[args.model]), atomic_group():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    import numpy as np

    from .._csvout import csv_writer
    from ..io import atomic_write
    from ..io._atomic import atomic_remove
    from ..train import fold_sd
    from ._common import check_split_options, read_data
    from ._cv import plan_cv
    from ._notes import imbalance_note, untrained_left_out

    components = _check_args(args)
    check_split_options(args)
    # train's steps to the folds and its notes (the first line names the model too)
    plan = plan_cv(args, read_data(args), "for a baseline", f"; model: {args.model}")
    raw, recipe, data, splits = plan.raw, plan.recipe, plan.data, plan.splits
    own_inputs, split_note, fold_notes = plan.own_inputs, plan.split_note, plan.fold_notes
    X, y, grid = data.X, raw.labels, data.wavenumbers
    split = args.split_col is not None

    ids = raw.ids
    pred = np.empty(len(data), dtype=object)
    fold_of = np.zeros(len(data), dtype=int)
    untrained = np.zeros(len(data), dtype=bool)  # tested by a model that never saw the class
    folds: list[dict[str, Any]] = []
    for k, (tr, te) in enumerate(splits, start=1):
        Xk, n_test = X, te.size
        fold_of[te] = k  # every test spectrum has its row, a predicted class or none
        if k - 1 in own_inputs:  # this fold's training part chose its own preprocessing
            Xk, usable = own_inputs[k - 1].X, own_inputs[k - 1].usable
            tr, te = tr[usable[tr]], te[usable[te]]  # unusable test spectra: errors
        untrained[te] = ~np.isin(y[te], y[tr])  # (as train's, among the predicted ones)
        model = make_model(args.model, components=components, inner_folds=args.inner_folds,
                           seed=args.seed)
        t0 = time.perf_counter()
        model.fit(Xk[tr], y[tr])
        fit_s = time.perf_counter() - t0
        if te.size:
            pred[te] = model.predict(Xk[te])
        acc = float(np.sum(pred[te] == y[te]) / n_test)
        folds.append({"fold": k, "n_train": int(tr.size), "n_test": int(n_test),
                      "accuracy": acc, "best_params": model.best_params_,
                      "fit_seconds": round(fit_s, 3)})
        what = "test" if split else f"fold {k}/{len(splits)}"
        print(f"  {what}: accuracy {acc:.4f} ({tr.size} train / {n_test} test; "
              f"{_params_text(model.best_params_)}; fit {fit_s:.1f} s)")
    accs = np.array([f["accuracy"] for f in folds])
    if split:
        print(f"test accuracy: {accs[0]:.4f}")
    else:
        print(f"accuracy mean +- sd: {accs.mean():.4f} +- {fold_sd(accs):.4f} "
              f"({len(splits)} folds)")
    # every test spectrum, one without a prediction as an error; not those of a class the
    # fold never trained on (no recall to speak of), said so
    counted = (fold_of > 0) & ~untrained
    note = imbalance_note(
        y[counted], pred[counted], MODEL_NAMES[args.model],
        left_out=untrained_left_out(y[untrained]),
        more="; " + ("--out DIR writes every prediction (predictions.csv)" if args.out is None
                     else f"{Path(args.out) / 'predictions.csv'} lists every prediction"))
    if note:
        print(note)

    if args.out is None:
        return 0
    from ..bundle import data_sha256
    from ..provenance import utc_now
    from ..report import software_versions
    from ._outputs import make_out_folder, say_line

    out = Path(args.out)
    make_out_folder(out)  # removed again (when empty) should the command then fail
    tested = np.flatnonzero(fold_of > 0)
    with atomic_write(out / "predictions.csv", "w", newline="") as fh:
        w = csv_writer(fh)
        w.writerow(["id", "fold", "true", "predicted"])
        for i in tested:
            w.writerow([ids[i], int(fold_of[i]), y[i], pred[i]])
    summary: dict[str, Any] = {
        "model": args.model, "data": shown_as(args.data), "recipe": args.recipe,
        "grid": args.grid, "seed": args.seed, "inner_folds": args.inner_folds,
        # what was applied (the options above may say auto, or nothing)
        "recipe_used": str(getattr(args, "recipe_used", args.recipe)),
        "recipe_steps": None if recipe is None else recipe.to_dict()["steps"],
        "grid_used": [float(grid[0]), float(grid[-1]), int(grid.size)],
        "components": None if components is None else list(components),
        "mode": "split" if split else ("group k-fold" if args.group_col else
                                       "spatial k-fold" if args.spatial_folds else "k-fold"),
        "folds": folds, "mean_accuracy": float(accs.mean()),
        # folds whose training part chose their own recipe or grid, as printed
        "fold_notes": [n.removeprefix("note: ") for n in [*filter(None, [split_note]),
                                                          *fold_notes]],
        "std_accuracy": fold_sd(accs),
        # how the spectra were labelled, left out and split: enough to run it again
        "settings": {
            "label_col": getattr(args, "label_col", None),
            "labels_from": getattr(args, "labels_from", None),
            "groups_from": getattr(args, "groups_from", None),
            "n_folds": None if split or args.spatial_folds else args.folds,
            "group_col": args.group_col, "split_col": args.split_col,
            "train_value": args.train_value if split else None,
            "spatial_folds": args.spatial_folds,
            "spatial_block": getattr(args, "spatial_block", None),
            "spatial_buffer": getattr(args, "spatial_buffer", None),
            "normalize": getattr(args, "normalize", None),
            "laser_nm": getattr(args, "laser_nm", None),
            "axis_offset": getattr(args, "axis_offset", None),
            "drop_clipped": bool(getattr(args, "drop_clipped", False)),
            "left_out": getattr(args, "left_out", None) or {}},
        # which spectra (as model files record them: training_data.sha256), when, by what
        "data_sha256": data_sha256(raw), "created": utc_now(),
        "versions": software_versions()}
    written = ["predictions.csv", "baseline.json"]
    if args.model == "plsda":
        if split:  # the model of the one split was fitted on all training spectra already
            train, final = splits[0][0], model
        else:
            train = np.arange(len(data))
            final = make_model(args.model, components=components,
                               inner_folds=args.inner_folds, seed=args.seed).fit(X, y)
        _write_vip(out, final, grid)
        summary["vip_model"] = {"n_train": int(train.size), "best_params": final.best_params_}
        written += ["vip.csv", "vip.png"]
    # an earlier PLS-DA run's VIP beside this run's results would pass for this run's
    stale = [n for n in ("vip.csv", "vip.png") if n not in written and (out / n).is_file()
             and (out / "baseline.json").is_file()]
    with atomic_write(out / "baseline.json", "w") as fh:
        json.dump(summary, fh, indent=2, default=str)
        fh.write("\n")
    for name in stale:  # with this run's files, not before them
        atomic_remove(out / name)
    say_line(f"wrote {', '.join(written)} to {out}"  # printed once they are in place
             + (f"; removed the earlier run's {' and '.join(stale)}" if stale else ""),
             wrote=True)
    return 0
