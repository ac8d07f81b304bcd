"""Long ("tidy") tables: one row per data point, as pandas ``melt`` and R's ``pivot_longer``
write spectra, and as many databases export them::

    id,label,shift,intensity
    s01,PE,400.0,0.0132
    s01,PE,401.0,0.0135
    ...
    s02,PP,400.0,0.0101

A header names a Raman-shift column and an intensity column (the names of
:data:`ramancam.io.longmap.COLUMN_NAMES`: ``shift``, ``wavenumber``, ``Raman shift (cm-1)``,
``Wavelength (nm)``, ``intensity``, ``counts``, ...) beside one or more other columns (id,
label, sample, batch, x, y, ...). The rows of one spectrum share the values of all the other
columns; they need not be contiguous (``melt`` interleaves the spectra) nor sorted by shift,
and each spectrum may have its own axis. The other columns become metadata, text as written
(``x`` and ``y`` as numbers when every value is one, for :mod:`ramancam.maps`);
``label_col`` names the one holding the class. A column with an empty name, as pandas
writes its row index, is left out.
A shift column titled in wavelengths (``Wave (nm)``, ``X-axis [µm]``: see
:func:`ramancam.io._units.wavelength_title`) is read in nm, with ``x_units`` ``"nm"``.
Rows of x, y, shift and intensity only (no other column) are WiRE's long map export
(:mod:`ramancam.io.longmap`); a shift and an intensity column alone, a two-column file.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError, where
from ..spectra import Spectra, check_axis
from ._text import (
    DecimalCommas,
    check_exists,
    check_point_rows_thousands,
    grouped_counts_maybe,
    has_decimal_comma,
    is_number,
    read_text,
    short,
)
from ._units import wavelength_title
from .longmap import _ROLE_OF, _norm
from .table import _lines, sniff_delimiter

__all__ = ["looks_tidy", "parse_tidy", "read_tidy"]


def _header(text: str) -> tuple[int, str] | None:
    """The first non-blank line and its number (1-based)."""
    for i, ln in enumerate(text[:20000].splitlines()):
        if ln.strip():
            return i + 1, ln
    return None


def _cells(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]


def _roles(cells: list[str]) -> list[str | None]:
    return [_ROLE_OF.get(_norm(c)) if c else None for c in cells]


def looks_tidy(text: str) -> bool:
    """True when the first non-blank line is a header naming exactly one Raman-shift column
    and one intensity column beside at least one named column that is neither (see the
    module docstring)."""
    head = _header(text)
    if head is None:
        return False
    line = head[1].lstrip("#")
    cells = _cells(line, sniff_delimiter(line))
    roles = _roles(cells)
    # a unit alone ("(nm)", "(cm-1)": a header parted by spaces) names no column of its own
    other = [r for c, r in zip(cells, roles, strict=True)
             if r not in ("shift", "intensity") and _norm(c)]
    if roles.count("shift") != 1 or roles.count("intensity") != 1 or not other:
        return False
    if all(r in ("x", "y", "z") for r in other):
        return False  # x, y (z), shift, intensity: the long map export
    return not any(is_number(c) for c in cells)


def read_tidy(path: str | os.PathLike[str], *, label_col: str | None = None) -> Spectra:
    """Read a long table (one row per point; see the module docstring).

    Parameters
    ----------
    path : str or path-like
        The text file (``.gz`` too).
    label_col : str, optional
        The column holding each spectrum's class.

    Returns
    -------
    Spectra
        One spectrum per combination of the other columns' values, in the order of their
        first rows.

    Raises
    ------
    RamancamError
        See :func:`parse_tidy`.
    """
    p = check_exists(path)
    return parse_tidy(read_text(p), source=str(p), label_col=label_col)


def parse_tidy(text: str, *, source: str = "", label_col: str | None = None) -> Spectra:
    """Parse the text of a long table (see :func:`read_tidy`).

    Raises
    ------
    RamancamError
        No header or no data rows; ``label_col`` not a column; a row with another number of
        fields, or a shift or intensity that is not a finite number (file and line named);
        a spectrum with a Raman shift twice (both lines named) or fewer than 2 points.
    """
    src = source or None
    head = _header(text)
    if head is None:
        raise RamancamError(f"file {source or '<text>'} must hold a header and rows of data; "
                            "got an empty file. Check that the right file was given.")
    line0, header_line = head
    delimiter = sniff_delimiter(header_line.lstrip("#"))
    names = _cells(header_line.lstrip("#"), delimiter)
    roles = _roles(names)
    i_shift, i_int = roles.index("shift"), roles.index("intensity")
    keys = [k for k, n in enumerate(names) if k not in (i_shift, i_int) and n]
    key_names = [names[k] for k in keys]
    if label_col is not None and label_col not in key_names:
        raise RamancamError(
            f"{where(src, line0)}label column must be one of the table's columns; got "
            f"{label_col!r}, but the columns beside {names[i_shift]!r} and {names[i_int]!r} "
            f"are {', '.join(repr(n) for n in key_names)}. Pass one of them as label_col "
            "(--label-col).")
    comma = _writes_decimal_commas(text, line0, delimiter, (i_shift, i_int))
    ncol = len(names)
    got = _stream_rows(text, line0, delimiter, ncol, i_shift, i_int, keys, comma)
    if got is None:  # a bad row (named by the line-by-line path), or rare line ends
        got = _kept_rows(text, line0, delimiter, ncol, i_shift, i_int, keys, comma, src,
                         names)
    shift, value, spectrum, line_no, key_rows = got
    # '1.251' beside '987' (comma-separated files group no thousands with points, and in a
    # file of decimal commas DecimalCommas reads them): maybe 1251
    if delimiter != "," and not comma and grouped_counts_maybe(value):
        check_point_rows_thousands(_body_rows(text, line0, delimiter), spectrum, i_shift,
                                   i_int, f"in column {names[i_int]!r}", source)
    del text  # not needed any more (a caller may still hold it)
    order = np.argsort(spectrum, kind="stable")
    axes: list[NDArray[np.float64]] = []
    ints: list[NDArray[np.float64]] = []
    for key, idx in zip(key_rows, np.split(order, np.flatnonzero(np.diff(spectrum[order])) + 1),
                        strict=True):
        what = ", ".join(f"{k}={v}" for k, v in zip(key_names, key, strict=True))
        by_shift = idx[np.argsort(shift[idx], kind="stable")]
        w = shift[by_shift]
        same = np.flatnonzero(np.diff(w) == 0)
        if same.size:
            a, b = sorted(int(line_no[by_shift[same[0] + j]]) for j in (0, 1))
            raise RamancamError(
                f"{where(src, b)}each spectrum must have each Raman shift once; got "
                f"{w[same[0]]:g} twice for the spectrum {what} (lines {a} and {b}). Remove "
                "the repeated row, or add a column that tells the two spectra apart.")
        if w.size < 2 and all(is_number(str(v)) for k in key_rows for v in k):
            # numbers that change from point to point: a per-point value, not an id
            raise RamancamError(
                f"{where(src, int(line_no[idx[0]]))}the columns beside {names[i_shift]!r} "
                f"and {names[i_int]!r} must name the spectra of a long table (one row per "
                f"point); got {', '.join(repr(n) for n in key_names)}, numbers that change "
                "from point to point, as a standard deviation or an error does. For one "
                "spectrum, keep only the shift and intensity columns.")
        if w.size < 2:
            raise RamancamError(
                f"{where(src, int(line_no[idx[0]]))}each spectrum must have at least 2 "
                f"points; got 1 for the spectrum {what}. Check the id columns.")
        axes.append(check_axis(w, name=f"the Raman shift of the spectrum {what}", source=src))
        ints.append(value[by_shift])
    meta = _meta(key_names, key_rows, label_col)
    if (nm_per_unit := wavelength_title(names[i_shift])) is not None:  # "Wave (nm)"
        axes = [a * nm_per_unit for a in axes]  # converted with --laser-nm, else refused
        meta["x_units"] = np.full(len(axes), "nm")
    labels = None
    if label_col is not None:
        labels = np.array([k[key_names.index(label_col)] for k in key_rows], dtype=object)
    n_spec = len(axes)
    common = all(a.size == axes[0].size and np.array_equal(a, axes[0]) for a in axes)
    if common:
        return Spectra(np.stack(ints), axes[0], labels=labels, meta=meta,
                       sources=[source] * n_spec)
    return Spectra(ints, axes, labels=labels, meta=meta, sources=[source] * n_spec)


#: What the rows of a long table come to: each row's shift, intensity, spectrum number and
#: line, and each spectrum's key (the other columns' values, stripped) in order of first row.
_Rows = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp], NDArray[np.intp],
              list[tuple[str, ...]]]
#: Line ends other than "\n" (and "\r\n") that str.splitlines() also splits at.
_OTHER_LINE_ENDS = re.compile(r"\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _stream_rows(text: str, line0: int, delimiter: str | None, ncol: int, i_shift: int,
                 i_int: int, keys: list[int], comma: bool) -> _Rows | None:
    """The rows after the header (line ``line0``) read one line at a time into arrays, with
    no Python object kept per row; None when a row is bad (the caller's line-by-line path
    then names it) or the text has line ends other than "\n" and "\r\n"."""
    if _OTHER_LINE_ENDS.search(text):
        return None
    n_max = text.count("\n") + 1
    shift = np.empty(n_max, dtype=np.float64)
    value = np.empty(n_max, dtype=np.float64)
    spectrum = np.empty(n_max, dtype=np.intp)
    line_no = np.empty(n_max, dtype=np.intp)
    number: dict[Any, int] = {}  # each spectrum's key -> its number, in order of first rows
    key_rows: list[tuple[str, ...]] = []
    key_of = itemgetter(*keys) if keys else (lambda r: ())
    commas = DecimalCommas(text) if comma else None
    r = 0
    for lineno, cells in _body_rows(text, line0, delimiter):
        if len(cells) != ncol:
            return None
        pair = ((cells[i_shift], cells[i_int]) if commas is None else
                commas.texts((cells[i_shift], cells[i_int]), lineno))
        if pair is None:
            return None
        t_shift, t_int = pair
        try:
            a, b = float(t_shift), float(t_int)
        except ValueError:
            return None
        key = key_of(cells)
        k = number.setdefault(key, len(number))
        if k == len(key_rows):
            key_rows.append(tuple(cells[j].strip() for j in keys))
        shift[r], value[r], spectrum[r], line_no[r] = a, b, k, lineno
        r += 1
    if r == 0 or not (np.isfinite(shift[:r]).all() and np.isfinite(value[:r]).all()):
        return None
    return shift[:r], value[:r], spectrum[:r], line_no[:r], key_rows


def _body_rows(text: str, line0: int, delimiter: str | None
               ) -> Iterator[tuple[int, list[str]]]:
    """The rows after the header (line ``line0``), one at a time: each line that is neither
    blank nor a ``#`` comment, its number and its cells (split as :func:`_kept_rows` splits
    them)."""
    lines = text.splitlines() if _OTHER_LINE_ENDS.search(text) else _lines(text)
    for lineno, ln in enumerate(lines, start=1):
        if lineno <= line0 or not ln.strip() or ln.lstrip().startswith("#"):
            continue
        ln = ln.removesuffix("\r")
        if delimiter is None:
            yield lineno, ln.split()
        elif '"' in ln:
            yield lineno, next(csv.reader([ln], delimiter=delimiter))
        else:
            yield lineno, ln.split(delimiter)


def _writes_decimal_commas(text: str, line0: int, delimiter: str | None,
                           columns: tuple[int, int]) -> bool:
    """Whether a file of fields between semicolons or tabs writes decimal commas: the first
    row with a comma in a cell of ``columns`` (the shift and the intensity) reads it as a
    decimal comma (``400,5``, ``1.250,5``), as the two-column reader tells it."""
    if delimiter not in (";", "\t") or "," not in text:
        return False
    for _, cells in _body_rows(text, line0, delimiter):
        found = [cells[k] for k in columns if k < len(cells) and "," in cells[k]]
        if found:
            return has_decimal_comma(found[0])
    return False


def _kept_rows(text: str, line0: int, delimiter: str | None, ncol: int, i_shift: int,
               i_int: int, keys: list[int], comma: bool, src: str | None,
               names: list[str]) -> _Rows:
    """The rows as :func:`_stream_rows` gives them, every row held as its cells; the first
    bad row or cell is named by its line."""
    body = text.splitlines()[line0:]
    kept = [(n, ln) for n, ln in enumerate(body, start=line0 + 1)
            if ln.strip() and not ln.lstrip().startswith("#")]
    if delimiter is None:
        rows = [ln.split() for _, ln in kept]
    elif not any('"' in ln for _, ln in kept):  # no quoting: a plain split is much faster
        rows = [ln.split(delimiter) for _, ln in kept]
    else:
        rows = [next(csv.reader([ln], delimiter=delimiter)) for _, ln in kept]
    lines = [n for n, _ in kept]
    for n, cells in zip(lines, rows, strict=True):
        if len(cells) != ncol:
            raise RamancamError(
                f"{where(src, n)}every row must have {ncol} fields, as the header has; got "
                f"{len(cells)}. Fix that line.")
    if not rows:
        raise RamancamError(
            f"file {src or '<text>'} must hold at least one data row under the header; got "
            "none. Check that the right file was given.")
    numbers = {k: [r[k] for r in rows] for k in (i_shift, i_int)}
    if comma:
        commas = DecimalCommas(text)
        pair = (i_shift, i_int)
        for j, (n, row) in enumerate(zip(lines, rows, strict=True)):  # the first point decides
            if (got := commas.texts((row[i_shift], row[i_int]), n)) is None:
                raise commas.error(src, lambda c: names[pair[c]])
            numbers[i_shift][j], numbers[i_int][j] = got
    shift = _column(numbers[i_shift], lines, src, names[i_shift])
    value = _column(numbers[i_int], lines, src, names[i_int])
    number: dict[Any, int] = {}
    key_of = itemgetter(*keys) if keys else (lambda r: ())
    spectrum = np.fromiter((number.setdefault(key_of(r), len(number)) for r in rows),
                           dtype=np.intp, count=len(rows))
    first = np.unique(spectrum, return_index=True)[1]
    key_rows = [tuple(rows[int(i)][k].strip() for k in keys) for i in first]
    return shift, value, spectrum, np.asarray(lines, dtype=np.intp), key_rows


def _column(cells: list[str], lines: list[int], src: str | None, column: str
            ) -> NDArray[np.float64]:
    """The cells of a column (decimal commas read as points) as numbers; the first bad cell
    is named by its line."""
    try:
        out = np.array(cells, dtype=np.float64)
    except ValueError:
        out = None
    if out is not None and np.isfinite(out).all():
        return out
    for cell, line in zip(cells, lines, strict=True):
        _value(cell, src, line, column)
    raise RamancamError(  # pragma: no cover - the loop above names the bad cell
        f"file {src}: could not read column {column!r} as numbers.")


def _value(token: str, src: str | None, line: int, column: str) -> float:
    try:
        v = float(token)
    except ValueError:
        raise RamancamError(
            f"{where(src, line)}column {column!r} must hold numbers; could not read a number "
            f"from {short(token)}. Fix or remove that value.") from None
    if not np.isfinite(v):
        raise RamancamError(
            f"{where(src, line)}column {column!r} must hold finite numbers; got "
            f"{short(token)}. Remove or fix that row.")
    return v


def _meta(names: list[str], keys: list[tuple[str, ...]], label_col: str | None
          ) -> dict[str, NDArray[np.object_] | NDArray[np.float64]]:
    """The other columns as metadata (``x``, ``y`` as floats when every value is a number;
    the label column left out, as the wide-table reader does)."""
    out: dict[str, NDArray[np.object_] | NDArray[np.float64]] = {}
    for j, name in enumerate(names):
        if name == label_col:
            continue
        values = [k[j] for k in keys]
        if name.strip().lower() in ("x", "y") and all(is_number(v) for v in values):
            out[name.strip().lower()] = np.array([float(v) for v in values])
        else:
            out[name] = np.array(values, dtype=object)
    return out
