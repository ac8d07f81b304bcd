"""``ramancam demo``: the project's main job, with no data and no options."""

from __future__ import annotations

import argparse
import time
from typing import Any

NAME = "demo"
HELP = "train the paper's CNN on simulated spectra and compare its maps (no data needed)"
DESCRIPTION = """\
Run the paper's common-component experiment (Fukuhara et al. 2019, Fig. 3) with the paper's
settings: simulated spectra with a class peak at channel 100, 500 or 1000 plus 3 peaks at
random positions, 100 training spectra per class, 64 filters of size 8, Adam lr 1e-4, 100
epochs. Then explain a fresh test set with Grad-CAM and with the paper's FC-importance map
and score where each map points. Prints a short result table and the path of the report
(report.html, figures and metrics.json in --out).

examples:
  ramancam demo
  ramancam demo --out /tmp/ramancam-demo
"""

#: Overrides of ramancam.experiments.COMMON; empty = the paper's settings. (Tests shrink it.)
SETTINGS: dict[str, Any] = {}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", default="ramancam-demo",
                   help="output folder (default: ramancam-demo)")


def verdict(fc_class: float, fc_random: float, gc_class: float, gc_random: float) -> str:
    """The paper's two claims and whether this run's pointing bears each out: the
    FC-importance map points at the class peak, Grad-CAM at the random peaks."""
    fc_ok = fc_class > fc_random
    gc_ok = gc_random > gc_class
    return ("paper: the FC-importance map points at the class peak ("
            + ("reproduced" if fc_ok else "not reproduced")
            + f": {fc_class:.3f} vs {fc_random:.3f} at a random peak); Grad-CAM at the random "
            "peaks (" + ("reproduced" if gc_ok else "not reproduced")
            + f": {gc_random:.3f} at a random peak vs {gc_class:.3f} at the class peak).")


def run(args: argparse.Namespace) -> int:
    from ..experiments import common
    from .reproduce import prepare_out

    prepare_out(args.out)
    t0 = time.perf_counter()
    doc = common(args.out, seed=0, **SETTINGS)
    r = doc["results"]
    fc, gc = r["maps"]["fc"], r["maps"]["gradcam"]
    rows = [("test accuracy", f"{r['accuracy']:.3f}", ""),
            ("pointing at the class peak", f"{fc['defined']['pointing']:.3f}",
             f"{gc['defined']['pointing']:.3f}"),
            ("pointing at a random peak", f"{fc['random']['pointing']:.3f}",
             f"{gc['random']['pointing']:.3f}"),
            ("map mass near the class peak", f"{fc['defined']['mass']:.3f}",
             f"{gc['defined']['mass']:.3f}")]
    print("ramancam demo: common-component task (paper Fig. 3), "
          f"{r['n_train']} training / {r['n_test']} test spectra")
    print(f"{'':32s} {'FC-importance':>14s} {'Grad-CAM':>10s}")
    for name, a, b in rows:
        print(f"{name:32s} {a:>14s} {b:>10s}")
    print(verdict(fc["defined"]["pointing"], fc["random"]["pointing"],
                  gc["defined"]["pointing"], gc["random"]["pointing"])
          + f" ({time.perf_counter() - t0:.0f} s)")
    print(f"report: {args.out}/report.html")
    return 0
