"""The network and training settings that ``ramancam train --preset`` starts from.

* ``"tuned"`` (``train``'s default): the paper's network (64 filters of size 8, 2 blocks,
  FC1 128) with a cosine learning-rate schedule, centred inputs and physics augmentation
  (noise, band shifts, baseline slopes, intensity scale) kept only where an inner 80/20
  split of the training spectra prefers it (``docs/levers.md``, ``docs/tuning.md``);
* ``"paper"``: the paper's settings as written (constant learning rate 1e-4, raw inputs, no
  augmentation).

The other settings (epochs 100, learning rate 1e-4, batch 32, dropout 0.5, ...) are
:class:`~ramancam.train.CNNClassifier`'s own defaults in both. In Python,
``CNNClassifier.from_preset("tuned")`` builds the classifier ``train`` builds.
"""

from __future__ import annotations

from typing import Any

from .errors import RamancamError

__all__ = ["AUGMENT_MODES", "PRESETS", "preset_params"]

#: ``--augment``: decide per fit on an inner split, always, or never.
AUGMENT_MODES = ("auto", "on", "off")
#: Starting values of ``--preset``, by command-line option name; options given on the
#: command line override them.
PRESETS: dict[str, dict[str, Any]] = {
    "tuned": {"filters": 64, "filter_size": 8, "lr_schedule": "cosine",
              "input_scaling": "center", "augment": "auto", "augment_noise": 0.01,
              "augment_shift": 3, "augment_baseline": 0.05, "augment_scale": 0.1},
    "paper": {"filters": 64, "filter_size": 8, "lr_schedule": "constant",
              "input_scaling": "none", "augment": "off", "augment_noise": 0.0,
              "augment_shift": 0, "augment_baseline": 0.0, "augment_scale": 0.0},
}


def preset_params(name: str = "tuned") -> dict[str, Any]:
    """:class:`~ramancam.train.CNNClassifier` keyword arguments of preset ``name``.

    Raises
    ------
    RamancamError
        If ``name`` is not a preset.
    """
    if name not in PRESETS:
        raise RamancamError(f"preset must be one of {tuple(PRESETS)}; got {name!r}.")
    p = PRESETS[name]
    mode = p["augment"]
    amounts = ("augment_noise", "augment_shift", "augment_baseline", "augment_scale")
    return {"n_filters": p["filters"], "filter_size": p["filter_size"],
            "lr_schedule": p["lr_schedule"], "input_scaling": p["input_scaling"],
            **{k: (0 if mode == "off" else p[k]) for k in amounts},
            "augment_select": mode == "auto"}
