"""Wide tables: one spectrum per row, one column per Raman shift (CSV/TSV, also gzipped);
also their transpose, one spectrum per column.

Layout::

    # optional comment lines
    id,label,batch,400.095,402.626,...      <- header: metadata names, then Raman shifts
    s1,A,1,0.0267,0.0272,...

A column whose header parses as a (finite) number is a spectral column, its header the Raman
shift, unless it lies at an end of the shift columns far apart from the others (a sample
number ``100`` before 400.1, 402.6, ...: :func:`ramancam.io._tablecheck.isolated_ends`,
said in a warning); every other column is metadata, kept as strings, except pixel
positions: columns named ``x`` and ``y`` (either case) whose cells are all finite numbers
become the float metadata ``x``/``y`` that map code reads (``--xy-cols`` names other
columns); so do two leading columns with empty header cells, Horiba LabSpec's map layout.
The delimiter (tab, comma, semicolon, bar or runs of white space) is sniffed from the
header line; decimal commas are read when a semicolon or tab separates the fields.

A header without any numeric name over rows that are all numbers is the transpose, as many
programs export several spectra::

    shift,sample 1,sample 2                  <- the first column the Raman shift
    400.095,0.0267,0.0301                    <- one spectrum per further column

and so is a header of numbers beside a first column that names the Raman shifts and runs
like them over many more rows (``Raman shift (cm-1),1001,1002,...``: spectra named by
numbers, :func:`ramancam.io._tablecheck.spectra_in_columns`, said in a warning).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..checks import FillEnds, fill_ends_of, true_runs
from ..errors import RamancamError, RamancamWarning, spectra_count, where
from ..spectra import Spectra, check_axis, need_spectra
from ._atomic import atomic_write, gz_name
from ._tablecheck import (
    check_no_name_among_shifts,
    check_not_headerless,
    check_shift_order,
    finite_number,
    isolated_columns,
    spectra_in_columns,
)
from ._tablefast import Rest, number_blocks
from ._text import (
    DECIMAL_COMMA,
    DECIMAL_POINT,
    GROUPED_THOUSANDS,
    THOUSANDS_OR_COMMA,
    DecimalCommas,
    TableNumbers,
    ThousandsPoints,
    check_exists,
    grouped_counts_maybe,
    has_decimal_comma,
    read_text,
    short,
    thousands_or_comma,
)
from ._units import wavelength_title

__all__ = ["parse_table", "read_table", "same_axis_runs", "sniff_delimiter", "write_table"]

_QUOTED = re.compile(r'"[^"]*"')
_DELIMITERS = ("\t", ",", ";", "|")


def sniff_delimiter(header_line: str) -> str | None:
    """The delimiter of a table, guessed from its header line (``None``: runs of white space).

    Quoted parts are ignored, so a column name such as ``"a, b"`` does not count. Commas
    beside semicolons, or beside tabs when every comma sits inside a number (``400,5``), are
    decimal commas, not the delimiter.
    """
    bare = _QUOTED.sub("", header_line)
    if ";" in bare and "," in bare and "\t" not in bare:
        return ";"  # semicolons beside commas: the commas are decimal commas
    if "\t" in bare and "," in bare and all(
            "," not in t or DECIMAL_COMMA.match(t.strip()) for t in bare.split("\t")):
        return "\t"
    counts = [(bare.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    n, _, best = max(counts)
    return best if n > 0 else None


#: A column header that is a Raman shift with its unit written after it ("500.5 cm-1").
_SHIFT_WITH_UNIT = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
    r"(?:cm-1|cm\^-1|cm\^\{-1\}|cm⁻¹|1/cm|/cm)\s*$", re.IGNORECASE)
#: A column header that is a wavelength with its unit ("800.000 nm"): an axis in nm, which
#: --laser-nm converts to Raman shift (and which is refused without it).
_NM_WITH_UNIT = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*nm\s*$", re.IGNORECASE)


def _shift_header(token: str) -> float | None:
    """The Raman shift a column header names: a number, or a number with its unit after it
    (``500.5 cm-1``, ``500.5cm^-1``, ``500.5 1/cm``); ``None`` for any other name."""
    v = finite_number(token)
    if v is not None:
        return v
    m = _SHIFT_WITH_UNIT.match(token)
    return None if m is None else finite_number(m.group(1))


def _skip_comments(text: str) -> tuple[int, int]:
    """Offset of the first line that is neither blank nor a ``#`` comment, and its line number
    (1-based); ``(-1, n)`` when there is none."""
    pos, line = 0, 1
    n = len(text)
    while pos < n:
        end = text.find("\n", pos)
        end = n if end < 0 else end + 1
        stripped = text[pos:end].strip()
        if stripped and not stripped.startswith("#"):
            return pos, line
        pos, line = end, line + 1
    return -1, line


def _lines(text: str, start: int = 0) -> Iterator[str]:
    """The lines of ``text`` from character ``start`` on, split at ``"\n"`` (as
    ``text[start:].split("\n")``), one at a time."""
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def _rows(body: str, delimiter: str | None, first_line: int, source: str, start: int = 0
          ) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` for the non-blank rows of ``body`` from character
    ``start`` (a line's start, numbered ``first_line``) on."""
    if delimiter is None:
        for i, line in enumerate(body[start:].splitlines()):
            fields = line.split()
            if fields:
                yield first_line + i, fields
        return
    if '"' not in body and "\r" not in body:
        # No quoting and no old-Mac line ends: a plain split gives the same fields, faster.
        # Line by line, not body.split("\n"): a list of every line would be one more copy
        # of the text in memory.
        for i, line in enumerate(_lines(body, start)):
            if line.strip():
                yield first_line + i, line.split(delimiter)
        return
    reader = csv.reader(io.StringIO(body[start:] if start else body, newline=""),
                        delimiter=delimiter)
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield first_line + reader.line_num - 1, row
    except csv.Error as exc:
        raise RamancamError(
            f"{where(source, first_line + reader.line_num - 1)}the table must be valid "
            f"delimited text; got a parse error ({exc}). Check the quoting on that line."
        ) from None


def read_table(path: str | os.PathLike[str], *, label_col: str | None = None) -> Spectra:
    """Read a wide table (CSV/TSV, also ``.gz``): one spectrum per row.

    Parameters
    ----------
    path : str or path-like
        The table. Gzip is recognised by content, whatever the suffix.
    label_col : str, optional
        Name of the metadata column holding the class label; it becomes ``Spectra.labels``
        and is not repeated in ``Spectra.meta``. An empty cell gives the label ``""``
        (an unlabelled spectrum; ``train`` and ``baseline`` leave those out). Spaces around
        a label are dropped (``" B "`` is ``"B"``).

    Returns
    -------
    Spectra
        Intensities of shape (n_rows, n_spectral_columns) on the axis given by the numeric
        headers (in file order, ascending or descending); the other columns as string
        metadata; ``sources`` = the path for every row.

    Raises
    ------
    RamancamError
        Missing path, empty file, no numeric header, duplicated column names, ``label_col``
        not in the header (the message lists the columns), a row with a different number of
        fields than the header, a cell that is not a number or not finite (file, line and
        column named), or an invalid axis (repeated or unsorted shifts).
    """
    p = check_exists(path)
    return parse_table(read_text(p), source=str(p), label_col=label_col)


def parse_table(text: str, *, source: str = "", label_col: str | None = None,
                drop_fill: bool = True, numbers: TableNumbers | None = None) -> Spectra:
    """Parse the text of a wide table (see :func:`read_table`); ``source`` names it in errors.
    ``drop_fill``: leave out a fill value held at the ends of every spectrum (:func:`_fill`;
    off for the row readers, which parse a file block by block and judge the padding on all
    the blocks together, :class:`ramancam.checks.FillScan`). ``numbers``: for the row
    readers too, how the table writes its numbers (:class:`TableNumbers`), decided on the
    first block's first rows, as on the whole table's, and kept for the next blocks."""
    start, line0 = _skip_comments(text)
    if start < 0:
        what = "an empty file" if not text.strip() else "only comment lines"
        raise RamancamError(
            f"file {source or '<text>'} must hold a header row and one spectrum per row; got "
            f"{what}. Check that the right file was given.")
    body = text[start:]
    header_line = body[:end] if (end := body.find("\n")) >= 0 else body
    delimiter = sniff_delimiter(header_line)
    rows = _rows(body, delimiter, line0, source)
    first = next(rows, None)
    header = [] if first is None else [h.strip() for h in first[1]]
    while len(header) > 1 and header[-1] == "":
        header = header[:-1]  # trailing delimiters on the header line (",,," as well)
    ncol = len(header)
    # decimal commas or points, as the header and the first rows say (_how_numbers_read)
    ahead = list(itertools.islice(rows, 2))  # the first two data rows, looked at and kept
    rows = itertools.chain(ahead, rows)
    _check_header_width(header_line if end >= 0 else "", ncol, ahead, source, line0)
    if numbers is None or numbers.comma is None:
        comma, commas, point = _how_numbers_read(header, ahead, delimiter, body, line0)
        if numbers is not None:  # the first block: the table's first rows
            numbers.comma, numbers.commas, numbers.point = comma, commas, point
    else:  # a later block of rows: as the first decided
        comma, commas, point = numbers.comma, numbers.commas, numbers.point
    if numbers is not None and commas is not None:
        commas.part(body)
    spec_idx: list[int] = []
    shifts: list[float] = []
    meta_idx: list[int] = []
    names: list[str] = []
    read_as: list[float | None] = []
    in_nm: list[bool] = []  # "800.000 nm": a wavelength, not a Raman shift
    for h in header:
        t = h if commas is None else commas.text(h, line0)  # None: contradicts earlier ones
        m = None if t is None else _NM_WITH_UNIT.match(t)
        in_nm.append(m is not None)
        read_as.append(finite_number(m.group(1)) if m else None if t is None
                       else _shift_header(t))
    pre = where(source or None, line0)
    numeric = [i for i, v in enumerate(read_as) if v is not None]
    apart = isolated_columns(header, numeric, [v for v in read_as if v is not None], pre)
    for i, (h, v) in enumerate(zip(header, read_as, strict=True)):
        if v is None or i in apart:
            meta_idx.append(i)
            names.append(h or f"column{i + 1}")
        else:
            spec_idx.append(i)
            shifts.append(v)
    check_no_name_among_shifts(header, spec_idx, shifts, pre, ahead, comma)
    nm_axis = any(in_nm[i] for i in spec_idx)
    if nm_axis and not all(in_nm[i] for i in spec_idx):
        mixed = header[next(i for i in spec_idx if not in_nm[i])]
        raise RamancamError(
            f"{pre}the header mixes wavelengths (nm) and Raman shifts; got {mixed!r} beside "
            f"{header[next(i for i in spec_idx if in_nm[i])]!r}. Head every intensity column "
            "in one unit.")
    if not spec_idx and _columns_layout(header, ahead, comma):
        again = None if delimiter == "," else functools.partial(_rows, body, delimiter, line0,
                                                                source)
        return _parse_columns(rows, header, DecimalCommas(body) if comma else None, source,
                              line0, label_col, max_rows=_line_count(body), again=again,
                              point=point)
    if not spec_idx:
        hint = ("Convert decimal commas to points" if any(DECIMAL_COMMA.match(n) for n in names)
                else "Head each intensity column with its Raman shift in cm-1 (e.g. "
                     "id,label,400.1,401.3,...); a (shift, intensity) file needs exactly two "
                     "columns and no --label-col")
        raise RamancamError(
            f"{pre}the header must name Raman shifts (numeric column names) for a wide table; "
            f"got only {_list(names)}. {hint}.")
    dup = _first_duplicate(names)
    if dup is not None:
        raise RamancamError(
            f"{pre}column names must be unique; got {dup!r} twice. Rename one of them.")
    label_pos: int | None = None
    if label_col is not None:
        if label_col not in names:
            fix = ("Pass one of them as label_col (--label-col)" if names else
                   "Label its spectra by file instead (--labels-from folder, regex:R or "
                   "manifest:F), or add a label column")
            raise RamancamError(
                f"{where(source or None)}label column must be one of the table's columns; got "
                f"{label_col!r}, but the non-numeric columns are {_list(names)}. {fix}.")
        label_pos = names.index(label_col)

    a, b = spec_idx[0], spec_idx[-1] + 1
    contiguous = b - a == len(spec_idx)
    # Each row's numbers go straight into the array, which is allocated for one row per
    # line: a list of Python floats for the whole table would take four times the memory
    # of the array. Rows never reached stay unwritten (and so take no memory).
    X = np.empty((_line_count(body), len(spec_idx)), dtype=np.float64)
    cells: list[list[str]] = []
    lines: list[int] = []
    # Rows of plain numbers in blocks, by pandas' C parser (io/_tablefast.py), a third of
    # the time; from the first block that is not, the rest line by line, as before.
    blocks = (number_blocks(body, end + 1, line0 + 1, delimiter, ncol, range(a, b))
              if commas is None and contiguous and end >= 0 else None)
    if blocks is not None:
        rows = iter(())
        for got in blocks:
            if isinstance(got, Rest):
                rows = _rows(body, delimiter, got.line, source, start=got.offset)
                break
            n, k = len(lines), len(got.lines)
            while n + k > len(X):
                X = _grown(X)
            X[n:n + k] = got.values
            cells += got.cells
            lines += got.lines
    for lineno, row in rows:
        row = _full_row(row, ncol, source, lineno, "")
        part = row[a:b] if contiguous else [row[i] for i in spec_idx]
        if len(lines) == len(X):
            X = _grown(X)
        X[len(lines)] = _numbers(part, commas, source, lineno, lambda j: header[spec_idx[j]],
                                 point)
        cells.append([row[i] for i in meta_idx])
        lines.append(lineno)
    if not lines:
        raise RamancamError(
            f"file {source or '<text>'} must hold at least one spectrum row under the header; "
            "got none. Check that the right file was given.")
    X = X[:len(lines)]
    # no decimal comma seen: counts grouped with thousands points would read as decimals
    if ((commas is None or commas.grouped is False) and delimiter != ","
            and not (numbers is not None and numbers.checked) and grouped_counts_maybe(X)):
        _check_thousands(_rows(body, delimiter, line0, source), spec_idx,
                         lambda j: header[spec_idx[j]], source, by_row=True)
    if not meta_idx:
        check_not_headerless(shifts, X, source, line0)
    elif spectra_in_columns(shifts, cells, names, [header[i] for i in meta_idx], X, pre,
                            comma=comma, readable=meta_idx == [0] and label_col is None):
        # its first column the Raman shifts, the numbers above the others the spectra's names
        shift = [finite_number(c[0].replace(",", ".") if comma else c[0]) for c in cells]
        V = np.column_stack([np.array(shift, dtype=np.float64), X])
        return _columns_spectra(V, [names[0], *(header[i] for i in spec_idx)], lines, source)
    # after the rows: a header cut short (a file truncated in its first line) has no rows
    check_shift_order(header, spec_idx, shifts, pre)
    axis = check_axis(shifts, source=source or None)
    del text, body, rows  # the text is not needed any more (a caller may still hold it)
    if drop_fill and (fill := _fill(X, axis, source)) is not None:  # padding: left out
        X, axis, spec_idx = (np.ascontiguousarray(X[:, fill]), axis[fill],
                             spec_idx[fill.start:fill.stop])
    kept = _edge_gaps(X, lambda i, j: (where(source or None, lines[i]), header[spec_idx[j]]))
    meta_cols = {n: np.array([c[k] for c in cells], dtype=str) for k, n in enumerate(names)}
    labels = None
    if label_col is not None and label_pos is not None:
        # an empty cell is the label "" (unlabelled); spaces around a label ("A, B , C"
        # typed by hand) would make another class of the same name
        labels = np.char.strip(meta_cols.pop(label_col))
    # Horiba LabSpec writes maps as x, y, then the spectrum, under two empty header cells
    labspec = (len(meta_idx) >= 2 and meta_idx[:2] == [0, 1] and not header[0]
               and not header[1] and not {"x", "y", "X", "Y"} & set(names))
    if labspec:
        meta_cols = {("x" if k == names[0] else "y" if k == names[1] else k): v
                     for k, v in meta_cols.items()}
    if nm_axis:  # in nm: converted with --laser-nm, else refused
        meta_cols["x_units"] = np.full(len(lines), "nm")
    return spectra_kept(X, axis, kept, labels=labels, meta=_positions(meta_cols, source, lines),
                        sources=[source] * len(lines))


def _how_numbers_read(header: list[str], ahead: list[tuple[int, list[str]]],
                      delimiter: str | None, body: str, line0: int
                      ) -> tuple[bool, DecimalCommas | None, tuple[str, int] | None]:
    """How a table writes its numbers, as its header and first two rows (``ahead``) say
    (:class:`TableNumbers`): with decimal commas (European locales: ';' or tab between the
    fields, ',' in the numbers), read anywhere in the table, not only where the header or
    the first row has one (a row of whole numbers first, '1,5' further down), unless the
    header or the first row writes decimal points (400.0): then a comma is a thousands
    separator ('1,861'), refused, not read as 1.861. ``body``: the text from the header on,
    whose cells the :class:`DecimalCommas` reads."""
    shown = [t.strip() for t in header + (ahead[0][1] if ahead else [])]
    # with decimal commas shown, 1.250 is 1250 (a spreadsheet's grouping, DecimalCommas);
    # without, the points of later rows are decimal points
    looked = [*header, *(t for _, row in ahead for t in row)]
    shown_commas = any(has_decimal_comma(t) for t in looked)
    comma = delimiter in (";", "\t") and not any(
        DECIMAL_POINT.match(t) and not (shown_commas and GROUPED_THOUSANDS.match(t))
        for t in shown)
    commas = DecimalCommas(body, points_decimal=not shown_commas) if comma else None
    # without: the first decimal point shown, which a '1,861' further down is refused beside
    point = None if comma else next(((t.strip(), n) for n, row in [(line0, header), *ahead[:1]]
                                     for t in row if DECIMAL_POINT.match(t.strip())), None)
    return comma, commas, point


#: What counts as padding for the readers (:func:`ramancam.checks.fill_runs`): zeros and
#: saturation are said by info and train (checks.fill_ends, clipped); three rows or more and
#: ten points left, so that no coincidence of a few rows cuts a spectrum.
FILL_RULES: dict[str, Any] = {"nonzero": True, "min_rows": 3, "min_kept": 10}


def _fill(X: np.ndarray, axis: np.ndarray, source: str) -> slice | None:
    """The columns between a fill value at the ends of every row (:func:`ramancam.checks.
    fill_runs`: food/astragalus holds 10.0 at 100-108 and 3312-4278 cm-1 in all its 160
    spectra), said in a warning; ``None`` without one. Padding is no measurement: kept, the
    paper recipe's straight baseline ran through it and ``info`` reported it as measured.
    A run of zeros stays (a noise-free simulation's tail is one; info and train say it)."""
    return fill_left_out(fill_ends_of(X, axis, **FILL_RULES), X.shape[1], source,
                         stacklevel=4)


def fill_left_out(fill: FillEnds | None, n_points: int, source: str, *, stacklevel: int = 3
                  ) -> slice | None:
    """The columns kept of ``n_points`` without the padding ``fill`` (:func:`_fill`; the
    block reader :func:`ramancam.io.tablerows.open_table_rows` scans its blocks for it),
    said in a warning, the same line whichever reader found it; ``None`` without one."""
    if fill is None:
        return None
    warnings.warn(RamancamWarning(
        f"{where(source or None)}{fill.held(spans=True)}: a fill value, not a measurement, "
        f"so they are left out (the spectra were measured over {fill.measured[0]:g}-"
        f"{fill.measured[1]:g} cm-1)"), stacklevel=stacklevel)
    return slice(fill.lead, n_points - fill.trail)


def _check_header_width(header_line: str, ncol: int, ahead: list[tuple[int, list[str]]],
                        source: str, line0: int) -> None:
    """Blame the header, not line 2, when the first rows agree on a width it lacks (a
    damaged column name or separator, a stray carriage return inside the header line of a
    file whose lines end in newlines; ``header_line`` empty: lines end otherwise)."""
    if "\r" in header_line.rstrip("\r"):
        raise RamancamError(
            f"{where(source or None, line0)}the header line must not hold a carriage return "
            "(\\r) inside it; got one, which ends the line there. Remove it (or save the "
            "file with plain line ends).")
    widths = {len(_trimmed(r, ncol)) for _, r in ahead}
    if len(ahead) >= 2 and len(widths) == 1 and (w := widths.pop()) != ncol:
        raise RamancamError(
            f"{where(source or None, line0)}the header must have as many fields as the rows "
            f"under it; got {ncol} in the header and {w} in each of lines {ahead[0][0]} and "
            f"{ahead[1][0]}. Fix the header line (a damaged or missing column name, or a "
            "separator too many).")


def _line_count(body: str) -> int:
    """The lines of ``body``: ended by "\n", or by a lone "\r" as old Mac files end them
    (rows beyond, at line ends that only ``str.splitlines`` knows, grow the array:
    :func:`_grown`)."""
    lone = body.count("\r") - body.count("\r\n") if "\r" in body else 0
    return body.count("\n") + lone + 1


def _grown(A: np.ndarray) -> np.ndarray:
    """``A`` with as many rows again (unwritten), for rows beyond the lines counted (line
    ends that only ``str.splitlines`` knows)."""
    out = np.empty((2 * len(A) + 1, A.shape[1]), dtype=A.dtype)
    out[:len(A)] = A
    return out


def _trimmed(row: list[str], ncol: int) -> list[str]:
    """``row`` without the empty fields beyond the header's ``ncol`` (rows ending in ",,,",
    under a header that ends the same way or not)."""
    return row[:ncol] if len(row) > ncol and not any(c.strip() for c in row[ncol:]) else row


def _full_row(row: list[str], ncol: int, source: str, lineno: int, layout: str
              ) -> list[str]:
    """``row`` without trailing empty fields (:func:`_trimmed`), checked to have the
    header's ``ncol``."""
    row = _trimmed(row, ncol)
    if len(row) != ncol:
        raise RamancamError(
            f"{where(source or None, lineno)}every row must have {ncol} fields like the "
            f"header{layout}; got {len(row)}. Fix the missing or extra values on that line.")
    return row


def _numbers(cells: list[str], commas: DecimalCommas | None, source: str, lineno: int,
             column: Callable[[int], str], point: tuple[str, int] | None = None
             ) -> list[float]:
    """The numbers of one row's cells; an empty cell is NaN (a missing value), decimal
    commas are read with ``commas`` (a table that writes them); ``column(j)`` names cell
    ``j`` in the error. ``point``: a decimal point the table writes (cell, line), beside
    which a cell such as ``1,861`` reads both ways (:func:`thousands_or_comma`)."""
    if commas is None:
        part = cells
    else:
        if (read_as := commas.texts(cells, lineno)) is None:
            raise commas.error(source or None, column, "table")
        part = read_as
    try:
        return list(map(float, part))
    except ValueError:
        got = [math.nan if not t.strip() else _float_or_none(t) for t in part]
        if all(v is not None for v in got):
            return [float(v) for v in got if v is not None]
        j = next(j for j, v in enumerate(got) if v is None)
        if point is not None and THOUSANDS_OR_COMMA.match(cells[j].strip()):
            raise thousands_or_comma(source or None, lineno, cells[j],
                                     f" in column {column(j)!r}", *point) from None
        raise RamancamError(
            f"{where(source or None, lineno)}could not read a number from {short(cells[j])} "
            f"in column {column(j)!r}. Fix or remove that value.") from None


#: Inside a spectrum's range, missing values (a removed spike, a dead detector pixel) are
#: left out of its axis when each run of them is at most this many points and all of them
#: at most ``MAX_GAP_SHARE`` of the spectrum; the recipe's resampling bridges the hole.
MAX_GAP_RUN = 10
MAX_GAP_SHARE = 0.05


def _edge_gaps(X: np.ndarray, locate: Callable[[int, int], tuple[str, str]]
               ) -> list[np.ndarray] | None:
    """The points each spectrum (row of ``X``) keeps when some spectra miss values (empty or
    NaN cells): at the ends of the axis, as a table of spectra with different ranges has
    them, or in short runs inside (``MAX_GAP_RUN``, ``MAX_GAP_SHARE``); ``None`` when every
    value is there. ``locate(i, j)`` gives the message prefix (file and line) and the
    column name of value ``j`` of spectrum ``i``.

    Raises
    ------
    RamancamError
        For an infinite value, a longer gap inside a spectrum's range, or a spectrum with
        fewer than two values.
    """
    missing = np.isnan(X)
    bad = np.isinf(X)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        pre, col = locate(i, j)
        raise RamancamError(
            f"{pre}intensities must be finite; got {X[i, j]} in column {col!r}. Remove or "
            "interpolate that value.")
    if not missing.any():
        return None
    empty = np.flatnonzero(missing.all(axis=1))
    if empty.size and empty.size < X.shape[0]:
        # A row with no value at all (a masked or dead pixel of an exported map): zeros, a
        # flat spectrum, which train leaves out and predict does not predict, each naming it.
        pre, _ = locate(int(empty[0]), 0)
        one = empty.size == 1
        warnings.warn(RamancamWarning(
            f"{pre}{spectra_count(int(empty.size))} with no value at all (every cell empty "
            f"or NaN{'' if one else '; this is the first'}) read as zeros: flat, so train "
            f"leaves {'it' if one else 'them'} out and predict marks {'it' if one else 'them'} "
            "not predicted"), stacklevel=2)
        X[empty] = 0.0
        missing[empty] = False
        if not missing.any():
            return None
    for r in np.flatnonzero(missing.any(axis=1)):
        i = int(r)
        have = np.flatnonzero(~missing[i])
        if have.size < 2:
            pre, col = locate(i, int(have[0]) if have.size else 0)
            raise RamancamError(
                f"{pre}a spectrum must hold at least 2 values; got {have.size} (column "
                f"{col!r}). Fill it in or remove it.")
        inner = missing[i, have[0]:have[-1] + 1]
        if not inner.any():
            continue
        starts, ends = true_runs(inner)
        longest = int(np.argmax(ends - starts))
        run = int(ends[longest] - starts[longest])
        if run > MAX_GAP_RUN or inner.sum() > MAX_GAP_SHARE * inner.size:
            pre, col = locate(i, int(have[0] + starts[longest]))
            raise RamancamError(
                f"{pre}intensities may be missing inside a spectrum's range only in short "
                f"runs (at most {MAX_GAP_RUN} points in a row, {MAX_GAP_SHARE:.0%} of the "
                f"spectrum), which resampling bridges; got {run} missing in a row from "
                f"column {col!r} ({int(inner.sum())} of {inner.size} inside its range). "
                "Fill or interpolate those values, or leave the spectrum out.")
    return [np.flatnonzero(~row) for row in missing]


def spectra_kept(X: np.ndarray, axis: np.ndarray, kept: list[np.ndarray] | None,
                 **kw: Any) -> Spectra:
    """``Spectra(X, axis, **kw)``, or, where :func:`_edge_gaps` kept only part of some
    spectra (shorter ranges), each spectrum on its own part of the axis. ``X`` is the
    reader's own array, handed over (not copied)."""
    if kept is None:
        return Spectra(X, axis, copy=False, **kw)
    return Spectra([x[k] for x, k in zip(X, kept, strict=True)], [axis[k] for k in kept],
                   **kw)


def _check_thousands(rows: Iterator[tuple[int, list[str]]], columns: list[int],
                     name: Callable[[int], str], source: str, *, by_row: bool = False
                     ) -> None:
    """Refuse counts grouped with thousands points (:class:`ThousandsPoints`) in the cells
    ``columns`` of ``rows`` (the header first), ``name(j)`` naming column ``j``; a spectrum
    per row (``by_row``) or per column."""
    seen = ThousandsPoints()
    next(rows, None)
    for k, (lineno, row) in enumerate(rows):
        for j, i in enumerate(columns):
            seen.add(k if by_row else j, row[i] if i < len(row) else "", lineno, j)
        if seen.decimal:
            return
    if (hit := seen.ambiguous()) is not None:
        at, j, cell = hit
        raise RamancamError(where(source or None, at)
                            + ThousandsPoints.problem(cell, f"in column {name(j)!r}"))


def _columns_layout(header: list[str], ahead: list[tuple[int, list[str]]], comma: bool
                    ) -> bool:
    """Whether a table without numeric headers is one spectrum per column: its first data
    row is a number and then numbers or empty cells (a spectrum not started yet), and the
    second starts with another number (the next shift)."""
    if len(header) < 2 or len(ahead) < 2 or len(ahead[0][1]) < 2:
        return False

    def num(t: str) -> float | None:
        return finite_number(t.replace(",", ".") if comma else t)

    shift, *cells = ahead[0][1][:len(header)]
    first, rest = num(shift), [num(t) for t in cells if t.strip()]
    shift2 = num(ahead[1][1][0])
    return (first is not None and bool(rest) and all(v is not None for v in rest)
            and shift2 is not None and shift2 != first)


def _parse_columns(rows: Iterator[tuple[int, list[str]]], header: list[str],
                   commas: DecimalCommas | None, source: str, line0: int,
                   label_col: str | None, *, max_rows: int,
                   again: Callable[[], Iterator[tuple[int, list[str]]]] | None = None,
                   point: tuple[str, int] | None = None) -> Spectra:
    """A table with one spectrum per column: the first column the Raman shift, every other
    column a spectrum named by its header (the ``id`` metadata), as many programs export
    several spectra. ``max_rows`` bounds the rows (the text's lines): each row's numbers go
    straight into an array of that many rows, as :func:`parse_table` does. ``again``
    gives the rows anew, the header first, to look for counts grouped with thousands points
    (``None``: a comma-separated table, which has none). ``commas`` and ``point``: as
    :func:`_numbers` takes them (``commas``: a table of decimal commas)."""
    src = source or None
    ncol = len(header)
    if label_col is not None:
        what = ("a (shift, intensity) file" if ncol == 2
                else "a table with one spectrum per column")
        raise RamancamError(
            f"{where(src, line0)}{what} has no label column; got label_col={label_col!r}. "
            + "Label its spectra "
            + ("" if ncol == 2 else "by their names (--labels-from 'id:(.+)_\\d+' for PE_1, "
               "PE_2, ...) or ")
            + "by file (--labels-from folder, regex:R or manifest:F).")
    names = [h or f"column{j + 1}" for j, h in enumerate(header)]
    dup = _first_duplicate(names)
    if dup is not None:
        raise RamancamError(
            f"{where(src, line0)}column names must be unique; got {dup!r} twice. Rename one "
            "of them.")
    V = np.empty((max_rows, ncol), dtype=np.float64)
    lines: list[int] = []
    for lineno, row in rows:
        row = _full_row(row, ncol, source, lineno,
                        " (a Raman shift, then one intensity per spectrum)")
        if len(lines) == len(V):
            V = _grown(V)
        V[len(lines)] = _numbers(row, commas, source, lineno, names.__getitem__, point)
        lines.append(lineno)
    if ((commas is None or commas.grouped is False) and again is not None
            and grouped_counts_maybe(V[:len(lines), 1:])):
        _check_thousands(again(), list(range(1, ncol)), lambda j: names[j + 1], source)
    return _columns_spectra(V[:len(lines)], names, lines, source)


def _columns_spectra(V: np.ndarray, names: list[str], lines: list[int], source: str
                     ) -> Spectra:
    """The spectra of a table of one spectrum per column, its rows ``V`` (the Raman shift,
    then one intensity per spectrum) from the lines ``lines``, its columns ``names``."""
    src = source or None
    axis = check_axis(V[:, 0], source=src)  # a missing shift is no axis
    X = V[:, 1:].T.copy()
    del V
    if (fill := _fill(X, axis, source)) is not None:  # as a table of rows: padding left out
        X, axis, lines = np.ascontiguousarray(X[:, fill]), axis[fill], lines[fill]
    kept = _edge_gaps(X, lambda i, j: (where(src, lines[j]), names[i + 1]))
    meta = {"id": np.array(names[1:], dtype=str)}
    if (nm_per_unit := wavelength_title(names[0])) is not None:  # "Wavelength (nm)"
        axis = axis * nm_per_unit  # in nm: converted with --laser-nm, else refused
        meta["x_units"] = np.full(X.shape[0], "nm")
    return spectra_kept(X, axis, kept, meta=meta, sources=[source] * X.shape[0])


def _positions(meta: dict[str, np.ndarray], source: str = "", lines: list[int] | None = None
               ) -> dict[str, np.ndarray]:
    """Columns named x and y (or X and Y) holding only finite numbers become float positions
    ``x``/``y``; anything else (a text column called y, say) stays as it is. With ``lines``
    (each row's line), a column of numbers but for a few cells (under half) is refused,
    naming the first such cell's line, instead of losing the map's positions unsaid."""
    names = {}
    for want in ("x", "y"):
        found = [k for k in meta if k == want] or [k for k in meta if k.lower() == want]
        if len(found) != 1:
            return meta
        names[want] = found[0]
    vals = {}
    for want, col in names.items():
        try:
            v = meta[col].astype(np.float64)
        except ValueError:
            cells = [str(t) for t in meta[col].tolist()]
            v = np.array([_float_or_none(t) for t in cells], dtype=np.float64)
            # decimal commas ("0,5"), as a table of ';'-separated cells writes positions too
            comma = np.array([_float_or_none(t.replace(",", ".")) if t.count(",") == 1
                              and "." not in t else None for t in cells], dtype=np.float64)
            if np.isfinite(comma).sum() > np.isfinite(v).sum():
                v = np.where(np.isfinite(v), v, comma)
        finite = np.isfinite(v)
        if finite.all():
            vals[want] = v
            continue
        if lines is not None and finite.mean() >= 0.5:
            i = int(np.argmin(finite))
            raise RamancamError(
                f"{where(source or None, lines[i])}column {col!r} must hold a number (a "
                f"position, as {int(finite.sum())} of its {v.size} cells do); got "
                f"{short(str(meta[col][i]))}. Fix that cell, or rename the column if it "
                "holds no positions.")
        return meta
    out = {k: v for k, v in meta.items() if k not in names.values()}
    out.update(vals)
    return out


def _float_or_none(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _first_duplicate(names: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None


def _list(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_name(name: str, what: str) -> None:
    if (not name or name != name.strip() or name.startswith("#")
            or _shift_header(name) is not None
            or any(c in name for c in "\r\n")):
        raise RamancamError(
            f"{what} must be a non-empty name that is not a number, has no surrounding spaces "
            f"or line breaks and does not start with '#'; got {name!r}. Rename it so the "
            "table reads back unchanged.")


def write_table(spectra: Spectra, path: str | os.PathLike[str], *,
                label_col: str | None = "label") -> None:
    """Write spectra as a wide CSV table that :func:`read_table` reads back exactly.

    Numbers are written with ``repr`` (the shortest text that parses back to the same
    float64), so intensities and axis survive a round trip bit for bit; metadata are written
    as text (and read back as strings; labels without surrounding spaces, which
    :func:`read_table` drops). A path ending in ``.gz`` is gzip-compressed. The file is
    written atomically.

    Parameters
    ----------
    spectra : Spectra
        A set on one common axis, or spectra of different ranges on one axis (each axis a
        run of consecutive points of the union of all axes: the layout :func:`read_table`
        reads from empty cells at a row's ends, written back with those empty cells).
        Resample other per-spectrum-axes sets first.
    path : str or path-like
        Output file; its folder must exist.
    label_col : str or None
        Name of the label column (written first); ``None`` leaves labels out. Ignored when
        the spectra are unlabelled. An empty label (``""``, unlabelled) is an empty cell.

    Raises
    ------
    RamancamError
        If the spectra have different axes, or a column name would not read back as the
        same metadata column (empty, numeric, starting with ``#``, duplicated).
    """
    need_spectra(spectra)
    axis, X = _on_one_axis(spectra)
    names: list[str] = []
    columns: list[np.ndarray] = []
    if spectra.labels is not None and label_col is not None:
        _check_name(label_col, "label_col")
        names.append(label_col)
        columns.append(spectra.labels)
    for k, v in spectra.meta.items():
        _check_name(k, f"metadata column {k!r}")
        names.append(k)
        columns.append(v)
    dup = _first_duplicate(names)
    if dup is not None:
        raise RamancamError(
            f"column names must be unique; got {dup!r} both as label_col and as a metadata "
            "column. Pass another label_col.")
    header = [_quote(n) for n in names] + [repr(float(w)) for w in axis]
    text_cols = [[_quote(str(c)) for c in col.tolist()] for col in columns]
    with atomic_write(path, "w", gzip=gz_name(path), newline="") as fh:
        fh.write(",".join(header) + "\n")
        for i, row in enumerate(X.tolist()):
            fh.write(",".join([c[i] for c in text_cols]
                              + ["" if v != v else repr(v) for v in row]) + "\n")  # NaN: empty


def same_axis_runs(spectra: Spectra) -> bool:
    """Whether :func:`write_table` can write ``spectra`` as they are: one common axis, or
    spectra of different ranges on one axis (each a run of the union of the axes)."""
    try:
        _on_one_axis(spectra)
    except RamancamError:
        return False
    return True


def _on_one_axis(spectra: Spectra) -> tuple[np.ndarray, np.ndarray]:
    """The axis and intensities to write: the common ones, or, for spectra of different
    ranges on one axis, the union of their axes with NaN outside each spectrum's range.

    Raises
    ------
    RamancamError
        If some spectrum's axis is not a run of consecutive points of the union.
    """
    if spectra.has_common_axis:
        return spectra.wavenumbers, spectra.X
    axes = spectra.axes
    union = np.unique(np.concatenate(axes))
    if axes[0][0] > axes[0][-1]:
        union = union[::-1]
    X = np.full((len(axes), union.size), np.nan)
    for i, (a, y) in enumerate(zip(axes, spectra.intensities, strict=True)):
        at = np.flatnonzero(np.isin(union, a))
        if at.size != a.size or np.any(np.diff(at) != 1) or not np.array_equal(union[at], a):
            n_axes = len({b.tobytes() for b in axes})
            raise RamancamError(
                f"spectra must share one axis to be written as a wide table; got "
                f"{len(spectra)} spectra on {n_axes} different axes. Resample them onto a "
                "common grid first, e.g. ramancam.preprocess.paper_recipe().apply(spectra) "
                "(--grid).")
        X[i, at] = y
    return union, X


_NEEDS_QUOTES = re.compile(r'[,;|\t"\r\n]')


def _quote(field: str) -> str:
    # csv.writer leaves a lone '\r' unquoted when the line end is '\n', and a reader then
    # splits the row there; quote every field holding a line break, a quote or any character
    # the delimiter sniffer counts, so the header sniffs as ',' whatever the names are.
    if _NEEDS_QUOTES.search(field):
        return '"' + field.replace('"', '""') + '"'
    return field
