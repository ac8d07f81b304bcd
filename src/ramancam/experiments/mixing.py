"""Numerical mixtures of measured pure spectra (paper section 4.3, Fig. 7).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError
from ..report import Section, Table
from ._shared import (
    _baseline_test_scores,
    _baselines_available,
    _class_index,
    _labels,
    _resolve_data,
    _rng,
    _Run,
    _run_staged,
    _settings,
    _shared_legend,
)
from .settings import PAPER_CLAIMS

if TYPE_CHECKING:
    from ..spectra import Spectra

__all__ = [
    "mixing",
]

# ----------------------------------------------------------------------------- mixing
def mixing(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
           pure: str | os.PathLike[str] | None = None, **overrides: Any) -> dict[str, Any]:
    """Numerical mixtures of measured pure spectra (paper section 4.3, Fig. 7).

    The pure spectra are preprocessed with the paper's recipe on the widest 1 cm-1 grid that
    all of them cover; for every ordered pair ``(a, b)`` ``n_per_pair`` mixtures
    ``pure_a + r pure_b`` (``r`` uniform in ``ratio``) are labelled ``a`` and normalised to
    their maximum; a test set is made the same way from another seed. The CNN is
    cross-validated on the training mixtures (``folds``-fold, PCA+SVM and PLS-DA on the same
    folds when :mod:`ramancam.baselines` is there) and every fold model is scored and
    explained on the test set. Reported: CV and test accuracy; per class the mean map with
    the labelled pure spectrum (Fig. 7); the correlation of each map with the labelled and
    with the admixed pure spectrum; the share of test maps that correlate better with the
    labelled one (the paper's claim, target >= 0.95); and the map's value at the admixed
    component's strongest peaks that the labelled one lacks.

    Parameters
    ----------
    out_dir, seed, quick
        As in :func:`filters`.
    pure : str or path-like, optional
        Folder (or file) of pure spectra, one per class; default the shared
        ``amino-acids`` folder (see :func:`default_data`). A folder's files are labelled by
        their names, a table's spectra by its column ``label_col`` (an override).
    **overrides
        Any key of ``MIXING`` to change.

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Raises
    ------
    RamancamError
        If no pure spectra are given and the shared folder is absent.
    """
    settings = _settings("mixing", quick, overrides)
    src = _resolve_data(pure, "amino-acids", "pure", "--pure DIR")
    settings["pure"] = str(src)
    raw = _read_pure(src, settings["label_col"])
    return _run_staged("mixing", out_dir, seed, quick, settings,
                       lambda run: _mixing(run, src, raw))


def _read_pure(src: Path, label_col: str | None) -> Spectra:
    """The pure spectra of ``src``, labelled: by ``label_col`` for a table, else by their
    file names (read before any experiment runs, so that ``reproduce all`` stops at once)."""
    from ..io import read

    raw = read(src, label_col=label_col)
    if raw.labels is None:
        names = np.array([Path(p).stem if p else "" for p in raw.sources])
        if len(set(names.tolist())) < 2:
            raise RamancamError(
                f"pure spectra must have labels; got {len(raw)} spectra in {str(src)!r} whose "
                "file name would label them all alike. Give the table's label column "
                "(--pure-label-col C; label_col= in Python) or a folder of one file per "
                "spectrum.")
        raw = raw.replace(labels=names)
    return raw


def _common_grid(spectra: Spectra) -> tuple[float, float, float]:
    """The widest 1 cm-1 grid inside every spectrum's range (never extrapolate)."""
    lo = max(float(np.min(a)) for a in spectra.axes)
    hi = min(float(np.max(a)) for a in spectra.axes)
    start, stop = math.ceil(lo), math.floor(hi)
    if stop - start < 10:
        raise RamancamError(
            f"pure spectra must share a Raman-shift range; got only {lo:g}-{hi:g} cm-1 in "
            "common. Use spectra measured over the same range.")
    return float(start), float(stop), 1.0


def _top_peaks(y: NDArray[Any], n: int) -> NDArray[np.intp]:
    from scipy.signal import find_peaks

    idx, props = find_peaks(y, prominence=0.05 * float(np.max(y)))
    order = np.argsort(props["prominences"])[::-1]
    return np.asarray(idx[order[:n]], dtype=np.intp)


def _mixing(run: _Run, src: Path, raw: Spectra) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from .. import metrics
    from ..explain import fc_importance
    from ..plot import cv_accuracy, map_band, map_with_reference, vip_beside_map
    from ..preprocess import paper_recipe
    from ..simulate import mixtures
    from ..train import cross_validate

    s = run.settings
    if s["max_pure"]:
        raw = raw[np.arange(min(len(raw), int(s["max_pure"])))]
    grid = _common_grid(raw)
    pure = paper_recipe(grid=grid).apply(raw)
    names = np.asarray(pure.labels)
    axis = np.asarray(pure.wavenumbers)
    pure_of = {str(n): np.asarray(pure.X[i]) for i, n in enumerate(names)}
    run.settings["grid"] = grid
    run.log(f"{len(pure)} pure spectra on {grid[0]:g}-{grid[1]:g} cm-1")

    def mixed(stream: int) -> Spectra:
        m = mixtures(pure, n_per_pair=int(s["n_per_pair"]), ratio=tuple(s["ratio"]),
                     rng=_rng(run.seed, stream))
        X = np.asarray(m.X)
        # The paper normalises every input spectrum to its maximum (section 2.1), mixtures too.
        return m.replace(X / X.max(axis=1, keepdims=True))

    train, test = mixed(1), mixed(2)
    y_train, y_test = _labels(train), _labels(test)
    params = {"n_filters": s["n_filters"], "filter_size": s["filter_size"],
              "fc_width": s["fc_width"], "epochs": s["epochs"], "lr": s["lr"],
              "batch_size": s["batch_size"]}
    run.log(f"{s['folds']}-fold CV on {len(train)} mixtures, {s['epochs']} epochs")
    cv = cross_validate(train, estimator_params=params, folds=int(s["folds"]), seed=run.seed,
                        compare=_baselines_available(), keep_models=True,
                        progress=lambda k, n, a: run.log(f"fold {k}/{n}: accuracy {a:.3f}"))
    labelled = np.stack([pure_of[str(v)] for v in y_test])
    partner = np.stack([pure_of[str(v)] for v in test.meta["partner"]])
    classes = sorted(pure_of)
    test_acc, corr_lab, corr_adm, better, at_peaks, neg_share, near_zero = ([] for _ in
                                                                              range(7))
    corr_lab_eq9, corr_adm_eq9, better_eq9, neg_sum_a = [], [], [], []
    fold_class_maps: dict[str, list[NDArray[Any]]] = {c: [] for c in classes}
    first_maps: NDArray[Any] | None = None
    # The admixed component's strongest peaks that the labelled one does not share: there
    # the paper expects near-zero or negative values.
    peak_idx = {c: _top_peaks(pure_of[c], int(s["n_partner_peaks"])) for c in classes}
    for est in cv.models:
        test_acc.append(float(np.mean(est.predict(test.X).astype(str) == y_test)))
        t_idx = _class_index(est, y_test)
        maps = np.asarray(fc_importance(est.module_, test.X, t_idx, form=s["fc_form"]))
        if first_maps is None:
            first_maps = maps
        cl = np.asarray(metrics.map_correlation(maps, labelled), dtype=np.float64)
        ca = np.asarray(metrics.map_correlation(maps, partner), dtype=np.float64)
        corr_lab.append(float(np.nanmean(cl)))
        corr_adm.append(float(np.nanmean(ca)))
        better.append(float(np.mean(cl > ca)))
        # Eq. 9 as written = the contribution map times sum(A): same map up to that sign.
        eq9 = np.asarray(fc_importance(est.module_, test.X, t_idx, form="eq9"))
        cl9 = np.asarray(metrics.map_correlation(eq9, labelled), dtype=np.float64)
        ca9 = np.asarray(metrics.map_correlation(eq9, partner), dtype=np.float64)
        corr_lab_eq9.append(float(np.nanmean(cl9)))
        corr_adm_eq9.append(float(np.nanmean(ca9)))
        better_eq9.append(float(np.mean(cl9 > ca9)))
        contrib = maps if s["fc_form"] == "contribution" else np.asarray(
            fc_importance(est.module_, test.X, t_idx, form="contribution"))
        # eq9 = sum(A) * contrib, so the sign of their inner product is the sign of sum(A)
        neg_sum_a.append(float(np.mean(np.sum(eq9 * contrib, axis=1) < 0)))
        scaled = maps / np.maximum(np.abs(maps).max(axis=1, keepdims=True), 1e-30)
        vals = []
        for i, (a, b) in enumerate(zip(y_test, test.meta["partner"], strict=True)):
            idx = peak_idx[str(b)]
            idx = idx[pure_of[str(a)][idx] < 0.1]
            vals.extend(scaled[i, idx].tolist())
        v = np.asarray(vals)
        at_peaks.append(float(v.mean()) if v.size else float("nan"))
        neg_share.append(float(np.mean(v < 0)) if v.size else float("nan"))
        near_zero.append(float(np.mean(v <= 0.1)) if v.size else float("nan"))
        for c in classes:
            fold_class_maps[c].append(maps[y_test == c].mean(axis=0))
    base_test, pls = _baseline_test_scores(train.X, y_train, test.X, y_test,
                                           run.seed)

    def ms(values: Sequence[float]) -> dict[str, float]:
        a = np.asarray(values, dtype=np.float64)
        return {"mean": float(np.nanmean(a)),
                "sd": float(np.nanstd(a, ddof=1)) if a.size > 1 else 0.0}

    results: dict[str, Any] = {
        "n_pure": len(pure), "classes": classes, "n_train": len(train), "n_test": len(test),
        "cv": cv.to_dict() | {"oof_pred": None, "fold_of": None},
        "cv_accuracy": ms(cv.fold_accuracy), "test_accuracy": ms(test_acc),
        "test_accuracy_per_fold_model": test_acc,
        "baselines_cv": {k: ms(v) for k, v in cv.baselines.items()},
        "baselines_test": base_test,
        "corr_labelled": ms(corr_lab), "corr_admixed": ms(corr_adm),
        "share_labelled_better": ms(better), "fc_form": s["fc_form"],
        "eq9": {"corr_labelled": ms(corr_lab_eq9), "corr_admixed": ms(corr_adm_eq9),
                "share_labelled_better": ms(better_eq9), "share_sum_a_negative": ms(neg_sum_a)},
        "admixed_peak_value": ms(at_peaks), "admixed_peak_negative_share": ms(neg_share),
        "admixed_peak_near_zero_or_negative_share": ms(near_zero),
    }

    def pm(d: dict[str, float]) -> str:
        return f"{d['mean']:.3f} +- {d['sd']:.3f}"

    acc_rows: list[list[Any]] = [["CNN", pm(results["cv_accuracy"]), pm(results["test_accuracy"])]]
    for k, v in results["baselines_cv"].items():
        acc_rows.append([k, pm(v), base_test.get(k)])
    blocks: list[Any] = [
        "Paper's claim: " + PAPER_CLAIMS["mixing"],
        f"{len(pure)} pure spectra from {src.name} (the paper had 20), preprocessed with the "
        f"paper's recipe on {grid[0]:g}-{grid[1]:g} cm-1; {s['n_per_pair']} mixtures per "
        f"ordered pair, ratio {s['ratio'][0]:g}-{s['ratio'][1]:g}: {len(train)} training and "
        f"{len(test)} test mixtures (another seed). CNN: Adam lr {s['lr']:g}, {s['epochs']} "
        f"epochs, {s['folds']}-fold CV; every fold model is also scored on the test set. "
        "Baselines: test accuracy when fitted on all training mixtures.",
        Table(["model", "CV accuracy (mean +- sd)", "test accuracy"], acc_rows,
              caption="Accuracy"),
        Table(["quantity", "mean +- sd over fold models"], [
            ["correlation of map with labelled pure spectrum", pm(results["corr_labelled"])],
            ["correlation of map with admixed pure spectrum", pm(results["corr_admixed"])],
            ["share of test maps closer to the labelled spectrum (target >= 0.95)",
             pm(results["share_labelled_better"])],
            ["the same for Eq. 9 as written (sign set by sum(A))",
             pm(results["eq9"]["share_labelled_better"])],
            ["share of test spectra with sum(A) < 0 (Eq. 9 map flipped)",
             pm(results["eq9"]["share_sum_a_negative"])],
            ["map at admixed-only peaks (scaled to max |map| = 1)",
             pm(results["admixed_peak_value"])],
            ["share of those values < 0", pm(results["admixed_peak_negative_share"])],
            ["share of those values <= 0.1 (near zero or negative)",
             pm(results["admixed_peak_near_zero_or_negative_share"])]],
            caption=f"FC-importance maps ({s['fc_form']} form, see explain.fc_importance) of "
                    "the test mixtures, for the labelled class")]
    fold_acc = {"CNN": cv.fold_accuracy, **cv.baselines}
    fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    cv_accuracy(fold_acc, ax=ax, title="Cross-validation accuracy per fold")
    blocks.append(run.figure(fig, "mixing_cv.png", "Accuracy of each CV fold, models side "
                                                   "by side."))
    ncol = 2
    nrow = math.ceil(len(classes) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 2.4 * nrow), layout="constrained",
                             squeeze=False)
    for ax, c in zip(axes.ravel(), classes, strict=False):
        mean_map = np.mean(fold_class_maps[c], axis=0)
        map_with_reference(axis, mean_map, pure_of[c], ax=ax, reference_label=f"pure {c}",
                           map_label="mean map", title=f"label {c}")
    for ax in axes.ravel()[len(classes):]:
        ax.set_visible(False)
    blocks.append(run.figure(fig, "fig7_mean_maps.png",
                             "Fig. 7 style: per class, the mean FC-importance map over its "
                             "test mixtures (red fill positive, blue negative) with the "
                             "labelled pure spectrum (green line)."))
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 2.4 * nrow), layout="constrained",
                             squeeze=False)
    for ax, c in zip(axes.ravel(), classes, strict=False):
        map_band(axis, np.stack(fold_class_maps[c]), ax=ax, label="mean map of the fold models",
                 spectrum=pure_of[c], spectrum_label="the label's pure spectrum",
                 title=f"label {c}: mean map +- sd over fold models")
    for ax in axes.ravel()[len(classes):]:
        ax.set_visible(False)
    _shared_legend(fig, axes)  # inside, each legend hid map peaks near 1420 cm-1
    blocks.append(run.figure(fig, "mixing_map_bands.png",
                             "Per class, the mean map of each fold model: mean +- 1 sd "
                             "across folds, with the pure spectrum (grey) for reference."))
    # Fig. 7(b-d): mixtures of three classes with the same admixed partner.
    if first_maps is None:  # cross_validate keeps one model per fold, so never empty
        raise RamancamError("folds must be at least 2; got no fold models.")
    partner0 = classes[0]
    picks = [int(np.flatnonzero((y_test == c) & (test.meta["partner"] == partner0))[
        np.argmax(test.meta["ratio"][(y_test == c)
                                     & (test.meta["partner"] == partner0)])])
             for c in classes[1:4]]
    fig, axes = plt.subplots(len(picks) + 1, 1, figsize=(8, 2.3 * (len(picks) + 1)),
                             layout="constrained")
    axes = np.atleast_1d(axes)
    axes[0].plot(axis, pure_of[partner0], color="black", linewidth=0.9)
    axes[0].set_title(f"pure {partner0}")
    axes[0].set_xlim(float(axis[0]), float(axis[-1]))
    axes[0].set_xlabel("Raman shift (cm⁻¹)")
    axes[0].set_ylabel("intensity (max 1)")
    for ax, i in zip(axes[1:], picks, strict=True):
        lab = str(y_test[i])
        map_with_reference(axis, first_maps[i], pure_of[lab], spectrum=test.X[i], ax=ax,
                           reference_label=f"pure {lab}",
                           title=f"{lab} + {test.meta['ratio'][i]:.2f} x {partner0} "
                                 f"(label {lab})")
    blocks.append(run.figure(fig, "fig7_examples.png",
                             f"Fig. 7(a-d) style: pure {partner0}, then test mixtures of other "
                             f"classes with {partner0} admixed (largest ratio): input (black, "
                             "offset), map of the first fold model, labelled pure spectrum "
                             "(green line)."))
    if pls is not None:
        fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.3 * len(classes)),
                                 layout="constrained")
        for ax, k in zip(np.atleast_1d(axes), range(len(classes)), strict=True):
            c = str(pls.classes_[k])
            vip_beside_map(axis, pls.vip_[k], np.mean(fold_class_maps[c], axis=0),
                           spectrum=pure_of[c], ax=ax, title=f"class {c}")
        _shared_legend(fig, axes)  # the same three curves in every panel: one legend
        blocks.append(run.figure(fig, "mixing_vip.png",
                                 "PLS-DA VIP (per class) beside the CNN's mean "
                                 "FC-importance map, with the pure spectrum (grey)."))
    run.sections.append(Section("Numerically mixed spectra (section 4.3, Fig. 7)", blocks))
    return results
