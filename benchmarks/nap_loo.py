"""Time of the default novelty score's leave-one-out scores (``hqi-nap``), which ``train``
computes for every fold model and for the final one to set the novelty threshold.

Each training spectrum (or group) left out is an exact refit of the nuisance directions
(:mod:`ramancam._nap`). Measured on saliva-pd-ad (the default recipe's grid, leave one
spectrum out and leave one patient out, as ``train --group-col patient`` does) and on
simulated sets of growing size (five classes of Gaussian bands with random baselines,
1,200 points; leave one out, and 50 random groups). To time another checkout, put its
``src`` first on ``PYTHONPATH``; the printed mean score lets two checkouts' results be
compared.

    OMP_NUM_THREADS=2 python benchmarks/nap_loo.py
    OMP_NUM_THREADS=2 python benchmarks/nap_loo.py --sizes 1000 2000 4000 --no-saliva
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA")
            or Path(__file__).resolve().parents[2] / "shared" / "data")


def simulated(n: int, points: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` spectra of five classes (six Gaussian bands each) over random sloped baselines
    and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(points)
    centres = rng.uniform(100, points - 100, (5, 6))
    y = rng.integers(0, 5, n)
    X = np.zeros((n, points))
    for c in range(5):
        for m in centres[c]:
            X[y == c] += np.exp(-0.5 * ((t - m) / 6) ** 2)
    X += 0.3 * rng.random((n, 1)) * np.linspace(0, 1, points)
    X += 0.02 * rng.standard_normal((n, points))
    return X, y


def timed(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """Seconds of leave-one-out and leave-one-group-out scores, and the mean LOO score."""
    from ramancam.novelty import NoveltyScorer

    sc = NoveltyScorer("hqi-nap").fit(X, y, np.zeros((len(X), 0)))
    t0 = time.perf_counter()
    loo = sc.loo_scores()
    t1 = time.perf_counter()
    sc.loo_scores(groups, y)
    return t1 - t0, time.perf_counter() - t1, float(np.nanmean(loo))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[1000, 2000, 4000],
                   help="simulated training sets (spectra; default 1000 2000 4000)")
    p.add_argument("--no-saliva", action="store_true", help="skip saliva-pd-ad")
    args = p.parse_args(argv)
    print("| training set | spectra x points | leave one out | leave one group out | "
          "mean LOO score |")
    print("| --- | --- | ---: | ---: | ---: |")
    if not args.no_saliva and (DATA / "saliva-pd-ad").is_dir():
        from ramancam.io import read
        from ramancam.preprocess import paper_recipe

        out = paper_recipe(grid=(401, 1598, 1)).apply(
            read(DATA / "saliva-pd-ad", label_col="label"))
        X = np.asarray(out.X, dtype=np.float64)
        y = np.unique(np.asarray(out.labels).astype(str), return_inverse=True)[1]
        g = np.asarray(out.meta["patient"]).astype(str)
        a, b, m = timed(X, y, g)
        print(f"| saliva-pd-ad (groups: {np.unique(g).size} patients) | "
              f"{X.shape[0]} x {X.shape[1]} | {a:.1f} s | {b:.1f} s | {m:.6f} |", flush=True)
    for n in args.sizes:
        X, y = simulated(n)
        g = np.random.default_rng(1).integers(0, 50, n)
        a, b, m = timed(X, y, g)
        print(f"| simulated (groups: 50 random) | {n} x {X.shape[1]} | {a:.1f} s | {b:.1f} s "
              f"| {m:.6f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
