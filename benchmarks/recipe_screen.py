"""Screen preprocessing recipes on the measured sets with the fast baselines (issue 13).

Usage::

    .venv/bin/python benchmarks/recipe_screen.py [--full-range] [SET ...]
                                   # sets: drug micro yogurt astra rruff chondro (default: all)

Every spectrum is resampled onto the paper's grid narrowed to the data (as ``ramancam train``
does without ``--grid``), then one baseline variant is applied and each spectrum divided by
its maximum: ``paper`` (the paper's recipe: straight line through the end points of the full
measured range, before resampling), ``lowered`` (the line through the grid's end points,
lowered until it touches the spectrum from below), ``none``, and pybaselines' ``snip``
(max_half_window 40), ``asls`` and ``arpls`` (their defaults). Each variant is scored by the
library search and PCA + SVM on stratified 5-fold CV (drug-mabs: its fixed split).
``--full-range`` resamples onto the whole range every spectrum covers (1 cm-1 steps) instead
of the paper's 350-1800 cm-1, to see what the bands outside the fingerprint region add. A CNN
screen would cost hours on the 2-core machine; the baselines show which recipes keep the
class information and which fail.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ramancam.baselines import PCASVM, LibrarySearch
from ramancam.io import read
from ramancam.preprocess import Recipe, Step, paper_recipe
from ramancam.spectra import Spectra
from ramancam.train import make_splits

# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data (from the
# checkout, where it is run).
D = os.path.join(os.environ.get("RAMANCAM_SHARED_DATA") or "../shared/data", "")


def _chondro() -> Spectra:
    import pandas as pd

    df = pd.read_csv(D + "chondro-map/map.csv")
    df = df[df.label.notna()]
    w = np.array([float(c) for c in df.columns[4:]])
    return Spectra(df.iloc[:, 4:].to_numpy(float), w, labels=df.label.astype(str).to_numpy())


SETS = {
    "drug": lambda: read(D + "drug-mabs/spectra.csv.gz", label_col="label"),
    "micro": lambda: read(D + "microplastics/spectra.csv", label_col="label"),
    "yogurt": lambda: read(D + "food/yogurt.csv", label_col="label"),
    "astra": lambda: read(D + "food/astragalus.csv", label_col="label"),
    "rruff": lambda: read(D + "rruff-sample", labels_from="header:NAMES"),
    "chondro": _chondro,
}


def auto_grid(s: Spectra, full_range: bool = False) -> tuple[float, float, float]:
    """``ramancam train``'s grid without ``--grid`` (the paper's, narrowed to the range every
    spectrum covers) or with ``--grid full`` (``full_range``: that whole range), at 1 cm-1."""
    from ramancam.preprocess import auto_grid as train_grid
    from ramancam.preprocess import full_grid

    return full_grid(s) if full_range else train_grid(s)


def maxnorm(X: np.ndarray) -> np.ndarray:
    m = X.max(axis=1, keepdims=True)
    return X / np.where(m > 0, m, 1)


def main(names: list[str], full_range: bool = False) -> None:
    from pybaselines import Baseline

    for name in names:
        s = SETS[name]()
        g = auto_grid(s, full_range)
        rs = Recipe([Step("resample", {"start": g[0], "stop": g[1], "step": g[2],
                                       "outside": "error", "tolerance": None})]).apply(s)
        X0, w, y = rs.X, rs.wavenumbers, s.labels
        variants = {}
        try:
            variants["paper"] = paper_recipe(grid=g).apply(s).X
        except Exception as exc:
            print(name, "paper fails:", str(exc)[:100])
        t = (w - w[0]) / (w[-1] - w[0])
        line = X0[:, :1] + (X0[:, -1:] - X0[:, :1]) * t
        variants["lowered"] = maxnorm(X0 - (line - (line - X0).max(axis=1, keepdims=True)))
        variants["none"] = maxnorm(X0)
        B = Baseline(x_data=w)
        for meth, kw in [("snip", {"max_half_window": 40}), ("asls", {}), ("arpls", {})]:
            variants[meth] = maxnorm(np.array([x - getattr(B, meth)(x, **kw)[0] for x in X0]))
        splits = (make_splits(s, split_col="split") if name == "drug"
                  else make_splits(s, folds=5, seed=0))
        for v, X in variants.items():
            t0 = time.time()
            res = {}
            for mn, mk in [("lib", LibrarySearch), ("svm", lambda: PCASVM(random_state=0))]:
                res[mn] = np.mean([np.mean(mk().fit(X[tr], y[tr]).predict(X[te]) == y[te])
                                   for tr, te in splits])
            print(name, g, v, f"{time.time() - t0:.0f}s",
                  " ".join(f"{k}={a:.3f}" for k, a in res.items()), flush=True)


def cli(argv: list[str] | None = None) -> int:
    """Parse ``[--full-range] [SET ...]`` (unknown sets stop with argparse's one-line error)
    and run :func:`main`."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sets", nargs="*", choices=list(SETS), metavar="SET",
                   help=f"sets to screen, of {list(SETS)} (default: all)")
    p.add_argument("--full-range", action="store_true",
                   help="the whole range every spectrum covers instead of 350-1800 cm-1")
    a = p.parse_args(argv)
    main(a.sets or list(SETS), a.full_range)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
