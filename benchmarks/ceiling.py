"""What other standard classifiers reach on the benchmark's sets and folds (issue 13).

Usage::

    .venv/bin/python benchmarks/ceiling.py [--sets drug-mabs,astragalus] [--json PATH]

docs/realdata.md compares the default CNN with the three shipped baselines (PCA + SVM,
PLS-DA, library search). Where a bar is missed (drug-mabs >= 0.97; astragalus and yogurt,
where a baseline is ahead) the question is whether the bar is reachable on these inputs at
all. This script fits a panel of further scikit-learn classifiers on exactly the benchmark's
inputs and folds (each set read, preprocessed with the default recipe and grid, and split as
``benchmarks/realdata.py`` does), each choosing its own settings by a stratified 5-fold grid
search on the training part only (``random_state`` 0), and prints the test accuracy (mean
+- sd over folds; one value for a fixed split):

* ``logreg``: L2 logistic regression on the spectra (C 1e-1, 10, 1e3, 1e5);
* ``linear-svm``: linear support vector machine (C 1e-2, 1, 1e2);
* ``pca-lda``: PCA (5-80 components) then linear discriminant analysis;
* ``rbf-svm``: RBF support vector machine on the standardised spectra (C, gamma);
* ``knn``: k nearest neighbours, Euclidean (k 1, 3, 5);
* ``library-match``: the class of the most similar training spectrum by the hit quality index
  of Savitzky-Golay first derivatives over the whole grid, ``predict``'s ``library_match``
  column for a model trained with ``--novelty hqi`` (:func:`ramancam.novelty._derivative_rows`,
  window ``HQI_WINDOW``; the defaults since, ``hqi-halves`` and ``hqi-nap``, compare the
  grid's halves, the latter after removing two within-class directions); no setting to
  choose;
* ``fa-mlp``: factor analysis (5, 10 or 20 factors) of the spectra, the factor scores
  standardised, then a multi-layer perceptron (two hidden layers of 100 and 50, ReLU, Adam,
  ``random_state`` 0, or ``--random-state N`` as for the other seeded models): the kind
  of model a public entry of the RAMP drug-spectra challenge used (its spectra are
  drug-mabs').

``--inputs raw`` replaces the default recipe by resampling alone: every spectrum as measured
(no baseline, no normalisation) on its set's common measured range at the data's own median
spacing (at least 1 cm-1), the folds unchanged.

``--models`` runs a subset of the panel (e.g. ``--models library-match``); the table then has
a column for each model measured.

The amino-acid mixtures are left out (every model is at 1.000 there).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Grid-search fits run side by side (the 2-core machine); results do not depend on it.
N_JOBS = 2
sys.path.insert(0, str(ROOT / "benchmarks"))


def panel(random_state: int = 0) -> dict[str, tuple[Any, dict[str, list[Any]]]]:
    """name -> (estimator, parameter grid); ``random_state`` seeds every estimator that
    draws random numbers (PCA, the linear SVM, factor analysis, the MLP)."""
    from sklearn.decomposition import PCA, FactorAnalysis
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC, LinearSVC

    from ramancam.novelty import _derivative_rows

    return {
        "logreg": (LogisticRegression(max_iter=5000),
                   {"C": [1e-1, 10, 1e3, 1e5]}),
        "linear-svm": (LinearSVC(max_iter=5000, random_state=random_state),
                       {"C": [1e-2, 1, 1e2]}),
        "pca-lda": (make_pipeline(PCA(random_state=random_state),
                                  LinearDiscriminantAnalysis()),
                    {"pca__n_components": [5, 10, 20, 40, 80]}),
        "rbf-svm": (make_pipeline(StandardScaler(), SVC(kernel="rbf")),
                    {"svc__C": [1, 10, 1e2, 1e3], "svc__gamma": ["scale", 1e-4, 1e-3]}),
        "knn": (KNeighborsClassifier(), {"n_neighbors": [1, 3, 5]}),
        # unit-length centred derivatives: the Euclidean nearest is the largest correlation
        "library-match": (make_pipeline(FunctionTransformer(_derivative_rows),
                                        KNeighborsClassifier(n_neighbors=1)),
                          {"kneighborsclassifier__n_neighbors": [1]}),
        "fa-mlp": (make_pipeline(FactorAnalysis(random_state=random_state), StandardScaler(),
                                 MLPClassifier((100, 50), max_iter=2000,
                                               random_state=random_state)),
                   {"factoranalysis__n_components": [5, 10, 20]}),
    }


def raw_inputs(raw: Any) -> Any:
    """The spectra as read, resampled onto their common measured range at the data's median
    spacing (at least 1 cm-1): no baseline, no normalisation (``--inputs raw``)."""
    from ramancam.preprocess import Recipe, Step

    axes = [np.asarray(a, dtype=np.float64) for a in raw.axes]
    lo = max(float(a.min()) for a in axes)
    hi = min(float(a.max()) for a in axes)
    step = max(1.0, float(np.median(np.concatenate([np.abs(np.diff(a)) for a in axes]))))
    step = round(step, 1)
    stop = lo + step * np.floor((hi - lo) / step)
    return Recipe([Step("resample", {"start": np.ceil(lo), "stop": float(np.floor(stop)),
                                     "step": step, "outside": "error",
                                     "tolerance": None})]).apply(raw)


def fit_score(est: Any, grid: dict[str, list[Any]], X: np.ndarray, y: np.ndarray,
              tr: np.ndarray, te: np.ndarray) -> tuple[float, dict[str, Any]]:
    """Test accuracy of ``est`` with its settings chosen by a grid search on ``tr``."""
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    from ramancam.inner import inner_k, stratified_kfold

    ytr = y[tr]
    y_idx = np.unique(ytr, return_inverse=True)[1]
    cv = list(stratified_kfold(y_idx, inner_k(y_idx, 5), seed=0))
    # grids reach past the sizes some folds allow (components > samples): those fail, skip
    valid = {n: [v for v in vals if not (n.endswith("n_components")
                                          and v >= min(len(a) for a, _ in cv))]
             for n, vals in grid.items()}
    gs = GridSearchCV(clone(est), valid, cv=cv, n_jobs=N_JOBS, error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs.fit(X[tr], ytr)
    return float(np.mean(gs.predict(X[te]) == y[te])), gs.best_params_


def run_set(spec: Any, folds: int | None = None, models: list[str] | None = None,
            inputs: str = "default", random_state: int = 0) -> dict[str, Any]:
    """Every panel model (or those named in ``models``) on ``spec``'s inputs and folds
    (``inputs="raw"``: :func:`raw_inputs` instead of the default recipe)."""
    import realdata as rd

    spec, raw, data, splits = rd.prepared_with_raw(spec, folds)
    if inputs == "raw":
        data = raw_inputs(raw)
    X = np.asarray(data.X, dtype=np.float64)
    y = np.asarray(data.labels).astype(str)
    out: dict[str, Any] = {"set": spec.name, "split": spec.split, "folds": len(splits),
                           "n": len(y), "inputs": inputs, "n_points": int(X.shape[1]),
                           "random_state": random_state, "models": {}}
    for name, (est, grid) in panel(random_state).items():
        if models is not None and name not in models:
            continue
        t0 = time.perf_counter()
        res = [fit_score(est, grid, X, y, np.asarray(tr), np.asarray(te)) for tr, te in splits]
        acc = [a for a, _ in res]
        out["models"][name] = {"fold_accuracy": acc, "mean": float(np.mean(acc)),
                               "sd": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                               "chosen": [p for _, p in res],
                               "seconds": time.perf_counter() - t0}
        print(f"  {spec.name} / {spec.split}: {name} {np.mean(acc):.3f} "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return out


def realdata_row(path: Path, name: str, split: str) -> dict[str, float]:
    if not path.exists():
        return {}
    for r in json.loads(path.read_text())["rows"]:
        if r["set"] == name and r["split"] == split:
            return {k: float(v["mean"]) for k, v in r["models"].items() if "mean" in v}
    return {}


def table(results: list[dict[str, Any]], realdata: Path) -> str:
    names = [m for m in panel() if any(m in r["models"] for r in results)]
    shipped = ["CNN default", "PCA+SVM", "PLS-DA", "library"]
    lines = ["| set | split | " + " | ".join(shipped) + " | " + " | ".join(names)
             + " | best of all |",
             "| --- | --- |" + " ---: |" * (len(shipped) + len(names) + 1)]
    for r in results:
        ref = realdata_row(realdata, r["set"], r["split"])
        cells = [f"{ref[m]:.3f}" if m in ref else "-" for m in shipped]
        one = r["folds"] == 1
        for m in names:
            d = r["models"].get(m)
            cells.append("-" if d is None else
                         f"{d['mean']:.3f}" + ("" if one else f" +- {d['sd']:.3f}"))
        every = {**{m: ref[m] for m in shipped if m in ref},
                 **{m: r["models"][m]["mean"] for m in names if m in r["models"]}}
        best = max(every, key=lambda m: every[m])
        lines.append(f"| {r['set']} | {r['split']} | " + " | ".join(cells)
                     + f" | {best} {every[best]:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import realdata as rd

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = rd.add_sets_argument(p)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--folds", type=int, help="K for the sets without a fixed split (default: "
                   "each set's own, as realdata.py; its chondro-map row used 3)")
    p.add_argument("--realdata", type=Path, default=ROOT / "benchmarks" / "results" /
                   "realdata.json", help="realdata.py result file for the shipped models")
    p.add_argument("--models", help="comma-separated panel models to run (default: all of "
                   f"{', '.join(panel())})")
    p.add_argument("--inputs", choices=("default", "raw"), default="default",
                   help="default: the default recipe and grid (what the CNN sees); raw: "
                        "resampled only, on the common measured range")
    p.add_argument("--random-state", type=int, default=0,
                   help="seed of the estimators that draw random numbers (default 0)")
    a = p.parse_args(argv)
    wanted = rd.chosen_sets(p, a.sets, names)
    models = None if a.models is None else [m.strip() for m in a.models.split(",")]
    if models is not None and (not models or set(models) - set(panel())):
        p.error(f"--models must name models of {', '.join(panel())}; got {a.models!r}")
    command = "benchmarks/ceiling.py " + " ".join(sys.argv[1:] if argv is None else argv)
    results = []
    for spec in rd.SETS:
        if spec.name in wanted and not spec.extra.get("mixing"):
            results.append(run_set(spec, a.folds, models, a.inputs, a.random_state))
            if a.json:  # after every set: a long run stopped early keeps what it measured
                tmp = a.json.with_suffix(".tmp")
                tmp.write_text(json.dumps({"command": command, "rows": results}, indent=1)
                               + "\n")
                tmp.replace(a.json)
    print(table(results, a.realdata))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
