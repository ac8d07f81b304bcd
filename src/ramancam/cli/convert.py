"""``ramancam convert``: any readable input to one wide CSV table."""

from __future__ import annotations

import argparse

from ..errors import spectra_count
from ._common import add_data_arguments, parse_grid

NAME = "convert"
HELP = ("write any readable spectra (SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, text, folders) as one "
        "wide CSV table")
DESCRIPTION = """\
Read IN as every other command does (a file of any known format, or a folder of them, with
--label-col / --labels-from / --groups-from) and write it as one wide CSV table: a label column
'label' when labels are given (empty for unlabelled spectra), a 'source' column naming the
file of each spectrum when IN is a folder, every metadata column the files carry (title,
acquired, laser_wavelength_nm, x, y, group, ...), then one column per Raman shift (the header
is the shift in cm-1). Numbers are written exactly ('ramancam info OUT.csv --label-col label'
reads back the same values). OUT is written atomically (.csv, or .csv.gz compressed).

A wide table has one axis. Files on different axes are resampled onto --grid (cubic spline,
no baseline, no normalisation), which must lie inside every spectrum's range.

examples:
  ramancam convert map.wdf map.csv
  ramancam convert bacteria-spc bacteria.csv.gz --labels-from 'regex:_(lag|log|stat)_' \\
      --groups-from 'regex:_(rep\\d)_'
  ramancam convert saliva-pd-ad saliva.csv --label-col label --grid 410:1590:1
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, name="input", metavar="IN",
                       help="a spectra file of any known format (wide CSV/TSV, long tables, "
                            "two-column text, RRUFF, SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, Excel, "
                            "MATLAB; FILE:NAME for a sheet or a MATLAB matrix) or a folder of "
                            "them")
    p.add_argument("out", metavar="OUT", help="the wide CSV table to write (.csv or .csv.gz)")
    p.add_argument("--grid", metavar="START:STOP:STEP",
                   help="resample onto this grid in cm-1 (needed when the files' axes differ)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from ..errors import RamancamError
    from ..io import write_table
    from ..io.table import same_axis_runs
    from ..preprocess import make_grid, resample
    from ._common import read_data

    out = Path(args.out)
    if not out.name.lower().endswith((".csv", ".csv.gz")):
        raise RamancamError(
            f"OUT must be a .csv or .csv.gz file; got {args.out!r}. Name the table e.g. "
            "spectra.csv.")
    grid = parse_grid(args.grid)
    data = read_data(args, name="input")
    if grid is not None:
        data = resample(data, make_grid(*grid))
    elif not data.has_common_axis and not same_axis_runs(data):
        lo, hi = data.axis_range()
        raise RamancamError(
            f"spectra must share one axis to be written as one wide table; got {len(data)} "
            f"spectra on {len({a.tobytes() for a in data.axes})} different axes "
            f"({lo:g}-{hi:g} cm-1). Give --grid START:STOP:STEP inside every spectrum's range "
            "to resample them.")
    if Path(args.input).is_dir() and "source" not in data.meta:
        root = Path(args.input)
        rel = [Path(s).relative_to(root).as_posix() if s else "" for s in data.sources]
        data = data.replace(meta={"source": np.array(rel), **data.meta})
    write_table(data, out, label_col="label")
    n_points = (data.wavenumbers.size if data.has_common_axis
                else np.unique(np.concatenate(data.axes)).size)
    what = (f"{spectra_count(len(data))}, {n_points} points"
            + ("" if data.has_common_axis else " (shorter spectra end in empty cells)"))
    lab = ("" if data.labels is None
           else f", {len(set(data.labels.tolist()) - {''})} classes")
    print(f"wrote {what}{lab} to {out}")
    return 0
