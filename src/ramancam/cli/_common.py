"""Options shared by several sub-commands (data + labels, recipe + grid, splits)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..spectra import Spectra

LABELS_FROM_HELP = (
    "where folder labels come from: 'folder' (sub-folder names), 'header:KEY' (a ##KEY= "
    "header value, e.g. header:NAMES), 'regex:R' (first group of R matched on the file name), "
    "or 'manifest:F' (a CSV with columns file,label)")

GROUPS_FROM_HELP = (
    "groups (e.g. biological replicate, patient) for folders, same forms as --labels-from "
    "(a manifest needs columns file,group); they fill the metadata column 'group', which "
    "train and baseline then use for group-aware folds")


def add_data_arguments(p: argparse.ArgumentParser, *, name: str = "data",
                       help: str = "a spectra file (wide CSV/TSV, .gz too, two-column text, "
                                   "RRUFF text, SPC, WDF, JCAMP-DX) or a folder of such "
                                   "files") -> None:
    """Positional DATA plus ``--label-col`` / ``--labels-from`` / ``--groups-from``."""
    p.add_argument(name, help=help)
    g = p.add_argument_group("labels")
    g.add_argument("--label-col", metavar="C",
                   help="wide tables (a file or a folder of them): the column holding the "
                        "class label; empty cells are unlabelled spectra")
    g.add_argument("--labels-from", metavar="SPEC", help=LABELS_FROM_HELP)
    g.add_argument("--groups-from", metavar="SPEC", help=GROUPS_FROM_HELP)
    add_xy_argument(p)


def add_xy_argument(p: argparse.ArgumentParser) -> None:
    """``--xy-cols X,Y``: the metadata columns holding pixel positions (maps)."""
    p.add_argument("--xy-cols", metavar="X,Y",
                   help="maps: the two columns holding each spectrum's pixel position "
                        "(default: columns named x and y, when present and numeric)")


def read_data(args: argparse.Namespace, *, name: str = "data") -> Spectra:
    """Read the DATA argument with the label and group options (and ``--xy-cols``)."""
    from ..io import read

    s = read(getattr(args, name), label_col=args.label_col, labels_from=args.labels_from,
             groups_from=getattr(args, "groups_from", None))
    return apply_xy_cols(s, getattr(args, "xy_cols", None))


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
            f"spectra must carry class labels; got {len(raw)} spectra, all with an empty "
            "label. Check --label-col / --labels-from.")
    print(f"left out {n_out} unlabelled spectra (empty label); using {int(keep.sum())}")
    return raw[np.flatnonzero(keep)]


def group_col_of(args: argparse.Namespace) -> str | None:
    """The metadata column of group-aware folds: ``--group-col``, or ``group`` when the
    groups come from ``--groups-from``."""
    from ..io import GROUP_COL

    if getattr(args, "groups_from", None) is not None and args.group_col is None:
        return GROUP_COL
    return args.group_col


def add_recipe_arguments(p: argparse.ArgumentParser) -> None:
    """``--recipe`` and ``--grid``."""
    g = p.add_argument_group("preprocessing")
    g.add_argument("--recipe", default="paper", metavar="paper|asls|arpls|none|FILE.json",
                   help="preprocessing: 'paper' (linear baseline through the end points, "
                        "spline resampling onto the grid, normalise to max), 'asls' or "
                        "'arpls' (resample, then that pybaselines baseline, then normalise to "
                        "max: for spectra whose end points are not baseline), 'none' (data "
                        "already on one common axis, e.g. simulated sets), or a recipe JSON "
                        "file (default: paper)")
    g.add_argument("--grid", metavar="START:STOP:STEP",
                   help="resampling grid in cm-1, inclusive (default 350:1800:1, the paper's "
                        "1451 points)")


def parse_grid(text: str | None) -> tuple[float, float, float] | None:
    """Parse ``START:STOP:STEP`` into three floats (None stays None)."""
    from ..errors import RamancamError

    if text is None:
        return None
    parts = text.split(":")
    try:
        start, stop, step = (float(v) for v in parts)
    except ValueError:
        raise RamancamError(
            f"--grid must be START:STOP:STEP, e.g. 400:1800:1; got {text!r}.") from None
    if not step > 0 or not stop > start:
        raise RamancamError(
            f"--grid must have STOP > START and STEP > 0; got {text!r}.")
    return start, stop, step


def build_recipe(args: argparse.Namespace) -> Any:
    """The recipe named by ``--recipe``/``--grid`` (``None`` for ``--recipe none``)."""
    from pathlib import Path

    from ..errors import RamancamError
    from ..preprocess import Recipe, baseline_recipe, paper_recipe

    grid = parse_grid(getattr(args, "grid", None))
    if args.recipe == "none":
        if grid is not None:
            raise RamancamError("--grid needs a recipe that resamples; got --recipe none. "
                                "Drop --grid or use --recipe paper.")
        return None
    if args.recipe == "paper":
        return paper_recipe() if grid is None else paper_recipe(grid=grid)
    if args.recipe in ("asls", "arpls"):
        return (baseline_recipe(args.recipe) if grid is None
                else baseline_recipe(args.recipe, grid=grid))
    path = Path(args.recipe)
    if not path.is_file():
        raise RamancamError(f"--recipe must be 'paper', 'asls', 'arpls', 'none' or a recipe "
                            f"JSON file; got {args.recipe!r} (no such file).")
    recipe = Recipe.from_json(path.read_text(encoding="utf-8"))
    return recipe if grid is None else recipe.with_grid(grid)


def spectrum_ids(s: Any) -> list[str]:
    """Row ids for output tables: the ``id`` metadata column, else the source file names when
    they are unique, else 0, 1, 2, ..."""
    from pathlib import Path

    if "id" in s.meta:
        return [str(v) for v in s.meta["id"]]
    names = [Path(src).name for src in s.sources]
    if names and len(set(names)) == len(names) and all(names):
        return names
    return [str(i) for i in range(len(s))]


def read_labelled_on_grid(args: argparse.Namespace, purpose: str) -> tuple[Any, Any, Any]:
    """Read ``args.data`` with labels, build the recipe and apply it (train, baseline).

    Returns ``(raw, recipe, data)``: the labelled spectra as read (spectra with an empty
    label are left out, with one printed line), the recipe (``None`` for
    ``--recipe none``) and the preprocessed spectra, which lie on one common axis. ``purpose``
    completes the error messages ("for training", "for a baseline").
    """
    from ..errors import RamancamError

    raw = read_data(args)
    if raw.labels is None:
        raise RamancamError(
            f"{args.data} must carry class labels {purpose}; got unlabelled spectra. Give "
            "--label-col (wide tables) or --labels-from (folders).")
    raw = drop_unlabelled(raw)
    if getattr(args, "groups_from", None) is not None:
        if getattr(args, "split_col", None) is not None:
            raise RamancamError(
                "--groups-from gives groups for group-aware folds; got --split-col too, a "
                "fixed split that does not use groups. Drop one of them.")
        args.group_col = group_col_of(args)  # the folds below group by the 'group' column
    recipe = build_recipe(args)
    data = raw if recipe is None else recipe.apply(raw)
    if not data.has_common_axis:
        raise RamancamError(
            f"spectra must lie on one common axis {purpose}; got {len(data)} spectra on "
            "different axes. Use --recipe paper (with --grid) to resample them.")
    return raw, recipe, data


def add_split_arguments(p: argparse.ArgumentParser) -> None:
    """Cross-validation / split options and ``--seed``."""
    g = p.add_argument_group("validation")
    g.add_argument("--folds", type=int, default=5, metavar="K",
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
    g.add_argument("--train-value", metavar="V", default="train",
                   help="with --split-col: the value marking training spectra (default train)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def spatial_splits(args: argparse.Namespace, data: Any) -> Any:
    """Train/test index pairs of ``--spatial-folds`` (None when the option is not given)."""
    if getattr(args, "spatial_folds", None) is None:
        for opt in ("spatial_block", "spatial_buffer"):
            if getattr(args, opt, None) is not None:
                from ..errors import RamancamError

                raise RamancamError(
                    f"--{opt.replace('_', '-')} must come with --spatial-folds K; got it "
                    "alone. Add --spatial-folds or drop it.")
        return None
    from ..maps.folds import spatial_splits as _splits

    if args.spatial_buffer is None:
        args.spatial_buffer = 1  # the default, recorded in the saved settings
    return _splits(data, n_splits=args.spatial_folds, block_size=args.spatial_block,
                   buffer=args.spatial_buffer, random_state=args.seed)


@contextmanager
def convergence_note(model: str = "PLS-DA") -> Iterator[None]:
    """Hold back scikit-learn's PLS warnings (``ConvergenceWarning``, and "y residual is
    constant"), which PLS-DA's inner search raises once per fit in the middle of the output,
    and say each kind once, in one line, at the end of the block. Other warnings are shown as
    usual."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.filterwarnings("always", message="y residual is constant")
        yield
    n_iter = n_const = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            n_iter += 1
        elif str(w.message).startswith("y residual is constant"):
            n_const += 1
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if n_iter:
        print(f"note: {model} did not fully converge in {n_iter} of its inner fits (scikit-learn's "
              "iteration limit); those components are used as they are and its accuracy is "
              "the one shown")
    if n_const:
        print(f"note: {model} ran out of class information before its largest number of "
              f"components in {n_const} inner fits (scikit-learn: 'y residual is constant'); "
              "the inner search chose among the components that carry some")
