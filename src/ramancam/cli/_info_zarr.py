"""``ramancam info`` for Zarr folders: a map cube (``ramancam simulate map --out NAME.zarr``,
:func:`ramancam.io.zarr_cube.write_cube`) or the result store of a ``predict`` / ``explain``
run on one (docs/scale.md). Arrays are read chunk row by chunk row, never whole, so a cube
larger than the memory is described too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["describe_zarr", "format_zarr", "zarr_kind"]


def zarr_kind(path: str) -> str | None:
    """``"cube"``, ``"results"`` (a ``predict``/``explain`` store) or None (not a Zarr folder
    of ramancam's). Needs no Zarr to answer None for other paths."""
    from ..io.zarr_cube import is_cube

    p = Path(path)
    if not p.is_dir() or not is_cube(p):
        return None
    from ..io.zarr_cube import need_zarr
    from ..scale import OUTPUT_FORMAT

    try:
        g = need_zarr().open_group(str(p), mode="r")
    except Exception:  # zarr raises several types for a folder that is not a group
        # a result store whose own zarr.json is damaged: its arrays tell it (a cube has none
        # of them), so that info names it in one line
        return "results" if _store_arrays_only(p) else None
    meta = g.attrs.get("ramancam") or {}
    if isinstance(meta, dict) and meta.get("format") == OUTPUT_FORMAT:
        return "results"
    return "cube"


def _store_arrays_only(p: Path) -> bool:
    """Whether the folder ``p``, whose group metadata zarr cannot read, holds the arrays of a
    result store (``done``, ``predicted``), no cube's ``spectra``."""
    return (p / "zarr.json").is_file() and not (p / "spectra").exists() and any(
        (p / name / "zarr.json").is_file() for name in ("done", "predicted"))


def _disk_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size
            except OSError:
                pass
    return total


def _tally(blocks: Any, n: int) -> np.ndarray:
    """Values 0..n-1 counted over blocks of an integer array, then all others (index n)."""
    counts = np.zeros(n + 1, dtype=np.int64)
    for block in blocks:
        a = np.asarray(block).ravel().astype(np.int64)
        counts += np.bincount(np.where((a >= 0) & (a < n), a, n), minlength=n + 1)
    return counts


def _counts(arr: Any, n: int) -> tuple[list[int], int]:
    """Pixels per index 0..n-1 of a 2-D integer array, and pixels below 0; read a chunk row
    at a time."""
    step = int(arr.chunks[0]) or 1
    counts = _tally((arr[s:s + step] for s in range(0, int(arr.shape[0]), step)), n)
    return counts[:n].tolist(), int(counts[n])


def _predicted_counts(store: Any, done: np.ndarray, n: int) -> tuple[list[int], int]:
    """Pixels per predicted class 0..n-1 in the finished tiles, read tile by tile, and the
    other pixels (refused, or in tiles not finished: a tile cut short by an interruption
    holds part of its values until it is computed again)."""
    from ..maps.store import finished_tiles

    pred = store["predicted"]
    counts = _tally((pred[ys, xs] for ys, xs in finished_tiles(store, done)), n)[:n]
    return counts.tolist(), int(np.prod(pred.shape)) - int(counts.sum())


def _step(v: np.ndarray) -> float | None:
    d = np.diff(v)
    return float(np.median(d)) if d.size else None


def _layout(arrays: dict[str, Any]) -> tuple[int, int, tuple[int, int]]:
    """A result store's pixels (ny, nx) and tiles (rows, columns) from the arrays that can be
    read (``arrays``): ``predicted``, or another per-pixel array where it is lost; the
    positions ``y`` and ``x`` where every one is."""
    pixel = [a for k, a in arrays.items()
             if k not in ("done", "class_sums", "class_counts") and len(a.shape) >= 2]
    for a in sorted(pixel, key=lambda a: a.path.rsplit("/", 1)[-1] != "predicted"):
        (ny, nx), (cy, cx) = a.shape[:2], a.chunks[:2]
        return int(ny), int(nx), (-(-int(ny) // int(cy)), -(-int(nx) // int(cx)))
    ny, nx = (int(arrays[k].shape[0]) if k in arrays else 0 for k in ("y", "x"))
    tiles = tuple(int(n) for n in arrays["done"].shape) if "done" in arrays else (0, 0)
    return ny, nx, (tiles[0], tiles[1])


def _novelty_record(nov: Any) -> Any:
    """A result store's ``novelty`` record, its threshold ``None`` where the model had none:
    stores of earlier versions hold ``inf`` (``Infinity`` in zarr.json), which ``--json``
    would print as no JSON a strict reader takes."""
    if isinstance(nov, dict) and isinstance(t := nov.get("threshold"), float) \
            and not np.isfinite(t):
        return {**nov, "threshold": None}
    return nov


def describe_zarr(path: str, kind: str) -> dict[str, Any]:
    """What ``info`` prints for a cube or a result store, as a JSON-ready dict."""
    from .._channels import is_channel_axis
    from ..io.zarr_cube import damaged_chunk_guard, need_zarr, open_cube
    from ..maps.store import (
        count_finished,
        damaged_once,
        lost_arrays,
        partial_files,
        readable_arrays,
        store_version,
        tiles_lacking_chunks,
        tiles_with_damaged_chunks,
        written_line,
    )

    if kind == "cube":
        cube = open_cube(path)
        w = cube.wavenumbers
        (ny, nx), (cy, cx), (nty, ntx) = cube.shape, cube.chunks, cube.n_tiles
        d: dict[str, Any] = {
            "kind": "cube", "ny": ny, "nx": nx, "tile": [cy, cx], "tiles": nty * ntx,
            "axis": {"min": float(w.min()), "max": float(w.max()), "n_points": int(w.size),
                     "step": _step(w), "channels": is_channel_axis(w)},
            "x": [float(cube.x.min()), float(cube.x.max()), _step(cube.x)],
            "y": [float(cube.y.min()), float(cube.y.max()), _step(cube.y)],
            "dtype": str(cube.spectra.dtype), "bytes_on_disk": _disk_bytes(Path(path)),
            "classes": None,
            # pixels without a spectrum, as written by ramancam convert (not read here)
            "missing": int(dict(cube.group.attrs.get("ramancam") or {}).get("missing", 0))}
        # who made it, when, of which files (cubes written since 2026-12-08)
        made = dict(cube.group.attrs.get("ramancam") or {})
        d.update({k: made[k] for k in ("ramancam_version", "created", "source") if k in made})
        if cube.truth is not None and cube.class_names is not None:
            truth, n = cube.truth, len(cube.class_names)
            counts, none = damaged_chunk_guard(lambda: _counts(truth, n), f"cube {cube.path}",
                                               "'truth'")
            d["classes"] = dict(zip(cube.class_names, counts, strict=True))
            d["unlabelled"] = none
        return d
    try:
        g = need_zarr().open_group(str(path), mode="r")
        meta = dict(g.attrs["ramancam"])
    except Exception as exc:  # zarr and json raise several types for metadata cut short
        from ..errors import RamancamError

        raise RamancamError(
            f"result store {path} must have a readable zarr.json; got one that cannot be read "
            f"({type(exc).__name__}: {exc}): the run's settings and class names are lost. "
            "Remove the store and run the command again (or give another --out), which "
            "computes every tile anew.") from None
    settings = dict(meta.get("settings") or {})
    names = [str(c) for c in meta.get("class_names", [])]
    arrays = readable_arrays(g)
    # an array the tiles write deleted whole, or its zarr.json damaged: every tile lost its
    # part of it, so none counts as done (the same command makes it again)
    lost, recorded = lost_arrays(g)
    ny, nx, tiles = _layout(arrays)
    done = (np.asarray(arrays["done"][...]) if "done" in arrays and "done" not in lost
            else np.zeros(tiles, dtype=np.uint8))
    if lost:
        done = np.zeros_like(done)
    # a tile recorded as done whose chunk file was deleted is not done: its pixels read the
    # fill value (the same command computes it again)
    lacking = tiles_lacking_chunks(g, done) if not lost else {}
    for ty, tx in lacking:
        done[ty, tx] = 0
    # and one whose chunk file cannot be decoded (cut short): every finished tile read once,
    # as a resume does (200 x 200 map: 0.1 s of a predict store, 1.1 s of a 440 MB explain
    # --target all one; docs/scale.md); the counts below then read only intact tiles
    broken = tiles_with_damaged_chunks(g, done) if not lost else {}
    for ty, tx in broken:
        done[ty, tx] = 0
    # the model's axis and the cube's positions, written once when the store was made: a
    # deleted chunk file read 0 there (the same command writes them again)
    damaged = damaged_once(g)
    if lost:
        counts, not_predicted, unknown = [0] * len(names), ny * nx, (
            0 if "unknown" in arrays else None)
    else:
        counts, not_predicted = _predicted_counts(g, done, len(names))
        unknown = count_finished(g, done)[0]  # None without an 'unknown' array
    d = {"kind": str(settings.get("kind", "predict")), "ny": ny, "nx": nx,
         "tiles_done": int(done.sum()), "tiles": int(done.size),
         # (a deleted chunk file of 'done' reads 0: that tile is not done, whatever the
         # store's 'complete' flag says)
         "complete": (bool(meta.get("complete", False)) and bool(done.all()) and not lacking
                      and not broken and not damaged and not lost),
         "tiles_lacking_chunks": [{"tile": [ty, tx], "arrays": lacked}
                                  for (ty, tx), lacked in sorted(lacking.items())],
         "tiles_with_damaged_chunks": [{"tile": [ty, tx], "arrays": bad}
                                       for (ty, tx), bad in sorted(broken.items())],
         "damaged_arrays": damaged,
         # zarr's temporary files of a run killed mid-write (the next resume removes them)
         "temporary_files": len(partial_files(path)),
         # the arrays written tile by tile (and 'done') missing or unreadable, and whether
         # the store lists the arrays it should hold (else only those every store has)
         "missing_arrays": lost, "arrays_recorded": recorded,
         "cube": settings.get("cube"),
         "model_sha256": settings.get("model_sha256"),
         "predicted": dict(zip(names, counts, strict=True)),
         "not_predicted": not_predicted, "novelty": _novelty_record(meta.get("novelty")),
         "unknown": unknown,
         "arrays": {k: {"shape": list(a.shape), "dtype": str(a.dtype)}
                    for k, a in sorted(arrays.items())},
         "bytes_on_disk": _disk_bytes(Path(path)),
         # which ramancam filled the tiles: a run resumes only a store of its own version
         "store_version": store_version(meta), "ramancam_version": meta.get("ramancam_version"),
         "written": written_line(meta)[0], "resumable": written_line(meta)[1]}
    if d["kind"] == "explain":
        d["map"] = {k: settings.get(k) for k in ("method", "target", "score", "normalize")}
    return d


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def _range(v: list[Any]) -> str:
    lo, hi, step = v
    return f"{lo:g} to {hi:g}" + ("" if step is None else f" (step {step:g})")


def _class_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{c} ({n})" for c, n in sorted(counts.items(), key=lambda t: -t[1]))


def _lacking(tiles: list[dict[str, Any]], *, unreadable: bool = False) -> str:
    """The ``damaged:`` line of a store whose finished tiles lack chunk files, or
    (``unreadable``) hold chunk files that cannot be decoded."""
    n = len(tiles)
    said = ": " if unreadable else " lacks "
    named = "; ".join(f"tile ({t['tile'][0]}, {t['tile'][1]}){said}"
                      + ", ".join(repr(a) for a in t["arrays"]) for t in tiles[:3])
    what = "whose chunk files cannot be read" if unreadable else "but missing chunk files"
    return (f"{n} tile{'' if n == 1 else 's'} recorded as done {what} "
            f"({named}{f'; and {n - 3} more' if n > 3 else ''}), counted as not done")


def _temporary(n: int) -> str:
    """The ``leftover:`` line of a store holding zarr's temporary files."""
    return (f"{n} temporary file{'' if n == 1 else 's'} that zarr left in the store (a run "
            "stopped while it wrote {}); the next run into it removes them".format(
                "it" if n == 1 else "them"))


def _damaged_arrays(damaged: dict[str, str], resumable: bool) -> str:
    """The ``damaged:`` line of a store whose arrays written once are missing or damaged
    (the same command writes them again where it resumes the store)."""
    hint = f"; the same command writes {'it' if len(damaged) == 1 else 'them'} again"
    return (", ".join(f"{name!r} ({why})" for name, why in damaged.items())
            + ": written once when the store was made (the model's axis, the cube's "
              "positions)" + (hint if resumable else ""))


def _lost_arrays(lost: dict[str, str], resumable: bool) -> str:
    """The ``damaged:`` line of a store that lacks an array the tiles write (or ``done``), or
    holds one whose zarr.json cannot be read (the same command makes it again and computes
    every tile where it resumes the store)."""
    hint = (f"; the same command makes {'it' if len(lost) == 1 else 'them'} again and "
            "computes every tile")
    return (", ".join(f"{name!r} ({why})" for name, why in lost.items())
            + ": written tile by tile, so no tile counts as done" + (hint if resumable else ""))


def format_zarr(path: str, d: dict[str, Any]) -> str:
    """The text ``info`` prints for :func:`describe_zarr`'s dict."""
    px = f"{d['nx']} x {d['ny']} (nx x ny) = {d['nx'] * d['ny']} spectra"
    if d["kind"] == "cube":
        a = d["axis"]
        if d.get("missing"):
            px = (f"{d['nx']} x {d['ny']} (nx x ny), {d['nx'] * d['ny'] - d['missing']} "
                  f"spectra and {d['missing']} missing pixels")
        lines = [f"{path}: Zarr map cube",
                 f"  pixels:    {px}, tiles of {d['tile'][1]} x {d['tile'][0]} "
                 f"({d['tiles']} tile{'' if d['tiles'] == 1 else 's'})",
                 f"  axis:      {a['min']:g} to {a['max']:g} "
                 f"{'channels' if a.get('channels') else 'cm-1'}, {a['n_points']} points"
                 + ("" if a["step"] is None else f", step {a['step']:g}"),
                 f"  positions: x {_range(d['x'])}, y {_range(d['y'])}"]
        if d["classes"] is not None:
            lines.append(f"  truth:     {_class_counts(d['classes'])}"
                         + (f"; no class: {d['unlabelled']}" if d.get("unlabelled") else ""))
        lines.append(f"  stored:    {d['dtype']} spectra, {_size(d['bytes_on_disk'])} on disk")
        made = " ".join(filter(None, [
            f"by ramancam {d['ramancam_version']}" if d.get("ramancam_version") else "",
            f"on {d['created']}" if d.get("created") else "",
            f"from {', '.join(map(str, d['source']))}" if d.get("source") else ""]))
        if made:
            lines.append(f"  written:   {made}")
        return "\n".join(lines)
    state = ("complete" if d["complete"] else
             f"incomplete: {d['tiles_done']} of {d['tiles']} tiles done; "
             + ("run the same command again to resume" if d.get("resumable", True) else
                "made by another version of ramancam, which this one does not resume"))
    lines = [f"{path}: ramancam {d['kind']} results on a map ({state})",
             *([f"  damaged:   {_lost_arrays(d['missing_arrays'], d.get('resumable', True))}"]
               if d.get("missing_arrays") else []),
             *([f"  damaged:   {_lacking(d['tiles_lacking_chunks'])}"]
               if d.get("tiles_lacking_chunks") else []),
             *([f"  damaged:   {_lacking(d['tiles_with_damaged_chunks'], unreadable=True)}"]
               if d.get("tiles_with_damaged_chunks") else []),
             *([f"  damaged:   {_damaged_arrays(d['damaged_arrays'], d.get('resumable', True))}"]
               if d.get("damaged_arrays") else []),
             *([f"  leftover:  {_temporary(d['temporary_files'])}"]
               if d.get("temporary_files") else []),
             f"  cube:      {d['cube']}",
             f"  model:     sha256 {str(d['model_sha256'])[:16]}...",
             *([f"  written:   {d['written']}"] if d.get("written") else []),
             f"  pixels:    {px}, {d['tiles']} tile{'' if d['tiles'] == 1 else 's'}"]
    if d["kind"] == "explain":
        m = d["map"]
        which = "every class" if m["target"] == "all" else f"the {m['target']} class"
        lines.append(f"  maps:      {m['method']} for {which} "
                     f"({m['score']}, normalise {m['normalize']})")
    lines.append(f"  predicted: {_class_counts(d['predicted'])}"
                 + (" (nearest class, flagged pixels too)" if d["unknown"] else "")
                 + (f"; not predicted (refused, or not computed yet): {d['not_predicted']}"
                    if d["not_predicted"] else ""))
    nov = d.get("novelty")
    if d["unknown"] is not None and nov and nov.get("threshold") is None:
        lines.append("  unknown:   none can be flagged: the model has no novelty threshold (too "
                     "few held-out spectra in training)")
    elif d["unknown"] is not None and nov:
        rate = nov.get("rate")
        lines.append(f"  unknown:   {d['unknown']} pixels flagged ({nov.get('method')}, "
                     f"threshold {float(nov['threshold']):.4g}"
                     + (f" for {rate:.0%} false alarms" if isinstance(rate, float) else "")
                     + ")")
    arrays = ", ".join(f"{k} {tuple(v['shape'])} {v['dtype']}" for k, v in d["arrays"].items())
    lines.append(f"  arrays:    {arrays}")
    lines.append(f"  stored:    {_size(d['bytes_on_disk'])} on disk")
    return "\n".join(lines)
