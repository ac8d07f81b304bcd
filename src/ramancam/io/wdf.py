"""Renishaw WiRE files (``.wdf``), read with Renishaw's ``renishaw-wdf`` library.

A WDF file holds one spectrum, a series, a line scan or a map; every collected spectrum
becomes one spectrum here (``ncollected`` of them: an interrupted map keeps what was
measured). Metadata per spectrum:

``x``, ``y`` (and ``z`` where the file has it)
    the spatial origin of the spectrum, float, in the file's units (micrometres for WiRE
    maps and line scans); present only when the file records positions;
``acquired``
    the acquisition time of the spectrum (the file's time origin; else the start of the
    measurement), ISO 8601;
``title``
    the measurement title;
``laser_wavelength_nm``
    from the header's laser wavenumber (1e7 / wavenumber), NaN when the file has none;
``scan_type``, ``measurement``
    WiRE's scan type and measurement type (e.g. ``Static``, ``Single``, ``Series``);
``spectrum``
    the index of the spectrum in the file (0, 1, ...).

The x list must be Raman shift (cm-1); a nanometre x list is converted to Raman shift with
the laser wavelength. Multi-track files are read on their first track.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError, spectra_count
from ..spectra import Spectra, check_axis
from ._rows import ascending_runs
from ._text import check_exists, read_bytes
from ._vendor import library_boundary, nm_to_shift, time_text, what_it_starts_with

__all__ = ["FileRows", "WdfRows", "open_wdf_rows", "read_wdf"]

_MAGIC = b"WDF1"
_HEADER_SIZE = 512
_BLOCK_HEADER = 16  # id, uid (uint32 each), size (uint64, header included)
_POSITIONS = {"Spatial_X": "x", "Spatial_Y": "y", "Spatial_Z": "z"}


#: WiRE's measurement type of a map or line scan (``WdfType.Mapping``).
_MAPPING = 3


def _check_header(data: bytes, source: str) -> None:
    if data[:4] != _MAGIC:
        raise RamancamError(
            f"file {source} must be a Renishaw WiRE file (starting with 'WDF1'); got "
            f"{what_it_starts_with(data)}. "
            "Check the file (a text export needs a .txt or .csv suffix).")
    if len(data) < _HEADER_SIZE:
        raise RamancamError(
            f"file {source} must be a Renishaw WiRE file with a {_HEADER_SIZE}-byte header; "
            f"got {len(data)} bytes (truncated). Re-export it.")


def _enum_name(get: Any, code: int) -> str:
    try:
        return str(get().name)
    except (ValueError, AttributeError):
        return str(code)


def read_wdf(path: str | os.PathLike[str]) -> Spectra:
    """Read a Renishaw WiRE ``.wdf`` file: one spectrum per collected spectrum.

    Parameters
    ----------
    path : str or path-like
        The ``.wdf`` file (a gzipped one is un-gzipped first).

    Returns
    -------
    Spectra
        ``ncollected`` spectra on the file's x list, metadata as in the module docstring
        (``x``/``y`` float positions for maps and line scans); ``sources`` = the path.

    Raises
    ------
    RamancamError
        Missing path; content that is not a WDF file; a truncated or damaged file (a block
        whose size is smaller than its 16-byte header, named with its offset; no data
        block, a data block shorter than the header announces, an x list with fewer or more
        values than the spectra have points, any failure of the library, named); an x list
        that is not strictly monotonic or values that are not finite.
    """
    p = check_exists(path)
    source = str(p)
    data = read_bytes(p)
    _check_header(data, source)
    lay = _layout(io.BytesIO(data), len(data), p)
    X: NDArray[np.float64] = np.frombuffer(
        data, dtype="<f4", count=lay.n * lay.npts, offset=lay.start,
    ).reshape(lay.n, lay.npts).astype(np.float64)
    del data  # the file's bytes, no longer needed: a large map is not held twice
    try:
        return Spectra(X, lay.axis, meta=lay.meta, sources=[source] * lay.n, copy=False)
    except RamancamError as exc:  # e.g. a damaged x axis: name the file (once)
        if source in str(exc):
            raise
        raise RamancamError(f"file {source}: {exc}") from None


class FileRows:
    """Rows of a float32 block of a file, read from disk only when indexed: ``rows[idx]``
    (an integer array, ascending) reads the runs of consecutive rows with one read each and
    returns a float32 array ``(len(idx), n_points)``. Nothing stays mapped, so reading a
    file larger than memory tile by tile keeps the memory of one tile."""

    def __init__(self, path: Path, offset: int, n: int, n_points: int) -> None:
        self.path, self.offset, self.shape = path, offset, (n, n_points)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx: Any) -> NDArray[np.float32]:
        rows, runs = ascending_runs(idx, self.shape[0])
        npts = self.shape[1]
        out = np.empty((rows.size, npts), dtype=np.float32)
        with self.path.open("rb") as fh:
            for run in runs:
                fh.seek(self.offset + int(rows[run[0]]) * npts * 4)
                buf = fh.read(run.size * npts * 4)
                out[run] = np.frombuffer(buf, dtype="<f4").reshape(run.size, npts)
        return out


@dataclass(frozen=True)
class WdfRows:
    """A WDF file's spectra, not read yet (:func:`open_wdf_rows`).

    Attributes
    ----------
    X : FileRows of shape (n, n_points), float32
        The collected spectra, read from disk only where indexed.
    axis : ndarray of shape (n_points,)
        Raman shift (cm-1), as :func:`read_wdf` gives it.
    meta : dict of str to ndarray
        As :func:`read_wdf` gives it (``x``/``y`` positions of a map, ...).
    source : str
        The file.
    """

    X: FileRows
    axis: NDArray[np.float64]
    meta: dict[str, NDArray[Any]]
    source: str


def open_wdf_rows(path: str | os.PathLike[str]) -> WdfRows | None:
    """The spectra of a ``.wdf`` file, read only when indexed (:class:`FileRows`), with its
    axis and metadata, so that a map larger than memory can be copied tile by tile
    (``ramancam convert MAP.wdf OUT.zarr``); ``None`` for a gzipped file (read it with
    :func:`read_wdf`). Raises as :func:`read_wdf` does for a damaged file; the values are not
    checked here (the reader of the rows checks what it reads)."""
    p = check_exists(path)
    source = str(p)
    with p.open("rb") as fh:
        head = fh.read(_HEADER_SIZE)
        if head[:2] == b"\x1f\x8b":
            return None
        _check_header(head, source)
        fh.seek(0)
        lay = _layout(fh, p.stat().st_size, p)
    X = FileRows(p, lay.start, lay.n, lay.npts)
    try:
        axis = check_axis(lay.axis)
    except RamancamError as exc:
        raise RamancamError(f"file {source}: {exc}") from None
    return WdfRows(X, axis, lay.meta, source)


@dataclass(frozen=True)
class _Layout:
    n: int
    npts: int
    start: int
    axis: NDArray[np.float64]
    meta: dict[str, NDArray[Any]]


def _block_walk(fh: Any, size: int) -> tuple[set[int], tuple[int, int, int] | None]:
    """The ids of the blocks a walk from the start of the file reaches (as renishaw-wdf's
    ``find_section`` walks: each block's header gives its size, the next block follows), and
    the first block whose size is shorter than its own 16-byte header as ``(offset, id,
    size)``, or None. The library's walk never passes such a block: a size of 0 keeps it on
    the same block for ever, so a block beyond it must not be looked for."""
    seen: set[int] = set()
    pos = 0
    while pos + _BLOCK_HEADER <= size:
        fh.seek(pos)
        bid, _uid, bsize = struct.unpack("<IIQ", fh.read(_BLOCK_HEADER))
        seen.add(bid)  # found, whatever its size: the library looks at the id first
        if bsize < _BLOCK_HEADER:
            return seen, (pos, bid, bsize)
        pos += bsize
    return seen, None


def _reachable(walk: tuple[set[int], tuple[int, int, int] | None], bid: int,
               source: str) -> None:
    """Refuse a file whose block ``bid`` lies beyond a block of impossible size (the library
    would look for it for ever)."""
    seen, bad = walk
    if bad is None or bid in seen:
        return
    pos, block_id, bsize = bad
    name = struct.pack("<I", block_id).decode("latin-1")
    named = f" ({name})" if name.isalnum() and name.isascii() else ""
    raise RamancamError(
        f"file {source} must have blocks of at least their {_BLOCK_HEADER}-byte header; the "
        f"block at byte {pos}{named} gives a size of {bsize} bytes: the file is damaged. "
        "Re-export it from WiRE.")


def _layout(fh: Any, size: int, p: Path) -> _Layout:
    """Header, axis and metadata of a WDF file open as ``fh`` (``size`` bytes), and where its
    spectra start; every check of :func:`read_wdf` but the values'."""
    from wdf import Wdf, WdfBlock, WdfBlockId, WdfDataType, WdfDataUnit

    source = str(p)
    walk = _block_walk(fh, size)
    for bid in (WdfBlockId.DATA, WdfBlockId.XLIST):
        _reachable(walk, bid, source)
    fh.seek(0)
    with library_boundary(p, "wdf"):
        w = Wdf()
        w.open_fd(fh)
        hdr: Any = w.hdr
        n, npts = int(hdr.ncollected), int(hdr.npoints)
        if n < 1 or npts < 2 or n > hdr.nspectra:
            raise RamancamError(
                f"file {source} must hold at least one collected spectrum of 2 or more "
                f"points; its header says {n} collected of {hdr.nspectra}, {npts} points. "
                "The measurement is empty or the file damaged.")
        try:
            block, pos = w.find_section(WdfBlockId.DATA)
        except EOFError:
            raise RamancamError(
                f"file {source} must hold a DATA block (the spectra); got none: the file is "
                "truncated or damaged. Re-export it.") from None
        start = pos + WdfBlock._SIZE
        need = n * npts * 4
        if start + need > size or block.size < need:
            raise RamancamError(
                f"file {source} must hold the {spectra_count(n)} of {npts} points its header "
                f"announces; the data block holds {max(0, size - start)} of {need} "
                "bytes (truncated). Re-export it.")
        try:
            xblock, xpos = w.find_section(WdfBlockId.XLIST)
        except EOFError:
            raise RamancamError(
                f"file {source} must hold an XLIST block (the Raman shifts) after its spectra; "
                "got none: the file is truncated or damaged. Re-export it.") from None
        # the library reads the header's xlistcount values whatever the block holds: a
        # shorter block gave the next block's bytes as Raman shifts (zeros, repeated)
        in_block = (min(xblock.size, size - xpos) - WdfBlock._SIZE - 8) // 4
        n_x = min(int(hdr.xlistcount), max(0, in_block))
        if n_x != npts:
            raise RamancamError(
                f"file {source} must hold one Raman shift per point in its XLIST block "
                f"({npts} points, the header's npoints); got {n_x} x values: the file is "
                "truncated or damaged. Re-export it.")
        xl = w.xlist()
        axis = np.asarray(xl, dtype=np.float64)
        laser = float(1e7 / hdr.laser_wavenumber) if hdr.laser_wavenumber > 0 else np.nan
        if xl.units == WdfDataUnit.Nanometre and np.isfinite(laser):
            axis = nm_to_shift(axis, laser)
        elif xl.units != WdfDataUnit.RamanShift:
            raise RamancamError(
                f"file {source} must have a Raman-shift x axis; got {xl.units.name}. Convert "
                "it to Raman shift in WiRE and export again.")
        meta: dict[str, Any] = {}
        _reachable(walk, WdfBlockId.ORIGIN, source)
        try:
            origins = dict(w.origins)
        except EOFError:
            if int(hdr.type_) == _MAPPING:  # WiRE writes the pixel positions into ORGN
                raise RamancamError(
                    f"file {source} must hold an ORGN block (the pixel positions) after the "
                    "spectra of its map; got none: the file is truncated or damaged. "
                    "Re-export it.") from None
            origins = {}
        times = None
        for dtype, origin in origins.items():
            name = _POSITIONS.get(dtype.name)
            if name is not None:
                meta[name] = np.asarray(origin[0:n], dtype=np.float64)
            elif dtype == WdfDataType.Time and origin.dataunit == WdfDataUnit.FileTime:
                times = [time_text(t) for t in origin[0:n]]
        start_time = time_text(hdr.time_start) if hdr.time_start_ else ""
        meta["acquired"] = np.array(times if times is not None else [start_time] * n)
        meta["title"] = np.full(n, hdr.title)
        meta["laser_wavelength_nm"] = np.full(n, laser)
        meta["scan_type"] = np.full(n, _enum_name(lambda: hdr.scantype, hdr.scantype_))
        meta["measurement"] = np.full(n, _enum_name(lambda: hdr.type, hdr.type_))
        meta["spectrum"] = np.arange(n)
    return _Layout(n, npts, start, axis, meta)
