"""``ramancam train``: preprocess, cross-validate (with baselines), fit and save a model."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..novelty import DEFAULT_METHOD, METHODS
from ..presets import AUGMENT_MODES, PRESETS
from ._common import add_data_arguments, add_recipe_arguments, add_split_arguments
from ._outputs import winner_of
from ._stdin import shown_as

if TYPE_CHECKING:
    from ..train import CVResult

NAME = "train"
HELP = "train the CNN on labelled spectra, cross-validate it and save the model"
DESCRIPTION = """\
Preprocess the spectra (--recipe, --grid), estimate accuracy by stratified K-fold cross
validation (or group-aware K-fold with --group-col, a fixed train/test split with
--split-col/--train-value, or, for a labelled map, blocks of neighbouring pixels with
--spatial-folds K: docs/maps.md), print a table of per-fold and mean +- sd accuracy for the
CNN and, with --compare (default), for PCA + SVM, PLS-DA and a library search (nearest
training spectrum by correlation) on exactly the same folds, name the winner (and, where
the classes are imbalanced, 4:1 or more, and the CNN's balanced accuracy falls 0.01 or more
below its accuracy, give that balanced accuracy and its worst class), then fit the
final model on all training spectra and save it as one file (weights, recipe, grid, classes,
settings, versions and the CV results) for 'ramancam predict' and 'ramancam explain'.
Spectra with an empty label, and flat (dead) spectra (one value or a straight line
throughout the grid), are left out, each kind with one printed line (counting the first,
naming the second), and recorded in the model ('ramancam info MODEL' shows them). Progress
goes to stderr: a line per fold, and within each fit a bar on a terminal or, in a log file,
a line a minute.
With --group-col (or --groups-from), a note before the table names the groups whose bands
sit 1.5 cm-1 or more off the other groups' spectra of their class, as a Raman-shift
calibration that differs between sessions would put them (docs/novelty.md).

Knowing when not to answer (docs/novelty.md): the out-of-fold logits and novelty scores of
the cross validation choose a softmax temperature (calibrated probabilities; the expected
calibration error before and after is printed under the table) and a novelty threshold for
--novelty-rate false alarms on known spectra; 'ramancam predict' then reports spectra above it
as 'unknown'. The same held-out values set conformal prediction sets (the classes a spectrum
may be, for the true one to be among them 1 - rate of the time); their cross-fitted coverage
and mean size are printed too. With a fixed split, an inner 3-fold CV of the training part
(3 more fits) supplies those held-out values instead.

Two presets; any option given explicitly overrides its preset value (--preset paper does not
augment: an augmentation amount needs --augment on there, and --augment on without amounts
takes the tuned preset's):
  --preset tuned (default): the paper's network (64 filters of size 8, 2 conv blocks, FC1
      of 128), Adam with learning rate 1e-4 annealed to 0 (cosine) over 100 epochs, batch
      size 32, and inputs centred on the mean training spectrum (--input-scaling center).
      Augmentation (--augment auto): each fit decides, on an inner 80/20 split of its
      training part, whether to train with random band shifts of up to 3 grid points,
      straight baselines up to 5 % of the maximum, intensity scale 1 +- 0.1 and noise of
      1 % (about 2.6x the time of one fit); the decision is printed and saved.
      Its FC-importance maps point at the class band (Fig. 3 simulation); accuracy on
      measured sets against the baselines: docs/realdata.md.
  --preset paper: the paper as written: 64 filters of size 8, constant learning rate 1e-4,
      100 epochs, batch size 32, no input scaling, no augmentation.
In Python, ramancam.preprocess.auto_recipe(spectra) and CNNClassifier.from_preset("tuned")
give the default recipe and network (README, In Python).

examples:
  ramancam train spectra.csv.gz --label-col label --grid 400:1800:1 --out model.ramancam
  ramancam train spectra.csv.gz --label-col label --grid 400:1800:1 \\
      --split-col split --train-value train --out model.ramancam
  ramancam simulate peaks --out peaks.csv
  ramancam train peaks.csv --label-col label --recipe none --lr 1e-3 --out peaks.ramancam
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p)
    p.add_argument("--out", required=True, metavar="MODEL",
                   help="model file to write (e.g. model.ramancam); replaced atomically")
    p.add_argument("--report", metavar="FILE.html",
                   help="also write a self-contained HTML report of the run: the accuracy "
                        "table and a chart per fold, the CNN's out-of-fold confusion matrix "
                        "and per-class recall, each class's mean spectrum with the final "
                        "model's mean FC-importance map, calibration and novelty plots, "
                        "settings and versions")
    add_recipe_arguments(p)
    add_split_arguments(p)
    p.add_argument("--compare", action=argparse.BooleanOptionalAction, default=True,
                   help="also cross-validate PCA + SVM, PLS-DA and library search on the "
                        "same folds "
                        "(default: on)")
    p.add_argument("--preset", choices=list(PRESETS), default="tuned",
                   help="starting values of the network and training options (default "
                        "tuned; paper = the paper's settings as written)")
    m = p.add_argument_group("network")
    m.add_argument("--filters", type=int, metavar="N",
                   help="filters per convolution layer (default 64)")
    m.add_argument("--filter-size", type=int, metavar="N",
                   help="convolution kernel size (default 8; 32 gave 1-2 points more on "
                        "drug-mabs but maps whose maximum sits beside the band)")
    m.add_argument("--blocks", type=int, default=2, metavar="N",
                   help="conv + pool blocks (default 2)")
    m.add_argument("--fc-width", type=int, default=128, metavar="N",
                   help="outputs of the first fully connected layer (default 128)")
    m.add_argument("--fc-activation", choices=["none", "leaky"], default="none",
                   help="activation after FC1 (default none, as in the paper)")
    m.add_argument("--dropout", type=float, default=0.5, metavar="X",
                   help="dropout after FC1 (default 0.5)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=100, metavar="N",
                   help="training epochs (default 100)")
    t.add_argument("--lr", type=float, default=1e-4, metavar="X",
                   help="Adam learning rate (default 1e-4)")
    t.add_argument("--batch-size", type=int, default=32, metavar="N",
                   help="mini-batch size (default 32)")
    t.add_argument("--lr-schedule", choices=["constant", "cosine"],
                   help="learning rate over the epochs (tuned cosine: annealed to 0; paper "
                        "constant)")
    t.add_argument("--input-scaling", choices=["none", "center"],
                   help="center: subtract the mean training spectrum and divide by the "
                        "spread of the centred training data, inside the model (tuned "
                        "center, paper none)")
    t.add_argument("--weight-decay", type=float, default=0.0, metavar="X",
                   help="L2 weight decay for Adam (default 0)")
    t.add_argument("--augment", choices=AUGMENT_MODES,
                   help="training augmentation (the four amounts below): 'auto' decides per "
                        "fit, by training with and without it on an 80/20 split of the "
                        "training part and keeping the better (about 2.6x the time of one "
                        "fit); 'on' always; 'off' never (tuned auto, paper off)")
    t.add_argument("--augment-noise", type=float, metavar="X",
                   help="augmentation: Gaussian noise, sd relative to each spectrum's "
                        "maximum (tuned 0.01, paper 0)")
    t.add_argument("--augment-shift", type=int, metavar="N",
                   help="augmentation: random shift of up to N grid points (tuned 3, paper 0)")
    t.add_argument("--augment-baseline", type=float, metavar="X",
                   help="augmentation: random straight baseline, offset and slope up to X of "
                        "the maximum (tuned 0.05, paper 0)")
    t.add_argument("--augment-scale", type=float, metavar="X",
                   help="augmentation: random intensity scale 1 +- X (tuned 0.1, paper 0)")
    t.add_argument("--bf16", action="store_true",
                   help="train with the convolutions in bfloat16 (about 1.5x faster on CPUs "
                        "with AVX-512 BF16/AMX; changes the numbers slightly; the saved model "
                        "is float32)")
    t.add_argument("--device", default="cpu", metavar="cpu|cuda|cuda:N|auto",
                   help="where to train (default cpu; auto = GPU when available; cuda:N the "
                        "N-th GPU)")
    n = p.add_argument_group("unknown spectra and calibration")
    n.add_argument("--novelty", default=DEFAULT_METHOD,
                   choices=[*METHODS, "none"],
                   help="novelty score for flagging spectra of substances not in the "
                        "training data: hqi-nap (default; 1 - the derivative correlation "
                        "with the nearest training spectrum, the grid's lower and upper half "
                        "weighted alike, after removing the two directions in which spectra "
                        "of one class differ most, such as a leftover background), "
                        "hqi-halves (the same without that removal, the default until "
                        "2026-12-06), hqi (the derivative correlation over the whole grid at "
                        "once), knn (distance to the nearest training spectrum in the "
                        "network's FC1 features), mahalanobis, energy, msp, or none "
                        "(docs/novelty.md)")
    n.add_argument("--novelty-rate", type=float, default=0.05, metavar="X",
                   help="false-alarm rate on known spectra for the novelty threshold "
                        "(default 0.05)")
    t.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch and BLAS (numpy, scikit-learn) (default: their "
                        "choice; at most 4 per core; 1 is often fastest "
                        "on a busy shared machine)")


def estimator_params(args: argparse.Namespace) -> dict[str, Any]:
    """CNNClassifier keyword arguments from the command-line options and ``--preset``."""
    preset = PRESETS[getattr(args, "preset", None) or "tuned"]

    def pick(name: str) -> Any:
        v = getattr(args, name, None)
        return preset[name] if v is None else v

    from ..augment import AUGMENT_PARAMS

    mode = pick("augment")
    given = [k for k in AUGMENT_PARAMS if getattr(args, k, None) is not None]
    if mode == "off" and given:
        from ..errors import RamancamError

        why = ("--augment off" if getattr(args, "augment", None) == "off"
               else f"--preset {args.preset}, which trains without augmentation")
        raise RamancamError(
            f"--{given[0].replace('_', '-')} does nothing with {why}. Add --augment on "
            "(or auto) to use it, or drop it.")
    # --augment on/auto beside a preset without augmentation (paper): the default amounts
    amounts = {k: (0 if mode == "off" else pick(k)
                   if getattr(args, k, None) is not None or preset[k] else PRESETS["tuned"][k])
               for k in AUGMENT_PARAMS}
    if mode != "off" and given and not any(amounts.values()):
        from ..errors import RamancamError

        raise RamancamError(  # it trained without augmentation and said nothing
            f"--augment {mode} must have an amount above 0 to augment; got every amount 0 "
            f"({', '.join('--' + k.replace('_', '-') for k in given)}). Give one, or "
            "--augment off.")
    return {"n_filters": pick("filters"), "filter_size": pick("filter_size"),
            "n_blocks": args.blocks, "fc_width": args.fc_width,
            "fc_activation": args.fc_activation, "dropout": args.dropout,
            "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
            "lr_schedule": pick("lr_schedule"), "input_scaling": pick("input_scaling"),
            "weight_decay": args.weight_decay, **amounts,
            "augment_select": mode == "auto", "bf16": bool(getattr(args, "bf16", False)),
            "device": args.device,
            "random_state": args.seed, "verbose": True,
            "novelty": None if getattr(args, "novelty", DEFAULT_METHOD) == "none"
            else getattr(args, "novelty", DEFAULT_METHOD),
            "novelty_rate": getattr(args, "novelty_rate", 0.05)}


#: The estimator's keyword -> the train option that sets it (for messages).
OPTION_OF = {"n_filters": "--filters", "filter_size": "--filter-size", "n_blocks": "--blocks",
             "fc_width": "--fc-width", "dropout": "--dropout", "epochs": "--epochs",
             "lr": "--lr", "batch_size": "--batch-size", "weight_decay": "--weight-decay",
             "augment_noise": "--augment-noise", "augment_shift": "--augment-shift",
             "augment_baseline": "--augment-baseline", "augment_scale": "--augment-scale",
             "device": "--device", "novelty_rate": "--novelty-rate"}


def check_params(params: dict[str, Any]) -> None:
    """The network and training options checked as ``CNNClassifier.fit`` will, but before
    any data are read, in the options' names."""
    from ..errors import RamancamError
    from ..model import resolve_device
    from ..train import CNNClassifier

    est = CNNClassifier(**params)
    try:
        est._check_params()
        est._config(1 << 20, 2)  # the architecture's own checks, on a nominal length
        resolve_device(params["device"])
    except RamancamError as exc:
        text = exc.cli or str(exc)  # the command line's own words where the error has them
        if "pooling block" in text:  # checked on a nominal length: say it in option terms
            text = (f"--blocks must be a few (each block halves the spectrum); got "
                    f"{params['n_blocks']}.")
        name = text.split(" ", 1)[0]
        if name in OPTION_OF:
            text = OPTION_OF[name] + text[len(name):]
        raise RamancamError(text) from None


def _classes_text(model: Any, tested: list[str]) -> str:
    """The report's class count: the model's, and classes only its test part held."""
    extra = sorted(set(map(str, tested)) - set(map(str, model)))
    return f"{len(model)}" + (f" (and {', '.join(extra)} only in the test part: never "
                              "trained)" if extra else "")


def augment_line(choice: dict[str, Any], per_fold: list[bool | None]) -> str:
    """The line saying whether the final model trains with augmentation, and why."""
    acc, loss = choice["val_accuracy"], choice["val_loss"]
    folds = [c for c in per_fold if c is not None]
    cv_part = (f"; chosen in {sum(folds)} of {len(folds)} CV folds"
               if len(folds) > 1 else "")
    if choice.get("skipped"):
        return f"augmentation: off (not chosen: {choice['skipped']}{cv_part})"
    # which of the two decided (augment.prefers_augmentation): they may disagree
    by_acc, by_loss = (", which decides", "") if acc["on"] != acc["off"] else (
        ("", ", which decides") if loss["on"] != loss["off"] else ("", "; a tie: off"))
    return (f"augmentation: {'on' if choice['augment'] else 'off'} (inner validation on "
            f"{choice['n_val']} training spectra: accuracy {acc['on']:.3f} with, "
            f"{acc['off']:.3f} without{by_acc}; loss "
            f"{' / '.join(_losses(loss['on'], loss['off']))}{by_loss}{cv_part})")


def _losses(on: float, off: float) -> tuple[str, str]:
    """Two validation losses as the augmentation line prints them: small ones (a training
    set learnt perfectly) in scientific notation, and with digits enough to show which is
    smaller (the one that decided), up to 7."""
    sci = min(on, off) < 0.01  # both in one notation, so that they compare at a glance
    for digits in range(3, 8):
        a, b = (f"{v:.{digits - 1}e}" if sci else f"{v:.{digits}f}" for v in (on, off))
        if a != b or on == off:
            break
    return a, b


def format_cv(cv: CVResult) -> str:
    """The per-fold and mean +- sd accuracy table printed by ``ramancam train``."""
    columns, rows = cv.table_rows()
    names = columns[3:]
    width = max(15, *(len(n) + 2 for n in names))
    lines = [f"{'fold':<6}{'train':>7}{'test':>7}" + "".join(f"{n:>{width}}" for n in names)]
    for r in rows:
        if r[0] == "mean +- sd":
            lines.append(f"{r[0]:<20}" + "".join(f"{t:>{width}}" for t in r[3:]))
        else:
            lines.append(f"{r[0]:<6}{r[1]:>7}{r[2]:>7}"
                         + "".join(f"{a:>{width}.4f}" for a in r[3:]))
    return "\n".join(lines)


def format_winner(cv: CVResult) -> str:
    """The lines printed under the table: which model won, and whether a baseline beats the
    CNN by more than the CNN's fold sd (empty without baselines)."""
    if not cv.baselines:
        return ""
    # means rounded far below one spectrum, so that 1/3 + 1/3 and 5/12 + 1/4 tie (their
    # floating-point sums differ in the last bit)
    summ = {n: (round(float(m), 9), sd)
            for n, (m, sd) in {"CNN": (cv.mean, cv.std), **cv.baseline_summary()}.items()}
    best = winner_of({n: m for n, (m, _) in summ.items()})  # ties go to the CNN
    what = "test accuracy" if len(cv.fold_sizes) == 1 else "mean accuracy"
    lines = [f"winner: {best} ({what} {summ[best][0]:.3f})"]
    tied = [n for n in summ if n != best and summ[n][0] == summ[best][0]]
    if tied:
        lines.append(f"note: a tie: {' and '.join(tied)} {'has' if len(tied) == 1 else 'have'} "
                     f"the same {what} as {best}; a tie is named for the CNN (else the first "
                     "column)")
    base = max(cv.baselines, key=lambda n: summ[n][0])
    gap = summ[base][0] - summ["CNN"][0]
    if gap > cv.std + 1e-9:
        if len(cv.fold_sizes) > 1:
            lines.append(f"note: {base} beats the CNN by {gap:.3f}, more than the CNN's fold "
                         f"sd {cv.std:.3f}; on these data {base} is the better classifier")
        else:  # one split has no sd to weigh the gap against
            lines.append(f"note: {base} beats the CNN by {gap:.3f} on this split (one split: "
                         "no fold sd to weigh it against; k-fold CV tells more)")
    return "\n".join(lines)


def imbalance_line(cv: CVResult, more: str = "", test: Any = None) -> str | None:
    """The note under the table when imbalanced classes let the CNN's accuracy hide a
    class it recognises badly (:func:`~._notes.imbalance_note`, on the out-of-fold
    predictions; ``more`` ends it), or ``None``. ``test``: bool per spectrum, in a test
    part (default: every spectrum where the folds' test parts hold them all, else those with
    a prediction); one without a prediction (its fold's own recipe could not use it) counts
    as an error, as in the accuracy table. The spectra of a class the model that tested
    them never trained on (:func:`~ramancam.train_report.unseen_spectra`: no recall to speak
    of) are left out, and the note says so."""
    import numpy as np

    from ..train_report import unseen_spectra
    from ._notes import imbalance_note, untrained_left_out

    n = cv.labels.size
    if test is None:
        every = sum(int(t) for _, t in cv.fold_sizes) == n
        test = np.ones(n, dtype=bool) if every else cv.fold_of >= 0
    test = np.asarray(test, dtype=bool)
    unseen = unseen_spectra(cv) & test
    keep = test & ~unseen
    pred = np.where(cv.fold_of >= 0, cv.oof_pred.astype(str), "")
    return imbalance_note(cv.labels[keep], pred[keep], "the CNN", more=more,
                          left_out=untrained_left_out(cv.labels[unseen]))


#: The BLAS thread limits a command set (``--threads``), undone when it ends.
_BLAS_LIMITS: list[Any] = []


def set_threads(n: int | None, workers: int | None = None) -> None:
    """Set torch's CPU thread count for this process (``None`` leaves torch's default), and
    the BLAS libraries' (numpy, SciPy, scikit-learn: the baselines, PCA, the novelty
    reference) for the command's run (:func:`release_threads`). A count above a few
    threads per core (:func:`ramancam._cores.check_count`), or ``workers`` (``--workers``)
    of ``n`` threads each above it, is refused before any thread is made."""
    from .._cores import check_count
    from ..errors import RamancamError

    if n is not None:
        if n < 1:
            raise RamancamError(f"--threads must be a positive integer; got {n}.")
        check_count("--threads", n)  # (100000 spent the machine's process limit)
    if workers is not None and workers >= 1:  # (below 1: scale.run's own message)
        check_count("--workers", workers, each=n or 1, each_name="--threads")
    if n is None:
        return
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    _BLAS_LIMITS.append(threadpool_limits(limits=n, user_api="blas"))


def release_threads() -> None:
    """Give the BLAS libraries back the thread counts they had before :func:`set_threads`
    (a program calling ``main()`` keeps its own); torch's count stays, as torch keeps it."""
    while _BLAS_LIMITS:
        _BLAS_LIMITS.pop().restore_original_limits()


def calibration_left_out(cv: CVResult, own_folds: Any) -> list[int]:
    """The folds (0-based, sorted) whose out-of-fold values calibrate the final model
    without: ``own_folds``, whose training part chose another recipe or grid than the final
    model's (``CVPlan.own_inputs``), unless no other fold tested a spectrum (then none).
    The report's reliability figure leaves out the same."""
    import numpy as np

    folds = sorted(int(k) for k in own_folds)
    other = np.isin(cv.fold_of, folds)
    if not folds or not other.any() or not ((cv.fold_of >= 0) & ~other).any():
        return []
    return folds


def _calibrate(final: Any, cv: CVResult, data: Any, params: dict[str, Any],
               args: argparse.Namespace, split: bool, groups: Any = None,
               own_folds: Any = ()) -> tuple[list[str], Any]:
    """Set the final model's temperature and novelty threshold from held-out values (the
    CV's out-of-fold ones; for a fixed split an inner 3-fold CV of the training part) and
    return the lines to print, with the leave-one-out novelty scores the threshold came
    from in ``data``'s order (``None`` without them, or for a fixed split). ``own_folds``:
    the folds whose training part chose another recipe or grid than the final model's
    (``CVPlan.own_inputs``); their out-of-fold values describe another preprocessing and are
    left out, unless no fold would be left."""
    import numpy as np

    from ..novelty import calibrate, cross_fit

    labels = np.asarray(data.labels).astype(str)
    if split:
        tr = np.flatnonzero(cv.fold_of < 0)
        if np.unique(labels[tr], return_counts=True)[1].max() < 2:  # a library of one each
            return ["calibration: none (every class has one training spectrum, so none is "
                    "held out to calibrate on: temperature 1, threshold as fitted)"], None
        z, s, yi, fold_of = cross_fit(final, data.X[tr], labels[tr], folds=3, seed=args.seed)
        source = f"{int(fold_of.max()) + 1}-fold inner CV of the training part"
        ref_labels = labels[tr]  # the final model's training spectra
    else:
        z, yi = cv.oof_logits, np.searchsorted(np.asarray(cv.classes), labels)
        s = None if params.get("novelty") is None else cv.oof_novelty
        fold_of, source = cv.fold_of, f"out-of-fold, {len(cv.fold_accuracy)}-fold CV"
        ref_labels = labels
        if left := calibration_left_out(cv, own_folds):
            # a fold on another recipe or grid: its logits are no evidence about the model's
            z = np.array(z, dtype=np.float64, copy=True)
            # calibrate leaves out rows whose true-class logit is not finite
            z[np.isin(fold_of, left)] = np.nan
            shown = ", ".join(str(k + 1) for k in left)
            source += (f"; fold{'s' if len(left) > 1 else ''} {shown} left out, "
                       "whose training part chose another preprocessing than the model's")
    scorer = getattr(final, "novelty_scorer_", None)
    loo = (scorer.loo_scores(groups, ref_labels)
           if scorer is not None and scorer.model_free else None)
    cal = calibrate(z, yi, s, fold_of, rate=params.get("novelty_rate", 0.05), source=source,
                    loo_scores=loo, loo_groups=groups is not None)
    final.set_calibration(cal)
    lines = cal.summary()
    sets = cal.set_line()
    if split and sets is not None and cal.class_scores is not None:
        from ..conformal import prediction_sets, softmax

        # the final model's classes: a class only in the test part has no column of its own
        mine = np.asarray([str(c) for c in final.classes_])
        cols = np.searchsorted(np.asarray(cv.classes), mine)
        test = np.flatnonzero(cv.fold_of >= 0)
        known = np.isin(labels[test], mine)
        yt = np.searchsorted(mine, labels[test[known]])
        held = prediction_sets(softmax(cv.oof_logits[test[known]][:, cols], cal.temperature),
                               cal.class_scores, cal.rate)
        if known.any():
            sets += (f"; test spectra: {held[np.arange(held.shape[0]), yt].mean():.1%}, "
                     f"{held.sum(axis=1).mean():.2f} classes"
                     + (f" ({int((~known).sum())} of classes the model never saw left out)"
                        if not known.all() else ""))
    if params.get("novelty") is None:
        return lines[:1] + ([sets] if sets else []), None
    if split:
        te = cv.fold_of >= 0
        hit = cv.oof_novelty[te] > cal.threshold
        lines[1] += f"; test spectra flagged {np.mean(hit):.1%}"
        # the spectra of a class only in the test part should be flagged, the known ones at
        # the false-alarm rate: each share said apart (the line's start stays as it was)
        new = ~np.isin(labels[te], [str(c) for c in final.classes_])
        if new.any():
            lines[1] += (f" (classes trained on: {np.mean(hit[~new]):.1%} of "
                         f"{int((~new).sum())}; " if (~new).any() else " (") + (
                f"the {int(new.sum())} of classes the model never saw: "
                f"{np.mean(hit[new]):.1%})")
    return lines + ([sets] if sets else []), None if split else loo


def _check_outputs(args: argparse.Namespace) -> None:
    """--out and --report: writable where they point, and none of them the data, before
    any training (which can take many minutes)."""
    import os
    from pathlib import Path

    from ..errors import RamancamError
    from ._outputs import check_not_inputs, check_parent_folder, check_report_path
    from .info import is_model_file

    if str(args.out).endswith(("/", os.sep)) and not Path(args.out).is_dir():
        raise RamancamError(  # it wrote a model file named newdir
            f"--out must be a model file; got {args.out!r}, a folder's name. Name the file, "
            f"e.g. {os.path.join(args.out, 'model.ramancam')!r} (in an existing folder).")
    if Path(args.out).is_dir():
        raise RamancamError(f"--out must be a model file; got {args.out!r}, which is a folder. "
                            "Name the file, e.g. model.ramancam.")
    check_parent_folder("out", args.out, folder_ok=False)
    check_report_path(args.report)
    check_not_inputs(args, ("out", "report"), inputs=("data",))
    if Path(args.out).is_file() and not is_model_file(args.out):
        raise RamancamError(  # it replaced a table of spectra with the model, without a word
            f"--out must be a new file or a model file to replace; got {args.out!r}, an "
            "existing file that is no ramancam model (a table of spectra?). Choose another "
            "name, e.g. model.ramancam.")


def run(args: argparse.Namespace) -> int:
    from ..io._atomic import atomic_group

    with atomic_group():  # the model file and its report replace the earlier ones together
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import shlex
    import sys
    import time

    import numpy as np

    from ..bundle import save, training_summary
    from ..train import CNNClassifier
    from ._common import check_split_options, left_out_text, read_data
    from ._cv import cv_kind, plan_cv, run_cv
    from ._outputs import say_line

    set_threads(args.threads)
    _check_outputs(args)
    check_split_options(args)
    params = estimator_params(args)
    check_params(params)  # before the data are read and preprocessed
    plan = plan_cv(args, read_data(args), "for training")
    raw, recipe, data, groups = plan.raw, plan.recipe, plan.data, plan.groups
    grid = data.wavenumbers
    split = args.split_col is not None

    t0 = time.perf_counter()
    gone: dict[int, int] = {}  # fold -> the epoch its training diverged in

    def progress(k: int, n: int, acc: float) -> None:
        from .._diverged import diverged_text

        what = "test" if split else f"fold {k}/{n}"
        said = (f"; {diverged_text(gone[k], params['epochs'])}: the accuracy of a network whose "
                f"weights are not finite; lower --lr (got {params['lr']:g})" if k in gone else "")
        print(f"  {what}: CNN accuracy {acc:.4f} ({time.perf_counter() - t0:.0f} s){said}",
              file=sys.stderr, flush=True)

    cv = run_cv(args, plan, params, keep_models=split, progress=progress,
                diverged=lambda k, n, epoch: gone.__setitem__(k, epoch))
    kind = cv_kind(args, cv, plan.spatial)
    table, winner = format_cv(cv), format_winner(cv) if cv.baselines else ""
    # the lines under the table, which the report repeats: the winner's, then imbalance's
    in_test = np.zeros(len(data), dtype=bool)  # every test spectrum, predicted or not
    for _, te in plan.splits:
        in_test[te] = True
    winner = "\n".join(filter(None, [winner, imbalance_line(
        cv, f"; 'ramancam info {shlex.quote(str(args.out))}' shows its confusion matrix",
        test=in_test)]))
    print(f"\naccuracy ({kind}):")
    print(table)
    if winner:
        print(winner)

    if split:
        # The model trained on the training part is the final model: no refit needed.
        final = cv.models[0]
        if final.diverged_epoch_ is not None:  # (the fold kept it, to report its accuracy)
            from .._diverged import diverged_error

            raise diverged_error(final.diverged_epoch_, params["epochs"], params["lr"])
        train_idx = np.flatnonzero(cv.fold_of < 0)
    else:
        final = CNNClassifier(**params).fit(data.X, raw.labels, groups=groups)
        train_idx = np.arange(len(data))
    cal_lines, loo = _calibrate(final, cv, data, params, args, split, groups,
                                own_folds=list(plan.own_inputs))
    print("\n".join(cal_lines))
    choice = final.augment_choice_
    select_s = 0.0 if choice is None else float(choice["fit_s"])
    # the epochs alone (the novelty score's fit counted in: 0.71 s/epoch for 0.30)
    per_epoch = final.train_time_ / max(final.n_epochs_, 1)
    epochs = f"{final.n_epochs_} epoch{'' if final.n_epochs_ == 1 else 's'}"
    print(f"\nfinal model: {epochs}, {final.fit_time_:.1f} s "
          f"({per_epoch:.2f} s/epoch"
          + (f"; {select_s:.1f} s of it for the augmentation decision" if choice else "")
          + f") on {train_idx.size} spectra")
    if choice is not None:
        print(augment_line(choice, cv.augment_chosen))
    summary = training_summary(raw[train_idx], source=shown_as(args.data))
    if getattr(args, "left_out", None):
        summary["left_out"] = args.left_out
    import torch

    settings = {"seed": args.seed, "recipe_option": args.recipe,
                # torch's thread count: another one sums in another order (weights ~1e-8
                # apart), so a rerun that must repeat to the digit gives the same --threads
                "threads": torch.get_num_threads(),
                # how the labels (and groups) were read: the data's digest alone
                # (training_data.sha256) does not say which column held them
                "label_col": getattr(args, "label_col", None),
                "labels_from": getattr(args, "labels_from", None),
                "groups_from": getattr(args, "groups_from", None),
                # which files of a folder, and which columns hold a map's positions (the
                # spatial folds' blocks): what was read, beside how (since 2026-12-08)
                "files": getattr(args, "files", None),
                "xy_cols": getattr(args, "xy_cols", None),
                "recipe_used": getattr(args, "recipe_used", args.recipe),
                "grid_option": args.grid,
                "folds": None if args.split_col or args.spatial_folds else args.folds,
                "group_col": args.group_col,
                # the value that marks the training part of a --split-col split: none
                # without one (k-fold models stored the default "train", unused)
                "split_col": args.split_col,
                "train_value": args.train_value if args.split_col else None,
                "compare": args.compare, "preset": args.preset,
                "novelty_option": args.novelty,
                "spatial_folds": args.spatial_folds, "spatial_block": args.spatial_block,
                "spatial_buffer": args.spatial_buffer,
                "laser_nm": getattr(args, "laser_nm", None),
                "axis_offset": getattr(args, "axis_offset", None),
                "drop_clipped": bool(getattr(args, "drop_clipped", False)),
                # the lines printed under the table (a fixed split's test-part numbers are
                # in no other field): info repeats them
                "calibration_lines": cal_lines,
                # the folds (or the split) whose training part chose their own recipe or
                # grid, and the test spectra counted as errors without a prediction
                "fold_notes": plan.decisions,
                # the notes on the data train printed (copies, clipped, shifted groups):
                # the report and info repeat them
                "data_notes": [n.removeprefix("note: ") for n in plan.data_notes]}
    save(args.out, estimator=final, recipe=recipe, grid=grid,
         classes=[str(c) for c in final.classes_], training_summary=summary, cv=cv,
         settings=settings, command=getattr(args, "command_line", None))
    if args.report is None:  # said once every output is written: a failed report keeps none
        say_line(f"saved {args.out}", wrote=True)  # (and printed once they are in place)
    else:
        from ..preprocess.recipe import recipe_text
        from ..train_report import write_train_report

        step = float(np.median(np.diff(grid))) if grid.size > 1 else 0.0
        from ..io._atomic import pending_path
        from ..provenance import file_sha256

        info = {"data": shown_as(args.data), "data sha256": summary["sha256"],
                "model file": str(args.out), "model sha256": file_sha256(pending_path(args.out)),
                "spectra": (f"{train_idx.size} for the final model, "
                            f"{len(data) - train_idx.size} in the test part" if split else
                            f"{train_idx.size} for the final model ({len(data)} in the CV)")
                           + (f"; left out: {left_out_text(args.left_out)}"
                              if getattr(args, "left_out", None) else ""),
                "classes": _classes_text(final.classes_, cv.classes),
                "recipe": recipe_text(None) if recipe is None else
                          f"{getattr(args, 'recipe_used', args.recipe)}: "
                          f"{recipe_text(recipe.to_dict())}",
                "grid": f"{grid[0]:g} to {grid[-1]:g} cm-1, step {step:g} ({grid.size} "
                        "points)",
                "validation": kind,
                **({"fold decisions": "; ".join(settings["fold_notes"])}
                   if settings["fold_notes"] else {})}
        p = write_train_report(
            args.report, cv=cv, model=final.module_, X=data.X[train_idx],
            labels=np.asarray(data.labels).astype(str)[train_idx], grid=grid,
            data_info=info, settings={**{k: v for k, v in settings.items()
                                         if k not in ("calibration_lines", "fold_notes",
                                                      "data_notes")
                                         and not (k == "train_value" and v is None)},
                                      **{k: v for k, v in params.items() if k != "verbose"}},
            seed=args.seed, winner=winner, calibration_lines=cal_lines,
            temperature=float(getattr(final, "temperature_", 1.0)),
            threshold=float(getattr(final, "novelty_threshold_", float("inf"))),
            rate=float(params.get("novelty_rate", 0.05)), ids=[str(i) for i in data.ids],
            novelty_scores=loo, fixed_split=split, notes=settings["data_notes"],
            grouped=groups is not None,
            left_out_folds=[] if split else calibration_left_out(cv, plan.own_inputs))
        say_line(f"saved {args.out}", wrote=True)
        say_line(f"wrote the report {p}", wrote=True)
    return 0
