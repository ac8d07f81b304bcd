"""The checks of :class:`~ramancam.train.CNNClassifier`'s parameters, run in ``fit`` (and by
``ramancam train`` before any data are read, where its options set them).

Each value has a lower bound and, where a number far beyond any real use overflowed in
torch or tqdm (``--epochs 10**30``: an OverflowError traceback; ``--filters 10**30``:
torch's "Overflow when unpacking long long"), an upper one that names the parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import RamancamError, int_text

#: CNNClassifier's default learning rate (the paper's, and both presets').
DEFAULT_LR = 1e-4
#: Learning-rate schedules and input scalings CNNClassifier accepts (``ramancam.train``
#: re-exports both).
LR_SCHEDULES = ("constant", "cosine")
INPUT_SCALINGS = ("none", "center")

#: Most epochs: a million passes (the paper trains 100).
MAX_EPOCHS = 10**6
#: Most filters, FC1 outputs, points per kernel and points of band shift (the paper: 64,
#: 128, 8 and no shift); a network of 10**5 filters would not fit in any memory.
MAX_WIDTH = 10**5
#: Most spectra per mini-batch.
MAX_BATCH = 10**7

#: The parameters with an upper bound, and it.
UPPER = {"epochs": MAX_EPOCHS, "n_filters": MAX_WIDTH, "filter_size": MAX_WIDTH,
         "fc_width": MAX_WIDTH, "augment_shift": MAX_WIDTH, "batch_size": MAX_BATCH}


def check_params(est: Any) -> None:
    """Refuse a parameter of ``est`` (a ``CNNClassifier``) out of its range, naming it."""

    def pos_int(name: str, minimum: int = 1) -> None:
        v = getattr(est, name)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum:
            raise RamancamError(f"{name} must be an integer >= {minimum}; got {v!r}.")
        most = UPPER.get(name)
        if most is not None and v > most:
            raise RamancamError(f"{name} must be an integer from {minimum} to {most:,}; got "
                                f"{int_text(v)}. Give a smaller value.")

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
    for name in ("n_filters", "filter_size", "fc_width"):
        v = getattr(est, name)  # (their lower bounds: the network's own, CNNConfig's)
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1:
            pos_int(name)
    if not (isinstance(est.lr, (int, float, np.floating)) and np.isfinite(est.lr)
            and est.lr > 0):
        raise RamancamError(f"lr must be a positive number; got {est.lr!r}.")
    nonneg("weight_decay")
    nonneg("validation_fraction", 1.0)
    for name in ("augment_noise", "augment_baseline", "augment_scale"):
        nonneg(name)
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
