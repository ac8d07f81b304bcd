"""The paper's experiments (Fukuhara et al. 2019, sections 4.1-4.3) as functions.

Each experiment is a function ``(out_dir, *, seed=0, quick=False, ...) -> dict`` that trains
and explains what the paper did, writes its figures (PNG), ``metrics.json`` and one
self-contained ``report.html`` into ``out_dir``, and returns the numbers it measured:

* :func:`filters` -- filter size and count vs. the map on the peak-position set (Fig. 2);
* :func:`common` -- Grad-CAM vs. the FC-importance map on the common-component set (Fig. 3);
* :func:`mixing` -- numerical mixtures of measured pure spectra (section 4.3, Fig. 7);
* :func:`pharma` -- a labelled real set with 4 training spectra per class chosen by signal
  level (section 4.2, Fig. 5);
* :func:`all_experiments` -- everything above with one combined report (``reproduce all``).

``quick=True`` shrinks every experiment (fewer spectra, epochs, filters and settings) so that
the whole set runs in seconds; its numbers test the plumbing, not the paper's claims. The
paper's settings are the module constants ``FILTERS``, ``COMMON``, ``MIXING`` and ``PHARMA``;
the quick ones ``*_QUICK``.

Randomness: the training set, the test set and the network initialisation draw from separate
streams of one seed (``numpy.random.default_rng([seed, k])``), so the same seed gives the same
numbers and a different test set is never the training set re-drawn.

Progress of long steps goes to stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError
from ..report import (
    Figure,
    Section,
    Table,
    software_versions,
    write_bytes,
    write_report,
    write_text,
)

if TYPE_CHECKING:
    from ..spectra import Spectra

__all__ = [
    "COMMON",
    "COMMON_QUICK",
    "EXPERIMENTS",
    "FILTERS",
    "FILTERS_QUICK",
    "MIXING",
    "MIXING_QUICK",
    "PHARMA",
    "PHARMA_QUICK",
    "all_experiments",
    "common",
    "default_data",
    "filters",
    "jsonable",
    "mixing",
    "pharma",
    "run",
]

# ----------------------------------------------------------------------------- settings
#: Fig. 2: 20 training spectra per class, Adam 1e-4, 100 epochs; sizes at 64 filters and
#: counts at size 8 (the paper's values).
FILTERS: dict[str, Any] = {
    "n_train_per_class": 20, "n_test_per_class": 20, "epochs": 100, "lr": 1e-4,
    "batch_size": 32, "fc_width": 128, "sizes": (8, 16, 32, 64, 128), "size_study_filters": 64,
    "counts": (8, 16, 64, 256), "count_study_size": 8, "tol": 8.0, "window": 10.0}
FILTERS_QUICK: dict[str, Any] = {
    **FILTERS, "n_train_per_class": 8, "n_test_per_class": 4, "epochs": 4, "lr": 1e-3,
    "fc_width": 16, "sizes": (4, 16), "size_study_filters": 4, "counts": (2, 4),
    "count_study_size": 4}

#: Fig. 3: 100 training spectra per class with 3 random extra peaks; the Fig. 2 training.
COMMON: dict[str, Any] = {
    "n_train_per_class": 100, "n_test_per_class": 20, "n_random_peaks": 3, "epochs": 100,
    "lr": 1e-4, "batch_size": 32, "n_filters": 64, "filter_size": 8, "fc_width": 128,
    "tol": 8.0, "window": 10.0}
COMMON_QUICK: dict[str, Any] = {
    **COMMON, "n_train_per_class": 10, "n_test_per_class": 4, "epochs": 4, "lr": 1e-3,
    "n_filters": 4, "filter_size": 8, "fc_width": 16}

#: Section 4.3: ratio 0.1-0.5, 5 mixtures per ordered pair, Adam 1e-3, 30 epochs, 5-fold CV.
#: ``fc_form``: the maps analysed and drawn (``explain.fc_importance(form=...)``); Eq. 9 as
#: written is scored too.
MIXING: dict[str, Any] = {
    "n_per_pair": 5, "ratio": (0.1, 0.5), "epochs": 30, "lr": 1e-3, "batch_size": 32,
    "folds": 5, "n_filters": 64, "filter_size": 8, "fc_width": 128, "n_partner_peaks": 3,
    "max_pure": None, "fc_form": "contribution"}
MIXING_QUICK: dict[str, Any] = {
    **MIXING, "n_per_pair": 2, "epochs": 2, "folds": 2, "n_filters": 4, "fc_width": 16,
    "max_pure": 5}

#: Section 4.2: 4 training spectra per class (strongest, ~1/2, ~1/3, ~1/4 of it), the rest
#: for test; Adam 1e-4, 200 epochs. Default data: drug-mabs, 400-1800 cm-1.
PHARMA: dict[str, Any] = {
    "fractions": (1.0, 1 / 2, 1 / 3, 1 / 4), "epochs": 200, "lr": 1e-4, "batch_size": 32,
    "n_filters": 64, "filter_size": 8, "fc_width": 128, "grid": (400.0, 1800.0, 1.0),
    "label_col": "label", "background_threshold": 0.05, "max_test": None}
PHARMA_QUICK: dict[str, Any] = {
    **PHARMA, "epochs": 3, "lr": 1e-3, "n_filters": 4, "fc_width": 16, "max_test": 40}

PAPER_CLAIMS = {
    "filters": "Maps focus on the peak as the filter size nears the peak width (FWHM 4 ch); "
               "more filters focus better, 64 are enough (Fig. 2).",
    "common": "Grad-CAM at the pooling layer lights up the random peaks; the FC-importance map "
              "lights up the class's defined peak (Fig. 3).",
    "mixing": "100 % accuracy (slightly above PCA+SVM); the map of a mixture shows the peaks "
              "of the labelled component and near-zero or negative values at the admixed "
              "component's peaks (Fig. 7).",
    "pharma": "100 % accuracy, slightly above PCA+SVM; maps show the strong Raman peaks and "
              "near-zero values on the background (Fig. 5).",
}


# ----------------------------------------------------------------------------- plumbing
def _progress(msg: str) -> None:
    print(f"[ramancam] {msg}", file=sys.stderr, flush=True)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream)])


def jsonable(value: Any) -> Any:
    """Numbers, arrays and tuples as JSON; NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class _Run:
    """One experiment's output folder, figures and report sections."""

    name: str
    out_dir: Path
    seed: int
    quick: bool
    settings: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)

    def figure(self, fig: Any, filename: str, caption: str) -> Figure:
        """Save a matplotlib figure as PNG (atomically) and return it for the report."""
        from ..plot import figure_png

        png = figure_png(fig)
        write_bytes(self.out_dir / filename, png)
        self.figures.append(filename)
        return Figure(png, caption)

    def log(self, msg: str) -> None:
        _progress(f"{self.name}: {msg} ({time.perf_counter() - self.t0:.0f} s)")


def _prepare_out(out_dir: str | os.PathLike[str]) -> Path:
    p = Path(out_dir)
    if p.exists() and not p.is_dir():
        raise RamancamError(f"out_dir must be a folder; got the file {str(p)!r}. "
                            "Choose another --out.")
    p.mkdir(parents=True, exist_ok=True)
    return p


def _settings(name: str, quick: bool, overrides: Mapping[str, Any]) -> dict[str, Any]:
    base = {"filters": (FILTERS, FILTERS_QUICK), "common": (COMMON, COMMON_QUICK),
            "mixing": (MIXING, MIXING_QUICK), "pharma": (PHARMA, PHARMA_QUICK)}[name]
    s = dict(base[1] if quick else base[0])
    unknown = set(overrides) - set(s)
    if unknown:
        raise RamancamError(f"{name} settings must be among {sorted(s)}; got unknown "
                            f"{sorted(unknown)}. Check the spelling.")
    s.update({k: v for k, v in overrides.items() if v is not None})
    return s


def _finish(run: _Run, results: dict[str, Any], title: str) -> dict[str, Any]:
    doc = {"experiment": run.name, "seed": run.seed, "quick": run.quick,
           "settings": run.settings, "results": results, "figures": run.figures,
           "seconds": round(time.perf_counter() - run.t0, 1), "versions": software_versions()}
    write_text(run.out_dir / "metrics.json",
               json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")
    write_report(run.out_dir / "report.html", title, run.sections,
                 settings={f"{run.name}.{k}": v for k, v in run.settings.items()}
                 | {"quick": run.quick}, seed=run.seed)
    run.log(f"wrote {run.out_dir / 'report.html'}")
    return doc


def _cnn(settings: Mapping[str, Any], seed: int, **extra: Any) -> Any:
    from ..train import CNNClassifier

    params = {"n_filters": settings.get("n_filters", 64),
              "filter_size": settings.get("filter_size", 8),
              "fc_width": settings["fc_width"], "epochs": settings["epochs"],
              "lr": settings["lr"], "batch_size": settings["batch_size"],
              "random_state": seed}
    params.update(extra)
    return CNNClassifier(**params)


def _labels(spectra: Spectra) -> NDArray[np.str_]:
    if spectra.labels is None:
        raise RamancamError("spectra must be labelled; got no labels. Give labels "
                            "(--label-col or --labels-from).")
    return np.asarray(spectra.labels).astype(str)


def _class_index(est: Any, labels: NDArray[Any]) -> NDArray[np.int64]:
    lookup = {str(c): i for i, c in enumerate(est.classes_)}
    return np.array([lookup[str(v)] for v in labels], dtype=np.int64)


def _as_float(value: Any) -> float:
    """Mean of what a metric returns (a score or one score per map)."""
    return float(np.nanmean(np.asarray(value, dtype=np.float64)))


def _baselines_available() -> bool:
    try:
        from .. import baselines  # noqa: F401
    except ImportError:
        return False
    return True


def _baseline_test_scores(X_tr: NDArray[Any], y_tr: NDArray[Any], X_te: NDArray[Any],
                          y_te: NDArray[Any], seed: int) -> tuple[dict[str, float], Any]:
    """Accuracy of PCA+SVM and PLS-DA on the same split (and the fitted PLS-DA, for VIP)."""
    if not _baselines_available():
        return {}, None
    from ..baselines import PCASVM, PLSDA

    out: dict[str, float] = {}
    pls = None
    for name, est in (("PCA+SVM", PCASVM(random_state=seed)), ("PLS-DA", PLSDA(random_state=seed))):
        try:
            est.fit(X_tr, y_tr)
        except ValueError as exc:  # e.g. too few spectra per class for its inner CV
            _progress(f"{name} could not be fitted: {str(exc).splitlines()[0]}")
            out[name] = float("nan")
            continue
        out[name] = float(np.mean(np.asarray(est.predict(X_te)).astype(str)
                                  == np.asarray(y_te).astype(str)))
        if name == "PLS-DA":
            pls = est
    return out, pls


# ----------------------------------------------------------------------------- map scores
def _shared_legend(fig: Any, axes: Any) -> None:
    """One legend above the panels instead of one inside each (where it hid the curves)."""
    axs = np.atleast_1d(axes).ravel()
    handles, labels = axs[0].get_legend_handles_labels()
    for ax in axs:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if handles:
        fig.legend(handles, labels, loc="outside upper center", fontsize="small",
                   ncols=min(len(labels), 6))


def _peak_scores(maps: NDArray[Any], axis: NDArray[Any], peaks: NDArray[Any], tol: float,
                 window: float) -> dict[str, float]:
    from .. import metrics

    return {"pointing": _as_float(metrics.pointing_game(maps, axis, peaks, tol)),
            "mass": _as_float(metrics.peak_mass(maps, axis, peaks, window))}


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
    run = _Run("filters", _prepare_out(out_dir), int(seed), quick,
               _settings("filters", quick, overrides))
    results = _filters(run)
    return _finish(run, results, "Filter size and count (paper Fig. 2)")


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
        fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.6 * len(classes)),
                                 layout="constrained")
        for ax, label in zip(np.atleast_1d(axes), classes, strict=True):
            j = int(np.flatnonzero(y_test == label)[0])
            p = CLASS_PEAKS[label]
            maps_overlay(axis, test.X[j],
                         {f"size {fs} ({nf})": maps_by[(fs, nf)][j] for fs, nf in chosen},
                         ax=ax, inset=(p - 100, p + 100), title=f"class {label}")
        _shared_legend(fig, axes)
        blocks.append(run.figure(fig, f"fig2_{study}.png",
                                 f"Fig. 2 ({title}): a test spectrum per class (black) and "
                                 "the FC-importance map of each setting, size (count); "
                                 "each curve scaled to max |value| = 1."))
    run.sections.append(Section("Filter size and count (Fig. 2)", blocks))
    return {"settings": rows}


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
    run = _Run("common", _prepare_out(out_dir), int(seed), quick,
               _settings("common", quick, overrides))
    results = _common(run)
    return _finish(run, results, "Common-component extraction (paper Fig. 3)")


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
                      f"{s['window']:g} ch)")]
    classes = sorted(CLASS_PEAKS, key=CLASS_PEAKS.get)  # type: ignore[arg-type]
    fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.6 * len(classes)),
                             layout="constrained")
    for ax, label in zip(np.atleast_1d(axes), classes, strict=True):
        j = int(np.flatnonzero(y_test == label)[0])
        rnd = ", ".join(f"{test.meta[c][j]:.0f}" for c in random_cols)
        maps_overlay(axis, test.X[j], {"Grad-CAM": maps["gradcam"][j],
                                       "FC-importance": maps["fc"][j]}, ax=ax,
                     title=f"class {label} (random peaks at {rnd} ch)")
    _shared_legend(fig, axes)
    blocks.append(run.figure(fig, "fig3_common.png",
                             "Fig. 3: a test spectrum per class (black), Grad-CAM at the "
                             "pooling layer and the FC-importance map (each scaled to max "
                             "|value| = 1)."))
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


# ----------------------------------------------------------------------------- data
def default_data(name: str) -> Path | None:
    """A folder of the shared real data (``../shared/data/<name>``) if it is there.

    Looked up in ``$RAMANCAM_SHARED_DATA/<name>``, then ``../shared/data/<name>`` relative
    to the current directory, then beside the checkout this module was imported from.
    """
    candidates = []
    env = os.environ.get("RAMANCAM_SHARED_DATA")
    if env:
        candidates.append(Path(env) / name)
    candidates.append(Path.cwd().parent / "shared" / "data" / name)
    candidates.append(Path(__file__).resolve().parents[4] / "shared" / "data" / name)
    for c in candidates:
        if c.exists():
            return c
    return None


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
        ``amino-acids`` folder (see :func:`default_data`).
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
    run = _Run("mixing", _prepare_out(out_dir), int(seed), quick,
               _settings("mixing", quick, overrides))
    src = _resolve_data(pure, "amino-acids", "pure", "--pure DIR")
    run.settings["pure"] = str(src)
    results = _mixing(run, src)
    return _finish(run, results, "Numerically mixed spectra (paper section 4.3, Fig. 7)")


def _resolve_data(given: str | os.PathLike[str] | None, shared: str, name: str,
                  option: str) -> Path:
    if given is not None:
        p = Path(given)
        if not p.exists():
            raise RamancamError(f"{name} must be an existing file or folder; got {str(p)!r} "
                                f"(not found). Check the path given to {option}.")
        return p
    found = default_data(shared)
    if found is None:
        raise RamancamError(
            f"{name} must be given; got none, and the shared data folder {shared!r} was not "
            f"found (../shared/data/{shared} or $RAMANCAM_SHARED_DATA/{shared}). Pass "
            f"{option}.")
    return found


def _top_peaks(y: NDArray[Any], n: int) -> NDArray[np.intp]:
    from scipy.signal import find_peaks

    idx, props = find_peaks(y, prominence=0.05 * float(np.max(y)))
    order = np.argsort(props["prominences"])[::-1]
    return np.asarray(idx[order[:n]], dtype=np.intp)


def _mixing(run: _Run, src: Path) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from .. import metrics
    from ..explain import fc_importance
    from ..io import read
    from ..plot import cv_accuracy, map_band, map_with_reference, vip_beside_map
    from ..preprocess import paper_recipe
    from ..simulate import mixtures
    from ..train import cross_validate

    s = run.settings
    raw = read(src)
    if s["max_pure"]:
        raw = raw[np.arange(min(len(raw), int(s["max_pure"])))]
    grid = _common_grid(raw)
    pure = paper_recipe(grid=grid).apply(raw)
    names = np.array([Path(p).stem for p in pure.sources]) if pure.labels is None \
        else pure.labels
    pure = pure.replace(labels=names)
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
                             "labelled pure spectrum (red line)."))
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 2.4 * nrow), layout="constrained",
                             squeeze=False)
    for ax, c in zip(axes.ravel(), classes, strict=False):
        map_band(axis, np.stack(fold_class_maps[c]), ax=ax, label=c, spectrum=pure_of[c],
                 title=f"label {c}: mean map +- sd over fold models")
    for ax in axes.ravel()[len(classes):]:
        ax.set_visible(False)
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
                             "(red line)."))
    if pls is not None:
        fig, axes = plt.subplots(min(4, len(classes)), 1, figsize=(8, 2.3 * min(4, len(
            classes))), layout="constrained")
        for ax, k in zip(np.atleast_1d(axes), range(min(4, len(classes))), strict=True):
            c = str(pls.classes_[k])
            vip_beside_map(axis, pls.vip_[k], np.mean(fold_class_maps[c], axis=0),
                           spectrum=pure_of[c], ax=ax, title=f"class {c}")
        blocks.append(run.figure(fig, "mixing_vip.png",
                                 "PLS-DA VIP (per class) beside the CNN's mean "
                                 "FC-importance map, with the pure spectrum (grey)."))
    run.sections.append(Section("Numerically mixed spectra (section 4.3, Fig. 7)", blocks))
    return results


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
        Label column of a wide table (default ``"label"``).
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
    run = _Run("pharma", _prepare_out(out_dir), int(seed), quick, s)
    if data is None:
        folder = default_data("drug-mabs")
        data = None if folder is None else folder / "spectra.csv.gz"
    src = _resolve_data(data, "drug-mabs", "data", "--data FILE")
    run.settings["data"] = str(src)
    results = _pharma(run, src)
    return _finish(run, results, "Real labelled spectra (paper section 4.2, Fig. 5)")


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


def _pharma(run: _Run, src: Path) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from .. import metrics
    from ..explain import fc_importance
    from ..io import read
    from ..plot import confusion_matrix, map_band, vip_beside_map
    from ..preprocess import Recipe, paper_recipe

    s = run.settings
    raw = read(src, label_col=s["label_col"])
    if raw.labels is None:
        raise RamancamError(f"data must be labelled; got no labels in {src}. Give the label "
                            "column with --label-col.")
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
    per_class_bg = {c: _as_float(bg_arr[labels[te] == c]) for c in classes} \
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
        "accuracy": acc, "confusion": cm.tolist(), "baselines": base,
        "background_share": _as_float(bg), "background_share_per_class": per_class_bg,
        "fit_seconds": float(est.fit_time_)}

    blocks: list[Any] = [
        "Paper's claim: " + PAPER_CLAIMS["pharma"],
        f"Data: {src.name}, {len(raw)} spectra of {len(classes)} classes, paper's recipe on "
        f"{grid[0]:g}-{grid[1]:g} cm-1 (step {grid[2]:g}). Training: per class the strongest "
        "spectrum (maximum after baseline and resampling) and those nearest "
        + ", ".join(f"{f:.3g}" for f in s["fractions"][1:]) + " of it; "
        f"test: the other {te.size}. CNN: Adam lr {s['lr']:g}, {s['epochs']} epochs "
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
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * len(classes), 1.2 + 0.5 * len(classes)),
                           layout="constrained")
    confusion_matrix(cm, classes, ax=ax, title="CNN, test set")
    blocks.append(run.figure(fig, "pharma_confusion.png",
                             "Confusion matrix (counts; colour = share of the true class)."))
    fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.3 * len(classes)),
                             layout="constrained")
    for ax, c in zip(np.atleast_1d(axes), classes, strict=True):
        rows = labels[te] == c
        map_band(axis, maps[rows], ax=ax, label=f"{c} mean map",
                 spectrum=X[te][rows].mean(axis=0),
                 title=f"class {c}: mean map +- sd over {int(rows.sum())} test spectra")
    blocks.append(run.figure(fig, "fig5_maps.png",
                             "Fig. 5 style: per class, the mean FC-importance map of its test "
                             "spectra (+- 1 sd band) with the mean spectrum (grey)."))
    if pls is not None:
        fig, axes = plt.subplots(len(classes), 1, figsize=(8, 2.3 * len(classes)),
                                 layout="constrained")
        for ax, k in zip(np.atleast_1d(axes), range(len(classes)), strict=True):
            c = str(pls.classes_[k])
            rows = labels[te] == c
            vip_beside_map(axis, pls.vip_[k], maps[rows].mean(axis=0),
                           spectrum=X[te][rows].mean(axis=0), ax=ax, title=f"class {c}")
        blocks.append(run.figure(fig, "pharma_vip.png",
                                 "PLS-DA VIP (per class) beside the CNN's mean FC-importance "
                                 "map, with the mean spectrum (grey)."))
    run.sections.append(Section("Real labelled spectra (section 4.2, Fig. 5)", blocks))
    return results


# ----------------------------------------------------------------------------- all
def all_experiments(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
                    pure: str | os.PathLike[str] | None = None,
                    data: str | os.PathLike[str] | None = None,
                    label_col: str | None = None) -> dict[str, Any]:
    """Every experiment, each in its own sub-folder, plus one combined report.

    ``mixing`` and ``pharma`` are skipped, with the reason stated on stderr, in
    ``metrics.json`` and in the report, when their real data are absent and none was given.

    Returns
    -------
    dict
        ``{"experiments": {name: metrics}, "skipped": {name: reason}, ...}``.
    """
    root = _prepare_out(out_dir)
    t0 = time.perf_counter()
    done: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    sections: list[Section] = []
    jobs: list[tuple[str, Callable[..., dict[str, Any]], Any]] = [
        ("filters", _filters, None), ("common", _common, None)]
    pure_src = Path(pure) if pure is not None else default_data("amino-acids")
    if pure_src is None:
        skipped["mixing"] = ("shared amino-acids folder not found (../shared/data/amino-acids "
                             "or $RAMANCAM_SHARED_DATA); pass --pure DIR to run it")
    else:
        jobs.append(("mixing", _mixing, pure_src))
    if data is None:
        folder = default_data("drug-mabs")
        data_src = None if folder is None else folder / "spectra.csv.gz"
    else:
        data_src = Path(data)
    if data_src is None or not data_src.exists():
        skipped["pharma"] = ("shared drug-mabs data not found (../shared/data/drug-mabs/"
                             "spectra.csv.gz or $RAMANCAM_SHARED_DATA); pass --data FILE "
                             "to run it")
    else:
        jobs.append(("pharma", _pharma, data_src))
    for name, reason in skipped.items():
        _progress(f"{name}: skipped: {reason}")
    settings: dict[str, Any] = {"quick": quick}
    for name, fn, src in jobs:
        s = _settings(name, quick, {})
        if name == "pharma" and label_col is not None:
            s["label_col"] = label_col
        run = _Run(name, _prepare_out(root / name), int(seed), quick, s)
        if src is not None:
            option = "--pure DIR" if name == "mixing" else "--data FILE"
            src = _resolve_data(src, name, "pure" if name == "mixing" else "data", option)
            run.settings["pure" if name == "mixing" else "data"] = str(src)
        results = fn(run) if src is None else fn(run, src)
        done[name] = _finish(run, results, name)
        sections.extend(run.sections)
        settings.update({f"{name}.{k}": v for k, v in run.settings.items()})
    if skipped:
        sections.append(Section("Skipped", [f"NOTE: {k} was skipped: {v}."
                                            for k, v in skipped.items()]))
    summary = _summary_rows(done)
    sections.insert(0, Section("Summary", [
        "Each experiment's own report, figures and metrics.json are in its sub-folder.",
        Table(["experiment", "quantity", "value", "paper"], summary,
              caption="Headline numbers")]))
    doc = {"experiments": done, "skipped": skipped, "seed": int(seed), "quick": quick,
           "seconds": round(time.perf_counter() - t0, 1), "versions": software_versions()}
    write_text(root / "metrics.json", json.dumps(jsonable(doc), indent=2,
                                                 allow_nan=False) + "\n")
    write_report(root / "report.html", "ramancam: the paper's experiments", sections,
                 settings=settings, seed=int(seed))
    _progress(f"all: wrote {root / 'report.html'} ({doc['seconds']:.0f} s)")
    return doc


def _summary_rows(done: Mapping[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if "filters" in done:
        for r in done["filters"]["results"]["settings"]:
            rows.append(["filters", f"{r['study']} study: pointing, size {r['filter_size']} "
                                    f"({r['n_filters']} filters)",
                         r["pointing"], "focus improves toward size 8 and with more filters"])
    if "common" in done:
        r = done["common"]["results"]
        rows.append(["common", "accuracy", r["accuracy"], "-"])
        for m, name in (("fc", "FC-importance"), ("gradcam", "Grad-CAM")):
            for w in ("defined", "random"):
                if w in r["maps"][m]:
                    rows.append(["common", f"{name} pointing at {w} peak(s)",
                                 r["maps"][m][w]["pointing"],
                                 "FC: defined peak; Grad-CAM: random peaks"])
    if "mixing" in done:
        r = done["mixing"]["results"]
        rows.append(["mixing", "test accuracy (mean over fold models)",
                     r["test_accuracy"]["mean"], "1.00"])
        rows.append(["mixing", "share of maps closer to labelled pure spectrum",
                     r["share_labelled_better"]["mean"], ">= 0.95 (target)"])
        rows.append(["mixing", "map at admixed-only peaks (scaled)",
                     r["admixed_peak_value"]["mean"], "near zero or negative"])
    if "pharma" in done:
        r = done["pharma"]["results"]
        rows.append(["pharma", "test accuracy", r["accuracy"], "1.00"])
        rows.append(["pharma", "background share of |map|", r["background_share"],
                     "near zero"])
    return rows


#: name -> function, for ``ramancam reproduce NAME``.
EXPERIMENTS: dict[str, Callable[..., dict[str, Any]]] = {
    "filters": filters, "common": common, "mixing": mixing, "pharma": pharma,
    "all": all_experiments}


def run(name: str, out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
        pure: str | os.PathLike[str] | None = None, data: str | os.PathLike[str] | None = None,
        label_col: str | None = None) -> dict[str, Any]:
    """Run one experiment by name (``filters``, ``common``, ``mixing``, ``pharma``, ``all``).

    Raises
    ------
    RamancamError
        If the name is unknown, or an option is given to an experiment that does not use it.
    """
    if name not in EXPERIMENTS:
        raise RamancamError(f"experiment must be one of {', '.join(EXPERIMENTS)}; got "
                            f"{name!r}.")
    kw: dict[str, Any] = {}
    if pure is not None:
        if name not in ("mixing", "all"):
            raise RamancamError(f"--pure is used by mixing and all; got it with {name!r}. "
                                "Drop --pure.")
        kw["pure"] = pure
    if data is not None or label_col is not None:
        if name not in ("pharma", "all"):
            raise RamancamError(f"--data/--label-col are used by pharma and all; got them "
                                f"with {name!r}. Drop them.")
        if data is not None:
            kw["data"] = data
        if label_col is not None:
            kw["label_col"] = label_col
    return EXPERIMENTS[name](out_dir, seed=seed, quick=quick, **kw)
