"""A structural check of a MATLAB v5 (v6, v7) file before ``scipy.io.loadmat`` reads it.

scipy's v5 reader (the C extension ``_mio5_utils``) takes the type of a numeric or char data
element from the file and looks its NumPy dtype up in a fixed table without a bounds check:
an element of type 8, 10, 11, 19 or above (a damaged tag) makes it read outside the table,
and the interpreter dies of a segmentation fault or a bus error instead of raising. It also
recurses in C through nested cells and structs. This module walks the file as that reader
walks it (the same elements in the same order: the top-level variables, the inflated data
of each ``miCOMPRESSED`` variable, the array flags, dimensions and name of each array, then
what its class reads: real and imaginary parts, sparse indices, characters, cells, struct
fields, objects, functions, opaque objects), reading only the tags and the few values that
say what follows, and refuses, naming the element and where it is, a file on which the
reader could crash or read past an element: an element type that is none of MATLAB's, an
element or array that runs past the array (or file) holding it, arrays nested deeper than
:data:`_MAX_NEST`.

The data of the elements is not read, only stepped over; in a compressed variable it has to
be inflated to find what follows, in bounded pieces, and only where something follows: the
last element of a variable (all of a matrix of spectra, often) is never inflated here.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from ..errors import RamancamError, size_text

__all__ = ["Declared", "check_mat5", "largest_declared"]

#: The data types of MATLAB's data elements (miINT8 .. miUTF32, no 8, 10, 11 and, inside an
#: array, no miMATRIX/miCOMPRESSED): those scipy's reader has a dtype for.
_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 18})
_INT32S = frozenset({5, 6})  # dimensions and field-name lengths: miINT32 or miUINT32
_MATRIX, _COMPRESSED = 14, 15
#: Classes (the low byte of the array flags) and what scipy reads after the array's name.
_CELL, _STRUCT, _OBJECT, _CHAR, _SPARSE, _FUNCTION, _OPAQUE = 1, 2, 3, 4, 5, 16, 17
_NUMERIC_CLASSES = frozenset(range(6, 16))  # double .. uint64
#: Name and bytes per value of the numeric classes, as the loaded array holds them.
_NUMERIC = {6: ("double", 8), 7: ("single", 4), 8: ("int8", 1), 9: ("uint8", 1),
            10: ("int16", 2), 11: ("uint16", 2), 12: ("int32", 4), 13: ("uint32", 4),
            14: ("int64", 8), 15: ("uint64", 8)}
#: Arrays nested deeper than this (cells of cells ...) are refused: scipy's reader recurses
#: in C, a damaged file could exhaust the stack. MATLAB data sets nest a few levels.
_MAX_NEST = 100
_PIECE = 1 << 20  # inflated (and discarded) at most this many bytes at a time


class Declared(NamedTuple):
    """A top-level numeric array as its header declares it."""

    name: str
    dims: list[int]
    kind: str  # "double", "complex single", ...
    nbytes: int  # of the array loaded


def largest_declared(arrays: list[Declared]) -> str:
    """``": its variable 'X' (50000x10000 double) needs 3.7 GiB"`` for the largest of
    ``arrays`` (``""`` for none), as a memory refusal says what the file needs."""
    if not arrays:
        return ""
    a = max(arrays, key=lambda d: d.nbytes)
    shape = "x".join(str(d) for d in a.dims)
    return f": its variable {a.name!r} ({shape} {a.kind}) needs {size_text(a.nbytes)}"


class _Damaged(Exception):
    """What is wrong in the file (the text of the refusal, without the file's name)."""


class _FileData:
    """The bytes of the file, read at a position (an uncompressed variable)."""

    def __init__(self, fh: BinaryIO, pos: int) -> None:
        self.fh, self.pos = fh, pos

    def where(self, pos: int) -> str:
        return f"byte {pos}"

    def read(self, n: int) -> bytes:
        self.fh.seek(self.pos)
        data = self.fh.read(n)
        if len(data) < n:
            raise _Damaged(f"the file ends at byte {self.pos + len(data)}, inside the element "
                           f"at {self.where(self.pos)}")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        self.pos += n


class _Inflated:
    """The inflated data of an ``miCOMPRESSED`` variable of ``size`` compressed bytes at
    ``start``: positions count inflated bytes; a skip is done only when a later read needs
    the bytes after it, inflating and dropping at most :data:`_PIECE` bytes at a time."""

    def __init__(self, fh: BinaryIO, start: int, size: int) -> None:
        self.fh, self.raw_pos, self.raw_left = fh, start, size
        self.z = zlib.decompressobj()
        self.buf = b""  # inflated, not read yet
        self.pos = 0  # of the next byte read, in the inflated data (skips counted)
        self.skipped = 0  # bytes to drop before the next read

    def where(self, pos: int) -> str:
        return f"byte {pos} of its inflated data"

    def _inflate(self, most: int) -> bytes:
        while True:
            if self.z.unconsumed_tail:
                raw = self.z.unconsumed_tail
            elif self.raw_left > 0 and not self.z.eof:
                self.fh.seek(self.raw_pos)
                raw = self.fh.read(min(self.raw_left, _PIECE))
                if not raw:
                    self.raw_left = 0
                    continue
                self.raw_pos += len(raw)
                self.raw_left -= len(raw)
            else:
                return b""
            try:
                out = self.z.decompress(raw, most)
            except zlib.error as exc:
                raise _Damaged(f"its compressed data cannot be inflated ({exc})") from None
            if out:
                return out

    def read(self, n: int) -> bytes:
        drop = self.skipped
        self.skipped = 0
        while drop > 0:
            if not self.buf:
                self.buf = self._inflate(min(drop, _PIECE))
                if not self.buf:
                    raise _Damaged(f"its compressed data ends at "
                                   f"{self.where(self.pos - drop)}, inside an element")
            k = min(drop, len(self.buf))
            self.buf, drop = self.buf[k:], drop - k
        while len(self.buf) < n:
            more = self._inflate(max(n - len(self.buf), 4096))
            if not more:
                raise _Damaged(f"its compressed data ends at "
                               f"{self.where(self.pos + len(self.buf))}, inside an element")
            self.buf += more
        data, self.buf = self.buf[:n], self.buf[n:]
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        self.skipped += n
        self.pos += n


class _Walk:
    """scipy's walk through the arrays of one variable (``VarReader5``), tags only."""

    def __init__(self, data: _FileData | _Inflated, order: str) -> None:
        self.data, self.u4, self.i4 = data, f"{order}II", np.dtype(f"{order}i4")
        self.name = ""  # of the variable, once read
        self.declared: Declared | None = None  # the variable, when a numeric array

    def element(self, end: int, what: str, keep: bool = False) -> tuple[int, int, bytes]:
        """The next data element (``read_element``: a small one packed in its 8-byte tag, or
        a tag and its data padded to 8 bytes), inside ``end``: its data type, byte count
        and, with ``keep``, its data (else stepped over)."""
        at = self.data.pos
        if at + 8 > end:
            raise _Damaged(f"its {what} at {self.data.where(at)} lies past the end of its "
                           f"array (at {self.data.where(end)})")
        tag = self.data.read(8)
        mdtype, count = struct.unpack(self.u4, tag)
        if mdtype >> 16:  # small data element: type and byte count as two uint16
            mdtype, count, small = mdtype & 0xFFFF, mdtype >> 16, True
            if count > 4:
                raise _Damaged(f"its {what} at {self.data.where(at)} is a small element of "
                               f"{count} bytes (at most 4)")
        else:
            small = False
        if mdtype not in _TYPES:
            raise _Damaged(f"its {what} at {self.data.where(at)} has data type {mdtype}, none "
                           "of MATLAB's")
        if small:
            return mdtype, count, tag[4:4 + count]
        if at + 8 + count > end:
            raise _Damaged(f"its {what} at {self.data.where(at)} announces {count} bytes, "
                           f"past the end of its array (at {self.data.where(end)})")
        padded = count + (-count % 8)
        if keep:
            return mdtype, count, self.data.read(padded)[:count]
        self.data.skip(padded)
        return mdtype, count, b""

    def int32s(self, end: int, what: str) -> list[int]:
        """An element of int32 values (``read_into_int32s``: miINT32 or miUINT32)."""
        at = self.data.pos
        mdtype, count, data = self.element(end, what, keep=True)
        if mdtype not in _INT32S:
            raise _Damaged(f"its {what} at {self.data.where(at)} has data type {mdtype}, not "
                           "miINT32")
        return [int(v) for v in np.frombuffer(data[:count - count % 4], self.i4)]

    def matrix(self, end: int, depth: int, what: str) -> str:
        """A nested array (``read_mi_matrix``: a full tag of type miMATRIX), inside ``end``;
        returns its name."""
        at = self.data.pos
        if at + 8 > end:
            raise _Damaged(f"its {what} at {self.data.where(at)} lies past the end of its "
                           f"array (at {self.data.where(end)})")
        mdtype, count = struct.unpack(self.u4, self.data.read(8))
        if mdtype != _MATRIX:
            raise _Damaged(f"its {what} at {self.data.where(at)} has data type {mdtype}, not "
                           f"an array ({_MATRIX})")
        if at + 8 + count > end:
            raise _Damaged(f"its {what} at {self.data.where(at)} announces {count} bytes, "
                           f"past the end of its array (at {self.data.where(end)})")
        return self.array(at + 8 + count, depth + 1) if count else ""

    def array(self, end: int, depth: int) -> str:
        """The contents of an array after its tag (``read_header`` and
        ``array_from_header``), inside ``end``; returns its name."""
        if depth > _MAX_NEST:
            raise _Damaged(f"it nests arrays more than {_MAX_NEST} deep (at "
                           f"{self.data.where(self.data.pos)})")
        at = self.data.pos
        if at + 16 > end:
            raise _Damaged(f"its array flags at {self.data.where(at)} lie past the end of its "
                           f"array (at {self.data.where(end)})")
        flags = struct.unpack(self.u4, self.data.read(16)[8:])[0]
        mclass, complex_ = flags & 0xFF, bool(flags >> 11 & 1)
        if mclass == _OPAQUE:  # a name, its type system and class name, then an array
            name = self._name(end, depth)
            self.element(end, "type system")
            self.element(end, "class name")
            self.matrix(end, depth, "object data")
            return name
        dims = self._dims(end)
        name = self._name(end, depth)
        n = 1
        for d in dims:
            n *= d
        if mclass in _NUMERIC_CLASSES:
            if depth == 0:
                kind, size = _NUMERIC[mclass]
                self.declared = Declared(name, dims, "complex " * complex_ + kind,
                                         n * size * (1 + complex_))
            self.element(end, "real part")
            if complex_:
                self.element(end, "imaginary part")
        elif mclass == _SPARSE:
            for part in ("row indices", "column indices", "values"):
                self.element(end, part)
            if complex_:
                self.element(end, "imaginary values")
        elif mclass == _CHAR:
            self.element(end, "characters")
        elif mclass == _CELL:
            self._room(n, end, "cells")
            for _ in range(n):
                self.matrix(end, depth, "cell")
        elif mclass in (_STRUCT, _OBJECT):
            if mclass == _OBJECT:
                self.element(end, "class name")
            lengths = self.int32s(end, "field-name length")
            if len(lengths) != 1 or lengths[0] < 1:
                raise _Damaged(f"its field-name length is {lengths}, not one positive number")
            fields = self.element(end, "field names")[1] // lengths[0]
            self._room(n * fields, end, "struct fields")
            for _ in range(n * fields):
                self.matrix(end, depth, "struct field")
        elif mclass == _FUNCTION:
            self.matrix(end, depth, "function data")
        return name

    def _name(self, end: int, depth: int) -> str:
        name = self.element(end, "name", keep=True)[2].decode("latin-1")
        if depth == 0:
            self.name = name
        return name

    def _dims(self, end: int) -> list[int]:
        at = self.data.pos
        dims = self.int32s(end, "dimensions")
        if any(d < 0 for d in dims):
            raise _Damaged(f"its dimensions at {self.data.where(at)} are {dims}, one negative")
        return dims

    def _room(self, n: int, end: int, what: str) -> None:
        """``n`` nested arrays need 8 bytes each at least: more than fit is a damaged count
        (and would keep this walk, and scipy's, going for ever)."""
        if n * 8 > end - self.data.pos:
            raise _Damaged(f"its {n} {what} (at {self.data.where(self.data.pos)}) cannot fit "
                           f"in the {end - self.data.pos} bytes left of its array")


def _is_v5(head: bytes) -> tuple[bool, str]:
    """Whether scipy reads the file as v5 (no zero in its first 4 bytes, version 1 at byte
    124 or 125), and its byte order (``IM`` at byte 126: little-endian)."""
    if len(head) < 128 or 0 in head[:4]:
        return False, "<"
    major = head[125] if head[126:127] == b"I" else head[124]
    return major == 1, "<" if head[126:128] == b"IM" else ">"


def check_mat5(path: Path) -> list[Declared]:
    """Refuse, in one line naming the file and where it is damaged, a MATLAB v5 file that
    scipy's reader could crash on (see the module docstring); files of other versions (v4,
    v7.3) and sound v5 files pass. Reads the tags only (and inflates compressed variables up
    to their last element). Returns the top-level numeric arrays as declared (none for other
    versions): a compressed file can hold far more than its size, and what it declares says
    how much a refusal for want of memory is about."""
    declared: list[Declared] = []
    with path.open("rb") as fh:
        head = fh.read(128)
        v5, order = _is_v5(head)
        if not v5:
            return declared
        fh.seek(0, 2)
        size = fh.tell()
        pos = 128
        while pos < size:
            var = f"the variable at byte {pos}"
            walk = None
            try:
                fh.seek(pos)
                tag = fh.read(8)
                if len(tag) < 8:
                    raise _Damaged(f"the file ends at byte {size}, inside its tag")
                mdtype, count = struct.unpack(f"{order}II", tag)
                if count == 0 or mdtype not in (_MATRIX, _COMPRESSED):
                    raise _Damaged(f"its tag gives data type {mdtype} and {count} bytes, not "
                                   "an array")
                if pos + 8 + count > size:
                    raise _Damaged(f"it announces {count} bytes, past the end of the file "
                                   f"(byte {size})")
                if mdtype == _COMPRESSED:
                    var = f"the compressed variable at byte {pos}"
                    walk = _Walk(_Inflated(fh, pos + 8, count), order)
                    inner, n = struct.unpack(walk.u4, walk.data.read(8))
                    if inner != _MATRIX:
                        raise _Damaged(f"its inflated data starts with data type {inner}, not "
                                       f"an array ({_MATRIX})")
                    walk.array(8 + n, 0)
                else:
                    walk = _Walk(_FileData(fh, pos + 8), order)
                    walk.array(pos + 8 + count, 0)
            except _Damaged as exc:
                if walk is not None and walk.name.isprintable() and walk.name:
                    var = var.replace("variable", f"variable {walk.name!r}", 1)
                raise RamancamError(
                    f"file {path} must be a valid MATLAB (.mat) file; {var}: {exc}: the file "
                    "is damaged or truncated. Save the variables again in MATLAB (or copy "
                    "the file again).") from None
            if walk.declared is not None:
                declared.append(walk.declared)
            pos += 8 + count
    return declared
