"""Predict and explain Raman maps too large for one process: tile by tile over a Zarr cube.

A map stored as a Zarr cube (:mod:`ramancam.io.zarr_cube`) is processed one tile (one chunk
of ``cy x cx`` pixels) at a time: read the tile, apply the model's saved recipe, predict
(and for ``explain`` compute the per-pixel maps), write the tile's results into an output Zarr
store, then mark the tile done. Memory is bounded by one tile, whatever the map's size.

Tiles run

* in this process, one after the other (``workers=None, scheduler=None``), or
* on Dask: ``workers=N`` starts a ``dask.distributed.LocalCluster`` of ``N`` single-threaded
  worker processes; ``scheduler="tcp://host:8786"`` uses an existing cluster (started with
  ``dask scheduler`` / ``dask worker``, dask-jobqueue or dask-kubernetes; the model, the cube
  and the output store must then lie on a file system every worker sees).

Every tile is one Dask task (``Client.map``) whose results land in the output store as soon
as it finishes. The store records which tiles are complete (array ``done``, one flag per tile,
written after the tile's data); running the same command again resumes: finished tiles are
skipped, a tile interrupted half-way is computed again, and so is a finished tile that lacks
a chunk file of an array it writes (deleted since: every tile stores every chunk, also one
holding only the fill value, so a missing one is found by listing the store's files) or
whose chunk cannot be decoded (a file cut short: every finished tile's chunks read once). The
per-tile computation is the same code in every mode, so the results do not depend on the
number of workers.

Output store (a Zarr group; the attribute ``ramancam`` holds the format, the store version
(:data:`ramancam.maps.store.STORE_VERSION`: a run resumes only a store of its own version)
and the ramancam version that made it, the run's settings, the class names and
``complete``):

* ``predicted`` (ny, nx) int16 -- class index of each pixel (-1 = not computed yet, or, in
  a finished tile, a pixel the model's recipe refuses: a flat or empty spectrum, such as a
  dead pixel; its other arrays hold NaN / -1 and ``unknown`` reads true);
* ``proba`` (ny, nx, n_classes) float32 -- softmax probabilities (``predict``: calibrated by
  the model's temperature, as in ``predictions.csv``);
* ``confidence`` (ny, nx) float32 -- the top probability;
* ``novelty`` (ny, nx) float32 and ``unknown`` (ny, nx) bool -- models with novelty detection
  only (:mod:`ramancam.novelty`): the novelty score (larger = less like the training spectra;
  NaN = not computed yet) and whether it is above the model's threshold (flagged "unknown").
  ``predicted`` stays the nearest class index of flagged pixels too; the attribute holds the
  threshold under ``novelty`` (``None`` where the model has none; earlier versions: ``inf``);
* ``library_match`` (ny, nx) int16 -- models whose novelty score is ``hqi`` and that carry
  their training labels (saved since 2026-12-04): the class index of each pixel's most similar
  training spectrum by the hit quality index (what a library search answers; -1 = not computed
  yet), the ``library_match`` column of ``predictions.csv``;
* ``novelty_p`` (ny, nx) float32 -- models saved since 2026-12-05: the novelty score's
  conformal p-value among the held-out known scores (``predictions.csv``'s ``novelty_p``,
  :func:`ramancam.novelty.p_values`; NaN = not computed yet);
* ``prediction_set`` (ny, nx, n_classes) bool -- models saved since
  2026-12-05: whether each class is in the pixel's conformal prediction set at the model's
  rate (95 % sets by default; ``predictions.csv``'s ``prediction_set``,
  :meth:`ramancam.bundle.Bundle.prediction_sets`); its sum over classes is the set size;
* ``maps`` (explain only) -- (ny, nx, n_points) float32, the map of the predicted (or a named)
  class at every pixel, or (ny, nx, n_classes, n_points) for ``target="all"``;
* ``grid`` (n_points,) -- the model's axis (the maps' axis); ``x`` (nx,), ``y`` (ny,): written
  once, when the store is made (a resume writes one found missing or damaged anew);
* ``done`` (n_tiles_y, n_tiles_x) uint8 -- 1 for every finished tile.

The attribute lists every array under ``arrays``; a resume makes again an array the tiles
write (or ``done``) found missing or with a ``zarr.json`` it cannot read, and computes every
tile again (:func:`ramancam.maps.store.remake_arrays`).

Zarr and Dask are optional dependencies: ``pip install 'ramancam[maps]'``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import RamancamError, named_error
from .maps.agreement import agreement  # public here since it was written here
from .maps.cluster import local_cluster as _local_cluster
from .maps.cluster import need_dask as _need_dask
from .maps.lock import claimed
from .maps.store import STORE_VERSION, count_finished, finished_shifts
from .provenance import git_commit, model_sha256
from .spectra import Spectra

__all__ = ["IMAGE_LIMIT", "OUTPUT_FORMAT", "MapJob", "RunSummary", "agreement", "cached_bundle",
           "prepare_output", "read_results", "run", "run_tile", "write_images"]

OUTPUT_FORMAT = "ramancam-map-results"
OUTPUT_VERSION = STORE_VERSION  # raised when a tile's numbers change meaning (maps.store)
KINDS = ("predict", "explain")


@dataclass(frozen=True)
class MapJob:
    """What to compute for every tile of a cube (picklable: sent to the Dask workers).

    Parameters
    ----------
    kind : {"predict", "explain"}
    model : str
        Path of the model file (``ramancam train --out``).
    cube : str
        Path of the input Zarr cube.
    out : str
        Path of the output Zarr store.
    method, target, score, normalize, fc_form
        ``explain`` only: as in :func:`ramancam.explain.explain`; ``target`` is
        ``"predicted"``, ``"all"``, a class name or ``"class:NAME"`` (one named like a word).
    bf16 : bool
        ``predict`` only: bfloat16 convolutions.
    threads : int
        Torch threads per worker (Dask runs only; the one-process run keeps the caller's
        setting).
    axis_offset : float
        Added to the cube's Raman-shift axis before the model's recipe (``--axis-offset``).
    """

    kind: str
    model: str
    cube: str
    out: str
    method: str = "fc"
    target: str = "predicted"
    score: str = "logit"
    normalize: str = "none"
    fc_form: str = "contribution"
    bf16: bool = False
    threads: int = 1
    axis_offset: float = 0.0

    def settings(self, model_sha256: str) -> dict[str, Any]:
        """What must be equal to resume a run into an existing store."""
        d = asdict(self)
        for k in ("out", "threads", "model"):
            d.pop(k)
        if self.kind == "predict":
            for k in ("method", "target", "score", "normalize", "fc_form"):
                d.pop(k)
        else:
            d.pop("bf16")
        if not self.axis_offset:  # as stores written before the option had them
            d.pop("axis_offset")
        d["cube"] = str(Path(self.cube).resolve())
        d["model_sha256"] = model_sha256
        return d


@dataclass
class RunSummary:
    """What :func:`run` did.

    Attributes
    ----------
    out : Path
    n_tiles : int
        Tiles of the map.
    skipped : int
        Tiles already done before this run (resumed).
    computed : int
        Tiles computed by this run.
    n_spectra : int
        Spectra computed by this run (pixels missing from the map or refused by the recipe
        not counted).
    seconds : float
        Wall time of the computation (not counting cluster start-up).
    peak_rss_mb : dict of str to float
        Peak resident memory of every process that computed tiles (the worker's address, or
        ``"this process"``), in MiB.
    cpu_s : dict of str to float
        CPU seconds (user + system) of the same processes: of the whole worker process
        (start-up and model loading included) on Dask, of the tiles alone in one process.
    n_unknown : int or None
        Pixels of the finished tiles (all of them, resumed ones included) flagged unknown;
        ``None`` for a model without novelty detection.
    n_pixels : int
        Pixels of the finished tiles.
    n_library_agree : int or None
        Pixels of the finished tiles whose ``library_match`` names the network's class;
        ``None`` without a ``library_match`` array.
    n_refused : int
        Pixels of the finished tiles that the model's recipe refused (not predicted).
    set_sizes : tuple of int or None
        Pixels of the finished tiles whose prediction set holds one class, and those whose
        set holds more; ``None`` without a ``prediction_set`` array.
    band_shifts : ndarray or None
        The readable band shifts (cm-1, array ``band_shift``) of the finished tiles, what
        ``predict``'s ``axis:`` line summarises (:func:`ramancam.checks.shift_note`); at most
        :data:`ramancam.maps.store.MAX_SUMMARY_SHIFTS` of them, evenly spaced within each
        tile, for large maps.
        ``None`` without a ``band_shift`` array (a model saved before 2026-12-04).
    class_pixels : ndarray of int of shape (2, n_classes)
        Pixels of the finished tiles predicted as each class (row 0) and, of those, the ones
        flagged unknown (row 1).
    recomputed : dict of (int, int) to list of str
        Tiles the store recorded as done that lacked a chunk of an array (a chunk file
        deleted: its pixels read the fill value), computed again by this run, each with the
        arrays that lacked one (:func:`ramancam.maps.store.tiles_lacking_chunks`).
    rewritten : dict of str to str
        The arrays written once when the store was made (``grid``, ``x``, ``y``) that this
        run found missing or damaged and wrote anew from the model and the cube, each with
        what was wrong (:func:`ramancam.maps.store.damaged_once`).
    remade : dict of str to str
        The arrays the tiles write (and ``done``) that this run found missing (a folder
        deleted) or damaged (an unreadable ``zarr.json``) and made again, each with what was
        wrong; every tile was then computed again (:func:`ramancam.maps.store.remake_arrays`).
    threads_before : tuple of int
        Torch thread counts that computed the store's earlier tiles, when one differs from
        this run's (their float32 probabilities differ in about the 7th digit); else empty.
    threads : int
        Torch threads this run computed with (per worker on Dask).
    damaged : dict of (int, int) to list of str
        Tiles recorded as done with a chunk that could not be decoded (a file cut short),
        computed again, each with those arrays
        (:func:`ramancam.maps.store.tiles_with_damaged_chunks`).
    swept : int
        Temporary files zarr left in the store (a run killed while it wrote a chunk),
        removed by this run (:func:`ramancam.maps.store.remove_partial`).
    """

    out: Path
    n_tiles: int
    skipped: int
    computed: int
    n_spectra: int
    seconds: float
    peak_rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    n_unknown: int | None = None
    n_pixels: int = 0
    n_library_agree: int | None = None
    n_refused: int = 0
    band_shifts: NDArray[np.float64] | None = None
    set_sizes: tuple[int, int] | None = None
    class_pixels: NDArray[np.int64] | None = None
    recomputed: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    rewritten: dict[str, str] = field(default_factory=dict)
    remade: dict[str, str] = field(default_factory=dict)
    #: torch thread counts that computed the store's earlier tiles, when one differs from
    #: this run's (their float32 probabilities differ in about the 7th digit); else empty
    threads_before: tuple[int, ...] = ()
    #: torch threads this run computed with (per worker on Dask)
    threads: int = 1
    #: tiles the store recorded as done with a chunk that could not be decoded (a file cut
    #: short), computed again, each with those arrays (``maps.store.tiles_with_damaged_chunks``)
    damaged: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    #: temporary files zarr left in the store (a run killed while it wrote a chunk), removed
    #: by this run (``maps.store.remove_partial``)
    swept: int = 0

    @property
    def spectra_per_s(self) -> float:
        return self.n_spectra / self.seconds if self.seconds > 0 else float("nan")


@lru_cache(maxsize=4)
def _bundle(path: str, mtime_ns: int) -> Any:
    from .bundle import load

    return load(path)


def cached_bundle(path: str) -> Any:
    """The model, loaded once per process (keyed by path and modification time)."""
    if not os.path.isfile(path):  # the loader's own message (os.stat raised [Errno 2])
        from .bundle import load

        load(path)
    return _bundle(path, os.stat(path).st_mtime_ns)


def _check_same_inputs(job: MapJob, out: Any, cube: Any) -> None:
    """Stop a tile whose model file or cube is not the one the run began with (checked in
    :func:`prepare_output`): replaced during the run (a ``train --out`` finishing, a cube
    written again), each tile took whichever it found, one store of two models' pixels
    recording the first."""
    settings = dict(dict(out.attrs.get("ramancam", {})).get("settings", {}))
    sha = settings.get("model_sha256")
    if sha and model_sha256(job.model) != sha:
        raise RamancamError(
            f"MODEL must stay the file the run began with; got another at {job.model!r} "
            "(replaced during the run). The tiles done are that first model's: put it back "
            "and run the same command to finish them, or give the new model another --out.")
    ident = settings.get("cube_identity")
    if ident and cube.identity != ident:
        raise RamancamError(
            f"the cube must stay the one the run began with; got another at {job.cube!r} "
            "(written again during the run). The tiles done are of the first: put it back "
            "and run the same command to finish them, or give the new cube another --out.")


def _check_job(job: MapJob, classes: list[str]) -> None:
    from .explain import FC_FORMS, METHODS, NORMALIZE, SCORES, check_target, target_class

    if job.kind not in KINDS:
        raise RamancamError(f"kind must be predict or explain; got {job.kind!r}.")
    if job.kind == "explain":
        for name, value, allowed in (("method", job.method, METHODS),
                                     ("score", job.score, SCORES),
                                     ("normalize", job.normalize, NORMALIZE),
                                     ("fc_form", job.fc_form, FC_FORMS)):
            if value not in allowed:  # (in the option's name on the command line)
                raise named_error(lambda n, name=name, value=value, allowed=allowed: (
                    f"{n(name)} must be one of {', '.join(allowed)}; got {value!r}."))
        check_target(job.target, classes)  # 'all': every class, or the class 'all'?
        if job.target not in ("predicted", "all") and target_class(job.target, classes) is None:
            raise named_error(lambda n: (
                f"{n('target')} must be predicted, all or one of the model's classes "
                f"({', '.join(classes)}) for a map; got {job.target!r}."))
    if not isinstance(job.threads, int) or job.threads < 1:
        raise RamancamError(f"threads must be a positive integer; got {job.threads!r}.")


def prepare_output(job: MapJob) -> tuple[Any, list[tuple[int, int]], int,
                                         dict[tuple[int, int], list[str]],
                                         dict[tuple[int, int], list[str]], dict[str, str],
                                         dict[str, str], int]:
    """Create the output store, or open it to resume a run with the same settings.

    Returns
    -------
    store : zarr.Group
    todo : list of (ty, tx)
        Tiles not done yet.
    n_tiles : int
    lacking : dict of (ty, tx) to list of str
        Tiles recorded as done that lack a chunk of an array they write (a chunk file
        deleted), with those arrays: their ``done`` flag is cleared, so they are in ``todo``.
    damaged : dict of (int, int) to list of str
        Tiles recorded as done with a chunk that cannot be decoded (a file cut short), with
        those arrays (:func:`ramancam.maps.store.tiles_with_damaged_chunks`): in ``todo`` too.
    rewritten : dict of str to str
        The arrays written once when the store was made (``grid``, ``x``, ``y``:
        :data:`ramancam.maps.store.ONCE`) that a resume found missing or damaged, with what
        was wrong (:func:`ramancam.maps.store.damaged_once`): written anew from the model and
        the cube.
    remade : dict of str to str
        The arrays the tiles write, and ``done`` (:func:`ramancam.maps.store.result_arrays`:
        known from the model and the job), that a resume found missing (a folder deleted) or
        damaged (its ``zarr.json`` unreadable, another layout), with what was wrong: made
        again, empty, and every tile is in ``todo``.
    swept : int
        The temporary files zarr left in the store (a run killed while it wrote a chunk)
        that a resume removed (:func:`ramancam.maps.store.remove_partial`): only when this
        thread's run holds the store's lock (:func:`ramancam.scale.run` does).

    Raises
    ------
    RamancamError
        If the output exists but is not a store of this run (other model, cube or settings).
    """
    from . import __version__
    from .io.zarr_cube import need_zarr, open_cube
    from .maps.lock import holds, make_store
    from .maps.notes import older_store
    from .maps.store import (
        ARRAYS,
        EVERY_CHUNK,
        ONCE,
        check_resumable,
        damaged_once,
        remake_arrays,
        remove_partial,
        result_arrays,
        tiles_lacking_chunks,
        tiles_with_damaged_chunks,
        write_once,
    )

    zarr = need_zarr()
    bundle = cached_bundle(job.model)
    classes = [str(c) for c in bundle.classes]
    _check_job(job, classes)
    cube = open_cube(job.cube)
    cube.check_truth()  # once here (a tile's agreement indexes the class names by it)
    # the cube's one axis must cover the model's range: said once here, not per pixel
    bundle.check_coverage(Spectra(np.zeros((1, cube.wavenumbers.size)),  # named by the cube
                                  cube.wavenumbers + job.axis_offset, sources=[str(job.cube)]))
    if bundle.recipe is None:  # then the cube's axis must be the model's grid: before a store
        bundle.fits_grid(cube.wavenumbers + job.axis_offset, offset=bool(job.axis_offset))
    settings = {**job.settings(model_sha256(job.model)), "cube_identity": cube.identity,
                "store_version": OUTPUT_VERSION}  # an older ramancam's resume differs in it
    grid = np.asarray(bundle.grid, dtype=np.float64)
    once = {"grid": grid, "x": cube.x, "y": cube.y}  # written when the store is made
    # what the tiles write, from the model and the job (not from the store: a resume makes
    # again one deleted), 'done' last
    arrays = result_arrays(bundle, cube, job.kind, job.target)
    listed = [*list(arrays)[:-1], *ONCE, "done"]
    out = Path(job.out)
    if out.exists():
        unreadable = None
        try:
            g = zarr.open_group(str(out), mode="r+")
            meta = dict(g.attrs.get("ramancam", {}))
        except Exception as exc:
            meta, unreadable = {}, exc
        if meta.get("format") != OUTPUT_FORMAT:
            half = (out / "predicted").exists() and not (out / "done").exists()
            raise RamancamError(
                f"--out must be a new folder or a result store of an earlier run to resume; "
                f"got {str(out)!r}, "
                + (f"a result store whose zarr.json cannot be read ({type(unreadable).__name__}"
                   f": {unreadable}): its run's settings are lost, so it cannot be resumed. "
                   "Remove the store or give another --out." if unreadable is not None
                   and (out / "zarr.json").is_file() and ((out / "done").exists() or (
                       out / "predicted").exists()) else
                   "which is not one (a store whose making was stopped before its settings "
                   "were written, no tile done). Remove it and run again." if half else
                   "which is not one. Choose another --out."))
        check_resumable(out, meta)  # tiles of one version only
        old = dict(meta.get("settings", {}))
        diff = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
        if diff == ["cube"]:  # the same cube (its identity) moved or copied: resume from it
            g.attrs["ramancam"] = {**meta, "settings": {**old, "cube": settings["cube"]}}
        elif old.get("kind") != settings.get("kind"):
            raise RamancamError(
                f"--out must hold a run of the same command to resume; got {str(out)!r}, a "
                f"'{old.get('kind')}' run, for '{settings.get('kind')}'. Choose another --out.")
        elif diff:
            raise RamancamError(
                f"--out must hold a run with the same model, cube and settings to resume; got "
                f"{str(out)!r} from a run that differs in {', '.join(diff)}. Remove it or "
                "choose another --out.")
        # zarr's temporary files of a run killed mid-write: litter no later write replaces
        swept = remove_partial(out) if holds(out) else 0
        # an array the tiles write, deleted whole or its zarr.json damaged: made again, and
        # every tile computed again (each lost its part of it; 'done': no tile known done)
        older_store(g, meta, arrays, listed)  # made before the 'checks' array: left so
        remade = remake_arrays(g, arrays)
        # no tile writes these again: a deleted chunk file read 0 there, in the images too
        rewritten = damaged_once(g, once)
        for name in rewritten:
            write_once(g, name, once[name])
        done = np.asarray(g["done"][...])
        if remade:
            g["done"][...] = done[...] = 0
        # a finished tile whose chunk file was deleted read the fill value there: again
        lacking = tiles_lacking_chunks(g, done)
        for ty, tx in lacking:
            g["done"][ty, tx] = done[ty, tx] = 0
        # and one whose chunk file cannot be decoded (cut short): every chunk read once
        damaged = tiles_with_damaged_chunks(g, done)
        for ty, tx in damaged:
            g["done"][ty, tx] = done[ty, tx] = 0
        meta = dict(g.attrs["ramancam"])
        if lacking or damaged or remade or meta.get(ARRAYS) != listed:
            g.attrs["ramancam"] = {**meta, ARRAYS: listed,
                                   "complete": bool(meta.get("complete")) and not (
                                       lacking or damaged or remade)}
        todo = [(int(ty), int(tx)) for ty, tx in np.argwhere(done == 0)]
        return g, todo, done.size, lacking, damaged, rewritten, remade, swept
    parent = out.resolve().parent
    if not parent.is_dir():
        if not parent.parent.is_dir():
            raise RamancamError(f"--out must be in an existing folder; got {str(out)!r}. "
                                "Create the folder first.")
        parent.mkdir()  # --out DIR: DIR/predictions.zarr
    make_store(out)  # once: another run that made it meanwhile is refused
    g = zarr.open_group(str(out), mode="w")
    for name, spec in arrays.items():
        if name == "done":  # last, after the arrays written once
            for key, values in once.items():
                write_once(g, key, values)
        g.create_array(name, **spec)
    novelty = None
    if bundle.novelty is not None:
        info = bundle.info.get("novelty", {})
        # null where the model has no threshold (too few held-out spectra), as its file
        # keeps it: inf is no JSON (Infinity in zarr.json; zarr 3.1.0 refused to write it)
        thr = float(bundle.threshold)
        novelty = {"method": info.get("method"), "threshold": thr if np.isfinite(thr) else None,
                   "rate": info.get("rate")}
    g.attrs["ramancam"] = {"format": OUTPUT_FORMAT, "version": OUTPUT_VERSION,
                           "ramancam_version": __version__,
                           **({"ramancam_commit": c} if (c := git_commit()) else {}),
                           "settings": settings,
                           "class_names": classes, "complete": False, "novelty": novelty,
                           EVERY_CHUNK: True, ARRAYS: listed}
    return g, list(cube.tiles()), cube.n_tiles[0] * cube.n_tiles[1], {}, {}, {}, {}, 0


@lru_cache(maxsize=8)
def _open_store(path: str, mode: str) -> Any:
    from .io.zarr_cube import need_zarr

    return need_zarr().open_group(path, mode=mode)


def run_tile(job: MapJob, ty: int, tx: int, *, set_threads: bool = False) -> tuple[int, int, int]:
    """Compute one tile and write its results, then its done flag.

    Parameters
    ----------
    job : MapJob
    ty, tx : int
        Tile index.
    set_threads : bool
        Set torch's thread count to ``job.threads`` first (Dask workers).

    Returns
    -------
    (ty, tx, n_spectra)
        ``n_spectra``: the tile's pixels computed (not those missing from the map or
        refused by the recipe).
    """
    from .bundle import not_finite
    from .explain import explain, method_options, predict_proba
    from .io.zarr_cube import open_cube
    from .maps.notes import CHECKS, tile_checks
    from .maps.store import TileWriter, prepare_tile, write_tile_sums
    from .train import predict_proba_module

    if set_threads:
        import torch

        if torch.get_num_threads() != job.threads:
            torch.set_num_threads(job.threads)
    cube = open_cube(job.cube)
    out = _open_store(str(Path(job.out).resolve()), "r+")
    _check_same_inputs(job, out, cube)
    bundle = cached_bundle(job.model)
    ys, xs = cube.tile(ty, tx)
    h, w = ys.stop - ys.start, xs.stop - xs.start
    # pixels missing from the map (all NaN) and those the recipe refuses (flat, empty: dead
    # pixels) keep -1 / NaN and read unknown
    raw: list[Any] = []
    X, ok = prepare_tile(cube, bundle, ty, tx, job.axis_offset, raw)
    n = h * w

    def spread(a: Any, fill: Any, dtype: Any) -> NDArray[Any]:
        full = np.full((n, *np.shape(a)[1:]), fill, dtype=dtype)
        full[ok] = a
        return full.reshape(h, w, *np.shape(a)[1:])

    classes = [str(c) for c in bundle.classes]
    put = TileWriter(out, ty, tx)  # every chunk stored, the fill value too
    if CHECKS in out:  # the pixels predict's notes on raw spectra name (maps.notes)
        put[CHECKS] = tile_checks(raw[0], bundle.grid)
    # calibrated by the model's temperature, as predictions.csv of the in-memory predict;
    # explain: the forward pass explain() uses to pick the predicted class, so that the map of
    # every pixel is the map of the class written in 'predicted'
    proba = (np.empty((0, len(bundle.classes))) if not ok.any() else
             predict_proba_module(bundle.model, X, bf16=job.bf16, temperature=bundle.temperature)
             if job.kind == "predict" else predict_proba(bundle.model, X).astype(np.float64))
    # NaN probabilities (a float32 pass overflowed: intensities near 1e38 and no recipe) read
    # class 0 by argmax: those pixels are not predicted, as the ones the recipe refuses
    if (bad := not_finite(proba)).any():
        ok[np.flatnonzero(ok)[bad]] = False
        X, proba = X[~bad], proba[~bad]
    if not ok.any():  # every pixel of the tile refused: the arrays hold their fill values
        if "unknown" in out:
            put["unknown"] = np.ones((h, w), dtype=bool)
        put.finish()
        out["done"][ty, tx] = 1
        return ty, tx, 0
    pred = proba.argmax(axis=1)
    if job.kind != "predict":
        options = method_options(job.method, bundle.grid, job.fc_form)
        maps, _ = explain(bundle.model, X, method=job.method, target=job.target,
                          score=job.score, normalize=job.normalize, class_names=classes,
                          **options)
        if job.target == "all":
            maps = maps.reshape(len(X), len(classes), -1)
        put["maps"] = spread(maps, np.nan, np.float32)
        own = maps[np.arange(len(X)), pred] if maps.ndim == 3 else maps
        write_tile_sums(put, X, own, pred, len(classes))
        from .conformal import softmax

        with np.errstate(divide="ignore"):  # calibrated, as predict's: softmax(z / T) from
            proba = softmax(np.log(proba), bundle.temperature)  # softmax(z), one pass
    put["predicted"] = spread(pred, -1, np.int16)
    put["proba"] = spread(proba, np.nan, np.float32)
    put["confidence"] = spread(proba.max(axis=1), np.nan, np.float32)
    if "prediction_set" in out and (sets := bundle.prediction_sets(proba)) is not None:
        put["prediction_set"] = spread(sets, False, bool)
    match = None
    if bundle.novelty is not None and "novelty" in out:
        from .novelty import network_outputs

        # the hqi scores read no network output: no second forward pass for them
        z, feats = ((np.zeros((len(X), 0)), np.zeros((len(X), 0)))
                    if bundle.novelty.model_free else network_outputs(bundle.model, X))
        score, match = bundle.novelty.score_and_match(X, z, feats)
        score = np.asarray(score, dtype=np.float64)
        put["novelty"] = spread(score, np.nan, np.float32)
        put["unknown"] = spread(score > bundle.threshold, True, bool)
        if match is not None and "library_match" in out:
            put["library_match"] = spread(match, -1, np.int16)
        if "novelty_p" in out:
            put["novelty_p"] = spread(bundle.novelty_p(score), np.nan, np.float32)
    if "band_shift" in out:  # as the in-memory predict's axis line reads them
        shift = bundle.band_shift(
            None, prepared=X, proba=proba,
            match=None if match is None else np.asarray(classes, dtype=object)[match])
        if shift is not None:
            put["band_shift"] = spread(shift, np.nan, np.float32)
    put.finish()  # the arrays this tile did not write: their fill value, stored
    # the flag last: a tile interrupted before this line is computed again on resume
    out["done"][ty, tx] = 1
    return ty, tx, int(ok.sum())  # the spectra computed (no missing or refused pixel)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux/macOS; NaN elsewhere)."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    import sys

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process so far, in seconds."""
    return time.process_time()


class TileError(RamancamError):
    """An error raised while the tiles were computed (a tile's spectra not finite or their
    chunk damaged, the model or cube replaced meanwhile): the tiles finished before it stay
    marked done in the store, so the same run, once the cause is fixed in place, resumes."""


@contextlib.contextmanager
def _tile_errors() -> Iterator[None]:
    """A :class:`RamancamError` raised inside as a :class:`TileError`, its words kept."""
    try:
        yield
    except TileError:
        raise
    except RamancamError as exc:
        raise TileError(str(exc), cli=exc.cli) from None


@claimed  # one run at a time on a store: its lock file, for the whole run
def run(job: MapJob, *, workers: int | None = None, scheduler: str | None = None,
        processes: bool = True, progress: Callable[[int, int], None] | None = None
        ) -> RunSummary:
    """Run ``job`` over every tile not done yet.

    Parameters
    ----------
    job : MapJob
    workers : int, optional
        Start a local Dask cluster of this many workers (``job.threads`` threads each).
    scheduler : str, optional
        Address of an existing Dask scheduler (e.g. ``"tcp://10.0.0.1:8786"``).
    processes : bool
        With ``workers``: worker processes (default) or threads of this process.
    progress : callable(done, total), optional
        Called after every finished tile.

    Returns
    -------
    RunSummary
    """
    if workers is not None and scheduler is not None:
        raise RamancamError(f"workers and scheduler must not both be given; got workers="
                            f"{workers} and scheduler={scheduler!r}. Use one.")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        why = f"must be a positive integer; got {workers!r}."
        raise RamancamError(f"workers {why}", cli=f"--workers {why} Give the number of worker "
                                                  "processes, e.g. --workers 2.")
    if workers is not None:  # before a cluster is started (a scheduler's cores: unknown)
        from ._cores import check_count

        check_count("workers", workers, each=job.threads if isinstance(job.threads, int)
                    and job.threads >= 1 else 1, each_name="threads")
    job = MapJob(**{**asdict(job), "model": str(Path(job.model).resolve()),
                    "cube": str(Path(job.cube).resolve()), "out": str(Path(job.out).resolve())})
    store, todo, n_tiles, lacking, damaged, rewritten, remade, swept = prepare_output(job)
    import torch

    # the thread counts the store's tiles were computed with (workers: --threads each)
    threads = job.threads if workers or scheduler else torch.get_num_threads()
    earlier = tuple(int(t) for t in store.attrs["ramancam"].get("threads", []))

    def computed_one() -> None:  # recorded once a tile of this run is done, not before
        if threads not in earlier:
            store.attrs["ramancam"] = {**dict(store.attrs["ramancam"]),
                                       "threads": sorted({*earlier, threads})}
    before = earlier if todo and len(todo) < n_tiles and set(earlier) - {threads} else ()

    skipped = n_tiles - len(todo)
    n_done = skipped
    n_spectra = 0
    rss: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t0 = time.perf_counter()
    with _tile_errors():  # a tile's error: the tiles done before it stay, said
        if workers is None and scheduler is None:
            c0 = cpu_seconds()
            for ty, tx in todo:
                n_spectra += run_tile(job, ty, tx)[2]
                n_done += 1
                if n_done == skipped + 1:
                    computed_one()
                if progress is not None:
                    progress(n_done, n_tiles)
            rss["this process"] = peak_rss_mb()
            cpu["this process"] = cpu_seconds() - c0
        elif todo:
            dd = _need_dask()
            cluster = _local_cluster(workers, job.threads, processes) if workers else None
            try:
                try:
                    client = dd.Client(cluster if cluster is not None else scheduler)
                except (OSError, ValueError, TimeoutError) as exc:
                    if scheduler is None:
                        raise
                    why = (f"must be the address of a running Dask scheduler (tcp://host:8786); "
                           f"got {scheduler!r} ({exc}). Check the address, and that 'dask "
                           "scheduler' runs there and this machine reaches it.")
                    raise RamancamError(f"scheduler {why}", cli=f"--scheduler {why}") from None
                with client:
                    t0 = time.perf_counter()
                    futures = client.map(run_tile, [job] * len(todo), [t[0] for t in todo],
                                         [t[1] for t in todo], set_threads=True, pure=False)
                    for fut in dd.as_completed(futures):
                        n_spectra += fut.result()[2]
                        n_done += 1
                        if n_done == skipped + 1:
                            computed_one()
                        if progress is not None:
                            progress(n_done, n_tiles)
                    seconds = time.perf_counter() - t0
                    rss = {str(k): float(v) for k, v in client.run(peak_rss_mb).items()}
                    cpu = {str(k): float(v) for k, v in client.run(cpu_seconds).items()}
            finally:
                if cluster is not None:
                    cluster.close()
    if (workers is None and scheduler is None) or not todo:
        seconds = time.perf_counter() - t0
    done = np.asarray(store["done"][...])
    meta = dict(store.attrs["ramancam"])
    meta["complete"] = bool(done.all())
    store.attrs["ramancam"] = meta
    n_unknown, n_pixels, n_agree, n_refused, sizes, per_class = count_finished(store, done)
    shifts = finished_shifts(store, done)
    _open_store.cache_clear()
    return RunSummary(Path(job.out), n_tiles, skipped, len(todo), n_spectra, seconds, rss,
                      cpu, n_unknown, n_pixels, n_agree, n_refused, shifts, sizes, per_class,
                      lacking, rewritten, remade, before, threads, damaged, swept)


#: Maps up to this many pixels get class/confidence/probability images (the arrays are read
#: whole to draw them: 10^7 pixels of 3 classes is 160 MB).
IMAGE_LIMIT = 10_000_000


def write_images(out_dir: str | os.PathLike[str], store: str | os.PathLike[str], *,
                 reject: bool = True, model: str | None = None,
                 bands: list[float] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 lines: Sequence[str] = ()) -> list[Path]:
    """``classes.png``, ``confidence.png``, one probability image per class and, from the
    ``band_shift``, ``novelty_p`` and ``prediction_set`` arrays, ``band_shift.png``,
    ``novelty_p.png`` and ``set_size.png`` of a finished result store, drawn by
    :func:`ramancam.maps.images.write_map_images` into ``out_dir``.

    With ``reject`` (the default) and a store that has an ``unknown`` array, ``classes.png``
    shows the flagged pixels in the "unknown" colour instead of their nearest class; pixels
    without a class (``predicted`` -1: refused by the recipe) are drawn so always.

    ``report.html`` (:func:`ramancam.maps.outputs.write_map_report`: the class table,
    every image and the pixels to check) is written beside them; with ``model`` (the run's
    model file) and the cube still in place, the first pixels to check are drawn too. An
    explain store adds the mean spectrum and map of each predicted class
    (``class_means.csv``, ``class_means.png``) and band images of the map at ``bands``
    (cm-1; default: the 3 with the largest mean |map|;
    :func:`ramancam.maps.store.explain_outputs`) to the images and the page; ``progress``
    is called with the tiles read for them (done, total).

    Returns the images (and an explain store's band images and class means) written, then
    the report (none when the map has more than :data:`IMAGE_LIMIT` pixels).
    """
    from .io.zarr_cube import STORE_FIX, damaged_chunk_guard, need_zarr
    from .maps.images import remove_stale, write_map_images
    from .maps.outputs import flagged_by_class, write_map_report
    from .maps.store import explain_outputs, missing_cells, pixel_maps, store_grid
    from .plot import shift_unit
    from .predict_report import cube_pixels, map_class_of, pixels_to_check
    from .report import Section

    g = need_zarr().open_group(str(store), mode="r")
    ny, nx = (int(v) for v in g["predicted"].shape)
    if ny * nx > IMAGE_LIMIT:
        return []

    def read(name: str) -> NDArray[Any] | None:
        """The whole array, a damaged chunk (a file cut short) named in one line."""
        if name not in g:
            return None
        return damaged_chunk_guard(lambda: np.asarray(g[name][...]), f"result store {store}",
                                   f"its array {name!r}", STORE_FIX)

    x = np.asarray(read("x"), dtype=np.float64)
    y = np.asarray(read("y"), dtype=np.float64)
    grid = store_grid(g)
    classes = list(g.attrs["ramancam"]["class_names"])
    flagged = read("unknown")
    unknown = flagged if reject else None
    predicted = np.asarray(read("predicted"))
    refused = predicted < 0  # not predicted (or not computed): no class to draw
    gone = missing_cells((g.attrs["ramancam"].get("settings") or {}).get("cube"), refused)
    if gone is not None and gone.any():  # never measured: no spectrum, grey, not "refused"
        keep = ~gone[grid.iy, grid.ix]
        grid = replace(grid, ix=grid.ix[keep], iy=grid.iy[keep])
        refused &= ~gone
        if unknown is not None:  # (the run marks them unknown: no class)
            unknown = unknown & ~gone
    if refused.any():  # marked: drawn as not predicted, as predict draws them (the cube's
        # NaN pixels too)
        unknown = refused if unknown is None else unknown | refused

    sets = read("prediction_set")
    novelty_p = read("novelty_p")
    proba = np.asarray(read("proba"))
    unit = shift_unit(g["grid"][...]) if "grid" in g else "cm-1"
    images = write_map_images(out_dir, grid, predicted, proba, classes,
                              unknown=unknown, band_shift=read("band_shift"),
                              novelty_p=novelty_p,
                              set_size=None if sets is None else np.where(
                                  refused, np.nan, sets.sum(axis=-1)),
                              shift_unit=unit)
    settings = g.attrs["ramancam"].get("settings") or {}
    cube = settings.get("cube")
    offset = float(settings.get("axis_offset") or 0)
    drawing: dict[str, Any] = {}
    spectra = None  # the cube, the run's model and offset: its pixels read and prepared again
    if model is not None and cube and Path(cube).exists():
        bundle = cached_bundle(model)
        spectra = (str(cube), bundle, offset)
        drawing = {"spectra": cube_pixels(cube, bundle, offset), "grid": bundle.grid,
                   "reference": bundle.class_reference}
        if "maps" in g:  # an explain store: each drawn pixel's map beside it
            drawing.update(maps=pixel_maps(g, predicted), method=settings.get("method", "map"),
                           map_class=map_class_of(settings.get("target")))
    extra, sections = (explain_outputs(out_dir, g, grid, classes,
                                       settings.get("method", "fc"), bands=bands,
                                       spectra=spectra, progress=progress,
                                       target=settings.get("target"),
                                       flagged=flagged_by_class(predicted, flagged,
                                                                len(classes)))
                       if settings.get("kind") == "explain" else ([], []))
    checks = pixels_to_check(predicted, proba, classes, x, y, sets=sets, reject=reject,
                             flagged=flagged, match=read("library_match"),
                             novelty_p=novelty_p, **drawing)
    cells = np.ones(predicted.shape, bool) if gone is None else ~gone  # counted: measured
    report = write_map_report(out_dir, grid, predicted[cells], proba[cells], classes, images,
                              info={"result store": str(store), "cube": cube,
                                    **({"model": str(model)} if model is not None else {}),
                                    "model sha256": settings.get("model_sha256")},
                              title=f"ramancam {settings.get('kind', 'predict')}: map",
                              extra_section=[*([Section("Summary", list(lines))] if lines
                                               else []), *sections, checks],
                              unknown=None if unknown is None else unknown[cells],
                              shift_unit=unit)
    remove_stale(out_dir, [*images, *extra])
    return [*images, *extra, report]


def read_results(out: str | os.PathLike[str]) -> dict[str, NDArray[Any]]:
    """Every array of a (small) result store, in memory (tests, small maps)."""
    from .io.zarr_cube import need_zarr

    g = need_zarr().open_group(str(out), mode="r")
    return {k: np.asarray(g[k][...]) for k in g.array_keys()}

