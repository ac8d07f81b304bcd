"""The command line of the tiled (Zarr/Dask) way of ``predict`` and ``explain``
(:mod:`ramancam.scale`): its options, the checks of a command line, the store's path, the
printed summary and the images beside the store."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import scale as tiled
from ..errors import RamancamError
from ..maps.agreement import agreement_details, agreement_line
from ..scale import MapJob, TileError, cached_bundle, run, write_images


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``--workers`` / ``--scheduler`` options of ``predict`` and ``explain``."""
    g = p.add_argument_group(
        "large maps (Zarr cube input; docs/scale.md)",
        "With a Zarr cube as DATA, or with --workers/--scheduler, the map is processed tile "
        "by tile into a Zarr store (--out DIR writes DIR/predictions.zarr or "
        "DIR/explain.zarr and the class, confidence and probability images, --out NAME.zarr "
        "that store alone); running the same command again "
        "resumes an interrupted run. Needs the maps extra: pip install 'ramancam[maps]'.")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--workers", type=int, metavar="N",
                   help="run the tiles on a local Dask cluster of N worker processes "
                        "(--threads torch threads each, default 1; at most 4 threads per "
                        "core in all)")
    m.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the tiles on an existing Dask cluster, e.g. tcp://host:8786 "
                        "(model, cube and --out on a file system all workers see)")


def wanted(args: argparse.Namespace) -> bool:
    """Whether a ``predict``/``explain`` command line goes the tiled (Zarr/Dask) way."""
    from ..io.zarr_cube import is_cube

    return (getattr(args, "workers", None) is not None
            or getattr(args, "scheduler", None) is not None or is_cube(args.data))


def outputs_together(run: Callable[[argparse.Namespace], int], args: argparse.Namespace
                     ) -> int:
    """``predict``'s or ``explain``'s ``run(args)`` with its table, images and page
    replacing the earlier run's together (:func:`ramancam.io._atomic.atomic_group`); a
    tiled run (:func:`wanted`) resumes into its store, from which its images are drawn
    again, so it runs as it is."""
    from ..io._atomic import atomic_group

    if wanted(args):
        return run(args)
    with atomic_group():
        return run(args)


def _store_path(args: argparse.Namespace, kind: str) -> Path:
    from ..io.zarr_cube import is_cube

    # (DATA and MODEL are UTF-8 text: checked, with every path, before any command runs)
    if not is_cube(args.data):
        raise RamancamError(
            f"DATA must be a Zarr cube (a .zarr folder) for --workers/--scheduler; got "
            f"{args.data!r}. Write the map as a cube first (ramancam convert MAP NAME.zarr), "
            "or drop --workers/--scheduler.")
    if args.label_col is not None or args.labels_from is not None:
        raise RamancamError("--label-col/--labels-from must not be given for a Zarr cube; got "
                            "one. A cube's labels are its 'truth' array.")
    for opt in ("files", "laser_nm", "xy_cols", "groups_from"):
        if getattr(args, opt, None) is not None:
            flag = "--" + opt.replace("_", "-")
            raise RamancamError(
                f"{flag} must not be given for a Zarr cube; got {getattr(args, opt)!r}. A "
                "cube holds one Raman-shift axis and its pixel positions; drop "
                f"{flag} (write the cube from spectra read with it).")
    if getattr(args, "novelty_rate", None) is not None:
        raise RamancamError(
            f"--novelty-rate must not be given for a Zarr cube; got {args.novelty_rate!r}. "
            "The store's novelty_p array holds every pixel's p-value: pixels with "
            "novelty_p <= X are those that rate flags.")
    if args.axis_offset is not None:
        from ._common import check_axis_offset

        check_axis_offset(args.axis_offset)
    if args.out is None:
        raise RamancamError("--out must name the result folder for a Zarr cube; got nothing. "
                            f"Give --out DIR (writes DIR/{kind}.zarr) or --out NAME.zarr.")
    from ._outputs import check_writable

    out = Path(args.out)
    if out.suffix.lower() == ".zarr":
        check_writable("out", str(out))
        return out
    if out.exists() and not out.is_dir():
        raise RamancamError(f"--out must be a folder (or NAME.zarr) for a Zarr cube; got "
                            f"{args.out!r}, an existing file. Name a folder.")
    check_writable("out", str(out / f"{kind}.zarr"))  # an existing folder: written into
    from ..maps.outputs import check_other_run

    check_other_run(out, "predict" if kind == "predictions" else "explain")
    return out / f"{kind}.zarr"  # the folder is made with the store, once the checks pass


def _progress(total_hint: str) -> Callable[[int, int], None]:
    import sys

    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 10:
            last[0] = now
            print(f"  {done}/{total} tiles{total_hint}", file=sys.stderr, flush=True)

    return show


def _cube_missing(meta: dict[str, Any]) -> int:
    """How many pixels the run's cube holds no spectrum at (its record, written by convert
    and write_cube); 0 when the cube cannot be read."""
    from ..io.zarr_cube import need_zarr

    cube = (meta.get("settings") or {}).get("cube")
    try:
        attrs = dict(need_zarr().open_group(str(cube), mode="r").attrs.get("ramancam") or {})
        return int(attrs.get("missing", 0))
    except Exception:  # a cube moved: counted with the refused, as before
        return 0


def _has_threshold(novelty: dict[str, Any]) -> bool:
    """Whether a result store's model had a novelty threshold (its record's ``novelty``;
    ``None``, or ``inf`` in the stores of earlier versions: too few held-out spectra in
    training, nothing could be flagged)."""
    import math

    t = novelty.get("threshold")
    return isinstance(t, int | float) and math.isfinite(t)


def _first_refused(job: Any, summary: Any) -> tuple[list[str], str] | None:
    """The first pixels the run did not predict though the cube holds their spectra, and the
    first one's reason (:func:`ramancam.maps.notes.refused_pixels`); ``None`` when the cube
    or the store cannot be read again (moved meanwhile)."""
    from ..io.zarr_cube import need_zarr, open_cube
    from ..maps.notes import refused_pixels

    try:
        return refused_pixels(need_zarr().open_group(str(summary.out), mode="r"),
                              open_cube(job.cube), cached_bundle(job.model), job.axis_offset)
    except Exception:  # a line's detail: never the reason a finished run fails
        return None


def _store_meta(out: str | os.PathLike[str]) -> dict[str, Any]:
    from ..io.zarr_cube import need_zarr

    return dict(need_zarr().open_group(str(out), mode="r").attrs["ramancam"])


def _tiles_done(store: Path) -> int | None:
    """How many tiles the result store ``store`` marks done; None when it cannot be read
    (none, or half made: stopped before its 'done' array)."""
    from ..io.zarr_cube import need_zarr

    try:
        return int(np.count_nonzero(need_zarr().open_group(str(store), mode="r")["done"][...]))
    except Exception:
        return None


def _drop_unstarted(store: Path) -> None:
    """Remove a result store this run created when it stopped before any tile was done (a
    bad scheduler, a damaged pixel, Ctrl-C while it was being made): left behind, ``info``
    called it a run to resume, and one stopped before its settings were written was refused
    by the same command run again."""
    from ..io.zarr_cube import remove_store

    if not _tiles_done(store):  # none done, or unreadable: this run made it (the caller's
        remove_store(store)  # claim); what zarr's I/O thread still wrote for it goes too


def _no_room_line(store: Path, full: tuple[str, str]) -> str:
    """The error of a run whose store's disk had no room (``full``: its words and the way
    out, :func:`ramancam.io.zarr_cube.no_room`): the tiles marked done are kept, and the
    same command run again resumes them; zarr's bare ``[Errno 28] No space left on device``
    named no file and said neither."""
    head = f"result store {str(store)!r} could not be written: {full[0]}; "
    again = f"{full[1]}, then run the same command again"
    if not store.exists():  # this run made it: removed (_drop_unstarted)
        return f"{head}nothing of it was left behind. {again}."
    if not (n := _tiles_done(store)):
        return f"{head}no tile of it is done yet. {again}."
    return (f"{head}the {n} tile{' done is' if n == 1 else 's done are'} kept in it. "
            f"{again}: it resumes the store.")


def _kept_line(store: Path, n: int) -> str:
    """What a run stopped by a tile's error (a damaged or non-finite tile of the cube)
    leaves: its finished tiles, kept as a full disk keeps them, and how to go on. A cube
    written anew (ramancam convert) is another cube, whose run the store refuses to resume."""
    return (f"The {n} tile{' done is' if n == 1 else 's done are'} kept in the result store "
            f"{str(store)!r}: fixed in place or restored from a copy, the same command "
            "resumes it; for a cube (or model) written anew, remove the store first.")


def _tiles_named(tiles: dict[tuple[int, int], list[str]], said: str) -> str:
    """The first 3 of ``tiles`` (tile to arrays), each ``tile (ty, tx)`` then ``said`` and its
    arrays, and how many more."""
    n = len(tiles)
    named = [f"tile ({ty}, {tx}){said}{', '.join(repr(a) for a in arrays)}"
             for (ty, tx), arrays in sorted(tiles.items())[:3]]
    return "; ".join(named) + (f"; and {n - 3} more" if n > 3 else "")


def recomputed_line(lacking: dict[tuple[int, int], list[str]]) -> str:
    """The line on the tiles recorded as done that a resumed run computed again, because a
    chunk file of theirs was missing (:func:`ramancam.maps.store.tiles_lacking_chunks`)."""
    n = len(lacking)
    return (f"recomputed {n} tile{'' if n == 1 else 's'} recorded as done in the store but "
            "missing chunk files (deleted or lost since; their pixels read as never "
            f"computed): {_tiles_named(lacking, ' lacked ')}")


def damaged_line(damaged: dict[tuple[int, int], list[str]]) -> str:
    """The line on the tiles recorded as done that a resumed run computed again, because a
    chunk file of theirs could not be decoded
    (:func:`ramancam.maps.store.tiles_with_damaged_chunks`)."""
    n = len(damaged)
    return (f"recomputed {n} tile{'' if n == 1 else 's'} recorded as done in the store whose "
            "chunk files cannot be read (cut short or overwritten since): "
            f"{_tiles_named(damaged, ': ')}")


def rewritten_line(rewritten: dict[str, str]) -> str:
    """The line on the arrays written once when the store was made that a resumed run found
    missing or damaged and wrote anew (:func:`ramancam.maps.store.damaged_once`)."""
    n = len(rewritten)
    return (f"rewrote {n} arr{'ay' if n == 1 else 'ays'} of the store written once when it "
            "was made, from the model and the cube: "
            + ", ".join(f"{name!r} ({why})" for name, why in rewritten.items()))


def remade_line(remade: dict[str, str]) -> str:
    """The line on the arrays the tiles write (and ``done``) that a resumed run found missing
    or damaged and made again, computing every tile again
    (:func:`ramancam.maps.store.remake_arrays`)."""
    n = len(remade)
    return (f"remade {n} arr{'ay' if n == 1 else 'ays'} of the store that every tile writes, "
            "found missing or damaged: "
            + ", ".join(f"{name!r} ({why})" for name, why in remade.items())
            + "; computed every tile again")


def _predicted_counts(summary: Any, classes: list[str], *, reject: bool) -> str:
    """The ``predicted:`` line of a finished run, pixels per class (flagged ones as
    ``unknown`` unless ``--no-reject``), from the counts :func:`ramancam.scale.run` made."""
    from collections import Counter

    from ..novelty import UNKNOWN
    from ._outputs import predicted_line

    every, flagged = summary.class_pixels
    n = every - flagged if reject else every
    counts: Counter[str] = Counter({c: int(k) for c, k in zip(classes, n, strict=True) if k})
    if reject and int(flagged.sum()):
        counts[UNKNOWN] = int(flagged.sum())
    return predicted_line(counts)


def _cli(args: argparse.Namespace, job: MapJob) -> int:
    from ..io.zarr_cube import no_room
    from ..maps.lock import claim

    store = Path(job.out)
    # the store's lock for the whole command, images included; the --out DIR made for it
    # goes with it when the run leaves nothing in it
    with claim(store) as held:
        try:
            summary = run(job, workers=args.workers, scheduler=args.scheduler,
                          progress=_progress(""))
        except BaseException as exc:
            if held.made:  # never a store another run made meanwhile (it is filling it)
                _drop_unstarted(store)
            if isinstance(exc, KeyboardInterrupt) and store.exists():
                import sys

                print("the tiles done are kept in the store: run the same command again to "
                      "resume", file=sys.stderr)
            if (full := no_room(exc)) is not None:
                raise RamancamError(_no_room_line(store, full)) from None
            if isinstance(exc, TileError) and (n := _tiles_done(store)):
                raise RamancamError(f"{exc.cli or exc} {_kept_line(store, n)}") from None
            raise
        return _finish(args, job, summary)


def _finish(args: argparse.Namespace, job: MapJob, summary: Any) -> int:
    """The lines of a finished tiled run, and its images and page."""
    from ..maps.store import count_trained
    from ._notes import trained_note

    what = "predictions" if job.kind == "predict" else f"{job.method} maps ({job.target})"
    resumed = (f"; resumed, {summary.skipped} of {summary.n_tiles} tiles were already done"
               if summary.skipped else "")
    print(f"wrote {what} of {summary.n_spectra} spectra ({summary.computed} "
          f"tile{'' if summary.computed == 1 else 's'}, "
          f"{summary.spectra_per_s:.0f} spectra/s) to {summary.out}{resumed}")
    if summary.remade:
        print(remade_line(summary.remade))
    if summary.recomputed:
        print(recomputed_line(summary.recomputed))
    if summary.damaged:
        print(damaged_line(summary.damaged))
    if summary.rewritten:
        print(rewritten_line(summary.rewritten))
    if summary.swept:
        print(f"removed {summary.swept} temporary file{'' if summary.swept == 1 else 's'} "
              "that zarr left in the store (a run stopped while it wrote them)")
    if summary.threads_before:
        was = " and ".join(str(t) for t in summary.threads_before)
        print(f"note: the store's earlier tiles were computed with {was} torch thread"
              f"{'' if was == '1' else 's'}, this run's with {summary.threads}: their "
              "probabilities differ in about the 7th digit (float32 sums in another order); "
              f"give --threads {summary.threads_before[0]} to repeat them")
    if summary.peak_rss_mb:  # run in this process (no --workers): one number, no worker
        one = list(summary.peak_rss_mb) == ["this process"]
        print(("peak memory: " if one else "peak memory per worker: ") + ", ".join(
            f"{v:.0f} MiB" for v in summary.peak_rss_mb.values()))
    no_reject = bool(getattr(args, "no_reject", False))
    meta = _store_meta(summary.out)  # the store's record, read once for the lines below
    novelty = meta.get("novelty") or {}
    if job.kind == "predict":  # as a CSV run prints it
        print(_predicted_counts(summary, list(meta["class_names"]), reject=not no_reject))
    if job.kind == "predict" and (same := count_trained(summary.out)) is not None \
            and same[0]:
        print(trained_note(*same, what="pixels"))
    # the cube's pixels without a spectrum (never measured) apart from those refused
    gone = min(_cube_missing(meta), summary.n_refused)
    if gone:
        print(f"missing: {gone}/{summary.n_pixels} pixels hold no spectrum in the cube (never "
              "measured; 'predicted' -1, drawn as no spectrum)")
    if summary.n_refused - gone:
        first = _first_refused(job, summary)
        shown = "" if first is None else (
            "the first: " + ", ".join(first[0])
            + (" ..." if summary.n_refused - gone > len(first[0]) else "") + "; ")
        print(f"not predicted: {summary.n_refused - gone}/{summary.n_pixels} pixels refused "
              "by the model's recipe (flat or empty spectra) or whose probabilities are not "
              f"finite ({shown}'predicted' -1, probabilities NaN, drawn as not predicted)"
              + ("" if first is None else f". First reason: {first[1]}"))
    if summary.n_unknown is None:
        print("note: the model has no novelty score (trained with --novelty none or by an "
              "older ramancam), so no pixel is flagged unknown")
    elif not _has_threshold(novelty):  # as predict on a table says it
        print("unknown: none can be flagged: the model has no novelty threshold (too few "
              "held-out spectra in training); the store's novelty_p array still ranks the "
              "pixels (novelty_p <= X: those a rate X would flag)")
    else:
        rate = novelty.get("rate")
        what = f"threshold for {rate:.0%} false alarms; " if isinstance(rate, float) else ""
        kept = "; --no-reject: classes.png shows the nearest class" if no_reject else ""
        print(f"unknown: {summary.n_unknown}/{summary.n_pixels - summary.n_refused} pixels "
              f"flagged ({what}array "
              f"'unknown'{kept})")
    if summary.n_library_agree is not None:
        print(f"library search (the most similar training spectrum, array 'library_match') "
              f"names the network's nearest class (flagged pixels too) for "
              f"{summary.n_library_agree}/"
              f"{summary.n_pixels - summary.n_refused} pixels")
    if summary.set_sizes is not None:
        set_rate = novelty.get("rate") or 0.05
        print(f"prediction sets ({1 - float(set_rate):.0%}, array 'prediction_set'): "
              f"{summary.set_sizes[0]} pixels with one class, {summary.set_sizes[1]} with more")
    if summary.band_shifts is not None:
        from ..checks import shift_note

        if note := shift_note(summary.band_shifts,
                              offset_fix=cached_bundle(job.model).recipe is not None):
            print(f"{note} (array 'band_shift')")
    if job.kind == "predict":  # as predict on the map read into memory notes them
        for note in _map_notes(job, str(args.data), summary):
            print(note)
    agree = agreement_details(summary.out, job.cube)
    said = []  # for the page, as the map in memory's has predict's lines
    if agree is not None and agree[0][1]:
        from ._notes import unknown_labels_note

        said.append(agreement_line(agree[0]))
        if (note := unknown_labels_note(agree[1])) is not None:
            said.append(note)
        for line in said:
            print(line)
    page = getattr(args, "report", None)
    to_dir = Path(args.out).suffix.lower() != ".zarr"  # --out DIR: the images beside the store
    if not (to_dir or page):
        return 0
    # --report with --out NAME.zarr: the images are drawn into a folder beside the page, for
    # it; --out DIR: they and the page replace the earlier run's together (an interrupted run
    # left this run's classes.png beside the earlier run's proba images and page), and the
    # lines that say so come once they are in place (say_line)
    from ..io._atomic import atomic_group
    from ._outputs import say_line

    with (contextlib.nullcontext(args.out) if to_dir or not page
          else _beside(page)) as folder, atomic_group():
        written = write_images(folder, summary.out, reject=not no_reject, model=job.model,
                               bands=getattr(args, "bands", None),
                               progress=_progress(" read for the band images"),
                               lines=said)
        if written and to_dir:
            pngs = [p for p in written[:-1] if p.suffix == ".png"]
            names = [f"{len(pngs)} images ({pngs[0].name}, {pngs[1].name}, ...)",
                     *(p.name for p in written[:-1] if p.suffix != ".png")]
            say_line(f"wrote {', '.join(names)} and {written[-1].name} to {args.out}",
                     wrote=True)
            if drawn := _drawn_note(written, summary):
                say_line(drawn)
        elif to_dir and not written:  # said with --report only, before
            say_line(f"no images or report in {args.out}: the map has more than "
                     f"{tiled.IMAGE_LIMIT} pixels to draw (the results are in the store)")
        if to_dir and (old := [n for n in ("predictions.csv", "maps.csv")
                               if (Path(args.out) / n).exists()]):
            say_line(f"note: {args.out} still holds {' and '.join(old)} of an earlier run on "
                     "spectra in memory; this run's results are in the store")
        if page and written:  # the same page, copied whole
            from ..io import atomic_write
            from ..io._atomic import pending_path

            with atomic_write(page, "wb") as f:
                f.write(pending_path(written[-1]).read_bytes())
            say_line(f"wrote the report {page}", wrote=True)
        elif page:
            say_line(f"no report: the map has more than {tiled.IMAGE_LIMIT} pixels to draw")
    return 0


@contextlib.contextmanager
def _beside(page: str) -> Iterator[str]:
    """A hidden folder beside the page ``page`` (``--report`` with ``--out NAME.zarr``) to
    draw its images into, removed after (a killed run's by the next run): drawn in TMPDIR,
    a full /tmp failed the run, naming a hidden temporary image, though the page's disk had
    room."""
    from ..io._atomic import sweep_leftovers, temp_prefix

    where = Path(page).resolve()  # a link: beside the file it points to, which is written
    sweep_leftovers(where.parent, where.name)
    with tempfile.TemporaryDirectory(dir=where.parent, prefix=temp_prefix(where.name),
                                     suffix=".images") as folder:
        yield folder


def cli_predict(args: argparse.Namespace) -> int:
    """``ramancam predict`` on a Zarr cube."""
    out = _store_path(args, "predictions")
    return _cli(args, MapJob("predict", args.model, args.data, str(out), bf16=args.bf16,
                             threads=args.threads or 1,
                             axis_offset=float(args.axis_offset or 0.0)))


def cli_explain(args: argparse.Namespace) -> int:
    """``ramancam explain`` on a Zarr cube."""
    if getattr(args, "plot", None) is not None:
        raise RamancamError(
            f"--plot must not be given for a Zarr cube; got {args.plot!r}. Drop --plot (the "
            "maps are in the output store; --report FILE.html draws the map's page).")
    if args.target == "true":
        from ..explain import check_target

        check_target(args.target, cached_bundle(args.model).classes)  # the class 'true'?
        raise RamancamError("--target must be predicted, all or a class name for a Zarr cube; "
                            "got 'true'.")
    if getattr(args, "bands", None):  # checked before any work, drawn from the store
        from ..maps.outputs import check_bands, parse_bands

        if Path(args.out or "").suffix.lower() == ".zarr" and not args.report:
            raise RamancamError(
                f"--bands must come with --out DIR or --report FILE.html for a Zarr cube; got "
                f"--out {args.out!r}, where no image is drawn. Give a folder or a report.")
        args.bands = parse_bands(args.bands)
        check_bands(args.bands, np.asarray(cached_bundle(args.model).grid, dtype=np.float64))
    out = _store_path(args, "explain")
    return _cli(args, MapJob("explain", args.model, args.data, str(out), method=args.method,
                             target=args.target, score=args.score, normalize=args.normalize,
                             fc_form=args.fc_form, threads=getattr(args, "threads", None) or 1,
                             axis_offset=float(args.axis_offset or 0.0)))


def _drawn_note(written: list[Path], summary: Any) -> str | None:
    """The note when the images drew fewer classes than the store holds, from the run's
    pixels per class (the store's 'predicted' array was read whole again for it)."""
    from ..maps.outputs import drawn_note

    every = summary.class_pixels[0]
    # the classes with pixels, once each: all drawn_note counts of a map's classes
    return drawn_note(written, len(every), np.flatnonzero(every), "the store's proba array")


def _map_notes(job: MapJob, name: str, summary: Any) -> list[str]:
    """``predict``'s notes on the spectra of the cube (named ``name``): on its axis, then on
    the raw spectra of the pixels the tiles' checks found (clipped, values no detector
    counts, cosmic-ray spikes), as the map read into memory gets them."""
    from ..io.zarr_cube import need_zarr, open_cube
    from ..maps.notes import axis_notes, checked_pixels
    from ._notes import intensity_notes

    bundle = cached_bundle(job.model)
    cube = open_cube(job.cube)
    notes = axis_notes(cube, bundle, job.axis_offset, name)
    store = need_zarr().open_group(str(summary.out), mode="r")
    if (found := checked_pixels(store, cube, bundle.grid, job.axis_offset)) is not None:
        data, flagged = found
        notes += intensity_notes(data, data.ids, bundle.grid, flagged, bundle.recipe,
                                 summary.n_unknown or 0)
    return notes
