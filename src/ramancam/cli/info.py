"""``ramancam info``: what is in a spectra file or folder (counts, classes, axis, metadata)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import GROUPS_FROM_HELP, LABELS_FROM_HELP, add_xy_argument

NAME = "info"
HELP = "summarise a spectra file or folder (or the built-in example)"
DESCRIPTION = """\
Print the file format(s), the number of spectra, the classes with their counts (and how many
spectra have no label), the groups, the spatial positions, the axis range and spacing, the
number of points (per file when the axes differ), whether the files share one axis, the metadata
columns and, for maps (x/y positions), the pixel grid: nx x ny, step, missing pixels.

Reads wide tables, two-column and RRUFF text, Galactic SPC (.spc), Renishaw WiRE (.wdf) and
JCAMP-DX (.jdx/.dx) files, and folders of any of them (docs/formats.md).

Without PATH (or with --example) it describes the built-in SYNTHETIC example table.

examples:
  ramancam info --example
  ramancam info spectra.csv.gz --label-col label
  ramancam info rruff-folder --labels-from header:NAMES
  ramancam info amino-acids --labels-from 'regex:(.+)\\.txt'
  ramancam info bacteria-spc --labels-from 'regex:_(lag|log|stat)_' --groups-from 'regex:_(rep\\d)_'
  ramancam info saliva-pd-ad --label-col label
  ramancam info map.wdf
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a spectra file (wide CSV/TSV, .gz too, two-column text, RRUFF text, "
                        "SPC, WDF, JCAMP-DX, Excel, MATLAB; FILE:NAME for a sheet or a MATLAB "
                        "matrix) or a folder of such files; omitted: the built-in "
                        "example")
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
    add_xy_argument(p)


def _num(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.1f}"


def format_summary(path: str, d: dict[str, Any]) -> str:
    """The text ``ramancam info`` prints for a :func:`ramancam.io.describe` summary."""
    lines = [f"{path}"]
    formats = d.get("formats") or {}
    if formats:
        lines.append("  format:    " + ", ".join(
            f"{k} ({v} files)" if v > 1 else k for k, v in formats.items()))
    files = f" from {d['n_files']} files" if d["n_files"] > 1 else ""
    lines.append(f"  spectra:   {d['n_spectra']}{files}")
    classes = d["classes"]
    n_unlab = d.get("n_unlabelled", 0)
    if classes is None or (not classes and n_unlab):
        lines.append("  classes:   none (unlabelled; give --label-col or --labels-from)")
    else:
        shown = ", ".join(f"{k} ({v})" for k, v in classes.items())
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
        lines.append("  laser:     " + ", ".join(f"{v:g}" for v in d["laser_nm"]) + " nm")
    if d["n_spectra"]:
        lines.append(f"  axis:      {d['axis_min']:.1f} to {d['axis_max']:.1f} cm-1, "
                     f"{d['direction']}")
        spacing = "even" if d["even"] else "uneven"
        lines.append(f"  spacing:   min {_num(d['step_min'])}, median {_num(d['step_median'])}, "
                     f"max {_num(d['step_max'])} cm-1 ({spacing})")
        if d["common_axis"]:
            lines.append(f"  points:    {d['points_min']}")
            lines.append("  axes:      one common axis")
        else:
            lines.append(f"  points:    {d['points_min']} to {d['points_max']} per spectrum")
            lines.append(f"  axes:      differ between spectra ({d['n_axes']} distinct); resample "
                         "onto a common grid before training (the paper recipe does)")
    meta = d["metadata"]
    lines.append(f"  metadata:  {', '.join(meta) if meta else 'none'}")
    if "grid" in d:
        lines.append(f"  grid:      {_grid_text(d['grid'])}")
    return "\n".join(lines)


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
    if laser is not None and laser.dtype.kind == "f" and np.isfinite(laser).any():
        out["laser_nm"] = sorted({round(float(v), 1) for v in laser[np.isfinite(laser)]})
    return out


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


def run(args: argparse.Namespace) -> int:
    from ..errors import RamancamError
    from ..io import describe, example_path, read
    from ._common import apply_xy_cols

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
        spectra = apply_xy_cols(read(path, label_col=args.label_col,
                                     labels_from=args.labels_from,
                                     groups_from=args.groups_from), args.xy_cols)
        shown = path
    d = {**describe(spectra), **_extra(spectra)}
    if args.json:
        print(json.dumps({"path": path, **d}, indent=2))
    else:
        print(format_summary(shown, d))
    return 0
