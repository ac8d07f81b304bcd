"""Checks of a wide table's header against its rows (:func:`ramancam.io.table.parse_table`):
spectra in columns under numeric names, a table without its header line, a column of
numbers named by no shift among the shift columns, a numeric name at an end of the shift
columns that lies too far from them to be a point of the spectra."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import RamancamError, RamancamWarning, where


def finite_number(token: str) -> float | None:
    """The number a token writes, ``None`` for text and for infinite or NaN values."""
    try:
        v = float(token)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def check_no_name_among_shifts(header: list[str], spec_idx: list[int], shifts: list[float],
                                pre: str, ahead: list[tuple[int, list[str]]], comma: bool
                                ) -> None:
    """Refuse a column of numbers whose name is not a shift between two that are
    (``1782.0x9`` between 1781.9 and 1783.4: a damaged header cell): it would be read as
    metadata and its point dropped without a word. A column of text there (a note) is
    metadata (``ahead``: the first data rows, whose cells tell them apart)."""
    if len(spec_idx) < 2 or spec_idx[-1] - spec_idx[0] + 1 == len(spec_idx) or not ahead:
        return

    def numbers(i: int) -> bool:
        cells = [row[i].strip() for _, row in ahead if i < len(row)]
        return bool(cells) and all(
            finite_number(c.replace(",", ".") if comma else c) is not None for c in cells)

    spectral = set(spec_idx)
    inside = [i for i in range(spec_idx[0], spec_idx[-1] + 1)
              if i not in spectral and numbers(i)]
    if not inside:
        return
    i = inside[0]
    k = int(np.searchsorted(spec_idx, i))
    raise RamancamError(
        f"{pre}column {i + 1} ({header[i]!r}) must be a Raman shift like the columns beside "
        f"it ({shifts[k - 1]:g} and {shifts[k]:g}); got a name that is not a number"
        + (f" ({len(inside)} such columns among the intensities)" if len(inside) > 1 else "")
        + ". Fix the header cell, or move metadata columns before or after the intensities.")


def check_not_headerless(header: list[float], X: np.ndarray, source: str, line0: int
                          ) -> None:
    """Refuse a table of numbers only whose first column runs on from its first row, row
    after row, like a Raman-shift axis: a file of (shift, intensity, intensity, ...) rows
    without a header line, whose first row would otherwise be taken for the shifts."""
    col = np.concatenate([header[:1], X[:, 0]])
    steps = np.diff(col)
    if len(X) < 10 or X.shape[1] >= len(X) or not (
            (steps > 0).all() or (steps < 0).all()):
        return
    raise RamancamError(
        f"{where(source or None, line0)}the first line must be a header; got numbers only "
        f"({', '.join(f'{v:g}' for v in header[:4])}{', ...' if len(header) > 4 else ''}), "
        f"and the first column runs on from it "
        f"row after row like a Raman-shift axis ({col[0]:g} to {col[-1]:g}). Add a header "
        "line: shift,name1,name2,... for a spectrum per column (or shift,intensity for one "
        "spectrum), or Raman shifts (id,400.1,401.3,...) for a spectrum per row.")


#: A table whose header names at most this many shifts over many more rows, beside a
#: metadata column that runs like a Raman-shift axis, holds its spectra in columns.
_FEW_SHIFTS = 10
#: A column name that says it holds Raman shifts ("Raman shift (cm-1)", "wavenumber").
_SHIFT_NAME = re.compile(r"shift|wave\s*numbers?|raman|cm-1|cm\^\{?-1|cm⁻¹|1/cm",
                         re.IGNORECASE)


def spectra_in_columns(shifts: list[float], cells: list[list[str]], names: list[str],
                       headers: list[str], X: np.ndarray, pre: str, *, comma: bool,
                       readable: bool) -> bool:
    """Whether a table read as one spectrum per row (``X``, under the numeric names
    ``shifts``; ``cells`` the rows' metadata under ``names``, ``headers`` as the header
    writes them) holds its spectra in columns, its first column their Raman shifts; refused
    where it does but cannot be read so.

    Spectra in columns under numeric names would read as hundreds of spectra of a few
    points: pandas' ``df.to_csv()`` of a DataFrame of one spectrum per column writes
    ``,0,1,2`` over the Raman shifts (its index), and spectra numbered ``1001..1040`` beside
    a column ``Raman shift (cm-1)`` are the same layout. It is told by a metadata column of
    numbers running strictly up or down over at least 10 rows, ten times as many as the
    numeric names (not the row numbers 0, 1, 2, ... a written index of a wide table holds),
    where either the column's name says it holds Raman shifts (:data:`_SHIFT_NAME`), or the
    names number the spectra, 0, 1, 2, ... (or 1, 2, 3, ...), and are at most
    :data:`_FEW_SHIFTS` or stand beside an unnamed column (a few bands followed over time,
    ``time_s,1001,1450,1660``, and detector channels ``1..1024`` over a long series are wide
    tables). A named shift column that is the table's first and only metadata column
    (``readable``) is read as such, said in a warning (``True``); any other is refused, as
    :func:`check_not_headerless` refuses a table without its header line."""
    n, k = len(X), len(shifts)
    if n < 10 or n < 10 * k:
        return False
    names_k = np.asarray(shifts, dtype=np.float64)
    numbered = (np.array_equal(names_k, np.arange(k))
                or np.array_equal(names_k, np.arange(1, k + 1)))
    for j, name in enumerate(names):
        said = bool(_SHIFT_NAME.search(headers[j]))
        if not (said or (numbered and (k <= _FEW_SHIFTS or not headers[j].strip()))):
            continue
        col = np.array([np.nan if (v := finite_number(c[j].replace(",", ".") if comma
                                                       else c[j])) is None else v
                        for c in cells], dtype=np.float64)
        steps = np.diff(col)
        if not np.isfinite(col).all() or not ((steps > 0).all() or (steps < 0).all()):
            continue
        if np.array_equal(col, np.arange(n)) or np.array_equal(col, np.arange(1, n + 1)):
            continue  # the row numbers, as pandas writes a wide table's index
        shown = f"{name!r}" if headers[j].strip() else f"column {name[6:]}"
        listed = f"{', '.join(f'{v:g}' for v in shifts[:4])}{', ...' if k > 4 else ''}"
        runs = f"{shown} runs from {col[0]:g} to {col[-1]:g}"
        if said and readable and j == 0:
            warnings.warn(RamancamWarning(
                f"{pre}read as one spectrum per column: {runs} over {n} rows like a "
                f"Raman-shift axis, and the other {k} columns are named by numbers "
                f"({listed}), which name the spectra (their id), not Raman shifts"),
                stacklevel=4)
            return True
        raise RamancamError(
            f"{pre}a wide table's header must name its Raman shifts; got {k} numeric column "
            f"names ({listed}) over {n} rows, and {runs} like a Raman-shift axis: the "
            "spectra are in columns, as "
            "pandas writes a DataFrame of one spectrum per column. Transpose it for a "
            "spectrum per row (df.T.to_csv(...)), or name the spectra with text for a "
            "spectrum per column (df.add_prefix('s').to_csv(...)).")
    return False


#: A numeric column name at an end of the shift columns is no Raman shift but metadata (a
#: sample number, a row index: ``100,400.1,402.6,...``) when it lies more than this many
#: median spacings and more than :data:`ISOLATED_GAP_CM` from the other shifts: no
#: measured table has such a point (the shared real tables' end gaps are at most 1.4
#: median spacings), and read as one it moved the grid and flipped the recipe.
ISOLATED_GAP_SPACINGS = 20.0
ISOLATED_GAP_CM = 50.0
#: At most this many such columns at either end, beside at least ``ISOLATED_MIN_RUN``
#: shifts running strictly up or down (their median spacing is then a measure).
ISOLATED_MAX = 3
ISOLATED_MIN_RUN = 10


def isolated_ends(shifts: Sequence[float]) -> tuple[int, int, float]:
    """How many of the first and of the last ``shifts`` lie apart from the others, beyond
    a gap of :data:`ISOLATED_GAP_SPACINGS` median spacings and :data:`ISOLATED_GAP_CM`
    cm-1 (the innermost such gap within :data:`ISOLATED_MAX` of each end), and the median
    spacing; ``(0, 0, ...)`` unless the shifts between them are :data:`ISOLATED_MIN_RUN`
    or more running strictly up or down."""
    v = np.asarray(shifts, dtype=np.float64)
    if v.size < ISOLATED_MIN_RUN + 1:
        return 0, 0, math.nan
    gaps = np.abs(np.diff(v))
    med = float(np.median(gaps))  # the few gaps of such columns hardly move it
    wide = max(ISOLATED_GAP_SPACINGS * med, ISOLATED_GAP_CM)

    def apart(g: np.ndarray) -> int:  # g: the gaps from one end inwards
        return max((k for k in range(1, ISOLATED_MAX + 1) if g[k - 1] > wide), default=0)

    lead, trail = apart(gaps), apart(gaps[::-1])
    steps = np.diff(v[lead:v.size - trail])
    if steps.size + 1 < ISOLATED_MIN_RUN or not ((steps > 0).all() or (steps < 0).all()):
        return 0, 0, med
    return lead, trail, med


def isolated_columns(header: list[str], numeric: list[int], shifts: list[float], pre: str
                     ) -> set[int]:
    """The columns among ``numeric`` (header positions whose names are ``shifts``) that
    :func:`isolated_ends` finds apart from the others: metadata, each said in a warning
    naming it and the gap."""
    lead, trail, med = isolated_ends(shifts)
    if not lead and not trail:
        return set()
    first, last = shifts[lead], shifts[len(shifts) - trail - 1]
    out = set()
    for k in [*range(lead), *range(len(shifts) - trail, len(shifts))]:
        i, edge = numeric[k], first if k < lead else last
        gap = abs(shifts[k] - edge)
        side = (f"before the other shift columns (from {edge:g})" if k < lead
                else f"after the other shift columns (up to {edge:g})")
        warnings.warn(RamancamWarning(
            f"{pre}column {i + 1} ({header[i]!r}) is read as metadata, not as a Raman shift: "
            f"{shifts[k]:g} lies {gap:.4g} cm-1 {side}, {gap / med:.0f} times their median "
            f"spacing of {med:.3g} cm-1, too far to be a point of their spectra (a sample "
            "number or row index?); give it a name that is not a number to say so"),
            stacklevel=4)
        out.add(i)
    return out


def check_shift_order(header: list[str], spec_idx: list[int], shifts: list[float], pre: str
                      ) -> None:
    """Refuse shift columns that do not run strictly up or down, naming the column out of
    order (a numbered metadata column ``401`` before 400.1, 402.6, ...), where the axis check
    names only a point: of the two columns at the first step against the way most steps go,
    the one whose leaving out mends the order around it."""
    v = np.asarray(shifts, dtype=np.float64)
    steps = np.diff(v)
    if v.size < 3 or (steps > 0).all() or (steps < 0).all() or (steps == 0).any():
        return  # fine, or a repeated shift (the axis check names it)
    way = 1.0 if (steps > 0).sum() >= (steps < 0).sum() else -1.0
    i = int(np.flatnonzero(np.sign(steps) != way)[0])  # the step from point i to i + 1

    def mends(k: int) -> bool:  # the points around k run the right way without it
        return k == 0 or k == v.size - 1 or (v[k + 1] - v[k - 1]) * way > 0

    # both: the first column, where a numbered metadata column stands; else the later one
    k = i if mends(i) and (i == 0 or not mends(i + 1)) else i + 1
    col = spec_idx[k]
    around = ", ".join(f"{w:g}" for w in v[max(k - 2, 0):k + 3])
    raise RamancamError(
        f"{pre}the shift columns must run strictly {'up' if way > 0 else 'down'} like most "
        f"of them; got column {col + 1} ({header[col]!r}) out of order ({around}). Sort the "
        "shift columns, or give that column a name that is not a number if it holds no "
        "intensities.")
