"""Deletion test of the FC-importance and ig-bands maps, with and without training
augmentation (issue 13, point 4), on one held-out part of each real set.

Usage::

    .venv/bin/python benchmarks/map_deletion.py --sets astragalus,chondro-map
    .venv/bin/python benchmarks/map_deletion.py --sets astragalus --augment 0.01,2,0.05,0.1
    .venv/bin/python benchmarks/map_deletion.py --sets rruff-sample,astragalus --controls

Each set is read and preprocessed exactly as ``benchmarks/realdata.py`` does (``ramancam
train``'s code path, default recipe and grid), the default CNN (``ramancam train``'s own
settings, optionally with ``--augment NOISE,SHIFT,BASELINE,SCALE``, the ``--augment-*``
options of train) is fitted on one training part (the fixed split where the set has one,
else a stratified 75/25 split, seed 0) and tested on the rest. Printed per set: test
accuracy, seconds per fit and the deletion share of each map (share of test spectra whose
true-class logit falls more when the map's top 5 % of points are flattened than when 5 %
random points are; bar 0.9), and for the amino-acid mixtures the Fig. 7 share (maps closer to
the labelled pure spectrum than to the admixed one; bar 0.95). One fit per set and seed: a
quick look, not the cross-validated benchmark (``realdata.py``).

``--controls`` adds maps that show how much the deletion test can tell: ``band`` (no model at
all: the spectrum's height above its own SNIP background, ``x - band_free(x)``, clipped at 0,
so its top 5 % are the tallest bands), ``random`` (uniform noise), the plain input gradient
(``saliency``), and the two model maps brought to input resolution by that band height
(``fc*band``, ``grad*band``), and ``occlusion-bands``: each point's mean drop of the class
logit when a 20-point window around it is replaced by its own SNIP background (captum's
Occlusion, stride 4), i.e. the map that ranks points by what removing their band alone costs.
Also printed per map: the median logit drop when its top 5 % are
flattened (``drop``) and, for the maps that use the model, the share of spectra whose logit
falls more when the map's top 5 % are flattened than when the tallest 5 % (``band``'s) are
(``beats band``): a map that knows which bands the decision rests on should beat the
model-free choice of the tallest ones. ``--per-class`` also prints, per map and class, the
median change of the class logit when the map's top 5 % are flattened (``drop``, positive =
the logit falls) and when 5 % random points are.
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


def control_maps(X: np.ndarray, grid: np.ndarray, fc: np.ndarray, grad: np.ndarray,
                 seed: int = 1) -> dict[str, np.ndarray]:
    """The control maps of ``--controls``: ``band`` (the height of each point above the
    spectrum's own SNIP background, clipped at 0: no model), ``fc*band`` and ``grad*band`` (the
    FC-importance map and the input gradient times that height) and ``random`` (uniform noise,
    seeded)."""
    from ramancam.explain import band_free, band_window

    height = np.clip(X - band_free(X, band_window(grid)), 0, None).astype(np.float64)
    return {"band": height, "fc*band": fc * height, "grad*band": grad * height,
            "random": np.random.default_rng(seed).random(height.shape)}


def occlusion_bands(module: Any, X: np.ndarray, target: np.ndarray, grid: np.ndarray,
                    window: int = 20, stride: int = 4) -> np.ndarray:
    """Band occlusion: captum's Occlusion with each spectrum's SNIP background
    (:func:`ramancam.explain.band_free`) as the replacement, so a window's value is the class
    logit lost when the bands inside it are removed alone."""
    import torch
    from captum.attr import Occlusion

    from ramancam.explain import band_free, band_window

    out = np.empty(X.shape, dtype=np.float64)
    module.eval()
    for i in range(0, len(X), 32):
        xb = torch.from_numpy(X[i:i + 32].astype(np.float32)).unsqueeze(1)
        base = torch.from_numpy(band_free(X[i:i + 32], band_window(grid))).unsqueeze(1)
        with torch.no_grad():
            a = Occlusion(module).attribute(
                xb, sliding_window_shapes=(1, window), strides=(1, stride), baselines=base,
                target=torch.from_numpy(target[i:i + 32].astype(np.int64)),
                perturbations_per_eval=64)
        out[i:i + 32] = a[:, 0].numpy()
    return out


def run(name: str, seed: int, augment: tuple[float, int, float, float] | None,
        controls: bool = False, per_class: bool = False) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    import realdata as rd
    from ramancam.cli._common import prepare_labelled
    from ramancam.cli.train import estimator_params
    from ramancam.explain import explain, method_options
    from ramancam.train import CNNClassifier

    spec = next(s for s in rd.SETS if s.name == name)
    raw = spec.load()
    args = rd._train_args(spec.options)
    pure = None
    if spec.extra.get("mixing"):
        raw, pure = rd._mixtures(raw, args, False)
        args = rd._train_args([*spec.options, "--recipe", "none"])
    raw, _, data = prepare_labelled(args, raw, "for training")
    y = np.asarray(data.labels).astype(str)
    X = np.asarray(data.X, dtype=np.float64)
    if args.split_col:
        part = np.asarray(data.meta[args.split_col]).astype(str)
        tr, te = (np.flatnonzero(part == args.train_value),
                  np.flatnonzero(part != args.train_value))
    else:
        tr, te = train_test_split(np.arange(y.size), test_size=0.25, stratify=y,
                                  random_state=0)
    params = {**estimator_params(args), "verbose": False, "random_state": seed,
              "novelty": None}
    if augment is not None:
        params.update(augment_noise=augment[0], augment_shift=augment[1],
                      augment_baseline=augment[2], augment_scale=augment[3])
    t0 = time.perf_counter()
    est = CNNClassifier(**params).fit(X[tr], y[tr])
    out: dict[str, Any] = {"set": name, "seed": seed, "augment": augment,
                           "fit_s": time.perf_counter() - t0, "n_test": int(te.size),
                           "accuracy": float(np.mean(est.predict(X[te]).astype(str) == y[te]))}
    target = np.searchsorted(est.classes_.astype(str), y[te])
    methods = [*rd.MAP_METHODS.values(), *(["saliency"] if controls else [])]
    all_maps: dict[str, np.ndarray] = {}
    for method in methods:
        maps, _ = explain(est.module_, X[te], method=method, target="true", y=target,
                          **method_options(method, data.wavenumbers))
        all_maps[method] = np.asarray(maps, dtype=np.float64)
    if controls:
        all_maps.update(control_maps(X[te], data.wavenumbers, all_maps["fc"],
                                     all_maps["saliency"]))
        all_maps["occlusion-bands"] = occlusion_bands(est.module_, X[te], target,
                                                      data.wavenumbers)
    drops: dict[str, np.ndarray] = {}
    for method, maps in all_maps.items():
        res = rd.deletion(est, X[te], maps, target)
        drops[method] = np.asarray(res.drop_top)
        out[f"deletion {method}"] = res.share  # a constant map never passes
        if per_class:
            for c in np.unique(target):
                k = target == c
                name_c = str(est.classes_[c])
                out[f"drop {method} {name_c}"] = float(np.median(res.drop_top[k]))
                out[f"drop random {name_c}"] = float(np.median(res.drop_random[k]))
        if controls:
            out[f"drop {method}"] = float(np.median(res.drop_top))
        if pure is not None:
            out[f"closer {method}"] = rd.closer_share(
                maps, y[te], np.asarray(data.meta["partner"])[te], pure)
    if controls:
        for method in (m for m in drops if m not in ("band", "random")):
            out[f"beats band {method}"] = float(np.mean(drops[method] > drops["band"]))
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", required=True, help="comma-separated set names of realdata.py")
    p.add_argument("--seeds", default="0", help="network seeds (default 0)")
    p.add_argument("--augment", metavar="NOISE,SHIFT,BASELINE,SCALE",
                   help="train's --augment-noise/-shift/-baseline/-scale (default: none)")
    p.add_argument("--controls", action="store_true",
                   help="also the control maps (band, random, saliency, fc*band, grad*band)")
    p.add_argument("--per-class", action="store_true",
                   help="also each class's median logit drop (top 5 %% and random points)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also append the results as JSON lines to this file")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    aug = None
    if a.augment:
        n, s, b, c = a.augment.split(",")
        aug = (float(n), int(s), float(b), float(c))
    for name in a.sets.split(","):
        for seed in (int(v) for v in a.seeds.split(",")):
            r = run(name, seed, aug, a.controls, a.per_class)
            print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in r.items()), flush=True)
            if a.json:
                with open(a.json, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
