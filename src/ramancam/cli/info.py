"""``ramancam info``: what is in a spectra file or folder (counts, classes, axis, metadata)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import class_count, spectra_count
from ._common import (
    GROUPS_FROM_HELP,
    LABELS_FROM_HELP,
    add_reading_arguments,
    add_xy_argument,
    first_ids,
    label_like,
    left_out_text,
    span,
)
from ._info_model import commit_text, model_provenance, provenance_lines
from ._info_model import confusion_lines as _confusion_lines
from ._stdin import shown_as

NAME = "info"
HELP = "summarise a spectra file or folder, a model file, or the built-in example"
DESCRIPTION = """\
Print the file format(s), the number of spectra, the classes with their counts (and how many
spectra have no label), the groups, the spatial positions, the axis range and spacing, the
number of points (per file when the axes differ), whether the files share one axis, the metadata
columns and, for maps (x/y positions), the pixel grid: nx x ny, step, missing pixels.
Six checks add a line only when they find something: 'note:' an axis that looks like
absolute wavenumbers (above 4500 cm-1) or wavelengths in nm, not Raman shifts, 'flat:' names
spectra with one value
or a straight line throughout (normalising recipes refuse them), 'fill:' points at the ends of
the axis holding one value in every spectrum (padding, not measurement), 'values:' spectra holding
values no detector counts (beyond +-1e15: a misread file or a 'no data' sentinel), 'clipped:'
counts spectra whose maximum is held
over several points (at a 12- to 32-bit detector's limit in 2 or more points, or any value in
3 or more in a row: a saturated detector), with the Raman-shift range where it happens and
whether the default grid (350-1800 cm-1) includes it, and 'spikes:' names spectra with a
cosmic-ray spike (one or two points far above their neighbours), with a recipe that despikes.

Reads wide and long tables, two-column and RRUFF text, the text exports of Horiba LabSpec,
Ocean Insight and B&W Tek, Excel workbooks (.xlsx/.xls), MATLAB files (.mat), Galactic SPC
(.spc), Renishaw WiRE (.wdf), JCAMP-DX (.jdx/.dx/.jcamp), Bruker OPUS (.0, .1, ...), Andor SIF
(.sif) and Thermo OMNIC (.spa/.spg) files, and folders of any of them (docs/formats.md).

Without PATH (or with --example) it describes the built-in SYNTHETIC example table.

Given a Zarr map cube (NAME.zarr), it describes the cube without reading it whole: pixels,
tiles, axis, positions, the classes of its 'truth' array and its size on disk; given the result
store of a predict or explain run on a cube, the run: cube, model, tiles done, pixels per
predicted class, pixels flagged unknown and the arrays it holds.

Given a model file (written by 'ramancam train'), it describes the model instead: classes and
training spectra (and those train left out: unlabelled, flat, clipped), grid and
preprocessing recipe, network and training settings, the
cross-validated accuracy of the CNN and the baselines, the CNN's out-of-fold confusion
matrix, calibration and novelty threshold, and the software that wrote it. Nothing in the
file is executed: model files hold numbers and JSON only.

--plot FIG.png draws the classes one above the other: the first spectra of each class as
read, or, for a model file, each class's mean training spectrum with +- one sd.

examples:
  ramancam info --example
  ramancam info spectra.csv.gz --label-col label
  ramancam info rruff-folder --labels-from header:NAMES
  ramancam info amino-acids --labels-from 'regex:(.+)\\.txt'
  ramancam info bacteria-spc --labels-from 'regex:_(lag|log|stat)_' --groups-from 'regex:_(rep\\d)_'
  ramancam info saliva-pd-ad --label-col label
  ramancam info map.wdf
  ramancam info polystyrene.txt --standard polystyrene     # the axis error of an instrument
  ramancam info model.ramancam
  ramancam info map.zarr                                    # a cube, or results/predictions.zarr
  ramancam info rruff-folder --labels-from header:NAMES --plot classes.png
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a spectra file (wide CSV/TSV, .gz too, a long table of a row per point, "
                        "two-column text, RRUFF text, SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, Excel, "
                        "MATLAB; FILE:NAME for a sheet or a MATLAB matrix) or a folder of such "
                        "files, or a model file (.ramancam) to describe; '-': spectra from "
                        "standard input; omitted: the built-in example")
    add_reading_arguments(p)
    p.add_argument("--example", action="store_true",
                   help="describe the built-in synthetic example (3 classes x 4 spectra)")
    lab = p.add_argument_group("labels")
    g = lab.add_mutually_exclusive_group()
    g.add_argument("--label-col", metavar="C",
                   help="wide tables (a file or a folder of them): the column holding the "
                        "class label; empty cells are unlabelled spectra")
    g.add_argument("--labels-from", metavar="SPEC", help=LABELS_FROM_HELP)
    lab.add_argument("--groups-from", metavar="SPEC", help=GROUPS_FROM_HELP)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    from ..calibration import STANDARDS

    p.add_argument("--standard", metavar="NAME", choices=list(STANDARDS),
                   help=f"the spectra are a measured reference standard ({', '.join(STANDARDS)}"
                        "): find its bands, compare them with "
                        "their reference shifts (ASTM E1840; silicon 520.7 cm-1) and print "
                        "the axis offset to correct with --axis-offset (the mean spectrum is "
                        "used); with --plot, one panel per band instead of the classes")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the classes one above the other: for spectra, the first "
                        f"{PLOT_PER_CLASS} spectra of each class as read; for a model file, "
                        "each class's mean training spectrum (preprocessed) with +- one sd. "
                        f"At most {PLOT_MAX_CLASSES} classes are drawn (.png, .pdf or .svg)")
    add_xy_argument(p)


def _finite_or_none(v: float) -> float | None:
    import math

    return float(v) if math.isfinite(v) else None


PLOT_PER_CLASS = 5
PLOT_MAX_CLASSES = 20
#: ``--standard``: spectra checked one by one (a drift table) up to this many.
MAX_STANDARD_SPECTRA = 500


def _plot_classes(path: str, names: list[str], lines: list[Any], bands: list[Any] | None,
                  title: str) -> str:
    """Write the ``--plot`` figure (atomically); return the line ``info`` prints about it."""
    from matplotlib.figure import Figure

    from ..plot import class_stack

    n = len(names)
    keep = min(n, PLOT_MAX_CLASSES)
    fig = Figure(figsize=(8, 1.4 + 0.6 * keep), layout="constrained")
    class_stack(names[:keep], lines[:keep], bands=None if bands is None else bands[:keep],
                ax=fig.subplots(),
                title=title + ("" if keep == n else f" (the first {keep} of {n} classes)"))
    _save_plot(fig, path)
    return f"wrote a figure of {class_count(keep)} to {path}" + (
        "" if keep == n else f" (the first {keep} of {n})")


#: A --plot title longer than this puts the file's name on a line of its own (at 12 pt the
#: 8-inch figure holds about 90 characters; a longer one was cut at both ends).
PLOT_TITLE_LINE = 70


def _plot_title(shown: str, what: str) -> str:
    """A ``--plot`` title: the input's base name (the whole path of a deep folder ran off
    both ends of the figure), then ``what``, on a second line when both make a long one."""
    from pathlib import Path

    if shown.startswith("built-in example"):
        name = "built-in example (synthetic)"
    else:
        name = Path(shown).name or shown
    one = f"{name}: {what}"
    return one if len(one) <= PLOT_TITLE_LINE else f"{name}\n{what}"


def _plot_spectra(path: str, spectra: Any, shown: str) -> str:
    """``--plot`` for spectra: the first few of each class, on their own axes."""
    import numpy as np

    labels = (np.full(len(spectra), "unlabelled") if spectra.labels is None
              else np.where(spectra.labels == "", "unlabelled", spectra.labels))
    axes, ys = spectra.axes, spectra.intensities
    names = sorted(set(labels.tolist()))
    lines = [[(axes[i], ys[i]) for i in np.flatnonzero(labels == c)[:PLOT_PER_CLASS]]
             for c in names]
    return _plot_classes(path, names, lines, None,
                         _plot_title(shown,
                                     f"up to {PLOT_PER_CLASS} spectra per class, as read"))


def _save_plot(fig: Any, path: str) -> None:
    """Write a ``--plot`` figure atomically, in the format its suffix names."""
    from pathlib import Path

    from ..io import atomic_write

    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=Path(path).suffix.lower().lstrip("."), dpi=110)


def _plot_standard(path: str, check: Any, spectra: Any, shown: str) -> str:
    """``--plot`` with ``--standard``: each band of the mean spectrum, reference and found."""
    import numpy as np
    from matplotlib.figure import Figure

    from ..calibration import plot_check

    rows = (check.reference.size + 5) // 6
    fig = Figure(figsize=(9, 0.6 + 1.7 * rows), layout="constrained")
    plot_check(check, spectra.wavenumbers, np.asarray(spectra.X).mean(axis=0), fig,
               title=_plot_title(shown, f"{check.standard} bands, reference (dashed) and "
                                        "found (red; deviation in cm-1)"))
    _save_plot(fig, path)
    return f"wrote a figure of the {check.standard} bands to {path}"


def _plot_model(path: str, bundle: Any, shown: str) -> str:
    """``--plot`` for a model file: each class's mean training spectrum +- sd."""
    from ..errors import RamancamError

    if bundle.references is None:
        raise RamancamError(
            f"--plot needs the class mean spectra that model files keep since 2026-12-04; "
            f"got {shown}, saved without them. Retrain it with ramancam train, or drop "
            "--plot.")
    names = list(bundle.classes)
    refs = [bundle.class_reference(c) for c in names]
    lines = [[(bundle.grid, m)] for m, _ in refs]
    bands = [(bundle.grid, m - sd, m + sd) for m, sd in refs]
    return _plot_classes(path, names, lines, bands,
                         _plot_title(shown,
                                     "class means of the preprocessed training spectra +- sd"))


def _num(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.1f}"


def format_summary(path: str, d: dict[str, Any]) -> str:
    """The text ``ramancam info`` prints for a :func:`ramancam.io.describe` summary."""
    lines = [f"{path}"]
    formats = d.get("formats") or {}
    if formats:
        # beside other formats, each names its count: "SPC, text (2 files)" read as 2 in all
        lines.append("  format:    " + ", ".join(
            f"{k} ({v} file{'s' if v > 1 else ''})" if v > 1 or len(formats) > 1 else k
            for k, v in formats.items()))
    files = f" from {d['n_files']} files" if d["n_files"] > 1 else ""
    lines.append(f"  spectra:   {d['n_spectra']}{files}")
    classes = d["classes"]
    n_unlab = d.get("n_unlabelled", 0)
    if classes is None or (not classes and n_unlab):
        import shlex

        named = label_like(d.get("metadata") or [])
        hint = (f"; column '{named[0]}' may hold them: --label-col {shlex.quote(named[0])}"
                if named else "")
        lines.append(f"  classes:   none (unlabelled; give --label-col or --labels-from{hint})")
    else:
        from ._outputs import one_line

        shown = ", ".join(f"{one_line(k)} ({v})" for k, v in classes.items())
        lines.append(f"  classes:   {len(classes)}: {shown}")
    if classes is not None and n_unlab:
        lines.append(f"  labelled:  {d['n_spectra'] - n_unlab} of {d['n_spectra']}; {n_unlab} "
                     "with an empty label (train and baseline leave them out)")
    groups = d.get("groups")
    if groups:
        shown = ", ".join(list(groups)[:8]) + (", ..." if len(groups) > 8 else "")
        lines.append(f"  groups:    {len(groups)}: {shown}")
    pos = d.get("positions")
    if pos:
        lines.append("  positions: " + ", ".join(
            f"{k} {v[0]:.4g} to {v[1]:.4g}" for k, v in pos.items())
            + f" ({d.get('n_positioned', 0)} spectra with positions)")
    if d.get("laser_nm"):
        n_said = d.get("n_laser", d["n_spectra"])
        lines.append("  laser:     " + ", ".join(f"{v:g}" for v in d["laser_nm"]) + " nm"
                     + (f" ({n_said} of {d['n_spectra']} spectra say; the others do not)"
                        if n_said < d["n_spectra"] else ""))
    if d["n_spectra"]:
        unit = "channels" if d.get("channels") else "cm-1"
        lines.append(f"  axis:      {d['axis_min']:.1f} to {d['axis_max']:.1f} {unit}, "
                     f"{d['direction']}")
        spacing = "even" if d["even"] else "uneven"
        lines.append(f"  spacing:   min {_num(d['step_min'])}, median {_num(d['step_median'])}, "
                     f"max {_num(d['step_max'])} {unit} ({spacing})")
        if d["common_axis"]:
            lines.append(f"  points:    {d['points_min']}")
            lines.append("  axes:      one common axis")
        else:
            lines.append(f"  points:    {d['points_min']}" + (
                f" to {d['points_max']}" if d["points_max"] != d["points_min"] else "")
                + " per spectrum")
            lines.append(f"  axes:      differ between spectra ({d['n_axes']} distinct); resample "
                         "onto a common grid before training (the paper recipe does)")
    if note := d.get("axis_note"):
        lines.append(f"  note:      {note}")
    meta = d["metadata"]
    lines.append(f"  metadata:  {', '.join(meta) if meta else 'none'}")
    if "grid" in d:
        lines.append(f"  grid:      {_grid_text(d['grid'])}")
    if maps := d.get("maps"):
        lines.append(f"  maps:      {maps} maps written by explain (columns target, method): "
                     "attribution values, not spectra, so the checks on spectra (flat, "
                     "clipped, spikes) are left out")
    flat = d.get("flat")
    if flat:
        shown = first_ids(flat)
        lines.append(f"  flat:      {spectra_count(len(flat))} with one "
                     f"value or a straight line throughout ({shown}): normalising recipes "
                     "refuse such "
                     "spectra; train leaves them out, predict marks them unknown")
    if bad := d.get("implausible"):
        from ..checks import Implausible, implausible_line

        found = [Implausible(i, b["points"], b["value"], b["at"]) for i, b in enumerate(bad)]
        lines.append(str(implausible_line(found, [b["id"] for b in bad], "  values:    ",
                                          "check the files; train and predict use them as "
                                          "read")))
    if fill := d.get("fill"):
        lines.append(f"  fill:      {fill}")
    c = d.get("clipped")
    if c:
        from ..checks import DETECTOR_LIMITS

        vals = ", ".join(f"{v:g}" + (f" (a {DETECTOR_LIMITS[v]}-bit detector's limit)"
                                    if v in DETECTOR_LIMITS else "") for v in c["values"])
        where = ("inside the default grid (350-1800 cm-1): leave them out, or train on a "
                 "--grid that avoids it" if c["in_default_grid"] else
                 "outside the default grid (350-1800 cm-1), which never sees it"
                 + (f", but at the first or last point of {c['at_end']}, through which the "
                    "paper recipe's straight baseline runs (a pybaselines recipe, --recipe "
                    "asls, does not use it)" if c.get("at_end") else ""))
        lines.append(f"  clipped:   {spectra_count(c['n'])} held at "
                     f"{vals} over {span(c['points'][0], c['points'][1])} points, at "
                     f"{span(c['range'][0], c['range'][1], '.1f')} cm-1 (first: {c['first']}); "
                     + where)
    if sp := d.get("spikes"):
        lines.append(_spikes_text(sp))
    return "\n".join(lines)


def _spikes_text(sp: dict[str, Any]) -> str:
    """The ``spikes:`` line of :func:`format_summary`."""
    from ..checks import Spike, spike_line
    from ._notes import despike_advice

    found = [Spike(i, b["spikes"], b["at"], b["points"], b["height"])
             for i, b in enumerate(sp["spectra"])]
    g, n_in = sp.get("default_grid"), sp.get("in_default_grid", 0)
    if g is None:
        advice = "train and predict use them as read"
    elif not n_in:
        advice = (f"outside the default grid ({g[0]:g}-{g[1]:g} cm-1), which never sees "
                  f"{'it' if len(found) == 1 else 'them'}")
    else:
        from ..preprocess import baseline_recipe, paper_recipe

        grid = (g[0], g[1], g[2])
        recipe = (paper_recipe(grid=grid) if sp.get("default_baseline") == "paper"
                  else baseline_recipe("asls", grid=grid))
        advice = (f"{n_in} inside the default grid ({g[0]:g}-{g[1]:g} cm-1); train and predict "
                  "use them as read. " + despike_advice(recipe))
    return str(spike_line(found, [b["id"] for b in sp["spectra"]], "  spikes:    ",
                          advice=advice))


def _checks(spectra: Any) -> dict[str, Any]:
    """``flat``, ``clipped`` and ``spikes`` spectra (:mod:`ramancam.checks`) for the summary;
    nothing when there are none."""
    from ..checks import (
        absolute_axis_note,
        clipped_spectra,
        fill_ends,
        fill_note,
        flat_spectra,
        implausible_spectra,
        spiked_spectra,
        wavelength_axis_note,
    )
    from ..errors import RamancamError
    from ..preprocess.auto import PAPER_GRID, auto_grid

    ids = spectra.ids
    out: dict[str, Any] = {}
    # an axis of absolute wavenumbers or of wavelengths: train says so; info, read first, too
    if axis := (absolute_axis_note(spectra) or wavelength_axis_note(spectra)):
        out["axis_note"] = axis.removeprefix("note: ")
    if found := implausible_spectra(spectra):
        out["implausible"] = [{"id": ids[f.index], "points": f.n_points, "value": f.value,
                               "at": f.at} for f in found]
    flat = flat_spectra(spectra)
    if flat:
        out["flat"] = [ids[i] for i in flat]
    if fill := fill_note(fill_ends(spectra), ""):
        out["fill"] = fill
    clipped = clipped_spectra(spectra)
    if clipped:
        lo, hi = min(c.lo for c in clipped), max(c.hi for c in clipped)
        axes = spectra.axes
        out["clipped"] = {"n": len(clipped), "values": sorted({c.value for c in clipped}),
                          "points": [min(c.n_points for c in clipped),
                                     max(c.n_points for c in clipped)],
                          "range": [lo, hi], "first": ids[clipped[0].index],
                          "in_default_grid": bool(hi >= PAPER_GRID[0] and lo <= PAPER_GRID[1]),
                          # clipped at a first or last point: the paper's baseline runs there
                          "at_end": sum(bool(c.lo <= float(axes[c.index].min())
                                             or c.hi >= float(axes[c.index].max()))
                                        for c in clipped)}
    if spiked := spiked_spectra(spectra):
        out["spikes"] = {"spectra": [{"id": ids[f.index], "spikes": f.n_spikes, "at": f.at,
                                      "points": f.n_points, "height": f.height}
                                     for f in spiked]}
        try:  # the grid train would use, and the spectra spiked inside it
            g = auto_grid(spectra)
        except RamancamError:
            g = None
        if g is not None:
            n_in = len(spiked_spectra(spectra, within=(g[0], g[1])))
            out["spikes"].update(default_grid=list(g), in_default_grid=n_in)
            if n_in:  # the baseline train's auto recipe would take, for the same advice
                out["spikes"]["default_baseline"] = _auto_baseline(spectra, g)
    return out


def _auto_baseline(spectra: Any, grid: Any) -> str:
    """``"paper"`` or ``"asls"``: the baseline ``train``'s default recipe takes on these
    spectra (:func:`ramancam.preprocess.auto.auto_recipe`), so that ``info``'s despike advice
    is the one ``train`` gives; ``"asls"`` where the recipe refuses them (flat spectra,
    which train leaves out first)."""
    from ..errors import RamancamError
    from ..preprocess.auto import auto_recipe

    try:
        _, _, choice = auto_recipe(spectra, tuple(grid))
    except RamancamError:
        return "asls"
    return "paper" if choice == "paper" else "asls"


def _extra(spectra: Any) -> dict[str, Any]:
    """Groups and positions for the summary (``group``, ``x``/``y``/``z`` metadata)."""
    import numpy as np

    from ..io import GROUP_COL

    out: dict[str, Any] = {}
    if GROUP_COL in spectra.meta:
        vals, counts = np.unique(spectra.meta[GROUP_COL].astype(str), return_counts=True)
        out["groups"] = {str(v): int(c) for v, c in zip(vals, counts, strict=True)}
    pos: dict[str, list[float]] = {}
    have = np.zeros(len(spectra), dtype=bool)
    for k in ("x", "y", "z"):
        col = spectra.meta.get(k)
        if col is None or col.dtype.kind not in "fiu":
            continue
        v = np.asarray(col, dtype=np.float64)
        ok = np.isfinite(v)
        if ok.any():
            pos[k] = [float(v[ok].min()), float(v[ok].max())]
            have |= ok
    if pos:
        out["positions"] = pos
        out["n_positioned"] = int(have.sum())
    laser = spectra.meta.get("laser_wavelength_nm")
    if laser is not None and laser.dtype.kind in "USO":  # a table's column, read as text
        laser = np.array([_float_or_nan(v) for v in laser])
    if laser is not None and laser.dtype.kind == "f" and np.isfinite(laser).any():
        out["laser_nm"] = sorted({round(float(v), 1) for v in laser[np.isfinite(laser)]})
        out["n_laser"] = int(np.isfinite(laser).sum())
    if (maps := _explain_maps(spectra)) is not None:  # attributions: no spectrum checks
        return {**out, "maps": maps}
    return {**out, **_checks(spectra)}


def _explain_maps(spectra: Any) -> str | None:
    """The methods of a table ``explain`` wrote (columns ``target`` and ``method``, each
    method one of explain's), or ``None``: its rows are attribution maps, not spectra."""
    from ..explain import METHODS

    method, target = spectra.meta.get("method"), spectra.meta.get("target")
    if method is None or target is None or not len(method):
        return None
    names = sorted({str(v) for v in method})
    return ", ".join(names) if set(names) <= set(METHODS) else None


def _float_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _grid_text(g: dict[str, Any]) -> str:
    """The map line of ``ramancam info``: nx x ny, step, missing pixels."""
    if "error" in g:
        return f"x/y positions do not form a grid ({g['error']})"

    def step(v: float | None) -> str:
        return "-" if v is None else f"{v:.4g}"

    if g["kind"] == "line":
        return (f"line scan of {g['nx']} pixels, step {step(g['step_x'])} along the line, "
                f"{g['missing']} missing")
    return (f"{g['nx']} x {g['ny']} pixels, step {step(g['step_x'])} x {step(g['step_y'])}, "
            f"{g['missing']} missing")


def is_model_file(path: str) -> bool:
    """True for a ramancam model file (a zip archive holding ``ramancam.json``)."""
    import zipfile
    from pathlib import Path

    from ..bundle import JSON_NAME

    p = Path(path)
    if p.suffix.lower() == ".ramancam":
        return True
    if not p.is_file() or not zipfile.is_zipfile(p):
        return False
    try:
        with zipfile.ZipFile(p) as zf:
            return JSON_NAME in zf.namelist()
    # a damaged central directory: an unknown "version needed" (NotImplementedError), sizes
    # or offsets past the file (ValueError, EOFError): not a model file; its reader says why
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError):
        return False


#: Classes up to which ``info MODEL`` prints the confusion matrix.
_MAX_PRINTED = 12
_AUGMENT_AMOUNTS = ("augment_noise", "augment_shift", "augment_baseline", "augment_scale")
_SCALING = {"center": "centred on the mean training spectrum", "none": "as preprocessed"}
_READ_WHAT = {"groups_from": "groups", "files": "files", "xy_cols": "positions"}


def model_summary(bundle: Any) -> dict[str, Any]:
    """What ``ramancam info MODEL`` prints, as plain JSON-ready values."""
    from .._channels import is_channel_grid
    from ..preprocess.recipe import recipe_text  # here: every command's parser imports info

    info = bundle.info
    st = info.get("settings") or {}
    arch = info.get("architecture") or {}
    grid = bundle.grid
    steps = sorted({round(float(v), 6) for v in (grid[1:] - grid[:-1])}) if grid.size > 1 \
        else []
    d: dict[str, Any] = {
        "classes": list(bundle.classes),
        "training_data": info.get("training_data") or {},
        "grid": {"start": float(grid[0]), "stop": float(grid[-1]), "n_points": int(grid.size),
                 "step": steps[0] if len(steps) == 1 else None,
                 "channels": is_channel_grid(
                     grid, st, (info.get("training_data") or {}).get("axis_range"))},
        "recipe": recipe_text(info.get("recipe")),
        "architecture": arch,
        "training": {k: st.get(k) for k in (
            "preset", "epochs", "n_epochs", "lr", "lr_schedule", "batch_size",
            "input_scaling", "weight_decay", "augment_select", "augment_choice",
            *_AUGMENT_AMOUNTS, "seed", "threads", "bf16", "device", "fit_time") if k in st},
        "versions": info.get("versions") or {},
    }
    read = {k: st[k] for k in ("label_col", "labels_from", "groups_from", "files", "xy_cols")
            if st.get(k) is not None}
    if read:
        d["read_options"] = read
    reading = {k: st[k] for k in ("laser_nm", "axis_offset") if st.get(k) is not None}
    if reading:
        d["reading"] = reading
    cv = info.get("cv")
    if cv:
        d["cv"] = {k: cv.get(k) for k in ("kind", "n_folds", "fold_sizes", "fold_accuracy",
                                            "mean", "std", "baselines", "baseline_summary",
                                            "confusion", "classes")}
        d["cv"].update({k: st[k] for k in ("group_col", "split_col", "train_value",
                                           "spatial_folds", "spatial_block", "spatial_buffer")
                        if st.get(k) is not None})
    if info.get("calibration") is not None:
        d["calibration"] = info["calibration"]
    if isinstance(st.get("calibration_lines"), list):
        d["calibration_lines"] = [str(v) for v in st["calibration_lines"]]
    for key in ("fold_notes", "data_notes"):
        if isinstance(st.get(key), list) and st[key]:
            d[key] = [str(v) for v in st[key]]
    if info.get("novelty") is not None:
        d["novelty"] = {k: v for k, v in info["novelty"].items() if k != "arrays"}
        if "held_out" not in d["novelty"] and bundle.held_out is not None:
            # files of 2026-12-05 17:19-17:40 kept the scores without their count in the JSON
            d["novelty"]["held_out"] = int(bundle.held_out.size)
    return d


def _cv_kind(cv: dict[str, Any]) -> str:
    n = cv.get("n_folds") or 0
    if cv.get("split_col"):
        return f"fixed split ({cv['split_col']} = {cv.get('train_value', 'train')} trains)"
    if cv.get("spatial_folds"):
        block = cv.get("spatial_block")
        return f"{n}-fold spatial CV (map blocks" + (
            f" of {block} x {block} pixels, buffer {cv.get('spatial_buffer', 1)})"
            if block else ")")
    if cv.get("group_col"):
        return f"{n}-fold group CV by {cv['group_col']}"
    return {"split": "fixed split", "group": f"{n}-fold group CV",
            "spatial": f"{n}-fold spatial CV"}.get(str(cv.get("kind")), f"{n}-fold CV")


def format_model(path: str, d: dict[str, Any]) -> str:
    """The text ``ramancam info`` prints for a model file."""
    import math
    import shlex

    from ..novelty import Calibration
    from ._outputs import winner_of

    ver = d["versions"]
    lines = [path, "  model:     ramancam CNN (saved by ramancam "
             f"{ver.get('ramancam', '?')}{commit_text(ver)}, "
             f"torch {ver.get('torch', '?')})",
             *provenance_lines(d)]
    td = d["training_data"]
    counts = td.get("class_counts") or {}
    classes = d["classes"]
    from ._outputs import one_line  # a line break in a name: escaped, one line still

    lines.append(f"  classes:   {len(classes)}: " + ", ".join(
        f"{one_line(c)} ({counts[c]})" if c in counts else one_line(c) for c in classes))
    g = d["grid"]
    # a grid of channels: trained on channels (_channels.is_channel_grid)
    unit = "channels" if g.get("channels") else "cm-1"
    if td:
        rng = td.get("axis_range") or []
        where = f" from {td['source']}" if td.get("source") else ""
        axis = f" (axis {rng[0]:.1f} to {rng[1]:.1f} {unit})" if len(rng) == 2 else ""
        lines.append(f"  trained:   {td.get('n_spectra', '?')} spectra{where}{axis}")
        read = [f"{_READ_WHAT.get(k, 'labels')} --{k.replace('_', '-')} "
                f"{shlex.quote(str(v))}" for k, v in (d.get("read_options") or {}).items()]
        if td.get("sha256") or read:  # since 2026-12-07
            lines.append("  data:      " + "; ".join(filter(None, [
                f"sha256 {td['sha256'][:16]} (of the spectra and labels as read)"
                if td.get("sha256") else "", *read])))
        if td.get("left_out"):
            lines.append(f"  left out:  {left_out_text(td['left_out'])}, before the cross "
                         "validation")
    step = f", step {g['step']:g}" if g["step"] is not None else ", uneven"
    lines.append(f"  grid:      {g['start']:g} to {g['stop']:g} {unit}{step} "
                 f"({g['n_points']} points)")
    lines.append(f"  recipe:    {d['recipe']}")
    if d.get("reading"):
        r = d["reading"]
        opts = ([f"--laser-nm {r['laser_nm']:g}"] if "laser_nm" in r else []) + (
            [f"--axis-offset {r['axis_offset']:g}"] if "axis_offset" in r else [])
        lines.append(f"  read with: {' '.join(opts)} (give the same to predict spectra of "
                     "that instrument)")
    a = d["architecture"]
    # (an FC1 activation, weight decay, bf16: said where set, so that two models differ)
    act = a.get("fc_activation")
    lines.append(f"  network:   {a.get('n_filters')} filters of size {a.get('filter_size')}, "
                 f"{a.get('n_blocks')} blocks, FC1 {a.get('fc_width')}"
                 + (f" ({act})" if act and act != "none" else "")
                 + f", dropout {a.get('dropout')}")
    t = d["training"]
    if t:
        n_ep = t.get("n_epochs", t.get("epochs"))
        parts = [f"{n_ep} epoch{'' if n_ep == 1 else 's'}" if "epochs" in t else "",
                 f"lr {t['lr']:g} ({t.get('lr_schedule', 'constant')})" if "lr" in t else "",
                 f"batch {t['batch_size']}" if "batch_size" in t else "",
                 f"inputs {_SCALING.get(t['input_scaling'], t['input_scaling'])}"
                 if t.get("input_scaling") else ""]
        choice = t.get("augment_choice")
        on = False
        if isinstance(choice, dict) and choice.get("skipped"):
            parts.append("augmentation off (too few spectra to choose by inner validation)")
        elif isinstance(choice, dict) and "augment" in choice:
            on = bool(choice["augment"])
            parts.append(f"augmentation {'on' if on else 'off'} (chosen by inner validation)")
        elif any(k in t for k in _AUGMENT_AMOUNTS):
            on = any(t.get(k) for k in _AUGMENT_AMOUNTS)
            parts.append(f"augmentation {'on' if on else 'off'}")
        amounts = [f"{k.removeprefix('augment_')} {t[k]:g}" for k in _AUGMENT_AMOUNTS
                   if t.get(k)]
        if on and amounts:
            parts.append("amounts: " + ", ".join(amounts))
        if t.get("weight_decay"):
            parts.append(f"weight decay {t['weight_decay']:g}")
        if t.get("bf16"):
            parts.append("bf16")
        if t.get("device") not in (None, "cpu"):
            parts.append(f"device {t['device']}")
        if t.get("threads"):  # since 2026-12-07: a rerun repeats to the digit with as many
            parts.append(f"{t['threads']} torch thread{'' if t['threads'] == 1 else 's'}")
        if t.get("seed") is not None:  # last: scripts read the line's end
            parts.append(f"seed {t['seed']}")
        if t.get("preset"):
            parts.insert(0, f"preset {t['preset']}")
        lines.append("  training:  " + ", ".join(p for p in parts if p))
    cv = d.get("cv")
    if cv and cv.get("fold_accuracy"):
        summ = {"CNN": (cv.get("mean"), cv.get("std"))}
        summ.update({k: (v.get("mean"), v.get("std"))
                     for k, v in (cv.get("baseline_summary") or {}).items()})
        one = len(cv["fold_accuracy"]) == 1
        shown = ", ".join(f"{k} {m:.3f}" + ("" if one else f" +- {s:.3f}")
                          for k, (m, s) in summ.items() if m is not None)
        best = winner_of({k: m for k, (m, _) in summ.items() if m is not None})
        # a winner among several models only (train --no-compare printed none)
        won = f"; winner {best}" if sum(m is not None for m, _ in summ.values()) > 1 else ""
        lines.append(f"  accuracy:  {_cv_kind(cv)}: {shown}{won}")
        cm, names = cv.get("confusion"), cv.get("classes") or classes
        where = ("on the test part" if cv.get("split_col") or cv.get("kind") == "split"
                 else "out-of-fold")
        if cm and len(names) <= _MAX_PRINTED:
            lines.append(f"  confusion: CNN, {where} (rows: true class, columns: "
                         "predicted)")
            lines += _confusion_lines(cm, names)
        elif cm:
            from ..train_report import most_confused

            lines.append(f"  confusion: {len(names)} classes, too many to print; most frequent "
                         f"(CNN, {where}): " + (", ".join(
                             f"{a} as {b} ({n})" for a, b, n in most_confused(cm, names, 5))
                             or "none"))
    for note in d.get("fold_notes", []):  # a fold's own recipe or grid (since 2026-12-07)
        lines.append(f"  decided:   {note}")
    for note in d.get("data_notes", []):  # as train printed them (since 2026-12-07)
        lines.append(f"  note:      {note}")
    cal = d.get("calibration")
    if d.get("calibration_lines"):  # as train printed them (since 2026-12-06)
        lines += ["  " + line for line in d["calibration_lines"]]
    elif cal and "ece_before" in cal:
        fields = {k: cal[k] for k in Calibration.__dataclass_fields__ if k in cal}
        fields["threshold"] = math.inf if fields.get("threshold") is None \
            else fields["threshold"]
        for k in ("ece_before", "ece_after", "set_coverage", "set_size"):
            if k in fields and fields[k] is None:  # a NaN, saved as null
                fields[k] = math.nan
        c = Calibration(**fields)
        for line in c.summary()[:1 if d.get("novelty") is None else 2]:
            lines.append("  " + line)
        if (sets := c.set_line()) is not None:
            lines.append("  " + sets)
    elif cal:
        lines.append(f"  calibration: temperature {cal.get('temperature', 1.0):.3g}")
    nov = d.get("novelty")
    if nov:
        from ..conformal import smallest_rate

        extra = f", {nov['window']}-point window" if nov.get("window") else ""
        n_held = nov.get("held_out")
        extra += (f"; {n_held} held-out scores kept (novelty_p; predict --novelty-rate from "
                  f"{smallest_rate(n_held):g})" if isinstance(n_held, int) and n_held > 0 else
                  "; no held-out scores kept (saved before 2026-12-05: no novelty_p)")
        lines.append(f"  novelty:   {nov.get('method')}{extra}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..errors import RamancamError
    from ..io import describe, example_path, read
    from ._common import read_data
    from ._outputs import check_figure_path

    check_figure_path("plot", args.plot)

    def spectra_options_only(what: str) -> None:
        if args.label_col or args.labels_from or args.groups_from or args.xy_cols \
                or args.files or args.laser_nm is not None or args.axis_offset is not None \
                or args.standard is not None:
            raise RamancamError(
                f"label, group, file, position and axis options (--standard too) apply to "
                f"spectra; got the {what} {args.path!r}. Drop them to describe it.")

    if args.path is not None and not args.example:
        from pathlib import Path

        from ._info_zarr import describe_zarr, format_zarr, zarr_kind

        kind = zarr_kind(args.path)
        if kind is None:  # the --out DIR of a tiled run: the result store in it
            inside = [q for q in (str(Path(args.path) / n)
                                  for n in ("predictions.zarr", "explain.zarr"))
                      if zarr_kind(q)]
            if len(inside) == 1:
                args.path, kind = inside[0], zarr_kind(inside[0])
            elif inside:  # a predict and an explain run into one folder
                raise RamancamError(
                    f"path must name one result store; got the folder {args.path!r}, which "
                    f"holds {' and '.join(Path(q).name for q in inside)}. Give one of them, "
                    f"e.g. ramancam info {inside[0]}.")
        if kind is not None:
            spectra_options_only("Zarr cube" if kind == "cube" else "Zarr result store")
            if args.plot is not None:
                raise RamancamError(
                    f"--plot draws spectra files and model files; got the Zarr folder "
                    f"{args.path!r}. Drop --plot (predict --out DIR draws a map's images).")
            z = describe_zarr(args.path, kind)
            print(json.dumps({"path": args.path, **z}, indent=2) if args.json
                  else format_zarr(args.path, z))
            return 0

    if args.path is not None and not args.example and is_model_file(args.path):
        spectra_options_only("model file")
        from ..bundle import load_info

        bundle = load_info(args.path)  # no network built: torch stays unimported
        shown = shown_as(args.path)  # "standard input" for '-', not its temporary copy
        try:  # load checks what prediction computes with; the rest is only described here
            d = {**model_provenance(args.path, bundle.info), **model_summary(bundle)}
            text = json.dumps({"path": shown, **d}, indent=2) if args.json else \
                format_model(shown, d)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            raise RamancamError(
                f"{shown}: its ramancam.json must hold the settings ramancam wrote; got "
                f"one it cannot describe ({type(exc).__name__}: {exc}). The file is damaged "
                "or was altered.") from None
        wrote = None if args.plot is None else _plot_model(args.plot, bundle, shown)
        print(text)
        if wrote:
            print(wrote, file=sys.stderr if args.json else sys.stdout)
        return 0

    if args.example or args.path is None:
        if args.path is not None:
            raise RamancamError(
                f"PATH and --example exclude each other; got PATH {args.path!r} and --example. "
                "Drop one.")
        path = str(example_path())
        label_col = args.label_col or ("label" if args.labels_from is None else None)
        spectra = read(path, label_col=label_col, labels_from=args.labels_from,
                       groups_from=args.groups_from)
        shown = f"built-in example ({path}; synthetic)"
    else:
        path = args.path
        spectra = read_data(args, name="path")
        path = shown = shown_as(path)
    d = {**describe(spectra), **_extra(spectra)}
    check = None
    each: list[Any] = []
    if args.standard is not None:
        from ..calibration import check_axis, check_each

        cal: dict[str, Any] = {"standard": args.standard}
        if spectra.has_common_axis:  # the mean spectrum, band by band
            check = check_axis(spectra, args.standard)
            cal.update({
                "offset": _finite_or_none(check.offset),
                "spread": _finite_or_none(check.spread),
                "bands": [{"reference": float(r), "measured": _finite_or_none(m)}
                          for r, m in zip(check.reference, check.measured, strict=True)]})
        if 1 < len(spectra) <= MAX_STANDARD_SPECTRA:  # each on its own: the drift
            each = check_each(spectra, args.standard)
            cal["spectra"] = [{"id": i, "offset": _finite_or_none(c.offset),
                               "bands_found": c.n_found, "bands": int(c.reference.size)}
                              for i, c in zip(spectra.ids, each, strict=True)]
        if check is None and not each:  # several axes and too many to check one by one
            cal["not_checked"] = (
                f"the spectra lie on different axes (their mean needs one) and {len(spectra)} "
                f"are too many to check one by one (at most {MAX_STANDARD_SPECTRA}); give "
                "the standard's file alone")
        d["calibration"] = cal
    if args.plot is None:
        wrote = None
    elif check is not None:  # --standard: the standard with its bands, not the classes
        wrote = _plot_standard(args.plot, check, spectra, shown)
    else:
        wrote = _plot_spectra(args.plot, spectra, shown)
    if args.json:
        print(json.dumps({"path": path, **d}, indent=2))
    else:
        print(format_summary(shown, {k: v for k, v in d.items() if k != "calibration"}))
        if args.standard is not None:
            from ..calibration import format_check, format_each

            if check is not None:
                print(format_check(check))
            if each:
                print(format_each(each, spectra.ids))
            elif "not_checked" in d["calibration"]:
                print(f"calibration: not checked: {d['calibration']['not_checked']}")
            elif len(spectra) > MAX_STANDARD_SPECTRA:
                print(f"per spectrum: not checked ({len(spectra)} spectra; at most "
                      f"{MAX_STANDARD_SPECTRA})")
    if wrote:
        print(wrote, file=sys.stderr if args.json else sys.stdout)
    return 0
