"""``ramancam info``: what is in a spectra file or folder (counts, classes, axis, metadata)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import LABELS_FROM_HELP, add_xy_argument

NAME = "info"
HELP = "summarise a spectra file or folder (or the built-in example)"
DESCRIPTION = """\
Print the number of spectra, the classes with their counts, the axis range and spacing, the
number of points (per file when the axes differ), whether the files share one axis, the
metadata columns and, for maps (x/y positions), the pixel grid: nx x ny, step, missing
pixels.

Without PATH (or with --example) it describes the built-in SYNTHETIC example table.

examples:
  ramancam info --example
  ramancam info spectra.csv.gz --label-col label
  ramancam info rruff-folder --labels-from header:NAMES
  ramancam info amino-acids --labels-from 'regex:(.+)\\.txt'
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a spectra file (wide CSV/TSV, .gz too, two-column text, RRUFF text) "
                        "or a folder of such files; omitted: the built-in example")
    p.add_argument("--example", action="store_true",
                   help="describe the built-in synthetic example (3 classes x 4 spectra)")
    g = p.add_argument_group("labels").add_mutually_exclusive_group()
    g.add_argument("--label-col", metavar="C",
                   help="wide tables: the column holding the class label")
    g.add_argument("--labels-from", metavar="SPEC", help=LABELS_FROM_HELP)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_xy_argument(p)


def _num(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.1f}"


def format_summary(path: str, d: dict[str, Any]) -> str:
    """The text ``ramancam info`` prints for a :func:`ramancam.io.describe` summary."""
    lines = [f"{path}"]
    files = f" from {d['n_files']} files" if d["n_files"] > 1 else ""
    lines.append(f"  spectra:   {d['n_spectra']}{files}")
    classes = d["classes"]
    if classes is None:
        lines.append("  classes:   none (unlabelled; give --label-col or --labels-from)")
    else:
        shown = ", ".join(f"{k} ({v})" for k, v in classes.items())
        lines.append(f"  classes:   {len(classes)}: {shown}")
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
            lines.append(f"  axes:      differ between files ({d['n_axes']} distinct); resample "
                         "onto a common grid before training (the paper recipe does)")
    meta = d["metadata"]
    lines.append(f"  metadata:  {', '.join(meta) if meta else 'none'}")
    if "grid" in d:
        lines.append(f"  grid:      {_grid_text(d['grid'])}")
    return "\n".join(lines)


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
        spectra = read(path, label_col=label_col, labels_from=args.labels_from)
        shown = f"built-in example ({path}; synthetic)"
    else:
        path = args.path
        spectra = apply_xy_cols(read(path, label_col=args.label_col,
                                     labels_from=args.labels_from), args.xy_cols)
        shown = path
    d = describe(spectra)
    if args.json:
        print(json.dumps({"path": path, **d}, indent=2))
    else:
        print(format_summary(shown, d))
    return 0
