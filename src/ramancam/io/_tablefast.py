"""A wide table's rows read block by block by pandas' C parser (:func:`number_blocks`), for
:func:`ramancam.io.table.parse_table`: the rows of a large table in about a third of the
CPU time that reading them one cell at a time takes (docs/performance.md, "Reading a wide
table").

Only rows that the line-by-line reader reads without a word go this way, and each number
comes out exactly as Python's ``float`` reads it:

* no quote anywhere in the table, lines that end in ``"\\n"`` or ``"\\r\\n"``, a delimiter
  (not runs of white space), no decimal commas, the Raman-shift columns side by side;
* every row has the header's number of fields (no trailing empty ones), and its Raman-shift
  cells hold plain numbers: digits, a point, a sign, an exponent; no empty cell, no spaces,
  no NaN or inf spelled out, nothing but ASCII.

From the first block that is not so (:class:`Rest`), the rest of the table goes to the
line-by-line reader, which reads or refuses it as before, with the same messages and
warnings. pandas (a dependency of the SPC and SIF readers) converts with a correctly
rounded parser from version 3.1 on (fast_float), as ``float`` does (CPython's); with an
older pandas or none, or for a small table while pandas is not imported yet
(:data:`MIN_CHARS`), every row is read line by line.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["BLOCK_CHARS", "MIN_CHARS", "Block", "Rest", "number_blocks"]

#: Rows of fewer characters are read line by line unless pandas is imported already:
#: importing it (about 0.2 CPU-s) costs more than it saves on a smaller table.
MIN_CHARS = 1 << 22
#: Characters of rows parsed per call of pandas (bounds the memory beside the array).
BLOCK_CHARS = 1 << 21
#: The characters of a plain number (whether they make one is pandas' parser's to say).
_NUMBER_BYTES = b"0123456789.+-eE"


class Block(NamedTuple):
    """Rows read in one go: their Raman-shift values, their other cells (in column order)
    and their line numbers."""

    values: NDArray[np.float64]
    cells: list[list[str]]
    lines: list[int]


class Rest(NamedTuple):
    """The rows from character ``offset`` of the text (line ``line``) on: for the
    line-by-line reader."""

    offset: int
    line: int


def number_blocks(body: str, start: int, line: int, delimiter: str | None, ncol: int,
                  numbers: range) -> Iterator[Block | Rest] | None:
    """The rows of ``body`` from character ``start`` (line number ``line``) on, as
    :class:`Block` s and, from the first block that is not plain numbers on, a
    :class:`Rest`; ``None`` when the table is not for it at all (see the module docstring).
    ``ncol`` is the header's number of fields, ``numbers`` the Raman-shift columns."""
    if delimiter is None or not numbers or '"' in body:
        return None
    if len(body) - start < MIN_CHARS and "pandas" not in sys.modules:
        return None
    read_csv = _reader()
    if read_csv is None:
        return None
    crlf = "\r" in body  # then the line-by-line reader is the csv module
    if crlf and body.count("\r") != body.count("\r\n"):
        return None  # old Mac line ends, or a carriage return inside a line
    return _blocks(body, start, line, delimiter, ncol, numbers, crlf, read_csv)


def _blocks(body: str, start: int, line: int, delimiter: str, ncol: int, numbers: range,
            crlf: bool, read_csv: Callable[..., Any]) -> Iterator[Block | Rest]:
    end = len(body)
    # each byte of a number as it is, the delimiter a line end, anything else a NUL
    marks = bytearray(256)
    for c in _NUMBER_BYTES + b"\n":
        marks[c] = c
    marks[ord(delimiter)] = ord("\n")
    table = bytes(marks)
    while start < end:
        stop = body.find("\n", min(start + BLOCK_CHARS, end) - 1)
        stop = end if stop < 0 else stop + 1  # whole lines
        rows = body[start:stop].split("\n")
        got = _block(rows, line, delimiter, ncol, numbers, crlf, read_csv, table)
        if got is None:
            yield Rest(start, line)
            return
        yield got
        line += len(rows) - 1
        start = stop


def _block(rows: list[str], line: int, delimiter: str, ncol: int, numbers: range,
           crlf: bool, read_csv: Callable[..., Any], table: bytes) -> Block | None:
    """The rows of the lines ``rows`` (the first numbered ``line``) as a :class:`Block`, or
    ``None`` where any of them is not for it."""
    limit = csv.field_size_limit()  # what the csv module refuses, it is left to refuse
    tail = ncol - numbers.stop
    parts: list[str] = []
    cells: list[list[str]] = []
    lines: list[int] = []
    for i, row in enumerate(rows):
        if crlf and row.endswith("\r"):
            row = row[:-1]
        if not row.strip():
            if delimiter in row:
                return None  # blank but for delimiters: the two line-by-line readers differ
            continue  # a blank line, left out as the line-by-line reader leaves it
        if row.count(delimiter) != ncol - 1:
            return None  # another number of fields (or trailing empty ones)
        if crlf and len(row) > limit and max(map(len, row.split(delimiter))) > limit:
            return None
        *meta, part = row.split(delimiter, numbers.start)
        part, *after = part.rsplit(delimiter, tail)
        parts.append(part)
        cells.append(meta + after)
        lines.append(line + i)
    if not parts:
        return Block(np.empty((0, len(numbers))), cells, lines)
    data = "\n".join(parts)
    if not data.isascii():
        return None
    # One number a line, one column for pandas (a column per shift costs more than the
    # numbers); an empty cell is an empty line, which pandas skips: one number too few.
    flat = data.encode("ascii").translate(table)
    if b"\0" in flat:
        return None  # something but numbers
    try:
        frame = read_csv(io.BytesIO(flat))
    except (ValueError, OverflowError):  # pandas' ParserError is a ValueError
        return None
    values = frame.to_numpy(dtype=np.float64)
    if values.shape != (len(parts) * len(numbers), 1):
        return None
    return Block(values.reshape(len(parts), len(numbers)), cells, lines)


def _reader() -> Callable[..., Any] | None:
    """``pandas.read_csv`` set up to read a column of plain numbers as ``float`` reads
    them, blank lines left out; ``None`` without pandas 3.1 or later."""
    try:
        import pandas as pd
    except ImportError:
        return None
    if tuple(int(v) for v in re.findall(r"\d+", pd.__version__)[:2]) < (3, 1):
        # Before 3.1 pandas' default converter is not always correctly rounded, and its
        # exact one (float_precision="round_trip", CPython's) is slower than reading the
        # cells one by one (1.9 against 1.3 CPU-s for 3,000 spectra with pandas 2.2.3).
        return None

    def read_csv(buffer: io.BytesIO) -> Any:
        return pd.read_csv(buffer, header=None, index_col=False, dtype=np.float64,
                           engine="c", na_filter=False, quoting=csv.QUOTE_NONE,
                           low_memory=False)

    return read_csv
