"""A wide table's spectra read from the file only where indexed, so that ``ramancam convert
MAP.csv OUT.zarr`` copies a map table (a spectrum per row, with ``x`` and ``y`` columns)
larger than memory tile by tile.

:func:`open_table_rows` reads the file once in blocks of lines, each parsed by the wide-table
reader itself (:func:`ramancam.io.table.parse_table`, under the file's header), keeping each
row's position, label and where it starts in the file, and, given a ``scratch`` folder, a
float32 copy of the spectra. The rows asked for are read back from that copy, or without
one parsed from the text again (:class:`TableFileRows`), one run of consecutive rows per
read. Anything the blocks cannot show alike (a gzipped file without a scratch copy, quoting,
old Mac line ends, blank or comment lines among the rows, rows of different ranges, no
numeric ``x``/``y``, or an error in any row) gives ``None``: the file is then read whole,
which names the line of an error. So does a table headed in wavelengths (``800.000 nm``):
read whole, it is refused without ``--laser-nm`` as every command refuses it
(:func:`ramancam.cli._common.apply_laser_nm`), not copied with its nm passing for cm-1.

The numbers of every block are read as the whole read reads them (:class:`TableNumbers`):
with decimal commas or points as the table's header and first two rows say (the first block
is held until it has them), a point grouping thousands or not as the first cell with one
says, and a ``1,861`` (1861 or 1.861) refused beside a decimal point wherever in the file
either is, not as the rows of each block alone would say.

Padding (a fill value at the ends of every spectrum, :func:`ramancam.io.table._fill`) is
left out as when the table is read whole, with the same warning: each block's rows shorten
the runs of the first row's end values that the earlier blocks left
(:class:`ramancam.checks.FillScan`), so the points left out are those of all the rows
together, decided once the file is indexed, and every row is read back without them
(:class:`KeptColumns`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..checks import FillScan
from ..errors import RamancamError
from ._atomic import scratch_copy
from ._indexable import indexable_head
from ._rows import (
    BLOCK_BYTES,
    TextFileRows,
    line_blocks,
    plain_lines,
    row_starts,
)
from ._text import UTF8_BOM, TableNumbers, decode_lines
from .exports import export_kind
from .folder import sniff_kind
from .jcamp import looks_like_jcamp
from .table import FILL_RULES, _skip_comments, fill_left_out, parse_table
from .tidy import looks_tidy
from .wdf import FileRows

__all__ = ["KeptColumns", "TableFileRows", "TableRows", "open_table_rows"]


class TableFileRows(TextFileRows):
    """The spectra of a wide table's rows, read from the file only when indexed
    (:class:`ramancam.io._rows.TextFileRows`), each run parsed under the file's header."""

    def __init__(self, path: Path, header: str, offsets: NDArray[np.int64], n_points: int,
                 numbers: TableNumbers) -> None:
        super().__init__(path, offsets, n_points)
        self.header, self.numbers = header, numbers

    def parse(self, text: bytes, n: int) -> NDArray[Any] | None:
        try:
            s = parse_table(self.header + "\n" + decode_lines(text), source=str(self.path),
                            drop_fill=False, numbers=self.numbers)
        except RamancamError:
            return None
        return s.X if len(s) == n and s.has_common_axis else None


class KeptColumns:
    """The rows of ``rows`` (read only when indexed, as :class:`TableFileRows` and
    :class:`ramancam.io.wdf.FileRows` are) with only the points ``cols``: a table's spectra
    without its padding."""

    def __init__(self, rows: TableFileRows | FileRows, cols: slice) -> None:
        self.rows, self.cols = rows, cols
        self.shape = (rows.shape[0], len(range(rows.shape[1])[cols]))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx: Any) -> NDArray[np.float32]:
        return np.ascontiguousarray(self.rows[idx][:, self.cols])


@dataclass(frozen=True)
class TableRows:
    """A wide table's spectra, not read yet (:func:`open_table_rows`).

    Attributes
    ----------
    X : TableFileRows, FileRows or KeptColumns of shape (n, n_points), float32
        The rows' spectra, read from the file (or its float32 copy in ``scratch``) only
        where indexed; without the table's padding (:class:`KeptColumns`) where it has one.
    axis : ndarray of shape (n_points,)
        Raman shift (cm-1), the header's, without the padding's.
    meta : dict of str to ndarray
        ``x`` and ``y`` of each row.
    labels : ndarray of str, or None
        The ``label_col`` column, when one was named.
    source : str
        The file.
    """

    X: TableFileRows | FileRows | KeptColumns
    axis: NDArray[np.float64]
    meta: dict[str, NDArray[Any]]
    labels: NDArray[np.str_] | None
    source: str


def open_table_rows(path: str | os.PathLike[str], *, label_col: str | None = None,
                    block_bytes: int = BLOCK_BYTES,
                    scratch: str | os.PathLike[str] | None = None) -> TableRows | None:
    """The rows of a wide map table (``x`` and ``y`` columns), read only when indexed, with
    the axis, positions and labels; ``None`` when the blocks cannot be read alike (see the
    module docstring), the file then being read whole.

    ``scratch``, an existing folder: the spectra are written there as float32 while the
    file is indexed, and ``X`` reads them back (:class:`ramancam.io.wdf.FileRows`) instead
    of parsing the text again (:class:`TableFileRows`); the folder must outlive the reads.

    Padding at the ends of every spectrum is left out, with the warning of the whole read
    (see the module docstring), once every block has been read: a table that falls back to
    the whole read (``None``) is not warned about twice.
    """
    found = indexable_head(path, scratch)
    if found is None:
        return None
    p, head_bytes = found
    # up to the last whole line: a multi-byte character may be cut at the end; decoded as
    # the whole read decodes the file (lines of UTF-8 and of cp1252 mixed), as are the
    # blocks, its byte-order mark left out (Excel's "CSV UTF-8" writes one)
    bom = len(UTF8_BOM) if head_bytes.startswith(UTF8_BOM) else 0
    head = decode_lines(head_bytes[bom:head_bytes.rfind(b"\n") + 1])
    if (not head or '"' in head
            or "\r" in head.replace("\r\n", "") or looks_like_jcamp(head)
            or export_kind(head) is not None or looks_tidy(head)
            or (label_col is None and sniff_kind(head) != "table")):
        return None
    start, line0 = _skip_comments(head)
    end = head.find("\n", start)
    if start < 0 or end < 0:
        return None
    header = head[start:end].rstrip("\r")
    start_at = bom - 1  # the byte after the header line's end
    for _ in range(line0):
        start_at = head_bytes.find(b"\n", start_at + 1)
    start_at = end_at = start_at + 1
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    labels: list[NDArray[np.str_]] = []
    offsets: list[NDArray[np.int64]] = []
    axis: NDArray[np.float64] | None = None
    padding = FillScan(**FILL_RULES)  # decided on all the rows, as the whole read does
    numbers = TableNumbers()  # decided on the first rows, as the whole read decides
    held, held_at = b"", 0  # the first block, until it holds the two rows that decide
    copy = None if scratch is None else Path(scratch) / "spectra.f32"
    with scratch_copy(copy, str(p)) as put:
        for at, part, last in line_blocks(p, start_at, block_bytes):
            if held:
                part, at, held = held + part, held_at, b""
            if axis is None and not last and part.count(b"\n") < 2:
                held, held_at = part, at
                continue
            if not plain_lines(part):
                return None
            text = decode_lines(part)
            try:
                # a block: the padding is judged on all of them, the numbers read as the
                # first block decided
                s = parse_table(header + "\n" + text, source=str(p), label_col=label_col,
                                drop_fill=False, numbers=numbers)
            except RamancamError:
                return None  # the whole read names the line
            starts = row_starts(part)
            if (len(s) != len(starts) or not s.has_common_axis
                    or s.meta.get("x", np.array([""])).dtype.kind != "f"
                    or s.meta.get("y", np.array([""])).dtype.kind != "f"
                    or (axis is not None and not np.array_equal(axis, s.wavenumbers))
                    or "x_units" in s.meta):  # in nm: refused (or converted) when read whole
                return None
            axis = s.wavenumbers if axis is None else axis
            padding.add(s.X)
            xs.append(s.meta["x"])
            ys.append(s.meta["y"])
            if s.labels is not None:
                labels.append(s.labels)
            offsets.append(at + starts)
            if copy is not None:
                from .zarr_cube import fits_float32

                before = sum(len(o) for o in offsets) - len(s)  # this block's offsets are in
                fits_float32(s.X, str(p), np.arange(len(s)) + before)
                put(np.ascontiguousarray(s.X, dtype="<f4"))
            end_at = at + len(part)
    if axis is None:
        return None
    starts_all = np.concatenate(offsets)
    numbers.checked = True  # rows read back are not judged alone
    rows: TableFileRows | FileRows = (
        TableFileRows(p, header, np.append(starts_all, end_at).astype(np.int64), axis.size,
                      numbers) if copy is None
        else FileRows(copy, 0, len(starts_all), axis.size))
    kept = fill_left_out(padding.ends(axis), axis.size, str(p))
    return TableRows(rows if kept is None else KeptColumns(rows, kept),
                     axis if kept is None else axis[kept],
                     {"x": np.concatenate(xs), "y": np.concatenate(ys)},
                     np.concatenate(labels) if labels else None, str(p))
