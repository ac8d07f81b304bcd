"""Benchmarks of the explanation maps (issue 3).

Two sub-commands:

``speed`` (default)
    Maps per second of the FC-importance map for all classes in closed form
    (:func:`ramancam.explain.fc_importance`) against the per-class autograd loop that follows
    Eq. 8 literally (:func:`ramancam.explain.fc_importance_autograd`) and captum's
    ``LayerGradCam`` called once per class; closed-form Grad-CAM for all classes is timed too.
    All on the paper-sized model (1451 points, 20 classes, 64 filters of size 8, FC 128,
    random weights), interleaved (every repeat runs each method once, in turn) so that load
    from other processes hits all methods alike. Prints a markdown table, writes JSON.

``quality``
    The done-when check: the common-component simulation (METHOD.md 4; 100 training spectra
    per class, Adam 1e-4, 100 epochs, batch 32, seed 0), then the pointing game on the class's
    defined peak and the share of positive map mass at the 3 random peaks, for the
    FC-importance map and Grad-CAM, on a fresh test set (50 per class, seed 1), each map for
    the spectrum's true class, logit score.

Examples::

    python benchmarks/bench_maps.py speed --n-spectra 64 --repeats 5 --json bench_maps.json
    python benchmarks/bench_maps.py quality --json quality.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

import numpy as np


def _machine(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["load_avg_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    return info


def speed(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from ramancam.explain import captum_map, fc_importance, fc_importance_autograd, grad_cam
    from ramancam.model import CNNConfig, RamanCNN

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = CNNConfig(n_points=1451, n_classes=20, n_filters=64, filter_size=8, fc_width=128)
    model = RamanCNN(cfg).to(args.device).eval()
    rng = np.random.default_rng(0)
    X = rng.random((args.n_spectra, cfg.n_points)).astype(np.float32)
    n_maps = args.n_spectra * cfg.n_classes

    def sync() -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    methods = {
        "fc_importance, all classes (closed form)":
            lambda: fc_importance(model, X, batch_size=args.batch_size),
        "grad_cam, all classes (closed form)":
            lambda: grad_cam(model, X, batch_size=args.batch_size),
        "fc_importance_autograd (Eq. 8, one backward per class)":
            lambda: fc_importance_autograd(model, X, batch_size=args.autograd_batch),
        "captum LayerGradCam, loop over classes":
            lambda: captum_map(model, X, method="layergradcam", batch_size=args.batch_size),
    }
    # warm-up (first calls allocate, load kernels) and the agreement checks
    out = {name: f() for name, f in methods.items()}
    fast, ref = out["fc_importance, all classes (closed form)"], \
        out["fc_importance_autograd (Eq. 8, one backward per class)"]
    agree_fc = float(np.abs(fast - ref).max() / np.abs(ref).max())
    cam, cap = out["grad_cam, all classes (closed form)"], \
        out["captum LayerGradCam, loop over classes"]
    agree_cam = float(np.abs(cam - cap).max() / max(np.abs(cap).max(), 1e-30))
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, f in methods.items():
            sync()
            t0 = time.perf_counter()
            f()
            sync()
            times[name].append(time.perf_counter() - t0)
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"method": name, "median_s": med, "min_s": min(ts),
                     "maps_per_s": n_maps / med, "maps_per_s_best": n_maps / min(ts),
                     "times_s": ts})
    base = rows[0]["maps_per_s"]
    for r in rows:
        r["closed_form_speedup"] = base / r["maps_per_s"]
    return {
        "benchmark": "speed",
        "model": cfg.to_dict(),
        "n_spectra": args.n_spectra,
        "n_maps_per_call": n_maps,
        "repeats": args.repeats,
        "batch_size": args.batch_size,
        "autograd_batch": args.autograd_batch,
        "max_rel_diff_fc_vs_autograd": agree_fc,
        "max_rel_diff_gradcam_vs_captum": agree_cam,
        "machine": _machine(args.device),
        "results": rows,
    }


def speed_table(res: dict[str, Any]) -> str:
    lines = [f"{res['n_spectra']} spectra x {res['model']['n_classes']} classes = "
             f"{res['n_maps_per_call']} maps per call; median of {res['repeats']} interleaved "
             "repeats",
             "",
             "| method | median s / call | maps / s | closed form is x faster |",
             "| --- | ---: | ---: | ---: |"]
    for r in res["results"]:
        lines.append(f"| {r['method']} | {r['median_s']:.3f} | {r['maps_per_s']:.1f} | "
                     f"{r['closed_form_speedup']:.1f} |")
    lines.append("")
    lines.append(f"max relative difference, closed form vs autograd (Eq. 8): "
                 f"{res['max_rel_diff_fc_vs_autograd']:.1e}; Grad-CAM vs captum: "
                 f"{res['max_rel_diff_gradcam_vs_captum']:.1e}")
    return "\n".join(lines)


def quality(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from ramancam.simulate import common_component_set
    from ramancam.train import CNNClassifier

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    train = common_component_set(args.n_per_class, rng=args.seed)
    test = common_component_set(50, rng=args.seed + 1)
    clf = CNNClassifier(epochs=args.epochs, lr=args.lr, batch_size=32,
                        random_state=args.seed, device=args.device)
    clf.fit(train.X, train.labels)
    fit_s = time.perf_counter() - t0
    acc = float(clf.score(test.X, test.labels))
    target = np.searchsorted(clf.classes_, test.labels)
    res: dict[str, Any] = {"benchmark": "quality", "n_per_class": args.n_per_class,
                           "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
                           "test_accuracy": acc, "fit_s": fit_s,
                           "tol": args.tol, "window": args.window,
                           "machine": _machine(args.device), "maps": {}}
    res["maps"] = score_maps(clf.module_, test, target, tol=args.tol, window=args.window)
    return res


def score_maps(model: Any, test: Any, target: Any, *, tol: float, window: float
               ) -> dict[str, dict[str, float]]:
    """Pointing game and mass shares of the FC-importance map and Grad-CAM on a test set.

    Random peaks closer than ``2 * window`` to the class peak are left out of the random-peak
    scores (their windows would overlap the class peak's).
    """
    from ramancam.explain import fc_importance, grad_cam
    from ramancam.metrics import peak_mass, pointing_game

    axis = test.wavenumbers
    cls = test.meta["peak_position"].astype(float)
    rnd = np.column_stack([test.meta[f"random_peak_{j}"].astype(float) for j in (1, 2, 3)])
    rnd = np.where(np.abs(rnd - cls[:, None]) < 2 * window, np.nan, rnd)
    out = {}
    for name, fn in (("fc_importance", fc_importance), ("grad_cam", grad_cam)):
        maps = fn(model, test.X, target)
        out[name] = {
            "pointing_class_peak": pointing_game(maps, axis, cls, tol),
            "pointing_random_peaks": pointing_game(maps, axis, rnd, tol),
            "mass_class_peak": float(np.nanmean(peak_mass(maps, axis, cls, window))),
            "mass_random_peaks": float(np.nanmean(peak_mass(maps, axis, rnd, window))),
            # the same with half the window (+-FWHM for the default 8 = 2 FWHM)
            "mass_class_peak_half_window":
                float(np.nanmean(peak_mass(maps, axis, cls, window / 2))),
            "mass_random_peaks_half_window":
                float(np.nanmean(peak_mass(maps, axis, rnd, window / 2))),
        }
    return out


def quality_table(res: dict[str, Any]) -> str:
    lines = [f"test accuracy {res['test_accuracy']:.3f}; tol = window = {res['window']:g} "
             "channels",
             "",
             "| map | pointing game, class peak | positive mass at class peak | "
             "positive mass at the 3 random peaks | pointing game, random peaks | "
             "mass at class / random peaks, half window |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in res["maps"].items():
        lines.append(f"| {name} | {m['pointing_class_peak']:.2f} | {m['mass_class_peak']:.3f} "
                     f"| {m['mass_random_peaks']:.3f} | {m['pointing_random_peaks']:.2f} | "
                     f"{m['mass_class_peak_half_window']:.3f} / "
                     f"{m['mass_random_peaks_half_window']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="which")
    s = sub.add_parser("speed", help="maps/s: closed form vs autograd vs captum")
    s.add_argument("--n-spectra", type=int, default=64)
    s.add_argument("--repeats", type=int, default=5)
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--autograd-batch", type=int, default=16)
    q = sub.add_parser("quality", help="pointing game / mass share on the common-component set")
    q.add_argument("--n-per-class", type=int, default=100)
    q.add_argument("--epochs", type=int, default=100)
    q.add_argument("--lr", type=float, default=1e-4)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--tol", type=float, default=8.0, help="pointing tolerance (channels)")
    q.add_argument("--window", type=float, default=8.0, help="mass window half-width")
    for sp in (s, q):
        sp.add_argument("--device", default="cpu")
        sp.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
        sp.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = p.parse_args(argv)
    if args.which is None:
        args = p.parse_args(["speed", *(argv or sys.argv[1:])])
    res = speed(args) if args.which == "speed" else quality(args)
    table = speed_table(res) if args.which == "speed" else quality_table(res)
    print(table)
    print(f"\nmachine: {json.dumps(res['machine'])}")
    if args.json:
        from ramancam.io import atomic_write

        with atomic_write(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
