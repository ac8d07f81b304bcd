"""``ramancam explain``: explanation maps of a saved model for the spectra in a file."""

from __future__ import annotations

import argparse
from typing import Any

from ..provenance import model_sha256
from ._common import add_data_arguments
from ._scale import add_arguments as add_scale_arguments
from ._stdin import shown_as

NAME = "explain"
HELP = "maps of the bands that drove each decision (FC-importance, Grad-CAM, captum)"
DESCRIPTION = """\
Apply the model's saved preprocessing and compute one explanation map per spectrum (or per
spectrum and class with --target all), on the model's grid.

methods: ig-bands (the default: integrated gradients, captum, from the same spectrum with
its Raman bands stripped by SNIP, 20 cm-1 half window: each grid point's signed share of
what the bands add to the class score, at full input resolution; the map that passes the
deletion test on 9 of the 10 real-data rows, docs/realdata.md; 32 passes a spectrum), fc
(the paper's FC-importance map, Eqs. 8-9, signed: positive bands support the class,
negative ones argue against it; one pass, at the last pooling layer; in its "contribution"
form, Eq. 9 without its per-spectrum factor sum(A), which can be negative and would then
flip the whole map: --fc-form eq9 gives Eq. 9 as written; the default for Zarr cubes and
--workers runs, where ig-bands would cost about 10x the time), gradcam (Grad-CAM at the
last pooling layer, Eqs. 6-7), and for comparison captum's ig (from zero), saliency (signed
input gradient) and occlusion.

The maps are written as a wide CSV table that 'ramancam' reads back like any spectra file:
columns id, target, method, then one column per grid point (header = Raman shift). Values
are raw (not normalised) unless --normalize maxabs. --plot draws the first --max-plots maps
with their spectra (red = supports, blue = argues against); --out DIR (an existing folder
or a name ending in '/') writes maps.csv and that figure, maps.png, into DIR. Spectra are
explained in chunks, so that work needs little memory beyond the spectra read; the file
itself is read whole (a map larger than memory: convert it to a Zarr cube first,
docs/scale.md). With more than one chunk, progress (spectra done, seconds) goes to stderr
every 10 s. A spectrum the model's recipe
refuses (flat or empty, e.g. a dead pixel; a file that does not cover the model's range,
among others that do) gets no row and, on a map, a pixel 'not predicted', as predict
draws it; a 'not explained:' line names it, and the run goes on. When the spectra's bands sit 1.5
cm-1 or more off the model's training spectra (another instrument's calibration), the
'axis:' line of 'ramancam predict' says so: the maps then mark the bands where they were
measured, and --axis-offset moves them back.

Maps: when DATA carries pixel positions (x/y), the CSV gets x and y columns after 'method',
and with --out DIR (an existing folder, a name ending in '/', or a name without a suffix)
the folder gets maps.csv, the class images of 'ramancam predict' (unknown pixels marked,
novelty_p.png and set_size.png included; flagged pixels are explained for their nearest
class all the same), band images (the
preprocessed intensity and the map value at each --bands shift across the image; default:
the 3 shifts with the largest mean |map|), class_means.csv and class_means.png (the mean
spectrum and mean map of the pixels predicted as each class; the figure draws the 12 with the
most pixels) and report.html (all of it,
and the pixels to check, each drawn with its map; docs/maps.md). The whole map's maps are
then held in memory (4 bytes x pixels x grid points); a Zarr cube (ramancam convert MAP
NAME.zarr) is explained tile by tile and gets the same files (docs/scale.md).

examples:
  ramancam explain model.ramancam test.csv --out maps.csv --plot maps.png
  ramancam explain model.ramancam map.csv --out map-explained/ --bands 1001,1450
  ramancam explain model.ramancam test.csv --label-col label --target true --method gradcam
  ramancam explain model.ramancam mix.csv --target all --score prob --out all-maps.csv
"""

#: Spectra preprocessed and explained at a time (memory is bounded by this, not the data).
CHUNK = 512
METHOD_CHOICES = ("fc", "gradcam", "ig", "ig-bands", "saliency", "occlusion")
#: The map explain draws without --method (since 2026-12-05; fc before): the one that passes
#: the deletion test on the real sets (docs/realdata.md, docs/explain.md).
DEFAULT_METHOD = "ig-bands"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by 'ramancam train'")
    add_data_arguments(p, groups=False)  # no output uses groups
    g = p.add_argument_group("maps")
    g.add_argument("--method", choices=METHOD_CHOICES, default=None,
                   help="ig-bands (default; fc for Zarr cubes and --workers runs), fc, "
                        "gradcam, ig, saliency or occlusion")
    g.add_argument("--target", default="predicted", metavar="predicted|true|all|CLASS",
                   help="class each map explains: the predicted class (default), the true "
                        "class (needs labels), every class, or one named class (class:NAME "
                        "for a class named predicted, true or all)")
    g.add_argument("--score", choices=("logit", "prob"), default="logit",
                   help="class score differentiated: logit (default) or softmax probability")
    g.add_argument("--normalize", choices=("none", "maxabs"), default="none",
                   help="none (default: raw map values) or maxabs (each map divided by its "
                        "largest absolute value)")
    g.add_argument("--fc-form", choices=("contribution", "eq9"), default="contribution",
                   help="fc only: contribution (default; sum_k A dy/dA, the sign always "
                        "means 'raises the class score') or eq9 (Eq. 9 as written: the same "
                        "map times sum(A), whose sign can flip it)")
    o = p.add_argument_group("output")
    o.add_argument("--out", metavar="FILE|DIR",
                   help="maps CSV to write (.gz compresses; default: print to stdout, or, "
                        "with --plot or --report, no table); for a map, a folder for "
                        "maps.csv, images and report.html")
    o.add_argument("--bands", metavar="SHIFT[,SHIFT...]",
                   help="maps with --out DIR (a Zarr cube: --out DIR or --report): Raman "
                        "shifts (cm-1) of the band images (default: the 3 with the largest "
                        "mean |map|)")
    o.add_argument("--plot", metavar="FILE",
                   help="figure of the first maps with their spectra and the explained "
                        "class's mean training spectrum (.png, .pdf or .svg)")
    o.add_argument("--report", metavar="FILE.html",
                   help="a self-contained HTML report of the first --max-plots maps: each "
                        "spectrum with its map and its class's mean training spectrum, "
                        "the bands (cm-1) that support and argue against the class, the "
                        "prediction with its calibrated probability and, for models that "
                        "have one, the unknown flag; for a Zarr cube, the map's page that "
                        "--out DIR writes as report.html (class and band images, class "
                        "means, pixels to check)")
    o.add_argument("--max-plots", type=int, default=6, metavar="N",
                   help="maps drawn by --plot and --report (default 6)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch and BLAS (numpy, scikit-learn) (default: their "
                        "choice; with --workers, "
                        "each worker's, default 1; at most 4 per core in all)")
    add_scale_arguments(p)


def _check_args(args: argparse.Namespace) -> None:
    from ..errors import RamancamError
    from ._outputs import (
        check_figure_path,
        check_not_inputs,
        check_parent_folder,
        check_report_path,
        check_table_out,
    )

    if args.max_plots < 1:
        raise RamancamError(f"--max-plots must be at least 1; got {args.max_plots}.")
    if args.fc_form != "contribution" and args.method != "fc":  # it was dropped silently
        raise RamancamError(
            f"--fc-form applies to --method fc only; got --method {args.method}. Drop "
            "--fc-form, or give --method fc.")
    check_figure_path("plot", args.plot)
    check_report_path(args.report)
    check_parent_folder("out", args.out)
    check_not_inputs(args, ("out", "plot", "report"),
                     folder_files={"out": ("maps.csv", "class_means.csv")})
    check_table_out(args.out, "The figure is --plot FILE.png, the page --report FILE.html.")


def _plot(path: str, grid: Any, shown: list[tuple[tuple[str, str], Any, Any, str, Any]],
          title: str) -> None:
    """The ``--plot`` figure: one panel per spectrum, with the explained class's mean
    training spectrum (and +- sd) where the model file holds it; each panel's title is its
    spectrum's id, cut as the ids of the figure are cut together (they stay apart), then the
    rest of its ``(id, rest)``."""
    import textwrap
    from pathlib import Path

    # a bare Figure (no pyplot state, no GUI backend): savefig renders with Agg
    from matplotlib.figure import Figure

    from .._labels import short_names
    from ..io import atomic_write
    from ..plot import spectrum_map

    fig = Figure(figsize=(8, 2.4 * len(shown) + 0.4), layout="constrained")
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    names = short_names([head[0] for head, *_ in shown])
    for ax, name, (head, spectrum, m, label, ref) in zip(axes, names, shown, strict=True):
        # long file names (RRUFF's run to 80 characters) wrap instead of leaving the panel
        spectrum_map(grid, spectrum, m, ax=ax, title=textwrap.fill(name + head[1], 90),
                     map_label=label,
                     reference=None if ref is None else ref[0],
                     reference_sd=None if ref is None else ref[1],
                     reference_label="class mean")
    # what the colours say, on the figure (the map's axis says only the method's name), in
    # the words of band_NN.png and the report
    fig.suptitle(f"{title} (red: supports the class, blue: argues against it)")
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=Path(path).suffix.lower().lstrip("."), dpi=110)


def _on_grid(kept: dict[str, list[Any]], usable: Any) -> dict[str, Any]:
    """The values kept per map pixel (``kept``: one list of chunks each), one row per
    spectrum of DATA (``usable``: those the recipe did not refuse): a refused spectrum's row
    is empty (NaN, no class, no prediction set, no library match) and flagged, so that the
    images and the report show it as not predicted, as predict's do (it was left off the
    grid, and counted missing). ``None`` for a value the model does not give."""
    import numpy as np

    fills = {"unknown": True, "sets": False, "match": -1}
    out: dict[str, Any] = {}
    for name, parts in kept.items():
        if not parts or any(p is None for p in parts):
            out[name] = None
            continue
        a = np.concatenate(parts)
        full = np.full((usable.size, *a.shape[1:]), fills.get(name, np.nan), dtype=a.dtype)
        full[usable] = a
        out[name] = full
    return out


def _pixels_to_check(map_grid: Any, kept: dict[str, Any], classes: list[str],
                     bundle: Any, args: argparse.Namespace, ids: Any) -> Any:
    """The page's "Pixels to check" (``predict``'s section for a map), each drawn with its
    map, from the pixels kept in memory (:func:`_on_grid`: rows in the order of
    ``map_grid``, refused ones empty). The probabilities are calibrated, as predict's, the
    page's images and a Zarr explain store hold them."""
    import numpy as np

    from ..predict_report import map_class_of, pixels_to_check

    g = map_grid
    n = g.n_spectra
    row_of = g.to_image(np.arange(n), fill=-1).ravel()
    X, maps, proba = kept["X"], kept["maps"], kept["proba"]
    ok = np.isfinite(proba).all(axis=1)  # not refused: a class
    pred = np.where(ok, np.nan_to_num(proba, nan=-np.inf).argmax(axis=1), -1)

    def image(name: str, fill: Any) -> Any:
        return None if kept[name] is None else g.to_image(kept[name], fill=fill)

    flagged = image("unknown", False) if bundle.novelty is not None else None
    return pixels_to_check(
        g.to_image(pred, fill=-1), g.to_image(proba, fill=np.nan), classes,
        *g.coordinates(),
        sets=image("sets", False), flagged=flagged, match=image("match", -1),
        novelty_p=image("novelty_p", np.nan), reject=True,
        spectra=lambda flat: (X[row_of[flat]], np.ones(len(flat), dtype=bool)),
        grid=bundle.grid, reference=bundle.class_reference,
        maps=lambda flat: maps[row_of[flat]], method=args.method,
        map_class=map_class_of(args.target),
        ids=g.to_image(np.asarray(ids, dtype=object), fill=""))


def _pixel_lines(kept: dict[str, list[Any]], bundle: Any) -> list[str]:
    """The lines a Zarr explain run prints on its pixels (``unknown:``, the library search,
    the prediction sets; ``ramancam.cli._scale``), from the pixels kept in memory (those
    the recipe could use): a map explained in memory said none of them."""
    import numpy as np

    proba = np.concatenate(kept["proba"])
    n = len(proba)
    rate = float(bundle.info.get("novelty", {}).get("rate", 0.05))
    if bundle.novelty is None:
        lines = ["note: the model has no novelty score (trained with --novelty none or by an "
                 "older ramancam), so no pixel is flagged unknown"]
    elif not np.isfinite(bundle.threshold):
        lines = ["unknown: none can be flagged: the model has no novelty threshold (too few "
                 "held-out spectra in training); novelty_p.png still ranks the pixels"]
    else:
        lines = [f"unknown: {int(np.concatenate(kept['unknown']).sum())}/{n} pixels flagged "
                 f"(threshold for {rate:.0%} false alarms; explained for their nearest "
                 "class)"]
    if kept["match"] and all(m is not None for m in kept["match"]):
        agree = int((np.concatenate(kept["match"]) == proba.argmax(axis=1)).sum())
        lines.append("library search (the most similar training spectrum) names the "
                     f"network's nearest class (flagged pixels too) for {agree}/{n} pixels")
    if kept["sets"] and all(s is not None for s in kept["sets"]):
        size = np.concatenate(kept["set_size"])
        lines.append(f"prediction sets ({1 - rate:.0%}): {int((size == 1).sum())} pixels "
                     f"with one class, {int((size > 1).sum())} with more")
    return lines


def _bands_text(bands: list[tuple[float, float]]) -> str:
    return ", ".join(f"{b:.0f} ({v:+.2f})" for b, v in bands) or "none"


def _figure_text(e: dict[str, Any], info: dict[str, Any], label: str, grid: Any, unit: str,
                 plus: list[tuple[float, float]], reference: bool) -> str:
    """A report image's caption and alternative text: what it shows, for a screen reader
    as for the eye (the spectrum's id alone read "0")."""
    where = ("" if e.get("place") is None else
             f" (spectrum {e['place'] + 1} of {info['spectra in the data']} in {info['data']})")
    said = (f"predicted unknown (nearest class {e['predicted']}, probability {e['p']:.3f})"
            if e["unknown"] else f"predicted {e['predicted']} with probability {e['p']:.3f}")
    lo, hi = float(min(grid[0], grid[-1])), float(max(grid[0], grid[-1]))
    span = (f"channels {lo:g} to {hi:g}" if unit == "channel" else f"{lo:g} to {hi:g} {unit}")
    return (f"{label} map of spectrum {e['id']}{where} for class {e['target']}, over {span}: "
            f"{said}" + (f", true class {e['true']}" if e["true"] else "")
            + ". The preprocessed spectrum"
            + (", the class's mean training spectrum (dashed, +- sd)" if reference else "")
            + " and the map (red supports the class, blue argues against it"
            + (f"; strongest support at {plus[0][0]:.0f} {unit}" if plus else "") + ").")


def _write_report(path: str, grid: Any, entries: list[dict[str, Any]],
                  info: dict[str, Any], counts: dict[str, int], n_unknown: int | None,
                  bundle: Any) -> Any:
    """The ``--report`` HTML file: a summary, then each spectrum with its map and bands,
    beside the explained class's mean training spectrum where the model file holds it."""
    from matplotlib.figure import Figure as MplFigure

    from .._channels import is_channel_grid
    from .._labels import short_names
    from ..explain import top_bands
    from ..plot import figure_png, spectrum_map
    from ..report import Figure, Section, Table, write_report

    summary: list[Any] = [info, Table(["predicted class", "spectra"],
                                      [[k, v] for k, v in sorted(counts.items())],
                                      caption="Predictions of every spectrum explained.")]
    if n_unknown is not None:
        summary.append(f"{n_unknown} of {sum(counts.values())} spectra are flagged unknown "
                       "(unlike every training spectrum: the model's novelty threshold); "
                       "they are explained for their nearest class.")
    summary.append(
        "Each map is signed: red bands raise the explained class's score, blue ones lower "
        "it. The band lists give the map's strongest peaks (at least 10 cm-1 apart) with "
        "their value relative to the largest |map| value of the spectrum. "
        + ("The grey dashed line is the explained class's mean training spectrum (shaded: "
           "+- one standard deviation), preprocessed like the spectrum."
           if bundle.references is not None else
           "This model file holds no class reference spectra (saved before 2026-12-04); "
           "retrain to draw them."))
    sections = [Section("Summary", summary)]
    # a simulated set's channels 0, 1, ... are no Raman shifts (the figure says "channel")
    said = getattr(bundle, "info", None) or {}
    unit = "channel" if is_channel_grid(grid, said.get("settings") or {}, (
        said.get("training_data") or {}).get("axis_range")) else "cm-1"
    # the legend's class cut as every figure cuts it (a 60-character RRUFF name ran its
    # "mean of ... +- sd" off the canvas and squeezed the plot to a third of the width),
    # apart from the model's other classes
    classes = [str(c) for c in bundle.classes]
    shown = dict(zip(classes, short_names(classes), strict=True))
    for e in entries:
        fig = MplFigure(figsize=(8, 2.8), layout="constrained")
        label = {"fc": "FC importance"}.get(info["method"], info["method"])
        ref = bundle.class_reference(e["target"])
        spectrum_map(grid, e["x"], e["map"], ax=fig.subplots(), map_label=label,
                     reference=None if ref is None else ref[0],
                     reference_sd=None if ref is None else ref[1],
                     reference_label=f"mean of {shown[e['target']]}")
        plus = top_bands(grid, e["map"], sign=1)
        minus = top_bands(grid, e["map"], sign=-1, k=3)
        said = (f"Predicted unknown (nearest class {e['predicted']}, probability "
                f"{e['p']:.3f})" if e["unknown"] else
                f"Predicted {e['predicted']} with probability {e['p']:.3f}")
        lines = [f"Map for {e['target']}. {said}"
                 + (f"; true class {e['true']}" if e["true"] else "")
                 + ("" if e["unknown"] is None else
                    f"; novelty {e['novelty']:.4g}"
                    + ("" if e["novelty_p"] is None else
                       f" (p = {e['novelty_p']:.3g}: the share of held-out known spectra "
                       "scoring as high)")
                    + ": "
                    + ("flagged (above the threshold)" if e["unknown"] else "known"))
                 + ("" if e["match"] is None else
                    f"; library search (most similar training spectrum): {e['match']}")
                 + ("" if e["set"] is None else
                    f"; {e['set'][0]} prediction set: {' | '.join(e['set'][1:])}"
                    + (" (several classes fit: --target all maps each)"
                       if len(e["set"]) > 2 else ""))
                 + ".",
                 f"Supporting bands ({unit}): {_bands_text(plus)}. Arguing against: "
                 f"{_bands_text(minus)}."]
        sections.append(Section(
            f"Spectrum {e['id']}" + (f": map for {e['target']}" if info.get("target") == "all"
                                     else ""),
            [*lines, Figure(figure_png(fig), _figure_text(e, info, label, grid, unit, plus,
                                                          ref is not None))],
            level=3))
    return write_report(path, "ramancam explain", sections)


def run(args: argparse.Namespace) -> int:
    from . import _scale as scale

    return scale.outputs_together(_run, args)


def _run(args: argparse.Namespace) -> int:
    import sys
    from contextlib import nullcontext

    import numpy as np

    from .._csvout import csv_writer
    from .._labels import short_names
    from ..bundle import drop_not_finite, load
    from ..checks import shift_note
    from ..conformal import set_members
    from ..errors import RamancamError
    from ..explain import (
        TARGET_WORDS,
        check_target,
        explain,
        method_options,
        predict_proba,
        target_class,
    )
    from ..io import atomic_write, gz_name
    from ..maps.grid import grid_of, has_positions
    from ..maps.outputs import (
        check_bands,
        check_other_run,
        drawn_note,
        no_positions_note,
        out_dir_of,
        parse_bands,
    )
    from ..novelty import UNKNOWN
    from . import _scale as scale
    from ._common import (
        prepare_chunk,
        read_data,
        refused_line,
        stop_if_all_refused,
    )
    from ._outputs import HeldScreen, make_out_folder, say_line, stale_page
    from ._progress import chunk_progress
    from ._streams import on_terminal

    if args.method is None:  # ig-bands' 32 passes a spectrum are too slow for huge maps
        args.method = "fc" if scale.wanted(args) else DEFAULT_METHOD
    from ..spectra import composed_names

    args.target = composed_names([args.target])[0]  # as the model's class names are read
    _check_args(args)
    from .train import set_threads

    set_threads(args.threads, getattr(args, "workers", None))
    if scale.wanted(args):  # a Zarr cube, or Dask workers: tile by tile (docs/scale.md)
        return scale.cli_explain(args)
    bands = parse_bands(args.bands)
    bundle = load(args.model)
    data = read_data(args)
    xy = has_positions(data)
    out_dir = out_dir_of(args.out, xy, create=False)
    check_other_run(out_dir, "explain")
    map_grid = grid_of(data) if out_dir is not None and xy else None
    # a folder for spectra without positions gets the --plot figure, unless one is named
    plot_path = args.plot or (str(out_dir / "maps.png") if out_dir is not None and not xy
                              else None)
    if bands is not None and map_grid is None:
        raise RamancamError(
            "--bands must come with a map and --out DIR; got "
            + ("DATA without pixel positions (x/y). Name them with --xy-cols X,Y."
               if not xy else "no --out. Give --out DIR (a folder)." if args.out is None
               else f"--out {args.out!r}, a file. Give a folder."))
    classes = [str(c) for c in bundle.classes]
    check_target(args.target, classes)  # 'true', 'all': the word or the class of that name?
    if args.target == "true" and data.labels is None:
        raise RamancamError(
            "--target true needs labels; got DATA without labels. Give --label-col or "
            "--labels-from, or use --target predicted.")
    if args.target == "true":  # all of them before any row is written (stdout too)
        unknown = sorted(set(data.labels.tolist()) - set(classes))  # type: ignore[union-attr]
        if "" in unknown:
            raise RamancamError(
                "labels must be given for --target true; got spectra with an empty "
                "label (unlabelled). Use --target predicted, or leave them out.")
        if unknown:
            raise RamancamError(
                f"labels must be classes of the model ({', '.join(classes)}) for "
                f"--target true; got {unknown[0]!r}. Use --target predicted.")
    if args.target not in TARGET_WORDS and target_class(args.target, classes) is None:
        raise RamancamError(
            f"--target must be predicted, true, all or one of the model's classes "
            f"({', '.join(classes)}); got {args.target!r}.")
    ids = data.ids
    grid = np.asarray(bundle.grid, dtype=np.float64)
    if bands is not None:
        check_bands(bands, grid)
    model = bundle.model
    bundle.check_coverage(data, some=True)  # before any row: the rest one by one
    if out_dir is not None:  # once the checks have passed: no empty folder left
        make_out_folder(out_dir)  # removed again if the run fails while it is empty
    n_rows = 0
    shown: list[tuple[tuple[str, str], Any, Any, str, Any]] = []
    # the classes as the figure's titles name them: apart, when long names differ in their
    # middle ("predicted X, true X" for a real error)
    labels = dict(zip(classes, short_names(classes), strict=True))

    def label(name: str) -> str:
        return labels.get(name) or short_names([*classes, name])[-1]
    out_path = str(out_dir / "maps.csv") if out_dir is not None else args.out
    # without --out the table goes to stdout, unless a figure or report is what was asked for
    table = bool(out_path) or not (args.report or args.plot)
    screen = HeldScreen() if table and not out_path else None  # once a spectrum is explained
    ctx = (atomic_write(out_path, "w", gzip=gz_name(out_path), newline="") if out_path
           else nullcontext(screen))
    # per map pixel: spectrum, map, probabilities, unknown flag, novelty p-value, set size
    kept: dict[str, list[Any]] = {"X": [], "maps": [], "proba": [], "unknown": [],
                                  "novelty_p": [], "set_size": [], "sets": [], "match": [],
                                  "band_shift": []}
    entries: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    n_unknown: int | None = None
    refused: list[tuple[str, str]] = []  # (id, the recipe's message) of spectra not explained
    overflowed: list[tuple[str, str]] = []  # (id, why) of those whose probabilities are NaN
    all_usable = np.ones(len(data), dtype=bool)
    shifts: list[Any] = []  # band shifts against the class means (checks.band_shift)
    n_zero = 0  # maps zero at every point: they explain nothing
    with ctx as fh:
        w = (csv_writer(fh, escape_breaks=screen is not None and on_terminal(sys.stdout))
             if fh is not None else None)
        if w is not None:
            w.writerow(["id", "target", "method", *(["x", "y"] if xy else []),
                        *(repr(float(v)) for v in grid)])
        progress = chunk_progress(len(data), CHUNK)
        for start in range(0, len(data), CHUNK):
            part = data[start:start + CHUNK]
            # spectra the recipe refuses (flat, empty) get no map; the rest are explained
            X, usable = prepare_chunk(bundle, part, ids, start, refused)
            proba = None
            if usable.any():
                # NaN probabilities (a float32 pass overflowed: intensities near 1e38 and no
                # recipe) read class 0 by argmax, and their maps reach 1e34: not explained,
                # as predict leaves them unpredicted
                X, usable, (proba,) = drop_not_finite(
                    X, usable, (predict_proba(model, X),), ids[start:start + len(part)],
                    overflowed)
            rows = start + np.flatnonzero(usable)  # each explained spectrum's place in DATA
            if not usable.all():
                part = part[usable]
                all_usable[start:start + len(usable)] = usable
            if proba is None or not usable.any():
                progress(min(start + CHUNK, len(data)))
                continue
            y = None if part.labels is None else part.labels
            maps, targets = explain(model, X, method=args.method, target=args.target,
                                    score=args.score, y=y, class_names=classes,
                                    normalize=args.normalize,
                                    **method_options(args.method, grid, args.fc_form))
            per = maps.shape[0] // len(part)            # n_classes rows per spectrum for "all"
            n_zero += int((np.abs(maps).max(axis=1) == 0).sum()) if maps.size else 0
            match = None
            if args.report or map_grid is not None or plot_path:
                # calibrated probabilities (as predict's), the unknown flags, p-values and
                # prediction sets
                cal, nov, flag, match = bundle.predict_all(part, prepared=X)
                nov_p = bundle.novelty_p(nov)
                rate = float(bundle.info.get("novelty", {}).get("rate", 0.05))
                sets = bundle.prediction_sets(cal, rate)
                members = None if sets is None else set_members(sets, cal, classes)
            if args.report:  # flagged spectra count as unknown, as predict counts them
                for k, c in enumerate(cal.argmax(axis=1)):
                    name = UNKNOWN if flag is not None and flag[k] else classes[c]
                    counts[name] = counts.get(name, 0) + 1
                if flag is not None:
                    n_unknown = (n_unknown or 0) + int(flag.sum())
            # as predict's axis: line reads them (the report's library match, when it has one)
            sh = bundle.band_shift(None, prepared=X, proba=proba, match=match)
            if sh is not None:
                shifts.append(sh)
            if map_grid is not None:
                own = maps.reshape(len(part), per, -1)
                if per > 1:  # --target all: each pixel's map for its predicted class
                    own = own[np.arange(len(part)), proba.argmax(axis=1)]
                else:
                    own = own[:, 0]
                kept["X"].append(X.astype(np.float32))
                kept["band_shift"].append(np.full(len(X), np.nan) if sh is None
                                          else np.asarray(sh, dtype=np.float64))
                kept["maps"].append(own.astype(np.float32))
                kept["proba"].append(cal)
                kept["unknown"].append(np.zeros(len(part), bool) if flag is None else flag)
                kept["novelty_p"].append(np.full(len(part), np.nan) if nov_p is None
                                         else nov_p)
                kept["set_size"].append(np.full(len(part), np.nan) if sets is None
                                        else sets.sum(axis=1).astype(np.float64))
                # for the page's pixels to check, as predict's report lists them (the sets
                # from calibrated probabilities, as everywhere)
                kept["sets"].append(sets)
                kept["match"].append(None if match is None else np.array(
                    [classes.index(str(m)) for m in match], dtype=np.intp))
            for r in range(maps.shape[0]):
                i = r // per
                pos = ([repr(float(data.meta["x"][rows[i]])),
                        repr(float(data.meta["y"][rows[i]]))] if xy else [])
                if w is not None:  # no table: no rows formatted for nothing
                    w.writerow([ids[rows[i]], classes[targets[r]], args.method, *pos,
                                *(repr(float(v)) for v in maps[r])])
            # drawn (report, --plot): with --target all each spectrum's classes most probable
            # first (in class order the first panels could all be classes it is not)
            drawn: Any = (() if not (args.report or plot_path) else range(maps.shape[0])
                          if per == 1 else [i * per + int(c) for i in range(len(part))
                                            for c in np.argsort(-cal[i], kind="stable")])
            for r in drawn:
                if len(entries) >= args.max_plots and len(shown) >= args.max_plots:
                    break
                i = r // per
                if args.report and len(entries) < args.max_plots:
                    entries.append({
                        "id": ids[rows[i]], "place": int(rows[i]), "x": X[i], "map": maps[r],
                        "target": classes[targets[r]],
                        "predicted": classes[int(cal[i].argmax())],
                        "p": float(cal[i].max()),
                        "true": "" if y is None else str(y[i]),
                        "novelty": None if nov is None else float(nov[i]),
                        "novelty_p": None if nov_p is None else float(nov_p[i]),
                        "unknown": None if flag is None else bool(flag[i]),
                        "match": None if match is None else str(match[i]),
                        # "95%", then the set's classes, most probable first
                        "set": None if members is None else [f"{1 - rate:.0%}", *members[i]]})
                if plot_path and len(shown) < args.max_plots:
                    pred = label(classes[int(cal[i].argmax())])
                    if flag is not None and flag[i]:
                        pred = f"{UNKNOWN} (nearest {pred})"
                    # the id cut with the others drawn (_plot): cut alone, long ids that
                    # differ only in their middle read alike
                    head = (str(ids[rows[i]]), f": map for "
                            f"{label(classes[targets[r]])} "
                            f"(p={cal[i, targets[r]]:.3f}); "
                            f"predicted {pred}"
                            + ("" if y is None else f", true {label(str(y[i]))}"))
                    shown.append((head, X[i], maps[r], args.method,
                                  bundle.class_reference(classes[targets[r]])))
            n_rows += maps.shape[0]
            progress(min(start + CHUNK, len(data)))
            if screen is not None and (len(refused) + len(overflowed)
                                       < min(start + CHUNK, len(data))):
                screen.release()
        stop_if_all_refused(args.data, refused + overflowed, len(data),  # nothing written
                            by_recipe=len(refused))
    if plot_path and shown:
        _plot(plot_path, grid, shown, f"ramancam explain: {args.method} maps")
    report = sys.stdout if args.out else sys.stderr
    if args.out:
        say_line(f"wrote {n_rows} {args.method} maps ({args.target}) to {out_path}", report,
                 wrote=True)  # (held until the outputs are in place, as each 'wrote' line)
    elif not table:
        say_line(f"{n_rows} {args.method} maps ({args.target}) not written as a table: give "
                 "--out FILE.csv to keep them", report)
    if refused:
        say_line(refused_line(refused, "explained", "they have no rows"), report)
    if overflowed:
        say_line(refused_line(overflowed, "explained", "they have no rows",
                              who="whose probabilities are not finite"), report)
    if n_zero:
        say_line(zero_maps_note(n_zero, n_rows, args.method), report)
    if shifts and (shift := shift_note(np.concatenate(shifts),
                                       offset_fix=bundle.recipe is not None)):
        say_line(shift, report)
    if map_grid is not None and kept["proba"]:  # the pixels' lines a Zarr run prints
        for line in _pixel_lines(kept, bundle):
            say_line(line, report)
    if map_grid is not None and out_dir is not None:
        from ..maps.outputs import write_explain_outputs

        # refused pixels keep their place on the map's grid, not predicted (as predict
        # and a Zarr run show them; they were left off it and counted missing)
        whole = _on_grid(kept, all_usable)
        paths = write_explain_outputs(
            out_dir, map_grid, whole["X"], whole["maps"], grid, whole["proba"], classes,
            method=args.method, bands=bands,
            info={"data": shown_as(args.data), "model": str(args.model),
                  "model sha256": model_sha256(args.model), "method": args.method,
                  "target": args.target, "score": args.score},
            unknown=whole["unknown"], novelty_p=whole["novelty_p"],
            set_size=whole["set_size"], band_shift=whole["band_shift"], target=args.target,
            extra_section=_pixels_to_check(map_grid, whole, classes, bundle, args,
                                           np.asarray(ids, dtype=object)))
        say_line(f"map: {map_grid.text()}; wrote {', '.join(p.name for p in paths)} to "
                 f"{out_dir}", report, wrote=True)
        if drawn := drawn_note(paths, len(classes), whole["proba"],
                               "predict's predictions.csv"):
            say_line(drawn, report)
    if plot_path:
        say_line(f"wrote a figure of {len(shown)} maps to {plot_path}", report, wrote=True)
    if (stale := stale_page(out_dir, "maps.png", args.plot, not xy)) is not None:
        say_line(f"removed the earlier run's {stale} (this run's figure is {args.plot})",
                 report, wrote=True)
    note = (no_positions_note(args.data, len(data), data.meta) if out_dir is not None and not xy
            else None)
    if note:
        say_line(note, report)
    if args.report:
        info = {"data": shown_as(args.data), "model": str(args.model),
                "model sha256": model_sha256(args.model), "method": args.method,
                "target": args.target, "score": args.score,
                "spectra in the data": len(data),
                "spectra explained": len(data) - len(refused) - len(overflowed),
                **({"not explained (refused by the model's recipe)": len(refused)}
                   if refused else {}),
                **({"not explained (probabilities not finite)": len(overflowed)}
                   if overflowed else {}),
                "in this report": len(entries)}
        _write_report(args.report, grid, entries, info, counts, n_unknown, bundle)
        say_line(f"wrote a report of {len(entries)} maps to {args.report}", report,
                 wrote=True)
    return 0


def zero_maps_note(n_zero: int, n_rows: int, method: str) -> str:
    """The line printed when ``n_zero`` of the ``n_rows`` maps are zero at every point."""
    why = ("Grad-CAM keeps only the evidence that raises the class score (its ReLU), and "
           "these spectra had none on the last layer" if method == "gradcam" else
           "the class score does not move with any point of these spectra")
    other = "fc or ig-bands" if method == "gradcam" else (
        "fc" if method == "ig-bands" else "ig-bands")
    return (f"note: {n_zero} of {n_rows} {method} maps are zero at every point: {why}; they "
            f"show no band. --method {other} explains them.")
