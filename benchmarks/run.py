"""ramancam benchmark suite (issue 6): one entry point, engines interleaved A B C A B C.

Usage::

    .venv/bin/python benchmarks/run.py            # throughput table (~4-5 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # smaller units, 3 reps (~1.5 min)
    .venv/bin/python benchmarks/run.py --all      # + peak RSS, mixing experiment, demo time

Every engine runs in its own worker process (``benchmarks/_worker.py``) so that process-wide
settings (glibc ``mallopt``, TensorFlow's thread pools) stay apart; the driver sends one case
to each worker in turn, so machine drift hits all engines alike. For each (engine, case) the
median throughput over the repetitions is reported with its min-max spread; the first run of
each case is a warm-up and is not counted.

Writes ``benchmarks/results/latest.json`` and ``benchmarks/results/latest.md`` (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "_worker.py"

# Model of the issue: 1451 points, 20 classes, 64 filters of size 8, FC 128.
L, N_CLASSES, F_, K, FC = 1451, 20, 64, 8, 128
P1, P2 = 726, 363
CONV_MACS = L * F_ * K * 1 + P1 * F_ * K * F_
FC_MACS = F_ * P2 * FC + FC * N_CLASSES
FWD_FLOP = 2 * (CONV_MACS + FC_MACS)
# Backward: weight gradients of every layer plus input gradients of all layers but the first.
TRAIN_FLOP = FWD_FLOP + 2 * FWD_FLOP - 2 * (L * F_ * K)
CONV_FLOP = 2 * CONV_MACS

ENGINES = {
    "torch-plain": "plain PyTorch: Conv1d(padding=\"same\"), NCW, glibc malloc defaults",
    "torch-module": "RamanCNN's layers run one by one (explicit padding, NCW; ramancam before "
                    "the fast path), malloc defaults",
    "torch-module+mallopt": "torch-module + ramancam._fast.tune_allocator()",
    "ramancam-fast": "ramancam as shipped: RamanCNN(x) / CNNClassifier with FastFeatures "
                     "(mallopt, NWC activations with channels-last conv, fused first block, "
                     "maximum pool) and fused Adam",
    "ramancam-fast-foreach-adam": "ramancam-fast trained with PyTorch's default (foreach) "
                                  "Adam instead of the fused kernel",
    "ramancam-fast-1thread": "ramancam-fast with torch.set_num_threads(1)",
    "ramancam-fast-bf16": "ramancam-fast with bf16 autocast (flag: predict --bf16, "
                          "train --bf16; changes numerics)",
    "ramancam-fast-passive": "ramancam-fast with OMP_WAIT_POLICY=PASSIVE (no spin-waiting)",
    "keras": "Keras 3 / TensorFlow CPU: tf.function train step and call",
}
CASE_LABEL = {
    "train32": "training, batch 32",
    "train128": "training, batch 128",
    "infer256": "inference, batch 256",
    "infer256_nograd": "inference, batch 256, no_grad instead of inference_mode",
    "conv256": "conv blocks only, inference, batch 256",
    "fc_all": "FC-importance maps, all 20 classes",
    "fc_pred": "FC-importance map, predicted class (incl. the prediction)",
    "gradcam_all": "Grad-CAM maps, all 20 classes",
    "fc_autograd_loop": "FC-importance, per-class autograd loop (Eq. 8 literally), all classes",
    "captum_gradcam_loop": "captum LayerGradCam, one call per class, all classes",
    "sgemm": "torch SGEMM 1024^3 (matrix-multiply peak)",
}


def _keras_available() -> bool:
    probe = "import importlib.util as u,sys; sys.exit(0 if u.find_spec('tensorflow') else 1)"
    return subprocess.run([sys.executable, "-c", probe]).returncode == 0


class Worker:
    def __init__(self, engine: str, quick: bool) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
        if engine.endswith("-passive"):
            # Read by libgomp when torch loads it: sleeping instead of spinning between
            # parallel regions matters when other processes want the same cores.
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        self.engine = engine
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), engine, *(["--quick"] if quick else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env, cwd=ROOT)
        self.cases: list[str] = self._read()["ready"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker {self.engine} died (rerun it alone: "
                               f"{sys.executable} {WORKER} {self.engine})")
        return dict(json.loads(line))

    def run(self, case: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(case + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _median(v: list[float]) -> float:
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def throughput(engines: list[str], reps: int, quick: bool) -> dict[str, Any]:
    workers = [Worker(e, quick) for e in engines]
    try:
        cases = []
        for w in workers:
            cases += [c for c in w.cases if c not in cases]
        raw: dict[str, dict[str, list[dict[str, Any]]]] = {w.engine: {} for w in workers}
        for rep in range(reps + 1):  # rep 0 = warm-up
            for case in cases:
                for w in workers:  # interleaved: engine A, B, C on this case, then the next
                    if case in w.cases:
                        r = w.run(case)
                        if rep:
                            raw[w.engine].setdefault(case, []).append(r)
            print(f"  rep {rep}/{reps} done", file=sys.stderr, flush=True)
    finally:
        for w in workers:
            w.close()
    out: dict[str, Any] = {}
    for engine, per_case in raw.items():
        for case, runs in per_case.items():
            rates = [r["n"] / r["s"] for r in runs]
            out.setdefault(engine, {})[case] = {
                "median": _median(rates), "min": min(rates), "max": max(rates),
                "runs": len(rates), "minflt_per_unit": _median([r["minflt"] for r in runs]),
                "n_per_unit": runs[0]["n"]}
    return out


def _one_json(args: list[str], timeout: float) -> dict[str, Any]:
    res = subprocess.run([sys.executable, str(WORKER), *args], capture_output=True,
                         text=True, timeout=timeout, cwd=ROOT)
    if res.returncode:
        return {"error": res.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


MIXING_ENGINES = ("torch-plain", "ramancam-fast", "ramancam-bf16")
#: Mixing engines compared with torch-plain: short label (ratio name), description.
MIXING_SPEEDUPS = {"ramancam-fast": ("fast", "ramancam fp32"),
                   "ramancam-bf16": ("bf16", "ramancam --bf16"),
                   "ramancam-bf16-b128": ("bf16 batch 128", "ramancam --bf16 --batch-size 128")}


def mixing(reps: int = 2, engines: tuple[str, ...] = MIXING_ENGINES) -> list[dict[str, Any]]:
    """The mixing experiment, one fit per process, engines alternated A B B A ...

    A fit takes minutes, too long to interleave step by step. The fits run one at a time (two
    side by side would each get one core while both start two threads, which measures the
    contention, not the engines), in the order A B B A so that a slow drift hits both alike;
    each engine's median over ``reps`` fits is reported.
    """
    order: list[str] = []
    for r in range(reps):
        order += list(engines) if r % 2 == 0 else list(reversed(engines))
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for e in order:
        print(f"  mixing fit: {e}", file=sys.stderr, flush=True)
        try:
            runs[e].append(_one_json(["--mixing", e], 3600))
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            runs[e].append({"engine": e, "error": [str(exc)]})
    out = []
    for e in engines:
        ok = [r for r in runs[e] if "error" not in r]
        if not ok:
            out.append(runs[e][0])
            continue
        secs = sorted(r["fit_seconds"] for r in ok)
        out.append({**ok[0], "fit_seconds": float(secs[len(secs) // 2]) if len(secs) % 2
                    else float(sum(secs[len(secs) // 2 - 1:len(secs) // 2 + 1]) / 2),
                    "fit_seconds_all": [r["fit_seconds"] for r in ok],
                    "test_accuracy_all": [r["test_accuracy"] for r in ok]})
    return out


def demo_time() -> dict[str, Any]:
    exe = Path(sys.executable).with_name("ramancam")
    cmd = [str(exe) if exe.exists() else shutil.which("ramancam") or "ramancam", "demo"]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = subprocess.run([*cmd, "--out", str(Path(tmp) / "demo")], capture_output=True,
                             text=True, timeout=1800, cwd=tmp)
        dt = time.perf_counter() - t0
    return {"seconds": dt, "returncode": res.returncode,
            "command": "ramancam demo --out DIR",
            **({"error": res.stderr.strip().splitlines()[-1:]} if res.returncode else {})}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import torch

    info = {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "load_average_start": os.getloadavg()}
    try:
        import importlib.metadata as md

        info["tensorflow"] = md.version("tensorflow-cpu")
        info["keras"] = md.version("keras")
    except Exception:  # optional peer: leave it out of the header
        pass
    return info


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def markdown(res: dict[str, Any]) -> str:
    tp = res["throughput"]
    if not tp:
        return _extras_markdown(res)
    # The peak is the best SGEMM repetition: what the machine can do. (Its median is pulled
    # down by neighbours on a shared machine, which would flatter every "% of peak".)
    sgemm = tp.get("torch-plain", {}).get("sgemm", {}).get("max", float("nan"))
    peak = sgemm * 2 * 1024**3 / 1e9
    lines = [f"Machine: {res['machine']['cpu']}, {res['machine']['cores']} cores; "
             f"torch {res['machine']['torch']}"
             + (f", TensorFlow {res['machine']['tensorflow']} / Keras {res['machine']['keras']}"
                if "keras" in res["machine"] else "")
             + f"; load average at start {res['machine']['load_average_start'][0]:.1f}.",
             f"Command: `{res['command']}` ({res['reps']} interleaved repetitions after one "
             "warm-up; median, [min-max]).",
             "",
             f"Model: {L} points, {N_CLASSES} classes, {F_} filters of size {K}, FC {FC}: "
             f"{FWD_FLOP / 1e6:.1f} MFLOP per spectrum forward ({CONV_FLOP / 1e6:.1f} in the "
             f"convolutions), {TRAIN_FLOP / 1e6:.1f} MFLOP per training step and spectrum. "
             f"Matrix-multiply peak (torch SGEMM 1024^3, best repetition): {peak:.0f} "
             "GFLOP/s.",
             "",
             "| case | engine | spectra/s (median) | [min-max] | GFLOP/s | % of peak "
             "| page faults / unit |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    cases = list(CASE_LABEL)
    for case in cases:
        for engine in ENGINES:
            r = tp.get(engine, {}).get(case)
            if not r:
                continue
            flop = {"train32": TRAIN_FLOP, "train128": TRAIN_FLOP, "infer256": FWD_FLOP,
                    "infer256_nograd": FWD_FLOP, "conv256": CONV_FLOP}.get(case)
            gf = r["median"] * flop / 1e9 if flop else None
            if case == "sgemm":
                g = 2 * 1024**3 / 1e9
                rate = f"{r['median'] * g:.0f} GFLOP/s"
                spread = f"[{r['min'] * g:.0f}-{r['max'] * g:.0f}]"
                gf = None
            else:
                rate = _fmt(r["median"])
                spread = f"[{_fmt(r['min'])}-{_fmt(r['max'])}]"
            lines.append(
                f"| {CASE_LABEL[case]} | {engine} | {rate} | {spread} | "
                f"{'' if gf is None else f'{gf:.0f}'} | "
                f"{'' if gf is None else f'{100 * gf / peak:.0f} %'} | "
                f"{r['minflt_per_unit']:,.0f} |")
    lines += ["", "Ratios (same run):", ""]
    for name, num, den in res["ratios_spec"]:
        v = res["ratios"].get(name)
        if v is not None:
            lines.append(f"- {name}: **{v:.2f}** ({num} / {den})")
    lines += _extras_lines(res)
    lines += ["", "Engines:", ""] + [f"- {k}: {v}" for k, v in ENGINES.items()
                                     if k in res["throughput"]]
    return "\n".join(lines) + "\n"


def _extras_markdown(res: dict[str, Any]) -> str:
    head = [f"Machine: {res['machine']['cpu']}, {res['machine']['cores']} cores; "
            f"load average at start {res['machine']['load_average_start'][0]:.1f}.",
            f"Command: `{res['command']}`."]
    return "\n".join(head + _extras_lines(res)) + "\n"


def _extras_lines(res: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if res.get("rss"):
        lines += ["", "Peak RSS, predict + FC-importance map (predicted class) of simulated "
                  "spectra streamed in chunks of 1,024 (one process each):", "",
                  "| spectra | peak RSS (MB) | RSS after imports (MB) | seconds |",
                  "| --- | --- | --- | --- |"]
        for r in res["rss"]:
            if "error" in r:
                lines.append(f"| ? | error: {r['error']} | | |")
            else:
                lines.append(f"| {r['n']:,} | {r['peak_rss_mb']:.0f} | "
                             f"{r['rss_after_import_mb']:.0f} | {r['seconds']:.1f} |")
    if res.get("mixing"):
        lines += ["", "Mixing experiment (1,900 simulated mixtures x 1,451 points, 30 epochs, "
                  "Adam 1e-3; test = 1,900 fresh mixtures; fits one at a time, engines in "
                  "order and then in reverse order, median per engine):", "",
                  "| engine | batch | fit (s): median (each) | test accuracy |",
                  "| --- | --- | --- | --- |"]
        for r in res["mixing"]:
            if "error" in r:
                lines.append(f"| {r.get('engine', '?')} | | error: {r['error']} | |")
            else:
                every = ", ".join(f"{x:.1f}" for x in r.get("fit_seconds_all", []))
                accs = ", ".join(f"{x:.4f}" for x in r.get("test_accuracy_all", []))
                lines.append(f"| {r['engine']} | {r.get('batch_size', 32)} | "
                             f"{r['fit_seconds']:.1f} ({every}) | {accs} |")
    if res.get("demo"):
        d = res["demo"]
        lines += ["", f"`ramancam demo`: {d['seconds']:.1f} s (exit status {d['returncode']})."]
    if "peak RSS 10^5 / 10^4" in res.get("ratios", {}):
        lines += ["", f"Peak RSS 10^5 / 10^4: **{res['ratios']['peak RSS 10^5 / 10^4']:.2f}**"]
    for label, what in MIXING_SPEEDUPS.values():
        name = f"mixing fit speed-up, {label} / plain"
        if name in res.get("ratios", {}):
            lines += ["", f"Mixing fit speed-up, {what} / plain PyTorch: "
                      f"**{res['ratios'][name]:.2f}**"]
    return lines


RATIOS = [
    ("fast inference / Keras", "ramancam-fast infer256", "keras infer256"),
    ("fast training b128 / Keras", "ramancam-fast train128", "keras train128"),
    ("fast training b32 / Keras", "ramancam-fast train32", "keras train32"),
    ("fast inference / plain PyTorch", "ramancam-fast infer256", "torch-plain infer256"),
    ("fast training b128 / plain PyTorch", "ramancam-fast train128", "torch-plain train128"),
    ("fast training b32 / plain PyTorch", "ramancam-fast train32", "torch-plain train32"),
    ("mallopt alone, inference (module+mallopt / module)", "torch-module+mallopt infer256",
     "torch-module infer256"),
    ("mallopt alone, training b128", "torch-module+mallopt train128", "torch-module train128"),
    ("explicit padding, inference (module / plain)", "torch-module infer256",
     "torch-plain infer256"),
    ("layout + fused first block, inference (fast / module+mallopt)",
     "ramancam-fast infer256", "torch-module+mallopt infer256"),
    ("layout + fused first block, training b128 (fast-foreach-adam / module+mallopt)",
     "ramancam-fast-foreach-adam train128", "torch-module+mallopt train128"),
    ("layout + fused first block, training b32 (fast-foreach-adam / module+mallopt)",
     "ramancam-fast-foreach-adam train32", "torch-module+mallopt train32"),
    ("fused Adam, training b32 (fast / fast-foreach-adam)", "ramancam-fast train32",
     "ramancam-fast-foreach-adam train32"),
    ("fused Adam, training b128 (fast / fast-foreach-adam)", "ramancam-fast train128",
     "ramancam-fast-foreach-adam train128"),
    ("inference_mode vs no_grad (module)", "torch-module infer256",
     "torch-module infer256_nograd"),
    ("bf16 inference / fp32 fast", "ramancam-fast-bf16 infer256", "ramancam-fast infer256"),
    ("bf16 training b128 / fp32 fast", "ramancam-fast-bf16 train128", "ramancam-fast train128"),
    ("bf16 training b32 / fp32 fast", "ramancam-fast-bf16 train32", "ramancam-fast train32"),
    ("bf16 inference / Keras", "ramancam-fast-bf16 infer256", "keras infer256"),
    ("bf16 training b128 / Keras", "ramancam-fast-bf16 train128", "keras train128"),
    ("bf16 training b32 / Keras", "ramancam-fast-bf16 train32", "keras train32"),
    ("1 thread / 2 threads, inference", "ramancam-fast-1thread infer256",
     "ramancam-fast infer256"),
    ("1 thread / 2 threads, training b128", "ramancam-fast-1thread train128",
     "ramancam-fast train128"),
    ("OMP passive / default, inference", "ramancam-fast-passive infer256",
     "ramancam-fast infer256"),
    ("OMP passive / default, training b128", "ramancam-fast-passive train128",
     "ramancam-fast train128"),
    ("all-class FC maps (fast) / fast inference", "ramancam-fast fc_all",
     "ramancam-fast infer256"),
    ("all-class FC maps (fast) / per-class autograd loop", "ramancam-fast fc_all",
     "ramancam-fast fc_autograd_loop"),
    ("all-class FC maps, plain module / its inference", "torch-module fc_all",
     "torch-module infer256"),
    ("all-class Grad-CAM (fast) / captum LayerGradCam loop", "ramancam-fast gradcam_all",
     "ramancam-fast captum_gradcam_loop"),
]


def ratios(tp: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, num, den in RATIOS:
        (e1, c1), (e2, c2) = num.split(), den.split()
        a, b = tp.get(e1, {}).get(c1), tp.get(e2, {}).get(c2)
        if a and b:
            out[name] = a["median"] / b["median"]
    return out


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        from ramancam.io import atomic_write
    except ImportError:  # pragma: no cover - io not there
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
        return
    with atomic_write(path, "w") as fh:
        fh.write(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="half-size units, 3 repetitions")
    p.add_argument("--reps", type=int, help="repetitions after the warm-up (default 5, quick 3)")
    p.add_argument("--engines", help="comma-separated subset of: " + ", ".join(ENGINES))
    p.add_argument("--no-keras", action="store_true", help="leave the Keras peer out")
    p.add_argument("--rss", action="store_true", help="peak RSS at 10^4 and 10^5 spectra")
    p.add_argument("--mixing", action="store_true",
                   help="mixing experiment wall time: plain PyTorch vs ramancam fp32 and "
                        "bf16, two fits each (~9 min)")
    p.add_argument("--mixing-engines", default=",".join(MIXING_ENGINES),
                   help="comma-separated mixing engines (default %(default)s; also "
                        "ramancam-bf16-b128: batch 128, a different protocol)")
    p.add_argument("--demo", action="store_true", help="time `ramancam demo`")
    p.add_argument("--render", type=Path, metavar="JSON",
                   help="only rewrite the markdown of an earlier run from its JSON file "
                        "(into --out, with the JSON's name)")
    p.add_argument("--all", action="store_true", help="--rss --mixing --demo")
    p.add_argument("--no-throughput", action="store_true",
                   help="skip the throughput table (with --rss/--mixing/--demo)")
    p.add_argument("--out", type=Path, default=HERE / "results",
                   help="folder for the results (default benchmarks/results)")
    p.add_argument("--name", default="latest", help="results file stem (default latest)")
    args = p.parse_args(argv)
    if args.render:
        md = markdown(json.loads(args.render.read_text()))
        _atomic_text(args.out / args.render.with_suffix(".md").name, md)
        print(md)
        return 0
    reps = args.reps or (3 if args.quick else 5)
    engines = args.engines.split(",") if args.engines else list(ENGINES)
    unknown = set(engines) - set(ENGINES)
    if unknown:
        p.error(f"unknown engines {sorted(unknown)}")
    notes = []
    if "keras" in engines and (args.no_keras or not _keras_available()):
        engines.remove("keras")
        if not args.no_keras:
            notes.append("TensorFlow is not installed: Keras peer left out "
                         "(pip install tensorflow-cpu to include it)")
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    res: dict[str, Any] = {"command": command.strip(), "machine": machine(), "reps": reps,
                           "quick": args.quick, "notes": notes,
                           "flop": {"forward": FWD_FLOP, "conv": CONV_FLOP,
                                    "train_step": TRAIN_FLOP},
                           "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    t0 = time.perf_counter()
    print(f"throughput: {', '.join(engines)}", file=sys.stderr)
    res["throughput"] = {} if args.no_throughput else throughput(engines, reps, args.quick)
    res["ratios"] = ratios(res["throughput"])
    res["ratios_spec"] = RATIOS
    if args.rss or args.all:
        print("peak RSS ...", file=sys.stderr)
        res["rss"] = [_one_json(["--rss", str(n)], 1800) for n in (10_000, 100_000)]
        if all("error" not in r for r in res["rss"]):
            res["ratios"]["peak RSS 10^5 / 10^4"] = (res["rss"][1]["peak_rss_mb"]
                                                     / res["rss"][0]["peak_rss_mb"])
            res["ratios_spec"] = [*RATIOS, ("peak RSS 10^5 / 10^4", "10^5", "10^4")]
    if args.mixing or args.all:
        print("mixing experiment ...", file=sys.stderr)
        res["mixing"] = mixing(engines=tuple(args.mixing_engines.split(",")))
        m = {r.get("engine"): r for r in res["mixing"] if "error" not in r}
        for engine, (label, _) in MIXING_SPEEDUPS.items():
            if "torch-plain" in m and engine in m:
                name = f"mixing fit speed-up, {label} / plain"
                res["ratios"][name] = m["torch-plain"]["fit_seconds"] / m[engine]["fit_seconds"]
                res["ratios_spec"] = [*res["ratios_spec"],
                                      (name, "plain seconds", f"{label} seconds")]
    if args.demo or args.all:
        print("ramancam demo ...", file=sys.stderr)
        res["demo"] = demo_time()
    res["machine"]["load_average_end"] = os.getloadavg()
    res["seconds"] = time.perf_counter() - t0
    md = markdown(res)
    _atomic_text(args.out / f"{args.name}.json", json.dumps(res, indent=1) + "\n")
    _atomic_text(args.out / f"{args.name}.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
