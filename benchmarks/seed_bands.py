"""Why do two seeds' maps of one class disagree? (issue 13, point 4: seed agreement)

Usage::

    nice -n 5 .venv/bin/python benchmarks/seed_bands.py
    .venv/bin/python benchmarks/seed_bands.py --set chondro-map --folds 3 --windows 1000-1010

Runs ``train``'s cross validation for the default CNN with seeds 0 and 1 on one set of
``benchmarks/realdata.py`` (same folds, same preprocessing; default: the amino-acid mixtures,
3 folds, as in docs/realdata.md) and prints, for the FC-importance and ``ig-bands`` maps of
each fold model's test spectra (true class), the class-mean seed agreement per class (the
weakest three), the shifts where the weakest class's two class-mean maps differ most, and
``ig-bands`` with other SNIP half windows. Then, for the weakest class, it flattens each
``--windows`` range of Raman shifts (a straight line between the points beside it, as the
deletion test does) in that class's test spectra and prints the median drop of the class
logit for each seed's models: if one seed's models lose much more than the other's, the
networks rest on different bands and a faithful map must differ between them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _windows(text: str) -> list[tuple[float, float]]:
    """``--windows``: "LO-HI,LO-HI,..." as pairs of Raman shifts with LO < HI."""
    out = []
    for part in text.split(","):
        try:
            lo, hi = (float(v) for v in part.split("-"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a range LO-HI of Raman shift, e.g. 1440-1470") from None
        if not lo < hi:
            raise argparse.ArgumentTypeError(f"{part!r}: LO must be below HI, e.g. 1440-1470")
        out.append((lo, hi))
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    import realdata as rd
    from ramancam import metrics
    from ramancam.cli._common import prepare_labelled
    from ramancam.cli.train import estimator_params
    from ramancam.train import cross_validate, predict_proba_module

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set", default="amino-acids",
                   choices=list(dict.fromkeys(spec.name for spec in rd.SETS)),
                   help="a set name of realdata.py (default amino-acids)")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--windows", type=_windows, default="1440-1470,825-850,895-925",
                   help="comma-separated LO-HI ranges of Raman shift to flatten")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)

    spec = next(s for s in rd.SETS if s.name == a.set)
    raw = spec.load()
    args = rd._train_args(spec.options, a.folds)
    if spec.extra.get("mixing"):
        raw, _ = rd._mixtures(raw, args, False)
        args = rd._train_args([*spec.options, "--recipe", "none"], a.folds)
    raw, _, data = prepare_labelled(args, raw, "for training")
    params = {**estimator_params(args), "verbose": False}
    cvs = []
    splits, groups = rd._splits_and_groups(args, data)  # chondro: train's spatial folds
    for seed in (0, 1):
        t0 = time.perf_counter()
        cv = cross_validate(data, estimator_params={**params, "random_state": seed},
                            folds=args.folds, group_col=args.group_col,
                            split_col=args.split_col, train_value=args.train_value, seed=0,
                            compare=False, keep_models=True, splits=splits, groups=groups)
        print(f"seed {seed}: accuracy {np.mean(cv.fold_accuracy):.3f}, augmentation per fold "
              f"{cv.augment_chosen}, {time.perf_counter() - t0:.0f} s", flush=True)
        cvs.append(cv)
    labels = np.asarray(cvs[0].labels).astype(str)
    grid = np.asarray(data.wavenumbers, dtype=np.float64)

    def fold_maps(cv: Any, method: str, half_window: int | None = None) -> np.ndarray:
        """The maps of ``rd._fold_maps`` back in the order of ``data``."""
        m, idx, _ = rd._fold_maps(cv.models, data, cv, method,
                                  None if half_window is None else {"band_window": half_window})
        out = np.empty_like(m)
        out[idx] = m
        return out

    weakest = None
    for name, method, hw in (("fc", "fc", None), ("ig-bands", "ig-bands", None),
                             ("ig-bands, half window 10", "ig-bands", 10),
                             ("ig-bands, half window 40", "ig-bands", 40)):
        m0, m1 = fold_maps(cvs[0], method, hw), fold_maps(cvs[1], method, hw)
        ag = metrics.seed_agreement(m0, m1, labels)
        r = dict(zip(ag.classes, (float(v) for v in ag.class_mean_r), strict=True))
        worst = sorted(r, key=lambda c: r[c])[:3]
        print(f"{name}: class-mean r min {ag.min_class_r:.3f}, median spectrum r "
              f"{ag.median_spectrum_r:.3f}; weakest "
              + ", ".join(f"{c} {r[c]:.3f}" for c in worst), flush=True)
        if name == "ig-bands":
            weakest = worst[0]
            sel = labels == weakest
            c0, c1 = m0[sel].mean(axis=0), m1[sel].mean(axis=0)
            d = c0 / np.abs(c0).max() - c1 / np.abs(c1).max()
            top = np.argsort(-np.abs(d))[:20]
            print(f"  {weakest}: the class-mean maps (each scaled to max |map| = 1) differ most "
                  f"at {sorted({int(round(grid[i] / 5) * 5) for i in top})} cm-1", flush=True)
    assert weakest is not None
    sel = labels == weakest
    for lo, hi in a.windows:
        cols = (grid >= lo) & (grid <= hi)
        parts = []
        for cv in cvs:
            drops = []
            for k, est in enumerate(cv.models):
                te = np.flatnonzero((cv.fold_of == k) & sel)
                t = np.searchsorted(est.classes_.astype(str), labels[te])
                X = np.asarray(data.X[te], dtype=np.float32)
                mask = np.zeros(X.shape, dtype=bool)
                mask[:, cols] = True
                Z = metrics.flatten_points(X, mask)
                rows = np.arange(te.size)
                before = predict_proba_module(est.module_, X, logits=True)[rows, t]
                after = predict_proba_module(est.module_, Z, logits=True)[rows, t]
                drops.append(before - after)
            d = np.concatenate(drops)
            q1, q3 = np.percentile(d, [25, 75])
            parts.append(f"{np.median(d):.2f} ({q1:.2f}..{q3:.2f})")
        print(f"  {weakest}, {lo:g}-{hi:g} cm-1 flattened: median drop of the class logit "
              f"(quartiles) seed 0 {parts[0]}, seed 1 {parts[1]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
