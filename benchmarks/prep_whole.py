"""CPU time and peak memory of a shipped recipe applied to one large array at once.

``Recipe.apply`` on N simulated spectra (an uneven 1,600-point axis over 350-1850 cm-1, three
bands on a curved background, noise; resampled to 400-1800 cm-1 at 1 cm-1, 1,401 points) in
one call, as a Python user preprocesses a large set: CPU seconds of the call
(``time.process_time``, so that other load on a shared machine does not enter it) and the
peak that tracemalloc counts during it above the input (numpy reports its arrays to it).
The data are those of the performance audit's ``prep.py`` (same seeds), built in blocks of
5,000. ``--profile`` adds cProfile, as the audit ran it (slower). To measure another
checkout, put its ``src`` first on ``PYTHONPATH``; run with one thread:

    OMP_NUM_THREADS=1 python benchmarks/prep_whole.py 100000 paper
    OMP_NUM_THREADS=1 PYTHONPATH=/tmp/old/src python benchmarks/prep_whole.py 100000 paper
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from ramancam.preprocess import baseline_recipe, paper_recipe
from ramancam.spectra import Spectra

_rng = np.random.default_rng(0)
AXIS = np.sort(_rng.uniform(350, 1850, 1600))
AXIS[0], AXIS[-1] = 350.0, 1850.0
# uneven, but no two points much closer than the step (refused)
AXIS = 0.5 * (AXIS + np.linspace(350.0, 1850.0, AXIS.size))


def make(m: int, seed: int) -> np.ndarray:
    """``m`` spectra on :data:`AXIS` (seeded)."""
    r = np.random.default_rng(seed)
    w = AXIS
    pos = r.uniform(450, 1700, (m, 3))
    X = 0.3 + 0.2 * ((w - 350) / 1500)[None] ** 2 * r.uniform(0.5, 1.5, (m, 1))
    for j in range(3):
        X = X + np.exp(-0.5 * ((w[None] - pos[:, j:j + 1]) / 6) ** 2)
    return np.asarray(X + 0.01 * r.standard_normal((m, w.size)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of spectra")
    ap.add_argument("recipe", choices=["paper", "asls", "arpls"])
    ap.add_argument("--profile", action="store_true", help="under cProfile (the top 14)")
    a = ap.parse_args()
    block = 5000
    X = (make(a.n, 0) if a.n <= 20000 else
         np.concatenate([make(min(block, a.n - s), s) for s in range(0, a.n, block)]))
    data = Spectra(X, AXIS, copy=False)
    rec = (paper_recipe(grid=(400, 1800, 1)) if a.recipe == "paper"
           else baseline_recipe(a.recipe, grid=(400, 1800, 1)))
    import cProfile
    import pstats

    prof = cProfile.Profile(time.process_time)
    tracemalloc.start()
    t = time.process_time()
    if a.profile:
        prof.enable()
    out = rec.apply(data)
    if a.profile:
        prof.disable()
    dt = time.process_time() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{a.recipe}, whole: {a.n} spectra x {AXIS.size} -> {out.X.shape}: {dt:.2f} CPU-s "
          f"= {a.n / dt:.0f} spectra/CPU-s{' (under cProfile)' if a.profile else ''}; input "
          f"{X.nbytes / 1e6:.0f} MB, output {out.X.nbytes / 1e6:.0f} MB, tracemalloc peak "
          f"{peak / 1e6:.0f} MB above the input")
    if a.profile:
        pstats.Stats(prof).sort_stats("tottime").print_stats(14)


if __name__ == "__main__":
    main()
