"""Leaving clipped spectra out of training (``--drop-clipped``): what it changes.

Usage::

    .venv/bin/python benchmarks/clipped.py [--sets saliva-pd-ad] [--models pca-svm,cnn] \\
        [--cnn-seeds 0] [--threads 1] [--json PATH]

``ramancam info`` finds 62 spectra of saliva-pd-ad held at 64500 counts over 4-936 of their
991 points (a saturated detector; 50 CTRL, 12 PD, 0 AD), 61 of them inside its grid. This script
takes each set's inputs and folds exactly as ``benchmarks/realdata.py`` does, finds the
spectra clipped inside the grid (:func:`ramancam.checks.clipped_spectra` on the spectra as
read, what ``train --drop-clipped`` leaves out) and fits, on every training part,

* ``pca-svm``: PCA + SVM (``random_state`` 0) with the clipped spectra kept and left out;
* ``cnn``: the default CNN (``train``'s code path, each ``--cnn-seeds`` seed) with them left
  out; kept, it is docs/realdata.md's column (the same code, folds and seeds).

The test parts are unchanged. It prints, per model, the accuracy on all test spectra and on
the unclipped ones, mean over folds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
MODELS = ("pca-svm", "cnn")


def _scores(pred: np.ndarray, y: np.ndarray, clipped: np.ndarray) -> tuple[float, float]:
    ok = pred == y
    return float(ok.mean()), float(ok[~clipped].mean()) if (~clipped).any() else float("nan")


def run_set(spec: Any, models: list[str], seeds: list[int], threads: int = 1
            ) -> dict[str, Any]:
    import realdata as rd
    from ramancam.baselines import PCASVM
    from ramancam.checks import clipped_spectra

    spec, raw, data, splits = rd.prepared_with_raw(spec)
    g = np.asarray(data.wavenumbers)
    clip = np.zeros(len(raw), dtype=bool)
    clip[[c.index for c in clipped_spectra(raw, within=(float(g.min()), float(g.max())))]] = True
    X = np.asarray(data.X, dtype=np.float64)
    y = np.asarray(data.labels).astype(str)
    out: dict[str, Any] = {"set": spec.name, "split": spec.split, "n": len(y),
                           "n_clipped": int(clip.sum()),
                           "clipped_by_class": {str(c): int(np.sum(clip & (y == c)))
                                                for c in np.unique(y)},
                           "models": {}}
    dropped = [(np.asarray(tr)[~clip[np.asarray(tr)]], np.asarray(te)) for tr, te in splits]
    if "pca-svm" in models:
        for what, folds in (("kept", splits), ("left out", dropped)):
            t0 = time.perf_counter()
            res = [_scores(PCASVM(random_state=0).fit(X[tr], y[tr]).predict(X[te]), y[te],
                           clip[te]) for tr, te in ((np.asarray(a), np.asarray(b))
                                                    for a, b in folds)]
            out["models"][f"PCA+SVM, clipped {what}"] = {
                "all": [r[0] for r in res], "unclipped": [r[1] for r in res],
                "seconds": time.perf_counter() - t0}
            print(f"  {spec.name}: PCA+SVM, clipped {what}: "
                  f"{np.mean([r[0] for r in res]):.3f}", file=sys.stderr, flush=True)
    if "cnn" in models:
        import torch

        from ramancam.cli.train import estimator_params
        from ramancam.train import cross_validate

        torch.set_num_threads(threads)
        params = {**estimator_params(rd._train_args(spec.options)), "verbose": False}
        groups = None
        col = rd._train_args(spec.options).group_col
        if col is not None:
            groups = np.asarray(data.meta[col])
        for seed in seeds:
            t0 = time.perf_counter()
            cv = cross_validate(data, estimator_params={**params, "random_state": seed},
                                splits=dropped, groups=groups, seed=0, compare=False,
                                keep_models=True)
            res = [_scores(m.predict(X[te]), y[te], clip[te])
                   for m, (_, te) in zip(cv.models, dropped, strict=True)]
            out["models"][f"CNN default seed {seed}, clipped left out"] = {
                "all": [r[0] for r in res], "unclipped": [r[1] for r in res],
                "augment_chosen": list(cv.augment_chosen),
                "seconds": time.perf_counter() - t0}
            print(f"  {spec.name}: CNN seed {seed}, clipped left out: "
                  f"{np.mean([r[0] for r in res]):.3f}", file=sys.stderr, flush=True)
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| set | split | clipped | model | all test spectra | unclipped test spectra |",
             "| --- | --- | ---: | --- | ---: | ---: |"]
    for r in results:
        for name, d in r["models"].items():
            lines.append(f"| {r['set']} | {r['split']} | {r['n_clipped']} of {r['n']} | "
                         f"{name} | {np.mean(d['all']):.3f} | {np.mean(d['unclipped']):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import realdata as rd

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = rd.add_sets_argument(p)
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated, of {', '.join(MODELS)} (default: both)")
    p.add_argument("--cnn-seeds", default="0", help="comma-separated network seeds")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the CNN")
    p.add_argument("--json", type=Path, help="also write the results here")
    a = p.parse_args(argv)
    wanted = rd.chosen_sets(p, a.sets or "saliva-pd-ad", names)
    models = [m.strip() for m in a.models.split(",")]
    if not models or set(models) - set(MODELS):
        p.error(f"--models must name models of {', '.join(MODELS)}; got {a.models!r}")
    seeds = [int(s) for s in a.cnn_seeds.split(",")]
    results = [run_set(spec, models, seeds, a.threads) for spec in rd.SETS
               if spec.name in wanted and not spec.extra.get("mixing")]
    if a.json:
        a.json.write_text(json.dumps({"command": "benchmarks/clipped.py " + " ".join(
            sys.argv[1:] if argv is None else argv), "rows": results}, indent=1) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
