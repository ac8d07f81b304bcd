"""Grad-CAM vs. the FC-importance map on the common-component set (paper section 4.1, Fig. 3).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..report import Section, Table
from ._shared import (
    _baseline_test_scores,
    _class_index,
    _cnn,
    _labels,
    _peak_scores,
    _rng,
    _Run,
    _run_staged,
    _settings,
    _shared_legend,
)
from .settings import PAPER_CLAIMS

__all__ = [
    "common",
]

# ----------------------------------------------------------------------------- common
def common(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
           **overrides: Any) -> dict[str, Any]:
    """Grad-CAM vs. the FC-importance map on the common-component set (paper Fig. 3).

    A CNN is trained on ``n_train_per_class`` spectra per class of
    :func:`ramancam.simulate.common_component_set` (the class's defined peak plus
    ``n_random_peaks`` peaks at random positions) and both maps are computed for the true
    class on a fresh test set. For each method: the pointing game and peak-window mass at
    the defined peak and at the random peaks.

    Parameters
    ----------
    out_dir, seed, quick
        As in :func:`filters`.
    **overrides
        Any key of ``COMMON`` to change.

    Returns
    -------
    dict
        The content of ``metrics.json``: ``results`` has ``accuracy``, ``fit_seconds`` and
        ``maps`` = ``{"fc"|"gradcam": {"defined": {...}, "random": {...}}}``.
    """
    settings = _settings("common", quick, overrides)
    return _run_staged("common", out_dir, seed, quick, settings, _common)


def _common(run: _Run) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from ..explain import fc_importance, grad_cam
    from ..plot import maps_overlay, spectrum_map
    from ..simulate import CLASS_PEAKS, common_component_set

    s = run.settings
    n_rnd = int(s["n_random_peaks"])
    train = common_component_set(s["n_train_per_class"], n_random_peaks=n_rnd,
                                 rng=_rng(run.seed, 1))
    test = common_component_set(s["n_test_per_class"], n_random_peaks=n_rnd,
                                rng=_rng(run.seed, 2))
    y_train, y_test = _labels(train), _labels(test)
    axis = np.asarray(test.wavenumbers)
    run.log(f"training on {len(train)} spectra, {s['epochs']} epochs")
    est = _cnn(s, run.seed).fit(train.X, y_train)
    pred = est.predict(test.X).astype(str)
    acc = float(np.mean(pred == y_test))
    target = _class_index(est, y_test)
    maps = {"fc": np.asarray(fc_importance(est.module_, test.X, target)),
            "gradcam": np.asarray(grad_cam(est.module_, test.X, target))}
    defined = np.asarray(test.meta["peak_position"], dtype=np.float64)
    random_cols = [f"random_peak_{j + 1}" for j in range(int(s["n_random_peaks"]))]
    random_peaks = np.column_stack([np.asarray(test.meta[c], dtype=np.float64)
                                    for c in random_cols]) if random_cols else None
    scores: dict[str, Any] = {}
    for method, m in maps.items():
        scores[method] = {"defined": _peak_scores(m, axis, defined, s["tol"], s["window"])}
        if random_peaks is not None:
            scores[method]["random"] = _peak_scores(m, axis, random_peaks, s["tol"],
                                                    s["window"])
    base, _ = _baseline_test_scores(train.X, y_train, test.X, y_test, run.seed)
    run.log(f"accuracy {acc:.3f}")

    names = {"fc": "FC-importance (Eq. 9)", "gradcam": "Grad-CAM (Eqs. 6-7)"}
    rows = []
    for method in ("fc", "gradcam"):
        for where_ in ("defined", "random"):
            if where_ in scores[method]:
                sc = scores[method][where_]
                rows.append([names[method], f"{where_} peak(s)", sc["pointing"], sc["mass"]])
    blocks: list[Any] = [
        "Paper's claim: " + PAPER_CLAIMS["common"],
        f"Training: {s['n_train_per_class']} spectra per class (defined peak at 100, 500 or "
        f"1000 ch plus {s['n_random_peaks']} random peaks), {s['n_filters']} filters of size "
        f"{s['filter_size']}, Adam lr {s['lr']:g}, {s['epochs']} epochs; test: "
        f"{s['n_test_per_class']} fresh spectra per class. Maps for the true class.",
        Table(["model", "test accuracy"],
              [["CNN", acc]] + [[k, v] for k, v in base.items()], caption="Accuracy"),
        Table(["map", "where", "pointing game", "peak-window mass"], rows,
              caption=f"Map quality (pointing within {s['tol']:g} ch; mass within "
                      f"{s['window']:g} ch; at the random peaks: the mass at all "
                      f"{s['n_random_peaks']} of them together, per peak that divided by "
                      f"{s['n_random_peaks']})")]
    classes = sorted(CLASS_PEAKS, key=CLASS_PEAKS.get)  # type: ignore[arg-type]
    fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.6 * len(classes)),
                             layout="constrained")
    for ax, label in zip(np.atleast_1d(axes), classes, strict=True):
        j = int(np.flatnonzero(y_test == label)[0])
        rnd = ", ".join(f"{test.meta[c][j]:.0f}" for c in random_cols)
        maps_overlay(axis, test.X[j], {"Grad-CAM": maps["gradcam"][j],
                                       "FC-importance": maps["fc"][j]}, ax=ax,
                     # the paper's colours, Grad-CAM green, FC blue; maps_overlay dashes them
                     colors=("tab:green", "tab:blue"),
                     title=f"class {label} (random peaks at {rnd} ch)")
    _shared_legend(fig, axes)
    blocks.append(run.figure(fig, "fig3_common.png",
                             "Fig. 3: a test spectrum per class (black, solid), Grad-CAM "
                             "at the pooling layer (green, dashed) and the FC-importance map "
                             "(blue, dash-dot; each scaled to max "
                             "|value| = 1; a map of zeros stays on the zero line, and its "
                             "panel says so)."))
    fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.4 * len(classes)),
                             layout="constrained")
    for ax, label in zip(np.atleast_1d(axes), classes, strict=True):
        j = int(np.flatnonzero(y_test == label)[0])
        spectrum_map(axis, test.X[j], maps["fc"][j], ax=ax, map_label="FC-importance",
                     title=f"class {label}: signed FC-importance map")
    blocks.append(run.figure(fig, "fig3_signed.png",
                             "The FC-importance maps of the same spectra with their sign: "
                             "red supports the class, blue argues against it."))
    run.sections.append(Section("Common-component extraction (Fig. 3)", blocks))
    return {"accuracy": acc, "baselines": base, "fit_seconds": float(est.fit_time_),
            "n_train": len(train), "n_test": len(test), "maps": scores}
