"""The HTML report of a training run (``ramancam train --report FILE.html``).

One self-contained file (:mod:`ramancam.report`: figures embedded, no scripts, every string
from the user's files escaped) with what a reviewer of the model asks for:

* the data: source, spectra per class, recipe, grid and how the cross validation split them;
* the cross-validated accuracy of the CNN and every baseline on the same folds (the table
  ``train`` prints, a bar chart per fold) and which model won;
* the CNN's out-of-fold confusion matrix and per-class precision and recall;
* what the final model looks at: for each class the mean preprocessed training spectrum with
  the mean FC-importance map (the paper's map, ``ramancam explain``'s default) of that class;
* calibration (reliability of the out-of-fold probabilities before and after temperature
  scaling) and the unknown-spectrum threshold against the held-out novelty scores it was
  chosen from (leave-one-out scores for the default score, else out-of-fold ones);
* the training spectra to check: those the cross-validated CNN put in another class, most
  confidently first (a mislabelled or mixed sample looks like this), and those whose
  held-out novelty score is above the threshold (unlike the rest of the training data);
  spectra tested by a model that never trained on their class (a class only in a fixed
  split's test part, or all in one group of group folds) are no suspects: a note counts
  them and how many the novelty score flagged as unknown (:func:`unseen_note`);
* the settings, seed and software versions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_CHECKED", "MAX_CLASSES_SHOWN", "MAX_MATRIX", "classes_drawn",
           "confusion_figure", "most_confused", "training_checks", "unseen_note",
           "unseen_spectra", "write_train_report"]

#: Classes drawn one by one in the map section (the most frequent ones); the tables list all.
MAX_CLASSES_SHOWN = 12
#: Classes up to which the confusion matrix is drawn (beyond: the most frequent confusions).
MAX_MATRIX = 30
#: Rows of the "training spectra to check" table.
MAX_CHECKED = 30
#: Training spectra per class whose maps are averaged (a seeded sample above it).
_MAX_PER_CLASS = 200


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _reliability_figure(logits: NDArray[np.float64], y_idx: NDArray[np.int64],
                        temperature: float) -> Any:
    """Accuracy against confidence in 10 bins, at T = 1 and at the model's temperature."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    ax.plot([0, 1], [0, 1], color="0.6", linewidth=0.8, label="perfectly calibrated")
    bins = np.linspace(0.0, 1.0, 11)
    curves = [("T = 1", 1.0)] + ([(f"T = {temperature:.3g}", temperature)]
                                 if temperature != 1.0 else [])
    for (name, t), marker in zip(curves, ("o", "s"), strict=False):
        p = _softmax(logits / t)
        conf, right = p.max(axis=1), p.argmax(axis=1) == y_idx
        k = np.clip(np.digitize(conf, bins) - 1, 0, len(bins) - 2)
        xs, ys, ns = [], [], []
        for b in range(len(bins) - 1):
            sel = k == b
            if sel.any():
                xs.append(float(conf[sel].mean()))
                ys.append(float(right[sel].mean()))
                ns.append(int(sel.sum()))
        # marker area follows the spectra in the bin: a bin of 2 spectra that swings to 0.5
        # looked as sure as one of 200
        line = ax.plot(xs, ys, linewidth=1.0, marker=marker, markersize=4, label=name)[0]
        ax.scatter(xs, ys, s=[10.0 + 140.0 * n / max(len(conf), 1) for n in ns],
                   marker=marker, color=line.get_color(), zorder=3, clip_on=False)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy")
    # beside the axes: inside, it hid a bin of confident and right spectra at (0.29, 1.0)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


#: Colour of the held-out spectra of classes the model never trained on (a fixed split's
#: test-only classes) in the novelty histogram.
UNSEEN_COLOR = "#e67e22"


def _novelty_figure(scores: NDArray[np.float64], threshold: float, rate: float,
                    ylabel: str, unseen: NDArray[np.float64] | None = None) -> Any:
    """The histogram of the known spectra's novelty ``scores``, with the threshold; the
    ``unseen`` ones (classes only in a fixed split's test part) beside them in their own
    colour, never counted among the known."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.0))
    extra = np.zeros(0) if unseen is None else np.asarray(unseen, dtype=np.float64)
    both = np.concatenate([scores, extra])
    bins = np.histogram_bin_edges(both, bins=min(50, max(10, both.size // 5))).tolist()
    if extra.size:
        # side by side in each bin: the known spectra's bars are theirs alone
        ax.hist([scores, extra], bins=bins, color=["0.55", UNSEEN_COLOR],
                label=[f"classes trained on ({scores.size})",
                       f"classes only in the test part ({extra.size})"])
    else:
        ax.hist(scores, bins=bins, color="0.55")
    if np.isfinite(threshold):
        ax.axvline(threshold, color="#c0392b", linewidth=1.2,
                   label=f"threshold ({rate:.0%} false alarms)")
    if extra.size or np.isfinite(threshold):
        ax.legend(fontsize="small")
    ax.set_xlabel("novelty score (larger = less like the training spectra)")
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def _class_maps(model: Any, X: NDArray[np.float64], y_idx: NDArray[np.int64],
                classes: Sequence[str], grid: NDArray[np.float64], shown: Sequence[int],
                seed: int) -> list[tuple[int, NDArray[np.float64], NDArray[np.float64]]]:
    """(class index, mean spectrum, mean FC-importance map for that class) per class shown."""
    from .explain import explain, method_options

    rng = np.random.default_rng(seed)
    out = []
    for c in shown:
        idx = np.flatnonzero(y_idx == c)
        if idx.size > _MAX_PER_CLASS:
            idx = np.sort(rng.choice(idx, _MAX_PER_CLASS, replace=False))
        maps, _ = explain(model, X[idx], method="fc", target=int(c),
                          class_names=list(classes), **method_options("fc", grid))
        out.append((int(c), X[idx].mean(axis=0), maps.astype(np.float64).mean(axis=0)))
    return out


def write_train_report(path: str | os.PathLike[str], *, cv: Any, model: Any,
                       X: NDArray[np.float64], labels: Sequence[str] | NDArray[np.str_],
                       grid: NDArray[np.float64], data_info: Mapping[str, Any],
                       settings: Mapping[str, Any], seed: int,
                       winner: str = "", calibration_lines: Sequence[str] = (),
                       temperature: float = 1.0, threshold: float = float("inf"),
                       rate: float = 0.05, ids: Sequence[str] | None = None,
                       novelty_scores: NDArray[np.float64] | None = None,
                       fixed_split: bool = False, notes: Sequence[str] = (),
                       grouped: bool = False, left_out_folds: Sequence[int] = ()) -> Path:
    """Write the report of one ``train`` run (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        The HTML file; its folder must exist. Written atomically.
    cv : CVResult
        The cross validation of the run.
    model : RamanCNN
        The final network (``CNNClassifier.module_``).
    X : ndarray of shape (n_spectra, n_points)
        The preprocessed training spectra of the final model, on ``grid``.
    labels : sequence or array of str
        Their class labels.
    grid : ndarray of shape (n_points,)
    data_info : mapping
        Shown as the first table (data source, recipe, split, ...).
    settings : mapping
        The run's settings, listed at the end with the software versions.
    seed : int
    winner : str
        The winner lines as ``train`` printed them (the table comes from ``cv``).
    calibration_lines : sequence of str
        The calibration and unknown-threshold lines ``train`` printed.
    temperature, threshold, rate : float
        The final model's softmax temperature, novelty threshold and false-alarm rate.
    ids : sequence of str, optional
        The ids of the cross validation's spectra (``cv.labels``' order): with them the
        report lists the training spectra to check (:func:`training_checks`).
    novelty_scores : ndarray of shape (n_spectra,), optional
        The leave-one-out novelty scores the threshold was chosen from, in ``cv.labels``'
        order (``train`` gives them for the model-free scores): drawn and checked against
        the threshold instead of the out-of-fold scores, which fold models with fewer
        reference spectra gave (higher, so more of them above the threshold).
    fixed_split : bool
        The run tested one fixed split (``--split-col``): the report speaks of its test
        part, not of folds and cross validation.
    grouped : bool
        The novelty scores were held out a group at a time (``--group-col``,
        ``--spatial-folds``): each spectrum against the other groups', not against all the
        others.
    notes : sequence of str
        The notes on the data ``train`` printed (exact copies, clipped spectra, groups whose
        bands sit off the others'), shown under Data.
    left_out_folds : sequence of int
        The folds (0-based) whose out-of-fold values the calibration left out (their
        training part chose another preprocessing than the model's): the reliability figure
        leaves them out too, and says so.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib.pyplot as plt

    from . import plot
    from ._labels import short_names
    from .report import Figure, Section, Table, write_report

    classes = [str(c) for c in cv.classes]
    lab = np.asarray(labels).astype(str)
    counts = {c: int(np.sum(lab == c)) for c in classes}
    sections = []
    # a fixed split has one test part, not folds: its words
    in_cv, oof = ("test part", "on the test part") if fixed_split else ("CV", "out-of-fold")

    tested = cv.fold_of >= 0
    # spectra tested by a model that never trained on their class: errors, no confusions
    untrained = unseen_spectra(cv)
    unseen_classes = (_classes_listed(cv.labels.astype(str)[untrained]) if untrained.any()
                      else "")
    it = "it" if len(set(cv.labels.astype(str)[untrained].tolist())) == 1 else "them"
    checks_title = "Test spectra to check" if fixed_split else "Training spectra to check"
    n_tested = cv.confusion.sum(axis=1)
    # the confusions of the spectra the testing model could have named (no others)
    known_cm = np.array(cv.confusion, dtype=np.int64, copy=True)
    if untrained.any():
        in_order = np.asarray(classes)
        np.subtract.at(known_cm, (np.searchsorted(in_order, cv.labels[untrained].astype(str)),
                                  np.searchsorted(in_order, cv.oof_pred[untrained].astype(str))),
                       1)
    rows = [[c, counts.get(c, 0), int(n_tested[i]), _recall_cell(known_cm, i, n_tested[i],
                                                                 fixed_split),
             cv.precision.get(c, float("nan"))]
            for i, c in enumerate(classes)]
    sections.append(Section("Data", [
        dict(data_info),
        *(f"Note: {n}" for n in notes),  # as train printed them
        Table(["class", "training spectra", f"tested in {in_cv}", f"CNN recall ({in_cv})",
               f"CNN precision ({in_cv})"], rows,
              caption="Recall: share of the class's tested spectra the CNN named right; "
                      "precision: share of the spectra it named this class that were."
                      + (f" {unseen_classes}: tested by a model that never trained on {it} "
                         f"and so cannot name {it}: no recall to speak of "
                         f"('{_NOT_TRAINED[fixed_split]}'; a recall counts only the spectra "
                         "whose testing model trained on their class), and less precision "
                         "for the classes it put those spectra in; see "
                         f"'{checks_title}'." if untrained.any() else "")),
    ]))

    acc = {"CNN": cv.fold_accuracy, **cv.baselines}
    fig, ax = plt.subplots(figsize=(3.6 + 1.0 * len(cv.fold_accuracy), 3.2))
    plot.cv_accuracy(acc, ax=ax)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    columns, acc_rows = cv.table_rows()
    if fixed_split:  # one test part, not fold 1 of one (the printed table keeps its layout)
        columns, acc_rows = ["split", *columns[1:]], [["test split", *r[1:]]
                                                       for r in acc_rows]
    blocks: list[Any] = [
        "The same training and test part for every model; each column is one model's test "
        "accuracy." if fixed_split else
        "The same folds for every model; each column is one model's test accuracy per fold.",
        Table(columns, acc_rows),
    ]
    if winner:
        blocks.append(winner)
    blocks.append(Figure.from_matplotlib(fig, "Test accuracy of each model on the test split."
                                         if fixed_split else
                                         "Test accuracy per fold and model."))
    sections.append(Section("Test accuracy (fixed split)" if fixed_split
                            else "Cross-validated accuracy", blocks))

    # the most frequent confusions of the spectra the testing model could have named
    confused = most_confused(known_cm, classes, top=8 if len(classes) <= MAX_MATRIX else 30)
    blocks = [(f"The {int(tested.sum())} spectra of the test part, predicted by the model "
               "trained on the training part" if fixed_split else
               f"Every tested spectrum once ({int(tested.sum())} spectra), predicted by the "
               "fold model that did not train on it")
              + (f" ({unpredicted} more counted as errors without a prediction: a fold's own "
                 "recipe could not use them, see 'fold decisions' under Data)"
                 if (unpredicted := sum(int(t) for _, t in cv.fold_sizes)
                     - int(tested.sum())) > 0 and not fixed_split else "")
              # the colours of the matrix, when there is one to draw
              + ("; colours are shares of the true class (row)." if len(classes) <= MAX_MATRIX
                 else ".")
              + (f" The {int(untrained.sum())} spectra of {unseen_classes} were tested by a "
                 "model that never trained on their class: it could not name them, so they "
                 "count as errors, but they are left out of the most frequent confusions."
                 if untrained.any() else "")]
    if (fig := confusion_figure(cv.confusion, classes)) is not None:
        blocks.append(Figure.from_matplotlib(
            fig, f"CNN, {oof}: rows true class, columns predicted."))
    else:
        blocks.append(f"{len(classes)} classes are too many to draw as a matrix (more than "
                      f"{MAX_MATRIX}); the table lists the most frequent confusions, and the "
                      "Data table each class's recall and precision.")
    if confused:
        blocks.append(Table(["true class", "predicted as", "spectra"], confused,
                            caption="The most frequent confusions."))
    sections.append(Section(f"Confusion matrix (CNN, {oof})", blocks))

    # the final model's classes, in its output order (a class only in a fixed split's test
    # part is not one of them)
    trained = sorted(set(lab.tolist()))
    shown = classes_drawn([counts.get(c, 0) for c in trained])
    cm = _class_maps(model, X, np.searchsorted(np.asarray(trained), lab), trained, grid,
                     shown, seed)
    ncol = 2 if len(cm) > 1 else 1
    nrow = int(np.ceil(len(cm) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.2 * ncol, 2.6 * nrow), squeeze=False)
    # the class names shortened as every figure's (a 150-character name ran over its
    # neighbour's title and off the page)
    titles = short_names([trained[c] for c, _, _ in cm])
    for k, (_, spec, m) in enumerate(cm):
        plot.spectrum_map(grid, spec, m, ax=axes[k // ncol][k % ncol], title=titles[k],
                          map_label="FC importance")
    for k in range(len(cm), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    # the page's caption said what the colours mean, the PNG alone did not; each panel's
    # map axis (spectrum_map: +- 1.1 x its largest |value|) has a range of its own
    fig.suptitle("black: mean preprocessed training spectrum; fill: mean FC-importance map "
                 "for the panel's class\nred: raises the class's score, blue: lowers it; "
                 "each panel's right axis is scaled to its own largest |value|",
                 fontsize="medium")
    fig.tight_layout()
    more = (f" The {len(shown)} most frequent of {len(trained)} classes are drawn."
            if len(shown) < len(trained) else "")
    sections.append(Section("What the final model looks at", [
        "For each class: the mean preprocessed training spectrum (black) and the mean "
        "FC-importance map of the final model for that class (the paper's Eqs. 8-9; red "
        "bands raise the class's score, blue lower it), averaged over up to "
        f"{_MAX_PER_CLASS} of its training spectra.{more} Maps of single spectra, other "
        "methods and the checks that maps rest on the decision: 'ramancam explain' and "
        "docs/explain.md.",
        Figure.from_matplotlib(fig, "Class-mean spectra and FC-importance maps."),
    ]))

    blocks = [*calibration_lines]
    z = cv.oof_logits
    # a class missing from a training part has logit -inf (probability 0): kept, as the
    # calibration keeps it (all rows with one were dropped: no figure, and no word of it);
    # but not the spectra of such a class, which calibrate drops too (always wrong: a bin of
    # them said nothing of the probabilities of the classes the model knows)
    ok = (tested & ~untrained & ~np.isnan(z).any(axis=1) & np.isfinite(z).any(axis=1)
          if z.size else np.zeros(0, dtype=bool))
    # the folds the calibration left out (another preprocessing than the model's): the figure
    # drew their spectra too, 98 rows where the printed error rested on 49
    other = ok & np.isin(cv.fold_of, list(left_out_folds)) if ok.size else ok
    ok = ok & ~other
    folds_out = sorted(int(k) + 1 for k in left_out_folds)
    if ok.any():
        yi = np.searchsorted(np.asarray(classes), cv.labels.astype(str)[ok])
        blocks.append(Figure.from_matplotlib(
            _reliability_figure(z[ok], yi, temperature),
            f"Reliability of the {'test part' if fixed_split else 'out-of-fold'} "
            "probabilities: accuracy against confidence in 10 bins, "
            + ("before and after temperature scaling" if temperature != 1.0 else
               "at temperature 1 (scaling did not help: kept)")
            + "; a marker's area follows the spectra in its bin (a bin of a few spectra "
            "swings widely)."
            + (f" Left out, as the calibration leaves them out: the {int(untrained.sum())} "
               f"spectra of {unseen_classes}, tested by a model that never trained on their "
               "class." if untrained.any() else "")
            + ((" Also left out" if untrained.any() else
                " Left out, as the calibration leaves them out")
               + f": the {int(other.sum())} spectra of fold{'s' if len(folds_out) > 1 else ''} "
               f"{', '.join(map(str, folds_out))}, whose training part chose another "
               "preprocessing than the model's." if other.any() else "")))
    loo = novelty_scores is not None
    s = np.asarray(novelty_scores if loo else cv.oof_novelty, dtype=np.float64)
    cv_lab = np.asarray(cv.labels).astype(str)
    # the spectra of a class the final model never trained on (only in a fixed split's test
    # part) are unlike its training spectra by construction: drawn apart, not as known ones
    unseen = (~np.isin(cv_lab, trained) if s.size == cv_lab.size
              else np.zeros(s.size, dtype=bool))
    good = s[np.isfinite(s) & ~unseen] if s.size else s
    apart = s[np.isfinite(s) & unseen] if s.size else s
    if good.size or apart.size:
        names = sorted(set(cv_lab[np.isfinite(s) & unseen].tolist()))
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5
                                         else "")
        blocks.append(Figure.from_matplotlib(
            _novelty_figure(good, threshold, rate, "training spectra" if loo
                            else "held-out spectra" if apart.size
                            else "held-out known spectra", unseen=apart),
            (("Leave-one-group-out novelty scores of the training spectra (each against "
              "the other groups' spectra)" if grouped else
              "Leave-one-out novelty scores of the training spectra (each against all the "
              "others)") + ", from which the threshold was chosen," if loo else
             f"Novelty scores of held-out {'' if apart.size else 'known '}spectra ({oof}"
             + ("; grey: the classes trained on" if apart.size else "") + ")")
            + " and the threshold above which 'ramancam predict' reports a spectrum as "
            "unknown."
            + (f" Apart, in orange: the {apart.size} test spectra of "
               f"{'the class' if len(names) == 1 else 'the classes'} {listed}, only in the "
               "test part (the model never trained on "
               f"{'it' if len(names) == 1 else 'them'}; not counted among the known "
               "spectra)." if apart.size else "")
            # the printed share and the histogram's count differ (5.1 % and 4 of 99): why
            + (f" {int(np.sum(good > threshold))} of the {good.size} drawn are above this "
               "threshold; the share of known held-out spectra flagged in the calibration "
               "lines above is cross-fitted (each part of the scores against a threshold set "
               "on the others: the estimate for new spectra), so the two may differ."
               if good.size and not fixed_split and any(
                   ln.startswith("unknown:") and "(cross-fitted)" in ln
                   for ln in calibration_lines) else "")))
    if blocks:
        sections.append(Section("Calibration and unknown spectra", blocks))
    if ids is not None:
        where = oof.replace("-", " ")
        # every spectrum to check (wrong or novel, each once), the first MAX_CHECKED listed
        n_wrong, n_novel, every = training_checks(cv, ids, threshold, scores=novelty_scores,
                                                  where=where, top=len(ids))
        n_known = int((tested & ~untrained).sum())  # the spectra their tester could name
        rows, n_listed = _shown_checks(every, n_wrong, MAX_CHECKED), len(every)
        n_novel_shown = sum(1 for r in rows if not r[5].startswith("another class"))
        scored = bool(np.isfinite(threshold))  # --novelty none: no score, no threshold
        held_out = " (its group left out)" if grouped else " (left out of the others)"
        blocks = [
            f"{'On the test part' if fixed_split else 'Out of fold'}, the CNN put {n_wrong} "
            f"of the {n_known} tested spectra"
            + ((" of the classes it trained on" if fixed_split else
                " of classes their fold model trained on") if untrained.any() else "")
            + " in another class than their label"
            + (f", and {n_novel} scored above the novelty threshold"
               f"{held_out if loo else ' ' + where} (unlike the "
               f"{'training spectra' if fixed_split else 'rest of the training data'})"
               if scored else "")
            + ". A spectrum called another class with confidence may be mislabelled, mixed "
            "or contaminated"
            + ("; one above the threshold may be an instrument fault or a sample of something "
               "else" if scored else "")
            + ". Check them before relying on the model."
            + (f" The {len(rows)} listed are the {len(rows) - n_novel_shown} most "
               "confidently wrong"
               + (f" first, then the {n_novel_shown} most novel of the others"
                  if n_novel_shown else "") + "." if n_listed > len(rows) else "")]
        if (note := unseen_note(cv, threshold, fixed_split=fixed_split)) is not None:
            blocks.append(note)
        if rows:
            blocks.append(Table(["id", "label", f"predicted {where}", "p(label)",
                                 "novelty", "why"], rows))
        sections.append(Section(checks_title, blocks))
    return write_report(path, "ramancam train", sections, settings=dict(settings), seed=seed)


def _shown_checks(rows: list[list[Any]], n_wrong: int, top: int) -> list[list[Any]]:
    """The first ``top`` of :func:`training_checks`' ``rows`` (its first ``n_wrong`` the
    wrong ones), a third of them kept for the most novel of the others when both kinds
    overflow: 38 wrong spectra filled the 30 rows, and the most anomalous training spectrum
    (30 times the threshold, likely an instrument fault) was not shown."""
    if len(rows) <= top:
        return rows
    # a third for the others, or all the wrong ones leave (there are more than top rows)
    novel = max(min(len(rows) - n_wrong, top // 3), top - n_wrong)
    return rows[:top - novel] + rows[n_wrong:n_wrong + novel]


def training_checks(cv: Any, ids: Sequence[str], threshold: float,
                    top: int = MAX_CHECKED, scores: NDArray[np.float64] | None = None,
                    where: str = "out of fold") -> tuple[int, int, list[list[Any]]]:
    """The training spectra to check, from the cross validation's out-of-fold values.

    Returns ``(n_wrong, n_novel, rows)``: how many tested spectra the CNN put in another class
    out of fold, how many scored above the novelty ``threshold`` out of fold (neither counts
    nor lists the spectra of a class the model that tested them never trained on:
    :func:`unseen_spectra`; with ``scores`` every other spectrum above the threshold counts,
    one without an out-of-fold prediction too, its prediction shown as "no prediction"),
    and up to
    ``top`` rows ``[id, label, predicted out of fold, p(label), novelty, why]``, the most
    confidently wrong first (smallest probability of the own label), then the most novel.
    ``scores``: the novelty scores to check (``cv.labels``' order; default the out-of-fold
    ones). ``where``: how the reason names the predictions ("on the test part" for a fixed
    split).
    """
    lab = np.asarray(cv.labels).astype(str)
    # a spectrum whose class the model that tested it never trained on is no suspect: no
    # model could have named it (unseen_note says how many, and whether they were flagged)
    predicted = np.asarray(cv.fold_of) >= 0
    tested = predicted & ~unseen_spectra(cv)
    classes = np.asarray(cv.classes).astype(str)
    proba = np.asarray(cv.oof_proba, dtype=np.float64)
    known = np.isin(lab, classes)
    p_label = np.full(lab.size, np.nan)
    rows_ok = np.flatnonzero(known & tested)
    p_label[rows_ok] = proba[rows_ok, np.searchsorted(classes, lab[rows_ok])]
    wrong = tested & (np.asarray(cv.oof_pred).astype(str) != lab)
    nov = np.asarray(cv.oof_novelty if scores is None else scores, dtype=np.float64)
    if nov.size != lab.size:
        nov = np.full(lab.size, np.nan)
    # a leave-one-out score needs no fold model: a spectrum without an out-of-fold prediction
    # (its fold's own recipe could not use it) has one too, and the histogram draws it (the
    # most anomalous spectrum, 30 times the threshold, was drawn but not listed)
    scored = ~unseen_spectra(cv) if scores is not None else tested
    novel = scored & np.isfinite(nov) & (nov > threshold)
    chosen = np.flatnonzero(wrong | novel)
    # the wrong ones by their own label's probability, the rest by novelty alone (p(label)
    # sorted them too: among 249 novel spectra the 30 listed were not the most novel)
    own = np.where(wrong[chosen], np.nan_to_num(p_label[chosen], nan=1.0), 1.0)
    order = chosen[np.lexsort((-np.nan_to_num(nov[chosen], nan=-np.inf), own,
                               ~wrong[chosen]))]
    rows = []
    for i in order[:top]:
        why = [w for w, on in ((f"another class {where}", wrong[i]),
                               ("above the novelty threshold", novel[i])) if on]
        rows.append([ids[i], lab[i], str(cv.oof_pred[i]) if predicted[i] else "no prediction",
                     float(p_label[i]),
                     float(nov[i]) if np.isfinite(nov[i]) else "", "; ".join(why)])
    return int(wrong.sum()), int(novel.sum()), rows


def unseen_spectra(cv: Any) -> NDArray[np.bool_]:
    """The tested spectra whose class the model that tested them never trained on: a class
    only in a fixed split's test part, or, with group or spatial folds, only in the fold's
    test part. That model cannot name them; ``cross_validate`` gives them the logit
    ``-inf`` in their class's column (``calibrate`` leaves them out by it too). All ``False``
    for a CV without ``oof_logits``."""
    lab = np.asarray(cv.labels).astype(str)
    classes = np.asarray(cv.classes).astype(str)
    z = np.asarray(getattr(cv, "oof_logits", np.empty((0, 0))), dtype=np.float64)
    out = np.zeros(lab.size, dtype=bool)
    if z.shape != (lab.size, classes.size):
        return out
    rows = np.flatnonzero((np.asarray(cv.fold_of) >= 0) & np.isin(lab, classes))
    out[rows] = np.isneginf(z[rows, np.searchsorted(classes, lab[rows])])
    return out


#: The recall cell of a class whose every tested spectrum was tested by a model that never
#: trained on it (key: a fixed split's test part, else folds).
_NOT_TRAINED = {True: "not trained on", False: "not trained on in its fold"}


def _recall_cell(known_cm: NDArray[np.int64], i: int, n_tested: int,
                 fixed_split: bool) -> float | str:
    """The Data table's recall of class ``i``: over its tested spectra whose testing model
    trained on it (``known_cm``'s row); the words of :data:`_NOT_TRAINED` where it has tested
    spectra but none of them such (a model cannot name a class it never trained on: no
    recall to speak of, not a recall of 0), NaN where it has none tested."""
    row = int(known_cm[i].sum())
    if row:
        return float(known_cm[i, i] / row)
    return _NOT_TRAINED[fixed_split] if n_tested else float("nan")


def _classes_listed(labels: NDArray[np.str_], top: int = 5) -> str:
    """``a`` / ``a and b`` / ``a, b and 3 more``: the classes of ``labels``, sorted."""
    names = sorted(set(labels.tolist()))
    if len(names) > top:
        return ", ".join(names[:top]) + f" and {len(names) - top} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _fold_thresholds(cv: Any, unseen: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """The own novelty threshold of the fold model that tested each spectrum of ``unseen``
    (``cv.fold_thresholds``), or ``None`` where a fold model chose none of its own (or the
    CV does not record them)."""
    per_fold = np.asarray(getattr(cv, "fold_thresholds", []), dtype=np.float64)
    fold = np.asarray(cv.fold_of)[unseen]
    if per_fold.size == 0 or fold.max() >= per_fold.size:
        return None
    own = per_fold[fold]
    return None if np.isnan(own).any() else own


def _flagged(nov: NDArray[np.float64], threshold: float, own: NDArray[np.float64] | None,
             fixed_split: bool) -> str:
    """How many of the unseen spectra's scores ``nov`` their novelty score flagged (the end
    of :func:`unseen_note`): each against its fold model's ``own`` threshold where the fold
    models chose their own, else against the final model's ``threshold``."""
    scored = np.isfinite(nov)
    if not scored.any():
        return "there are no novelty scores (--novelty none) to flag them as unknown"
    if own is not None and not fixed_split:
        # what the fold model that tested them would have said, by its own threshold
        own, nov = own[scored], nov[scored]
        set_ = np.isfinite(own)
        if not set_.any():
            return ("their fold model had no novelty threshold of its own (too few held-out "
                    "spectra to set one), so none of them is flagged as unknown")
        k = int(np.sum(nov[set_] > own[set_]))
        return (f"the novelty score flagged {k} of the {int(set_.sum())} as unknown (the "
                "score of the fold model that tested them, above that model's own threshold: "
                "as that model would have flagged them)"
                + (f"; the other {int((~set_).sum())} none, their fold model having no "
                   "threshold (too few held-out spectra to set one)" if (~set_).any() else ""))
    if not np.isfinite(threshold):
        return ("there is no novelty threshold (too few held-out spectra to set one), "
                "so none of them is flagged as unknown")
    k = int(np.sum(nov[scored] > threshold))
    # (the final model of a CV trained on every class: predict names them)
    return (f"the novelty score flagged {k} of the {int(scored.sum())} as unknown "
            + ("(above the threshold)"
               + (": 'ramancam predict' would name the others one of the trained "
                  "classes" if k < int(scored.sum()) else "") if fixed_split else
               "(the fold model's score, above the final model's threshold: the fold models "
               "kept no threshold of their own, as a score that needs held-out networks "
               "sets one only with more fits)"))


def unseen_note(cv: Any, threshold: float, *, fixed_split: bool = False) -> str | None:
    """The report's note on the spectra of :func:`unseen_spectra` (``None`` without them):
    how many, of which classes, that the model cannot name a class it never trained on, and
    how many the novelty score of the model that tested them (``cv.oof_novelty``) flagged
    as unknown: above that fold model's own threshold (``cv.fold_thresholds``) where the
    fold models chose their own (the ``hqi`` scores' leave-one-out one, or a validation
    part's), else (and for a fixed split, whose one model is the final one) above
    ``threshold``, the final model's."""
    unseen = unseen_spectra(cv)
    n = int(unseen.sum())
    if not n:
        return None
    lab = np.asarray(cv.labels).astype(str)[unseen]
    one = len(set(lab.tolist())) == 1
    nov = np.asarray(cv.oof_novelty, dtype=np.float64)
    nov = nov[unseen] if nov.size == unseen.size else np.full(n, np.nan)
    flagged = _flagged(nov, threshold, _fold_thresholds(cv, unseen), fixed_split)
    what = (f"the {n} test spectra of {_classes_listed(lab)}, "
            f"{'a class' if one else 'classes'} only in the test part" if fixed_split else
            f"the {n} spectra of {_classes_listed(lab)}, tested by a fold model whose "
            f"training part lacked {'the class' if one else 'their class'} (all of "
            f"{'it' if one else 'such a class'} in the fold's test part, as in one group or "
            "block)")
    return (f"Not listed: {what}. A model cannot name a class it never trained on, so "
            f"they count as errors in the {'test' if fixed_split else 'CV'} accuracy but are "
            f"no mistakes to check; {flagged}.")


def classes_drawn(counts: Sequence[int], top: int = MAX_CLASSES_SHOWN) -> list[int]:
    """The places of the ``top`` classes with the most spectra (``counts``, one per class;
    ties: the first), in class order; a class without spectra is never drawn."""
    order = sorted((i for i, n in enumerate(counts) if n > 0), key=lambda i: (-counts[i], i))
    return sorted(order[:top])


def confusion_figure(confusion: Any, classes: Sequence[str], title: str | None = None
                     ) -> Any:
    """The confusion matrix (rows true, columns predicted) as a matplotlib figure sized for
    its class names, or None above ``MAX_MATRIX`` classes (a matrix of 60 classes was 4125 x
    3432 px of unreadable cells: list :func:`most_confused` instead)."""
    import matplotlib.pyplot as plt

    from . import plot
    from ._labels import NAME_LIMIT

    if len(classes) > MAX_MATRIX:
        return None
    # room for the class names, as the matrix shows them
    label_in = 0.075 * min(max(len(c) for c in classes), NAME_LIMIT)
    fig, ax = plt.subplots(figsize=(1.4 + label_in + 0.55 * len(classes),
                                    1.0 + label_in + 0.5 * len(classes)))
    plot.confusion_matrix(confusion, classes, ax=ax, title=title)
    fig.tight_layout()
    return fig


def most_confused(confusion: Any, classes: Sequence[str], top: int = 8) -> list[list[Any]]:
    """``[true class, predicted as, spectra]`` of the ``top`` largest off-diagonal cells of a
    confusion matrix (rows true, columns predicted), largest first, ties in row order."""
    cm = np.asarray(confusion)
    off = [(int(cm[i, j]), i, j) for i in range(len(classes)) for j in range(len(classes))
           if i != j and cm[i, j] > 0]
    off.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [[classes[i], classes[j], n] for n, i, j in off[:top]]
