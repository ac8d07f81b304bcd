"""A long map export's spectra read from the file only where indexed, so that ``ramancam
convert MAP.txt OUT.zarr`` copies a WiRE long export larger than memory tile by tile.

:func:`open_long_rows` reads the file once in blocks of text, parsed by numpy, checking every
value and the map's layout as :func:`ramancam.io.longmap.parse_long_map` does (the same
errors, with the same line numbers), keeping only each pixel's position and where its rows
start in the file, and, given a ``scratch`` folder, a float32 copy of the intensities. The
rows of the pixels asked for are then read back from that copy
(:class:`ramancam.io.wdf.FileRows`), or without one from the text
(:class:`LongFileRows`), one run of consecutive pixels per read. A gzipped file is indexed
as a stream, so it needs the scratch copy (without one: ``None``). A file that is not plain
rows of numbers (a comment or blank line among the rows, old Mac line ends, text that is not
a number) gives ``None``: it is read whole; so does one whose numbers may be counts grouped
with thousands points (``1.251`` beside ``987``), whose text the whole read looks at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError
from ..spectra import check_axis
from ._atomic import scratch_copy
from ._indexable import indexable_head
from ._rows import (
    BLOCK_BYTES,
    TextFileRows,
    line_blocks,
    plain_lines,
    row_starts,
)
from ._text import GroupedCountsMaybe
from .longmap import (
    _DEFAULT,
    _first_line,
    _header_roles,
    check_unique_positions,
    header_nm,
    looks_long,
    plain_numbers,
    points_error,
    shift_error,
)
from .table import sniff_delimiter
from .wdf import FileRows

__all__ = ["LongFileRows", "LongRows", "open_long_rows"]

class LongFileRows(TextFileRows):
    """The intensities of a long export's pixels, read from the file only when indexed
    (:class:`ramancam.io._rows.TextFileRows`; a row is a pixel)."""

    def __init__(self, path: Path, offsets: NDArray[np.int64], n_points: int, ncol: int,
                 column: int, delimiter: str | None) -> None:
        super().__init__(path, offsets, n_points)
        self.ncol, self.column, self.delimiter = ncol, column, delimiter

    def parse(self, text: bytes, n: int) -> NDArray[Any] | None:
        data = plain_numbers(text, self.delimiter, self.ncol)
        if data is None or data.shape[0] != n * self.shape[1]:
            return None
        return data[:, self.column].reshape(n, self.shape[1])


@dataclass(frozen=True)
class LongRows:
    """A long export's spectra, not read yet (:func:`open_long_rows`).

    Attributes
    ----------
    X : LongFileRows or FileRows of shape (n_pixels, n_points), float32
        The pixels' intensities, read from the file (or its float32 copy in ``scratch``)
        only where indexed.
    axis : ndarray of shape (n_points,)
        Raman shift (cm-1), as the file gives it.
    meta : dict of str to ndarray
        ``x``, ``y`` (and ``z``) of each pixel, as :func:`~ramancam.io.read_long_map`
        gives them.
    source : str
        The file.
    """

    X: LongFileRows | FileRows
    axis: NDArray[np.float64]
    meta: dict[str, NDArray[Any]]
    source: str


class _Index:
    """What indexing a file keeps: each pixel's position, first row and byte offset; the
    checks of :func:`ramancam.io.longmap.parse_long_map`, block by block, told in its order
    once every block has been read (a value that is no number first, which the whole read
    names; then pixel lengths, the axis, the shifts)."""

    def __init__(self, src: str, first_line: int, n_pos: int) -> None:
        self.src, self.first_line = src, first_line
        self.pos: list[NDArray[np.float64]] = []
        self.start_row: list[NDArray[np.int64]] = []
        self.offset: list[NDArray[np.int64]] = []
        self.rows = 0  # rows read so far
        self.last = np.full(n_pos, np.nan)  # the position of the last row read
        self.n_pts = 0  # the first pixel's rows, once it has ended
        self.axis: NDArray[np.float64] | None = None  # its shifts, when they are an axis
        self.odd: RamancamError | None = None  # the first pixel of another length
        self.later: RamancamError | None = None  # the axis's or the first shift's error
        self.cur = 0  # the first row of the pixel being read

    def add(self, data: NDArray[np.float64], row_at: NDArray[np.int64], block_at: int,
            pos_cols: list[int], shift_col: int) -> bool:
        """Take one block's rows (``row_at``: where each starts in the block, which starts at
        byte ``block_at``); False, taking nothing, while the first pixel has not ended."""
        P = data[:, pos_cols]
        new = np.flatnonzero(np.any(P != np.vstack([self.last, P[:-1]]), axis=1))
        starts = self.rows + new
        if not self.n_pts:  # the first pixel's shifts are the axis
            if new.size < 2:
                return False
            self.n_pts = int(new[1])
            try:
                self.axis = check_axis(data[:new[1], shift_col], name="Raman shift",
                                       source=self.src)
            except RamancamError as exc:
                self.later = exc
        n_pts = self.n_pts
        bounds = np.concatenate([[self.cur], starts]) if self.rows else starts
        lengths = np.diff(bounds)
        odd = np.flatnonzero(lengths != n_pts)
        if odd.size and self.odd is None:
            k = int(odd[0])
            self.odd = points_error(self.src, self.first_line + int(bounds[k]),
                                    int(lengths[k]), n_pts)
        if self.axis is not None and self.later is None and self.odd is None:
            # each row's place in its pixel: rows since the last pixel start at or before it
            begin = np.full(len(data), self.cur, dtype=np.int64)
            begin[new] = starts
            place = self.rows + np.arange(len(data)) - np.maximum.accumulate(begin)
            inside = place < n_pts  # rows beyond are a pixel too long, told when it ends
            want = self.axis[np.minimum(place, n_pts - 1)]
            bad = np.flatnonzero(inside & ~np.isclose(data[:, shift_col], want, rtol=1e-9,
                                                      atol=0))
            if bad.size:  # told after the pixels' lengths, as the whole read tells it
                r = int(bad[0])
                self.later = shift_error(self.src, self.first_line + self.rows + r,
                                         data[r, shift_col], want[r])
        self.pos.append(P[new])
        self.start_row.append(starts)
        self.offset.append(block_at + row_at[new])
        if new.size:
            self.cur = int(starts[-1])
        self.rows += len(data)
        self.last = P[-1]
        return True

    def finish(self) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        """Every pixel's position, first row and byte offset, once the last pixel's length,
        the axis and the shifts are checked."""
        if self.odd is not None:
            raise self.odd
        if self.rows - self.cur != self.n_pts:
            raise points_error(self.src, self.first_line + self.cur, self.rows - self.cur,
                               self.n_pts)
        if self.later is not None:
            raise self.later
        return (np.concatenate(self.pos), np.concatenate(self.start_row),
                np.concatenate(self.offset))


def open_long_rows(path: str | os.PathLike[str], *, block_bytes: int = BLOCK_BYTES,
                   scratch: str | os.PathLike[str] | None = None) -> LongRows | None:
    """The pixels of a long map export, read only when indexed, with the axis and positions;
    ``None`` when the file is not plain rows of numbers (see the module docstring), which is
    then read whole. The file is read once, ``block_bytes`` at a time.

    ``scratch``, an existing folder: the intensities are written there as float32 while the
    file is indexed (4 bytes a point, against about 28 of text), and ``X`` reads them back
    (:class:`ramancam.io.wdf.FileRows`) instead of parsing the text again
    (:class:`LongFileRows`); the folder must outlive the reads.

    Raises
    ------
    RamancamError
        As :func:`ramancam.io.longmap.parse_long_map` does for a map whose pixels differ in
        points or shifts or appear twice (file and line named).
    """
    found = indexable_head(path, scratch)
    if found is None:
        return None
    p, head_bytes = found
    bom = 3 if head_bytes.startswith(b"\xef\xbb\xbf") else 0
    head = head_bytes[bom:].decode("latin-1")
    first = _first_line(head) if looks_long(head) else None
    if first is None:
        return None
    lineno0, start, end = first
    roles = _header_roles(head[start:end])
    if roles is not None and header_nm(head[start:end], roles) is not None:
        return None  # in nm: refused (or converted) when read whole
    data_at = end + 1 if roles is not None else start  # in ``head``
    nl = head.find("\n", data_at)
    if nl < 0:
        return None
    delimiter = sniff_delimiter(head[data_at:nl])
    first_line = lineno0 + (roles is not None)
    roles = roles if roles is not None else list(_DEFAULT)
    col = {r: i for i, r in enumerate(roles) if r is not None}
    pos_roles: list[str] = [r for r in ("x", "y", "z") if r in col]
    index = _Index(str(p), first_line, len(pos_roles))
    data_end = bom + data_at  # bytes: latin-1 keeps one character per byte
    copy = None if scratch is None else Path(scratch) / "intensities.f32"
    pending, pending_at = b"", 0  # the first pixel, while it goes on
    # counts that may be grouped with thousands points ('1.251' beside '987'): the whole
    # read looks at their text (None: a comma-separated file, or one with decimal points)
    counts = None if delimiter == "," else GroupedCountsMaybe()
    with scratch_copy(copy, str(p)) as put:
        for at, part, last in line_blocks(p, data_end, block_bytes):
            if pending:
                part, at, pending = pending + part, pending_at, b""
            if b"#" in part or not plain_lines(part):
                return None
            data = plain_numbers(part, delimiter, len(roles))
            row_at = row_starts(part)
            if data is None or len(data) != len(row_at):
                return None
            if not index.add(data, row_at, at, [col[r] for r in pos_roles], col["shift"]):
                if last:  # a single pixel: no map
                    return None
                pending, pending_at = part, at  # the first pixel goes on: read it whole
                continue
            if counts is not None:
                shifts = data[:, col["shift"]]
                if ((shifts != np.round(shifts)).any()
                        or not counts.add(data[:, col["intensity"]])):
                    counts = None
            if copy is not None:
                put(np.ascontiguousarray(data[:, col["intensity"]], dtype="<f4"))
            data_end = at + len(part)
    if not index.n_pts or (counts is not None and counts.maybe):
        return None
    pos, start_row, offsets = index.finish()
    assert index.axis is not None
    check_unique_positions(pos, pos_roles, first_line + start_row, str(p))
    meta: dict[str, NDArray[Any]] = {r: pos[:, i].copy() for i, r in enumerate(pos_roles)}
    for r in ("x", "y"):
        meta.setdefault(r, np.zeros(len(pos)))
    rows: LongFileRows | FileRows = (
        LongFileRows(p, np.append(offsets, data_end).astype(np.int64), index.axis.size,
                     len(roles), col["intensity"], delimiter) if copy is None
        else FileRows(copy, 0, len(pos), index.axis.size))
    return LongRows(rows, index.axis, {k: meta[k] for k in ("x", "y", "z") if k in meta},
                    str(p))
