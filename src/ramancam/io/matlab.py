"""MATLAB files (``.mat``): a matrix of spectra beside a vector of Raman shifts.

Chemometrics data sets are often shared as MATLAB files: a matrix with one spectrum per row,
the Raman-shift axis as a vector, and vectors of class labels, batches or other sample
information. Versions 4 to 7 are read with ``scipy.io.loadmat``, version 7.3 (HDF5) with
``h5py``; numbers and text only, nothing in the file is executed.

What is taken from the file:

* **the spectra**: a real 2-D matrix whose rows (or columns) have the length of a strictly
  monotonic real vector in the file, **the axis** (a square matrix: its rows). With several
  such vectors, in either layout, those whose values may be Raman shifts (a span of 50 or
  more within -1000..10000) are kept: a time vector, positions or sample numbers 1..n, one
  value per spectrum, fit the other layout too. Of one left in each layout, the one named as
  Raman shifts (the whole name ``shift``, ``ramanshift``, ``wavenumber``, ``wn``, ``nu``,
  ``axis``...; not ``x``) is taken. A matrix that still reads more than one way, or on two
  vectors of one length (``ramanshift`` and ``wavelength``), is refused with its readings;
  name its axis: ``read_mat(path, variable="shift")``, ``FILE.mat:shift``.
  With several such matrices (say Raman and NIR spectra of the same samples) name the one
  to read: ``read_mat(path, variable="Raman")``, or on the command line ``FILE.mat:Raman``.
* **one spectrum**: a file without such a matrix may hold one spectrum, as an N x 2 (or
  2 x N) ``[shift intensity]`` matrix one of whose columns (rows) is strictly monotonic
  within -5000..5000, or, with no matrix at all, as two vectors of one length, the shifts
  the one named as an axis (else the only strictly monotonic one in that range).
* **metadata**: every other variable with one value per spectrum (a numeric vector, a cell
  array of text, a char matrix with one row per spectrum) becomes a metadata column of its
  name, as text, so ``label_col`` (``--label-col``) picks the labels and ``--group-col`` the
  groups. Variables ``x`` and ``y`` become pixel positions.
* **no padding**: a nonzero value held at the ends of every spectrum (food/astragalus: 10.0
  at 100-108 and 3312-4278 cm-1) is a fill, not a measurement; it is left out with a warning,
  as the table readers do.

Fields of a struct are named ``struct.field``. MATLAB objects (``table``, ``string``,
PLS_Toolbox ``dataset``) cannot be read outside MATLAB: save their contents as plain matrices
and vectors (``X = ds.data; shift = ds.axisscale{2}; save('f.mat', 'X', 'shift', ...)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RamancamError
from ..spectra import Spectra
from ._mat5check import check_mat5, largest_declared
from ._text import check_exists, number_text
from ._vendor import library_boundary, no_memory
from .table import _edge_gaps, _fill, _positions, spectra_kept

__all__ = ["read_mat"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_AXIS_NAME = re.compile(r"shift|wave|wn|axis|raman|cm|freq", re.IGNORECASE)
#: Raman shifts (cm-1) the axis of a single spectrum stored beside it may span: a column or
#: vector of intensities is rarely strictly monotonic, and then mostly beyond these.
_ONE_AXIS_RANGE = (-5000.0, 5000.0)
#: Names that may be the axis, or as well a pixel position (``x``), so a vector named as
#: :data:`_AXIS_NAME` says wins over them.
_MAYBE_AXIS_NAME = re.compile(r"^x$|^ax$", re.IGNORECASE)
_MAX_DEPTH = 3
#: Whole names (case, ``_``, ``-`` and spaces aside) that say a vector holds Raman shifts.
_SHIFT_NAMES = frozenset({
    "shift", "shifts", "ramanshift", "ramanshifts", "rs", "wavenumber", "wavenumbers", "wn",
    "nu", "raman", "cm1", "cminv", "axis"})
#: Raman shifts (cm-1) an axis vector of several that fit a matrix may hold, and the span
#: it must have at least: a line scan's 0-10 positions or concentrations 0.1-5 do not.
_SHIFT_RANGE = (-1000.0, 10000.0)
_SHIFT_SPAN = 50.0


def read_mat(path: str | os.PathLike[str], *, label_col: str | None = None,
             variable: str | None = None) -> Spectra:
    """Read the spectra of a MATLAB ``.mat`` file (see the module docstring for the layout).

    Parameters
    ----------
    path : str or path-like
        A ``.mat`` file, version 4 to 7.3.
    label_col : str, optional
        The variable holding the class label of each spectrum.
    variable : str, optional
        The matrix of spectra, when the file holds more than one (``struct.field`` for a
        field of a struct), or the axis vector to read it on, when several fit.

    Returns
    -------
    Spectra
        One spectrum per row of the matrix, on the axis vector (less a fill value held at
        its ends in every spectrum); the other per-spectrum
        variables as text metadata (``x``/``y`` as float positions); ``sources`` name the
        file.

    Raises
    ------
    RamancamError
        A damaged file (a v5 file's damaged element named with its variable and offset,
        before scipy reads it), no matrix with a matching axis vector, several of them or a matrix
        that reads two ways (rows on one vector, columns on another) and no ``variable``, an
        unknown ``variable`` or ``label_col`` (the file's variables are
        listed), or values that are not finite (the spectrum and shift named).
    """
    p = check_exists(Path(path))
    with library_boundary(p, "matlab"):
        vars_ = dict(_load(p))
    name, X, axis = _spectra_matrix(vars_, p, variable)
    n = X.shape[0]
    meta = {k: _text_column(v) for k, v in vars_.items()
            if k not in (name, axis[0]) and _per_spectrum(v, n)}
    labels = None
    if label_col is not None:
        if label_col not in meta:
            raise RamancamError(
                f"file {p}: the label must be a variable with one value per spectrum ({n}); "
                f"got label_col={label_col!r}, but those variables are {_names(meta)}. Pass "
                "one of them as label_col (--label-col).")
        labels = np.char.strip(meta.pop(label_col))
    shifts = axis[1]
    if (fill := _fill(X, shifts, str(p))) is not None:  # padding: left out, as from a table
        X, shifts = np.ascontiguousarray(X[:, fill]), shifts[fill]
    kept = _edge_gaps(X, lambda i, j: (f"file {p}: {name} spectrum {i + 1}: ",
                                       f"{shifts[j]:g}"))
    return spectra_kept(X, shifts, kept, labels=labels, meta=_positions(meta),
                        sources=[str(p)] * n)


def _load(p: Path) -> Iterator[tuple[str, Any]]:
    """(name, value) of every variable, struct fields flattened to ``struct.field``."""
    with open(p, "rb") as fh:
        head = fh.read(512)
    if head.startswith(_HDF5_MAGIC) or b"MATLAB 7.3" in head:
        yield from _load_v73(p)
        return
    from scipy.io import loadmat

    declared = check_mat5(p)  # scipy's C reader dies (segmentation fault) on some damaged tags
    try:
        d = loadmat(p, simplify_cells=True, chars_as_strings=True)
    except MemoryError:  # what the file declares does not fit (a compressed 4 MB file can
        # hold a 4 GB matrix of zeros); check_mat5 refused the tags that overrun the file
        raise no_memory(p, "matlab", largest_declared(declared)) from None
    for k, v in d.items():
        if not k.startswith("__"):
            yield from _flatten(k, v, 0)


def _flatten(name: str, value: Any, depth: int) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if depth < _MAX_DEPTH:
            for k, v in value.items():
                yield from _flatten(f"{name}.{k}", v, depth + 1)
        return
    yield name, value


def _load_v73(p: Path) -> Iterator[tuple[str, Any]]:
    import h5py

    with h5py.File(p, "r") as f:
        found: list[tuple[str, Any]] = []

        def visit(key: str, obj: Any) -> None:
            if key.startswith("#") or not isinstance(obj, h5py.Dataset):
                return
            found.append((key.replace("/", "."), _h5_value(f, obj)))

        f.visititems(visit)
    yield from found


def _h5_value(f: Any, ds: Any) -> Any:
    """A v7.3 dataset as loadmat would give it: transposed to MATLAB's shape, squeezed,
    text decoded."""
    cls = ds.attrs.get("MATLAB_class", b"")
    cls = cls.decode() if isinstance(cls, bytes) else str(cls)
    if ds.attrs.get("MATLAB_empty", 0):
        return np.zeros(0)
    data = np.asarray(ds[()]).T
    if cls == "char":
        rows = np.atleast_2d(data)
        text = ["".join(map(chr, r)).rstrip() for r in rows]
        return text[0] if len(text) == 1 else np.array(text)
    if cls == "cell":
        items = [_h5_value(f, f[ref]) for ref in data.ravel(order="F")]
        return items
    if data.dtype.kind not in "fiub":
        return None  # references, objects: nothing a spectrum is made of
    return np.squeeze(data)


def _vector(v: Any) -> np.ndarray | None:
    """``v`` as a 1-D real array (a row or column vector), or None."""
    if not isinstance(v, np.ndarray) or v.dtype.kind not in "fiu":
        return None
    a = np.squeeze(v)
    return a.astype(np.float64) if a.ndim == 1 and a.size >= 3 else None


def _matrix(v: Any) -> np.ndarray | None:
    if (isinstance(v, np.ndarray) and v.dtype.kind in "fiu" and v.ndim == 2
            and min(v.shape) >= 2):
        return v.astype(np.float64)
    return None


def _monotonic(a: np.ndarray) -> bool:
    if not np.isfinite(a).all():
        return False
    d = np.diff(a)
    return bool((d > 0).all() or (d < 0).all())


def _axis_named(name: str) -> int:
    """2 for a vector named as an axis, 1 for one that may be (``x``), 0 otherwise."""
    last = name.rsplit(".", 1)[-1]
    return 2 if _AXIS_NAME.search(last) else 1 if _MAYBE_AXIS_NAME.search(last) else 0


def _shift_named(name: str) -> bool:
    """Whether ``name`` (its last field) says Raman shifts, as a whole name: ``shift``,
    ``wavenumber``, ``nu``, ``axis``... (case, ``_``, ``-`` and spaces aside); not ``x``, not
    ``wavelength``, not ``time_axis`` or ``depth_cm``."""
    last = re.sub(r"[_\s-]", "", name.rsplit(".", 1)[-1]).lower()
    return last in _SHIFT_NAMES


def _shift_like(a: np.ndarray) -> bool:
    """Whether a vector's values may be Raman shifts (cm-1): :data:`_SHIFT_SPAN` or more
    within :data:`_SHIFT_RANGE`; a line scan's positions, depths, times in seconds or
    concentrations mostly are not."""
    lo, hi = float(a.min()), float(a.max())
    return (hi - lo >= _SHIFT_SPAN and _SHIFT_RANGE[0] <= lo
            and hi <= _SHIFT_RANGE[1])


def _readings(m: np.ndarray, axes: dict[str, np.ndarray], axis: str | None
              ) -> list[tuple[bool, str]]:
    """(rows?, axis name) of every way ``m`` reads as spectra: one per row on a vector of
    its row length, or one per column on a vector of its column length (``axis``: on that
    vector only; a square matrix: its rows). Of several, those on values that may be Raman
    shifts (:func:`_shift_like`) are kept, when any is: a time vector, positions or sample
    numbers 1..n fit the other layout as well. Two left in one layout (a wavelength and a
    Raman-shift vector of one length, say) stay for the caller to refuse; of two layouts,
    one on a vector named as Raman shifts (:func:`_shift_named`) wins. More than one
    reading is for the caller to refuse."""
    fits = [(rows, a) for rows in (True, False) for a in axes
            if axes[a].size == m.shape[1 if rows else 0] and axis in (None, a)]
    if m.shape[0] == m.shape[1]:  # a square matrix: rows, as documented
        fits = [f for f in fits if f[0]]
    if len(fits) > 1:
        fits = [f for f in fits if _shift_like(axes[f[1]])] or fits
    if len(fits) > 1 and len({rows for rows, _ in fits}) == len(fits):
        fits = [f for f in fits if _shift_named(f[1])] or fits
    return fits


def _axis_like(a: np.ndarray) -> bool:
    """A vector that can be the Raman shifts of one spectrum beside it: strictly monotonic
    and within :data:`_ONE_AXIS_RANGE`."""
    return (_monotonic(a) and _ONE_AXIS_RANGE[0] <= float(a.min())
            and float(a.max()) <= _ONE_AXIS_RANGE[1])


def _one_spectrum(vars_: dict[str, Any], mats: dict[str, np.ndarray], name: str | None
                  ) -> tuple[str, np.ndarray, tuple[str, np.ndarray]] | None:
    """(name, the spectrum as a 1-row matrix, (axis name, axis)) of a file that holds one
    spectrum: an N x 2 (or 2 x N) ``[shift intensity]`` matrix, one of whose columns (rows)
    is :func:`_axis_like`, or, in a file without a matrix, two vectors of one length, the
    axis the axis-named one (else the only axis-like one); ``None`` unless exactly one such
    reading exists (``name``: of the matrix or either vector)."""
    found = []
    for k, m in mats.items():
        if 2 in m.shape and max(m.shape) >= 3:
            cols = m.shape[1] == 2
            lines = m.T if cols else m
            ax = [j for j in (0, 1) if _axis_like(lines[j])]
            if len(ax) == 1 and name in (None, k):
                j = ax[0]
                found.append((k, lines[1 - j][None, :],
                              (f"{k} {'column' if cols else 'row'} {j + 1}", lines[j]), 0))
    # vectors only in a file without a matrix: beside one, they are its metadata
    vecs = {k: a for k, v in vars_.items() if not mats and (a := _vector(v)) is not None}
    pairs = [(k, y[None, :], (a, vecs[a]), _axis_named(a)) for a in vecs
             if _axis_like(vecs[a]) for k, y in vecs.items()
             if k != a and y.size == vecs[a].size and name in (None, k, a)]
    best = max((f[3] for f in pairs), default=0)
    found += [f for f in pairs if f[3] == best]
    return found[0][:3] if len(found) == 1 else None


def _reading_text(m: np.ndarray, rows: bool, a: str, axes: dict[str, np.ndarray]) -> str:
    return f"{m.shape[0 if rows else 1]} spectra on {a} ({axes[a].size} points)"


def _spectra_matrix(vars_: dict[str, Any], p: Path, variable: str | None
                    ) -> tuple[str, np.ndarray, tuple[str, np.ndarray]]:
    """(name, spectra one per row, (axis name, axis)) of the matrix to read; ``variable``
    names the matrix or its axis vector."""
    if variable == "":  # FILE: said the file did not exist
        raise RamancamError(
            f"file {p}: the ':' must be followed by a variable's name; got none. Its variables: "
            f"{_described(vars_)}. Name one as {p}:NAME, or give {p} alone.")
    axes = {k: a for k, v in vars_.items() if (a := _vector(v)) is not None and _monotonic(a)}
    mats = {k: m for k, v in vars_.items() if (m := _matrix(v)) is not None}
    axis = variable if variable in axes else None
    if axis is not None:
        variable = None
    found: dict[str, tuple[np.ndarray, tuple[str, np.ndarray]]] = {}
    several: dict[str, list[tuple[bool, str]]] = {}  # matrices that read more than one way
    for k, m in mats.items():
        readings = _readings(m, axes, axis)
        if len(readings) > 1:
            several[k] = readings
        elif readings:
            rows, name = readings[0]
            found[k] = (m if rows else m.T, (name, axes[name]))

    def two_ways(k: str) -> RamancamError:
        m = mats[k]
        told = " or as ".join(_reading_text(m, r, a, axes) for r, a in several[k])
        return RamancamError(
            f"file {p}: the matrix {k} ({m.shape[0]}x{m.shape[1]}) reads as {told}; name "
            f"its axis as {p}:AXIS (Python: variable='AXIS').")

    if not found and not several and (one := _one_spectrum(vars_, mats, variable or axis)):
        return one
    if variable is not None:
        if variable in several:
            raise two_ways(variable)
        if variable not in found:
            what = (f"{variable!r} is not a matrix with an axis vector of its length"
                    if variable in vars_ else f"there is no variable {variable!r}")
            raise RamancamError(
                f"file {p} must hold the named matrix of spectra; {what}. Its variables: "
                f"{_described(vars_)}.")
        M, ax = found[variable]
        return variable, M, ax
    if axis is not None and not found and not several:
        raise RamancamError(
            f"file {p}: the axis vector {axis} ({axes[axis].size} values) must have the length "
            f"of the rows or columns of a matrix of spectra; got {_described(vars_)}. Name "
            f"the matrix of spectra as {p}:NAME, or another axis vector.")
    if len(found) == 1 and not several:
        k, (M, ax) = next(iter(found.items()))
        return k, M, ax
    if len(several) == 1 and not found:
        raise two_ways(next(iter(several)))
    if found or several:
        listed = ", ".join(
            [f"{k} ({v[0].shape[0]}x{v[0].shape[1]}, axis {v[1][0]})" for k, v in found.items()]
            + [f"{k} ({mats[k].shape[0]}x{mats[k].shape[1]}, axis "
               f"{' or '.join(a for _, a in r)})" for k, r in several.items()])
        raise RamancamError(
            f"file {p} holds {len(found) + len(several)} matrices of spectra: {listed}; name "
            f"the one to read as {p}:NAME (Python: variable='NAME').")
    if mats:
        k, m = next(iter(mats.items()))
        raise RamancamError(
            f"file {p} must hold, beside its matrix of spectra, a vector of their Raman "
            f"shifts (strictly increasing or decreasing, one per column), or, for one "
            f"spectrum, a [shift intensity] matrix of two columns, the shifts in one; got "
            f"{_described(vars_)}. Save the axis into the file as a variable (e.g. save(F, "
            f"'{k}', 'shift')).")
    if any(_vector(v) is not None for v in vars_.values()):
        raise RamancamError(
            f"file {p} must hold a matrix of spectra (one per row) and a vector of Raman "
            f"shifts, or one spectrum as two vectors of one length; got {_described(vars_)}. "
            "Keep one spectrum's intensities and shifts (e.g. save(F, 'spectrum', 'shift')),"
            " or save several spectra as a matrix, one per row.")
    raise RamancamError(
        f"file {p} must hold a matrix of spectra (one per row) and a vector of Raman shifts; "
        f"got {_described(vars_) or 'no variables'}. MATLAB objects (table, string, dataset) "
        "are not read: save their contents as plain matrices and vectors.")


def _per_spectrum(v: Any, n: int) -> bool:
    if isinstance(v, list):
        return len(v) == n and all(isinstance(e, (str, int, float)) for e in v)
    if isinstance(v, np.ndarray):
        a = np.squeeze(v) if v.dtype.kind != "U" or v.ndim != 1 else v
        return a.ndim == 1 and a.size == n and a.dtype.kind in "fiubUO"
    return False


def _text_column(v: Any) -> np.ndarray:
    vals = list(v) if isinstance(v, list) else list(np.squeeze(v)) if np.ndim(v) else [v]
    return np.array([_text(e) for e in vals], dtype=str)


def _text(e: Any) -> str:
    if isinstance(e, (bool, np.bool_)):
        return str(bool(e)).lower()
    if isinstance(e, (int, np.integer)):
        return str(int(e))
    if isinstance(e, (float, np.floating)):
        f = float(e)
        if not np.isfinite(f):
            return ""
        return number_text(f)
    if isinstance(e, np.ndarray):  # a text cell that loadmat left as an array
        return "".join(str(c) for c in e.ravel()).strip() if e.dtype.kind == "U" else ""
    return str(e).strip()


def _describe(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return "x".join(str(s) for s in v.shape) or "scalar"
    if isinstance(v, list):
        return f"cell {len(v)}"
    if isinstance(v, str):
        return "text"
    return type(v).__name__


def _described(vars_: dict[str, Any]) -> str:
    return ", ".join(f"{k} ({_describe(v)})" for k, v in vars_.items())


def _names(d: dict[str, Any]) -> str:
    return ", ".join(d) if d else "none"
