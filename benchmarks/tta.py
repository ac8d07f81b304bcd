"""Test-time augmentation: does averaging a trained model's probabilities over shifted or
scaled copies of each test spectrum change its accuracy? (issue 13, a lever without
retraining)

Usage::

    .venv/bin/python benchmarks/tta.py MODEL DATA --label-col label --split-col split \\
        [--test-value test] [--threads 2]

MODEL is a saved model (``ramancam train ... --out MODEL``), DATA the labelled spectra; the
rows whose ``--split-col`` reads ``--test-value`` are classified (all rows without
``--split-col``). Each spectrum is preprocessed by the model's own recipe, then:

* ``plain``: the model's calibrated probabilities, what ``ramancam predict`` writes;
* ``shift a..b``: the mean probability over copies moved by every whole number of grid
  points from a to b (the edge value repeated), the band shifts the training augmentation
  draws;
* ``scale s``: the mean of the spectrum's and the spectrum times ``s``.

It prints one line per variant: the accuracy on the classified rows and how many of them
change class against ``plain``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

VARIANTS: dict[str, tuple[str, Any]] = {
    "plain": ("shift", [0]),
    "shift -1..1": ("shift", [-1, 0, 1]),
    "shift -2..2": ("shift", [-2, -1, 0, 1, 2]),
    "shift -3,0,3": ("shift", [-3, 0, 3]),
    "scale 0.9": ("scale", 0.9),
    "scale 1.1": ("scale", 1.1),
}


def shifted(X: np.ndarray, k: int) -> np.ndarray:
    """``X`` moved by ``k`` grid points along its rows, the edge value repeated."""
    idx = np.clip(np.arange(X.shape[1]) - k, 0, X.shape[1] - 1)
    return X[:, idx]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--label-col", default="label")
    p.add_argument("--split-col")
    p.add_argument("--test-value", default="test")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    import torch

    from ramancam.bundle import load
    from ramancam.io import read
    from ramancam.train import predict_proba_module

    torch.set_num_threads(a.threads)
    bundle = load(a.model)
    raw = read(a.data, label_col=a.label_col)
    if a.split_col:
        raw = raw[np.flatnonzero(np.asarray(raw.meta[a.split_col]).astype(str) == a.test_value)]
    X = bundle.prepare(raw).astype(np.float32)
    y = np.asarray(raw.labels).astype(str)
    classes = np.asarray(bundle.classes)

    def proba(A: np.ndarray) -> np.ndarray:
        return np.asarray(predict_proba_module(bundle.model, A, temperature=bundle.temperature))

    plain = None
    print(f"{len(y)} spectra of {a.data}, model {a.model}")
    print(f"{'variant':<14} {'accuracy':>8} {'changed':>8}")
    for name, (kind, arg) in VARIANTS.items():
        if kind == "shift":
            p_mean = np.mean([proba(shifted(X, k)) for k in arg], axis=0)
        else:
            p_mean = np.mean([proba(X), proba(X * np.float32(arg))], axis=0)
        pred = classes[p_mean.argmax(axis=1)]
        plain = pred if plain is None else plain
        print(f"{name:<14} {np.mean(pred == y):>8.3f} {int(np.sum(pred != plain)):>8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
