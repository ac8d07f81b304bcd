"""Does ``torch.compile`` speed up inference of the paper-sized model? (issue 6; dropped)

Usage::

    .venv/bin/python benchmarks/compile_check.py

Compares, in one process and alternating, ramancam's eager fast path (``RamanCNN`` as shipped)
with ``torch.compile`` of the same model and of the plain layer-by-layer module, with and
without inductor's ``freezing`` (weight prepacking and conv + post-op fusion). Batch 256,
1451 points, 20 classes, 64 filters of size 8; spectra/s, median of 5 after a warm-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ramancam import _fast
from ramancam.model import CNNConfig, RamanCNN


def _rate(f: Callable[[Any], Any], X: torch.Tensor, reps: int = 5) -> float:
    ts = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        with torch.inference_mode():
            for i in range(4):
                f(X[i * 256:(i + 1) * 256])
        ts.append(time.perf_counter() - t)
    return 1024 / float(np.median(ts[1:]))


def main() -> int:
    import torch._inductor.config as inductor_config

    _fast.tune_allocator()
    torch.manual_seed(0)
    fast = RamanCNN(CNNConfig(1451, 20)).eval()
    plain = RamanCNN(CNNConfig(1451, 20)).eval()
    plain.load_state_dict(fast.state_dict())
    plain.features = nn.Sequential(*plain.features)
    X = torch.rand(1024, 1451)
    engines: dict[str, Callable[[Any], Any]] = {"eager fast path (as shipped)": fast}
    for freezing in (False, True):
        inductor_config.freezing = freezing
        for name, model in (("fast", fast), ("plain module", plain)):
            torch._dynamo.reset()  # a fresh compile for each setting
            t0 = time.perf_counter()
            c = torch.compile(model, dynamic=False)
            with torch.inference_mode():
                c(X[:256])
            label = f"torch.compile({name}, freezing={freezing})"
            print(f"{label}: compiled in {time.perf_counter() - t0:.1f} s", flush=True)
            engines[label] = c
    rates: dict[str, list[float]] = {k: [] for k in engines}
    for _ in range(2):
        for k, f in engines.items():
            rates[k].append(_rate(f, X))
    print("| engine | inference spectra/s, batch 256 (two rounds) |\n| --- | --- |")
    for k, v in rates.items():
        print(f"| {k} | {', '.join(f'{x:,.0f}' for x in v)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
