"""Inner splits of a training set: the validation part that decides the augmentation (and
early stopping), and the folds that calibrate temperature and novelty threshold.

Both are stratified by class. The calibration folds take groups (``CNNClassifier.fit(...,
groups=...)``: the patient, sample, production batch or map block of each spectrum, as in
``ramancam train --group-col``): whole groups then go to one fold, so replicates of one
sample never judge each other's novelty. The validation part stays a split by spectrum: a
split by group was measured for the augmentation decision and lost accuracy
(``docs/levers.md``, "Grouped inner split").
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import RamancamError

__all__ = ["check_groups", "holdout", "kfold", "n_groups"]


def check_groups(groups: Any, n: int) -> NDArray[np.str_] | None:
    """``groups`` as text labels, one per spectrum (``None`` stays ``None``).

    Raises
    ------
    RamancamError
        If the length is not ``n``.
    """
    if groups is None:
        return None
    g = np.asarray(groups).astype(str).ravel()
    if g.size != n:
        raise RamancamError(f"groups must hold one value per spectrum; got {g.size} for "
                            f"{n} spectra. Pass the group of every training spectrum.")
    return g


def n_groups(groups: NDArray[Any] | None) -> int:
    """Distinct groups (0 without groups)."""
    return 0 if groups is None else int(np.unique(groups).size)


def _grouped(y_idx: NDArray[np.intp], groups: NDArray[Any], k: int, seed: int
             ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    zeros = np.zeros((y_idx.size, 1))
    with warnings.catch_warnings():  # "the least populated class has only N members"
        warnings.simplefilter("ignore", UserWarning)
        if np.bincount(y_idx).max() >= k:
            pairs = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(
                zeros, y_idx, groups)
        else:  # every class smaller than k: stratification cannot apply
            pairs = GroupKFold(n_splits=k).split(zeros, y_idx, groups)
        return [(np.sort(tr), np.sort(te)) for tr, te in pairs]


def holdout(y_idx: NDArray[np.intp], fraction: float, seed: int
            ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Sorted ``(train, validation)`` indices: a stratified random split of
    ``ceil(fraction * n)`` spectra (plain random when a class has a single spectrum or there
    are fewer validation spectra than classes).

    Raises
    ------
    RamancamError
        If either side would be (nearly) empty.
    """
    from sklearn.model_selection import train_test_split

    n = y_idx.size
    n_val = int(np.ceil(fraction * n))
    if n_val < 1 or n - n_val < 2:
        raise RamancamError(
            f"validation_fraction must leave spectra for both training and validation; "
            f"got {fraction} of {n} spectra.")
    counts = np.bincount(y_idx)
    strat = y_idx if counts.min() >= 2 and n_val >= counts.size else None
    tr, va = train_test_split(np.arange(n), test_size=n_val, random_state=seed,
                              stratify=strat)
    return np.sort(tr), np.sort(va)


def kfold(y_idx: NDArray[np.intp], k: int, seed: int, groups: NDArray[Any] | None = None
          ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Sorted ``(train, test)`` index pairs of a stratified K-fold, grouped (with at most
    one fold per group) when two or more groups are given."""
    if n_groups(groups) >= 2:
        assert groups is not None
        return _grouped(y_idx, groups, min(k, n_groups(groups)), seed)
    from sklearn.model_selection import StratifiedKFold

    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(np.sort(tr), np.sort(te))
            for tr, te in split.split(np.zeros((y_idx.size, 1)), y_idx)]
