"""``ramancam convert``: any readable input to one wide CSV table, or a map to a Zarr cube."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import class_count, spectra_count
from ._common import add_data_arguments, parse_grid

if TYPE_CHECKING:
    from ..io.longrows import LongRows
    from ..io.tablerows import TableRows
    from ..io.wdf import WdfRows
    from ..spectra import Spectra

NAME = "convert"
HELP = ("write any readable spectra (SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, text, folders) as one "
        "wide CSV table, or a map as a Zarr cube")
DESCRIPTION = """\
Read IN as every other command does (a file of any known format, or a folder of them, with
--label-col / --labels-from / --groups-from) and write it as one wide CSV table: a label column
'label' when labels are given (empty for unlabelled spectra), an 'id' column naming each
spectrum (a folder's file names), a 'source' column naming the file of each spectrum when IN
is a folder, every metadata column the files carry (title, acquired, laser_wavelength_nm, x,
y, group, ...; one of their own named id, source or label is written as original_id, ...),
then one column per Raman shift (the header is the shift in cm-1). Numbers are written
exactly ('ramancam info OUT.csv --label-col label' reads back the same values). OUT is written
atomically (.csv, or .csv.gz compressed), never inside the folder IN.

A wide table has one axis. Files on different axes are resampled onto --grid (cubic spline,
no baseline, no normalisation), which must lie inside every spectrum's range.

OUT ending in .zarr writes a map (spectra with x/y positions, e.g. a WDF map or a table with
--xy-cols) as a Zarr cube for the tiled 'predict' and 'explain' (docs/scale.md): the pixel
grid is found from the positions as for map images (a regular step, within a tolerance;
missing pixels stay empty and are left out by predict and explain), labels become the
cube's 'truth', and --chunk sets the tiles. A single .wdf file given without label, grid,
position or axis options is copied tile by tile from the file, so a map larger than memory
converts in the memory of one tile; so are a long map export (WiRE's rows of x, y, shift,
intensity) and a wide table with x and y columns (--label-col may be given), where their
rows are plain (no quoting, comment or blank line among them, one range for all; gzipped
too); their spectra are kept meanwhile as float32 in a hidden folder beside OUT, removed at
the end. A table's padding (one value at the ends of every spectrum) is left out, with the
warning of the whole read, as every other command leaves it out.
An existing OUT.zarr is replaced only when it is an earlier ramancam cube (or an empty
folder); a folder of other files is refused, and so is IN inside OUT.
Needs the maps extra (zarr).

examples:
  ramancam convert map.wdf map.csv
  ramancam convert map.wdf map.zarr --chunk 64x64
  ramancam convert map-export.txt map.zarr
  ramancam convert bacteria-spc bacteria.csv.gz --labels-from 'regex:_(lag|log|stat)_' \\
      --groups-from 'regex:_(rep\\d)_'
  ramancam convert saliva-pd-ad saliva.csv --label-col label --grid 410:1590:1
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, name="input", metavar="IN",
                       help="a spectra file of any known format (wide CSV/TSV, long tables, "
                            "two-column text, RRUFF, SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, Excel, "
                            "MATLAB; FILE:NAME for a sheet or a MATLAB matrix) or a folder of "
                            "them; '-': standard input")
    p.add_argument("out", metavar="OUT",
                   help="the wide CSV table to write (.csv or .csv.gz), or a Zarr cube (.zarr) "
                        "for a map")
    p.add_argument("--grid", metavar="START:STOP:STEP",
                   help="resample onto this grid in cm-1 (needed when the files' axes differ)")
    p.add_argument("--chunk", metavar="CXxCY",
                   help="OUT.zarr: the cube's tiles, pixels along x and y (default 64x64)")


def _named_columns(data: Any, source: Path) -> Any:
    """``data`` with the columns the written table promises: ``id`` (each spectrum's name,
    so a folder's file names survive), ``source`` (the file of each spectrum of a folder) and
    ``label``; a column of the files' own under one of these names is kept as
    ``original_<name>``, and one whose name is a number (a metadata column the reader told
    from the shifts, such as sample numbers under ``100``) as ``column_<name>``, so that the
    table reads back with it as metadata: said in one line."""
    import numpy as np

    from ..io.table import _shift_header

    meta = dict(data.meta)
    ours: dict[str, Any] = {}
    if "id" not in meta and data.ids != [str(i) for i in range(len(data))]:
        ours["id"] = np.array(data.ids)
    if source.is_dir():
        rel = [Path(s).relative_to(source).as_posix() if s else "" for s in data.sources]
        ours["source"] = np.array(rel)
    if data.labels is not None:
        ours["label"] = None  # written by write_table from the labels
    renamed: dict[str, str] = {}
    clash = [k for k in ours if k in meta]
    numbered = [k for k in meta if _shift_header(k) is not None]
    for k in clash + numbered:
        prefix = "original_" if k in clash else "column_"
        new = f"{prefix}{k}"
        while new in meta or new in ours:  # never over a column of the data's own
            new = f"{prefix}{new}"
        meta[new] = meta.pop(k)
        renamed[k] = new
    if renamed:
        print(f"note: the data's own {', '.join(repr(k) for k in renamed)} column"
              f"{'s are' if len(renamed) > 1 else ' is'} written as "
              f"{', '.join(repr(v) for v in renamed.values())}")
    ours.pop("label", None)
    return data.replace(meta={**ours, **meta})


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import RamancamError
    from ..io import write_table
    from ..io.table import same_axis_runs
    from ..preprocess import make_grid, resample
    from ._common import read_data
    from ._outputs import check_not_inputs, check_parent_folder, check_writable

    check_not_inputs(args, ("out",), inputs=("input",), names={"out": "OUT", "input": "IN"})
    check_writable("out", args.out, name="OUT")
    out = Path(args.out)
    if Path(args.input).is_dir() and Path(args.input).resolve() in out.resolve().parents:
        raise RamancamError(
            f"OUT must not be inside the folder IN; got {args.out!r} inside {args.input!r}, "
            "where the next convert (or train) of the folder would read it as spectra. Write "
            "it beside the folder.")
    src = Path(args.input).resolve()
    if out.resolve() in src.parents:
        raise RamancamError(
            f"IN must not be inside OUT; got {args.input!r} inside {args.out!r}, which "
            "writing OUT would replace. Move IN out of it, or name another OUT.")
    cube = out.name.lower().endswith(".zarr")
    if not (cube or out.name.lower().endswith((".csv", ".csv.gz"))):
        raise RamancamError(
            f"OUT must be a .csv or .csv.gz file, or a .zarr cube; got {args.out!r}. Name the "
            "table e.g. spectra.csv.")
    if args.chunk is not None and not cube:
        raise RamancamError(f"--chunk must come with OUT.zarr; got OUT {args.out!r}. Drop "
                            "--chunk, or name a .zarr cube.")
    # before the data are read (a large map: minutes); a table is a file, a cube a folder
    check_parent_folder("out", args.out, folder_ok=cube, name="OUT")
    if cube:  # an existing OUT is replaced: only an earlier cube (or an empty folder)
        from ..io.zarr_cube import check_store_target

        check_store_target(out, "OUT")
    chunks = _chunks(args.chunk) if cube else None  # checked before the data are read
    grid = parse_grid(args.grid)
    if chunks is not None and _streams(args, grid):
        import tempfile

        from ..io._atomic import sweep_leftovers, temp_prefix

        # beside OUT: a text map's spectra as float32, read back tile by tile (a killed
        # run's copy, gigabytes for a large map, is removed by the next run)
        sweep_leftovers(out.resolve().parent, out.name)
        with tempfile.TemporaryDirectory(dir=out.resolve().parent, suffix=".rows",
                                         prefix=temp_prefix(out.name)) as scratch:
            rows = _open_rows(Path(args.input), args.label_col, scratch)
            if rows is not None:  # else (a gzipped .wdf, a table not plain enough) read whole
                return _write_cube(rows, out, chunks, args.input)
    data = read_data(args, name="input")
    if grid is not None:
        data = resample(data, make_grid(*grid))
    elif not data.has_common_axis and not same_axis_runs(data):
        from ..preprocess.auto import common_range

        lo, hi = common_range(data)  # the range every spectrum covers, where a grid fits
        shared = (f"every spectrum covers {lo:g}-{hi:g} cm-1. Give --grid START:STOP:STEP "
                  "inside it to resample them" if hi > lo else
                  "they share no range, so no grid fits them all: convert each range "
                  "separately")
        cells = (" (in one table, an empty or NaN cell leaves its point out of that "
                 "spectrum's axis)" if Path(args.input).is_file() else "")
        raise RamancamError(
            f"the spectra of {args.input} must share one axis to be written as one "
            f"{'Zarr cube' if chunks is not None else 'wide table'}; got {len(data)} "
            f"spectra on {len({a.tobytes() for a in data.axes})} different axes{cells}; "
            f"{shared}.")
    if chunks is not None:
        return _write_cube(data, out, chunks, args.input)
    data = _named_columns(data, Path(args.input))
    write_table(data, out, label_col="label")
    n_points = (data.wavenumbers.size if data.has_common_axis
                else np.unique(np.concatenate(data.axes)).size)
    what = (f"{spectra_count(len(data))}, {n_points} points"
            + ("" if data.has_common_axis else " (shorter spectra end in empty cells)"))
    n_classes = 0 if data.labels is None else len(set(data.labels.tolist()) - {""})
    lab = "" if data.labels is None else f", {class_count(n_classes)}"
    print(f"wrote {what}{lab} to {out}")
    return 0


def _chunks(text: str | None) -> tuple[int, int]:
    """``--chunk CXxCY`` -> ``(cy, cx)``; the zarr extra is checked here too, before any
    reading."""
    from ..errors import RamancamError
    from ..io.zarr_cube import need_zarr
    from ..simulate import parse_shape

    need_zarr()
    try:
        return parse_shape(text or "64x64")
    except RamancamError:
        raise RamancamError(f"--chunk must be CXxCY with positive sizes, e.g. 64x64; got "
                            f"{text!r}.") from None


def _streams(args: argparse.Namespace, grid: object) -> bool:
    """A single file with no option that needs the spectra in memory (``--label-col`` aside):
    copied to the cube tile by tile from the file where :func:`_open_rows` can."""
    options = ("labels_from", "groups_from", "files", "laser_nm", "axis_offset", "xy_cols")
    return (grid is None and Path(args.input).is_file()
            and not any(getattr(args, o, None) for o in options))


def _open_rows(path: Path, label_col: str | None, scratch: str
               ) -> WdfRows | LongRows | TableRows | None:
    """The spectra of a WiRE .wdf file, a long map export or a wide map table, read from the
    file only where indexed; None where the file has to be read whole."""
    from ..io.longrows import open_long_rows
    from ..io.tablerows import open_table_rows
    from ..io.wdf import open_wdf_rows

    if path.suffix.lower() == ".wdf":
        return None if label_col else open_wdf_rows(path)
    rows = None if label_col else open_long_rows(path, scratch=scratch)
    return rows if rows is not None else open_table_rows(path, label_col=label_col,
                                                         scratch=scratch)


def _write_cube(data: Spectra | WdfRows | LongRows | TableRows, out: Path,
                chunks: tuple[int, int], source: str) -> int:
    from ..errors import RamancamError
    from ..io.longrows import LongRows
    from ..io.tablerows import TableRows
    from ..io.wdf import WdfRows
    from ..io.zarr_cube import grid_places, write_cube, write_cube_rows
    from ..maps.grid import grid_of, has_positions

    if not has_positions(data):
        raise RamancamError(
            f"IN must carry pixel positions (x/y) to be written as a Zarr cube; got "
            f"{source!r} without them. Name the columns with --xy-cols X,Y, or write a .csv.")
    grid = grid_of(data)
    if isinstance(data, WdfRows | LongRows | TableRows):  # tile by tile, progress on stderr
        from ._progress import chunk_progress

        cube = write_cube_rows(data.X, data.axis, *grid_places(grid, grid.n_spectra), out,
                               chunks=chunks, source=data.source,
                               labels=data.labels if isinstance(data, TableRows) else None,
                               progress=chunk_progress(grid.n_spectra, chunks[0] * chunks[1]))
    else:
        from ._stdin import shown_as

        cube = write_cube(data, out, chunks=chunks, grid=grid, source=shown_as(source))
    ny, nx = cube.shape
    missing = f", {grid.n_missing} missing (empty)" if grid.n_missing else ""
    print(f"wrote a {nx} x {ny} map ({grid.n_spectra} spectra{missing}, "
          f"{cube.wavenumbers.size} points, tiles of {cube.chunks[1]} x {cube.chunks[0]}) "
          f"to {out}")
    return 0
