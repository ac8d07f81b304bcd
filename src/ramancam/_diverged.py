"""Training that diverged: a loss that became NaN or inf left the network's weights
non-finite (a learning rate far too large, ``--lr 1e30``).

``ramancam train`` saved such a network, printed ``saved`` and exited 0; ``predict`` then
called the file damaged (the finite check was at load only). :func:`diverged_epoch` finds it
once the epochs are done, :func:`diverged_error` says it with the fix (lower the learning
rate), and :class:`CNNClassifier.fit <ramancam.train.CNNClassifier>` raises it, so nothing is
fitted, saved, or replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._cnn_params import DEFAULT_LR
from .errors import RamancamError


def non_finite_weight(module: Any) -> str | None:
    """The name of the first floating tensor of ``module``'s state that holds NaN or inf,
    or ``None`` where all are finite."""
    import torch

    for name, t in module.state_dict().items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return str(name)
    return None


def diverged_epoch(history: Sequence[dict[str, float]], module: Any) -> int | None:
    """The epoch (1-based) in which the training loss first was NaN or inf, where the
    weights kept are not finite; ``None`` where they are finite (a network whose best epoch,
    kept by early stopping, came before it is a usable one). Weights that went non-finite in
    the last step, after every loss was finite: the last epoch."""
    if non_finite_weight(module) is None:
        return None
    for rec in history:
        if not np.isfinite(rec["loss"]):
            return int(rec["epoch"])
    return int(history[-1]["epoch"]) if history else 0


def diverged_text(epoch: int, n_epochs: int) -> str:
    """``training diverged (loss NaN or inf at epoch 3 of 100)``."""
    return f"training diverged (loss NaN or inf at epoch {epoch} of {n_epochs})"


def diverged_error(epoch: int, n_epochs: int, lr: float) -> RamancamError:
    """The refusal of a diverged fit, in the estimator's words and ``train``'s."""
    head = diverged_text(epoch, n_epochs) + ": the network's weights are not finite, so "
    fix = f"(got {lr:g}; the default is {DEFAULT_LR:g})."
    return RamancamError(head + f"nothing was fitted. Lower lr {fix}",
                         cli=head + f"no model was saved. Lower --lr {fix}")


def say_fold_diverged(diverged: Callable[[int, int, int], None] | None, fold: int, n: int,
                      est: Any, epoch: int) -> None:
    """A fold of :func:`~ramancam.train.cross_validate` whose training diverged:
    ``diverged(fold, n, epoch)``, else a :class:`~ramancam.errors.RamancamWarning`."""
    if diverged is not None:
        diverged(fold, n, epoch)
        return
    import warnings

    from .errors import RamancamWarning

    warnings.warn(RamancamWarning(
        f"fold {fold}/{n}: {diverged_text(epoch, int(est.epochs))}: its CNN accuracy is that "
        f"of a network whose weights are not finite. Lower lr (got {float(est.lr):g})."),
        stacklevel=4)
