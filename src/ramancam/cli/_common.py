"""Options shared by several sub-commands (data + labels, recipe + grid, splits)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import spectra_count

if TYPE_CHECKING:
    from ..spectra import Spectra

LABELS_FROM_HELP = (
    "where folder labels come from: 'folder' (sub-folder names), 'header:KEY' (a ##KEY= "
    "header value, e.g. header:NAMES), 'regex:R' (first group of R matched on the file name), "
    "'id:R' (the same on each spectrum's id, e.g. a column table's header names), "
    "or 'manifest:F' (a CSV with columns file,label)")

GROUPS_FROM_HELP = (
    "groups (e.g. biological replicate, patient) for folders, same forms as --labels-from "
    "(a manifest needs columns file,group); they fill the metadata column 'group', which "
    "train and baseline then use for group-aware folds")


def add_data_arguments(p: argparse.ArgumentParser, *, name: str = "data",
                       metavar: str = "DATA",
                       help: str = "a spectra file (wide CSV/TSV, .gz too, a long table of a row "
                                   "per point, two-column text, "
                                   "RRUFF text, SPC, WDF, JCAMP-DX, OPUS, SIF, SPA, Excel "
                                   ".xlsx/.xls, "
                                   "MATLAB .mat; FILE:NAME for a sheet or a MATLAB matrix) or a "
                                   "folder of such files; '-': standard input",
                       groups: bool = True) -> None:
    """Positional DATA plus ``--files``, ``--label-col`` / ``--labels-from`` /
    ``--groups-from`` (``groups=False``: not offered, for commands that use no groups)."""
    p.add_argument(name, metavar=metavar, help=help)
    add_reading_arguments(p)
    g = p.add_argument_group("labels")
    g.add_argument("--label-col", metavar="C",
                   help="wide tables (a file or a folder of them; workbooks; MATLAB files): "
                        "the column (variable) holding the class label; empty cells are "
                        "unlabelled spectra")
    g.add_argument("--labels-from", metavar="SPEC", help=LABELS_FROM_HELP)
    if groups:
        g.add_argument("--groups-from", metavar="SPEC", help=GROUPS_FROM_HELP)
    add_xy_argument(p)


def add_reading_arguments(p: argparse.ArgumentParser) -> None:
    """``--files GLOB`` (which files of a folder to read) and ``--laser-nm NM`` (a wavelength
    axis to convert)."""
    p.add_argument("--files", metavar="GLOB",
                   help="folders: read only the files matching GLOB (searched in all "
                        "sub-folders unless it holds a '/'; case ignored), e.g. '*.spc' or "
                        "'spectra/*.txt'; quote it. Default: every file with a spectrum "
                        "suffix, except README/LICENSE notes, hidden files and a disk's "
                        "system folders (lost+found, ...)")
    p.add_argument("--laser-nm", metavar="NM", type=float,
                   help="the files' x axis is absolute (wavelengths in nm, or absolute "
                        "wavenumbers: an axis wholly above 4500 cm-1, even one a file states "
                        "in cm-1): convert it to Raman shift with this laser, e.g. 785 (1e7/NM "
                        "- 1e7/nm, or 1e7/NM - cm-1). Files stating nm need it; files stating "
                        "a Raman shift below 4500 cm-1 are left as they are")
    p.add_argument("--axis-offset", metavar="CM", type=float,
                   help="add CM to every Raman shift read (after --laser-nm): corrects a "
                        "spectrometer whose axis sits off, e.g. -2.5 when predict's 'axis:' "
                        "line says the bands sit 2.5 cm-1 higher than the model's training "
                        "spectra; measure it on a standard with 'ramancam info FILE "
                        "--standard polystyrene' (or silicon, cyclohexane, acetaminophen)")


def add_xy_argument(p: argparse.ArgumentParser) -> None:
    """``--xy-cols X,Y``: the metadata columns holding pixel positions (maps)."""
    p.add_argument("--xy-cols", metavar="X,Y",
                   help="maps: the two columns holding each spectrum's pixel position "
                        "(default: columns named x and y, when present and numeric)")


def read_data(args: argparse.Namespace, *, name: str = "data") -> Spectra:
    """Read the DATA argument with the label and group options (and ``--xy-cols``)."""
    from ..io import read
    from ._progress import files_progress
    from ._stdin import shown_as

    s = read(getattr(args, name), label_col=args.label_col, labels_from=args.labels_from,
             groups_from=getattr(args, "groups_from", None), files=getattr(args, "files", None),
             progress=files_progress(shown_as(getattr(args, name))))
    s = apply_axis_offset(apply_laser_nm(s, args, getattr(args, name)),
                          getattr(args, "axis_offset", None))
    return apply_xy_cols(s, getattr(args, "xy_cols", None))


#: ``--axis-offset``: the largest correction taken (cm-1); more is no calibration error.
MAX_AXIS_OFFSET = 50.0


def check_axis_offset(offset: float) -> None:
    """Refuse an ``--axis-offset`` that is no calibration error (not finite, or beyond
    :data:`MAX_AXIS_OFFSET`)."""
    from ..errors import RamancamError

    if not (math.isfinite(offset) and abs(offset) <= MAX_AXIS_OFFSET):
        raise RamancamError(
            f"--axis-offset must be a number of cm-1 between -{MAX_AXIS_OFFSET:g} and "
            f"{MAX_AXIS_OFFSET:g}; got {offset!r}. A calibration error is a few cm-1; "
            "measure it with 'ramancam info FILE --standard polystyrene'.")


def apply_axis_offset(s: Spectra, offset: float | None) -> Spectra:
    """``--axis-offset CM``: ``CM`` added to every spectrum's Raman-shift axis (else as is).
    The metadata column ``axis_offset_cm1`` records it."""
    import numpy as np

    if offset is None:
        return s
    check_axis_offset(offset)
    meta = {**s.meta, "axis_offset_cm1": np.full(len(s), float(offset))}
    if s.has_common_axis:
        return s.replace(wavenumbers=np.asarray(s.wavenumbers, dtype=np.float64) + offset,
                         meta=meta)
    return s.replace(wavenumbers=[np.asarray(a, dtype=np.float64) + offset for a in s.axes],
                     meta=meta)


def apply_laser_nm(s: Spectra, args: argparse.Namespace, source: Any) -> Spectra:
    """``--laser-nm``: the spectra's wavelength axis converted to Raman shift (else as is);
    spectra whose file states a Raman-shift axis (JCAMP-DX ``##XUNITS=1/CM``, SPC ``XRAMANS``,
    WDF, ...) are left as they are, said in one ``note:`` line.
    Without it, spectra whose file says their axis is in nm (``x_units`` ``"nm"``, e.g. an
    Ocean Insight export in wavelengths) are refused: they would pass for Raman shifts."""
    import numpy as np

    from ..errors import RamancamError

    laser = getattr(args, "laser_nm", None)
    if laser is None:
        units = s.meta.get("x_units")
        in_nm = np.flatnonzero(np.asarray(units if units is not None else []).astype(str)
                               == "nm")
        if in_nm.size:
            from ..io._units import nm_refusal

            i = int(in_nm[0])
            raise RamancamError(nm_refusal(s.sources[i] or source, s.axes[i]))
        return s
    from ..io import convert_wavelengths

    # spectra whose file states a Raman-shift axis are left as they are, said in a note
    out, note = convert_wavelengths(s, laser, source=source)
    if note:  # on stderr beside --json, whose stdout is the JSON alone
        import sys

        print(f"note: --laser-nm {laser:g}: {note}",
              file=sys.stderr if getattr(args, "json", False) else sys.stdout)
    return out


def apply_xy_cols(s: Spectra, xy_cols: str | None) -> Spectra:
    """Turn the ``--xy-cols`` columns into the float positions ``meta["x"]``/``meta["y"]``."""
    if xy_cols is None:
        return s
    from ..maps.grid import parse_xy_cols, with_positions

    return with_positions(s, *parse_xy_cols(xy_cols))


def drop_unlabelled(raw: Spectra) -> Spectra:
    """``raw`` without the spectra whose label is ``""``, saying how many were left out (one
    printed line; nothing when all are labelled)."""
    import numpy as np

    from ..errors import RamancamError

    assert raw.labels is not None
    keep = raw.labels != ""
    n_out = int((~keep).sum())
    if not n_out:
        return raw
    if not keep.any():
        raise RamancamError(
            f"spectra must carry class labels; got {spectra_count(len(raw))}, all with an empty "
            "label. Check --label-col / --labels-from.")
    print(f"left out {n_out} unlabelled spectra (empty label); using {int(keep.sum())}")
    return raw[np.flatnonzero(keep)]


def drop_flat(raw: Spectra, recipe: Any) -> tuple[Spectra, list[str]]:
    """``raw`` without the spectra that hold one value (or a straight line) throughout the
    recipe's grid (dead spectra: a closed shutter, a pixel off the sample; no recipe that
    normalises can use them), and their ids, saying which were left out (one printed line;
    nothing when there are none)."""
    import numpy as np

    from ..checks import flat_spectra
    from ..errors import RamancamError

    grid = None if recipe is None else recipe.grid
    flat = flat_spectra(raw, None if grid is None else (float(grid[0]), float(grid[-1])))
    if not flat:
        return raw, []
    ids = raw.ids
    flat_ids = [ids[i] for i in flat]
    where = "" if grid is None else f" {grid[0]:g}-{grid[-1]:g} cm-1"
    if len(flat) == len(raw):
        raise RamancamError(
            f"spectra must vary{where}; got {spectra_count(len(raw))}, each with one value "
            f"or a straight line throughout (first: {flat_ids[0]}). Check the files"
            + (", or choose a --grid where they were measured." if grid is not None
               else "."))
    keep = np.ones(len(raw), dtype=bool)
    keep[flat] = False
    print(f"left out {spectra_count(len(flat), 'flat')} (one value or a straight line "
          f"throughout{where}: {first_ids(flat_ids)}); using {int(keep.sum())}")
    return raw[np.flatnonzero(keep)], flat_ids


def left_out_text(left: dict[str, Any]) -> str:
    """``6 unlabelled spectra; 1 flat spectrum (s03)``: the spectra
    :func:`prepare_labelled` left out (``args.left_out``, saved in the model's training
    summary), or "" for none."""
    parts = ([spectra_count(int(left["unlabelled"]), "unlabelled")] if left.get("unlabelled")
             else [])
    for kind in ("flat", "clipped", "unusable"):
        ids = [str(i) for i in left.get(kind) or []]
        if ids:
            what = (f"{spectra_count(len(ids), 'test')} the training part's recipe cannot use"
                    if kind == "unusable" else spectra_count(len(ids), kind))
            parts.append(f"{what} ({first_ids(ids)})")
    return "; ".join(parts)


def group_col_of(args: argparse.Namespace) -> str | None:
    """The metadata column of group-aware folds: ``--group-col``, or ``group`` when the
    groups come from ``--groups-from``."""
    from ..io import GROUP_COL

    if getattr(args, "groups_from", None) is not None and args.group_col is None:
        return GROUP_COL
    return args.group_col


#: ``--recipe`` when none is given: the paper's recipe, or asls where the paper's end-point
#: line cannot be used (see :func:`prepare_labelled` and docs/realdata.md).
DEFAULT_RECIPE = "auto"
#: Ids of refused or clipped spectra that ``train``/``predict``/``explain`` print.
MAX_SHOWN_REFUSED = 5
#: ``--normalize`` choices (``ramancam.preprocess.NORMALIZATIONS``).
NORMALIZE_CHOICES = ("max", "area", "minmax", "snv", "vector")
# The default grid and recipe (PAPER_GRID, auto_grid, full_grid, auto_recipe) live in
# ramancam.preprocess.auto, so that a notebook gets what train builds; imported lazily here.


def add_recipe_arguments(p: argparse.ArgumentParser) -> None:
    """``--recipe`` and ``--grid``."""
    g = p.add_argument_group("preprocessing")
    g.add_argument("--recipe", default=DEFAULT_RECIPE,
                   metavar="auto|paper|paper-grid|asls|arpls|none|FILE.json|MODEL",
                   help="preprocessing: 'auto' (default: the paper recipe; if its end-point "
                        "line lies above a whole spectrum (nothing positive left), as for "
                        "spectra already baseline-corrected by their source, asls instead; "
                        "the choice is printed and saved, and each CV fold, or a fixed "
                        "split, makes it again on its training part alone), "
                        "'paper' (linear baseline through the end points, spline resampling "
                        "onto the grid, normalise to max), 'paper-grid' (the same with its "
                        "line through the grid's ends, resampling first: inputs that do not "
                        "depend on how far an instrument measured beyond the grid, for "
                        "models used on spectra from other instruments), 'asls' or 'arpls' "
                        "(resample, then that pybaselines baseline, then normalise to max), "
                        "'none' (data already on one common axis, e.g. simulated sets), a "
                        "recipe JSON file (Recipe.to_json), or a model file, whose recipe is "
                        "reused (--grid and --normalize still apply)")
    g.add_argument("--grid", metavar="START:STOP:STEP|full[:STEP]",
                   help="resampling grid in cm-1, inclusive (default: the paper's 350-1800 "
                        "at 1 cm-1, narrowed to the range every spectrum covers, or that whole "
                        "range when it holds under 200 cm-1 of 350-1800 or under a "
                        "quarter of the range, as for high-wavenumber spectra; 'full': the "
                        "whole range every spectrum covers, at 1 cm-1 or at STEP)")
    g.add_argument("--normalize", choices=NORMALIZE_CHOICES, metavar="|".join(NORMALIZE_CHOICES),
                   help="the recipe's normalisation instead of its own (built-in recipes: "
                        "max, as the paper): snv (centre and scale each spectrum by its own "
                        "mean and standard deviation), vector (unit norm), area (unit area) "
                        "or minmax; 'auto' still decides on the paper's baseline with max")
    g.add_argument("--drop-clipped", action="store_true",
                   help="leave out the spectra clipped inside the grid (maximum held over "
                        "several points: a saturated detector; 'ramancam info' counts them) "
                        "and print which; without it they are kept and named in a note")


def parse_grid(text: str | None) -> tuple[float, float, float] | None:
    """Parse ``START:STOP:STEP`` into three floats (None stays None)."""
    from ..errors import RamancamError

    if text is None:
        return None
    from ..preprocess import make_grid
    parts = text.split(":")
    try:
        start, stop, step = (float(v) for v in parts)
    except ValueError:
        raise RamancamError(
            f"--grid must be START:STOP:STEP, e.g. 400:1800:1; got {text!r}.") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise RamancamError(f"--grid must be finite numbers START:STOP:STEP, e.g. 400:1800:1; "
                            f"got {text!r}.")
    if not step > 0 or not stop > start:
        raise RamancamError(
            f"--grid must have STOP > START and STEP > 0; got {text!r}.")
    try:  # make_grid's "grid must have at most 10^7 points", in the option's name
        n = make_grid(start, stop, step).size
    except RamancamError as exc:
        raise RamancamError(f"--{exc}") from None
    if n < MIN_GRID_POINTS:
        # a round step (1, 2 or 5 times a power of ten) that divides the range into
        # 4 x the minimum or more: 400:410:0.1, where 0.156 left the end off the grid
        target = (stop - start) / (4 * MIN_GRID_POINTS)
        power = 10.0 ** math.floor(math.log10(target))
        nice = max(m * power for m in (1, 2, 5) if m * power <= target)
        raise RamancamError(
            f"--grid must hold at least {MIN_GRID_POINTS} points; got {text!r} ({n}). Use a "
            f"STEP well below STOP - START, e.g. {start:g}:{stop:g}:{nice:g}.")
    return start, stop, step


#: ``--grid``: the fewest points a grid may hold (a spectrum needs a few points per band).
MIN_GRID_POINTS = 16


def build_recipe(args: argparse.Namespace, spectra: Any = None) -> Any:
    """The recipe named by ``--recipe``/``--grid``/``--normalize`` (``None`` for ``--recipe
    none``).

    Without ``--grid``, built-in recipes resample onto :func:`~ramancam.preprocess.auto_grid` of
    ``spectra`` (the paper's grid when ``spectra`` is None); ``--grid full`` onto
    :func:`~ramancam.preprocess.full_grid`.
    ``--normalize`` replaces the recipe's normalisation, except for ``--recipe auto``, whose
    baseline decision is made with max normalisation first (:func:`prepare_labelled`).
    """
    from ..errors import RamancamError
    from ..preprocess.auto import full_grid

    text = getattr(args, "grid", None)
    if args.recipe == "none":
        if text is not None:
            raise RamancamError("--grid needs a recipe that resamples; got --recipe none. "
                                "Drop --grid or use --recipe paper.")
        if getattr(args, "normalize", None) is not None:
            raise RamancamError("--normalize needs a recipe; got --recipe none. Drop "
                                "--normalize or use --recipe paper.")
        return None
    if text is not None and text.strip().lower().split(":")[0] == "full":
        if spectra is None:
            raise RamancamError("--grid full needs the spectra to find their common range; "
                                "give --grid START:STOP:STEP here.")
        grid: tuple[float, float, float] | None = full_grid(spectra, _full_step(text))
    else:
        grid = parse_grid(text)
    recipe = _named_recipe(args, grid, spectra)
    method = getattr(args, "normalize", None)
    if method is None or args.recipe == "auto":  # auto decides with max, then applies it
        return recipe
    return with_normalization(recipe, method)


def _full_step(text: str) -> float:
    """The step of ``--grid full`` (1 cm-1) or ``--grid full:STEP``."""
    from ..errors import RamancamError
    from ..preprocess.auto import PAPER_GRID

    parts = text.strip().split(":")
    if len(parts) == 1:
        return PAPER_GRID[2]
    try:
        step = float(parts[1]) if len(parts) == 2 else float("nan")
    except ValueError:
        step = float("nan")
    if not 0 < step < float("inf"):
        raise RamancamError(f"--grid full takes an optional positive step, e.g. full:2; got "
                            f"{text!r}.")
    return step


def with_normalization(recipe: Any, method: str) -> Any:
    """``recipe`` with its (last) normalize step's method set to ``method`` (a normalize step
    is added at the end when it has none)."""
    from ..preprocess import Recipe, Step

    steps = list(recipe.steps)
    idx = [k for k, st in enumerate(steps) if st.name == "normalize"]
    if idx:
        steps[idx[-1]] = Step("normalize", {**steps[idx[-1]].params, "method": method})
    else:
        steps.append(Step("normalize", {"method": method}))
    return Recipe(steps)


def _named_recipe(args: argparse.Namespace, grid: tuple[float, float, float] | None,
                  spectra: Any) -> Any:
    """The recipe of ``--recipe`` on ``grid`` (see :func:`build_recipe`)."""
    import zipfile
    from pathlib import Path

    from ..errors import RamancamError
    from ..preprocess import Recipe, baseline_recipe, paper_recipe
    from ..preprocess.auto import PAPER_GRID, auto_grid

    if grid is None and args.recipe in ("auto", "paper", "paper-grid", "asls", "arpls"):
        grid = PAPER_GRID if spectra is None else auto_grid(spectra)
    if args.recipe in ("paper", "auto"):  # "auto" starts from the paper's recipe
        return paper_recipe() if grid is None else paper_recipe(grid=grid)
    if args.recipe == "paper-grid":  # its straight line through the grid's ends
        return paper_recipe(PAPER_GRID if grid is None else grid, line_through="grid")
    if args.recipe in ("asls", "arpls"):
        return (baseline_recipe(args.recipe) if grid is None
                else baseline_recipe(args.recipe, grid=grid))
    path = Path(args.recipe)
    if not path.is_file():
        raise RamancamError(f"--recipe must be 'auto', 'paper', 'paper-grid', 'asls', 'arpls', "
                            f"'none', a recipe JSON file or a model file; got {args.recipe!r} "
                            f"({'a folder' if path.is_dir() else 'no such file'}).")
    try:
        recipe = (_model_recipe(path) if zipfile.is_zipfile(path)
                  else Recipe.from_json(path.read_text(encoding="utf-8-sig")))
    except UnicodeDecodeError:
        raise RamancamError(f"--recipe {path} must be a recipe JSON file (UTF-8 text) or a "
                            "model file; got bytes that are neither. Give a file "
                            "Recipe.to_json wrote, or a model whose recipe to reuse."
                            ) from None
    except RamancamError as exc:
        raise RamancamError(f"--recipe {path}: {exc}") from None
    if grid is not None and not any(st.name == "resample" for st in recipe.steps):
        raise RamancamError(f"--grid needs a recipe that resamples; --recipe {path} has no "
                            "resample step. Drop --grid or add a resample step to the recipe.")
    return recipe if grid is None else recipe.with_grid(grid)


def _model_recipe(path: Any) -> Any:
    """The recipe saved in the model file ``path`` (``--recipe MODEL``: preprocess as that
    model does)."""
    from ..bundle import load
    from ..errors import RamancamError

    recipe = load(path).recipe
    if recipe is None:
        raise RamancamError("the model was trained with --recipe none; it has no recipe to "
                            "reuse. Give --recipe none too.")
    return recipe


def read_labelled_on_grid(args: argparse.Namespace, purpose: str) -> tuple[Any, Any, Any]:
    """Read ``args.data`` with labels, build the recipe and apply it (train, baseline).

    Returns ``(raw, recipe, data)``: the labelled spectra as read (spectra with an empty
    label are left out, with one printed line), the recipe (``None`` for
    ``--recipe none``) and the preprocessed spectra, which lie on one common axis. ``purpose``
    completes the error messages ("for training", "for a baseline").
    """
    return prepare_labelled(args, read_data(args), purpose)


#: Metadata column names that probably hold the class (named in the unlabelled-data error).
LABEL_LIKE = ("label", "labels", "class", "classes", "target", "y", "category", "species",
              "substance", "material", "polymer", "mineral")


def label_like(columns: Any) -> list[str]:
    """The metadata columns whose name suggests class labels (:data:`LABEL_LIKE`), except
    ``y`` beside an ``x``: a map's positions."""
    names = [str(c) for c in columns]
    has_x = any(n.strip().lower() == "x" for n in names)
    return [n for n in names if n.strip().lower() in LABEL_LIKE
            and not (has_x and n.strip().lower() == "y")]


def given_recipe_text(args: argparse.Namespace) -> str:
    """``--recipe`` as given, with ``--normalize`` beside it (``paper, normalize snv``):
    what ``recipe_used`` says before ``--recipe auto`` makes its choice."""
    if getattr(args, "normalize", None) is not None and args.recipe != "auto":
        return f"{args.recipe}, normalize {args.normalize}"
    return str(args.recipe)


def _stripped_groups(raw: Any, column: str | None) -> Any:
    """``raw`` with the text values of group column ``column`` stripped of surrounding
    spaces, as labels are: ``"P0"`` and ``"P0 "`` are one patient, for the folds, the notes
    and every fit's held-out scores alike."""
    import numpy as np

    if column is None or column not in raw.meta:
        return raw
    values = np.asarray(raw.meta[column])
    if values.dtype.kind not in "USO":
        return raw
    stripped = np.char.strip(values.astype(str))
    if np.array_equal(stripped, values.astype(str)):
        return raw
    return raw.replace(meta={**raw.meta, column: stripped})


def prepare_labelled(args: argparse.Namespace, raw: Any, purpose: str
                     ) -> tuple[Any, Any, Any]:
    """:func:`read_labelled_on_grid` for spectra already read (benchmarks call this)."""
    from ..errors import RamancamError

    if raw.labels is None:
        import shlex

        likely = label_like(raw.meta)
        raise RamancamError(
            f"{args.data} must carry class labels {purpose}; got unlabelled spectra. Give "
            + (f"--label-col {shlex.quote(str(likely[0]))} (the table has a column "
               f"{likely[0]!r})."
               if likely else "--label-col (wide tables) or --labels-from (folders)."))
    n_read = len(raw)
    raw = drop_unlabelled(raw)
    check_two_classes(args, raw.labels)  # before any preprocessing
    # what train records in the model and its report (info prints it)
    args.left_out = {"unlabelled": n_read - len(raw)} if len(raw) < n_read else {}
    if getattr(args, "groups_from", None) is not None:  # beside --split-col: refused before
        args.group_col = group_col_of(args)  # the folds below group by the 'group' column
        args.groups_from_used = True  # not the user's --group-col (check_split_options)
    raw = _stripped_groups(raw, getattr(args, "group_col", None))
    recipe = build_recipe(args, raw)
    raw, dead = drop_flat(raw, recipe)
    if dead:
        args.left_out["flat"] = dead
        check_two_classes(args, raw.labels, " once the flat spectra are left out")
    args.recipe_used = given_recipe_text(args)
    if args.recipe == "auto":
        recipe, data = _normalized_auto(args, raw, recipe)
    else:
        data = raw if recipe is None else recipe.apply(raw)
    if recipe is None and data.has_common_axis and data.wavenumbers[0] > data.wavenumbers[-1]:
        # a descending axis (as WiRE writes it): trained ascending, as a model's grid is;
        # predict takes spectra on the grid reversed for such a model
        raw = data = data.replace(data.X[:, ::-1], data.wavenumbers[::-1])
    if not data.has_common_axis:
        raise RamancamError(
            f"spectra must lie on one common axis {purpose}; got {len(data)} spectra on "
            "different axes. Leave out --recipe (auto resamples them onto the range they "
            "share) or give --recipe paper, asls or arpls (with --grid).")
    if getattr(args, "drop_clipped", False):
        raw, data, clipped = _drop_clipped(raw, data, purpose)
        if clipped:
            args.left_out["clipped"] = clipped
            check_two_classes(args, raw.labels, " once the clipped spectra are left out")
    return raw, recipe, data


def check_two_classes(args: argparse.Namespace, labels: Any, after: str = "") -> None:
    """Refuse labelled spectra of one class (train, baseline), in the command line's words:
    the data and the option that labelled them (the estimators' own message speaks of
    ``y``, and came only after the preprocessing)."""
    import shlex

    import numpy as np

    from ..errors import RamancamError
    from ._stdin import shown_as

    classes = np.unique(np.asarray(labels).astype(str))
    if classes.size >= 2:
        return
    label_col, labels_from = getattr(args, "label_col", None), getattr(args, "labels_from",
                                                                        None)
    if label_col is not None:
        source = f"--label-col {shlex.quote(str(label_col))}"
        fix = "; if another column holds the classes, name it with --label-col"
    elif labels_from is not None:
        source = f"--labels-from {shlex.quote(str(labels_from))}"
        fix = "; or check that --labels-from gives each class its own label"
    else:
        source, fix = "the labels", ""
    raise RamancamError(
        f"{shown_as(args.data)} must hold at least 2 classes to train a classifier; got 1 "
        f"({str(classes[0])!r}) in {source}{after}. Add spectra of another class{fix}.")


def _drop_clipped(raw: Any, data: Any, purpose: str) -> tuple[Any, Any, list[str]]:
    """``--drop-clipped``: ``raw`` and ``data`` without the spectra clipped inside the grid,
    and their ids, with one line naming them."""
    import numpy as np

    from ..errors import RamancamError

    found = clipped_in(raw, data.wavenumbers)
    if not found:
        print("--drop-clipped: no spectrum is clipped inside the grid; all kept")
        return raw, data, []
    keep = np.ones(len(raw), dtype=bool)
    keep[[c.index for c in found]] = False
    if not keep.any():
        raise RamancamError(
            f"spectra must not all be clipped {purpose} with --drop-clipped; got {len(raw)} "
            "clipped inside the grid. Drop --drop-clipped, or choose a --grid outside the "
            "saturated range.")
    ids = raw.ids
    print(clipped_line(found, ids, "inside the grid", "left out (--drop-clipped)"))
    return raw[keep], data[keep], [ids[c.index] for c in found]


def _auto_recipe(args: argparse.Namespace, raw: Any, paper: Any) -> tuple[Any, Any]:
    """``--recipe auto``: the paper's recipe, or asls on the same grid where the paper's
    straight line through the end points lies above a spectrum (max normalisation then finds
    nothing positive; :func:`ramancam.preprocess.auto_recipe`). Sets ``args.recipe_used`` to
    "auto -> paper" or "auto -> asls (...)"."""
    from ..preprocess import auto_recipe

    rs = next(st for st in paper.steps if st.name == "resample").params
    recipe, data, choice = auto_recipe(raw, grid=(rs["start"], rs["stop"], rs["step"]))
    args.recipe_used = f"auto -> {choice}"
    return recipe, data


def _normalized_auto(args: argparse.Namespace, raw: Any, paper: Any) -> tuple[Any, Any]:
    """``--recipe auto``: decide the baseline on the paper's recipe with max normalisation
    (:func:`_auto_recipe`), then apply ``--normalize`` to the chosen recipe."""
    recipe, data = _auto_recipe(args, raw, paper)
    method = getattr(args, "normalize", None)
    if method is None or method == "max":
        return recipe, data
    recipe = with_normalization(recipe, method)
    args.recipe_used = f"{args.recipe_used}, normalize {method}"
    return recipe, recipe.apply(raw)


class GivenAction(argparse.Action):
    """Store the value and record that it was given (``<dest>_given``), for an option whose
    default is a real value but which only means something beside another option."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def add_split_arguments(p: argparse.ArgumentParser) -> None:
    """Cross-validation / split options and ``--seed``."""
    g = p.add_argument_group("validation")
    g.add_argument("--folds", type=int, default=5, metavar="K", action=GivenAction,
                   help="stratified K-fold cross validation (default 5; also the number of "
                        "folds with --group-col or --groups-from)")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--group-col", metavar="C",
                   help="group-aware K-fold: spectra sharing a value of metadata column C "
                        "(batch, vial, patient) stay in one fold (--groups-from sets C to "
                        "'group')")
    m.add_argument("--split-col", metavar="C",
                   help="fixed train/test split from metadata column C (with --train-value)")
    m.add_argument("--spatial-folds", type=int, metavar="K",
                   help="maps: K folds of blocks of neighbouring pixels (x/y positions), so "
                        "that neighbours of a test pixel never train (docs/maps.md)")
    g.add_argument("--spatial-block", type=int, metavar="N",
                   help="with --spatial-folds: block side in pixels (default: about "
                        "sqrt(pixels / (4 K)), at least 2, so each fold gets about 4 blocks)")
    g.add_argument("--spatial-buffer", type=int, metavar="N",
                   help="with --spatial-folds: training leaves out pixels within N pixels of "
                        "any test pixel (default 1: the 8 neighbours)")
    g.add_argument("--train-value", metavar="V", default="train", action=GivenAction,
                   help="with --split-col: the value marking training spectra (default train)")
    g.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")


def seed_int(text: str) -> int:
    """``--seed``: an integer numpy takes as a seed (0 to 2**32 - 1)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
    if not 0 <= v <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {2**32 - 1}; got {v}")
    return v


def check_split_options(args: argparse.Namespace) -> None:
    """Refuse validation options that only mean something beside another one, before any
    data are read (:func:`spatial_splits` checks them too)."""
    from ..errors import RamancamError

    label = getattr(args, "label_col", None)
    for opt, fix in (("group_col", "the column of batches, patients or replicates"),
                     ("split_col", "the column that marks training and test spectra")):
        if label is not None and getattr(args, opt, None) == label:
            raise RamancamError(
                f"--{opt.replace('_', '-')} must name another column than the labels; got "
                f"{label!r}, which --label-col takes. Name {fix}.")
    if getattr(args, "folds", None) is not None and args.folds < 2:
        raise RamancamError(f"--folds must be an integer >= 2; got {args.folds}. Give 2 or "
                            "more.")
    if getattr(args, "split_col", None) is None and getattr(args, "train_value_given", False):
        raise RamancamError(f"--train-value must come with --split-col C; got "
                            f"{args.train_value!r} alone. Add --split-col or drop it.")
    if getattr(args, "folds_given", False):
        other = ("--split-col (a fixed split: one training and one test part)"
                 if getattr(args, "split_col", None) is not None else
                 "--spatial-folds K (which sets the number of folds itself)"
                 if getattr(args, "spatial_folds", None) is not None else None)
        if other:
            raise RamancamError(f"--folds does nothing with {other}; got --folds "
                                f"{args.folds}. Drop it.")
    if getattr(args, "groups_from", None) is not None:
        other = ("--split-col, a fixed split that does not use groups"
                 if getattr(args, "split_col", None) is not None else
                 "--group-col, which names the groups' column itself"
                 if getattr(args, "group_col", None) is not None
                 and not getattr(args, "groups_from_used", False) else
                 "--spatial-folds, whose folds are blocks of the map"
                 if getattr(args, "spatial_folds", None) is not None else None)
        if other:
            raise RamancamError(
                f"--groups-from gives groups for group-aware folds; got {other}. Drop one of "
                "them.")
    k = getattr(args, "spatial_folds", None)
    if k is not None and k < 2:
        raise RamancamError(f"--spatial-folds must be an integer >= 2; got {k}. Give 2 or "
                            "more.")
    if k is None:
        for opt in ("spatial_block", "spatial_buffer"):
            if getattr(args, opt, None) is not None:
                raise RamancamError(
                    f"--{opt.replace('_', '-')} must come with --spatial-folds K; got it "
                    "alone. Add --spatial-folds or drop it.")


def spatial_splits(args: argparse.Namespace, data: Any) -> Any:
    """Train/test index pairs of ``--spatial-folds`` (None when the option is not given),
    after :func:`check_split_options`."""
    check_split_options(args)
    if getattr(args, "spatial_folds", None) is None:
        return None
    from ..maps.folds import spatial_splits as _splits

    if args.spatial_buffer is None:
        args.spatial_buffer = 1  # the default, recorded in the saved settings
    splits = _splits(data, n_splits=args.spatial_folds, block_size=args.spatial_block,
                     buffer=args.spatial_buffer, random_state=args.seed)
    if args.spatial_block is None:  # the default side, recorded in the saved settings too
        from ..maps.folds import SpatialBlockKFold
        from ..maps.grid import grid_of

        args.spatial_block = SpatialBlockKFold(args.spatial_folds)._block_side(grid_of(data))
    return splits


@contextmanager
def convergence_note(model: str = "PLS-DA") -> Iterator[None]:
    """Hold back scikit-learn's PLS warnings (``ConvergenceWarning``, and "y residual is
    constant"), which PLS-DA's inner search raises once per fit in the middle of the output,
    and say each kind once, in one line, at the end of the block. Other warnings go as the
    caller's filters say, when they come (all were held to the end, and shown past a
    Python caller's "ignore" or "error" filter)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    n_iter = n_const = 0
    with warnings.catch_warnings():
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.filterwarnings("always", message="y residual is constant")
        shown = warnings.showwarning

        def hold(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                 line: str | None = None) -> None:
            nonlocal n_iter, n_const
            if issubclass(category, ConvergenceWarning):
                n_iter += 1
            elif str(message).startswith("y residual is constant"):
                n_const += 1
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = hold
        yield
    if n_iter:
        print(f"note: {model} did not fully converge in {n_iter} of its inner fits (scikit-learn's "
              "iteration limit); those components are used as they are and its accuracy is "
              "the one shown")
    if n_const:
        print(f"note: {model} ran out of class information before its largest number of "
              f"components in {n_const} inner fits (scikit-learn: 'y residual is constant'); "
              "the inner search chose among the components that carry some")


def prepare_chunk(bundle: Any, part: Any, ids: list[str], start: int,
                  refused: list[tuple[str, str]]) -> tuple[Any, Any]:
    """``predict``/``explain``: :meth:`ramancam.bundle.Bundle.prepare_usable` on the chunk of
    DATA that begins at row ``start``; each refused spectrum is appended to ``refused`` as
    ``(id, the recipe's message)``. Returns ``(X of the usable spectra, usable mask)``."""
    import numpy as np

    X, usable, why = bundle.prepare_usable(part)
    for j, reason in zip(np.flatnonzero(~usable).tolist(), why, strict=True):
        refused.append((ids[start + j], reason))
    return X, usable


def stop_if_all_refused(data: Any, refused: list[tuple[str, str]], n: int,
                        by_recipe: int | None = None) -> None:
    """Stop (nothing is written) when none of the ``n`` spectra can be predicted: the recipe
    refused them, or (past the first ``by_recipe`` of ``refused``) their probabilities were
    not finite."""
    from ..errors import RamancamError

    if refused and len(refused) == n:
        why = ("was refused by the model's recipe" if by_recipe is None or by_recipe == n else
               "gave probabilities that are not finite" if by_recipe == 0 else
               "was refused by the model's recipe or gave probabilities that are not finite")
        raise RamancamError(f"{data}: every spectrum {why}; the first: {refused[0][1]}")


def refused_line(refused: list[tuple[str, str]], verb: str, what: str,
                 who: str = "the model's recipe refuses") -> str:
    """The ``not <verb>:`` line of ``predict`` and ``explain``: how many spectra the model's
    recipe refused (:meth:`ramancam.bundle.Bundle.prepare_usable`), the first
    ``MAX_SHOWN_REFUSED`` ids, ``what`` became of them, and the first reason."""
    ids = [i for i, _ in refused]
    shown = first_ids(ids)
    reason = refused[0][1]
    # the recipe names the spectrum by its place in its batch; the ids above name it here
    at = reason.find(" must ")
    reason = reason[at + 1:] if at > 0 else reason
    return (f"not {verb}: {spectra_count(len(ids))} {who} ({shown}; {what}). First "
            f"reason: {reason}")


def first_ids(ids: list[str], limit: int = MAX_SHOWN_REFUSED) -> str:
    """``a, b, c`` or ``a, ..., e and 7 more``: the first ``limit`` ids of a printed line."""
    from ..errors import first_of

    return first_of(ids, limit)


def in_grid(check: Callable[..., list[Any]], data: Any, grid: Any) -> list[Any]:
    """What the spectra check ``check`` (:mod:`ramancam.checks`, taking ``within=(lo, hi)``)
    finds in ``data`` inside ``grid``'s range."""
    import numpy as np

    g = np.asarray(grid, dtype=np.float64)
    return check(data, within=(float(g.min()), float(g.max())))


def clipped_in(data: Any, grid: Any) -> list[Any]:
    """The spectra of ``data`` clipped inside ``grid``'s range
    (:func:`ramancam.checks.clipped_spectra`)."""
    from ..checks import clipped_spectra

    return in_grid(clipped_spectra, data, grid)


def span(lo: float, hi: float, spec: str = "g") -> str:
    """``lo-hi`` formatted by ``spec``, or one number where both read the same (one clipped
    spectrum was "held at 1 over 609-609 points")."""
    a, b = format(lo, spec), format(hi, spec)
    return a if a == b else f"{a}-{b}"


def clipped_line(found: list[Any], ids: list[str], where: str, advice: str) -> str | None:
    """A ``note:`` naming the clipped spectra ``found`` (:func:`clipped_in`; a saturated
    detector) by their ``ids``, or ``None`` when there are none."""
    if not found:
        return None
    n = len(found)
    shown = first_ids([ids[c.index] for c in found])
    values = ", ".join(f"{v:g}" for v in sorted({c.value for c in found}))
    return (f"note: {spectra_count(n)} clipped {where} (held at {values} "
            f"over {span(min(c.n_points for c in found), max(c.n_points for c in found))} "
            "points: "
            f"{shown}): a saturated detector; {advice}")


def implausible_note(data: Any, grid: Any, advice: str) -> str | None:
    """A ``note:`` naming the spectra of ``data`` holding values no detector counts inside
    ``grid``'s range (:func:`ramancam.checks.implausible_spectra`), or ``None``."""
    import numpy as np

    from ..checks import implausible_line, implausible_spectra

    g = np.asarray(grid, dtype=np.float64)
    return implausible_line(implausible_spectra(data, (float(g.min()), float(g.max()))),
                            data.ids, "note: ", advice)


