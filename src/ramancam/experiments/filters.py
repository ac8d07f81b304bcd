"""Filter size and count vs. the map on the peak-position set (paper section 4.1, Fig. 2).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..report import Section, Table
from ._shared import (
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
    "filters",
]

# ----------------------------------------------------------------------------- filters
def filters(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
            **overrides: Any) -> dict[str, Any]:
    """Filter size and count vs. the map, on the peak-position set (paper Fig. 2).

    For each filter size (at ``size_study_filters`` filters) and each filter count (at size
    ``count_study_size``), a CNN is trained on ``n_train_per_class`` spectra per class of
    :func:`ramancam.simulate.peak_position_set` and explained (FC-importance map, true class)
    on a fresh set drawn with another seed. Reported per setting: test accuracy, the pointing
    game (share of maps whose maximum lies within ``tol`` channels of the class's peak) and
    the peak-window mass (share of the map's positive mass within ``window`` channels of it).

    Parameters
    ----------
    out_dir : str or path-like
        Folder for ``metrics.json``, ``report.html`` and the figures (created if missing).
    seed : int
        Seeds the training set (stream 1), the test set (stream 2) and the networks.
    quick : bool
        Tiny settings (``FILTERS_QUICK``) for tests.
    **overrides
        Any key of ``FILTERS`` to change.

    Returns
    -------
    dict
        The content of ``metrics.json``; ``results["settings"]`` lists one row per setting.
    """
    settings = _settings("filters", quick, overrides)
    return _run_staged("filters", out_dir, seed, quick, settings, _filters)


def _filters(run: _Run) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from ..explain import fc_importance
    from ..plot import maps_overlay
    from ..simulate import CLASS_PEAKS, peak_position_set

    s = run.settings
    train = peak_position_set(s["n_train_per_class"], rng=_rng(run.seed, 1))
    test = peak_position_set(s["n_test_per_class"], rng=_rng(run.seed, 2))
    axis = np.asarray(test.wavenumbers)
    y_train, y_test = _labels(train), _labels(test)
    peaks = np.asarray(test.meta["peak_position"], dtype=np.float64)
    settings = [("size", size, s["size_study_filters"]) for size in s["sizes"]]
    settings += [("count", s["count_study_size"], n) for n in s["counts"]]
    rows: list[dict[str, Any]] = []
    maps_by: dict[tuple[int, int], NDArray[Any]] = {}
    for i, (study, size, count) in enumerate(settings):
        key = (int(size), int(count))
        if key not in maps_by:
            run.log(f"training filter size {size}, {count} filters "
                    f"({i + 1}/{len(settings)})")
            est = _cnn(s, run.seed, n_filters=int(count), filter_size=int(size))
            est.fit(train.X, y_train)
            acc = float(np.mean(est.predict(test.X).astype(str) == y_test))
            maps = fc_importance(est.module_, test.X, _class_index(est, y_test))
            maps_by[key] = np.asarray(maps)
            scores = _peak_scores(maps_by[key], axis, peaks, s["tol"], s["window"])
            cached = {"accuracy": acc, **scores, "fit_seconds": float(est.fit_time_)}
        else:
            cached = next(r for r in rows if (r["filter_size"], r["n_filters"]) == key)
            cached = {k: cached[k] for k in ("accuracy", "pointing", "mass", "fit_seconds")}
        rows.append({"study": study, "filter_size": key[0], "n_filters": key[1], **cached})

    # Figures: one panel per class, the first test spectrum of that class and every
    # setting's map of it, with an inset around the class's peak (as in Fig. 2).
    blocks: list[Any] = [
        "Paper's claim: " + PAPER_CLAIMS["filters"],
        f"Training: {s['n_train_per_class']} spectra per class of the peak-position set "
        f"(Lorentzian, FWHM 4 ch, 1024 ch), Adam lr {s['lr']:g}, {s['epochs']} epochs; test: "
        f"{s['n_test_per_class']} fresh spectra per class. Map: FC-importance (Eq. 9) for the "
        f"true class. Pointing: the map's maximum within {s['tol']:g} ch of the class's peak; "
        f"mass: share of positive map mass within {s['window']:g} ch of it.",
        Table(["study", "filter size", "filters", "test accuracy", "pointing game",
               "peak-window mass", "fit (s)"],
              [[r["study"], r["filter_size"], r["n_filters"], r["accuracy"], r["pointing"],
                r["mass"], r["fit_seconds"]] for r in rows],
              caption="Map quality per setting (test set)")]
    classes = sorted(CLASS_PEAKS, key=CLASS_PEAKS.get)  # type: ignore[arg-type]
    for study, title in (("size", "filter size"), ("count", "filter count")):
        chosen = [(r["filter_size"], r["n_filters"]) for r in rows if r["study"] == study]
        # the enlargement around the peak in a panel of its own beside each class: an inset
        # sat on the maps, which fill the whole axis
        fig, axes = plt.subplots(len(classes), 2, figsize=(10, 2.6 * len(classes)),
                                 layout="constrained", width_ratios=(3, 1), squeeze=False)
        for (ax, zoom), label in zip(axes, classes, strict=True):
            j = int(np.flatnonzero(y_test == label)[0])
            p = CLASS_PEAKS[label]
            shown = {f"size {fs} ({nf})": maps_by[(fs, nf)][j] for fs, nf in chosen}
            maps_overlay(axis, test.X[j], shown, ax=ax, title=f"class {label}")
            maps_overlay(axis, test.X[j], shown, ax=zoom, title=f"around its peak ({p:g})")
            zoom.set_xlim(max(p - 100, float(axis[0])), min(p + 100, float(axis[-1])))
            zoom.set_ylabel("")
        _shared_legend(fig, axes)
        blocks.append(run.figure(fig, f"fig2_{study}.png",
                                 f"Fig. 2 ({title}): a test spectrum per class (black) and "
                                 "the FC-importance map of each setting, size (count), "
                                 "in its own colour and line style; "
                                 "each curve scaled to max |value| = 1."))
    run.sections.append(Section("Filter size and count (Fig. 2)", blocks))
    return {"settings": rows}
