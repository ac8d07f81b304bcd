"""Cross validation of spectra as read, exactly as ``ramancam train`` runs it.

:func:`cross_validate_spectra` takes labelled spectra as read (any axes) and decides the
preprocessing that comes from the spectra themselves -- ``recipe="auto"`` (the paper's
straight baseline, or asls where that line lies above a spectrum) and the default grid (the
range every spectrum covers) -- on each fold's training part alone, so that a test spectrum
decides nothing of its own fold's training; the folds, the default network
(``preset="tuned"``), the baselines and the notes are ``train``'s. It runs ``train``'s own
code (``ramancam.cli._cv``): the numbers are the ones ``train`` prints for the same data
and seed.

:func:`ramancam.train.cross_validate` cross-validates spectra already preprocessed, on one
recipe decided before it (on all spectra, test spectra included).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import TYPE_CHECKING, Any

from .errors import RamancamError

if TYPE_CHECKING:
    from .cli._fold_recipes import FoldInputs
    from .spectra import Spectra
    from .train import CVResult

__all__ = ["SpectraCV", "cross_validate_spectra"]


@dataclass
class SpectraCV:
    """What :func:`cross_validate_spectra` found.

    Attributes
    ----------
    cv : CVResult
        The CNN's folds (and the baselines' in ``cv.baselines``), as ``train`` saves them.
    data : Spectra
        The preprocessed spectra the folds test (the common inputs: ``recipe`` on ``grid``),
        row for row with ``labelled``.
    labelled : Spectra
        The spectra as read that took part (unlabelled and flat ones left out, and with
        ``drop_clipped`` the clipped ones; for a fixed split, test spectra its training
        part's recipe cannot use).
    recipe : Recipe or None
        The recipe of the common inputs: decided on all spectra, or for a fixed split on its
        training part (the recipe ``train`` saves in the model); ``None`` for
        ``recipe="none"``.
    recipe_used : str
        Its name as ``train`` prints it (``auto -> paper``, ``auto -> asls (...)``).
    header : str
        ``train``'s first line (spectra, classes, points, recipe).
    lines : list of str
        Every line ``train`` prints before its accuracy table, in order: spectra left out,
        ``header``, the notes on the data and the folds, PLS-DA's convergence.
    kind : str
        The validation in words (``5-fold CV``, ``5-fold group CV``, ``fixed split``).
    decisions : list of str
        The fixed split's or the folds' own preprocessing decisions, as the model records
        them (``ramancam info MODEL``: ``decided:``); empty where every fold decided as all
        spectra did.
    fold_decisions : dict of int to FoldInputs
        The folds (0-based) whose training part alone chose another recipe or grid: their
        ``recipe``, ``recipe_used``, ``grid``, ``X`` (every spectrum on that grid),
        ``usable`` (a test spectrum that recipe cannot use counts as an error of every
        model) and ``reasons``.
    left_out : dict
        What ``train`` records as left out (``unlabelled``: a count; ``flat``,
        ``clipped``, ``unusable``: ids).
    """

    cv: CVResult
    data: Spectra
    labelled: Spectra
    recipe: Any
    recipe_used: str
    header: str
    lines: list[str]
    kind: str
    decisions: list[str] = field(default_factory=list)
    fold_decisions: dict[int, FoldInputs] = field(default_factory=dict)
    left_out: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """A summary (the dataclass's printed the folds' own inputs, every spectrum)."""
        own = (f", {len(self.fold_decisions)} fold(s) deciding their own preprocessing"
               if self.fold_decisions else "")
        return f"SpectraCV({self.kind}, recipe {self.recipe_used}{own}; {self.cv!r})"

    @property
    def notes(self) -> list[str]:
        """``lines`` without ``header``."""
        return [line for line in self.lines if line != self.header]

    def table(self) -> str:
        """The per-fold and mean +- sd accuracy table ``train`` prints."""
        from .cli.train import format_cv

        return format_cv(self.cv)

    def summary(self) -> str:
        """What ``train`` prints up to the end of its table: ``lines``, the table and the
        lines under it (the winner's; the note on imbalanced classes, which points at
        ``cv.confusion`` where ``train`` points at its model file)."""
        from .cli.train import format_winner, imbalance_line

        winner = format_winner(self.cv) if self.cv.baselines else ""
        under = [line for line in (winner, imbalance_line(
            self.cv, more="; cv.confusion is its confusion matrix")) if line]
        return "\n".join([*self.lines, "", f"accuracy ({self.kind}):", self.table(), *under])


def _grid_text(grid: str | Sequence[float] | None) -> str | None:
    """``grid`` as ``train --grid`` takes it: ``None``, text (``"400:1800:1"``,
    ``"full"``) or three numbers (start, stop, step)."""
    if grid is None or isinstance(grid, str):
        return grid
    try:
        values = [float(v) for v in grid]
    except (TypeError, ValueError):
        values = []
    if len(values) != 3:
        raise RamancamError(f"grid must be (start, stop, step) in cm-1, or text such as "
                            f"'400:1800:1' or 'full'; got {grid!r}.")
    return ":".join(repr(v) for v in values)


def _whole(value: Any) -> int | None:
    """``value`` as an int when it is a whole number of any integer type (numpy's too), not
    a bool; else ``None``."""
    import operator

    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


#: One cross validation at a time, in any thread: each fit seeds torch's global random
#: generator (dropout draws from it), and a run holds ``sys.stdout`` and scikit-learn's
#: warnings (``convergence_note``), which every thread shares.
_ONE_AT_A_TIME = threading.RLock()


class _CallersLines(io.TextIOBase):
    """``sys.stdout`` while a run lasts: the calling thread's prints (``train``'s lines) go
    to ``kept``, every other thread's, and the caller's own ``progress``, to ``through``,
    the stream that was ``sys.stdout`` (``contextlib.redirect_stdout`` took every thread's)."""

    def __init__(self, kept: io.StringIO, through: Any) -> None:
        super().__init__()
        self.kept, self.through = kept, through
        self.owner: int | None = threading.get_ident()

    def _to(self) -> Any:
        return self.kept if threading.get_ident() == self.owner else self.through

    def write(self, text: str) -> int:
        return int(self._to().write(text))

    def flush(self) -> None:
        # not a stream its owner closed: io's finaliser calls close() and so flush() whenever
        # this object is collected, and the file redirect_stdout gave may be closed by then
        to = self._to()
        if not getattr(to, "closed", False):
            to.flush()

    def isatty(self) -> bool:
        return bool(self._to().isatty())

    @contextlib.contextmanager
    def passed_through(self) -> Iterator[None]:
        """The calling thread's prints go through too (its ``progress``)."""
        owner, self.owner = self.owner, None
        try:
            yield
        finally:
            self.owner = owner


@contextlib.contextmanager
def _kept_lines(kept: io.StringIO) -> Iterator[_CallersLines]:
    """This thread's prints into ``kept`` for the block (``sys.stdout`` given back after;
    where another thread's redirection kept ``_CallersLines`` in place, it passes every
    print through from then on)."""
    through = sys.stdout
    routed = sys.stdout = _CallersLines(kept, through)
    try:
        yield routed
    finally:
        routed.owner = None
        if sys.stdout is routed:
            sys.stdout = through


def _train_args(**options: Any) -> argparse.Namespace:
    """``train``'s parsed options with their defaults, ``options`` set."""
    from .cli import train

    p = argparse.ArgumentParser(add_help=False)
    train.add_arguments(p)
    args = p.parse_args(["spectra", "--out", "unused.ramancam"])
    for name, value in options.items():
        setattr(args, name, value)
    return args


def cross_validate_spectra(
        raw: Spectra, *, recipe: str = "auto", grid: str | Sequence[float] | None = None,
        normalize: str | None = None, drop_clipped: bool = False, folds: int = 5,
        group_col: str | None = None, split_col: str | None = None,
        train_value: Any = "train", spatial_folds: int | None = None,
        spatial_block: int | None = None, spatial_buffer: int | None = None,
        seed: int = 0, compare: bool = True, laser_nm: float | None = None,
        axis_offset: float | None = None,
        preset: str = "tuned", estimator_params: Mapping[str, Any] | None = None,
        keep_models: bool = False,
        progress: Callable[[int, int, float], None] | None = None) -> SpectraCV:
    """Cross-validate labelled spectra as read, as ``ramancam train`` does.

    Each fold's training part decides the preprocessing that comes from the spectra
    (``recipe="auto"``'s baseline, the default grid) alone: a fold whose training part
    decides otherwise than all spectra did trains and tests on its own choice, and a test
    spectrum that choice cannot use counts as an error of every model. A fixed split
    (``split_col``) decides on its training part, and test spectra its recipe cannot use
    are left out. Spectra with an empty label, and flat ones, are left out (``left_out``).

    ``train --groups-from SPEC`` has no keyword here: its groups come from the file names
    (or folders, headers, a manifest) that :func:`ramancam.io.read` sees and this function
    does not. Read them there and name their column, as ``train`` does::

        raw = read(folder, labels_from="folder", groups_from="regex:_(r[0-9]+)_")
        cross_validate_spectra(raw, group_col="group")  # train's folds and numbers

    and groups of your own, one per spectrum, go in a column the same way:
    ``raw.replace(meta={**raw.meta, "group": np.asarray(groups)})``.

    Parameters
    ----------
    raw : Spectra
        Labelled spectra as read (:func:`ramancam.io.read` with ``label_col`` or
        ``labels_from``), on one axis or many.
    recipe, grid, normalize, drop_clipped
        ``train``'s ``--recipe`` (``auto``, ``paper``, ``paper-grid``, ``asls``, ``arpls``,
        ``none``, a recipe JSON file or a model file), ``--grid`` (``None``: the paper's 350-1800
        cm-1 narrowed to the range every spectrum covers; ``(start, stop, step)``, or text
        ``"400:1800:1"``, ``"full"``), ``--normalize`` and ``--drop-clipped``.
    folds, group_col, split_col, train_value, seed
        ``train``'s folds: stratified K-fold, group-aware with ``group_col``, a fixed split
        with ``split_col`` (its training part: ``train_value``); ``seed`` seeds the folds
        and the networks.
    spatial_folds, spatial_block, spatial_buffer
        ``train``'s ``--spatial-folds K`` (blocks of neighbouring pixels of a map, from the
        spectra's ``x``/``y`` metadata, instead of ``folds``), ``--spatial-block`` (block
        side in pixels; default about four blocks per fold) and ``--spatial-buffer``
        (training leaves out pixels within that many pixels of a test pixel; default 1):
        :class:`ramancam.maps.folds.SpatialBlockKFold`.
    compare : bool
        Also cross-validate PCA + SVM, PLS-DA and library search on the same folds.
    laser_nm : float, optional
        ``train``'s ``--laser-nm``: ``raw``'s axes are absolute wavelengths in nm, measured
        with this laser (e.g. 785); each axis of shape (n_points,) becomes Raman shifts
        ``1e7 / laser_nm - 1e7 / wavelength`` (cm-1) before anything else
        (:func:`ramancam.io.wavelength_to_shift`; spectra whose file states a Raman-shift
        axis stay as they are, said in a note in ``lines``). Without it, spectra whose
        metadata ``x_units`` says ``nm`` are refused, as ``train`` refuses them.
    axis_offset : float, optional
        ``train``'s ``--axis-offset``: cm-1 added to every Raman shift (after
        ``laser_nm``), a calibration correction of at most 50 cm-1 (measured on a standard:
        ``ramancam info FILE --standard polystyrene``); the metadata column
        ``axis_offset_cm1`` of ``labelled`` records it.
    preset : str
        The network and training settings to start from (``"tuned"``, ``train``'s default,
        or ``"paper"``).
    estimator_params : mapping, optional
        :class:`~ramancam.train.CNNClassifier` keyword arguments over the preset's (e.g.
        ``{"epochs": 50}``).
    keep_models : bool
        Keep the fold networks in ``cv.models``.
    progress : callable, optional
        Called after each fold as ``progress(fold_number, n_folds, cnn_accuracy)``.

    Returns
    -------
    SpectraCV
        ``cv`` (fold accuracies, baselines, out-of-fold predictions), the recipe, the
        notes and the folds' own decisions.

    Raises
    ------
    RamancamError
        In one line, as ``train`` says it (naming its option where a value is refused).

    Notes
    -----
    Calls from several threads take turns (a lock): each fit seeds torch's global random
    generator, which dropout draws from, so two runs at once gave other numbers than each
    alone. While a call runs, the calling thread's prints become ``lines``; other threads
    print as they did. A :class:`~ramancam.train.CNNClassifier` fitted in another thread
    meanwhile, outside this function, draws from that generator too: fit it before or
    after.
    """
    from .cli import _common
    from .cli._cv import cv_kind, plan_cv, run_cv
    from .cli.train import estimator_params as train_params
    from .presets import PRESETS
    from .spectra import Spectra
    from .train import CNNClassifier

    if not isinstance(raw, Spectra):
        raise RamancamError(f"raw must be a Spectra (ramancam.io.read); got "
                            f"{type(raw).__name__}.")
    if raw.labels is None:
        raise RamancamError("raw must carry class labels; got unlabelled spectra. Read them "
                            "with label_col= (tables) or labels_from= (folders).")
    if preset not in PRESETS:
        raise RamancamError(f"preset must be one of {tuple(PRESETS)}; got {preset!r}.")
    if normalize is not None and normalize not in _common.NORMALIZE_CHOICES:
        raise RamancamError(f"normalize must be one of {_common.NORMALIZE_CHOICES}; got "
                            f"{normalize!r}.")
    whole_seed = _whole(seed)  # numpy integers too
    if whole_seed is None or not 0 <= whole_seed <= 2**32 - 1:
        raise RamancamError(f"seed must be an integer from 0 to {2**32 - 1}; got {seed!r}.")
    seed = whole_seed
    whole = _whole(folds)
    if whole is None:
        raise RamancamError(f"folds must be an integer >= 2; got {folds!r}.")
    folds = whole
    if not isinstance(recipe, str):
        raise RamancamError(f"recipe must be auto, paper, paper-grid, asls, arpls, none, a "
                            f"recipe JSON file or a model file; got {recipe!r}.")
    if split_col is None and train_value != "train":  # as train refuses --train-value alone
        raise RamancamError(f"train_value must come with split_col; got {train_value!r} "
                            "without it. Give split_col, or leave train_value out.")
    spatial = {"spatial_folds": spatial_folds, "spatial_block": spatial_block,
               "spatial_buffer": spatial_buffer}
    for name, value in spatial.items():
        if value is None:
            continue
        whole = _whole(value)
        if whole is None:
            raise RamancamError(f"{name} must be an integer; got {value!r}.")
        spatial[name] = whole
    if spatial_folds is not None and (group_col is not None or split_col is not None):
        other = "group_col" if group_col is not None else "split_col"
        raise RamancamError(f"spatial_folds makes folds of map blocks; got {other} too. Give "
                            "one of them.")
    for name, number, unit in (("laser_nm", laser_nm, "nm (the excitation laser, e.g. 785)"),
                               ("axis_offset", axis_offset, "cm-1")):
        if number is not None and (isinstance(number, bool) or not isinstance(number, Real)):
            raise RamancamError(f"{name} must be a number of {unit}; got {number!r}.")
    if progress is not None and not callable(progress):
        raise RamancamError(f"progress must be a function progress(fold, n_folds, accuracy); "
                            f"got {progress!r}.")
    args = _train_args(data="the spectra", recipe=str(recipe), grid=_grid_text(grid),
                       normalize=normalize, drop_clipped=bool(drop_clipped), folds=folds,
                       group_col=group_col, split_col=split_col, train_value=train_value,
                       seed=seed, compare=bool(compare), preset=preset,
                       laser_nm=None if laser_nm is None else float(laser_nm),
                       axis_offset=None if axis_offset is None else float(axis_offset),
                       **spatial)
    _common.check_split_options(args)
    params = {**train_params(args), "verbose": False, **dict(estimator_params or {})}
    known = CNNClassifier().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise RamancamError(f"estimator_params must be CNNClassifier's keyword arguments; "
                            f"got {unknown[0]!r}.")
    CNNClassifier(**params)._check_params()  # before any preprocessing
    printed = io.StringIO()
    with _ONE_AT_A_TIME, _kept_lines(printed) as routed:  # train's lines: kept, not printed

        def report(k: int, n: int, acc: float) -> None:  # the caller's prints stay theirs
            assert progress is not None
            with routed.passed_through():
                progress(k, n, acc)

        # as train reads its spectra: the axis converted, then moved (the note: a line)
        raw = _common.apply_axis_offset(_common.apply_laser_nm(raw, args, args.data),
                                        args.axis_offset)
        plan = plan_cv(args, raw, "for training")
        cv = run_cv(args, plan, params, keep_models=keep_models,
                    progress=None if progress is None else report)
    lines = printed.getvalue().splitlines()
    return SpectraCV(cv=cv, data=plan.data, labelled=plan.raw, recipe=plan.recipe,
                     recipe_used=str(getattr(args, "recipe_used", args.recipe)),
                     header=plan.header, lines=lines, kind=cv_kind(args, cv, plan.spatial),
                     decisions=plan.decisions, fold_decisions=dict(plan.own_inputs),
                     left_out=dict(getattr(args, "left_out", None) or {}))
