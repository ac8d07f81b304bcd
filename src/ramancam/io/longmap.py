"""Long map exports: one row per (x, y, Raman shift, intensity), as Renishaw WiRE writes them.

WiRE's "Save as text" of a map or line scan writes every data point on its own row, tab
separated, the Raman shift usually descending within each spectrum, with one header line::

    #X          #Y          #Wave       #Intensity
    -11.55      -4.77       1802.15     151.92
    -11.55      -4.77       1801.21     153.40
    ...                                              <- the next pixel starts where x or y change

Older WiRE batch conversions have no header and hySpc.read.txt (``read_txt_Renishaw``) reads
their four columns as ``y, x, shift, intensity``; pass ``columns="y,x,shift,intensity"`` for
those. A header may name the columns in any order with any of the names below, with or
without ``#`` and units in brackets (``X (µm)``) or after an underscore (``X_um``); a ``z``
column is kept as metadata. A shift column titled in wavelengths (``#Wave (nm)``,
``Wavelength (nm)``, ``wavelength_nm``, ``lambda (nm)``) is read in nm, with ``x_units``
``"nm"``. Columns
may be separated by tabs, commas, semicolons or spaces; with semicolons or tabs between
them, decimal commas (``-11,55``) are read as points.

Horiba LabSpec writes maps as *wide* tables instead (x, y, then one column per shift, the
first two header cells empty; hySpc.read.txt's ``read_txt_Horiba_xy``): the wide-table reader
reads those, and their two unnamed leading columns become the positions.

The spectra come back in file order with float metadata ``x`` and ``y`` (``y = 0`` for a line
along x written without a y column) for :mod:`ramancam.maps`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
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
    is_number,
    read_text,
    short,
)
from ._units import wavelength_title
from .table import sniff_delimiter

__all__ = ["COLUMN_NAMES", "header_nm", "looks_long", "parse_long_map", "read_long_map"]

#: Accepted header names (lower case, without '#', spaces or units) for each column role.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "x": ("x", "xpos", "xposition", "positionx"),
    "y": ("y", "ypos", "yposition", "positiony"),
    "z": ("z", "zpos", "zposition", "positionz"),
    "shift": ("wave", "wavenumber", "wavenumbers", "shift", "ramanshift", "raman",
              "wn", "xaxis", "wavelength", "wavelengths", "lambda", "λ"),
    "intensity": ("intensity", "intensities", "int", "counts", "signal", "i", "yaxis"),
}
_ROLE_OF = {name: role for role, names in COLUMN_NAMES.items() for name in names}
_UNITS = re.compile(r"[\(\[].*?[\)\]]")
#: A length unit after the name (``wavelength_nm``, ``X_um``), dropped as bracketed ones are.
_UNIT_SUFFIX = re.compile(r"[\s_\-.]+(?:nm|[uµμ]m)\s*$", re.IGNORECASE)
_DEFAULT = ("x", "y", "shift", "intensity")


def _norm(token: str) -> str:
    return re.sub(r"[\s_#\-./]", "", _UNIT_SUFFIX.sub("", _UNITS.sub("", token))).lower()


def _split(line: str, delimiter: str | None) -> list[str]:
    return [t.strip() for t in (line.split() if delimiter is None else line.split(delimiter))]


def _data_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers (comment lines included)."""
    return [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]


def _header_tokens(line: str) -> list[str]:
    """The column titles of a header line. A unit alone (``(nm)``, ``(cm-1)``: nothing left
    by :func:`_norm`, as ``tidy.looks_tidy`` judges it) is the title before it split off by a
    header parted by spaces (``X Y Wave (nm) Intensity``), not a column of its own."""
    tokens: list[str] = []
    for t in _split(line, sniff_delimiter(line.lstrip("#"))):
        if tokens and t and not _norm(t):
            tokens[-1] = f"{tokens[-1]} {t}"
        elif t:
            tokens.append(t)
    return tokens


def _header_roles(line: str) -> list[str | None] | None:
    """Column roles named by a header line, or None when the line is not such a header."""
    tokens = _header_tokens(line)
    if not tokens or any(is_number(t) for t in tokens):
        return None
    roles = [_ROLE_OF.get(_norm(t)) for t in tokens]
    if "shift" in roles and "intensity" in roles and ("x" in roles or "y" in roles):
        return roles
    return None


def header_nm(line: str, roles: Sequence[str | None]) -> float | None:
    """The nm per unit of the shift column (``roles``: each column's role) when the header
    ``line`` titles it in wavelengths (``#Wave (nm)``, ``X-axis [µm]``: see
    :func:`ramancam.io._units.wavelength_title`), else ``None``: its shifts are wavelengths,
    kept in nm with ``x_units`` ``"nm"`` (converted with ``--laser-nm``, else refused)."""
    tokens = _header_tokens(line)
    if "shift" not in roles or len(tokens) != len(roles):
        return None
    return wavelength_title(tokens[list(roles).index("shift")])


def looks_long(text: str) -> bool:
    """True when ``text`` is a long map export (see the module docstring).

    Either the first non-blank line is a header naming x (or y), a shift and an intensity
    column, or there is no header and the first rows have four numbers each, the first two
    equal on rows 1 and 2 (one pixel) and the third different (its shifts).
    """
    lines = []
    for _, ln in _data_lines(text[:20000]):
        lines.append(ln)
        if len(lines) == 3:
            break
    if not lines:
        return False
    if _header_roles(lines[0]) is not None:
        return True
    if len(lines) < 3 or lines[0].lstrip().startswith("#"):
        return False
    delimiter = sniff_delimiter(lines[0])
    rows = [_split(ln, delimiter) for ln in lines]
    if delimiter in (";", "\t"):  # decimal commas
        rows = [[t.replace(",", ".") for t in r] for r in rows]
    if not all(len(r) == 4 and all(is_number(t) for t in r) for r in rows):
        return False
    a, b = ([float(t) for t in r] for r in rows[:2])
    return a[0] == b[0] and a[1] == b[1] and a[2] != b[2]


def read_long_map(path: str | os.PathLike[str], *, columns: str | None = None) -> Spectra:
    """Read a long map export (one row per x, y, shift, intensity).

    Parameters
    ----------
    path : str or path-like
        The text file (``.gz`` too).
    columns : str, optional
        Column roles in file order, comma separated, from ``x``, ``y``, ``z``, ``shift``,
        ``intensity`` (e.g. ``"y,x,shift,intensity"``). Default: the header's names, else
        ``x,y,shift,intensity``.

    Returns
    -------
    Spectra
        One spectrum per pixel, in file order, on the file's shift axis; float metadata
        ``x``, ``y`` (and ``z``).

    Raises
    ------
    RamancamError
        See :func:`parse_long_map`.
    """
    p = check_exists(path)
    return parse_long_map(read_text(p), source=str(p), columns=columns)


def _roles_from(columns: str) -> list[str | None]:
    roles: list[str | None] = [c.strip().lower() for c in columns.split(",")]
    allowed = set(COLUMN_NAMES)
    if not all(r in allowed for r in roles) or len(set(roles)) != len(roles):
        raise RamancamError(
            f"columns must name each column once from x, y, z, shift, intensity, e.g. "
            f"y,x,shift,intensity; got {columns!r}.")
    return roles


def parse_long_map(text: str, *, source: str = "", columns: str | None = None) -> Spectra:
    """Parse the text of a long map export (see :func:`read_long_map`).

    Raises
    ------
    RamancamError
        No data; a header without x/y, shift and intensity columns; a row with another number
        of fields or a cell that is not a number (file and line named); a pixel whose shifts
        differ from the first pixel's; a pixel that appears twice (not one block of rows);
        an invalid axis (repeated or unsorted shifts).
    """
    src = source or None
    first = _first_line(text)
    if first is None:
        raise RamancamError(
            f"file {source or '<text>'} must hold rows of x, y, shift, intensity; got an empty "
            "file. Check that the right file was given.")
    lineno0, start, end = first
    header = _header_roles(text[start:end])
    nm_per_unit = None
    if columns is not None:
        roles = _roles_from(columns)
    elif header is not None:
        roles = header
    else:
        roles = list(_DEFAULT)
    if "shift" not in roles or "intensity" not in roles or not ({"x", "y"} & set(roles)):
        raise RamancamError(
            f"{where(src, lineno0)}a long map export must have x (or y), shift and "
            f"intensity columns; got {roles}. Name them in the header or pass columns=.")
    if header is not None:  # "#Wave (nm)": wavelengths
        nm_per_unit = header_nm(text[start:end], roles)
    ncol = len(roles)
    body_at = end + 1 if header is not None else start
    comma = _decimal_commas(text, body_at)
    # European locales: ';' or tabs between the fields; points, if any, group thousands
    # (1.250 for 1250) or are decimal points, as the first number with one says
    commas = DecimalCommas(text) if comma and "." in text[body_at:] else None
    if comma and commas is None:
        text = text.replace(",", ".")  # decimal commas only: each one a point
    fast = (None if commas is not None else
            _fast_numbers(text, body_at, lineno0 + (header is not None), ncol))
    if fast is None:  # comment lines, blank lines or a bad value among the rows
        data, row_lines = _slow_numbers(text, header is not None, ncol, src, commas)
        line_of: Callable[[int], int] = row_lines.__getitem__
    else:
        data, row0 = fast
        line_of = row0.__add__  # no blank or comment line among the rows
    col = {r: i for i, r in enumerate(roles) if r is not None}
    pos_roles: list[str] = [r for r in ("x", "y", "z") if r in col]
    P = data[:, [col[r] for r in pos_roles]]
    change = np.flatnonzero(np.any(P[1:] != P[:-1], axis=1)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(data)]]))
    n_pts = int(lengths[0])
    odd = np.flatnonzero(lengths != n_pts)
    if odd.size:
        k = int(odd[0])
        raise points_error(src, line_of(int(starts[k])), int(lengths[k]), n_pts)
    shifts = data[:, col["shift"]].reshape(-1, n_pts)
    axis = check_axis(shifts[0], name="Raman shift", source=src)
    same = np.isclose(shifts, axis, rtol=1e-9, atol=0).all(axis=1)
    if not same.all():
        k = int(np.flatnonzero(~same)[0])
        j = int(np.flatnonzero(~np.isclose(shifts[k], axis, rtol=1e-9, atol=0))[0])
        raise shift_error(src, line_of(k * n_pts + j), shifts[k, j], axis[j])
    pos = P[starts]
    check_unique_positions(pos, pos_roles, [line_of(int(s)) for s in starts], src)
    X = data[:, col["intensity"]].reshape(-1, n_pts)
    if not comma and grouped_counts_maybe(X):  # '1.251' beside '987': maybe 1251
        rows = _body_lines(text, header is not None)
        delimiter = sniff_delimiter(rows[0][1])
        if delimiter != ",":  # fields split at commas: no grouping with points
            check_point_rows_thousands(
                ((lineno, _split(ln, delimiter)) for lineno, ln in rows),
                np.arange(len(data)) // n_pts, col["shift"], col["intensity"],
                "as the intensity", source)
    del text  # not needed any more (a caller may still hold it)
    n = X.shape[0]
    meta: dict[str, NDArray[np.float64]] = {
        r: pos[:, i].astype(np.float64) for i, r in enumerate(pos_roles)}
    for r in ("x", "y"):
        meta.setdefault(r, np.zeros(n))
    kept: dict[str, NDArray[Any]] = {"x": meta["x"], "y": meta["y"],
                                     **({"z": meta["z"]} if "z" in meta else {})}
    if nm_per_unit is not None:  # in nm: converted with --laser-nm, else refused
        axis = axis * nm_per_unit
        kept["x_units"] = np.full(n, "nm")
    return Spectra(X, axis, meta=kept, sources=[source] * n)


def _decimal_commas(text: str, start: int) -> bool:
    """Whether the rows from offset ``start`` on separate their fields by semicolons or
    tabs and hold commas, which are then decimal commas (``-11,55<TAB>-4,77<TAB>...``)."""
    row = _first_line(text[start:start + 65536])
    if row is None:
        return False
    _, a, b = row
    line = text[start + a:start + b]
    return sniff_delimiter(line) in (";", "\t") and "," in text[start:]


def points_error(src: str | None, line: int, got: int, want: int) -> RamancamError:
    """A pixel (starting on ``line``) with another number of rows than the first pixel."""
    return RamancamError(
        f"{where(src, line)}every pixel must have the same number of points; got {got} rows "
        f"for the pixel starting here but {want} for the first. A truncated export? "
        "Re-export the whole map.")


def shift_error(src: str | None, line: int, got: float, want: float) -> RamancamError:
    """A row whose Raman shift is not the first pixel's at that place."""
    return RamancamError(
        f"{where(src, line)}every pixel must share the first pixel's Raman shifts; got "
        f"{got:g} where the first has {want:g}. Rows of one pixel must be contiguous; export "
        "the map on one axis.")


def _first_line(text: str) -> tuple[int, int, int] | None:
    """The first non-blank line of ``text``: its 1-based number, start and end offsets."""
    start, lineno = 0, 1
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            return lineno, start, end
        start, lineno = end + 1, lineno + 1
    return None


def _fast_numbers(text: str, start: int, first_line: int, ncol: int
                  ) -> tuple[NDArray[np.float64], int] | None:
    """The rows from offset ``start`` on as an (n_rows, ncol) float array, parsed in one go
    by numpy (the text once more in memory at most, never a Python object per value), and
    the line number of the first row; None when the rows need :func:`_slow_numbers`: a
    comment or blank line among them, a value that is not a finite number, or a row with
    another number of fields."""
    while start < len(text) and text[start] in "\r\n":  # blank lines after the header
        start, first_line = start + (text[start] == "\n"), first_line + (text[start] == "\n")
    end = len(text)
    while end > start and text[end - 1].isspace():  # trailing blank lines, not copied
        end -= 1
    nl = text.find("\n", start, end)
    delimiter = sniff_delimiter(text[start:nl if nl >= 0 else end])
    body = text[start:end].encode("latin-1", errors="replace")
    if not body or b"#" in body:
        return None
    data = plain_numbers(body, delimiter, ncol)
    if data is None or len(data) != body.count(b"\n") + 1:
        return None
    return data, first_line


def plain_numbers(data: bytes, delimiter: str | None, ncol: int
                  ) -> NDArray[np.float64] | None:
    """Lines of ``ncol`` numbers each, parsed by numpy in one go, as an (n_lines, ncol)
    array; None where a line has another number of fields (an empty one, a blank line, a
    field with a space inside: what the line-by-line reader refuses or reads otherwise), or
    anything but finite numbers."""
    if not _fields_per_line(data, delimiter, ncol):
        return None
    if delimiter is not None and delimiter != "\t":
        data = data.replace(delimiter.encode(), b" ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns and stops at text it cannot read
        try:
            flat = np.fromstring(data, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    if flat.size % ncol or not np.isfinite(flat).all():
        return None
    return flat.reshape(-1, ncol)


#: Bytes looked at together when counting each line's fields (bounds the counting's memory).
_WINDOW = 1 << 20


def _fields_per_line(data: bytes, delimiter: str | None, ncol: int) -> bool:
    """Every line of ``data`` (split at "\n"; a last empty one left out) has ``ncol``
    fields: runs of characters that are neither blank space nor ``delimiter``."""
    b = np.frombuffer(data, dtype=np.uint8)
    d = -1 if delimiter is None else ord(delimiter)
    at = 0
    while at < b.size:
        end = min(at + _WINDOW, b.size)
        if end < b.size:  # a window of whole lines (a line longer than it: to the end)
            nl = np.flatnonzero(b[at:end] == 10)
            end = at + int(nl[-1]) + 1 if nl.size else b.size
        w = b[at:end]
        sep = (w == 32) | ((w >= 9) & (w <= 13)) | (w == d)
        first = ~sep
        first[1:] &= sep[:-1]
        lines = np.concatenate([[0], np.flatnonzero(w == 10) + 1])
        if lines[-1] == w.size:  # the window ends with its last line's "\n"
            lines = lines[:-1]
        if not (np.add.reduceat(first, lines, dtype=np.int64) == ncol).all():
            return False
        at = end
    return True


def _body_lines(text: str, has_header: bool) -> list[tuple[int, str]]:
    """The rows: non-blank lines after the header that do not start with ``#``, with their
    1-based numbers."""
    lines = _data_lines(text)
    body = lines[1:] if has_header else lines
    return [(n, ln) for n, ln in body if not ln.lstrip().startswith("#")]


def _slow_numbers(text: str, has_header: bool, ncol: int, src: str | None,
                  commas: DecimalCommas | None = None
                  ) -> tuple[NDArray[np.float64], list[int]]:
    """The rows (non-blank lines after the header that do not start with ``#``) as an
    (n_rows, ncol) float array, and each row's line number; errors name the line.
    ``commas``: the cells are read with it (a file of decimal commas and points)."""
    body = _body_lines(text, has_header)
    if not body:
        raise RamancamError(
            f"file {src or '<text>'} must hold at least one data row under the header; got "
            "none. Check that the right file was given.")
    delimiter = sniff_delimiter(body[0][1])
    data = np.empty((len(body), ncol), dtype=np.float64)
    for r, (lineno, ln) in enumerate(body):
        tokens = _split(ln, delimiter)
        if len(tokens) != ncol:
            raise RamancamError(
                f"{where(src, lineno)}every row must have {ncol} fields (x, y, shift, "
                f"intensity); got {len(tokens)}. Fix that line.")
        if commas is not None:
            if (read_as := commas.texts(tokens, lineno)) is None:
                raise commas.error(src)
            tokens = read_as
        for t in tokens:
            if not is_number(t):
                raise RamancamError(
                    f"{where(src, lineno)}could not read a number from {short(t)}. Fix or "
                    "remove that value.")
            if not np.isfinite(float(t)):
                raise RamancamError(
                    f"{where(src, lineno)}values must be finite; got {short(t)}. Remove or "
                    "fix that row.")
        data[r] = [float(t) for t in tokens]
    return data, [n for n, _ in body]


def check_unique_positions(pos: NDArray[np.float64], roles: list[str],
                           lines: Sequence[int] | NDArray[np.intp], src: str | None) -> None:
    """Each pixel's position once (its rows one block); ``lines[k]``: pixel k's first line."""
    _, first, counts = np.unique(pos, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = pos[first[int(np.flatnonzero(counts > 1)[0])]]
        k = [i for i in range(len(pos)) if np.array_equal(pos[i], dup)][1]
        where_ = ", ".join(f"{r}={v:g}" for r, v in zip(roles, dup, strict=True))
        raise RamancamError(
            f"{where(src, lines[k])}each pixel's rows must be one contiguous block; got "
            f"{where_} again here. Sort the export by position, or average repeated "
            "acquisitions.")
