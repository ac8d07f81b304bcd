"""A labelled real set, 4 training spectra per class chosen by signal level (paper 4.2, Fig. 5).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError
from ..report import Section, Table
from . import _shared
from ._shared import (
    _as_float,
    _baseline_test_scores,
    _class_index,
    _cnn,
    _resolve_data,
    _rng,
    _Run,
    _run_staged,
    _settings,
    _shared_legend,
)
from .settings import PAPER_CLAIMS, PHARMA

if TYPE_CHECKING:
    from ..spectra import Spectra

__all__ = [
    "pharma",
]

# ----------------------------------------------------------------------------- pharma
def pharma(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
           data: str | os.PathLike[str] | None = None, label_col: str | None = None,
           **overrides: Any) -> dict[str, Any]:
    """The paper's protocol for a labelled real set (section 4.2, Fig. 5).

    The raw spectra get a linear baseline (end points) and are resampled onto ``grid``; the
    signal level of a spectrum is its maximum there. Per class, 4 training spectra are
    picked: the strongest and those nearest ``fractions`` (1/2, 1/3, 1/4) of its level; all
    other spectra are the test set. After the paper's max normalisation the CNN is trained
    (Adam lr 1e-4, 200 epochs) and reported: test accuracy, confusion matrix, PCA+SVM and
    PLS-DA on the same split, per class the maps with the mean spectrum (Fig. 5), and the
    background share of the maps (the share of |map| on points where the spectrum is below
    ``background_threshold``).

    Parameters
    ----------
    out_dir, seed, quick
        As in :func:`filters`.
    data : str or path-like, optional
        Labelled spectra (any format :func:`ramancam.io.read` reads); default the shared
        ``drug-mabs/spectra.csv.gz``.
    label_col : str, optional
        Label column of a wide table (default ``"label"``); for a folder of files give
        ``labels_from=`` (an override: ``"folder"``, ``"regex:R"``, ...) instead.
    **overrides
        Any key of ``PHARMA`` to change (e.g. ``grid=(400, 1800, 1)``).

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Raises
    ------
    RamancamError
        If no data are given and the shared file is absent, the data are unlabelled, or a
        class has fewer than ``len(fractions) + 1`` spectra.
    """
    s = _settings("pharma", quick, overrides)
    if label_col is not None:
        s["label_col"] = label_col
    if data is None:
        folder = _shared.default_data("drug-mabs")
        data = None if folder is None else folder / "spectra.csv.gz"
    src = _resolve_data(data, "drug-mabs", "data", "--data FILE")
    s["data"] = str(src)
    raw = _read_labelled(src, s["label_col"], s["labels_from"], grid=s["grid"])
    return _run_staged("pharma", out_dir, seed, quick, s, lambda run: _pharma(run, src, raw))


def _pick_by_signal(level: NDArray[Any], labels: NDArray[Any],
                    fractions: Sequence[float]) -> NDArray[np.intp]:
    """Per class, the strongest spectrum and those nearest each fraction of its level."""
    picked: list[int] = []
    for c in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == c)
        if idx.size < len(fractions) + 1:
            raise RamancamError(
                f"class {c!r} must have at least {len(fractions) + 1} spectra (training "
                f"picks {len(fractions)} and at least one is tested); got {idx.size}.")
        top = float(level[idx].max())
        left = list(idx)
        for f in fractions:
            j = min(left, key=lambda i: (abs(float(level[i]) - f * top), i))
            picked.append(int(j))
            left.remove(j)
    return np.array(sorted(picked), dtype=np.intp)


def _read_labelled(src: Path, label_col: str | None, labels_from: str | None = None, *,
                   grid: Sequence[float] = PHARMA["grid"]) -> Spectra:
    """The labelled spectra of ``src``: a table's ``label_col``, or for a folder of files
    ``labels_from`` (read before any experiment runs, so that a wrong label column, or
    spectra short of ``grid``, stops ``reproduce all`` at once, not after the others had
    trained)."""
    from ..io import read

    if labels_from is not None:
        raw = read(src, labels_from=labels_from)
    else:
        raw = read(src, label_col=label_col)
    if raw.labels is None:
        raise RamancamError(f"data must be labelled; got no labels in {src}. Give the label "
                            "column with --label-col (or, for a folder, --labels-from).")
    _check_range(raw, src, grid)
    return raw


def _check_range(raw: Spectra, src: Path, grid: Sequence[float]) -> None:
    """Refuse spectra that do not cover ``grid`` (start, stop, step) before the recipe does:
    its message offered ``--grid``, an option of train, but the paper's grid is fixed in
    ``ramancam reproduce``; from Python the ``grid=`` override crops it."""
    from ..preprocess.auto import common_range

    start, stop, step = (float(v) for v in grid)
    tol = 0.5 * step  # as the paper recipe's resampling step tolerates
    lo, hi = common_range(raw)
    if lo <= start + tol and hi >= stop - tol:
        return
    a = max(start, np.ceil((lo - tol) / step - 1e-9) * step)
    b = min(stop, np.floor((hi + tol) / step + 1e-9) * step)
    got = (f"{src}, whose spectra cover only {lo:g}-{hi:g} cm-1" if lo < hi else
           f"{src}, whose spectra share no range of Raman shifts")
    crop = f"grid=({a:g}, {b:g}, {step:g})"
    raise RamancamError(
        f"data must cover the grid {start:g}-{stop:g} cm-1; got {got}. Give spectra measured "
        "over that range" + (f", or crop the grid: {crop}." if b > a else "."),
        cli=f"--data must cover the paper's grid for pharma, {start:g}-{stop:g} cm-1 (fixed in "
            f"'ramancam reproduce'); got {got}. Give spectra measured over {start:g}-{stop:g} "
            "cm-1" + (f", or run the protocol on {a:g}-{b:g} cm-1 from Python: "
                      f"ramancam.experiments.pharma('OUT', data={str(src)!r}, {crop})."
                      if b > a else "."))


def _pharma(run: _Run, src: Path, raw: Spectra) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from .. import metrics
    from .._labels import short_names
    from ..errors import spectra_count
    from ..explain import fc_importance
    from ..plot import map_band, vip_beside_map
    from ..preprocess import Recipe, paper_recipe
    from ..train_report import _classes_listed, classes_drawn

    s = run.settings
    start, stop, step = (float(v) for v in s["grid"])
    grid = (start, stop, step)
    run.log(f"{len(raw)} spectra, {len(raw.classes)} classes; preprocessing")
    # Signal level: the maximum after the paper's baseline and resampling, before the
    # normalisation that would make every spectrum's maximum 1.
    unnormalised = Recipe(paper_recipe(grid=grid).to_dict()["steps"][:2]).apply(raw)
    level = np.asarray(unnormalised.X).max(axis=1)
    prepared = paper_recipe(grid=grid).apply(raw)
    labels = np.asarray(prepared.labels).astype(str)
    tr = _pick_by_signal(level, labels, s["fractions"])
    te = np.setdiff1d(np.arange(len(prepared)), tr)
    if s["max_test"]:
        te = _rng(run.seed, 2).choice(te, size=min(int(s["max_test"]), te.size),
                                      replace=False)
        te.sort()
    X, axis = np.asarray(prepared.X), np.asarray(prepared.wavenumbers)
    run.log(f"training on {tr.size} spectra ({len(s['fractions'])} per class), "
            f"{s['epochs']} epochs; {te.size} test spectra")
    est = _cnn(s, run.seed).fit(X[tr], labels[tr])
    pred = est.predict(X[te]).astype(str)
    acc = float(np.mean(pred == labels[te]))
    classes = [str(c) for c in est.classes_]
    col = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(cm, ([col[c] for c in labels[te]], [col[c] for c in pred]), 1)
    maps = np.asarray(fc_importance(est.module_, X[te], _class_index(est, labels[te])))
    bg = metrics.background_share(maps, X[te], s["background_threshold"])
    base, pls = _baseline_test_scores(X[tr], labels[tr], X[te], labels[te], run.seed)
    run.log(f"accuracy {acc:.3f}")
    bg_arr = np.asarray(bg, dtype=np.float64)
    n_test = {c: int(np.sum(labels[te] == c)) for c in classes}
    # classes whose spectra all went to training (or the quick run's sample missed them)
    # have no maps and no test accuracy: said once, left out of the per-class parts (their
    # means of nothing printed numpy's "Mean of empty slice" with its source path)
    untested = [c for c in classes if not n_test[c]]
    per_class_bg = {c: _as_float(bg_arr[labels[te] == c]) for c in classes if n_test[c]} \
        if bg_arr.ndim == 1 and bg_arr.size == te.size else {}
    results: dict[str, Any] = {
        "classes": classes, "n_train": int(tr.size), "n_test": int(te.size),
        "train_index": tr.tolist(), "train_labels": labels[tr].tolist(),
        "train_signal_level": level[tr].tolist(),
        "train_relative_level": {
            c: sorted((level[tr][labels[tr] == c] / level[labels == c].max()).tolist(),
                      reverse=True) for c in classes},
        "train_id": ([str(v) for v in prepared.meta["id"][tr]] if "id" in prepared.meta
                     else None),
        "classes_untested": untested,
        "accuracy": acc, "confusion": cm.tolist(), "baselines": base,
        "background_share": _as_float(bg), "background_share_per_class": per_class_bg,
        "fit_seconds": float(est.fit_time_)}

    blocks: list[Any] = [
        "Paper's claim: " + PAPER_CLAIMS["pharma"],
        f"Data: {src.name}, {len(raw)} spectra of {len(classes)} classes, paper's recipe on "
        f"{grid[0]:g}-{grid[1]:g} cm-1 (step {grid[2]:g}). Training: per class the strongest "
        "spectrum (maximum after baseline and resampling) and those nearest "
        + ", ".join(f"{f:.3g}" for f in s["fractions"][1:]) + " of it; "
        + (f"test: the other {te.size}" if te.size == len(raw) - tr.size else
           f"test: {te.size} of the other {len(raw) - tr.size}, drawn at random")
        + f". CNN: Adam lr {s['lr']:g}, {s['epochs']} epochs "
        "(one split; the paper's 5-fold CV is not defined for 4 training spectra per class).",
        Table(["model", "test accuracy"], [["CNN", acc]] + [[k, v] for k, v in base.items()],
              caption="Accuracy on the same split"),
        Table(["class", "training signal levels (share of the strongest)"],
              [[c, ", ".join(f"{v:.2f}" for v in results["train_relative_level"][c])]
               for c in classes],
              caption="Signal levels picked for training (paper: 1, 1/2, 1/3, 1/4)"),
        Table(["class", "background share of |map|"],
              [[c, v] for c, v in per_class_bg.items()] + [["all", _as_float(bg)]],
              caption=f"Share of |map| on background points (spectrum < "
                      f"{s['background_threshold']:g} of its maximum); near 0 is the claim")]
    if untested:
        blocks.append(f"{len(untested)} of the {len(classes)} classes have no test spectra "
                      f"({_classes_listed(np.asarray(untested))}): "
                      + ("each has only the 4 picked for training"
                         if te.size == len(raw) - tr.size else
                         "the quick run's random sample of test spectra drew none of theirs")
                      + "; they have no row in the background table and no panel.")
    blocks.extend(_confusion_blocks(run, cm, classes))
    # as train --report draws its classes: the MAX_CLASSES_SHOWN with the most test spectra,
    # their names cut as every figure cuts them (60 panels made an 880 x 15180 px image)
    shown = [classes[k] for k in classes_drawn([n_test[c] for c in classes])]
    titles = dict(zip(shown, short_names(shown), strict=True))
    more = (f" The {len(shown)} classes with the most test spectra (of {len(classes)}) are "
            "drawn." if len(shown) < len(classes) - len(untested) else "")
    fig, axes = plt.subplots(len(shown), 1, figsize=(8, 2.3 * len(shown)),
                             layout="constrained")
    for ax, c in zip(np.atleast_1d(axes), shown, strict=True):
        rows = labels[te] == c
        map_band(axis, maps[rows], ax=ax, label="mean map",
                 spectrum=X[te][rows].mean(axis=0),
                 title=f"class {titles[c]}: mean map +- sd over "
                       f"{spectra_count(n_test[c], 'test')}")
    _shared_legend(fig, axes)  # one above the panels: inside, each sat on the spectra
    blocks.append(run.figure(fig, "fig5_maps.png",
                             "Fig. 5 style: per class, the mean FC-importance map of its test "
                             "spectra (+- 1 sd band) with the mean spectrum (grey)." + more))
    if pls is not None:
        fig, axes = plt.subplots(len(shown), 1, figsize=(8, 2.3 * len(shown)),
                                 layout="constrained")
        pls_classes = [str(c) for c in pls.classes_]
        for ax, c in zip(np.atleast_1d(axes), shown, strict=True):
            rows = labels[te] == c
            vip_beside_map(axis, pls.vip_[pls_classes.index(c)], maps[rows].mean(axis=0),
                           spectrum=X[te][rows].mean(axis=0), ax=ax, title=f"class {titles[c]}")
        _shared_legend(fig, axes)  # the same three curves in every panel: one legend
        blocks.append(run.figure(fig, "pharma_vip.png",
                                 "PLS-DA VIP (per class) beside the CNN's mean FC-importance "
                                 "map, with the mean spectrum (grey)." + more))
    run.sections.append(Section("Real labelled spectra (section 4.2, Fig. 5)", blocks))
    return results


def _confusion_blocks(run: _Run, cm: NDArray[np.int64], classes: list[str]) -> list[Any]:
    """The CNN's test confusion matrix as train --report gives it: drawn up to
    ``MAX_MATRIX`` classes, above it a line and the most frequent confusions."""
    from ..train_report import MAX_MATRIX, confusion_figure, most_confused

    fig = confusion_figure(cm, classes, title="CNN, test set")
    if fig is not None:
        return [run.figure(fig, "pharma_confusion.png",
                           "Confusion matrix (counts; colour = share of the true class).")]
    blocks: list[Any] = [
        f"{len(classes)} classes are too many to draw as a matrix (more than {MAX_MATRIX}); "
        "the table lists the most frequent confusions of the CNN on the test set (metrics.json "
        "holds the whole matrix)."]
    if confused := most_confused(cm, classes, top=30):
        blocks.append(Table(["true class", "predicted as", "spectra"], confused,
                            caption="The most frequent confusions."))
    return blocks
