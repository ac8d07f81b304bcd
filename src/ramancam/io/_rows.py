"""For the readers that read a file only where indexed (:mod:`ramancam.io.wdf`,
:mod:`ramancam.io.longrows`, :mod:`ramancam.io.tablerows`): runs of consecutive rows, and a
text file's blocks of whole lines."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from numpy.typing import NDArray

#: Bytes of text parsed at a time, while indexing a text file and when reading rows back.
BLOCK_BYTES = 1 << 22
#: Bytes at a text file's start looked at to tell its layout and find its header (a wide
#: table's header line must end within them: 1 MB is some 100,000 Raman shifts).
HEAD_BYTES = 1 << 20


def ascending_runs(idx: Any, n: int) -> tuple[NDArray[np.int64], list[NDArray[np.intp]]]:
    """``idx`` as int64 rows, and the positions in it of each run of consecutive rows.

    Raises
    ------
    IndexError
        If the rows are not ascending, or not within ``0 .. n - 1``.
    """
    rows = np.asarray(idx, dtype=np.int64).ravel()
    if rows.size == 0:
        return rows, []
    if (np.diff(rows) <= 0).any() or rows[0] < 0 or rows[-1] >= n:
        raise IndexError(f"rows must be ascending indices within the file's {n}")
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    return rows, np.split(np.arange(rows.size), breaks)


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes, un-gzipped when it is gzipped (read forwards only, then)."""
    if is_gzip(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def line_blocks(path: Path, start: int, block_bytes: int
                ) -> Iterator[tuple[int, bytes, bool]]:
    """The file (un-gzipped) from byte ``start`` on in blocks of whole lines of about
    ``block_bytes``: ``(offset, block, last)``, the last block without its trailing blank
    space."""
    with open_bytes(path) as fh:
        fh.seek(start)
        at, carry = start, b""
        while True:
            chunk = fh.read(block_bytes)
            buf = carry + chunk
            cut = buf.rfind(b"\n") + 1 if chunk else len(buf.rstrip())
            if cut == 0:
                if not chunk:
                    return
                carry = buf
                continue
            yield at, buf[:cut], not chunk
            at, carry = at + cut, buf[cut:]
            if not chunk:
                return


def plain_lines(block: bytes) -> bool:
    """No blank line among the lines of a block, none that starts with blank space, and no
    line end but "\\n" and "\\r\\n": each line a row, as the row readers need."""
    return not (b"\n\n" in block or block[:1].isspace()
                or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")))


def row_starts(block: bytes) -> NDArray[np.int64]:
    """Where each line of a block of whole lines starts in it."""
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    after = ends[:-1] + 1 if block.endswith(b"\n") else ends + 1
    return np.concatenate([[0], after]).astype(np.int64)


class TextFileRows:
    """Rows of a text file, read from it only when indexed: ``rows[idx]`` (ascending row
    indices) reads each run of consecutive rows (cut to about :data:`BLOCK_BYTES` of text)
    with one read, parsed by :meth:`parse`, and returns a float32 array
    ``(len(idx), n_points)``. ``offsets``: where each row starts, and where the last ends."""

    def __init__(self, path: Path, offsets: NDArray[np.int64], n_points: int) -> None:
        self.path, self.offsets = path, offsets
        self.shape = (len(offsets) - 1, n_points)

    def __len__(self) -> int:
        return self.shape[0]

    def parse(self, text: bytes, n: int) -> NDArray[Any] | None:
        """The ``(n, n_points)`` values of ``n`` rows' text; None where they are not."""
        raise NotImplementedError

    def __getitem__(self, idx: Any) -> NDArray[np.float32]:
        rows, whole_runs = ascending_runs(idx, self.shape[0])
        out = np.empty((rows.size, self.shape[1]), dtype=np.float32)
        runs: list[NDArray[np.intp]] = []
        for run in whole_runs:
            size = int(self.offsets[rows[run[-1]] + 1] - self.offsets[rows[run[0]]])
            runs += np.array_split(run, -(-size // BLOCK_BYTES))
        with self.path.open("rb") as fh:
            for run in runs:
                a, b = int(self.offsets[rows[run[0]]]), int(self.offsets[rows[run[-1]] + 1])
                fh.seek(a)
                values = self.parse(fh.read(b - a), run.size)
                if values is None or values.shape != (run.size, self.shape[1]):
                    raise OSError(f"file {self.path} changed while it was being read")
                out[run] = values
        return out
