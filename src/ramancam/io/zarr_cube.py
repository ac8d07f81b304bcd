"""Chunked Zarr cubes: Raman maps too large for memory, read and written chunk by chunk.

A cube is a Zarr group (a folder, conventionally ``*.zarr``) holding

* ``spectra`` -- float32, shape (ny, nx, n_points), chunked (cy, cx, n_points): one chunk is a
  tile of whole spectra, so a tile is read with one chunk read per array;
* ``wavenumbers`` -- float64, shape (n_points,): the Raman shift (or channel) axis;
* ``x`` (nx,) and ``y`` (ny,) -- optional pixel coordinates (file units, e.g. micrometres);
  pixel indices 0, 1, 2, ... when absent;
* ``truth`` -- optional int16, shape (ny, nx): the true class index of each pixel (-1 =
  unknown), with the class names in the group attribute ``class_names``.

The group attribute ``ramancam`` marks the format (``{"format": "ramancam-cube",
"version": 1}``). :func:`create_cube` makes an empty cube to fill tile by tile,
:func:`write_cube` writes an in-memory :class:`~ramancam.Spectra` laid out on a grid,
:func:`open_cube` opens one lazily (:class:`Cube`), :func:`read_cube` reads a small one into a
``Spectra`` with metadata ``x`` and ``y``.

Zarr (MIT) is an optional dependency: ``pip install 'ramancam[maps]'``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import RamancamError, first_of
from ..spectra import Spectra, check_axis, composed_names
from ._atomic import sweep_leftovers, temp_prefix

__all__ = ["CUBE_FORMAT", "DEFAULT_CHUNKS", "Cube", "atomic_store", "check_store_target",
           "create_cube", "grid_places", "is_cube", "need_zarr", "no_room", "open_cube",
           "read_cube", "remove_store", "write_cube", "write_cube_rows"]

CUBE_FORMAT = "ramancam-cube"
CUBE_VERSION = 1
def fits_float32(X: Any, source: str | None, rows: Any) -> None:
    """Refuse a finite intensity beyond float32's range (about 3.4e38), the cube's number
    type: cast, it became inf and was then refused as "non-finite" though the file's value is
    finite. ``rows``: the spectrum index of each row of ``X``."""
    X = np.asarray(X)
    if X.dtype.kind != "f" or X.dtype.itemsize <= 4 or not X.size:
        return
    big = np.abs(np.where(np.isfinite(X), X, 0.0)) > np.finfo(np.float32).max
    if big.any():
        r, c = (int(v[0]) for v in np.nonzero(big))
        raise RamancamError(
            f"{'file ' + source + ': ' if source else ''}intensities must fit a Zarr cube's "
            f"float32 numbers (up to 3.4e+38); got {X[r, c]:.3g} in spectrum "
            f"{int(np.asarray(rows)[r])}. Divide the intensities by their maximum (no "
            "detector counts this high: check the file), then convert.")


#: Default tile (cy, cx): 64 x 64 = 4,096 spectra, 16 MB of float32 at 1,024 points.
DEFAULT_CHUNKS = (64, 64)
#: read_cube refuses larger cubes (they would not fit in memory as one Spectra).
READ_LIMIT = 2_000_000

MAPS_EXTRA = "pip install 'ramancam[maps]'"

_T = TypeVar("_T")


def need_zarr() -> Any:
    """Import zarr, or raise a RamancamError saying which extra installs it."""
    try:
        import zarr
    except ImportError:
        raise RamancamError(
            "zarr must be installed to read and write Zarr cubes; got ImportError. Install "
            f"the maps extra: {MAPS_EXTRA}") from None
    return zarr


def _check_pair(value: Any, name: str, parts: str) -> tuple[int, int]:
    """Two positive integers, e.g. ``shape`` as (ny, nx) or ``chunks`` as (cy, cx)."""
    msg = f"{name} must be {parts}, two positive integers; got {value!r}."
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise RamancamError(msg) from None
    if a < 1 or b < 1:
        raise RamancamError(msg)
    return a, b


def is_cube(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` looks like a Zarr cube: a folder named ``*.zarr`` or holding Zarr
    metadata (``zarr.json`` or ``.zgroup``)."""
    p = Path(path)
    if p.suffix.lower() == ".zarr":
        return True
    return p.is_dir() and ((p / "zarr.json").is_file() or (p / ".zgroup").is_file())


def _is_our_cube(p: Path) -> bool:
    """Whether the folder ``p`` is a cube ramancam wrote: Zarr group metadata (v3
    ``zarr.json``, v2 ``.zattrs``) whose ``ramancam`` attribute names :data:`CUBE_FORMAT`."""
    import json

    for meta, inner in (("zarr.json", "attributes"), (".zattrs", None)):
        try:
            d = json.loads((p / meta).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        attrs = d.get(inner, {}) if inner and isinstance(d, dict) else d
        mark = attrs.get("ramancam") if isinstance(attrs, dict) else None
        if isinstance(mark, dict) and mark.get("format") == CUBE_FORMAT:
            return True
    return False


def check_store_target(path: str | os.PathLike[str], name: str = "output") -> None:
    """Refuse to replace what is not an earlier cube: :func:`atomic_store` removes an
    existing ``path``, so it must be absent, an empty folder, or a cube ramancam wrote
    (``name``: how the message names the path, e.g. ``OUT``)."""
    out = Path(path)
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise RamancamError(f"{name} must be a folder (a Zarr store); got the "
                            f"{'link' if out.is_symlink() else 'file'} {str(out)!r}. Remove "
                            "it or choose another name.")
    if _is_our_cube(out):
        return
    try:
        entries = sorted(e.name for e in out.iterdir())
    except OSError as exc:
        raise RamancamError(f"{name} must be a folder that can be read; got {str(out)!r} "
                            f"({exc.strerror or exc}). Choose another name.") from None
    if entries:
        shown = first_of(entries, 3)
        raise RamancamError(
            f"{name} must be a new name or an earlier ramancam cube, which is replaced; got "
            f"the folder {str(out)!r}, which is no cube and holds {shown}. Choose another "
            "name, or move those files away first.")


def _zarr_writes_finish(timeout: float) -> None:
    """Wait, at most ``timeout`` seconds, for the work zarr's I/O thread still runs: a write
    (``cube.spectra[ys, xs] = tile``) stopped in this thread by Ctrl-C or SIGTERM goes on
    there, chunk by chunk. Uses zarr's event loop (``zarr.core.sync.loop``, zarr 3): with
    another zarr, nothing is waited for (:func:`remove_store` removes again instead)."""
    import asyncio

    try:
        from zarr.core import sync as zarr_sync

        loop = zarr_sync.loop[0]
    except Exception:  # no such loop (another zarr): removed again until it stays gone
        return
    if not isinstance(loop, asyncio.AbstractEventLoop) or not loop.is_running():
        return

    async def rest() -> None:
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=timeout)

    try:
        asyncio.run_coroutine_threadsafe(rest(), loop).result(timeout + 1.0)
    except Exception:  # a wait cut short: removed again until it stays gone
        pass


def remove_store(path: str | os.PathLike[str], *, quiet: float = 0.25,
                 limit: float = 3.0) -> None:
    """Remove the Zarr folder ``path`` of a write that failed, so that it stays removed.

    The write interrupted in this thread may go on in zarr's I/O thread and make chunk
    folders again after a first removal (a hidden ``.NAME.zarr.<host>-<pid>.<hex>.tmp``
    was left): its pending work is waited for, then ``path`` is removed, and removed again
    while anything reappears, until it has stayed gone for ``quiet`` seconds (at most
    ``limit`` seconds in all).
    """
    import time

    start = time.monotonic()
    _zarr_writes_finish(limit / 2)
    shutil.rmtree(path, ignore_errors=True)
    gone_since = time.monotonic()
    while time.monotonic() - gone_since < quiet and time.monotonic() - start < limit:
        time.sleep(0.01)
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)
            gone_since = time.monotonic()


#: The write errors that mean a store's disk has no room for it: in words, and the way out.
_NO_ROOM = {errno.ENOSPC: ("the disk is full", "Free space"),
            errno.EFBIG: ("a file reached the file size limit",
                          "Raise the file size limit (ulimit -f)")}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _NO_ROOM[errno.EDQUOT] = ("the disk quota is used up", "Free space")


def no_room(exc: BaseException) -> tuple[str, str] | None:
    """``exc`` in words when it is a write error that means the disk has no room for a
    store (full, the quota used up, the file size limit), and what to do: ``("the disk is
    full (No space left on device)", "Free space")``; else None. Zarr's chunk writes raise
    them without a file name, so the command said only ``[Errno 28] No space left on
    device``."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        words, fix = _NO_ROOM[exc.errno]
        return f"{words} ({exc.strerror or exc})", fix
    return None


@contextmanager
def atomic_store(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder beside ``path`` that replaces ``path`` when the block succeeds.

    The store is written into ``.<name>.<host>-<pid>.<random>.tmp`` in the same folder (a
    later run removes it if this one is killed); on success an
    existing ``path`` is moved aside and removed, and the new store renamed into place. On an
    exception the temporary folder is removed and ``path`` is left as it was (a disk with no
    room, :func:`no_room`, said in one line naming ``path``). An existing
    ``path`` must be an earlier cube or an empty folder (:func:`check_store_target`),
    checked before the block runs and again before it is replaced: a folder of other files
    is never removed.
    """
    out = Path(path)
    if not out.resolve().parent.is_dir():
        raise RamancamError(f"output must be in an existing folder; got {str(out)!r}. Create "
                            "the folder first.")
    check_store_target(out)
    sweep_leftovers(out.absolute().parent, out.name)  # those of a killed run
    tmp = out.with_name(f"{temp_prefix(out.name)}{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
    except BaseException as exc:
        remove_store(tmp)
        if (full := no_room(exc)) is not None:
            kept = ", the earlier cube there is kept" if out.exists() else ""
            raise RamancamError(
                f"Zarr cube {str(out)!r} could not be written: {full[0]}; nothing of it was "
                f"left behind{kept}. {full[1]}, or write it elsewhere.") from None
        raise
    old = None
    if out.exists() or out.is_symlink():
        try:
            check_store_target(out)  # it may have changed meanwhile
        except RamancamError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = out.with_name(f"{temp_prefix(out.name)}{uuid.uuid4().hex[:8]}.old")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def create_cube(path: str | os.PathLike[str], shape: tuple[int, int],
                wavenumbers: ArrayLike, *, chunks: tuple[int, int] = DEFAULT_CHUNKS,
                x: ArrayLike | None = None, y: ArrayLike | None = None,
                class_names: Sequence[str] | None = None,
                source: Sequence[str] | None = None) -> Cube:
    """Create an empty cube to be filled tile by tile (``cube.spectra[ys, xs, :] = tile``).

    Parameters
    ----------
    path : str or path-like
        The Zarr folder to create (replaced if it exists).
    shape : (ny, nx)
        Pixels along y and x.
    wavenumbers : array-like of shape (n_points,)
        The spectral axis, strictly monotonic.
    chunks : (cy, cx)
        Tile size; every array is chunked by whole tiles (and whole spectra).
    x, y : array-like of shape (nx,) and (ny,), optional
        Pixel coordinates.
    class_names : sequence of str, optional
        With it, a ``truth`` array (ny, nx) of class indices (fill -1) is created too.
    source : sequence of str, optional
        The file(s) the spectra come from, kept in the attribute ``ramancam`` (``source``)
        beside the ramancam version and the date (``ramancam_version``, ``created``).

    Returns
    -------
    Cube
    """
    zarr = need_zarr()
    ny, nx = _check_pair(shape, "shape", "(ny, nx)")
    cy, cx = _check_pair(chunks, "chunks", "(cy, cx)")
    w = check_axis(wavenumbers)
    g = zarr.open_group(str(path), mode="w")
    # a new id each time a cube is written: a result store resumes only into the same cube
    from .. import __version__
    from ..provenance import utc_now

    g.attrs["ramancam"] = {"format": CUBE_FORMAT, "version": CUBE_VERSION,
                           "id": uuid.uuid4().hex, "ramancam_version": __version__,
                           "created": utc_now(),  # and the file(s) it was made of, if known
                           **({} if source is None else {"source": [str(s) for s in source]})}
    g.create_array("spectra", shape=(ny, nx, w.size), chunks=(min(cy, ny), min(cx, nx), w.size),
                   dtype="float32", fill_value=np.nan)
    g.create_array("wavenumbers", data=w)
    for name, values, n in (("x", x, nx), ("y", y, ny)):
        if values is None:
            continue
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (n,) or not np.isfinite(v).all():
            raise RamancamError(f"{name} must hold {n} finite coordinates; got shape {v.shape}.")
        g.create_array(name, data=v)
    if class_names is not None:
        names = [str(c) for c in class_names]
        if not names or len(set(names)) != len(names):
            raise RamancamError(f"class_names must be distinct names; got {names}.")
        g.attrs["class_names"] = names
        g.create_array("truth", shape=(ny, nx), chunks=(min(cy, ny), min(cx, nx)),
                       dtype="int16", fill_value=-1)
    return open_cube(path)


@dataclass
class Cube:
    """An open cube; arrays are read lazily.

    Attributes
    ----------
    path : Path
    group : zarr.Group
    spectra : zarr.Array of shape (ny, nx, n_points)
    wavenumbers : ndarray of shape (n_points,)
    x, y : ndarray of shape (nx,) and (ny,)
        Pixel coordinates (pixel indices when the cube stores none).
    truth : zarr.Array of shape (ny, nx) or None
    class_names : list of str or None
    """

    path: Path
    group: Any
    spectra: Any
    wavenumbers: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    truth: Any
    class_names: list[str] | None

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx)."""
        return int(self.spectra.shape[0]), int(self.spectra.shape[1])

    def __repr__(self) -> str:
        # a summary: the dataclass's own printed every position and Raman shift (pages)
        ny, nx = self.shape
        w = self.wavenumbers
        # no unit, as Spectra's: the axis may be channel numbers
        axis = f", {w.min():g}-{w.max():g}" if w.size else ""
        truth = ("" if self.truth is None else
                 f", truth of {len(self.class_names or [])} classes")
        return (f"Cube({str(self.path)!r}, {ny} x {nx} pixels, {self.n_points} points"
                f"{axis}, tiles {self.chunks[0]} x {self.chunks[1]}{truth})")

    @property
    def identity(self) -> str:
        """What tells this cube from another at the same path: the id written with it (cubes
        written before 2026-12-06, or by other tools, have none: their shape, tiles, axis,
        positions and the spectra of the first tile's first row, so that two maps of one
        shape on one grid, simulated with other seeds, differ)."""
        meta = dict(self.group.attrs.get("ramancam", {}))
        if meta.get("id"):
            return str(meta["id"])
        h = hashlib.sha256(repr((self.shape, self.chunks)).encode())
        for a in (self.wavenumbers, self.x, self.y):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        first = damaged_chunk_guard(  # one tile read
            lambda: self.spectra[0, 0:min(self.chunks[1], self.shape[1]), :],
            f"cube {self.path}", "tile (0, 0) of 'spectra'")
        h.update(np.ascontiguousarray(first, dtype=np.float32).tobytes())
        return "sha256:" + h.hexdigest()[:32]

    @property
    def n_points(self) -> int:
        return int(self.spectra.shape[2])

    @property
    def chunks(self) -> tuple[int, int]:
        """(cy, cx), the tile size."""
        return int(self.spectra.chunks[0]), int(self.spectra.chunks[1])

    @property
    def n_tiles(self) -> tuple[int, int]:
        """Tiles along y and x."""
        (ny, nx), (cy, cx) = self.shape, self.chunks
        return -(-ny // cy), -(-nx // cx)

    def tile(self, ty: int, tx: int) -> tuple[slice, slice]:
        """The (y, x) slices of tile ``(ty, tx)``."""
        (ny, nx), (cy, cx) = self.shape, self.chunks
        return slice(ty * cy, min(ny, (ty + 1) * cy)), slice(tx * cx, min(nx, (tx + 1) * cx))

    def tiles(self) -> Iterator[tuple[int, int]]:
        """Every tile index ``(ty, tx)``, row by row."""
        nty, ntx = self.n_tiles
        for ty in range(nty):
            for tx in range(ntx):
                yield ty, tx

    def check_truth(self) -> None:
        """Refuse ``truth`` values that are no index of the class names (-1: unlabelled),
        once per run (it reads the whole array: one integer per pixel)."""
        if self.truth is None or self.class_names is None:
            return
        hi = int(np.max(self.read_truth(), initial=-1))
        if hi >= len(self.class_names):
            raise RamancamError(
                f"cube {str(self.path)!r} must label its pixels with indices of its "
                f"{len(self.class_names)} class names (-1: none); got {hi} in 'truth'. Write "
                "the cube again (ramancam convert).")

    def read_truth(self, ys: slice = slice(None), xs: slice = slice(None),
                   part: str = "'truth'") -> NDArray[Any]:
        """``truth[ys, xs]`` (the cube has one), a damaged chunk refused in one line naming
        the cube and ``part``."""
        truth = self.truth
        if truth is None:
            raise ValueError(f"cube {self.path} has no 'truth' array")
        return damaged_chunk_guard(lambda: np.asarray(truth[ys, xs]), f"cube {self.path}", part)

    def read_tile(self, ty: int, tx: int) -> Spectra:
        """The spectra of one tile, row-major, with metadata ``x`` and ``y`` (and labels from
        ``truth`` when the cube has it; unknown pixels get ``""``). Every pixel must hold a
        spectrum (:meth:`read_tile_pixels` leaves missing ones out)."""
        spectra, present = self.read_tile_pixels(ty, tx)
        if spectra is None or not present.all():
            ys, xs = self.tile(ty, tx)
            iy, ix = divmod(int(np.flatnonzero(~present)[0]), xs.stop - xs.start)
            raise RamancamError(
                f"cube {self.path} must hold a finite spectrum at every pixel; got missing or "
                f"non-finite values at pixel (y={ys.start + iy}, x={xs.start + ix}). Fill "
                "or remove those pixels before predicting.")
        return spectra

    def read_tile_pixels(self, ty: int, tx: int) -> tuple[Spectra | None, NDArray[np.bool_]]:
        """The measured pixels of one tile, as :meth:`read_tile` gives them, and which pixels
        of the tile (row-major) they are. A pixel whose spectrum is all NaN is missing from
        the map (``ramancam convert MAP OUT.zarr`` writes the grid's empty cells so) and is
        left out; ``None`` when every pixel is.

        Raises
        ------
        RamancamError
            If a spectrum holds some non-finite values (a damaged pixel, not a missing one).
        """
        ys, xs = self.tile(ty, tx)
        block = damaged_chunk_guard(lambda: np.asarray(self.spectra[ys, xs, :]),
                                    f"cube {self.path}", f"tile ({ty}, {tx}) of 'spectra'")
        h, w = block.shape[:2]
        flat = block.reshape(h * w, -1)
        finite = np.isfinite(flat)
        present = finite.all(axis=1)
        partial = ~present & finite.any(axis=1)
        if partial.any():
            iy, ix = divmod(int(np.flatnonzero(partial)[0]), w)
            raise RamancamError(
                f"cube {self.path} must hold a finite spectrum at every measured pixel; got "
                f"some non-finite values at pixel (y={ys.start + iy}, x={xs.start + ix}). "
                "Fill those values, or set the whole spectrum to NaN to mark the pixel "
                "missing.")
        if not present.any():
            return None, present
        yy, xx = np.meshgrid(self.y[ys], self.x[xs], indexing="ij")
        labels = None
        if self.truth is not None and self.class_names is not None:
            t = self.read_truth(ys, xs, f"tile ({ty}, {tx}) of 'truth'").ravel()[present]
            names = np.array([*self.class_names, ""])
            labels = names[np.where(t < 0, len(self.class_names), t)]
        return (Spectra(flat[present], self.wavenumbers, labels,
                        {"x": xx.ravel()[present], "y": yy.ravel()[present]}), present)


#: What zarr raises for a folder that is no Zarr group: no metadata (GroupNotFoundError, a
#: FileNotFoundError and ValueError), an array (ContainsArrayError), metadata that is no
#: JSON (JSONDecodeError, UnicodeDecodeError), an unknown format (ValueError) or JSON of the
#: wrong shape (TypeError, AttributeError, KeyError), or a fill value beyond its data type
#: (OverflowError: 2**63 for an integer array). Not MemoryError, nor RuntimeError
#: ("can't start new thread"), nor a folder that cannot be read (PermissionError): they
#: pass as themselves, not as "no Zarr group".
_NOT_A_GROUP = (ValueError, TypeError, AttributeError, KeyError, FileNotFoundError,
                NotADirectoryError, OverflowError,
                RecursionError)  # a zarr.json nested past json's limit


#: A member's metadata file, Zarr v3 and v2: a folder without one is no array.
_ARRAY_METADATA = ("zarr.json", ".zarray")


def _cube_array(zarr: Any, g: Any, p: Path, name: str) -> Any:
    """The array ``name`` of the cube's group ``g`` (at ``p``); None when there is none (no
    member of that name with metadata, or a group). Metadata that zarr cannot read (damaged
    JSON, an unknown data type, a missing key) is refused naming the cube and the array."""
    meta = next((p / name / f for f in _ARRAY_METADATA if (p / name / f).is_file()), None)
    if meta is None:
        return None
    try:
        a = g[name]
    except _NOT_A_GROUP as exc:
        raise RamancamError(
            f"cube {p} must hold readable metadata for its array {name!r} "
            f"({name}/{meta.name}); got {type(exc).__name__}: {str(exc).rstrip('.')}. Write "
            "it again (ramancam convert, or the run that made it), or restore it from a copy."
        ) from None
    return a if isinstance(a, zarr.Array) else None


def _array_names(g: Any, p: Path) -> list[str]:
    """The names of the group's arrays, for a message (its folders with array metadata when
    zarr cannot list them)."""
    try:
        return sorted(g.array_keys())
    except _NOT_A_GROUP:
        return sorted(d.name for d in p.iterdir()
                      if any((d / f).is_file() for f in _ARRAY_METADATA))


def open_cube(path: str | os.PathLike[str]) -> Cube:
    """Open a cube written by :func:`create_cube` / :func:`write_cube` (or any Zarr group with
    a 3-D ``spectra`` and 1-D ``wavenumbers`` array).

    Raises
    ------
    RamancamError
        If the path is not a Zarr group with those arrays.
    """
    zarr = need_zarr()
    p = Path(path)
    if not p.is_dir():
        raise RamancamError(f"cube must be an existing Zarr folder; got {str(p)!r} (no such "
                            "folder). Check the path.")
    try:
        g = zarr.open_group(str(p), mode="r+" if os.access(p, os.W_OK) else "r")
    except _NOT_A_GROUP as exc:
        raise RamancamError(f"cube must be a Zarr group; got {str(p)!r} ({exc}).") from None
    arrays = {name: a for name in ("spectra", "wavenumbers", "x", "y", "truth")
              if (a := _cube_array(zarr, g, p, name)) is not None}
    if "spectra" not in arrays or "wavenumbers" not in arrays:
        raise RamancamError(
            f"cube must hold the arrays 'spectra' and 'wavenumbers'; got {_array_names(g, p)} "
            f"in {str(p)!r}. Write cubes with ramancam.io.zarr_cube.write_cube.")
    spectra = arrays["spectra"]

    def read(name: str) -> NDArray[np.float64]:
        return damaged_chunk_guard(lambda: np.asarray(arrays[name][...], dtype=np.float64),
                                   f"cube {p}", f"'{name}'")

    w = check_axis(read("wavenumbers"), source=str(p))
    if spectra.ndim != 3 or spectra.shape[2] != w.size:
        raise RamancamError(
            f"cube 'spectra' must have shape (ny, nx, {w.size}); got {spectra.shape} in "
            f"{str(p)!r}.")
    ny, nx = int(spectra.shape[0]), int(spectra.shape[1])
    x = read("x") if "x" in arrays else np.arange(nx, dtype=np.float64)
    y = read("y") if "y" in arrays else np.arange(ny, dtype=np.float64)
    for name, arr, n in (("x", x, nx), ("y", y, ny)):  # a cube of another tool, or edited
        if arr.shape != (n,) or not np.isfinite(arr).all():
            raise RamancamError(
                f"cube {str(p)!r} must hold {n} finite '{name}' positions (one per "
                f"{'column' if name == 'x' else 'row'} of 'spectra', {ny} x {nx}); got shape "
                f"{arr.shape}. Write the cube again (ramancam convert).")
    truth = arrays.get("truth")
    names = g.attrs.get("class_names")
    if truth is not None and tuple(truth.shape) != (ny, nx):
        raise RamancamError(
            f"cube {str(p)!r} must hold 'truth' of the map's shape ({ny}, {nx}); got "
            f"{tuple(truth.shape)}. Write the cube again (ramancam convert).")
    return Cube(p, g, spectra, w, x, y, truth, None if names is None else composed_names(names))


def write_cube(spectra: Spectra, path: str | os.PathLike[str], *,
               chunks: tuple[int, int] = DEFAULT_CHUNKS, grid: Any = None,
               source: str | None = None) -> Cube:
    """Write spectra that lie on an x-y grid as a cube (atomically).

    Parameters
    ----------
    spectra : Spectra
        One common axis; metadata ``x`` and ``y`` (one value per spectrum) give each
        spectrum's pixel. Without ``grid``, every (x, y) of the grid of their distinct values
        must appear exactly once. Labels, when present, are stored as ``truth``.
    path : str or path-like
        The Zarr folder to write.
    chunks : (cy, cx)
    grid : ramancam.maps.MapGrid, optional
        Where each spectrum lies, as :func:`ramancam.maps.grid_of` finds it for a measured
        map (positions snapped to a regular step, within a tolerance; pixels may be
        missing). The cube's ``x`` and ``y`` are then the grid's, and a pixel without a
        spectrum stays empty (NaN): ``predict`` and ``explain`` leave it out, as they leave
        out a dead pixel. A line scan is refused.

    Returns
    -------
    Cube
    """
    if not spectra.has_common_axis:
        raise RamancamError("spectra must share one axis to be written as a cube; got "
                            "per-spectrum axes. Resample them first.")
    if grid is not None:
        xs, ys, flat = grid_places(grid, len(spectra))
    else:
        xs, ys, flat = _exact_places(spectra)
    return write_cube_rows(spectra.X, spectra.wavenumbers, xs, ys, flat, path,
                           chunks=chunks, labels=spectra.labels, source=source)


def write_cube_rows(X: Any, wavenumbers: ArrayLike, x: NDArray[np.float64],
                    y: NDArray[np.float64], pixel: NDArray[np.intp],
                    path: str | os.PathLike[str], *, chunks: tuple[int, int] = DEFAULT_CHUNKS,
                    labels: ArrayLike | None = None, source: str | None = None,
                    progress: Callable[[int], None] | None = None) -> Cube:
    """Write spectra as a cube tile by tile (atomically): row ``i`` of ``X`` is the pixel
    ``pixel[i]`` (flat, row-major) of the ``len(y) x len(x)`` grid; pixels of no row stay
    NaN (missing). ``X`` is indexed one tile's rows at a time, in ascending order, so rows
    read from a file (:class:`ramancam.io.wdf.FileRows`) are never held whole.

    ``progress`` is called with the spectra written so far after every tile.

    Raises
    ------
    RamancamError
        If a spectrum holds a non-finite value (named by its row, and ``source``).
    """
    ny, nx = len(y), len(x)
    done = 0
    flat_rows = np.full(ny * nx, -1, dtype=np.intp)
    flat_rows[np.asarray(pixel, dtype=np.intp)] = np.arange(len(pixel))
    row_of = flat_rows.reshape(ny, nx)
    lab = None if labels is None else np.asarray(labels).astype(str)
    classes = None if lab is None else sorted(set(lab.tolist()) - {""})
    with atomic_store(path) as tmp:
        cube = create_cube(tmp, (ny, nx), wavenumbers, chunks=chunks, x=x, y=y,
                           class_names=classes or None,
                           source=None if source is None else [source])
        lookup = {c: i for i, c in enumerate(classes or [])}
        for ty, tx in cube.tiles():
            ys, xs = cube.tile(ty, tx)
            rows = row_of[ys, xs]
            there = rows >= 0
            block = np.full((*rows.shape, cube.wavenumbers.size), np.nan, dtype=np.float32)
            take = rows[there]
            order = np.argsort(take)  # rows in file order: a file reads forwards
            got = np.empty((take.size, block.shape[2]), dtype=np.float32)
            wide = np.asarray(X[take[order]])
            fits_float32(wide, source, take[order])
            got[order] = wide.astype(np.float32)
            if not np.isfinite(got).all():
                i = int(take[np.flatnonzero(~np.isfinite(got).all(axis=1))[0]])
                raise RamancamError(
                    f"{'file ' + source + ': ' if source else ''}intensities must be finite; "
                    f"got a non-finite value in spectrum {i}. Remove or interpolate missing "
                    "values.")
            block[there] = got
            cube.spectra[ys, xs] = block
            if classes:
                assert lab is not None
                t = np.full(rows.shape, -1, dtype=np.int16)
                t[there] = [lookup.get(v, -1) for v in lab[take].tolist()]
                cube.truth[ys, xs] = t
            done += take.size
            if progress is not None:
                progress(done)
        if (missing := ny * nx - len(pixel)) > 0:  # said by 'ramancam info' without reading
            attrs = cube.group.attrs
            attrs["ramancam"] = {**dict(attrs["ramancam"]), "missing": missing}
    return open_cube(path)


def _exact_places(spectra: Spectra
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """The distinct x and y values, and each spectrum's flat pixel index (row-major): every
    pixel of that grid exactly once."""
    if "x" not in spectra.meta or "y" not in spectra.meta:
        raise RamancamError(
            f"spectra must carry metadata columns 'x' and 'y' to be written as a cube; got "
            f"{sorted(spectra.meta)}. Give each spectrum its pixel position.")
    try:
        xv = np.asarray(spectra.meta["x"], dtype=np.float64)
        yv = np.asarray(spectra.meta["y"], dtype=np.float64)
    except ValueError:
        raise RamancamError("metadata x and y must be numbers; got text. Check the columns."
                            ) from None
    xs, ix = np.unique(xv, return_inverse=True)
    ys, iy = np.unique(yv, return_inverse=True)
    flat = iy * xs.size + ix
    if len(spectra) != xs.size * ys.size or np.unique(flat).size != flat.size:
        distinct = np.unique(flat).size
        jitter = distinct == len(spectra) > 2 and len(spectra) in (xs.size, ys.size)
        fix = ("Drop duplicates or fill missing pixels." if not jitter else
               # every x (or y) its own: a measured map's jitter, or a diagonal line scan
               "Positions that jitter (a measured map): pass grid=ramancam.maps.grid_of("
               "spectra), which snaps them to the map's pixels; a line scan is no cube: "
               "write it as a table (.csv).")
        raise RamancamError(
            f"spectra must fill the {xs.size} x {ys.size} grid of their x and y values once "
            f"each; got {len(spectra)} spectra with {distinct} distinct positions. {fix}")
    return xs, ys, flat.astype(np.intp)


def grid_places(grid: Any, n: int
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """The cube's x and y values and each spectrum's flat pixel index (row-major) on a
    :class:`ramancam.maps.MapGrid` (:func:`write_cube_rows`' arguments); a line scan is
    refused."""
    if grid.kind != "map":
        raise RamancamError(
            f"spectra must form a 2-D map to be written as a cube; got a line scan of "
            f"{grid.nx} pixels. Write it as a table (.csv) instead.")
    if grid.n_spectra != n:
        raise RamancamError(f"grid must place every spectrum ({n}); got a grid of "
                            f"{grid.n_spectra}.")
    xs, ys = grid.coordinates()
    return xs, ys, (np.asarray(grid.iy) * grid.nx + np.asarray(grid.ix)).astype(np.intp)


#: The way out of a damaged chunk of a result store: resuming it reads the chunk again.
STORE_FIX = ("Remove the result store and run the command again, which computes every tile "
             "anew")


def damaged_chunk_guard(read: Callable[[], _T], what: str, part: str,
                        fix: str = "Write it again (ramancam convert, or the run that made "
                                   "it), or restore it from a copy") -> _T:
    """``read()``, with a chunk that cannot be decoded (a file cut short or overwritten:
    zarr's codecs raise RuntimeError, ValueError, ...) refused in one line naming ``what``
    (``cube PATH``), ``part`` (which tile of which array) and ``fix``, instead of a
    traceback."""
    try:
        return read()
    except (RamancamError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise RamancamError(
            f"{what} must be readable; got a damaged chunk in {part} ({type(exc).__name__}: "
            f"{exc}). {fix}.") from None


def read_cube(path: str | os.PathLike[str], *, limit: int = READ_LIMIT) -> Spectra:
    """Read a whole cube into memory: spectra row by row (y outer, x inner).

    Parameters
    ----------
    path : str or path-like
    limit : int
        Refuse cubes with more pixels than this (use :func:`open_cube` and tiles instead).

    Returns
    -------
    Spectra
        float64 intensities; metadata ``x`` and ``y``; labels from ``truth`` (``""`` where
        unknown) when the cube has it. Pixels missing from the map (spectrum all NaN) are
        left out, as a map in memory leaves them out.
    """
    cube = open_cube(path)
    ny, nx = cube.shape
    if ny * nx > limit:
        raise RamancamError(
            f"cube must have at most {limit} pixels to be read into memory; got {ny * nx} "
            f"({nx} x {ny}). Use ramancam.io.zarr_cube.open_cube and read it tile by tile, "
            "or predict with --workers (docs/scale.md).")
    X = damaged_chunk_guard(lambda: np.asarray(cube.spectra[...], dtype=np.float64),
                            f"cube {cube.path}", "'spectra'").reshape(ny * nx, -1)
    yy, xx = np.meshgrid(cube.y, cube.x, indexing="ij")
    labels = None
    if cube.truth is not None and cube.class_names is not None:
        t = cube.read_truth().ravel()
        names = np.array([*cube.class_names, ""])
        labels = names[np.where(t < 0, len(cube.class_names), t)]
    finite = np.isfinite(X)
    present = finite.all(axis=1)  # a pixel all NaN is missing from the map: left out
    if (bad := ~present & finite.any(axis=1)).any() or not present.any():
        i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        raise RamancamError(
            f"cube {cube.path} must hold a finite spectrum at every measured pixel; got "
            + (f"some non-finite values at pixel (y={i // nx}, x={i % nx}). Fill those "
               "values, or set the whole spectrum to NaN to mark the pixel missing."
               if bad.any() else "no spectrum at all (every pixel NaN). Fill the cube."))
    n = int(present.sum())
    return Spectra(X[present], cube.wavenumbers,
                   None if labels is None else labels[present],
                   {"x": xx.ravel()[present], "y": yy.ravel()[present]},
                   sources=np.full(n, str(cube.path)))
