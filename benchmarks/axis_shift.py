"""How well ``predict``'s axis check reads a shifted Raman axis, and how quiet it stays.

Usage::

    .venv/bin/python benchmarks/axis_shift.py [--sets drug-mabs,yogurt] [--shifts 0,1,-2,3,-5]

For every labelled set of ``benchmarks/realdata.py`` (its first split: the fixed split, or
the first fold of seed 0), the spectra are preprocessed as ``train`` does (default recipe,
on the default grid narrowed by 6 cm-1 at each end so that shifted spectra still cover it).
The test spectra's Raman-shift axes are then moved by each ``--shifts`` value (cm-1) before
preprocessing, as another instrument's calibration would move them, and each test spectrum's
shift is read by :func:`ramancam.checks.band_shift` against the mean training spectrum of
its library match's class (the class of the most similar training spectrum by the hit
quality index, ``predict``'s ``library_match``; ``predict`` also tries the network's class
and keeps the better-correlated one, which needs a network and is left out here). Printed
per set and shift: the median and quartiles of the readable shifts, how many were readable,
and whether ``predict`` would print its ``axis:`` line (:func:`ramancam.checks.shift_note`).
No network is trained; the whole run takes a minute or two.

``--groups`` measures ``train --group-col``'s note instead: for each set's metadata columns
that group its spectra by session, person, batch or condition (bacteria-spc replicate,
saliva-pd-ad patient, drug-mabs solute, vial and concentration, microplastics condition,
chondro-map's blocks of train's spatial folds), the band shift of each group against the others
(:func:`ramancam.checks.group_shifts`, the majority setting the zero) on all of the set's
spectra, as ``train`` prints it.

``--aligned`` asks whether classifiers rest on such shifts: on the set's own folds
(docs/realdata.md's, seed 0) the library search and PCA (20 components) + LDA are scored on
the spectra as measured and with each group moved back by its offset (:func:`aligned`; the
offsets from the class means, and label-free: every spectrum counted as one class), and with
``--cnn-epochs N`` ``train``'s default CNN trained for N epochs (seed 0).
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
MARGIN = 6.0  # cm-1 cut from each end of the grid, so that shifted spectra still cover it


def shifted(raw: Any, idx: np.ndarray, by: float) -> Any:
    """The spectra ``idx`` of ``raw`` with their Raman-shift axes moved by ``by`` cm-1."""
    from ramancam.spectra import Spectra

    return Spectra([np.asarray(raw.intensities[i]) for i in idx],
                   [np.asarray(raw.axes[i], dtype=np.float64) + by for i in idx],
                   labels=np.asarray(raw.labels)[idx])


def run_set(spec: Any, shifts: list[float]) -> list[dict[str, Any]]:
    import realdata as rd
    from ramancam.checks import band_shift, shift_note
    from ramancam.cli._common import prepare_labelled
    from ramancam.novelty import DEFAULT_METHOD, NoveltyScorer
    from ramancam.train import make_splits

    spec, folds = rd.with_folds(spec, None)
    args = rd._train_args(spec.options, folds)
    raw, recipe, data = prepare_labelled(args, spec.load(), "for the benchmark")
    splits = rd._splits_and_groups(args, data)[0] or make_splits(
        data, folds=args.folds, group_col=args.group_col, split_col=args.split_col,
        train_value=args.train_value, seed=0)
    tr, te = (np.asarray(a) for a in splits[0])
    g = np.asarray(data.wavenumbers)
    step = float(np.median(np.diff(g)))
    recipe = recipe.with_grid((float(g[0]) + MARGIN, float(g[-1]) - MARGIN, step))
    train = recipe.apply(shifted(raw, tr, 0.0))
    y = np.asarray(train.labels).astype(str)
    classes = np.unique(y)
    y_idx = np.searchsorted(classes, y)
    means = np.stack([train.X[y_idx == k].mean(axis=0) for k in range(classes.size)])
    scorer = NoveltyScorer(DEFAULT_METHOD).fit(train.X, y_idx, np.zeros((len(y), 0)))
    rows = []
    for by in shifts:
        X = recipe.apply(shifted(raw, te, by)).X
        match = scorer.library_match(X)
        assert match is not None
        s = band_shift(X, means[match], float(np.median(np.diff(recipe.grid))))
        ok = s[np.isfinite(s)]
        note = shift_note(s)
        rows.append({"set": spec.name, "split": spec.split, "n": int(te.size), "shift": by,
                     "readable": int(ok.size),
                     "median": float(np.median(ok)) if ok.size else float("nan"),
                     "q1": float(np.percentile(ok, 25)) if ok.size else float("nan"),
                     "q3": float(np.percentile(ok, 75)) if ok.size else float("nan"),
                     "noted": note is not None})
    return rows


GROUP_COLUMNS = ("replicate", "patient", "solute", "vial", "concentration", "condition",
                 "block")


def group_rows(spec: Any) -> list[dict[str, Any]]:
    """``--groups``: every grouping column of the set, its groups' shifts."""
    import realdata as rd
    from ramancam.checks import group_shift_note, group_shifts
    from ramancam.cli._common import prepare_labelled

    spec, folds = rd.with_folds(spec, None)
    args = rd._train_args(spec.options, folds)
    _, _, data = prepare_labelled(args, spec.load(), "for the benchmark")
    step = float(np.median(np.diff(np.asarray(data.wavenumbers))))
    meta = dict(data.meta)
    if args.spatial_folds is not None:  # a map: the blocks of train's spatial folds
        meta["block"] = np.asarray(rd._splits_and_groups(args, data)[1]).astype(str)
    rows = []
    for col in GROUP_COLUMNS:
        if col not in meta:
            continue
        got = group_shifts(data.X, data.labels, meta[col], step)
        v = np.array([m for m, _ in got.values()])
        off = sorted(((k, m) for k, (m, _) in got.items() if abs(m) >= 1.5),
                     key=lambda km: -abs(km[1]))
        rows.append({"set": spec.name, "column": col, "groups": len(got),
                     "lo": float(v.min()), "hi": float(v.max()),
                     "noted": group_shift_note(got, col) is not None,
                     "off": [f"{k} {m:+.1f}" for k, m in off]})
    return rows


def aligned(X: np.ndarray, w: np.ndarray, groups: np.ndarray,
            offsets: dict[str, tuple[float, int]]) -> np.ndarray:
    """``X`` with every group's spectra moved back by its offset (linear interpolation on
    the grid ``w``; the ends hold their last value)."""
    out = X.copy()
    for name, (off, _) in offsets.items():
        rows = groups == name
        out[rows] = np.array([np.interp(w + off, w, row) for row in X[rows]])
    return out


VARIANTS = {"measured": "as measured", "class": "aligned (offsets from class means)",
            "free": "aligned (label-free offsets)"}


def aligned_rows(spec: Any, cnn_epochs: int | None = None,
                 variants: tuple[str, ...] = tuple(VARIANTS)) -> list[dict[str, Any]]:
    """``--aligned``: fast models on the set's folds, as measured and aligned by group; with
    ``cnn_epochs``, also ``train``'s default CNN trained for that many epochs."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    import realdata as rd
    from ramancam.baselines import LibrarySearch
    from ramancam.checks import group_shifts

    spec, data, splits = rd.prepared(spec)
    col = next((c for c in GROUP_COLUMNS if c in data.meta), None)
    if col is None:
        return []
    X = np.asarray(data.X, dtype=np.float64)
    w = np.asarray(data.wavenumbers, dtype=np.float64)
    y = np.asarray(data.labels).astype(str)
    g = np.asarray(data.meta[col]).astype(str)
    step = float(np.median(np.diff(w)))
    make_z = {"measured": lambda: X,
              "class": lambda: aligned(X, w, g, group_shifts(X, y, g, step)),
              "free": lambda: aligned(X, w, g, group_shifts(X, np.zeros(len(y)), g, step))}
    models = {"library": LibrarySearch,
              "PCA(20)+LDA": lambda: make_pipeline(PCA(20, random_state=0),
                                                   LinearDiscriminantAnalysis())}
    rows = []
    for key in variants:
        name, Z = VARIANTS[key], make_z[key]()
        left = [m for m, _ in group_shifts(Z, y, g, step).values()]
        row: dict[str, Any] = {"set": spec.name, "column": col, "variant": name,
                               "lo": min(left), "hi": max(left)}
        for mname, make in models.items():
            acc = [float(np.mean(make().fit(Z[tr], y[tr]).predict(Z[te]) == y[te]))
                   for tr, te in splits]
            row[mname] = (float(np.mean(acc)), float(np.std(acc)))
        if cnn_epochs:
            from ramancam.presets import preset_params
            from ramancam.train import cross_validate

            cv = cross_validate(data.replace(X=Z), splits=splits, compare=False, groups=g,
                                estimator_params={**preset_params("tuned"),
                                                  "epochs": cnn_epochs})
            row["CNN"] = (float(np.mean(cv.fold_accuracy)), float(np.std(cv.fold_accuracy)))
        rows.append(row)
    return rows


def aligned_table(rows: list[dict[str, Any]]) -> str:
    cnn = any("CNN" in r for r in rows)
    out = ["| set | spectra | group offsets left (cm-1) | library | PCA(20)+LDA |"
           + (" CNN |" if cnn else ""),
           "| --- | --- | --- | ---: | ---: |" + (" ---: |" if cnn else "")]
    for r in rows:
        cells = [f"{r[m][0]:.3f} +- {r[m][1]:.3f}" for m in ("library", "PCA(20)+LDA")
                 + (("CNN",) if cnn else ())]
        out.append(f"| {r['set']} ({r['column']}) | {r['variant']} | {r['lo']:+.2f} to "
                   f"{r['hi']:+.2f} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def group_table(rows: list[dict[str, Any]]) -> str:
    out = ["| set | grouped by | groups | shifts (cm-1) | groups 1.5 cm-1 or more off |",
           "| --- | --- | ---: | --- | --- |"]
    for r in rows:
        out.append(f"| {r['set']} | {r['column']} | {r['groups']} | {r['lo']:+.2f} to "
                   f"{r['hi']:+.2f} | {', '.join(r['off']) or 'none'} |")
    return "\n".join(out)


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| set | test spectra | shift applied (cm-1) | readable | median read (quartiles) "
           "| `axis:` line |", "| --- | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        out.append(f"| {r['set']} | {r['n']} | {r['shift']:+g} | {r['readable']} | "
                   f"{r['median']:+.2f} ({r['q1']:+.2f} to {r['q3']:+.2f}) | "
                   f"{'yes' if r['noted'] else 'no'} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import realdata as rd

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    names = rd.add_sets_argument(p)
    p.add_argument("--shifts", default="0,1,-2,3,-5",
                   help="comma-separated axis shifts in cm-1 (default 0,1,-2,3,-5)")
    p.add_argument("--groups", action="store_true",
                   help="measure train --group-col's note on the sets' grouping columns")
    p.add_argument("--aligned", action="store_true",
                   help="fast models with and without each group's shift removed")
    p.add_argument("--cnn-epochs", type=int, metavar="N",
                   help="with --aligned: also train's default CNN, N epochs, one torch thread")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"with --aligned: which of {', '.join(VARIANTS)} (default all)")
    a = p.parse_args(argv)
    chosen = rd.chosen_sets(p, a.sets, names)
    if a.cnn_epochs:
        import torch

        torch.set_num_threads(1)
    shifts = [float(v) for v in a.shifts.split(",")]
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    seen = set()
    for spec in rd.SETS:
        if spec.name not in chosen or spec.name in seen or spec.extra.get("mixing"):
            continue
        seen.add(spec.name)
        if a.aligned:
            rows += aligned_rows(spec, a.cnn_epochs, tuple(a.variants.split(",")))
        else:
            rows += group_rows(spec) if a.groups else run_set(spec, shifts)
        print(f"{spec.name}: done ({time.time() - t0:.0f} s)", file=sys.stderr)
    print(aligned_table(rows) if a.aligned else group_table(rows) if a.groups else table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
