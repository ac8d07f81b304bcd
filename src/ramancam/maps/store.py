"""What a Zarr result store of ``ramancam predict``/``explain`` keeps beside its per-pixel
arrays, and what is read back from it tile by tile (:mod:`ramancam.scale` writes it).

* :func:`count_finished`, :func:`finished_shifts`: the run's summary (pixels flagged,
  refused, prediction-set sizes, band shifts) over the finished tiles (``ramancam info``
  counts the flagged pixels with it too);
* :func:`create_class_sums`, :func:`write_tile_sums`: an explain run's per-tile, per-class
  sums of the preprocessed spectra and of the maps (one chunk per tile, so that Dask
  workers never write the same chunk), from which :func:`explain_outputs` draws the class
  means and the band images of ``ramancam explain CUBE.zarr --out DIR`` without holding
  the map in memory;
* :class:`TileWriter`: one tile's slices of the store's arrays, every chunk stored (also
  one that holds only the array's fill value), so that :func:`tiles_lacking_chunks` can
  tell a finished tile whose chunk file was deleted by listing the store's files;
* :func:`prepare_tile`: one tile of a cube prepared by a model's recipe (the run's tiles,
  and the band images' intensity); :func:`pixel_maps`: the maps of a few pixels (the
  pixels to check); :func:`store_grid`: the pixel grid the images are drawn on;
* :data:`STORE_VERSION`, :func:`check_resumable`, :func:`written_line`: which version of the
  code filled a store's tiles, and the refusal to resume a store of another version;
* :data:`ONCE`, :func:`write_once`, :func:`damaged_once`: the arrays written once, when a
  store is made (the model's axis, the cube's positions), which no tile writes again: checked
  by a resume (written anew) and by ``ramancam info``;
* :func:`result_arrays`, :data:`ARRAYS`, :func:`remake_arrays`, :func:`lost_arrays`: the
  arrays the tiles write (and ``done``), known from the model and the run, recorded in the
  store; one missing (its folder deleted) or whose metadata cannot be read is made again by
  a resume, which computes every tile again, and named by ``ramancam info``;
* :func:`remove_partial`: the temporary files zarr leaves in a store's folders when a run is
  killed while it writes a chunk, removed by a resume.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .grid import MapGrid

__all__ = ["ARRAYS", "EVERY_CHUNK", "MAX_SUMMARY_SHIFTS", "ONCE", "STORE_VERSION",
           "TileWriter", "check_resumable", "count_finished", "create_class_sums",
           "damaged_once", "explain_outputs", "finished_shifts", "finished_tiles",
           "lost_arrays", "partial_files", "pixel_maps", "prepare_tile", "readable_arrays",
           "remake_arrays", "remove_partial", "result_arrays", "store_grid", "store_version",
           "tile_arrays", "tiles_lacking_chunks", "tiles_with_damaged_chunks", "write_once",
           "write_tile_sums", "written_line"]

#: :class:`ramancam.scale.RunSummary`: at most this many band shifts are kept for the
#: ``axis:`` line.
MAX_SUMMARY_SHIFTS = 1_000_000

#: The version of what a result store's tiles hold (attribute ``ramancam``: ``"version"``,
#: and ``"store_version"`` among the run's settings, which every older ramancam compares
#: before it resumes, so that it refuses a newer store). Raised whenever a tile's numbers
#: change meaning: a run never resumes into a store whose finished tiles another version
#: computed. 1: every store before ramancam 0.2.0 (its tiles differ by the code that made
#: them: explain stores begun before 2026-12-06 hold maps 1.5 points lower and uncalibrated
#: probabilities, the first ones of 2026-11-28 no novelty arrays); 2: ramancam 0.2.0.
STORE_VERSION = 2


def store_version(meta: Any) -> int | None:
    """The version of the store whose attribute ``ramancam`` is ``meta`` (1 where none is
    recorded; ``None`` for a value no ramancam writes)."""
    v = dict(meta or {}).get("version", 1)
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else None


def _made_by(meta: Any) -> str:
    """Which ramancam made a store: its recorded version, or the versions it predates."""
    by = dict(meta or {}).get("ramancam_version")
    v = store_version(meta)
    if isinstance(by, str) and by:
        commit = dict(meta or {}).get("ramancam_commit")  # a git checkout's (since 2026-12-08)
        return f"ramancam {by}" + (f" at commit {commit[:12]}" if isinstance(commit, str)
                                   else "")
    return "a ramancam before 0.2.0" if v is not None and v < 2 else "an unknown ramancam"


def check_resumable(out: Any, meta: Any) -> None:
    """Refuse to resume a run into the store at ``out`` (attribute ``ramancam`` ``meta``)
    when another version of ramancam made it: its finished tiles and the tiles this run
    would add would hold different numbers in one store marked complete.

    Raises
    ------
    RamancamError
    """
    from .. import __version__
    from ..errors import RamancamError

    v = store_version(meta)
    if v == STORE_VERSION:
        return
    got = (f"{str(out)!r}, store version {v} made by {_made_by(meta)}" if v is not None else
           f"{str(out)!r}, whose store version {dict(meta).get('version')!r} no ramancam "
           "writes")
    if v is not None and v > STORE_VERSION:
        raise RamancamError(
            f"--out must hold a result store of version {STORE_VERSION} (ramancam "
            f"{__version__}) to resume; got {got}, newer. Upgrade ramancam to resume it, or "
            "give another --out.")
    raise RamancamError(
        f"--out must hold a result store of version {STORE_VERSION} (ramancam {__version__}) "
        f"to resume; got {got}: its finished tiles hold numbers this version computes "
        "otherwise, and a resume would mix the two. Remove it or give another --out.")


def written_line(meta: Any) -> tuple[str, bool]:
    """``info``'s line on who made a store, and whether this ramancam resumes it."""
    from .. import __version__

    v = store_version(meta)
    line = f"by {_made_by(meta)} (store version {v if v is not None else '?'})"
    if v == STORE_VERSION:
        return line, True
    return (f"{line}; this ramancam ({__version__}, store version {STORE_VERSION}) does not "
            "resume it: run into another --out"), False


def store_grid(store: Any) -> MapGrid:
    """The full pixel grid of a cube or result store from its ``x`` and ``y`` arrays, each
    axis with its own step (a measured map's pixels need not be square), signed as the
    coordinates run."""
    x = np.asarray(store["x"][...], dtype=np.float64)
    y = np.asarray(store["y"][...], dtype=np.float64)
    iy, ix = np.divmod(np.arange(x.size * y.size), x.size)
    return MapGrid(int(x.size), int(y.size), float(x[0]), float(y[0]),
                   float(x[1] - x[0]) if x.size > 1 else float("nan"),
                   float(y[1] - y[0]) if y.size > 1 else float("nan"),
                   ix.astype(np.intp), iy.astype(np.intp))


def missing_cells(cube: str | os.PathLike[str] | None, candidates: NDArray[np.bool_]
                  ) -> NDArray[np.bool_] | None:
    """Which of the ``candidates`` (a ``(ny, nx)`` mask: the pixels a run did not predict)
    hold no spectrum in ``cube`` (all NaN: never measured, as ``convert`` leaves a map's
    empty cells), reading only the tiles that hold a candidate; ``None`` when the cube
    cannot be read (moved) or none is named. The
    images and report of a cube run drew such cells as "not predicted" and its grid as "0
    missing", where the same map read into memory has "3 missing", grey."""
    from ..io.zarr_cube import open_cube

    if cube is None:
        return None
    if not candidates.any():
        return np.zeros(candidates.shape, dtype=bool)
    try:
        spectra = open_cube(cube).spectra
        cy, cx = (int(v) for v in spectra.chunks[:2])
        out = np.zeros(candidates.shape, dtype=bool)
        for ty, tx in {(int(y) // cy, int(x) // cx) for y, x in np.argwhere(candidates)}:
            ys, xs = slice(ty * cy, (ty + 1) * cy), slice(tx * cx, (tx + 1) * cx)
            tile = np.asarray(spectra[ys, xs, :])
            out[ys, xs] = candidates[ys, xs] & np.isnan(tile).all(axis=-1)
        return out
    except Exception:  # a cube moved or changed: drawn as before
        return None


def finished_tiles(store: Any, done: NDArray[Any]) -> list[tuple[slice, slice]]:
    """The (row, column) slices of the finished tiles (``done`` 1): the store's chunks of
    ``predicted`` are the cube's tiles."""
    ny, nx = (int(v) for v in store["predicted"].shape)
    cy, cx = (int(v) for v in store["predicted"].chunks)
    return [(slice(int(ty) * cy, min((int(ty) + 1) * cy, ny)),
             slice(int(tx) * cx, min((int(tx) + 1) * cx, nx)))
            for ty, tx in np.argwhere(np.asarray(done) == 1)]


#: The key of the store's attribute ``ramancam`` that is true when every finished tile has a
#: chunk of every array it writes (stores made since 2026-12-07, by :class:`TileWriter`).
EVERY_CHUNK = "every_chunk"

#: The arrays a tile of a store made before 2026-12-07 has a chunk of whenever one of its
#: pixels was predicted (zarr skips a chunk that holds only the fill value: before, an
#: ``unknown`` chunk with no pixel flagged or a ``band_shift`` chunk with no shift read was
#: never written).
_WRITTEN_BEFORE = frozenset({"predicted", "proba", "confidence", "novelty", "library_match",
                             "novelty_p", "maps", "class_sums", "class_counts"})


def readable_arrays(store: Any) -> dict[str, Any]:
    """The arrays of a store whose metadata can be read, by name, opened. zarr's own listing
    stops at the first ``zarr.json`` it cannot decode (a file cut short): in a local store
    each folder is tried alone, and one that fails is left out (:func:`lost_arrays` names
    it)."""
    root = getattr(store.store, "root", None)
    if root is None:
        return {name: store[name] for name in sorted(store.array_keys())}
    arrays = {}
    for folder in sorted(Path(root, *filter(None, store.path.split("/"))).iterdir()):
        if not (folder / "zarr.json").is_file():
            continue
        try:
            a = store[folder.name]
        except MemoryError:
            raise
        except Exception:  # zarr raises several types for metadata it cannot decode
            continue
        if hasattr(a, "shape"):  # an array, not a group
            arrays[folder.name] = a
    return arrays


def _tile_arrays(store: Any) -> dict[str, Any]:
    """:func:`tile_arrays`, each opened."""
    tiles = tuple(int(n) for n in store["done"].shape)
    arrays = {}
    for name, a in readable_arrays(store).items():
        if name == "done" or len(a.shape) < 2:
            continue
        split = tuple(-(-int(n) // int(c))
                      for n, c in zip(a.shape[:2], a.chunks[:2], strict=True))
        if split == tiles:
            arrays[name] = a
    return arrays


def tile_arrays(store: Any) -> list[str]:
    """The arrays of a result store that each tile writes: those whose chunks split its first
    two axes as the tiles (``done`` left out): the per-pixel arrays and an explain run's
    per-tile sums."""
    return list(_tile_arrays(store))


def _chunk_files(folder: Path) -> set[str]:
    """The files under an array's folder, as chunk keys (``c/0/1``)."""
    found: set[str] = set()
    for root, _, files in os.walk(folder):
        rel = Path(root).relative_to(folder).as_posix()
        found.update(f if rel == "." else f"{rel}/{f}" for f in files)
    return found


#: The name zarr (3.1.3 and later, ``zarr.storage._local._atomic_write``) writes a file of a
#: local store under before renaming it into place: ``path.with_suffix(f".{uuid4 hex}.partial")``
#: (``c/0/1`` -> ``c/0/1.<32 hex>.partial``, ``zarr.json`` -> ``zarr.<32 hex>.partial``).
_ZARR_PARTIAL = re.compile(r".+\.[0-9a-f]{32}\.partial")


def partial_files(folder: str | os.PathLike[str]) -> list[str]:
    """The temporary files zarr left in the store ``folder`` (:data:`_ZARR_PARTIAL`: a run
    killed while it wrote a chunk), as paths; what ``info`` counts and a resume removes."""
    return [os.path.join(root, name) for root, _, files in os.walk(folder)
            for name in files if _ZARR_PARTIAL.fullmatch(name)]


def remove_partial(folder: str | os.PathLike[str]) -> int:
    """Remove the temporary files zarr left in the store ``folder`` (:func:`partial_files`;
    each killed run left more, which no resume removed) and return how many. Only for the
    run that holds the store's lock (:func:`ramancam.maps.lock.claim`), before it writes: no
    other writer is using them."""
    n = 0
    for path in partial_files(folder):
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        n += 1
    return n


def _lacks_chunk(a: Any, files: set[str], lead: tuple[int, ...] = ()) -> bool:
    """Whether the array ``a`` (whose folder holds ``files``) lacks a chunk file among the
    chunks whose first indices are ``lead`` (every chunk for ``()``)."""
    rest = [range(-(-int(n) // int(c)))
            for n, c in zip(a.shape[len(lead):], a.chunks[len(lead):], strict=True)]
    return any(a.metadata.encode_chunk_key((*lead, *r)) not in files
               for r in itertools.product(*rest))


def tiles_lacking_chunks(store: Any, done: NDArray[Any]) -> dict[tuple[int, int], list[str]]:
    """The finished tiles (``done`` 1) that lack a chunk of an array they write, each with
    those arrays: a chunk file deleted (or lost by a copy) since, whose pixels read the
    array's fill value. Found by listing the store's files (nothing is read); ``{}`` for a
    store that is not a local folder.

    In a store made before 2026-12-07 a chunk holding only the fill value was not written
    (zarr's default), so only the arrays that a tile with a predicted pixel always wrote are
    checked, and a tile lacking all of them is taken for a tile of refused pixels only."""
    root = getattr(store.store, "root", None)
    if root is None:
        return {}
    every = bool(dict(store.attrs.get("ramancam") or {}).get(EVERY_CHUNK))
    names = [n for n in tile_arrays(store) if every or n in _WRITTEN_BEFORE]
    finished = [(int(ty), int(tx)) for ty, tx in np.argwhere(np.asarray(done) == 1)]
    lacking: dict[tuple[int, int], list[str]] = {}
    for name in names:
        a = store[name]
        files = _chunk_files(Path(root, *a.path.split("/")))
        for ty, tx in finished:
            if _lacks_chunk(a, files, (ty, tx)):
                lacking.setdefault((ty, tx), []).append(name)
    if not every:
        lacking = {t: n for t, n in lacking.items() if len(n) < len(names)}
    return lacking


def _tile_slices(a: Any, ty: int, tx: int) -> tuple[slice, slice]:
    """The part of the array ``a`` (split by its first two axes as the tiles) of tile
    ``(ty, tx)``."""
    (n0, n1), (c0, c1) = (int(n) for n in a.shape[:2]), (int(c) for c in a.chunks[:2])
    return (slice(ty * c0, min((ty + 1) * c0, n0)), slice(tx * c1, min((tx + 1) * c1, n1)))


def tiles_with_damaged_chunks(store: Any, done: NDArray[Any]
                              ) -> dict[tuple[int, int], list[str]]:
    """The finished tiles (``done`` 1) with a chunk of an array they write that cannot be
    decoded (a file cut short or overwritten since: a copy that stopped, a machine that died
    before its disk held what the run wrote), each with those arrays. Every finished tile's
    part of every such array is read (decoded) once: a resume of a 200 x 200 map spent 0.2 s
    on it for ``predict``, 1.7 s (6 %) for ``explain --target all`` (docs/scale.md). A
    missing chunk reads the fill value here: :func:`tiles_lacking_chunks` finds those."""
    finished = [(int(ty), int(tx)) for ty, tx in np.argwhere(np.asarray(done) == 1)]
    damaged: dict[tuple[int, int], list[str]] = {}
    for name, a in _tile_arrays(store).items():
        for ty, tx in finished:
            try:
                a[_tile_slices(a, ty, tx)]
            except MemoryError:
                raise
            except Exception:  # zarr's codecs raise several types for a damaged chunk
                damaged.setdefault((ty, tx), []).append(name)
    return damaged


#: The arrays a result store gets once, when it is made: ``grid`` (the model's axis, the
#: maps' axis), ``x`` and ``y`` (the cube's pixel positions). No tile writes them again, so
#: a chunk file of theirs deleted since is not found by :func:`tiles_lacking_chunks`; a
#: resume checks them (:func:`damaged_once`) and writes them anew from the model and the
#: cube (the same values each time), ``info`` names them.
ONCE = ("grid", "x", "y")


def write_once(store: Any, name: str, values: Any) -> None:
    """Write (or write again) the array ``name`` of :data:`ONCE`, every chunk stored (also
    one holding only the fill value, 0: the ``y`` of a map one pixel high at y = 0), so that
    a missing chunk file is always damage."""
    store.create_array(name, data=np.asarray(values), overwrite=True,
                       config={"write_empty_chunks": True})


def damaged_once(store: Any, expected: dict[str, Any] | None = None) -> dict[str, str]:
    """The arrays of :data:`ONCE` that are missing or damaged in the result store ``store``,
    each with what is wrong: ``"missing"`` (its folder or metadata gone), ``"unreadable"``
    (metadata or a chunk that cannot be decoded: a file cut short), ``"of shape (n,), not
    (m,)"`` (``x`` and ``y`` against the map's ``predicted``, ``grid`` against an explain
    store's ``maps``; with ``expected``, against its values), ``"lacks chunk files"``
    (deleted: the fill value, 0, is read there; looked for in a local folder only) and, with
    ``expected`` (what a run writes: the model's axis, the cube's positions), ``"holds other
    values"``."""
    root = getattr(store.store, "root", None)
    shapes: dict[str, tuple[int, ...]] = {}
    if "predicted" in store:
        ny, nx = (int(v) for v in store["predicted"].shape)
        shapes.update(x=(nx,), y=(ny,))
    if "maps" in store:  # an explain store: one map value per point of the axis
        shapes["grid"] = (int(store["maps"].shape[-1]),)
    damaged: dict[str, str] = {}
    for name in ONCE:
        try:
            if name not in store:
                damaged[name] = "missing"
                continue
            a = store[name]
            values = np.asarray(a[...])
        except MemoryError:  # not damage
            raise
        except Exception:  # zarr's codecs raise several types for a damaged chunk
            damaged[name] = "unreadable"
            continue
        want = (shapes.get(name) if expected is None else np.asarray(expected[name]).shape)
        if want is not None and tuple(values.shape) != tuple(want):
            damaged[name] = f"of shape {tuple(values.shape)}, not {tuple(want)}"
        elif root is not None and _lacks_chunk(
                a, _chunk_files(Path(root, *a.path.split("/")))):
            damaged[name] = "lacks chunk files"
        elif expected is not None and not np.array_equal(values, expected[name]):
            damaged[name] = "holds other values"
    return damaged


#: The key of the store's attribute ``ramancam`` that lists every array of the store
#: (:func:`result_arrays` and :data:`ONCE`): written since 2026-12-07 when a store is made,
#: and by a resume of a store that lacks it; what ``info`` checks a store against.
ARRAYS = "arrays"


def _class_sums(n_tiles: tuple[int, int], n_classes: int, n_points: int
                ) -> dict[str, dict[str, Any]]:
    """The arrays of :func:`create_class_sums`, as :func:`result_arrays` gives them."""
    nty, ntx = n_tiles
    return {"class_sums": {"shape": (nty, ntx, n_classes, 3, n_points),
                           "chunks": (1, 1, n_classes, 3, n_points), "dtype": "float64",
                           "fill_value": 0.0},
            "class_counts": {"shape": (nty, ntx, n_classes), "chunks": (1, 1, n_classes),
                             "dtype": "int64", "fill_value": 0}}


def result_arrays(bundle: Any, cube: Any, kind: str, target: str = "predicted"
                  ) -> dict[str, dict[str, Any]]:
    """The arrays that the tiles of a run write into its result store, and ``done`` (last:
    a store without it was stopped while it was being made), each with the keywords of
    ``create_array`` (shape, chunks, dtype, fill value). Known from the model ``bundle``, the
    ``cube`` and the run (``kind``, ``predict`` or ``explain``, and explain's ``target``),
    not from what the store holds: a resume makes again one found missing or damaged
    (:func:`remake_arrays`)."""
    from ..checks import MIN_SHIFT_GRID

    (ny, nx), (cy, cx) = cube.shape, cube.chunks
    k, n_points = len(bundle.classes), int(np.asarray(bundle.grid).size)

    def pixels(dtype: str, fill: Any, *rest: int) -> dict[str, Any]:
        return {"shape": (ny, nx, *rest), "chunks": (cy, cx, *rest), "dtype": dtype,
                "fill_value": fill}

    arrays = {"predicted": pixels("int16", -1), "proba": pixels("float32", np.nan, k),
              "confidence": pixels("float32", np.nan)}
    if bundle.novelty is not None:
        arrays.update(novelty=pixels("float32", np.nan), unknown=pixels("bool", False))
        if bundle.novelty.gives_match:
            arrays["library_match"] = pixels("int16", -1)
        if bundle.held_out is not None:
            arrays["novelty_p"] = pixels("float32", np.nan)
    if bundle.class_scores is not None:
        arrays["prediction_set"] = pixels("bool", False, k)
    if bundle.references is not None and n_points >= MIN_SHIFT_GRID:
        # each pixel's band shift against its class's mean training spectrum (cm-1)
        arrays["band_shift"] = pixels("float32", np.nan)
    if kind == "explain":
        arrays["maps"] = (pixels("float32", np.nan, k, n_points) if target == "all"
                          else pixels("float32", np.nan, n_points))
        if target == "all":  # one class's maps per chunk
            arrays["maps"]["chunks"] = (cy, cx, 1, n_points)
        arrays.update(_class_sums(cube.n_tiles, k, n_points))  # the class means' sums
    else:  # the pixels of each tile that predict's notes on raw spectra name
        from .notes import CHECKS, checks_array

        arrays[CHECKS] = checks_array(cube.n_tiles)
    arrays["done"] = {"shape": tuple(cube.n_tiles), "chunks": (1, 1), "dtype": "uint8",
                      "fill_value": 0}
    return arrays


def _array_damage(store: Any, name: str, spec: dict[str, Any] | None = None) -> str | None:
    """What is wrong with the array ``name`` of ``store``: ``"missing"`` (its folder or its
    ``zarr.json`` gone), ``"zarr.json unreadable"`` (metadata that cannot be decoded: a file
    cut short), ``"unreadable"`` (``done``, read whole by every resume and by ``info``: a
    chunk that cannot be decoded) or, against ``spec`` (:func:`result_arrays`), another
    shape, chunks or type; ``None`` when nothing is."""
    try:
        if name not in store:
            return "missing"
        a = store[name]
    except MemoryError:
        raise
    except Exception:  # zarr raises several types for metadata it cannot decode
        return "zarr.json unreadable"
    if not hasattr(a, "shape"):
        return "not an array"
    if name == "done":  # one small chunk per tile
        try:
            np.asarray(a[...])
        except MemoryError:
            raise
        except Exception:  # zarr's codecs raise several types for a damaged chunk
            return "unreadable"
    if spec is None:
        return None
    for what, got, want in (("of shape", tuple(a.shape), tuple(spec["shape"])),
                            ("in chunks", tuple(a.chunks), tuple(spec["chunks"])),
                            ("of type", np.dtype(a.dtype), np.dtype(spec["dtype"]))):
        if got != want:
            return f"{what} {got}, not {want}"
    return None


def remake_arrays(store: Any, arrays: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Make again, empty, the arrays of :func:`result_arrays` (``arrays``) that ``store``
    lacks or holds damaged (unreadable metadata, another layout), and return them with what
    was wrong. Their chunks are lost: the caller computes every tile again (a missing
    ``done``: no tile is known done)."""
    remade = {}
    for name, spec in arrays.items():
        if (why := _array_damage(store, name, spec)) is not None:
            store.create_array(name, overwrite=True, **spec)
            remade[name] = why
    return remade


def _expected(meta: dict[str, Any]) -> tuple[list[str], bool]:
    """The arrays a result store whose attribute ``ramancam`` is ``meta`` should hold, and
    whether it records them (:data:`ARRAYS`); a store that does not (made before
    2026-12-07) is checked for those every store of its kind has: which of the model's
    optional arrays (``library_match``, ``novelty_p``, ``prediction_set``, ``band_shift``) it
    should hold only the model tells."""
    listed = meta.get(ARRAYS)
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
        return listed, True
    names = ["predicted", "proba", "confidence"]
    if meta.get("novelty"):
        names += ["novelty", "unknown"]
    if dict(meta.get("settings") or {}).get("kind") == "explain":
        names += ["maps", "class_sums", "class_counts"]
    return [*names, *ONCE, "done"], False


def lost_arrays(store: Any) -> tuple[dict[str, str], bool]:
    """The arrays of a result store written tile by tile (and ``done``) that are missing or
    whose ``zarr.json`` cannot be read, each with what is wrong (:data:`ONCE` left out:
    :func:`damaged_once`), and whether the store records its arrays (:func:`_expected`;
    without, an optional array deleted whole is not found). Each such array loses every
    tile's part of it: no tile counts as done."""
    meta = dict(store.attrs.get("ramancam") or {})
    names, recorded = _expected(meta)
    root = getattr(store.store, "root", None)
    if root is not None:  # a folder whose zarr.json cannot be read: damaged, listed or not
        names = [*names, *(p.name for p in sorted(
            Path(root, *filter(None, store.path.split("/"))).iterdir())
            if (p / "zarr.json").is_file())]
    lost = {}
    for name in dict.fromkeys(names):
        if name not in ONCE and (why := _array_damage(store, name)) is not None:
            lost[name] = why
    return lost, recorded


def _every_chunk(a: Any) -> Any:
    """The array ``a``, writing every chunk, also one that holds only the fill value (zarr
    skips those by default: a finished tile's chunk would then be missing for no fault)."""
    if hasattr(a, "with_config"):
        return a.with_config({"write_empty_chunks": True})
    from ..io.zarr_cube import need_zarr  # zarr before 3.1: the setting when it is opened

    zarr = need_zarr()
    with zarr.config.set({"array.write_empty_chunks": True}):
        return zarr.open_array(store=a.store_path)


class TileWriter:
    """Writes one tile's part of a result store's arrays (``writer[name] = values``), every
    chunk stored; :meth:`finish` writes the fill value into the arrays the tile did not
    write, so that a finished tile has a chunk of every array (:func:`tiles_lacking_chunks`).
    """

    def __init__(self, store: Any, ty: int, tx: int) -> None:
        self.store, self.ty, self.tx = store, int(ty), int(tx)
        self.arrays = {k: _every_chunk(a) for k, a in _tile_arrays(store).items()}
        self.written: set[str] = set()

    def __setitem__(self, name: str, values: Any) -> None:
        if name not in self.arrays:  # deleted or damaged since the run checked the store
            from ..errors import RamancamError

            raise RamancamError(
                f"result store {getattr(self.store.store, 'root', None) or 'of this run'} "
                f"must hold its array {name!r}; got none (removed or damaged during the run). "
                "Run the same command again: it makes the array again and computes every "
                "tile.")
        a = self.arrays[name]
        a[_tile_slices(a, self.ty, self.tx)] = values
        self.written.add(name)

    def finish(self) -> None:
        for name, a in self.arrays.items():
            if name not in self.written:
                self[name] = a.fill_value


def finished_shifts(store: Any, done: NDArray[Any]) -> NDArray[np.float64] | None:
    """The readable band shifts of the finished tiles (``None`` without a ``band_shift``
    array), read tile by tile; at most :data:`MAX_SUMMARY_SHIFTS`, evenly spaced within
    each tile, so that a huge map does not fill the memory."""
    if "band_shift" not in store:
        return None
    finished = finished_tiles(store, done)
    per_tile = max(1, MAX_SUMMARY_SHIFTS // max(1, len(finished)))
    parts = []
    for ys, xs in finished:
        s = np.asarray(store["band_shift"][ys, xs], dtype=np.float64).ravel()
        s = s[np.isfinite(s)]
        if s.size > per_tile:
            s = s[np.linspace(0, s.size - 1, per_tile).round().astype(int)]
        parts.append(s)
    return np.concatenate(parts) if parts else np.zeros(0)


def _tile_of(store: Any, name: str, ys: slice, xs: slice) -> Any:
    """A finished tile of a store's array, a damaged chunk (a file cut short) named in one
    line (it was a zarr traceback)."""
    from ..io.zarr_cube import STORE_FIX, damaged_chunk_guard

    where = getattr(store.store, "root", None) or "of this run"
    return damaged_chunk_guard(lambda: store[name][ys, xs], f"result store {where}",
                               f"pixels y {ys.start}-{ys.stop - 1}, x {xs.start}-{xs.stop - 1} "
                               f"of its array {name!r}", STORE_FIX)


def count_finished(store: Any, done: NDArray[Any]
                   ) -> tuple[int | None, int, int | None, int, tuple[int, int] | None,
                              NDArray[np.int64]]:
    """Pixels flagged unknown by the novelty score (``None`` without novelty arrays), pixels
    of the finished tiles, pixels whose library match names the predicted class (``None``
    without a ``library_match`` array), pixels the recipe refused, pixels whose prediction
    set holds one class and more than one (``None`` without a ``prediction_set`` array),
    and per class (columns in the store's class order) the pixels predicted as it and, of
    those, the ones flagged unknown (rows 0 and 1), read tile by tile."""
    n_unknown: int | None = 0 if "unknown" in store else None
    n_agree: int | None = 0 if "library_match" in store else None
    sizes = [0, 0] if "prediction_set" in store else None
    per_class = np.zeros((2, len(store.attrs["ramancam"]["class_names"])), dtype=np.int64)
    n_pixels = n_refused = 0
    for ys, xs in finished_tiles(store, done):
        n_pixels += (ys.stop - ys.start) * (xs.stop - xs.start)
        pred = np.asarray(_tile_of(store, "predicted", ys, xs))
        refused = pred < 0
        n_refused += int(refused.sum())
        per_class[0] += np.bincount(pred[~refused], minlength=per_class.shape[1])
        if n_unknown is not None:
            flagged = np.asarray(_tile_of(store, "unknown", ys, xs)) & ~refused
            n_unknown += int(flagged.sum())
            per_class[1] += np.bincount(pred[flagged], minlength=per_class.shape[1])
        if n_agree is not None:
            n_agree += int((np.asarray(_tile_of(store, "library_match", ys, xs)) == pred)
                           [~refused].sum())
        if sizes is not None:
            size = np.asarray(_tile_of(store, "prediction_set", ys, xs)).sum(axis=-1)[~refused]
            sizes[0] += int((size == 1).sum())
            sizes[1] += int((size > 1).sum())
    return (n_unknown, n_pixels, n_agree, n_refused,
            None if sizes is None else (sizes[0], sizes[1]), per_class)


def count_trained(out: Any) -> tuple[int, int] | None:
    """Pixels whose library novelty score is 0 (the same after preprocessing as a spectrum
    the model was trained on) and pixels predicted, over the finished tiles of the result
    store at ``out``; ``None`` without a library score (its scores compare with the
    training spectra themselves)."""
    from ..io.zarr_cube import need_zarr
    from ..novelty import LIBRARY_SCORES

    store = need_zarr().open_group(str(out), mode="r")
    method = (store.attrs["ramancam"].get("novelty") or {}).get("method")
    if "novelty" not in store or method not in LIBRARY_SCORES:
        return None
    same = predicted = 0
    for ys, xs in finished_tiles(store, np.asarray(store["done"][:])):
        ok = np.asarray(store["predicted"][ys, xs]) >= 0
        same += int((np.asarray(store["novelty"][ys, xs]) == 0)[ok].sum())
        predicted += int(ok.sum())
    return same, predicted


def create_class_sums(store: Any, n_tiles: tuple[int, int], n_classes: int,
                      n_points: int) -> None:
    """The arrays of :func:`write_tile_sums`: ``class_sums`` (tile row, tile column, class,
    [spectrum, map, |map|], grid point) float64 and ``class_counts`` (tile row, tile
    column, class) int64, one chunk per tile."""
    for name, spec in _class_sums(n_tiles, n_classes, n_points).items():
        store.create_array(name, **spec)


def write_tile_sums(writer: TileWriter, X: NDArray[Any], maps: NDArray[Any],
                    predicted: NDArray[np.intp], n_classes: int) -> None:
    """Write one tile's sums of the preprocessed spectra ``X``, of their maps (one per
    spectrum, for its predicted class) and of the maps' absolute values, per predicted
    class, and its pixel count per class. A store without the arrays (written before
    2026-12-06) is left alone."""
    if "class_sums" not in writer.store:
        return
    onehot = np.zeros((len(predicted), n_classes))
    onehot[np.arange(len(predicted)), predicted] = 1.0
    m = np.asarray(maps, dtype=np.float64)
    sums = np.stack([onehot.T @ np.asarray(X, dtype=np.float64), onehot.T @ m,
                     onehot.T @ np.abs(m)], axis=1)
    writer["class_sums"] = sums[None, None]
    writer["class_counts"] = onehot.sum(axis=0).astype(np.int64)[None, None]


def prepare_tile(cube: Any, bundle: Any, ty: int, tx: int, axis_offset: float = 0.0,
                 raw: list[Any] | None = None
                 ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """One tile of a cube prepared by a model's recipe, the Raman axis moved by
    ``axis_offset``: the usable spectra ``(n_usable, n_points)`` and which pixels of the tile
    (row-major) they are. Pixels missing from the map (all NaN) and those the recipe refuses
    (flat or empty: dead pixels) are not usable. ``raw``, a list: the tile's measured
    spectra as read (the offset applied; ``None``: none) are appended to it."""
    ys, xs = cube.tile(ty, tx)
    ok = np.zeros((ys.stop - ys.start) * (xs.stop - xs.start), dtype=bool)
    X = np.empty((0, np.asarray(bundle.grid).size))
    tile, present = cube.read_tile_pixels(ty, tx)
    if tile is not None:
        if axis_offset:
            tile = tile.replace(wavenumbers=tile.wavenumbers + axis_offset)
        X, ok[present], _ = bundle.prepare_usable(tile)
    if raw is not None:
        raw.append(tile)
    return X, ok


def pixel_maps(store: Any, predicted: NDArray[Any]) -> Callable[[NDArray[np.intp]], Any]:
    """A reader of an explain store's maps at a few pixels (flat indices, row-major), one
    pixel at a time: ``(n, n_points)``, for ``--target all`` each pixel's map of its
    ``predicted`` class."""
    nx = int(store["predicted"].shape[1])

    def read(flat: NDArray[np.intp]) -> NDArray[np.float64]:
        rows = []
        for i in np.asarray(flat, dtype=np.intp).tolist():
            iy, ix = divmod(int(i), nx)
            m = np.asarray(store["maps"][iy, ix], dtype=np.float64)
            rows.append(m[max(int(predicted[iy, ix]), 0)] if m.ndim == 2 else m)
        return np.asarray(rows)

    return read


def explain_outputs(out_dir: str | os.PathLike[str], store: Any, grid: MapGrid,
                    class_names: list[str], method: str, *, bands: list[float] | None = None,
                    spectra: tuple[str, Any, float] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    target: str | None = None, flagged: NDArray[np.int64] | None = None
                    ) -> tuple[list[Path], list[Any]]:
    """``class_means.csv``, ``class_means.png`` and ``band_01.png``, ... (the map's value at
    ``bands``, cm-1, across the image; default: the 3 Raman shifts with the largest mean
    |map|) of a finished explain store, and their report sections.

    The class means come from the per-tile sums of the finished tiles (no pixel's map is
    read for them); the band images read the ``maps`` array once, tile by tile (the
    store's chunks are the cube's tiles). The preprocessed spectra are not in the store: with
    ``spectra`` (the cube's path, the run's model bundle and its axis offset) each finished
    tile is read and prepared again for the intensity panel beside the map's, as a map in
    memory draws it; without (the cube is gone), the band images show the map's value
    alone. ``progress`` is called with the tiles read (done, total); ``target`` (the run's
    target) names the class the maps explain in the band images; ``flagged``: the pixels
    flagged unknown per predicted class (:func:`ramancam.maps.outputs.flagged_by_class` of
    the store's ``predicted`` and ``unknown``), said in the class means' titles and caption
    as a map in memory says them (``None``: not said). A store without the sums (an
    explain run before 2026-12-06) gets none: returns ``([], [])``.
    """
    from .images import nearest_index, top_bands
    from .outputs import explain_sections, write_band_images, write_class_means

    if "class_sums" not in store:
        return [], []
    out = Path(out_dir)
    axis = np.asarray(store["grid"][...], dtype=np.float64)
    done = np.asarray(store["done"][...]) == 1
    sums = np.asarray(store["class_sums"][...])[done].sum(axis=0)      # (k, 3, P)
    counts = np.asarray(store["class_counts"][...])[done].sum(axis=0)  # (k,)
    present = [i for i in range(len(class_names)) if counts[i]]
    if not present:
        return [], []
    means_csv, means_png = write_class_means(
        out, axis, class_names, counts, {i: sums[i, 0] / counts[i] for i in present},
        {i: sums[i, 1] / counts[i] for i in present}, method, target=target,
        flagged=None if flagged is None else {i: int(flagged[i]) for i in present})
    if bands is None:
        bands = top_bands(sums[:, 2].sum(axis=0) / counts.sum(), axis)
    js = [nearest_index(axis, b) for b in bands]
    images = np.full((len(js), *store["predicted"].shape), np.nan)
    intensity = None if spectra is None else images.copy()
    cube = None
    if spectra is not None:
        from ..io.zarr_cube import open_cube

        cube = open_cube(spectra[0])
    maps = store["maps"]
    tiles = finished_tiles(store, done)
    for k, (ys, xs) in enumerate(tiles, start=1):
        tile = np.asarray(maps[ys, xs], dtype=np.float64)
        if tile.ndim == 4:  # --target all: each pixel's map of its predicted class
            pred = np.asarray(store["predicted"][ys, xs]).clip(0)
            tile = np.take_along_axis(tile, pred[..., None, None], axis=2)[:, :, 0]
        images[:, ys, xs] = np.moveaxis(tile[..., js], -1, 0)
        if cube is not None and intensity is not None and spectra is not None:
            ty, tx = ys.start // cube.chunks[0], xs.start // cube.chunks[1]
            X, ok = prepare_tile(cube, spectra[1], ty, tx, spectra[2])
            values = np.full((ok.size, len(js)), np.nan)
            values[ok] = X[:, js]
            intensity[:, ys, xs] = np.moveaxis(values.reshape(*tile.shape[:2], -1), -1, 0)
        if progress is not None:
            progress(k, len(tiles))
    # the images are stored row 0 first, as MapGrid.to_image lays them out
    band_paths, band_rows = write_band_images(
        out, grid, axis, bands, list(images), method,
        intensity=None if intensity is None else list(intensity), target=target)
    sections = explain_sections(band_paths, band_rows, means_png, method,
                                intensity=intensity is not None, axis=axis,
                                n_predicted=len(present),
                                # pixels flagged unknown count with their nearest class
                                n_flagged=(int(flagged.sum()) if flagged is not None else
                                           None if "unknown" in store else 0))
    return [*band_paths, means_csv, means_png], sections
