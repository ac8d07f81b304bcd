"""Training augmentation that follows the physics of a Raman measurement, and the decision,
made on the training data alone, whether to use it (``CNNClassifier(augment_select=True)``,
``ramancam train --augment auto``).

* :func:`augment_batch` — random band shifts, intensity scale, straight baselines and noise
  for one mini-batch, relative to each spectrum's maximum.
* :func:`choose_augment` — train the classifier with and without its augmentation on an inner
  split of its training spectra and keep the setting that scores better there
  (:func:`prefers_augmentation`, the rule alone).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .errors import RamancamError

if TYPE_CHECKING:
    import torch

__all__ = ["AUGMENT_PARAMS", "augment_batch", "choose_augment", "decided_params",
           "prefers_augmentation"]

#: The augmentation amounts (``CNNClassifier`` parameters) that ``augment_select`` switches.
AUGMENT_PARAMS = ("augment_noise", "augment_shift", "augment_baseline", "augment_scale")


def decided_params(choice: dict[str, Any] | None) -> dict[str, Any]:
    """Classifier parameters that repeat a decision of :func:`choose_augment` without
    making it again: no selection, and no amounts when the decision was "off" (empty when
    there was no decision)."""
    if choice is None:
        return {}
    return {"augment_select": False,
            **({} if choice["augment"] else dict.fromkeys(AUGMENT_PARAMS, 0))}


def augment_batch(xb: torch.Tensor, *, noise: float, shift: int, baseline: float,
                  scale: float, gen: torch.Generator) -> torch.Tensor:
    """Light, label-preserving augmentation of one batch ``(b, 1, L)`` (training only).

    Amplitudes are relative to each spectrum's maximum absolute value, so the same settings
    suit raw counts and max-normalised spectra alike.
    """
    import torch

    b, _, length = xb.shape
    dev = xb.device

    def rand(*shape: int) -> torch.Tensor:  # draws on CPU from the seeded generator
        return torch.rand(*shape, generator=gen).to(dev)

    peak = xb.abs().amax(dim=2, keepdim=True).clamp_min(1e-12)
    out = xb
    if shift:
        # Shift each spectrum by an integer number of points, repeating the edge value.
        s = torch.randint(-shift, shift + 1, (b, 1), generator=gen).to(dev)
        idx = (torch.arange(length, device=dev)[None, :] - s).clamp(0, length - 1)
        out = torch.gather(out[:, 0, :], 1, idx)[:, None, :]
    if scale:
        out = out * (1.0 + scale * (2.0 * rand(b, 1, 1) - 1.0))
    if baseline:
        # A random straight line, the kind of residual a linear baseline step leaves behind.
        t = torch.linspace(-1.0, 1.0, length, device=dev)[None, None, :]
        off = baseline * (2.0 * rand(b, 1, 1) - 1.0)
        slope = baseline * (2.0 * rand(b, 1, 1) - 1.0)
        out = out + peak * (off + slope * t)
    if noise:
        out = out + peak * noise * torch.randn(b, 1, length, generator=gen).to(dev)
    return out


def prefers_augmentation(acc: dict[str, float], loss: dict[str, float]) -> bool:
    """:func:`choose_augment`'s rule on validation accuracy and loss (``{"off": .., "on":
    ..}`` each): the higher accuracy wins, a tie goes to the lower loss, and a tie there to
    no augmentation."""
    return bool(acc["on"] > acc["off"] or (acc["on"] == acc["off"]
                                           and loss["on"] < loss["off"]))


def choose_augment(est: Any, Xa: NDArray[Any], ya: NDArray[Any], y_idx: NDArray[np.intp],
                   seed: int) -> dict[str, Any]:
    """Train ``est``'s class with and without its augmentation on an inner stratified split
    of the training spectra (``validation_fraction``, else 20 % held out) and return the
    decision with its validation scores.

    The setting with the higher validation accuracy wins; a tie goes to the lower
    validation loss (cross entropy), and a tie there to no augmentation.

    Too few spectra for an inner split (a class needs a second spectrum to be validated on):
    no decision is made, the fit goes without augmentation (as a tie would), and the returned
    dict says why under ``skipped``.

    Returns
    -------
    dict
        ``augment`` (bool), ``val_accuracy`` and ``val_loss`` (``{"off": .., "on": ..}``, or
        ``None`` when skipped), ``n_val`` (validation spectra), ``fit_s`` (seconds of the two
        inner fits) and, when no decision could be made, ``skipped`` (the reason).
    """
    t0 = time.perf_counter()
    try:
        tr, va = est._validation_split(y_idx, seed, fraction=est.validation_fraction or 0.2)
    except RamancamError:
        single = int(np.sum(np.bincount(y_idx) == 1))
        return {"augment": False, "val_accuracy": None, "val_loss": None, "n_val": 0,
                "fit_s": time.perf_counter() - t0,
                "skipped": f"too few spectra for an inner validation split ({y_idx.size}, "
                           f"{single} of them the only spectrum of their class)"}
    inner = {**est.get_params(), "augment_select": False, "novelty": None,
             "calibration_cv": 0, "verbose": False, "validation_fraction": 0.0,
             "random_state": seed}
    acc, loss, gone = {}, {}, set()
    for name in ("off", "on"):
        kw = inner if name == "on" else {**inner, **dict.fromkeys(AUGMENT_PARAMS, 0)}
        fitted = type(est)(**kw)
        fitted._keep_diverged = True  # a setting whose training diverged loses (the fit
        fitted.fit(Xa[tr], ya[tr])  # with the other refuses itself if it diverges too)
        if getattr(fitted, "diverged_epoch_", None) is not None:
            gone.add(name)
        proba = fitted.predict_proba(Xa[va])
        col = {c: i for i, c in enumerate(fitted.classes_.tolist())}
        # a validation class missing from the inner training part scores probability 0
        p_true = np.array([proba[i, col[c]] if c in col else 0.0
                           for i, c in enumerate(ya[va].tolist())])
        acc[name] = float(np.mean(fitted.classes_[proba.argmax(axis=1)] == ya[va]))
        loss[name] = 0.0 - float(np.mean(np.log(np.clip(p_true, 1e-12, None))))  # no "-0.0"
    # a setting whose training diverged loses to one that did not
    augment = (gone == {"off"} if gone and gone != {"off", "on"}
               else prefers_augmentation(acc, loss))
    return {"augment": augment, "val_accuracy": acc, "val_loss": loss,
            "n_val": int(va.size), "fit_s": time.perf_counter() - t0}
