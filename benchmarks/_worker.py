"""Benchmark worker: one engine per process, driven line by line by ``benchmarks/run.py``.

Each engine (plain PyTorch, ramancam's module, ramancam's fast path, Keras, ...) lives in its
own process so that process-wide settings (glibc ``mallopt``, thread pools, TensorFlow) do not
leak into the others, and so that the driver can interleave the engines rep by rep
(A B C A B C ...): a slow spell of the shared machine then hits all of them alike.

Protocol: the worker prints one JSON line ``{"ready": [case, ...]}``; then for each line
``<case>`` on stdin it runs that case once and prints ``{"s": seconds, "n": spectra,
"minflt": minor page faults}``. An empty line or EOF ends it.

Other modes (one measurement per process, printed as one JSON line):
``--rss N`` (peak RSS while predicting and explaining N simulated spectra in chunks) and
``--mixing ENGINE`` (wall time and accuracy of the paper's mixing experiment).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

N_POINTS = 1451
N_CLASSES = 20
SEED = 2019


# --------------------------------------------------------------------------- models

def _torch_plain_module(cfg: Any) -> Any:
    """The model as a PyTorch user would first write it: ``Conv1d(padding="same")``, NCW."""
    from torch import nn

    from ramancam.model import pooled_length

    layers: list[nn.Module] = []
    cin = 1
    for _ in range(cfg.n_blocks):
        layers += [nn.Conv1d(cin, cfg.n_filters, cfg.filter_size, padding="same"),
                   nn.LeakyReLU(cfg.alpha), nn.MaxPool1d(2, 2, ceil_mode=True)]
        cin = cfg.n_filters
    n_flat = cfg.n_filters * pooled_length(cfg.n_points, cfg.n_blocks)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(n_flat, cfg.fc_width),
                         nn.Dropout(cfg.dropout), nn.Linear(cfg.fc_width, cfg.n_classes))


def _keras_model(cfg: Any) -> Any:
    import keras

    layers: list[Any] = [keras.Input((cfg.n_points, 1))]
    for _ in range(cfg.n_blocks):
        layers += [keras.layers.Conv1D(cfg.n_filters, cfg.filter_size, padding="same"),
                   keras.layers.LeakyReLU(negative_slope=cfg.alpha),
                   keras.layers.MaxPooling1D(2, 2, padding="same")]
    layers += [keras.layers.Flatten(), keras.layers.Dense(cfg.fc_width),
               keras.layers.Dropout(cfg.dropout), keras.layers.Dense(cfg.n_classes)]
    return keras.Sequential(layers)


# --------------------------------------------------------------------------- torch engines

def _torch_cases(engine: str, quick: bool) -> dict[str, Callable[[], int]]:
    import torch
    from torch.nn import functional as F

    from ramancam import _fast, explain
    from ramancam.model import CNNConfig, RamanCNN

    if engine.endswith("-1thread"):
        torch.set_num_threads(1)
    fast = engine.startswith("ramancam-fast")
    bf16 = engine == "ramancam-fast-bf16"
    if fast or engine == "torch-module+mallopt":
        if not _fast.tune_allocator():
            raise SystemExit(f"{engine}: glibc mallopt could not be applied")
    torch.manual_seed(SEED)
    cfg = CNNConfig(N_POINTS, N_CLASSES)
    model = RamanCNN(cfg)
    if engine == "torch-plain":
        net: Any = _torch_plain_module(cfg)
        forward: Callable[[Any], Any] = net
    elif fast:
        # RamanCNN as shipped: its features are a FastFeatures (channels-last convolutions),
        # and explain.py computes A with model.features(x), so the maps take the fast path
        # too. bf16 needs the explicit fast_forward(bf16=True).
        net = model
        forward = ((lambda x: _fast.fast_forward(model, x, bf16=True)) if bf16 else model)
    else:
        # The module before the fast path: the same layers run one by one in NCW layout.
        from torch import nn

        model.features = nn.Sequential(*model.features)
        model.last_pool = model.features[-1]
        net = model
        forward = model
    rng = np.random.default_rng(SEED)
    scale = 1 if not quick else 2
    X = torch.from_numpy(rng.random((2048, N_POINTS), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, N_CLASSES, 2048))
    Xn = X.numpy()
    # ramancam trains with the fused Adam kernel (CNNClassifier uses _fast.adam); the other
    # engines, and ramancam-fast-foreach-adam, with PyTorch's default Adam.
    opt = (_fast.adam(net.parameters(), lr=1e-4)
           if fast and engine != "ramancam-fast-foreach-adam"
           else torch.optim.Adam(net.parameters(), lr=1e-4))

    def train(batch: int, steps: int) -> Callable[[], int]:
        def run() -> int:
            net.train()
            for i in range(steps):
                xb = X[i * batch:(i + 1) * batch]
                xb = xb if engine.startswith("ramancam") else xb.unsqueeze(1)
                loss = F.cross_entropy(forward(xb), y[i * batch:(i + 1) * batch])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            return batch * steps
        return run

    def infer(batch: int, n_batches: int, ctx: Callable[[], Any]) -> Callable[[], int]:
        def run() -> int:
            net.eval()
            with ctx():
                for i in range(n_batches):
                    xb = X[i * batch:(i + 1) * batch]
                    forward(xb if engine.startswith("ramancam") else xb.unsqueeze(1))
            return batch * n_batches
        return run

    def conv_only(batch: int, n_batches: int) -> Callable[[], int]:
        feats = net[:-4] if engine == "torch-plain" else model.features

        def run() -> int:
            net.eval()
            with torch.inference_mode():
                for i in range(n_batches):
                    feats(X[i * batch:(i + 1) * batch].unsqueeze(1))
            return batch * n_batches
        return run

    def maps(fn: Callable[..., Any], n: int, **kw: Any) -> Callable[[], int]:
        def run() -> int:
            fn(model, Xn[:n], **kw)
            return n
        return run

    def fc_pred(n: int) -> Callable[[], int]:
        def run() -> int:
            # predicted class: the logits come from the same pass in a wired-up explain();
            # here a separate inference pass is counted, as explain(target="predicted") does.
            target = explain.predict_proba(model, Xn[:n]).argmax(1)
            explain.fc_importance(model, Xn[:n], target)
            return n
        return run

    def sgemm() -> int:
        a = torch.randn(1024, 1024)
        b = torch.randn(1024, 1024)
        for _ in range(8):
            torch.mm(a, b)
        return 8  # matrix products of 2 * 1024**3 FLOP each

    cases: dict[str, Callable[[], int]] = {
        "train32": train(32, 16 // scale),
        "train128": train(128, 4 // scale),
        "infer256": infer(256, 4 // scale, torch.inference_mode),
    }
    if engine == "torch-plain":
        cases["infer256"] = infer(256, 4 // scale, torch.no_grad)  # the default idiom
        cases["conv256"] = conv_only(256, 4 // scale)
        cases["sgemm"] = sgemm
    if engine == "torch-module":
        cases["infer256_nograd"] = infer(256, 4 // scale, torch.no_grad)
    if engine == "ramancam-fast":
        # the peers of the closed-form maps run on the same (fast) model
        cases["fc_autograd_loop"] = maps(explain.fc_importance_autograd, 8 // scale)
        cases["captum_gradcam_loop"] = maps(explain.captum_map, 32 // scale,
                                            method="layergradcam")
    if engine in ("torch-module", "torch-module+mallopt", "ramancam-fast"):
        cases["fc_all"] = maps(explain.fc_importance, 1024 // scale)
        cases["fc_pred"] = fc_pred(1024 // scale)
        cases["gradcam_all"] = maps(explain.grad_cam, 1024 // scale)
    if engine == "ramancam-fast":
        cases["conv256"] = conv_only(256, 4 // scale)
    if engine in ("ramancam-fast-1thread", "ramancam-fast-passive"):
        del cases["train32"]
    if engine == "ramancam-fast-foreach-adam":  # only the optimiser differs: training only
        del cases["infer256"]
    return cases


# --------------------------------------------------------------------------- keras engine

def _keras_cases(quick: bool) -> dict[str, Callable[[], int]]:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from ramancam.model import CNNConfig

    keras.utils.set_random_seed(SEED)
    cfg = CNNConfig(N_POINTS, N_CLASSES)
    model = _keras_model(cfg)
    opt = keras.optimizers.Adam(1e-4)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = np.random.default_rng(SEED)
    X = tf.constant(rng.random((2048, N_POINTS, 1), dtype=np.float32))
    y = tf.constant(rng.integers(0, N_CLASSES, 2048))
    scale = 1 if not quick else 2

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def predict(xb: Any) -> Any:
        return model(xb, training=False)

    def train(batch: int, steps: int) -> Callable[[], int]:
        def run() -> int:
            for i in range(steps):
                step(X[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]).numpy()
            return batch * steps
        return run

    def infer(batch: int, n_batches: int) -> Callable[[], int]:
        def run() -> int:
            for i in range(n_batches):
                predict(X[i * batch:(i + 1) * batch]).numpy()
            return batch * n_batches
        return run

    return {"train32": train(32, 16 // scale), "train128": train(128, 4 // scale),
            "infer256": infer(256, 4 // scale)}


# --------------------------------------------------------------------------- other modes

def _simulated_chunks(n: int, chunk: int) -> Any:
    """Simulated spectra in chunks (never all in memory): 3 Lorentzian peaks + noise."""
    rng = np.random.default_rng(SEED)
    x = np.arange(N_POINTS, dtype=np.float64)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        x0 = rng.uniform(50, N_POINTS - 50, (m, 3, 1))
        s = (1.0 / (1.0 + ((x - x0) / 4.0) ** 2)).sum(axis=1)
        s += rng.uniform(-0.025, 0.025, s.shape)
        yield (s / s.max(axis=1, keepdims=True)).astype(np.float32)


def rss_mode(n: int) -> dict[str, Any]:
    """Peak RSS of predicting and explaining ``n`` spectra streamed in chunks of 1024."""
    import torch

    from ramancam import explain
    from ramancam.model import CNNConfig, RamanCNN

    torch.manual_seed(SEED)
    model = RamanCNN(CNNConfig(N_POINTS, N_CLASSES)).eval()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    preds = np.empty(n, dtype=np.int64)
    done = 0
    for chunk in _simulated_chunks(n, 1024):
        proba = explain.predict_proba(model, chunk)
        pred = proba.argmax(1)
        maps = explain.fc_importance(model, chunk, pred)
        preds[done:done + len(chunk)] = pred
        done += len(chunk)
        del maps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"n": n, "peak_rss_mb": peak / 1024, "rss_after_import_mb": base / 1024,
            "seconds": time.perf_counter() - t0}


def _mixing_data(seed: int) -> tuple[Any, Any, Any, Any]:
    """The paper's mixing set from 20 simulated pure spectra (1451 points): 1,900 training
    and 1,900 test mixtures ``pure_a + r pure_b``, r in 0.1..0.5, 5 per ordered pair."""
    from ramancam.simulate import mixtures
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(seed)
    axis = np.linspace(350.0, 1800.0, N_POINTS)
    pure = np.zeros((N_CLASSES, N_POINTS))
    for i in range(N_CLASSES):
        for _ in range(int(rng.integers(5, 12))):
            x0 = rng.uniform(400, 1750)
            w = rng.uniform(6, 25)
            pure[i] += rng.uniform(0.2, 1.0) / (1 + ((axis - x0) / (w / 2)) ** 2)
    pure /= pure.max(axis=1, keepdims=True)
    sp = Spectra(pure, axis, labels=[f"aa{i:02d}" for i in range(N_CLASSES)])
    tr = mixtures(sp, rng=rng)
    te = mixtures(sp, rng=rng)

    def prep(s: Any) -> Any:
        x = s.X + rng.normal(0, 0.01, s.X.shape)
        return (x / x.max(axis=1, keepdims=True)).astype(np.float32)

    return prep(tr), tr.labels, prep(te), te.labels


#: Mixing-fit engines other than torch-plain: CNNClassifier settings beyond the protocol.
#: ``-b128`` changes the protocol (batch 128 instead of 32), to show what a larger batch buys.
MIXING_CLF = {"ramancam-fast": {}, "ramancam-bf16": {"bf16": True},
              "ramancam-bf16-b128": {"bf16": True, "batch_size": 128}}


def mixing_mode(engine: str) -> dict[str, Any]:
    """One fit of the mixing experiment: 30 epochs, batch 32 (unless the engine says
    otherwise), Adam 1e-3."""
    import torch
    from torch.nn import functional as F

    Xtr, ytr, Xte, yte = _mixing_data(SEED)
    classes, ytr_i = np.unique(ytr, return_inverse=True)
    yte_i = np.searchsorted(classes, yte)
    t0 = time.perf_counter()
    if engine == "torch-plain":
        from ramancam.model import CNNConfig

        torch.manual_seed(SEED)
        net = _torch_plain_module(CNNConfig(N_POINTS, N_CLASSES))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        Xt = torch.from_numpy(Xtr).unsqueeze(1)
        yt = torch.from_numpy(ytr_i.astype(np.int64))
        gen = torch.Generator().manual_seed(SEED)
        for _ in range(30):
            net.train()
            order = torch.randperm(len(Xt), generator=gen)
            for s in range(0, len(Xt), 32):
                b = order[s:s + 32]
                loss = F.cross_entropy(net(Xt[b]), yt[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
        fit_s = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            pred = net(torch.from_numpy(Xte).unsqueeze(1)).argmax(1).numpy()
    else:
        from ramancam.train import CNNClassifier

        if engine not in MIXING_CLF:
            raise SystemExit(f"unknown mixing engine {engine!r}")
        settings = {"epochs": 30, "lr": 1e-3, "batch_size": 32, **MIXING_CLF[engine]}
        clf = CNNClassifier(**settings, random_state=SEED)
        clf.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        pred = np.searchsorted(classes, clf.predict(Xte))
    return {"engine": engine, "fit_seconds": fit_s, "test_accuracy": float((pred == yte_i).mean()),
            "n_train": len(Xtr), "epochs": 30,
            "batch_size": MIXING_CLF.get(engine, {}).get("batch_size", 32)}


# --------------------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    if argv[0] == "--rss":
        print(json.dumps(rss_mode(int(argv[1]))), flush=True)
        return 0
    if argv[0] == "--mixing":
        print(json.dumps(mixing_mode(argv[1])), flush=True)
        return 0
    engine = argv[0]
    quick = "--quick" in argv
    cases = _keras_cases(quick) if engine == "keras" else _torch_cases(engine, quick)
    out = sys.stdout
    sys.stdout = sys.stderr  # library chatter must not corrupt the protocol
    out.write(json.dumps({"ready": list(cases)}) + "\n")
    out.flush()
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        n = cases[name]()
        dt = time.perf_counter() - t0
        f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        out.write(json.dumps({"s": dt, "n": n, "minflt": f1 - f0}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
