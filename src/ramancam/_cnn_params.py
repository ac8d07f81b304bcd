"""The checks of :class:`~ramancam.train.CNNClassifier`'s parameters, run in ``fit`` (and by
``ramancam train`` before any data are read, where its options set them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import RamancamError


def check_params(est: Any) -> None:
    """Refuse a parameter of ``est`` (a ``CNNClassifier``) out of its range, naming it."""

    def pos_int(name: str, minimum: int = 1) -> None:
        v = getattr(est, name)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum:
            raise RamancamError(f"{name} must be an integer >= {minimum}; got {v!r}.")

    def nonneg(name: str, upper: float | None = None) -> None:
        v = getattr(est, name)
        ok = isinstance(v, (int, float, np.floating, np.integer)) and np.isfinite(v) \
            and v >= 0 and (upper is None or v < upper)
        if not ok:
            rng = f"in [0, {upper:g})" if upper is not None else ">= 0"
            raise RamancamError(f"{name} must be a number {rng}; got {v!r}.")

    for name in ("epochs", "batch_size", "patience"):
        pos_int(name)
    pos_int("augment_shift", 0)
    if not (isinstance(est.lr, (int, float, np.floating)) and np.isfinite(est.lr)
            and est.lr > 0):
        raise RamancamError(f"lr must be a positive number; got {est.lr!r}.")
    nonneg("weight_decay")
    nonneg("validation_fraction", 1.0)
    for name in ("augment_noise", "augment_baseline", "augment_scale"):
        nonneg(name)
    from .train import INPUT_SCALINGS, LR_SCHEDULES

    if est.lr_schedule not in LR_SCHEDULES:
        raise RamancamError(f"lr_schedule must be one of {LR_SCHEDULES}; "
                            f"got {est.lr_schedule!r}.")
    if est.input_scaling not in INPUT_SCALINGS:
        raise RamancamError(f"input_scaling must be one of {INPUT_SCALINGS}; "
                            f"got {est.input_scaling!r}.")
    for name in ("bf16", "augment_select"):
        if not isinstance(getattr(est, name), (bool, np.bool_)):
            raise RamancamError(f"{name} must be True or False; "
                                f"got {getattr(est, name)!r}.")
    from .conformal import check_rate
    from .novelty import check_method

    check_method(est.novelty)
    check_rate(est.novelty_rate)
    pos_int("calibration_cv", 0)
    if est.calibration_cv == 1:  # one fold holds nothing out: it did nothing, silently
        raise RamancamError("calibration_cv must be 0 (none) or a number of folds >= 2; "
                            "got 1. Give 3, say, or 0.")

