"""How much the baselines of docs/realdata.md move with their own seed (issue 13).

Usage::

    .venv/bin/python benchmarks/baseline_seeds.py [--sets drug-mabs,astragalus] \
        [--seeds 0,1,2,3,4,5] [--folds K] [--json benchmarks/results/baseline-seeds.json]

PCA + SVM and PLS-DA choose their settings (components, kernel, C; latent variables) by an
inner cross validation whose folds are shuffled with ``random_state``. docs/realdata.md fits
them once, with ``random_state`` 0 (what ``ramancam train --seed 0`` does), while the CNN
column is a mean over network seeds. This script refits both baselines on exactly the
benchmark's folds (each set read, preprocessed and split as ``benchmarks/realdata.py`` does)
for several seeds and prints, per set and split, each seed's accuracy (mean over folds), their
mean and range, beside the default CNN's mean from ``benchmarks/results/realdata.json``. The
library search has no seed. The amino-acid mixtures are left out (every baseline is at 1.000
there for any seed in docs/realdata.md).
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


def run_set(spec: Any, seeds: list[int], folds: int | None = None) -> dict[str, Any]:
    """Each seeded baseline's accuracy (mean over the benchmark's folds) on one set/split
    (``folds``: K for a set without a fixed split, as ``realdata.py --folds``;
    :func:`realdata.with_folds`)."""
    import realdata as rd
    from ramancam.baselines import PCASVM, PLSDA

    spec, data, splits = rd.prepared(spec, folds)
    X = np.asarray(data.X, dtype=np.float64)
    y = np.asarray(data.labels).astype(str)
    out: dict[str, Any] = {"set": spec.name, "split": spec.split, "folds": len(splits),
                           "seeds": seeds}
    t0 = time.perf_counter()
    for name, cls in (("PCA+SVM", PCASVM), ("PLS-DA", PLSDA)):
        out[name] = [float(np.mean([np.mean(cls(random_state=s).fit(X[tr], y[tr])
                                            .predict(X[te]) == y[te]) for tr, te in splits]))
                     for s in seeds]
    out["seconds"] = time.perf_counter() - t0
    return out


def cnn_means(path: Path) -> dict[tuple[str, str], float]:
    """The default CNN's mean accuracy per (set, split) in a realdata.py result file."""
    if not path.exists():
        return {}
    rows = json.loads(path.read_text())["rows"]
    return {(r["set"], r["split"]): float(r["models"]["CNN default"]["mean"])
            for r in rows if "CNN default" in r.get("models", {})}


def table(results: list[dict[str, Any]], cnn: dict[tuple[str, str], float]) -> str:
    seeds = results[0]["seeds"] if results else []
    lines = [f"| set | split | model | per seed ({', '.join(map(str, seeds))}) | mean | range "
             "| CNN default (realdata.md) |", "| --- | --- | --- | --- | ---: | --- | ---: |"]
    for r in results:
        c = cnn.get((r["set"], r["split"]))
        for name in ("PCA+SVM", "PLS-DA"):
            a = np.asarray(r[name])
            lines.append(f"| {r['set']} | {r['split']} | {name} | "
                         f"{' / '.join(f'{v:.3f}' for v in a)} | {a.mean():.3f} | "
                         f"{a.min():.3f}-{a.max():.3f} | {'-' if c is None else f'{c:.3f}'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import realdata as rd

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = rd.add_sets_argument(p)
    p.add_argument("--seeds", default="0,1,2,3,4,5", help="baseline seeds (default 0-5)")
    p.add_argument("--folds", type=int, help="K for the sets without a fixed split (default: "
                   "each set's own, as realdata.py; its chondro-map row used 3)")
    p.add_argument("--json", type=Path, help="also write the results here (merged into an "
                   "existing file: its rows of the same set and split are replaced)")
    p.add_argument("--realdata", type=Path, default=ROOT / "benchmarks" / "results" /
                   "realdata.json", help="realdata.py result file for the CNN column")
    a = p.parse_args(argv)
    wanted = rd.chosen_sets(p, a.sets, names)
    try:
        seeds = [int(v) for v in a.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds must be comma-separated integers; got {a.seeds!r}")
    results = []
    for spec in rd.SETS:
        if spec.name in wanted and not spec.extra.get("mixing"):
            results.append(run_set(spec, seeds, a.folds))
            print(f"{spec.name} / {results[-1]['split']}: {results[-1]['seconds']:.0f} s",
                  file=sys.stderr, flush=True)
    command = "benchmarks/baseline_seeds.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if a.json:
        results = merge(a.json, results, command)
    print(table(results, cnn_means(a.realdata)))
    return 0


def merge(path: Path, rows: list[dict[str, Any]], command: str) -> list[dict[str, Any]]:
    """Write ``rows`` into the result file ``path``, replacing its rows of the same set and
    split and keeping the others (with the commands that made them); returns all rows."""
    old = json.loads(path.read_text()) if path.exists() else {"commands": [], "rows": []}
    new_keys = {(r["set"], r["split"]) for r in rows}
    kept = [r for r in old["rows"] if (r["set"], r["split"]) not in new_keys]
    before = old.get("commands", [old["command"]] if "command" in old else [])
    out = {"commands": [*before, command], "rows": kept + rows}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(path)
    return list(out["rows"])


if __name__ == "__main__":
    raise SystemExit(main())
