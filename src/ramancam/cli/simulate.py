"""``ramancam simulate``: write the paper's simulated sets (Eq. 10) or numerical mixtures."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import gib_text as _gib
from ..errors import int_text
from ._common import LABELS_FROM_HELP, seed_int

if TYPE_CHECKING:
    from ..spectra import Spectra

NAME = "simulate"
HELP = "write simulated Lorentzian spectra, numerical mixtures or a simulated map"
DESCRIPTION = """\
Write a simulated data set as a wide CSV table (labels in column 'label') that
'ramancam info' and 'ramancam train' read back.

  peaks   the peak-position task (paper 4.1): 3 classes with a Lorentzian band at channel
          100, 500 or 1000 of 1024 channels, FWHM 4, white noise within +-2.5 % of the
          maximum (Eq. 10); 20 spectra per class by default
  common  the same plus 3 bands of the same height at random positions per spectrum
          (metadata columns random_peak_1..3); 100 spectra per class by default
  mix     numerical mixtures pure_a + r * pure_b (paper 4.3) of the pure spectra in --pure,
          r uniform in 0.1..0.5, --n-per-pair per ordered pair; label = a, metadata columns
          partner and ratio. The pure spectra are preprocessed with the paper recipe on one
          grid (--grid, or by default their common range at 1 cm-1) and each mixture is
          normalised to its maximum, as 'reproduce mixing' does.
  map     a synthetic Raman image of --shape NXxNY pixels: Voronoi regions of the classes of
          'common' (same 1,024 channels, 3 random bands per pixel, so a model trained on
          'simulate common' applies), written tile by tile (--chunk) so that a 1000x1000 map
          never needs all spectra in memory (each tile from its own seed: the spectra
          depend on --seed and --chunk). --out *.zarr writes a Zarr cube with the true
          class of every pixel in 'truth' (needs the maps extra: pip install
          'ramancam[maps]'); --out *.csv writes a wide table with columns label, x, y.

examples:
  ramancam simulate peaks --out peaks.csv
  ramancam simulate common --n-per-class 100 --seed 1 --out common.csv
  ramancam simulate map --shape 300x300 --out map.zarr
  ramancam simulate mix --pure amino-acids --labels-from 'regex:(.+)\\.txt' --out mix.csv
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=["peaks", "common", "mix", "map"],
                   help="which set: peaks, common, mix or map")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output wide table (.csv, or .csv.gz to compress); map: .zarr too. "
                        "An option of another kind is refused")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    g = p.add_argument_group("peaks / common (and map: --noise, --fwhm, --random-peaks)")
    g.add_argument("--n-per-class", type=int, metavar="N",
                   help="spectra per class (default 20 for peaks, 100 for common)")
    g.add_argument("--noise", type=float, metavar="X",
                   help="white noise amplitude relative to the maximum (default 0.025)")
    g.add_argument("--fwhm", type=float, metavar="W",
                   help="band width in channels (default 4)")
    g.add_argument("--random-peaks", type=int, metavar="K",
                   help="common, map: random bands per spectrum (default 3)")
    mp = p.add_argument_group("map")
    mp.add_argument("--shape", metavar="NXxNY", help="map: pixels along x and y, e.g. 300x300")
    mp.add_argument("--chunk", metavar="CXxCY",
                    help="map: tile size written at a time, and the Zarr chunks (default "
                         "64x64). Each tile draws its own random numbers, so the spectra "
                         "depend on --chunk too: the same --seed and --chunk give the same "
                         "map")
    m = p.add_argument_group("mix")
    m.add_argument("--pure", metavar="DIR_or_FILE",
                   help="pure spectra: a folder of files or one table (labels from "
                        "--label-col/--labels-from, else the file names)")
    m.add_argument("--n-per-pair", type=int, metavar="N",
                   help="mixtures per ordered pair (default 5)")
    m.add_argument("--ratio", metavar="LO:HI",
                   help="range of the admixture ratio r (default 0.1:0.5)")
    m.add_argument("--grid", metavar="START:STOP:STEP",
                   help="resample the pure spectra onto this grid with the paper recipe")
    lab = m.add_mutually_exclusive_group()
    lab.add_argument("--label-col", metavar="C", help="--pure table: the label column")
    lab.add_argument("--labels-from", metavar="SPEC", help=LABELS_FROM_HELP)


#: The options of each kind (attribute -> the kinds that use it) and their defaults: an
#: option given to a kind that does not use it is refused, never silently ignored.
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "n_per_class": ("peaks", "common"), "noise": ("peaks", "common", "map"),
    "fwhm": ("peaks", "common", "map"), "random_peaks": ("common", "map"),
    "shape": ("map",), "chunk": ("map",), "pure": ("mix",), "n_per_pair": ("mix",),
    "ratio": ("mix",), "grid": ("mix",), "label_col": ("mix",), "labels_from": ("mix",)}
DEFAULTS: dict[str, object] = {"noise": 0.025, "fwhm": 4.0, "random_peaks": 3,
                               "chunk": "64x64", "n_per_pair": 5, "ratio": "0.1:0.5"}
#: What to use instead, where the refused option has a counterpart.
INSTEAD = {("n_per_class", "mix"): "use --n-per-pair.", ("n_per_class", "map"): "use --shape."}


def _kind_options(args: argparse.Namespace) -> None:
    """Refuse an option meant for another kind, then fill in the defaults."""
    from ..errors import RamancamError

    for attr, kinds in KIND_OPTIONS.items():
        value = getattr(args, attr)
        if value is None or args.kind in kinds:
            continue
        opt = "--" + attr.replace("_", "-")
        where = (", ".join(repr(k) for k in kinds[:-1]) + " and " if kinds[1:] else "") \
            + repr(kinds[-1])
        shown = repr(value) if isinstance(value, str) else value
        raise RamancamError(f"{opt} must not be used with {args.kind!r}; got {shown}. It "
                            f"applies to {where} only: "
                            + INSTEAD.get((attr, args.kind), "drop it."))
    for attr, value in DEFAULTS.items():
        if getattr(args, attr) is None:
            setattr(args, attr, value)


def _check_out_name(args: argparse.Namespace) -> None:
    """Refuse an --out name the set is not written as (CSV text under .xlsx, .json or .zarr
    could not be read back)."""
    from ..errors import RamancamError

    name = Path(args.out).name.lower()
    kinds = (".zarr", ".csv", ".csv.gz") if args.kind == "map" else (".csv", ".csv.gz")
    if not name.endswith(kinds):
        shown = ", ".join(kinds[:-1]) + " or " + kinds[-1]
        raise RamancamError(
            f"--out must end in {shown} for {args.kind!r}; got {args.out!r}. 'simulate "
            f"{args.kind}' writes " + ("a Zarr cube or " if args.kind == "map" else "")
            + "a CSV table: name the file accordingly.")


def _check_band_options(args: argparse.Namespace) -> None:
    """Refuse a band width or noise level that would give NaN, flat or mirrored spectra."""
    from .._inputs import finite_number
    from ..errors import RamancamError

    if not (finite_number(args.fwhm) and args.fwhm > 0):
        raise RamancamError(f"--fwhm must be a positive finite number; got {args.fwhm:g}. "
                            "Give the band width in channels, e.g. --fwhm 4.")
    if not (finite_number(args.noise) and args.noise >= 0):
        raise RamancamError(f"--noise must be a finite number >= 0; got {args.noise:g}. "
                            "Give the noise relative to the maximum, e.g. --noise 0.025.")


def _check_counts(args: argparse.Namespace) -> None:
    """The counts, ratio and grid checked naming their options, before any work (the
    generators named their parameters, n_per_class, and mix checked only after the pure
    spectra were read and preprocessed)."""
    from ..errors import RamancamError
    from ._common import parse_grid

    for attr, low, example in (("n_per_class", 1, "20"), ("n_per_pair", 1, "5"),
                               ("random_peaks", 0, "3")):
        value = getattr(args, attr)
        if value is not None and value < low:
            opt = "--" + attr.replace("_", "-")
            what = "a positive integer" if low == 1 else f"an integer >= {low}"
            raise RamancamError(f"{opt} must be {what}; got {value}. Give e.g. {opt} "
                                f"{example}.")
    from ..simulate import MAX_RANDOM_PEAKS

    if args.random_peaks is not None and args.random_peaks > MAX_RANDOM_PEAKS:
        raise RamancamError(f"--random-peaks must be an integer from 0 to {MAX_RANDOM_PEAKS}; "
                            f"got {int_text(args.random_peaks)}. Give e.g. --random-peaks 3.")
    if args.kind == "mix":
        _ratio(args.ratio)
        parse_grid(args.grid)
    if args.kind == "map":
        _pair(args.shape, "shape", "NXxNY", "300x300")
        _pair(args.chunk, "chunk", "CXxCY", "64x64")


def _pair(text: str | None, opt: str, form: str, example: str) -> tuple[int, int]:
    """``--shape``/``--chunk`` as (ny, nx), the error naming the option."""
    from ..errors import RamancamError
    from ..simulate import parse_shape

    if text is None:
        raise RamancamError(f"--{opt} must be given for 'simulate map'; got nothing. Give the "
                            f"pixels along x and y, e.g. --{opt} {example}.")
    try:
        return parse_shape(text)
    except RamancamError:
        raise RamancamError(f"--{opt} must be {form} with positive sizes, e.g. {example}; got "
                            f"{text!r}.") from None


def _ratio(text: str) -> tuple[float, float]:
    from ..errors import RamancamError

    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise RamancamError(f"--ratio must be LO:HI, e.g. 0.1:0.5; got {text!r}.") from None
    if not 0 <= lo <= hi <= 1:  # NaN fails too
        raise RamancamError(f"--ratio must be LO:HI with 0 <= LO <= HI <= 1; got {text!r}. "
                            "The label is the main component: give e.g. 0.1:0.5.")
    return lo, hi


def _pure(args: argparse.Namespace) -> Spectra:
    import math

    from ..errors import RamancamError
    from ..io import read
    from ..preprocess import paper_recipe
    from ._common import parse_grid

    if args.pure is None:
        raise RamancamError("--pure must name the pure spectra for 'simulate mix'; got "
                            "nothing. Give a folder of files or a table.")
    pure = read(args.pure, label_col=args.label_col, labels_from=args.labels_from)
    if pure.labels is None and Path(args.pure).is_file() and len(pure) > 1:
        raise RamancamError(
            f"--label-col must name the label column of the --pure table; got none, and the "
            f"file name {Path(args.pure).stem!r} would label all {len(pure)} spectra alike. "
            "Give e.g. --label-col label.")
    grid = parse_grid(args.grid)
    if grid is None:
        # The overlap of all axes at 1 cm-1: every grid point is covered by every spectrum.
        lo = max(float(min(a[0], a[-1])) for a in pure.axes)
        hi = min(float(max(a[0], a[-1])) for a in pure.axes)
        if not hi - lo >= 2:
            raise RamancamError(
                f"pure spectra must overlap on a common range; got overlap {lo:g}-{hi:g} "
                "cm-1. Choose spectra measured over the same range.")
        grid = (float(math.ceil(lo)), float(math.floor(hi)), 1.0)
    print(f"pure spectra preprocessed with the paper recipe on {grid[0]:g}:{grid[1]:g}:"
          f"{grid[2]:g}")
    # As reproduce mixing does (pure spectra on one axis were mixed as read, neither
    # baseline-corrected nor normalised); the recipe keeps sources, so labels taken from
    # file names survive resampling.
    try:
        return paper_recipe(grid=grid).apply(pure)
    except RamancamError as exc:
        what = str(exc).split(": use ")[0]
        if what == str(exc):
            raise
        raise RamancamError(  # the recipe's own fix names options simulate does not have
            f"{what}. 'simulate mix' prepares the pure spectra with the paper's recipe, "
            "which cannot use this one: leave it out of --pure.") from None


def run(args: argparse.Namespace) -> int:
    from ..errors import RamancamError
    from ..io import write_table
    from ._outputs import check_not_inputs, check_parent_folder

    # before any work: writing the table over the pure spectra would destroy them
    check_not_inputs(args, ["out"], inputs=("pure",), names={"pure": "--pure"})
    # a table is a file, a map's Zarr cube a folder
    check_parent_folder("out", args.out, folder_ok=args.out.lower().endswith(".zarr"))
    _kind_options(args)
    _check_out_name(args)
    _check_band_options(args)
    _check_counts(args)
    out = Path(args.out)
    if args.kind == "map":
        _check_map_size(args, out)
        return _map(args, out)
    if args.kind != "mix":
        _check_memory(args)
    try:
        s = _make(args)
    except MemoryError:  # beyond the estimate (a mix of many pure spectra, a ulimit)
        opt = "n_per_pair" if args.kind == "mix" else "n_per_class"
        raise RamancamError(
            f"--{opt.replace('_', '-')} must be smaller for the memory there is; got "
            f"{getattr(args, opt)}, whose spectra did not fit. Give a smaller value, or write "
            "several sets with different --seed.") from None
    write_table(s, out)
    counts = s.class_counts().values()
    lo, hi = min(counts), max(counts)
    print(f"wrote {len(s)} spectra ({len(s.classes)} classes x "
          f"{lo if lo == hi else f'{lo}-{hi}'}, {s.n_points} points) to {out}")
    if args.kind != "mix":  # channels 0-1023: the default grid (cm-1) would crop them
        print(f"train on it as the paper does: ramancam train {shlex.quote(str(out))} "
              "--label-col label --recipe none")
    return 0


def _make(args: argparse.Namespace) -> Spectra:
    from ..simulate import common_component_set, mixtures, peak_position_set

    if args.kind == "peaks":
        return peak_position_set(_n_per_class(args), fwhm=args.fwhm, noise=args.noise,
                                 rng=args.seed)
    if args.kind == "common":
        return common_component_set(_n_per_class(args), n_random_peaks=args.random_peaks,
                                    fwhm=args.fwhm, noise=args.noise, rng=args.seed)
    ratio = _ratio(args.ratio)
    s = mixtures(_pure(args), n_per_pair=args.n_per_pair, ratio=ratio, rng=args.seed)
    # each mixture to its maximum, as the paper normalises every input (and reproduce
    # mixing does)
    return s.replace(s.X / s.X.max(axis=1, keepdims=True))


def _n_per_class(args: argparse.Namespace) -> int:
    return int(args.n_per_class or (20 if args.kind == "peaks" else 100))


def available_memory() -> int | None:
    """Bytes of memory available now (Linux: MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_memory(args: argparse.Namespace) -> None:
    """Refuse a peaks/common set whose arrays would need more than half the memory
    available (the generic 'not enough memory' message, or the OOM killer, came after)."""
    from ..errors import RamancamError
    from ..simulate import DEFAULT_POSITIONS

    n = len(DEFAULT_POSITIONS) * _n_per_class(args)
    bands = 1 + (args.random_peaks if args.kind == "common" else 0)
    need = n * 1024 * 8 * (bands + 3)  # the bands, their sum, the noise, the result
    have = available_memory()
    if have is not None and need > have // 2:  # (integers: a count of 400 digits is no float)
        raise RamancamError(
            f"--n-per-class must be smaller for the memory there is; got "
            f"{int_text(_n_per_class(args))} ({_count(n)} spectra x 1024 points need about "
            f"{_gib(need)}, {_gib(have)} available). Give a smaller value, or write several "
            "sets with different --seed.")


def _count(n: int) -> str:
    """A count as a message shows it: ``"90000"``, or ``"about 10^20"`` beyond 20 digits."""
    text = str(n)
    return text if len(text) <= 20 else f"about 10^{len(text) - 1}"


def _check_map_size(args: argparse.Namespace, out: Path) -> None:
    """Refuse a map whose tile would need more than half the memory available, or whose
    spectra (float32, 1024 channels) more than the free space where --out goes, before
    anything is made (--shape 100000000000000000000x4 ended in numpy's "Maximum allowed
    size exceeded")."""
    import shutil

    from ..errors import RamancamError

    ny, nx = _pair(args.shape, "shape", "NXxNY", "300x300")
    cy, cx = _pair(args.chunk, "chunk", "CXxCY", "64x64")
    tile = min(cy, ny) * min(cx, nx) * 1024 * 8 * (args.random_peaks + 4)
    have = available_memory()
    if have is not None and tile > have // 2:
        raise RamancamError(
            f"--chunk must be smaller for the memory there is; got {args.chunk!r} (a tile of "
            f"its pixels needs about {_gib(tile)}, {_gib(have)} available). Give e.g. --chunk "
            "64x64.")
    need = ny * nx * 1024 * 4  # the cube's spectra, as float32 (a table takes more)
    try:
        free = shutil.disk_usage(out.resolve().parent).free
    except OSError:  # (the folder's own check names a missing one)
        return
    if need > free:
        raise RamancamError(
            f"--shape must be smaller for the disk space there is; got {args.shape!r} "
            f"({_count(ny * nx)} spectra x 1024 channels need at least {_gib(need)}, "
            f"{_gib(free)} free where --out goes). Give a smaller map, e.g. --shape 300x300.")


def _map(args: argparse.Namespace, out: Path) -> int:
    from ..simulate import write_simulated_map

    ny, nx = _pair(args.shape, "shape", "NXxNY", "300x300")
    cy, cx = _pair(args.chunk, "chunk", "CXxCY", "64x64")
    layout = write_simulated_map(out, (ny, nx), chunks=(cy, cx), seed=args.seed,
                                 n_random_peaks=args.random_peaks, fwhm=args.fwhm,
                                 noise=args.noise)
    counts = np.bincount(layout.truth(slice(0, ny), slice(0, nx)).ravel(),
                         minlength=len(layout.class_names)) if ny * nx <= 4_000_000 else None
    share = ("" if counts is None else " (" + ", ".join(
        f"{c} {k / (ny * nx):.0%}" for c, k in zip(layout.class_names, counts, strict=True))
        + ")")
    print(f"wrote a {nx} x {ny} map ({nx * ny} spectra, 1024 channels, "
          f"{len(layout.class_names)} classes{share}) to {out}")
    return 0
