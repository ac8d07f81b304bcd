"""Accuracy levers for the default CNN (issue 13): which allowed change moves test accuracy?

Usage::

    nice -n 10 .venv/bin/python benchmarks/levers.py --levers default,aug,k16 --seeds 0
    .venv/bin/python benchmarks/levers.py --quick --out /tmp/levers.json   # smoke test

Every fit goes through ``ramancam train``'s code path: the train sub-command's own parser
(labels and split only, so the default recipe ``auto``, grid and ``--preset tuned``),
:func:`ramancam.cli._common.prepare_labelled`, :func:`ramancam.cli.train.estimator_params`
and :func:`ramancam.train.make_splits`; then :class:`ramancam.train.CNNClassifier` with one
option changed per lever (novelty off: it does not touch the predictions). Levers:

* ``default``: the defaults as they are;
* ``ens3``: mean softmax of 3 default networks (seed s uses networks 3s, 3s+1, 3s+2, so
  seed 0 reuses the default fits of seeds 0, 1, 2); fit cost 3x;
* ``aug``: physics augmentation (shift 3 points = 3 cm-1, baseline 0.05, scale 0.1,
  noise 0.01);
* ``k16``: kernel 16 instead of 8; ``wd``: weight decay 1e-4; ``ep200``: 200 epochs;
  ``lr3e-4``: learning rate 3e-4;
* ``swa``: stochastic weight averaging of the weights after each of the last 50 epochs
  (``torch.optim.swa_utils.AveragedModel``, here only; the network has no batch norm);
* ``lr1e-3``, ``dropout0.2``, ``blocks3`` (3 conv blocks), ``batch16``, ``fc32`` (FC1 of 32),
  ``leaky`` (leaky ReLU after FC1), ``no-centre`` (inputs not centred): network and training
  settings; ``pca10`` / ``pca20`` / ``pca40`` / ``pca80`` / ``sg21``: each fold's inputs
  denoised first (projection on the training part's first 10, 20, 40 or 80 principal
  components; 21-point Savitzky-Golay smoothing); ``deriv25``: the network sees each
  spectrum's first derivative (25-point, order-2 Savitzky-Golay, the default novelty
  score's comparison) instead of the spectrum; ``dual25``: the first convolution sees two
  channels, the spectrum and that derivative (a fixed convolution inside the network,
  scaled to unit sd on the training part); ``aug+pca20``: ``pca20``'s inputs with
  ``aug``'s augmentation; ``k32+pca20``: ``pca20``'s inputs into ``k32``'s network;
  ``nap2`` / ``nap4``: the training part's 2 or 4 directions of largest within-class spread
  removed from each fold's inputs (the novelty score ``hqi-nap``'s projection);
  ``white5`` / ``white10`` / ``white20``: each fold's inputs projected on the training
  part's first 5, 10 or 20 principal components with their scores standardised (every
  component the same sd, the root mean square of theirs), mapped back onto the spectral
  axis: what a factor-analysis MLP's standardised factor scores give it; ``fa10``: those
  scores themselves (factor analysis with 10 factors on the training part, scores
  standardised), mapped back along the unit-length loadings at ``white10``'s overall size;
  ``mix``: same-class mixing, each fold's training part doubled with as many convex
  mixtures ``t a + (1 - t) b`` of two random spectra of one class (``t`` uniform in 0-1,
  classes in proportion to their size); ``mix+aug``: the same with ``aug``'s augmentation;
  ``smooth0.1``: label smoothing 0.1 in the training loss (the validation loss too);
  ``smooth0.1+aug``: with ``aug``'s augmentation; ``smooth0.02``: label smoothing 0.02;
  ``auto-smooth``: ``auto``'s inner decision, but between ``aug`` and ``smooth0.1`` (every
  fit without augmentation is trained with label smoothing 0.1); ``auto3``: ``auto``'s
  decision pooled over three inner 80/20 splits (other seeds) instead of one;
* ``aug2`` (twice ``aug``'s amplitudes), ``aug-shift`` / ``-noise`` / ``-scale`` /
  ``-baseline`` (one part of ``aug`` alone), ``aug-no-noise`` (``aug`` without the noise),
  ``aug+lr3e-4``, ``aug+ep200``: variants and combinations;
* ``pretrain``: the convolution layers start from a network pretrained on simulated
  spectra (:func:`simulated_library`: 24 classes of random Lorentzian bands on the set's
  grid length, in near-twin pairs; no measured spectrum), then everything is trained on the
  set as the default is; ``pretrain-frozen``: the same start, the convolutions kept fixed
  (only FC1 and FC2 learn). The pretraining depends only on the grid length, the network's
  shape and the seed, so it is done once per seed and cached (``--cache``).

Each fit's test probabilities are cached (``--cache``), so levers can run in separate
processes and ensembles reuse fits. Results: ``--out`` (JSON), with each single-network
row's misclassified test spectra per seed (``wrong``, by id). Sets: ``drug-mabs`` (fixed
split), ``yogurt`` and ``astragalus`` (stratified 3-fold), ``astragalus5`` (stratified
5-fold, the split of docs/realdata.md), ``microplastics`` (stratified 5-fold, as there),
``rd:<set>[:K]`` (any row of ``benchmarks/realdata.py``, e.g.
``rd:chondro-map:3``, read and split as there, K folds where given), and sets with other
recipes (``RECIPE_SETS``: e.g.
``drug-mabs-full-snv``, the whole measured range normalised by SNV; ``drug-mabs-full-raw``,
resampled only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA") or ROOT.parent / "shared" / "data")
sys.path.insert(0, str(ROOT / "benchmarks"))  # realdata, for the rd:<set> sets
SETS = {
    "drug-mabs": (DATA / "drug-mabs" / "spectra.csv.gz",
                  ["--label-col", "label", "--split-col", "split"]),
    "yogurt": (DATA / "food" / "yogurt.csv", ["--label-col", "label", "--folds", "3"]),
    "astragalus": (DATA / "food" / "astragalus.csv", ["--label-col", "label", "--folds", "3"]),
    # the split of docs/realdata.md (stratified 5-fold, folds of seed 0)
    "astragalus5": (DATA / "food" / "astragalus.csv", ["--label-col", "label", "--folds", "5"]),
    "microplastics": (DATA / "microplastics" / "spectra.csv",
                      ["--label-col", "label", "--folds", "5"]),
}
#: Sets with another recipe, applied to the raw spectra instead of the default: mostly the
#: whole measured range (at 2 cm-1, about the data's own spacing) instead of the paper's
#: 350-1800 cm-1, normalised to the maximum or by SNV; drug-mabs and astragalus with the
#: paper's end-point line, yogurt and microplastics (already baseline-corrected by their
#: source, where the line fails) with asls as ``--recipe auto`` would choose (microplastics from
#: 100 cm-1, above the laser line's edge); ``<set>-snv``: the default recipe and grid with SNV
#: instead of the maximum. Name: (set whose file, labels and split are used, baseline
#: ``paper`` / ``asls`` / ``none``, grid, normalisation or ``none``); built by
#: :func:`recipe_of`.
RECIPE_SETS: dict[str, tuple[str, str, tuple[float, float, float], str]] = {
    "drug-mabs-full-max": ("drug-mabs", "paper", (401, 3998, 2), "max"),
    "drug-mabs-full-snv": ("drug-mabs", "paper", (401, 3998, 2), "snv"),
    "drug-mabs-full-nobase": ("drug-mabs", "none", (401, 3998, 2), "max"),
    "drug-mabs-full-raw": ("drug-mabs", "none", (401, 3998, 2), "none"),
    "drug-mabs-raw": ("drug-mabs", "none", (401, 1800, 1), "none"),
    "microplastics-full-raw": ("microplastics", "none", (100, 3680, 2), "none"),
    "astragalus5-full-raw": ("astragalus5", "none", (100, 4278, 2), "none"),
    "drug-mabs-snv": ("drug-mabs", "paper", (401, 1800, 1), "snv"),
    "astragalus5-full-snv": ("astragalus5", "paper", (100, 4278, 2), "snv"),
    "yogurt-full-snv": ("yogurt", "asls", (51, 3400, 2), "snv"),
    "microplastics-full-snv": ("microplastics", "asls", (100, 3680, 2), "snv"),
    "astragalus5-snv": ("astragalus5", "paper", (350, 1800, 1), "snv"),
    "yogurt-snv": ("yogurt", "asls", (350, 1800, 1), "snv"),
    "microplastics-snv": ("microplastics", "asls", (350, 1800, 1), "snv"),
}
for _name, (_base, *_recipe) in RECIPE_SETS.items():
    SETS[_name] = SETS[_base]


def recipe_of(name: str) -> Any:
    """The recipe of ``RECIPE_SETS[name]``, from the package's own recipe constructors."""
    from ramancam.cli._common import with_normalization
    from ramancam.preprocess import Recipe, baseline_recipe, paper_recipe

    _, baseline, grid, norm = RECIPE_SETS[name]
    if baseline == "asls":
        recipe = baseline_recipe("asls", grid=grid)
    else:
        recipe = paper_recipe(grid=grid)
        if baseline == "none":
            recipe = Recipe([st for st in recipe.steps if st.name != "linear_baseline"])
    if norm == "none":
        return Recipe([st for st in recipe.steps if st.name != "normalize"])
    return with_normalization(recipe, norm)


LEVERS: dict[str, dict[str, Any]] = {
    "default": {},
    "ens3": {},
    "aug": {"augment_shift": 3, "augment_baseline": 0.05, "augment_scale": 0.1,
            "augment_noise": 0.01},
    "k16": {"filter_size": 16},
    "wd": {"weight_decay": 1e-4},
    "ep200": {"epochs": 200},
    "lr3e-4": {"lr": 3e-4},
    "swa": {},
    # combinations and variants of the augmentation, measured after it helped
    "aug2": {"augment_shift": 6, "augment_baseline": 0.1, "augment_scale": 0.2,
             "augment_noise": 0.02},
    "aug-shift": {"augment_shift": 3},
    "aug-noise": {"augment_noise": 0.01},
    "aug-scale": {"augment_scale": 0.1},
    "aug-baseline": {"augment_baseline": 0.05},
    "aug-no-noise": {"augment_shift": 3, "augment_baseline": 0.05, "augment_scale": 0.1},
    "aug+lr3e-4": {"augment_shift": 3, "augment_baseline": 0.05, "augment_scale": 0.1,
                   "augment_noise": 0.01, "lr": 3e-4},
    "aug+ep200": {"augment_shift": 3, "augment_baseline": 0.05, "augment_scale": 0.1,
                  "augment_noise": 0.01, "epochs": 200},
    # train's --augment auto: the augmentation `aug` chosen or not on an inner 80/20 split
    "auto": {},
    # the older 32 filters x 32 network, alone and with the augmentation
    "k32": {"n_filters": 32, "filter_size": 32},
    "k32+aug": {},
    # per-point autoscaling of the inputs instead of one common scale (script only)
    "std": {},
    # the recipe's normalisation step changed (NORM_LEVERS), the network unchanged
    "norm-vector": {},
    "norm-area": {},
    # network and training settings measured on astragalus (the CNN behind PCA + SVM there)
    "lr1e-3": {"lr": 1e-3},
    "dropout0.2": {"dropout": 0.2},
    "blocks3": {"n_blocks": 3},
    "batch16": {"batch_size": 16},
    "fc32": {"fc_width": 32},
    "leaky": {"fc_activation": "leaky"},
    "no-centre": {"input_scaling": "none"},
    # the inputs denoised before the network (INPUT_LEVERS, per fold, script only)
    "pca10": {},
    "pca20": {},
    "pca40": {},
    "pca80": {},
    # the training part's top 2 / 4 within-class directions projected out of the inputs
    # (NAP_LEVERS, per fold, script only: the novelty score hqi-nap's projection)
    "nap2": {},
    "nap4": {},
    "sg21": {},
    "aug+pca20": {},  # aug's settings, set below
    "k32+pca20": {},  # k32's network on pca20's inputs, set below
    "deriv25": {},  # the inputs' Savitzky-Golay first derivative (25 points), script only
    # the training part's first 5, 10 or 20 principal components, their scores standardised
    "white5": {},
    "white10": {},
    "white20": {},
    # factor analysis with 10 factors (fa-mlp's inputs), its scores back on the spectral axis
    "fa10": {},
    # same-class mixing (MIX_LEVERS, per fold, script only): the training part doubled
    "mix": {},
    "mix+aug": {},  # aug's settings, set below
    "smooth0.1": {},  # label smoothing 0.1 in the training loss (script only)
    "smooth0.1+aug": {},  # aug's settings, set below
    "smooth0.02": {},
    # train's --augment auto choosing between aug and label smoothing 0.1 instead
    "auto-smooth": {},  # auto's settings, set below
    # auto's decision pooled over 3 inner splits instead of one (script only)
    "auto3": {},
    "dual25": {},  # spectrum and its 25-point derivative as two input channels, script only
    "pretrain": {},  # conv layers from a network trained on simulated spectra
    "pretrain-frozen": {},  # the same, kept fixed while FC1 and FC2 learn
}
#: Levers that transform each fold's inputs before the network (fitted on the training part);
#: ``aug+<input lever>`` adds aug's augmentation to it, ``k32+<input lever>`` k32's network.
INPUT_LEVERS = {"pca10", "pca20", "pca40", "pca80", "sg21", "deriv25", "aug+pca20",
                "k32+pca20", "white5", "white10", "white20", "fa10"}
#: Levers that change the recipe's ``normalize`` method instead of the network.
NORM_LEVERS = {"norm-vector": "vector", "norm-area": "area"}
LEVERS["auto"] = {**LEVERS["aug"], "augment_select": True}
LEVERS["auto-smooth"] = dict(LEVERS["auto"])
LEVERS["auto3"] = dict(LEVERS["auto"])
LEVERS["k32+aug"] = {**LEVERS["k32"], **LEVERS["aug"]}
LEVERS["aug+pca20"] = dict(LEVERS["aug"])
LEVERS["mix+aug"] = dict(LEVERS["aug"])
MIX_LEVERS = {"mix", "mix+aug"}
NAP_LEVERS = {"nap2": 2, "nap4": 4}
LEVERS["smooth0.1+aug"] = dict(LEVERS["aug"])
LEVERS["k32+pca20"] = dict(LEVERS["k32"])
QUICK_NET = {"n_filters": 4, "fc_width": 8, "epochs": 4}


def _swa_classifier(start: float = 0.5) -> Any:
    """CNNClassifier whose final weights are the average of the weights after each epoch
    from ``start * epochs`` on (stochastic weight averaging)."""
    from ramancam.train import CNNClassifier

    class SWAClassifier(CNNClassifier):
        def _train(self, module: Any, X: Any, y: Any, tr_idx: Any, va_idx: Any,
                   gen: Any, amounts: dict[str, Any]) -> None:
            from torch.optim.optimizer import register_optimizer_step_post_hook
            from torch.optim.swa_utils import AveragedModel

            per_epoch = -(-len(tr_idx) // int(self.batch_size))
            first = int(start * int(self.epochs)) + 1
            avg, steps = AveragedModel(module), [0]

            def hook(*_: Any) -> None:
                steps[0] += 1
                if steps[0] % per_epoch == 0 and steps[0] // per_epoch >= first:
                    avg.update_parameters(module)

            handle = register_optimizer_step_post_hook(hook)
            try:
                super()._train(module, X, y, tr_idx, va_idx, gen, amounts)
            finally:
                handle.remove()
            if int(avg.n_averaged) > 0:
                module.load_state_dict(avg.module.state_dict())
            self.swa_epochs_ = int(avg.n_averaged)

    return SWAClassifier


def _smooth_classifier(amount: float = 0.1, plain_only: bool = False) -> Any:
    """CNNClassifier trained on label-smoothed targets (``cross_entropy``'s
    ``label_smoothing``, swapped in for the duration of the training loop only); with
    ``plain_only``, only fits without augmentation are."""
    import functools

    from torch.nn import functional as F

    from ramancam.train import CNNClassifier

    class SmoothClassifier(CNNClassifier):
        def _train(self, module: Any, X: Any, y: Any, tr_idx: Any, va_idx: Any,
                   gen: Any, amounts: dict[str, Any]) -> None:
            plain = F.cross_entropy
            if not (plain_only and any(amounts.values())):
                F.cross_entropy = functools.partial(plain, label_smoothing=amount)
            try:
                super()._train(module, X, y, tr_idx, va_idx, gen, amounts)
            finally:
                F.cross_entropy = plain

    return SmoothClassifier


def _repeat_classifier(repeats: int = 3) -> Any:
    """CNNClassifier whose ``--augment auto`` decision pools ``repeats`` inner 80/20 splits
    (other split and network seeds each) instead of one: mean validation accuracy, ties to
    the mean validation loss, as :func:`ramancam.augment.choose_augment` decides one split."""
    from ramancam import train as T
    from ramancam.augment import choose_augment, prefers_augmentation

    def pooled(est: Any, Xa: Any, ya: Any, y_idx: Any, seed: int) -> dict[str, Any]:
        runs = [choose_augment(est, Xa, ya, y_idx, seed + 1000 * r) for r in range(repeats)]
        if any(r.get("skipped") for r in runs):
            return runs[0]
        acc = {k: float(np.mean([r["val_accuracy"][k] for r in runs])) for k in ("off", "on")}
        loss = {k: float(np.mean([r["val_loss"][k] for r in runs])) for k in ("off", "on")}
        return {"augment": prefers_augmentation(acc, loss), "val_accuracy": acc,
                "val_loss": loss,
                "n_val": sum(r["n_val"] for r in runs),
                "fit_s": sum(r["fit_s"] for r in runs), "repeats": repeats}

    class RepeatClassifier(T.CNNClassifier):
        def fit(self, X: Any, y: Any, **kw: Any) -> Any:
            single = T.choose_augment
            T.choose_augment = pooled
            try:
                return super().fit(X, y, **kw)
            finally:
                T.choose_augment = single

    return RepeatClassifier


def _std_classifier(floor: float = 0.1) -> Any:
    """CNNClassifier whose inputs are autoscaled point by point: centred, then divided by
    each point's standard deviation over the training spectra (floored at ``floor`` times
    the median one, so flat, noise-only points are not blown up)."""
    from ramancam.train import CNNClassifier

    class StdClassifier(CNNClassifier):
        def _input_scaling(self, rows: Any) -> Any:
            r = rows.astype(np.float64)
            sd = r.std(axis=0)
            med = float(np.median(sd))
            return r.mean(axis=0), np.maximum(sd, floor * med) if med > 0 else 1.0

    return StdClassifier


def _dual_classifier(window: int = 25) -> Any:
    """CNNClassifier whose first convolution sees two channels: the (centred) spectrum and
    its Savitzky-Golay first derivative (``window`` points, order 2; a fixed convolution,
    scaled to unit standard deviation over the training part). The rest of the network is
    the default's. Plain PyTorch layers (not the fast path), so it runs slower."""
    import torch
    from scipy.signal import savgol_coeffs
    from torch import nn

    from ramancam.model import SamePad1d
    from ramancam.train import CNNClassifier

    class Dual(nn.Module):
        def __init__(self, scale: float) -> None:
            super().__init__()
            k = torch.tensor(savgol_coeffs(window, 2, deriv=1, use="conv").copy(),
                             dtype=torch.float32)
            self.register_buffer("kernel", k.flip(0)[None, None, :])
            self.scale = float(scale)

        def derivative(self, x: Any) -> Any:
            h = window // 2
            xp = torch.nn.functional.pad(x, (h, h), mode="replicate")
            return torch.nn.functional.conv1d(xp, self.kernel)

        def forward(self, x: Any) -> Any:
            return torch.cat([x, self.derivative(x) / self.scale], dim=1)

    class DualClassifier(CNNClassifier):
        def _train(self, module: Any, X: Any, y: Any, tr_idx: Any, va_idx: Any,
                   gen: Any, amounts: dict[str, Any]) -> None:
            old = list(module.features)
            k = int(self.filter_size)
            with torch.no_grad():
                d = Dual(1.0).derivative(module.scale_input(X[torch.as_tensor(tr_idx)]))
            dual = Dual(float(d.std()) or 1.0)
            first = nn.Conv1d(2, int(self.n_filters), k)
            module.features = nn.Sequential(dual, SamePad1d(k), first, *old[2:])
            module.last_pool = module.features[-1]
            super()._train(module, X, y, tr_idx, va_idx, gen, amounts)

    return DualClassifier


def simulated_library(n_points: int, seed: int, n_pairs: int = 12, n_per_class: int = 40
                      ) -> tuple[Any, Any]:
    """Simulated preprocessed spectra for pretraining: ``2 * n_pairs`` classes, each pair
    two variants of one random substance (8-20 Lorentzian bands, FWHM 4-30 points, heights
    0.05-1 log-uniform) that differ in 1-3 of its bands by 20-40 % of the band's height, so
    both gross band patterns and small differences separate classes. Each spectrum: its
    class's bands shifted by up to 2 points and scaled by 0.9-1.1 each, a straight residual
    baseline up to 0.05, Gaussian noise of sd 0.01; then divided by its maximum (the paper's
    normalisation). Returns ``(X, y)`` of shapes (n, n_points) and (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_points, dtype=np.float64)
    X, y = [], []
    for pair in range(n_pairs):
        k = int(rng.integers(8, 21))
        pos = rng.uniform(0, n_points - 1, k)
        fwhm = rng.uniform(4, 30, k)
        height = np.exp(rng.uniform(np.log(0.05), np.log(1.0), k))
        for variant in range(2):
            h = height.copy()
            if variant:
                idx = rng.choice(k, int(rng.integers(1, 4)), replace=False)
                h[idx] *= 1 + rng.choice([-1, 1], idx.size) * rng.uniform(0.2, 0.4, idx.size)
            for _ in range(n_per_class):
                c = pos + rng.uniform(-2, 2, k)
                a = h * rng.uniform(0.9, 1.1, k)
                s = (a[:, None] / (1 + ((t - c[:, None]) / (fwhm[:, None] / 2)) ** 2)).sum(0)
                s += rng.uniform(-0.05, 0.05) * (t / (n_points - 1)) + rng.uniform(0, 0.05)
                s += 0.01 * rng.standard_normal(n_points)
                X.append(s / s.max())
                y.append(f"sim{pair:02d}{'ab'[variant]}")
    return np.asarray(X), np.asarray(y)


def pretrained_features(params: dict[str, Any], n_points: int, seed: int,
                        cache: Path | None) -> tuple[dict[str, Any], float]:
    """State dict of the ``features`` (convolution) layers of a network with ``params``'
    shape trained on :func:`simulated_library` (30 epochs, or ``params``' epochs if fewer;
    learning rate 1e-3, cosine; seed ``seed``), and the seconds that training took; cached
    as ``.npz`` in ``cache`` (the seconds under the key ``seconds``)."""
    import torch

    from ramancam.train import CNNClassifier

    shape = {k: params[k] for k in ("n_filters", "filter_size", "n_blocks", "fc_width")}
    f = None if cache is None else cache / (
        "pretrain-" + "-".join(f"{v}" for v in shape.values()) + f"-p{n_points}-s{seed}.npz")
    if f is not None and f.exists():
        with np.load(f) as z:
            return ({k: torch.as_tensor(z[k]) for k in z.files if k != "seconds"},
                    float(z["seconds"]))
    t0 = time.perf_counter()
    X, y = simulated_library(n_points, seed)
    est = CNNClassifier(**shape, epochs=min(30, int(params["epochs"])), lr=1e-3,
                        lr_schedule="cosine", batch_size=32, input_scaling="center",
                        novelty=None, calibration_cv=0, verbose=False,
                        random_state=seed).fit(X, y)
    state = {k: v.detach().clone() for k, v in est.module_.features.state_dict().items()}
    seconds = time.perf_counter() - t0
    if f is not None:
        tmp = f.with_suffix(".tmp.npz")
        np.savez(tmp, seconds=seconds, **{k: v.numpy() for k, v in state.items()})
        tmp.replace(f)
    return state, seconds


def _pretrained_classifier(state: dict[str, Any], frozen: bool) -> Any:
    """CNNClassifier whose convolution layers start from ``state`` (and, with ``frozen``,
    stay there: only FC1 and FC2 are trained)."""
    from ramancam.train import CNNClassifier

    class PretrainedClassifier(CNNClassifier):
        def _train(self, module: Any, X: Any, y: Any, tr_idx: Any, va_idx: Any,
                   gen: Any, amounts: dict[str, Any]) -> None:
            module.features.load_state_dict(state)
            for p in module.features.parameters():
                p.requires_grad_(not frozen)
            try:
                super()._train(module, X, y, tr_idx, va_idx, gen, amounts)
            finally:
                for p in module.features.parameters():
                    p.requires_grad_(True)

    return PretrainedClassifier


def _load_realdata(name: str, quick: bool) -> tuple[Any, dict[str, Any], list[Any], str]:
    """``rd:<set>[:K]``: a row of ``benchmarks/realdata.py`` (its first split of the set),
    read, preprocessed and split exactly as there (K folds, else the row's own), with the
    levers' network parameters (``--augment off``)."""
    import realdata as rd
    from ramancam.cli import train as train_cli

    _, set_name, *k = name.split(":")
    spec = next((s for s in rd.SETS if s.name == set_name), None)
    if spec is None:
        raise SystemExit(f"no benchmarks/realdata.py set {set_name!r}: "
                         f"{sorted({s.name for s in rd.SETS})}")
    folds = int(k[0]) if k else None
    spec, data, splits = rd.prepared(spec, folds)
    args = rd._train_args([*spec.options, "--augment", "off"], folds)
    params = {**train_cli.estimator_params(args), "verbose": False, "novelty": None}
    if quick:
        params.update(QUICK_NET)
    return data, params, splits, "default"


def load(name: str, quick: bool, norm: str | None = None
         ) -> tuple[Any, dict[str, Any], list[Any], str]:
    """Preprocessed spectra, default estimator parameters, splits and the recipe used
    (with ``norm``, the recipe's normalisation method replaced by it)."""
    from ramancam.cli import train as train_cli
    from ramancam.cli._common import prepare_labelled
    from ramancam.io import read
    from ramancam.train import make_splits

    if name.startswith("rd:"):
        return _load_realdata(name, quick)
    path, options = SETS[name]
    p = argparse.ArgumentParser()
    train_cli.add_arguments(p)
    # the levers are measured against the network without augmentation (--augment off)
    args = p.parse_args([str(path), "--out", "unused.ramancam", "--augment", "off", *options])
    raw = read(path, label_col=args.label_col)
    if quick:  # 8 spectra per class and split value
        rng = np.random.default_rng(0)
        key = np.asarray(raw.labels).astype(str)
        if args.split_col:
            key = np.char.add(key, np.asarray(raw.meta[args.split_col]).astype(str))
        raw = raw[np.sort(np.concatenate([rng.permutation(np.flatnonzero(key == k))[:8]
                                          for k in sorted(set(key.tolist()))]))]
    if name in RECIPE_SETS:  # the set's own recipe instead of train's
        from ramancam.cli._common import drop_unlabelled

        recipe = recipe_of(name)
        raw = drop_unlabelled(raw)
        data = recipe.apply(raw)
        recipe_name = name.removeprefix(RECIPE_SETS[name][0] + "-")
    else:
        raw, recipe, data = prepare_labelled(args, raw, "for training")
        recipe_name = str(getattr(args, "recipe_used", args.recipe))
    if norm is not None:
        from ramancam.cli._common import with_normalization

        data = with_normalization(recipe, norm).apply(raw)
    params = {**train_cli.estimator_params(args), "verbose": False, "novelty": None}
    if quick:
        params.update(QUICK_NET)
    splits = make_splits(data, folds=args.folds, split_col=args.split_col,
                         train_value=args.train_value, seed=0)
    return data, params, splits, recipe_name


def denoise(lever: str, train: Any, test: Any) -> tuple[Any, Any]:
    """Each fold's training and test inputs denoised, fitted on the training part alone:
    ``pcaN`` (``pca10``, ``pca20``, ``pca40``, ``pca80``) keeps the projection on the
    training part's first N principal components (PCA + SVM's kind of denoising, the
    spectrum kept on its axis); ``sg21`` smooths with a 21-point, order-2 Savitzky-Golay filter."""
    from scipy.signal import savgol_filter

    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if lever in INPUT_LEVERS:
        lever = lever.split("+")[-1]
    if lever in INPUT_LEVERS and lever.startswith("pca"):
        mean = train.mean(axis=0)
        basis = np.linalg.svd(train - mean, full_matrices=False)[2][:int(lever[3:])]
        return ((train - mean) @ basis.T @ basis + mean,
                (test - mean) @ basis.T @ basis + mean)
    if lever.startswith("white"):
        mean = train.mean(axis=0)
        _, sv, Vt = np.linalg.svd(train - mean, full_matrices=False)
        k = int(lever[5:])
        sd = sv[:k] / np.sqrt(max(len(train) - 1, 1))
        W = Vt[:k].T * (np.sqrt(np.mean(sd ** 2)) / sd) @ Vt[:k]
        return (train - mean) @ W + mean, (test - mean) @ W + mean
    if lever == "fa10":
        from sklearn.decomposition import FactorAnalysis

        mean = train.mean(axis=0)
        fa = FactorAnalysis(10, random_state=0).fit(train)
        U = fa.components_ / np.linalg.norm(fa.components_, axis=1, keepdims=True)
        z_tr, z_te = fa.transform(train), fa.transform(test)
        mu, sd = z_tr.mean(axis=0), z_tr.std(axis=0)
        size = np.sqrt(np.mean(np.var((train - mean) @ U.T, axis=0)))  # as white10 keeps it
        return ((z_tr - mu) / sd @ U * size + mean, (z_te - mu) / sd @ U * size + mean)
    if lever == "sg21":
        return (savgol_filter(train, 21, 2, axis=1), savgol_filter(test, 21, 2, axis=1))
    if lever == "deriv25":
        return (savgol_filter(train, 25, 2, deriv=1, axis=1),
                savgol_filter(test, 25, 2, deriv=1, axis=1))
    raise ValueError(f"not an input lever: {lever!r}")


def nap_inputs(train: Any, test: Any, labels: Any, k: int) -> tuple[Any, Any]:
    """Each fold's inputs with the training part's ``k`` directions of largest within-class
    spread removed (about the training mean; the novelty score ``hqi-nap`` does the same to
    its derivative rows): the spread that every class shares no longer reaches the network."""
    from ramancam._nap import nuisance_directions

    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    V = nuisance_directions(train, np.asarray(labels), k)
    mean = train.mean(axis=0)
    return (train - (train - mean) @ V.T @ V, test - (test - mean) @ V.T @ V)


def same_class_mix(X: Any, labels: Any, seed: int) -> tuple[Any, Any]:
    """``X`` and ``labels`` with ``len(X)`` more rows: convex mixtures of two random spectra
    of the same class (each new row's class drawn as its training spectrum's)."""
    rng = np.random.default_rng(1000 + seed)
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    a = rng.integers(0, len(X), len(X))
    b = np.array([rng.choice(np.flatnonzero(labels == labels[i])) for i in a])
    t = rng.uniform(0.0, 1.0, (len(X), 1))
    return np.vstack([X, t * X[a] + (1 - t) * X[b]]), np.concatenate([labels, labels[a]])


def fit_one(data: Any, params: dict[str, Any], splits: list[Any], lever: str, seed: int,
            cache: Path, tag: str, cached_only: bool = False) -> dict[str, Any] | None:
    """Fit one network per fold (cached): test probabilities and seconds per fit
    (``None`` with ``cached_only`` when the fit is not in the cache)."""
    from ramancam.train import CNNClassifier

    f = cache / f"{tag}-{lever}-s{seed}.json"
    if f.exists():
        return dict(json.loads(f.read_text()))
    if cached_only:
        return None
    extra: dict[str, Any] = {}
    if lever.startswith("pretrain"):
        state, extra["pretrain_s"] = pretrained_features(params, int(data.X.shape[1]), seed,
                                                         cache)
        cls = _pretrained_classifier(state, frozen=lever == "pretrain-frozen")
    else:
        cls = {"swa": _swa_classifier, "std": _std_classifier,
               "smooth0.1": _smooth_classifier, "smooth0.1+aug": _smooth_classifier,
               "smooth0.02": lambda: _smooth_classifier(0.02),
               "auto-smooth": lambda: _smooth_classifier(0.1, plain_only=True),
               "auto3": _repeat_classifier,
               "dual25": _dual_classifier}.get(
            lever, lambda: CNNClassifier)()
    kw = {**params, **LEVERS[lever], "random_state": seed, "calibration_cv": 0}
    labels = np.asarray(data.labels).astype(str)
    proba, secs, choices = [], [], []
    for tr, te in splits:
        X_tr, X_te = data.X[tr], data.X[te]
        if lever in INPUT_LEVERS:
            X_tr, X_te = denoise(lever, X_tr, X_te)
        y_tr = labels[tr]
        if lever in NAP_LEVERS:
            X_tr, X_te = nap_inputs(X_tr, X_te, y_tr, NAP_LEVERS[lever])
        if lever in MIX_LEVERS:
            X_tr, y_tr = same_class_mix(X_tr, y_tr, seed)
        est = cls(**kw).fit(X_tr, y_tr)
        proba.append(est.predict_proba(X_te).tolist())
        secs.append(float(est.fit_time_))
        choices.append(getattr(est, "augment_choice_", None))
    out = {"proba": proba, "fit_s": secs, "classes": [str(c) for c in est.classes_],
           "augment_choice": choices, **extra}
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(f)
    return out


def wrong_ids(data: Any, splits: list[Any], fit: dict[str, Any]) -> list[str]:
    """Ids (``id`` column, else row numbers) of the test spectra one fit gets wrong."""
    labels = np.asarray(data.labels).astype(str)
    ids = (np.asarray(data.meta["id"]).astype(str) if "id" in data.meta
           else np.arange(len(labels)).astype(str))
    classes = np.asarray(fit["classes"])
    out: list[str] = []
    for k, (_, te) in enumerate(splits):
        pred = classes[np.asarray(fit["proba"][k]).argmax(axis=1)]
        out += ids[te][pred != labels[te]].tolist()
    return sorted(out)


def accuracy(data: Any, splits: list[Any], fits: list[dict[str, Any]]) -> float:
    """Mean fold accuracy of the mean softmax of ``fits`` (one fit: its own accuracy)."""
    labels = np.asarray(data.labels).astype(str)
    classes = np.asarray(fits[0]["classes"])
    accs = []
    for k, (_, te) in enumerate(splits):
        p = np.mean([np.asarray(f["proba"][k]) for f in fits], axis=0)
        accs.append(float(np.mean(classes[p.argmax(axis=1)] == labels[te])))
    return float(np.mean(accs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="drug-mabs", help=f"comma list of {list(SETS)}")
    ap.add_argument("--levers", default="default", help=f"comma list of {list(LEVERS)}")
    ap.add_argument("--seeds", default="0", help="comma list of network seeds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "ramancam-levers-cache",
                    help="folder of per-fit results, reused by later runs")
    ap.add_argument("--out", type=Path, help="write the summary JSON here")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 8 spectra per class, a 4-filter network, 4 epochs")
    ap.add_argument("--cached-only", action="store_true",
                    help="fit nothing: summarise the fits already in --cache (seeds without "
                         "a cached fit are left out of a lever's row)")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(",")]
    a.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in a.sets.split(","):
        data, params, splits, recipe = load(name, a.quick)
        tag = f"{name}{'-quick' if a.quick else ''}"
        default = {}
        for lever in a.levers.split(","):
            if lever not in LEVERS:
                ap.error(f"--levers must name levers of {list(LEVERS)}; got {lever!r}")
            per_seed, secs, done, wrong, pre, inner = [], [], [], [], [], []
            lv_data = data if lever not in NORM_LEVERS else load(
                name, a.quick, NORM_LEVERS[lever])[0]
            for s in seeds:
                members = [("default", 3 * s + i) for i in range(3)] if lever == "ens3" \
                    else [(lever, s)]
                got = [fit_one(lv_data, params, splits, lv, sd, a.cache, tag, a.cached_only)
                       for lv, sd in members]
                fits = [f for f in got if f is not None]
                if len(fits) < len(members):
                    continue
                secs.append(sum(float(np.mean(f["fit_s"])) for f in fits))
                per_seed.append(accuracy(lv_data, splits, fits))
                if len(fits) == 1:
                    wrong.append(wrong_ids(lv_data, splits, fits[0]))
                pre += [float(f["pretrain_s"]) for f in fits if "pretrain_s" in f]
                # the inner decision of each fold's fit (aug or not), when the lever makes one
                inner.append([[c["val_accuracy"]["off"], c["val_accuracy"]["on"],
                               c["val_loss"]["off"], c["val_loss"]["on"], bool(c["augment"])]
                              for f in fits for c in (f.get("augment_choice") or [])
                              if c and c.get("val_accuracy")])
                done.append(s)
                print(f"{name} {lever} seed {s}: accuracy {per_seed[-1]:.4f} "
                      f"({secs[-1]:.0f} s per fit)", file=sys.stderr, flush=True)
            if not done:
                continue
            row = {"set": name, "lever": lever, "change": LEVERS[lever], "seeds": done,
                   "accuracy": per_seed, "mean": float(np.mean(per_seed)),
                   "fit_s": float(np.mean(secs)), "n": len(data), "recipe": recipe,
                   "points": int(data.X.shape[1]), "folds": len(splits)}
            if wrong:  # per seed: the test spectra it got wrong
                row["wrong"] = wrong
            if pre:  # once per seed and grid, not per fit: not in fit_s
                row["pretrain_s"] = float(np.mean(pre))
            if any(inner):  # per seed, per fold: [acc off, acc on, loss off, loss on, aug?]
                row["inner"] = inner
            if lever == "default":
                default = row
            if default:
                row["time_factor"] = row["fit_s"] / default["fit_s"]
            rows.append(row)
    text = json.dumps({"command": "benchmarks/levers.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "time": time.strftime(
        "%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": rows}, indent=1)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = a.out.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(a.out)
    print(table(rows))
    return 0


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of the rows (docs/levers.md)."""
    lines = ["| set | lever | seeds | test accuracy per seed | mean | s per fit | "
             "time vs default |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        factor = f"{r['time_factor']:.1f}x" if "time_factor" in r else "-"
        lines.append(f"| {r['set']} | {r['lever']} | {','.join(map(str, r['seeds']))} | "
                     f"{' / '.join(f'{v:.3f}' for v in r['accuracy'])} | {r['mean']:.3f} | "
                     f"{r['fit_s']:.0f} | {factor} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
