"""Inner splits of a training set: the validation part that decides the augmentation (and
early stopping), and the folds that calibrate temperature and novelty threshold.

Both are stratified by class. The calibration folds take groups (``CNNClassifier.fit(...,
groups=...)``: the patient, sample, production batch or map block of each spectrum, as in
``ramancam train --group-col``): whole groups then go to one fold, so replicates of one
sample never judge each other's novelty. The validation part stays a split by spectrum: a
split by group was measured for the augmentation decision and lost accuracy
(``docs/levers.md``, "Grouped inner split").

The stratified K-fold here is also ``train``'s outer one. Every split keeps every class in
every training part: a class with a single spectrum (a mineral or polymer that a library
holds once) always trains and is never tested or validated, and a class with fewer spectra
than folds is tested in fewer folds (:func:`stratified_kfold`, :func:`rare_classes_note`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import RamancamError

if TYPE_CHECKING:
    from .spectra import Spectra

__all__ = ["check_groups", "holdout", "inner_k", "kfold", "make_splits", "n_groups",
           "quiet_many_classes", "rare_classes_note", "stratified_kfold"]


@contextmanager
def quiet_many_classes() -> Iterator[None]:
    """A context in which scikit-learn does not warn that there are more classes than half
    the spectra ("``y`` could represent a regression problem"): a library of many
    substances with one or two spectra each is still a classification problem."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The number of unique classes is greater")
        yield


def check_groups(groups: Any, n: int) -> NDArray[np.str_] | None:
    """``groups`` as text labels without surrounding spaces, one per spectrum (``None``
    stays ``None``).

    Raises
    ------
    RamancamError
        If the length is not ``n``.
    """
    if groups is None:
        return None
    # "P0" and "P0 " are one group (as labels are read stripped): a trailing space on some
    # rows split the patient over training and test
    g = np.char.strip(np.asarray(groups).astype(str).ravel())
    if g.size != n:
        raise RamancamError(f"groups must hold one value per spectrum; got {g.size} for "
                            f"{n} spectra. Pass the group of every training spectrum.")
    return g


def inner_k(y_idx: NDArray[np.intp], k: int) -> int:
    """Inner folds for ``k`` asked: at most the size of the smallest class that can be
    tested (2 spectra or more; a class with one spectrum always trains, see
    :func:`stratified_kfold`), so that every such class is tested in every fold; 0 when no
    class has 2 spectra."""
    counts = np.bincount(y_idx)
    testable = counts[counts >= 2]
    return min(int(k), int(testable.min())) if testable.size else 0


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
            # shuffle=True stratifies from scikit-learn 1.8 on (pyproject.toml says why)
            pairs = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(
                zeros, y_idx, groups)
        else:  # every class smaller than k: stratification cannot apply
            pairs = GroupKFold(n_splits=k).split(zeros, y_idx, groups)
        return [(np.sort(tr), np.sort(te)) for tr, te in pairs]


def holdout(y_idx: NDArray[np.intp], fraction: float, seed: int
            ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Sorted ``(train, validation)`` indices: a stratified random split of
    ``ceil(fraction * n)`` spectra (plain random when there are fewer validation spectra than
    classes). A class with a single spectrum always trains: validating on it would only
    test a class the network never saw.

    Raises
    ------
    RamancamError
        If either side would be (nearly) empty.
    """
    from sklearn.model_selection import train_test_split

    n = y_idx.size
    n_val = int(np.ceil(fraction * n))
    single = np.bincount(y_idx)[y_idx] == 1
    rest = np.flatnonzero(~single)
    n_classes = np.unique(y_idx).size
    if n_val < 1 or n - n_val < max(2, n_classes) or n_val >= rest.size:
        raise RamancamError(
            f"validation_fraction must leave spectra for both training and validation; "
            f"got {fraction} of {n} spectra ({int(single.sum())} of them the only spectrum "
            f"of their class, which always train; at least one per class, {n_classes}, "
            "must train).")
    strat = y_idx[rest] if n_val >= np.unique(y_idx[rest]).size else None
    tr, va = train_test_split(rest, test_size=n_val, random_state=seed, stratify=strat)
    return np.sort(np.concatenate([tr, np.flatnonzero(single)])), np.sort(va)


def _check_largest(largest: int, k: int) -> None:
    """Refuse ``k`` folds when the largest class has fewer than ``k`` spectra."""
    if largest < k:
        raise RamancamError(
            f"at least one class must have {k} spectra for {k}-fold cross validation; the "
            f"largest has {largest}. Use {largest} folds or fewer (--folds), or add spectra.")


def stratified_kfold(y_idx: NDArray[np.intp], k: int, seed: Any
                     ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Sorted ``(train, test)`` index pairs of a shuffled, seeded stratified K-fold in which
    every training part holds every class.

    A class with a single spectrum is in every training part and never tested (it cannot be
    both learned and tested); a class with fewer than ``k`` spectra is tested in some folds
    only, one spectrum at a time. Without single-spectrum classes the folds are exactly
    scikit-learn's ``StratifiedKFold(k, shuffle=True, random_state=seed)``.

    Raises
    ------
    RamancamError
        If no class has ``k`` spectra or more.
    """
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(y_idx)
    single = counts[y_idx] == 1
    rest = np.flatnonzero(~single)
    largest = int(counts.max(initial=0))
    if largest < 2:
        raise RamancamError(
            "at least one class must have 2 spectra or more for cross validation; every "
            "class has a single spectrum, so none can be both learned and tested. Add "
            "spectra.")
    _check_largest(largest, k)
    with warnings.catch_warnings():  # "the least populated class has only N members"
        warnings.simplefilter("ignore", UserWarning)
        pairs = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(
            np.zeros((rest.size, 1)), y_idx[rest])
        singles = np.flatnonzero(single)
        return [(np.sort(np.concatenate([rest[tr], singles])), np.sort(rest[te]))
                for tr, te in pairs]


def group_kfold(labels: NDArray[Any], groups: NDArray[Any], k: int, seed: Any,
                column: str = "group") -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Sorted ``(train, test)`` index pairs of scikit-learn's shuffled, seeded
    ``StratifiedGroupKFold``: whole groups (the values of ``column``) are held out.

    Raises
    ------
    RamancamError
        If there are fewer than ``k`` groups, or no class has ``k`` spectra.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    values = np.unique(groups)
    n_g = values.size
    if n_g < 2:  # no number of folds helps: one statement of both least numbers
        raise RamancamError(
            f"group column {column!r} must have at least 2 distinct values for group folds"
            + (f" (and at least {k} for {k} folds)" if k > 2 else "") + f"; got {n_g}"
            + (f" ({str(values[0])!r})" if n_g else "")
            + ". Check the column (or the --groups-from pattern).")
    if n_g < k:
        raise RamancamError(
            f"group column {column!r} must have at least {k} distinct values for {k} folds; "
            f"got {n_g}. Use fewer --folds.")
    largest = int(np.unique(labels, return_counts=True)[1].max(initial=0))
    _check_largest(largest, k)
    with warnings.catch_warnings():  # "the least populated class has only N members"
        warnings.simplefilter("ignore", UserWarning)
        pairs = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
                     .split(np.zeros((labels.size, 1)), labels, groups))
    pairs = every_fold_tested(pairs, groups, k, seed)
    return [(np.sort(tr), np.sort(te)) for tr, te in pairs]


def every_fold_tested(pairs: list[tuple[Any, Any]], groups: Any, k: int, seed: Any
                      ) -> list[tuple[Any, Any]]:
    """``pairs``, or, when one of them tests nothing, the folds of a shuffled
    ``GroupKFold`` of the same ``groups``: ``StratifiedGroupKFold`` may put two groups in
    one fold and none in another when there are about as many groups as folds (5 patients,
    5 folds; 4 blocks of a map, 4 folds), and train then stopped on a division by zero after
    its first fold, baseline printed 'nan +- nan'. ``GroupKFold`` gives every fold a group
    when there are ``k`` or more (the classes are then not balanced)."""
    from sklearn.model_selection import GroupKFold

    if all(np.size(te) for _, te in pairs):
        return pairs
    return list(GroupKFold(n_splits=k, shuffle=True, random_state=seed)
                .split(np.zeros((np.shape(groups)[0], 1)), None, groups))


def rare_classes_note(labels: ArrayLike, folds: int) -> str | None:
    """The line that stratified K-fold (:func:`stratified_kfold`, as
    ``ramancam.train.make_splits`` uses it) deserves when some classes have fewer than K
    spectra, or ``None`` when every class has K or more.

    Parameters
    ----------
    labels : array-like of shape (n_spectra,)
    folds : int

    Returns
    -------
    str or None
    """
    classes, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    order = np.lexsort((classes, counts))
    small = [i for i in order if counts[i] < folds]
    if not small:
        return None
    shown = ", ".join(f"{classes[i]} ({counts[i]})" for i in small[:5])
    more = f" and {len(small) - 5} more" if len(small) > 5 else ""
    one = len(small) == 1
    line = (f"note: {len(small)} of {classes.size} classes {'has' if one else 'have'} fewer "
            f"than {folds} spectra ({shown}{more}), so {'it is' if one else 'they are'} "
            f"tested in fewer than {folds} folds")
    n_single = int(np.sum(counts == 1))
    if n_single:
        line += (f"; {n_single} with a single spectrum {'is' if n_single == 1 else 'are'} "
                 f"never tested (trained in every fold), so the CV tests "
                 f"{int(counts.sum()) - n_single} of {int(counts.sum())} spectra")
    return line + "."


def kfold(y_idx: NDArray[np.intp], k: int, seed: int, groups: NDArray[Any] | None = None
          ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Sorted ``(train, test)`` index pairs of a stratified K-fold, grouped (with at most
    one fold per group) when two or more groups are given."""
    if n_groups(groups) >= 2:
        assert groups is not None
        return _grouped(y_idx, groups, min(k, n_groups(groups)), seed)
    return stratified_kfold(y_idx, k, seed)


def make_splits(spectra: Spectra, *, folds: int = 5, group_col: str | None = None,
                split_col: str | None = None, train_value: Any = "train", seed: int = 0
                ) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Train/test index pairs for cross validation or a fixed split.

    Parameters
    ----------
    spectra : Spectra
        Labelled spectra (labels drive stratification; metadata columns the groups/split).
    folds : int
        Number of folds K (>= 2) for k-fold modes. Stratified k-fold keeps every class in
        every training part: a class with fewer than K spectra is tested in some folds
        only, and a class with a single spectrum trains in every fold and is never tested
        (:func:`ramancam.inner.stratified_kfold`); :func:`ramancam.inner.rare_classes_note` says so.
    group_col : str, optional
        Metadata column: spectra sharing a value stay in one fold
        (``StratifiedGroupKFold``).
    split_col : str, optional
        Metadata column for a fixed split: rows whose value equals ``train_value`` (compared
        as text) train, all others test. Gives one (train, test) pair.
    train_value : str
        Value of ``split_col`` marking training spectra.
    seed : int
        Shuffling seed of the k-fold splitters.

    Returns
    -------
    list of (ndarray, ndarray)
        ``(train_idx, test_idx)`` per fold, sorted integer indices.
    """
    labels = _labels(spectra)
    if group_col is not None and split_col is not None:
        raise RamancamError(
            f"group_col and split_col must not both be given; got {group_col!r} and "
            f"{split_col!r}. Use one: group-aware k-fold or a fixed split.")
    if split_col is not None:
        col = _meta_col(spectra, split_col, "split")
        is_train = np.char.strip(col.astype(str)) == str(train_value).strip()
        tr, te = np.flatnonzero(is_train), np.flatnonzero(~is_train)
        if tr.size == 0 or te.size == 0:
            vals = sorted(set(col.astype(str).tolist()))[:10]
            raise RamancamError(
                f"split column {split_col!r} must mark both training (= {train_value!r}) and "
                f"test spectra; got {tr.size} training and {te.size} test (values: {vals}). "
                "Check --split-col/--train-value.")
        return [(tr, te)]
    if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 2:
        raise RamancamError(f"folds must be an integer >= 2; got {folds!r}.")
    if group_col is not None:
        groups = check_groups(_meta_col(spectra, group_col), len(labels))
        assert groups is not None
        return group_kfold(labels, groups, int(folds), seed, group_col)
    return stratified_kfold(np.unique(labels, return_inverse=True)[1], int(folds), seed)


def _labels(spectra: Spectra) -> NDArray[np.str_]:
    if spectra.labels is None:
        raise RamancamError(
            "spectra must carry class labels for training; got none. Give --label-col (wide "
            "tables) or --labels-from (folders).")
    return spectra.labels


def _meta_col(spectra: Spectra, name: str, what: str = "group") -> NDArray[Any]:
    if name not in spectra.meta:  # what: "split" or "group" (--split-col / --group-col)
        raise RamancamError(
            f"{what} column {name!r} must be a metadata column; got columns "
            f"{sorted(spectra.meta)}. Check the name given to {what}_col (--{what}-col"
            + ("; a folder's groups: --groups-from)." if what == "group" else ")."))
    return spectra.meta[name]
