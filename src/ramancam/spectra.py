"""The :class:`Spectra` container: intensities, their Raman-shift axis, labels and metadata.

All validation of shapes and axes happens here, once, so that every reader, simulator and
preprocessing step can rely on it.

Two layouts are supported:

* **common axis** (the usual case): ``X`` of shape ``(n_spectra, n_points)`` and one axis
  ``wavenumbers`` of shape ``(n_points,)``;
* **per-spectrum axes** (e.g. a folder of RRUFF files measured on different instruments): one
  1-D intensity array and one 1-D axis per spectrum, possibly of different lengths. Such a set
  must be resampled onto a common grid (``ramancam.preprocess.resample`` or a recipe) before it
  can be stacked into a matrix; asking for ``X`` says so.

Axes may be ascending or descending (kept as given) but must be strictly monotonic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import RamancamError, spectra_count, where

__all__ = ["Spectra", "check_axis", "composed_names"]


def composed_names(names: Sequence[str]) -> list[str]:
    """Class names in one Unicode form (NFC), as every reader gives labels: "café" of a
    folder named on macOS (decomposed, as its file systems write names) and "café" typed
    elsewhere were two classes. Names that would then repeat are kept as they are."""
    import unicodedata

    names = [str(n) for n in names]
    if all(n.isascii() for n in names):
        return names
    nfc = [unicodedata.normalize("NFC", n) for n in names]
    return nfc if len(set(nfc)) == len(set(names)) else names


#: Two neighbouring points closer than this share of the axis's median step are refused as a
#: repeat is: a cubic spline through them turns a small intensity step into a swing of the
#: order of the band. Measured uneven axes stay far above it (the shared real sets: 0.29 at
#: least, drug-mabs' 400-4000 cm-1 axis).
NEAR_STEP = 0.01


def check_axis(axis: ArrayLike, *, name: str = "wavenumbers", source: object | None = None
               ) -> NDArray[np.float64]:
    """Validate a Raman-shift axis and return it as a float64 array.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
        Raman shifts in cm-1 (or channel numbers), strictly increasing or strictly decreasing.
    name : str
        Name used in error messages.
    source : str, optional
        File the axis came from, named in error messages.

    Raises
    ------
    RamancamError
        If the axis is not 1-D, has fewer than 2 points, is not finite, repeats a value, is
        not monotonic or has two points closer than 1 % of its median step.
    """
    pre = where(source)
    try:
        a = np.asarray(axis, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RamancamError(f"{pre}{name} must be numbers; got {exc}.") from None
    if a.ndim != 1:
        raise RamancamError(f"{pre}{name} must be 1-D; got shape {a.shape}.")
    if a.size < 2:
        raise RamancamError(
            f"{pre}{name} must have at least 2 points; got {a.size}. "
            "Check that the file holds a whole spectrum.")
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RamancamError(
            f"{pre}{name} must be finite; got {a[i]} at point {i}. Remove or fix that row.")
    d = np.diff(a)
    if (d == 0).any():
        i = int(np.flatnonzero(d == 0)[0])
        raise RamancamError(
            f"{pre}{name} must not repeat a value; got {a[i]:g} twice (points {i} and {i + 1}). "
            "Average or drop the duplicated points.")
    if not ((d > 0).all() or (d < 0).all()):
        i = int(np.flatnonzero(np.sign(d) != np.sign(d[0]))[0])
        raise RamancamError(
            f"{pre}{name} must be strictly increasing or strictly decreasing; it changes "
            f"direction at {a[i + 1]:g} (point {i + 1}). Sort the points by Raman shift "
            "(the rows of a two-column file, the shift columns of a wide table), or check "
            "that this column holds Raman shifts.")
    step = np.abs(d)
    med = float(np.median(step))
    near = step < NEAR_STEP * med
    if near.any():
        i = int(np.flatnonzero(near)[0])
        raise RamancamError(
            f"{pre}{name} must not hold two points much closer than its median step "
            f"({med:g} cm-1); got {a[i]:.12g} and {a[i + 1]:.12g} (points {i} and {i + 1}), "
            "between which the resampling would swing into a false band. Average or drop one "
            "of the two points.")
    return a


def _check_intensities(y: ArrayLike, n_points: int, *, source: object | None, index: int
                       ) -> NDArray[np.floating[Any]]:
    pre = where(source)
    arr = np.asarray(y)
    if arr.dtype.kind not in "fiu":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise RamancamError(
                f"{pre}intensities of spectrum {index} must be numbers; got dtype {arr.dtype}."
            ) from None
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise RamancamError(f"{pre}spectrum {index} must be 1-D; got shape {arr.shape}.")
    if arr.shape[0] != n_points:
        raise RamancamError(
            f"{pre}spectrum {index} has {arr.shape[0]} points but its axis has {n_points}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise RamancamError(
            f"{pre}intensities must be finite; got {arr[j]} in spectrum {index} at point {j}. "
            "Remove or interpolate the missing values before loading.")
    return arr


def need_spectra(spectra: object, name: str = "spectra") -> None:
    """Refuse an array or a DataFrame where a :class:`Spectra` (intensities with their axis)
    is needed, saying how to make one."""
    if not isinstance(spectra, Spectra):
        raise RamancamError(
            f"{name} must be a ramancam Spectra (intensities with their Raman-shift axis); got "
            f"{type(spectra).__name__}. Wrap them: Spectra(X, wavenumbers), or read a file "
            "with ramancam.io.read.")


def _joined(cols: list[NDArray[Any] | None], sizes: list[int]) -> NDArray[Any]:
    """One metadata column of :meth:`Spectra.concat`: the parts' columns joined, keeping a
    type they share (x/y stay numbers); objects, with "" where a part lacks the column, when
    one does or the types do not join (dates and text)."""
    have = [c for c in cols if c is not None]
    if len(have) == len(cols):
        kinds = {c.dtype.kind for c in have}
        if len(kinds) == 1 or kinds <= set("biuf"):
            try:
                return np.concatenate(have)
            except (TypeError, ValueError):
                pass
    return np.concatenate([c.astype(object) if c is not None else np.full(n, "", dtype=object)
                           for c, n in zip(cols, sizes, strict=True)])


def _own(a: NDArray[Any]) -> NDArray[Any]:
    """``a``, or a copy of it where it may be the caller's array: a Spectra freezes what it
    holds, and must not freeze (or see later changes to) the caller's axis or metadata.
    Arrays already frozen are another Spectra's, shared as they are."""
    return a if not a.flags.writeable else np.array(a)


class Spectra:
    """A set of Raman spectra with their axis, labels and per-spectrum metadata.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points), or a sequence of 1-D arrays
        Intensities. A sequence of 1-D arrays (with ``wavenumbers`` a sequence of the same
        length) gives the per-spectrum-axes layout.
    wavenumbers : array-like of shape (n_points,), or a sequence of 1-D arrays
        Raman shift in cm-1 (or channel number) of each point; strictly monotonic.
    labels : array-like of shape (n_spectra,), optional
        Class label of each spectrum (stored as strings); ``""`` marks an unlabelled
        spectrum (e.g. a map pixel nobody annotated), which is no class.
    meta : mapping of str to array-like of shape (n_spectra,), optional
        Per-spectrum metadata table, one entry per column.
    sources : array-like of shape (n_spectra,), optional
        The file each spectrum was read from (``""`` when it was made in memory).
    copy : bool, default True
        Store a copy of a 2-D ``X``. ``False`` keeps a C-contiguous float array itself (and
        makes it read-only), for a reader that made the array and hands it over, so that a
        large file is not held twice; the caller must not write to it afterwards.

    Notes
    -----
    Arrays are stored read-only so that a ``Spectra`` can be shared safely; every
    transformation returns a new object.
    """

    def __init__(self, X: Any, wavenumbers: Any, labels: ArrayLike | None = None,
                 meta: Mapping[str, ArrayLike] | None = None,
                 sources: ArrayLike | None = None, *, copy: bool = True) -> None:
        ragged = _is_ragged(X, wavenumbers)
        if ragged:
            axes = list(wavenumbers)
            ys = list(X)
            if len(axes) != len(ys):
                raise RamancamError(
                    f"X has {len(ys)} spectra but wavenumbers has {len(axes)} axes; "
                    "give one axis per spectrum.")
            n = len(ys)
        else:
            arr = np.asarray(X)
            if arr.ndim == 1:
                raise RamancamError(
                    f"X must be 2-D of shape (n_spectra, n_points); got 1-D shape {arr.shape}. "
                    "Use X[None, :] for a single spectrum.")
            if arr.ndim != 2:
                raise RamancamError(
                    f"X must be 2-D of shape (n_spectra, n_points); got shape {arr.shape}.")
            n = arr.shape[0]
        src = _as_str_column(sources, n, "sources", default="")
        if ragged:
            axes_c = [_own(check_axis(a, source=src[i] or None,
                                      name="wavenumbers" if src[i] else
                                      f"wavenumbers of spectrum {i}"))
                      for i, a in enumerate(axes)]
            ys_c = [_check_intensities(y, a.size, source=src[i] or None, index=i)
                    for i, (y, a) in enumerate(zip(ys, axes_c, strict=True))]
            if n and not _all_equal_axes(axes_c):
                axes_c, ys_c = _one_direction(axes_c, ys_c)
            if n and _all_equal_axes(axes_c):
                self._X: NDArray[Any] | None = np.stack(ys_c)
                self._axis: NDArray[np.float64] | None = axes_c[0]
                self._axes: list[NDArray[np.float64]] | None = None
                self._ys: list[NDArray[Any]] | None = None
            else:
                self._X, self._axis = None, None
                self._axes, self._ys = axes_c, ys_c
        else:
            axis = _own(check_axis(wavenumbers))
            if arr.shape[1] != axis.size:
                raise RamancamError(
                    f"X has {arr.shape[1]} points but wavenumbers has {axis.size}.")
            if arr.dtype.kind not in "f":
                if arr.dtype.kind not in "iub":
                    try:
                        arr = arr.astype(np.float64)
                    except (TypeError, ValueError):
                        raise RamancamError(
                            f"X must hold numbers; got dtype {arr.dtype}.") from None
                arr = arr.astype(np.float64)
            bad = ~np.isfinite(arr)
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                raise RamancamError(
                    f"{where(src[i] or None)}intensities must be finite; got {arr[i, j]} in "
                    f"spectrum {i} at {axis[j]:g} cm-1. Remove or interpolate missing values.")
            kept = arr if not copy and arr.dtype.kind == "f" and arr.flags.c_contiguous else None
            self._X = np.array(arr) if kept is None else kept
            self._axis, self._axes, self._ys = axis, None, None
        self._n = n
        # the ids of a subset's rows in the set it was taken from (see ids): a subset of
        # spectra without ids keeps the names its rows had, not new row numbers
        self._row_ids: list[str] | None = None
        self.labels: NDArray[np.str_] | None = (
            None if labels is None else _as_str_column(labels, n, "labels"))
        self.meta: dict[str, NDArray[Any]] = {}
        for k, v in (meta or {}).items():
            col = np.asarray(v)
            if col.ndim != 1 or col.shape[0] != n:
                raise RamancamError(
                    f"metadata column {k!r} must have one value per spectrum ({n}); "
                    f"got shape {col.shape}.")
            self.meta[str(k)] = _own(col)
        self.sources: NDArray[np.str_] = src
        for a in self._arrays():
            a.flags.writeable = False

    # ------------------------------------------------------------------ access
    def _arrays(self) -> Iterable[NDArray[Any]]:
        if self._X is not None and self._axis is not None:
            yield self._X
            yield self._axis
        else:
            yield from self._axes or []
            yield from self._ys or []
        if self.labels is not None:
            yield self.labels
        yield from self.meta.values()
        yield self.sources

    @property
    def has_common_axis(self) -> bool:
        """True when every spectrum shares one axis (so ``X`` is available)."""
        return self._X is not None

    def _need_common(self, what: str) -> None:
        if self._X is None:
            axes = self.axes
            lo = min(min(a[0], a[-1]) for a in axes)
            hi = max(max(a[0], a[-1]) for a in axes)
            raise RamancamError(
                f"{what} needs spectra on one common axis; these {self._n} spectra have "
                f"{len(_distinct_axes(axes))} different axes (together {lo:g}-{hi:g} cm-1). "
                "Resample them onto a common grid first, e.g. "
                "ramancam.preprocess.paper_recipe().apply(spectra) or "
                "ramancam.preprocess.resample(spectra, grid).")

    @property
    def X(self) -> NDArray[Any]:
        """Intensities, shape ``(n_spectra, n_points)`` (common-axis layout only)."""
        self._need_common("stacking into X")
        assert self._X is not None
        return self._X

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_spectra, n_points)``, as :attr:`X`'s (common-axis layout only)."""
        self._need_common("a matrix shape")
        return (self._n, int(self.wavenumbers.size))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        """``np.asarray(spectra)`` is :attr:`X` (common-axis layout only), so a ``Spectra``
        goes wherever scikit-learn or numpy take a matrix of spectra."""
        self._need_common("np.asarray(spectra)")
        assert self._X is not None
        X = self._X if dtype is None else self._X.astype(dtype, copy=False)
        return X.copy() if copy else X

    @property
    def wavenumbers(self) -> NDArray[np.float64]:
        """The common axis, shape ``(n_points,)`` (common-axis layout only)."""
        self._need_common("a single wavenumber axis")
        assert self._axis is not None
        return self._axis

    @property
    def axes(self) -> list[NDArray[np.float64]]:
        """One axis per spectrum (always available)."""
        if self._axes is not None:
            return list(self._axes)
        assert self._axis is not None
        return [self._axis] * self._n

    @property
    def intensities(self) -> list[NDArray[Any]]:
        """One 1-D intensity array per spectrum (always available)."""
        if self._ys is not None:
            return list(self._ys)
        assert self._X is not None
        return list(self._X)

    @property
    def n_spectra(self) -> int:
        return self._n

    @property
    def n_points(self) -> int:
        """Number of points on the common axis (common-axis layout only)."""
        return int(self.wavenumbers.size)

    def __len__(self) -> int:
        return self._n

    @property
    def ids(self) -> list[str]:
        """Each spectrum's name in output tables and messages: the ``id`` metadata column,
        else (for a row whose ``id`` is empty too) its source file's name, its path below the
        files' common folder where names repeat (``s1/a.txt``), ``name#k`` for the ``k``-th
        spectrum of a file that holds several, and "0", "1", ... (row order) for spectra
        that all come from one file or from none (one spectrum read from one file is named
        by the file). A subset (``spectra[mask]``) keeps the names its rows had in the whole
        set."""
        own = ([str(v) for v in self.meta["id"]] if "id" in self.meta
               else [""] * self._n)
        if all(own):
            return own
        if self._row_ids is not None:  # a subset: the names its rows had in the whole set
            return list(self._row_ids)
        taken, out = set(own), []
        for i, (o, f) in enumerate(zip(own, self._source_names(), strict=True)):
            if not o and f in taken:  # a row number that is another row's id
                f = f"{f} (row {i})"
            taken.add(o or f)
            out.append(o or f)
        return out

    def _source_names(self) -> list[str]:
        paths = [str(src) for src in self.sources]
        if not paths or not all(paths) or (len(set(paths)) == 1 and self._n > 1):
            return [str(i) for i in range(self._n)]
        names = [PurePath(q).name for q in paths]
        if len(set(names)) != len(set(paths)):  # one name in two folders: their paths
            import os.path

            top = os.path.commonpath([os.path.abspath(q) for q in paths])
            names = [os.path.relpath(os.path.abspath(q), top) for q in paths]
        count = Counter(paths)
        seen: Counter[str] = Counter()
        out = []
        for q, name in zip(paths, names, strict=True):
            if count[q] == 1:
                out.append(name)
            else:
                seen[q] += 1
                out.append(f"{name}#{seen[q]}")
        return out

    @property
    def classes(self) -> list[str]:
        """Sorted distinct labels, without the empty label of unlabelled spectra (empty
        when there are no labels)."""
        return [] if self.labels is None else sorted(set(self.labels.tolist()) - {""})

    def class_counts(self) -> dict[str, int]:
        """Number of spectra per class, in sorted class order (unlabelled spectra, whose
        label is ``""``, are not counted)."""
        if self.labels is None:
            return {}
        vals, counts = np.unique(self.labels, return_counts=True)
        return {str(v): int(c) for v, c in zip(vals, counts, strict=True) if v != ""}

    def axis_range(self) -> tuple[float, float]:
        """Lowest and highest axis value over all spectra (of the common axis, once: over
        its n copies a repr of 10^6 spectra took 2 s)."""
        if self._X is not None and self._axis is not None:
            return float(self._axis.min()), float(self._axis.max())
        axes = self.axes
        return (float(min(a.min() for a in axes)), float(max(a.max() for a in axes)))

    # ------------------------------------------------------------ derivation
    def __getitem__(self, index: Any) -> Spectra:
        """Subset of spectra by integer, slice, integer array or boolean mask."""
        # every point (s[rows, ...], s[rows, :], s[rows, 0:], s[rows, ::1]): the rows
        if isinstance(index, tuple) and len(index) == 2 and (
                index[1] is Ellipsis or (isinstance(index[1], slice) and index[1].start in (
                    None, 0) and index[1].stop is None and index[1].step in (None, 1))):
            index = index[0]  # s[rows, ...], s[rows, :]: rows (scikit-learn indexes so)
        if isinstance(index, tuple):  # s[:, 10:20]: numpy's bare "too many indices"
            raise RamancamError(
                f"Spectra index must select spectra (rows) only; got {len(index)} indices. "
                "Take points by Raman shift with ramancam.preprocess.crop(s.X, s.wavenumbers,"
                " lo, hi), or index the array: s.X[:, 10:20].")
        idx = np.atleast_1d(np.arange(self._n)[index])  # out of range: IndexError, as lists
        labels = None if self.labels is None else self.labels[idx]
        meta = {k: v[idx] for k, v in self.meta.items()}
        if self._X is not None:
            sub = Spectra(self._X[idx], self._axis, labels, meta, self.sources[idx])
        elif not idx.size:  # nothing selected: an empty set, as on a common axis
            assert self._axes is not None
            sub = Spectra(np.empty((0, self._axes[0].size)), self._axes[0], labels, meta,
                          self.sources[idx])
        else:
            assert self._ys is not None and self._axes is not None
            sub = Spectra([self._ys[i] for i in idx], [self._axes[i] for i in idx], labels,
                          meta, self.sources[idx])
        sub._row_ids = self._names_of(idx)
        return sub

    def _names_of(self, idx: NDArray[np.intp]) -> list[str] | None:
        """What :attr:`ids` gives rows ``idx`` when they are not all in an ``id`` column
        (``None`` when they are): a subset keeps its rows' names in the whole set (a spectrum
        left out before did not renumber the rest). Cheap in the common case, row numbers of
        one file, since chunked loops take thousands of subsets of one large map."""
        col = self.meta.get("id")
        if col is not None and not (np.asarray(col).astype(str) == "").any():
            return None  # every row named by its id
        if self._row_ids is not None:
            return [self._row_ids[i] for i in idx]
        src = self.sources
        if col is None and (not src.size or (src == "").any() or (src == src[0]).all()):
            return [str(int(i)) for i in idx]  # row numbers (see ids)
        names = self.ids
        return [names[i] for i in idx]

    def replace(self, X: Any = None, wavenumbers: Any = None, *,
                labels: Any = "keep", meta: Mapping[str, ArrayLike] | None = None,
                copy: bool = True) -> Spectra:
        """New ``Spectra`` with new intensities/axis, keeping labels, metadata and sources
        (``copy=False``: a new C-contiguous float ``X`` is kept itself, as in the
        constructor, where the caller made it and hands it over)."""
        if X is None:
            X = self._X if self._X is not None else self._ys
        if wavenumbers is None:
            wavenumbers = self._axis if self._axis is not None else self._axes
        out = Spectra(X, wavenumbers,
                      self.labels if isinstance(labels, str) and labels == "keep" else labels,
                      self.meta if meta is None else meta, self.sources, copy=copy)
        if self._row_ids is not None and len(out) == len(self._row_ids):
            out._row_ids = self._row_ids  # the same rows
        return out

    @staticmethod
    def concat(parts: Sequence[Spectra]) -> Spectra:
        """Stack several ``Spectra``; metadata columns missing in a part become ``""``."""
        if not parts:
            raise RamancamError("concat needs at least one Spectra; got none.")
        keys: list[str] = []
        for p in parts:
            keys += [k for k in p.meta if k not in keys]
        # a column every part has keeps its type (x/y positions stay numbers: a map split
        # and joined is still a map); one some parts lack becomes objects, "" where missing
        meta = {k: _joined([p.meta.get(k) for p in parts], [len(p) for p in parts])
                for k in keys}
        has_labels = [p.labels is not None for p in parts]
        if any(has_labels) and not all(has_labels):
            raise RamancamError("concat needs all parts labelled or none labelled.")
        labels = np.concatenate([p.labels for p in parts]) if all(has_labels) else None
        sources = np.concatenate([p.sources for p in parts])
        ys = [y for p in parts for y in p.intensities]
        axes = [a for p in parts for a in p.axes]
        return Spectra(ys, axes, labels, meta, sources)

    def __repr__(self) -> str:
        # (an empty set on a common axis has its range too: it printed nan-nan)
        lo, hi = (self.axis_range() if self._n or self._axis is not None
                  else (float("nan"), float("nan")))
        layout = (f"{self.n_points} points" if self.has_common_axis
                  else "per-spectrum axes")
        k = len(self.classes)
        lab = f", {k} class{'es' if k != 1 else ''}" if self.labels is not None else ""
        return f"Spectra({spectra_count(self._n)}, {layout}, {lo:g}-{hi:g}{lab})"


def labels_for_fit(X: Any, y: ArrayLike | None) -> ArrayLike:
    """The labels a classifier's ``fit(X, y)`` trains on: ``y``, or, when it is left out and
    ``X`` is a :class:`Spectra`, its labels (which must all be there: an empty label marks
    an unlabelled spectrum, which no class may learn; an empty label in ``y`` is refused
    alike).

    Raises
    ------
    RamancamError
        If ``y`` is left out and ``X`` is not a ``Spectra``, or one without labels, or with
        unlabelled spectra; if ``y`` holds an empty label.
    """
    if y is not None:
        # as objects first: np.asarray(["a", nan]) makes the NaN a class called "nan"
        yo = np.asarray(y, dtype=object) if isinstance(y, list | tuple) else np.asarray(y)
        if yo.ndim == 1 and yo.dtype.kind in "OfU":
            missing = np.flatnonzero(_missing(yo.tolist())).tolist()
            if missing:
                raise RamancamError(
                    f"y must hold a class for every spectrum; got {len(missing)} missing "
                    f"label{'s' if len(missing) > 1 else ''} (None or NaN, the first at "
                    f"position {missing[0]}). Leave those spectra out first, or label them.")
        ya = np.asarray(y)
        if ya.dtype.kind in "UO" and ya.ndim == 1:
            empty = np.flatnonzero(np.array([v == "" for v in ya.tolist()], dtype=bool))
            if empty.size:
                raise RamancamError(
                    f"y must hold a class for every spectrum; got {empty.size} empty "
                    f"label{'s' if empty.size > 1 else ''} (unlabelled spectra, the first at "
                    f"position {int(empty[0])}), which a class would learn. Leave them out "
                    'first: keep = y != ""; fit(X[keep], y[keep]).')
        return y
    if not isinstance(X, Spectra):
        # scikit-learn's words first (its estimator checks look for them), then the fix
        raise RamancamError(
            "This classifier requires y to be passed, but the target y is None, and X is an "
            "array, which holds no labels (a Pipeline's steps turn a Spectra into one). "
            "Pass the labels: fit(data, data.labels).")
    if X.labels is None:
        raise RamancamError("y must be given when X is a Spectra without labels; got "
                            "neither. Pass y, or read the spectra with their labels.")
    if (X.labels == "").any():
        raise RamancamError(f"X must hold labelled spectra only; got {int((X.labels == '').sum())}"
                            ' with an empty label. Leave them out first: X[X.labels != ""] '
                            "(ramancam train does).")
    return X.labels


def _is_ragged(X: Any, wavenumbers: Any) -> bool:
    if isinstance(wavenumbers, np.ndarray):
        return wavenumbers.dtype == object
    if isinstance(wavenumbers, (list, tuple)) and wavenumbers:
        first = wavenumbers[0]
        return isinstance(first, (np.ndarray, list, tuple))
    return False


def _all_equal_axes(axes: Sequence[NDArray[np.float64]]) -> bool:
    a0 = axes[0]
    return all(a.shape == a0.shape and np.array_equal(a, a0) for a in axes[1:])


def _one_direction(axes: list[NDArray[np.float64]], ys: list[NDArray[Any]]
                   ) -> tuple[list[NDArray[np.float64]], list[NDArray[Any]]]:
    """The spectra in the direction of the first one's axis, when that makes every axis the
    same (one file written descending, the others ascending, on the same points); else as
    they are."""
    down = axes[0][0] > axes[0][-1]
    turned = [(a[::-1], y[::-1]) if a.size > 1 and (a[0] > a[-1]) != down else (a, y)
              for a, y in zip(axes, ys, strict=True)]
    if not _all_equal_axes([a for a, _ in turned]):
        return axes, ys
    return [_own(a) for a, _ in turned], [_own(y) for _, y in turned]


def _distinct_axes(axes: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    out: list[NDArray[np.float64]] = []
    for a in axes:
        if not any(a.shape == b.shape and np.array_equal(a, b) for b in out):
            out.append(a)
    return out


def _missing(values: Iterable[Any]) -> NDArray[np.bool_]:
    """Which values are missing ones, as pandas and Python write them: None, a float NaN,
    ``pd.NA`` or ``pd.NaT`` (a label, for instance, that was never given)."""
    return np.array([v is None or (isinstance(v, float | np.floating) and v != v)
                     or type(v).__name__ in ("NAType", "NaTType") for v in values],
                    dtype=bool)


def _as_str_column(values: ArrayLike | None, n: int, name: str, default: str | None = None
                   ) -> NDArray[np.str_]:
    if values is None:
        return np.full(n, default if default is not None else "", dtype=object).astype(str) \
            if n else np.zeros(0, dtype="<U1")
    col = np.asarray(values)
    if col.ndim != 1 or col.shape[0] != n:
        raise RamancamError(f"{name} must have one value per spectrum ({n}); got shape "
                            f"{col.shape}.")
    if col.dtype.kind == "f":
        # whole numbers as integers: pandas stores an integer column with a missing value
        # as floats, and its classes 1, 2 became '1.0', '2.0' (the table reader gives '1')
        missing = np.isnan(col)
        kept = col[~missing]
        if kept.size and np.isfinite(kept).all() and (kept == np.round(kept)).all() \
                and np.abs(kept).max() < 2.0 ** 53:
            text = np.array([str(int(v)) for v in np.where(missing, 0.0, col)], dtype=str)
        else:
            text = col.astype(str)
        return np.where(missing, "", text) if missing.any() else text  # missing: unlabelled
    if col.dtype.kind == "O":  # None or NaN among objects: "" as well, not "None", "nan"
        missing = _missing(col)
        if missing.any():
            return np.where(missing, "", col.astype(str))
    return col.astype(str)
